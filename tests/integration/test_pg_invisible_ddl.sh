#!/usr/bin/env bash
# A transaction reaches dbtail as soon as its commit record is flushed, which can be before other
# sessions see it committed (its backend has not yet left the ProcArray: for microseconds, or for
# as long as a busy machine keeps that backend off the CPU). dbtail reads the catalog through
# such a session: a Relation message read in that window must still be described as the
# transaction left the table. Here ADD COLUMN ... DEFAULT, whose default the rows that exist hold
# at the source and must get in Doris. The window is held open: the transaction's backend waits
# for a synchronous standby that never comes, after its commit record and before it becomes
# visible, until the test cancels that wait.
source "$(dirname "$0")/../lib/servers.sh"
source "$(dirname "$0")/pg_lib.sh"
# Only a session that sets synchronous_commit = on waits for the standby.
PG_EXTRA_CONF="synchronous_standby_names = 'nobody'
synchronous_commit = off"
start_postgres || exit 1
start_doris || exit 1
W="$TMP_ROOT/w"
mkdir -p "$W"
on_exit drop_slots

# rows: "id|qty|d_int" lines of the Doris table (SOURCE=pg: of the source table), NULL as ~.
rows() {
    if [ "${1:-}" = pg ]; then
        psql_q "SELECT concat_ws('|', id, qty, coalesce(d_int::text, '~')) FROM items ORDER BY id"
        return
    fi
    doris_sql shop "SELECT id, qty, d_int FROM items ORDER BY id" | python3 -c '
import json, sys
for r in json.load(sys.stdin)["data"]["data"]:
    print("|".join("~" if v is None else str(v) for v in r))'
}
same() { [ "$(rows)" == "$(rows pg)" ]; }

psql_q "CREATE TABLE items (id int PRIMARY KEY, qty int);
        INSERT INTO items SELECT g, g FROM generate_series(1, 20) g;"
pg_config_file "$W/c.json" sink.type=doris "sink.doris.fenodes=$DORIS_FE" \
    sink.doris.database=shop sink.doris.table.properties.replication_num=1 \
    sink.doris.flush.interval.ms=100 sink.file.path=-
start_dbtail dbtail run -c "$W/c.json"
check "snapshot loaded" wait_for 60 grep -q "streaming from slot" "$TMP_ROOT/dbtail.log"

psql_q "SET synchronous_commit = on;
        ALTER TABLE items ADD COLUMN d_int int DEFAULT 5;
        UPDATE items SET qty = 0 WHERE id = 1;" >"$TMP_ROOT/ddl.log" 2>&1 &
ddl=$!
waiting() { [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'")" = 1 ]; }
check "the DDL transaction is committed and waits for the standby" wait_for 30 waiting
flushed=$(psql_q "SELECT pg_current_wal_flush_lsn()")
sent() { [ "$(psql_q "SELECT bool_and(sent_lsn >= '$flushed') FROM pg_stat_replication")" = t ]; }
check "the walsender sent it to dbtail" wait_for 30 sent
check_eq "other sessions do not see it yet" \
    "$(psql_q "SELECT count(*) FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'd_int'")" 0
# Unless it waits for the transaction to become visible, dbtail now adds the column as the
# catalog still shows it: not at all, so without its default.
wait_for 5 grep -q 'd_int' "$TMP_ROOT/dbtail.log"
psql_q "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE wait_event = 'SyncRep'" >/dev/null
wait "$ddl"
check "the Doris table reaches the source's rows (existing ones hold the default)" wait_for 30 same
same || { diff <(rows pg) <(rows) | head -6 | sed 's/^/#   /'; grep -h "d_int" "$TMP_ROOT/dbtail.log" | sed 's/^/#   /'; }
stop_dbtail
check_eq "clean stop" "$?" 0
check "no sanitizer report" sh -c "! grep -l 'ERROR: AddressSanitizer\|runtime error' $TMP_ROOT/dbtail.log"
