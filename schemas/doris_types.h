/*
 * doris_types: the Doris side of a source column: the type it gets in CREATE/ALTER TABLE, the
 * JSON form its values take in a Stream Load body (Doris's own forms, not Debezium's), and the
 * DDL text dbtail sends. Pure: no I/O, no logging.
 *
 * Choices (docs/doris.md explains them to users):
 * - character lengths become byte lengths (x4; x1 for ascii), VARCHAR up to 65533 bytes, STRING
 *   beyond; STRING, JSON, ARRAY, FLOAT and DOUBLE cannot be Doris key columns, so a key column
 *   of those kinds becomes VARCHAR;
 * - DECIMAL(p,s) up to p = 38; wider or unconstrained decimals (PG numeric) become STRING with
 *   the exact text, since DECIMAL(38,9) would round or reject values the source holds;
 * - bytes are upper-case hex text (Doris has no binary type; hex() and unhex() read it back),
 *   geometries hex of their WKB (ST_GeomFromWKB(unhex(c)) reads it back), JSON the JSON text,
 *   timestamps with a zone the UTC wall clock as DATETIME(6), TIME and intervals text;
 * - value columns are created NULL whatever the source says: a partial-column load that inserts
 *   a row Doris does not hold yet (a delete of a row loaded before auto-create, a replay) fills
 *   the columns it lacks with NULL, and a NOT NULL column would reject it.
 */
#ifndef DBTAIL_DORIS_TYPES_H
#define DBTAIL_DORIS_TYPES_H

#include <stdbool.h>
#include <stddef.h>

#include "../src/buf.h"
#include "../src/event.h"
#include "schema.h"

/** Appends the Doris type of column c ("VARCHAR(400)", "DECIMAL(10,2)", "ARRAY<INT>"); `key`
 * asks for a type Doris accepts in a key column. */
void doristype_column_type(struct buf *out, const struct schema_column *c,
                           enum event_connector conn, bool key);

/** Appends v, a value of column c, as a JSON value of the column's Doris type. Returns 0, or 1
 * when Doris cannot hold the value (a date outside years 0-9999, NaN in a DECIMAL) and JSON
 * null was written instead. VALUE_ABSENT and VALUE_UNCHANGED must not be passed. */
int doristype_json_value(struct buf *out, const struct schema_column *c, enum event_connector conn,
                         const struct value *v);

/** Appends name as a back-quoted identifier. */
void doristype_ident(struct buf *out, const char *name);

/** Appends s as a double-quoted SQL string literal. */
void doristype_sql_string(struct buf *out, const char *s);

/* What CREATE TABLE needs beyond the source table. */
struct doristype_table_spec {
    const char *db;                 /* Doris database (borrowed) */
    const char *name;               /* Doris table (borrowed) */
    const struct schema_table *src; /* borrowed */
    enum event_connector conn;
    int buckets;                   /* 0: BUCKETS AUTO */
    const char *const *prop_names; /* user PROPERTIES (borrowed), nprops of them */
    const char *const *prop_values;
    size_t nprops;
};

/** Appends CREATE TABLE IF NOT EXISTS for spec: with a source key, a UNIQUE KEY merge-on-write
 * table on the key columns (moved first, in table order) with a bigint sequence type; without
 * one, a DUPLICATE KEY table with random distribution. User properties override defaults. */
void doristype_create_table(struct buf *out, const struct doristype_table_spec *spec);

/** Appends the source column's default as the text of Doris's DEFAULT "..." and returns true
 * when it is a constant Doris reads the same way; false (nothing appended) for no default,
 * expressions (nextval(), CURRENT_TIMESTAMP) and kinds whose Doris form differs from the
 * source's text. */
bool doristype_default(struct buf *out, const struct schema_column *c, enum event_connector conn);

/** Appends ALTER TABLE db.t ADD COLUMN for column c (nullable). */
void doristype_add_column(struct buf *out, const char *db, const char *table,
                          const struct schema_column *c, enum event_connector conn);
/** Appends ALTER TABLE db.t DROP COLUMN name. */
void doristype_drop_column(struct buf *out, const char *db, const char *table, const char *name);
/** Appends ALTER TABLE db.t MODIFY COLUMN giving c its (wider) type. */
void doristype_modify_column(struct buf *out, const char *db, const char *table,
                             const struct schema_column *c, enum event_connector conn, bool key);

/** True when Doris can change a column from type `from` to type `to` (both as
 * doristype_column_type writes them) without losing values: longer VARCHAR, VARCHAR to STRING,
 * a wider integer, FLOAT to DOUBLE, more DECIMAL precision at the same scale. */
bool doristype_widens(const char *from, const char *to);

#endif
