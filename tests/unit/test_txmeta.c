/*
 * test_txmeta: Debezium's transaction metadata (provide.transaction.metadata): the counters of
 * src/txmeta.c, the BEGIN/END records and `transaction` blocks render_event_tx and render_commit
 * write, and the file sink that carries them.
 *
 * The expected records follow postgresql.adoc's "Transaction metadata" example (transaction
 * 571 touching s1.a and s2.a), with three adjustments for what Debezium's code writes where the
 * page simplifies: ts_ms comes last (SchemaFactory.transactionValueSchema's field order, which
 * JsonConverter follows), total_order and data_collection_order are numbers (INT64 fields, the
 * page quotes them), and the id is whatever the reader put in event.txn_id (the page's
 * "571:53195829" form is the reader's business).
 *
 * The collection orders in test_java_order come from java.util.HashMap itself (JDK 17): a
 * program put the same names into a HashMap, in the same order, and printed keySet().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../sinks/sink.h"
#include "../../src/buf.h"
#include "../../src/config.h"
#include "../../src/render.h"
#include "../../src/txmeta.h"
#include "unit.h"

#define V_INT(x) ((struct value){.kind = VALUE_INT, .v.i = (x)})

/* ---- txmeta -------------------------------------------------------------------------- */

/* Counts one event per name and returns the END order as "a b c" (caller frees). */
static char *order_of(struct txmeta *tx, const char *const *names)
{
    if (!txmeta_active(tx))
        txmeta_begin(tx, "t");
    for (; *names; names++)
        txmeta_event(tx, *names, strlen(*names));
    const struct txmeta_collection *cols;
    size_t n = txmeta_collections(tx, &cols);
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < n; i++)
        buf_printf(&b, "%s%s", i ? " " : "", cols[i].name);
    txmeta_end(tx);
    return buf_take(&b);
}

#define CHECK_ORDER(tx, want, ...)                                                                 \
    do {                                                                                           \
        static const char *const names_[] = {__VA_ARGS__, NULL};                                   \
        char *got = order_of((tx), names_);                                                        \
        CHECK_STR(got, want);                                                                      \
        free(got);                                                                                 \
    } while (0)

static void test_counters(void)
{
    struct txmeta *tx = txmeta_new();
    CHECK(!txmeta_active(tx));
    CHECK(txmeta_id(tx) == NULL);
    txmeta_begin(tx, "571");
    CHECK(txmeta_active(tx));
    CHECK_STR(txmeta_id(tx), "571");
    CHECK_INT(txmeta_event(tx, "s1.a", 4), 1);
    CHECK_INT(txmeta_event(tx, "s2.aXYZ", 4), 1); /* only len bytes are the name */
    CHECK_INT(txmeta_event(tx, "s1.a", 4), 2);
    CHECK_INT(txmeta_total(tx), 3);
    const struct txmeta_collection *cols;
    CHECK_INT(txmeta_collections(tx, &cols), 2);
    CHECK_STR(cols[0].name, "s1.a");
    CHECK_INT(cols[0].count, 2);
    CHECK_STR(cols[1].name, "s2.a");
    CHECK_INT(cols[1].count, 1);
    /* A new transaction starts every count again. */
    txmeta_begin(tx, "572");
    CHECK_INT(txmeta_total(tx), 0);
    CHECK_INT(txmeta_event(tx, "s1.a", 4), 1);
    CHECK_INT(txmeta_collections(tx, &cols), 1);
    txmeta_end(tx);
    CHECK(!txmeta_active(tx));
    CHECK_INT(txmeta_total(tx), 0);
    /* Many tables in one transaction: the lookup index grows and keeps every count. */
    txmeta_begin(tx, "573");
    char name[32];
    for (int round = 1; round <= 3; round++)
        for (int i = 0; i < 100; i++) {
            snprintf(name, sizeof name, "db.t%d", i);
            CHECK_INT(txmeta_event(tx, name, strlen(name)), round);
        }
    CHECK_INT(txmeta_total(tx), 300);
    CHECK_INT(txmeta_collections(tx, &cols), 100);
    txmeta_free(tx);
}

