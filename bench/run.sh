#!/bin/sh
# run.sh - make bench: measures libgusto/gusto against Gusto's TypeScript SDK, the sandbox against Prism and a bare server, bulk onboarding and sync, serve replicas and a refresh storm; prints ratios.
#
#   bench/run.sh [--quick]
#
# Everything runs on this machine and talks only to 127.0.0.1.  Progress goes
# to stderr; stdout gets the table and then one line per target:
#   ratio NAME VALUE target T met|missed
# Every ratio is ours/theirs.  Environment: BUILD (default build), GUSTO_SPEC
# (Gusto's OpenAPI file, for Prism), BENCH_KEEP=1 keeps the scratch directory.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
BB=$BUILD/bench
GUSTO=$BUILD/gusto-connect
SANDBOX=$BUILD/gusto-sandbox
NODE_DIR=$ROOT/bench/node
TOKEN=bench-token
# gusto-connect reads its token from the environment, never from argv.
GUSTO_ACCESS_TOKEN=$TOKEN
export GUSTO_ACCESS_TOKEN
API_VERSION=2026-12-01  # GUSTO_API_VERSION, what libgusto sends by default

QUICK=0
case ${1:-} in
    --quick) QUICK=1 ;;
    "") ;;
    *) echo "usage: bench/run.sh [--quick]" >&2; exit 2 ;;
esac

if [ $QUICK = 1 ]; then
    N_LIST=1000 N_GET=100 N_CREATE=100 REPS=1 D_RUNS=3
    WRK_DUR=2 WRK_WARM=0 N_BIG=10000 N_BULK=2000 N_SYNC=1000
else
    N_LIST=10000 N_GET=1000 N_CREATE=1000 REPS=3 D_RUNS=7
    WRK_DUR=10 WRK_WARM=2 N_BIG=100000 N_BULK=10000 N_SYNC=10000
fi
WRK_CONN=32
WRK_THREADS=2

T_START=$(date +%s)
log() { printf 'bench [%3ss]: %s\n' "$(($(date +%s) - T_START))" "$*" >&2; }
die() { log "$*"; exit 1; }

TMP=$(mktemp -d /tmp/gusto-bench.XXXXXX) || die "mktemp failed"
PIDS=""
cleanup() {
    for p in $PIDS; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in $PIDS; do
        wait "$p" 2>/dev/null
    done
    PIDS=""
    if [ "${BENCH_KEEP:-0}" = 1 ]; then log "scratch kept in $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ROWS=$TMP/rows        # name|ours|theirs   (the table)
TARGETS=$TMP/targets  # ratio lines
: >"$ROWS"
: >"$TARGETS"

# ---- helpers ---------------------------------------------------------------

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# kv KEY "k=v k=v ..." -> v
kv() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }

# row NAME OURS THEIRS: one table row; the ratio is computed when printing.
row() { printf '%s|%s|%s\n' "$1" "$2" "$3" >>"$ROWS"; }

# one NAME VALUE: a row with one number and no comparison.
one() { printf '%s|%s|=\n' "$1" "$2" >>"$ROWS"; }

# note NAME TEXT: a table row with no numbers (skipped items, remarks).
note() { printf '%s|%s|-\n' "$1" "$2" >>"$ROWS"; }

# ratio A B -> A/B with 4 significant digits, or n/a
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "n/a" || b == "n/a" || b + 0 == 0) print "n/a"; else printf "%.4g\n", a / b }'; }

