/*
 * doris: the Doris sink. Change events become JSON lines batched per Doris table and loaded with
 * Stream Load (libcurl, through doris_http); tables are created and evolved through the FE's SQL
 * endpoint (DDL text from schemas/doris_types). docs/doris.md is the user's side of this file.
 *
 * Exactly once. Tables with a source primary key are UNIQUE KEY merge-on-write tables with a
 * hidden bigint sequence column fed with event->order: a row only replaces one with a lower
 * order, so loading a change twice (a replay after a crash, batches cut differently) leaves the
 * same table. Each load carries a label made of the connector name, the table, the first and
 * last order it covers and a digest of its content, so the same batch sent again (a retry after
 * a timeout, a replay cut the same way) answers "Label Already Exists" and counts as done.
 * Tables without a key are DUPLICATE KEY tables, where a replay would add rows twice: their
 * loads use two-phase commit, are only pre-committed until a checkpoint has recorded them
 * (checkpoint() lists them, the next call into the sink commits them), and a restart commits
 * those the state file names. Loads of UNIQUE tables commit at once (sink.doris.two.phase.commit
 * puts them under 2PC too).
 *
 * Changes. Creates, updates and snapshot reads upsert; deletes set __DORIS_DELETE_SIGN__. A row
 * lists only the columns the source sent: a column it did not send (unchanged TOAST, MySQL
 * MINIMAL image) is left alone through a partial-column load. Rows of one table are kept in
 * segments of identical column sets, each loaded with its own `columns` header. Whole rows (all
 * columns, or a delete) may join any earlier segment of their column set, since the sequence
 * column orders them whatever the load order; a partial row completes itself from the row Doris
 * holds, so it joins only the last segment and everything before it is loaded first.
 */
#include "sink.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../schemas/doris_types.h"
#include "../src/buf.h"
#include "../src/log.h"
#include "../src/mem.h"
#include "../src/metrics.h"
#include "doris_http.h"

#define LOG_COMP "doris"
/* The load's field holding event->order, mapped onto the hidden sequence column by the
 * function_column.sequence_col header. The hidden column itself may not be named in a
 * partial-column load ("Partial update should not include invisible column except delete sign
 * column"), and a named sequence column would add a column the source does not have. */
#define ORDER_FIELD      "__dbtail_order"
#define DELETE_SIGN      "__DORIS_DELETE_SIGN__"
#define BACKOFF_FIRST_MS 200
#define BACKOFF_MAX_MS   10000
/* Rejected rows written to the log from a load's error log. */
#define REJECTED_LOG_LINES 10

enum seqmode {
    SEQ_HIDDEN, /* sequence_type: we send event->order as function_column.sequence_col */
    SEQ_MAPPED, /* sequence_col maps a column of the table: Doris reads it from the row */
    SEQ_NONE    /* no sequence column: the load order decides */
};

struct txn {
    char *db;
    char *table;
    char *label;
    int64_t id;
};

struct txn_list {
    struct txn *v;
    size_t n, cap;
};

/* Rows of one table that carry the same columns, loaded together. */
struct segment {
    unsigned char *mask; /* per source column: 1 when the rows carry it */
    bool full;           /* every column */
    struct buf body;     /* JSON lines */
    size_t rows;
    uint64_t first, last; /* lowest and highest event->order */
};

struct dtable {
    /* the source table, by name */
    char *src_db, *src_schema, *src_name;
    /* the Doris table */
    char *db, *name;
    struct schema_table *src;        /* copy of the source's schema the rows follow */
    const struct schema_table *seen; /* the reader's pointer last seen: identity only */
    const struct schema_column *seen_cols;
    enum event_connector conn;
    bool unique;
    bool two_pc;
    enum seqmode seq;
    char **doris_cols; /* columns the Doris table has (lower case) */
    size_t n_doris_cols;
    bool *lossy_warned;
    bool warned_delete;
    struct segment *segs;
    size_t nsegs, capsegs;
    size_t rows, bytes;
    int64_t oldest_ms; /* when the oldest pending row came, 0 when none */
    /* After a TRUNCATE, loads get new labels until a checkpoint holds the truncate, so that a
     * replayed truncate is followed by real loads, not by "Label Already Exists". */
    char salt[20];
    bool salt_flushed;
};

struct doris_sink {
    struct sink base;
    struct doris_http *http;
    char **fenodes;
    size_t nfenodes, fe; /* fe: the one in use */
    char *user;
    char *db_format;
    char *table_format;
    char *label_prefix;
    int64_t batch_rows, batch_bytes, total_cap, interval_ms, max_retries, timeout_ms;
    char *max_filter_ratio; /* NULL when 0 */
    bool auto_create, two_pc_all;
    int buckets;
    char **props; /* extra Stream Load headers, "name: value" */
    size_t nprops;
    char **tprop_names, **tprop_values; /* CREATE TABLE PROPERTIES */
    size_t ntprops;
    struct dtable **tables;
    size_t ntables;
    char **dbs_ready;
    size_t ndbs_ready;
    size_t total_bytes;
    struct txn_list open;     /* pre-committed since the last successful flush */
    struct txn_list flushed;  /* pre-committed before it: checkpoint() names them */
    struct txn_list restored; /* named by the state file we started from */
    bool reported;            /* checkpoint() gave `flushed` out: commit it */
    unsigned salt_counter;
    /* No table's oldest row is due before this (monotonic ms); it may be early, never late. */
    int64_t next_due_ms;
};

/* ---- small helpers ----------------------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int64_t backoff_ms(int64_t attempt)
{
    int64_t ms = BACKOFF_FIRST_MS;
    for (int64_t i = 1; i < attempt && ms < BACKOFF_MAX_MS; i++)
        ms *= 2;
    return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

static const char *fe_host(const struct doris_sink *s)
{
    return s->fenodes[s->fe];
}

static void next_fe(struct doris_sink *s)
{
    s->fe = (s->fe + 1) % s->nfenodes;
}

/* Percent-encodes a path segment. */
static void put_path(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            buf_putc(b, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            buf_append(b, e, 3);
        }
    }
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static bool streq_ci(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

static void txn_add(struct txn_list *l, const char *db, const char *table, const char *label,
                    int64_t id)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = mem_realloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = (struct txn){mem_strdup(db), mem_strdup(table), mem_strdup(label), id};
}

static void txn_clear(struct txn *t)
{
    free(t->db);
    free(t->table);
    free(t->label);
}

static void txn_remove(struct txn_list *l, size_t i)
{
    txn_clear(&l->v[i]);
    memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof *l->v);
    l->n--;
}

