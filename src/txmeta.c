/*
 * txmeta: Debezium's per-transaction counters (see txmeta.h).
 *
 * Debezium's END record lists the per-collection counts by iterating a java.util.HashMap that
 * TransactionContext clears between transactions but never replaces. The order is therefore
 * that of Java's buckets: String.hashCode spread by HashMap.hash, masked by the table length,
 * then insertion order within a bucket. The table starts at 16 slots and doubles when it holds
 * more than 3/4 of that, or when a bucket would hold a ninth entry while it has fewer than 64
 * slots; clear() keeps its length, so txmeta keeps it too. (A bucket of nine entries in a table
 * of 64 or more becomes a tree, whose order this does not follow: that takes dozens of tables
 * in one transaction, nine of them colliding.)
 */
#include "txmeta.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define JAVA_INITIAL_CAPACITY 16
#define JAVA_TREEIFY_BIN      8 /* entries a bucket holds before the next one treeifies it */
#define JAVA_MIN_TREEIFY      64

struct entry {
    char *name; /* owned, NUL-terminated */
    size_t len;
    int64_t count;
    uint32_t hash; /* HashMap.hash(name): String.hashCode with its high half folded in */
};

struct txmeta {
    char *id; /* owned; NULL when no transaction is open */
    int64_t total;
    struct entry *entries; /* owned, in insertion order */
    size_t n, cap;
    size_t *slots; /* owned open-addressing index: entry index + 1, 0 empty */
    size_t nslots; /* a power of two, at least twice n */
    size_t java_cap;
    struct txmeta_collection *ordered; /* owned: what txmeta_collections hands out */
    size_t *order;                     /* owned: its entry indexes */
};

/* String.hashCode over the UTF-16 code units of the UTF-8 text; malformed bytes count as
 * U+FFFD, as Java's decoder replaces them. */
static uint32_t java_string_hash(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    uint32_t h = 0;
    while (p < end) {
        uint32_t cp = 0xFFFD;
        size_t need = 0;
        if (p[0] < 0x80) {
            cp = p[0];
        } else if (p[0] >= 0xC2 && p[0] <= 0xDF) {
            need = 1;
            cp = p[0] & 0x1Fu;
        } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
            need = 2;
            cp = p[0] & 0x0Fu;
        } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
            need = 3;
            cp = p[0] & 0x07u;
        }
        size_t used = 1;
        if (need) {
            bool ok = (size_t)(end - p) > need;
            for (size_t i = 1; ok && i <= need; i++) {
                ok = (p[i] & 0xC0) == 0x80;
                cp = (cp << 6) | (p[i] & 0x3Fu);
            }
            static const uint32_t least[4] = {0, 0x80, 0x800, 0x10000};
            if (ok && cp >= least[need] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF))
                used = need + 1;
            else
                cp = 0xFFFD;
        }
        p += used;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            h = 31 * h + (0xD800 + (cp >> 10));
            h = 31 * h + (0xDC00 + (cp & 0x3FF));
        } else {
            h = 31 * h + cp;
        }
    }
    return h ^ (h >> 16);
}

struct txmeta *txmeta_new(void)
{
    struct txmeta *tx = mem_calloc(1, sizeof *tx);
    tx->java_cap = JAVA_INITIAL_CAPACITY;
    return tx;
}

void txmeta_end(struct txmeta *tx)
{
    for (size_t i = 0; i < tx->n; i++)
        free(tx->entries[i].name);
    tx->n = 0;
    if (tx->slots)
        memset(tx->slots, 0, tx->nslots * sizeof *tx->slots);
    free(tx->id);
    tx->id = NULL;
    tx->total = 0;
}

void txmeta_free(struct txmeta *tx)
{
    if (tx == NULL)
        return;
    txmeta_end(tx);
    free(tx->entries);
    free(tx->slots);
    free(tx->ordered);
    free(tx->order);
    free(tx);
}

void txmeta_begin(struct txmeta *tx, const char *id)
{
    txmeta_end(tx);
    tx->id = mem_strdup(id);
}

bool txmeta_active(const struct txmeta *tx)
{
    return tx->id != NULL;
}

const char *txmeta_id(const struct txmeta *tx)
{
    return tx->id;
}

int64_t txmeta_total(const struct txmeta *tx)
{
    return tx->total;
}

static void index_put(size_t *slots, size_t nslots, uint32_t hash, size_t idx)
{
    size_t s = hash & (nslots - 1);
    while (slots[s])
        s = (s + 1) & (nslots - 1);
    slots[s] = idx + 1;
}

static void index_grow(struct txmeta *tx)
{
    size_t n = tx->nslots ? tx->nslots * 2 : 16;
    free(tx->slots);
    tx->slots = mem_calloc(n, sizeof *tx->slots);
    tx->nslots = n;
    for (size_t i = 0; i < tx->n; i++)
        index_put(tx->slots, n, tx->entries[i].hash, i);
}

/* What HashMap.putVal does to the table length when a new key arrives. */
static void java_grow(struct txmeta *tx, uint32_t hash)
{
    size_t in_bucket = 0;
    for (size_t i = 0; i < tx->n; i++)
        if (((tx->entries[i].hash ^ hash) & (tx->java_cap - 1)) == 0)
            in_bucket++;
    if (in_bucket >= JAVA_TREEIFY_BIN && tx->java_cap < JAVA_MIN_TREEIFY)
        tx->java_cap *= 2;
    if (tx->n + 1 > tx->java_cap / 4 * 3)
        tx->java_cap *= 2;
}

int64_t txmeta_event(struct txmeta *tx, const char *name, size_t len)
{
    uint32_t hash = java_string_hash(name, len);
    tx->total++;
    if (tx->nslots) {
        for (size_t s = hash & (tx->nslots - 1); tx->slots[s]; s = (s + 1) & (tx->nslots - 1)) {
            struct entry *e = &tx->entries[tx->slots[s] - 1];
            if (e->hash == hash && e->len == len && memcmp(e->name, name, len) == 0)
                return ++e->count;
        }
    }
    java_grow(tx, hash);
    if (tx->n == tx->cap) {
        tx->cap = tx->cap ? tx->cap * 2 : 8;
        tx->entries = mem_realloc(tx->entries, tx->cap * sizeof *tx->entries);
        tx->ordered = mem_realloc(tx->ordered, tx->cap * sizeof *tx->ordered);
        tx->order = mem_realloc(tx->order, tx->cap * sizeof *tx->order);
    }
    struct entry *e = &tx->entries[tx->n];
    e->name = mem_strndup(name, len);
    e->len = len;
    e->count = 1;
    e->hash = hash;
    tx->n++;
    if (tx->n * 2 > tx->nslots)
        index_grow(tx);
    else
        index_put(tx->slots, tx->nslots, hash, tx->n - 1);
    return 1;
}

size_t txmeta_collections(struct txmeta *tx, const struct txmeta_collection **out)
{
    /* A stable insertion sort by bucket (transactions touch few tables); entries are in
     * insertion order, which is the order within a bucket. */
    size_t mask = tx->java_cap - 1;
    size_t *order = tx->order;
    for (size_t i = 0; i < tx->n; i++) {
        size_t bucket = tx->entries[i].hash & mask, j = i;
        while (j > 0 && (tx->entries[order[j - 1]].hash & mask) > bucket) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (size_t i = 0; i < tx->n; i++) {
        tx->ordered[i].name = tx->entries[order[i]].name;
        tx->ordered[i].count = tx->entries[order[i]].count;
    }
    *out = tx->ordered;
    return tx->n;
}
