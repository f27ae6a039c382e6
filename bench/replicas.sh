#!/bin/sh
# replicas.sh - serve actions per second through two `gusto-connect serve`
# replicas sharing one PostgreSQL database (serve's tables and the
# connection store), against one replica on its SQLite files, with the same action mix under wrk: 85% get-employee (a
# read: key, grant, one Gusto GET) and 15% update-employee with a fresh
# Idempotency-Key (a write: the claim, the Gusto PUT, the kept answer).
# Both setups get the same number of connections in total.
#
#   bench/replicas.sh [--quick] [--rows]
#
# Standalone it prints a small table; with --rows it prints the rows of
# bench/run.sh's table (name|ours|theirs, "ours" = two replicas on
# PostgreSQL, "theirs" = one on SQLite).  Talks only to 127.0.0.1; starts its
# own sandbox and PostgreSQL server (tests/pg.sh) and stops them.  Needs wrk
# and PostgreSQL's server binaries; says "skipped" without them.
# Environment: BUILD (default build), BENCH_KEEP=1 keeps the scratch directory.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
GUSTO=$BUILD/gusto-connect
SANDBOX=$BUILD/gusto-sandbox

DUR=10 WARM=2 ROWS_OUT=0
for a in "$@"; do
    case $a in
        --quick) DUR=3 WARM=1 ;;
        --rows) ROWS_OUT=1 ;;
        *) echo "usage: bench/replicas.sh [--quick] [--rows]" >&2; exit 2 ;;
    esac
done
CONN=32   # in total: 32 on the one replica, 16 on each of the two

log() { printf 'bench replicas: %s\n' "$*" >&2; }
out_row() { # NAME OURS THEIRS
    if [ $ROWS_OUT = 1 ]; then printf '%s|%s|%s\n' "$1" "$2" "$3"; else
        printf '%-58s %12s %12s\n' "$1" "$2" "$3"; fi
}
skip() {
    if [ $ROWS_OUT = 1 ]; then printf '6 serve replicas|skipped (%s)|-\n' "$1"; else
        echo "skipped: $1"; fi
    exit 0
}

command -v wrk >/dev/null 2>&1 || skip "wrk missing"
[ -x "$GUSTO" ] && [ -x "$SANDBOX" ] || skip "not built"

T=$(mktemp -d /tmp/gusto-bench-replicas.XXXXXX) || exit 1
pids=""
cd "$ROOT" || exit 1
. tests/procs.sh
. tests/pg.sh
pg_available || skip "PostgreSQL's server binaries missing"
cleanup() {
    for p in $pids; do kill -TERM "$p" 2>/dev/null; done
    for p in $pids; do wait "$p" 2>/dev/null; done
    pg_stop
    if [ "${BENCH_KEEP:-0}" = 1 ]; then log "scratch kept in $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

unset GUSTO_ACCESS_TOKEN GUSTO_CONNECTION GUSTO_SERVE_DB GUSTO_SERVE_PORT GUSTO_STORE \
    GUSTO_SERVE_MIRROR GUSTO_API_BASE_URL
export NO_PROXY='*'

# wait_file FILE PATTERN: up to 30 s
wait_file() {
    i=0
    while ! grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 600 ] && return 1
        sleep 0.05
    done
}

"$SANDBOX" --port 0 --seed demo --token bench-tok --rate-limit 0 >"$T/sb.out" 2>"$T/sb.err" &
track $!
wait_file "$T/sb.out" '^company:' || skip "the sandbox did not start"
SB=$(sed -n 's/^listening on //p' "$T/sb.out")
pg_start || skip "PostgreSQL did not start"
DB=$(pg_createdb serve) || skip "createdb failed"

# replica N DB [STORE]: its HOME, its connection store (STORE, else its own
# SQLite file with a key file beside it); sets URL_N
replica() {
    h="$T/r$1"
    mkdir -p "$h/home"
    printf '{"port": 0, "db": "%s", "audit_log": "%s/audit.jsonl", "quiet": true}\n' \
        "$2" "$h" >"$h/serve.json"
    export HOME="$h/home" GUSTO_STORE="${3:-$h/connections.db}"
    GUSTO_ACCESS_TOKEN=bench-tok "$GUSTO" serve connections add acme --base-url "$SB" \
        >/dev/null 2>&1
    "$GUSTO" serve --config "$h/serve.json" --quiet >"$h/out" 2>"$h/err" &
    track $!
    wait_file "$h/out" '^listening on' || { log "replica $1: $(cat "$h/err")"; return 1; }
    eval "URL_$1=\$(sed -n 's/^listening on //p' '$h/out')"
}
# key DB: a key granted acme in that database
key() {
    HOME="$T/home-k" "$GUSTO" serve keys add "bench-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')" \
        --grant acme --db "$1" --json 2>/dev/null | sed -n 's/.*"key":"\([^"]*\)".*/\1/p'
}

