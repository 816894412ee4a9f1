/* Unit tests of the metrics registry and its Prometheus text exposition. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../src/buf.h"
#include "../../src/metrics.h"
#include "unit.h"

static char *render(struct metrics *m)
{
    struct buf b;
    buf_init(&b);
    metrics_render(m, &b);
    return buf_take(&b);
}

/* The value of the one line that starts with `prefix` (the name and labels), or -1. */
static double sample(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *line = text; line && *line;) {
        if (strncmp(line, prefix, n) == 0 && line[n] == ' ')
            return strtod(line + n + 1, NULL);
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return -1;
}

static void test_counts_by_table_and_op(void)
{
    struct metrics *m = metrics_new();
    struct metrics_conn *mc = metrics_connector(m, "shop");
    metrics_events(mc, "public.orders", "c", 1, 0);
    metrics_events(mc, "public.orders", "c", 4, 0);
    metrics_events(mc, "public.orders", "u", 1, 0);
    metrics_events(mc, "public.items", "c", 1, 0);
    char *t = render(m);
    CHECK(sample(t, "dbtail_events_total{connector=\"shop\",table=\"public.orders\",op=\"c\"}") ==
          5);
    CHECK(sample(t, "dbtail_events_total{connector=\"shop\",table=\"public.orders\",op=\"u\"}") ==
          1);
    CHECK(sample(t, "dbtail_events_total{connector=\"shop\",table=\"public.items\",op=\"c\"}") ==
          1);
    /* No event carried a source time: no lag is claimed. */
    CHECK(strstr(t, "dbtail_milliseconds_behind_source{") == NULL);
    free(t);
    metrics_free(m);
}

static void test_every_family_has_help_and_type(void)
{
    struct metrics *m = metrics_new();
    metrics_connector(m, "a");
    char *t = render(m);
    static const char *const families[] = {
        "dbtail_events_total counter",        "dbtail_milliseconds_behind_source gauge",
        "dbtail_snapshot_rows_total counter", "dbtail_sink_loads_total counter",
        "dbtail_queue_depth gauge",           "dbtail_checkpoints_total counter",
        "dbtail_connector_state gauge",
    };
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        char type[128], help[128];
        snprintf(type, sizeof type, "# TYPE %s\n", families[i]);
        snprintf(help, sizeof help, "# HELP %.*s ", (int)strcspn(families[i], " "), families[i]);
        CHECK(strstr(t, type) != NULL);
        CHECK(strstr(t, help) != NULL);
    }
    CHECK(sample(t, "dbtail_connector_state{connector=\"a\",state=\"UNASSIGNED\"}") == 1);
    CHECK(sample(t, "dbtail_connector_state{connector=\"a\",state=\"RUNNING\"}") == 0);
    free(t);
    metrics_free(m);
}

static void test_label_values_are_escaped(void)
{
    struct metrics *m = metrics_new();
    struct metrics_conn *mc = metrics_connector(m, "a\"b\\c\nd");
    metrics_events(mc, "s.t", "c", 1, 0);
    char *t = render(m);
    CHECK(strstr(t, "{connector=\"a\\\"b\\\\c\\nd\",table=\"s.t\",op=\"c\"} 1\n") != NULL);
    free(t);
    metrics_free(m);
}

static void test_sinks_count_through_the_bound_connector(void)
{
    struct metrics *m = metrics_new();
    struct metrics_conn *mc = metrics_connector(m, "x");
    metrics_sink_load("doris", 100); /* no connector bound: not counted anywhere */
    metrics_sink_declare(mc, "kafka");
    metrics_bind(mc);
    CHECK(metrics_current() == mc);
    metrics_sink_load("doris", 100);
    metrics_sink_load("doris", 50);
    metrics_sink_retry("doris");
    metrics_sink_failure("doris");
    metrics_bind(NULL);
    char *t = render(m);
    CHECK(sample(t, "dbtail_sink_loads_total{connector=\"x\",sink=\"doris\"}") == 2);
    CHECK(sample(t, "dbtail_sink_bytes_total{connector=\"x\",sink=\"doris\"}") == 150);
    CHECK(sample(t, "dbtail_sink_retries_total{connector=\"x\",sink=\"doris\"}") == 1);
    CHECK(sample(t, "dbtail_sink_failures_total{connector=\"x\",sink=\"doris\"}") == 1);
    CHECK(sample(t, "dbtail_sink_loads_total{connector=\"x\",sink=\"kafka\"}") == 0);
    CHECK(sample(t, "dbtail_sink_failures_total{connector=\"x\",sink=\"kafka\"}") == 0);
    free(t);
    metrics_free(m);
}

