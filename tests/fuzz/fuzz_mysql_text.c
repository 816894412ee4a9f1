/* libFuzzer target: the server's text values of a snapshot (mysql_text_value in
 * schemas/mysql_schema.c). The first byte picks the column type, the rest is the value's text.
 * A DOUBLE the fast path reads must be the double strtod reads. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../schemas/mysql_schema.h"
#include "../../src/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct binlog_column cols[] = {
    {.type = BT_TINY},
    {.type = BT_LONG, .is_unsigned = 1},
    {.type = BT_LONGLONG},
    {.type = BT_LONGLONG, .is_unsigned = 1},
    {.type = BT_YEAR},
    {.type = BT_FLOAT},
    {.type = BT_DOUBLE},
    {.type = BT_NEWDECIMAL},
    {.type = BT_BIT, .meta = 1},
    {.type = BT_BIT, .meta = 1 << 8 | 2},
    {.type = BT_DATE},
    {.type = BT_TIME2, .meta = 6},
    {.type = BT_DATETIME2, .meta = 6},
    {.type = BT_TIMESTAMP2},
    {.type = BT_VARCHAR},
    {.type = BT_STRING, .real_type = BT_ENUM},
    {.type = BT_STRING, .real_type = BT_SET},
    {.type = BT_BLOB, .collation = BINLOG_COLLATION_BINARY},
    {.type = BT_JSON},
    {.type = BT_GEOMETRY},
};
#define NCOLS (sizeof cols / sizeof cols[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const struct binlog_column *c = &cols[data[0] % NCOLS];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    struct arena *a = arena_new();
    struct error err;
    struct value v;
    if (mysql_text_value(c, text, len, a, &v, &err) == 0 && c->type == BT_DOUBLE) {
        char *s = malloc(len + 1);
        memcpy(s, text, len);
        s[len] = '\0';
        double want = strtod(s, NULL);
        free(s);
        if (memcmp(&v.v.f, &want, sizeof want) != 0)
            abort();
    }
    arena_free(a);
    return 0;
}
