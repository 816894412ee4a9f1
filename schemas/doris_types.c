/* doris_types: Doris column types, value forms and DDL text (see doris_types.h). */
#include "doris_types.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Doris's VARCHAR limit in bytes; CHAR's is 255. */
#define VARCHAR_MAX    65533
#define CHAR_MAX_BYTES 255

enum base {
    B_BOOLEAN,
    B_TINYINT,
    B_SMALLINT,
    B_INT,
    B_BIGINT,
    B_LARGEINT,
    B_FLOAT,
    B_DOUBLE,
    B_DECIMAL,
    B_CHAR,
    B_VARCHAR,
    B_STRING,
    B_JSON,
    B_DATE,
    B_DATETIME,
    B_ARRAY
};

struct dtype {
    enum base base;
    int len;   /* CHAR/VARCHAR bytes, DATETIME fractional digits, DECIMAL precision */
    int scale; /* DECIMAL */
};

/* The first word of a type name, lower case ("int unsigned" -> "int", "bit varying" -> "bit"). */
static void first_word(const char *type_name, char *out, size_t outlen)
{
    size_t n = 0;
    if (type_name)
        while (type_name[n] && type_name[n] != ' ' && type_name[n] != '(' && n + 1 < outlen) {
            out[n] = (char)tolower((unsigned char)type_name[n]);
            n++;
        }
    out[n] = '\0';
}

static bool type_has_word(const struct schema_column *c, const char *word)
{
    return c->type_name && strstr(c->type_name, word) != NULL;
}

/* UTF-8 bytes a character of the column's charset may take once the reader converted it. */
static int bytes_per_char(const struct schema_column *c)
{
    if (c->charset && (strcmp(c->charset, "ascii") == 0 || strcmp(c->charset, "binary") == 0))
        return 1;
    return 4;
}

static void sized_string(struct dtype *t, int64_t bytes, bool fixed)
{
    if (bytes <= 0) {
        t->base = B_STRING;
        return;
    }
    if (fixed && bytes <= CHAR_MAX_BYTES) {
        t->base = B_CHAR;
        t->len = (int)bytes;
    } else if (bytes <= VARCHAR_MAX) {
        t->base = B_VARCHAR;
        t->len = (int)bytes;
    } else {
        t->base = B_STRING;
    }
}

/* Bits a signed Doris integer needs to hold every value of the column. */
static int int_bits_needed(const struct schema_column *c)
{
    static const struct {
        const char *name;
        int bits;
    } names[] = {{"tinyint", 8}, {"smallint", 16}, {"int2", 16}, {"mediumint", 24},
                 {"int", 32},    {"integer", 32},  {"int4", 32}, {"bigint", 64},
                 {"int8", 64},   {"year", 16}};
    char w[32];
    first_word(c->type_name, w, sizeof w);
    if (w[0] == '_')
        memmove(w, w + 1, strlen(w));
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(w, names[i].name) == 0)
            return names[i].bits + (c->is_unsigned ? 1 : 0);
    /* Debezium's width already leaves room for unsigned values (INT UNSIGNED is int64). */
    return c->int_bits ? c->int_bits : 64;
}

static bool is_mysql(enum event_connector conn)
{
    return conn == EVENT_MYSQL || conn == EVENT_MARIADB;
}

static void map_type(const struct schema_column *c, enum event_connector conn, bool key,
                     struct dtype *t);

/* The column an array's elements would be: same parameters, the element kind. */
static void element_column(const struct schema_column *c, struct schema_column *e)
{
    *e = *c;
    e->kind = c->elem_kind;
    e->elem_kind = VALUE_NULL;
    e->key = false;
    if (c->type_name && c->type_name[0] == '_')
        e->type_name = c->type_name + 1;
}

