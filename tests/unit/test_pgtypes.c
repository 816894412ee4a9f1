/* Unit tests of readers/pg_types.c: text forms captured from a real walsender, and COPY text. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../readers/pg_types.h"
#include "../../src/cursor.h"
#include "../../readers/pgoutput.h"
#include "unit.h"

#define FIXTURE "tests/fixtures/pgoutput/stream1.bin"

static struct arena *arena;

/* The Insert of the row with every type (frame 5 of the capture), decoded by kind. */
static struct pgout_msg insert_msg;
static unsigned char *insert_frame;

static const struct pgout_datum *captured(size_t col)
{
    if (insert_frame == NULL) {
        FILE *f = fopen(FIXTURE, "rb");
        if (f == NULL)
            return NULL;
        unsigned char hdr[4];
        for (int i = 0; i <= 5 && fread(hdr, 1, 4, f) == 4; i++) {
            size_t n = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
            free(insert_frame);
            insert_frame = malloc(n);
            if (fread(insert_frame, 1, n, f) != n)
                break;
            if (i == 5) {
                struct pgout_copydata cd;
                struct error err;
                pgout_msg_init(&insert_msg);
                if (pgout_parse_copydata(insert_frame, n, &cd, &err) < 0 ||
                    pgout_parse(cd.data, cd.len, &insert_msg, &err) < 0)
                    unit_fail(__FILE__, __LINE__, "fixture: %s", err.msg);
            }
        }
        fclose(f);
    }
    return col < insert_msg.new_tuple.ncols ? &insert_msg.new_tuple.cols[col] : NULL;
}

static int dec(enum value_kind kind, enum value_kind elem, size_t col, struct value *v)
{
    struct error err;
    const struct pgout_datum *d = captured(col);
    if (d == NULL || d->kind != 't')
        return -2;
    int rc = pgtype_decode(kind, elem, d->data, d->len, arena, v, &err);
    if (rc < 0)
        printf("#   column %zu: %s\n", col, err.msg);
    return rc;
}

static int dec_text(enum value_kind kind, const char *text, struct value *v)
{
    struct error err;
    return pgtype_decode(kind, VALUE_NULL, text, strlen(text), arena, v, &err);
}

static bool str_is(const struct value *v, const char *s)
{
    return v->v.s.len == strlen(s) && memcmp(v->v.s.p, s, v->v.s.len) == 0;
}

static void test_numbers(void)
{
    struct value v;
    CHECK_INT(dec(VALUE_BOOL, 0, 1, &v), 0);
    CHECK(v.kind == VALUE_BOOL && v.v.b);
    CHECK_INT(dec(VALUE_INT, 0, 2, &v), 0);
    CHECK_INT(v.v.i, -32768);
    CHECK_INT(dec(VALUE_INT, 0, 3, &v), 0);
    CHECK_INT(v.v.i, 2147483647);
    CHECK_INT(dec(VALUE_INT, 0, 4, &v), 0);
    CHECK(v.v.i == INT64_MIN);
    CHECK_INT(dec(VALUE_FLOAT32, 0, 5, &v), 0);
    CHECK(v.kind == VALUE_FLOAT32 && v.v.f == 1.5);
    CHECK_INT(dec(VALUE_FLOAT64, 0, 6, &v), 0);
    CHECK(isnan(v.v.f));
    CHECK_INT(dec(VALUE_DECIMAL, 0, 7, &v), 0);
    CHECK(str_is(&v, "12.345"));
    CHECK_INT(dec(VALUE_DECIMAL, 0, 8, &v), 0);
    CHECK(str_is(&v, "-0.000000001"));
    CHECK_INT(dec(VALUE_DECIMAL, 0, 28, &v), 0);
    CHECK(str_is(&v, "1234.56"));
    CHECK_INT(dec_text(VALUE_DECIMAL, "-$1,000,000.05", &v), 0);
    CHECK(str_is(&v, "-1000000.05"));
    CHECK_INT(dec_text(VALUE_FLOAT64, "-Infinity", &v), 0);
    CHECK(isinf(v.v.f) && v.v.f < 0);
    CHECK_INT(dec_text(VALUE_FLOAT64, "1.0000000000000002", &v), 0);
    CHECK(v.v.f == 1.0000000000000002);
    CHECK(dec_text(VALUE_INT, "12x", &v) < 0);
    CHECK(dec_text(VALUE_INT, "99999999999999999999", &v) < 0);
    CHECK(dec_text(VALUE_DECIMAL, "1;2", &v) < 0);
    CHECK(dec_text(VALUE_BOOL, "yes", &v) < 0);
}

