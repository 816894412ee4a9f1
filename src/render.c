/*
 * render: change events as the Kafka records Debezium 3.2 emits through Kafka Connect's
 * JsonConverter (see render.h). The per-table parts that never change between events (topic,
 * Connect schemas as JSON text, the encoding of each column) are built once per table version
 * and cached; each event is then written straight into one buffer.
 *
 * Reference behaviour, read from Debezium's and Kafka's code rather than the docs:
 *  - JsonConverter.asJsonSchema writes a schema as type, fields|items, optional, name, version,
 *    doc, parameters, default; a struct member adds "field" last.
 *  - The envelope is before, after, source, transaction, op, ts_ms, ts_us, ts_ns (Envelope
 *    version 2); source follows SchemaFactory.sourceInfoSchemaBuilder plus the connector's
 *    StructMaker fields.
 *  - SnapshotRecord.toSource never stores FALSE: the converter prints the schema default
 *    "false", but ExtractNewRecordState's add.fields (getWithoutDefault) sees null.
 *  - ExtractNewRecordState: columns, then add.fields, then __deleted; its added fields copy the
 *    source field's schema basics as optional; copying the row schema (add.fields or rewrite)
 *    drops its optional flag.
 */
#include "render.h"

#include <inttypes.h>
#include <math.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "mem.h"
#include "txmeta.h"

/* The Debezium release whose records dbtail reproduces (source.version). */
#define RENDER_DEBEZIUM_VERSION "3.2.4.Final"

#define UNWRAP_TYPE "io.debezium.transforms.ExtractNewRecordState"

enum decimal_mode { DEC_PRECISE, DEC_STRING, DEC_DOUBLE };
enum time_mode { TIME_ADAPTIVE, TIME_ADAPTIVE_MICROS, TIME_CONNECT, TIME_ISOSTRING, TIME_DEFAULT };
enum binary_mode { BIN_BYTES, BIN_BASE64, BIN_BASE64_URL, BIN_HEX };
enum bigint_mode { BIGINT_LONG, BIGINT_PRECISE };
enum interval_mode { INTERVAL_NUMERIC, INTERVAL_STRING };

/* How ExtractNewRecordState treats deletes and the connector's tombstones. */
enum unwrap_delete {
    UNWRAP_TOMBSTONE,              /* delete -> null value with the row schema; tombstone dropped */
    UNWRAP_DROP,                   /* both dropped */
    UNWRAP_REWRITE,                /* delete -> before + __deleted "true"; tombstone dropped */
    UNWRAP_REWRITE_WITH_TOMBSTONE, /* as rewrite, tombstone kept */
    UNWRAP_DELETE_TO_TOMBSTONE,    /* delete -> real tombstone; connector's tombstone dropped */
    UNWRAP_LEGACY                  /* delete.handling.mode + drop.tombstones (before 3.2) */
};
enum legacy_delete { LEGACY_DROP, LEGACY_REWRITE, LEGACY_NONE };

/* One entry of add.fields / add.headers (AbstractExtractNewRecordState.FieldReference). */
enum field_struct { FS_ENVELOPE, FS_SOURCE, FS_TRANSACTION };
struct field_ref {
    enum field_struct where;
    char *field;   /* owned: name inside its struct */
    char *newname; /* owned: prefix + name of the added field or header */
};

struct key_override {
    regex_t table; /* full match against "db.table" (MySQL) or "schema.table" (PG) */
    char **cols;   /* owned names */
    size_t ncols;
};

/* The Connect type and JSON form of one column. */
enum enc {
    ENC_BOOL,
    ENC_INT,
    ENC_UINT_LONG,
    ENC_UINT_DECIMAL,
    ENC_FLOAT32,
    ENC_FLOAT64,
    ENC_DEC_BYTES,
    ENC_DEC_VARIABLE,
    ENC_DEC_STRING,
    ENC_DEC_DOUBLE,
    ENC_STRING,
    ENC_BYTES,
    ENC_BYTES_URL,
    ENC_BYTES_HEX,
    ENC_BIT_BOOL,
    ENC_BITS,
    ENC_DATE_DAYS,
    ENC_DATE_ISO,
    ENC_TIME_MS,
    ENC_TIME_US,
    ENC_TIME_ISO,
    ENC_TS_MS,
    ENC_TS_US,
    ENC_TS_ISO,
    ENC_ZONED_TS,
    ENC_ZONED_TIME,
    ENC_INTERVAL_US,
    ENC_INTERVAL_ISO,
    ENC_YEAR,
    ENC_GEOMETRY,
    ENC_ARRAY
};

struct colplan {
    enum enc enc;
    const char *type;     /* Connect schema type */
    const char *lname;    /* logical name or NULL */
    int version;          /* 0: none */
    const char *doc;      /* NULL: none */
    char *params;         /* owned JSON object text, or NULL */
    int frac;             /* ZonedTimestamp: exact fraction digits, 0 = as few as needed */
    int scale;            /* Decimal scale */
    struct colplan *elem; /* owned: ARRAY items */
    /* owned: the member name as JSON after a comma, with its colon (,"id":); the first member
     * of a struct skips the comma. LABEL_BLOCK bytes can be read after label[1] (put_label). */
    char *label;
    size_t label_len;
};

#define LABEL_BLOCK 32

/* A JSON text built once and appended as is. */
struct piece {
    char *text; /* owned */
    size_t len;
};

struct tcache {
    const struct schema_table *ptr; /* the reader's table this entry was built from */
    uint64_t generation;            /* ptr's generation when it last matched copy */
    struct schema_table *copy;      /* owned: to notice a new table at a reused address */
    enum event_connector conn;
    char *topic;
    struct colplan *plans; /* owned, one per column */
    size_t *keys;          /* owned: key column indexes */
    size_t nkeys;
    char *key_schema;  /* owned JSON text; NULL without key */
    char *env_schema;  /* owned envelope schema */
    char *flat_schema; /* owned ExtractNewRecordState value schema */
    char *row_schema;  /* owned plain "<topic>.Value" schema (unwrap tombstone) */
    char *collection;  /* owned: TableId.toString(), schema.table (PG) or db.table (MySQL) */
    size_t collection_len;
    /* The constant openings of the records, their schemas included when the converter writes
     * them: the key up to its first member ({"schema":..,"payload":{), the envelope up to the
     * before image, the flat value up to its row, and the whole value of a null row. */
    struct piece key_open, env_open, flat_open, null_row;
    struct piece line_open; /* the file sink's line up to the key: {"topic":"<topic>","key": */
    struct piece src_db, src_schema, src_table; /* source.db/schema/table values as JSON */
    struct tcache *next;
};

/* The source block last rendered with a scratch: the rows of one binlog event or of one
 * snapshot chunk share all of it but the source time (per row in a snapshot) and MySQL's row
 * number, so it is rendered once for them. */
struct srccache {
    const struct tcache *table; /* NULL: nothing cached */
    struct event_source key;    /* gtid, file and query point at the copies below */
    char *gtid, *file, *query;  /* owned */
    /* put_source_mid, put_source_rest and (MySQL) put_source_tail's texts, ending at mid_end,
     * rest_end and text.len */
    struct buf text;
    size_t mid_end, rest_end;
    /* The block up to the row number (all of it for PostgreSQL) as last written, for the
     * source time block_ts_us; empty when the source changed since. */
    struct buf block;
    int64_t block_ts_us;
};

/* What rendering one event works in, kept for the next to spare its allocations. */
struct scratch {
    struct buf b;
    struct srccache src;
    /* where in b the text of each value of an update's before image starts and ends */
    size_t *spans;
    size_t spans_cap;
    struct scratch *next;
};

/* A scratch buffer that one huge row grew is not kept. */
#define SCRATCH_KEEP_BYTES (1024 * 1024)

#define CACHE_BUCKETS 256

struct render {
    const struct config *cfg;
    char *prefix;
    char *heartbeat_prefix;
    char *placeholder;
    enum decimal_mode decimal;
    enum time_mode time;
    enum binary_mode binary;
    enum bigint_mode bigint;
    enum interval_mode interval;
    bool tombstones;
    bool schema_changes;
    bool include_query;
    bool key_schemas;
    bool value_schemas;
    bool skip[5]; /* by event_op: c u d r t */
    struct key_override *overrides;
    size_t noverrides;
    bool unwrap;
    enum unwrap_delete udel;
    enum legacy_delete legacy;
    bool legacy_drop_tombstones;
    struct field_ref *fields;
    size_t nfields;
    struct field_ref *headers;
    size_t nheaders;
    bool txmeta;    /* provide.transaction.metadata */
    char *tx_topic; /* <topic.prefix>.<topic.transaction> */
    int64_t (*now_ns)(void *ctx);
    void *now_ctx;
    bool clock_held; /* render_hold_clock: records carry held_ns, not a reading each */
    int64_t held_ns;
    struct piece src_head[3]; /* by connector: {"version":..,"connector":..,"name":..,"ts_ms": */
    /* The digits of the envelope's milliseconds last printed: the records of one millisecond,
     * nearly all of them in a snapshot, print them once. */
    int64_t env_ms;
    char env_ms_text[20];
    size_t env_ms_len;
    /* The cache and the idle scratches change under a const render: one thread at a time
     * (render.h), so no lock. */
    struct tcache *buckets[CACHE_BUCKETS];
    struct scratch *idle;
};

/* ---- number text ---------------------------------------------------------------------- */

/* A string literal without strlen at run time. */
#define PUT_LIT(b, lit) buf_append((b), "" lit, sizeof(lit) - 1)

/* v as exactly `width` digits (v < 10^width) at p; returns the end. */
static char *fmt_digits(char *p, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

/* v in as many digits as it has at p; returns the end. */
static char *fmt_uint(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

static struct piece piece_json_str(const char *s)
{
    struct buf b;
    struct piece p;
    buf_init(&b);
    if (s)
        buf_json_str(&b, s, strlen(s));
    else
        PUT_LIT(&b, "null");
    p.len = b.len;
    p.text = buf_take(&b);
    return p;
}

static void put_piece(struct buf *b, const struct piece *p)
{
    buf_append(b, p->text, p->len);
}

/* ---- clock ---------------------------------------------------------------------------- */

static int64_t real_now_ns(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t fixed_now_ns(void *ctx)
{
    return *(const int64_t *)ctx;
}

void render_set_clock(struct render *r, int64_t (*now_ns)(void *ctx), void *ctx)
{
    r->now_ns = now_ns ? now_ns : real_now_ns;
    r->now_ctx = ctx;
    r->clock_held = false;
}

void render_hold_clock(struct render *r)
{
    r->held_ns = r->now_ns(r->now_ctx);
    r->clock_held = true;
}

/* ---- options -------------------------------------------------------------------------- */

static void field_refs_free(struct field_ref *refs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(refs[i].field);
        free(refs[i].newname);
    }
    free(refs);
}

static char *trim_dup(const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    return mem_strndup(s, len);
}

/* "op", "source.ts_ms", "table:tbl" -> field references, as FieldReference does. */
static int parse_field_refs(const char *list, const char *prefix, const char *key,
                            struct field_ref **out, size_t *nout, struct error *err)
{
    *out = NULL;
    *nout = 0;
    if (list == NULL || *list == '\0')
        return 0;
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char *item = trim_dup(p, len);
        p = end ? end + 1 : p + len;
        if (*item == '\0') {
            free(item);
            continue;
        }
        char *rename = strchr(item, ':');
        if (rename) {
            *rename++ = '\0';
            if (strchr(rename, ':') || *rename == '\0') {
                error_set(err, "%s: unexpected field name \"%s:%s\"", key, item, rename);
                free(item);
                field_refs_free(*out, *nout);
                *out = NULL;
                *nout = 0;
                return -1;
            }
        }
        struct field_ref ref;
        char *dot = strchr(item, '.');
        char *name = dot ? dot + 1 : item;
        if (dot) {
            *dot = '\0';
            if (strcmp(item, "transaction") == 0)
                ref.where = FS_TRANSACTION;
            else if (strcmp(item, "source") == 0)
                ref.where = FS_SOURCE;
            else {
                error_set(err, "%s: unknown struct \"%s\" (use source.x or transaction.x)", key,
                          item);
                free(item);
                field_refs_free(*out, *nout);
                *out = NULL;
                *nout = 0;
                return -1;
            }
        } else if (strcmp(name, "id") == 0 || strcmp(name, "total_order") == 0 ||
                   strcmp(name, "data_collection_order") == 0) {
            ref.where = FS_TRANSACTION;
        } else if (strcmp(name, "op") == 0 || strcmp(name, "ts_ms") == 0 ||
                   strcmp(name, "ts_us") == 0 || strcmp(name, "ts_ns") == 0) {
            ref.where = FS_ENVELOPE;
        } else {
            ref.where = FS_SOURCE;
        }
        ref.field = mem_strdup(name);
        struct buf nb;
        buf_init(&nb);
        buf_puts(&nb, prefix);
        if (rename)
            buf_puts(&nb, rename);
        else if (dot)
            buf_printf(&nb, "%s_%s", item, name);
        else
            buf_puts(&nb, name);
        ref.newname = buf_take(&nb);
        free(item);
        *out = mem_realloc(*out, (*nout + 1) * sizeof **out);
        (*out)[(*nout)++] = ref;
    }
    return 0;
}

static void overrides_free(struct key_override *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        regfree(&o[i].table);
        for (size_t k = 0; k < o[i].ncols; k++)
            free(o[i].cols[k]);
        free(o[i].cols);
    }
    free(o);
}

/* message.key.columns: "<table regex>:<col>,<col>;<table regex>:<col>..." */
static int parse_key_columns(struct render *r, const char *spec, struct error *err)
{
    const char *p = spec;
    while (p && *p) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char *entry = trim_dup(p, len);
        p = end ? end + 1 : NULL;
        if (*entry == '\0') {
            free(entry);
            continue;
        }
        char *colon = strrchr(entry, ':');
        if (colon == NULL || colon == entry) {
            error_set(err, "message.key.columns: \"%s\" is not <table>:<column>[,<column>...]",
                      entry);
            free(entry);
            return -1;
        }
        *colon = '\0';
        struct key_override o = {0};
        char *anchored = mem_alloc(strlen(entry) + 5);
        sprintf(anchored, "^(%s)$", entry);
        int rc = regcomp(&o.table, anchored, REG_EXTENDED | REG_ICASE | REG_NOSUB);
        free(anchored);
        if (rc != 0) {
            error_set(err, "message.key.columns: invalid table expression \"%s\"", entry);
            free(entry);
            return -1;
        }
        const char *c = colon + 1;
        while (*c) {
            const char *ce = strchr(c, ',');
            size_t clen = ce ? (size_t)(ce - c) : strlen(c);
            char *name = trim_dup(c, clen);
            c = ce ? ce + 1 : c + clen;
            if (*name == '\0') {
                free(name);
                continue;
            }
            o.cols = mem_realloc(o.cols, (o.ncols + 1) * sizeof *o.cols);
            o.cols[o.ncols++] = name;
        }
        r->overrides = mem_realloc(r->overrides, (r->noverrides + 1) * sizeof *r->overrides);
        r->overrides[r->noverrides++] = o;
        if (o.ncols == 0) {
            error_set(err, "message.key.columns: no column given for \"%s\"", entry);
            free(entry);
            return -1;
        }
        free(entry);
    }
    return 0;
}

static int parse_skipped(struct render *r, const char *list, struct error *err)
{
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char *op = trim_dup(p, len);
        p = end ? end + 1 : p + len;
        if (strcmp(op, "c") == 0)
            r->skip[EVENT_CREATE] = true;
        else if (strcmp(op, "u") == 0)
            r->skip[EVENT_UPDATE] = true;
        else if (strcmp(op, "d") == 0)
            r->skip[EVENT_DELETE] = true;
        else if (strcmp(op, "t") == 0)
            r->skip[EVENT_TRUNCATE] = true;
        else if (strcmp(op, "none") != 0 && *op != '\0') {
            error_set(err, "skipped.operations: unknown operation \"%s\" (use c, u, d, t or none)",
                      op);
            free(op);
            return -1;
        }
        free(op);
    }
    return 0;
}

