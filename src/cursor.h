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

void cursor_init(struct cursor *c, const void *data, size_t len);
/** Bytes left to read. */
size_t cursor_left(const struct cursor *c);

DBT_MUSTCHECK bool cursor_skip(struct cursor *c, size_t n);
DBT_MUSTCHECK bool cursor_u8(struct cursor *c, uint8_t *v);
DBT_MUSTCHECK bool cursor_u16le(struct cursor *c, uint16_t *v);
DBT_MUSTCHECK bool cursor_u24le(struct cursor *c, uint32_t *v);
DBT_MUSTCHECK bool cursor_u32le(struct cursor *c, uint32_t *v);
DBT_MUSTCHECK bool cursor_u48le(struct cursor *c, uint64_t *v);
DBT_MUSTCHECK bool cursor_u64le(struct cursor *c, uint64_t *v);
/** Unsigned little-endian integer of n bytes (1..8). */
DBT_MUSTCHECK bool cursor_uintle(struct cursor *c, size_t n, uint64_t *v);
DBT_MUSTCHECK bool cursor_u16be(struct cursor *c, uint16_t *v);
DBT_MUSTCHECK bool cursor_u32be(struct cursor *c, uint32_t *v);
DBT_MUSTCHECK bool cursor_u64be(struct cursor *c, uint64_t *v);
/** MySQL length-encoded integer (0xFB is not accepted: NULL has no meaning here). */
DBT_MUSTCHECK bool cursor_lenenc(struct cursor *c, uint64_t *v);
/** Points *p at the next n bytes (borrowed from the cursor's data) and moves past them. */
DBT_MUSTCHECK bool cursor_bytes(struct cursor *c, size_t n, const uint8_t **p);
/** A NUL-terminated string: *s points into the data, *len excludes the NUL, which is skipped. */
DBT_MUSTCHECK bool cursor_cstr(struct cursor *c, const char **s, size_t *len);

/** The value of a hexadecimal digit (either case), or -1 for any other character. */
int cursor_hex_digit(char ch);

#endif
