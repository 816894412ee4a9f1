/*
 * config: reads the three forms a Debezium user already has into one flat, insertion-ordered map
 * of Debezium key names, and checks it against one table of the keys dbtail knows (see config.h).
 * The same table prints the reference in docs/config.md, so the documentation cannot drift from
 * what validation accepts.
 *
 * Connector keys change over Debezium versions, so a key this table does not know is a warning,
 * never an error; a known key with a bad value is an error naming the key.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "cursor.h"
#include "log.h"
#include "mem.h"

#define CONNECTOR_PG      "io.debezium.connector.postgresql.PostgresConnector"
#define CONNECTOR_MYSQL   "io.debezium.connector.mysql.MySqlConnector"
#define CONNECTOR_MARIADB "io.debezium.connector.mariadb.MariaDbConnector"
#define TRANSFORM_UNWRAP  "io.debezium.transforms.ExtractNewRecordState"
#define JSON_CONVERTER    "org.apache.kafka.connect.json.JsonConverter"

struct config_entry {
    char *key;
    char *value;
};

struct config {
    struct config_entry *entries; /* owned, in first-insertion order */
    size_t n;
    size_t cap;
};

/* ---- the key table ---------------------------------------------------------------------- */

enum key_type {
    KT_STR,     /* any text */
    KT_LIST,    /* comma-separated names or regular expressions */
    KT_INT,     /* integer in [min, max] */
    KT_BOOL,    /* true or false */
    KT_CHOICE,  /* one of choices */
    KT_RATIO,   /* a number in [0, 1] */
    KT_BUCKETS, /* "auto" or an integer in [min, max] */
    KT_SINKS,   /* comma-separated entries of sink_choices */
};

/* Which connectors read a key: Debezium's PostgreSQL and MySQL connectors differ. */
enum { FOR_PG = 1, FOR_MYSQL = 2, FOR_ALL = FOR_PG | FOR_MYSQL };

enum {
    KF_REQUIRED = 1, /* config_validate fails without it */
    KF_RUN = 2,      /* not checked by config_validate but needed to run (docs only) */
    KF_PREFIX = 4,   /* key is a prefix: every key starting with it is accepted as is */
    KF_REFUSED = 8,  /* Debezium has it, dbtail cannot do it: a non-empty value is an error */
};

struct key_def {
    const char *key;
    enum key_type type;
    unsigned connectors;
    unsigned flags;
    const char *def; /* as the documentation shows it; NULL when there is none */
    int64_t min, max;
    const char *const *choices;
    const char *help;
};

#define CHOICES(...) ((const char *const[]){__VA_ARGS__, NULL})

static const char *const sslmode_choices[] = {"disable",   "allow",       "prefer", "require",
                                              "verify-ca", "verify-full", NULL};
static const char *const mysql_ssl_choices[] = {"disabled",  "preferred",       "required",
                                                "verify_ca", "verify_identity", NULL};
static const char *const snapshot_pg_choices[] = {"initial", "initial_only", "no_data", "never",
                                                  "always",  "when_needed",  NULL};
static const char *const snapshot_mysql_choices[] = {
    "initial",     "initial_only",         "no_data",  "never",       "always",
    "when_needed", "schema_only_recovery", "recovery", "schema_only", NULL};
static const char *const sink_choices[] = {"file", "kafka", "doris", NULL};
static const char *const log_level_choices[] = {"trace",   "debug", "info", "warn",
                                                "warning", "error", NULL};

