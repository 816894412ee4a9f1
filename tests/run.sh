#!/usr/bin/env bash
# Runs every unit test binary, fuzz corpus replay and integration script, counts their "ok" /
# "not ok" lines and ends with the line CI reads: "N passed, N failed". Exit status 1 when
# anything failed. Tests run DBTAIL_TEST_JOBS at a time (default 3): each starts its own servers
# on free ports in its own temp dir, and most of their time is spent waiting on those servers.
#   tests/run.sh [FILTER]    run only the tests whose file name contains FILTER
set -uo pipefail
cd "$(dirname "$0")/.."

filter="${1:-}"
jobs_max="${DBTAIL_TEST_JOBS:-3}"
log_dir="build/test-logs"
mkdir -p "$log_dir"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

names=()
commands=()
queue() {
    local name="$1"; shift
    [[ -z "$filter" || "$name" == *"$filter"* ]] || return 0
    names+=("$name")
    commands+=("$(printf '%q ' "$@")")
}

for t in build/asan/tests/test_*; do
    [ -x "$t" ] && queue "unit/$(basename "$t")" "$t"
done
for t in build/asan/fuzz/fuzz_*; do
    [ -x "$t" ] && queue "fuzz-replay/$(basename "$t")" "$t" "tests/fuzz/corpus/$(basename "$t")"
done
for t in tests/integration/test_*.sh; do
    [ -f "$t" ] && queue "integration/$(basename "$t" .sh)" \
        timeout --kill-after=10 "${DBTAIL_TEST_TIMEOUT:-600}" bash "$t"
done

# Runs one test in the background; its counts go to LOG.result when it ends.
start_one() {
    local name="$1" command="$2"
    local log="$log_dir/$name.log"
    mkdir -p "$(dirname "$log")"
    rm -f "$log.result"
    (
        start=$SECONDS
        eval "$command" >"$log" 2>&1 </dev/null
        rc=$?
        ok=$(grep -c '^ok ' "$log")
        notok=$(grep -c '^not ok ' "$log")
        if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
            # A crash or an error outside any case still counts as a failure.
            echo "not ok - $name: exited with status $rc" >>"$log"
            notok=1
        fi
        echo "$ok $notok $((SECONDS - start))" >"$log.result.tmp"
        mv "$log.result.tmp" "$log.result"
    ) &
}

passed=0
failed=0
failed_names=()
reported=()
report_finished() {
    local i
    for i in "${!names[@]}"; do
        local name="${names[$i]}"
        local log="$log_dir/$name.log"
        [ -f "$log.result" ] && [ -z "${reported[$i]:-}" ] || continue
        reported[$i]=1
        local ok notok secs
        read -r ok notok secs <"$log.result"
        passed=$((passed + ok))
        failed=$((failed + notok))
        printf '%-40s %4d ok %4d not ok  (%ds)\n' "$name" "$ok" "$notok" "$secs"
        if [ "$notok" -gt 0 ]; then
            failed_names+=("$name")
            grep -E '^(not ok|#)' "$log" | head -40 | sed 's/^/    /'
            echo "    (full log: $log)"
        fi
    done
}

next=0
running=0
while [ "$next" -lt "${#names[@]}" ] || [ "$running" -gt 0 ]; do
    while [ "$running" -lt "$jobs_max" ] && [ "$next" -lt "${#names[@]}" ]; do
        start_one "${names[$next]}" "${commands[$next]}"
        next=$((next + 1))
        running=$((running + 1))
    done
    wait -n
    running=$((running - 1))
    report_finished
done
wait
report_finished

echo
if [ ${#failed_names[@]} -gt 0 ]; then
    echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "${#names[@]}" -gt 0 ]
