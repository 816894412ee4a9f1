/*
 * test_render: Debezium records from hand-built events. Golden files under
 * tests/golden/render/ hold the records Debezium writes for the same rows (see the README
 * there for where each comes from); the other cases check one encoding or option each.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/buf.h"
#include "../../src/config.h"
#include "../../src/mem.h"
#include "../../src/render.h"
#include "../../src/txmeta.h"
#include "unit.h"

#define GOLDEN_DIR "tests/golden/render/"

/* ---- building events ------------------------------------------------------------------ */

#define V_NULL       ((struct value){.kind = VALUE_NULL})
#define V_INT(x)     ((struct value){.kind = VALUE_INT, .v.i = (x)})
#define V_STR(x)     ((struct value){.kind = VALUE_STRING, .v.s = {.p = (x), .len = strlen(x)}})
#define V_KIND(k, x) ((struct value){.kind = (k), .v.s = {.p = (x), .len = strlen(x)}})
#define V_TIME(k, x) ((struct value){.kind = (k), .v.i = (x)})

static int64_t pinned_ns;

static int64_t pinned_clock(void *ctx)
{
    (void)ctx;
    return pinned_ns;
}

static struct config *cfg_of(const char *const *kv)
{
    struct config *cfg = config_new();
    config_set(cfg, "topic.prefix", "mysql-server-1");
    for (; kv && kv[0]; kv += 2)
        config_set(cfg, kv[0], kv[1]);
    return cfg;
}

static struct render *render_of(struct config *cfg)
{
    struct render *r = NULL;
    struct error err;
    error_clear(&err);
    if (render_new(cfg, &r, &err) < 0) {
        unit_fail(__FILE__, __LINE__, "render_new: %s", err.msg);
        return NULL;
    }
    render_set_clock(r, pinned_clock, NULL);
    return r;
}

static struct schema_column *add_col(struct schema_table *t, const char *name, const char *type,
                                     enum value_kind kind, bool optional)
{
    struct schema_column *c = schema_table_add_column(t, name, type, kind);
    c->optional = optional;
    return c;
}

/* mysql.adoc's example table:
 *   CREATE TABLE customers (id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
 *     first_name VARCHAR(255) NOT NULL, last_name VARCHAR(255) NOT NULL,
 *     email VARCHAR(255) NOT NULL UNIQUE KEY) AUTO_INCREMENT=1001; */
static struct schema_table *customers_table(const char *db, const char *schema)
{
    struct schema_table *t = schema_table_new(db, schema, "customers");
    struct schema_column *c = add_col(t, "id", schema ? "int4" : "int", VALUE_INT, false);
    c->int_bits = 32;
    c->key = true;
    add_col(t, "first_name", "varchar", VALUE_STRING, false);
    add_col(t, "last_name", "varchar", VALUE_STRING, false);
    add_col(t, "email", "varchar", VALUE_STRING, false);
    return t;
}

static void customer_row(struct value *row, int64_t id, const char *first, const char *last,
                         const char *email)
{
    row[0] = V_INT(id);
    row[1] = V_STR(first);
    row[2] = V_STR(last);
    row[3] = V_STR(email);
}

static struct event mysql_event(enum event_op op, const struct schema_table *t)
{
    struct event ev;
    memset(&ev, 0, sizeof ev);
    ev.op = op;
    ev.table = t;
    ev.source.connector = EVENT_MYSQL;
    ev.source.snapshot = SNAPSHOT_FALSE;
    ev.source.txid = -1;
    ev.source.thread = -1;
    ev.source.file = "mysql-bin.000003";
    return ev;
}

/* ---- collecting records --------------------------------------------------------------- */

/* Each record as one JSON line: {"topic":..,"key":<key text>,"value":<value text>,"headers":..}
 * with the texts embedded as they are; a null key or a tombstone value leaves its member out
 * ("tombstone":true marks the latter), so that the text "null" and a Kafka null differ. */
struct collected {
    struct buf lines;
    int count;
};

static int collect(void *ctx, const struct render_record *rec, struct error *err)
{
    struct collected *c = ctx;
    (void)err;
    buf_puts(&c->lines, "{\"topic\":");
    buf_json_str(&c->lines, rec->topic, strlen(rec->topic));
    if (rec->key) {
        buf_puts(&c->lines, ",\"key\":");
        buf_append(&c->lines, rec->key, rec->key_len);
    }
    if (rec->value) {
        buf_puts(&c->lines, ",\"value\":");
        buf_append(&c->lines, rec->value, rec->value_len);
    } else {
        buf_puts(&c->lines, ",\"tombstone\":true");
    }
    if (rec->nheaders) {
        buf_puts(&c->lines, ",\"headers\":[");
        for (size_t i = 0; i < rec->nheaders; i++) {
            buf_puts(&c->lines, i ? ",[" : "[");
            buf_json_str(&c->lines, rec->header_names[i], strlen(rec->header_names[i]));
            buf_putc(&c->lines, ',');
            if (rec->header_values[i])
                buf_json_str(&c->lines, rec->header_values[i], strlen(rec->header_values[i]));
            else
                buf_puts(&c->lines, "null");
            buf_putc(&c->lines, ']');
        }
        buf_putc(&c->lines, ']');
    }
    buf_puts(&c->lines, "}\n");
    c->count++;
    return 0;
}

/* Renders ev and returns the record lines (caller frees); NULL when rendering failed. */
static char *render_lines(struct render *r, const struct event *ev, int *count)
{
    struct collected c = {.count = 0};
    struct error err;
    buf_init(&c.lines);
    error_clear(&err);
    if (render_event(r, ev, collect, &c, &err) < 0) {
        unit_fail(__FILE__, __LINE__, "render_event: %s", err.msg);
        buf_free(&c.lines);
        return NULL;
    }
    if (count)
        *count = c.count;
    return buf_take(&c.lines);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    struct buf b;
    char chunk[4096];
    size_t n;
    buf_init(&b);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    return buf_take(&b);
}

/* Every line must be valid JSON (parsed with jansson) and the whole text must equal the golden
 * file byte for byte, since consumers may depend on member order. */
static void check_golden(const char *name, const char *got)
{
    char path[256];
    snprintf(path, sizeof path, GOLDEN_DIR "%s", name);
    char *want = read_file(path);
    if (want == NULL) {
        unit_fail(__FILE__, __LINE__, "cannot read %s", path);
        return;
    }
    const char *line = got;
    while (line && *line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        json_error_t jerr;
        json_t *j = json_loadb(line, len, 0, &jerr);
        if (j == NULL)
            unit_fail(__FILE__, __LINE__, "%s: rendered line is not JSON: %s", name, jerr.text);
        json_decref(j);
        line = nl ? nl + 1 : NULL;
    }
    if (strcmp(got, want) != 0) {
        size_t i = 0;
        while (got[i] && got[i] == want[i])
            i++;
        size_t from = i > 60 ? i - 60 : 0;
        unit_fail(__FILE__, __LINE__,
                  "%s differs at byte %zu\n      got:  ...%.160s\n      want: ...%.160s", name, i,
                  got + from, want + from);
    }
    free(want);
}

/* ---- golden cases --------------------------------------------------------------------- */

static void test_mysql_customers_create(void)
{
    /* the docs' examples show source.query, which needs include.query */
    static const char *const kv[] = {"include.query", "true", NULL};
    struct config *cfg = cfg_of(kv);
    struct render *r = render_of(cfg);
    struct schema_table *t = customers_table("inventory", NULL);
    struct value after[4];
    customer_row(after, 1004, "Anne", "Kretchmar", "annek@noanswer.org");
    struct event ev = mysql_event(EVENT_CREATE, t);
    ev.after = after;
    ev.source.ts_us = 0;
    ev.source.server_id = 0;
    ev.source.pos = 154;
    ev.source.row = 0;
    ev.source.thread = 7;
    ev.source.query = "INSERT INTO customers (first_name, last_name, email) VALUES ('Anne', "
                      "'Kretchmar', 'annek@noanswer.org')";
    pinned_ns = 1465491411815000000;
    if (r) {
        char *got = render_lines(r, &ev, NULL);
        if (got)
            check_golden("mysql_customers_create.json", got);
        free(got);
    }
    render_free(r);
    schema_table_free(t);
    config_free(cfg);
}

static void test_mysql_customers_update(void)
{
    /* the docs' examples show source.query, which needs include.query */
    static const char *const kv[] = {"include.query", "true", NULL};
    struct config *cfg = cfg_of(kv);
    struct render *r = render_of(cfg);
    struct schema_table *t = customers_table("inventory", NULL);
    struct value before[4], after[4];
    customer_row(before, 1004, "Anne", "Kretchmar", "annek@noanswer.org");
    customer_row(after, 1004, "Anne Marie", "Kretchmar", "annek@noanswer.org");
    struct event ev = mysql_event(EVENT_UPDATE, t);
    ev.before = before;
    ev.after = after;
    ev.source.ts_us = 1465581029000000;
    ev.source.server_id = 223344;
    ev.source.pos = 484;
    ev.source.thread = 7;
    ev.source.query = "UPDATE customers SET first_name='Anne Marie' WHERE id=1004";
    pinned_ns = 1465581029523000000;
    if (r) {
        char *got = render_lines(r, &ev, NULL);
        if (got)
            check_golden("mysql_customers_update.json", got);
        free(got);
    }
    render_free(r);
    schema_table_free(t);
    config_free(cfg);
}

static void test_mysql_customers_delete(void)
{
    /* the docs' examples show source.query, which needs include.query */
    static const char *const kv[] = {"include.query", "true", NULL};
    struct config *cfg = cfg_of(kv);
    struct render *r = render_of(cfg);
    struct schema_table *t = customers_table("inventory", NULL);
    struct value before[4];
    customer_row(before, 1004, "Anne Marie", "Kretchmar", "annek@noanswer.org");
    struct event ev = mysql_event(EVENT_DELETE, t);
    ev.before = before;
    ev.source.ts_us = 1465581902000000;
    ev.source.server_id = 223344;
    ev.source.pos = 805;
    ev.source.thread = 7;
    ev.source.query = "DELETE FROM customers WHERE id=1004";
    pinned_ns = 1465581902461000000;
    if (r) {
        int n = 0;
        char *got = render_lines(r, &ev, &n);
        CHECK_INT(n, 2); /* the delete and its tombstone */
        if (got)
            check_golden("mysql_customers_delete.json", got);
        free(got);
    }
    render_free(r);
    schema_table_free(t);
    config_free(cfg);
}

