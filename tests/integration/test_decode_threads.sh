#!/usr/bin/env bash
# `dbtail decode --threads N` prints what one thread prints, byte for byte, with the same error
# and exit status: on the binlog captures, on a MariaDB binlog of a few MB (many units of the
# default size: row changes of several types, key changes, multi-statement transactions, a
# schema change in the middle), and on copies of it cut short or with a byte flipped.
# DBTAIL_DECODE_UNIT_BYTES shrinks the units so that the workers interleave on small files too.
source "$(dirname "$0")/../lib/servers.sh"
export DBTAIL_FIXED_NOW_MS=1700000000000
FIXTURES="$TEST_ROOT/../shared/fixtures/mysql"
[ -d "$FIXTURES" ] || FIXTURES=/work/shared/fixtures/mysql

# same NAME THREADS UNIT_BYTES FILE...: decoding the files with each of THREADS threads (units
# of UNIT_BYTES, or the default when empty) gives the one-thread stdout, stderr and status; the
# one-thread status is left in SAME_RC.
same() {
    local name="$1" threads="$2" unit="$3" t
    shift 3
    "$DBTAIL" decode --threads 1 "$@" >"$TMP_ROOT/one.out" 2>"$TMP_ROOT/one.err"
    SAME_RC=$?
    for t in $threads; do
        DBTAIL_DECODE_UNIT_BYTES="$unit" "$DBTAIL" decode --threads "$t" "$@" \
            >"$TMP_ROOT/many.out" 2>"$TMP_ROOT/many.err"
        local rc=$?
        if cmp -s "$TMP_ROOT/one.out" "$TMP_ROOT/many.out" &&
            cmp -s "$TMP_ROOT/one.err" "$TMP_ROOT/many.err" && [ "$rc" = "$SAME_RC" ]; then
            ok "$name: $t threads${unit:+ (units of $unit bytes)} print what one prints"
        else
            not_ok "$name: $t threads${unit:+ (units of $unit bytes)} print what one prints"
            echo "#   status $rc, one thread $SAME_RC"
            diff "$TMP_ROOT/one.err" "$TMP_ROOT/many.err" | head -4 | sed 's/^/#   /'
            cmp "$TMP_ROOT/one.out" "$TMP_ROOT/many.out" | sed 's/^/#   /'
        fi
    done
}

