/*
 * file sink: Debezium's records as JSON lines {"topic":T,"key":K,"value":V} in one file
 * (sink.file.path, "-" for standard output), K and V being the exact JSON texts render writes.
 *
 * Exactly once across crashes: the checkpoint is the file's length after the last successful
 * flush (write + fsync). On a restart the file is cut back to that length before appending, so
 * the lines of transactions that were not yet durable in every sink are written again exactly
 * once. Standard output and other non-regular files cannot be cut back: they get at least once.
 *
 * A writer thread writes each full chunk while the next one is rendered, so that the kernel's
 * copy into the page cache (a third of a snapshot's time into a file) leaves the pipeline
 * thread; flush() waits for it before it writes the rest and syncs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/buf.h"
#include "../src/log.h"
#include "../src/mem.h"
#include "../src/metrics.h"
#include "../src/txmeta.h"
#include "sink.h"

/* Lines are gathered and written in chunks of about this size; only flush() syncs. */
#define FILE_SINK_CHUNK (1024 * 1024)

struct file_sink {
    struct sink base;
    const struct render *render;
    char *path; /* as configured; "-" is standard output */
    int fd;
    bool regular;       /* a regular file other than stdout: synced and cut back */
    struct buf pending; /* lines not yet written */
    struct txmeta *tx;  /* owned: the open source transaction's metadata counters */
    int64_t durable;    /* file length after the last successful flush */

    /* The writer thread, started with the first full chunk; mu guards what follows. */
    bool writer_started;
    pthread_t writer;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct buf writing; /* the chunk the writer holds; empty when it is idle */
    bool quit;
    int write_errno; /* the writer's failure, reported by the next write or flush */
};

static bool file_errno_retriable(int e)
{
    return e == ENOSPC || e == EDQUOT || e == EIO || e == EAGAIN;
}

static int file_io_error(struct file_sink *fs, int e, const char *what, struct error *err)
{
    if (file_errno_retriable(e))
        return error_retry(err, "file sink: could not %s %s: %s", what, fs->path, strerror(e));
    return error_set(err, "file sink: could not %s %s: %s", what, fs->path, strerror(e));
}

/* Writes all of b to the file: 0, or the errno of the failure. */
static int file_write_all(int fd, const struct buf *b)
{
    const char *p = b->data;
    size_t left = b->len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        p += n;
        left -= (size_t)n;
    }
    return 0;
}

static void *file_writer(void *arg)
{
    struct file_sink *fs = arg;
    pthread_mutex_lock(&fs->mu);
    for (;;) {
        while (fs->writing.len == 0 && !fs->quit)
            pthread_cond_wait(&fs->cond, &fs->mu);
        if (fs->writing.len == 0)
            break;
        pthread_mutex_unlock(&fs->mu);
        int e = file_write_all(fs->fd, &fs->writing);
        pthread_mutex_lock(&fs->mu);
        if (e != 0 && fs->write_errno == 0)
            fs->write_errno = e;
        buf_reset(&fs->writing);
        pthread_cond_broadcast(&fs->cond);
    }
    pthread_mutex_unlock(&fs->mu);
    return NULL;
}

/* Waits until the writer holds nothing; its failure, if any, as the sink's error. What it
 * wrote before failing stays past the durable length, and a restart cuts it off. */
static int file_writer_idle(struct file_sink *fs, struct error *err)
{
    if (!fs->writer_started)
        return 0;
    pthread_mutex_lock(&fs->mu);
    while (fs->writing.len > 0)
        pthread_cond_wait(&fs->cond, &fs->mu);
    int e = fs->write_errno;
    fs->write_errno = 0;
    pthread_mutex_unlock(&fs->mu);
    return e != 0 ? file_io_error(fs, e, "write to", err) : 0;
}

/* The writer thread blocks every signal: they are the main thread's. */
static bool file_writer_start(struct file_sink *fs)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    fs->writer_started = pthread_create(&fs->writer, NULL, file_writer, fs) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return fs->writer_started;
}

/* Hands the pending chunk to the writer (written here if no thread could start). */
static int file_write_chunk(struct file_sink *fs, struct error *err)
{
    if (!fs->writer_started && !file_writer_start(fs)) {
        int e = file_write_all(fs->fd, &fs->pending);
        buf_reset(&fs->pending);
        return e != 0 ? file_io_error(fs, e, "write to", err) : 0;
    }
    if (file_writer_idle(fs, err) < 0) {
        buf_reset(&fs->pending);
        return -1;
    }
    pthread_mutex_lock(&fs->mu);
    struct buf t = fs->writing;
    fs->writing = fs->pending;
    fs->pending = t;
    pthread_cond_signal(&fs->cond);
    pthread_mutex_unlock(&fs->mu);
    return 0;
}

