/*
 * connect: the Kafka Connect REST API and the connectors behind it (see connect.h).
 *
 * Two locks: `mu` guards the connector list and every field a request reads (quick, never held
 * while waiting for a pipeline); `life` serializes what starts or stops pipelines (create,
 * update, restart, delete, shutdown), because stopping one waits for its final checkpoint and
 * two callers must never stop or start the same pipeline at once. Status calls take only `mu`,
 * so they answer while a connector is being stopped.
 */
#include "connect.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "httpd.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "pipeline.h"

#define STATE_PATH_KEY "offset.storage.file.filename"
#define NAME_MAX_LEN   200

static const char *const plugin_classes[] = {
    "io.debezium.connector.postgresql.PostgresConnector",
    "io.debezium.connector.mysql.MySqlConnector",
    "io.debezium.connector.mariadb.MariaDbConnector",
};

struct connect;

struct connector {
    struct connect *mgr;
    char *name;
    json_t *config;     /* the config map as given (string values, with "name") */
    struct config *cfg; /* what the pipeline runs with: config + the state file's path */
    bool paused;        /* target state, persisted with the config */
    struct metrics_conn *mc;

    /* The pipeline thread; `started` from its creation until it is joined. */
    pthread_t thread;
    bool started;
    atomic_bool done;
    struct pipeline_control ctl;
    int rc;                    /* the pipeline's result, valid once done */
    char trace[ERROR_MSG_MAX]; /* its error when rc < 0 */
};

struct connect {
    char *state_dir;
    char *worker_id;
    struct metrics *metrics;
    atomic_int *stop;
    pthread_mutex_t mu;
    pthread_mutex_t life;
    bool closing;
    struct connector **list;
    size_t n;
};

/* ---- small helpers ----------------------------------------------------------------------- */

static char *json_text(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    char *copy = mem_strdup(s ? s : "null");
    free(s);
    return copy;
}

static void reply_json(struct httpd_response *resp, int status, json_t *j)
{
    free(resp->body);
    resp->status = status;
    resp->body = json_text(j);
    resp->content_type = NULL;
    json_decref(j);
}

static void reply_error(struct httpd_response *resp, int status, const char *fmt, ...)
    DBT_PRINTF(3, 4);

/* Connect's ErrorMessage: {"error_code": status, "message": "..."}. */
static void reply_error(struct httpd_response *resp, int status, const char *fmt, ...)
{
    char msg[ERROR_MSG_MAX + 128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    reply_json(resp, status, json_pack("{s:i, s:s}", "error_code", status, "message", msg));
}

static void reply_empty(struct httpd_response *resp, int status)
{
    free(resp->body);
    resp->body = NULL;
    resp->status = status;
}

/* Connect trims names and refuses empty ones; dbtail also makes a file of each name. */
static int check_name(const char *name, struct error *err)
{
    size_t n = strlen(name);
    if (n == 0)
        return error_set(err, "connector name must not be empty");
    if (n > NAME_MAX_LEN)
        return error_set(err, "connector name longer than %d characters", NAME_MAX_LEN);
    if (name[0] == '.')
        return error_set(err, "connector name \"%s\" must not start with a dot", name);
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
            return error_set(err, "connector name \"%s\" contains a control character, / or \\",
                             name);
    return 0;
}

/* Connect's config is a map of strings: numbers and booleans become their text, null drops
 * the key, and anything else is refused. Returns a new object or NULL with *err set. */
static json_t *string_map(const json_t *obj, struct error *err)
{
    if (!json_is_object(obj)) {
        error_set(err, "the connector config must be a JSON object of strings");
        return NULL;
    }
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        char *text;
        if (json_is_string(v)) {
            text = mem_strdup(json_string_value(v));
        } else if (json_is_true(v) || json_is_false(v) || json_is_number(v)) {
            text = json_text(v);
        } else if (json_is_null(v)) {
            continue;
        } else {
            json_decref(out);
            error_set(err, "config value of \"%s\" must be a string, number or boolean", key);
            return NULL;
        }
        json_object_set_new(out, key, json_string(text));
        free(text);
    }
    return out;
}

