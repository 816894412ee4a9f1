/*
 * binlog: a pure parser of MySQL/MariaDB binary log v4 events (the bytes of a binlog file or of
 * a replication stream after its OK byte). It owns the event layouts: header, checksum,
 * FORMAT_DESCRIPTION, ROTATE, QUERY, XID, TABLE_MAP with its optional metadata, the rows events
 * (v1, v2, MySQL PARTIAL_UPDATE_ROWS, MariaDB compressed), MySQL and MariaDB GTID events,
 * TRANSACTION_PAYLOAD, HEARTBEAT, INCIDENT. Column values are decoded by binlog_types.
 *
 * No I/O, no logging, no globals: bytes in, structs out, every read through src/cursor.h, every
 * failure an error naming the event and the offset inside it. Unknown event types are the
 * caller's to skip (by the header's length).
 */
#ifndef DBTAIL_BINLOG_H
#define DBTAIL_BINLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../src/buf.h"
#include "../src/cursor.h"
#include "../src/error.h"
#include "../src/event.h"
#include "binlog_types.h"

#define BINLOG_MAGIC        "\376bin" /* 0xfe "bin" */
#define BINLOG_MAGIC_LEN    4
#define BINLOG_HEADER_LEN   19
#define BINLOG_CHECKSUM_LEN 4

enum binlog_event_type {
    BINLOG_UNKNOWN = 0,
    BINLOG_START_V3 = 1,
    BINLOG_QUERY = 2,
    BINLOG_STOP = 3,
    BINLOG_ROTATE = 4,
    BINLOG_INTVAR = 5,
    BINLOG_RAND = 13,
    BINLOG_USER_VAR = 14,
    BINLOG_FORMAT_DESCRIPTION = 15,
    BINLOG_XID = 16,
    BINLOG_TABLE_MAP = 19,
    BINLOG_WRITE_ROWS_V1 = 23,
    BINLOG_UPDATE_ROWS_V1 = 24,
    BINLOG_DELETE_ROWS_V1 = 25,
    BINLOG_INCIDENT = 26,
    BINLOG_HEARTBEAT = 27,
    BINLOG_IGNORABLE = 28,
    BINLOG_ROWS_QUERY = 29,
    BINLOG_WRITE_ROWS = 30,
    BINLOG_UPDATE_ROWS = 31,
    BINLOG_DELETE_ROWS = 32,
    BINLOG_GTID = 33,
    BINLOG_ANONYMOUS_GTID = 34,
    BINLOG_PREVIOUS_GTIDS = 35,
    BINLOG_TRANSACTION_CONTEXT = 36,
    BINLOG_VIEW_CHANGE = 37,
    BINLOG_XA_PREPARE = 38,
    BINLOG_PARTIAL_UPDATE_ROWS = 39,
    BINLOG_TRANSACTION_PAYLOAD = 40,
    BINLOG_HEARTBEAT_V2 = 41,
    BINLOG_GTID_TAGGED = 42,
    /* MariaDB */
    BINLOG_MARIADB_ANNOTATE_ROWS = 160,
    BINLOG_MARIADB_BINLOG_CHECKPOINT = 161,
    BINLOG_MARIADB_GTID = 162,
    BINLOG_MARIADB_GTID_LIST = 163,
    BINLOG_MARIADB_START_ENCRYPTION = 164,
    BINLOG_MARIADB_QUERY_COMPRESSED = 165,
    BINLOG_MARIADB_WRITE_ROWS_COMPRESSED_V1 = 166,
    BINLOG_MARIADB_UPDATE_ROWS_COMPRESSED_V1 = 167,
    BINLOG_MARIADB_DELETE_ROWS_COMPRESSED_V1 = 168,
    BINLOG_MARIADB_WRITE_ROWS_COMPRESSED = 169,
    BINLOG_MARIADB_UPDATE_ROWS_COMPRESSED = 170,
    BINLOG_MARIADB_DELETE_ROWS_COMPRESSED = 171,
};

/** A short name of an event type for messages ("TABLE_MAP", "type 77" for unknown ones; the
 * latter in a buffer of the calling thread, valid until its next call). */
const char *binlog_type_name(uint8_t type);

/* LOG_EVENT_ARTIFICIAL_F: the server made this event up (the first ROTATE of a dump). */
#define BINLOG_FLAG_ARTIFICIAL 0x20

struct binlog_header {
    uint32_t timestamp; /* seconds since the epoch */
    uint8_t type;
    uint32_t server_id;
    uint32_t event_size; /* header + body + checksum */
    uint32_t next_pos;   /* end of this event in its file (0 for some artificial events) */
    uint16_t flags;
};

