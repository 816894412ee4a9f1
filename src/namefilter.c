/*
 * namefilter: regex include/exclude lists, anchored and case-insensitive as Debezium's.
 */
#include "namefilter.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

int namefilter_compile(struct namefilter *f, const struct config *cfg, const char *key,
                       struct error *err)
{
    const char *v = config_str(cfg, key, NULL);
    f->re = NULL;
    f->n = 0;
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
            namefilter_free(f);
            return e;
        }
        f->n++;
    }
    free(copy);
    return 0;
}

void namefilter_free(struct namefilter *f)
{
    for (size_t i = 0; i < f->n; i++)
        regfree(&f->re[i]);
    free(f->re);
    f->re = NULL;
    f->n = 0;
}

bool namefilter_match(const struct namefilter *f, const char *s)
{
    for (size_t i = 0; i < f->n; i++)
        if (regexec(&f->re[i], s, 0, NULL, 0) == 0)
            return true;
    return false;
}

bool namefilter_admits(const struct namefilter *inc, const struct namefilter *exc, const char *s)
{
    if (inc->n && !namefilter_match(inc, s))
        return false;
    return !namefilter_match(exc, s);
}
