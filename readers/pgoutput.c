/* pgoutput: walsender CopyData and pgoutput v1 message parser (see pgoutput.h). */
#include "pgoutput.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/cursor.h"
#include "../src/mem.h"

void pgout_msg_init(struct pgout_msg *m)
{
    memset(m, 0, sizeof *m);
}

void pgout_msg_cleanup(struct pgout_msg *m)
{
    free(m->relcols);
    free(m->relids);
    free(m->old_tuple.cols);
    free(m->new_tuple.cols);
    memset(m, 0, sizeof *m);
}

static int truncated(struct error *err, const char *what, const struct cursor *c)
{
    return error_set(err, "malformed %s: truncated at byte %zu of %zu", what, c->off, c->len);
}

/*
 * 'w' XLogData: walStart(8) walEnd(8) sendTime(8) message...
 * 'k' keepalive: walEnd(8) sendTime(8) replyRequested(1)
 */
int pgout_parse_copydata(const void *buf, size_t len, struct pgout_copydata *out, struct error *err)
{
    struct cursor c;
    uint8_t kind;
    uint64_t t;
    cursor_init(&c, buf, len);
    memset(out, 0, sizeof *out);
    if (!cursor_u8(&c, &kind))
        return error_set(err, "malformed replication message: empty CopyData");
    out->kind = (char)kind;
    if (kind == 'w') {
        if (!cursor_u64be(&c, &out->wal_start) || !cursor_u64be(&c, &out->wal_end) ||
            !cursor_u64be(&c, &t))
            return truncated(err, "XLogData header", &c);
        out->send_time = (int64_t)t;
        out->data = c.data + c.off;
        out->len = cursor_left(&c);
        return 0;
    }
    if (kind == 'k') {
        uint8_t reply;
        if (!cursor_u64be(&c, &out->wal_end) || !cursor_u64be(&c, &t) || !cursor_u8(&c, &reply))
            return truncated(err, "primary keepalive", &c);
        out->send_time = (int64_t)t;
        out->reply_requested = reply != 0;
        return 0;
    }
    return error_set(err, "malformed replication message: unknown CopyData type 0x%02x", kind);
}

static bool read_cstr(struct cursor *c, const char **s)
{
    size_t n;
    return cursor_cstr(c, s, &n);
}

static bool read_i64(struct cursor *c, int64_t *v)
{
    uint64_t u;
    if (!cursor_u64be(c, &u))
        return false;
    *v = (int64_t)u;
    return true;
}

/* TupleData: ncols(2) then per column kind(1) [len(4) bytes]. */
static int parse_tuple(struct cursor *c, struct pgout_tuple *t, const char *what, struct error *err)
{
    uint16_t n;
    if (!cursor_u16be(c, &n))
        return truncated(err, what, c);
    /* Each column takes at least one byte: a count beyond what is left is corrupt. */
    if (n > cursor_left(c))
        return error_set(err, "malformed %s: %u columns in %zu bytes", what, n, cursor_left(c));
    if (n > t->cap) {
        t->cols = mem_realloc(t->cols, n * sizeof *t->cols);
        t->cap = n;
    }
    t->ncols = n;
    for (uint16_t i = 0; i < n; i++) {
        struct pgout_datum *d = &t->cols[i];
        uint8_t kind;
        if (!cursor_u8(c, &kind))
            return truncated(err, what, c);
        d->kind = (char)kind;
        d->data = NULL;
        d->len = 0;
        switch (kind) {
        case 'n':
        case 'u':
            break;
        case 't':
        case 'b': {
            const uint8_t *p;
            if (!cursor_u32be(c, &d->len) || !cursor_bytes(c, d->len, &p))
                return truncated(err, what, c);
            d->data = (const char *)p;
            break;
        }
        default:
            return error_set(err, "malformed %s: unknown column kind 0x%02x at byte %zu", what,
                             kind, c->off - 1);
        }
    }
    return 0;
}

static int parse_relation(struct cursor *c, struct pgout_msg *m, struct error *err)
{
    uint8_t ident;
    uint16_t n;
    if (!cursor_u32be(c, &m->u.relation.relid) || !read_cstr(c, &m->u.relation.nspname) ||
        !read_cstr(c, &m->u.relation.relname) || !cursor_u8(c, &ident) || !cursor_u16be(c, &n))
        return truncated(err, "Relation message", c);
    m->u.relation.replident = (char)ident;
    /* flags(1) name(>=1) type(4) typmod(4) per column */
    if ((size_t)n * 10 > cursor_left(c))
        return error_set(err, "malformed Relation message: %u columns in %zu bytes", n,
                         cursor_left(c));
    if (n > m->relcols_cap) {
        m->relcols = mem_realloc(m->relcols, n * sizeof *m->relcols);
        m->relcols_cap = n;
    }
    m->u.relation.ncols = n;
    for (uint16_t i = 0; i < n; i++) {
        struct pgout_relcol *col = &m->relcols[i];
        uint32_t typmod;
        if (!cursor_u8(c, &col->flags) || !read_cstr(c, &col->name) ||
            !cursor_u32be(c, &col->type_oid) || !cursor_u32be(c, &typmod))
            return truncated(err, "Relation message", c);
        col->typmod = (int32_t)typmod;
    }
    return 0;
}

