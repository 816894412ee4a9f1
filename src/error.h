/*
 * error: the caller-provided error buffer every fallible function fills.
 *
 * Functions return 0 on success and a negative value on failure, after writing one line a user
 * can act on into *err. `retriable` tells the pipeline whether reconnecting with backoff may help
 * (lost connection, HTTP 5xx) or whether it must stop (bad config, corrupt data, refused load).
 */
#ifndef DBTAIL_ERROR_H
#define DBTAIL_ERROR_H

#include <stdbool.h>
#include <stddef.h>

#define ERROR_MSG_MAX 512

#if defined(__GNUC__)
#define DBT_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define DBT_MUSTCHECK         __attribute__((warn_unused_result))
#else
#define DBT_PRINTF(fmt, args)
#define DBT_MUSTCHECK
#endif

struct error {
    char msg[ERROR_MSG_MAX];
    bool retriable;
};

/** Sets a permanent error; always returns -1 so callers can `return error_set(err, ...)`. */
int error_set(struct error *err, const char *fmt, ...) DBT_PRINTF(2, 3);

/** Sets an error that a reconnect or a retry may cure; returns -1. */
int error_retry(struct error *err, const char *fmt, ...) DBT_PRINTF(2, 3);

/** Prefixes the message already in *err with more context ("reading state file x: "). */
int error_wrap(struct error *err, const char *fmt, ...) DBT_PRINTF(2, 3);

/** Clears *err. */
void error_clear(struct error *err);

#endif
