/*
 * pipeline: the one loop from the reader to the sinks (see pipeline.h).
 *
 * An attempt loads the state file, builds the reader and the sinks from it and runs until it is
 * stopped, finishes or fails. Checkpoints happen only between transactions: sinks are flushed,
 * then the state file is written, then the position is acknowledged to the source, in that
 * order, so that a crash between any two steps replays from an older position and never skips.
 * A retriable failure throws the whole attempt away and starts a new one from the state file,
 * which is the same path a restart after a crash takes.
 */
#include "pipeline.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "progress.h"
#include "render.h"
#include "state.h"

#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS   30000
/* An attempt that ran this long was healthy: the next failure starts the backoff over. */
#define BACKOFF_RESET_MS 60000

static const char STATE_PATH_KEY[] = "offset.storage.file.filename";

/* Consecutive change events of one table and op, as they mostly come: counted with one call to
 * the metrics and progress lines per run (at most COUNT_RUN_MAX events, and ended by every
 * COMMIT) instead of a lock and a clock read per event, a tenth of a snapshot's time. */
#define COUNT_RUN_MAX 1024
/* The progress lines look at the clock at every idle turn of the loop but, while events flow,
 * only every PROGRESS_TICK_EVENTS events: a clock reading costs as much as rendering a value. */
#define PROGRESS_TICK_EVENTS 256
struct event_run {
    const struct schema_table *table;
    uint64_t generation;
    enum event_op op;
    int64_t n;
    int64_t last_ts_us;
    char name[520];
};

struct pipeline {
    const struct config *cfg;
    enum reader_mode mode;
    const struct pipeline_factory *factory;
    struct pipeline_control *ctl;
    struct metrics_conn *mc; /* may be NULL */
    const char *state_path;
    int64_t flush_interval_ms;
    int64_t poll_interval_ms; /* how long next() may wait before timers are looked at */
    int64_t shutdown_timeout_ms;
    char **types; /* sink.type entries */
    size_t ntypes;
    struct render *render;

    /* One attempt. */
    struct reader *rd;
    struct sink **sinks; /* ntypes entries, in sink.type order */
    json_t *identity;
    json_t *received; /* position of the last COMMIT read */
    json_t *durable;  /* position of the last COMMIT in the state file */
    bool unacked;     /* durable has not been acknowledged to the source yet */
    bool dirty;       /* sinks were given something since the last checkpoint */
    bool in_txn;      /* change events were given since the last COMMIT */
    int64_t last_checkpoint_ms;
    int64_t inflight;      /* change events given since the last checkpoint */
    struct event_run run;  /* counted, not yet in the metrics and progress lines */
    int64_t stop_deadline; /* when a stop must be done by; -1 until one is asked for */
    bool finished;         /* a snapshot-only run has read everything */
    struct progress *progress;
    int untimed_events; /* events handled since progress_tick last ran */
};

/* Hands the counted run of events to the metrics and the progress lines. */
static void flush_counts(struct pipeline *p)
{
    struct event_run *run = &p->run;
    if (run->n == 0)
        return;
    metrics_events(p->mc, run->name, event_op_code(run->op), run->n, run->last_ts_us);
    if (run->op == EVENT_READ) {
        metrics_snapshot_rows(p->mc, run->name, run->n);
        progress_snapshot_rows(p->progress, run->name, run->n);
    } else {
        progress_stream_events(p->progress, run->n, run->last_ts_us);
    }
    run->n = 0;
}

/* A signal or the manager asked this pipeline to end. */
static bool stop_asked(const struct pipeline *p)
{
    return *p->ctl->stop || atomic_load(&p->ctl->halt);
}

/* The attempt must end: a stop, or a pause (which ends it the same way and waits). */
static bool leave_asked(const struct pipeline *p)
{
    return stop_asked(p) || atomic_load(&p->ctl->pause);
}

static void free_types(char **types, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(types[i]);
    free(types);
}

/* Splits sink.type ("file, doris") into trimmed, distinct, non-empty names. */
static int parse_sink_types(const struct config *cfg, char ***out, size_t *nout, struct error *err)
{
    const char *list;
    if (config_required(cfg, "sink.type", &list, err) < 0)
        return -1;
    char **types = NULL;
    size_t n = 0;
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ',');
        const char *stop = end ? end : p + strlen(p);
        const char *a = p, *b = stop;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (a == b) {
            free_types(types, n);
            return error_set(err,
                             "sink.type: empty entry in \"%s\" (use a comma list such as "
                             "\"file,doris\")",
                             list);
        }
        char *name = mem_strndup(a, (size_t)(b - a));
        for (size_t i = 0; i < n; i++) {
            if (strcmp(types[i], name) == 0) {
                error_set(err, "sink.type: \"%s\" is listed twice", name);
                free(name);
                free_types(types, n);
                return -1;
            }
        }
        types = mem_realloc(types, (n + 1) * sizeof *types);
        types[n++] = name;
        if (end == NULL)
            break;
        p = end + 1;
    }
    *out = types;
    *nout = n;
    return 0;
}

