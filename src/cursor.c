/* cursor: length-checked reads (see cursor.h). */
#include "cursor.h"

#include <string.h>

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