static void test_java_order(void)
{
    struct txmeta *tx = txmeta_new();
    /* The docs' two tables, inserted the other way round. */
    CHECK_ORDER(tx, "s1.a s2.a", "s2.a", "s1.a");
    /* Equal String.hashCode ("Aa" and "BB"): insertion order within the bucket. */
    CHECK_ORDER(tx, "x.BB x.Aa", "x.BB", "x.Aa", "x.BB");
    /* Thirteen tables outgrow the 16-slot table. */
    CHECK_ORDER(tx,
                "db.t2 db.t3 db.t1 db.t10 db.t11 db.t12 db.t13 db.t8 db.t9 db.t6 db.t7 db.t4 db.t5",
                "db.t1", "db.t2", "db.t3", "db.t4", "db.t5", "db.t6", "db.t7", "db.t8", "db.t9",
                "db.t10", "db.t11", "db.t12", "db.t13");
    /* HashMap.clear() keeps the grown table: these two come in 32-slot order from now on. */
    CHECK_ORDER(tx, "inv.b5 inv.a15", "inv.a15", "inv.b5");
    txmeta_free(tx);
    tx = txmeta_new();
    CHECK_ORDER(tx, "inv.a15 inv.b5", "inv.a15", "inv.b5");
    /* Hashes over UTF-16 code units, a surrogate pair for the emoji. */
    CHECK_ORDER(tx,
                "public.\xc3\xbc"
                "ber public.caf\xc3\xa9 public.a public.t\xf0\x9f\x98\x80",
                "public.caf\xc3\xa9", "public.t\xf0\x9f\x98\x80", "public.a",
                "public.\xc3\xbc"
                "ber");
    txmeta_free(tx);
    /* A ninth name in one bucket of a 16-slot table doubles it (treeifyBin's resize); eight
     * do not. t.k0 shares no bucket with them at 16 or 32 slots. */
    tx = txmeta_new();
    CHECK_ORDER(tx, "t.n17 t.n28 t.n39 t.k0 t.n101 t.n112 t.n123 t.n134 t.n145 t.n156", "t.n17",
                "t.n28", "t.n39", "t.n101", "t.n112", "t.n123", "t.n134", "t.n145", "t.n156",
                "t.k0");
    txmeta_free(tx);
    tx = txmeta_new();
    CHECK_ORDER(tx, "t.n17 t.n28 t.n39 t.n101 t.n112 t.n123 t.n134 t.n145 t.k0", "t.n17", "t.n28",
                "t.n39", "t.n101", "t.n112", "t.n123", "t.n134", "t.n145", "t.k0");
    txmeta_free(tx);
}

/* ---- records ------------------------------------------------------------------------- */

/* postgresql.adoc's tables s1.a and s2.a: (pk integer primary key, aa integer). */
static struct schema_table *table_a(const char *schema)
{
    struct schema_table *t = schema_table_new("postgres", schema, "a");
    struct schema_column *c = schema_table_add_column(t, "pk", "int4", VALUE_INT);
    c->int_bits = 32;
    c->key = true;
    c->optional = false;
    c = schema_table_add_column(t, "aa", "int4", VALUE_INT);
    c->int_bits = 32;
    return t;
}

static struct value rows[8][2];
static size_t nrows;

static struct event pg_change(enum event_op op, const struct schema_table *t, int64_t pk,
                              const char *txn_id)
{
    struct event ev;
    memset(&ev, 0, sizeof ev);
    struct value *row = rows[nrows++ % 8];
    row[0] = V_INT(pk);
    row[1] = V_INT(1);
    ev.op = op;
    ev.table = t;
    if (op == EVENT_DELETE)
        ev.before = row;
    else
        ev.after = row;
    ev.source.connector = EVENT_POSTGRESQL;
    ev.source.snapshot = op == EVENT_READ ? SNAPSHOT_TRUE : SNAPSHOT_FALSE;
    ev.source.ts_us = 1486500577125123;
    ev.source.txid = 571;
    ev.source.lsn = 53195830 + (uint64_t)nrows;
    ev.txn_id = txn_id;
    return ev;
}