/* A real Debezium 3.2.4 record (see README): BIGINT key, DECIMAL(10,2), TIMESTAMP. */
static void test_mysql_orders_real(void)
{
    static const char *const kv[] = {"topic.prefix", "mysql-cdc", NULL};
    struct config *cfg = cfg_of(kv);
    struct render *r = render_of(cfg);
    struct schema_table *t = schema_table_new("ordersdb", NULL, "orders");
    struct schema_column *c = add_col(t, "id", "bigint", VALUE_INT, false);
    c->int_bits = 64;
    c->key = true;
    add_col(t, "customer_name", "varchar", VALUE_STRING, true);
    c = add_col(t, "amount", "decimal", VALUE_DECIMAL, true);
    c->precision = 10;
    c->scale = 2;
    c = add_col(t, "created_at", "timestamp", VALUE_TIMESTAMP, true);
    c->scale = 0;
    struct value after[4] = {V_INT(9), V_STR("LEE22"), V_KIND(VALUE_DECIMAL, "120.00"),
                             V_TIME(VALUE_TIMESTAMP, 1760885180000000)};
    struct event ev = mysql_event(EVENT_CREATE, t);
    ev.after = after;
    ev.source.ts_us = 1760885180000000;
    ev.source.server_id = 1;
    ev.source.file = "binlog.000040";
    ev.source.pos = 203732050;
    ev.source.thread = 410;
    pinned_ns = 1760885180748329000;
    if (r) {
        char *got = render_lines(r, &ev, NULL);
        if (got)
            check_golden("mysql_orders_create_real.json", got);
        free(got);
    }
    render_free(r);
    schema_table_free(t);
    config_free(cfg);
}

/* A real Debezium 3.1.3 PostgreSQL update (see README). */
static void test_pg_customers_update_real(void)
{
    static const char *const kv[] = {"topic.prefix", "dbserver1", NULL};
    struct config *cfg = cfg_of(kv);
    struct render *r = render_of(cfg);
    struct schema_table *t = customers_table("postgres", "inventory");
    struct value before[4], after[4];
    customer_row(before, 1006, "Liam", "Han", "liam2@example.com");
    customer_row(after, 1006, "Liam", "Han", "liam3@example.com");
    struct event ev;
    memset(&ev, 0, sizeof ev);
    ev.op = EVENT_UPDATE;
    ev.table = t;
    ev.before = before;
    ev.after = after;
    ev.source.connector = EVENT_POSTGRESQL;
    ev.source.ts_us = 1766925059528750;
    ev.source.txid = 779;
    ev.source.lsn = 34389336;
    ev.source.last_commit_lsn = 34389280;
    ev.source.thread = -1;
    pinned_ns = 1766925059873428925;
    if (r) {
        char *got = render_lines(r, &ev, NULL);
        if (got)
            check_golden("pg_customers_update_real.json", got);
        free(got);
    }
    render_free(r);
    schema_table_free(t);
    config_free(cfg);
}

/* The flattened record users of Doris Routine Load quote (schemas off, add.fields=op,table,
 * delete.handling.mode=rewrite), for a snapshot row. */
static void test_unwrap_issue_example(void)
{
    static const char *const kv[] = {"topic.prefix",
                                     "mysql-cdc",
                                     "value.converter.schemas.enable",
                                     "false",
                                     "key.converter.schemas.enable",
                                     "false",
                                     "transforms",
                                     "unwrap",
                                     "transforms.unwrap.type",
                                     "io.debezium.transforms.ExtractNewRecordState",
                                     "transforms.unwrap.add.fields",
                                     "op,table",
                                     "transforms.unwrap.delete.handling.mode",
                                     "rewrite",
                                     NULL};
    struct config *cfg = cfg_of(kv);
    struct render *r = render_of(cfg);
    struct schema_table *t = schema_table_new("ecommerce_db", NULL, "users");
    struct schema_column *c = add_col(t, "user_id", "int", VALUE_INT, false);
    c->int_bits = 32;
    c->key = true;
    add_col(t, "username", "varchar", VALUE_STRING, false);
    add_col(t, "city", "varchar", VALUE_STRING, true);
    struct value after[3] = {V_INT(1), V_STR("budi_dev"), V_STR("Jakarta")};
    struct event ev = mysql_event(EVENT_READ, t);
    ev.after = after;
    ev.source.snapshot = SNAPSHOT_TRUE;
    pinned_ns = 1700000000000000000;
    if (r) {
        char *got = render_lines(r, &ev, NULL);
        CHECK_STR(got, "{\"topic\":\"mysql-cdc.ecommerce_db.users\",\"key\":{\"user_id\":1},"
                       "\"value\":{\"user_id\":1,\"username\":\"budi_dev\",\"city\":\"Jakarta\","
                       "\"__op\":\"r\",\"__table\":\"users\",\"__deleted\":\"false\"}}\n");
        free(got);
    }
    render_free(r);
    schema_table_free(t);
    config_free(cfg);
}

/* ---- encodings ------------------------------------------------------------------------ */

/* The balanced JSON text that follows `"member":` in json (first occurrence). */
static char *member_text(const char *json, const char *member)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\":", member);
    const char *p = json ? strstr(json, pat) : NULL;
    if (p == NULL)
        return NULL;
    p += strlen(pat);
    const char *q = p;
    int depth = 0;
    bool in_str = false;
    for (; *q; q++) {
        if (in_str) {
            if (*q == '\\')
                q++;
            else if (*q == '"')
                in_str = false;
            continue;
        }
        if (*q == '"')
            in_str = true;
        else if (*q == '{' || *q == '[')
            depth++;
        else if (*q == '}' || *q == ']') {
            if (depth == 0)
                break;
            depth--;
        } else if (*q == ',' && depth == 0)
            break;
    }
    return mem_strndup(p, (size_t)(q - p));
}

struct one {
    struct config *cfg;
    struct render *r;
    char *text; /* every record, as collect() writes them */
    int count;
};

/* Renders one event with the options kv (topic.prefix "p"); schemas on or off. */
static void one_render(struct one *o, const char *const *kv, bool schemas, const struct event *ev)
{
    memset(o, 0, sizeof *o);
    o->cfg = cfg_of(kv);
    config_set(o->cfg, "topic.prefix", "p");
    if (!schemas) {
        config_set(o->cfg, "key.converter.schemas.enable", "false");
        config_set(o->cfg, "value.converter.schemas.enable", "false");
    }
    o->r = render_of(o->cfg);
    if (o->r)
        o->text = render_lines(o->r, ev, &o->count);
}

static void one_free(struct one *o)
{
    free(o->text);
    render_free(o->r);
    config_free(o->cfg);
}

static struct event insert_of(enum event_connector conn, const struct schema_table *t,
                              const struct value *row)
{
    struct event ev = mysql_event(EVENT_CREATE, t);
    ev.source.connector = conn;
    ev.after = row;
    ev.source.ts_us = 1529501823000000;
    return ev;
}

/* The "after" text of an insert of row into t. */
static char *after_of(const char *const *kv, enum event_connector conn,
                      const struct schema_table *t, const struct value *row)
{
    struct one o;
    struct event ev = insert_of(conn, t, row);
    one_render(&o, kv, false, &ev);
    char *after = member_text(o.text, "after");
    one_free(&o);
    return after;
}

/* The Connect schema JSON of column `col` of t (in "after"), as JsonConverter writes it. */
static char *schema_of(const char *const *kv, enum event_connector conn,
                       const struct schema_table *t, size_t col)
{
    struct one o;
    struct value row[8];
    for (size_t i = 0; i < t->ncols && i < 8; i++)
        row[i] = V_NULL;
    struct event ev = insert_of(conn, t, row);
    char *out = NULL;
    one_render(&o, kv, true, &ev);
    char *value = member_text(o.text, "value");
    json_t *j = value ? json_loads(value, 0, NULL) : NULL;
    json_t *f = json_array_get(
        json_object_get(json_array_get(json_object_get(json_object_get(j, "schema"), "fields"), 1),
                        "fields"),
        col);
    if (f)
        out = json_dumps(f, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    free(value);
    one_free(&o);
    return out;
}

static struct schema_table *one_col(const char *type, enum value_kind kind)
{
    struct schema_table *t = schema_table_new("db", NULL, "t");
    schema_table_add_column(t, "c", type, kind);
    return t;
}

#define CHECK_AFTER(kv, conn, t, v, want)                                                          \
    do {                                                                                           \
        struct value row_[1] = {v};                                                                \
        char *text_ = after_of(kv, conn, t, row_);                                                 \
        CHECK_STR(text_, want);                                                                    \
        free(text_);                                                                               \
    } while (0)

#define CHECK_SCHEMA(kv, conn, t, want)                                                            \
    do {                                                                                           \
        char *text_ = schema_of(kv, conn, t, 0);                                                   \
        CHECK_STR(text_, want);                                                                    \
        free(text_);                                                                               \
    } while (0)

static struct value v_f64(double d)
{
    return (struct value){.kind = VALUE_FLOAT64, .v.f = d};
}

static void test_java_doubles(void)
{
    struct schema_table *t = one_col("double", VALUE_FLOAT64);
    CHECK_AFTER(NULL, EVENT_MYSQL, t, v_f64(1.0), "{\"c\":1.0}");
    CHECK_AFTER(NULL, EVENT_MYSQL, t, v_f64(1.0e7), "{\"c\":1.0E7}");
    CHECK_AFTER(NULL, EVENT_MYSQL, t, v_f64(1.0e-4), "{\"c\":1.0E-4}");
    CHECK_AFTER(NULL, EVENT_MYSQL, t, v_f64(0.001), "{\"c\":0.001}");
    CHECK_AFTER(NULL, EVENT_MYSQL, t, v_f64(123456.789), "{\"c\":123456.789}");
    CHECK_AFTER(NULL, EVENT_MYSQL, t, v_f64(NAN), "{\"c\":\"NaN\"}");
    CHECK_AFTER(NULL, EVENT_MYSQL, t, v_f64(-INFINITY), "{\"c\":\"-Infinity\"}");
    CHECK_SCHEMA(NULL, EVENT_MYSQL, t, "{\"type\":\"double\",\"optional\":true,\"field\":\"c\"}");
    schema_table_free(t);
    t = one_col("real", VALUE_FLOAT32);
    CHECK_AFTER(NULL, EVENT_MYSQL, t, ((struct value){.kind = VALUE_FLOAT32, .v.f = 0.1f}),
                "{\"c\":0.1}");
    CHECK_SCHEMA(NULL, EVENT_MYSQL, t, "{\"type\":\"float\",\"optional\":true,\"field\":\"c\"}");
    schema_table_free(t);
}

static void test_integers(void)
{
    static const int bits[] = {8, 16, 32, 64};
    static const char *const names[] = {"int8", "int16", "int32", "int64"};
    for (int i = 0; i < 4; i++) {
        struct schema_table *t = one_col("int", VALUE_INT);
        t->cols[0].int_bits = (uint8_t)bits[i];
        char want[128];
        snprintf(want, sizeof want, "{\"type\":\"%s\",\"optional\":true,\"field\":\"c\"}",
                 names[i]);
        CHECK_SCHEMA(NULL, EVENT_MYSQL, t, want);
        CHECK_AFTER(NULL, EVENT_MYSQL, t, V_INT(-42), "{\"c\":-42}");
        schema_table_free(t);
    }
    struct schema_table *t = one_col("year", VALUE_INT);
    t->cols[0].int_bits = 32;
    CHECK_SCHEMA(NULL, EVENT_MYSQL, t,
                 "{\"type\":\"int32\",\"optional\":true,\"name\":\"io.debezium.time.Year\","
                 "\"version\":1,\"field\":\"c\"}");
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_INT(2024), "{\"c\":2024}");
    schema_table_free(t);
}

