#!/usr/bin/env bash
# The command line contract: exit codes, usage, one-line config errors, status, and how `run`
# and `check` behave when the database cannot be reached. Needs no server.
source "$(dirname "$0")/../lib/servers.sh"

W="$TMP_ROOT/cli"
mkdir -p "$W"

# run_cli NAME ARGS...: runs dbtail, keeps stdout, stderr and the exit status in $W/NAME.*
run_cli() {
    local name="$1"; shift
    "$DBTAIL" "$@" >"$W/$name.out" 2>"$W/$name.err"
    echo $? >"$W/$name.rc"
}
rc_of() { cat "$W/$1.rc"; }
lines_of() { wc -l <"$W/$1.err" | tr -d ' '; }
show() { sed 's/^/#   /' "$W/$1.out" "$W/$1.err"; }

# expect_usage NAME ARGS...: exit 2 with the usage on stderr.
expect_usage() {
    local name="$1"; shift
    run_cli "$name" "$@"
    if [ "$(rc_of "$name")" = 2 ] && grep -q '^usage: dbtail' "$W/$name.err" &&
        [ ! -s "$W/$name.out" ]; then
        ok "$name: exit 2 with usage on stderr"
    else
        not_ok "$name: exit 2 with usage on stderr (exit $(rc_of "$name"))"
        show "$name"
    fi
}

# expect_config_error NAME FILE WANT: exit 2 and exactly one stderr line containing WANT.
expect_config_error() {
    local name="$1" file="$2" want="$3"
    run_cli "$name" run -c "$file"
    if [ "$(rc_of "$name")" = 2 ] && [ "$(lines_of "$name")" = 1 ] &&
        grep -qF -- "$want" "$W/$name.err" && grep -q '^dbtail: ' "$W/$name.err"; then
        ok "$name: exit 2, one line naming $want"
    else
        not_ok "$name: exit 2, one line naming $want (exit $(rc_of "$name"), $(lines_of "$name") lines)"
        show "$name"
    fi
}

# config FILE [KEY=VALUE...]: a valid PostgreSQL config (flat JSON), then overrides; a
# value of - removes the key.
config() {
    local file="$1"; shift
    python3 - "$file" "$W" "$@" <<'PY'
import json, sys
path, work, overrides = sys.argv[1], sys.argv[2], sys.argv[3:]
cfg = {
    "name": "inventory",
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "database.hostname": "127.0.0.1",
    "database.port": "5432",
    "database.user": "postgres",
    "database.password": "s3cret-pw",
    "database.dbname": "dbtail",
    "topic.prefix": "inv",
    "sink.type": "file",
    "sink.file.path": work + "/out.jsonl",
    "offset.storage.file.filename": work + "/offsets.json",
}
for o in overrides:
    k, v = o.split("=", 1)
    if v == "-":
        cfg.pop(k, None)
    else:
        cfg[k] = v
json.dump(cfg, open(path, "w"), indent=2)
PY
}

# --- help, version, usage errors ---
run_cli help --help
check "--help exits 0 with the usage on stdout" \
    test "$(rc_of help)" = 0 -a -n "$(grep '^usage: dbtail' "$W/help.out")"
run_cli version --version
check_eq "--version prints the version" "$(cat "$W/version.out")" "dbtail $(cat "$TEST_ROOT/VERSION")"
check "--version exits 0" test "$(rc_of version)" = 0

expect_usage no-args
expect_usage unknown-command frobnicate -c "$W/any.json"
expect_usage unknown-option run --frobnicate -c "$W/any.json"
expect_usage extra-argument status -c "$W/any.json" more
expect_usage missing-config status
check "unknown command is named" grep -q 'unknown command "frobnicate"' "$W/unknown-command.err"

# --- configuration errors: exit 2, one line that names the problem ---
expect_config_error missing-file "$W/nonexistent.json" "$W/nonexistent.json"

printf '{\n  "name": "x",\n  "connector.class" "y"\n}\n' >"$W/invalid.json"
expect_config_error invalid-json "$W/invalid.json" "invalid.json:3"

config "$W/no-host.json" database.hostname=-
expect_config_error missing-key "$W/no-host.json" "database.hostname"

config "$W/bad-class.json" connector.class=com.example.NoSuchConnector
expect_config_error unknown-connector "$W/bad-class.json" "com.example.NoSuchConnector"

config "$W/bad-port.json" database.port=fivefourthreetwo
expect_config_error wrong-type "$W/bad-port.json" "database.port"

config "$W/bad-sinks.json" sink.type=file,nowhere
expect_config_error unknown-sink "$W/bad-sinks.json" "sink.type"

