#!/usr/bin/env bash
# `dbtail serve`: the Kafka Connect REST runbook, with the curl commands a Debezium user already
# has: a Debezium MySQL connector on MariaDB, then PostgreSQL connectors, several at once with
# their own state files. Pause stops the events, resume and restart bring them back without
# duplicates; a connector with a wrong password goes FAILED with a trace while the others keep
# running; errors have Connect's shape; a restarted worker brings its connectors back as they
# were; basic authentication.
source "$(dirname "$0")/../lib/servers.sh"
start_postgres || exit 1
start_mariadb || exit 1
W="$TMP_ROOT/w"
mkdir -p "$W"
cd "$W" || exit 1

# A role that must give the right password (the other lines of pg_hba.conf trust everyone).
sed -i '1i host all pwuser 127.0.0.1/32 scram-sha-256' "$PG_DATA/pg_hba.conf"
pg_ctl_run reload
psql_q "CREATE ROLE pwuser LOGIN SUPERUSER PASSWORD 'Right-Pw-42';
        CREATE TABLE orders (id int PRIMARY KEY, v text);
        CREATE TABLE customers (id int PRIMARY KEY, v text);
        INSERT INTO orders SELECT g, 'o' || g FROM generate_series(1, 100) g;
        INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 50) g;"
drop_slots() {
    psql_q "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active" >/dev/null 2>&1 || true
}
on_exit drop_slots

P=$(free_port)
API="http://127.0.0.1:$P"
STATE="$W/state"

# call METHOD PATH [CURL_ARGS...]: sets CODE and BODY.
call() {
    local method="$1" path="$2"; shift 2
    CODE=$(curl -s -o "$W/body" -w '%{http_code}' -X "$method" "$@" "$API$path")
    BODY=$(cat "$W/body")
}
# field EXPR: evaluates a Python expression over the JSON body d.
field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$BODY" "$1" 2>/dev/null; }
state() { curl -s "$API/connectors/$1/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tasks"][0]["state"])' 2>/dev/null; }
wait_state() { wait_for "$1" sh -c "[ \"\$(curl -s '$API/connectors/$2/status' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"tasks\"][0][\"state\"])' 2>/dev/null)\" = '$3' ]"; }
# events FILE TABLE: records of it.public.TABLE in the file sink's output.
events() { if [ -f "$1" ]; then grep -c "\"topic\":\"it.public.$2\"" "$1"; else echo 0; fi; }
dups() { python3 "$TEST_ROOT/tests/integration/pg_events.py" count "$1" "it.public.$2" id; }

# connector_json FILE NAME TABLE SLOT [USER PASSWORD]: a Debezium PostgreSQL connector body.
connector_json() {
    cat >"$1" <<JSON
{
  "name": "$2",
  "config": {
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "tasks.max": "1",
    "database.hostname": "127.0.0.1",
    "database.port": "$PG_PORT",
    "database.user": "${5:-postgres}",
    "database.password": "${6:-}",
    "database.dbname": "dbtail",
    "topic.prefix": "it",
    "table.include.list": "public.$3",
    "slot.name": "$4",
    "publication.name": "pub_$4",
    "publication.autocreate.mode": "filtered",
    "key.converter.schemas.enable": "false",
    "value.converter.schemas.enable": "false",
    "offset.flush.interval.ms": "100",
    "sink.type": "file",
    "sink.file.path": "$W/$2.jsonl"
  }
}
JSON
}

start_dbtail serve serve --port "$P" --state-dir "$STATE"
SERVE_PID=$DBTAIL_PID
check "the REST API answers" wait_for 30 curl -sf "$API/"
call GET /
check_eq "GET / names the version" "$(field 'd["version"]')" "$("$DBTAIL" --version | cut -d' ' -f2)"
call GET /connector-plugins
check "GET /connector-plugins lists the PostgreSQL connector" \
    test "$(field '[p["class"] for p in d if p["type"] == "source"].count("io.debezium.connector.postgresql.PostgresConnector")')" = 1
call GET /connectors
check_eq "no connectors yet" "$CODE $BODY" "200 []"

# --- the MySQL runbook, as in Debezium's tutorial
mariadb_q "CREATE DATABASE ecommerce_db; CREATE TABLE ecommerce_db.orders (id INT PRIMARY KEY, item VARCHAR(20));
           INSERT INTO ecommerce_db.orders VALUES (1, 'book'), (2, 'pen'), (3, 'ink');"
