/* doris_http: libcurl client, reply parsers and labels for Doris (see doris_http.h). */
#include "doris_http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/cursor.h"
#include "../src/mem.h"

struct doris_http {
    CURL *curl; /* one handle, so that connections to the FE and BEs are kept alive */
    char *user;
    char *password;
    char errbuf[CURL_ERROR_SIZE];
};

/* The body being uploaded; curl rewinds it through seek_body when a redirect needs it again. */
struct upload {
    const char *p;
    size_t len;
    size_t off;
};

static size_t read_body(char *dst, size_t size, size_t nitems, void *arg)
{
    struct upload *u = arg;
    size_t n = size * nitems;
    if (n > u->len - u->off)
        n = u->len - u->off;
    memcpy(dst, u->p + u->off, n);
    u->off += n;
    return n;
}

static int seek_body(void *arg, curl_off_t offset, int origin)
{
    struct upload *u = arg;
    if (origin != SEEK_SET || offset < 0 || (size_t)offset > u->len)
        return CURL_SEEKFUNC_CANTSEEK;
    u->off = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

static size_t write_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct buf *b = arg;
    size_t n = size * nmemb;
    size_t room = b->len < DORIS_BODY_MAX ? DORIS_BODY_MAX - b->len : 0;
    buf_append(b, data, n < room ? n : room);
    return n;
}

struct doris_http *doris_http_new(const char *user, const char *password)
{
    static bool curl_ready;
    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        curl_ready = true;
    }
    struct doris_http *h = mem_calloc(1, sizeof *h);
    h->curl = curl_easy_init();
    if (!h->curl) {
        free(h);
        return NULL;
    }
    h->user = mem_strdup(user ? user : "");
    h->password = mem_strdup(password ? password : "");
    return h;
}

void doris_http_free(struct doris_http *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->curl);
    free(h->user);
    if (h->password)
        memset(h->password, 0, strlen(h->password));
    free(h->password);
    free(h);
}

void doris_response_init(struct doris_response *r)
{
    r->status = 0;
    buf_init(&r->body);
}

void doris_response_free(struct doris_response *r)
{
    buf_free(&r->body);
    r->status = 0;
}

enum method { M_PUT, M_POST, M_GET };

static int perform(struct doris_http *h, enum method m, const char *url, const char *const *headers,
                   size_t nheaders, const void *body, size_t len, long timeout_ms,
                   struct doris_response *resp, struct error *err)
{
    CURL *c = h->curl;
    struct curl_slist *list = NULL;
    struct upload up = {body, len, 0};

    curl_easy_reset(c);
    buf_reset(&resp->body);
    resp->status = 0;
    h->errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000L);
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, h->user);
    curl_easy_setopt(c, CURLOPT_PASSWORD, h->password);
    /* The FE answers a load with 307 to a BE, which checks the credentials again. */
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp->body);

    for (size_t i = 0; i < nheaders; i++)
        list = curl_slist_append(list, headers[i]);
    if (m == M_PUT) {
        /* The FE refuses a load without it ("There is no 100-continue header"). */
        list = curl_slist_append(list, "Expect: 100-continue");
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, read_body);
        curl_easy_setopt(c, CURLOPT_READDATA, &up);
        curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_body);
        curl_easy_setopt(c, CURLOPT_SEEKDATA, &up);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    } else if (m == M_POST) {
        list = curl_slist_append(list, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        /* A 307 to a POST must stay a POST with its body. */
        curl_easy_setopt(c, CURLOPT_POSTREDIR, (long)CURL_REDIR_POST_ALL);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);

    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(list);
    if (rc != CURLE_OK) {
        const char *why = h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc);
        return error_retry(err, "%s %s: %s",
                           m == M_PUT    ? "PUT"
                           : m == M_POST ? "POST"
                                         : "GET",
                           url, why);
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    return 0;
}

int doris_http_put(struct doris_http *h, const char *url, const char *const *headers,
                   size_t nheaders, const void *body, size_t len, long timeout_ms,
                   struct doris_response *resp, struct error *err)
{
    return perform(h, M_PUT, url, headers, nheaders, body, len, timeout_ms, resp, err);
}

int doris_http_post_json(struct doris_http *h, const char *url, const char *json, long timeout_ms,
                         struct doris_response *resp, struct error *err)
{
    return perform(h, M_POST, url, NULL, 0, json, strlen(json), timeout_ms, resp, err);
}

int doris_http_get(struct doris_http *h, const char *url, long timeout_ms,
                   struct doris_response *resp, struct error *err)
{
    return perform(h, M_GET, url, NULL, 0, NULL, 0, timeout_ms, resp, err);
}

/* ---- replies ----------------------------------------------------------------------------- */

