/* mysql_conn: libmariadb connections and the replication stream (see mysql_conn.h). */
#include "mysql_conn.h"

#include <errmsg.h>
#include <errno.h>
#include <inttypes.h>
#include <mysqld_error.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "../src/mem.h"

/* Connections ------------------------------------------------------------------------------ */

static bool retriable_errno(unsigned e)
{
    switch (e) {
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_UNKNOWN_HOST:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case ER_CON_COUNT_ERROR:
    case ER_SERVER_SHUTDOWN:
    case ER_LOCK_WAIT_TIMEOUT:
    case ER_LOCK_DEADLOCK:
    case ER_QUERY_INTERRUPTED:
    case ER_NET_READ_ERROR:
    case ER_NET_READ_INTERRUPTED:
    case ER_NET_ERROR_ON_WRITE:
    case ER_NET_WRITE_INTERRUPTED:
    case ER_CONNECTION_KILLED:
    case 4031: /* MySQL 8: disconnected by the server for inactivity */
        return true;
    default:
        return false;
    }
}

int myconn_error(MYSQL *m, const char *what, struct error *err)
{
    unsigned e = mysql_errno(m);
    const char *msg = mysql_error(m);
    if (e == ER_MASTER_FATAL_ERROR_READING_BINLOG)
        return error_set(err, "%s: the server cannot send the binlog: %s", what, msg);
    if (retriable_errno(e))
        return error_retry(err, "%s: %s (error %u)", what, msg, e);
    return error_set(err, "%s: %s (error %u)", what, msg, e);
}

int myconn_connect(const struct myconn_params *p, MYSQL **out, struct error *err)
{
    MYSQL *m = mysql_init(NULL);
    if (m == NULL)
        return error_set(err, "cannot create a MySQL client handle");
    unsigned ct = p->connect_timeout_s ? p->connect_timeout_s : 10;
    mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    if (p->read_timeout_s) {
        unsigned rt = p->read_timeout_s;
        mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &rt);
        mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &rt);
    }
    unsigned long max_packet = 1UL << 30;
    mysql_optionsv(m, MYSQL_OPT_MAX_ALLOWED_PACKET, &max_packet);
    mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    my_bool yes = 1, no = 0;
    switch (p->ssl) {
    case MYCONN_SSL_DISABLED:
        break;
    case MYCONN_SSL_PREFERRED:
        /* TLS when the server offers it, plain otherwise. */
        mysql_ssl_set(m, NULL, NULL, NULL, NULL, NULL);
        mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &no);
        break;
    case MYCONN_SSL_REQUIRED:
        mysql_ssl_set(m, NULL, NULL, NULL, NULL, NULL);
        mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &yes);
        mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &no);
        break;
    case MYCONN_SSL_VERIFY_CA:
    case MYCONN_SSL_VERIFY_IDENTITY:
        /* Connector/C verifies the chain and the host name together. */
        mysql_ssl_set(m, NULL, NULL, NULL, NULL, NULL);
        mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &yes);
        mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes);
        break;
    }
    if (mysql_real_connect(m, p->host, p->user, p->password, NULL, p->port, NULL, 0) == NULL) {
        char what[300];
        snprintf(what, sizeof what, "connecting to %s:%u as %s", p->host, p->port, p->user);
        myconn_error(m, what, err);
        mysql_close(m);
        return -1;
    }
    /* Connector/C 3.3 connects in clear text when the server offers no TLS, even when told
     * to enforce it: check what was negotiated. */
    if (p->ssl >= MYCONN_SSL_REQUIRED && mysql_get_ssl_cipher(m) == NULL) {
        error_set(err,
                  "database.ssl.mode requires TLS but %s:%u offers none: configure TLS on "
                  "the server or lower database.ssl.mode",
                  p->host, p->port);
        mysql_close(m);
        return -1;
    }
    if (myconn_exec(m, "SET time_zone = '+00:00'", err) < 0) {
        mysql_close(m);
        return -1;
    }
    *out = m;
    return 0;
}

