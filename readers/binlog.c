/* binlog: binlog v4 event layouts (see binlog.h). */
#include "binlog.h"

#include <inttypes.h>
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "../src/mem.h"

const char *binlog_type_name(uint8_t type)
{
    static const char *const names[] = {
        [BINLOG_START_V3] = "START_V3",
        [BINLOG_QUERY] = "QUERY",
        [BINLOG_STOP] = "STOP",
        [BINLOG_ROTATE] = "ROTATE",
        [BINLOG_INTVAR] = "INTVAR",
        [BINLOG_RAND] = "RAND",
        [BINLOG_USER_VAR] = "USER_VAR",
        [BINLOG_FORMAT_DESCRIPTION] = "FORMAT_DESCRIPTION",
        [BINLOG_XID] = "XID",
        [BINLOG_TABLE_MAP] = "TABLE_MAP",
        [BINLOG_WRITE_ROWS_V1] = "WRITE_ROWS_V1",
        [BINLOG_UPDATE_ROWS_V1] = "UPDATE_ROWS_V1",
        [BINLOG_DELETE_ROWS_V1] = "DELETE_ROWS_V1",
        [BINLOG_INCIDENT] = "INCIDENT",
        [BINLOG_HEARTBEAT] = "HEARTBEAT",
        [BINLOG_IGNORABLE] = "IGNORABLE",
        [BINLOG_ROWS_QUERY] = "ROWS_QUERY",
        [BINLOG_WRITE_ROWS] = "WRITE_ROWS",
        [BINLOG_UPDATE_ROWS] = "UPDATE_ROWS",
        [BINLOG_DELETE_ROWS] = "DELETE_ROWS",
        [BINLOG_GTID] = "GTID",
        [BINLOG_ANONYMOUS_GTID] = "ANONYMOUS_GTID",
        [BINLOG_PREVIOUS_GTIDS] = "PREVIOUS_GTIDS",
        [BINLOG_TRANSACTION_CONTEXT] = "TRANSACTION_CONTEXT",
        [BINLOG_VIEW_CHANGE] = "VIEW_CHANGE",
        [BINLOG_XA_PREPARE] = "XA_PREPARE",
        [BINLOG_PARTIAL_UPDATE_ROWS] = "PARTIAL_UPDATE_ROWS",
        [BINLOG_TRANSACTION_PAYLOAD] = "TRANSACTION_PAYLOAD",
        [BINLOG_HEARTBEAT_V2] = "HEARTBEAT_V2",
        [BINLOG_GTID_TAGGED] = "GTID_TAGGED",
        [BINLOG_MARIADB_ANNOTATE_ROWS] = "ANNOTATE_ROWS",
        [BINLOG_MARIADB_BINLOG_CHECKPOINT] = "BINLOG_CHECKPOINT",
        [BINLOG_MARIADB_GTID] = "MARIADB_GTID",
        [BINLOG_MARIADB_GTID_LIST] = "GTID_LIST",
        [BINLOG_MARIADB_START_ENCRYPTION] = "START_ENCRYPTION",
        [BINLOG_MARIADB_QUERY_COMPRESSED] = "QUERY_COMPRESSED",
        [BINLOG_MARIADB_WRITE_ROWS_COMPRESSED_V1] = "WRITE_ROWS_COMPRESSED_V1",
        [BINLOG_MARIADB_UPDATE_ROWS_COMPRESSED_V1] = "UPDATE_ROWS_COMPRESSED_V1",
        [BINLOG_MARIADB_DELETE_ROWS_COMPRESSED_V1] = "DELETE_ROWS_COMPRESSED_V1",
        [BINLOG_MARIADB_WRITE_ROWS_COMPRESSED] = "WRITE_ROWS_COMPRESSED",
        [BINLOG_MARIADB_UPDATE_ROWS_COMPRESSED] = "UPDATE_ROWS_COMPRESSED",
        [BINLOG_MARIADB_DELETE_ROWS_COMPRESSED] = "DELETE_ROWS_COMPRESSED",
    };
    /* per thread: the workers of `dbtail decode` name unknown types in their errors at once */
    static _Thread_local char unknown[16];
    if (type < sizeof names / sizeof names[0] && names[type])
        return names[type];
    snprintf(unknown, sizeof unknown, "type %u", type);
    return unknown;
}

static int short_event(struct error *err, const char *what, size_t off)
{
    return error_set(err, "%s event is truncated at offset %zu of its body", what, off);
}

/* Header, FDE, checksum -------------------------------------------------------------------- */

void binlog_fde_default(struct binlog_fde *fde, enum binlog_checksum checksum)
{
    memset(fde, 0, sizeof *fde);
    fde->binlog_version = 4;
    fde->header_len = BINLOG_HEADER_LEN;
    fde->checksum = checksum;
    /* v4 post-header lengths of the events that can precede an FDE or that matter before it. */
    fde->post_header_len[BINLOG_ROTATE - 1] = 8;
    fde->post_header_len[BINLOG_QUERY - 1] = 13;
    fde->post_header_len[BINLOG_TABLE_MAP - 1] = 8;
    fde->n_post_header = 0;
}

int binlog_parse_header(const uint8_t *ev, size_t len, struct binlog_header *h, struct error *err)
{
    struct cursor c;
    cursor_init(&c, ev, len);
    if (!cursor_u32le(&c, &h->timestamp) || !cursor_u8(&c, &h->type) ||
        !cursor_u32le(&c, &h->server_id) || !cursor_u32le(&c, &h->event_size) ||
        !cursor_u32le(&c, &h->next_pos) || !cursor_u16le(&c, &h->flags))
        return error_set(err, "event header is truncated: %zu bytes of %d", len, BINLOG_HEADER_LEN);
    if (h->event_size < BINLOG_HEADER_LEN)
        return error_set(err, "event size %u is smaller than its header", h->event_size);
    if (h->event_size > len)
        return error_set(err, "%s event of %u bytes is truncated to %zu", binlog_type_name(h->type),
                         h->event_size, len);
    return 0;
}

