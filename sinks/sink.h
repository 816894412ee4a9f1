/*
 * sink: the interface every destination implements (file, Doris, Kafka).
 *
 * The pipeline calls write() for each change event and commit() at each source transaction
 * end. At a checkpoint it calls flush() on every sink; only when all of them return 0 does it
 * save the state file with each sink's checkpoint() and confirm the position to the source.
 * A sink may load or send in the background (batch size, flush interval, delivery reports),
 * but it never reports durability except through a successful flush().
 */
#ifndef DBTAIL_SINK_H
#define DBTAIL_SINK_H

#include <jansson.h>
#include <stdio.h>

#include "../src/config.h"
#include "../src/error.h"
#include "../src/event.h"
#include "../src/render.h"

struct sink;

struct sink_ops {
    const char *name;
    /* Takes one change event (not COMMIT). The event is borrowed only for the call. May block
     * while the destination pushes back. */
    int (*write)(struct sink *sk, const struct event *ev, struct error *err);
    /* The source transaction whose events came since the previous commit() has ended; `ev` is
     * its COMMIT event (borrowed). */
    int (*commit)(struct sink *sk, const struct event *ev, struct error *err);
    /* Does due work without blocking long (flush-interval loads, delivery reports). */
    int (*poll)(struct sink *sk, struct error *err);
    /* Makes everything written so far durable; 0 only when it is. */
    int (*flush)(struct sink *sk, struct error *err);
    /* The sink's part of the state file as of the last successful flush (new reference or
     * NULL); it comes back as `saved` to the constructor after a restart. */
    json_t *(*checkpoint)(struct sink *sk);
    /* Checks the destination's prerequisites like reader_ops.check. */
    int (*check)(struct sink *sk, FILE *out);
    void (*free)(struct sink *sk);
};

/* Implementations embed this as their first member. */
struct sink {
    const struct sink_ops *ops;
};

/* Constructors: cfg and rd (the shared renderer) are borrowed for the sink's life; `saved` is
 * the sink's checkpoint from the state file (borrowed, NULL on a fresh start). */
DBT_MUSTCHECK int sink_file_new(const struct config *cfg, const struct render *rd,
                                const json_t *saved, struct sink **out, struct error *err);
DBT_MUSTCHECK int sink_doris_new(const struct config *cfg, const struct render *rd,
                                 const json_t *saved, struct sink **out, struct error *err);
DBT_MUSTCHECK int sink_kafka_new(const struct config *cfg, const struct render *rd,
                                 const json_t *saved, struct sink **out, struct error *err);

/** Creates the sink named `type` ("file", "doris", "kafka"). */
DBT_MUSTCHECK int sink_new(const char *type, const struct config *cfg, const struct render *rd,
                           const json_t *saved, struct sink **out, struct error *err);
void sink_free(struct sink *sk);

#endif
