/*
 * kafka: the Kafka sink (see sink.h). It produces render_event_tx's and render_commit's records,
 * the bytes the file sink writes, through librdkafka: one topic per table, the key the
 * primary-key JSON, hashed with murmur2 as the Java client does so that a key lands on the
 * partition Debezium's would.
 *
 * Durability is counted, never assumed: each produced message is matched by its delivery
 * report and flush() returns 0 only when all of them succeeded. Without a transactional.id
 * that is at-least-once: a crash replays what came after the last checkpoint. With one, each
 * checkpoint is one Kafka transaction that also carries a marker record (on
 * offsets.storage.topic) naming the source COMMIT it ends. A crash between the Kafka commit and
 * the state file's save leaves a marker newer than the state file; the restarted sink then drops
 * the replayed events up to that COMMIT, so read_committed consumers see each change once.
 *
 * librdkafka's callbacks (delivery reports, errors, logs) run only inside rd_kafka_poll() and
 * rd_kafka_flush(), on the pipeline's thread.
 */
#include "sink.h"

#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/buf.h"
#include "../src/log.h"
#include "../src/mem.h"
#include "../src/metrics.h"
#include "../src/txmeta.h"

#define KAFKA_PREFIX "sink.kafka."
/* How long check(), metadata look-ups and init_transactions() may wait for the cluster. */
#define CHECK_TIMEOUT_MS    5000
#define METADATA_TIMEOUT_MS 10000
#define INIT_TXN_TIMEOUT_MS 30000
/* A write that waited this long for room in the producer queue says so. */
#define SLOW_QUEUE_MS 1000
/* A flush waiting on an unreachable cluster says so this often. */
#define FLUSH_REPORT_MS      10000
#define MARKER_DEFAULT_TOPIC "dbtail-offsets"
#define MARKER_PARTITION     0

struct kafka_topic {
    char *name;            /* owned; NULL marks an empty slot */
    rd_kafka_topic_t *rkt; /* owned */
};

struct kafka_sink {
    struct sink base;
    const struct render *rd;
    struct txmeta *tx; /* owned: the open source transaction's metadata counters */
    rd_kafka_t *rk;
    char *bootstrap;

    /* Open-addressing table of the topics seen so far, by name. */
    struct kafka_topic *topics;
    size_t topics_cap; /* a power of two */
    size_t ntopics;

    /* Topic creation: through the Admin API when topic.creation.default.* are set, else by
     * the broker's auto-creation unless allow.auto.create.topics is false. */
    bool create_topics;
    int partitions;
    int replication;
    bool auto_create;
    int admin_timeout_ms; /* socket.timeout.ms */

    /* Delivery accounting: flush() succeeds only when acked == produced. */
    uint64_t produced;
    uint64_t acked;
    bool failed; /* sticky: the pipeline rebuilds the sink after a failure */
    struct error failure;

    /* Transactions (txn_id non-NULL). */
    char *txn_id;
    char *marker_topic;
    rd_kafka_conf_t *marker_conf; /* owned until the marker has been read */
    bool started;                 /* init_transactions() done and the marker read */
    bool txn_open;
    uint64_t seq;            /* of the newest marker in Kafka */
    uint64_t checkpoint_seq; /* seq as of the last successful flush */
    bool have_saved;
    uint64_t saved_seq;
    json_t *last_position; /* of the last COMMIT given to commit() */
    uint64_t order_hi;     /* highest event order written under a marker */
    /* Replay of what the newest marker already covers: dropped until the COMMIT at skip_to. */
    json_t *skip_to;
    uint64_t skip_order_hi;
    uint64_t skipped;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Errors after which a new producer, started again from the last checkpoint, may succeed. */
static bool kafka_err_retriable(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    case RD_KAFKA_RESP_ERR__INCONSISTENT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS:
    /* The idempotent producer gives these up as fatal; a new producer starts a new sequence. */
    case RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER:
    case RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID:
    case RD_KAFKA_RESP_ERR__GAPLESS_GUARANTEE:
        return true;
    default:
        return false;
    }
}

/* Records the first failure; every later call of the sink reports it until it is rebuilt. */
static void kafka_fail(struct kafka_sink *ks, bool retriable, const char *fmt, ...)
    DBT_PRINTF(3, 4);
static void kafka_fail(struct kafka_sink *ks, bool retriable, const char *fmt, ...)
{
    if (ks->failed)
        return;
    metrics_sink_failure("kafka");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ks->failure.msg, sizeof ks->failure.msg, fmt, ap);
    va_end(ap);
    ks->failure.retriable = retriable;
    ks->failed = true;
}

static int kafka_failed(const struct kafka_sink *ks, struct error *err)
{
    if (!ks->failed)
        return 0;
    *err = ks->failure;
    return -1;
}

