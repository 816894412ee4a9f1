/*
 * namefilter: Debezium's regex include/exclude lists (database/schema/table/column.include.list and
 * .exclude.list). Each comma-separated entry is a POSIX extended regex that must match the whole
 * name, case-insensitively, as Debezium anchors its patterns.
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

struct namefilter {
    regex_t *re; /* owned: n compiled patterns */
    size_t n;
};

/** Compiles the list in config key `key` (absent or empty: no patterns); the error names key. */
int namefilter_compile(struct namefilter *f, const struct config *cfg, const char *key,
                       struct error *err);

/** Releases the patterns; the list is empty afterwards and may be compiled again. */
void namefilter_free(struct namefilter *f);

/** Whether any pattern matches all of `s`. */
bool namefilter_match(const struct namefilter *f, const char *s);

/** Debezium's precedence: an empty include list admits all, and exclude wins over include. */
bool namefilter_admits(const struct namefilter *inc, const struct namefilter *exc, const char *s);

#endif