static struct event pg_commit(const char *txn_id, int64_t ts_us)
{
    struct event ev;
    memset(&ev, 0, sizeof ev);
    ev.op = EVENT_COMMIT;
    ev.source.connector = EVENT_POSTGRESQL;
    ev.source.ts_us = ts_us;
    ev.source.txid = 571;
    ev.txn_id = txn_id;
    return ev;
}

struct lines {
    struct buf b;
    int count;
};

/* Each record as "topic key value" on one line, then " name=value" per header; a tombstone's
 * value reads "-". */
static int collect(void *ctx, const struct render_record *rec, struct error *err)
{
    struct lines *l = ctx;
    (void)err;
    buf_printf(&l->b, "%s %s %s", rec->topic, rec->key ? rec->key : "-",
               rec->value ? rec->value : "-");
    for (size_t i = 0; i < rec->nheaders; i++)
        buf_printf(&l->b, " %s=%s", rec->header_names[i],
                   rec->header_values[i] ? rec->header_values[i] : "-");
    buf_putc(&l->b, '\n');
    l->count++;
    return 0;
}

struct rig {
    struct config *cfg;
    struct render *r;
    struct txmeta *tx;
    struct lines out;
};

static void rig_open(struct rig *g, const char *const *kv)
{
    struct error err;
    memset(g, 0, sizeof *g);
    g->cfg = config_new();
    config_set(g->cfg, "topic.prefix", "dbserver1");
    config_set(g->cfg, "provide.transaction.metadata", "true");
    config_set(g->cfg, "key.converter.schemas.enable", "false");
    config_set(g->cfg, "value.converter.schemas.enable", "false");
    for (; kv && kv[0]; kv += 2)
        config_set(g->cfg, kv[0], kv[1]);
    error_clear(&err);
    if (render_new(g->cfg, &g->r, &err) < 0)
        unit_fail(__FILE__, __LINE__, "render_new: %s", err.msg);
    g->tx = txmeta_new();
    buf_init(&g->out.b);
}

static void rig_close(struct rig *g)
{
    render_free(g->r);
    config_free(g->cfg);
    txmeta_free(g->tx);
    buf_free(&g->out.b);
}

/* Renders ev (a COMMIT through render_commit) and returns what it wrote since the last call. */
static const char *feed(struct rig *g, const struct event *ev)
{
    struct error err;
    error_clear(&err);
    buf_reset(&g->out.b);
    g->out.count = 0;
    if (g->r == NULL)
        return "";
    int rc = ev->op == EVENT_COMMIT ? render_commit(g->r, ev, g->tx, collect, &g->out, &err)
                                    : render_event_tx(g->r, ev, g->tx, collect, &g->out, &err);
    if (rc < 0)
        unit_fail(__FILE__, __LINE__, "render: %s", err.msg);
    return g->out.b.data ? g->out.b.data : "";
}

/* The line of the record on `topic` in text, NUL-cut into line (empty when none). */
static const char *line_on(const char *text, const char *topic, char *line, size_t cap)
{
    size_t tl = strlen(topic);
    line[0] = '\0';
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > tl && strncmp(p, topic, tl) == 0 && p[tl] == ' ') {
            snprintf(line, cap, "%.*s", (int)len, p);
            return line;
        }
        p = nl ? nl + 1 : NULL;
    }
    return line;
}