static void test_bigint_unsigned(void)
{
    static const char *const precise[] = {"bigint.unsigned.handling.mode", "precise", NULL};
    struct schema_table *t = one_col("bigint unsigned", VALUE_UINT);
    t->cols[0].int_bits = 64;
    t->cols[0].is_unsigned = true;
    struct value max = {.kind = VALUE_UINT, .v.u = UINT64_MAX};
    /* long mode: Java's long wraps */
    CHECK_AFTER(NULL, EVENT_MYSQL, t, max, "{\"c\":-1}");
    CHECK_SCHEMA(NULL, EVENT_MYSQL, t, "{\"type\":\"int64\",\"optional\":true,\"field\":\"c\"}");
    CHECK_AFTER(precise, EVENT_MYSQL, t, max, "{\"c\":\"AP//////////\"}");
    CHECK_SCHEMA(precise, EVENT_MYSQL, t,
                 "{\"type\":\"bytes\",\"optional\":true,"
                 "\"name\":\"org.apache.kafka.connect.data.Decimal\",\"version\":1,"
                 "\"parameters\":{\"scale\":\"0\"},\"field\":\"c\"}");
    schema_table_free(t);
}

#define ZEROS5   "00000"
#define ZEROS(n) ZEROS_##n
#define ZEROS_25 ZEROS5 ZEROS5 ZEROS5 ZEROS5 ZEROS5
#define ZEROS_195                                                                                  \
    ZEROS_25 ZEROS_25 ZEROS_25 ZEROS_25 ZEROS_25 ZEROS_25 ZEROS_25 ZEROS5 ZEROS5 ZEROS5 ZEROS5
#define ZEROS_295 ZEROS_195 ZEROS_25 ZEROS_25 ZEROS_25 ZEROS_25

static void test_decimals(void)
{
    static const char *const str[] = {"decimal.handling.mode", "string", NULL};
    static const char *const dbl[] = {"decimal.handling.mode", "double", NULL};
    struct schema_table *t = one_col("decimal", VALUE_DECIMAL);
    t->cols[0].precision = 10;
    t->cols[0].scale = 3;
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_KIND(VALUE_DECIMAL, "-12.340"), "{\"c\":\"z8w=\"}");
    /* fewer digits than the scale: rescaled like BigDecimal.setScale */
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_KIND(VALUE_DECIMAL, "-12.34"), "{\"c\":\"z8w=\"}");
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_KIND(VALUE_DECIMAL, "0.000"), "{\"c\":\"AA==\"}");
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_KIND(VALUE_DECIMAL, "0.128"), "{\"c\":\"AIA=\"}");
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_KIND(VALUE_DECIMAL, "NaN"), "{\"c\":null}");
    CHECK_SCHEMA(NULL, EVENT_MYSQL, t,
                 "{\"type\":\"bytes\",\"optional\":true,"
                 "\"name\":\"org.apache.kafka.connect.data.Decimal\",\"version\":1,"
                 "\"parameters\":{\"scale\":\"3\",\"connect.decimal.precision\":\"10\"},"
                 "\"field\":\"c\"}");
    CHECK_AFTER(str, EVENT_MYSQL, t, V_KIND(VALUE_DECIMAL, "-12.340"), "{\"c\":\"-12.340\"}");
    CHECK_SCHEMA(str, EVENT_MYSQL, t, "{\"type\":\"string\",\"optional\":true,\"field\":\"c\"}");
    CHECK_AFTER(dbl, EVENT_MYSQL, t, V_KIND(VALUE_DECIMAL, "-12.340"), "{\"c\":-12.34}");
    CHECK_SCHEMA(dbl, EVENT_MYSQL, t, "{\"type\":\"double\",\"optional\":true,\"field\":\"c\"}");
    schema_table_free(t);

    /* two's complement at byte edges, and either side of 18 digits (what fits an int64) */
    t = one_col("decimal", VALUE_DECIMAL);
    t->cols[0].precision = 20;
    t->cols[0].scale = 0;
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_KIND(VALUE_DECIMAL, "-128"), "{\"c\":\"gA==\"}");
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_KIND(VALUE_DECIMAL, "128"), "{\"c\":\"AIA=\"}");
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_KIND(VALUE_DECIMAL, "-129"), "{\"c\":\"/38=\"}");
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_KIND(VALUE_DECIMAL, "-1"), "{\"c\":\"/w==\"}");
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_KIND(VALUE_DECIMAL, "-0"), "{\"c\":\"AA==\"}");
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_KIND(VALUE_DECIMAL, "999999999999999999"),
                "{\"c\":\"DeC2s6dj//8=\"}");
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_KIND(VALUE_DECIMAL, "-999999999999999999"),
                "{\"c\":\"8h9JTFicAAE=\"}");
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_KIND(VALUE_DECIMAL, "9999999999999999999"),
                "{\"c\":\"AIrHIwSJ5///\"}");
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_KIND(VALUE_DECIMAL, "-9223372036854775808"),
                "{\"c\":\"gAAAAAAAAAA=\"}");
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_KIND(VALUE_DECIMAL, "1.2.3"), "{\"c\":null}");
    t->cols[0].scale = 17; /* 1.5 is 18 digits at scale 17, 19 at scale 18 */
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_KIND(VALUE_DECIMAL, "1.5"), "{\"c\":\"AhToNIxPAAA=\"}");
    t->cols[0].scale = 18;
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_KIND(VALUE_DECIMAL, "1.5"), "{\"c\":\"FNESDXsWAAA=\"}");
    schema_table_free(t);

    /* 39 digits: more than any machine integer */
    t = one_col("numeric", VALUE_DECIMAL);
    t->cols[0].precision = 39;
    t->cols[0].scale = 0;
    CHECK_AFTER(NULL, EVENT_POSTGRESQL, t,
                V_KIND(VALUE_DECIMAL, "123456789012345678901234567890123456789"),
                "{\"c\":\"XODppWAV/sWq36MorjmBFQ==\"}");
    CHECK_AFTER(NULL, EVENT_POSTGRESQL, t,
                V_KIND(VALUE_DECIMAL, "-123456789012345678901234567890123456789"),
                "{\"c\":\"ox8WWp/qATpVIFzXUcZ+6w==\"}");
    schema_table_free(t);

    /* PostgreSQL numeric holds up to 131072 digits before the point: no fixed buffer */
    t = one_col("numeric", VALUE_DECIMAL);
    t->cols[0].precision = 200;
    t->cols[0].scale = 0;
    CHECK_AFTER(NULL, EVENT_POSTGRESQL, t, V_KIND(VALUE_DECIMAL, "1" ZEROS(195) "0007"),
                "{\"c\":\"IXHBWVidXRW9octVmeETkkAgMXXFOgPrPbE1L+oOwcyV9wE9oVO6NA/"
                "aYw3FOQrHuYJB83QLuUXFFoAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAc=\"}");
    CHECK_AFTER(dbl, EVENT_POSTGRESQL, t, V_KIND(VALUE_DECIMAL, "1" ZEROS(195) "0007"),
                "{\"c\":1.0E199}");
    schema_table_free(t);
    t = one_col("numeric", VALUE_DECIMAL);
    CHECK_AFTER(
        NULL, EVENT_POSTGRESQL, t, V_KIND(VALUE_DECIMAL, "-1" ZEROS(295) "00.03"),
        "{\"c\":{\"scale\":2,\"value\":\"/ZxgWMzBCgkJ/xyrjR2iHY74kqZLzX0v0qfQaMURUK20XuzyLRB4uX/"
        "xCdayDrjEITtr4HWhu+ccwmrr6yuf2mc6yMCOkzg8dNYHrftU7flP3RKyRIEdF////////////////////////////"
        "/////////////////////0=\"}}");
    schema_table_free(t);

    /* PostgreSQL numeric without a declared scale */
    t = one_col("numeric", VALUE_DECIMAL);
    CHECK_AFTER(NULL, EVENT_POSTGRESQL, t, V_KIND(VALUE_DECIMAL, "1.50"),
                "{\"c\":{\"scale\":2,\"value\":\"AJY=\"}}");
    CHECK_AFTER(NULL, EVENT_POSTGRESQL, t, V_KIND(VALUE_DECIMAL, "NaN"), "{\"c\":null}");
    CHECK_SCHEMA(NULL, EVENT_POSTGRESQL, t,
                 "{\"type\":\"struct\",\"fields\":["
                 "{\"type\":\"int32\",\"optional\":false,\"field\":\"scale\"},"
                 "{\"type\":\"bytes\",\"optional\":false,\"field\":\"value\"}],"
                 "\"optional\":true,\"name\":\"io.debezium.data.VariableScaleDecimal\","
                 "\"version\":1,\"doc\":\"Variable scaled decimal\",\"field\":\"c\"}");
    CHECK_AFTER(str, EVENT_POSTGRESQL, t, V_KIND(VALUE_DECIMAL, "NaN"), "{\"c\":\"NaN\"}");
    CHECK_AFTER(dbl, EVENT_POSTGRESQL, t, V_KIND(VALUE_DECIMAL, "NaN"), "{\"c\":\"NaN\"}");
    schema_table_free(t);
}

