#!/usr/bin/env bash
# Prometheus metrics of `dbtail run` with metrics.port: the exposition parsed by
# prometheus_client's own text parser, and its counters checked against the changes made at the
# source (N snapshot rows, C inserts, U updates, D deletes), Doris Stream Load retries injected
# by the emulator, the file sink's bytes against the file, checkpoints, lag, state, /health, and
# a connector name that needs escaping in a label value.
source "$(dirname "$0")/../lib/servers.sh"
source "$(dirname "$0")/pg_lib.sh"
start_postgres || exit 1
start_doris || exit 1
W="$TMP_ROOT/w"
mkdir -p "$W"
on_exit drop_slots

N=300 C=40 U=15 D=5
NAME='orders "eu" \ 1'
psql_q "CREATE TABLE items (id int PRIMARY KEY, v text);
        INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, $N) g; ANALYZE items;"
MP=$(free_port)
pg_config_file "$W/c.json" "name=$NAME" "metrics.port=$MP" sink.type=file,doris \
    "sink.doris.fenodes=$DORIS_FE" sink.doris.database=shop \
    sink.doris.table.properties.replication_num=1 sink.doris.flush.interval.ms=100 \
    sink.doris.max.retries=5
start_dbtail dbtail run -c "$W/c.json"
check "/metrics answers" wait_for 30 curl -sf "http://127.0.0.1:$MP/metrics"
check_eq "/health answers 200" "$(curl -s -w ' %{http_code}' "http://127.0.0.1:$MP/health")" '{"status":"UP"} 200'
check_eq "other paths answer 404" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MP/nope")" 404
check "the snapshot arrives" wait_for 60 sh -c "[ \$(grep -c '\"topic\":\"it.public.items\"' '$W/out.jsonl') -ge $N ]"

# Two failed Stream Loads, each tried again by the sink.
curl -s -X POST -H 'Content-Type: application/json' -d '{"mode": "http500", "count": 2}' \
    "http://$DORIS_FE/_emulator/faults" >/dev/null
for i in $(seq 1 "$C"); do echo "INSERT INTO items VALUES ($((N + i)), 'new');"; done >"$W/dml.sql"
for i in $(seq 1 "$U"); do echo "UPDATE items SET v = 'upd' WHERE id = $i;"; done >>"$W/dml.sql"
for i in $(seq 1 "$D"); do echo "DELETE FROM items WHERE id = $((100 + i));"; done >>"$W/dml.sql"
PGCONNECT_TIMEOUT=10 psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d dbtail -f "$W/dml.sql"
total=$((N + C + U + D))
check "the changes arrive" wait_for 60 sh -c "[ \$(grep -c '\"topic\":\"it.public.items\"' '$W/out.jsonl') -ge $total ]"

# scrape: every sample as NAME|label=value,...|VALUE (labels sorted, values decoded by the
# parser), and every family as TYPE|NAME|type|help
scrape() {
    curl -sf "http://127.0.0.1:$MP/metrics" >"$W/metrics.txt" &&
        /usr/bin/python3 - "$W/metrics.txt" >"$W/samples.txt" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    print("TYPE|%s|%s|%s" % (fam.name, fam.type, fam.documentation))
    for s in fam.samples:
        labels = ",".join("%s=%s" % kv for kv in sorted(s.labels.items()))
        print("%s|%s|%s" % (s.name, labels, s.value))
PY
}
# value NAME LABELS: the sample's value ("none" when absent)
value() {
    N="$1" L="$2" awk -F'|' '$1 == ENVIRON["N"] && $2 == ENVIRON["L"] { print $3; found = 1 }
        END { if (!found) print "none" }' "$W/samples.txt"
}
# The sinks load and the pipeline checkpoints in the background: scrape until the queue is
# empty and both sinks have everything.
settled() {
    scrape || return 1
    [ "$(value dbtail_queue_depth "connector=$NAME")" = 0.0 ] || return 1
    [ "$(value dbtail_sink_bytes_total "connector=$NAME,sink=file")" = "$(stat -c %s "$W/out.jsonl").0" ]
}
check "the exposition parses and settles" wait_for 60 settled

