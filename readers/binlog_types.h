/*
 * binlog_types: pure decoding of MySQL/MariaDB column values as row events store them, into
 * struct value: integers, DECIMAL (exact text), FLOAT/DOUBLE, BIT, YEAR, DATE, TIME/TIME2,
 * DATETIME/DATETIME2, TIMESTAMP/TIMESTAMP2, strings in their character set (converted to UTF-8),
 * binary strings, ENUM/SET (labels), JSON (MySQL's binary JSON printed as MySQL prints it, and
 * the partial-update diffs of PARTIAL_UPDATE_ROWS applied to it), GEOMETRY (SRID + WKB). It also
 * owns the TABLE_MAP per-type metadata layout and the mapping of a column to the schema's view
 * of it (kind, Debezium integer width, type name).
 *
 * No I/O, no logging: every read goes through a cursor and fails with the offset.
 */
#ifndef DBTAIL_BINLOG_TYPES_H
#define DBTAIL_BINLOG_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../schemas/schema.h"
#include "../src/arena.h"
#include "../src/buf.h"
#include "../src/cursor.h"
#include "../src/error.h"
#include "../src/event.h"

/* MySQL's enum_field_types, as the TABLE_MAP type bytes carry them. */
enum binlog_coltype {
    BT_DECIMAL = 0,
    BT_TINY = 1,
    BT_SHORT = 2,
    BT_LONG = 3,
    BT_FLOAT = 4,
    BT_DOUBLE = 5,
    BT_NULL = 6,
    BT_TIMESTAMP = 7,
    BT_LONGLONG = 8,
    BT_INT24 = 9,
    BT_DATE = 10,
    BT_TIME = 11,
    BT_DATETIME = 12,
    BT_YEAR = 13,
    BT_NEWDATE = 14,
    BT_VARCHAR = 15,
    BT_BIT = 16,
    BT_TIMESTAMP2 = 17,
    BT_DATETIME2 = 18,
    BT_TIME2 = 19,
    BT_TYPED_ARRAY = 20,
    BT_VECTOR = 242,
    BT_JSON = 245,
    BT_NEWDECIMAL = 246,
    BT_ENUM = 247,
    BT_SET = 248,
    BT_TINY_BLOB = 249,
    BT_MEDIUM_BLOB = 250,
    BT_LONG_BLOB = 251,
    BT_BLOB = 252,
    BT_VAR_STRING = 253,
    BT_STRING = 254,
    BT_GEOMETRY = 255
};

/* The binary collation: strings in it are bytes. */
#define BINLOG_COLLATION_BINARY 63

/* One column as a TABLE_MAP (and the tracked schema) describes it. */
struct binlog_column {
    uint8_t type;      /* the TABLE_MAP type byte */
    uint8_t real_type; /* BT_ENUM/BT_SET/BT_STRING under BT_STRING, else equal to type */
    /* The per-type metadata, decoded:
     *   VARCHAR/VAR_STRING/STRING/ENUM/SET: maximum length in bytes (ENUM/SET: pack length)
     *   BLOB/TEXT/JSON/GEOMETRY: bytes of the length prefix (1..4)
     *   FLOAT/DOUBLE: pack length;  TIME2/DATETIME2/TIMESTAMP2: fsp
     *   NEWDECIMAL: precision << 8 | scale;  BIT: bytes << 8 | bits beyond them */
    uint16_t meta;
    bool nullable;
    int8_t is_unsigned; /* -1 unknown, 0, 1 */
    uint16_t collation; /* 0 unknown */
    char *name;         /* owned, NULL when unknown */
    char **labels;      /* owned ENUM/SET labels in UTF-8, NULL when unknown */
    size_t n_labels;
    uint32_t geometry_type; /* 0 when unknown */
    bool key;
    bool invisible;
};

/** Reads the column's metadata from the TABLE_MAP metadata block into col->meta (and
 * col->real_type for BT_STRING). */
DBT_MUSTCHECK int binlog_meta_read(struct cursor *c, struct binlog_column *col, struct error *err);

/* How the values of a column are read, decided once from its complete description rather than
 * for every value of every row. The fields are binlog_types' own. */