/* Finds the one ExtractNewRecordState in `transforms`; any other transform would change the
 * records in ways dbtail does not reproduce, so it is refused rather than ignored. */
static int find_unwrap(const struct config *cfg, char **name_out, struct error *err)
{
    *name_out = NULL;
    const char *list = config_get(cfg, "transforms");
    if (list == NULL)
        return 0;
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char *name = trim_dup(p, len);
        p = end ? end + 1 : p + len;
        if (*name == '\0') {
            free(name);
            continue;
        }
        char key[256];
        snprintf(key, sizeof key, "transforms.%s.type", name);
        const char *type = config_get(cfg, key);
        if (type == NULL || strcmp(type, UNWRAP_TYPE) != 0) {
            error_set(err, "%s: transform type \"%s\" is not supported (only %s)", key,
                      type ? type : "", UNWRAP_TYPE);
            free(name);
            free(*name_out);
            *name_out = NULL;
            return -1;
        }
        if (*name_out) {
            error_set(err, "transforms: only one %s is supported", UNWRAP_TYPE);
            free(name);
            free(*name_out);
            *name_out = NULL;
            return -1;
        }
        *name_out = name;
    }
    return 0;
}

static int read_unwrap(struct render *r, const char *name, struct error *err)
{
    char key[256], key2[256];
    const char *v;

    r->unwrap = true;
    snprintf(key, sizeof key, "transforms.%s.delete.tombstone.handling.mode", name);
    v = config_get(r->cfg, key);
    if (v && *v) {
        static const char *const modes[] = {
            "tombstone", "drop", "rewrite", "rewrite-with-tombstone", "delete-to-tombstone", NULL};
        int m;
        if (config_choice(r->cfg, key, "tombstone", modes, &m, err) < 0)
            return -1;
        r->udel = (enum unwrap_delete)m;
    } else {
        /* The options removed in 3.2 keep their 2.x meaning when a config still has them. */
        snprintf(key, sizeof key, "transforms.%s.delete.handling.mode", name);
        snprintf(key2, sizeof key2, "transforms.%s.drop.tombstones", name);
        if (config_get(r->cfg, key) || config_get(r->cfg, key2)) {
            static const char *const modes[] = {"drop", "rewrite", "none", NULL};
            int m;
            r->udel = UNWRAP_LEGACY;
            if (config_choice(r->cfg, key, "drop", modes, &m, err) < 0 ||
                config_bool(r->cfg, key2, true, &r->legacy_drop_tombstones, err) < 0)
                return -1;
            r->legacy = (enum legacy_delete)m;
        } else {
            r->udel = UNWRAP_TOMBSTONE;
        }
    }

    snprintf(key, sizeof key, "transforms.%s.add.fields.prefix", name);
    const char *fprefix = config_str(r->cfg, key, "__");
    snprintf(key, sizeof key, "transforms.%s.add.headers.prefix", name);
    const char *hprefix = config_str(r->cfg, key, "__");
    snprintf(key, sizeof key, "transforms.%s.add.fields", name);
    if (parse_field_refs(config_get(r->cfg, key), fprefix, key, &r->fields, &r->nfields, err) < 0)
        return -1;
    snprintf(key, sizeof key, "transforms.%s.add.headers", name);
    if (parse_field_refs(config_get(r->cfg, key), hprefix, key, &r->headers, &r->nheaders, err) < 0)
        return -1;
    snprintf(key, sizeof key, "transforms.%s.route.by.field", name);
    v = config_get(r->cfg, key);
    if (v && *v)
        return error_set(err, "%s: routing by a field is not supported", key);
    return 0;
}

int render_new(const struct config *cfg, struct render **out, struct error *err)
{
    struct render *r = mem_calloc(1, sizeof *r);
    const char *prefix;
    int m;

    *out = NULL;
    r->cfg = cfg;
    r->now_ns = real_now_ns;
    if (config_required(cfg, "topic.prefix", &prefix, err) < 0)
        goto fail;
    r->prefix = mem_strdup(prefix);
    for (int conn = EVENT_POSTGRESQL; conn <= EVENT_MARIADB; conn++) {
        struct buf h;
        buf_init(&h);
        buf_puts(&h, "{\"version\":\"" RENDER_DEBEZIUM_VERSION "\",\"connector\":\"");
        buf_puts(&h, event_connector_name((enum event_connector)conn));
        PUT_LIT(&h, "\",\"name\":");
        buf_json_str(&h, prefix, strlen(prefix));
        PUT_LIT(&h, ",\"ts_ms\":");
        r->src_head[conn].len = h.len;
        r->src_head[conn].text = buf_take(&h);
    }
    r->heartbeat_prefix =
        mem_strdup(config_str(cfg, "topic.heartbeat.prefix", "__debezium-heartbeat"));
    r->placeholder = mem_strdup(
        config_str(cfg, "unavailable.value.placeholder", "__debezium_unavailable_value"));

    static const char *const dec[] = {"precise", "string", "double", NULL};
    if (config_choice(cfg, "decimal.handling.mode", "precise", dec, &m, err) < 0)
        goto fail;
    r->decimal = (enum decimal_mode)m;
    static const char *const tm[] = {"adaptive", "adaptive_time_microseconds", "connect",
                                     "isostring", NULL};
    if (config_get(cfg, "time.precision.mode")) {
        if (config_choice(cfg, "time.precision.mode", "adaptive", tm, &m, err) < 0)
            goto fail;
        r->time = (enum time_mode)m;
    } else {
        r->time = TIME_DEFAULT;
    }
    static const char *const bin[] = {"bytes", "base64", "base64-url-safe", "hex", NULL};
    if (config_choice(cfg, "binary.handling.mode", "bytes", bin, &m, err) < 0)
        goto fail;
    r->binary = (enum binary_mode)m;
    static const char *const big[] = {"long", "precise", NULL};
    if (config_choice(cfg, "bigint.unsigned.handling.mode", "long", big, &m, err) < 0)
        goto fail;
    r->bigint = (enum bigint_mode)m;
    static const char *const iv[] = {"numeric", "string", NULL};
    if (config_choice(cfg, "interval.handling.mode", "numeric", iv, &m, err) < 0)
        goto fail;
    r->interval = (enum interval_mode)m;
    if (config_bool(cfg, "tombstones.on.delete", true, &r->tombstones, err) < 0 ||
        config_bool(cfg, "include.schema.changes", true, &r->schema_changes, err) < 0 ||
        config_bool(cfg, "include.query", false, &r->include_query, err) < 0 ||
        config_bool(cfg, "key.converter.schemas.enable", true, &r->key_schemas, err) < 0 ||
        config_bool(cfg, "value.converter.schemas.enable", true, &r->value_schemas, err) < 0)
        goto fail;
    if (parse_skipped(r, config_str(cfg, "skipped.operations", "t"), err) < 0)
        goto fail;
    if (config_bool(cfg, "provide.transaction.metadata", false, &r->txmeta, err) < 0)
        goto fail;
    struct buf tt;
    buf_init(&tt);
    buf_printf(&tt, "%s.%s", prefix, config_str(cfg, "topic.transaction", "transaction"));
    r->tx_topic = buf_take(&tt);
    const char *hstore = config_get(cfg, "hstore.handling.mode");
    if (hstore && strcasecmp(hstore, "json") != 0) {
        error_set(err, "hstore.handling.mode: only json is supported");
        goto fail;
    }
    const char *mkc = config_get(cfg, "message.key.columns");
    if (mkc && parse_key_columns(r, mkc, err) < 0)
        goto fail;

    char *unwrap_name;
    if (find_unwrap(cfg, &unwrap_name, err) < 0)
        goto fail;
    if (unwrap_name) {
        int rc = read_unwrap(r, unwrap_name, err);
        free(unwrap_name);
        if (rc < 0)
            goto fail;
    }

    /* Lets the integration tests compare whole files; never set in production. */
    const char *fixed = getenv("DBTAIL_FIXED_NOW_MS");
    if (fixed && *fixed) {
        int64_t *ns = mem_alloc(sizeof *ns);
        *ns = strtoll(fixed, NULL, 10) * 1000000;
        r->now_ctx = ns;
        r->now_ns = fixed_now_ns;
    }
    *out = r;
    return 0;

fail:
    render_free(r);
    return -1;
}

static void plan_clear(struct colplan *p)
{
    free(p->params);
    free(p->label);
    if (p->elem) {
        plan_clear(p->elem);
        free(p->elem);
    }
}

static void tcache_free(struct tcache *c)
{
    if (c->plans)
        for (size_t i = 0; i < c->copy->ncols; i++)
            plan_clear(&c->plans[i]);
    free(c->plans);
    schema_table_free(c->copy);
    free(c->topic);
    free(c->keys);
    free(c->key_schema);
    free(c->env_schema);
    free(c->flat_schema);
    free(c->row_schema);
    free(c->collection);
    free(c->key_open.text);
    free(c->env_open.text);
    free(c->flat_open.text);
    free(c->null_row.text);
    free(c->line_open.text);
    free(c->src_db.text);
    free(c->src_schema.text);
    free(c->src_table.text);
    free(c);
}

static void srccache_clear(struct srccache *sc)
{
    free(sc->gtid);
    free(sc->file);
    free(sc->query);
    sc->gtid = sc->file = sc->query = NULL;
    sc->table = NULL;
    buf_reset(&sc->block);
}

static void scratch_free(struct scratch *s)
{
    srccache_clear(&s->src);
    buf_free(&s->src.text);
    buf_free(&s->src.block);
    buf_free(&s->b);
    free(s->spans);
    free(s);
}

void render_free(struct render *r)
{
    if (r == NULL)
        return;
    while (r->idle) {
        struct scratch *next = r->idle->next;
        scratch_free(r->idle);
        r->idle = next;
    }
    for (size_t i = 0; i < CACHE_BUCKETS; i++) {
        struct tcache *c = r->buckets[i];
        while (c) {
            struct tcache *next = c->next;
            tcache_free(c);
            c = next;
        }
    }
    if (r->now_ns == fixed_now_ns)
        free(r->now_ctx);
    for (int conn = EVENT_POSTGRESQL; conn <= EVENT_MARIADB; conn++)
        free(r->src_head[conn].text);
    free(r->prefix);
    free(r->heartbeat_prefix);
    free(r->placeholder);
    free(r->tx_topic);
    overrides_free(r->overrides, r->noverrides);
    field_refs_free(r->fields, r->nfields);
    field_refs_free(r->headers, r->nheaders);
    free(r);
}

/* ---- topics --------------------------------------------------------------------------- */

/* Debezium's topic naming strategy replaces what Kafka refuses in a topic name with '_'. */
static void put_topic_part(char *out, size_t outlen, size_t *pos, const char *s)
{
    for (; s && *s; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (*pos + 1 < outlen)
            out[(*pos)++] = ok ? c : '_';
    }
    out[*pos < outlen ? *pos : outlen - 1] = '\0';
}

void render_topic(const struct render *r, const struct schema_table *t, char *out, size_t outlen)
{
    size_t pos = 0;
    if (outlen == 0)
        return;
    out[0] = '\0';
    put_topic_part(out, outlen, &pos, r->prefix);
    put_topic_part(out, outlen, &pos, ".");
    put_topic_part(out, outlen, &pos, t->schema ? t->schema : t->db);
    put_topic_part(out, outlen, &pos, ".");
    put_topic_part(out, outlen, &pos, t->name);
}

/* ---- column plans --------------------------------------------------------------------- */

static bool type_is(const struct schema_column *c, const char *name)
{
    return c->type_name && strcmp(c->type_name, name) == 0;
}

static void set_logical(struct colplan *p, const char *type, const char *name, int version)
{
    p->type = type;
    p->lname = name;
    p->version = version;
}

static char *params_decimal(int scale, int precision)
{
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "{\"scale\":\"%d\"", scale);
    if (precision >= 0)
        buf_printf(&b, ",\"connect.decimal.precision\":\"%d\"", precision);
    buf_putc(&b, '}');
    return buf_take(&b);
}

static char *params_allowed(const struct schema_column *c)
{
    struct buf b, list;
    buf_init(&b);
    buf_init(&list);
    for (size_t i = 0; i < c->n_enum_values; i++) {
        if (i)
            buf_putc(&list, ',');
        buf_puts(&list, c->enum_values[i]);
    }
    PUT_LIT(&b, "{\"allowed\":");
    buf_json_str(&b, list.data ? list.data : "", list.len);
    buf_putc(&b, '}');
    buf_free(&list);
    return buf_take(&b);
}

static enum time_mode effective_time_mode(const struct render *r, enum event_connector conn)
{
    if (r->time != TIME_DEFAULT)
        return r->time;
    return conn == EVENT_POSTGRESQL ? TIME_ADAPTIVE : TIME_ADAPTIVE_MICROS;
}

/* Dates, times and timestamps, by time.precision.mode (`tm`) and the column's precision. */
static void plan_temporal(enum time_mode tm, enum event_connector conn,
                          const struct schema_column *c, enum value_kind kind, struct colplan *p)
{
    switch (kind) {
    case VALUE_DATE:
        if (tm == TIME_CONNECT) {
            p->enc = ENC_DATE_DAYS;
            set_logical(p, "int32", "org.apache.kafka.connect.data.Date", 1);
        } else if (tm == TIME_ISOSTRING) {
            p->enc = ENC_DATE_ISO;
            set_logical(p, "string", "io.debezium.time.IsoDate", 1);
        } else {
            p->enc = ENC_DATE_DAYS;
            set_logical(p, "int32", "io.debezium.time.Date", 1);
        }
        return;
    case VALUE_TIME: {
        int fsp = c->scale < 0 ? 6 : c->scale;
        if (tm == TIME_CONNECT) {
            p->enc = ENC_TIME_MS;
            set_logical(p, "int32", "org.apache.kafka.connect.data.Time", 1);
        } else if (tm == TIME_ISOSTRING) {
            p->enc = ENC_TIME_ISO;
            set_logical(p, "string", "io.debezium.time.IsoTime", 1);
        } else if (tm == TIME_ADAPTIVE && fsp <= 3) {
            p->enc = ENC_TIME_MS;
            set_logical(p, "int32", "io.debezium.time.Time", 1);
        } else {
            p->enc = ENC_TIME_US;
            set_logical(p, "int64", "io.debezium.time.MicroTime", 1);
        }
        return;
    }
    case VALUE_DATETIME: {
        int fsp = c->scale < 0 ? 6 : c->scale;
        if (tm == TIME_CONNECT) {
            p->enc = ENC_TS_MS;
            set_logical(p, "int64", "org.apache.kafka.connect.data.Timestamp", 1);
        } else if (tm == TIME_ISOSTRING) {
            p->enc = ENC_TS_ISO;
            set_logical(p, "string", "io.debezium.time.IsoTimestamp", 1);
        } else if (fsp <= 3) {
            p->enc = ENC_TS_MS;
            set_logical(p, "int64", "io.debezium.time.Timestamp", 1);
        } else {
            p->enc = ENC_TS_US;
            set_logical(p, "int64", "io.debezium.time.MicroTimestamp", 1);
        }
        return;
    }
    case VALUE_TIMESTAMP:
        p->enc = ENC_ZONED_TS;
        set_logical(p, "string", "io.debezium.time.ZonedTimestamp", 1);
        /* Both connectors format with exactly the column's fractional digits (DBZ-5996,
         * DBZ-6163); a width of 0 falls back to ISO_OFFSET_DATE_TIME, which prints only the
         * digits needed. PostgreSQL's timestamptz without a precision keeps 6. */
        p->frac = c->scale < 0 ? (conn == EVENT_POSTGRESQL ? 6 : 0) : c->scale;
        return;
    default:
        return;
    }
}

