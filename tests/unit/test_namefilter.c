/*
 * Unit tests of src/namefilter.c: anchoring, comma lists with blanks, case, include vs exclude
 * precedence and the error an invalid pattern gives.
 */
#include <string.h>

#include "../../src/config.h"
#include "../../src/namefilter.h"
#include "unit.h"

/* Compiles "table.include.list" = inc and "table.exclude.list" = exc (NULL: unset). */
static int compile(struct namefilter *f, const char *inc, const char *exc, struct error *err)
{
    struct config *cfg = config_new();
    if (inc)
        config_set(cfg, "table.include.list", inc);
    if (exc)
        config_set(cfg, "table.exclude.list", exc);
    int rc = namefilter_compile(f, cfg, "table", err);
    config_free(cfg);
    return rc;
}

static void test_anchored(void)
{
    struct namefilter f;
    struct error err = {0};
    CHECK_INT(compile(&f, "inventory.orders", NULL, &err), 0);
    CHECK(namefilter_admits(&f, "inventory.orders"));
    CHECK(namefilter_admits(&f, "INVENTORY.Orders"));
    CHECK(!namefilter_admits(&f, "inventory.orders_archive"));
    CHECK(!namefilter_admits(&f, "x_inventory.orders"));
    namefilter_free(&f);

    CHECK_INT(compile(&f, "a|b", NULL, &err), 0);
    CHECK(namefilter_admits(&f, "a"));
    CHECK(namefilter_admits(&f, "b"));
    CHECK(!namefilter_admits(&f, "ab"));
    CHECK(!namefilter_admits(&f, "bx"));
    namefilter_free(&f);

    CHECK_INT(compile(&f, NULL, "a|b", &err), 0);
    CHECK(!namefilter_admits(&f, "a"));
    CHECK(namefilter_admits(&f, "ab"));
    namefilter_free(&f);
}

static void test_comma_list(void)
{
    struct namefilter f;
    struct error err = {0};
    CHECK_INT(compile(&f, " s.t1 ,\ts\\.t[0-9]+ ,, ", NULL, &err), 0);
    CHECK_INT(f.inc.n, 2);
    CHECK(namefilter_admits(&f, "s.t1"));
    CHECK(namefilter_admits(&f, "s.t42"));
    CHECK(!namefilter_admits(&f, "sxt42"));
    CHECK(!namefilter_admits(&f, " s.t1 "));
    namefilter_free(&f);
    CHECK_INT(f.inc.n, 0);
}

static void test_empty(void)
{
    struct namefilter f;
    struct error err = {0};
    CHECK_INT(compile(&f, NULL, NULL, &err), 0);
    CHECK_INT(f.inc.n + f.exc.n, 0);
    CHECK(namefilter_admits(&f, "anything"));
    namefilter_free(&f);
    CHECK_INT(compile(&f, "", "", &err), 0);
    CHECK_INT(f.inc.n + f.exc.n, 0);
    CHECK(namefilter_admits(&f, "anything"));
    namefilter_free(&f);
}

static void test_precedence(void)
{
    struct namefilter f;
    struct error err = {0};
    CHECK_INT(compile(&f, "db\\..*", "db\\.secret", &err), 0);
    CHECK(namefilter_admits(&f, "db.orders"));
    CHECK(!namefilter_admits(&f, "db.secret"));
    CHECK(!namefilter_admits(&f, "other.orders"));
    namefilter_free(&f);
    CHECK_INT(compile(&f, NULL, "db\\.secret", &err), 0);
    CHECK(namefilter_admits(&f, "other.orders"));
    CHECK(!namefilter_admits(&f, "db.secret"));
    namefilter_free(&f);
}

static void test_invalid(void)
{
    struct namefilter f;
    struct error err = {0};
    CHECK_INT(compile(&f, "ok\\.a", "x, bad(", &err), -1);
    CHECK_STR(err.msg, "table.exclude.list: invalid regular expression \"bad(\"");
    CHECK_INT(f.inc.n + f.exc.n, 0);
    namefilter_free(&f);
    CHECK_INT(compile(&f, "[z", NULL, &err), -1);
    CHECK_STR(err.msg, "table.include.list: invalid regular expression \"[z\"");
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