static void txn_list_free(struct txn_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        txn_clear(&l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* ---- SQL endpoint ------------------------------------------------------------------------ */

static int auth_error(const struct doris_sink *s, struct error *err)
{
    return error_set(err, "sink.doris.username/password rejected by FE %s (user \"%s\")",
                     fe_host(s), s->user);
}

/* Runs stmt in database db (which must exist); *rows (when asked) gets the result rows. A
 * statement Doris refuses is a permanent error carrying Doris's message. */
static int sql_exec(struct doris_sink *s, const char *db, const char *stmt, json_t **rows,
                    struct error *err)
{
    json_t *req = json_pack("{s:s}", "stmt", stmt);
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    struct doris_response resp;
    doris_response_init(&resp);
    int rc = -1;

    log_debug(LOG_COMP, "sql on %s: %s", db, stmt);
    for (int64_t attempt = 0;; attempt++) {
        if (attempt > s->max_retries) {
            error_wrap(err, "running SQL on Doris after %" PRId64 " attempts: ", attempt);
            break;
        }
        if (attempt > 0)
            sleep_ms(backoff_ms(attempt));
        struct buf url;
        buf_init(&url);
        buf_printf(&url, "http://%s/api/query/default_cluster/", fe_host(s));
        put_path(&url, db);
        int prc = doris_http_post_json(s->http, url.data, body, (long)s->timeout_ms, &resp, err);
        buf_free(&url);
        if (prc < 0) {
            log_warn(LOG_COMP, "%s", err->msg);
            next_fe(s);
            continue;
        }
        if (resp.status == 401 || resp.status == 403) {
            rc = auth_error(s, err);
            break;
        }
        if (resp.status >= 500) {
            error_retry(err, "FE %s answered HTTP %ld", fe_host(s), resp.status);
            log_warn(LOG_COMP, "%s", err->msg);
            next_fe(s);
            continue;
        }
        struct doris_sql_reply reply;
        if (doris_sql_reply_parse(resp.body.data ? resp.body.data : "", resp.body.len, &reply,
                                  err) < 0) {
            error_wrap(err, "FE %s (HTTP %ld): ", fe_host(s), resp.status);
            err->retriable = true;
            log_warn(LOG_COMP, "%s", err->msg);
            continue;
        }
        if (reply.code == 401) {
            rc = auth_error(s, err);
        } else if (reply.code != 0) {
            rc = error_set(err, "Doris refused \"%.160s\": %s", stmt, reply.msg);
        } else {
            if (rows) {
                *rows = reply.rows ? json_incref(reply.rows) : json_array();
            }
            rc = 0;
        }
        doris_sql_reply_clear(&reply);
        break;
    }
    doris_response_free(&resp);
    free(body);
    return rc;
}

static int ensure_database(struct doris_sink *s, const char *db, struct error *err)
{
    for (size_t i = 0; i < s->ndbs_ready; i++)
        if (strcmp(s->dbs_ready[i], db) == 0)
            return 0;
    if (s->auto_create) {
        struct buf stmt;
        buf_init(&stmt);
        buf_puts(&stmt, "CREATE DATABASE IF NOT EXISTS ");
        doristype_ident(&stmt, db);
        /* The endpoint needs an existing database in its path. */
        int rc = sql_exec(s, "information_schema", stmt.data, NULL, err);
        buf_free(&stmt);
        if (rc < 0)
            return error_wrap(err, "creating Doris database %s: ", db);
    }
    s->dbs_ready = mem_realloc(s->dbs_ready, (s->ndbs_ready + 1) * sizeof *s->dbs_ready);
    s->dbs_ready[s->ndbs_ready++] = mem_strdup(db);
    return 0;
}

/* ---- tables ------------------------------------------------------------------------------ */

static void segment_free(struct segment *g)
{
    free(g->mask);
    buf_free(&g->body);
}

static void drop_pending(struct doris_sink *s, struct dtable *t)
{
    for (size_t i = 0; i < t->nsegs; i++)
        segment_free(&t->segs[i]);
    t->nsegs = 0;
    s->total_bytes -= t->bytes;
    t->bytes = 0;
    t->rows = 0;
    t->oldest_ms = 0;
}

static void dtable_free(struct dtable *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nsegs; i++)
        segment_free(&t->segs[i]);
    free(t->segs);
    free(t->src_db);
    free(t->src_schema);
    free(t->src_name);
    free(t->db);
    free(t->name);
    if (t->src)
        schema_table_free(t->src);
    free_strv(t->doris_cols, t->n_doris_cols);
    free(t->lossy_warned);
    free(t);
}

static bool has_doris_col(const struct dtable *t, const char *name)
{
    for (size_t i = 0; i < t->n_doris_cols; i++)
        if (streq_ci(t->doris_cols[i], name))
            return true;
    return false;
}

static void add_doris_col(struct dtable *t, const char *name)
{
    if (has_doris_col(t, name))
        return;
    t->doris_cols = mem_realloc(t->doris_cols, (t->n_doris_cols + 1) * sizeof *t->doris_cols);
    t->doris_cols[t->n_doris_cols++] = mem_strdup(name);
}

static void remove_doris_col(struct dtable *t, const char *name)
{
    for (size_t i = 0; i < t->n_doris_cols; i++) {
        if (streq_ci(t->doris_cols[i], name)) {
            free(t->doris_cols[i]);
            t->doris_cols[i] = t->doris_cols[--t->n_doris_cols];
            return;
        }
    }
}

/* Expands {db}, {schema} and {table} of a name format for a source table. */
static char *expand_name(const char *fmt, const struct schema_table *src)
{
    struct buf b;
    buf_init(&b);
    for (const char *p = fmt; *p;) {
        if (strncmp(p, "{db}", 4) == 0) {
            buf_puts(&b, src->db ? src->db : "");
            p += 4;
        } else if (strncmp(p, "{schema}", 8) == 0) {
            buf_puts(&b, src->schema ? src->schema : src->db ? src->db : "");
            p += 8;
        } else if (strncmp(p, "{table}", 7) == 0) {
            buf_puts(&b, src->name);
            p += 7;
        } else {
            buf_putc(&b, *p++);
        }
    }
    return buf_take(&b);
}

/* Reads the Doris table's model and columns: SHOW CREATE TABLE and DESC. */
static int inspect_table(struct doris_sink *s, struct dtable *t, struct error *err)
{
    struct buf stmt;
    json_t *rows = NULL;
    buf_init(&stmt);
    buf_puts(&stmt, "SHOW CREATE TABLE ");
    doristype_ident(&stmt, t->db);
    buf_putc(&stmt, '.');
    doristype_ident(&stmt, t->name);
    int rc = sql_exec(s, t->db, stmt.data, &rows, err);
    if (rc == 0) {
        const char *ddl = json_string_value(json_array_get(json_array_get(rows, 0), 1));
        if (!ddl) {
            rc = error_set(err, "SHOW CREATE TABLE %s.%s gave no statement", t->db, t->name);
        } else if (strstr(ddl, "UNIQUE KEY(")) {
            t->unique = true;
        } else if (strstr(ddl, "AGGREGATE KEY(")) {
            rc = error_set(err,
                           "Doris table %s.%s is an AGGREGATE KEY table: dbtail loads UNIQUE "
                           "KEY or DUPLICATE KEY tables",
                           t->db, t->name);
        } else {
            t->unique = false;
        }
        if (ddl) {
            t->seq = strstr(ddl, "\"function_column.sequence_col\"")    ? SEQ_MAPPED
                     : strstr(ddl, "\"function_column.sequence_type\"") ? SEQ_HIDDEN
                                                                        : SEQ_NONE;
        }
    }
    json_decref(rows);
    rows = NULL;
    if (rc == 0) {
        buf_reset(&stmt);
        buf_puts(&stmt, "DESC ");
        doristype_ident(&stmt, t->db);
        buf_putc(&stmt, '.');
        doristype_ident(&stmt, t->name);
        rc = sql_exec(s, t->db, stmt.data, &rows, err);
    }
    if (rc == 0) {
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row)
        {
            const char *field = json_string_value(json_array_get(row, 0));
            if (field)
                add_doris_col(t, field);
        }
    }
    json_decref(rows);
    buf_free(&stmt);
    return rc;
}

static int add_column(struct doris_sink *s, struct dtable *t, const struct schema_column *c,
                      struct error *err)
{
    struct buf stmt, def;
    buf_init(&stmt);
    buf_init(&def);
    doristype_add_column(&stmt, t->db, t->name, c, t->conn);
    size_t plain = stmt.len;
    bool with_default = doristype_default(&def, c, t->conn);
    if (with_default) {
        /* rows the source holds already take the default without any change event */
        buf_puts(&stmt, " DEFAULT ");
        doristype_sql_string(&stmt, def.data);
    }
    log_info(LOG_COMP, "%s", stmt.data);
    int rc = sql_exec(s, t->db, stmt.data, NULL, err);
    if (rc < 0 && with_default && !err->retriable) {
        log_warn(LOG_COMP, "%s; adding column %s without its default", err->msg, c->name);
        stmt.len = plain;
        stmt.data[plain] = '\0';
        with_default = false;
        rc = sql_exec(s, t->db, stmt.data, NULL, err);
    }
    if (rc == 0 && !with_default && c->default_value && !streq_ci(c->default_value, "null"))
        log_warn(LOG_COMP,
                 "column %s added to %s.%s without its source default (%s): rows that exist "
                 "already read NULL there until they change",
                 c->name, t->db, t->name, c->default_value);
    buf_free(&def);
    buf_free(&stmt);
    if (rc == 0)
        add_doris_col(t, c->name);
    return rc;
}