static void kafka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct kafka_sink *ks = opaque;
    (void)rk;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ks->acked++;
        metrics_sink_load("kafka", m->key_len + m->len);
        return;
    }
    if (m->err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT)
        kafka_fail(ks, true,
                   "kafka: no broker of %s acknowledged a message to topic \"%s\" within "
                   "message.timeout.ms (%s)",
                   ks->bootstrap, rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
    else
        kafka_fail(ks, kafka_err_retriable(m->err),
                   "kafka: could not deliver a message to topic \"%s\" partition %" PRId32 ": %s",
                   rd_kafka_topic_name(m->rkt), m->partition, rd_kafka_err2str(m->err));
}

static bool kafka_fenced(rd_kafka_resp_err_t e)
{
    return e == RD_KAFKA_RESP_ERR__FENCED || e == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
           e == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH ||
           e == RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
}

static void kafka_error_cb(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
    struct kafka_sink *ks = opaque;
    if (code != RD_KAFKA_RESP_ERR__FATAL) {
        /* librdkafka retries on its own; these say why nothing moves meanwhile. A failed
         * connection is already in librdkafka's own log line. */
        if (code != RD_KAFKA_RESP_ERR__TRANSPORT)
            log_warn("kafka", "%s", reason);
        return;
    }
    char why[256];
    rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, why, sizeof why);
    if (kafka_fenced(orig))
        kafka_fail(ks, false,
                   "kafka: another producer with transactional.id \"%s\" took over (%s): is a "
                   "second dbtail running with the same sink.kafka.transactional.id?",
                   ks->txn_id ? ks->txn_id : "", why);
    else
        kafka_fail(ks, true, "kafka: the producer stopped on a fatal error: %s", why);
}

static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    /* syslog levels: 0-4 emergency to warning, 5 notice, 6 info, 7 debug. librdkafka
     * recovers from what it logs as errors (a refused connection); what it cannot recover
     * from reaches the sink through the callbacks and stops it. */
    enum log_level l = level <= 4 ? LOG_WARN : level <= 6 ? LOG_INFO : LOG_DEBUG;
    if (log_enabled(l))
        log_msg(l, "kafka", "%s: %s", fac, buf);
}

/* One rd_kafka_conf_set, its failure an error naming the dbtail key. */
static int kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *prop,
                          const char *value, struct error *err)
{
    char why[512];
    switch (rd_kafka_conf_set(conf, prop, value, why, sizeof why)) {
    case RD_KAFKA_CONF_OK:
        return 0;
    case RD_KAFKA_CONF_UNKNOWN:
        return error_set(err, "%s: librdkafka has no property \"%s\" (see its CONFIGURATION.md)",
                         key, prop);
    case RD_KAFKA_CONF_INVALID:
        break;
    }
    return error_set(err, "%s: %s", key, why);
}

struct kafka_conf_ctx {
    rd_kafka_conf_t *conf;
    struct error *err;
};

static int kafka_conf_each(void *ctx, const char *key, const char *value)
{
    struct kafka_conf_ctx *c = ctx;
    return kafka_conf_set(c->conf, key, key + strlen(KAFKA_PREFIX), value, c->err);
}

/* The marker reader gets the producer's settings (for security.protocol, sasl.*...):
 * librdkafka's warnings about the producer-only ones it ignores are noise. */
static void kafka_marker_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    if (strcmp(fac, "CONFWARN") != 0)
        kafka_log_cb(rk, level, fac, buf);
}

static rd_kafka_conf_t *kafka_marker_conf(const rd_kafka_conf_t *conf)
{
    /* Its logs have no queue of their own: they go straight to the callback. */
    static const char *const skip[] = {"log.queue"};
    rd_kafka_conf_t *c = rd_kafka_conf_dup_filter(conf, 1, (const char **)skip);
    char why[256];
    /* Aborted and still-open transactions must stay invisible to it. */
    rd_kafka_conf_set(c, "isolation.level", "read_committed", why, sizeof why);
    rd_kafka_conf_set(c, "enable.partition.eof", "true", why, sizeof why);
    rd_kafka_conf_set_log_cb(c, kafka_marker_log_cb);
    return c;
}

static int kafka_read_config(struct kafka_sink *ks, const struct config *cfg, rd_kafka_conf_t *conf,
                             struct error *err)
{
    const char *bootstrap;
    if (config_required(cfg, KAFKA_PREFIX "bootstrap.servers", &bootstrap, err) < 0)
        return -1;
    ks->bootstrap = mem_strdup(bootstrap);

