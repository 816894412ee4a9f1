/* mysql_schema: information_schema table definitions and their history (see mysql_schema.h). */
#include "mysql_schema.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/buf.h"
#include "../src/mem.h"

/* Definitions ------------------------------------------------------------------------------ */

char *mysql_schema_query(const char *dbs)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b,
             "SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, "
             "c.IS_NULLABLE, c.COLUMN_DEFAULT, c.CHARACTER_SET_NAME, c.COLLATION_NAME, co.ID, "
             "k.SEQ_IN_INDEX "
             "FROM information_schema.COLUMNS c "
             "JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA "
             "AND t.TABLE_NAME = c.TABLE_NAME AND t.TABLE_TYPE = 'BASE TABLE' "
             "LEFT JOIN information_schema.COLLATIONS co ON co.COLLATION_NAME = c.COLLATION_NAME "
             "LEFT JOIN information_schema.STATISTICS k ON k.TABLE_SCHEMA = c.TABLE_SCHEMA "
             "AND k.TABLE_NAME = c.TABLE_NAME AND k.COLUMN_NAME = c.COLUMN_NAME "
             "AND k.INDEX_NAME = 'PRIMARY' WHERE ");
    if (dbs)
        buf_printf(&b, "c.TABLE_SCHEMA IN (%s) ", dbs);
    else
        buf_puts(&b, "c.TABLE_SCHEMA NOT IN ('mysql', 'information_schema', "
                     "'performance_schema', 'sys') ");
    buf_puts(&b, "ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION");
    return buf_take(&b);
}

static void column_clear(struct binlog_column *c)
{
    free(c->name);
    for (size_t i = 0; i < c->n_labels; i++)
        free(c->labels[i]);
    free(c->labels);
}

void mysql_table_def_free(struct mysql_table_def *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->ncols; i++) {
        column_clear(&d->cols[i]);
        free(d->defaults[i]);
        free(d->collation_names[i]);
    }
    free(d->cols);
    free(d->defaults);
    free(d->collation_names);
    free(d->key);
    free(d->db);
    free(d->name);
    free(d);
}

static struct mysql_table_def *def_new(const char *db, const char *name, size_t ncols)
{
    struct mysql_table_def *d = mem_calloc(1, sizeof *d);
    d->db = mem_strdup(db);
    d->name = mem_strdup(name);
    d->ncols = ncols;
    d->cols = mem_calloc(ncols ? ncols : 1, sizeof *d->cols);
    d->defaults = mem_calloc(ncols ? ncols : 1, sizeof *d->defaults);
    d->collation_names = mem_calloc(ncols ? ncols : 1, sizeof *d->collation_names);
    d->key = mem_calloc(ncols ? ncols : 1, sizeof *d->key);
    return d;
}

struct mysql_table_def *mysql_table_def_copy(const struct mysql_table_def *s)
{
    struct mysql_table_def *d = def_new(s->db, s->name, s->ncols);
    for (size_t i = 0; i < s->ncols; i++) {
        d->cols[i] = s->cols[i];
        d->cols[i].name = mem_strdup(s->cols[i].name);
        d->cols[i].labels = NULL;
        if (s->cols[i].labels) {
            d->cols[i].labels =
                mem_calloc(s->cols[i].n_labels ? s->cols[i].n_labels : 1, sizeof(char *));
            for (size_t k = 0; k < s->cols[i].n_labels; k++)
                d->cols[i].labels[k] = mem_strdup(s->cols[i].labels[k]);
        }
        d->defaults[i] = mem_strdup(s->defaults[i]);
        d->collation_names[i] = mem_strdup(s->collation_names[i]);
    }
    memcpy(d->key, s->key, s->nkey * sizeof *d->key);
    d->nkey = s->nkey;
    return d;
}

