/* libFuzzer target: the binlog parser (readers/binlog.c, binlog_types.c, binlog_decoder.c).
 * The first byte picks what the rest is: 0 a sequence of events as a binlog file holds them
 * after its magic, decoded into change events (then again skimming every other event, as a
 * `dbtail decode --threads` worker does); 1 a binary JSON document; 2 a column type,
 * its metadata and a row image of values of that type. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../readers/binlog_decoder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The schemas handed out stay valid until the next TABLE_MAP of the same table id. */
#define MAX_TABLES 16
static struct schema_table *tables[MAX_TABLES];
static uint64_t table_ids[MAX_TABLES];
static size_t ntables;

static int fuzz_table_map(void *ctx, struct binlog_table *tm, struct binlog_decoder_table *out,
                          struct error *err)
{
    (void)ctx;
    size_t i = 0;
    while (i < ntables && table_ids[i] != tm->table_id)
        i++;
    if (i == MAX_TABLES)
        return error_set(err, "too many tables");
    if (i == ntables)
        ntables++;
    schema_table_free(tables[i]);
    struct schema_table *t = schema_table_new(tm->db, NULL, tm->name);
    for (size_t c = 0; c < tm->ncols; c++) {
        struct schema_column *sc = schema_table_add_column(t, "c", "", VALUE_TEXT);
        binlog_column_to_schema(&tm->cols[c], sc);
        sc->key = c == 0;
    }
    tables[i] = t;
    table_ids[i] = tm->table_id;
    out->schema = t;
    return 0;
}

static void events(const uint8_t *data, size_t size, bool skim_odd)
{
    struct binlog_decoder_opts opts = {
        .connector_from_fde = true, .include_query = true, .table_map = fuzz_table_map};
    struct binlog_decoder *d = binlog_decoder_new(&opts);
    struct error err;
    binlog_decoder_start(d, "fuzz.000001", 4, BINLOG_CHECKSUM_OFF, NULL, false);
    size_t off = 0;
    for (size_t k = 0; off < size; k++) {
        struct binlog_header h;
        const struct event *ev;
        int rc;
        binlog_decoder_skim(d, skim_odd && k % 2 == 1);
        if (binlog_parse_header(data + off, size - off, &h, &err) < 0 ||
            binlog_decoder_feed(d, data + off, h.event_size, &err) < 0)
            break;
        while ((rc = binlog_decoder_next(d, &ev, &err)) == 1)
            ;
        if (rc < 0)
            break;
        off += h.event_size;
    }
    binlog_decoder_free(d);
    for (size_t i = 0; i < ntables; i++) {
        schema_table_free(tables[i]);
        tables[i] = NULL;
    }
    ntables = 0;
}

static void values(const uint8_t *data, size_t size)
{
    if (size < 4)
        return;
    struct binlog_column col = {.type = data[0],
                                .is_unsigned = (int8_t)(data[3] & 1),
                                .collation = data[3] >> 1,
                                .nullable = true};
    struct cursor c;
    struct error err;
    cursor_init(&c, data + 1, 2);
    if (binlog_meta_read(&c, &col, &err) < 0)
        return;
    struct arena *a = arena_new();
    cursor_init(&c, data + 4, size - 4);
    struct value v;
    while (cursor_left(&c) > 0 && binlog_value_read(&c, &col, a, &v, &err) == 0)
        ;
    arena_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct buf b;
    struct error err;
    switch (data[0] % 3) {
    case 0:
        events(data + 1, size - 1, false);
        events(data + 1, size - 1, true);
        break;
    case 1:
        buf_init(&b);
        (void)binlog_json_to_text(data + 1, size - 1, &b, &err);
        buf_free(&b);
        break;
    default:
        values(data + 1, size - 1);
        break;
    }
    return 0;
}
