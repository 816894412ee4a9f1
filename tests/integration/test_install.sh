#!/usr/bin/env bash
# make install: DESTDIR + PREFIX put the binary and the man page in place, the installed binary
# runs, the man page renders without a warning, and the systemd unit example is well formed.
source "$(dirname "$0")/../lib/servers.sh"

dest="$TMP_ROOT/root"
make -s -C "$TEST_ROOT" install DESTDIR="$dest" PREFIX=/usr >"$TMP_ROOT/install.log" 2>&1
status=$?
check_eq "make install DESTDIR=... PREFIX=/usr exits 0" "$status" 0
[ "$status" -eq 0 ] || sed 's/^/#   /' "$TMP_ROOT/install.log" | tail -20

bin="$dest/usr/bin/dbtail"
page="$dest/usr/share/man/man1/dbtail.1"
check "binary installed as usr/bin/dbtail, mode 0755" test "$(stat -c %a "$bin" 2>/dev/null)" = 755
check "man page installed as usr/share/man/man1/dbtail.1, mode 0644" \
    test "$(stat -c %a "$page" 2>/dev/null)" = 644
check_eq "nothing else installed" "$(find "$dest" -type f -printf '%P\n' 2>/dev/null | sort | tr '\n' ' ')" \
    "usr/bin/dbtail usr/share/man/man1/dbtail.1 "
check_eq "the installed binary runs" "$("$bin" --version 2>&1)" "dbtail $(cat "$TEST_ROOT/VERSION")"

# groff -ww warns about every questionable request; -z formats without output.
if command -v groff >/dev/null; then
    warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
    check_eq "groff renders the man page without warnings" "$warnings" ""
    # -P-cbou: plain text, no bold, underline or overstrike.
    text=$(groff -man -Tutf8 -P-cbou "$page" 2>/dev/null)
else
    echo "# groff is not installed (scripts/install-deps.sh installs groff-base)"
    text=""
fi
if command -v man >/dev/null; then
    check "man -l renders the page" test -n "$(MANWIDTH=100 man -l "$page" 2>/dev/null)"
fi
if [ -z "$text" ]; then
    echo "# skipping the checks of the page's text"
else
    for section in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS CONFIGURATION SIGNALS \
        "EXIT STATUS" ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
        check "man page has section $section" grep -q "^$section\$" <<<"$text"
    done
    # Every command and option the binary's --help names is in the page.
    for word in $("$bin" --help | awk '/^  [a-z]+ / {print $1} /^  -[a-zA-Z], --/ {print $2} /^  --[a-z]/ {print $1}'); do
        check "man page describes $word (from --help)" grep -qe "$word" <<<"$text"
    done
    check "man page states exit status 2 for usage or configuration errors" \
        grep -qE '^ +2 +.*(usage|configuration)' <<<"$text"
    # The page's example configurations are valid (status exits 2 on a configuration error).
    sed -n '/^ *{"name": "shop"/,/}}$/p' <<<"$text" >"$TMP_ROOT/example.json"
    grep '^ *debezium\.' <<<"$text" | sed 's/^ *//' >"$TMP_ROOT/example.properties"
    valid_config() { DB_PASSWORD=x "$bin" status -c "$1" >/dev/null; }
    for ex in example.json example.properties; do
        check "the man page's $ex is a valid configuration" valid_config "$TMP_ROOT/$ex"
    done
fi

unit="$TEST_ROOT/docs/dbtail.service"
if command -v systemd-analyze >/dev/null; then
    mkdir -p "$TMP_ROOT/units"
    # verify wants the ExecStart binary to exist: point it at the installed one.
    sed "s|/usr/local/bin/dbtail|$bin|" "$unit" >"$TMP_ROOT/units/dbtail@.service"
    verify=$(systemd-analyze verify --man=no "$TMP_ROOT/units/dbtail@demo.service" 2>&1)
    check_eq "systemd-analyze verify accepts the unit as dbtail@.service" "$verify" ""
else
    echo "# systemd-analyze is not installed: checking the unit's keys only"
fi
for key in "User=dbtail" "StateDirectory=dbtail" "ExecStart=/usr/local/bin/dbtail run -c /etc/dbtail/%i.json" \
    "Restart=on-failure" "KillSignal=SIGTERM" "NoNewPrivileges=yes" "ProtectSystem=strict"; do
    check "unit sets $key" grep -qxF "$key" "$unit"
done
check "unit sets TimeoutStopSec" grep -qE '^TimeoutStopSec=[0-9]+' "$unit"
check "unit sets ReadWritePaths" grep -qE '^ReadWritePaths=' "$unit"

# The Dockerfile builds with the README's commands, and its runtime stage installs the package of
# every library the binary links (libc6 is in every Debian image).
check "the Dockerfile builds with make, then make install" \
    grep -qx 'RUN make && make install PREFIX=/opt/dbtail' "$TEST_ROOT/Dockerfile"
runtime=$(awk '/^FROM/ {n++} n == 2' "$TEST_ROOT/Dockerfile")
for lib in $(objdump -p "$bin" | awk '/NEEDED/ {print $2}'); do
    path=$(ldd "$bin" | awk -v l="$lib" '$1 == l {print $3}')
    pkg=$(dpkg -S "*/$(basename "$(readlink -f "$path")")" 2>/dev/null | grep -v -- '-dev' |
        cut -d: -f1 | sort -u | head -1)
    [ "$pkg" = libc6 ] && continue
    check "the Dockerfile's runtime stage installs ${pkg:-the package of $lib} ($lib)" \
        grep -qw -- "${pkg:-$lib}" <<<"$runtime"
done
