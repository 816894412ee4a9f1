/*
 * Unit tests of sinks/kafka.c against librdkafka's mock cluster, created in this process.
 * Events are built by hand, written through the sink, then consumed back and compared with
 * what render_event makes of the same events: the sink must add, drop, reorder or alter
 * nothing. Key placement is compared with Java's murmur2 (checked here against the vectors of
 * Kafka's own UtilsTest), broker outages and refused deliveries with the errors the pipeline
 * needs, transactions with what a read_committed consumer sees after a crash.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../schemas/schema.h"
#include "../../sinks/sink.h"
#include "../../src/buf.h"
#include "../../src/config.h"
#include "../../src/log.h"
#include "../../src/mem.h"
#include "../../src/render.h"
#include "unit.h"

#define TOPIC_USERS "mysql-cdc.ecommerce_db.users"

/* ---- one mock cluster per case ---- */

static rd_kafka_t *mock_rk;
static rd_kafka_mock_cluster_t *mock;
static struct config *cfg;
static struct render *rnd;
static struct schema_table *users;

static void setup(void)
{
    char why[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", why, sizeof why);
    mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    mock = rd_kafka_mock_cluster_new(mock_rk, 1);

    cfg = config_new();
    config_set(cfg, "connector.class", "io.debezium.connector.mysql.MySqlConnector");
    config_set(cfg, "topic.prefix", "mysql-cdc");
    config_set(cfg, "sink.kafka.bootstrap.servers", rd_kafka_mock_cluster_bootstraps(mock));
    struct error err;
    if (render_new(cfg, &rnd, &err) < 0) {
        unit_fail(__FILE__, __LINE__, "render_new: %s", err.msg);
        rnd = NULL;
    }

    users = schema_table_new("ecommerce_db", NULL, "users");
    struct schema_column *c = schema_table_add_column(users, "id", "int", VALUE_INT);
    c->int_bits = 32;
    c->key = true;
    c->optional = false;
    schema_table_add_column(users, "name", "varchar", VALUE_STRING)->length = 64;
}

static void teardown(void)
{
    schema_table_free(users);
    render_free(rnd);
    config_free(cfg);
    rd_kafka_mock_cluster_destroy(mock);
    rd_kafka_destroy(mock_rk);
}

/* ---- events ---- */

struct row {
    struct value v[2];
    char name[32];
};

static void row_set(struct row *r, int64_t id, const char *name)
{
    snprintf(r->name, sizeof r->name, "%s", name);
    r->v[0].kind = VALUE_INT;
    r->v[0].v.i = id;
    r->v[1].kind = VALUE_STRING;
    r->v[1].v.s.p = r->name;
    r->v[1].v.s.len = strlen(r->name);
}

/* A change of users; `seq` makes its source position and order. */
static struct event change(enum event_op op, const struct row *before, const struct row *after,
                           uint64_t seq)
{
    struct event ev = {.op = op, .table = users};
    ev.before = before ? before->v : NULL;
    ev.after = after ? after->v : NULL;
    ev.source.connector = EVENT_MARIADB;
    ev.source.ts_us = 1700000000000000 + (int64_t)seq * 1000;
    ev.source.server_id = 1;
    ev.source.file = "mariadb-bin.000001";
    ev.source.pos = 1000 + seq * 100;
    ev.source.thread = -1;
    ev.source.txid = -1;
    ev.order = seq;
    return ev;
}

static struct event commit_at(uint64_t n, json_t **pos)
{
    *pos = json_pack("{s:s, s:I}", "file", "mariadb-bin.000001", "pos", (json_int_t)n);
    struct event ev = {.op = EVENT_COMMIT, .position = *pos};
    ev.source.connector = EVENT_MARIADB;
    return ev;
}

/* ---- records: what render makes of events, and what a consumer reads back ---- */

struct rec {
    char *topic;
    char *key; /* NULL: no key */
    size_t key_len;
    char *value; /* NULL: tombstone */
    size_t value_len;
    char *headers; /* "name=value\n"... */
    int32_t partition;
};

struct recs {
    struct rec *v;
    size_t n, cap;
};

static struct rec *recs_add(struct recs *rs)
{
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 64;
        rs->v = mem_realloc(rs->v, rs->cap * sizeof *rs->v);
    }
    memset(&rs->v[rs->n], 0, sizeof rs->v[0]);
    return &rs->v[rs->n++];
}

