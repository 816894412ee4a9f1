/*
 * Unit tests of src/buf.c (growth, JSON strings, numbers as Java/Jackson print them, base64) and
 * src/cursor.c (every read at and past the end). Doubles and floats are also checked against an
 * oracle, buf's former printf/strtod formatter, on edge cases and random bit patterns:
 * BUF_TEST_RANDOM=N sets how many of each (default 200000; a few seconds under ASan).
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/buf.h"
#include "../../src/cursor.h"
#include "unit.h"

static struct buf out;

static const char *json_str(const char *s, size_t len)
{
    buf_reset(&out);
    buf_json_str(&out, s, len);
    return out.data;
}

static const char *dbl(double v)
{
    buf_reset(&out);
    buf_json_double(&out, v);
    return out.data;
}

static const char *flt(float v)
{
    buf_reset(&out);
    buf_json_float(&out, v);
    return out.data;
}

static const char *b64(const char *s, size_t len)
{
    buf_reset(&out);
    buf_json_base64(&out, s, len);
    return out.data;
}

static struct buf want;

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

/* xorshift64*: fixed seed, so a failure repeats. */
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Du;
}

static void test_growth(void)
{
    struct buf b;
    buf_init(&b);
    CHECK(b.data == NULL && b.len == 0);
    for (int i = 0; i < 1000; i++)
        buf_puts(&b, "0123456789");
    CHECK_INT(b.len, 10000);
    CHECK(b.cap > b.len);
    CHECK_INT(b.data[b.len], '\0');
    CHECK(memcmp(b.data + 9990, "0123456789", 10) == 0);

    size_t cap = b.cap;
    buf_reset(&b);
    CHECK_INT(b.len, 0);
    CHECK_STR(b.data, "");
    CHECK_INT(b.cap, cap);

    buf_putc(&b, 'x');
    buf_append(&b, "\0y", 2);
    CHECK_INT(b.len, 3);
    CHECK(memcmp(b.data, "x\0y", 4) == 0);

    buf_reset(&b);
    char big[600];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    buf_printf(&b, "<%s|%d>", big, 42);
    CHECK_INT(b.len, 599 + 5);
    CHECK(strcmp(b.data + 600, "|42>") == 0);

    char *taken = buf_take(&b);
    CHECK(taken[0] == '<');
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    free(taken);

    char *empty = buf_take(&b);
    CHECK_STR(empty, "");
    free(empty);
    buf_free(&b);
}

static void test_json_string_escapes(void)
{
    CHECK_STR(json_str("plain", 5), "\"plain\"");
    CHECK_STR(json_str("", 0), "\"\"");
    CHECK_STR(json_str("a\"b\\c/d", 7), "\"a\\\"b\\\\c/d\"");
    CHECK_STR(json_str("\n\r\t\b\f", 5), "\"\\n\\r\\t\\b\\f\"");
    /* Other control characters as Jackson writes them: \u00XX in upper case. */
    CHECK_STR(json_str("\x01\x1f\x1b", 3), "\"\\u0001\\u001F\\u001B\"");
    CHECK_STR(json_str("a\0b", 3), "\"a\\u0000b\"");
    CHECK_STR(json_str("\x7f", 1), "\"\x7f\"");
    CHECK_STR(json_str("abcdef", 3), "\"abc\"");
}

