/* Unit tests of src/mem.c: allocation never hands back NULL. */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/mem.h"
#include "unit.h"

/* Runs this binary again as a child with `mode`, where the allocator returns NULL on failure
 * instead of the sanitizer stopping the process, and returns its wait status. */
static int child_status(const char *mode)
{
    pid_t pid = fork();
    if (pid == 0) {
        setenv("ASAN_OPTIONS", "allocator_may_return_null=1", 1);
        setenv("MEM_TEST_CHILD", mode, 1);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        execl("/proc/self/exe", "test_mem", (char *)NULL);
        _exit(99);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    return status;
}

static int child_main(const char *mode)
{
    void *p = NULL;
    if (strcmp(mode, "calloc-wrap") == 0)
        p = mem_calloc((size_t)1 << 62, 4); /* count x size wraps to 0 */
    else if (strcmp(mode, "alloc-huge") == 0)
        p = mem_alloc(SIZE_MAX / 2);
    /* Reaching here means NULL (or memory) came back instead of an abort. */
    return p == NULL ? 3 : 4;
}

static void test_failure_aborts(void)
{
    int st = child_status("calloc-wrap");
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    st = child_status("alloc-huge");
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
}

static void test_zero_sizes(void)
{
    void *a = mem_alloc(0), *c = mem_calloc(0, 8), *r = mem_realloc(NULL, 0);
    CHECK(a != NULL && c != NULL && r != NULL);
    free(a);
    free(c);
    free(r);
    char *s = mem_strndup("abcdef", 3);
    CHECK_STR(s, "abc");
    free(s);
    CHECK(mem_strdup(NULL) == NULL);
}

int main(int argc, char **argv)
{
    const char *mode = getenv("MEM_TEST_CHILD");
    if (mode)
        return child_main(mode);
    static const struct unit_case cases[] = {
        {"a failed allocation aborts", test_failure_aborts},
        {"zero sizes give memory", test_zero_sizes},
        {NULL, NULL},
    };
    return unit_main("mem", cases, argc, argv);
}
