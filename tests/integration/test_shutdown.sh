#!/usr/bin/env bash
# Stopping within shutdown.timeout.ms: a SIGTERM while Doris hangs on a Stream Load ends
# dbtail (run, and serve with its connectors) with status 1 a moment after the timeout, saying
# so, with the state file still at the last checkpoint; the next start loads those rows once.
source "$(dirname "$0")/../lib/servers.sh"
source "$(dirname "$0")/pg_lib.sh"
start_postgres || exit 1
start_doris || exit 1
W="$TMP_ROOT/w"
mkdir -p "$W"
on_exit drop_slots

psql_q "CREATE TABLE items (id int PRIMARY KEY, v text);
        INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 20) g;"
doris_count() {
    doris_sql shop "SELECT count(*) FROM items" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["data"][0][0])' 2>/dev/null
}
doris_has() { [ "$(doris_count)" = "$1" ]; }
hang_next_load() {
    curl -s -X POST -H 'Content-Type: application/json' \
        -d '{"mode": "hang", "count": 1, "hang_seconds": 60}' "http://$DORIS_FE/_emulator/faults" >/dev/null
}
# stop_timed PID: SIGTERM and wait; sets STATUS and TOOK (seconds).
stop_timed() {
    local start=$SECONDS
    kill -TERM "$1"
    wait "$1"
    STATUS=$?
    TOOK=$((SECONDS - start))
}

pg_config_file "$W/c.json" sink.type=doris "sink.doris.fenodes=$DORIS_FE" sink.doris.database=shop \
    sink.doris.table.properties.replication_num=1 sink.doris.flush.interval.ms=100 \
    sink.doris.request.timeout.ms=120000 shutdown.timeout.ms=2000
start_dbtail run run -c "$W/c.json"
check "the snapshot reaches Doris" wait_for 60 doris_has 20
wait_for 60 grep -q '"phase": *"stream"' "$W/offsets.json"
saved=$(cat "$W/offsets.json")

hang_next_load
psql_q "INSERT INTO items SELECT g, 'v' || g FROM generate_series(21, 30) g"
# The load of rows 21..30 now hangs in the emulator.
wait_for 30 sh -c "curl -s 'http://$DORIS_FE/_emulator/faults' | grep -q '\[\]'"
stop_timed "$DBTAIL_PID"
check_eq "run: a stop past shutdown.timeout.ms exits 1" "$STATUS" 1
check "run: it exits within a few seconds of the timeout (took ${TOOK} s)" test "$TOOK" -le 6
check "run: the log says why" grep -q "shutdown.timeout.ms (2000 ms)" "$TMP_ROOT/run.log"
check_eq "run: the state file keeps the last checkpoint" "$(cat "$W/offsets.json")" "$saved"

curl -s -X DELETE "http://$DORIS_FE/_emulator/faults" >/dev/null
start_dbtail run2 run -c "$W/c.json"
check "run: the next start loads the rows" wait_for 90 doris_has 30
stop_timed "$DBTAIL_PID"
check_eq "run: a stop with nothing hanging exits 0" "$STATUS" 0

# serve: the worker's shutdown.timeout.ms bounds the stop of all its connectors.
P=$(free_port)
cat >"$W/worker.properties" <<PROPS
rest.port=$P
state.dir=$W/state
shutdown.timeout.ms=2000
PROPS
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c.pop("offset.storage.file.filename"); print(json.dumps({"name": c.pop("name"), "config": c}))' \
    "$W/c.json" >"$W/body.json"
start_dbtail serve serve -c "$W/worker.properties"
wait_for 30 curl -sf "http://127.0.0.1:$P/"
curl -s -o /dev/null -X POST -H 'Content-Type: application/json' --data @"$W/body.json" "http://127.0.0.1:$P/connectors"
check "serve: the connector loads" wait_for 90 sh -c "grep -q '\"phase\": *\"stream\"' '$W/state/pgtest.offsets'"
hang_next_load
psql_q "INSERT INTO items SELECT g, 'v' || g FROM generate_series(31, 40) g"
wait_for 30 sh -c "curl -s 'http://$DORIS_FE/_emulator/faults' | grep -q '\[\]'"
stop_timed "$DBTAIL_PID"
check_eq "serve: a stop past shutdown.timeout.ms exits 1" "$STATUS" 1
check "serve: within a few seconds of the timeout (took ${TOOK} s)" test "$TOOK" -le 6
check "serve: the log says why" grep -q "shutdown.timeout.ms (2000 ms)" "$TMP_ROOT/serve.log"