# target NAME VALUE OP T [REASON]: one "ratio" line; OP is <=, >= or <.
target() {
    verdict=$(awk -v v="$2" -v op="$3" -v t="$4" 'BEGIN {
        if (v == "n/a" || v == "") { print "missed"; exit }
        ok = (op == "<=") ? (v + 0 <= t + 0) : (op == ">=") ? (v + 0 >= t + 0) : (v + 0 < t + 0)
        print ok ? "met" : "missed" }')
    line="ratio $1 $2 target $3$4 $verdict"
    [ $# -ge 5 ] && line="$line ($5)"
    printf '%s\n' "$line" >>"$TARGETS"
}

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# start NAME CMD...: start a server in the background; LAST_PID is its pid.
start() {
    name=$1
    shift
    "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    LAST_PID=$!
    PIDS="$PIDS $LAST_PID"
}

# wait_for FILE PATTERN SECONDS PID: wait until FILE has PATTERN.
wait_for() {
    i=0
    while ! grep -q "$2" "$1" 2>/dev/null; do
        kill -0 "$4" 2>/dev/null || return 1
        i=$((i + 1))
        [ $i -gt $(($3 * 20)) ] && return 1
        sleep 0.05
    done
}

# stop PID: SIGTERM one server we started and wait for it.
stop() {
    kill -TERM "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    rest=""
    for p in $PIDS; do [ "$p" = "$1" ] || rest="$rest $p"; done
    PIDS=$rest
}

# sandbox NAME ARGS...: start gusto-sandbox; sets SB_PID, SB_URL, SB_COMPANY, SB_START_MS.
sandbox() {
    name=$1
    shift
    t0=$(now_ms)
    start "$name" "$SANDBOX" --port 0 --rate-limit 0 --token "$TOKEN" "$@"
    SB_PID=$LAST_PID
    wait_for "$TMP/$name.out" '^company: ' 300 "$SB_PID" ||
        die "sandbox $name did not start: $(cat "$TMP/$name.err")"
    SB_START_MS=$(($(now_ms) - t0))
    SB_URL=$(sed -n 's/^listening on //p' "$TMP/$name.out")
    SB_COMPANY=$(sed -n 's/^company: //p' "$TMP/$name.out")
}

hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

kb_to_mib() { awk -v k="$1" 'BEGIN { if (k == "" || k == "n/a") print "n/a"; else printf "%.1f\n", k / 1024 }'; }

# ---- preparation -----------------------------------------------------------

for b in "$GUSTO" "$SANDBOX" "$BB/client_bench" "$BB/proc_time" "$BB/bare_server" "$BB/curl_once"; do
    [ -x "$b" ] || die "$b is missing: run make bench"
done
command -v node >/dev/null 2>&1 || die "node is missing (scripts/deps.sh installs it)"

if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        log "installing wrk"
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk; } >/dev/null 2>&1
    fi
fi
HAVE_WRK=1
command -v wrk >/dev/null 2>&1 || { HAVE_WRK=0; log "wrk is missing and cannot be installed: item 2 is skipped"; }

