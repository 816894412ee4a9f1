#!/usr/bin/env bash
# PostgreSQL streaming: both consumers find the same changes waiting in the WAL and drain them
# up to the same end LSN. dbtail reads its pgoutput slot into the file sink (Debezium's records,
# JSON without schemas); the peer, pg_recvlogical, reads a wal2json slot (format 2: one JSON
# line per change) into a file. Both files are on tmpfs, so that neither waits for a disk.
#
# The changes: ROWS inserts in transactions of 1,000 rows, then an update of every 4th row and a
# delete of every 8th in transactions of 1,000 changes (ROWS * 11/8 changes in all; ROWS
# defaults to twice BENCH_ROWS). Both slots exist before the first change. A marker
# transaction closes the workload; its commit's end LSN, read from a third (test_decoding) slot
# created after the workload, is the end both consumers run to: pg_recvlogical --endpos, and
# for dbtail its state file's position, which it writes only after the file sink's flush.
# dbtail's offset.flush.interval.ms is 250 (default 1000) and poll.interval.ms 100 (default 500)
# so that it saves the end within about a third of a second of reading it.
source "$(dirname "$0")/../tests/lib/servers.sh"
source "$(dirname "$0")/lib.sh"

ROWS="${BENCH_PG_STREAM_ROWS:-$((BENCH_ROWS * 2))}"
ROWS=$(((ROWS + 7999) / 8000 * 8000))
CHANGES=$((ROWS + ROWS / 4 + ROWS / 8 + 1))

start_postgres || exit 1
W="$TMP_ROOT/w"
mkdir -p "$W"
OUT=$(mktemp -d /dev/shm/dbtail-bench.XXXXXX)
on_exit "rm -rf '$OUT'"
on_exit "psql_q \"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots\""

# Debian's PostgreSQL 15.19 and later load only the output plugins this setting lists; older
# 15.x do not know it (and refuse it in the configuration file).
plugins_ctx=$(psql_q "SELECT context FROM pg_settings WHERE name = 'output_plugin_libraries'")
if [ -n "$plugins_ctx" ]; then
    echo "# adding wal2json to output_plugin_libraries ($plugins_ctx)"
    psql_q "ALTER SYSTEM SET output_plugin_libraries = pgoutput, test_decoding, wal2json" || exit 1
    if [ "$plugins_ctx" = postmaster ]; then
        pg_ctl_run restart || exit 1
    else
        psql_q "SELECT pg_reload_conf()" >/dev/null
    fi
fi

psql_q "CREATE TABLE events (id bigint PRIMARY KEY, kind text NOT NULL, amount numeric(12,2),
                             at timestamptz NOT NULL, note text)" || exit 1
psql_q "CREATE PROCEDURE workload(n int) LANGUAGE plpgsql AS \$\$
DECLARE i int := 0;
BEGIN
    WHILE i < n LOOP
        INSERT INTO events SELECT g, 'kind ' || (g % 17), g % 100000 / 100.0,
               timestamptz '2025-01-01 00:00:00+00' + g * interval '1 second',
               'a note about event number ' || g
        FROM generate_series(i + 1, i + 1000) g;
        COMMIT;
        i := i + 1000;
    END LOOP;
    i := 0;
    WHILE i < n LOOP
        UPDATE events SET amount = amount + 1, kind = 'updated'
        WHERE id > i AND id <= i + 4000 AND id % 4 = 0;
        COMMIT;
        i := i + 4000;
    END LOOP;
    i := 0;
    WHILE i < n LOOP
        DELETE FROM events WHERE id > i AND id <= i + 8000 AND id % 8 = 1;
        COMMIT;
        i := i + 8000;
    END LOOP;
END \$\$" || exit 1

cat >"$W/c.json" <<EOF
{"name": "bench", "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
 "database.hostname": "127.0.0.1", "database.port": "$PG_PORT", "database.user": "postgres",
 "database.dbname": "dbtail", "topic.prefix": "bench", "table.include.list": "public.events",
 "snapshot.mode": "no_data", "offset.storage.file.filename": "$W/offsets.json",
 "offset.flush.interval.ms": "250", "poll.interval.ms": "100", "key.converter.schemas.enable": "false",
 "value.converter.schemas.enable": "false", "tombstones.on.delete": "false",
 "sink.type": "file", "sink.file.path": "$OUT/dbtail.jsonl"}
EOF

