/*
 * mysql_rows: the thread that reads a snapshot query's rows and the batches it hands them over
 * in (see mysql_rows.h).
 */
#include "mysql_rows.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "../src/arena.h"
#include "../src/mem.h"
#include "mysql_conn.h"

/* A batch ends after this many rows, values or bytes of text, whichever comes first (one row
 * larger than that makes a batch of its own). Small enough for the two threads to take turns
 * often and for a wide table's batches to stay small, large enough that handing a batch over
 * costs nothing next to its rows. */
#define BATCH_ROWS  256
#define BATCH_CELLS 8192
#define BATCH_BYTES (256u << 10)
#define DATA_CAP    (BATCH_BYTES + BATCH_BYTES / 4)
/* The reader holds two (a row's and the next one's), the thread fills one, three wait. */
#define NBATCHES 6

struct batch {
    size_t nrows;
    char *data; /* the rows' texts, each followed by a NUL */
    size_t dlen, dcap;
    size_t *off;       /* max_rows * ncols offsets into data; SIZE_MAX for NULL */
    const char **text; /* the same as pointers, set once data no longer moves */
    unsigned long *len;
    struct value *vals;
    struct arena *arena; /* BIT values */
    bool end;            /* nothing follows; failed tells whether err says why */
    bool failed;
    struct error err;
};

struct myrows {
    MYSQL *conn;
    MYSQL_RES *res;
    const struct mysql_table_def *def;
    size_t ncols;
    size_t max_rows; /* in a batch */
    struct batch batches[NBATCHES];

    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct batch *empty[NBATCHES]; /* stack of empty batches */
    size_t nempty;
    struct batch *full[NBATCHES]; /* ring of filled batches, oldest first */
    size_t full_head, nfull;
    bool stop;     /* myrows_free asked the thread to end */
    bool read_all; /* the thread read the result to its end */

    /* The reader's side. */
    struct batch *cur; /* holds the row handed out last */
    size_t idx;
    struct batch *peek; /* the batch after cur, taken to know whether a row follows */
};

static void batch_reset(struct batch *b)
{
    if (b->dcap > 2 * DATA_CAP) {
        /* A huge row grew it: do not keep that much for the rest of the table. */
        free(b->data);
        b->dcap = DATA_CAP;
        b->data = mem_alloc(b->dcap);
    }
    b->nrows = 0;
    b->dlen = 0;
    b->end = false;
    b->failed = false;
    arena_reset(b->arena);
}

/* Copies the row into the batch; false when the batch is then full. */
static bool batch_add(struct batch *b, size_t ncols, size_t max_rows, MYSQL_ROW row,
                      const unsigned long *len)
{
    size_t need = 0;
    for (size_t i = 0; i < ncols; i++)
        need += row[i] ? len[i] + 1 : 0;
    if (b->dlen + need > b->dcap) {
        while (b->dlen + need > b->dcap)
            b->dcap *= 2;
        b->data = mem_realloc(b->data, b->dcap);
    }
    size_t *off = b->off + b->nrows * ncols;
    unsigned long *l = b->len + b->nrows * ncols;
    for (size_t i = 0; i < ncols; i++) {
        if (row[i] == NULL) {
            off[i] = SIZE_MAX;
            l[i] = 0;
            continue;
        }
        off[i] = b->dlen;
        l[i] = len[i];
        memcpy(b->data + b->dlen, row[i], len[i]);
        b->data[b->dlen + len[i]] = '\0';
        b->dlen += len[i] + 1;
    }
    b->nrows++;
    return b->nrows < max_rows && b->dlen < BATCH_BYTES;
}

/* Turns the texts of the rows into values; on a bad value the batch ends before its row. */
static void batch_convert(struct myrows *f, struct batch *b)
{
    for (size_t r = 0; r < b->nrows; r++) {
        for (size_t i = 0; i < f->ncols; i++) {
            size_t k = r * f->ncols + i;
            struct value *v = &b->vals[k];
            if (b->off[k] == SIZE_MAX) {
                b->text[k] = NULL;
                memset(v, 0, sizeof *v);
                v->kind = VALUE_NULL;
                continue;
            }
            b->text[k] = b->data + b->off[k];
            const struct binlog_column *col = &f->def->cols[i];
            if (mysql_text_value(col, b->text[k], b->len[k], b->arena, v, &b->err) < 0) {
                error_wrap(&b->err, "snapshot of %s.%s: ", f->def->db, f->def->name);
                b->nrows = r;
                b->end = b->failed = true;
                return;
            }
        }
    }
}