# npm ci only when the lock file changed since the last install: a full
# reinstall costs ~30 s, which bench-quick cannot afford.
stamp=$NODE_DIR/node_modules/.bench-lock
if ! cmp -s "$NODE_DIR/package-lock.json" "$stamp" 2>/dev/null; then
    log "npm ci in bench/node"
    (cd "$NODE_DIR" && SCARF_ANALYTICS=false npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2 ||
        die "npm ci failed in $NODE_DIR"
    cp "$NODE_DIR/package-lock.json" "$stamp"
fi

# Gusto's spec, kept in the repository (spec/SOURCE.md); GUSTO_SPEC overrides.
GUSTO_SPEC=${GUSTO_SPEC:-$ROOT/spec/gusto-api-2025-06-15.openapi.yaml}

have_cmd() { "$GUSTO" help "$1" >/dev/null 2>&1; }

# ---- 1. the client against Gusto's TypeScript SDK --------------------------

log "1. client vs SDK: sandbox with $N_LIST employees"
sandbox sbA --seed-employees "$N_LIST"
A_URL=$SB_URL
A_CO=$SB_COMPANY
UUIDS=$TMP/uuids.txt
"$BB/client_bench" uuids "$A_URL" "$TOKEN" "$A_CO" "$N_GET" "$UUIDS" >/dev/null ||
    die "cannot read employee uuids"
U1=$(head -n 1 "$UUIDS")
SAMPLES=$TMP/samples   # KEY wall cpu rss requests

# sample KEY CMD...: run one measurement that prints mode=... wall_ms=...
sample() {
    key=$1
    shift
    out=$("$@" 2>>"$TMP/sample.err") || { log "failed: $*"; tail -n 5 "$TMP/sample.err" >&2; return 1; }
    printf '%s %s %s %s %s\n' "$key" "$(kv wall_ms "$out")" "$(kv cpu_ms "$out")" \
        "$(kv maxrss_kb "$out")" "$(kv requests "$out")" >>"$SAMPLES"
}
# med KEY FIELD(2 wall, 3 cpu, 4 rss, 5 requests)
med() { awk -v k="$1" -v f="$2" '$1 == k { print $f }' "$SAMPLES" | median; }

CB="$BB/client_bench"
SDKB="$NODE_DIR/sdk_bench.mjs"
# The sandbox caches rendered employees (src/sandbox/rcache.c): the first
# list after its start renders every employee, later ones splice cached
# text.  That first list is made here, outside the medians, so that every
# side's timed lists are warm (with one rep, ours would otherwise be cold).
log "  (a) first list after the sandbox started (render cache cold)"
sample a.cold "$CB" list "$A_URL" "$TOKEN" "$A_CO"
rep=1
while [ $rep -le $REPS ]; do
    log "  rep $rep/$REPS: (a) list $N_LIST, (b) get $N_GET"
    sample a.ours "$CB" list "$A_URL" "$TOKEN" "$A_CO"
    sample a.sdk node "$SDKB" sdk list "$A_URL" "$TOKEN" "$A_CO"
    sample a.func node "$SDKB" func list "$A_URL" "$TOKEN" "$A_CO"
    sample b.ours "$CB" get "$A_URL" "$TOKEN" "$A_CO" "$N_GET" "$UUIDS"
    sample b.full "$CB" getfull "$A_URL" "$TOKEN" "$A_CO" "$N_GET" "$UUIDS"
    sample b.sdk node "$SDKB" sdk get "$A_URL" "$TOKEN" "$A_CO" "$N_GET" "$UUIDS"
    sample b.func node "$SDKB" func get "$A_URL" "$TOKEN" "$A_CO" "$N_GET" "$UUIDS"
    rep=$((rep + 1))
done
# Creating changes the company, so it comes after every list.
rep=1
while [ $rep -le $REPS ]; do
    log "  rep $rep/$REPS: (c) create $N_CREATE with home address, job, compensation"
    sample c.ours "$CB" create "$A_URL" "$TOKEN" "$A_CO" "$N_CREATE" "o$rep"
    sample c.sdk node "$SDKB" sdk create "$A_URL" "$TOKEN" "$A_CO" "$N_CREATE" "s$rep"
    sample c.func node "$SDKB" func create "$A_URL" "$TOKEN" "$A_CO" "$N_CREATE" "f$rep"
    rep=$((rep + 1))
done

# (d): whole processes, one call each, the median of D_RUNS runs.
log "  (d) one process, one call: $D_RUNS runs each"
pt() { # KEY CMD...: proc_time the command
    key=$1
    shift
    out=$("$BB/proc_time" -r "$D_RUNS" -- "$@" 2>>"$TMP/sample.err") || log "failed: $*"
    printf '%s %s %s %s 1\n' "$key" "$(kv wall_ms "$out")" "$(kv cpu_ms "$out")" \
        "$(kv maxrss_kb "$out")" >>"$SAMPLES"
}
GUSTO_API_BASE_URL=$A_URL
export GUSTO_API_BASE_URL
pt d.ours "$GUSTO" api GET "/v1/employees/$U1"
pt d.lib "$CB" one "$A_URL" "$TOKEN" "" "$U1"
pt d.curl "$BB/curl_once" "$A_URL/v1/employees/$U1"
pt d.sdk node "$NODE_DIR/one_sdk.mjs" "$A_URL" "$TOKEN" "$U1"
pt d.func node "$NODE_DIR/one_func.mjs" "$A_URL" "$TOKEN" "$U1"
stop "$SB_PID"

for it in a b c d; do
    case $it in
        a) what="list $N_LIST" ;;
        b) what="get $N_GET one by one" ;;
        c) what="create $N_CREATE with 3 parts" ;;
        d) what="process + one call" ;;
    esac
    for side in sdk func; do
        row "1$it $what: wall ms vs $side" "$(med $it.ours 2)" "$(med $it.$side 2)"
        row "1$it $what: cpu ms vs $side" "$(med $it.ours 3)" "$(med $it.$side 3)"
        row "1$it $what: peak MiB vs $side" "$(kb_to_mib "$(med $it.ours 4)")" "$(kb_to_mib "$(med $it.$side 4)")"
    done
    case $it in
        a | b | c) row "1$it $what: requests (ours vs sdk)" "$(med $it.ours 5)" "$(med $it.sdk 5)" ;;
    esac
done
A_COLD=$(med a.cold 2)
one "1a list $N_LIST, first list after the sandbox started (render cache cold): wall ms" "${A_COLD:-n/a}"
row "1b get $N_GET with gusto_employee_get (2 req): wall ms vs sdk" "$(med b.full 2)" "$(med b.sdk 2)"
row "1d process + one call, libgusto program: wall ms vs func" "$(med d.lib 2)" "$(med d.func 2)"
row "1d process + one call, libgusto program: peak MiB vs func" "$(kb_to_mib "$(med d.lib 4)")" "$(kb_to_mib "$(med d.func 4)")"
# The floor: a program that makes one libcurl GET and nothing else.
row "1d floor, one libcurl GET in C (bench/curl_once): wall ms vs func" "$(med d.curl 2)" "$(med d.func 2)"
row "1d floor, one libcurl GET in C (bench/curl_once): peak MiB vs func" "$(kb_to_mib "$(med d.curl 4)")" "$(kb_to_mib "$(med d.func 4)")"

