#!/usr/bin/env bash
# The Kafka sink end to end, against librdkafka's mock cluster (tests/lib/kafka_mock.c): with
# sink.type=file,kafka every record read back from Kafka equals the file sink's line for the
# same change (topic, key, value, tombstones) for PostgreSQL and MariaDB sources; a consumer
# written for Debezium's flattened records works unchanged; a broker taken down mid-stream
# loses nothing; kill -9 and a restart lose nothing and keep each key's order.
source "$(dirname "$0")/../lib/servers.sh"

# Both sinks render the same events; a fixed clock makes their ts_ms equal too.
export DBTAIL_FIXED_NOW_MS=1700000000000
RECORDS=("$KAFKA_PYTHON" "$TEST_ROOT/tests/lib/kafka_records.py")
CONSUMER=("$KAFKA_PYTHON" "$TEST_ROOT/tests/lib/debezium_consumer.py")
MARKER_TOPIC='^dbtail-offsets$'

# connector NAME SOURCE [KEY=VALUE...]: writes $TMP_ROOT/NAME.json for source pg or mariadb,
# sinks file and kafka, files under $TMP_ROOT/NAME.*; a value of - removes the key.
connector() {
    local name="$1" source="$2"; shift 2
    "$KAFKA_PYTHON" - "$TMP_ROOT/$name" "$source" "$@" <<PY
import json, sys
base, source, overrides = sys.argv[1], sys.argv[2], sys.argv[3:]
cfg = {
    "name": "$TEST_NAME",
    "sink.type": "file,kafka",
    "sink.file.path": base + ".jsonl",
    "offset.storage.file.filename": base + ".offsets.json",
    "sink.kafka.bootstrap.servers": "$KAFKA_BOOTSTRAP",
    "offset.flush.interval.ms": "200",
}
if source == "pg":
    cfg.update({
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "database.hostname": "127.0.0.1", "database.port": "${PG_PORT:-0}",
        "database.user": "postgres", "database.dbname": "dbtail",
        "topic.prefix": "pg-cdc", "plugin.name": "pgoutput",
        "slot.name": base.rsplit("/", 1)[1].replace("-", "_"),
        "publication.autocreate.mode": "all_tables",
    })
else:
    cfg.update({
        "connector.class": "io.debezium.connector.mariadb.MariaDbConnector",
        "database.hostname": "127.0.0.1", "database.port": "${MARIADB_PORT:-0}",
        "database.user": "root", "database.server.id": "4242",
        "database.include.list": "ecommerce_db",
        "topic.prefix": "mysql-cdc",
    })
for o in overrides:
    k, v = o.split("=", 1)
    if v == "-":
        cfg.pop(k, None)
    else:
        cfg[k] = v
json.dump(cfg, open(base + ".json", "w"), indent=2)
PY
}

# kafka_dump PREFIX FILE: the records of Kafka's topics PREFIX and PREFIX.*, in the file
# sink's layout (per partition in offset order).
kafka_dump() {
    "${RECORDS[@]}" dump "$KAFKA_BOOTSTRAP" --exclude "$MARKER_TOPIC" >"$TMP_ROOT/all.kafka"
    grep -E "^\{\"topic\":\"$1(\\.[^\"]*)?\"" "$TMP_ROOT/all.kafka" >"$2"
}
# lines FILE: number of records in a JSON-lines file (0 when it is missing).
lines() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }
has_lines() { [ "$(lines "$1")" -ge "$2" ]; }
# wait_lines FILE N: until FILE holds at least N records.
wait_lines() { wait_for 60 has_lines "$1" "$2"; }
# same NAME WANT GOT [--at-least-once]
same() {
    local name="$1"; shift
    local out
    if out=$("${RECORDS[@]}" same "$@"); then ok "$name"; else not_ok "$name"; echo "$out"; fi
}
# pg_txns N STATEMENT [PAUSE]: runs STATEMENT (which may use i, 1..N) as N transactions.
pg_txns() {
    psql_q "DO \$\$ BEGIN FOR i IN 1..$1 LOOP $2; COMMIT; PERFORM pg_sleep(${3:-0}); END LOOP; END \$\$"
}
show_log() { tail -n 20 "$TMP_ROOT/$1.log" | sed 's/^/#   /'; }