static const struct key_def keys[] = {
    {"connector.class", KT_STR, FOR_ALL, KF_REQUIRED, NULL, 0, 0, NULL,
     "Which source to read: `" CONNECTOR_PG "`, `" CONNECTOR_MYSQL "` or `" CONNECTOR_MARIADB "`."},
    {"name", KT_STR, FOR_ALL, 0, NULL, 0, 0, NULL,
     "The connector's name (the `name` of a Kafka Connect body); recorded in the offsets file."},
    {"database.hostname", KT_STR, FOR_ALL, KF_REQUIRED, NULL, 0, 0, NULL,
     "Host name or IP address of the database server."},
    {"database.port", KT_INT, FOR_ALL, 0, "5432 (PostgreSQL), 3306 (MySQL/MariaDB)", 1, 65535, NULL,
     "TCP port of the database server."},
    {"database.user", KT_STR, FOR_ALL, KF_REQUIRED, NULL, 0, 0, NULL,
     "User to connect as (PostgreSQL: needs REPLICATION; MySQL: REPLICATION SLAVE, REPLICATION "
     "CLIENT, SELECT)."},
    {"database.password", KT_STR, FOR_ALL, 0, NULL, 0, 0, NULL,
     "Password of `database.user`; never logged. Use `${env:NAME}` to keep it out of the file."},
    {"database.dbname", KT_STR, FOR_PG, KF_REQUIRED, NULL, 0, 0, NULL,
     "The PostgreSQL database to capture."},
    {"database.server.id", KT_INT, FOR_MYSQL, KF_REQUIRED, NULL, 1, 4294967295, NULL,
     "Server id dbtail registers with as a replica; must differ from every other server and "
     "replica of the source."},
    {"database.sslmode", KT_CHOICE, FOR_PG, 0, "prefer", 0, 0, sslmode_choices,
     "TLS to PostgreSQL, as libpq's `sslmode`."},
    {"database.sslrootcert", KT_STR, FOR_PG, 0, NULL, 0, 0, NULL,
     "File of the CA certificates that verify the server (libpq `sslrootcert`)."},
    {"database.sslcert", KT_STR, FOR_PG, 0, NULL, 0, 0, NULL,
     "Client certificate file (libpq `sslcert`)."},
    {"database.sslkey", KT_STR, FOR_PG, 0, NULL, 0, 0, NULL,
     "Client private key file (libpq `sslkey`)."},
    {"database.ssl.mode", KT_CHOICE, FOR_MYSQL, 0, "preferred", 0, 0, mysql_ssl_choices,
     "TLS to MySQL/MariaDB."},
    {"topic.prefix", KT_STR, FOR_ALL, KF_REQUIRED, NULL, 0, 0, NULL,
     "First part of every topic name (`<prefix>.<db or schema>.<table>`) and of schema names."},
    {"database.include.list", KT_LIST, FOR_MYSQL, 0, NULL, 0, 0, NULL,
     "Regular expressions of the databases to capture (all when unset)."},
    {"database.exclude.list", KT_LIST, FOR_MYSQL, 0, NULL, 0, 0, NULL,
     "Regular expressions of the databases not to capture."},
    {"schema.include.list", KT_LIST, FOR_PG, 0, NULL, 0, 0, NULL,
     "Regular expressions of the schemas to capture (all when unset)."},
    {"schema.exclude.list", KT_LIST, FOR_PG, 0, NULL, 0, 0, NULL,
     "Regular expressions of the schemas not to capture."},
    {"table.include.list", KT_LIST, FOR_ALL, 0, NULL, 0, 0, NULL,
     "Regular expressions of the fully-qualified tables to capture (all when unset)."},
    {"table.exclude.list", KT_LIST, FOR_ALL, 0, NULL, 0, 0, NULL,
     "Regular expressions of the fully-qualified tables not to capture."},
    {"column.include.list", KT_LIST, FOR_ALL, 0, NULL, 0, 0, NULL,
     "Regular expressions of the fully-qualified columns to include in events."},
    {"column.exclude.list", KT_LIST, FOR_ALL, 0, NULL, 0, 0, NULL,
     "Regular expressions of the fully-qualified columns to leave out of events."},
    {"message.key.columns", KT_STR, FOR_ALL, 0, NULL, 0, 0, NULL,
     "Key columns for tables without a suitable primary key: `<table>:<col>,<col>;<table>:...`."},
    {"snapshot.mode", KT_CHOICE, FOR_PG, 0, "initial", 0, 0, snapshot_pg_choices,
     "When to take a snapshot of the existing rows."},
    {"snapshot.mode", KT_CHOICE, FOR_MYSQL, 0, "initial", 0, 0, snapshot_mysql_choices,
     "When to take a snapshot of the existing rows."},
    {"snapshot.locking.mode", KT_CHOICE, FOR_MYSQL, 0, "minimal", 0, 0,
     CHOICES("minimal", "none", "extended"), "How long the snapshot holds the global read lock."},
    {"snapshot.fetch.size", KT_INT, FOR_ALL, 0, "10240", 1, INT32_MAX, NULL,
     "Snapshot rows between two recorded positions (a crash resumes after the last one)."},
    {"slot.name", KT_STR, FOR_PG, 0, "debezium", 0, 0, NULL,
     "Logical replication slot to create or reuse."},
    {"publication.name", KT_STR, FOR_PG, 0, "dbz_publication", 0, 0, NULL,
     "Publication the pgoutput stream reads."},
    {"publication.autocreate.mode", KT_CHOICE, FOR_PG, 0, "all_tables", 0, 0,
     CHOICES("all_tables", "filtered", "disabled", "no_tables"),
     "Whether and how dbtail creates the publication when it does not exist."},
    {"plugin.name", KT_STR, FOR_PG, 0, "pgoutput", 0, 0, NULL, "Logical decoding plugin."},
    {"slot.drop.on.stop", KT_BOOL, FOR_PG, 0, "false", 0, 0, NULL,
     "Drop the replication slot when dbtail stops (tests only: the position is lost)."},
    {"decimal.handling.mode", KT_CHOICE, FOR_ALL, 0, "precise", 0, 0,
     CHOICES("precise", "string", "double"), "How DECIMAL/NUMERIC values appear in events."},
    {"time.precision.mode", KT_CHOICE, FOR_ALL, 0,
     "adaptive (PostgreSQL), adaptive_time_microseconds (MySQL/MariaDB)", 0, 0,
     CHOICES("adaptive", "adaptive_time_microseconds", "connect", "isostring"),
     "How temporal values appear in events."},
    {"binary.handling.mode", KT_CHOICE, FOR_ALL, 0, "bytes", 0, 0,
     CHOICES("bytes", "base64", "base64-url-safe", "hex"), "How binary values appear in events."},
    {"bigint.unsigned.handling.mode", KT_CHOICE, FOR_MYSQL, 0, "long", 0, 0,
     CHOICES("long", "precise"), "How BIGINT UNSIGNED values appear in events."},
    {"interval.handling.mode", KT_CHOICE, FOR_PG, 0, "numeric", 0, 0, CHOICES("numeric", "string"),
     "How INTERVAL values appear in events."},
    {"hstore.handling.mode", KT_CHOICE, FOR_PG, 0, "json", 0, 0, CHOICES("json", "map"),
     "How HSTORE values appear in events."},
    {"tombstones.on.delete", KT_BOOL, FOR_ALL, 0, "true", 0, 0, NULL,
     "Follow each delete event with a tombstone (a record with a null value)."},
    {"heartbeat.interval.ms", KT_INT, FOR_ALL, 0, "0", 0, INT32_MAX, NULL,
     "Interval of heartbeat records on `__debezium-heartbeat.<prefix>`; 0 disables them."},
    {"topic.heartbeat.prefix", KT_STR, FOR_ALL, 0, "__debezium-heartbeat", 0, 0, NULL,
     "First part of the heartbeat topic's name (`<this>.<topic.prefix>`)."},
    {"heartbeat.action.query", KT_STR, FOR_ALL, 0, NULL, 0, 0, NULL,
     "Statement run on the source at each heartbeat (keeps an idle PostgreSQL slot moving)."},
    {"include.schema.changes", KT_BOOL, FOR_MYSQL, 0, "true", 0, 0, NULL,
     "Write schema change events to the `<prefix>` topic."},
    {"include.query", KT_BOOL, FOR_MYSQL, 0, "false", 0, 0, NULL,
     "Put the statement that made a change in `source.query` (needs "
     "binlog_rows_query_log_events)."},
    {"provide.transaction.metadata", KT_BOOL, FOR_ALL, 0, "false", 0, 0, NULL,
     "Fill the `transaction` block of streamed events (id, total_order, data_collection_order) "
     "and write a BEGIN and an END record for each source transaction to "
     "`<prefix>.<topic.transaction>`."},
    {"topic.transaction", KT_STR, FOR_ALL, 0, "transaction", 0, 0, NULL,
     "Last part of the transaction metadata topic's name (`<topic.prefix>.<this>`)."},
    {"unavailable.value.placeholder", KT_STR, FOR_ALL, 0, "__debezium_unavailable_value", 0, 0,
     NULL, "Value written for a column the source did not send (unchanged TOASTed values)."},
    {"skipped.operations", KT_LIST, FOR_ALL, 0, "t", 0, 0, NULL,
     "Operations not written: a comma-separated list of `c` (insert), `u` (update), `d` (delete), "
     "`t` (truncate), or `none`."},
    {"transforms", KT_LIST, FOR_ALL, 0, NULL, 0, 0, NULL,
     "Names of the transforms to apply, in order; each needs `transforms.<name>.type`."},
    {"key.converter.schemas.enable", KT_BOOL, FOR_ALL, 0, "true", 0, 0, NULL,
     "Wrap record keys as `{\"schema\":...,\"payload\":...}` as JsonConverter does."},
    {"value.converter.schemas.enable", KT_BOOL, FOR_ALL, 0, "true", 0, 0, NULL,
     "Wrap record values as `{\"schema\":...,\"payload\":...}` as JsonConverter does."},
    {"offset.storage.file.filename", KT_STR, FOR_ALL, KF_RUN, NULL, 0, 0, NULL,
     "The offsets file where dbtail keeps its durable position, schemas and sink checkpoints."},
    {"offset.flush.interval.ms", KT_INT, FOR_ALL, 0, "1000", 0, 86400000, NULL,
     "How often the sinks are flushed and the durable position is written to the offsets file."},
    {"max.batch.size", KT_INT, FOR_ALL, 0, "2048", 1, INT32_MAX, NULL,
     "Most events handed to the sinks in one batch."},
    {"max.queue.size", KT_INT, FOR_ALL, 0, "8192", 1, INT32_MAX, NULL,
     "Most events buffered between the reader and the sinks."},
    {"poll.interval.ms", KT_INT, FOR_ALL, 0, "500", 0, 60000, NULL,
     "How long the pipeline waits for new events before it checks timers again."},
    {"sink.type", KT_SINKS, FOR_ALL, KF_REQUIRED, NULL, 0, 0, sink_choices,
     "Where changes go: a comma-separated list of `file`, `kafka`, `doris`."},
    {"sink.file.path", KT_STR, FOR_ALL, 0, "-", 0, 0, NULL,
     "File the `file` sink appends JSON lines to; `-` is standard output."},
    {"sink.kafka.", KT_STR, FOR_ALL, KF_PREFIX, NULL, 0, 0, NULL,
     "Passed to librdkafka without the prefix, e.g. `sink.kafka.bootstrap.servers` (required by "
     "the `kafka` sink)."},
    {"topic.creation.default.partitions", KT_INT, FOR_ALL, 0, NULL, -1, INT32_MAX, NULL,
     "Partitions of the topics the `kafka` sink creates (-1: the broker's default, 0 is not "
     "allowed); when neither this nor the replication factor is set, dbtail creates no topics."},
    {"topic.creation.default.replication.factor", KT_INT, FOR_ALL, 0, NULL, -1, 32767, NULL,
     "Replication factor of the topics the `kafka` sink creates (-1: the broker's default, 0 is "
     "not allowed)."},
    {"offsets.storage.topic", KT_STR, FOR_ALL, 0, "dbtail-offsets", 0, 0, NULL,
     "With `sink.kafka.transactional.id`: the topic where each Kafka transaction also records "
     "the source commit it ends, so a restart resumes exactly after it."},
    {"sink.doris.fenodes", KT_LIST, FOR_ALL, 0, NULL, 0, 0, NULL,
     "Doris frontends as `host:http_port`, comma-separated. Required by the `doris` sink."},
    {"sink.doris.username", KT_STR, FOR_ALL, 0, "root", 0, 0, NULL, "Doris user."},
    {"sink.doris.password", KT_STR, FOR_ALL, 0, NULL, 0, 0, NULL,
     "Password of the Doris user; never logged."},
    {"sink.doris.database", KT_STR, FOR_ALL, 0, NULL, 0, 0, NULL,
     "Doris database the tables are loaded into. Required by the `doris` sink."},
    {"sink.doris.table.name.format", KT_STR, FOR_ALL, 0, "{table}", 0, 0, NULL,
     "Name of the Doris table for a source table; `{db}`, `{schema}` and `{table}` are "
     "replaced by the source's names."},
    {"sink.doris.batch.rows", KT_INT, FOR_ALL, 0, "100000", 1, INT64_MAX, NULL,
     "A table's batch is loaded when it holds this many rows."},
    {"sink.doris.batch.bytes", KT_INT, FOR_ALL, 0, "94371840 (90 MiB)", 1, INT64_MAX / 4, NULL,
     "A table's batch is loaded when it holds this many bytes."},
    {"sink.doris.flush.interval.ms", KT_INT, FOR_ALL, 0, "1000", 0, INT32_MAX, NULL,
     "Batches are loaded at least this often."},
    {"sink.doris.max.filter.ratio", KT_RATIO, FOR_ALL, 0, "0", 0, 0, NULL,
     "Stream Load `max_filter_ratio`: share of rows Doris may reject before a load fails."},
    {"sink.doris.auto.create", KT_BOOL, FOR_ALL, 0, "true", 0, 0, NULL,
     "Create missing Doris tables (UNIQUE KEY on the source's primary key)."},
    {"sink.doris.buckets", KT_BUCKETS, FOR_ALL, 0, "auto", 1, INT32_MAX, NULL,
     "Buckets of the tables dbtail creates: `auto` (Doris's BUCKETS AUTO) or a number."},
    {"sink.doris.two.phase.commit", KT_BOOL, FOR_ALL, 0, "false", 0, 0, NULL,
     "Load with Stream Load two-phase commit."},
    {"sink.doris.max.retries", KT_INT, FOR_ALL, 0, "10", 0, INT32_MAX, NULL,
     "Retries of a failed load before dbtail stops."},
    {"sink.doris.request.timeout.ms", KT_INT, FOR_ALL, 0, "120000", 1, INT32_MAX, NULL,
     "Timeout of one HTTP request to Doris."},
    {"sink.doris.properties.", KT_STR, FOR_ALL, KF_PREFIX, NULL, 0, 0, NULL,
     "Extra Stream Load headers, e.g. `sink.doris.properties.strict_mode=true`."},
    {"sink.doris.table.properties.", KT_STR, FOR_ALL, KF_PREFIX, NULL, 0, 0, NULL,
     "PROPERTIES of the tables dbtail creates, e.g. "
     "`sink.doris.table.properties.replication_num=1`."},
    {"log.level", KT_CHOICE, FOR_ALL, 0, "info", 0, 0, log_level_choices,
     "Lowest level of the log lines written to standard error."},
    {"log.format", KT_CHOICE, FOR_ALL, 0, "text", 0, 0, CHOICES("text", "json"),
     "Log lines as text or as one JSON object each."},
    {"metrics.port", KT_INT, FOR_ALL, 0, NULL, 1, 65535, NULL,
     "Port of the Prometheus `/metrics` endpoint; none when unset."},
    {"shutdown.timeout.ms", KT_INT, FOR_ALL, 0, "10000", 0, 86400000, NULL,
     "How long a stop waits for the sinks to flush."},
};

