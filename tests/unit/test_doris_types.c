/* Unit tests of schemas/doris_types: Doris types, value forms and DDL text. */
#include <stdlib.h>
#include <string.h>

#include "../../schemas/doris_types.h"
#include "unit.h"

static struct schema_column col(const char *type_name, enum value_kind kind)
{
    struct schema_column c;
    memset(&c, 0, sizeof c);
    c.name = (char *)"c";
    c.type_name = (char *)type_name;
    c.kind = kind;
    c.length = -1;
    c.precision = -1;
    c.scale = -1;
    c.optional = true;
    return c;
}

/* The Doris type of c, in a static buffer. */
static const char *dtype(const struct schema_column *c, enum event_connector conn, bool key)
{
    static char out[128];
    struct buf b;
    buf_init(&b);
    doristype_column_type(&b, c, conn, key);
    snprintf(out, sizeof out, "%s", b.data ? b.data : "");
    buf_free(&b);
    return out;
}

static const char *jval(const struct schema_column *c, enum event_connector conn,
                        const struct value *v, int *rc)
{
    static char out[256];
    struct buf b;
    buf_init(&b);
    int r = doristype_json_value(&b, c, conn, v);
    if (rc)
        *rc = r;
    snprintf(out, sizeof out, "%s", b.data ? b.data : "");
    buf_free(&b);
    return out;
}

static void test_integers(void)
{
    struct schema_column c = col("tinyint", VALUE_INT);
    c.int_bits = 16; /* Debezium widens TINYINT to int16; Doris keeps TINYINT */
    CHECK_STR(dtype(&c, EVENT_MYSQL, false), "TINYINT");
    c.type_name = (char *)"tinyint unsigned";
    c.is_unsigned = true;
    CHECK_STR(dtype(&c, EVENT_MYSQL, false), "SMALLINT");
    c = col("mediumint unsigned", VALUE_INT);
    c.is_unsigned = true;
    CHECK_STR(dtype(&c, EVENT_MYSQL, false), "INT");
    c = col("int unsigned", VALUE_INT);
    c.is_unsigned = true;
    CHECK_STR(dtype(&c, EVENT_MYSQL, false), "BIGINT");
    c = col("bigint unsigned", VALUE_UINT);
    CHECK_STR(dtype(&c, EVENT_MYSQL, true), "LARGEINT");
    c = col("int4", VALUE_INT);
    CHECK_STR(dtype(&c, EVENT_POSTGRESQL, false), "INT");
    c = col("int8", VALUE_INT);
    CHECK_STR(dtype(&c, EVENT_POSTGRESQL, false), "BIGINT");
    c = col("oid", VALUE_INT);
    c.int_bits = 64;
    CHECK_STR(dtype(&c, EVENT_POSTGRESQL, false), "BIGINT");

    struct value v = {.kind = VALUE_UINT, .v.u = 18446744073709551615ULL};
    c = col("bigint unsigned", VALUE_UINT);
    CHECK_STR(jval(&c, EVENT_MYSQL, &v, NULL), "\"18446744073709551615\"");
    v.v.u = 42;
    CHECK_STR(jval(&c, EVENT_MYSQL, &v, NULL), "42");
    struct value i = {.kind = VALUE_INT, .v.i = -7};
    CHECK_STR(jval(&c, EVENT_MYSQL, &i, NULL), "-7");
}