# One run over all the captures (decode stops at the first damaged file: that one comes last).
captures=()
for f in "$FIXTURES"/*; do
    case "$f" in *.md | *truncated*) continue ;; esac
    captures+=("$f")
done
same "${#captures[@]} captures" "2 3" 1 "${captures[@]}" "$FIXTURES/binlog_truncated_event.000001"
check_eq "captures: the truncated one fails" "$SAME_RC" 1
check "captures: the records of the others are printed" \
    test "$(grep -c '"topic":"decode\.' "$TMP_ROOT/one.out")" -gt 100

start_mariadb || { not_ok "mariadb starts"; exit 1; }
mariadb_q "CREATE DATABASE d" || { not_ok "the test database is created"; exit 1; }
e_acute=$'\xe9' # latin1: text that is not all ASCII takes the conversion path
{
    echo "CREATE TABLE t (id INT PRIMARY KEY, big BIGINT UNSIGNED, name VARCHAR(64),
        amount DECIMAL(12,2), at DATETIME(6), score DOUBLE, body TEXT, doc JSON,
        kind ENUM('new','paid','done'), u8 VARCHAR(20) CHARACTER SET utf8mb4) CHARACTER SET latin1;"
    for ((i = 0; i < 8000; i += 1000)); do
        echo "INSERT INTO t SELECT seq, seq * 1000003, CONCAT('name ', seq, IF(seq % 5 = 0, ' caf${e_acute}', '')),
            seq % 100000 / 100 - 300, TIMESTAMP'2025-01-01 00:00:00' + INTERVAL seq SECOND,
            seq / 7, IF(seq % 3 = 0, NULL, REPEAT('lorem ipsum ', seq % 6)),
            JSON_OBJECT('n', seq), ELT(seq % 3 + 1, 'new', 'paid', 'done'), 'ünï'
            FROM seq_1_to_8000 WHERE seq > $i AND seq <= $((i + 1000));"
    done
    echo "BEGIN;"
    echo "UPDATE t SET amount = amount + 1, kind = 'done' WHERE id % 7 = 1;"
    echo "DELETE FROM t WHERE id % 11 = 2;"
    echo "COMMIT;"
    echo "ALTER TABLE t ADD COLUMN extra INT DEFAULT 7;"
    echo "UPDATE t SET id = id + 100000 WHERE id % 13 = 3;"
    for ((i = 0; i < 100; i++)); do
        echo "BEGIN; UPDATE t SET score = score + 1 WHERE id = $((i * 37 + 1));"
        echo "INSERT INTO t (id, name) VALUES ($((200000 + i)), 'single'); COMMIT;"
    done
    echo "DELETE FROM t WHERE id % 5 = 4;"
} | mariadb --no-defaults -h 127.0.0.1 -P "$MARIADB_PORT" -u root -D d --default-character-set=latin1 ||
    { not_ok "the changes are written"; exit 1; }
mariadb_q "FLUSH BINARY LOGS"
binlog="$MARIADB_DATA/data/mariadb-bin.000001"
size=$(stat -c %s "$binlog")
check "the binlog spans several units of the default size" test "$size" -gt 1000000

same "mariadb binlog" "2 3" "" "$binlog"
check_eq "mariadb binlog: decoded whole" "$SAME_RC" 0
check "mariadb binlog: the records are printed" \
    test "$(grep -c '"topic":"decode\.d\.t"' "$TMP_ROOT/one.out")" -gt 10000
same "mariadb binlog" 2 5000 "$binlog"

# Cut short and corrupted copies: the records before the damage, the same error, status 1.
for cut in $((size / 3 + 11)) $((size * 2 / 3 + 5)) $((size - 30)); do
    head -c "$cut" "$binlog" >"$TMP_ROOT/cut.000001"
    same "cut at $cut" 2 "" "$TMP_ROOT/cut.000001"
    check_eq "cut at $cut: status 1" "$SAME_RC" 1
    check "cut at $cut: the error names the offset" \
        grep -q "cut.000001 at offset [0-9]*: " "$TMP_ROOT/one.err"
done
for at in $((size / 2 + 101)) $((size * 3 / 4 + 17)); do
    cp "$binlog" "$TMP_ROOT/flip.000001"
    python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2]))
b = f.read(1)[0]; f.seek(int(sys.argv[2])); f.write(bytes([b ^ 0x5a]))' "$TMP_ROOT/flip.000001" "$at"
    same "byte $at flipped" 2 "" "$TMP_ROOT/flip.000001"
    check_eq "byte $at flipped: status 1" "$SAME_RC" 1
    check "byte $at flipped: records before the damage are printed" test -s "$TMP_ROOT/one.out"
done

# An event whose size field says 4 GB (a corrupt file): the truncation error, not an attempt to
# allocate the 4 GB (under a 1 GB address-space limit that was an abort). The release binary:
# ASan's shadow memory does not fit such a limit.
python3 -c 'import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
pos, events = 4, 0
while events < 500:
    pos += struct.unpack_from("<I", d, pos + 9)[0]
    events += 1
struct.pack_into("<I", d, pos + 9, 0xFFFFFFF0)
open(sys.argv[2], "wb").write(d)' "$binlog" "$TMP_ROOT/huge.000001"
for t in 1 2; do
    (ulimit -v 1000000 && "$TEST_ROOT/dbtail" decode --threads "$t" "$TMP_ROOT/huge.000001" \
        >/dev/null 2>"$TMP_ROOT/huge.err")
    check_eq "$t threads: a 4 GB event size gives status 1" "$?" 1
    check "$t threads: the error says the event is truncated" \
        grep -q "event of 4294967280 bytes is truncated" "$TMP_ROOT/huge.err"
done

"$DBTAIL" decode --threads 0 "$binlog" >/dev/null 2>&1
check_eq "--threads 0 is refused" "$?" 2
"$DBTAIL" decode --threads x "$binlog" >/dev/null 2>&1
check_eq "--threads x is refused" "$?" 2

# Standard output that fails: the error says so, status 1, whatever the thread count.
if [ -w /dev/full ]; then
    for t in 1 2; do
        "$DBTAIL" decode --threads "$t" "$binlog" >/dev/full 2>"$TMP_ROOT/full.err"
        check_eq "$t threads: a full standard output gives status 1" "$?" 1
        check "$t threads: the error names standard output" \
            grep -q "could not write to standard output: No space left on device" "$TMP_ROOT/full.err"
    done
fi
