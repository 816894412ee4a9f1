#!/usr/bin/env bash
# Transaction metadata (provide.transaction.metadata=true) from a real PostgreSQL through the file
# and Kafka sinks: a transaction touching two tables is framed by BEGIN and END records on
# it.transaction, its changes count total_order 1..N and data_collection_order per table, END
# holds the counts in Debezium's (java.util.HashMap's) order; snapshot rows carry no block;
# Kafka gets the file's records; after kill -9 and a restart every transaction still has exactly
# one BEGIN and one END around its changes; with a transactional producer END joins its
# transaction's Kafka transaction.
source "$(dirname "$0")/../lib/servers.sh"
source "$(dirname "$0")/pg_lib.sh"
# Both sinks render the same events; a fixed clock makes their ts_ms equal too.
export DBTAIL_FIXED_NOW_MS=1700000000000
RECORDS=("$KAFKA_PYTHON" "$TEST_ROOT/tests/lib/kafka_records.py")
CHECKER=(python3 "$TEST_ROOT/tests/integration/txmeta_check.py")

start_postgres || exit 1
start_kafka_mock || { not_ok "kafka mock cluster starts"; exit 1; }
W="$TMP_ROOT/w"
mkdir -p "$W"
on_exit drop_slots
show_log() { tail -n 20 "$TMP_ROOT/$1.log" | sed 's/^/#   /'; }
# kafka_dump PREFIX FILE: the records of Kafka's PREFIX.* topics, in the file sink's layout.
kafka_dump() {
    "${RECORDS[@]}" dump "$KAFKA_BOOTSTRAP" --exclude '^dbtail-offsets$' |
        grep -E "^\{\"topic\":\"$1\\." >"$2"
}
# summary: one line per record of out.jsonl: "topic status|op total_order dco" and the END's
# counts as "END n [table=count ...]".
summary() {
    python3 - "$W/out.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    v = r["value"]
    if v is None:
        print(r["topic"], "tombstone")
    elif r["topic"] == "it.transaction":
        if v["status"] == "BEGIN":
            print(r["topic"], "BEGIN")
        else:
            print(r["topic"], "END", v["event_count"],
                  " ".join("%s=%d" % (c["data_collection"], c["event_count"])
                           for c in v["data_collections"]))
    elif "op" in v:
        t = v["transaction"]
        print(r["topic"], v["op"], *((t["total_order"], t["data_collection_order"]) if t else ["null"]))
PY
}

psql_q "CREATE TABLE orders (id int PRIMARY KEY, v text);
        CREATE TABLE items (id int PRIMARY KEY, v text);
        INSERT INTO orders VALUES (100, 'seed');"
pg_config_file "$W/c.json" provide.transaction.metadata=true tombstones.on.delete=true \
    sink.type=file,kafka "sink.kafka.bootstrap.servers=$KAFKA_BOOTSTRAP"
start_dbtail tx1 run -c "$W/c.json"
wait_for 30 grep -q "streaming from slot" "$TMP_ROOT/tx1.log" || show_log tx1

psql_q "BEGIN;
        INSERT INTO orders VALUES (1, 'x'), (2, 'y');
        INSERT INTO items VALUES (10, 'z');
        UPDATE orders SET v = 'x2' WHERE id = 1;
        DELETE FROM items WHERE id = 10;
        COMMIT;"
psql_q "INSERT INTO items VALUES (11, 'w')"
check "both transactions reach the file sink" \
    wait_for 30 sh -c "[ \$(grep -c '\"status\":\"END\"' '$W/out.jsonl') -ge 2 ]"

summary >"$W/summary.txt"
check_eq "the snapshot row has a null block and no BEGIN/END around it" \
    "$(head -n 1 "$W/summary.txt")" "it.public.orders r null"
# Tombstones are no event; END lists items before orders, as Debezium's HashMap iterates them.
check_eq "BEGIN, the changes in order with their counters, END with the counts" \
    "$(sed -n '2,9p' "$W/summary.txt")" "it.transaction BEGIN
it.public.orders c 1 1
it.public.orders c 2 2
it.public.items c 3 1
it.public.orders u 4 3
it.public.items d 5 2
it.public.items tombstone
it.transaction END 5 public.items=2 public.orders=3"
check_eq "the next transaction counts afresh" "$(sed -n '10,12p' "$W/summary.txt")" \
    "it.transaction BEGIN
