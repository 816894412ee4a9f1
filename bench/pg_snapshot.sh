#!/usr/bin/env bash
# PostgreSQL snapshot: `dbtail snapshot` (snapshot.mode=initial_only) of a table of ROWS rows
# (default twice BENCH_ROWS) into the file sink (Debezium's records, JSON without schemas),
# against psql's `COPY items TO STDOUT` of the same table. Both write to tmpfs, so that neither
# waits for a disk; dbtail's time includes its start (slot, exported snapshot, catalog) and the
# flush at the end, psql's its connection. Best of three runs of each, taken in turns.
source "$(dirname "$0")/../tests/lib/servers.sh"
source "$(dirname "$0")/lib.sh"

ROWS="${BENCH_PG_SNAPSHOT_ROWS:-$((BENCH_ROWS * 2))}"

start_postgres || exit 1
W="$TMP_ROOT/w"
mkdir -p "$W"
OUT=$(mktemp -d /dev/shm/dbtail-bench.XXXXXX)
on_exit "rm -rf '$OUT'"
on_exit "psql_q \"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots\""

psql_q "CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, price numeric(12,2),
                            qty int, ratio double precision, active boolean,
                            created_at timestamptz NOT NULL, note varchar(200))" || exit 1
psql_q "INSERT INTO items SELECT g, 'item number ' || g, g % 100000 / 100.0, g % 1000,
               g / 7.0, g % 3 = 0, timestamptz '2025-01-01 00:00:00+00' + g * interval '1 second',
               CASE WHEN g % 5 = 0 THEN NULL ELSE 'a note about item ' || g END
        FROM generate_series(1, $ROWS) g" && psql_q "VACUUM ANALYZE items" || exit 1
echo "# items: $ROWS rows, $(psql_q "SELECT pg_size_pretty(pg_table_size('items'))")"

cat >"$W/c.json" <<EOF
{"name": "bench", "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
 "database.hostname": "127.0.0.1", "database.port": "$PG_PORT", "database.user": "postgres",
 "database.dbname": "dbtail", "topic.prefix": "bench", "table.include.list": "public.items",
 "snapshot.mode": "initial_only", "offset.storage.file.filename": "$W/offsets.json",
 "key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
 "sink.type": "file", "sink.file.path": "$OUT/dbtail.jsonl"}
EOF

# The table's pages are in shared buffers for both readers: psql reads it once beforehand.
psql_q "SELECT count(*) FROM items" >/dev/null

# Best of RUNS runs of each, taken in turns, so that a busy moment of the machine does not decide
# the ratio; each dbtail run starts afresh (no state file, no slot).
RUNS="${BENCH_PG_SNAPSHOT_RUNS:-3}"
dbtail_seconds="" peer_seconds="" rss=""
for ((run = 1; run <= RUNS; run++)); do
    rm -f "$OUT/dbtail.jsonl" "$W/offsets.json"
    psql_q "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots" >/dev/null
    bench_run "$DBTAIL" snapshot -c "$W/c.json" || exit 1
    got=$(wc -l <"$OUT/dbtail.jsonl")
    [ "$got" -eq "$ROWS" ] || { echo "# dbtail wrote $got records, not $ROWS"; exit 1; }
    echo "# dbtail: $got records, $(du -m "$OUT/dbtail.jsonl" | cut -f1) MB in $BENCH_SECONDS s, CPU $BENCH_CPU s"
    bench_keep_min dbtail_seconds "$BENCH_SECONDS"
    bench_keep_max rss "$BENCH_RSS_MB"
    rm -f "$OUT/dbtail.jsonl"

    bench_run psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d dbtail \
        -o "$OUT/copy.txt" -c "COPY items TO STDOUT" || exit 1
    got=$(wc -l <"$OUT/copy.txt")
    [ "$got" -eq "$ROWS" ] || { echo "# COPY wrote $got rows, not $ROWS"; exit 1; }
    echo "# psql COPY items TO STDOUT: $got rows, $(du -m "$OUT/copy.txt" | cut -f1) MB in $BENCH_SECONDS s, CPU $BENCH_CPU s"
    bench_keep_min peer_seconds "$BENCH_SECONDS"
done
echo "# best of $RUNS: dbtail $dbtail_seconds s, psql $peer_seconds s"

bench_line pg_snapshot "$(bench_rate "$ROWS" "$dbtail_seconds")" psql-COPY \
    "$(bench_rate "$ROWS" "$peer_seconds")" "$rss" 0.7
exit 0