static void reset_lossy(struct dtable *t)
{
    free(t->lossy_warned);
    t->lossy_warned = mem_calloc(t->src->ncols ? t->src->ncols : 1, sizeof *t->lossy_warned);
}

/* First sight of a Doris table: create it (auto.create), learn what it is, add the columns the
 * source has and it lacks. */
static int prepare_table(struct doris_sink *s, struct dtable *t, struct error *err)
{
    if (ensure_database(s, t->db, err) < 0)
        return -1;
    if (s->auto_create) {
        struct buf ddl;
        buf_init(&ddl);
        struct doristype_table_spec spec = {
            .db = t->db,
            .name = t->name,
            .src = t->src,
            .conn = t->conn,
            .buckets = s->buckets,
            .prop_names = (const char *const *)s->tprop_names,
            .prop_values = (const char *const *)s->tprop_values,
            .nprops = s->ntprops,
        };
        doristype_create_table(&ddl, &spec);
        log_info(LOG_COMP, "%s", ddl.data);
        int rc = sql_exec(s, t->db, ddl.data, NULL, err);
        buf_free(&ddl);
        if (rc < 0)
            return error_wrap(err, "creating Doris table %s.%s: ", t->db, t->name);
    }
    if (inspect_table(s, t, err) < 0) {
        if (!s->auto_create)
            error_wrap(err,
                       "Doris table %s.%s (sink.doris.auto.create is false, create it "
                       "first): ",
                       t->db, t->name);
        return -1;
    }
    t->two_pc = s->two_pc_all || !t->unique;
    if (!t->unique && schema_table_nkeys(t->src) > 0)
        log_warn(LOG_COMP,
                 "Doris table %s.%s is a DUPLICATE KEY table: deletes of %s.%s are "
                 "not applied there",
                 t->db, t->name, t->src_db, t->src_name);
    if (t->unique && t->seq == SEQ_NONE)
        log_warn(LOG_COMP,
                 "Doris table %s.%s has no sequence column: a replay after a restart "
                 "may bring back older versions of rows until they change again",
                 t->db, t->name);
    for (size_t i = 0; i < t->src->ncols; i++) {
        const struct schema_column *c = &t->src->cols[i];
        if (has_doris_col(t, c->name))
            continue;
        if (!s->auto_create)
            return error_set(err,
                             "Doris table %s.%s has no column %s (sink.doris.auto.create "
                             "is false: add it)",
                             t->db, t->name, c->name);
        if (add_column(s, t, c, err) < 0)
            return -1;
    }
    return 0;
}

static struct dtable *find_table(struct doris_sink *s, const struct schema_table *src)
{
    for (size_t i = 0; i < s->ntables; i++) {
        struct dtable *t = s->tables[i];
        if (t->seen == src && strcmp(t->src_name, src->name) == 0)
            return t;
    }
    for (size_t i = 0; i < s->ntables; i++) {
        struct dtable *t = s->tables[i];
        if (strcmp(t->src_name, src->name) == 0 &&
            strcmp(t->src_db ? t->src_db : "", src->db ? src->db : "") == 0 &&
            strcmp(t->src_schema ? t->src_schema : "", src->schema ? src->schema : "") == 0)
            return t;
    }
    return NULL;
}

static int add_table(struct doris_sink *s, const struct event *ev, struct dtable **out,
                     struct error *err)
{
    const struct schema_table *src = ev->table;
    struct dtable *t = mem_calloc(1, sizeof *t);
    t->src_db = mem_strdup(src->db);
    t->src_schema = mem_strdup(src->schema);
    t->src_name = mem_strdup(src->name);
    t->db = expand_name(s->db_format, src);
    t->name = expand_name(s->table_format, src);
    t->src = schema_table_copy(src);
    t->seen = src;
    t->seen_cols = src->cols;
    t->conn = ev->source.connector;
    t->seq = SEQ_HIDDEN;
    reset_lossy(t);
    for (size_t i = 0; i < s->ntables; i++) {
        if (strcmp(s->tables[i]->db, t->db) == 0 && strcmp(s->tables[i]->name, t->name) == 0) {
            error_set(err,
                      "source tables %s.%s and %s.%s both map to Doris table %s.%s: put "
                      "{schema} or {db} in sink.doris.table.name.format",
                      s->tables[i]->src_schema ? s->tables[i]->src_schema : s->tables[i]->src_db,
                      s->tables[i]->src_name, src->schema ? src->schema : src->db, src->name, t->db,
                      t->name);
            dtable_free(t);
            return -1;
        }
    }
    if (prepare_table(s, t, err) < 0) {
        dtable_free(t);
        return -1;
    }
    s->tables = mem_realloc(s->tables, (s->ntables + 1) * sizeof *s->tables);
    s->tables[s->ntables++] = t;
    *out = t;
    return 0;
}

/* ---- loads ------------------------------------------------------------------------------- */

static bool plain_name(const char *name)
{
    if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
          name[0] == '_'))
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return false;
    return true;
}

/* The delete sign goes in `columns` with the row's columns: Doris reads hidden_columns only
 * when there is no `columns` header, and partial loads need one. */
static void columns_header(const struct dtable *t, const struct segment *g, struct buf *out)
{
    bool first = true;
    buf_puts(out, "columns: ");
    for (size_t i = 0; i < t->src->ncols; i++) {
        if (!g->mask[i])
            continue;
        buf_puts(out, first ? "" : ",");
        first = false;
        if (plain_name(t->src->cols[i].name))
            buf_puts(out, t->src->cols[i].name);
        else
            doristype_ident(out, t->src->cols[i].name);
    }
    if (t->unique)
        buf_puts(out, "," DELETE_SIGN);
    if (t->unique && t->seq == SEQ_HIDDEN)
        buf_puts(out, "," ORDER_FIELD);
}

/* Fetches a failed load's error log and writes its first rejected rows to the log; *first gets
 * the first line (for the error message). */
static void log_rejected(struct doris_sink *s, const struct dtable *t, const char *label,
                         const char *url, char *first, size_t firstlen)
{
    struct doris_response resp;
    struct error err;
    doris_response_init(&resp);
    first[0] = '\0';
    if (doris_http_get(s->http, url, (long)s->timeout_ms, &resp, &err) < 0) {
        log_warn(LOG_COMP, "could not read the error log of load %s: %s", label, err.msg);
        doris_response_free(&resp);
        return;
    }
    const char *p = resp.body.data ? resp.body.data : "";
    const char *end = p + resp.body.len;
    for (int n = 0; p < end && n < REJECTED_LOG_LINES;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len > 0) {
            log_error(LOG_COMP, "rejected by %s.%s (load %s): %.*s", t->db, t->name, label,
                      (int)(len > 1000 ? 1000 : len), p);
            if (n == 0)
                snprintf(first, firstlen, "%.*s", (int)len, p);
            n++;
        }
        p += len + 1;
    }
    doris_response_free(&resp);
}

enum txn_op { TXN_COMMIT, TXN_ABORT };

