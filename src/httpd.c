/* httpd: libmicrohttpd glue shared by the REST API and the metrics endpoint (see httpd.h). */
#include "httpd.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "mem.h"

struct httpd {
    struct MHD_Daemon *daemon;
    httpd_handler handler;
    void *ctx;
    char *user;
    char *password;
    int port;
};

/* One request's state across the access handler's calls. */
struct pending {
    struct buf body;
    bool too_large;
};

/* libmicrohttpd hands its own format strings here, as a printf-style callback. */
static void mhd_log(void *cls, const char *fmt, va_list ap) DBT_PRINTF(2, 0);
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char text[512];
    (void)cls;
    vsnprintf(text, sizeof text, fmt, ap);
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = '\0';
    log_warn("http", "%s", text);
}

static enum MHD_Result queue(struct MHD_Connection *conn, struct httpd_response *resp,
                             bool challenge)
{
    const char *body = resp->body ? resp->body : "";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    if (resp->body)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                resp->content_type ? resp->content_type : "application/json");
    enum MHD_Result rc;
    if (challenge)
        rc = MHD_queue_basic_auth_fail_response(conn, "dbtail", r);
    else
        rc = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return rc;
}

static void error_reply(struct httpd_response *resp, int status, const char *message)
{
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "{\"error_code\":%d,\"message\":", status);
    buf_json_str(&b, message, strlen(message));
    buf_putc(&b, '}');
    resp->status = status;
    resp->body = buf_take(&b);
    resp->content_type = NULL;
}

/* Compares without returning early, so the time taken says nothing about the secret. */
static bool same_secret(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    unsigned char diff = na != nb;
    for (size_t i = 0; i < na; i++)
        diff |= (unsigned char)(a[i] ^ b[i % (nb ? nb : 1)]);
    return diff == 0;
}

static bool authorized(const struct httpd *h, struct MHD_Connection *conn)
{
    if (h->user == NULL)
        return true;
    char *password = NULL;
    char *user = MHD_basic_auth_get_username_password(conn, &password);
    bool ok = user && password && same_secret(user, h->user) && same_secret(password, h->password);
    MHD_free(user);
    MHD_free(password);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct httpd *h = cls;
    (void)version;

    struct pending *p = *con_cls;
    if (p == NULL) {
        p = mem_calloc(1, sizeof *p);
        buf_init(&p->body);
        buf_puts(&p->body, "");
        *con_cls = p;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (p->body.len + *upload_data_size > HTTPD_MAX_BODY)
            p->too_large = true;
        else
            buf_append(&p->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }

    struct httpd_response resp = {0};
    bool challenge = false;
    if (!authorized(h, conn)) {
        error_reply(&resp, 401, "authentication required");
        challenge = true;
    } else if (p->too_large) {
        char msg[96];
        snprintf(msg, sizeof msg, "request body larger than %d bytes", HTTPD_MAX_BODY);
        error_reply(&resp, 413, msg);
    } else {
        struct httpd_request req = {
            .method = method,
            .path = url,
            .body = p->body.data,
            .body_len = p->body.len,
            .conn = conn,
        };
        h->handler(h->ctx, &req, &resp);
    }
    enum MHD_Result rc = queue(conn, &resp, challenge);
    free(resp.body);
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct pending *p = *con_cls;
    if (p) {
        buf_free(&p->body);
        free(p);
        *con_cls = NULL;
    }
}

/* Binds and listens ourselves so that a refusal names its cause (the port is taken, the
 * address is not this host's), which libmicrohttpd would not say. */
static int listen_on(const char *host, int port, int *fd_out, int *port_out, bool *ipv6,
                     struct error *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0)
        return error_set(err, "cannot listen on %s:%d: %s", host, port, gai_strerror(gai));
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0) {
            *ipv6 = ai->ai_family == AF_INET6;
            break;
        }
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return error_set(err, "cannot listen on %s:%d: %s", host, port, strerror(saved));
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    *port_out = port;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET)
            *port_out = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            *port_out = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    *fd_out = fd;
    return 0;
}

int httpd_start(const struct httpd_options *opt, httpd_handler handler, void *ctx,
                struct httpd **out, struct error *err)
{
    int fd = -1, port = 0;
    bool ipv6 = false;
    if (listen_on(opt->host, opt->port, &fd, &port, &ipv6, err) < 0)
        return -1;
    struct httpd *h = mem_calloc(1, sizeof *h);
    h->handler = handler;
    h->ctx = ctx;
    h->port = port;
    if (opt->user) {
        h->user = mem_strdup(opt->user);
        h->password = mem_strdup(opt->password ? opt->password : "");
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_AUTO | MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0);
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT, 120u, MHD_OPTION_END);
    if (h->daemon == NULL) {
        close(fd);
        free(h->user);
        free(h->password);
        free(h);
        return error_set(err, "cannot start the HTTP server on %s:%d", opt->host, port);
    }
    *out = h;
    return 0;
}

int httpd_port(const struct httpd *h)
{
    return h->port;
}

void httpd_stop(struct httpd *h)
{
    if (h == NULL)
        return;
    MHD_stop_daemon(h->daemon);
    free(h->user);
    free(h->password);
    free(h);
}

const char *httpd_query(const struct httpd_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct query_walk {
    const char *name;
    const char **vals;
    size_t max;
    size_t n;
};

static enum MHD_Result query_each(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    struct query_walk *w = cls;
    (void)kind;
    if (key && strcmp(key, w->name) == 0 && value) {
        if (w->n < w->max)
            w->vals[w->n] = value;
        w->n++;
    }
    return MHD_YES;
}

size_t httpd_query_all(const struct httpd_request *req, const char *name, const char **vals,
                       size_t max)
{
    struct query_walk w = {name, vals, max, 0};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, query_each, &w);
    return w.n;
}

void httpd_reply(struct httpd_response *resp, int status, const char *body, const char *type)
{
    free(resp->body);
    resp->status = status;
    resp->body = body ? mem_strdup(body) : NULL;
    resp->content_type = type;
}
