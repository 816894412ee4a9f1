#!/usr/bin/env bash
# Streaming on MariaDB 10.11 and MySQL 5.6: binlog rotation (FLUSH BINARY LOGS), ALTER TABLE
# ADD/DROP COLUMN mid-stream, a server restart mid-stream (MariaDB), and a stop and a GTID
# resume across DDL and rotations that happened meanwhile. Every row arrives exactly once, with
# the columns of its time, and replaying the output gives the table.
source "$(dirname "$0")/../lib/servers.sh"
CHECK="python3 $TEST_ROOT/tests/integration/mysql_check.py"

config() {
    local cls=io.debezium.connector.mysql.MySqlConnector
    [ "$1" = mariadb ] && cls=io.debezium.connector.mariadb.MariaDbConnector
    cat >"$TMP_ROOT/$1.json" <<JSON
{"name": "stream-$1", "connector.class": "$cls", "database.hostname": "127.0.0.1",
 "database.port": "$2", "database.user": "root", "database.server.id": "5401",
 "topic.prefix": "it", "database.include.list": "s", "heartbeat.interval.ms": "500",
 "include.query": "true",
 "sink.type": "file", "sink.file.path": "$TMP_ROOT/$1.jsonl",
 "offset.storage.file.filename": "$TMP_ROOT/$1.state",
 "key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false"}
JSON
    echo "$TMP_ROOT/$1.json"
}

# inserts Q FIRST LAST [COLUMNS VALUES-SUFFIX]
inserts() {
    local q=$1 i sql=""
    for ((i = $2; i <= $3; i++)); do
        sql+="INSERT INTO s.t (id${4:+, $4}) VALUES ($i${5:+, $5});"
    done
    "$q" "$sql"
}

# last_after OUT ID: the JSON of the last after image of row ID.
row() { python3 - "$1" "$2" <<'PY'
import json, sys
last = None
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["topic"] == "it.s.t" and r["value"] and r["value"]["after"] and r["value"]["after"]["id"] == int(sys.argv[2]):
        last = r["value"]["after"]
print(json.dumps(last, sort_keys=True))
PY
}

run_flavour() {
    local flavour=$1 port=$2 q=$3
    local out="$TMP_ROOT/$flavour.jsonl" cfg
    "$q" "CREATE DATABASE s; CREATE TABLE s.t (id INT PRIMARY KEY, v VARCHAR(20))"
    cfg=$(config "$flavour" "$port")
    start_dbtail "$flavour" run -c "$cfg"
    check "$flavour: the (empty) snapshot is taken first" \
        wait_for 60 grep -q "snapshot done" "$TMP_ROOT/$flavour.log"
    inserts "$q" 1 5 v "'a'"
    "$q" "FLUSH BINARY LOGS"
    inserts "$q" 6 10 v "'b'"
    "$q" "ALTER TABLE s.t ADD COLUMN extra INT DEFAULT 7"
    inserts "$q" 11 15 "v, extra" "'c', 11"
    "$q" "ALTER TABLE s.t DROP COLUMN v"
    inserts "$q" 16 20
    check "$flavour: rows reach the file before the restart" wait_for 60 grep -q '{"id":20}' "$out"
    if [ "$flavour" = mariadb ]; then
        restart_mariadb
        port=$MARIADB_PORT
    fi
    inserts "$q" 21 25 extra 25
    check "$flavour: rows after the server restart arrive" wait_for 90 grep -q '{"id":25}' "$out"
    check "$flavour: dbtail stops cleanly" stop_dbtail

    # Meanwhile: DDL, rotations, changes.
    inserts "$q" 26 28
    "$q" "ALTER TABLE s.t ADD COLUMN z VARCHAR(5) DEFAULT 'zz'"
    inserts "$q" 29 31 z "'new'"
    "$q" "FLUSH BINARY LOGS"
    inserts "$q" 32 35
    "$q" "UPDATE s.t SET extra = 100 WHERE id = 1"
    if [ "$flavour" = mariadb ]; then
        # A column that came and went while dbtail was away: only the binlog's own column
        # metadata (binlog_row_metadata=FULL) still knows it.
        "$q" "ALTER TABLE s.t ADD COLUMN gone INT"
        "$q" "INSERT INTO s.t (id, gone) VALUES (36, 36)"
        "$q" "ALTER TABLE s.t DROP COLUMN gone"
        "$q" "INSERT INTO s.t (id) VALUES (37)"
    fi
    start_dbtail "$flavour" run -c "$cfg"
    local last=35
    [ "$flavour" = mariadb ] && last=37
    check "$flavour: rows written while dbtail was stopped arrive" \
        wait_for 60 grep -q "{\"id\":$last}" "$out"
    check "$flavour: the update written while stopped arrives" wait_for 30 grep -q '"extra":100' "$out"
    check "$flavour: dbtail stops cleanly again" stop_dbtail
    check "$flavour: the restart resumed by GTID" grep -q "streaming after GTIDs" "$TMP_ROOT/$flavour.log"


    check_eq "$flavour: row 3 (before the ALTERs)" "$(row "$out" 3)" '{"id": 3, "v": "a"}'
    check_eq "$flavour: row 12 (after ADD COLUMN)" "$(row "$out" 12)" '{"extra": 11, "id": 12, "v": "c"}'
    check_eq "$flavour: row 18 (after DROP COLUMN)" "$(row "$out" 18)" '{"extra": 7, "id": 18}'
    check_eq "$flavour: row 27 (before the DDL written while stopped)" "$(row "$out" 27)" '{"extra": 7, "id": 27}'
    check_eq "$flavour: row 30 (after it)" "$(row "$out" 30)" '{"extra": 7, "id": 30, "z": "new"}'
    check_eq "$flavour: row 1 updated last" "$(row "$out" 1)" '{"extra": 100, "id": 1, "z": "zz"}'
    if [ "$flavour" = mariadb ]; then
        check_eq "$flavour: row 36 with the column gone since" "$(row "$out" 36)" '{"extra": 7, "gone": 36, "id": 36, "z": "zz"}'
        check_eq "$flavour: row 37 without it" "$(row "$out" 37)" '{"extra": 7, "id": 37, "z": "zz"}'
    fi
    check "$flavour: schema change events are written" grep -q '"ddl":"ALTER TABLE s.t ADD COLUMN extra' "$out"
    if [ "$flavour" = mariadb ]; then
        # ANNOTATE_ROWS (binlog_annotate_row_events is on by default).
        check "$flavour: source.query holds the statement" \
            grep -q '"query":"INSERT INTO s.t (id, v) VALUES (3, '"'"'a'"'"')"' "$out"
    else
        # MySQL names the thread in each transaction's BEGIN.
        check "$flavour: source.thread is the writer's" grep -q '"thread":[0-9]' "$out"
    fi
    check "$flavour: heartbeats are written" grep -q '"topic":"__debezium-heartbeat.it"' "$out"
    # ALTER TABLE writes no row events: compare the rows' keys, not their new defaults.
    "$q" "SELECT id FROM s.t ORDER BY id" >"$TMP_ROOT/$flavour.ids"
    check_eq "$flavour: the rows replayed are the table's" \
        "$(python3 - "$out" <<'PY'
import json, sys
rows = set()
for line in open(sys.argv[1]):
    r = json.loads(line)
    v = r["value"]
    if r["topic"] != "it.s.t" or v is None:
        continue
    if v["op"] == "d":
        rows.discard(v["before"]["id"])
    else:
        rows.add(v["after"]["id"])
print("\n".join(str(i) for i in sorted(rows)))
PY
)" "$(cat "$TMP_ROOT/$flavour.ids")"
}