# Requests per onboarding (home address, job, pay; company known): the
# least Gusto's API allows is 4 (POST employee, POST home address, POST job,
# PUT its compensation); libgusto reads the result once more (5), Gusto's
# SDK, as sdk_bench.mjs drives it, makes what it makes.
C_OURS_REQ=$(ratio "$(med c.ours 5)" "$N_CREATE")
C_SDK_REQ=$(ratio "$(med c.sdk 5)" "$N_CREATE")
row "1c requests per onboarding: ours vs the minimum (4)" "$C_OURS_REQ" 4
row "1c requests per onboarding: ours vs sdk" "$C_OURS_REQ" "$C_SDK_REQ"
target client_create_requests_vs_min "$(ratio "$C_OURS_REQ" 4)" "<=" 1.25
# One process, one call: a libgusto program against a C program making one
# libcurl GET and nothing else, measured in the same run.
row "1d process + one call: libgusto program vs one libcurl GET in C (wall ms)" \
    "$(med d.lib 2)" "$(med d.curl 2)"
target oneshot_wall_vs_curl "$(ratio "$(med d.lib 2)" "$(med d.curl 2)")" "<=" 1.15
target client_list_wall "$(ratio "$(med a.ours 2)" "$(med a.sdk 2)")" "<=" 0.2
target client_list_mem "$(ratio "$(med a.ours 4)" "$(med a.sdk 4)")" "<=" 0.2
target client_get_wall "$(ratio "$(med b.ours 2)" "$(med b.sdk 2)")" "<=" 0.1
target client_get_mem "$(ratio "$(med b.ours 4)" "$(med b.sdk 4)")" "<=" 0.2
target client_create_wall "$(ratio "$(med c.ours 2)" "$(med c.sdk 2)")" "<=" 0.2
target client_create_mem "$(ratio "$(med c.ours 4)" "$(med c.sdk 4)")" "<=" 0.2
# target_d NAME FIELD T: a (d) target; when even the libcurl floor
# (bench/curl_once) misses T, the line says so.
target_d() {
    v=$(ratio "$(med d.ours "$2")" "$(med d.func "$2")")
    f=$(ratio "$(med d.curl "$2")" "$(med d.func "$2")")
    if awk -v f="$f" -v t="$3" 'BEGIN { exit !(f != "n/a" && f + 0 > t + 0) }'; then
        target "$1" "$v" "<=" "$3" "a C program making one libcurl GET and nothing else: $f"
    else
        target "$1" "$v" "<=" "$3"
    fi
}
target_d oneshot_wall_vs_func 2 0.025
target_d oneshot_mem_vs_func 4 0.1

# ---- 2. the sandbox against Prism and a bare libmicrohttpd server ----------

