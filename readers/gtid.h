/*
 * gtid: the set of transactions a server has executed, in either flavour: MySQL GTID sets
 * ("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7,..." as @@gtid_executed prints them) and MariaDB
 * GTID positions ("0-1-100,1-2-7", one domain-server-seq per domain, as @@gtid_binlog_pos
 * prints them). Pure: parsing, adding a committed transaction, printing, and the binary form
 * COM_BINLOG_DUMP_GTID sends.
 */
#ifndef DBTAIL_GTID_H
#define DBTAIL_GTID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../src/buf.h"
#include "../src/error.h"

struct gtid_set;

/** An empty set of the flavour (MariaDB when mariadb is true). */
struct gtid_set *gtid_set_new(bool mariadb);
void gtid_set_free(struct gtid_set *s);
struct gtid_set *gtid_set_copy(const struct gtid_set *s);
bool gtid_set_is_mariadb(const struct gtid_set *s);
bool gtid_set_is_empty(const struct gtid_set *s);

/** Replaces the content with the text form (whitespace and newlines are ignored). */
DBT_MUSTCHECK int gtid_set_parse(struct gtid_set *s, const char *text, struct error *err);
/** Appends the text form (the same as the server prints) to out. */
void gtid_set_format(const struct gtid_set *s, struct buf *out);

/** MySQL: adds transaction sid:gno. */
void gtid_set_add_mysql(struct gtid_set *s, const uint8_t sid[16], uint64_t gno);
/** MySQL: adds the interval [start, end) of sid. */
void gtid_set_add_interval(struct gtid_set *s, const uint8_t sid[16], uint64_t start, uint64_t end);
/** MariaDB: the domain's last transaction becomes domain-server-seq. */
void gtid_set_add_mariadb(struct gtid_set *s, uint32_t domain, uint32_t server, uint64_t seq);

/** MySQL: the sid block of COM_BINLOG_DUMP_GTID (n_sids u64, per sid uuid, n_intervals u64,
 * then [start, end) u64 pairs), appended to out. */
void gtid_set_encode(const struct gtid_set *s, struct buf *out);

/** "uuid:gno" or "domain-server-seq" into out (NUL-terminated, at least 64 bytes). */
void gtid_format_mysql(const uint8_t sid[16], uint64_t gno, char *out, size_t outlen);
void gtid_format_mariadb(uint32_t domain, uint32_t server, uint64_t seq, char *out, size_t outlen);

#endif
