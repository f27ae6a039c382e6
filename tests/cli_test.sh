#!/bin/sh
# cli_test.sh - drives build/gusto-connect against a fresh gusto-sandbox: each
# command's success and failure paths, exit statuses, JSON envelopes, and
# that no secret (the token, an SSN) ever appears in what gusto-connect prints.
#
# Environment: GUSTO (default build/gusto-connect), GUSTO_SANDBOX (default
# build/gusto-sandbox).  Needs jq.  Prints "ok - NAME" / "not ok - NAME" per
# check and ends with "N passed, N failed"; exits 1 if anything failed.
# shellcheck disable=SC2016,SC2034  # checks are eval'd later: single quotes on purpose
set -u
cd "$(dirname "$0")/.." || exit 1

GUSTO=${GUSTO:-build/gusto-connect}
SANDBOX=${GUSTO_SANDBOX:-build/gusto-sandbox}
TOKEN=cli-test-token-7f3a9c
SSN_DIGITS=517293846
pass=0
fail=0
n=0
rc=0
out=/dev/null
err=/dev/null
tmp=$(mktemp -d) || exit 1
# No stored connection leaks in from the machine: commands without a token
# must find none.
export GUSTO_STORE="$tmp/connections.db"
unset GUSTO_CONNECTION GUSTO_STORE_KEY
sbpid=
fpid=