static void plan_column(const struct render *r, enum event_connector conn,
                        const struct schema_column *c, enum value_kind kind, struct colplan *p)
{
    memset(p, 0, sizeof *p);

    switch (kind) {
    case VALUE_BOOL:
        p->enc = ENC_BOOL;
        p->type = "boolean";
        return;
    case VALUE_INT:
    case VALUE_UINT:
        if (type_is(c, "year")) {
            p->enc = ENC_YEAR;
            set_logical(p, "int32", "io.debezium.time.Year", 1);
            return;
        }
        if (kind == VALUE_UINT || (c->is_unsigned && c->int_bits == 64)) {
            if (r->bigint == BIGINT_PRECISE) {
                p->enc = ENC_UINT_DECIMAL;
                set_logical(p, "bytes", "org.apache.kafka.connect.data.Decimal", 1);
                p->params = params_decimal(0, -1);
                return;
            }
            p->enc = ENC_UINT_LONG;
            p->type = "int64";
            return;
        }
        p->enc = ENC_INT;
        p->type = c->int_bits == 8    ? "int8"
                  : c->int_bits == 16 ? "int16"
                  : c->int_bits == 32 ? "int32"
                                      : "int64";
        return;
    case VALUE_FLOAT32:
        p->enc = ENC_FLOAT32;
        p->type = "float";
        return;
    case VALUE_FLOAT64:
        p->enc = ENC_FLOAT64;
        p->type = "double";
        return;
    case VALUE_DECIMAL:
        if (r->decimal == DEC_STRING) {
            p->enc = ENC_DEC_STRING;
            p->type = "string";
        } else if (r->decimal == DEC_DOUBLE) {
            p->enc = ENC_DEC_DOUBLE;
            p->type = "double";
        } else if (c->scale < 0) {
            p->enc = ENC_DEC_VARIABLE;
            set_logical(p, "struct", "io.debezium.data.VariableScaleDecimal", 1);
            p->doc = "Variable scaled decimal";
        } else {
            p->enc = ENC_DEC_BYTES;
            set_logical(p, "bytes", "org.apache.kafka.connect.data.Decimal", 1);
            p->scale = c->scale;
            p->params = params_decimal(c->scale, c->precision);
        }
        return;
    case VALUE_BYTES:
        p->type = r->binary == BIN_BYTES ? "bytes" : "string";
        p->enc = r->binary == BIN_BASE64_URL ? ENC_BYTES_URL
                 : r->binary == BIN_HEX      ? ENC_BYTES_HEX
                                             : ENC_BYTES;
        return;
    case VALUE_BITS:
        if (c->length == 1) {
            p->enc = ENC_BIT_BOOL;
            p->type = "boolean";
            return;
        }
        p->enc = ENC_BITS;
        set_logical(p, "bytes", "io.debezium.data.Bits", 1);
        {
            struct buf b;
            buf_init(&b);
            buf_printf(&b, "{\"length\":\"%d\"}", c->length < 0 ? 1 : c->length);
            p->params = buf_take(&b);
        }
        return;
    case VALUE_DATE:
    case VALUE_TIME:
    case VALUE_DATETIME:
    case VALUE_TIMESTAMP:
        plan_temporal(effective_time_mode(r, conn), conn, c, kind, p);
        return;
    case VALUE_ZONED_TIME:
        p->enc = ENC_ZONED_TIME;
        set_logical(p, "string", "io.debezium.time.ZonedTime", 1);
        return;
    case VALUE_INTERVAL:
        if (r->interval == INTERVAL_STRING) {
            p->enc = ENC_INTERVAL_ISO;
            set_logical(p, "string", "io.debezium.time.Interval", 1);
        } else {
            p->enc = ENC_INTERVAL_US;
            set_logical(p, "int64", "io.debezium.time.MicroDuration", 1);
        }
        return;
    case VALUE_ENUM:
        p->enc = ENC_STRING;
        set_logical(p, "string", "io.debezium.data.Enum", 1);
        p->params = params_allowed(c);
        return;
    case VALUE_SET:
        p->enc = ENC_STRING;
        set_logical(p, "string", "io.debezium.data.EnumSet", 1);
        p->params = params_allowed(c);
        return;
    case VALUE_JSON:
        p->enc = ENC_STRING;
        set_logical(p, "string", "io.debezium.data.Json", 1);
        return;
    case VALUE_GEOMETRY:
        p->enc = ENC_GEOMETRY;
        if (type_is(c, "geography")) {
            set_logical(p, "struct", "io.debezium.data.geometry.Geography", 1);
            p->doc = "Geography";
        } else {
            set_logical(p, "struct", "io.debezium.data.geometry.Geometry", 1);
            p->doc = "Geometry";
        }
        return;
    case VALUE_ARRAY: {
        struct schema_column ec = *c;
        /* PostgreSQL names an array type after its element with a leading '_'. */
        if (c->type_name && c->type_name[0] == '_')
            ec.type_name = c->type_name + 1;
        p->enc = ENC_ARRAY;
        p->type = "array";
        p->elem = mem_alloc(sizeof *p->elem);
        plan_column(r, conn, &ec, c->elem_kind == VALUE_ARRAY ? VALUE_TEXT : c->elem_kind, p->elem);
        return;
    }
    case VALUE_STRING:
    case VALUE_TEXT:
    case VALUE_NULL:
    case VALUE_ABSENT:
    case VALUE_UNCHANGED:
        break;
    }
    p->enc = ENC_STRING;
    p->type = "string";
    if (type_is(c, "uuid"))
        set_logical(p, "string", "io.debezium.data.Uuid", 1);
    else if (type_is(c, "xml"))
        set_logical(p, "string", "io.debezium.data.Xml", 1);
    else if (type_is(c, "ltree"))
        set_logical(p, "string", "io.debezium.data.Ltree", 1);
}

/* ---- schema text ---------------------------------------------------------------------- */

static void put_schema_tail(struct buf *b, const struct colplan *p, bool optional)
{
    buf_puts(b, optional ? ",\"optional\":true" : ",\"optional\":false");
    if (p->lname) {
        PUT_LIT(b, ",\"name\":\"");
        buf_puts(b, p->lname);
        buf_putc(b, '"');
    }
    if (p->version)
        buf_printf(b, ",\"version\":%d", p->version);
    if (p->doc) {
        PUT_LIT(b, ",\"doc\":\"");
        buf_puts(b, p->doc);
        buf_putc(b, '"');
    }
    if (p->params) {
        PUT_LIT(b, ",\"parameters\":");
        buf_puts(b, p->params);
    }
}

/* The schema object of a column; `field` NULL for array items. */
static void put_col_schema(struct buf *b, const struct colplan *p, bool optional, const char *field)
{
    PUT_LIT(b, "{\"type\":\"");
    buf_puts(b, p->type);
    buf_putc(b, '"');
    if (p->enc == ENC_DEC_VARIABLE) {
        buf_puts(b, ",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"scale\"},"
                    "{\"type\":\"bytes\",\"optional\":false,\"field\":\"value\"}]");
    } else if (p->enc == ENC_GEOMETRY) {
        buf_puts(b, ",\"fields\":[{\"type\":\"bytes\",\"optional\":false,\"field\":\"wkb\"},"
                    "{\"type\":\"int32\",\"optional\":true,\"field\":\"srid\"}]");
        /* Geometry.builder() is optional itself; a NOT NULL column does not undo it. */
        optional = true;
    } else if (p->enc == ENC_ARRAY) {
        PUT_LIT(b, ",\"items\":");
        put_col_schema(b, p->elem, true, NULL);
    }
    put_schema_tail(b, p, optional);
    if (field) {
        PUT_LIT(b, ",\"field\":");
        buf_json_str(b, field, strlen(field));
    }
    buf_putc(b, '}');
}

static void put_row_fields(struct buf *b, const struct tcache *c, const size_t *idx, size_t n)
{
    PUT_LIT(b, "\"fields\":[");
    for (size_t k = 0; k < n; k++) {
        size_t i = idx ? idx[k] : k;
        if (k)
            buf_putc(b, ',');
        put_col_schema(b, &c->plans[i], c->copy->cols[i].optional, c->copy->cols[i].name);
    }
    buf_putc(b, ']');
}

static void put_str_field(struct buf *b, const char *type, bool optional, const char *name)
{
    buf_printf(b, "{\"type\":\"%s\",\"optional\":%s,\"field\":\"%s\"}", type,
               optional ? "true" : "false", name);
}

#define SNAPSHOT_SCHEMA                                                                            \
    "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\",\"version\":1,"     \
    "\"parameters\":{\"allowed\":\"true,first,first_in_data_collection,last_in_data_collection,"   \
    "last,false,incremental\"}"

/* The fields of the connector's source struct (without the braces of the struct). */
static void put_source_fields(struct buf *b, enum event_connector conn)
{
    PUT_LIT(b, "\"fields\":[");
    put_str_field(b, "string", false, "version");
    buf_putc(b, ',');
    put_str_field(b, "string", false, "connector");
    buf_putc(b, ',');
    put_str_field(b, "string", false, "name");
    buf_putc(b, ',');
    put_str_field(b, "int64", false, "ts_ms");
    buf_puts(b, "," SNAPSHOT_SCHEMA ",\"default\":\"false\",\"field\":\"snapshot\"},");
    put_str_field(b, "string", false, "db");
    buf_putc(b, ',');
    put_str_field(b, "string", true, "sequence");
    buf_putc(b, ',');
    put_str_field(b, "int64", true, "ts_us");
    buf_putc(b, ',');
    put_str_field(b, "int64", true, "ts_ns");
    buf_putc(b, ',');
    if (conn == EVENT_POSTGRESQL) {
        put_str_field(b, "string", false, "schema");
        buf_putc(b, ',');
        put_str_field(b, "string", false, "table");
        buf_putc(b, ',');
        put_str_field(b, "int64", true, "txId");
        buf_putc(b, ',');
        put_str_field(b, "int64", true, "lsn");
        buf_putc(b, ',');
        put_str_field(b, "int64", true, "xmin");
    } else {
        put_str_field(b, "string", true, "table");
        buf_putc(b, ',');
        put_str_field(b, "int64", false, "server_id");
        buf_putc(b, ',');
        put_str_field(b, "string", true, "gtid");
        buf_putc(b, ',');
        put_str_field(b, "string", false, "file");
        buf_putc(b, ',');
        put_str_field(b, "int64", false, "pos");
        buf_putc(b, ',');
        put_str_field(b, "int32", false, "row");
        buf_putc(b, ',');
        put_str_field(b, "int64", true, "thread");
        buf_putc(b, ',');
        put_str_field(b, "string", true, "query");
    }
    buf_putc(b, ']');
}

static void put_source_schema(struct buf *b, enum event_connector conn)
{
    PUT_LIT(b, "{\"type\":\"struct\",");
    put_source_fields(b, conn);
    buf_printf(b,
               ",\"optional\":false,\"name\":\"io.debezium.connector.%s.Source\","
               "\"version\":1,\"field\":\"source\"}",
               event_connector_name(conn));
}

static void put_name(struct buf *b, const char *topic, const char *suffix)
{
    PUT_LIT(b, ",\"name\":\"");
    buf_puts(b, topic);
    buf_puts(b, suffix);
    buf_putc(b, '"');
}

/* The rewrite modes add "__deleted" to every flattened record. */
static bool is_rewrite(const struct render *r)
{
    return r->udel == UNWRAP_REWRITE || r->udel == UNWRAP_REWRITE_WITH_TOMBSTONE ||
           (r->udel == UNWRAP_LEGACY && r->legacy == LEGACY_REWRITE);
}

static void build_schemas(const struct render *r, struct tcache *c)
{
    struct buf b;
    const size_t ncols = c->copy->ncols;

    buf_init(&b);
    if (c->nkeys) {
        PUT_LIT(&b, "{\"type\":\"struct\",");
        put_row_fields(&b, c, c->keys, c->nkeys);
        PUT_LIT(&b, ",\"optional\":false");
        put_name(&b, c->topic, ".Key");
        buf_putc(&b, '}');
        c->key_schema = buf_take(&b);
    }

    PUT_LIT(&b, "{\"type\":\"struct\",\"fields\":[");
    for (int i = 0; i < 2; i++) {
        PUT_LIT(&b, "{\"type\":\"struct\",");
        put_row_fields(&b, c, NULL, ncols);
        PUT_LIT(&b, ",\"optional\":true");
        put_name(&b, c->topic, ".Value");
        buf_puts(&b, i == 0 ? ",\"field\":\"before\"}," : ",\"field\":\"after\"},");
    }
    put_source_schema(&b, c->conn);
    buf_puts(&b, ",{\"type\":\"struct\",\"fields\":["
                 "{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"
                 "{\"type\":\"int64\",\"optional\":false,\"field\":\"total_order\"},"
                 "{\"type\":\"int64\",\"optional\":false,\"field\":\"data_collection_order\"}],"
                 "\"optional\":true,\"name\":\"event.block\",\"version\":1,"
                 "\"field\":\"transaction\"},"
                 "{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},"
                 "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"},"
                 "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},"
                 "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"}]"
                 ",\"optional\":false");
    put_name(&b, c->topic, ".Envelope");
    PUT_LIT(&b, ",\"version\":2}");
    c->env_schema = buf_take(&b);

    if (!r->unwrap)
        return;
    PUT_LIT(&b, "{\"type\":\"struct\",");
    put_row_fields(&b, c, NULL, ncols);
    PUT_LIT(&b, ",\"optional\":true");
    put_name(&b, c->topic, ".Value");
    buf_putc(&b, '}');
    c->row_schema = buf_take(&b);

    bool rewrite = is_rewrite(r);
    PUT_LIT(&b, "{\"type\":\"struct\",");
    put_row_fields(&b, c, NULL, ncols);
    b.len--; /* reopen the field list */
    for (size_t i = 0; i < r->nfields; i++) {
        const struct field_ref *f = &r->fields[i];
        const char *type = NULL;
        bool snapshot = false;
        if (f->where == FS_ENVELOPE) {
            type = strcmp(f->field, "op") == 0 ? "string" : "int64";
        } else if (f->where == FS_TRANSACTION) {
            if (strcmp(f->field, "id") == 0)
                type = "string";
            else if (strcmp(f->field, "total_order") == 0 ||
                     strcmp(f->field, "data_collection_order") == 0)
                type = "int64";
        } else {
            static const char *const common_str[] = {"version", "connector", "name",
                                                     "db",      "sequence",  NULL};
            static const char *const common_i64[] = {"ts_ms", "ts_us", "ts_ns", NULL};
            static const char *const pg_str[] = {"schema", "table", NULL};
            static const char *const pg_i64[] = {"txId", "lsn", "xmin", NULL};
            static const char *const my_str[] = {"table", "gtid", "file", "query", NULL};
            static const char *const my_i64[] = {"server_id", "pos", "thread", NULL};
            const char *const *lists[4] = {common_str, common_i64,
                                           c->conn == EVENT_POSTGRESQL ? pg_str : my_str,
                                           c->conn == EVENT_POSTGRESQL ? pg_i64 : my_i64};
            for (int l = 0; l < 4 && !type; l++)
                for (const char *const *n = lists[l]; *n; n++)
                    if (strcmp(*n, f->field) == 0)
                        type = (l % 2) ? "int64" : "string";
            if (!type && c->conn != EVENT_POSTGRESQL && strcmp(f->field, "row") == 0)
                type = "int32";
            if (!type && strcmp(f->field, "snapshot") == 0) {
                type = "string";
                snapshot = true;
            }
        }
        if (!type)
            continue; /* not in the source schema: the SMT skips it */
        buf_putc(&b, ',');
        if (snapshot) {
            buf_puts(&b, SNAPSHOT_SCHEMA);
        } else {
            buf_printf(&b, "{\"type\":\"%s\",\"optional\":true", type);
        }
        PUT_LIT(&b, ",\"field\":");
        buf_json_str(&b, f->newname, strlen(f->newname));
        buf_putc(&b, '}');
    }
    if (rewrite)
        PUT_LIT(&b, ",{\"type\":\"string\",\"optional\":true,\"field\":\"__deleted\"}");
    buf_putc(&b, ']');
    buf_puts(&b, r->nfields || rewrite ? ",\"optional\":false" : ",\"optional\":true");
    put_name(&b, c->topic, ".Value");
    buf_putc(&b, '}');
    c->flat_schema = buf_take(&b);
}

