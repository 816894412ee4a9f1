/* buf: growable buffer and JSON writers (see buf.h). */
#include "buf.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

void buf_init(struct buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_free(struct buf *b)
{
    free(b->data);
    buf_init(b);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buf_grow(struct buf *b, size_t n)
{
    if (n >= SIZE_MAX - b->len) {
        /* No allocation could hold it: the same fate as out of memory (see mem.h). */
        fprintf(stderr, "dbtail: buffer size overflow (%zu + %zu bytes)\n", b->len, n);
        abort();
    }
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    b->data = mem_realloc(b->data, cap);
    b->cap = cap;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *buf_take(struct buf *b)
{
    char *data = b->data ? b->data : mem_strdup("");
    buf_init(b);
    return data;
}

/*
 * The UTF-8 sequence at s: its length (1-4) when valid, else minus the length of its "maximal
 * subpart" (a lead byte and the continuation bytes that fit it before the sequence broke off),
 * which gets one U+FFFD as Java's decoder and the Unicode standard's practice do.
 */
static int utf8_seq(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    int n;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong below */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates above */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return -1;
    }
    for (int i = 1; i < n; i++) {
        if ((size_t)i >= avail)
            return -i;
        unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xBF;
        if (s[i] < min || s[i] > max)
            return -i;
    }
    return n;
}

/*
 * Records are mostly runs of bytes that go out as they are: not a control character, quote,
 * backslash or non-ASCII byte (whose UTF-8 must be checked). This finds them eight at a time:
 * the high bit of a byte of the result is set when the byte is below 0x20 (w - 0x20), a quote or
 * backslash (zero after the XOR, minus 1) or non-ASCII (w). A borrow out of such a byte can set
 * the bit of a later byte too, never of an earlier one, so the first set bit marks the first
 * byte to stop at.
 */
static uint64_t stop_bytes(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
    return ((w - ones * 0x20) | (quote - ones) | (backslash - ones) | w) & high;
}

/* The index in the word of the first byte stop_bytes marked. */
static size_t first_stop(uint64_t stops)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return (size_t)__builtin_clzll(stops) / 8;
#else
    return (size_t)__builtin_ctzll(stops) / 8;
#endif
}

void buf_json_str(struct buf *b, const char *s, size_t len)
{
    /* Upper case, as Jackson writes \u escapes. */
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    buf_reserve(b, len + 2);
    buf_putc(b, '"');
    while (i < len) {
        if (len - i >= 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            uint64_t stops = stop_bytes(w);
            size_t run = stops ? first_stop(stops) : 8;
            /* The whole word is stored (one move, no call); only its plain bytes count. */
            buf_reserve(b, 8);
            memcpy(b->data + b->len, &w, 8);
            b->len += run;
            i += run;
            if (run == 8)
                continue;
        } else if (p[i] >= 0x20 && p[i] < 0x80 && p[i] != '"' && p[i] != '\\') {
            buf_putc(b, (char)p[i++]);
            continue;
        }
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            buf_append(b, esc, 2);
            i++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n':
                buf_append(b, "\\n", 2);
                break;
            case '\r':
                buf_append(b, "\\r", 2);
                break;
            case '\t':
                buf_append(b, "\\t", 2);
                break;
            case '\b':
                buf_append(b, "\\b", 2);
                break;
            case '\f':
                buf_append(b, "\\f", 2);
                break;
            default: {
                char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
                buf_append(b, esc, 6);
            }
            }
            i++;
        } else {
            int n = utf8_seq(p + i, len - i);
            if (n < 0) {
                buf_append(b, "\xEF\xBF\xBD", 3);
                i += (size_t)-n;
            } else {
                buf_append(b, p + i, (size_t)n);
                i += (size_t)n;
            }
        }
    }
    buf_putc(b, '"');
}