/* Keys where Debezium accepts more than dbtail implements: any value but `only` is refused. */
static const struct {
    const char *key;
    const char *only;
    const char *refusal;
} limits[] = {
    {"plugin.name", "pgoutput",
     "only pgoutput is supported (decoderbufs/wal2json need server extensions dbtail does not "
     "use)"},
    {"hstore.handling.mode", "json", "only json is supported"},
};

static int limit_index(const struct key_def *d)
{
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        if (strcmp(limits[i].key, d->key) == 0)
            return (int)i;
    }
    return -1;
}

/* Options of io.debezium.transforms.ExtractNewRecordState, as transforms.<name>.<option>. */
static const struct key_def unwrap_options[] = {
    {"type", KT_STR, FOR_ALL, KF_REQUIRED, NULL, 0, 0, NULL,
     "The transform's class; only `" TRANSFORM_UNWRAP "` is supported."},
    {"add.fields", KT_LIST, FOR_ALL, 0, NULL, 0, 0, NULL,
     "Fields of the envelope to add to the flattened value, e.g. `op,table,source.ts_ms`."},
    {"add.fields.prefix", KT_STR, FOR_ALL, 0, "__", 0, 0, NULL, "Prefix of the added fields."},
    {"add.headers", KT_LIST, FOR_ALL, 0, NULL, 0, 0, NULL,
     "Fields of the envelope to add as record headers."},
    {"add.headers.prefix", KT_STR, FOR_ALL, 0, "__", 0, 0, NULL, "Prefix of the added headers."},
    {"delete.tombstone.handling.mode", KT_CHOICE, FOR_ALL, 0, "tombstone", 0, 0,
     CHOICES("tombstone", "drop", "rewrite", "rewrite-with-tombstone", "delete-to-tombstone"),
     "What becomes of delete events and tombstones."},
    {"delete.handling.mode", KT_CHOICE, FOR_ALL, 0, "drop", 0, 0,
     CHOICES("none", "drop", "rewrite"),
     "Legacy form of `delete.tombstone.handling.mode` (removed in Debezium 3.2)."},
    {"drop.tombstones", KT_BOOL, FOR_ALL, 0, "true", 0, 0, NULL,
     "Legacy form of `delete.tombstone.handling.mode` (removed in Debezium 3.2)."},
    {"route.by.field", KT_STR, FOR_ALL, KF_REFUSED, NULL, 0, 0, NULL,
     "routing by a field is not supported"},
    {"replace.null.with.default", KT_BOOL, FOR_ALL, 0, "true", 0, 0, NULL,
     "Write a column's default value where the row has NULL."},
};

