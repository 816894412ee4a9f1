#!/usr/bin/env bash
# MariaDB -> dbtail -> Doris (the Stream Load emulator), end to end: snapshot, inserts, updates
# (of the key too), deletes, an update logged with binlog_row_image=MINIMAL (columns absent from
# the row image), ALTER TABLE ADD/DROP COLUMN, a table without a primary key (two-phase commit);
# then kill -9 while a load runs and between a load and its checkpoint. After each step the Doris
# tables equal the source row by row.
source "$(dirname "$0")/../lib/servers.sh"
start_mariadb || exit 1
start_doris || exit 1
W="$TMP_ROOT/w"
mkdir -p "$W"

# doris_rows TABLE: the Doris table as "col|col|..." lines, NULL as ~, values longer than 64
# characters as their md5, sorted.
doris_rows() {
    doris_sql shop "SELECT * FROM $1" | python3 -c '
import hashlib, json, sys
from decimal import Decimal
r = json.loads(sys.stdin.read(), parse_float=Decimal)
rows = r.get("data")
rows = rows.get("data") if isinstance(rows, dict) else None
if rows is None:
    print("error: %s" % r); sys.exit(0)
def cell(v):
    if v is None: return "~"
    if isinstance(v, str) and len(v) > 64: return hashlib.md5(v.encode()).hexdigest()
    return str(v)
for row in rows:
    print("|".join(cell(c) for c in row))' | LC_ALL=C sort
}
# src_rows TABLE: the same form from MariaDB.
src_rows() {
    local cols
    cols=$(mariadb_q "SELECT GROUP_CONCAT(CONCAT('IF(\`', column_name, '\` IS NULL, ''~'', IF(CHAR_LENGTH(\`',
                      column_name, '\`) > 64, MD5(\`', column_name, '\`), CAST(\`', column_name, '\` AS CHAR)))')
                      ORDER BY ordinal_position SEPARATOR ', ')
                      FROM information_schema.columns WHERE table_schema = 'src' AND table_name = '$1'")
    mariadb_q "SELECT CONCAT_WS('|', $cols) FROM src.$1" | LC_ALL=C sort
}
same() { [ "$(doris_rows "$1")" == "$(src_rows "$1")" ]; }
# converges NAME TABLE...: ok when every table reaches the source's rows within 60 s.
converges() {
    local name="$1"; shift
    local deadline=$((SECONDS + 60)) t all
    while :; do
        all=1
        for t in "$@"; do same "$t" || { all=0; break; }; done
        [ $all -eq 1 ] && { ok "$name"; return 0; }
        [ $SECONDS -lt $deadline ] || break
        sleep 0.3
    done
    not_ok "$name"
    for t in "$@"; do
        diff <(src_rows "$t") <(doris_rows "$t") | head -10 | sed "s/^/#   $t: /"
    done
    return 1
}

mariadb_q "CREATE DATABASE src CHARACTER SET utf8mb4"
mariadb_q "
    CREATE TABLE src.items (id INT PRIMARY KEY, note VARCHAR(20), qty INT, price DECIMAL(10,2), big TEXT);
    CREATE TABLE src.nokey (a INT, b VARCHAR(50));
    INSERT INTO src.items SELECT seq, CONCAT('n', seq), seq, seq * 1.5, NULL FROM seq_1_to_500;
    INSERT INTO src.nokey SELECT seq, CONCAT('x', seq) FROM seq_1_to_50;" src

config() {
    python3 - "$W/c.json" "$MARIADB_PORT" "$DORIS_FE" "$W" "$@" <<'PY'
import json, sys
path, port, fe, work, overrides = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
cfg = {
    "name": "mariadb-doris",
    "connector.class": "io.debezium.connector.mariadb.MariaDbConnector",
    "database.hostname": "127.0.0.1", "database.port": port, "database.user": "root",
    "database.server.id": "5401", "topic.prefix": "it", "database.include.list": "src",
    "sink.type": "doris", "sink.doris.fenodes": fe, "sink.doris.database": "shop",
    "sink.doris.table.properties.replication_num": "1", "sink.doris.flush.interval.ms": "100",
    "sink.doris.request.timeout.ms": "10000",
    "offset.storage.file.filename": work + "/offsets.json", "offset.flush.interval.ms": "100",
}
for o in overrides:
    k, v = o.split("=", 1)
    cfg[k] = v
json.dump(cfg, open(path, "w"), indent=1)
PY
}
config
start_dbtail dbtail1 run -c "$W/c.json"
converges "snapshot" items nokey

