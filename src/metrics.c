/* metrics: series per connector, the Prometheus text exposition, the /metrics server (see
 * metrics.h). */
#include "metrics.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpd.h"
#include "mem.h"

/* A labelled series group: the label values and up to four numbers. */
struct row {
    char *a;
    char *b; /* NULL when the family has one label besides connector */
    int64_t v[4];
};

/* Rows in insertion order with an open-addressing index over (a, b). */
struct rowmap {
    struct row *rows;
    size_t n, cap;
    size_t *slots; /* row index + 1; 0 = empty */
    size_t nslots;
};

enum { SNAP_ROWS, SNAP_EXPECTED };
enum { SINK_LOADS, SINK_BYTES, SINK_RETRIES, SINK_FAILURES };

struct metrics_conn {
    char *name;
    pthread_mutex_t mu;
    struct rowmap events;   /* table, op: v[0] events */
    struct rowmap snapshot; /* table: v[SNAP_ROWS], v[SNAP_EXPECTED] (-1 unknown) */
    struct rowmap sinks;    /* sink: v[SINK_*] */
    bool has_lag;
    int64_t lag_ms;
    double last_event_s;              /* 0 until the first event */
    atomic_int_least64_t queue_depth; /* set for every event: kept off the mutex */
    uint64_t checkpoints;
    double last_checkpoint_s;
    const char *state;
    struct metrics_conn *next;
};

struct metrics {
    pthread_mutex_t mu;
    struct metrics_conn *head;
};

static _Thread_local struct metrics_conn *current;

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- rowmap ------------------------------------------------------------------------------ */

static uint64_t hash_pair(const char *a, const char *b)
{
    uint64_t h = 1469598103934665603u;
    for (const unsigned char *p = (const unsigned char *)a; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    h = (h ^ 0xff) * 1099511628211u;
    if (b)
        for (const unsigned char *p = (const unsigned char *)b; *p; p++)
            h = (h ^ *p) * 1099511628211u;
    return h;
}

static bool row_is(const struct row *r, const char *a, const char *b)
{
    if (strcmp(r->a, a) != 0)
        return false;
    if (b == NULL || r->b == NULL)
        return b == r->b;
    return strcmp(r->b, b) == 0;
}

static void rowmap_reindex(struct rowmap *m)
{
    free(m->slots);
    m->nslots = m->nslots ? m->nslots * 2 : 16;
    m->slots = mem_calloc(m->nslots, sizeof *m->slots);
    for (size_t i = 0; i < m->n; i++) {
        size_t s = (size_t)hash_pair(m->rows[i].a, m->rows[i].b) & (m->nslots - 1);
        while (m->slots[s])
            s = (s + 1) & (m->nslots - 1);
        m->slots[s] = i + 1;
    }
}

/* The row of (a, b); a new one starts with v[1] = fill and its other numbers at 0. */
static struct row *rowmap_get(struct rowmap *m, const char *a, const char *b, int64_t fill)
{
    if (m->nslots) {
        size_t s = (size_t)hash_pair(a, b) & (m->nslots - 1);
        while (m->slots[s]) {
            struct row *r = &m->rows[m->slots[s] - 1];
            if (row_is(r, a, b))
                return r;
            s = (s + 1) & (m->nslots - 1);
        }
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->rows = mem_realloc(m->rows, m->cap * sizeof *m->rows);
    }
    struct row *r = &m->rows[m->n++];
    r->a = mem_strdup(a);
    r->b = b ? mem_strdup(b) : NULL;
    r->v[0] = r->v[2] = r->v[3] = 0;
    r->v[1] = fill;
    /* Keep the index at most half full. */
    if (m->n * 2 > m->nslots) {
        rowmap_reindex(m);
    } else {
        size_t s = (size_t)hash_pair(a, b) & (m->nslots - 1);
        while (m->slots[s])
            s = (s + 1) & (m->nslots - 1);
        m->slots[s] = m->n;
    }
    return r;
}

static struct row *rowmap_find(const struct rowmap *m, const char *a, const char *b)
{
    if (m->nslots == 0)
        return NULL;
    size_t s = (size_t)hash_pair(a, b) & (m->nslots - 1);
    while (m->slots[s]) {
        struct row *r = &m->rows[m->slots[s] - 1];
        if (row_is(r, a, b))
            return r;
        s = (s + 1) & (m->nslots - 1);
    }
    return NULL;
}

static void rowmap_free(struct rowmap *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->rows[i].a);
        free(m->rows[i].b);
    }
    free(m->rows);
    free(m->slots);
}

