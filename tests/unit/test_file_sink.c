/*
 * Unit tests of sinks/file.c: the JSON-lines layout around render's records, buffering, and the
 * cut-back to the checkpointed length that makes a restart write every line exactly once.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../sinks/sink.h"
#include "../../src/config.h"
#include "../../src/log.h"
#include "unit.h"

static char dir[64];
static char path[128];
static struct config *cfg;
static struct render *rnd;
static struct schema_table *orders;

static void setup(void)
{
    struct error err;
    snprintf(dir, sizeof dir, "/tmp/dbtail-test-file.XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(path, sizeof path, "%s/out.jsonl", dir);
    cfg = config_new();
    config_set(cfg, "connector.class", "io.debezium.connector.postgresql.PostgresConnector");
    config_set(cfg, "topic.prefix", "srv");
    config_set(cfg, "key.converter.schemas.enable", "false");
    config_set(cfg, "value.converter.schemas.enable", "false");
    config_set(cfg, "sink.file.path", path);
    if (render_new(cfg, &rnd, &err) < 0) {
        printf("# render_new: %s\n", err.msg);
        exit(1);
    }
    orders = schema_table_new("shop", "public", "orders");
    struct schema_column *id = schema_table_add_column(orders, "id", "int4", VALUE_INT);
    id->int_bits = 32;
    id->key = true;
    id->optional = false;
    schema_table_add_column(orders, "note", "text", VALUE_STRING);
}

static void teardown(void)
{
    char cmd[128];
    schema_table_free(orders);
    render_free(rnd);
    config_free(cfg);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static off_t file_size(void)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static char *file_text(void)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char *text = calloc(1, 1 << 22);
    size_t n = fread(text, 1, (1 << 22) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (const char *p = text; p && *p; p++)
        n += *p == '\n';
    return n;
}

static int count_str(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* Writes one change of row `id` through the sink. */
static int write_row(struct sink *sk, enum event_op op, int id, const char *note, struct error *err)
{
    struct value row[2] = {{.kind = VALUE_INT, .v.i = id},
                           {.kind = VALUE_STRING, .v.s = {.p = note, .len = strlen(note)}}};
    struct event ev = {
        .op = op,
        .table = orders,
        .before = op == EVENT_DELETE ? row : NULL,
        .after = op == EVENT_DELETE ? NULL : row,
        .source = {.connector = EVENT_POSTGRESQL,
                   .ts_us = 1700000000000000,
                   .txid = 7,
                   .lsn = 1000 + (uint64_t)id},
        .order = 1000 + (uint64_t)id,
    };
    return sk->ops->write(sk, &ev, err);
}

static int64_t checkpoint_length(struct sink *sk)
{
    json_t *cp = sk->ops->checkpoint(sk);
    int64_t len = json_integer_value(json_object_get(cp, "length"));
    json_decref(cp);
    return len;
}

static void test_lines(void)
{
    struct error err;
    struct sink *sk = NULL;
    setup();
    CHECK_INT(sink_file_new(cfg, rnd, NULL, &sk, &err), 0);
    CHECK_INT(write_row(sk, EVENT_CREATE, 1, "first", &err), 0);
    CHECK_INT(write_row(sk, EVENT_DELETE, 2, "gone", &err), 0);
    /* Nothing reaches the file before a flush. */
    CHECK_INT(file_size(), 0);
    CHECK_INT(sk->ops->flush(sk, &err), 0);

    char *text = file_text();
    /* A create, a delete and its tombstone. */
    CHECK_INT(count_lines(text), 3);
    json_error_t jerr;
    char *line = text;
    for (int i = 0; i < 3 && line; i++) {
        char *nl = strchr(line, '\n');
        json_t *rec = json_loadb(line, nl ? (size_t)(nl - line) : strlen(line), 0, &jerr);
        CHECK(rec != NULL);
        CHECK_STR(json_string_value(json_object_get(rec, "topic")), "srv.public.orders");
        CHECK_INT(json_integer_value(json_object_get(json_object_get(rec, "key"), "id")),
                  i == 0 ? 1 : 2);
        json_t *value = json_object_get(rec, "value");
        if (i == 0)
            CHECK_STR(json_string_value(json_object_get(value, "op")), "c");
        else if (i == 1)
            CHECK_STR(json_string_value(json_object_get(value, "op")), "d");
        else
            CHECK(json_is_null(value));
        json_decref(rec);
        line = nl ? nl + 1 : NULL;
    }
    CHECK(strncmp(text, "{\"topic\":\"srv.public.orders\",\"key\":{\"id\":1},\"value\":{", 52) ==
          0);
    CHECK_INT(checkpoint_length(sk), (int64_t)strlen(text));
    free(text);
    sk->ops->free(sk);
    teardown();
}