static void choose_keys(const struct render *r, struct tcache *c)
{
    const struct schema_table *t = c->copy;
    c->keys = mem_alloc((t->ncols ? t->ncols : 1) * sizeof *c->keys);
    c->nkeys = 0;
    if (r->noverrides) {
        char fq[512];
        snprintf(fq, sizeof fq, "%s.%s", t->schema ? t->schema : t->db, t->name);
        for (size_t o = 0; o < r->noverrides; o++) {
            const struct key_override *ko = &r->overrides[o];
            if (regexec(&ko->table, fq, 0, NULL, 0) != 0)
                continue;
            for (size_t i = 0; i < t->ncols; i++)
                for (size_t k = 0; k < ko->ncols; k++)
                    if (strcasecmp(t->cols[i].name, ko->cols[k]) == 0) {
                        c->keys[c->nkeys++] = i;
                        break;
                    }
            if (c->nkeys)
                return;
        }
    }
    for (size_t i = 0; i < t->ncols; i++)
        if (t->cols[i].key)
            c->keys[c->nkeys++] = i;
}

static size_t ptr_bucket(const void *p)
{
    uintptr_t v = (uintptr_t)p;
    v ^= v >> 17;
    v *= 0x9E3779B97F4A7C15ull;
    return (size_t)(v >> 32) % CACHE_BUCKETS;
}

/* {"schema":<schema>,"payload":<open>, or open alone without schemas. */
static struct piece wrapped_open(bool schemas, const char *schema, const char *open)
{
    struct buf b;
    struct piece p;
    buf_init(&b);
    if (schemas) {
        PUT_LIT(&b, "{\"schema\":");
        buf_puts(&b, schema);
        PUT_LIT(&b, ",\"payload\":");
    }
    buf_puts(&b, open);
    p.len = b.len;
    p.text = buf_take(&b);
    return p;
}

static struct tcache *tcache_new(const struct render *r, const struct schema_table *t,
                                 enum event_connector conn)
{
    char topic[1024];
    struct tcache *c = mem_calloc(1, sizeof *c);
    c->ptr = t;
    c->generation = t->generation;
    c->copy = schema_table_copy(t);
    c->conn = conn;
    render_topic(r, t, topic, sizeof topic);
    c->topic = mem_strdup(topic);
    c->plans = mem_calloc(t->ncols ? t->ncols : 1, sizeof *c->plans);
    for (size_t i = 0; i < t->ncols; i++) {
        struct buf label;
        buf_init(&label);
        buf_putc(&label, ',');
        buf_json_str(&label, c->copy->cols[i].name, strlen(c->copy->cols[i].name));
        buf_putc(&label, ':');
        buf_reserve(&label, LABEL_BLOCK + 1);
        plan_column(r, conn, &c->copy->cols[i], c->copy->cols[i].kind, &c->plans[i]);
        c->plans[i].label_len = label.len;
        c->plans[i].label = buf_take(&label);
    }
    struct buf coll;
    buf_init(&coll);
    buf_printf(&coll, "%s.%s", t->schema ? t->schema : t->db ? t->db : "", t->name);
    c->collection_len = coll.len;
    c->collection = buf_take(&coll);
    c->src_db = piece_json_str(t->db ? t->db : "");
    c->src_schema = piece_json_str(t->schema ? t->schema : "");
    c->src_table = piece_json_str(t->name ? t->name : "");
    choose_keys(r, c);
    build_schemas(r, c);
    if (c->nkeys)
        c->key_open = wrapped_open(r->key_schemas, c->key_schema, "{");
    c->env_open = wrapped_open(r->value_schemas, c->env_schema, "{\"before\":");
    struct buf line;
    buf_init(&line);
    /* render_topic's characters need no escaping */
    buf_printf(&line, "{\"topic\":\"%s\",\"key\":", c->topic);
    c->line_open.len = line.len;
    c->line_open.text = buf_take(&line);
    if (r->unwrap) {
        c->flat_open = wrapped_open(r->value_schemas, c->flat_schema, "");
        c->null_row =
            wrapped_open(r->value_schemas, c->row_schema, r->value_schemas ? "null}" : "null");
    }
    return c;
}

/* The cached plans of ev's table (the entry lives as long as the render) and, when scratch is
 * not NULL, an idle scratch (give it back with scratch_put). */
static const struct tcache *table_cache(const struct render *rc, const struct schema_table *t,
                                        enum event_connector conn, struct scratch **scratch)
{
    struct render *r = (struct render *)rc; /* the cache is the only state that changes */
    size_t bucket = ptr_bucket(t);
    struct tcache *c;

    for (c = r->buckets[bucket]; c; c = c->next) {
        if (c->ptr == t && c->conn == conn) {
            /* 0: a table not made by schema_table_new, which has no generation */
            if (c->generation == t->generation && t->generation != 0)
                break;
            /* A new table at a reused address, often the same one rebuilt (a binlog reader
             * builds one per TABLE_MAP event). */
            if (schema_table_equal(c->copy, t)) {
                c->generation = t->generation;
                break;
            }
            c->ptr = NULL;
        }
    }
    if (c == NULL) {
        c = tcache_new(r, t, conn);
        c->next = r->buckets[bucket];
        r->buckets[bucket] = c;
    }
    if (scratch) {
        *scratch = r->idle;
        if (*scratch)
            r->idle = (*scratch)->next;
    }
    if (scratch && *scratch == NULL) {
        *scratch = mem_calloc(1, sizeof **scratch);
        buf_init(&(*scratch)->b);
        buf_init(&(*scratch)->src.text);
        buf_init(&(*scratch)->src.block);
    }
    return c;
}

static void scratch_put(const struct render *rc, struct scratch *s)
{
    struct render *r = (struct render *)rc;
    if (s->b.cap > SCRATCH_KEEP_BYTES)
        buf_free(&s->b);
    if (s->src.text.cap > SCRATCH_KEEP_BYTES || s->src.block.cap > SCRATCH_KEEP_BYTES) {
        srccache_clear(&s->src);
        buf_free(&s->src.text);
        buf_free(&s->src.block);
    }
    buf_reset(&s->b);
    s->next = r->idle;
    r->idle = s;
}

/* ---- value encodings ------------------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Days since 1970-01-01 -> proleptic Gregorian date (H. Hinnant's algorithm). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* java.time's ISO_LOCAL_DATE: 4-digit year, '+' above 9999; at p (at most 31 bytes), returns
 * the end. Dates and times are built on the stack and appended whole: snapshots of timestamp
 * columns print one per row. */
static char *fmt_iso_date(char *p, int64_t days)
{
    /* Consecutive values mostly fall on one day: its text is kept, per thread. */
    static _Thread_local int64_t cached_days = INT64_MIN;
    static _Thread_local char cached[32];
    static _Thread_local size_t cached_len;
    if (days == cached_days) {
        memcpy(p, cached, cached_len);
        return p + cached_len;
    }
    char *start = p;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y > 9999) {
        *p++ = '+';
        p = fmt_uint(p, (uint64_t)y);
    } else if (y < 0) {
        *p++ = '-';
        p = -y > 9999 ? fmt_uint(p, (uint64_t)-y) : fmt_digits(p, (uint64_t)-y, 4);
    } else {
        p = fmt_digits(p, (uint64_t)y, 4);
    }
    *p++ = '-';
    p = fmt_digits(p, m, 2);
    *p++ = '-';
    p = fmt_digits(p, d, 2);
    cached_len = (size_t)(p - start);
    memcpy(cached, start, cached_len);
    cached_days = days;
    return p;
}

static void put_iso_date(struct buf *b, int64_t days)
{
    char out[32];
    buf_append(b, out, (size_t)(fmt_iso_date(out, days) - out));
}

/* HH:MM:SS then the fraction: `frac` digits exactly, or (0) as few as the value needs; at p
 * (at most 18 bytes), returns the end. */
static char *fmt_iso_time(char *p, int64_t micros_of_day, int frac)
{
    const char *pairs = buf_digit_pairs;
    int64_t s = micros_of_day / 1000000;
    int64_t us = micros_of_day % 1000000;
    char digits[9];
    /* the hour is 24 at most (PostgreSQL's 24:00:00) */
    unsigned hms[3] = {(unsigned)(s / 3600), (unsigned)(s / 60 % 60), (unsigned)(s % 60)};
    for (int i = 0; i < 3; i++) {
        if (i)
            *p++ = ':';
        memcpy(p, pairs + 2 * (hms[i] % 100), 2);
        p += 2;
    }
    for (int i = 5; i >= 0; i--) {
        digits[i] = (char)('0' + us % 10);
        us /= 10;
    }
    memset(digits + 6, '0', 3);
    int n = frac > 9 ? 9 : frac;
    if (n == 0) {
        n = 9;
        while (n > 0 && digits[n - 1] == '0')
            n--;
    }
    if (n > 0) {
        *p++ = '.';
        memcpy(p, digits, (size_t)n);
        p += n;
    }
    return p;
}

static void put_iso_time(struct buf *b, int64_t micros_of_day, int frac)
{
    char out[24];
    buf_append(b, out, (size_t)(fmt_iso_time(out, micros_of_day, frac) - out));
}

static void put_iso_datetime(struct buf *b, int64_t micros, int frac)
{
    char out[64];
    /* not floor_div and a product: near INT64_MIN the product overflows */
    int64_t days = micros / 86400000000LL, rest = micros % 86400000000LL;
    if (rest < 0) {
        days--;
        rest += 86400000000LL;
    }
    char *p = fmt_iso_date(out, days);
    *p++ = 'T';
    p = fmt_iso_time(p, rest, frac);
    buf_append(b, out, (size_t)(p - out));
}

/* "10:15:30.123456+02:00" -> the same instant at UTC as ISO_OFFSET_TIME, "08:15:30.123456Z". */
static void put_zoned_time(struct buf *b, const char *s, size_t len)
{
    char text[64];
    int h, mi, sec, n = 0;
    if (len >= sizeof text)
        goto raw;
    memcpy(text, s, len);
    text[len] = '\0';
    if (sscanf(text, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3)
        goto raw;
    int64_t us = 0;
    const char *p = text + n;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++)
            if (digits++ < 6)
                us = us * 10 + (*p - '0');
        for (; digits < 6; digits++)
            us *= 10;
    }
    int64_t off = 0;
    if (*p == '+' || *p == '-') {
        int sign = *p == '+' ? 1 : -1;
        int oh = 0, om = 0, os = 0;
        if (sscanf(p + 1, "%2d:%2d:%2d", &oh, &om, &os) < 1)
            goto raw;
        off = sign * ((int64_t)oh * 3600 + om * 60 + os);
    } else if (*p != 'Z' && *p != '\0') {
        goto raw;
    }
    int64_t day = 86400000000LL;
    int64_t t = ((int64_t)h * 3600 + mi * 60 + sec - off) * 1000000 + us;
    t = ((t % day) + day) % day;
    buf_putc(b, '"');
    put_iso_time(b, t, 0);
    PUT_LIT(b, "Z\"");
    return;
raw:
    buf_json_str(b, s, len);
}

/* Room decimal_bytes needs for `len` characters rescaled to `scale`: each digit adds less than
 * half a byte to the magnitude, and the sign takes one more. */
static size_t decimal_bytes_cap(size_t len, int scale)
{
    return (len + (size_t)(scale > 0 ? scale : 0)) / 2 + 2;
}

/* Multiplies the big-endian magnitude ending at mag[cap - 1] (*mlen bytes long) by 10 and adds
 * digit; false when it outgrows cap. */
static bool magnitude_push(unsigned char *mag, size_t cap, size_t *mlen, unsigned digit)
{
    unsigned carry = digit;
    for (size_t k = 0; k < *mlen; k++) {
        unsigned v = mag[cap - 1 - k] * 10u + carry;
        mag[cap - 1 - k] = (unsigned char)v;
        carry = v >> 8;
    }
    while (carry) {
        if (*mlen >= cap)
            return false;
        mag[cap - 1 - (*mlen)++] = (unsigned char)carry;
        carry >>= 8;
    }
    return true;
}

/* decimal_bytes for values of at most 18 digits (with the scale's padding), which most are:
 * the unscaled value fits an int64. Returns 0 when the text is not such a decimal, for the
 * general path to decide. */
static size_t decimal_bytes_small(const char *s, size_t len, int scale, unsigned char *out,
                                  int *text_scale)
{
    size_t i = 0;
    bool neg = false;
    if (len > 0 && (s[0] == '-' || s[0] == '+'))
        neg = s[i++] == '-';
    if (i >= len)
        return 0;
    uint64_t v = 0;
    int ndigits = 0, digits_after = 0;
    for (; i < len && s[i] != '.'; i++) {
        unsigned digit = (unsigned)(unsigned char)s[i] - '0';
        if (digit > 9 || ++ndigits > 18)
            return 0;
        v = v * 10 + digit;
    }
    for (i++; i < len; i++) {
        unsigned digit = (unsigned)(unsigned char)s[i] - '0';
        if (digit > 9)
            return 0;
        digits_after++;
        if (scale >= 0 && digits_after > scale)
            continue; /* more digits than the column keeps */
        if (++ndigits > 18)
            return 0;
        v = v * 10 + digit;
    }
    for (int pad = digits_after; scale >= 0 && pad < scale; pad++) {
        if (++ndigits > 18)
            return 0;
        v *= 10;
    }
    *text_scale = digits_after;
    int64_t x = neg ? -(int64_t)v : (int64_t)v;
    /* BigInteger.toByteArray: the fewest bytes whose top bit still gives the sign */
    size_t n = 1;
    while (n < 8 && (x >> (8 * n - 1)) != 0 && (x >> (8 * n - 1)) != -1)
        n++;
    for (size_t k = 0; k < n; k++)
        out[k] = (unsigned char)((uint64_t)x >> (8 * (n - 1 - k)));
    return n;
}

/* Exact decimal text -> unscaled value at `scale` as BigInteger.toByteArray() (big-endian two's
 * complement, shortest) into out, which has decimal_bytes_cap() bytes; *ok false for
 * NaN/Infinity/garbage. Returns the byte count. */
static size_t decimal_bytes(const char *s, size_t len, int scale, unsigned char *out, size_t outcap,
                            int *text_scale, bool *ok)
{
    size_t small = decimal_bytes_small(s, len, scale, out, text_scale);
    if (small) {
        *ok = true;
        return small;
    }
    size_t i = 0;
    bool neg = false;
    /* The magnitude grows leftwards from the end of out, leaving out[0] for the sign byte. */
    unsigned char *mag = out + 1;
    size_t magcap = outcap - 1, mlen = 0;
    int frac_seen = -1;
    int digits_after = 0;

    *ok = false;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    if (i >= len)
        return 0;
    for (; i < len; i++) {
        char ch = s[i];
        if (ch == '.' && frac_seen < 0) {
            frac_seen = 0;
            continue;
        }
        if (ch < '0' || ch > '9')
            return 0;
        if (frac_seen >= 0) {
            digits_after++;
            if (scale >= 0 && digits_after > scale)
                continue; /* more digits than the column keeps */
        }
        if (!magnitude_push(mag, magcap, &mlen, (unsigned)(ch - '0')))
            return 0;
    }
    *text_scale = digits_after;
    for (int pad = digits_after; scale >= 0 && pad < scale; pad++)
        if (!magnitude_push(mag, magcap, &mlen, 0))
            return 0;
    const unsigned char *m = mag + magcap - mlen;
    bool zero = true;
    for (size_t k = 0; k < mlen; k++)
        zero &= m[k] == 0;
    if (zero || mlen == 0) {
        out[0] = 0;
        *ok = true;
        return 1;
    }
    /* one more byte than the magnitude leaves room for the sign bit */
    size_t n = mlen + 1;
    unsigned char *tmp = out + outcap - n;
    tmp[0] = 0;
    if (neg) {
        for (size_t k = 0; k < n; k++)
            tmp[k] = (unsigned char)~tmp[k];
        for (size_t k = n; k-- > 0;)
            if (++tmp[k] != 0)
                break;
    }
    size_t start = 0;
    while (start + 1 < n && ((tmp[start] == 0x00 && !(tmp[start + 1] & 0x80)) ||
                             (tmp[start] == 0xFF && (tmp[start + 1] & 0x80))))
        start++;
    memmove(out, tmp + start, n - start);
    *ok = true;
    return n - start;
}

