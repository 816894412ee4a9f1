/*
 * cursor: bounded reads from untrusted bytes (binlog events, pgoutput messages, HTTP bodies).
 * Every read checks the remaining length first and returns false instead of reading past the
 * end; a parser tests each result and fails with the offset (`cur.off`) in its message.
 * The cursor borrows the bytes; it never copies or frees them.
 */
#ifndef DBTAIL_CURSOR_H
#define DBTAIL_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct cursor {
    const uint8_t *data; /* borrowed */
    size_t len;
    size_t off;
};

/* The fixed-width reads are inline: parsers call them per field of every row, and a call costs
 * more than the read. Byte by byte, so that they are right on any host; compilers make one load
 * of them. */

static inline void cursor_init(struct cursor *c, const void *data, size_t len)
{
    c->data = data;
    c->len = len;
    c->off = 0;
}

/** Bytes left to read. */
static inline size_t cursor_left(const struct cursor *c)
{
    return c->len - c->off;
}

DBT_MUSTCHECK static inline bool cursor_skip(struct cursor *c, size_t n)
{
    if (n > cursor_left(c))
        return false;
    c->off += n;
    return true;
}

DBT_MUSTCHECK static inline bool cursor_u8(struct cursor *c, uint8_t *v)
{
    if (cursor_left(c) < 1)
        return false;
    *v = c->data[c->off++];
    return true;
}

/** Unsigned little-endian integer of n bytes (1..8). */
DBT_MUSTCHECK static inline bool cursor_uintle(struct cursor *c, size_t n, uint64_t *v)
{
    if (n == 0 || n > 8 || n > cursor_left(c))
        return false;
    const uint8_t *p = c->data + c->off;
    uint64_t r;
    /* the common widths with constant shifts, which compilers make one load: the byte loop
     * cost more than the rest of an integer column of a binlog row */
    switch (n) {
    case 1:
        r = p[0];
        break;
    case 2:
        r = (uint64_t)p[0] | (uint64_t)p[1] << 8;
        break;
    case 3:
        r = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16;
        break;
    case 4:
        r = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
        break;
    case 8:
        r = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
            (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
            (uint64_t)p[7] << 56;
        break;
    default:
        r = 0;
        for (size_t i = 0; i < n; i++)
            r |= (uint64_t)p[i] << (8 * i);
    }
    c->off += n;
    *v = r;
    return true;
}

DBT_MUSTCHECK static inline bool cursor_u16le(struct cursor *c, uint16_t *v)
{
    if (cursor_left(c) < 2)
        return false;
    const uint8_t *p = c->data + c->off;
    *v = (uint16_t)(p[0] | p[1] << 8);
    c->off += 2;
    return true;
}

DBT_MUSTCHECK static inline bool cursor_u24le(struct cursor *c, uint32_t *v)
{
    uint64_t r;
    if (!cursor_uintle(c, 3, &r))
        return false;
    *v = (uint32_t)r;
    return true;
}

DBT_MUSTCHECK static inline bool cursor_u32le(struct cursor *c, uint32_t *v)
{
    if (cursor_left(c) < 4)
        return false;
    const uint8_t *p = c->data + c->off;
    *v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    c->off += 4;
    return true;
}

DBT_MUSTCHECK static inline bool cursor_u48le(struct cursor *c, uint64_t *v)
{
    return cursor_uintle(c, 6, v);
}

DBT_MUSTCHECK static inline bool cursor_u64le(struct cursor *c, uint64_t *v)
{
    if (cursor_left(c) < 8)
        return false;
    const uint8_t *p = c->data + c->off;
    uint64_t r = 0;
    for (int i = 7; i >= 0; i--)
        r = r << 8 | p[i];
    *v = r;
    c->off += 8;
    return true;
}

DBT_MUSTCHECK static inline bool cursor_u16be(struct cursor *c, uint16_t *v)
{
    if (cursor_left(c) < 2)
        return false;
    const uint8_t *p = c->data + c->off;
    *v = (uint16_t)(p[0] << 8 | p[1]);
    c->off += 2;
    return true;
}

DBT_MUSTCHECK static inline bool cursor_u32be(struct cursor *c, uint32_t *v)
{
    if (cursor_left(c) < 4)
        return false;
    const uint8_t *p = c->data + c->off;
    *v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
    c->off += 4;
    return true;
}

DBT_MUSTCHECK static inline bool cursor_u64be(struct cursor *c, uint64_t *v)
{
    if (cursor_left(c) < 8)
        return false;
    const uint8_t *p = c->data + c->off;
    uint64_t r = 0;
    for (int i = 0; i < 8; i++)
        r = r << 8 | p[i];
    *v = r;
    c->off += 8;
    return true;
}

/** Points *p at the next n bytes (borrowed from the cursor's data) and moves past them. */
DBT_MUSTCHECK static inline bool cursor_bytes(struct cursor *c, size_t n, const uint8_t **p)
{
    if (n > cursor_left(c))
        return false;
    /* An empty cursor may have no data at all; NULL + 0 is still undefined in C. */
    *p = c->data ? c->data + c->off : c->data;
    c->off += n;
    return true;
}

/** MySQL length-encoded integer (0xFB is not accepted: NULL has no meaning here). */
DBT_MUSTCHECK bool cursor_lenenc(struct cursor *c, uint64_t *v);
/** A NUL-terminated string: *s points into the data, *len excludes the NUL, which is skipped. */
DBT_MUSTCHECK bool cursor_cstr(struct cursor *c, const char **s, size_t *len);

/** The value of a hexadecimal digit (either case), or -1 for any other character. */
int cursor_hex_digit(char ch);

#endif
