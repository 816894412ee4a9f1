/*
 * clock: the two clocks dbtail reads. Monotonic milliseconds for timeouts, intervals and
 * durations (immune to the wall clock being set); wall-clock microseconds since the Unix epoch
 * for timestamps that leave the process (Debezium's ts_us, replication status).
 */
#ifndef DBTAIL_CLOCK_H
#define DBTAIL_CLOCK_H

#include <stdint.h>

/** Milliseconds of CLOCK_MONOTONIC: only differences between two readings mean anything. */
int64_t clock_mono_ms(void);

/** Microseconds since 1970-01-01 UTC by CLOCK_REALTIME. */
int64_t clock_wall_us(void);

#endif