cleanup() {
    if [ -n "$fpid" ]; then
        kill "$fpid" 2>/dev/null
        wait "$fpid" 2>/dev/null
    fi
    if [ -n "$sbpid" ]; then
        kill "$sbpid" 2>/dev/null
        wait "$sbpid" 2>/dev/null
    fi
    [ -n "${KEEP:-}" ] && echo "# outputs kept in $tmp" && return
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() {
    fail=$((fail + 1))
    echo "not ok - $1"
    echo "#   exit $rc; stdout: $(head -c 400 "$out" | tr '\n' ' ')"
    echo "#   stderr: $(head -c 400 "$err" | tr '\n' ' ')"
}

# check NAME COMMAND...: one check, passing when COMMAND succeeds.
check() {
    name=$1
    shift
    if "$@"; then ok "$name"; else not_ok "$name"; fi
}

if ! command -v jq >/dev/null 2>&1; then
    echo "not ok - jq is required"
    echo "0 passed, 1 failed"
    exit 1
fi
if [ ! -x "$GUSTO" ] || [ ! -x "$SANDBOX" ]; then
    echo "not ok - $GUSTO and $SANDBOX must be built (make)"
    echo "0 passed, 1 failed"
    exit 1
fi

# ---- the sandbox --------------------------------------------------------
RO_TOKEN=cli-read-only-token
"$SANDBOX" --port 0 --seed demo --token "$TOKEN" --token "$RO_TOKEN:employees:read" \
    --rate-limit 0 --log \
    >"$tmp/sandbox.out" 2>"$tmp/sandbox.log" &
sbpid=$!
i=0
while [ $i -lt 100 ] && ! grep -q '^listening on ' "$tmp/sandbox.out" 2>/dev/null; do
    sleep 0.1 2>/dev/null || sleep 1
    i=$((i + 1))
done
URL=$(sed -n 's/^listening on //p' "$tmp/sandbox.out" | head -n 1)
COMPANY=$(sed -n 's/^company: //p' "$tmp/sandbox.out" | head -n 1)
if [ -z "$URL" ]; then
    echo "not ok - gusto-sandbox did not start: $(cat "$tmp/sandbox.log")"
    echo "0 passed, 1 failed"
    exit 1
fi
unset GUSTO_ACCESS_TOKEN GUSTO_COMPANY_UUID GUSTO_API_BASE_URL GUSTO_ENV GUSTO_ENVIRONMENT

# ---- helpers ---------------------------------------------------------------

# g ARGS...: run gusto-connect against the sandbox with the token in the environment,
# stdin from $STDIN (default /dev/null).  Sets rc, out, err.
g() {
    n=$((n + 1))
    out=$tmp/out.$n
    err=$tmp/err.$n
    GUSTO_ACCESS_TOKEN=$TOKEN "$GUSTO" --env "$URL" "$@" <"${STDIN:-/dev/null}" \
        >"$out" 2>"$err"
    rc=$?
}

# raw ARGS...: run gusto-connect with nothing added (environment as set by caller).
raw() {
    n=$((n + 1))
    out=$tmp/out.$n
    err=$tmp/err.$n
    "$GUSTO" "$@" <"${STDIN:-/dev/null}" >"$out" 2>"$err"
    rc=$?
}

exit_is() { [ "$rc" -eq "$1" ]; }
# json EXPR: stdout is exactly one JSON document and EXPR holds for it.
json() { [ "$(jq -s 'length' "$out" 2>/dev/null)" = 1 ] && jq -e "$1" "$out" >/dev/null 2>&1; }
# expect RC EXPR
expect() { exit_is "$1" && json "$2"; }
stderr_has() { grep -q -- "$1" "$err"; }
stdout_has() { grep -q -- "$1" "$out"; }
no_output() { [ ! -s "$out" ] && [ ! -s "$err" ]; }
requests_sent() { wc -l <"$tmp/sandbox.log" | tr -d ' '; }

employee_count() {
    GUSTO_ACCESS_TOKEN=$TOKEN "$GUSTO" --env "$URL" employees list </dev/null 2>/dev/null |
        jq '.data | length'
}

write() { printf '%s\n' "$2" >"$tmp/$1"; }

# ---- version and help ------------------------------------------------------

raw --version
check "--version exits 0" eval 'exit_is 0 && stdout_has "^gusto-connect [0-9]"'
for cmd in "--help" "-h" "help" "help employees" "help employees list" \
    "help employees create" "help employees get" "help employees update" \
    "help time-off" "help api" "help help" "employees --help" "employees -h" \
    "employees list --help" "employees list -h" "employees create --help" \
    "employees get --help" "employees get -h" "employees update --help" \
    "time-off --help" "time-off -h" "api --help" "api -h" "--json employees list --help"; do
    # shellcheck disable=SC2086 # split the command words
    raw $cmd
    check "'gusto-connect $cmd' prints usage and exits 0" eval 'exit_is 0 && stdout_has "Usage: gusto-connect"'
done
raw --help
check "--help documents the exit statuses" eval 'stdout_has "12 partial" && stdout_has "9 timeout"'
raw help nosuch
check "help for an unknown command exits 2" eval 'exit_is 2'

# ---- usage errors ------------------------------------------------------------

g nosuch
check "unknown command exits 2 with a usage envelope" expect 2 '.ok == false and .error.code == "usage"'
check "unknown command is named" stderr_has "unknown command 'nosuch'"
g employees list --frobnicate
check "unknown option exits 2 and is named" eval 'exit_is 2 && stderr_has "frobnicate" && stderr_has "expected --search"'
g employees list --search
check "missing option value exits 2" eval 'exit_is 2 && stderr_has "needs a value"'
g employees list --terminated --active
check "--terminated with --active exits 2" expect 2 '.error.code == "usage"'
g employees get
check "employees get without UUID exits 2" eval 'exit_is 2 && stderr_has "UUID"'
g employees
check "employees without subcommand exits 2" eval 'exit_is 2'
g employees fire
check "unknown subcommand exits 2" eval 'exit_is 2 && stderr_has "fire"'
g api GET
check "api without PATH exits 2" eval 'exit_is 2'
g time-off 02dd30e1-a13e-4bd5-8e72-ef5d8deb0f06 --type holiday
check "time-off --type holiday exits 2" eval 'exit_is 2 && stderr_has "holiday"'
raw --env nowhere employees list
check "--env with a bad value exits 2" eval 'exit_is 2 && stderr_has "nowhere"'
g --company not-a-uuid employees list
check "--company that is not a UUID exits 2" eval 'exit_is 2'
g --timeout abc employees list
check "--timeout abc exits 2" eval 'exit_is 2 && stderr_has "timeout"'
g api GET /v1/token_info --data '{}' --input /dev/null
check "api with --data and --input exits 2" eval 'exit_is 2'

# ---- environment names: ours and Gusto's CLI's (GUSTO_ENVIRONMENT) ---------------

GUSTO_ENVIRONMENT=staging raw --version
check "GUSTO_ENVIRONMENT is read: a bad value exits 2 naming it" \
    eval 'exit_is 2 && stderr_has "GUSTO_ENVIRONMENT .staging. is not demo, production, sandbox"'
GUSTO_ENV=demo GUSTO_ENVIRONMENT=production raw --version
check "GUSTO_ENV=demo with GUSTO_ENVIRONMENT=production exits 2 naming both" \
    eval 'exit_is 2 && stderr_has "GUSTO_ENV=demo and GUSTO_ENVIRONMENT=production name different environments"'
GUSTO_ENV=demo GUSTO_ENVIRONMENT=sandbox raw --version
check "GUSTO_ENV=demo with GUSTO_ENVIRONMENT=sandbox agree (exit 0)" exit_is 0
GUSTO_API_BASE_URL=https://api.gusto.com GUSTO_ENVIRONMENT=sandbox raw --version
check "GUSTO_API_BASE_URL production with GUSTO_ENVIRONMENT=sandbox exits 2 naming both" \
    eval 'exit_is 2 && stderr_has "GUSTO_API_BASE_URL=https://api.gusto.com and GUSTO_ENVIRONMENT=sandbox"'
GUSTO_ENV=demo GUSTO_ENVIRONMENT=production raw --env "$URL" --version
check "--env settles it: the variables are not consulted (exit 0)" exit_is 0
GUSTO_ACCESS_TOKEN=$TOKEN GUSTO_API_BASE_URL=$URL GUSTO_ENVIRONMENT=production raw api GET /v1/token_info
check "a loopback GUSTO_API_BASE_URL wins over GUSTO_ENVIRONMENT, as in Gusto's CLI" \
    expect 0 '.ok == true and .data.resource.uuid != null'

# ---- the token ----------------------------------------------------------------

raw --env "$URL" --token SECRET-ON-ARGV employees list
check "--token on argv exits 2" expect 2 '.error.code == "usage"'
check "--token message points at GUSTO_ACCESS_TOKEN and --token-stdin" \
    eval 'stderr_has GUSTO_ACCESS_TOKEN && stderr_has -- --token-stdin'
check "--token value is not echoed" eval '! grep -q SECRET-ON-ARGV "$out" "$err"'
raw --env "$URL" employees list --token=SECRET-ON-ARGV
check "--token=X after the command exits 2" eval 'exit_is 2 && ! grep -q SECRET-ON-ARGV "$out" "$err"'
raw --env "$URL" employees list
check "no token exits 3" expect 3 '.ok == false and .error.code == "authentication_failed"'
GUSTO_ACCESS_TOKEN=wrong-token raw --env "$URL" employees list
check "a rejected token exits 3" expect 3 '.error.details.http_status == 401'
printf '%s\n' "$TOKEN" >"$tmp/token.txt"
STDIN=$tmp/token.txt raw --env "$URL" --token-stdin api GET /v1/token_info
check "--token-stdin reads the token" expect 0 '.ok == true and .data.resource.uuid != null'
write ok.json '{"first_name":"Stdin","last_name":"Clash"}'
STDIN=$tmp/token.txt raw --env "$URL" --token-stdin employees create --input -
check "--token-stdin with --input - exits 2" eval 'exit_is 2'
STDIN=$tmp/token.txt raw --env "$URL" --token-stdin employees create --dry-run --input "$tmp/ok.json"
check "--token-stdin with --input FILE works" expect 0 '.data.dry_run == true'

# ---- environment ---------------------------------------------------------------

GUSTO_ACCESS_TOKEN=$TOKEN GUSTO_API_BASE_URL=$URL raw api GET /v1/token_info
check "GUSTO_API_BASE_URL selects the API" expect 0 '.ok == true'
GUSTO_ACCESS_TOKEN=$TOKEN GUSTO_API_BASE_URL=http://127.0.0.1:1 raw --env "$URL" api GET /v1/token_info
check "--env wins over GUSTO_API_BASE_URL" expect 0 '.ok == true'
GUSTO_ACCESS_TOKEN=$TOKEN GUSTO_ENV=bogus raw --env "$URL" api GET /v1/token_info
check "--env wins over GUSTO_ENV" expect 0 '.ok == true'
GUSTO_ACCESS_TOKEN=$TOKEN raw --env http://127.0.0.1:1 --retries 0 --timeout 5 api GET /v1/token_info
check "no server exits 6" expect 6 '.error.code == "network_error"'
GUSTO_ACCESS_TOKEN=$TOKEN raw --env http://example.com api GET /v1/token_info
check "plain http to a non-loopback host exits 2" eval 'exit_is 2'

# ---- employees list --------------------------------------------------------------

g employees list
check "employees list exits 0 with every seeded employee" expect 0 '.ok == true and (.data | length) == 50'
check "employees list items are employees" json '.data | all(.uuid and .first_name)'
E=$(jq -r '.data[0].uuid' "$out")
E_NAME=$(jq -r '.data[0].first_name' "$out")
g employees get 11111111-2222-4333-8444-555555555555
check "an unknown employee: the CLI's own advice names its command (the library's reason)" \
    expect 4 '.error.code == "not_found" and (.error.hint | contains("gusto-connect employees list --search"))'
g employees list --search "$E_NAME"
check "employees list --search" expect 0 "(.data | length) >= 1 and (.data | all(.first_name == \"$E_NAME\" or (.last_name | test(\"$E_NAME\"; \"i\")) or (.first_name | test(\"$E_NAME\"; \"i\"))))"
g employees list --search zzzznobody
check "employees list --search with no match is an empty array" expect 0 '.data == []'
g employees list --terminated
check "employees list --terminated" expect 0 '(.data | length) == 3'
g employees list --active
check "employees list --active has no terminated employee" expect 0 '(.data | length) > 0 and (.data | all(.terminated == false))'
g employees list --include current_home_address
check "employees list --include" expect 0 '.data | all(has("current_home_address"))'
g employees list --include bogus
check "employees list --include bogus exits 4" expect 4 '.ok == false and .error.details.http_status == 422'
g employees list --json --search "$E_NAME"
check "global options after the command" expect 0 '.ok == true'

# ---- employees get ---------------------------------------------------------------

g employees get "$E"
check "employees get exits 0" expect 0 ".data.uuid == \"$E\" and (.data.jobs | length) >= 1 and .data.current_work_address.uuid != null"
g employees get 00000000-0000-4000-8000-000000000000
check "employees get of an unknown employee exits 4" expect 4 '.ok == false and .error.code == "not_found"'
check "not-found envelope has status and request id" json '.error.details.http_status == 404 and (.error.request_id | type) == "string"'
check "not-found error also reads on stderr" stderr_has "gusto-connect: error:"
g employees get not-a-uuid
check "employees get of a malformed UUID exits 7" expect 7 '.error.details.field == "employee_uuid"'

# ---- employees create --------------------------------------------------------------

before=$(employee_count)
write full.json '{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.com",
 "ssn":"517-29-3846","date_of_birth":"1990-12-10",
 "home_address":{"street_1":"1 Main St","city":"Denver","state":"CO","zip":"80202"},
 "work_address":{"location":"Denver"},
 "job":{"title":"Analyst","hire_date":"2024-01-15"},
 "compensation":{"rate":"120000.00","payment_unit":"Year","flsa_status":"Exempt"}}'