/* LOG_EVENT_BINLOG_IN_USE_F: set in the FDE of a binlog the server has open. */
#define FLAG_BINLOG_IN_USE 0x0001

static bool crc_ok(const uint8_t *ev, size_t len)
{
    /* libdeflate's CRC-32 (PCLMULQDQ) is 3x zlib's, and every byte of a binlog goes through it. */
    uint32_t crc = 0;
    size_t n = len - BINLOG_CHECKSUM_LEN, off = 0;
    if (ev[4] == BINLOG_FORMAT_DESCRIPTION && (ev[17] & FLAG_BINLOG_IN_USE)) {
        /* The server sets the in-use flag after computing the checksum. */
        uint8_t head[BINLOG_HEADER_LEN];
        memcpy(head, ev, sizeof head);
        head[17] &= (uint8_t)~FLAG_BINLOG_IN_USE;
        crc = libdeflate_crc32(crc, head, sizeof head);
        off = sizeof head;
    }
    crc = libdeflate_crc32(crc, ev + off, n - off);
    const uint8_t *s = ev + n;
    uint32_t want =
        (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
    return crc == want;
}

/* The server versions from which an FDE ends with a checksum algorithm byte and a checksum:
 * MySQL 5.6.1 and MariaDB 5.3. */
static bool version_has_checksum(const char *v, bool mariadb)
{
    int major = 0, minor = 0, patch = 0;
    if (sscanf(v, "%d.%d.%d", &major, &minor, &patch) < 2)
        return false;
    if (mariadb)
        return major > 5 || (major == 5 && minor >= 3);
    return major > 5 || (major == 5 && (minor > 6 || (minor == 6 && patch >= 1)));
}

int binlog_parse_fde(const uint8_t *ev, size_t len, struct binlog_fde *fde, struct error *err)
{
    struct binlog_header h;
    if (binlog_parse_header(ev, len, &h, err) < 0)
        return -1;
    if (h.type != BINLOG_FORMAT_DESCRIPTION)
        return error_set(err, "expected a FORMAT_DESCRIPTION event, got %s",
                         binlog_type_name(h.type));
    struct cursor c;
    cursor_init(&c, ev + BINLOG_HEADER_LEN, h.event_size - BINLOG_HEADER_LEN);
    const uint8_t *ver;
    memset(fde, 0, sizeof *fde);
    if (!cursor_u16le(&c, &fde->binlog_version) || !cursor_bytes(&c, 50, &ver) ||
        !cursor_u32le(&c, &fde->created) || !cursor_u8(&c, &fde->header_len))
        return short_event(err, "FORMAT_DESCRIPTION", c.off);
    if (fde->binlog_version != 4)
        return error_set(err, "binlog version %u is not supported (only v4)", fde->binlog_version);
    if (fde->header_len < BINLOG_HEADER_LEN)
        return error_set(err, "FORMAT_DESCRIPTION gives a header length of %u", fde->header_len);
    memcpy(fde->server_version, ver, 50);
    fde->server_version[50] = '\0';
    fde->mariadb = strstr(fde->server_version, "MariaDB") != NULL;
    size_t rest = cursor_left(&c);
    if (version_has_checksum(fde->server_version, fde->mariadb)) {
        if (rest < 1 + BINLOG_CHECKSUM_LEN)
            return short_event(err, "FORMAT_DESCRIPTION", c.off);
        uint8_t alg = ev[h.event_size - BINLOG_CHECKSUM_LEN - 1];
        if (alg != BINLOG_CHECKSUM_OFF && alg != BINLOG_CHECKSUM_CRC32)
            return error_set(err, "FORMAT_DESCRIPTION names unknown checksum algorithm %u", alg);
        fde->checksum = (enum binlog_checksum)alg;
        rest -= 1 + BINLOG_CHECKSUM_LEN;
        if (fde->checksum == BINLOG_CHECKSUM_CRC32 && !crc_ok(ev, h.event_size))
            return error_set(err, "FORMAT_DESCRIPTION event fails its CRC32 checksum");
    }
    fde->n_post_header = rest > sizeof fde->post_header_len ? sizeof fde->post_header_len : rest;
    memcpy(fde->post_header_len, ev + BINLOG_HEADER_LEN + c.off, fde->n_post_header);
    return 0;
}

static int event_body(const struct binlog_fde *fde, const uint8_t *ev, size_t len, bool verify,
                      struct cursor *body, struct error *err)
{
    struct binlog_header h;
    if (binlog_parse_header(ev, len, &h, err) < 0)
        return -1;
    enum binlog_checksum checksum = fde->checksum;
    if (h.type == BINLOG_FORMAT_DESCRIPTION) {
        struct binlog_fde own;
        if (binlog_parse_fde(ev, len, &own, err) < 0)
            return -1;
        checksum = own.checksum;
    }
    size_t end = h.event_size;
    if (checksum == BINLOG_CHECKSUM_CRC32) {
        if (end < (size_t)fde->header_len + BINLOG_CHECKSUM_LEN)
            return error_set(err, "%s event of %zu bytes is too short for its checksum",
                             binlog_type_name(h.type), end);
        if (verify && h.type != BINLOG_FORMAT_DESCRIPTION && !crc_ok(ev, end))
            return error_set(err, "%s event fails its CRC32 checksum", binlog_type_name(h.type));
        end -= BINLOG_CHECKSUM_LEN;
    }
    if (end < fde->header_len)
        return error_set(err, "%s event of %zu bytes is shorter than the header length %u",
                         binlog_type_name(h.type), end, fde->header_len);
    cursor_init(body, ev + fde->header_len, end - fde->header_len);
    return 0;
}

int binlog_event_body(const struct binlog_fde *fde, const uint8_t *ev, size_t len,
                      struct cursor *body, struct error *err)
{
    return event_body(fde, ev, len, true, body, err);
}

int binlog_event_body_unverified(const struct binlog_fde *fde, const uint8_t *ev, size_t len,
                                 struct cursor *body, struct error *err)
{
    return event_body(fde, ev, len, false, body, err);
}

static uint8_t post_header(const struct binlog_fde *fde, uint8_t type, uint8_t def)
{
    if (type >= 1 && (size_t)(type - 1) < fde->n_post_header)
        return fde->post_header_len[type - 1];
    return def;
}

/* Simple events ---------------------------------------------------------------------------- */

int binlog_parse_rotate(const struct binlog_fde *fde, struct cursor *body,
                        struct binlog_rotate *out, struct error *err)
{
    uint8_t ph = post_header(fde, BINLOG_ROTATE, 8);
    if (ph != 8)
        return error_set(err, "ROTATE post-header of %u bytes is not supported", ph);
    if (!cursor_u64le(body, &out->pos))
        return short_event(err, "ROTATE", body->off);
    out->file_len = cursor_left(body);
    const uint8_t *p;
    if (!cursor_bytes(body, out->file_len, &p))
        return short_event(err, "ROTATE", body->off);
    out->file = (const char *)p;
    /* Some servers pad the name; a file name never holds a NUL. */
    const char *nul = memchr(out->file, '\0', out->file_len);
    if (nul)
        out->file_len = (size_t)(nul - out->file);
    if (out->file_len == 0)
        return error_set(err, "ROTATE event names no file");
    return 0;
}

/* MariaDB's compressed payload: a header byte 0x80 | algorithm << 4 | n, the inflated length
 * in n big-endian bytes, then a zlib stream. */
static int mariadb_inflate(const uint8_t *p, size_t len, struct buf *out, struct error *err)
{
    if (len < 1 || (p[0] & 0x80) == 0)
        return error_set(err, "compressed event lacks its compression header");
    unsigned alg = (p[0] >> 4) & 0x07, lenlen = p[0] & 0x07;
    if (alg != 0)
        return error_set(err, "compressed event uses unknown algorithm %u", alg);
    if (lenlen < 1 || lenlen > 4 || len < 1 + (size_t)lenlen)
        return error_set(err, "compressed event has a bad length header");
    uint32_t want = 0;
    for (unsigned i = 0; i < lenlen; i++)
        want = want << 8 | p[1 + i];
    buf_reset(out);
    buf_reserve(out, want);
    uLongf got = want;
    int rc = uncompress((Bytef *)out->data, &got, p + 1 + lenlen, (uLong)(len - 1 - lenlen));
    if (rc != Z_OK || got != want)
        return error_set(err, "compressed event does not inflate to its %u bytes (zlib %d)", want,
                         rc);
    out->len = want;
    out->data[want] = '\0';
    return 0;
}

int binlog_parse_query(const struct binlog_fde *fde, uint8_t type, struct cursor *body,
                       struct buf *scratch, struct binlog_query *out, struct error *err)
{
    uint8_t ph = post_header(fde, type, 13);
    uint8_t db_len;
    uint16_t status_len;
    const uint8_t *db, *p;
    if (ph < 13)
        return error_set(err, "QUERY post-header of %u bytes is too short", ph);
    if (!cursor_u32le(body, &out->thread_id) || !cursor_u32le(body, &out->exec_time) ||
        !cursor_u8(body, &db_len) || !cursor_u16le(body, &out->error_code) ||
        !cursor_u16le(body, &status_len) || !cursor_skip(body, ph - 13u) ||
        !cursor_skip(body, status_len) || !cursor_bytes(body, db_len, &db) || !cursor_skip(body, 1))
        return short_event(err, "QUERY", body->off);
    out->db = (const char *)db;
    out->db_len = db_len;
    size_t n = cursor_left(body);
    if (!cursor_bytes(body, n, &p))
        return short_event(err, "QUERY", body->off);
    if (type == BINLOG_MARIADB_QUERY_COMPRESSED) {
        if (mariadb_inflate(p, n, scratch, err) < 0)
            return error_wrap(err, "QUERY_COMPRESSED: ");
        out->sql = scratch->data;
        out->sql_len = scratch->len;
        return 0;
    }
    out->sql = (const char *)p;
    out->sql_len = n;
    return 0;
}

int binlog_parse_xid(struct cursor *body, uint64_t *xid, struct error *err)
{
    if (!cursor_u64le(body, xid))
        return short_event(err, "XID", body->off);
    return 0;
}

int binlog_parse_gtid(uint8_t type, struct cursor *body, struct binlog_gtid *out, struct error *err)
{
    const uint8_t *sid;
    memset(out, 0, sizeof *out);
    if (type == BINLOG_GTID_TAGGED)
        return error_set(err, "tagged GTID events (MySQL 8.4) are not supported");
    if (!cursor_u8(body, &out->flags) || !cursor_bytes(body, 16, &sid) ||
        !cursor_u64le(body, &out->gno))
        return short_event(err, binlog_type_name(type), body->off);
    memcpy(out->sid, sid, 16);
    return 0;
}

int binlog_parse_mariadb_gtid(struct cursor *body, struct binlog_mariadb_gtid *out,
                              struct error *err)
{
    if (!cursor_u64le(body, &out->seq_no) || !cursor_u32le(body, &out->domain_id) ||
        !cursor_u8(body, &out->flags))
        return short_event(err, "MARIADB_GTID", body->off);
    return 0;
}

int binlog_parse_mariadb_gtid_list(struct cursor *body, struct binlog_mariadb_gtid_entry **out,
                                   size_t *n, struct error *err)
{
    uint32_t count;
    *out = NULL;
    *n = 0;
    if (!cursor_u32le(body, &count))
        return short_event(err, "GTID_LIST", body->off);
    count &= 0x0FFFFFFF; /* the top 4 bits are flags */
    if ((uint64_t)count * 16 > cursor_left(body))
        return short_event(err, "GTID_LIST", body->off);
    struct binlog_mariadb_gtid_entry *e = mem_calloc(count ? count : 1, sizeof *e);
    for (uint32_t i = 0; i < count; i++) {
        if (!cursor_u32le(body, &e[i].domain_id) || !cursor_u32le(body, &e[i].server_id) ||
            !cursor_u64le(body, &e[i].seq_no)) {
            free(e);
            return short_event(err, "GTID_LIST", body->off);
        }
    }
    *out = e;
    *n = count;
    return 0;
}

int binlog_parse_previous_gtids(struct cursor *body, struct binlog_gtid_interval **out, size_t *n,
                                struct error *err)
{
    uint64_t nsids;
    *out = NULL;
    *n = 0;
    if (!cursor_u64le(body, &nsids))
        return short_event(err, "PREVIOUS_GTIDS", body->off);
    if (nsids >> 56)
        return error_set(err, "tagged GTID sets (MySQL 8.4) are not supported");
    size_t cap = 0, count = 0;
    struct binlog_gtid_interval *iv = NULL;
    for (uint64_t s = 0; s < nsids; s++) {
        const uint8_t *sid;
        uint64_t nint;
        if (!cursor_bytes(body, 16, &sid) || !cursor_u64le(body, &nint) ||
            nint > cursor_left(body) / 16)
            goto bad;
        for (uint64_t k = 0; k < nint; k++) {
            if (count == cap) {
                cap = cap ? cap * 2 : 8;
                iv = mem_realloc(iv, cap * sizeof *iv);
            }
            memcpy(iv[count].sid, sid, 16);
            if (!cursor_u64le(body, &iv[count].start) || !cursor_u64le(body, &iv[count].end) ||
                iv[count].start >= iv[count].end)
                goto bad;
            count++;
        }
    }
    *out = iv;
    *n = count;
    return 0;
bad:
    free(iv);
    return error_set(err, "PREVIOUS_GTIDS event is malformed at offset %zu of its body", body->off);
}

int binlog_parse_rows_query(uint8_t type, struct cursor *body, const char **sql, size_t *len,
                            struct error *err)
{
    /* ROWS_QUERY starts with a one-byte length that MySQL ignores (it truncates at 255). */
    if (type == BINLOG_ROWS_QUERY && !cursor_skip(body, 1))
        return short_event(err, "ROWS_QUERY", body->off);
    const uint8_t *p;
    *len = cursor_left(body);
    if (!cursor_bytes(body, *len, &p))
        return short_event(err, binlog_type_name(type), body->off);
    *sql = (const char *)p;
    return 0;
}

int binlog_parse_heartbeat(uint8_t type, struct cursor *body, struct binlog_heartbeat *out,
                           struct error *err)
{
    const uint8_t *p;
    memset(out, 0, sizeof *out);
    if (type == BINLOG_HEARTBEAT) {
        out->file_len = cursor_left(body);
        if (!cursor_bytes(body, out->file_len, &p))
            return short_event(err, "HEARTBEAT", body->off);
        out->file = (const char *)p;
        return 0;
    }
    /* HEARTBEAT_V2: fields of (type, length, value), each a length-encoded integer, up to an
     * end mark of type 0. */
    while (cursor_left(body) > 0) {
        uint64_t ftype, flen;
        if (!cursor_lenenc(body, &ftype))
            return short_event(err, "HEARTBEAT_V2", body->off);
        if (ftype == 0)
            break;
        if (!cursor_lenenc(body, &flen) || !cursor_bytes(body, (size_t)flen, &p))
            return short_event(err, "HEARTBEAT_V2", body->off);
        if (ftype == 1) {
            out->file = (const char *)p;
            out->file_len = (size_t)flen;
        } else if (ftype == 2) {
            struct cursor v;
            cursor_init(&v, p, (size_t)flen);
            if (!cursor_lenenc(&v, &out->pos))
                return short_event(err, "HEARTBEAT_V2", body->off);
        }
    }
    return 0;
}

int binlog_parse_incident(struct cursor *body, uint16_t *number, const char **msg, size_t *len,
                          struct error *err)
{
    uint8_t n;
    const uint8_t *p;
    if (!cursor_u16le(body, number) || !cursor_u8(body, &n) || !cursor_bytes(body, n, &p))
        return short_event(err, "INCIDENT", body->off);
    *msg = (const char *)p;
    *len = n;
    return 0;
}

/* A transaction payload never inflates beyond this: it bounds what a corrupt size can cost. */
#define PAYLOAD_MAX ((uint64_t)1 << 30)

int binlog_parse_transaction_payload(struct cursor *body, struct buf *out, struct error *err)
{
    uint64_t size = 0, compression = 255, uncompressed = 0;
    bool have_size = false;
    for (;;) {
        uint64_t ftype, flen;
        if (!cursor_lenenc(body, &ftype))
            return short_event(err, "TRANSACTION_PAYLOAD", body->off);
        if (ftype == 0)
            break;
        const uint8_t *p;
        if (!cursor_lenenc(body, &flen) || !cursor_bytes(body, (size_t)flen, &p))
            return short_event(err, "TRANSACTION_PAYLOAD", body->off);
        struct cursor v;
        cursor_init(&v, p, (size_t)flen);
        uint64_t val;
        if (ftype >= 1 && ftype <= 3 && !cursor_lenenc(&v, &val))
            return error_set(err, "TRANSACTION_PAYLOAD field %" PRIu64 " is malformed", ftype);
        if (ftype == 1) {
            size = val;
            have_size = true;
        } else if (ftype == 2) {
            compression = val;
        } else if (ftype == 3) {
            uncompressed = val;
        }
    }
    const uint8_t *payload;
    if (!have_size || size != cursor_left(body) || !cursor_bytes(body, (size_t)size, &payload))
        return error_set(err, "TRANSACTION_PAYLOAD size %" PRIu64 " does not match its %zu bytes",
                         size, cursor_left(body));
    buf_reset(out);
    if (compression == 255) {
        buf_append(out, payload, (size_t)size);
        return 0;
    }
    if (compression != 0)
        return error_set(err, "TRANSACTION_PAYLOAD uses unknown compression %" PRIu64, compression);
    if (uncompressed > PAYLOAD_MAX)
        return error_set(err, "TRANSACTION_PAYLOAD claims %" PRIu64 " uncompressed bytes",
                         uncompressed);
    ZSTD_DStream *ds = ZSTD_createDStream();
    if (ds == NULL)
        return error_set(err, "cannot create a zstd decompressor");
    ZSTD_inBuffer in = {payload, (size_t)size, 0};
    size_t rc = 0;
    for (;;) {
        buf_reserve(out, out->len < 65536 ? 65536 : out->len);
        ZSTD_outBuffer o = {out->data + out->len, out->cap - out->len - 1, 0};
        rc = ZSTD_decompressStream(ds, &o, &in);
        out->len += o.pos;
        if (ZSTD_isError(rc)) {
            ZSTD_freeDStream(ds);
            return error_set(err, "TRANSACTION_PAYLOAD does not decompress: %s",
                             ZSTD_getErrorName(rc));
        }
        if (out->len > uncompressed) {
            ZSTD_freeDStream(ds);
            return error_set(err, "TRANSACTION_PAYLOAD inflates beyond its %" PRIu64 " bytes",
                             uncompressed);
        }
        if (rc == 0 || (in.pos == in.size && o.pos < o.size))
            break;
    }
    ZSTD_freeDStream(ds);
    out->data[out->len] = '\0';
    if (rc != 0 || out->len != uncompressed)
        return error_set(err, "TRANSACTION_PAYLOAD inflates to %zu bytes, not %" PRIu64, out->len,
                         uncompressed);
    return 0;
}

/* TABLE_MAP -------------------------------------------------------------------------------- */

static void free_labels(struct binlog_column *c)
{
    for (size_t k = 0; k < c->n_labels; k++)
        free(c->labels[k]);
    free(c->labels);
    c->labels = NULL;
    c->n_labels = 0;
}

void binlog_table_free(struct binlog_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->ncols; i++) {
        free(t->cols[i].name);
        free_labels(&t->cols[i]);
    }
    free(t->cols);
    free(t->plan);
    free(t->db);
    free(t->name);
    free(t);
}

