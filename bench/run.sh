#!/usr/bin/env bash
# make bench: runs every bench/*.sh (but lib.sh) one after the other, each under a timeout, shows
# its result lines as they come, and ends with a table of them (bench/README.md says what each
# measures). Exit status 1 when a benchmark failed, timed out or printed no result line.
#   bench/run.sh [FILTER]   only the benchmarks whose file name contains FILTER
#   BENCH_TIMEOUT=S         seconds per benchmark (default 900)
#   BENCH_ROWS, BENCH_QUICK see bench/lib.sh
set -uo pipefail
cd "$(dirname "$0")/.."

filter="${1:-}"
timeout_s="${BENCH_TIMEOUT:-900}"
log_dir="build/bench-logs"
mkdir -p "$log_dir"

results=()   # "NAME|DBTAIL|PEER|PEER_RATE|RATIO|RSS|TARGET"
problems=()  # "SCRIPT: what went wrong"
ran=0

for script in bench/*.sh; do
    name=$(basename "$script" .sh)
    case "$name" in lib | run) continue ;; esac
    [[ -z "$filter" || "$name" == *"$filter"* ]] || continue
    ran=$((ran + 1))
    log="$log_dir/$name.log"
    echo "== $name"
    start=$SECONDS
    # Result lines are shown as they come; the rest of the output stays in the log.
    timeout --kill-after=10 "$timeout_s" bash "$script" </dev/null 2>&1 | tee "$log" | grep --line-buffered '^bench '
    status=${PIPESTATUS[0]}
    echo "   ($((SECONDS - start)) s, log $log)"
    count=0
    while IFS= read -r line; do
        # bench NAME: dbtail X/s, PEER Y/s, ratio R, peak RSS N MB[, target met|missed (GOAL)]
        if [[ "$line" =~ ^bench\ ([^:]+):\ dbtail\ ([0-9.]+)/s,\ ([^ ]+)\ ([0-9.]+)/s,\ ratio\ ([0-9.]+|inf),\ peak\ RSS\ ([0-9.]+)\ MB(,\ target\ (met|missed)\ \(([^\)]*)\))?$ ]]; then
            results+=("${BASH_REMATCH[1]}|${BASH_REMATCH[2]}|${BASH_REMATCH[3]}|${BASH_REMATCH[4]}|${BASH_REMATCH[5]}|${BASH_REMATCH[6]}|${BASH_REMATCH[8]:+${BASH_REMATCH[8]}: ${BASH_REMATCH[9]}}")
            count=$((count + 1))
        else
            problems+=("$name: malformed result line: $line")
        fi
    done < <(grep '^bench ' "$log")
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        problems+=("$name: timed out after $timeout_s s")
    elif [ "$status" -ne 0 ]; then
        problems+=("$name: exited with status $status")
    elif [ "$count" -eq 0 ]; then
        problems+=("$name: printed no result line")
    fi
    if [ "$status" -ne 0 ]; then
        grep -E '^(#|not ok)' "$log" | tail -n 15 | sed 's/^/   /'
    fi
done

echo
if [ "$ran" -eq 0 ]; then
    echo "no benchmark in bench/${filter:+ matching \"$filter\"}"
    exit 0
fi
printf '%-28s %14s  %-22s %14s %8s %14s  %s\n' benchmark "dbtail /s" peer "peer /s" ratio "peak RSS MB" target
for r in "${results[@]}"; do
    IFS='|' read -r name ours peer theirs ratio rss target <<<"$r"
    printf '%-28s %14s  %-22s %14s %8s %14s  %s\n' "$name" "$ours" "$peer" "$theirs" "$ratio" "$rss" "$target"
done
if [ ${#problems[@]} -gt 0 ]; then
    echo
    printf 'problem: %s\n' "${problems[@]}"
    exit 1
fi
