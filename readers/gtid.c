/* gtid: MySQL GTID sets and MariaDB GTID positions (see gtid.h). */
#include "gtid.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/cursor.h"
#include "../src/mem.h"

struct interval {
    uint64_t start, end; /* [start, end) */
};

struct sid_entry {
    uint8_t sid[16];
    struct interval *iv; /* sorted, disjoint, not adjacent */
    size_t n, cap;
};

struct domain_entry {
    uint32_t domain, server;
    uint64_t seq;
};

struct gtid_set {
    bool mariadb;
    struct sid_entry *sids; /* MySQL, sorted by sid */
    size_t nsids;
    struct domain_entry *domains; /* MariaDB, sorted by domain */
    size_t ndomains;
};

struct gtid_set *gtid_set_new(bool mariadb)
{
    struct gtid_set *s = mem_calloc(1, sizeof *s);
    s->mariadb = mariadb;
    return s;
}

static void clear(struct gtid_set *s)
{
    for (size_t i = 0; i < s->nsids; i++)
        free(s->sids[i].iv);
    free(s->sids);
    free(s->domains);
    s->sids = NULL;
    s->nsids = 0;
    s->domains = NULL;
    s->ndomains = 0;
}

void gtid_set_free(struct gtid_set *s)
{
    if (s == NULL)
        return;
    clear(s);
    free(s);
}

struct gtid_set *gtid_set_copy(const struct gtid_set *s)
{
    struct gtid_set *c = gtid_set_new(s->mariadb);
    if (s->nsids) {
        c->sids = mem_calloc(s->nsids, sizeof *c->sids);
        c->nsids = s->nsids;
        for (size_t i = 0; i < s->nsids; i++) {
            c->sids[i] = s->sids[i];
            c->sids[i].cap = s->sids[i].n;
            c->sids[i].iv = mem_alloc((s->sids[i].n ? s->sids[i].n : 1) * sizeof(struct interval));
            memcpy(c->sids[i].iv, s->sids[i].iv, s->sids[i].n * sizeof(struct interval));
        }
    }
    if (s->ndomains) {
        c->domains = mem_alloc(s->ndomains * sizeof *c->domains);
        memcpy(c->domains, s->domains, s->ndomains * sizeof *c->domains);
        c->ndomains = s->ndomains;
    }
    return c;
}

bool gtid_set_is_mariadb(const struct gtid_set *s)
{
    return s->mariadb;
}

bool gtid_set_is_empty(const struct gtid_set *s)
{
    return s->nsids == 0 && s->ndomains == 0;
}

static struct sid_entry *find_sid(struct gtid_set *s, const uint8_t sid[16])
{
    size_t i = 0;
    while (i < s->nsids && memcmp(s->sids[i].sid, sid, 16) < 0)
        i++;
    if (i < s->nsids && memcmp(s->sids[i].sid, sid, 16) == 0)
        return &s->sids[i];
    s->sids = mem_realloc(s->sids, (s->nsids + 1) * sizeof *s->sids);
    memmove(&s->sids[i + 1], &s->sids[i], (s->nsids - i) * sizeof *s->sids);
    s->nsids++;
    memset(&s->sids[i], 0, sizeof s->sids[i]);
    memcpy(s->sids[i].sid, sid, 16);
    return &s->sids[i];
}

void gtid_set_add_interval(struct gtid_set *s, const uint8_t sid[16], uint64_t start, uint64_t end)
{
    if (start >= end)
        return;
    struct sid_entry *e = find_sid(s, sid);
    /* Insert, then merge every interval that overlaps or touches the new one. */
    size_t i = 0;
    while (i < e->n && e->iv[i].end < start)
        i++;
    size_t j = i;
    while (j < e->n && e->iv[j].start <= end) {
        if (e->iv[j].start < start)
            start = e->iv[j].start;
        if (e->iv[j].end > end)
            end = e->iv[j].end;
        j++;
    }
    size_t removed = j - i;
    if (removed == 0) {
        if (e->n == e->cap) {
            e->cap = e->cap ? e->cap * 2 : 4;
            e->iv = mem_realloc(e->iv, e->cap * sizeof *e->iv);
        }
        memmove(&e->iv[i + 1], &e->iv[i], (e->n - i) * sizeof *e->iv);
        e->n++;
    } else if (removed > 1) {
        memmove(&e->iv[i + 1], &e->iv[j], (e->n - j) * sizeof *e->iv);
        e->n -= removed - 1;
    }
    e->iv[i].start = start;
    e->iv[i].end = end;
}

void gtid_set_add_mysql(struct gtid_set *s, const uint8_t sid[16], uint64_t gno)
{
    gtid_set_add_interval(s, sid, gno, gno + 1);
}

void gtid_set_add_mariadb(struct gtid_set *s, uint32_t domain, uint32_t server, uint64_t seq)
{
    size_t i = 0;
    while (i < s->ndomains && s->domains[i].domain < domain)
        i++;
    if (i == s->ndomains || s->domains[i].domain != domain) {
        s->domains = mem_realloc(s->domains, (s->ndomains + 1) * sizeof *s->domains);
        memmove(&s->domains[i + 1], &s->domains[i], (s->ndomains - i) * sizeof *s->domains);
        s->ndomains++;
    }
    s->domains[i].domain = domain;
    s->domains[i].server = server;
    s->domains[i].seq = seq;
}

