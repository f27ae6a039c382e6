#!/bin/sh
# valgrind.sh - valgrind memcheck over the gusto-connect CLI's main paths (list, create, dry run, get, update, time-off, api, batch, error paths, --verbose) and over gusto-sandbox serving that session plus a mix of bad requests, the endpoints around the employee record and a 501: no memory errors and no leaks (definite, indirect or possible).
#
# Each CLI run is one check; the sandbox, run under valgrind for the whole
# session and a mix of malformed requests (curl) and stopped with SIGTERM,
# is one more.  valgrind exits 9 on an error or a leak of any kind but
# "still reachable".  Environment: GUSTO, GUSTO_SANDBOX.  Needs
# valgrind and jq.  Prints "ok - NAME" / "not ok - NAME" and ends with
# "N passed, N failed".
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/common.sh

TOKEN=valgrind-token-0c7e
command -v valgrind >/dev/null 2>&1 || bail "valgrind is required (apt-get install valgrind)"
command -v jq >/dev/null 2>&1 || bail "jq is required"
VG="valgrind --quiet --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible --show-leak-kinds=definite,indirect,possible --track-origins=yes"

# The sandbox under valgrind for the whole session: every request below is
# served by it.  Its log holds the report.
# shellcheck disable=SC2086  # VG is a word list
sb_start sb $VG --log-file="$T/sandbox.vg" -- --seed demo --token "$TOKEN" --rate-limit 0 ||
    bail "the sandbox did not start under valgrind: $(head -c 300 "$T/sb.log")"
SBVG=$SB_PID
export GUSTO_ACCESS_TOKEN=$TOKEN

n=0
# vg NAME WANT_EXIT ARGS...: gusto-connect under valgrind; passes when it exits
# WANT_EXIT (so not 9) and valgrind reported nothing.  stdin from $STDIN.
vg() {
    name=$1 want=$2
    shift 2
    n=$((n + 1))
    # shellcheck disable=SC2086  # VG is a word list
    $VG --log-file="$T/cli.$n.vg" "$GUSTO" --env "$URL" "$@" <"${STDIN:-/dev/null}" \
        >"$T/cli.$n.out" 2>"$T/cli.$n.err"
    rc=$?
    if [ "$rc" -eq "$want" ] && [ ! -s "$T/cli.$n.vg" ]; then
        ok "gusto-connect $name: exit $rc, no memcheck errors, no leaks"
    else
        not_ok "gusto-connect $name: exit $rc (want $want)" "$(head -c 600 "$T/cli.$n.vg")" \
            "$(head -c 300 "$T/cli.$n.out")"
    fi
}

cat >"$T/ada.json" <<'EOF'
{"first_name": "Ada", "last_name": "Valgrind", "email": "ada.vg@example.com",
 "ssn": "123-45-6789", "date_of_birth": "1985-12-10",
 "home_address": {"street_1": "12 St James Sq", "city": "Austin", "state": "TX", "zip": "78701"},
 "work_address": {"location": "Denver"},
 "job": {"title": "Analyst", "hire_date": "2025-03-01"},
 "compensation": {"rate": "98000.00", "payment_unit": "Year", "flsa_status": "Exempt"}}
EOF
vg "employees list" 0 employees list
vg "employees list --search --terminated" 0 employees list --search an --terminated
vg "employees create --dry-run" 0 employees create --input "$T/ada.json" --dry-run
vg "employees create (every part)" 0 employees create --input "$T/ada.json"
E=$(jq -r '.data.employee.uuid' "$T/cli.$n.out")
vg "employees get" 0 employees get "$E"
echo '{"preferred_first_name": "Countess", "home_address": {"zip": "78702"}, "job": {"title": "Lead"}, "compensation": {"rate": "105000.00"}}' >"$T/upd.json"
STDIN=$T/upd.json vg "employees update (stdin, every part)" 0 employees update "$E"
vg "time-off" 0 time-off "$E" --type vacation
vg "api GET" 0 api GET '/v1/companies/{company_uuid}/locations'
LOC=$(jq -r '.data[0].uuid' "$T/cli.$n.out")
VER=$(jq -r '.data[0].version' "$T/cli.$n.out")
vg "api PUT --data" 0 api PUT "/v1/locations/$LOC" --data "{\"version\": \"$VER\", \"phone_number\": \"4155550199\"}"
vg "--verbose trace" 0 --verbose employees get "$E"
cat >"$T/people.csv" <<EOF
person.external_id,person.first_name,person.last_name,person.ssn,job.title,job.hire_date,compensation.rate,compensation.payment_unit,compensation.flsa_status,bank_accounts.0.routing_number,bank_accounts.0.account_number,bank_accounts.0.account_type,bank_accounts.0.split_by,bank_accounts.0.split_amount
vg-1,Grace,Hopper,111-22-3333,Admiral,2025-01-02,50.00,Hour,Nonexempt,123456789,987654321,Checking,Percentage,100
vg-2,Alan,Turing,,Fellow,2025-01-03,90000.00,Year,Exempt,,,,,
EOF
vg "batch create --wait (CSV)" 0 batch create --input "$T/people.csv" --wait
vg "error: unknown employee (404)" 4 employees get 00000000-0000-4000-8000-000000000000
echo '{"first_name": "A", "ssn": "12-34"}' >"$T/bad.json"
vg "error: invalid input (exit 7)" 7 employees create --input "$T/bad.json"
GUSTO_ACCESS_TOKEN=wrong-token vg "error: bad token (exit 3)" 3 employees list
vg "error: usage (exit 2)" 2 employees frobnicate