sent=$(requests_sent)
raw employees create --input "$tmp/full.json" --dry-run
check "create --dry-run exits 0 without a token" expect 0 '.data.dry_run == true and (.data.requests | length) >= 5'
check "create --dry-run sends nothing" eval '[ "$(requests_sent)" = "$sent" ]'
check "create --dry-run shows the employee POST" json '.data.requests[0].method == "POST" and (.data.requests[0].path | endswith("/employees"))'
check "create --dry-run masks the SSN" json '.data.requests[0].body.ssn == "***-**-3846"'
check "create --dry-run prints no SSN" eval '! grep -q -e "$SSN_DIGITS" -e "517-29-3846" "$out" "$err"'
check "create --dry-run sets the pay on the job's own compensation (PUT, no POST)" json '.data.requests[-1].method == "PUT" and (.data.requests[-1].path | startswith("/v1/compensations/")) and ([.data.requests[] | select(.method == "POST" and (.path | test("compensations")))] | length) == 0'
g employees create --input "$tmp/full.json"
check "create exits 0 with every part" expect 0 '.ok == true and .data.warnings == [] and .data.employee.uuid != null'
check "create made the job and the addresses" json '.data.employee.jobs[0].title == "Analyst" and .data.employee.current_home_address.city == "Denver" and .data.employee.current_work_address.city == "Denver"'
ADA=$(jq -r '.data.employee.uuid' "$out")
ADA_JOB=$(jq -r '.data.employee.jobs[0].uuid' "$out")
# Gusto's flow: the job comes with a $0 hourly compensation, whose pay is set.
check "create updated the job's compensation (PUT /v1/compensations/...)" eval 'grep -q "PUT /v1/compensations/" "$tmp/sandbox.log"'
check "create sent no POST to /compensations" eval '! grep -q "POST /v1/jobs/[^ ]*/compensations" "$tmp/sandbox.log"'
g api GET "/v1/jobs/$ADA_JOB/compensations?include=all_compensations"
check "create left exactly one compensation, with the pay from the hire date" expect 0 '(.data | length) == 1 and .data[0].rate == "120000.00" and .data[0].payment_unit == "Year" and .data[0].flsa_status == "Exempt" and .data[0].effective_date == "2024-01-15"'
check "create prints no SSN" eval '! grep -q -e "$SSN_DIGITS" -e "517-29-3846" "$out" "$err"'
after=$(employee_count)
check "create added one employee" eval '[ "$after" -eq $((before + 1)) ]'

# ---- no duplicate people: the same person again is refused --------------------------
before=$(employee_count)
sent=$(requests_sent)
g employees create --input "$tmp/full.json"
check "create of the same person again exits 11 (duplicate_employee)" expect 11 '.ok == false and .error.code == "duplicate_employee" and .error.details.field == "email"'
check "the refusal names the existing employee (uuid, name)" eval 'json ".error.details.duplicate_of.uuid == \"$ADA\" and .error.details.duplicate_of.last_name == \"Lovelace\"" && stderr_has "$ADA" && stderr_has "Ada Lovelace"'
check "the refusal's hint names --allow-duplicate" json '.error.hint | contains("--allow-duplicate")'
check "the refusal sent no write" eval '! tail -n +$((sent + 1)) "$tmp/sandbox.log" | grep -q -e "^POST" -e "^PUT" -e " POST " -e " PUT "'
check "the refusal prints no SSN" eval '! grep -q -e "$SSN_DIGITS" -e "517-29-3846" "$out" "$err"'
check "the refusal created nobody" eval '[ "$(employee_count)" -eq "$before" ]'
# The email is compared without regard to case, and against work_email too.
write dupcase.json '{"first_name":"Augusta","last_name":"King","work_email":"ADA@Example.com"}'
g employees create --input "$tmp/dupcase.json"
check "a work_email equal to an employee's email in other case is a duplicate" expect 11 '.error.details.field == "work_email" and .error.details.duplicate_of.uuid != null'
# Gusto never returns an SSN: the name and date of birth stand in for it.
write dupdob.json '{"first_name":"ada","last_name":"LOVELACE","date_of_birth":"1990-12-10","email":"countess@example.com"}'
g employees create --input "$tmp/dupdob.json"
check "the same name and date of birth is a duplicate" expect 11 '.error.details.field == "first_name,last_name,date_of_birth"'
# Positive control: a different person goes through.
write other.json '{"first_name":"Grace","last_name":"Hopper","email":"grace@example.com","date_of_birth":"1990-12-10"}'
g employees create --input "$tmp/other.json"
check "a different person is created (exit 0)" expect 0 '.ok == true and .data.employee.last_name == "Hopper"'
check "...and only that one" eval '[ "$(employee_count)" -eq $((before + 1)) ]'
g employees create --input "$tmp/full.json" --allow-duplicate
check "--allow-duplicate creates a true second record" expect 0 '.ok == true and .data.employee.uuid != null and .data.employee.uuid != "'"$ADA"'"'
ADA2=$(jq -r '.data.employee.uuid' "$out")
check "...so there are two Ada Lovelaces" eval '[ "$(employee_count)" -eq $((before + 2)) ]'
# A terminated employee is not a duplicate: the person may be re-hired.
# (A termination needs a hire date, which a new employee lacks: a seeded one is used.)
g employees list --terminated
GONE=$(jq -r '[.data[] | select(.terminated == true and .email != null)][0].email' "$out")
g employees list --active
HERE=$(jq -r '[.data[] | select(.email != null)][0].email' "$out")
write rehire.json '{"first_name":"Re","last_name":"Hire","email":"'"$HERE"'"}'
g employees create --input "$tmp/rehire.json"
check "an active seeded employee's email is a duplicate (the control)" expect 11 '.error.code == "duplicate_employee"'
write rehire.json '{"first_name":"Re","last_name":"Hire","email":"'"$GONE"'"}'
g employees create --input "$tmp/rehire.json"
check "a terminated employee's email is not: a re-hire is created" eval '[ -n "$GONE" ] && [ "$GONE" != null ] && expect 0 ".ok == true"'

