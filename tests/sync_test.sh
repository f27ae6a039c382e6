#!/bin/sh
# sync_test.sh - `gusto-connect sync` and `gusto-connect profile` end to end, on SQLite and
# on PostgreSQL: the initial sync of the demo company, the exact events of
# an update, a termination, a new hire, a rehire and a removal; an unchanged
# re-sync that writes nothing and costs only the list pages; the dry run;
# the termination safeguard; a sync killed half-way and run again; a sandbox
# that dies mid-sync; leases between workers (a dead worker's lease
# expires; workers over two companies never overlap); a signed webhook with
# retries and resumption; for issue 14: departures over a 24-hour window, a
# skipped run exits 10, SIGTERM
# releases the lease, a crashed holder's lease is taken over, a closed stdout
# keeps every event, a killed webhook delivery re-sends one event at most;
# the progress bar and rate-limit waits; and a
# company of 10,000 employees.  Also the sandbox's terminations and rehire
# endpoints.
#
# Everything runs in one mktemp directory against its own gusto-sandbox
# processes and its own PostgreSQL server (initdb + pg_ctl as the postgres
# user, listening only on 127.0.0.1 on a free port), all stopped on exit.
# Needs curl, jq, node, sqlite3 and PostgreSQL's server binaries.
# Environment: GUSTO (default build/gusto-connect), GUSTO_SANDBOX (default
# build/gusto-sandbox), KEEP=1 keeps the directory.  Prints "ok - NAME" /
# "not ok - NAME" and ends with "N passed, N failed"; exits 1 on a failure.
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
# PGBIN, as_pg, pg_start, pg_stop
. tests/pg.sh

cleanup() {
    for p in $pids; do kill -9 "$p" 2>/dev/null; done
    for p in $pids; do wait "$p" 2>/dev/null; done
    pids=""
    pg_stop
    if [ -n "${KEEP:-}" ]; then
        echo "# files kept in $T and $PGDIR"
    else
        rm -rf "$T"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Nothing from the machine leaks in, and nothing leaves 127.0.0.1.
export HOME="$T/home"
mkdir -p "$HOME"
export GUSTO_STORE="$T/connections.db"
unset GUSTO_ACCESS_TOKEN GUSTO_CONNECTION GUSTO_STORE_KEY GUSTO_COMPANY_UUID \
    GUSTO_API_BASE_URL GUSTO_ENV GUSTO_SYNC_DB GUSTO_WEBHOOK_SECRET XDG_DATA_HOME \
    GUSTO_CLIENT_ID GUSTO_CLIENT_SECRET DISPLAY WAYLAND_DISPLAY BROWSER PGPASSWORD
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY='*'

ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() {
    fail=$((fail + 1))
    echo "not ok - $1"
    [ -n "${2:-}" ] && printf '%s\n' "$2" | head -c 900 | sed 's/^/#   /'
    return 0
}
# check NAME COMMAND...: passes when COMMAND succeeds; the detail is the
# last command's output.
check() {
    name=$1
    shift
    if "$@"; then ok "$name"; else
        not_ok "$name" "exit $RC; out: $(head -c 600 "$OUT" 2>/dev/null); err: $(head -c 300 "$ERR" 2>/dev/null)"
    fi
}
summary() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit $?
}

for tool in curl jq node sqlite3; do
    if ! command -v $tool >/dev/null 2>&1; then
        not_ok "$tool is installed (scripts/deps.sh)"
        summary
    fi
done
if [ ! -x "$GUSTO" ] || [ ! -x "$SANDBOX" ]; then
    not_ok "$GUSTO and $SANDBOX are built (make)"
    summary
fi
if ! pg_available; then
    not_ok "PostgreSQL's server binaries are installed (scripts/deps.sh: postgresql)"
    summary
fi

# ---- helpers --------------------------------------------------------------------

# track, untrack, stop, free_port
. tests/procs.sh

# "Blocked until --confirm", by its name in the source: its number may change.
EXIT_CONFIRM=$(sed -n 's/^ *EXIT_CONFIRM = \([0-9][0-9]*\),.*/\1/p' src/cli/cli.h)
if [ -z "$EXIT_CONFIRM" ]; then
    not_ok "EXIT_CONFIRM is found in src/cli/cli.h"
    summary
fi

TOKEN=sync-test-token-5d1e
OTHER_TOKEN=sync-test-other-9a2c

# start_sandbox TAG ARGS...: sets SB_URL, SB_PID, SB_COMPANY.
start_sandbox() {
    tag=$1
    shift
    "$SANDBOX" --port 0 --token "$TOKEN" --token "$OTHER_TOKEN@other" "$@" \
        >"$T/$tag.out" 2>"$T/$tag.log" &
    SB_PID=$!
    track "$SB_PID"
    i=0
    while [ $i -lt 300 ] && ! grep -q '^company: ' "$T/$tag.out" 2>/dev/null; do
        kill -0 "$SB_PID" 2>/dev/null || break
        sleep 0.05
        i=$((i + 1))
    done
    SB_URL=$(sed -n 's/^listening on //p' "$T/$tag.out" | head -n 1)
    SB_COMPANY=$(sed -n 's/^company: //p' "$T/$tag.out" | head -n 1)
    if [ -z "$SB_COMPANY" ]; then
        not_ok "sandbox $tag starts" "$(cat "$T/$tag.log")"
        return 1
    fi
    return 0
}

