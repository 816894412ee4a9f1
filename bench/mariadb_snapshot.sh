#!/usr/bin/env bash
# MariaDB snapshot: `dbtail snapshot` (snapshot.mode=initial_only) of a table of ROWS rows
# (default twice BENCH_ROWS) into the file sink (Debezium's records, JSON without schemas),
# against `mariadb --quick` selecting the same table row by row. Both write to tmpfs, so that
# neither waits for a disk; dbtail's time includes its start (locks, binlog position, schema)
# and the flush at the end, the client's its connection. Best of three runs of each, in turns.
source "$(dirname "$0")/../tests/lib/servers.sh"
source "$(dirname "$0")/lib.sh"

ROWS="${BENCH_MARIADB_SNAPSHOT_ROWS:-$((BENCH_ROWS * 2))}"
ROWS=$(((ROWS + 9999) / 10000 * 10000))

start_mariadb || exit 1
W="$TMP_ROOT/w"
mkdir -p "$W"
OUT=$(mktemp -d /dev/shm/dbtail-bench.XXXXXX)
on_exit "rm -rf '$OUT'"

mariadb_q "CREATE DATABASE bench" || exit 1
mariadb_q "CREATE TABLE t (id INT PRIMARY KEY, big BIGINT NOT NULL, name VARCHAR(64) NOT NULL,
    amount DECIMAL(12,2), at DATETIME(6) NOT NULL, score DOUBLE, body TEXT, doc JSON,
    kind ENUM('new','paid','shipped','done') NOT NULL)" bench || exit 1
for ((i = 0; i < ROWS; i += 10000)); do
    echo "INSERT INTO t SELECT seq, seq * 1000003, CONCAT('customer name ', seq), seq % 100000 / 100,
        TIMESTAMP'2025-01-01 00:00:00' + INTERVAL seq SECOND + INTERVAL seq % 1000000 MICROSECOND,
        seq / 7, IF(seq % 3 = 0, NULL, REPEAT('lorem ipsum ', seq % 8)),
        JSON_OBJECT('n', seq, 'tags', JSON_ARRAY('x', 'y')),
        ELT(seq % 4 + 1, 'new', 'paid', 'shipped', 'done')
        FROM seq_1_to_$ROWS WHERE seq > $i AND seq <= $((i + 10000));"
done | mariadb --no-defaults -h 127.0.0.1 -P "$MARIADB_PORT" -u root -D bench || exit 1
mariadb_q "ANALYZE TABLE t" bench >/dev/null
echo "# t: $ROWS rows, $(mariadb_q "SELECT ROUND((data_length + index_length) / 1048576)
    FROM information_schema.tables WHERE table_schema = 'bench' AND table_name = 't'") MB"

cat >"$W/c.json" <<EOF
{"name": "bench", "connector.class": "io.debezium.connector.mariadb.MariaDbConnector",
 "database.hostname": "127.0.0.1", "database.port": "$MARIADB_PORT", "database.user": "root",
 "database.server.id": "5401", "topic.prefix": "bench", "database.include.list": "bench",
 "snapshot.mode": "initial_only", "offset.storage.file.filename": "$W/offsets.json",
 "key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
 "sink.type": "file", "sink.file.path": "$OUT/dbtail.jsonl"}
EOF

# The table's pages are in the buffer pool for both readers: it is read once beforehand.
mariadb_q "SELECT COUNT(*), SUM(LENGTH(body)) FROM bench.t" >/dev/null

# Best of RUNS runs of each, taken in turns, so that a busy moment of the machine does not decide
# the ratio; each dbtail run starts without a state file.
RUNS="${BENCH_MARIADB_SNAPSHOT_RUNS:-3}"
dbtail_seconds="" peer_seconds="" rss=""
for ((run = 1; run <= RUNS; run++)); do
    rm -f "$OUT/dbtail.jsonl" "$W/offsets.json"
    bench_run "$DBTAIL" snapshot -c "$W/c.json" || exit 1
    got=$(grep -c '^{"topic":"bench\.bench\.t"' "$OUT/dbtail.jsonl")
    [ "$got" -eq "$ROWS" ] || { echo "# dbtail wrote $got records of bench.t, not $ROWS"; exit 1; }
    echo "# dbtail: $got records, $(du -m "$OUT/dbtail.jsonl" | cut -f1) MB in $BENCH_SECONDS s, CPU $BENCH_CPU s"
    bench_keep_min dbtail_seconds "$BENCH_SECONDS"
    bench_keep_max rss "$BENCH_RSS_MB"
    rm -f "$OUT/dbtail.jsonl"

    bench_run sh -c 'mariadb --no-defaults -h 127.0.0.1 -P "$1" -u root --quick --batch \
        --skip-column-names -e "SELECT * FROM bench.t" >"$2"' sh "$MARIADB_PORT" "$OUT/select.tsv" || exit 1
    got=$(wc -l <"$OUT/select.tsv")
    [ "$got" -eq "$ROWS" ] || { echo "# mariadb printed $got rows, not $ROWS"; exit 1; }
    echo "# mariadb --quick SELECT * FROM bench.t: $got rows, $(du -m "$OUT/select.tsv" | cut -f1) MB in $BENCH_SECONDS s, CPU $BENCH_CPU s"
    bench_keep_min peer_seconds "$BENCH_SECONDS"
done
echo "# best of $RUNS: dbtail $dbtail_seconds s, mariadb $peer_seconds s"

bench_line mariadb_snapshot "$(bench_rate "$ROWS" "$dbtail_seconds")" mariadb--quick \
    "$(bench_rate "$ROWS" "$peer_seconds")" "$rss" 0.7
exit 0