write stdin.json '{"first_name":"Piped","last_name":"Input"}'
STDIN=$tmp/stdin.json g employees create
check "create reads stdin when it is not a terminal" expect 0 '.data.employee.first_name == "Piped"'
STDIN=$tmp/stdin.json g employees create --input -
check "create --input - reads stdin" expect 0 '.data.employee.first_name == "Piped"'

before=$(employee_count)
sent=$(requests_sent)
write badssn.json '{"first_name":"Bad","last_name":"Ssn","ssn":"12-34"}'
g employees create --input "$tmp/badssn.json"
check "create with a bad ssn exits 7" expect 7 '.ok == false and .error.details.field == "ssn"'
check "create with a bad ssn does not echo it" eval '! grep -q "12-34" "$out" "$err"'
write malformed.json '{"first_name": "Ada",'
g employees create --input "$tmp/malformed.json"
check "create with malformed JSON exits 7 naming the position" expect 7 '.error.message | test("line [0-9]+")'
write array.json '[{"first_name":"Ada"}]'
g employees create --input "$tmp/array.json"
check "create with a JSON array exits 7" expect 7 '.error.message | test("object")'
write empty.json ''
g employees create --input "$tmp/empty.json"
check "create with empty input exits 7" expect 7 '.ok == false'
write unknown.json '{"first_name":"Ada","last_name":"X","favourite_colour":"blue"}'
g employees create --input "$tmp/unknown.json"
check "create with an unknown field exits 7" expect 7 '.error.details.field == "favourite_colour"'
g employees create --input "$tmp/badssn.json" --dry-run
check "create --dry-run with a bad ssn exits 7" expect 7 '.error.details.field == "ssn"'
# Every bad field at once, not one per try.
write multi.json '{"first_name":"","last_name":"X","email":"ada-at-example","home_address":{"street_1":"1 A","city":"B","state":"ZZ","zip":"9410"}}'
g employees create --input "$tmp/multi.json"
check "create lists every problem (exit 7)" expect 7 '[.error.details.errors[].field] == ["first_name","email","home_address.state","home_address.zip"]'
check "create names the first problem and the count" json '.error.details.field == "first_name" and (.error.message | endswith("(and 3 more problems)"))'
check "create prints each problem on stderr" eval 'stderr_has "  - email must be an email address" && stderr_has "  - home_address.zip must be a US zip code"'
g employees create --input "$tmp/multi.json" --dry-run
check "create --dry-run lists every problem too" expect 7 '.error.details.errors | length == 4'
write updmulti.json '{"date_of_birth":"1990-02-30","home_address":{"state":"California"}}'
g employees update "$ADA" --input "$tmp/updmulti.json"
check "update lists every problem (exit 7)" expect 7 '[.error.details.errors[].field] == ["date_of_birth","home_address.state"]'
g employees create --input "$tmp/does-not-exist.json"
check "create with a missing file exits 2" eval 'exit_is 2 && stderr_has "does-not-exist"'
check "refused input sent nothing" eval '[ "$(requests_sent)" = "$sent" ]'
after=$(employee_count)
check "refused input created nobody" eval '[ "$after" -eq "$before" ]'

write partial.json '{"first_name":"Part","last_name":"Ial",
 "work_address":{"location_uuid":"00000000-0000-4000-8000-000000000001"},
 "job":{"title":"Clerk","hire_date":"2024-02-01"}}'
g employees create --input "$tmp/partial.json"
check "create with an unknown location exits 12" expect 12 '.ok == true and .data.employee.uuid != null'
check "the partial create warns about work_address" json '.data.warnings | length == 1 and .[0].entity == "work_address" and (.[0].hint | length) > 0'
check "the partial create still made the job" json '.data.employee.jobs[0].title == "Clerk"'
check "the partial create warning is on stderr" stderr_has "work_address"

# ---- employees update -----------------------------------------------------------------

