/* cursor: length-checked reads (see cursor.h). */
#include "cursor.h"

#include <string.h>

void cursor_init(struct cursor *c, const void *data, size_t len)
{
    c->data = data;
    c->len = len;
    c->off = 0;
}

size_t cursor_left(const struct cursor *c)
{
    return c->len - c->off;
}

bool cursor_skip(struct cursor *c, size_t n)
{
    if (n > cursor_left(c))
        return false;
    c->off += n;
    return true;
}

bool cursor_uintle(struct cursor *c, size_t n, uint64_t *v)
{
    if (n == 0 || n > 8 || n > cursor_left(c))
        return false;
    uint64_t r = 0;
    for (size_t i = 0; i < n; i++)
        r |= (uint64_t)c->data[c->off + i] << (8 * i);
    c->off += n;
    *v = r;
    return true;
}

bool cursor_u8(struct cursor *c, uint8_t *v)
{
    if (cursor_left(c) < 1)
        return false;
    *v = c->data[c->off++];
    return true;
}

bool cursor_u16le(struct cursor *c, uint16_t *v)
{
    uint64_t r;
    if (!cursor_uintle(c, 2, &r))
        return false;
    *v = (uint16_t)r;
    return true;
}

bool cursor_u24le(struct cursor *c, uint32_t *v)
{
    uint64_t r;
    if (!cursor_uintle(c, 3, &r))
        return false;
    *v = (uint32_t)r;
    return true;
}

bool cursor_u32le(struct cursor *c, uint32_t *v)
{
    uint64_t r;
    if (!cursor_uintle(c, 4, &r))
        return false;
    *v = (uint32_t)r;
    return true;
}

bool cursor_u48le(struct cursor *c, uint64_t *v)
{
    return cursor_uintle(c, 6, v);
}

bool cursor_u64le(struct cursor *c, uint64_t *v)
{
    return cursor_uintle(c, 8, v);
}

static bool cursor_uintbe(struct cursor *c, size_t n, uint64_t *v)
{
    if (n > cursor_left(c))
        return false;
    uint64_t r = 0;
    for (size_t i = 0; i < n; i++)
        r = (r << 8) | c->data[c->off + i];
    c->off += n;
    *v = r;
    return true;
}

bool cursor_u16be(struct cursor *c, uint16_t *v)
{
    uint64_t r;
    if (!cursor_uintbe(c, 2, &r))
        return false;
    *v = (uint16_t)r;
    return true;
}

bool cursor_u32be(struct cursor *c, uint32_t *v)
{
    uint64_t r;
    if (!cursor_uintbe(c, 4, &r))
        return false;
    *v = (uint32_t)r;
    return true;
}

bool cursor_u64be(struct cursor *c, uint64_t *v)
{
    return cursor_uintbe(c, 8, v);
}

bool cursor_lenenc(struct cursor *c, uint64_t *v)
{
    uint8_t first;
    if (!cursor_u8(c, &first))
        return false;
    if (first < 0xFB) {
        *v = first;
        return true;
    }
    switch (first) {
    case 0xFC:
        return cursor_uintle(c, 2, v);
    case 0xFD:
        return cursor_uintle(c, 3, v);
    case 0xFE:
        return cursor_uintle(c, 8, v);
    default:
        return false;
    }
}

bool cursor_bytes(struct cursor *c, size_t n, const uint8_t **p)
{
    if (n > cursor_left(c))
        return false;
    /* An empty cursor may have no data at all; NULL + 0 is still undefined in C. */
    *p = c->data ? c->data + c->off : c->data;
    c->off += n;
    return true;
}

bool cursor_cstr(struct cursor *c, const char **s, size_t *len)
{
    if (cursor_left(c) == 0)
        return false;
    const uint8_t *start = c->data + c->off;
    const uint8_t *nul = memchr(start, '\0', cursor_left(c));
    if (nul == NULL)
        return false;
    *s = (const char *)start;
    *len = (size_t)(nul - start);
    c->off += *len + 1;
    return true;
}

int cursor_hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}
