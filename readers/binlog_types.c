/* binlog_types: column values of row events as struct value (see binlog_types.h). */
#include "binlog_types.h"

#include <errno.h>
#include <iconv.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/mem.h"

#if defined(__GNUC__)
#define NOINLINE      __attribute__((noinline))
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define NOINLINE
#define ALWAYS_INLINE inline
#endif

static void set_str(struct value *v, enum value_kind kind, const void *p, size_t len)
{
    v->kind = kind;
    v->v.s.p = p;
    v->v.s.len = len;
    v->v.s.i = 0;
}

/* Copies a buf's text into the arena as a value string. */
static void set_buf(struct value *v, enum value_kind kind, struct arena *a, const struct buf *b)
{
    set_str(v, kind, arena_dup(a, b->data ? b->data : "", b->len), b->len);
}

/* Character sets --------------------------------------------------------------------------- */

/* How text in a character set becomes UTF-8. */
enum charset_conv {
    CONV_NONE,   /* it is UTF-8 already (or ASCII, or bytes) */
    CONV_LATIN1, /* Windows-1252; dec8, swe7 and keybcs2 have no iconv converter: their ASCII
                    half is right */
    CONV_ICONV,
};

struct charset_info {
    const char *name;
    int maxlen;
    enum charset_conv conv;
};

/* Generated from information_schema.COLLATIONS of MariaDB 10.11 (a superset of MySQL 5.6/5.7's
 * ids), plus MySQL 8's utf8mb3_tolower_ci (76), gb18030 (248-250) and utf8mb4 0900 (255-323). */
// clang-format off
static const struct charset_info charsets[] = {
    {"armscii8", 1, CONV_ICONV},
    {"ascii", 1, CONV_NONE},
    {"big5", 2, CONV_ICONV},
    {"binary", 1, CONV_NONE},
    {"cp1250", 1, CONV_ICONV},
    {"cp1251", 1, CONV_ICONV},
    {"cp1256", 1, CONV_ICONV},
    {"cp1257", 1, CONV_ICONV},
    {"cp850", 1, CONV_ICONV},
    {"cp852", 1, CONV_ICONV},
    {"cp866", 1, CONV_ICONV},
    {"cp932", 2, CONV_ICONV},
    {"dec8", 1, CONV_LATIN1},
    {"eucjpms", 3, CONV_ICONV},
    {"euckr", 2, CONV_ICONV},
    {"gb18030", 4, CONV_ICONV},
    {"gb2312", 2, CONV_ICONV},
    {"gbk", 2, CONV_ICONV},
    {"geostd8", 1, CONV_ICONV},
    {"greek", 1, CONV_ICONV},
    {"hebrew", 1, CONV_ICONV},
    {"hp8", 1, CONV_ICONV},
    {"keybcs2", 1, CONV_LATIN1},
    {"koi8r", 1, CONV_ICONV},
    {"koi8u", 1, CONV_ICONV},
    {"latin1", 1, CONV_LATIN1},
    {"latin2", 1, CONV_ICONV},
    {"latin5", 1, CONV_ICONV},
    {"latin7", 1, CONV_ICONV},
    {"macce", 1, CONV_ICONV},
    {"macroman", 1, CONV_ICONV},
    {"sjis", 2, CONV_ICONV},
    {"swe7", 1, CONV_LATIN1},
    {"tis620", 1, CONV_ICONV},
    {"ucs2", 2, CONV_ICONV},
    {"ujis", 3, CONV_ICONV},
    {"utf16", 4, CONV_ICONV},
    {"utf16le", 4, CONV_ICONV},
    {"utf32", 4, CONV_ICONV},
    {"utf8mb3", 3, CONV_NONE},
    {"utf8mb4", 4, CONV_NONE},
};
// clang-format on

struct collation_range {
    uint16_t first, last;
    uint8_t charset;
};

static const struct collation_range collations[] = {
    {1, 1, 2},        {2, 2, 26},       {3, 3, 12},       {4, 4, 8},        {5, 5, 25},
    {6, 6, 21},       {7, 7, 23},       {8, 8, 25},       {9, 9, 26},       {10, 10, 32},
    {11, 11, 1},      {12, 12, 35},     {13, 13, 31},     {14, 14, 5},      {15, 15, 25},
    {16, 16, 20},     {18, 18, 33},     {19, 19, 14},     {20, 20, 28},     {21, 21, 26},
    {22, 22, 24},     {23, 23, 5},      {24, 24, 16},     {25, 25, 19},     {26, 26, 4},
    {27, 27, 26},     {28, 28, 17},     {29, 29, 7},      {30, 30, 27},     {31, 31, 25},
    {32, 32, 0},      {33, 33, 39},     {34, 34, 4},      {35, 35, 34},     {36, 36, 10},
    {37, 37, 22},     {38, 38, 29},     {39, 39, 30},     {40, 40, 9},      {41, 42, 28},
    {43, 43, 29},     {44, 44, 4},      {45, 46, 40},     {47, 49, 25},     {50, 52, 5},
    {53, 53, 30},     {54, 55, 36},     {56, 56, 37},     {57, 57, 6},      {58, 59, 7},
    {60, 61, 38},     {62, 62, 37},     {63, 63, 3},      {64, 64, 0},      {65, 65, 1},
    {66, 66, 4},      {67, 67, 6},      {68, 68, 10},     {69, 69, 12},     {70, 70, 19},
    {71, 71, 20},     {72, 72, 21},     {73, 73, 22},     {74, 74, 23},     {75, 75, 24},
    {76, 76, 39},     {77, 77, 26},     {78, 78, 27},     {79, 79, 28},     {80, 80, 8},
    {81, 81, 9},      {82, 82, 32},     {83, 83, 39},     {84, 84, 2},      {85, 85, 14},
    {86, 86, 16},     {87, 87, 17},     {88, 88, 31},     {89, 89, 33},     {90, 90, 34},
    {91, 91, 35},     {92, 93, 18},     {94, 94, 25},     {95, 96, 11},     {97, 98, 13},
    {99, 99, 4},      {101, 124, 36},   {128, 151, 34},   {159, 159, 34},   {160, 183, 38},
    {192, 215, 39},   {223, 223, 39},   {224, 247, 40},   {248, 250, 15},   {255, 323, 40},
    {576, 578, 39},   {608, 610, 40},   {640, 642, 34},   {672, 674, 36},   {736, 738, 38},
    {1025, 1025, 2},  {1027, 1027, 12}, {1028, 1028, 8},  {1030, 1030, 21}, {1031, 1031, 23},
    {1032, 1032, 25}, {1033, 1033, 26}, {1034, 1034, 32}, {1035, 1035, 1},  {1036, 1036, 35},
    {1037, 1037, 31}, {1040, 1040, 20}, {1042, 1042, 33}, {1043, 1043, 14}, {1046, 1046, 24},
    {1048, 1048, 16}, {1049, 1049, 19}, {1050, 1050, 4},  {1052, 1052, 17}, {1054, 1054, 27},
    {1056, 1056, 0},  {1057, 1057, 39}, {1059, 1059, 34}, {1060, 1060, 10}, {1061, 1061, 22},
    {1062, 1062, 29}, {1063, 1063, 30}, {1064, 1064, 9},  {1065, 1065, 28}, {1067, 1067, 29},
    {1069, 1070, 40}, {1071, 1071, 25}, {1074, 1075, 5},  {1077, 1077, 30}, {1078, 1079, 36},
    {1080, 1080, 37}, {1081, 1081, 6},  {1082, 1083, 7},  {1084, 1085, 38}, {1086, 1086, 37},
    {1088, 1088, 0},  {1089, 1089, 1},  {1090, 1090, 4},  {1091, 1091, 6},  {1092, 1092, 10},
    {1093, 1093, 12}, {1094, 1094, 19}, {1095, 1095, 20}, {1096, 1096, 21}, {1097, 1097, 22},
    {1098, 1098, 23}, {1099, 1099, 24}, {1101, 1101, 26}, {1102, 1102, 27}, {1103, 1103, 28},
    {1104, 1104, 8},  {1105, 1105, 9},  {1106, 1106, 32}, {1107, 1107, 39}, {1108, 1108, 2},
    {1109, 1109, 14}, {1110, 1110, 16}, {1111, 1111, 17}, {1112, 1112, 31}, {1113, 1113, 33},
    {1114, 1114, 34}, {1115, 1115, 35}, {1116, 1117, 18}, {1119, 1120, 11}, {1121, 1122, 13},
    {1125, 1125, 36}, {1147, 1147, 36}, {1152, 1152, 34}, {1174, 1174, 34}, {1184, 1184, 38},
    {1206, 1206, 38}, {1216, 1216, 39}, {1238, 1238, 39}, {1248, 1248, 40}, {1270, 1270, 40},
};

/* The charset of every collation id by index, built once from the ranges: a string value
 * looks it up rather than searching them. */
#define COLLATION_IDS 1280
static uint8_t collation_charset[COLLATION_IDS]; /* charsets index + 1; 0 when unknown */
static pthread_once_t collation_once = PTHREAD_ONCE_INIT;

static void collation_table_init(void)
{
    for (size_t i = 0; i < sizeof collations / sizeof collations[0]; i++)
        for (unsigned id = collations[i].first; id <= collations[i].last && id < COLLATION_IDS;
             id++)
            collation_charset[id] = (uint8_t)(collations[i].charset + 1);
}

static const struct charset_info *collation_info(uint16_t id)
{
    pthread_once(&collation_once, collation_table_init);
    if (id >= COLLATION_IDS || collation_charset[id] == 0)
        return NULL;
    return &charsets[collation_charset[id] - 1];
}

const char *binlog_collation_charset(uint16_t collation)
{
    const struct charset_info *ci = collation_info(collation);
    return ci ? ci->name : NULL;
}

int binlog_collation_maxlen(uint16_t collation)
{
    const struct charset_info *ci = collation_info(collation);
    return ci ? ci->maxlen : 1;
}

static void put_utf8(struct buf *out, uint32_t cp)
{
    char tmp[4];
    if (cp < 0x80) {
        buf_putc(out, (char)cp);
    } else if (cp < 0x800) {
        tmp[0] = (char)(0xC0 | (cp >> 6));
        tmp[1] = (char)(0x80 | (cp & 0x3F));
        buf_append(out, tmp, 2);
    } else if (cp < 0x10000) {
        tmp[0] = (char)(0xE0 | (cp >> 12));
        tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[2] = (char)(0x80 | (cp & 0x3F));
        buf_append(out, tmp, 3);
    } else {
        tmp[0] = (char)(0xF0 | (cp >> 18));
        tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[3] = (char)(0x80 | (cp & 0x3F));
        buf_append(out, tmp, 4);
    }
}