static void test_temporal_adaptive(void)
{
    static const char *const adaptive[] = {"time.precision.mode", "adaptive", NULL};
    struct schema_table *t = one_col("date", VALUE_DATE);
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_TIME(VALUE_DATE, 18000), "{\"c\":18000}");
    CHECK_SCHEMA(NULL, EVENT_MYSQL, t,
                 "{\"type\":\"int32\",\"optional\":true,\"name\":\"io.debezium.time.Date\","
                 "\"version\":1,\"field\":\"c\"}");
    schema_table_free(t);

    /* MySQL's default adaptive_time_microseconds: TIME is always MicroTime */
    t = one_col("time", VALUE_TIME);
    t->cols[0].scale = 0;
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_TIME(VALUE_TIME, 3723000123), "{\"c\":3723000123}");
    CHECK_SCHEMA(NULL, EVENT_MYSQL, t,
                 "{\"type\":\"int64\",\"optional\":true,\"name\":\"io.debezium.time.MicroTime\","
                 "\"version\":1,\"field\":\"c\"}");
    /* adaptive: fsp <= 3 is Time in milliseconds */
    CHECK_AFTER(adaptive, EVENT_MYSQL, t, V_TIME(VALUE_TIME, 3723000123), "{\"c\":3723000}");
    CHECK_SCHEMA(adaptive, EVENT_MYSQL, t,
                 "{\"type\":\"int32\",\"optional\":true,\"name\":\"io.debezium.time.Time\","
                 "\"version\":1,\"field\":\"c\"}");
    /* PostgreSQL defaults to adaptive; time without precision has 6 digits */
    t->cols[0].scale = -1;
    CHECK_SCHEMA(NULL, EVENT_POSTGRESQL, t,
                 "{\"type\":\"int64\",\"optional\":true,\"name\":\"io.debezium.time.MicroTime\","
                 "\"version\":1,\"field\":\"c\"}");
    t->cols[0].scale = 2;
    CHECK_SCHEMA(NULL, EVENT_POSTGRESQL, t,
                 "{\"type\":\"int32\",\"optional\":true,\"name\":\"io.debezium.time.Time\","
                 "\"version\":1,\"field\":\"c\"}");
    schema_table_free(t);

    t = one_col("datetime", VALUE_DATETIME);
    t->cols[0].scale = 3;
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_TIME(VALUE_DATETIME, 1529501823123450),
                "{\"c\":1529501823123}");
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_TIME(VALUE_DATETIME, -1500), "{\"c\":-2}");
    CHECK_SCHEMA(NULL, EVENT_MYSQL, t,
                 "{\"type\":\"int64\",\"optional\":true,\"name\":\"io.debezium.time.Timestamp\","
                 "\"version\":1,\"field\":\"c\"}");
    t->cols[0].scale = 6;
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_TIME(VALUE_DATETIME, 1529501823123450),
                "{\"c\":1529501823123450}");
    CHECK_SCHEMA(NULL, EVENT_MYSQL, t,
                 "{\"type\":\"int64\",\"optional\":true,"
                 "\"name\":\"io.debezium.time.MicroTimestamp\",\"version\":1,\"field\":\"c\"}");
    schema_table_free(t);
}

static void test_zoned(void)
{
    struct schema_table *t = one_col("timestamp", VALUE_TIMESTAMP);
    const char *zts = "{\"type\":\"string\",\"optional\":true,"
                      "\"name\":\"io.debezium.time.ZonedTimestamp\",\"version\":1,"
                      "\"field\":\"c\"}";
    t->cols[0].scale = 0;
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_TIME(VALUE_TIMESTAMP, 1529501823000000),
                "{\"c\":\"2018-06-20T13:37:03Z\"}");
    CHECK_SCHEMA(NULL, EVENT_MYSQL, t, zts);
    /* MySQL TIMESTAMP(6): exactly the column's digits */
    t->cols[0].scale = 6;
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_TIME(VALUE_TIMESTAMP, 1529501823123450),
                "{\"c\":\"2018-06-20T13:37:03.123450Z\"}");
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_TIME(VALUE_TIMESTAMP, 1529501823000000),
                "{\"c\":\"2018-06-20T13:37:03.000000Z\"}");
    /* PostgreSQL timestamptz: the declared precision too, 6 when none is declared */
    t->cols[0].scale = 3;
    CHECK_AFTER(NULL, EVENT_POSTGRESQL, t, V_TIME(VALUE_TIMESTAMP, 1529501823120000),
                "{\"c\":\"2018-06-20T13:37:03.120Z\"}");
    t->cols[0].scale = -1;
    CHECK_AFTER(NULL, EVENT_POSTGRESQL, t, V_TIME(VALUE_TIMESTAMP, 1529501823120000),
                "{\"c\":\"2018-06-20T13:37:03.120000Z\"}");
    CHECK_AFTER(NULL, EVENT_POSTGRESQL, t, V_TIME(VALUE_TIMESTAMP, -1),
                "{\"c\":\"1969-12-31T23:59:59.999999Z\"}");
    /* a width of 0 prints only the digits needed (ISO_OFFSET_DATE_TIME) */
    t->cols[0].scale = 0;
    CHECK_AFTER(NULL, EVENT_POSTGRESQL, t, V_TIME(VALUE_TIMESTAMP, 1529501823120000),
                "{\"c\":\"2018-06-20T13:37:03.12Z\"}");
    schema_table_free(t);

    t = one_col("timetz", VALUE_ZONED_TIME);
    CHECK_AFTER(NULL, EVENT_POSTGRESQL, t, V_KIND(VALUE_ZONED_TIME, "10:15:30.123456+02:00"),
                "{\"c\":\"08:15:30.123456Z\"}");
    CHECK_AFTER(NULL, EVENT_POSTGRESQL, t, V_KIND(VALUE_ZONED_TIME, "01:00:00-03"),
                "{\"c\":\"04:00:00Z\"}");
    CHECK_SCHEMA(NULL, EVENT_POSTGRESQL, t,
                 "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.time.ZonedTime\","
                 "\"version\":1,\"field\":\"c\"}");
    schema_table_free(t);
}

static void test_temporal_connect_iso(void)
{
    static const char *const connect[] = {"time.precision.mode", "connect", NULL};
    static const char *const iso[] = {"time.precision.mode", "isostring", NULL};
    struct schema_table *t = one_col("date", VALUE_DATE);
    CHECK_AFTER(connect, EVENT_MYSQL, t, V_TIME(VALUE_DATE, 18000), "{\"c\":18000}");
    CHECK_SCHEMA(connect, EVENT_MYSQL, t,
                 "{\"type\":\"int32\",\"optional\":true,"
                 "\"name\":\"org.apache.kafka.connect.data.Date\",\"version\":1,\"field\":\"c\"}");
    CHECK_AFTER(iso, EVENT_MYSQL, t, V_TIME(VALUE_DATE, 18000), "{\"c\":\"2019-04-14Z\"}");
    /* ISO years past 9999 carry a sign, before year 0 too */
    CHECK_AFTER(iso, EVENT_MYSQL, t, V_TIME(VALUE_DATE, 2932897), "{\"c\":\"+10000-01-01Z\"}");
    CHECK_AFTER(iso, EVENT_MYSQL, t, V_TIME(VALUE_DATE, -719528), "{\"c\":\"0000-01-01Z\"}");
    CHECK_AFTER(iso, EVENT_MYSQL, t, V_TIME(VALUE_DATE, -719529), "{\"c\":\"-0001-12-31Z\"}");
    schema_table_free(t);
    t = one_col("time", VALUE_TIME);
    t->cols[0].scale = 6;
    CHECK_AFTER(connect, EVENT_MYSQL, t, V_TIME(VALUE_TIME, 3723000123), "{\"c\":3723000}");
    CHECK_SCHEMA(connect, EVENT_MYSQL, t,
                 "{\"type\":\"int32\",\"optional\":true,"
                 "\"name\":\"org.apache.kafka.connect.data.Time\",\"version\":1,\"field\":\"c\"}");
    schema_table_free(t);
    t = one_col("datetime", VALUE_DATETIME);
    t->cols[0].scale = 6;
    CHECK_AFTER(connect, EVENT_MYSQL, t, V_TIME(VALUE_DATETIME, 1529501823123450),
                "{\"c\":1529501823123}");
    CHECK_SCHEMA(connect, EVENT_MYSQL, t,
                 "{\"type\":\"int64\",\"optional\":true,"
                 "\"name\":\"org.apache.kafka.connect.data.Timestamp\",\"version\":1,"
                 "\"field\":\"c\"}");
    CHECK_AFTER(iso, EVENT_MYSQL, t, V_TIME(VALUE_DATETIME, 1529501823123450),
                "{\"c\":\"2018-06-20T13:37:03.12345Z\"}");
    schema_table_free(t);
}

static void test_binary_modes(void)
{
    static const char *const b64[] = {"binary.handling.mode", "base64", NULL};
    static const char *const url[] = {"binary.handling.mode", "base64-url-safe", NULL};
    static const char *const hex[] = {"binary.handling.mode", "hex", NULL};
    struct schema_table *t = one_col("varbinary", VALUE_BYTES);
    struct value v = {.kind = VALUE_BYTES, .v.s = {.p = "\x01\x02\xff", .len = 3}};
    CHECK_AFTER(NULL, EVENT_MYSQL, t, v, "{\"c\":\"AQL/\"}");
    CHECK_SCHEMA(NULL, EVENT_MYSQL, t, "{\"type\":\"bytes\",\"optional\":true,\"field\":\"c\"}");
    CHECK_AFTER(b64, EVENT_MYSQL, t, v, "{\"c\":\"AQL/\"}");
    CHECK_SCHEMA(b64, EVENT_MYSQL, t, "{\"type\":\"string\",\"optional\":true,\"field\":\"c\"}");
    CHECK_AFTER(url, EVENT_MYSQL, t, v, "{\"c\":\"AQL_\"}");
    CHECK_AFTER(hex, EVENT_MYSQL, t, v, "{\"c\":\"0102ff\"}");
    schema_table_free(t);
}

static void test_intervals(void)
{
    static const char *const str[] = {"interval.handling.mode", "string", NULL};
    struct schema_table *t = one_col("interval", VALUE_INTERVAL);
    struct value v = {.kind = VALUE_INTERVAL};
    v.v.interval.months = 14;
    v.v.interval.days = 3;
    v.v.interval.micros = ((4 * 60 + 5) * 60 + 6) * 1000000LL + 780000;
    CHECK_AFTER(NULL, EVENT_POSTGRESQL, t, v, "{\"c\":37091106780000}");
    CHECK_SCHEMA(NULL, EVENT_POSTGRESQL, t,
                 "{\"type\":\"int64\",\"optional\":true,"
                 "\"name\":\"io.debezium.time.MicroDuration\",\"version\":1,\"field\":\"c\"}");
    CHECK_AFTER(str, EVENT_POSTGRESQL, t, v, "{\"c\":\"P1Y2M3DT4H5M6.78S\"}");
    CHECK_SCHEMA(str, EVENT_POSTGRESQL, t,
                 "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.time.Interval\","
                 "\"version\":1,\"field\":\"c\"}");
    struct value zero = {.kind = VALUE_INTERVAL};
    CHECK_AFTER(str, EVENT_POSTGRESQL, t, zero, "{\"c\":\"P0Y0M0DT0H0M0S\"}");
    schema_table_free(t);
}

