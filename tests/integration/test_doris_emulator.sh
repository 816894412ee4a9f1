#!/usr/bin/env bash
# Self-test of tests/doris_emulator.py: starts the emulator on free ports,
# talks to it with curl the way a Stream Load client does, checks the replies.
# Prints "ok - name" / "not ok - name" per check; exits non-zero on any failure.
# Usage: bash tests/integration/test_doris_emulator.sh
set -u

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EMU="$HERE/../doris_emulator.py"
# resolve the interpreter once (a pyenv shim costs ~0.4 s per call)
PY="${PYTHON:-$(python3 -c 'import sys; print(sys.executable)')}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/doris_emu_test.XXXXXX")"
PID=""
FAILS=0
N=0

cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

ok()     { N=$((N + 1)); echo "ok - $1"; }
not_ok() { N=$((N + 1)); FAILS=$((FAILS + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && echo "#   $2"; }
check()  { # check NAME COMMAND...  (passes when the command succeeds)
    local name="$1"; shift
    if "$@"; then ok "$name"; else not_ok "$name" "got: ${LAST:-}"; fi
}

# jget JSON EXPR: evaluate a python expression on the parsed JSON `j`
jget() { "$PY" -c 'import json,sys; j=json.loads(sys.argv[1]); v=eval(sys.argv[2]); print(v if not isinstance(v,(dict,list)) else json.dumps(v))' "$1" "$2" 2>/dev/null; }
eq()   { [ "$1" = "$2" ]; }
has()  { case "$1" in *"$2"*) return 0 ;; *) return 1 ;; esac; }

start_emulator() {  # start_emulator [extra args...]
    rm -f "$WORK/ready.json"
    "$PY" "$EMU" --fe-port 0 --be-port 0 --ready-file "$WORK/ready.json" "$@" \
        >"$WORK/emu.out" 2>"$WORK/emu.err" &
    PID=$!
    for _ in $(seq 1 100); do
        [ -s "$WORK/ready.json" ] && break
        sleep 0.1
    done
    [ -s "$WORK/ready.json" ] || { echo "emulator did not start"; cat "$WORK/emu.err"; exit 1; }
    FE=$(jget "$(cat "$WORK/ready.json")" 'j["fe"]')
    BE=$(jget "$(cat "$WORK/ready.json")" 'j["be"]')
}

stop_emulator() {
    kill -TERM "$PID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$PID" 2>/dev/null; then return 1; fi
    wait "$PID"; local rc=$?
    PID=""
    return $rc
}

sql() {  # sql DB STMT -> reply of the FE SQL endpoint
    local body
    body=$("$PY" -c 'import json,sys; print(json.dumps({"stmt": sys.argv[1]}))' "$2")
    curl -s -u root: -H 'Content-Type: application/json' -X POST \
        "http://$FE/api/query/default_cluster/$1" -d "$body"
}
rows() {  # rows DB TABLE -> JSON array of rows ordered by the first column
    jget "$(sql "$1" "SELECT * FROM $2 ORDER BY 1")" 'j["data"]["data"]'
}
load() {  # load TABLE FILE [curl args...] -> stream load reply (db d1)
    local t="$1" f="$2"; shift 2
    curl -s --location-trusted -u root: -H 'Expect: 100-continue' -H 'format: json' \
        -H 'read_json_by_line: true' "$@" -T "$f" "http://$FE/api/d1/$t/_stream_load"
}
twopc() {  # twopc [curl -H args...] -> 2PC reply
    curl -s --location-trusted -u root: -X PUT "$@" "http://$FE/api/d1/_stream_load_2pc"
}
fault() { curl -s -X POST "http://$FE/_emulator/faults" -d "$1" >/dev/null; }

start_emulator --data-dir "$WORK/data" --hang-seconds 3

# ---------------------------------------------------------------- SQL / DDL
LAST=$(sql nosuchdb "SHOW TABLES")
check "sql: unknown path database is an error in Doris' shape" \
    eq "$(jget "$LAST" '(j["msg"], j["code"], "Unknown database" in j["data"], j["count"])')" \
    "('Error', 1, True, 0)"
