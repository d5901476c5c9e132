#!/usr/bin/env bash
# Installs what building (and, with --tests, testing) editgroups needs on a Debian
# or Ubuntu machine, and starts the test databases when they are installed but
# stopped. Safe to run again: it only installs what is missing.
#
#   bash scripts/setup.sh           # build dependencies (OpenSSL headers, pkg-config)
#   bash scripts/setup.sh --tests   # plus MediaWiki/PHP for the poller's tests, Chromium for the
#                                   # pages' browser tests, and the databases
set -euo pipefail

tests=false
[ "${1:-}" = "--tests" ] && tests=true

packages=(pkg-config libssl-dev)
if $tests; then
    packages+=(mediawiki php-sqlite3 php-cli php-intl php-mbstring php-xml)
    # Clients used below to check that the test databases answer.
    packages+=(postgresql-client mariadb-client)
    # The web pages' browser tests: headless Chromium driven over WebDriver.
    packages+=(chromium chromium-driver)
fi

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    # The mediawiki package pulls in Apache; keep package scripts from starting it.
    policy=/usr/sbin/policy-rc.d
    created_policy=false
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
        as_root chmod +x "$policy"
        created_policy=true
        # Removed however the install ends, so later service starts still work.
        trap 'as_root rm -f "$policy"' EXIT
    fi
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    if $created_policy; then
        as_root rm -f "$policy"
        trap - EXIT
    fi
fi

if $tests; then
    # PostgreSQL: 127.0.0.1:5432, trust auth for local connections, database `test`.
    if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
        if command -v pg_ctlcluster >/dev/null; then
            as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
        fi
    fi
    # MariaDB: 127.0.0.1:3306, root without password, database `test`.
    if ! mysqladmin -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1; then
        if [ -x /usr/sbin/mariadbd ]; then
            as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
        fi
    fi
    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null \
            && mysqladmin -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1 && break
        sleep 1
    done
    if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
        echo "PostgreSQL does not answer on 127.0.0.1:5432; see README.md, section 'Test databases'" >&2
        exit 1
    fi
    if ! mysqladmin -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1; then
        echo "MariaDB does not answer on 127.0.0.1:3306; see README.md, section 'Test databases'" >&2
        exit 1
    fi
fi