# api METHOD PATH [BODY]: a request to the current sandbox with $TOKEN; the
# body on stdout, the status in $T/status.
api() {
    if [ $# -ge 3 ]; then
        curl -s -o "$T/api.body" -w '%{http_code}' -X "$1" "$SB_URL$2" \
            -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
            -d "$3" >"$T/status"
    else
        curl -s -o "$T/api.body" -w '%{http_code}' -X "$1" "$SB_URL$2" \
            -H "Authorization: Bearer $TOKEN" >"$T/status"
    fi
    cat "$T/api.body"
}
status_is() { [ "$(cat "$T/status")" = "$1" ]; }

# gsync TAG ARGS...: gusto-connect sync against the current sandbox, as the token;
# JSON in $OUT, stderr in $ERR, exit in RC.
gsync() {
    OUT="$T/$1.json"
    ERR="$T/$1.err"
    shift
    GUSTO_API_BASE_URL=$SB_URL GUSTO_ACCESS_TOKEN=$TOKEN \
        "$GUSTO" sync --db "$DB" "$@" </dev/null >"$OUT" 2>"$ERR"
    RC=$?
}
j() { jq -r "$1" "$OUT" 2>/dev/null; }
jqs() { jq "$@" >/dev/null 2>&1; }
je() { jq -e "$1" "$OUT" >/dev/null 2>&1; }
c0() { j ".data.companies[0]$1"; }

# dbq SQL: one query on the current mirror, rows as text.
dbq() {
    if [ "$BACKEND" = postgres ]; then
        as_pg psql -At -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d "$PGDB" -c "$1" 2>&1
    else
        sqlite3 "$DB" "$1" 2>&1
    fi
}
events_n() { dbq "SELECT count(*) FROM gusto_events"; }
gen_of() { dbq "SELECT generation FROM gusto_companies WHERE company_uuid='$1'"; }

# new_db NAME: a fresh mirror on the current backend; sets DB (and PGDB).
new_db() {
    if [ "$BACKEND" = postgres ]; then
        PGDB=$1
        as_pg createdb -h 127.0.0.1 -p "$PGPORT" -U postgres "$PGDB"
        DB="postgres://postgres@127.0.0.1:$PGPORT/$PGDB"
    else
        DB="$T/$1.db"
    fi
}

# ---- PostgreSQL, our own ----------------------------------------------------------

if pg_start; then
    ok "a PostgreSQL server of our own runs on 127.0.0.1:$PGPORT"
else
    not_ok "a PostgreSQL server of our own runs on 127.0.0.1:$PGPORT" "$(pg_log)"
    summary
fi

# ---- the sandbox's terminations and rehire ------------------------------------------

start_sandbox ep --seed demo --rate-limit 0 || summary
EMP=$(api GET "/v1/companies/$SB_COMPANY/employees" |
    jq -r '[.[] | select(.onboarded and (.terminated | not) and (.terminations | length == 0))][0].uuid')
LOC=$(api GET "/v1/companies/$SB_COMPANY/locations" | jq -r '.[0].uuid')
YESTERDAY=$(date -u -d yesterday +%F)
TODAY=$(date -u +%F)
api POST "/v1/employees/$EMP/terminations" "{\"effective_date\":\"$YESTERDAY\"}" >/dev/null
check "POST /terminations answers 201 with an active Termination" eval \
    'status_is 201 && jq -e ".active == true and .cancelable == false and .effective_date == \"$YESTERDAY\" and .employee_uuid == \"$EMP\"" "$T/api.body" >/dev/null'
api GET "/v1/employees/$EMP" >/dev/null
check "the employee is terminated" jq -e '.terminated == true and (.terminations | length == 1)' "$T/api.body"
api POST "/v1/employees/$EMP/terminations" "{\"effective_date\":\"$TODAY\"}" >/dev/null
check "a second termination is refused (422 invalid_operation)" eval \
    'status_is 422 && jq -e ".errors[0].category == \"invalid_operation\"" "$T/api.body" >/dev/null'
api DELETE "/v1/employees/$EMP/terminations" >/dev/null
check "a termination in effect cannot be deleted (422)" status_is 422
api POST "/v1/employees/$EMP/rehire" "{\"effective_date\":\"$TODAY\",\"file_new_hire_report\":false,\"work_location_uuid\":\"$LOC\",\"employment_status\":\"part_time\"}" >/dev/null
check "POST /rehire answers 201 with an active Rehire" eval \
    'status_is 201 && jq -e ".active == true and .employment_status == \"part_time\"" "$T/api.body" >/dev/null'
api GET "/v1/employees/$EMP" >/dev/null
check "a rehired employee is no longer terminated" \
    jq -e '.terminated == false and .current_employment_status == "part_time"' "$T/api.body"
api GET "/v1/employees/$EMP/rehire" >/dev/null
check "GET /rehire returns it" eval 'status_is 200 && jq -e ".effective_date == \"$TODAY\"" "$T/api.body" >/dev/null'
api POST "/v1/employees/$EMP/terminations" "{\"effective_date\":\"$(date -u -d '+10 days' +%F)\"}" >/dev/null
check "a scheduled termination is cancelable" jq -e '.active == false and .cancelable == true' "$T/api.body"
api DELETE "/v1/employees/$EMP/terminations" >/dev/null
check "DELETE cancels a scheduled termination (204)" status_is 204
api GET "/v1/employees/$EMP/terminations" >/dev/null
check "GET /terminations lists the history" eval 'status_is 200 && jq -e "length == 1" "$T/api.body" >/dev/null'
curl -s -o /dev/null -w '%{http_code}' -X POST "$SB_URL/v1/employees/$EMP/terminations" \
    -H "Authorization: Bearer $OTHER_TOKEN" -H 'Content-Type: application/json' \
    -d "{\"effective_date\":\"$TODAY\"}" >"$T/status"
check "another company's employee is not found (404)" status_is 404
stop "$SB_PID"

# ---- the suite, once per backend -------------------------------------------------------

# active employees of the current sandbox that have a manager and no termination
actives() {
    api GET "/v1/companies/$SB_COMPANY/employees" |
        jq -r '[.[] | select(.onboarded and (.terminated | not) and (.terminations | length == 0))] | .[].uuid'
}

suite() {
    BACKEND=$1
    echo "# ---- $BACKEND"
    new_db "main_$BACKEND"
    start_sandbox "main_$BACKEND" --seed demo --rate-limit 0 || return
    EVF="$T/events_$BACKEND.jsonl"

    # 1. The initial sync.
    gsync init --events "$EVF"
    check "$BACKEND: the initial sync mirrors the 50 demo employees" \
        eval '[ $RC = 0 ] && je ".ok and .data.companies[0].status == \"synced\" and .data.companies[0].created == 50 and .data.companies[0].employees == 50"'
    check "$BACKEND: it costs one list page (per=100) and nothing per employee" \
        eval 'je ".data.companies[0].requests == {\"total\":1,\"list_pages\":1,\"per_employee\":0} and .data.companies[0].requests_per_employee == 0.02"'
    check "$BACKEND: ratios print as 0.02 and 0.04, not 0.040000000000000001" \
        eval 'grep -q "\"requests_per_employee\":0.02," "$OUT" && grep -q "\"requests_per_employee\":0.04," "$OUT" && ! grep -q "0000000" "$OUT"'
    check "$BACKEND: 50 employee.created events in the log and in --events" \
        eval '[ "$(events_n)" = 50 ] && [ "$(wc -l <"$EVF")" -eq 50 ] && [ "$(jq -r .type "$EVF" | sort -u)" = employee.created ]'
    check "$BACKEND: event ids are unique and created events mask pay and home address" \
        eval '[ "$(jq -r .id "$EVF" | sort -u | wc -l)" -eq 50 ] && jq -se "map(select(.profile.compensation != null)) | length > 40 and all(.[]; .profile.compensation.rate == \"***\" and .profile.home_address.street_1 == \"***\")" "$EVF" >/dev/null'
    GEN1=$(gen_of "$SB_COMPANY")

    # 2. An unchanged re-sync writes nothing and costs only the list page.
    gsync same --events "$EVF"
    check "$BACKEND: an unchanged re-sync writes nothing and costs only the list page" \
        eval '[ $RC = 0 ] && je ".data.companies[0] | .status == \"unchanged\" and .rows_written == 0 and .events_written == 0 and .unchanged == 50 and .requests.total == 1 and .requests.list_pages == 1" && [ "$(events_n)" = 50 ] && [ "$(gen_of "$SB_COMPANY")" = "$GEN1" ] && [ "$(wc -l <"$EVF")" -eq 50 ]'

    # 3. Edits in Gusto: an update (a name and pay), a termination, a new hire.
    set -- $(actives)
    UPD=$1
    TERM=$2
    echo '{"preferred_first_name":"Zed","compensation":{"rate":"151000.00"}}' |
        GUSTO_API_BASE_URL=$SB_URL GUSTO_ACCESS_TOKEN=$TOKEN "$GUSTO" employees update "$UPD" \
            >"$T/upd.out" 2>&1
    api POST "/v1/employees/$TERM/terminations" "{\"effective_date\":\"$TODAY\"}" >/dev/null
    NEW=$(api POST "/v1/companies/$SB_COMPANY/employees" \
        '{"first_name":"Nia","last_name":"Newhire","email":"Nia.Newhire@Example.com","work_email":"nia@acme-demo.test"}' |
        jq -r .uuid)
    # Gusto enrols nobody in time off by itself: give the new hire a job and put
    # them on the company's vacation and sick policies, as an app would.
    api POST "/v1/employees/$NEW/jobs" "{\"title\":\"Analyst\",\"hire_date\":\"$TODAY\"}" >/dev/null
    for POL in $(api GET "/v1/companies/$SB_COMPANY/time_off_policies" | jq -r '.[] | select(.is_active) | .uuid' | head -2); do
        api PUT "/v1/time_off_policies/$POL/add_employees" "{\"employees\":[{\"uuid\":\"$NEW\"}]}" >/dev/null
    done
    DENVER=$(api GET "/v1/companies/$SB_COMPANY/locations" | jq -r '.[] | select(.city == "Denver") | .uuid')
    api POST "/v1/employees/$NEW/work_addresses" "{\"location_uuid\":\"$DENVER\"}" >/dev/null
    check "$BACKEND: the edits are made in the sandbox" status_is 201

    gsync dry --dry-run --events "$EVF"
    check "$BACKEND: --dry-run shows the three changes and writes nothing" \
        eval '[ $RC = 0 ] && je ".data.dry_run and .data.companies[0].status == \"dry_run\" and ([.data.companies[0].events[].type] | sort) == [\"employee.created\",\"employee.terminated\",\"employee.updated\"]" && [ "$(events_n)" = 50 ] && [ "$(gen_of "$SB_COMPANY")" = "$GEN1" ] && [ "$(wc -l <"$EVF")" -eq 50 ]'

    gsync edits --events "$EVF"
    check "$BACKEND: the next sync finds one created, one updated, one terminated" \
        eval '[ $RC = 0 ] && je ".data.companies[0] | .status == \"synced\" and .created == 1 and .updated == 1 and .terminated == 1 and .rehired == 0 and .unchanged == 48 and .events_written == 3"'
    # The new hire has a job (time off needs one), whose location the list
    # carries: nothing is fetched per employee.  The fetch of what the list
    # lacks is checked with 25 job-less hires below ("fetching 25 employees").
    check "$BACKEND: no per-employee requests when the list has everything (the new hire's job has the work location)" \
        eval 'je ".data.companies[0].requests == {\"total\":1,\"list_pages\":1,\"per_employee\":0}"'
    tail -n 3 "$EVF" >"$T/new3.jsonl"
    check "$BACKEND: exactly three new events, appended in the same transaction as the snapshot" \
        eval '[ "$(events_n)" = 53 ] && [ "$(wc -l <"$EVF")" -eq 53 ] && [ "$(gen_of "$SB_COMPANY")" = "$((GEN1 + 1))" ]'
    # The pay change is a new compensation (the first day no payroll has run
    # for), so the current compensation's effective date changes too.
    check "$BACKEND: employee.updated names the changed fields, pay masked" \
        jqs -se --arg u "$UPD" 'map(select(.type == "employee.updated"))[0] | .employee_uuid == $u and .changes == [{"field":"compensation.effective_date","old":"***","new":"***","masked":true},{"field":"compensation.rate","old":"***","new":"***","masked":true},{"field":"preferred_first_name","old":null,"new":"Zed"}]' "$T/new3.jsonl"
    check "$BACKEND: employee.terminated carries the date" \
        jqs -se --arg u "$TERM" --arg d "$TODAY" 'map(select(.type == "employee.terminated"))[0] | .employee_uuid == $u and .termination_date == $d and .reason == "terminated" and (.changes | map(.field) | index("employment_status") != null)' "$T/new3.jsonl"
    check "$BACKEND: employee.created for the new hire, with the fetched work location" \
        jqs -se --arg u "$NEW" 'map(select(.type == "employee.created"))[0] | .employee_uuid == $u and .profile.work_location.city == "Denver" and .profile.employment_status == "onboarding"' "$T/new3.jsonl"

    gsync again
    check "$BACKEND: a re-sync after the edits is unchanged again" \
        eval '[ $RC = 0 ] && je ".data.companies[0] | .status == \"unchanged\" and .rows_written == 0 and .requests.total == 1" && [ "$(events_n)" = 53 ]'

    # 4. gusto-connect profile, from the mirror only (Gusto unreachable, no token).
    OUT="$T/prof.json"
    ERR="$T/prof.err"
    GUSTO_API_BASE_URL=http://127.0.0.1:9 "$GUSTO" profile --db "$DB" \
        --email "NIA.NEWHIRE@example.com" >"$OUT" 2>"$ERR"
    RC=$?
    check "$BACKEND: profile --email (personal, any case) answers from the mirror" \
        eval '[ $RC = 0 ] && je ".data | .employee_uuid == \"$NEW\" and .work_location.city == \"Denver\" and .employment.status == \"onboarding\" and (.time_off | length == 2) and .freshness.stale == false and .freshness.age_seconds >= 0"'
    MGR_OF=$(dbq "SELECT employee_uuid FROM gusto_employees WHERE status='active' AND profile LIKE '%\"manager_uuid\":\"%' LIMIT 1")
    WEMAIL=$(dbq "SELECT work_email FROM gusto_employees WHERE employee_uuid='$MGR_OF'")
    "$GUSTO" profile --db "$DB" --email "$WEMAIL" >"$OUT" 2>"$ERR"
    RC=$?
    check "$BACKEND: profile --email (work) shows the manager by name, the job and balances" \
        eval '[ $RC = 0 ] && je ".data | (.manager.name | length > 3) and (.manager.work_email | test(\"@\")) and (.job.title | length > 0) and (.work_location.street_1 | length > 0) and all(.time_off[]; .balance_hours != null) and (has(\"home_address\") | not)"'
    "$GUSTO" profile --db "$DB" --email nobody@nowhere.test >"$OUT" 2>"$ERR"
    RC=$?
    check "$BACKEND: profile of an unknown email: not_found, exit 4" \
        eval '[ $RC = 4 ] && je ".ok == false and .error.code == \"not_found\""'

    # 5. A rehire.
    REH=$(api GET "/v1/companies/$SB_COMPANY/employees" | jq -r --arg t "$TODAY" \
        '[.[] | select(.terminated and all(.terminations[]; .effective_date < $t))][0].uuid')
    api POST "/v1/employees/$REH/rehire" "{\"effective_date\":\"$TODAY\",\"file_new_hire_report\":true,\"work_location_uuid\":\"$DENVER\"}" >/dev/null
    gsync rehire --events "$EVF"
    check "$BACKEND: a rehire is one employee.rehired event" \
        eval '[ $RC = 0 ] && je ".data.companies[0] | .rehired == 1 and .created == 0 and .terminated == 0 and .events_written == 1" && tail -n 1 "$EVF" | jq -e ".type == \"employee.rehired\" and .employee_uuid == \"$REH\"" >/dev/null'

    # 6. The termination safeguard: 11 of 49 active employees is over 20%.
    EV_BEFORE=$(events_n)
    GEN_BEFORE=$(gen_of "$SB_COMPANY")
    GOING=$(actives | tail -n 11 | sort | tr '\n' ' ')
    for e in $GOING; do
        api POST "/v1/employees/$e/terminations" "{\"effective_date\":\"$TODAY\"}" >/dev/null
    done
    # (issue 15) --dry-run alone shows who would go, exit 0, and writes nothing.
    gsync guarddry --dry-run
    check "$BACKEND: --dry-run over the threshold exits 0 and lists the 11 (needs_confirm)" \
        eval '[ $RC = 0 ] && je ".ok == true and .data.companies[0].status == \"dry_run\" and .data.companies[0].needs_confirm == true and (.data.companies[0].would_terminate | length) == 11 and all(.data.companies[0].would_terminate[]; (.name | length) > 3 and (.work_email | test(\"@\")) and .reason == \"terminated\")" && [ "$(j "[.data.companies[0].would_terminate[].employee_uuid] | sort | join(\" \")") " = "$GOING" ]'
    check "$BACKEND: the dry run wrote nothing" \
        eval '[ "$(events_n)" = "$EV_BEFORE" ] && [ "$(gen_of "$SB_COMPANY")" = "$GEN_BEFORE" ]'
    gsync guard --events "$EVF"
    check "$BACKEND: a sync terminating 11 of 49 active employees stops and asks for --confirm" \
        eval '[ $RC = "$EXIT_CONFIRM" ] && je ".ok == false and .error.code == \"confirmation_required\" and .error.details.companies[0].status == \"refused\"" && grep -q -- --confirm "$ERR"'
    check "$BACKEND: the refusal names each of the 11 (uuid, name, email)" \
        eval '[ "$(j "[.error.details.companies[0].would_terminate[].employee_uuid] | sort | join(\" \")") " = "$GOING" ] && je "all(.error.details.companies[0].would_terminate[]; (.name | length) > 3 and (.work_email | test(\"@\")))"'
    LEASE=$(dbq "SELECT lease_owner FROM gusto_companies WHERE company_uuid='$SB_COMPANY'")
    check "$BACKEND: the refused sync wrote nothing and released its lease" \
        eval '[ "$(events_n)" = "$EV_BEFORE" ] && [ "$(gen_of "$SB_COMPANY")" = "$GEN_BEFORE" ] && [ -z "$LEASE" ]'
    gsync confirm --confirm --events "$EVF"
    check "$BACKEND: with --confirm the 11 terminations go through" \
        eval '[ $RC = 0 ] && je ".data.companies[0] | .terminated == 11 and .events_written == 11" && [ "$(events_n)" = "$((EV_BEFORE + 11))" ]'

    # 7. An employee deleted in Gusto is a departure (after one GET confirms it).
    api DELETE "/v1/employees/$NEW" >/dev/null
    gsync removed --events "$EVF"
    check "$BACKEND: a deleted employee is employee.terminated with reason removed" \
        eval '[ $RC = 0 ] && je ".data.companies[0] | .terminated == 1 and .requests.per_employee == 1" && tail -n 1 "$EVF" | jq -e ".type == \"employee.terminated\" and .reason == \"removed\" and .employee_uuid == \"$NEW\"" >/dev/null'
    check "$BACKEND: no event was ever written twice" \
        eval '[ "$(dbq "SELECT count(DISTINCT event_id) FROM gusto_events")" = "$(events_n)" ] && [ "$(jq -r .id "$EVF" | sort -u | wc -l)" -eq "$(events_n)" ]'
    stop "$SB_PID"

    # 8. Killed half-way, then run again: converges, no duplicate events.
    new_db "kill_$BACKEND"
    start_sandbox "slow_$BACKEND" --seed demo --seed-employees 450 --rate-limit 0 \
        --faults 'delay:1.0@150' || return
    GUSTO_API_BASE_URL=$SB_URL GUSTO_ACCESS_TOKEN=$TOKEN "$GUSTO" sync --db "$DB" \
        --lease-ttl 2 --worker doomed </dev/null >"$T/doomed.json" 2>&1 &
    dpid=$!
    track "$dpid"
    sleep 0.5
    kill -9 "$dpid" 2>/dev/null
    wait "$dpid" 2>/dev/null
    untrack "$dpid"
    check "$BACKEND: a sync killed mid-way left no snapshot and no events" \
        eval '[ "$(dbq "SELECT count(*) FROM gusto_employees")" = 0 ] && [ "$(events_n)" = 0 ]'
    gsync leased --worker second
    check "$BACKEND: the dead worker's lease (a name, not HOST:PID) still holds: skipped, exit 10" \
        eval '[ $RC = 10 ] && je ".error.details.companies[0].status == \"leased\"" && j ".error.details.companies[0].message" | grep -q doomed'
    sleep 2
    gsync rerun --worker third
    check "$BACKEND: after the lease expired, the re-run converges (500 created)" \
        eval '[ $RC = 0 ] && je ".data.companies[0] | .status == \"synced\" and .created == 500 and .requests.list_pages == 5" && [ "$(events_n)" = 500 ] && [ "$(dbq "SELECT count(DISTINCT employee_uuid) FROM gusto_events")" = 500 ]'

    # 9. The sandbox dies mid-sync: the sync fails, the mirror keeps its snapshot.
    set -- $(actives)
    api POST "/v1/employees/$1/terminations" "{\"effective_date\":\"$TODAY\"}" >/dev/null
    GEN_BEFORE=$(gen_of "$SB_COMPANY")
    GUSTO_API_BASE_URL=$SB_URL GUSTO_ACCESS_TOKEN=$TOKEN "$GUSTO" --retries 1 sync --db "$DB" \
        </dev/null >"$T/dies.json" 2>"$T/dies.err" &
    dpid=$!
    track "$dpid"
    sleep 0.45
    kill -9 "$SB_PID"
    wait "$SB_PID" 2>/dev/null
    untrack "$SB_PID"
    wait "$dpid"
    RC=$?
    untrack "$dpid"
    OUT="$T/dies.json"
    ERR="$T/dies.err"
    check "$BACKEND: a sync whose sandbox dies fails (network, exit 6) and writes nothing" \
        eval '[ $RC = 6 ] && je ".ok == false" && [ "$(events_n)" = 500 ] && [ "$(gen_of "$SB_COMPANY")" = "$GEN_BEFORE" ] && [ -z "$(dbq "SELECT lease_owner FROM gusto_companies")" ]'

    # 10. Workers: two at once on one company, then three over two companies.
    new_db "work_$BACKEND"
    start_sandbox "work_$BACKEND" --seed demo --seed-employees 350 --rate-limit 0 \
        --faults 'delay:1.0@120' || return
    for w in a b; do
        GUSTO_API_BASE_URL=$SB_URL GUSTO_ACCESS_TOKEN=$TOKEN "$GUSTO" sync --db "$DB" \
            --worker "w$w" </dev/null >"$T/w$w.json" 2>"$T/w$w.err" &
        eval "wpid_$w=\$!"
    done
    wait "$wpid_a"
    ra=$?
    wait "$wpid_b"
    rb=$?
    st=$(jq -r '(.data // .error.details).companies[0].status' "$T/wa.json" "$T/wb.json" | sort | tr '\n' ' ')
    rr=$(printf '%s\n' "$ra" "$rb" | sort -n | tr '\n' ' ')
    check "$BACKEND: two workers at once: one syncs the company, the other skips it" \
        eval '[ "$rr" = "0 10 " ] && [ "$st" = "leased synced " ] && [ "$(events_n)" = 400 ]'
    stop "$SB_PID"
}

suite sqlite
suite postgres

# ---- several companies, several workers (PostgreSQL) ------------------------------

BACKEND=postgres
new_db multi
CB_PORT=$(free_port)
REDIR="http://127.0.0.1:$CB_PORT/callback"
APPS="$T/apps.json"
APP_SECRET="sec-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
(umask 077 && jq -n --arg s "$APP_SECRET" --arg r "$REDIR" \
    '[{client_id: "sync-app", client_secret: $s, redirect_uris: [$r]}]' >"$APPS")
start_sandbox multi --seed demo --seed-employees 250 --rate-limit 0 --apps "$APPS" \
    --faults 'delay:1.0@60' || summary
# connect NAME COMPANY_LABEL: gusto-connect connect driven with curl.
connect() {
    GUSTO_CLIENT_SECRET=$APP_SECRET "$GUSTO" connect --no-browser --env "$SB_URL" \
        --client-id sync-app --redirect-uri "$REDIR" --name "$1" --wait 20 \
        </dev/null >"$T/c_$1.out" 2>"$T/c_$1.err" &
    cpid=$!
    track "$cpid"
    i=0
    while [ $i -lt 100 ] && ! grep -q 'oauth/authorize?' "$T/c_$1.err" 2>/dev/null; do
        sleep 0.1
        i=$((i + 1))
    done
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/oauth/authorize?[^ ]*' "$T/c_$1.err" | head -n 1)
    curl -s -o "$T/consent.html" "$url"
    company=$(sed -n "s/.*<option value=\"\\([^\"]*\\)\"[^>]*>$2<.*/\\1/p" "$T/consent.html" | head -n 1)
    fields=$(sed -n 's/.*<input type="hidden" name="\([^"]*\)" value="\([^"]*\)">.*/\1=\2/p' \
        "$T/consent.html")
    set --
    while IFS= read -r kv; do
        [ -n "$kv" ] && set -- "$@" --data-urlencode "$kv"
    done <<EOF
$fields
EOF
    loc=$(curl -s -o /dev/null -w '%{redirect_url}' "$@" --data-urlencode "company=$company" \
        --data-urlencode "decision=allow" "$SB_URL/oauth/authorize")
    curl -s -o /dev/null --max-time 10 "$loc"
    wait "$cpid"
    crc=$?
    untrack "$cpid"
    return $crc
}
if connect acme "Acme Demo Co" && connect globex "Globex Other Inc"; then
    ok "two stored connections: Acme and Globex"
else
    not_ok "two stored connections: Acme and Globex" "$(cat "$T/c_acme.err" "$T/c_globex.err")"
fi
for round in 1 2; do
    for w in 1 2 3; do
        "$GUSTO" sync --db "$DB" --all-connections --worker "m$round$w" </dev/null \
            >"$T/m$round$w.json" 2>"$T/m$round$w.err" &
        eval "mpid_$w=\$!"
        track "$(eval echo "\$mpid_$w")"
    done
    mrc=0
    for w in 1 2 3; do
        p=$(eval echo "\$mpid_$w")
        wait "$p"
        r=$?
        [ $r = 0 ] || [ $r = 10 ] || mrc=1   # 10: a company was leased by another worker
        untrack "$p"
    done
done
OUT="$T/m11.json"
ERR="$T/m11.err"
RC=$mrc
overlap=$(dbq "SELECT count(*) FROM gusto_sync_runs a JOIN gusto_sync_runs b ON a.company_uuid = b.company_uuid AND a.id < b.id AND a.started_ms < b.finished_ms AND b.started_ms < a.finished_ms")
runs=$(dbq "SELECT count(*) FROM gusto_sync_runs")
companies=$(dbq "SELECT count(*) FROM gusto_companies WHERE generation = 1")
check "three workers x two rounds over two companies: every run succeeded, both companies synced" \
    eval '[ $RC = 0 ] && [ "$companies" = 2 ] && [ "$runs" -ge 2 ]'
check "no two workers ever synced the same company at once ($runs runs, $overlap overlaps)" \
    [ "$overlap" = 0 ]
check "each company's employees got exactly one created event (300 + 5)" \
    eval '[ "$(events_n)" = 305 ] && [ "$(dbq "SELECT count(DISTINCT event_id) FROM gusto_events")" = 305 ]'
leased=$(cat "$T"/m1?.json | jq -r '(.data // .error.details).companies[].status' | grep -c leased)
check "workers skipped companies leased by others ($leased skips in round 1)" [ "$leased" -ge 1 ]
stop "$SB_PID"

# ---- a signed webhook, retried and resumed (SQLite) ------------------------------------

BACKEND=sqlite
new_db hook
start_sandbox hook --seed demo --rate-limit 0 || summary
cat >"$T/receiver.js" <<'EOF'
// A loopback webhook receiver: fails the first FAIL requests with 503, then
// records each event and whether its signature is right.
const http = require("http"), crypto = require("crypto"), fs = require("fs");
const secret = process.env.WEBHOOK_SECRET, out = process.argv[2];
let fail = Number(process.argv[3] || 0), n = 0;
http.createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    n++;
    if (n <= fail) { res.writeHead(503); res.end(); return; }
    const ts = req.headers["x-gusto-connect-timestamp"];
    const want = "sha256=" + crypto.createHmac("sha256", secret).update(ts + "." + body).digest("hex");
    const ev = JSON.parse(body);
    fs.appendFileSync(out, JSON.stringify({
      signed: req.headers["x-gusto-connect-signature"] === want,
      id: req.headers["x-gusto-connect-event-id"], type: req.headers["x-gusto-connect-event-type"],
      body_id: ev.id, fresh: Math.abs(Date.now() / 1000 - Number(ts)) < 300, n }) + "\n");
    res.writeHead(204); res.end();
  });
}).listen(Number(process.argv[4]), "127.0.0.1", () => console.log("ready"));
EOF
HOOK_SECRET="whsec-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
HOOK_PORT=$(free_port)
WEBHOOK_SECRET=$HOOK_SECRET node "$T/receiver.js" "$T/hook.jsonl" 2 "$HOOK_PORT" \
    >"$T/receiver.out" 2>&1 &
