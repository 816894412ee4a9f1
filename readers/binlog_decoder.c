/* binlog_decoder: binlog events to change events (see binlog_decoder.h). */
#include "binlog_decoder.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/mem.h"

struct table_entry {
    uint64_t table_id;
    struct binlog_table *tm;
    struct binlog_decoder_table dt;
};

/* Where the change events of one rows event come from. */
struct rows_state {
    bool active;
    struct binlog_rows rows;
    const struct table_entry *te;
    struct value *before_full, *after_full; /* TABLE_MAP columns */
    size_t cap_full;    /* of the three arrays: the most columns of a TABLE_MAP or schema */
    int32_t row;        /* index of the row being emitted */
    size_t *zero_dates; /* the schema's NOT NULL date columns (see project); cap_full */
    size_t nzero_dates;
    size_t *keys; /* the schema's key columns (see key_changed); cap_full */
    size_t nkeys;
    bool pending_create; /* the CREATE half of a key-changing update is due */
    const struct value *pending_after;
};

enum query_kind { Q_BEGIN, Q_END, Q_DDL, Q_OTHER, Q_IGNORE };

struct binlog_decoder {
    struct binlog_decoder_opts opts;
    struct binlog_fde fde;
    struct binlog_fde inner_fde; /* events inside a TRANSACTION_PAYLOAD: no checksums */
    char *file;
    int64_t file_index; /* binlog_file_index(file), for the order of every change */
    uint64_t pos;
    struct gtid_set *gtids; /* NULL when unknown */
    bool mariadb;

    struct table_entry *tables;
    size_t ntables;

    /* The raw event being decoded (borrowed) and its parts. */
    const uint8_t *ev;
    size_t ev_len;
    bool ev_pending;
    struct binlog_header hdr;
    uint64_t ev_start; /* position of the outer event in its file */
    uint32_t ev_size;  /* size of the outer event */
    uint64_t k;        /* changes the outer event has produced */

    /* Inflated TRANSACTION_PAYLOAD and the offset of its next inner event. */
    struct buf payload;
    size_t payload_off;
    bool payload_active;

    struct buf scratch; /* inflated MariaDB rows or query text */
    struct rows_state rs;
    struct arena *arena;

    /* The transaction being read. */
    bool in_txn;
    bool have_gtid;
    char gtid[80];
    /* Without a GTID, Debezium names a transaction by where its BEGIN is: "file=F,pos=P"
     * (BinlogOffsetContext's NON_GTID_TRANSACTION_ID_FORMAT); empty outside one. */
    char txn_id[300];
    uint8_t gtid_sid[16];
    uint64_t gtid_gno;
    uint32_t gtid_domain, gtid_server;
    uint64_t gtid_seq;
    int64_t thread;
    struct buf query;
    bool have_query;
    size_t txn_changes;
    size_t last_txn_changes;

    /* Events produced by a single binlog event (DDL, COMMIT, HEARTBEAT), served in order. */
    struct event queue[2];
    size_t nqueue, qhead;
    struct event out;
    char *ddl_db;
    json_t *position;

    int skipped;
    bool skim;
    uint32_t last_server_id;
    uint32_t last_timestamp;
};

struct binlog_decoder *binlog_decoder_new(const struct binlog_decoder_opts *opts)
{
    struct binlog_decoder *d = mem_calloc(1, sizeof *d);
    d->opts = *opts;
    binlog_fde_default(&d->fde, BINLOG_CHECKSUM_OFF);
    d->file = mem_strdup("");
    d->file_index = -1;
    d->arena = arena_new();
    d->thread = -1;
    d->skipped = -1;
    buf_init(&d->payload);
    buf_init(&d->scratch);
    buf_init(&d->query);
    return d;
}

static void clear_tables(struct binlog_decoder *d)
{
    for (size_t i = 0; i < d->ntables; i++)
        binlog_table_free(d->tables[i].tm);
    free(d->tables);
    d->tables = NULL;
    d->ntables = 0;
}

void binlog_decoder_free(struct binlog_decoder *d)
{
    if (d == NULL)
        return;
    clear_tables(d);
    free(d->file);
    gtid_set_free(d->gtids);
    buf_free(&d->payload);
    buf_free(&d->scratch);
    buf_free(&d->query);
    free(d->rs.before_full);
    free(d->rs.after_full);
    free(d->rs.zero_dates);
    free(d->rs.keys);
    arena_free(d->arena);
    free(d->ddl_db);
    json_decref(d->position);
    free(d);
}