static void test_docs_example(void)
{
    struct rig g;
    rig_open(&g, NULL);
    struct schema_table *s1 = table_a("s1"), *s2 = table_a("s2");
    char line[2048];

    struct event e1 = pg_change(EVENT_CREATE, s1, 2, "571");
    const char *out = feed(&g, &e1);
    CHECK_INT(g.out.count, 2);
    CHECK_STR(line_on(out, "dbserver1.transaction", line, sizeof line),
              "dbserver1.transaction {\"id\":\"571\"} {\"status\":\"BEGIN\",\"id\":\"571\","
              "\"event_count\":null,\"data_collections\":null,\"ts_ms\":1486500577125}");
    CHECK(strstr(line_on(out, "dbserver1.s1.a", line, sizeof line),
                 ",\"transaction\":{\"id\":\"571\",\"total_order\":1,"
                 "\"data_collection_order\":1},\"op\":\"c\",") != NULL);
    /* BEGIN precedes the change. */
    CHECK(strncmp(out, "dbserver1.transaction ", 22) == 0);

    struct event e2 = pg_change(EVENT_CREATE, s2, 2, "571");
    out = feed(&g, &e2);
    CHECK_INT(g.out.count, 1);
    CHECK(strstr(out, "\"transaction\":{\"id\":\"571\",\"total_order\":2,"
                      "\"data_collection_order\":1}") != NULL);

    struct event e3 = pg_change(EVENT_UPDATE, s1, 2, "571");
    out = feed(&g, &e3);
    CHECK(strstr(out, "\"transaction\":{\"id\":\"571\",\"total_order\":3,"
                      "\"data_collection_order\":2},\"op\":\"u\"") != NULL);

    struct event c = pg_commit("571", 1486500577691000);
    out = feed(&g, &c);
    CHECK_STR(out, "dbserver1.transaction {\"id\":\"571\"} {\"status\":\"END\",\"id\":\"571\","
                   "\"event_count\":3,\"data_collections\":[{\"data_collection\":\"s1.a\","
                   "\"event_count\":2},{\"data_collection\":\"s2.a\",\"event_count\":1}],"
                   "\"ts_ms\":1486500577691}\n");

    /* The next transaction begins afresh; its END carries the COMMIT's id, as Debezium's
     * PostgreSQL connector stamps each record with its own LSN. */
    struct event e4 = pg_change(EVENT_DELETE, s2, 2, "572:100");
    out = feed(&g, &e4);
    CHECK(strstr(out, "{\"status\":\"BEGIN\",\"id\":\"572:100\"") != NULL);
    CHECK(strstr(out, "\"transaction\":{\"id\":\"572:100\",\"total_order\":1,"
                      "\"data_collection_order\":1},\"op\":\"d\"") != NULL);
    /* delete + tombstone: the tombstone is no event of its own */
    CHECK_INT(g.out.count, 3);
    struct event c2 = pg_commit("572:200", -1500);
    out = feed(&g, &c2);
    CHECK_STR(out, "dbserver1.transaction {\"id\":\"572:200\"} {\"status\":\"END\",\"id\":"
                   "\"572:200\",\"event_count\":1,\"data_collections\":[{\"data_collection\":"
                   "\"s2.a\",\"event_count\":1}],\"ts_ms\":-2}\n");

    /* A COMMIT without an id ends the transaction under the id its BEGIN had. */
    struct event e5 = pg_change(EVENT_CREATE, s1, 3, "573");
    feed(&g, &e5);
    struct event c3 = pg_commit(NULL, 0);
    out = feed(&g, &c3);
    CHECK(strncmp(out, "dbserver1.transaction {\"id\":\"573\"} {\"status\":\"END\",\"id\":\"573\",",
                  60) == 0);

    schema_table_free(s1);
    schema_table_free(s2);
    rig_close(&g);
}

