/*
 * progress: what a person watching dbtail sees while it works. During a snapshot, the table
 * being read with its rows, rate and (when the reader gave an estimate through metrics) the
 * time left: on a terminal as a status line redrawn at most four times a second, otherwise as
 * a log line every 10 s. While streaming, a log line every 60 s with the events and the lag.
 * The pipeline feeds it from its thread; nothing here blocks or fails.
 */
#ifndef DBTAIL_PROGRESS_H
#define DBTAIL_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "metrics.h"

struct progress;

/** interactive: a redrawn terminal line instead of periodic log lines; mc (borrowed, may be
 * NULL) gives the snapshot estimates. */
struct progress *progress_new(struct metrics_conn *mc, bool interactive);
/** Clears the status line and frees pr (NULL is allowed). */
void progress_free(struct progress *pr);

/** n snapshot rows of table (schema.table or db.table). */
void progress_snapshot_rows(struct progress *pr, const char *table, int64_t n);
/** The snapshot has ended: the last table's summary line, and the status line goes. */
void progress_snapshot_done(struct progress *pr);
/** n streamed change events, the last one committed at source_ts_us (0 when unknown). */
void progress_stream_events(struct progress *pr, int64_t n, int64_t source_ts_us);
/** Writes what is due; cheap enough to call for every event and every idle poll. */
void progress_tick(struct progress *pr);

#endif
