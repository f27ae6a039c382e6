#!/bin/sh
# refresh_storm.sh - 64 concurrent calls at token expiry (issue 18): 64
# `gusto-connect api GET /v1/token_info` processes started at once on one
# stored connection whose access token is due, timed from the start to the
# first answer and to the last, against the floor measured in the same run:
# the same 64 processes again at once with the token fresh (no refresh),
# and one process alone doing the refresh.  Once on a SQLite store (one
# machine) and once on a PostgreSQL store shared by two HOMEs (two machines,
# as far as the store can tell: half the processes each).  Every storm must
# cause exactly one POST /oauth/token and 64 exits 0.
#
#   bench/refresh_storm.sh [--quick] [--rows]
#
# The sandbox answers every request after 100 ms (a network's round trip
# and Gusto's own work), so the storm's first answer shows whether the
# other 63 wait for the one refresh rather than for each other.  Standalone it prints a
# small table; with --rows, bench/run.sh's rows (name|ours|theirs, "ours" =
# the storm at expiry, "theirs" = the fresh storm).  Talks only to 127.0.0.1; starts its own
# sandbox and PostgreSQL server (tests/pg.sh) and stops them.  Says
# "skipped" without PostgreSQL's server binaries.  Environment: BUILD
# (default build), BENCH_KEEP=1 keeps the scratch directory.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
GUSTO=$BUILD/gusto-connect
SANDBOX=$BUILD/gusto-sandbox

N=64 ROWS_OUT=0
for a in "$@"; do
    case $a in
        --quick) ;; # one storm per store is already the least that means anything
        --rows) ROWS_OUT=1 ;;
        *) echo "usage: bench/refresh_storm.sh [--quick] [--rows]" >&2; exit 2 ;;
    esac
done

log() { printf 'bench refresh storm: %s\n' "$*" >&2; }
out_row() { # NAME OURS THEIRS
    if [ $ROWS_OUT = 1 ]; then printf '%s|%s|%s\n' "$1" "$2" "$3"; else
        printf '%-66s %10s %10s\n' "$1" "$2" "$3"; fi
}
skip() {
    if [ $ROWS_OUT = 1 ]; then printf '7 refresh storm|skipped (%s)|-\n' "$1"; else
        echo "skipped: $1"; fi
    exit 0
}

