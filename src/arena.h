/*
 * arena: a bump allocator for what decoding one event derives (value strings, arrays, field
 * lists). Everything it hands out stays valid until the next arena_reset or arena_free; a reset
 * keeps the newest block, unless one huge value made it, so steady decoding allocates nothing.
 * The arena owns all its memory; arena_new's caller owns the arena and frees it with arena_free.
 */
#ifndef DBTAIL_ARENA_H
#define DBTAIL_ARENA_H

#include <stddef.h>

struct arena;

struct arena *arena_new(void);
/** Frees the arena and everything it handed out; NULL is allowed. */
void arena_free(struct arena *a);
/** Takes back everything handed out so far. */
void arena_reset(struct arena *a);
/** n bytes of memory (aligned for any scalar), owned by the arena. */
void *arena_alloc(struct arena *a, size_t n);
/** A copy of p[0..n) plus a NUL, owned by the arena. */
char *arena_dup(struct arena *a, const void *p, size_t n);

#endif
