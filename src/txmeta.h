/*
 * txmeta: the counters behind Debezium's transaction metadata (provide.transaction.metadata),
 * as its TransactionContext keeps them: the open transaction's id, how many of its events came
 * so far, and how many per data collection ("schema.table" or "db.table").
 *
 * Each sink that writes rendered records keeps one (render_event_tx and render_commit fill it);
 * sinks see the same stream, so their counters agree, but none shares another's. Nothing here
 * outlives a restart: the pipeline resumes only after whole transactions.
 */
#ifndef DBTAIL_TXMETA_H
#define DBTAIL_TXMETA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct txmeta;

/* One data collection of the open transaction; name borrowed from the txmeta. */
struct txmeta_collection {
    const char *name;
    int64_t count;
};

/** A txmeta with no open transaction; free with txmeta_free. */
struct txmeta *txmeta_new(void);
void txmeta_free(struct txmeta *tx);

/** Opens a transaction (id copied); counters start from zero. */
void txmeta_begin(struct txmeta *tx, const char *id);
/** True between txmeta_begin and txmeta_end. */
bool txmeta_active(const struct txmeta *tx);
/** The id given to txmeta_begin (borrowed until txmeta_end); NULL when none is open. */
const char *txmeta_id(const struct txmeta *tx);

/** Counts one event of the collection `name` (len bytes, not NUL-terminated) and returns its
 * position among that collection's events in the transaction, from 1 (data_collection_order). */
int64_t txmeta_event(struct txmeta *tx, const char *name, size_t len);
/** Events counted since txmeta_begin: the last event's total_order, the END's event_count. */
int64_t txmeta_total(const struct txmeta *tx);

/** The collections counted so far, in the order Debezium's END record lists them (the
 * iteration order of its java.util.HashMap); *out is valid until the next call on tx.
 * Returns how many there are. */
size_t txmeta_collections(struct txmeta *tx, const struct txmeta_collection **out);

/** Closes the transaction. */
void txmeta_end(struct txmeta *tx);

#endif