static void recs_free(struct recs *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        free(rs->v[i].topic);
        free(rs->v[i].key);
        free(rs->v[i].value);
        free(rs->v[i].headers);
    }
    free(rs->v);
    memset(rs, 0, sizeof *rs);
}

static char *dup_mem(const void *p, size_t n)
{
    return p ? mem_strndup(p, n) : NULL;
}

static int collect(void *ctx, const struct render_record *r, struct error *err)
{
    (void)err;
    struct rec *x = recs_add(ctx);
    x->topic = mem_strdup(r->topic);
    x->key = dup_mem(r->key, r->key_len);
    x->key_len = r->key_len;
    x->value = dup_mem(r->value, r->value_len);
    x->value_len = r->value_len;
    struct buf h;
    buf_init(&h);
    for (size_t i = 0; i < r->nheaders; i++)
        buf_printf(&h, "%s=%s\n", r->header_names[i],
                   r->header_values[i] ? r->header_values[i] : "");
    x->headers = h.data ? buf_take(&h) : mem_strdup("");
    return 0;
}

static void expect(struct recs *want, const struct event *ev)
{
    struct error err;
    if (render_event(rnd, ev, collect, want, &err) < 0)
        unit_fail(__FILE__, __LINE__, "render_event: %s", err.msg);
}

/* Reads every message of `topic` from the start with the given isolation level. */
static void consume(const char *topic, const char *isolation, struct recs *got)
{
    char why[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", rd_kafka_mock_cluster_bootstraps(mock), why,
                      sizeof why);
    rd_kafka_conf_set(conf, "group.id", "test", why, sizeof why);
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", why, sizeof why);
    rd_kafka_conf_set(conf, "isolation.level", isolation, why, sizeof why);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);

    rd_kafka_topic_t *rkt = rd_kafka_topic_new(c, topic, NULL);
    const struct rd_kafka_metadata *md;
    int nparts = 0;
    if (rd_kafka_metadata(c, 0, rkt, &md, 5000) == 0) {
        nparts = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(rkt);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(nparts);
    for (int p = 0; p < nparts; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(c, parts);
    rd_kafka_topic_partition_list_destroy(parts);

    int eofs = 0, idle = 0;
    while (eofs < nparts && idle < 20) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 500);
        if (m == NULL) {
            idle++;
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            eofs++;
        } else if (m->err == 0) {
            struct rec *x = recs_add(got);
            x->topic = mem_strdup(topic);
            x->key = dup_mem(m->key, m->key_len);
            x->key_len = m->key_len;
            x->value = dup_mem(m->payload, m->len);
            x->value_len = m->len;
            x->partition = m->partition;
            struct buf h;
            buf_init(&h);
            rd_kafka_headers_t *hdrs;
            if (rd_kafka_message_headers(m, &hdrs) == 0) {
                const char *name;
                const void *val;
                size_t size;
                for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == 0; i++)
                    buf_printf(&h, "%s=%.*s\n", name, (int)size, val ? (const char *)val : "");
            }
            x->headers = h.data ? buf_take(&h) : mem_strdup("");
        }
        rd_kafka_message_destroy(m);
    }
    if (eofs < nparts)
        unit_fail(__FILE__, __LINE__, "topic %s: reached the end of %d of %d partitions", topic,
                  eofs, nparts);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
}

