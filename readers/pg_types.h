/*
 * pg_types: PostgreSQL values from their text form (what pgoutput sends and COPY ... TO STDOUT
 * writes) to struct value, by the column's kind; the kind and type parameters of the built-in
 * types by OID and typmod; and the COPY text format's field splitting. Pure: no I/O, no logging.
 *
 * The text forms assumed are those of a session with DateStyle=ISO, IntervalStyle=iso_8601,
 * TimeZone=UTC, bytea_output=hex, lc_monetary=C and extra_float_digits=3 (the reader sets them
 * on both of its connections, the walsender's included).
 *
 * Special values with no number: date ±infinity decodes to INT32_MAX / INT32_MIN days,
 * timestamp and timestamptz ±infinity to INT64_MAX / INT64_MIN microseconds (the renderer
 * prints them as Debezium does). Values too far from the epoch for int64 microseconds are an
 * error.
 *
 * Decoded strings and arrays live in an arena (owned by the caller, reset per event);
 * strings needing no change point into the input text (borrowed).
 */
#ifndef DBTAIL_PG_TYPES_H
#define DBTAIL_PG_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../schemas/schema.h"
#include "../src/arena.h"
#include "../src/error.h"
#include "../src/event.h"

/* What a base type's OID says about its values. */
struct pgtype_base {
    enum value_kind kind;
    uint8_t int_bits; /* VALUE_INT */
    const char *name; /* pg_type.typname ("int4", "timestamptz") */
};

/** Fills *out for a built-in base type OID; returns -1 when the OID is not one dbtail knows
 * (the caller then asks the catalog: arrays, enums, domains; anything else is VALUE_TEXT). */
int pgtype_builtin(uint32_t oid, struct pgtype_base *out);

/** Sets col->length / precision / scale from the type's typmod (-1 = unconstrained), and turns
 * a bit(1)/varbit(1) column into VALUE_BOOL as Debezium does. */
void pgtype_apply_typmod(struct schema_column *col, uint32_t base_oid, int32_t typmod);

/** Decodes the text form of one value of `kind` (elements of `elem_kind` for arrays).
 * The text is borrowed and need not be NUL-terminated. */
DBT_MUSTCHECK int pgtype_decode(enum value_kind kind, enum value_kind elem_kind, const char *text,
                                size_t len, struct arena *a, struct value *out, struct error *err);

/* One field of a COPY text-format row: data NULL for \N. */
struct pgtype_field {
    const char *data; /* borrowed from the line, or from the arena when it had escapes */
    size_t len;
};

/** Splits one COPY text-format line (without its newline) into exactly n fields, undoing the
 * backslash escapes; an other count of fields is an error. */
DBT_MUSTCHECK int pgtype_copy_fields(const char *line, size_t len, struct arena *a,
                                     struct pgtype_field *fields, size_t n, struct error *err);

/** Days since 1970-01-01 of a proleptic Gregorian date (astronomical year numbering). */
int64_t pgtype_days_from_civil(int64_t y, unsigned m, unsigned d);

/* ---- binary forms, as COPY ... (FORMAT binary) sends them: a snapshot reads a table that way
 * when every column has a binary decoder, sparing the server its output functions and dbtail
 * the parsing of text ---- */

/** Whether pgtype_decode_binary knows the values of base type `oid` that the reader reads as
 * `kind` (the built-in type's kind; enums by their own OID). */
bool pgtype_binary_ok(uint32_t oid, enum value_kind kind);
/** Decodes one value's binary form (its type's send function) into the struct value that
 * pgtype_decode gives for its text form. data is borrowed, and so are strings and bytes that
 * need no change; text made from it lives in `a`. */
DBT_MUSTCHECK int pgtype_decode_binary(uint32_t oid, enum value_kind kind, const uint8_t *data,
                                       size_t len, struct arena *a, struct value *out,
                                       struct error *err);
/** The binary COPY header at the start of a COPY's first message: sets *header_len to its
 * length (the rest of the message is the first tuple or the trailer). */
DBT_MUSTCHECK int pgtype_copy_binary_header(const char *msg, size_t len, size_t *header_len,
                                            struct error *err);
/** Splits one binary COPY message (a tuple) into exactly n fields (data NULL for NULL, else
 * borrowed from msg); 1 when the message is the trailer, -1 when malformed. */
DBT_MUSTCHECK int pgtype_copy_binary_fields(const char *msg, size_t len,
                                            struct pgtype_field *fields, size_t n,
                                            struct error *err);

#endif