# wrk_run NAME URL: wrk at WRK_CONN connections; appends "NAME rps p50 p99 non2xx" to WRK
WRK=$TMP/wrk
: >"$WRK"
wrk_run() {
    if [ "$WRK_WARM" -gt 0 ]; then
        wrk -t"$WRK_THREADS" -c"$WRK_CONN" -d"${WRK_WARM}s" -H "Authorization: Bearer $TOKEN" \
            -H "X-Gusto-API-Version: $API_VERSION" "$2" >/dev/null 2>&1
    fi
    wrk -t"$WRK_THREADS" -c"$WRK_CONN" -d"${WRK_DUR}s" --latency -H "Authorization: Bearer $TOKEN" \
        -H "X-Gusto-API-Version: $API_VERSION" "$2" >"$TMP/wrk-$1.txt" 2>&1
    awk -v name="$1" '
        function ms(s) {
            if (s ~ /us$/) return substr(s, 1, length(s) - 2) / 1000
            if (s ~ /ms$/) return substr(s, 1, length(s) - 2) + 0
            if (s ~ /s$/) return substr(s, 1, length(s) - 1) * 1000
            return s + 0
        }
        /^Requests\/sec:/ { rps = $2 }
        $1 == "50%" { p50 = ms($2) }
        $1 == "99%" { p99 = ms($2) }
        /Non-2xx or 3xx responses:/ { bad = $NF }
        END { printf "%s %s %s %s %s\n", name, rps == "" ? "n/a" : rps, p50 == "" ? "n/a" : p50,
                     p99 == "" ? "n/a" : p99, bad == "" ? 0 : bad }' "$TMP/wrk-$1.txt" >>"$WRK"
}
wv() { awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$WRK"; }

# Prism: prism_start launches it, prism_wait waits for "Prism is listening".
PRISM_OK=0
PRISM_PID=""
prism_start() {
    [ -n "${GUSTO_SPEC:-}" ] && [ -f "$GUSTO_SPEC" ] || {
        log "Gusto's OpenAPI spec not found (set GUSTO_SPEC): Prism is skipped"
        return 1
    }
    PPORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
    PRISM_T0=$(now_ms)
    # Prism's default log level (info) writes lines per request; the bench
    # keeps it, as a user running `prism mock` would have it.
    start prism node "$NODE_DIR/node_modules/@stoplight/prism-cli/dist/index.js" mock \
        -h 127.0.0.1 -p "$PPORT" "$GUSTO_SPEC"
    PRISM_PID=$LAST_PID
}
prism_wait() {
    [ -n "$PRISM_PID" ] || return 1
    if wait_for "$TMP/prism.out" 'Prism is listening' 120 "$PRISM_PID"; then
        PRISM_START=$(($(now_ms) - PRISM_T0))
        PRISM_OK=1
        log "  Prism started in $PRISM_START ms"
    else
        log "Prism did not start: $(tail -n 3 "$TMP/prism.err")"
        stop "$PRISM_PID"
        PRISM_PID=""
        return 1
    fi
}

if [ $HAVE_WRK = 1 ]; then
    # bench-quick starts Prism while the sandbox seeds, to save its ~5 s start.
    [ $QUICK = 1 ] && prism_start
    log "2. servers: sandbox with $N_BIG employees"
    sandbox sbB --seed-employees "$N_BIG"
    B_PID=$SB_PID
    B_URL=$SB_URL
    B_CO=$SB_COMPANY
    B_START=$SB_START_MS
    [ $QUICK = 1 ] && prism_wait
    "$BB/client_bench" uuids "$B_URL" "$TOKEN" "$B_CO" 1 "$TMP/uuidB.txt" >/dev/null
    UB=$(head -n 1 "$TMP/uuidB.txt")
    GET_PATH=/v1/employees/$UB
    LIST_PATH="/v1/companies/$B_CO/employees?page=1&per=100"
    curl -s -H "Authorization: Bearer $TOKEN" "$B_URL$GET_PATH" >"$TMP/get.json"
    curl -s -H "Authorization: Bearer $TOKEN" "$B_URL$LIST_PATH" >"$TMP/list.json"

    start bare "$BB/bare_server" --port 0 --get "$TMP/get.json" --list "$TMP/list.json"
    BARE_PID=$LAST_PID
    wait_for "$TMP/bare.out" '^listening on ' 10 "$BARE_PID" || die "bare_server did not start"
    BARE_URL=$(sed -n 's/^listening on //p' "$TMP/bare.out")

    log "  wrk ${WRK_DUR}s at $WRK_CONN connections: sandbox, bare server"
    wrk_run sb.get "$B_URL$GET_PATH"
    wrk_run sb.list "$B_URL$LIST_PATH"
    wrk_run bare.get "$BARE_URL$GET_PATH"
    wrk_run bare.list "$BARE_URL$LIST_PATH"
    stop "$BARE_PID"
    SB_HWM=$(hwm_kb "$B_PID")
    stop "$B_PID"

    [ $QUICK = 1 ] || { prism_start && prism_wait; }
    if [ $PRISM_OK = 1 ]; then
        log "  wrk ${WRK_DUR}s at $WRK_CONN connections: Prism"
        wrk_run prism.get "http://127.0.0.1:$PPORT$GET_PATH"
        wrk_run prism.list "http://127.0.0.1:$PPORT$LIST_PATH"
        PRISM_HWM=$(hwm_kb "$PRISM_PID")
        curl -s -o "$TMP/prism-list.json" -H "Authorization: Bearer $TOKEN" \
            "http://127.0.0.1:$PPORT$LIST_PATH"
    fi
    [ -n "$PRISM_PID" ] && stop "$PRISM_PID"

    for ep in get list; do
        case $ep in get) what="GET employee" ;; list) what="list per=100" ;; esac
        row "2 $what: req/s sandbox vs bare" "$(wv sb.$ep 2)" "$(wv bare.$ep 2)"
        row "2 $what: p50 ms sandbox vs bare" "$(wv sb.$ep 3)" "$(wv bare.$ep 3)"
        row "2 $what: p99 ms sandbox vs bare" "$(wv sb.$ep 4)" "$(wv bare.$ep 4)"
        if [ $PRISM_OK = 1 ]; then
            row "2 $what: req/s sandbox vs Prism" "$(wv sb.$ep 2)" "$(wv prism.$ep 2)"
            row "2 $what: p50 ms sandbox vs Prism" "$(wv sb.$ep 3)" "$(wv prism.$ep 3)"
            row "2 $what: p99 ms sandbox vs Prism" "$(wv sb.$ep 4)" "$(wv prism.$ep 4)"
        fi
    done
    row "2 sandbox start with $N_BIG employees: ms (vs Prism start)" "$B_START" "${PRISM_START:-n/a}"
    row "2 peak MiB: sandbox with $N_BIG employees vs Prism" "$(kb_to_mib "$SB_HWM")" "$(kb_to_mib "${PRISM_HWM:-n/a}")"
    lb=$(wc -c <"$TMP/list.json")
    pb=$(wc -c <"$TMP/prism-list.json" 2>/dev/null || echo n/a)
    row "2 list per=100 body bytes: sandbox vs Prism (Prism returns its example)" "$lb" "$pb"
    bad=$(awk '$5 != 0 { printf "%s:%s ", $1, $5 }' "$WRK")
    [ -n "$bad" ] && note "2 non-2xx responses under wrk" "$bad"

    if [ $PRISM_OK = 1 ]; then
        target sandbox_vs_prism_get_rps "$(ratio "$(wv sb.get 2)" "$(wv prism.get 2)")" ">=" 20
    else
        target sandbox_vs_prism_get_rps n/a ">=" 20 "Prism did not run"
    fi
    target sandbox_vs_bare_get_rps "$(ratio "$(wv sb.get 2)" "$(wv bare.get 2)")" ">=" 0.5
    target sandbox_get_p99_ms "$(wv sb.get 4)" "<" 5