/* Commits or aborts a 2PC transaction (by id, or by label when the id is unknown). */
static int txn_finish(struct doris_sink *s, const char *db, const char *table, const char *label,
                      int64_t id, enum txn_op op, struct error *err)
{
    const char *opname = op == TXN_COMMIT ? "commit" : "abort";
    char h_id[64], h_op[48], h_label[DORIS_LABEL_MAX + 16];
    const char *headers[2];
    if (id >= 0) {
        snprintf(h_id, sizeof h_id, "txn_id: %" PRId64, id);
        headers[0] = h_id;
    } else {
        snprintf(h_label, sizeof h_label, "label: %s", label);
        headers[0] = h_label;
    }
    snprintf(h_op, sizeof h_op, "txn_operation: %s", opname);
    headers[1] = h_op;
    struct doris_response resp;
    doris_response_init(&resp);
    char msg[ERROR_MSG_MAX] = "";
    int rc = -1;

    for (int64_t attempt = 0;; attempt++) {
        if (attempt > s->max_retries) {
            error_retry(err,
                        "%s of Doris transaction %" PRId64 " (label %s, table %s.%s) "
                        "failed %" PRId64 " times: %s",
                        opname, id, label, db, table, attempt, msg);
            break;
        }
        if (attempt > 0)
            sleep_ms(backoff_ms(attempt));
        struct buf url;
        buf_init(&url);
        buf_printf(&url, "http://%s/api/", fe_host(s));
        put_path(&url, db);
        buf_puts(&url, "/_stream_load_2pc");
        int prc =
            doris_http_put(s->http, url.data, headers, 2, "", 0, (long)s->timeout_ms, &resp, err);
        buf_free(&url);
        if (prc < 0) {
            snprintf(msg, sizeof msg, "%s", err->msg);
            log_warn(LOG_COMP, "%s", err->msg);
            next_fe(s);
            continue;
        }
        if (resp.status == 401 || resp.status == 403) {
            rc = auth_error(s, err);
            break;
        }
        if (resp.status >= 500) {
            snprintf(msg, sizeof msg, "HTTP %ld", resp.status);
            next_fe(s);
            continue;
        }
        enum doris_txn_outcome out;
        if (doris_txn_reply_parse(resp.body.data ? resp.body.data : "", resp.body.len, &out, msg,
                                  sizeof msg, err) < 0) {
            snprintf(msg, sizeof msg, "%s", err->msg);
            continue;
        }
        if (out == DORIS_TXN_UNAUTHORIZED) {
            rc = auth_error(s, err);
            break;
        }
        if (out == DORIS_TXN_FAILED) {
            log_warn(LOG_COMP, "%s of transaction %" PRId64 " (label %s): %s", opname, id, label,
                     msg);
            continue;
        }
        if (op == TXN_COMMIT && (out == DORIS_TXN_ALREADY_ABORTED || out == DORIS_TXN_NOT_FOUND)) {
            rc = error_set(err,
                           "Doris transaction %" PRId64 " (label %s) of table %s.%s was "
                           "aborted before dbtail could commit it (a pre-committed transaction "
                           "expires when dbtail is down too long): its rows are lost; %s",
                           id, label, db, table, msg);
            break;
        }
        if (op == TXN_ABORT && out == DORIS_TXN_ALREADY_COMMITTED)
            log_info(LOG_COMP, "transaction %" PRId64 " (label %s) was already committed", id,
                     label);
        else
            log_debug(LOG_COMP, "%s of transaction %" PRId64 " (label %s): %s", opname, id, label,
                      msg);
        rc = 0;
        break;
    }
    doris_response_free(&resp);
    return rc;
}

/* Loads one segment; retries the same label on failures that a retry may cure. */
static int load_segment(struct doris_sink *s, struct dtable *t, struct segment *g,
                        struct error *err)
{
    struct buf cols;
    buf_init(&cols);
    columns_header(t, g, &cols);
    uint64_t digest = doris_hash(DORIS_HASH_INIT, cols.data, cols.len + 1);
    digest = doris_hash(digest, g->body.data, g->body.len);
    digest = doris_hash(digest, t->salt, strlen(t->salt));
    char label[DORIS_LABEL_MAX + 1];
    doris_label(label, s->label_prefix, t->name, g->first, g->last, digest);

    char h_label[DORIS_LABEL_MAX + 16], h_timeout[48], h_ratio[64];
    const char **headers = mem_alloc((10 + s->nprops) * sizeof *headers);
    size_t nh = 0;
    snprintf(h_label, sizeof h_label, "label: %s", label);
    int64_t secs = (s->timeout_ms + 999) / 1000;
    snprintf(h_timeout, sizeof h_timeout, "timeout: %" PRId64, secs > 259200 ? 259200 : secs);
    headers[nh++] = h_label;
    headers[nh++] = "format: json";
    headers[nh++] = "read_json_by_line: true";
    headers[nh++] = cols.data;
    headers[nh++] = h_timeout;
    if (!g->full && t->unique)
        headers[nh++] = "partial_columns: true";
    if (t->unique && t->seq == SEQ_HIDDEN)
        headers[nh++] = "function_column.sequence_col: " ORDER_FIELD;
    if (t->two_pc)
        headers[nh++] = "two_phase_commit: true";
    if (s->max_filter_ratio) {
        snprintf(h_ratio, sizeof h_ratio, "max_filter_ratio: %s", s->max_filter_ratio);
        headers[nh++] = h_ratio;
    }
    for (size_t i = 0; i < s->nprops; i++)
        headers[nh++] = s->props[i];

    struct doris_response resp;
    doris_response_init(&resp);
    char last[ERROR_MSG_MAX] = "";
    bool transient = true;
    int rc = -1;
    int64_t start = now_ms();