static void test_named_strings(void)
{
    struct schema_table *t = one_col("enum", VALUE_ENUM);
    t->cols[0].enum_values = mem_alloc(3 * sizeof(char *));
    t->cols[0].enum_values[0] = mem_strdup("a");
    t->cols[0].enum_values[1] = mem_strdup("b");
    t->cols[0].enum_values[2] = mem_strdup("c");
    t->cols[0].n_enum_values = 3;
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_KIND(VALUE_ENUM, "b"), "{\"c\":\"b\"}");
    CHECK_SCHEMA(NULL, EVENT_MYSQL, t,
                 "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\","
                 "\"version\":1,\"parameters\":{\"allowed\":\"a,b,c\"},\"field\":\"c\"}");
    t->cols[0].kind = VALUE_SET;
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_KIND(VALUE_SET, "a,c"), "{\"c\":\"a,c\"}");
    CHECK_SCHEMA(NULL, EVENT_MYSQL, t,
                 "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.EnumSet\","
                 "\"version\":1,\"parameters\":{\"allowed\":\"a,b,c\"},\"field\":\"c\"}");
    schema_table_free(t);

    t = one_col("json", VALUE_JSON);
    CHECK_AFTER(NULL, EVENT_MYSQL, t, V_KIND(VALUE_JSON, "{\"k\": [1, 2]}"),
                "{\"c\":\"{\\\"k\\\": [1, 2]}\"}");
    CHECK_SCHEMA(NULL, EVENT_MYSQL, t,
                 "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Json\","
                 "\"version\":1,\"field\":\"c\"}");
    schema_table_free(t);
    t = one_col("uuid", VALUE_TEXT);
    CHECK_SCHEMA(NULL, EVENT_POSTGRESQL, t,
                 "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Uuid\","
                 "\"version\":1,\"field\":\"c\"}");
    schema_table_free(t);
    t = one_col("xml", VALUE_TEXT);
    CHECK_SCHEMA(NULL, EVENT_POSTGRESQL, t,
                 "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Xml\","
                 "\"version\":1,\"field\":\"c\"}");
    CHECK_AFTER(NULL, EVENT_POSTGRESQL, t, V_KIND(VALUE_TEXT, "<a/>"), "{\"c\":\"<a/>\"}");
    schema_table_free(t);
}

static void test_bits_geometry_arrays(void)
{
    struct schema_table *t = one_col("bit", VALUE_BITS);
    t->cols[0].length = 1;
    struct value one = {.kind = VALUE_BITS, .v.s = {.p = "\x01", .len = 1, .i = 1}};
    CHECK_AFTER(NULL, EVENT_MYSQL, t, one, "{\"c\":true}");
    CHECK_SCHEMA(NULL, EVENT_MYSQL, t, "{\"type\":\"boolean\",\"optional\":true,\"field\":\"c\"}");
    t->cols[0].length = 10;
    struct value ten = {.kind = VALUE_BITS, .v.s = {.p = "\x01\x02", .len = 2, .i = 10}};
    CHECK_AFTER(NULL, EVENT_MYSQL, t, ten, "{\"c\":\"AQI=\"}");
    CHECK_SCHEMA(NULL, EVENT_MYSQL, t,
                 "{\"type\":\"bytes\",\"optional\":true,\"name\":\"io.debezium.data.Bits\","
                 "\"version\":1,\"parameters\":{\"length\":\"10\"},\"field\":\"c\"}");
    schema_table_free(t);

    t = one_col("geometry", VALUE_GEOMETRY);
    t->cols[0].optional = false;
    struct value g = {.kind = VALUE_GEOMETRY, .v.s = {.p = "\x01\x02\x03", .len = 3, .i = 4326}};
    CHECK_AFTER(NULL, EVENT_MYSQL, t, g, "{\"c\":{\"wkb\":\"AQID\",\"srid\":4326}}");
    CHECK_SCHEMA(NULL, EVENT_MYSQL, t,
                 "{\"type\":\"struct\",\"fields\":["
                 "{\"type\":\"bytes\",\"optional\":false,\"field\":\"wkb\"},"
                 "{\"type\":\"int32\",\"optional\":true,\"field\":\"srid\"}],"
                 "\"optional\":true,\"name\":\"io.debezium.data.geometry.Geometry\","
                 "\"version\":1,\"doc\":\"Geometry\",\"field\":\"c\"}");
    schema_table_free(t);

    t = one_col("_int4", VALUE_ARRAY);
    t->cols[0].elem_kind = VALUE_INT;
    t->cols[0].int_bits = 32;
    struct value elems[3] = {V_INT(1), V_INT(2), V_NULL};
    struct value arr = {.kind = VALUE_ARRAY, .v.array = {.elems = elems, .n = 3}};
    CHECK_AFTER(NULL, EVENT_POSTGRESQL, t, arr, "{\"c\":[1,2,null]}");
    CHECK_SCHEMA(NULL, EVENT_POSTGRESQL, t,
                 "{\"type\":\"array\",\"items\":{\"type\":\"int32\",\"optional\":true},"
                 "\"optional\":true,\"field\":\"c\"}");
    schema_table_free(t);
}

static void test_unchanged_and_absent(void)
{
    struct value unchanged = {.kind = VALUE_UNCHANGED};
    struct value absent = {.kind = VALUE_ABSENT};
    static const char *const ph[] = {"unavailable.value.placeholder", "__gone", NULL};
    struct schema_table *t = one_col("text", VALUE_STRING);
    CHECK_AFTER(NULL, EVENT_POSTGRESQL, t, unchanged, "{\"c\":\"__debezium_unavailable_value\"}");
    CHECK_AFTER(ph, EVENT_POSTGRESQL, t, unchanged, "{\"c\":\"__gone\"}");
    CHECK_AFTER(NULL, EVENT_MYSQL, t, absent, "{\"c\":null}");
    schema_table_free(t);
    t = one_col("bytea", VALUE_BYTES);
    CHECK_AFTER(NULL, EVENT_POSTGRESQL, t, unchanged,
                "{\"c\":\"X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ==\"}");
    schema_table_free(t);
    t = one_col("_text", VALUE_ARRAY);
    t->cols[0].elem_kind = VALUE_STRING;
    CHECK_AFTER(NULL, EVENT_POSTGRESQL, t, unchanged, "{\"c\":[\"__debezium_unavailable_value\"]}");
    schema_table_free(t);
    t = one_col("int4", VALUE_INT);
    t->cols[0].int_bits = 32;
    CHECK_AFTER(NULL, EVENT_POSTGRESQL, t, unchanged, "{\"c\":null}");
    schema_table_free(t);
}

/*
 * An update copies the text of each after value that is the before value from the before
 * image: both images must still be what an insert of each row renders, for values that are the
 * same, the same text of another kind, or nearly the same (one byte, the sign of a zero, a
 * BIT's length, a geometry's SRID).
 */
static void test_update_values_from_before(void)
{
    struct schema_table *t = schema_table_new("db", NULL, "t");
    add_col(t, "id", "int", VALUE_INT, false)->key = true;
    add_col(t, "s", "varchar", VALUE_STRING, true);
    add_col(t, "j", "json", VALUE_JSON, true);
    add_col(t, "d", "double", VALUE_FLOAT64, true);
    add_col(t, "z", "double", VALUE_FLOAT64, true);
    add_col(t, "m", "decimal", VALUE_DECIMAL, true)->scale = 2;
    add_col(t, "b", "bit", VALUE_BITS, true)->length = 12;
    add_col(t, "g", "geometry", VALUE_GEOMETRY, true);
    add_col(t, "k", "varchar", VALUE_STRING, true);
    add_col(t, "n", "varchar", VALUE_STRING, true);
    add_col(t, "e", "enum", VALUE_ENUM, true);
    struct value g1 = {.kind = VALUE_GEOMETRY, .v.s = {.p = "\x01\x02", .len = 2, .i = 4326}};
    struct value g2 = g1;
    g2.v.s.i = 3857;
    struct value b1 = {.kind = VALUE_BITS, .v.s = {.p = "\x01\x02", .len = 2, .i = 12}};
    struct value b2 = b1;
    b2.v.s.i = 11;
    struct value before[] = {V_INT(7),
                             V_STR("same text"),
                             V_KIND(VALUE_JSON, "{\"a\": [\"x\", 1]}"),
                             v_f64(0.1),
                             v_f64(0.0),
                             V_KIND(VALUE_DECIMAL, "12.30"),
                             b1,
                             g1,
                             V_STR("abc"),
                             V_NULL,
                             V_KIND(VALUE_ENUM, "a")};
    struct value after[] = {V_INT(7),
                            V_STR("same text"),
                            V_KIND(VALUE_JSON, "{\"a\": [\"x\", 2]}"),
                            v_f64(0.1),
                            v_f64(-0.0),
                            V_KIND(VALUE_DECIMAL, "12.30"),
                            b2,
                            g2,
                            V_STR("abd"),
                            V_KIND(VALUE_STRING, ""),
                            V_KIND(VALUE_STRING, "a")};
    for (int pass = 0; pass < 2; pass++) {
        /* the second pass: every value the same */
        const struct value *a = pass == 0 ? after : before;
        struct event ev = mysql_event(EVENT_UPDATE, t);
        ev.before = before;
        ev.after = a;
        struct one o;
        one_render(&o, NULL, false, &ev);
        char *got_before = member_text(o.text, "before");
        char *got_after = member_text(o.text, "after");
        char *want_before = after_of(NULL, EVENT_MYSQL, t, before);
        char *want_after = after_of(NULL, EVENT_MYSQL, t, a);
        CHECK_STR(got_before, want_before);
        CHECK_STR(got_after, want_after);
        free(got_before);
        free(got_after);
        free(want_before);
        free(want_after);
        one_free(&o);
    }
    schema_table_free(t);
}

/* ---- records and options -------------------------------------------------------------- */