static bool str_eq(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

bool mysql_table_def_equal(const struct mysql_table_def *a, const struct mysql_table_def *b)
{
    if (a->ncols != b->ncols || a->nkey != b->nkey || !str_eq(a->db, b->db) ||
        !str_eq(a->name, b->name))
        return false;
    for (size_t i = 0; i < a->nkey; i++)
        if (a->key[i] != b->key[i])
            return false;
    for (size_t i = 0; i < a->ncols; i++) {
        const struct binlog_column *x = &a->cols[i], *y = &b->cols[i];
        if (x->type != y->type || x->real_type != y->real_type || x->meta != y->meta ||
            x->nullable != y->nullable || x->is_unsigned != y->is_unsigned ||
            x->collation != y->collation || !str_eq(x->name, y->name) ||
            x->n_labels != y->n_labels || x->geometry_type != y->geometry_type ||
            x->key != y->key || !str_eq(a->defaults[i], b->defaults[i]))
            return false;
        for (size_t k = 0; k < x->n_labels; k++)
            if (strcmp(x->labels[k], y->labels[k]) != 0)
                return false;
    }
    return true;
}

/* The values inside enum('a','b''c') or set(...): quoted, with quotes doubled. */
static int parse_labels(const char *type, struct binlog_column *c, struct error *err)
{
    const char *p = strchr(type, '(');
    size_t cap = 8, n = 0;
    char **labels = mem_calloc(cap, sizeof *labels);
    if (p == NULL)
        goto bad;
    p++;
    while (*p == '\'') {
        struct buf b;
        buf_init(&b);
        p++;
        for (;;) {
            if (*p == '\0') {
                buf_free(&b);
                goto bad;
            }
            if (*p == '\'' && p[1] == '\'') {
                buf_putc(&b, '\'');
                p += 2;
                continue;
            }
            if (*p == '\'')
                break;
            if (*p == '\\' && p[1] != '\0') {
                p++;
                buf_putc(&b, *p == 'n' ? '\n' : *p == 't' ? '\t' : *p);
                p++;
                continue;
            }
            buf_putc(&b, *p++);
        }
        p++;
        if (n == cap) {
            cap *= 2;
            labels = mem_realloc(labels, cap * sizeof *labels);
        }
        labels[n++] = b.data ? buf_take(&b) : mem_strdup("");
        if (*p == ',')
            p++;
    }
    if (*p != ')')
        goto bad;
    c->labels = labels;
    c->n_labels = n;
    return 0;
bad:
    for (size_t i = 0; i < n; i++)
        free(labels[i]);
    free(labels);
    return error_set(err, "cannot read the labels of column type %s", type);
}

/* The first and second numbers inside COLUMN_TYPE's parentheses ("decimal(10,2)"). */
static void type_args(const char *type, long *a, long *b)
{
    *a = -1;
    *b = -1;
    const char *p = strchr(type, '(');
    if (p == NULL)
        return;
    *a = strtol(p + 1, NULL, 10);
    const char *comma = strchr(p, ',');
    const char *close = strchr(p, ')');
    if (comma && (close == NULL || comma < close))
        *b = strtol(comma + 1, NULL, 10);
}

static const struct {
    const char *name;
    uint8_t type;
    uint32_t geometry;
} simple_types[] = {
    {"tinyint", BT_TINY, 0},
    {"smallint", BT_SHORT, 0},
    {"mediumint", BT_INT24, 0},
    {"int", BT_LONG, 0},
    {"integer", BT_LONG, 0},
    {"bigint", BT_LONGLONG, 0},
    {"year", BT_YEAR, 0},
    {"date", BT_DATE, 0},
    {"json", BT_JSON, 0},
    {"geometry", BT_GEOMETRY, 0},
    {"point", BT_GEOMETRY, 1},
    {"linestring", BT_GEOMETRY, 2},
    {"polygon", BT_GEOMETRY, 3},
    {"multipoint", BT_GEOMETRY, 4},
    {"multilinestring", BT_GEOMETRY, 5},
    {"multipolygon", BT_GEOMETRY, 6},
    {"geometrycollection", BT_GEOMETRY, 7},
    {"geomcollection", BT_GEOMETRY, 7},
};

/* Fills the column's binlog description from DATA_TYPE and COLUMN_TYPE. */
static int column_from_type(struct binlog_column *c, const char *data_type, const char *column_type,
                            struct error *err)
{
    long a, b;
    int maxlen = c->collation ? binlog_collation_maxlen(c->collation) : 1;
    type_args(column_type, &a, &b);
    c->is_unsigned = strstr(column_type, "unsigned") != NULL;
    for (size_t i = 0; i < sizeof simple_types / sizeof simple_types[0]; i++) {
        if (strcmp(data_type, simple_types[i].name) == 0) {
            c->type = c->real_type = simple_types[i].type;
            c->geometry_type = simple_types[i].geometry;
            c->meta = c->type == BT_JSON || c->type == BT_GEOMETRY ? 4 : 0;
            return 0;
        }
    }
    if (strcmp(data_type, "decimal") == 0 || strcmp(data_type, "numeric") == 0) {
        c->type = c->real_type = BT_NEWDECIMAL;
        c->meta = (uint16_t)((a < 0 ? 10 : a) << 8 | (b < 0 ? 0 : b));
    } else if (strcmp(data_type, "float") == 0) {
        c->type = c->real_type = BT_FLOAT;
        c->meta = 4;
    } else if (strcmp(data_type, "double") == 0 || strcmp(data_type, "real") == 0) {
        c->type = c->real_type = BT_DOUBLE;
        c->meta = 8;
    } else if (strcmp(data_type, "bit") == 0) {
        long m = a < 0 ? 1 : a;
        c->type = c->real_type = BT_BIT;
        c->meta = (uint16_t)((m / 8) << 8 | (m % 8));
    } else if (strcmp(data_type, "time") == 0) {
        c->type = c->real_type = BT_TIME2;
        c->meta = (uint16_t)(a < 0 ? 0 : a);
    } else if (strcmp(data_type, "datetime") == 0) {
        c->type = c->real_type = BT_DATETIME2;
        c->meta = (uint16_t)(a < 0 ? 0 : a);
    } else if (strcmp(data_type, "timestamp") == 0) {
        c->type = c->real_type = BT_TIMESTAMP2;
        c->meta = (uint16_t)(a < 0 ? 0 : a);
    } else if (strcmp(data_type, "char") == 0 || strcmp(data_type, "binary") == 0) {
        if (strcmp(data_type, "binary") == 0) {
            c->collation = BINLOG_COLLATION_BINARY;
            maxlen = 1;
        }
        c->type = c->real_type = BT_STRING;
        c->meta = (uint16_t)((a < 0 ? 1 : a) * maxlen);
    } else if (strcmp(data_type, "varchar") == 0 || strcmp(data_type, "varbinary") == 0) {
        if (strcmp(data_type, "varbinary") == 0) {
            c->collation = BINLOG_COLLATION_BINARY;
            maxlen = 1;
        }
        c->type = c->real_type = BT_VARCHAR;
        c->meta = (uint16_t)((a < 0 ? 0 : a) * maxlen);
    } else if (strstr(data_type, "text") || strstr(data_type, "blob")) {
        if (strstr(data_type, "blob"))
            c->collation = BINLOG_COLLATION_BINARY;
        c->type = c->real_type = BT_BLOB;
        c->meta = strncmp(data_type, "tiny", 4) == 0     ? 1
                  : strncmp(data_type, "medium", 6) == 0 ? 3
                  : strncmp(data_type, "long", 4) == 0   ? 4
                                                         : 2;
    } else if (strcmp(data_type, "enum") == 0 || strcmp(data_type, "set") == 0) {
        bool is_enum = data_type[0] == 'e';
        c->type = BT_STRING;
        c->real_type = is_enum ? BT_ENUM : BT_SET;
        if (parse_labels(column_type, c, err) < 0)
            return -1;
        c->meta = is_enum ? (c->n_labels > 255 ? 2 : 1)
                          : (uint16_t)(c->n_labels > 32 ? 8 : (c->n_labels + 7) / 8);
    } else {
        /* Types dbtail has no binlog decoding for (MariaDB uuid, inet6, ...): their text. */
        c->type = c->real_type = BT_VARCHAR;
        c->meta = 255;
    }
    return 0;
}

static void normalize_default(char **dflt, bool mariadb)
{
    char *v = *dflt;
    if (v == NULL || !mariadb)
        return;
    /* MariaDB 10.2+ gives the default as an expression: NULL, 'quoted text' or other SQL. */
    if (strcmp(v, "NULL") == 0) {
        free(v);
        *dflt = NULL;
        return;
    }
    size_t n = strlen(v);
    if (n >= 2 && v[0] == '\'' && v[n - 1] == '\'') {
        struct buf b;
        buf_init(&b);
        for (size_t i = 1; i + 1 < n; i++) {
            if (v[i] == '\'' && v[i + 1] == '\'')
                i++;
            else if (v[i] == '\\' && i + 2 < n)
                i++;
            buf_putc(&b, v[i]);
        }
        free(v);
        *dflt = b.data ? buf_take(&b) : mem_strdup("");
        return;
    }
    /* Unquoted is a number or an expression (current_timestamp(), uuid()): the value of an
     * expression is per row, no constant a sink could give the rows already there. */
    char *end;
    (void)strtod(v, &end);
    if (end == v || *end != '\0') {
        free(v);
        *dflt = NULL;
    }
}

int mysql_table_def_from_rows(const char *const *const *rows, size_t nrows, bool mariadb,
                              struct mysql_table_def **out, struct error *err)
{
    *out = NULL;
    if (nrows == 0)
        return error_set(err, "a table without columns");
    struct mysql_table_def *d = def_new(rows[0][MSF_DB], rows[0][MSF_TABLE], nrows);
    long keyseq[4096];
    size_t nkeys = 0;
    for (size_t i = 0; i < nrows; i++) {
        const char *const *r = rows[i];
        struct binlog_column *c = &d->cols[i];
        if (r[MSF_COLUMN] == NULL || r[MSF_DATA_TYPE] == NULL || r[MSF_COLUMN_TYPE] == NULL) {
            mysql_table_def_free(d);
            return error_set(err,
                             "information_schema gave a column of %s.%s without a name or "
                             "type",
                             rows[0][MSF_DB], rows[0][MSF_TABLE]);
        }
        c->name = mem_strdup(r[MSF_COLUMN]);
        c->nullable = r[MSF_NULLABLE] && strcmp(r[MSF_NULLABLE], "YES") == 0;
        c->collation = r[MSF_COLLATION_ID] ? (uint16_t)atoi(r[MSF_COLLATION_ID]) : 0;
        d->collation_names[i] = mem_strdup(r[MSF_COLLATION]);
        d->defaults[i] = mem_strdup(r[MSF_DEFAULT]);
        normalize_default(&d->defaults[i], mariadb);
        char lower[64];
        snprintf(lower, sizeof lower, "%s", r[MSF_DATA_TYPE]);
        for (char *p = lower; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (column_from_type(c, lower, r[MSF_COLUMN_TYPE], err) < 0) {
            error_wrap(err, "column %s.%s.%s: ", rows[0][MSF_DB], rows[0][MSF_TABLE],
                       r[MSF_COLUMN]);
            mysql_table_def_free(d);
            return -1;
        }
        if (r[MSF_KEY_SEQ] && nkeys < sizeof keyseq / sizeof keyseq[0]) {
            c->key = true;
            keyseq[nkeys] = atol(r[MSF_KEY_SEQ]);
            d->key[nkeys++] = i;
        }
    }
    /* Key columns in SEQ_IN_INDEX order (insertion sort: keys are short). */
    for (size_t i = 1; i < nkeys; i++) {
        for (size_t j = i; j > 0 && keyseq[j - 1] > keyseq[j]; j--) {
            long t = keyseq[j];
            keyseq[j] = keyseq[j - 1];
            keyseq[j - 1] = t;
            size_t u = d->key[j];
            d->key[j] = d->key[j - 1];
            d->key[j - 1] = u;
        }
    }
    d->nkey = nkeys;
    *out = d;
    return 0;
}

struct schema_table *mysql_table_def_schema(const struct mysql_table_def *d)
{
    struct schema_table *t = schema_table_new(d->db, NULL, d->name);
    for (size_t i = 0; i < d->ncols; i++) {
        struct schema_column *c = schema_table_add_column(t, d->cols[i].name, "", VALUE_TEXT);
        binlog_column_to_schema(&d->cols[i], c);
        c->default_value = mem_strdup(d->defaults[i]);
    }
    return t;
}

/* Column types that the binlog may write for what information_schema calls one type. */
static int type_family(uint8_t t)
{
    switch (t) {
    case BT_TIME:
    case BT_TIME2:
        return BT_TIME2;
    case BT_DATETIME:
    case BT_DATETIME2:
        return BT_DATETIME2;
    case BT_TIMESTAMP:
    case BT_TIMESTAMP2:
        return BT_TIMESTAMP2;
    case BT_VAR_STRING:
    case BT_VARCHAR:
        return BT_VARCHAR;
    case BT_TINY_BLOB:
    case BT_MEDIUM_BLOB:
    case BT_LONG_BLOB:
    case BT_BLOB:
        return BT_BLOB;
    case BT_NEWDATE:
        return BT_DATE;
    default:
        return t;
    }
}

int mysql_table_def_complete(const struct mysql_table_def *d, struct binlog_column *cols,
                             size_t ncols, bool has_key, struct error *err)
{
    if (ncols != d->ncols)
        return error_set(err,
                         "%s.%s has %zu columns in its TABLE_MAP but %zu in "
                         "information_schema",
                         d->db, d->name, ncols, d->ncols);
    /* Check everything before changing anything. */
    for (size_t i = 0; i < ncols; i++) {
        const struct binlog_column *c = &cols[i], *s = &d->cols[i];
        /* A type dbtail does not know maps to VARCHAR(255) and matches anything. */
        bool lenient = s->type == BT_VARCHAR && s->meta == 255;
        if (!lenient && (type_family(c->type) != type_family(s->type) ||
                         (c->type == BT_STRING && c->real_type != s->real_type)))
            return error_set(err,
                             "%s.%s column %zu is of type %u in its TABLE_MAP but %s "
                             "(type %u) in information_schema",
                             d->db, d->name, i + 1, c->type, s->name, s->type);
        if (c->name && strcmp(c->name, s->name) != 0)
            return error_set(err,
                             "%s.%s column %zu is %s in its TABLE_MAP but %s in "
                             "information_schema",
                             d->db, d->name, i + 1, c->name, s->name);
    }
    for (size_t i = 0; i < ncols; i++) {
        struct binlog_column *c = &cols[i];
        const struct binlog_column *s = &d->cols[i];
        if (c->name == NULL)
            c->name = mem_strdup(s->name);
        if (c->is_unsigned < 0)
            c->is_unsigned = s->is_unsigned;
        if (c->collation == 0)
            c->collation = s->collation;
        if (c->labels == NULL && s->labels) {
            c->labels = mem_calloc(s->n_labels ? s->n_labels : 1, sizeof(char *));
            for (size_t k = 0; k < s->n_labels; k++)
                c->labels[k] = mem_strdup(s->labels[k]);
            c->n_labels = s->n_labels;
        }
        if (c->geometry_type == 0)
            c->geometry_type = s->geometry_type;
        if (!has_key)
            c->key = s->key;
    }
    return 0;
}

/* Text values ------------------------------------------------------------------------------ */

static int bad_text(const struct binlog_column *col, const char *text, size_t len,
                    struct error *err)
{
    return error_set(err, "column %s: cannot read \"%.*s\" as type %u", col->name ? col->name : "?",
                     (int)(len > 40 ? 40 : len), text, col->type);
}

/* Reads n digits. */
static bool digits(const char **p, const char *end, int n, long *v)
{
    long r = 0;
    for (int i = 0; i < n; i++) {
        if (*p >= end || !isdigit((unsigned char)**p))
            return false;
        r = r * 10 + (**p - '0');
        (*p)++;
    }
    *v = r;
    return true;
}

/* ".ffffff" (any number of digits up to 6) as microseconds; nothing is 0. */
static bool fraction(const char **p, const char *end, int64_t *us)
{
    *us = 0;
    if (*p >= end || **p != '.')
        return true;
    (*p)++;
    int n = 0;
    while (*p < end && isdigit((unsigned char)**p)) {
        if (n < 6)
            *us = *us * 10 + (**p - '0');
        n++;
        (*p)++;
    }
    for (; n < 6; n++)
        *us *= 10;
    return true;
}

/* An integer as the server writes it: an optional '-' and decimal digits, in range. */
static bool parse_int(const char *p, const char *end, bool is_unsigned, struct value *out)
{
    bool neg = p < end && *p == '-';
    if (neg)
        p++;
    if (p == end)
        return false;
    uint64_t v = 0;
    for (; p < end; p++) {
        unsigned d = (unsigned)(unsigned char)*p - '0';
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (is_unsigned) {
        if (neg && v != 0)
            return false;
        out->kind = VALUE_UINT;
        out->v.u = v;
        return true;
    }
    if (v > (uint64_t)INT64_MAX + neg)
        return false;
    out->kind = VALUE_INT;
    out->v.i = neg ? -(int64_t)(v - 1) - 1 : (int64_t)v;
    return true;
}

/* Clinger's fast path: a plain decimal "[-]digits[.digits]" whose digits m < 2^53 and with
 * k <= 22 digits after the point is m / 10^k, one correctly rounded division of two exact
 * doubles, so exactly what strtod returns. False sends anything else to strtod. */
static bool fast_double(const char *p, const char *end, double *out)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    bool neg = p < end && *p == '-';
    if (neg)
        p++;
    uint64_t m = 0;
    int ndigits = 0, after = -1;
    for (; p < end; p++) {
        if (*p == '.' && after < 0) {
            after = 0;
            continue;
        }
        unsigned d = (unsigned)(unsigned char)*p - '0';
        if (d > 9 || ++ndigits > 16)
            return false;
        m = m * 10 + d;
        if (after >= 0)
            after++;
    }
    if (ndigits == 0 || m > (UINT64_C(1) << 53) || after > 22)
        return false;
    double v = (double)m / pow10[after > 0 ? after : 0];
    *out = neg ? -v : v;
    return true;
}

static int parse_date(const char **p, const char *end, long *y, long *m, long *d)
{
    if (!digits(p, end, 4, y) || *p >= end || *(*p)++ != '-' || !digits(p, end, 2, m) ||
        *p >= end || *(*p)++ != '-' || !digits(p, end, 2, d))
        return -1;
    return 0;
}

int mysql_text_value(const struct binlog_column *col, const char *text, size_t len, struct arena *a,
                     struct value *out, struct error *err)
{
    memset(out, 0, sizeof *out);
    char num[96];
    const char *p = text, *end = text + len;
    switch (col->type) {
    case BT_TINY:
    case BT_SHORT:
    case BT_INT24:
    case BT_LONG:
    case BT_LONGLONG:
    case BT_YEAR:
        if (!parse_int(text, end, col->type == BT_LONGLONG && col->is_unsigned == 1, out))
            return bad_text(col, text, len, err);
        return 0;
    case BT_FLOAT:
    case BT_DOUBLE: {
        double v;
        if (!fast_double(text, end, &v)) {
            if (len == 0 || len >= sizeof num)
                return bad_text(col, text, len, err);
            memcpy(num, text, len);
            num[len] = '\0';
            char *e;
            v = strtod(num, &e);
            if (*e != '\0')
                return bad_text(col, text, len, err);
        }
        out->kind = col->type == BT_FLOAT ? VALUE_FLOAT32 : VALUE_FLOAT64;
        out->v.f = col->type == BT_FLOAT ? (double)(float)v : v;
        return 0;
    }
    case BT_NEWDECIMAL:
        out->kind = VALUE_DECIMAL;
        out->v.s.p = text;
        out->v.s.len = len;
        return 0;
    case BT_BIT: {
        unsigned nbits = (col->meta >> 8) * 8 + (col->meta & 0xFF);
        if (nbits == 1) {
            out->kind = VALUE_BOOL;
            out->v.b = len > 0 && (text[len - 1] & 1);
            return 0;
        }
        uint8_t *le = arena_alloc(a, len ? len : 1);
        for (size_t i = 0; i < len; i++)
            le[i] = (uint8_t)text[len - 1 - i];
        out->kind = VALUE_BITS;
        out->v.s.p = (const char *)le;
        out->v.s.len = len;
        out->v.s.i = nbits;
        return 0;
    }
    case BT_DATE:
    case BT_NEWDATE: {
        long y, m, d;
        if (parse_date(&p, end, &y, &m, &d) < 0 || p != end)
            return bad_text(col, text, len, err);
        if (m == 0 || d == 0) {
            out->kind = VALUE_NULL;
            return 0;
        }
        out->kind = VALUE_DATE;
        out->v.i = binlog_days_from_civil(y, (unsigned)m, (unsigned)d);
        return 0;
    }
    case BT_DATETIME:
    case BT_DATETIME2:
    case BT_TIMESTAMP:
    case BT_TIMESTAMP2: {
        long y, m, d, hh, mi, ss;
        int64_t us;
        if (parse_date(&p, end, &y, &m, &d) < 0 || p >= end || (*p != ' ' && *p != 'T'))
            return bad_text(col, text, len, err);
        p++;
        if (!digits(&p, end, 2, &hh) || p >= end || *p++ != ':' || !digits(&p, end, 2, &mi) ||
            p >= end || *p++ != ':' || !digits(&p, end, 2, &ss) || !fraction(&p, end, &us) ||
            p != end)
            return bad_text(col, text, len, err);
        if (m == 0 || d == 0) {
            out->kind = VALUE_NULL;
            return 0;
        }
        int64_t days = binlog_days_from_civil(y, (unsigned)m, (unsigned)d);
        out->kind = col->type == BT_DATETIME || col->type == BT_DATETIME2 ? VALUE_DATETIME
                                                                          : VALUE_TIMESTAMP;
        out->v.i = ((days * 86400) + hh * 3600 + mi * 60 + ss) * 1000000 + us;
        return 0;
    }
    case BT_TIME:
    case BT_TIME2: {
        bool neg = p < end && *p == '-';
        if (neg)
            p++;
        long hh = 0, mi, ss;
        int64_t us;
        if (p >= end || !isdigit((unsigned char)*p))
            return bad_text(col, text, len, err);
        while (p < end && isdigit((unsigned char)*p) && hh < 100000)
            hh = hh * 10 + (*p++ - '0');
        if (p >= end || *p++ != ':' || !digits(&p, end, 2, &mi) || p >= end || *p++ != ':' ||
            !digits(&p, end, 2, &ss) || !fraction(&p, end, &us) || p != end)
            return bad_text(col, text, len, err);
        int64_t v = ((int64_t)hh * 3600 + mi * 60 + ss) * 1000000 + us;
        out->kind = VALUE_TIME;
        out->v.i = neg ? -v : v;
        return 0;
    }
    case BT_JSON:
        out->kind = VALUE_JSON;
        out->v.s.p = text;
        out->v.s.len = len;
        return 0;
    case BT_GEOMETRY:
        if (len < 4)
            return bad_text(col, text, len, err);
        out->kind = VALUE_GEOMETRY;
        out->v.s.p = text + 4;
        out->v.s.len = len - 4;
        out->v.s.i = (int64_t)((uint32_t)(uint8_t)text[0] | (uint32_t)(uint8_t)text[1] << 8 |
                               (uint32_t)(uint8_t)text[2] << 16 | (uint32_t)(uint8_t)text[3] << 24);
        return 0;
    default:
        break;
    }
    enum value_kind kind = VALUE_STRING;
    if (col->real_type == BT_ENUM)
        kind = VALUE_ENUM;
    else if (col->real_type == BT_SET)
        kind = VALUE_SET;
    else if (col->collation == BINLOG_COLLATION_BINARY || col->type == BT_VECTOR)
        kind = VALUE_BYTES;
    out->kind = kind;
    out->v.s.p = text;
    out->v.s.len = len;
    return 0;
}

/* History ---------------------------------------------------------------------------------- */

int mysql_pos_cmp(struct mysql_pos a, struct mysql_pos b)
{
    if (a.file_index != b.file_index)
        return a.file_index < b.file_index ? -1 : 1;
    if (a.pos != b.pos)
        return a.pos < b.pos ? -1 : 1;
    return 0;
}

struct version {
    struct mysql_pos from;
    struct mysql_table_def *def; /* NULL: dropped */
};

struct table_hist {
    char *db, *name;
    struct version *v; /* by from, ascending */
    size_t n;
};

struct mysql_schema_history {
    struct table_hist *t;
    size_t n;
};

struct mysql_schema_history *mysql_schema_history_new(void)
{
    return mem_calloc(1, sizeof(struct mysql_schema_history));
}

void mysql_schema_history_free(struct mysql_schema_history *h)
{
    if (h == NULL)
        return;
    for (size_t i = 0; i < h->n; i++) {
        for (size_t k = 0; k < h->t[i].n; k++)
            mysql_table_def_free(h->t[i].v[k].def);
        free(h->t[i].v);
        free(h->t[i].db);
        free(h->t[i].name);
    }
    free(h->t);
    free(h);
}

static struct table_hist *find_hist(const struct mysql_schema_history *h, const char *db,
                                    const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->t[i].db, db) == 0 && strcmp(h->t[i].name, name) == 0)
            return &h->t[i];
    return NULL;
}

