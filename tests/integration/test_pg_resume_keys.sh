#!/usr/bin/env bash
# PostgreSQL snapshot resume: which key range a streamed change falls in. A state file as a run
# killed mid-snapshot leaves it says which rows were already read at the old snapshot; a change
# to one of those rows, committed after it, must be streamed. Two ways to misplace a row:
#  - a table whose REPLICA IDENTITY is a unique index other than the primary key: its deletes
#    carry only the index columns;
#  - a text key with a collation other than the database's: rows compare as the column sorts.
source "$(dirname "$0")/../lib/servers.sh"
source "$(dirname "$0")/pg_lib.sh"
start_postgres || exit 1
W="$TMP_ROOT/w"
mkdir -p "$W"
on_exit drop_slots

# ICU's root collation sorts a < A < b < B; the database's C.UTF-8 sorts A < B < a < b.
psql_q "CREATE TABLE idx (id int PRIMARY KEY, u int NOT NULL, v int);
        CREATE UNIQUE INDEX idx_u ON idx (u);
        ALTER TABLE idx REPLICA IDENTITY USING INDEX idx_u;
        INSERT INTO idx SELECT g, g, 0 FROM generate_series(1, 10) g;
        CREATE TABLE col (k text COLLATE \"und-x-icu\" PRIMARY KEY, v int);
        INSERT INTO col VALUES ('a', 0), ('A', 0), ('b', 0), ('B', 0);
        CREATE TABLE marker (id int PRIMARY KEY);
        CREATE PUBLICATION dbz_publication FOR ALL TABLES;" >/dev/null
C1=$(psql_q "SELECT lsn FROM pg_create_logical_replication_slot('debezium', 'pgoutput')")
SYSID=$(psql_q "SELECT system_identifier FROM pg_control_system()")

# The interrupted run read idx up to u = 5 and col up to 'A' (that is, 'a' and 'A') at C1.
python3 - "$W/offsets.json" "$C1" "$SYSID" <<'PY'
import json, sys
path, c1, sysid = sys.argv[1:]
json.dump({"format": 1, "connector": "pgtest",
           "source": {"connector": "postgresql", "system_identifier": sysid,
                      "database": "dbtail", "slot": "debezium"},
           "position": {"phase": "snapshot", "slot": "debezium", "slot_lsn": c1,
                        "snapshot_lsn": c1, "tables_done": [],
                        "table": "public.col", "last_key": ["A"],
                        "ranges": {"public.idx": [{"upto": ["5"], "lsn": c1}]}},
           "schemas": None, "sinks": None}, open(path, "w"), indent=1)
PY

# Committed after C1: deletes of rows the interrupted run had read.
psql_q "DELETE FROM idx WHERE id = 3; DELETE FROM col WHERE k = 'a';"

pg_config_file "$W/c.json" snapshot.fetch.size=2
start_dbtail dbtail run -c "$W/c.json"
check "the snapshot resumes" wait_for 60 grep -q '"phase": "stream"' "$W/offsets.json"
psql_q "INSERT INTO marker VALUES (1)"
check "the stream reaches a change made after the snapshot" \
    wait_for 30 grep -q '"it.public.marker"' "$W/out.jsonl"

deleted() {
    python3 - "$W/out.jsonl" "it.public.$1" "$2" "$3" <<'PY'
import json, sys
path, topic, col, val = sys.argv[1:]
n = 0
for line in open(path):
    r = json.loads(line)
    v = r["value"]
    if r["topic"] == topic and v and v.get("op") == "d" and str(v["before"].get(col)) == val:
        n += 1
print(n)
PY
}
check_eq "delete through a replica identity index of a row read before the crash" \
    "$(deleted idx u 3)" 1
check_eq "delete of a row read before the crash, compared in the key's collation" \
    "$(deleted col k a)" 1
stop_dbtail
check_eq "clean stop" "$?" 0