static void map_type(const struct schema_column *c, enum event_connector conn, bool key,
                     struct dtype *t)
{
    char w[32];
    t->len = 0;
    t->scale = 0;
    switch (c->kind) {
    case VALUE_BOOL:
        t->base = B_BOOLEAN;
        break;
    case VALUE_INT: {
        int bits = int_bits_needed(c);
        t->base = bits <= 8    ? B_TINYINT
                  : bits <= 16 ? B_SMALLINT
                  : bits <= 32 ? B_INT
                  : bits <= 64 ? B_BIGINT
                               : B_LARGEINT;
        break;
    }
    case VALUE_UINT:
        t->base = B_LARGEINT;
        break;
    case VALUE_FLOAT32:
        t->base = B_FLOAT;
        break;
    case VALUE_FLOAT64:
        t->base = B_DOUBLE;
        break;
    case VALUE_DECIMAL:
        if (c->precision >= 1 && c->precision <= 38 && c->scale >= 0 && c->scale <= c->precision) {
            t->base = B_DECIMAL;
            t->len = c->precision;
            t->scale = c->scale;
        } else if (key && c->precision >= 1 && c->precision <= VARCHAR_MAX - 3) {
            /* sign, point and a leading zero around the digits */
            t->base = B_VARCHAR;
            t->len = c->precision + 3;
        } else {
            t->base = B_STRING;
        }
        break;
    case VALUE_STRING:
        first_word(c->type_name, w, sizeof w);
        if (strcmp(w, "uuid") == 0)
            sized_string(t, 36, false);
        else if (c->length >= 0)
            sized_string(t, (int64_t)c->length * bytes_per_char(c),
                         strcmp(w, "char") == 0 || strcmp(w, "character") == 0 ||
                             strcmp(w, "bpchar") == 0 || strcmp(w, "nchar") == 0);
        else
            t->base = B_STRING;
        if (t->base == B_CHAR && type_has_word(c, "varying"))
            t->base = B_VARCHAR;
        break;
    case VALUE_BYTES:
        sized_string(t, c->length > 0 ? (int64_t)c->length * 2 : 0, false);
        break;
    case VALUE_JSON:
        t->base = B_JSON;
        break;
    case VALUE_BITS:
        if (c->length == 1 && !type_has_word(c, "var")) {
            t->base = B_BOOLEAN;
        } else if (is_mysql(conn)) {
            t->base = c->length > 0 && c->length < 64 ? B_BIGINT : B_LARGEINT;
        } else {
            sized_string(t, c->length, false);
        }
        break;
    case VALUE_DATE:
        t->base = B_DATE;
        break;
    case VALUE_TIME:
        sized_string(t, 32, false);
        break;
    case VALUE_DATETIME:
    case VALUE_TIMESTAMP:
        t->base = B_DATETIME;
        t->len = c->scale >= 0 && c->scale <= 6 ? c->scale : 6;
        break;
    case VALUE_ZONED_TIME:
        sized_string(t, 32, false);
        break;
    case VALUE_INTERVAL:
        sized_string(t, 64, false);
        break;
    case VALUE_ENUM:
    case VALUE_SET: {
        int64_t chars = 0;
        for (size_t i = 0; i < c->n_enum_values; i++) {
            int64_t n = (int64_t)strlen(c->enum_values[i]);
            if (c->kind == VALUE_SET)
                chars += n + (i ? 1 : 0);
            else if (n > chars)
                chars = n;
        }
        if (c->n_enum_values == 0)
            t->base = B_STRING;
        else
            sized_string(t, chars > 0 ? chars * bytes_per_char(c) : 1, false);
        break;
    }
    case VALUE_ARRAY:
        if (c->elem_kind == VALUE_ARRAY || c->elem_kind == VALUE_NULL ||
            c->elem_kind == VALUE_ABSENT || c->elem_kind == VALUE_UNCHANGED)
            t->base = B_STRING;
        else
            t->base = B_ARRAY;
        break;
    case VALUE_GEOMETRY:
    case VALUE_TEXT:
    case VALUE_NULL:
    case VALUE_ABSENT:
    case VALUE_UNCHANGED:
        t->base = B_STRING;
        break;
    }
    if (key && (t->base == B_FLOAT || t->base == B_DOUBLE || t->base == B_STRING ||
                t->base == B_JSON || t->base == B_ARRAY)) {
        t->base = B_VARCHAR;
        t->len = VARCHAR_MAX;
    }
}