# The long option spelling and the config error both hold for every command.
run_cli long-option status --config "$W/bad-port.json"
check "--config is -c; status reports config errors with exit 2" test "$(rc_of long-option)" = 2

# --- status ---
config "$W/good.json"
run_cli status-none status -c "$W/good.json"
check "status without a state file exits 0" test "$(rc_of status-none)" = 0
check "status without a state file says so" grep -q "no state file yet" "$W/status-none.out"

cat >"$W/offsets.json" <<'JSON'
{
  "format": 1,
  "connector": "inventory",
  "source": {"connector": "postgresql", "server": "127.0.0.1:5432", "database": "dbtail",
             "password": "s3cret-pw"},
  "position": {"lsn": "0/16B3748", "txId": 767,
               "snapshot": {"table": "public.orders", "last_key": [42], "tables_done": 3}},
  "schemas": [{"table": "public.orders"}, {"table": "public.customers"}],
  "sinks": {"file": {"path": "/tmp/out.jsonl", "length": 51234},
            "doris": {"labels": "x", "sink.doris.password": "s3cret-pw"}},
  "saved_at": "2026-01-01T12:00:00Z"
}
JSON
run_cli status-saved status -c "$W/good.json"
check "status with a state file exits 0" test "$(rc_of status-saved)" = 0
check "status shows the position" grep -q "lsn: 0/16B3748" "$W/status-saved.out"
check "status shows the snapshot progress" grep -q "last_key: \[42\]" "$W/status-saved.out"
check "status shows the sink checkpoints" grep -q "length: 51234" "$W/status-saved.out"
check "status shows when it was saved" grep -q "2026-01-01T12:00:00Z" "$W/status-saved.out"
if grep -q "s3cret-pw" "$W/status-saved.out" "$W/status-saved.err"; then
    not_ok "status never prints a password"
else
    ok "status never prints a password"
fi

printf '{"format": 1, "source": {' >"$W/offsets.json"
run_cli status-corrupt status -c "$W/good.json"
check "status on a corrupt state file exits 1" test "$(rc_of status-corrupt)" = 1
check "status on a corrupt state file names it and keeps it" \
    grep -q "offsets.json:1: invalid JSON.*not modified" "$W/status-corrupt.err"
rm -f "$W/offsets.json"

# --- an unreachable database ---
dead_port=$(free_port)
config "$W/dead.json" database.port="$dead_port"

run_cli check-dead check -c "$W/dead.json"
check "check against an unreachable database exits 1" test "$(rc_of check-dead)" = 1
check "check prints one ok/FAIL line per check" \
    test -z "$(grep -Ev '^(ok|FAIL) ' "$W/check-dead.out")" -a -n "$(grep '^FAIL ' "$W/check-dead.out")"
check "check names the unreachable server" grep -q "$dead_port" "$W/check-dead.out"

# run keeps retrying with a backoff and logs each failure; a signal then ends it cleanly.
start_dbtail run-dead run -c "$W/dead.json"
if wait_for 20 grep -q "restarting" "$TMP_ROOT/run-dead.log"; then
    ok "run logs the connection failure and retries"
else
    not_ok "run logs the connection failure and retries"
    sed 's/^/#   /' "$TMP_ROOT/run-dead.log"
fi
check "the failure names the server" grep -q "$dead_port" "$TMP_ROOT/run-dead.log"
run_cli second-run run -c "$W/dead.json"
check "a second run on the same state file exits 1" test "$(rc_of second-run)" = 1
check "a second run says another dbtail holds the state file" \
    grep -q "another dbtail is running with state file $W/offsets.json" "$W/second-run.err"
stop_dbtail
check_eq "SIGTERM while retrying exits 0" "$?" 0
check "no state file was written" test ! -e "$W/offsets.json"

# A server that accepts connections and never answers: the first signal cannot finish the
# stuck connect, the second one exits at once with status 1.
silent_port=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' "$silent_port" &
silent_pid=$!
on_exit "kill $silent_pid"
config "$W/silent.json" database.port="$silent_port"
start_dbtail run-silent run -c "$W/silent.json"
sleep 2
kill -TERM "$DBTAIL_PID"
sleep 0.3
kill -TERM "$DBTAIL_PID"
started=$SECONDS
wait "$DBTAIL_PID"
rc=$?
check_eq "a second signal exits with status 1" "$rc" 1
check "a second signal exits at once" test $((SECONDS - started)) -le 2
check "a second signal says the state file keeps the last checkpoint" \
    grep -q "second signal" "$TMP_ROOT/run-silent.log"
