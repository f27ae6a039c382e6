# common.sh - shared by the shell stages (concurrency, valgrind, security, soak): counters with "ok -"/"not ok -" lines, a temporary directory, and gusto-sandbox processes on 127.0.0.1 that are always stopped on exit.
# shellcheck shell=sh
# Source it from tests/NAME.sh after `cd` to the repository root.  Sets
# GUSTO, SANDBOX (absolute), T (temp dir).  KEEP=1 keeps T.

GUSTO=${GUSTO:-build/gusto-connect}
SANDBOX=${GUSTO_SANDBOX:-build/gusto-sandbox}
case $GUSTO in /*) ;; *) GUSTO=$(pwd)/$GUSTO ;; esac
case $SANDBOX in /*) ;; *) SANDBOX=$(pwd)/$SANDBOX ;; esac
pass=0
fail=0
sb_pids=""
T=$(mktemp -d) || exit 1
# No stored connection or ambient setting leaks in from the machine.
export GUSTO_STORE="$T/connections.db"
unset GUSTO_CONNECTION GUSTO_STORE_KEY GUSTO_ENV GUSTO_ENVIRONMENT GUSTO_COMPANY_UUID GUSTO_API_BASE_URL \
    GUSTO_ACCESS_TOKEN

common_cleanup() {
    for p in $sb_pids; do
        kill "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    if [ -n "${KEEP:-}" ]; then
        echo "# files kept in $T"
    else
        rm -rf "$T"
    fi
}
trap common_cleanup EXIT
trap 'exit 1' INT TERM HUP

ok() {
    pass=$((pass + 1))
    echo "ok - $1"
}
not_ok() {
    fail=$((fail + 1))
    echo "not ok - $1"
    shift
    for line in "$@"; do echo "#   $line"; done
}
# check NAME COMMAND...: passes when COMMAND succeeds.
check() {
    name=$1
    shift
    if "$@"; then ok "$name"; else not_ok "$name"; fi
}
# lacks MODE PATTERN FILE...: passes when no FILE holds PATTERN (grep -MODE:
# F fixed, E extended, aF/aE also in binary files), and every FILE exists and
# something was searched.  A bare `! grep` passes when a file is missing,
# so an absence check could pass by testing nothing.
lacks() {
    mode=$1
    pat=$2
    shift 2
    [ $# -gt 0 ] || { echo "# lacks: no file to search" >&2; return 1; }
    total=0
    for f in "$@"; do
        [ -f "$f" ] || { echo "# lacks: $f does not exist" >&2; return 1; }
        total=$((total + $(wc -c <"$f")))
    done
    [ "$total" -gt 0 ] || { echo "# lacks: $* are all empty" >&2; return 1; }
    grep -q"$mode" -e "$pat" -- "$@"
    [ $? -eq 1 ]
}
finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
# bail MESSAGE: a setup failure ends the stage with one failure.
bail() {
    not_ok "$1"
    finish
    exit 1
}

# sb_start NAME [SANDBOX-BINARY-PREFIX...] -- ARGS...: start a sandbox on a
# free port with ARGS; sets URL, COMPANY, SB_PID; output in $T/NAME.out and
# $T/NAME.log.  Words before "--" prefix the command (e.g. valgrind ...).
sb_start() {
    name=$1
    shift
    pre=""
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
        pre="$pre $1"
        shift
    done
    [ $# -gt 0 ] && shift
    # shellcheck disable=SC2086  # pre is a word list
    $pre "$SANDBOX" --port 0 "$@" >"$T/$name.out" 2>"$T/$name.log" &
    SB_PID=$!
    sb_pids="$sb_pids $SB_PID"
    i=0
    while [ $i -lt 300 ] && ! grep -q '^company: ' "$T/$name.out" 2>/dev/null; do
        if ! kill -0 "$SB_PID" 2>/dev/null; then break; fi
        sleep 0.1
        i=$((i + 1))
    done
    URL=$(sed -n 's/^listening on //p' "$T/$name.out" | head -n 1)
    COMPANY=$(sed -n 's/^company: //p' "$T/$name.out" | head -n 1)
    [ -n "$URL" ] && [ -n "$COMPANY" ]
}

# sb_stop PID: SIGTERM and wait; returns the sandbox's exit status.
sb_stop() {
    kill "$1" 2>/dev/null
    wait "$1"
    st=$?
    sb_pids=$(echo "$sb_pids" | tr ' ' '\n' | grep -v -x "$1" | tr '\n' ' ')
    return $st
}

# rss_kb PID: resident set size in KiB, from /proc.
rss_kb() {
    awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null
}

# sb_stop_check NAME PID: stop the sandbox started as NAME and check that it
# exited 0 with no sanitizer report in its stderr.
sb_stop_check() {
    sb_stop "$2"
    st=$?
    if [ "$st" -eq 0 ] && ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$T/$1.log"; then
        ok "the sandbox stopped cleanly (exit 0, no sanitizer report)"
    else
        not_ok "the sandbox stopped with exit $st" "$(grep -m3 -E 'ERROR|runtime error' "$T/$1.log")"
    fi
}