static struct table_hist *get_hist(struct mysql_schema_history *h, const char *db, const char *name)
{
    struct table_hist *t = find_hist(h, db, name);
    if (t)
        return t;
    h->t = mem_realloc(h->t, (h->n + 1) * sizeof *h->t);
    t = &h->t[h->n++];
    memset(t, 0, sizeof *t);
    t->db = mem_strdup(db);
    t->name = mem_strdup(name);
    return t;
}

/* Inserts a version at its place (a version at the same position replaces the old one). */
static void insert_version(struct table_hist *t, struct mysql_pos from, struct mysql_table_def *def)
{
    size_t i = t->n;
    while (i > 0 && mysql_pos_cmp(t->v[i - 1].from, from) > 0)
        i--;
    if (i > 0 && mysql_pos_cmp(t->v[i - 1].from, from) == 0) {
        mysql_table_def_free(t->v[i - 1].def);
        t->v[i - 1].def = def;
        return;
    }
    t->v = mem_realloc(t->v, (t->n + 1) * sizeof *t->v);
    memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof *t->v);
    t->v[i].from = from;
    t->v[i].def = def;
    t->n++;
}

bool mysql_schema_history_put(struct mysql_schema_history *h, struct mysql_pos from,
                              struct mysql_table_def *d)
{
    struct table_hist *t = get_hist(h, d->db, d->name);
    const struct mysql_table_def *cur = mysql_schema_history_at(h, d->db, d->name, from);
    if (cur && mysql_table_def_equal(cur, d)) {
        mysql_table_def_free(d);
        return false;
    }
    insert_version(t, from, d);
    return true;
}

