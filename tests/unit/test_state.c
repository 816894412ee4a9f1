/* Unit tests of src/state.c: the offsets file's round trip, atomicity and refusals. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/buf.h"
#include "../../src/state.h"
#include "unit.h"

static char dir[64];
static char path[128];

static void fresh_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/dbtail-test-state.XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(path, sizeof path, "%s/offsets.json", dir);
}

static void remove_dir(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static void write_text(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");
    if (f == NULL) {
        perror(p);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *p)
{
    FILE *f = fopen(p, "r");
    struct buf b;
    char chunk[4096];
    size_t n;
    buf_init(&b);
    if (f == NULL)
        return NULL;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    return buf_take(&b);
}

static struct state *sample_state(const char *lsn)
{
    struct state *st = state_new();
    st->connector = strdup("inventory");
    st->source = json_pack("{s:s, s:s, s:s}", "connector", "postgresql", "server", "127.0.0.1:5432",
                           "database", "shop");
    st->position = json_pack("{s:s, s:b}", "lsn", lsn, "snapshot_done", 1);
    st->schemas = json_pack("[{s:s}]", "table", "public.orders");
    st->sinks = json_pack("{s:{s:s, s:i}}", "file", "path", "/tmp/out.jsonl", "length", 1234);
    return st;
}

static void test_round_trip(void)
{
    struct error err;
    struct state *st = sample_state("0/16B3748"), *back = NULL;
    fresh_dir();

    CHECK_INT(state_save(path, st, &err), 0);
    CHECK_INT(state_load(path, &back, &err), 0);
    CHECK(back != NULL);
    if (back) {
        CHECK_STR(back->connector, "inventory");
        CHECK(json_equal(back->source, st->source));
        CHECK(json_equal(back->position, st->position));
        CHECK(json_equal(back->schemas, st->schemas));
        CHECK(json_equal(back->sinks, st->sinks));
        CHECK(back->saved_at != NULL && strlen(back->saved_at) == 20);
    }

    struct stat sb;
    CHECK_INT(stat(path, &sb), 0);
    CHECK_INT(sb.st_mode & 0777, 0600);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    CHECK(access(tmp, F_OK) != 0);

    /* Readable by a person: indented, fields in a fixed order. */
    char *text = read_text(path);
    CHECK(text != NULL &&
          strncmp(text, "{\n  \"format\": 1,\n  \"connector\": \"inventory\"", 43) == 0);
    free(text);

    state_free(st);
    state_free(back);
    remove_dir();
}

static void test_missing_file(void)
{
    struct error err;
    struct state *st = (struct state *)&err; /* must be overwritten */
    fresh_dir();
    CHECK_INT(state_load(path, &st, &err), 0);
    CHECK(st == NULL);
    remove_dir();
}

static void test_crash_before_rename(void)
{
    struct error err;
    struct state *old = sample_state("0/100"), *next = sample_state("0/200"), *back = NULL;
    char tmp[160];
    fresh_dir();
    snprintf(tmp, sizeof tmp, "%s.tmp", path);

    CHECK_INT(state_save(path, old, &err), 0);
    /* A save that died after writing part of the temp file and before the rename. */
    write_text(tmp, "{\"format\": 1, \"source\": {\"conn");
    CHECK_INT(state_load(path, &back, &err), 0);
    CHECK(back && json_equal(back->position, old->position));
    state_free(back);
    back = NULL;

    /* The next save starts the temp file over. */
    CHECK_INT(state_save(path, next, &err), 0);
    CHECK_INT(state_load(path, &back, &err), 0);
    CHECK(back && json_equal(back->position, next->position));
    CHECK(access(tmp, F_OK) != 0);

    state_free(old);
    state_free(next);
    state_free(back);
    remove_dir();
}

