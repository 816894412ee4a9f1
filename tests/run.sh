#!/usr/bin/env bash
# Runs every unit test binary and integration script, counts their "ok"/"not ok" lines and ends
# with the line CI reads: "N passed, N failed". Exit status 1 when anything failed.
#   tests/run.sh [FILTER]    run only the tests whose file name contains FILTER
set -uo pipefail
cd "$(dirname "$0")/.."

filter="${1:-}"
passed=0
failed=0
failed_names=()
log_dir="build/test-logs"
mkdir -p "$log_dir"

run_one() {
    local name="$1"; shift
    local log="$log_dir/$name.log"
    mkdir -p "$(dirname "$log")"
    local start=$SECONDS
    "$@" >"$log" 2>&1
    local rc=$?
    local ok notok
    ok=$(grep -c '^ok ' "$log")
    notok=$(grep -c '^not ok ' "$log")
    if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
        # A crash or an error outside any case still counts as a failure.
        echo "not ok - $name: exited with status $rc" >>"$log"
        notok=1
    fi
    passed=$((passed + ok))
    failed=$((failed + notok))
    printf '%-40s %4d ok %4d not ok  (%ds)\n' "$name" "$ok" "$notok" $((SECONDS - start))
    if [ "$notok" -gt 0 ]; then
        failed_names+=("$name")
        grep -E '^(not ok|#)' "$log" | head -40 | sed 's/^/    /'
        echo "    (full log: $log)"
    fi
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

for t in build/asan/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    [[ -z "$filter" || "$name" == *"$filter"* ]] || continue
    run_one "unit/$name" "$t"
done

for t in build/asan/fuzz/fuzz_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    [[ -z "$filter" || "$name" == *"$filter"* ]] || continue
    run_one "fuzz-replay/$name" "$t" "tests/fuzz/corpus/$name"
done

for t in tests/integration/test_*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    [[ -z "$filter" || "$name" == *"$filter"* ]] || continue
    run_one "integration/$name" timeout --kill-after=10 "${DBTAIL_TEST_TIMEOUT:-600}" bash "$t"
done

echo
if [ ${#failed_names[@]} -gt 0 ]; then
    echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
