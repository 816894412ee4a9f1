/*
 * schema: what dbtail knows of one source table (its columns, their types and its key), as
 * readers build it from the server (PG Relation messages + catalog, MySQL TABLE_MAP metadata +
 * information_schema) and as the state file persists it. Readers own their tables; events and
 * sinks borrow them for as long as the event that points at them.
 *
 * A column carries two views of its type: `kind`, the form its values take in `struct value`
 * (what every sink reads), and the source's own spelling and parameters (what Debezium's
 * schema and the Doris type mapping need).
 */
#ifndef DBTAIL_SCHEMA_H
#define DBTAIL_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../src/error.h"

/* The form of a value in memory; see struct value in src/event.h for each field used. */
enum value_kind {
    VALUE_NULL,
    VALUE_ABSENT,     /* not in this row image (MySQL MINIMAL/NOBLOB): leave the column alone */
    VALUE_UNCHANGED,  /* PG unchanged TOAST value: unknown here, unchanged at the source */
    VALUE_BOOL,       /* b */
    VALUE_INT,        /* i; column int_bits says int8/16/32/64 for Debezium */
    VALUE_UINT,       /* u; unsigned BIGINT above INT64_MAX needs it */
    VALUE_FLOAT32,    /* f */
    VALUE_FLOAT64,    /* f */
    VALUE_DECIMAL,    /* s: exact text "-12.340", "NaN", "Infinity" */
    VALUE_STRING,     /* s: UTF-8 text */
    VALUE_BYTES,      /* s: raw bytes */
    VALUE_JSON,       /* s: JSON text */
    VALUE_BITS,       /* s: bytes, little-endian as Debezium's Bits; i = number of bits */
    VALUE_DATE,       /* i: days since 1970-01-01 */
    VALUE_TIME,       /* i: microseconds since midnight (MySQL TIME may be negative or > 24h) */
    VALUE_DATETIME,   /* i: microseconds since 1970-01-01 00:00 of a wall clock with no zone */
    VALUE_TIMESTAMP,  /* i: microseconds since the epoch, an instant (UTC) */
    VALUE_ZONED_TIME, /* s: ISO time with offset, "10:15:30.123456+02:00" (PG timetz) */
    VALUE_INTERVAL,   /* interval: months, days, microseconds (PG interval) */
    VALUE_ENUM,       /* s: the label */
    VALUE_SET,        /* s: labels joined by ',' */
    VALUE_GEOMETRY,   /* s: WKB bytes; i = SRID */
    VALUE_ARRAY,      /* array: elements of the column's elem_kind */
    VALUE_TEXT        /* s: any other type, as the server's text form */
};

/** The lower-case name of a kind ("decimal"), for messages and the state file. */
const char *schema_kind_name(enum value_kind kind);
/** Inverse of schema_kind_name; returns -1 when unknown. */
int schema_kind_parse(const char *name, enum value_kind *out);

struct schema_column {
    char *name;      /* owned */
    char *type_name; /* owned: the source's spelling, lower case: "varchar", "int unsigned",
                        "numeric", "timestamp with time zone", "_int4" for PG arrays */
    enum value_kind kind;
    enum value_kind elem_kind; /* for VALUE_ARRAY */
    uint8_t int_bits;          /* VALUE_INT/UINT: 8, 16, 32 or 64, the Debezium integer width */
    bool is_unsigned;
    bool optional;      /* NULL allowed */
    bool key;           /* part of the primary key (or replica identity / message.key.columns) */
    int32_t length;     /* characters for strings, bits for BIT, bytes for BINARY; -1 unknown */
    int32_t precision;  /* decimals; -1 unknown */
    int32_t scale;      /* decimals: digits after the point (-1 variable); temporal: fsp */
    char *charset;      /* owned, may be NULL: "utf8mb4", "latin1", "binary" */
    char **enum_values; /* owned array of owned labels (ENUM/SET, PG enum) */
    size_t n_enum_values;
    uint32_t type_oid;   /* PG type OID; MySQL column type code */
    char *default_value; /* owned, may be NULL: the source's default as text */
};

struct schema_table {
    char *db;     /* owned: MySQL database or PG database name */
    char *schema; /* owned: PG schema ("public"); NULL for MySQL */
    char *name;   /* owned */
    size_t ncols;
    struct schema_column *cols; /* owned array */
    uint64_t source_id;         /* reader's handle: PG relation OID, MySQL table id */
    /* Set by schema_table_new to a number no other table has had, and renewed by every change
     * schema.c makes, so a cache may compare the pointer and this number instead of whole
     * tables. Code outside schema.c does not edit a table once events point at it (readers
     * build a new table instead). */
    uint64_t generation;
};

/** New empty table; copies the names. Free with schema_table_free. */
struct schema_table *schema_table_new(const char *db, const char *schema, const char *name);
void schema_table_free(struct schema_table *t);
/** Deep copy. */
struct schema_table *schema_table_copy(const struct schema_table *t);
/** Appends a column (zeroed, length/precision/scale -1, optional true) and returns it; the name
 * and type name are copied. The pointer is valid until the next add. */
struct schema_column *schema_table_add_column(struct schema_table *t, const char *name,
                                              const char *type_name, enum value_kind kind);
/** Index of the column named `name`, or -1. */
int schema_table_find(const struct schema_table *t, const char *name);
/** Number of key columns. */
size_t schema_table_nkeys(const struct schema_table *t);
/** True when both tables have the same columns with the same types and keys. */
bool schema_table_equal(const struct schema_table *a, const struct schema_table *b);

/** JSON form for the state file (new reference). */
json_t *schema_table_to_json(const struct schema_table *t);
/** Reads the JSON form back; NULL with *err set when malformed. */
struct schema_table *schema_table_from_json(const json_t *j, struct error *err);

#endif