/* MySQL's latin1 is Windows-1252: 0x80-0x9F are the cp1252 characters (5 holes map to C1). */
static const uint16_t cp1252_high[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

/* The iconv name of MySQL character sets that iconv converts; NULL when it has none. */
static const char *iconv_name(const char *cs)
{
    static const char *const map[][2] = {
        {"armscii8", "ARMSCII-8"},
        {"big5", "BIG5"},
        {"cp1250", "CP1250"},
        {"cp1251", "CP1251"},
        {"cp1256", "CP1256"},
        {"cp1257", "CP1257"},
        {"cp850", "CP850"},
        {"cp852", "CP852"},
        {"cp866", "CP866"},
        {"cp932", "CP932"},
        {"eucjpms", "EUC-JP-MS"},
        {"euckr", "EUC-KR"},
        {"gb18030", "GB18030"},
        {"gb2312", "EUC-CN"},
        {"gbk", "GBK"},
        {"geostd8", "GEORGIAN-PS"},
        {"greek", "ISO-8859-7"},
        {"hebrew", "ISO-8859-8"},
        {"hp8", "HP-ROMAN8"},
        {"koi8r", "KOI8-R"},
        {"koi8u", "KOI8-U"},
        {"latin2", "ISO-8859-2"},
        {"latin5", "ISO-8859-9"},
        {"latin7", "ISO-8859-13"},
        {"macce", "MAC-CENTRALEUROPE"},
        {"macroman", "MACINTOSH"},
        {"sjis", "SHIFT_JIS"},
        {"tis620", "TIS-620"},
        {"ucs2", "UCS-2BE"},
        {"ujis", "EUC-JP"},
        {"utf16", "UTF-16BE"},
        {"utf16le", "UTF-16LE"},
        {"utf32", "UTF-32BE"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i][0], cs) == 0)
            return map[i][1];
    return NULL;
}

static int iconv_to_utf8(const char *cs, const char *from, const uint8_t *s, size_t len,
                         struct buf *out, struct error *err)
{
    iconv_t cd = iconv_open("UTF-8", from);
    if (cd == (iconv_t)-1)
        return error_set(err, "character set %s cannot be converted to UTF-8 here", cs);
    char *in = (char *)(uintptr_t)s;
    size_t inleft = len;
    char tmp[1024];
    while (inleft > 0) {
        char *o = tmp;
        size_t oleft = sizeof tmp;
        size_t r = iconv(cd, &in, &inleft, &o, &oleft);
        buf_append(out, tmp, sizeof tmp - oleft);
        if (r == (size_t)-1) {
            if (errno == E2BIG)
                continue;
            /* An invalid or truncated sequence: mark it and go on, as for invalid UTF-8. */
            buf_append(out, "\xEF\xBF\xBD", 3);
            in++;
            inleft--;
        }
    }
    iconv_close(cd);
    return 0;
}

int binlog_to_utf8(uint16_t collation, const uint8_t *s, size_t len, struct buf *out,
                   struct error *err)
{
    const struct charset_info *ci = collation_info(collation);
    if (ci == NULL || ci->conv == CONV_NONE) {
        buf_append(out, s, len);
        return 0;
    }
    const char *cs = ci->name;
    if (ci->conv == CONV_LATIN1) {
        for (size_t i = 0; i < len;) {
            /* ASCII, most of the text, is copied in runs rather than byte by byte. */
            size_t run = i;
            while (run < len && s[run] < 0x80)
                run++;
            if (run > i) {
                buf_append(out, s + i, run - i);
                i = run;
                continue;
            }
            uint8_t c = s[i++];
            if (c < 0xA0)
                put_utf8(out, cp1252_high[c - 0x80]);
            else
                put_utf8(out, c);
        }
        return 0;
    }
    const char *from = iconv_name(cs);
    if (from == NULL)
        return error_set(err, "character set %s cannot be converted to UTF-8", cs);
    return iconv_to_utf8(cs, from, s, len, out, err);
}

/* Metadata --------------------------------------------------------------------------------- */

int binlog_meta_read(struct cursor *c, struct binlog_column *col, struct error *err)
{
    uint8_t b0, b1;
    uint16_t u16;
    col->real_type = col->type;
    col->meta = 0;
    switch (col->type) {
    case BT_FLOAT:
    case BT_DOUBLE:
    case BT_BLOB:
    case BT_TINY_BLOB:
    case BT_MEDIUM_BLOB:
    case BT_LONG_BLOB:
    case BT_GEOMETRY:
    case BT_JSON:
    case BT_TIME2:
    case BT_DATETIME2:
    case BT_TIMESTAMP2:
    case BT_VECTOR:
        if (!cursor_u8(c, &b0))
            goto short_meta;
        col->meta = b0;
        break;
    case BT_VARCHAR:
    case BT_VAR_STRING:
        if (!cursor_u16le(c, &u16))
            goto short_meta;
        col->meta = u16;
        break;
    case BT_NEWDECIMAL:
    case BT_BIT:
    case BT_ENUM:
    case BT_SET:
        if (!cursor_u8(c, &b0) || !cursor_u8(c, &b1))
            goto short_meta;
        if (col->type == BT_BIT)
            col->meta = (uint16_t)(b1 << 8 | b0);
        else if (col->type == BT_NEWDECIMAL)
            col->meta = (uint16_t)(b0 << 8 | b1);
        else
            col->meta = b1;
        break;
    case BT_STRING:
        if (!cursor_u8(c, &b0) || !cursor_u8(c, &b1))
            goto short_meta;
        /* CHAR longer than 255 bytes keeps two more length bits in the type byte, whose
         * 0x30 bits are then flipped (MySQL's Field_string::do_save_field_metadata). */
        if ((b0 & 0x30) != 0x30) {
            col->real_type = (uint8_t)(b0 | 0x30);
            col->meta = (uint16_t)(b1 | (((b0 & 0x30) ^ 0x30) << 4));
        } else {
            col->real_type = b0;
            col->meta = b1;
        }
        if (col->real_type != BT_STRING && col->real_type != BT_ENUM && col->real_type != BT_SET)
            return error_set(err, "column of type STRING has unknown real type %u", col->real_type);
        break;
    case BT_DECIMAL:
    case BT_TINY:
    case BT_SHORT:
    case BT_LONG:
    case BT_NULL:
    case BT_TIMESTAMP:
    case BT_LONGLONG:
    case BT_INT24:
    case BT_DATE:
    case BT_TIME:
    case BT_DATETIME:
    case BT_YEAR:
    case BT_NEWDATE:
        break;
    default:
        return error_set(err, "unknown column type %u", col->type);
    }
    return 0;
short_meta:
    return error_set(err, "column metadata of type %u is truncated at offset %zu", col->type,
                     c->off);
}

/* Dates and times -------------------------------------------------------------------------- */

int64_t binlog_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Howard Hinnant's days_from_civil. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool date_is_zero(unsigned y, unsigned m, unsigned d)
{
    (void)y;
    /* MySQL accepts dates with a zero month or day (NO_ZERO_IN_DATE off); Debezium gives them
     * no value. */
    return m == 0 || d == 0;
}

static void set_int(struct value *v, enum value_kind kind, int64_t i)
{
    *v = (struct value){.kind = kind, .v.i = i};
}

static bool datetime_ok(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s)
{
    return y <= 9999 && mo <= 12 && d <= 31 && h <= 23 && mi <= 59 && s <= 59;
}

static int64_t datetime_micros(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi,
                               unsigned s, int64_t frac)
{
    int64_t days = binlog_days_from_civil(y, mo, d);
    return ((days * 86400) + h * 3600 + mi * 60 + s) * 1000000 + frac;
}

/* Fractional seconds of DATETIME2/TIMESTAMP2 (fsp <= 6): (fsp + 1) / 2 big-endian bytes at q,
 * which the caller has checked are there, in microseconds. */
static ALWAYS_INLINE int64_t frac_at(const uint8_t *q, unsigned fsp, bool is_signed)
{
    switch (fsp) {
    case 1:
    case 2:
        return (is_signed ? (int64_t)(int8_t)q[0] : (int64_t)q[0]) * 10000;
    case 3:
    case 4: {
        uint16_t w = (uint16_t)(q[0] << 8 | q[1]);
        return (is_signed ? (int64_t)(int16_t)w : (int64_t)w) * 100;
    }
    case 5:
    case 6: {
        int64_t raw = (int64_t)q[0] << 16 | (int64_t)q[1] << 8 | q[2];
        return is_signed && (raw & 0x800000) ? raw - 0x1000000 : raw;
    }
    default:
        return 0;
    }
}

static int read_be(struct cursor *c, size_t n, uint64_t *v)
{
    const uint8_t *p;
    if (!cursor_bytes(c, n, &p))
        return -1;
    uint64_t r = 0;
    for (size_t i = 0; i < n; i++)
        r = r << 8 | p[i];
    *v = r;
    return 0;
}

static int read_time2(struct cursor *c, unsigned fsp, struct value *out)
{
    /* MySQL's my_time_packed_from_binary: the integer part is hh:mm:ss in 24 bits offset by
     * 0x800000; negative values borrow one second from the fraction. */
    int64_t packed;
    if (fsp > 6)
        return -1;
    if (fsp >= 5) {
        uint64_t raw;
        if (read_be(c, 6, &raw) < 0)
            return -1;
        packed = (int64_t)raw - 0x800000000000LL;
    } else {
        uint64_t raw;
        int64_t frac = 0;
        if (read_be(c, 3, &raw) < 0)
            return -1;
        int64_t intpart = (int64_t)raw - 0x800000;
        if (fsp > 0) {
            uint64_t f;
            size_t n = fsp <= 2 ? 1 : 2;
            if (read_be(c, n, &f) < 0)
                return -1;
            /* Negative times keep the fraction's complement, read unsigned. */
            frac = (int64_t)f;
            if (intpart < 0 && frac != 0) {
                intpart++;
                frac -= n == 1 ? 0x100 : 0x10000;
            }
            frac *= n == 1 ? 10000 : 100;
        }
        packed = intpart * (1 << 24) + frac;
    }
    bool neg = packed < 0;
    uint64_t u = neg ? (uint64_t)(-packed) : (uint64_t)packed;
    uint64_t hms = u >> 24, frac = u & 0xFFFFFF;
    int64_t h = (int64_t)((hms >> 12) & 0x3FF), m = (int64_t)((hms >> 6) & 0x3F),
            s = (int64_t)(hms & 0x3F);
    int64_t micros = ((h * 60 + m) * 60 + s) * 1000000 + (int64_t)frac;
    set_int(out, VALUE_TIME, neg ? -micros : micros);
    return 0;
}

/* DATETIME2: 5 big-endian bytes of packed date and time, then the fraction. memo remembers the
 * last date read and its day number: the rows of an event mostly share their dates. */
static ALWAYS_INLINE int read_datetime2(struct cursor *c, unsigned fsp, struct binlog_colplan *memo,
                                        struct value *out)
{
    const uint8_t *q;
    if (fsp > 6 || !cursor_bytes(c, 5 + (fsp + 1) / 2, &q))
        return -1;
    uint64_t raw =
        ((uint64_t)q[0] << 24 | (uint64_t)q[1] << 16 | (uint64_t)q[2] << 8 | q[3]) << 8 | q[4];
    int64_t frac = frac_at(q + 5, fsp, true);
    int64_t intpart = (int64_t)raw - 0x8000000000LL;
    if (intpart < 0)
        return -1;
    uint64_t ymd = (uint64_t)intpart >> 17, hms = (uint64_t)intpart & 0x1FFFF;
    unsigned h = (unsigned)(hms >> 12), mi = (unsigned)((hms >> 6) & 63), s = (unsigned)(hms & 63);
    if (!datetime_ok(0, 0, 0, h, mi, s) || frac < 0 || frac > 999999)
        return -1;
    int64_t days;
    if (ymd + 1 == memo->date_key) {
        days = memo->date_days;
    } else {
        uint64_t ym = ymd >> 5;
        unsigned d = (unsigned)(ymd & 31), mo = (unsigned)(ym % 13), y = (unsigned)(ym / 13);
        if (!datetime_ok(y, mo, d, 0, 0, 0))
            return -1;
        if (date_is_zero(y, mo, d)) {
            *out = (struct value){.kind = VALUE_NULL};
            return 0;
        }
        days = binlog_days_from_civil(y, mo, d);
        memo->date_key = (uint32_t)ymd + 1;
        memo->date_days = (int32_t)days;
    }
    set_int(out, VALUE_DATETIME, ((days * 86400) + h * 3600 + mi * 60 + s) * 1000000 + frac);
    return 0;
}

