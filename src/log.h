/*
 * log: the one logger. Lines go to stderr as
 *   2026-01-01T12:00:00.123Z WARN pg: lost connection to 127.0.0.1:5432: ...
 * or, with log.format=json, as one JSON object per line. The level is tested before any
 * formatting so that disabled debug lines cost one comparison. Secrets must never be passed here.
 * Lines are written whole under a lock, so threads (one per connector in `dbtail serve`) never
 * interleave; a thread that works for a connector names it once and its lines carry the name.
 */
#ifndef DBTAIL_LOG_H
#define DBTAIL_LOG_H

#include <stdbool.h>

#include "error.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/** Parses "debug", "info", "warn"/"warning", "error" (any case); returns -1 when unknown. */
int log_level_parse(const char *name, enum log_level *out);

/** Sets the threshold and the output form (plain text or JSON lines). */
void log_setup(enum log_level level, bool json);

/** True when a line at `level` would be written. */
bool log_enabled(enum log_level level);

/** Names the connector the calling thread works for (borrowed until cleared with NULL); its
 * lines then read "INFO [name] pipeline: ..." or carry "connector" in JSON. */
void log_set_connector(const char *name);

/** On a terminal, keeps `text` as a transient status line under the log lines (redrawn after
 * each of them); NULL removes it. Does nothing when stderr is not a terminal or in JSON form. */
void log_status(const char *text);

/** True when lines go to a terminal as text, where log_status shows its line. */
bool log_terminal(void);

/** Writes one line; `component` names the part speaking ("pg", "doris", "pipeline"). */
void log_msg(enum log_level level, const char *component, const char *fmt, ...) DBT_PRINTF(3, 4);

#define log_debug(comp, ...)                                                                       \
    do {                                                                                           \
        if (log_enabled(LOG_DEBUG))                                                                \
            log_msg(LOG_DEBUG, comp, __VA_ARGS__);                                                 \
    } while (0)
#define log_info(comp, ...)  log_msg(LOG_INFO, comp, __VA_ARGS__)
#define log_warn(comp, ...)  log_msg(LOG_WARN, comp, __VA_ARGS__)
#define log_error(comp, ...) log_msg(LOG_ERROR, comp, __VA_ARGS__)

#endif