start_kafka_mock || { not_ok "kafka mock cluster starts"; exit 1; }
ok "kafka mock cluster at $KAFKA_BOOTSTRAP"

# ---------------------------------------------------------------- PostgreSQL: same records
start_postgres || { not_ok "postgres starts"; exit 1; }
psql_q "CREATE TABLE users (id int PRIMARY KEY, name text, qty int);
        INSERT INTO users SELECT g, 'user ' || g, g FROM generate_series(1, 20) g;"
connector pg1 pg
start_dbtail pg1 run -c "$TMP_ROOT/pg1.json"
wait_lines "$TMP_ROOT/pg1.jsonl" 20 || { not_ok "pg: snapshot reaches the file sink"; show_log pg1; }
psql_q "UPDATE users SET qty = qty + 100 WHERE id <= 5;
        DELETE FROM users WHERE id IN (6, 7);
        UPDATE users SET id = 1000 WHERE id = 8;
        INSERT INTO users VALUES (21, 'late', NULL);"
# 20 reads, 5 updates, 2 deletes + 2 tombstones, key change: delete + tombstone + create, 1 insert
wait_lines "$TMP_ROOT/pg1.jsonl" 33 || { not_ok "pg: stream reaches the file sink"; show_log pg1; }
sleep 1 # one more checkpoint interval for the Kafka sink's flush
check "pg: dbtail stops cleanly" stop_dbtail
kafka_dump pg-cdc "$TMP_ROOT/pg1.kafka"
same "pg: kafka holds exactly the file sink's records, in order per key" \
    "$TMP_ROOT/pg1.jsonl" "$TMP_ROOT/pg1.kafka"
check "pg: tombstones reach kafka" grep -q '"key":{.*"id":6}},"value":null}' "$TMP_ROOT/pg1.kafka"
check "pg: topic per table" grep -q '^{"topic":"pg-cdc.public.users"' "$TMP_ROOT/pg1.kafka"

# `dbtail check` asks the brokers for metadata.
"$DBTAIL" check -c "$TMP_ROOT/pg1.json" >"$TMP_ROOT/check.out" 2>&1
check "check: the brokers answer" grep -q "^ok kafka: 1 broker at $KAFKA_BOOTSTRAP" "$TMP_ROOT/check.out"
connector pg-nobroker pg sink.kafka.bootstrap.servers=127.0.0.1:1
"$DBTAIL" check -c "$TMP_ROOT/pg-nobroker.json" >"$TMP_ROOT/check.out" 2>&1
check "check: no broker is a failure naming the address" \
    grep -q '^FAIL kafka: no metadata from 127.0.0.1:1' "$TMP_ROOT/check.out"

# ------------------------------------------- a consumer written for Debezium's flat records
connector pg2 pg topic.prefix=pg-flat transforms=unwrap \
    transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState \
    transforms.unwrap.delete.tombstone.handling.mode=rewrite-with-tombstone \
    key.converter.schemas.enable=false value.converter.schemas.enable=false
start_dbtail pg2 run -c "$TMP_ROOT/pg2.json"
wait_lines "$TMP_ROOT/pg2.jsonl" 19 || { not_ok "pg flat: snapshot reaches the file sink"; show_log pg2; }
psql_q "UPDATE users SET name = 'again ' || id WHERE id % 3 = 0;
        DELETE FROM users WHERE id = 9;
        INSERT INTO users VALUES (22, 'new', 7);"
