/*
 * namefilter: regex include/exclude lists, anchored and case-insensitive as Debezium's.
 */
#include "namefilter.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

static void list_free(struct namefilter_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        regfree(&l->re[i]);
    free(l->re);
    l->re = NULL;
    l->n = 0;
}

static int list_compile(struct namefilter_list *f, const struct config *cfg, const char *key,
                        struct error *err)
{
    const char *v = config_str(cfg, key, NULL);
    if (v == NULL || *v == '\0')
        return 0;
    char *copy = mem_strdup(v), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*tok))
            tok++;
        size_t l = strlen(tok);
        while (l && isspace((unsigned char)tok[l - 1]))
            tok[--l] = '\0';
        if (l == 0)
            continue;
        /* The group keeps an alternation inside the anchors: "a|b" must not become "^a|b$". */
        char *anchored = mem_alloc(l + 5);
        snprintf(anchored, l + 5, "^(%s)$", tok);
        f->re = mem_realloc(f->re, (f->n + 1) * sizeof *f->re);
        int rc = regcomp(&f->re[f->n], anchored, REG_EXTENDED | REG_ICASE | REG_NOSUB);
        free(anchored);
        if (rc != 0) {
            int e = error_set(err, "%s: invalid regular expression \"%s\"", key, tok);
            free(copy);
            return e;
        }
        f->n++;
    }
    free(copy);
    return 0;
}

static bool list_match(const struct namefilter_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (regexec(&l->re[i], s, 0, NULL, 0) == 0)
            return true;
    return false;
}

int namefilter_compile(struct namefilter *f, const struct config *cfg, const char *what,
                       struct error *err)
{
    char key[128];
    memset(f, 0, sizeof *f);
    snprintf(key, sizeof key, "%s.include.list", what);
    if (list_compile(&f->inc, cfg, key, err) < 0) {
        namefilter_free(f);
        return -1;
    }
    snprintf(key, sizeof key, "%s.exclude.list", what);
    if (list_compile(&f->exc, cfg, key, err) < 0) {
        namefilter_free(f);
        return -1;
    }
    return 0;
}

void namefilter_free(struct namefilter *f)
{
    list_free(&f->inc);
    list_free(&f->exc);
}

bool namefilter_admits(const struct namefilter *f, const char *s)
{
    if (f->inc.n && !list_match(&f->inc, s))
        return false;
    return !list_match(&f->exc, s);
}