static void attempt_close(struct pipeline *p)
{
    if (p->sinks) {
        for (size_t i = 0; i < p->ntypes; i++)
            if (p->sinks[i])
                p->sinks[i]->ops->free(p->sinks[i]);
        free(p->sinks);
        p->sinks = NULL;
    }
    if (p->rd) {
        p->rd->ops->free(p->rd);
        p->rd = NULL;
    }
    json_decref(p->identity);
    json_decref(p->received);
    json_decref(p->durable);
    p->identity = p->received = p->durable = NULL;
    if (p->progress)
        flush_counts(p);
    progress_free(p->progress);
    p->progress = NULL;
}

static char *position_text(const json_t *pos)
{
    char *s = json_dumps(pos, JSON_ENCODE_ANY | JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *copy = mem_strdup(s ? s : "?");
    free(s);
    return copy;
}

static int attempt_open(struct pipeline *p, struct error *err)
{
    struct state *st = NULL;
    int rc = -1;

    if (state_load(p->state_path, &st, err) < 0)
        return -1;
    if (p->factory->reader_new(p->cfg, p->mode, &p->rd, err) < 0)
        goto out;
    if (p->rd->ops->start(p->rd, st ? st->position : NULL, st ? st->schemas : NULL, err) < 0)
        goto out;
    p->identity = p->rd->ops->identity(p->rd);
    if (p->identity == NULL) {
        error_set(err, "%s reader gave no source identity", p->rd->ops->name);
        goto out;
    }
    /* Before any sink restores (a file sink cuts its file back) from a foreign checkpoint. */
    if (st && state_check_source(st, p->identity, p->state_path, err) < 0)
        goto out;
    p->sinks = mem_calloc(p->ntypes, sizeof *p->sinks);
    for (size_t i = 0; i < p->ntypes; i++) {
        const json_t *saved = st && st->sinks ? json_object_get(st->sinks, p->types[i]) : NULL;
        if (p->factory->sink_new(p->types[i], p->cfg, p->render, saved, &p->sinks[i], err) < 0)
            goto out;
    }
    if (st) {
        p->durable = json_incref(st->position);
        p->received = json_incref(st->position);
        char *pos = position_text(st->position);
        log_info("pipeline", "resuming after %s from state file %s", pos, p->state_path);
        free(pos);
    } else {
        log_info("pipeline", "no state file %s: starting fresh", p->state_path);
    }
    p->unacked = false;
    p->dirty = false;
    p->in_txn = false;
    p->last_checkpoint_ms = clock_mono_ms();
    p->inflight = 0;
    p->run.n = 0;
    p->stop_deadline = -1;
    p->progress = progress_new(p->mc, p->ctl->interactive);
    rc = 0;
out:
    state_free(st);
    return rc;
}

/* Flush every sink, then save the state, then acknowledge: never in another order. */
static int checkpoint(struct pipeline *p, struct error *err)
{
    for (size_t i = 0; i < p->ntypes; i++)
        if (p->sinks[i]->ops->flush(p->sinks[i], err) < 0)
            return -1;
    /* A flush that ended after the stop's deadline is not saved: the caller was promised
     * an exit within shutdown.timeout.ms, and the previous checkpoint is still sound. A pause
     * promised nothing and waits for the flush. */
    if (p->stop_deadline >= 0 && stop_asked(p) && clock_mono_ms() > p->stop_deadline)
        return error_set(err, "the sinks' flush outlasted shutdown.timeout.ms (%" PRId64 " ms)",
                         p->shutdown_timeout_ms);
    p->dirty = false;
    p->last_checkpoint_ms = clock_mono_ms();
    p->inflight = 0;
    /* Before the first COMMIT there is no position to save; the sinks were flushed anyway. */
    if (p->received == NULL) {
        metrics_queue_depth(p->mc, 0);
        return 0;
    }

    struct state st = {
        .connector = (char *)config_name(p->cfg),
        .source = p->identity,
        .position = p->received,
        .schemas = p->rd->ops->schemas(p->rd),
        .sinks = json_object(),
    };
    for (size_t i = 0; i < p->ntypes; i++) {
        json_t *cp = p->sinks[i]->ops->checkpoint(p->sinks[i]);
        if (cp)
            json_object_set_new(st.sinks, p->types[i], cp);
    }
    int rc = state_save(p->state_path, &st, err);
    json_decref(st.schemas);
    json_decref(st.sinks);
    if (rc < 0)
        return -1;
    metrics_checkpoint(p->mc);

    if (p->durable != p->received) {
        json_decref(p->durable);
        p->durable = json_incref(p->received);
        p->unacked = true;
    }
    if (p->unacked) {
        if (p->rd->ops->ack(p->rd, p->durable, err) < 0)
            return -1;
        p->unacked = false;
    }
    if (log_enabled(LOG_DEBUG)) {
        char *pos = position_text(p->durable);
        log_debug("pipeline", "checkpoint at %s", pos);
        free(pos);
    }
    return 0;
}

static bool checkpoint_due(const struct pipeline *p)
{
    return clock_mono_ms() - p->last_checkpoint_ms >= p->flush_interval_ms;
}

/* Counts a change event for the metrics and the progress lines. */
static void count_event(struct pipeline *p, const struct event *ev)
{
    if (ev->op == EVENT_HEARTBEAT) {
        flush_counts(p);
        metrics_heartbeat(p->mc, ev->source.ts_us);
        return;
    }
    if (event_op_code(ev->op) == NULL || ev->table == NULL)
        return;
    struct event_run *run = &p->run;
    if (run->n > 0 &&
        (run->table != ev->table || run->generation != ev->table->generation || run->op != ev->op))
        flush_counts(p);
    if (run->n == 0) {
        /* schema.table for PostgreSQL, db.table for MySQL, as Debezium names them. */
        const char *space = ev->table->schema ? ev->table->schema : ev->table->db;
        snprintf(run->name, sizeof run->name, "%.255s.%.255s", space ? space : "", ev->table->name);
        run->table = ev->table;
        run->generation = ev->table->generation;
        run->op = ev->op;
        run->last_ts_us = 0;
    }
    run->n++;
    if (ev->source.ts_us > 0)
        run->last_ts_us = ev->source.ts_us;
    if (run->n >= COUNT_RUN_MAX)
        flush_counts(p);
    metrics_queue_depth(p->mc, ++p->inflight);
}

static int handle_event(struct pipeline *p, const struct event *ev, struct error *err)
{
    if (ev->op != EVENT_COMMIT) {
        for (size_t i = 0; i < p->ntypes; i++)
            if (p->sinks[i]->ops->write(p->sinks[i], ev, err) < 0)
                return -1;
        p->dirty = true;
        if (ev->op != EVENT_HEARTBEAT)
            p->in_txn = true;
        count_event(p, ev);
        return 0;
    }
    flush_counts(p);
    for (size_t i = 0; i < p->ntypes; i++)
        if (p->sinks[i]->ops->commit(p->sinks[i], ev, err) < 0)
            return -1;
    if (ev->position == NULL)
        return error_set(err, "%s reader sent a COMMIT without a position", p->rd->ops->name);
    json_decref(p->received);
    p->received = json_incref(ev->position);
    p->dirty = true;
    p->in_txn = false;
    if (ev->snapshot_done) {
        progress_snapshot_done(p->progress);
        log_info("pipeline", "snapshot done");
        return checkpoint(p, err);
    }
    if (checkpoint_due(p))
        return checkpoint(p, err);
    return 0;
}

/* The final checkpoint when stopping; its failure is never retried. */
static int final_checkpoint(struct pipeline *p, struct error *err)
{
    if (!p->dirty)
        return 0;
    if (checkpoint(p, err) < 0) {
        log_error("pipeline", "%s", err->msg);
        error_wrap(err, "final checkpoint failed, the state file keeps the previous one: ");
        err->retriable = false;
        return -1;
    }
    /* Work a sink may only do once a checkpoint holds it (committing the Doris two-phase loads
     * the state file now lists) would otherwise wait for the next start, and pre-committed
     * loads expire on the server. If it fails, that next start does it from the state file. */
    for (size_t i = 0; i < p->ntypes; i++) {
        struct error poll_err;
        if (p->sinks[i]->ops->poll(p->sinks[i], &poll_err) < 0)
            log_warn("pipeline", "%s after the final checkpoint (done again at the next start)",
                     poll_err.msg);
    }
    return 0;
}

/* Runs one attempt to its end: 0 when stopped, paused or done, -1 on failure. */
static int attempt_run(struct pipeline *p, struct error *err)
{
    for (;;) {
        if (leave_asked(p)) {
            /* The transaction in the sinks must end before a checkpoint can be taken. */
            if (p->stop_deadline < 0) {
                p->stop_deadline = clock_mono_ms() + p->shutdown_timeout_ms;
                if (p->in_txn)
                    log_info("pipeline", "stopping after the current transaction ends");
            }
            if (!p->in_txn)
                break;
            if (clock_mono_ms() >= p->stop_deadline) {
                if (!stop_asked(p)) {
                    log_warn("pipeline", "pausing inside a transaction after "
                                         "shutdown.timeout.ms: it will be read again on resume");
                    return 0;
                }
                error_set(err,
                          "stopped inside a transaction after shutdown.timeout.ms (%" PRId64
                          " ms) without a final checkpoint: the state file keeps the previous "
                          "one and the transaction will be read again",
                          p->shutdown_timeout_ms);
                return -1;
            }
        }
        if (p->untimed_events == 0 || p->untimed_events >= PROGRESS_TICK_EVENTS) {
            progress_tick(p->progress);
            p->untimed_events = 0;
        }
        for (size_t i = 0; i < p->ntypes; i++)
            if (p->sinks[i]->ops->poll(p->sinks[i], err) < 0)
                return -1;

        const struct event *ev = NULL;
        int rc = p->rd->ops->next(p->rd, &ev, (int)p->poll_interval_ms, err);
        if (rc < 0)
            return -1;
        if (rc == 1) {
            if (p->in_txn)
                return error_set(err, "%s reader ended the snapshot inside a transaction",
                                 p->rd->ops->name);
            log_info("pipeline", "snapshot complete");
            p->finished = true;
            return final_checkpoint(p, err);
        }
        if (ev == NULL) {
            p->untimed_events = 0;
            if (p->dirty && !p->in_txn && checkpoint_due(p) && checkpoint(p, err) < 0)
                return -1;
            continue;
        }
        p->untimed_events++;
        if (handle_event(p, ev, err) < 0)
            return -1;
    }
    return final_checkpoint(p, err);
}

/* Sleeps ms in short steps, returning early when asked to stop or pause. */
static void backoff_sleep(const struct pipeline *p, int64_t ms)
{
    int64_t until = clock_mono_ms() + ms;
    while (!leave_asked(p)) {
        int64_t left = until - clock_mono_ms();
        if (left <= 0)
            return;
        if (left > 100)
            left = 100;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)left * 1000000L};
        nanosleep(&ts, NULL);
    }
}