# purged: the saved position's binlog is gone: a clear error, then a new snapshot when asked.
purged() {
    local out="$TMP_ROOT/mariadb.jsonl" cfg="$TMP_ROOT/mariadb.json"
    mariadb_q "INSERT INTO s.t (id) VALUES (38)"
    # MariaDB keeps a binlog until its binlog checkpoint has passed: rotate until the saved
    # position's file can go.
    local last saved
    saved=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["position"]["file"])' \
        "$TMP_ROOT/mariadb.state")
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        mariadb_q "FLUSH BINARY LOGS"
        last=$(mariadb_q "SHOW MASTER STATUS" | cut -f1)
        mariadb_q "PURGE BINARY LOGS TO '$last'"
        mariadb_q "SHOW BINARY LOGS" | grep -q "^$saved" || break
        sleep 0.5
    done
    check "the saved position's binlog is purged" bash -c "! mariadb --no-defaults -h 127.0.0.1 \
        -P $MARIADB_PORT -u root -N -e 'SHOW BINARY LOGS' | grep -q '^$saved'"
    timeout 60 "$DBTAIL" run -c "$cfg" >"$TMP_ROOT/purged.log" 2>&1
    local rc=$?
    check "a purged position stops dbtail" test "$rc" -ne 0 -a "$rc" -ne 124
    check "the error names the position and the way out" \
        grep -q "is no longer on the server.*snapshot.mode=when_needed" "$TMP_ROOT/purged.log"
    sed -i 's/"heartbeat.interval.ms"/"snapshot.mode": "when_needed", "heartbeat.interval.ms"/' "$cfg"
    start_dbtail mariadb-when-needed run -c "$cfg"
    check "snapshot.mode=when_needed takes a new snapshot" \
        wait_for 60 grep -q '"after":{"id":38[,}].*"op":"r"' "$out"
    check "dbtail stops cleanly after it" stop_dbtail
}

start_mariadb || { not_ok "mariadb starts"; exit 1; }
run_flavour mariadb "$MARIADB_PORT" mariadb_q
purged
start_mysql56 || { not_ok "mysql 5.6 starts"; exit 1; }
run_flavour mysql56 "$MYSQL56_PORT" mysql56_q
