/*
 * Unit tests of src/arena.c: alignment, copies, blocks that one value outgrows, and reuse after
 * a reset (ASan reports any block freed too early or never).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../src/arena.h"
#include "unit.h"

static bool aligned(const void *p)
{
    return (uintptr_t)p % sizeof(max_align_t) == 0;
}

static void test_alloc(void)
{
    struct arena *a = arena_new();
    char *prev = NULL;
    for (int i = 0; i < 1000; i++) {
        char *p = arena_alloc(a, (size_t)i % 37 + 1);
        CHECK(aligned(p));
        CHECK(p != prev);
        memset(p, 'x', (size_t)i % 37 + 1);
        prev = p;
    }
    CHECK(arena_alloc(a, 0) != arena_alloc(a, 0));
    arena_free(a);
    arena_free(NULL);
}

static void test_dup(void)
{
    struct arena *a = arena_new();
    char *s = arena_dup(a, "hello world", 5);
    CHECK_STR(s, "hello");
    char *e = arena_dup(a, NULL, 0);
    CHECK_STR(e, "");
    CHECK_STR(s, "hello");
    arena_free(a);
}

static void test_reset(void)
{
    struct arena *a = arena_new();
    char *first = arena_alloc(a, 100);
    arena_reset(a);
    CHECK(arena_alloc(a, 100) == first);

    for (int i = 0; i < 2000; i++)
        memset(arena_alloc(a, 100), 'x', 100);
    char *big = arena_alloc(a, 1 << 20);
    memset(big, 0, 1 << 20);
    arena_reset(a);
    char *p = arena_alloc(a, 10);
    CHECK(p != NULL);
    CHECK(aligned(p));
    memset(p, 'y', 10);
    arena_free(a);
}

int main(int argc, char **argv)
{
    static const struct unit_case cases[] = {
        {"alloc", test_alloc},
        {"dup", test_dup},
        {"reset", test_reset},
        {NULL, NULL},
    };
    return unit_main("arena", cases, argc, argv);
}