static void test_schemas(void)
{
    static const char *const kv[] = {"key.converter.schemas.enable", "true",
                                     "value.converter.schemas.enable", "true", NULL};
    struct rig g;
    rig_open(&g, kv);
    struct schema_table *s1 = table_a("s1");
    char line[4096];

    struct event e1 = pg_change(EVENT_CREATE, s1, 2, "571");
    const char *out = feed(&g, &e1);
    static const char key[] =
        "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,"
        "\"field\":\"id\"}],\"optional\":false,"
        "\"name\":\"io.debezium.connector.common.TransactionMetadataKey\",\"version\":1},"
        "\"payload\":{\"id\":\"571\"}}";
    static const char value_schema[] =
        "{\"schema\":{\"type\":\"struct\",\"fields\":["
        "{\"type\":\"string\",\"optional\":false,\"field\":\"status\"},"
        "{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"
        "{\"type\":\"int64\",\"optional\":true,\"field\":\"event_count\"},"
        "{\"type\":\"array\",\"items\":{\"type\":\"struct\",\"fields\":["
        "{\"type\":\"string\",\"optional\":false,\"field\":\"data_collection\"},"
        "{\"type\":\"int64\",\"optional\":false,\"field\":\"event_count\"}],"
        "\"optional\":true,\"name\":\"event.collection\",\"version\":1},"
        "\"optional\":true,\"field\":\"data_collections\"},"
        "{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"}],\"optional\":false,"
        "\"name\":\"io.debezium.connector.common.TransactionMetadataValue\",\"version\":1},";
    char want[4096];
    snprintf(want, sizeof want,
             "dbserver1.transaction %s %s\"payload\":{\"status\":\"BEGIN\",\"id\":\"571\","
             "\"event_count\":null,\"data_collections\":null,\"ts_ms\":1486500577125}}",
             key, value_schema);
    CHECK_STR(line_on(out, "dbserver1.transaction", line, sizeof line), want);
    /* The envelope declares the block as SchemaFactory.transactionBlockSchema. */
    line_on(out, "dbserver1.s1.a", line, sizeof line);
    CHECK(strstr(line, "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":"
                       "false,\"field\":\"id\"},{\"type\":\"int64\",\"optional\":false,"
                       "\"field\":\"total_order\"},{\"type\":\"int64\",\"optional\":false,"
                       "\"field\":\"data_collection_order\"}],\"optional\":true,\"name\":"
                       "\"event.block\",\"version\":1,\"field\":\"transaction\"}") != NULL);
    CHECK(strstr(line, "\"transaction\":{\"id\":\"571\",\"total_order\":1,"
                       "\"data_collection_order\":1}") != NULL);

    struct event c = pg_commit("571", 1486500577691000);
    out = feed(&g, &c);
    snprintf(want, sizeof want,
             "dbserver1.transaction %s %s\"payload\":{\"status\":\"END\",\"id\":\"571\","
             "\"event_count\":1,\"data_collections\":[{\"data_collection\":\"s1.a\","
             "\"event_count\":1}],\"ts_ms\":1486500577691}}\n",
             key, value_schema);
    CHECK_STR(out, want);
    schema_table_free(s1);
    rig_close(&g);
}