static void test_strings(void)
{
    struct schema_column c = col("varchar", VALUE_STRING);
    c.length = 100;
    c.charset = (char *)"utf8mb4";
    CHECK_STR(dtype(&c, EVENT_MYSQL, false), "VARCHAR(400)");
    c.charset = (char *)"ascii";
    CHECK_STR(dtype(&c, EVENT_MYSQL, false), "VARCHAR(100)");
    c.charset = (char *)"utf8mb4";
    c.length = 20000;
    CHECK_STR(dtype(&c, EVENT_MYSQL, false), "STRING");
    CHECK_STR(dtype(&c, EVENT_MYSQL, true), "VARCHAR(65533)");
    c = col("char", VALUE_STRING);
    c.length = 10;
    CHECK_STR(dtype(&c, EVENT_MYSQL, false), "CHAR(40)");
    c.length = 100;
    CHECK_STR(dtype(&c, EVENT_MYSQL, false), "VARCHAR(400)");
    c = col("character varying", VALUE_STRING);
    c.length = 5;
    CHECK_STR(dtype(&c, EVENT_POSTGRESQL, false), "VARCHAR(20)");
    c = col("text", VALUE_STRING);
    CHECK_STR(dtype(&c, EVENT_POSTGRESQL, false), "STRING");
    c = col("uuid", VALUE_STRING);
    CHECK_STR(dtype(&c, EVENT_POSTGRESQL, true), "VARCHAR(36)");

    struct value v = {.kind = VALUE_STRING, .v.s = {"a\"b\n\xc3\xa9", 6, 0}};
    CHECK_STR(jval(&c, EVENT_POSTGRESQL, &v, NULL), "\"a\\\"b\\n\xc3\xa9\"");
}

static void test_decimals(void)
{
    struct schema_column c = col("decimal", VALUE_DECIMAL);
    c.precision = 10;
    c.scale = 2;
    CHECK_STR(dtype(&c, EVENT_MYSQL, false), "DECIMAL(10,2)");
    c.precision = 65;
    c.scale = 30;
    CHECK_STR(dtype(&c, EVENT_MYSQL, false), "STRING");
    CHECK_STR(dtype(&c, EVENT_MYSQL, true), "VARCHAR(68)");
    c = col("numeric", VALUE_DECIMAL); /* unconstrained */
    CHECK_STR(dtype(&c, EVENT_POSTGRESQL, false), "STRING");

    int rc = 0;
    struct value v = {.kind = VALUE_DECIMAL, .v.s = {"-12.340", 7, 0}};
    CHECK_STR(jval(&c, EVENT_POSTGRESQL, &v, &rc), "\"-12.340\"");
    CHECK_INT(rc, 0);
    struct value nan = {.kind = VALUE_DECIMAL, .v.s = {"NaN", 3, 0}};
    CHECK_STR(jval(&c, EVENT_POSTGRESQL, &nan, &rc), "\"NaN\"");
    CHECK_INT(rc, 0);
    c.precision = 10;
    c.scale = 2;
    CHECK_STR(jval(&c, EVENT_POSTGRESQL, &nan, &rc), "null");
    CHECK_INT(rc, 1);
}