static void test_json_string_utf8(void)
{
    /* Valid sequences of every length pass through. */
    CHECK_STR(json_str("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", 13),
              "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"");
    CHECK_STR(json_str("\xed\x9f\xbf\xee\x80\x80", 6), "\"\xed\x9f\xbf\xee\x80\x80\"");

#define FFFD "\xef\xbf\xbd"
    CHECK_STR(json_str("a\x80z", 3), "\"a" FFFD "z\"");
    CHECK_STR(json_str("\xff\xfe", 2), "\"" FFFD FFFD "\"");
    CHECK_STR(json_str("end\xc3", 4), "\"end" FFFD "\"");
    /* A sequence broken off counts once (its maximal subpart), as Java's decoder does. */
    CHECK_STR(json_str("\xe2\x82"
                       "A",
                       3),
              "\"" FFFD "A\"");
    CHECK_STR(json_str("\xf0\x9f\x98x", 4), "\"" FFFD "x\"");
    CHECK_STR(json_str("\xf0\x9f\x98", 3), "\"" FFFD "\"");
    /* Overlong forms, surrogates and code points past U+10FFFF: every byte is replaced. */
    CHECK_STR(json_str("\xc0\x80", 2), "\"" FFFD FFFD "\"");
    CHECK_STR(json_str("\xe0\x80\xaf", 3), "\"" FFFD FFFD FFFD "\"");
    CHECK_STR(json_str("\xed\xa0\x80", 3), "\"" FFFD FFFD FFFD "\"");
    CHECK_STR(json_str("\xf4\x90\x80\x80", 4), "\"" FFFD FFFD FFFD FFFD "\"");
    CHECK_STR(json_str("\xf5\x80", 2), "\"" FFFD FFFD "\"");
#undef FFFD
}

/* The oracle for strings: buf's former writer, one byte at a time. */
/*
 * The UTF-8 sequence at s: its length (1-4) when valid, else minus the length of its "maximal
 * subpart" (a lead byte and the continuation bytes that fit it before the sequence broke off),
 * which gets one U+FFFD as Java's decoder and the Unicode standard's practice do.
 */
static int utf8_seq(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    int n;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong below */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates above */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return -1;
    }
    for (int i = 1; i < n; i++) {
        if ((size_t)i >= avail)
            return -i;
        unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xBF;
        if (s[i] < min || s[i] > max)
            return -i;
    }
    return n;
}

static void oracle_json_str(struct buf *b, const char *s, size_t len)
{
    /* Upper case, as Jackson writes \u escapes. */
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    buf_reserve(b, len + 2);
    buf_putc(b, '"');
    while (i < len) {
        size_t run = i;
        while (run < len && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > i) {
            buf_append(b, p + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            buf_append(b, esc, 2);
            i++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n':
                buf_append(b, "\\n", 2);
                break;
            case '\r':
                buf_append(b, "\\r", 2);
                break;
            case '\t':
                buf_append(b, "\\t", 2);
                break;
            case '\b':
                buf_append(b, "\\b", 2);
                break;
            case '\f':
                buf_append(b, "\\f", 2);
                break;
            default: {
                char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
                buf_append(b, esc, 6);
            }
            }
            i++;
        } else {
            int n = utf8_seq(p + i, len - i);
            if (n < 0) {
                buf_append(b, "\xEF\xBF\xBD", 3);
                i += (size_t)-n;
            } else {
                buf_append(b, p + i, (size_t)n);
                i += (size_t)n;
            }
        }
    }
    buf_putc(b, '"');
}

/*
 * Random strings over bytes that matter (plain ones, each escape, valid and broken UTF-8), at
 * every length and offset in the eight-byte words buf reads, written after a prefix so that
 * the buffer's growth is crossed too.
 */
static void test_json_string_oracle(void)
{
    static const unsigned char alphabet[] = {'a',  'Z',  ' ',  '~',  '"',  '\\', '\n', 0x01, 0x1f,
                                             0x7f, 0x80, 0xbf, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xed,
                                             0xa0, 0xf0, 0x9f, 0x98, 0xf4, 0xff, 0x00};
    static unsigned char text[13000];
    int failures = 0;
    for (int i = 0; i < 200000 && failures < 10; i++) {
        /* Some long enough for buf's 4 KB chunks, with sequences across their ends. */
        size_t len = (size_t)(rng() % (i % 100 == 0 ? sizeof text : 80));
        /* Mostly plain text with a few special bytes, like real values. */
        int special = (int)(rng() % 4);
        for (size_t j = 0; j < len; j++) {
            uint64_t r = rng();
            text[j] = r % 8 < (uint64_t)special ? alphabet[(r >> 8) % sizeof alphabet]
                                                : (unsigned char)(' ' + (r >> 8) % 90);
        }
        size_t prefix = (size_t)(rng() % 300);
        buf_reset(&out);
        buf_reset(&want);
        for (size_t j = 0; j < prefix; j++) {
            buf_putc(&out, 'p');
            buf_putc(&want, 'p');
        }
        buf_json_str(&out, (const char *)text, len);
        oracle_json_str(&want, (const char *)text, len);
        if (out.len != want.len || memcmp(out.data, want.data, out.len + 1) != 0) {
            failures++;
            unit_fail(__FILE__, __LINE__, "string %d of %zu bytes: got %s, want %s", i, len,
                      out.data + prefix, want.data + prefix);
        }
    }
}