static void put_uint_decimal(struct buf *b, uint64_t u)
{
    unsigned char bytes[9];
    size_t n = 0;
    for (int k = 7; k >= 0; k--)
        bytes[1 + (7 - k)] = (unsigned char)(u >> (k * 8));
    bytes[0] = 0;
    while (n < 8 && bytes[n] == 0 && !(bytes[n + 1] & 0x80))
        n++;
    buf_json_base64(b, bytes + n, 9 - n);
}

static void put_hex(struct buf *b, const unsigned char *p, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    buf_reserve(b, len * 2 + 2);
    buf_putc(b, '"');
    for (size_t i = 0; i < len; i++) {
        char o[2] = {hex[p[i] >> 4], hex[p[i] & 15]};
        buf_append(b, o, 2);
    }
    buf_putc(b, '"');
}

static void put_bytes(struct buf *b, enum enc enc, const void *p, size_t len)
{
    if (enc == ENC_BYTES_URL)
        buf_json_base64url(b, p, len);
    else if (enc == ENC_BYTES_HEX)
        put_hex(b, p, len);
    else
        buf_json_base64(b, p, len);
}

/* PGInterval's fields from months / days / microseconds. */
struct interval_parts {
    int64_t years, months, days, hours, minutes, seconds, micros;
};

static struct interval_parts interval_split(const struct value *v)
{
    struct interval_parts ip;
    int64_t us = v->v.interval.micros;
    ip.years = v->v.interval.months / 12;
    ip.months = v->v.interval.months % 12;
    ip.days = v->v.interval.days;
    ip.hours = us / 3600000000LL;
    us %= 3600000000LL;
    ip.minutes = us / 60000000LL;
    us %= 60000000LL;
    ip.seconds = us / 1000000;
    ip.micros = us % 1000000;
    return ip;
}

static void put_interval(struct buf *b, enum enc enc, const struct value *v)
{
    struct interval_parts ip = interval_split(v);
    if (enc == ENC_INTERVAL_US) {
        /* MicroDuration.durationMicros with 365.25/12 days a month, in doubles like Java. */
        double days = (double)(ip.years * 12 + ip.months) * (365.25 / 12.0) + (double)ip.days;
        double secs =
            ((days * 24 + (double)ip.hours) * 60 + (double)ip.minutes) * 60 + (double)ip.seconds;
        buf_json_int(b, (int64_t)(secs * 1e6 + (double)ip.micros));
        return;
    }
    /* Interval.toIsoString: every component, seconds with trailing zeros stripped. */
    buf_printf(b, "\"P%" PRId64 "Y%" PRId64 "M%" PRId64 "DT%" PRId64 "H%" PRId64 "M", ip.years,
               ip.months, ip.days, ip.hours, ip.minutes);
    if (ip.micros == 0) {
        buf_printf(b, "%" PRId64 "S\"", ip.seconds);
        return;
    }
    char frac[8];
    int64_t mu = ip.micros < 0 ? -ip.micros : ip.micros;
    snprintf(frac, sizeof frac, "%06" PRId64, mu);
    int n = 6;
    while (frac[n - 1] == '0')
        n--;
    frac[n] = '\0';
    bool neg = ip.seconds < 0 || ip.micros < 0;
    int64_t s = ip.seconds < 0 ? -ip.seconds : ip.seconds;
    buf_printf(b, "%s%" PRId64 ".%sS\"", neg ? "-" : "", s, frac);
}

static void put_value(const struct render *r, struct buf *b, const struct colplan *p,
                      const struct value *v);

/* A value whose kind does not match its column's plan: its natural JSON form. */
static void put_natural(const struct render *r, struct buf *b, const struct value *v)
{
    switch (v->kind) {
    case VALUE_BOOL:
        buf_puts(b, v->v.b ? "true" : "false");
        return;
    case VALUE_INT:
    case VALUE_DATE:
    case VALUE_TIME:
    case VALUE_DATETIME:
    case VALUE_TIMESTAMP:
        buf_json_int(b, v->v.i);
        return;
    case VALUE_UINT:
        buf_json_uint(b, v->v.u);
        return;
    case VALUE_FLOAT32:
        buf_json_float(b, (float)v->v.f);
        return;
    case VALUE_FLOAT64:
        buf_json_double(b, v->v.f);
        return;
    case VALUE_BYTES:
    case VALUE_BITS:
    case VALUE_GEOMETRY:
        buf_json_base64(b, v->v.s.p, v->v.s.len);
        return;
    case VALUE_DECIMAL:
    case VALUE_STRING:
    case VALUE_JSON:
    case VALUE_ZONED_TIME:
    case VALUE_ENUM:
    case VALUE_SET:
    case VALUE_TEXT:
        buf_json_str(b, v->v.s.p, v->v.s.len);
        return;
    case VALUE_INTERVAL:
        put_interval(b, r->interval == INTERVAL_STRING ? ENC_INTERVAL_ISO : ENC_INTERVAL_US, v);
        return;
    case VALUE_ARRAY:
    case VALUE_NULL:
    case VALUE_ABSENT:
    case VALUE_UNCHANGED:
        break;
    }
    PUT_LIT(b, "null");
}

/* An unchanged TOAST value: Debezium's placeholder where the schema can hold it. */
static void put_unchanged(const struct render *r, struct buf *b, const struct colplan *p)
{
    const char *ph = r->placeholder;
    switch (p->enc) {
    case ENC_STRING:
    case ENC_DEC_STRING:
    case ENC_INTERVAL_ISO:
        buf_json_str(b, ph, strlen(ph));
        return;
    case ENC_BYTES:
    case ENC_BYTES_URL:
    case ENC_BYTES_HEX:
        put_bytes(b, p->enc, ph, strlen(ph));
        return;
    case ENC_ARRAY:
        if (p->elem->enc == ENC_STRING) {
            buf_putc(b, '[');
            buf_json_str(b, ph, strlen(ph));
            buf_putc(b, ']');
            return;
        }
        break;
    default:
        break;
    }
    /* Types Debezium has no placeholder form for (numbers, times) carry null. */
    PUT_LIT(b, "null");
}

/* A decimal in its plan's encoding (decimal.handling.mode); false when the value is not one. */
static bool put_decimal(struct buf *b, const struct colplan *p, const struct value *v)
{
    switch (p->enc) {
    case ENC_DEC_BYTES:
    case ENC_DEC_VARIABLE:
        if (v->kind == VALUE_DECIMAL) {
            unsigned char stack[80], *bytes = stack;
            int scale = p->enc == ENC_DEC_BYTES ? p->scale : -1;
            size_t cap = decimal_bytes_cap(v->v.s.len, scale);
            if (cap > sizeof stack)
                bytes = mem_alloc(cap);
            int text_scale = 0;
            bool ok;
            size_t n = decimal_bytes(v->v.s.p, v->v.s.len, scale, bytes, cap, &text_scale, &ok);
            if (!ok) {
                /* NaN and infinities have no Decimal form: precise mode gives null */
                PUT_LIT(b, "null");
            } else if (p->enc == ENC_DEC_BYTES) {
                buf_json_base64(b, bytes, n);
            } else {
                PUT_LIT(b, "{\"scale\":");
                buf_json_int(b, text_scale);
                PUT_LIT(b, ",\"value\":");
                buf_json_base64(b, bytes, n);
                buf_putc(b, '}');
            }
            if (bytes != stack)
                free(bytes);
            return true;
        }
        break;
    case ENC_DEC_STRING:
        if (v->kind == VALUE_DECIMAL) {
            buf_json_str(b, v->v.s.p, v->v.s.len);
            return true;
        }
        break;
    case ENC_DEC_DOUBLE:
        if (v->kind == VALUE_DECIMAL) {
            char *text = mem_strndup(v->v.s.p, v->v.s.len);
            buf_json_double(b, strtod(text, NULL));
            free(text);
            return true;
        }
        break;
    default:
        break;
    }
    return false;
}

/* A date, time, timestamp or interval in its plan's encoding; false when the value's kind does
 * not fit it. */
/* PostgreSQL's ±infinity timestamps (INT64_MAX / INT64_MIN, pg_types.h) as Debezium's
 * MicroTimestamp and Timestamp carry them: the JDBC driver's DATE_POSITIVE_INFINITY and
 * DATE_NEGATIVE_INFINITY read as microseconds. */
static int64_t infinity_micros(int64_t micros)
{
    if (micros == INT64_MAX)
        return INT64_C(9223372036825200000);
    if (micros == INT64_MIN)
        return INT64_C(-9223372036832400000);
    return micros;
}

static bool put_temporal(struct buf *b, const struct colplan *p, const struct value *v)
{
    switch (p->enc) {
    case ENC_DATE_DAYS:
        if (v->kind == VALUE_DATE) {
            buf_json_int(b, v->v.i);
            return true;
        }
        break;
    case ENC_DATE_ISO:
        if (v->kind == VALUE_DATE) {
            /* IsoDate formats with ISO_OFFSET_DATE at UTC */
            buf_putc(b, '"');
            put_iso_date(b, v->v.i);
            PUT_LIT(b, "Z\"");
            return true;
        }
        break;
    case ENC_TIME_MS:
        if (v->kind == VALUE_TIME) {
            buf_json_int(b, floor_div(v->v.i, 1000));
            return true;
        }
        break;
    case ENC_TIME_US:
        if (v->kind == VALUE_TIME) {
            buf_json_int(b, v->v.i);
            return true;
        }
        break;
    case ENC_TIME_ISO:
        if (v->kind == VALUE_TIME) {
            int64_t day = 86400000000LL;
            buf_putc(b, '"');
            put_iso_time(b, ((v->v.i % day) + day) % day, 0);
            PUT_LIT(b, "Z\"");
            return true;
        }
        break;
    case ENC_TS_MS:
        if (v->kind == VALUE_DATETIME || v->kind == VALUE_TIMESTAMP) {
            buf_json_int(b, floor_div(infinity_micros(v->v.i), 1000));
            return true;
        }
        break;
    case ENC_TS_US:
        if (v->kind == VALUE_DATETIME || v->kind == VALUE_TIMESTAMP) {
            buf_json_int(b, infinity_micros(v->v.i));
            return true;
        }
        break;
    case ENC_TS_ISO:
        if (v->kind == VALUE_DATETIME || v->kind == VALUE_TIMESTAMP) {
            buf_putc(b, '"');
            put_iso_datetime(b, v->v.i, 0);
            PUT_LIT(b, "Z\"");
            return true;
        }
        break;
    case ENC_ZONED_TS:
        if ((v->kind == VALUE_TIMESTAMP || v->kind == VALUE_DATETIME) &&
            (v->v.i == INT64_MAX || v->v.i == INT64_MIN)) {
            /* ZonedTimestamp gives PostgreSQL's own words for them */
            if (v->v.i == INT64_MAX)
                PUT_LIT(b, "\"infinity\"");
            else
                PUT_LIT(b, "\"-infinity\"");
            return true;
        }
        if (v->kind == VALUE_TIMESTAMP || v->kind == VALUE_DATETIME) {
            buf_putc(b, '"');
            put_iso_datetime(b, v->v.i, p->frac);
            PUT_LIT(b, "Z\"");
            return true;
        }
        break;
    case ENC_ZONED_TIME:
        if (v->kind == VALUE_ZONED_TIME || v->kind == VALUE_TEXT || v->kind == VALUE_STRING) {
            put_zoned_time(b, v->v.s.p, v->v.s.len);
            return true;
        }
        break;
    case ENC_INTERVAL_US:
    case ENC_INTERVAL_ISO:
        if (v->kind == VALUE_INTERVAL) {
            put_interval(b, p->enc, v);
            return true;
        }
        break;
    default:
        break;
    }
    return false;
}

static void put_value(const struct render *r, struct buf *b, const struct colplan *p,
                      const struct value *v)
{
    switch (v->kind) {
    case VALUE_NULL:
    case VALUE_ABSENT: /* a MINIMAL row image: Debezium's struct holds null there */
        PUT_LIT(b, "null");
        return;
    case VALUE_UNCHANGED:
        put_unchanged(r, b, p);
        return;
    default:
        break;
    }

    switch (p->enc) {
    case ENC_BOOL:
        if (v->kind == VALUE_BOOL) {
            buf_puts(b, v->v.b ? "true" : "false");
            return;
        }
        if (v->kind == VALUE_INT) {
            buf_puts(b, v->v.i ? "true" : "false");
            return;
        }
        break;
    case ENC_INT:
    case ENC_YEAR:
        if (v->kind == VALUE_INT) {
            buf_json_int(b, v->v.i);
            return;
        }
        if (v->kind == VALUE_UINT) {
            buf_json_int(b, (int64_t)v->v.u);
            return;
        }
        break;
    case ENC_UINT_LONG:
        /* bigint.unsigned.handling.mode=long: Java's long wraps above 2^63-1 */
        if (v->kind == VALUE_UINT || v->kind == VALUE_INT) {
            buf_json_int(b, v->kind == VALUE_UINT ? (int64_t)v->v.u : v->v.i);
            return;
        }
        break;
    case ENC_UINT_DECIMAL:
        if (v->kind == VALUE_UINT || v->kind == VALUE_INT) {
            put_uint_decimal(b, v->kind == VALUE_UINT ? v->v.u : (uint64_t)v->v.i);
            return;
        }
        break;
    case ENC_FLOAT32:
        if (v->kind == VALUE_FLOAT32 || v->kind == VALUE_FLOAT64) {
            buf_json_float(b, (float)v->v.f);
            return;
        }
        break;
    case ENC_FLOAT64:
        if (v->kind == VALUE_FLOAT32 || v->kind == VALUE_FLOAT64) {
            buf_json_double(b, v->v.f);
            return;
        }
        break;
    case ENC_DEC_BYTES:
    case ENC_DEC_VARIABLE:
    case ENC_DEC_STRING:
    case ENC_DEC_DOUBLE:
        if (put_decimal(b, p, v))
            return;
        break;
    case ENC_STRING:
        break;
    case ENC_BYTES:
    case ENC_BYTES_URL:
    case ENC_BYTES_HEX:
        if (v->kind == VALUE_BYTES || v->kind == VALUE_STRING || v->kind == VALUE_TEXT) {
            put_bytes(b, p->enc, v->v.s.p, v->v.s.len);
            return;
        }
        break;
    case ENC_BIT_BOOL:
        if (v->kind == VALUE_BITS) {
            buf_puts(b, v->v.s.len && (v->v.s.p[0] & 1) ? "true" : "false");
            return;
        }
        if (v->kind == VALUE_BOOL) {
            buf_puts(b, v->v.b ? "true" : "false");
            return;
        }
        break;
    case ENC_BITS:
        if (v->kind == VALUE_BITS || v->kind == VALUE_BYTES) {
            buf_json_base64(b, v->v.s.p, v->v.s.len);
            return;
        }
        break;
    case ENC_DATE_DAYS:
    case ENC_DATE_ISO:
    case ENC_TIME_MS:
    case ENC_TIME_US:
    case ENC_TIME_ISO:
    case ENC_TS_MS:
    case ENC_TS_US:
    case ENC_TS_ISO:
    case ENC_ZONED_TS:
    case ENC_ZONED_TIME:
    case ENC_INTERVAL_US:
    case ENC_INTERVAL_ISO:
        if (put_temporal(b, p, v))
            return;
        break;
    case ENC_GEOMETRY:
        if (v->kind == VALUE_GEOMETRY || v->kind == VALUE_BYTES) {
            PUT_LIT(b, "{\"wkb\":");
            buf_json_base64(b, v->v.s.p, v->v.s.len);
            PUT_LIT(b, ",\"srid\":");
            if (v->kind == VALUE_GEOMETRY && v->v.s.i >= 0)
                buf_json_int(b, v->v.s.i);
            else
                PUT_LIT(b, "null");
            buf_putc(b, '}');
            return;
        }
        break;
    case ENC_ARRAY:
        if (v->kind == VALUE_ARRAY) {
            buf_putc(b, '[');
            for (size_t i = 0; i < v->v.array.n; i++) {
                if (i)
                    buf_putc(b, ',');
                put_value(r, b, p->elem, &v->v.array.elems[i]);
            }
            buf_putc(b, ']');
            return;
        }
        break;
    }
    put_natural(r, b, v);
}

