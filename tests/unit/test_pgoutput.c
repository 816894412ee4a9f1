/* Unit tests of readers/pgoutput.c on real walsender captures (tests/fixtures/pgoutput). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../readers/pgoutput.h"
#include "unit.h"

#define FIXTURE "tests/fixtures/pgoutput/stream1.bin"
#define CORPUS  "tests/fuzz/corpus/fuzz_pgoutput"

struct frame {
    unsigned char *p;
    size_t len;
};

static struct frame frames[256];
static size_t nframes;

static void load(void)
{
    if (nframes)
        return;
    FILE *f = fopen(FIXTURE, "rb");
    if (f == NULL) {
        unit_fail(__FILE__, __LINE__, "cannot open %s", FIXTURE);
        return;
    }
    unsigned char hdr[4];
    while (fread(hdr, 1, 4, f) == 4 && nframes < 256) {
        size_t n = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
        frames[nframes].p = malloc(n ? n : 1);
        frames[nframes].len = n;
        if (fread(frames[nframes].p, 1, n, f) != n)
            break;
        nframes++;
    }
    fclose(f);
}

/* Parses frame i as XLogData carrying a pgoutput message. */
static int parse_frame(size_t i, struct pgout_copydata *cd, struct pgout_msg *m)
{
    struct error err;
    if (i >= nframes)
        return -1;
    if (pgout_parse_copydata(frames[i].p, frames[i].len, cd, &err) < 0)
        return -1;
    if (cd->kind != 'w')
        return 0;
    return pgout_parse(cd->data, cd->len, m, &err);
}

static char *text(const struct pgout_datum *d)
{
    static char out[256];
    size_t n = d->len < sizeof out - 1 ? d->len : sizeof out - 1;
    memcpy(out, d->data, n);
    out[n] = 0;
    return out;
}

static void test_keepalive(void)
{
    load();
    struct pgout_copydata cd;
    struct error err;
    CHECK(nframes > 40);
    CHECK_INT(pgout_parse_copydata(frames[0].p, frames[0].len, &cd, &err), 0);
    CHECK_INT(cd.kind, 'k');
    CHECK(cd.wal_end > 0);
    CHECK(!cd.reply_requested);
    CHECK(cd.send_time > 0);
}

/* Walks the whole capture and checks the message sequence the SQL of capture.sh produces. */
static void test_sequence(void)
{
    load();
    static const char want[] = "kBYYRIICBRIIUUDCBUUDCBRIUCBRIRRTCMBMCBORICk";
    char got[sizeof want + 16] = {0};
    struct pgout_msg m;
    pgout_msg_init(&m);
    for (size_t i = 0; i < nframes && i < sizeof want + 8; i++) {
        struct pgout_copydata cd;
        if (parse_frame(i, &cd, &m) < 0) {
            unit_fail(__FILE__, __LINE__, "frame %zu does not parse", i);
            break;
        }
        got[i] = cd.kind == 'k' ? 'k' : (char)m.type;
    }
    CHECK_STR(got, want);
    pgout_msg_cleanup(&m);
}

static void test_begin_commit(void)
{
    load();
    struct pgout_copydata cd;
    struct pgout_msg m;
    pgout_msg_init(&m);
    CHECK_INT(parse_frame(1, &cd, &m), 0);
    CHECK_INT(m.type, PGOUT_BEGIN);
    uint64_t final_lsn = m.u.begin.final_lsn;
    int64_t ts = m.u.begin.commit_time;
    CHECK(m.u.begin.xid > 0);
    /* commit time: after 2020-01-01 in the PG epoch */
    CHECK(ts > (int64_t)631152000 * 1000000);
    CHECK_INT(parse_frame(7, &cd, &m), 0);
    CHECK_INT(m.type, PGOUT_COMMIT);
    CHECK_INT(m.u.commit.flags, 0);
    CHECK(m.u.commit.commit_lsn == final_lsn);
    CHECK(m.u.commit.end_lsn > m.u.commit.commit_lsn);
    CHECK(m.u.commit.commit_time == ts);
    pgout_msg_cleanup(&m);
}