static void test_json_integers(void)
{
    buf_reset(&out);
    buf_json_int(&out, INT64_MIN);
    buf_putc(&out, ' ');
    buf_json_int(&out, -1);
    buf_putc(&out, ' ');
    buf_json_uint(&out, UINT64_MAX);
    CHECK_STR(out.data, "-9223372036854775808 -1 18446744073709551615");

    /* Every length, at and around each power of ten, and random values of every magnitude. */
    char text[48];
    int failures = 0;
    for (int i = 0; i < 100000 && failures < 10; i++) {
        uint64_t v = i < 60 ? 1 : rng() >> (rng() % 64);
        for (int p = 0; i < 60 && p < i / 3; p++)
            v *= 10;
        v += i < 60 ? (uint64_t)(i % 3) - 1 : 0;
        buf_reset(&out);
        buf_json_uint(&out, v);
        buf_putc(&out, ' ');
        buf_json_int(&out, (int64_t)v);
        snprintf(text, sizeof text, "%" PRIu64 " %" PRId64, v, (int64_t)v);
        if (strcmp(out.data, text) != 0) {
            failures++;
            CHECK_STR(out.data, text);
        }
    }
}

/*
 * The oracle: buf's former formatter, which finds Java's digits with the C library's correctly
 * rounded conversions: the shortest precision whose printf "%.*e" strtod reads back as v (first
 * trying a short m / 10^k without printf), and, when one digit does, the two-digit form if it
 * reads back too. It follows Java's contract (see buf.c) but for one case it missed, fixed here.
 */
/* True when the decimal text reads back as v (as a float when is_float). */
static int reads_back(const char *text, double v, int is_float)
{
    return is_float ? strtof(text, NULL) == (float)v : strtod(text, NULL) == v;
}

/*
 * The fix the method above needed: at the first value of a binade the gap below is half the one
 * above, so the closest decimal of some length can lie below the interval that reads back while
 * the next one up lies inside (2^-44 is 5.684341886080802E-14, not ...8015E-14). Replaces text,
 * "d.ddde±x", with that next decimal when it reads back.
 */
static int next_up_reads_back(char *text, double v, int is_float)
{
    char *e = strchr(text, 'e');
    int exp10 = atoi(e + 1);
    uint64_t m = 0, top = 1;
    for (char *p = text; p < e; p++) {
        if (*p != '.') {
            m = m * 10 + (uint64_t)(*p - '0');
            top *= 10;
        }
    }
    if (++m == top) {
        m /= 10;
        exp10++;
    }
    char digits[24], up[48];
    int n = snprintf(digits, sizeof digits, "%" PRIu64, m);
    snprintf(up, sizeof up, "%c.%se%d", digits[0], n > 1 ? digits + 1 : "0", exp10);
    if (!reads_back(up, v, is_float))
        return 0;
    strcpy(text, up);
    return 1;
}

/*
 * The digits of a normal double v > 0 written by people or databases as a short decimal
 * m / 10^k, found without printf: when one with m < 10^15 reads back as v it is the only decimal
 * of at most 15 digits that does (see oracle_decimal), so the conversions would find it too.
 * m / 10^k computed from exact operands is correctly rounded, the value strtod reads for it; and
 * v * 10^k lies within 0.25 of m, so rounding it finds m. Returns 0 when there is no such m.
 */