int pipeline_state_path(const struct config *cfg, const char **out, struct error *err)
{
    return config_required(cfg, STATE_PATH_KEY, out, err);
}

static int pipeline_setup(struct pipeline *p, struct error *err)
{
    if (pipeline_state_path(p->cfg, &p->state_path, err) < 0)
        return -1;
    if (config_int(p->cfg, "offset.flush.interval.ms", 1000, 0, 86400000, &p->flush_interval_ms,
                   err) < 0)
        return -1;
    if (config_int(p->cfg, "poll.interval.ms", 500, 0, 60000, &p->poll_interval_ms, err) < 0)
        return -1;
    if (config_int(p->cfg, "shutdown.timeout.ms", 10000, 0, 86400000, &p->shutdown_timeout_ms,
                   err) < 0)
        return -1;
    if (parse_sink_types(p->cfg, &p->types, &p->ntypes, err) < 0)
        return -1;
    return render_new(p->cfg, &p->render, err);
}

/* Waits, with nothing open, while paused. Returns false when asked to stop meanwhile. */
static bool wait_paused(struct pipeline *p)
{
    if (!atomic_load(&p->ctl->pause))
        return !stop_asked(p);
    log_info("pipeline", "paused: the state file holds the last checkpoint");
    metrics_queue_depth(p->mc, 0);
    atomic_store(&p->ctl->parked, true);
    while (atomic_load(&p->ctl->pause) && !stop_asked(p)) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    atomic_store(&p->ctl->parked, false);
    if (stop_asked(p))
        return false;
    log_info("pipeline", "resuming from the state file");
    return true;
}

