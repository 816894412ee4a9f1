#!/usr/bin/env bash
# Doris loading, against bench/doris_discard.py: a Stream Load endpoint (FE 307, BE "Success")
# that reads every body and keeps nothing, so that what is measured is dbtail, not a database.
# The source is a MariaDB table orders (id, committed_us, kind, amount, note).
#  1. snapshot: `dbtail snapshot` of ROWS rows (default five times BENCH_ROWS) into the
#     endpoint (sink.type=doris, its defaults: batches of 100,000 rows, flush every second),
#     against curl sending the very bytes dbtail sent (the endpoint saved them) as one Stream
#     Load. curl's rate is also the endpoint's own; the ratio is dbtail's cost per row.
#  2. stream: STREAM_ROWS inserts (default half of ROWS) written while dbtail is stopped, then
#     drained by `dbtail run`, against the same curl rate.
#  3. latency: a writer at 1,000 and at 10,000 rows/s for LAT_SECONDS (default 15) while dbtail
#     streams; each row carries its commit time and the endpoint notes when the load holding it
#     has arrived. Goal: commit-to-loaded p99 under 2 s with the default flush interval.
source "$(dirname "$0")/../tests/lib/servers.sh"
source "$(dirname "$0")/lib.sh"

ROWS="${BENCH_DORIS_ROWS:-$((BENCH_ROWS * 5))}"
ROWS=$(((ROWS + 9999) / 10000 * 10000))
STREAM_ROWS="${BENCH_DORIS_STREAM_ROWS:-$((ROWS / 2))}"
STREAM_ROWS=$(((STREAM_ROWS + 9999) / 10000 * 10000))
LAT_SECONDS="${BENCH_DORIS_LATENCY_SECONDS:-15}"
[ "${BENCH_QUICK:-0}" = 1 ] && LAT_SECONDS=3
HERE="$(cd "$(dirname "$0")" && pwd)"

start_mariadb || exit 1
W="$TMP_ROOT/w"
mkdir -p "$W"
OUT=$(mktemp -d /dev/shm/dbtail-bench.XXXXXX)
on_exit "rm -rf '$OUT'"
mariadb_q "CREATE DATABASE bench;
    CREATE TABLE bench.orders (id BIGINT PRIMARY KEY, committed_us BIGINT NOT NULL,
        kind ENUM('new','paid','done') NOT NULL, amount DECIMAL(12,2), note VARCHAR(100));
    CREATE TABLE bench.marker (id INT PRIMARY KEY)" || exit 1
mysql_in() { mariadb --no-defaults -h 127.0.0.1 -P "$MARIADB_PORT" -u root -D bench; }
# insert_rows FIRST COUNT: rows FIRST.. in transactions of 10,000.
insert_rows() {
    local i
    for ((i = $1; i < $1 + $2; i += 10000)); do
        echo "INSERT INTO orders SELECT seq, CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED),
            ELT(seq % 3 + 1, 'new', 'paid', 'done'), seq % 100000 / 100, CONCAT('order note ', seq)
            FROM seq_${i}_to_$((i + 9999));"
    done | mysql_in
}

# start_discard NAME ARGS...: an endpoint; sets FE_NAME (host:port).
start_discard() {
    local name="$1"; shift
    python3 "$HERE/doris_discard.py" --ready-file "$W/$name.ready" "$@" >"$W/$name.log" 2>&1 &
    on_exit "kill $!"
    wait_for 30 test -s "$W/$name.ready" || { cat "$W/$name.log"; exit 1; }
    # Its own process id: python3 may be a wrapper that does not exec.
    on_exit "kill $(sed -n 2p "$W/$name.ready")"
    printf -v "FE_$name" %s "$(sed -n 1p "$W/$name.ready")"
}
# stat FE EXPR: a value of the endpoint's /_stats (a Python expression over s).
stat() {
    curl -sS "http://$1/_stats" | python3 -c 'import json,sys; s = json.load(sys.stdin); print('"$2"')'
}
# stat_is FE EXPR VALUE: the value of EXPR is VALUE (for wait_for).
stat_is() { [ "$(stat "$1" "$2")" = "$3" ]; }
# reset FE [JSON]: clears the endpoint's counts (JSON: {"latency_column": NAME} to measure).
reset() {
    local body='{}'
    [ -n "${2:-}" ] && body=$2
    curl -sS -X POST -d "$body" "http://$1/_reset" >/dev/null
}
config() {
    cat >"$W/$1.json" <<EOF
{"name": "bench", "connector.class": "io.debezium.connector.mariadb.MariaDbConnector",
 "database.hostname": "127.0.0.1", "database.port": "$MARIADB_PORT", "database.user": "root",
 "database.server.id": "5401", "topic.prefix": "bench", "database.include.list": "bench",
 "snapshot.mode": "$2", "offset.storage.file.filename": "$W/$1.offsets",
 "sink.type": "doris", "sink.doris.fenodes": "$3", "sink.doris.database": "bench"}
EOF
}

echo "# orders: $ROWS rows"
insert_rows 1 "$ROWS" || exit 1

