/*
 * pgoutput: a pure parser of what a logical replication walsender sends in COPY BOTH mode
 * ('w' XLogData and 'k' keepalive CopyData) and of the pgoutput protocol version 1 messages
 * inside XLogData (Begin, Commit, Origin, Relation, Type, Insert, Update, Delete, Truncate,
 * Message). No I/O, no logging: bytes in, a struct out, or -1 with *err naming the offset.
 * Every read goes through src/cursor.h.
 *
 * Strings and tuple data point into the parsed bytes (borrowed: valid while those bytes are);
 * the arrays of columns are owned by struct pgout_msg and reused by the next parse.
 */
#ifndef DBTAIL_PGOUTPUT_H
#define DBTAIL_PGOUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../src/error.h"

/* Microseconds from the Unix epoch to PostgreSQL's (2000-01-01). */
#define PGOUT_EPOCH_DIFF_US 946684800000000LL

struct pgout_copydata {
    char kind;            /* 'w' or 'k' */
    uint64_t wal_start;   /* 'w': LSN of the message's record */
    uint64_t wal_end;     /* the server's current end of WAL */
    int64_t send_time;    /* µs since 2000-01-01 */
    bool reply_requested; /* 'k' */
    const uint8_t *data;  /* 'w': the pgoutput message (borrowed) */
    size_t len;
};

/** Parses one CopyData payload received from the walsender. */
DBT_MUSTCHECK int pgout_parse_copydata(const void *buf, size_t len, struct pgout_copydata *out,
                                       struct error *err);

enum pgout_type {
    PGOUT_BEGIN = 'B',
    PGOUT_COMMIT = 'C',
    PGOUT_ORIGIN = 'O',
    PGOUT_RELATION = 'R',
    PGOUT_TYPE = 'Y',
    PGOUT_INSERT = 'I',
    PGOUT_UPDATE = 'U',
    PGOUT_DELETE = 'D',
    PGOUT_TRUNCATE = 'T',
    PGOUT_MESSAGE = 'M'
};

/* Relation column flag: part of the replica identity. */
#define PGOUT_COL_KEY 1

struct pgout_relcol {
    uint8_t flags;
    const char *name; /* NUL-terminated inside the message */
    uint32_t type_oid;
    int32_t typmod;
};

/* One column of a TupleData: 'n' null, 'u' unchanged TOAST, 't' text, 'b' binary. */
struct pgout_datum {
    char kind;
    const char *data; /* 't'/'b': bytes (not NUL-terminated) */
    uint32_t len;
};

struct pgout_tuple {
    uint16_t ncols;
    struct pgout_datum *cols; /* owned by the pgout_msg */
    size_t cap;
};

/* Truncate option bits. */
#define PGOUT_TRUNCATE_CASCADE          1
#define PGOUT_TRUNCATE_RESTART_IDENTITY 2

struct pgout_msg {
    enum pgout_type type;
    union {
        struct {
            uint64_t final_lsn;  /* LSN of the commit record */
            int64_t commit_time; /* µs since 2000-01-01 */
            uint32_t xid;
        } begin;
        struct {
            uint8_t flags;
            uint64_t commit_lsn;
            uint64_t end_lsn;
            int64_t commit_time;
        } commit;
        struct {
            uint64_t lsn;
            const char *name;
        } origin;
        struct {
            uint32_t relid;
            const char *nspname;
            const char *relname;
            char replident; /* 'd' default, 'n' nothing, 'f' full, 'i' index */
            uint16_t ncols;
        } relation;
        struct {
            uint32_t oid;
            const char *nspname;
            const char *typname;
        } type;
        struct {
            uint32_t relid;
            char old_kind; /* UPDATE/DELETE: 'K' key, 'O' old full row, 0 none */
            bool has_new;  /* INSERT/UPDATE */
        } change;
        struct {
            uint8_t options;
            uint32_t nrels;
        } truncate;
        struct {
            uint8_t flags; /* 1 = transactional */
            uint64_t lsn;
            const char *prefix;
            const uint8_t *content;
            uint32_t len;
        } message;
    } u;
    /* RELATION columns (owned arrays, reused across parses). */
    struct pgout_relcol *relcols;
    size_t relcols_cap;
    /* TRUNCATE relation ids. */
    uint32_t *relids;
    size_t relids_cap;
    /* INSERT/UPDATE/DELETE tuples. */
    struct pgout_tuple old_tuple;
    struct pgout_tuple new_tuple;
};

void pgout_msg_init(struct pgout_msg *m);
/** Frees the arrays the message owns. */
void pgout_msg_cleanup(struct pgout_msg *m);

/** Parses one pgoutput (protocol version 1) message into m. */
DBT_MUSTCHECK int pgout_parse(const void *buf, size_t len, struct pgout_msg *m, struct error *err);

/** Formats an LSN as PostgreSQL does ("16/B374D848") into out (at least 18 bytes). */
void pgout_lsn_format(uint64_t lsn, char *out, size_t outlen);
/** Parses "X/Y"; returns -1 when malformed. */
int pgout_lsn_parse(const char *s, uint64_t *out);

#endif