void binlog_decoder_start(struct binlog_decoder *d, const char *file, uint64_t pos,
                          enum binlog_checksum checksum, const struct gtid_set *gtids, bool mariadb)
{
    free(d->file);
    d->file = mem_strdup(file ? file : "");
    d->file_index = binlog_file_index(d->file);
    d->pos = pos;
    binlog_fde_default(&d->fde, checksum);
    d->mariadb = mariadb;
    gtid_set_free(d->gtids);
    d->gtids = gtids ? gtid_set_copy(gtids) : NULL;
    clear_tables(d);
    d->in_txn = false;
    d->have_gtid = false;
    d->txn_id[0] = '\0';
    d->ev_pending = false;
    d->payload_active = false;
    d->rs.active = false;
    d->nqueue = d->qhead = 0;
}

const char *binlog_decoder_file(const struct binlog_decoder *d)
{
    return d->file;
}

uint64_t binlog_decoder_pos(const struct binlog_decoder *d)
{
    return d->pos;
}

uint64_t binlog_decoder_event_end(const struct binlog_decoder *d)
{
    return d->ev_start + d->ev_size;
}

const struct gtid_set *binlog_decoder_gtids(const struct binlog_decoder *d)
{
    return d->gtids;
}

bool binlog_decoder_in_transaction(const struct binlog_decoder *d)
{
    return d->in_txn;
}

size_t binlog_decoder_txn_changes(const struct binlog_decoder *d)
{
    return d->last_txn_changes;
}

void binlog_decoder_skim(struct binlog_decoder *d, bool skim)
{
    d->skim = skim;
}

int binlog_decoder_skipped(const struct binlog_decoder *d)
{
    return d->skipped;
}

const struct binlog_fde *binlog_decoder_fde(const struct binlog_decoder *d)
{
    return &d->fde;
}

uint32_t binlog_decoder_server_id(const struct binlog_decoder *d)
{
    return d->last_server_id;
}

uint32_t binlog_decoder_timestamp(const struct binlog_decoder *d)
{
    return d->last_timestamp;
}