bool myconn_is_mariadb(MYSQL *m)
{
    const char *v = mysql_get_server_info(m);
    return v && strstr(v, "MariaDB") != NULL;
}

static void what_of(char *what, size_t n, const char *sql)
{
    snprintf(what, n, "running \"%.120s%s\"", sql, strlen(sql) > 120 ? "..." : "");
}

int myconn_exec(MYSQL *m, const char *sql, struct error *err)
{
    char what[200];
    if (mysql_real_query(m, sql, strlen(sql)) != 0) {
        what_of(what, sizeof what, sql);
        return myconn_error(m, what, err);
    }
    do {
        MYSQL_RES *res = mysql_store_result(m);
        if (res)
            mysql_free_result(res);
        else if (mysql_field_count(m) != 0) {
            what_of(what, sizeof what, sql);
            return myconn_error(m, what, err);
        }
    } while (mysql_next_result(m) == 0);
    return 0;
}

int myconn_query(MYSQL *m, const char *sql, MYSQL_RES **res, struct error *err)
{
    char what[200];
    *res = NULL;
    if (mysql_real_query(m, sql, strlen(sql)) != 0 || (*res = mysql_store_result(m)) == NULL) {
        what_of(what, sizeof what, sql);
        if (mysql_errno(m) == 0)
            return error_set(err, "%s: the statement returned no result set", what);
        return myconn_error(m, what, err);
    }
    return 0;
}

int myconn_scalar(MYSQL *m, const char *sql, char **out, struct error *err)
{
    MYSQL_RES *res;
    *out = NULL;
    if (myconn_query(m, sql, &res, err) < 0)
        return -1;
    MYSQL_ROW row = mysql_fetch_row(res);
    if (row && row[0]) {
        unsigned long *lens = mysql_fetch_lengths(res);
        *out = mem_strndup(row[0], lens[0]);
    }
    mysql_free_result(res);
    return 0;
}

void myconn_quote_ident(struct buf *b, const char *s)
{
    buf_putc(b, '`');
    for (; *s; s++) {
        if (*s == '`')
            buf_putc(b, '`');
        buf_putc(b, *s);
    }
    buf_putc(b, '`');
}

/* The replication stream ------------------------------------------------------------------- */

/* MySQL's COM_BINLOG_DUMP_GTID, which Connector/C's command list does not name. */
#define COM_BINLOG_DUMP_GTID ((enum enum_server_command)0x1e)

struct qev {
    struct qev *next;
    size_t len;
    uint8_t data[];
};

/* The reading thread stops filling the queue past this many bytes. */
#define QUEUE_MAX_BYTES (64u << 20)

struct myconn_binlog {
    MYSQL *m;
    bool crc32;
    bool mariadb;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t nonempty;
    pthread_cond_t space;
    struct qev *head, *tail;
    size_t bytes;
    bool stop; /* close() asked the thread to end */
    bool done; /* the thread ended; err says why */
    struct error err;
    struct qev *current; /* handed to the caller */
};

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static int register_replica(MYSQL *m, uint32_t server_id, struct error *err)
{
    /* server_id, host, user, password (length-prefixed), port, rank, master id. */
    static const char host[] = "dbtail";
    uint8_t pkt[64];
    size_t n = 0;
    put_u32(pkt, server_id);
    n += 4;
    pkt[n++] = (uint8_t)(sizeof host - 1);
    memcpy(pkt + n, host, sizeof host - 1);
    n += sizeof host - 1;
    pkt[n++] = 0;
    pkt[n++] = 0;
    put_u16(pkt + n, 0);
    n += 2;
    put_u32(pkt + n, 0);
    n += 4;
    put_u32(pkt + n, 0);
    n += 4;
    if (m->methods->db_command(m, COM_REGISTER_SLAVE, (const char *)pkt, n, 0, NULL) != 0)
        return myconn_error(m, "registering as a replica (COM_REGISTER_SLAVE)", err);
    return 0;
}