cat >mysql-connector.json <<JSON
{
  "name": "mysql-connector",
  "config": {
    "connector.class": "io.debezium.connector.mysql.MySqlConnector",
    "tasks.max": "1",
    "database.hostname": "127.0.0.1",
    "database.port": "$MARIADB_PORT",
    "database.user": "root",
    "database.password": "",
    "database.server.id": "184054",
    "topic.prefix": "mysql-cdc",
    "database.include.list": "ecommerce_db",
    "schema.history.internal.kafka.bootstrap.servers": "kafka:9092",
    "schema.history.internal.kafka.topic": "schema-changes.ecommerce_db",
    "sink.type": "file",
    "sink.file.path": "$W/mysql-cdc.jsonl"
  }
}
JSON
MY_OUT="$W/mysql-cdc.jsonl"
my_events() { if [ -f "$MY_OUT" ]; then grep -c '"topic":"mysql-cdc.ecommerce_db.orders"' "$MY_OUT"; else echo 0; fi; }
my_wait() { wait_for 60 sh -c "[ \$(grep -c '\"topic\":\"mysql-cdc.ecommerce_db.orders\"' '$MY_OUT' 2>/dev/null) -ge $1 ]"; }
curl -s -o "$W/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data @mysql-connector.json "http://127.0.0.1:$P/connectors" >"$W/code"
check_eq "mysql: POST /connectors answers 201" "$(cat "$W/code")" 201
check "mysql: status becomes RUNNING" wait_state 30 mysql-connector RUNNING
check "mysql: the snapshot arrives" my_wait 3
mariadb_q "INSERT INTO ecommerce_db.orders VALUES (4, 'cup'), (5, 'mug')"
check "mysql: inserts arrive" my_wait 5
curl -s -o /dev/null -w '%{http_code}' -X PUT "http://127.0.0.1:$P/connectors/mysql-connector/pause" >"$W/code"
check_eq "mysql: PUT .../pause answers 202" "$(cat "$W/code")" 202
check "mysql: status becomes PAUSED" wait_state 30 mysql-connector PAUSED
before=$(my_events)
mariadb_q "INSERT INTO ecommerce_db.orders VALUES (6, 'hat'), (7, 'cap')"
sleep 3
check_eq "mysql: no events arrive while paused" "$(my_events)" "$before"
curl -s -o /dev/null -w '%{http_code}' -X PUT "http://127.0.0.1:$P/connectors/mysql-connector/resume" >"$W/code"
check_eq "mysql: PUT .../resume answers 202" "$(cat "$W/code")" 202
check "mysql: RUNNING after resume" wait_state 30 mysql-connector RUNNING
check "mysql: rows inserted while paused arrive" my_wait 7
curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$P/connectors/mysql-connector/restart" >"$W/code"
check_eq "mysql: POST .../restart answers 204" "$(cat "$W/code")" 204
check "mysql: RUNNING after restart" wait_state 30 mysql-connector RUNNING
mariadb_q "INSERT INTO ecommerce_db.orders VALUES (8, 'bag')"
check "mysql: rows after the restart arrive" my_wait 8
check_eq "mysql: 8 records, none twice" \
    "$(my_events) $(python3 "$TEST_ROOT/tests/integration/pg_events.py" count "$MY_OUT" mysql-cdc.ecommerce_db.orders id)" "8 0"