/* ---- registry ---------------------------------------------------------------------------- */

struct metrics *metrics_new(void)
{
    struct metrics *m = mem_calloc(1, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
    return m;
}

static void conn_free(struct metrics_conn *mc)
{
    rowmap_free(&mc->events);
    rowmap_free(&mc->snapshot);
    rowmap_free(&mc->sinks);
    pthread_mutex_destroy(&mc->mu);
    free(mc->name);
    free(mc);
}

void metrics_free(struct metrics *m)
{
    if (m == NULL)
        return;
    for (struct metrics_conn *mc = m->head, *next; mc; mc = next) {
        next = mc->next;
        conn_free(mc);
    }
    pthread_mutex_destroy(&m->mu);
    free(m);
}

struct metrics_conn *metrics_connector(struct metrics *m, const char *name)
{
    pthread_mutex_lock(&m->mu);
    struct metrics_conn **tail = &m->head;
    for (struct metrics_conn *mc = m->head; mc; mc = mc->next) {
        if (strcmp(mc->name, name) == 0) {
            pthread_mutex_unlock(&m->mu);
            return mc;
        }
        tail = &mc->next;
    }
    struct metrics_conn *mc = mem_calloc(1, sizeof *mc);
    mc->name = mem_strdup(name);
    mc->state = "UNASSIGNED";
    pthread_mutex_init(&mc->mu, NULL);
    *tail = mc;
    pthread_mutex_unlock(&m->mu);
    return mc;
}

void metrics_drop(struct metrics *m, const char *name)
{
    pthread_mutex_lock(&m->mu);
    for (struct metrics_conn **pp = &m->head; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->name, name) == 0) {
            struct metrics_conn *mc = *pp;
            *pp = mc->next;
            conn_free(mc);
            break;
        }
    }
    pthread_mutex_unlock(&m->mu);
}

void metrics_bind(struct metrics_conn *mc)
{
    current = mc;
}

struct metrics_conn *metrics_current(void)
{
    return current;
}

/* ---- updates ----------------------------------------------------------------------------- */

static void note_source_time(struct metrics_conn *mc, int64_t source_ts_us, double now)
{
    if (source_ts_us <= 0)
        return;
    int64_t lag = (int64_t)(now * 1000.0) - source_ts_us / 1000;
    mc->lag_ms = lag > 0 ? lag : 0;
    mc->has_lag = true;
}

void metrics_events(struct metrics_conn *mc, const char *table, const char *op, int64_t n,
                    int64_t source_ts_us)
{
    if (mc == NULL)
        return;
    double now = wall_seconds();
    pthread_mutex_lock(&mc->mu);
    rowmap_get(&mc->events, table, op, 0)->v[0] += n;
    mc->last_event_s = now;
    note_source_time(mc, source_ts_us, now);
    pthread_mutex_unlock(&mc->mu);
}

void metrics_heartbeat(struct metrics_conn *mc, int64_t source_ts_us)
{
    if (mc == NULL)
        return;
    double now = wall_seconds();
    pthread_mutex_lock(&mc->mu);
    note_source_time(mc, source_ts_us, now);
    pthread_mutex_unlock(&mc->mu);
}

