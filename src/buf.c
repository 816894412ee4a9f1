/* buf: growable buffer and JSON writers (see buf.h). */
#include "buf.h"

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

void buf_reserve(struct buf *b, size_t n)
{
    if (b->len + n + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
        cap *= 2;
    b->data = mem_realloc(b->data, cap);
    b->cap = cap;
}

void buf_append(struct buf *b, const void *data, size_t len)
{
    buf_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
    buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
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

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when it is not valid. */
static size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

void buf_json_str(struct buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    buf_reserve(b, len + 2);
    buf_putc(b, '"');
    while (i < len) {
        size_t run = i;
        while (run < len && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > i) {
            buf_append(b, p + i, run - i);
            i = run;
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
            size_t n = utf8_seq_len(p + i, len - i);
            if (n == 0) {
                buf_append(b, "\xEF\xBF\xBD", 3);
                i++;
            } else {
                buf_append(b, p + i, n);
                i += n;
            }
        }
    }
    buf_putc(b, '"');
}

void buf_json_int(struct buf *b, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    buf_append(b, tmp, (size_t)n);
}

void buf_json_uint(struct buf *b, uint64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    buf_append(b, tmp, (size_t)n);
}

/*
 * Java's Double.toString/Float.toString layout (what Jackson writes): the shortest digits that
 * read back to the same value, in plain notation with at least one fractional digit when
 * 1e-3 <= |v| < 1e7, else as d.dddE±n.
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
    for (int prec = 1; prec <= max_digits; prec++) {
        char tmp[48];
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        int same = is_float ? ((float)strtod(tmp, NULL) == (float)v) : (strtod(tmp, NULL) == v);
        if (same || prec == max_digits) {
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

void buf_json_base64(struct buf *b, const void *data, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
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
