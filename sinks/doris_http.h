/*
 * doris_http: the HTTP side of Doris as the Doris sink speaks it. A libcurl client that PUTs a
 * Stream Load to an FE and follows its 307 to a BE with the credentials and the body again,
 * POSTs statements to the FE's SQL endpoint and GETs a load's error log; the parsers of the
 * JSON replies of Stream Load, two-phase commit and the SQL endpoint (untrusted bytes: bounded,
 * fuzzed); and load labels.
 *
 * Doris answers most failures with HTTP 200 and a JSON body, in three shapes: a BE's Stream
 * Load reply ({"Status":...,"Message":...}), an FE's RestBaseResult ({"status":"FAILED",
 * "msg":...}) and an FE's ResponseEntity ({"code":401,"msg":"Unauthorized"}); the parsers
 * accept all three.
 */
#ifndef DBTAIL_DORIS_HTTP_H
#define DBTAIL_DORIS_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../src/buf.h"
#include "../src/error.h"

#define DORIS_MSG_MAX   384
#define DORIS_URL_MAX   512
#define DORIS_LABEL_MAX 128
/* Replies past this size are cut: Doris's are small, an error log is read only for its start. */
#define DORIS_BODY_MAX (256 * 1024)

struct doris_http;

/** A client for one user; both strings are copied. Free with doris_http_free. */
struct doris_http *doris_http_new(const char *user, const char *password);
void doris_http_free(struct doris_http *h);

struct doris_response {
    long status;     /* HTTP status of the last reply (after redirects) */
    struct buf body; /* owned; at most DORIS_BODY_MAX bytes */
};

void doris_response_init(struct doris_response *r);
void doris_response_free(struct doris_response *r);

/** PUTs len bytes of body (borrowed; re-sent after a redirect) to url with `Expect:
 * 100-continue` and the extra headers ("Name: value", `nheaders` of them, borrowed), following
 * redirects with the credentials. Returns 0 when a reply came, whatever its status, or -1 with
 * a retriable *err when none did (refused, timed out, dropped). */
DBT_MUSTCHECK int doris_http_put(struct doris_http *h, const char *url, const char *const *headers,
                                 size_t nheaders, const void *body, size_t len, long timeout_ms,
                                 struct doris_response *resp, struct error *err);
/** POSTs a JSON document (borrowed) to url; same contract as doris_http_put. */
DBT_MUSTCHECK int doris_http_post_json(struct doris_http *h, const char *url, const char *json,
                                       long timeout_ms, struct doris_response *resp,
                                       struct error *err);
/** GETs url; same contract as doris_http_put. */
DBT_MUSTCHECK int doris_http_get(struct doris_http *h, const char *url, long timeout_ms,
                                 struct doris_response *resp, struct error *err);

/* ---- replies ----------------------------------------------------------------------------- */

enum doris_load_status {
    DORIS_LOAD_SUCCESS,
    DORIS_LOAD_PUBLISH_TIMEOUT, /* committed; becomes visible later */
    DORIS_LOAD_LABEL_EXISTS,    /* see existing */
    DORIS_LOAD_FAIL,
    DORIS_LOAD_FE_ERROR /* the FE refused the request before any BE saw it */
};

enum doris_job_status { DORIS_JOB_NONE, DORIS_JOB_RUNNING, DORIS_JOB_FINISHED, DORIS_JOB_OTHER };

struct doris_load_reply {
    enum doris_load_status status;
    enum doris_job_status existing; /* for DORIS_LOAD_LABEL_EXISTS */
    int64_t txn_id;                 /* TxnId, or the one a used label relates to; -1 unknown */
    bool two_phase;                 /* TwoPhaseCommit was "true" */
    bool unauthorized;              /* the credentials were refused */
    int64_t total_rows, loaded_rows, filtered_rows;
    char message[DORIS_MSG_MAX];   /* Message or msg, control characters blanked */
    char error_url[DORIS_URL_MAX]; /* ErrorURL or "" */
};

/** Parses a Stream Load reply. -1 with *err when the body is not one of Doris's shapes. */
DBT_MUSTCHECK int doris_load_reply_parse(const char *body, size_t len, struct doris_load_reply *out,
                                         struct error *err);

enum doris_txn_outcome {
    DORIS_TXN_DONE,              /* committed or aborted as asked */
    DORIS_TXN_ALREADY_COMMITTED, /* "is already committed/visible" */
    DORIS_TXN_ALREADY_ABORTED,   /* "is already aborted" */
    DORIS_TXN_NOT_FOUND,         /* "transaction [N] not found" */
    DORIS_TXN_UNAUTHORIZED,
    DORIS_TXN_FAILED
};

/** Parses a reply of _stream_load_2pc; msg gets its message (control characters blanked). */
DBT_MUSTCHECK int doris_txn_reply_parse(const char *body, size_t len, enum doris_txn_outcome *out,
                                        char *msg, size_t msglen, struct error *err);

struct doris_sql_reply {
    int64_t code; /* 0 on success; 401 when the credentials were refused */
    char msg[DORIS_MSG_MAX];
    json_t *rows; /* owned: data.data, the result rows (arrays), or NULL */
};

/** Parses a reply of POST /api/query/<ns>/<db>. Free with doris_sql_reply_clear. */
DBT_MUSTCHECK int doris_sql_reply_parse(const char *body, size_t len, struct doris_sql_reply *out,
                                        struct error *err);
void doris_sql_reply_clear(struct doris_sql_reply *r);

/* ---- labels ------------------------------------------------------------------------------ */

/** Writes into out (DORIS_LABEL_MAX + 1 bytes) the label of a load: prefix, table, the first
 * and last source order it covers and a digest of its content, matching
 * ^[-_A-Za-z0-9:]{1,128}$ (other characters become '_'; an over-long prefix and table are
 * replaced by a hash of them). */
void doris_label(char *out, const char *prefix, const char *table, uint64_t first, uint64_t last,
                 uint64_t digest);

/** 64-bit FNV-1a of len bytes, continuing from h (start with DORIS_HASH_INIT). */
#define DORIS_HASH_INIT 14695981039346656037ULL
uint64_t doris_hash(uint64_t h, const void *data, size_t len);

#endif
