#!/usr/bin/env bash
# database.ssl.mode against MariaDB with and without TLS: required/preferred use TLS when the
# server offers it (the server counts the handshakes), disabled does not, and required refuses a
# server without TLS with a message that says so.
source "$(dirname "$0")/../lib/servers.sh"

config() {
    cat >"$TMP_ROOT/$1.json" <<JSON
{"name": "tls", "connector.class": "io.debezium.connector.mariadb.MariaDbConnector",
 "database.hostname": "127.0.0.1", "database.port": "$2", "database.user": "root",
 "database.server.id": "5403", "topic.prefix": "tls", "database.ssl.mode": "$1",
 "sink.type": "file", "sink.file.path": "$TMP_ROOT/$1.jsonl",
 "offset.storage.file.filename": "$TMP_ROOT/$1.state"}
JSON
    echo "$TMP_ROOT/$1.json"
}
# The server's count of TLS handshakes, asked in clear text.
accepts() {
    mariadb --no-defaults --skip-ssl -h 127.0.0.1 -P "$MARIADB_PORT" -u root -N \
        -e "SHOW GLOBAL STATUS LIKE 'Ssl_accepts'" | cut -f2
}

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -keyout "$TMP_ROOT/key.pem" -out "$TMP_ROOT/cert.pem" >/dev/null 2>&1 ||
    { not_ok "a test certificate is made"; exit 1; }
MARIADB_EXTRA_ARGS="--ssl-cert=$TMP_ROOT/cert.pem --ssl-key=$TMP_ROOT/key.pem" start_mariadb ||
    { not_ok "mariadb with TLS starts"; exit 1; }
mariadb_q "CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY); INSERT INTO d.t VALUES (1)"

for mode in required preferred; do
    before=$(accepts)
    "$DBTAIL" snapshot -c "$(config "$mode" "$MARIADB_PORT")" >"$TMP_ROOT/$mode.log" 2>&1
    check "ssl.mode=$mode: the snapshot runs" grep -q '"op":"r"' "$TMP_ROOT/$mode.jsonl"
    check "ssl.mode=$mode: over TLS" test "$(accepts)" -gt "$before"
done
before=$(accepts)
"$DBTAIL" snapshot -c "$(config disabled "$MARIADB_PORT")" >"$TMP_ROOT/disabled.log" 2>&1
check "ssl.mode=disabled: the snapshot runs" grep -q '"op":"r"' "$TMP_ROOT/disabled.jsonl"
check_eq "ssl.mode=disabled: in clear text" "$(accepts)" "$before"

kill "$MARIADB_PID" && wait "$MARIADB_PID" 2>/dev/null
rm -rf "$MARIADB_DATA"
start_mariadb || { not_ok "mariadb without TLS starts"; exit 1; }
out=$("$DBTAIL" check -c "$(config required "$MARIADB_PORT")" 2>&1)
check "ssl.mode=required refuses a server without TLS" \
    grep -q "FAIL mysql connection: database.ssl.mode requires TLS but 127.0.0.1:$MARIADB_PORT offers none" <<<"$out"
out=$("$DBTAIL" check -c "$(config preferred "$MARIADB_PORT")" 2>&1)
check "ssl.mode=preferred connects to it in clear text" grep -q "^ok mysql connection" <<<"$out"
