/* arena: bump allocation in blocks, freed all at once (see arena.h). */
#include "arena.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"

struct arena_block {
    struct arena_block *next;
    size_t cap;
    size_t used;
    max_align_t data[];
};

struct arena {
    struct arena_block *head; /* the block being filled; older ones follow */
};

#define ARENA_BLOCK 65536

struct arena *arena_new(void)
{
    return mem_calloc(1, sizeof(struct arena));
}

static void free_blocks(struct arena_block *b)
{
    while (b) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
}

void arena_free(struct arena *a)
{
    if (a == NULL)
        return;
    free_blocks(a->head);
    free(a);
}

void arena_reset(struct arena *a)
{
    struct arena_block *b = a->head;
    if (b == NULL)
        return;
    /* A block grown for one huge value is not worth keeping for the next event. */
    if (b->cap > 4 * ARENA_BLOCK) {
        free_blocks(b);
        a->head = NULL;
        return;
    }
    free_blocks(b->next);
    b->next = NULL;
    b->used = 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
    size_t align = sizeof(max_align_t);
    n = (n + align - 1) / align * align;
    if (n == 0)
        n = align;
    struct arena_block *b = a->head;
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        b = mem_alloc(sizeof *b + cap);
        b->cap = cap;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

char *arena_dup(struct arena *a, const void *p, size_t n)
{
    char *d = arena_alloc(a, n + 1);
    if (n)
        memcpy(d, p, n);
    d[n] = '\0';
    return d;
}
