/*
 * Unit tests of schemas/mysql_schema.c: definitions from information_schema rows (as MySQL 5.6
 * and MariaDB 10.11 print them), completing TABLE_MAPs, the server's text values, and the
 * history of versions with its JSON form.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../schemas/mysql_schema.h"
#include "../../src/mem.h"
#include "unit.h"

/* One information_schema row: db, table, column, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE,
 * COLUMN_DEFAULT, CHARACTER_SET_NAME, COLLATION_NAME, collation ID, SEQ_IN_INDEX. */
#define ROW(...) ((const char *const[MSF_COUNT]){__VA_ARGS__})

static struct mysql_table_def *sample(bool mariadb)
{
    const char *const *rows[] = {
        ROW("d", "t", "b", "varchar", "varchar(10)", "NO", mariadb ? "'it''s'" : "it's", "utf8mb4",
            "utf8mb4_general_ci", "45", "2"),
        ROW("d", "t", "a", "int", "int(10) unsigned", "NO", NULL, NULL, NULL, NULL, "1"),
        ROW("d", "t", "e", "enum", "enum('x','y''z','')", "YES", mariadb ? "NULL" : NULL, "latin1",
            "latin1_swedish_ci", "8", NULL),
        ROW("d", "t", "s", "set", "set('r','g','b')", "YES", NULL, "utf8mb4", "utf8mb4_bin", "46",
            NULL),
        ROW("d", "t", "n", "decimal", "decimal(12,3)", "YES", "1.500", NULL, NULL, NULL, NULL),
        ROW("d", "t", "bt", "bit", "bit(10)", "YES", NULL, NULL, NULL, NULL, NULL),
        ROW("d", "t", "bn", "binary", "binary(4)", "YES", NULL, NULL, NULL, NULL, NULL),
        ROW("d", "t", "dt", "datetime", "datetime(3)", "YES", NULL, NULL, NULL, NULL, NULL),
        ROW("d", "t", "tx", "mediumtext", "mediumtext", "YES", NULL, "latin1", "latin1_swedish_ci",
            "8", NULL),
        ROW("d", "t", "g", "point", "point", "YES", NULL, NULL, NULL, NULL, NULL),
        ROW("d", "t", "u", "uuid", "uuid", "YES", NULL, NULL, NULL, NULL, NULL),
    };
    struct mysql_table_def *d = NULL;
    struct error err;
    if (mysql_table_def_from_rows(rows, sizeof rows / sizeof rows[0], mariadb, &d, &err) < 0)
        unit_fail(__FILE__, __LINE__, "%s", err.msg);
    return d;
}

static void test_from_rows(void)
{
    struct mysql_table_def *d = sample(false);
    if (d == NULL)
        return;
    CHECK_INT(d->ncols, 11);
    /* The key in SEQ_IN_INDEX order, not column order. */
    CHECK_INT(d->nkey, 2);
    CHECK_INT(d->key[0], 1);
    CHECK_INT(d->key[1], 0);
    CHECK(d->cols[0].key && d->cols[1].key && !d->cols[2].key);
    CHECK_INT(d->cols[0].type, BT_VARCHAR);
    CHECK_INT(d->cols[0].meta, 40); /* 10 characters of 4 bytes */
    CHECK_INT(d->cols[0].collation, 45);
    CHECK(!d->cols[0].nullable && d->cols[2].nullable);
    CHECK_INT(d->cols[1].type, BT_LONG);
    CHECK_INT(d->cols[1].is_unsigned, 1);
    CHECK_INT(d->cols[2].type, BT_STRING);
    CHECK_INT(d->cols[2].real_type, BT_ENUM);
    CHECK_INT(d->cols[2].n_labels, 3);
    CHECK_STR(d->cols[2].labels[1], "y'z");
    CHECK_STR(d->cols[2].labels[2], "");
    CHECK_INT(d->cols[3].real_type, BT_SET);
    CHECK_INT(d->cols[3].meta, 1);
    CHECK_INT(d->cols[4].meta, 12 << 8 | 3);
    CHECK_INT(d->cols[5].meta, 1 << 8 | 2);
    CHECK_INT(d->cols[6].collation, BINLOG_COLLATION_BINARY);
    CHECK_INT(d->cols[6].meta, 4);
    CHECK_INT(d->cols[7].type, BT_DATETIME2);
    CHECK_INT(d->cols[7].meta, 3);
    CHECK_INT(d->cols[8].type, BT_BLOB);
    CHECK_INT(d->cols[8].meta, 3);
    CHECK_INT(d->cols[9].geometry_type, 1);
    CHECK_INT(d->cols[10].type, BT_VARCHAR);
    CHECK_STR(d->defaults[0], "it's");
    CHECK_STR(d->defaults[4], "1.500");
    CHECK_STR(d->collation_names[2], "latin1_swedish_ci");
    struct schema_table *t = mysql_table_def_schema(d);
    CHECK_STR(t->cols[1].type_name, "int unsigned");
    CHECK_INT(t->cols[1].int_bits, 64);
    CHECK_INT(t->cols[0].kind, VALUE_STRING);
    CHECK_INT(t->cols[0].length, 10);
    CHECK_INT(t->cols[6].kind, VALUE_BYTES);
    CHECK_STR(t->cols[9].type_name, "point");
    CHECK_STR(t->cols[0].default_value, "it's");
    schema_table_free(t);
    /* MariaDB spells defaults as expressions: 'quoted' text, NULL for none. */
    struct mysql_table_def *m = sample(true);
    if (m) {
        CHECK_STR(m->defaults[0], "it's");
        CHECK(m->defaults[2] == NULL);
        CHECK(mysql_table_def_equal(d, m));
        mysql_table_def_free(m);
    }
    mysql_table_def_free(d);

    struct error err;
    struct mysql_table_def *bad;
    const char *const *badrows[] = {
        ROW("d", "t", "e", "enum", "enum('x", "YES", NULL, NULL, NULL, NULL, NULL)};
    CHECK(mysql_table_def_from_rows(badrows, 1, false, &bad, &err) == -1);
    CHECK(strstr(err.msg, "d.t.e") != NULL);
}

