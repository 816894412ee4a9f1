/*
 * decode: `dbtail decode [--format debezium|flat] [--threads N] BINLOG_FILE...`. Reads binlog
 * files with the reader's own decoder and prints the records the file sink would write for them,
 * one JSON line each, rendered with topic.prefix "decode" and without schemas (flat: through
 * ExtractNewRecordState). Column names come from the TABLE_MAP metadata
 * (binlog_row_metadata=FULL) or are col_1, col_2, ... A truncated or corrupt file prints the
 * events before the damage, then an error naming the file offset, and exits 1.
 *
 * With N threads (default: the online CPUs) every worker runs its own decoder over the whole
 * file, so formats, TABLE_MAPs, transactions and positions are the same in all of them, but
 * renders only its share: the file is cut at event boundaries into units of about
 * DECODE_UNIT_BYTES, unit u is worker u mod N's, and the others skim it (binlog_decoder_skim:
 * no rows, no checksums). A worker renders into a small ring of chunks and writes them itself
 * when it is their unit's turn (the units go out in file order), waiting only when its ring is
 * full or at the end. A unit's errors are reported by its owner, which checks everything a
 * skimmer does and more, so the output up to an error and the error itself are those of one
 * thread.
 */
#include "decode.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../src/buf.h"
#include "../src/config.h"
#include "../src/mem.h"
#include "../src/render.h"
#include "binlog_decoder.h"

struct decode_table {
    uint64_t table_id;
    struct schema_table *schema;
};

struct decode_worker;

/* One decoder's pass over the files: its tables, and where its records go. */
struct decode_ctx {
    struct decode_table *tables;
    size_t ntables;
    struct render *r; /* held by the clock for each binlog event's rows */
    struct buf *out;
    struct decode_worker *worker; /* NULL: out goes to stdout */
    size_t index, nworkers;       /* this decoder renders the units u with u % nworkers == index */
    size_t unit_bytes;
    size_t unit; /* the unit decode_file is in */
};

/* The schema a TABLE_MAP alone gives: its names or col_N, its key, its types. */
static int decode_table_map(void *ctx, struct binlog_table *tm, struct binlog_decoder_table *out,
                            struct error *err)
{
    (void)err;
    struct decode_ctx *dc = ctx;
    struct schema_table *s = schema_table_new(tm->db, NULL, tm->name);
    s->source_id = tm->table_id;
    for (size_t i = 0; i < tm->ncols; i++) {
        char name[32];
        snprintf(name, sizeof name, "col_%zu", i + 1);
        struct schema_column *c =
            schema_table_add_column(s, tm->cols[i].name ? tm->cols[i].name : name, "", VALUE_TEXT);
        binlog_column_to_schema(&tm->cols[i], c);
    }
    struct decode_table *t = NULL;
    for (size_t i = 0; i < dc->ntables; i++)
        if (dc->tables[i].table_id == tm->table_id)
            t = &dc->tables[i];
    /* A statement's TABLE_MAP repeats the last one's table: keeping that one keeps render's
     * cache of it, which a new table (at a new address) would add to for every statement. */
    if (t != NULL && schema_table_equal(t->schema, s)) {
        schema_table_free(s);
        out->schema = t->schema;
        out->map = NULL;
        return 0;
    }
    if (t == NULL) {
        dc->tables = mem_realloc(dc->tables, (dc->ntables + 1) * sizeof *dc->tables);
        t = &dc->tables[dc->ntables++];
        t->table_id = tm->table_id;
    } else {
        schema_table_free(t->schema);
    }
    t->schema = s;
    out->schema = s;
    out->map = NULL;
    return 0;
}

static void decode_clear_tables(struct decode_ctx *dc)
{
    for (size_t k = 0; k < dc->ntables; k++)
        schema_table_free(dc->tables[k].schema);
    dc->ntables = 0;
}

/* Records are written in chunks of this size: a write per line costs more than the rendering.
 * A worker's chunk buffers hold DECODE_OUT_CAP bytes, room for the record that ends a chunk. */
#define DECODE_OUT_CHUNK (60 * 1024)
#define DECODE_OUT_CAP   (64 * 1024)
/* The file is read in chunks of this size rather than whole, so memory stays flat; small, as
 * every page a worker first touches is a page fault (about 11 microseconds each on a VM). */
#define DECODE_IN_CHUNK (256 * 1024)
/* A unit ends at the first event that starts this far from its start: large enough that
 * switching workers costs little, small enough that a worker's ring holds a unit's records
 * (about 5 times as many bytes with the Debezium envelope). */