COMPANY=$(sed -n 's/^company: //p' "$T/sb.out")
EMP=$(curl -s -H "Authorization: Bearer bench-tok" "$SB/v1/companies/$COMPANY/employees?per=1" |
    grep -o '"uuid":"[^"]*"' | head -n 1 | cut -d'"' -f4)
[ -n "$EMP" ] || skip "no employee in the sandbox"

# The mix, as a wrk script: each thread a counter for fresh keys.
cat >"$T/mix.lua" <<EOF
local n = 0
local prefix = os.getenv("IDEM_PREFIX") or "k"
-- wrk.format's header table replaces wrk.headers (and -H) entirely, so the
-- key travels in every table.
local auth = "Bearer " .. (os.getenv("BENCH_KEY") or "")
local read = '{"employee_uuid":"$EMP"}'
local write = '{"employee_uuid":"$EMP","preferred_first_name":"Bench"}'
function setup(thread) thread:set("tid", tostring(math.random(1, 1e9))) end
function request()
    n = n + 1
    if n % 20 < 3 then
        return wrk.format("POST", "/actions/update-employee",
            {["Content-Type"] = "application/json", ["Authorization"] = auth,
             ["Idempotency-Key"] = prefix .. tid .. "-" .. n}, write)
    end
    return wrk.format("POST", "/actions/get-employee",
        {["Content-Type"] = "application/json", ["Authorization"] = auth}, read)
end
EOF

# load NAME URL KEY CONNS PREFIX SECONDS: output in $T/wrk-NAME
load() {
    IDEM_PREFIX=$5 BENCH_KEY=$3 wrk -t1 -c"$4" -d"$6s" --latency -s "$T/mix.lua" \
        "$2" >"$T/wrk-$1" 2>&1
}
rps() { awk '/^Requests\/sec:/ { print $2 }' "$T/wrk-$1"; }
bad() { awk '/Non-2xx or 3xx responses:/ { b = $NF } END { print b + 0 }' "$T/wrk-$1"; }
p99() {
    awk 'function ms(s) { if (s ~ /us$/) return substr(s, 1, length(s) - 2) / 1000
                          if (s ~ /ms$/) return substr(s, 1, length(s) - 2) + 0
                          if (s ~ /s$/) return substr(s, 1, length(s) - 1) * 1000; return s + 0 }
         $1 == "99%" { print ms($2) }' "$T/wrk-$1"
}

# One replica on SQLite.
log "one replica on SQLite, ${DUR}s at $CONN connections"
replica 1 "$T/r1/serve.db" || skip "replica on SQLite did not start"
K1=$(key "$T/r1/serve.db")
load warm1 "$URL_1" "$K1" "$CONN" w1 "$WARM"
load lite "$URL_1" "$K1" "$CONN" a "$DUR"
LITE=$(rps lite)

# Two replicas on PostgreSQL, half the connections each, at the same time.
log "two replicas on PostgreSQL, ${DUR}s at $((CONN / 2)) connections each"
# Everything on PostgreSQL, the connection store included (its key from the
# environment, the same for both).
GUSTO_STORE_KEY=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
export GUSTO_STORE_KEY
replica 2 "$DB" "$DB" && replica 3 "$DB" "$DB" || skip "replicas on PostgreSQL did not start"
K2=$(key "$DB")
# wait for the load alone: a bare `wait` would wait for the servers too.
load warm2 "$URL_2" "$K2" $((CONN / 2)) w2 "$WARM" & lp=$!
load warm3 "$URL_3" "$K2" $((CONN / 2)) w3 "$WARM"
wait "$lp"
load pg2 "$URL_2" "$K2" $((CONN / 2)) b "$DUR" & lp=$!
load pg3 "$URL_3" "$K2" $((CONN / 2)) c "$DUR"
wait "$lp"
PG=$(awk -v a="$(rps pg2)" -v b="$(rps pg3)" 'BEGIN { printf "%.0f\n", a + b }')
P99PG=$(awk -v a="$(p99 pg2)" -v b="$(p99 pg3)" 'BEGIN { print (a > b ? a : b) }')
ERRS=$(($(bad pg2) + $(bad pg3) + $(bad lite)))

out_row "6 serve actions/s (85% get, 15% idempotent update): 2 replicas on PostgreSQL vs 1 on SQLite" \
    "$PG" "$LITE"
out_row "6 serve action p99 ms: 2 replicas on PostgreSQL vs 1 on SQLite" "$P99PG" "$(p99 lite)"
out_row "6 serve non-2xx answers in both runs" "$ERRS" "="
