#!/usr/bin/env bash
# kill -9 of dbtail in the middle of a snapshot, then in the middle of the stream, under a busy
# writer (updates, inserts, deletes, key changes): after each restart dbtail resumes (a new
# snapshot session for the rest of the tables, the stream from the saved position), and in
# the file sink's output no change is lost and none is there twice, so replaying it gives the
# tables exactly. Run on MariaDB and on MySQL 5.6.
source "$(dirname "$0")/../lib/servers.sh"
CHECK="python3 $TEST_ROOT/tests/integration/mysql_check.py"
ROWS_T=20000
ROWS_U=4000

config() {
    local cls=io.debezium.connector.mysql.MySqlConnector
    [ "$1" = mariadb ] && cls=io.debezium.connector.mariadb.MariaDbConnector
    cat >"$TMP_ROOT/$1.json" <<JSON
{"name": "crash-$1", "connector.class": "$cls", "database.hostname": "127.0.0.1",
 "database.port": "$2", "database.user": "root", "database.server.id": "5402",
 "topic.prefix": "it", "database.include.list": "c", "snapshot.fetch.size": "500",
 "offset.flush.interval.ms": "100", "sink.type": "file", "sink.file.path": "$TMP_ROOT/$1.jsonl",
 "offset.storage.file.filename": "$TMP_ROOT/$1.state",
 "key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false"}
JSON
    echo "$TMP_ROOT/$1.json"
}

# load Q: the two tables, filled.
load() {
    "$1" "CREATE DATABASE c; CREATE TABLE c.t (id INT PRIMARY KEY, v INT, s VARCHAR(20));
          CREATE TABLE c.u (k VARCHAR(16) PRIMARY KEY, n INT)"
    python3 - "$ROWS_T" "$ROWS_U" >"$TMP_ROOT/load.sql" <<'PY'
import sys
t, u = int(sys.argv[1]), int(sys.argv[2])
for start in range(1, t + 1, 2000):
    print("INSERT INTO c.t VALUES " + ",".join("(%d,%d,'r%d')" % (i, i, i) for i in range(start, min(start + 2000, t + 1))) + ";")
print("INSERT INTO c.u VALUES " + ",".join("('k%06d',%d)" % (i, i) for i in range(1, u + 1)) + ";")
PY
    "$1" "SOURCE $TMP_ROOT/load.sql"
}

# writer Q: changes both tables until $TMP_ROOT/stop-writer exists.
writer() {
    local q=$1 i=0
    while [ ! -e "$TMP_ROOT/stop-writer" ]; do
        i=$((i + 1))
        local a=$((RANDOM % ROWS_T + 1)) b=$((RANDOM % ROWS_T + 1)) c=$((RANDOM % ROWS_T + 1))
        "$q" "START TRANSACTION;
              UPDATE c.t SET v = v + 1, s = 'w$i' WHERE id = $a;
              INSERT INTO c.t VALUES (100000 + $i, $i, 'new');
              DELETE FROM c.t WHERE id = $b;
              UPDATE c.t SET id = 200000 + $i WHERE id = $c;
              UPDATE c.u SET n = n + 1 WHERE k = CONCAT('k', LPAD($((RANDOM % ROWS_U + 1)), 6, '0'));
              COMMIT" 2>/dev/null
    done
}

lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
# has_lines FILE N: FILE has at least N lines (for wait_for, which re-runs it).
has_lines() { [ "$(lines "$1")" -ge "$2" ]; }
# kill_at_lines FILE N: lets dbtail run in slices of a few milliseconds (SIGCONT, SIGSTOP)
# until FILE has N lines, then kills it with -9 while it is stopped, so that it dies a slice
# after the N-th line however fast it reads, not a polling interval (a whole snapshot) later.
kill_at_lines() {
    local deadline=$((SECONDS + 60))
    kill -STOP "$DBTAIL_PID"
    while [ "$(lines "$1")" -lt "$2" ] && [ $SECONDS -lt $deadline ]; do
        kill -CONT "$DBTAIL_PID"
        sleep 0.005
        kill -STOP "$DBTAIL_PID"
    done
    kill -9 "$DBTAIL_PID"; wait "$DBTAIL_PID" 2>/dev/null
}

run_flavour() {
    local flavour=$1 port=$2 q=$3 cfg out="$TMP_ROOT/$1.jsonl"
    load "$q"
    cfg=$(config "$flavour" "$port")
    rm -f "$TMP_ROOT/stop-writer"
    writer "$q" &
    local writer_pid=$!
    on_exit "touch $TMP_ROOT/stop-writer; wait $writer_pid"

    start_dbtail "$flavour" run -c "$cfg"
    kill_at_lines "$out" 4000
    check "$flavour: killed during the snapshot" \
        bash -c "! grep -q 'snapshot done' '$TMP_ROOT/$flavour.log'"

    start_dbtail "$flavour" run -c "$cfg"
    check "$flavour: the snapshot resumes in a new session" \
        wait_for 60 grep -q "resuming the snapshot in a new session" "$TMP_ROOT/$flavour.log"
    check "$flavour: the resumed snapshot finishes" \
        wait_for 120 grep -q "snapshot done" "$TMP_ROOT/$flavour.log"
    local n
    n=$(lines "$out")
    wait_for 30 has_lines "$out" $((n + 300))
    kill -9 "$DBTAIL_PID"; wait "$DBTAIL_PID" 2>/dev/null

    start_dbtail "$flavour" run -c "$cfg"
    sleep 2
    touch "$TMP_ROOT/stop-writer"
    wait "$writer_pid"
    "$q" "INSERT INTO c.t VALUES (999999, 0, 'end')"
    check "$flavour: the stream catches up" wait_for 120 grep -q '{"id":999999}' "$out"
    check "$flavour: dbtail stops cleanly" stop_dbtail

    "$q" "SELECT * FROM c.t ORDER BY id" >"$TMP_ROOT/$flavour-t.tsv"
    "$q" "SELECT * FROM c.u ORDER BY k" >"$TMP_ROOT/$flavour-u.tsv"
    $CHECK state "$out" it.c.t "$TMP_ROOT/$flavour-t.tsv"
    $CHECK state "$out" it.c.u "$TMP_ROOT/$flavour-u.tsv"
}

start_mariadb || { not_ok "mariadb starts"; exit 1; }
run_flavour mariadb "$MARIADB_PORT" mariadb_q
start_mysql56 || { not_ok "mysql 5.6 starts"; exit 1; }
run_flavour mysql56 "$MYSQL56_PORT" mysql56_q