enum binlog_checksum { BINLOG_CHECKSUM_OFF = 0, BINLOG_CHECKSUM_CRC32 = 1 };

struct binlog_fde {
    uint16_t binlog_version;
    char server_version[51];
    uint32_t created;
    uint8_t header_len;
    uint8_t post_header_len[256]; /* indexed by event type - 1; 0 when the FDE gives none */
    size_t n_post_header;
    enum binlog_checksum checksum;
    bool mariadb;
};

/** The format to assume before any FORMAT_DESCRIPTION (v4 with the given checksum). */
void binlog_fde_default(struct binlog_fde *fde, enum binlog_checksum checksum);

/** Reads the 19-byte header of the event at ev[0..len); checks event_size against len. */
DBT_MUSTCHECK int binlog_parse_header(const uint8_t *ev, size_t len, struct binlog_header *h,
                                      struct error *err);

/** Parses a whole FORMAT_DESCRIPTION event (header included), checking its own checksum. */
DBT_MUSTCHECK int binlog_parse_fde(const uint8_t *ev, size_t len, struct binlog_fde *fde,
                                   struct error *err);

/** Verifies the checksum of the whole event ev[0..len) when the format says it has one and
 * points *body at the bytes between the common header and the checksum. */
DBT_MUSTCHECK int binlog_event_body(const struct binlog_fde *fde, const uint8_t *ev, size_t len,
                                    struct cursor *body, struct error *err);
/** The same without verifying the checksum, for a reader whose events another one verifies. */
DBT_MUSTCHECK int binlog_event_body_unverified(const struct binlog_fde *fde, const uint8_t *ev,
                                               size_t len, struct cursor *body, struct error *err);

struct binlog_rotate {
    uint64_t pos;
    const char *file; /* borrowed from the event; not NUL-terminated */
    size_t file_len;
};
DBT_MUSTCHECK int binlog_parse_rotate(const struct binlog_fde *fde, struct cursor *body,
                                      struct binlog_rotate *out, struct error *err);

struct binlog_query {
    uint32_t thread_id;
    uint32_t exec_time;
    uint16_t error_code;
    const char *db; /* borrowed; not NUL-terminated */
    size_t db_len;
    const char *sql; /* borrowed from the event or from `scratch` (compressed events) */
    size_t sql_len;
};
/** QUERY or MariaDB QUERY_COMPRESSED (then the text is inflated into scratch). */
DBT_MUSTCHECK int binlog_parse_query(const struct binlog_fde *fde, uint8_t type,
                                     struct cursor *body, struct buf *scratch,
                                     struct binlog_query *out, struct error *err);

DBT_MUSTCHECK int binlog_parse_xid(struct cursor *body, uint64_t *xid, struct error *err);

/* MySQL GTID / ANONYMOUS_GTID (and GTID_TAGGED, whose tag is kept). */
struct binlog_gtid {
    uint8_t flags;
    uint8_t sid[16];
    uint64_t gno;
    char tag[33]; /* "" when untagged */
};
DBT_MUSTCHECK int binlog_parse_gtid(uint8_t type, struct cursor *body, struct binlog_gtid *out,
                                    struct error *err);

/* MariaDB GTID: the server id is the event header's. */
#define BINLOG_MARIADB_FL_STANDALONE 0x01
struct binlog_mariadb_gtid {
    uint64_t seq_no;
    uint32_t domain_id;
    uint8_t flags;
};
DBT_MUSTCHECK int binlog_parse_mariadb_gtid(struct cursor *body, struct binlog_mariadb_gtid *out,
                                            struct error *err);

/* MariaDB GTID_LIST: the binlog state at the start of a file. */
struct binlog_mariadb_gtid_entry {
    uint32_t domain_id;
    uint32_t server_id;
    uint64_t seq_no;
};
/** *out is new (free()), *n entries. */
DBT_MUSTCHECK int binlog_parse_mariadb_gtid_list(struct cursor *body,
                                                 struct binlog_mariadb_gtid_entry **out, size_t *n,
                                                 struct error *err);

/* MySQL PREVIOUS_GTIDS: the executed set at the start of a file, encoded as the
 * COM_BINLOG_DUMP_GTID set: n_sids, then per sid uuid[16], n_intervals, [start, end). */
