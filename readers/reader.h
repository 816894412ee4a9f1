/*
 * reader: the interface every source implements (PostgreSQL pgoutput, MySQL/MariaDB binlog).
 *
 * The pipeline drives a reader from one thread: start() once, then next() in a loop; ack() tells
 * it that everything up to a COMMIT's position is durable in every sink, which is the only
 * position it may confirm to the server (PG flush LSN). A reader reports a lost connection as a
 * retriable error; the pipeline then restarts it from the last saved state, so a reader never
 * has to undo events it already handed out.
 */
#ifndef DBTAIL_READER_H
#define DBTAIL_READER_H

#include <jansson.h>
#include <stdio.h>

#include "../src/config.h"
#include "../src/error.h"
#include "../src/event.h"

enum reader_mode {
    READER_RUN,          /* snapshot as snapshot.mode says, then stream */
    READER_SNAPSHOT_ONLY /* snapshot, then report the end (next() returns 1) */
};

struct reader;

struct reader_ops {
    const char *name;
    /* Connects and prepares to deliver the events after `position` (the position of the last
     * durable COMMIT, borrowed, NULL for a fresh start) with the schemas saved beside it
     * (borrowed, may be NULL). */
    int (*start)(struct reader *rd, const json_t *position, const json_t *schemas,
                 struct error *err);
    /* Sets *ev to the next event, or to NULL when nothing came within timeout_ms. Returns 0,
     * 1 when a snapshot-only run has delivered everything, or -1 with *err set. */
    int (*next)(struct reader *rd, const struct event **ev, int timeout_ms, struct error *err);
    /* Every event up to the COMMIT carrying `position` (borrowed) is durable downstream. */
    int (*ack)(struct reader *rd, const json_t *position, struct error *err);
    /* The table schemas to persist with the next checkpoint (new reference, may be NULL). */
    json_t *(*schemas)(struct reader *rd);
    /* Checks the source's prerequisites, one line per check on out ("ok ..." or "FAIL ...:
     * how to fix"); returns the number of failures. */
    int (*check)(struct reader *rd, FILE *out);
    /* A JSON object naming the source (connector, server, database) that a state file must
     * match before its position is used (new reference). */
    json_t *(*identity)(struct reader *rd);
    void (*free)(struct reader *rd);
};

/* Implementations embed this as their first member. */
struct reader {
    const struct reader_ops *ops;
};

/** Creates the reader that connector.class names; cfg is borrowed for the reader's life. */
DBT_MUSTCHECK int reader_new(const struct config *cfg, enum reader_mode mode, struct reader **out,
                             struct error *err);
void reader_free(struct reader *rd);

/* Constructors of the implementations (same contract as reader_new). */
DBT_MUSTCHECK int pg_reader_new(const struct config *cfg, enum reader_mode mode,
                                struct reader **out, struct error *err);
DBT_MUSTCHECK int mysql_reader_new(const struct config *cfg, enum reader_mode mode,
                                   struct reader **out, struct error *err);

#endif
