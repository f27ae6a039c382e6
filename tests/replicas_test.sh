#!/bin/sh
# replicas_test.sh - many machines, one PostgreSQL (issue 18): two
# `gusto-connect serve` replicas on different ports, each with its own HOME
# and its own SQLite connection store (no shared file), both on one
# PostgreSQL database for serve's state.  A key added through one works on
# the other and a removed one stops on both; one webhook event delivered to
# both is handled once; an Idempotency-Key replayed on the other replica
# gets the first answer; queued syncs are taken by both replicas' workers,
# each entry once; a replica killed -9 holding an entry loses it to the
# other after the queue lease; SIGTERM gives an entry back at once.  Then
# two `gusto-connect sync` workers with their own HOMEs on one PostgreSQL
# mirror: one killed -9 mid-sync is replaced after its lease with no event
# lost or duplicated, and Ctrl-C releases the lease at once.  Last, one
# database for everything: the connection store and the mirror, used from
# two HOMEs that hold no file.
#
# Everything runs on 127.0.0.1 in one mktemp directory, against its own
# gusto-sandbox processes and its own PostgreSQL server (tests/pg.sh), all
# stopped on exit.  Needs curl, jq, openssl and PostgreSQL's server binaries.
# Environment: GUSTO (build/gusto-connect), GUSTO_SANDBOX (build/gusto-sandbox),
# KEEP=1 keeps the directory.  Prints "ok - NAME" / "not ok - NAME" and ends
# with "N passed, N failed"; exits 1 on a failure.
set -u
cd "$(dirname "$0")/.." || exit 1

