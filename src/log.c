/* log: level-filtered lines on stderr, plain or JSON (see log.h). */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

static enum log_level log_threshold = LOG_INFO;
static bool log_json;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local const char *log_connector;
/* The transient status line (terminal only), guarded by log_lock. */
static char status_text[512];
static bool status_on;

/* Erases the status line so that a log line starts at the left margin. */
static const char CLEAR_LINE[] = "\r\033[K";

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

int log_level_parse(const char *name, enum log_level *out)
{
    static const struct {
        const char *name;
        enum log_level level;
    } names[] = {{"debug", LOG_DEBUG}, {"trace", LOG_DEBUG},  {"info", LOG_INFO},
                 {"warn", LOG_WARN},   {"warning", LOG_WARN}, {"error", LOG_ERROR}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            *out = names[i].level;
            return 0;
        }
    }
    return -1;
}

void log_setup(enum log_level level, bool json)
{
    log_threshold = level;
    log_json = json;
}

bool log_enabled(enum log_level level)
{
    return level >= log_threshold;
}

void log_set_connector(const char *name)
{
    log_connector = name;
}

bool log_terminal(void)
{
    return !log_json && isatty(STDERR_FILENO);
}

void log_status(const char *text)
{
    if (!log_terminal())
        return;
    pthread_mutex_lock(&log_lock);
    if (text) {
        snprintf(status_text, sizeof status_text, "%s", text);
        fprintf(stderr, "%s%s", CLEAR_LINE, status_text);
        status_on = true;
    } else if (status_on) {
        fputs(CLEAR_LINE, stderr);
        status_on = false;
    }
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
}

void log_msg(enum log_level level, const char *component, const char *fmt, ...)
{
    char text[2048];
    char stamp[96];
    struct timespec now;
    struct tm tm;
    va_list ap;

    if (!log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(now.tv_nsec / 1000000));

    struct buf line;
    buf_init(&line);
    if (log_json) {
        buf_puts(&line, "{\"ts\":");
        buf_json_str(&line, stamp, strlen(stamp));
        buf_puts(&line, ",\"level\":");
        buf_json_str(&line, level_names[level], strlen(level_names[level]));
        if (log_connector) {
            buf_puts(&line, ",\"connector\":");
            buf_json_str(&line, log_connector, strlen(log_connector));
        }
        buf_puts(&line, ",\"component\":");
        buf_json_str(&line, component, strlen(component));
        buf_puts(&line, ",\"msg\":");
        buf_json_str(&line, text, strlen(text));
        buf_puts(&line, "}\n");
    } else if (log_connector) {
        buf_printf(&line, "%s %s [%s] %s: %s\n", stamp, level_names[level], log_connector,
                   component, text);
    } else {
        buf_printf(&line, "%s %s %s: %s\n", stamp, level_names[level], component, text);
    }
    pthread_mutex_lock(&log_lock);
    if (status_on)
        fputs(CLEAR_LINE, stderr);
    fwrite(line.data, 1, line.len, stderr);
    if (status_on)
        fputs(status_text, stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
    buf_free(&line);
}
