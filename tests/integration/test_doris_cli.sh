#!/usr/bin/env bash
# The Doris sink as a user meets it through the CLI, against the Stream Load emulator and a
# PostgreSQL source: `dbtail check` with good and bad credentials, `dbtail run` stopping with a
# clear message when Doris refuses the credentials or rejects rows, and a keyless table loaded
# with two-phase commit through the pipeline's checkpoints.
source "$(dirname "$0")/../lib/servers.sh"
source "$(dirname "$0")/pg_lib.sh"
start_postgres || exit 1
start_doris || exit 1
W="$TMP_ROOT/w"
mkdir -p "$W"
on_exit drop_slots

psql_q "CREATE TABLE items (id int PRIMARY KEY, note varchar(40));
        INSERT INTO items VALUES (1, 'short'), (2, 'a note longer than ten');"
config() {
    pg_config_file "$W/c.json" sink.type=doris "sink.doris.fenodes=$DORIS_FE" \
        sink.doris.database=shop sink.doris.max.retries=1 sink.file.path=- "$@"
}

config
"$DBTAIL" check -c "$W/c.json" >"$W/check.out" 2>&1
rc=$?
check "check passes against a reachable Doris" test "$rc" = 0
check "check names the FE it reached" grep -q "ok doris FE $DORIS_FE reachable, user root accepted" "$W/check.out"
check "check says the database will be created" grep -q "ok doris database shop does not exist yet" "$W/check.out"

config sink.doris.password=wrong
"$DBTAIL" check -c "$W/c.json" >"$W/check-bad.out" 2>&1
rc=$?
check "check fails with a wrong password" test "$rc" != 0
check "check names the rejected credentials" \
    grep -q "FAIL doris: sink.doris.username/password rejected by FE $DORIS_FE" "$W/check-bad.out"

timeout 60 "$DBTAIL" run -c "$W/c.json" >"$W/run-bad.out" 2>&1
rc=$?
check "run stops on refused credentials (not a retry loop)" test "$rc" != 0 -a "$rc" != 124
check "run says which credentials and which FE" \
    grep -q "sink.doris.username/password rejected by FE $DORIS_FE" "$W/run-bad.out"
drop_slots
rm -f "$W/offsets.json"

# A table made by hand with a column narrower than the source's: Doris rejects a row.
doris_sql information_schema "CREATE DATABASE shop" >/dev/null
doris_sql shop "CREATE TABLE items (id INT NOT NULL, note VARCHAR(10) NULL) UNIQUE KEY(id)
    DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES ('function_column.sequence_type' = 'bigint')" >/dev/null
config sink.doris.auto.create=false
timeout 60 "$DBTAIL" run -c "$W/c.json" >"$W/run-reject.out" 2>&1
rc=$?
check "run stops when Doris rejects rows" test "$rc" != 0 -a "$rc" != 124
check "the error names the table and what Doris said" \
    grep -q "Doris rejected rows of shop.items (load .*1 of 2 rows filtered).*too many filtered rows" "$W/run-reject.out"
check "the rejected row is in the log" grep -q "rejected by shop.items.*too long" "$W/run-reject.out"
check_eq "nothing of the refused batch was loaded" \
    "$(doris_sql shop 'SELECT COUNT(*) FROM items' | grep -o '\[\[[0-9]*\]\]')" "[[0]]"
drop_slots
rm -f "$W/offsets.json"

# A keyless table: pre-committed loads become visible once a checkpoint holds them.
psql_q "CREATE TABLE nokey (a int, b text); ALTER TABLE nokey REPLICA IDENTITY FULL;
        INSERT INTO nokey VALUES (1, 'x'); DROP TABLE items;"
config "table.include.list=public.nokey" offset.flush.interval.ms=100
start_dbtail run1 run -c "$W/c.json"
visible() { [ "$(doris_sql shop 'SELECT COUNT(*) FROM nokey' | grep -o '\[\[[0-9]*\]\]')" = "[[1]]" ]; }
check "the keyless table's rows become visible" wait_for 30 visible
stop_dbtail
check_eq "clean stop" "$?" 0
check_eq "each row once" "$(doris_sql shop 'SELECT COUNT(*) FROM nokey' | grep -o '\[\[[0-9]*\]\]')" "[[1]]"
