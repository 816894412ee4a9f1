/* pg_types: PostgreSQL text forms to struct value (see pg_types.h). */
#include "pg_types.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../src/cursor.h"
#include "../src/mem.h"

/* ---- types by OID ---- */

static const struct {
    uint32_t oid;
    struct pgtype_base base;
} builtins[] = {
    {16, {VALUE_BOOL, 0, "bool"}},
    {17, {VALUE_BYTES, 0, "bytea"}},
    {18, {VALUE_STRING, 0, "char"}},
    {19, {VALUE_STRING, 0, "name"}},
    {20, {VALUE_INT, 64, "int8"}},
    {21, {VALUE_INT, 16, "int2"}},
    {23, {VALUE_INT, 32, "int4"}},
    {25, {VALUE_STRING, 0, "text"}},
    {26, {VALUE_INT, 64, "oid"}},
    {114, {VALUE_JSON, 0, "json"}},
    {142, {VALUE_STRING, 0, "xml"}},
    {650, {VALUE_STRING, 0, "cidr"}},
    {700, {VALUE_FLOAT32, 0, "float4"}},
    {701, {VALUE_FLOAT64, 0, "float8"}},
    {774, {VALUE_STRING, 0, "macaddr8"}},
    {790, {VALUE_DECIMAL, 0, "money"}},
    {829, {VALUE_STRING, 0, "macaddr"}},
    {869, {VALUE_STRING, 0, "inet"}},
    {1042, {VALUE_STRING, 0, "bpchar"}},
    {1043, {VALUE_STRING, 0, "varchar"}},
    {1082, {VALUE_DATE, 0, "date"}},
    {1083, {VALUE_TIME, 0, "time"}},
    {1114, {VALUE_DATETIME, 0, "timestamp"}},
    {1184, {VALUE_TIMESTAMP, 0, "timestamptz"}},
    {1186, {VALUE_INTERVAL, 0, "interval"}},
    {1266, {VALUE_ZONED_TIME, 0, "timetz"}},
    {1560, {VALUE_BITS, 0, "bit"}},
    {1562, {VALUE_BITS, 0, "varbit"}},
    {1700, {VALUE_DECIMAL, 0, "numeric"}},
    {2950, {VALUE_STRING, 0, "uuid"}},
    {3802, {VALUE_JSON, 0, "jsonb"}},
};

int pgtype_builtin(uint32_t oid, struct pgtype_base *out)
{
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        if (builtins[i].oid == oid) {
            *out = builtins[i].base;
            return 0;
        }
    }
    return -1;
}

void pgtype_apply_typmod(struct schema_column *col, uint32_t base_oid, int32_t typmod)
{
    switch (base_oid) {
    case 1700: /* numeric: ((precision << 16) | scale) + VARHDRSZ, scale an 11-bit signed */
        if (typmod >= 4) {
            int32_t t = typmod - 4;
            col->precision = (t >> 16) & 0xffff;
            int32_t s = t & 0x7ff;
            col->scale = s >= 1024 ? s - 2048 : s;
        }
        break;
    case 790:
        col->scale = 2;
        break;
    case 1042:
    case 1043:
        if (typmod >= 4)
            col->length = typmod - 4;
        break;
    case 18:
        col->length = 1;
        break;
    case 1560:
    case 1562:
        if (typmod >= 0)
            col->length = typmod;
        if (col->length == 1 && col->kind == VALUE_BITS)
            col->kind = VALUE_BOOL;
        if (col->length == 1 && col->elem_kind == VALUE_BITS)
            col->elem_kind = VALUE_BOOL;
        break;
    case 1083:
    case 1114:
    case 1184:
    case 1266:
        col->scale = typmod >= 0 ? typmod : 6;
        break;
    case 1186:
        col->scale = typmod >= 0 && (typmod & 0xffff) != 0xffff ? typmod & 0xffff : 6;
        break;
    default:
        break;
    }
}

/* ---- scalar text forms ---- */

static int bad(struct error *err, const char *what, const char *text, size_t len)
{
    return error_set(err, "invalid %s value \"%.*s\"", what, (int)(len > 64 ? 64 : len), text);
}

/* isdigit without the locale table lookup it costs per character. */
static bool is_digit(char c)
{
    return (unsigned)(unsigned char)c - '0' < 10;
}

/* Reads exactly n digits at *p. */
static bool digits(const char **p, const char *end, int n, int64_t *v)
{
    int64_t r = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= end || !is_digit(**p))
            return false;
        r = r * 10 + (**p - '0');
        (*p)++;
    }
    *v = r;
    return true;
}

