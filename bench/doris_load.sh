#!/usr/bin/env bash
# Doris loading: `dbtail snapshot` of a PostgreSQL table of BENCH_ROWS rows into the Doris
# emulator (sink.type=doris), against curl sending the same rows, prepared beforehand as one
# JSON-lines file, in one Stream Load to the same emulator. The emulator bounds both; the ratio
# is what dbtail's reading, rendering, batching, labels and checkpoints cost on top of the load.
source "$(dirname "$0")/../tests/lib/servers.sh"
source "$(dirname "$0")/lib.sh"

start_postgres || exit 1
start_doris || exit 1
W="$TMP_ROOT/w"
mkdir -p "$W"

psql_q "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(12,2),
                            created_at timestamptz NOT NULL)"
psql_q "INSERT INTO items SELECT g, 'item number ' || g, g % 100000 / 100.0,
               timestamptz '2025-01-01 00:00:00+00' + g * interval '1 second'
        FROM generate_series(1, $BENCH_ROWS) g"

cat >"$W/c.json" <<EOF
{"name": "bench", "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
 "database.hostname": "127.0.0.1", "database.port": "$PG_PORT", "database.user": "postgres",
 "database.dbname": "dbtail", "topic.prefix": "bench", "table.include.list": "public.items",
 "offset.storage.file.filename": "$W/offsets.json", "sink.type": "doris",
 "sink.doris.fenodes": "$DORIS_FE", "sink.doris.database": "bench"}
EOF
rows_in() {
    "$TEST_ROOT/scripts/demo/doris_count.py" "$DORIS_FE" bench "SELECT COUNT(*) FROM $1"
}

echo "# dbtail snapshot of $BENCH_ROWS rows into Doris"
bench_run "$DBTAIL" snapshot -c "$W/c.json" || exit 1
dbtail_seconds=$BENCH_SECONDS
dbtail_rss=$BENCH_RSS_MB
got=$(rows_in items)
[ "$got" = "$BENCH_ROWS" ] || { echo "# Doris has $got rows of items, not $BENCH_ROWS"; exit 1; }

# The peer's table: the same columns, UNIQUE KEY merge-on-write as dbtail's, without the
# sequence column (curl sends no order).
doris_sql bench "CREATE TABLE items_curl (id INT NOT NULL, name STRING NULL,
    price DECIMAL(12,2) NULL, created_at DATETIME(6) NULL) UNIQUE KEY(id)
    DISTRIBUTED BY HASH(id) BUCKETS AUTO PROPERTIES ('enable_unique_key_merge_on_write' = 'true')" >/dev/null
psql_q "COPY (SELECT json_build_object('id', id, 'name', name, 'price', price, 'created_at',
                  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'))
              FROM items ORDER BY id) TO STDOUT" >"$W/items.jsonl"

echo "# curl: one Stream Load of $(wc -c <"$W/items.jsonl") bytes"
start=$(bench_now)
curl -sS --location-trusted -u root: -H "label: bench-curl-1" -H "format: json" \
    -H "read_json_by_line: true" -H "Expect: 100-continue" -T "$W/items.jsonl" \
    "http://$DORIS_FE/api/bench/items_curl/_stream_load" >"$W/curl.out" || exit 1
curl_seconds=$(bench_elapsed "$start")
grep -q '"Status": *"Success"' "$W/curl.out" || { sed 's/^/# /' "$W/curl.out"; exit 1; }
got=$(rows_in items_curl)
[ "$got" = "$BENCH_ROWS" ] || { echo "# Doris has $got rows of items_curl, not $BENCH_ROWS"; exit 1; }

echo "# dbtail ${dbtail_seconds} s, curl ${curl_seconds} s for $BENCH_ROWS rows"
bench_line doris_load "$(bench_rate "$BENCH_ROWS" "$dbtail_seconds")" curl \
    "$(bench_rate "$BENCH_ROWS" "$curl_seconds")" "$dbtail_rss"