static bool rec_equal(const struct rec *a, const struct rec *b)
{
    return strcmp(a->topic, b->topic) == 0 && a->key_len == b->key_len &&
           (a->key == NULL) == (b->key == NULL) &&
           (a->key == NULL || memcmp(a->key, b->key, a->key_len) == 0) &&
           (a->value == NULL) == (b->value == NULL) && a->value_len == b->value_len &&
           (a->value == NULL || memcmp(a->value, b->value, a->value_len) == 0) &&
           strcmp(a->headers, b->headers) == 0;
}

static bool same_key(const struct rec *a, const struct rec *b)
{
    return strcmp(a->topic, b->topic) == 0 && a->key && b->key && a->key_len == b->key_len &&
           memcmp(a->key, b->key, a->key_len) == 0;
}

/* Every wanted record was read exactly once, and those of one key in the order wanted (a
 * consumer sees no order across partitions). */
static void check_same(const struct recs *want, const struct recs *got, int line)
{
    if (want->n != got->n)
        unit_fail(__FILE__, line, "read %zu records, want %zu", got->n, want->n);
    bool *used = mem_calloc(got->n + 1, 1);
    for (size_t i = 0; i < want->n; i++) {
        const struct rec *w = &want->v[i];
        size_t j = 0;
        /* The first unused record of the same key must be this one. */
        for (; j < got->n; j++)
            if (!used[j] && (same_key(w, &got->v[j]) || rec_equal(w, &got->v[j])))
                break;
        if (j == got->n || !rec_equal(w, &got->v[j])) {
            unit_fail(__FILE__, line, "record %zu (topic %s, key %.*s, value %.60s...) %s", i,
                      w->topic, (int)w->key_len, w->key ? w->key : "", w->value ? w->value : "null",
                      j == got->n ? "was not read" : "was read out of order or altered");
            break;
        }
        used[j] = true;
    }
    free(used);
}

static struct sink *new_sink(const json_t *saved)
{
    struct sink *sk = NULL;
    struct error err;
    if (sink_kafka_new(cfg, rnd, saved, &sk, &err) < 0) {
        unit_fail(__FILE__, __LINE__, "sink_kafka_new: %s", err.msg);
        return NULL;
    }
    return sk;
}

static int write_ev(struct sink *sk, const struct event *ev, struct recs *want)
{
    struct error err;
    int rc = sk->ops->write(sk, ev, &err);
    if (rc < 0)
        unit_fail(__FILE__, __LINE__, "write: %s", err.msg);
    else if (want)
        expect(want, ev);
    return rc;
}

static void commit_ev(struct sink *sk, uint64_t n)
{
    json_t *pos;
    struct event ev = commit_at(n, &pos);
    struct error err;
    if (sk->ops->commit(sk, &ev, &err) < 0)
        unit_fail(__FILE__, __LINE__, "commit: %s", err.msg);
    json_decref(pos);
}

static void flush_ok(struct sink *sk)
{
    struct error err;
    if (sk->ops->flush(sk, &err) < 0)
        unit_fail(__FILE__, __LINE__, "flush: %s", err.msg);
}

/* Inserts id 1..n (one transaction each), as records to want. */
static void insert_rows(struct sink *sk, int from, int to, struct recs *want)
{
    for (int id = from; id <= to; id++) {
        struct row r;
        char name[32];
        snprintf(name, sizeof name, "user %d", id);
        row_set(&r, id, name);
        struct event ev = change(EVENT_CREATE, NULL, &r, (uint64_t)id * 10);
        write_ev(sk, &ev, want);
        commit_ev(sk, (uint64_t)id * 10);
    }
}

/* ---- Java's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) ---- */

