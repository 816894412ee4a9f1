/* libFuzzer target: PostgreSQL text forms and COPY text rows (readers/pg_types.c). The first
 * byte picks the value kind (and array element kind), the second whether the rest is one value
 * or a COPY line of that many fields. */
#include <stddef.h>
#include <stdint.h>

#include "../../readers/pg_types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum value_kind kinds[] = {
    VALUE_BOOL,      VALUE_INT,        VALUE_FLOAT32,  VALUE_FLOAT64, VALUE_DECIMAL, VALUE_STRING,
    VALUE_BYTES,     VALUE_JSON,       VALUE_BITS,     VALUE_DATE,    VALUE_TIME,    VALUE_DATETIME,
    VALUE_TIMESTAMP, VALUE_ZONED_TIME, VALUE_INTERVAL, VALUE_ENUM,    VALUE_TEXT,
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct arena *a = arena_new();
    struct error err;
    struct value v;
    const char *text = (const char *)data + 2;
    size_t len = size - 2;
    if (data[1] == 0) {
        /* one value: the kind, or an array of it when the high bit is set */
        enum value_kind k = kinds[(data[0] & 0x7f) % NKINDS];
        if (data[0] & 0x80)
            (void)pgtype_decode(VALUE_ARRAY, k, text, len, a, &v, &err);
        else
            (void)pgtype_decode(k, VALUE_NULL, text, len, a, &v, &err);
    } else {
        size_t n = data[1];
        struct pgtype_field *f = arena_alloc(a, n * sizeof *f);
        if (pgtype_copy_fields(text, len, a, f, n, &err) == 0) {
            enum value_kind k = kinds[(data[0] & 0x7f) % NKINDS];
            for (size_t i = 0; i < n; i++)
                if (f[i].data)
                    (void)pgtype_decode(k, VALUE_NULL, f[i].data, f[i].len, a, &v, &err);
        }
    }
    arena_free(a);
    return 0;
}