wait_lines "$TMP_ROOT/pg2.jsonl" 28 || { not_ok "pg flat: stream reaches the file sink"; show_log pg2; }
"${CONSUMER[@]}" "$KAFKA_BOOTSTRAP" pg-flat.public.users id,name,qty >"$TMP_ROOT/pg2.copy"
psql_q "SELECT id, name, coalesce(qty::text, 'NULL') FROM users ORDER BY id" |
    tr '|' '\t' >"$TMP_ROOT/pg2.table"
check_eq "pg flat: a Debezium consumer's copy of the table equals the table" \
    "$(cat "$TMP_ROOT/pg2.copy")" "$(cat "$TMP_ROOT/pg2.table")"
check "pg flat: dbtail stops cleanly" stop_dbtail
kafka_dump pg-flat "$TMP_ROOT/pg2.kafka"
same "pg flat: kafka holds exactly the file sink's records" "$TMP_ROOT/pg2.jsonl" "$TMP_ROOT/pg2.kafka"

# ------------------------------------------------------------- MariaDB: same records
start_mariadb || { not_ok "mariadb starts"; exit 1; }
mariadb_q "CREATE DATABASE ecommerce_db"
mariadb_q "CREATE TABLE ecommerce_db.users (id INT PRIMARY KEY, name VARCHAR(64), qty INT);
           CREATE TABLE ecommerce_db.stock (sku INT PRIMARY KEY, qty INT NOT NULL);
           INSERT INTO ecommerce_db.stock SELECT seq, 0 FROM seq_1_to_10;
           INSERT INTO ecommerce_db.users SELECT seq, CONCAT('user ', seq), seq FROM seq_1_to_20;" \
    ecommerce_db
connector my1 mariadb table.include.list=ecommerce_db.users
start_dbtail my1 run -c "$TMP_ROOT/my1.json"
wait_lines "$TMP_ROOT/my1.jsonl" 20 || { not_ok "mariadb: snapshot reaches the file sink"; show_log my1; }
mariadb_q "UPDATE ecommerce_db.users SET qty = qty + 100 WHERE id <= 5;
           DELETE FROM ecommerce_db.users WHERE id IN (6, 7);
           UPDATE ecommerce_db.users SET id = 1000 WHERE id = 8;
           INSERT INTO ecommerce_db.users VALUES (21, 'late', NULL);
           ALTER TABLE ecommerce_db.users ADD COLUMN note VARCHAR(20);
           INSERT INTO ecommerce_db.users VALUES (22, 'after ddl', 1, 'x');"
wait_for 60 grep -q '"payload":{"id":22}' "$TMP_ROOT/my1.jsonl" ||
    { not_ok "mariadb: stream reaches the file sink"; show_log my1; }
sleep 1
check "mariadb: dbtail stops cleanly" stop_dbtail
kafka_dump mysql-cdc "$TMP_ROOT/my1.kafka"
same "mariadb: kafka holds exactly the file sink's records, in order per key" \
    "$TMP_ROOT/my1.jsonl" "$TMP_ROOT/my1.kafka"
check "mariadb: the seed's topic layout (mysql-cdc.ecommerce_db.users)" \
    grep -q '^{"topic":"mysql-cdc.ecommerce_db.users","key":{.*"id":1}}' "$TMP_ROOT/my1.kafka"
check "mariadb: schema changes on topic mysql-cdc" \
    grep -q '^{"topic":"mysql-cdc",.*ADD COLUMN note' "$TMP_ROOT/my1.kafka"
check "mariadb: tombstones reach kafka" grep -q '"key":{.*"id":6}},"value":null}' "$TMP_ROOT/my1.kafka"

# Flat records with schemas (the JsonConverter's default), read by the same consumer.
connector my2 mariadb topic.prefix=mysql-flat table.include.list=ecommerce_db.users \
    transforms=unwrap transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState \
    transforms.unwrap.delete.tombstone.handling.mode=rewrite