mariadb_q "INSERT INTO src.items VALUES (1000, 'new', 1, 9.99, NULL);
    UPDATE src.items SET qty = qty + 100 WHERE id <= 10;
    UPDATE src.items SET id = 2000 WHERE id = 11;
    DELETE FROM src.items WHERE id BETWEEN 20 AND 29;
    INSERT INTO src.nokey VALUES (100, 'y');" src
converges "inserts, updates, key change, deletes" items nokey

mariadb_q "UPDATE src.items SET big = REPEAT('0123456789', 1000) WHERE id = 1"
converges "a large TEXT value" items
mariadb_q "SET SESSION binlog_row_image = MINIMAL; UPDATE src.items SET qty = -1 WHERE id = 1;"
converges "a MINIMAL row image leaves the columns it lacks alone" items

mariadb_q "ALTER TABLE src.items ADD COLUMN extra VARCHAR(10);
    UPDATE src.items SET extra = CONCAT('e', id) WHERE id <= 5;
    INSERT INTO src.items VALUES (3000, 'after add', 3, 1.00, NULL, 'x');"
converges "ADD COLUMN" items
mariadb_q "ALTER TABLE src.items DROP COLUMN note; UPDATE src.items SET qty = 7 WHERE id = 2;"
converges "DROP COLUMN" items
check_eq "the Doris table has the source's columns" \
    "$(doris_sql shop 'DESC items' | python3 -c 'import json,sys; print(",".join(r[0] for r in json.load(sys.stdin)["data"]["data"]))')" \
    "id,qty,price,big,extra"

# Rows that exist when a column with a constant default is added hold that default at the
# source without any row event: Doris has to add the column with the same default.
mariadb_q "ALTER TABLE src.items ADD COLUMN d_int INT DEFAULT 5,
    ADD COLUMN d_str VARCHAR(10) NOT NULL DEFAULT 'it''s', ADD COLUMN d_num DECIMAL(6,2) DEFAULT -1.5,
    ADD COLUMN d_date DATE DEFAULT '2020-01-02';
    UPDATE src.items SET qty = 8 WHERE id = 2; INSERT INTO src.items (id, qty) VALUES (3001, 1);"
converges "ADD COLUMN with constant defaults: rows that exist take them in Doris" items
mariadb_q "ALTER TABLE src.items DROP COLUMN d_int, DROP COLUMN d_str, DROP COLUMN d_num,
    DROP COLUMN d_date;
    UPDATE src.items SET qty = 9 WHERE id = 2;"
converges "DROP COLUMN of the defaulted columns" items

# kill -9 while a large transaction is being loaded, then restart
mariadb_q "BEGIN; INSERT INTO src.items SELECT seq, seq, seq, NULL, NULL, NULL FROM seq_10000_to_24999;
    INSERT INTO src.nokey SELECT seq, 'bulk' FROM seq_1_to_1500; COMMIT;" src
sleep 0.5
kill -9 "$DBTAIL_PID"
start_dbtail dbtail2 run -c "$W/c.json"
converges "kill -9 during a load, restart: tables equal the source" items nokey

# kill -9 between a load and its checkpoint: checkpoints rare, loads frequent
stop_dbtail
config offset.flush.interval.ms=600000
start_dbtail dbtail3 run -c "$W/c.json"
mariadb_q "UPDATE src.items SET qty = qty + 1 WHERE id BETWEEN 10000 AND 10999;
    DELETE FROM src.items WHERE id BETWEEN 11000 AND 11099;
    INSERT INTO src.nokey SELECT seq, 'late' FROM seq_1_to_200;" src
deletes_loaded() {
    [ "$(doris_sql shop 'SELECT COUNT(*) FROM items WHERE id BETWEEN 11000 AND 11099' |
        grep -o '\[\[[0-9]*\]\]')" = '[[0]]' ]
}
check "loads ran before any checkpoint" wait_for 30 deletes_loaded
kill -9 "$DBTAIL_PID"
config
start_dbtail dbtail4 run -c "$W/c.json"
converges "kill -9 between load and checkpoint, restart: tables equal the source" items nokey
stop_dbtail
check_eq "clean stop" "$?" 0
check "no sanitizer report" sh -c "! grep -l 'ERROR: AddressSanitizer\|runtime error' $TMP_ROOT/dbtail*.log"