it.public.items c 1 1
it.transaction END 1 public.items=1"
check "ids, keys, ts_ms and counters throughout" "${CHECKER[@]}" "$W/out.jsonl" it
sleep 1 # one more checkpoint interval for the Kafka sink's flush
check "dbtail stops cleanly" stop_dbtail
kafka_dump it "$W/out.kafka"
if out=$("${RECORDS[@]}" same "$W/out.jsonl" "$W/out.kafka"); then
    ok "kafka holds exactly the file sink's records, BEGIN and END included"
else
    not_ok "kafka holds exactly the file sink's records, BEGIN and END included"
    echo "$out"
fi
check "kafka: BEGIN and END on it.transaction" \
    grep -q '^{"topic":"it.transaction","key":{"id":"[0-9]*:[0-9]*"},"value":{"status":"END"' \
    "$W/out.kafka"

# kill -9 in the middle of 200 transactions, then a restart: the file is cut back to the last
# checkpoint, so each transaction is written once, framed once.
start_dbtail tx2 run -c "$W/c.json"
wait_for 30 grep -q "streaming from slot" "$TMP_ROOT/tx2.log" || show_log tx2
psql_q "DO \$\$ BEGIN FOR i IN 1..200 LOOP
            INSERT INTO orders VALUES (1000 + i, 'o'); INSERT INTO items VALUES (1000 + i, 'i');
            UPDATE orders SET v = 'o2' WHERE id = 1000 + i;
            COMMIT; PERFORM pg_sleep(0.005); END LOOP; END \$\$" &
load=$!
wait_for 30 sh -c "[ \$(grep -c '\"id\":10[0-9][0-9]' '$W/out.jsonl') -ge 30 ]"
kill -9 "$DBTAIL_PID"
wait "$DBTAIL_PID" 2>/dev/null
ends=$(grep -c '"status":"END"' "$W/out.jsonl")
check "kill -9 landed in mid-load ($ends transactions written)" test "$ends" -lt 202
wait "$load"
start_dbtail tx3 run -c "$W/c.json"
check "after the restart every transaction arrives" \
    wait_for 60 sh -c "[ \$(grep -c '\"status\":\"END\"' '$W/out.jsonl') -ge 202 ]"
sleep 1
check "dbtail stops cleanly after the restart" stop_dbtail
grep -h "cutting .* back" "$TMP_ROOT/tx3.log" | sed 's/^/# /'
if counts=$("${CHECKER[@]}" "$W/out.jsonl" it); then
    check_eq "202 transactions, 606 changes, each framed once" "$counts" "202 606"
else
    not_ok "each transaction framed once after kill -9"
    echo "$counts"
fi
kafka_dump it "$W/out.kafka"
if out=$("${RECORDS[@]}" same "$W/out.jsonl" "$W/out.kafka" --at-least-once); then
    ok "kafka after kill -9: the file's records, at least once"
else
    not_ok "kafka after kill -9: the file's records, at least once"
    echo "$out"
fi

# A transactional producer: END goes into the Kafka transaction its changes opened.
pg_config_file "$W/ctx.json" provide.transaction.metadata=true sink.type=file,kafka \
    "sink.kafka.bootstrap.servers=$KAFKA_BOOTSTRAP" sink.kafka.transactional.id=txmeta-it \
    topic.prefix=itx slot.name=txmeta_tx snapshot.mode=no_data \
    "sink.file.path=$W/tx.jsonl" "offset.storage.file.filename=$W/tx.offsets.json"
start_dbtail tx4 run -c "$W/ctx.json"
wait_for 30 grep -q "streaming from slot" "$TMP_ROOT/tx4.log" || show_log tx4
psql_q "BEGIN; INSERT INTO orders VALUES (5000, 'a'); INSERT INTO items VALUES (5000, 'b'); COMMIT;"
psql_q "UPDATE items SET v = 'c' WHERE id = 5000"
check "transactional: both transactions reach the file sink" \
    wait_for 30 sh -c "[ \$(grep -c '\"status\":\"END\"' '$W/tx.jsonl' 2>/dev/null) -ge 2 ]"
sleep 1
check "transactional: dbtail stops cleanly" stop_dbtail
kafka_dump itx "$W/tx.kafka"
if out=$("${RECORDS[@]}" same "$W/tx.jsonl" "$W/tx.kafka"); then
    ok "transactional: kafka holds exactly the file's records, BEGIN and END included"
else
    not_ok "transactional: kafka holds exactly the file's records, BEGIN and END included"
    echo "$out"
fi
check_eq "transactional: two BEGIN/END pairs" "$(grep -c '^{"topic":"itx.transaction"' "$W/tx.kafka")" 4