# The slots first: dbtail creates its own (and the publication) on its first run.
start_dbtail setup run -c "$W/c.json"
wait_for 60 grep -q 'streaming from slot' "$TMP_ROOT/setup.log" || { cat "$TMP_ROOT/setup.log"; exit 1; }
stop_dbtail || exit 1
rm -f "$OUT/dbtail.jsonl"
PGR=("$PG_BIN/pg_recvlogical" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d dbtail -S wal2json_bench)
"${PGR[@]}" --create-slot -P wal2json || exit 1

echo "# writing $CHANGES changes ($ROWS inserts, $((ROWS / 4)) updates, $((ROWS / 8)) deletes)"
start=$(bench_now)
psql_q "CALL workload($ROWS)" || exit 1
echo "# written in $(bench_elapsed "$start") s"
psql_q "SELECT 'probe' FROM pg_create_logical_replication_slot('probe', 'test_decoding')" >/dev/null || exit 1
psql_q "INSERT INTO events VALUES (0, 'marker', 0, now(), 'the end')" || exit 1
# test_decoding's COMMIT row carries the commit's end LSN, which pgoutput's COMMIT also holds.
END_LSN=$(psql_q "SELECT lsn FROM pg_logical_slot_peek_changes('probe', NULL, NULL)
                  WHERE data LIKE 'COMMIT%' ORDER BY lsn DESC LIMIT 1")
psql_q "SELECT pg_drop_replication_slot('probe')" >/dev/null
[ -n "$END_LSN" ] || { echo "# no end LSN"; exit 1; }
echo "# WAL: $(psql_q "SELECT pg_size_pretty(pg_wal_lsn_diff('$END_LSN', confirmed_flush_lsn))
                      FROM pg_replication_slots WHERE slot_name = 'wal2json_bench'") up to $END_LSN"

# state_lsn: the position in dbtail's state file (polled: no process start in the loop).
state_lsn() { sed -n 's/^ *"lsn": "\(.*\)",\{0,1\}$/\1/p' "$W/offsets.json" 2>/dev/null; }

echo "# dbtail: pgoutput slot to the file sink"
start=$(bench_now)
start_dbtail bench run -c "$W/c.json"
until [ "$(state_lsn)" = "$END_LSN" ]; do
    kill -0 "$DBTAIL_PID" 2>/dev/null || { echo "# dbtail exited"; tail -n 20 "$TMP_ROOT/bench.log"; exit 1; }
    sleep 0.05
done
# The end is when the state file reached END_LSN: it is renamed into place after the flush.
dbtail_seconds=$(bench_elapsed "$start" "$(stat -c %.Y "$W/offsets.json")")
rss=$(bench_vmhwm_mb "$DBTAIL_PID")
cpu=$(bench_cpu_seconds "$DBTAIL_PID")
# The server's side of the stream (decoding the WAL) is the other half of the work.
wal_sender=$(psql_q "SELECT pid FROM pg_stat_replication WHERE application_name <> 'pg_recvlogical' LIMIT 1")
sender_cpu=$(bench_cpu_seconds "$wal_sender" 2>/dev/null)
stop_dbtail || exit 1
got=$(wc -l <"$OUT/dbtail.jsonl")
[ "$got" -eq "$CHANGES" ] || { echo "# dbtail wrote $got records, not $CHANGES"; exit 1; }
echo "# dbtail: $got records, $(du -m "$OUT/dbtail.jsonl" | cut -f1) MB in $dbtail_seconds s, CPU $cpu s (its walsender: ${sender_cpu:-?} s)"
rm -f "$OUT/dbtail.jsonl"

echo "# pg_recvlogical: wal2json slot to a file"
bench_run "${PGR[@]}" --start --no-loop --endpos "$END_LSN" -o format-version=2 \
    -f "$OUT/wal2json.jsonl" || exit 1
peer_seconds=$BENCH_SECONDS
got=$(grep -c '"action":"[IUD]"' "$OUT/wal2json.jsonl")
[ "$got" -eq "$CHANGES" ] || { echo "# pg_recvlogical wrote $got changes, not $CHANGES"; exit 1; }
echo "# pg_recvlogical: $got changes, $(du -m "$OUT/wal2json.jsonl" | cut -f1) MB in $peer_seconds s, CPU $BENCH_CPU s"
bench_line pg_stream "$(bench_rate "$CHANGES" "$dbtail_seconds")" pg_recvlogical+wal2json \
    "$(bench_rate "$CHANGES" "$peer_seconds")" "$rss" 1.0