static void test_relation(void)
{
    load();
    struct pgout_copydata cd;
    struct pgout_msg m;
    pgout_msg_init(&m);
    CHECK_INT(parse_frame(4, &cd, &m), 0);
    CHECK_INT(m.type, PGOUT_RELATION);
    CHECK_STR(m.u.relation.nspname, "public");
    CHECK_STR(m.u.relation.relname, "types");
    CHECK_INT(m.u.relation.replident, 'd');
    CHECK_INT(m.u.relation.ncols, 33);
    CHECK_STR(m.relcols[0].name, "id");
    CHECK_INT(m.relcols[0].flags, PGOUT_COL_KEY);
    CHECK_INT(m.relcols[0].type_oid, 23);
    CHECK_INT(m.relcols[0].typmod, -1);
    CHECK_STR(m.relcols[7].name, "n");
    CHECK_INT(m.relcols[7].type_oid, 1700);
    CHECK_INT(m.relcols[7].typmod, ((10 << 16) | 3) + 4);
    CHECK_STR(m.relcols[10].name, "vc");
    CHECK_INT(m.relcols[10].typmod, 24);
    CHECK_INT(m.relcols[1].flags, 0);
    /* full replica identity: every column is flagged */
    CHECK_INT(parse_frame(9, &cd, &m), 0);
    CHECK_STR(m.u.relation.relname, "full_ident");
    CHECK_INT(m.u.relation.replident, 'f');
    CHECK_INT(m.relcols[1].flags, PGOUT_COL_KEY);
    /* Type message of the enum */
    CHECK_INT(parse_frame(2, &cd, &m), 0);
    CHECK_INT(m.type, PGOUT_TYPE);
    CHECK_STR(m.u.type.typname, "mood");
    CHECK_STR(m.u.type.nspname, "public");
    pgout_msg_cleanup(&m);
}

static void test_insert_values(void)
{
    load();
    struct pgout_copydata cd;
    struct pgout_msg m;
    pgout_msg_init(&m);
    CHECK_INT(parse_frame(5, &cd, &m), 0);
    CHECK_INT(m.type, PGOUT_INSERT);
    CHECK(cd.wal_start > 0);
    CHECK(m.u.change.has_new);
    CHECK_INT(m.u.change.old_kind, 0);
    CHECK_INT(m.new_tuple.ncols, 33);
    CHECK_STR(text(&m.new_tuple.cols[1]), "t");
    CHECK_STR(text(&m.new_tuple.cols[2]), "-32768");
    CHECK_STR(text(&m.new_tuple.cols[4]), "-9223372036854775808");
    CHECK_STR(text(&m.new_tuple.cols[6]), "NaN");
    CHECK_STR(text(&m.new_tuple.cols[7]), "12.345");
    CHECK_STR(text(&m.new_tuple.cols[11]), "line\nnext\ttab");
    CHECK_STR(text(&m.new_tuple.cols[12]), "\\x00ff10");
    CHECK_STR(text(&m.new_tuple.cols[15]), "10:15:30.5+02");
    CHECK_STR(text(&m.new_tuple.cols[17]), "2024-01-01 21:34:05.678901+00");
    CHECK_STR(text(&m.new_tuple.cols[18]), "P1Y2M3DT4H5M6.789S");
    CHECK_STR(text(&m.new_tuple.cols[28]), "$1,234.56");
    CHECK_STR(text(&m.new_tuple.cols[32]), "{\"a b\",\"c\\\"d\",NULL,\"NULL\"}");
    CHECK_INT(parse_frame(6, &cd, &m), 0);
    CHECK_INT(m.new_tuple.cols[1].kind, 'n');
    pgout_msg_cleanup(&m);
}

static void test_update_delete(void)
{
    load();
    struct pgout_copydata cd;
    struct pgout_msg m;
    pgout_msg_init(&m);
    /* REPLICA IDENTITY FULL: old row 'O' then new row */
    CHECK_INT(parse_frame(12, &cd, &m), 0);
    CHECK_INT(m.type, PGOUT_UPDATE);
    CHECK_INT(m.u.change.old_kind, 'O');
    CHECK_STR(text(&m.old_tuple.cols[1]), "one");
    CHECK_STR(text(&m.new_tuple.cols[1]), "uno");
    CHECK_INT(parse_frame(14, &cd, &m), 0);
    CHECK_INT(m.type, PGOUT_DELETE);
    CHECK_INT(m.u.change.old_kind, 'O');
    CHECK(!m.u.change.has_new);
    /* default identity, key changed: 'K' with only the key */
    CHECK_INT(parse_frame(17, &cd, &m), 0);
    CHECK_INT(m.u.change.old_kind, 'K');
    CHECK_STR(text(&m.old_tuple.cols[0]), "2");
    CHECK_INT(m.old_tuple.cols[1].kind, 'n');
    CHECK_STR(text(&m.new_tuple.cols[0]), "100");
    /* key unchanged: no old tuple */
    CHECK_INT(parse_frame(18, &cd, &m), 0);
    CHECK_INT(m.u.change.old_kind, 0);
    CHECK_INT(parse_frame(19, &cd, &m), 0);
    CHECK_INT(m.type, PGOUT_DELETE);
    CHECK_INT(m.u.change.old_kind, 'K');
    /* unchanged TOAST value */
    CHECK_INT(parse_frame(24, &cd, &m), 0);
    CHECK_INT(m.type, PGOUT_UPDATE);
    CHECK_INT(m.new_tuple.cols[2].kind, 'u');
    CHECK_STR(text(&m.new_tuple.cols[1]), "t");
    pgout_msg_cleanup(&m);
}