#define DECODE_UNIT_BYTES (128 * 1024)
/* Chunks a worker may render ahead of its turn: more than a unit's records, for the workers
 * to hardly ever wait for each other, and no more, for the memory they touch to stay small
 * (with 32 chunks and 256 KB units a decode took twice the page faults and 3 % more CPU). */
#define DECODE_RING 12
/* Each worker reads the whole file: beyond a few, more of them only add skimming. */
#define DECODE_MAX_THREADS 8

/* How a chunk of a worker's output ends. */
enum chunk_end {
    CHUNK_MORE,     /* the unit goes on in the next chunk */
    CHUNK_UNIT_END, /* the unit ends with it */
    CHUNK_ERROR,    /* the worker stopped with its err after the chunk's records */
};

struct decode_chunk {
    struct buf data;
    size_t unit;
    enum chunk_end end;
};

/*
 * The workers decoding one file. Only the owner of the unit whose turn it is writes; it passes
 * the turn on at the unit's end. A worker sleeps on cond, under mu, only for its turn, after
 * counting itself in waiting; turn and stop stores and waiting loads are sequentially
 * consistent, so that a worker either sees the new turn or is seen waiting and woken.
 */
struct decode_team {
    atomic_size_t turn; /* the unit whose records go out next */
    atomic_bool stop;   /* nothing more goes out: err says why */
    atomic_int waiting;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool failed; /* under mu: err is set */
    struct error err;
};

struct decode_worker {
    pthread_t thread;
    const char *path;
    struct decode_team *team;
    struct decode_ctx dc;
    struct error err;
    size_t head, tail; /* ring[head..tail) (mod DECODE_RING) wait for their turn */
    struct decode_chunk ring[DECODE_RING];
};

/* Writes the n buffers to standard output whole; -1 with errno when it fails. */
static int write_bufs(struct buf *const *bufs, size_t n)
{
    struct iovec iov[DECODE_RING];
    size_t k = 0;
    for (size_t i = 0; i < n && k < DECODE_RING; i++)
        if (bufs[i]->len > 0)
            iov[k++] = (struct iovec){.iov_base = bufs[i]->data, .iov_len = bufs[i]->len};
    struct iovec *v = iov;
    while (k > 0) {
        ssize_t w = writev(STDOUT_FILENO, v, (int)k);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        for (size_t done = (size_t)w; k > 0 && done >= v->iov_len; v++, k--)
            done -= v->iov_len, w -= (ssize_t)v->iov_len;
        if (k > 0) {
            v->iov_base = (char *)v->iov_base + w;
            v->iov_len -= (size_t)w;
        }
    }
    return 0;
}

static int decode_write(struct buf *b)
{
    int rc = write_bufs(&b, 1);
    buf_reset(b);
    return rc;
}

/* Stops the team's output; the first error is the one reported. */
static void team_fail(struct decode_team *t, const struct error *err)
{
    pthread_mutex_lock(&t->mu);
    if (!t->failed) {
        t->failed = true;
        t->err = *err;
    }
    atomic_store(&t->stop, true);
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->mu);
}

static void team_pass_turn(struct decode_team *t, size_t next)
{
    atomic_store(&t->turn, next);
    if (atomic_load(&t->waiting) > 0) {
        pthread_mutex_lock(&t->mu);
        pthread_cond_broadcast(&t->cond);
        pthread_mutex_unlock(&t->mu);
    }
}

static void team_wait_turn(struct decode_team *t, size_t unit)
{
    pthread_mutex_lock(&t->mu);
    atomic_fetch_add(&t->waiting, 1);
    while (atomic_load(&t->turn) != unit && !atomic_load(&t->stop))
        pthread_cond_wait(&t->cond, &t->mu);
    atomic_fetch_sub(&t->waiting, 1);
    pthread_mutex_unlock(&t->mu);
}

/* Writes the worker's chunks whose unit's turn it is, waiting for the turn while more than keep
 * chunks are left; -1 once the team has stopped. */
