/*
 * mysql_reader: the MySQL/MariaDB source (struct reader_ops over mysql_conn, binlog_decoder
 * and mysql_schema). It owns a query connection (information_schema, key comparisons), during
 * a snapshot a snapshot connection, and while streaming a replication connection.
 *
 * Snapshot and stream meet without gaps or duplicates:
 *  - A snapshot session takes the global read lock (FLUSH TABLES WITH READ LOCK; per-table
 *    LOCK TABLES ... READ held to the end when RELOAD is missing), starts a transaction WITH
 *    CONSISTENT SNAPSHOT, reads the binlog position S (MariaDB: binlog_snapshot_file/position,
 *    exact even without a lock; MySQL: SHOW MASTER STATUS) and the GTID set, reads the schemas
 *    from information_schema, and unlocks (snapshot.locking.mode=minimal; extended keeps the
 *    lock to the end, none takes none). Every table is then read in primary-key order with one
 *    unbuffered query (whose rows mysql_rows receives and converts in a thread of its own,
 *    while the pipeline renders the rows before them); a COMMIT after every
 *    snapshot.fetch.size rows records the progress as key ranges: "rows up to key K were read
 *    at position S".
 *  - The stream then starts at S1, the position of the first snapshot session. After a crash
 *    mid-snapshot the transaction is gone, so the rest is read in a new session at S2 > S1, and
 *    the ranges say which rows were read at S2. While the stream replays (S1, S2), a change to
 *    a row read at S2 is already in what was read, so it is skipped; a change to a row read at
 *    S1 is emitted. The row's key decides which range it is in; keys are compared by the server
 *    (ROW(...) <= ROW(...) with each column's collation), so they order exactly as the
 *    snapshot's ORDER BY did. Past the last S the filter is dropped. So each change appears
 *    exactly once: in a snapshot row or as a stream event. Tables whose key cannot be compared
 *    that way (no primary key, or FLOAT, BIT, ENUM, SET, JSON... in it) are read in one piece.
 *  - Snapshot rows carry order = order(S) - 1, below every change the stream delivers after S.
 *
 * Schemas: rows are decoded with the TABLE_MAP's optional metadata when the server sends it
 * (binlog_row_metadata=FULL on MySQL 8 / MariaDB 10.5+); otherwise names, keys, signedness,
 * charsets and ENUM/SET labels come from the definition tracked from information_schema, kept
 * as a history of versions by binlog position and saved with the offsets. A DDL statement in
 * the stream re-reads information_schema: the server's current schema, which may already be
 * newer than the statement (see docs/mysql.md for this limit).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../schemas/mysql_schema.h"
#include "../src/buf.h"
#include "../src/clock.h"
#include "../src/log.h"
#include "../src/mem.h"
#include "../src/namefilter.h"
#include "binlog_decoder.h"
#include "mysql_conn.h"
#include "mysql_rows.h"
#include "reader.h"

#define LOG "mysql"
/* A transaction with no captured change still moves the position, at most this often. */
#define IDLE_COMMIT_MS 1000
/* The period of the server's heartbeat events when heartbeat.interval.ms does not set one. */
#define SERVER_HEARTBEAT_MS 5000

enum snap_mode {
    SNAP_INITIAL,
    SNAP_INITIAL_ONLY,
    SNAP_NO_DATA,
    SNAP_NEVER,
    SNAP_ALWAYS,
    SNAP_WHEN_NEEDED,
    SNAP_RECOVERY,
};

enum lock_mode { LOCK_MINIMAL, LOCK_NONE, LOCK_EXTENDED };

enum phase { PHASE_SNAPSHOT, PHASE_STREAM, PHASE_DONE };

/* Rows of a table up to key `hi` (an SQL row literal; NULL: to the end) were read at `at`. */
struct range {
    char *hi;
    char *at_file;
    uint64_t at_pos;
};

struct snap_table {
    char *db, *name;
    struct range *r;
    size_t nr;
};

/* An event schema built for a table, kept for the reader's life (events borrow it). */
struct built {
    char *sig; /* what it was built from */
    struct schema_table *schema;
    size_t *map; /* schema column -> source column */
};

struct snapshot {
    char *start_file; /* S1: where the stream starts */
    uint64_t start_pos;
    char *start_gtids;
    struct snap_table *tables;
    size_t ntables;
    /* The session. */
    MYSQL *conn;
    bool open;
    bool table_locks;
    bool global_lock;
    char *file; /* S of this session */
    uint64_t pos;
    int64_t ts_us;
    uint64_t order; /* of the session's position; its rows carry order - 1 */
    /* The table being read. */
    size_t cur;
    struct myrows *rows;
    bool rows_done; /* its last row is out: free it once the event is done with */
    const struct mysql_table_def *def;
    const struct built *schema;
    bool chunked;
    size_t rows_in_chunk;
    bool any_row; /* of the whole run, for "first" */
    bool table_any;
    bool pending_commit;
};

struct filter {
    char *until_file;
    uint64_t until_pos;
    struct snap_table *tables;
    size_t ntables;
};

struct mysql_reader {
    struct reader base;
    enum reader_mode mode;
    enum event_connector connector;
    struct myconn_params params;
    uint32_t server_id;
    enum snap_mode snap_mode;
    enum lock_mode lock_mode;
    int64_t fetch_size;
    bool include_schema_changes;
    bool include_query;
    int64_t heartbeat_ms;
    struct namefilter db_filter, table_filter, column_filter;

    MYSQL *q;
    bool mariadb;
    bool gtid_mode;
    char *server_uuid;
    uint32_t source_server_id;

    struct mysql_schema_history *history;
    struct built *built;
    size_t nbuilt;

    enum phase phase;
    struct snapshot *snap;

    /* Streaming. */
    char *stream_file;
    uint64_t stream_pos;
    struct gtid_set *stream_gtids;
    struct myconn_binlog *bl;
    struct binlog_decoder *dec;
    bool dec_pending;
    struct filter *filter;
    int64_t last_commit_ms;
    int64_t last_heartbeat_ms;

    /* What next() hands out. */
    struct event ev;
    struct arena *arena;
    json_t *position;
};

/* Filters ---------------------------------------------------------------------------------- */

static bool system_db(const char *db)
{
    return strcmp(db, "mysql") == 0 || strcmp(db, "information_schema") == 0 ||
           strcmp(db, "performance_schema") == 0 || strcmp(db, "sys") == 0;
}

static bool db_captured(const struct mysql_reader *r, const char *db)
{
    if (system_db(db))
        return false;
    return namefilter_admits(&r->db_filter, db);
}

static bool table_captured(const struct mysql_reader *r, const char *db, const char *table)
{
    if (!db_captured(r, db))
        return false;
    char fq[512];
    snprintf(fq, sizeof fq, "%s.%s", db, table);
    return namefilter_admits(&r->table_filter, fq);
}

static bool column_captured(const struct mysql_reader *r, const char *db, const char *table,
                            const char *col)
{
    char fq[768];
    snprintf(fq, sizeof fq, "%s.%s.%s", db, table, col);
    return namefilter_admits(&r->column_filter, fq);
}

/* Positions -------------------------------------------------------------------------------- */

static struct mysql_pos mpos(const char *file, uint64_t pos)
{
    struct mysql_pos p = {binlog_file_index(file), pos};
    return p;
}

static json_t *pos_json(const char *file, uint64_t pos)
{
    return json_pack("{s:s, s:I}", "file", file, "pos", (json_int_t)pos);
}

static int pos_from_json(const json_t *j, const char **file, uint64_t *pos)
{
    *file = json_string_value(json_object_get(j, "file"));
    const json_t *p = json_object_get(j, "pos");
    if (*file == NULL || !json_is_integer(p) || json_integer_value(p) < 0)
        return -1;
    *pos = (uint64_t)json_integer_value(p);
    return 0;
}

static void tables_free(struct snap_table *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < t[i].nr; k++) {
            free(t[i].r[k].hi);
            free(t[i].r[k].at_file);
        }
        free(t[i].r);
        free(t[i].db);
        free(t[i].name);
    }
    free(t);
}

static json_t *tables_json(const struct snap_table *t, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *ranges = json_array();
        for (size_t k = 0; k < t[i].nr; k++)
            json_array_append_new(
                ranges, json_pack("{s:o, s:s, s:I}", "hi",
                                  t[i].r[k].hi ? json_string(t[i].r[k].hi) : json_null(), "file",
                                  t[i].r[k].at_file, "pos", (json_int_t)t[i].r[k].at_pos));
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:o}", "db", t[i].db, "table", t[i].name, "ranges", ranges));
    }
    return a;
}