/* Writes path atomically: a crash leaves the old file or the new one. */
static int write_file(const char *path, const char *text, struct error *err)
{
    struct buf tmp;
    buf_init(&tmp);
    buf_printf(&tmp, "%s.tmp", path);
    int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        error_set(err, "cannot write %s: %s", tmp.data, strerror(errno));
        buf_free(&tmp);
        return -1;
    }
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            error_set(err, "cannot write %s: %s", tmp.data, strerror(errno));
            close(fd);
            unlink(tmp.data);
            buf_free(&tmp);
            return -1;
        }
        off += (size_t)w;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        error_set(err, "cannot write %s: %s", tmp.data, strerror(errno));
        unlink(tmp.data);
        buf_free(&tmp);
        return -1;
    }
    if (rename(tmp.data, path) < 0) {
        error_set(err, "cannot rename %s to %s: %s", tmp.data, path, strerror(errno));
        unlink(tmp.data);
        buf_free(&tmp);
        return -1;
    }
    buf_free(&tmp);
    return 0;
}

static char *config_path(const struct connect *mgr, const char *name)
{
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "%s/%s.json", mgr->state_dir, name);
    return buf_take(&b);
}

/* Saves the connector's config and target state (Connect's config topic). */
static int save_connector(const struct connector *c, struct error *err)
{
    json_t *doc = json_pack("{s:s, s:O}", "name", c->name, "config", c->config);
    if (c->paused)
        json_object_set_new(doc, "paused", json_true());
    char *text = json_dumps(doc, JSON_INDENT(2));
    json_decref(doc);
    char *path = config_path(c->mgr, c->name);
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "%s\n", text);
    int rc = write_file(path, b.data, err);
    buf_free(&b);
    free(text);
    free(path);
    return rc;
}

/* Builds what the pipeline runs with from a string map (borrowed). */
static int build_config(const struct connect *mgr, const char *name, const json_t *config,
                        struct config **out, struct error *err)
{
    json_t *body = json_pack("{s:s, s:O}", "name", name, "config", config);
    char origin[NAME_MAX_LEN + 32];
    snprintf(origin, sizeof origin, "connector %s", name);
    struct config *cfg = NULL;
    int rc = config_from_json(body, origin, &cfg, err);
    json_decref(body);
    if (rc < 0)
        return -1;
    if (config_get(cfg, STATE_PATH_KEY) == NULL) {
        struct buf b;
        buf_init(&b);
        buf_printf(&b, "%s/%s.offsets", mgr->state_dir, name);
        config_set(cfg, STATE_PATH_KEY, b.data);
        buf_free(&b);
    }
    if (config_validate(cfg, err) < 0) {
        config_free(cfg);
        return -1;
    }
    *out = cfg;
    return 0;
}

/* ---- connectors and their threads -------------------------------------------------------- */

static struct connector *find(const struct connect *mgr, const char *name)
{
    for (size_t i = 0; i < mgr->n; i++)
        if (strcmp(mgr->list[i]->name, name) == 0)
            return mgr->list[i];
    return NULL;
}

static void *connector_main(void *arg)
{
    struct connector *c = arg;
    struct error err;
    error_clear(&err);
    log_set_connector(c->name);
    log_info("connect", "connector %s starting", c->name);
    int rc = pipeline_run_ctl(c->cfg, READER_RUN, NULL, &c->ctl, &err);
    if (rc < 0)
        log_error("connect", "connector %s failed: %s", c->name, err.msg);
    else
        log_info("connect", "connector %s stopped", c->name);
    pthread_mutex_lock(&c->mgr->mu);
    c->rc = rc;
    snprintf(c->trace, sizeof c->trace, "%s", rc < 0 ? err.msg : "");
    pthread_mutex_unlock(&c->mgr->mu);
    atomic_store(&c->done, true);
    log_set_connector(NULL);
    return NULL;
}

/* Starts the pipeline thread; life is held. */
static int start_connector(struct connector *c, struct error *err)
{
    atomic_store(&c->ctl.halt, false);
    atomic_store(&c->ctl.pause, c->paused);
    atomic_store(&c->ctl.parked, false);
    atomic_store(&c->done, false);
    pthread_mutex_lock(&c->mgr->mu);
    c->rc = 0;
    c->trace[0] = '\0';
    pthread_mutex_unlock(&c->mgr->mu);
    int e = pthread_create(&c->thread, NULL, connector_main, c);
    if (e != 0)
        return error_set(err, "cannot start a thread for connector %s: %s", c->name, strerror(e));
    pthread_mutex_lock(&c->mgr->mu);
    c->started = true;
    pthread_mutex_unlock(&c->mgr->mu);
    return 0;
}

/* Stops the pipeline (it flushes and checkpoints) and joins it; life is held. Returns its
 * result. */