static void test_what_takes_no_part(void)
{
    struct rig g;
    rig_open(&g, NULL);
    struct schema_table *s1 = table_a("s1");

    /* Snapshot rows: no block, no transaction; their chunk COMMITs end nothing. */
    struct event r = pg_change(EVENT_READ, s1, 1, "snap");
    const char *out = feed(&g, &r);
    CHECK_INT(g.out.count, 1);
    CHECK(strstr(out, "\"transaction\":null,\"op\":\"r\"") != NULL);
    struct event c = pg_commit("snap", 0);
    CHECK_STR(feed(&g, &c), "");

    /* Truncates are skipped by default (skipped.operations=t): not counted either. */
    struct event t = pg_change(EVENT_TRUNCATE, s1, 1, "574");
    CHECK_STR(feed(&g, &t), "");
    CHECK_STR(feed(&g, &c), "");

    /* No transaction id: the block stays null and nothing begins. */
    struct event n = pg_change(EVENT_CREATE, s1, 1, NULL);
    out = feed(&g, &n);
    CHECK_INT(g.out.count, 1);
    CHECK(strstr(out, "\"transaction\":null") != NULL);
    CHECK_STR(feed(&g, &c), "");

    /* Heartbeats inside a transaction neither count nor end it. */
    struct event e = pg_change(EVENT_CREATE, s1, 1, "575");
    feed(&g, &e);
    struct event hb;
    memset(&hb, 0, sizeof hb);
    hb.op = EVENT_HEARTBEAT;
    hb.source.connector = EVENT_POSTGRESQL;
    out = feed(&g, &hb);
    CHECK(strncmp(out, "__debezium-heartbeat.dbserver1 ", 31) == 0);
    struct event e2 = pg_change(EVENT_CREATE, s1, 2, "575");
    CHECK(strstr(feed(&g, &e2), "\"total_order\":2,\"data_collection_order\":2") != NULL);
    CHECK(strstr(feed(&g, &c), "\"event_count\":2,") != NULL);
    rig_close(&g);

    /* With the option off the state is ignored: no records of its own, null blocks. */
    static const char *const off[] = {"provide.transaction.metadata", "false", NULL};
    rig_open(&g, off);
    out = feed(&g, &e);
    CHECK_INT(g.out.count, 1);
    CHECK(strstr(out, "\"transaction\":null") != NULL);
    CHECK_STR(feed(&g, &c), "");
    CHECK(!txmeta_active(g.tx));
    rig_close(&g);

    /* Truncates count when they are written, under their table's name. */
    static const char *const trunc[] = {"skipped.operations", "none", NULL};
    rig_open(&g, trunc);
    out = feed(&g, &t);
    CHECK(strstr(out, "\"transaction\":{\"id\":\"574\",\"total_order\":1,"
                      "\"data_collection_order\":1},\"op\":\"t\"") != NULL);
    CHECK(strstr(feed(&g, &c), "[{\"data_collection\":\"s1.a\",\"event_count\":1}]") != NULL);
    rig_close(&g);
    schema_table_free(s1);
}

static void test_mysql_names_and_topic(void)
{
    static const char *const kv[] = {"topic.transaction", "tx-meta", NULL};
    struct rig g;
    rig_open(&g, kv);
    struct schema_table *t = schema_table_new("inventory", NULL, "customers");
    struct schema_column *c = schema_table_add_column(t, "pk", "int", VALUE_INT);
    c->int_bits = 32;
    c->key = true;
    struct event e = pg_change(EVENT_CREATE, t, 1, "3e11fa47-71ca-11e1-9e33-c80aa9429562:23");
    e.source.connector = EVENT_MYSQL;
    e.source.txid = -1;
    e.source.file = "mysql-bin.000003";
    e.source.thread = -1;
    const char *out = feed(&g, &e);
    CHECK(strncmp(out, "dbserver1.tx-meta {\"id\":\"3e11fa47-71ca-11e1-9e33-c80aa9429562:23\"} ",
                  67) == 0);
    struct event cm = pg_commit("3e11fa47-71ca-11e1-9e33-c80aa9429562:23", 1465491411000000);
    cm.source.connector = EVENT_MYSQL;
    out = feed(&g, &cm);
    CHECK(strstr(out, "\"data_collections\":[{\"data_collection\":\"inventory.customers\","
                      "\"event_count\":1}],\"ts_ms\":1465491411000}") != NULL);
    schema_table_free(t);
    rig_close(&g);
}

static void test_unwrap_fields(void)
{
    static const char *const kv[] = {"transforms",
                                     "unwrap",
                                     "transforms.unwrap.type",
                                     "io.debezium.transforms.ExtractNewRecordState",
                                     "transforms.unwrap.add.fields",
                                     "transaction.id,total_order,data_collection_order:dco",
                                     "transforms.unwrap.add.headers",
                                     "transaction.total_order",
                                     NULL};
    struct rig g;
    rig_open(&g, kv);
    struct schema_table *s1 = table_a("s1");
    struct event e = pg_change(EVENT_CREATE, s1, 2, "571");
    feed(&g, &e);
    struct event e2 = pg_change(EVENT_UPDATE, s1, 2, "571");
    const char *out = feed(&g, &e2);
    CHECK(strstr(out, "{\"pk\":2,\"aa\":1,\"__transaction_id\":\"571\",\"__total_order\":2,"
                      "\"__dco\":2} __transaction_total_order=2\n") != NULL);
    /* Snapshot rows carry a null struct. */
    struct event r = pg_change(EVENT_READ, s1, 1, NULL);
    out = feed(&g, &r);
    CHECK(strstr(out, "\"__transaction_id\":null,\"__total_order\":null,\"__dco\":null}"
                      " __transaction_total_order=-\n") != NULL);
    schema_table_free(s1);
    rig_close(&g);
}