void mysql_schema_history_drop(struct mysql_schema_history *h, struct mysql_pos from,
                               const char *db, const char *table)
{
    struct table_hist *t = find_hist(h, db, table);
    if (t == NULL || t->n == 0 || t->v[t->n - 1].def == NULL)
        return;
    insert_version(t, from, NULL);
}

const struct mysql_table_def *mysql_schema_history_at(const struct mysql_schema_history *h,
                                                      const char *db, const char *table,
                                                      struct mysql_pos at)
{
    const struct table_hist *t = find_hist(h, db, table);
    if (t == NULL)
        return NULL;
    const struct mysql_table_def *found = NULL;
    for (size_t i = 0; i < t->n && mysql_pos_cmp(t->v[i].from, at) <= 0; i++)
        found = t->v[i].def;
    return found;
}

const struct mysql_table_def *mysql_schema_history_latest(const struct mysql_schema_history *h,
                                                          size_t i)
{
    size_t k = 0;
    for (size_t n = 0; n < h->n; n++) {
        const struct table_hist *t = &h->t[n];
        if (t->n == 0 || t->v[t->n - 1].def == NULL)
            continue;
        if (k++ == i)
            return t->v[t->n - 1].def;
    }
    return NULL;
}

void mysql_schema_history_prune(struct mysql_schema_history *h, struct mysql_pos at)
{
    for (size_t n = 0; n < h->n; n++) {
        struct table_hist *t = &h->t[n];
        size_t keep = 0; /* index of the version valid at `at` */
        for (size_t i = 0; i < t->n && mysql_pos_cmp(t->v[i].from, at) <= 0; i++)
            keep = i;
        for (size_t i = 0; i < keep; i++)
            mysql_table_def_free(t->v[i].def);
        memmove(t->v, t->v + keep, (t->n - keep) * sizeof *t->v);
        t->n -= keep;
    }
}