static int stop_connector(struct connector *c)
{
    if (!c->started)
        return 0;
    atomic_store(&c->ctl.halt, true);
    pthread_join(c->thread, NULL);
    pthread_mutex_lock(&c->mgr->mu);
    c->started = false;
    int rc = c->rc;
    pthread_mutex_unlock(&c->mgr->mu);
    return rc;
}

static void connector_free(struct connector *c)
{
    json_decref(c->config);
    if (c->cfg)
        config_free(c->cfg);
    free(c->name);
    free(c);
}

/* A new connector in the list (mu held); config is stolen, cfg owned from now on. */
static struct connector *add_connector(struct connect *mgr, const char *name, json_t *config,
                                       struct config *cfg, bool paused)
{
    struct connector *c = mem_calloc(1, sizeof *c);
    c->mgr = mgr;
    c->name = mem_strdup(name);
    c->config = config;
    c->cfg = cfg;
    c->paused = paused;
    c->mc = metrics_connector(mgr->metrics, name);
    c->ctl.stop = mgr->stop;
    c->ctl.metrics = c->mc;
    mgr->list = mem_realloc(mgr->list, (mgr->n + 1) * sizeof *mgr->list);
    mgr->list[mgr->n++] = c;
    return c;
}

static void remove_connector(struct connect *mgr, struct connector *c)
{
    for (size_t i = 0; i < mgr->n; i++) {
        if (mgr->list[i] == c) {
            memmove(&mgr->list[i], &mgr->list[i + 1], (mgr->n - i - 1) * sizeof *mgr->list);
            mgr->n--;
            break;
        }
    }
}

/* The state Connect would show (mu held). */
static const char *state_of(const struct connector *c)
{
    if (c->started && !atomic_load(&c->done)) {
        if (c->paused && atomic_load(&c->ctl.parked))
            return "PAUSED";
        return "RUNNING";
    }
    if (c->rc < 0)
        return "FAILED";
    if (c->paused)
        return "PAUSED";
    return "UNASSIGNED";
}

/* ---- JSON bodies (mu held) --------------------------------------------------------------- */

static json_t *task_id(const struct connector *c)
{
    return json_pack("{s:s, s:i}", "connector", c->name, "task", 0);
}

/* ConnectorInfo */
static json_t *info_json(const struct connector *c)
{
    return json_pack("{s:s, s:O, s:[o], s:s}", "name", c->name, "config", c->config, "tasks",
                     task_id(c), "type", "source");
}

static json_t *state_json(const struct connector *c, const char *state, bool task)
{
    json_t *j = task ? json_pack("{s:i}", "id", 0) : json_object();
    json_object_set_new(j, "state", json_string(state));
    if (strcmp(state, "FAILED") == 0 && c->trace[0])
        json_object_set_new(j, "trace", json_string(c->trace));
    json_object_set_new(j, "worker_id", json_string(c->mgr->worker_id));
    return j;
}

/* ConnectorStateInfo. dbtail's connector is its one task, so both show the same state. */
static json_t *status_json(const struct connector *c)
{
    const char *state = state_of(c);
    return json_pack("{s:s, s:o, s:[o], s:s}", "name", c->name, "connector",
                     state_json(c, state, false), "tasks", state_json(c, state, true), "type",
                     "source");
}

/* ---- handlers ---------------------------------------------------------------------------- */

static json_t *parse_body(const struct httpd_request *req, struct httpd_response *resp)
{
    json_error_t jerr;
    json_t *j = json_loadb(req->body, req->body_len, 0, &jerr);
    if (j == NULL)
        reply_error(resp, 400, "invalid JSON in the request body at line %d, column %d: %s",
                    jerr.line, jerr.column, jerr.text);
    return j;
}

/* Creates (201) or, unless must_be_new, reconfigures (200) a connector and starts it with the
 * new config; config is stolen. life is held. */