static int tables_from_json(const json_t *a, struct snap_table **out, size_t *nout,
                            struct error *err)
{
    *out = NULL;
    *nout = 0;
    if (!json_is_array(a))
        return error_set(err, "the saved position's table list is malformed");
    size_t n = json_array_size(a);
    struct snap_table *t = mem_calloc(n ? n : 1, sizeof *t);
    for (size_t i = 0; i < n; i++) {
        const json_t *jt = json_array_get(a, i);
        const char *db = json_string_value(json_object_get(jt, "db"));
        const char *name = json_string_value(json_object_get(jt, "table"));
        const json_t *ranges = json_object_get(jt, "ranges");
        if (db == NULL || name == NULL || !json_is_array(ranges)) {
            tables_free(t, i);
            return error_set(err, "the saved position's table %zu is malformed", i + 1);
        }
        t[i].db = mem_strdup(db);
        t[i].name = mem_strdup(name);
        t[i].nr = json_array_size(ranges);
        t[i].r = mem_calloc(t[i].nr ? t[i].nr : 1, sizeof *t[i].r);
        for (size_t k = 0; k < t[i].nr; k++) {
            const json_t *jr = json_array_get(ranges, k);
            const char *file;
            uint64_t pos;
            if (pos_from_json(jr, &file, &pos) < 0) {
                tables_free(t, i + 1);
                return error_set(err, "the saved position's ranges of %s.%s are malformed", db,
                                 name);
            }
            const char *hi = json_string_value(json_object_get(jr, "hi"));
            t[i].r[k].hi = mem_strdup(hi);
            t[i].r[k].at_file = mem_strdup(file);
            t[i].r[k].at_pos = pos;
        }
    }
    *out = t;
    *nout = n;
    return 0;
}

/* SQL literals ----------------------------------------------------------------------------- */

static void put_hex(struct buf *b, const void *p, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    const uint8_t *s = p;
    buf_puts(b, "X'");
    for (size_t i = 0; i < n; i++) {
        buf_putc(b, hex[s[i] >> 4]);
        buf_putc(b, hex[s[i] & 15]);
    }
    buf_putc(b, '\'');
}

/* A key column whose values the server can compare in a row literal as ORDER BY orders them. */
static bool comparable(const struct binlog_column *c)
{
    switch (c->type) {
    case BT_TINY:
    case BT_SHORT:
    case BT_INT24:
    case BT_LONG:
    case BT_LONGLONG:
    case BT_YEAR:
    case BT_NEWDECIMAL:
    case BT_DATE:
    case BT_TIME:
    case BT_TIME2:
    case BT_DATETIME:
    case BT_DATETIME2:
    case BT_TIMESTAMP:
    case BT_TIMESTAMP2:
    case BT_VARCHAR:
    case BT_VAR_STRING:
        return true;
    case BT_STRING:
        return c->real_type == BT_STRING;
    default:
        return false;
    }
}

static bool table_chunkable(const struct mysql_table_def *d)
{
    if (d->nkey == 0)
        return false;
    for (size_t i = 0; i < d->nkey; i++)
        if (!comparable(&d->cols[d->key[i]]))
            return false;
    return true;
}

static bool is_temporal(uint8_t t)
{
    return t == BT_DATE || t == BT_NEWDATE || t == BT_TIME || t == BT_TIME2 || t == BT_DATETIME ||
           t == BT_DATETIME2 || t == BT_TIMESTAMP || t == BT_TIMESTAMP2;
}

/* The literal of a key column's value given as the server's text (or as our text form of a
 * decoded value): numbers as they are, strings in the column's collation, binary strings in
 * hex, temporals cast. */
static void key_literal(struct buf *b, const struct binlog_column *c, const char *collation,
                        const char *text, size_t len)
{
    if (is_temporal(c->type)) {
        const char *cast = c->type == BT_DATE || c->type == BT_NEWDATE ? "DATE"
                           : c->type == BT_TIME || c->type == BT_TIME2 ? "TIME(6)"
                                                                       : "DATETIME(6)";
        buf_printf(b, "CAST('%.*s' AS %s)", (int)len, text, cast);
        return;
    }
    if (c->type == BT_VARCHAR || c->type == BT_VAR_STRING || c->type == BT_STRING) {
        if (c->collation == BINLOG_COLLATION_BINARY || collation == NULL) {
            put_hex(b, text, len);
            return;
        }
        const char *cs = binlog_collation_charset(c->collation);
        buf_puts(b, "CONVERT(_utf8mb4 ");
        put_hex(b, text, len);
        buf_printf(b, " USING %s) COLLATE %s", cs ? cs : "utf8mb4", collation);
        return;
    }
    buf_append(b, text, len);
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    /* Howard Hinnant's civil_from_days. */
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

/* The text of a decoded key value, as key_literal takes it; false when it has none. */
static bool value_text(const struct value *v, struct buf *out)
{
    int64_t y;
    unsigned m, d;
    switch (v->kind) {
    case VALUE_INT:
        buf_printf(out, "%" PRId64, v->v.i);
        return true;
    case VALUE_UINT:
        buf_printf(out, "%" PRIu64, v->v.u);
        return true;
    case VALUE_DECIMAL:
    case VALUE_STRING:
    case VALUE_BYTES:
        buf_append(out, v->v.s.p, v->v.s.len);
        return true;
    case VALUE_DATE:
        civil_from_days(v->v.i, &y, &m, &d);
        buf_printf(out, "%04" PRId64 "-%02u-%02u", y, m, d);
        return true;
    case VALUE_DATETIME:
    case VALUE_TIMESTAMP: {
        int64_t us = v->v.i,
                days = us >= 0 ? us / 86400000000 : -((-us + 86399999999) / 86400000000);
        int64_t rest = us - days * 86400000000;
        civil_from_days(days, &y, &m, &d);
        buf_printf(
            out, "%04" PRId64 "-%02u-%02u %02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%06" PRId64, y,
            m, d, rest / 3600000000, rest / 60000000 % 60, rest / 1000000 % 60, rest % 1000000);
        return true;
    }
    case VALUE_TIME: {
        int64_t us = v->v.i < 0 ? -v->v.i : v->v.i;
        buf_printf(out, "%s%02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%06" PRId64,
                   v->v.i < 0 ? "-" : "", us / 3600000000, us / 60000000 % 60, us / 1000000 % 60,
                   us % 1000000);
        return true;
    }
    default:
        return false;
    }
}

/* Schemas ---------------------------------------------------------------------------------- */

static void signature_col(struct buf *b, const struct binlog_column *c, const char *dflt)
{
    buf_printf(b, "%s|%u|%u|%u|%d|%d|%u|%u|%d|%s|", c->name ? c->name : "", c->type, c->real_type,
               c->meta, c->nullable, c->is_unsigned, c->collation, c->geometry_type, c->key,
               dflt ? dflt : "\x01");
    for (size_t k = 0; k < c->n_labels; k++)
        buf_printf(b, "%s,", c->labels[k]);
    buf_putc(b, ';');
}

/* The schema events of the table carry, from its column descriptions (a TABLE_MAP completed
 * from information_schema, or the definition itself): the columns the column filters keep,
 * their defaults. One object per distinct description, kept for the reader's life. */
static const struct built *build_schema(struct mysql_reader *r, const char *db, const char *name,
                                        const struct binlog_column *cols, size_t ncols,
                                        const struct mysql_table_def *def)
{
    struct buf sig;
    buf_init(&sig);
    buf_printf(&sig, "%s.%s:", db, name);
    const char **defaults = mem_calloc(ncols ? ncols : 1, sizeof *defaults);
    for (size_t i = 0; i < ncols; i++) {
        if (def && cols[i].name)
            for (size_t k = 0; k < def->ncols; k++)
                if (strcmp(def->cols[k].name, cols[i].name) == 0)
                    defaults[i] = def->defaults[k];
        signature_col(&sig, &cols[i], defaults[i]);
    }
    for (size_t i = 0; i < r->nbuilt; i++) {
        if (strcmp(r->built[i].sig, sig.data) == 0) {
            buf_free(&sig);
            free(defaults);
            return &r->built[i];
        }
    }
    struct schema_table *t = schema_table_new(db, NULL, name);
    size_t *map = mem_calloc(ncols ? ncols : 1, sizeof *map);
    for (size_t i = 0; i < ncols; i++) {
        char fallback[32];
        snprintf(fallback, sizeof fallback, "col_%zu", i + 1);
        const char *cname = cols[i].name ? cols[i].name : fallback;
        if (!column_captured(r, db, name, cname))
            continue;
        map[t->ncols] = i;
        struct schema_column *c = schema_table_add_column(t, cname, "", VALUE_TEXT);
        binlog_column_to_schema(&cols[i], c);
        c->default_value = mem_strdup(defaults[i]);
    }
    free(defaults);
    r->built = mem_realloc(r->built, (r->nbuilt + 1) * sizeof *r->built);
    struct built *b = &r->built[r->nbuilt++];
    b->sig = buf_take(&sig);
    b->schema = t;
    b->map = map;
    return b;
}

static const struct built *def_schema(struct mysql_reader *r, const struct mysql_table_def *d)
{
    return build_schema(r, d->db, d->name, d->cols, d->ncols, d);
}

/* Reads information_schema for every captured table and records the definitions valid from
 * `from` (tables gone since are recorded as dropped). */
static int refresh_schemas(struct mysql_reader *r, MYSQL *conn, struct mysql_pos from,
                           struct error *err)
{
    char *sql = mysql_schema_query(NULL);
    MYSQL_RES *res;
    int rc = myconn_query(conn, sql, &res, err);
    free(sql);
    if (rc < 0)
        return -1;
    size_t cap = 64, n = 0;
    char ***rows = mem_calloc(cap, sizeof *rows);
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res))) {
        if (n == cap) {
            cap *= 2;
            rows = mem_realloc(rows, cap * sizeof *rows);
        }
        rows[n] = mem_calloc(MSF_COUNT, sizeof(char *));
        for (int f = 0; f < MSF_COUNT; f++)
            rows[n][f] = mem_strdup(row[f]);
        n++;
    }
    mysql_free_result(res);
    /* The tables seen ("db.table"), to mark the others dropped. */
    char **seen = mem_calloc(n ? n : 1, sizeof *seen);
    size_t nseen = 0;
    rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        size_t j = i;
        while (j < n && strcmp(rows[j][MSF_DB], rows[i][MSF_DB]) == 0 &&
               strcmp(rows[j][MSF_TABLE], rows[i][MSF_TABLE]) == 0)
            j++;
        if (table_captured(r, rows[i][MSF_DB], rows[i][MSF_TABLE])) {
            struct mysql_table_def *d;
            if (mysql_table_def_from_rows((const char *const *const *)(rows + i), j - i, r->mariadb,
                                          &d, err) < 0) {
                rc = -1;
                break;
            }
            struct buf fq;
            buf_init(&fq);
            buf_printf(&fq, "%s.%s", d->db, d->name);
            seen[nseen++] = buf_take(&fq);
            if (mysql_schema_history_put(r->history, from, d))
                log_debug(LOG, "schema of %s valid from %" PRId64 ":%" PRIu64, seen[nseen - 1],
                          from.file_index, from.pos);
        }
        i = j;
    }
    if (rc == 0) {
        /* Tables captured before and gone now: collect first, the history changes after. */
        const struct mysql_table_def *d;
        struct buf gone;
        buf_init(&gone);
        size_t ngone = 0;
        for (size_t i = 0; (d = mysql_schema_history_latest(r->history, i)); i++) {
            bool found = false;
            size_t dl = strlen(d->db);
            for (size_t k = 0; k < nseen && !found; k++)
                found = strncmp(seen[k], d->db, dl) == 0 && seen[k][dl] == '.' &&
                        strcmp(seen[k] + dl + 1, d->name) == 0;
            if (!found) {
                buf_append(&gone, d->db, strlen(d->db) + 1);
                buf_append(&gone, d->name, strlen(d->name) + 1);
                ngone++;
            }
        }
        const char *g = gone.data;
        for (size_t k = 0; k < ngone; k++) {
            const char *db = g, *name = g + strlen(g) + 1;
            g = name + strlen(name) + 1;
            mysql_schema_history_drop(r->history, from, db, name);
        }
        buf_free(&gone);
    }
    for (size_t k = 0; k < nseen; k++)
        free(seen[k]);
    free(seen);
    for (size_t i = 0; i < n; i++) {
        for (int f = 0; f < MSF_COUNT; f++)
            free(rows[i][f]);
        free(rows[i]);
    }
    free(rows);
    return rc;
}

