/*
 * event: the one normalized change event. Every reader produces these and every sink consumes
 * them; readers and sinks meet nowhere else.
 *
 * Lifetime: an event, its values and everything they point to are owned by the reader and stay
 * valid until the reader's next call to next() or free(). A sink that needs an event later must
 * copy what it needs (sinks serialize at write time).
 *
 * Readers emit a key-changing update as two events, a DELETE of the old row and a CREATE of the
 * new one (as Debezium does), so that no sink has to compare keys. Every source transaction ends
 * with one EVENT_COMMIT, which carries the position to resume after it; a snapshot emits a
 * COMMIT after each chunk, whose position records the snapshot's progress.
 */
#ifndef DBTAIL_EVENT_H
#define DBTAIL_EVENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../schemas/schema.h"

enum event_op {
    EVENT_CREATE,    /* "c" */
    EVENT_UPDATE,    /* "u" */
    EVENT_DELETE,    /* "d" */
    EVENT_READ,      /* "r": a snapshot row */
    EVENT_TRUNCATE,  /* "t": table set, no rows */
    EVENT_DDL,       /* a schema change (MySQL), rendered as Debezium's schema change event */
    EVENT_HEARTBEAT, /* nothing captured happened; carries the current source time */
    EVENT_COMMIT     /* end of a source transaction or snapshot chunk; carries `position` */
};

enum event_connector { EVENT_POSTGRESQL, EVENT_MYSQL, EVENT_MARIADB };

/* Debezium's SnapshotRecord, rendered as its lower-case string in source.snapshot. */
enum event_snapshot {
    SNAPSHOT_FALSE,
    SNAPSHOT_TRUE,
    SNAPSHOT_FIRST,
    SNAPSHOT_FIRST_IN_DATA_COLLECTION,
    SNAPSHOT_LAST_IN_DATA_COLLECTION,
    SNAPSHOT_LAST,
    SNAPSHOT_INCREMENTAL
};

struct value {
    enum value_kind kind;
    union {
        bool b;
        uint64_t u;
        double f;
        struct {
            const char *p; /* borrowed like the event; not NUL-terminated */
            size_t len;
            int64_t i; /* bits of a BIT value, SRID of a geometry */
        } s;
        int64_t i;
        struct {
            int32_t months;
            int32_t days;
            int64_t micros;
        } interval;
        struct {
            const struct value *elems; /* borrowed */
            size_t n;
        } array;
    } v;
};

/* Debezium's source block; fields that do not apply to the connector are ignored. */
struct event_source {
    enum event_connector connector;
    enum event_snapshot snapshot;
    int64_t ts_us; /* commit time at the source, microseconds since the epoch */
    /* PostgreSQL */
    int64_t txid;             /* -1 when unknown */
    uint64_t lsn;             /* of this change (0 when none) */
    uint64_t last_commit_lsn; /* first half of source.sequence; 0 renders null */
    /* MySQL / MariaDB */
    uint32_t server_id;
    const char *gtid;  /* borrowed, may be NULL */
    const char *file;  /* borrowed binlog file name */
    uint64_t pos;      /* position of the event that holds this row */
    int32_t row;       /* row index inside that event */
    int64_t thread;    /* -1 when unknown */
    const char *query; /* borrowed, may be NULL */
};

struct event {
    enum event_op op;
    const struct schema_table *table; /* borrowed; NULL for COMMIT and HEARTBEAT */
    const struct value *before;       /* table->ncols values, or NULL when absent */
    const struct value *after;        /* table->ncols values, or NULL when absent */
    struct event_source source;
    const char *txn_id; /* borrowed: Debezium's transaction id ("txId:lsn", GTID); may be NULL */
    /* Strictly increasing over the source's history of changes, equal for a replayed change:
     * PG the change's LSN, MySQL a number made of the binlog file, position and row. Sinks use
     * it to order (Doris sequence column) and to recognise replays. */
    uint64_t order;
    /* DDL: the statement and the database it ran in (borrowed). */
    const char *ddl;
    const char *ddl_db;
    /* COMMIT: where to resume after this point (borrowed; json_incref to keep it). */
    json_t *position;
    /* COMMIT: true when the snapshot has just finished (the stream starts after it). */
    bool snapshot_done;
};

/** Debezium's op letter ("c", "u", "d", "r", "t"); NULL for ops that have none. */
const char *event_op_code(enum event_op op);
/** Debezium's snapshot string ("true", "last", ...). */
const char *event_snapshot_name(enum event_snapshot s);
/** "postgresql", "mysql" or "mariadb". */
const char *event_connector_name(enum event_connector c);
/** Whether a and b have the one representation (same kind, same bits or bytes), so that every
 * encoding renders them alike; arrays are not looked into (false). */
bool event_value_same(const struct value *a, const struct value *b);

#endif
