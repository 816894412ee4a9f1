/*
 * pg_reader: the PostgreSQL source (struct reader_ops over libpq). It owns two connections: a
 * replication connection (replication=database) that creates the slot and streams pgoutput
 * protocol version 1, and a normal connection for the snapshot and the catalog (types, keys,
 * NOT NULL). Both run with DateStyle=ISO, IntervalStyle=iso_8601, TimeZone=UTC,
 * bytea_output=hex, lc_monetary=C and extra_float_digits=3 so that pg_types.c sees one text
 * form for every value, whether it came from the walsender or from COPY. While a table's rows
 * are read, the normal connection is lent to a thread of its own (the fetcher, see
 * fetch_start) that decodes them beside the pipeline. A table whose every column has a binary
 * decoder (pgtype_binary_ok: the integers, float8, numeric, the string types, bytea, date,
 * timestamp(tz), uuid, json(b), enums, domains over them) is copied in COPY's binary format,
 * which spares the server its output functions and the fetcher the parsing of text; any other
 * table in text (rel_binary).
 *
 * Snapshot and stream meet without gaps or duplicates:
 *  - Fresh start: CREATE_REPLICATION_SLOT ... (SNAPSHOT 'export') gives the consistent point C1
 *    and a snapshot that sees exactly the transactions committed before C1; every table is read
 *    in it (in the order of the key that locates a row in every change: the replica identity
 *    index when the table has one, else the primary key; a COMMIT with the last key emitted
 *    every snapshot.fetch.size rows, a chunk), then the stream starts at C1.
 *  - The slot is never confirmed past C1 while the snapshot runs, so after a crash mid-snapshot
 *    the changes since C1 are still in the slot. The exported snapshot is gone, though, so the
 *    rest is read in a new snapshot exported by a TEMPORARY slot at C2 > C1. The position
 *    records, per table, which key ranges were read at which snapshot LSN ("ranges"). While the
 *    stream replays (C1, C2), a change whose transaction committed before the snapshot its row
 *    was read in (commit LSN < that range's LSN) is already in the rows read and is skipped;
 *    every other change is emitted. So each change appears exactly once: in a snapshot row or
 *    as a stream event. Key comparisons use the server (ROW(...) <= ROW(...), in the key
 *    columns' collations), so they order exactly as the snapshot's ORDER BY does. A TRUNCATE inside
 *    that window is emitted and lifts the filter for its table: every change after it is
 *    replayed, so rows the newer snapshot read come again after the TRUNCATE (once more, never
 *    lost). Not covered: an update whose key column is an unchanged TOASTed value (a key of
 *    over 2 kB) carries no key; it is placed by the range that covers the rest of the table,
 *    which is wrong for a row read before the crash.
 *  - The same mechanism serves a slot that already exists without a state file, and
 *    snapshot.mode=always (a new snapshot while the slot keeps its position).
 *
 * Snapshot rows carry order = the slot's restart_lsn when the snapshot was exported: every change
 * the stream delivers afterwards has an LSN at or above it, so a sink ordering by `order` never
 * lets a snapshot row overwrite a later change. source.lsn is the consistent point.
 *
 * Acknowledgement follows pg_recvlogical: "received" (last commit read) and "durable" (last
 * position acked by the pipeline) are separate; the standby status update reports durable as
 * flushed and applied. When everything received is durable and no transaction is open, the
 * server's WAL end from keepalives is confirmed, so an idle slot does not hold WAL.
 */
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/buf.h"
#include "../src/clock.h"
#include "../src/log.h"
#include "../src/mem.h"
#include "../src/namefilter.h"
#include "../src/metrics.h"
#include "pg_types.h"
#include "pgoutput.h"
#include "reader.h"

#define SESSION_OPTIONS                                                                            \
    "-c DateStyle=ISO -c IntervalStyle=iso_8601 -c TimeZone=UTC -c bytea_output=hex "              \
    "-c lc_monetary=C -c extra_float_digits=3"
#define STATUS_INTERVAL_MS 10000
/* How long a decoded transaction may stay invisible before the attempt starts over. */
#define TXN_VISIBLE_WAIT_MS 10000
#define SLOT_WAIT_MS        15000

/* What the catalog says of a type OID, cached. */
struct pg_typeinfo {
    uint32_t oid;
    enum value_kind kind;
    enum value_kind elem_kind;
    uint8_t int_bits;
    uint32_t base_oid; /* the built-in type (or array element) whose typmod rules apply */
    int32_t typmod;    /* a domain's own typmod, else -1 */
    char *name;        /* owned */
    char **labels;     /* owned enum labels */
    size_t nlabels;
};

struct pg_rel {
    uint32_t relid;
    struct schema_table *table; /* owned; NULL when the table is not captured */
    int *map;                   /* owned: message column -> table column, -1 when left out */
    size_t nmap;
    /* The key that locates a row in snapshot chunks and in every streamed change: the replica
     * identity index when the table has one (deletes carry only its columns), else the primary
     * key. */
    char **key_names; /* owned: its columns in index order */
    char **key_types; /* owned: their format_type() and the column's own collation */
    size_t nkey;
    int *key_cols; /* owned: table column of each of them */
    /* A partitioned table published through its root: its rows live in the partitions, so the
     * snapshot reads it without ONLY (set by rel_load, for the snapshot). */
    bool partitioned;
};

struct pg_fetch;
struct snap_batch;

enum pg_phase { PHASE_SNAPSHOT, PHASE_STREAM, PHASE_DONE };

struct pg_reader {
    struct reader base;
    const struct config *cfg;
    enum reader_mode mode;
    /* settings */
    char *slot, *publication, *dbname;
    int autocreate; /* index in autocreate_modes */
    int snapmode;   /* index in snapshot_modes */
    int64_t fetch_size, heartbeat_ms;
    const char *heartbeat_query;
    bool drop_on_stop;
    struct namefilter schema_filter, table_filter, column_filter;
    /* connections */
    PGconn *repl;     /* streaming (and the slot's exported snapshot) */
    PGconn *snaprepl; /* holds the TEMPORARY slot whose snapshot a resumed snapshot reads */
    PGconn *sql;
    char *system_id;
    /* catalog caches */
    struct pg_typeinfo *types;
    size_t ntypes;
    struct pg_rel *rels;
    size_t nrels;
    /* events handed out */
    struct arena *arena;
    struct event *q;
    size_t qn, qpos, qcap;
    void **defer; /* libpq buffers the handed-out events point into */
    size_t ndefer, capdefer;
    json_t *pos_hold; /* positions referenced by handed-out COMMITs */
    char txn_id[64];
    enum pg_phase phase;
    /* ---- snapshot ---- */
    uint64_t slot_lsn; /* where the stream starts (C1) */
    uint64_t snap_lsn; /* consistent point of the snapshot being read */
    uint64_t snap_order;
    int64_t snap_txid;
    json_t *tables_done; /* array of "schema.table" */
    json_t *ranges;      /* object "schema.table" -> [{"upto": [...]|null, "lsn": "X/Y"}] */
    uint32_t *snap_relids;
    size_t nsnap, snap_i;
    size_t first_table_i;     /* index of the first table of the whole snapshot in snap_relids */
    bool table_started;       /* the fetcher was started on snap_i */
    struct pg_fetch *fetch;   /* reads the table's rows (owned; NULL until the first table) */
    struct snap_batch *batch; /* its rows being handed out (the fetcher's), or NULL */
    size_t batch_pos;
    json_t *fetched_key; /* where a resumed table continues (key of its last row read) */
    json_t *emitted_key; /* key of the last emitted row of the current table */
    bool resume_first_row_is_first;
    /* ---- stream ---- */
    bool streaming;
    struct pgout_msg msg;
    bool in_txn;
    uint32_t xid;
    int64_t commit_us;
    uint64_t final_lsn;
    uint64_t received_lsn; /* end of the last commit read */
    uint64_t durable_lsn;  /* acked by the pipeline */
    uint64_t feedback_lsn; /* what the server was last told */
    uint64_t server_end;   /* from keepalives */
    int64_t last_status_ms, last_heartbeat_ms;
    uint64_t window_end; /* ranges filter applies to commits before it */
};

static const char *const autocreate_modes[] = {"all_tables", "disabled", "filtered", "no_tables",
                                               NULL};
enum { AUTO_ALL, AUTO_DISABLED, AUTO_FILTERED, AUTO_NONE };
static const char *const snapshot_modes[] = {"initial", "initial_only", "no_data", "never",
                                             "always",  "when_needed",  NULL};
enum { SNAP_INITIAL, SNAP_INITIAL_ONLY, SNAP_NO_DATA, SNAP_NEVER, SNAP_ALWAYS, SNAP_WHEN_NEEDED };

/* ------------------------------------------------------------------ filters */

static bool table_captured(const struct pg_reader *r, const char *nsp, const char *rel)
{
    char fq[512];
    snprintf(fq, sizeof fq, "%s.%s", nsp, rel);
    if (!namefilter_admits(&r->schema_filter, nsp))
        return false;
    return namefilter_admits(&r->table_filter, fq);
}

static bool column_captured(const struct pg_reader *r, const char *nsp, const char *rel,
                            const char *col)
{
    char fq[768];
    snprintf(fq, sizeof fq, "%s.%s.%s", nsp, rel, col);
    return namefilter_admits(&r->column_filter, fq);
}

/* ------------------------------------------------------------------ connections */

/* libpq's messages end with a newline; one line for ours. */
static const char *pq_msg(const PGconn *c)
{
    static _Thread_local char line[400]; /* the fetcher reports errors too */
    snprintf(line, sizeof line, "%s", c ? PQerrorMessage(c) : "no connection");
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
        line[--n] = 0;
    for (char *p = line; *p; p++)
        if (*p == '\n')
            *p = ' ';
    return line;
}