/* Decimal integers without printf, which dominated the cost of a record. */
void buf_json_uint(struct buf *b, uint64_t v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930"
                                "31323334353637383940414243444546474849505152535455565758596061"
                                "6263646566676869707172737475767778798081828384858687888990919293"
                                "949596979899";
    char tmp[24];
    char *p = tmp + sizeof tmp;
    while (v >= 100) {
        unsigned k = (unsigned)(v % 100) * 2;
        v /= 100;
        *--p = pairs[k + 1];
        *--p = pairs[k];
    }
    if (v >= 10) {
        *--p = pairs[v * 2 + 1];
        *--p = pairs[v * 2];
    } else {
        *--p = (char)('0' + v);
    }
    buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

void buf_json_int(struct buf *b, int64_t v)
{
    if (v < 0) {
        buf_putc(b, '-');
        buf_json_uint(b, (uint64_t)0 - (uint64_t)v);
    } else {
        buf_json_uint(b, (uint64_t)v);
    }
}

/* True when the decimal text reads back as v (as a float when is_float). */
static int reads_back(const char *text, double v, int is_float)
{
    return is_float ? strtof(text, NULL) == (float)v : strtod(text, NULL) == v;
}

/*
 * The digits of a normal double v > 0 written by people or databases as a short decimal
 * m / 10^k, found without printf: when one with m < 10^15 reads back as v it is the only decimal
 * of at most 15 digits that does (see put_java_decimal), so the conversions would find it too.
 * m / 10^k computed from exact operands is correctly rounded, the value strtod reads for it; and
 * v * 10^k lies within 0.25 of m, so rounding it finds m. Returns 0 when there is no such m.
 */
static int short_decimal(double v, char *digits, int *ndigits, int *exp10)
{
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    for (int k = 0; k < (int)(sizeof p10 / sizeof p10[0]); k++) {
        double t = v * p10[k];
        if (t >= 1e15)
            return 0;
        double r = floor(t + 0.5);
        if (r == 0 || r / p10[k] != v)
            continue;
        uint64_t m = (uint64_t)r;
        int zeros = 0;
        while (m % 10 == 0) {
            m /= 10;
            zeros++;
        }
        char tmp[20];
        int n = 0;
        for (; m > 0; m /= 10)
            tmp[n++] = (char)('0' + m % 10);
        for (int i = 0; i < n; i++)
            digits[i] = tmp[n - 1 - i];
        *ndigits = n;
        *exp10 = n - 1 + zeros - k;
        return 1;
    }
    return 0;
}

/*
 * Java's Double.toString/Float.toString (JDK 19+, what Jackson writes): the shortest digits that
 * read back to the same value, the closest of them to the value; when one digit would do, the
 * closest of one or two digits (4.9E-324, not 5.0E-324). Plain notation with at least one
 * fractional digit when 1e-3 <= |v| < 1e7, else d.dddE±n.
 */
static void put_java_decimal(struct buf *b, double v, int max_digits, int is_float)
{
    char digits[40];
    int exp10 = 0;
    int ndigits = 0;

    if (isnan(v)) {
        buf_puts(b, "\"NaN\"");
        return;
    }
    if (isinf(v)) {
        buf_puts(b, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    if (v == 0) {
        buf_puts(b, signbit(v) ? "-0.0" : "0.0");
        return;
    }
    if (v < 0) {
        buf_putc(b, '-');
        v = -v;
    }
    /*
     * A double's half-ulp is under 2^-53 of its value, less than half the spacing of 15-digit
     * decimals; so when some decimal of at most 15 digits reads back as v, rounding v to 15
     * digits gives exactly that decimal padded with zeros. One conversion then finds the
     * shortest form for nearly all values, and longer forms are only tried when it fails.
     * (Floats: 2^-24 against 6 digits.) Subnormals have fewer bits and start from 1 digit.
     */
    int first = max_digits == 17 ? 15 : 6;
    if (v < (is_float ? (double)FLT_MIN : DBL_MIN))
        first = 1;
    int found = !is_float && v >= DBL_MIN && short_decimal(v, digits, &ndigits, &exp10);
    /* Between 1e-7 and 1e15 every decimal of at most 15 digits is some m / 10^k that
     * short_decimal tried (k <= 22), so none reads back and 15 digits would fail too. */
    if (!found && !is_float && v >= 1e-7 && v < 1e15)
        first = 16;
    for (int prec = first; !found && prec <= max_digits; prec++) {
        char tmp[48];
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        int same = prec == max_digits || reads_back(tmp, v, is_float);
        if (same) {
            char *e = strchr(tmp, 'e');
            exp10 = atoi(e + 1);
            ndigits = 0;
            for (char *p = tmp; p < e; p++)
                if (*p >= '0' && *p <= '9')
                    digits[ndigits++] = *p;
            break;
        }
    }
    while (ndigits > 1 && digits[ndigits - 1] == '0')
        ndigits--;
    /* (When short_decimal found one digit, no other decimal of two reads back.) */
    if (ndigits == 1 && !found) {
        /* Java never prints a one-digit form where a two-digit one reads back: 4.9E-324. */
        char two[48];
        snprintf(two, sizeof two, "%.1e", v);
        if (reads_back(two, v, is_float) && two[2] != '0') {
            digits[0] = two[0];
            digits[1] = two[2];
            ndigits = 2;
            exp10 = atoi(strchr(two, 'e') + 1);
        }
    }

    if (v >= 1e-3 && v < 1e7) {
        if (exp10 >= 0) {
            for (int i = 0; i <= exp10; i++)
                buf_putc(b, i < ndigits ? digits[i] : '0');
            buf_putc(b, '.');
            if (ndigits > exp10 + 1)
                buf_append(b, digits + exp10 + 1, (size_t)(ndigits - exp10 - 1));
            else
                buf_putc(b, '0');
        } else {
            buf_puts(b, "0.");
            for (int i = 0; i < -exp10 - 1; i++)
                buf_putc(b, '0');
            buf_append(b, digits, (size_t)ndigits);
        }
    } else {
        buf_putc(b, digits[0]);
        buf_putc(b, '.');
        if (ndigits > 1)
            buf_append(b, digits + 1, (size_t)(ndigits - 1));
        else
            buf_putc(b, '0');
        buf_printf(b, "E%d", exp10);
    }
}

void buf_json_double(struct buf *b, double v)
{
    put_java_decimal(b, v, 17, 0);
}

void buf_json_float(struct buf *b, float v)
{
    put_java_decimal(b, (double)v, 9, 1);
}

static void put_base64(struct buf *b, const void *data, size_t len, const char *alphabet)
{
    const unsigned char *p = data;
    size_t i = 0;

    buf_reserve(b, (len + 2) / 3 * 4 + 2);
    buf_putc(b, '"');
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        char out[4] = {alphabet[v >> 18], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63],
                       alphabet[v & 63]};
        buf_append(b, out, 4);
    }
    if (i < len) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
        char out[4] = {alphabet[v >> 18], alphabet[(v >> 12) & 63],
                       i + 1 < len ? alphabet[(v >> 6) & 63] : '=', '='};
        buf_append(b, out, 4);
    }
    buf_putc(b, '"');
}

void buf_json_base64(struct buf *b, const void *data, size_t len)
{
    put_base64(b, data, len, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
}

void buf_json_base64url(struct buf *b, const void *data, size_t len)
{
    put_base64(b, data, len, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
}
