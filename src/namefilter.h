/*
 * namefilter: Debezium's regex include/exclude lists (database/schema/table/column.include.list
 * and .exclude.list). Each comma-separated entry is a POSIX extended regex that must match the
 * whole name, case-insensitively, as Debezium anchors its patterns.
 * A struct namefilter is caller storage; namefilter_compile fills it and namefilter_free releases
 * what it holds.
 */
#ifndef DBTAIL_NAMEFILTER_H
#define DBTAIL_NAMEFILTER_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "error.h"

struct namefilter_list {
    regex_t *re; /* owned: n compiled patterns */
    size_t n;
};

struct namefilter {
    struct namefilter_list inc, exc;
};

/** Compiles the config keys `what`.include.list and `what`.exclude.list (absent or empty: no
 * patterns); an error names the key. On error f is left empty. */
int namefilter_compile(struct namefilter *f, const struct config *cfg, const char *what,
                       struct error *err);

/** Releases the patterns; the filter is empty afterwards and may be compiled again. */
void namefilter_free(struct namefilter *f);

/** Debezium's precedence: an empty include list admits all, and exclude wins over include. */
bool namefilter_admits(const struct namefilter *f, const char *s);

#endif