# --- PostgreSQL: the same calls, and more
connector_json pg-connector.json orders-cdc orders s_orders
CODE=$(curl -s -o "$W/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data @pg-connector.json "$API/connectors")
BODY=$(cat "$W/body")
check_eq "POST /connectors answers 201" "$CODE" 201
check_eq "the answer is Connect's ConnectorInfo" \
    "$(field 'd["name"], d["type"], d["tasks"], d["config"]["slot.name"], d["config"]["name"]')" \
    "('orders-cdc', 'source', [{'connector': 'orders-cdc', 'task': 0}], 's_orders', 'orders-cdc')"
call POST /connectors -H 'Content-Type: application/json' --data @pg-connector.json
check_eq "creating it again answers 409" "$CODE $(field 'd["error_code"]')" "409 409"
check "the 409 names the connector" grep -q "orders-cdc already exists" "$W/body"

check "status becomes RUNNING" wait_state 30 orders-cdc RUNNING
call GET /connectors/orders-cdc/status
check_eq "status has Connect's shape" \
    "$(field 'd["name"], d["type"], d["connector"]["state"], d["connector"]["worker_id"], d["tasks"][0]["id"], d["tasks"][0]["worker_id"]')" \
    "('orders-cdc', 'source', 'RUNNING', '127.0.0.1:$P', 0, '127.0.0.1:$P')"
check "the snapshot arrives" wait_for 30 sh -c "[ \$(grep -c '\"topic\":\"it.public.orders\"' '$W/orders-cdc.jsonl') -ge 100 ]"
psql_q "INSERT INTO orders SELECT g, 'o' || g FROM generate_series(101, 110) g"
check "streamed inserts arrive" wait_for 30 sh -c "[ \$(grep -c '\"topic\":\"it.public.orders\"' '$W/orders-cdc.jsonl') -ge 110 ]"
check "the config and the offsets live in the state dir" test -f "$STATE/orders-cdc.json" -a -f "$STATE/orders-cdc.offsets"

call GET /connectors/orders-cdc
check_eq "GET /connectors/NAME is the info" "$CODE $(field 'd["name"], d["type"]')" "200 ('orders-cdc', 'source')"
call GET /connectors/orders-cdc/config
check_eq "GET .../config is the config map" "$(field 'd["connector.class"], d["table.include.list"], d["name"]')" \
    "('io.debezium.connector.postgresql.PostgresConnector', 'public.orders', 'orders-cdc')"
call GET /connectors/orders-cdc/tasks
check_eq "GET .../tasks has task 0" "$(field 'd[0]["id"]')" "{'connector': 'orders-cdc', 'task': 0}"
call GET /connectors/orders-cdc/tasks/0/status
check_eq "GET .../tasks/0/status" "$(field 'd["id"], d["state"]')" "(0, 'RUNNING')"

# --- pause: no events while paused; resume: they arrive
curl -s -o /dev/null -w '%{http_code}' -X PUT "$API/connectors/orders-cdc/pause" >"$W/code"
check_eq "PUT .../pause answers 202" "$(cat "$W/code")" 202
check "status becomes PAUSED" wait_state 30 orders-cdc PAUSED
call GET /connectors/orders-cdc/status
check_eq "the connector and its task are PAUSED" "$(field 'd["connector"]["state"], d["tasks"][0]["state"]')" "('PAUSED', 'PAUSED')"
before=$(events "$W/orders-cdc.jsonl" orders)
psql_q "INSERT INTO orders SELECT g, 'o' || g FROM generate_series(111, 120) g"
sleep 3
check_eq "no events arrive while paused" "$(events "$W/orders-cdc.jsonl" orders)" "$before"
curl -s -o /dev/null -w '%{http_code}' -X PUT "$API/connectors/orders-cdc/resume" >"$W/code"
check_eq "PUT .../resume answers 202" "$(cat "$W/code")" 202
check "status is RUNNING after resume" wait_state 30 orders-cdc RUNNING
check "the rows inserted while paused arrive" wait_for 30 sh -c "[ \$(grep -c '\"topic\":\"it.public.orders\"' '$W/orders-cdc.jsonl') -ge 120 ]"

# --- restart: RUNNING again, and every row once
call POST /connectors/orders-cdc/restart
check_eq "POST .../restart answers 204" "$CODE" 204
check "status is RUNNING after restart" wait_state 30 orders-cdc RUNNING
psql_q "INSERT INTO orders SELECT g, 'o' || g FROM generate_series(121, 130) g"
call POST "/connectors/orders-cdc/restart?includeTasks=true&onlyFailed=false"
check_eq "restart?includeTasks=true answers 202 with the status" "$CODE $(field 'd["name"], d["tasks"][0]["id"]')" "202 ('orders-cdc', 0)"
call POST "/connectors/orders-cdc/restart?includeTasks=true&onlyFailed=true"
check_eq "restart?onlyFailed=true of a running connector leaves it RUNNING" "$CODE $(field 'd["tasks"][0]["state"]')" "202 RUNNING"
call POST /connectors/orders-cdc/tasks/0/restart
check_eq "POST .../tasks/0/restart answers 204" "$CODE" 204
psql_q "INSERT INTO orders SELECT g, 'o' || g FROM generate_series(131, 140) g"
check "rows after the restarts arrive" wait_for 30 sh -c "[ \$(grep -c '\"topic\":\"it.public.orders\"' '$W/orders-cdc.jsonl') -ge 140 ]"
check_eq "exactly 140 records, none twice" "$(events "$W/orders-cdc.jsonl" orders) $(dups "$W/orders-cdc.jsonl" orders)" "140 0"

# --- errors in Connect's shape
call POST /connectors -H 'Content-Type: application/json' --data '{"name": "broken", "config": {'
check_eq "bad JSON answers 400" "$CODE $(field 'd["error_code"], type(d["message"]).__name__')" "400 (400, 'str')"
call POST /connectors -H 'Content-Type: application/json' \
    --data '{"name": "nosuch", "config": {"connector.class": "com.example.NoSuchConnector", "topic.prefix": "x", "sink.type": "file"}}'
check_eq "an unknown connector.class answers 400" "$CODE $(field 'd["error_code"]')" "400 400"
check "the 400 names the class" grep -q "com.example.NoSuchConnector" "$W/body"
call POST /connectors -H 'Content-Type: application/json' \
    --data '{"name": "nohost", "config": {"connector.class": "io.debezium.connector.postgresql.PostgresConnector", "topic.prefix": "x", "sink.type": "file"}}'
check_eq "a config missing a required key answers 400" "$CODE" 400
check "the 400 names the key" grep -q "database.hostname" "$W/body"
call GET /connectors/nosuch/status
check_eq "an unknown name answers 404" "$CODE $BODY" '404 {"error_code":404,"message":"Connector nosuch not found"}'
call PUT /connectors/nosuch/pause
check_eq "pausing an unknown name answers 404" "$CODE" 404
call GET /connectors
check_eq "refused connectors were not created" "$BODY" '["mysql-connector","orders-cdc"]'

# --- two connectors at once, and a failing one that leaves the others running
connector_json customers.json customers-cdc customers s_customers
python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["config"]))' customers.json >customers-config.json
CODE=$(curl -s -o "$W/body" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
    --data @customers-config.json "$API/connectors/customers-cdc/config")
