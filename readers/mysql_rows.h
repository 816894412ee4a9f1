/*
 * mysql_rows: the rows of one unbuffered snapshot query (mysql_use_result), received and
 * turned into struct value (mysql_text_value) by a thread of its own while the pipeline
 * renders and writes the rows before them. The thread fills a few batches of rows, each
 * holding a copy of its rows' text and their values, and blocks when all are full, so memory
 * stays bounded however slow the sinks are. Rows come out in the server's order.
 */
#ifndef DBTAIL_MYSQL_ROWS_H
#define DBTAIL_MYSQL_ROWS_H

#include <mysql.h>
#include <stdbool.h>

#include "../schemas/mysql_schema.h"
#include "../src/error.h"
#include "../src/event.h"

struct myrows;

/* One row, valid until the next myrows_next or myrows_free. */
struct myrows_row {
    const struct value *vals; /* def->ncols values, in the definition's column order */
    const char *const *text;  /* each column's text, NUL-terminated; NULL for SQL NULL */
    const unsigned long *len; /* each column's text length */
    bool last;                /* no row follows */
};

/** Starts reading res, the unbuffered result (taken) of a query on conn whose columns are
 * def's (borrowed until myrows_free). Nothing else may use conn until myrows_free. *out is
 * new (myrows_free). */
DBT_MUSTCHECK int myrows_start(MYSQL *conn, MYSQL_RES *res, const struct mysql_table_def *def,
                               struct myrows **out, struct error *err);
/** The next row: 1 with *row, 0 past the last row, -1 with *err when reading the server
 * failed or a value cannot be read (then no later row comes; a row is marked last only when
 * the read after it succeeded in finding the end). */
DBT_MUSTCHECK int myrows_next(struct myrows *f, struct myrows_row *row, struct error *err);
/** Ends the thread and frees the result. When rows were left unread the connection is shut
 * down (a thread blocked in a read cannot be woken otherwise): close it, do not reuse it. */
void myrows_free(struct myrows *f);

#endif
