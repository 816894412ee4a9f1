/*
 * Unit tests of src/pipeline.c with a scripted fake reader and recording fake sinks.
 *
 * The reader plays a script, one character per next() call:
 *   c u d r t  a change event            h  a heartbeat
 *   C          a COMMIT (the k-th COMMIT of the script carries position {"n": k})
 *   D          a COMMIT that ends the snapshot
 *   i          nothing within the timeout   S  sets the stop flag (then plays on)
 *   e / E      a retriable / permanent error, each only the first time it is reached
 * After the script it returns 1 in snapshot-only mode; in run mode it sets the stop flag and
 * idles. start() resumes the script after the COMMIT whose position it is given, as a real
 * source replays from a position.
 * Every call is appended to one trace ("start(-) A:w(c) A:C(1) A:F ack(1,file=1) ..."), so a
 * test states the exact order of writes, flushes, saves and acknowledgements it expects.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../../src/buf.h"
#include "../../src/config.h"
#include "../../src/log.h"
#include "../../src/mem.h"
#include "../../src/pipeline.h"
#include "../../src/state.h"
#include "unit.h"

static struct buf trace;
static atomic_int stop_flag;
static char dir[64];
static char state_path[128];

/* Reader behaviour. */
static const char *script;
static bool fired[64];          /* error steps already taken */
static const char *identity_server;
static int reader_starts;
static json_t *start_schemas;   /* what the last start() got */

/* Sink behaviour. */
static int flush_fail_at;       /* the n-th flush of sink "a" fails (0: never) */
static bool flush_fail_retriable;
static int flushes_a;
static int polls;

static void note(const char *fmt, ...) DBT_PRINTF(1, 2);
static void note(const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (trace.len)
        buf_putc(&trace, ' ');
    buf_puts(&trace, tmp);
}

static int pos_n(const json_t *pos)
{
    return pos ? (int)json_integer_value(json_object_get(pos, "n")) : -1;
}

/* ---- fake reader ---- */

struct fake_reader {
    struct reader base;
    enum reader_mode mode;
    size_t at;           /* next script index */
    int commits;         /* COMMITs played so far */
    struct event ev;
    json_t *position;    /* of the last COMMIT handed out */
};

static int fr_start(struct reader *rd, const json_t *position, const json_t *schemas,
                    struct error *err)
{
    struct fake_reader *fr = (struct fake_reader *)rd;
    (void)err;
    reader_starts++;
    json_decref(start_schemas);
    start_schemas = schemas ? json_deep_copy(schemas) : NULL;
    if (position == NULL) {
        note("start(-)");
        return 0;
    }
    int n = pos_n(position);
    note("start(%d)", n);
    while (script[fr->at] && fr->commits < n) {
        if (script[fr->at] == 'C' || script[fr->at] == 'D')
            fr->commits++;
        fr->at++;
    }
    return 0;
}

static int fr_next(struct reader *rd, const struct event **out, int timeout_ms,
                   struct error *err)
{
    struct fake_reader *fr = (struct fake_reader *)rd;
    *out = NULL;
    for (;;) {
        char step = script[fr->at];
        if (step == '\0') {
            if (fr->mode == READER_SNAPSHOT_ONLY)
                return 1;
            stop_flag = 1;
            return 0;
        }
        size_t idx = fr->at++;
        memset(&fr->ev, 0, sizeof fr->ev);
        switch (step) {
        case 'S':
            stop_flag = 1;
            continue;
        case 'i': {
            struct timespec ts = {0, (long)timeout_ms * 1000000L};
            nanosleep(&ts, NULL);
            return 0;
        }
        case 'e':
        case 'E':
            if (fired[idx])
                continue;
            fired[idx] = true;
            note("fail");
            if (step == 'e')
                return error_retry(err, "connection lost");
            return error_set(err, "corrupt stream");
        case 'C':
        case 'D':
            fr->commits++;
            json_decref(fr->position);
            fr->position = json_pack("{s:i}", "n", fr->commits);
            fr->ev.op = EVENT_COMMIT;
            fr->ev.position = fr->position;
            fr->ev.snapshot_done = step == 'D';
            break;
        case 'h':
            fr->ev.op = EVENT_HEARTBEAT;
            break;
        default: {
            static const char ops[] = "cudrt";
            fr->ev.op = (enum event_op)(strchr(ops, step) - ops);
            break;
        }
        }
        *out = &fr->ev;
        return 0;
    }
}