start_dbtail my2 run -c "$TMP_ROOT/my2.json"
wait_lines "$TMP_ROOT/my2.jsonl" 19 || { not_ok "mariadb flat: snapshot reaches the file sink"; show_log my2; }
mariadb_q "UPDATE ecommerce_db.users SET name = CONCAT('again ', id) WHERE id % 3 = 0;
           DELETE FROM ecommerce_db.users WHERE id = 9;
           INSERT INTO ecommerce_db.users VALUES (23, 'new', 7, NULL);"
wait_for 60 grep -q '"id":23' "$TMP_ROOT/my2.jsonl" ||
    { not_ok "mariadb flat: stream reaches the file sink"; show_log my2; }
"${CONSUMER[@]}" "$KAFKA_BOOTSTRAP" mysql-flat.ecommerce_db.users id,name,qty,note >"$TMP_ROOT/my2.copy"
mariadb_q "SELECT id, name, IFNULL(qty, 'NULL'), IFNULL(note, 'NULL') FROM ecommerce_db.users ORDER BY id" \
    >"$TMP_ROOT/my2.table"
check_eq "mariadb flat: a Debezium consumer's copy of the table equals the table" \
    "$(cat "$TMP_ROOT/my2.copy")" "$(cat "$TMP_ROOT/my2.table")"
check "mariadb flat: dbtail stops cleanly" stop_dbtail
kafka_dump mysql-flat "$TMP_ROOT/my2.kafka"
same "mariadb flat: kafka holds exactly the file sink's records" "$TMP_ROOT/my2.jsonl" "$TMP_ROOT/my2.kafka"

# ------------------------------------------------------- broker down and up mid-stream
psql_q "CREATE TABLE stock (sku int PRIMARY KEY, qty int NOT NULL);
        INSERT INTO stock SELECT g, 0 FROM generate_series(1, 10) g;"
connector pg3 pg topic.prefix=pg-outage table.include.list=public.stock
start_dbtail pg3 run -c "$TMP_ROOT/pg3.json"
wait_lines "$TMP_ROOT/pg3.jsonl" 10 || { not_ok "outage: snapshot reaches the file sink"; show_log pg3; }
kafka_ctl down 1
pg_txns 30 "UPDATE stock SET qty = qty + 1 WHERE sku = i % 10 + 1"
sleep 2
pg_txns 30 "UPDATE stock SET qty = qty + 1 WHERE sku = i % 10 + 1"
sleep 3
# The Kafka sink's flush waits for the broker, and the pipeline with it (backpressure): the
# file sink, flushed first at the same checkpoints, is held back too. The first checkpoint after
# the outage may hold all of the first 30 changes (they can come within one
# offset.flush.interval.ms), never any of the 30 after it.
check "outage: the pipeline waits while the broker is down" \
    test "$(lines "$TMP_ROOT/pg3.jsonl")" -lt 70
kafka_ctl up 1
pg_txns 10 "UPDATE stock SET qty = qty + 10 WHERE sku = i"
wait_lines "$TMP_ROOT/pg3.jsonl" 80 || { not_ok "outage: changes reach the file sink"; show_log pg3; }
sleep 1
check "outage: dbtail stops cleanly" stop_dbtail
check "outage: dbtail did not restart (no duplicates expected)" \
    bash -c "! grep -q 'resuming after' '$TMP_ROOT/pg3.log'"
kafka_dump pg-outage "$TMP_ROOT/pg3.kafka"
same "outage: kafka holds exactly the file sink's records" "$TMP_ROOT/pg3.jsonl" "$TMP_ROOT/pg3.kafka"

# An outage longer than message.timeout.ms: the delivery timeout is retriable, the pipeline
# starts again from the last checkpoint, and Kafka gets what it missed (at least once).
connector pg4 pg topic.prefix=pg-long table.include.list=public.stock sink.kafka.message.timeout.ms=1500
start_dbtail pg4 run -c "$TMP_ROOT/pg4.json"
wait_lines "$TMP_ROOT/pg4.jsonl" 10 || { not_ok "long outage: snapshot reaches the file sink"; show_log pg4; }
sleep 0.5
kafka_ctl down 1
pg_txns 10 "UPDATE stock SET qty = qty + 1 WHERE sku = i"
check "long outage: the delivery timeout is reported and retried" \
    wait_for 30 grep -q 'message.timeout.ms' "$TMP_ROOT/pg4.log"