    for (int64_t attempt = 0;; attempt++) {
        if (attempt > s->max_retries) {
            if (transient)
                error_retry(err,
                            "loading %zu rows into %s.%s (label %s) failed %" PRId64 " times: %s",
                            g->rows, t->db, t->name, label, attempt, last);
            else
                error_set(err,
                          "loading %zu rows into %s.%s (label %s) failed %" PRId64 " times: %s",
                          g->rows, t->db, t->name, label, attempt, last);
            break;
        }
        if (attempt > 0) {
            metrics_sink_retry("doris");
            sleep_ms(backoff_ms(attempt));
        }
        struct buf url;
        buf_init(&url);
        buf_printf(&url, "http://%s/api/", fe_host(s));
        put_path(&url, t->db);
        buf_putc(&url, '/');
        put_path(&url, t->name);
        buf_puts(&url, "/_stream_load");
        int prc = doris_http_put(s->http, url.data, headers, nh, g->body.data, g->body.len,
                                 (long)s->timeout_ms, &resp, err);
        buf_free(&url);
        if (prc < 0) {
            snprintf(last, sizeof last, "%s", err->msg);
            log_warn(LOG_COMP, "load %s: %s", label, err->msg);
            transient = true;
            next_fe(s);
            continue;
        }
        if (resp.status == 401 || resp.status == 403) {
            rc = auth_error(s, err);
            break;
        }
        if (resp.status >= 500) {
            snprintf(last, sizeof last, "HTTP %ld from %s", resp.status, fe_host(s));
            log_warn(LOG_COMP, "load %s: %s", label, last);
            transient = true;
            next_fe(s);
            continue;
        }
        if (resp.status != 200) {
            rc = error_set(err, "loading into %s.%s (label %s): HTTP %ld from %s: %.200s", t->db,
                           t->name, label, resp.status, fe_host(s),
                           resp.body.data ? resp.body.data : "");
            break;
        }
        struct doris_load_reply r;
        if (doris_load_reply_parse(resp.body.data ? resp.body.data : "", resp.body.len, &r, err) <
            0) {
            snprintf(last, sizeof last, "%s", err->msg);
            log_warn(LOG_COMP, "load %s: %s", label, err->msg);
            transient = true;
            continue;
        }
        if (r.unauthorized) {
            rc = auth_error(s, err);
            break;
        }
        if (r.status == DORIS_LOAD_SUCCESS || r.status == DORIS_LOAD_PUBLISH_TIMEOUT) {
            if (r.status == DORIS_LOAD_PUBLISH_TIMEOUT)
                log_info(LOG_COMP, "load %s committed, visible later (Publish Timeout)", label);
            if (r.filtered_rows > 0 && r.error_url[0]) {
                char first[512];
                log_warn(LOG_COMP,
                         "load %s into %s.%s: Doris filtered %" PRId64 " of %" PRId64
                         " rows (sink.doris.max.filter.ratio allows it)",
                         label, t->db, t->name, r.filtered_rows, r.total_rows);
                log_rejected(s, t, label, r.error_url, first, sizeof first);
            }
            if (t->two_pc) {
                if (r.txn_id < 0) {
                    rc = error_set(err, "pre-committed load %s into %s.%s has no TxnId", label,
                                   t->db, t->name);
                    break;
                }
                txn_add(&s->open, t->db, t->name, label, r.txn_id);
            }
            log_debug(LOG_COMP, "loaded %zu rows into %s.%s (label %s, %" PRId64 " ms)", g->rows,
                      t->db, t->name, label, now_ms() - start);
            metrics_sink_load("doris", g->body.len);
            rc = 0;
            break;
        }
        if (r.status == DORIS_LOAD_LABEL_EXISTS) {
            if (r.existing == DORIS_JOB_FINISHED) {
                log_info(LOG_COMP, "load %s into %s.%s was done before (Label Already Exists)",
                         label, t->db, t->name);
                rc = 0;
                break;
            }
            /* RUNNING: a pre-committed transaction left by a crash, or an attempt that timed out
             * here but still runs there. Abort it and load again, as the Flink connector does:
             * the rows are here, and the label is free again once its transaction aborted. */
            log_info(LOG_COMP,
                     "load %s into %s.%s: label in use by transaction %" PRId64
                     ", aborting it to load again",
                     label, t->db, t->name, r.txn_id);
            if (txn_finish(s, t->db, t->name, label, r.txn_id, TXN_ABORT, err) < 0) {
                rc = -1;
                break;
            }
            snprintf(last, sizeof last, "Label Already Exists: %s", r.message);
            transient = true;
            continue;
        }
        if (r.status == DORIS_LOAD_FAIL && (r.filtered_rows > 0 || r.error_url[0])) {
            char first[512] = "";
            if (r.error_url[0])
                log_rejected(s, t, label, r.error_url, first, sizeof first);
            rc = error_set(err,
                           "Doris rejected rows of %s.%s (load %s, %" PRId64 " of %" PRId64
                           " rows filtered): %s%s%.200s",
                           t->db, t->name, label, r.filtered_rows, r.total_rows, r.message,
                           first[0] ? "; first rejected: " : "", first);
            break;
        }
        /* A failure without rejected rows (a BE busy, a publish that failed, a cancelled
         * fragment) may pass on retry; the same label keeps a retry from loading twice. */
        snprintf(last, sizeof last, "%s%s", r.status == DORIS_LOAD_FE_ERROR ? "FE: " : "",
                 r.message);
        log_warn(LOG_COMP, "load %s into %s.%s failed: %s", label, t->db, t->name, last);
        transient = r.status == DORIS_LOAD_FE_ERROR || strstr(r.message, "too many versions") ||
                    strcasestr(r.message, "timeout") || strcasestr(r.message, "timed out") ||
                    strcasestr(r.message, "cancel") || strstr(r.message, "RPC");
        if (r.status == DORIS_LOAD_FE_ERROR)
            next_fe(s);
    }
    doris_response_free(&resp);
    buf_free(&cols);
    free(headers);
    if (rc < 0)
        metrics_sink_failure("doris");
    return rc;
}

/* Loads every pending segment of t in order; what loaded is dropped even when a later one
 * fails. */
static int load_table(struct doris_sink *s, struct dtable *t, struct error *err)
{
    size_t done = 0;
    int rc = 0;
    for (; done < t->nsegs; done++) {
        rc = load_segment(s, t, &t->segs[done], err);
        if (rc < 0)
            break;
        t->rows -= t->segs[done].rows;
        t->bytes -= t->segs[done].body.len;
        s->total_bytes -= t->segs[done].body.len;
        segment_free(&t->segs[done]);
    }
    memmove(t->segs, t->segs + done, (t->nsegs - done) * sizeof *t->segs);
    t->nsegs -= done;
    if (t->nsegs == 0)
        t->oldest_ms = 0;
    return rc;
}

/* ---- two-phase commit bookkeeping -------------------------------------------------------- */

static int commit_list(struct doris_sink *s, struct txn_list *l, struct error *err)
{
    while (l->n > 0) {
        struct txn *x = &l->v[0];
        if (txn_finish(s, x->db, x->table, x->label, x->id, TXN_COMMIT, err) < 0)
            return -1;
        txn_remove(l, 0);
    }
    return 0;
}

/* Commits what a saved checkpoint holds: the transactions of the state file we started from,
 * and those checkpoint() handed out (the pipeline saved them before calling us again). */
static int settle(struct doris_sink *s, struct error *err)
{
    if (commit_list(s, &s->restored, err) < 0)
        return -1;
    if (!s->reported)
        return 0;
    if (commit_list(s, &s->flushed, err) < 0)
        return -1;
    s->reported = false;
    for (size_t i = 0; i < s->ntables; i++)
        if (s->tables[i]->salt_flushed)
            s->tables[i]->salt[0] = '\0';
    return 0;
}

/* ---- schema changes ---------------------------------------------------------------------- */

static bool same_keys(const struct schema_table *a, const struct schema_table *b)
{
    if (schema_table_nkeys(a) != schema_table_nkeys(b))
        return false;
    for (size_t i = 0; i < a->ncols; i++) {
        if (!a->cols[i].key)
            continue;
        int j = schema_table_find(b, a->cols[i].name);
        if (j < 0 || !b->cols[j].key)
            return false;
    }
    return true;
}

/* The source table changed shape: bring the Doris table along (rows of the old shape are
 * loaded already). */
static int evolve(struct doris_sink *s, struct dtable *t, const struct schema_table *now,
                  struct error *err)
{
    const struct schema_table *old = t->src;
    if (t->unique && !same_keys(old, now))
        return error_set(err,
                         "the primary key of %s.%s changed: Doris cannot change the UNIQUE KEY "
                         "of %s.%s; recreate it (drop it and let dbtail create it) and "
                         "re-snapshot",
                         t->src_schema ? t->src_schema : t->src_db, t->src_name, t->db, t->name);
    if (s->auto_create) {
        for (size_t i = 0; i < now->ncols; i++) {
            const struct schema_column *c = &now->cols[i];
            int j = schema_table_find(old, c->name);
            if (j < 0) {
                if (!has_doris_col(t, c->name) && add_column(s, t, c, err) < 0)
                    return -1;
                continue;
            }
            struct buf from, to;
            buf_init(&from);
            buf_init(&to);
            doristype_column_type(&from, &old->cols[j], t->conn, c->key && t->unique);
            doristype_column_type(&to, c, t->conn, c->key && t->unique);
            int rc = 0;
            if (strcmp(from.data, to.data) != 0) {
                if (doristype_widens(from.data, to.data)) {
                    struct buf stmt;
                    buf_init(&stmt);
                    doristype_modify_column(&stmt, t->db, t->name, c, t->conn, c->key && t->unique);
                    log_info(LOG_COMP, "%s", stmt.data);
                    rc = sql_exec(s, t->db, stmt.data, NULL, err);
                    buf_free(&stmt);
                } else {
                    log_warn(LOG_COMP,
                             "column %s of %s.%s changed from %s to %s at the source; Doris "
                             "cannot convert it in place, it stays %s",
                             c->name, t->db, t->name, from.data, to.data, from.data);
                }
            }
            buf_free(&from);
            buf_free(&to);
            if (rc < 0)
                return -1;
        }
        for (size_t i = 0; i < old->ncols; i++) {
            const char *name = old->cols[i].name;
            if (schema_table_find(now, name) >= 0 || !has_doris_col(t, name))
                continue;
            struct buf stmt;
            buf_init(&stmt);
            doristype_drop_column(&stmt, t->db, t->name, name);
            log_info(LOG_COMP, "%s", stmt.data);
            int rc = sql_exec(s, t->db, stmt.data, NULL, err);
            buf_free(&stmt);
            if (rc < 0)
                return -1;
            remove_doris_col(t, name);
        }
    } else {
        for (size_t i = 0; i < now->ncols; i++)
            if (!has_doris_col(t, now->cols[i].name))
                return error_set(err,
                                 "column %s appeared in %s.%s but Doris table %s.%s has no such "
                                 "column (sink.doris.auto.create is false: add it)",
                                 now->cols[i].name, t->src_db, t->src_name, t->db, t->name);
    }
    schema_table_free(t->src);
    t->src = schema_table_copy(now);
    reset_lossy(t);
    return 0;
}

