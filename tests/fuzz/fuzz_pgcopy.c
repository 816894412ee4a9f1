/* libFuzzer target: binary COPY messages and binary values (readers/pg_types.c). The first byte
 * picks the type every field is decoded as, the second the field count; the rest is one COPY
 * message, which may start with the COPY header as a chunk's first message does. A numeric's
 * binary form must give text the text decoder accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../readers/pg_types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
    uint32_t oid;
    enum value_kind kind;
} types[] = {
    {16, VALUE_BOOL},    {17, VALUE_BYTES},    {19, VALUE_STRING},     {20, VALUE_INT},
    {21, VALUE_INT},     {23, VALUE_INT},      {25, VALUE_STRING},     {114, VALUE_JSON},
    {701, VALUE_FLOAT64}, {1042, VALUE_STRING}, {1043, VALUE_STRING},  {1082, VALUE_DATE},
    {1114, VALUE_DATETIME}, {1184, VALUE_TIMESTAMP}, {1700, VALUE_DECIMAL}, {2950, VALUE_STRING},
    {3802, VALUE_JSON},  {16384, VALUE_ENUM},
};
#define NTYPES (sizeof types / sizeof types[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint32_t oid = types[data[0] % NTYPES].oid;
    enum value_kind kind = types[data[0] % NTYPES].kind;
    size_t n = data[1];
    const char *msg = (const char *)data + 2;
    size_t len = size - 2, skip;
    struct error err;
    if (pgtype_copy_binary_header(msg, len, &skip, &err) == 0) {
        msg += skip;
        len -= skip;
    }
    struct arena *a = arena_new();
    struct pgtype_field *f = arena_alloc(a, (n ? n : 1) * sizeof *f);
    if (pgtype_copy_binary_fields(msg, len, f, n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            struct value v, t;
            if (f[i].data == NULL ||
                pgtype_decode_binary(oid, kind, (const uint8_t *)f[i].data, f[i].len, a, &v,
                                     &err) < 0)
                continue;
            if (kind == VALUE_DECIMAL &&
                pgtype_decode(VALUE_DECIMAL, VALUE_NULL, v.v.s.p, v.v.s.len, a, &t, &err) < 0)
                abort();
        }
    }
    arena_free(a);
    return 0;
}