/* ---- records -------------------------------------------------------------------------- */

#define MAX_HEADERS 32

/* Offsets into the event's one buffer: pointers are taken only after the last append. */
struct out_rec {
    const char *topic;
    bool topic_plain;   /* render_record.topic_plain */
    ssize_t key, value; /* -1: NULL */
    size_t key_len, value_len;
    size_t nheaders;
    const char *hname[MAX_HEADERS];
    ssize_t hvalue[MAX_HEADERS]; /* -1: NULL */
};

/* put_value, with the commonest columns' values written without its call and dispatch: what
 * put_value and put_natural write for them. */
static inline void put_column(const struct render *r, struct buf *b, const struct colplan *p,
                              const struct value *v)
{
    switch (p->enc) {
    case ENC_INT:
        if (v->kind == VALUE_INT) {
            buf_json_int(b, v->v.i);
            return;
        }
        break;
    case ENC_STRING:
        if (v->kind == VALUE_TEXT || v->kind == VALUE_STRING || v->kind == VALUE_ENUM ||
            v->kind == VALUE_JSON) {
            buf_json_str(b, v->v.s.p, v->v.s.len);
            return;
        }
        break;
    case ENC_FLOAT64:
        if (v->kind == VALUE_FLOAT64) {
            buf_json_double(b, v->v.f);
            return;
        }
        break;
    case ENC_TS_US:
        if (v->kind == VALUE_DATETIME || v->kind == VALUE_TIMESTAMP) {
            buf_json_int(b, infinity_micros(v->v.i));
            return;
        }
        break;
    default:
        break;
    }
    if (v->kind == VALUE_NULL) {
        PUT_LIT(b, "null");
        return;
    }
    put_value(r, b, p, v);
}

/* A column's label: most fit a block of fixed size, whose copy is a few moves where a memcpy
 * call of the label's length costs more than the rest of an integer column. */
static inline void put_label(struct buf *b, const struct colplan *p, bool first)
{
    const char *s = p->label + first;
    size_t n = p->label_len - first;
    if (n > LABEL_BLOCK) {
        buf_append(b, s, n);
        return;
    }
    buf_reserve(b, LABEL_BLOCK);
    memcpy(b->data + b->len, s, LABEL_BLOCK);
    b->len += n;
    b->data[b->len] = '\0';
}

/*
 * The before and after images of an update: an update changes a few columns, and each value of
 * the after image that is the before image's is copied from the before image's text instead of
 * being rendered again (a JSON document or a double costs hundreds of instructions).
 */
static void put_update_rows(const struct render *r, struct buf *b, const struct tcache *c,
                            struct scratch *sc, const struct value *before,
                            const struct value *after)
{
    size_t n = c->copy->ncols;
    if (sc->spans_cap < 2 * n) {
        sc->spans = mem_realloc(sc->spans, 2 * n * sizeof *sc->spans);
        sc->spans_cap = 2 * n;
    }
    size_t *span = sc->spans;
    buf_putc(b, '{');
    for (size_t i = 0; i < n; i++) {
        const struct colplan *p = &c->plans[i];
        put_label(b, p, i == 0);
        span[2 * i] = b->len;
        put_column(r, b, p, &before[i]);
        span[2 * i + 1] = b->len;
    }
    PUT_LIT(b, "},\"after\":{");
    for (size_t i = 0; i < n; i++) {
        const struct colplan *p = &c->plans[i];
        put_label(b, p, i == 0);
        if (event_value_same(&before[i], &after[i])) {
            size_t len = span[2 * i + 1] - span[2 * i];
            buf_reserve(b, len);
            memcpy(b->data + b->len, b->data + span[2 * i], len);
            b->len += len;
            b->data[b->len] = '\0';
        } else {
            put_column(r, b, p, &after[i]);
        }
    }
    buf_putc(b, '}');
}

static void put_row(const struct render *r, struct buf *b, const struct tcache *c,
                    const struct value *row, bool open)
{
    if (row == NULL) {
        PUT_LIT(b, "null");
        return;
    }
    buf_putc(b, '{');
    for (size_t i = 0; i < c->copy->ncols; i++) {
        const struct colplan *p = &c->plans[i];
        put_label(b, p, i == 0);
        put_column(r, b, p, &row[i]);
    }
    if (!open)
        buf_putc(b, '}');
}

static void put_opt_str(struct buf *b, const char *s)
{
    if (s)
        buf_json_str(b, s, strlen(s));
    else
        PUT_LIT(b, "null");
}

/* One LSN of source.sequence: the quoted decimal, or null for 0. */
static char *sequence_lsn(char *p, uint64_t v)
{
    if (v == 0) {
        memcpy(p, "null", 4);
        return p + 4;
    }
    char tmp[20];
    int n = 0;
    for (; v > 0; v /= 10)
        tmp[n++] = (char)('0' + v % 10);
    *p++ = '"';
    while (n > 0)
        *p++ = tmp[--n];
    *p++ = '"';
    return p;
}

/* PostgreSQL's source.sequence: the JSON text ["<last commit LSN>","<LSN>"], nulls for 0;
 * built by hand because this runs for every event (at most 47 bytes and a NUL). */
static void sequence_text(const struct event_source *s, char out[static 48])
{
    char *p = out;
    *p++ = '[';
    p = sequence_lsn(p, s->last_commit_lsn);
    *p++ = ',';
    p = sequence_lsn(p, s->lsn);
    *p++ = ']';
    *p = '\0';
}

/* The source block between ts_ms and the value of ts_us: snapshot, db, sequence. */
static void put_source_mid(struct buf *b, const struct event_source *s, const struct piece *db)
{
    PUT_LIT(b, ",\"snapshot\":\"");
    buf_puts(b, event_snapshot_name(s->snapshot));
    PUT_LIT(b, "\",\"db\":");
    put_piece(b, db);
    if (s->connector == EVENT_POSTGRESQL) {
        char seq[64];
        sequence_text(s, seq);
        PUT_LIT(b, ",\"sequence\":");
        buf_json_str(b, seq, strlen(seq));
    } else {
        PUT_LIT(b, ",\"sequence\":null");
    }
    PUT_LIT(b, ",\"ts_us\":");
}

/* The source block after ts_ns: up to MySQL's row number (its "row": included), or to the end
 * of PostgreSQL's; schema and table are JSON texts (schema only for PostgreSQL). */
static void put_source_rest(struct buf *b, const struct event_source *s, const struct piece *schema,
                            const struct piece *table)
{
    if (s->connector == EVENT_POSTGRESQL) {
        PUT_LIT(b, ",\"schema\":");
        put_piece(b, schema);
        PUT_LIT(b, ",\"table\":");
        put_piece(b, table);
        PUT_LIT(b, ",\"txId\":");
        if (s->txid >= 0)
            buf_json_int(b, s->txid);
        else
            PUT_LIT(b, "null");
        PUT_LIT(b, ",\"lsn\":");
        if (s->lsn)
            buf_json_uint(b, s->lsn);
        else
            PUT_LIT(b, "null");
        PUT_LIT(b, ",\"xmin\":null}");
        return;
    }
    PUT_LIT(b, ",\"table\":");
    put_piece(b, table);
    PUT_LIT(b, ",\"server_id\":");
    buf_json_uint(b, s->server_id);
    PUT_LIT(b, ",\"gtid\":");
    put_opt_str(b, s->gtid);
    PUT_LIT(b, ",\"file\":");
    put_opt_str(b, s->file ? s->file : "");
    PUT_LIT(b, ",\"pos\":");
    buf_json_uint(b, s->pos);
    PUT_LIT(b, ",\"row\":");
}

/* MySQL's source block after the row number. */
static void put_source_tail(const struct render *r, struct buf *b, const struct event_source *s)
{
    PUT_LIT(b, ",\"thread\":");
    if (s->thread >= 0)
        buf_json_int(b, s->thread);
    else
        PUT_LIT(b, "null");
    PUT_LIT(b, ",\"query\":");
    put_opt_str(b, r->include_query ? s->query : NULL);
    buf_putc(b, '}');
}

/* The source block; db, schema and table are JSON texts (schema only for PostgreSQL). */
static void put_source(const struct render *r, struct buf *b, const struct event *ev,
                       const struct piece *db, const struct piece *schema,
                       const struct piece *table)
{
    const struct event_source *s = &ev->source;
    put_piece(b, &r->src_head[s->connector]);
    buf_json_int(b, floor_div(s->ts_us, 1000));
    put_source_mid(b, s, db);
    buf_json_int(b, s->ts_us);
    PUT_LIT(b, ",\"ts_ns\":");
    buf_json_int(b, s->ts_us * 1000);
    put_source_rest(b, s, schema, table);
    if (s->connector == EVENT_POSTGRESQL)
        return;
    buf_json_int(b, s->row);
    put_source_tail(r, b, s);
}

static bool opt_str_eq(const char *a, const char *b)
{
    return a && b ? strcmp(a, b) == 0 : a == b;
}

/* True when the source s of a change of table c renders as sc's block (but the row). */
static bool srccache_same(const struct render *r, const struct srccache *sc, const struct tcache *c,
                          const struct event_source *s)
{
    const struct event_source *k = &sc->key;
    if (sc->table != c || k->connector != s->connector || k->snapshot != s->snapshot)
        return false;
    if (s->connector == EVENT_POSTGRESQL)
        return k->txid == s->txid && k->lsn == s->lsn && k->last_commit_lsn == s->last_commit_lsn;
    return k->server_id == s->server_id && k->pos == s->pos && k->thread == s->thread &&
           opt_str_eq(k->gtid, s->gtid) && opt_str_eq(k->file, s->file) &&
           (!r->include_query || opt_str_eq(k->query, s->query));
}

static char *opt_strdup(const char *s)
{
    return s ? mem_strdup(s) : NULL;
}

/* The source block up to the row number from sc's texts and the source time of s. */
static void put_source_times(const struct render *r, struct buf *b, const struct srccache *sc,
                             const struct event_source *s)
{
    put_piece(b, &r->src_head[s->connector]);
    if (s->ts_us >= 1000) {
        /* ts_ms is ts_us without its last three digits, ts_ns with three zeros more */
        char digits[20];
        size_t n = 0;
        for (uint64_t v = (uint64_t)s->ts_us; v; v /= 10)
            digits[sizeof digits - ++n] = (char)('0' + v % 10);
        const char *d = digits + sizeof digits - n;
        buf_append(b, d, n - 3);
        buf_append(b, sc->text.data, sc->mid_end);
        buf_append(b, d, n);
        PUT_LIT(b, ",\"ts_ns\":");
        buf_append(b, d, n);
        PUT_LIT(b, "000");
    } else {
        buf_json_int(b, floor_div(s->ts_us, 1000));
        buf_append(b, sc->text.data, sc->mid_end);
        buf_json_int(b, s->ts_us);
        PUT_LIT(b, ",\"ts_ns\":");
        buf_json_int(b, s->ts_us * 1000);
    }
    buf_append(b, sc->text.data + sc->mid_end, sc->rest_end - sc->mid_end);
}

/* The source block of a change of table c, from sc when the last one rendered with it was the
 * same, else rendered and kept in sc. */
static void put_source_cached(const struct render *r, struct buf *b, struct srccache *sc,
                              const struct tcache *c, const struct event *ev)
{
    const struct event_source *s = &ev->source;
    if (!srccache_same(r, sc, c, s)) {
        srccache_clear(sc);
        sc->table = c;
        sc->key = *s;
        sc->key.gtid = sc->gtid = opt_strdup(s->gtid);
        sc->key.file = sc->file = opt_strdup(s->file);
        sc->key.query = sc->query = r->include_query ? opt_strdup(s->query) : NULL;
        buf_reset(&sc->text);
        put_source_mid(&sc->text, s, &c->src_db);
        sc->mid_end = sc->text.len;
        put_source_rest(&sc->text, s, &c->src_schema, &c->src_table);
        sc->rest_end = sc->text.len;
        if (s->connector != EVENT_POSTGRESQL)
            put_source_tail(r, &sc->text, s);
    }
    if (sc->block.len && sc->block_ts_us == s->ts_us) {
        buf_append(b, sc->block.data, sc->block.len);
    } else {
        size_t start = b->len;
        put_source_times(r, b, sc, s);
        buf_reset(&sc->block);
        buf_append(&sc->block, b->data + start, b->len - start);
        sc->block_ts_us = s->ts_us;
    }
    if (s->connector == EVENT_POSTGRESQL)
        return;
    buf_json_int(b, s->row);
    buf_append(b, sc->text.data + sc->rest_end, sc->text.len - sc->rest_end);
}

static void put_key(const struct render *r, struct buf *b, const struct tcache *c,
                    const struct value *row)
{
    put_piece(b, &c->key_open);
    for (size_t k = 0; k < c->nkeys; k++) {
        const struct colplan *p = &c->plans[c->keys[k]];
        put_label(b, p, k == 0);
        put_column(r, b, p, &row[c->keys[k]]);
    }
    if (r->key_schemas)
        PUT_LIT(b, "}}");
    else
        buf_putc(b, '}');
}

struct now {
    int64_t ms, us, ns;
};

static struct now now_of(const struct render *r)
{
    struct now n;
    n.ns = r->clock_held ? r->held_ns : r->now_ns(r->now_ctx);
    n.us = floor_div(n.ns, 1000);
    n.ms = floor_div(n.ns, 1000000);
    return n;
}

/* The `transaction` block of one change (provide.transaction.metadata); NULL renders null. */
struct txblock {
    const char *id;
    int64_t total_order;
    int64_t data_collection_order;
};

static void put_txblock(struct buf *b, const struct txblock *tb)
{
    if (tb == NULL) {
        PUT_LIT(b, "null");
        return;
    }
    PUT_LIT(b, "{\"id\":");
    buf_json_str(b, tb->id, strlen(tb->id));
    PUT_LIT(b, ",\"total_order\":");
    buf_json_int(b, tb->total_order);
    PUT_LIT(b, ",\"data_collection_order\":");
    buf_json_int(b, tb->data_collection_order);
    buf_putc(b, '}');
}

/* The envelope's ts_ms, ts_us and ts_ns and its closing brace, after the op. Past 1970 they
 * are the milliseconds' digits followed by none, three or six more digits: printed once. */