static void test_temporal(void)
{
    struct schema_column c = col("date", VALUE_DATE);
    CHECK_STR(dtype(&c, EVENT_MYSQL, false), "DATE");
    int rc = 0;
    struct value d = {.kind = VALUE_DATE, .v.i = 19723}; /* 2024-01-01 */
    CHECK_STR(jval(&c, EVENT_MYSQL, &d, &rc), "\"2024-01-01\"");
    d.v.i = -1; /* 1969-12-31 */
    CHECK_STR(jval(&c, EVENT_MYSQL, &d, &rc), "\"1969-12-31\"");
    d.v.i = -719528; /* 0000-01-01 */
    CHECK_STR(jval(&c, EVENT_MYSQL, &d, &rc), "\"0000-01-01\"");
    CHECK_INT(rc, 0);
    d.v.i = 2932897; /* 10000-01-01 */
    CHECK_STR(jval(&c, EVENT_MYSQL, &d, &rc), "null");
    CHECK_INT(rc, 1);

    c = col("datetime", VALUE_DATETIME);
    c.scale = 3;
    CHECK_STR(dtype(&c, EVENT_MYSQL, false), "DATETIME(3)");
    struct value dt = {.kind = VALUE_DATETIME, .v.i = 1704110400123456LL};
    CHECK_STR(jval(&c, EVENT_MYSQL, &dt, NULL), "\"2024-01-01 12:00:00.123456\"");
    dt.v.i = -1; /* one microsecond before the epoch */
    CHECK_STR(jval(&c, EVENT_MYSQL, &dt, NULL), "\"1969-12-31 23:59:59.999999\"");

    c = col("timestamp with time zone", VALUE_TIMESTAMP);
    CHECK_STR(dtype(&c, EVENT_POSTGRESQL, false), "DATETIME(6)");
    struct value ts = {.kind = VALUE_TIMESTAMP, .v.i = 0};
    CHECK_STR(jval(&c, EVENT_POSTGRESQL, &ts, NULL), "\"1970-01-01 00:00:00.000000\"");

    c = col("time", VALUE_TIME);
    CHECK_STR(dtype(&c, EVENT_MYSQL, false), "VARCHAR(32)");
    struct value t = {.kind = VALUE_TIME, .v.i = -(838LL * 3600 + 59 * 60 + 59) * 1000000};
    CHECK_STR(jval(&c, EVENT_MYSQL, &t, NULL), "\"-838:59:59.000000\"");
    t.v.i = 10LL * 3600 * 1000000 + 5;
    CHECK_STR(jval(&c, EVENT_MYSQL, &t, NULL), "\"10:00:00.000005\"");

    c = col("interval", VALUE_INTERVAL);
    struct value iv = {.kind = VALUE_INTERVAL};
    iv.v.interval.months = 14;
    iv.v.interval.days = 3;
    iv.v.interval.micros = 4LL * 3600000000 + 5 * 60000000 + 6500000;
    CHECK_STR(jval(&c, EVENT_POSTGRESQL, &iv, NULL), "\"P1Y2M3DT4H5M6.5S\"");
    iv.v.interval.months = 0;
    iv.v.interval.days = -1;
    iv.v.interval.micros = 0;
    CHECK_STR(jval(&c, EVENT_POSTGRESQL, &iv, NULL), "\"P-1D\"");
    iv.v.interval.days = 0;
    CHECK_STR(jval(&c, EVENT_POSTGRESQL, &iv, NULL), "\"PT0S\"");
    iv.v.interval.micros = -1500000;
    CHECK_STR(jval(&c, EVENT_POSTGRESQL, &iv, NULL), "\"PT-1.5S\"");
}

static void test_binary_bits_json(void)
{
    struct schema_column c = col("varbinary", VALUE_BYTES);
    c.length = 16;
    CHECK_STR(dtype(&c, EVENT_MYSQL, false), "VARCHAR(32)");
    struct value b = {.kind = VALUE_BYTES, .v.s = {"\x00\xff\x10", 3, 0}};
    CHECK_STR(jval(&c, EVENT_MYSQL, &b, NULL), "\"00FF10\"");

    c = col("bit", VALUE_BITS);
    c.length = 1;
    CHECK_STR(dtype(&c, EVENT_MYSQL, false), "BOOLEAN");
    struct value one = {.kind = VALUE_BITS, .v.s = {"\x01", 1, 1}};
    CHECK_STR(jval(&c, EVENT_MYSQL, &one, NULL), "true");
    c.length = 12;
    CHECK_STR(dtype(&c, EVENT_MYSQL, false), "BIGINT");
    struct value twelve = {.kind = VALUE_BITS, .v.s = {"\x34\x0a", 2, 12}};
    CHECK_STR(jval(&c, EVENT_MYSQL, &twelve, NULL), "2612");
    c.length = 64;
    CHECK_STR(dtype(&c, EVENT_MYSQL, false), "LARGEINT");
    CHECK_STR(dtype(&c, EVENT_POSTGRESQL, false), "VARCHAR(64)");
    c.length = 12;
    CHECK_STR(jval(&c, EVENT_POSTGRESQL, &twelve, NULL), "\"101000110100\"");

    c = col("json", VALUE_JSON);
    CHECK_STR(dtype(&c, EVENT_MYSQL, false), "JSON");
    struct value j = {.kind = VALUE_JSON, .v.s = {"{\"a\":[1,null]}", 14, 0}};
    CHECK_STR(jval(&c, EVENT_MYSQL, &j, NULL), "\"{\\\"a\\\":[1,null]}\"");

    c = col("geometry", VALUE_GEOMETRY);
    CHECK_STR(dtype(&c, EVENT_MYSQL, false), "STRING");
    struct value g = {.kind = VALUE_GEOMETRY, .v.s = {"\x01\x01\x00", 3, 4326}};
    CHECK_STR(jval(&c, EVENT_MYSQL, &g, NULL), "\"010100\"");
}