/* Copies s into out, blanking control characters so the text is safe in one log line. */
static void copy_text(char *out, size_t outlen, const char *s)
{
    size_t n = 0;
    if (outlen == 0)
        return;
    for (; s && s[n] && n + 1 < outlen; n++)
        out[n] = (unsigned char)s[n] < 0x20 || s[n] == 0x7f ? ' ' : s[n];
    out[n] = '\0';
}

static const char *get_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* An integer member, which Doris writes as a number or, in some versions, as a string. */
static int64_t get_int(const json_t *o, const char *key, int64_t def)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        long long n = strtoll(s, &end, 10);
        if (end != s && *end == '\0')
            return n;
    }
    return def;
}

/* Case-insensitive search in a NUL-terminated message; the offset after the match or -1. */
static long find_ci(const char *msg, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; msg[i]; i++) {
        size_t k = 0;
        while (k < n && msg[i + k] &&
               tolower((unsigned char)msg[i + k]) == tolower((unsigned char)needle[k]))
            k++;
        if (k == n)
            return (long)(i + n);
    }
    return -1;
}

/* The number in "[123]" that follows `after` in msg, as in "relate to txn [123]". */
static bool bracket_number_after(const char *msg, const char *after, int64_t *out)
{
    long at = find_ci(msg, after);
    if (at < 0)
        return false;
    struct cursor cur;
    cursor_init(&cur, msg + at, strlen(msg + at));
    uint8_t ch;
    do {
        if (!cursor_u8(&cur, &ch))
            return false;
    } while (ch == ' ');
    if (ch != '[')
        return false;
    uint64_t v = 0;
    size_t digits = 0;
    while (cursor_u8(&cur, &ch) && ch >= '0' && ch <= '9') {
        if (v > (uint64_t)(INT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(ch - '0');
        digits++;
    }
    if (digits == 0 || ch != ']')
        return false;
    *out = (int64_t)v;
    return true;
}

static json_t *load_object(const char *body, size_t len, const char *what, struct error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    if (!root)
        return error_set(err, "%s reply is not JSON: %s", what, jerr.text), NULL;
    if (!json_is_object(root)) {
        json_decref(root);
        return error_set(err, "%s reply is not a JSON object", what), NULL;
    }
    return root;
}

static bool is_unauthorized(int64_t code, const char *msg)
{
    return code == 401 || code == 403 || find_ci(msg, "Unauthorized") >= 0 ||
           find_ci(msg, "no valid Basic authorization") >= 0 || find_ci(msg, "Access denied") >= 0;
}

int doris_load_reply_parse(const char *body, size_t len, struct doris_load_reply *out,
                           struct error *err)
{
    memset(out, 0, sizeof *out);
    out->txn_id = -1;
    json_t *root = load_object(body, len, "stream load", err);
    if (!root)
        return -1;

    const char *status = get_str(root, "Status");
    if (status) {
        copy_text(out->message, sizeof out->message, get_str(root, "Message"));
        copy_text(out->error_url, sizeof out->error_url, get_str(root, "ErrorURL"));
        out->txn_id = get_int(root, "TxnId", -1);
        const char *tpc = get_str(root, "TwoPhaseCommit");
        out->two_phase = tpc && strcmp(tpc, "true") == 0;
        out->total_rows = get_int(root, "NumberTotalRows", 0);
        out->loaded_rows = get_int(root, "NumberLoadedRows", 0);
        out->filtered_rows = get_int(root, "NumberFilteredRows", 0);
        if (strcmp(status, "Success") == 0) {
            out->status = DORIS_LOAD_SUCCESS;
        } else if (strcmp(status, "Publish Timeout") == 0) {
            out->status = DORIS_LOAD_PUBLISH_TIMEOUT;
        } else if (strcmp(status, "Label Already Exists") == 0) {
            out->status = DORIS_LOAD_LABEL_EXISTS;
            const char *job = get_str(root, "ExistingJobStatus");
            out->existing = !job                           ? DORIS_JOB_NONE
                            : strcmp(job, "RUNNING") == 0  ? DORIS_JOB_RUNNING
                            : strcmp(job, "FINISHED") == 0 ? DORIS_JOB_FINISHED
                                                           : DORIS_JOB_OTHER;
            int64_t txn;
            if (bracket_number_after(out->message, "relate to txn", &txn))
                out->txn_id = txn;
        } else {
            out->status = DORIS_LOAD_FAIL;
            out->unauthorized = is_unauthorized(0, out->message);
        }
        json_decref(root);
        return 0;
    }

    /* The FE answered itself: RestBaseResult {"status","msg"} or ResponseEntity {"code","msg"}. */
    const char *msg = get_str(root, "msg");
    if (!msg) {
        json_decref(root);
        return error_set(err, "stream load reply has neither Status nor msg");
    }
    copy_text(out->message, sizeof out->message, msg);
    out->status = DORIS_LOAD_FE_ERROR;
    out->unauthorized = is_unauthorized(get_int(root, "code", 0), out->message);
    json_decref(root);
    return 0;
}

int doris_txn_reply_parse(const char *body, size_t len, enum doris_txn_outcome *out, char *msg,
                          size_t msglen, struct error *err)
{
    json_t *root = load_object(body, len, "two-phase commit", err);
    if (!root)
        return -1;
    const char *status = get_str(root, "status");
    const char *m = get_str(root, "msg");
    if (!m)
        m = get_str(root, "Message");
    copy_text(msg, msglen, m ? m : "");
    int64_t code = get_int(root, "code", 0);
    if (status && strcmp(status, "Success") == 0)
        *out = DORIS_TXN_DONE;
    else if (is_unauthorized(code, msg))
        *out = DORIS_TXN_UNAUTHORIZED;
    else if (find_ci(msg, "is already committed") >= 0 || find_ci(msg, "is already visible") >= 0)
        *out = DORIS_TXN_ALREADY_COMMITTED;
    else if (find_ci(msg, "is already aborted") >= 0)
        *out = DORIS_TXN_ALREADY_ABORTED;
    else if (find_ci(msg, "not found") >= 0)
        *out = DORIS_TXN_NOT_FOUND;
    else
        *out = DORIS_TXN_FAILED;
    json_decref(root);
    return 0;
}

int doris_sql_reply_parse(const char *body, size_t len, struct doris_sql_reply *out,
                          struct error *err)
{
    memset(out, 0, sizeof *out);
    json_t *root = load_object(body, len, "sql", err);
    if (!root)
        return -1;
    const json_t *code = json_object_get(root, "code");
    const char *msg = get_str(root, "msg");
    if (!json_is_integer(code) && !msg) {
        json_decref(root);
        return error_set(err, "sql reply has neither code nor msg");
    }
    out->code = json_is_integer(code) ? (int64_t)json_integer_value(code) : -1;
    /* A refused statement says "Error" in msg and why in data. */
    const char *detail = json_string_value(json_object_get(root, "data"));
    if (out->code != 0 && detail && *detail) {
        char joined[DORIS_MSG_MAX];
        snprintf(joined, sizeof joined, "%s: %s", msg ? msg : "error", detail);
        copy_text(out->msg, sizeof out->msg, joined);
    } else {
        copy_text(out->msg, sizeof out->msg, msg ? msg : "");
    }
    if (out->code == 0) {
        json_t *rows = json_object_get(json_object_get(root, "data"), "data");
        if (json_is_array(rows))
            out->rows = json_incref(rows);
    } else if (is_unauthorized(out->code, out->msg)) {
        out->code = 401;
    }
    json_decref(root);
    return 0;
}

void doris_sql_reply_clear(struct doris_sql_reply *r)
{
    json_decref(r->rows);
    r->rows = NULL;
}

/* ---- labels ------------------------------------------------------------------------------ */

uint64_t doris_hash(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static bool label_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == ':';
}

void doris_label(char *out, const char *prefix, const char *table, uint64_t first, uint64_t last,
                 uint64_t digest)
{
    char tail[80];
    int tl =
        snprintf(tail, sizeof tail, "_%" PRIu64 "_%" PRIu64 "_%016" PRIx64, first, last, digest);
    size_t room = DORIS_LABEL_MAX - (size_t)tl;
    size_t plen = strlen(prefix), tlen = strlen(table);
    size_t n = 0;

    if (plen + 1 + tlen <= room) {
        for (size_t i = 0; i < plen; i++)
            out[n++] = label_char(prefix[i]) ? prefix[i] : '_';
        out[n++] = '_';
        for (size_t i = 0; i < tlen; i++)
            out[n++] = label_char(table[i]) ? table[i] : '_';
    } else {
        /* Keep a readable start and make the rest unique with a hash of both names. */
        uint64_t h = doris_hash(DORIS_HASH_INIT, prefix, plen + 1);
        h = doris_hash(h, table, tlen);
        char hash[20];
        int hl = snprintf(hash, sizeof hash, "_%016" PRIx64, h);
        size_t keep = room - (size_t)hl;
        for (size_t i = 0; i < keep && i < plen; i++)
            out[n++] = label_char(prefix[i]) ? prefix[i] : '_';
        for (size_t i = 0; n < keep && i <= tlen; i++) {
            char c = i == 0 ? '_' : table[i - 1];
            out[n++] = label_char(c) ? c : '_';
        }
        memcpy(out + n, hash, (size_t)hl);
        n += (size_t)hl;
    }
    memcpy(out + n, tail, (size_t)tl);
    n += (size_t)tl;
    out[n] = '\0';
}