static void put_envelope_times(const struct render *rc, struct buf *b, const struct now *now)
{
    struct render *r = (struct render *)rc; /* the digits cache changes, as the table cache does */
    if (now->ns < 1000000) {
        PUT_LIT(b, "\",\"ts_ms\":");
        buf_json_int(b, now->ms);
        PUT_LIT(b, ",\"ts_us\":");
        buf_json_int(b, now->us);
        PUT_LIT(b, ",\"ts_ns\":");
        buf_json_int(b, now->ns);
        buf_putc(b, '}');
        return;
    }
    char sub[6], out[96], *p = out;
    if (r->env_ms_len == 0 || r->env_ms != now->ms) {
        size_t n = 0;
        for (uint64_t v = (uint64_t)now->ms; v; v /= 10)
            r->env_ms_text[sizeof r->env_ms_text - ++n] = (char)('0' + v % 10);
        memmove(r->env_ms_text, r->env_ms_text + sizeof r->env_ms_text - n, n);
        r->env_ms_len = n;
        r->env_ms = now->ms;
    }
    size_t n = r->env_ms_len;
    const char *d = r->env_ms_text;
    uint32_t rest = (uint32_t)(now->ns % 1000000);
    memcpy(sub, buf_digit_pairs + rest / 10000 * 2, 2);
    memcpy(sub + 2, buf_digit_pairs + rest / 100 % 100 * 2, 2);
    memcpy(sub + 4, buf_digit_pairs + rest % 100 * 2, 2);
    memcpy(p, "\",\"ts_ms\":", 10);
    p += 10;
    memcpy(p, d, n);
    p += n;
    memcpy(p, ",\"ts_us\":", 9);
    p += 9;
    memcpy(p, d, n);
    p += n;
    memcpy(p, sub, 3);
    p += 3;
    memcpy(p, ",\"ts_ns\":", 9);
    p += 9;
    memcpy(p, d, n);
    p += n;
    memcpy(p, sub, 6);
    p += 6;
    *p++ = '}';
    buf_append(b, out, (size_t)(p - out));
}

static void put_envelope(const struct render *r, struct buf *b, struct scratch *sc,
                         const struct tcache *c, const struct event *ev, const struct txblock *tb,
                         const struct now *now)
{
    put_piece(b, &c->env_open);
    if (ev->op == EVENT_UPDATE && ev->before && ev->after) {
        put_update_rows(r, b, c, sc, ev->before, ev->after);
    } else {
        put_row(r, b, c, ev->op == EVENT_TRUNCATE ? NULL : ev->before, false);
        PUT_LIT(b, ",\"after\":");
        put_row(r, b, c, ev->op == EVENT_TRUNCATE ? NULL : ev->after, false);
    }
    PUT_LIT(b, ",\"source\":");
    put_source_cached(r, b, &sc->src, c, ev);
    PUT_LIT(b, ",\"transaction\":");
    put_txblock(b, tb);
    PUT_LIT(b, ",\"op\":\"");
    buf_puts(b, event_op_code(ev->op));
    put_envelope_times(r, b, now);
    if (r->value_schemas)
        buf_putc(b, '}');
}

enum fr_result { FR_MISSING, FR_VALUE, FR_NULL };

static enum fr_result fr_null(struct buf *b, bool raw)
{
    if (!raw)
        PUT_LIT(b, "null");
    return FR_NULL;
}

static enum fr_result fr_str(struct buf *b, const char *s, bool raw)
{
    if (s == NULL)
        return fr_null(b, raw);
    if (raw)
        buf_puts(b, s);
    else
        buf_json_str(b, s, strlen(s));
    return FR_VALUE;
}

static enum fr_result fr_int(struct buf *b, int64_t v)
{
    buf_json_int(b, v);
    return FR_VALUE;
}

static enum fr_result fr_opt_int(struct buf *b, bool present, int64_t v, bool raw)
{
    return present ? fr_int(b, v) : fr_null(b, raw);
}

/* The value of an add.fields / add.headers reference: JSON, or (raw) the bare text a header
 * carries. FR_MISSING when the connector's records have no such field: the SMT leaves it out. */
static enum fr_result put_field_ref(const struct render *r, struct buf *b,
                                    const struct field_ref *f, const struct event *ev,
                                    const struct txblock *tb, const struct now *now, bool raw)
{
    const struct event_source *s = &ev->source;
    const char *n = f->field;
    bool pg = s->connector == EVENT_POSTGRESQL;
    char seq[64];

    if (f->where == FS_ENVELOPE) {
        if (strcmp(n, "op") == 0)
            return fr_str(b, event_op_code(ev->op), raw);
        if (strcmp(n, "ts_ms") == 0)
            return fr_int(b, now->ms);
        if (strcmp(n, "ts_us") == 0)
            return fr_int(b, now->us);
        return fr_int(b, now->ns);
    }
    if (f->where == FS_TRANSACTION) {
        if (strcmp(n, "id") != 0 && strcmp(n, "total_order") != 0 &&
            strcmp(n, "data_collection_order") != 0)
            return FR_MISSING;
        if (tb == NULL)
            return fr_null(b, raw); /* no transaction metadata: the struct is null */
        if (strcmp(n, "id") == 0)
            return fr_str(b, tb->id, raw);
        return fr_int(b,
                      strcmp(n, "total_order") == 0 ? tb->total_order : tb->data_collection_order);
    }
    if (strcmp(n, "version") == 0)
        return fr_str(b, RENDER_DEBEZIUM_VERSION, raw);
    if (strcmp(n, "connector") == 0)
        return fr_str(b, event_connector_name(s->connector), raw);
    if (strcmp(n, "name") == 0)
        return fr_str(b, r->prefix, raw);
    if (strcmp(n, "ts_ms") == 0)
        return fr_int(b, floor_div(s->ts_us, 1000));
    if (strcmp(n, "ts_us") == 0)
        return fr_int(b, s->ts_us);
    if (strcmp(n, "ts_ns") == 0)
        return fr_int(b, s->ts_us * 1000);
    if (strcmp(n, "snapshot") == 0)
        return fr_str(b, s->snapshot == SNAPSHOT_FALSE ? NULL : event_snapshot_name(s->snapshot),
                      raw);
    if (strcmp(n, "db") == 0)
        return fr_str(b, ev->table->db, raw);
    if (strcmp(n, "sequence") == 0) {
        if (!pg)
            return fr_null(b, raw);
        sequence_text(s, seq);
        return fr_str(b, seq, raw);
    }
    if (strcmp(n, "table") == 0)
        return fr_str(b, ev->table->name, raw);
    if (pg) {
        if (strcmp(n, "schema") == 0)
            return fr_str(b, ev->table->schema, raw);
        if (strcmp(n, "txId") == 0)
            return fr_opt_int(b, s->txid >= 0, s->txid, raw);
        if (strcmp(n, "lsn") == 0)
            return fr_opt_int(b, s->lsn != 0, (int64_t)s->lsn, raw);
        if (strcmp(n, "xmin") == 0)
            return fr_null(b, raw);
        return FR_MISSING;
    }
    if (strcmp(n, "server_id") == 0)
        return fr_int(b, s->server_id);
    if (strcmp(n, "gtid") == 0)
        return fr_str(b, s->gtid, raw);
    if (strcmp(n, "file") == 0)
        return fr_str(b, s->file ? s->file : "", raw);
    if (strcmp(n, "pos") == 0)
        return fr_int(b, (int64_t)s->pos);
    if (strcmp(n, "row") == 0)
        return fr_int(b, s->row);
    if (strcmp(n, "thread") == 0)
        return fr_opt_int(b, s->thread >= 0, s->thread, raw);
    if (strcmp(n, "query") == 0)
        return fr_str(b, r->include_query ? s->query : NULL, raw);
    return FR_MISSING;
}

/* Header values as Connect's SimpleHeaderConverter writes them: strings bare, numbers as
 * text, null as a header without value. */
static void add_headers(const struct render *r, struct buf *b, struct out_rec *o,
                        const struct event *ev, const struct txblock *tb, const struct now *now,
                        bool tombstone)
{
    for (size_t i = 0; i < r->nheaders && o->nheaders < MAX_HEADERS; i++) {
        const struct field_ref *f = &r->headers[i];
        if (tombstone && !(f->where == FS_ENVELOPE && strcmp(f->field, "op") == 0))
            continue;
        size_t start = b->len;
        enum fr_result fr =
            tombstone ? fr_str(b, "d", true) : put_field_ref(r, b, f, ev, tb, now, true);
        if (fr == FR_MISSING)
            continue;
        o->hname[o->nheaders] = f->newname;
        if (fr == FR_NULL) {
            o->hvalue[o->nheaders++] = -1;
            continue;
        }
        buf_putc(b, '\0');
        o->hvalue[o->nheaders++] = (ssize_t)start;
    }
}

static int emit_rec(void *ctx, render_emit_fn emit, struct buf *b, const struct out_rec *o,
                    struct error *err)
{
    const char *hv[MAX_HEADERS];
    struct render_record rec;
    rec.topic = o->topic;
    rec.topic_plain = o->topic_plain;
    rec.key = o->key < 0 ? NULL : b->data + o->key;
    rec.key_len = o->key_len;
    rec.value = o->value < 0 ? NULL : b->data + o->value;
    rec.value_len = o->value_len;
    rec.nheaders = o->nheaders;
    for (size_t i = 0; i < o->nheaders; i++)
        hv[i] = o->hvalue[i] < 0 ? NULL : b->data + o->hvalue[i];
    rec.header_names = o->hname;
    rec.header_values = hv;
    return emit(ctx, &rec, err);
}

static void mark(struct buf *b, ssize_t *at)
{
    *at = (ssize_t)b->len;
}

static void close_mark(struct buf *b, ssize_t at, size_t *len)
{
    *len = b->len - (size_t)at;
    buf_putc(b, '\0'); /* each piece is NUL-terminated for callers that want C strings */
}

/* The row schema with a null value: what JsonConverter makes of ExtractField("after") on a
 * delete. It is the text "null" (or a schema with a null payload), not a Kafka tombstone. */
static void put_null_row(struct buf *b, const struct tcache *c, struct out_rec *o)
{
    mark(b, &o->value);
    put_piece(b, &c->null_row);
    close_mark(b, o->value, &o->value_len);
}

/* The flat value of ExtractNewRecordState for a row (after, or before of a delete). */
static void put_flat(const struct render *r, struct buf *b, const struct tcache *c,
                     struct out_rec *o, const struct event *ev, const struct txblock *tb,
                     const struct value *row, bool deleted, const struct now *now)
{
    if (row == NULL) {
        /* InsertField passes a null value through untouched */
        put_null_row(b, c, o);
        return;
    }
    mark(b, &o->value);
    put_piece(b, &c->flat_open);
    put_row(r, b, c, row, true);
    for (size_t i = 0; i < r->nfields; i++) {
        size_t start = b->len;
        buf_putc(b, ',');
        buf_json_str(b, r->fields[i].newname, strlen(r->fields[i].newname));
        buf_putc(b, ':');
        if (put_field_ref(r, b, &r->fields[i], ev, tb, now, false) == FR_MISSING) {
            b->len = start;
            b->data[start] = '\0';
        }
    }
    if (is_rewrite(r))
        buf_puts(b, deleted ? ",\"__deleted\":\"true\"" : ",\"__deleted\":\"false\"");
    buf_putc(b, '}');
    if (r->value_schemas)
        buf_putc(b, '}');
    close_mark(b, o->value, &o->value_len);
}

/* The envelope record of ev (and its tombstone) as the file sink's lines, rendered straight into
 * out: what render_record_line makes of them, without a copy of each record. */
static void put_envelope_lines(const struct render *r, struct buf *out, struct scratch *sc,
                               const struct tcache *c, const struct event *ev,
                               const struct txblock *tb, const struct value *keyrow,
                               const struct now *now)
{
    size_t start = out->len;
    put_piece(out, &c->line_open);
    bool keyed = c->nkeys && keyrow && ev->op != EVENT_TRUNCATE;
    if (keyed)
        put_key(r, out, c, keyrow);
    else
        PUT_LIT(out, "null");
    size_t key_end = out->len;
    PUT_LIT(out, ",\"value\":");
    put_envelope(r, out, sc, c, ev, tb, now);
    PUT_LIT(out, "}\n");
    if (keyed && ev->op == EVENT_DELETE && r->tombstones) {
        size_t n = key_end - start;
        buf_reserve(out, n);
        memcpy(out->data + out->len, out->data + start, n);
        out->len += n;
        PUT_LIT(out, ",\"value\":null}\n");
    }
}

/* tx not NULL: the change is counted in tx's open transaction and gets its block. line not
 * NULL: an envelope record is appended to line in place; other records still go to emit. */
static int render_change(const struct render *r, const struct event *ev, struct txmeta *tx,
                         render_emit_fn emit, void *ctx, struct buf *line, struct error *err)
{
    struct scratch *sc;
    const struct tcache *c = table_cache(r, ev->table, ev->source.connector, &sc);
    struct txblock txb, *tb = NULL;
    if (tx) {
        txb.id = ev->txn_id;
        txb.data_collection_order = txmeta_event(tx, c->collection, c->collection_len);
        txb.total_order = txmeta_total(tx);
        tb = &txb;
    }
    struct buf *b = &sc->b;
    const struct value *keyrow = ev->op == EVENT_DELETE ? ev->before : ev->after;
    /* the flat value needs the time only for added fields or headers */
    struct now now = {0};
    if (!r->unwrap || r->nfields || r->nheaders)
        now = now_of(r);
    struct out_rec o;
    bool tombstone = false;
    int rc = 0;

    if (keyrow == NULL)
        keyrow = ev->before ? ev->before : ev->after;
    if (line && !r->unwrap) {
        put_envelope_lines(r, line, sc, c, ev, tb, keyrow, &now);
        scratch_put(r, sc);
        return 0;
    }
    /* not memset: the header arrays are read only up to nheaders */
    o.topic = c->topic;
    /* render_topic gives Kafka's topic characters only, which JSON never escapes */
    o.topic_plain = true;
    o.key = -1;
    o.value = -1;
    o.key_len = o.value_len = 0;
    o.nheaders = 0;
    if (c->nkeys && keyrow && ev->op != EVENT_TRUNCATE) {
        mark(b, &o.key);
        put_key(r, b, c, keyrow);
        close_mark(b, o.key, &o.key_len);
    }

    if (!r->unwrap) {
        mark(b, &o.value);
        put_envelope(r, b, sc, c, ev, tb, &now);
        close_mark(b, o.value, &o.value_len);
        rc = emit_rec(ctx, emit, b, &o, err);
        tombstone = ev->op == EVENT_DELETE && r->tombstones;
    } else if (ev->op == EVENT_TRUNCATE) {
        /* ExtractNewRecordState drops truncate records */
    } else {
        add_headers(r, b, &o, ev, tb, &now, false);
        bool emit_value = true;
        if (ev->op == EVENT_DELETE) {
            enum unwrap_delete m = r->udel;
            if (m == UNWRAP_LEGACY)
                m = r->legacy == LEGACY_DROP      ? UNWRAP_DROP
                    : r->legacy == LEGACY_REWRITE ? UNWRAP_REWRITE
                                                  : UNWRAP_TOMBSTONE;
            if (m == UNWRAP_DROP) {
                emit_value = false;
            } else if (m == UNWRAP_TOMBSTONE) {
                put_null_row(b, c, &o);
            } else if (m == UNWRAP_DELETE_TO_TOMBSTONE) {
                o.value = -1;
            } else {
                put_flat(r, b, c, &o, ev, tb, ev->before, true, &now);
            }
        } else {
            put_flat(r, b, c, &o, ev, tb, ev->after, false, &now);
        }
        if (emit_value)
            rc = emit_rec(ctx, emit, b, &o, err);
        if (ev->op == EVENT_DELETE && r->tombstones)
            tombstone = r->udel == UNWRAP_REWRITE_WITH_TOMBSTONE ||
                        (r->udel == UNWRAP_LEGACY && !r->legacy_drop_tombstones);
    }

    if (rc == 0 && tombstone && o.key >= 0) {
        struct out_rec t = o;
        t.value = -1;
        t.value_len = 0;
        t.nheaders = 0;
        if (r->unwrap)
            add_headers(r, b, &t, ev, tb, &now, true);
        rc = emit_rec(ctx, emit, b, &t, err);
    }
    scratch_put(r, sc);
    return rc;
}