static int start_dump(MYSQL *m, bool mariadb, const struct myconn_dump *d, struct error *err)
{
    struct buf b;
    buf_init(&b);
    int rc;
    if (d->gtids && !mariadb) {
        /* COM_BINLOG_DUMP_GTID: flags (BINLOG_THROUGH_GTID), server id, file name length and
         * name (empty), position (4), size of the set, the set. */
        struct buf set;
        buf_init(&set);
        gtid_set_encode(d->gtids, &set);
        uint8_t head[2 + 4 + 4 + 8 + 4];
        put_u16(head, 4);
        put_u32(head + 2, d->server_id);
        put_u32(head + 6, 0);
        put_u64(head + 10, 4);
        put_u32(head + 18, (uint32_t)set.len);
        buf_append(&b, head, sizeof head);
        buf_append(&b, set.data, set.len);
        buf_free(&set);
        rc = m->methods->db_command(m, COM_BINLOG_DUMP_GTID, b.data, b.len, 1, NULL);
    } else {
        /* COM_BINLOG_DUMP: position (4 bytes), flags, server id, file name. A MariaDB GTID
         * start sends an empty name: @slave_connect_state says where. */
        const char *file = d->gtids ? "" : d->file;
        uint8_t head[4 + 2 + 4];
        put_u32(head, d->gtids ? 4 : (uint32_t)d->pos);
        /* MariaDB's BINLOG_SEND_ANNOTATE_ROWS_EVENT: it drops them otherwise. */
        put_u16(head + 4, mariadb && d->annotate ? 2 : 0);
        put_u32(head + 6, d->server_id);
        buf_append(&b, head, sizeof head);
        buf_append(&b, file, strlen(file));
        rc = m->methods->db_command(m, COM_BINLOG_DUMP, b.data, b.len, 1, NULL);
    }
    buf_free(&b);
    if (rc != 0)
        return myconn_error(m, "starting the binlog dump", err);
    return 0;
}

static void *reader_thread(void *arg)
{
    struct myconn_binlog *b = arg;
    struct error err;
    for (;;) {
        unsigned long len = mysql_net_read_packet(b->m);
        bool ok = len != packet_error;
        const uint8_t *p = b->m->net.read_pos;
        if (ok && len >= 1 && p[0] == 0xFE && len < 8) {
            error_retry(&err, "the server ended the binlog stream");
            ok = false;
        } else if (ok && (len < 1 || p[0] != 0x00)) {
            error_set(&err, "the binlog stream sent an unexpected packet (first byte %u)",
                      len ? p[0] : 0);
            ok = false;
        } else if (!ok) {
            myconn_error(b->m, "reading the binlog stream", &err);
        }
        if (!ok) {
            pthread_mutex_lock(&b->mu);
            if (!b->stop)
                b->err = err;
            b->done = true;
            pthread_cond_broadcast(&b->nonempty);
            pthread_mutex_unlock(&b->mu);
            return NULL;
        }
        struct qev *q = mem_alloc(sizeof *q + len - 1);
        q->next = NULL;
        q->len = len - 1;
        memcpy(q->data, p + 1, len - 1);
        pthread_mutex_lock(&b->mu);
        while (b->bytes >= QUEUE_MAX_BYTES && !b->stop)
            pthread_cond_wait(&b->space, &b->mu);
        if (b->stop) {
            pthread_mutex_unlock(&b->mu);
            free(q);
            return NULL;
        }
        if (b->tail)
            b->tail->next = q;
        else
            b->head = q;
        b->tail = q;
        b->bytes += q->len;
        pthread_cond_signal(&b->nonempty);
        pthread_mutex_unlock(&b->mu);
    }
}