/* Loads text as the state file and expects an error containing each of the needles. */
static void expect_refused(const char *text, const char *needle1, const char *needle2)
{
    struct error err;
    struct state *st = NULL;
    error_clear(&err);
    write_text(path, text);
    CHECK_INT(state_load(path, &st, &err), -1);
    CHECK(st == NULL);
    CHECK(!err.retriable);
    if (strstr(err.msg, path) == NULL || strstr(err.msg, needle1) == NULL ||
        (needle2 && strstr(err.msg, needle2) == NULL) || strstr(err.msg, "not modified") == NULL)
        unit_fail(__FILE__, __LINE__, "unexpected message: %s", err.msg);
    char *after = read_text(path);
    CHECK_STR(after, text);
    free(after);
}

static void test_corrupt_file(void)
{
    fresh_dir();
    expect_refused("{\n  \"format\": 1,\n  \"source\": {\n", ":4:", "invalid JSON");
    expect_refused("", "invalid JSON", NULL);
    expect_refused("[1, 2]", "not a JSON object", NULL);
    remove_dir();
}

static void test_wrong_format(void)
{
    fresh_dir();
    expect_refused("{\"format\": 2, \"source\": {}, \"position\": {}}", "format 2", "format 1");
    expect_refused("{\"source\": {}, \"position\": {}}", "\"format\"", NULL);
    remove_dir();
}

static void test_missing_fields(void)
{
    fresh_dir();
    expect_refused("{\"format\": 1, \"position\": {\"lsn\": \"0/1\"}}", "\"source\"", NULL);
    expect_refused("{\"format\": 1, \"source\": {\"server\": \"a\"}}", "\"position\"", NULL);
    expect_refused("{\"format\": 1, \"source\": {}, \"position\": 1, \"sinks\": []}", "\"sinks\"",
                   NULL);
    remove_dir();
}

static void test_unreadable(void)
{
    struct error err;
    struct state *st = NULL;
    fresh_dir();
    /* A directory where the file should be: open succeeds, read fails. */
    CHECK_INT(mkdir(path, 0700), 0);
    CHECK_INT(state_load(path, &st, &err), -1);
    CHECK(strstr(err.msg, path) != NULL && strstr(err.msg, "could not read") != NULL);
    remove_dir();
}

static void test_save_failure(void)
{
    struct error err;
    struct state *st = sample_state("0/1");
    char bad[200];
    fresh_dir();
    snprintf(bad, sizeof bad, "%s/missing/offsets.json", dir);
    CHECK_INT(state_save(bad, st, &err), -1);
    CHECK(strstr(err.msg, bad) != NULL);
    state_free(st);
    remove_dir();
}

static void test_check_source(void)
{
    struct error err;
    struct state *st = sample_state("0/1");
    json_t *same = json_pack("{s:s, s:s, s:s}", "database", "shop", "server", "127.0.0.1:5432",
                             "connector", "postgresql");
    json_t *other = json_pack("{s:s, s:s, s:s}", "connector", "postgresql", "server",
                              "127.0.0.1:5432", "database", "warehouse");
    json_t *more = json_pack("{s:s, s:s, s:s, s:i}", "connector", "postgresql", "server",
                             "127.0.0.1:5432", "database", "shop", "server_id", 7);

    CHECK_INT(state_check_source(st, same, "/x/offsets.json", &err), 0);

    CHECK_INT(state_check_source(st, other, "/x/offsets.json", &err), -1);
    CHECK(strstr(err.msg, "/x/offsets.json") != NULL);
    CHECK(strstr(err.msg, "database is \"shop\" there but \"warehouse\" now") != NULL);
    CHECK(!err.retriable);

    CHECK_INT(state_check_source(st, more, "/x/offsets.json", &err), -1);
    CHECK(strstr(err.msg, "server_id is (absent) there but 7 now") != NULL);

    json_decref(same);
    json_decref(other);
    json_decref(more);
    state_free(st);
}