static void test_enum_array(void)
{
    char *labels[] = {(char *)"small", (char *)"medium"};
    struct schema_column c = col("enum", VALUE_ENUM);
    c.enum_values = labels;
    c.n_enum_values = 2;
    CHECK_STR(dtype(&c, EVENT_MYSQL, false), "VARCHAR(24)");
    c.kind = VALUE_SET;
    CHECK_STR(dtype(&c, EVENT_MYSQL, false), "VARCHAR(48)");

    c = col("_int4", VALUE_ARRAY);
    c.elem_kind = VALUE_INT;
    CHECK_STR(dtype(&c, EVENT_POSTGRESQL, false), "ARRAY<INT>");
    CHECK_STR(dtype(&c, EVENT_POSTGRESQL, true), "VARCHAR(65533)");
    struct value elems[3] = {
        {.kind = VALUE_INT, .v.i = 1}, {.kind = VALUE_NULL}, {.kind = VALUE_INT, .v.i = -3}};
    struct value a = {.kind = VALUE_ARRAY, .v.array = {elems, 3}};
    CHECK_STR(jval(&c, EVENT_POSTGRESQL, &a, NULL), "[1,null,-3]");
    c = col("_numeric", VALUE_ARRAY);
    c.elem_kind = VALUE_DECIMAL;
    c.precision = 5;
    c.scale = 1;
    CHECK_STR(dtype(&c, EVENT_POSTGRESQL, false), "ARRAY<DECIMAL(5,1)>");
    c = col("_bpchar", VALUE_ARRAY);
    c.elem_kind = VALUE_STRING;
    c.length = 3;
    CHECK_STR(dtype(&c, EVENT_POSTGRESQL, false), "ARRAY<VARCHAR(12)>");
}

static struct schema_table *sample_table(bool keyed)
{
    struct schema_table *t = schema_table_new("shop", NULL, "orders");
    struct schema_column *c = schema_table_add_column(t, "note", "text", VALUE_STRING);
    c = schema_table_add_column(t, "id", "int", VALUE_INT);
    c->int_bits = 32;
    c->key = keyed;
    c->optional = false;
    c = schema_table_add_column(t, "amount", "decimal", VALUE_DECIMAL);
    c->precision = 12;
    c->scale = 2;
    c->optional = false;
    return t;
}