static int read_temporal(struct cursor *c, const struct binlog_column *col, struct value *out)
{
    uint64_t raw;
    switch (col->type) {
    case BT_DATE:
    case BT_NEWDATE: {
        uint32_t v;
        if (!cursor_u24le(c, &v))
            return -1;
        unsigned d = v & 31, m = (v >> 5) & 15, y = v >> 9;
        if (!datetime_ok(y, m, d, 0, 0, 0))
            return -1;
        if (date_is_zero(y, m, d))
            *out = (struct value){.kind = VALUE_NULL};
        else
            set_int(out, VALUE_DATE, binlog_days_from_civil(y, m, d));
        return 0;
    }
    case BT_TIME: {
        uint32_t v;
        if (!cursor_u24le(c, &v))
            return -1;
        int32_t sv = (v & 0x800000) ? (int32_t)v - 0x1000000 : (int32_t)v;
        bool neg = sv < 0;
        int64_t a = neg ? -(int64_t)sv : sv;
        int64_t micros = ((a / 10000) * 3600 + (a / 100 % 100) * 60 + a % 100) * 1000000;
        set_int(out, VALUE_TIME, neg ? -micros : micros);
        return 0;
    }
    case BT_TIME2:
        return read_time2(c, col->meta, out);
    case BT_DATETIME: {
        if (!cursor_u64le(c, &raw))
            return -1;
        unsigned d = (unsigned)(raw / 1000000 % 100), mo = (unsigned)(raw / 100000000 % 100);
        unsigned y = (unsigned)(raw / 10000000000ULL);
        unsigned h = (unsigned)(raw / 10000 % 100), mi = (unsigned)(raw / 100 % 100),
                 s = (unsigned)(raw % 100);
        if (!datetime_ok(y, mo, d, h, mi, s))
            return -1;
        if (date_is_zero(y, mo, d))
            *out = (struct value){.kind = VALUE_NULL};
        else
            set_int(out, VALUE_DATETIME, datetime_micros(y, mo, d, h, mi, s, 0));
        return 0;
    }
    case BT_DATETIME2: {
        struct binlog_colplan memo = {0};
        return read_datetime2(c, col->meta, &memo, out);
    }
    case BT_TIMESTAMP: {
        uint32_t secs;
        if (!cursor_u32le(c, &secs))
            return -1;
        if (secs == 0)
            *out = (struct value){.kind = VALUE_NULL};
        else
            set_int(out, VALUE_TIMESTAMP, (int64_t)secs * 1000000);
        return 0;
    }
    case BT_TIMESTAMP2: {
        const uint8_t *q;
        if (col->meta > 6 || !cursor_bytes(c, 4 + (col->meta + 1) / 2, &q))
            return -1;
        uint32_t secs = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
        int64_t frac = frac_at(q + 4, col->meta, false);
        if (secs == 0 && frac == 0)
            *out = (struct value){.kind = VALUE_NULL};
        else
            set_int(out, VALUE_TIMESTAMP, (int64_t)secs * 1000000 + frac);
        return 0;
    }
    default:
        return -1;
    }
}

/* DECIMAL ---------------------------------------------------------------------------------- */

static const int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};

size_t binlog_decimal_size(int precision, int scale)
{
    if (precision < 1 || precision > 65 || scale < 0 || scale > 30 || scale > precision)
        return 0;
    int intg = precision - scale;
    return (size_t)((intg / 9) * 4 + dig2bytes[intg % 9] + (scale / 9) * 4 + dig2bytes[scale % 9]);
}

/* A group of `digits` decimal digits stored big-endian in `n` bytes, sign-flipped by mask. */
static bool decimal_group(const uint8_t *p, size_t n, uint8_t mask, int digits, uint32_t *v)
{
    uint64_t r = 0;
    for (size_t i = 0; i < n; i++)
        r = r << 8 | (uint8_t)(p[i] ^ mask);
    static const uint32_t limit[10] = {0,      10,      100,      1000,      10000,
                                       100000, 1000000, 10000000, 100000000, 1000000000};
    if (r >= limit[digits])
        return false;
    *v = (uint32_t)r;
    return true;
}

/* g as exactly width digits with leading zeros (decimal_group checked g < 10^width). */
static size_t decimal_digits(char *dst, uint32_t g, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        dst[i] = (char)('0' + g % 10);
        g /= 10;
    }
    return (size_t)width;
}

/* The longest text of a DECIMAL: a sign, 65 digits (or "0" and 30), a point, and a NUL. */
#define DECIMAL_TEXT_MAX 68

/* The layout of a DECIMAL(precision, scale) into d: full 9-digit groups of 4 bytes and the
 * leftover digits of the integer and fraction parts; false when the pair is invalid. */
static bool decimal_layout(int precision, int scale, struct binlog_colplan *d)
{
    size_t size = binlog_decimal_size(precision, scale);
    if (size == 0)
        return false;
    int intg = precision - scale;
    d->width = (uint8_t)size;
    d->precision = (uint8_t)precision;
    d->scale = (uint8_t)scale;
    d->intg0 = (uint8_t)(intg / 9);
    d->intg0x = (uint8_t)(intg % 9);
    d->frac0 = (uint8_t)(scale / 9);
    d->frac0x = (uint8_t)(scale % 9);
    return true;
}

/* A group of `digits` decimal digits in n (1..4) big-endian bytes at *q, moved past. The sign
 * flips are undone: negm inverts every byte of a negative value, *first the top bit of the
 * very first byte (and is then cleared). False when the group is out of range. */
static inline bool decimal_group_next(const uint8_t **q, unsigned n, uint64_t negm, uint64_t *first,
                                      unsigned digits, uint64_t *v)
{
    const uint8_t *p = *q;
    uint64_t r;
    switch (n) {
    case 1:
        r = p[0];
        break;
    case 2:
        r = (uint64_t)p[0] << 8 | p[1];
        break;
    case 3:
        r = (uint64_t)p[0] << 16 | (uint64_t)p[1] << 8 | p[2];
        break;
    default:
        r = (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
        break;
    }
    unsigned shift = 8 * (n - 1);
    r ^= (negm & ((UINT64_C(0x100) << shift) - 1)) ^ (*first << shift);
    *first = 0;
    *q = p + n;
    if (r >= buf_pow10[digits])
        return false;
    *v = r;
    return true;
}

/* The decimal digits of v written backwards ending just before o: exactly `width` of them with
 * leading zeros (v < 10^width), or with width 0 as many as v has (one for 0). Returns where
 * they start. Two digits at a time, in 32 bits as soon as v fits: most values do, and 32-bit
 * divisions are cheaper. */
static inline char *digits_rev(char *o, uint64_t v, unsigned width)
{
    unsigned left = width ? width : 20;
    for (; v > UINT32_MAX; left -= 2) {
        o -= 2;
        memcpy(o, buf_digit_pairs + (v % 100) * 2, 2);
        v /= 100;
    }
    uint32_t u = (uint32_t)v;
    if (width) {
        for (; left >= 2; left -= 2) {
            o -= 2;
            memcpy(o, buf_digit_pairs + (u % 100) * 2, 2);
            u /= 100;
        }
        if (left)
            *--o = (char)('0' + u);
        return o;
    }
    for (; u >= 100; u /= 100) {
        o -= 2;
        memcpy(o, buf_digit_pairs + (u % 100) * 2, 2);
    }
    if (u >= 10) {
        o -= 2;
        memcpy(o, buf_digit_pairs + u * 2, 2);
    } else {
        *--o = (char)('0' + u);
    }
    return o;
}

/* DECIMAL(<= 18, s), the common case, laid out by d: its integer and fraction parts each fit a
 * uint64, so the groups are joined into two integers and printed two digits at a time, from the
 * right, ending just before `end`. Returns where the text starts, NULL when a group is out of
 * range. */
static ALWAYS_INLINE char *decimal_text_small(const uint8_t *p, const struct binlog_colplan *d,
                                              char *end)
{
    bool neg = (p[0] & 0x80) == 0;
    uint64_t negm = neg ? ~UINT64_C(0) : 0, first = 0x80;
    uint64_t ip = 0, fp = 0, g;
    const uint8_t *q = p;

    if (d->intg0x) {
        if (!decimal_group_next(&q, (unsigned)dig2bytes[d->intg0x], negm, &first, d->intg0x, &g))
            return NULL;
        ip = g;
    }
    for (unsigned i = 0; i < d->intg0; i++) {
        if (!decimal_group_next(&q, 4, negm, &first, 9, &g))
            return NULL;
        ip = ip * 1000000000 + g;
    }
    for (unsigned i = 0; i < d->frac0; i++) {
        if (!decimal_group_next(&q, 4, negm, &first, 9, &g))
            return NULL;
        fp = fp * 1000000000 + g;
    }
    if (d->frac0x) {
        if (!decimal_group_next(&q, (unsigned)dig2bytes[d->frac0x], negm, &first, d->frac0x, &g))
            return NULL;
        fp = fp * buf_pow10[d->frac0x] + g;
    }
    char *o = end;
    if (d->scale > 0) {
        o = digits_rev(o, fp, d->scale);
        *--o = '.';
    }
    o = digits_rev(o, ip, 0);
    if (neg && (ip | fp) != 0)
        *--o = '-';
    return o;
}

/* Any DECIMAL, one digit at a time. */
static int decimal_text_general(const uint8_t *src, int precision, int scale,
                                char out[DECIMAL_TEXT_MAX])
{
    uint8_t p[40];
    memcpy(p, src, binlog_decimal_size(precision, scale));
    bool neg = (p[0] & 0x80) == 0;
    p[0] ^= 0x80;
    uint8_t mask = neg ? 0xFF : 0x00;
    int intg = precision - scale;
    int intg0 = intg / 9, intg0x = intg % 9, frac0 = scale / 9, frac0x = scale % 9;
    size_t off = 0;
    char digits[80];
    size_t nd = 0;
    uint32_t g;

    if (intg0x) {
        size_t n = (size_t)dig2bytes[intg0x];
        if (!decimal_group(p + off, n, mask, intg0x, &g))
            return -1;
        nd += decimal_digits(digits + nd, g, intg0x);
        off += n;
    }
    for (int i = 0; i < intg0; i++) {
        if (!decimal_group(p + off, 4, mask, 9, &g))
            return -1;
        nd += decimal_digits(digits + nd, g, 9);
        off += 4;
    }
    size_t int_digits = nd;
    for (int i = 0; i < frac0; i++) {
        if (!decimal_group(p + off, 4, mask, 9, &g))
            return -1;
        nd += decimal_digits(digits + nd, g, 9);
        off += 4;
    }
    if (frac0x) {
        size_t n = (size_t)dig2bytes[frac0x];
        if (!decimal_group(p + off, n, mask, frac0x, &g))
            return -1;
        nd += decimal_digits(digits + nd, g, frac0x);
    }
    size_t lead = 0;
    while (lead < int_digits && digits[lead] == '0')
        lead++;
    bool zero = true;
    for (size_t i = 0; i < nd; i++)
        if (digits[i] != '0')
            zero = false;
    size_t n = 0;
    if (neg && !zero)
        out[n++] = '-';
    if (lead == int_digits) {
        out[n++] = '0';
    } else {
        memcpy(out + n, digits + lead, int_digits - lead);
        n += int_digits - lead;
    }
    if (scale > 0) {
        out[n++] = '.';
        memcpy(out + n, digits + int_digits, nd - int_digits);
        n += nd - int_digits;
    }
    out[n] = '\0';
    return (int)n;
}

/* The value as text into out (NUL-terminated); its length, or -1 with *err. general forces the
 * digit-at-a-time path, for tests that compare the two. */
static int decimal_text(const uint8_t *src, size_t len, int precision, int scale, bool general,
                        char out[DECIMAL_TEXT_MAX], struct error *err)
{
    struct binlog_colplan d;
    if (!decimal_layout(precision, scale, &d))
        return error_set(err, "DECIMAL(%d,%d) is not a valid decimal type", precision, scale);
    if (len < d.width)
        return error_set(err, "DECIMAL(%d,%d) value needs %u bytes, has %zu", precision, scale,
                         d.width, len);
    int n;
    if (precision <= 18 && !general) {
        char tmp[DECIMAL_TEXT_MAX];
        const char *t = decimal_text_small(src, &d, tmp + sizeof tmp);
        n = t ? (int)(tmp + sizeof tmp - t) : -1;
        if (t) {
            memcpy(out, t, (size_t)n);
            out[n] = '\0';
        }
    } else {
        n = decimal_text_general(src, precision, scale, out);
    }
    if (n < 0)
        return error_set(err, "DECIMAL(%d,%d) value has a digit group out of range", precision,
                         scale);
    return n;
}

static int decimal_append(const uint8_t *src, size_t len, int precision, int scale, bool general,
                          struct buf *out, struct error *err)
{
    char text[DECIMAL_TEXT_MAX];
    int n = decimal_text(src, len, precision, scale, general, text, err);
    if (n < 0)
        return -1;
    buf_append(out, text, (size_t)n);
    return 0;
}

int binlog_decimal_to_text(const uint8_t *src, size_t len, int precision, int scale,
                           struct buf *out, struct error *err)
{
    return decimal_append(src, len, precision, scale, false, out, err);
}

int binlog_decimal_to_text_general(const uint8_t *src, size_t len, int precision, int scale,
                                   struct buf *out, struct error *err)
{
    return decimal_append(src, len, precision, scale, true, out, err);
}

/* JSON ------------------------------------------------------------------------------------- */

enum {
    JSONB_SMALL_OBJECT = 0x00,
    JSONB_LARGE_OBJECT = 0x01,
    JSONB_SMALL_ARRAY = 0x02,
    JSONB_LARGE_ARRAY = 0x03,
    JSONB_LITERAL = 0x04,
    JSONB_INT16 = 0x05,
    JSONB_UINT16 = 0x06,
    JSONB_INT32 = 0x07,
    JSONB_UINT32 = 0x08,
    JSONB_INT64 = 0x09,
    JSONB_UINT64 = 0x0a,
    JSONB_DOUBLE = 0x0b,
    JSONB_STRING = 0x0c,
    JSONB_OPAQUE = 0x0f,
};

/* MySQL refuses documents nested deeper than 100; so does the decoder (it recurses). */
#define JSON_MAX_DEPTH 100

/* A parsed JSON document: what partial updates edit before the text is printed. */
enum jkind { J_SCALAR, J_OBJECT, J_ARRAY };

struct jnode {
    enum jkind kind;
    const char *text; /* J_SCALAR: the value's JSON text */
    size_t text_len;
    size_t n, cap;
    struct jnode **kids;
    const char **keys; /* J_OBJECT */
    size_t *key_lens;
};

struct jctx {
    const uint8_t *base; /* the whole binary document */
    size_t len;
    struct arena *arena;
    struct buf tmp;
    struct error *err;
};

static int json_bad(struct jctx *j, const char *what, size_t off)
{
    return error_set(j->err, "binary JSON: %s at offset %zu", what, off);
}

/* Variable-length length: 7 bits a byte, low groups first, at most 5 bytes. */
static bool read_varlen(const uint8_t *p, size_t avail, size_t *used, uint64_t *len)
{
    uint64_t r = 0;
    for (size_t i = 0; i < 5 && i < avail; i++) {
        r |= (uint64_t)(p[i] & 0x7F) << (7 * i);
        if ((p[i] & 0x80) == 0) {
            *used = i + 1;
            *len = r;
            return true;
        }
    }
    return false;
}

static uint64_t le_at(const uint8_t *p, size_t n)
{
    uint64_t r = 0;
    for (size_t i = 0; i < n; i++)
        r |= (uint64_t)p[i] << (8 * i);
    return r;
}

static struct jnode *jscalar(struct jctx *j, const char *text, size_t len)
{
    struct jnode *n = arena_alloc(j->arena, sizeof *n);
    memset(n, 0, sizeof *n);
    n->kind = J_SCALAR;
    n->text = arena_dup(j->arena, text, len);
    n->text_len = len;
    return n;
}

/* MySQL's double_quote: the short escapes, \u00xx (lower case) for other control characters,
 * every other byte as it is. */
static void put_json_string(struct buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    buf_putc(b, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\r':
            esc = "\\r";
            break;
        default:
            break;
        }
        if (esc) {
            buf_puts(b, esc);
        } else if (c < 0x20) {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buf_append(b, u, 6);
        } else {
            buf_putc(b, (char)c);
        }
    }
    buf_putc(b, '"');
}