else
    note "2 servers" "skipped (wrk missing)"
    target sandbox_vs_prism_get_rps n/a ">=" 20 "wrk missing"
    target sandbox_vs_bare_get_rps n/a ">=" 0.5 "wrk missing"
    target sandbox_get_p99_ms n/a "<" 5 "wrk missing"
fi

# ---- 3. bulk onboarding: one by one against people batches -----------------

# Requests are counted by the sandbox itself (--log: one stderr line per request).
reqs() { n=$(grep -c ' [0-9][0-9][0-9] ' "$TMP/$1.err" 2>/dev/null); echo "${n:-0}"; }

log "3. bulk onboarding of $N_BULK employees"
sandbox sbC --log
C_URL=$SB_URL
C_CO=$SB_COMPANY
r0=$(reqs sbC)
out=$("$CB" create "$C_URL" "$TOKEN" "$C_CO" "$N_BULK" bulk 2>>"$TMP/sample.err")
r1=$(reqs sbC)
ONE_WALL=$(kv wall_ms "$out")
ONE_REQ=$((r1 - r0))
if have_cmd batch; then
    # The input: a JSON array of batch entries with the same nested parts.
    awk -v n="$N_BULK" 'BEGIN {
        printf "["
        for (i = 0; i < n; i++)
            printf "%s{\"person\":{\"external_id\":\"bulk-%d\",\"first_name\":\"Batch\",\"last_name\":\"B%d\",\"email\":\"batch.%d@example.com\",\"date_of_birth\":\"1990-01-01\"},\"home_address\":{\"street_1\":\"1 Main St\",\"city\":\"Austin\",\"state\":\"TX\",\"zip\":\"78701\"},\"job\":{\"title\":\"Engineer\",\"hire_date\":\"2025-01-06\"},\"compensation\":{\"rate\":\"90000.00\",\"payment_unit\":\"Year\",\"flsa_status\":\"Exempt\"}}", (i ? "," : ""), i, i, i
        print "]" }' >"$TMP/people.json"
    r0=$(reqs sbC)
    GUSTO_API_BASE_URL=$C_URL
    out=$("$BB/proc_time" -r 1 -o "$TMP/batch.out" -- \
        "$GUSTO" --rate-limit 0 batch create --input "$TMP/people.json" --wait 2>>"$TMP/sample.err")
    brc=$?
    r1=$(reqs sbC)
    if [ $brc = 0 ]; then
        BATCH_WALL=$(kv wall_ms "$out")
        BATCH_REQ=$((r1 - r0))
        row "3 onboard $N_BULK: wall ms, batches vs one by one" "$BATCH_WALL" "$ONE_WALL"
        row "3 onboard $N_BULK: requests, batches vs one by one" "$BATCH_REQ" "$ONE_REQ"
        target bulk_batch_vs_onebyone_wall "$(ratio "$BATCH_WALL" "$ONE_WALL")" "<=" 1
    else
        note "3 onboard $N_BULK with batches" "failed: $(head -c 200 "$TMP/batch.out")"
        one "3 onboard $N_BULK one by one: wall ms" "$ONE_WALL"
        one "3 onboard $N_BULK one by one: requests" "$ONE_REQ"
        target bulk_batch_vs_onebyone_wall n/a "<=" 1 "gusto-connect batch create failed"
    fi
