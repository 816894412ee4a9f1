/*
 * test_render: Debezium records from hand-built events. Golden files under
 * tests/golden/render/ hold the records Debezium writes for the same rows (see the README
 * there for where each comes from); the other cases check one encoding or option each.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/buf.h"
#include "../../src/config.h"
#include "../../src/mem.h"
#include "../../src/render.h"
#include "unit.h"

#define GOLDEN_DIR "tests/golden/render/"

/* ---- building events ------------------------------------------------------------------ */

#define V_NULL ((struct value){.kind = VALUE_NULL})
#define V_INT(x) ((struct value){.kind = VALUE_INT, .v.i = (x)})
#define V_STR(x) ((struct value){.kind = VALUE_STRING, .v.s = {.p = (x), .len = strlen(x)}})
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
                  "%s differs at byte %zu\n      got:  ...%.160s\n      want: ...%.160s", name,
                  i, got + from, want + from);
    }
    free(want);
}

/* ---- golden cases --------------------------------------------------------------------- */

static void test_mysql_customers_create(void)
{
    struct config *cfg = cfg_of(NULL);
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
    struct config *cfg = cfg_of(NULL);
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
    struct config *cfg = cfg_of(NULL);
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
    static const char *const kv[] = {
        "topic.prefix", "mysql-cdc",
        "value.converter.schemas.enable", "false",
        "key.converter.schemas.enable", "false",
        "transforms", "unwrap",
        "transforms.unwrap.type", "io.debezium.transforms.ExtractNewRecordState",
        "transforms.unwrap.add.fields", "op,table",
        "transforms.unwrap.delete.handling.mode", "rewrite",
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

static const struct unit_case cases[] = {
    {"golden mysql customers create", test_mysql_customers_create},
    {"golden mysql customers update", test_mysql_customers_update},
    {"golden mysql customers delete + tombstone", test_mysql_customers_delete},
    {"golden mysql orders (real 3.2.4 record)", test_mysql_orders_real},
    {"golden pg customers update (real 3.1.3 record)", test_pg_customers_update_real},
    {"unwrap: the flattened record of the issue", test_unwrap_issue_example},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return unit_main("render", cases, argc, argv);
}