RPID=$!
track "$RPID"
i=0
while [ $i -lt 100 ] && ! grep -q ready "$T/receiver.out" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
GUSTO_WEBHOOK_SECRET=$HOOK_SECRET gsync hook1 --webhook "http://127.0.0.1:$HOOK_PORT/hook"
check "webhook: 50 events delivered after two 503s were retried" \
    eval '[ $RC = 0 ] && je ".data.events_delivered == 50" && [ "$(wc -l <"$T/hook.jsonl")" -eq 50 ]'
check "webhook: every request is signed (HMAC-SHA256 of timestamp.body), ids unique" \
    eval 'jq -se "all(.[]; .signed and .fresh and .id == .body_id) and (map(.id) | unique | length == 50)" "$T/hook.jsonl" >/dev/null'
check "webhook: the secret is in no output" \
    eval '! grep -rq "$HOOK_SECRET" "$T"/hook1.json "$T"/hook1.err'
stop "$RPID"
set -- $(actives)
api POST "/v1/employees/$1/terminations" "{\"effective_date\":\"$TODAY\"}" >/dev/null
GUSTO_WEBHOOK_SECRET=$HOOK_SECRET gsync hook2 --webhook "http://127.0.0.1:$HOOK_PORT/hook"
check "webhook down: the snapshot is written, delivery fails (exit 12) and is kept" \
    eval '[ $RC = 12 ] && je ".error.code == \"delivery_failed\" and .error.details.companies[0].terminated == 1" && [ "$(events_n)" = 51 ]'
