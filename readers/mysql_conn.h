/*
 * mysql_conn: what dbtail does with libmariadb (MariaDB Connector/C, which is Debian's
 * libmysqlclient). It owns connecting (user/password over mysql_native_password or
 * caching_sha2_password, TLS as database.ssl.mode says), turning client and server errors into
 * struct error (retriable when reconnecting may help), text queries, and the replica side of
 * the replication protocol: COM_REGISTER_SLAVE, then COM_BINLOG_DUMP (file/position, or
 * MariaDB's @slave_connect_state) or COM_BINLOG_DUMP_GTID (MySQL GTID set), whose events a
 * thread of its own reads into a bounded queue so that the reader can wait with a timeout.
 *
 * Connector/C's mariadb_rpl API is not used: it rejects MySQL 5.6's FORMAT_DESCRIPTION and has
 * no GTID support. Checksums are verified by the parser, not here.
 */
#ifndef DBTAIL_MYSQL_CONN_H
#define DBTAIL_MYSQL_CONN_H

#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../src/buf.h"
#include "../src/error.h"
#include "gtid.h"

enum myconn_ssl {
    MYCONN_SSL_DISABLED,
    MYCONN_SSL_PREFERRED,
    MYCONN_SSL_REQUIRED,
    MYCONN_SSL_VERIFY_CA,
    MYCONN_SSL_VERIFY_IDENTITY
};

struct myconn_params {
    const char *host; /* borrowed, as every string here */
    unsigned port;
    const char *user;
    const char *password; /* may be NULL */
    enum myconn_ssl ssl;
    unsigned connect_timeout_s;
    unsigned read_timeout_s; /* 0: none */
};

/** Connects, sets the session to UTF-8 (utf8mb4) and UTC; *out is new (mysql_close). */
DBT_MUSTCHECK int myconn_connect(const struct myconn_params *p, MYSQL **out, struct error *err);

/** Sets *err from the connection's last error, prefixed by what (a verb phrase: "running X");
 * lost connections, restarts and lock timeouts are retriable. Returns -1. */
int myconn_error(MYSQL *m, const char *what, struct error *err);

/** True when the server is MariaDB. */
bool myconn_is_mariadb(MYSQL *m);

/** Runs a statement and discards any result. */
DBT_MUSTCHECK int myconn_exec(MYSQL *m, const char *sql, struct error *err);
/** Runs a query and stores its whole result (*res new, mysql_free_result). */
DBT_MUSTCHECK int myconn_query(MYSQL *m, const char *sql, MYSQL_RES **res, struct error *err);
/** The first column of the first row (new string, free()); *out NULL for no row or NULL. */
DBT_MUSTCHECK int myconn_scalar(MYSQL *m, const char *sql, char **out, struct error *err);
/** Appends s as a quoted identifier (`name`, backquotes doubled). */
void myconn_quote_ident(struct buf *b, const char *s);

/* The replication stream ------------------------------------------------------------------- */

struct myconn_dump {
    uint32_t server_id; /* registered as this replica */
    int heartbeat_ms;   /* @master_heartbeat_period */
    const char *file;   /* start here (file/position dumps) */
    uint64_t pos;
    const struct gtid_set *gtids; /* non-NULL: dump by GTID (MySQL set or MariaDB position) */
    bool annotate;                /* MariaDB: send ANNOTATE_ROWS (the statements' text) */
};

struct myconn_binlog;

/** Opens a replication connection and starts the dump; *out is new (myconn_binlog_close). */
DBT_MUSTCHECK int myconn_binlog_open(const struct myconn_params *p, const struct myconn_dump *d,
                                     struct myconn_binlog **out, struct error *err);
/** Waits up to timeout_ms for the next event: 1 with *ev and *len (the event with its checksum,
 * valid until the next call), 0 when none came, -1 with *err (the stream is then over). */
DBT_MUSTCHECK int myconn_binlog_next(struct myconn_binlog *b, const uint8_t **ev, size_t *len,
                                     int timeout_ms, struct error *err);
/** The server's binlog_checksum setting the dump runs with. */
bool myconn_binlog_crc32(const struct myconn_binlog *b);
bool myconn_binlog_mariadb(const struct myconn_binlog *b);
void myconn_binlog_close(struct myconn_binlog *b);

#endif
