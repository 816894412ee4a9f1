#!/usr/bin/env bash
# PostgreSQL -> dbtail -> Doris (the Stream Load emulator), end to end: snapshot, inserts,
# updates (of the key too), deletes, an unchanged TOASTed value, ALTER TABLE ADD/DROP COLUMN,
# TRUNCATE, a table without a primary key (two-phase commit); then kill -9 while a load runs and
# between a load and its checkpoint. After each step the Doris tables equal the source row by row.
source "$(dirname "$0")/../lib/servers.sh"
source "$(dirname "$0")/pg_lib.sh"
start_postgres || exit 1
start_doris || exit 1
W="$TMP_ROOT/w"
mkdir -p "$W"
on_exit drop_slots

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
# pg_rows TABLE: the same form from PostgreSQL.
pg_rows() {
    local cols
    cols=$(psql_q "SELECT string_agg(format('CASE WHEN %1\$I IS NULL THEN ''~'' WHEN length(%1\$I::text) > 64 THEN md5(%1\$I::text) ELSE %1\$I::text END', attname), ', ' ORDER BY attnum)
                   FROM pg_attribute WHERE attrelid = '$1'::regclass AND attnum > 0 AND NOT attisdropped")
    psql_q "SELECT concat_ws('|', $cols) FROM $1" | LC_ALL=C sort
}
same() { [ "$(doris_rows "$1")" == "$(pg_rows "$1")" ]; }
# doris_columns TABLE / pg_columns TABLE: the column names in order, comma-separated.
doris_columns() {
    doris_sql shop "DESC $1" |
        python3 -c 'import json,sys; print(",".join(r[0] for r in json.load(sys.stdin)["data"]["data"]))'
}
pg_columns() {
    psql_q "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
            WHERE attrelid = '$1'::regclass AND attnum > 0 AND NOT attisdropped"
}
# explain TABLE: how the Doris table differs from the source's: the columns when they differ, how
# many rows each side has that the other lacks, and a few of them.
explain() {
    local t="$1" pgc dc
    pgc=$(pg_columns "$t")
    dc=$(doris_columns "$t" 2>&1)
    [ "$pgc" == "$dc" ] || echo "#   $t: columns in PostgreSQL: $pgc; in Doris: $dc"
    pg_rows "$t" >"$W/pg.rows"
    doris_rows "$t" >"$W/doris.rows"
    LC_ALL=C comm -23 "$W/pg.rows" "$W/doris.rows" >"$W/pg.only"
    LC_ALL=C comm -13 "$W/pg.rows" "$W/doris.rows" >"$W/doris.only"
    echo "#   $t: $(wc -l <"$W/pg.only") of $(wc -l <"$W/pg.rows") rows only in PostgreSQL," \
        "$(wc -l <"$W/doris.only") of $(wc -l <"$W/doris.rows") only in Doris"
    head -4 "$W/pg.only" | sed "s/^/#   $t: only in PostgreSQL: /"
    head -4 "$W/doris.only" | sed "s/^/#   $t: only in Doris:      /"
}
# converges NAME TABLE...: ok when every table reaches the source's rows within 60 s; if not, says
# what differs, whether dbtail still runs, the last schema changes it made in Doris and its last
# warnings.
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
    for t in "$@"; do explain "$t"; done
    kill -0 "$DBTAIL_PID" 2>/dev/null || echo "#   dbtail (pid $DBTAIL_PID) is not running"
    grep -h ' INFO doris: \(CREATE\|ALTER\|TRUNCATE\)' "$TMP_ROOT"/dbtail*.log | tail -4 |
        cut -c1-200 | sed 's/^/#   last DDL: /'
    grep -h ' \(WARN\|ERROR\) ' "$TMP_ROOT"/dbtail*.log | tail -4 | cut -c1-200 |
        sed 's/^/#   last warning: /'
    return 1
}

psql_q "CREATE TABLE items (id int PRIMARY KEY, note varchar(20), qty int, price numeric(10,2), big text);
        CREATE TABLE nokey (a int, b text);
        ALTER TABLE nokey REPLICA IDENTITY FULL;
        INSERT INTO items SELECT g, 'n' || g, g, g * 1.5, NULL FROM generate_series(1, 500) g;
        INSERT INTO nokey SELECT g, 'x' || g FROM generate_series(1, 50) g;"