else
    note "3 onboard $N_BULK with batches" "skipped (not built)"
    one "3 onboard $N_BULK one by one: wall ms" "$ONE_WALL"
    one "3 onboard $N_BULK one by one: requests" "$ONE_REQ"
    target bulk_batch_vs_onebyone_wall n/a "<=" 1 "skipped: gusto-connect batch not built"
fi
stop "$SB_PID"

# ---- 4. sync: a full sync, then an unchanged re-sync ----------------------

log "4. sync of $N_SYNC employees"
if have_cmd sync; then
    sandbox sbD --log --seed-employees "$N_SYNC"
    D_URL=$SB_URL
    GUSTO_API_BASE_URL=$D_URL
    MIRROR=$TMP/mirror.db
    sync_once() {
        r0=$(reqs sbD)
        out=$("$BB/proc_time" -r 1 -o "$TMP/sync.out" -- \
            "$GUSTO" --rate-limit 0 sync --db "$MIRROR" --no-progress 2>>"$TMP/sample.err")
        src=$?
        r1=$(reqs sbD)
        S_WALL=$(kv wall_ms "$out")
        S_REQ=$((r1 - r0))
        return $src
    }
    if sync_once; then
        FULL_WALL=$S_WALL FULL_REQ=$S_REQ
        if sync_once; then
            RE_WALL=$S_WALL RE_REQ=$S_REQ
            row "4 sync $N_SYNC: wall ms, re-sync vs full sync" "$RE_WALL" "$FULL_WALL"
            row "4 sync $N_SYNC: requests, re-sync vs full sync" "$RE_REQ" "$FULL_REQ"
            one "4 full sync: requests per employee" "$(ratio "$FULL_REQ" "$N_SYNC")"
            one "4 unchanged re-sync: requests per employee" "$(ratio "$RE_REQ" "$N_SYNC")"
            target resync_requests_per_employee "$(ratio "$RE_REQ" "$N_SYNC")" "<=" 0.02
        else
            note "4 re-sync" "failed: $(head -c 200 "$TMP/sync.out")"
            target resync_requests_per_employee n/a "<=" 0.02 "gusto-connect sync failed on re-sync"
        fi
    else
        note "4 full sync" "failed: $(head -c 200 "$TMP/sync.out")"
        target resync_requests_per_employee n/a "<=" 0.02 "gusto-connect sync failed"
    fi
    stop "$SB_PID"
else
    note "4 sync $N_SYNC" "skipped (not built)"
    target resync_requests_per_employee n/a "<=" 0.02 "skipped: gusto-connect sync not built"
fi

# ---- 5. MCP: a self-service answer from a fresh mirror (issue 16) ---------

log "5. MCP self-service answers over HTTP"
N_MCP=2000
[ $QUICK = 1 ] && N_MCP=300
if have_cmd mcp && out=$(GUSTO=$GUSTO node "$NODE_DIR/mcp_bench.mjs" "$N_MCP" 2>>"$TMP/sample.err"); then
    P99=$(printf '%s\n' "$out" | sed -n 's/.* p99 \([0-9.]*\) ms.*/\1/p')
    PER=$(printf '%s\n' "$out" | sed -n 's/.*requests to Gusto per answer: \([0-9.e-]*\).*/\1/p')
    one "5 mcp my_time_off over HTTP, $N_MCP calls: p99 ms" "${P99:-n/a}"
    one "5 mcp: requests to Gusto per answer" "${PER:-n/a}"
    target mcp_selfservice_p99_ms "${P99:-n/a}" "<=" 5
    target mcp_gusto_requests_per_answer "${PER:-n/a}" "<=" 0
else
    note "5 mcp" "failed or not built: $(tail -c 200 "$TMP/sample.err")"
    target mcp_selfservice_p99_ms n/a "<=" 5 "bench/node/mcp_bench.mjs failed"
fi

# ---- 6. serve replicas on PostgreSQL against one on SQLite (issue 18) -----