enum {
    OPT_SIGNEDNESS = 1,
    OPT_DEFAULT_CHARSET = 2,
    OPT_COLUMN_CHARSET = 3,
    OPT_COLUMN_NAME = 4,
    OPT_SET_STR_VALUE = 5,
    OPT_ENUM_STR_VALUE = 6,
    OPT_GEOMETRY_TYPE = 7,
    OPT_SIMPLE_PRIMARY_KEY = 8,
    OPT_PRIMARY_KEY_WITH_PREFIX = 9,
    OPT_ENUM_AND_SET_DEFAULT_CHARSET = 10,
    OPT_ENUM_AND_SET_COLUMN_CHARSET = 11,
    OPT_COLUMN_VISIBILITY = 12,
};

static bool is_numeric(const struct binlog_column *c)
{
    switch (c->type) {
    case BT_TINY:
    case BT_SHORT:
    case BT_INT24:
    case BT_LONG:
    case BT_LONGLONG:
    case BT_NEWDECIMAL:
    case BT_FLOAT:
    case BT_DOUBLE:
        return true;
    default:
        return false;
    }
}

static bool is_enum_or_set(const struct binlog_column *c)
{
    return c->real_type == BT_ENUM || c->real_type == BT_SET;
}

/* The columns the (DEFAULT|COLUMN)_CHARSET fields count: string columns that are not ENUM/SET
 * (those have their own fields); GEOMETRY is a BLOB underneath. */
