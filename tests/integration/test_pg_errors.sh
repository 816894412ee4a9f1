#!/usr/bin/env bash
# PostgreSQL prerequisites and faults end in one clear line saying the fix: wal_level, a missing
# publication with autocreate disabled, a slot in use by another client, another plugin, a slot
# dropped under an existing state file, and `dbtail check`.
source "$(dirname "$0")/../lib/servers.sh"
source "$(dirname "$0")/pg_lib.sh"
PG_EXTRA_CONF="wal_sender_timeout = 10s" start_postgres || exit 1
W="$TMP_ROOT/w"
mkdir -p "$W"
on_exit drop_slots
psql_q "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a');"

# run_fail NAME WANT CONFIG-OVERRIDES...: dbtail run exits non-zero, its log names WANT.
run_fail() {
    local name="$1" want="$2"; shift 2
    pg_config_file "$W/$name.json" "sink.file.path=$W/$name.out" "offset.storage.file.filename=$W/$name.offsets" "$@"
    timeout 60 "$DBTAIL" run -c "$W/$name.json" >"$W/$name.log" 2>&1
    local rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -qF -- "$want" "$W/$name.log"; then
        ok "$name: fails with \"$want\""
    else
        not_ok "$name: fails with \"$want\" (exit $rc)"
        tail -3 "$W/$name.log" | sed 's/^/#   /'
    fi
}

run_fail "missing publication" "publication.autocreate.mode is disabled" publication.autocreate.mode=disabled publication.name=nopub
run_fail "other plugin" "only pgoutput is supported" plugin.name=decoderbufs
psql_q "SELECT pg_create_logical_replication_slot('tdslot', 'test_decoding')" >/dev/null
run_fail "slot of another plugin" "uses plugin test_decoding" slot.name=tdslot
psql_q "SELECT pg_drop_replication_slot('tdslot')" >/dev/null

# a slot streamed by another client
psql_q "SELECT pg_create_logical_replication_slot('busy', 'pgoutput')" >/dev/null
pg_recvlogical -h 127.0.0.1 -p "$PG_PORT" -U postgres -d dbtail -S busy --start \
    -o proto_version=1 -o publication_names=dbz_publication -f /dev/null 2>/dev/null &
RECV=$!
on_exit "kill $RECV"
wait_for 20 sh -c "[ \"\$(PGCONNECT_TIMEOUT=5 psql -X -h 127.0.0.1 -p $PG_PORT -U postgres -d dbtail -Atc \"SELECT active FROM pg_replication_slots WHERE slot_name = 'busy'\")\" = t ]"
run_fail "slot active for another client" "is active for another client" slot.name=busy
kill "$RECV"; wait "$RECV" 2>/dev/null

# a slot dropped while a state file points into it
pg_config_file "$W/drop.json" "sink.file.path=$W/drop.out" "offset.storage.file.filename=$W/drop.offsets" slot.name=dropme
start_dbtail drop run -c "$W/drop.json"
wait_for 30 grep -q '"phase": "stream"' "$W/drop.offsets"
stop_dbtail
psql_q "SELECT pg_drop_replication_slot('dropme')" >/dev/null
run_fail "slot dropped under a state file" "does not exist but the state file resumes" slot.name=dropme \
    "sink.file.path=$W/drop.out" "offset.storage.file.filename=$W/drop.offsets"
# when_needed takes a new snapshot instead
pg_config_file "$W/drop2.json" "sink.file.path=$W/drop.out" "offset.storage.file.filename=$W/drop.offsets" slot.name=dropme snapshot.mode=when_needed
start_dbtail drop2 run -c "$W/drop2.json"
check "when_needed: a new snapshot when the slot is gone" wait_for 30 grep -q "taking a new snapshot" "$TMP_ROOT/drop2.log"
stop_dbtail

# check: one line per prerequisite
pg_config_file "$W/check.json"
"$DBTAIL" check -c "$W/check.json" >"$W/check.out" 2>&1
check "check: wal_level line" grep -q "wal_level is logical" "$W/check.out"
check "check: replication privilege line" grep -q "has REPLICATION" "$W/check.out"
check "check: publication line" grep -q "publication dbz_publication exists" "$W/check.out"

# wal_level not logical (needs a restart of the server)
echo "wal_level = replica" >>"$PG_DATA/postgresql.conf"
psql_q "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots" >/dev/null
pg_ctl_run "restart -m fast"
run_fail "wal_level replica" "set wal_level = logical"
"$DBTAIL" check -c "$W/check.json" >"$W/check2.out" 2>&1
check "check: reports the wrong wal_level" grep -q "^FAIL.*wal_level is replica" "$W/check2.out"