GUSTO=${GUSTO:-build/gusto-connect}
SANDBOX=${GUSTO_SANDBOX:-build/gusto-sandbox}
case $GUSTO in /*) ;; *) GUSTO=$(pwd)/$GUSTO ;; esac
case $SANDBOX in /*) ;; *) SANDBOX=$(pwd)/$SANDBOX ;; esac

pass=0
fail=0
pids=""
T=$(mktemp -d) || exit 1
# track, untrack, stop, free_port
. tests/procs.sh
# PGBIN, as_pg, pg_start, pg_stop, pg_createdb
. tests/pg.sh

cleanup() {
    for p in $pids; do kill -9 "$p" 2>/dev/null; done
    for p in $pids; do wait "$p" 2>/dev/null; done
    pids=""
    pg_stop
    if [ -n "${KEEP:-}" ]; then echo "# files kept in $T and $PGDIR"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

unset GUSTO_ACCESS_TOKEN GUSTO_CONNECTION GUSTO_STORE_KEY GUSTO_COMPANY_UUID \
    GUSTO_API_BASE_URL GUSTO_ENV GUSTO_SYNC_DB XDG_CONFIG_HOME XDG_DATA_HOME \
    GUSTO_SERVE_PORT GUSTO_SERVE_DB GUSTO_SERVE_MIRROR GUSTO_SERVE_BIND GUSTO_STORE \
    GUSTO_CLIENT_ID GUSTO_CLIENT_SECRET PGPASSWORD DISPLAY WAYLAND_DISPLAY BROWSER
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY='*'
export GUSTO_SERVE_WEBHOOK_TOKEN=replicas-webhook-secret
# The queue lease of both replicas: short, so a dead replica's entry is
# free again within the test (docs/serve.md: 300 s by default).
export GUSTO_SERVE_QUEUE_LEASE_MS=3000

ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() {
    fail=$((fail + 1))
    echo "not ok - $1"
    [ $# -gt 1 ] && printf '%s\n' "$2" | head -c 1500 | sed 's/^/#   /'
    return 0
}
# check NAME COND [DETAIL]
check() { if eval "$2"; then ok "$1"; else not_ok "$1" "${3:-}"; fi; }
summary() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit $?
}

for tool in curl jq openssl; do
    command -v $tool >/dev/null 2>&1 || { not_ok "$tool is installed (scripts/deps.sh)"; summary; }
done
if [ ! -x "$GUSTO" ] || [ ! -x "$SANDBOX" ]; then
    not_ok "$GUSTO and $SANDBOX are built (make)"
    summary
fi
if ! pg_available; then
    not_ok "PostgreSQL's server binaries are installed (scripts/deps.sh: postgresql)"
    summary
fi
if pg_start; then
    ok "a PostgreSQL server of our own runs on 127.0.0.1:$PGPORT"
else
    not_ok "a PostgreSQL server of our own runs" "$(pg_log)"
    summary
fi
DB=$(pg_createdb serve) || { not_ok "database serve created"; summary; }
MIRROR=$(pg_createdb mirror) || { not_ok "database mirror created"; summary; }
# psql SQL: one answer from serve's database
q() { as_pg psql -At -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d serve -c "$1" 2>&1; }
MDB=mirror
qm() { as_pg psql -At -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d "$MDB" -c "$1" 2>&1; }
# wait_for COND [TENTHS]: poll COND (a shell expression) up to TENTHS/10 s
wait_for() {
    wi=0
    while [ $wi -lt "${2:-300}" ]; do
        eval "$1" && return 0
        sleep 0.1
        wi=$((wi + 1))
    done
    return 1
}

# start_sandbox TAG ARGS...: sets SB_URL SB_PID SB_COMPANY
start_sandbox() {
    tag=$1
    shift
    "$SANDBOX" --port 0 "$@" >"$T/$tag.out" 2>"$T/$tag.log" &
    SB_PID=$!
    track "$SB_PID"
    wait_for "grep -q '^company:' '$T/$tag.out' 2>/dev/null" 100
    SB_URL=$(sed -n 's/^listening on //p' "$T/$tag.out" | head -n 1)
    SB_COMPANY=$(sed -n 's/^company: //p' "$T/$tag.out" | head -n 1)
    [ -n "$SB_COMPANY" ]
}

# ---- serve replicas ---------------------------------------------------------------

# Every request of the sandbox takes 1 s, so that a sync is still under
# way when a replica is killed or stopped.
start_sandbox sb --seed demo --token tokA --rate-limit 0 --log --faults 'delay:1.0@1000' ||
    { not_ok "sandbox starts" "$(cat "$T/sb.log")"; summary; }
SB=$SB_URL
ACME=$SB_COMPANY

# setup_replica N: its HOME, its own connection store and config file.
setup_replica() {
    h="$T/r$1"
    mkdir -p "$h/home"
    cat >"$h/serve.json" <<EOF
{"port": 0, "db": "$DB", "audit_log": "$h/audit.jsonl", "mirror": "$h/mirror.db",
 "auto_verify": false, "shutdown_grace_ms": 10000, "quiet": true}
EOF
    HOME="$h/home" GUSTO_STORE="$h/connections.db" GUSTO_ACCESS_TOKEN=tokA \
        "$GUSTO" serve connections add acme --base-url "$SB" --json >"$h/conn.json" 2>&1
}
# start_replica N: sets R<N> (its URL) and P<N> (its pid)
start_replica() {
    h="$T/r$1"
    : >"$h/serve.out"
    HOME="$h/home" GUSTO_STORE="$h/connections.db" \
        "$GUSTO" serve --config "$h/serve.json" >"$h/serve.out" 2>>"$h/serve.err" &
    eval "P$1=\$!"
    track "$!"
    wait_for "grep -q '^listening on' '$h/serve.out' 2>/dev/null" 100
    eval "R$1=\$(sed -n 's/^listening on //p' '$h/serve.out')"
}
keys() { # N ARGS...: gusto-connect serve keys ARGS in replica N's HOME
    n=$1
    shift
    HOME="$T/r$n/home" GUSTO_STORE="$T/r$n/connections.db" \
        "$GUSTO" serve keys "$@" --config "$T/r$n/serve.json" --json
}
# act URL KEY ACTION JSON [CURL ARGS...]: body in $T/r.json, status in $code
act() {
    url=$1 key=$2 action=$3 body=$4
    shift 4
    code=$(curl -s -o "$T/r.json" -w '%{http_code}' -H "Authorization: Bearer $key" \
        -H 'Content-Type: application/json' "$@" -X POST --data "$body" "$url/actions/$action")
}
j() { jq -r "$1" "$T/r.json" 2>/dev/null; }
sign() { printf %s "$1" | openssl dgst -sha256 -hmac "$2" | sed 's/^.*= //'; }
# hook URL BODY: a signed webhook delivery; status in $code, body in $T/r.json
hook() {
    code=$(curl -s -o "$T/r.json" -w '%{http_code}' \
        -H "X-Gusto-Signature: $(sign "$2" "$GUSTO_SERVE_WEBHOOK_TOKEN")" --data "$2" \
        "$1/webhooks/gusto")
}
event() { # UUID EMPLOYEE: an employee.updated event of acme
    printf '{"uuid":"%s","event_type":"employee.updated","resource_type":"Company","resource_uuid":"%s","entity_type":"Employee","entity_uuid":"%s","timestamp":1735689600}' \
        "$1" "$ACME" "$2"
}

setup_replica 1
setup_replica 2
check "each replica stores the connection in its own SQLite store" \
    '[ "$(jq -r .ok "$T/r1/conn.json")" = true ] && [ "$(jq -r .ok "$T/r2/conn.json")" = true ] && [ -f "$T/r1/connections.db" ] && [ -f "$T/r2/connections.db" ]' \
    "$(cat "$T/r1/conn.json" "$T/r2/conn.json")"

keys 1 add ops --grant acme >"$T/k1.json" 2>&1
KEY=$(jq -r .data.key "$T/k1.json")
check "serve keys add on the PostgreSQL database: a key, stored hashed" \
    'case $KEY in gsk_*) true ;; *) false ;; esac && [ "$(q "select count(*) from api_keys where name='"'ops'"' and hash ~ '"'^[0-9a-f]{64}$'"'")" = 1 ] && [ "$(q "select count(*) from api_keys where hash='"'$KEY'"'")" = 0 ]' \
    "$(cat "$T/k1.json")"

start_replica 1
start_replica 2
check "two replicas listen on different ports" \
    '[ -n "$R1" ] && [ -n "$R2" ] && [ "$R1" != "$R2" ]' "$(cat "$T/r1/serve.err" "$T/r2/serve.err")"
check "the banner names the database, without a password" \
    'grep -q "\"database\":\"postgres://postgres@127.0.0.1:$PGPORT/serve\"" "$T/r1/serve.err"' \
    "$(head -c 600 "$T/r1/serve.err")"

# Keys: added through replica 1's command, used on both; removed, refused on both.
act "$R2" "$KEY" list-employees '{}'
check "a key added on replica 1's side works on replica 2" \
    '[ "$code" = 200 ] && [ "$(j .ok)" = true ] && [ "$(j ".data|length")" -gt 5 ]' "$code $(head -c 300 "$T/r.json")"
act "$R1" "$KEY" list-employees '{}'
check "and on replica 1" '[ "$code" = 200 ]' "$code"
keys 2 add tmp --grant acme >"$T/k2.json" 2>&1
TMP=$(jq -r .data.key "$T/k2.json")
act "$R1" "$TMP" list-employees '{}'
c1=$code
keys 2 remove tmp >"$T/rm.json" 2>&1
act "$R1" "$TMP" list-employees '{}'
r1=$code
act "$R2" "$TMP" list-employees '{}'
r2=$code
check "a key removed on replica 2's side stops working on both (it worked before)" \
    '[ "$c1" = 200 ] && [ "$r1" = 401 ] && [ "$r2" = 401 ] && [ "$(jq -r .ok "$T/rm.json")" = true ]' \
    "before $c1, after $r1 $r2; $(cat "$T/rm.json")"
act "$R2" "$KEY" list-employees '{}'
check "the other key still works after the removal" '[ "$code" = 200 ]' "$code"

# Idempotency-Key: the first answer on replica 1, replayed by replica 2.
IDK="rep-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
NEWB='{"first_name":"Rhea","last_name":"Plica","email":"rhea.plica@example.com"}'
act "$R1" "$KEY" create-employee "$NEWB" -H "Idempotency-Key: $IDK"
cp "$T/r.json" "$T/first.json"
c1=$code
act "$R2" "$KEY" create-employee "$NEWB" -H "Idempotency-Key: $IDK"
check "an Idempotency-Key replayed on the other replica returns the first answer" \
    '[ "$c1" = 201 ] && [ "$code" = 201 ] && [ "$(jq -cS "del(.request_id)" "$T/r.json")" = "$(jq -cS "del(.request_id)" "$T/first.json")" ]' \
    "$c1 $code $(head -c 300 "$T/first.json") / $(head -c 300 "$T/r.json")"
check "one employee was created (one POST reached the sandbox)" \
    '[ "$(grep -c "POST /v1/companies/$ACME/employees " "$T/sb.log")" = 1 ]' \
    "$(grep "POST /v1/companies" "$T/sb.log")"
act "$R2" "$KEY" create-employee '{"first_name":"Other","last_name":"Body"}' -H "Idempotency-Key: $IDK"
check "the same key with another body on the other replica: 422" \
    '[ "$code" = 422 ] && [ "$(j .error.code)" = idempotency_key_reused ]' "$code $(cat "$T/r.json")"

# Employees of acme, for events.
act "$R1" "$KEY" list-employees '{}'
EMPS=$(jq -r '.data[].uuid' "$T/r.json" | head -n 12)
set -- $EMPS
E1=$1

# One event delivered to both replicas (Gusto's retry reaching the other).
EV=$(event ev-dup-1 "$E1")
hook "$R1" "$EV"
a1=$(j .result)
hook "$R2" "$EV"
a2=$(j .result)
check "the same webhook event at both replicas: accepted by one, a duplicate at the other" \
    '[ "$a1" = accepted ] && [ "$a2" = duplicate ]' "$a1 $a2"
wait_for '[ "$(q "select count(*) from sync_queue where event_uuid='"'ev-dup-1'"' and status<>'"'pending'"'")" = 1 ]' 300
check "it made one queue row, synced once" \
    '[ "$(q "select count(*) from sync_queue where event_uuid='"'ev-dup-1'"'")" = 1 ] && [ "$(q "select status from sync_queue where event_uuid='"'ev-dup-1'"'")" = synced ]' \
    "$(q "select id, status, taken_by, detail from sync_queue")"

# Both replicas at once: the same 8 events sent to each, in parallel.
i=0
for e in $(echo "$EMPS" | sed -n 2,9p); do
    i=$((i + 1))
    EVB=$(event "ev-par-$i" "$e")
    hook "$R1" "$EVB" &
    hook "$R2" "$EVB" &
done
wait_for '[ "$(q "select count(*) from sync_queue where event_uuid like '"'ev-par-%'"'")" = 8 ]' 100
check "8 events, each delivered to both replicas at once: 8 queue rows" \
    '[ "$(q "select count(*) from webhook_events where uuid like '"'ev-par-%'"'")" = 8 ] && [ "$(q "select count(*) from sync_queue where event_uuid like '"'ev-par-%'"'")" = 8 ]' \
    "$(q "select event_uuid from sync_queue")"
wait_for '[ "$(q "select count(*) from sync_queue where event_uuid like '"'ev-par-%'"' and status='"'pending'"'")" = 0 ]' 600
check "every entry was synced" \
    '[ "$(q "select count(*) from sync_queue where event_uuid like '"'ev-par-%'"' and status='"'synced'"'")" = 8 ]' \
    "$(q "select id, status, taken_by, detail from sync_queue")"
check "both replicas' workers took entries" \
    '[ "$(q "select count(distinct taken_by) from sync_queue where event_uuid like '"'ev-par-%'"'")" = 2 ]' \
    "$(q "select id, taken_by from sync_queue")"
# Each entry once: each employee's record was read from Gusto by one sync.
dups=0
for e in $(echo "$EMPS" | sed -n 2,9p); do
    n=$(grep -c "GET /v1/employees/$e " "$T/sb.log")
    [ "$n" = 1 ] || dups=$((dups + 1))
done
check "each entry was synced exactly once (one GET of each employee at the sandbox)" \
    '[ "$dups" = 0 ]' "$(grep "GET /v1/employees/" "$T/sb.log" | sort | uniq -c | head)"

# kill -9 while holding an entry: the other replica takes it after the lease.
# Replica 2 stops first, so replica 1 takes the entry.
kill -TERM "$P2"
wait "$P2" 2>/dev/null
untrack "$P2"
E10=$(echo "$EMPS" | sed -n 10p)
hook "$R1" "$(event ev-kill-1 "$E10")"
wait_for '[ -n "$(q "select taken_by from sync_queue where event_uuid='"'ev-kill-1'"' and taken_at is not null")" ]' 100
HOLDER=$(q "select taken_by from sync_queue where event_uuid='ev-kill-1'")
kill -9 "$P1"
wait "$P1" 2>/dev/null
untrack "$P1"
check "replica 1 held the entry when it was killed -9" \
    '[ "$(q "select status from sync_queue where event_uuid='"'ev-kill-1'"'")" = pending ] && case $HOLDER in *:$P1) true ;; *) false ;; esac' \
    "holder $HOLDER pid $P1; $(q "select status, taken_by from sync_queue where event_uuid='ev-kill-1'")"
start_replica 2
wait_for '[ "$(q "select status from sync_queue where event_uuid='"'ev-kill-1'"'")" = synced ]' 300
check "after the lease, replica 2 takes the dead replica's entry and syncs it" \
    '[ "$(q "select status from sync_queue where event_uuid='"'ev-kill-1'"'")" = synced ] && case $(q "select taken_by from sync_queue where event_uuid='"'ev-kill-1'"'") in *:$P2) true ;; *) false ;; esac' \
    "$(q "select status, taken_by, detail from sync_queue where event_uuid='ev-kill-1'") P2 $P2"

# SIGTERM while holding an entry: it is given back at once, untaken.
E11=$(echo "$EMPS" | sed -n 11p)
hook "$R2" "$(event ev-term-1 "$E11")"
wait_for '[ -n "$(q "select taken_by from sync_queue where event_uuid='"'ev-term-1'"' and taken_at is not null")" ]' 100
TAKEN=$(q "select count(*) from sync_queue where event_uuid='ev-term-1' and taken_at is not null")
kill -TERM "$P2"
wait "$P2"
rc=$?
untrack "$P2"
check "SIGTERM: replica 2 gives its entry back (pending, not taken) and exits 0" \
    '[ "$TAKEN" = 1 ] && [ "$rc" = 0 ] && [ "$(q "select status from sync_queue where event_uuid='"'ev-term-1'"'")" = pending ] && [ "$(q "select count(*) from sync_queue where event_uuid='"'ev-term-1'"' and taken_at is null")" = 1 ]' \
    "taken $TAKEN rc $rc $(q "select status, taken_at, taken_by, detail from sync_queue where event_uuid='ev-term-1'"); $(tail -n 3 "$T/r2/serve.err")"
start_replica 1
wait_for '[ "$(q "select status from sync_queue where event_uuid='"'ev-term-1'"'")" = synced ]' 300
check "the given-back entry is synced by the other replica" \
    '[ "$(q "select status from sync_queue where event_uuid='"'ev-term-1'"'")" = synced ]' \
    "$(q "select status, taken_by, detail from sync_queue where event_uuid='ev-term-1'")"

# The database goes away: a clear 503, no crash; back when it returns.
as_pg pg_ctl -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1
act "$R1" "$KEY" list-employees '{}'
c1=$code
e1=$(j .error.code)
as_pg pg_ctl -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGDIR -c fsync=off" start >/dev/null 2>&1
act "$R1" "$KEY" list-employees '{}'
check "PostgreSQL stopped: 503 db_unavailable, replica 1 keeps running; restarted: 200" \
    '[ "$c1" = 503 ] && [ "$e1" = db_unavailable ] && [ "$code" = 200 ] && kill -0 "$P1"' \
    "before $c1 $e1, after $code $(head -c 200 "$T/r.json"); $(tail -n 3 "$T/r1/serve.err")"
check "the 503 names the database, not a password" \
    'grep -q "serve.s database" "$T/r1/serve.err"' "$(tail -n 3 "$T/r1/serve.err")"
stop "$P1"

# ---- two sync workers, own HOMEs, one PostgreSQL mirror ----------------------------

start_sandbox sync --seed demo --seed-employees 300 --token tokS --rate-limit 0 \
    --faults 'delay:1.0@100' || { not_ok "sync sandbox starts" "$(cat "$T/sync.log")"; summary; }
mkdir -p "$T/wa" "$T/wb"
# gsync W ARGS...: gusto-connect sync in worker W's own HOME; RC set
gsync() {
    w=$1
    shift
    HOME="$T/w$w" GUSTO_STORE="$T/w$w/connections.db" GUSTO_API_BASE_URL=$SB_URL \
        GUSTO_ACCESS_TOKEN=tokS "$GUSTO" sync --db "$MIRROR" "$@" </dev/null \
        >"$T/w$w.json" 2>"$T/w$w.err"
    RC=$?
}
HOME="$T/wa" GUSTO_STORE="$T/wa/connections.db" GUSTO_API_BASE_URL=$SB_URL \
    GUSTO_ACCESS_TOKEN=tokS "$GUSTO" sync --db "$MIRROR" --lease-ttl 3 --worker wa \
    </dev/null >"$T/wa.json" 2>"$T/wa.err" &
apid=$!
track "$apid"
wait_for '[ "$(qm "select lease_owner from gusto_companies")" = wa ]' 100
kill -9 "$apid"
wait "$apid" 2>/dev/null
untrack "$apid"
check "worker a, killed -9 mid-sync, wrote nothing and left its lease" \
    '[ "$(qm "select count(*) from gusto_events")" = 0 ] && [ "$(qm "select lease_owner from gusto_companies")" = wa ]' \
    "$(qm "select lease_owner, lease_expires_ms from gusto_companies"); $(qm "select count(*) from gusto_events")"
gsync b --worker wb
check "worker b, its own HOME, within the lease: skipped (leased, exit 10)" \
    '[ "$RC" = 10 ] && jq -e ".error.details.companies[0].status == \"leased\"" "$T/wb.json" >/dev/null' \
    "$RC $(head -c 400 "$T/wb.json")"
wait_for '[ "$(qm "select count(*) from gusto_companies where lease_expires_ms < CAST(extract(epoch from clock_timestamp()) * 1000 AS BIGINT)")" = 1 ]' 100
gsync b --worker wb
check "after the lease, worker b takes over: every employee once, no event lost or duplicated" \
    '[ "$RC" = 0 ] && [ "$(qm "select count(*) from gusto_events")" = 350 ] && [ "$(qm "select count(distinct employee_uuid) from gusto_events")" = 350 ] && [ "$(qm "select count(distinct event_id) from gusto_events")" = 350 ]' \
    "$RC $(head -c 400 "$T/wb.json") events $(qm "select count(*) from gusto_events")"

# Ctrl-C: the lease is released at once, so the other worker syncs straight away.
# A fresh mirror, so the sync has the whole company to read.
MIRROR=$(pg_createdb mirror2) || not_ok "database mirror2 created"
MDB=mirror2
HOME="$T/wa" GUSTO_STORE="$T/wa/connections.db" GUSTO_API_BASE_URL=$SB_URL \
    GUSTO_ACCESS_TOKEN=tokS "$GUSTO" sync --db "$MIRROR" --lease-ttl 300 --worker wa \
    </dev/null >"$T/wa.json" 2>"$T/wa.err" &
apid=$!
track "$apid"
wait_for '[ "$(qm "select lease_owner from gusto_companies")" = wa ]' 100
HELD=$(qm "select lease_owner from gusto_companies")
kill -INT "$apid"
wait "$apid"
arc=$?
untrack "$apid"
check "Ctrl-C: worker a stops and releases its lease at once" \
    '[ "$HELD" = wa ] && [ "$arc" != 0 ] && [ -z "$(qm "select lease_owner from gusto_companies")" ]' \
    "held $HELD rc $arc lease '$(qm "select lease_owner from gusto_companies")'; $(tail -n 2 "$T/wa.err")"
gsync b --worker wb
check "worker b syncs at once after the Ctrl-C (no lease to wait for), nothing duplicated" \
    '[ "$RC" = 0 ] && [ "$(qm "select count(distinct event_id) from gusto_events")" = "$(qm "select count(*) from gusto_events")" ]' \
    "$RC $(head -c 400 "$T/wb.json")"

# Everything in one database: the connection store (added from one HOME),
# the mirror, and a worker in another HOME with no token of its own and no
# file: it syncs through the stored connection.
EVERY=$(pg_createdb every) || not_ok "database every created"
MDB=every
GUSTO_STORE_KEY=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
export GUSTO_STORE_KEY
mkdir -p "$T/wc" "$T/wd"
HOME="$T/wc" GUSTO_STORE=$EVERY GUSTO_ACCESS_TOKEN=tokS \
    "$GUSTO" serve connections add acme --base-url "$SB_URL" --json </dev/null >"$T/wc.json" 2>&1
HOME="$T/wd" GUSTO_STORE=$EVERY "$GUSTO" sync --db "$EVERY" --worker wd </dev/null \
    >"$T/wd.json" 2>"$T/wd.err"
RC=$?
check "one database holds the store and the mirror: a worker with no token syncs the stored connection" \
    '[ "$RC" = 0 ] && [ "$(qm "select count(*) from connections")" = 1 ] && [ "$(qm "select count(distinct employee_uuid) from gusto_events")" = 350 ]' \
    "$RC $(cat "$T/wc.json") $(head -c 400 "$T/wd.json") $(tail -n 3 "$T/wd.err")"
check "...and neither HOME holds a file (positive control: the worker's output was written)" \
    '[ -z "$(find "$T/wc" "$T/wd" -type f)" ] && [ -s "$T/wd.json" ]' "$(find "$T/wc" "$T/wd" -type f)"
unset GUSTO_STORE_KEY
stop "$SB_PID"

summary
