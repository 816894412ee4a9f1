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