static bool parse_uuid(const char *p, size_t len, uint8_t sid[16])
{
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '-')
            continue;
        int hi = cursor_hex_digit(p[i]), lo = i + 1 < len ? cursor_hex_digit(p[i + 1]) : -1;
        if (hi < 0 || lo < 0 || k == 16)
            return false;
        sid[k++] = (uint8_t)(hi << 4 | lo);
        i++;
    }
    return k == 16;
}

static bool parse_u64(const char **p, const char *end, uint64_t *v)
{
    const char *s = *p;
    uint64_t r = 0;
    if (s == end || !isdigit((unsigned char)*s))
        return false;
    while (s < end && isdigit((unsigned char)*s)) {
        if (r > (UINT64_MAX - 9) / 10)
            return false;
        r = r * 10 + (uint64_t)(*s - '0');
        s++;
    }
    *p = s;
    *v = r;
    return true;
}

int gtid_set_parse(struct gtid_set *s, const char *text, struct error *err)
{
    clear(s);
    /* Work on a copy without whitespace: @@gtid_executed breaks lines after commas. */
    size_t len = strlen(text);
    char *t = mem_alloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (!isspace((unsigned char)text[i]))
            t[n++] = text[i];
    t[n] = '\0';
    const char *p = t, *end = t + n;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *item_end = comma ? comma : end;
        if (s->mariadb) {
            uint64_t d, srv, seq;
            const char *q = p;
            if (!parse_u64(&q, item_end, &d) || q == item_end || *q++ != '-' ||
                !parse_u64(&q, item_end, &srv) || q == item_end || *q++ != '-' ||
                !parse_u64(&q, item_end, &seq) || q != item_end || d > UINT32_MAX ||
                srv > UINT32_MAX)
                goto bad;
            gtid_set_add_mariadb(s, (uint32_t)d, (uint32_t)srv, seq);
        } else {
            const char *colon = memchr(p, ':', (size_t)(item_end - p));
            uint8_t sid[16];
            if (colon == NULL || !parse_uuid(p, (size_t)(colon - p), sid))
                goto bad;
            const char *q = colon;
            while (q < item_end) {
                uint64_t a, b;
                q++;
                if (!parse_u64(&q, item_end, &a) || a == 0)
                    goto bad;
                b = a;
                if (q < item_end && *q == '-') {
                    q++;
                    if (!parse_u64(&q, item_end, &b) || b < a)
                        goto bad;
                }
                if (q < item_end && *q != ':')
                    goto bad;
                gtid_set_add_interval(s, sid, a, b + 1);
            }
        }
        p = comma ? comma + 1 : end;
    }
    free(t);
    return 0;
bad:
    free(t);
    clear(s);
    return error_set(err, "malformed %s GTID set \"%s\"", s->mariadb ? "MariaDB" : "MySQL", text);
}

static void format_uuid(const uint8_t sid[16], char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[k++] = '-';
        out[k++] = hex[sid[i] >> 4];
        out[k++] = hex[sid[i] & 15];
    }
    out[k] = '\0';
}

void gtid_set_format(const struct gtid_set *s, struct buf *out)
{
    if (s->mariadb) {
        for (size_t i = 0; i < s->ndomains; i++)
            buf_printf(out, "%s%" PRIu32 "-%" PRIu32 "-%" PRIu64, i ? "," : "",
                       s->domains[i].domain, s->domains[i].server, s->domains[i].seq);
        return;
    }
    for (size_t i = 0; i < s->nsids; i++) {
        char uuid[40];
        format_uuid(s->sids[i].sid, uuid);
        buf_printf(out, "%s%s", i ? "," : "", uuid);
        for (size_t k = 0; k < s->sids[i].n; k++) {
            const struct interval *iv = &s->sids[i].iv[k];
            if (iv->end - iv->start == 1)
                buf_printf(out, ":%" PRIu64, iv->start);
            else
                buf_printf(out, ":%" PRIu64 "-%" PRIu64, iv->start, iv->end - 1);
        }
    }
}

static void put_u64le(struct buf *out, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    buf_append(out, b, 8);
}

void gtid_set_encode(const struct gtid_set *s, struct buf *out)
{
    put_u64le(out, s->nsids);
    for (size_t i = 0; i < s->nsids; i++) {
        buf_append(out, s->sids[i].sid, 16);
        put_u64le(out, s->sids[i].n);
        for (size_t k = 0; k < s->sids[i].n; k++) {
            put_u64le(out, s->sids[i].iv[k].start);
            put_u64le(out, s->sids[i].iv[k].end);
        }
    }
}

void gtid_format_mysql(const uint8_t sid[16], uint64_t gno, char *out, size_t outlen)
{
    char uuid[40];
    format_uuid(sid, uuid);
    snprintf(out, outlen, "%s:%" PRIu64, uuid, gno);
}

void gtid_format_mariadb(uint32_t domain, uint32_t server, uint64_t seq, char *out, size_t outlen)
{
    snprintf(out, outlen, "%" PRIu32 "-%" PRIu32 "-%" PRIu64, domain, server, seq);
}