/* MySQL prints doubles with the fewest digits that read back (my_gcvt), in plain notation
 * unless the exponent is out of [-5, 15], and integral ones with ".0". */
static void put_json_double(struct buf *b, double v)
{
    char tmp[40];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    if (prec > 17)
        prec = 17;
    int exp10 = 0;
    char *e = strchr(tmp, 'e');
    if (e)
        exp10 = atoi(e + 1);
    if (exp10 < -5 || exp10 > 15) {
        /* d.ddde[-]x without a plus sign or leading exponent zeros. */
        char mant[32];
        size_t ml = (size_t)(e - tmp);
        memcpy(mant, tmp, ml);
        mant[ml] = '\0';
        buf_printf(b, "%se%d", mant, exp10);
        return;
    }
    int decimals = prec - 1 - exp10;
    if (decimals < 0)
        decimals = 0;
    snprintf(tmp, sizeof tmp, "%.*f", decimals, v);
    buf_puts(b, tmp);
    /* A double stays recognisable as one: 3.0, not 3. */
    if (decimals == 0 && isfinite(v))
        buf_puts(b, ".0");
}

static void put_two(struct buf *b, unsigned v)
{
    buf_printf(b, "%02u", v);
}

/* MySQL's packed temporal (my_time.h TIME_to_longlong_*_packed) as JSON prints it. */
static void put_packed_temporal(struct buf *b, uint8_t type, int64_t packed)
{
    bool neg = packed < 0;
    uint64_t u = neg ? (uint64_t)(-packed) : (uint64_t)packed;
    uint64_t frac = u & 0xFFFFFF, intpart = u >> 24;
    if (type == BT_TIME) {
        unsigned h = (unsigned)((intpart >> 12) & 0x3FF), m = (unsigned)((intpart >> 6) & 63),
                 s = (unsigned)(intpart & 63);
        buf_printf(b, "\"%s%02u:%02u:%02u.%06u\"", neg ? "-" : "", h, m, s, (unsigned)frac);
        return;
    }
    uint64_t ymd = intpart >> 17, hms = intpart & 0x1FFFF, ym = ymd >> 5;
    unsigned d = (unsigned)(ymd & 31), mo = (unsigned)(ym % 13), y = (unsigned)(ym / 13);
    buf_printf(b, "\"%04u-", y);
    put_two(b, mo);
    buf_putc(b, '-');
    put_two(b, d);
    if (type != BT_DATE)
        buf_printf(b, " %02u:%02u:%02u.%06u", (unsigned)(hms >> 12), (unsigned)((hms >> 6) & 63),
                   (unsigned)(hms & 63), (unsigned)frac);
    buf_putc(b, '"');
}

static int json_opaque(struct jctx *j, const uint8_t *p, size_t avail, size_t at, struct buf *b)
{
    size_t used;
    uint64_t len;
    if (avail < 1)
        return json_bad(j, "opaque value is truncated", at);
    uint8_t type = p[0];
    if (!read_varlen(p + 1, avail - 1, &used, &len) || len > avail - 1 - used)
        return json_bad(j, "opaque value is truncated", at);
    const uint8_t *d = p + 1 + used;
    switch (type) {
    case BT_NEWDECIMAL:
        if (len >= 2) {
            buf_putc(b, '"');
            size_t before = b->len;
            if (binlog_decimal_to_text(d + 2, len - 2, d[0], d[1], b, j->err) < 0)
                return -1;
            /* MySQL prints a decimal inside JSON as a bare number. */
            memmove(b->data + before - 1, b->data + before, b->len - before);
            b->len--;
            b->data[b->len] = '\0';
            return 0;
        }
        return json_bad(j, "opaque decimal is truncated", at);
    case BT_DATE:
    case BT_TIME:
    case BT_DATETIME:
    case BT_TIMESTAMP:
    case BT_DATETIME2:
    case BT_TIMESTAMP2:
    case BT_TIME2:
        if (len < 8)
            return json_bad(j, "opaque temporal is truncated", at);
        put_packed_temporal(b,
                            type == BT_TIME2                                ? BT_TIME
                            : type == BT_DATETIME2 || type == BT_TIMESTAMP2 ? BT_DATETIME
                                                                            : type,
                            (int64_t)le_at(d, 8));
        return 0;
    default:
        buf_printf(b, "\"base64:type%u:", type);
        {
            /* buf_json_base64 quotes; drop its quotes to splice the prefix in. */
            size_t before = b->len;
            buf_json_base64(b, d, (size_t)len);
            memmove(b->data + before, b->data + before + 1, b->len - before - 1);
            b->len--;
            b->data[b->len] = '\0';
        }
        return 0;
    }
}

static struct jnode *json_parse(struct jctx *j, uint8_t type, size_t off, int depth);

/* A value entry of an object or array: type byte then an inline value or an offset. */
static struct jnode *json_entry(struct jctx *j, size_t container, size_t entry, bool large,
                                size_t size, int depth)
{
    uint8_t type = j->base[entry];
    size_t w = large ? 4 : 2;
    const uint8_t *v = j->base + entry + 1;
    char tmp[32];
    switch (type) {
    case JSONB_LITERAL:
        switch (v[0]) {
        case 0:
            return jscalar(j, "null", 4);
        case 1:
            return jscalar(j, "true", 4);
        case 2:
            return jscalar(j, "false", 5);
        default:
            json_bad(j, "unknown literal", entry);
            return NULL;
        }
    case JSONB_INT16:
        snprintf(tmp, sizeof tmp, "%d", (int16_t)le_at(v, 2));
        return jscalar(j, tmp, strlen(tmp));
    case JSONB_UINT16:
        snprintf(tmp, sizeof tmp, "%u", (unsigned)le_at(v, 2));
        return jscalar(j, tmp, strlen(tmp));
    case JSONB_INT32:
        if (large) {
            snprintf(tmp, sizeof tmp, "%" PRId32, (int32_t)le_at(v, 4));
            return jscalar(j, tmp, strlen(tmp));
        }
        break;
    case JSONB_UINT32:
        if (large) {
            snprintf(tmp, sizeof tmp, "%" PRIu32, (uint32_t)le_at(v, 4));
            return jscalar(j, tmp, strlen(tmp));
        }
        break;
    default:
        break;
    }
    uint64_t rel = le_at(v, w);
    if (rel >= size) {
        json_bad(j, "value offset out of the container", entry);
        return NULL;
    }
    return json_parse(j, type, container + (size_t)rel, depth + 1);
}