static int worker_flush(struct decode_worker *w, size_t keep)
{
    struct decode_team *t = w->team;
    while (w->head < w->tail) {
        if (atomic_load(&t->stop))
            return -1;
        size_t unit = w->ring[w->head % DECODE_RING].unit;
        if (atomic_load(&t->turn) != unit) {
            if (w->tail - w->head <= keep)
                return 0;
            team_wait_turn(t, unit);
            continue;
        }
        struct buf *ready[DECODE_RING];
        size_t n = 0;
        enum chunk_end end = CHUNK_MORE;
        while (w->head + n < w->tail && end == CHUNK_MORE) {
            struct decode_chunk *c = &w->ring[(w->head + n) % DECODE_RING];
            ready[n++] = &c->data;
            end = c->end;
        }
        if (write_bufs(ready, n) < 0) {
            struct error e;
            error_set(&e, "could not write to standard output: %s", strerror(errno));
            team_fail(t, &e);
            return -1;
        }
        for (size_t k = 0; k < n; k++)
            buf_reset(ready[k]);
        w->head += n;
        if (end == CHUNK_ERROR) {
            team_fail(t, &w->err);
            return -1;
        }
        if (end == CHUNK_UNIT_END)
            team_pass_turn(t, unit + 1);
    }
    /* All written: the next chunk is the first again, whose memory is still in the cache. */
    w->head = w->tail = 0;
    return 0;
}

/* Ends the chunk the decoder renders into; -1 when the team has stopped, or (one thread)
 * standard output fails. */
static int decode_chunk_done(struct decode_ctx *dc, enum chunk_end end)
{
    struct decode_worker *w = dc->worker;
    if (w == NULL)
        return decode_write(dc->out);
    struct decode_chunk *c = &w->ring[w->tail % DECODE_RING];
    c->unit = dc->unit;
    c->end = end;
    w->tail++;
    int rc = worker_flush(w, DECODE_RING - 1);
    dc->out = &w->ring[w->tail % DECODE_RING].data;
    return rc;
}

/* Ends the chunk the decoder renders into once it is full. */
static int decode_chunk_check(struct decode_ctx *dc, struct error *err)
{
    if (dc->out->len >= DECODE_OUT_CHUNK && decode_chunk_done(dc, CHUNK_MORE) < 0)
        return dc->worker
                   ? error_set(err, "decoding cancelled")
                   : error_set(err, "could not write to standard output: %s", strerror(errno));
    return 0;
}

/* The unread part of a binlog file: data[start, end) holds the bytes at file offset off on. */
struct decode_input {
    FILE *f;
    uint8_t *data;
    size_t cap, start, end;
    bool eof;
};

static size_t input_avail(const struct decode_input *in)
{
    return in->end - in->start;
}

/* Makes at least need bytes available, or all that is left of the file. */
static int input_fill(struct decode_input *in, size_t need, const char *path, struct error *err)
{
    if (input_avail(in) >= need || in->eof)
        return 0;
    if (in->start > 0) {
        memmove(in->data, in->data + in->start, input_avail(in));
        in->end -= in->start;
        in->start = 0;
    }
    if (in->cap < DECODE_IN_CHUNK) {
        in->data = mem_realloc(in->data, DECODE_IN_CHUNK);
        in->cap = DECODE_IN_CHUNK;
    }
    while (in->end < need && !in->eof) {
        if (in->end == in->cap) {
            /* Doubling, not to the event's size: a corrupt size must not allocate gigabytes. */
            in->cap *= 2;
            in->data = mem_realloc(in->data, in->cap);
        }
        size_t n = fread(in->data + in->end, 1, in->cap - in->end, in->f);
        in->end += n;
        if (n == 0) {
            if (ferror(in->f))
                return error_set(err, "could not read %s", path);
            in->eof = true;
        }
    }
    return 0;
}

/* Decodes the file, rendering the units that are dc's; with several workers each unit dc
 * renders ends with a CHUNK_UNIT_END. */
