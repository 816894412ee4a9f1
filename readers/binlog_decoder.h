/*
 * binlog_decoder: turns a sequence of binlog events (from a file or a replication stream) into
 * change events (src/event.h). It owns what spans events: the format description, the current
 * file and position, the TABLE_MAP cache, the transaction being read (its GTID, thread, query),
 * the executed GTID set, and the `order` of each change. Both the live reader and
 * `dbtail decode` use it, so that both print the same records for the same binlog.
 *
 * Changes of a transaction come as CREATE/UPDATE/DELETE events (an update that changes the
 * primary key as DELETE + CREATE), a schema statement as a DDL event, and every transaction end
 * (XID, COMMIT, or the implicit commit of a statement outside BEGIN) as a COMMIT event whose
 * position is {"file", "pos", "gtids", "server_id", "ts_sec"}: where to resume after it.
 * HEARTBEAT events of the stream come out as HEARTBEAT events.
 *
 * The order of a change is file_index << 43 | (pos << 11) + k: file_index is the binlog file's
 * numeric suffix (< 2^20), pos the start of the event holding the change (< 2^32, the format's
 * own limit), k the change's index among those the event produced; k may spill into the
 * event's own byte range (up to 2048 changes per byte of event, which compressed payloads
 * could exceed only at a compression ratio beyond 2048:1). Out of these bounds the decoder
 * fails rather than give a sink an order that goes backwards.
 */
#ifndef DBTAIL_BINLOG_DECODER_H
#define DBTAIL_BINLOG_DECODER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../src/error.h"
#include "../src/event.h"
#include "binlog.h"
#include "gtid.h"

/* What the owner decides for the rows of one TABLE_MAP. */
struct binlog_decoder_table {
    const struct schema_table *schema; /* borrowed until the next TABLE_MAP of the same id,
                                          or NULL to skip the table's rows */
    const size_t *map; /* borrowed like schema: schema column i is TABLE_MAP column map[i];
                          NULL when they are the same */
};

struct binlog_decoder_opts {
    enum event_connector connector;
    bool connector_from_fde; /* MySQL or MariaDB as the FORMAT_DESCRIPTION says (files) */
    bool include_query;
    /* Called for every TABLE_MAP. It may complete tm's column descriptions (signedness,
     * collations, ENUM/SET labels, names, keys) from what it knows of the table, and says
     * which schema the events carry. */
    int (*table_map)(void *ctx, struct binlog_table *tm, struct binlog_decoder_table *out,
                     struct error *err);
    void *ctx;
};

struct binlog_decoder;

/** opts is copied. */
struct binlog_decoder *binlog_decoder_new(const struct binlog_decoder_opts *opts);
void binlog_decoder_free(struct binlog_decoder *d);

/** Where the events to come start: the binlog file they belong to until a ROTATE names another
 * (copied), the position, the checksum the events before the first FORMAT_DESCRIPTION carry,
 * and the transactions executed before them (copied; NULL when unknown: then the first
 * PREVIOUS_GTIDS/GTID_LIST event sets it). */
void binlog_decoder_start(struct binlog_decoder *d, const char *file, uint64_t pos,
                          enum binlog_checksum checksum, const struct gtid_set *gtids,
                          bool mariadb);

/** Hands over one whole event (header, body, checksum); ev is borrowed until
 * binlog_decoder_next returns 0 for it. */
DBT_MUSTCHECK int binlog_decoder_feed(struct binlog_decoder *d, const uint8_t *ev, size_t len,
                                      struct error *err);

/** The next change event the fed event produces: returns 1 with *ev (valid until the next
 * call), 0 when the fed event has produced everything, -1 with *err. */
DBT_MUSTCHECK int binlog_decoder_next(struct binlog_decoder *d, const struct event **ev,
                                      struct error *err);

/** While skim is true the events fed are read only for the state they carry (formats, tables,
 * transactions, GTIDs, position): their checksums are not verified and rows events produce no
 * change events (nor count in binlog_decoder_txn_changes). For a reader that splits the same
 * events among several decoders, each one skimming the events another decodes in full (and
 * reports the errors of). Set it before feeding an event. */
void binlog_decoder_skim(struct binlog_decoder *d, bool skim);

/** The binlog file and position after the last whole event decoded. */
const char *binlog_decoder_file(const struct binlog_decoder *d);
uint64_t binlog_decoder_pos(const struct binlog_decoder *d);
/** The end of the event being decoded (where the stream is once it is done). */
uint64_t binlog_decoder_event_end(const struct binlog_decoder *d);
/** The executed transactions up to the last COMMIT (NULL when unknown). */
const struct gtid_set *binlog_decoder_gtids(const struct binlog_decoder *d);
/** True between the start of a transaction and its COMMIT event. */
bool binlog_decoder_in_transaction(const struct binlog_decoder *d);
/** Changes the transaction that the last COMMIT event ended produced. */
size_t binlog_decoder_txn_changes(const struct binlog_decoder *d);
/** The type of the last event skipped as unknown, or -1 (reset by each feed). */
int binlog_decoder_skipped(const struct binlog_decoder *d);
/** The format of the events being read. */
const struct binlog_fde *binlog_decoder_fde(const struct binlog_decoder *d);
/** The server id and timestamp of the last event. */
uint32_t binlog_decoder_server_id(const struct binlog_decoder *d);
uint32_t binlog_decoder_timestamp(const struct binlog_decoder *d);

/** The numeric suffix of a binlog file name ("mysql-bin.000042" gives 42), -1 when none. */
int64_t binlog_file_index(const char *file);

/** The order of changes at (file, pos, k), or 0 when out of the encodable range. */
uint64_t binlog_order(const char *file, uint64_t pos, uint64_t k);

#endif