void metrics_snapshot_rows(struct metrics_conn *mc, const char *table, int64_t n)
{
    if (mc == NULL)
        return;
    pthread_mutex_lock(&mc->mu);
    rowmap_get(&mc->snapshot, table, NULL, -1)->v[SNAP_ROWS] += n;
    pthread_mutex_unlock(&mc->mu);
}

void metrics_snapshot_expected(struct metrics_conn *mc, const char *table, int64_t rows)
{
    if (mc == NULL)
        return;
    pthread_mutex_lock(&mc->mu);
    rowmap_get(&mc->snapshot, table, NULL, -1)->v[SNAP_EXPECTED] = rows < 0 ? -1 : rows;
    pthread_mutex_unlock(&mc->mu);
}

int64_t metrics_snapshot_expected_get(struct metrics_conn *mc, const char *table)
{
    if (mc == NULL)
        return -1;
    pthread_mutex_lock(&mc->mu);
    const struct row *r = rowmap_find(&mc->snapshot, table, NULL);
    int64_t v = r ? r->v[SNAP_EXPECTED] : -1;
    pthread_mutex_unlock(&mc->mu);
    return v;
}

void metrics_queue_depth(struct metrics_conn *mc, int64_t events)
{
    if (mc == NULL)
        return;
    atomic_store_explicit(&mc->queue_depth, events, memory_order_relaxed);
}

void metrics_checkpoint(struct metrics_conn *mc)
{
    if (mc == NULL)
        return;
    double now = wall_seconds();
    pthread_mutex_lock(&mc->mu);
    mc->checkpoints++;
    mc->last_checkpoint_s = now;
    atomic_store_explicit(&mc->queue_depth, 0, memory_order_relaxed);
    pthread_mutex_unlock(&mc->mu);
}

void metrics_state(struct metrics_conn *mc, const char *state)
{
    if (mc == NULL)
        return;
    pthread_mutex_lock(&mc->mu);
    mc->state = state;
    pthread_mutex_unlock(&mc->mu);
}

static void sink_add(struct metrics_conn *mc, const char *sink, int which, int64_t n)
{
    if (mc == NULL)
        return;
    pthread_mutex_lock(&mc->mu);
    struct row *r = rowmap_get(&mc->sinks, sink, NULL, 0);
    r->v[which] += n;
    if (which == SINK_BYTES)
        r->v[SINK_LOADS]++;
    pthread_mutex_unlock(&mc->mu);
}

void metrics_sink_declare(struct metrics_conn *mc, const char *sink)
{
    sink_add(mc, sink, SINK_RETRIES, 0);
}

void metrics_sink_load(const char *sink, uint64_t bytes)
{
    sink_add(current, sink, SINK_BYTES, (int64_t)bytes);
}

void metrics_sink_retry(const char *sink)
{
    sink_add(current, sink, SINK_RETRIES, 1);
}

void metrics_sink_failure(const char *sink)
{
    sink_add(current, sink, SINK_FAILURES, 1);
}

/* ---- exposition -------------------------------------------------------------------------- */

static void label_value(struct buf *out, const char *s)
{
    buf_putc(out, '"');
    for (; *s; s++) {
        if (*s == '\\')
            buf_puts(out, "\\\\");
        else if (*s == '"')
            buf_puts(out, "\\\"");
        else if (*s == '\n')
            buf_puts(out, "\\n");
        else
            buf_putc(out, *s);
    }
    buf_putc(out, '"');
}

/* name{connector="c"[,k1="v1"[,k2="v2"]]} */
static void sample_start(struct buf *out, const char *name, const struct metrics_conn *mc,
                         const char *k1, const char *v1, const char *k2, const char *v2)
{
    buf_puts(out, name);
    buf_puts(out, "{connector=");
    label_value(out, mc->name);
    if (k1) {
        buf_printf(out, ",%s=", k1);
        label_value(out, v1);
    }
    if (k2) {
        buf_printf(out, ",%s=", k2);
        label_value(out, v2);
    }
    buf_puts(out, "} ");
}