static struct jnode *json_container(struct jctx *j, size_t off, bool large, bool object, int depth)
{
    size_t w = large ? 4 : 2;
    size_t avail = j->len - off;
    if (avail < 2 * w) {
        json_bad(j, "container header is truncated", off);
        return NULL;
    }
    uint64_t count = le_at(j->base + off, w), size = le_at(j->base + off + w, w);
    if (size > avail || size < 2 * w) {
        json_bad(j, "container size out of the document", off);
        return NULL;
    }
    size_t key_entry = w + 2, value_entry = 1 + w;
    size_t header = 2 * w + (object ? count * key_entry : 0) + count * value_entry;
    if (count > size || header > size) {
        json_bad(j, "container entries exceed its size", off);
        return NULL;
    }
    struct jnode *n = arena_alloc(j->arena, sizeof *n);
    memset(n, 0, sizeof *n);
    n->kind = object ? J_OBJECT : J_ARRAY;
    n->n = n->cap = (size_t)count;
    n->kids = arena_alloc(j->arena, (count ? count : 1) * sizeof *n->kids);
    if (object) {
        n->keys = arena_alloc(j->arena, (count ? count : 1) * sizeof *n->keys);
        n->key_lens = arena_alloc(j->arena, (count ? count : 1) * sizeof *n->key_lens);
    }
    for (size_t i = 0; i < count; i++) {
        if (object) {
            const uint8_t *ke = j->base + off + 2 * w + i * key_entry;
            uint64_t koff = le_at(ke, w), klen = le_at(ke + w, 2);
            if (koff > size || klen > size - koff) {
                json_bad(j, "object key out of the container", off);
                return NULL;
            }
            n->keys[i] = (const char *)j->base + off + koff;
            n->key_lens[i] = (size_t)klen;
        }
        size_t ve = off + 2 * w + (object ? count * key_entry : 0) + i * value_entry;
        n->kids[i] = json_entry(j, off, ve, large, (size_t)size, depth);
        if (n->kids[i] == NULL)
            return NULL;
    }
    return n;
}

static struct jnode *json_parse(struct jctx *j, uint8_t type, size_t off, int depth)
{
    if (depth > JSON_MAX_DEPTH) {
        json_bad(j, "document nested too deeply", off);
        return NULL;
    }
    if (off > j->len) {
        json_bad(j, "value offset out of the document", off);
        return NULL;
    }
    const uint8_t *p = j->base + off;
    size_t avail = j->len - off;
    struct buf *b = &j->tmp;
    buf_reset(b);
    switch (type) {
    case JSONB_SMALL_OBJECT:
    case JSONB_LARGE_OBJECT:
        return json_container(j, off, type == JSONB_LARGE_OBJECT, true, depth);
    case JSONB_SMALL_ARRAY:
    case JSONB_LARGE_ARRAY:
        return json_container(j, off, type == JSONB_LARGE_ARRAY, false, depth);
    case JSONB_LITERAL:
        if (avail < 1 || p[0] > 2) {
            json_bad(j, "bad literal", off);
            return NULL;
        }
        return p[0] == 0   ? jscalar(j, "null", 4)
               : p[0] == 1 ? jscalar(j, "true", 4)
                           : jscalar(j, "false", 5);
    case JSONB_INT16:
    case JSONB_UINT16:
    case JSONB_INT32:
    case JSONB_UINT32:
    case JSONB_INT64:
    case JSONB_UINT64: {
        size_t n = type <= JSONB_UINT16 ? 2 : type <= JSONB_UINT32 ? 4 : 8;
        if (avail < n) {
            json_bad(j, "number is truncated", off);
            return NULL;
        }
        uint64_t u = le_at(p, n);
        bool is_signed = type == JSONB_INT16 || type == JSONB_INT32 || type == JSONB_INT64;
        if (is_signed) {
            int64_t s = n == 2 ? (int16_t)u : n == 4 ? (int32_t)u : (int64_t)u;
            buf_json_int(b, s);
        } else {
            buf_json_uint(b, u);
        }
        break;
    }
    case JSONB_DOUBLE: {
        if (avail < 8) {
            json_bad(j, "double is truncated", off);
            return NULL;
        }
        uint64_t u = le_at(p, 8);
        double d;
        memcpy(&d, &u, sizeof d);
        put_json_double(b, d);
        break;
    }
    case JSONB_STRING: {
        size_t used;
        uint64_t len;
        if (!read_varlen(p, avail, &used, &len) || len > avail - used) {
            json_bad(j, "string is truncated", off);
            return NULL;
        }
        put_json_string(b, (const char *)p + used, (size_t)len);
        break;
    }
    case JSONB_OPAQUE:
        if (json_opaque(j, p, avail, off, b) < 0)
            return NULL;
        break;
    default:
        json_bad(j, "unknown value type", off);
        return NULL;
    }
    return jscalar(j, b->data, b->len);
}

static void json_print(const struct jnode *n, struct buf *out)
{
    switch (n->kind) {
    case J_SCALAR:
        buf_append(out, n->text, n->text_len);
        return;
    case J_OBJECT:
        buf_putc(out, '{');
        for (size_t i = 0; i < n->n; i++) {
            if (i)
                buf_append(out, ", ", 2);
            put_json_string(out, n->keys[i], n->key_lens[i]);
            buf_append(out, ": ", 2);
            json_print(n->kids[i], out);
        }
        buf_putc(out, '}');
        return;
    case J_ARRAY:
        buf_putc(out, '[');
        for (size_t i = 0; i < n->n; i++) {
            if (i)
                buf_append(out, ", ", 2);
            json_print(n->kids[i], out);
        }
        buf_putc(out, ']');
        return;
    }
}

/* Parses a whole binary document (an empty one is MySQL's JSON null). */
static struct jnode *json_doc(struct jctx *j)
{
    if (j->len == 0)
        return jscalar(j, "null", 4);
    j->base++;
    j->len--;
    struct jnode *n = json_parse(j, j->base[-1], 0, 0);
    return n;
}

int binlog_json_to_text(const uint8_t *p, size_t len, struct buf *out, struct error *err)
{
    struct jctx j = {.base = p, .len = len, .arena = arena_new(), .err = err};
    buf_init(&j.tmp);
    struct jnode *n = json_doc(&j);
    if (n)
        json_print(n, out);
    buf_free(&j.tmp);
    arena_free(j.arena);
    return n ? 0 : -1;
}

/* Partial JSON updates --------------------------------------------------------------------- */

enum { JDIFF_REPLACE = 0, JDIFF_INSERT = 1, JDIFF_REMOVE = 2 };

struct jleg {
    bool is_index;
    uint64_t index;
    char *key; /* arena */
    size_t key_len;
};

/* Parses the paths MySQL writes in diffs: $ then .name, ."quoted name" or [N]. */
static int jpath_parse(struct jctx *j, const char *s, size_t len, struct jleg **legs, size_t *nlegs)
{
    size_t i = 0, n = 0, cap = 8;
    struct jleg *l = arena_alloc(j->arena, cap * sizeof *l);
    if (len == 0 || s[0] != '$')
        return error_set(j->err, "JSON diff path does not start with $");
    i = 1;
    while (i < len) {
        if (n == cap) {
            struct jleg *bigger = arena_alloc(j->arena, 2 * cap * sizeof *l);
            memcpy(bigger, l, cap * sizeof *l);
            l = bigger;
            cap *= 2;
        }
        struct jleg *leg = &l[n];
        memset(leg, 0, sizeof *leg);
        if (s[i] == '[') {
            i++;
            uint64_t v = 0;
            size_t start = i;
            while (i < len && s[i] >= '0' && s[i] <= '9' && v < (UINT64_C(1) << 40))
                v = v * 10 + (uint64_t)(s[i++] - '0');
            if (i == start || i >= len || s[i] != ']')
                return error_set(j->err, "JSON diff path has an unsupported array leg");
            i++;
            leg->is_index = true;
            leg->index = v;
        } else if (s[i] == '.' && i + 1 < len && s[i + 1] == '"') {
            i += 2;
            struct buf kb;
            buf_init(&kb);
            while (i < len && s[i] != '"') {
                if (s[i] == '\\' && i + 1 < len) {
                    i++;
                    char c = s[i];
                    if (c == 'n')
                        c = '\n';
                    else if (c == 't')
                        c = '\t';
                    else if (c == 'r')
                        c = '\r';
                    else if (c == 'b')
                        c = '\b';
                    else if (c == 'f')
                        c = '\f';
                    else if (c == 'u' && i + 4 < len) {
                        char hex[5] = {s[i + 1], s[i + 2], s[i + 3], s[i + 4], 0};
                        put_utf8(&kb, (uint32_t)strtoul(hex, NULL, 16));
                        i += 5;
                        continue;
                    }
                    buf_putc(&kb, c);
                    i++;
                    continue;
                }
                buf_putc(&kb, s[i++]);
            }
            if (i >= len) {
                buf_free(&kb);
                return error_set(j->err, "JSON diff path has an unterminated key");
            }
            i++;
            leg->key = arena_dup(j->arena, kb.data ? kb.data : "", kb.len);
            leg->key_len = kb.len;
            buf_free(&kb);
        } else if (s[i] == '.') {
            size_t start = ++i;
            while (i < len && s[i] != '.' && s[i] != '[')
                i++;
            if (i == start || memchr(s + start, '*', i - start))
                return error_set(j->err, "JSON diff path has an unsupported member leg");
            leg->key = arena_dup(j->arena, s + start, i - start);
            leg->key_len = i - start;
        } else {
            return error_set(j->err, "JSON diff path has an unsupported leg at %zu", i);
        }
        n++;
    }
    *legs = l;
    *nlegs = n;
    return 0;
}

static void jnode_grow(struct jctx *j, struct jnode *n)
{
    if (n->n < n->cap)
        return;
    size_t cap = n->cap ? n->cap * 2 : 4;
    struct jnode **kids = arena_alloc(j->arena, cap * sizeof *kids);
    if (n->n)
        memcpy(kids, n->kids, n->n * sizeof *kids);
    n->kids = kids;
    if (n->kind == J_OBJECT) {
        const char **keys = arena_alloc(j->arena, cap * sizeof *keys);
        size_t *lens = arena_alloc(j->arena, cap * sizeof *lens);
        if (n->n) {
            memcpy(keys, n->keys, n->n * sizeof *keys);
            memcpy(lens, n->key_lens, n->n * sizeof *lens);
        }
        n->keys = keys;
        n->key_lens = lens;
    }
    n->cap = cap;
}

/* MySQL keeps object members sorted by key length, then bytes. */
static int key_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    if (al != bl)
        return al < bl ? -1 : 1;
    return memcmp(a, b, al);
}