/* ---- rows -------------------------------------------------------------------------------- */

static bool present(const struct value *v)
{
    return v->kind != VALUE_ABSENT && v->kind != VALUE_UNCHANGED;
}

static struct segment *segment_for(struct dtable *t, const unsigned char *mask, bool full,
                                   bool whole)
{
    size_t n = t->src->ncols;
    if (whole) {
        for (size_t i = t->nsegs; i-- > 0;)
            if (memcmp(t->segs[i].mask, mask, n) == 0)
                return &t->segs[i];
    } else if (t->nsegs > 0 && memcmp(t->segs[t->nsegs - 1].mask, mask, n) == 0) {
        return &t->segs[t->nsegs - 1];
    }
    if (t->nsegs == t->capsegs) {
        t->capsegs = t->capsegs ? t->capsegs * 2 : 4;
        t->segs = mem_realloc(t->segs, t->capsegs * sizeof *t->segs);
    }
    struct segment *g = &t->segs[t->nsegs++];
    memset(g, 0, sizeof *g);
    g->mask = mem_alloc(n ? n : 1);
    memcpy(g->mask, mask, n);
    g->full = full;
    g->first = UINT64_MAX;
    buf_init(&g->body);
    return g;
}

/* Column i of the row written: the image's value, or for a key column that image lacks, the old
 * image's (a MySQL MINIMAL update logs the key in the before image only). */
static const struct value *cell(const struct event *ev, const struct value *vals,
                                const struct schema_table *src, size_t i)
{
    if (!present(&vals[i]) && src->cols[i].key && vals == ev->after && ev->before &&
        present(&ev->before[i]))
        return &ev->before[i];
    return &vals[i];
}

static int append_row(struct doris_sink *s, struct dtable *t, const struct event *ev,
                      struct error *err)
{
    bool del = ev->op == EVENT_DELETE;
    const struct value *vals = del ? ev->before : ev->after;
    const struct schema_table *src = t->src;
    size_t n = src->ncols;

    if (!vals) {
        log_warn(LOG_COMP, "%s event of %s.%s without a row image skipped",
                 del ? "delete" : "change", t->src_db, t->src_name);
        return 0;
    }
    if (del && !t->unique) {
        if (!t->warned_delete)
            log_warn(LOG_COMP,
                     "deletes of %s.%s are not applied: Doris table %s.%s is a "
                     "DUPLICATE KEY table (the source table has no primary key)",
                     t->src_db, t->src_name, t->db, t->name);
        t->warned_delete = true;
        return 0;
    }
    if (t->unique && t->seq == SEQ_HIDDEN && ev->order > INT64_MAX)
        return error_set(err,
                         "change order %" PRIu64 " of %s.%s does not fit Doris's bigint "
                         "sequence column",
                         ev->order, t->src_db, t->src_name);

    unsigned char stack_mask[64];
    unsigned char *mask = n <= sizeof stack_mask ? stack_mask : mem_alloc(n);
    bool full = true;
    for (size_t i = 0; i < n; i++) {
        mask[i] = present(cell(ev, vals, src, i));
        full = full && mask[i];
    }
    if (del && !full) {
        /* A delete needs only the key: drop what the old image has beyond it. */
        for (size_t i = 0; i < n; i++)
            mask[i] = src->cols[i].key;
    }
    for (size_t i = 0; i < n && t->unique; i++) {
        if (src->cols[i].key && !mask[i]) {
            if (mask != stack_mask)
                free(mask);
            return error_set(err, "a change of %s.%s lacks key column %s", t->src_db, t->src_name,
                             src->cols[i].name);
        }
    }
    /* Deletes and complete rows are whole: their order is the sequence column's business. */
    struct segment *g = segment_for(t, mask, full, full || del || !t->unique);
    if (mask != stack_mask)
        free(mask);

    size_t before = g->body.len;
    buf_putc(&g->body, '{');
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (!g->mask[i])
            continue;
        const struct schema_column *c = &src->cols[i];
        if (!first)
            buf_putc(&g->body, ',');
        first = false;
        buf_json_str(&g->body, c->name, strlen(c->name));
        buf_putc(&g->body, ':');
        if (doristype_json_value(&g->body, c, t->conn, cell(ev, vals, src, i)) &&
            !t->lossy_warned[i]) {
            t->lossy_warned[i] = true;
            log_warn(LOG_COMP,
                     "a value of %s.%s.%s has no Doris form (a date outside years "
                     "0-9999, NaN in a DECIMAL); loaded as NULL",
                     t->src_db, t->src_name, c->name);
        }
    }
    if (t->unique) {
        buf_puts(&g->body, first ? "" : ",");
        buf_puts(&g->body, del ? "\"" DELETE_SIGN "\":1" : "\"" DELETE_SIGN "\":0");
        if (t->seq == SEQ_HIDDEN) {
            buf_puts(&g->body, ",\"" ORDER_FIELD "\":");
            buf_json_uint(&g->body, ev->order);
        }
    }
    buf_puts(&g->body, "}\n");

    size_t added = g->body.len - before;
    g->rows++;
    if (ev->order < g->first)
        g->first = ev->order;
    if (ev->order > g->last)
        g->last = ev->order;
    if (t->rows == 0) {
        t->oldest_ms = now_ms();
        if (t->oldest_ms + s->interval_ms < s->next_due_ms)
            s->next_due_ms = t->oldest_ms + s->interval_ms;
    }
    t->rows++;
    t->bytes += added;
    s->total_bytes += added;
    return 0;
}

static int truncate_table(struct doris_sink *s, struct dtable *t, struct error *err)
{
    /* Rows and pre-committed loads from before the truncate would only be emptied by it. */
    drop_pending(s, t);
    struct txn_list *lists[] = {&s->open, &s->flushed};
    for (size_t k = 0; k < 2; k++) {
        struct txn_list *l = lists[k];
        for (size_t i = 0; i < l->n;) {
            struct txn *x = &l->v[i];
            if (strcmp(x->db, t->db) != 0 || strcmp(x->table, t->name) != 0) {
                i++;
                continue;
            }
            if (txn_finish(s, x->db, x->table, x->label, x->id, TXN_ABORT, err) < 0)
                return -1;
            txn_remove(l, i);
        }
    }
    struct buf stmt;
    buf_init(&stmt);
    buf_puts(&stmt, "TRUNCATE TABLE ");
    doristype_ident(&stmt, t->db);
    buf_putc(&stmt, '.');
    doristype_ident(&stmt, t->name);
    log_info(LOG_COMP, "%s", stmt.data);
    int rc = sql_exec(s, t->db, stmt.data, NULL, err);
    buf_free(&stmt);
    if (rc < 0)
        return -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t seed[4] = {(uint64_t)ts.tv_sec, (uint64_t)ts.tv_nsec, (uint64_t)getpid(),
                        ++s->salt_counter};
    snprintf(t->salt, sizeof t->salt, "%016" PRIx64,
             doris_hash(DORIS_HASH_INIT, seed, sizeof seed));
    t->salt_flushed = false;
    return 0;
}