write upd.json '{"preferred_first_name":"Countess","job":{"title":"Lead Analyst"},"home_address":{"zip":"80203"}}'
sent=$(requests_sent)
g employees update "$ADA" --input "$tmp/upd.json" --dry-run
check "update --dry-run exits 0" expect 0 '.data.dry_run == true and (.data.requests | map(.method) | all(. == "PUT"))'
check "update --dry-run sends nothing" eval '[ "$(requests_sent)" = "$sent" ]'
g employees update "$ADA" --input "$tmp/upd.json"
check "update exits 0 and returns the employee" expect 0 '.data.preferred_first_name == "Countess" and .data.current_home_address.zip == "80203"'
check "update changed the primary job" json '[.data.jobs[] | select(.primary)][0].title == "Lead Analyst"'
STDIN=$tmp/upd.json g employees update "$ADA"
check "update reads stdin" expect 0 '.ok == true'
write updssn.json '{"ssn":"987-65-4321"}'
g employees update "$ADA" --input "$tmp/updssn.json" --dry-run
check "update --dry-run masks the SSN" expect 0 '.data.requests[0].body.ssn == "***-**-4321"'
check "update --dry-run prints no SSN" eval '! grep -q -e 987654321 -e 987-65-4321 "$out" "$err"'
# A pay change is a new compensation; the pay before it stays.
RAISE_ON=$(date -d "+20 days" +%Y-%m-%d)
write raise.json "{\"compensation\":{\"rate\":\"130000.00\",\"effective_date\":\"$RAISE_ON\"}}"
writes() { grep -c -E '^(POST|PUT|DELETE) ' "$tmp/sandbox.log"; }
w=$(writes)
g employees update "$ADA" --input "$tmp/raise.json" --dry-run
check "update --dry-run of a raise shows the old pay and the new" expect 0 '.data.pay.old.rate == "120000.00" and .data.pay.old.effective_date == "2024-01-15" and .data.pay.new.rate == "130000.00" and .data.pay.new.effective_date == "'"$RAISE_ON"'" and .data.pay.new.payment_unit == "Year"'
check "update --dry-run of a raise plans a new compensation" json '.data.requests[-1].method == "POST" and (.data.requests[-1].path | endswith("/compensations"))'
check "update --dry-run of a raise only reads" eval '[ "$(writes)" = "$w" ] && [ "$(requests_sent)" -gt "$sent" ]'
g employees update "$ADA" --input "$tmp/raise.json"
check "update with a raise exits 0" expect 0 '.ok == true'
g api GET "/v1/jobs/$ADA_JOB/compensations?include=all_compensations"
check "the raise is a second compensation; the first is unchanged" expect 0 '(.data | length) == 2 and .data[0].rate == "120000.00" and .data[0].effective_date == "2024-01-15" and .data[1].rate == "130000.00" and .data[1].effective_date == "'"$RAISE_ON"'"'
write fix.json '{"compensation":{"rate":"121000.00"}}'
g employees update "$ADA" --input "$tmp/fix.json" --correct --dry-run
check "update --correct --dry-run plans a PUT of the current compensation" expect 0 '.data.requests[-1].method == "PUT" and (.data.pay.how | test("in place")) and .data.pay.old.rate == "120000.00" and .data.pay.new.rate == "121000.00"'
g employees update "$ADA" --input "$tmp/fix.json" --correct
check "update --correct exits 0" expect 0 '.ok == true'
g api GET "/v1/jobs/$ADA_JOB/compensations?include=all_compensations"
check "update --correct corrected the current compensation in place" expect 0 '(.data | length) == 2 and .data[0].rate == "121000.00" and .data[0].effective_date == "2024-01-15" and .data[1].rate == "130000.00"'
g employees update "$ADA" --input "$tmp/fix.json"
check "a pay change while one is pending exits 4 naming it" eval 'exit_is 4 && json ".error.details.field == \"compensation\"" && json ".error.message | test(\"pending\")" && json ".error.message | contains(\"'"$RAISE_ON"'\")"'
write paybad.json '{"compensation":{"payment_unit":"Paycheck","flsa_status":"Exempt","effective_date":"2099-01-01"}}'
sent=$(requests_sent)
g employees update "$ADA" --input "$tmp/paybad.json"
check "a pay change Gusto's rules refuse is refused before sending (exit 7)" eval 'expect 7 "[.error.details.errors[].field] == [\"compensation.effective_date\",\"compensation.payment_unit\"]" && [ "$(requests_sent)" = "$sent" ]'
check "naming the rule" json '.error.details.errors[1].message | test("Owner")'
write updbad.json '{"date_of_birth":"1990-02-30"}'
g employees update "$ADA" --input "$tmp/updbad.json"
check "update with a bad date exits 7" expect 7 '.error.details.field == "date_of_birth"'
g employees update "$ADA" --input "$tmp/updbad.json" --dry-run
check "update --dry-run with a bad date exits 7" expect 7 '.error.details.field == "date_of_birth"'
g employees update 00000000-0000-4000-8000-000000000000 --input "$tmp/upd.json"
check "update of an unknown employee exits 4" expect 4 '.error.code == "not_found"'
write updzip.json '{"home_address":{"zip":"bad"}}'
sent=$(requests_sent)
g employees update "$ADA" --input "$tmp/updzip.json"
check "update with a bad nested field exits 7 before sending" eval 'expect 7 ".error.details.field == \"home_address.zip\"" && [ "$(requests_sent)" = "$sent" ]'
g employees update "$ADA" --input "$tmp/malformed.json"
check "update with malformed JSON exits 7" expect 7 '.error.details.field == "input"'

# A partial update said in full: the employee and home address are written,
# Gusto refuses the work address (a location that is not the company's), and
# the job is never sent.
write updpart.json '{"preferred_first_name":"Augusta","home_address":{"zip":"80205"},
 "work_address":{"location_uuid":"00000000-0000-4000-8000-000000000001"},"job":{"title":"Never Sent"}}'
g employees update "$ADA" --input "$tmp/updpart.json"
check "a partial update fails (exit 4)" expect 4 '.ok == false'
check "...saying what was applied" json '.error.details.update.applied == [{"part":"employee","fields":["preferred_first_name"]},{"part":"home_address","fields":["zip"]}]'
check "...and what was not" json '[.error.details.update.not_applied[].part] == ["work_address","job"]'
check "...with the failing call and its Gusto request id" json '.error.details.update.failed.part == "work_address" and .error.details.update.failed.http_status == 422 and (.error.details.update.failed.request_id | length) > 0 and .error.details.update.failed.request_id == .error.request_id'
check "...said on stderr too" eval 'stderr_has "applied: employee (preferred_first_name), home_address (zip)" && stderr_has "not applied: work_address (location_uuid), job (title)" && stderr_has "Gusto request id"'
g employees get "$ADA"
check "...and Gusto holds exactly the applied parts" expect 0 '.data.preferred_first_name == "Augusta" and .data.current_home_address.zip == "80205" and ([.data.jobs[] | select(.title == "Never Sent")] | length) == 0'

# ---- time-off ----------------------------------------------------------------------------

g time-off "$E"
check "time-off exits 0 with both balances" expect 0 ".data.employee_uuid == \"$E\" and (.data.balances | length) == 2"
g time-off "$E" --type vacation
check "time-off --type vacation" expect 0 '(.data.balances | length) == 1 and .data.balances[0].time_off_type == "vacation"'
g time-off "$E" --type sick
check "time-off --type sick" expect 0 '.data.balances | all(.time_off_type == "sick")'
g time-off "$E" --type all
check "time-off --type all" expect 0 '(.data.balances | length) == 2'
g time-off 00000000-0000-4000-8000-000000000000
check "time-off of an unknown employee exits 4" expect 4 '.error.code == "not_found"'
g time-off
check "time-off without UUID exits 2" eval 'exit_is 2'