static void put_connector(struct connect *mgr, const char *name, json_t *config, bool must_be_new,
                          struct httpd_response *resp)
{
    struct error err;
    error_clear(&err);
    struct config *cfg = NULL;
    if (build_config(mgr, name, config, &cfg, &err) < 0) {
        json_decref(config);
        reply_error(resp, 400, "Connector configuration is invalid: %s", err.msg);
        return;
    }
    pthread_mutex_lock(&mgr->mu);
    struct connector *c = find(mgr, name);
    pthread_mutex_unlock(&mgr->mu);
    if (c && must_be_new) {
        json_decref(config);
        config_free(cfg);
        reply_error(resp, 409, "Connector %s already exists", name);
        return;
    }
    bool created = c == NULL;
    if (c) {
        stop_connector(c);
        pthread_mutex_lock(&mgr->mu);
        json_decref(c->config);
        config_free(c->cfg);
        c->config = config;
        c->cfg = cfg;
        pthread_mutex_unlock(&mgr->mu);
    } else {
        pthread_mutex_lock(&mgr->mu);
        c = add_connector(mgr, name, config, cfg, false);
        pthread_mutex_unlock(&mgr->mu);
    }
    if (save_connector(c, &err) < 0)
        log_error("connect", "connector %s: %s (it runs, but a restart of dbtail forgets it)", name,
                  err.msg);
    if (start_connector(c, &err) < 0) {
        reply_error(resp, 500, "%s", err.msg);
        return;
    }
    log_info("connect", "connector %s %s", name, created ? "created" : "reconfigured");
    pthread_mutex_lock(&mgr->mu);
    reply_json(resp, created ? 201 : 200, info_json(c));
    pthread_mutex_unlock(&mgr->mu);
}

/* Checks the name against the config's own (as Connect does) and puts the connector; config
 * is borrowed, NULL when string_map refused it with *err. */
static void accept_config(struct connect *mgr, const char *name, json_t *config, bool must_be_new,
                          struct error *err, struct httpd_response *resp)
{
    const char *inner = config ? json_string_value(json_object_get(config, "name")) : NULL;
    if (config == NULL || check_name(name, err) < 0) {
        reply_error(resp, 400, "%s", err->msg);
    } else if (inner && strcmp(inner, name) != 0) {
        reply_error(resp, 400,
                    "Connector name configuration (%s) doesn't match connector name in the URL "
                    "(%s)",
                    inner, name);
    } else {
        json_object_set_new(config, "name", json_string(name));
        pthread_mutex_lock(&mgr->life);
        if (mgr->closing)
            reply_error(resp, 503, "the worker is shutting down");
        else
            put_connector(mgr, name, json_incref(config), must_be_new, resp);
        pthread_mutex_unlock(&mgr->life);
    }
}

static void create_connector(struct connect *mgr, const struct httpd_request *req,
                             struct httpd_response *resp)
{
    json_t *body = parse_body(req, resp);
    if (body == NULL)
        return;
    struct error err;
    error_clear(&err);
    const json_t *jname = json_object_get(body, "name");
    const json_t *jconfig = json_object_get(body, "config");
    if (!json_is_object(body) || !json_is_string(jname) || jconfig == NULL) {
        json_decref(body);
        reply_error(resp, 400, "the body must be {\"name\": \"...\", \"config\": {...}}");
        return;
    }
    char *name = config_trimmed(json_string_value(jname));
    json_t *config = string_map(jconfig, &err);
    accept_config(mgr, name, config, true, &err, resp);
    json_decref(config);
    json_decref(body);
    free(name);
}

static void put_config(struct connect *mgr, const char *name, const struct httpd_request *req,
                       struct httpd_response *resp)
{
    json_t *body = parse_body(req, resp);
    if (body == NULL)
        return;
    struct error err;
    error_clear(&err);
    json_t *config = string_map(body, &err);
    json_decref(body);
    accept_config(mgr, name, config, false, &err, resp);
    json_decref(config);
}

static void list_connectors(struct connect *mgr, const struct httpd_request *req,
                            struct httpd_response *resp)
{
    const char *expand[4];
    size_t nexp = httpd_query_all(req, "expand", expand, 4);
    if (nexp > 4)
        nexp = 4;
    pthread_mutex_lock(&mgr->mu);
    json_t *out;
    if (nexp == 0) {
        out = json_array();
        for (size_t i = 0; i < mgr->n; i++)
            json_array_append_new(out, json_string(mgr->list[i]->name));
    } else {
        out = json_object();
        for (size_t i = 0; i < mgr->n; i++) {
            json_t *one = json_object();
            for (size_t k = 0; k < nexp; k++) {
                if (strcmp(expand[k], "status") == 0)
                    json_object_set_new(one, "status", status_json(mgr->list[i]));
                else if (strcmp(expand[k], "info") == 0)
                    json_object_set_new(one, "info", info_json(mgr->list[i]));
            }
            json_object_set_new(out, mgr->list[i]->name, one);
        }
    }
    pthread_mutex_unlock(&mgr->mu);
    reply_json(resp, 200, out);
}

static bool query_true(const struct httpd_request *req, const char *name)
{
    const char *v = httpd_query(req, name);
    return v && strcasecmp(v, "true") == 0;
}