kafka_ctl up 1
pg_txns 10 "UPDATE stock SET qty = qty + 1 WHERE sku = i"
wait_lines "$TMP_ROOT/pg4.jsonl" 30 || { not_ok "long outage: changes reach the file sink"; show_log pg4; }
wait_for 30 grep -q 'resuming after' "$TMP_ROOT/pg4.log"
sleep 1
check "long outage: dbtail stops cleanly" stop_dbtail
kafka_dump pg-long "$TMP_ROOT/pg4.kafka"
same "long outage: kafka holds every change at least once, in order per key" \
    "$TMP_ROOT/pg4.jsonl" "$TMP_ROOT/pg4.kafka" --at-least-once

# ------------------------------------------------------------ kill -9, then a restart
# kill_run NAME SOURCE [KEY=VALUE...]: 200 one-row transactions over 10 keys of table stock
# while dbtail is killed with SIGKILL and started again; then Kafka must hold every change at
# least once, in order per key. The file sink cuts back to its checkpoint, so it holds each
# change exactly once and is the reference.
kill_run() {
    local name="$1" source="$2"; shift 2
    if [ "$source" = pg ]; then
        psql_q "UPDATE stock SET qty = 0"
        connector "$name" pg topic.prefix="$name" table.include.list=public.stock "$@"
    else
        mariadb_q "UPDATE ecommerce_db.stock SET qty = 0"
        connector "$name" mariadb topic.prefix="$name" table.include.list=ecommerce_db.stock "$@"
    fi
    start_dbtail "$name" run -c "$TMP_ROOT/$name.json"
    wait_lines "$TMP_ROOT/$name.jsonl" 10 || { not_ok "$name: snapshot reaches the file sink"; show_log "$name"; }
    if [ "$source" = pg ]; then
        pg_txns 200 "UPDATE stock SET qty = qty + 1 WHERE sku = i % 10 + 1" 0.02 &
    else
        for i in $(seq 1 200); do
            echo "UPDATE ecommerce_db.stock SET qty = qty + 1 WHERE sku = $((i % 10 + 1)); DO SLEEP(0.02);"
        done | mariadb --no-defaults -h 127.0.0.1 -P "$MARIADB_PORT" -u root &
    fi
    local writer=$!
    wait_lines "$TMP_ROOT/$name.jsonl" 60
    kill -9 "$DBTAIL_PID"
    wait "$DBTAIL_PID" 2>/dev/null
    start_dbtail "$name" run -c "$TMP_ROOT/$name.json"
    wait "$writer"
    wait_lines "$TMP_ROOT/$name.jsonl" 210 || { not_ok "$name: every change reaches the file sink"; show_log "$name"; }
    sleep 1
    check "$name: dbtail stops cleanly after the restart" stop_dbtail
    check_eq "$name: the file sink holds each change once" "$(lines "$TMP_ROOT/$name.jsonl")" 210
    kafka_dump "$name" "$TMP_ROOT/$name.kafka"
    same "$name: kafka holds every change at least once, in order per key" \
        "$TMP_ROOT/$name.jsonl" "$TMP_ROOT/$name.kafka" --at-least-once
}
kill_run pg-kill pg
# Transactions: the restart fences the killed producer and reads its marker back. librdkafka
# 2.0.2's mock cluster writes no transaction markers, so a read_committed consumer would still
# see what the killed producer left uncommitted: exactly once needs a real broker to show.
kill_run mariadb-kill-txn mariadb sink.kafka.transactional.id=mariadb-kill-txn