static struct schema_table *two_col(bool key)
{
    struct schema_table *t = schema_table_new("db", NULL, "t");
    struct schema_column *c = add_col(t, "id", "int", VALUE_INT, false);
    c->int_bits = 32;
    c->key = key;
    add_col(t, "name", "varchar", VALUE_STRING, true);
    return t;
}

static void test_keys(void)
{
    struct schema_table *t = two_col(true);
    struct value row[2] = {V_INT(7), V_STR("x")};
    struct event ev = insert_of(EVENT_MYSQL, t, row);
    struct one o;
    one_render(&o, NULL, true, &ev);
    char *key = member_text(o.text, "key");
    CHECK_STR(key, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\","
                   "\"optional\":false,\"field\":\"id\"}],\"optional\":false,"
                   "\"name\":\"p.db.t.Key\"},\"payload\":{\"id\":7}}");
    free(key);
    one_free(&o);

    /* message.key.columns replaces the primary key (table matched as a regex) */
    static const char *const mkc[] = {"message.key.columns", "other.x:a;d.\\.t:name", NULL};
    one_render(&o, mkc, false, &ev);
    key = member_text(o.text, "key");
    CHECK_STR(key, "{\"name\":\"x\"}");
    free(key);
    one_free(&o);
    schema_table_free(t);

    /* no primary key: no key at all */
    t = two_col(false);
    ev = insert_of(EVENT_MYSQL, t, row);
    one_render(&o, NULL, false, &ev);
    CHECK(o.text && strstr(o.text, "\"key\":") == NULL);
    one_free(&o);
    schema_table_free(t);
}

static void test_tombstones_and_skips(void)
{
    struct schema_table *t = two_col(true);
    struct value row[2] = {V_INT(7), V_STR("x")};
    struct event del = insert_of(EVENT_MYSQL, t, row);
    del.op = EVENT_DELETE;
    del.after = NULL;
    del.before = row;
    struct one o;
    static const char *const notomb[] = {"tombstones.on.delete", "false", NULL};
    one_render(&o, notomb, false, &del);
    CHECK_INT(o.count, 1);
    one_free(&o);

    static const char *const skipd[] = {"skipped.operations", "c,d", NULL};
    one_render(&o, skipd, false, &del);
    CHECK_INT(o.count, 0);
    one_free(&o);

    /* truncate: skipped by default (skipped.operations=t) */
    struct event tr = insert_of(EVENT_POSTGRESQL, t, NULL);
    tr.op = EVENT_TRUNCATE;
    tr.after = NULL;
    one_render(&o, NULL, false, &tr);
    CHECK_INT(o.count, 0);
    one_free(&o);
    static const char *const none[] = {"skipped.operations", "none", NULL};
    one_render(&o, none, false, &tr);
    CHECK_INT(o.count, 1);
    CHECK(o.text && strstr(o.text, "\"key\":") == NULL);
    CHECK(o.text && strstr(o.text, "\"before\":null,\"after\":null,") != NULL);
    CHECK(o.text && strstr(o.text, "\"op\":\"t\"") != NULL);
    one_free(&o);

    static const char *const bad[] = {"skipped.operations", "c,x", NULL};
    struct config *cfg = cfg_of(bad);
    struct render *r = NULL;
    struct error err;
    error_clear(&err);
    CHECK(render_new(cfg, &r, &err) < 0);
    CHECK(strstr(err.msg, "skipped.operations") != NULL);
    config_free(cfg);
    schema_table_free(t);
}

static void test_query_needs_include_query(void)
{
    struct schema_table *t = two_col(true);
    struct value row[2] = {V_INT(7), V_STR("x")};
    struct event ev = insert_of(EVENT_MYSQL, t, row);
    ev.source.query = "INSERT INTO t VALUES (7, 'x')";
    struct one o;
    one_render(&o, NULL, false, &ev);
    CHECK(o.text && strstr(o.text, "\"query\":null") != NULL);
    one_free(&o);
    static const char *const kv[] = {"include.query", "true", NULL};
    one_render(&o, kv, false, &ev);
    CHECK(o.text && strstr(o.text, "\"query\":\"INSERT INTO t VALUES (7, 'x')\"") != NULL);
    one_free(&o);
    /* Without a sink's transaction state (tests/unit/test_txmeta.c) the block stays null. */
    static const char *const txm[] = {"provide.transaction.metadata", "true", NULL};
    one_render(&o, txm, false, &ev);
    CHECK(o.text && strstr(o.text, "\"transaction\":null") != NULL);
    one_free(&o);
    schema_table_free(t);
}

static void test_pg_source(void)
{
    struct schema_table *t = customers_table("postgres", "public");
    struct value row[4];
    customer_row(row, 1, "a", "b", "c");
    struct event ev = insert_of(EVENT_POSTGRESQL, t, row);
    ev.source.snapshot = SNAPSHOT_LAST;
    ev.source.lsn = 24023128;
    ev.source.last_commit_lsn = 0;
    ev.source.txid = -1;
    struct one o;
    one_render(&o, NULL, false, &ev);
    char *src = member_text(o.text, "source");
    CHECK_STR(src, "{\"version\":\"3.2.4.Final\",\"connector\":\"postgresql\",\"name\":\"p\","
                   "\"ts_ms\":1529501823000,\"snapshot\":\"last\",\"db\":\"postgres\","
                   "\"sequence\":\"[null,\\\"24023128\\\"]\",\"ts_us\":1529501823000000,"
                   "\"ts_ns\":1529501823000000000,\"schema\":\"public\",\"table\":\"customers\","
                   "\"txId\":null,\"lsn\":24023128,\"xmin\":null}");
    CHECK(o.text && strstr(o.text, "\"topic\":\"p.public.customers\"") != NULL);
    free(src);
    one_free(&o);
    schema_table_free(t);
}

static void test_heartbeat_and_ddl(void)
{
    struct event hb;
    memset(&hb, 0, sizeof hb);
    hb.op = EVENT_HEARTBEAT;
    hb.source.connector = EVENT_MYSQL;
    pinned_ns = 1700000000123000000;
    struct one o;
    one_render(&o, NULL, false, &hb);
    CHECK_STR(o.text, "{\"topic\":\"__debezium-heartbeat.p\",\"key\":{\"serverName\":\"p\"},"
                      "\"value\":{\"ts_ms\":1700000000123}}\n");
    one_free(&o);
    one_render(&o, NULL, true, &hb);
    CHECK_STR(o.text,
              "{\"topic\":\"__debezium-heartbeat.p\",\"key\":{\"schema\":{\"type\":\"struct\","
              "\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"serverName\"}],"
              "\"optional\":false,\"name\":\"io.debezium.connector.common.ServerNameKey\","
              "\"version\":1},\"payload\":{\"serverName\":\"p\"}},\"value\":{\"schema\":{"
              "\"type\":\"struct\",\"fields\":[{\"type\":\"int64\",\"optional\":false,"
              "\"field\":\"ts_ms\"}],\"optional\":false,"
              "\"name\":\"io.debezium.connector.common.Heartbeat\",\"version\":1},"
              "\"payload\":{\"ts_ms\":1700000000123}}}\n");
    one_free(&o);

    struct event ddl;
    memset(&ddl, 0, sizeof ddl);
    ddl.op = EVENT_DDL;
    ddl.source.connector = EVENT_MARIADB;
    ddl.source.ts_us = 1651535750000000;
    ddl.source.server_id = 223344;
    ddl.source.file = "mysql-bin.000003";
    ddl.source.pos = 570;
    ddl.source.thread = -1;
    ddl.ddl = "ALTER TABLE customers ADD middle_name varchar(255) AFTER first_name";
    ddl.ddl_db = "inventory";
    one_render(&o, NULL, false, &ddl);
    CHECK_STR(o.text,
              "{\"topic\":\"p\",\"key\":{\"databaseName\":\"inventory\"},\"value\":{\"source\":{"
              "\"version\":\"3.2.4.Final\",\"connector\":\"mariadb\",\"name\":\"p\","
              "\"ts_ms\":1651535750000,\"snapshot\":\"false\",\"db\":\"inventory\","
              "\"sequence\":null,\"ts_us\":1651535750000000,\"ts_ns\":1651535750000000000,"
              "\"table\":null,\"server_id\":223344,\"gtid\":null,\"file\":\"mysql-bin.000003\","
              "\"pos\":570,\"row\":0,\"thread\":null,\"query\":null},\"ts_ms\":1651535750000,"
              "\"databaseName\":\"inventory\",\"schemaName\":null,\"ddl\":\"ALTER TABLE "
              "customers ADD middle_name varchar(255) AFTER first_name\",\"tableChanges\":[]}}\n");
    one_free(&o);
    one_render(&o, NULL, true, &ddl);
    CHECK(o.text && strstr(o.text, "\"name\":\"io.debezium.connector.mariadb.SchemaChangeKey\""));
    CHECK(o.text && strstr(o.text, "\"name\":\"io.debezium.connector.mariadb.SchemaChangeValue\""));
    json_t *parsed = o.text ? json_loads(o.text, 0, NULL) : NULL;
    CHECK(parsed != NULL);
    json_decref(parsed);
    one_free(&o);
    static const char *const off[] = {"include.schema.changes", "false", NULL};
    one_render(&o, off, false, &ddl);
    CHECK_INT(o.count, 0);
    one_free(&o);
}

/* ---- ExtractNewRecordState ------------------------------------------------------------ */

#define UNWRAP                                                                                     \
    "transforms", "unwrap", "transforms.unwrap.type", "io.debezium.transforms.ExtractNewRecordState"

static char *unwrap_delete(const char *const *kv, int *count)
{
    struct schema_table *t = two_col(true);
    struct value row[2] = {V_INT(7), V_STR("x")};
    struct event del = insert_of(EVENT_MYSQL, t, NULL);
    del.op = EVENT_DELETE;
    del.before = row;
    struct one o;
    one_render(&o, kv, false, &del);
    char *text = o.text;
    *count = o.count;
    o.text = NULL;
    one_free(&o);
    schema_table_free(t);
    return text;
}