static void test_snapshot_checkpoint_and_queue(void)
{
    struct metrics *m = metrics_new();
    struct metrics_conn *mc = metrics_connector(m, "x");
    metrics_snapshot_rows(mc, "db.t", 3);
    metrics_snapshot_rows(mc, "db.t", 4);
    CHECK_INT(metrics_snapshot_expected_get(mc, "db.t"), -1);
    metrics_snapshot_expected(mc, "db.t", 1000);
    CHECK_INT(metrics_snapshot_expected_get(mc, "db.t"), 1000);
    CHECK_INT(metrics_snapshot_expected_get(mc, "db.other"), -1);
    metrics_queue_depth(mc, 42);
    char *t = render(m);
    CHECK(sample(t, "dbtail_snapshot_rows_total{connector=\"x\",table=\"db.t\"}") == 7);
    CHECK(sample(t, "dbtail_snapshot_rows_expected{connector=\"x\",table=\"db.t\"}") == 1000);
    CHECK(sample(t, "dbtail_queue_depth{connector=\"x\"}") == 42);
    CHECK(sample(t, "dbtail_checkpoints_total{connector=\"x\"}") == 0);
    CHECK(strstr(t, "dbtail_last_checkpoint_timestamp_seconds{") == NULL);
    free(t);
    metrics_checkpoint(mc);
    t = render(m);
    CHECK(sample(t, "dbtail_checkpoints_total{connector=\"x\"}") == 1);
    CHECK(sample(t, "dbtail_queue_depth{connector=\"x\"}") == 0);
    CHECK(sample(t, "dbtail_last_checkpoint_timestamp_seconds{connector=\"x\"}") > 1.6e9);
    free(t);
    metrics_free(m);
}

static void test_lag_from_the_source_time(void)
{
    struct metrics *m = metrics_new();
    struct metrics_conn *mc = metrics_connector(m, "x");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    metrics_events(mc, "s.t", "c", 1, now_us - 5000000);
    char *t = render(m);
    double lag = sample(t, "dbtail_milliseconds_behind_source{connector=\"x\"}");
    CHECK(lag >= 5000 && lag < 6000);
    free(t);
    /* A source clock ahead of ours is no lag, never a negative one. */
    metrics_heartbeat(mc, now_us + 60000000);
    t = render(m);
    CHECK(sample(t, "dbtail_milliseconds_behind_source{connector=\"x\"}") == 0);
    free(t);
    metrics_free(m);
}

static void test_many_tables_and_drop(void)
{
    struct metrics *m = metrics_new();
    struct metrics_conn *a = metrics_connector(m, "a");
    CHECK(metrics_connector(m, "a") == a);
    struct metrics_conn *b = metrics_connector(m, "b");
    char name[32];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 500; i++) {
            snprintf(name, sizeof name, "s.t%d", i);
            metrics_events(a, name, "c", 1, 0);
        }
    }
    metrics_events(b, "s.t1", "d", 1, 0);
    char *t = render(m);
    CHECK(sample(t, "dbtail_events_total{connector=\"a\",table=\"s.t0\",op=\"c\"}") == 3);
    CHECK(sample(t, "dbtail_events_total{connector=\"a\",table=\"s.t499\",op=\"c\"}") == 3);
    CHECK(sample(t, "dbtail_events_total{connector=\"b\",table=\"s.t1\",op=\"d\"}") == 1);
    free(t);
    metrics_drop(m, "a");
    t = render(m);
    CHECK(strstr(t, "connector=\"a\"") == NULL);
    CHECK(sample(t, "dbtail_events_total{connector=\"b\",table=\"s.t1\",op=\"d\"}") == 1);
    free(t);
    metrics_free(m);
}

struct hammer {
    struct metrics_conn *mc;
    int n;
};

static void *hammer_events(void *arg)
{
    struct hammer *h = arg;
    for (int i = 0; i < h->n; i++)
        metrics_events(h->mc, i % 2 ? "s.odd" : "s.even", "c", 1, 0);
    return NULL;
}

/* Two threads updating while a third scrapes never lose a count. */
static void test_concurrent_updates_and_scrapes(void)
{
    struct metrics *m = metrics_new();
    struct hammer h = {metrics_connector(m, "x"), 20000};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, hammer_events, &h);
    pthread_create(&t2, NULL, hammer_events, &h);
    for (int i = 0; i < 20; i++)
        free(render(m));
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    char *t = render(m);
    CHECK(sample(t, "dbtail_events_total{connector=\"x\",table=\"s.odd\",op=\"c\"}") == 20000);
    CHECK(sample(t, "dbtail_events_total{connector=\"x\",table=\"s.even\",op=\"c\"}") == 20000);
    free(t);
    metrics_free(m);
}

int main(int argc, char **argv)
{
    static const struct unit_case cases[] = {
        {"counts by table and op", test_counts_by_table_and_op},
        {"every family has HELP and TYPE", test_every_family_has_help_and_type},
        {"label values are escaped", test_label_values_are_escaped},
        {"sinks count through the bound connector", test_sinks_count_through_the_bound_connector},
        {"snapshot rows, estimate, checkpoint and queue", test_snapshot_checkpoint_and_queue},
        {"lag from the source time", test_lag_from_the_source_time},
        {"many tables, and dropping a connector", test_many_tables_and_drop},
        {"concurrent updates and scrapes", test_concurrent_updates_and_scrapes},
        {NULL, NULL},
    };
    return unit_main("metrics", cases, argc, argv);
}
