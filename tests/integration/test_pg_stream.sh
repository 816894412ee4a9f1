#!/usr/bin/env bash
# PostgreSQL streaming: REPLICA IDENTITY DEFAULT vs FULL, key changes, unchanged TOAST values,
# a table without a primary key, TRUNCATE, a 200,000-row transaction in bounded memory, and a
# server restart in mid-stream.
source "$(dirname "$0")/../lib/servers.sh"
source "$(dirname "$0")/pg_lib.sh"
# ASan's quarantine of freed memory (256 MB by default) would hide what dbtail itself keeps.
export ASAN_OPTIONS="${ASAN_OPTIONS}:quarantine_size_mb=16"
start_postgres || exit 1
W="$TMP_ROOT/w"
mkdir -p "$W"
on_exit drop_slots
dump() { python3 "$TEST_ROOT/tests/integration/pg_events.py" dump "$W/out.jsonl"; }
# expect NAME PATTERN: one dumped record matches the extended regex
expect() {
    dump >"$W/dump.txt"
    if grep -Eq -- "$2" "$W/dump.txt"; then ok "$1"; else not_ok "$1"; echo "#   no record matches: $2"; fi
}
lines() { wc -l <"$W/out.jsonl" | tr -d ' '; }

psql_q "CREATE TABLE dflt (id int PRIMARY KEY, v text);
        CREATE TABLE full_ri (id int PRIMARY KEY, v text); ALTER TABLE full_ri REPLICA IDENTITY FULL;
        CREATE TABLE toast (id int PRIMARY KEY, small text, big text);
        CREATE TABLE nopk (a int, b text); ALTER TABLE nopk REPLICA IDENTITY FULL;
        CREATE TABLE big (id int PRIMARY KEY, v text);"
pg_config_file "$W/c.json" skipped.operations=none snapshot.mode=no_data
start_dbtail dbtail1 run -c "$W/c.json"
wait_for 30 grep -q "streaming from slot" "$TMP_ROOT/dbtail1.log" || cat "$TMP_ROOT/dbtail1.log"

psql_q "INSERT INTO dflt VALUES (1, 'a'), (2, 'b'); UPDATE dflt SET v = 'a2' WHERE id = 1;
        UPDATE dflt SET id = 20 WHERE id = 2; DELETE FROM dflt WHERE id = 1;"
psql_q "INSERT INTO full_ri VALUES (1, 'a'); UPDATE full_ri SET v = 'a2' WHERE id = 1;
        UPDATE full_ri SET id = 10 WHERE id = 1; DELETE FROM full_ri WHERE id = 10;"
psql_q "INSERT INTO toast SELECT 1, 's', string_agg(md5(g::text), '') FROM generate_series(1, 600) g;
        UPDATE toast SET small = 't' WHERE id = 1;"
psql_q "INSERT INTO nopk VALUES (1, 'x'); UPDATE nopk SET b = 'y' WHERE a = 1; DELETE FROM nopk;"
psql_q "TRUNCATE dflt, nopk;"
check "stream events arrive" wait_for 30 sh -c "grep -q '\"op\":\"t\"' '$W/out.jsonl'"

expect "default identity: update has no before" '^u \{"id": 1\} null \{"id": 1, "v": "a2"\} false'
expect "default identity: key change is a delete of the old key" '^d \{"id": 2\} \{"id": 2, "v": null\} null'
expect "default identity: key change then creates the new key" '^c \{"id": 20\} null \{"id": 20, "v": "b"\}'
expect "default identity: delete carries the key" '^d \{"id": 1\} \{"id": 1, "v": null\} null'
expect "full identity: update has the old row" '^u \{"id": 1\} \{"id": 1, "v": "a"\} \{"id": 1, "v": "a2"\}'
expect "full identity: key change deletes the full old row" '^d \{"id": 1\} \{"id": 1, "v": "a2"\} null'
expect "full identity: key change creates the new key" '^c \{"id": 10\} null \{"id": 10, "v": "a2"\}'
expect "full identity: delete has the full row" '^d \{"id": 10\} \{"id": 10, "v": "a2"\} null'
expect "unchanged TOAST value is the placeholder" '^u \{"id": 1\} null \{"id": 1, "small": "t", "big": "__debezium_unavailable_value"\}'
expect "table without primary key: null key, full rows" '^u null \{"a": 1, "b": "x"\} \{"a": 1, "b": "y"\}'
expect "truncate" '^t null'
check_eq "truncate of two tables is two events" "$(dump | grep -c '^t ')" 2
check "source block: lsn, txId, commit time" sh -c "python3 -c '
import json, sys
for l in open(sys.argv[1]):
    v = json.loads(l)[\"value\"]
    s = v[\"source\"]
    assert s[\"lsn\"] > 0 and s[\"txId\"] > 0 and s[\"ts_ms\"] > 1.7e12 and s[\"connector\"] == \"postgresql\", s
    assert s[\"sequence\"] is not None
' '$W/out.jsonl'"

# a 200,000-row transaction: memory stays bounded
before=$(lines)
psql_q "INSERT INTO big SELECT g, repeat('v', 100) FROM generate_series(1, 200000) g"
check "the 200,000-row transaction arrives" wait_for 120 sh -c "[ \$(wc -l <'$W/out.jsonl') -ge $((before + 200000)) ]"
hwm=$(awk '/VmHWM/ {print $2}' /proc/$DBTAIL_PID/status)
echo "# dbtail VmHWM ${hwm} kB after the 200,000-row transaction"
check "peak RSS under 200 MB (VmHWM ${hwm} kB)" test "${hwm:-999999}" -lt 204800

# server restart in mid-stream: dbtail reconnects and goes on
psql_q "INSERT INTO dflt VALUES (100, 'before restart')"
wait_for 30 sh -c "grep -q 'before restart' '$W/out.jsonl'"
pg_ctl_run "restart -m fast"
psql_q "INSERT INTO dflt VALUES (101, 'after restart')"
check "changes after a server restart arrive" wait_for 60 sh -c "grep -q 'after restart' '$W/out.jsonl'"
check "dbtail survived the restart" kill -0 "$DBTAIL_PID"
check_eq "each change once across the restart" "$(grep -c 'before restart' "$W/out.jsonl")" 1
stop_dbtail
check_eq "clean stop" "$?" 0

# the slot was confirmed up to the last durable commit
confirmed=$(psql_q "SELECT confirmed_flush_lsn >= pg_current_wal_lsn() - 1000000 FROM pg_replication_slots WHERE slot_name = 'debezium'")
check_eq "slot confirmed near the end of WAL" "$confirmed" "t"
