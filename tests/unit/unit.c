/* unit: runs a table of test cases and prints one TAP-style line per case (see unit.h). */
#include "unit.h"

#include <stdarg.h>
#include <stdio.h>

static int case_failures;

void unit_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stdout, "#   %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    case_failures++;
}

int unit_main(const char *suite, const struct unit_case *cases, int argc, char **argv)
{
    int failed = 0;
    for (const struct unit_case *c = cases; c->name; c++) {
        if (argc > 1 && strstr(c->name, argv[1]) == NULL)
            continue;
        case_failures = 0;
        c->fn();
        printf("%s - %s: %s\n", case_failures ? "not ok" : "ok", suite, c->name);
        fflush(stdout);
        if (case_failures)
            failed++;
    }
    return failed ? 1 : 0;
}