WEBHOOK_SECRET=$HOOK_SECRET node "$T/receiver.js" "$T/hook.jsonl" 0 "$HOOK_PORT" \
    >"$T/receiver.out" 2>&1 &
RPID=$!
track "$RPID"
i=0
while [ $i -lt 100 ] && ! grep -q ready "$T/receiver.out" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
GUSTO_WEBHOOK_SECRET=$HOOK_SECRET gsync hook3 --webhook "http://127.0.0.1:$HOOK_PORT/hook"
check "webhook back: the next (unchanged) sync delivers the pending event once" \
    eval '[ $RC = 0 ] && je ".data.events_delivered == 1 and .data.companies[0].status == \"unchanged\"" && [ "$(wc -l <"$T/hook.jsonl")" -eq 51 ] && tail -n 1 "$T/hook.jsonl" | jq -e ".type == \"employee.terminated\"" >/dev/null'
stop "$RPID"
GUSTO_WEBHOOK_SECRET=$HOOK_SECRET gsync hookbad --webhook "http://example.com/hook"
check "webhook: plain http to a host that is not loopback is refused (exit 2)" \
    eval '[ $RC = 2 ] && grep -q loopback "$ERR"'
GUSTO_WEBHOOK_SECRET=$HOOK_SECRET gsync hookbad2 --webhook "http://127.0.0.1.example.com/hook"
check "webhook: a host name that only starts with 127. is not loopback" \
    eval '[ $RC = 2 ] && grep -q loopback "$ERR"'
