#!/usr/bin/env bash
# Binlog decoding: `dbtail decode` of MariaDB binlog files holding ROWS row changes (default
# five times BENCH_ROWS: 1,000,000), against `mariadb-binlog --base64-output=decode-rows -v` of
# the same files; both write to /dev/null. One line per dbtail output format: the Debezium
# envelope (the default) and the flat row (--format flat).
#
# The table has the column types a business table has (INT, BIGINT, VARCHAR, DECIMAL,
# DATETIME(6), DOUBLE, TEXT, JSON, ENUM); the changes are 70% inserts, 20% updates (full before
# and after images) and 10% deletes, in statements and transactions of 2,000 rows (MariaDB cuts
# a statement's rows into events of about 8 KB).
#
# mariadb-binlog is single-threaded; dbtail decode runs a worker per online CPU (at most 8), each
# decoding the whole file and rendering its share of it (see readers/decode.c), so its wall time
# divides by the cores while its CPU seconds grow a little. Each line prints the thread count
# and CPU seconds beside the wall time, and the Debezium envelope also runs with --threads 1: the
# ratio on one core. The best of three runs of each (taken in turns) keeps a busy machine's
# noise out of the ratio.
source "$(dirname "$0")/../tests/lib/servers.sh"
source "$(dirname "$0")/lib.sh"

ROWS="${BENCH_BINLOG_ROWS:-$((BENCH_ROWS * 5))}"
ROWS=$(((ROWS + 19999) / 20000 * 20000))
INSERTS=$((ROWS * 7 / 10))
RUNS="${BENCH_BINLOG_RUNS:-3}"

start_mariadb || exit 1
mariadb_q "CREATE DATABASE bench" || exit 1
mariadb_q "CREATE TABLE t (id INT PRIMARY KEY, big BIGINT NOT NULL, name VARCHAR(64) NOT NULL,
    amount DECIMAL(12,2), at DATETIME(6) NOT NULL, score DOUBLE, body TEXT, doc JSON,
    kind ENUM('new','paid','shipped','done') NOT NULL)" bench || exit 1

echo "# writing $ROWS row changes: $INSERTS inserts, $((ROWS / 5)) updates, $((ROWS / 10)) deletes"
start=$(bench_now)
{
    for ((i = 0; i < INSERTS; i += 2000)); do
        echo "INSERT INTO t SELECT seq, seq * 1000003, CONCAT('customer name ', seq), seq % 100000 / 100,
            TIMESTAMP'2025-01-01 00:00:00' + INTERVAL seq SECOND + INTERVAL seq % 1000000 MICROSECOND,
            seq / 7, IF(seq % 3 = 0, NULL, REPEAT('lorem ipsum ', seq % 8)),
            JSON_OBJECT('n', seq, 'tags', JSON_ARRAY('x', 'y')),
            ELT(seq % 4 + 1, 'new', 'paid', 'shipped', 'done')
            FROM seq_1_to_$INSERTS WHERE seq > $i AND seq <= $((i + 2000));"
    done
    # Rows with id % 7 in (1, 4) are 2/7 of the inserted ones, 20% of ROWS; id % 7 = 2, 10%.
    for ((i = 0; i < INSERTS; i += 7000)); do
        echo "UPDATE t SET amount = amount + 1, at = at + INTERVAL 1 DAY, kind = 'done'
            WHERE id > $i AND id <= $((i + 7000)) AND id % 7 IN (1, 4);"
    done
    for ((i = 0; i < INSERTS; i += 14000)); do
        echo "DELETE FROM t WHERE id > $i AND id <= $((i + 14000)) AND id % 7 = 2;"
    done
} | mariadb --no-defaults -h 127.0.0.1 -P "$MARIADB_PORT" -u root -D bench || exit 1
mariadb_q "FLUSH BINARY LOGS" || exit 1
echo "# written in $(bench_elapsed "$start") s"
mapfile -t FILES < <(mariadb_q "SHOW BINARY LOGS" | awk -v d="$MARIADB_DATA/data" '{ print d "/" $1 }')
echo "# binlog: ${#FILES[@]} files, $(du -cm "${FILES[@]}" | tail -n 1 | cut -f1) MB"

# The decoders must see every change: dbtail one record per row change (besides the schema
# change records of the DDL), mariadb-binlog one pseudo-statement per row.
got=$("$DBTAIL" decode --format flat "${FILES[@]}" | grep -c '^{"topic":"decode\.bench\.t"')
[ "$got" -eq "$ROWS" ] || { echo "# dbtail decode printed $got records, not $ROWS"; exit 1; }
got=$(mariadb-binlog --base64-output=decode-rows -v "${FILES[@]}" | grep -cE '^### (INSERT|UPDATE|DELETE) ')
[ "$got" -eq "$ROWS" ] || { echo "# mariadb-binlog printed $got row changes, not $ROWS"; exit 1; }

# best NAME CMD...: runs CMD (stdout to /dev/null) and keeps NAME's best wall time, its CPU
# seconds and the peak RSS in BEST_S_NAME, BEST_CPU_NAME, BEST_RSS_NAME.
best() {
    local name="$1"; shift
    bench_run sh -c '"$@" >/dev/null' sh "$@" || exit 1
    local s="BEST_S_$name" c="BEST_CPU_$name" r="BEST_RSS_$name"
    if [ -z "${!s:-}" ] || awk -v a="$BENCH_SECONDS" -v b="${!s}" 'BEGIN { exit !(a < b) }'; then
        printf -v "$s" %s "$BENCH_SECONDS"
        printf -v "$c" %s "$BENCH_CPU"
    fi
    awk -v a="$BENCH_RSS_MB" -v b="${!r:-0}" 'BEGIN { exit !(a > b) }' && printf -v "$r" %s "$BENCH_RSS_MB"
    echo "# $name: $BENCH_SECONDS s, CPU $BENCH_CPU s"
}
THREADS=$(getconf _NPROCESSORS_ONLN)
[ "$THREADS" -le 8 ] || THREADS=8
for ((run = 1; run <= RUNS; run++)); do
    best debezium "$DBTAIL" decode "${FILES[@]}"
    best debezium_1 "$DBTAIL" decode --threads 1 "${FILES[@]}"
    best flat "$DBTAIL" decode --format flat "${FILES[@]}"
    best peer mariadb-binlog --base64-output=decode-rows -v "${FILES[@]}"
done
echo "# best of $RUNS: dbtail decode ($THREADS threads) ${BEST_S_debezium} s (CPU ${BEST_CPU_debezium} s)," \
    "--threads 1 ${BEST_S_debezium_1} s (CPU ${BEST_CPU_debezium_1} s)," \
    "--format flat ($THREADS threads) ${BEST_S_flat} s (CPU ${BEST_CPU_flat} s)," \
    "mariadb-binlog (1 thread) ${BEST_S_peer} s (CPU ${BEST_CPU_peer} s)"

peer_rate=$(bench_rate "$ROWS" "$BEST_S_peer")
bench_line binlog_decode "$(bench_rate "$ROWS" "$BEST_S_debezium")" mariadb-binlog "$peer_rate" \
    "$BEST_RSS_debezium" 5.0
bench_line binlog_decode_flat "$(bench_rate "$ROWS" "$BEST_S_flat")" mariadb-binlog "$peer_rate" \
    "$BEST_RSS_flat" 5.0
exit 0
