# Helpers for bench/*.sh (source after tests/lib/servers.sh, which starts the servers).
# A benchmark measures dbtail and a named peer doing the same work in the same run, on the same
# servers, and prints one standard line per measurement (bench/run.sh collects them):
#   bench NAME: dbtail X/s, PEER Y/s, ratio R, peak RSS N MB[, target met|missed (GOAL)]
# X and Y are units of work (rows, events, messages) per second; R = X / Y, so above 1 dbtail is
# faster; N is dbtail's peak resident set size. A benchmark with a goal says whether it was met;
# it reports a missed goal, it does not fail on it.

# Scale of the benchmarks: BENCH_ROWS rows (default 200000), times BENCH_SCALE (e.g. 0.5 or 3)
# when set; BENCH_QUICK=1 divides by 20 for a smoke run of the harness.
BENCH_ROWS="${BENCH_ROWS:-200000}"
[ -n "${BENCH_SCALE:-}" ] &&
    BENCH_ROWS=$(awk -v r="$BENCH_ROWS" -v s="$BENCH_SCALE" 'BEGIN { printf "%d\n", r * s }')
[ "${BENCH_QUICK:-0}" = 1 ] && BENCH_ROWS=$((BENCH_ROWS / 20))

# Benchmarks measure the release build (make bench builds it), not the sanitized one of the tests.
DBTAIL="${BENCH_DBTAIL:-$TEST_ROOT/dbtail}"

bench_now() { date +%s.%N; }

# bench_elapsed START [END]: seconds between two bench_now values (END defaults to now).
bench_elapsed() {
    awk -v a="$1" -v b="${2:-$(bench_now)}" 'BEGIN { printf "%.3f\n", b - a }'
}

# bench_run CMD...: runs CMD under GNU time; sets BENCH_SECONDS (wall clock), BENCH_RSS_MB (peak
# resident set size), BENCH_CPU (user + system seconds) and BENCH_STATUS (CMD's exit status).
# CMD's output goes to $TMP_ROOT/bench_run.out.
bench_run() {
    local report="$TMP_ROOT/bench_run.time"
    /usr/bin/time -v -o "$report" "$@" >"$TMP_ROOT/bench_run.out" 2>&1
    BENCH_STATUS=$?
    BENCH_RSS_MB=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f\n", $2 / 1024 }' "$report")
    # "Elapsed (wall clock) time (h:mm:ss or m:ss): 1:02.53"
    BENCH_SECONDS=$(awk -F': ' '/Elapsed \(wall clock\)/ {
        n = split($2, p, ":"); s = 0
        for (i = 1; i <= n; i++) s = s * 60 + p[i]
        printf "%.3f\n", s }' "$report")
    BENCH_CPU=$(awk -F': ' '/(User|System) time \(seconds\)/ { s += $2 } END { printf "%.2f\n", s }' "$report")
    if [ "$BENCH_STATUS" -ne 0 ]; then
        echo "# bench_run: $* exited with status $BENCH_STATUS:"
        tail -n 20 "$TMP_ROOT/bench_run.out" | sed 's/^/#   /'
    fi
    return "$BENCH_STATUS"
}

# bench_vmhwm_mb PID: peak resident set size of a running process (a daemon measured while it
# works), in MB.
bench_vmhwm_mb() {
    awk '/^VmHWM:/ { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status"
}

# bench_cpu_seconds PID: user + system CPU seconds a running process has used so far.
bench_cpu_seconds() {
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($14 + $15) / hz }' "/proc/$1/stat"
}

# bench_keep_min VAR VALUE / bench_keep_max VAR VALUE: VAR becomes VALUE when VAR is empty or
# VALUE is smaller (larger): the best wall time and the peak RSS over several runs.
bench_keep_min() {
    if [ -z "${!1:-}" ] || awk -v a="$2" -v b="${!1}" 'BEGIN { exit !(a < b) }'; then
        printf -v "$1" %s "$2"
    fi
}
bench_keep_max() {
    if [ -z "${!1:-}" ] || awk -v a="$2" -v b="${!1}" 'BEGIN { exit !(a > b) }'; then
        printf -v "$1" %s "$2"
    fi
}

# bench_rate COUNT SECONDS: COUNT per second, as an integer.
bench_rate() {
    awk -v n="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.001; printf "%.0f\n", n / s }'
}

# bench_line NAME DBTAIL_RATE PEER PEER_RATE RSS_MB [MIN_RATIO | met|missed GOAL]: the standard
# line; with MIN_RATIO the goal is "ratio >= MIN_RATIO", else the caller says whether GOAL (a
# short text without parentheses) was met.
bench_line() {
    local ratio target=""
    ratio=$(awk -v a="$2" -v b="$4" 'BEGIN { if (b <= 0) print "inf"; else printf "%.2f\n", a / b }')
    if [[ "${6:-}" =~ ^[0-9.]+$ ]]; then
        if awk -v r="$ratio" -v m="$6" 'BEGIN { exit !(r == "inf" || r + 0 >= m + 0) }'; then
            target=", target met (ratio >= $6)"
        else
            target=", target missed (ratio >= $6)"
        fi
    elif [ -n "${6:-}" ]; then
        target=", target $6 ($7)"
    fi
    printf 'bench %s: dbtail %s/s, %s %s/s, ratio %s, peak RSS %s MB%s\n' "$1" "$2" "$3" "$4" \
        "$ratio" "$5" "$target"
}