static int file_emit(void *ctx, const struct render_record *rec, struct error *err)
{
    struct file_sink *fs = ctx;
    struct buf *b = &fs->pending;

    render_record_line(b, rec);
    if (b->len >= FILE_SINK_CHUNK)
        return file_write_chunk(fs, err);
    return 0;
}

static int file_write(struct sink *sk, const struct event *ev, struct error *err)
{
    struct file_sink *fs = (struct file_sink *)sk;
    if (render_event_lines(fs->render, ev, fs->tx, &fs->pending, err) < 0)
        return -1;
    if (fs->pending.len >= FILE_SINK_CHUNK)
        return file_write_chunk(fs, err);
    return 0;
}

/* Durability needs no mark in the file (the pipeline flushes only between transactions); the
 * transaction's END record, when metadata is on, is the one line a commit writes. */
static int file_commit(struct sink *sk, const struct event *ev, struct error *err)
{
    struct file_sink *fs = (struct file_sink *)sk;
    return render_commit(fs->render, ev, fs->tx, file_emit, fs, err);
}

/* The writer thread reports its failures through write() and flush(). */
static int file_poll(struct sink *sk, struct error *err)
{
    (void)sk;
    (void)err;
    return 0;
}

static int file_flush(struct sink *sk, struct error *err)
{
    struct file_sink *fs = (struct file_sink *)sk;
    if (file_writer_idle(fs, err) < 0)
        return -1;
    int e = file_write_all(fs->fd, &fs->pending);
    buf_reset(&fs->pending);
    if (e != 0)
        return file_io_error(fs, e, "write to", err);
    if (!fs->regular)
        return 0;
    if (fsync(fs->fd) < 0)
        return file_io_error(fs, errno, "sync", err);
    struct stat st;
    if (fstat(fs->fd, &st) < 0)
        return file_io_error(fs, errno, "stat", err);
    if ((int64_t)st.st_size > fs->durable)
        metrics_sink_load("file", (uint64_t)((int64_t)st.st_size - fs->durable));
    fs->durable = (int64_t)st.st_size;
    return 0;
}

static json_t *file_checkpoint(struct sink *sk)
{
    struct file_sink *fs = (struct file_sink *)sk;
    json_t *cp = json_object();
    json_object_set_new(cp, "path", json_string(fs->path));
    if (fs->regular)
        json_object_set_new(cp, "length", json_integer(fs->durable));
    return cp;
}

static int file_check(struct sink *sk, FILE *out)
{
    struct file_sink *fs = (struct file_sink *)sk;
    if (strcmp(fs->path, "-") == 0) {
        fprintf(out, "ok file sink: writes to standard output\n");
        return 0;
    }
    char *copy = mem_strdup(fs->path);
    const char *dir = dirname(copy);
    int failures = 0;
    if (access(dir, W_OK) < 0) {
        fprintf(out,
                "FAIL file sink: directory %s is not writable: %s: create it, fix its "
                "permissions, or change sink.file.path\n",
                dir, strerror(errno));
        failures++;
    } else if (access(fs->path, W_OK) < 0 && errno != ENOENT) {
        fprintf(out,
                "FAIL file sink: %s is not writable: %s: fix its permissions or change "
                "sink.file.path\n",
                fs->path, strerror(errno));
        failures++;
    } else {
        fprintf(out, "ok file sink: %s is writable\n", fs->path);
    }
    free(copy);
    return failures;
}

static void file_free(struct sink *sk)
{
    struct file_sink *fs = (struct file_sink *)sk;
    if (fs->writer_started) {
        pthread_mutex_lock(&fs->mu);
        fs->quit = true;
        pthread_cond_signal(&fs->cond);
        pthread_mutex_unlock(&fs->mu);
        pthread_join(fs->writer, NULL);
    }
    pthread_mutex_destroy(&fs->mu);
    pthread_cond_destroy(&fs->cond);
    if (fs->fd >= 0 && strcmp(fs->path, "-") != 0)
        close(fs->fd);
    buf_free(&fs->writing);
    buf_free(&fs->pending);
    txmeta_free(fs->tx);
    free(fs->path);
    free(fs);
}