static int decode_file(const char *path, struct decode_ctx *dc, struct error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return error_set(err, "could not open %s: %s", path, strerror(errno));
    struct decode_input in = {.f = f};
    int rc = -1;
    struct binlog_decoder *d = NULL;
    if (input_fill(&in, BINLOG_MAGIC_LEN, path, err) < 0)
        goto out;
    if (input_avail(&in) < BINLOG_MAGIC_LEN ||
        memcmp(in.data + in.start, BINLOG_MAGIC, BINLOG_MAGIC_LEN) != 0) {
        error_set(err, "%s is not a binlog file (it lacks the \\xfebin magic)", path);
        goto out;
    }
    in.start += BINLOG_MAGIC_LEN;
    struct binlog_decoder_opts opts = {
        .connector = EVENT_MYSQL,
        .connector_from_fde = true,
        .table_map = decode_table_map,
        .ctx = dc,
    };
    d = binlog_decoder_new(&opts);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    binlog_decoder_start(d, base, BINLOG_MAGIC_LEN, BINLOG_CHECKSUM_OFF, NULL, false);
    size_t off = BINLOG_MAGIC_LEN;
    size_t unit = 0, unit_start = off;
    dc->unit = 0;
    bool mine = dc->index == 0;
    binlog_decoder_skim(d, !mine);
    for (;;) {
        if (input_fill(&in, BINLOG_HEADER_LEN, path, err) < 0)
            goto out;
        if (input_avail(&in) == 0)
            break;
        if (dc->nworkers > 1 && off - unit_start >= dc->unit_bytes) {
            if (mine && decode_chunk_done(dc, CHUNK_UNIT_END) < 0)
                goto out;
            dc->unit = ++unit;
            unit_start = off;
            mine = unit % dc->nworkers == dc->index;
            binlog_decoder_skim(d, !mine);
        }
        struct binlog_header h = {0};
        struct error longer;
        /* An event longer than what is read is read whole, or as much of it as the file has. */
        if (binlog_parse_header(in.data + in.start, input_avail(&in), &h, &longer) < 0 &&
            input_fill(&in, h.event_size, path, err) < 0)
            goto out;
        if (binlog_parse_header(in.data + in.start, input_avail(&in), &h, err) < 0 ||
            binlog_decoder_feed(d, in.data + in.start, h.event_size, err) < 0) {
            error_wrap(err, "%s at offset %zu: ", path, off);
            goto out;
        }
        const struct event *ev;
        int n;
        bool stamped = false;
        while ((n = binlog_decoder_next(d, &ev, err)) == 1) {
            if (!mine || ev->op == EVENT_COMMIT || ev->op == EVENT_HEARTBEAT)
                continue;
            if (!stamped) {
                /* one processing time for the event's rows: a clock read each was 4 % */
                render_hold_clock(dc->r);
                stamped = true;
            }
            if (render_event_lines(dc->r, ev, NULL, dc->out, err) < 0 ||
                decode_chunk_check(dc, err) < 0) {
                error_wrap(err, "%s at offset %zu: ", path, off);
                goto out;
            }
        }
        if (n < 0) {
            error_wrap(err, "%s at offset %zu: ", path, off);
            goto out;
        }
        off += h.event_size;
        in.start += h.event_size;
    }
    rc = 0;
    if (dc->nworkers > 1 && mine && decode_chunk_done(dc, CHUNK_UNIT_END) < 0)
        rc = -1;
out:
    binlog_decoder_free(d);
    free(in.data);
    fclose(f);
    decode_clear_tables(dc);
    return rc;
}

static void *decode_worker_main(void *arg)
{
    struct decode_worker *w = arg;
    struct decode_ctx *dc = &w->dc;
    if (decode_file(w->path, dc, &w->err) < 0) {
        /* A skimmer's error goes out at its next unit, after any error of the units between. */
        while (dc->unit % dc->nworkers != dc->index)
            dc->unit++;
        (void)decode_chunk_done(dc, CHUNK_ERROR);
    }
    (void)worker_flush(w, 0);
    return NULL;
}

/* Decodes the file with n workers, which write their records in file order. */
static int decode_file_threads(const char *path, struct render *const *renders, size_t n,
                               size_t unit_bytes, struct error *err)
{
    struct decode_team team = {0};
    pthread_mutex_init(&team.mu, NULL);
    pthread_cond_init(&team.cond, NULL);
    struct decode_worker *workers = mem_calloc(n, sizeof *workers);
    for (size_t i = 0; i < n; i++) {
        struct decode_worker *w = &workers[i];
        w->path = path;
        w->team = &team;
        w->dc = (struct decode_ctx){
            .r = renders[i],
            .out = &w->ring[0].data,
            .worker = w,
            .index = i,
            .nworkers = n,
            .unit_bytes = unit_bytes,
        };
        /* Allocated here, not as the worker first writes, and below malloc's mmap threshold:
         * from the main thread's heap, so that freeing them is not a munmap each, with its
         * TLB shootdown of the other CPUs (1.6 % of a decode's time under perf). A record
         * that overflows a chunk grows it. */
        for (size_t k = 0; k < DECODE_RING; k++) {
            buf_init(&w->ring[k].data);
            buf_reserve(&w->ring[k].data, DECODE_OUT_CAP - 1);
        }
    }
    size_t started = 0;
    for (; started < n; started++) {
        int e =
            pthread_create(&workers[started].thread, NULL, decode_worker_main, &workers[started]);
        if (e != 0) {
            struct error create;
            error_set(&create, "could not start a decoding thread: %s (try --threads 1)",
                      strerror(e));
            team_fail(&team, &create);
            break;
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct decode_worker *w = &workers[i];
        if (i < started)
            pthread_join(w->thread, NULL);
        free(w->dc.tables);
        for (size_t k = 0; k < DECODE_RING; k++)
            buf_free(&w->ring[k].data);
    }
    free(workers);
    int rc = 0;
    if (team.failed) {
        *err = team.err;
        rc = -1;
    }
    pthread_mutex_destroy(&team.mu);
    pthread_cond_destroy(&team.cond);
    return rc;
}

/* The default: one worker per online CPU, within DECODE_MAX_THREADS. */
static size_t decode_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > DECODE_MAX_THREADS ? DECODE_MAX_THREADS : (size_t)n;
}

