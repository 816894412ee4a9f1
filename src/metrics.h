/*
 * metrics: the process's Prometheus registry and its text exposition (format 0.0.4).
 *
 * Every series carries the label connector. A connector's series live in a struct
 * metrics_conn that the registry owns; the pipeline of that connector updates them from its
 * thread, the HTTP server renders them from its own, and one mutex per connector keeps the two
 * apart. The pipeline binds its metrics_conn to its thread (metrics_bind) so that the sinks and
 * readers it drives count with one call and no extra parameter. Every update function accepts a
 * NULL metrics_conn (nothing is counted), so code runs the same without a registry.
 *
 * `dbtail run` with metrics.port set serves the registry on /metrics and /health with a small
 * libmicrohttpd server (metrics_server_start); `dbtail serve` adds /metrics to its REST API.
 */
#ifndef DBTAIL_METRICS_H
#define DBTAIL_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

struct metrics;
struct metrics_conn;
struct metrics_server;

/** A new, empty registry (metrics_free). */
struct metrics *metrics_new(void);
/** Frees the registry and every metrics_conn in it; no thread may still use them. */
void metrics_free(struct metrics *m);

/** The series of connector `name` (copied), created on first use; owned by m and valid until
 * metrics_drop or metrics_free. */
struct metrics_conn *metrics_connector(struct metrics *m, const char *name);
/** Removes a connector's series (a deleted connector); no thread may still use them. */
void metrics_drop(struct metrics *m, const char *name);

/** Makes mc (borrowed, may be NULL) the calling thread's connector for metrics_current. */
void metrics_bind(struct metrics_conn *mc);
/** The calling thread's connector, or NULL. */
struct metrics_conn *metrics_current(void);

/** n change events of `table` (schema.table or db.table) with Debezium op letter `op`;
 * source_ts_us is the last one's commit time at the source (0 when unknown), which sets the
 * lag. */
void metrics_events(struct metrics_conn *mc, const char *table, const char *op, int64_t n,
                    int64_t source_ts_us);
/** A heartbeat: the source was seen at source_ts_us with nothing to capture. */
void metrics_heartbeat(struct metrics_conn *mc, int64_t source_ts_us);
/** n snapshot rows read from table. */
void metrics_snapshot_rows(struct metrics_conn *mc, const char *table, int64_t n);
/** The row count a reader expects the snapshot of table to reach (an estimate). */
void metrics_snapshot_expected(struct metrics_conn *mc, const char *table, int64_t rows);
/** The estimate given by metrics_snapshot_expected, or -1 when none. */
int64_t metrics_snapshot_expected_get(struct metrics_conn *mc, const char *table);
/** Change events handed to the sinks since the last checkpoint. */
void metrics_queue_depth(struct metrics_conn *mc, int64_t events);
/** A checkpoint was saved. */
void metrics_checkpoint(struct metrics_conn *mc);
/** The connector's state as its status shows it ("RUNNING", "PAUSED", "FAILED",
 * "UNASSIGNED"; a string literal). */
void metrics_state(struct metrics_conn *mc, const char *state);

/** Makes the four sink counters of `sink` appear at 0 before anything is counted. */
void metrics_sink_declare(struct metrics_conn *mc, const char *sink);
/* Sinks count through the calling thread's connector (metrics_current): one load (a Stream
 * Load, a delivered record, a flushed file write) of `bytes`, a retried request, a failed
 * one. */
void metrics_sink_load(const char *sink, uint64_t bytes);
void metrics_sink_retry(const char *sink);
void metrics_sink_failure(const char *sink);

/** Appends the whole registry in the Prometheus text format to out. */
void metrics_render(struct metrics *m, struct buf *out);

/** Serves GET /metrics and GET /health for m (borrowed) on host:port in a thread of its own;
 * *out is new (metrics_server_stop). */
DBT_MUSTCHECK int metrics_server_start(struct metrics *m, const char *host, int port,
                                       struct metrics_server **out, struct error *err);
/** Stops the server and frees it (NULL is allowed). */
void metrics_server_stop(struct metrics_server *srv);

/** The Content-Type of metrics_render's text. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