static void test_unwrap_delete_modes(void)
{
    int n;
    char *got;
    static const char *const dflt[] = {UNWRAP, NULL};
    got = unwrap_delete(dflt, &n);
    CHECK_STR(got, "{\"topic\":\"p.db.t\",\"key\":{\"id\":7},\"value\":null}\n");
    free(got);
    static const char *const drop[] = {UNWRAP, "transforms.unwrap.delete.tombstone.handling.mode",
                                       "drop", NULL};
    got = unwrap_delete(drop, &n);
    CHECK_INT(n, 0);
    free(got);
    static const char *const rewrite[] = {
        UNWRAP, "transforms.unwrap.delete.tombstone.handling.mode", "rewrite", NULL};
    got = unwrap_delete(rewrite, &n);
    CHECK_STR(got, "{\"topic\":\"p.db.t\",\"key\":{\"id\":7},"
                   "\"value\":{\"id\":7,\"name\":\"x\",\"__deleted\":\"true\"}}\n");
    free(got);
    static const char *const rwt[] = {UNWRAP, "transforms.unwrap.delete.tombstone.handling.mode",
                                      "rewrite-with-tombstone", NULL};
    got = unwrap_delete(rwt, &n);
    CHECK_STR(got, "{\"topic\":\"p.db.t\",\"key\":{\"id\":7},"
                   "\"value\":{\"id\":7,\"name\":\"x\",\"__deleted\":\"true\"}}\n"
                   "{\"topic\":\"p.db.t\",\"key\":{\"id\":7},\"tombstone\":true}\n");
    free(got);
    static const char *const d2t[] = {UNWRAP, "transforms.unwrap.delete.tombstone.handling.mode",
                                      "delete-to-tombstone", NULL};
    got = unwrap_delete(d2t, &n);
    CHECK_STR(got, "{\"topic\":\"p.db.t\",\"key\":{\"id\":7},\"tombstone\":true}\n");
    free(got);
    /* the options of Debezium 2.x */
    static const char *const legacy[] = {UNWRAP,  "transforms.unwrap.drop.tombstones",
                                         "false", "transforms.unwrap.delete.handling.mode",
                                         "none",  NULL};
    got = unwrap_delete(legacy, &n);
    CHECK_STR(got, "{\"topic\":\"p.db.t\",\"key\":{\"id\":7},\"value\":null}\n"
                   "{\"topic\":\"p.db.t\",\"key\":{\"id\":7},\"tombstone\":true}\n");
    free(got);
    static const char *const legacy_drop[] = {UNWRAP, "transforms.unwrap.drop.tombstones", "true",
                                              NULL};
    got = unwrap_delete(legacy_drop, &n);
    CHECK_INT(n, 0);
    free(got);
}

static void test_unwrap_fields_headers_schema(void)
{
    static const char *const kv[] = {UNWRAP,
                                     "transforms.unwrap.add.fields",
                                     "op,source.ts_ms,table:tbl,lsn,snapshot",
                                     "transforms.unwrap.add.headers",
                                     "op,db,gtid",
                                     "transforms.unwrap.delete.tombstone.handling.mode",
                                     "rewrite",
                                     NULL};
    struct schema_table *t = two_col(true);
    struct value row[2] = {V_INT(7), V_STR("x")};
    struct event ev = insert_of(EVENT_MYSQL, t, row);
    ev.op = EVENT_UPDATE;
    struct one o;
    one_render(&o, kv, false, &ev);
    /* lsn is not a MySQL source field: left out; snapshot "false" is not stored: null */
    CHECK_STR(o.text, "{\"topic\":\"p.db.t\",\"key\":{\"id\":7},\"value\":{\"id\":7,"
                      "\"name\":\"x\",\"__op\":\"u\",\"__source_ts_ms\":1529501823000,"
                      "\"__tbl\":\"t\",\"__snapshot\":null,\"__deleted\":\"false\"},"
                      "\"headers\":[[\"__op\",\"u\"],[\"__db\",\"db\"],[\"__gtid\",null]]}\n");
    one_free(&o);

    one_render(&o, kv, true, &ev);
    char *value = member_text(o.text, "value");
    char *schema = member_text(value, "schema");
    CHECK_STR(schema,
              "{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,"
              "\"field\":\"id\"},{\"type\":\"string\",\"optional\":true,\"field\":\"name\"},"
              "{\"type\":\"string\",\"optional\":true,\"field\":\"__op\"},"
              "{\"type\":\"int64\",\"optional\":true,\"field\":\"__source_ts_ms\"},"
              "{\"type\":\"string\",\"optional\":true,\"field\":\"__tbl\"},"
              "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\","
              "\"version\":1,\"parameters\":{\"allowed\":\"true,first,first_in_data_collection,"
              "last_in_data_collection,last,false,incremental\"},\"field\":\"__snapshot\"},"
              "{\"type\":\"string\",\"optional\":true,\"field\":\"__deleted\"}],"
              "\"optional\":false,\"name\":\"p.db.t.Value\"}");
    free(schema);
    free(value);
    one_free(&o);

    /* plain unwrap keeps the row schema as it is in the envelope (optional) */
    static const char *const plain[] = {UNWRAP, NULL};
    one_render(&o, plain, true, &ev);
    value = member_text(o.text, "value");
    schema = member_text(value, "schema");
    CHECK(schema && strstr(schema, "\"optional\":true,\"name\":\"p.db.t.Value\"}") != NULL);
    free(schema);
    free(value);
    one_free(&o);

    /* truncate records are dropped by the SMT; heartbeats pass through */
    struct event tr = insert_of(EVENT_POSTGRESQL, t, NULL);
    tr.op = EVENT_TRUNCATE;
    static const char *const trunc[] = {UNWRAP, "skipped.operations", "none", NULL};
    one_render(&o, trunc, false, &tr);
    CHECK_INT(o.count, 0);
    one_free(&o);
    struct event hb;
    memset(&hb, 0, sizeof hb);
    hb.op = EVENT_HEARTBEAT;
    one_render(&o, plain, false, &hb);
    CHECK_INT(o.count, 1);
    one_free(&o);
    schema_table_free(t);
}

static void test_unsupported_transform(void)
{
    static const char *const kv[] = {"transforms", "route", "transforms.route.type",
                                     "org.apache.kafka.connect.transforms.RegexRouter", NULL};
    struct config *cfg = cfg_of(kv);
    struct render *r = NULL;
    struct error err;
    error_clear(&err);
    CHECK(render_new(cfg, &r, &err) < 0);
    CHECK(strstr(err.msg, "transforms.route.type") != NULL);
    config_free(cfg);
}

/* A new table version at the address of the old one (a reader freed the old and built the new
 * one, which malloc placed there) must not reuse the old plans; neither must a table that
 * schema_table_add_column changed. */
static void test_cache_follows_table_changes(void)
{
    struct config *cfg = cfg_of(NULL);
    config_set(cfg, "value.converter.schemas.enable", "false");
    struct render *r = render_of(cfg);
    struct schema_table *t = one_col("int", VALUE_INT);
    t->cols[0].int_bits = 32;
    struct value row[2] = {V_INT(5), V_INT(6)};
    struct event ev = insert_of(EVENT_MYSQL, t, row);
    if (r) {
        char *got = render_lines(r, &ev, NULL);
        char *after = member_text(got, "after");
        CHECK_STR(after, "{\"c\":5}");
        free(after);
        free(got);
        /* the new version takes the old one's address: swap the structs */
        struct schema_table *v2 = schema_table_new("db", NULL, "t");
        schema_table_add_column(v2, "d", "varchar", VALUE_STRING);
        struct schema_table old = *t;
        *t = *v2;
        *v2 = old;
        schema_table_free(v2);
        row[0] = V_STR("five");
        got = render_lines(r, &ev, NULL);
        after = member_text(got, "after");
        CHECK_STR(after, "{\"d\":\"five\"}");
        free(after);
        free(got);
        schema_table_add_column(t, "e", "int", VALUE_INT)->int_bits = 32;
        got = render_lines(r, &ev, NULL);
        after = member_text(got, "after");
        CHECK_STR(after, "{\"d\":\"five\",\"e\":6}");
        free(after);
        free(got);
    }
    render_free(r);
    schema_table_free(t);
    config_free(cfg);
}

/* ts_ms and ts_us are ts_ns floored to milliseconds and microseconds, before 1970 too. */
static void test_envelope_times(void)
{
    static const struct {
        int64_t ns;
        const char *want;
    } cases[] = {
        {1700000000123456789, "\"ts_ms\":1700000000123,\"ts_us\":1700000000123456,"
                              "\"ts_ns\":1700000000123456789}"},
        {1000000, "\"ts_ms\":1,\"ts_us\":1000,\"ts_ns\":1000000}"},
        {999999, "\"ts_ms\":0,\"ts_us\":999,\"ts_ns\":999999}"},
        {0, "\"ts_ms\":0,\"ts_us\":0,\"ts_ns\":0}"},
        {-1, "\"ts_ms\":-1,\"ts_us\":-1,\"ts_ns\":-1}"},
    };
    struct schema_table *t = two_col(true);
    struct value row[2] = {V_INT(7), V_STR("x")};
    struct event ev = insert_of(EVENT_MYSQL, t, row);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pinned_ns = cases[i].ns;
        struct one o;
        one_render(&o, NULL, false, &ev);
        const char *ts = o.text ? strstr(o.text, "\"op\":\"c\",") : NULL;
        char want[160];
        snprintf(want, sizeof want, "\"op\":\"c\",%s}\n", cases[i].want);
        CHECK_STR(ts, want);
        one_free(&o);
    }
    pinned_ns = 1700000000123000000;
    schema_table_free(t);
}

static int64_t ticking_ns;

/* A clock that moves on a millisecond at each reading. */
static int64_t ticking_clock(void *ctx)
{
    (void)ctx;
    ticking_ns += 1000000;
    return ticking_ns;
}

/* The envelope's ts_ms of ev rendered by r now. */
static long long rendered_ts_ms(struct render *r, const struct event *ev)
{
    char *text = render_lines(r, ev, NULL);
    const char *ts = text ? strstr(text, "\"op\":\"c\",\"ts_ms\":") : NULL;
    long long ms = ts ? strtoll(ts + strlen("\"op\":\"c\",\"ts_ms\":"), NULL, 10) : -1;
    free(text);
    return ms;
}

/* A held clock stamps every record with one reading until it is held again or replaced. */
static void test_held_clock(void)
{
    struct schema_table *t = two_col(true);
    struct value row[2] = {V_INT(7), V_STR("x")};
    struct event ev = insert_of(EVENT_MYSQL, t, row);
    struct config *cfg = cfg_of(NULL);
    config_set(cfg, "value.converter.schemas.enable", "false");
    struct render *r = render_of(cfg);
    ticking_ns = 0;
    render_set_clock(r, ticking_clock, NULL);
    CHECK_INT(rendered_ts_ms(r, &ev), 1);
    CHECK_INT(rendered_ts_ms(r, &ev), 2);
    render_hold_clock(r);
    CHECK_INT(rendered_ts_ms(r, &ev), 3);
    CHECK_INT(rendered_ts_ms(r, &ev), 3);
    render_hold_clock(r);
    CHECK_INT(rendered_ts_ms(r, &ev), 4);
    CHECK_INT(rendered_ts_ms(r, &ev), 4);
    render_set_clock(r, ticking_clock, NULL);
    CHECK_INT(rendered_ts_ms(r, &ev), 5);
    CHECK_INT(rendered_ts_ms(r, &ev), 6);
    render_free(r);
    config_free(cfg);
    schema_table_free(t);
}