static int connect_pg(struct pg_reader *r, bool replication, PGconn **out, struct error *err)
{
    const char *keys[20], *vals[20];
    int n = 0;
    char port[16];
    int64_t p;
    if (config_int(r->cfg, "database.port", 5432, 1, 65535, &p, err) < 0)
        return -1;
    snprintf(port, sizeof port, "%d", (int)p);
#define KV(k, v)                                                                                   \
    do {                                                                                           \
        const char *v_ = (v);                                                                      \
        if (v_ && *v_) {                                                                           \
            keys[n] = (k);                                                                         \
            vals[n] = v_;                                                                          \
            n++;                                                                                   \
        }                                                                                          \
    } while (0)
    KV("host", config_str(r->cfg, "database.hostname", "localhost"));
    KV("port", port);
    KV("user", config_str(r->cfg, "database.user", NULL));
    KV("password", config_str(r->cfg, "database.password", NULL));
    KV("dbname", r->dbname);
    KV("sslmode", config_str(r->cfg, "database.sslmode", "prefer"));
    KV("sslrootcert", config_str(r->cfg, "database.sslrootcert", NULL));
    KV("sslcert", config_str(r->cfg, "database.sslcert", NULL));
    KV("sslkey", config_str(r->cfg, "database.sslkey", NULL));
    KV("options", SESSION_OPTIONS);
    KV("application_name", "dbtail");
    KV("connect_timeout", "10");
    KV("keepalives_idle", "30");
    if (replication)
        KV("replication", "database");
#undef KV
    keys[n] = NULL;
    vals[n] = NULL;
    PGconn *c = PQconnectdbParams(keys, vals, 0);
    if (PQstatus(c) != CONNECTION_OK) {
        const char *m = pq_msg(c);
        char where[300];
        snprintf(where, sizeof where, "%s:%s", config_str(r->cfg, "database.hostname", "?"), port);
        int rc;
        if (strstr(m, "replication") && (strstr(m, "superuser") || strstr(m, "permission")))
            rc = error_set(err,
                           "cannot open a replication connection to %s: %s (grant it: ALTER ROLE "
                           "%s WITH REPLICATION)",
                           where, m, config_str(r->cfg, "database.user", "?"));
        else if (strstr(m, "no pg_hba.conf entry") && replication)
            rc = error_set(err,
                           "cannot open a replication connection to %s: %s (add a \"host "
                           "replication ...\" line to pg_hba.conf)",
                           where, m);
        else if (strstr(m, "authentication failed") || strstr(m, "does not exist") ||
                 strstr(m, "no pg_hba.conf entry"))
            rc = error_set(err, "cannot connect to PostgreSQL at %s: %s", where, m);
        else
            rc = error_retry(err, "cannot connect to PostgreSQL at %s: %s", where, m);
        PQfinish(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* An error of a statement: permanent when the server answered, retriable when the connection
 * went away. */
static int sql_error(PGconn *c, const char *what, struct error *err)
{
    if (PQstatus(c) != CONNECTION_OK)
        return error_retry(err, "lost connection to PostgreSQL while %s: %s", what, pq_msg(c));
    return error_set(err, "%s failed: %s", what, pq_msg(c));
}

static PGresult *run(PGconn *c, const char *sql, ExecStatusType want, const char *what,
                     struct error *err)
{
    PGresult *res = PQexec(c, sql);
    if (PQresultStatus(res) != want) {
        sql_error(c, what, err);
        PQclear(res);
        return NULL;
    }
    return res;
}

static PGresult *run_params(PGconn *c, const char *sql, int n, const char *const *params,
                            const char *what, struct error *err)
{
    PGresult *res = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK) {
        sql_error(c, what, err);
        PQclear(res);
        return NULL;
    }
    return res;
}

static char *quote_ident(PGconn *c, const char *s)
{
    char *q = PQescapeIdentifier(c, s, strlen(s));
    char *out = mem_strdup(q ? q : "\"\"");
    PQfreemem(q);
    return out;
}

static char *quote_literal(PGconn *c, const char *s, size_t len)
{
    char *q = PQescapeLiteral(c, s, len);
    char *out = mem_strdup(q ? q : "''");
    PQfreemem(q);
    return out;
}

/* ------------------------------------------------------------------ types and tables */

static void typeinfo_clear(struct pg_typeinfo *t)
{
    free(t->name);
    for (size_t i = 0; i < t->nlabels; i++)
        free(t->labels[i]);
    free(t->labels);
}

static const struct pg_typeinfo *type_lookup(struct pg_reader *r, uint32_t oid, int depth,
                                             struct error *err);

static int type_resolve(struct pg_reader *r, uint32_t oid, int depth, struct pg_typeinfo *t,
                        struct error *err)
{
    struct pgtype_base b;
    memset(t, 0, sizeof *t);
    t->oid = oid;
    t->typmod = -1;
    t->elem_kind = VALUE_NULL;
    if (pgtype_builtin(oid, &b) == 0) {
        t->kind = b.kind;
        t->int_bits = b.int_bits;
        t->base_oid = oid;
        t->name = mem_strdup(b.name);
        return 0;
    }
    char soid[16];
    snprintf(soid, sizeof soid, "%u", oid);
    const char *params[] = {soid};
    PGresult *res = run_params(r->sql,
                               "SELECT typname, typtype, typcategory, typelem, typbasetype, "
                               "typtypmod FROM pg_type WHERE oid = $1",
                               1, params, "reading pg_type", err);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        t->kind = VALUE_TEXT;
        t->base_oid = oid;
        t->name = mem_strdup("unknown");
        return 0;
    }
    t->name = mem_strdup(PQgetvalue(res, 0, 0));
    char typtype = PQgetvalue(res, 0, 1)[0], cat = PQgetvalue(res, 0, 2)[0];
    uint32_t elem = (uint32_t)strtoul(PQgetvalue(res, 0, 3), NULL, 10);
    uint32_t base = (uint32_t)strtoul(PQgetvalue(res, 0, 4), NULL, 10);
    int32_t typmod = (int32_t)strtol(PQgetvalue(res, 0, 5), NULL, 10);
    PQclear(res);
    if (depth > 8) {
        t->kind = VALUE_TEXT;
        t->base_oid = oid;
        return 0;
    }
    if (typtype == 'd' && base) {
        /* A domain decodes as its base type, with the domain's own typmod. */
        const struct pg_typeinfo *bt = type_lookup(r, base, depth + 1, err);
        if (bt == NULL)
            return -1;
        free(t->name);
        t->name = mem_strdup(bt->name);
        t->kind = bt->kind;
        t->elem_kind = bt->elem_kind;
        t->int_bits = bt->int_bits;
        t->base_oid = bt->base_oid;
        t->typmod = typmod >= 0 ? typmod : bt->typmod;
        t->nlabels = bt->nlabels;
        if (bt->nlabels) {
            t->labels = mem_alloc(bt->nlabels * sizeof *t->labels);
            for (size_t i = 0; i < bt->nlabels; i++)
                t->labels[i] = mem_strdup(bt->labels[i]);
        }
        return 0;
    }
    if (cat == 'A' && elem) {
        const struct pg_typeinfo *et = type_lookup(r, elem, depth + 1, err);
        if (et == NULL)
            return -1;
        if (et->kind == VALUE_ARRAY || et->kind == VALUE_TEXT) {
            t->kind = VALUE_TEXT;
            t->base_oid = oid;
            return 0;
        }
        t->kind = VALUE_ARRAY;
        t->elem_kind = et->kind;
        t->int_bits = et->int_bits;
        t->base_oid = et->base_oid;
        t->nlabels = et->nlabels;
        if (et->nlabels) {
            t->labels = mem_alloc(et->nlabels * sizeof *t->labels);
            for (size_t i = 0; i < et->nlabels; i++)
                t->labels[i] = mem_strdup(et->labels[i]);
        }
        return 0;
    }
    t->base_oid = oid;
    if (typtype == 'e') {
        t->kind = VALUE_ENUM;
        res = run_params(
            r->sql, "SELECT enumlabel FROM pg_enum WHERE enumtypid = $1 ORDER BY enumsortorder", 1,
            params, "reading pg_enum", err);
        if (res == NULL)
            return -1;
        t->nlabels = (size_t)PQntuples(res);
        t->labels = mem_calloc(t->nlabels ? t->nlabels : 1, sizeof *t->labels);
        for (size_t i = 0; i < t->nlabels; i++)
            t->labels[i] = mem_strdup(PQgetvalue(res, (int)i, 0));
        PQclear(res);
        return 0;
    }
    t->kind = VALUE_TEXT;
    return 0;
}

static const struct pg_typeinfo *type_lookup(struct pg_reader *r, uint32_t oid, int depth,
                                             struct error *err)
{
    for (size_t i = 0; i < r->ntypes; i++)
        if (r->types[i].oid == oid)
            return &r->types[i];
    struct pg_typeinfo t;
    if (type_resolve(r, oid, depth, &t, err) < 0) {
        typeinfo_clear(&t);
        return NULL;
    }
    r->types = mem_realloc(r->types, (r->ntypes + 1) * sizeof *r->types);
    r->types[r->ntypes] = t;
    return &r->types[r->ntypes++];
}

static void rel_clear(struct pg_rel *rel)
{
    schema_table_free(rel->table);
    free(rel->map);
    for (size_t i = 0; i < rel->nkey; i++) {
        free(rel->key_names[i]);
        free(rel->key_types[i]);
    }
    free(rel->key_names);
    free(rel->key_types);
    free(rel->key_cols);
    memset(rel, 0, sizeof *rel);
}

static struct pg_rel *rel_find(struct pg_reader *r, uint32_t relid)
{
    for (size_t i = 0; i < r->nrels; i++)
        if (r->rels[i].relid == relid)
            return &r->rels[i];
    return NULL;
}

static char *fq_name(const struct schema_table *t)
{
    size_t n = strlen(t->schema) + strlen(t->name) + 2;
    char *s = mem_alloc(n);
    snprintf(s, n, "%s.%s", t->schema, t->name);
    return s;
}

/*
 * Whether a default as pg_get_expr() deparses it is a constant ('it''s'::text, 5,
 * 1.5::double precision, true): the value that rows existing before ADD COLUMN hold (PostgreSQL
 * 11+ keeps it in attmissingval and logs nothing for them). A call (now(), nextval()) or any other
 * expression gives a value per row that no sink can repeat.
 */
static bool constant_default(const char *e)
{
    if (*e == '\'') {
        for (e++; *e && !(*e == '\'' && e[1] != '\''); e++)
            if (*e == '\'' && e[1] == '\'')
                e++;
        if (*e++ != '\'')
            return false;
    } else if (strncmp(e, "true", 4) == 0 || strncmp(e, "false", 5) == 0) {
        e += *e == 't' ? 4 : 5;
    } else {
        const char *start = e;
        while ((*e >= '0' && *e <= '9') || *e == '.')
            e++;
        if (e == start)
            return false;
    }
    /* then only casts to named types: ::character varying, ::"Mood", ::numeric(10,2) */
    while (*e) {
        if (strncmp(e, "::", 2) != 0)
            return false;
        const char *start = e += 2;
        for (; *e && *e != ':'; e++)
            if (!(*e >= 'a' && *e <= 'z') && !(*e >= 'A' && *e <= 'Z') &&
                !(*e >= '0' && *e <= '9') && !strchr("_ .\"(),[]", *e))
                return false;
        if (e == start)
            return false;
    }
    return true;
}

/*
 * (Re)builds the relation relid from its columns (names, type OIDs, typmods: from a Relation
 * message or pg_attribute) and the catalog's NOT NULL flags and primary key.
 */
static int rel_build(struct pg_reader *r, uint32_t relid, const char *nsp, const char *name,
                     size_t ncols, const char *const *names, const uint32_t *oids,
                     const int32_t *typmods, struct pg_rel **out, struct error *err)
{
    struct pg_rel *rel = rel_find(r, relid);
    if (rel == NULL) {
        r->rels = mem_realloc(r->rels, (r->nrels + 1) * sizeof *r->rels);
        rel = &r->rels[r->nrels++];
        memset(rel, 0, sizeof *rel);
    } else {
        rel_clear(rel);
    }
    rel->relid = relid;
    *out = rel;
    if (!table_captured(r, nsp, name))
        return 0;
    char soid[16];
    snprintf(soid, sizeof soid, "%u", relid);
    const char *params[] = {soid};
    /* Key literals carry the column's collation, so that the server compares them as the
     * snapshot's ORDER BY sorts the column. */
    PGresult *res = run_params(
        r->sql,
        "SELECT a.attname, a.attnotnull, "
        "  COALESCE((SELECT k.n FROM unnest(i.indkey) WITH ORDINALITY k(att, n) "
        "            WHERE k.att = a.attnum), 0), "
        "  format_type(a.atttypid, a.atttypmod) || CASE WHEN co.oid IS NOT NULL AND "
        "    a.attcollation <> t.typcollation THEN ' COLLATE ' || quote_ident(cn.nspname) || "
        "    '.' || quote_ident(co.collname) ELSE '' END, "
        "  EXISTS (SELECT 1 FROM pg_index p WHERE p.indrelid = a.attrelid AND p.indisprimary "
        "          AND a.attnum = ANY (p.indkey)), "
        "  CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_type t ON t.oid = a.atttypid "
        "LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum "
        "LEFT JOIN pg_collation co ON co.oid = a.attcollation "
        "LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace "
        "LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND "
        "  CASE WHEN c.relreplident = 'i' THEN i.indisreplident ELSE i.indisprimary END "
        "WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped",
        1, params, "reading the columns of a table", err);
    if (res == NULL)
        return -1;
    struct schema_table *t = schema_table_new(r->dbname, nsp, name);
    t->source_id = relid;
    rel->table = t;
    rel->map = mem_alloc((ncols ? ncols : 1) * sizeof *rel->map);
    rel->nmap = ncols;
    int nrows = PQntuples(res);
    size_t maxkey = 0;
    for (int i = 0; i < nrows; i++) {
        size_t pos = (size_t)strtoul(PQgetvalue(res, i, 2), NULL, 10);
        if (pos > maxkey)
            maxkey = pos;
    }
    rel->key_names = mem_calloc(maxkey + 1, sizeof *rel->key_names);
    rel->key_types = mem_calloc(maxkey + 1, sizeof *rel->key_types);
    rel->key_cols = mem_calloc(maxkey + 1, sizeof *rel->key_cols);
    for (size_t c = 0; c < ncols; c++) {
        rel->map[c] = -1;
        if (!column_captured(r, nsp, name, names[c]))
            continue;
        const struct pg_typeinfo *ti = type_lookup(r, oids[c], 0, err);
        if (ti == NULL) {
            PQclear(res);
            return -1;
        }
        struct schema_column *col = schema_table_add_column(t, names[c], ti->name, ti->kind);
        rel->map[c] = (int)t->ncols - 1;
        col->elem_kind = ti->elem_kind;
        col->int_bits = ti->int_bits;
        col->type_oid = ti->base_oid;
        if (ti->kind == VALUE_ARRAY) {
            char an[128];
            snprintf(an, sizeof an, "_%s", ti->name);
            free(col->type_name);
            col->type_name = mem_strdup(an);
        }
        pgtype_apply_typmod(col, ti->base_oid, typmods[c] >= 0 ? typmods[c] : ti->typmod);
        if (ti->nlabels) {
            col->enum_values = mem_alloc(ti->nlabels * sizeof *col->enum_values);
            for (size_t k = 0; k < ti->nlabels; k++)
                col->enum_values[k] = mem_strdup(ti->labels[k]);
            col->n_enum_values = ti->nlabels;
        }
        for (int i = 0; i < nrows; i++) {
            if (strcmp(PQgetvalue(res, i, 0), names[c]) != 0)
                continue;
            col->optional = PQgetvalue(res, i, 1)[0] != 't';
            col->key = PQgetvalue(res, i, 4)[0] == 't';
            if (constant_default(PQgetvalue(res, i, 5)))
                col->default_value = mem_strdup(PQgetvalue(res, i, 5));
            size_t pos = (size_t)strtoul(PQgetvalue(res, i, 2), NULL, 10);
            if (pos > 0) {
                rel->key_names[pos - 1] = mem_strdup(names[c]);
                rel->key_types[pos - 1] = mem_strdup(PQgetvalue(res, i, 3));
                rel->key_cols[pos - 1] = rel->map[c];
            }
        }
    }
    PQclear(res);
    /* A key column left out by column filters makes keyset reads impossible: no key then. */
    rel->nkey = maxkey;
    for (size_t k = 0; k < maxkey; k++) {
        if (rel->key_names[k] == NULL) {
            for (size_t j = 0; j < maxkey; j++) {
                free(rel->key_names[j]);
                free(rel->key_types[j]);
            }
            rel->nkey = 0;
            break;
        }
    }
    return 0;
}

/* Builds a table from pg_attribute (the snapshot reads tables before any Relation message). */
static int rel_load(struct pg_reader *r, uint32_t relid, struct pg_rel **out, struct error *err)
{
    char soid[16];
    snprintf(soid, sizeof soid, "%u", relid);
    const char *params[] = {soid};
    PGresult *res = run_params(r->sql,
                               "SELECT n.nspname, c.relname, a.attname, a.atttypid, a.atttypmod, "
                               "c.relkind "
                               "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                               "JOIN pg_attribute a ON a.attrelid = c.oid "
                               "WHERE c.oid = $1 AND a.attnum > 0 AND NOT a.attisdropped "
                               "AND a.attgenerated = '' ORDER BY a.attnum",
                               1, params, "reading a table's columns", err);
    if (res == NULL)
        return -1;
    int n = PQntuples(res);
    if (n == 0) {
        PQclear(res);
        return error_set(err, "table with OID %u has no columns or no longer exists", relid);
    }
    const char **names = mem_alloc((size_t)n * sizeof *names);
    uint32_t *oids = mem_alloc((size_t)n * sizeof *oids);
    int32_t *mods = mem_alloc((size_t)n * sizeof *mods);
    for (int i = 0; i < n; i++) {
        names[i] = PQgetvalue(res, i, 2);
        oids[i] = (uint32_t)strtoul(PQgetvalue(res, i, 3), NULL, 10);
        mods[i] = (int32_t)strtol(PQgetvalue(res, i, 4), NULL, 10);
    }
    int rc = rel_build(r, relid, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), (size_t)n, names,
                       oids, mods, out, err);
    if (rc == 0)
        (*out)->partitioned = PQgetvalue(res, 0, 5)[0] == 'p';
    free(names);
    free(oids);
    free(mods);
    PQclear(res);
    return rc;
}