static bool is_character(const struct binlog_column *c)
{
    switch (c->type) {
    case BT_STRING:
        return !is_enum_or_set(c);
    case BT_VAR_STRING:
    case BT_VARCHAR:
    case BT_BLOB:
    case BT_TINY_BLOB:
    case BT_MEDIUM_BLOB:
    case BT_LONG_BLOB:
    case BT_GEOMETRY:
    case BT_VECTOR:
        return true;
    default:
        return false;
    }
}

/* Applies collation ids to the columns chosen by pick: the default form (a default, then
 * (index, collation) pairs where index counts chosen columns) or one per chosen column. */
static int apply_charsets(struct binlog_table *t, struct cursor *v, bool per_column,
                          bool (*pick)(const struct binlog_column *), struct error *err)
{
    size_t nchosen = 0;
    for (size_t i = 0; i < t->ncols; i++)
        nchosen += pick(&t->cols[i]);
    uint64_t coll;
    if (per_column) {
        for (size_t i = 0, k = 0; i < t->ncols; i++) {
            if (!pick(&t->cols[i]))
                continue;
            if (!cursor_lenenc(v, &coll))
                return error_set(err, "TABLE_MAP column charsets end after %zu of %zu", k, nchosen);
            t->cols[i].collation = (uint16_t)coll;
            k++;
        }
        return 0;
    }
    if (!cursor_lenenc(v, &coll))
        return error_set(err, "TABLE_MAP default charset is truncated");
    for (size_t i = 0; i < t->ncols; i++)
        if (pick(&t->cols[i]))
            t->cols[i].collation = (uint16_t)coll;
    while (cursor_left(v) > 0) {
        uint64_t idx;
        if (!cursor_lenenc(v, &idx) || !cursor_lenenc(v, &coll))
            return error_set(err, "TABLE_MAP charset pair is truncated");
        size_t k = 0;
        bool found = false;
        for (size_t i = 0; i < t->ncols; i++) {
            if (!pick(&t->cols[i]))
                continue;
            if (k++ == idx) {
                t->cols[i].collation = (uint16_t)coll;
                found = true;
                break;
            }
        }
        if (!found)
            return error_set(err, "TABLE_MAP charset names column %" PRIu64 " of %zu", idx,
                             nchosen);
    }
    return 0;
}