LAST=$(sql information_schema "CREATE DATABASE IF NOT EXISTS d1")
check "sql: CREATE DATABASE via information_schema" \
    eq "$(jget "$LAST" '(j["msg"], j["code"], j["data"]["type"])')" "('success', 0, 'exec_status')"
LAST=$(sql d1 "CREATE TABLE IF NOT EXISTS d1.u (id BIGINT NOT NULL, name VARCHAR(10) NULL, amt DECIMAL(10,2) NULL, ts DATETIME(3) NULL, note STRING NULL DEFAULT 'n/a', tags ARRAY<INT> NULL, seq BIGINT NULL) UNIQUE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES ('replication_num' = '1', 'enable_unique_key_merge_on_write' = 'true', 'function_column.sequence_col' = 'seq', 'light_schema_change' = 'true')")
check "sql: CREATE TABLE unique/MoW/sequence_col" eq "$(jget "$LAST" 'j["code"]')" "0"
LAST=$(sql d1 "CREATE TABLE d1.dup (k INT, v VARCHAR(20)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
check "sql: CREATE TABLE duplicate" eq "$(jget "$LAST" 'j["code"]')" "0"
LAST=$(sql d1 "CREATE TABLE d1.h (id INT NOT NULL, v INT NULL) UNIQUE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES ('function_column.sequence_type' = 'bigint')")
check "sql: CREATE TABLE with hidden sequence_type" eq "$(jget "$LAST" 'j["code"]')" "0"
LAST=$(sql d1 "CREATE TABLE d1.u (id INT) UNIQUE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1")
check "sql: duplicate CREATE TABLE refused" has "$(jget "$LAST" 'j["data"]')" "Table 'u' already exists"
LAST=$(sql d1 "SHOW TABLES")
check "sql: SHOW TABLES" eq "$(jget "$LAST" 'j["data"]["data"]')" '[["dup"], ["h"], ["u"]]'
LAST=$(sql d1 "DESC u")
check "sql: DESC" eq "$(jget "$LAST" '[r[0] for r in j["data"]["data"]]')" \
    '["id", "name", "amt", "ts", "note", "tags", "seq"]'
LAST=$(sql d1 "ALTER TABLE u ADD COLUMN extra INT NULL")
check "sql: ALTER TABLE ADD COLUMN" eq "$(jget "$LAST" 'j["code"]')" "0"
LAST=$(sql d1 "ALTER TABLE u ADD COLUMN extra INT NULL")
check "sql: ADD existing column refused like Doris" \
    has "$(jget "$LAST" 'j["data"]')" "Can not add column which already exists in base table: extra"
LAST=$(sql d1 "ALTER TABLE u DROP COLUMN extra")
check "sql: ALTER TABLE DROP COLUMN" eq "$(jget "$LAST" 'j["code"]')" "0"
LAST=$(sql d1 "ALTER TABLE dup MODIFY COLUMN v VARCHAR(40) NULL")
check "sql: MODIFY COLUMN widening" eq "$(jget "$LAST" 'j["code"]')" "0"
LAST=$(sql d1 "ALTER TABLE dup MODIFY COLUMN v VARCHAR(5) NULL")
check "sql: MODIFY COLUMN narrowing refused" has "$(jget "$LAST" 'j["data"]')" "Can not change"
LAST=$(sql d1 "SHOW CREATE TABLE u")
check "sql: SHOW CREATE TABLE" has "$(jget "$LAST" 'j["data"]["data"][0][1]')" '"function_column.sequence_col" = "seq"'
LAST=$(curl -s -u root: -H 'X-Doris-Stream: false' -X POST "http://$FE/api/query/default_cluster/d1" \
    -d '{"stmt":"SHOW TABLES"}')
check "sql: non-stream reply shape {msg, code, data, count}" \
    eq "$(jget "$LAST" '(list(j), j["data"]["type"])')" "(['msg', 'code', 'data', 'count'], 'result_set')"
LAST=$(sql d1 "FROBNICATE everything")
check "sql: unknown statement -> error shape" \
    eq "$(jget "$LAST" '(j["msg"], j["code"], j["data"].startswith("Failed to execute sql"))')" \
    "('Error', 1, True)"
LAST=$(curl -s -u root:wrong -X POST "http://$FE/api/query/default_cluster/d1" -d '{"stmt":"SHOW TABLES"}')
check "sql: bad password -> Unauthorized" eq "$(jget "$LAST" '(j["msg"], j["code"])')" "('Unauthorized', 401)"

# ---------------------------------------------------------------- FE redirect / auth
printf '{"id":1,"name":"a","amt":"1.005","ts":"2024-01-01 10:00:00.12345","tags":[1,2],"seq":5}\n{"id":2,"name":"b","amt":2,"ts":"2024-01-02","seq":5}\n' >"$WORK/a.json"
HDRS=$(curl -s -o /dev/null -D - -u root: -H 'Expect: 100-continue' -H 'label: x' -T "$WORK/a.json" \
    "http://$FE/api/d1/u/_stream_load?foo=bar" | tr -d '\r')
LAST="$HDRS"
check "fe: 307 redirect to the BE" has "$HDRS" "HTTP/1.1 307"
check "fe: Location points at the BE and keeps the query string" \
    has "$HDRS" "127.0.0.1:${BE##*:}/api/d1/u/_stream_load?foo=bar"
LAST=$(curl -s -u root: -T "$WORK/a.json" -H 'Expect:' "http://$FE/api/d1/u/_stream_load")
check "fe: missing Expect header refused" \
    eq "$(jget "$LAST" '(j["status"], j["msg"])')" "('FAILED', 'There is no 100-continue header')"
LAST=$(curl -s -u root:bad -H 'Expect: 100-continue' -T "$WORK/a.json" "http://$FE/api/d1/u/_stream_load")
check "fe: bad password -> HTTP 200 {msg:Unauthorized, code:401}" \
    eq "$(jget "$LAST" '(j["msg"], j["code"], j["count"], "Access denied" in j["data"])')" \
    "('Unauthorized', 401, 0, True)"
LAST=$(curl -s -L -u root: -H 'Expect: 100-continue' -H 'format: json' -T "$WORK/a.json" \
    "http://$FE/api/d1/u/_stream_load")
check "be: redirect followed without credentials -> no valid Basic authorization" \
    eq "$(jget "$LAST" '(j["Status"], j["Message"])')" \
    "('Fail', '[NOT_AUTHORIZED]no valid Basic authorization')"

# ---------------------------------------------------------------- basic load
LAST=$(load u "$WORK/a.json" -H 'label: load_a')
check "load: --location-trusted load succeeds" \
    eq "$(jget "$LAST" '(j["Status"], j["Message"], j["NumberTotalRows"], j["NumberLoadedRows"], j["Label"], j["TwoPhaseCommit"])')" \
    "('Success', 'OK', 2, 2, 'load_a', 'false')"
check "load: reply keys in StreamLoadContext::to_json order" \
    eq "$(jget "$LAST" 'list(j)')" \
    '["TxnId", "Label", "Comment", "TwoPhaseCommit", "Status", "Message", "NumberTotalRows", "NumberLoadedRows", "NumberFilteredRows", "NumberUnselectedRows", "LoadBytes", "LoadTimeMs", "BeginTxnTimeMs", "StreamLoadPutTimeMs", "ReadDataTimeMs", "WriteDataTimeMs", "CommitAndPublishTimeMs"]'
TXN_A=$(jget "$LAST" 'j["TxnId"]')
LAST=$(rows d1 u)
check "load: values converted (decimal rounding, datetime scale, default, array)" eq "$LAST" \
    '[[1, "a", 1.01, "2024-01-01 10:00:00.123", "n/a", "[1, 2]", 5], [2, "b", 2.0, "2024-01-02 00:00:00.000", "n/a", null, 5]]'
LAST=$(load u "$WORK/a.json" -H 'label: load_a')
check "label: reuse -> Label Already Exists / FINISHED" \
    eq "$(jget "$LAST" '(j["Status"], j["ExistingJobStatus"], j["TxnId"])')" \
    "('Label Already Exists', 'FINISHED', -1)"
check "label: message names the label and the txn" \
    has "$(jget "$LAST" 'j["Message"]')" "Label [load_a] has already been used, relate to txn [$TXN_A]"
LAST=$(load u "$WORK/a.json" -H 'label: bad label!')
check "label: invalid label refused" has "$(jget "$LAST" 'j["Message"]')" "Label format error"
LAST=$(load u "$WORK/a.json" -H 'label: to1' -H 'timeout: 999999')
check "load: timeout out of range refused" has "$(jget "$LAST" 'j["Message"]')" \
    "Timeout should between 1 and 259200 seconds"
LAST=$(load nosuch "$WORK/a.json" -H 'label: nt1')
check "load: unknown table" has "$(jget "$LAST" 'j["Message"]')" "unknown table, tableName=nosuch"
LAST=$(load u "$WORK/a.json" -H 'label: gc1' -H 'group_commit: async_mode')
check "load: group_commit together with label refused" \
    eq "$(jget "$LAST" 'j["Message"]')" "[INVALID_ARGUMENT]label and group_commit can't be set at the same time"
LAST=$(curl -s --location-trusted -u root: -H 'Expect: 100-continue' -H 'format: json' \
    -H 'label: chunked1' -H 'Transfer-Encoding: chunked' -T - "http://$FE/api/d1/dup/_stream_load" \
    <<<'{"k":1,"v":"x"}
{"k":1,"v":"y"}')
check "load: chunked transfer encoding" \
    eq "$(jget "$LAST" '(j["Status"], j["NumberLoadedRows"])')" "('Success', 2)"

LAST=$(curl -s --location-trusted -u root: -H 'Expect: 100-continue' -H 'group_commit: sync_mode' \
    -H 'format: json' -T "$WORK/a.json" "http://$FE/api/d1/u/_stream_load")
check "load: group_commit without label -> GroupCommit reply" \
    eq "$(jget "$LAST" '(j["Status"], j["GroupCommit"], j["Label"].startswith("group_commit_"), "TwoPhaseCommit" in j)')" \
    "('Success', True, True, False)"
printf '7\tcsv\n8\t\\N\n' >"$WORK/x.csv"
LAST=$(curl -s --location-trusted -u root: -H 'Expect: 100-continue' -H 'label: csv1' \
    -T "$WORK/x.csv" "http://$FE/api/d1/dup/_stream_load")
check "load: csv (tab separated, \\N is NULL)" \
    eq "$(jget "$LAST" '(j["Status"], j["NumberLoadedRows"])')" "('Success', 2)"
sql information_schema "CREATE DATABASE d2" >/dev/null
sql d2 "CREATE TABLE u (id BIGINT, name VARCHAR(10)) UNIQUE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1" >/dev/null
LAST=$(curl -s --location-trusted -u root: -H 'Expect: 100-continue' -H 'format: json' \
    -H 'label: load_a' -T "$WORK/a.json" "http://$FE/api/d2/u/_stream_load")
check "label: labels are per database" eq "$(jget "$LAST" 'j["Status"]')" "Success"

# ---------------------------------------------------------------- upsert / delete / sequence
printf '{"id":1,"name":"older","seq":4}\n{"id":2,"name":"same-seq","seq":5}\n{"id":3,"name":"new","seq":1}\n' >"$WORK/b.json"
LAST=$(load u "$WORK/b.json" -H 'label: load_b')
check "seq: load with mixed sequence values succeeds" eq "$(jget "$LAST" 'j["Status"]')" "Success"
LAST=$(jget "$(sql d1 "SELECT id, name, seq FROM u ORDER BY id")" 'j["data"]["data"]')
check "seq: older sequence does not overwrite, equal sequence (later load) wins, new key upserts" \
    eq "$LAST" '[[1, "a", 5], [2, "same-seq", 5], [3, "new", 1]]'
printf '{"id":1,"__DORIS_DELETE_SIGN__":1,"seq":2}\n{"id":3,"__DORIS_DELETE_SIGN__":1,"seq":7}\n' >"$WORK/c.json"
LAST=$(load u "$WORK/c.json" -H 'label: load_c' -H 'hidden_columns: __DORIS_DELETE_SIGN__')
LAST=$(jget "$(sql d1 "SELECT id FROM u ORDER BY id")" 'j["data"]["data"]')
check "delete sign: lower-sequence delete ignored, higher-sequence delete applied" eq "$LAST" '[[1], [2]]'
printf '{"id":3,"name":"old3","seq":6}\n' >"$WORK/c2.json"
LAST=$(load u "$WORK/c2.json" -H 'label: load_c2')
check "delete sign: load of an older row succeeds" eq "$(jget "$LAST" 'j["Status"]')" "Success"
LAST=$(jget "$(sql d1 "SELECT id FROM u ORDER BY id")" 'j["data"]["data"]')
check "delete sign: an older row after a delete stays deleted" eq "$LAST" '[[1], [2]]'
printf '{"k":5,"v":"d","__DORIS_DELETE_SIGN__":1}\n' >"$WORK/dd.json"
load dup "$WORK/dd.json" -H 'label: dup_del' -H 'hidden_columns: __DORIS_DELETE_SIGN__' >/dev/null
LAST=$(jget "$(sql d1 "SELECT COUNT(*) FROM dup")" 'j["data"]["data"][0][0]')
check "duplicate: rows are appended (delete sign has no column there)" eq "$LAST" "5"
LAST=$(load dup "$WORK/dd.json" -H 'label: merge_dup' -H 'merge_type: DELETE')
check "duplicate: merge_type DELETE refused" has "$(jget "$LAST" 'j["Message"]')" \
    "load by MERGE or DELETE is only supported in unique tables."
printf '{"id":9,"v":1}\n' >"$WORK/h.json"
LAST=$(load h "$WORK/h.json" -H 'label: h_noseq')
check "sequence_type table without function_column.sequence_col refused" \
    has "$(jget "$LAST" 'j["Message"]')" "Table h has sequence column, need to specify the sequence column"
printf '{"id":9,"v":1,"src_seq":10}\n{"id":9,"v":2,"src_seq":3}\n' >"$WORK/h2.json"
LAST=$(load h "$WORK/h2.json" -H 'label: h_seq' -H 'columns: id,v,src_seq' -H 'function_column.sequence_col: src_seq')
LAST=$(rows d1 h)
check "sequence_type: header sequence_col orders rows within a load" eq "$LAST" '[[9, 1]]'

# ---------------------------------------------------------------- partial columns
printf '{"id":1,"name":"patched"}\n{"id":10,"name":"fresh"}\n' >"$WORK/p.json"
LAST=$(load u "$WORK/p.json" -H 'label: load_p' -H 'partial_columns: true' -H 'columns: id,name')
check "partial: load succeeds" eq "$(jget "$LAST" '(j["Status"], j["NumberLoadedRows"])')" "('Success', 2)"
LAST=$(jget "$(sql d1 "SELECT id, name, amt, note, seq FROM u WHERE id IN (1, 10) ORDER BY id")" 'j["data"]["data"]')
check "partial: only listed columns change; new key gets defaults/NULL" eq "$LAST" \
    '[[1, "patched", 1.01, "n/a", 5], [10, "fresh", null, "n/a", null]]'
LAST=$(load u "$WORK/p.json" -H 'label: load_p2' -H 'partial_columns: true' -H 'columns: name')
check "partial: key column missing refused" has "$(jget "$LAST" 'j["Message"]')" \
    "Partial update should include all key columns, missing: id"
LAST=$(load u "$WORK/p.json" -H 'label: load_p3' -H 'unique_key_update_mode: UPDATE_FLEXIBLE_COLUMNS')
check "flexible: table without skip bitmap column refused" has "$(jget "$LAST" 'j["Message"]')" \
    "Flexible partial update can only support table with skip bitmap hidden column"
sql d1 "CREATE TABLE d1.f (id INT NOT NULL, a INT NULL, b INT NULL) UNIQUE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1 PROPERTIES ('enable_unique_key_skip_bitmap_column' = 'true')" >/dev/null
printf '{"id":1,"a":1,"b":1}\n{"id":2,"a":2,"b":2}\n' >"$WORK/f0.json"
load f "$WORK/f0.json" -H 'label: f0' >/dev/null
printf '{"id":1,"a":10}\n{"id":2,"b":20}\n' >"$WORK/f1.json"
LAST=$(load f "$WORK/f1.json" -H 'label: f1' -H 'unique_key_update_mode: UPDATE_FLEXIBLE_COLUMNS')
LAST=$(rows d1 f)
check "flexible: each row updates only the columns it carries" eq "$LAST" '[[1, 10, 1], [2, 2, 20]]'

# ---------------------------------------------------------------- filtered rows
printf '{"id":20,"name":"toolongvalue!","seq":1}\n{"id":21,"name":"ok","seq":1}\n{"id":22,"amt":123456789012,"seq":1}\n{"id":23,"name":"ünïcødé","seq":1}\n' >"$WORK/e.json"
LAST=$(load u "$WORK/e.json" -H 'label: load_e')
check "filtered: too many filtered rows -> Fail" \
    eq "$(jget "$LAST" '(j["Status"], j["Message"], j["NumberTotalRows"], j["NumberFilteredRows"])')" \
    "('Fail', '[DATA_QUALITY_ERROR]too many filtered rows', 4, 3)"
URL=$(jget "$LAST" 'j["ErrorURL"]')
check "filtered: ErrorURL points at the BE" has "$URL" "http://127.0.0.1:${BE##*:}/api/_load_error_log?file="
ERRLOG=$(curl -s "$URL")
LAST="$ERRLOG"
check "filtered: error log has one Reason line per rejected row" \
    eq "$(grep -c '^Reason: ' <<<"$ERRLOG")" "3"
check "filtered: VARCHAR length counted in bytes" \
    has "$ERRLOG" "Reason: column_name[name], the length of input is too long than schema. first 32 bytes of input str: [ünïcødé] schema length: 10; actual length: 11; . src line []; "
LAST=$(jget "$(sql d1 "SELECT COUNT(*) FROM u WHERE id >= 20")" 'j["data"]["data"][0][0]')
check "filtered: nothing applied when the load fails" eq "$LAST" "0"
LAST=$(load u "$WORK/e.json" -H 'label: load_e' -H 'max_filter_ratio: 0.8')
check "filtered: a failed load's label can be reused; max_filter_ratio allows it" \
    eq "$(jget "$LAST" '(j["Status"], j["NumberLoadedRows"], j["NumberFilteredRows"], "ErrorURL" in j)')" \
    "('Success', 1, 3, True)"
printf '{"id":30,"ts":"not a date","seq":1}\n' >"$WORK/s.json"
LAST=$(load u "$WORK/s.json" -H 'label: strict1' -H 'strict_mode: true')
check "strict_mode: bad value filtered" eq "$(jget "$LAST" '(j["Status"], j["NumberFilteredRows"])')" "('Fail', 1)"
LAST=$(load u "$WORK/s.json" -H 'label: strict0')
check "non-strict: bad value becomes NULL" eq "$(jget "$LAST" '(j["Status"], j["NumberLoadedRows"])')" "('Success', 1)"

# ---------------------------------------------------------------- 2PC
printf '{"id":40,"name":"twopc","seq":1}\n' >"$WORK/t.json"
LAST=$(load u "$WORK/t.json" -H 'label: tp1' -H 'two_phase_commit: true')
TXN=$(jget "$LAST" 'j["TxnId"]')
check "2pc: precommit -> Success, TwoPhaseCommit true" \
    eq "$(jget "$LAST" '(j["Status"], j["TwoPhaseCommit"])')" "('Success', 'true')"
LAST=$(jget "$(sql d1 "SELECT COUNT(*) FROM u WHERE id = 40")" 'j["data"]["data"][0][0]')
check "2pc: pre-committed data invisible" eq "$LAST" "0"
LAST=$(load u "$WORK/t.json" -H 'label: tp1' -H 'two_phase_commit: true')
check "2pc: label of a pre-committed txn -> Label Already Exists / PRECOMMITTED" \
    eq "$(jget "$LAST" '(j["Status"], j["ExistingJobStatus"])')" "('Label Already Exists', 'PRECOMMITTED')"
LAST=$(twopc -H "txn_id: $TXN" -H 'txn_operation: commit')
check "2pc: commit" eq "$(jget "$LAST" '(j["status"], j["msg"])')" \
    "('Success', 'transaction [$TXN] commit successfully.')"
LAST=$(jget "$(sql d1 "SELECT COUNT(*) FROM u WHERE id = 40")" 'j["data"]["data"][0][0]')
check "2pc: committed data visible" eq "$LAST" "1"
LAST=$(twopc -H "txn_id: $TXN" -H 'txn_operation: commit')
check "2pc: second commit -> ANALYSIS_ERROR already visible" \
    eq "$(jget "$LAST" '(j["status"], j["msg"])')" \
    "('ANALYSIS_ERROR', 'TStatus: errCode = 2, detailMessage = transaction [$TXN] is already visible, not pre-committed.')"
printf '{"id":41,"name":"aborted","seq":1}\n' >"$WORK/t2.json"
LAST=$(load u "$WORK/t2.json" -H 'label: tp2' -H 'two_phase_commit: true')
LAST=$(twopc -H 'label: tp2' -H 'txn_operation: abort')
check "2pc: abort by label" eq "$(jget "$LAST" '(j["status"], j["msg"])')" \
    "('Success', 'label [tp2] abort successfully.')"
LAST=$(jget "$(sql d1 "SELECT COUNT(*) FROM u WHERE id = 41")" 'j["data"]["data"][0][0]')
check "2pc: aborted data never visible" eq "$LAST" "0"
LAST=$(load u "$WORK/t2.json" -H 'label: tp2' -H 'two_phase_commit: True')
check "2pc: two_phase_commit is case-sensitive; aborted label reusable" \
    eq "$(jget "$LAST" '(j["Status"], j["TwoPhaseCommit"])')" "('Success', 'false')"
LAST=$(twopc -H 'txn_id: 999999' -H 'txn_operation: commit')
check "2pc: unknown txn" has "$(jget "$LAST" 'j["msg"]')" "transaction [999999] not found."
curl -s -X POST "http://$FE/_emulator/config" -d '{"txn_expire_seconds": 1}' >/dev/null
LAST=$(load u "$WORK/t.json" -H 'label: tp3' -H 'two_phase_commit: true')
TXN3=$(jget "$LAST" 'j["TxnId"]')
sleep 2.2
LAST=$(twopc -H "txn_id: $TXN3" -H 'txn_operation: commit')
check "2pc: expired pre-committed txn is aborted by the txn manager" \
    has "$(jget "$LAST" 'j["msg"]')" "transaction [$TXN3] is already aborted. abort reason: timeout by txn manager"
curl -s -X POST "http://$FE/_emulator/config" -d '{"txn_expire_seconds": 3600}' >/dev/null

# ---------------------------------------------------------------- faults
printf '{"k":100,"v":"fault"}\n' >"$WORK/k.json"
dupcount() { jget "$(sql d1 "SELECT COUNT(*) FROM dup WHERE k = 100")" 'j["data"]["data"][0][0]'; }

fault '{"mode": "http500", "count": 1}'
CODE=$(curl -s -o /dev/null -w '%{http_code}' --location-trusted -u root: -H 'Expect: 100-continue' \
    -H 'format: json' -H 'label: f500' -T "$WORK/k.json" "http://$FE/api/d1/dup/_stream_load")
LAST="$CODE"
check "fault http500: HTTP 500" eq "$CODE" "500"
LAST=$(dupcount); check "fault http500: nothing applied" eq "$LAST" "0"
LAST=$(load dup "$WORK/k.json" -H 'label: f500')
check "fault http500: only the next N loads; label still free" eq "$(jget "$LAST" 'j["Status"]')" "Success"

fault '{"mode": "drop", "count": 1, "table": "dup"}'
curl -s --location-trusted -u root: -H 'Expect: 100-continue' -H 'format: json' -H 'label: fdrop' \
    -T "$WORK/k.json" "http://$FE/api/d1/dup/_stream_load" >/dev/null
RC=$?
LAST="curl exit $RC"
check "fault drop: connection closed without a reply (curl exit 52)" eq "$RC" "52"
LAST=$(dupcount); check "fault drop: nothing applied" eq "$LAST" "1"

fault '{"mode": "hang", "count": 1, "hang_seconds": 3}'
curl -s --max-time 1 --location-trusted -u root: -H 'Expect: 100-continue' -H 'format: json' \
    -H 'label: fhang' -T "$WORK/k.json" "http://$FE/api/d1/dup/_stream_load" >/dev/null
RC=$?
LAST="curl exit $RC"
check "fault hang: client times out (curl exit 28)" eq "$RC" "28"
LAST=$(load dup "$WORK/k.json" -H 'label: fhang')
check "fault hang: retry meanwhile -> Label Already Exists / RUNNING" \
    eq "$(jget "$LAST" '(j["Status"], j["ExistingJobStatus"])')" "('Label Already Exists', 'RUNNING')"
sleep 3
LAST=$(load dup "$WORK/k.json" -H 'label: fhang')
check "fault hang: the stalled load completes later -> FINISHED" \
    eq "$(jget "$LAST" 'j["ExistingJobStatus"]')" "FINISHED"
LAST=$(dupcount); check "fault hang: data applied once" eq "$LAST" "2"

fault '{"mode": "publish_timeout", "count": 1}'
LAST=$(load dup "$WORK/k.json" -H 'label: fpub')
check "fault publish_timeout: Status Publish Timeout" \
    eq "$(jget "$LAST" '(j["Status"], j["Message"])')" \
    "('Publish Timeout', '[PUBLISH_TIMEOUT]TStatus: transaction commit successfully, BUT data will be visible later')"
LAST=$(dupcount); check "fault publish_timeout: data applied" eq "$LAST" "3"

fault '{"mode": "fail_after_commit", "count": 1}'
LAST=$(load dup "$WORK/k.json" -H 'label: ffac')
check "fault fail_after_commit: Status Fail" eq "$(jget "$LAST" 'j["Status"]')" "Fail"
LAST=$(dupcount); check "fault fail_after_commit: data applied anyway" eq "$LAST" "4"
LAST=$(load dup "$WORK/k.json" -H 'label: ffac')
check "fault fail_after_commit: retry -> Label Already Exists / FINISHED" \
    eq "$(jget "$LAST" '(j["Status"], j["ExistingJobStatus"])')" "('Label Already Exists', 'FINISHED')"

# ---------------------------------------------------------------- admin endpoints
LAST=$(curl -s "http://$FE/_emulator/loads")
check "admin: /_emulator/loads logs every load" \
    eq "$(jget "$LAST" 'any(l.get("label") == "fhang" and l.get("fault") == "hang" for l in j["loads"])')" "True"
LAST=$(curl -s "http://$FE/_emulator/state")
check "admin: /_emulator/state has tables and labels" \
    eq "$(jget "$LAST" '(j["labels"]["d1"]["load_a"]["status"], j["databases"]["d1"]["tables"]["dup"]["row_count"])')" \
    "('VISIBLE', 9)"
LAST=$(curl -s -u root: "http://$FE/api/d1/get_load_state?label=tp1")
check "fe: get_load_state" eq "$(jget "$LAST" '(j["code"], j["data"])')" "(0, 'VISIBLE')"

# ---------------------------------------------------------------- restart with --data-dir
BEFORE=$(rows d1 u)
stop_emulator; RC=$?
LAST="exit $RC"
check "SIGTERM: clean exit" eq "$RC" "0"
start_emulator --data-dir "$WORK/data"
LAST=$(rows d1 u)
check "data-dir: rows survive a restart" eq "$LAST" "$BEFORE"
LAST=$(load u "$WORK/a.json" -H 'label: load_a')
check "data-dir: labels survive a restart" eq "$(jget "$LAST" 'j["Status"]')" "Label Already Exists"
LAST=$(curl -s -X POST "http://$FE/_emulator/reset")
LAST=$(sql information_schema "SHOW DATABASES")
check "admin: reset forgets everything" eq "$(jget "$LAST" 'j["data"]["data"]')" '[["information_schema"]]'
LAST=$(sql information_schema "SHOW DATABASES")

echo "1..$N"
if [ "$FAILS" -ne 0 ]; then
    echo "# $FAILS of $N checks failed"
    exit 1
fi
echo "# all $N checks passed"
exit 0