# The sandbox's error paths: each request gets the status it should.
# cr WANT METHOD PATH [CURL-ARGS...]: one request; mismatches are listed.
mix_bad=""
mix_n=0
cr() {
    want=$1 m=$2 p=$3
    shift 3
    got=$(curl -s -o /dev/null -w '%{http_code}' -X "$m" "$@" "$URL$p")
    mix_n=$((mix_n + 1))
    [ "$got" = "$want" ] || mix_bad="$mix_bad [$m $p: $got, want $want]"
}
A="Authorization: Bearer $TOKEN"
J="Content-Type: application/json"
CO=$(curl -s -H "$A" "$URL/v1/token_info" | jq -r .resource.uuid)
head -c 2000000 /dev/zero | tr '\0' 'x' >"$T/big.body"
head -c 70000 /dev/zero | tr '\0' 'h' >"$T/big.hdr"
cr 400 POST "/v1/companies/$CO/employees" -H "$A" -H "$J" --data '{"first_name": "A",'
cr 422 POST "/v1/companies/$CO/employees" -H "$A" -H "$J" --data '{"first_name": 5}'
cr 409 PUT "/v1/employees/$E" -H "$A" -H "$J" --data '{"version": "stale", "first_name": "X"}'
cr 404 GET "/v1/employees/00000000-0000-4000-8000-000000000000" -H "$A"
cr 404 GET "/v1/no/such/route" -H "$A"
cr 401 GET "/v1/token_info" -H "Authorization: Bearer wrong"
cr 401 GET "/v1/token_info"
cr 413 POST "/v1/companies/$CO/employees" -H "$A" -H "$J" --data-binary "@$T/big.body"
cr 431 GET "/v1/token_info" -H "$A" -H "X-Big: $(cat "$T/big.hdr")"
cr 400 POST "/oauth/token" -H "$J" --data '{"grant_type": "authorization_code", "code": "nope"}'
cr 200 GET "/v1/companies/$CO/employees?per=2&page=1&include=all_compensations" -H "$A"
# Around the employee record, and an operation the sandbox does not emulate.
cr 200 GET "/v1/employees/$E/onboarding_status" -H "$A"
cr 422 PUT "/v1/employees/$E/onboarding_status" -H "$A" -H "$J" --data '{"onboarding_status": "x"}'
cr 200 GET "/v1/employees/$E/employment_history" -H "$A"
cr 200 GET "/v1/companies/$CO/pay_periods?start_date=2026-01-01&end_date=2026-02-28" -H "$A"
cr 200 GET "/v1/companies/$CO/pay_schedules/assignments" -H "$A"
cr 200 GET "/v1/companies/$CO/earning_types" -H "$A"
cr 200 GET "/v1/companies/$CO/contractors?search_term=kai&page=1&per=1" -H "$A"
cr 200 GET "/v1/companies/$CO/signatories" -H "$A"
cr 200 GET "/v1/companies/$CO/federal_tax_details" -H "$A"
cr 200 GET "/v1/companies/$CO/tax_requirements/CA" -H "$A"
cr 200 GET "/v1/companies/$CO/time_off/requests?status=pending,declined&sort_order=asc" -H "$A"
cr 200 GET "/v1/companies/$CO/time_off/balances?per=3" -H "$A"
cr 501 GET "/v1/companies/$CO/payrolls" -H "$A"
cr 501 GET "/v1/companies/$CO/pay_schedules/preview" -H "$A"
check "gusto-sandbox under valgrind: $mix_n bad and odd requests got their statuses${mix_bad:+:$mix_bad}" \
    [ -z "$mix_bad" ]

sb_stop "$SBVG"
st=$?
if [ "$st" -eq 0 ] && ! grep -q -E '(definitely|indirectly|possibly) lost: [1-9]|ERROR SUMMARY: [1-9]|Invalid (read|write|free)|uninitialised' "$T/sandbox.vg"; then
    ok "gusto-sandbox served the session under valgrind: exit 0, no memcheck errors, no leaks"
else
    not_ok "gusto-sandbox under valgrind: exit $st" "$(head -c 1200 "$T/sandbox.vg")"
fi

finish
