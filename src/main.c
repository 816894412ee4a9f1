/*
 * main: the command line (a stable contract; scripts depend on its exit codes).
 *   0  done (for `run`: stopped by SIGINT/SIGTERM after a final checkpoint)
 *   1  a runtime failure, or `check` found a problem
 *   2  a wrong argument, unknown command, or a configuration error
 * The first SIGINT/SIGTERM asks the pipeline (every connector's, for `serve`) to flush and
 * checkpoint within shutdown.timeout.ms; past it, or at a second signal, dbtail exits at once
 * with status 1, leaving the state file at the last checkpoint (nothing is lost: the changes
 * after it are read again on the next start).
 */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../readers/decode.h"
#include "config.h"
#include "connect.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"
#include "state.h"

static atomic_int stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    if (stop_requested) {
        static const char msg[] =
            "dbtail: second signal: exiting now, the state file keeps the last checkpoint\n";
        ssize_t n = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)n;
        _exit(1);
    }
    stop_requested = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

/* The stop's hard bound. The pipeline gives up at shutdown.timeout.ms by itself, but only
 * between calls: a flush blocked in a call that never returns (a hung destination) is ended
 * here, a second later. */
static int64_t watchdog_timeout_ms;

static void *watchdog(void *arg)
{
    (void)arg;
    struct timespec tick = {.tv_sec = 0, .tv_nsec = 50 * 1000000L};
    while (!stop_requested)
        nanosleep(&tick, NULL);
    int64_t ms = watchdog_timeout_ms + 1000;
    struct timespec wait = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&wait, &wait) < 0)
        ;
    log_error("dbtail",
              "the stop took longer than shutdown.timeout.ms (%" PRId64 " ms): exiting without a "
              "final checkpoint, the state file keeps the last one",
              watchdog_timeout_ms);
    _exit(1);
}

static int start_watchdog(const struct config *cfg, struct error *err)
{
    if (config_int(cfg, "shutdown.timeout.ms", 10000, 0, 86400000, &watchdog_timeout_ms, err) < 0)
        return -1;
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int e = pthread_create(&t, &attr, watchdog, NULL);
    pthread_attr_destroy(&attr);
    if (e != 0)
        return error_set(err, "cannot start the shutdown watchdog: %s", strerror(e));
    return 0;
}

static void usage(FILE *out)
{
    fputs("usage: dbtail COMMAND -c FILE\n"
          "       dbtail serve [-c WORKER_FILE] [--port N] [--state-dir DIR]\n"
          "       dbtail decode [--format debezium|flat] [--threads N] BINLOG_FILE...\n"
          "\n"
          "commands:\n"
          "  run       take the snapshot snapshot.mode asks for, then stream changes until\n"
          "            SIGINT or SIGTERM (then flush, save the offsets and exit 0)\n"
          "  snapshot  take a snapshot, then exit\n"
          "  check     check the configuration, the source and every sink\n"
          "  status    show the saved position and the sinks' checkpoints\n"
          "  serve     run connectors behind a Kafka Connect REST API (POST /connectors, ...)\n"
          "            and serve /metrics; -c names the worker's settings (rest.port,\n"
          "            state.dir, ...)\n"
          "  decode    decode MySQL/MariaDB binlog files offline\n"
          "\n"
          "options:\n"
          "  -c, --config FILE  the connector's configuration: a Kafka Connect JSON body, a\n"
          "                     flat JSON object or a Debezium Server application.properties\n"
          "  --port N           serve: the REST API's port (rest.port, default 8083)\n"
          "  --state-dir DIR    serve: where connectors' configs and offsets live (state.dir)\n"
          "  -h, --help         show this help\n"
          "  -V, --version      show the version\n",
          out);
}

static int usage_error(const char *fmt, ...) DBT_PRINTF(1, 2);

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("dbtail: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    usage(stderr);
    return 2;
}

/* Sets the logger from log.level and log.format before anything logs. */
static int setup_logging(const struct config *cfg, struct error *err)
{
    static const char *const formats[] = {"text", "json", NULL};
    const char *level_name = config_str(cfg, "log.level", "info");
    enum log_level level;
    int format;

    if (log_level_parse(level_name, &level) < 0)
        return error_set(err, "log.level: unknown level \"%s\" (use debug, info, warn or error)",
                         level_name);
    if (config_choice(cfg, "log.format", "text", formats, &format, err) < 0)
        return -1;
    log_setup(level, format == 1);
    return 0;
}

static int cmd_status(const struct config *cfg)
{
    struct error err;
    const char *path;
    struct state *st = NULL;

    if (pipeline_state_path(cfg, &path, &err) < 0 || state_load(path, &st, &err) < 0) {
        log_error("dbtail", "%s", err.msg);
        return 1;
    }
    if (st == NULL) {
        printf("no state file yet: %s (the first run takes a snapshot)\n", path);
        return 0;
    }
    printf("state file: %s\n", path);
    state_print(st, stdout);
    state_free(st);
    return 0;
}