gsync hooknokey --webhook "http://127.0.0.1:$HOOK_PORT/hook"
check "webhook: the key must come from GUSTO_WEBHOOK_SECRET" \
    eval '[ $RC = 2 ] && grep -q GUSTO_WEBHOOK_SECRET "$ERR"'
stop "$SB_PID"

# ---- issue 14: leases after a crash, signals, a closed stdout, a killed delivery (SQLite)

BACKEND=sqlite
new_db lease14
# Two sandboxes on one data file: a slow one (1.5 s a request) that keeps a
# sync holding its lease, and the same company without the delay for the
# runs that only need an answer.
start_sandbox lease14 --seed demo --seed-employees 300 --rate-limit 0 \
    --data "$T/lease14-sb.db" --faults 'delay:1.0@1500' || summary
SLOW_URL=$SB_URL SLOW_PID=$SB_PID
start_sandbox lease14f --seed demo --seed-employees 300 --rate-limit 0 \
    --data "$T/lease14-sb.db" || summary
FAST_URL=$SB_URL FAST_PID=$SB_PID
SB_URL=$SLOW_URL
# fsync TAG ARGS...: gsync against the fast twin
fsync() { SB_URL=$FAST_URL gsync "$@"; SB_URL=$SLOW_URL; }
# slow_sync TAG: a default-named (HOST:PID) sync in the background, once it
# holds the company's lease; sets SPID.
slow_sync() {
    GUSTO_API_BASE_URL=$SB_URL GUSTO_ACCESS_TOKEN=$TOKEN "$GUSTO" sync --db "$DB" --json \
        </dev/null >"$T/$1.json" 2>"$T/$1.err" &
    SPID=$!
    track "$SPID"
    i=0
    while [ $i -lt 200 ] && [ "$(sqlite3 "$DB" "SELECT count(*) FROM gusto_companies WHERE lease_owner IS NOT NULL" 2>/dev/null)" != 1 ]; do
        sleep 0.05; i=$((i + 1))
    done
}
slow_sync live
fsync skipped
check "a run skipped because a live worker holds the lease exits 10 (leased), not 0" \
    eval '[ $RC = 10 ] && je ".ok == false and .error.code == \"leased\" and .error.details.companies[0].status == \"leased\""'