/* Restart = stop (flush, checkpoint) then start from the state file; life is held. */
static void restart(struct connect *mgr, struct connector *c, struct httpd_response *resp,
                    int status_ok, bool with_status)
{
    struct error err;
    error_clear(&err);
    if (c->cfg == NULL) {
        reply_error(resp, 400,
                    "connector %s has no valid config to restart with (%s): PUT a "
                    "new one to /connectors/%s/config",
                    c->name, c->trace, c->name);
        return;
    }
    stop_connector(c);
    if (start_connector(c, &err) < 0) {
        reply_error(resp, 500, "%s", err.msg);
        return;
    }
    log_info("connect", "connector %s restarted", c->name);
    if (!with_status) {
        reply_empty(resp, status_ok);
        return;
    }
    pthread_mutex_lock(&mgr->mu);
    reply_json(resp, status_ok, status_json(c));
    pthread_mutex_unlock(&mgr->mu);
}

static void set_paused(struct connect *mgr, struct connector *c, bool paused,
                       struct httpd_response *resp)
{
    struct error err;
    error_clear(&err);
    pthread_mutex_lock(&mgr->mu);
    bool changed = c->paused != paused;
    c->paused = paused;
    atomic_store(&c->ctl.pause, paused);
    pthread_mutex_unlock(&mgr->mu);
    if (changed) {
        log_info("connect", "connector %s %s", c->name, paused ? "pausing" : "resuming");
        if (save_connector(c, &err) < 0)
            log_error("connect", "connector %s: %s", c->name, err.msg);
    }
    reply_empty(resp, 202);
}

static void delete_connector(struct connect *mgr, struct connector *c, struct httpd_response *resp)
{
    stop_connector(c);
    char *path = config_path(mgr, c->name);
    if (unlink(path) < 0 && errno != ENOENT)
        log_warn("connect", "cannot remove %s: %s", path, strerror(errno));
    free(path);
    pthread_mutex_lock(&mgr->mu);
    remove_connector(mgr, c);
    pthread_mutex_unlock(&mgr->mu);
    metrics_drop(mgr->metrics, c->name);
    if (c->cfg)
        log_info("connect", "connector %s deleted; its offsets stay in %s", c->name,
                 config_str(c->cfg, STATE_PATH_KEY, "?"));
    connector_free(c);
    reply_empty(resp, 204);
}

/* Reads under /connectors/{name}; mu is held for as long as c is used, since a DELETE frees
 * it under mu. */
static void connector_get(struct connect *mgr, struct httpd_response *resp, char **seg, size_t nseg)
{
    pthread_mutex_lock(&mgr->mu);
    struct connector *c = find(mgr, seg[0]);
    const char *what = nseg > 1 ? seg[1] : "";
    if (c == NULL)
        reply_error(resp, 404, "Connector %s not found", seg[0]);
    else if (nseg == 1)
        reply_json(resp, 200, info_json(c));
    else if (nseg == 2 && strcmp(what, "config") == 0)
        reply_json(resp, 200, json_incref(c->config));
    else if (nseg == 2 && strcmp(what, "status") == 0)
        reply_json(resp, 200, status_json(c));
    else if (nseg == 2 && strcmp(what, "tasks") == 0)
        reply_json(resp, 200, json_pack("[{s:o, s:O}]", "id", task_id(c), "config", c->config));
    else if (nseg == 4 && strcmp(what, "tasks") == 0 && strcmp(seg[3], "status") == 0 &&
             strcmp(seg[2], "0") != 0)
        reply_error(resp, 404, "Task %s-%s not found", seg[0], seg[2]);
    else if (nseg == 4 && strcmp(what, "tasks") == 0 && strcmp(seg[3], "status") == 0)
        reply_json(resp, 200, state_json(c, state_of(c), true));
    else
        reply_error(resp, 404, "HTTP 404 Not Found");
    pthread_mutex_unlock(&mgr->mu);
}

/* Changes under /connectors/{name}: life is held throughout, so c stays. */
static void connector_change(struct connect *mgr, const struct httpd_request *req,
                             struct httpd_response *resp, char **seg, size_t nseg)
{
    const char *name = seg[0];
    const char *m = req->method;
    bool put = strcmp(m, "PUT") == 0, post = strcmp(m, "POST") == 0, del = strcmp(m, "DELETE") == 0;
    const char *what = nseg > 1 ? seg[1] : "";