/* Reads 1 or more digits (at most 10). */
static bool number(const char **p, const char *end, int64_t *v)
{
    int64_t r = 0;
    int n = 0;
    while (*p < end && is_digit(**p) && n < 10) {
        r = r * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    *v = r;
    return n > 0 && !(*p < end && is_digit(**p));
}

/* Optional ".ffffff" (up to 6 digits) as microseconds. */
static bool fraction(const char **p, const char *end, int64_t *us)
{
    *us = 0;
    if (*p >= end || **p != '.')
        return true;
    (*p)++;
    int n = 0;
    int64_t r = 0;
    while (*p < end && is_digit(**p)) {
        if (n >= 6)
            return false;
        r = r * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    if (n == 0)
        return false;
    for (; n < 6; n++)
        r *= 10;
    *us = r;
    return true;
}

int64_t pgtype_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Howard Hinnant's days_from_civil, valid over the whole int64 year range used here. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool is_word(const char *text, size_t len, const char *w)
{
    return len == strlen(w) && memcmp(text, w, len) == 0;
}

/* "YYYY-MM-DD" with a 4+ digit year, then an optional " BC" at `end` (year Y BC is the
 * astronomical year 1 - Y). */
static bool parse_date_part(const char **p, const char *end, bool bc, int64_t *days)
{
    int64_t y, m, d;
    const char *start = *p;
    if (!number(p, end, &y) || *p - start < 4 || *p >= end || **p != '-')
        return false;
    (*p)++;
    if (!digits(p, end, 2, &m) || *p >= end || **p != '-')
        return false;
    (*p)++;
    if (!digits(p, end, 2, &d) || m < 1 || m > 12 || d < 1 || d > 31)
        return false;
    *days = pgtype_days_from_civil(bc ? 1 - y : y, (unsigned)m, (unsigned)d);
    return true;
}

static bool bc_suffix(const char *text, size_t *len)
{
    if (*len >= 3 && memcmp(text + *len - 3, " BC", 3) == 0) {
        *len -= 3;
        return true;
    }
    return false;
}

/* "HH:MM:SS[.ffffff]" */
static bool parse_time_part(const char **p, const char *end, int64_t *us)
{
    int64_t h, mi, s, f;
    if (!digits(p, end, 2, &h) || *p >= end || **p != ':')
        return false;
    (*p)++;
    if (!digits(p, end, 2, &mi) || *p >= end || **p != ':')
        return false;
    (*p)++;
    if (!digits(p, end, 2, &s) || !fraction(p, end, &f))
        return false;
    if (h > 24 || mi > 59 || s > 60)
        return false;
    *us = ((h * 60 + mi) * 60 + s) * 1000000 + f;
    return true;
}

/* "+HH[:MM[:SS]]" as seconds east of UTC. */
static bool parse_offset(const char **p, const char *end, int64_t *secs)
{
    if (*p >= end || (**p != '+' && **p != '-'))
        return false;
    int sign = **p == '-' ? -1 : 1;
    (*p)++;
    int64_t h, m = 0, s = 0;
    if (!digits(p, end, 2, &h))
        return false;
    if (*p < end && **p == ':') {
        (*p)++;
        if (!digits(p, end, 2, &m))
            return false;
        if (*p < end && **p == ':') {
            (*p)++;
            if (!digits(p, end, 2, &s))
                return false;
        }
    }
    *secs = sign * (h * 3600 + m * 60 + s);
    return true;
}

static int decode_date(const char *text, size_t len, struct value *out, struct error *err)
{
    if (is_word(text, len, "infinity") || is_word(text, len, "-infinity")) {
        out->kind = VALUE_DATE;
        out->v.i = text[0] == '-' ? INT32_MIN : INT32_MAX;
        return 0;
    }
    bool bc = bc_suffix(text, &len);
    const char *p = text, *end = text + len;
    int64_t days;
    if (!parse_date_part(&p, end, bc, &days) || p != end)
        return bad(err, "date", text, len);
    /* Debezium's Date is an int32 of days; its extremes stand for infinity. */
    if (days >= INT32_MAX || days <= INT32_MIN)
        return error_set(err, "date value \"%.*s\" is out of range", (int)(len > 64 ? 64 : len),
                         text);
    out->kind = VALUE_DATE;
    out->v.i = days;
    return 0;
}

static int decode_timestamp(enum value_kind kind, const char *text, size_t len, struct value *out,
                            struct error *err)
{
    const char *what = kind == VALUE_TIMESTAMP ? "timestamptz" : "timestamp";
    out->kind = kind;
    if (is_word(text, len, "infinity") || is_word(text, len, "-infinity")) {
        out->v.i = text[0] == '-' ? INT64_MIN : INT64_MAX;
        return 0;
    }
    bool bc = bc_suffix(text, &len);
    const char *p = text, *end = text + len;
    int64_t days, us, off = 0;
    if (!parse_date_part(&p, end, bc, &days) || p >= end || *p != ' ')
        return bad(err, what, text, len);
    p++;
    if (!parse_time_part(&p, end, &us))
        return bad(err, what, text, len);
    if (kind == VALUE_TIMESTAMP && !parse_offset(&p, end, &off))
        return bad(err, what, text, len);
    if (p != end)
        return bad(err, what, text, len);
    /* int64 µs covers about ±292,000 years around 1970; the extremes stand for infinity. */
    int64_t v;
    if (__builtin_mul_overflow(days, 86400000000LL, &v) || __builtin_add_overflow(v, us, &v) ||
        __builtin_sub_overflow(v, off * 1000000, &v) || v == INT64_MIN || v == INT64_MAX)
        return error_set(err, "%s value \"%.*s\" is out of range", what, (int)(len > 64 ? 64 : len),
                         text);
    out->v.i = v;
    return 0;
}

static int decode_time(const char *text, size_t len, struct value *out, struct error *err)
{
    const char *p = text, *end = text + len;
    int64_t us;
    if (!parse_time_part(&p, end, &us) || p != end)
        return bad(err, "time", text, len);
    out->kind = VALUE_TIME;
    out->v.i = us;
    return 0;
}

/* timetz normalized to UTC in the form of java.time's ISO_OFFSET_TIME ("08:15:30.5Z"), which is
 * what Debezium's ZonedTime carries. */
static int decode_timetz(const char *text, size_t len, struct arena *a, struct value *out,
                         struct error *err)
{
    const char *p = text, *end = text + len;
    int64_t us, off;
    if (!parse_time_part(&p, end, &us) || !parse_offset(&p, end, &off) || p != end)
        return bad(err, "timetz", text, len);
    int64_t day = 86400000000LL;
    us = ((us - off * 1000000) % day + day) % day;
    char *s = arena_alloc(a, 32);
    int64_t secs = us / 1000000, frac = us % 1000000;
    int n = snprintf(s, 32, "%02d:%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60),
                     (int)(secs % 60));
    if (frac) {
        char f[8];
        snprintf(f, sizeof f, "%06d", (int)frac);
        int fl = 6;
        while (fl > 0 && f[fl - 1] == '0')
            fl--;
        n += snprintf(s + n, (size_t)(32 - n), ".%.*s", fl, f);
    }
    n += snprintf(s + n, (size_t)(32 - n), "Z");
    out->kind = VALUE_ZONED_TIME;
    out->v.s.p = s;
    out->v.s.len = (size_t)n;
    out->v.s.i = 0;
    return 0;
}

/* IntervalStyle iso_8601: "P1Y2M3DT4H5M6.789S", each part may be negative; "PT0S" is zero. */
static int decode_interval(const char *text, size_t len, struct value *out, struct error *err)
{
    const char *p = text, *end = text + len;
    int64_t months = 0, days = 0, us = 0;
    bool in_time = false;
    if (p >= end || *p != 'P')
        return bad(err, "interval", text, len);
    p++;
    while (p < end) {
        if (*p == 'T') {
            in_time = true;
            p++;
            continue;
        }
        bool neg = false;
        if (*p == '-') {
            neg = true;
            p++;
        }
        int64_t n, f = 0;
        if (!number(&p, end, &n))
            return bad(err, "interval", text, len);
        if (p < end && *p == '.' && !fraction(&p, end, &f))
            return bad(err, "interval", text, len);
        if (p >= end)
            return bad(err, "interval", text, len);
        char unit = *p++;
        if (f && !(in_time && unit == 'S'))
            return bad(err, "interval", text, len);
        int64_t *sum, scale;
        if (!in_time && unit == 'Y')
            sum = &months, scale = 12;
        else if (!in_time && unit == 'M')
            sum = &months, scale = 1;
        else if (!in_time && unit == 'W')
            sum = &days, scale = 7;
        else if (!in_time && unit == 'D')
            sum = &days, scale = 1;
        else if (in_time && unit == 'H')
            sum = &us, scale = 3600000000LL;
        else if (in_time && unit == 'M')
            sum = &us, scale = 60000000LL;
        else if (in_time && unit == 'S')
            sum = &us, scale = 1000000;
        else
            return bad(err, "interval", text, len);
        /* Ten digits times an hour's microseconds leave int64: refuse rather than wrap. */
        int64_t part;
        if (__builtin_mul_overflow(n, scale, &part) || __builtin_add_overflow(part, f, &part) ||
            __builtin_add_overflow(*sum, neg ? -part : part, sum))
            return error_set(err, "interval value \"%.*s\" is out of range",
                             (int)(len > 64 ? 64 : len), text);
    }
    if (months > INT32_MAX || months < INT32_MIN || days > INT32_MAX || days < INT32_MIN)
        return bad(err, "interval", text, len);
    out->kind = VALUE_INTERVAL;
    out->v.interval.months = (int32_t)months;
    out->v.interval.days = (int32_t)days;
    out->v.interval.micros = us;
    return 0;
}

/* Copies text into a NUL-terminated stack buffer for strto*; false when too long. */
static bool cstr(const char *text, size_t len, char *buf, size_t cap)
{
    if (len >= cap)
        return false;
    memcpy(buf, text, len);
    buf[len] = 0;
    return true;
}

/* "[-]digits" with at most 18 digits, which int64 always holds; false sends anything else
 * (longer, other signs, spaces) to strtoll. */
static bool fast_int(const char *p, const char *end, int64_t *out)
{
    bool neg = p < end && *p == '-';
    if (neg)
        p++;
    if (p >= end || end - p > 18)
        return false;
    int64_t v = 0;
    for (; p < end; p++) {
        unsigned d = (unsigned)(unsigned char)*p - '0';
        if (d > 9)
            return false;
        v = v * 10 + d;
    }
    *out = neg ? -v : v;
    return true;
}

static int decode_int(const char *text, size_t len, struct value *out, struct error *err)
{
    char buf[32], *e;
    int64_t i;
    if (fast_int(text, text + len, &i)) {
        out->kind = VALUE_INT;
        out->v.i = i;
        return 0;
    }
    if (!cstr(text, len, buf, sizeof buf) || len == 0)
        return bad(err, "integer", text, len);
    errno = 0;
    long long v = strtoll(buf, &e, 10);
    if (*e || errno)
        return bad(err, "integer", text, len);
    out->kind = VALUE_INT;
    out->v.i = v;
    return 0;
}

#if LDBL_MANT_DIG == 64
/*
 * "[-]digits[.digits][e[+-]digits]" with at most 19 significant digits m and a power of ten
 * |p| <= 27, as one x87 operation, m * 10^p or m / 10^-p: both operands are exact in its 64-bit
 * mantissa (5^27 < 2^64), so the result is m·10^p correctly rounded to 64 bits. Rounding that
 * to a double gives what strtod gives (the exact value rounded once) unless it lies exactly
 * halfway between two doubles (its low 11 mantissa bits 10000000000): only then may the exact
 * value be on the other side of that midpoint, and strtod decides. The server prints float8
 * with at most 17 significant digits (extra_float_digits=3), so nearly every value takes this
 * path rather than strtod's multi-precision one.
 */
static bool fast_double(const char *p, const char *end, double *out)
{
    static const long double pow10[] = {1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,
                                        1e7L,  1e8L,  1e9L,  1e10L, 1e11L, 1e12L, 1e13L,
                                        1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L, 1e20L,
                                        1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};
    bool neg = p < end && *p == '-';
    if (neg)
        p++;
    uint64_t m = 0;
    int sig = 0, scale = 0;
    bool any = false, point = false;
    for (; p < end; p++) {
        if (*p == '.' && !point) {
            point = true;
            continue;
        }
        unsigned d = (unsigned)(unsigned char)*p - '0';
        if (d > 9)
            break;
        any = true;
        if ((m || d) && ++sig > 19)
            return false;
        m = m * 10 + d;
        scale += point;
    }
    int e = 0;
    if (any && p < end && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = p < end && *p == '-';
        if (p < end && (*p == '-' || *p == '+'))
            p++;
        if (p >= end)
            return false;
        for (; p < end && e < 1000; p++) {
            unsigned d = (unsigned)(unsigned char)*p - '0';
            if (d > 9)
                return false;
            e = e * 10 + (int)d;
        }
        e = eneg ? -e : e;
    }
    int pw = e - scale;
    if (!any || p != end || pw < -27 || pw > 27)
        return false;
    long double q = pw < 0 ? (long double)m / pow10[-pw] : (long double)m * pow10[pw];
    uint64_t mant;
    memcpy(&mant, &q, sizeof mant);
    if ((mant & 0x7ff) == 0x400)
        return false;
    double v = (double)q;
    *out = neg ? -v : v;
    return true;
}
#endif

static int decode_float(enum value_kind kind, const char *text, size_t len, struct value *out,
                        struct error *err)
{
    char buf[64], *e;
    out->kind = kind;
#if LDBL_MANT_DIG == 64
    if (fast_double(text, text + len, &out->v.f))
        return 0;
#endif
    if (is_word(text, len, "NaN")) {
        out->v.f = NAN;
        return 0;
    }
    if (is_word(text, len, "Infinity") || is_word(text, len, "-Infinity")) {
        out->v.f = text[0] == '-' ? -INFINITY : INFINITY;
        return 0;
    }
    if (!cstr(text, len, buf, sizeof buf) || len == 0)
        return bad(err, "floating point", text, len);
    out->v.f = strtod(buf, &e);
    if (*e)
        return bad(err, "floating point", text, len);
    return 0;
}

/* numeric as it is; money ("-$1,234.56" with lc_monetary=C) without its sign and separators. */
static int decode_decimal(const char *text, size_t len, struct arena *a, struct value *out,
                          struct error *err)
{
    out->kind = VALUE_DECIMAL;
    out->v.s.i = 0;
    if (memchr(text, '$', len) == NULL) {
        bool special = is_word(text, len, "NaN") || is_word(text, len, "Infinity") ||
                       is_word(text, len, "-Infinity");
        for (size_t i = 0; i < len && !special; i++)
            if (!is_digit(text[i]) && text[i] != '-' && text[i] != '.')
                return bad(err, "numeric", text, len);
        if (len == 0)
            return bad(err, "numeric", text, len);
        out->v.s.p = text;
        out->v.s.len = len;
        return 0;
    }
    char *s = arena_alloc(a, len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (ch == '$' || ch == ',')
            continue;
        if (!is_digit(ch) && ch != '-' && ch != '.')
            return bad(err, "money", text, len);
        s[n++] = ch;
    }
    if (n == 0)
        return bad(err, "money", text, len);
    out->v.s.p = s;
    out->v.s.len = n;
    return 0;
}

static int decode_bytea(const char *text, size_t len, struct arena *a, struct value *out,
                        struct error *err)
{
    if (len < 2 || text[0] != '\\' || text[1] != 'x' || len % 2)
        return error_set(err, "bytea value is not in hex format (bytea_output must be hex)");
    size_t n = (len - 2) / 2;
    unsigned char *b = arena_alloc(a, n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        int hi = cursor_hex_digit(text[2 + 2 * i]), lo = cursor_hex_digit(text[3 + 2 * i]);
        if (hi < 0 || lo < 0)
            return bad(err, "bytea", text, len);
        b[i] = (unsigned char)(hi << 4 | lo);
    }
    out->kind = VALUE_BYTES;
    out->v.s.p = (const char *)b;
    out->v.s.len = n;
    out->v.s.i = 0;
    return 0;
}

/* Debezium's Bits: the bit string read as a number (last character = bit 0), little-endian,
 * as few bytes as its highest set bit needs (java.util.BitSet.toByteArray). */
static int decode_bits(const char *text, size_t len, struct arena *a, struct value *out,
                       struct error *err)
{
    unsigned char *b = arena_alloc(a, len / 8 + 1);
    size_t nbytes = 0;
    memset(b, 0, len / 8 + 1);
    for (size_t i = 0; i < len; i++) {
        char ch = text[len - 1 - i];
        if (ch != '0' && ch != '1')
            return bad(err, "bit", text, len);
        if (ch == '1') {
            b[i / 8] |= (unsigned char)(1u << (i % 8));
            nbytes = i / 8 + 1;
        }
    }
    out->kind = VALUE_BITS;
    out->v.s.p = (const char *)b;
    out->v.s.len = nbytes;
    out->v.s.i = (int64_t)len;
    return 0;
}

static int decode_bool(const char *text, size_t len, struct value *out, struct error *err)
{
    out->kind = VALUE_BOOL;
    if (is_word(text, len, "t") || is_word(text, len, "1"))
        out->v.b = true;
    else if (is_word(text, len, "f") || is_word(text, len, "0"))
        out->v.b = false;
    else
        return bad(err, "boolean", text, len);
    return 0;
}

/* ---- arrays ---- */

static int decode_scalar(enum value_kind kind, const char *text, size_t len, struct arena *a,
                         struct value *out, struct error *err);

/*
 * One-dimensional array text form: optional "[lo:hi]=" bounds, then "{e1,e2,...}" where an
 * element is NULL, a bare word (surrounding spaces ignored) or a double-quoted string with
 * backslash escapes.
 */
static int decode_array(enum value_kind elem_kind, const char *text, size_t len, struct arena *a,
                        struct value *out, struct error *err)
{
    const char *p = text, *end = text + len;
    if (p < end && *p == '[') {
        const char *eq = memchr(p, '=', len);
        if (eq == NULL)
            return bad(err, "array", text, len);
        p = eq + 1;
    }
    if (p >= end || *p != '{' || end[-1] != '}')
        return bad(err, "array", text, len);
    p++;
    end--;
    /* count elements generously: at most one per comma + 1 */
    size_t cap = 1;
    for (const char *q = p; q < end; q++)
        if (*q == ',')
            cap++;
    struct value *elems = arena_alloc(a, cap * sizeof *elems);
    size_t n = 0;
    while (p < end && isspace((unsigned char)*p))
        p++;
    if (p == end) {
        out->kind = VALUE_ARRAY;
        out->v.array.elems = elems;
        out->v.array.n = 0;
        return 0;
    }
    for (;;) {
        while (p < end && isspace((unsigned char)*p))
            p++;
        if (p >= end || n >= cap)
            return bad(err, "array", text, len);
        if (*p == '{')
            return error_set(err, "multi-dimensional array values are not supported: \"%.*s\"",
                             (int)(len > 64 ? 64 : len), text);
        const char *s;
        size_t sl;
        bool quoted = *p == '"';
        if (quoted) {
            char *buf = arena_alloc(a, (size_t)(end - p));
            size_t bl = 0;
            p++;
            while (p < end && *p != '"') {
                if (*p == '\\') {
                    p++;
                    if (p >= end)
                        return bad(err, "array", text, len);
                }
                buf[bl++] = *p++;
            }
            if (p >= end)
                return bad(err, "array", text, len);
            p++;
            s = buf;
            sl = bl;
        } else {
            s = p;
            while (p < end && *p != ',')
                p++;
            sl = (size_t)(p - s);
            while (sl > 0 && isspace((unsigned char)s[sl - 1]))
                sl--;
            if (sl == 0)
                return bad(err, "array", text, len);
        }
        if (!quoted && sl == 4 && strncasecmp(s, "NULL", 4) == 0)
            elems[n].kind = VALUE_NULL;
        else if (decode_scalar(elem_kind, s, sl, a, &elems[n], err) < 0)
            return -1;
        n++;
        while (p < end && isspace((unsigned char)*p))
            p++;
        if (p == end)
            break;
        if (*p != ',')
            return bad(err, "array", text, len);
        p++;
    }
    out->kind = VALUE_ARRAY;
    out->v.array.elems = elems;
    out->v.array.n = n;
    return 0;
}

static int decode_scalar(enum value_kind kind, const char *text, size_t len, struct arena *a,
                         struct value *out, struct error *err)
{
    switch (kind) {
    case VALUE_BOOL:
        return decode_bool(text, len, out, err);
    case VALUE_INT:
        return decode_int(text, len, out, err);
    case VALUE_FLOAT32:
    case VALUE_FLOAT64:
        return decode_float(kind, text, len, out, err);
    case VALUE_DECIMAL:
        return decode_decimal(text, len, a, out, err);
    case VALUE_BYTES:
        return decode_bytea(text, len, a, out, err);
    case VALUE_BITS:
        return decode_bits(text, len, a, out, err);
    case VALUE_DATE:
        return decode_date(text, len, out, err);
    case VALUE_TIME:
        return decode_time(text, len, out, err);
    case VALUE_DATETIME:
    case VALUE_TIMESTAMP:
        return decode_timestamp(kind, text, len, out, err);
    case VALUE_ZONED_TIME:
        return decode_timetz(text, len, a, out, err);
    case VALUE_INTERVAL:
        return decode_interval(text, len, out, err);
    case VALUE_STRING:
    case VALUE_JSON:
    case VALUE_ENUM:
    case VALUE_TEXT:
        out->kind = kind;
        out->v.s.p = text;
        out->v.s.len = len;
        out->v.s.i = 0;
        return 0;
    default:
        return error_set(err, "no text decoder for values of kind %s", schema_kind_name(kind));
    }
}

int pgtype_decode(enum value_kind kind, enum value_kind elem_kind, const char *text, size_t len,
                  struct arena *a, struct value *out, struct error *err)
{
    if (kind == VALUE_ARRAY)
        return decode_array(elem_kind, text, len, a, out, err);
    return decode_scalar(kind, text, len, a, out, err);
}

/* ---- COPY text format ---- */

static int octal(char ch)
{
    return ch >= '0' && ch <= '7' ? ch - '0' : -1;
}

/* Undoes COPY's escapes: \b \f \n \r \t \v, \ooo octal, \xhh hex, \c for any other c. */
static int unescape(const char *s, size_t len, struct arena *a, struct pgtype_field *f,
                    struct error *err)
{
    char *out = arena_alloc(a, len ? len : 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\\') {
            out[n++] = s[i];
            continue;
        }
        if (++i >= len)
            return error_set(err, "malformed COPY data: backslash at the end of a field");
        char ch = s[i];
        switch (ch) {
        case 'b':
            out[n++] = '\b';
            break;
        case 'f':
            out[n++] = '\f';
            break;
        case 'n':
            out[n++] = '\n';
            break;
        case 'r':
            out[n++] = '\r';
            break;
        case 't':
            out[n++] = '\t';
            break;
        case 'v':
            out[n++] = '\v';
            break;
        case 'x': {
            int v = 0, k = 0;
            while (k < 2 && i + 1 < len && cursor_hex_digit(s[i + 1]) >= 0) {
                v = v * 16 + cursor_hex_digit(s[++i]);
                k++;
            }
            if (k == 0)
                out[n++] = 'x';
            else
                out[n++] = (char)v;
            break;
        }
        default:
            if (octal(ch) >= 0) {
                int v = octal(ch), k = 1;
                while (k < 3 && i + 1 < len && octal(s[i + 1]) >= 0) {
                    v = v * 8 + octal(s[++i]);
                    k++;
                }
                out[n++] = (char)v;
            } else {
                out[n++] = ch;
            }
        }
    }
    f->data = out;
    f->len = n;
    return 0;
}

int pgtype_copy_fields(const char *line, size_t len, struct arena *a, struct pgtype_field *fields,
                       size_t n, struct error *err)
{
    const char *p = line, *end = line + len;
    size_t i = 0;
    for (;;) {
        if (i >= n)
            return error_set(err, "malformed COPY data: more than %zu fields", n);
        /* Two memchr find a field's end and whether it has escapes; with escapes (rare) it is
         * walked again, since an escaped tab does not end it. */
        const char *fe = memchr(p, '\t', (size_t)(end - p));
        if (fe == NULL)
            fe = end;
        const char *bs = memchr(p, '\\', (size_t)(fe - p));
        if (bs) {
            for (fe = bs; fe < end && *fe != '\t';)
                fe += *fe == '\\' && fe + 1 < end ? 2 : 1;
        }
        size_t fl = (size_t)(fe - p);
        if (fl == 2 && p[0] == '\\' && p[1] == 'N') {
            fields[i].data = NULL;
            fields[i].len = 0;
        } else if (bs) {
            if (unescape(p, fl, a, &fields[i], err) < 0)
                return -1;
        } else {
            fields[i].data = p;
            fields[i].len = fl;
        }
        i++;
        if (fe == end)
            break;
        p = fe + 1;
    }
    if (i != n)
        return error_set(err, "malformed COPY data: %zu fields, expected %zu", i, n);
    return 0;
}

/* ---- binary forms (COPY ... (FORMAT binary)) ---- */

/* Days and microseconds from PostgreSQL's epoch, 2000-01-01, to the Unix epoch. */
#define PG_EPOCH_DAYS 10957
#define PG_EPOCH_US   INT64_C(946684800000000)

bool pgtype_binary_ok(uint32_t oid, enum value_kind kind)
{
    switch (oid) {
    case 16:
        return kind == VALUE_BOOL;
    case 17:
        return kind == VALUE_BYTES;
    case 19:
    case 25:
    case 1042:
    case 1043:
    case 2950:
        return kind == VALUE_STRING;
    case 20:
    case 21:
    case 23:
        return kind == VALUE_INT;
    case 114:
    case 3802:
        return kind == VALUE_JSON;
    case 701:
        return kind == VALUE_FLOAT64;
    case 1082:
        return kind == VALUE_DATE;
    case 1114:
        return kind == VALUE_DATETIME;
    case 1184:
        return kind == VALUE_TIMESTAMP;
    case 1700:
        return kind == VALUE_DECIMAL;
    default: {
        /* an enum's OID is its own; enum_send sends the label */
        struct pgtype_base b;
        return kind == VALUE_ENUM && pgtype_builtin(oid, &b) < 0;
    }
    }
}

static int bad_binary(struct error *err, uint32_t oid, size_t len)
{
    struct pgtype_base b;
    return error_set(err, "malformed binary %s value (%zu bytes)",
                     pgtype_builtin(oid, &b) == 0 ? b.name : "enum", len);
}

/* numeric_send's form: ndigits, weight, sign, dscale, then ndigits base-10000 digits, the first
 * worth 10000^weight; as numeric_out prints it: no exponent, exactly dscale fraction digits. */
static int decode_numeric_binary(const uint8_t *data, size_t len, struct arena *a,
                                 struct value *out, struct error *err)
{
    struct cursor c;
    cursor_init(&c, data, len);
    uint16_t ndigits, weight_bits, sign, dscale;
    if (!cursor_u16be(&c, &ndigits) || !cursor_u16be(&c, &weight_bits) ||
        !cursor_u16be(&c, &sign) || !cursor_u16be(&c, &dscale) ||
        cursor_left(&c) != (size_t)ndigits * 2 || ndigits > 0x7fff || dscale > 0x3fff)
        return bad_binary(err, 1700, len);
    out->kind = VALUE_DECIMAL;
    out->v.s.i = 0;
    const char *special = sign == 0xC000   ? "NaN"
                          : sign == 0xD000 ? "Infinity"
                          : sign == 0xF000 ? "-Infinity"
                                           : NULL;
    if (special) {
        out->v.s.p = special;
        out->v.s.len = strlen(special);
        return 0;
    }
    if (sign != 0 && sign != 0x4000)
        return bad_binary(err, 1700, len);
    int weight = (int16_t)weight_bits;
    const uint8_t *digits = data + 8;
    /* The group of exponent e (10000^e) is digits[weight - e], or 0 outside them. */
    int top = weight < 0 ? 0 : weight;
    size_t cap = 1 + (size_t)(top + 1) * 4 + 1 + dscale;
    char *s = arena_alloc(a, cap), *p = s;
    if (sign == 0x4000)
        *p++ = '-';
    bool leading = true;
    for (int e = top; e >= -(int)((dscale + 3) / 4); e--) {
        unsigned g = 0;
        int i = weight - e;
        if (i >= 0 && i < ndigits) {
            g = (unsigned)digits[2 * i] << 8 | digits[2 * i + 1];
            if (g > 9999)
                return bad_binary(err, 1700, len);
        }
        char four[4] = {(char)('0' + g / 1000), (char)('0' + g / 100 % 10),
                        (char)('0' + g / 10 % 10), (char)('0' + g % 10)};
        if (e >= 0) {
            int from = 0;
            if (leading && e > 0 && g == 0)
                continue;
            if (leading)
                while (from < 3 && four[from] == '0')
                    from++;
            leading = false;
            memcpy(p, four + from, (size_t)(4 - from));
            p += 4 - from;
        } else {
            if (e == -1)
                *p++ = '.';
            size_t done = (size_t)(-e - 1) * 4, take = dscale - done < 4 ? dscale - done : 4;
            memcpy(p, four, take);
            p += take;
        }
    }
    /* Digits beyond dscale are never sent; more would be a malformed value. */
    for (int i = 0; i < ndigits; i++)
        if (weight - i < -(int)((dscale + 3) / 4) || (weight - i > top))
            return bad_binary(err, 1700, len);
    out->v.s.p = s;
    out->v.s.len = (size_t)(p - s);
    return 0;
}

static void uuid_text(const uint8_t *u, char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0, j = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            s[j++] = '-';
        s[j++] = hex[u[i] >> 4];
        s[j++] = hex[u[i] & 15];
    }
}

