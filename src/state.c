/*
 * state: the offsets file (see state.h). Loading refuses anything it cannot fully trust and
 * says how to proceed; saving goes through PATH.tmp so that a crash leaves the old file intact.
 * Keys that name secrets are dropped from the identity and the sink checkpoints on save and
 * ignored on comparison, so that a password that slipped into them can neither be written to
 * disk nor make two sources differ.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "mem.h"

/* What every load error ends with: the file is kept, and the user decides. */
#define STATE_KEPT                                                                                 \
    "; the file was not modified: repair it, or remove it to start over with a new snapshot"

struct state *state_new(void)
{
    return mem_calloc(1, sizeof(struct state));
}

void state_free(struct state *st)
{
    if (st == NULL)
        return;
    free(st->connector);
    json_decref(st->source);
    json_decref(st->position);
    json_decref(st->schemas);
    json_decref(st->sinks);
    free(st->saved_at);
    free(st);
}

/* A deep copy of j without the object members whose key names a secret (new reference). */
static json_t *without_secrets(const json_t *j)
{
    if (json_is_object(j)) {
        json_t *copy = json_object();
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)j, key, val)
        {
            if (!config_is_secret(key))
                json_object_set_new(copy, key, without_secrets(val));
        }
        return copy;
    }
    if (json_is_array(j)) {
        json_t *copy = json_array();
        size_t i;
        json_t *val;
        json_array_foreach(j, i, val)
        {
            json_array_append_new(copy, without_secrets(val));
        }
        return copy;
    }
    return json_deep_copy(j);
}

static bool errno_retriable(int e)
{
    return e == ENOSPC || e == EDQUOT || e == EIO || e == EAGAIN;
}

static int io_error(struct error *err, int e, const char *what, const char *path)
{
    if (errno_retriable(e))
        return error_retry(err, "could not %s state file %s: %s", what, path, strerror(e));
    return error_set(err, "could not %s state file %s: %s", what, path, strerror(e));
}

/* Reads the whole file; 1 when it does not exist. */
static int read_file(const char *path, struct buf *out, struct error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        return error_set(err, "could not open state file %s: %s" STATE_KEPT, path, strerror(errno));
    }
    for (;;) {
        buf_reserve(out, 65536);
        ssize_t n = read(fd, out->data + out->len, out->cap - out->len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return error_set(err, "could not read state file %s: %s" STATE_KEPT, path, strerror(e));
        }
        if (n == 0)
            break;
        out->len += (size_t)n;
        out->data[out->len] = '\0';
    }
    close(fd);
    return 0;
}

static int parse_state(const char *path, const json_t *root, struct state *st, struct error *err)
{
    if (!json_is_object(root))
        return error_set(err, "state file %s: not a JSON object" STATE_KEPT, path);
    json_t *format = json_object_get(root, "format");
    if (!json_is_integer(format))
        return error_set(err, "state file %s: \"format\" is missing or not a number" STATE_KEPT,
                         path);
    if (json_integer_value(format) != STATE_FORMAT)
        return error_set(err,
                         "state file %s has format %" JSON_INTEGER_FORMAT
                         " but this dbtail reads format %d; the file was not modified: run the "
                         "dbtail version that wrote it, or remove it to start over with a new "
                         "snapshot",
                         path, json_integer_value(format), STATE_FORMAT);

    json_t *connector = json_object_get(root, "connector");
    if (connector && !json_is_null(connector) && !json_is_string(connector))
        return error_set(err, "state file %s: \"connector\" is not a string" STATE_KEPT, path);
    json_t *source = json_object_get(root, "source");
    if (!json_is_object(source))
        return error_set(err, "state file %s: \"source\" is missing or not an object" STATE_KEPT,
                         path);
    json_t *position = json_object_get(root, "position");
    if (position == NULL || json_is_null(position))
        return error_set(err, "state file %s: \"position\" is missing" STATE_KEPT, path);
    json_t *sinks = json_object_get(root, "sinks");
    if (sinks && !json_is_null(sinks) && !json_is_object(sinks))
        return error_set(err, "state file %s: \"sinks\" is not an object" STATE_KEPT, path);
    json_t *schemas = json_object_get(root, "schemas");
    json_t *saved_at = json_object_get(root, "saved_at");

    st->connector = json_is_string(connector) ? mem_strdup(json_string_value(connector)) : NULL;
    st->source = json_incref(source);
    st->position = json_incref(position);
    st->schemas = schemas && !json_is_null(schemas) ? json_incref(schemas) : NULL;
    st->sinks = sinks && !json_is_null(sinks) ? json_incref(sinks) : NULL;
    st->saved_at = json_is_string(saved_at) ? mem_strdup(json_string_value(saved_at)) : NULL;
    return 0;
}

