#!/bin/sh
# deps.sh - install the Debian 12 packages gusto-connect builds and tests with.
# Idempotent: installs only what is missing, so a warm machine pays nothing.
# clang and libclang-rt-14-dev (libFuzzer's runtime, only a Recommends of
# clang) are for `make fuzz`; valgrind, openssl and sqlite3 for make test.
set -eu

PKGS="build-essential pkg-config libcurl4-openssl-dev libmicrohttpd-dev
libsqlite3-dev libjansson-dev libyajl-dev libssl-dev libpq-dev postgresql sqlite3
curl jq valgrind clang libclang-rt-14-dev openssl wrk nodejs npm chromium
zsh fish bsdutils libjose-dev systemd"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
# npm ships with the NodeSource node on some images; only ask apt for it when absent.
if command -v npm >/dev/null 2>&1; then
    missing=$(echo "$missing" | tr ' ' '\n' | grep -v -x -e npm -e nodejs | tr '\n' ' ')
fi
missing=$(echo "$missing" | xargs)
if [ -n "$missing" ]; then
    echo "deps: installing $missing" >&2
    [ "$(id -u)" = 0 ] || { echo "deps: run as root to install: $missing" >&2; exit 1; }
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
echo "deps: ok" >&2