static json_t *def_to_json(const struct mysql_table_def *d)
{
    json_t *cols = json_array();
    for (size_t i = 0; i < d->ncols; i++) {
        const struct binlog_column *c = &d->cols[i];
        json_t *jc = json_object();
        json_object_set_new(jc, "name", json_string(c->name));
        json_object_set_new(jc, "type", json_integer(c->type));
        json_object_set_new(jc, "real_type", json_integer(c->real_type));
        json_object_set_new(jc, "meta", json_integer(c->meta));
        json_object_set_new(jc, "nullable", json_boolean(c->nullable));
        json_object_set_new(jc, "unsigned", json_integer(c->is_unsigned));
        json_object_set_new(jc, "collation", json_integer(c->collation));
        if (d->collation_names[i])
            json_object_set_new(jc, "collation_name", json_string(d->collation_names[i]));
        if (c->geometry_type)
            json_object_set_new(jc, "geometry_type", json_integer(c->geometry_type));
        if (d->defaults[i])
            json_object_set_new(jc, "default", json_string(d->defaults[i]));
        if (c->labels) {
            json_t *l = json_array();
            for (size_t k = 0; k < c->n_labels; k++)
                json_array_append_new(l, json_string(c->labels[k]));
            json_object_set_new(jc, "labels", l);
        }
        json_array_append_new(cols, jc);
    }
    json_t *key = json_array();
    for (size_t i = 0; i < d->nkey; i++)
        json_array_append_new(key, json_integer((json_int_t)d->key[i]));
    return json_pack("{s:o, s:o}", "columns", cols, "key", key);
}