static void test_no_passwords(void)
{
    struct error err;
    struct state *st = sample_state("0/1"), *back = NULL;
    fresh_dir();
    json_object_set_new(st->source, "database.password", json_string("hunter2-source"));
    json_object_set_new(json_object_get(st->sinks, "file"), "sink.doris.password",
                        json_string("hunter2-sink"));

    CHECK_INT(state_save(path, st, &err), 0);
    char *text = read_text(path);
    CHECK(text && strstr(text, "hunter2") == NULL);
    free(text);

    /* The identity still carries the secret; it must not count as a difference. */
    CHECK_INT(state_load(path, &back, &err), 0);
    CHECK(back != NULL);
    if (back)
        CHECK_INT(state_check_source(back, st->source, path, &err), 0);

    /* status prints neither. */
    char *printed = NULL;
    size_t printed_len = 0;
    FILE *out = open_memstream(&printed, &printed_len);
    json_object_set_new(st->position, "password", json_string("hunter2-position"));
    state_print(st, out);
    fclose(out);
    CHECK(printed && strstr(printed, "hunter2") == NULL);
    free(printed);

    state_free(st);
    state_free(back);
    remove_dir();
}

/* A position names tables by their names, which may contain any word: the PostgreSQL reader's
 * snapshot ranges of a table "user_passwords" must come back, or the restarted stream replays
 * changes the snapshot already holds. */
static void test_position_kept_whole(void)
{
    struct error err;
    struct state *st = sample_state("0/1"), *back = NULL;
    fresh_dir();
    json_object_set_new(st->position, "ranges",
                        json_pack("{s:[{s:n, s:s}], s:[{s:n, s:s}]}", "public.user_passwords",
                                  "upto", "lsn", "0/5", "vault.secrets", "upto", "lsn", "0/6"));
    CHECK_INT(state_save(path, st, &err), 0);
    CHECK_INT(state_load(path, &back, &err), 0);
    CHECK(back != NULL && json_equal(back->position, st->position));
    state_free(st);
    state_free(back);
    remove_dir();
}

static void test_print(void)
{
    struct state *st = sample_state("0/16B3748");
    char *printed = NULL;
    size_t printed_len = 0;
    FILE *out = open_memstream(&printed, &printed_len);
    state_print(st, out);
    fclose(out);
    CHECK(printed && strstr(printed, "connector: inventory\n") != NULL);
    CHECK(printed && strstr(printed, "position:\n  lsn: 0/16B3748\n  snapshot_done: true\n"));
    CHECK(printed &&
          strstr(printed, "sinks:\n  file:\n    path: /tmp/out.jsonl\n    length: 1234\n"));
    CHECK(printed && strstr(printed, "tables with saved schemas: 1\n"));
    free(printed);
    state_free(st);
}

static void test_lock(void)
{
    struct error err;
    int fd1 = -1, fd2 = -1;
    fresh_dir();
    CHECK_INT(state_lock(path, &fd1, &err), 0);
    /* A second holder (another open file description, as another process has) is refused. */
    CHECK_INT(state_lock(path, &fd2, &err), -1);
    CHECK(strstr(err.msg, "another dbtail is running") != NULL && strstr(err.msg, path) != NULL);
    CHECK_INT(fd2, -1);
    close(fd1);
    CHECK_INT(state_lock(path, &fd2, &err), 0);
    close(fd2);
    remove_dir();
}

int main(int argc, char **argv)
{
    static const struct unit_case cases[] = {
        {"round trip", test_round_trip},
        {"missing file is a fresh start", test_missing_file},
        {"crash before rename keeps the old state", test_crash_before_rename},
        {"corrupt file is refused", test_corrupt_file},
        {"other format version is refused", test_wrong_format},
        {"missing fields are refused", test_missing_fields},
        {"unreadable file is refused", test_unreadable},
        {"save into a missing directory fails", test_save_failure},
        {"source identity mismatch names the field", test_check_source},
        {"passwords are never stored or printed", test_no_passwords},
        {"positions are stored whole", test_position_kept_whole},
        {"status text", test_print},
        {"one process at a time", test_lock},
        {NULL, NULL},
    };
    return unit_main("state", cases, argc, argv);
}