int pipeline_run_ctl(const struct config *cfg, enum reader_mode mode,
                     const struct pipeline_factory *factory, struct pipeline_control *ctl,
                     struct error *err)
{
    static const struct pipeline_factory real = {.reader_new = reader_new, .sink_new = sink_new};
    struct pipeline p = {.cfg = cfg,
                         .mode = mode,
                         .factory = factory ? factory : &real,
                         .ctl = ctl,
                         .mc = ctl->metrics};
    int64_t backoff = BACKOFF_FIRST_MS;
    int lock_fd = -1;
    struct metrics_conn *outer = metrics_current();
    metrics_bind(p.mc);
    int rc = pipeline_setup(&p, err);
    if (rc == 0)
        rc = state_lock(p.state_path, &lock_fd, err);
    for (size_t i = 0; rc == 0 && i < p.ntypes; i++)
        metrics_sink_declare(p.mc, p.types[i]);

    while (rc == 0) {
        if (!wait_paused(&p))
            break;
        int64_t started = clock_mono_ms();
        rc = attempt_open(&p, err);
        if (rc == 0)
            rc = attempt_run(&p, err);
        attempt_close(&p);
        if (rc == 0) {
            if (p.finished || stop_asked(&p) || !atomic_load(&ctl->pause))
                break;
            continue;
        }
        if (!err->retriable)
            break;
        if (stop_asked(&p)) {
            log_warn("pipeline",
                     "%s; stopping without a final checkpoint: the state file keeps "
                     "the last one",
                     err->msg);
            rc = 0;
            break;
        }
        if (clock_mono_ms() - started >= BACKOFF_RESET_MS)
            backoff = BACKOFF_FIRST_MS;
        log_warn("pipeline", "%s; restarting from the state file in %" PRId64 " s", err->msg,
                 backoff / 1000);
        backoff_sleep(&p, backoff);
        if (stop_asked(&p)) {
            log_info("pipeline", "stopped while waiting to restart; the state file keeps the "
                                 "last checkpoint");
            rc = 0;
            break;
        }
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
        rc = 0;
    }
    if (lock_fd >= 0)
        close(lock_fd);
    if (p.render)
        render_free(p.render);
    free_types(p.types, p.ntypes);
    metrics_bind(outer);
    return rc;
}