int pgtype_decode_binary(uint32_t oid, enum value_kind kind, const uint8_t *data, size_t len,
                         struct arena *a, struct value *out, struct error *err)
{
    struct cursor c;
    cursor_init(&c, data, len);
    out->kind = kind;
    switch (oid) {
    case 16: {
        uint8_t b;
        if (!cursor_u8(&c, &b) || len != 1)
            return bad_binary(err, oid, len);
        out->v.b = b != 0;
        return 0;
    }
    case 20:
    case 21:
    case 23: {
        uint16_t u16;
        uint32_t u32;
        uint64_t u64;
        if (oid == 21 && len == 2 && cursor_u16be(&c, &u16))
            out->v.i = (int16_t)u16;
        else if (oid == 23 && len == 4 && cursor_u32be(&c, &u32))
            out->v.i = (int32_t)u32;
        else if (oid == 20 && len == 8 && cursor_u64be(&c, &u64))
            out->v.i = (int64_t)u64;
        else
            return bad_binary(err, oid, len);
        return 0;
    }
    case 701: {
        uint64_t u;
        if (len != 8 || !cursor_u64be(&c, &u))
            return bad_binary(err, oid, len);
        memcpy(&out->v.f, &u, sizeof u);
        return 0;
    }
    case 1700:
        return decode_numeric_binary(data, len, a, out, err);
    case 1082: {
        uint32_t u;
        if (len != 4 || !cursor_u32be(&c, &u))
            return bad_binary(err, oid, len);
        int32_t d = (int32_t)u;
        if (d == INT32_MIN || d == INT32_MAX) {
            out->v.i = d;
            return 0;
        }
        int64_t days = (int64_t)d + PG_EPOCH_DAYS;
        if (days >= INT32_MAX || days <= INT32_MIN)
            return error_set(err, "date value is out of range (%" PRId32 " days from 2000-01-01)",
                             d);
        out->v.i = days;
        return 0;
    }
    case 1114:
    case 1184: {
        uint64_t u;
        if (len != 8 || !cursor_u64be(&c, &u))
            return bad_binary(err, oid, len);
        int64_t t = (int64_t)u, v;
        if (t == INT64_MIN || t == INT64_MAX) {
            out->v.i = t;
            return 0;
        }
        if (__builtin_add_overflow(t, PG_EPOCH_US, &v) || v == INT64_MIN || v == INT64_MAX)
            return error_set(err, "%s value is out of range",
                             oid == 1184 ? "timestamptz" : "timestamp");
        out->v.i = v;
        return 0;
    }
    case 17:
        out->v.s.p = (const char *)data;
        out->v.s.len = len;
        out->v.s.i = 0;
        return 0;
    case 2950: {
        if (len != 16)
            return bad_binary(err, oid, len);
        char *s = arena_alloc(a, 36);
        uuid_text(data, s);
        out->v.s.p = s;
        out->v.s.len = 36;
        out->v.s.i = 0;
        return 0;
    }
    case 3802: {
        uint8_t version;
        if (!cursor_u8(&c, &version) || version != 1)
            return error_set(err, "binary jsonb value of version %d, only version 1 is known",
                             len ? data[0] : -1);
        out->v.s.p = (const char *)data + 1;
        out->v.s.len = len - 1;
        out->v.s.i = 0;
        return 0;
    }
    default:
        if (!pgtype_binary_ok(oid, kind))
            return error_set(err, "no binary decoder for type OID %" PRIu32, oid);
        out->v.s.p = (const char *)data;
        out->v.s.len = len;
        out->v.s.i = 0;
        return 0;
    }
}

