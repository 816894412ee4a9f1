#!/usr/bin/env bash
# make demo end to end: `DEMO_ONCE=1 scripts/demo.sh` with the built dbtail. Every count it prints
# must match (source, Doris emulator, file), the source counts and the events per table must be
# those scripts/demo/*.sql make, both dbtail processes must stop cleanly, and nothing is left.
source "$(dirname "$0")/../lib/servers.sh"

out="$TMP_ROOT/demo.out"
DEMO_ONCE=1 DEMO_TIMEOUT=100 DBTAIL="$DBTAIL" timeout -k 10 170 "$TEST_ROOT/scripts/demo.sh" \
    </dev/null >"$out" 2>&1
status=$?
check_eq "demo exits 0" "$status" 0
[ "$status" -eq 0 ] || sed 's/^/#   /' "$out" | tail -40

# count_line SIDE TABLE: the demo's count line for it, fields after the table name.
count_line() {
    awk -v side="$1" -v name="$2" '
        $1 == "count" && $2 == side {
            n = ""; for (i = 3; i <= NF && $i != "source"; i++) n = n (n == "" ? "" : " ") $i
            if (n == name) { for (j = i; j <= NF; j++) printf "%s%s", $j, (j < NF ? " " : "\n") }
        }' "$out"
}
# expect_count SIDE TABLE ROWS: source ROWS, Doris and the file (where counted) the same, "match".
expect_count() {
    local got
    got=$(count_line "$1" "$2")
    read -r _ src _ dor _ fil verdict <<<"$got"
    if [ "$src" = "$3" ] && [ "$dor" = "$3" ] && { [ "$fil" = - ] || [ "$fil" = "$3" ]; } &&
        [ "$verdict" = match ]; then
        ok "$1 $2: source, Doris and file agree on $3 rows"
    else
        not_ok "$1 $2: source, Doris and file agree on $3 rows"
        echo "#   got: ${got:-no count line}"
    fi
}
# The seed makes 3000 users, 5000 orders, 3000 customers, 6000 transactions; the live changes
# add 3 users and 1 order and delete 1 user and 3 orders (MariaDB), add 2 customers and
# 1 transaction and delete 5 transactions (PostgreSQL).
expect_count mariadb ecommerce_db.users 3002
expect_count mariadb "ecommerce_db.users WHERE city = 'Yogyakarta'" 2
expect_count mariadb ecommerce_db.orders 4998
expect_count mariadb "ecommerce_db.orders WHERE status = 'refunded'" 4
expect_count postgres public.customers 3002
expect_count postgres "public.customers WHERE country = 'MY'" 501
expect_count postgres public.transactions 5996
expect_count postgres "public.transactions WHERE status = 'refunded'" 4
check_eq "eight count lines" "$(grep -c '^count ' "$out")" 8
check "the demo says every count matches" grep -q '^demo: every count matches$' "$out"

# Each change exactly once in the files: the demo's per-topic summary of ops
# (c create, d delete, r snapshot read, u update; a tombstone follows each delete).
expect_ops() {
    local got
    got=$(awk -v t="$1" '$1 == t { $1 = ""; sub(/^ /, ""); print }' "$out")
    check_eq "events of $1: $2" "$got" "$2"
}
expect_ops mysql-cdc.ecommerce_db.users "c 3, d 1, r 3000, tombstone 1, u 1"
expect_ops mysql-cdc.ecommerce_db.orders "c 1, d 3, r 5000, tombstone 3, u 4"
expect_ops pg-cdc.public.customers "c 2, r 3000, u 1"
expect_ops pg-cdc.public.transactions "c 1, d 5, r 6000, tombstone 5, u 4"

check "dbtail (mariadb) stops with status 0" grep -q '^dbtail (mariadb) stopped, exit status 0$' "$out"
check "dbtail (postgres) stops with status 0" grep -q '^dbtail (postgres) stopped, exit status 0$' "$out"

demo_dir=$(sed -n 's/^== dbtail demo, work dir //p' "$out")
check "the demo names its work dir" test -n "$demo_dir"
check "the work dir is removed" test ! -e "${demo_dir:-/nonexistent}"
no_process_in() {
    local left
    left=$(pgrep -af "$1/") || return 0
    sed 's/^/#   left: /' <<<"$left"
    return 1
}
check "no process of the demo is left" no_process_in "${demo_dir:-/nonexistent}"