json_t *mysql_schema_history_to_json(const struct mysql_schema_history *h)
{
    json_t *tables = json_array();
    for (size_t n = 0; n < h->n; n++) {
        const struct table_hist *t = &h->t[n];
        if (t->n == 0)
            continue;
        json_t *versions = json_array();
        for (size_t i = 0; i < t->n; i++)
            json_array_append_new(versions,
                                  json_pack("{s:I, s:I, s:o}", "file_index",
                                            (json_int_t)t->v[i].from.file_index, "pos",
                                            (json_int_t)t->v[i].from.pos, "def",
                                            t->v[i].def ? def_to_json(t->v[i].def) : json_null()));
        json_array_append_new(tables, json_pack("{s:s, s:s, s:o}", "db", t->db, "table", t->name,
                                                "versions", versions));
    }
    return json_pack("{s:i, s:o}", "format", 1, "tables", tables);
}

static int64_t jint(const json_t *o, const char *k, int64_t def)
{
    const json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? json_integer_value(v) : def;
}

static struct mysql_table_def *def_from_json(const char *db, const char *name, const json_t *j)
{
    const json_t *cols = json_object_get(j, "columns"), *key = json_object_get(j, "key");
    if (!json_is_array(cols) || !json_is_array(key))
        return NULL;
    struct mysql_table_def *d = def_new(db, name, json_array_size(cols));
    for (size_t i = 0; i < d->ncols; i++) {
        const json_t *jc = json_array_get(cols, i);
        struct binlog_column *c = &d->cols[i];
        const char *cname = json_string_value(json_object_get(jc, "name"));
        if (cname == NULL) {
            mysql_table_def_free(d);
            return NULL;
        }
        c->name = mem_strdup(cname);
        c->type = (uint8_t)jint(jc, "type", 0);
        c->real_type = (uint8_t)jint(jc, "real_type", c->type);
        c->meta = (uint16_t)jint(jc, "meta", 0);
        c->nullable = json_is_true(json_object_get(jc, "nullable"));
        c->is_unsigned = (int8_t)jint(jc, "unsigned", -1);
        c->collation = (uint16_t)jint(jc, "collation", 0);
        c->geometry_type = (uint32_t)jint(jc, "geometry_type", 0);
        d->collation_names[i] =
            mem_strdup(json_string_value(json_object_get(jc, "collation_name")));
        d->defaults[i] = mem_strdup(json_string_value(json_object_get(jc, "default")));
        const json_t *labels = json_object_get(jc, "labels");
        if (json_is_array(labels)) {
            c->n_labels = json_array_size(labels);
            c->labels = mem_calloc(c->n_labels ? c->n_labels : 1, sizeof(char *));
            for (size_t k = 0; k < c->n_labels; k++) {
                const char *l = json_string_value(json_array_get(labels, k));
                c->labels[k] = mem_strdup(l ? l : "");
            }
        }
    }
    for (size_t i = 0; i < json_array_size(key) && i < d->ncols; i++) {
        json_int_t k = json_integer_value(json_array_get(key, i));
        if (k < 0 || (size_t)k >= d->ncols) {
            mysql_table_def_free(d);
            return NULL;
        }
        d->key[d->nkey++] = (size_t)k;
        d->cols[k].key = true;
    }
    return d;
}