/* Zero dates are NULL when the column allows it and the epoch otherwise, as Debezium does
 * (and as binlog_decoder does for row events). */
static void fix_values(const struct schema_table *t, struct value *v)
{
    for (size_t i = 0; v && i < t->ncols; i++) {
        const struct schema_column *c = &t->cols[i];
        if (v[i].kind != VALUE_NULL || c->optional)
            continue;
        if (c->kind == VALUE_DATE || c->kind == VALUE_DATETIME || c->kind == VALUE_TIMESTAMP) {
            v[i].kind = c->kind;
            v[i].v.i = 0;
        }
    }
}

/* The query connection, reconnected when the server closed it while the stream was quiet
 * (wait_timeout): only the stream's own failures should restart the reader. */
static MYSQL *live_query(struct mysql_reader *r, struct error *err)
{
    if (mysql_ping(r->q) == 0)
        return r->q;
    log_info(LOG, "reconnecting the query connection (%s)", mysql_error(r->q));
    MYSQL *m;
    if (myconn_connect(&r->params, &m, err) < 0)
        return NULL;
    mysql_close(r->q);
    r->q = m;
    return m;
}

/* The decoder's TABLE_MAP hook: which schema the rows of the table get. */
static int on_table_map(void *ctx, struct binlog_table *tm, struct binlog_decoder_table *out,
                        struct error *err)
{
    struct mysql_reader *r = ctx;
    out->schema = NULL;
    out->map = NULL;
    if (!table_captured(r, tm->db, tm->name))
        return 0;
    const char *file = binlog_decoder_file(r->dec);
    uint64_t pos = binlog_decoder_pos(r->dec);
    struct mysql_pos at = mpos(file, pos);
    const struct mysql_table_def *def = mysql_schema_history_at(r->history, tm->db, tm->name, at);
    struct error ignored;
    bool complete =
        def && mysql_table_def_complete(def, tm->cols, tm->ncols, tm->has_key, &ignored) == 0;
    if (!complete && !(tm->has_names && tm->has_signedness)) {
        /* The TABLE_MAP alone cannot be decoded: ask information_schema now. */
        MYSQL *q = live_query(r, err);
        if (q == NULL || refresh_schemas(r, q, at, err) < 0)
            return -1;
        def = mysql_schema_history_at(r->history, tm->db, tm->name, at);
        if (def == NULL)
            return error_set(err,
                             "rows of %s.%s at %s:%" PRIu64 ": the TABLE_MAP carries no column "
                             "names and information_schema no longer has the table; set "
                             "binlog_row_metadata=FULL (MySQL 8, MariaDB 10.5+) or re-snapshot",
                             tm->db, tm->name, file, pos);
        if (mysql_table_def_complete(def, tm->cols, tm->ncols, tm->has_key, err) < 0)
            return error_wrap(err,
                              "rows of %s.%s at %s:%" PRIu64 " cannot be decoded: the TABLE_MAP "
                              "carries no column names and the table has changed since (set "
                              "binlog_row_metadata=FULL, or re-snapshot): ",
                              tm->db, tm->name, file, pos);
    }
    const struct built *b = build_schema(r, tm->db, tm->name, tm->cols, tm->ncols, def);
    out->schema = b->schema;
    out->map = b->map;
    return 0;
}

/* Snapshot --------------------------------------------------------------------------------- */

static void snapshot_free(struct snapshot *s)
{
    if (s == NULL)
        return;
    myrows_free(s->rows);
    if (s->conn)
        mysql_close(s->conn);
    tables_free(s->tables, s->ntables);
    free(s->start_file);
    free(s->start_gtids);
    free(s->file);
    free(s);
}

/* Position and GTIDs of a session: exact for MariaDB's consistent snapshot, under the lock
 * otherwise. */
static int snap_position(struct mysql_reader *r, struct snapshot *s, char **gtids,
                         struct error *err)
{
    MYSQL_RES *res;
    MYSQL_ROW row;
    *gtids = NULL;
    if (r->mariadb && !s->table_locks) {
        if (myconn_query(s->conn, "SHOW STATUS LIKE 'binlog_snapshot_%'", &res, err) < 0)
            return -1;
        while ((row = mysql_fetch_row(res))) {
            if (row[0] && row[1] && strcmp(row[0], "Binlog_snapshot_file") == 0)
                s->file = mem_strdup(row[1]);
            else if (row[0] && row[1] && strcmp(row[0], "Binlog_snapshot_position") == 0)
                s->pos = strtoull(row[1], NULL, 10);
        }
        mysql_free_result(res);
    } else {
        if (myconn_query(s->conn, "SHOW MASTER STATUS", &res, err) < 0)
            return -1;
        row = mysql_fetch_row(res);
        if (row && row[0] && row[1]) {
            s->file = mem_strdup(row[0]);
            s->pos = strtoull(row[1], NULL, 10);
        }
        mysql_free_result(res);
    }
    if (s->file == NULL || *s->file == '\0')
        return error_set(err, "the server gives no binlog position: is log_bin on? (start it "
                              "with --log-bin and binlog_format=ROW)");
    if (r->mariadb) {
        if (s->global_lock || s->table_locks) {
            if (myconn_scalar(s->conn, "SELECT @@global.gtid_binlog_pos", gtids, err) < 0)
                return -1;
        }
    } else if (r->gtid_mode) {
        if (myconn_scalar(s->conn, "SELECT @@global.gtid_executed", gtids, err) < 0)
            return -1;
    }
    return 0;
}