/* Loads tables until the rows held in memory fit the global cap. */
static int enforce_cap(struct doris_sink *s, struct error *err)
{
    while (s->total_bytes > (size_t)s->total_cap) {
        struct dtable *big = NULL;
        for (size_t i = 0; i < s->ntables; i++)
            if (!big || s->tables[i]->bytes > big->bytes)
                big = s->tables[i];
        if (!big || big->bytes == 0)
            break;
        if (load_table(s, big, err) < 0)
            return -1;
    }
    return 0;
}

/* ---- sink operations --------------------------------------------------------------------- */

static int doris_write(struct sink *sk, const struct event *ev, struct error *err)
{
    struct doris_sink *s = (struct doris_sink *)sk;
    switch (ev->op) {
    case EVENT_CREATE:
    case EVENT_UPDATE:
    case EVENT_DELETE:
    case EVENT_READ:
    case EVENT_TRUNCATE:
        break;
    case EVENT_DDL:
    case EVENT_HEARTBEAT:
    case EVENT_COMMIT:
        /* DDL reaches Doris through the schema of the next row, not through its text. */
        return 0;
    }
    if (!ev->table)
        return error_set(err, "a change event without a table");
    if (settle(s, err) < 0)
        return -1;

    struct dtable *t = find_table(s, ev->table);
    if (!t) {
        if (add_table(s, ev, &t, err) < 0)
            return -1;
    } else if (t->seen != ev->table || t->seen_cols != ev->table->cols ||
               t->src->ncols != ev->table->ncols) {
        if (!schema_table_equal(t->src, ev->table)) {
            if (load_table(s, t, err) < 0 || evolve(s, t, ev->table, err) < 0)
                return -1;
        }
        t->seen = ev->table;
        t->seen_cols = ev->table->cols;
    }

    if (ev->op == EVENT_TRUNCATE)
        return truncate_table(s, t, err);
    if (append_row(s, t, ev, err) < 0)
        return -1;
    if (t->rows >= (size_t)s->batch_rows || t->bytes >= (size_t)s->batch_bytes)
        return load_table(s, t, err);
    return enforce_cap(s, err);
}

static int due_loads(struct doris_sink *s, struct error *err)
{
    if (settle(s, err) < 0)
        return -1;
    int64_t now = now_ms();
    if (now < s->next_due_ms)
        return 0;
    s->next_due_ms = INT64_MAX;
    for (size_t i = 0; i < s->ntables; i++) {
        struct dtable *t = s->tables[i];
        if (t->rows > 0 && now - t->oldest_ms >= s->interval_ms && load_table(s, t, err) < 0) {
            s->next_due_ms = now;
            return -1;
        }
        if (t->rows > 0 && t->oldest_ms + s->interval_ms < s->next_due_ms)
            s->next_due_ms = t->oldest_ms + s->interval_ms;
    }
    return 0;
}

static int doris_commit(struct sink *sk, const struct event *ev, struct error *err)
{
    (void)ev;
    return due_loads((struct doris_sink *)sk, err);
}

static int doris_poll(struct sink *sk, struct error *err)
{
    return due_loads((struct doris_sink *)sk, err);
}

static int doris_flush(struct sink *sk, struct error *err)
{
    struct doris_sink *s = (struct doris_sink *)sk;
    if (settle(s, err) < 0)
        return -1;
    for (size_t i = 0; i < s->ntables; i++)
        if (load_table(s, s->tables[i], err) < 0)
            return -1;
    for (size_t i = 0; i < s->open.n; i++) {
        struct txn *x = &s->open.v[i];
        txn_add(&s->flushed, x->db, x->table, x->label, x->id);
    }
    txn_list_free(&s->open);
    for (size_t i = 0; i < s->ntables; i++)
        if (s->tables[i]->salt[0])
            s->tables[i]->salt_flushed = true;
    return 0;
}

static void txns_to_json(json_t *arr, const struct txn_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:I}", "db", l->v[i].db, "table",
                                             l->v[i].table, "label", l->v[i].label, "txn_id",
                                             (json_int_t)l->v[i].id));
}

static json_t *doris_checkpoint(struct sink *sk)
{
    struct doris_sink *s = (struct doris_sink *)sk;
    if (s->restored.n == 0 && s->flushed.n == 0)
        return NULL;
    json_t *arr = json_array();
    txns_to_json(arr, &s->restored);
    txns_to_json(arr, &s->flushed);
    s->reported = true;
    return json_pack("{s:o}", "pending_2pc", arr);
}

static int doris_check(struct sink *sk, FILE *out)
{
    struct doris_sink *s = (struct doris_sink *)sk;
    int failures = 0;
    bool per_table = strchr(s->db_format, '{') != NULL;
    int64_t retries = s->max_retries;
    /* A check reports what it finds; it does not wait for a server to come back. */
    s->max_retries = 0;
    for (size_t i = 0; i < s->nfenodes; i++) {
        struct error err;
        json_t *rows = NULL;
        s->fe = i;
        if (sql_exec(s, "information_schema", "SHOW DATABASES", &rows, &err) < 0) {
            failures++;
            fprintf(out,
                    "FAIL doris: %s: check sink.doris.fenodes, sink.doris.username and "
                    "sink.doris.password\n",
                    err.msg);
            continue;
        }
        fprintf(out, "ok doris FE %s reachable, user %s accepted\n", s->fenodes[i], s->user);
        if (!per_table && failures == 0) {
            bool found = false;
            size_t k;
            json_t *row;
            json_array_foreach(rows, k, row)
            {
                const char *name = json_string_value(json_array_get(row, 0));
                found = found || (name && strcmp(name, s->db_format) == 0);
            }
            if (found)
                fprintf(out, "ok doris database %s exists\n", s->db_format);
            else if (s->auto_create)
                fprintf(out,
                        "ok doris database %s does not exist yet; dbtail creates it "
                        "(sink.doris.auto.create)\n",
                        s->db_format);
            else {
                failures++;
                fprintf(out,
                        "FAIL doris database %s does not exist: create it or set "
                        "sink.doris.auto.create=true\n",
                        s->db_format);
            }
            per_table = true;
        }
        json_decref(rows);
    }
    s->fe = 0;
    s->max_retries = retries;
    return failures;
}

static void doris_free(struct sink *sk)
{
    struct doris_sink *s = (struct doris_sink *)sk;
    for (size_t i = 0; i < s->ntables; i++)
        dtable_free(s->tables[i]);
    free(s->tables);
    doris_http_free(s->http);
    free_strv(s->fenodes, s->nfenodes);
    free(s->user);
    free(s->db_format);
    free(s->table_format);
    free(s->label_prefix);
    free(s->max_filter_ratio);
    free_strv(s->props, s->nprops);
    free_strv(s->tprop_names, s->ntprops);
    free_strv(s->tprop_values, s->ntprops);
    free_strv(s->dbs_ready, s->ndbs_ready);
    txn_list_free(&s->open);
    txn_list_free(&s->flushed);
    txn_list_free(&s->restored);
    free(s);
}

static const struct sink_ops doris_ops = {
    .name = "doris",
    .write = doris_write,
    .commit = doris_commit,
    .poll = doris_poll,
    .flush = doris_flush,
    .checkpoint = doris_checkpoint,
    .check = doris_check,
    .free = doris_free,
};