# ---- api ----------------------------------------------------------------------------------

g api GET '/v1/companies/{company_uuid}'
check "api GET /v1/companies/{company_uuid}" expect 0 ".ok == true and .data.uuid == \"$COMPANY\""
g api GET "$URL/v1/companies/$COMPANY/locations"
check "api with an absolute URL to the base URL" expect 0 '(.data | length) >= 1'
g api GET https://evil.example.com/v1/token_info
check "api with an absolute URL to another host exits 7" expect 7 '.error.details.field == "path"'
g api GET /v1/employees/00000000-0000-4000-8000-000000000000
check "api GET of an unknown employee exits 4 with the body" expect 4 '.error.details.http_status == 404 and (.error.details.response.errors | length) >= 1'
g api FETCH /v1/token_info
check "api with a bad method exits 7" expect 7 '.error.details.field == "method"'
g api POST '/v1/companies/{company_uuid}/locations' --data '{"street_1":'
check "api with malformed --data exits 7" expect 7 '.error.message | test("--data is not valid JSON")'
# Security review, Medium 8: jansson's error text quotes the input ("near
# '517293846.'"); a parse error says line, column and what was expected,
# never the input.  Positive control: the position is named.
no_ssn() { ! grep -q "$SSN_DIGITS" "$out" "$err"; }
names_position() { jq -e '.error.message | test("line 1, column [0-9]+")' "$out" >/dev/null; }
printf '{"first_name":"Ada","ssn":%s.}\n' "$SSN_DIGITS" >"$tmp/ssn_token.json"
printf '{"first_name":"Ada","ssn":"%s\n"}\n' "$SSN_DIGITS" >"$tmp/ssn_newline.json"
printf '[{"external_id":"x1","first_name":"Ada","ssn":%s.}]\n' "$SSN_DIGITS" >"$tmp/ssn_batch.json"
for f in ssn_token ssn_newline; do
    g employees create --input "$tmp/$f.json"
    check "employees create with malformed JSON ($f) exits 7 naming the position" \
        eval 'exit_is 7 && names_position'
    check "employees create with malformed JSON ($f) never prints the SSN" no_ssn
    g employees update "$ADA" --input "$tmp/$f.json"
    check "employees update with malformed JSON ($f) never prints the SSN" \
        eval 'exit_is 7 && names_position && no_ssn'
done
g api POST '/v1/companies/{company_uuid}/employees' --data "{\"ssn\":$SSN_DIGITS.}"
check "api --data with malformed JSON names the position, never the SSN" \
    eval 'exit_is 7 && names_position && no_ssn'
g batch create --input "$tmp/ssn_batch.json"
check "batch create with malformed JSON names the line, never the SSN" \
    eval '[ "$rc" != 0 ] && grep -q "line 1, column" "$out" "$err" && no_ssn'
g api PUT "/v1/employees/$ADA" --data '{"first_name":"NoVersion"}'
check "api PUT without version exits 4 (422)" expect 4 '.error.details.http_status == 422 and .error.details.error_key == "version"'
write loc.json '{"phone_number":"3035550100","street_1":"1 Test Way","city":"Boulder","state":"CO","zip":"80301"}'
g api POST '/v1/companies/{company_uuid}/locations' --input "$tmp/loc.json"
check "api POST --input creates" expect 0 '.data.city == "Boulder"'
STDIN=$tmp/loc.json g api POST '/v1/companies/{company_uuid}/locations' --input -
check "api POST --input - reads stdin" expect 0 '.data.city == "Boulder"'
g api DELETE "/v1/employees/$E"
check "api DELETE of an onboarded employee exits 4 (422)" expect 4 '.error.details.http_status == 422 and .error.details.category == "invalid_operation"'

# ---- a listing that fails half-way ---------------------------------------------------
# A second sandbox injects 500s; with no retries some seed fails a later
# page after earlier pages were printed.  The envelope must still parse and
# end with "ok":false, and the exit status must say 5.
found=0
for seed in 1 2 3 4 5 6 7 8 9 10 11 12; do
    "$SANDBOX" --port 0 --seed demo --seed-employees 300 --token "$TOKEN" --rate-limit 0 \
        --faults 500:0.3 --fault-seed "$seed" >"$tmp/faulty.out" 2>/dev/null &
    fpid=$!
    i=0
    while [ $i -lt 100 ] && ! grep -q '^listening on ' "$tmp/faulty.out" 2>/dev/null; do
        sleep 0.1 2>/dev/null || sleep 1
        i=$((i + 1))
    done
    FURL=$(sed -n 's/^listening on //p' "$tmp/faulty.out" | head -n 1)
    n=$((n + 1))
    out=$tmp/out.$n
    err=$tmp/err.$n
    GUSTO_ACCESS_TOKEN=$TOKEN "$GUSTO" --env "$FURL" --retries 0 --company "$COMPANY" \
        employees list </dev/null >"$out" 2>"$err"
    rc=$?
    kill "$fpid" 2>/dev/null
    wait "$fpid" 2>/dev/null
    fpid=
    if [ "$rc" -ne 0 ] && [ "$(jq '.data | length' "$out" 2>/dev/null)" -gt 0 ] 2>/dev/null; then
        found=1
        break
    fi
done
check "a listing failing half-way still ends in one JSON document" eval '[ $found = 1 ] && json "(.data | length) > 0"'
check "a listing failing half-way reads ok:false and exits 5" expect 5 '.ok == false and .error.details.http_status == 500'

# ---- verbose and quiet ----------------------------------------------------------------------

g --verbose api GET /v1/token_info
check "--verbose traces requests on stderr" eval 'exit_is 0 && stderr_has "^gusto-connect: " && stderr_has "GET"'
check "--verbose redacts the Authorization header" eval '! grep -qi "authorization: bearer" "$err"'
g --quiet employees get 00000000-0000-4000-8000-000000000000
check "--quiet keeps stderr empty in JSON mode" eval 'exit_is 4 && [ ! -s "$err" ]'

# ---- a terminal -----------------------------------------------------------------------------