ev() { value dbtail_events_total "connector=$NAME,op=$1,table=public.items"; }
check_eq "events_total{op=r} is the snapshot's rows" "$(ev r)" "$N.0"
check_eq "events_total{op=c} is the inserts" "$(ev c)" "$C.0"
check_eq "events_total{op=u} is the updates" "$(ev u)" "$U.0"
check_eq "events_total{op=d} is the deletes" "$(ev d)" "$D.0"
check_eq "snapshot_rows_total is the snapshot's rows" \
    "$(value dbtail_snapshot_rows_total "connector=$NAME,table=public.items")" "$N.0"
check_eq "snapshot_rows_expected is PostgreSQL's estimate after ANALYZE" \
    "$(value dbtail_snapshot_rows_expected "connector=$NAME,table=public.items")" "$N.0"
check_eq "the label value with a quote and a backslash round-trips" \
    "$(grep -cF "dbtail_events_total|connector=$NAME,op=" "$W/samples.txt")" 4
check "it is escaped in the text" grep -qF 'connector="orders \"eu\" \\ 1"' "$W/metrics.txt"
check_eq "the Doris sink retried the two failed loads" \
    "$(value dbtail_sink_retries_total "connector=$NAME,sink=doris")" 2.0
check_eq "and none failed for good" "$(value dbtail_sink_failures_total "connector=$NAME,sink=doris")" 0.0
check "the Doris sink counts its loads and bytes" sh -c "awk -F'|' '
    \$1 == \"dbtail_sink_loads_total\" && \$2 ~ /sink=doris/ && \$3 >= 2 { l = 1 }
    \$1 == \"dbtail_sink_bytes_total\" && \$2 ~ /sink=doris/ && \$3 > 1000 { b = 1 }
    END { exit !(l && b) }' '$W/samples.txt'"
check_eq "the file sink's bytes are the file's size" \
    "$(value dbtail_sink_bytes_total "connector=$NAME,sink=file")" "$(stat -c %s "$W/out.jsonl").0"
check "checkpoints were counted" sh -c "awk -F'|' '\$1 == \"dbtail_checkpoints_total\" && \$3 >= 2 { ok = 1 } END { exit !ok }' '$W/samples.txt'"
now=$(date +%s)
recent() { awk -v v="$1" -v now="$now" 'BEGIN { exit !(v > now - 120 && v <= now + 5) }'; }
check "last_checkpoint_timestamp_seconds is recent" recent "$(value dbtail_last_checkpoint_timestamp_seconds "connector=$NAME")"
check "last_event_timestamp_seconds is recent" recent "$(value dbtail_last_event_timestamp_seconds "connector=$NAME")"
check "milliseconds_behind_source is a lag of under a minute" \
    awk -v v="$(value dbtail_milliseconds_behind_source "connector=$NAME")" 'BEGIN { exit !(v >= 0 && v < 60000) }'
check_eq "connector_state says RUNNING" \
    "$(value dbtail_connector_state "connector=$NAME,state=RUNNING") $(value dbtail_connector_state "connector=$NAME,state=FAILED")" \
    "1.0 0.0"
check_eq "families have Prometheus types" \
    "$(grep -E '^TYPE\|dbtail_(events|milliseconds_behind_source|queue_depth|sink_retries)\|' "$W/samples.txt" | cut -d'|' -f2,3 | sort | tr '\n' ' ')" \
    "dbtail_events|counter dbtail_milliseconds_behind_source|gauge dbtail_queue_depth|gauge dbtail_sink_retries|counter "
check "every family has a HELP text" sh -c "! grep -E '^TYPE\|[^|]*\|[^|]*\|\$' '$W/samples.txt'"
check "the snapshot's summary line was logged" grep -q "progress: snapshot public.items: $N rows in" "$TMP_ROOT/dbtail.log"

stop_dbtail
check_eq "SIGTERM stops it with status 0" "$?" 0
check "the metrics port is closed after the stop" sh -c "! curl -s 'http://127.0.0.1:$MP/metrics' >/dev/null"

# A port that is taken is refused with a message naming it.
taken=${DORIS_FE##*:}
pg_config_file "$W/c2.json" "metrics.port=$taken" "offset.storage.file.filename=$W/o2.json" "sink.file.path=$W/o2.jsonl"
"$DBTAIL" run -c "$W/c2.json" >"$W/taken.log" 2>&1
check_eq "a taken metrics.port: exit 1" "$?" 1
check "the message names the port" grep -q "metrics.port: cannot listen on 0.0.0.0:$taken" "$W/taken.log"
