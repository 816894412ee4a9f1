/*
 * state: the offsets file. JSON a person can read, written atomically (temp file, fsync,
 * rename, fsync of the directory), holding the format version, the connector's name, the
 * source's identity, the last durable position, the table schemas and each sink's checkpoint.
 * A crash at any instant leaves either the old or the new file, never a mix. A file that cannot
 * be read or parsed stops dbtail: it is never silently replaced by a fresh start.
 *
 * Identities and checkpoints must not hold passwords; as a safeguard, their object members whose
 * key config_is_secret() names are dropped on save and ignored by state_check_source. Positions
 * are saved whole: readers key them by table names, which may contain any word.
 */
#ifndef DBTAIL_STATE_H
#define DBTAIL_STATE_H

#include <jansson.h>
#include <stdio.h>

#include "error.h"

#define STATE_FORMAT 1

struct state {
    char *connector;  /* owned: the connector's name */
    json_t *source;   /* owned reference: the reader's identity object */
    json_t *position; /* owned reference: the reader's position of the last durable commit */
    json_t *schemas;  /* owned reference, may be NULL */
    json_t *sinks;    /* owned reference: object of sink name -> checkpoint, may be NULL */
    char *saved_at;   /* owned, may be NULL: when the file was written (filled by state_load) */
};

struct state *state_new(void);
void state_free(struct state *st);

/** Loads path into *out. A missing file gives 0 with *out NULL; anything unreadable, of
 * another format version, or malformed is an error naming the file. */
DBT_MUSTCHECK int state_load(const char *path, struct state **out, struct error *err);
/** Writes st to path atomically. */
DBT_MUSTCHECK int state_save(const char *path, const struct state *st, struct error *err);
/** Errors when the saved identity differs from the current source's, naming what differs. */
DBT_MUSTCHECK int state_check_source(const struct state *st, const json_t *identity,
                                     const char *path, struct error *err);
/** Takes an exclusive lock on PATH.lock, held while *fd stays open (close() releases it), so
 * that two processes never write the same state file; fails naming the file when it is held. */
DBT_MUSTCHECK int state_lock(const char *path, int *fd, struct error *err);
/** Writes st as indented "key: value" lines for `dbtail status`, without secret keys. */
void state_print(const struct state *st, FILE *out);

#endif
