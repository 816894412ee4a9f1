/*
 * connect: `dbtail serve`, a Kafka Connect worker's REST API in front of any number of
 * connectors, each a pipeline in a thread of its own with its own state file. Calls, JSON
 * shapes and status codes are Connect's (POST /connectors, GET .../status, PUT .../pause, ...),
 * so the curl commands and tools written for Debezium on Connect work unchanged; /metrics adds
 * the Prometheus exposition of every connector.
 *
 * Each connector's config is kept in <state.dir>/<name>.json (Connect's config topic), with
 * whether it is paused, so a restarted `serve` brings its connectors back as they were; its
 * offsets go to <state.dir>/<name>.offsets unless its config names
 * offset.storage.file.filename. A connector whose pipeline fails is FAILED with the error as
 * its trace and leaves the others running. DELETE stops a connector and forgets its config but
 * keeps its offsets, as Connect does.
 *
 * Worker keys (a properties or JSON file): rest.host (127.0.0.1), rest.port (8083), or
 * Connect's listeners=http://HOST:PORT; state.dir (.); rest.basic.auth.user and
 * rest.basic.auth.password (no authentication when unset); shutdown.timeout.ms, log.level,
 * log.format. Other keys of a Connect worker file are named once in the log and ignored.
 */
#ifndef DBTAIL_CONNECT_H
#define DBTAIL_CONNECT_H

#include <stdatomic.h>

#include "config.h"
#include "error.h"

/** Serves until *stop becomes non-zero, then stops every connector (each flushes and
 * checkpoints) and then the server. worker is borrowed. Returns 0, or -1 with *err set when
 * the server cannot start or a connector did not stop cleanly. */
DBT_MUSTCHECK int connect_serve(const struct config *worker, atomic_int *stop, struct error *err);

#endif
