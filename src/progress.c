/* progress: snapshot and streaming progress for people (see progress.h). */
#include "progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "mem.h"

#define TERMINAL_EVERY_MS     250
#define SNAPSHOT_LOG_EVERY_MS 10000
#define STREAM_LOG_EVERY_MS   60000

struct progress {
    struct metrics_conn *mc;
    bool interactive;

    /* The snapshot table being read. */
    char *table;
    int64_t table_rows;
    int64_t table_start_ms;
    int64_t next_snapshot_ms;
    bool status_shown;

    /* Streaming since the last summary. */
    int64_t stream_events;
    int64_t last_source_us;
    int64_t window_start_ms;
    int64_t next_stream_ms;
};

struct progress *progress_new(struct metrics_conn *mc, bool interactive)
{
    struct progress *pr = mem_calloc(1, sizeof *pr);
    pr->mc = mc;
    pr->interactive = interactive && log_terminal();
    int64_t now = clock_mono_ms();
    pr->window_start_ms = now;
    pr->next_stream_ms = now + STREAM_LOG_EVERY_MS;
    return pr;
}

static void clear_status(struct progress *pr)
{
    if (pr->status_shown) {
        log_status(NULL);
        pr->status_shown = false;
    }
}

void progress_free(struct progress *pr)
{
    if (pr == NULL)
        return;
    clear_status(pr);
    free(pr->table);
    free(pr);
}

/* "snapshot public.customers: 120000 rows (35000 rows/s), 40% of ~300000, 5 s left" */
static void snapshot_text(const struct progress *pr, int64_t now, char *out, size_t outlen)
{
    int64_t elapsed = now - pr->table_start_ms;
    int64_t rate = elapsed > 0 ? pr->table_rows * 1000 / elapsed : 0;
    int n = snprintf(out, outlen, "snapshot %s: %" PRId64 " rows (%" PRId64 " rows/s)", pr->table,
                     pr->table_rows, rate);
    int64_t expected = metrics_snapshot_expected_get(pr->mc, pr->table);
    if (n < 0 || (size_t)n >= outlen || expected <= 0)
        return;
    int64_t left_rows = expected - pr->table_rows;
    int pct = (int)(pr->table_rows * 100 / expected);
    if (left_rows > 0 && rate > 0)
        snprintf(out + n, outlen - (size_t)n, ", %d%% of ~%" PRId64 ", %" PRId64 " s left",
                 pct > 99 ? 99 : pct, expected, (left_rows + rate - 1) / rate);
    else
        snprintf(out + n, outlen - (size_t)n, ", ~%" PRId64 " expected", expected);
}

static void table_finished(struct progress *pr, int64_t now)
{
    if (pr->table == NULL)
        return;
    int64_t elapsed = now - pr->table_start_ms;
    int64_t rate = elapsed > 0 ? pr->table_rows * 1000 / elapsed : 0;
    clear_status(pr);
    log_info("progress", "snapshot %s: %" PRId64 " rows in %.1f s (%" PRId64 " rows/s)", pr->table,
             pr->table_rows, (double)elapsed / 1000.0, rate);
    free(pr->table);
    pr->table = NULL;
}

void progress_snapshot_rows(struct progress *pr, const char *table, int64_t n)
{
    if (pr->table == NULL || strcmp(pr->table, table) != 0) {
        int64_t now = clock_mono_ms();
        table_finished(pr, now);
        pr->table = mem_strdup(table);
        pr->table_rows = 0;
        pr->table_start_ms = now;
        pr->next_snapshot_ms = now + (pr->interactive ? TERMINAL_EVERY_MS : SNAPSHOT_LOG_EVERY_MS);
    }
    pr->table_rows += n;
}

void progress_snapshot_done(struct progress *pr)
{
    table_finished(pr, clock_mono_ms());
}

void progress_stream_events(struct progress *pr, int64_t n, int64_t source_ts_us)
{
    pr->stream_events += n;
    if (source_ts_us > 0)
        pr->last_source_us = source_ts_us;
}

void progress_tick(struct progress *pr)
{
    int64_t now = clock_mono_ms();
    if (pr->table && now >= pr->next_snapshot_ms) {
        char text[512];
        snapshot_text(pr, now, text, sizeof text);
        if (pr->interactive) {
            log_status(text);
            pr->status_shown = true;
            pr->next_snapshot_ms = now + TERMINAL_EVERY_MS;
        } else {
            log_info("progress", "%s", text);
            pr->next_snapshot_ms = now + SNAPSHOT_LOG_EVERY_MS;
        }
    }
    if (now < pr->next_stream_ms)
        return;
    /* Only a stream worth summing up: during a snapshot the line above says enough. */
    if (pr->table == NULL && pr->stream_events > 0) {
        int64_t window = now - pr->window_start_ms;
        char lag[64] = "";
        if (pr->last_source_us > 0) {
            int64_t behind = clock_wall_us() / 1000 - pr->last_source_us / 1000;
            snprintf(lag, sizeof lag, ", last one %.1f s behind the source",
                     (double)(behind > 0 ? behind : 0) / 1000.0);
        }
        log_info("progress", "streaming: %" PRId64 " events in the last %" PRId64 " s (%.1f/s)%s",
                 pr->stream_events, window / 1000,
                 window > 0 ? (double)pr->stream_events * 1000.0 / (double)window : 0.0, lag);
    }
    pr->stream_events = 0;
    pr->last_source_us = 0;
    pr->window_start_ms = now;
    pr->next_stream_ms = now + STREAM_LOG_EVERY_MS;
}
