/*
 * unit: the in-house unit test harness. A test file lists its cases in a table and calls
 * unit_main(); each case prints "ok - file: case" or "not ok - file: case" plus the failed
 * checks, and tests/run.sh counts those lines.
 */
#ifndef DBTAIL_UNIT_H
#define DBTAIL_UNIT_H

#include <stdbool.h>
#include <string.h>

struct unit_case {
    const char *name;
    void (*fn)(void);
};

/** Records a failed check in the running case (used through the macros below). */
void unit_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Runs every case (or those whose name contains argv[1]); exit status 1 when any failed. */
int unit_main(const char *suite, const struct unit_case *cases, int argc, char **argv);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            unit_fail(__FILE__, __LINE__, "%s", #cond);                                            \
    } while (0)

#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *got_ = (got), *want_ = (want);                                                 \
        if (got_ == NULL || want_ == NULL ? got_ != want_ : strcmp(got_, want_) != 0)              \
            unit_fail(__FILE__, __LINE__, "%s\n      got:  %s\n      want: %s", #got,          \
                      got_ ? got_ : "(null)", want_ ? want_ : "(null)");                           \
    } while (0)

#define CHECK_INT(got, want)                                                                       \
    do {                                                                                           \
        long long got_ = (long long)(got), want_ = (long long)(want);                              \
        if (got_ != want_)                                                                         \
            unit_fail(__FILE__, __LINE__, "%s: got %lld, want %lld", #got, got_, want_);          \
    } while (0)

#endif
