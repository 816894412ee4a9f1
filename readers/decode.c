/*
 * decode: `dbtail decode [--format debezium|flat] BINLOG_FILE...`. Reads binlog files with the
 * reader's own decoder and prints the records the file sink would write for them, one JSON line
 * each, rendered with topic.prefix "decode" and without schemas (flat: through
 * ExtractNewRecordState). Column names come from the TABLE_MAP metadata
 * (binlog_row_metadata=FULL) or are col_1, col_2, ... A truncated or corrupt file prints the
 * events before the damage, then an error naming the file offset, and exits 1.
 */
#include "decode.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/buf.h"
#include "../src/config.h"
#include "../src/mem.h"
#include "../src/render.h"
#include "binlog_decoder.h"

struct decode_table {
    uint64_t table_id;
    struct schema_table *schema;
};

struct decode_ctx {
    struct decode_table *tables;
    size_t ntables;
    struct buf line;
};

/* The schema a TABLE_MAP alone gives: its names or col_N, its key, its types. */
static int decode_table_map(void *ctx, struct binlog_table *tm, struct binlog_decoder_table *out,
                            struct error *err)
{
    (void)err;
    struct decode_ctx *dc = ctx;
    struct schema_table *s = schema_table_new(tm->db, NULL, tm->name);
    s->source_id = tm->table_id;
    for (size_t i = 0; i < tm->ncols; i++) {
        char name[32];
        snprintf(name, sizeof name, "col_%zu", i + 1);
        struct schema_column *c =
            schema_table_add_column(s, tm->cols[i].name ? tm->cols[i].name : name, "", VALUE_TEXT);
        binlog_column_to_schema(&tm->cols[i], c);
    }
    struct decode_table *t = NULL;
    for (size_t i = 0; i < dc->ntables; i++)
        if (dc->tables[i].table_id == tm->table_id)
            t = &dc->tables[i];
    if (t == NULL) {
        dc->tables = mem_realloc(dc->tables, (dc->ntables + 1) * sizeof *dc->tables);
        t = &dc->tables[dc->ntables++];
        t->table_id = tm->table_id;
    } else {
        schema_table_free(t->schema);
    }
    t->schema = s;
    out->schema = s;
    out->map = NULL;
    return 0;
}

/* Records are written in chunks of this size: a write per line costs more than the rendering. */
#define DECODE_OUT_CHUNK 65536
/* The file is read in chunks of this size rather than whole, so memory stays flat. */
#define DECODE_IN_CHUNK (1024 * 1024)

static void decode_flush(struct decode_ctx *dc)
{
    fwrite(dc->line.data, 1, dc->line.len, stdout);
    buf_reset(&dc->line);
}

static int decode_emit(void *ctx, const struct render_record *rec, struct error *err)
{
    (void)err;
    struct decode_ctx *dc = ctx;
    render_record_line(&dc->line, rec);
    if (dc->line.len >= DECODE_OUT_CHUNK)
        decode_flush(dc);
    return 0;
}

/* The unread part of a binlog file: data[start, end) holds the bytes at file offset off on. */
struct decode_input {
    FILE *f;
    uint8_t *data;
    size_t cap, start, end;
    bool eof;
};

static size_t input_avail(const struct decode_input *in)
{
    return in->end - in->start;
}

/* Makes at least need bytes available, or all that is left of the file. */
static int input_fill(struct decode_input *in, size_t need, const char *path, struct error *err)
{
    if (input_avail(in) >= need || in->eof)
        return 0;
    if (in->start > 0) {
        memmove(in->data, in->data + in->start, input_avail(in));
        in->end -= in->start;
        in->start = 0;
    }
    size_t want = need > DECODE_IN_CHUNK ? need : DECODE_IN_CHUNK;
    if (want > in->cap) {
        in->data = mem_realloc(in->data, want);
        in->cap = want;
    }
    while (in->end < need && !in->eof) {
        size_t n = fread(in->data + in->end, 1, in->cap - in->end, in->f);
        in->end += n;
        if (n == 0) {
            if (ferror(in->f))
                return error_set(err, "could not read %s", path);
            in->eof = true;
        }
    }
    return 0;
}