kill -TERM "$SPID"
wait "$SPID"
src=$?
RC=$src
untrack "$SPID"
OUT="$T/live.json"
ERR="$T/live.err"
check "SIGTERM mid-sync: exit 130, nothing written, the lease released" \
    eval '[ $src = 130 ] && [ "$(events_n)" = 0 ] && [ -z "$(dbq "SELECT lease_owner FROM gusto_companies WHERE lease_owner IS NOT NULL")" ] && jq -e ".error.code == \"interrupted\"" "$T/live.json" >/dev/null'
slow_sync crashed
kill -9 "$SPID"
wait "$SPID" 2>/dev/null
untrack "$SPID"
held=$(dbq "SELECT lease_owner FROM gusto_companies WHERE lease_owner IS NOT NULL")
fsync takeover
check "after a crash (kill -9), the next run takes over the dead holder's lease at once" \
    eval '[ -n "$held" ] && [ $RC = 0 ] && je ".data.companies[0] | .status == \"synced\" and .created == 350"'

# serve's worker names itself gusto-serve@HOST:PID: a dead one's lease is
# taken over too, a live one's (this shell) is not.
sh -c 'exit 0' &
deadpid=$!
wait "$deadpid"
far=$(( $(date +%s) * 1000 + 3600000 ))
sqlite3 "$DB" "UPDATE gusto_companies SET lease_owner='gusto-serve@$(hostname):$deadpid', lease_token='t', lease_expires_ms=$far"
fsync servedead
check "a dead gusto-serve@HOST:PID holder's lease is taken over at once" \
    eval '[ $RC = 0 ] && je ".data.companies[0].status == \"unchanged\""'