if script -qec true /dev/null >/dev/null 2>&1; then
    n=$((n + 1))
    out=$tmp/out.$n
    err=$tmp/err.$n
    GUSTO_ACCESS_TOKEN=$TOKEN script -qec "$GUSTO --env $URL employees list --search $E_NAME" \
        /dev/null >"$out" 2>"$err" </dev/null
    rc=$?
    check "on a terminal employees list is a table" eval 'exit_is 0 && stdout_has "UUID" && stdout_has "DEPARTMENT" && ! stdout_has "\"ok\""'
    n=$((n + 1))
    out=$tmp/out.$n
    GUSTO_ACCESS_TOKEN=$TOKEN script -qec "$GUSTO --env $URL employees get 00000000-0000-4000-8000-000000000000" \
        /dev/null >"$out" 2>"$err" </dev/null
    rc=$?
    check "on a terminal an error is readable" eval 'exit_is 4 && stdout_has "gusto-connect: error:" && stdout_has "request id:"'
    n=$((n + 1))
    out=$tmp/out.$n
    GUSTO_ACCESS_TOKEN=$TOKEN script -qec "$GUSTO --env $URL --json employees get $E" \
        /dev/null >"$out" 2>"$err" </dev/null
    rc=$?
    check "--json forces the envelope on a terminal" eval 'exit_is 0 && stdout_has "\"ok\":true"'
else
    echo "# script(1) not usable: terminal checks skipped"
fi

# ---- API versions ------------------------------------------------------------
# A second sandbox on a pinned date (2026-12-03) and the CLI's version checks
# on the same date (GUSTO_TODAY), so these hold whatever the calendar says.
# Each command names its version (GUSTO_API_VERSION= unsets the stage's pin).
"$SANDBOX" --port 0 --token "$TOKEN" --rate-limit 0 --log --today 2026-12-03 \
    >"$tmp/vsandbox.out" 2>"$tmp/vsandbox.log" &
fpid=$!
i=0
while [ $i -lt 100 ] && ! grep -q '^listening on ' "$tmp/vsandbox.out" 2>/dev/null; do
    sleep 0.1 2>/dev/null || sleep 1
    i=$((i + 1))
done
VURL=$(sed -n 's/^listening on //p' "$tmp/vsandbox.out" | head -n 1)
vsent() { wc -l <"$tmp/vsandbox.log" | tr -d ' '; }
# v VERSION-ENV ARGS...: gusto-connect against the pinned sandbox, GUSTO_API_VERSION=$1.
v() {
    n=$((n + 1))
    out=$tmp/out.$n
    err=$tmp/err.$n
    venv=$1
    shift
    GUSTO_API_VERSION=$venv GUSTO_TODAY=2026-12-03 GUSTO_ACCESS_TOKEN=$TOKEN \
        "$GUSTO" --env "$VURL" "$@" </dev/null >"$out" 2>"$err"
    rc=$?
}
warnings() { grep -c "warning: Gusto API version" "$err"; }
ACCEPTED="2025-11-15, 2026-02-01, 2026-06-15, 2026-12-01"

before=$(vsent)
v "" --api-version 2025-06-15 api GET /v1/token_info
check "--api-version 2025-06-15 (retired) exits 2 naming api_version" \
    expect 2 '.ok == false and .error.details.field == "api_version"'
check "the refusal names the versions Gusto accepts today" \
    eval 'stderr_has "$ACCEPTED" && jq -e ".error.message | contains(\"$ACCEPTED\")" "$out" >/dev/null'
check "the refusal says how to choose one" stderr_has "GUSTO_API_VERSION"
v 2025-06-15 api GET /v1/token_info
check "GUSTO_API_VERSION=2025-06-15 is refused too (exit 2)" expect 2 '.error.details.field == "api_version"'
v "" --api-version 2026-03-01 api GET /v1/token_info
check "an unknown version exits 2" eval 'exit_is 2 && stderr_has "is not a Gusto API version"'
v "" --api-version latest api GET /v1/token_info
check "a malformed version exits 2" eval 'exit_is 2 && stderr_has "api_version"'
check "nothing reached the sandbox for a refused version" eval '[ "$(vsent)" = "$before" ]'

v 2025-06-15 --api-version 2026-06-15 api GET /v1/token_info
check "--api-version wins over GUSTO_API_VERSION and is sent (positive control)" \
    eval 'exit_is 0 && [ "$(vsent)" = "$((before + 1))" ]'
check "2026-06-15 (deprecated since 2026-12-01) warns once on stderr" \
    eval '[ "$(warnings)" = 1 ] && stderr_has "2026-06-15 is deprecated" && stderr_has "after 2027-12-01"'
check "the warning stays off stdout: it is one JSON document" \
    eval 'json ".ok == true" && ! stdout_has "warning"'
v 2026-06-15 --quiet api GET /v1/token_info
check "--quiet: no warning" eval 'exit_is 0 && [ "$(warnings)" = 0 ]'
v 2025-11-15 employees list
check "2025-11-15 (limited support, sunset in 60 days) warns" \
    eval 'exit_is 0 && [ "$(warnings)" = 1 ] && stderr_has "limited support" && stderr_has "(60 days)"'
v "" employees list
check "the default version (2026-12-01, stable) does not warn" \
    eval 'exit_is 0 && [ "$(warnings)" = 0 ] && json ".ok == true"'
check "the default version is sent and served" \
    eval 'tail -n 1 "$tmp/vsandbox.log" | grep -q "^GET /v1/companies/.*/employees 200"'
n=$((n + 1)); out=$tmp/out.$n; err=$tmp/err.$n
GUSTO_API_VERSION= GUSTO_TODAY=2026-13-45 GUSTO_ACCESS_TOKEN=$TOKEN "$GUSTO" --env "$VURL" \
    employees list </dev/null >"$out" 2>"$err"
rc=$?
check "GUSTO_TODAY that is not a date exits 2 naming today" expect 2 '.error.details.field == "today"'
raw --help
check "--help names GUSTO_API_VERSION and the default version" \
    eval 'stdout_has GUSTO_API_VERSION && stdout_has "default"'
raw --version
check "--version names the default API version" stdout_has "Gusto API 2026-12-01"
v "" --json status
check "status with GUSTO_ACCESS_TOKEN: the token's company and the version in use" \
    expect 0 '.data[0].name == "GUSTO_ACCESS_TOKEN" and .data[0].valid == true and (.data[0].company_uuid | length) == 36 and .data[0].api_version.version == "2026-12-01" and .data[0].api_version.status == "stable"'
v 2026-06-15 --json status
check "status names a pinned version's status and sunset" \
    expect 0 '.data[0].api_version.version == "2026-06-15" and .data[0].api_version.status == "deprecated" and .data[0].api_version.sunset == "2027-12-01"'
n=$((n + 1)); out=$tmp/out.$n; err=$tmp/err.$n
GUSTO_API_VERSION= GUSTO_TODAY=2026-12-03 GUSTO_ACCESS_TOKEN=not-a-token "$GUSTO" --env "$VURL" \
    --json status </dev/null >"$out" 2>"$err"