static int fr_ack(struct reader *rd, const json_t *position, struct error *err)
{
    struct state *st = NULL;
    (void)rd;
    /* What the source is told must already be in the state file. */
    if (state_load(state_path, &st, err) < 0)
        return -1;
    note("ack(%d,file=%d)", pos_n(position), st ? pos_n(st->position) : -1);
    state_free(st);
    return 0;
}

static json_t *fr_schemas(struct reader *rd)
{
    struct fake_reader *fr = (struct fake_reader *)rd;
    return json_pack("{s:i}", "commits_seen", fr->commits);
}

static int fr_check(struct reader *rd, FILE *out)
{
    (void)rd;
    fprintf(out, "ok fake reader\n");
    return 0;
}

static json_t *fr_identity(struct reader *rd)
{
    (void)rd;
    return json_pack("{s:s, s:s}", "connector", "fake", "server", identity_server);
}

static void fr_free(struct reader *rd)
{
    struct fake_reader *fr = (struct fake_reader *)rd;
    note("free");
    json_decref(fr->position);
    free(fr);
}

static const struct reader_ops fake_reader_ops = {
    .name = "fake",
    .start = fr_start,
    .next = fr_next,
    .ack = fr_ack,
    .schemas = fr_schemas,
    .check = fr_check,
    .identity = fr_identity,
    .free = fr_free,
};

static int fake_reader_new(const struct config *cfg, enum reader_mode mode, struct reader **out,
                           struct error *err)
{
    (void)cfg;
    (void)err;
    struct fake_reader *fr = mem_calloc(1, sizeof *fr);
    fr->base.ops = &fake_reader_ops;
    fr->mode = mode;
    *out = &fr->base;
    return 0;
}

/* ---- fake sinks ---- */

struct fake_sink {
    struct sink base;
    char *name;
    int written; /* write() calls */
    int durable; /* written as of the last flush */
};

static int fs_write(struct sink *sk, const struct event *ev, struct error *err)
{
    struct fake_sink *fs = (struct fake_sink *)sk;
    (void)err;
    fs->written++;
    note("%s:w(%s)", fs->name, ev->op == EVENT_HEARTBEAT ? "h" : event_op_code(ev->op));
    return 0;
}

static int fs_commit(struct sink *sk, const struct event *ev, struct error *err)
{
    struct fake_sink *fs = (struct fake_sink *)sk;
    (void)err;
    note("%s:C(%d)", fs->name, pos_n(ev->position));
    return 0;
}

static int fs_poll(struct sink *sk, struct error *err)
{
    (void)sk;
    (void)err;
    polls++;
    return 0;
}

static int fs_flush(struct sink *sk, struct error *err)
{
    struct fake_sink *fs = (struct fake_sink *)sk;
    note("%s:F", fs->name);
    if (strcmp(fs->name, "a") == 0 && ++flushes_a == flush_fail_at) {
        note("%s:flush-failed", fs->name);
        return flush_fail_retriable ? error_retry(err, "sink a: destination busy")
                                    : error_set(err, "sink a: load refused");
    }
    fs->durable = fs->written;
    return 0;
}

static json_t *fs_checkpoint(struct sink *sk)
{
    struct fake_sink *fs = (struct fake_sink *)sk;
    return json_pack("{s:i}", "durable", fs->durable);
}

static int fs_check(struct sink *sk, FILE *out)
{
    (void)sk;
    fprintf(out, "ok fake sink\n");
    return 0;
}

static void fs_free(struct sink *sk)
{
    struct fake_sink *fs = (struct fake_sink *)sk;
    free(fs->name);
    free(fs);
}

static const struct sink_ops fake_sink_ops = {
    .name = "fake",
    .write = fs_write,
    .commit = fs_commit,
    .poll = fs_poll,
    .flush = fs_flush,
    .checkpoint = fs_checkpoint,
    .check = fs_check,
    .free = fs_free,
};

static int fake_sink_new(const char *type, const struct config *cfg, const struct render *rd,
                         const json_t *saved, struct sink **out, struct error *err)
{
    (void)cfg;
    (void)rd;
    if (strcmp(type, "bad") == 0)
        return error_set(err, "sink.type: unknown sink \"bad\"");
    struct fake_sink *fs = mem_calloc(1, sizeof *fs);
    fs->base.ops = &fake_sink_ops;
    fs->name = mem_strdup(type);
    if (saved) {
        fs->durable = fs->written = (int)json_integer_value(json_object_get(saved, "durable"));
        note("%s:restore(%d)", type, fs->durable);
    }
    *out = &fs->base;
    return 0;
}

static const struct pipeline_factory fakes = {.reader_new = fake_reader_new,
                                              .sink_new = fake_sink_new};

/* ---- harness ---- */