    if (put && nseg == 2 && strcmp(what, "config") == 0) {
        put_config(mgr, name, req, resp);
        return;
    }
    pthread_mutex_lock(&mgr->life);
    pthread_mutex_lock(&mgr->mu);
    struct connector *c = find(mgr, name);
    pthread_mutex_unlock(&mgr->mu);
    bool task_call = nseg == 4 && strcmp(what, "tasks") == 0 && strcmp(seg[3], "restart") == 0;
    if (c == NULL) {
        reply_error(resp, 404, "Connector %s not found", name);
    } else if (mgr->closing) {
        reply_error(resp, 503, "the worker is shutting down");
    } else if (nseg == 1 && del) {
        delete_connector(mgr, c, resp);
    } else if (nseg == 2 && put && strcmp(what, "pause") == 0) {
        set_paused(mgr, c, true, resp);
    } else if (nseg == 2 && put && strcmp(what, "resume") == 0) {
        set_paused(mgr, c, false, resp);
    } else if (nseg == 2 && post && strcmp(what, "restart") == 0) {
        bool include_tasks = query_true(req, "includeTasks");
        bool only_failed = query_true(req, "onlyFailed");
        pthread_mutex_lock(&mgr->mu);
        bool failed = strcmp(state_of(c), "FAILED") == 0;
        pthread_mutex_unlock(&mgr->mu);
        if (!include_tasks && !only_failed) {
            restart(mgr, c, resp, 204, false);
        } else if (only_failed && !failed) {
            pthread_mutex_lock(&mgr->mu);
            reply_json(resp, 202, status_json(c));
            pthread_mutex_unlock(&mgr->mu);
        } else {
            restart(mgr, c, resp, 202, true);
        }
    } else if (post && task_call && strcmp(seg[2], "0") != 0) {
        reply_error(resp, 404, "Task %s-%s not found", name, seg[2]);
    } else if (post && task_call) {
        restart(mgr, c, resp, 204, false);
    } else {
        reply_error(resp, 404, "HTTP 404 Not Found");
    }
    pthread_mutex_unlock(&mgr->life);
}

static void root_info(struct httpd_response *resp)
{
    reply_json(resp, 200,
               json_pack("{s:s, s:s, s:n}", "version", DBTAIL_VERSION, "commit", "dbtail",
                         "kafka_cluster_id"));
}

static void plugins(struct httpd_response *resp)
{
    json_t *out = json_array();
    for (size_t i = 0; i < sizeof plugin_classes / sizeof plugin_classes[0]; i++)
        json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "class", plugin_classes[i], "type",
                                             "source", "version", DBTAIL_VERSION));
    reply_json(resp, 200, out);
}

static void metrics_page(struct connect *mgr, struct httpd_response *resp)
{
    pthread_mutex_lock(&mgr->mu);
    for (size_t i = 0; i < mgr->n; i++)
        metrics_state(mgr->list[i]->mc, state_of(mgr->list[i]));
    pthread_mutex_unlock(&mgr->mu);
    struct buf b;
    buf_init(&b);
    metrics_render(mgr->metrics, &b);
    free(resp->body);
    resp->status = 200;
    resp->body = buf_take(&b);
    resp->content_type = METRICS_CONTENT_TYPE;
}

static void handle(void *ctx, const struct httpd_request *req, struct httpd_response *resp)
{
    struct connect *mgr = ctx;
    /* Split the path into at most five segments; a sixth means no such call. */
    char *path = mem_strdup(req->path);
    char *seg[6];
    size_t nseg = 0;
    for (char *save = NULL, *tok = strtok_r(path, "/", &save); tok && nseg < 6;
         tok = strtok_r(NULL, "/", &save))
        seg[nseg++] = tok;
    const char *m = req->method;
    bool get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;

    if (nseg == 0 && get)
        root_info(resp);
    else if (nseg == 1 && get && strcmp(seg[0], "connector-plugins") == 0)
        plugins(resp);
    else if (nseg == 1 && get && strcmp(seg[0], "metrics") == 0)
        metrics_page(mgr, resp);
    else if (nseg == 1 && strcmp(seg[0], "connectors") == 0 && get)
        list_connectors(mgr, req, resp);
    else if (nseg == 1 && strcmp(seg[0], "connectors") == 0 && strcmp(m, "POST") == 0)
        create_connector(mgr, req, resp);
    else if (nseg == 1 && (strcmp(seg[0], "connectors") == 0 || strcmp(seg[0], "metrics") == 0 ||
                           strcmp(seg[0], "connector-plugins") == 0))
        reply_error(resp, 405, "HTTP 405 Method Not Allowed");
    else if (nseg >= 2 && nseg <= 5 && strcmp(seg[0], "connectors") == 0 && get)
        connector_get(mgr, resp, seg + 1, nseg - 1);
    else if (nseg >= 2 && nseg <= 5 && strcmp(seg[0], "connectors") == 0)
        connector_change(mgr, req, resp, seg + 1, nseg - 1);
    else
        reply_error(resp, 404, "HTTP 404 Not Found");
    free(path);
}

