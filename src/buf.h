/*
 * buf: a growable byte buffer, always NUL-terminated, and the JSON text writers built on it.
 * Event rendering writes JSON straight into a buf (fixed key order, shortest round-trip
 * doubles, exact decimals as strings), which is both faster than building a jansson tree and
 * the only way to print doubles the way Debezium's Jackson does.
 */
#ifndef DBTAIL_BUF_H
#define DBTAIL_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "error.h"

struct buf {
    char *data; /* owned; NUL-terminated; NULL until the first append */
    size_t len;
    size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
/** Empties the buffer, keeping its memory for reuse. */
void buf_reset(struct buf *b);
/** The slow path of buf_reserve: grows the buffer to hold n more bytes and the NUL. */
void buf_grow(struct buf *b, size_t n);

/*
 * Rendering appends a record in many tiny pieces, mostly of constant length: inline, each is
 * a compare, a copy the compiler sizes and a NUL store, with a call only when the buffer grows.
 */

/** Makes room for n more bytes. */
static inline void buf_reserve(struct buf *b, size_t n)
{
    if (b->cap - b->len <= n)
        buf_grow(b, n);
}

static inline void buf_append(struct buf *b, const void *data, size_t len)
{
    buf_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

static inline void buf_puts(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

static inline void buf_putc(struct buf *b, char c)
{
    buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void buf_printf(struct buf *b, const char *fmt, ...) DBT_PRINTF(2, 3);
/** Hands the data to the caller (free() it) and leaves the buffer empty. */
char *buf_take(struct buf *b);

/** "00" to "99", to print numbers two digits at a time. */
extern const char buf_digit_pairs[201];
/** 10^0 to 10^19. */
extern const uint64_t buf_pow10[20];

/** Appends s as a quoted JSON string (bytes that are not valid UTF-8 become U+FFFD). */
void buf_json_str(struct buf *b, const char *s, size_t len);
void buf_json_int(struct buf *b, int64_t v);
void buf_json_uint(struct buf *b, uint64_t v);
/** Shortest text that reads back as the same double; NaN/Infinity as Jackson writes them. */
void buf_json_double(struct buf *b, double v);
/** Same for a 32-bit float, as Java's Float.toString would round it. */
void buf_json_float(struct buf *b, float v);
/** Appends the standard base64 (with padding) of data, quoted. */
void buf_json_base64(struct buf *b, const void *data, size_t len);
/** The same in the URL-safe alphabet ("-_" for "+/"), as java.util.Base64's URL encoder. */
void buf_json_base64url(struct buf *b, const void *data, size_t len);

#endif