static int read_lenenc_str(struct cursor *v, const uint8_t **p, size_t *len)
{
    uint64_t n;
    if (!cursor_lenenc(v, &n) || !cursor_bytes(v, (size_t)n, p))
        return -1;
    *len = (size_t)n;
    return 0;
}

static int apply_labels(struct binlog_table *t, struct cursor *v, uint8_t real_type,
                        struct error *err)
{
    for (size_t i = 0; i < t->ncols; i++) {
        struct binlog_column *c = &t->cols[i];
        if (c->real_type != real_type)
            continue;
        uint64_t n;
        if (!cursor_lenenc(v, &n) || n > cursor_left(v))
            return error_set(err, "TABLE_MAP %s labels are truncated",
                             real_type == BT_ENUM ? "ENUM" : "SET");
        /* A TABLE_MAP may repeat the field: the last one wins, as for column names. */
        free_labels(c);
        c->labels = mem_calloc(n ? (size_t)n : 1, sizeof *c->labels);
        c->n_labels = (size_t)n;
        for (uint64_t k = 0; k < n; k++) {
            const uint8_t *p;
            size_t len;
            if (read_lenenc_str(v, &p, &len) < 0)
                return error_set(err, "TABLE_MAP label is truncated");
            /* Labels are in the column's charset; converted once the charsets are known. */
            c->labels[k] = mem_strndup((const char *)p, len);
        }
    }
    return 0;
}