check_eq "PUT .../config creates a connector: 201" "$CODE" 201
connector_json bad.json bad-password customers s_bad pwuser wrong
call POST /connectors -H 'Content-Type: application/json' --data @bad.json
check_eq "a connector with a wrong password is created" "$CODE" 201
check "it goes FAILED" wait_state 30 bad-password FAILED
call GET /connectors/bad-password/status
check "its trace holds the server's refusal" sh -c "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert \"password authentication failed\" in d[\"tasks\"][0][\"trace\"], d' '$W/body'"
check_eq "the connector shows FAILED too" "$(field 'd["connector"]["state"]')" FAILED
check "the second connector runs" wait_state 30 customers-cdc RUNNING
psql_q "INSERT INTO orders VALUES (141, 'o141'); INSERT INTO customers VALUES (51, 'c51')"
check "the first connector still streams" wait_for 30 sh -c "grep -q '\"id\":141' '$W/orders-cdc.jsonl'"
check "the second streams its own table" wait_for 30 sh -c "grep -q '\"id\":51,' '$W/customers-cdc.jsonl'"
check_eq "each connector writes only its table" "$(events "$W/customers-cdc.jsonl" orders) $(events "$W/orders-cdc.jsonl" customers)" "0 0"
check_eq "the other connectors are still RUNNING" "$(state orders-cdc) $(state mysql-connector)" "RUNNING RUNNING"
mariadb_q "INSERT INTO ecommerce_db.orders VALUES (9, 'box')"
check "and the MySQL one still streams" my_wait 9
call GET "/connectors?expand=status"
check_eq "?expand=status shows every state" \
    "$(field 'sorted((k, v["status"]["tasks"][0]["state"]) for k, v in d.items())')" \
    "[('bad-password', 'FAILED'), ('customers-cdc', 'RUNNING'), ('mysql-connector', 'RUNNING'), ('orders-cdc', 'RUNNING')]"
call GET "/connectors?expand=info&expand=status"
check_eq "?expand=info&expand=status gives both" "$(field 'sorted(d["customers-cdc"].keys())')" "['info', 'status']"

curl -s "$API/metrics" >"$W/metrics.txt"
check "GET /metrics has each connector's series" /usr/bin/python3 - "$W/metrics.txt" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
got = {}
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        got[(s.name, tuple(sorted(s.labels.items())))] = s.value
def v(name, **labels):
    return got.get((name, tuple(sorted(labels.items()))))
assert v("dbtail_events_total", connector="orders-cdc", table="public.orders", op="r") == 100, got
assert v("dbtail_events_total", connector="customers-cdc", table="public.customers", op="r") == 50
assert v("dbtail_events_total", connector="orders-cdc", table="public.orders", op="c") >= 41
assert v("dbtail_connector_state", connector="bad-password", state="FAILED") == 1
assert v("dbtail_connector_state", connector="orders-cdc", state="RUNNING") == 1
PY

# fix the password with PUT .../config: 200, and the connector runs
python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["config"]; c["database.password"]="Right-Pw-42"; print(json.dumps(c))' bad.json >fixed.json
call PUT /connectors/bad-password/config -H 'Content-Type: application/json' --data @fixed.json
check_eq "PUT .../config of an existing connector answers 200" "$CODE" 200
check "with the right password it runs" wait_state 30 bad-password RUNNING
check "and reads its snapshot" wait_for 30 sh -c "[ \$(grep -c '\"topic\":\"it.public.customers\"' '$W/bad-password.jsonl') -ge 51 ]"