static int parse_change(struct cursor *c, struct pgout_msg *m, struct error *err)
{
    const char *what = m->type == PGOUT_INSERT   ? "Insert message"
                       : m->type == PGOUT_UPDATE ? "Update message"
                                                 : "Delete message";
    uint8_t tag;
    m->u.change.old_kind = 0;
    m->u.change.has_new = false;
    m->old_tuple.ncols = 0;
    m->new_tuple.ncols = 0;
    if (!cursor_u32be(c, &m->u.change.relid) || !cursor_u8(c, &tag))
        return truncated(err, what, c);
    if ((tag == 'K' || tag == 'O') && m->type != PGOUT_INSERT) {
        m->u.change.old_kind = (char)tag;
        if (parse_tuple(c, &m->old_tuple, what, err) < 0)
            return -1;
        if (m->type == PGOUT_DELETE)
            return 0;
        if (!cursor_u8(c, &tag))
            return truncated(err, what, c);
    } else if (m->type == PGOUT_DELETE) {
        return error_set(err, "malformed %s: expected 'K' or 'O', got 0x%02x", what, tag);
    }
    if (tag != 'N')
        return error_set(err, "malformed %s: expected 'N', got 0x%02x", what, tag);
    m->u.change.has_new = true;
    return parse_tuple(c, &m->new_tuple, what, err);
}

int pgout_parse(const void *buf, size_t len, struct pgout_msg *m, struct error *err)
{
    struct cursor c;
    uint8_t type;
    cursor_init(&c, buf, len);
    if (!cursor_u8(&c, &type))
        return error_set(err, "malformed pgoutput message: empty");
    m->type = (enum pgout_type)type;
    switch (type) {
    case PGOUT_BEGIN:
        if (!cursor_u64be(&c, &m->u.begin.final_lsn) || !read_i64(&c, &m->u.begin.commit_time) ||
            !cursor_u32be(&c, &m->u.begin.xid))
            return truncated(err, "Begin message", &c);
        break;
    case PGOUT_COMMIT:
        if (!cursor_u8(&c, &m->u.commit.flags) || !cursor_u64be(&c, &m->u.commit.commit_lsn) ||
            !cursor_u64be(&c, &m->u.commit.end_lsn) || !read_i64(&c, &m->u.commit.commit_time))
            return truncated(err, "Commit message", &c);
        break;
    case PGOUT_ORIGIN:
        if (!cursor_u64be(&c, &m->u.origin.lsn) || !read_cstr(&c, &m->u.origin.name))
            return truncated(err, "Origin message", &c);
        break;
    case PGOUT_RELATION:
        if (parse_relation(&c, m, err) < 0)
            return -1;
        break;
    case PGOUT_TYPE:
        if (!cursor_u32be(&c, &m->u.type.oid) || !read_cstr(&c, &m->u.type.nspname) ||
            !read_cstr(&c, &m->u.type.typname))
            return truncated(err, "Type message", &c);
        break;
    case PGOUT_INSERT:
    case PGOUT_UPDATE:
    case PGOUT_DELETE:
        if (parse_change(&c, m, err) < 0)
            return -1;
        break;
    case PGOUT_TRUNCATE: {
        uint32_t n;
        if (!cursor_u32be(&c, &n) || !cursor_u8(&c, &m->u.truncate.options))
            return truncated(err, "Truncate message", &c);
        if ((size_t)n * 4 != cursor_left(&c))
            return error_set(err, "malformed Truncate message: %" PRIu32 " relations in %zu bytes",
                             n, cursor_left(&c));
        if (n > m->relids_cap) {
            m->relids = mem_realloc(m->relids, n * sizeof *m->relids);
            m->relids_cap = n;
        }
        m->u.truncate.nrels = n;
        for (uint32_t i = 0; i < n; i++)
            if (!cursor_u32be(&c, &m->relids[i]))
                return truncated(err, "Truncate message", &c);
        break;
    }
    case PGOUT_MESSAGE: {
        const uint8_t *p;
        if (!cursor_u8(&c, &m->u.message.flags) || !cursor_u64be(&c, &m->u.message.lsn) ||
            !read_cstr(&c, &m->u.message.prefix) || !cursor_u32be(&c, &m->u.message.len) ||
            !cursor_bytes(&c, m->u.message.len, &p))
            return truncated(err, "logical decoding Message", &c);
        m->u.message.content = p;
        break;
    }
    default:
        return error_set(err,
                         "unsupported pgoutput message type 0x%02x (only protocol version 1 "
                         "without streaming is understood)",
                         type);
    }
    if (cursor_left(&c) != 0)
        return error_set(err, "malformed pgoutput message '%c': %zu trailing bytes", (char)type,
                         cursor_left(&c));
    return 0;
}

void pgout_lsn_format(uint64_t lsn, char *out, size_t outlen)
{
    snprintf(out, outlen, "%" PRIX32 "/%" PRIX32, (uint32_t)(lsn >> 32), (uint32_t)lsn);
}

/* One half of "X/Y": 1 to 8 hex digits up to `end` (NUL or '/'). */
static const char *parse_half(const char *p, char end, uint64_t *v)
{
    int n = 0;
    *v = 0;
    for (; *p && *p != end; p++, n++) {
        int d = cursor_hex_digit(*p);
        if (d < 0 || n >= 8)
            return NULL;
        *v = *v * 16 + (uint64_t)d;
    }
    return n == 0 || *p != end ? NULL : p;
}

int pgout_lsn_parse(const char *s, uint64_t *out)
{
    uint64_t hi, lo;
    const char *p = parse_half(s, '/', &hi);
    if (p == NULL || parse_half(p + 1, '\0', &lo) == NULL)
        return -1;
    *out = hi << 32 | lo;
    return 0;
}