/* Keys Kafka Connect and Debezium deployments carry that mean nothing to dbtail. A pattern
 * ending in '*' is a prefix. Checked after the key table, so the used members of these
 * families (offset.flush.interval.ms, key.converter.schemas.enable, ...) are found first. */
static const char *const ignored_keys[] = {
    "tasks.max",
    "key.converter",
    "value.converter",
    "header.converter",
    "key.converter.*",
    "value.converter.*",
    "header.converter.*",
    "schema.history.internal",
    "schema.history.internal.*",
    "database.history",
    "database.history.*",
    "errors.*",
    "offset.flush.*",
    "offset.storage",
    "offset.storage.*",
    "config.action.reload",
    "predicates*",
    "consumer.override.*",
    "producer.override.*",
    "topic.creation.*",
    "database.ssl.truststore*",
    "database.ssl.keystore*",
};

static bool pattern_match(const char *pattern, const char *key)
{
    size_t n = strlen(pattern);
    if (n > 0 && pattern[n - 1] == '*')
        return strncmp(pattern, key, n - 1) == 0;
    return strcmp(pattern, key) == 0;
}

static bool def_match(const struct key_def *d, const char *key)
{
    if (d->flags & KF_PREFIX)
        return strncmp(d->key, key, strlen(d->key)) == 0 && key[strlen(d->key)] != '\0';
    return strcmp(d->key, key) == 0;
}

/* The definition of key for these connectors, or NULL. */
static const struct key_def *key_lookup(const char *key, unsigned connectors)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if ((keys[i].connectors & connectors) && def_match(&keys[i], key))
            return &keys[i];
    }
    return NULL;
}

static bool key_ignored(const char *key)
{
    for (size_t i = 0; i < sizeof ignored_keys / sizeof ignored_keys[0]; i++) {
        if (pattern_match(ignored_keys[i], key))
            return true;
    }
    return false;
}

/* ---- the map ---------------------------------------------------------------------------- */

struct config *config_new(void)
{
    return mem_calloc(1, sizeof(struct config));
}

void config_free(struct config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->n; i++) {
        free(cfg->entries[i].key);
        free(cfg->entries[i].value);
    }
    free(cfg->entries);
    free(cfg);
}

static struct config_entry *config_find(const struct config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->n; i++) {
        if (strcmp(cfg->entries[i].key, key) == 0)
            return &cfg->entries[i];
    }
    return NULL;
}

void config_set(struct config *cfg, const char *key, const char *value)
{
    struct config_entry *e = config_find(cfg, key);
    if (e) {
        char *copy = mem_strdup(value);
        free(e->value);
        e->value = copy;
        return;
    }
    if (cfg->n == cfg->cap) {
        cfg->cap = cfg->cap ? cfg->cap * 2 : 32;
        cfg->entries = mem_realloc(cfg->entries, cfg->cap * sizeof cfg->entries[0]);
    }
    cfg->entries[cfg->n].key = mem_strdup(key);
    cfg->entries[cfg->n].value = mem_strdup(value);
    cfg->n++;
}

const char *config_get(const struct config *cfg, const char *key)
{
    const struct config_entry *e = config_find(cfg, key);
    return e ? e->value : NULL;
}

const char *config_name(const struct config *cfg)
{
    return config_get(cfg, "name");
}

int config_each(const struct config *cfg, const char *prefix,
                int (*fn)(void *ctx, const char *key, const char *value), void *ctx)
{
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < cfg->n; i++) {
        if (strncmp(cfg->entries[i].key, prefix, plen) != 0)
            continue;
        int rc = fn(ctx, cfg->entries[i].key, cfg->entries[i].value);
        if (rc < 0)
            return rc;
    }
    return 0;
}

bool config_is_secret(const char *key)
{
    static const char *const words[] = {"password", "secret", "sasl.jaas.config", "ssl.key"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strcasestr(key, words[i]))
            return true;
    }
    return false;
}

/* ---- typed getters ---------------------------------------------------------------------- */

/* The value as an error message may show it: quoted, or withheld for secrets. */
static const char *shown(const char *key, const char *value, char *out, size_t outlen)
{
    if (config_is_secret(key))
        snprintf(out, outlen, "a value that is not shown (secret)");
    else
        snprintf(out, outlen, "\"%s\"", value);
    return out;
}

/* Kafka's ConfigDef trims typed values before parsing them; so do we. */
char *config_trimmed(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    return mem_strndup(s, n);
}

const char *config_str(const struct config *cfg, const char *key, const char *def)
{
    const char *v = config_get(cfg, key);
    return v ? v : def;
}

int config_required(const struct config *cfg, const char *key, const char **out, struct error *err)
{
    const char *v = config_get(cfg, key);
    if (v == NULL || v[0] == '\0')
        return error_set(err, "%s: required", key);
    *out = v;
    return 0;
}

/* Parses a whole decimal integer; false when the text is not one or overflows int64. */
static bool parse_int64(const char *text, int64_t *out, bool *overflow)
{
    char *end;
    *overflow = false;
    if (text[0] == '\0')
        return false;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (*end != '\0' || end == text)
        return false;
    if (errno == ERANGE) {
        *overflow = true;
        return false;
    }
    *out = v;
    return true;
}

int config_int(const struct config *cfg, const char *key, int64_t def, int64_t min, int64_t max,
               int64_t *out, struct error *err)
{
    const char *raw = config_get(cfg, key);
    if (raw == NULL) {
        *out = def;
        return 0;
    }
    char *text = config_trimmed(raw);
    char what[128];
    int64_t v;
    bool overflow;
    int rc = 0;
    if (!parse_int64(text, &v, &overflow)) {
        if (overflow)
            rc = error_set(err, "%s: %s is out of range (%" PRId64 "..%" PRId64 ")", key,
                           shown(key, text, what, sizeof what), min, max);
        else
            rc = error_set(err, "%s: expected an integer, got %s", key,
                           shown(key, text, what, sizeof what));
    } else if (v < min || v > max) {
        rc = error_set(err, "%s: %s is out of range (%" PRId64 "..%" PRId64 ")", key,
                       config_is_secret(key) ? "the value" : text, min, max);
    } else {
        *out = v;
    }
    free(text);
    return rc;
}

int config_bool(const struct config *cfg, const char *key, bool def, bool *out, struct error *err)
{
    const char *raw = config_get(cfg, key);
    if (raw == NULL) {
        *out = def;
        return 0;
    }
    char *text = config_trimmed(raw);
    char what[128];
    int rc = 0;
    if (strcasecmp(text, "true") == 0)
        *out = true;
    else if (strcasecmp(text, "false") == 0)
        *out = false;
    else
        rc = error_set(err, "%s: expected true or false, got %s", key,
                       shown(key, text, what, sizeof what));
    free(text);
    return rc;
}

static int choice_index(const char *const *choices, const char *text)
{
    for (int i = 0; choices[i]; i++) {
        if (strcasecmp(choices[i], text) == 0)
            return i;
    }
    return -1;
}

static void choice_list(const char *const *choices, struct buf *b)
{
    for (int i = 0; choices[i]; i++)
        buf_printf(b, "%s%s", i ? ", " : "", choices[i]);
}