/* "PGCOPY\n\377\r\n\0", flags, header extension length. */
static const uint8_t copy_signature[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0377, '\r', '\n', 0};

int pgtype_copy_binary_header(const char *msg, size_t len, size_t *header_len, struct error *err)
{
    struct cursor c;
    cursor_init(&c, msg, len);
    const uint8_t *sig;
    uint32_t flags, ext;
    if (!cursor_bytes(&c, sizeof copy_signature, &sig) ||
        memcmp(sig, copy_signature, sizeof copy_signature) != 0)
        return error_set(err, "malformed binary COPY data: no PGCOPY signature");
    if (!cursor_u32be(&c, &flags) || !cursor_u32be(&c, &ext) || !cursor_skip(&c, ext))
        return error_set(err, "malformed binary COPY data: header cut at byte %zu", c.off);
    /* Bits 16-31 are critical: a reader that does not know one must stop (bit 16: OIDs). */
    if (flags & 0xffff0000u)
        return error_set(err,
                         "binary COPY data with flags 0x%08" PRIx32 ", which dbtail does "
                         "not know",
                         flags);
    *header_len = c.off;
    return 0;
}

int pgtype_copy_binary_fields(const char *msg, size_t len, struct pgtype_field *fields, size_t n,
                              struct error *err)
{
    struct cursor c;
    cursor_init(&c, msg, len);
    uint16_t count;
    if (!cursor_u16be(&c, &count))
        return error_set(err, "malformed binary COPY data: a tuple of %zu bytes", len);
    if (count == 0xffff) {
        if (cursor_left(&c) != 0)
            return error_set(err, "malformed binary COPY data: %zu bytes after the trailer",
                             cursor_left(&c));
        return 1;
    }
    if (count != n)
        return error_set(err, "malformed binary COPY data: %u fields, expected %zu", count, n);
    for (size_t i = 0; i < n; i++) {
        uint32_t flen;
        const uint8_t *p;
        if (!cursor_u32be(&c, &flen))
            return error_set(err, "malformed binary COPY data: field %zu cut at byte %zu", i + 1,
                             c.off);
        if (flen == 0xffffffffu) {
            fields[i].data = NULL;
            fields[i].len = 0;
            continue;
        }
        if (flen > 0x7fffffffu || !cursor_bytes(&c, flen, &p))
            return error_set(err,
                             "malformed binary COPY data: field %zu of %" PRIu32
                             " bytes at byte %zu overruns the tuple",
                             i + 1, flen, c.off);
        fields[i].data = (const char *)p;
        fields[i].len = flen;
    }
    if (cursor_left(&c) != 0)
        return error_set(err, "malformed binary COPY data: %zu bytes after the last field",
                         cursor_left(&c));
    return 0;
}