struct binlog_colplan {
    uint8_t op;
    uint8_t width;            /* DECIMAL: bytes of a value; DATETIME2: fsp */
    uint8_t text;             /* strings: how they become UTF-8 */
    uint8_t kind;             /* integers: VALUE_INT or VALUE_UINT */
    uint16_t json_index;      /* JSON: its place among the JSON columns (partial updates' bits) */
    uint8_t precision, scale; /* DECIMAL */
    uint8_t intg0, intg0x, frac0, frac0x; /* DECIMAL: 9-digit groups and leftover digits */
    uint32_t date_key; /* DATETIME2: the last date read (packed) + 1, 0 for none, */
    int32_t date_days; /* and its days since 1970-01-01 */
    uint64_t sign;     /* integers: the sign bit of a signed one, 0 for an unsigned one */
};

/** The plan of a column as its fields are now; json_index is left 0 (the table's to set). */
void binlog_colplan_make(const struct binlog_column *col, struct binlog_colplan *p);

/** Reads one non-NULL value of the column from a row image. */
DBT_MUSTCHECK int binlog_value_read(struct cursor *c, const struct binlog_column *col,
                                    struct arena *a, struct value *out, struct error *err);

/** Reads the values of one row image into vals[0..ncols): the columns whose bit is set in
 * `present` (NULL: every column; the others are VALUE_ABSENT), each VALUE_NULL when its bit in
 * `nulls` (one bit per present column) is set, else read from the cursor with plan[i] (which
 * may remember what it read for the next rows). JSON columns whose bit (by json_index) is set
 * in `partial` (NULL: none) hold diffs applied to before[i] (before may be NULL). */
DBT_MUSTCHECK int binlog_values_read(struct cursor *c, const struct binlog_column *cols,
                                     struct binlog_colplan *plan, size_t ncols,
                                     const uint8_t *present, const uint8_t *nulls,
                                     const uint8_t *partial, const struct value *before,
                                     struct arena *a, struct value *vals, struct error *err);

/** The JSON value an after image of a PARTIAL_UPDATE_ROWS event gives as a diff list (at the
 * cursor: length-prefixed diffs), applied to the before value (JSON text, borrowed). */
DBT_MUSTCHECK int binlog_json_read_diff(struct cursor *c, const struct binlog_column *col,
                                        const struct value *before, struct arena *a,
                                        struct value *out, struct error *err);

/** MySQL's binary JSON p[0..len) as the text MySQL prints for it, appended to out. */
DBT_MUSTCHECK int binlog_json_to_text(const uint8_t *p, size_t len, struct buf *out,
                                      struct error *err);

/** Bytes a DECIMAL(precision, scale) takes in its binary form; 0 when the pair is invalid. */
size_t binlog_decimal_size(int precision, int scale);
/** The binary DECIMAL p[0..binlog_decimal_size) as exact text ("-12.340"), appended to out. */
DBT_MUSTCHECK int binlog_decimal_to_text(const uint8_t *p, size_t len, int precision, int scale,
                                         struct buf *out, struct error *err);
/** The same through the digit-at-a-time path that precisions above 18 take (for tests). */
DBT_MUSTCHECK int binlog_decimal_to_text_general(const uint8_t *p, size_t len, int precision,
                                                 int scale, struct buf *out, struct error *err);

/** The character set of a collation id ("utf8mb4", "latin1", "binary"), NULL when unknown. */
const char *binlog_collation_charset(uint16_t collation);
/** Bytes per character of the collation's character set at most (1 when unknown). */
int binlog_collation_maxlen(uint16_t collation);
/** Appends s[0..len) in the collation's character set as UTF-8 to out (unknown collations are
 * taken as UTF-8). Returns -1 when the charset cannot be converted. */
DBT_MUSTCHECK int binlog_to_utf8(uint16_t collation, const uint8_t *s, size_t len, struct buf *out,
                                 struct error *err);

/** Fills the schema's view of the column (kind, type name, int width, length, precision,
 * scale, charset, labels) from what the TABLE_MAP tells of it. */
void binlog_column_to_schema(const struct binlog_column *col, struct schema_column *sc);

/** Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t binlog_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