static void family(struct buf *out, const char *name, const char *type, const char *help)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

enum family_id {
    F_EVENTS,
    F_LAG,
    F_LAST_EVENT,
    F_SNAP_ROWS,
    F_SNAP_EXPECTED,
    F_SINK_LOADS,
    F_SINK_BYTES,
    F_SINK_RETRIES,
    F_SINK_FAILURES,
    F_QUEUE,
    F_CHECKPOINTS,
    F_LAST_CHECKPOINT,
    F_STATE,
    F_COUNT
};

static const struct {
    const char *name;
    const char *type;
    const char *help;
} families[F_COUNT] = {
    [F_EVENTS] = {"dbtail_events_total", "counter",
                  "Change events handed to the sinks, by table and Debezium op."},
    [F_LAG] = {"dbtail_milliseconds_behind_source", "gauge",
               "Time between the source's commit of the last event and its processing "
               "(Debezium's MilliSecondsBehindSource)."},
    [F_LAST_EVENT] = {"dbtail_last_event_timestamp_seconds", "gauge",
                      "Unix time at which the last change event was processed."},
    [F_SNAP_ROWS] = {"dbtail_snapshot_rows_total", "counter", "Snapshot rows read, by table."},
    [F_SNAP_EXPECTED] = {"dbtail_snapshot_rows_expected", "gauge",
                         "The source's estimate of a table's rows when its snapshot began."},
    [F_SINK_LOADS] = {"dbtail_sink_loads_total", "counter",
                      "Successful loads: Doris Stream Loads, delivered Kafka records, file "
                      "writes."},
    [F_SINK_BYTES] = {"dbtail_sink_bytes_total", "counter", "Bytes in the successful loads."},
    [F_SINK_RETRIES] = {"dbtail_sink_retries_total", "counter",
                        "Loads tried again after a retriable failure."},
    [F_SINK_FAILURES] = {"dbtail_sink_failures_total", "counter", "Loads that failed."},
    [F_QUEUE] = {"dbtail_queue_depth", "gauge",
                 "Change events handed to the sinks since the last checkpoint."},
    [F_CHECKPOINTS] = {"dbtail_checkpoints_total", "counter", "Checkpoints saved."},
    [F_LAST_CHECKPOINT] = {"dbtail_last_checkpoint_timestamp_seconds", "gauge",
                           "Unix time of the last checkpoint."},
    [F_STATE] = {"dbtail_connector_state", "gauge",
                 "1 for the connector's current state as its status shows it, 0 for the "
                 "others."},
};

static const char *const states[] = {"UNASSIGNED", "RUNNING", "PAUSED", "FAILED"};

