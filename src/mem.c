/* mem: allocation that aborts on exhaustion (see mem.h). */
#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every call asks for at least one byte, so NULL is always a failure (for calloc, also a
 * count times size that overflows). */
static void *mem_check(void *p, size_t count, size_t size)
{
    if (p == NULL) {
        fprintf(stderr, "dbtail: out of memory allocating %zu x %zu bytes\n", count, size);
        abort();
    }
    return p;
}

void *mem_alloc(size_t size)
{
    return mem_check(malloc(size ? size : 1), 1, size);
}

void *mem_calloc(size_t count, size_t size)
{
    return mem_check(calloc(count ? count : 1, size ? size : 1), count, size);
}

void *mem_realloc(void *ptr, size_t size)
{
    return mem_check(realloc(ptr, size ? size : 1), 1, size);
}

char *mem_strdup(const char *s)
{
    return s ? mem_strndup(s, strlen(s)) : NULL;
}

char *mem_strndup(const char *s, size_t len)
{
    char *copy = mem_alloc(len + 1);
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}
