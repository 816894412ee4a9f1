#!/usr/bin/env bash
# Every MySQL column type, on MariaDB 10.11 and MySQL 5.6: the values decoded from the binlog
# (insert, update, key change, delete) equal what the server's own SELECT gives (a snapshot of
# the same rows), a few spot values are right, and `dbtail decode` of the server's binlog file
# prints the same records as the live reader.
source "$(dirname "$0")/../lib/servers.sh"
CHECK="python3 $TEST_ROOT/tests/integration/mysql_check.py"
SQL="$TEST_ROOT/tests/integration/mysql_types.sql"
export DBTAIL_FIXED_NOW_MS=1

# config FLAVOUR PORT MODE OUT STATE: a connector with prefix "decode" (as `dbtail decode`).
config() {
    local cls=io.debezium.connector.mysql.MySqlConnector
    [ "$1" = mariadb ] && cls=io.debezium.connector.mariadb.MariaDbConnector
    cat >"$TMP_ROOT/$1-$3.json" <<JSON
{"name": "types-$1", "connector.class": "$cls", "database.hostname": "127.0.0.1",
 "database.port": "$2", "database.user": "root", "database.server.id": "5400",
 "topic.prefix": "decode", "database.include.list": "types", "snapshot.mode": "$3",
 "sink.type": "file", "sink.file.path": "$4", "offset.storage.file.filename": "$5",
 "key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false"}
JSON
    echo "$TMP_ROOT/$1-$3.json"
}

# spot FILE ID FIELD WANT: the last image of row ID has FIELD = WANT (JSON text).
spot() {
    check_eq "$flavour: $3 of row $2" "$($CHECK get "$1" decode.types.all_types "$2" "$3")" "$4"
}

run_flavour() {
    flavour=$1 port=$2 binlog=$3 query=$4
    "$query" "$(cat "$SQL")" || { not_ok "$flavour: the workload runs"; return; }
    "$query" "CREATE TABLE types.done (id INT PRIMARY KEY); INSERT INTO types.done VALUES (1)"
    local live="$TMP_ROOT/$flavour-live.jsonl" snap="$TMP_ROOT/$flavour-snap.jsonl"
    # The stream from the start of the binlog ("never": no snapshot) ...
    start_dbtail "$flavour-live" run -c "$(config "$flavour" "$port" never "$live" "$TMP_ROOT/$flavour-live.state")"
    wait_for 60 grep -q '"decode.types.done"' "$live"
    check "$flavour: dbtail stops cleanly" stop_dbtail
    # ... and a snapshot of what the rows are now.
    "$DBTAIL" snapshot -c "$(config "$flavour" "$port" initial_only "$snap" "$TMP_ROOT/$flavour-snap.state")" \
        >>"$TMP_ROOT/$flavour-snap.log" 2>&1
    check "$flavour: the snapshot runs" test -s "$snap"
    $CHECK final "$live" "$snap" decode.types.all_types
    $CHECK final "$live" "$snap" decode.types.simple

    spot "$live" 20 biu '-1'
    spot "$live" 20 t0 '-3020399000000'
    spot "$live" 20 t6 '3020398999999'
    spot "$live" 20 dt '-354285'
    spot "$live" 20 dtm6 '1'
    spot "$live" 20 ts6 '"2038-01-19T03:14:07.999999Z"'
    spot "$live" 20 c5 '"ab"'
    spot "$live" 20 vc '"emoji \ud83d\ude00 and \u00e9!"'
    spot "$live" 20 vcl '"euro \u20ac"'
    spot "$live" 20 bn '"AAEAAA=="'
    spot "$live" 20 b64 '"//////////8="'
    spot "$live" 20 dec1 '"/1SrVnMU571A"'
    spot "$live" 1 t0 '-1000000'
    spot "$live" 1 dtm3 '1709210096789'
    spot "$live" 1 s '"green"'
    spot "$live" 1 e '"medium"'
    spot "$live" 1 b1 'true'
    spot "$live" 1 vcl '"caf\u00e9"'
    spot "$live" 4 dtn '0'
    spot "$live" 4 dt 'null'
    spot "$live" 4 ts0 'null'

    # `dbtail decode` of the same binlog prints the same records.
    local dec="$TMP_ROOT/$flavour-decode.jsonl"
    "$DBTAIL" decode "$binlog" >"$dec" 2>"$TMP_ROOT/$flavour-decode.err"
    check "$flavour: dbtail decode reads the binlog" test -s "$dec"
    if [ "$flavour" = mariadb ]; then
        # binlog_row_metadata=FULL: names, keys, signedness and charsets are in the binlog.
        $CHECK same "$live" "$dec" decode.types.all_types
        $CHECK same "$live" "$dec" decode.types.simple
    else
        # No column metadata: col_N names and no key; the values of these types agree.
        $CHECK same "$live" "$dec" decode.types.simple --positional
    fi

    # A binlog cut inside an event: the records before it, then the offset, exit status 1.
    head -c 6000 "$binlog" >"$TMP_ROOT/$flavour-cut"
    "$DBTAIL" decode "$TMP_ROOT/$flavour-cut" >"$TMP_ROOT/$flavour-cut.jsonl" 2>"$TMP_ROOT/$flavour-cut.err"
    check_eq "$flavour: a cut binlog exits with status 1" "$?" 1
    check "$flavour: the error names the offset of the cut event" \
        grep -q "$flavour-cut at offset [0-9]*: .*truncated" "$TMP_ROOT/$flavour-cut.err"
    check "$flavour: the events before the cut are printed" grep -q '"op":"c"' "$TMP_ROOT/$flavour-cut.jsonl"
}

start_mariadb || { not_ok "mariadb starts"; exit 1; }
run_flavour mariadb "$MARIADB_PORT" "$MARIADB_DATA/data/mariadb-bin.000001" mariadb_q
start_mysql56 || { not_ok "mysql 5.6 starts"; exit 1; }
run_flavour mysql56 "$MYSQL56_PORT" "$MYSQL56_DATA/data/mysql-bin.000001" mysql56_q