static int decode_file(const char *path, const struct render *r, struct decode_ctx *dc,
                       struct error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return error_set(err, "could not open %s: %s", path, strerror(errno));
    struct decode_input in = {.f = f};
    int rc = -1;
    struct binlog_decoder *d = NULL;
    if (input_fill(&in, BINLOG_MAGIC_LEN, path, err) < 0)
        goto out;
    if (input_avail(&in) < BINLOG_MAGIC_LEN ||
        memcmp(in.data + in.start, BINLOG_MAGIC, BINLOG_MAGIC_LEN) != 0) {
        error_set(err, "%s is not a binlog file (it lacks the \\xfebin magic)", path);
        goto out;
    }
    in.start += BINLOG_MAGIC_LEN;
    struct binlog_decoder_opts opts = {
        .connector = EVENT_MYSQL,
        .connector_from_fde = true,
        .table_map = decode_table_map,
        .ctx = dc,
    };
    d = binlog_decoder_new(&opts);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    binlog_decoder_start(d, base, BINLOG_MAGIC_LEN, BINLOG_CHECKSUM_OFF, NULL, false);
    size_t off = BINLOG_MAGIC_LEN;
    for (;;) {
        if (input_fill(&in, BINLOG_HEADER_LEN, path, err) < 0)
            goto out;
        if (input_avail(&in) == 0)
            break;
        struct binlog_header h = {0};
        struct error longer;
        /* An event longer than what is read is read whole, or as much of it as the file has. */
        if (binlog_parse_header(in.data + in.start, input_avail(&in), &h, &longer) < 0 &&
            input_fill(&in, h.event_size, path, err) < 0)
            goto out;
        if (binlog_parse_header(in.data + in.start, input_avail(&in), &h, err) < 0 ||
            binlog_decoder_feed(d, in.data + in.start, h.event_size, err) < 0) {
            error_wrap(err, "%s at offset %zu: ", path, off);
            goto out;
        }
        const struct event *ev;
        int n;
        while ((n = binlog_decoder_next(d, &ev, err)) == 1) {
            if (ev->op == EVENT_COMMIT || ev->op == EVENT_HEARTBEAT)
                continue;
            if (render_event(r, ev, decode_emit, dc, err) < 0) {
                error_wrap(err, "%s at offset %zu: ", path, off);
                goto out;
            }
        }
        if (n < 0) {
            error_wrap(err, "%s at offset %zu: ", path, off);
            goto out;
        }
        off += h.event_size;
        in.start += h.event_size;
    }
    rc = 0;
out:
    binlog_decoder_free(d);
    free(in.data);
    fclose(f);
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: dbtail decode [--format debezium|flat] BINLOG_FILE...\n");
}

int decode_main(int argc, char **argv)
{
    const char *format = "debezium";
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            format = argv[++i];
        } else if (strncmp(argv[i], "--format=", 9) == 0) {
            format = argv[i] + 9;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 0;
        } else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "dbtail decode: unknown option %s\n", argv[i]);
            usage();
            return 2;
        } else {
            break;
        }
    }
    if (strcmp(format, "debezium") != 0 && strcmp(format, "flat") != 0) {
        fprintf(stderr, "dbtail decode: --format must be debezium or flat, not %s\n", format);
        return 2;
    }
    if (i >= argc) {
        usage();
        return 2;
    }
    struct config *cfg = config_new();
    config_set(cfg, "connector.class", "io.debezium.connector.mysql.MySqlConnector");
    config_set(cfg, "topic.prefix", "decode");
    config_set(cfg, "key.converter.schemas.enable", "false");
    config_set(cfg, "value.converter.schemas.enable", "false");
    if (strcmp(format, "flat") == 0) {
        config_set(cfg, "transforms", "unwrap");
        config_set(cfg, "transforms.unwrap.type", "io.debezium.transforms.ExtractNewRecordState");
    }
    struct error err;
    struct render *r = NULL;
    int status = 0;
    if (render_new(cfg, &r, &err) < 0) {
        fprintf(stderr, "dbtail decode: %s\n", err.msg);
        config_free(cfg);
        return 1;
    }
    struct decode_ctx dc = {0};
    buf_init(&dc.line);
    for (; i < argc && status == 0; i++) {
        if (decode_file(argv[i], r, &dc, &err) < 0) {
            decode_flush(&dc);
            fflush(stdout);
            fprintf(stderr, "dbtail decode: %s\n", err.msg);
            status = 1;
        }
        for (size_t k = 0; k < dc.ntables; k++)
            schema_table_free(dc.tables[k].schema);
        dc.ntables = 0;
    }
    decode_flush(&dc);
    free(dc.tables);
    buf_free(&dc.line);
    render_free(r);
    config_free(cfg);
    if (fflush(stdout) != 0 && status == 0) {
        fprintf(stderr, "dbtail decode: could not write to standard output\n");
        status = 1;
    }
    return status;
}