sqlite3 "$DB" "UPDATE gusto_companies SET lease_owner='gusto-serve@$(hostname):$$', lease_token='t', lease_expires_ms=$far"
fsync servelive
check "a live one's is not (control): skipped, exit 10" \
    eval '[ $RC = 10 ] && je ".error.details.companies[0].status == \"leased\""'
sqlite3 "$DB" "UPDATE gusto_companies SET lease_owner=NULL, lease_token=NULL, lease_expires_ms=NULL"
stop "$SLOW_PID"
stop "$FAST_PID"

# The safeguard counts departures over a window (24 hours), not one run:
# one termination per run, 3 of 48 is over --max-terminations 5.
new_db window14
start_sandbox window14 --seed demo --rate-limit 0 || summary
gsync w0
set -- $(actives)
wrc=""
for e in "$1" "$2" "$3"; do
    api POST "/v1/employees/$e/terminations" "{\"effective_date\":\"$TODAY\"}" >/dev/null
    gsync "w_$e" --max-terminations 5
    wrc="$wrc$RC "
done
check "one departure per run: the first two pass, the third (3 in 24 hours, over 5%) needs --confirm" \
    eval '[ "$wrc" = "0 0 $EXIT_CONFIRM " ] && je ".error.details.companies[0].status == \"refused\"" && j .error.message | grep -q "2 more in the last 24 hours"'
gsync wconfirm --max-terminations 5 --confirm
api POST "/v1/employees/$4/terminations" "{\"effective_date\":\"$TODAY\"}" >/dev/null
gsync wafter --max-terminations 5
check "after a --confirm, the window starts again: the next single departure passes" \
    eval '[ $RC = 0 ] && je ".data.companies[0].terminated == 1"'
stop "$SB_PID"

# (issue 15) A long per-employee phase says up front how many requests it
# needs and the time the rate limit implies: 25 new hires without a work
# address in the list cost one GET each.
new_db est15
start_sandbox est15 --seed demo --rate-limit 0 || summary
gsync e0
check "control: an unchanged company needs no per-employee phase, and says nothing of one" \
    eval '[ $RC = 0 ] && ! grep -q "requests, about" "$ERR" && je ".data.companies[0] | has(\"estimates\") | not"'
add_hires() {
    for i in $(seq "$1" "$2"); do
        api POST "/v1/companies/$SB_COMPANY/employees" \
            "{\"first_name\":\"Est$i\",\"last_name\":\"Mate\",\"email\":\"est$i@example.com\"}" >/dev/null
    done
}
add_hires 1 25
gsync e1
check "25 work addresses to fetch: said up front, at Gusto's 200 requests/min (about 8 s)" \
    eval '[ $RC = 0 ] && grep -q "fetching 25 employees. work addresses: 25 requests, about 8 s at 200 requests/min" "$ERR" && je ".data.companies[0] | .requests.per_employee == 25 and .estimates == [{\"phase\":\"work_addresses\",\"what\":\"employees\u0027 work addresses\",\"requests\":25,\"rate_per_minute\":200,\"seconds\":8}]"'
add_hires 26 50
gsync e2 --rate-limit 100
check "with --rate-limit 100 the estimate uses it (25 requests, about 15 s)" \
    eval '[ $RC = 0 ] && grep -q "25 requests, about 15 s at 100 requests/min" "$ERR" && je ".data.companies[0].estimates[0] | .rate_per_minute == 100 and .seconds == 15"'
add_hires 51 55
gsync e3
check "a short phase (5 requests) is not announced, but is in the result" \
    eval '[ $RC = 0 ] && ! grep -q "requests, about" "$ERR" && je ".data.companies[0].estimates[0].requests == 5"'
# On a terminal, the safeguard's list: the first 10, then how many more.
set -- $(actives)
# 25 of the 103 active (the 55 new hires count) is over 20%.
for e in $(actives | tail -n 25); do
    api POST "/v1/employees/$e/terminations" "{\"effective_date\":\"$TODAY\"}" >/dev/null
done
if command -v script >/dev/null 2>&1; then
    GUSTO_API_BASE_URL=$SB_URL GUSTO_ACCESS_TOKEN=$TOKEN GUSTO_DB=$DB GUSTO_BIN=$GUSTO \
        script -qec '"$GUSTO_BIN" sync --db "$GUSTO_DB" --dry-run --no-progress' /dev/null \
        </dev/null >"$T/guardtty.out" 2>&1
    RC=$?
    OUT="$T/guardtty.out"
    ERR="$T/guardtty.out"
    check "on a terminal, --dry-run lists who would go: 10 names, then 'and 15 more', exit 0" \
        eval '[ $RC = 0 ] && grep -q "would terminate 25:" "$OUT" && [ "$(grep -c "^    [A-Z][a-z]* [A-Z][a-z]* <[^>]*@[^>]*> [0-9a-f-]\{36\}" "$OUT")" = 10 ] && grep -q "and 15 more (all of them with --json)" "$OUT" && grep -q "needs --confirm" "$OUT"'