int state_load(const char *path, struct state **out, struct error *err)
{
    struct buf text;
    buf_init(&text);
    *out = NULL;

    int rc = read_file(path, &text, err);
    if (rc != 0) {
        buf_free(&text);
        return rc > 0 ? 0 : -1;
    }

    json_error_t jerr;
    json_t *root = json_loadb(text.data ? text.data : "", text.len, 0, &jerr);
    buf_free(&text);
    if (root == NULL)
        return error_set(err, "state file %s:%d: invalid JSON: %s" STATE_KEPT, path, jerr.line,
                         jerr.text);

    struct state *st = state_new();
    rc = parse_state(path, root, st, err);
    json_decref(root);
    if (rc < 0) {
        state_free(st);
        return -1;
    }
    *out = st;
    return 0;
}

static void iso_now(char *out, size_t outlen)
{
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int write_tmp(const char *tmp, const char *text, struct error *err)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return io_error(err, errno, "create", tmp);
    if (write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return io_error(err, e, "write", tmp);
    }
    if (close(fd) < 0) {
        int e = errno;
        unlink(tmp);
        return io_error(err, e, "write", tmp);
    }
    return 0;
}

int state_save(const char *path, const struct state *st, struct error *err)
{
    char stamp[32];
    iso_now(stamp, sizeof stamp);

    json_t *root = json_object();
    json_object_set_new(root, "format", json_integer(STATE_FORMAT));
    json_object_set_new(root, "connector",
                        st->connector ? json_string(st->connector) : json_null());
    json_object_set_new(root, "source", without_secrets(st->source));
    /* A position is the reader's own data, with table names for keys: stored whole. */
    json_object_set_new(root, "position", json_incref(st->position));
    json_object_set_new(root, "schemas", st->schemas ? json_incref(st->schemas) : json_null());
    json_object_set_new(root, "sinks", st->sinks ? without_secrets(st->sinks) : json_object());
    json_object_set_new(root, "saved_at", json_string(stamp));
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (text == NULL)
        return error_set(err, "could not encode state file %s: a value is not valid JSON", path);

    struct buf tmp;
    buf_init(&tmp);
    buf_printf(&tmp, "%s.tmp", path);
    /* The trailing newline keeps the file pleasant to cat. */
    size_t len = strlen(text);
    text = mem_realloc(text, len + 2);
    text[len] = '\n';
    text[len + 1] = '\0';

    int rc = write_tmp(tmp.data, text, err);
    free(text);
    if (rc == 0 && rename(tmp.data, path) < 0) {
        rc = io_error(err, errno, "replace", path);
        unlink(tmp.data);
    }
    buf_free(&tmp);
    if (rc < 0)
        return -1;

    /* The directory holding path, so that the rename itself is durable. */
    char *copy = mem_strdup(path);
    const char *dir = dirname(copy);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) < 0) {
        int e = errno;
        if (dfd >= 0)
            close(dfd);
        rc = error_set(err, "could not sync directory %s of state file %s: %s", dir, path,
                       strerror(e));
        err->retriable = errno_retriable(e);
        free(copy);
        return rc;
    }
    close(dfd);
    free(copy);
    return 0;
}