# --- delete: 204, then 404; the offsets stay
call DELETE /connectors/bad-password
check_eq "DELETE answers 204" "$CODE" 204
call GET /connectors/bad-password
check_eq "a deleted connector answers 404" "$CODE" 404
check "its offsets stay, its config goes" sh -c "test -f '$STATE/bad-password.offsets' && ! test -f '$STATE/bad-password.json'"

# --- a restarted worker brings its connectors back as they were
curl -s -o /dev/null -X PUT "$API/connectors/customers-cdc/pause"
wait_state 30 customers-cdc PAUSED
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
check_eq "SIGTERM stops serve with status 0" "$?" 0
check "every connector stopped with a final checkpoint" grep -q "connector orders-cdc stopped" "$TMP_ROOT/serve.log"
psql_q "INSERT INTO orders SELECT g, 'o' || g FROM generate_series(142, 150) g"
echo '{"name": "stale", "config": {"connector.class": "com.example.Gone", "topic.prefix": "x"}}' >"$STATE/stale.json"
start_dbtail serve2 serve --port "$P" --state-dir "$STATE"
check "the restarted worker answers" wait_for 30 curl -sf "$API/"
call GET /connectors
check_eq "it brought back its connectors" "$(field 'sorted(d)')" "['customers-cdc', 'mysql-connector', 'orders-cdc', 'stale']"
call GET /connectors/stale/status
check_eq "a saved config that no longer validates is FAILED with the reason" \
    "$(field 'd["tasks"][0]["state"], "com.example.Gone" in d["tasks"][0]["trace"]')" "('FAILED', True)"
call POST /connectors/stale/restart
check_eq "restarting it says to PUT a new config" "$CODE $(field '"PUT" in d["message"]')" "400 True"
call DELETE /connectors/stale
check_eq "it can be deleted" "$CODE" 204
check "the paused one is still PAUSED" wait_state 30 customers-cdc PAUSED
check "the other one runs" wait_state 30 orders-cdc RUNNING
check "rows committed while serve was down arrive" wait_for 30 sh -c "[ \$(grep -c '\"topic\":\"it.public.orders\"' '$W/orders-cdc.jsonl') -ge 150 ]"
check_eq "still every row once" "$(events "$W/orders-cdc.jsonl" orders) $(dups "$W/orders-cdc.jsonl" orders)" "150 0"
mariadb_q "INSERT INTO ecommerce_db.orders VALUES (10, 'jar')"
check "the MySQL connector resumes too" my_wait 10
check_eq "and its rows are there once each" \
    "$(my_events) $(python3 "$TEST_ROOT/tests/integration/pg_events.py" count "$MY_OUT" mysql-cdc.ecommerce_db.orders id)" "10 0"
curl -s -o /dev/null -w '%{http_code}' -X DELETE "$API/connectors/mysql-connector" >"$W/code"
check_eq "mysql: DELETE answers 204" "$(cat "$W/code")" 204
check_eq "mysql: then GET answers 404" "$(curl -s -o /dev/null -w '%{http_code}' "$API/connectors/mysql-connector/status")" 404
stop_dbtail
check_eq "the second worker stops with status 0" "$?" 0
check "log lines name their connector" grep -q "INFO \[orders-cdc\] pipeline:" "$TMP_ROOT/serve2.log"

# --- basic authentication from a worker properties file
AP=$(free_port)
cat >worker.properties <<PROPS
rest.host=127.0.0.1
rest.port=$AP
state.dir=$W/auth-state
rest.basic.auth.user=admin
rest.basic.auth.password=s3cret
PROPS
start_dbtail auth serve -c worker.properties
check "the worker reads its properties file" wait_for 30 sh -c "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$AP/ | grep -q 401"
check_eq "no credentials: 401" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$AP/connectors")" 401
check_eq "a wrong password: 401" "$(curl -s -o /dev/null -w '%{http_code}' -u admin:nope "http://127.0.0.1:$AP/connectors")" 401
check_eq "the right credentials: 200" "$(curl -s -w ' %{http_code}' -u admin:s3cret "http://127.0.0.1:$AP/connectors")" "[] 200"
stop_dbtail
check_eq "it stops with status 0" "$?" 0
check "no secret in the logs" sh -c "! grep -q s3cret '$TMP_ROOT/auth.log' && ! grep -q Right-Pw-42 '$TMP_ROOT/serve.log'"