static void usage(void)
{
    fprintf(stderr, "usage: dbtail decode [--format debezium|flat] [--threads N] BINLOG_FILE...\n");
}

/* N in 1..DECODE_MAX_THREADS, else 0. */
static size_t parse_threads(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > DECODE_MAX_THREADS)
        return 0;
    return (size_t)v;
}

int decode_main(int argc, char **argv)
{
    const char *format = "debezium";
    const char *threads_arg = NULL;
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            format = argv[++i];
        } else if (strncmp(argv[i], "--format=", 9) == 0) {
            format = argv[i] + 9;
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            threads_arg = argv[++i];
        } else if (strncmp(argv[i], "--threads=", 10) == 0) {
            threads_arg = argv[i] + 10;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 0;
        } else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "dbtail decode: unknown option %s\n", argv[i]);
            usage();
            return 2;
        } else {
            break;
        }
    }
    if (strcmp(format, "debezium") != 0 && strcmp(format, "flat") != 0) {
        fprintf(stderr, "dbtail decode: --format must be debezium or flat, not %s\n", format);
        return 2;
    }
    size_t nthreads = threads_arg ? parse_threads(threads_arg) : decode_default_threads();
    if (nthreads == 0) {
        fprintf(stderr, "dbtail decode: --threads must be a number from 1 to %d, not %s\n",
                DECODE_MAX_THREADS, threads_arg);
        return 2;
    }
    if (i >= argc) {
        usage();
        return 2;
    }
    /* For tests: units this small interleave the workers on the small captures. */
    size_t unit_bytes = DECODE_UNIT_BYTES;
    const char *unit_env = getenv("DBTAIL_DECODE_UNIT_BYTES");
    if (unit_env != NULL && atol(unit_env) > 0)
        unit_bytes = (size_t)atol(unit_env);
    struct config *cfg = config_new();
    config_set(cfg, "connector.class", "io.debezium.connector.mysql.MySqlConnector");
    config_set(cfg, "topic.prefix", "decode");
    config_set(cfg, "key.converter.schemas.enable", "false");
    config_set(cfg, "value.converter.schemas.enable", "false");
    if (strcmp(format, "flat") == 0) {
        config_set(cfg, "transforms", "unwrap");
        config_set(cfg, "transforms.unwrap.type", "io.debezium.transforms.ExtractNewRecordState");
    }
    struct error err;
    int status = 0;
    /* A render per worker: they share nothing then, not even render's cache lock. */
    struct render **renders = mem_calloc(nthreads, sizeof *renders);
    for (size_t k = 0; k < nthreads && status == 0; k++) {
        if (render_new(cfg, &renders[k], &err) < 0) {
            fprintf(stderr, "dbtail decode: %s\n", err.msg);
            status = 1;
        }
    }
    struct buf out;
    buf_init(&out);
    struct decode_ctx dc = {.r = renders[0], .out = &out, .nworkers = 1};
    for (; i < argc && status == 0; i++) {
        int rc = nthreads == 1 ? decode_file(argv[i], &dc, &err)
                               : decode_file_threads(argv[i], renders, nthreads, unit_bytes, &err);
        if (rc == 0 && decode_write(&out) < 0)
            rc = error_set(&err, "could not write to standard output: %s", strerror(errno));
        if (rc < 0) {
            (void)decode_write(&out);
            fprintf(stderr, "dbtail decode: %s\n", err.msg);
            status = 1;
        }
    }
    free(dc.tables);
    buf_free(&out);
    for (size_t k = 0; k < nthreads; k++)
        render_free(renders[k]);
    free(renders);
    config_free(cfg);
    return status;
}