static void test_complete(void)
{
    struct mysql_table_def *d = sample(false);
    if (d == NULL)
        return;
    struct binlog_column cols[11];
    memset(cols, 0, sizeof cols);
    for (size_t i = 0; i < 11; i++) {
        cols[i].type = d->cols[i].type == BT_DATETIME2 ? BT_DATETIME : d->cols[i].type;
        cols[i].real_type = d->cols[i].real_type;
        cols[i].is_unsigned = -1;
    }
    cols[0].type = BT_VAR_STRING;
    cols[0].real_type = BT_VAR_STRING;
    struct error err;
    CHECK(mysql_table_def_complete(d, cols, 10, false, &err) == -1);
    CHECK(strstr(err.msg, "10 columns in its TABLE_MAP but 11") != NULL);
    cols[4].type = BT_DOUBLE;
    CHECK(mysql_table_def_complete(d, cols, 11, false, &err) == -1);
    CHECK(cols[0].name == NULL); /* nothing changed */
    cols[4].type = BT_NEWDECIMAL;
    CHECK(mysql_table_def_complete(d, cols, 11, false, &err) == 0);
    CHECK_STR(cols[0].name, "b");
    CHECK_INT(cols[1].is_unsigned, 1);
    CHECK(cols[1].key && cols[0].key);
    CHECK_INT(cols[2].n_labels, 3);
    CHECK_INT(cols[2].collation, 8);
    /* A TABLE_MAP whose names differ is another table now. */
    free(cols[3].name);
    cols[3].name = mem_strdup("other");
    CHECK(mysql_table_def_complete(d, cols, 11, false, &err) == -1);
    for (size_t i = 0; i < 11; i++) {
        free(cols[i].name);
        for (size_t k = 0; k < cols[i].n_labels; k++)
            free(cols[i].labels[k]);
        free(cols[i].labels);
    }
    mysql_table_def_free(d);
}

static int text(const struct binlog_column *c, const char *s, struct value *v, struct arena *a)
{
    struct error err;
    return mysql_text_value(c, s, strlen(s), a, v, &err);
}