    int64_t partitions, replication;
    const char *pkey = "topic.creation.default.partitions";
    const char *rkey = "topic.creation.default.replication.factor";
    if (config_int(cfg, pkey, -1, -1, INT32_MAX, &partitions, err) < 0 ||
        config_int(cfg, rkey, -1, -1, 32767, &replication, err) < 0)
        return -1;
    if (partitions == 0)
        return error_set(err, "%s: must be at least 1, or -1 for the broker's default", pkey);
    if (replication == 0)
        return error_set(err, "%s: must be at least 1, or -1 for the broker's default", rkey);
    ks->create_topics = config_get(cfg, pkey) != NULL || config_get(cfg, rkey) != NULL;
    ks->partitions = (int)partitions;
    ks->replication = (int)replication;

    /* The defaults Debezium's producer is usually given for CDC: no loss, no reordering on
     * retry, and keys placed as the Java client places them. The user's values win. The queue
     * is capped at 64 MiB instead of librdkafka's 1 GiB: a full queue only makes the reader
     * wait, and a larger one bought no throughput in bench/kafka.sh, only memory. */
    static const char *const defaults[][2] = {
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"compression.type", "lz4"},
        {"partitioner", "murmur2_random"},
        {"queue.buffering.max.kbytes", "65536"},
        {"client.id", "dbtail"},
        {"log.queue", "true"},
    };
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (kafka_conf_set(conf, "defaults", defaults[i][0], defaults[i][1], err) < 0)
            return -1;
    /* Topics dbtail creates itself must not appear first with the broker's defaults. */
    if (ks->create_topics &&
        kafka_conf_set(conf, "defaults", "allow.auto.create.topics", "false", err) < 0)
        return -1;

    struct kafka_conf_ctx ctx = {conf, err};
    if (config_each(cfg, KAFKA_PREFIX, kafka_conf_each, &ctx) < 0)
        return -1;

    char value[64];
    size_t len = sizeof value;
    ks->auto_create =
        rd_kafka_conf_get(conf, "allow.auto.create.topics", value, &len) != RD_KAFKA_CONF_OK ||
        strcmp(value, "true") == 0;
    len = sizeof value;
    ks->admin_timeout_ms = 60000;
    if (rd_kafka_conf_get(conf, "socket.timeout.ms", value, &len) == RD_KAFKA_CONF_OK)
        ks->admin_timeout_ms = atoi(value);

    const char *txn_id = config_get(cfg, KAFKA_PREFIX "transactional.id");
    if (txn_id && txn_id[0]) {
        ks->txn_id = mem_strdup(txn_id);
        ks->marker_topic =
            mem_strdup(config_str(cfg, "offsets.storage.topic", MARKER_DEFAULT_TOPIC));
        ks->marker_conf = kafka_marker_conf(conf);
    }
    return 0;
}

/* The checkpoint saved with the state file: which marker that state goes with. */
static void kafka_read_saved(struct kafka_sink *ks, const json_t *saved)
{
    if (!ks->txn_id || !json_is_object(saved))
        return;
    const char *id = json_string_value(json_object_get(saved, "transactional.id"));
    json_t *seq = json_object_get(saved, "seq");
    if (!id || strcmp(id, ks->txn_id) != 0 || !json_is_integer(seq) ||
        json_integer_value(seq) < 0) {
        log_warn("kafka",
                 "the state file's kafka checkpoint is not for transactional.id \"%s\": "
                 "ignoring it",
                 ks->txn_id);
        return;
    }
    ks->have_saved = true;
    ks->saved_seq = (uint64_t)json_integer_value(seq);
    ks->seq = ks->checkpoint_seq = ks->saved_seq;
}

/* ---- topics ---- */

static uint64_t kafka_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static struct kafka_topic *kafka_topic_slot(struct kafka_topic *tab, size_t cap, const char *name)
{
    size_t i = (size_t)kafka_hash(name) & (cap - 1);
    while (tab[i].name && strcmp(tab[i].name, name) != 0)
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

static void kafka_topics_grow(struct kafka_sink *ks)
{
    size_t cap = ks->topics_cap ? ks->topics_cap * 2 : 64;
    struct kafka_topic *tab = mem_calloc(cap, sizeof *tab);
    for (size_t i = 0; i < ks->topics_cap; i++)
        if (ks->topics[i].name)
            *kafka_topic_slot(tab, cap, ks->topics[i].name) = ks->topics[i];
    free(ks->topics);
    ks->topics = tab;
    ks->topics_cap = cap;
}

/* Whether the cluster knows the topic: 1 yes, 0 no, -1 with *err when it did not answer. */
static int kafka_topic_exists(struct kafka_sink *ks, rd_kafka_topic_t *rkt, struct error *err)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t e = rd_kafka_metadata(ks->rk, 0, rkt, &md, METADATA_TIMEOUT_MS);
    if (e)
        return error_retry(err, "kafka: could not read the metadata of topic \"%s\" from %s: %s",
                           rd_kafka_topic_name(rkt), ks->bootstrap, rd_kafka_err2str(e));
    int rc = 1;
    if (md->topic_cnt == 1) {
        e = md->topics[0].err;
        if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
            rc = 0;
        else if (e && e != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE)
            rc = kafka_err_retriable(e) ? error_retry(err, "kafka: metadata of topic \"%s\": %s",
                                                      rd_kafka_topic_name(rkt), rd_kafka_err2str(e))
                                        : error_set(err, "kafka: metadata of topic \"%s\": %s",
                                                    rd_kafka_topic_name(rkt), rd_kafka_err2str(e));
    }
    rd_kafka_metadata_destroy(md);
    return rc;
}

