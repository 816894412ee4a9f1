#!/usr/bin/env bash
# PostgreSQL snapshot resume when the table the interrupted run was reading is gone (dropped,
# renamed, or no longer captured): where that table stopped says nothing about the others, which
# are read whole.
source "$(dirname "$0")/../lib/servers.sh"
source "$(dirname "$0")/pg_lib.sh"
start_postgres || exit 1
W="$TMP_ROOT/w"
mkdir -p "$W"
on_exit drop_slots

psql_q "CREATE TABLE t (id int PRIMARY KEY, v int);
        INSERT INTO t SELECT g, 0 FROM generate_series(1, 10) g;
        CREATE PUBLICATION dbz_publication FOR ALL TABLES;" >/dev/null
C1=$(psql_q "SELECT lsn FROM pg_create_logical_replication_slot('debezium', 'pgoutput')")
SYSID=$(psql_q "SELECT system_identifier FROM pg_control_system()")
# The interrupted run was reading public.gone, up to id 5, when it was killed.
python3 - "$W/offsets.json" "$C1" "$SYSID" <<'PY'
import json, sys
path, c1, sysid = sys.argv[1:]
json.dump({"format": 1, "connector": "pgtest",
           "source": {"connector": "postgresql", "system_identifier": sysid,
                      "database": "dbtail", "slot": "debezium"},
           "position": {"phase": "snapshot", "slot": "debezium", "slot_lsn": c1,
                        "snapshot_lsn": c1, "tables_done": [], "table": "public.gone",
                        "last_key": ["5"], "ranges": {}},
           "schemas": None, "sinks": None}, open(path, "w"), indent=1)
PY
pg_config_file "$W/c.json"
start_dbtail dbtail run -c "$W/c.json"
check "the snapshot resumes and ends" wait_for 60 grep -q '"phase": "stream"' "$W/offsets.json"
check "every row of the other table is read" wait_caught_up 30 t v
stop_dbtail
check_eq "clean stop" "$?" 0
