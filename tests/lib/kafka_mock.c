/*
 * kafka_mock: a Kafka cluster for tests, librdkafka's mock cluster (rdkafka_mock.h) hosted in a
 * process of its own. It speaks enough of the protocol for dbtail's producer (idempotent,
 * transactional), kcat and python3-confluent-kafka, keeps everything in memory and creates
 * topics with 4 partitions on first use. A test tool, not part of dbtail.
 *
 *   kafka_mock [--brokers N] [--ready-file FILE] [--control SOCKET]
 *       prints the bootstrap address as one line on stdout (and into FILE, written whole by a
 *       rename), then serves until SIGTERM/SIGINT. Commands, one per line, come on stdin (the
 *       reply on stdout) or on the unix socket SOCKET (the reply on the connection):
 *         down ID | up ID       take broker ID (1..N, or -1 for all) down or up again
 *         topic NAME PARTITIONS create a topic
 *         topic-error NAME CODE make metadata requests for NAME fail with Kafka error CODE
 *                               (3: unknown topic; 0 clears it)
 *         bootstrap             print the bootstrap address
 *       Each reply is "ok ..." or "error: ...".
 *   kafka_mock --send SOCKET COMMAND...
 *       sends one command to a running kafka_mock, prints its reply, exits 0 when it is "ok".
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int unix_address(const char *path, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa->sun_path) {
        fprintf(stderr, "kafka_mock: socket path too long: %s\n", path);
        return -1;
    }
    strcpy(sa->sun_path, path);
    return 0;
}

static int send_command(const char *path, int argc, char **argv)
{
    struct sockaddr_un sa;
    if (unix_address(path, &sa) < 0)
        return 2;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        fprintf(stderr, "kafka_mock: cannot connect to %s: %s\n", path, strerror(errno));
        return 2;
    }
    char line[1024] = "";
    for (int i = 0; i < argc; i++) {
        strncat(line, argv[i], sizeof line - strlen(line) - 2);
        strncat(line, i + 1 < argc ? " " : "\n", sizeof line - strlen(line) - 1);
    }
    if (write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
        fprintf(stderr, "kafka_mock: cannot send to %s: %s\n", path, strerror(errno));
        close(fd);
        return 2;
    }
    char reply[1024];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof reply - 1 && (r = read(fd, reply + n, sizeof reply - 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    reply[n] = '\0';
    fputs(reply, stdout);
    return strncmp(reply, "ok", 2) == 0 ? 0 : 1;
}

/* Runs one command line; the reply goes into reply. */
static void run_command(rd_kafka_mock_cluster_t *mc, char *line, char *reply, size_t len)
{
    char *words[4] = {0};
    int n = 0;
    for (char *save = NULL, *w = strtok_r(line, " \t\r\n", &save); w && n < 4;
         w = strtok_r(NULL, " \t\r\n", &save))
        words[n++] = w;
    if (n == 0) {
        snprintf(reply, len, "error: empty command\n");
        return;
    }
    rd_kafka_resp_err_t e;
    if (n == 2 && (strcmp(words[0], "down") == 0 || strcmp(words[0], "up") == 0)) {
        int32_t id = (int32_t)atoi(words[1]);
        e = strcmp(words[0], "down") == 0 ? rd_kafka_mock_broker_set_down(mc, id)
                                          : rd_kafka_mock_broker_set_up(mc, id);
    } else if (n == 3 && strcmp(words[0], "topic") == 0) {
        e = rd_kafka_mock_topic_create(mc, words[1], atoi(words[2]), 1);
    } else if (n == 3 && strcmp(words[0], "topic-error") == 0) {
        rd_kafka_mock_topic_set_error(mc, words[1], (rd_kafka_resp_err_t)atoi(words[2]));
        e = RD_KAFKA_RESP_ERR_NO_ERROR;
    } else if (n == 1 && strcmp(words[0], "bootstrap") == 0) {
        snprintf(reply, len, "ok %s\n", rd_kafka_mock_cluster_bootstraps(mc));
        return;
    } else {
        snprintf(reply, len, "error: unknown command \"%s\"\n", words[0]);
        return;
    }
    if (e)
        snprintf(reply, len, "error: %s\n", rd_kafka_err2str(e));
    else
        snprintf(reply, len, "ok\n");
}