static void test_restart_cuts_back(void)
{
    struct error err;
    struct sink *sk = NULL;
    setup();
    CHECK_INT(sink_file_new(cfg, rnd, NULL, &sk, &err), 0);
    CHECK_INT(write_row(sk, EVENT_CREATE, 1, "a", &err), 0);
    CHECK_INT(sk->ops->flush(sk, &err), 0);
    json_t *saved = sk->ops->checkpoint(sk);
    int64_t durable = checkpoint_length(sk);
    /* Flushed, but the state file was never written with this checkpoint: a crash here. */
    CHECK_INT(write_row(sk, EVENT_CREATE, 2, "b", &err), 0);
    CHECK_INT(sk->ops->flush(sk, &err), 0);
    CHECK(file_size() > durable);
    sk->ops->free(sk);

    sk = NULL;
    CHECK_INT(sink_file_new(cfg, rnd, saved, &sk, &err), 0);
    CHECK_INT(file_size(), durable);
    /* The replayed row is written once more, and only once. */
    CHECK_INT(write_row(sk, EVENT_CREATE, 2, "b", &err), 0);
    CHECK_INT(sk->ops->flush(sk, &err), 0);
    char *text = file_text();
    CHECK_INT(count_lines(text), 2);
    CHECK_INT(count_str(text, "\"key\":{\"id\":1}"), 1);
    CHECK_INT(count_str(text, "\"key\":{\"id\":2}"), 1);
    free(text);
    sk->ops->free(sk);
    json_decref(saved);
    teardown();
}

static void test_shorter_file_refused(void)
{
    struct error err;
    struct sink *sk = NULL;
    setup();
    json_t *saved = json_pack("{s:s, s:i}", "path", path, "length", 500);
    FILE *f = fopen(path, "w");
    fputs("{\"topic\":\"x\",\"key\":null,\"value\":null}\n", f);
    fclose(f);
    CHECK_INT(sink_file_new(cfg, rnd, saved, &sk, &err), -1);
    CHECK(strstr(err.msg, path) != NULL && strstr(err.msg, "lost outside dbtail") != NULL);
    CHECK(!err.retriable);
    /* The file is left as it was. */
    CHECK_INT(file_size(), 38);
    json_decref(saved);
    teardown();
}

static void test_other_path_not_cut(void)
{
    struct error err;
    struct sink *sk = NULL;
    setup();
    json_t *saved = json_pack("{s:s, s:i}", "path", "/elsewhere/out.jsonl", "length", 0);
    FILE *f = fopen(path, "w");
    fputs("kept\n", f);
    fclose(f);
    CHECK_INT(sink_file_new(cfg, rnd, saved, &sk, &err), 0);
    CHECK_INT(file_size(), 5);
    sk->ops->free(sk);
    json_decref(saved);
    teardown();
}

static void test_large_writes_go_out_early(void)
{
    struct error err;
    struct sink *sk = NULL;
    char note[4096];
    setup();
    memset(note, 'x', sizeof note - 1);
    note[sizeof note - 1] = '\0';
    CHECK_INT(sink_file_new(cfg, rnd, NULL, &sk, &err), 0);
    int64_t before = checkpoint_length(sk);
    for (int i = 0; i < 400; i++)
        CHECK_INT(write_row(sk, EVENT_CREATE, i, note, &err), 0);
    /* Over a megabyte is written without waiting for the flush (by the writer thread, so
     * give it a moment), but it is not durable yet. */
    for (int waited_ms = 0; file_size() < 1024 * 1024 && waited_ms < 5000; waited_ms += 10)
        usleep(10000);
    CHECK(file_size() >= 1024 * 1024);
    CHECK_INT(checkpoint_length(sk), before);
    CHECK_INT(sk->ops->flush(sk, &err), 0);
    char *text = file_text();
    CHECK_INT(count_lines(text), 400);
    CHECK_INT(checkpoint_length(sk), file_size());
    free(text);
    sk->ops->free(sk);
    teardown();
}