static void test_truncate_message_origin(void)
{
    load();
    struct pgout_copydata cd;
    struct pgout_msg m;
    pgout_msg_init(&m);
    CHECK_INT(parse_frame(31, &cd, &m), 0);
    CHECK_INT(m.type, PGOUT_TRUNCATE);
    CHECK_INT(m.u.truncate.nrels, 2);
    CHECK_INT(m.u.truncate.options, 0);
    CHECK(m.relids[0] != m.relids[1]);
    CHECK_INT(parse_frame(35, &cd, &m), 0);
    CHECK_INT(m.type, PGOUT_MESSAGE);
    CHECK_INT(m.u.message.flags, 1);
    CHECK_STR(m.u.message.prefix, "dbtail");
    CHECK_INT(m.u.message.len, 5);
    CHECK(memcmp(m.u.message.content, "hello", 5) == 0);
    CHECK_INT(parse_frame(38, &cd, &m), 0);
    CHECK_INT(m.type, PGOUT_ORIGIN);
    CHECK_STR(m.u.origin.name, "origin1");
    CHECK(m.u.origin.lsn == 0xABCDEF);
    pgout_msg_cleanup(&m);
}

/* Every strict prefix of every frame is an error, never a crash or a silent success. */
static void test_truncated(void)
{
    load();
    struct pgout_msg m;
    pgout_msg_init(&m);
    for (size_t i = 0; i < nframes; i++) {
        struct pgout_copydata cd;
        struct error err;
        CHECK_INT(pgout_parse_copydata(frames[i].p, frames[i].len, &cd, &err), 0);
        if (cd.kind != 'w') {
            for (size_t n = 0; n < frames[i].len; n++)
                CHECK(pgout_parse_copydata(frames[i].p, n, &cd, &err) < 0);
            continue;
        }
        size_t hdr = frames[i].len - cd.len;
        for (size_t n = 0; n < hdr; n++)
            CHECK(pgout_parse_copydata(frames[i].p, n, &cd, &err) < 0);
        const uint8_t *msg = cd.data;
        size_t len = cd.len;
        for (size_t n = 0; n < len; n++) {
            /* a copy of exactly n bytes, so that ASan sees any read past them */
            unsigned char *cut = malloc(n ? n : 1);
            memcpy(cut, msg, n);
            if (pgout_parse(cut, n, &m, &err) == 0)
                unit_fail(__FILE__, __LINE__, "frame %zu cut at %zu parsed", i, n);
            free(cut);
        }
    }
    pgout_msg_cleanup(&m);
}

/* Corrupt bytes: flip each byte of each message; parse may fail, must not crash or leak. */
static void test_corrupt(void)
{
    load();
    struct pgout_msg m;
    pgout_msg_init(&m);
    size_t parsed = 0, failed = 0;
    for (size_t i = 0; i < nframes; i++) {
        unsigned char *copy = malloc(frames[i].len);
        for (size_t j = 0; j < frames[i].len && j < 64; j++) {
            memcpy(copy, frames[i].p, frames[i].len);
            copy[j] ^= 0xff;
            struct pgout_copydata cd;
            struct error err;
            if (pgout_parse_copydata(copy, frames[i].len, &cd, &err) == 0 && cd.kind == 'w' &&
                pgout_parse(cd.data, cd.len, &m, &err) == 0)
                parsed++;
            else
                failed++;
        }
        free(copy);
    }
    CHECK(failed > 0);
    CHECK(parsed > 0);
    struct error err;
    static const unsigned char unknown[] = {'Z', 0, 0};
    CHECK(pgout_parse(unknown, sizeof unknown, &m, &err) < 0);
    CHECK(strstr(err.msg, "0x5a") != NULL);
    /* a column count far beyond the bytes present */
    static const unsigned char many[] = {'I', 0, 0, 0x40, 0x0d, 'N', 0xff, 0xff, 'n'};
    CHECK(pgout_parse(many, sizeof many, &m, &err) < 0);
    /* a column claiming 2^31 bytes */
    static const unsigned char huge[] = {'I', 0, 0, 0x40, 0x0d, 'N', 0, 1, 't', 0x80, 0, 0, 0, 'x'};
    CHECK(pgout_parse(huge, sizeof huge, &m, &err) < 0);
    /* 2^32-1 relations to truncate in 4 bytes */
    static const unsigned char trunc[] = {'T', 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0x40, 0x0d};
    CHECK(pgout_parse(trunc, sizeof trunc, &m, &err) < 0);
    /* a relation declaring 65535 columns and carrying none */
    static const unsigned char rel[] = {'R', 0, 0, 0x40, 0x0d, 's', 0, 't', 0, 'd', 0xff, 0xff};
    CHECK(pgout_parse(rel, sizeof rel, &m, &err) < 0);
    pgout_msg_cleanup(&m);
}