static void test_text_values(void)
{
    struct arena *a = arena_new();
    struct value v;
    struct error e;
    struct binlog_column c = {.type = BT_LONGLONG, .is_unsigned = 1};
    CHECK(text(&c, "18446744073709551615", &v, a) == 0 && v.kind == VALUE_UINT &&
          v.v.u == UINT64_MAX);
    c.is_unsigned = 0;
    CHECK(text(&c, "-9223372036854775808", &v, a) == 0 && v.kind == VALUE_INT &&
          v.v.i == INT64_MIN);
    CHECK(text(&c, "12x", &v, a) == -1);
    CHECK(text(&c, "9223372036854775808", &v, a) == -1);
    CHECK(text(&c, "-", &v, a) == -1);
    CHECK(text(&c, "", &v, a) == -1);
    c.is_unsigned = 1;
    CHECK(text(&c, "18446744073709551616", &v, a) == -1);
    c = (struct binlog_column){.type = BT_LONG, .is_unsigned = 1};
    CHECK(text(&c, "4294967295", &v, a) == 0 && v.kind == VALUE_INT && v.v.i == 4294967295);
    c.type = BT_DOUBLE;
    CHECK(text(&c, "-0", &v, a) == 0 && v.kind == VALUE_FLOAT64 && v.v.f == 0 && signbit(v.v.f));
    CHECK(text(&c, "1e300", &v, a) == 0 && v.v.f == 1e300);
    CHECK(text(&c, "1.2.3", &v, a) == -1);
    /* Every decimal the server may send reads as strtod reads it, fast path or not. */
    uint64_t seed = 88172645463325252u;
    bool same = true;
    for (int n = 0; n < 200000 && same; n++) {
        char s[64];
        size_t k = 0;
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        if (seed & 1)
            s[k++] = '-';
        int before = (int)((seed >> 8) % 18), after = (int)((seed >> 16) % 25);
        for (int i = 0; i <= before; i++)
            s[k++] = (char)('0' + (seed >> (i % 40 + 20)) % 10);
        if (after) {
            s[k++] = '.';
            for (int i = 0; i < after; i++) {
                seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
                s[k++] = (char)('0' + seed % 10);
            }
        }
        s[k] = '\0';
        double want = strtod(s, NULL);
        same = text(&c, s, &v, a) == 0 && memcmp(&v.v.f, &want, sizeof want) == 0;
        if (!same)
            printf("# %s read as %.17g, strtod %.17g\n", s, v.v.f, want);
    }
    CHECK(same);
    c.type = BT_FLOAT;
    /* FLOAT is selected as col+0e0: the double reads back to the float. */
    CHECK(text(&c, "1.100000023841858", &v, a) == 0 && v.kind == VALUE_FLOAT32 &&
          v.v.f == (double)1.1f);
    c = (struct binlog_column){.type = BT_DATE};
    CHECK(text(&c, "2024-02-29", &v, a) == 0 && v.kind == VALUE_DATE && v.v.i == 19782);
    CHECK(text(&c, "0000-00-00", &v, a) == 0 && v.kind == VALUE_NULL);
    CHECK(text(&c, "2024-2-29", &v, a) == -1);
    c.type = BT_DATETIME2;
    CHECK(text(&c, "1970-01-01 00:00:01.5", &v, a) == 0 && v.kind == VALUE_DATETIME &&
          v.v.i == 1500000);
    c.type = BT_TIMESTAMP2;
    CHECK(text(&c, "2038-01-19 03:14:07.999999", &v, a) == 0 && v.kind == VALUE_TIMESTAMP &&
          v.v.i == 2147483647999999LL);
    c.type = BT_TIME2;
    CHECK(text(&c, "-838:59:59.000001", &v, a) == 0 && v.kind == VALUE_TIME &&
          v.v.i == -3020399000001LL);
    c = (struct binlog_column){.type = BT_BIT, .meta = 1 << 8 | 2};
    CHECK(mysql_text_value(&c, "\x03\xff", 2, a, &v, &e) == 0 && v.kind == VALUE_BITS &&
          v.v.s.i == 10 && (uint8_t)v.v.s.p[0] == 0xff && v.v.s.p[1] == 3);
    c.meta = 1;
    CHECK(mysql_text_value(&c, "\x01", 1, a, &v, &e) == 0 && v.kind == VALUE_BOOL && v.v.b);
    c = (struct binlog_column){.type = BT_STRING, .real_type = BT_SET};
    CHECK(text(&c, "r,b", &v, a) == 0 && v.kind == VALUE_SET && v.v.s.len == 3);
    c = (struct binlog_column){.type = BT_STRING, .real_type = BT_STRING, .collation = 63};
    CHECK(mysql_text_value(&c, "\0\1", 2, a, &v, &e) == 0 && v.kind == VALUE_BYTES &&
          v.v.s.len == 2);
    c = (struct binlog_column){.type = BT_GEOMETRY};
    CHECK(mysql_text_value(&c, "\xe6\x10\0\0\1\1", 6, a, &v, &e) == 0 && v.kind == VALUE_GEOMETRY &&
          v.v.s.i == 4326 && v.v.s.len == 2);
    arena_free(a);
}