/* ---- start-up and shutdown --------------------------------------------------------------- */

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Brings back the connectors saved in state.dir, in name order. A saved config that no longer
 * validates makes its connector FAILED with the reason, so that the API shows it. */
static void load_saved(struct connect *mgr)
{
    DIR *d = opendir(mgr->state_dir);
    if (d == NULL)
        return;
    char **files = NULL;
    size_t nfiles = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t n = strlen(e->d_name);
        if (n > 5 && e->d_name[0] != '.' && strcmp(e->d_name + n - 5, ".json") == 0) {
            files = mem_realloc(files, (nfiles + 1) * sizeof *files);
            files[nfiles++] = mem_strdup(e->d_name);
        }
    }
    closedir(d);
    if (nfiles > 1)
        qsort(files, nfiles, sizeof *files, compare_names);
    for (size_t i = 0; i < nfiles; i++) {
        struct buf path;
        buf_init(&path);
        buf_printf(&path, "%s/%s", mgr->state_dir, files[i]);
        json_error_t jerr;
        json_t *doc = json_load_file(path.data, 0, &jerr);
        const json_t *jname = json_object_get(doc, "name");
        struct error err;
        error_clear(&err);
        json_t *config = doc ? string_map(json_object_get(doc, "config"), &err) : NULL;
        size_t stem = strlen(files[i]) - 5;
        if (!json_is_string(jname) || config == NULL ||
            check_name(json_string_value(jname), &err) < 0 ||
            strlen(json_string_value(jname)) != stem ||
            strncmp(json_string_value(jname), files[i], stem) != 0) {
            log_warn("connect", "%s is not a saved connector (ignored)", path.data);
            json_decref(config);
            json_decref(doc);
            buf_free(&path);
            continue;
        }
        const char *name = json_string_value(jname);
        struct config *cfg = NULL;
        int rc = build_config(mgr, name, config, &cfg, &err);
        pthread_mutex_lock(&mgr->mu);
        struct connector *c =
            add_connector(mgr, name, config, cfg, json_is_true(json_object_get(doc, "paused")));
        if (rc < 0) {
            error_wrap(&err, "%s: ", path.data);
            c->rc = -1;
            snprintf(c->trace, sizeof c->trace, "%s", err.msg);
        }
        pthread_mutex_unlock(&mgr->mu);
        if (rc < 0) {
            log_error("connect", "connector %s: %s", name, c->trace);
        } else {
            log_info("connect", "connector %s restored from %s", name, path.data);
            if (start_connector(c, &err) < 0)
                log_error("connect", "%s", err.msg);
        }
        json_decref(doc);
        buf_free(&path);
    }
    for (size_t i = 0; i < nfiles; i++)
        free(files[i]);
    free(files);
}

/* Stops every pipeline at once (each has shutdown.timeout.ms), then waits for them all.
 * Returns how many of those still running did not stop cleanly. */
static int stop_all(struct connect *mgr)
{
    pthread_mutex_lock(&mgr->life);
    mgr->closing = true;
    bool *running = mem_calloc(mgr->n + 1, sizeof *running);
    for (size_t i = 0; i < mgr->n; i++) {
        struct connector *c = mgr->list[i];
        running[i] = c->started && !atomic_load(&c->done);
        if (c->started)
            atomic_store(&c->ctl.halt, true);
    }
    int failures = 0;
    for (size_t i = 0; i < mgr->n; i++)
        if (stop_connector(mgr->list[i]) < 0 && running[i])
            failures++;
    free(running);
    pthread_mutex_unlock(&mgr->life);
    return failures;
}

/* The worker keys serve reads; the rest of a Connect worker file is named once as ignored. */
static const char *const worker_keys[] = {
    "rest.host",
    "rest.port",
    "listeners",
    "state.dir",
    "rest.basic.auth.user",
    "rest.basic.auth.password",
    "shutdown.timeout.ms",
    "log.level",
    "log.format",
};

static int note_ignored(void *ctx, const char *key, const char *value)
{
    (void)ctx;
    (void)value;
    for (size_t i = 0; i < sizeof worker_keys / sizeof worker_keys[0]; i++)
        if (strcmp(key, worker_keys[i]) == 0)
            return 0;
    log_info("connect", "ignoring worker setting %s: dbtail has no use for it", key);
    return 0;
}