/* ---- the file sink ------------------------------------------------------------------- */

static void test_file_sink(void)
{
    char dir[] = "/tmp/dbtail-test-txmeta.XXXXXX";
    if (mkdtemp(dir) == NULL) {
        unit_fail(__FILE__, __LINE__, "mkdtemp failed");
        return;
    }
    char path[128];
    snprintf(path, sizeof path, "%s/out.jsonl", dir);
    struct rig g;
    rig_open(&g, NULL);
    config_set(g.cfg, "sink.file.path", path);
    struct sink *sk = NULL;
    struct error err;
    error_clear(&err);
    if (sink_file_new(g.cfg, g.r, NULL, &sk, &err) < 0) {
        unit_fail(__FILE__, __LINE__, "sink_file_new: %s", err.msg);
        rig_close(&g);
        return;
    }
    struct schema_table *s1 = table_a("s1"), *s2 = table_a("s2");
    struct event evs[] = {pg_change(EVENT_CREATE, s2, 1, "571"),
                          pg_change(EVENT_CREATE, s1, 1, "571"),
                          pg_change(EVENT_CREATE, s2, 2, "571")};
    for (size_t i = 0; i < 3; i++)
        CHECK_INT(sk->ops->write(sk, &evs[i], &err), 0);
    struct event c = pg_commit("571", 1486500577691000);
    CHECK_INT(sk->ops->commit(sk, &c, &err), 0);
    CHECK_INT(sk->ops->flush(sk, &err), 0);
    sk->ops->free(sk);

    FILE *f = fopen(path, "r");
    char line[4096];
    const char *want_topic[] = {"dbserver1.transaction", "dbserver1.s2.a", "dbserver1.s1.a",
                                "dbserver1.s2.a", "dbserver1.transaction"};
    int n = 0;
    while (f && fgets(line, sizeof line, f)) {
        char topic[96];
        snprintf(topic, sizeof topic, "{\"topic\":\"%s\",", n < 5 ? want_topic[n] : "?");
        if (strncmp(line, topic, strlen(topic)) != 0)
            unit_fail(__FILE__, __LINE__, "line %d: %s", n + 1, line);
        if (n == 4)
            CHECK(strstr(line, "\"value\":{\"status\":\"END\",\"id\":\"571\",\"event_count\":3,"
                               "\"data_collections\":[{\"data_collection\":\"s1.a\","
                               "\"event_count\":1},{\"data_collection\":\"s2.a\","
                               "\"event_count\":2}],") != NULL);
        n++;
    }
    CHECK_INT(n, 5);
    if (f)
        fclose(f);
    unlink(path);
    rmdir(dir);
    schema_table_free(s1);
    schema_table_free(s2);
    rig_close(&g);
}

static const struct unit_case cases[] = {
    {"counters per transaction and per collection", test_counters},
    {"collections in java.util.HashMap order", test_java_order},
    {"BEGIN, blocks and END of postgresql.adoc's example", test_docs_example},
    {"schemas of BEGIN/END records and of the block", test_schemas},
    {"snapshot rows, skipped ops, no id, heartbeats, option off", test_what_takes_no_part},
    {"db.table names and topic.transaction", test_mysql_names_and_topic},
    {"ExtractNewRecordState add.fields from the block", test_unwrap_fields},
    {"file sink writes BEGIN, changes and END", test_file_sink},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return unit_main("txmeta", cases, argc, argv);
}