int pipeline_run_with(const struct config *cfg, enum reader_mode mode,
                      const struct pipeline_factory *factory, atomic_int *stop, struct error *err)
{
    struct pipeline_control ctl = {.stop = stop};
    return pipeline_run_ctl(cfg, mode, factory, &ctl, err);
}

int pipeline_run(const struct config *cfg, enum reader_mode mode, atomic_int *stop,
                 struct error *err)
{
    return pipeline_run_with(cfg, mode, NULL, stop, err);
}

static int check_line(FILE *out, int failed, const char *what, const struct error *err)
{
    if (failed)
        fprintf(out, "FAIL %s: %s\n", what, err->msg);
    return failed ? 1 : 0;
}

int pipeline_check(const struct config *cfg, FILE *out)
{
    struct error err;
    error_clear(&err);
    if (config_validate(cfg, &err) < 0) {
        fprintf(out, "FAIL config: %s\n", err.msg);
        return 1;
    }
    fprintf(out, "ok config: valid\n");

    int failures = 0;
    struct pipeline p = {.cfg = cfg};
    if (pipeline_setup(&p, &err) < 0) {
        fprintf(out, "FAIL config: %s\n", err.msg);
        free_types(p.types, p.ntypes);
        return 1;
    }

    struct state *st = NULL;
    if (state_load(p.state_path, &st, &err) < 0)
        failures += check_line(out, 1, "state file", &err);
    else if (st == NULL)
        fprintf(out, "ok state file: %s does not exist yet (the first run takes a snapshot)\n",
                p.state_path);
    else
        fprintf(out, "ok state file: %s is readable\n", p.state_path);

    struct reader *rd = NULL;
    if (reader_new(cfg, READER_RUN, &rd, &err) < 0) {
        failures += check_line(out, 1, "reader", &err);
    } else {
        failures += rd->ops->check(rd, out);
        reader_free(rd);
    }
    for (size_t i = 0; i < p.ntypes; i++) {
        struct sink *sk = NULL;
        char what[64];
        snprintf(what, sizeof what, "%s sink", p.types[i]);
        /* No saved checkpoint: a check must never cut back a file a running dbtail writes. */
        if (sink_new(p.types[i], cfg, p.render, NULL, &sk, &err) < 0) {
            failures += check_line(out, 1, what, &err);
            continue;
        }
        failures += sk->ops->check(sk, out);
        sink_free(sk);
    }
    state_free(st);
    if (p.render)
        render_free(p.render);
    free_types(p.types, p.ntypes);
    return failures;
}