[ -x "$GUSTO" ] && [ -x "$SANDBOX" ] || skip "not built"
T=$(mktemp -d /tmp/gusto-bench-storm.XXXXXX) || exit 1
pids=""
cd "$ROOT" || exit 1
. tests/procs.sh
. tests/pg.sh
. tests/oauthflow.sh
pg_available || skip "PostgreSQL's server binaries missing"
cleanup() {
    for p in $pids; do kill -TERM "$p" 2>/dev/null; done
    for p in $pids; do wait "$p" 2>/dev/null; done
    pg_stop
    if [ "${BENCH_KEEP:-0}" = 1 ]; then log "scratch kept in $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

unset GUSTO_ACCESS_TOKEN GUSTO_CONNECTION GUSTO_STORE GUSTO_STORE_KEY GUSTO_STORE_KEY_FILE \
    GUSTO_API_BASE_URL GUSTO_ENV XDG_CONFIG_HOME DISPLAY WAYLAND_DISPLAY BROWSER
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY='*'

hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
now_ms() { date +%s%3N; }

CSECRET="bench-$(hex 16)"
PORT=$(free_port)
REDIR="http://127.0.0.1:$PORT/callback"
(umask 077 && printf '[{"client_id":"bench-app","client_secret":"%s","redirect_uris":["%s"]}]\n' \
    "$CSECRET" "$REDIR" >"$T/apps.json")
# Tokens live 64 s and the client refreshes 60 s ahead: 4.5 s after a
# refresh the token is due again, and stays so until the next refresh; a
# storm and the fresh one after it take under 3 s.
"$SANDBOX" --port 0 --seed demo --rate-limit 0 --log --apps "$T/apps.json" --access-ttl 64 \
    --faults 'delay:1.0@100' >"$T/sb.out" 2>"$T/sb.log" &
track $!
i=0
while ! grep -q '^listening on ' "$T/sb.out" 2>/dev/null; do
    i=$((i + 1))
    [ $i -gt 300 ] && skip "the sandbox did not start: $(head -c 200 "$T/sb.log")"
    sleep 0.1
done
SB_URL=$(sed -n 's/^listening on //p' "$T/sb.out" | head -n 1)
posts() { grep -c '^POST /oauth/token 200' "$T/sb.log"; }

# storm TAG HOME_A HOME_B: N processes at once, alternating between the two
# HOMEs (the same one twice for one machine); the env for each is set by
# the caller through $ENV_A and $ENV_B.  Prints "first_ms last_ms failures".
storm() {
    start=$(now_ms)
    sp=""
    k=1
    while [ $k -le $N ]; do
        if [ $((k % 2)) = 0 ]; then h=$2 e=$ENV_A; else h=$3 e=$ENV_B; fi
        # shellcheck disable=SC2086  # e is a list of NAME=VALUE words
        (env HOME="$h" $e "$GUSTO" api GET /v1/token_info </dev/null >"$T/$1.$k.out" \
            2>"$T/$1.$k.err"
         echo "$? $(now_ms)" >"$T/$1.$k.end") &
        sp="$sp $!"
        k=$((k + 1))
    done
    for p in $sp; do wait "$p"; done
    cat "$T/$1".*.end | awk -v s="$start" '
        { t = $2 - s; if (n++ == 0 || t < lo) lo = t; if (t > hi) hi = t; if ($1 != 0) bad++ }
        END { printf "%d %d %d\n", lo, hi, bad + 0 }'
}
# alone TAG HOME ENV: one process with a due token; prints its wall ms
alone() {
    start=$(now_ms)
    # shellcheck disable=SC2086
    env HOME="$2" $3 "$GUSTO" api GET /v1/token_info </dev/null >"$T/$1.out" 2>"$T/$1.err" ||
        { log "$1: $(cat "$T/$1.err")"; echo 0; return 1; }
    echo $(($(now_ms) - start))
}

# measure NAME HOME_A HOME_B: the floor (one refresh alone), then the storm.
measure() {
    sleep 4.5
    b=$(posts)
    FLOOR=$(alone "$1-alone" "$2" "$ENV_A") || return 1
    [ "$(posts)" = $((b + 1)) ] || { log "$1: the lone call did not refresh once"; return 1; }
    sleep 4.5
    b=$(posts)
    # shellcheck disable=SC2046  # three numbers
    set -- "$1" "$2" "$3" $(storm "$1" "$2" "$3")
    FIRST=$4 LAST=$5 FAILS=$6 REFRESHES=$(($(posts) - b))
    # The same storm again at once, the token now fresh: the machine's floor
    # for 64 processes at a time, with no refresh in it.
    b=$(posts)
    # shellcheck disable=SC2046
    set -- "$1" "$2" "$3" $(storm "$1-fresh" "$2" "$3")
    FFIRST=$4 FLAST=$5 FAILS=$((FAILS + $6)) FRESH_REF=$(($(posts) - b))
    log "$1: alone ${FLOOR} ms; storm of $N at expiry: first ${FIRST} ms, last ${LAST} ms," \
        "$REFRESHES refreshes; fresh: first ${FFIRST} ms, last ${FLAST} ms, $FRESH_REF" \
        "refreshes; $FAILS failed"
}

# One machine, a SQLite store.
H1="$T/one"
mkdir -p "$H1"
ENV_A="GUSTO_STORE=$H1/connections.db" ENV_B=$ENV_A
HOME=$H1 GUSTO_STORE="$H1/connections.db" connect_allow c1 bench-app "$REDIR" "Acme Demo Co" ||
    skip "connect did not finish: $(cat "$T/c1.cerr" 2>/dev/null | tail -n 3)"
[ "$RC" = 0 ] || skip "connect exited $RC: $(tail -n 3 "$T/c1.cerr")"
log "SQLite store: connected; storm in 9 s"
measure lite "$H1" "$H1" || skip "the SQLite measurement failed"
L_FLOOR=$FLOOR L_FIRST=$FIRST L_LAST=$LAST L_FAILS=$FAILS L_REF=$REFRESHES
L_FFIRST=$FFIRST L_FLAST=$FLAST L_FRESH_REF=$FRESH_REF

# Two machines, one PostgreSQL store.
pg_start || skip "PostgreSQL did not start"
pg_createdb storm >/dev/null || skip "createdb failed"
STORE="postgres://postgres@127.0.0.1:$PGPORT/storm"
KEY=$(hex 32)
HA="$T/a" HB="$T/b"
mkdir -p "$HA" "$HB"
ENV_A="GUSTO_STORE=$STORE GUSTO_STORE_KEY=$KEY" ENV_B=$ENV_A
HOME=$HA GUSTO_STORE=$STORE GUSTO_STORE_KEY=$KEY connect_allow c2 bench-app "$REDIR" \
    "Acme Demo Co" || skip "connect to PostgreSQL did not finish"
[ "$RC" = 0 ] || skip "connect to PostgreSQL exited $RC: $(tail -n 3 "$T/c2.cerr")"
log "PostgreSQL store: connected; storm in 9 s"
measure pg "$HA" "$HB" || skip "the PostgreSQL measurement failed"

out_row "7 refresh storm, SQLite store: first answer ms, $N calls at expiry vs fresh" \
    "$L_FIRST" "$L_FFIRST"
out_row "7 refresh storm, SQLite store: last answer ms, $N calls at expiry vs fresh" \
    "$L_LAST" "$L_FLAST"
out_row "7 refresh storm, PostgreSQL store, 2 HOMEs: first answer ms, at expiry vs fresh" \
    "$FIRST" "$FFIRST"
out_row "7 refresh storm, PostgreSQL store, 2 HOMEs: last answer ms, at expiry vs fresh" \
    "$LAST" "$FLAST"
out_row "7 refresh, one call alone ms: SQLite vs PostgreSQL store" "$L_FLOOR" "$FLOOR"
out_row "7 refresh storm: refreshes at the sandbox, SQLite vs PostgreSQL (fresh storms: $L_FRESH_REF, $FRESH_REF)" \
    "$L_REF" "$REFRESHES"
out_row "7 refresh storm: failed calls, SQLite vs PostgreSQL" "$L_FAILS" "$FAILS"