config() {
    pg_config_file "$W/c.json" sink.type=doris "sink.doris.fenodes=$DORIS_FE" \
        sink.doris.database=shop sink.doris.table.properties.replication_num=1 \
        sink.doris.flush.interval.ms=100 sink.doris.request.timeout.ms=10000 \
        sink.file.path=- "$@"
}
config
start_dbtail dbtail1 run -c "$W/c.json"
converges "snapshot" items nokey

psql_q "INSERT INTO items VALUES (1000, 'new', 1, 9.99, NULL);
        UPDATE items SET qty = qty + 100 WHERE id <= 10;
        UPDATE items SET id = 2000 WHERE id = 11;
        DELETE FROM items WHERE id BETWEEN 20 AND 29;
        INSERT INTO nokey VALUES (100, 'y');"
converges "inserts, updates, key change, deletes" items nokey

psql_q "UPDATE items SET big = (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 400) g) WHERE id = 1"
converges "a large TOASTed value" items
psql_q "UPDATE items SET qty = -1 WHERE id = 1"
converges "an update leaving the TOASTed value unchanged keeps it in Doris" items

# A column without a default: rows that exist read NULL on both sides.
psql_q "ALTER TABLE items ADD COLUMN extra text; UPDATE items SET extra = 'e' || id WHERE id <= 5;
        INSERT INTO items VALUES (3000, 'after add', 3, 1.00, NULL, 'x');"
converges "ADD COLUMN" items
psql_q "ALTER TABLE items DROP COLUMN note; UPDATE items SET qty = 7 WHERE id = 2;"
converges "DROP COLUMN" items
check_eq "the Doris table has the source's columns" \
    "$(doris_columns items)" "id,qty,price,big,extra"

# Rows that exist when a column with a constant default is added hold that default at the
# source without any change logged (PostgreSQL 11+ keeps it in attmissingval): Doris has to add
# the column with the same default.
psql_q "ALTER TABLE items ADD COLUMN d_int int DEFAULT 5,
            ADD COLUMN d_str varchar(10) NOT NULL DEFAULT 'it''s',
            ADD COLUMN d_num numeric(6,2) DEFAULT -1.5, ADD COLUMN d_date date DEFAULT '2020-01-02';
        UPDATE items SET qty = 8 WHERE id = 2; INSERT INTO items (id, qty) VALUES (3001, 1);"
converges "ADD COLUMN with constant defaults: rows that exist take them in Doris" items
psql_q "ALTER TABLE items DROP COLUMN d_int, DROP COLUMN d_str, DROP COLUMN d_num,
            DROP COLUMN d_date;
        UPDATE items SET qty = 9 WHERE id = 2;"
converges "DROP COLUMN of the defaulted columns" items

psql_q "TRUNCATE nokey; INSERT INTO nokey VALUES (7, 'after truncate');"
converges "TRUNCATE" nokey

# kill -9 while a large transaction is being loaded, then restart
psql_q "INSERT INTO items SELECT g, g, g, NULL, NULL FROM generate_series(10000, 24999) g;
        INSERT INTO nokey SELECT g, 'bulk' FROM generate_series(1, 1500) g;"
sleep 0.5
kill -9 "$DBTAIL_PID"
start_dbtail dbtail2 run -c "$W/c.json"
converges "kill -9 during a load, restart: tables equal the source" items nokey

# kill -9 between a load and its checkpoint: checkpoints rare, loads frequent
stop_dbtail
config offset.flush.interval.ms=600000
start_dbtail dbtail3 run -c "$W/c.json"
wait_for 30 grep -q "streaming from slot" "$TMP_ROOT/dbtail3.log"
psql_q "UPDATE items SET qty = qty + 1 WHERE id BETWEEN 10000 AND 10999;
        DELETE FROM items WHERE id BETWEEN 11000 AND 11099;
        INSERT INTO nokey SELECT g, 'late' FROM generate_series(1, 200) g;"
# the UNIQUE table's changes are loaded (no checkpoint yet): wait for them, then kill
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