/* The widest relation the protocol can describe (65535 columns) parses whole. */
static void test_widest_relation(void)
{
    size_t ncols = 65535, len = 12 + ncols * 11;
    unsigned char *buf = malloc(len);
    unsigned char head[] = {'R', 0, 0, 0x40, 0x0d, 's', 0, 't', 0, 'd', 0xff, 0xff};
    memcpy(buf, head, sizeof head);
    for (size_t i = 0; i < ncols; i++) {
        unsigned char col[] = {0, 'c', 0, 0, 0, 0, 23, 0xff, 0xff, 0xff, 0xff};
        memcpy(buf + 12 + i * 11, col, sizeof col);
    }
    struct pgout_msg m;
    struct error err;
    pgout_msg_init(&m);
    CHECK_INT(pgout_parse(buf, len, &m, &err), 0);
    CHECK_INT(m.u.relation.ncols, 65535);
    CHECK(m.relcols[65534].type_oid == 23 && m.relcols[65534].typmod == -1);
    CHECK(pgout_parse(buf, len - 1, &m, &err) < 0);
    pgout_msg_cleanup(&m);
    free(buf);
}

/* The fuzz corpus replays cleanly (the fuzz target's own check, under ASan). */
static void test_corpus(void)
{
    DIR *d = opendir(CORPUS);
    CHECK(d != NULL);
    if (d == NULL)
        return;
    struct dirent *de;
    size_t n = 0;
    struct pgout_msg m;
    pgout_msg_init(&m);
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", CORPUS, de->d_name);
        FILE *f = fopen(path, "rb");
        if (f == NULL)
            continue;
        unsigned char buf[65536];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        struct pgout_copydata cd;
        struct error err;
        if (pgout_parse_copydata(buf, len, &cd, &err) == 0 && cd.kind == 'w' &&
            pgout_parse(cd.data, cd.len, &m, &err) == 0)
            n++;
    }
    closedir(d);
    pgout_msg_cleanup(&m);
    CHECK(n >= 10);
}

static void test_lsn(void)
{
    char s[32];
    uint64_t v;
    pgout_lsn_format(0x16B374D848ULL, s, sizeof s);
    CHECK_STR(s, "16/B374D848");
    CHECK_INT(pgout_lsn_parse("16/B374D848", &v), 0);
    CHECK(v == 0x16B374D848ULL);
    CHECK_INT(pgout_lsn_parse("0/0", &v), 0);
    CHECK(v == 0);
    CHECK(pgout_lsn_parse("16B374D848", &v) < 0);
    CHECK(pgout_lsn_parse("/1", &v) < 0);
    CHECK(pgout_lsn_parse("1/", &v) < 0);
    CHECK(pgout_lsn_parse("1/123456789", &v) < 0);
    CHECK(pgout_lsn_parse("1/x", &v) < 0);
}

static void cleanup(void)
{
    for (size_t i = 0; i < nframes; i++)
        free(frames[i].p);
    nframes = 0;
}

int main(int argc, char **argv)
{
    static const struct unit_case cases[] = {
        {"keepalive", test_keepalive},
        {"message sequence of a real capture", test_sequence},
        {"begin and commit", test_begin_commit},
        {"relation and type", test_relation},
        {"insert values in text form", test_insert_values},
        {"update and delete images", test_update_delete},
        {"truncate, logical message, origin", test_truncate_message_origin},
        {"every truncated message is an error", test_truncated},
        {"corrupt bytes never crash", test_corrupt},
        {"fuzz corpus replays", test_corpus},
        {"lsn text form", test_lsn},
        {"65535 columns", test_widest_relation},
        {NULL, NULL},
    };
    int rc = unit_main("pgoutput", cases, argc, argv);
    cleanup();
    return rc;
}