static struct config *setup(const char *the_script, const char *sinks, const char *interval_ms)
{
    snprintf(dir, sizeof dir, "/tmp/dbtail-test-pipeline.XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(state_path, sizeof state_path, "%s/offsets.json", dir);
    buf_reset(&trace);
    stop_flag = 0;
    script = the_script;
    memset(fired, 0, sizeof fired);
    identity_server = "db1";
    reader_starts = 0;
    flush_fail_at = 0;
    flush_fail_retriable = false;
    flushes_a = 0;
    polls = 0;

    struct config *cfg = config_new();
    config_set(cfg, "name", "test");
    config_set(cfg, "connector.class", "io.debezium.connector.postgresql.PostgresConnector");
    config_set(cfg, "topic.prefix", "test");
    config_set(cfg, "offset.storage.file.filename", state_path);
    config_set(cfg, "offset.flush.interval.ms", interval_ms);
    config_set(cfg, "poll.interval.ms", "10");
    config_set(cfg, "shutdown.timeout.ms", "200");
    config_set(cfg, "sink.type", sinks);
    return cfg;
}

static void teardown(struct config *cfg)
{
    char cmd[128];
    config_free(cfg);
    json_decref(start_schemas);
    start_schemas = NULL;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

#define CHECK_TRACE(want) CHECK_STR(trace.data ? trace.data : "", want)

static int saved_position(void)
{
    struct error err;
    struct state *st = NULL;
    if (state_load(state_path, &st, &err) < 0)
        return -2;
    int n = st ? pos_n(st->position) : -1;
    state_free(st);
    return n;
}

static int run(struct config *cfg, enum reader_mode mode, struct error *err)
{
    error_clear(err);
    return pipeline_run_with(cfg, mode, &fakes, &stop_flag, err);
}

/* ---- cases ---- */

static void test_snapshot_only(void)
{
    struct error err;
    struct config *cfg = setup("ccCuC", "a, b", "3600000");
    CHECK_INT(run(cfg, READER_SNAPSHOT_ONLY, &err), 0);
    /* One checkpoint, at the end: flush all, then save, then acknowledge. */
    CHECK_TRACE("start(-) a:w(c) b:w(c) a:w(c) b:w(c) a:C(1) b:C(1) a:w(u) b:w(u) a:C(2) b:C(2) "
                "a:F b:F ack(2,file=2) free");
    CHECK_INT(saved_position(), 2);

    struct state *st = NULL;
    CHECK_INT(state_load(state_path, &st, &err), 0);
    if (st) {
        CHECK_STR(st->connector, "test");
        CHECK_STR(json_string_value(json_object_get(st->source, "server")), "db1");
        CHECK_INT(json_integer_value(json_object_get(json_object_get(st->sinks, "a"), "durable")),
                  3);
        CHECK(json_object_get(st->sinks, "b") != NULL);
        CHECK_INT(json_integer_value(json_object_get(st->schemas, "commits_seen")), 2);
    }
    state_free(st);
    CHECK(polls >= 5);
    teardown(cfg);
}

static void test_checkpoint_only_between_transactions(void)
{
    struct error err;
    /* Interval 0: every chance to checkpoint is taken, yet never inside a transaction, even
     * while the reader idles in the middle of one. */
    struct config *cfg = setup("ciicCiihiC", "a", "0");
    CHECK_INT(run(cfg, READER_SNAPSHOT_ONLY, &err), 0);
    CHECK_TRACE("start(-) a:w(c) a:w(c) a:C(1) a:F ack(1,file=1) a:w(h) a:F a:C(2) a:F "
                "ack(2,file=2) free");
    teardown(cfg);
}

static void test_idle_checkpoint(void)
{
    struct error err;
    /* A COMMIT right after start is not due yet; the idle reader still gets it checkpointed
     * once the interval has passed. */
    struct config *cfg = setup("cCiiiiiiiiiiiiiiiiiiiiiiiiiiiiS", "a", "60");
    CHECK_INT(run(cfg, READER_RUN, &err), 0);
    CHECK_TRACE("start(-) a:w(c) a:C(1) a:F ack(1,file=1) free");
    teardown(cfg);
}

static void test_snapshot_done_checkpoints(void)
{
    struct error err;
    struct config *cfg = setup("rrDcCS", "a", "3600000");
    CHECK_INT(run(cfg, READER_RUN, &err), 0);
    CHECK_TRACE("start(-) a:w(r) a:w(r) a:C(1) a:F ack(1,file=1) a:w(c) a:C(2) a:F "
                "ack(2,file=2) free");
    teardown(cfg);
}

static void test_stop_finishes_transaction(void)
{
    struct error err;
    struct config *cfg = setup("cCcScC", "a", "3600000");
    CHECK_INT(run(cfg, READER_RUN, &err), 0);
    CHECK_TRACE("start(-) a:w(c) a:C(1) a:w(c) a:w(c) a:C(2) a:F ack(2,file=2) free");
    teardown(cfg);
}

static void test_stop_timeout_inside_transaction(void)
{
    struct error err;
    /* The transaction never ends within shutdown.timeout.ms (200 ms of 10 ms idles). */
    struct config *cfg = setup("cCcSiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiC", "a",
                               "3600000");
    CHECK_INT(run(cfg, READER_RUN, &err), -1);
    CHECK(strstr(err.msg, "shutdown.timeout.ms") != NULL);
    CHECK_TRACE("start(-) a:w(c) a:C(1) a:w(c) free");
    CHECK_INT(saved_position(), -1);
    teardown(cfg);
}

static void test_flush_failure_keeps_state(void)
{
    struct error err;
    struct config *cfg = setup("cCcCcC", "a,b", "0");
    flush_fail_at = 2;
    CHECK_INT(run(cfg, READER_SNAPSHOT_ONLY, &err), -1);
    CHECK(strstr(err.msg, "load refused") != NULL);
    /* No save and no acknowledgement after the failed flush. */
    CHECK_TRACE("start(-) a:w(c) b:w(c) a:C(1) b:C(1) a:F b:F ack(1,file=1) a:w(c) b:w(c) "
                "a:C(2) b:C(2) a:F a:flush-failed free");
    CHECK_INT(saved_position(), 1);
    teardown(cfg);
}

static void test_final_flush_failure(void)
{
    struct error err;
    struct config *cfg = setup("cCcCS", "a", "3600000");
    flush_fail_at = 1;
    flush_fail_retriable = true;
    CHECK_INT(run(cfg, READER_RUN, &err), -1);
    CHECK(strstr(err.msg, "final checkpoint failed") != NULL);
    CHECK(!err.retriable);
    CHECK_INT(saved_position(), -1);
    teardown(cfg);
}

static void test_retriable_error_restarts_from_state(void)
{
    struct error err;
    struct config *cfg = setup("cCcecCD", "a", "0");
    CHECK_INT(run(cfg, READER_SNAPSHOT_ONLY, &err), 0);
    /* The half-read transaction is read again from the durable position; the sink restores
     * its checkpoint. */
    CHECK_TRACE("start(-) a:w(c) a:C(1) a:F ack(1,file=1) a:w(c) fail free start(1) "
                "a:restore(1) a:w(c) a:w(c) a:C(2) a:F ack(2,file=2) a:C(3) a:F ack(3,file=3) "
                "free");
    CHECK_INT(reader_starts, 2);
    CHECK(start_schemas && json_integer_value(json_object_get(start_schemas, "commits_seen")) == 1);
    CHECK_INT(saved_position(), 3);
    teardown(cfg);
}

static void test_retriable_flush_failure_restarts(void)
{
    struct error err;
    struct config *cfg = setup("cCcCD", "a", "0");
    flush_fail_at = 2;
    flush_fail_retriable = true;
    CHECK_INT(run(cfg, READER_SNAPSHOT_ONLY, &err), 0);
    CHECK_TRACE("start(-) a:w(c) a:C(1) a:F ack(1,file=1) a:w(c) a:C(2) a:F a:flush-failed "
                "free start(1) a:restore(1) a:w(c) a:C(2) a:F ack(2,file=2) a:C(3) a:F "
                "ack(3,file=3) free");
    teardown(cfg);
}

static void on_alarm(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void test_stop_during_backoff(void)
{
    struct error err;
    struct config *cfg = setup("cCe", "a", "0");
    struct sigaction sa = {.sa_handler = on_alarm};
    struct itimerval in_200ms = {.it_value = {.tv_sec = 0, .tv_usec = 200000}};
    struct timespec t0, t1;

    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    setitimer(ITIMER_REAL, &in_200ms, NULL);
    /* The first backoff is 1 s; the stop must cut it short. */
    CHECK_INT(run(cfg, READER_RUN, &err), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CHECK(ms >= 150 && ms < 800);
    CHECK_INT(reader_starts, 1);
    CHECK_INT(saved_position(), 1);
    teardown(cfg);
}

static void test_error_while_stopping(void)
{
    struct error err;
    struct config *cfg = setup("cCSe", "a", "0");
    CHECK_INT(run(cfg, READER_RUN, &err), 0);
    CHECK_INT(reader_starts, 1);
    CHECK_INT(saved_position(), 1);
    teardown(cfg);
}

static void test_permanent_error(void)
{
    struct error err;
    struct config *cfg = setup("cCcE", "a", "0");
    CHECK_INT(run(cfg, READER_RUN, &err), -1);
    CHECK_STR(err.msg, "corrupt stream");
    CHECK_INT(reader_starts, 1);
    CHECK_INT(saved_position(), 1);
    teardown(cfg);
}

static void test_other_source_refused(void)
{
    struct error err;
    struct config *cfg = setup("cC", "a", "0");
    CHECK_INT(run(cfg, READER_SNAPSHOT_ONLY, &err), 0);
    buf_reset(&trace);
    identity_server = "db2";
    CHECK_INT(run(cfg, READER_SNAPSHOT_ONLY, &err), -1);
    CHECK(strstr(err.msg, "server is \"db1\" there but \"db2\" now") != NULL);
    CHECK(!err.retriable);
    CHECK_TRACE("start(1) free");
    teardown(cfg);
}

static void test_sink_list(void)
{
    struct error err;
    struct config *cfg = setup("cC", " a ,\tb", "0");
    CHECK_INT(run(cfg, READER_SNAPSHOT_ONLY, &err), 0);
    CHECK_TRACE("start(-) a:w(c) b:w(c) a:C(1) b:C(1) a:F b:F ack(1,file=1) free");

    config_set(cfg, "sink.type", "a,b,a");
    CHECK_INT(run(cfg, READER_SNAPSHOT_ONLY, &err), -1);
    CHECK_STR(err.msg, "sink.type: \"a\" is listed twice");

    config_set(cfg, "sink.type", "a,,b");
    CHECK_INT(run(cfg, READER_SNAPSHOT_ONLY, &err), -1);
    CHECK(strstr(err.msg, "empty entry") != NULL);

    config_set(cfg, "sink.type", "a,bad");
    CHECK_INT(run(cfg, READER_SNAPSHOT_ONLY, &err), -1);
    CHECK(strstr(err.msg, "unknown sink") != NULL);
    teardown(cfg);
}

static void test_corrupt_state_refused(void)
{
    struct error err;
    struct config *cfg = setup("cC", "a", "0");
    FILE *f = fopen(state_path, "w");
    fputs("{\"format\": 1,", f);
    fclose(f);
    CHECK_INT(run(cfg, READER_SNAPSHOT_ONLY, &err), -1);
    CHECK(strstr(err.msg, "invalid JSON") != NULL);
    CHECK_TRACE("");
    teardown(cfg);
}

static void test_locked_state_refused(void)
{
    struct error err;
    int fd = -1;
    struct config *cfg = setup("cC", "a", "0");
    CHECK_INT(state_lock(state_path, &fd, &err), 0);
    CHECK_INT(run(cfg, READER_SNAPSHOT_ONLY, &err), -1);
    CHECK(strstr(err.msg, "another dbtail is running") != NULL);
    CHECK_TRACE("");
    close(fd);
    CHECK_INT(run(cfg, READER_SNAPSHOT_ONLY, &err), 0);
    CHECK_INT(saved_position(), 1);
    teardown(cfg);
}

int main(int argc, char **argv)
{
    static const struct unit_case cases[] = {
        {"snapshot-only run: flush, save, then ack", test_snapshot_only},
        {"checkpoints only between transactions", test_checkpoint_only_between_transactions},
        {"idle reader still checkpoints when due", test_idle_checkpoint},
        {"snapshot end forces a checkpoint", test_snapshot_done_checkpoints},
        {"stop finishes the open transaction", test_stop_finishes_transaction},
        {"stop gives up an unfinished transaction", test_stop_timeout_inside_transaction},
        {"failed flush saves and acks nothing", test_flush_failure_keeps_state},
        {"failed final flush is an error", test_final_flush_failure},
        {"retriable reader error restarts from the state", test_retriable_error_restarts_from_state},
        {"retriable flush error restarts from the state", test_retriable_flush_failure_restarts},
        {"stop during backoff", test_stop_during_backoff},
        {"retriable error while stopping", test_error_while_stopping},
        {"permanent error stops", test_permanent_error},
        {"state of another source is refused", test_other_source_refused},
        {"sink list parsing", test_sink_list},
        {"corrupt state file is refused", test_corrupt_state_refused},
        {"state file in use is refused", test_locked_state_refused},
        {NULL, NULL},
    };
    log_setup(LOG_WARN, false);
    int rc = unit_main("pipeline", cases, argc, argv);
    buf_free(&trace);
    return rc;
}