static int short_decimal(double v, char *digits, int *ndigits, int *exp10)
{
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    for (int k = 0; k < (int)(sizeof p10 / sizeof p10[0]); k++) {
        double t = v * p10[k];
        if (t >= 1e15)
            return 0;
        double r = floor(t + 0.5);
        if (r == 0 || r / p10[k] != v)
            continue;
        uint64_t m = (uint64_t)r;
        int zeros = 0;
        while (m % 10 == 0) {
            m /= 10;
            zeros++;
        }
        char tmp[20];
        int n = 0;
        for (; m > 0; m /= 10)
            tmp[n++] = (char)('0' + m % 10);
        for (int i = 0; i < n; i++)
            digits[i] = tmp[n - 1 - i];
        *ndigits = n;
        *exp10 = n - 1 + zeros - k;
        return 1;
    }
    return 0;
}

/*
 * Java's Double.toString/Float.toString (JDK 19+, what Jackson writes): the shortest digits that
 * read back to the same value, the closest of them to the value; when one digit would do, the
 * closest of one or two digits (4.9E-324, not 5.0E-324). Plain notation with at least one
 * fractional digit when 1e-3 <= |v| < 1e7, else d.dddE±n.
 */
static void oracle_decimal(struct buf *b, double v, int max_digits, int is_float)
{
    char digits[40];
    int exp10 = 0;
    int ndigits = 0;

    if (isnan(v)) {
        buf_puts(b, "\"NaN\"");
        return;
    }
    if (isinf(v)) {
        buf_puts(b, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    if (v == 0) {
        buf_puts(b, signbit(v) ? "-0.0" : "0.0");
        return;
    }
    if (v < 0) {
        buf_putc(b, '-');
        v = -v;
    }
    /*
     * A double's half-ulp is under 2^-53 of its value, less than half the spacing of 15-digit
     * decimals; so when some decimal of at most 15 digits reads back as v, rounding v to 15
     * digits gives exactly that decimal padded with zeros. One conversion then finds the
     * shortest form for nearly all values, and longer forms are only tried when it fails.
     * (Floats: 2^-24 against 6 digits.) Subnormals have fewer bits and start from 1 digit.
     */
    int exp2;
    int binade_start = frexp(v, &exp2) == 0.5;
    int first = max_digits == 17 ? 15 : 6;
    if (v < (is_float ? (double)FLT_MIN : DBL_MIN))
        first = 1;
    int found = !is_float && v >= DBL_MIN && short_decimal(v, digits, &ndigits, &exp10);
    /* Between 1e-7 and 1e15 every decimal of at most 15 digits is some m / 10^k that
     * short_decimal tried (k <= 22), so none reads back and 15 digits would fail too. */
    if (!found && !is_float && v >= 1e-7 && v < 1e15)
        first = 16;
    for (int prec = first; !found && prec <= max_digits; prec++) {
        char tmp[48];
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        int same = prec == max_digits || reads_back(tmp, v, is_float) ||
                   (binade_start && next_up_reads_back(tmp, v, is_float));
        if (same) {
            char *e = strchr(tmp, 'e');
            exp10 = atoi(e + 1);
            ndigits = 0;
            for (char *p = tmp; p < e; p++)
                if (*p >= '0' && *p <= '9')
                    digits[ndigits++] = *p;
            break;
        }
    }
    while (ndigits > 1 && digits[ndigits - 1] == '0')
        ndigits--;
    /* (When short_decimal found one digit, no other decimal of two reads back.) */
    if (ndigits == 1 && !found) {
        /* Java never prints a one-digit form where a two-digit one reads back: 4.9E-324. */
        char two[48];
        snprintf(two, sizeof two, "%.1e", v);
        if (reads_back(two, v, is_float) && two[2] != '0') {
            digits[0] = two[0];
            digits[1] = two[2];
            ndigits = 2;
            exp10 = atoi(strchr(two, 'e') + 1);
        }
    }

    if (v >= 1e-3 && v < 1e7) {
        if (exp10 >= 0) {
            for (int i = 0; i <= exp10; i++)
                buf_putc(b, i < ndigits ? digits[i] : '0');
            buf_putc(b, '.');
            if (ndigits > exp10 + 1)
                buf_append(b, digits + exp10 + 1, (size_t)(ndigits - exp10 - 1));
            else
                buf_putc(b, '0');
        } else {
            buf_puts(b, "0.");
            for (int i = 0; i < -exp10 - 1; i++)
                buf_putc(b, '0');
            buf_append(b, digits, (size_t)ndigits);
        }
    } else {
        buf_putc(b, digits[0]);
        buf_putc(b, '.');
        if (ndigits > 1)
            buf_append(b, digits + 1, (size_t)(ndigits - 1));
        else
            buf_putc(b, '0');
        buf_printf(b, "E%d", exp10);
    }
}

static int mismatches;

static void same_as_oracle(double v, int is_float)
{
    buf_reset(&out);
    buf_reset(&want);
    if (is_float) {
        buf_json_float(&out, (float)v);
        oracle_decimal(&want, v, 9, 1);
    } else {
        buf_json_double(&out, v);
        oracle_decimal(&want, v, 17, 0);
    }
    if (strcmp(out.data, want.data) != 0 && mismatches++ < 20)
        unit_fail(__FILE__, __LINE__, "%s %a: got %s, want %s", is_float ? "float" : "double", v,
                  out.data, want.data);
}

static void same_double(double v)
{
    same_as_oracle(v, 0);
    same_as_oracle(nextafter(v, 0), 0);
    same_as_oracle(nextafter(v, INFINITY), 0);
}

static void same_float(float v)
{
    same_as_oracle(v, 1);
    same_as_oracle(nextafterf(v, 0), 1);
    same_as_oracle(nextafterf(v, INFINITY), 1);
}

static long random_count(void)
{
    const char *n = getenv("BUF_TEST_RANDOM");
    return n ? atol(n) : 200000;
}

static double bits_double(uint64_t bits)
{
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static float bits_float(uint32_t bits)
{
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static void test_java_double(void)
{
    CHECK_STR(dbl(1.0), "1.0");
    CHECK_STR(dbl(100.0), "100.0");
    CHECK_STR(dbl(0.5), "0.5");
    CHECK_STR(dbl(-1.5), "-1.5");
    CHECK_STR(dbl(0.001), "0.001");
    CHECK_STR(dbl(123456.789), "123456.789");
    CHECK_STR(dbl(9999999.0), "9999999.0");
    CHECK_STR(dbl(1.0e7), "1.0E7");
    CHECK_STR(dbl(12345678.9), "1.23456789E7");
    CHECK_STR(dbl(1.234e-5), "1.234E-5");
    CHECK_STR(dbl(1.0e-4), "1.0E-4");
    CHECK_STR(dbl(9.99e-4), "9.99E-4");
    CHECK_STR(dbl(1.0e21), "1.0E21");
    CHECK_STR(dbl(0.1 + 0.2), "0.30000000000000004");
    CHECK_STR(dbl(DBL_MAX), "1.7976931348623157E308");
    CHECK_STR(dbl(DBL_MIN), "2.2250738585072014E-308");
    /* One digit would read back, but two are closer: Java prints 4.9E-324. */
    CHECK_STR(dbl(4.9e-324), "4.9E-324");
    CHECK_STR(dbl(0.0), "0.0");
    CHECK_STR(dbl(-0.0), "-0.0");
    CHECK_STR(dbl(NAN), "\"NaN\"");
    CHECK_STR(dbl(INFINITY), "\"Infinity\"");
    CHECK_STR(dbl(-INFINITY), "\"-Infinity\"");
}

static void test_java_float(void)
{
    CHECK_STR(flt(0.1f), "0.1");
    CHECK_STR(flt(1.0f), "1.0");
    CHECK_STR(flt(1.1f), "1.1");
    CHECK_STR(flt(3.14159f), "3.14159");
    CHECK_STR(flt(-2.5f), "-2.5");
    CHECK_STR(flt(16777216.0f), "1.6777216E7");
    CHECK_STR(flt(1.0e-5f), "1.0E-5");
    CHECK_STR(flt(FLT_MAX), "3.4028235E38");
    CHECK_STR(flt(1.4e-45f), "1.4E-45");
    CHECK_STR(flt(-0.0f), "-0.0");
    CHECK_STR(flt(NAN), "\"NaN\"");
    CHECK_STR(flt(-INFINITY), "\"-Infinity\"");
}

static void test_java_double_binade_start(void)
{
    /* The interval below 2^-44 is narrow: 5.6843418860808015E-14 is the closest 17 digits. */
    CHECK_STR(dbl(ldexp(1, -44)), "5.684341886080802E-14");
    CHECK_STR(dbl(ldexp(1, 89)), "6.189700196426902E26");
    CHECK_STR(dbl(ldexp(1, 1023)), "8.98846567431158E307");
}

static void test_java_double_oracle_edges(void)
{
    mismatches = 0;
    for (int e = -1074; e <= 1023; e++)
        same_double(ldexp(1, e));
    for (int e = -323; e <= 308; e++) {
        char text[16];
        snprintf(text, sizeof text, "1e%d", e);
        same_double(strtod(text, NULL));
    }
    /* Subnormals: the smallest, whose one or two digits are special, and the largest. */
    for (uint64_t c = 1; c <= 20000; c++) {
        same_as_oracle(bits_double(c), 0);
        same_as_oracle(bits_double(((uint64_t)1 << 52) - c), 0);
    }
    for (int i = 0; i < 20000; i++)
        same_as_oracle(bits_double(rng() >> 12), 0);
    /* Integers, and fractions of the kind databases hold (the binlog benchmark's seq / 7). */
    for (int i = 1; i <= 20000; i++) {
        same_double(i);
        same_double(i / 7.0);
        same_double(i / 100.0);
    }
    same_double(DBL_MAX);
    same_double(DBL_MIN);
}

/*
 * Values whose rounding interval ends exactly on a short decimal, or that are one: v = c * 2^q
 * with 5^j dividing 2c - 1, 2c + 1 or c. The end belongs to the interval when c is even, and then
 * the short decimal is the answer; these are the integers that a rounded-up power of ten in buf.c
 * would see as fractions.
 */
static void test_java_decimal_boundaries(void)
{
    mismatches = 0;
    uint64_t p5 = 1;
    for (int j = 1; j <= 24; j++) {
        p5 *= 5;
        for (int q = 1; q <= 90; q++) {
            /* c = (p5 + 1) / 2 makes 2c - 1 a multiple; (p5 - 1) / 2, 2c + 1; 0, c itself. */
            uint64_t residues[] = {(p5 + 1) / 2, (p5 - 1) / 2, 0};
            for (int r = 0; r < 3; r++) {
                for (int parity = 0; parity < 2; parity++) {
                    uint64_t lo = (uint64_t)1 << 52, c = lo - lo % p5 + residues[r];
                    while (c < lo || (c & 1) != (uint64_t)parity)
                        c += p5;
                    if (c < (uint64_t)1 << 53)
                        same_as_oracle(ldexp((double)c, q), 0);
                    if (p5 >= 1u << 23)
                        continue;
                    lo = 1u << 23;
                    for (c = lo - lo % p5 + residues[r]; c < lo || (c & 1) != (uint64_t)parity;)
                        c += p5;
                    if (c < 1u << 24)
                        same_as_oracle(ldexpf((float)c, q), 1);
                }
            }
        }
    }
}

static void test_java_double_oracle_random(void)
{
    mismatches = 0;
    for (long i = random_count(); i > 0; i--)
        same_as_oracle(bits_double(rng()), 0);
}

static void test_java_float_oracle(void)
{
    mismatches = 0;
    for (int e = -149; e <= 127; e++)
        same_float(ldexpf(1, e));
    for (int e = -45; e <= 38; e++) {
        char text[16];
        snprintf(text, sizeof text, "1e%d", e);
        same_float(strtof(text, NULL));
    }
    for (uint32_t c = 1; c <= 20000; c++) {
        same_as_oracle(bits_float(c), 1);
        same_as_oracle(bits_float((1u << 23) - c), 1);
    }
    for (int i = 1; i <= 20000; i++) {
        same_float((float)i);
        same_float((float)i / 7);
    }
    same_float(FLT_MAX);
    same_float(FLT_MIN);
    for (long i = random_count(); i > 0; i--)
        same_as_oracle(bits_float((uint32_t)rng()), 1);
}

static void test_base64(void)
{
    CHECK_STR(b64("", 0), "\"\"");
    CHECK_STR(b64("f", 1), "\"Zg==\"");
    CHECK_STR(b64("fo", 2), "\"Zm8=\"");
    CHECK_STR(b64("foo", 3), "\"Zm9v\"");
    CHECK_STR(b64("foob", 4), "\"Zm9vYg==\"");
    CHECK_STR(b64("fooba", 5), "\"Zm9vYmE=\"");
    CHECK_STR(b64("foobar", 6), "\"Zm9vYmFy\"");
    CHECK_STR(b64("\xff\xfe\x00", 3), "\"//4A\"");
    CHECK_STR(b64("\xfb\xff", 2), "\"+/8=\"");
    buf_reset(&out);
    buf_json_base64url(&out, "\xfb\xff", 2);
    CHECK_STR(out.data, "\"-_8=\"");
}

static void test_cursor_reads(void)
{
    static const uint8_t data[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
    struct cursor c;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;

    cursor_init(&c, data, sizeof data);
    CHECK_INT(cursor_left(&c), 9);
    CHECK(cursor_u8(&c, &u8) && u8 == 0x01);
    CHECK(cursor_u16le(&c, &u16) && u16 == 0x0302);
    CHECK(cursor_u24le(&c, &u32) && u32 == 0x060504);
    CHECK(cursor_u16be(&c, &u16) && u16 == 0x0708);
    CHECK_INT(c.off, 8);
    CHECK(!cursor_u16le(&c, &u16));
    CHECK(!cursor_u16be(&c, &u16));
    CHECK_INT(c.off, 8);
    CHECK(cursor_u8(&c, &u8) && u8 == 0x09);
    CHECK(!cursor_u8(&c, &u8));
    CHECK_INT(cursor_left(&c), 0);

    cursor_init(&c, data, 8);
    CHECK(cursor_u64le(&c, &u64) && u64 == 0x0807060504030201ULL);
    cursor_init(&c, data, 8);
    CHECK(cursor_u64be(&c, &u64) && u64 == 0x0102030405060708ULL);
    cursor_init(&c, data, 7);
    CHECK(!cursor_u64le(&c, &u64) && !cursor_u64be(&c, &u64));
    CHECK(cursor_u48le(&c, &u64) && u64 == 0x060504030201ULL);
    cursor_init(&c, data, 3);
    CHECK(!cursor_u32le(&c, &u32) && !cursor_u32be(&c, &u32) && c.off == 0);
    CHECK(!cursor_uintle(&c, 0, &u64) && !cursor_uintle(&c, 9, &u64));
    CHECK(cursor_uintle(&c, 3, &u64) && u64 == 0x030201);
}

static void test_cursor_skip_bytes(void)
{
    static const uint8_t data[] = "abcdef";
    struct cursor c;
    const uint8_t *p;

    cursor_init(&c, data, 6);
    CHECK(!cursor_skip(&c, 7));
    CHECK(cursor_skip(&c, 2));
    CHECK(!cursor_bytes(&c, 5, &p));
    CHECK(cursor_bytes(&c, 4, &p) && memcmp(p, "cdef", 4) == 0);
    CHECK(cursor_bytes(&c, 0, &p));
    CHECK(!cursor_skip(&c, 1));
    CHECK(!cursor_skip(&c, SIZE_MAX));

    /* An empty cursor without data answers every read with false and no crash. */
    cursor_init(&c, NULL, 0);
    const char *s;
    size_t len;
    uint8_t u8;
    CHECK(!cursor_u8(&c, &u8));
    CHECK(!cursor_cstr(&c, &s, &len));
    CHECK(cursor_bytes(&c, 0, &p));
    CHECK(!cursor_bytes(&c, 1, &p));
}

static void test_cursor_cstr(void)
{
    static const uint8_t data[] = {'a', 'b', 0, 0, 'x', 'y'};
    struct cursor c;
    const char *s;
    size_t len;

    cursor_init(&c, data, sizeof data);
    CHECK(cursor_cstr(&c, &s, &len) && len == 2 && memcmp(s, "ab", 2) == 0);
    CHECK_INT(c.off, 3);
    CHECK(cursor_cstr(&c, &s, &len) && len == 0);
    CHECK_INT(c.off, 4);
    /* "xy" has no terminator inside the data. */
    CHECK(!cursor_cstr(&c, &s, &len));
    CHECK_INT(c.off, 4);
}

static void test_cursor_lenenc(void)
{
    struct cursor c;
    uint64_t v;
    static const uint8_t one[] = {0xFA};
    static const uint8_t two[] = {0xFC, 0x34, 0x12};
    static const uint8_t three[] = {0xFD, 0x56, 0x34, 0x12};
    static const uint8_t eight[] = {0xFE, 1, 2, 3, 4, 5, 6, 7, 8};
    static const uint8_t null_marker[] = {0xFB};
    static const uint8_t err_marker[] = {0xFF, 0, 0};
    static const uint8_t short_two[] = {0xFC, 0x34};
    static const uint8_t short_eight[] = {0xFE, 1, 2, 3, 4, 5, 6, 7};

    cursor_init(&c, one, sizeof one);
    CHECK(cursor_lenenc(&c, &v) && v == 250);
    cursor_init(&c, two, sizeof two);
    CHECK(cursor_lenenc(&c, &v) && v == 0x1234 && c.off == 3);
    cursor_init(&c, three, sizeof three);
    CHECK(cursor_lenenc(&c, &v) && v == 0x123456 && c.off == 4);
    cursor_init(&c, eight, sizeof eight);
    CHECK(cursor_lenenc(&c, &v) && v == 0x0807060504030201ULL && c.off == 9);
    cursor_init(&c, null_marker, sizeof null_marker);
    CHECK(!cursor_lenenc(&c, &v));
    cursor_init(&c, err_marker, sizeof err_marker);
    CHECK(!cursor_lenenc(&c, &v));
    cursor_init(&c, short_two, sizeof short_two);
    CHECK(!cursor_lenenc(&c, &v));
    cursor_init(&c, short_eight, sizeof short_eight);
    CHECK(!cursor_lenenc(&c, &v));
    cursor_init(&c, NULL, 0);
    CHECK(!cursor_lenenc(&c, &v));
}

int main(int argc, char **argv)
{
    static const struct unit_case cases[] = {
        {"growth, reset, take, printf", test_growth},
        {"json string escapes", test_json_string_escapes},
        {"json string utf-8 and replacement", test_json_string_utf8},
        {"json strings like the oracle", test_json_string_oracle},
        {"json integers", test_json_integers},
        {"doubles as Java prints them", test_java_double},
        {"floats as Java prints them", test_java_float},
        {"doubles at the start of a binade", test_java_double_binade_start},
        {"doubles like the oracle: powers, subnormals, fractions", test_java_double_oracle_edges},
        {"doubles and floats on short decimal boundaries", test_java_decimal_boundaries},
        {"doubles like the oracle: random bit patterns", test_java_double_oracle_random},
        {"floats like the oracle", test_java_float_oracle},
        {"base64", test_base64},
        {"cursor integer reads and bounds", test_cursor_reads},
        {"cursor skip and bytes", test_cursor_skip_bytes},
        {"cursor NUL-terminated strings", test_cursor_cstr},
        {"cursor length-encoded integers", test_cursor_lenenc},
        {NULL, NULL},
    };
    int rc = unit_main("buf", cases, argc, argv);
    buf_free(&out);
    buf_free(&want);
    return rc;
}