/* ------------------------------------------------------------------ events */

static struct event *ev_push(struct pg_reader *r)
{
    if (r->qn == r->qcap) {
        r->qcap = r->qcap ? r->qcap * 2 : 8;
        r->q = mem_realloc(r->q, r->qcap * sizeof *r->q);
    }
    struct event *ev = &r->q[r->qn++];
    memset(ev, 0, sizeof *ev);
    ev->source.connector = EVENT_POSTGRESQL;
    ev->source.txid = -1;
    ev->source.thread = -1;
    return ev;
}

static void defer_free(struct pg_reader *r, void *p)
{
    if (r->ndefer == r->capdefer) {
        r->capdefer = r->capdefer ? r->capdefer * 2 : 8;
        r->defer = mem_realloc(r->defer, r->capdefer * sizeof *r->defer);
    }
    r->defer[r->ndefer++] = p;
}

/* Forgets the events handed out: called when next() needs new ones. */
static void ev_release(struct pg_reader *r)
{
    r->qn = 0;
    r->qpos = 0;
    for (size_t i = 0; i < r->ndefer; i++)
        PQfreemem(r->defer[i]);
    r->ndefer = 0;
    arena_reset(r->arena);
    json_decref(r->pos_hold);
    r->pos_hold = json_array();
}

static struct value *values_new(struct pg_reader *r, size_t n)
{
    struct value *v = arena_alloc(r->arena, (n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i].kind = VALUE_NULL;
    return v;
}

static int decode_into(const struct schema_column *col, const char *data, size_t len,
                       struct arena *a, struct value *out, struct error *err)
{
    if (pgtype_decode(col->kind, col->elem_kind, data, len, a, out, err) < 0)
        return error_wrap(err, "column %s: ", col->name);
    return 0;
}

static void lsn_str(uint64_t lsn, char *buf, size_t n)
{
    pgout_lsn_format(lsn, buf, n);
}

static json_t *lsn_json(uint64_t lsn)
{
    char b[32];
    lsn_str(lsn, b, sizeof b);
    return json_string(b);
}

static int lsn_from_json(const json_t *j, uint64_t *out)
{
    return json_is_string(j) ? pgout_lsn_parse(json_string_value(j), out) : -1;
}

static json_t *hold(struct pg_reader *r, json_t *pos)
{
    json_array_append_new(r->pos_hold, pos);
    return pos;
}

/* ------------------------------------------------------------------ slot and publication */

static int check_wal_level(struct pg_reader *r, struct error *err)
{
    PGresult *res = run(r->sql, "SHOW wal_level", PGRES_TUPLES_OK, "reading wal_level", err);
    if (res == NULL)
        return -1;
    int ok = strcmp(PQgetvalue(res, 0, 0), "logical") == 0;
    char level[32];
    snprintf(level, sizeof level, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!ok)
        return error_set(err,
                         "wal_level is \"%s\": set wal_level = logical in postgresql.conf and "
                         "restart PostgreSQL",
                         level);
    return 0;
}

static int ensure_publication(struct pg_reader *r, struct error *err)
{
    const char *params[] = {r->publication};
    PGresult *res = run_params(r->sql, "SELECT 1 FROM pg_publication WHERE pubname = $1", 1, params,
                               "looking up the publication", err);
    if (res == NULL)
        return -1;
    int exists = PQntuples(res) > 0;
    PQclear(res);
    if (exists)
        return 0;
    if (r->autocreate == AUTO_DISABLED)
        return error_set(err,
                         "publication \"%s\" does not exist and publication.autocreate.mode is "
                         "disabled: create it (CREATE PUBLICATION %s FOR ALL TABLES) or set "
                         "publication.autocreate.mode",
                         r->publication, r->publication);
    char *pub = quote_ident(r->sql, r->publication);
    struct buf sql;
    buf_init(&sql);
    buf_printf(&sql, "CREATE PUBLICATION %s", pub);
    if (r->autocreate == AUTO_ALL) {
        buf_puts(&sql, " FOR ALL TABLES");
    } else if (r->autocreate == AUTO_FILTERED) {
        res = run(r->sql,
                  "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON "
                  "n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN "
                  "('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' "
                  "ORDER BY 1, 2",
                  PGRES_TUPLES_OK, "listing tables", err);
        if (res == NULL) {
            free(pub);
            buf_free(&sql);
            return -1;
        }
        int n = 0;
        for (int i = 0; i < PQntuples(res); i++) {
            if (!table_captured(r, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1)))
                continue;
            char *s = quote_ident(r->sql, PQgetvalue(res, i, 0));
            char *t = quote_ident(r->sql, PQgetvalue(res, i, 1));
            buf_printf(&sql, "%s %s.%s", n++ ? "," : " FOR TABLE", s, t);
            free(s);
            free(t);
        }
        PQclear(res);
        if (n == 0) {
            free(pub);
            buf_free(&sql);
            return error_set(err, "publication.autocreate.mode is filtered but no table matches "
                                  "the include/exclude lists");
        }
    }
    free(pub);
    res = PQexec(r->sql, sql.data);
    buf_free(&sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        PQclear(res);
        if (PQstatus(r->sql) != CONNECTION_OK)
            return sql_error(r->sql, "creating the publication", err);
        return error_set(err,
                         "cannot create publication \"%s\": %s (FOR ALL TABLES needs a superuser; "
                         "create it as one, or use publication.autocreate.mode=filtered as the "
                         "tables' owner)",
                         r->publication, pq_msg(r->sql));
    }
    PQclear(res);
    log_info("pg", "created publication %s", r->publication);
    return 0;
}

struct slot_info {
    bool exists;
    bool active;
    int active_pid;
    uint64_t confirmed;
    uint64_t restart;
    char plugin[64];
    char database[128];
};

static int slot_query(struct pg_reader *r, const char *name, struct slot_info *si,
                      struct error *err)
{
    const char *params[] = {name};
    memset(si, 0, sizeof *si);
    PGresult *res = run_params(r->sql,
                               "SELECT active, COALESCE(active_pid, 0), "
                               "COALESCE(confirmed_flush_lsn::text, '0/0'), "
                               "COALESCE(restart_lsn::text, '0/0'), COALESCE(plugin, ''), "
                               "COALESCE(database, '') FROM pg_replication_slots "
                               "WHERE slot_name = $1",
                               1, params, "looking up the replication slot", err);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1) {
        si->exists = true;
        si->active = PQgetvalue(res, 0, 0)[0] == 't';
        si->active_pid = atoi(PQgetvalue(res, 0, 1));
        (void)pgout_lsn_parse(PQgetvalue(res, 0, 2), &si->confirmed);
        (void)pgout_lsn_parse(PQgetvalue(res, 0, 3), &si->restart);
        snprintf(si->plugin, sizeof si->plugin, "%s", PQgetvalue(res, 0, 4));
        snprintf(si->database, sizeof si->database, "%s", PQgetvalue(res, 0, 5));
    }
    PQclear(res);
    return 0;
}

/* The slot as it must be to use: ours to read (not active elsewhere), pgoutput, this db. */
static int slot_usable(struct pg_reader *r, struct slot_info *si, struct error *err)
{
    int64_t deadline = clock_mono_ms() + SLOT_WAIT_MS;
    for (;;) {
        if (slot_query(r, r->slot, si, err) < 0)
            return -1;
        if (!si->exists || !si->active)
            break;
        /* After a crash of ours the old walsender may take a moment to notice. */
        if (clock_mono_ms() >= deadline)
            return error_set(err,
                             "replication slot \"%s\" is active for another client (walsender "
                             "pid %d): stop that client, or give dbtail its own slot.name",
                             r->slot, si->active_pid);
        usleep(200000);
    }
    if (si->exists && strcmp(si->plugin, "pgoutput") != 0)
        return error_set(err,
                         "replication slot \"%s\" uses plugin %s, not pgoutput: drop it "
                         "(SELECT pg_drop_replication_slot('%s')) or choose another slot.name",
                         r->slot, si->plugin, r->slot);
    if (si->exists && strcmp(si->database, r->dbname) != 0)
        return error_set(err,
                         "replication slot \"%s\" belongs to database %s, not %s: choose another "
                         "slot.name",
                         r->slot, si->database, r->dbname);
    return 0;
}

/* CREATE_REPLICATION_SLOT on conn; fills the consistent point and the exported snapshot name. */
static int slot_create(PGconn *conn, const char *name, bool temporary, uint64_t *lsn,
                       char *snapname, size_t snaplen, struct error *err)
{
    char *q = quote_ident(conn, name);
    char sql[512];
    snprintf(sql, sizeof sql, "CREATE_REPLICATION_SLOT %s%s LOGICAL pgoutput (SNAPSHOT 'export')",
             q, temporary ? " TEMPORARY" : "");
    free(q);
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        if (PQstatus(conn) != CONNECTION_OK)
            return sql_error(conn, "creating the replication slot", err);
        const char *m = pq_msg(conn);
        if (strstr(m, "max_replication_slots") || strstr(m, "all replication slots are in use"))
            return error_set(err,
                             "cannot create replication slot \"%s\": %s (raise "
                             "max_replication_slots or drop unused slots)",
                             name, m);
        return error_set(err, "cannot create replication slot \"%s\": %s", name, m);
    }
    int rc = pgout_lsn_parse(PQgetvalue(res, 0, 1), lsn);
    snprintf(snapname, snaplen, "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
    if (rc < 0)
        return error_set(err, "replication slot \"%s\": unreadable consistent point", name);
    return 0;
}

/* ------------------------------------------------------------------ snapshot */

/* Opens the snapshot transaction on the SQL connection and lists the tables to read. */
static int snapshot_begin(struct pg_reader *r, const char *snapname, uint64_t cons_lsn,
                          const char *slot_for_restart, struct error *err)
{
    PGresult *res = run(r->sql, "BEGIN ISOLATION LEVEL REPEATABLE READ", PGRES_COMMAND_OK,
                        "starting the snapshot transaction", err);
    if (res == NULL)
        return -1;
    PQclear(res);
    char *lit = quote_literal(r->sql, snapname, strlen(snapname));
    char sql[256];
    snprintf(sql, sizeof sql, "SET TRANSACTION SNAPSHOT %s", lit);
    free(lit);
    res = run(r->sql, sql, PGRES_COMMAND_OK, "importing the exported snapshot", err);
    if (res == NULL)
        return -1;
    PQclear(res);
    res = run(r->sql, "SELECT txid_current()", PGRES_TUPLES_OK, "reading the snapshot txid", err);
    if (res == NULL)
        return -1;
    r->snap_txid = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    struct slot_info si;
    if (slot_query(r, slot_for_restart, &si, err) < 0)
        return -1;
    r->snap_order = si.restart ? si.restart : cons_lsn;
    r->snap_lsn = cons_lsn;
    const char *params[] = {r->publication};
    res = run_params(r->sql,
                     "SELECT c.oid, n.nspname, c.relname FROM pg_publication_tables pt "
                     "JOIN pg_namespace n ON n.nspname = pt.schemaname "
                     "JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename "
                     "WHERE pt.pubname = $1 ORDER BY 2, 3",
                     1, params, "listing the publication's tables", err);
    if (res == NULL)
        return -1;
    free(r->snap_relids);
    r->snap_relids = mem_alloc(((size_t)PQntuples(res) + 1) * sizeof *r->snap_relids);
    r->nsnap = 0;
    for (int i = 0; i < PQntuples(res); i++)
        if (table_captured(r, PQgetvalue(res, i, 1), PQgetvalue(res, i, 2)))
            r->snap_relids[r->nsnap++] = (uint32_t)strtoul(PQgetvalue(res, i, 0), NULL, 10);
    PQclear(res);
    r->snap_i = 0;
    r->first_table_i = 0;
    r->table_started = false;
    return 0;
}

