#!/usr/bin/env bash
# MariaDB streaming lag: a writer inserts RATE rows per second (default 20,000) for SECONDS
# seconds (default 20) in autocommitted statements of BATCH rows (default 200) while dbtail
# streams them into the file sink with its defaults (offset.flush.interval.ms 1000). Each row
# carries its commit time; bench/lag_watch.py follows the sink's file and the state file and
# measures, per row, the lag from the commit to its line in the file (output) and to the
# checkpoint that covers it (durable). The goal is an output lag p99 under one second; the
# durable lag adds up to one flush interval by design.
#
# The result line: dbtail's rows per second from the first commit to the last row out, against
# the writer's rate (ratio 1.0 when dbtail kept up).
source "$(dirname "$0")/../tests/lib/servers.sh"
source "$(dirname "$0")/lib.sh"

RATE="${BENCH_MARIADB_STREAM_RATE:-20000}"
SECONDS_RUN="${BENCH_MARIADB_STREAM_SECONDS:-20}"
BATCH="${BENCH_MARIADB_STREAM_BATCH:-200}"
[ "${BENCH_QUICK:-0}" = 1 ] && SECONDS_RUN=3
ROWS=$((RATE * SECONDS_RUN))

start_mariadb || exit 1
W="$TMP_ROOT/w"
mkdir -p "$W"
OUT=$(mktemp -d /dev/shm/dbtail-bench.XXXXXX)
on_exit "rm -rf '$OUT'"
mariadb_q "CREATE DATABASE bench;
    CREATE TABLE bench.orders (id BIGINT PRIMARY KEY, committed_us BIGINT NOT NULL,
        kind ENUM('new','paid','done') NOT NULL, amount DECIMAL(12,2), note VARCHAR(100))" || exit 1

cat >"$W/c.json" <<EOF
{"name": "bench", "connector.class": "io.debezium.connector.mariadb.MariaDbConnector",
 "database.hostname": "127.0.0.1", "database.port": "$MARIADB_PORT", "database.user": "root",
 "database.server.id": "5401", "topic.prefix": "bench", "database.include.list": "bench",
 "snapshot.mode": "no_data", "offset.storage.file.filename": "$W/offsets.json",
 "key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
 "sink.type": "file", "sink.file.path": "$OUT/dbtail.jsonl"}
EOF
start_dbtail bench run -c "$W/c.json"
wait_for 60 grep -q 'streaming ' "$TMP_ROOT/bench.log" || { cat "$TMP_ROOT/bench.log"; exit 1; }

python3 "$(dirname "$0")/lag_watch.py" "$OUT/dbtail.jsonl" "$W/offsets.json" "$ROWS" \
    $((SECONDS_RUN * 3 + 60)) >"$W/lag.txt" &
watch_pid=$!
on_exit "kill $watch_pid"

echo "# writer: $RATE rows/s for $SECONDS_RUN s in statements of $BATCH rows"
start=$(bench_now)
python3 "$(dirname "$0")/paced_sql.py" mariadb orders "$RATE" "$SECONDS_RUN" "$BATCH" |
    mariadb --no-defaults -h 127.0.0.1 -P "$MARIADB_PORT" -u root -D bench || exit 1
writer_seconds=$(bench_elapsed "$start")
echo "# writer: $ROWS rows in $writer_seconds s"
wait "$watch_pid"
rss=$(bench_vmhwm_mb "$DBTAIL_PID")
cpu=$(bench_cpu_seconds "$DBTAIL_PID")
stop_dbtail || exit 1

# lag=VALUE: one value of lag_watch.py's line.
lag() { tr ' ' '\n' <"$W/lag.txt" | sed -n "s/^$1=//p"; }
echo "# lag_watch: $(cat "$W/lag.txt")"
[ "$(lag rows)" = "$ROWS" ] || { echo "# dbtail's output had $(lag rows) rows, not $ROWS"; exit 1; }
echo "# dbtail: CPU $cpu s; lag from commit, ms: output p50 $(lag output_p50) p99 $(lag output_p99)" \
    "max $(lag output_max); durable p50 $(lag durable_p50) p99 $(lag durable_p99) max $(lag durable_max)"

dbtail_seconds=$(awk -v a="$(lag first_commit_us)" -v b="$(lag last_output_us)" \
    'BEGIN { printf "%.3f\n", (b - a) / 1e6 }')
p99=$(lag output_p99)
verdict=met
[ "$p99" -lt 1000 ] || verdict=missed
bench_line mariadb_stream "$(bench_rate "$ROWS" "$dbtail_seconds")" writer \
    "$(bench_rate "$ROWS" "$writer_seconds")" "$rss" "$verdict" "output lag p99 $p99 ms < 1000 ms"
exit 0