static int kafka_topic_create(struct kafka_sink *ks, const char *name, struct error *err)
{
    char why[512];
    rd_kafka_NewTopic_t *nt =
        rd_kafka_NewTopic_new(name, ks->partitions, ks->replication, why, sizeof why);
    if (nt == NULL)
        return error_set(err, "kafka: cannot create topic \"%s\": %s", name, why);
    rd_kafka_AdminOptions_t *opts =
        rd_kafka_AdminOptions_new(ks->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(opts, ks->admin_timeout_ms, why, sizeof why);
    rd_kafka_AdminOptions_set_operation_timeout(opts, ks->admin_timeout_ms, why, sizeof why);
    rd_kafka_queue_t *q = rd_kafka_queue_new(ks->rk);
    rd_kafka_CreateTopics(ks->rk, &nt, 1, opts, q);
    /* The request times out on its own; the margin only guards against a lost reply. */
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, ks->admin_timeout_ms * 2 + 1000);

    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
    const char *msg = rd_kafka_err2str(e);
    if (ev) {
        e = rd_kafka_event_error(ev);
        msg = rd_kafka_event_error_string(ev);
        const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
        size_t n = 0;
        const rd_kafka_topic_result_t **tr =
            res ? rd_kafka_CreateTopics_result_topics(res, &n) : NULL;
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR && n == 1) {
            e = rd_kafka_topic_result_error(tr[0]);
            msg = rd_kafka_topic_result_error_string(tr[0]);
            if (msg == NULL)
                msg = rd_kafka_err2str(e);
        }
    }
    int rc = 0;
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_info("kafka", "created topic \"%s\" (%d partitions, replication factor %d)", name,
                 ks->partitions, ks->replication);
    } else if (e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        char text[ERROR_MSG_MAX];
        snprintf(text, sizeof text,
                 "kafka: could not create topic \"%s\" (%d partitions, replication factor %d) "
                 "on %s within %d ms: %s; create it yourself or allow dbtail's principal to "
                 "create topics",
                 name, ks->partitions, ks->replication, ks->bootstrap, ks->admin_timeout_ms, msg);
        rc = kafka_err_retriable(e) ? error_retry(err, "%s", text) : error_set(err, "%s", text);
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

/* Makes sure the topic exists the way the configuration says it should come to exist. */
static int kafka_topic_prepare(struct kafka_sink *ks, rd_kafka_topic_t *rkt, struct error *err)
{
    if (!ks->create_topics && ks->auto_create)
        return 0; /* the broker creates it at the first metadata request */
    int rc = kafka_topic_exists(ks, rkt, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (ks->create_topics)
        return kafka_topic_create(ks, rd_kafka_topic_name(rkt), err);
    return error_set(err,
                     "kafka: topic \"%s\" does not exist on %s and topic creation is off: create "
                     "it, set topic.creation.default.partitions and "
                     "topic.creation.default.replication.factor, or set "
                     "sink.kafka.allow.auto.create.topics=true",
                     rd_kafka_topic_name(rkt), ks->bootstrap);
}

static int kafka_topic_get(struct kafka_sink *ks, const char *name, rd_kafka_topic_t **out,
                           struct error *err)
{
    if (ks->topics_cap) {
        struct kafka_topic *t = kafka_topic_slot(ks->topics, ks->topics_cap, name);
        if (t->name) {
            *out = t->rkt;
            return 0;
        }
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(ks->rk, name, NULL);
    if (rkt == NULL)
        return error_set(err, "kafka: topic \"%s\": %s", name,
                         rd_kafka_err2str(rd_kafka_last_error()));
    if (kafka_topic_prepare(ks, rkt, err) < 0) {
        rd_kafka_topic_destroy(rkt);
        return -1;
    }
    if ((ks->ntopics + 1) * 2 > ks->topics_cap)
        kafka_topics_grow(ks);
    struct kafka_topic *t = kafka_topic_slot(ks->topics, ks->topics_cap, name);
    t->name = mem_strdup(name);
    t->rkt = rkt;
    ks->ntopics++;
    *out = rkt;
    return 0;
}

/* ---- producing ---- */

/* Produces one message (copied), waiting while librdkafka's queue is full: the reader then
 * waits too, and memory stays within queue.buffering.max.messages/kbytes. */
static int kafka_produce(struct kafka_sink *ks, rd_kafka_topic_t *rkt, int32_t partition,
                         const char *key, size_t key_len, const char *value, size_t value_len,
                         const struct render_record *hdrs, struct error *err)
{
    rd_kafka_headers_t *headers = NULL;
    if (hdrs && hdrs->nheaders) {
        headers = rd_kafka_headers_new(hdrs->nheaders);
        for (size_t i = 0; i < hdrs->nheaders; i++)
            rd_kafka_header_add(headers, hdrs->header_names[i], -1, hdrs->header_values[i],
                                hdrs->header_values[i] ? -1 : 0);
    }
    rd_kafka_vu_t vu[6];
    size_t n = 0;
    vu[n].vtype = RD_KAFKA_VTYPE_RKT;
    vu[n++].u.rkt = rkt;
    vu[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vu[n++].u.i = RD_KAFKA_MSG_F_COPY;
    vu[n].vtype = RD_KAFKA_VTYPE_PARTITION;
    vu[n++].u.i32 = partition;
    vu[n].vtype = RD_KAFKA_VTYPE_KEY;
    vu[n].u.mem.ptr = (void *)key;
    vu[n++].u.mem.size = key ? key_len : 0;
    vu[n].vtype = RD_KAFKA_VTYPE_VALUE;
    vu[n].u.mem.ptr = (void *)value;
    vu[n++].u.mem.size = value ? value_len : 0;
    if (headers) {
        vu[n].vtype = RD_KAFKA_VTYPE_HEADERS;
        vu[n++].u.headers = headers;
    }

    int64_t waiting_since = -1;
    for (;;) {
        rd_kafka_error_t *e = rd_kafka_produceva(ks->rk, vu, n);
        if (e == NULL) {
            ks->produced++;
            /* A full queue is routine during a large transaction; only a long wait is news. */
            if (waiting_since >= 0 && now_ms() - waiting_since >= SLOW_QUEUE_MS)
                log_info("kafka", "the producer queue had no room for %" PRId64 " ms",
                         now_ms() - waiting_since);
            return 0;
        }
        rd_kafka_resp_err_t code = rd_kafka_error_code(e);
        if (code != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            int rc = kafka_err_retriable(code) || rd_kafka_error_is_retriable(e)
                         ? error_retry(err, "kafka: could not produce to topic \"%s\": %s",
                                       rd_kafka_topic_name(rkt), rd_kafka_error_string(e))
                         : error_set(err, "kafka: could not produce to topic \"%s\": %s",
                                     rd_kafka_topic_name(rkt), rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            if (headers)
                rd_kafka_headers_destroy(headers);
            return rc;
        }
        rd_kafka_error_destroy(e);
        if (waiting_since < 0)
            waiting_since = now_ms();
        /* Delivery reports free room, and a timed-out message ends the wait as a failure. */
        rd_kafka_poll(ks->rk, 100);
        if (kafka_failed(ks, err) < 0) {
            if (headers)
                rd_kafka_headers_destroy(headers);
            return -1;
        }
    }
}

static int kafka_emit(void *ctx, const struct render_record *rec, struct error *err)
{
    struct kafka_sink *ks = ctx;
    rd_kafka_topic_t *rkt;
    if (kafka_topic_get(ks, rec->topic, &rkt, err) < 0)
        return -1;
    return kafka_produce(ks, rkt, RD_KAFKA_PARTITION_UA, rec->key, rec->key_len, rec->value,
                         rec->value_len, rec, err);
}

/* ---- transactions and the marker ---- */

static int kafka_txn_error(struct kafka_sink *ks, const char *what, rd_kafka_error_t *e,
                           struct error *err)
{
    rd_kafka_resp_err_t code = rd_kafka_error_code(e);
    int rc;
    if (kafka_fenced(code))
        rc = error_set(err,
                       "kafka: %s: another producer with transactional.id \"%s\" took over (%s): "
                       "is a second dbtail running with the same sink.kafka.transactional.id?",
                       what, ks->txn_id, rd_kafka_error_string(e));
    else if (rd_kafka_error_is_fatal(e) && !kafka_err_retriable(code))
        rc = error_set(err, "kafka: %s (transactional.id \"%s\"): %s", what, ks->txn_id,
                       rd_kafka_error_string(e));
    else
        rc = error_retry(err, "kafka: %s (transactional.id \"%s\") on %s: %s", what, ks->txn_id,
                         ks->bootstrap, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    kafka_fail(ks, err->retriable, "%s", err->msg);
    return rc;
}

/* Parses a marker record; 0 when it is one of ours, -1 otherwise. */
static int kafka_marker_parse(struct kafka_sink *ks, const rd_kafka_message_t *m, uint64_t *seq,
                              json_t **position, uint64_t *order)
{
    if (m->key_len != strlen(ks->txn_id) || memcmp(m->key, ks->txn_id, m->key_len) != 0 ||
        m->payload == NULL)
        return -1;
    json_t *v = json_loadb(m->payload, m->len, 0, NULL);
    json_t *s = json_object_get(v, "seq");
    const char *o = json_string_value(json_object_get(v, "order"));
    if (!json_is_integer(s) || json_integer_value(s) < 0 || o == NULL) {
        json_decref(v);
        return -1;
    }
    *seq = (uint64_t)json_integer_value(s);
    *order = strtoull(o, NULL, 10);
    json_t *p = json_object_get(v, "position");
    *position = json_is_null(p) ? NULL : json_incref(p);
    json_decref(v);
    return 0;
}

/* Reads the newest committed marker of this transactional.id; *seq stays 0 when none. */
static int kafka_marker_read(struct kafka_sink *ks, uint64_t *seq, json_t **position,
                             uint64_t *order, struct error *err)
{
    char why[512];
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, ks->marker_conf, why, sizeof why);
    if (c == NULL)
        return error_set(err, "kafka: cannot create the consumer that reads %s: %s",
                         ks->marker_topic, why);
    ks->marker_conf = NULL;

    int rc = -1;
    rd_kafka_topic_t *rkt = NULL;
    int64_t lo, hi;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(c, ks->marker_topic, MARKER_PARTITION,
                                                             &lo, &hi, METADATA_TIMEOUT_MS);
    if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || (e == 0 && hi <= lo)) {
        rc = 0;
        goto out;
    }
    if (e) {
        error_retry(err, "kafka: could not read the offsets of topic \"%s\" on %s: %s",
                    ks->marker_topic, ks->bootstrap, rd_kafka_err2str(e));
        goto out;
    }
    /* Markers of other transactional.ids and aborted ones share the partition: read back from
     * the end in growing windows until one of ours turns up. */
    rkt = rd_kafka_topic_new(c, ks->marker_topic, NULL);
    int64_t end = hi, window = 64;
    int64_t deadline = now_ms() + INIT_TXN_TIMEOUT_MS;
    while (end > lo) {
        int64_t start = end - window > lo ? end - window : lo;
        if (rd_kafka_consume_start(rkt, MARKER_PARTITION, start) < 0) {
            error_retry(err, "kafka: could not read topic \"%s\": %s", ks->marker_topic,
                        rd_kafka_err2str(rd_kafka_last_error()));
            goto out;
        }
        bool found = false, done = false;
        while (!done) {
            if (now_ms() > deadline) {
                error_retry(err, "kafka: timed out reading topic \"%s\" partition %d on %s",
                            ks->marker_topic, MARKER_PARTITION, ks->bootstrap);
                rd_kafka_consume_stop(rkt, MARKER_PARTITION);
                goto out;
            }
            rd_kafka_message_t *m = rd_kafka_consume(rkt, MARKER_PARTITION, 500);
            if (m == NULL)
                continue;
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                done = true;
            } else if (m->err) {
                error_retry(err, "kafka: reading topic \"%s\": %s", ks->marker_topic,
                            rd_kafka_message_errstr(m));
                rd_kafka_message_destroy(m);
                rd_kafka_consume_stop(rkt, MARKER_PARTITION);
                goto out;
            } else if (m->offset >= end) {
                done = true;
            } else {
                uint64_t s, o;
                json_t *p;
                if (kafka_marker_parse(ks, m, &s, &p, &o) == 0) {
                    json_decref(*position);
                    *seq = s;
                    *position = p;
                    *order = o;
                    found = true;
                }
            }
            rd_kafka_message_destroy(m);
        }
        rd_kafka_consume_stop(rkt, MARKER_PARTITION);
        if (found)
            break;
        end = start;
        window *= 4;
    }
    rc = 0;
out:
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(c);
    return rc;
}

/* Before the first event of a transactional sink: fence any older producer with this id
 * (aborting what it left open), then find out what Kafka already holds. */
static int kafka_start(struct kafka_sink *ks, struct error *err)
{
    if (ks->started || ks->txn_id == NULL)
        return 0;
    rd_kafka_error_t *e = rd_kafka_init_transactions(ks->rk, INIT_TXN_TIMEOUT_MS);
    if (e)
        return kafka_txn_error(ks, "initializing transactions", e, err);

    uint64_t seq = 0, order = 0;
    json_t *position = NULL;
    if (kafka_marker_read(ks, &seq, &position, &order, err) < 0)
        return -1;
    if (ks->have_saved && seq > ks->saved_seq && position) {
        /* Kafka committed a transaction whose checkpoint the state file did not get. */
        ks->skip_to = json_incref(position);
        ks->skip_order_hi = order;
        log_info("kafka",
                 "topic %s holds a transaction newer than the state file: events already in "
                 "Kafka will not be written again",
                 ks->marker_topic);
    } else if (ks->have_saved && seq < ks->saved_seq) {
        log_warn("kafka",
                 "topic %s has no marker as recent as the state file's (seq %" PRIu64 " < %" PRIu64
                 "): was it deleted?",
                 ks->marker_topic, seq, ks->saved_seq);
    }
    if (seq > ks->seq)
        ks->seq = seq;
    ks->order_hi = order;
    json_decref(position);
    ks->started = true;
    return 0;
}

static int kafka_txn_commit(struct kafka_sink *ks, struct error *err)
{
    rd_kafka_topic_t *rkt;
    if (kafka_topic_get(ks, ks->marker_topic, &rkt, err) < 0)
        return -1;
    struct buf v;
    buf_init(&v);
    buf_puts(&v, "{\"transactional.id\":");
    buf_json_str(&v, ks->txn_id, strlen(ks->txn_id));
    buf_printf(&v, ",\"seq\":%" PRIu64 ",\"order\":\"%" PRIu64 "\",\"position\":", ks->seq + 1,
               ks->order_hi);
    char *pos = ks->last_position ? json_dumps(ks->last_position, JSON_COMPACT) : NULL;
    buf_puts(&v, pos ? pos : "null");
    free(pos);
    buf_putc(&v, '}');
    int rc = kafka_produce(ks, rkt, MARKER_PARTITION, ks->txn_id, strlen(ks->txn_id), v.data, v.len,
                           NULL, err);
    buf_free(&v);
    if (rc < 0)
        return -1;

    rd_kafka_error_t *e = rd_kafka_commit_transaction(ks->rk, -1);
    if (e) {
        if (rd_kafka_error_txn_requires_abort(e)) {
            /* Best effort: the next producer's init_transactions() aborts it anyway. */
            rd_kafka_error_t *ae = rd_kafka_abort_transaction(ks->rk, -1);
            if (ae)
                rd_kafka_error_destroy(ae);
            ks->txn_open = false;
        }
        if (kafka_failed(ks, err) < 0) {
            rd_kafka_error_destroy(e);
            return -1;
        }
        return kafka_txn_error(ks, "committing the transaction", e, err);
    }
    ks->txn_open = false;
    ks->seq++;
    return 0;
}

/* ---- sink operations ---- */

static int kafka_write(struct sink *sk, const struct event *ev, struct error *err)
{
    struct kafka_sink *ks = (struct kafka_sink *)sk;
    if (kafka_failed(ks, err) < 0 || kafka_start(ks, err) < 0)
        return -1;
    /* Heartbeats are never replayed, so they are never dropped. An event ordered after
     * everything the marker covers means its COMMIT was missed: better a duplicate than a
     * loss, so writing resumes there. */
    if (ks->skip_to && ev->op != EVENT_HEARTBEAT) {
        if (ev->order <= ks->skip_order_hi) {
            ks->skipped++;
            return 0;
        }
        log_warn("kafka", "an event past the newest marker arrived before its COMMIT: "
                          "writing from here on");
        json_decref(ks->skip_to);
        ks->skip_to = NULL;
    }
    if (ks->txn_id && !ks->txn_open) {
        rd_kafka_error_t *e = rd_kafka_begin_transaction(ks->rk);
        if (e)
            return kafka_txn_error(ks, "beginning a transaction", e, err);
        ks->txn_open = true;
    }
    if (ev->op != EVENT_HEARTBEAT && ev->order > ks->order_hi)
        ks->order_hi = ev->order;
    return render_event_tx(ks->rd, ev, ks->tx, kafka_emit, ks, err);
}

static int kafka_commit(struct sink *sk, const struct event *ev, struct error *err)
{
    struct kafka_sink *ks = (struct kafka_sink *)sk;
    if (kafka_failed(ks, err) < 0)
        return -1;
    /* The END record joins its transaction's events, in the Kafka transaction write() opened
     * for them: the pipeline flushes only after this. Replayed events dropped above opened no
     * source transaction, so they get no END either. */
    if (render_commit(ks->rd, ev, ks->tx, kafka_emit, ks, err) < 0)
        return -1;
    if (ks->txn_id == NULL)
        return 0;
    if (kafka_start(ks, err) < 0)
        return -1;
    if (ev->position) {
        json_decref(ks->last_position);
        ks->last_position = json_incref(ev->position);
    }
    if (ks->skip_to && ev->position && json_equal(ev->position, ks->skip_to)) {
        log_info("kafka", "dropped %" PRIu64 " replayed events Kafka already had", ks->skipped);
        json_decref(ks->skip_to);
        ks->skip_to = NULL;
    }
    return 0;
}

static int kafka_poll(struct sink *sk, struct error *err)
{
    struct kafka_sink *ks = (struct kafka_sink *)sk;
    rd_kafka_poll(ks->rk, 0);
    return kafka_failed(ks, err);
}

static int kafka_flush(struct sink *sk, struct error *err)
{
    struct kafka_sink *ks = (struct kafka_sink *)sk;
    if (kafka_failed(ks, err) < 0)
        return -1;
    if (ks->txn_open) {
        /* The pipeline flushes only between source transactions (pipeline.c), so the marker's
         * COMMIT position covers every event of the Kafka transaction. */
        if (kafka_txn_commit(ks, err) < 0)
            return -1;
    } else {
        int64_t start = now_ms(), reported = start;
        while (rd_kafka_outq_len(ks->rk) > 0 && !ks->failed) {
            rd_kafka_flush(ks->rk, 1000);
            if (now_ms() - reported >= FLUSH_REPORT_MS) {
                reported = now_ms();
                log_warn("kafka", "still waiting after %" PRId64 " s for %d messages to reach %s",
                         (reported - start) / 1000, rd_kafka_outq_len(ks->rk), ks->bootstrap);
            }
        }
    }
    if (kafka_failed(ks, err) < 0)
        return -1;
    if (ks->acked != ks->produced)
        return error_retry(err,
                           "kafka: %" PRIu64 " of %" PRIu64 " messages have no delivery "
                           "report after a flush",
                           ks->produced - ks->acked, ks->produced);
    ks->checkpoint_seq = ks->seq;
    return 0;
}

static json_t *kafka_checkpoint(struct sink *sk)
{
    struct kafka_sink *ks = (struct kafka_sink *)sk;
    if (ks->txn_id == NULL)
        return NULL;
    return json_pack("{s:s, s:I}", "transactional.id", ks->txn_id, "seq",
                     (json_int_t)ks->checkpoint_seq);
}

static int kafka_check(struct sink *sk, FILE *out)
{
    struct kafka_sink *ks = (struct kafka_sink *)sk;
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t e = rd_kafka_metadata(ks->rk, 0, NULL, &md, CHECK_TIMEOUT_MS);
    if (e) {
        fprintf(out,
                "FAIL kafka: no metadata from %s within %d s (%s): check "
                "sink.kafka.bootstrap.servers and that the brokers are reachable\n",
                ks->bootstrap, CHECK_TIMEOUT_MS / 1000, rd_kafka_err2str(e));
        return 1;
    }
    fprintf(out, "ok kafka: %d broker%s at %s%s\n", md->broker_cnt, md->broker_cnt == 1 ? "" : "s",
            ks->bootstrap, ks->txn_id ? " (transactional)" : "");
    rd_kafka_metadata_destroy(md);
    return 0;
}

static void kafka_free(struct sink *sk)
{
    struct kafka_sink *ks = (struct kafka_sink *)sk;
    for (size_t i = 0; i < ks->topics_cap; i++) {
        if (ks->topics[i].name) {
            rd_kafka_topic_destroy(ks->topics[i].rkt);
            free(ks->topics[i].name);
        }
    }
    free(ks->topics);
    if (ks->rk) {
        /* What was not flushed is not in the state file either: it will be produced again. */
        rd_kafka_purge(ks->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_destroy(ks->rk);
    }
    if (ks->marker_conf)
        rd_kafka_conf_destroy(ks->marker_conf);
    json_decref(ks->last_position);
    json_decref(ks->skip_to);
    txmeta_free(ks->tx);
    free(ks->bootstrap);
    free(ks->txn_id);
    free(ks->marker_topic);
    free(ks);
}

static const struct sink_ops kafka_ops = {
    .name = "kafka",
    .write = kafka_write,
    .commit = kafka_commit,
    .poll = kafka_poll,
    .flush = kafka_flush,
    .checkpoint = kafka_checkpoint,
    .check = kafka_check,
    .free = kafka_free,
};

int sink_kafka_new(const struct config *cfg, const struct render *rd, const json_t *saved,
                   struct sink **out, struct error *err)
{
    struct kafka_sink *ks = mem_calloc(1, sizeof *ks);
    ks->base.ops = &kafka_ops;
    ks->rd = rd;
    ks->tx = txmeta_new();

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (kafka_read_config(ks, cfg, conf, err) < 0) {
        rd_kafka_conf_destroy(conf);
        kafka_free(&ks->base);
        return -1;
    }
    rd_kafka_conf_set_opaque(conf, ks);
    rd_kafka_conf_set_dr_msg_cb(conf, kafka_dr_cb);
    rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
    rd_kafka_conf_set_log_cb(conf, kafka_log_cb);

    char why[512];
    ks->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (ks->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        kafka_free(&ks->base);
        return error_set(err, "sink.kafka: %s", why);
    }
    /* Logs then arrive through rd_kafka_poll() on this thread, like every other callback. */
    rd_kafka_set_log_queue(ks->rk, NULL);
    kafka_read_saved(ks, saved);
    *out = &ks->base;
    return 0;
}