int config_choice(const struct config *cfg, const char *key, const char *def,
                  const char *const *choices, int *out, struct error *err)
{
    const char *raw = config_get(cfg, key);
    if (raw == NULL && def == NULL) {
        *out = -1;
        return 0;
    }
    char *text = config_trimmed(raw ? raw : def);
    int idx = choice_index(choices, text);
    int rc = 0;
    if (idx < 0) {
        struct buf list;
        char what[128];
        buf_init(&list);
        choice_list(choices, &list);
        rc = error_set(err, "%s: %s is not one of %s", key, shown(key, text, what, sizeof what),
                       list.data);
        buf_free(&list);
    } else {
        *out = idx;
    }
    free(text);
    return rc;
}

/* ---- ${env:NAME} references ------------------------------------------------------------- */

/* Replaces each ${env:NAME} in raw. `where` prefixes messages ("FILE:LINE: "). A ${NAME}
 * without a provider is left as it is, as Kafka Connect does, but worth a warning: Debezium
 * Server (Quarkus) would have expanded it. */
static int expand_value(const char *where, const char *key, const char *raw, char **out,
                        struct error *err)
{
    struct buf b;
    bool warned = false;
    buf_init(&b);
    buf_puts(&b, "");
    const char *p = raw;
    for (;;) {
        const char *ref = strstr(p, "${");
        const char *close = ref ? strchr(ref + 2, '}') : NULL;
        if (close == NULL) {
            buf_puts(&b, p);
            break;
        }
        buf_append(&b, p, (size_t)(ref - p));
        const char *body = ref + 2;
        size_t body_len = (size_t)(close - body);
        const char *colon = memchr(body, ':', body_len);
        if (colon == NULL) {
            if (!warned)
                log_warn("config",
                         "%s%s: ${%.*s} is not expanded (write ${env:%.*s} to read the "
                         "environment)",
                         where, key, (int)body_len, body, (int)body_len, body);
            warned = true;
            buf_append(&b, ref, (size_t)(close + 1 - ref));
            p = close + 1;
            continue;
        }
        size_t provider_len = (size_t)(colon - body);
        if (provider_len != 3 || strncmp(body, "env", 3) != 0) {
            buf_free(&b);
            return error_set(err,
                             "%s%s: ${%.*s} needs Kafka Connect's \"%.*s\" config provider, which "
                             "dbtail does not have (use ${env:NAME})",
                             where, key, (int)body_len, body, (int)provider_len, body);
        }
        /* ${env::NAME} (an empty path) is the same reference in Kafka's syntax. */
        const char *name = colon + 1;
        if (name < close && *name == ':')
            name++;
        size_t name_len = (size_t)(close - name);
        if (name_len == 0 || memchr(name, ':', name_len) != NULL) {
            buf_free(&b);
            return error_set(err, "%s%s: ${%.*s} is not a valid reference (use ${env:NAME})", where,
                             key, (int)body_len, body);
        }
        char *var = mem_strndup(name, name_len);
        const char *val = getenv(var);
        if (val == NULL) {
            error_set(err, "%s%s: environment variable %s is not set", where, key, var);
            free(var);
            buf_free(&b);
            return -1;
        }
        free(var);
        buf_puts(&b, val);
        p = close + 1;
    }
    *out = buf_take(&b);
    return 0;
}

/* Expands references in value and stores it under key. */
static int config_add(struct config *cfg, const char *where, const char *key, const char *value,
                      struct error *err)
{
    char *expanded;
    if (expand_value(where, key, value, &expanded, err) < 0)
        return -1;
    config_set(cfg, key, expanded);
    free(expanded);
    return 0;
}

/* ---- JSON forms ------------------------------------------------------------------------- */

/* Shortest text that reads back as the same double, in plain notation where that is short
 * (1500, 0.25), so a number reads as the same string a person would have quoted. */