static void test_create_table(void)
{
    struct schema_table *t = sample_table(true);
    const char *names[] = {"replication_num", "light_schema_change"};
    const char *values[] = {"1", "false"};
    struct doristype_table_spec spec = {.db = "d\"b",
                                        .name = "orders",
                                        .src = t,
                                        .conn = EVENT_MYSQL,
                                        .buckets = 0,
                                        .prop_names = names,
                                        .prop_values = values,
                                        .nprops = 2};
    struct buf b;
    buf_init(&b);
    doristype_create_table(&b, &spec);
    CHECK_STR(b.data,
              "CREATE TABLE IF NOT EXISTS `d\"b`.`orders` (`id` INT NOT NULL, `note` STRING "
              "NULL, `amount` DECIMAL(12,2) NULL) ENGINE=OLAP UNIQUE KEY(`id`) DISTRIBUTED BY "
              "HASH(`id`) BUCKETS AUTO PROPERTIES (\"enable_unique_key_merge_on_write\" = "
              "\"true\", \"function_column.sequence_type\" = \"bigint\", \"replication_num\" = "
              "\"1\", \"light_schema_change\" = \"false\")");
    schema_table_free(t);

    /* keyless: DUPLICATE KEY on the first column Doris can sort by, moved first */
    t = sample_table(false);
    spec.src = t;
    spec.db = "shop";
    spec.buckets = 4;
    spec.nprops = 0;
    buf_reset(&b);
    doristype_create_table(&b, &spec);
    CHECK_STR(b.data, "CREATE TABLE IF NOT EXISTS `shop`.`orders` (`id` INT NULL, `note` STRING "
                      "NULL, `amount` DECIMAL(12,2) NULL) ENGINE=OLAP DUPLICATE KEY(`id`) "
                      "DISTRIBUTED BY RANDOM BUCKETS 4 PROPERTIES (\"light_schema_change\" = "
                      "\"true\")");
    buf_free(&b);
    schema_table_free(t);
}

static void test_alter_and_widen(void)
{
    struct schema_column c = col("varchar", VALUE_STRING);
    c.name = (char *)"we`ird";
    c.length = 10;
    struct buf b;
    buf_init(&b);
    doristype_add_column(&b, "db", "t", &c, EVENT_MYSQL);
    CHECK_STR(b.data, "ALTER TABLE `db`.`t` ADD COLUMN `we``ird` VARCHAR(40) NULL");
    buf_reset(&b);
    doristype_drop_column(&b, "db", "t", "x");
    CHECK_STR(b.data, "ALTER TABLE `db`.`t` DROP COLUMN `x`");
    buf_reset(&b);
    doristype_modify_column(&b, "db", "t", &c, EVENT_MYSQL, true);
    CHECK_STR(b.data, "ALTER TABLE `db`.`t` MODIFY COLUMN `we``ird` VARCHAR(40) KEY NOT NULL");
    buf_free(&b);

    CHECK(doristype_widens("VARCHAR(40)", "VARCHAR(80)"));
    CHECK(!doristype_widens("VARCHAR(80)", "VARCHAR(40)"));
    CHECK(doristype_widens("VARCHAR(40)", "STRING"));
    CHECK(doristype_widens("INT", "BIGINT"));
    CHECK(!doristype_widens("BIGINT", "INT"));
    CHECK(doristype_widens("FLOAT", "DOUBLE"));
    CHECK(doristype_widens("DECIMAL(10,2)", "DECIMAL(12,2)"));
    CHECK(!doristype_widens("DECIMAL(10,2)", "DECIMAL(12,3)"));
    CHECK(!doristype_widens("STRING", "VARCHAR(10)"));
    CHECK(!doristype_widens("DATE", "INT"));
}

/* The DEFAULT text for a column with the given default, or "-" when there is none. */
static const char *dflt(enum value_kind kind, const char *def, enum event_connector conn)
{
    static char out[64];
    struct schema_column c = col("t", kind);
    c.default_value = (char *)def;
    struct buf b;
    buf_init(&b);
    bool ok = doristype_default(&b, &c, conn);
    snprintf(out, sizeof out, "%s", ok ? (b.data ? b.data : "") : "-");
    buf_free(&b);
    return out;
}