static int jdiff_apply(struct jctx *j, struct jnode *root, int op, const struct jleg *legs,
                       size_t nlegs, struct jnode *value)
{
    if (nlegs == 0)
        return error_set(j->err, "JSON diff targets the whole document");
    struct jnode *parent = root;
    for (size_t i = 0; i + 1 < nlegs; i++) {
        const struct jleg *leg = &legs[i];
        struct jnode *next = NULL;
        if (leg->is_index && parent->kind == J_ARRAY && leg->index < parent->n)
            next = parent->kids[leg->index];
        else if (!leg->is_index && parent->kind == J_OBJECT)
            for (size_t k = 0; k < parent->n; k++)
                if (key_cmp(parent->keys[k], parent->key_lens[k], leg->key, leg->key_len) == 0)
                    next = parent->kids[k];
        if (next == NULL)
            return error_set(j->err, "JSON diff path does not exist in the before image");
        parent = next;
    }
    const struct jleg *last = &legs[nlegs - 1];
    if (last->is_index) {
        if (parent->kind != J_ARRAY)
            return error_set(j->err, "JSON diff indexes a value that is not an array");
        size_t idx = last->index < parent->n ? (size_t)last->index : parent->n;
        if (op == JDIFF_INSERT) {
            jnode_grow(j, parent);
            memmove(parent->kids + idx + 1, parent->kids + idx,
                    (parent->n - idx) * sizeof *parent->kids);
            parent->kids[idx] = value;
            parent->n++;
            return 0;
        }
        if (last->index >= parent->n)
            return error_set(j->err, "JSON diff index is past the array's end");
        if (op == JDIFF_REPLACE) {
            parent->kids[idx] = value;
        } else {
            memmove(parent->kids + idx, parent->kids + idx + 1,
                    (parent->n - idx - 1) * sizeof *parent->kids);
            parent->n--;
        }
        return 0;
    }
    if (parent->kind != J_OBJECT)
        return error_set(j->err, "JSON diff names a member of a value that is not an object");
    size_t pos = 0;
    while (pos < parent->n &&
           key_cmp(parent->keys[pos], parent->key_lens[pos], last->key, last->key_len) < 0)
        pos++;
    bool found = pos < parent->n &&
                 key_cmp(parent->keys[pos], parent->key_lens[pos], last->key, last->key_len) == 0;
    if (op == JDIFF_REMOVE) {
        if (found) {
            memmove(parent->kids + pos, parent->kids + pos + 1,
                    (parent->n - pos - 1) * sizeof *parent->kids);
            memmove(parent->keys + pos, parent->keys + pos + 1,
                    (parent->n - pos - 1) * sizeof *parent->keys);
            memmove(parent->key_lens + pos, parent->key_lens + pos + 1,
                    (parent->n - pos - 1) * sizeof *parent->key_lens);
            parent->n--;
        }
        return 0;
    }
    if (found) {
        parent->kids[pos] = value;
        return 0;
    }
    jnode_grow(j, parent);
    memmove(parent->kids + pos + 1, parent->kids + pos, (parent->n - pos) * sizeof *parent->kids);
    memmove(parent->keys + pos + 1, parent->keys + pos, (parent->n - pos) * sizeof *parent->keys);
    memmove(parent->key_lens + pos + 1, parent->key_lens + pos,
            (parent->n - pos) * sizeof *parent->key_lens);
    parent->kids[pos] = value;
    parent->keys[pos] = last->key;
    parent->key_lens[pos] = last->key_len;
    parent->n++;
    return 0;
}

int binlog_json_read_diff(struct cursor *c, const struct binlog_column *col,
                          const struct value *before, struct arena *a, struct value *out,
                          struct error *err)
{
    uint64_t total;
    const uint8_t *p;
    if (col->meta < 1 || col->meta > 4 || !cursor_uintle(c, col->meta, &total) ||
        !cursor_bytes(c, (size_t)total, &p))
        return error_set(err, "partial JSON value is truncated at offset %zu", c->off);
    if (before == NULL || before->kind != VALUE_JSON || before->v.s.i == 0) {
        /* With binlog_row_image=MINIMAL the document the diffs apply to is not in the event:
         * the new value is unknown here, so the column stays absent (left alone). */
        memset(out, 0, sizeof *out);
        out->kind = VALUE_ABSENT;
        return 0;
    }
    /* A JSON before value keeps its binary form after its text (see binlog_value_read). */
    struct jctx j = {.base = (const uint8_t *)before->v.s.p + before->v.s.len + 1,
                     .len = (size_t)before->v.s.i,
                     .arena = a,
                     .err = err};
    buf_init(&j.tmp);
    int rc = -1;
    struct jnode *root = json_doc(&j);
    if (root == NULL)
        goto out;
    struct cursor d;
    cursor_init(&d, p, (size_t)total);
    while (cursor_left(&d) > 0) {
        uint8_t op;
        uint64_t plen, vlen;
        const uint8_t *path, *val;
        if (!cursor_u8(&d, &op) || !cursor_lenenc(&d, &plen) ||
            !cursor_bytes(&d, (size_t)plen, &path)) {
            error_set(err, "JSON diff is truncated at offset %zu", d.off);
            goto out;
        }
        if (op > JDIFF_REMOVE) {
            error_set(err, "JSON diff has unknown operation %u", op);
            goto out;
        }
        struct jnode *v = NULL;
        if (op != JDIFF_REMOVE) {
            if (!cursor_lenenc(&d, &vlen) || !cursor_bytes(&d, (size_t)vlen, &val) || vlen == 0) {
                error_set(err, "JSON diff value is truncated at offset %zu", d.off);
                goto out;
            }
            struct jctx vj = {.base = val + 1, .len = (size_t)vlen - 1, .arena = a, .err = err};
            buf_init(&vj.tmp);
            v = json_parse(&vj, val[0], 0, 1);
            buf_free(&vj.tmp);
            if (v == NULL)
                goto out;
        }
        struct jleg *legs = NULL;
        size_t nlegs = 0;
        if (jpath_parse(&j, (const char *)path, (size_t)plen, &legs, &nlegs) < 0 ||
            jdiff_apply(&j, root, op, legs, nlegs, v) < 0)
            goto out;
    }
    buf_reset(&j.tmp);
    json_print(root, &j.tmp);
    set_buf(out, VALUE_JSON, a, &j.tmp);
    rc = 0;
out:
    buf_free(&j.tmp);
    return rc;
}

/* Values ----------------------------------------------------------------------------------- */

/* Whether s[0..len) is ASCII: words ORed together, 16 bytes a step, and the last bytes as the
 * (overlapping) last word rather than one at a time. Text is mostly ASCII, so no step stops
 * early. */
static inline bool is_ascii(const uint8_t *s, size_t len)
{
    uint64_t acc = 0, w, w2;
    if (len < 8) {
        for (size_t i = 0; i < len; i++)
            acc |= s[i];
        return (acc & 0x80) == 0;
    }
    size_t i = 0;
    for (; i + 16 <= len; i += 16) {
        memcpy(&w, s + i, sizeof w);
        memcpy(&w2, s + i + 8, sizeof w2);
        acc |= w | w2;
    }
    if (len - i > 8) {
        memcpy(&w, s + i, sizeof w);
        acc |= w;
    }
    memcpy(&w, s + len - 8, sizeof w);
    acc |= w;
    return (acc & UINT64_C(0x8080808080808080)) == 0;
}

/* How the text of a string column becomes a value (binlog_colplan.text). */
enum {
    TEXT_UTF8,        /* borrowed as it is (UTF-8, or a charset dbtail does not know) */
    TEXT_LATIN1,      /* borrowed when ASCII, else converted */
    TEXT_CONVERT,     /* converted to UTF-8 */
    TEXT_BYTES,       /* bytes: binary strings, and BLOBs that may be TEXT */
    TEXT_BINARY_CHAR, /* BINARY(n): bytes, padded back to n */
};

static uint8_t text_plan(const struct binlog_column *col)
{
    uint16_t coll = col->collation;
    if (coll == BINLOG_COLLATION_BINARY)
        return col->type == BT_STRING ? TEXT_BINARY_CHAR : TEXT_BYTES;
    if (coll == 0 && (col->type == BT_BLOB || col->type == BT_TINY_BLOB ||
                      col->type == BT_MEDIUM_BLOB || col->type == BT_LONG_BLOB))
        /* Without charset metadata a BLOB may be TEXT or BLOB: keep the bytes. */
        return TEXT_BYTES;
    const struct charset_info *ci = collation_info(coll);
    if (ci == NULL || ci->conv == CONV_NONE)
        return TEXT_UTF8;
    return ci->conv == CONV_LATIN1 ? TEXT_LATIN1 : TEXT_CONVERT;
}

/* The strings read_text leaves out of the row loop: BINARY(n) and text to convert. */
static NOINLINE int read_text_other(struct cursor *c, const struct binlog_column *col, uint8_t text,
                                    const uint8_t *p, size_t len, struct arena *a,
                                    struct value *out, struct error *err)
{
    if (text == TEXT_BINARY_CHAR) {
        if (len < col->meta) {
            /* BINARY(n) is logged without its trailing zero bytes; the column holds them. */
            uint8_t *padded = arena_alloc(a, col->meta);
            memcpy(padded, p, len);
            memset(padded + len, 0, col->meta - len);
            p = padded;
            len = col->meta;
        }
        set_str(out, VALUE_BYTES, p, len);
        return 0;
    }
    struct buf b;
    buf_init(&b);
    if (binlog_to_utf8(col->collation, p, len, &b, err) < 0) {
        buf_free(&b);
        return error_wrap(err, "column at offset %zu: ", c->off);
    }
    set_buf(out, VALUE_STRING, a, &b);
    buf_free(&b);
    return 0;
}

/* UTF-8 as is, and the ASCII text of single-byte character sets, are borrowed from the event
 * rather than copied. */
static ALWAYS_INLINE int read_text(struct cursor *c, const struct binlog_column *col, uint8_t text,
                                   const uint8_t *p, size_t len, struct arena *a, struct value *out,
                                   struct error *err)
{
    if (text == TEXT_UTF8 || (text == TEXT_LATIN1 && is_ascii(p, len))) {
        set_str(out, VALUE_STRING, p, len);
        return 0;
    }
    if (text == TEXT_BYTES) {
        set_str(out, VALUE_BYTES, p, len);
        return 0;
    }
    return read_text_other(c, col, text, p, len, a, out, err);
}

static int read_set(const struct binlog_column *col, uint64_t bits, struct arena *a,
                    struct value *out, struct error *err)
{
    if (col->labels == NULL) {
        /* No labels known: the bitmap's member numbers, 1-based, as MySQL's SET numbering. */
        struct buf b;
        buf_init(&b);
        for (unsigned i = 0; i < 64; i++)
            if (bits & (UINT64_C(1) << i))
                buf_printf(&b, "%s%u", b.len ? "," : "", i + 1);
        set_buf(out, VALUE_SET, a, &b);
        buf_free(&b);
        return 0;
    }
    struct buf b;
    buf_init(&b);
    for (unsigned i = 0; i < 64; i++) {
        if ((bits & (UINT64_C(1) << i)) == 0)
            continue;
        if (i >= col->n_labels) {
            buf_free(&b);
            return error_set(err, "SET value has member %u of %zu", i + 1, col->n_labels);
        }
        if (b.len)
            buf_putc(&b, ',');
        buf_puts(&b, col->labels[i]);
    }
    set_buf(out, VALUE_SET, a, &b);
    buf_free(&b);
    return 0;
}

static int truncated(struct cursor *c, const struct binlog_column *col, struct error *err)
{
    return error_set(err, "value of a column of type %u is truncated at offset %zu", col->type,
                     c->off);
}