static void real_text(double v, char *out, size_t outlen)
{
    double mag = v < 0 ? -v : v;
    if (mag == 0 || (mag >= 1e-6 && mag < 1e15)) {
        for (int decimals = 0; decimals <= 21; decimals++) {
            snprintf(out, outlen, "%.*f", decimals, v);
            if (strtod(out, NULL) == v)
                return;
        }
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, outlen, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

static int load_flat_object(struct config *cfg, const json_t *obj, const char *origin,
                            struct error *err)
{
    const char *key;
    json_t *value;
    char where[ERROR_MSG_MAX / 2];
    snprintf(where, sizeof where, "%s: ", origin);
    json_object_foreach((json_t *)obj, key, value)
    {
        char num[64];
        const char *text;
        switch (json_typeof(value)) {
        case JSON_STRING:
            text = json_string_value(value);
            break;
        case JSON_INTEGER:
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
            text = num;
            break;
        case JSON_REAL:
            real_text(json_real_value(value), num, sizeof num);
            text = num;
            break;
        case JSON_TRUE:
            text = "true";
            break;
        case JSON_FALSE:
            text = "false";
            break;
        case JSON_NULL:
            /* Kafka Connect reads a null as "not set". */
            continue;
        case JSON_OBJECT:
        case JSON_ARRAY:
        default:
            return error_set(err, "%s: %s: expected a string, number or boolean, got %s", origin,
                             key, json_is_object(value) ? "an object" : "an array");
        }
        if (config_add(cfg, where, key, text, err) < 0)
            return -1;
    }
    return 0;
}

int config_from_json(const void *json_object, const char *origin, struct config **out,
                     struct error *err)
{
    const json_t *root = json_object;
    if (!json_is_object(root))
        return error_set(err, "%s: expected a JSON object", origin);

    /* The Kafka Connect body: {"name": "...", "config": {...}}. */
    const json_t *inner = json_object_get(root, "config");
    const json_t *name = NULL;
    if (json_is_object(inner)) {
        const char *key;
        json_t *value;
        json_object_foreach((json_t *)root, key, value)
        {
            if (strcmp(key, "config") != 0 && strcmp(key, "name") != 0)
                log_warn("config", "%s: ignoring \"%s\" next to \"config\"", origin, key);
        }
        name = json_object_get(root, "name");
        if (name && !json_is_string(name))
            return error_set(err, "%s: name: expected a string", origin);
    } else {
        inner = root;
    }

    struct config *cfg = config_new();
    if (load_flat_object(cfg, inner, origin, err) < 0) {
        config_free(cfg);
        return -1;
    }
    if (name) {
        /* As Kafka Connect: the body's name is the connector's; a different one inside the
         * config is a mistake worth stopping for. */
        const char *inner_name = config_get(cfg, "name");
        if (inner_name && strcmp(inner_name, json_string_value(name)) != 0) {
            error_set(err, "%s: name \"%s\" differs from config's name \"%s\"", origin,
                      json_string_value(name), inner_name);
            config_free(cfg);
            return -1;
        }
        config_set(cfg, "name", json_string_value(name));
    }
    *out = cfg;
    return 0;
}

static int parse_json(const char *text, size_t len, const char *origin, struct config **out,
                      struct error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    if (root == NULL)
        return error_set(err, "%s:%d:%d: invalid JSON: %s", origin, jerr.line, jerr.column,
                         jerr.text);
    int rc = config_from_json(root, origin, out, err);
    json_decref(root);
    return rc;
}

/* ---- application.properties ------------------------------------------------------------- */

static bool prop_space(char c)
{
    return c == ' ' || c == '\t' || c == '\f';
}

static bool prop_eol(char c)
{
    return c == '\n' || c == '\r';
}

/* Reads the 4 hex digits of a \uXXXX escape at s[*i] (just after the 'u'). */
static bool read_u16(const char *s, size_t n, size_t *i, unsigned *out)
{
    unsigned v = 0;
    if (*i + 4 > n)
        return false;
    for (size_t k = 0; k < 4; k++) {
        int d = cursor_hex_digit(s[*i + k]);
        if (d < 0)
            return false;
        v = v * 16 + (unsigned)d;
    }
    *i += 4;
    *out = v;
    return true;
}

static void put_utf8(struct buf *b, unsigned cp)
{
    if (cp < 0x80) {
        buf_putc(b, (char)cp);
    } else if (cp < 0x800) {
        buf_putc(b, (char)(0xC0 | (cp >> 6)));
        buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        buf_putc(b, (char)(0xE0 | (cp >> 12)));
        buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else {
        buf_putc(b, (char)(0xF0 | (cp >> 18)));
        buf_putc(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
        buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
        buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    }
}

/* Undoes java.util.Properties escapes in s[0..n) into out (\t \n \r \f \uXXXX; any other
 * escaped character stands for itself). \u escapes are UTF-16 code units, so a surrogate pair
 * is one character. */
static int prop_unescape(const char *s, size_t n, struct buf *out, const char *where,
                         struct error *err)
{
    buf_reset(out);
    buf_puts(out, "");
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            buf_putc(out, s[i]);
            continue;
        }
        if (++i == n)
            break;
        switch (s[i]) {
        case 't':
            buf_putc(out, '\t');
            break;
        case 'n':
            buf_putc(out, '\n');
            break;
        case 'r':
            buf_putc(out, '\r');
            break;
        case 'f':
            buf_putc(out, '\f');
            break;
        case 'u': {
            unsigned cp, low;
            i++;
            if (!read_u16(s, n, &i, &cp))
                return error_set(err, "%smalformed \\uXXXX escape", where);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (i + 2 > n || s[i] != '\\' || s[i + 1] != 'u')
                    return error_set(err, "%s\\u%04X is half of a surrogate pair", where, cp);
                i += 2;
                if (!read_u16(s, n, &i, &low))
                    return error_set(err, "%smalformed \\uXXXX escape", where);
                if (low < 0xDC00 || low > 0xDFFF)
                    return error_set(err, "%s\\u%04X is half of a surrogate pair", where, cp);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return error_set(err, "%s\\u%04X is half of a surrogate pair", where, cp);
            } else if (cp == 0) {
                return error_set(err, "%s\\u0000 is not allowed", where);
            }
            put_utf8(out, cp);
            i--; /* the loop's i++ steps past the last digit */
            break;
        }
        default:
            buf_putc(out, s[i]);
            break;
        }
    }
    return 0;
}

struct props_state {
    const char *origin;
    int quarkus_ignored;
};

/* Translates a Debezium Server key into dbtail's (the map's) name. Returns 1 with *mapped set
 * (a new string), 0 when the key is to be skipped, -1 on error. */
static int map_server_key(struct props_state *ps, const char *where, const char *key,
                          const char *value, char **mapped, struct error *err)
{
    static const struct {
        const char *from;
        const char *to;
    } renames[] = {
        {"debezium.sink.type", "sink.type"},
        {"debezium.format.value.schemas.enable", "value.converter.schemas.enable"},
        {"debezium.format.key.schemas.enable", "key.converter.schemas.enable"},
    };
    static const struct {
        const char *from;
        const char *to;
    } prefixes[] = {
        {"debezium.source.", ""},
        {"debezium.sink.kafka.producer.", "sink.kafka."},
    };

    if (strncmp(key, "quarkus.", 8) == 0) {
        ps->quarkus_ignored++;
        return 0;
    }
    if (strncmp(key, "debezium.", 9) != 0) {
        *mapped = mem_strdup(key);
        return 1;
    }
    for (size_t i = 0; i < sizeof renames / sizeof renames[0]; i++) {
        if (strcmp(key, renames[i].from) == 0) {
            *mapped = mem_strdup(renames[i].to);
            return 1;
        }
    }
    if (strcmp(key, "debezium.format.value") == 0 || strcmp(key, "debezium.format.key") == 0) {
        if (strcasecmp(value, "json") != 0)
            return error_set(err, "%s%s: dbtail writes json only, got \"%s\"", where, key, value);
        return 0;
    }
    /* Java's Kafka client needs these; librdkafka has no such property and always sends the
     * bytes dbtail renders. */
    if (strcmp(key, "debezium.sink.kafka.producer.key.serializer") == 0 ||
        strcmp(key, "debezium.sink.kafka.producer.value.serializer") == 0) {
        log_info("config", "%signoring %s: dbtail writes the JSON text itself", where, key);
        return 0;
    }
    if (strcmp(key, "debezium.transforms") == 0 || strncmp(key, "debezium.transforms.", 20) == 0) {
        *mapped = mem_strdup(key + 9);
        return 1;
    }
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i].from);
        if (strncmp(key, prefixes[i].from, n) == 0 && key[n] != '\0') {
            struct buf b;
            buf_init(&b);
            buf_printf(&b, "%s%s", prefixes[i].to, key + n);
            *mapped = buf_take(&b);
            return 1;
        }
    }
    /* debezium.sink.kafka.* outside producer.* configure Debezium Server's Java sink, not the
     * Kafka client: as sink.kafka.* they would reach librdkafka, which would refuse them. */
    if (strncmp(key, "debezium.sink.", 14) == 0 && strncmp(key, "debezium.sink.kafka.", 20) != 0 &&
        key[14] != '\0') {
        *mapped = mem_strdup(key + 9);
        return 1;
    }
    log_warn("config", "%signoring %s: dbtail has no use for this Debezium Server setting", where,
             key);
    return 0;
}

static int props_line(struct config *cfg, struct props_state *ps, const char *line, size_t n,
                      int lineno, struct error *err)
{
    char where[ERROR_MSG_MAX / 2];
    snprintf(where, sizeof where, "%s:%d: ", ps->origin, lineno);

    /* The key ends at the first unescaped '=', ':' or white space. */
    size_t i = 0;
    bool has_sep = false;
    while (i < n) {
        char c = line[i];
        if (c == '\\') {
            i += 2;
            continue;
        }
        if (c == '=' || c == ':') {
            has_sep = true;
            break;
        }
        if (prop_space(c))
            break;
        i++;
    }
    size_t key_end = i < n ? i : n;
    size_t v = key_end < n ? key_end + 1 : n;
    while (v < n && prop_space(line[v]))
        v++;
    if (!has_sep && v < n && (line[v] == '=' || line[v] == ':')) {
        v++;
        while (v < n && prop_space(line[v]))
            v++;
    }

    struct buf key, value;
    buf_init(&key);
    buf_init(&value);
    int rc = -1;
    char *mapped = NULL;
    if (prop_unescape(line, key_end, &key, where, err) < 0 ||
        prop_unescape(line + v, n - v, &value, where, err) < 0)
        goto out;
    if (key.len == 0) {
        error_set(err, "%sempty key", where);
        goto out;
    }
    int m = map_server_key(ps, where, key.data, value.data, &mapped, err);
    if (m < 0)
        goto out;
    if (m > 0 && config_add(cfg, where, mapped, value.data, err) < 0)
        goto out;
    rc = 0;
out:
    free(mapped);
    buf_free(&key);
    buf_free(&value);
    return rc;
}

/* Splits text into java.util.Properties logical lines (comments and blank lines dropped,
 * backslash continuations joined with the next line's leading white space removed). */