static void put_wrapped(struct buf *b, bool schemas, const char *schema, const char *payload)
{
    if (schemas) {
        PUT_LIT(b, "{\"schema\":");
        buf_puts(b, schema);
        PUT_LIT(b, ",\"payload\":");
    }
    buf_puts(b, payload);
    if (schemas)
        buf_putc(b, '}');
}

static int render_heartbeat(const struct render *r, render_emit_fn emit, void *ctx,
                            struct error *err)
{
    struct buf b, payload;
    struct out_rec o;
    char topic[512];
    struct now now = now_of(r);

    snprintf(topic, sizeof topic, "%s.%s", r->heartbeat_prefix, r->prefix);
    buf_init(&b);
    buf_init(&payload);
    memset(&o, 0, sizeof o);
    o.topic = topic;
    o.topic_plain = false;
    PUT_LIT(&payload, "{\"serverName\":");
    buf_json_str(&payload, r->prefix, strlen(r->prefix));
    buf_putc(&payload, '}');
    mark(&b, &o.key);
    put_wrapped(&b, r->key_schemas,
                "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,"
                "\"field\":\"serverName\"}],\"optional\":false,"
                "\"name\":\"io.debezium.connector.common.ServerNameKey\",\"version\":1}",
                payload.data);
    close_mark(&b, o.key, &o.key_len);
    buf_reset(&payload);
    buf_printf(&payload, "{\"ts_ms\":%" PRId64 "}", now.ms);
    mark(&b, &o.value);
    put_wrapped(&b, r->value_schemas,
                "{\"type\":\"struct\",\"fields\":[{\"type\":\"int64\",\"optional\":false,"
                "\"field\":\"ts_ms\"}],\"optional\":false,"
                "\"name\":\"io.debezium.connector.common.Heartbeat\",\"version\":1}",
                payload.data);
    close_mark(&b, o.value, &o.value_len);
    int rc = emit_rec(ctx, emit, &b, &o, err);
    buf_free(&payload);
    buf_free(&b);
    return rc;
}

/* clang-format cannot lay out string literals built from macros. */
/* clang-format off */
#define OPT_STR(n) "{\"type\":\"string\",\"optional\":true,\"field\":\"" n "\"}"
#define REQ_STR(n) "{\"type\":\"string\",\"optional\":false,\"field\":\"" n "\"}"
#define OPT_I32(n) "{\"type\":\"int32\",\"optional\":true,\"field\":\"" n "\"}"
#define REQ_I32(n) "{\"type\":\"int32\",\"optional\":false,\"field\":\"" n "\"}"
#define OPT_BOOL(n) "{\"type\":\"boolean\",\"optional\":true,\"field\":\"" n "\"}"

/* SchemaFactory.schemaHistoryChangeSchema: the element of tableChanges. */
static const char change_schema[] =
    "{\"type\":\"struct\",\"fields\":[" REQ_STR("type") "," REQ_STR("id") ","
    "{\"type\":\"struct\",\"fields\":[" OPT_STR("defaultCharsetName") ","
    "{\"type\":\"array\",\"items\":{\"type\":\"string\",\"optional\":false},\"optional\":true,"
    "\"field\":\"primaryKeyColumnNames\"},"
    "{\"type\":\"array\",\"items\":{\"type\":\"struct\",\"fields\":[" REQ_STR("name") ","
    REQ_I32("jdbcType") "," OPT_I32("nativeType") "," REQ_STR("typeName") ","
    OPT_STR("typeExpression") "," OPT_STR("charsetName") "," OPT_I32("length") ","
    OPT_I32("scale") "," REQ_I32("position") "," OPT_BOOL("optional") ","
    OPT_BOOL("autoIncremented") "," OPT_BOOL("generated") "," OPT_STR("comment") ","
    OPT_STR("defaultValueExpression") ","
    "{\"type\":\"array\",\"items\":{\"type\":\"string\",\"optional\":false},\"optional\":true,"
    "\"field\":\"enumValues\"}],\"optional\":false,"
    "\"name\":\"io.debezium.connector.schema.Column\",\"version\":1},\"optional\":false,"
    "\"field\":\"columns\"}," OPT_STR("comment") "],\"optional\":true,"
    "\"name\":\"io.debezium.connector.schema.Table\",\"version\":1,\"field\":\"table\"}],"
    "\"optional\":false,\"name\":\"io.debezium.connector.schema.Change\",\"version\":1}";
/* clang-format on */

/*
 * The schema change record of a MySQL/MariaDB DDL statement. tableChanges is always empty:
 * Debezium fills it from its DDL parser's table model, which dbtail does not have (row
 * decoding uses the binlog's own metadata); consumers that apply `ddl` are unaffected.
 */
static int render_ddl(const struct render *r, const struct event *ev, render_emit_fn emit,
                      void *ctx, struct error *err)
{
    const char *conn = event_connector_name(ev->source.connector);
    const char *db = ev->ddl_db ? ev->ddl_db : "";
    struct buf b;
    struct out_rec o;

    if (!r->schema_changes || ev->source.connector == EVENT_POSTGRESQL)
        return 0;
    buf_init(&b);
    memset(&o, 0, sizeof o);
    o.topic = r->prefix;
    o.topic_plain = false;

    mark(&b, &o.key);
    if (r->key_schemas)
        buf_printf(&b,
                   "{\"schema\":{\"type\":\"struct\",\"fields\":[" REQ_STR(
                       "databaseName") "],\"optional\":false,\"name\":\"io.debezium.connector.%s."
                                       "SchemaChangeKey\","
                                       "\"version\":1},\"payload\":",
                   conn);
    PUT_LIT(&b, "{\"databaseName\":");
    buf_json_str(&b, db, strlen(db));
    buf_putc(&b, '}');
    if (r->key_schemas)
        buf_putc(&b, '}');
    close_mark(&b, o.key, &o.key_len);

    mark(&b, &o.value);
    if (r->value_schemas) {
        PUT_LIT(&b, "{\"schema\":{\"type\":\"struct\",\"fields\":[");
        put_source_schema(&b, ev->source.connector);
        buf_puts(
            &b,
            ",{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"}," OPT_STR(
                "databaseName") "," OPT_STR("schemaName") "," OPT_STR("ddl") ",{\"type\":\"array\","
                                                                             "\"items\":");
        buf_puts(&b, change_schema);
        buf_printf(&b,
                   ",\"optional\":false,\"field\":\"tableChanges\"}],\"optional\":false,"
                   "\"name\":\"io.debezium.connector.%s.SchemaChangeValue\",\"version\":1},"
                   "\"payload\":",
                   conn);
    }
    PUT_LIT(&b, "{\"source\":");
    struct piece pdb = piece_json_str(db);
    struct piece ptable = piece_json_str(ev->table ? ev->table->name : NULL);
    put_source(r, &b, ev, &pdb, &pdb, &ptable);
    free(pdb.text);
    free(ptable.text);
    buf_printf(&b, ",\"ts_ms\":%" PRId64 ",\"databaseName\":", floor_div(ev->source.ts_us, 1000));
    buf_json_str(&b, db, strlen(db));
    PUT_LIT(&b, ",\"schemaName\":null,\"ddl\":");
    put_opt_str(&b, ev->ddl);
    PUT_LIT(&b, ",\"tableChanges\":[]}");
    if (r->value_schemas)
        buf_putc(&b, '}');
    close_mark(&b, o.value, &o.value_len);
    int rc = emit_rec(ctx, emit, &b, &o, err);
    buf_free(&b);
    return rc;
}

/* render_event, with render_change's line. */
static int event_records(const struct render *r, const struct event *ev, render_emit_fn emit,
                         void *ctx, struct buf *line, struct error *err)
{
    switch (ev->op) {
    case EVENT_COMMIT:
        return 0;
    case EVENT_HEARTBEAT:
        return render_heartbeat(r, emit, ctx, err);
    case EVENT_DDL:
        return render_ddl(r, ev, emit, ctx, err);
    case EVENT_CREATE:
    case EVENT_UPDATE:
    case EVENT_DELETE:
    case EVENT_TRUNCATE:
        if (r->skip[ev->op])
            return 0;
        break;
    case EVENT_READ:
        break;
    }
    if (ev->table == NULL)
        return error_set(err, "change event without a table");
    return render_change(r, ev, NULL, emit, ctx, line, err);
}

int render_event(const struct render *r, const struct event *ev, render_emit_fn emit, void *ctx,
                 struct error *err)
{
    return event_records(r, ev, emit, ctx, NULL, err);
}

/* ---- transaction metadata ------------------------------------------------------------- */

/* SchemaFactory.transactionKeySchema and transactionValueSchema. */
static const char tx_key_schema[] =
    "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"id\"}],"
    "\"optional\":false,\"name\":\"io.debezium.connector.common.TransactionMetadataKey\","
    "\"version\":1}";
static const char tx_value_schema[] =
    "{\"type\":\"struct\",\"fields\":["
    "{\"type\":\"string\",\"optional\":false,\"field\":\"status\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"event_count\"},"
    "{\"type\":\"array\",\"items\":{\"type\":\"struct\",\"fields\":["
    "{\"type\":\"string\",\"optional\":false,\"field\":\"data_collection\"},"
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"event_count\"}],"
    "\"optional\":true,\"name\":\"event.collection\",\"version\":1},\"optional\":true,"
    "\"field\":\"data_collections\"},"
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"}],\"optional\":false,"
    "\"name\":\"io.debezium.connector.common.TransactionMetadataValue\",\"version\":1}";

/* A BEGIN record (tx NULL) or the END record of tx, on <prefix>.transaction. */
static int render_tx_record(const struct render *r, const char *id, struct txmeta *tx,
                            int64_t ts_us, render_emit_fn emit, void *ctx, struct error *err)
{
    struct buf b;
    struct out_rec o;
    buf_init(&b);
    memset(&o, 0, sizeof o);
    o.topic = r->tx_topic;
    o.topic_plain = false;

    mark(&b, &o.key);
    if (r->key_schemas) {
        PUT_LIT(&b, "{\"schema\":");
        buf_puts(&b, tx_key_schema);
        PUT_LIT(&b, ",\"payload\":");
    }
    PUT_LIT(&b, "{\"id\":");
    buf_json_str(&b, id, strlen(id));
    buf_putc(&b, '}');
    if (r->key_schemas)
        buf_putc(&b, '}');
    close_mark(&b, o.key, &o.key_len);

    mark(&b, &o.value);
    if (r->value_schemas) {
        PUT_LIT(&b, "{\"schema\":");
        buf_puts(&b, tx_value_schema);
        PUT_LIT(&b, ",\"payload\":");
    }
    buf_puts(&b, tx ? "{\"status\":\"END\",\"id\":" : "{\"status\":\"BEGIN\",\"id\":");
    buf_json_str(&b, id, strlen(id));
    if (tx) {
        const struct txmeta_collection *cols;
        size_t n = txmeta_collections(tx, &cols);
        PUT_LIT(&b, ",\"event_count\":");
        buf_json_int(&b, txmeta_total(tx));
        PUT_LIT(&b, ",\"data_collections\":[");
        for (size_t i = 0; i < n; i++) {
            if (i)
                buf_putc(&b, ',');
            PUT_LIT(&b, "{\"data_collection\":");
            buf_json_str(&b, cols[i].name, strlen(cols[i].name));
            PUT_LIT(&b, ",\"event_count\":");
            buf_json_int(&b, cols[i].count);
            buf_putc(&b, '}');
        }
        buf_putc(&b, ']');
    } else {
        PUT_LIT(&b, ",\"event_count\":null,\"data_collections\":null");
    }
    PUT_LIT(&b, ",\"ts_ms\":");
    buf_json_int(&b, floor_div(ts_us, 1000));
    buf_putc(&b, '}');
    if (r->value_schemas)
        buf_putc(&b, '}');
    close_mark(&b, o.value, &o.value_len);
    int rc = emit_rec(ctx, emit, &b, &o, err);
    buf_free(&b);
    return rc;
}

/*
 * TransactionMonitor.dataEvent for a streamed change: the first change of a transaction opens
 * it with a BEGIN record, stamped with that change's source time (the commit time the source
 * gives its BEGIN). Snapshot rows, skipped operations, schema changes and heartbeats take no
 * part, and neither does a change without a transaction id (Debezium's txId null). line: as
 * render_change's.
 */
static int event_tx_records(const struct render *r, const struct event *ev, struct txmeta *tx,
                            render_emit_fn emit, void *ctx, struct buf *line, struct error *err)
{
    bool change = ev->op == EVENT_CREATE || ev->op == EVENT_UPDATE || ev->op == EVENT_DELETE ||
                  ev->op == EVENT_TRUNCATE;
    if (!r->txmeta || tx == NULL || !change || r->skip[ev->op] || ev->table == NULL ||
        ev->txn_id == NULL)
        return event_records(r, ev, emit, ctx, line, err);
    if (!txmeta_active(tx)) {
        txmeta_begin(tx, ev->txn_id);
        if (render_tx_record(r, ev->txn_id, NULL, ev->source.ts_us, emit, ctx, err) < 0)
            return -1;
    }
    return render_change(r, ev, tx, emit, ctx, line, err);
}

int render_event_tx(const struct render *r, const struct event *ev, struct txmeta *tx,
                    render_emit_fn emit, void *ctx, struct error *err)
{
    return event_tx_records(r, ev, tx, emit, ctx, NULL, err);
}

static int line_emit(void *ctx, const struct render_record *rec, struct error *err)
{
    (void)err;
    render_record_line(ctx, rec);
    return 0;
}

int render_event_lines(const struct render *r, const struct event *ev, struct txmeta *tx,
                       struct buf *out, struct error *err)
{
    return event_tx_records(r, ev, tx, line_emit, out, out, err);
}

int render_commit(const struct render *r, const struct event *ev, struct txmeta *tx,
                  render_emit_fn emit, void *ctx, struct error *err)
{
    if (!r->txmeta || tx == NULL || !txmeta_active(tx))
        return 0;
    const char *id = ev->txn_id ? ev->txn_id : txmeta_id(tx);
    int rc = render_tx_record(r, id, tx, ev->source.ts_us, emit, ctx, err);
    txmeta_end(tx);
    return rc;
}

/* True when s is its own JSON string text: topic names almost always are. */
static bool plain_json(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == '"' || ch == '\\' || ch >= 0x80)
            return false;
    }
    return true;
}

void render_record_line(struct buf *b, const struct render_record *rec)
{
    size_t tlen = strlen(rec->topic);
    if (!rec->topic_plain && !plain_json(rec->topic, tlen)) {
        PUT_LIT(b, "{\"topic\":");
        buf_json_str(b, rec->topic, tlen);
        PUT_LIT(b, ",\"key\":");
        if (rec->key)
            buf_append(b, rec->key, rec->key_len);
        else
            PUT_LIT(b, "null");
        PUT_LIT(b, ",\"value\":");
        if (rec->value)
            buf_append(b, rec->value, rec->value_len);
        else
            PUT_LIT(b, "null");
        PUT_LIT(b, "}\n");
        return;
    }
    /* the common line in one reservation and straight copies */
    const char *key = rec->key ? rec->key : "null", *value = rec->value ? rec->value : "null";
    size_t klen = rec->key ? rec->key_len : 4, vlen = rec->value ? rec->value_len : 4;
    buf_reserve(b, tlen + klen + vlen + 29);
    char *p = b->data + b->len;
    memcpy(p, "{\"topic\":\"", 10);
    p += 10;
    memcpy(p, rec->topic, tlen);
    p += tlen;
    memcpy(p, "\",\"key\":", 8);
    p += 8;
    memcpy(p, key, klen);
    p += klen;
    memcpy(p, ",\"value\":", 9);
    p += 9;
    memcpy(p, value, vlen);
    p += vlen;
    memcpy(p, "}\n", 2);
    p += 2;
    *p = '\0';
    b->len = (size_t)(p - b->data);
}
