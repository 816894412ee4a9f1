/*
 * pipeline: moves events from the reader to every configured sink and owns the one invariant:
 * the state file and the source's acknowledgement hold only positions that every sink has
 * reported durable. "Received" (the last COMMIT read) and "durable" (the last COMMIT every sink
 * flushed) are kept apart. On a retriable failure it rebuilds the reader and the sinks from the
 * last saved state after a bounded backoff; on any other it stops with the error.
 */
#ifndef DBTAIL_PIPELINE_H
#define DBTAIL_PIPELINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include "../readers/reader.h"
#include "../sinks/sink.h"
#include "config.h"
#include "error.h"

/** Runs until *stop becomes non-zero (then flushes and checkpoints) or, in snapshot-only
 * mode, until the snapshot is done. Returns 0 or -1 with *err set. */
DBT_MUSTCHECK int pipeline_run(const struct config *cfg, enum reader_mode mode, atomic_int *stop,
                               struct error *err);

/* How pipeline_run_with makes its reader and sinks (same contracts as reader_new and sink_new);
 * tests pass fakes. */
struct pipeline_factory {
    int (*reader_new)(const struct config *cfg, enum reader_mode mode, struct reader **out,
                      struct error *err);
    int (*sink_new)(const char *type, const struct config *cfg, const struct render *rd,
                    const json_t *saved, struct sink **out, struct error *err);
};

/** pipeline_run with the given factory (borrowed); pipeline_run uses reader_new and sink_new. */
DBT_MUSTCHECK int pipeline_run_with(const struct config *cfg, enum reader_mode mode,
                                    const struct pipeline_factory *factory, atomic_int *stop,
                                    struct error *err);

struct metrics_conn;

/* How a pipeline is steered besides a signal (the connector manager of `dbtail serve`). The
 * caller sets the atomics from any thread; the pipeline reads them between events. */
struct pipeline_control {
    atomic_int *stop;             /* required: set by a signal handler; checkpoint and return */
    atomic_bool halt;             /* this pipeline only: checkpoint and return */
    atomic_bool pause;            /* checkpoint, close the reader and sinks, wait until cleared,
                                     then resume from the state file */
    atomic_bool parked;           /* set by the pipeline while it waits paused */
    struct metrics_conn *metrics; /* borrowed, may be NULL: where events are counted */
    bool interactive;             /* snapshot progress as a terminal status line */
};

/** pipeline_run steered by ctl (borrowed); a NULL factory means reader_new and sink_new. The
 * stop after *ctl->stop or halt obeys shutdown.timeout.ms: past it, -1 without a final
 * checkpoint. */
DBT_MUSTCHECK int pipeline_run_ctl(const struct config *cfg, enum reader_mode mode,
                                   const struct pipeline_factory *factory,
                                   struct pipeline_control *ctl, struct error *err);

/** The state file's path from the config (borrowed from cfg). */
DBT_MUSTCHECK int pipeline_state_path(const struct config *cfg, const char **out,
                                      struct error *err);

/** `dbtail check`: one line per prerequisite on out; returns the number of failures. */
int pipeline_check(const struct config *cfg, FILE *out);

#endif