/* ENUM values without labels, and the errors. */
static NOINLINE int read_enum_other(struct cursor *c, const struct binlog_column *col, uint64_t u,
                                    struct arena *a, struct value *out, struct error *err)
{
    (void)c;
    if (col->labels == NULL) {
        char tmp[24];
        snprintf(tmp, sizeof tmp, "%" PRIu64, u);
        set_str(out, VALUE_ENUM, arena_dup(a, tmp, strlen(tmp)), strlen(tmp));
        return 0;
    }
    return error_set(err, "ENUM value %" PRIu64 " of %zu labels", u, col->n_labels);
}

static ALWAYS_INLINE int read_enum(struct cursor *c, const struct binlog_column *col,
                                   struct arena *a, struct value *out, struct error *err)
{
    uint64_t u;
    if (col->meta < 1 || col->meta > 2 || !cursor_uintle(c, col->meta, &u))
        return truncated(c, col, err);
    if (u == 0) {
        /* The error value MySQL stores for an invalid label is the empty string. */
        set_str(out, VALUE_ENUM, "", 0);
        return 0;
    }
    if (col->labels == NULL || u > col->n_labels)
        return read_enum_other(c, col, u, a, out, err);
    const char *l = col->labels[u - 1];
    set_str(out, VALUE_ENUM, l, strlen(l));
    return 0;
}

/* DECIMAL above 18 digits, and invalid ones. */
static NOINLINE int read_decimal_other(struct cursor *c, const struct binlog_column *col,
                                       const struct binlog_colplan *d, struct arena *a,
                                       struct value *out, struct error *err)
{
    const uint8_t *p;
    if (d->width == 0)
        return error_set(err, "DECIMAL(%d,%d) is not a valid decimal type", col->meta >> 8,
                         col->meta & 0xFF);
    if (!cursor_bytes(c, d->width, &p))
        return truncated(c, col, err);
    char *text = arena_alloc(a, DECIMAL_TEXT_MAX);
    int n = decimal_text_general(p, d->precision, d->scale, text);
    if (n < 0)
        return error_set(err, "DECIMAL(%d,%d) value has a digit group out of range", d->precision,
                         d->scale);
    set_str(out, VALUE_DECIMAL, text, (size_t)n);
    return 0;
}

static ALWAYS_INLINE int read_decimal(struct cursor *c, const struct binlog_column *col,
                                      const struct binlog_colplan *d, struct arena *a,
                                      struct value *out, struct error *err)
{
    const uint8_t *p;
    if (d->precision > 18 || d->width == 0)
        return read_decimal_other(c, col, d, a, out, err);
    if (!cursor_bytes(c, d->width, &p))
        return truncated(c, col, err);
    /* printed from the right: the value's text is the end of the allocation */
    char *text = arena_alloc(a, DECIMAL_TEXT_MAX);
    const char *t = decimal_text_small(p, d, text + DECIMAL_TEXT_MAX);
    if (t == NULL)
        return error_set(err, "DECIMAL(%d,%d) value has a digit group out of range", d->precision,
                         d->scale);
    set_str(out, VALUE_DECIMAL, t, (size_t)(text + DECIMAL_TEXT_MAX - t));
    return 0;
}

/* The types of few columns, apart: inlined in the row loop, they would load its every column
 * with their registers and stack. */
static NOINLINE int read_value_other(struct cursor *c, const struct binlog_column *col,
                                     struct arena *a, struct value *out, struct error *err)
{
    uint64_t u;
    const uint8_t *p;
    memset(out, 0, sizeof *out);

    switch (col->type) {
    case BT_YEAR: {
        uint8_t y;
        if (!cursor_u8(c, &y))
            return truncated(c, col, err);
        set_int(out, VALUE_INT, y == 0 ? 0 : 1900 + y);
        return 0;
    }
    case BT_FLOAT: {
        uint32_t w;
        float f;
        if (!cursor_u32le(c, &w))
            return truncated(c, col, err);
        memcpy(&f, &w, sizeof f);
        out->kind = VALUE_FLOAT32;
        out->v.f = f;
        return 0;
    }
    case BT_BIT: {
        unsigned bytes = col->meta >> 8, bits = col->meta & 0xFF;
        unsigned nbytes = bytes + (bits ? 1 : 0), nbits = bytes * 8 + bits;
        if (nbytes == 0 || nbytes > 8 || !cursor_bytes(c, nbytes, &p))
            return truncated(c, col, err);
        if (nbits == 1) {
            out->kind = VALUE_BOOL;
            out->v.b = p[0] & 1;
            return 0;
        }
        /* Stored big-endian; Debezium's Bits are little-endian bytes. */
        uint8_t *le = arena_alloc(a, nbytes);
        for (unsigned i = 0; i < nbytes; i++)
            le[i] = p[nbytes - 1 - i];
        set_str(out, VALUE_BITS, le, nbytes);
        out->v.s.i = nbits;
        return 0;
    }
    case BT_VARCHAR:
    case BT_VAR_STRING:
    case BT_STRING:
        if (col->real_type == BT_SET) {
            if (col->meta < 1 || col->meta > 8 || !cursor_uintle(c, col->meta, &u))
                return truncated(c, col, err);
            return read_set(col, u, a, out, err);
        }
        break;
    case BT_BLOB:
    case BT_TINY_BLOB:
    case BT_MEDIUM_BLOB:
    case BT_LONG_BLOB:
        return truncated(c, col, err);
    case BT_JSON:
    case BT_GEOMETRY:
    case BT_VECTOR:
        if (col->meta < 1 || col->meta > 4 || !cursor_uintle(c, col->meta, &u) ||
            !cursor_bytes(c, (size_t)u, &p))
            return truncated(c, col, err);
        if (col->type == BT_JSON) {
            struct buf b;
            buf_init(&b);
            if (binlog_json_to_text(p, (size_t)u, &b, err) < 0) {
                buf_free(&b);
                return error_wrap(err, "JSON column: ");
            }
            /* Keep the binary form right after the text: a partial update of the next image
             * applies its diffs to it (v.s.i holds its length). */
            char *d = arena_alloc(a, b.len + 1 + (size_t)u);
            if (b.len)
                memcpy(d, b.data, b.len);
            d[b.len] = '\0';
            if (u)
                memcpy(d + b.len + 1, p, (size_t)u);
            set_str(out, VALUE_JSON, d, b.len);
            out->v.s.i = (int64_t)u;
            buf_free(&b);
            return 0;
        }
        if (col->type == BT_GEOMETRY) {
            if (u < 4)
                return error_set(err, "GEOMETRY value of %" PRIu64 " bytes has no SRID", u);
            set_str(out, VALUE_GEOMETRY, p + 4, (size_t)u - 4);
            out->v.s.i = (int64_t)le_at(p, 4);
            return 0;
        }
        set_str(out, VALUE_BYTES, p, (size_t)u);
        return 0;
    default:
        break;
    }
    return error_set(err, "column type %u cannot be decoded from a row event", col->type);
}

/* The ways of reading a value (binlog_colplan.op). The integers and the length prefixes of
 * strings have one per width: the jump to it is the only dispatch on the width. */
enum {
    OP_OTHER, /* read_value_other */
    OP_INT1,
    OP_INT2,
    OP_INT3,
    OP_INT4,
    OP_INT8,
    OP_DOUBLE,
    OP_STRING1, /* a string after a length of 1..4 bytes */
    OP_STRING2,
    OP_STRING3,
    OP_STRING4,
    OP_ENUM,
    OP_DECIMAL,
    OP_DATETIME2, /* width: fsp */
    OP_TEMPORAL,
    OP_JSON, /* MySQL's binary JSON: read_value_other, or a partial update's diffs */
};

static void int_plan(const struct binlog_column *col, unsigned width, struct binlog_colplan *p)
{
    p->op = (uint8_t)(width == 8 ? OP_INT8 : OP_INT1 + width - 1);
    if (col->is_unsigned == 1) {
        /* unsigned BIGINT is the only one beyond int64_t */
        p->kind = width == 8 ? VALUE_UINT : VALUE_INT;
        p->sign = 0;
    } else {
        p->kind = VALUE_INT;
        p->sign = UINT64_C(1) << (8 * width - 1);
    }
}

void binlog_colplan_make(const struct binlog_column *col, struct binlog_colplan *p)
{
    memset(p, 0, sizeof *p);
    p->op = OP_OTHER;
    switch (col->type) {
    case BT_TINY:
        int_plan(col, 1, p);
        break;
    case BT_SHORT:
        int_plan(col, 2, p);
        break;
    case BT_INT24:
        int_plan(col, 3, p);
        break;
    case BT_LONG:
        int_plan(col, 4, p);
        break;
    case BT_LONGLONG:
        int_plan(col, 8, p);
        break;
    case BT_DOUBLE:
        p->op = OP_DOUBLE;
        break;
    case BT_VARCHAR:
    case BT_VAR_STRING:
    case BT_STRING:
        if (col->real_type == BT_ENUM) {
            p->op = OP_ENUM;
        } else if (col->real_type != BT_SET) {
            p->op = col->meta > 255 ? OP_STRING2 : OP_STRING1;
            p->text = text_plan(col);
        }
        break;
    case BT_BLOB:
    case BT_TINY_BLOB:
    case BT_MEDIUM_BLOB:
    case BT_LONG_BLOB:
        /* a length of another width is read_value_other's to report */
        if (col->meta >= 1 && col->meta <= 4) {
            p->op = (uint8_t)(OP_STRING1 + col->meta - 1);
            p->text = text_plan(col);
        }
        break;
    case BT_NEWDECIMAL:
        p->op = OP_DECIMAL;
        /* an invalid pair keeps width 0, which read_decimal reports */
        (void)decimal_layout(col->meta >> 8, col->meta & 0xFF, p);
        break;
    case BT_DATETIME2:
        if (col->meta <= 6) {
            p->op = OP_DATETIME2;
            p->width = (uint8_t)col->meta;
        } else {
            p->op = OP_TEMPORAL;
        }
        break;
    case BT_DATE:
    case BT_NEWDATE:
    case BT_TIME:
    case BT_TIME2:
    case BT_DATETIME:
    case BT_TIMESTAMP:
    case BT_TIMESTAMP2:
        p->op = OP_TEMPORAL;
        break;
    case BT_JSON:
        p->op = OP_JSON;
        break;
    default:
        break;
    }
}

static int temporal_bad(struct cursor *c, const struct binlog_column *col, struct error *err)
{
    return error_set(err, "value of a column of type %u is truncated or out of range at offset %zu",
                     col->type, c->off);
}

static ALWAYS_INLINE int read_int(struct cursor *c, const struct binlog_column *col,
                                  const struct binlog_colplan *p, size_t width, struct value *out,
                                  struct error *err)
{
    uint64_t u;
    if (!cursor_uintle(c, width, &u))
        return truncated(c, col, err);
    /* sign-extended by the sign bit (none for unsigned columns) */
    *out = (struct value){.kind = (enum value_kind)p->kind, .v.u = (u ^ p->sign) - p->sign};
    return 0;
}

static ALWAYS_INLINE int read_string(struct cursor *c, const struct binlog_column *col,
                                     const struct binlog_colplan *p, size_t width, struct arena *a,
                                     struct value *out, struct error *err)
{
    uint64_t u;
    const uint8_t *q;
    if (!cursor_uintle(c, width, &u) || !cursor_bytes(c, (size_t)u, &q))
        return truncated(c, col, err);
    return read_text(c, col, p->text, q, (size_t)u, a, out, err);
}