static int write_ready_file(const char *path, const char *bootstrap)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL || fprintf(f, "%s\n", bootstrap) < 0 || fclose(f) != 0 ||
        rename(tmp, path) != 0) {
        fprintf(stderr, "kafka_mock: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int brokers = 1;
    const char *ready = NULL, *control = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--send") == 0 && i + 2 < argc)
            return send_command(argv[i + 1], argc - i - 2, argv + i + 2);
        if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc)
            brokers = atoi(argv[++i]);
        else if (strcmp(argv[i], "--ready-file") == 0 && i + 1 < argc)
            ready = argv[++i];
        else if (strcmp(argv[i], "--control") == 0 && i + 1 < argc)
            control = argv[++i];
        else {
            fprintf(stderr, "usage: kafka_mock [--brokers N] [--ready-file FILE] "
                            "[--control SOCKET] | --send SOCKET COMMAND...\n");
            return 2;
        }
    }
    if (brokers < 1) {
        fprintf(stderr, "kafka_mock: --brokers must be at least 1\n");
        return 2;
    }

    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* The handle only hosts the cluster; it connects nowhere and has nothing to say. */
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (rk == NULL) {
        fprintf(stderr, "kafka_mock: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (mc == NULL) {
        fprintf(stderr, "kafka_mock: cannot create the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int lfd = -1;
    if (control) {
        struct sockaddr_un addr;
        if (unix_address(control, &addr) < 0)
            return 1;
        unlink(control);
        lfd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 8) < 0) {
            fprintf(stderr, "kafka_mock: cannot listen on %s: %s\n", control, strerror(errno));
            return 1;
        }
    }

    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
    printf("%s\n", bootstrap);
    fflush(stdout);
    if (ready && write_ready_file(ready, bootstrap) < 0)
        stop = 1;

    bool stdin_open = true;
    char in[4096], line[1024], reply[1024];
    size_t inlen = 0;
    while (!stop) {
        struct pollfd fds[2] = {{.fd = stdin_open ? 0 : -1, .events = POLLIN},
                                {.fd = lfd, .events = POLLIN}};
        if (poll(fds, 2, 500) <= 0)
            continue;
        if (fds[0].revents) {
            ssize_t n = read(0, in + inlen, sizeof in - 1 - inlen);
            if (n <= 0) {
                stdin_open = false; /* run on without it, e.g. when started with </dev/null */
            } else {
                inlen += (size_t)n;
                char *nl;
                while ((nl = memchr(in, '\n', inlen)) != NULL) {
                    size_t l = (size_t)(nl - in) + 1;
                    snprintf(line, sizeof line, "%.*s", (int)l, in);
                    memmove(in, in + l, inlen - l);
                    inlen -= l;
                    run_command(mc, line, reply, sizeof reply);
                    fputs(reply, stdout);
                    fflush(stdout);
                }
                if (inlen == sizeof in - 1)
                    inlen = 0; /* a line longer than any command: drop it */
            }
        }
        if (fds[1].revents) {
            int cfd = accept(lfd, NULL, NULL);
            if (cfd < 0)
                continue;
            ssize_t n = read(cfd, line, sizeof line - 1);
            if (n > 0) {
                line[n] = '\0';
                run_command(mc, line, reply, sizeof reply);
                if (write(cfd, reply, strlen(reply)) < 0)
                    fprintf(stderr, "kafka_mock: reply lost: %s\n", strerror(errno));
            }
            close(cfd);
        }
    }

    if (lfd >= 0) {
        close(lfd);
        unlink(control);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
