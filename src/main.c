/*
 * main: the command line (a stable contract; scripts depend on its exit codes).
 *   0  done (for `run`: stopped by SIGINT/SIGTERM after a final checkpoint)
 *   1  a runtime failure, or `check` found a problem
 *   2  a wrong argument, unknown command, or a configuration error
 * The first SIGINT/SIGTERM asks the pipeline to flush and checkpoint; a second one exits at
 * once with status 1, leaving the state file at the last checkpoint (nothing is lost: the
 * changes after it are read again on the next start).
 */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../readers/decode.h"
#include "config.h"
#include "log.h"
#include "pipeline.h"
#include "state.h"

static volatile sig_atomic_t stop_requested;

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

static void usage(FILE *out)
{
    fputs("usage: dbtail COMMAND -c FILE\n"
          "       dbtail decode [--format debezium|flat] BINLOG_FILE...\n"
          "\n"
          "commands:\n"
          "  run       take the snapshot snapshot.mode asks for, then stream changes until\n"
          "            SIGINT or SIGTERM (then flush, save the offsets and exit 0)\n"
          "  snapshot  take a snapshot, then exit\n"
          "  check     check the configuration, the source and every sink\n"
          "  status    show the saved position and the sinks' checkpoints\n"
          "  decode    decode MySQL/MariaDB binlog files offline\n"
          "\n"
          "options:\n"
          "  -c, --config FILE  the connector's configuration: a Kafka Connect JSON body, a\n"
          "                     flat JSON object or a Debezium Server application.properties\n"
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
    if (pipeline_run(cfg, mode, &stop_requested, &err) < 0) {
        log_error("dbtail", "%s", err.msg);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL;
    int opt;

    /* decode has options of its own. */
    if (argc >= 2 && strcmp(argv[1], "decode") == 0)
        return decode_main(argc - 1, argv + 1);

    while ((opt = getopt_long(argc, argv, "c:hV", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config_path = optarg;
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

    enum { RUN, SNAPSHOT, CHECK, STATUS } cmd;
    if (strcmp(command, "run") == 0)
        cmd = RUN;
    else if (strcmp(command, "snapshot") == 0)
        cmd = SNAPSHOT;
    else if (strcmp(command, "check") == 0)
        cmd = CHECK;
    else if (strcmp(command, "status") == 0)
        cmd = STATUS;
    else
        return usage_error("unknown command \"%s\"", command);
    if (config_path == NULL)
        return usage_error("%s needs -c FILE", command);

    struct error err;
    struct config *cfg = NULL;
    error_clear(&err);
    if (config_load(config_path, &cfg, &err) < 0 || setup_logging(cfg, &err) < 0 ||
        (cmd != CHECK && config_validate(cfg, &err) < 0)) {
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
    }
    config_free(cfg);
    return status;
}