/* One value by its plan, of column i. partial/before: a partial update's JSON bits and before
 * image, for JSON columns (NULL when there are none); looked at only for them. */
static ALWAYS_INLINE int read_planned(struct cursor *c, const struct binlog_column *col,
                                      struct binlog_colplan *p, const uint8_t *partial,
                                      const struct value *before, size_t i, struct arena *a,
                                      struct value *out, struct error *err)
{
    uint64_t u;
    switch (p->op) {
    case OP_INT1:
        return read_int(c, col, p, 1, out, err);
    case OP_INT2:
        return read_int(c, col, p, 2, out, err);
    case OP_INT3:
        return read_int(c, col, p, 3, out, err);
    case OP_INT4:
        return read_int(c, col, p, 4, out, err);
    case OP_INT8:
        return read_int(c, col, p, 8, out, err);
    case OP_DOUBLE: {
        double d;
        if (!cursor_uintle(c, 8, &u))
            return truncated(c, col, err);
        memcpy(&d, &u, sizeof d);
        *out = (struct value){.kind = VALUE_FLOAT64, .v.f = d};
        return 0;
    }
    case OP_STRING1:
        return read_string(c, col, p, 1, a, out, err);
    case OP_STRING2:
        return read_string(c, col, p, 2, a, out, err);
    case OP_STRING3:
        return read_string(c, col, p, 3, a, out, err);
    case OP_STRING4:
        return read_string(c, col, p, 4, a, out, err);
    case OP_ENUM:
        return read_enum(c, col, a, out, err);
    case OP_DECIMAL:
        return read_decimal(c, col, p, a, out, err);
    case OP_DATETIME2:
        if (read_datetime2(c, p->width, p, out) < 0)
            return temporal_bad(c, col, err);
        return 0;
    case OP_TEMPORAL:
        if (read_temporal(c, col, out) < 0)
            return temporal_bad(c, col, err);
        return 0;
    case OP_JSON:
        if (partial != NULL && ((partial[p->json_index / 8] >> (p->json_index % 8)) & 1))
            return binlog_json_read_diff(c, col, before ? &before[i] : NULL, a, out, err);
        return read_value_other(c, col, a, out, err);
    default:
        return read_value_other(c, col, a, out, err);
    }
}

int binlog_value_read(struct cursor *c, const struct binlog_column *col, struct arena *a,
                      struct value *out, struct error *err)
{
    struct binlog_colplan p;
    binlog_colplan_make(col, &p);
    return read_planned(c, col, &p, NULL, NULL, 0, a, out, err);
}

/* The row loop; `whole` (a constant where it is inlined) says that every column is present and
 * none is NULL, so that the common image skips both checks for each column. */
static ALWAYS_INLINE int values_loop(struct cursor *c, const struct binlog_column *cols,
                                     struct binlog_colplan *plan, size_t ncols,
                                     const uint8_t *present, const uint8_t *nulls,
                                     const uint8_t *partial, const struct value *before,
                                     struct arena *a, struct value *vals, struct error *err,
                                     bool whole)
{
    unsigned nullbits = 0; /* the rest of the current byte of `nulls` */
    size_t k = 0;
    for (size_t i = 0; i < ncols; i++) {
        struct value *out = &vals[i];
        if (!whole) {
            if (present != NULL && !((present[i / 8] >> (i % 8)) & 1)) {
                *out = (struct value){.kind = VALUE_ABSENT};
                continue;
            }
            if (k % 8 == 0)
                nullbits = nulls[k / 8];
            k++;
            bool null = nullbits & 1;
            nullbits >>= 1;
            if (null) {
                *out = (struct value){.kind = VALUE_NULL};
                continue;
            }
        }
        if (read_planned(c, &cols[i], &plan[i], partial, before, i, a, out, err) < 0)
            return error_wrap(err, "column %zu (%s): ", i + 1, cols[i].name ? cols[i].name : "?");
    }
    return 0;
}

int binlog_values_read(struct cursor *c, const struct binlog_column *cols,
                       struct binlog_colplan *plan, size_t ncols, const uint8_t *present,
                       const uint8_t *nulls, const uint8_t *partial, const struct value *before,
                       struct arena *a, struct value *vals, struct error *err)
{
    if (present == NULL) {
        /* the bits past the last column are not necessarily 0 (MariaDB sets them) */
        unsigned any = ncols % 8 ? nulls[ncols / 8] & ((1u << (ncols % 8)) - 1) : 0;
        for (size_t j = 0; j < ncols / 8; j++)
            any |= nulls[j];
        if (any == 0)
            return values_loop(c, cols, plan, ncols, NULL, nulls, partial, before, a, vals, err,
                               true);
    }
    return values_loop(c, cols, plan, ncols, present, nulls, partial, before, a, vals, err, false);
}

/* Schema view ------------------------------------------------------------------------------ */

static void set_type_name(struct schema_column *sc, const char *name)
{
    free(sc->type_name);
    sc->type_name = mem_strdup(name);
}

void binlog_column_to_schema(const struct binlog_column *col, struct schema_column *sc)
{
    bool uns = col->is_unsigned == 1;
    char name[64];
    const char *cs = col->collation ? binlog_collation_charset(col->collation) : NULL;
    bool binary = col->collation == BINLOG_COLLATION_BINARY;
    int maxlen = col->collation ? binlog_collation_maxlen(col->collation) : 1;

    sc->is_unsigned = uns;
    sc->optional = col->nullable;
    sc->key = col->key;
    sc->type_oid = col->type;
    free(sc->charset);
    sc->charset = mem_strdup(cs);
    switch (col->type) {
    case BT_TINY:
        snprintf(name, sizeof name, "tinyint%s", uns ? " unsigned" : "");
        sc->kind = VALUE_INT;
        sc->int_bits = 16;
        break;
    case BT_SHORT:
        snprintf(name, sizeof name, "smallint%s", uns ? " unsigned" : "");
        sc->kind = VALUE_INT;
        sc->int_bits = uns ? 32 : 16;
        break;
    case BT_INT24:
        snprintf(name, sizeof name, "mediumint%s", uns ? " unsigned" : "");
        sc->kind = VALUE_INT;
        sc->int_bits = 32;
        break;
    case BT_LONG:
        snprintf(name, sizeof name, "int%s", uns ? " unsigned" : "");
        sc->kind = VALUE_INT;
        sc->int_bits = uns ? 64 : 32;
        break;
    case BT_LONGLONG:
        snprintf(name, sizeof name, "bigint%s", uns ? " unsigned" : "");
        sc->kind = uns ? VALUE_UINT : VALUE_INT;
        sc->int_bits = 64;
        break;
    case BT_YEAR:
        snprintf(name, sizeof name, "year");
        sc->kind = VALUE_INT;
        sc->int_bits = 32;
        break;
    case BT_FLOAT:
        snprintf(name, sizeof name, "float%s", uns ? " unsigned" : "");
        sc->kind = VALUE_FLOAT32;
        break;
    case BT_DOUBLE:
        snprintf(name, sizeof name, "double%s", uns ? " unsigned" : "");
        sc->kind = VALUE_FLOAT64;
        break;
    case BT_NEWDECIMAL:
        snprintf(name, sizeof name, "decimal%s", uns ? " unsigned" : "");
        sc->kind = VALUE_DECIMAL;
        sc->precision = col->meta >> 8;
        sc->scale = col->meta & 0xFF;
        break;
    case BT_BIT:
        snprintf(name, sizeof name, "bit");
        sc->length = (col->meta >> 8) * 8 + (col->meta & 0xFF);
        sc->kind = sc->length == 1 ? VALUE_BOOL : VALUE_BITS;
        break;
    case BT_DATE:
    case BT_NEWDATE:
        snprintf(name, sizeof name, "date");
        sc->kind = VALUE_DATE;
        break;
    case BT_TIME:
    case BT_TIME2:
        snprintf(name, sizeof name, "time");
        sc->kind = VALUE_TIME;
        sc->scale = col->type == BT_TIME2 ? col->meta : 0;
        break;
    case BT_DATETIME:
    case BT_DATETIME2:
        snprintf(name, sizeof name, "datetime");
        sc->kind = VALUE_DATETIME;
        sc->scale = col->type == BT_DATETIME2 ? col->meta : 0;
        break;
    case BT_TIMESTAMP:
    case BT_TIMESTAMP2:
        snprintf(name, sizeof name, "timestamp");
        sc->kind = VALUE_TIMESTAMP;
        sc->scale = col->type == BT_TIMESTAMP2 ? col->meta : 0;
        break;
    case BT_VARCHAR:
    case BT_VAR_STRING:
        snprintf(name, sizeof name, binary ? "varbinary" : "varchar");
        sc->kind = binary ? VALUE_BYTES : VALUE_STRING;
        sc->length = col->meta / maxlen;
        break;
    case BT_STRING:
        if (col->real_type == BT_ENUM || col->real_type == BT_SET) {
            bool is_enum = col->real_type == BT_ENUM;
            snprintf(name, sizeof name, is_enum ? "enum" : "set");
            sc->kind = is_enum ? VALUE_ENUM : VALUE_SET;
            for (size_t i = 0; i < sc->n_enum_values; i++)
                free(sc->enum_values[i]);
            free(sc->enum_values);
            sc->enum_values = NULL;
            sc->n_enum_values = 0;
            if (col->labels) {
                sc->enum_values = mem_calloc(col->n_labels ? col->n_labels : 1, sizeof(char *));
                for (size_t i = 0; i < col->n_labels; i++)
                    sc->enum_values[i] = mem_strdup(col->labels[i]);
                sc->n_enum_values = col->n_labels;
            }
            break;
        }
        snprintf(name, sizeof name, binary ? "binary" : "char");
        sc->kind = binary ? VALUE_BYTES : VALUE_STRING;
        sc->length = col->meta / maxlen;
        break;
    case BT_BLOB:
    case BT_TINY_BLOB:
    case BT_MEDIUM_BLOB:
    case BT_LONG_BLOB: {
        static const char *const text[] = {"", "tinytext", "text", "mediumtext", "longtext"};
        static const char *const blob[] = {"", "tinyblob", "blob", "mediumblob", "longblob"};
        unsigned m = col->meta >= 1 && col->meta <= 4 ? col->meta : 2;
        /* Without charset metadata TEXT and BLOB look alike: bytes is the safe view. */
        bool is_text = col->collation != 0 && !binary;
        snprintf(name, sizeof name, "%s", is_text ? text[m] : blob[m]);
        sc->kind = is_text ? VALUE_STRING : VALUE_BYTES;
        break;
    }
    case BT_JSON:
        snprintf(name, sizeof name, "json");
        sc->kind = VALUE_JSON;
        break;
    case BT_GEOMETRY: {
        static const char *const geo[] = {
            "geometry",   "point",           "linestring",   "polygon",
            "multipoint", "multilinestring", "multipolygon", "geometrycollection"};
        snprintf(name, sizeof name, "%s",
                 col->geometry_type < sizeof geo / sizeof geo[0] ? geo[col->geometry_type]
                                                                 : "geometry");
        sc->kind = VALUE_GEOMETRY;
        break;
    }
    case BT_VECTOR:
        snprintf(name, sizeof name, "vector");
        sc->kind = VALUE_BYTES;
        break;
    default:
        snprintf(name, sizeof name, "type%u", col->type);
        sc->kind = VALUE_TEXT;
        break;
    }
    set_type_name(sc, name);
}