# ---- 1. snapshot
start_discard saving --save "$OUT/sent.jsonl"
config snap initial_only "$FE_saving"
echo "# dbtail snapshot of $ROWS rows into the endpoint"
bench_run "$DBTAIL" snapshot -c "$W/snap.json" || exit 1
dbtail_seconds=$BENCH_SECONDS
snap_rss=$BENCH_RSS_MB
got=$(stat "$FE_saving" 's["tables"].get("bench.orders", 0)')
[ "$got" = "$ROWS" ] || { echo "# the endpoint got $got rows of orders, not $ROWS"; exit 1; }
echo "# dbtail: $dbtail_seconds s, CPU $BENCH_CPU s;" \
    "endpoint: $(stat "$FE_saving" 's["loads"]') loads, busy $(stat "$FE_saving" '"%.2f" % s["busy"]') s"

# The peer's endpoint also saves what it reads (to /dev/null), as the first one did.
start_discard plain --save /dev/null
echo "# curl: one Stream Load of the same $(wc -c <"$OUT/sent.jsonl") bytes"
start=$(bench_now)
curl -sS --location-trusted -u root: -H "label: bench-curl-1" -H "format: json" \
    -H "read_json_by_line: true" -H "Expect: 100-continue" -T "$OUT/sent.jsonl" \
    "http://$FE_plain/api/bench/orders/_stream_load" >"$W/curl.out" || exit 1
curl_seconds=$(bench_elapsed "$start")
grep -q '"Status": *"Success"' "$W/curl.out" || { sed 's/^/# /' "$W/curl.out"; exit 1; }
sent=$(stat "$FE_plain" 's["rows"]')
echo "# curl: $sent rows in $curl_seconds s (endpoint busy $(stat "$FE_plain" '"%.2f" % s["busy"]') s)"
rm -f "$OUT/sent.jsonl"
curl_rate=$(bench_rate "$sent" "$curl_seconds")
echo "# dbtail's cost: $(awk -v d="$dbtail_seconds" -v c="$curl_seconds" -v n="$ROWS" \
    'BEGIN { printf "%.1f", (d - c) * 1e6 / n }') us per row on top of the load"
bench_line doris_snapshot "$(bench_rate "$ROWS" "$dbtail_seconds")" curl "$curl_rate" "$snap_rss"

# ---- 2. stream
config stream no_data "$FE_plain"
reset "$FE_plain"
start_dbtail stream1 run -c "$W/stream.json"
wait_for 60 grep -q 'streaming ' "$TMP_ROOT/stream1.log" || { cat "$TMP_ROOT/stream1.log"; exit 1; }
# A first change makes dbtail save its position; the backlog is written after it stopped.
mariadb_q "INSERT INTO bench.marker VALUES (1)"
wait_for 60 test -s "$W/stream.offsets" || { echo "# no state file"; tail "$TMP_ROOT/stream1.log"; exit 1; }
stop_dbtail || exit 1
echo "# writing $STREAM_ROWS inserts while dbtail is stopped"
insert_rows $((ROWS + 1)) "$STREAM_ROWS" || exit 1
reset "$FE_plain"
echo "# dbtail run: draining $STREAM_ROWS inserts into the endpoint"
start=$(bench_now)
start_dbtail stream2 run -c "$W/stream.json"
until stat_is "$FE_plain" 's["tables"].get("bench.orders", 0)' "$STREAM_ROWS"; do
    kill -0 "$DBTAIL_PID" 2>/dev/null || { echo "# dbtail exited"; tail "$TMP_ROOT/stream2.log"; exit 1; }
    sleep 0.2
done
stream_seconds=$(bench_elapsed "$start" "$(stat "$FE_plain" 's["last_end"]')")
echo "# dbtail: $STREAM_ROWS rows in $stream_seconds s, CPU $(bench_cpu_seconds "$DBTAIL_PID") s"
bench_line doris_stream "$(bench_rate "$STREAM_ROWS" "$stream_seconds")" curl "$curl_rate" \
    "$(bench_vmhwm_mb "$DBTAIL_PID")"

# ---- 3. latency (the same dbtail keeps streaming)
next_id=$((ROWS + STREAM_ROWS + 1))
for rate in 1000 10000; do
    n=$((rate * LAT_SECONDS))
    reset "$FE_plain" '{"latency_column": "committed_us"}'
    echo "# writer: $rate rows/s for $LAT_SECONDS s"
    start=$(bench_now)
    python3 "$HERE/paced_sql.py" mariadb orders "$rate" "$LAT_SECONDS" $((rate / 50)) "$next_id" |
        mysql_in || exit 1
    writer_seconds=$(bench_elapsed "$start")
    next_id=$((next_id + n))
    wait_for 60 stat_is "$FE_plain" 's["latency_ms"]["n"]' "$n" ||
        { echo "# the endpoint got $(stat "$FE_plain" 's["latency_ms"]["n"]') rows, not $n"; exit 1; }
    lat=$(stat "$FE_plain" '"%(p50).0f %(p99).0f %(max).0f" % s["latency_ms"]')
    read -r p50 p99 max <<<"$lat"
    echo "# commit to loaded at $rate rows/s: p50 $p50 ms, p99 $p99 ms, max $max ms;" \
        "$(stat "$FE_plain" 's["loads"]') loads"
    verdict=met
    [ "$p99" -lt 2000 ] || verdict=missed
    # dbtail's rate: the rows over the time from the writer's start to the last load.
    span=$(bench_elapsed "$start" "$(stat "$FE_plain" 's["last_end"]')")
    bench_line "doris_latency_$rate" "$(bench_rate "$n" "$span")" writer \
        "$(bench_rate "$n" "$writer_seconds")" "$(bench_vmhwm_mb "$DBTAIL_PID")" "$verdict" \
        "p99 commit to loaded $p99 ms < 2000 ms"
done
stop_dbtail || exit 1
exit 0