/* Connect's `listeners` (http://HOST:PORT, the first of a list; an empty host is every
 * interface) when rest.host and rest.port are not set. */
static int parse_listener(const char *text, char *host, size_t hostlen, int *port,
                          struct error *err)
{
    size_t n = strcspn(text, ",");
    if (strncasecmp(text, "http://", 7) != 0)
        return error_set(err, "listeners: expected http://HOST:PORT, got \"%.*s\"", (int)n, text);
    const char *h = text + 7, *end = text + n;
    const char *colon = NULL;
    for (const char *p = h; p < end; p++)
        if (*p == ':')
            colon = p;
    char *tail;
    long v = colon ? strtol(colon + 1, &tail, 10) : -1;
    if (colon == NULL || tail != end || v < 0 || v > 65535 || (size_t)(colon - h) >= hostlen)
        return error_set(err, "listeners: expected http://HOST:PORT, got \"%.*s\"", (int)n, text);
    if (colon == h)
        snprintf(host, hostlen, "0.0.0.0");
    else
        snprintf(host, hostlen, "%.*s", (int)(colon - h), h);
    *port = (int)v;
    return 0;
}

static int worker_options(const struct config *worker, struct httpd_options *opt, char *host,
                          size_t hostlen, const char **state_dir, struct error *err)
{
    int64_t port;
    if (config_int(worker, "rest.port", 8083, 0, 65535, &port, err) < 0)
        return -1;
    opt->host = config_str(worker, "rest.host", "127.0.0.1");
    opt->port = (int)port;
    const char *listeners = config_get(worker, "listeners");
    if (listeners && !config_get(worker, "rest.port") && !config_get(worker, "rest.host")) {
        if (parse_listener(listeners, host, hostlen, &opt->port, err) < 0)
            return -1;
        opt->host = host;
    }
    opt->user = config_get(worker, "rest.basic.auth.user");
    opt->password = config_get(worker, "rest.basic.auth.password");
    if (opt->user && opt->password == NULL)
        return error_set(err, "rest.basic.auth.user is set without rest.basic.auth.password");
    *state_dir = config_str(worker, "state.dir", ".");
    if (**state_dir == '\0')
        return error_set(err, "state.dir: empty (name the directory of the connectors' "
                              "configs and offsets)");
    return 0;
}

int connect_serve(const struct config *worker, atomic_int *stop, struct error *err)
{
    struct httpd_options opt;
    const char *state_dir = NULL;
    char host[256];
    if (worker_options(worker, &opt, host, sizeof host, &state_dir, err) < 0)
        return -1;
    config_each(worker, "", note_ignored, NULL);
    if (mkdir(state_dir, 0700) < 0 && errno != EEXIST)
        return error_set(err, "state.dir: cannot create %s: %s", state_dir, strerror(errno));

    struct connect mgr = {.stop = stop};
    pthread_mutex_init(&mgr.mu, NULL);
    pthread_mutex_init(&mgr.life, NULL);
    mgr.state_dir = mem_strdup(state_dir);
    mgr.metrics = metrics_new();

    struct httpd *http = NULL;
    int rc = httpd_start(&opt, handle, &mgr, &http, err);
    if (rc == 0) {
        struct buf id;
        buf_init(&id);
        buf_printf(&id, "%s:%d", opt.host, httpd_port(http));
        mgr.worker_id = buf_take(&id);
        log_info("connect", "REST API on http://%s/ (state.dir %s)%s", mgr.worker_id, state_dir,
                 opt.user ? " with basic authentication" : "");
        load_saved(&mgr);
        while (!*stop) {
            struct timespec ts = {.tv_sec = 0, .tv_nsec = 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
        log_info("connect", "stopping %zu connector%s", mgr.n, mgr.n == 1 ? "" : "s");
        int failures = stop_all(&mgr);
        httpd_stop(http);
        if (failures > 0)
            rc = error_set(err,
                           "%d connector%s did not stop cleanly (see above); their state "
                           "files keep the previous checkpoint",
                           failures, failures == 1 ? "" : "s");
    }
    for (size_t i = 0; i < mgr.n; i++)
        connector_free(mgr.list[i]);
    free(mgr.list);
    metrics_free(mgr.metrics);
    free(mgr.worker_id);
    free(mgr.state_dir);
    pthread_mutex_destroy(&mgr.mu);
    pthread_mutex_destroy(&mgr.life);
    return rc;
}
