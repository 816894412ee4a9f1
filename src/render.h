/*
 * render: a change event as the records Debezium would produce for it, byte for byte as its
 * JsonConverter writes them (Debezium 3.2 through Kafka Connect): topic, key (primary-key
 * struct), value (the envelope {before, after, source, transaction, op, ts_ms, ts_us, ts_ns},
 * or the flat form of the ExtractNewRecordState transform), each wrapped in {schema, payload}
 * when the converter's schemas.enable is true; a tombstone after a delete when
 * tombstones.on.delete is true; heartbeat and (MySQL/MariaDB) schema change records.
 * Value encodings follow the Debezium modes (decimal.handling.mode, time.precision.mode,
 * binary.handling.mode, bigint.unsigned.handling.mode, interval.handling.mode).
 *
 * The file and Kafka sinks both write exactly these records. The Doris sink does not use them:
 * it writes rows in Doris's own value forms.
 *
 * A render keeps caches (per-table plans, scratch buffers) that change as it renders, even
 * through a const pointer: one thread at a time may use it. Threads that render at once
 * (decode's workers) each have their own.
 */
#ifndef DBTAIL_RENDER_H
#define DBTAIL_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"
#include "event.h"

struct render;

/* One record; all pointers borrowed for the duration of the callback. */
struct render_record {
    const char *topic;
    bool topic_plain; /* the topic needs no JSON escaping (false: not known) */
    /* JSON texts, also NUL-terminated; key NULL when the record has none (truncate, a table
     * without primary key). */
    const char *key;
    size_t key_len;
    const char *value; /* JSON text, NULL for a tombstone */
    size_t value_len;
    /* Kafka headers (e.g. __debezium.newkey, ExtractNewRecordState add.headers); may be 0.
     * A header value is NULL when the header has no value (a null field). */
    size_t nheaders;
    const char *const *header_names;
    const char *const *header_values;
};

typedef int (*render_emit_fn)(void *ctx, const struct render_record *rec, struct error *err);

struct buf;
/** Appends rec as one JSON line, {"topic":T,"key":K,"value":V} and a newline, with K and V the
 * record's own texts (null when absent): the file sink's and `dbtail decode`'s output. */
void render_record_line(struct buf *b, const struct render_record *rec);

/** Reads the rendering options from cfg (borrowed for the render's life); *out is new. */
DBT_MUSTCHECK int render_new(const struct config *cfg, struct render **out, struct error *err);
void render_free(struct render *r);

/** Calls emit for each record ev produces (zero for a dropped delete, two with a tombstone);
 * returns the first negative emit result, or 0. COMMIT events produce none. */
DBT_MUSTCHECK int render_event(const struct render *r, const struct event *ev, render_emit_fn emit,
                               void *ctx, struct error *err);

struct txmeta; /* src/txmeta.h */

/** As render_event, with Debezium's transaction metadata when provide.transaction.metadata is
 * true: a streamed change (c, u, d, t) gets its `transaction` block, and the first change of a
 * source transaction is preceded by the BEGIN record on `<topic.prefix>.transaction`. tx (the
 * caller's, one per stream of records) holds the open transaction's counters; NULL renders as
 * render_event. */
DBT_MUSTCHECK int render_event_tx(const struct render *r, const struct event *ev, struct txmeta *tx,
                                  render_emit_fn emit, void *ctx, struct error *err);

/** For the COMMIT event ev: the END record of the transaction tx holds, if one is open (none
 * when the transaction had no change written, or with the option off), then closes it. */
DBT_MUSTCHECK int render_commit(const struct render *r, const struct event *ev, struct txmeta *tx,
                                render_emit_fn emit, void *ctx, struct error *err);

/** As render_event_tx with render_record_line of each record appended to out (borrowed): the
 * file sink's lines. The common record, a change in Debezium's envelope, is rendered straight
 * into out rather than copied there. */
DBT_MUSTCHECK int render_event_lines(const struct render *r, const struct event *ev,
                                     struct txmeta *tx, struct buf *out, struct error *err);

/** Replaces the clock that stamps records with their processing time (envelope ts_ms, ts_us,
 * ts_ns; heartbeat ts_ms): now_ns returns nanoseconds since the epoch; NULL restores the real
 * clock. For tests; call before rendering starts. The environment variable
 * DBTAIL_FIXED_NOW_MS, when set at render_new, pins the clock the same way. */
void render_set_clock(struct render *r, int64_t (*now_ns)(void *ctx), void *ctx);

/** Reads the clock once for the records of one source event, such as the rows of one binlog
 * rows event, which are processed together: until the next call (or render_set_clock), records
 * carry this reading as their processing time instead of reading the clock each. */
void render_hold_clock(struct render *r);

/** The topic of the table ("<topic.prefix>.<db|schema>.<table>") into out (NUL-terminated). */
void render_topic(const struct render *r, const struct schema_table *t, char *out, size_t outlen);

#endif