log "6. serve: two replicas on PostgreSQL against one on SQLite"
rep_args=--rows
[ $QUICK = 1 ] && rep_args="--rows --quick"
# shellcheck disable=SC2086
if out=$(BUILD=$BUILD "$ROOT/bench/replicas.sh" $rep_args 2>>"$TMP/sample.err"); then
    printf '%s\n' "$out" >>"$ROWS"
    PGRPS=$(printf '%s\n' "$out" | awk -F'|' '/actions\/s/ { print $2 }')
    LITERPS=$(printf '%s\n' "$out" | awk -F'|' '/actions\/s/ { print $3 }')
    R=$(awk -v a="$PGRPS" -v b="$LITERPS" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2f\n", a / b; else print "n/a" }')
    # Both setups share this machine's cores, so two replicas cannot add
    # capacity here; the target is that sharing PostgreSQL costs little.
    target serve_replicas_pg_vs_sqlite_actions "$R" ">=" 0.7
    # A rate of refusals measures nothing: every answer must be a 2xx.
    BAD=$(printf '%s\n' "$out" | awk -F'|' '/non-2xx/ { print $2 }')
    target serve_replicas_non2xx_answers "${BAD:-n/a}" "<=" 0
else
    note "6 serve replicas" "failed: $(tail -c 200 "$TMP/sample.err")"
    target serve_replicas_pg_vs_sqlite_actions n/a ">=" 0.7 "bench/replicas.sh failed"
fi

# ---- 7. a refresh storm: 64 calls at token expiry (issue 18) ---------------

log "7. refresh storm: 64 calls at expiry, on a SQLite and a PostgreSQL store"
storm_args=--rows
[ $QUICK = 1 ] && storm_args="--rows --quick"
# shellcheck disable=SC2086
if out=$(BUILD=$BUILD "$ROOT/bench/refresh_storm.sh" $storm_args 2>>"$TMP/sample.err"); then
    printf '%s\n' "$out" >>"$ROWS"
    # field NAME_PART COLUMN: a number from the rows
    sfield() { printf '%s\n' "$out" | awk -F'|' -v k="$1" -v c="$2" 'index($1, k) { print $c; exit }'; }
    for st in SQLite PostgreSQL; do
        a=$(sfield "$st store" 2 | head -n 1)
        b=$(sfield "$st store" 3 | head -n 1)
        R=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f\n", a / b; else print "n/a" }')
        # The storm's first answer waits for one refresh (one round trip to
        # Gusto) and nothing else: within 2x the same storm with a fresh token.
        target "refresh_storm_first_answer_vs_fresh_$(echo $st | tr 'A-Z' 'a-z')" "$R" "<=" 2
    done
    REF=$(sfield "refreshes at the sandbox" 2)
    REFPG=$(sfield "refreshes at the sandbox" 3)
    OFF=$(awk -v a="$REF" -v b="$REFPG" 'BEGIN { if (a == "" || b == "") print "n/a"; else print (a > 1 ? a - 1 : 1 - a) + (b > 1 ? b - 1 : 1 - b) }')
    # Exactly one refresh per storm: none would mean nothing was measured.
    target refresh_storm_refreshes_off_by "$OFF" "<=" 0
    FAILED=$(awk -v a="$(sfield "failed calls" 2)" -v b="$(sfield "failed calls" 3)" 'BEGIN { if (a == "" || b == "") print "n/a"; else print a + b }')
    target refresh_storm_failed_calls "$FAILED" "<=" 0
else
    note "7 refresh storm" "failed: $(tail -c 200 "$TMP/sample.err")"
    target refresh_storm_first_answer_vs_fresh_sqlite n/a "<=" 2 "bench/refresh_storm.sh failed"
fi

# ---- report ------------------------------------------------------------------

mode=full
[ $QUICK = 1 ] && mode=quick
printf 'gusto-connect bench (%s) on %s, %s cores, %s\n' "$mode" "$(uname -m)" "$(nproc)" \
    "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
printf 'load average at the end: %s\n\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
awk -F'|' '
    { name[NR] = $1; a[NR] = $2; b[NR] = $3; if (length($1) > w) w = length($1) }
    END {
        printf "%-" w "s  %12s  %12s  %10s\n", "name", "ours", "theirs", "ours/theirs"
        for (i = 1; i <= NR; i++) {
            if (b[i] == "-") { printf "%-" w "s  %s\n", name[i], a[i]; continue }
            if (b[i] == "=") { printf "%-" w "s  %12s\n", name[i], a[i]; continue }
            r = (a[i] == "n/a" || b[i] == "n/a" || b[i] + 0 == 0) ? "n/a" : sprintf("%.4g", a[i] / b[i])
            printf "%-" w "s  %12s  %12s  %10s\n", name[i], a[i], b[i], r
        }
    }' "$ROWS"
echo
cat "$TARGETS"
