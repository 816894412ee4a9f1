#!/usr/bin/env bash
# Snapshot options on MariaDB: snapshot.locking.mode minimal, extended and none, a user without
# RELOAD (per-table locks instead of the global read lock; password authentication), the
# no_data and never modes, and the table and column filters, on snapshot rows and stream
# changes alike.
source "$(dirname "$0")/../lib/servers.sh"

# config NAME USER PASSWORD EXTRA: a connector writing $TMP_ROOT/NAME.jsonl.
config() {
    cat >"$TMP_ROOT/$1.json" <<JSON
{"name": "snap-$1", "connector.class": "io.debezium.connector.mariadb.MariaDbConnector",
 "database.hostname": "127.0.0.1", "database.port": "$MARIADB_PORT", "database.user": "$2",
 "database.password": "$3", "database.server.id": "5404", "topic.prefix": "sn",
 "database.include.list": "d", "sink.type": "file", "sink.file.path": "$TMP_ROOT/$1.jsonl",
 "offset.storage.file.filename": "$TMP_ROOT/$1.state",
 "key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false"$4}
JSON
    echo "$TMP_ROOT/$1.json"
}
count() { grep -c "$2" "$TMP_ROOT/$1.jsonl" 2>/dev/null || true; }

start_mariadb || { not_ok "mariadb starts"; exit 1; }
mariadb_q "CREATE DATABASE d; CREATE TABLE d.a (id INT PRIMARY KEY, secret VARCHAR(10), v INT);
           CREATE TABLE d.skip (id INT PRIMARY KEY);
           INSERT INTO d.a VALUES (1, 'x', 1), (2, 'y', 2), (3, 'z', 3);
           INSERT INTO d.skip VALUES (1);
           CREATE USER 'cdc'@'127.0.0.1' IDENTIFIED BY 's3cret';
           GRANT SELECT, LOCK TABLES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'cdc'@'127.0.0.1'"

for mode in minimal extended none; do
    "$DBTAIL" snapshot -c "$(config "lock-$mode" root "" ", \"snapshot.locking.mode\": \"$mode\"")" \
        >"$TMP_ROOT/lock-$mode.log" 2>&1
    check_eq "locking.mode=$mode: every row read" "$(count "lock-$mode" '"op":"r"')" 4
done
check "locking.mode=none takes no lock" bash -c "! grep -q 'global read lock' '$TMP_ROOT/lock-none.log'"

"$DBTAIL" snapshot -c "$(config noreload cdc s3cret)" >"$TMP_ROOT/noreload.log" 2>&1
check_eq "a user without RELOAD snapshots every row" "$(count noreload '"op":"r"')" 4
check "it locks the tables instead" grep -q "locking the captured tables" "$TMP_ROOT/noreload.log"
"$DBTAIL" snapshot -c "$(config badpass cdc wrong)" >"$TMP_ROOT/badpass.log" 2>&1
check "a wrong password is a clear error" grep -q "Access denied for user 'cdc'" "$TMP_ROOT/badpass.log"

# Filters: d.skip and the column d.a.secret are left out of snapshot rows and changes.
cfg=$(config filters cdc s3cret ', "table.exclude.list": "d\\.sk.*", "column.exclude.list": "d\\.a\\.secret"')
start_dbtail filters run -c "$cfg"
check "filters: the snapshot is taken" wait_for 60 grep -q "snapshot done" "$TMP_ROOT/filters.log"
mariadb_q "INSERT INTO d.a VALUES (4, 'w', 4); INSERT INTO d.skip VALUES (2)"
check "filters: the change arrives" wait_for 60 grep -q '{"id":4}' "$TMP_ROOT/filters.jsonl"
check "filters: dbtail stops cleanly" stop_dbtail
check_eq "filters: no excluded table" "$(count filters '"topic":"sn.d.skip"')" 0
check_eq "filters: no excluded column" "$(count filters 'secret')" 0
check "filters: the other columns" grep -q '"after":{"id":4,"v":4}' "$TMP_ROOT/filters.jsonl"

# no_data: schemas only, then the stream; never: the stream from the oldest binlog.
start_dbtail nodata run -c "$(config nodata root "" ', "snapshot.mode": "no_data"')"
check "no_data: streaming starts" wait_for 60 grep -q "INFO mysql: streaming" "$TMP_ROOT/nodata.log"
mariadb_q "INSERT INTO d.a VALUES (5, 'v', 5)"
check "no_data: the change arrives" wait_for 60 grep -q '{"id":5}' "$TMP_ROOT/nodata.jsonl"
check "no_data: dbtail stops cleanly" stop_dbtail
check_eq "no_data: no snapshot rows" "$(count nodata '"op":"r"')" 0
check_eq "no_data: only the new change" "$(count nodata '"op":"c"')" 1
start_dbtail never run -c "$(config never root "" ', "snapshot.mode": "never"')"
check "never: the whole history arrives" wait_for 60 grep -q '{"id":5}' "$TMP_ROOT/never.jsonl"
check "never: dbtail stops cleanly" stop_dbtail
check_eq "never: every insert of d.a as a change" "$(count never '"topic":"sn.d.a".*"op":"c"')" 5

# Snapshot markers and row order over tables that end inside, at the end of and right after a
# batch of rows (the reader's thread hands rows over 256 at a time), an empty one and one
# without a key: first, first_in_data_collection, true, last_in_data_collection, last.
mariadb_q "CREATE TABLE d.m0 (id INT PRIMARY KEY);
           CREATE TABLE d.m1 (id INT PRIMARY KEY, t TEXT);
           CREATE TABLE d.m2 (id INT PRIMARY KEY, t TEXT, n DOUBLE);
           CREATE TABLE d.m3 (id INT, t VARCHAR(20));
           INSERT INTO d.m1 SELECT seq, REPEAT('x', seq) FROM seq_1_to_256;
           INSERT INTO d.m2 SELECT seq, IF(seq % 5 = 0, NULL, 'y'), seq / 3 FROM seq_1_to_700;
           INSERT INTO d.m3 SELECT seq, 'z' FROM seq_1_to_257" d
"$DBTAIL" snapshot -c "$(config markers root "" ', "table.include.list": "d\\.m.*", "snapshot.fetch.size": "100"')" \
    >"$TMP_ROOT/markers.log" 2>&1
check "markers: the snapshot runs" test -s "$TMP_ROOT/markers.jsonl"
check_eq "markers: every table's rows in key order, marked as Debezium marks them" "$(
    python3 - "$TMP_ROOT/markers.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
got = [(r["topic"], r["value"]["after"]["id"], r["value"]["source"]["snapshot"]) for r in rows]
sizes = [("sn.d.m1", 256), ("sn.d.m2", 700), ("sn.d.m3", 257)]
want = []
for t, (topic, n) in enumerate(sizes):
    for i in range(1, n + 1):
        if t == 0 and i == 1:
            mark = "first"
        elif t == len(sizes) - 1 and i == n:
            mark = "last"
        elif i == 1:
            mark = "first_in_data_collection"
        elif i == n:
            mark = "last_in_data_collection"
        else:
            mark = "true"
        want.append((topic, i, mark))
print("same" if got == want else "differ: %d rows, first difference %s" % (
    len(got), next((g, w) for g, w in zip(got + [None] * len(want), want + [None] * len(got)) if g != w)))
PY
)" same
