#!/usr/bin/env bash
# make demo: a throwaway MariaDB and PostgreSQL 15, seeded with a few thousand rows, a Doris
# emulator, and one dbtail process per source writing to Doris and to a JSON-lines file. Waits for
# the snapshots, makes live changes on both sources, waits for them, shows what arrived, then runs
# until Ctrl-C.
#
#   DEMO_ONCE=1      exit after the live changes arrived: 0 when every count matches, else 1
#   DEMO_KEEP=1      keep the work dir (files, logs, offsets) after the end
#   DEMO_TIMEOUT=S   seconds to wait for the snapshots and for the live changes (default 180)
#   DBTAIL=PATH      the binary to run (default ./dbtail)
#
# Runs as root: the servers are those of tests/lib/servers.sh, PostgreSQL as the postgres user.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FILES="$ROOT/scripts/demo"
export DBTAIL="${DBTAIL:-$ROOT/dbtail}"
ONCE="${DEMO_ONCE:-0}"
# Debian's python3 (install-deps.sh): a version manager's shim first on PATH costs a second a call.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
TIMEOUT="${DEMO_TIMEOUT:-180}"

if [ ! -x "$DBTAIL" ]; then
    echo "demo: $DBTAIL is not built (make demo builds it)" >&2
    exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "demo: run as root (PostgreSQL is started as the postgres user through su)" >&2
    exit 1
fi

TMP_ROOT_PREFIX=dbtail-demo
KEEP_TMP_ROOT="${DEMO_KEEP:-0}"
# shellcheck source=../tests/lib/servers.sh
source "$ROOT/tests/lib/servers.sh"
D="$TMP_ROOT"

say() { printf -- '-- %s\n' "$*"; }
# die MESSAGE: says what failed and shows the end of each dbtail log.
die() {
    echo "demo: $*" >&2
    local log
    for log in "$D"/dbtail-*.log; do
        [ -s "$log" ] || continue
        echo "== last lines of $log" >&2
        tail -n 15 "$log" >&2
    done
    exit 1
}
declare -A DBTAIL_PIDS
# On any exit: each dbtail gets its SIGTERM and reports its exit status, then servers.sh stops
# the servers (its own EXIT trap, which this one replaces).
_demo_exit() {
    local status=$? name
    for name in "${!DBTAIL_PIDS[@]}"; do stop_connector "$name"; done
    _run_cleanups
    [ "$KEEP_TMP_ROOT" = 1 ] && echo "demo: kept $D (DEMO_KEEP=1)"
    exit $status
}
trap _demo_exit EXIT
# Whatever ends the demo must let that trap stop everything: a hang-up, and output to a closed
# pipe (make demo | tee, where Ctrl-C ends tee as well), which would otherwise kill this shell.
trap 'exit 129' HUP
trap '' PIPE

# dbtail runs in a session of its own, so that a Ctrl-C at the terminal reaches only this script,
# which then stops each dbtail with one SIGTERM (a second signal would make it exit at once).
start_connector() {
    local name="$1" config="$2"
    setsid "$DBTAIL" run -c "$config" >>"$D/dbtail-$name.log" 2>&1 &
    DBTAIL_PIDS[$name]=$!
}
# stop_connector NAME: SIGTERM, then up to 30 s for the final checkpoint; prints the exit status.
stop_connector() {
    local name="$1" pid="${DBTAIL_PIDS[$1]:-}" i status
    [ -n "$pid" ] || return 0
    unset "DBTAIL_PIDS[$name]"
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    wait "$pid"
    status=$?
    echo "dbtail ($name) stopped, exit status $status"
}
connectors_alive() {
    local name
    for name in "${!DBTAIL_PIDS[@]}"; do
        kill -0 "${DBTAIL_PIDS[$name]}" 2>/dev/null ||
            die "dbtail ($name) exited; see $D/dbtail-$name.log"
    done
}

# The counts compared: SIDE TABLE [WHERE]. The WHERE rows see the live updates arrive.
CHECKS=(
    "mariadb|users|"
    "mariadb|users|city = 'Yogyakarta'"
    "mariadb|orders|"
    "mariadb|orders|status = 'refunded'"
    "postgres|customers|"
    "postgres|customers|country = 'MY'"
    "postgres|transactions|"
    "postgres|transactions|status = 'refunded'"
)
declare -a SRC DOR FIL
source_qualified() { [ "$1" = mariadb ] && echo "ecommerce_db.$2" || echo "public.$2"; }
topic_of() { [ "$1" = mariadb ] && echo "mysql-cdc.ecommerce_db.$2" || echo "pg-cdc.public.$2"; }