static void put_dtype(struct buf *out, const struct schema_column *c, enum event_connector conn,
                      const struct dtype *t)
{
    static const char *const names[] = {
        [B_BOOLEAN] = "BOOLEAN", [B_TINYINT] = "TINYINT", [B_SMALLINT] = "SMALLINT",
        [B_INT] = "INT",         [B_BIGINT] = "BIGINT",   [B_LARGEINT] = "LARGEINT",
        [B_FLOAT] = "FLOAT",     [B_DOUBLE] = "DOUBLE",   [B_DECIMAL] = "DECIMAL",
        [B_CHAR] = "CHAR",       [B_VARCHAR] = "VARCHAR", [B_STRING] = "STRING",
        [B_JSON] = "JSON",       [B_DATE] = "DATE",       [B_DATETIME] = "DATETIME",
        [B_ARRAY] = "ARRAY"};
    buf_puts(out, names[t->base]);
    switch (t->base) {
    case B_DECIMAL:
        buf_printf(out, "(%d,%d)", t->len, t->scale);
        break;
    case B_CHAR:
    case B_VARCHAR:
    case B_DATETIME:
        buf_printf(out, "(%d)", t->len);
        break;
    case B_ARRAY: {
        struct schema_column e;
        struct dtype et;
        element_column(c, &e);
        map_type(&e, conn, false, &et);
        /* Doris pads CHAR inside arrays; elements keep their own length as VARCHAR. */
        if (et.base == B_CHAR)
            et.base = B_VARCHAR;
        buf_putc(out, '<');
        put_dtype(out, &e, conn, &et);
        buf_putc(out, '>');
        break;
    }
    default:
        break;
    }
}

void doristype_column_type(struct buf *out, const struct schema_column *c,
                           enum event_connector conn, bool key)
{
    struct dtype t;
    map_type(c, conn, key, &t);
    put_dtype(out, c, conn, &t);
}

/* ---- values ------------------------------------------------------------------------------ */

static void put_hex(struct buf *out, const char *p, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    buf_reserve(out, len * 2 + 2);
    buf_putc(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)p[i];
        char two[2] = {hex[b >> 4], hex[b & 15]};
        buf_append(out, two, 2);
    }
    buf_putc(out, '"');
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* Proleptic Gregorian date of a day number (days since 1970-01-01). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Days since the epoch of years 0000 and 10000, the bounds of Doris's DATE/DATETIME. */
#define DAY_MIN (-719528)
#define DAY_MAX 2932897