/* The float8 texts a server prints (shortest exact forms, %.17g-like, exponents) and texts near
 * the midpoints between two doubles decode to exactly what strtod reads. */
static void test_floats_as_strtod(void)
{
    uint64_t x = 88172645463325252u;
    char text[64];
    int differ = 0;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d;
        memcpy(&d, &x, sizeof d);
        if (i % 2)
            d = (double)(x >> 11) / (double)(UINT64_C(1) << (x % 60));
        if (!isfinite(d))
            continue;
        switch (i % 5) {
        case 0:
            snprintf(text, sizeof text, "%.17g", d);
            break;
        case 1:
            snprintf(text, sizeof text, "%.16g", d);
            break;
        case 2:
            snprintf(text, sizeof text, "%.15g", d);
            break;
        case 3:
            snprintf(text, sizeof text, "%.*e", (int)(x % 19), d);
            break;
        default: /* halfway between two doubles at 2^53..2^54, then scaled */
            snprintf(text, sizeof text, "%llu.5e%d",
                     (unsigned long long)((UINT64_C(1) << 53) + (x % (1u << 20))), -(int)(x % 20));
        }
        struct value v;
        double want = strtod(text, NULL);
        if (dec_text(VALUE_FLOAT64, text, &v) < 0 || memcmp(&v.v.f, &want, sizeof want) != 0) {
            if (differ++ < 5)
                printf("#   %s: got %.17g, strtod %.17g\n", text, v.v.f, want);
        }
    }
    CHECK_INT(differ, 0);
    static const char *const edges[] = {"9007199254740993",
                                        "9007199254740993e-5",
                                        "-0",
                                        "1e-05",
                                        ".5",
                                        "5.",
                                        "1e27",
                                        "1e28",
                                        "123456789012345678e9",
                                        "18446744073709551615",
                                        "1.7976931348623157e+308",
                                        "4.9e-324",
                                        "0.1",
                                        "-1.0000000000000002",
                                        "1E+5"};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        struct value v;
        double want = strtod(edges[i], NULL);
        CHECK_INT(dec_text(VALUE_FLOAT64, edges[i], &v), 0);
        if (memcmp(&v.v.f, &want, sizeof want) != 0)
            unit_fail(__FILE__, __LINE__, "%s: got %.17g, strtod %.17g", edges[i], v.v.f, want);
    }
    struct value v;
    CHECK(dec_text(VALUE_FLOAT64, "1e", &v) < 0);
    CHECK(dec_text(VALUE_FLOAT64, "1.2.3", &v) < 0);
    CHECK(dec_text(VALUE_FLOAT64, "-", &v) < 0);
}

static void test_integers(void)
{
    struct value v;
    CHECK_INT(dec_text(VALUE_INT, "-123456789012345678", &v), 0);
    CHECK_INT(v.v.i, -123456789012345678);
    CHECK_INT(dec_text(VALUE_INT, "9223372036854775807", &v), 0);
    CHECK(v.v.i == INT64_MAX);
    CHECK_INT(dec_text(VALUE_INT, "-9223372036854775808", &v), 0);
    CHECK(v.v.i == INT64_MIN);
    CHECK_INT(dec_text(VALUE_INT, "0", &v), 0);
    CHECK_INT(v.v.i, 0);
    CHECK(dec_text(VALUE_INT, "9223372036854775808", &v) < 0);
    CHECK(dec_text(VALUE_INT, "-", &v) < 0);
    CHECK(dec_text(VALUE_INT, "", &v) < 0);
    CHECK(dec_text(VALUE_INT, "1-2", &v) < 0);
}