# measure: fills SRC, DOR and FIL (file rows, or - for a WHERE row) for every check.
measure() {
    local i side table where stmt stmts=() my_topics=() pg_topics=() counts
    for i in "${!CHECKS[@]}"; do
        IFS='|' read -r side table where <<<"${CHECKS[$i]}"
        stmt="SELECT COUNT(*) FROM $table${where:+ WHERE $where}"
        stmts+=("$stmt")
        if [ "$side" = mariadb ]; then
            SRC[i]=$(mariadb_q "$stmt" ecommerce_db 2>/dev/null || echo '?')
        else
            SRC[i]=$(psql_q "$stmt" shop 2>/dev/null || echo '?')
        fi
        FIL[i]=-
        if [ -z "$where" ]; then
            if [ "$side" = mariadb ]; then my_topics+=("$(topic_of "$side" "$table")")
            else pg_topics+=("$(topic_of "$side" "$table")"); fi
        fi
    done
    mapfile -t counts < <("$PY" "$FILES/doris_count.py" "$DORIS_FE" demo "${stmts[@]}")
    for i in "${!CHECKS[@]}"; do DOR[i]="${counts[i]:-?}"; done
    local my_rows=() pg_rows=() m=0 p=0
    [ -s "$D/mariadb.jsonl" ] && mapfile -t my_rows < <("$PY" "$FILES/events.py" rows "$D/mariadb.jsonl" "${my_topics[@]}" 2>/dev/null)
    [ -s "$D/postgres.jsonl" ] && mapfile -t pg_rows < <("$PY" "$FILES/events.py" rows "$D/postgres.jsonl" "${pg_topics[@]}" 2>/dev/null)
    for i in "${!CHECKS[@]}"; do
        IFS='|' read -r side table where <<<"${CHECKS[$i]}"
        [ -z "$where" ] || continue
        if [ "$side" = mariadb ]; then FIL[i]="${my_rows[m]:-0}"; m=$((m + 1))
        else FIL[i]="${pg_rows[p]:-0}"; p=$((p + 1)); fi
    done
}
matches() { [ "${SRC[$1]}" != '?' ] && [ "${SRC[$1]}" = "${DOR[$1]}" ] && { [ "${FIL[$1]}" = - ] || [ "${FIL[$1]}" = "${SRC[$1]}" ]; }; }
all_match() {
    local i
    for i in "${!CHECKS[@]}"; do matches "$i" || return 1; done
}
# wait_all_match WHAT: polls until every count matches; prints how long it took.
wait_all_match() {
    local start=$SECONDS deadline=$((SECONDS + TIMEOUT)) next_report=$((SECONDS + 10))
    while :; do
        connectors_alive
        measure
        all_match && break
        if [ $SECONDS -ge "$deadline" ]; then
            print_counts
            die "$1 did not arrive within $TIMEOUT s"
        fi
        if [ $SECONDS -ge "$next_report" ]; then
            say "still waiting for $1: doris has ${DOR[0]}/${SRC[0]} users, ${DOR[2]}/${SRC[2]} orders, ${DOR[4]}/${SRC[4]} customers, ${DOR[6]}/${SRC[6]} transactions"
            next_report=$((SECONDS + 10))
        fi
        sleep 0.5
    done
    say "$1 arrived in $((SECONDS - start)) s"
}
print_counts() {
    local i side table where name
    for i in "${!CHECKS[@]}"; do
        IFS='|' read -r side table where <<<"${CHECKS[$i]}"
        name="$(source_qualified "$side" "$table")${where:+ WHERE $where}"
        printf 'count  %-9s %-48s source %6s  doris %6s  file %6s  %s\n' "$side" "$name" \
            "${SRC[i]}" "${DOR[i]}" "${FIL[i]}" "$(matches "$i" && echo match || echo MISMATCH)"
    done
}

render_config() {
    sed -e "s|@MARIADB_PORT@|$MARIADB_PORT|g" -e "s|@PG_PORT@|$PG_PORT|g" \
        -e "s|@DORIS_FE@|$DORIS_FE|g" -e "s|@DEMO_DIR@|$D|g" "$1" >"$2"
}

