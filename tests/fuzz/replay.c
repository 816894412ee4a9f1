/*
 * replay: runs a libFuzzer target over its stored corpus without libFuzzer, so that `make test`
 * (gcc, ASan+UBSan) checks every parser against every input the fuzzers ever kept, on machines
 * where clang's fuzzer runtime is missing and in far less time than a fuzzing run.
 *   replay DIR...   one "ok"/"not ok" line per directory
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    size_t cap = 4096, len = 0;
    uint8_t *data = malloc(cap);
    size_t n;
    while (data && (n = fread(data + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            data = realloc(data, cap);
        }
    }
    fclose(f);
    if (data == NULL)
        return -1;
    LLVMFuzzerTestOneInput(data, len);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        DIR *dir = opendir(argv[i]);
        size_t count = 0;
        if (dir == NULL) {
            printf("not ok - replay %s: cannot open the corpus\n", argv[i]);
            failed = 1;
            continue;
        }
        struct dirent *de;
        while ((de = readdir(dir)) != NULL) {
            char path[4096];
            if (de->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "%s/%s", argv[i], de->d_name);
            if (replay_file(path) == 0)
                count++;
        }
        closedir(dir);
        /* A crash or sanitizer report ends the process before this line. */
        printf("%s - replay %s: %zu inputs\n", count ? "ok" : "not ok", argv[i], count);
        failed |= count == 0;
    }
    return failed;
}