/* A file just created is durable only once its directory entry is: without this, a crash could
 * lose the whole file that flush() had synced. */
static int file_sync_dir(struct file_sink *fs, struct error *err)
{
    char *copy = mem_strdup(fs->path);
    const char *dir = dirname(copy);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;
    if (dfd < 0 || fsync(dfd) < 0)
        rc = error_set(err, "file sink: could not sync directory %s of %s: %s", dir, fs->path,
                       strerror(errno));
    if (dfd >= 0)
        close(dfd);
    free(copy);
    return rc;
}

static const struct sink_ops file_ops = {
    .name = "file",
    .write = file_write,
    .commit = file_commit,
    .poll = file_poll,
    .flush = file_flush,
    .checkpoint = file_checkpoint,
    .check = file_check,
    .free = file_free,
};

/* Cuts the file back to the length saved with the last checkpoint. */
static int file_restore(struct file_sink *fs, const json_t *saved, struct error *err)
{
    const char *saved_path = json_string_value(json_object_get(saved, "path"));
    json_t *length = json_object_get(saved, "length");

    if (saved_path == NULL || strcmp(saved_path, fs->path) != 0) {
        log_warn("file",
                 "sink.file.path changed from %s to %s since the last checkpoint: appending to "
                 "%s without cutting it back",
                 saved_path ? saved_path : "(none)", fs->path, fs->path);
        return 0;
    }
    if (!fs->regular || length == NULL)
        return 0;
    if (!json_is_integer(length) || json_integer_value(length) < 0)
        return error_set(err, "file sink: the state file's checkpoint for %s has no valid length",
                         fs->path);

    struct stat st;
    if (fstat(fs->fd, &st) < 0)
        return file_io_error(fs, errno, "stat", err);
    int64_t want = json_integer_value(length);
    if ((int64_t)st.st_size < want)
        return error_set(err,
                         "file sink: %s is %" PRId64 " bytes but %" PRId64
                         " were durable at the last checkpoint: data was lost outside dbtail; "
                         "restore the file, or remove the state file to start over with a new "
                         "snapshot",
                         fs->path, (int64_t)st.st_size, want);
    if ((int64_t)st.st_size > want) {
        log_info("file",
                 "cutting %s back from %" PRId64 " to %" PRId64
                 " bytes: the rest was written after the last checkpoint",
                 fs->path, (int64_t)st.st_size, want);
        if (ftruncate(fs->fd, (off_t)want) < 0 || fsync(fs->fd) < 0)
            return file_io_error(fs, errno, "cut back", err);
    }
    fs->durable = want;
    return 0;
}

int sink_file_new(const struct config *cfg, const struct render *rd, const json_t *saved,
                  struct sink **out, struct error *err)
{
    const char *path = config_str(cfg, "sink.file.path", "-");
    if (path[0] == '\0')
        return error_set(err, "sink.file.path: empty path (use a file name, or - for standard "
                              "output)");

    struct file_sink *fs = mem_calloc(1, sizeof *fs);
    fs->base.ops = &file_ops;
    fs->render = rd;
    fs->path = mem_strdup(path);
    fs->fd = -1;
    buf_init(&fs->pending);
    buf_init(&fs->writing);
    pthread_mutex_init(&fs->mu, NULL);
    pthread_cond_init(&fs->cond, NULL);
    fs->tx = txmeta_new();

    if (strcmp(path, "-") == 0) {
        fs->fd = STDOUT_FILENO;
    } else {
        fs->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fs->fd < 0) {
            int e = errno;
            file_free(&fs->base);
            return error_set(err, "file sink: could not open %s: %s (sink.file.path)", path,
                             strerror(e));
        }
    }
    struct stat st;
    if (fstat(fs->fd, &st) < 0) {
        int rc = file_io_error(fs, errno, "stat", err);
        file_free(&fs->base);
        return rc;
    }
    /* Standard output may point at a different file on the next run: never cut it back. */
    fs->regular = S_ISREG(st.st_mode) && strcmp(path, "-") != 0;
    if (fs->regular && file_sync_dir(fs, err) < 0) {
        file_free(&fs->base);
        return -1;
    }
    fs->durable = fs->regular ? (int64_t)st.st_size : 0;

    if (saved && file_restore(fs, saved, err) < 0) {
        file_free(&fs->base);
        return -1;
    }
    *out = &fs->base;
    return 0;
}
