# procs.sh - background processes and free ports for the shell stages that
# manage their own (connect_test.sh, sync_test.sh): track/untrack/stop a pid
# in $pids, and a TCP port on 127.0.0.1 that nobody listens on.
# shellcheck shell=sh
# Source it after setting pids="".  Needs curl.

track() { pids="$pids $1"; }
untrack() {
    rest=""
    for p in $pids; do [ "$p" = "$1" ] || rest="$rest $p"; done
    pids=$rest
}
# stop PID: SIGTERM, wait, forget.
stop() {
    kill "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    untrack "$1"
}

# A TCP port on 127.0.0.1 that nobody listens on (curl: "couldn't connect").
# Below Linux's ephemeral range, so a server started with --port 0 cannot
# take it meanwhile.
free_port() {
    while :; do
        fp=$(($(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000 + 20000))
        curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$fp/"
        [ $? -eq 7 ] && break
    done
    echo "$fp"
}