static int snap_open(struct mysql_reader *r, struct error *err)
{
    struct snapshot *s = r->snap;
    if (myconn_connect(&r->params, &s->conn, err) < 0)
        return -1;
    /* The server waits for this unbuffered reader while the sinks take their time. */
    if (myconn_exec(s->conn, "SET SESSION net_write_timeout = 86400", err) < 0 ||
        myconn_exec(s->conn, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", err) < 0)
        return -1;
    if (r->lock_mode != LOCK_NONE) {
        struct error lerr;
        if (myconn_exec(s->conn, "FLUSH TABLES WITH READ LOCK", &lerr) == 0) {
            s->global_lock = true;
        } else if (lerr.retriable) {
            *err = lerr;
            return -1;
        } else {
            /* Without RELOAD: lock the tables still to read, for the whole snapshot. */
            log_warn(LOG,
                     "cannot take the global read lock (%s): locking the captured tables "
                     "for the whole snapshot instead",
                     lerr.msg);
            struct buf b;
            buf_init(&b);
            buf_puts(&b, "LOCK TABLES ");
            size_t n = 0;
            for (size_t i = 0; i < s->ntables; i++) {
                if (s->tables[i].nr && s->tables[i].r[s->tables[i].nr - 1].hi == NULL)
                    continue;
                if (n++)
                    buf_puts(&b, ", ");
                myconn_quote_ident(&b, s->tables[i].db);
                buf_putc(&b, '.');
                myconn_quote_ident(&b, s->tables[i].name);
                buf_puts(&b, " READ");
            }
            int rc = n ? myconn_exec(s->conn, b.data, err) : 0;
            buf_free(&b);
            if (rc < 0)
                return error_wrap(err, "locking the tables to snapshot (grant RELOAD for the "
                                       "global read lock instead): ");
            s->table_locks = n > 0;
        }
    }
    if (!s->table_locks &&
        myconn_exec(s->conn, "START TRANSACTION WITH CONSISTENT SNAPSHOT", err) < 0)
        return -1;
    char *gtids;
    if (snap_position(r, s, &gtids, err) < 0)
        return -1;
    s->ts_us = clock_wall_us();
    struct mysql_pos at = mpos(s->file, s->pos);
    if (refresh_schemas(r, s->conn, at, err) < 0) {
        free(gtids);
        return -1;
    }
    if (s->start_file == NULL) {
        /* The first session: its position is where the stream starts, its tables the list. */
        s->start_file = mem_strdup(s->file);
        s->start_pos = s->pos;
        s->start_gtids = gtids;
        gtids = NULL;
        const struct mysql_table_def *d;
        size_t n = 0;
        while (mysql_schema_history_latest(r->history, n))
            n++;
        s->tables = mem_calloc(n ? n : 1, sizeof *s->tables);
        for (size_t i = 0; (d = mysql_schema_history_latest(r->history, i)); i++) {
            if (!table_captured(r, d->db, d->name))
                continue;
            s->tables[s->ntables].db = mem_strdup(d->db);
            s->tables[s->ntables].name = mem_strdup(d->name);
            s->ntables++;
        }
        log_info(LOG, "snapshot of %zu tables at %s:%" PRIu64 "%s%s", s->ntables, s->file, s->pos,
                 s->start_gtids ? " GTIDs " : "", s->start_gtids ? s->start_gtids : "");
    } else {
        log_info(LOG,
                 "resuming the snapshot in a new session at %s:%" PRIu64
                 " (the stream will start at %s:%" PRIu64 ")",
                 s->file, s->pos, s->start_file, s->start_pos);
    }
    free(gtids);
    if (s->global_lock && r->lock_mode == LOCK_MINIMAL &&
        myconn_exec(s->conn, "UNLOCK TABLES", err) < 0)
        return -1;
    s->open = true;
    return 0;
}

static bool table_complete(const struct snap_table *t)
{
    return t->nr > 0 && t->r[t->nr - 1].hi == NULL;
}

/* Moves the table's progress: rows up to hi (NULL: all) read in this session. */
static void snap_progress(struct snapshot *s, struct snap_table *t, const char *hi, size_t hilen)
{
    struct range *last = t->nr ? &t->r[t->nr - 1] : NULL;
    if (last == NULL || strcmp(last->at_file, s->file) != 0 || last->at_pos != s->pos) {
        t->r = mem_realloc(t->r, (t->nr + 1) * sizeof *t->r);
        last = &t->r[t->nr++];
        last->at_file = mem_strdup(s->file);
        last->at_pos = s->pos;
        last->hi = NULL;
    }
    free(last->hi);
    last->hi = hi ? mem_strndup(hi, hilen) : NULL;
}

static void snap_commit_event(struct mysql_reader *r, bool done)
{
    struct snapshot *s = r->snap;
    struct event *e = &r->ev;
    memset(e, 0, sizeof *e);
    e->op = EVENT_COMMIT;
    e->source.connector = r->connector;
    e->source.snapshot = SNAPSHOT_TRUE;
    e->source.ts_us = s->ts_us;
    e->source.txid = -1;
    e->source.thread = -1;
    e->source.file = s->file;
    e->source.pos = s->pos;
    e->order = binlog_order(s->file, s->pos, 0) - 1;
    json_decref(r->position);
    if (!done) {
        json_t *snap =
            json_pack("{s:s, s:I, s:o}", "file", s->start_file, "pos", (json_int_t)s->start_pos,
                      "tables", tables_json(s->tables, s->ntables));
        if (s->start_gtids)
            json_object_set_new(snap, "gtids", json_string(s->start_gtids));
        r->position = json_pack("{s:o}", "snapshot", snap);
    } else {
        /* The stream starts at S1; rows read by later sessions filter it until their S. */
        r->position = pos_json(s->start_file, s->start_pos);
        if (s->start_gtids && *s->start_gtids)
            json_object_set_new(r->position, "gtids", json_string(s->start_gtids));
        struct mysql_pos start = mpos(s->start_file, s->start_pos), until = start;
        const char *until_file = s->start_file;
        uint64_t until_pos = s->start_pos;
        json_t *ft = json_array();
        for (size_t i = 0; i < s->ntables; i++) {
            bool later = false;
            for (size_t k = 0; k < s->tables[i].nr; k++) {
                struct mysql_pos at = mpos(s->tables[i].r[k].at_file, s->tables[i].r[k].at_pos);
                if (mysql_pos_cmp(at, start) > 0)
                    later = true;
                if (mysql_pos_cmp(at, until) > 0) {
                    until = at;
                    until_file = s->tables[i].r[k].at_file;
                    until_pos = s->tables[i].r[k].at_pos;
                }
            }
            if (later) {
                json_t *one = tables_json(&s->tables[i], 1);
                json_array_extend(ft, one);
                json_decref(one);
            }
        }
        if (json_array_size(ft) > 0)
            json_object_set_new(r->position, "filter",
                                json_pack("{s:s, s:I, s:O}", "file", until_file, "pos",
                                          (json_int_t)until_pos, "tables", ft));
        json_decref(ft);
        e->snapshot_done = true;
    }
    e->position = r->position;
}

static int snap_open_table(struct mysql_reader *r, struct error *err)
{
    struct snapshot *s = r->snap;
    while (s->cur < s->ntables) {
        struct snap_table *t = &s->tables[s->cur];
        if (table_complete(t)) {
            s->cur++;
            continue;
        }
        const struct mysql_table_def *def =
            mysql_schema_history_at(r->history, t->db, t->name, mpos(s->file, s->pos));
        if (def == NULL) {
            /* Dropped since the snapshot list was made: nothing left to read. */
            snap_progress(s, t, NULL, 0);
            s->cur++;
            continue;
        }
        s->def = def;
        s->schema = def_schema(r, def);
        s->chunked = table_chunkable(def);
        struct buf sql;
        buf_init(&sql);
        buf_puts(&sql, "SELECT ");
        for (size_t i = 0; i < def->ncols; i++) {
            if (i)
                buf_puts(&sql, ", ");
            myconn_quote_ident(&sql, def->cols[i].name);
            /* FLOAT's text has 6 digits; as a double it reads back to the same float. */
            if (def->cols[i].type == BT_FLOAT)
                buf_puts(&sql, " + 0e0");
        }
        buf_puts(&sql, " FROM ");
        myconn_quote_ident(&sql, def->db);
        buf_putc(&sql, '.');
        myconn_quote_ident(&sql, def->name);
        const char *hi = t->nr ? t->r[t->nr - 1].hi : NULL;
        if (s->chunked) {
            struct buf keys;
            buf_init(&keys);
            for (size_t k = 0; k < def->nkey; k++) {
                if (k)
                    buf_puts(&keys, ", ");
                myconn_quote_ident(&keys, def->cols[def->key[k]].name);
            }
            if (hi)
                buf_printf(&sql, " WHERE (%s) > %s", keys.data, hi);
            buf_printf(&sql, " ORDER BY %s", keys.data);
            buf_free(&keys);
        } else if (hi) {
            buf_free(&sql);
            return error_set(err,
                             "the interrupted snapshot of %s.%s cannot resume: its key "
                             "changed; delete the state file to start a new snapshot",
                             t->db, t->name);
        }
        int rc = mysql_real_query(s->conn, sql.data, sql.len);
        buf_free(&sql);
        MYSQL_RES *res = NULL;
        if (rc != 0 || (res = mysql_use_result(s->conn)) == NULL) {
            char what[300];
            snprintf(what, sizeof what, "reading %s.%s for the snapshot", t->db, t->name);
            return myconn_error(s->conn, what, err);
        }
        if (myrows_start(s->conn, res, def, &s->rows, err) < 0)
            return -1;
        s->rows_in_chunk = 0;
        s->table_any = false;
        log_info(LOG, "snapshot of %s.%s%s", t->db, t->name,
                 hi ? " resumes after its last "
                      "chunk"
                    : "");
        return 1;
    }
    return 0;
}

static int snap_close(struct mysql_reader *r, struct error *err)
{
    struct snapshot *s = r->snap;
    if (!s->table_locks && myconn_exec(s->conn, "COMMIT", err) < 0)
        return -1;
    if ((s->table_locks || (s->global_lock && r->lock_mode == LOCK_EXTENDED)) &&
        myconn_exec(s->conn, "UNLOCK TABLES", err) < 0)
        return -1;
    mysql_close(s->conn);
    s->conn = NULL;
    s->open = false;
    return 0;
}

static int filter_from_json(const json_t *j, struct filter **out, struct error *err);

static int snapshot_step(struct mysql_reader *r, const struct event **out, struct error *err)
{
    struct snapshot *s = r->snap;
    if (s->rows_done) {
        myrows_free(s->rows);
        s->rows = NULL;
        s->rows_done = false;
    }
    if (s->pending_commit) {
        s->pending_commit = false;
        snap_commit_event(r, false);
        *out = &r->ev;
        return 0;
    }
    if (!s->open) {
        if (snap_open(r, err) < 0)
            return -1;
        s->order = binlog_order(s->file, s->pos, 0);
    }
    if (s->order == 0)
        return error_set(err,
                         "binlog position %s:%" PRIu64 " is beyond what the change order "
                         "can encode (file suffix < 2^20, position < 4 GiB)",
                         s->file, s->pos);
    struct myrows_row row;
    for (;;) {
        if (s->rows == NULL) {
            int rc = snap_open_table(r, err);
            if (rc < 0)
                return -1;
            if (rc == 0) {
                if (snap_close(r, err) < 0)
                    return -1;
                snap_commit_event(r, true);
                log_info(LOG, "snapshot done; streaming from %s:%" PRIu64, s->start_file,
                         s->start_pos);
                free(r->stream_file);
                r->stream_file = mem_strdup(s->start_file);
                r->stream_pos = s->start_pos;
                gtid_set_free(r->stream_gtids);
                r->stream_gtids = NULL;
                if (s->start_gtids && *s->start_gtids) {
                    r->stream_gtids = gtid_set_new(r->mariadb);
                    if (gtid_set_parse(r->stream_gtids, s->start_gtids, err) < 0)
                        return -1;
                }
                if (filter_from_json(json_object_get(r->position, "filter"), &r->filter, err) < 0)
                    return -1;
                r->phase = r->mode == READER_SNAPSHOT_ONLY || r->snap_mode == SNAP_INITIAL_ONLY
                               ? PHASE_DONE
                               : PHASE_STREAM;
                *out = &r->ev;
                return 0;
            }
        }
        int got = myrows_next(s->rows, &row, err);
        if (got < 0)
            return -1;
        if (got > 0)
            break;
        /* The table has no rows. */
        myrows_free(s->rows);
        s->rows = NULL;
        snap_progress(s, &s->tables[s->cur], NULL, 0);
        s->cur++;
        snap_commit_event(r, false);
        *out = &r->ev;
        return 0;
    }
    const struct built *b = s->schema;
    arena_reset(r->arena);
    struct value *vals =
        arena_alloc(r->arena, (b->schema->ncols ? b->schema->ncols : 1) * sizeof *vals);
    for (size_t i = 0; i < b->schema->ncols; i++)
        vals[i] = row.vals[b->map[i]];
    fix_values(b->schema, vals);
    bool last_table = true;
    if (row.last)
        for (size_t i = s->cur + 1; i < s->ntables; i++)
            if (!table_complete(&s->tables[i]))
                last_table = false;

    struct event *e = &r->ev;
    memset(e, 0, sizeof *e);
    e->op = EVENT_READ;
    e->table = b->schema;
    e->after = vals;
    e->source.connector = r->connector;
    e->source.ts_us = s->ts_us;
    e->source.txid = -1;
    e->source.thread = -1;
    e->source.file = s->file;
    e->source.pos = s->pos;
    e->order = s->order - 1;
    if (!s->any_row)
        e->source.snapshot = SNAPSHOT_FIRST;
    else if (row.last && last_table)
        e->source.snapshot = SNAPSHOT_LAST;
    else if (!s->table_any)
        e->source.snapshot = SNAPSHOT_FIRST_IN_DATA_COLLECTION;
    else if (row.last)
        e->source.snapshot = SNAPSHOT_LAST_IN_DATA_COLLECTION;
    else
        e->source.snapshot = SNAPSHOT_TRUE;
    s->any_row = true;
    s->table_any = true;
    s->rows_in_chunk++;
    if (row.last) {
        /* The event's values point into the rows' batches: freed on the next call. */
        s->rows_done = true;
        snap_progress(s, &s->tables[s->cur], NULL, 0);
        s->cur++;
        s->pending_commit = true;
    } else if (s->chunked && s->rows_in_chunk >= (size_t)r->fetch_size) {
        const struct mysql_table_def *def = s->def;
        struct buf key;
        buf_init(&key);
        buf_putc(&key, '(');
        for (size_t k = 0; k < def->nkey; k++) {
            size_t c = def->key[k];
            if (k)
                buf_puts(&key, ", ");
            key_literal(&key, &def->cols[c], def->collation_names[c], row.text[c], row.len[c]);
        }
        buf_putc(&key, ')');
        snap_progress(s, &s->tables[s->cur], key.data, key.len);
        buf_free(&key);
        s->pending_commit = true;
        s->rows_in_chunk = 0;
    }
    *out = e;
    return 0;
}

/* Stream ----------------------------------------------------------------------------------- */

static void filter_free(struct filter *f)
{
    if (f == NULL)
        return;
    tables_free(f->tables, f->ntables);
    free(f->until_file);
    free(f);
}

static int filter_from_json(const json_t *j, struct filter **out, struct error *err)
{
    *out = NULL;
    if (j == NULL)
        return 0;
    const char *file;
    uint64_t pos;
    if (pos_from_json(j, &file, &pos) < 0)
        return error_set(err, "the saved position's snapshot filter is malformed");
    struct filter *f = mem_calloc(1, sizeof *f);
    f->until_file = mem_strdup(file);
    f->until_pos = pos;
    if (tables_from_json(json_object_get(j, "tables"), &f->tables, &f->ntables, err) < 0) {
        filter_free(f);
        return -1;
    }
    *out = f;
    return 0;
}

static json_t *filter_json(const struct filter *f)
{
    return json_pack("{s:s, s:I, s:o}", "file", f->until_file, "pos", (json_int_t)f->until_pos,
                     "tables", tables_json(f->tables, f->ntables));
}

/* Whether the change is already in rows a later snapshot session read (see the top). */
static int filter_skips(struct mysql_reader *r, const struct event *e, bool *skip,
                        struct error *err)
{
    struct filter *f = r->filter;
    *skip = false;
    struct mysql_pos p = mpos(e->source.file, e->source.pos);
    if (mysql_pos_cmp(p, mpos(f->until_file, f->until_pos)) >= 0) {
        log_info(LOG,
                 "the stream has passed the last snapshot session (%s:%" PRIu64
                 "): no more filtering",
                 f->until_file, f->until_pos);
        filter_free(f);
        r->filter = NULL;
        return 0;
    }
    const struct snap_table *t = NULL;
    for (size_t i = 0; i < f->ntables; i++)
        if (strcmp(f->tables[i].db, e->table->db) == 0 &&
            strcmp(f->tables[i].name, e->table->name) == 0)
            t = &f->tables[i];
    if (t == NULL || t->nr == 0)
        return 0;
    size_t after = 0;
    for (size_t k = 0; k < t->nr; k++)
        after += mysql_pos_cmp(mpos(t->r[k].at_file, t->r[k].at_pos), p) > 0;
    if (after == 0)
        return 0;
    if (after == t->nr) {
        *skip = true;
        return 0;
    }
    /* Which range holds the row: compare its key with the ranges' bounds in the server. */
    const struct mysql_table_def *def = mysql_schema_history_at(r->history, t->db, t->name, p);
    const struct value *vals = e->op == EVENT_CREATE ? e->after : e->before;
    if (def == NULL || vals == NULL)
        return 0;
    struct buf key, text;
    buf_init(&key);
    buf_init(&text);
    buf_putc(&key, '(');
    for (size_t k = 0; k < def->nkey; k++) {
        const struct binlog_column *c = &def->cols[def->key[k]];
        int idx = schema_table_find(e->table, c->name);
        buf_reset(&text);
        if (idx < 0 || !value_text(&vals[idx], &text)) {
            buf_free(&key);
            buf_free(&text);
            return error_set(err,
                             "cannot tell which snapshot session read the row of %s.%s "
                             "changed at %s:%" PRIu64 ": its key column %s is not in the "
                             "event",
                             t->db, t->name, e->source.file, e->source.pos, c->name);
        }
        if (k)
            buf_puts(&key, ", ");
        key_literal(&key, c, def->collation_names[def->key[k]], text.data ? text.data : "",
                    text.len);
    }
    buf_putc(&key, ')');
    buf_free(&text);
    size_t k = 0;
    for (; k + 1 < t->nr; k++) {
        if (t->r[k].hi == NULL)
            break;
        struct buf sql;
        buf_init(&sql);
        buf_printf(&sql, "SELECT %s <= %s", key.data, t->r[k].hi);
        char *v = NULL;
        MYSQL *q = live_query(r, err);
        int rc = q ? myconn_scalar(q, sql.data, &v, err) : -1;
        buf_free(&sql);
        if (rc < 0) {
            buf_free(&key);
            return -1;
        }
        bool in = v && strcmp(v, "1") == 0;
        free(v);
        if (in)
            break;
    }
    buf_free(&key);
    *skip = mysql_pos_cmp(mpos(t->r[k].at_file, t->r[k].at_pos), p) > 0;
    return 0;
}

static int stream_open(struct mysql_reader *r, struct error *err)
{
    bool by_gtid =
        r->stream_gtids && !gtid_set_is_empty(r->stream_gtids) && (r->mariadb || r->gtid_mode);
    struct myconn_dump d = {
        .server_id = r->server_id,
        .heartbeat_ms = r->heartbeat_ms > 0 && r->heartbeat_ms < SERVER_HEARTBEAT_MS
                            ? (int)r->heartbeat_ms
                            : SERVER_HEARTBEAT_MS,
        .file = r->stream_file,
        .pos = r->stream_pos,
        .gtids = by_gtid ? r->stream_gtids : NULL,
        .annotate = r->include_query,
    };
    if (myconn_binlog_open(&r->params, &d, &r->bl, err) < 0)
        return -1;
    if (r->dec == NULL) {
        struct binlog_decoder_opts opts = {
            .connector = r->connector,
            .include_query = r->include_query,
            .table_map = on_table_map,
            .ctx = r,
        };
        r->dec = binlog_decoder_new(&opts);
    }
    binlog_decoder_start(r->dec, r->stream_file, r->stream_pos,
                         myconn_binlog_crc32(r->bl) ? BINLOG_CHECKSUM_CRC32 : BINLOG_CHECKSUM_OFF,
                         r->stream_gtids, r->mariadb);
    if (by_gtid) {
        struct buf g;
        buf_init(&g);
        gtid_set_format(r->stream_gtids, &g);
        log_info(LOG, "streaming after GTIDs %s (last position %s:%" PRIu64 ")", g.data,
                 r->stream_file, r->stream_pos);
        buf_free(&g);
    } else {
        log_info(LOG, "streaming from %s:%" PRIu64, r->stream_file, r->stream_pos);
    }
    r->last_commit_ms = r->last_heartbeat_ms = clock_mono_ms();
    return 0;
}

/* What the stream hands out of one decoded event: 1 to hand e out, 0 to go on. */
static int stream_take(struct mysql_reader *r, const struct event *e, struct error *err)
{
    int64_t now = clock_mono_ms();
    switch (e->op) {
    case EVENT_CREATE:
    case EVENT_UPDATE:
    case EVENT_DELETE: {
        if (r->filter) {
            bool skip;
            if (filter_skips(r, e, &skip, err) < 0)
                return -1;
            if (skip)
                return 0;
        }
        r->ev = *e;
        return 1;
    }
    case EVENT_DDL: {
        struct mysql_pos end = mpos(binlog_decoder_file(r->dec), binlog_decoder_event_end(r->dec));
        MYSQL *q = live_query(r, err);
        if (q == NULL || refresh_schemas(r, q, end, err) < 0)
            return -1;
        if (!r->include_schema_changes || (e->ddl_db && *e->ddl_db && !db_captured(r, e->ddl_db)))
            return 0;
        r->ev = *e;
        return 1;
    }
    case EVENT_COMMIT:
        if (binlog_decoder_txn_changes(r->dec) == 0 && now - r->last_commit_ms < IDLE_COMMIT_MS)
            return 0;
        if (r->filter &&
            mysql_pos_cmp(mpos(json_string_value(json_object_get(e->position, "file")),
                               (uint64_t)json_integer_value(json_object_get(e->position, "pos"))),
                          mpos(r->filter->until_file, r->filter->until_pos)) >= 0) {
            filter_free(r->filter);
            r->filter = NULL;
        }
        if (r->filter)
            json_object_set_new(e->position, "filter", filter_json(r->filter));
        r->last_commit_ms = now;
        r->ev = *e;
        return 1;
    default:
        /* The server's heartbeats only keep the connection alive: dbtail's own are timed in
         * stream_step. */
        return 0;
    }
}

static int stream_step(struct mysql_reader *r, const struct event **out, int timeout_ms,
                       struct error *err)
{
    if (r->bl == NULL && stream_open(r, err) < 0)
        return -1;
    int64_t deadline = clock_mono_ms() + timeout_ms;
    for (;;) {
        if (r->dec_pending) {
            const struct event *e;
            int rc = binlog_decoder_next(r->dec, &e, err);
            if (rc < 0)
                return -1;
            if (rc == 0) {
                r->dec_pending = false;
                int skipped = binlog_decoder_skipped(r->dec);
                if (skipped >= 0)
                    log_debug(LOG, "skipped an event of unknown type %d at %s:%" PRIu64, skipped,
                              binlog_decoder_file(r->dec), binlog_decoder_pos(r->dec));
                continue;
            }
            rc = stream_take(r, e, err);
            if (rc < 0)
                return -1;
            if (rc > 0) {
                *out = &r->ev;
                return 0;
            }
            continue;
        }
        int64_t now = clock_mono_ms();
        if (r->heartbeat_ms > 0 && now - r->last_heartbeat_ms >= r->heartbeat_ms &&
            !binlog_decoder_in_transaction(r->dec)) {
            /* Between transactions, whether changes flow or not, as Debezium's heartbeat. */
            r->last_heartbeat_ms = now;
            struct event *e = &r->ev;
            memset(e, 0, sizeof *e);
            e->op = EVENT_HEARTBEAT;
            e->source.connector = r->connector;
            e->source.ts_us = clock_wall_us();
            e->source.txid = -1;
            e->source.thread = -1;
            e->source.server_id = r->source_server_id;
            e->source.file = binlog_decoder_file(r->dec);
            e->source.pos = binlog_decoder_pos(r->dec);
            *out = e;
            return 0;
        }
        int64_t left = deadline - now;
        const uint8_t *raw;
        size_t len;
        int rc = myconn_binlog_next(r->bl, &raw, &len, left > 0 ? (int)left : 0, err);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return 0;
        if (binlog_decoder_feed(r->dec, raw, len, err) < 0)
            return -1;
        r->dec_pending = true;
    }
}

/* Reader operations ------------------------------------------------------------------------ */

static int connect_query(struct mysql_reader *r, struct error *err)
{
    if (r->q)
        return 0;
    if (myconn_connect(&r->params, &r->q, err) < 0)
        return -1;
    r->mariadb = myconn_is_mariadb(r->q);
    char *v = NULL;
    if (myconn_scalar(r->q, "SELECT @@server_id", &v, err) < 0)
        return -1;
    r->source_server_id = v ? (uint32_t)strtoul(v, NULL, 10) : 0;
    free(v);
    if (!r->mariadb) {
        if (myconn_scalar(r->q, "SELECT @@server_uuid", &r->server_uuid, err) < 0)
            return -1;
        if (myconn_scalar(r->q, "SELECT @@global.gtid_mode", &v, err) < 0)
            return -1;
        r->gtid_mode = v && strcmp(v, "ON") == 0;
        free(v);
    }
    return 0;
}

/* The binlog files the server still has, as a NUL-separated list in out. */
static int binary_logs(struct mysql_reader *r, struct buf *out, struct error *err)
{
    MYSQL_RES *res;
    if (myconn_query(r->q, "SHOW BINARY LOGS", &res, err) < 0)
        return error_wrap(err, "listing the binlog files (needs REPLICATION CLIENT): ");
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)))
        if (row[0])
            buf_append(out, row[0], strlen(row[0]) + 1);
    mysql_free_result(res);
    return 0;
}