int mysql_schema_history_from_json(struct mysql_schema_history *h, const json_t *j,
                                   struct error *err)
{
    const json_t *tables = json_object_get(j, "tables");
    if (!json_is_object(j) || !json_is_array(tables) || jint(j, "format", 0) != 1)
        return error_set(err, "saved MySQL schemas are malformed (want {\"format\":1, "
                              "\"tables\":[...]})");
    size_t i;
    const json_t *jt;
    json_array_foreach(tables, i, jt)
    {
        const char *db = json_string_value(json_object_get(jt, "db"));
        const char *name = json_string_value(json_object_get(jt, "table"));
        const json_t *versions = json_object_get(jt, "versions");
        if (db == NULL || name == NULL || !json_is_array(versions))
            return error_set(err, "saved MySQL schema %zu is malformed", i + 1);
        struct table_hist *t = get_hist(h, db, name);
        size_t k;
        const json_t *jv;
        json_array_foreach(versions, k, jv)
        {
            struct mysql_pos from = {jint(jv, "file_index", -1), (uint64_t)jint(jv, "pos", 0)};
            const json_t *jd = json_object_get(jv, "def");
            struct mysql_table_def *d = NULL;
            if (!json_is_null(jd)) {
                d = def_from_json(db, name, jd);
                if (d == NULL)
                    return error_set(err, "saved MySQL schema of %s.%s is malformed", db, name);
            }
            insert_version(t, from, d);
        }
    }
    return 0;
}
