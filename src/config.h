/*
 * config: the connector's settings, read from one of the three forms a Debezium user already
 * has (the JSON body POSTed to Kafka Connect, a flat JSON object, a Debezium Server
 * application.properties) into one flat map of Debezium key names. Typed getters validate on
 * read and name the key in their error. `${env:NAME}` is replaced from the environment.
 *
 * Keys Debezium deployments carry that dbtail has no use for (tasks.max, converters,
 * schema.history.internal.*) are accepted and reported once as ignored. Values of keys whose
 * name contains "password" (or "secret", "sasl.jaas.config", "ssl.key") are never logged.
 */
#ifndef DBTAIL_CONFIG_H
#define DBTAIL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

struct config;

/** Reads FILE in whichever form it is; *out is new (config_free) on success. */
DBT_MUSTCHECK int config_load(const char *path, struct config **out, struct error *err);
/** Parses text already in memory; `origin` names it in messages. */
DBT_MUSTCHECK int config_parse(const char *text, const char *origin, struct config **out,
                               struct error *err);
/** Builds a config from a jansson object of string/number/bool values (Connect REST body). */
DBT_MUSTCHECK int config_from_json(const void *json_object, const char *origin, struct config **out,
                                   struct error *err);
struct config *config_new(void);
void config_free(struct config *cfg);

/** Sets or replaces a key (both strings copied). */
void config_set(struct config *cfg, const char *key, const char *value);
/** The raw value, or NULL when unset (borrowed from cfg). */
const char *config_get(const struct config *cfg, const char *key);
/** The connector's name (Connect body "name", or "name" key); NULL when none. */
const char *config_name(const struct config *cfg);

/** A copy of s without the white space (space, tab, CR, LF) Kafka's ConfigDef and Connect trim
 * from either end of a value or a connector name; the caller frees it. */
char *config_trimmed(const char *s);

/** The value or `def` when unset (borrowed). */
const char *config_str(const struct config *cfg, const char *key, const char *def);
/** A required string: error naming the key when unset or empty. */
DBT_MUSTCHECK int config_required(const struct config *cfg, const char *key, const char **out,
                                  struct error *err);
DBT_MUSTCHECK int config_int(const struct config *cfg, const char *key, int64_t def, int64_t min,
                             int64_t max, int64_t *out, struct error *err);
DBT_MUSTCHECK int config_bool(const struct config *cfg, const char *key, bool def, bool *out,
                              struct error *err);
/** One of `choices` (NULL-terminated), case-insensitive; *out is the index in choices, or -1
 * when the key is unset and def is NULL. */
DBT_MUSTCHECK int config_choice(const struct config *cfg, const char *key, const char *def,
                                const char *const *choices, int *out, struct error *err);

/** Calls fn for each key that starts with prefix, in file order; stops when fn returns < 0. */
int config_each(const struct config *cfg, const char *prefix,
                int (*fn)(void *ctx, const char *key, const char *value), void *ctx);

/** Checks the whole config (connector.class known, required keys, types); logs ignored keys
 * once. Returns -1 with the first problem. */
DBT_MUSTCHECK int config_validate(const struct config *cfg, struct error *err);

/** True when the key holds a secret that must never be printed. */
bool config_is_secret(const char *key);

/** Writes the Markdown table of every key dbtail reads (the one in docs/config.md). */
void config_write_reference(FILE *out);

#endif