/* Whether the server can still send the binlog from the saved position. */
static int position_available(struct mysql_reader *r, bool *ok, struct error *err)
{
    struct buf logs;
    buf_init(&logs);
    if (binary_logs(r, &logs, err) < 0)
        return -1;
    *ok = false;
    for (const char *p = logs.data; p && p < logs.data + logs.len; p += strlen(p) + 1)
        if (strcmp(p, r->stream_file) == 0)
            *ok = true;
    buf_free(&logs);
    if (!r->mariadb && r->gtid_mode && r->stream_gtids && !gtid_set_is_empty(r->stream_gtids)) {
        /* By GTID the file does not matter, the purged set does. */
        struct buf g, sql;
        buf_init(&g);
        buf_init(&sql);
        gtid_set_format(r->stream_gtids, &g);
        buf_printf(&sql, "SELECT GTID_SUBSET(@@global.gtid_purged, '%s')", g.data);
        char *v = NULL;
        int rc = myconn_scalar(r->q, sql.data, &v, err);
        buf_free(&g);
        buf_free(&sql);
        if (rc < 0)
            return -1;
        *ok = v && strcmp(v, "1") == 0;
        free(v);
    }
    return 0;
}

static int current_position(struct mysql_reader *r, struct error *err)
{
    MYSQL_RES *res;
    if (myconn_query(r->q, "SHOW MASTER STATUS", &res, err) < 0)
        return -1;
    MYSQL_ROW row = mysql_fetch_row(res);
    if (row == NULL || row[0] == NULL || row[1] == NULL) {
        mysql_free_result(res);
        return error_set(err, "the server gives no binlog position: is log_bin on?");
    }
    free(r->stream_file);
    r->stream_file = mem_strdup(row[0]);
    r->stream_pos = strtoull(row[1], NULL, 10);
    mysql_free_result(res);
    char *g = NULL;
    if (r->mariadb || r->gtid_mode) {
        if (myconn_scalar(r->q,
                          r->mariadb ? "SELECT @@global.gtid_binlog_pos"
                                     : "SELECT @@global.gtid_executed",
                          &g, err) < 0)
            return -1;
    }
    gtid_set_free(r->stream_gtids);
    r->stream_gtids = NULL;
    if (g && *g) {
        r->stream_gtids = gtid_set_new(r->mariadb);
        if (gtid_set_parse(r->stream_gtids, g, err) < 0) {
            free(g);
            return -1;
        }
    }
    free(g);
    return 0;
}