static int parse_properties(const char *text, size_t len, const char *origin, struct config **out,
                            struct error *err)
{
    struct props_state ps = {origin, 0};
    struct config *cfg = config_new();
    struct buf line;
    size_t pos = 0;
    int lineno = 1;
    buf_init(&line);

    while (pos < len) {
        while (pos < len && prop_space(text[pos]))
            pos++;
        if (pos == len)
            break;
        bool comment = text[pos] == '#' || text[pos] == '!';
        if (comment || prop_eol(text[pos])) {
            while (pos < len && !prop_eol(text[pos]))
                pos++;
            if (pos < len && text[pos] == '\r')
                pos++;
            if (pos < len && text[pos] == '\n')
                pos++;
            lineno++;
            continue;
        }

        int start_line = lineno;
        buf_reset(&line);
        for (;;) {
            size_t seg = pos;
            while (pos < len && !prop_eol(text[pos]))
                pos++;
            size_t backslashes = 0;
            while (backslashes < pos - seg && text[pos - 1 - backslashes] == '\\')
                backslashes++;
            bool more = backslashes % 2 == 1;
            buf_append(&line, text + seg, pos - seg - (more ? 1 : 0));
            if (pos < len && text[pos] == '\r')
                pos++;
            if (pos < len && text[pos] == '\n')
                pos++;
            lineno++;
            if (!more || pos == len)
                break;
            while (pos < len && prop_space(text[pos]))
                pos++;
        }
        if (props_line(cfg, &ps, line.data ? line.data : "", line.len, start_line, err) < 0) {
            buf_free(&line);
            config_free(cfg);
            return -1;
        }
    }
    buf_free(&line);
    if (ps.quarkus_ignored)
        log_info("config",
                 "%s: ignoring %d quarkus.* setting%s: dbtail is not a Quarkus "
                 "application",
                 origin, ps.quarkus_ignored, ps.quarkus_ignored == 1 ? "" : "s");
    *out = cfg;
    return 0;
}

/* ---- entry points ----------------------------------------------------------------------- */

static int parse_text(const char *text, size_t len, const char *origin, struct config **out,
                      struct error *err)
{
    size_t i = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    size_t body = i;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    if (i < len && text[i] == '{')
        return parse_json(text + body, len - body, origin, out, err);
    if (memchr(text, '\0', len) != NULL)
        return error_set(err, "%s: NUL byte in a properties file", origin);
    return parse_properties(text + body, len - body, origin, out, err);
}

int config_parse(const char *text, const char *origin, struct config **out, struct error *err)
{
    return parse_text(text, strlen(text), origin, out, err);
}

int config_load(const char *path, struct config **out, struct error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return error_set(err, "cannot read config %s: %s", path, strerror(errno));
    struct buf b;
    char chunk[8192];
    size_t n;
    buf_init(&b);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    if (ferror(f)) {
        int e = errno;
        fclose(f);
        buf_free(&b);
        return error_set(err, "cannot read config %s: %s", path, strerror(e));
    }
    fclose(f);
    int rc = parse_text(b.data ? b.data : "", b.len, path, out, err);
    buf_free(&b);
    return rc;
}

/* ---- validation ------------------------------------------------------------------------- */

static int check_ratio(const struct config *cfg, const char *key, struct error *err)
{
    char *text = config_trimmed(config_get(cfg, key));
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    int rc = 0;
    if (text[0] == '\0' || *end != '\0' || errno == ERANGE || !(v >= 0.0 && v <= 1.0))
        rc = error_set(err, "%s: expected a number from 0 to 1, got \"%s\"", key, text);
    free(text);
    return rc;
}

static int check_sinks(const struct config *cfg, const char *key, struct error *err)
{
    const char *p = config_get(cfg, key);
    unsigned seen = 0;
    if (*p == '\0')
        return error_set(err, "%s: required (file, kafka, doris)", key);
    for (bool last = false; !last;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char *entry = mem_strndup(p, n);
        char *name = config_trimmed(entry);
        free(entry);
        last = comma == NULL;
        p += n + (last ? 0 : 1);
        if (name[0] == '\0') {
            free(name);
            return error_set(err,
                             "%s: empty entry in \"%s\" (use a comma list such as "
                             "\"file,doris\")",
                             key, config_get(cfg, key));
        }
        int idx = -1;
        for (int i = 0; sink_choices[i]; i++) {
            if (strcmp(sink_choices[i], name) == 0)
                idx = i;
        }
        int rc = 0;
        if (idx < 0)
            rc = error_set(err, "%s: \"%s\" is not one of file, kafka, doris", key, name);
        else if (seen & (1u << idx))
            rc = error_set(err, "%s: \"%s\" is listed twice", key, name);
        free(name);
        if (rc < 0)
            return rc;
        seen |= 1u << idx;
    }
    return 0;
}

/* The check of the value's form that d's type asks for. */
static int check_form(const struct config *cfg, const struct key_def *d, const char *key,
                      struct error *err)
{
    int64_t i;
    bool b;
    int c;
    switch (d->type) {
    case KT_INT:
        return config_int(cfg, key, 0, d->min, d->max, &i, err);
    case KT_BOOL:
        return config_bool(cfg, key, false, &b, err);
    case KT_CHOICE:
        return config_choice(cfg, key, NULL, d->choices, &c, err);
    case KT_RATIO:
        return check_ratio(cfg, key, err);
    case KT_BUCKETS: {
        char *text = config_trimmed(config_get(cfg, key));
        bool is_auto = strcasecmp(text, "auto") == 0;
        free(text);
        if (is_auto)
            return 0;
        if (config_int(cfg, key, 0, d->min, d->max, &i, err) < 0)
            return error_set(err, "%s: expected auto or a number of buckets, got \"%s\"", key,
                             config_get(cfg, key));
        return 0;
    }
    case KT_SINKS:
        return check_sinks(cfg, key, err);
    case KT_STR:
    case KT_LIST:
        return 0;
    }
    return 0;
}

/* Checks a set key against its definition: its form first, then what dbtail supports. */
static int check_typed(const struct config *cfg, const struct key_def *d, const char *key,
                       struct error *err)
{
    const char *v = config_get(cfg, key);
    if (d->flags & KF_REFUSED)
        return v[0] ? error_set(err, "%s: %s", key, d->help) : 0;
    if (check_form(cfg, d, key, err) < 0)
        return -1;
    int limit = limit_index(d);
    if (limit >= 0) {
        char *text = config_trimmed(v);
        bool ok = strcasecmp(text, limits[limit].only) == 0;
        free(text);
        if (!ok)
            return error_set(err, "%s: %s", key, limits[limit].refusal);
    }
    return 0;
}

/* Keys a sink cannot start without, checked here so that one run of validation names them. */
static const struct {
    const char *sink;
    const char *key;
} sink_required[] = {
    {"kafka", "sink.kafka.bootstrap.servers"},
    {"doris", "sink.doris.fenodes"},
    {"doris", "sink.doris.database"},
};

/* True when the (already checked) sink.type list names sink. */
static bool sink_listed(const char *list, const char *sink)
{
    size_t n = strlen(sink);
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, sink, n) == 0 &&
            (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\t'))
            return true;
        p = strchr(p, ',');
        if (p)
            p++;
    }
    return false;
}

static const char *connector_label(unsigned connector)
{
    return connector == FOR_PG ? "PostgreSQL" : "MySQL/MariaDB";
}

/* The transform names listed in `transforms`, as one string per name. */
struct name_list {
    char **names;
    size_t n;
};

