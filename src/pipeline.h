/*
 * pipeline: moves events from the reader to every configured sink and owns the one invariant:
 * the state file and the source's acknowledgement hold only positions that every sink has
 * reported durable. "Received" (the last COMMIT read) and "durable" (the last COMMIT every sink
 * flushed) are kept apart. On a retriable failure it rebuilds the reader and the sinks from the
 * last saved state after a bounded backoff; on any other it stops with the error.
 */
#ifndef DBTAIL_PIPELINE_H
#define DBTAIL_PIPELINE_H

#include <signal.h>
#include <stdio.h>

#include "../readers/reader.h"
#include "../sinks/sink.h"
#include "config.h"
#include "error.h"

/** Runs until *stop becomes non-zero (then flushes and checkpoints) or, in snapshot-only
 * mode, until the snapshot is done. Returns 0 or -1 with *err set. */
DBT_MUSTCHECK int pipeline_run(const struct config *cfg, enum reader_mode mode,
                               volatile sig_atomic_t *stop, struct error *err);

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
                                    const struct pipeline_factory *factory,
                                    volatile sig_atomic_t *stop, struct error *err);

/** The state file's path from the config (borrowed from cfg). */
DBT_MUSTCHECK int pipeline_state_path(const struct config *cfg, const char **out,
                                      struct error *err);

/** `dbtail check`: one line per prerequisite on out; returns the number of failures. */
int pipeline_check(const struct config *cfg, FILE *out);

#endif