static bool table_is_done(const struct pg_reader *r, const char *fq)
{
    size_t i;
    json_t *v;
    json_array_foreach(r->tables_done, i, v)
    {
        if (strcmp(json_string_value(v), fq) == 0)
            return true;
    }
    return false;
}

/* Appends a range {upto, lsn} to the table's list in r->ranges (upto is stolen; NULL = end). */
static void range_add(struct pg_reader *r, const char *fq, json_t *upto, uint64_t lsn)
{
    json_t *list = json_object_get(r->ranges, fq);
    if (list == NULL) {
        list = json_array();
        json_object_set_new(r->ranges, fq, list);
    }
    json_t *seg = json_object();
    json_object_set_new(seg, "upto", upto ? upto : json_null());
    json_object_set_new(seg, "lsn", lsn_json(lsn));
    json_array_append_new(list, seg);
}

static json_t *snapshot_position(struct pg_reader *r, const char *table)
{
    json_t *p = json_object();
    json_object_set_new(p, "phase", json_string("snapshot"));
    json_object_set_new(p, "slot", json_string(r->slot));
    json_object_set_new(p, "slot_lsn", lsn_json(r->slot_lsn));
    json_object_set_new(p, "snapshot_lsn", lsn_json(r->snap_lsn));
    json_object_set_new(p, "tables_done", json_deep_copy(r->tables_done));
    if (table) {
        json_object_set_new(p, "table", json_string(table));
        json_object_set_new(p, "last_key",
                            r->emitted_key ? json_deep_copy(r->emitted_key) : json_null());
    }
    json_object_set_new(p, "ranges", json_deep_copy(r->ranges));
    return p;
}

static json_t *stream_position(struct pg_reader *r, uint64_t lsn)
{
    json_t *p = json_object();
    json_object_set_new(p, "phase", json_string("stream"));
    json_object_set_new(p, "slot", json_string(r->slot));
    json_object_set_new(p, "lsn", lsn_json(lsn));
    if (r->window_end > lsn && json_object_size(r->ranges))
        json_object_set_new(p, "ranges", json_deep_copy(r->ranges));
    return p;
}

static uint64_t ranges_max_lsn(const json_t *ranges)
{
    uint64_t max = 0;
    const char *k;
    json_t *list;
    json_object_foreach((json_t *)ranges, k, list)
    {
        size_t i;
        json_t *seg;
        json_array_foreach(list, i, seg)
        {
            uint64_t l;
            if (lsn_from_json(json_object_get(seg, "lsn"), &l) == 0 && l > max)
                max = l;
        }
    }
    return max;
}

/* Whether a table's snapshot can read it in COPY's binary format: every column has a binary
 * decoder, and every key column's value gives the text of a literal (key_sql) at once. */
static bool rel_binary(const struct pg_rel *rel)
{
    const struct schema_table *t = rel->table;
    for (size_t i = 0; i < t->ncols; i++)
        if (!pgtype_binary_ok(t->cols[i].type_oid, t->cols[i].kind))
            return false;
    for (size_t i = 0; i < rel->nkey; i++) {
        enum value_kind k = t->cols[rel->key_cols[i]].kind;
        if (k != VALUE_INT && k != VALUE_DECIMAL && k != VALUE_STRING && k != VALUE_ENUM)
            return false;
    }
    return true;
}

/* Key of a row in text form (JSON array of strings) from its COPY fields, binary ones decoded
 * in `a`. */
static int row_key(const struct pg_rel *rel, const struct pgtype_field *f, bool binary,
                   struct arena *a, json_t **out, struct error *err)
{
    json_t *k = json_array();
    for (size_t i = 0; i < rel->nkey; i++) {
        const struct schema_column *col = &rel->table->cols[rel->key_cols[i]];
        const struct pgtype_field *fd = &f[rel->key_cols[i]];
        struct value v;
        char num[24];
        if (fd->data == NULL) {
            json_array_append_new(k, json_null());
        } else if (!binary) {
            json_array_append_new(k, json_stringn(fd->data, fd->len));
        } else if (pgtype_decode_binary(col->type_oid, col->kind, (const uint8_t *)fd->data,
                                        fd->len, a, &v, err) < 0) {
            json_decref(k);
            return error_wrap(err, "column %s: ", col->name);
        } else if (v.kind == VALUE_INT) {
            snprintf(num, sizeof num, "%" PRId64, v.v.i);
            json_array_append_new(k, json_string(num));
        } else {
            json_array_append_new(k, json_stringn(v.v.s.p, v.v.s.len));
        }
    }
    *out = k;
    return 0;
}

static void key_sql(PGconn *conn, const struct pg_rel *rel, const json_t *key, struct buf *b)
{
    buf_putc(b, '(');
    for (size_t i = 0; i < rel->nkey; i++) {
        const json_t *v = json_array_get(key, i);
        char *lit = quote_literal(conn, json_string_value(v) ? json_string_value(v) : "",
                                  json_string_length(v));
        buf_printf(b, "%s%s::%s", i ? ", " : "", lit, rel->key_types[i]);
        free(lit);
    }
    buf_putc(b, ')');
}

/* Sends the COPY of the table's rows after `after` (NULL: from the start) in key order; its
 * rows follow as COPY data. */
static int copy_start(PGconn *conn, const struct pg_rel *rel, const json_t *after, bool binary,
                      struct error *err)
{
    const struct schema_table *t = rel->table;
    struct buf sql;
    buf_init(&sql);
    buf_puts(&sql, "COPY (SELECT ");
    for (size_t i = 0; i < t->ncols; i++) {
        char *q = quote_ident(conn, t->cols[i].name);
        buf_printf(&sql, "%s%s", i ? ", " : "", q);
        free(q);
    }
    char *s = quote_ident(conn, t->schema), *n = quote_ident(conn, t->name);
    buf_printf(&sql, " FROM %s%s.%s", rel->partitioned ? "" : "ONLY ", s, n);
    free(s);
    free(n);
    if (rel->nkey) {
        struct buf cols;
        buf_init(&cols);
        buf_putc(&cols, '(');
        for (size_t i = 0; i < rel->nkey; i++) {
            char *q = quote_ident(conn, rel->key_names[i]);
            buf_printf(&cols, "%s%s", i ? ", " : "", q);
            free(q);
        }
        buf_putc(&cols, ')');
        if (after && json_array_size(after) == rel->nkey) {
            buf_printf(&sql, " WHERE %s > ", cols.data);
            key_sql(conn, rel, after, &sql);
        }
        buf_printf(&sql, " ORDER BY %s", cols.data);
        buf_free(&cols);
    }
    buf_puts(&sql, binary ? ") TO STDOUT (FORMAT binary)" : ") TO STDOUT");
    PGresult *res = PQexec(conn, sql.data);
    buf_free(&sql);
    if (PQresultStatus(res) != PGRES_COPY_OUT) {
        PQclear(res);
        return sql_error(conn, "reading a table for the snapshot", err);
    }
    PQclear(res);
    return 0;
}

/* One row of the current COPY: 1 with *line set, 0 at the end of the COPY. */
static int copy_fetch(PGconn *conn, char **line, int *len, struct error *err)
{
    int n = PQgetCopyData(conn, line, 0);
    if (n > 0) {
        *len = n;
        return 1;
    }
    if (n == -2)
        return sql_error(conn, "reading a table for the snapshot", err);
    PGresult *res;
    int rc = 0;
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0)
            rc = sql_error(conn, "reading a table for the snapshot", err);
        PQclear(res);
    }
    return rc;
}

/*
 * The rows of a table are fetched, split and decoded by a thread of their own (the fetcher)
 * while the pipeline thread renders and writes the rows before them: the server, libpq and
 * the decoding work beside the rendering. The fetcher owns the SQL
 * connection from fetch_start until the table's last batch (or fetch_stop). It hands READ
 * events in batches through a bounded queue, with the snapshot markers and in the order that
 * reading one row at a time gives: a row is emitted only when the next one (or the table's
 * end) is known, so the last row of a chunk follows the chunk's COMMIT. A batch ends where a
 * chunk ended, with the key of the last row emitted before that point, so that the pipeline
 * thread builds exactly the COMMITs (positions) of one-row-at-a-time reading.
 */
enum batch_end {
    BATCH_MORE,  /* more rows of the same chunk follow */
    BATCH_CHUNK, /* a chunk ended: a COMMIT follows the rows */
    BATCH_TABLE, /* the table ended: its last COMMIT follows the rows */
    BATCH_ERROR  /* the fetcher stopped on `err` */
};

#define BATCH_ROWS    256
#define BATCH_BUFFERS 8 /* how far the fetcher runs ahead: at most this many batches exist */

struct snap_batch {
    struct snap_batch *next;
    struct arena *arena; /* the rows' text, the events' values and field lists */
    struct event ev[BATCH_ROWS];
    size_t n;
    /* source.ts_us of its rows: read when its first row was, as a clock reading per row would
     * cost as much as decoding a value, and a batch fills within a millisecond or so */
    int64_t ts_us;
    enum batch_end end;
    json_t *key; /* BATCH_CHUNK: key of the last row emitted before it (NULL: none yet) */
    struct error err;
};

/* What the fetcher reads: set by fetch_start, read-only while the thread runs. */
struct fetch_job {
    PGconn *conn;
    struct pg_rel rel; /* a copy: rel_load may move the reader's array, not what it points to */
    int64_t fetch_size;
    bool first_table, last_table;
    bool binary; /* rel_binary: COPY ... (FORMAT binary) */
    int64_t snap_txid;
    uint64_t snap_lsn, snap_order;
};

struct pg_fetch {
    struct fetch_job job;
    /* the thread's own while it runs */
    json_t *fetched_key; /* the COPY starts after it */
    json_t *emitted_key; /* key of the last row emitted */
    bool first_row_pending;
    char *held; /* fetched, not yet emitted row (libpq buffer) */
    int held_len;
    struct pgtype_field *last_fields; /* of cur's last row */
    struct snap_batch *cur;           /* being filled */
    struct arena *scratch;
    /* shared, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct snap_batch *full, *full_tail; /* filled, for the pipeline thread, oldest first */
    struct snap_batch *spare;            /* given back by the pipeline thread */
    size_t nbatches;                     /* allocated */
    bool stop;
    /* the pipeline thread's */
    pthread_t thread;
    bool running;
};