else
    echo "# skip: script(1) is missing, so the terminal list is not checked"
fi
gsync e4
check "and the real run still stops, exit EXIT_CONFIRM ($EXIT_CONFIRM), with all 25 in JSON" \
    eval '[ $RC = "$EXIT_CONFIRM" ] && je "(.error.details.companies[0].would_terminate | length) == 25"'
stop "$SB_PID"

# 350 events (far more than a pipe holds) to a reader that takes one line.
new_db pipe14
start_sandbox pipe14 --seed demo --seed-employees 300 --rate-limit 0 || summary
{ GUSTO_API_BASE_URL=$SB_URL GUSTO_ACCESS_TOKEN=$TOKEN "$GUSTO" sync --db "$DB" \
    --events - </dev/null 2>"$T/pipe.err"; echo $? >"$T/pipe.rc"; } | head -n 1 >"$T/pipe.out"
prc=$(cat "$T/pipe.rc")
RC=$prc
ERR="$T/pipe.err"
check "--events - | head -n 1: gusto-connect is not killed, exits 12 and says how many events stdout missed" \
    eval '[ "$prc" = 12 ] && grep -Eq "stdout was closed: [1-9][0-9]* events were not written" "$T/pipe.err"'
check "and every event is still in the mirror's log (350)" \
    eval '[ "$(events_n)" = 350 ] && [ "$(wc -l <"$T/pipe.out")" = 1 ]'
stop "$SB_PID"

# A kill during webhook delivery re-sends one event at most, not the batch:
# a receiver that answers each event after 100 ms, gusto-connect killed once it has
# 10, then run again.
new_db kill14
start_sandbox kill14 --seed demo --rate-limit 0 || summary
cat >"$T/slowrecv.js" <<'EOF'
const http = require("http"), fs = require("fs");
const out = process.argv[2];
http.createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => setTimeout(() => {
    fs.appendFileSync(out, req.headers["x-gusto-connect-event-id"] + "\n");
    res.writeHead(204); res.end();
  }, 100));
}).listen(Number(process.argv[3]), "127.0.0.1", () => console.log("ready"));
EOF
KPORT=$(free_port)
node "$T/slowrecv.js" "$T/kill.ids" "$KPORT" >"$T/slowrecv.out" 2>&1 &
KRPID=$!
track "$KRPID"
i=0
while [ $i -lt 100 ] && ! grep -q ready "$T/slowrecv.out" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
: >"$T/kill.ids"
GUSTO_API_BASE_URL=$SB_URL GUSTO_ACCESS_TOKEN=$TOKEN GUSTO_WEBHOOK_SECRET=k14 "$GUSTO" sync \
    --db "$DB" --webhook "http://127.0.0.1:$KPORT/hook" </dev/null >/dev/null 2>&1 &
KPID=$!
track "$KPID"
i=0
while [ $i -lt 300 ] && [ "$(wc -l <"$T/kill.ids")" -lt 10 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 "$KPID"
wait "$KPID" 2>/dev/null
untrack "$KPID"
first=$(wc -l <"$T/kill.ids")
GUSTO_WEBHOOK_SECRET=k14 gsync kill14b --webhook "http://127.0.0.1:$KPORT/hook"
total=$(wc -l <"$T/kill.ids")
uniq=$(sort -u "$T/kill.ids" | wc -l)
echo "# webhook delivery: $first events before the kill, $total in all, $uniq unique"
check "webhook delivery killed after $first events: the re-run sends the rest, one event twice at most" \
    eval '[ $RC = 0 ] && [ "$first" -ge 10 ] && [ "$uniq" = 50 ] && [ $((total - uniq)) -le 1 ]'
stop "$KRPID"
stop "$SB_PID"

# ---- progress bar and rate-limit waits ------------------------------------------------

new_db waits
start_sandbox waits --seed demo --rate-limit 0 --faults '429:0.5' --fault-seed 4 || summary
OUT="$T/waits.json"
ERR="$T/waits.err"
GUSTO_API_BASE_URL=$SB_URL GUSTO_ACCESS_TOKEN=$TOKEN GUSTO_COMPANY_UUID=$SB_COMPANY \
    "$GUSTO" sync --db "$DB" </dev/null >"$OUT" 2>"$ERR"
RC=$?
check "a 429 with Retry-After is waited out and counted" \
    eval '[ $RC = 0 ] && je ".data.companies[0] | .status == \"synced\" and .rate_limit_waits.count >= 1 and .rate_limit_waits.ms >= 1000"'
stop "$SB_PID"
if command -v script >/dev/null 2>&1; then
    new_db tty
    start_sandbox tty --seed demo --seed-employees 300 --rate-limit 0 \
        --faults 'delay:1.0@80' || summary
    GUSTO_API_BASE_URL=$SB_URL GUSTO_ACCESS_TOKEN=$TOKEN GUSTO_DB=$DB GUSTO_BIN=$GUSTO \
        script -qec '"$GUSTO_BIN" sync --db "$GUSTO_DB"' /dev/null </dev/null >"$T/tty.out" 2>&1
    RC=$?
    OUT="$T/tty.out"
    ERR="$T/tty.out"
    check "on a terminal: a progress bar on stderr, then a readable summary" \
        eval '[ $RC = 0 ] && grep -Eq "page [1-9][0-9]*, [1-9][0-9]* requests" "$OUT" && grep -q "requests" "$OUT" && grep -q "created 350, updated 0, terminated 0" "$OUT" && grep -q "per employee" "$OUT"'
    stop "$SB_PID"
else
    echo "# skip: script(1) is missing, so the terminal output is not checked"
fi

# ---- 10,000 employees, on both backends ---------------------------------------------------

start_sandbox big --seed-employees 10000 --rate-limit 0 || summary
for BACKEND in postgres sqlite; do
    new_db "big_$BACKEND"
    t0=$(date +%s.%N)
    gsync "big_$BACKEND"
    t1=$(date +%s.%N)
    secs=$(awk "BEGIN{printf \"%.1f\", $t1 - $t0}")
    echo "# 10k sync on $BACKEND: $secs s in all, $(c0 .duration_ms) ms in the engine"
    check "$BACKEND: 10,000 employees sync with 100 list pages (per=100) and nothing else" \
        eval '[ $RC = 0 ] && je ".data.companies[0] | .status == \"synced\" and .created == 10000 and .requests.total == 100 and .requests.per_employee == 0 and .requests_per_employee == 0.01" && [ "$(events_n)" = 10000 ]'
done
gsync big2
check "sqlite: the unchanged 10,000 re-sync writes nothing ($(c0 .duration_ms) ms, 100 requests)" \
    eval '[ $RC = 0 ] && je ".data.companies[0] | .status == \"unchanged\" and .rows_written == 0 and .requests.total == 100"'

stop "$SB_PID"

summary
