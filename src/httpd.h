/*
 * httpd: the libmicrohttpd glue the two HTTP servers share (the Connect REST API of
 * `dbtail serve` and the /metrics endpoint of `dbtail run`): listening, collecting request
 * bodies, optional HTTP basic authentication, and queueing the handler's answer.
 *
 * Each connection gets a thread of its own, so a slow call (stopping a connector waits for its
 * final checkpoint) never holds up another (a status or a scrape).
 */
#ifndef DBTAIL_HTTPD_H
#define DBTAIL_HTTPD_H

#include <stddef.h>

#include "error.h"

/* Bodies larger than this are refused with 413: a connector config is a few kilobytes. */
#define HTTPD_MAX_BODY (1024 * 1024)

struct httpd;

struct httpd_request {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* percent-decoded, without the query string */
    const char *body;   /* NUL-terminated; "" when none */
    size_t body_len;
    void *conn; /* the libmicrohttpd connection, for httpd_query */
};

struct httpd_response {
    int status;
    char *body;               /* owned by the response (freed after sending); NULL for none */
    const char *content_type; /* a string literal; NULL means application/json */
};

/* Fills resp for req; runs on the connection's thread. */
typedef void (*httpd_handler)(void *ctx, const struct httpd_request *req,
                              struct httpd_response *resp);

struct httpd_options {
    const char *host;     /* address or name to listen on */
    int port;             /* 0 picks a free one (see httpd_port) */
    const char *user;     /* basic auth user; NULL for none */
    const char *password; /* basic auth password (with user) */
};

/** Starts serving; handler and ctx are borrowed until httpd_stop. *out is new. */
DBT_MUSTCHECK int httpd_start(const struct httpd_options *opt, httpd_handler handler, void *ctx,
                              struct httpd **out, struct error *err);
/** The port it listens on. */
int httpd_port(const struct httpd *h);
/** Waits for the requests in progress, then frees h (NULL is allowed). */
void httpd_stop(struct httpd *h);

/** The value of query parameter `name` (borrowed from the request), or NULL. */
const char *httpd_query(const struct httpd_request *req, const char *name);
/** Up to max values of a repeated query parameter (?expand=a&expand=b) into vals; returns how
 * many there were. */
size_t httpd_query_all(const struct httpd_request *req, const char *name, const char **vals,
                       size_t max);

/** Sets resp to status with a new copy of body (application/json unless type says). */
void httpd_reply(struct httpd_response *resp, int status, const char *body, const char *type);

#endif