static void render_conn(struct buf *out, enum family_id f, struct metrics_conn *mc)
{
    const char *name = families[f].name;
    switch (f) {
    case F_EVENTS:
        for (size_t i = 0; i < mc->events.n; i++) {
            const struct row *r = &mc->events.rows[i];
            sample_start(out, name, mc, "table", r->a, "op", r->b);
            buf_printf(out, "%" PRId64 "\n", r->v[0]);
        }
        break;
    case F_LAG:
        if (mc->has_lag) {
            sample_start(out, name, mc, NULL, NULL, NULL, NULL);
            buf_printf(out, "%" PRId64 "\n", mc->lag_ms);
        }
        break;
    case F_LAST_EVENT:
        if (mc->last_event_s > 0) {
            sample_start(out, name, mc, NULL, NULL, NULL, NULL);
            buf_printf(out, "%.3f\n", mc->last_event_s);
        }
        break;
    case F_SNAP_ROWS:
    case F_SNAP_EXPECTED:
        for (size_t i = 0; i < mc->snapshot.n; i++) {
            const struct row *r = &mc->snapshot.rows[i];
            int64_t v = r->v[f == F_SNAP_ROWS ? SNAP_ROWS : SNAP_EXPECTED];
            if (v < 0)
                continue;
            sample_start(out, name, mc, "table", r->a, NULL, NULL);
            buf_printf(out, "%" PRId64 "\n", v);
        }
        break;
    case F_SINK_LOADS:
    case F_SINK_BYTES:
    case F_SINK_RETRIES:
    case F_SINK_FAILURES:
        for (size_t i = 0; i < mc->sinks.n; i++) {
            const struct row *r = &mc->sinks.rows[i];
            sample_start(out, name, mc, "sink", r->a, NULL, NULL);
            buf_printf(out, "%" PRId64 "\n", r->v[f - F_SINK_LOADS]);
        }
        break;
    case F_QUEUE:
        sample_start(out, name, mc, NULL, NULL, NULL, NULL);
        buf_printf(out, "%" PRId64 "\n",
                   (int64_t)atomic_load_explicit(&mc->queue_depth, memory_order_relaxed));
        break;
    case F_CHECKPOINTS:
        sample_start(out, name, mc, NULL, NULL, NULL, NULL);
        buf_printf(out, "%" PRIu64 "\n", mc->checkpoints);
        break;
    case F_LAST_CHECKPOINT:
        if (mc->last_checkpoint_s > 0) {
            sample_start(out, name, mc, NULL, NULL, NULL, NULL);
            buf_printf(out, "%.3f\n", mc->last_checkpoint_s);
        }
        break;
    case F_STATE:
        for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
            sample_start(out, name, mc, "state", states[i], NULL, NULL);
            buf_printf(out, "%d\n", strcmp(states[i], mc->state) == 0);
        }
        break;
    case F_COUNT:
        break;
    }
}

void metrics_render(struct metrics *m, struct buf *out)
{
    pthread_mutex_lock(&m->mu);
    for (int f = 0; f < F_COUNT; f++) {
        family(out, families[f].name, families[f].type, families[f].help);
        for (struct metrics_conn *mc = m->head; mc; mc = mc->next) {
            pthread_mutex_lock(&mc->mu);
            render_conn(out, (enum family_id)f, mc);
            pthread_mutex_unlock(&mc->mu);
        }
    }
    pthread_mutex_unlock(&m->mu);
}

/* ---- the /metrics server of `dbtail run` ------------------------------------------------- */

struct metrics_server {
    struct metrics *m;
    struct httpd *http;
};

static void serve(void *ctx, const struct httpd_request *req, struct httpd_response *resp)
{
    struct metrics_server *srv = ctx;
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        httpd_reply(resp, 405, "{\"error_code\":405,\"message\":\"only GET is allowed\"}", NULL);
        return;
    }
    if (strcmp(req->path, "/metrics") == 0) {
        struct buf b;
        buf_init(&b);
        metrics_render(srv->m, &b);
        resp->status = 200;
        resp->body = buf_take(&b);
        resp->content_type = METRICS_CONTENT_TYPE;
    } else if (strcmp(req->path, "/health") == 0) {
        httpd_reply(resp, 200, "{\"status\":\"UP\"}", NULL);
    } else {
        httpd_reply(resp, 404,
                    "{\"error_code\":404,\"message\":\"not found: use /metrics or "
                    "/health\"}",
                    NULL);
    }
}

int metrics_server_start(struct metrics *m, const char *host, int port, struct metrics_server **out,
                         struct error *err)
{
    struct metrics_server *srv = mem_calloc(1, sizeof *srv);
    srv->m = m;
    struct httpd_options opt = {.host = host, .port = port};
    if (httpd_start(&opt, serve, srv, &srv->http, err) < 0) {
        free(srv);
        return error_wrap(err, "metrics.port: ");
    }
    *out = srv;
    return 0;
}

void metrics_server_stop(struct metrics_server *srv)
{
    if (srv == NULL)
        return;
    httpd_stop(srv->http);
    free(srv);
}