int myconn_binlog_open(const struct myconn_params *p, const struct myconn_dump *d,
                       struct myconn_binlog **out, struct error *err)
{
    MYSQL *m;
    struct myconn_params rp = *p;
    /* Heartbeats keep an idle stream talking: a silence of three periods is a dead link. */
    int hb_s = d->heartbeat_ms > 0 ? (d->heartbeat_ms + 999) / 1000 : 10;
    rp.read_timeout_s = (unsigned)(hb_s * 3 + 10);
    if (myconn_connect(&rp, &m, err) < 0)
        return -1;
    struct myconn_binlog *b = mem_calloc(1, sizeof *b);
    b->m = m;
    b->mariadb = myconn_is_mariadb(m);
    char *checksum = NULL;
    char sql[512];
    if (myconn_scalar(m, "SELECT @@global.binlog_checksum", &checksum, err) < 0)
        goto fail;
    b->crc32 = checksum && strcmp(checksum, "CRC32") == 0;
    free(checksum);
    if (myconn_exec(m, "SET @master_binlog_checksum = @@global.binlog_checksum", err) < 0)
        goto fail;
    /* Without capability 4 MariaDB turns its GTID events into BEGIN and drops ANNOTATE_ROWS. */
    if (b->mariadb && myconn_exec(m, "SET @mariadb_slave_capability = 4", err) < 0)
        goto fail;
    snprintf(sql, sizeof sql, "SET @master_heartbeat_period = %" PRId64,
             (int64_t)hb_s * 1000000000);
    if (myconn_exec(m, sql, err) < 0)
        goto fail;
    if (d->gtids && b->mariadb) {
        struct buf g;
        buf_init(&g);
        gtid_set_format(d->gtids, &g);
        snprintf(sql, sizeof sql, "SET @slave_connect_state = '%s'", g.data ? g.data : "");
        buf_free(&g);
        if (myconn_exec(m, sql, err) < 0 ||
            myconn_exec(m, "SET @slave_gtid_strict_mode = 0", err) < 0)
            goto fail;
    }
    if (register_replica(m, d->server_id, err) < 0 || start_dump(m, b->mariadb, d, err) < 0)
        goto fail;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->nonempty, NULL);
    pthread_cond_init(&b->space, NULL);
    if (pthread_create(&b->thread, NULL, reader_thread, b) != 0) {
        error_set(err, "cannot start the binlog reading thread: %s", strerror(errno));
        pthread_mutex_destroy(&b->mu);
        pthread_cond_destroy(&b->nonempty);
        pthread_cond_destroy(&b->space);
        goto fail;
    }
    b->thread_started = true;
    *out = b;
    return 0;
fail:
    mysql_close(m);
    free(b);
    return -1;
}

int myconn_binlog_next(struct myconn_binlog *b, const uint8_t **ev, size_t *len, int timeout_ms,
                       struct error *err)
{
    free(b->current);
    b->current = NULL;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&b->mu);
    while (b->head == NULL && !b->done) {
        if (pthread_cond_timedwait(&b->nonempty, &b->mu, &deadline) == ETIMEDOUT)
            break;
    }
    struct qev *q = b->head;
    if (q) {
        b->head = q->next;
        if (b->head == NULL)
            b->tail = NULL;
        b->bytes -= q->len;
        pthread_cond_signal(&b->space);
    }
    bool done = b->done;
    struct error e = b->err;
    pthread_mutex_unlock(&b->mu);
    if (q) {
        b->current = q;
        *ev = q->data;
        *len = q->len;
        return 1;
    }
    if (done) {
        *err = e;
        return -1;
    }
    return 0;
}

bool myconn_binlog_crc32(const struct myconn_binlog *b)
{
    return b->crc32;
}

bool myconn_binlog_mariadb(const struct myconn_binlog *b)
{
    return b->mariadb;
}

void myconn_binlog_close(struct myconn_binlog *b)
{
    if (b == NULL)
        return;
    if (b->thread_started) {
        pthread_mutex_lock(&b->mu);
        b->stop = true;
        pthread_cond_broadcast(&b->space);
        pthread_mutex_unlock(&b->mu);
        /* Wakes the thread out of its blocking read. */
        shutdown(mysql_get_socket(b->m), SHUT_RDWR);
        pthread_join(b->thread, NULL);
        pthread_mutex_destroy(&b->mu);
        pthread_cond_destroy(&b->nonempty);
        pthread_cond_destroy(&b->space);
    }
    mysql_close(b->m);
    struct qev *q = b->head;
    while (q) {
        struct qev *next = q->next;
        free(q);
        q = next;
    }
    free(b->current);
    free(b);
}
