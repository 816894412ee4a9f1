/*
 * Unit tests of src/namefilter.c: anchoring, comma lists with blanks, case, include vs exclude
 * precedence and the error an invalid pattern gives.
 */
#include <string.h>

#include "../../src/config.h"
#include "../../src/namefilter.h"
#include "unit.h"

static int compile(struct namefilter *f, const char *key, const char *value, struct error *err)
{
    struct config *cfg = config_new();
    if (value)
        config_set(cfg, key, value);
    int rc = namefilter_compile(f, cfg, key, err);
    config_free(cfg);
    return rc;
}

static void test_anchored(void)
{
    struct namefilter f;
    struct error err = {0};
    CHECK_INT(compile(&f, "table.include.list", "inventory.orders", &err), 0);
    CHECK(namefilter_match(&f, "inventory.orders"));
    CHECK(namefilter_match(&f, "INVENTORY.Orders"));
    CHECK(!namefilter_match(&f, "inventory.orders_archive"));
    CHECK(!namefilter_match(&f, "x_inventory.orders"));
    namefilter_free(&f);

    CHECK_INT(compile(&f, "table.include.list", "a|b", &err), 0);
    CHECK(namefilter_match(&f, "a"));
    CHECK(namefilter_match(&f, "b"));
    CHECK(!namefilter_match(&f, "ab"));
    CHECK(!namefilter_match(&f, "bx"));
    namefilter_free(&f);
}

static void test_comma_list(void)
{
    struct namefilter f;
    struct error err = {0};
    CHECK_INT(compile(&f, "table.include.list", " s.t1 ,\ts\\.t[0-9]+ ,, ", &err), 0);
    CHECK_INT(f.n, 2);
    CHECK(namefilter_match(&f, "s.t1"));
    CHECK(namefilter_match(&f, "s.t42"));
    CHECK(!namefilter_match(&f, "sxt42"));
    CHECK(!namefilter_match(&f, " s.t1 "));
    namefilter_free(&f);
    CHECK_INT(f.n, 0);
}

static void test_empty(void)
{
    struct namefilter f;
    struct error err = {0};
    CHECK_INT(compile(&f, "table.include.list", NULL, &err), 0);
    CHECK_INT(f.n, 0);
    CHECK(!namefilter_match(&f, "anything"));
    namefilter_free(&f);
    CHECK_INT(compile(&f, "table.include.list", "", &err), 0);
    CHECK_INT(f.n, 0);
    namefilter_free(&f);
}

static void test_precedence(void)
{
    struct namefilter inc, exc, none;
    struct error err = {0};
    CHECK_INT(compile(&inc, "table.include.list", "db\\..*", &err), 0);
    CHECK_INT(compile(&exc, "table.exclude.list", "db\\.secret", &err), 0);
    CHECK_INT(compile(&none, "table.include.list", NULL, &err), 0);
    CHECK(namefilter_admits(&inc, &exc, "db.orders"));
    CHECK(!namefilter_admits(&inc, &exc, "db.secret"));
    CHECK(!namefilter_admits(&inc, &exc, "other.orders"));
    CHECK(namefilter_admits(&none, &exc, "other.orders"));
    CHECK(!namefilter_admits(&none, &exc, "db.secret"));
    CHECK(namefilter_admits(&none, &none, "anything"));
    namefilter_free(&inc);
    namefilter_free(&exc);
    namefilter_free(&none);
}

static void test_invalid(void)
{
    struct namefilter f;
    struct error err = {0};
    CHECK_INT(compile(&f, "column.exclude.list", "ok\\.a, bad(", &err), -1);
    CHECK_STR(err.msg, "column.exclude.list: invalid regular expression \"bad(\"");
    CHECK_INT(f.n, 0);
    namefilter_free(&f);
}

int main(int argc, char **argv)
{
    static const struct unit_case cases[] = {
        {"anchored", test_anchored},     {"comma_list", test_comma_list}, {"empty", test_empty},
        {"precedence", test_precedence}, {"invalid", test_invalid},       {NULL, NULL},
    };
    return unit_main("namefilter", cases, argc, argv);
}