static int start_snapshot(struct mysql_reader *r, const json_t *snap, struct error *err)
{
    snapshot_free(r->snap);
    r->snap = mem_calloc(1, sizeof *r->snap);
    r->phase = PHASE_SNAPSHOT;
    if (snap == NULL)
        return 0;
    const char *file;
    uint64_t pos;
    if (pos_from_json(snap, &file, &pos) < 0)
        return error_set(err, "the saved snapshot position is malformed");
    r->snap->start_file = mem_strdup(file);
    r->snap->start_pos = pos;
    r->snap->start_gtids = mem_strdup(json_string_value(json_object_get(snap, "gtids")));
    return tables_from_json(json_object_get(snap, "tables"), &r->snap->tables, &r->snap->ntables,
                            err);
}

static int mr_start(struct reader *rd, const json_t *position, const json_t *schemas,
                    struct error *err)
{
    struct mysql_reader *r = (struct mysql_reader *)rd;
    if (connect_query(r, err) < 0)
        return -1;
    if (schemas && !json_is_null(schemas) &&
        mysql_schema_history_from_json(r->history, schemas, err) < 0)
        return error_wrap(err, "reading the saved schemas: ");
    bool snapshot_only = r->mode == READER_SNAPSHOT_ONLY || r->snap_mode == SNAP_INITIAL_ONLY;
    const json_t *snap = position ? json_object_get(position, "snapshot") : NULL;
    if (snap)
        return start_snapshot(r, snap, err);
    if (position == NULL) {
        /* `dbtail snapshot` takes one whatever snapshot.mode says. */
        if (r->mode == READER_SNAPSHOT_ONLY)
            return start_snapshot(r, NULL, err);
        switch (r->snap_mode) {
        case SNAP_NO_DATA:
        case SNAP_RECOVERY:
            if (current_position(r, err) < 0 ||
                refresh_schemas(r, r->q, mpos(r->stream_file, r->stream_pos), err) < 0)
                return -1;
            r->phase = PHASE_STREAM;
            return 0;
        case SNAP_NEVER: {
            struct buf logs;
            buf_init(&logs);
            if (binary_logs(r, &logs, err) < 0)
                return -1;
            if (logs.len == 0) {
                buf_free(&logs);
                return error_set(err, "the server has no binlog files: is log_bin on?");
            }
            free(r->stream_file);
            r->stream_file = mem_strdup(logs.data);
            r->stream_pos = 4;
            buf_free(&logs);
            /* Without a snapshot the only schema known is today's. */
            if (refresh_schemas(r, r->q, mpos(r->stream_file, 0), err) < 0)
                return -1;
            r->phase = PHASE_STREAM;
            return 0;
        }
        default:
            return start_snapshot(r, NULL, err);
        }
    }
    const char *file;
    uint64_t pos;
    if (pos_from_json(position, &file, &pos) < 0)
        return error_set(err, "the saved position has no binlog file and position");
    if (snapshot_only) {
        r->phase = PHASE_DONE;
        return 0;
    }
    free(r->stream_file);
    r->stream_file = mem_strdup(file);
    r->stream_pos = pos;
    const char *g = json_string_value(json_object_get(position, "gtids"));
    if (g && *g) {
        r->stream_gtids = gtid_set_new(r->mariadb);
        if (gtid_set_parse(r->stream_gtids, g, err) < 0)
            return error_wrap(err, "the saved position: ");
    }
    if (filter_from_json(json_object_get(position, "filter"), &r->filter, err) < 0)
        return -1;
    if (r->snap_mode == SNAP_ALWAYS) {
        if (r->filter)
            return error_set(err, "snapshot.mode=always cannot start a new snapshot inside the "
                                  "window of a resumed one: restart with snapshot.mode=initial "
                                  "until it has passed");
        return start_snapshot(r, NULL, err);
    }
    bool ok;
    if (position_available(r, &ok, err) < 0)
        return -1;
    if (!ok) {
        if (r->snap_mode == SNAP_WHEN_NEEDED) {
            log_warn(LOG,
                     "binlog position %s:%" PRIu64 " is no longer on the server: taking a "
                     "new snapshot (snapshot.mode=when_needed)",
                     file, pos);
            filter_free(r->filter);
            r->filter = NULL;
            return start_snapshot(r, NULL, err);
        }
        return error_set(err,
                         "binlog position %s:%" PRIu64 "%s%s is no longer on the server (the "
                         "binlog was purged): changes since then are lost; set "
                         "snapshot.mode=when_needed to take a new snapshot",
                         file, pos, g ? " / GTIDs " : "", g ? g : "");
    }
    if (r->snap_mode == SNAP_RECOVERY &&
        refresh_schemas(r, r->q, mpos(r->stream_file, r->stream_pos), err) < 0)
        return -1;
    r->phase = PHASE_STREAM;
    return 0;
}