static void *fetch_thread(void *arg)
{
    struct myrows *f = arg;
    for (;;) {
        pthread_mutex_lock(&f->mu);
        while (f->nempty == 0 && !f->stop)
            pthread_cond_wait(&f->cv, &f->mu);
        if (f->stop) {
            pthread_mutex_unlock(&f->mu);
            return NULL;
        }
        struct batch *b = f->empty[--f->nempty];
        pthread_mutex_unlock(&f->mu);

        batch_reset(b);
        for (;;) {
            MYSQL_ROW row = mysql_fetch_row(f->res);
            if (row == NULL) {
                b->end = true;
                if (mysql_errno(f->conn)) {
                    char what[300];
                    snprintf(what, sizeof what, "reading %s.%s for the snapshot", f->def->db,
                             f->def->name);
                    myconn_error(f->conn, what, &b->err);
                    b->failed = true;
                }
                break;
            }
            if (!batch_add(b, f->ncols, f->max_rows, row, mysql_fetch_lengths(f->res)))
                break;
        }
        batch_convert(f, b);

        pthread_mutex_lock(&f->mu);
        f->full[(f->full_head + f->nfull++) % NBATCHES] = b;
        if (b->end && !b->failed)
            f->read_all = true;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        if (b->end)
            return NULL;
    }
}

/* Frees all but the thread, which has ended. */
static void release(struct myrows *f)
{
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    mysql_free_result(f->res);
    for (size_t i = 0; i < NBATCHES; i++) {
        struct batch *b = &f->batches[i];
        free(b->data);
        free(b->off);
        free(b->text);
        free(b->len);
        free(b->vals);
        arena_free(b->arena);
    }
    free(f);
}

int myrows_start(MYSQL *conn, MYSQL_RES *res, const struct mysql_table_def *def,
                 struct myrows **out, struct error *err)
{
    struct myrows *f = mem_calloc(1, sizeof *f);
    f->conn = conn;
    f->res = res;
    f->def = def;
    f->ncols = def->ncols;
    size_t width = f->ncols ? f->ncols : 1;
    f->max_rows = BATCH_CELLS / width < 1 ? 1 : BATCH_CELLS / width;
    if (f->max_rows > BATCH_ROWS)
        f->max_rows = BATCH_ROWS;
    size_t cells = f->max_rows * width;
    for (size_t i = 0; i < NBATCHES; i++) {
        struct batch *b = &f->batches[i];
        b->dcap = DATA_CAP;
        b->data = mem_alloc(b->dcap);
        b->off = mem_alloc(cells * sizeof *b->off);
        b->text = mem_alloc(cells * sizeof *b->text);
        b->len = mem_alloc(cells * sizeof *b->len);
        b->vals = mem_alloc(cells * sizeof *b->vals);
        b->arena = arena_new();
        f->empty[f->nempty++] = b;
    }
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    int rc = pthread_create(&f->thread, NULL, fetch_thread, f);
    if (rc != 0) {
        error_set(err, "cannot start the snapshot reading thread: %s", strerror(rc));
        release(f);
        return -1;
    }
    *out = f;
    return 0;
}

/* The next filled batch, waiting for the thread to fill it. */
static struct batch *take(struct myrows *f)
{
    struct batch *b = f->peek;
    if (b) {
        f->peek = NULL;
        return b;
    }
    pthread_mutex_lock(&f->mu);
    while (f->nfull == 0)
        pthread_cond_wait(&f->cv, &f->mu);
    b = f->full[f->full_head];
    f->full_head = (f->full_head + 1) % NBATCHES;
    f->nfull--;
    pthread_mutex_unlock(&f->mu);
    return b;
}

static void give_back(struct myrows *f, struct batch *b)
{
    pthread_mutex_lock(&f->mu);
    f->empty[f->nempty++] = b;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

int myrows_next(struct myrows *f, struct myrows_row *row, struct error *err)
{
    if (f->cur && f->idx + 1 < f->cur->nrows) {
        f->idx++;
    } else {
        if (f->cur && f->cur->end)
            return 0;
        if (f->cur)
            give_back(f, f->cur);
        f->cur = take(f);
        f->idx = 0;
        if (f->cur->nrows == 0) {
            if (f->cur->failed) {
                *err = f->cur->err;
                return -1;
            }
            return 0;
        }
    }
    struct batch *b = f->cur;
    bool last = false;
    if (f->idx + 1 == b->nrows) {
        /* Whether a row follows is known once the thread has tried to read it. */
        const struct batch *after = b;
        if (!b->end) {
            f->peek = take(f);
            after = f->peek;
        }
        last = after == b || after->nrows == 0;
        if (last && after->failed) {
            *err = after->err;
            return -1;
        }
    }
    size_t k = f->idx * f->ncols;
    row->vals = b->vals + k;
    row->text = b->text + k;
    row->len = b->len + k;
    row->last = last;
    return 1;
}

void myrows_free(struct myrows *f)
{
    if (f == NULL)
        return;
    pthread_mutex_lock(&f->mu);
    f->stop = true;
    bool read_all = f->read_all;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    /* A thread blocked in a read wakes up only when the socket goes away. */
    if (!read_all)
        shutdown(mysql_get_socket(f->conn), SHUT_RDWR);
    pthread_join(f->thread, NULL);
    release(f);
}