static int32_t java_murmur2(const void *data, size_t len)
{
    const uint32_t m = 0x5bd1e995;
    const unsigned char *p = data;
    uint32_t h = 0x9747b28cU ^ (uint32_t)len;
    size_t i = 0;
    for (; i + 4 <= len; i += 4) {
        uint32_t k =
            p[i] | (uint32_t)p[i + 1] << 8 | (uint32_t)p[i + 2] << 16 | (uint32_t)p[i + 3] << 24;
        k *= m;
        k ^= k >> 24;
        k *= m;
        h *= m;
        h ^= k;
    }
    switch (len - i) {
    case 3:
        h ^= (uint32_t)p[i + 2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)p[i + 1] << 8;
        /* fall through */
    case 1:
        h ^= p[i];
        h *= m;
        break;
    default:
        break;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return (int32_t)h;
}

/* The partition Java's DefaultPartitioner/BuiltInPartitioner gives a keyed record. */
static int32_t java_partition(const void *key, size_t len, int32_t nparts)
{
    return (int32_t)(((uint32_t)java_murmur2(key, len) & 0x7fffffffU) % (uint32_t)nparts);
}

/* ---- cases ---- */

static void test_java_murmur2_vectors(void)
{
    /* From Kafka's clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java. */
    static const struct {
        const char *in;
        int32_t want;
    } v[] = {
        {"21", -973932308},
        {"foobar", -790332482},
        {"a-little-bit-long-string", -985981536},
        {"a-little-bit-longer-string", -1486304829},
        {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
        {"abc", 479470107},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        CHECK_INT(java_murmur2(v[i].in, strlen(v[i].in)), v[i].want);
}

static void test_records_as_rendered(void)
{
    setup();
    struct sink *sk = new_sink(NULL);
    struct recs want = {0}, got = {0};
    if (sk) {
        insert_rows(sk, 1, 20, &want);
        struct row a, b;
        row_set(&a, 3, "user 3");
        row_set(&b, 3, "renamed");
        struct event ev = change(EVENT_UPDATE, &a, &b, 300);
        write_ev(sk, &ev, &want);
        ev = change(EVENT_DELETE, &b, NULL, 301);
        write_ev(sk, &ev, &want);
        commit_ev(sk, 301);
        struct event hb = {.op = EVENT_HEARTBEAT};
        hb.source.connector = EVENT_MARIADB;
        hb.source.ts_us = 1700000000000000;
        write_ev(sk, &hb, &want);
        struct event ddl = change(EVENT_DDL, NULL, NULL, 400);
        ddl.table = users;
        ddl.ddl = "ALTER TABLE users ADD COLUMN age INT";
        ddl.ddl_db = "ecommerce_db";
        write_ev(sk, &ddl, &want);
        commit_ev(sk, 400);
        flush_ok(sk);
        CHECK(sk->ops->checkpoint(sk) == NULL);

        /* One topic per destination the records name. */
        const char *topics[8];
        size_t ntopics = 0;
        for (size_t i = 0; i < want.n; i++) {
            size_t j = 0;
            while (j < ntopics && strcmp(topics[j], want.v[i].topic) != 0)
                j++;
            if (j == ntopics && ntopics < 8)
                topics[ntopics++] = want.v[i].topic;
        }
        CHECK(ntopics >= 3); /* table, heartbeat, schema changes */
        for (size_t i = 0; i < ntopics; i++)
            consume(topics[i], "read_uncommitted", &got);
        check_same(&want, &got, __LINE__);

        size_t tombstones = 0;
        for (size_t i = 0; i < got.n; i++)
            if (got.v[i].value == NULL && strcmp(got.v[i].topic, TOPIC_USERS) == 0)
                tombstones++;
        CHECK_INT(tombstones, 1);
        sink_free(sk);
    }
    recs_free(&want);
    recs_free(&got);
    teardown();
}

static void test_partition_as_java(void)
{
    setup();
    /* An odd partition count, so that a wrong hash cannot agree by chance for long. */
    CHECK_INT(rd_kafka_mock_topic_create(mock, TOPIC_USERS, 7, 1), 0);
    struct sink *sk = new_sink(NULL);
    struct recs want = {0}, got = {0};
    if (sk) {
        insert_rows(sk, 1, 40, &want);
        flush_ok(sk);
        consume(TOPIC_USERS, "read_uncommitted", &got);
        CHECK_INT(got.n, 40);
        int used[7] = {0};
        for (size_t i = 0; i < got.n; i++) {
            int32_t p = java_partition(got.v[i].key, got.v[i].key_len, 7);
            if (got.v[i].partition != p)
                unit_fail(__FILE__, __LINE__, "key %.*s in partition %d, Java puts it in %d",
                          (int)got.v[i].key_len, got.v[i].key, got.v[i].partition, p);
            used[got.v[i].partition]++;
        }
        int nused = 0;
        for (int p = 0; p < 7; p++)
            nused += used[p] > 0;
        CHECK(nused > 1);
        sink_free(sk);
    }
    recs_free(&want);
    recs_free(&got);
    teardown();
}

static void test_config_errors(void)
{
    setup();
    struct sink *sk = NULL;
    struct error err;

    config_set(cfg, "sink.kafka.no.such.property", "1");
    CHECK(sink_kafka_new(cfg, rnd, NULL, &sk, &err) < 0);
    CHECK(strstr(err.msg, "sink.kafka.no.such.property") != NULL);
    CHECK(!err.retriable);
    config_free(cfg);

    cfg = config_new();
    config_set(cfg, "sink.kafka.bootstrap.servers", rd_kafka_mock_cluster_bootstraps(mock));
    config_set(cfg, "sink.kafka.compression.type", "zip");
    CHECK(sink_kafka_new(cfg, rnd, NULL, &sk, &err) < 0);
    CHECK(strstr(err.msg, "sink.kafka.compression.type") != NULL);

    /* Overriding a default is allowed, but librdkafka still refuses what breaks idempotence. */
    config_set(cfg, "sink.kafka.compression.type", "none");
    config_set(cfg, "sink.kafka.acks", "1");
    CHECK(sink_kafka_new(cfg, rnd, NULL, &sk, &err) < 0);
    CHECK(strstr(err.msg, "acks") != NULL);
    config_set(cfg, "sink.kafka.enable.idempotence", "false");
    CHECK(sink_kafka_new(cfg, rnd, NULL, &sk, &err) == 0);
    sink_free(sk);

    struct config *empty = config_new();
    CHECK(sink_kafka_new(empty, rnd, NULL, &sk, &err) < 0);
    CHECK(strstr(err.msg, "sink.kafka.bootstrap.servers") != NULL);
    config_free(empty);
    teardown();
}

static void test_missing_topic_without_creation(void)
{
    setup();
    config_set(cfg, "sink.kafka.allow.auto.create.topics", "false");
    /* The mock creates every topic it is asked about; this makes it deny this one. */
    rd_kafka_mock_topic_set_error(mock, TOPIC_USERS, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    struct sink *sk = new_sink(NULL);
    if (sk) {
        struct row r;
        row_set(&r, 1, "x");
        struct event ev = change(EVENT_CREATE, NULL, &r, 1);
        struct error err;
        CHECK(sk->ops->write(sk, &ev, &err) < 0);
        CHECK(strstr(err.msg, TOPIC_USERS) != NULL);
        CHECK(strstr(err.msg, "does not exist") != NULL);
        CHECK(!err.retriable);
        sink_free(sk);
    }
    teardown();
}

static void test_topic_creation_failure(void)
{
    setup();
    config_set(cfg, "topic.creation.default.partitions", "3");
    config_set(cfg, "topic.creation.default.replication.factor", "1");
    config_set(cfg, "sink.kafka.socket.timeout.ms", "1000");
    rd_kafka_mock_topic_set_error(mock, TOPIC_USERS, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    struct sink *sk = new_sink(NULL);
    if (sk) {
        struct row r;
        row_set(&r, 1, "x");
        struct event ev = change(EVENT_CREATE, NULL, &r, 1);
        struct error err;
        /* The mock has no CreateTopics: the request times out. */
        CHECK(sk->ops->write(sk, &ev, &err) < 0);
        CHECK(strstr(err.msg, "could not create topic \"" TOPIC_USERS "\"") != NULL);
        CHECK(strstr(err.msg, "3 partitions") != NULL);
        sink_free(sk);
    }
    teardown();
}

struct delayed {
    int ms;
    bool up; /* else: down */
};

static void *broker_later(void *arg)
{
    const struct delayed *d = arg;
    usleep((useconds_t)d->ms * 1000);
    if (d->up)
        rd_kafka_mock_broker_set_up(mock, 1);
    else
        rd_kafka_mock_broker_set_down(mock, 1);
    return NULL;
}

static void test_broker_down_and_back(void)
{
    setup();
    /* A small queue, so that writes also wait for the broker (backpressure). */
    config_set(cfg, "sink.kafka.queue.buffering.max.messages", "10");
    struct sink *sk = new_sink(NULL);
    struct recs want = {0}, got = {0};
    if (sk) {
        insert_rows(sk, 1, 10, &want);
        flush_ok(sk);
        rd_kafka_mock_broker_set_down(mock, 1);
        struct delayed d = {1500, true};
        pthread_t t;
        pthread_create(&t, NULL, broker_later, &d);
        insert_rows(sk, 11, 60, &want); /* blocks until the broker is back */
        flush_ok(sk);
        pthread_join(t, NULL);
        consume(TOPIC_USERS, "read_uncommitted", &got);
        check_same(&want, &got, __LINE__);
        sink_free(sk);
    }
    recs_free(&want);
    recs_free(&got);
    teardown();
}

static void test_timeout_is_retriable(void)
{
    setup();
    config_set(cfg, "sink.kafka.message.timeout.ms", "1000");
    struct sink *sk = new_sink(NULL);
    if (sk) {
        insert_rows(sk, 1, 1, NULL);
        flush_ok(sk);
        rd_kafka_mock_broker_set_down(mock, 1);
        insert_rows(sk, 2, 3, NULL);
        struct error err;
        CHECK(sk->ops->flush(sk, &err) < 0);
        CHECK(err.retriable);
        CHECK(strstr(err.msg, TOPIC_USERS) != NULL);
        /* The failure sticks until the pipeline rebuilds the sink. */
        CHECK(sk->ops->poll(sk, &err) < 0);
        sink_free(sk);
    }
    teardown();
}

static void test_refused_delivery_is_permanent(void)
{
    setup();
    struct sink *sk = new_sink(NULL);
    if (sk) {
        insert_rows(sk, 1, 1, NULL);
        flush_ok(sk);
        rd_kafka_mock_push_request_errors(mock, 0 /* Produce */, 1,
                                          RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
        insert_rows(sk, 2, 2, NULL);
        struct error err;
        CHECK(sk->ops->flush(sk, &err) < 0);
        CHECK(!err.retriable);
        CHECK(strstr(err.msg, TOPIC_USERS) != NULL);
        CHECK(strstr(err.msg, "uthoriz") != NULL);
        sink_free(sk);
    }
    teardown();
}

static void test_check(void)
{
    setup();
    struct sink *sk = new_sink(NULL);
    char *text = NULL;
    size_t len = 0;
    if (sk) {
        FILE *out = open_memstream(&text, &len);
        CHECK_INT(sk->ops->check(sk, out), 0);
        fclose(out);
        CHECK(strncmp(text, "ok kafka: 1 broker at ", 22) == 0);
        free(text);
        sink_free(sk);
    }
    config_set(cfg, "sink.kafka.bootstrap.servers", "127.0.0.1:1");
    sk = new_sink(NULL);
    if (sk) {
        FILE *out = open_memstream(&text, &len);
        CHECK_INT(sk->ops->check(sk, out), 1);
        fclose(out);
        CHECK(strncmp(text, "FAIL kafka: ", 12) == 0);
        CHECK(strstr(text, "127.0.0.1:1") != NULL);
        free(text);
        sink_free(sk);
    }
    teardown();
}

/* A crash with a transaction open: the restart must write its events again. librdkafka
 * 2.0.2's mock cluster writes no transaction markers, so even read_committed consumers see the
 * open transaction's records: the invisibility itself needs a real broker. */
static void test_transaction_crash_replayed(void)
{
    setup();
    config_set(cfg, "sink.kafka.transactional.id", "dbtail-test");
    struct sink *sk = new_sink(NULL);
    struct recs want = {0}, got = {0};
    if (sk) {
        insert_rows(sk, 1, 5, &want);
        flush_ok(sk);
        json_t *cp = sk->ops->checkpoint(sk);
        CHECK(json_integer_value(json_object_get(cp, "seq")) == 1);
        insert_rows(sk, 6, 9, &want); /* never committed */
        /* Killed only once the open transaction's records are on the broker. */
        for (int i = 0; i < 50; i++) {
            struct error err;
            struct recs on_broker = {0};
            CHECK(sk->ops->poll(sk, &err) == 0);
            consume(TOPIC_USERS, "read_uncommitted", &on_broker);
            size_t n = on_broker.n;
            recs_free(&on_broker);
            if (n == want.n)
                break;
            usleep(100000);
        }
        sink_free(sk);

        /* The restart replays 6..9 from the state file's position. */
        sk = new_sink(cp);
        json_decref(cp);
        if (sk) {
            insert_rows(sk, 6, 12, &want);
            flush_ok(sk);
            sink_free(sk);
        }
        consume(TOPIC_USERS, "read_uncommitted", &got);
        check_same(&want, &got, __LINE__);
    }
    recs_free(&want);
    recs_free(&got);
    teardown();
}

/* n records of another transactional.id on the marker partition. */
static void foreign_markers(int n)
{
    char why[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", rd_kafka_mock_cluster_bootstraps(mock), why,
                      sizeof why);
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    for (int i = 0; i < n; i++) {
        char v[96];
        snprintf(v, sizeof v, "{\"transactional.id\":\"other\",\"seq\":%d,\"order\":\"1\"}", i + 1);
        rd_kafka_producev(p, RD_KAFKA_V_TOPIC("dbtail-offsets"), RD_KAFKA_V_PARTITION(0),
                          RD_KAFKA_V_KEY("other", 5), RD_KAFKA_V_VALUE(v, strlen(v)),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    }
    CHECK_INT(rd_kafka_flush(p, 10000), 0);
    rd_kafka_destroy(p);
}

/* A crash after Kafka committed but before the state file was saved: the restart replays
 * from the older state, and the marker makes the sink drop what Kafka already holds. */
static void test_transaction_replay_dropped(void)
{
    setup();
    config_set(cfg, "sink.kafka.transactional.id", "dbtail-test");
    struct sink *sk = new_sink(NULL);
    struct recs want = {0}, got = {0};
    if (sk) {
        insert_rows(sk, 1, 5, &want);
        flush_ok(sk);
        json_t *cp = sk->ops->checkpoint(sk); /* saved with position 50 */
        insert_rows(sk, 6, 8, &want);
        flush_ok(sk); /* committed in Kafka; the state file never got it */
        sink_free(sk);
        /* Another dbtail's markers after ours: the reader must look further back. */
        foreign_markers(150);

        sk = new_sink(cp);
        json_decref(cp);
        if (sk) {
            insert_rows(sk, 6, 8, NULL); /* the replay */
            struct event hb = {.op = EVENT_HEARTBEAT};
            hb.source.connector = EVENT_MARIADB;
            write_ev(sk, &hb, &want); /* never a replay */
            insert_rows(sk, 9, 10, &want);
            flush_ok(sk);
            cp = sk->ops->checkpoint(sk);
            CHECK(json_integer_value(json_object_get(cp, "seq")) == 3);
            json_decref(cp);
            sink_free(sk);
        }
        consume(TOPIC_USERS, "read_committed", &got);
        const char *hb_topic = NULL;
        for (size_t i = 0; i < want.n; i++)
            if (strcmp(want.v[i].topic, TOPIC_USERS) != 0)
                hb_topic = want.v[i].topic;
        CHECK(hb_topic != NULL);
        if (hb_topic)
            consume(hb_topic, "read_committed", &got);
        check_same(&want, &got, __LINE__);
    }
    recs_free(&want);
    recs_free(&got);
    teardown();
}

/* If the marker's COMMIT never comes back (a position written differently after a restart),
 * the first event ordered after the marker's ends the dropping: nothing new is lost. */
static void test_transaction_replay_position_missed(void)
{
    setup();
    config_set(cfg, "sink.kafka.transactional.id", "dbtail-test");
    struct sink *sk = new_sink(NULL);
    struct recs want = {0}, got = {0};
    if (sk) {
        insert_rows(sk, 1, 5, &want);
        flush_ok(sk);
        json_t *cp = sk->ops->checkpoint(sk);
        insert_rows(sk, 6, 8, &want);
        flush_ok(sk);
        sink_free(sk);

        sk = new_sink(cp);
        json_decref(cp);
        if (sk) {
            for (int id = 6; id <= 10; id++) {
                struct row r;
                char name[32];
                snprintf(name, sizeof name, "user %d", id);
                row_set(&r, id, name);
                struct event ev = change(EVENT_CREATE, NULL, &r, (uint64_t)id * 10);
                write_ev(sk, &ev, id > 8 ? &want : NULL);
                commit_ev(sk, (uint64_t)id * 10 + 1); /* never the marker's position */
            }
            flush_ok(sk);
            sink_free(sk);
        }
        consume(TOPIC_USERS, "read_committed", &got);
        check_same(&want, &got, __LINE__);
    }
    recs_free(&want);
    recs_free(&got);
    teardown();
}

/* A restart with the state file in step with Kafka writes everything it is given. */
static void test_transaction_restart_in_step(void)
{
    setup();
    config_set(cfg, "sink.kafka.transactional.id", "dbtail-test");
    struct sink *sk = new_sink(NULL);
    struct recs want = {0}, got = {0};
    if (sk) {
        insert_rows(sk, 1, 3, &want);
        flush_ok(sk);
        json_t *cp = sk->ops->checkpoint(sk);
        sink_free(sk);
        sk = new_sink(cp);
        json_decref(cp);
        if (sk) {
            insert_rows(sk, 4, 6, &want);
            flush_ok(sk);
            sink_free(sk);
        }
        consume(TOPIC_USERS, "read_committed", &got);
        check_same(&want, &got, __LINE__);
    }
    recs_free(&want);
    recs_free(&got);
    teardown();
}

int main(int argc, char **argv)
{
    setenv("DBTAIL_FIXED_NOW_MS", "1700000000123", 1);
    log_setup(LOG_ERROR, false);
    static const struct unit_case cases[] = {
        {"java murmur2 vectors", test_java_murmur2_vectors},
        {"records as rendered", test_records_as_rendered},
        {"partition as java", test_partition_as_java},
        {"config errors", test_config_errors},
        {"missing topic without creation", test_missing_topic_without_creation},
        {"topic creation failure", test_topic_creation_failure},
        {"broker down and back", test_broker_down_and_back},
        {"timeout is retriable", test_timeout_is_retriable},
        {"refused delivery is permanent", test_refused_delivery_is_permanent},
        {"check", test_check},
        {"transaction crash replayed", test_transaction_crash_replayed},
        {"transaction replay dropped", test_transaction_replay_dropped},
        {"transaction replay position missed", test_transaction_replay_position_missed},
        {"transaction restart in step", test_transaction_restart_in_step},
        {NULL, NULL},
    };
    return unit_main("test_kafka", cases, argc, argv);
}