static int mr_next(struct reader *rd, const struct event **ev, int timeout_ms, struct error *err)
{
    struct mysql_reader *r = (struct mysql_reader *)rd;
    *ev = NULL;
    switch (r->phase) {
    case PHASE_SNAPSHOT:
        return snapshot_step(r, ev, err);
    case PHASE_STREAM:
        return stream_step(r, ev, timeout_ms, err);
    case PHASE_DONE:
        return 1;
    }
    return 1;
}

static int mr_ack(struct reader *rd, const json_t *position, struct error *err)
{
    (void)err;
    struct mysql_reader *r = (struct mysql_reader *)rd;
    const char *file;
    uint64_t pos;
    /* Nothing to confirm to a MySQL server; schema versions no restart can need go. */
    if (position && json_object_get(position, "snapshot") == NULL &&
        json_object_get(position, "filter") == NULL && pos_from_json(position, &file, &pos) == 0)
        mysql_schema_history_prune(r->history, mpos(file, pos));
    return 0;
}

static json_t *mr_schemas(struct reader *rd)
{
    struct mysql_reader *r = (struct mysql_reader *)rd;
    return mysql_schema_history_to_json(r->history);
}

static json_t *mr_identity(struct reader *rd)
{
    struct mysql_reader *r = (struct mysql_reader *)rd;
    char host[300];
    snprintf(host, sizeof host, "%s:%u", r->params.host, r->params.port);
    json_t *id =
        json_pack("{s:s, s:s}", "connector", event_connector_name(r->connector), "host", host);
    if (r->server_uuid)
        json_object_set_new(id, "server_uuid", json_string(r->server_uuid));
    else
        json_object_set_new(id, "server_id", json_integer(r->source_server_id));
    return id;
}

/* check() ---------------------------------------------------------------------------------- */

static char *variable(MYSQL *m, const char *name)
{
    char sql[128], *v = NULL;
    struct error err;
    snprintf(sql, sizeof sql, "SELECT @@global.%s", name);
    if (myconn_scalar(m, sql, &v, &err) < 0)
        return NULL;
    return v;
}

static int check_line(FILE *out, bool ok, const char *fmt, ...) DBT_PRINTF(3, 4);
static int check_line(FILE *out, bool ok, const char *fmt, ...)
{
    va_list ap;
    fputs(ok ? "ok " : "FAIL ", out);
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    return ok ? 0 : 1;
}

static bool grants_have(const char *grants, const char *priv)
{
    return strstr(grants, "ALL PRIVILEGES") || strstr(grants, priv);
}

