/* error: formatting of the caller-provided error buffer (see error.h). */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void error_vset(struct error *err, bool retriable, const char *fmt, va_list ap)
    DBT_PRINTF(3, 0);
static void error_vset(struct error *err, bool retriable, const char *fmt, va_list ap)
{
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    err->retriable = retriable;
}

int error_set(struct error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, false, fmt, ap);
    va_end(ap);
    return -1;
}

int error_retry(struct error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, true, fmt, ap);
    va_end(ap);
    return -1;
}

int error_wrap(struct error *err, const char *fmt, ...)
{
    char prefix[ERROR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t plen = strlen(prefix);
    if (plen >= sizeof err->msg - 1)
        plen = sizeof err->msg - 1;
    size_t olen = strnlen(err->msg, sizeof err->msg - 1);
    if (plen + olen > sizeof err->msg - 1)
        olen = sizeof err->msg - 1 - plen;
    memmove(err->msg + plen, err->msg, olen);
    memcpy(err->msg, prefix, plen);
    err->msg[plen + olen] = '\0';
    return -1;
}

void error_clear(struct error *err)
{
    err->msg[0] = '\0';
    err->retriable = false;
}