/* A write the writer thread fails is the sink's error at the next flush, retriable when the
 * disk is full: nothing is reported durable past it. The rows fill exactly one chunk, so the
 * flush itself has nothing left to write and only the writer's failure can fail it. */
static void test_writer_failure_reported(void)
{
    struct error err;
    struct sink *sk = NULL;
    char note[4096];
    setup();
    memset(note, 'x', sizeof note - 1);
    note[sizeof note - 1] = '\0';
    CHECK_INT(sink_file_new(cfg, rnd, NULL, &sk, &err), 0);
    CHECK_INT(write_row(sk, EVENT_CREATE, 1000, note, &err), 0);
    CHECK_INT(sk->ops->flush(sk, &err), 0);
    off_t line = file_size();
    sk->ops->free(sk);

    config_set(cfg, "sink.file.path", "/dev/full");
    CHECK_INT(sink_file_new(cfg, rnd, NULL, &sk, &err), 0);
    int rows = (int)((1024 * 1024 + line - 1) / line);
    for (int i = 0; i < rows; i++)
        CHECK_INT(write_row(sk, EVENT_CREATE, 1000 + i, note, &err), 0);
    CHECK_INT(sk->ops->flush(sk, &err), -1);
    CHECK(strstr(err.msg, "could not write to /dev/full") != NULL);
    CHECK(err.retriable);
    sk->ops->free(sk);
    teardown();
}

static void test_check_and_stdout(void)
{
    struct error err;
    struct sink *sk = NULL;
    char *printed = NULL;
    size_t printed_len = 0;
    setup();

    CHECK_INT(sink_file_new(cfg, rnd, NULL, &sk, &err), 0);
    FILE *out = open_memstream(&printed, &printed_len);
    CHECK_INT(sk->ops->check(sk, out), 0);
    fclose(out);
    CHECK(printed && strncmp(printed, "ok file sink: ", 14) == 0);
    free(printed);
    sk->ops->free(sk);

    char missing[200];
    snprintf(missing, sizeof missing, "%s/no/such/dir/out.jsonl", dir);
    config_set(cfg, "sink.file.path", missing);
    CHECK_INT(sink_file_new(cfg, rnd, NULL, &sk, &err), -1);
    CHECK(strstr(err.msg, missing) != NULL && strstr(err.msg, "sink.file.path") != NULL);

    config_set(cfg, "sink.file.path", "-");
    sk = NULL;
    CHECK_INT(sink_file_new(cfg, rnd, NULL, &sk, &err), 0);
    json_t *cp = sk->ops->checkpoint(sk);
    CHECK_STR(json_string_value(json_object_get(cp, "path")), "-");
    CHECK(json_object_get(cp, "length") == NULL);
    json_decref(cp);
    sk->ops->free(sk);
    /* Standard output stays open for whoever comes next. */
    CHECK(fcntl(STDOUT_FILENO, F_GETFD) >= 0);
    teardown();
}

int main(int argc, char **argv)
{
    static const struct unit_case cases[] = {
        {"one JSON line per record", test_lines},
        {"restart cuts the file back to the checkpoint", test_restart_cuts_back},
        {"file shorter than the checkpoint is refused", test_shorter_file_refused},
        {"another path is not cut back", test_other_path_not_cut},
        {"large output is written before the flush", test_large_writes_go_out_early},
        {"a failed background write is reported", test_writer_failure_reported},
        {"check, bad directory, standard output", test_check_and_stdout},
        {NULL, NULL},
    };
    log_setup(LOG_ERROR, false);
    return unit_main("file_sink", cases, argc, argv);
}