static void labels_to_utf8(struct binlog_table *t)
{
    for (size_t i = 0; i < t->ncols; i++) {
        struct binlog_column *c = &t->cols[i];
        if (c->labels == NULL || c->collation == 0)
            continue;
        for (size_t k = 0; k < c->n_labels; k++) {
            struct buf b;
            struct error ignored;
            buf_init(&b);
            if (binlog_to_utf8(c->collation, (const uint8_t *)c->labels[k], strlen(c->labels[k]),
                               &b, &ignored) == 0) {
                free(c->labels[k]);
                c->labels[k] = mem_strndup(b.data ? b.data : "", b.len);
            }
            buf_free(&b);
        }
    }
}

static int parse_optional_metadata(struct binlog_table *t, struct cursor *c, struct error *err)
{
    while (cursor_left(c) > 0) {
        uint8_t type;
        uint64_t len;
        const uint8_t *p;
        if (!cursor_u8(c, &type) || !cursor_lenenc(c, &len) || !cursor_bytes(c, (size_t)len, &p))
            return error_set(err, "TABLE_MAP optional metadata is truncated at offset %zu", c->off);
        struct cursor v;
        cursor_init(&v, p, (size_t)len);
        switch (type) {
        case OPT_SIGNEDNESS: {
            size_t bit = 0;
            for (size_t i = 0; i < t->ncols; i++) {
                if (!is_numeric(&t->cols[i]))
                    continue;
                if (bit / 8 >= len)
                    return error_set(err, "TABLE_MAP signedness is short of columns");
                t->cols[i].is_unsigned = (p[bit / 8] >> (7 - bit % 8)) & 1;
                bit++;
            }
            t->has_signedness = true;
            break;
        }
        case OPT_DEFAULT_CHARSET:
        case OPT_COLUMN_CHARSET:
            if (apply_charsets(t, &v, type == OPT_COLUMN_CHARSET, is_character, err) < 0)
                return -1;
            t->has_charsets = true;
            break;
        case OPT_ENUM_AND_SET_DEFAULT_CHARSET:
        case OPT_ENUM_AND_SET_COLUMN_CHARSET:
            if (apply_charsets(t, &v, type == OPT_ENUM_AND_SET_COLUMN_CHARSET, is_enum_or_set,
                               err) < 0)
                return -1;
            break;
        case OPT_COLUMN_NAME:
            for (size_t i = 0; i < t->ncols; i++) {
                const uint8_t *s;
                size_t n;
                if (read_lenenc_str(&v, &s, &n) < 0)
                    return error_set(err, "TABLE_MAP column names end after %zu of %zu", i,
                                     t->ncols);
                free(t->cols[i].name);
                t->cols[i].name = mem_strndup((const char *)s, n);
            }
            t->has_names = true;
            break;
        case OPT_SET_STR_VALUE:
        case OPT_ENUM_STR_VALUE:
            if (apply_labels(t, &v, type == OPT_SET_STR_VALUE ? BT_SET : BT_ENUM, err) < 0)
                return -1;
            t->has_labels = true;
            break;
        case OPT_GEOMETRY_TYPE:
            for (size_t i = 0; i < t->ncols; i++) {
                uint64_t g;
                if (t->cols[i].type != BT_GEOMETRY)
                    continue;
                if (!cursor_lenenc(&v, &g))
                    return error_set(err, "TABLE_MAP geometry types are truncated");
                t->cols[i].geometry_type = (uint32_t)g;
            }
            break;
        case OPT_SIMPLE_PRIMARY_KEY:
        case OPT_PRIMARY_KEY_WITH_PREFIX:
            while (cursor_left(&v) > 0) {
                uint64_t idx, prefix;
                if (!cursor_lenenc(&v, &idx) ||
                    (type == OPT_PRIMARY_KEY_WITH_PREFIX && !cursor_lenenc(&v, &prefix)))
                    return error_set(err, "TABLE_MAP primary key is truncated");
                if (idx >= t->ncols)
                    return error_set(err, "TABLE_MAP primary key names column %" PRIu64 " of %zu",
                                     idx, t->ncols);
                t->cols[idx].key = true;
            }
            t->has_key = true;
            break;
        case OPT_COLUMN_VISIBILITY:
            for (size_t i = 0; i < t->ncols; i++) {
                if (i / 8 >= len)
                    return error_set(err, "TABLE_MAP column visibility is short of columns");
                t->cols[i].invisible = !((p[i / 8] >> (7 - i % 8)) & 1);
            }
            break;
        default:
            /* Newer servers add fields (VECTOR_DIMENSIONALITY, ...): their length skips them. */
            break;
        }
    }
    labels_to_utf8(t);
    return 0;
}

