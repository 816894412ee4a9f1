#!/usr/bin/env bash
# PostgreSQL snapshot and stream seam: a writer commits all the time while dbtail snapshots a
# table in small chunks; dbtail is killed with SIGKILL during the snapshot and again while
# streaming, and restarted each time. Afterwards the file sink's events, replayed by key, must
# equal the table, with no row created twice.
source "$(dirname "$0")/../lib/servers.sh"
source "$(dirname "$0")/pg_lib.sh"
start_postgres || exit 1
W="$TMP_ROOT/w"
mkdir -p "$W"
on_exit drop_slots

ROWS=40000
psql_q "CREATE TABLE snap (id int PRIMARY KEY, v int NOT NULL, pad text);
        INSERT INTO snap SELECT g, 0, repeat('x', 50) FROM generate_series(1, $ROWS) g;
        CREATE TABLE other (id int PRIMARY KEY, v int);
        INSERT INTO other SELECT g, g FROM generate_series(1, 500) g;"
pg_config_file "$W/c.json" snapshot.fetch.size=500

# The writer: small transactions on random rows, inserts past the end, some deletes.
python3 - "$ROWS" >"$W/writer.sql" <<'PY'
import random, sys
n = int(sys.argv[1]); random.seed(7); nxt = n + 1
for i in range(4000):
    r = random.random()
    k = random.randint(1, n)
    if r < 0.5:
        print("UPDATE snap SET v = v + 1 WHERE id = %d;" % k)
    elif r < 0.7:
        print("INSERT INTO snap VALUES (%d, 1, 'new');" % nxt); nxt += 1
    elif r < 0.8:
        print("DELETE FROM snap WHERE id = %d;" % k)
    elif r < 0.9:
        print("BEGIN; UPDATE snap SET v = v + 10 WHERE id = %d; UPDATE other SET v = v + 1 WHERE id = %d; COMMIT;" % (k, k % 500 + 1))
    else:
        print("UPDATE snap SET id = %d WHERE id = %d;" % (nxt, k)); nxt += 1
    if i % 20 == 0:
        print("SELECT pg_sleep(0.02);")
PY
psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d dbtail -f "$W/writer.sql" >/dev/null 2>"$W/writer.err" &
WRITER=$!
on_exit "kill $WRITER"

start_dbtail dbtail1 run -c "$W/c.json"
# kill -9 once some snapshot chunks are durable but before the snapshot ends
wait_for 60 grep -q '"phase": "snapshot"' "$W/offsets.json"
kill -9 "$DBTAIL_PID"; wait "$DBTAIL_PID" 2>/dev/null
phase=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["position"]["phase"])' "$W/offsets.json")
check_eq "killed during the snapshot" "$phase" "snapshot"

start_dbtail dbtail2 run -c "$W/c.json"
check "the snapshot resumes in a new snapshot" wait_for 60 grep -q "resuming the interrupted snapshot" "$TMP_ROOT/dbtail2.log"
wait_for 90 grep -q '"phase": "stream"' "$W/offsets.json"
sleep 1
kill -9 "$DBTAIL_PID"; wait "$DBTAIL_PID" 2>/dev/null
start_dbtail dbtail3 run -c "$W/c.json"
wait "$WRITER"
check "the writer ran" test ! -s "$W/writer.err"

check "every row present once with its final values (snap)" wait_caught_up 90 snap v
check "every row present once with its final values (other)" wait_caught_up 30 other v
check_eq "no row created twice (snap)" "$(duplicates snap)" 0
check_eq "no row created twice (other)" "$(duplicates other)" 0
stop_dbtail
check_eq "clean stop after the restarts" "$?" 0
diff <(replay snap v) <(source_rows snap v) | head -5 | sed 's/^/# /'
