/*
 * mysql_schema: MySQL/MariaDB tables as information_schema describes them, and the history of
 * their versions along the binlog.
 *
 * A table definition keeps each column as a struct binlog_column (type code, metadata,
 * signedness, collation, ENUM/SET labels, name, key): the same description a TABLE_MAP with
 * full optional metadata gives, so that the snapshot, the stream and `dbtail decode` map a
 * column to one schema view (binlog_column_to_schema). Definitions are built from the rows of
 * the information_schema query in mysql_schema_query() (run by the reader), they complete the
 * TABLE_MAPs of servers that send no column names or signedness (MySQL 5.6/5.7, MySQL 8 with
 * binlog_row_metadata=MINIMAL), and they turn the server's text protocol values (snapshot
 * reads) into struct value the way row events decode.
 *
 * The history records, per table, each definition with the binlog position from which it is
 * valid, so a restart decodes old events with the schema of their time. It is saved with the
 * offsets (mysql_schema_history_to_json) and read back on start.
 */
#ifndef DBTAIL_MYSQL_SCHEMA_H
#define DBTAIL_MYSQL_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../readers/binlog_types.h"
#include "../src/error.h"
#include "schema.h"

struct mysql_table_def {
    char *db;   /* owned */
    char *name; /* owned */
    size_t ncols;
    struct binlog_column *cols; /* owned; names always set */
    char **defaults;            /* owned array of owned texts (NULL: no default) */
    char **collation_names;     /* owned array of owned names (NULL: not a string column) */
    size_t *key;                /* owned: primary key column indexes in key order */
    size_t nkey;
};

/* The columns of the information_schema query, in its order: one row per column, ordered by
 * table and ordinal position. */
enum mysql_schema_field {
    MSF_DB,
    MSF_TABLE,
    MSF_COLUMN,
    MSF_DATA_TYPE,
    MSF_COLUMN_TYPE,
    MSF_NULLABLE,
    MSF_DEFAULT,
    MSF_CHARSET,
    MSF_COLLATION,
    MSF_COLLATION_ID,
    MSF_KEY_SEQ, /* position in the primary key, NULL when not part of it */
    MSF_COUNT
};

/** The information_schema query of the columns of every base table of the databases listed
 * (SQL text of a list, e.g. "'a','b'"), or of every non-system database when dbs is NULL.
 * New string (free()). */
char *mysql_schema_query(const char *dbs);

/** Builds one definition from consecutive rows of that query for the same table. Each row
 * holds MSF_COUNT values (NULL for SQL NULL); mariadb tells how COLUMN_DEFAULT is spelled.
 * *out is new (mysql_table_def_free). */
DBT_MUSTCHECK int mysql_table_def_from_rows(const char *const *const *rows, size_t nrows,
                                            bool mariadb, struct mysql_table_def **out,
                                            struct error *err);
void mysql_table_def_free(struct mysql_table_def *d);
struct mysql_table_def *mysql_table_def_copy(const struct mysql_table_def *d);
bool mysql_table_def_equal(const struct mysql_table_def *a, const struct mysql_table_def *b);

/** The schema of the table for events: every column, its key, defaults. New
 * (schema_table_free). */
struct schema_table *mysql_table_def_schema(const struct mysql_table_def *d);

/** Completes a TABLE_MAP's columns from the definition (names, signedness, collations,
 * labels, geometry types, and keys unless has_key) where the TABLE_MAP lacks them. Fails,
 * changing nothing, when the two disagree on the number, types or names of the columns. */
DBT_MUSTCHECK int mysql_table_def_complete(const struct mysql_table_def *d,
                                           struct binlog_column *cols, size_t ncols, bool has_key,
                                           struct error *err);

/** One value as the text protocol returns it (session time_zone +00:00, character set
 * utf8mb4; FLOAT columns selected as col+0e0) into the form row events give it. Strings,
 * decimals, JSON and geometries point into text (borrowed: it must outlive the value); BIT
 * values are built in the arena. */
DBT_MUSTCHECK int mysql_text_value(const struct binlog_column *col, const char *text, size_t len,
                                   struct arena *a, struct value *out, struct error *err);

/* History ---------------------------------------------------------------------------------- */

/* A binlog position, ordered by file index then offset. */
struct mysql_pos {
    int64_t file_index;
    uint64_t pos;
};
int mysql_pos_cmp(struct mysql_pos a, struct mysql_pos b);

struct mysql_schema_history;

struct mysql_schema_history *mysql_schema_history_new(void);
void mysql_schema_history_free(struct mysql_schema_history *h);

/** Records that db.table has definition d (taken) from position `from` on; nothing is
 * recorded when it equals the latest version. Returns true when it recorded one. */
bool mysql_schema_history_put(struct mysql_schema_history *h, struct mysql_pos from,
                              struct mysql_table_def *d);
/** Records that db.table no longer exists from `from` on. */
void mysql_schema_history_drop(struct mysql_schema_history *h, struct mysql_pos from,
                               const char *db, const char *table);
/** The definition valid at `at` (borrowed until the history is pruned or freed), NULL when
 * the table is unknown or dropped there. */
const struct mysql_table_def *mysql_schema_history_at(const struct mysql_schema_history *h,
                                                      const char *db, const char *table,
                                                      struct mysql_pos at);
/** Every table's latest definition, in turn (i from 0; NULL past the end). */
const struct mysql_table_def *mysql_schema_history_latest(const struct mysql_schema_history *h,
                                                          size_t i);
/** Forgets the versions no position at or after `at` can need. */
void mysql_schema_history_prune(struct mysql_schema_history *h, struct mysql_pos at);

json_t *mysql_schema_history_to_json(const struct mysql_schema_history *h);
DBT_MUSTCHECK int mysql_schema_history_from_json(struct mysql_schema_history *h, const json_t *j,
                                                 struct error *err);

#endif