/* Writes v (0 <= v < 10^width) as exactly `width` digits at p. */
static void digits(char *p, int64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Rows carry many dates: formatted by hand, printf costs more than the rest of a row. */
static int put_date(struct buf *out, int64_t days, int64_t micros_of_day, bool with_time)
{
    if (days < DAY_MIN || days >= DAY_MAX) {
        buf_puts(out, "null");
        return 1;
    }
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    /* "YYYY-MM-DD HH:MM:SS.ffffff" */
    char s[28];
    s[0] = '"';
    digits(s + 1, y, 4);
    s[5] = '-';
    digits(s + 6, m, 2);
    s[8] = '-';
    digits(s + 9, d, 2);
    if (!with_time) {
        s[11] = '"';
        buf_append(out, s, 12);
        return 0;
    }
    int64_t sec = micros_of_day / 1000000;
    s[11] = ' ';
    digits(s + 12, sec / 3600, 2);
    s[14] = ':';
    digits(s + 15, sec / 60 % 60, 2);
    s[17] = ':';
    digits(s + 18, sec % 60, 2);
    s[20] = '.';
    digits(s + 21, micros_of_day % 1000000, 6);
    s[27] = '"';
    buf_append(out, s, 28);
    return 0;
}

static int put_datetime(struct buf *out, int64_t micros)
{
    int64_t days = floor_div(micros, 86400000000LL);
    return put_date(out, days, micros - days * 86400000000LL, true);
}

static void put_time(struct buf *out, int64_t micros)
{
    uint64_t a = micros < 0 ? (uint64_t)0 - (uint64_t)micros : (uint64_t)micros;
    uint64_t s = a / 1000000;
    buf_printf(out, "\"%s%02" PRIu64 ":%02d:%02d.%06d\"", micros < 0 ? "-" : "", s / 3600,
               (int)(s / 60 % 60), (int)(s % 60), (int)(a % 1000000));
}

/* ISO 8601 as PostgreSQL's intervalstyle iso_8601 writes it: each part keeps its own sign. */
static void put_interval(struct buf *out, int32_t months, int32_t days, int64_t micros)
{
    buf_puts(out, "\"P");
    if (months / 12)
        buf_printf(out, "%dY", months / 12);
    if (months % 12)
        buf_printf(out, "%dM", months % 12);
    if (days)
        buf_printf(out, "%dD", days);
    if (micros) {
        int64_t h = micros / 3600000000LL;
        int64_t m = micros / 60000000 % 60;
        int64_t us = micros % 60000000;
        buf_putc(out, 'T');
        if (h)
            buf_printf(out, "%" PRId64 "H", h);
        if (m)
            buf_printf(out, "%" PRId64 "M", m);
        if (us) {
            uint64_t a = us < 0 ? (uint64_t)(-us) : (uint64_t)us;
            char frac[8];
            snprintf(frac, sizeof frac, "%06d", (int)(a % 1000000));
            size_t n = 6;
            while (n > 0 && frac[n - 1] == '0')
                n--;
            frac[n] = '\0';
            buf_printf(out, "%s%" PRIu64 "%s%sS", us < 0 ? "-" : "", a / 1000000, n ? "." : "",
                       frac);
        }
    } else if (months == 0 && days == 0) {
        buf_puts(out, "T0S");
    }
    buf_putc(out, '"');
}

/* Bit k (0 = least significant) of a Debezium little-endian bit string. */
static int bit_at(const struct value *v, int64_t k)
{
    size_t byte = (size_t)(k / 8);
    if (byte >= v->v.s.len)
        return 0;
    return ((unsigned char)v->v.s.p[byte] >> (k % 8)) & 1;
}

static void put_bits(struct buf *out, const struct dtype *t, const struct value *v)
{
    int64_t n = v->v.s.i > 0 ? v->v.s.i : (int64_t)v->v.s.len * 8;
    if (t->base == B_BOOLEAN) {
        buf_puts(out, bit_at(v, 0) ? "true" : "false");
    } else if (t->base == B_BIGINT || t->base == B_LARGEINT) {
        uint64_t u = 0;
        for (size_t i = 0; i < v->v.s.len && i < 8; i++)
            u |= (uint64_t)(unsigned char)v->v.s.p[i] << (8 * i);
        if (u > INT64_MAX)
            buf_printf(out, "\"%" PRIu64 "\"", u);
        else
            buf_json_uint(out, u);
    } else {
        /* the source's text form: most significant bit first */
        buf_reserve(out, (size_t)n + 2);
        buf_putc(out, '"');
        for (int64_t k = n - 1; k >= 0; k--)
            buf_putc(out, bit_at(v, k) ? '1' : '0');
        buf_putc(out, '"');
    }
}

static bool decimal_is_number(const char *p, size_t len)
{
    size_t i = 0;
    bool digit = false;
    if (i < len && (p[i] == '-' || p[i] == '+'))
        i++;
    for (; i < len; i++) {
        if (p[i] >= '0' && p[i] <= '9')
            digit = true;
        else if (p[i] != '.')
            return false;
    }
    return digit;
}

static int put_value(struct buf *out, const struct schema_column *c, enum event_connector conn,
                     const struct dtype *t, const struct value *v)
{
    switch (v->kind) {
    case VALUE_NULL:
    case VALUE_ABSENT:
    case VALUE_UNCHANGED:
        buf_puts(out, "null");
        return 0;
    case VALUE_BOOL:
        buf_puts(out, v->v.b ? "true" : "false");
        return 0;
    case VALUE_INT:
        buf_json_int(out, v->v.i);
        return 0;
    case VALUE_UINT:
        /* JSON readers turn integers past int64 into doubles; LARGEINT reads the text exactly */
        if (v->v.u > INT64_MAX)
            buf_printf(out, "\"%" PRIu64 "\"", v->v.u);
        else
            buf_json_uint(out, v->v.u);
        return 0;
    case VALUE_FLOAT32:
        buf_json_float(out, (float)v->v.f);
        return 0;
    case VALUE_FLOAT64:
        buf_json_double(out, v->v.f);
        return 0;
    case VALUE_DECIMAL:
        if (t->base == B_DECIMAL && !decimal_is_number(v->v.s.p, v->v.s.len)) {
            buf_puts(out, "null");
            return 1;
        }
        buf_json_str(out, v->v.s.p, v->v.s.len);
        return 0;
    case VALUE_STRING:
    case VALUE_JSON:
    case VALUE_ZONED_TIME:
    case VALUE_ENUM:
    case VALUE_SET:
    case VALUE_TEXT:
        buf_json_str(out, v->v.s.p, v->v.s.len);
        return 0;
    case VALUE_BYTES:
    case VALUE_GEOMETRY:
        put_hex(out, v->v.s.p, v->v.s.len);
        return 0;
    case VALUE_BITS:
        put_bits(out, t, v);
        return 0;
    case VALUE_DATE:
        return put_date(out, v->v.i, 0, false);
    case VALUE_TIME:
        put_time(out, v->v.i);
        return 0;
    case VALUE_DATETIME:
    case VALUE_TIMESTAMP:
        return put_datetime(out, v->v.i);
    case VALUE_INTERVAL:
        put_interval(out, v->v.interval.months, v->v.interval.days, v->v.interval.micros);
        return 0;
    case VALUE_ARRAY: {
        struct schema_column e;
        struct dtype et;
        int rc = 0;
        element_column(c, &e);
        map_type(&e, conn, false, &et);
        buf_putc(out, '[');
        for (size_t i = 0; i < v->v.array.n; i++) {
            if (i)
                buf_putc(out, ',');
            rc |= put_value(out, &e, conn, &et, &v->v.array.elems[i]);
        }
        buf_putc(out, ']');
        return rc;
    }
    }
    buf_puts(out, "null");
    return 1;
}

int doristype_json_value(struct buf *out, const struct schema_column *c, enum event_connector conn,
                         const struct value *v)
{
    /* Only these kinds are written differently by Doris type; the rest skip the mapping. */
    struct dtype t = {B_STRING, 0, 0};
    if (v->kind == VALUE_DECIMAL || v->kind == VALUE_BITS || v->kind == VALUE_ARRAY)
        map_type(c, conn, c->key, &t);
    return put_value(out, c, conn, &t, v);
}

/* ---- DDL --------------------------------------------------------------------------------- */

void doristype_ident(struct buf *out, const char *name)
{
    buf_putc(out, '`');
    for (const char *p = name; *p; p++) {
        if (*p == '`')
            buf_putc(out, '`');
        buf_putc(out, *p);
    }
    buf_putc(out, '`');
}

void doristype_sql_string(struct buf *out, const char *s)
{
    buf_putc(out, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            buf_putc(out, '\\');
        buf_putc(out, *p);
    }
    buf_putc(out, '"');
}

/* What may follow a PostgreSQL constant: casts to named types (::character varying(10),
 * ::"Mood", ::timestamp without time zone), no operator, call or further literal. */
static bool only_casts(const char *s)
{
    while (*s) {
        if (strncmp(s, "::", 2) != 0)
            return false;
        s += 2;
        const char *start = s;
        for (; *s && *s != ':'; s++)
            if (!isalnum((unsigned char)*s) && !strchr("_ .\"(),[]", *s))
                return false;
        if (s == start)
            return false;
    }
    return true;
}

bool doristype_default(struct buf *out, const struct schema_column *c, enum event_connector conn)
{
    const char *d = c->default_value;
    if (!d || !*d || strcasecmp(d, "null") == 0)
        return false;
    switch (c->kind) {
    case VALUE_INT:
    case VALUE_UINT:
    case VALUE_FLOAT32:
    case VALUE_FLOAT64:
    case VALUE_DECIMAL:
    case VALUE_BOOL:
    case VALUE_STRING:
    case VALUE_ENUM:
    case VALUE_SET:
    case VALUE_DATE:
    case VALUE_DATETIME:
        break;
    default:
        return false;
    }
    struct buf text;
    buf_init(&text);
    if (d[0] == '\'') {
        /* PostgreSQL 'text'::type, MySQL 'text' */
        const char *p = d + 1;
        for (; *p && !(*p == '\'' && p[1] != '\''); p++) {
            if (*p == '\'' && p[1] == '\'')
                p++;
            buf_putc(&text, *p);
        }
        if (*p != '\'' || !only_casts(p + 1)) {
            buf_free(&text);
            return false;
        }
    } else if (conn == EVENT_POSTGRESQL && (c->kind == VALUE_STRING || c->kind == VALUE_ENUM ||
                                            c->kind == VALUE_DATE || c->kind == VALUE_DATETIME)) {
        /* PostgreSQL quotes every constant of these kinds: a bare word is an expression */
        buf_free(&text);
        return false;
    } else if (conn == EVENT_POSTGRESQL && strstr(d, "::")) {
        /* PostgreSQL 1.5::double precision */
        const char *cast = strstr(d, "::");
        if (!only_casts(cast)) {
            buf_free(&text);
            return false;
        }
        buf_append(&text, d, (size_t)(cast - d));
    } else {
        buf_puts(&text, d);
    }
    bool ok = true;
    const char *t = text.data ? text.data : "";
    switch (c->kind) {
    case VALUE_INT:
    case VALUE_UINT:
    case VALUE_FLOAT32:
    case VALUE_FLOAT64:
    case VALUE_DECIMAL: {
        char *end;
        (void)strtod(t, &end);
        ok = end != t && *end == '\0';
        break;
    }
    case VALUE_BOOL:
        ok = strcasecmp(t, "true") == 0 || strcasecmp(t, "false") == 0 || strcmp(t, "1") == 0 ||
             strcmp(t, "0") == 0;
        break;
    case VALUE_DATE:
    case VALUE_DATETIME:
        /* 2024-01-31[ 12:00:00[.123]] and nothing else (no zone, no function) */
        for (const char *p = t; *p && ok; p++)
            ok = (*p >= '0' && *p <= '9') || *p == '-' || *p == ':' || *p == ' ' || *p == '.';
        ok = ok && strlen(t) >= 10;
        break;
    default:
        /* MySQL shows a string default bare; an expression default has a call in it */
        ok = !strchr(t, '(') && strcasecmp(t, "CURRENT_TIMESTAMP") != 0;
        break;
    }
    if (ok)
        buf_puts(out, t);
    buf_free(&text);
    return ok;
}

static void put_table_name(struct buf *out, const char *db, const char *table)
{
    doristype_ident(out, db);
    buf_putc(out, '.');
    doristype_ident(out, table);
}

static bool keyable(const struct schema_column *c, enum event_connector conn)
{
    struct dtype t;
    map_type(c, conn, false, &t);
    return !(t.base == B_FLOAT || t.base == B_DOUBLE || t.base == B_STRING || t.base == B_JSON ||
             t.base == B_ARRAY);
}

static void put_column_def(struct buf *out, const struct schema_column *c,
                           enum event_connector conn, bool key)
{
    doristype_ident(out, c->name);
    buf_putc(out, ' ');
    doristype_column_type(out, c, conn, key);
    buf_puts(out, key ? " NOT NULL" : " NULL");
}

static void put_property(struct buf *out, bool *first, const char *name, const char *value)
{
    buf_puts(out, *first ? "" : ", ");
    *first = false;
    doristype_sql_string(out, name);
    buf_puts(out, " = ");
    doristype_sql_string(out, value);
}

static bool user_sets(const struct doristype_table_spec *spec, const char *name)
{
    for (size_t i = 0; i < spec->nprops; i++)
        if (strcmp(spec->prop_names[i], name) == 0)
            return true;
    return false;
}

void doristype_create_table(struct buf *out, const struct doristype_table_spec *spec)
{
    const struct schema_table *src = spec->src;
    bool unique = schema_table_nkeys(src) > 0;
    /* DUPLICATE KEY sorts by its first column when Doris can use that column as a key. */
    size_t dup_key = src->ncols;
    if (!unique)
        for (size_t i = 0; i < src->ncols && dup_key == src->ncols; i++)
            if (keyable(&src->cols[i], spec->conn))
                dup_key = i;

    buf_puts(out, "CREATE TABLE IF NOT EXISTS ");
    put_table_name(out, spec->db, spec->name);
    buf_puts(out, " (");
    bool first = true;
    /* Doris wants the key columns first. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < src->ncols; i++) {
            const struct schema_column *c = &src->cols[i];
            bool is_key = unique ? c->key : i == dup_key;
            if (is_key != (pass == 0))
                continue;
            buf_puts(out, first ? "" : ", ");
            first = false;
            put_column_def(out, c, spec->conn, unique && is_key);
        }
    }
    buf_puts(out, ") ENGINE=OLAP ");
    if (unique || dup_key < src->ncols) {
        buf_puts(out, unique ? "UNIQUE KEY(" : "DUPLICATE KEY(");
        first = true;
        for (size_t i = 0; i < src->ncols; i++) {
            if (unique ? !src->cols[i].key : i != dup_key)
                continue;
            buf_puts(out, first ? "" : ", ");
            first = false;
            doristype_ident(out, src->cols[i].name);
        }
        buf_puts(out, ") ");
    }
    if (unique) {
        buf_puts(out, "DISTRIBUTED BY HASH(");
        first = true;
        for (size_t i = 0; i < src->ncols; i++) {
            if (!src->cols[i].key)
                continue;
            buf_puts(out, first ? "" : ", ");
            first = false;
            doristype_ident(out, src->cols[i].name);
        }
        buf_puts(out, ")");
    } else {
        buf_puts(out, "DISTRIBUTED BY RANDOM");
    }
    if (spec->buckets > 0)
        buf_printf(out, " BUCKETS %d", spec->buckets);
    else
        buf_puts(out, " BUCKETS AUTO");

    buf_puts(out, " PROPERTIES (");
    first = true;
    static const char *const unique_defaults[][2] = {{"enable_unique_key_merge_on_write", "true"},
                                                     {"light_schema_change", "true"},
                                                     {"function_column.sequence_type", "bigint"}};
    static const char *const dup_defaults[][2] = {{"light_schema_change", "true"}};
    const char *const(*defs)[2] = unique ? unique_defaults : dup_defaults;
    size_t ndefs = unique ? 3 : 1;
    for (size_t i = 0; i < ndefs; i++)
        if (!user_sets(spec, defs[i][0]))
            put_property(out, &first, defs[i][0], defs[i][1]);
    if (!unique && dup_key == src->ncols &&
        !user_sets(spec, "enable_duplicate_without_keys_by_default"))
        put_property(out, &first, "enable_duplicate_without_keys_by_default", "true");
    for (size_t i = 0; i < spec->nprops; i++)
        put_property(out, &first, spec->prop_names[i], spec->prop_values[i]);
    buf_putc(out, ')');
}

void doristype_add_column(struct buf *out, const char *db, const char *table,
                          const struct schema_column *c, enum event_connector conn)
{
    buf_puts(out, "ALTER TABLE ");
    put_table_name(out, db, table);
    buf_puts(out, " ADD COLUMN ");
    put_column_def(out, c, conn, false);
}

void doristype_drop_column(struct buf *out, const char *db, const char *table, const char *name)
{
    buf_puts(out, "ALTER TABLE ");
    put_table_name(out, db, table);
    buf_puts(out, " DROP COLUMN ");
    doristype_ident(out, name);
}

void doristype_modify_column(struct buf *out, const char *db, const char *table,
                             const struct schema_column *c, enum event_connector conn, bool key)
{
    buf_puts(out, "ALTER TABLE ");
    put_table_name(out, db, table);
    buf_puts(out, " MODIFY COLUMN ");
    doristype_ident(out, c->name);
    buf_putc(out, ' ');
    doristype_column_type(out, c, conn, key);
    buf_puts(out, key ? " KEY NOT NULL" : " NULL");
}

/* Splits "NAME(a,b)" into the name and up to two numbers (-1 when absent). */
static void parse_type(const char *s, char *name, size_t namelen, long *a, long *b)
{
    size_t n = 0;
    while (s[n] && s[n] != '(' && n + 1 < namelen) {
        name[n] = s[n];
        n++;
    }
    name[n] = '\0';
    *a = *b = -1;
    const char *p = strchr(s, '(');
    if (p && sscanf(p, "(%ld,%ld)", a, b) < 1)
        *a = -1;
}

static int int_rank(const char *name)
{
    static const char *const ranks[] = {"TINYINT", "SMALLINT", "INT", "BIGINT", "LARGEINT"};
    for (int i = 0; i < 5; i++)
        if (strcmp(name, ranks[i]) == 0)
            return i;
    return -1;
}

bool doristype_widens(const char *from, const char *to)
{
    char fn[32], tn[32];
    long fa, fb, ta, tb;
    parse_type(from, fn, sizeof fn, &fa, &fb);
    parse_type(to, tn, sizeof tn, &ta, &tb);
    if (int_rank(fn) >= 0 && int_rank(tn) > int_rank(fn))
        return true;
    if (strcmp(fn, "FLOAT") == 0 && strcmp(tn, "DOUBLE") == 0)
        return true;
    if (strcmp(fn, "VARCHAR") == 0)
        return strcmp(tn, "STRING") == 0 || (strcmp(tn, "VARCHAR") == 0 && ta > fa);
    if (strcmp(fn, "DECIMAL") == 0 && strcmp(tn, "DECIMAL") == 0)
        return ta > fa && tb == fb;
    return false;
}