static int mr_check(struct reader *rd, FILE *out)
{
    struct mysql_reader *r = (struct mysql_reader *)rd;
    struct error err;
    int fails = 0;
    if (connect_query(r, &err) < 0)
        return check_line(out, false, "mysql connection: %s", err.msg);
    check_line(out, true, "mysql connection to %s:%u (%s)", r->params.host, r->params.port,
               mysql_get_server_info(r->q));
    char *v = variable(r->q, "log_bin");
    fails += check_line(out, v && (strcmp(v, "1") == 0 || strcmp(v, "ON") == 0), "log_bin is %s%s",
                        v ? v : "unknown",
                        v && (strcmp(v, "1") == 0 || strcmp(v, "ON") == 0)
                            ? ""
                            : ": start the server with --log-bin");
    free(v);
    v = variable(r->q, "binlog_format");
    fails += check_line(out, v && strcmp(v, "ROW") == 0, "binlog_format is %s%s", v ? v : "unknown",
                        v && strcmp(v, "ROW") == 0 ? ""
                                                   : ": SET GLOBAL binlog_format = ROW "
                                                     "(and in the server's config)");
    free(v);
    v = variable(r->q, "binlog_row_image");
    check_line(out, true, "binlog_row_image is %s%s", v ? v : "unknown",
               v && strcmp(v, "FULL") == 0
                   ? ""
                   : " (FULL recommended: columns outside a MINIMAL/NOBLOB image are absent "
                     "from events; SET GLOBAL binlog_row_image = FULL)");
    free(v);
    v = variable(r->q, "binlog_row_metadata");
    if (v)
        check_line(out, true, "binlog_row_metadata is %s%s", v,
                   strcmp(v, "FULL") == 0
                       ? ""
                       : " (FULL recommended: column names then come with each change instead of "
                         "from information_schema; SET GLOBAL binlog_row_metadata = FULL)");
    else
        check_line(out, true,
                   "binlog_row_metadata is not supported by this server: column "
                   "names come from information_schema");
    free(v);
    v = variable(r->q, "binlog_row_value_options");
    if (v)
        fails += check_line(out, strstr(v, "PARTIAL_JSON") == NULL,
                            "binlog_row_value_options is '%s'%s", v,
                            strstr(v, "PARTIAL_JSON") ? ": partial JSON updates cannot be "
                                                        "decoded without the before image; SET "
                                                        "GLOBAL binlog_row_value_options = ''"
                                                      : "");
    free(v);
    v = variable(r->q, "server_id");
    uint32_t sid = v ? (uint32_t)strtoul(v, NULL, 10) : 0;
    free(v);
    bool unique = sid != r->server_id;
    MYSQL_RES *res;
    if (myconn_query(r->q, "SHOW SLAVE HOSTS", &res, &err) == 0) {
        MYSQL_ROW row;
        while ((row = mysql_fetch_row(res)))
            if (row[0] && (uint32_t)strtoul(row[0], NULL, 10) == r->server_id &&
                !(row[1] && strcmp(row[1], "dbtail") == 0))
                unique = false;
        mysql_free_result(res);
    }
    fails += check_line(out, unique, "database.server.id %" PRIu32 " %s", r->server_id,
                        unique ? "is unique among the server and its replicas"
                               : "is used by the server or another replica: choose another");
    char *grants = NULL;
    if (myconn_query(r->q, "SHOW GRANTS FOR CURRENT_USER()", &res, &err) == 0) {
        struct buf g;
        buf_init(&g);
        MYSQL_ROW row;
        while ((row = mysql_fetch_row(res)))
            if (row[0])
                buf_printf(&g, "%s\n", row[0]);
        mysql_free_result(res);
        grants = buf_take(&g);
    }
    if (grants == NULL) {
        fails += check_line(out, false, "privileges: cannot read them: %s", err.msg);
    } else {
        static const char *const need[] = {"REPLICATION SLAVE", "REPLICATION CLIENT", "SELECT"};
        for (size_t i = 0; i < 3; i++) {
            bool have =
                grants_have(grants, need[i]) || (i == 1 && strstr(grants, "BINLOG MONITOR"));
            fails += check_line(out, have, "privilege %s%s", need[i],
                                have ? "" : ": GRANT it ON *.* to the connector's user");
        }
        bool reload = grants_have(grants, "RELOAD");
        check_line(out, true, "privilege RELOAD%s",
                   reload ? ""
                          : " missing: snapshots lock each table instead of taking the "
                            "global read lock (GRANT RELOAD ON *.* to avoid it)");
        free(grants);
    }
    return fails;
}

/* Construction ----------------------------------------------------------------------------- */

static void mr_free(struct reader *rd)
{
    struct mysql_reader *r = (struct mysql_reader *)rd;
    myconn_binlog_close(r->bl);
    binlog_decoder_free(r->dec);
    snapshot_free(r->snap);
    filter_free(r->filter);
    if (r->q)
        mysql_close(r->q);
    mysql_schema_history_free(r->history);
    for (size_t i = 0; i < r->nbuilt; i++) {
        free(r->built[i].sig);
        schema_table_free(r->built[i].schema);
        free(r->built[i].map);
    }
    free(r->built);
    namefilter_free(&r->db_filter);
    namefilter_free(&r->table_filter);
    namefilter_free(&r->column_filter);
    free(r->server_uuid);
    free(r->stream_file);
    gtid_set_free(r->stream_gtids);
    arena_free(r->arena);
    json_decref(r->position);
    free(r);
}

static const struct reader_ops mysql_ops = {
    .name = "mysql",
    .start = mr_start,
    .next = mr_next,
    .ack = mr_ack,
    .schemas = mr_schemas,
    .check = mr_check,
    .identity = mr_identity,
    .free = mr_free,
};

int mysql_reader_new(const struct config *cfg, enum reader_mode mode, struct reader **out,
                     struct error *err)
{
    static const char *const snap_choices[] = {
        "initial",     "initial_only",         "no_data",  "never",       "always",
        "when_needed", "schema_only_recovery", "recovery", "schema_only", NULL};
    static const enum snap_mode snap_modes[] = {SNAP_INITIAL,  SNAP_INITIAL_ONLY, SNAP_NO_DATA,
                                                SNAP_NEVER,    SNAP_ALWAYS,       SNAP_WHEN_NEEDED,
                                                SNAP_RECOVERY, SNAP_RECOVERY,     SNAP_NO_DATA};
    static const char *const lock_choices[] = {"minimal", "none", "extended", NULL};
    static const char *const ssl_choices[] = {"disabled",  "preferred",       "required",
                                              "verify_ca", "verify_identity", NULL};
    struct mysql_reader *r = mem_calloc(1, sizeof *r);
    r->base.ops = &mysql_ops;
    r->mode = mode;
    r->history = mysql_schema_history_new();
    r->arena = arena_new();
    *out = NULL;
    const char *cls = config_str(cfg, "connector.class", "");
    r->connector = strstr(cls, "MariaDb") ? EVENT_MARIADB : EVENT_MYSQL;
    int64_t port, server_id, fetch, hb;
    int snap, lock, ssl;
    if (config_required(cfg, "database.hostname", &r->params.host, err) < 0 ||
        config_required(cfg, "database.user", &r->params.user, err) < 0 ||
        config_int(cfg, "database.port", 3306, 1, 65535, &port, err) < 0 ||
        config_int(cfg, "database.server.id", -1, 1, UINT32_MAX, &server_id, err) < 0 ||
        config_choice(cfg, "snapshot.mode", "initial", snap_choices, &snap, err) < 0 ||
        config_choice(cfg, "snapshot.locking.mode", "minimal", lock_choices, &lock, err) < 0 ||
        config_choice(cfg, "database.ssl.mode", "preferred", ssl_choices, &ssl, err) < 0 ||
        config_int(cfg, "snapshot.fetch.size", 10240, 1, INT32_MAX, &fetch, err) < 0 ||
        config_int(cfg, "heartbeat.interval.ms", 0, 0, INT32_MAX, &hb, err) < 0 ||
        config_bool(cfg, "include.schema.changes", true, &r->include_schema_changes, err) < 0 ||
        config_bool(cfg, "include.query", false, &r->include_query, err) < 0 ||
        namefilter_compile(&r->db_filter, cfg, "database", err) < 0 ||
        namefilter_compile(&r->table_filter, cfg, "table", err) < 0 ||
        namefilter_compile(&r->column_filter, cfg, "column", err) < 0) {
        mr_free(&r->base);
        return -1;
    }
    if (server_id < 0) {
        mr_free(&r->base);
        return error_set(err, "database.server.id: required: the replica id dbtail registers "
                              "with, distinct from every server and replica");
    }
    r->params.port = (unsigned)port;
    r->params.password = config_str(cfg, "database.password", NULL);
    r->params.ssl = (enum myconn_ssl)ssl;
    r->params.connect_timeout_s = 10;
    r->server_id = (uint32_t)server_id;
    r->snap_mode = snap_modes[snap];
    r->lock_mode = (enum lock_mode)lock;
    r->fetch_size = fetch;
    r->heartbeat_ms = hb;
    *out = &r->base;
    return 0;
}