echo "== dbtail demo, work dir $D"
say "starting MariaDB (binlog_format=ROW, binlog_row_metadata=FULL)"
start_mariadb || die "MariaDB did not start"
mariadb_q "$(cat "$FILES/mariadb-seed.sql")" || die "seeding MariaDB failed"
say "MariaDB on 127.0.0.1:$MARIADB_PORT: ecommerce_db.users $(mariadb_q 'SELECT COUNT(*) FROM users' ecommerce_db) rows, ecommerce_db.orders $(mariadb_q 'SELECT COUNT(*) FROM orders' ecommerce_db) rows"

say "starting PostgreSQL 15 (wal_level=logical)"
start_postgres || die "PostgreSQL did not start"
psql_q "CREATE DATABASE shop" postgres >/dev/null || die "creating database shop failed"
psql_q "$(cat "$FILES/postgres-seed.sql")" shop >/dev/null || die "seeding PostgreSQL failed"
say "PostgreSQL on 127.0.0.1:$PG_PORT: shop.public.customers $(psql_q 'SELECT COUNT(*) FROM customers' shop) rows, shop.public.transactions $(psql_q 'SELECT COUNT(*) FROM transactions' shop) rows"

say "starting the Doris emulator"
# Job control puts the emulator in a process group of its own: a Ctrl-C at the terminal must not
# stop it before the dbtail processes have made their final loads into it.
set -m
start_doris || die "the Doris emulator did not start"
set +m
say "Doris emulator: FE http://$DORIS_FE, BE http://$DORIS_BE, database demo"

render_config "$FILES/mariadb.json" "$D/mariadb.json"
render_config "$FILES/postgres.properties" "$D/postgres.properties"
for c in mariadb.json postgres.properties; do
    say "dbtail check -c $D/$c"
    "$DBTAIL" check -c "$D/$c" >"$D/check-${c%%.*}.txt" 2>&1
    status=$?
    sed 's/^/   /' "$D/check-${c%%.*}.txt"
    [ $status -eq 0 ] || die "dbtail check failed for $c (exit status $status)"
done

say "starting dbtail: MariaDB -> Doris demo.users, demo.orders + $D/mariadb.jsonl"
start_connector mariadb "$D/mariadb.json"
say "starting dbtail: PostgreSQL -> Doris demo.customers, demo.transactions + $D/postgres.jsonl"
start_connector postgres "$D/postgres.properties"

say "waiting for the snapshots (source rows = Doris rows = file rows)"
wait_all_match "the snapshots"

say "live changes on MariaDB ($FILES/mariadb-live.sql)"
mariadb_q "$(cat "$FILES/mariadb-live.sql")" || die "the MariaDB changes failed"
say "live changes on PostgreSQL ($FILES/postgres-live.sql)"
psql_q "$(cat "$FILES/postgres-live.sql")" shop >/dev/null || die "the PostgreSQL changes failed"
say "waiting for the live changes"
wait_all_match "the live changes"

echo
echo "== row counts: source SELECT COUNT(*), Doris emulator SELECT COUNT(*), rows the file's events leave"
measure
print_counts
result=0
all_match || result=1

for f in mariadb postgres; do
    echo
    echo "== events in $D/$f.jsonl"
    "$PY" "$FILES/events.py" show "$D/$f.jsonl"
done

echo
cat <<EOF
== look further
  event files    less $D/mariadb.jsonl $D/postgres.jsonl
  dbtail logs    $D/dbtail-mariadb.log $D/dbtail-postgres.log
  positions      $DBTAIL status -c $D/mariadb.json
                 $DBTAIL status -c $D/postgres.properties
  Doris tables   curl -s -u root: -H 'Content-Type: application/json' \\
                   -d '{"stmt": "SELECT * FROM orders ORDER BY order_id DESC LIMIT 5"}' \\
                   http://$DORIS_FE/api/query/default_cluster/demo
  Doris loads    curl -s http://$DORIS_FE/_emulator/loads   (and /_emulator/state)
  MariaDB        mariadb --no-defaults -h 127.0.0.1 -P $MARIADB_PORT -u root ecommerce_db
  PostgreSQL     psql -h 127.0.0.1 -p $PG_PORT -U postgres shop
EOF

if [ "$ONCE" = 1 ]; then
    echo
    [ $result -eq 0 ] && echo "demo: every count matches" || echo "demo: some counts differ"
    exit $result
fi

echo
echo "Change rows in either database and watch them arrive (tail -f the .jsonl files)."
echo "Press Ctrl-C to stop everything."
stop=0
trap 'stop=1' INT TERM
while [ $stop -eq 0 ]; do
    connectors_alive
    sleep 1 &
    wait $! 2>/dev/null
done
echo
say "stopping"
exit $result