/* ---- construction ------------------------------------------------------------------------ */

/* Headers dbtail sets itself, or that would break what it relies on (group commit ignores
 * labels; merge_type/delete/hidden_columns fight the delete sign it sends). */
static const char *const reserved_headers[] = {"label",
                                               "format",
                                               "read_json_by_line",
                                               "strip_outer_array",
                                               "columns",
                                               "jsonpaths",
                                               "json_root",
                                               "timeout",
                                               "partial_columns",
                                               "unique_key_update_mode",
                                               "function_column.sequence_col",
                                               "two_phase_commit",
                                               "max_filter_ratio",
                                               "group_commit",
                                               "merge_type",
                                               "delete",
                                               "hidden_columns",
                                               "fuzzy_parse",
                                               "where",
                                               NULL};

struct prop_ctx {
    struct doris_sink *s;
    const char *refused; /* the reserved header a property tried to set */
};

static int add_header_prop(void *ctx, const char *key, const char *value)
{
    struct prop_ctx *pc = ctx;
    struct doris_sink *s = pc->s;
    const char *name = key + strlen("sink.doris.properties.");
    for (const char *const *r = reserved_headers; *r; r++) {
        if (streq_ci(name, *r)) {
            pc->refused = *r;
            return -1;
        }
    }
    s->props = mem_realloc(s->props, (s->nprops + 1) * sizeof *s->props);
    struct buf h;
    buf_init(&h);
    buf_printf(&h, "%s: %s", name, value);
    s->props[s->nprops++] = buf_take(&h);
    return 0;
}

static int add_table_prop(void *ctx, const char *key, const char *value)
{
    struct doris_sink *s = ctx;
    s->tprop_names = mem_realloc(s->tprop_names, (s->ntprops + 1) * sizeof *s->tprop_names);
    s->tprop_values = mem_realloc(s->tprop_values, (s->ntprops + 1) * sizeof *s->tprop_values);
    s->tprop_names[s->ntprops] = mem_strdup(key + strlen("sink.doris.table.properties."));
    s->tprop_values[s->ntprops++] = mem_strdup(value);
    return 0;
}

static int parse_fenodes(struct doris_sink *s, const char *list, struct error *err)
{
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *stop = end;
        while (stop > p && stop[-1] == ' ')
            stop--;
        if (strncmp(p, "http://", 7) == 0)
            p += 7;
        char *node = mem_strndup(p, (size_t)(stop - p));
        size_t len = strlen(node);
        if (len > 0 && node[len - 1] == '/')
            node[len - 1] = '\0';
        if (!strchr(node, ':')) {
            error_set(err, "sink.doris.fenodes: \"%s\" lacks the HTTP port (host:8030)", node);
            free(node);
            return -1;
        }
        s->fenodes = mem_realloc(s->fenodes, (s->nfenodes + 1) * sizeof *s->fenodes);
        s->fenodes[s->nfenodes++] = node;
        p = end;
    }
    if (s->nfenodes == 0)
        return error_set(err, "sink.doris.fenodes: no FE given (host:8030, comma-separated)");
    return 0;
}

static int restore(struct doris_sink *s, const json_t *saved, struct error *err)
{
    const json_t *arr = json_object_get(saved, "pending_2pc");
    if (!arr)
        return 0;
    if (!json_is_array(arr))
        return error_set(err, "state file: doris checkpoint pending_2pc is not an array");
    size_t i;
    const json_t *x;
    json_array_foreach(arr, i, x)
    {
        const char *db = json_string_value(json_object_get(x, "db"));
        const char *table = json_string_value(json_object_get(x, "table"));
        const char *label = json_string_value(json_object_get(x, "label"));
        const json_t *id = json_object_get(x, "txn_id");
        if (!db || !table || !label || !json_is_integer(id))
            return error_set(err,
                             "state file: doris checkpoint pending_2pc[%zu] lacks db, "
                             "table, label or txn_id",
                             i);
        txn_add(&s->restored, db, table, label, (int64_t)json_integer_value(id));
    }
    return 0;
}

static int configure(struct doris_sink *s, const struct config *cfg, struct error *err)
{
    const char *v;
    if (config_required(cfg, "sink.doris.fenodes", &v, err) < 0 || parse_fenodes(s, v, err) < 0)
        return -1;
    if (config_required(cfg, "sink.doris.database", &v, err) < 0)
        return -1;
    s->db_format = mem_strdup(v);
    s->table_format = mem_strdup(config_str(cfg, "sink.doris.table.name.format", "{table}"));
    s->user = mem_strdup(config_str(cfg, "sink.doris.username", "root"));
    const char *name = config_name(cfg);
    s->label_prefix = mem_strdup(name && *name ? name : "dbtail");
    if (config_int(cfg, "sink.doris.batch.rows", 100000, 1, INT64_MAX, &s->batch_rows, err) < 0 ||
        config_int(cfg, "sink.doris.batch.bytes", 90 * 1024 * 1024, 1, INT64_MAX / 4,
                   &s->batch_bytes, err) < 0 ||
        config_int(cfg, "sink.doris.flush.interval.ms", 1000, 0, INT32_MAX, &s->interval_ms, err) <
            0 ||
        config_int(cfg, "sink.doris.max.retries", 10, 0, INT32_MAX, &s->max_retries, err) < 0 ||
        config_int(cfg, "sink.doris.request.timeout.ms", 120000, 1, INT32_MAX, &s->timeout_ms,
                   err) < 0 ||
        config_bool(cfg, "sink.doris.auto.create", true, &s->auto_create, err) < 0 ||
        config_bool(cfg, "sink.doris.two.phase.commit", false, &s->two_pc_all, err) < 0)
        return -1;
    /* Every table may hold a full batch; past twice that, the biggest is loaded early. */
    s->total_cap = s->batch_bytes * 2;

    v = config_str(cfg, "sink.doris.max.filter.ratio", "0");
    char *end;
    double ratio = strtod(v, &end);
    if (end == v || *end != '\0' || !(ratio >= 0 && ratio <= 1))
        return error_set(err, "sink.doris.max.filter.ratio: \"%s\" is not a number in [0, 1]", v);
    if (ratio > 0)
        s->max_filter_ratio = mem_strdup(v);

    v = config_str(cfg, "sink.doris.buckets", "auto");
    if (streq_ci(v, "auto")) {
        s->buckets = 0;
    } else {
        long b = strtol(v, &end, 10);
        if (end == v || *end != '\0' || b < 1 || b > INT32_MAX)
            return error_set(err,
                             "sink.doris.buckets: \"%s\" is neither auto nor a positive "
                             "number",
                             v);
        s->buckets = (int)b;
    }

    struct prop_ctx pc = {s, NULL};
    if (config_each(cfg, "sink.doris.properties.", add_header_prop, &pc) < 0)
        return error_set(err,
                         "sink.doris.properties.%s: dbtail sets this Stream Load header itself "
                         "or it would break exactly-once loads; remove it",
                         pc.refused);
    if (config_each(cfg, "sink.doris.table.properties.", add_table_prop, s) < 0)
        return -1;
    return 0;
}

int sink_doris_new(const struct config *cfg, const struct render *rd, const json_t *saved,
                   struct sink **out, struct error *err)
{
    (void)rd;
    struct doris_sink *s = mem_calloc(1, sizeof *s);
    s->base.ops = &doris_ops;
    s->next_due_ms = INT64_MAX;
    if (configure(s, cfg, err) < 0 || restore(s, saved, err) < 0) {
        doris_free(&s->base);
        return -1;
    }
    s->http = doris_http_new(s->user, config_str(cfg, "sink.doris.password", ""));
    if (!s->http) {
        doris_free(&s->base);
        return error_set(err, "could not set up libcurl for the doris sink");
    }
    *out = &s->base;
    return 0;
}