struct binlog_gtid_interval {
    uint8_t sid[16];
    uint64_t start; /* inclusive */
    uint64_t end;   /* exclusive */
};
/** *out is new (free()), one entry per interval, *n of them. */
DBT_MUSTCHECK int binlog_parse_previous_gtids(struct cursor *body,
                                              struct binlog_gtid_interval **out, size_t *n,
                                              struct error *err);

/** ROWS_QUERY (MySQL) or ANNOTATE_ROWS (MariaDB): the statement's text, borrowed. */
DBT_MUSTCHECK int binlog_parse_rows_query(uint8_t type, struct cursor *body, const char **sql,
                                          size_t *len, struct error *err);

/** HEARTBEAT (v1: the log name) or HEARTBEAT_V2 (TLV log name and position). */
struct binlog_heartbeat {
    const char *file; /* borrowed, may be NULL */
    size_t file_len;
    uint64_t pos; /* v2 only; 0 otherwise (the header's next_pos holds it for v1) */
};
DBT_MUSTCHECK int binlog_parse_heartbeat(uint8_t type, struct cursor *body,
                                         struct binlog_heartbeat *out, struct error *err);

/** INCIDENT: its number and message (borrowed). */
DBT_MUSTCHECK int binlog_parse_incident(struct cursor *body, uint16_t *number, const char **msg,
                                        size_t *len, struct error *err);

/** TRANSACTION_PAYLOAD: the inner events (each a whole event without checksum) inflated into
 * `out` (reset first). Only zstd and uncompressed payloads exist. */
DBT_MUSTCHECK int binlog_parse_transaction_payload(struct cursor *body, struct buf *out,
                                                   struct error *err);

/* TABLE_MAP -------------------------------------------------------------------------------- */

struct binlog_table {
    uint64_t table_id;
    char *db;   /* owned */
    char *name; /* owned */
    size_t ncols;
    struct binlog_column *cols;  /* owned array */
    struct binlog_colplan *plan; /* owned: how rows read each column; NULL until
                                    binlog_table_prepare */
    bool has_names;
    bool has_signedness;
    bool has_key;
    bool has_labels;
    bool has_charsets;
};

/** Parses a TABLE_MAP body; *out is new (binlog_table_free). */
DBT_MUSTCHECK int binlog_parse_table_map(const struct binlog_fde *fde, struct cursor *body,
                                         struct binlog_table **out, struct error *err);
/** Decides how rows read each column, from the columns as they are now: due before the first
 * row, and again after a change to their descriptions (signedness, collation, labels). */
void binlog_table_prepare(struct binlog_table *t);
void binlog_table_free(struct binlog_table *t);

/* Rows events ------------------------------------------------------------------------------ */

enum binlog_rows_kind { BINLOG_ROWS_WRITE, BINLOG_ROWS_UPDATE, BINLOG_ROWS_DELETE };

/* ROWS flag: the last rows event of a statement. */
#define BINLOG_ROWS_STMT_END 0x0001

struct binlog_rows {
    enum binlog_rows_kind kind;
    bool partial; /* PARTIAL_UPDATE_ROWS: after images may hold JSON diffs */
    uint64_t table_id;
    uint16_t flags;
    size_t ncols;
    const uint8_t *present_before; /* column bitmaps, borrowed (ncols bits) */
    const uint8_t *present_after;
    size_t npresent_before, npresent_after; /* bits set in them */
    struct cursor rows; /* the row images; borrowed from the event or from scratch */
};

/** True for WRITE/UPDATE/DELETE rows events of every version (MariaDB compressed included). */
bool binlog_is_rows_event(uint8_t type);

/** Parses the rows event header; for MariaDB compressed events the rows are inflated into
 * scratch, which must then outlive the iteration. */
DBT_MUSTCHECK int binlog_parse_rows(const struct binlog_fde *fde, uint8_t type, struct cursor *body,
                                    struct buf *scratch, struct binlog_rows *out,
                                    struct error *err);

/** Reads the next row of a rows event whose TABLE_MAP is t (t->ncols must equal
 * rows->ncols; binlog_table_prepare since its columns last changed). before/after are arrays
 * of t->ncols values: filled for the images the kind has (before: UPDATE, DELETE; after:
 * WRITE, UPDATE); columns outside an image are VALUE_ABSENT. Strings point into the event or into
 * the arena. Returns 1 when a row was read, 0 at the end of the event. */
DBT_MUSTCHECK int binlog_rows_next(struct binlog_rows *rows, const struct binlog_table *t,
                                   struct arena *arena, struct value *before, struct value *after,
                                   struct error *err);

#endif