static struct pg_fetch *fetch_new(void)
{
    struct pg_fetch *f = mem_calloc(1, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->scratch = arena_new();
    return f;
}

/* Makes a batch empty again (in the fetcher, which allocated what it held). */
static void batch_clear(struct snap_batch *b)
{
    b->n = 0;
    arena_reset(b->arena);
    json_decref(b->key);
    b->key = NULL;
    b->end = BATCH_MORE;
}

static void batch_free(struct snap_batch *b)
{
    batch_clear(b);
    arena_free(b->arena);
    free(b);
}

/* An empty batch to fill; NULL when asked to stop. Waits while the pipeline is BATCH_BUFFERS
 * batches behind. */
static struct snap_batch *fetch_batch(struct pg_fetch *f)
{
    pthread_mutex_lock(&f->mu);
    while (!f->stop && f->spare == NULL && f->nbatches >= BATCH_BUFFERS)
        pthread_cond_wait(&f->cv, &f->mu);
    struct snap_batch *b = NULL;
    if (!f->stop && f->spare) {
        b = f->spare;
        f->spare = b->next;
    } else if (!f->stop) {
        f->nbatches++;
    }
    bool fresh = !f->stop && b == NULL;
    pthread_mutex_unlock(&f->mu);
    if (fresh) {
        b = mem_calloc(1, sizeof *b);
        b->arena = arena_new();
    } else if (b) {
        batch_clear(b);
    }
    return b;
}

/* Hands the batch being filled to the pipeline thread. */
static void fetch_push(struct pg_fetch *f, enum batch_end end)
{
    struct snap_batch *b = f->cur;
    f->cur = NULL;
    b->end = end;
    b->next = NULL;
    pthread_mutex_lock(&f->mu);
    if (f->full_tail)
        f->full_tail->next = b;
    else
        f->full = b;
    f->full_tail = b;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static int decode_field(bool binary, const struct schema_column *col, const struct pgtype_field *fd,
                        struct arena *a, struct value *out, struct error *err)
{
    if (!binary)
        return decode_into(col, fd->data, fd->len, a, out, err);
    if (pgtype_decode_binary(col->type_oid, col->kind, (const uint8_t *)fd->data, fd->len, a, out,
                             err) < 0)
        return error_wrap(err, "column %s: ", col->name);
    return 0;
}

/* Splits a fetched row into the table's fields (escaped text ones copied into `a`). */
static int split_row(const struct fetch_job *job, const char *line, size_t len, struct arena *a,
                     struct pgtype_field *fl, struct error *err)
{
    const struct schema_table *t = job->rel.table;
    int rc;
    if (job->binary) {
        rc = pgtype_copy_binary_fields(line, len, fl, t->ncols, err);
        if (rc > 0)
            rc = error_set(err, "malformed binary COPY data: a trailer before the end");
    } else {
        if (len && line[len - 1] == '\n')
            len--;
        rc = pgtype_copy_fields(line, len, a, fl, t->ncols, err);
    }
    return rc < 0 ? error_wrap(err, "table %s.%s: ", t->schema, t->name) : 0;
}

/* A binary COPY's message (libpq's buffer, len updated): strips the header from the COPY's
 * first one (*header says it is still to come); 1 when it holds a tuple, 0 for the trailer, -1
 * when malformed. */
static int binary_message(char *line, int *len, bool *header, struct error *err)
{
    size_t n = (size_t)*len;
    if (*header) {
        size_t skip;
        if (pgtype_copy_binary_header(line, n, &skip, err) < 0)
            return -1;
        memmove(line, line + skip, n - skip);
        n -= skip;
        *header = false;
    }
    *len = (int)n;
    return n == 2 && (uint8_t)line[0] == 0xff && (uint8_t)line[1] == 0xff ? 0 : 1;
}

/* Decodes the held row into the batch being filled as a READ event: 0, 1 when asked to stop. */
static int fetch_emit(struct pg_fetch *f, bool last_in_table, struct error *err)
{
    const struct fetch_job *job = &f->job;
    const struct schema_table *t = job->rel.table;
    if (f->cur->n == BATCH_ROWS) {
        fetch_push(f, BATCH_MORE);
        if ((f->cur = fetch_batch(f)) == NULL)
            return 1;
    }
    struct snap_batch *b = f->cur;
    size_t len = (size_t)f->held_len;
    /* A copy, so that libpq's buffer is freed at once and malloc hands the same block back for
     * the next row, rather than a batch's worth of rows each holding one. */
    char *line = arena_dup(b->arena, f->held, len);
    PQfreemem(f->held);
    f->held = NULL;
    struct pgtype_field *fl = arena_alloc(b->arena, (t->ncols + 1) * sizeof *fl);
    if (split_row(job, line, len, b->arena, fl, err) < 0)
        return -1;
    struct value *after = arena_alloc(b->arena, (t->ncols ? t->ncols : 1) * sizeof *after);
    for (size_t i = 0; i < t->ncols; i++) {
        const struct schema_column *col = &t->cols[i];
        after[i].kind = VALUE_NULL;
        if (fl[i].data == NULL)
            continue;
        if (decode_field(job->binary, col, &fl[i], b->arena, &after[i], err) < 0)
            return error_wrap(err, "table %s.%s: ", t->schema, t->name);
    }
    f->last_fields = fl;
    if (b->n == 0)
        b->ts_us = clock_wall_us();
    struct event *ev = &b->ev[b->n++];
    memset(ev, 0, sizeof *ev);
    ev->op = EVENT_READ;
    ev->table = t;
    ev->after = after;
    ev->source.connector = EVENT_POSTGRESQL;
    ev->source.thread = -1;
    ev->source.ts_us = b->ts_us;
    ev->source.txid = job->snap_txid;
    ev->source.lsn = job->snap_lsn;
    ev->order = job->snap_order;
    bool first_in_table = f->first_row_pending;
    if (last_in_table && job->last_table)
        ev->source.snapshot = SNAPSHOT_LAST;
    else if (first_in_table && job->first_table)
        ev->source.snapshot = SNAPSHOT_FIRST;
    else if (last_in_table)
        ev->source.snapshot = SNAPSHOT_LAST_IN_DATA_COLLECTION;
    else if (first_in_table)
        ev->source.snapshot = SNAPSHOT_FIRST_IN_DATA_COLLECTION;
    else
        ev->source.snapshot = SNAPSHOT_TRUE;
    f->first_row_pending = false;
    return 0;
}

/* At the end of a chunk of fetch_size rows, with its last row held: hands over the batch being
 * filled with the key of the last row emitted (the chunk's COMMIT), as reading the chunks with a
 * query each would; 1 when asked to stop. */
static int fetch_chunk_end(struct pg_fetch *f, struct error *err)
{
    const struct fetch_job *job = &f->job;
    const struct pg_rel *rel = &job->rel;
    arena_reset(f->scratch);
    json_t *key = NULL;
    /* A batch is handed over before a row goes into a full one, never after, so a row emitted
     * since the last chunk's end is in the batch being filled, last. */
    if (f->cur->n) {
        if (row_key(rel, f->last_fields, job->binary, f->scratch, &key, err) < 0)
            return -1;
        json_decref(f->emitted_key);
        f->emitted_key = key;
    }
    /* A copy: the pipeline thread keeps it in its positions while this one moves on. */
    f->cur->key = f->emitted_key ? json_deep_copy(f->emitted_key) : NULL;
    fetch_push(f, BATCH_CHUNK);
    return (f->cur = fetch_batch(f)) == NULL ? 1 : 0;
}

/* Reads the job's table to its end: one COPY in key order (from after the key it resumes at),
 * a chunk's COMMIT every fetch_size rows. One query rather than one per chunk: between two
 * queries the server and the fetcher would wait on each other, a tenth of a snapshot's time.
 * 0 when its last batch is handed over, 1 when asked to stop, -1 on an error. */
static int fetch_table(struct pg_fetch *f, struct error *err)
{
    const struct fetch_job *job = &f->job;
    const struct pg_rel *rel = &job->rel;
    if ((f->cur = fetch_batch(f)) == NULL)
        return 1;
    if (copy_start(job->conn, rel, f->fetched_key, job->binary, err) < 0)
        return -1;
    int64_t rows = 0;
    bool header = job->binary, trailer = false;
    for (;;) {
        char *line = NULL;
        int len = 0;
        int got = copy_fetch(job->conn, &line, &len, err);
        if (got < 0)
            return -1;
        if (got == 0)
            break;
        if (job->binary) {
            int kind = trailer ? error_set(err, "malformed binary COPY data: a message after "
                                                "the trailer")
                               : binary_message(line, &len, &header, err);
            if (kind <= 0)
                PQfreemem(line);
            if (kind < 0)
                return error_wrap(err, "table %s.%s: ", rel->table->schema, rel->table->name);
            if (kind == 0) {
                trailer = true;
                continue;
            }
        }
        int rc = 0;
        if (rel->nkey && rows > 0 && rows % job->fetch_size == 0)
            rc = fetch_chunk_end(f, err);
        if (rc == 0 && f->held)
            rc = fetch_emit(f, false, err);
        if (rc != 0) {
            PQfreemem(line);
            return rc;
        }
        rows++;
        f->held = line;
        f->held_len = len;
    }
    if (job->binary && !trailer)
        return error_set(err, "table %s.%s: binary COPY data ended without its trailer",
                         rel->table->schema, rel->table->name);
    int rc = f->held ? fetch_emit(f, true, err) : 0;
    if (rc == 0)
        fetch_push(f, BATCH_TABLE);
    return rc;
}

static void *fetch_main(void *arg)
{
    struct pg_fetch *f = arg;
    struct error err;
    error_clear(&err);
    /* Every error leaves the batch being filled: it carries the error after the rows it holds. */
    if (fetch_table(f, &err) < 0) {
        f->cur->err = err;
        fetch_push(f, BATCH_ERROR);
    }
    if (f->held) {
        PQfreemem(f->held);
        f->held = NULL;
    }
    return NULL;
}

/* Starts the fetcher on a table; fetched_key and emitted_key (borrowed, may be NULL) are where
 * a resumed table continues. The SQL connection is the fetcher's until fetch_stop. */
static int fetch_start(struct pg_reader *r, const struct pg_rel *rel, struct error *err)
{
    if (r->fetch == NULL)
        r->fetch = fetch_new();
    struct pg_fetch *f = r->fetch;
    f->job = (struct fetch_job){.conn = r->sql,
                                .rel = *rel,
                                .fetch_size = r->fetch_size,
                                .first_table =
                                    r->snap_i == r->first_table_i && r->resume_first_row_is_first,
                                .last_table = r->snap_i + 1 == r->nsnap,
                                .binary = rel_binary(rel),
                                .snap_txid = r->snap_txid,
                                .snap_lsn = r->snap_lsn,
                                .snap_order = r->snap_order};
    f->fetched_key = r->fetched_key ? json_deep_copy(r->fetched_key) : NULL;
    f->emitted_key = r->emitted_key ? json_deep_copy(r->emitted_key) : NULL;
    f->first_row_pending = r->fetched_key == NULL;
    f->stop = false;
    /* Signals stay with the pipeline thread, which acts on them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&f->thread, NULL, fetch_main, f);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return error_set(err, "cannot start the snapshot fetch thread: %s", strerror(rc));
    f->running = true;
    return 0;
}

/* Waits for the fetcher's end (asking it to stop first when `cancel`); the SQL connection is
 * the pipeline thread's again. */
static void fetch_stop(struct pg_fetch *f, bool cancel)
{
    if (f == NULL || !f->running)
        return;
    if (cancel) {
        pthread_mutex_lock(&f->mu);
        f->stop = true;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
    }
    pthread_join(f->thread, NULL);
    f->running = false;
    json_decref(f->fetched_key);
    json_decref(f->emitted_key);
    f->fetched_key = f->emitted_key = NULL;
}

/* The oldest filled batch; waits for the fetcher to fill one. */
static struct snap_batch *fetch_next(struct pg_fetch *f)
{
    pthread_mutex_lock(&f->mu);
    while (f->full == NULL)
        pthread_cond_wait(&f->cv, &f->mu);
    struct snap_batch *b = f->full;
    f->full = b->next;
    if (f->full == NULL)
        f->full_tail = NULL;
    pthread_mutex_unlock(&f->mu);
    return b;
}

/* Gives a batch whose events the pipeline is done with back to the fetcher. */
static void fetch_recycle(struct pg_fetch *f, struct snap_batch *b)
{
    pthread_mutex_lock(&f->mu);
    b->next = f->spare;
    f->spare = b;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static void fetch_free(struct pg_fetch *f)
{
    if (f == NULL)
        return;
    fetch_stop(f, true);
    for (struct snap_batch *b = f->full, *next; b; b = next) {
        next = b->next;
        batch_free(b);
    }
    for (struct snap_batch *b = f->spare, *next; b; b = next) {
        next = b->next;
        batch_free(b);
    }
    arena_free(f->scratch);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

/* Handles the end of the batch whose rows were all handed out, and gives it back. */
static int batch_done(struct pg_reader *r, struct error *err)
{
    struct snap_batch *b = r->batch;
    r->batch = NULL;
    enum batch_end end = b->end;
    json_t *key = b->key;
    b->key = NULL;
    if (end == BATCH_ERROR)
        *err = b->err;
    fetch_recycle(r->fetch, b);
    if (end == BATCH_MORE)
        return 0;
    if (end == BATCH_ERROR) {
        fetch_stop(r->fetch, false);
        return -1;
    }
    const struct pg_rel *rel = &r->fetch->job.rel;
    char *fq = fq_name(rel->table);
    struct event *ev = ev_push(r);
    ev->op = EVENT_COMMIT;
    if (end == BATCH_CHUNK) {
        json_decref(r->emitted_key);
        r->emitted_key = key;
        ev->position = hold(r, snapshot_position(r, fq));
        free(fq);
        return 0;
    }
    fetch_stop(r->fetch, false);
    json_array_append_new(r->tables_done, json_string(fq));
    range_add(r, fq, NULL, r->snap_lsn);
    r->snap_i++;
    r->table_started = false;
    json_decref(r->fetched_key);
    json_decref(r->emitted_key);
    r->fetched_key = r->emitted_key = NULL;
    ev->position = hold(r, snapshot_position(r, NULL));
    free(fq);
    return 0;
}

/* Ends the snapshot: commits the transaction, drops the temporary slot, hands the last COMMIT. */
static int snapshot_finish(struct pg_reader *r, struct error *err)
{
    PGresult *res = run(r->sql, "COMMIT", PGRES_COMMAND_OK, "ending the snapshot", err);
    if (res == NULL)
        return -1;
    PQclear(res);
    if (r->snaprepl) {
        PQfinish(r->snaprepl);
        r->snaprepl = NULL;
    }
    r->window_end = ranges_max_lsn(r->ranges);
    if (r->window_end <= r->slot_lsn) {
        json_decref(r->ranges);
        r->ranges = json_object();
        r->window_end = 0;
    }
    struct event *ev = ev_push(r);
    ev->op = EVENT_COMMIT;
    ev->position = hold(r, stream_position(r, r->slot_lsn));
    ev->snapshot_done = true;
    /* Durable only once the pipeline acks this COMMIT: until then the stream must not confirm
     * the server's WAL end as idle progress. */
    r->received_lsn = r->slot_lsn;
    log_info("pg", "snapshot of %zu tables done; streaming from %s", r->nsnap,
             json_string_value(json_object_get(ev->position, "lsn")));
    r->phase = r->mode == READER_SNAPSHOT_ONLY || r->snapmode == SNAP_INITIAL_ONLY ? PHASE_DONE
                                                                                   : PHASE_STREAM;
    return 0;
}

/* Gives the metrics and the progress line the planner's row estimate of a table about to be
 * read (none when it was never analyzed: reltuples is -1 then). */
static int snapshot_estimate(struct pg_reader *r, uint32_t relid, const struct schema_table *t,
                             struct error *err)
{
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT reltuples::bigint FROM pg_class WHERE oid = %" PRIu32, relid);
    PGresult *res = run(r->sql, sql, PGRES_TUPLES_OK, "reading a table's row estimate", err);
    if (res == NULL)
        return -1;
    long long rows = PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    PQclear(res);
    if (rows >= 0) {
        char label[300];
        snprintf(label, sizeof label, "%s.%s", t->schema, t->name);
        metrics_snapshot_expected(metrics_current(), label, rows);
    }
    return 0;
}

/* Produces the next snapshot events: COMMITs into the queue, or a batch of rows. */
static int snapshot_step(struct pg_reader *r, struct error *err)
{
    while (r->qn == 0) {
        if (r->batch) {
            if (batch_done(r, err) < 0)
                return -1;
            continue;
        }
        if (r->snap_i >= r->nsnap)
            return snapshot_finish(r, err);
        if (!r->table_started) {
            struct pg_rel *rel;
            if (rel_load(r, r->snap_relids[r->snap_i], &rel, err) < 0)
                return -1;
            char *fq = fq_name(rel->table ? rel->table : &(struct schema_table){0});
            if (rel->table == NULL || table_is_done(r, fq)) {
                free(fq);
                r->snap_i++;
                continue;
            }
            free(fq);
            log_info("pg", "snapshot of %s.%s", rel->table->schema, rel->table->name);
            log_debug("pg", "reading %s.%s in COPY's %s format", rel->table->schema,
                      rel->table->name, rel_binary(rel) ? "binary" : "text");
            if (snapshot_estimate(r, r->snap_relids[r->snap_i], rel->table, err) < 0 ||
                fetch_start(r, rel, err) < 0)
                return -1;
            r->table_started = true;
        }
        r->batch = fetch_next(r->fetch);
        r->batch_pos = 0;
        if (r->batch->n)
            return 0;
    }
    return 0;
}

/*
 * Prepares the snapshot. `resume` is the position of a snapshot in progress (NULL for a new
 * one); `stream_from` is where the stream will start when the slot already exists (0 when the
 * slot is created here).
 */
static int snapshot_prepare(struct pg_reader *r, const json_t *resume, bool slot_exists,
                            uint64_t stream_from, struct error *err)
{
    char snapname[128];
    uint64_t cons;
    json_decref(r->tables_done);
    json_decref(r->ranges);
    r->tables_done = json_array();
    r->ranges = json_object();
    r->resume_first_row_is_first = resume == NULL;
    if (!slot_exists) {
        if (slot_create(r->repl, r->slot,
                        r->mode == READER_SNAPSHOT_ONLY || r->snapmode == SNAP_INITIAL_ONLY, &cons,
                        snapname, sizeof snapname, err) < 0)
            return -1;
        log_info("pg", "created replication slot %s at %" PRIX32 "/%" PRIX32, r->slot,
                 (uint32_t)(cons >> 32), (uint32_t)cons);
        r->slot_lsn = cons;
        if (snapshot_begin(r, snapname, cons, r->slot, err) < 0)
            return -1;
    } else {
        /* The old snapshot is gone: a TEMPORARY slot exports a new one (see the top). */
        char tmp[128];
        snprintf(tmp, sizeof tmp, "%.40s_snap_%d", r->slot, (int)getpid());
        if (connect_pg(r, true, &r->snaprepl, err) < 0)
            return -1;
        if (slot_create(r->snaprepl, tmp, true, &cons, snapname, sizeof snapname, err) < 0)
            return -1;
        r->slot_lsn = stream_from;
        if (snapshot_begin(r, snapname, cons, tmp, err) < 0)
            return -1;
        if (resume) {
            json_t *done = json_object_get(resume, "tables_done");
            json_t *rg = json_object_get(resume, "ranges");
            if (json_is_array(done)) {
                json_decref(r->tables_done);
                r->tables_done = json_deep_copy(done);
            }
            if (json_is_object(rg)) {
                json_decref(r->ranges);
                r->ranges = json_deep_copy(rg);
            }
            const char *cur = json_string_value(json_object_get(resume, "table"));
            json_t *last = json_object_get(resume, "last_key");
            uint64_t prev_lsn;
            if (cur && json_is_array(last) &&
                lsn_from_json(json_object_get(resume, "snapshot_lsn"), &prev_lsn) == 0) {
                /* Rows up to last_key were read at the previous snapshot. */
                range_add(r, cur, json_deep_copy(last), prev_lsn);
                /* Continue that table first, after last_key; a table no longer there (dropped,
                 * renamed, filtered out) leaves every other table to be read whole. */
                for (size_t i = 0; i < r->nsnap; i++) {
                    struct pg_rel *rel;
                    if (rel_load(r, r->snap_relids[i], &rel, err) < 0)
                        return -1;
                    if (rel->table == NULL)
                        continue;
                    char *fq = fq_name(rel->table);
                    bool match = strcmp(fq, cur) == 0;
                    free(fq);
                    if (match) {
                        r->fetched_key = json_deep_copy(last);
                        r->emitted_key = json_deep_copy(last);
                        uint32_t id = r->snap_relids[i];
                        memmove(r->snap_relids + 1, r->snap_relids, i * sizeof *r->snap_relids);
                        r->snap_relids[0] = id;
                        break;
                    }
                }
            }
        }
        log_info("pg",
                 "new snapshot at %" PRIX32 "/%" PRIX32 " (temporary slot %s); the stream "
                 "resumes at %" PRIX32 "/%" PRIX32,
                 (uint32_t)(cons >> 32), (uint32_t)cons, tmp, (uint32_t)(stream_from >> 32),
                 (uint32_t)stream_from);
    }
    r->snap_lsn = cons;
    r->phase = PHASE_SNAPSHOT;
    return 0;
}

/* ------------------------------------------------------------------ stream */

static int send_status(struct pg_reader *r, bool reply, struct error *err)
{
    unsigned char msg[34];
    uint64_t written = r->received_lsn > r->feedback_lsn ? r->received_lsn : r->feedback_lsn;
    int64_t now = clock_wall_us() - PGOUT_EPOCH_DIFF_US;
    uint64_t vals[4] = {written, r->feedback_lsn, r->feedback_lsn, (uint64_t)now};
    msg[0] = 'r';
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 8; i++)
            msg[1 + k * 8 + i] = (unsigned char)(vals[k] >> (56 - 8 * i));
    msg[33] = reply ? 1 : 0;
    if (PQputCopyData(r->repl, (const char *)msg, sizeof msg) != 1 || PQflush(r->repl) != 0)
        return error_retry(err, "lost replication connection sending status: %s", pq_msg(r->repl));
    r->last_status_ms = clock_mono_ms();
    return 0;
}

static int stream_start(struct pg_reader *r, struct error *err)
{
    char lsn[32];
    lsn_str(r->received_lsn, lsn, sizeof lsn);
    char *slot = quote_ident(r->repl, r->slot);
    char *pub = quote_literal(r->repl, r->publication, strlen(r->publication));
    char sql[512];
    snprintf(sql, sizeof sql,
             "START_REPLICATION SLOT %s LOGICAL %s (proto_version '1', publication_names %s)", slot,
             lsn, pub);
    free(slot);
    free(pub);
    PGresult *res = PQexec(r->repl, sql);
    if (PQresultStatus(res) != PGRES_COPY_BOTH) {
        PQclear(res);
        if (PQstatus(r->repl) != CONNECTION_OK)
            return sql_error(r->repl, "starting replication", err);
        const char *m = pq_msg(r->repl);
        if (strstr(m, "does not exist") && strstr(m, "publication"))
            return error_set(err, "cannot start replication: %s (create publication %s)", m,
                             r->publication);
        if (strstr(m, "is active"))
            return error_retry(err, "cannot start replication: %s", m);
        return error_set(err, "cannot start replication from slot %s at %s: %s", r->slot, lsn, m);
    }
    PQclear(res);
    r->streaming = true;
    r->feedback_lsn = r->durable_lsn;
    r->last_status_ms = clock_mono_ms();
    r->last_heartbeat_ms = clock_mono_ms();
    log_info("pg", "streaming from slot %s at %s", r->slot, lsn);
    return 0;
}

/* Values of a tuple into a fresh array of table->ncols values. */
static int tuple_values(struct pg_reader *r, const struct pg_rel *rel,
                        const struct pgout_tuple *tup, struct value **out, struct error *err)
{
    const struct schema_table *t = rel->table;
    struct value *v = values_new(r, t->ncols);
    if (tup->ncols != rel->nmap)
        return error_set(err, "table %s.%s: a row of %u columns for a relation of %zu", t->schema,
                         t->name, tup->ncols, rel->nmap);
    for (size_t c = 0; c < tup->ncols; c++) {
        int dst = rel->map[c];
        if (dst < 0)
            continue;
        const struct pgout_datum *d = &tup->cols[c];
        if (d->kind == 'n')
            v[dst].kind = VALUE_NULL;
        else if (d->kind == 'u')
            v[dst].kind = VALUE_UNCHANGED;
        else if (d->kind == 't') {
            if (decode_into(&t->cols[dst], d->data, d->len, r->arena, &v[dst], err) < 0)
                return error_wrap(err, "table %s.%s: ", t->schema, t->name);
        } else
            return error_set(err, "table %s.%s: binary tuple data is not expected", t->schema,
                             t->name);
    }
    *out = v;
    return 0;
}

/* The primary-key text of a tuple (JSON array), or NULL when it lacks one. */
static json_t *tuple_key(const struct pg_rel *rel, const struct pgout_tuple *tup)
{
    if (rel->nkey == 0)
        return NULL;
    json_t *k = json_array();
    for (size_t i = 0; i < rel->nkey; i++) {
        int found = -1;
        for (size_t c = 0; c < rel->nmap; c++)
            if (rel->map[c] == rel->key_cols[i])
                found = (int)c;
        if (found < 0 || found >= tup->ncols || tup->cols[found].kind != 't') {
            json_decref(k);
            return NULL;
        }
        json_array_append_new(k, json_stringn(tup->cols[found].data, tup->cols[found].len));
    }
    return k;
}

/* Whether a change of the current transaction to `key` is already in a snapshot row. */
static int in_snapshot(struct pg_reader *r, const struct pg_rel *rel, json_t *key, bool *skip,
                       struct error *err)
{
    *skip = false;
    if (r->window_end == 0 || r->final_lsn >= r->window_end)
        return 0;
    char *fq = fq_name(rel->table);
    json_t *list = json_object_get(r->ranges, fq);
    free(fq);
    if (list == NULL)
        return 0;
    size_t i;
    json_t *seg;
    json_array_foreach(list, i, seg)
    {
        uint64_t lsn = 0;
        (void)lsn_from_json(json_object_get(seg, "lsn"), &lsn);
        json_t *upto = json_object_get(seg, "upto");
        bool in_seg = true;
        if (json_is_array(upto)) {
            if (key == NULL || rel->nkey == 0)
                continue;
            struct buf sql;
            buf_init(&sql);
            buf_puts(&sql, "SELECT ");
            key_sql(r->sql, rel, key, &sql);
            buf_puts(&sql, " <= ");
            key_sql(r->sql, rel, upto, &sql);
            PGresult *res = run(r->sql, sql.data, PGRES_TUPLES_OK, "comparing keys", err);
            buf_free(&sql);
            if (res == NULL)
                return -1;
            in_seg = PQgetvalue(res, 0, 0)[0] == 't';
            PQclear(res);
        }
        if (in_seg) {
            *skip = r->final_lsn < lsn;
            return 0;
        }
    }
    return 0;
}

static void change_source(struct pg_reader *r, struct event *ev, uint64_t lsn)
{
    ev->source.ts_us = r->commit_us;
    ev->source.txid = r->xid;
    ev->source.lsn = lsn;
    ev->source.last_commit_lsn = r->received_lsn;
    ev->source.snapshot = SNAPSHOT_FALSE;
    /* Debezium's PostgreSQL transaction id names the record's own LSN ("xid:lsn"), so it
     * differs between the changes of one transaction; the id lives as long as the event. */
    char *id = arena_alloc(r->arena, 48);
    snprintf(id, 48, "%" PRIu32 ":%" PRIu64, r->xid, lsn);
    ev->txn_id = id;
    ev->order = lsn;
}

static int push_change(struct pg_reader *r, const struct pg_rel *rel, enum event_op op,
                       struct value *before, struct value *after, json_t *key, uint64_t lsn,
                       struct error *err)
{
    bool skip;
    int rc = in_snapshot(r, rel, key, &skip, err);
    json_decref(key);
    if (rc < 0)
        return -1;
    if (skip)
        return 0;
    struct event *ev = ev_push(r);
    ev->op = op;
    ev->table = rel->table;
    ev->before = before;
    ev->after = after;
    change_source(r, ev, lsn);
    return 0;
}

static bool key_changed(const struct pg_rel *rel, const struct pgout_tuple *old,
                        const struct pgout_tuple *nw)
{
    for (size_t c = 0; c < rel->nmap && c < old->ncols && c < nw->ncols; c++) {
        int dst = rel->map[c];
        if (dst < 0 || !rel->table->cols[dst].key || old->cols[c].kind != 't')
            continue;
        if (nw->cols[c].kind != 't' || nw->cols[c].len != old->cols[c].len ||
            memcmp(nw->cols[c].data, old->cols[c].data, old->cols[c].len) != 0)
            return true;
    }
    return false;
}

static int handle_change(struct pg_reader *r, uint64_t lsn, struct error *err)
{
    struct pgout_msg *m = &r->msg;
    struct pg_rel *rel = rel_find(r, m->u.change.relid);
    if (rel == NULL)
        return error_set(err, "change for relation %u before its Relation message",
                         m->u.change.relid);
    if (rel->table == NULL)
        return 0;
    struct value *before = NULL, *after = NULL;
    if (m->u.change.old_kind && tuple_values(r, rel, &m->old_tuple, &before, err) < 0)
        return -1;
    if (m->u.change.has_new && tuple_values(r, rel, &m->new_tuple, &after, err) < 0)
        return -1;
    switch (m->type) {
    case PGOUT_INSERT:
        return push_change(r, rel, EVENT_CREATE, NULL, after, tuple_key(rel, &m->new_tuple), lsn,
                           err);
    case PGOUT_DELETE:
        return push_change(r, rel, EVENT_DELETE, before, NULL, tuple_key(rel, &m->old_tuple), lsn,
                           err);
    default:
        break;
    }
    if (before && key_changed(rel, &m->old_tuple, &m->new_tuple)) {
        /* Debezium: a key change is a delete of the old key and a create of the new one. */
        if (push_change(r, rel, EVENT_DELETE, before, NULL, tuple_key(rel, &m->old_tuple), lsn,
                        err) < 0)
            return -1;
        return push_change(r, rel, EVENT_CREATE, NULL, after, tuple_key(rel, &m->new_tuple), lsn,
                           err);
    }
    /* Only REPLICA IDENTITY FULL gives a full old row; a key-only one is no "before". */
    if (m->u.change.old_kind != 'O')
        before = NULL;
    return push_change(r, rel, EVENT_UPDATE, before, after, tuple_key(rel, &m->new_tuple), lsn,
                       err);
}

/*
 * The walsender sends a transaction as soon as its commit record is flushed, while the backend
 * that committed it may not have left the ProcArray yet: until then, other sessions (our catalog
 * queries included) still see the catalog as it was before the transaction's DDL. A Relation
 * message read in that window would take the old columns' defaults, NOT NULL flags and keys.
 * Waits until the transaction being decoded is visible to a new snapshot on r->sql.
 */
static int wait_txn_visible(struct pg_reader *r, struct error *err)
{
    if (!r->in_txn)
        return 0;
    char sxid[16];
    snprintf(sxid, sizeof sxid, "%u", r->xid);
    const char *params[] = {sxid};
    int64_t deadline = clock_mono_ms() + TXN_VISIBLE_WAIT_MS;
    for (;;) {
        /* The 32-bit xid widened with the epoch of the snapshot's xmax, which is at most 2^31
         * transactions ahead of a transaction being decoded. */
        PGresult *res = run_params(
            r->sql,
            "SELECT txid_visible_in_snapshot(x - ((x % 4294967296 - $1::bigint + 4294967296) "
            "% 4294967296), s) FROM (SELECT s, txid_snapshot_xmax(s) AS x "
            "FROM txid_current_snapshot() s) q",
            1, params, "checking that a decoded transaction is visible", err);
        if (res == NULL)
            return -1;
        bool visible = PQgetvalue(res, 0, 0)[0] == 't';
        PQclear(res);
        if (visible)
            return 0;
        if (clock_mono_ms() >= deadline)
            return error_retry(err,
                               "transaction %u is decoded but not yet visible to other sessions "
                               "(a synchronous standby may be missing): its table definitions "
                               "cannot be read yet",
                               r->xid);
        usleep(10000);
    }
}

static int handle_relation(struct pg_reader *r, struct error *err)
{
    if (wait_txn_visible(r, err) < 0)
        return -1;
    struct pgout_msg *m = &r->msg;
    size_t n = m->u.relation.ncols;
    const char **names = mem_alloc((n ? n : 1) * sizeof *names);
    uint32_t *oids = mem_alloc((n ? n : 1) * sizeof *oids);
    int32_t *mods = mem_alloc((n ? n : 1) * sizeof *mods);
    for (size_t i = 0; i < n; i++) {
        names[i] = m->relcols[i].name;
        oids[i] = m->relcols[i].type_oid;
        mods[i] = m->relcols[i].typmod;
    }
    const char *nsp = *m->u.relation.nspname ? m->u.relation.nspname : "pg_catalog";
    struct pg_rel *rel;
    int rc = rel_build(r, m->u.relation.relid, nsp, m->u.relation.relname, n, names, oids, mods,
                       &rel, err);
    free(names);
    free(oids);
    free(mods);
    return rc;
}

static int handle_truncate(struct pg_reader *r, uint64_t lsn, struct error *err)
{
    struct pgout_msg *m = &r->msg;
    for (uint32_t i = 0; i < m->u.truncate.nrels; i++) {
        struct pg_rel *rel = rel_find(r, m->relids[i]);
        if (rel == NULL)
            return error_set(err, "truncate of relation %u before its Relation message",
                             m->relids[i]);
        if (rel->table == NULL)
            continue;
        if (r->window_end && r->final_lsn < r->window_end) {
            /* Every row after this truncate is replayed by the stream: no filter for it. */
            char *fq = fq_name(rel->table);
            json_object_del(r->ranges, fq);
            free(fq);
        }
        struct event *ev = ev_push(r);
        ev->op = EVENT_TRUNCATE;
        ev->table = rel->table;
        change_source(r, ev, lsn);
    }
    return 0;
}

static int handle_xlogdata(struct pg_reader *r, const struct pgout_copydata *cd, struct error *err)
{
    if (pgout_parse(cd->data, cd->len, &r->msg, err) < 0)
        return error_wrap(err, "slot %s at %" PRIX64 ": ", r->slot, cd->wal_start);
    struct pgout_msg *m = &r->msg;
    switch (m->type) {
    case PGOUT_BEGIN:
        r->in_txn = true;
        r->xid = m->u.begin.xid;
        r->final_lsn = m->u.begin.final_lsn;
        r->commit_us = m->u.begin.commit_time + PGOUT_EPOCH_DIFF_US;
        return 0;
    case PGOUT_COMMIT: {
        struct event *ev = ev_push(r);
        ev->op = EVENT_COMMIT;
        r->in_txn = false;
        r->received_lsn = m->u.commit.end_lsn;
        if (r->window_end && r->received_lsn >= r->window_end) {
            r->window_end = 0;
            json_decref(r->ranges);
            r->ranges = json_object();
        }
        ev->position = hold(r, stream_position(r, m->u.commit.end_lsn));
        ev->source.connector = EVENT_POSTGRESQL;
        ev->source.ts_us = m->u.commit.commit_time + PGOUT_EPOCH_DIFF_US;
        ev->source.txid = r->xid;
        ev->source.lsn = m->u.commit.commit_lsn;
        snprintf(r->txn_id, sizeof r->txn_id, "%" PRIu32 ":%" PRIu64, r->xid, m->u.commit.end_lsn);
        ev->txn_id = r->txn_id;
        return 0;
    }
    case PGOUT_RELATION:
        return handle_relation(r, err);
    case PGOUT_INSERT:
    case PGOUT_UPDATE:
    case PGOUT_DELETE:
        return handle_change(r, cd->wal_start, err);
    case PGOUT_TRUNCATE:
        return handle_truncate(r, cd->wal_start, err);
    case PGOUT_TYPE:
    case PGOUT_ORIGIN:
    case PGOUT_MESSAGE:
        return 0;
    }
    return 0;
}

static int heartbeat(struct pg_reader *r, struct error *err)
{
    r->last_heartbeat_ms = clock_mono_ms();
    if (r->heartbeat_query && *r->heartbeat_query) {
        PGresult *res = PQexec(r->sql, r->heartbeat_query);
        ExecStatusType st = PQresultStatus(res);
        PQclear(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
            return sql_error(r->sql, "running heartbeat.action.query", err);
    }
    struct event *ev = ev_push(r);
    ev->op = EVENT_HEARTBEAT;
    ev->source.ts_us = clock_wall_us();
    ev->source.lsn = r->received_lsn;
    ev->source.snapshot = SNAPSHOT_FALSE;
    return 0;
}

/* Reads from the walsender until events are queued or timeout_ms passes. */
static int stream_step(struct pg_reader *r, int timeout_ms, struct error *err)
{
    if (!r->streaming && stream_start(r, err) < 0)
        return -1;
    int64_t deadline = clock_mono_ms() + timeout_ms;
    while (r->qn == 0) {
        /* Idle: everything received is durable and no transaction is open. */
        if (!r->in_txn && r->durable_lsn >= r->received_lsn && r->server_end > r->feedback_lsn &&
            r->window_end == 0)
            r->feedback_lsn = r->server_end;
        if (clock_mono_ms() - r->last_status_ms >= STATUS_INTERVAL_MS &&
            send_status(r, false, err) < 0)
            return -1;
        if (r->heartbeat_ms > 0 && !r->in_txn &&
            clock_mono_ms() - r->last_heartbeat_ms >= r->heartbeat_ms)
            return heartbeat(r, err);
        char *buf = NULL;
        int n = PQgetCopyData(r->repl, &buf, 1);
        if (n == 0) {
            int64_t left = deadline - clock_mono_ms();
            if (left <= 0)
                return 0;
            int64_t to_status = STATUS_INTERVAL_MS - (clock_mono_ms() - r->last_status_ms);
            if (to_status < left)
                left = to_status > 0 ? to_status : 0;
            struct pollfd pfd = {.fd = PQsocket(r->repl), .events = POLLIN};
            if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
                return error_retry(err, "waiting on the replication connection: %s",
                                   strerror(errno));
            if (!PQconsumeInput(r->repl))
                return error_retry(err, "lost replication connection: %s", pq_msg(r->repl));
            continue;
        }
        if (n == -1) {
            PGresult *res = PQgetResult(r->repl);
            int rc = error_retry(err, "replication stream ended: %s",
                                 PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res)
                                                              : pq_msg(r->repl));
            PQclear(res);
            return rc;
        }
        if (n < 0)
            return error_retry(err, "lost replication connection: %s", pq_msg(r->repl));
        struct pgout_copydata cd;
        if (pgout_parse_copydata(buf, (size_t)n, &cd, err) < 0) {
            PQfreemem(buf);
            return -1;
        }
        if (cd.kind == 'k') {
            if (cd.wal_end > r->server_end)
                r->server_end = cd.wal_end;
            PQfreemem(buf);
            if (!r->in_txn && r->durable_lsn >= r->received_lsn &&
                r->server_end > r->feedback_lsn && r->window_end == 0)
                r->feedback_lsn = r->server_end;
            if (cd.reply_requested && send_status(r, false, err) < 0)
                return -1;
            continue;
        }
        defer_free(r, buf);
        if (handle_xlogdata(r, &cd, err) < 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ reader ops */

static int pg_next(struct reader *rd, const struct event **ev, int timeout_ms, struct error *err)
{
    struct pg_reader *r = (struct pg_reader *)rd;
    *ev = NULL;
    if (r->qpos < r->qn) {
        *ev = &r->q[r->qpos++];
        return 0;
    }
    if (r->batch && r->batch_pos < r->batch->n) {
        *ev = &r->batch->ev[r->batch_pos++];
        return 0;
    }
    ev_release(r);
    int rc = 0;
    if (r->phase == PHASE_SNAPSHOT)
        rc = snapshot_step(r, err);
    else if (r->phase == PHASE_STREAM)
        rc = stream_step(r, timeout_ms, err);
    else
        return 1;
    if (rc < 0)
        return -1;
    if (r->qpos < r->qn)
        *ev = &r->q[r->qpos++];
    else if (r->batch && r->batch_pos < r->batch->n)
        *ev = &r->batch->ev[r->batch_pos++];
    return 0;
}

static int pg_ack(struct reader *rd, const json_t *position, struct error *err)
{
    struct pg_reader *r = (struct pg_reader *)rd;
    const char *phase = json_string_value(json_object_get(position, "phase"));
    uint64_t lsn;
    /* Nothing is confirmed during a snapshot: the slot stays at its consistent point. */
    if (phase == NULL || strcmp(phase, "stream") != 0)
        return 0;
    if (lsn_from_json(json_object_get(position, "lsn"), &lsn) < 0)
        return error_set(err, "acknowledged position has no valid lsn");
    if (lsn > r->durable_lsn)
        r->durable_lsn = lsn;
    if (r->durable_lsn > r->feedback_lsn)
        r->feedback_lsn = r->durable_lsn;
    if (r->streaming)
        return send_status(r, false, err);
    return 0;
}

static json_t *pg_schemas(struct reader *rd)
{
    (void)rd;
    /* Relation messages describe every table again after a restart. */
    return NULL;
}

static json_t *pg_identity(struct reader *rd)
{
    struct pg_reader *r = (struct pg_reader *)rd;
    return json_pack("{s:s, s:s, s:s, s:s}", "connector", "postgresql", "system_identifier",
                     r->system_id ? r->system_id : "", "database", r->dbname, "slot", r->slot);
}

static int identify(struct pg_reader *r, struct error *err)
{
    PGresult *res = run(r->repl, "IDENTIFY_SYSTEM", PGRES_TUPLES_OK, "IDENTIFY_SYSTEM", err);
    if (res == NULL)
        return -1;
    free(r->system_id);
    r->system_id = mem_strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

static int pg_start(struct reader *rd, const json_t *position, const json_t *schemas,
                    struct error *err)
{
    struct pg_reader *r = (struct pg_reader *)rd;
    (void)schemas;
    if (connect_pg(r, false, &r->sql, err) < 0)
        return -1;
    if (connect_pg(r, true, &r->repl, err) < 0)
        return -1;
    if (identify(r, err) < 0 || check_wal_level(r, err) < 0)
        return -1;
    if (ensure_publication(r, err) < 0)
        return -1;
    struct slot_info si;
    if (slot_usable(r, &si, err) < 0)
        return -1;
    const char *phase = position ? json_string_value(json_object_get(position, "phase")) : NULL;
    bool snapshot_only = r->mode == READER_SNAPSHOT_ONLY || r->snapmode == SNAP_INITIAL_ONLY;
    bool no_snapshot = r->snapmode == SNAP_NO_DATA || r->snapmode == SNAP_NEVER;
    uint64_t pos_lsn = 0;

    if (phase && strcmp(phase, "stream") == 0) {
        if (lsn_from_json(json_object_get(position, "lsn"), &pos_lsn) < 0)
            return error_set(err, "state file position has no valid lsn");
        if (snapshot_only) {
            r->phase = PHASE_DONE;
            return 0;
        }
        if (!si.exists) {
            if (r->snapmode != SNAP_WHEN_NEEDED)
                return error_set(err,
                                 "replication slot \"%s\" does not exist but the state file "
                                 "resumes at %s: changes since then are lost; set "
                                 "snapshot.mode=when_needed (or delete the state file) to take "
                                 "a new snapshot",
                                 r->slot, json_string_value(json_object_get(position, "lsn")));
            log_warn("pg", "slot %s is gone: taking a new snapshot (snapshot.mode=when_needed)",
                     r->slot);
            return snapshot_prepare(r, NULL, false, 0, err);
        }
        r->received_lsn = r->durable_lsn = pos_lsn;
        const json_t *rg = json_object_get(position, "ranges");
        json_decref(r->ranges);
        r->ranges = json_is_object(rg) ? json_deep_copy(rg) : json_object();
        r->window_end = ranges_max_lsn(r->ranges);
        if (r->window_end <= pos_lsn)
            r->window_end = 0;
        if (r->snapmode == SNAP_ALWAYS) {
            if (r->window_end)
                return error_set(err, "snapshot.mode=always cannot restart inside the window "
                                      "of a resumed snapshot: restart with snapshot.mode=initial "
                                      "until it has passed");
            return snapshot_prepare(r, NULL, true, pos_lsn, err);
        }
        r->phase = PHASE_STREAM;
        return 0;
    }
    if (phase && strcmp(phase, "snapshot") == 0) {
        uint64_t slot_lsn;
        if (lsn_from_json(json_object_get(position, "slot_lsn"), &slot_lsn) < 0)
            return error_set(err, "state file snapshot position has no valid slot_lsn");
        if (!si.exists || si.confirmed > slot_lsn) {
            if (!si.exists && snapshot_only)
                return snapshot_prepare(r, NULL, false, 0, err);
            return error_set(err,
                             "replication slot \"%s\" %s, but the interrupted snapshot needs it "
                             "at %s: delete the state file to start a new snapshot",
                             r->slot, si.exists ? "has moved on" : "does not exist",
                             json_string_value(json_object_get(position, "slot_lsn")));
        }
        log_info("pg", "resuming the interrupted snapshot");
        return snapshot_prepare(r, position, true, slot_lsn, err);
    }
    if (position && phase == NULL)
        return error_set(err, "state file position is not a PostgreSQL position");
    /* fresh start */
    if (no_snapshot) {
        if (!si.exists) {
            char *q = quote_ident(r->repl, r->slot);
            char sql[256];
            snprintf(sql, sizeof sql,
                     "CREATE_REPLICATION_SLOT %s LOGICAL pgoutput (SNAPSHOT "
                     "'nothing')",
                     q);
            free(q);
            PGresult *res =
                run(r->repl, sql, PGRES_TUPLES_OK, "creating the replication slot", err);
            if (res == NULL)
                return -1;
            (void)pgout_lsn_parse(PQgetvalue(res, 0, 1), &pos_lsn);
            PQclear(res);
        } else {
            pos_lsn = si.confirmed;
        }
        r->received_lsn = r->durable_lsn = pos_lsn;
        r->phase = PHASE_STREAM;
        return 0;
    }
    if (si.exists)
        log_info("pg",
                 "replication slot %s exists without a state file: reading a snapshot and "
                 "streaming from the slot's position",
                 r->slot);
    return snapshot_prepare(r, NULL, si.exists, si.confirmed, err);
}

static int check_line(FILE *out, bool ok, const char *fmt, ...) DBT_PRINTF(3, 4);
static int check_line(FILE *out, bool ok, const char *fmt, ...)
{
    va_list ap;
    fputs(ok ? "ok   " : "FAIL ", out);
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    return ok ? 0 : 1;
}

static int pg_check(struct reader *rd, FILE *out)
{
    struct pg_reader *r = (struct pg_reader *)rd;
    struct error err;
    int fails = 0;
    PGconn *c = r->sql;
    bool own = false;
    if (c == NULL) {
        if (connect_pg(r, false, &c, &err) < 0)
            return check_line(out, false, "postgresql connection: %s", err.msg);
        own = true;
    }
    fails += check_line(out, true, "postgresql connection to database %s", r->dbname);
    PGresult *res = PQexec(c, "SELECT current_setting('wal_level'), "
                              "(SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = "
                              "current_user), current_setting('max_replication_slots')::int - "
                              "(SELECT count(*) FROM pg_replication_slots)");
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        const char *wl = PQgetvalue(res, 0, 0);
        fails += check_line(out, strcmp(wl, "logical") == 0, "wal_level is %s%s", wl,
                            strcmp(wl, "logical") == 0
                                ? ""
                                : ": set wal_level = logical in postgresql.conf and restart");
        bool repl = PQgetvalue(res, 0, 1)[0] == 't';
        fails += check_line(out, repl, "user %s %s", config_str(r->cfg, "database.user", "?"),
                            repl ? "has REPLICATION"
                                 : "lacks REPLICATION: ALTER ROLE ... WITH REPLICATION");
        int free_slots = atoi(PQgetvalue(res, 0, 2));
        struct slot_info si;
        bool have = slot_query(r, r->slot, &si, &err) == 0;
        if (have && si.exists)
            fails += check_line(out, !si.active,
                                "replication slot %s exists (plugin %s, confirmed %" PRIX64
                                "/%" PRIX64 ")%s",
                                r->slot, si.plugin, si.confirmed >> 32, si.confirmed & 0xffffffff,
                                si.active ? ": ACTIVE for another client, stop it first" : "");
        else
            fails += check_line(out, free_slots > 0,
                                "replication slot %s will be created (%d free of "
                                "max_replication_slots)%s",
                                r->slot, free_slots,
                                free_slots > 0 ? "" : ": raise max_replication_slots");
    } else {
        fails += check_line(out, false, "reading server settings: %s", pq_msg(c));
    }
    PQclear(res);
    const char *params[] = {r->publication};
    res = PQexecParams(c, "SELECT 1 FROM pg_publication WHERE pubname = $1", 1, NULL, params, NULL,
                       NULL, 0);
    bool pub = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0;
    PQclear(res);
    fails +=
        check_line(out, pub || r->autocreate != AUTO_DISABLED, "publication %s %s", r->publication,
                   pub ? "exists"
                   : r->autocreate != AUTO_DISABLED
                       ? "will be created"
                       : "is missing and publication.autocreate.mode=disabled: create it");
    PGconn *rc = NULL;
    if (r->repl == NULL) {
        bool ok = connect_pg(r, true, &rc, &err) == 0;
        fails +=
            check_line(out, ok, "replication connection%s%s", ok ? "" : ": ", ok ? "" : err.msg);
        PQfinish(rc);
    }
    if (own)
        PQfinish(c);
    return fails;
}

static void pg_free(struct reader *rd)
{
    struct pg_reader *r = (struct pg_reader *)rd;
    if (r == NULL)
        return;
    ev_release(r);
    json_decref(r->pos_hold);
    if (r->batch)
        fetch_recycle(r->fetch, r->batch);
    fetch_free(r->fetch);
    if (r->repl) {
        if (r->streaming && r->feedback_lsn) {
            struct error err;
            (void)send_status(r, false, &err);
        }
        PQfinish(r->repl);
    }
    PQfinish(r->snaprepl);
    if (r->drop_on_stop && r->sql && PQstatus(r->sql) == CONNECTION_OK) {
        PQclear(PQexec(r->sql, "ROLLBACK"));
        const char *params[] = {r->slot};
        PGresult *res = PQexecParams(r->sql,
                                     "SELECT pg_drop_replication_slot(slot_name) FROM "
                                     "pg_replication_slots WHERE slot_name = $1 AND NOT active",
                                     1, NULL, params, NULL, NULL, 0);
        PQclear(res);
    }
    PQfinish(r->sql);
    for (size_t i = 0; i < r->nrels; i++)
        rel_clear(&r->rels[i]);
    free(r->rels);
    for (size_t i = 0; i < r->ntypes; i++)
        typeinfo_clear(&r->types[i]);
    free(r->types);
    arena_free(r->arena);
    free(r->q);
    free(r->defer);
    pgout_msg_cleanup(&r->msg);
    json_decref(r->tables_done);
    json_decref(r->ranges);
    json_decref(r->fetched_key);
    json_decref(r->emitted_key);
    free(r->snap_relids);
    namefilter_free(&r->schema_filter);
    namefilter_free(&r->table_filter);
    namefilter_free(&r->column_filter);
    free(r->slot);
    free(r->publication);
    free(r->dbname);
    free(r->system_id);
    free(r);
}

static const struct reader_ops pg_ops = {
    .name = "postgresql",
    .start = pg_start,
    .next = pg_next,
    .ack = pg_ack,
    .schemas = pg_schemas,
    .check = pg_check,
    .identity = pg_identity,
    .free = pg_free,
};

int pg_reader_new(const struct config *cfg, enum reader_mode mode, struct reader **out,
                  struct error *err)
{
    struct pg_reader *r = mem_calloc(1, sizeof *r);
    r->base.ops = &pg_ops;
    r->cfg = cfg;
    r->mode = mode;
    r->arena = arena_new();
    pgout_msg_init(&r->msg);
    r->pos_hold = json_array();
    r->tables_done = json_array();
    r->ranges = json_object();
    const char *db;
    const char *plugin = config_str(cfg, "plugin.name", "pgoutput");
    if (strcmp(plugin, "pgoutput") != 0) {
        error_set(err,
                  "plugin.name: only pgoutput is supported, not \"%s\" (set plugin.name="
                  "pgoutput; it ships with PostgreSQL 10+)",
                  plugin);
        goto fail;
    }
    if (config_required(cfg, "database.dbname", &db, err) < 0)
        goto fail;
    r->dbname = mem_strdup(db);
    r->slot = mem_strdup(config_str(cfg, "slot.name", "debezium"));
    r->publication = mem_strdup(config_str(cfg, "publication.name", "dbz_publication"));
    if (config_choice(cfg, "publication.autocreate.mode", "all_tables", autocreate_modes,
                      &r->autocreate, err) < 0 ||
        config_choice(cfg, "snapshot.mode", "initial", snapshot_modes, &r->snapmode, err) < 0 ||
        config_int(cfg, "snapshot.fetch.size", 10240, 1, INT32_MAX, &r->fetch_size, err) < 0 ||
        config_int(cfg, "heartbeat.interval.ms", 0, 0, INT32_MAX, &r->heartbeat_ms, err) < 0 ||
        config_bool(cfg, "slot.drop.on.stop", false, &r->drop_on_stop, err) < 0)
        goto fail;
    r->heartbeat_query = config_str(cfg, "heartbeat.action.query", NULL);
    if (namefilter_compile(&r->schema_filter, cfg, "schema", err) < 0 ||
        namefilter_compile(&r->table_filter, cfg, "table", err) < 0 ||
        namefilter_compile(&r->column_filter, cfg, "column", err) < 0)
        goto fail;
    *out = &r->base;
    return 0;
fail:
    pg_free(&r->base);
    return -1;
}
