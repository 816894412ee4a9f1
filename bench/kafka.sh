#!/usr/bin/env bash
# Kafka producing: dbtail streams a PostgreSQL transaction of ROWS inserted rows (default
# 1,000,000: five times BENCH_ROWS) from its slot into the Kafka mock cluster
# (sink.type=kafka, its defaults: idempotent, acks=all, lz4, murmur2), against `kcat -P`
# producing the same messages, read back from dbtail's topic into a file beforehand, with the
# same producer settings into another topic of the same cluster. dbtail's time runs from its
# start until the last message is acknowledged (its state file reaches the transaction's
# end, which it writes only after a successful flush); the ratio is what reading pgoutput and
# rendering cost on top of producing.
source "$(dirname "$0")/../tests/lib/servers.sh"
source "$(dirname "$0")/lib.sh"

ROWS="${BENCH_KAFKA_ROWS:-$((BENCH_ROWS * 5))}"
start_postgres || exit 1
start_kafka_mock || exit 1
W="$TMP_ROOT/w"
mkdir -p "$W"

psql_q "CREATE TABLE events (id bigint PRIMARY KEY, kind text NOT NULL, amount numeric(12,2),
                             at timestamptz NOT NULL)"
cat >"$W/c.json" <<EOF
{"name": "bench", "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
 "database.hostname": "127.0.0.1", "database.port": "$PG_PORT", "database.user": "postgres",
 "database.dbname": "dbtail", "topic.prefix": "bench", "table.include.list": "public.events",
 "snapshot.mode": "no_data", "offset.storage.file.filename": "$W/offsets.json",
 "sink.type": "kafka", "sink.kafka.bootstrap.servers": "$KAFKA_BOOTSTRAP"}
EOF

# The mock keeps at most 5 MB per partition: enough partitions to keep every message.
topic=bench.public.events
kafka_ctl topic "$topic" 64 && kafka_ctl topic "$topic.kcat" 64 || exit 1

# The slot first, then the changes: dbtail then finds the whole transaction waiting.
start_dbtail setup run -c "$W/c.json"
wait_for 60 grep -q 'streaming from slot' "$TMP_ROOT/setup.log" || { cat "$TMP_ROOT/setup.log"; exit 1; }
stop_dbtail || exit 1
before_lsn=$(psql_q "SELECT pg_current_wal_lsn()")
psql_q "INSERT INTO events SELECT g, 'kind ' || (g % 17), g % 100000 / 100.0,
               timestamptz '2025-01-01 00:00:00+00' + g * interval '1 second'
        FROM generate_series(1, $ROWS) g"
# state_past LSN: the state file's position is past LSN, i.e. past the one transaction.
state_past() {
    local at
    at=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["position"]["lsn"])' \
        "$W/offsets.json" 2>/dev/null) || return 1
    psql_q "SELECT '$at'::pg_lsn > '$1'::pg_lsn" | grep -q t
}

echo "# dbtail: $ROWS inserts of one transaction into the kafka mock cluster"
start=$(bench_now)
start_dbtail bench run -c "$W/c.json"
rss=0
until state_past "$before_lsn"; do
    kill -0 "$DBTAIL_PID" 2>/dev/null || { echo "# dbtail exited"; tail -n 20 "$TMP_ROOT/bench.log"; exit 1; }
    rss=$(bench_vmhwm_mb "$DBTAIL_PID")
    sleep 0.2
done
dbtail_seconds=$(bench_elapsed "$start")
rss=$(bench_vmhwm_mb "$DBTAIL_PID")
stop_dbtail || exit 1

echo "# reading $topic back as the peer's input"
kcat -C -b "$KAFKA_BOOTSTRAP" -t "$topic" -e -q -f '%k\t%s\n' >"$W/messages.tsv" || exit 1
got=$(wc -l <"$W/messages.tsv")
[ "$got" -eq "$ROWS" ] || { echo "# $topic holds $got messages, not $ROWS"; exit 1; }

echo "# kcat -P: the same $got messages ($(wc -c <"$W/messages.tsv") bytes) into $topic.kcat"
start=$(bench_now)
kcat -P -b "$KAFKA_BOOTSTRAP" -t "$topic.kcat" -K $'\t' -z lz4 -X enable.idempotence=true \
    -X acks=all -X partitioner=murmur2_random <"$W/messages.tsv" || exit 1
kcat_seconds=$(bench_elapsed "$start")
got=$(kcat -C -b "$KAFKA_BOOTSTRAP" -t "$topic.kcat" -e -q -f '\n' | wc -l)
[ "$got" -eq "$ROWS" ] || { echo "# $topic.kcat holds $got messages, not $ROWS"; exit 1; }

echo "# dbtail ${dbtail_seconds} s, kcat ${kcat_seconds} s for $ROWS messages"
bench_line kafka "$(bench_rate "$ROWS" "$dbtail_seconds")" kcat \
    "$(bench_rate "$ROWS" "$kcat_seconds")" "$rss"