static char *json_text(const json_t *j)
{
    if (j == NULL)
        return mem_strdup("(absent)");
    char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *copy = mem_strdup(s ? s : "?");
    free(s);
    return copy;
}

int state_check_source(const struct state *st, const json_t *identity, const char *path,
                       struct error *err)
{
    json_t *saved = without_secrets(st->source);
    json_t *now = without_secrets(identity);
    const char *differs = NULL;
    const char *key;
    json_t *val;

    /* Saved keys first, in file order, so the message names the first field a user would see. */
    json_object_foreach(saved, key, val)
    {
        if (!json_equal(val, json_object_get(now, key))) {
            differs = key;
            break;
        }
    }
    if (differs == NULL) {
        json_object_foreach(now, key, val)
        {
            if (json_object_get(saved, key) == NULL) {
                differs = key;
                break;
            }
        }
    }
    int rc = 0;
    if (differs) {
        char *was = json_text(json_object_get(saved, differs));
        char *is = json_text(json_object_get(now, differs));
        rc = error_set(err,
                       "state file %s belongs to another source: %s is %s there but %s now; the "
                       "file was not modified: point the connector back at that source, or "
                       "remove the file to start over with a new snapshot",
                       path, differs, was, is);
        free(was);
        free(is);
    }
    json_decref(saved);
    json_decref(now);
    return rc;
}

int state_lock(const char *path, int *fd, struct error *err)
{
    struct buf lock;
    buf_init(&lock);
    buf_printf(&lock, "%s.lock", path);
    int lfd = open(lock.data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lfd < 0) {
        error_set(err, "could not create lock file %s: %s", lock.data, strerror(errno));
        buf_free(&lock);
        return -1;
    }
    if (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        if (e == EWOULDBLOCK)
            error_set(err,
                      "another dbtail is running with state file %s (it holds %s): stop it "
                      "first, or give this connector its own offset.storage.file.filename",
                      path, lock.data);
        else
            error_set(err, "could not lock %s: %s", lock.data, strerror(e));
        close(lfd);
        buf_free(&lock);
        return -1;
    }
    buf_free(&lock);
    *fd = lfd;
    return 0;
}

static void print_value(FILE *out, const json_t *j, int depth);

static void print_members(FILE *out, const json_t *obj, int depth)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val)
    {
        if (config_is_secret(key))
            continue;
        fprintf(out, "%*s%s:", depth * 2, "", key);
        print_value(out, val, depth + 1);
    }
}

/* Objects nest as indented lines; anything else stays on the key's line. */
static void print_value(FILE *out, const json_t *j, int depth)
{
    if (json_is_object(j)) {
        fputc('\n', out);
        print_members(out, j, depth);
    } else if (json_is_string(j)) {
        fprintf(out, " %s\n", json_string_value(j));
    } else {
        json_t *clean = without_secrets(j);
        char *text = json_text(clean);
        fprintf(out, " %s\n", text);
        free(text);
        json_decref(clean);
    }
}

void state_print(const struct state *st, FILE *out)
{
    fprintf(out, "connector: %s\n", st->connector ? st->connector : "(unnamed)");
    fprintf(out, "saved at: %s\n", st->saved_at ? st->saved_at : "(unknown)");
    fprintf(out, "source:");
    print_value(out, st->source, 1);
    fprintf(out, "position:");
    print_value(out, st->position, 1);
    size_t ntables = json_is_object(st->schemas)  ? json_object_size(st->schemas)
                     : json_is_array(st->schemas) ? json_array_size(st->schemas)
                                                  : 0;
    fprintf(out, "tables with saved schemas: %zu\n", ntables);
    fprintf(out, "sinks:");
    if (st->sinks && json_object_size(st->sinks) > 0)
        print_value(out, st->sinks, 1);
    else
        fprintf(out, " (none)\n");
}