static int append_line(void *ctx, const struct render_record *rec, struct error *err)
{
    (void)err;
    render_record_line(ctx, rec);
    return 0;
}

/* render_event_lines writes what render_record_line makes of render_event_tx's records, for the
 * records it renders in place (envelopes, with and without schemas, keys, tombstones and
 * transaction blocks) and for those it hands on (flat rows, truncates, DDL). */
static void test_event_lines(void)
{
    static const char *const plain[] = {NULL};
    static const char *const bare[] = {"key.converter.schemas.enable", "false",
                                       "value.converter.schemas.enable", "false", NULL};
    static const char *const no_tombstones[] = {"tombstones.on.delete", "false",
                                                "skipped.operations", "none", NULL};
    static const char *const txmeta[] = {"provide.transaction.metadata", "true", NULL};
    static const char *const flat[] = {"transforms", "unwrap", "transforms.unwrap.type",
                                       "io.debezium.transforms.ExtractNewRecordState", NULL};
    static const char *const *const configs[] = {plain, bare, no_tombstones, txmeta, flat};
    struct schema_table *keyed = two_col(true), *keyless = two_col(false);
    struct value row[2] = {V_INT(7), V_STR("a \"quoted\" name")};
    struct value row2[2] = {V_INT(7), V_NULL};
    struct event evs[6];
    evs[0] = insert_of(EVENT_MYSQL, keyed, row);
    evs[1] = insert_of(EVENT_MYSQL, keyed, row2);
    evs[1].op = EVENT_UPDATE;
    evs[1].before = row;
    evs[2] = insert_of(EVENT_MYSQL, keyed, NULL);
    evs[2].op = EVENT_DELETE;
    evs[2].before = row2;
    evs[3] = insert_of(EVENT_MYSQL, keyless, row);
    evs[3].op = EVENT_DELETE;
    evs[3].after = NULL;
    evs[3].before = row;
    evs[4] = insert_of(EVENT_POSTGRESQL, keyed, NULL);
    evs[4].op = EVENT_TRUNCATE;
    evs[5] = mysql_event(EVENT_DDL, keyed);
    evs[5].ddl = "ALTER TABLE t ADD COLUMN c INT";
    evs[5].ddl_db = "db";
    for (size_t e = 0; e < 6; e++)
        evs[e].txn_id = "0-1-42";
    for (size_t k = 0; k < sizeof configs / sizeof configs[0]; k++) {
        struct config *cfg = cfg_of(configs[k]);
        struct render *r = render_of(cfg);
        struct txmeta *tx_a = txmeta_new(), *tx_b = txmeta_new();
        struct buf want, got;
        buf_init(&want);
        buf_init(&got);
        struct error err;
        error_clear(&err);
        for (size_t e = 0; r && e < 6; e++) {
            CHECK(render_event_tx(r, &evs[e], tx_a, append_line, &want, &err) == 0);
            CHECK(render_event_lines(r, &evs[e], tx_b, &got, &err) == 0);
        }
        CHECK(want.len > 0);
        CHECK_STR(got.data, want.data);
        buf_free(&want);
        buf_free(&got);
        txmeta_free(tx_a);
        txmeta_free(tx_b);
        render_free(r);
        config_free(cfg);
    }
    schema_table_free(keyed);
    schema_table_free(keyless);
}

/* The file sink's line, with the topic escaped when it must be. */
static void test_record_line(void)
{
    struct buf b;
    buf_init(&b);
    struct render_record rec = {
        .topic = "p.db.t", .key = "{\"id\":1}", .key_len = 8, .value = "{\"a\":2}", .value_len = 7};
    render_record_line(&b, &rec);
    rec.key = NULL;
    rec.value = NULL;
    rec.topic = "p.db.\"\xc3\xa9\"";
    render_record_line(&b, &rec);
    CHECK_STR(b.data, "{\"topic\":\"p.db.t\",\"key\":{\"id\":1},\"value\":{\"a\":2}}\n"
                      "{\"topic\":\"p.db.\\\"\xc3\xa9\\\"\",\"key\":null,\"value\":null}\n");
    buf_free(&b);
}

/* Renders ev with r, which has rendered other events before, and with a new render: the texts
 * must agree (the source block a render keeps from the last event must not leak into this
 * one's). Returns r's text (caller frees). */
static char *render_as_fresh(struct render *r, struct config *cfg, const struct event *ev)
{
    char *got = render_lines(r, ev, NULL);
    struct render *fresh = render_of(cfg);
    char *want = fresh ? render_lines(fresh, ev, NULL) : NULL;
    CHECK_STR(got, want ? want : "");
    free(want);
    render_free(fresh);
    return got;
}

/* Each change of a row stream gets its own source block, however little of it changed. */
static void test_source_follows_events(void)
{
    static const char *const kv[] = {"include.query", "true", "value.converter.schemas.enable",
                                     "false", NULL};
    struct config *cfg = cfg_of(kv);
    struct render *r = render_of(cfg);
    struct schema_table *t = two_col(true), *t2 = customers_table("db", NULL);
    struct value row[2] = {V_INT(7), V_STR("x")}, row2[4];
    customer_row(row2, 1, "a", "b", "c");
    char query[] = "INSERT 1", gtid[] = "0-1-5";
    struct event ev = insert_of(EVENT_MYSQL, t, row);
    ev.source.gtid = gtid;
    ev.source.query = query;
    ev.source.pos = 100;
    char *prev = NULL;
    for (int step = 0; r && step < 13; step++) {
        switch (step) {
        case 1:
            ev.source.row = 1;
            break;
        case 2:
            ev.source.pos = 200;
            break;
        case 3:
            query[7] = '2';
            break; /* the same buffer, new text */
        case 4:
            gtid[4] = '6';
            break;
        case 5:
            ev.source.file = "mysql-bin.000004";
            break;
        case 6:
            ev.source.ts_us += 1000;
            break;
        case 7:
            ev.source.snapshot = SNAPSHOT_TRUE;
            break;
        case 8:
            ev.source.thread = 9;
            break;
        case 9:
            ev.source.server_id = 2;
            break;
        case 10:
            ev.table = t2;
            ev.after = row2;
            break;
        case 11:
            ev.source.connector = EVENT_POSTGRESQL;
            ev.source.lsn = 5;
            break;
        case 12:
            ev.source.last_commit_lsn = 4;
            ev.source.txid = 3;
            break;
        default:
            break;
        }
        char *got = render_as_fresh(r, cfg, &ev);
        char *src = member_text(got, "source");
        char *was = member_text(prev, "source");
        if (step > 0 && src && was && strcmp(src, was) == 0)
            unit_fail(__FILE__, __LINE__, "step %d left the source block unchanged", step);
        free(src);
        free(was);
        free(prev);
        prev = got;
    }
    free(prev);
    /* the source times, printed from one conversion when ts_us has four digits or more */
    static const struct {
        int64_t ts_us;
        const char *ms, *us_ns;
    } times[] = {
        {1000, "\"ts_ms\":1,", "\"ts_us\":1000,\"ts_ns\":1000000,"},
        {999, "\"ts_ms\":0,", "\"ts_us\":999,\"ts_ns\":999000,"},
        {-1500, "\"ts_ms\":-2,", "\"ts_us\":-1500,\"ts_ns\":-1500000,"},
    };
    for (size_t i = 0; r && i < sizeof times / sizeof times[0]; i++) {
        ev.source.ts_us = times[i].ts_us;
        char *got = render_as_fresh(r, cfg, &ev);
        char *src = member_text(got, "source");
        CHECK(src && strstr(src, times[i].ms) && strstr(src, times[i].us_ns));
        free(src);
        free(got);
    }
    render_free(r);
    schema_table_free(t);
    schema_table_free(t2);
    config_free(cfg);
}

static const struct unit_case cases[] = {
    {"golden mysql customers create", test_mysql_customers_create},
    {"golden mysql customers update", test_mysql_customers_update},
    {"golden mysql customers delete + tombstone", test_mysql_customers_delete},
    {"golden mysql orders (real 3.2.4 record)", test_mysql_orders_real},
    {"golden pg customers update (real 3.1.3 record)", test_pg_customers_update_real},
    {"unwrap: the flattened record of the issue", test_unwrap_issue_example},
    {"doubles as Java prints them", test_java_doubles},
    {"integer widths and YEAR", test_integers},
    {"bigint.unsigned.handling.mode long/precise", test_bigint_unsigned},
    {"decimal.handling.mode precise/string/double, variable scale", test_decimals},
    {"time.precision.mode adaptive and adaptive_time_microseconds", test_temporal_adaptive},
    {"ZonedTimestamp and ZonedTime", test_zoned},
    {"time.precision.mode connect and isostring", test_temporal_connect_iso},
    {"binary.handling.mode bytes/base64/base64-url-safe/hex", test_binary_modes},
    {"interval.handling.mode numeric/string", test_intervals},
    {"enum, set, json, uuid, xml", test_named_strings},
    {"bits, geometry, arrays", test_bits_geometry_arrays},
    {"unchanged TOAST placeholder and absent columns", test_unchanged_and_absent},
    {"an update's after values that are its before values, copied", test_update_values_from_before},
    {"keys: schema, message.key.columns, keyless tables", test_keys},
    {"tombstones.on.delete and skipped.operations", test_tombstones_and_skips},
    {"postgresql source block", test_pg_source},
    {"source.query only with include.query; no transaction block without state",
     test_query_needs_include_query},
    {"heartbeat and schema change records", test_heartbeat_and_ddl},
    {"unwrap delete modes, new and legacy", test_unwrap_delete_modes},
    {"unwrap add.fields, add.headers, flat schema", test_unwrap_fields_headers_schema},
    {"unsupported transform refused", test_unsupported_transform},
    {"cache follows a changed table", test_cache_follows_table_changes},
    {"source block follows each event", test_source_follows_events},
    {"envelope ts_ms/ts_us/ts_ns from one clock reading", test_envelope_times},
    {"a held clock stamps records with one reading", test_held_clock},
    {"lines rendered in place are the records' lines", test_event_lines},
    {"record line of the file sink", test_record_line},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return unit_main("render", cases, argc, argv);
}