static int cmd_pipeline(const struct config *cfg, enum reader_mode mode)
{
    struct error err;
    error_clear(&err);
    install_signals();
    if (start_watchdog(cfg, &err) < 0) {
        log_error("dbtail", "%s", err.msg);
        return 1;
    }
    struct metrics *m = metrics_new();
    const char *name = config_name(cfg);
    struct pipeline_control ctl = {
        .stop = &stop_requested,
        .metrics = metrics_connector(m, name ? name : "dbtail"),
        .interactive = true,
    };
    metrics_state(ctl.metrics, "RUNNING");
    struct metrics_server *srv = NULL;
    int64_t port;
    int rc = config_int(cfg, "metrics.port", 0, 0, 65535, &port, &err);
    /* Prometheus scrapes from another host: every interface, and nothing secret is served. */
    if (rc == 0 && port > 0 &&
        (rc = metrics_server_start(m, "0.0.0.0", (int)port, &srv, &err)) == 0)
        log_info("dbtail", "metrics on http://0.0.0.0:%d/metrics", (int)port);
    if (rc == 0)
        rc = pipeline_run_ctl(cfg, mode, NULL, &ctl, &err);
    metrics_server_stop(srv);
    metrics_free(m);
    if (rc < 0) {
        log_error("dbtail", "%s", err.msg);
        return 1;
    }
    return 0;
}

static int cmd_serve(const struct config *worker)
{
    struct error err;
    error_clear(&err);
    install_signals();
    if (start_watchdog(worker, &err) < 0 || connect_serve(worker, &stop_requested, &err) < 0) {
        log_error("dbtail", "%s", err.msg);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},    {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},         {"port", required_argument, NULL, 'p'},
        {"state-dir", required_argument, NULL, 's'}, {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL;
    const char *port = NULL, *state_dir = NULL;
    int opt;

    /* decode has options of its own. */
    if (argc >= 2 && strcmp(argv[1], "decode") == 0)
        return decode_main(argc - 1, argv + 1);

    while ((opt = getopt_long(argc, argv, "c:hV", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config_path = optarg;
            break;
        case 'p':
            port = optarg;
            break;
        case 's':
            state_dir = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("dbtail %s\n", DBTAIL_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc)
        return usage_error("no command given");
    const char *command = argv[optind];
    if (optind + 1 < argc)
        return usage_error("unexpected argument \"%s\"", argv[optind + 1]);

    enum { RUN, SNAPSHOT, CHECK, STATUS, SERVE } cmd;
    if (strcmp(command, "run") == 0)
        cmd = RUN;
    else if (strcmp(command, "serve") == 0)
        cmd = SERVE;
    else if (strcmp(command, "snapshot") == 0)
        cmd = SNAPSHOT;
    else if (strcmp(command, "check") == 0)
        cmd = CHECK;
    else if (strcmp(command, "status") == 0)
        cmd = STATUS;
    else
        return usage_error("unknown command \"%s\"", command);
    if (cmd != SERVE && (port || state_dir))
        return usage_error("--port and --state-dir are options of serve");
    if (config_path == NULL && cmd != SERVE)
        return usage_error("%s needs -c FILE", command);

    struct error err;
    struct config *cfg = NULL;
    error_clear(&err);
    if (config_path == NULL) {
        cfg = config_new();
    } else if (config_load(config_path, &cfg, &err) < 0) {
        fprintf(stderr, "dbtail: %s\n", err.msg);
        if (cfg)
            config_free(cfg);
        return 2;
    }
    if (port)
        config_set(cfg, "rest.port", port);
    if (state_dir)
        config_set(cfg, "state.dir", state_dir);
    /* A worker file holds no connector: it is checked as serve reads it. */
    if (setup_logging(cfg, &err) < 0 ||
        (cmd != CHECK && cmd != SERVE && config_validate(cfg, &err) < 0)) {
        fprintf(stderr, "dbtail: %s\n", err.msg);
        if (cfg)
            config_free(cfg);
        return 2;
    }

    int status = 0;
    switch (cmd) {
    case RUN:
        status = cmd_pipeline(cfg, READER_RUN);
        break;
    case SNAPSHOT:
        status = cmd_pipeline(cfg, READER_SNAPSHOT_ONLY);
        break;
    case CHECK:
        status = pipeline_check(cfg, stdout) > 0 ? 1 : 0;
        break;
    case STATUS:
        status = cmd_status(cfg);
        break;
    case SERVE:
        status = cmd_serve(cfg);
        break;
    }
    config_free(cfg);
    return status;
}