static void test_defaults(void)
{
    CHECK_STR(dflt(VALUE_INT, "7", EVENT_POSTGRESQL), "7");
    CHECK_STR(dflt(VALUE_INT, "'-1'::integer", EVENT_POSTGRESQL), "-1");
    CHECK_STR(dflt(VALUE_DECIMAL, "1.50", EVENT_MYSQL), "1.50");
    CHECK_STR(dflt(VALUE_INT, "nextval('s'::regclass)", EVENT_POSTGRESQL), "-");
    CHECK_STR(dflt(VALUE_STRING, "'it''s'::character varying", EVENT_POSTGRESQL), "it's");
    CHECK_STR(dflt(VALUE_STRING, "CURRENT_USER", EVENT_POSTGRESQL), "-");
    CHECK_STR(dflt(VALUE_STRING, "plain", EVENT_MYSQL), "plain");
    CHECK_STR(dflt(VALUE_STRING, "uuid()", EVENT_MYSQL), "-");
    CHECK_STR(dflt(VALUE_BOOL, "true", EVENT_POSTGRESQL), "true");
    CHECK_STR(dflt(VALUE_DATE, "'2024-01-31'::date", EVENT_POSTGRESQL), "2024-01-31");
    CHECK_STR(dflt(VALUE_DATETIME, "CURRENT_TIMESTAMP", EVENT_MYSQL), "-");
    CHECK_STR(dflt(VALUE_DATETIME, "2024-01-31 10:00:00", EVENT_MYSQL), "2024-01-31 10:00:00");
    CHECK_STR(dflt(VALUE_TIMESTAMP, "'2024-01-31 10:00:00+00'::timestamptz", EVENT_POSTGRESQL),
              "-");
    CHECK_STR(dflt(VALUE_BYTES, "'\\x00'::bytea", EVENT_POSTGRESQL), "-");
    CHECK_STR(dflt(VALUE_INT, "NULL", EVENT_MYSQL), "-");
    CHECK_STR(dflt(VALUE_INT, NULL, EVENT_MYSQL), "-");
    /* PostgreSQL constants as pg_get_expr() deparses them, and expressions that only look so */
    CHECK_STR(dflt(VALUE_FLOAT64, "1.5::double precision", EVENT_POSTGRESQL), "1.5");
    CHECK_STR(dflt(VALUE_STRING, "'it'''::text", EVENT_POSTGRESQL), "it'");
    CHECK_STR(dflt(VALUE_STRING, "'a::b'::character varying(10)", EVENT_POSTGRESQL), "a::b");
    CHECK_STR(dflt(VALUE_ENUM, "'sad'::\"Mood\"", EVENT_POSTGRESQL), "sad");
    CHECK_STR(dflt(VALUE_STRING, "'a'::text || 'b'::text", EVENT_POSTGRESQL), "-");
    CHECK_STR(dflt(VALUE_STRING, "('a'::text || 'b'::text)", EVENT_POSTGRESQL), "-");
    CHECK_STR(dflt(VALUE_INT, "'5'::integer + 1", EVENT_POSTGRESQL), "-");
    CHECK_STR(dflt(VALUE_STRING, "'x'::", EVENT_POSTGRESQL), "-");
    CHECK_STR(dflt(VALUE_STRING, "'unterminated", EVENT_POSTGRESQL), "-");
    CHECK_STR(dflt(VALUE_DATE, "('now'::text)::date", EVENT_POSTGRESQL), "-");
    CHECK_STR(dflt(VALUE_DATETIME, "CURRENT_TIMESTAMP::timestamp", EVENT_POSTGRESQL), "-");
    CHECK_STR(dflt(VALUE_INT, "NULL::integer", EVENT_POSTGRESQL), "-");
    CHECK_STR(dflt(VALUE_STRING, "CURRENT_USER::text", EVENT_POSTGRESQL), "-");
}

int main(int argc, char **argv)
{
    static const struct unit_case cases[] = {
        {"integers", test_integers},
        {"strings", test_strings},
        {"decimals", test_decimals},
        {"temporal", test_temporal},
        {"binary, bits, json, geometry", test_binary_bits_json},
        {"enum, set, arrays", test_enum_array},
        {"create table", test_create_table},
        {"alter table and widening", test_alter_and_widen},
        {"column defaults", test_defaults},
        {NULL, NULL},
    };
    return unit_main("doris_types", cases, argc, argv);
}
