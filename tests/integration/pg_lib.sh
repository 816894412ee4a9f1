# Shared steps of the PostgreSQL reader's integration tests (source after servers.sh).

# pg_config_file FILE [KEY=VALUE...]: a flat JSON config for dbtail against $PG_PORT with the file
# sink at $W/out.jsonl and schemas off; a value of - removes the key.
pg_config_file() {
    local file="$1"; shift
    python3 - "$file" "$PG_PORT" "$W" "$@" <<'PY'
import json, sys
path, port, work, overrides = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
cfg = {
    "name": "pgtest",
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "database.hostname": "127.0.0.1", "database.port": port, "database.user": "postgres",
    "database.dbname": "dbtail", "topic.prefix": "it", "sink.type": "file",
    "sink.file.path": work + "/out.jsonl", "offset.storage.file.filename": work + "/offsets.json",
    "offset.flush.interval.ms": "100", "key.converter.schemas.enable": "false",
    "value.converter.schemas.enable": "false", "tombstones.on.delete": "false",
}
for o in overrides:
    k, v = o.split("=", 1)
    if v == "-":
        cfg.pop(k, None)
    else:
        cfg[k] = v
json.dump(cfg, open(path, "w"), indent=1)
PY
}

# replay TABLE COLS: the rows the file sink's events leave for the table, "id|col|..." per row.
replay() {
    python3 "$TEST_ROOT/tests/integration/pg_events.py" replay "$W/out.jsonl" "it.public.$1" id "$2"
}
# source_rows TABLE COLS: the same form from the server (COLS: v or v,w).
source_rows() {
    psql_q "SELECT concat_ws('|', id, ${2//,/, }) FROM $1 ORDER BY id"
}
duplicates() { python3 "$TEST_ROOT/tests/integration/pg_events.py" count "$W/out.jsonl" "it.public.$1" id; }

# wait_caught_up SECONDS TABLE COLS: until the replayed rows equal the server's.
wait_caught_up() {
    local deadline=$((SECONDS + $1))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(replay "$2" "$3" 2>/dev/null)" == "$(source_rows "$2" "$3")" ] && return 0
        sleep 0.5
    done
    return 1
}

# drop_slots: slots hold WAL; tests leave none behind.
drop_slots() {
    psql_q "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active" >/dev/null 2>&1 || true
}