static void test_history(void)
{
    struct mysql_schema_history *h = mysql_schema_history_new();
    struct mysql_pos p1 = {1, 100}, p2 = {1, 500}, p3 = {2, 4}, mid = {1, 300};
    struct mysql_table_def *v1 = sample(false);
    if (v1 == NULL) {
        mysql_schema_history_free(h);
        return;
    }
    struct mysql_table_def *v2 = mysql_table_def_copy(v1);
    free(v2->defaults[4]);
    v2->defaults[4] = mem_strdup("2.000");
    CHECK(mysql_schema_history_put(h, p1, v1));
    /* An equal definition records nothing. */
    CHECK(!mysql_schema_history_put(h, p2, mysql_table_def_copy(v1)));
    CHECK(mysql_schema_history_put(h, p2, v2));
    mysql_schema_history_drop(h, p3, "d", "t");
    struct mysql_pos before = {1, 50};
    CHECK(mysql_schema_history_at(h, "d", "t", before) == NULL);
    const struct mysql_table_def *at = mysql_schema_history_at(h, "d", "t", mid);
    CHECK(at && strcmp(at->defaults[4], "1.500") == 0);
    at = mysql_schema_history_at(h, "d", "t", p2);
    CHECK(at && strcmp(at->defaults[4], "2.000") == 0);
    CHECK(mysql_schema_history_at(h, "d", "t", p3) == NULL);
    CHECK(mysql_schema_history_latest(h, 0) == NULL);

    /* Saved and read back, the same answers. */
    json_t *j = mysql_schema_history_to_json(h);
    struct mysql_schema_history *h2 = mysql_schema_history_new();
    struct error err;
    CHECK(mysql_schema_history_from_json(h2, j, &err) == 0);
    at = mysql_schema_history_at(h2, "d", "t", mid);
    CHECK(at && mysql_table_def_equal(at, mysql_schema_history_at(h, "d", "t", mid)));
    CHECK(at && at->nkey == 2 && at->key[0] == 1 && at->cols[2].n_labels == 3);
    CHECK(mysql_schema_history_at(h2, "d", "t", p3) == NULL);
    json_decref(j);

    /* Pruned at p2: what is valid from p2 on stays. */
    mysql_schema_history_prune(h2, p2);
    CHECK(mysql_schema_history_at(h2, "d", "t", mid) == NULL);
    at = mysql_schema_history_at(h2, "d", "t", p2);
    CHECK(at && strcmp(at->defaults[4], "2.000") == 0);
    CHECK(mysql_pos_cmp(p2, p3) < 0 && mysql_pos_cmp(p3, p2) > 0 && mysql_pos_cmp(p1, p1) == 0);

    json_t *bad = json_pack("{s:i, s:[{s:s}]}", "format", 1, "tables", "db", "d");
    CHECK(mysql_schema_history_from_json(h2, bad, &err) == -1);
    json_decref(bad);
    mysql_schema_history_free(h2);
    mysql_schema_history_free(h);
}

/* MariaDB 10.2+ COLUMN_DEFAULT: constants are kept as their value, expressions dropped (a sink
 * cannot give the rows that exist their per-row value). */
static void test_mariadb_defaults(void)
{
    const char *const *rows[] = {
        ROW("d", "t", "i", "int", "int(11)", "YES", "-5", NULL, NULL, NULL, NULL),
        ROW("d", "t", "f", "double", "double", "YES", "1.5e3", NULL, NULL, NULL, NULL),
        ROW("d", "t", "s", "varchar", "varchar(10)", "NO", "'a\\\\b''c'", "utf8mb4",
            "utf8mb4_general_ci", "45", NULL),
        ROW("d", "t", "ts", "timestamp", "timestamp", "NO", "current_timestamp()", NULL, NULL, NULL,
            NULL),
        ROW("d", "t", "u", "varchar", "varchar(36)", "YES", "uuid()", "utf8mb4",
            "utf8mb4_general_ci", "45", NULL),
        ROW("d", "t", "e", "int", "int(11)", "YES", "1 + 1", NULL, NULL, NULL, NULL),
        ROW("d", "t", "n", "int", "int(11)", "YES", "NULL", NULL, NULL, NULL, NULL),
    };
    struct mysql_table_def *d = NULL;
    struct error err;
    if (mysql_table_def_from_rows(rows, sizeof rows / sizeof rows[0], true, &d, &err) < 0) {
        unit_fail(__FILE__, __LINE__, "%s", err.msg);
        return;
    }
    CHECK_STR(d->defaults[0], "-5");
    CHECK_STR(d->defaults[1], "1.5e3");
    CHECK_STR(d->defaults[2], "a\\b'c");
    CHECK(d->defaults[3] == NULL);
    CHECK(d->defaults[4] == NULL);
    CHECK(d->defaults[5] == NULL);
    CHECK(d->defaults[6] == NULL);
    mysql_table_def_free(d);
}

static const struct unit_case cases[] = {
    {"definitions from information_schema rows", test_from_rows},
    {"completing a TABLE_MAP", test_complete},
    {"text values", test_text_values},
    {"history", test_history},
    {"mariadb defaults", test_mariadb_defaults},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return unit_main("mysql_schema", cases, argc, argv);
}