int64_t binlog_file_index(const char *file)
{
    const char *dot = strrchr(file, '.');
    if (dot == NULL || dot[1] == '\0')
        return -1;
    int64_t v = 0;
    for (const char *p = dot + 1; *p; p++) {
        if (!isdigit((unsigned char)*p) || v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v;
}

#define ORDER_FILE_BITS 20
#define ORDER_POS_SHIFT 11

static uint64_t order_encode(int64_t idx, uint64_t pos, uint64_t k)
{
    if (idx < 0)
        idx = 0;
    if ((uint64_t)idx >= (UINT64_C(1) << ORDER_FILE_BITS) || pos >= (UINT64_C(1) << 32))
        return 0;
    uint64_t low = (pos << ORDER_POS_SHIFT) + k;
    if (low >= (UINT64_C(1) << 43))
        return 0;
    return (uint64_t)idx << 43 | low;
}

uint64_t binlog_order(const char *file, uint64_t pos, uint64_t k)
{
    return order_encode(binlog_file_index(file), pos, k);
}

/* Queries ---------------------------------------------------------------------------------- */

/* Skips whitespace and comments; a versioned comment's code counts as code. */
static const char *skip_space(const char *p, const char *end)
{
    for (;;) {
        while (p < end && isspace((unsigned char)*p))
            p++;
        if (end - p >= 3 && p[0] == '/' && p[1] == '*' && p[2] == '!') {
            p += 3;
            while (p < end && isdigit((unsigned char)*p))
                p++;
            continue;
        }
        if (end - p >= 2 && p[0] == '/' && p[1] == '*') {
            const char *q = p + 2;
            while (q + 1 < end && !(q[0] == '*' && q[1] == '/'))
                q++;
            p = q + 1 < end ? q + 2 : end;
            continue;
        }
        if ((end - p >= 2 && p[0] == '-' && p[1] == '-') || (p < end && p[0] == '#')) {
            while (p < end && *p != '\n')
                p++;
            continue;
        }
        return p;
    }
}

static bool word_is(const char **pp, const char *end, const char *w)
{
    const char *p = skip_space(*pp, end);
    size_t n = strlen(w);
    if ((size_t)(end - p) < n || strncasecmp(p, w, n) != 0)
        return false;
    if (p + n < end && (isalnum((unsigned char)p[n]) || p[n] == '_'))
        return false;
    *pp = p + n;
    return true;
}

static enum query_kind classify(const char *sql, size_t len)
{
    const char *p = sql, *end = sql + len;
    if (word_is(&p, end, "BEGIN"))
        return Q_BEGIN;
    if (word_is(&p, end, "COMMIT"))
        return Q_END;
    if (word_is(&p, end, "ROLLBACK"))
        return word_is(&p, end, "TO") ? Q_IGNORE : Q_END;
    if (word_is(&p, end, "SAVEPOINT") || word_is(&p, end, "RELEASE"))
        return Q_IGNORE;
    if (word_is(&p, end, "XA")) {
        if (word_is(&p, end, "START") || word_is(&p, end, "BEGIN"))
            return Q_BEGIN;
        if (word_is(&p, end, "COMMIT") || word_is(&p, end, "ROLLBACK"))
            return Q_END;
        return Q_IGNORE;
    }
    const char *q = p;
    if (word_is(&q, end, "CREATE") || word_is(&q, end, "ALTER") || word_is(&q, end, "DROP")) {
        const char *r = q;
        if (word_is(&r, end, "USER") || word_is(&r, end, "ROLE") || word_is(&r, end, "SERVER"))
            return Q_OTHER;
        return Q_DDL;
    }
    if (word_is(&q, end, "RENAME")) {
        const char *r = q;
        return word_is(&r, end, "USER") ? Q_OTHER : Q_DDL;
    }
    if (word_is(&q, end, "TRUNCATE"))
        return Q_DDL;
    return Q_OTHER;
}

/* Reads an identifier (plain or `quoted`) into out; false when there is none. */
static bool ident(const char **pp, const char *end, struct buf *out)
{
    const char *p = skip_space(*pp, end);
    buf_reset(out);
    if (p < end && *p == '`') {
        p++;
        while (p < end) {
            if (*p == '`' && p + 1 < end && p[1] == '`') {
                buf_putc(out, '`');
                p += 2;
            } else if (*p == '`') {
                p++;
                break;
            } else {
                buf_putc(out, *p++);
            }
        }
    } else {
        while (p < end &&
               (isalnum((unsigned char)*p) || *p == '_' || *p == '$' || (unsigned char)*p >= 0x80))
            buf_putc(out, *p++);
    }
    *pp = p;
    return out->len > 0;
}

/* The database a schema statement is about when it runs without a default one: the name of
 * CREATE/DROP/ALTER DATABASE, else the qualifier of the first table named after TABLE (or ON,
 * for indexes). Empty when the statement names none. */
static void ddl_database(const char *sql, size_t len, struct buf *out)
{
    const char *p = sql, *end = sql + len;
    struct buf word;
    buf_init(&word);
    buf_reset(out);
    while (p < end) {
        const char *before = p;
        if (!ident(&p, end, &word)) {
            p = skip_space(p, end);
            if (p == before)
                p++;
            continue;
        }
        bool database =
            strcasecmp(word.data, "DATABASE") == 0 || strcasecmp(word.data, "SCHEMA") == 0;
        if (!database && strcasecmp(word.data, "TABLE") != 0 && strcasecmp(word.data, "ON") != 0)
            continue;
        if (word_is(&p, end, "IF")) {
            (void)word_is(&p, end, "NOT");
            (void)word_is(&p, end, "EXISTS");
        }
        if (!ident(&p, end, out))
            break;
        if (database)
            break;
        const char *q = skip_space(p, end);
        if (q >= end || *q != '.')
            buf_reset(out);
        break;
    }
    buf_free(&word);
}

/* Events ----------------------------------------------------------------------------------- */

static void fill_source(struct binlog_decoder *d, struct event *e, uint32_t timestamp,
                        uint32_t server_id)
{
    memset(&e->source, 0, sizeof e->source);
    e->source.connector = d->opts.connector;
    e->source.snapshot = SNAPSHOT_FALSE;
    e->source.ts_us = (int64_t)timestamp * 1000000;
    e->source.txid = -1;
    e->source.server_id = server_id;
    e->source.gtid = d->have_gtid ? d->gtid : NULL;
    e->source.file = d->file;
    e->source.pos = d->ev_start;
    e->source.thread = d->thread;
    e->source.query = d->opts.include_query && d->have_query ? d->query.data : NULL;
    e->txn_id = d->have_gtid ? d->gtid : d->txn_id[0] ? d->txn_id : NULL;
}

static inline int order_of(struct binlog_decoder *d, uint64_t *order, struct error *err)
{
    uint64_t o = order_encode(d->file_index, d->ev_start, d->k);
    if (o == 0 || d->k >= ((uint64_t)d->ev_size << ORDER_POS_SHIFT))
        return error_set(err,
                         "change %" PRIu64 " of the event at %s:%" PRIu64
                         " is beyond what the change order can encode (file suffix < 2^20, "
                         "position < 4 GiB, 2048 changes a byte)",
                         d->k, d->file, d->ev_start);
    *order = o;
    return 0;
}

static struct event *queue_push(struct binlog_decoder *d)
{
    struct event *e = &d->queue[d->nqueue++];
    memset(e, 0, sizeof *e);
    return e;
}

static void end_transaction(struct binlog_decoder *d)
{
    if (d->have_gtid && d->gtids) {
        if (gtid_set_is_mariadb(d->gtids))
            gtid_set_add_mariadb(d->gtids, d->gtid_domain, d->gtid_server, d->gtid_seq);
        else
            gtid_set_add_mysql(d->gtids, d->gtid_sid, d->gtid_gno);
    }
    d->last_txn_changes = d->txn_changes;
    d->txn_changes = 0;
    d->in_txn = false;
}

/* Queues the COMMIT that ends the current transaction; its position is the end of the outer
 * event, where the next transaction starts. */
static int queue_commit(struct binlog_decoder *d, struct error *err)
{
    struct event *e = queue_push(d);
    e->op = EVENT_COMMIT;
    fill_source(d, e, d->hdr.timestamp, d->hdr.server_id);
    if (order_of(d, &e->order, err) < 0)
        return -1;
    end_transaction(d);
    uint64_t resume = d->ev_start + d->ev_size;
    json_t *pos = json_object();
    json_object_set_new(pos, "file", json_string(d->file));
    json_object_set_new(pos, "pos", json_integer((json_int_t)resume));
    if (d->gtids && !gtid_set_is_empty(d->gtids)) {
        struct buf b;
        buf_init(&b);
        gtid_set_format(d->gtids, &b);
        json_object_set_new(pos, "gtids", json_string(b.data ? b.data : ""));
        buf_free(&b);
    }
    json_object_set_new(pos, "server_id", json_integer(d->hdr.server_id));
    json_object_set_new(pos, "ts_sec", json_integer(d->hdr.timestamp));
    json_decref(d->position);
    d->position = pos;
    e->position = pos;
    d->have_gtid = false;
    d->txn_id[0] = '\0';
    d->have_query = false;
    d->thread = -1;
    return 0;
}

static int on_query(struct binlog_decoder *d, uint8_t type, struct cursor *body, struct error *err)
{
    struct binlog_query q;
    if (binlog_parse_query(&d->fde, type, body, &d->scratch, &q, err) < 0)
        return -1;
    enum query_kind k = classify(q.sql, q.sql_len);
    switch (k) {
    case Q_BEGIN:
        d->in_txn = true;
        d->thread = q.thread_id;
        if (!d->have_gtid)
            snprintf(d->txn_id, sizeof d->txn_id, "file=%s,pos=%" PRIu64, d->file, d->ev_start);
        return 0;
    case Q_END:
        d->thread = q.thread_id;
        return queue_commit(d, err);
    case Q_IGNORE:
        return 0;
    case Q_DDL: {
        d->thread = q.thread_id;
        struct event *e = queue_push(d);
        e->op = EVENT_DDL;
        fill_source(d, e, d->hdr.timestamp, d->hdr.server_id);
        /* The statement is what the source block's query shows for a schema change. */
        e->source.query = NULL;
        if (order_of(d, &e->order, err) < 0)
            return -1;
        d->k++;
        free(d->ddl_db);
        if (q.db_len > 0) {
            d->ddl_db = mem_strndup(q.db, q.db_len);
        } else {
            struct buf db;
            buf_init(&db);
            ddl_database(q.sql, q.sql_len, &db);
            d->ddl_db = mem_strndup(db.data ? db.data : "", db.len);
            buf_free(&db);
        }
        e->ddl_db = d->ddl_db;
        /* The text must be NUL-terminated and outlive the raw event only until next(). */
        e->ddl = arena_dup(d->arena, q.sql, q.sql_len);
        if (!d->in_txn)
            return queue_commit(d, err);
        return 0;
    }
    case Q_OTHER:
        /* A statement logged as text outside BEGIN is its own transaction. */
        if (!d->in_txn) {
            d->thread = q.thread_id;
            return queue_commit(d, err);
        }
        return 0;
    }
    return 0;
}

static struct table_entry *find_table(struct binlog_decoder *d, uint64_t id)
{
    for (size_t i = 0; i < d->ntables; i++)
        if (d->tables[i].table_id == id)
            return &d->tables[i];
    return NULL;
}

static int on_table_map(struct binlog_decoder *d, const struct binlog_fde *fde, struct cursor *body,
                        struct error *err)
{
    struct binlog_table *tm;
    if (binlog_parse_table_map(fde, body, &tm, err) < 0)
        return -1;
    struct binlog_decoder_table dt = {0};
    if (d->opts.table_map && d->opts.table_map(d->opts.ctx, tm, &dt, err) < 0) {
        binlog_table_free(tm);
        return -1;
    }
    struct table_entry *te = find_table(d, tm->table_id);
    if (te == NULL) {
        d->tables = mem_realloc(d->tables, (d->ntables + 1) * sizeof *d->tables);
        te = &d->tables[d->ntables++];
    } else {
        binlog_table_free(te->tm);
    }
    /* as the owner may have completed the column descriptions */
    binlog_table_prepare(tm);
    te->table_id = tm->table_id;
    te->tm = tm;
    te->dt = dt;
    return 0;
}

static int on_rows(struct binlog_decoder *d, const struct binlog_fde *fde, uint8_t type,
                   struct cursor *body, uint32_t timestamp, uint32_t server_id, struct error *err)
{
    struct rows_state *rs = &d->rs;
    if (binlog_parse_rows(fde, type, body, &d->scratch, &rs->rows, err) < 0)
        return -1;
    const struct table_entry *te = find_table(d, rs->rows.table_id);
    if (te == NULL)
        return error_set(err, "%s for table id %" PRIu64 " has no TABLE_MAP before it",
                         binlog_type_name(type), rs->rows.table_id);
    if (te->dt.schema == NULL)
        return 0;
    d->in_txn = true;
    if (d->skim)
        return 0;
    const struct schema_table *s = te->dt.schema;
    size_t need = te->tm->ncols > s->ncols ? te->tm->ncols : s->ncols;
    if (need > rs->cap_full) {
        rs->cap_full = need;
        rs->before_full = mem_realloc(rs->before_full, rs->cap_full * sizeof(struct value));
        rs->after_full = mem_realloc(rs->after_full, rs->cap_full * sizeof(struct value));
        rs->zero_dates = mem_realloc(rs->zero_dates, rs->cap_full * sizeof *rs->zero_dates);
        rs->keys = mem_realloc(rs->keys, rs->cap_full * sizeof *rs->keys);
    }
    rs->te = te;
    rs->row = -1;
    rs->pending_create = false;
    rs->active = true;
    rs->nzero_dates = 0;
    rs->nkeys = 0;
    for (size_t i = 0; i < s->ncols; i++) {
        if (s->cols[i].key)
            rs->keys[rs->nkeys++] = i;
        enum value_kind k = s->cols[i].kind;
        if (s->cols[i].optional || (k != VALUE_DATE && k != VALUE_DATETIME && k != VALUE_TIMESTAMP))
            continue;
        rs->zero_dates[rs->nzero_dates++] = i;
    }
    /* What all the changes of the event share; rows_next fills in the rest of each. */
    struct event *e = &d->out;
    memset(e, 0, sizeof *e);
    e->table = s;
    fill_source(d, e, timestamp, server_id);
    return 0;
}

/* The schema's view of a row: map picks TABLE_MAP columns. Without a map the row is already
 * in the schema's order and is fixed up in place: its values, like the copy's, last until the
 * next change is read. */
static inline struct value *project(struct binlog_decoder *d, const struct table_entry *te,
                                    struct value *full)
{
    const struct schema_table *s = te->dt.schema;
    struct value *v = full;
    if (te->dt.map != NULL) {
        v = arena_alloc(d->arena, (s->ncols ? s->ncols : 1) * sizeof *v);
        for (size_t i = 0; i < s->ncols; i++)
            v[i] = full[te->dt.map[i]];
    }
    for (size_t z = 0; z < d->rs.nzero_dates; z++) {
        /* A zero date has no value: NULL where the column allows it, else the epoch (as
         * Debezium). */
        size_t i = d->rs.zero_dates[z];
        if (v[i].kind == VALUE_NULL) {
            v[i].kind = s->cols[i].kind;
            v[i].v.i = 0;
        }
    }
    return v;
}

static bool key_changed(const struct rows_state *rs, const struct value *before,
                        const struct value *after)
{
    for (size_t k = 0; k < rs->nkeys; k++) {
        size_t i = rs->keys[k];
        if (after[i].kind == VALUE_ABSENT || before[i].kind == VALUE_ABSENT)
            continue;
        if (!event_value_same(&before[i], &after[i]))
            return true;
    }
    return false;
}

/* Fills d->out with the next change of the active rows event; 0 when it has no more. */
static int rows_next(struct binlog_decoder *d, struct error *err)
{
    struct rows_state *rs = &d->rs;
    const struct table_entry *te = rs->te;
    struct event *e = &d->out;

    if (rs->pending_create) {
        rs->pending_create = false;
        e->op = EVENT_CREATE;
        e->before = NULL;
        e->after = rs->pending_after;
        if (order_of(d, &e->order, err) < 0)
            return -1;
        d->k++;
        d->txn_changes++;
        return 1;
    }
    arena_reset(d->arena);
    int rc = binlog_rows_next(&rs->rows, te->tm, d->arena, rs->before_full, rs->after_full, err);
    if (rc < 0)
        return error_wrap(err, "rows of %s.%s at %s:%" PRIu64 ": ", te->tm->db, te->tm->name,
                          d->file, d->ev_start);
    if (rc == 0) {
        rs->active = false;
        return 0;
    }
    rs->row++;
    e->source.row = rs->row;
    switch (rs->rows.kind) {
    case BINLOG_ROWS_WRITE:
        e->op = EVENT_CREATE;
        e->before = NULL;
        e->after = project(d, te, rs->after_full);
        break;
    case BINLOG_ROWS_DELETE:
        e->op = EVENT_DELETE;
        e->before = project(d, te, rs->before_full);
        e->after = NULL;
        break;
    case BINLOG_ROWS_UPDATE:
        e->before = project(d, te, rs->before_full);
        e->after = project(d, te, rs->after_full);
        if (key_changed(rs, e->before, e->after)) {
            /* Debezium's key change: a DELETE of the old row, then a CREATE of the new one
             * (the CREATE keeps `after`, served by the next call). */
            e->op = EVENT_DELETE;
            rs->pending_create = true;
            rs->pending_after = e->after;
            e->after = NULL;
            if (order_of(d, &e->order, err) < 0)
                return -1;
            d->k++;
            d->txn_changes++;
            return 1;
        }
        e->op = EVENT_UPDATE;
        break;
    }
    if (order_of(d, &e->order, err) < 0)
        return -1;
    d->k++;
    d->txn_changes++;
    return 1;
}

/* Decodes one event (outer, or inner to a TRANSACTION_PAYLOAD). */
static int process(struct binlog_decoder *d, const uint8_t *ev, size_t len, bool inner,
                   struct error *err)
{
    struct binlog_header h;
    struct cursor body;
    const struct binlog_fde *fde = inner ? &d->inner_fde : &d->fde;
    if (binlog_parse_header(ev, len, &h, err) < 0)
        return -1;
    if (!inner)
        d->hdr = h;
    d->last_server_id = h.server_id;
    d->last_timestamp = h.timestamp;
    if (h.type == BINLOG_FORMAT_DESCRIPTION) {
        if (inner)
            return error_set(err, "FORMAT_DESCRIPTION inside a TRANSACTION_PAYLOAD");
        if (binlog_parse_fde(ev, len, &d->fde, err) < 0)
            return -1;
        d->mariadb = d->fde.mariadb;
        if (d->opts.connector_from_fde)
            d->opts.connector = d->mariadb ? EVENT_MARIADB : EVENT_MYSQL;
        d->inner_fde = d->fde;
        d->inner_fde.checksum = BINLOG_CHECKSUM_OFF;
        /* Table ids mean nothing across a new format description (a new file or a restart). */
        clear_tables(d);
        return 0;
    }
    if ((d->skim ? binlog_event_body_unverified(fde, ev, len, &body, err)
                 : binlog_event_body(fde, ev, len, &body, err)) < 0)
        return -1;
    switch (h.type) {
    case BINLOG_ROTATE: {
        struct binlog_rotate r;
        if (binlog_parse_rotate(fde, &body, &r, err) < 0)
            return -1;
        free(d->file);
        d->file = mem_strndup(r.file, r.file_len);
        d->file_index = binlog_file_index(d->file);
        d->pos = r.pos;
        return 0;
    }
    case BINLOG_QUERY:
    case BINLOG_MARIADB_QUERY_COMPRESSED:
        return on_query(d, h.type, &body, err);
    case BINLOG_XID: {
        uint64_t xid;
        if (binlog_parse_xid(&body, &xid, err) < 0)
            return -1;
        return queue_commit(d, err);
    }
    case BINLOG_TABLE_MAP:
        return on_table_map(d, fde, &body, err);
    case BINLOG_GTID:
    case BINLOG_ANONYMOUS_GTID: {
        struct binlog_gtid g;
        if (binlog_parse_gtid(h.type, &body, &g, err) < 0)
            return -1;
        d->have_gtid = h.type == BINLOG_GTID;
        if (d->have_gtid) {
            memcpy(d->gtid_sid, g.sid, 16);
            d->gtid_gno = g.gno;
            gtid_format_mysql(g.sid, g.gno, d->gtid, sizeof d->gtid);
        }
        return 0;
    }
    case BINLOG_MARIADB_GTID: {
        struct binlog_mariadb_gtid g;
        if (binlog_parse_mariadb_gtid(&body, &g, err) < 0)
            return -1;
        d->have_gtid = true;
        d->gtid_domain = g.domain_id;
        d->gtid_server = h.server_id;
        d->gtid_seq = g.seq_no;
        gtid_format_mariadb(g.domain_id, h.server_id, g.seq_no, d->gtid, sizeof d->gtid);
        /* With @mariadb_slave_capability=4 the GTID event stands for BEGIN. */
        d->in_txn = !(g.flags & BINLOG_MARIADB_FL_STANDALONE);
        return 0;
    }
    case BINLOG_MARIADB_GTID_LIST: {
        struct binlog_mariadb_gtid_entry *e;
        size_t n;
        if (binlog_parse_mariadb_gtid_list(&body, &e, &n, err) < 0)
            return -1;
        if (d->gtids == NULL) {
            d->gtids = gtid_set_new(true);
            for (size_t i = 0; i < n; i++)
                gtid_set_add_mariadb(d->gtids, e[i].domain_id, e[i].server_id, e[i].seq_no);
        }
        free(e);
        return 0;
    }
    case BINLOG_PREVIOUS_GTIDS: {
        struct binlog_gtid_interval *iv;
        size_t n;
        if (binlog_parse_previous_gtids(&body, &iv, &n, err) < 0)
            return -1;
        if (d->gtids == NULL) {
            d->gtids = gtid_set_new(false);
            for (size_t i = 0; i < n; i++)
                gtid_set_add_interval(d->gtids, iv[i].sid, iv[i].start, iv[i].end);
        }
        free(iv);
        return 0;
    }
    case BINLOG_ROWS_QUERY:
    case BINLOG_MARIADB_ANNOTATE_ROWS: {
        const char *sql;
        size_t n;
        if (binlog_parse_rows_query(h.type, &body, &sql, &n, err) < 0)
            return -1;
        buf_reset(&d->query);
        buf_append(&d->query, sql, n);
        d->have_query = true;
        return 0;
    }
    case BINLOG_HEARTBEAT:
    case BINLOG_HEARTBEAT_V2: {
        struct binlog_heartbeat hb;
        if (binlog_parse_heartbeat(h.type, &body, &hb, err) < 0)
            return -1;
        struct event *e = queue_push(d);
        e->op = EVENT_HEARTBEAT;
        fill_source(d, e, h.timestamp, h.server_id);
        return 0;
    }
    case BINLOG_INCIDENT: {
        uint16_t number;
        const char *msg;
        size_t n;
        if (binlog_parse_incident(&body, &number, &msg, &n, err) < 0)
            return -1;
        return error_set(err,
                         "the binlog holds INCIDENT %u at %s:%" PRIu64 " (\"%.*s\"): the "
                         "source may have lost changes; check the server, then resume after "
                         "it or re-snapshot",
                         number, d->file, d->ev_start, (int)n, msg);
    }
    case BINLOG_TRANSACTION_PAYLOAD:
        if (inner)
            return error_set(err, "TRANSACTION_PAYLOAD inside a TRANSACTION_PAYLOAD");
        if (binlog_parse_transaction_payload(&body, &d->payload, err) < 0)
            return error_wrap(err, "at %s:%" PRIu64 ": ", d->file, d->ev_start);
        d->payload_off = 0;
        d->payload_active = true;
        return 0;
    case BINLOG_MARIADB_START_ENCRYPTION:
        return error_set(err,
                         "the binlog is encrypted (START_ENCRYPTION at %s:%" PRIu64
                         "); dbtail reads only unencrypted binlogs",
                         d->file, d->ev_start);
    case BINLOG_STOP:
    case BINLOG_MARIADB_BINLOG_CHECKPOINT:
    case BINLOG_INTVAR:
    case BINLOG_RAND:
    case BINLOG_USER_VAR:
    case BINLOG_TRANSACTION_CONTEXT:
    case BINLOG_VIEW_CHANGE:
    case BINLOG_XA_PREPARE:
    case BINLOG_IGNORABLE:
        return 0;
    default:
        if (binlog_is_rows_event(h.type))
            return on_rows(d, fde, h.type, &body, h.timestamp, h.server_id, err);
        d->skipped = h.type;
        return 0;
    }
}

int binlog_decoder_feed(struct binlog_decoder *d, const uint8_t *ev, size_t len, struct error *err)
{
    struct binlog_header h;
    if (binlog_parse_header(ev, len, &h, err) < 0)
        return -1;
    d->ev = ev;
    d->ev_len = h.event_size;
    d->ev_pending = true;
    d->skipped = -1;
    d->k = 0;
    d->ev_size = h.event_size;
    /* Artificial events (the dump's first ROTATE, a mid-file FDE) have no place in the file. */
    if (h.next_pos != 0 && h.next_pos >= h.event_size)
        d->ev_start = h.next_pos - h.event_size;
    else
        d->ev_start = d->pos;
    return 0;
}

static int next_inner(struct binlog_decoder *d, struct error *err)
{
    size_t left = d->payload.len - d->payload_off;
    if (left == 0) {
        d->payload_active = false;
        return 0;
    }
    const uint8_t *p = (const uint8_t *)d->payload.data + d->payload_off;
    struct binlog_header h;
    if (binlog_parse_header(p, left, &h, err) < 0)
        return error_wrap(err, "inside the TRANSACTION_PAYLOAD at %s:%" PRIu64 ": ", d->file,
                          d->ev_start);
    d->payload_off += h.event_size;
    if (process(d, p, h.event_size, true, err) < 0)
        return error_wrap(err, "inside the TRANSACTION_PAYLOAD at %s:%" PRIu64 ": ", d->file,
                          d->ev_start);
    return 1;
}

int binlog_decoder_next(struct binlog_decoder *d, const struct event **ev, struct error *err)
{
    *ev = NULL;
    for (;;) {
        if (d->qhead < d->nqueue) {
            *ev = &d->queue[d->qhead++];
            if (d->qhead == d->nqueue)
                d->qhead = d->nqueue = 0;
            return 1;
        }
        if (d->rs.active) {
            int rc = rows_next(d, err);
            if (rc < 0)
                return -1;
            if (rc > 0) {
                *ev = &d->out;
                return 1;
            }
            continue;
        }
        if (d->payload_active) {
            if (next_inner(d, err) < 0)
                return -1;
            continue;
        }
        if (d->ev_pending) {
            d->ev_pending = false;
            if (process(d, d->ev, d->ev_len, false, err) < 0)
                return -1;
            continue;
        }
        break;
    }
    /* The event is done: the stream has moved past it. */
    if (d->hdr.next_pos != 0 && d->hdr.type != BINLOG_ROTATE && d->hdr.type != BINLOG_HEARTBEAT &&
        d->hdr.type != BINLOG_HEARTBEAT_V2)
        d->pos = d->hdr.next_pos;
    return 0;
}