static void name_list_parse(const char *text, struct name_list *l)
{
    l->names = NULL;
    l->n = 0;
    while (text && *text) {
        const char *comma = strchr(text, ',');
        size_t n = comma ? (size_t)(comma - text) : strlen(text);
        char *entry = mem_strndup(text, n);
        char *name = config_trimmed(entry);
        free(entry);
        if (name[0]) {
            l->names = mem_realloc(l->names, (l->n + 1) * sizeof l->names[0]);
            l->names[l->n++] = name;
        } else {
            free(name);
        }
        text += n;
        if (*text == ',')
            text++;
    }
}

static void name_list_free(struct name_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->names[i]);
    free(l->names);
}

/* Checks one transforms.<name>.<option> key; unknown ones are warned about like any key. */
static int check_transform_key(const struct config *cfg, const struct name_list *transforms,
                               const char *key, struct error *err)
{
    const char *rest = key + strlen("transforms.");
    for (size_t t = 0; t < transforms->n; t++) {
        size_t n = strlen(transforms->names[t]);
        if (strncmp(rest, transforms->names[t], n) != 0 || rest[n] != '.')
            continue;
        const char *option = rest + n + 1;
        for (size_t i = 0; i < sizeof unwrap_options / sizeof unwrap_options[0]; i++) {
            if (strcmp(unwrap_options[i].key, option) != 0)
                continue;
            if (strcmp(option, "type") == 0 && strcmp(config_get(cfg, key), TRANSFORM_UNWRAP) != 0)
                return error_set(
                    err,
                    "%s: transform %s is not supported (dbtail supports only " TRANSFORM_UNWRAP ")",
                    key, config_get(cfg, key));
            return check_typed(cfg, &unwrap_options[i], key, err);
        }
        log_warn("config", "unknown key %s (ignored)", key);
        return 0;
    }
    log_warn("config", "ignoring %s: transform is not listed in transforms", key);
    return 0;
}

int config_validate(const struct config *cfg, struct error *err)
{
    const char *cls = config_get(cfg, "connector.class");
    unsigned connector;
    if (cls == NULL || cls[0] == '\0')
        return error_set(err, "connector.class: required (" CONNECTOR_PG ", " CONNECTOR_MYSQL
                              " or " CONNECTOR_MARIADB ")");
    if (strcmp(cls, CONNECTOR_PG) == 0)
        connector = FOR_PG;
    else if (strcmp(cls, CONNECTOR_MYSQL) == 0 || strcmp(cls, CONNECTOR_MARIADB) == 0)
        connector = FOR_MYSQL;
    else
        return error_set(err,
                         "connector.class: unknown connector \"%s\" (use " CONNECTOR_PG
                         ", " CONNECTOR_MYSQL " or " CONNECTOR_MARIADB ")",
                         cls);

    struct name_list transforms;
    name_list_parse(config_get(cfg, "transforms"), &transforms);
    int rc = 0;
    for (size_t i = 0; i < cfg->n && rc == 0; i++) {
        const char *key = cfg->entries[i].key;
        const struct key_def *d = key_lookup(key, connector);
        if (d) {
            rc = check_typed(cfg, d, key, err);
        } else if (strncmp(key, "transforms.", 11) == 0) {
            rc = check_transform_key(cfg, &transforms, key, err);
        } else if (key_lookup(key, FOR_ALL)) {
            log_info("config", "ignoring %s: the %s connector has no use for it", key,
                     connector_label(connector));
        } else if (key_ignored(key)) {
            const char *v = cfg->entries[i].value;
            if ((strcmp(key, "key.converter") == 0 || strcmp(key, "value.converter") == 0) &&
                strcmp(v, JSON_CONVERTER) != 0)
                log_warn("config", "ignoring %s=%s: dbtail writes JSON as " JSON_CONVERTER " does",
                         key, v);
            else
                log_info("config", "ignoring %s: dbtail has no use for it", key);
        } else {
            log_warn("config", "unknown key %s (ignored)", key);
        }
    }

    for (size_t i = 0; i < sizeof keys / sizeof keys[0] && rc == 0; i++) {
        const char *v;
        if (!(keys[i].flags & KF_REQUIRED) || !(keys[i].connectors & connector))
            continue;
        v = config_get(cfg, keys[i].key);
        if (v && v[0])
            continue;
        if (keys[i].type == KT_SINKS)
            rc = error_set(err, "%s: required (file, kafka, doris)", keys[i].key);
        else
            rc = error_set(err, "%s: required by the %s connector", keys[i].key,
                           connector_label(connector));
    }

    for (size_t i = 0; i < sizeof sink_required / sizeof sink_required[0] && rc == 0; i++) {
        const char *v = config_get(cfg, sink_required[i].key);
        if (sink_listed(config_get(cfg, "sink.type"), sink_required[i].sink) && (!v || !v[0]))
            rc = error_set(err, "%s: required by the %s sink", sink_required[i].key,
                           sink_required[i].sink);
    }

    for (size_t t = 0; t < transforms.n && rc == 0; t++) {
        char key[256];
        snprintf(key, sizeof key, "transforms.%s.type", transforms.names[t]);
        if (config_get(cfg, key) == NULL)
            rc = error_set(err, "%s: required (transform %s is listed in transforms)", key,
                           transforms.names[t]);
        else if (t > 0)
            rc = error_set(err, "transforms: only one " TRANSFORM_UNWRAP " is supported");
    }
    name_list_free(&transforms);
    return rc;
}

/* ---- reference ---------------------------------------------------------------------------- */

static void reference_row(FILE *out, const char *prefix, const struct key_def *d)
{
    const char *what = (d->flags & KF_REQUIRED) ? "required"
                       : (d->flags & KF_RUN)    ? "required to run"
                                                : NULL;
    fprintf(out, "| `%s%s%s` | ", prefix, d->key, (d->flags & KF_PREFIX) ? "*" : "");
    /* A default that depends on the connector is prose, not a value to quote. */
    const char *quote = d->def && strchr(d->def, ' ') ? "" : "`";
    if (d->def && what)
        fprintf(out, "%s; %s%s%s | ", what, quote, d->def, quote);
    else if (d->def)
        fprintf(out, "%s%s%s | ", quote, d->def, quote);
    else
        fprintf(out, "%s | ", what ? what : "");
    fputs((d->flags & KF_REFUSED) ? "Not supported: setting it is an error." : d->help, out);
    if (d->connectors != FOR_ALL)
        fprintf(out, " %s only.", connector_label(d->connectors));
    int limit = limit_index(d);
    if (limit >= 0) {
        fprintf(out, " Only `%s` is supported.", limits[limit].only);
    } else if (d->type == KT_CHOICE) {
        fputs(" One of ", out);
        for (int i = 0; d->choices[i]; i++)
            fprintf(out, "%s`%s`", i ? ", " : "", d->choices[i]);
        fputs(".", out);
    } else if (d->type == KT_INT) {
        fprintf(out, " Integer, %" PRId64 " to %" PRId64 ".", d->min, d->max);
    } else if (d->type == KT_BOOL) {
        fputs(" `true` or `false`.", out);
    }
    fputs(" |\n", out);
}

void config_write_reference(FILE *out)
{
    fputs("| key | default | meaning |\n|---|---|---|\n", out);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        reference_row(out, "", &keys[i]);
    for (size_t i = 0; i < sizeof unwrap_options / sizeof unwrap_options[0]; i++)
        reference_row(out, "transforms.<name>.", &unwrap_options[i]);
}
