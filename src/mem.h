/*
 * mem: allocation that never returns NULL. Out of memory aborts the process with a message:
 * the state file still holds the last durable position, so a restart loses nothing, and every
 * caller is spared a failure path that could never be tested.
 */
#ifndef DBTAIL_MEM_H
#define DBTAIL_MEM_H

#include <stddef.h>

/** Returns new memory the caller frees with free(). */
void *mem_alloc(size_t size);
void *mem_calloc(size_t count, size_t size);
void *mem_realloc(void *ptr, size_t size);
/** Returns a new copy of s (NULL stays NULL). */
char *mem_strdup(const char *s);
/** Returns a new NUL-terminated copy of the first len bytes of s. */
char *mem_strndup(const char *s, size_t len);

#endif