rc=$?
check "status with a refused token: exit 3, valid false, the version still shown" \
    expect 3 '.data[0].valid == false and .data[0].api_version.version == "2026-12-01"'
kill "$fpid" 2>/dev/null
wait "$fpid" 2>/dev/null
fpid=
# ---- a missing OAuth scope: Gusto's 403 body, the scope named, the CLI's hint

n=$((n + 1))
out=$tmp/out.$n
err=$tmp/err.$n
GUSTO_ACCESS_TOKEN=$RO_TOKEN "$GUSTO" --env "$URL" --json api GET "/v1/companies/$COMPANY" \
    </dev/null >"$out" 2>"$err"
rc=$?
check "missing scope: exit 3, category missing_oauth_scopes, message and hint name the scope" \
    eval 'expect 3 ".ok == false and .error.code == \"missing_oauth_scopes\" and .error.details.category == \"missing_oauth_scopes\" and (.error.message | contains(\"companies:read\")) and (.error.hint | contains(\"gusto-connect connect\")) and (.error.hint | contains(\"companies:read\"))"'
n=$((n + 1))
out=$tmp/out.$n
err=$tmp/err.$n
GUSTO_ACCESS_TOKEN=$RO_TOKEN "$GUSTO" --env "$URL" --json employees list </dev/null >"$out" 2>"$err"
rc=$?
check "the same token works where it has the scope" eval 'expect 0 ".ok == true"'

# ---- status with a plain token: where it comes from, its company and scopes --------

g --json status
check "status with GUSTO_ACCESS_TOKEN alone: valid, from the environment, not stored, with scopes" \
    expect 0 '(.data | length) == 1 and .data[0].valid == true and .data[0].source == "environment" and .data[0].stored == false and .data[0].company_uuid == "'"$COMPANY"'" and (.data[0].scope | contains("employees:read"))'
STDIN=$tmp/token.txt raw --env "$URL" --token-stdin --json status
check "status with --token-stdin: source stdin" expect 0 '.data[0].source == "stdin" and .data[0].valid == true'
if script -qec true /dev/null >/dev/null 2>&1; then
    n=$((n + 1)); out=$tmp/out.$n; err=$tmp/err.$n
    GUSTO_ACCESS_TOKEN=$TOKEN script -qec "$GUSTO --env $URL status" /dev/null >"$out" 2>"$err" </dev/null
    rc=$?
    check "status on a terminal says the token is from the environment, with company and scopes" \
        eval 'exit_is 0 && stdout_has "from the environment (GUSTO_ACCESS_TOKEN), not a stored connection" && stdout_has "$COMPANY" && stdout_has "scopes: .*employees:read"'
    check "and never shows the token" eval '! grep -q "$TOKEN" "$out"'
fi

# ---- exit statuses: one table, Gusto's numbers, each code seen -------------------------------
# The table `help exit-codes` prints and the man page's EXIT STATUS list the
# same codes; 8 and 9 mean what Gusto's CLI means (blocked, timeout).  Codes
# checked elsewhere in this file: 0, 2, 3, 4, 5, 6, 7, 11, 12; 8, 10 and 130
# in sync_test.sh (which reads EXIT_CONFIRM from cli.h).
raw help exit-codes
help_codes=$(sed -n 's/^ *\([0-9][0-9]*\) .*/\1/p' "$out" | tr '\n' ' ')
man_codes=$(sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' man/gusto-connect.1 |
    sed -n '/^\.TP/{n;s/^\.B \([0-9][0-9]*\)$/\1/p}' | tr '\n' ' ')
check "help exit-codes and the man page list the same codes ($help_codes)" \
    eval '[ -n "$help_codes" ] && [ "$help_codes" = "$man_codes" ]'
check "help exit-codes: 8 is blocked until --confirm, 9 timeout, 12 partial success" \
    eval 'stdout_has "^  8 blocked until --confirm" && stdout_has "^  9 timeout" && stdout_has "^ 12 partial success"'
raw --help
check "the main help names the exit-code table" eval 'stdout_has "help exit-codes"'
"$GUSTO" help exit-codes >/dev/full 2>/dev/null
rc=$?
check "1: output that cannot be written exits 1" exit_is 1
for c in EXIT_CONFIRM:8 EXIT_TIMEOUT:9 EXIT_LEASED:10 EXIT_DUPLICATE:11 EXIT_PARTIAL:12; do
    check "cli.h: ${c%%:*} is ${c#*:}" grep -Eq "^ *${c%%:*} = ${c#*:}," src/cli/cli.h
done
# 9: a sandbox that answers after 3 s; --timeout 0.5 with no retries.
"$SANDBOX" --port 0 --seed demo --token "$TOKEN" --rate-limit 0 --faults delay:1@3000 \
    >"$tmp/slow.out" 2>/dev/null &
fpid=$!
i=0
while [ $i -lt 100 ] && ! grep -q '^listening on ' "$tmp/slow.out" 2>/dev/null; do
    sleep 0.1 2>/dev/null || sleep 1
    i=$((i + 1))
done
SURL=$(sed -n 's/^listening on //p' "$tmp/slow.out" | head -n 1)
n=$((n + 1)); out=$tmp/out.$n; err=$tmp/err.$n
GUSTO_ACCESS_TOKEN=$TOKEN "$GUSTO" --env "$SURL" --timeout 0.5 --retries 0 --company "$COMPANY" \
    employees list </dev/null >"$out" 2>"$err"
rc=$?
check "9: a request that times out exits 9, code network_error, hint names --timeout" \
    expect 9 '.ok == false and .error.code == "network_error" and (.error.hint | contains("--timeout"))'
n=$((n + 1)); out=$tmp/out.$n; err=$tmp/err.$n
GUSTO_ACCESS_TOKEN=$TOKEN "$GUSTO" --env "$SURL" --timeout 10 --retries 0 --company "$COMPANY" \
    api GET /v1/token_info </dev/null >"$out" 2>"$err"
rc=$?
check "the same sandbox answers within a longer --timeout (exit 0)" expect 0 '.ok == true'
kill "$fpid" 2>/dev/null
wait "$fpid" 2>/dev/null
fpid=

# ---- secrets, last: over everything gusto-connect printed -----------------------------------------

check "no output ever contains the token" eval '! grep -l -e "$TOKEN" -e "$RO_TOKEN" "$tmp"/out.* "$tmp"/err.* >/dev/null 2>&1'
check "no output ever contains a whole SSN" eval '! grep -l -e "$SSN_DIGITS" -e "517-29-3846" -e 987654321 "$tmp"/out.* "$tmp"/err.* >/dev/null 2>&1'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