int binlog_parse_table_map(const struct binlog_fde *fde, struct cursor *body,
                           struct binlog_table **out, struct error *err)
{
    uint8_t ph = post_header(fde, BINLOG_TABLE_MAP, 8);
    uint64_t table_id, ncols, meta_len;
    uint16_t flags;
    uint8_t db_len, name_len;
    const uint8_t *db, *name, *types, *meta, *nulls;
    *out = NULL;
    if (ph != 6 && ph != 8)
        return error_set(err, "TABLE_MAP post-header of %u bytes is not supported", ph);
    if (!cursor_uintle(body, ph - 2u, &table_id) || !cursor_u16le(body, &flags) ||
        !cursor_u8(body, &db_len) || !cursor_bytes(body, db_len, &db) || !cursor_skip(body, 1) ||
        !cursor_u8(body, &name_len) || !cursor_bytes(body, name_len, &name) ||
        !cursor_skip(body, 1) || !cursor_lenenc(body, &ncols) || ncols > cursor_left(body) ||
        !cursor_bytes(body, (size_t)ncols, &types) || !cursor_lenenc(body, &meta_len) ||
        !cursor_bytes(body, (size_t)meta_len, &meta) ||
        !cursor_bytes(body, (size_t)(ncols + 7) / 8, &nulls))
        return short_event(err, "TABLE_MAP", body->off);
    if (ncols == 0)
        return error_set(err, "TABLE_MAP of %.*s.%.*s has no columns", db_len, db, name_len, name);
    struct binlog_table *t = mem_calloc(1, sizeof *t);
    t->table_id = table_id;
    t->db = mem_strndup((const char *)db, db_len);
    t->name = mem_strndup((const char *)name, name_len);
    t->ncols = (size_t)ncols;
    t->cols = mem_calloc(t->ncols, sizeof *t->cols);
    struct cursor mc;
    cursor_init(&mc, meta, (size_t)meta_len);
    for (size_t i = 0; i < t->ncols; i++) {
        struct binlog_column *c = &t->cols[i];
        c->type = types[i];
        c->is_unsigned = -1;
        c->nullable = (nulls[i / 8] >> (i % 8)) & 1;
        if (binlog_meta_read(&mc, c, err) < 0) {
            error_wrap(err, "TABLE_MAP of %s.%s, column %zu: ", t->db, t->name, i + 1);
            binlog_table_free(t);
            return -1;
        }
    }
    if (cursor_left(&mc) != 0) {
        error_set(err, "TABLE_MAP of %s.%s has %zu bytes of column metadata left over", t->db,
                  t->name, cursor_left(&mc));
        binlog_table_free(t);
        return -1;
    }
    if (parse_optional_metadata(t, body, err) < 0) {
        error_wrap(err, "TABLE_MAP of %s.%s: ", t->db, t->name);
        binlog_table_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

void binlog_table_prepare(struct binlog_table *t)
{
    if (t->plan == NULL)
        t->plan = mem_alloc(t->ncols * sizeof *t->plan);
    uint16_t json_index = 0;
    for (size_t i = 0; i < t->ncols; i++) {
        binlog_colplan_make(&t->cols[i], &t->plan[i]);
        if (t->cols[i].type == BT_JSON)
            t->plan[i].json_index = json_index++;
    }
}

/* Rows ------------------------------------------------------------------------------------- */

bool binlog_is_rows_event(uint8_t type)
{
    switch (type) {
    case BINLOG_WRITE_ROWS_V1:
    case BINLOG_UPDATE_ROWS_V1:
    case BINLOG_DELETE_ROWS_V1:
    case BINLOG_WRITE_ROWS:
    case BINLOG_UPDATE_ROWS:
    case BINLOG_DELETE_ROWS:
    case BINLOG_PARTIAL_UPDATE_ROWS:
    case BINLOG_MARIADB_WRITE_ROWS_COMPRESSED_V1:
    case BINLOG_MARIADB_UPDATE_ROWS_COMPRESSED_V1:
    case BINLOG_MARIADB_DELETE_ROWS_COMPRESSED_V1:
    case BINLOG_MARIADB_WRITE_ROWS_COMPRESSED:
    case BINLOG_MARIADB_UPDATE_ROWS_COMPRESSED:
    case BINLOG_MARIADB_DELETE_ROWS_COMPRESSED:
        return true;
    default:
        return false;
    }
}

static bool bit_at(const uint8_t *bits, size_t i)
{
    return (bits[i / 8] >> (i % 8)) & 1;
}

/* Set bits among the first n of a column bitmap. Row images mostly have every column, so whole
 * bytes are counted at once. */
static size_t count_bits(const uint8_t *bits, size_t n)
{
    size_t count = 0, i = 0;
    for (; i + 8 <= n; i += 8) {
        unsigned b = bits[i / 8];
        if (b == 0xFF) {
            count += 8;
            continue;
        }
        for (; b; b &= b - 1)
            count++;
    }
    for (; i < n; i++)
        count += bit_at(bits, i);
    return count;
}

int binlog_parse_rows(const struct binlog_fde *fde, uint8_t type, struct cursor *body,
                      struct buf *scratch, struct binlog_rows *out, struct error *err)
{
    const char *what = binlog_type_name(type);
    memset(out, 0, sizeof *out);
    switch (type) {
    case BINLOG_WRITE_ROWS_V1:
    case BINLOG_WRITE_ROWS:
    case BINLOG_MARIADB_WRITE_ROWS_COMPRESSED_V1:
    case BINLOG_MARIADB_WRITE_ROWS_COMPRESSED:
        out->kind = BINLOG_ROWS_WRITE;
        break;
    case BINLOG_UPDATE_ROWS_V1:
    case BINLOG_UPDATE_ROWS:
    case BINLOG_PARTIAL_UPDATE_ROWS:
    case BINLOG_MARIADB_UPDATE_ROWS_COMPRESSED_V1:
    case BINLOG_MARIADB_UPDATE_ROWS_COMPRESSED:
        out->kind = BINLOG_ROWS_UPDATE;
        break;
    case BINLOG_DELETE_ROWS_V1:
    case BINLOG_DELETE_ROWS:
    case BINLOG_MARIADB_DELETE_ROWS_COMPRESSED_V1:
    case BINLOG_MARIADB_DELETE_ROWS_COMPRESSED:
        out->kind = BINLOG_ROWS_DELETE;
        break;
    default:
        return error_set(err, "%s is not a rows event", what);
    }
    out->partial = type == BINLOG_PARTIAL_UPDATE_ROWS;
    bool v2 = type == BINLOG_WRITE_ROWS || type == BINLOG_UPDATE_ROWS ||
              type == BINLOG_DELETE_ROWS || type == BINLOG_PARTIAL_UPDATE_ROWS;
    uint8_t ph = post_header(fde, type, v2 ? 10 : 8);
    if (ph != 6 && ph != 8 && ph != 10)
        return error_set(err, "%s post-header of %u bytes is not supported", what, ph);
    if (!cursor_uintle(body, ph == 6 ? 4 : 6, &out->table_id) || !cursor_u16le(body, &out->flags))
        return short_event(err, what, body->off);
    if (ph == 10) {
        uint16_t extra;
        if (!cursor_u16le(body, &extra) || extra < 2 || !cursor_skip(body, extra - 2u))
            return short_event(err, what, body->off);
    }
    uint64_t ncols;
    if (!cursor_lenenc(body, &ncols) || ncols == 0 || ncols > (uint64_t)cursor_left(body) * 8 ||
        !cursor_bytes(body, (size_t)(ncols + 7) / 8, &out->present_before))
        return short_event(err, what, body->off);
    out->ncols = (size_t)ncols;
    out->present_after = out->present_before;
    if (out->kind == BINLOG_ROWS_UPDATE &&
        !cursor_bytes(body, (size_t)(ncols + 7) / 8, &out->present_after))
        return short_event(err, what, body->off);
    out->npresent_before = count_bits(out->present_before, out->ncols);
    out->npresent_after = out->present_after == out->present_before
                              ? out->npresent_before
                              : count_bits(out->present_after, out->ncols);
    const uint8_t *rows;
    size_t n = cursor_left(body);
    if (!cursor_bytes(body, n, &rows))
        return short_event(err, what, body->off);
    if (type >= BINLOG_MARIADB_WRITE_ROWS_COMPRESSED_V1 &&
        type <= BINLOG_MARIADB_DELETE_ROWS_COMPRESSED) {
        if (mariadb_inflate(rows, n, scratch, err) < 0)
            return error_wrap(err, "%s: ", what);
        cursor_init(&out->rows, scratch->data, scratch->len);
    } else {
        cursor_init(&out->rows, rows, n);
    }
    return 0;
}

static inline int read_image(struct binlog_rows *r, const struct binlog_table *t,
                             const uint8_t *present, size_t npresent, const uint8_t *partial,
                             struct arena *a, const struct value *before, struct value *vals,
                             struct error *err)
{
    struct cursor *c = &r->rows;
    const uint8_t *nulls;
    if (!cursor_bytes(c, (npresent + 7) / 8, &nulls))
        return error_set(err, "row image is truncated at offset %zu", c->off);
    return binlog_values_read(c, t->cols, t->plan, t->ncols, npresent == t->ncols ? NULL : present,
                              nulls, partial, before, a, vals, err);
}

int binlog_rows_next(struct binlog_rows *r, const struct binlog_table *t, struct arena *arena,
                     struct value *before, struct value *after, struct error *err)
{
    if (cursor_left(&r->rows) == 0)
        return 0;
    if (t->ncols != r->ncols)
        return error_set(err, "rows event has %zu columns but the TABLE_MAP of %s.%s has %zu",
                         r->ncols, t->db, t->name, t->ncols);
    if (t->plan == NULL)
        return error_set(err, "the TABLE_MAP of %s.%s is not prepared for its rows", t->db,
                         t->name);
    if (r->kind != BINLOG_ROWS_WRITE &&
        read_image(r, t, r->present_before, r->npresent_before, NULL, arena, NULL, before, err) < 0)
        return error_wrap(err, "before image: ");
    if (r->kind == BINLOG_ROWS_DELETE)
        return 1;
    const uint8_t *partial = NULL;
    if (r->partial) {
        uint64_t options;
        if (!cursor_lenenc(&r->rows, &options))
            return error_set(err, "partial update row lacks its value options");
        if (options & 1) {
            size_t njson = 0;
            for (size_t i = 0; i < t->ncols; i++)
                njson += t->cols[i].type == BT_JSON;
            if (!cursor_bytes(&r->rows, (njson + 7) / 8, &partial))
                return error_set(err, "partial update row lacks its partial JSON bits");
        }
    }
    if (read_image(r, t, r->present_after, r->npresent_after, partial, arena,
                   r->kind == BINLOG_ROWS_UPDATE ? before : NULL, after, err) < 0)
        return error_wrap(err, "after image: ");
    return 1;
}