static void test_strings_bytes(void)
{
    struct value v;
    CHECK_INT(dec(VALUE_STRING, 0, 10, &v), 0);
    CHECK(str_is(&v, "h\xc3\xa9llo"));
    CHECK_INT(dec(VALUE_BYTES, 0, 12, &v), 0);
    CHECK(v.kind == VALUE_BYTES && v.v.s.len == 3 && memcmp(v.v.s.p, "\x00\xff\x10", 3) == 0);
    CHECK(dec_text(VALUE_BYTES, "\\x0", &v) < 0);
    CHECK(dec_text(VALUE_BYTES, "abc", &v) < 0);
    CHECK_INT(dec(VALUE_JSON, 0, 21, &v), 0);
    CHECK(str_is(&v, "{\"b\": null}"));
    CHECK_INT(dec(VALUE_STRING, 0, 19, &v), 0);
    CHECK(str_is(&v, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
    CHECK_INT(dec(VALUE_ENUM, 0, 29, &v), 0);
    CHECK(v.kind == VALUE_ENUM && str_is(&v, "happy"));
    /* bit(4) '1010' is 10: one byte 0x0a; varbit '101' is 5 */
    CHECK_INT(dec(VALUE_BITS, 0, 26, &v), 0);
    CHECK(v.v.s.len == 1 && (unsigned char)v.v.s.p[0] == 0x0a && v.v.s.i == 4);
    CHECK_INT(dec(VALUE_BITS, 0, 27, &v), 0);
    CHECK(v.v.s.len == 1 && (unsigned char)v.v.s.p[0] == 0x05 && v.v.s.i == 3);
    CHECK_INT(dec_text(VALUE_BITS, "100000000", &v), 0);
    CHECK(v.v.s.len == 2 && v.v.s.p[0] == 0 && v.v.s.p[1] == 1);
    CHECK_INT(dec_text(VALUE_BITS, "0000", &v), 0);
    CHECK_INT(v.v.s.len, 0);
    CHECK(dec_text(VALUE_BITS, "012", &v) < 0);
}

static void test_temporal(void)
{
    struct value v;
    CHECK_INT(dec(VALUE_DATE, 0, 13, &v), 0);
    CHECK_INT(v.v.i, 19782);
    CHECK_INT(dec(VALUE_TIME, 0, 14, &v), 0);
    CHECK_INT(v.v.i, 86399999999LL);
    CHECK_INT(dec(VALUE_ZONED_TIME, 0, 15, &v), 0);
    CHECK(str_is(&v, "08:15:30.5Z"));
    CHECK_INT(dec(VALUE_DATETIME, 0, 16, &v), 0);
    CHECK_INT(v.v.i, 1704164645678000LL);
    CHECK_INT(dec(VALUE_TIMESTAMP, 0, 17, &v), 0);
    CHECK_INT(v.v.i, 1704144845678901LL);
    CHECK_INT(dec(VALUE_INTERVAL, 0, 18, &v), 0);
    CHECK(v.v.interval.months == 14 && v.v.interval.days == 3 &&
          v.v.interval.micros == 14706789000LL);
    CHECK_INT(dec_text(VALUE_INTERVAL, "P-1Y-2M3DT-4H-5M-6.5S", &v), 0);
    CHECK(v.v.interval.months == -14 && v.v.interval.days == 3 &&
          v.v.interval.micros == -14706500000LL);
    CHECK_INT(dec_text(VALUE_INTERVAL, "PT0S", &v), 0);
    CHECK(v.v.interval.months == 0 && v.v.interval.micros == 0);
    CHECK_INT(dec_text(VALUE_DATE, "0001-01-01", &v), 0);
    CHECK_INT(v.v.i, -719162);
    /* 1 BC is astronomical year 0, a leap year of 366 days */
    CHECK_INT(dec_text(VALUE_DATE, "0001-01-01 BC", &v), 0);
    CHECK_INT(v.v.i, -719162 - 366);
    CHECK_INT(dec_text(VALUE_DATE, "infinity", &v), 0);
    CHECK(v.v.i == INT32_MAX);
    CHECK_INT(dec_text(VALUE_TIMESTAMP, "-infinity", &v), 0);
    CHECK(v.v.i == INT64_MIN);
    CHECK_INT(dec_text(VALUE_TIMESTAMP, "1970-01-01 05:30:00+05:30", &v), 0);
    CHECK_INT(v.v.i, 0);
    CHECK_INT(dec_text(VALUE_ZONED_TIME, "00:00:00-01", &v), 0);
    CHECK(str_is(&v, "01:00:00Z"));
    CHECK_INT(dec_text(VALUE_ZONED_TIME, "00:30:00+01", &v), 0);
    CHECK(str_is(&v, "23:30:00Z"));
    CHECK_INT(dec_text(VALUE_TIME, "24:00:00", &v), 0);
    CHECK_INT(v.v.i, 86400000000LL);
    CHECK(dec_text(VALUE_DATE, "2024-13-01", &v) < 0);
    CHECK(dec_text(VALUE_TIME, "1:00:00", &v) < 0);
    CHECK(dec_text(VALUE_TIMESTAMP, "2024-01-01 00:00:00", &v) < 0);
    CHECK(dec_text(VALUE_DATETIME, "2024-01-01 00:00:00.1234567", &v) < 0);
    CHECK(dec_text(VALUE_INTERVAL, "1 day", &v) < 0);
    CHECK(dec_text(VALUE_DATETIME, "294277-01-01 00:00:00", &v) < 0);
}

/* Text no server writes, as a corrupted or hostile stream could carry: an error, never
 * arithmetic overflow (UBSan aborts this test) or a value that collides with infinity. */
static void test_out_of_range(void)
{
    struct value v;
    CHECK(dec_text(VALUE_INTERVAL, "PT9999999999H", &v) < 0);
    CHECK(dec_text(VALUE_INTERVAL, "PT-9999999999H", &v) < 0);
    CHECK(dec_text(VALUE_INTERVAL, "PT9999999999S", &v) == 0 &&
          v.v.interval.micros == 9999999999000000LL);
    /* day -106751990 is the last whole day int64 microseconds reach; +99 hours is past it */
    CHECK(dec_text(VALUE_TIMESTAMP, "290309-12-24 00:00:00+99 BC", &v) < 0);
    CHECK(dec_text(VALUE_TIMESTAMP, "294247-01-09 23:59:59.999999-99", &v) < 0);
    CHECK(dec_text(VALUE_DATE, "9999999999-01-01", &v) < 0);
    CHECK(dec_text(VALUE_DATE, "5874897-12-31", &v) == 0 && v.v.i == 2145042905);
}

static void test_arrays(void)
{
    struct value v;
    CHECK_INT(dec(VALUE_ARRAY, VALUE_INT, 31, &v), 0);
    CHECK(v.kind == VALUE_ARRAY && v.v.array.n == 3);
    if (v.v.array.n == 3) {
        CHECK(v.v.array.elems[0].kind == VALUE_INT && v.v.array.elems[0].v.i == 1);
        CHECK(v.v.array.elems[1].kind == VALUE_NULL);
        CHECK(v.v.array.elems[2].v.i == 3);
    }
    CHECK_INT(dec(VALUE_ARRAY, VALUE_STRING, 32, &v), 0);
    CHECK_INT(v.v.array.n, 4);
    if (v.v.array.n == 4) {
        CHECK(str_is(&v.v.array.elems[0], "a b"));
        CHECK(str_is(&v.v.array.elems[1], "c\"d"));
        CHECK(v.v.array.elems[2].kind == VALUE_NULL);
        CHECK(v.v.array.elems[3].kind == VALUE_STRING && str_is(&v.v.array.elems[3], "NULL"));
    }
    CHECK_INT(dec_text(VALUE_ARRAY, "{}", &v), 0);
    CHECK_INT(v.v.array.n, 0);
    struct error err;
    CHECK_INT(
        pgtype_decode(VALUE_ARRAY, VALUE_DATE, "[0:1]={2024-02-29,infinity}", 27, arena, &v, &err),
        0);
    CHECK(v.v.array.n == 2 && v.v.array.elems[0].v.i == 19782);
    CHECK(pgtype_decode(VALUE_ARRAY, VALUE_INT, "{{1,2},{3,4}}", 13, arena, &v, &err) < 0);
    CHECK(strstr(err.msg, "multi-dimensional") != NULL);
    CHECK(pgtype_decode(VALUE_ARRAY, VALUE_INT, "{1,2", 4, arena, &v, &err) < 0);
    CHECK(pgtype_decode(VALUE_ARRAY, VALUE_STRING, "{\"a}", 4, arena, &v, &err) < 0);
    CHECK(pgtype_decode(VALUE_ARRAY, VALUE_INT, "{1,,2}", 6, arena, &v, &err) < 0);
    CHECK(pgtype_decode(VALUE_ARRAY, VALUE_INT, "{1,x}", 5, arena, &v, &err) < 0);
}

static void test_typmod(void)
{
    struct schema_table *t = schema_table_new("db", "public", "t");
    struct schema_column *c = schema_table_add_column(t, "n", "numeric", VALUE_DECIMAL);
    pgtype_apply_typmod(c, 1700, ((10 << 16) | 3) + 4);
    CHECK_INT(c->precision, 10);
    CHECK_INT(c->scale, 3);
    c = schema_table_add_column(t, "nu", "numeric", VALUE_DECIMAL);
    pgtype_apply_typmod(c, 1700, -1);
    CHECK_INT(c->precision, -1);
    CHECK_INT(c->scale, -1);
    c = schema_table_add_column(t, "neg", "numeric", VALUE_DECIMAL);
    pgtype_apply_typmod(c, 1700, ((5 << 16) | (2048 - 2)) + 4);
    CHECK_INT(c->scale, -2);
    c = schema_table_add_column(t, "vc", "varchar", VALUE_STRING);
    pgtype_apply_typmod(c, 1043, 24);
    CHECK_INT(c->length, 20);
    c = schema_table_add_column(t, "b1", "bit", VALUE_BITS);
    pgtype_apply_typmod(c, 1560, 1);
    CHECK_INT(c->kind, VALUE_BOOL);
    c = schema_table_add_column(t, "ts", "timestamp", VALUE_DATETIME);
    pgtype_apply_typmod(c, 1114, 3);
    CHECK_INT(c->scale, 3);
    c = schema_table_add_column(t, "m", "money", VALUE_DECIMAL);
    pgtype_apply_typmod(c, 790, -1);
    CHECK_INT(c->scale, 2);
    struct pgtype_base b;
    CHECK_INT(pgtype_builtin(20, &b), 0);
    CHECK(b.kind == VALUE_INT && b.int_bits == 64);
    CHECK_INT(pgtype_builtin(3802, &b), 0);
    CHECK_INT(b.kind, VALUE_JSON);
    CHECK(pgtype_builtin(600, &b) < 0);
    schema_table_free(t);
}

static void test_copy_fields(void)
{
    struct pgtype_field f[4];
    struct error err;
    const char *line = "1\t\\N\ta\\tb\\\\c\\nd\t\\101\\x42";
    CHECK_INT(pgtype_copy_fields(line, strlen(line), arena, f, 4, &err), 0);
    CHECK(f[0].len == 1 && f[0].data[0] == '1');
    CHECK(f[1].data == NULL);
    CHECK(f[2].len == 7 && memcmp(f[2].data, "a\tb\\c\nd", 7) == 0);
    CHECK(f[3].len == 2 && memcmp(f[3].data, "AB", 2) == 0);
    CHECK(pgtype_copy_fields(line, strlen(line), arena, f, 3, &err) < 0);
    const char *empty = "\t";
    CHECK_INT(pgtype_copy_fields(empty, 1, arena, f, 2, &err), 0);
    CHECK(f[0].len == 0 && f[0].data != NULL && f[1].len == 0);
    CHECK(pgtype_copy_fields("a\\", 2, arena, f, 1, &err) < 0);
    /* A backslash before a real tab keeps it in the field (COPY's "\c is c"). */
    const char *tab = "x\\\ty\tz";
    CHECK_INT(pgtype_copy_fields(tab, strlen(tab), arena, f, 2, &err), 0);
    CHECK(f[0].len == 3 && memcmp(f[0].data, "x\ty", 3) == 0);
    CHECK(f[1].len == 1 && f[1].data[0] == 'z');
    const char *nulls = "\\N\t\\N";
    CHECK_INT(pgtype_copy_fields(nulls, strlen(nulls), arena, f, 2, &err), 0);
    CHECK(f[0].data == NULL && f[1].data == NULL);
    CHECK(pgtype_copy_fields("a\tb\t", 4, arena, f, 2, &err) < 0);
}

/* Binary forms as PostgreSQL 15.18's send functions wrote them (SELECT encode(numeric_send(x),
 * 'hex'), x::text ...), with the text the same server printed for each: the binary decoder
 * must give what the text decoder gives for that text. */
static const struct {
    uint32_t oid;
    enum value_kind kind;
    const char *hex, *text;
} sent[] = {
    {1700, VALUE_DECIMAL, "0000000000000000", "0"},
    {1700, VALUE_DECIMAL, "0000000000000003", "0.000"},
    {1700, VALUE_DECIMAL, "0001fffa4000001503e8", "-0.000000000000000000001"},
    {1700, VALUE_DECIMAL, "0009000700000001000c0d801ed204d2162e23340d801ed21388",
     "123456789012345678901234567890.5"},
    {1700, VALUE_DECIMAL, "00000000c0000000", "NaN"},
    {1700, VALUE_DECIMAL, "00000000d0000020", "Infinity"},
    {1700, VALUE_DECIMAL, "00000000f0000020", "-Infinity"},
    {1700, VALUE_DECIMAL, "00010001000000000001", "10000"},
    {1700, VALUE_DECIMAL, "0002000000000004270f270f", "9999.9999"},
    {1700, VALUE_DECIMAL, "00010002000000000001", "100000000"},
    {1700, VALUE_DECIMAL, "000300014000000303e7270f2706", "-9999999.999"},
    {1700, VALUE_DECIMAL, "0001fff80000001e0064", "0.000000000000000000000000000001"},
    {1700, VALUE_DECIMAL, "0003000100000004000100000001", "10000.0001"},
    {1700, VALUE_DECIMAL, "0001ffff000000011388", "0.5"},
    {20, VALUE_INT, "8000000000000000", "-9223372036854775808"},
    {20, VALUE_INT, "7fffffffffffffff", "9223372036854775807"},
    {20, VALUE_INT, "ffffffffffffffff", "-1"},
    {21, VALUE_INT, "8000", "-32768"},
    {21, VALUE_INT, "7fff", "32767"},
    {23, VALUE_INT, "80000000", "-2147483648"},
    {23, VALUE_INT, "7fffffff", "2147483647"},
    {701, VALUE_FLOAT64, "7ff0000000000000", "Infinity"},
    {701, VALUE_FLOAT64, "fff0000000000000", "-Infinity"},
    {701, VALUE_FLOAT64, "8000000000000000", "-0"},
    {701, VALUE_FLOAT64, "0000000000000001", "5e-324"},
    {701, VALUE_FLOAT64, "3fb999999999999a", "0.1"},
    {1082, VALUE_DATE, "7fffffff", "infinity"},
    {1082, VALUE_DATE, "80000000", "-infinity"},
    {1082, VALUE_DATE, "00000000", "2000-01-01"},
    {1082, VALUE_DATE, "ffffd533", "1970-01-01"},
    {1082, VALUE_DATE, "fff49d7b", "0044-03-15 BC"},
    {1082, VALUE_DATE, "7fda970c", "5874897-12-31"},
    {1184, VALUE_TIMESTAMP, "7fffffffffffffff", "infinity"},
    {1184, VALUE_TIMESTAMP, "8000000000000000", "-infinity"},
    {1184, VALUE_TIMESTAMP, "0000000000000000", "2000-01-01 00:00:00+00"},
    {1184, VALUE_TIMESTAMP, "fffca2fec4c82001", "1970-01-01 00:00:00.000001+00"},
    {1184, VALUE_TIMESTAMP, "fd0f7fbdaf17e000", "4713-01-01 00:00:00+00 BC"},
    {2950, VALUE_STRING, "a0eebc999c0b4ef8bb6d6bb9bd380a11",
     "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
    {3802, VALUE_JSON, "017b2261223a20312c202262223a206e756c6c7d", "{\"a\": 1, \"b\": null}"},
    {16, VALUE_BOOL, "01", "t"},
    {16, VALUE_BOOL, "00", "f"},
};

static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(cursor_hex_digit(hex[2 * i]) << 4 | cursor_hex_digit(hex[2 * i + 1]));
    return n;
}

static bool same_value(const struct value *a, const struct value *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case VALUE_BOOL:
        return a->v.b == b->v.b;
    case VALUE_FLOAT64:
        return memcmp(&a->v.f, &b->v.f, sizeof a->v.f) == 0;
    case VALUE_DECIMAL:
    case VALUE_STRING:
    case VALUE_JSON:
        return a->v.s.len == b->v.s.len && memcmp(a->v.s.p, b->v.s.p, a->v.s.len) == 0;
    default:
        return a->v.i == b->v.i;
    }
}

static void test_binary_as_text(void)
{
    for (size_t i = 0; i < sizeof sent / sizeof sent[0]; i++) {
        uint8_t bin[64];
        size_t n = unhex(sent[i].hex, bin);
        struct value fromtext, frombin;
        struct error err;
        CHECK(pgtype_binary_ok(sent[i].oid, sent[i].kind));
        if (pgtype_decode(sent[i].kind, VALUE_NULL, sent[i].text, strlen(sent[i].text), arena,
                          &fromtext, &err) < 0 ||
            pgtype_decode_binary(sent[i].oid, sent[i].kind, bin, n, arena, &frombin, &err) < 0) {
            unit_fail(__FILE__, __LINE__, "%s: %s", sent[i].text, err.msg);
            continue;
        }
        if (!same_value(&fromtext, &frombin))
            unit_fail(__FILE__, __LINE__, "%s (OID %u): binary and text differ", sent[i].text,
                      (unsigned)sent[i].oid);
    }
    /* a NaN float8 is any NaN */
    uint8_t nan[8] = {0x7f, 0xf8, 0, 0, 0, 0, 0, 0};
    struct value v;
    struct error err;
    CHECK_INT(pgtype_decode_binary(701, VALUE_FLOAT64, nan, 8, arena, &v, &err), 0);
    CHECK(isnan(v.v.f));
    /* what no server sends: an error, never a read past the value */
    CHECK(pgtype_decode_binary(23, VALUE_INT, nan, 3, arena, &v, &err) < 0);
    CHECK(pgtype_decode_binary(1700, VALUE_DECIMAL, nan, 7, arena, &v, &err) < 0);
    uint8_t big_digit[10] = {0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10}; /* 10000 is no base-10000 digit */
    CHECK(pgtype_decode_binary(1700, VALUE_DECIMAL, big_digit, 10, arena, &v, &err) < 0);
    uint8_t short_digits[10] = {0, 2, 0, 0, 0, 0, 0, 0, 0, 1}; /* two digits announced, one sent */
    CHECK(pgtype_decode_binary(1700, VALUE_DECIMAL, short_digits, 10, arena, &v, &err) < 0);
    uint8_t past_scale[10] = {0, 1, 0xff, 0xfe, 0, 0, 0, 0, 0, 1}; /* 0.00000001 at scale 0 */
    CHECK(pgtype_decode_binary(1700, VALUE_DECIMAL, past_scale, 10, arena, &v, &err) < 0);
    uint8_t jsonb2[3] = {2, '{', '}'};
    CHECK(pgtype_decode_binary(3802, VALUE_JSON, jsonb2, 3, arena, &v, &err) < 0);
    uint8_t far[8] = {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}; /* past int64 from 1970 */
    CHECK(pgtype_decode_binary(1184, VALUE_TIMESTAMP, far, 8, arena, &v, &err) < 0);
    CHECK(!pgtype_binary_ok(700, VALUE_FLOAT32));
    CHECK(!pgtype_binary_ok(1560, VALUE_BOOL));
    CHECK(!pgtype_binary_ok(790, VALUE_DECIMAL));
}

/* A whole binary COPY as psql received it: COPY (SELECT 1::int4, NULL::text, 'x'::text) TO
 * STDOUT (FORMAT binary) from PostgreSQL 15.18: header, one tuple, trailer. */
static void test_copy_binary(void)
{
    uint8_t copy[64];
    size_t n = unhex("5047434f50590aff0d0a00000000000000000000030000000400000001ffffffff"
                     "0000000178ffff",
                     copy);
    size_t hl;
    struct error err;
    struct pgtype_field f[3];
    CHECK_INT(pgtype_copy_binary_header((const char *)copy, n, &hl, &err), 0);
    CHECK_INT(hl, 19);
    const char *tuple = (const char *)copy + hl;
    size_t tlen = n - hl - 2;
    CHECK_INT(pgtype_copy_binary_fields(tuple, tlen, f, 3, &err), 0);
    CHECK(f[0].len == 4 && memcmp(f[0].data, "\0\0\0\1", 4) == 0);
    CHECK(f[1].data == NULL);
    CHECK(f[2].len == 1 && f[2].data[0] == 'x');
    CHECK_INT(pgtype_copy_binary_fields(tuple + tlen, 2, f, 3, &err), 1);
    CHECK(pgtype_copy_binary_fields(tuple, tlen, f, 2, &err) < 0);
    CHECK(pgtype_copy_binary_fields(tuple, tlen - 1, f, 3, &err) < 0);
    CHECK(pgtype_copy_binary_fields(tuple, tlen + 1, f, 3, &err) < 0);
    CHECK(pgtype_copy_binary_header((const char *)copy, 18, &hl, &err) < 0);
    copy[11] = 1; /* a critical flag bit dbtail does not know */
    CHECK(pgtype_copy_binary_header((const char *)copy, n, &hl, &err) < 0);
    copy[0] = 'Q';
    CHECK(pgtype_copy_binary_header((const char *)copy, n, &hl, &err) < 0);
}

int main(int argc, char **argv)
{
    static const struct unit_case cases[] = {
        {"numbers from a real capture", test_numbers},
        {"floats as strtod reads them", test_floats_as_strtod},
        {"integers at the edges of int64", test_integers},
        {"strings, bytes, bits", test_strings_bytes},
        {"dates, times, intervals", test_temporal},
        {"values out of range", test_out_of_range},
        {"one-dimensional arrays", test_arrays},
        {"typmod parameters", test_typmod},
        {"COPY text fields", test_copy_fields},
        {"binary forms as their text", test_binary_as_text},
        {"COPY binary tuples", test_copy_binary},
        {NULL, NULL},
    };
    arena = arena_new();
    int rc = unit_main("pgtypes", cases, argc, argv);
    arena_free(arena);
    pgout_msg_cleanup(&insert_msg);
    free(insert_frame);
    return rc;
}
