#!/bin/sh
# batch_cli_test.sh - drives `gusto-connect batch create|status` against a fresh
# gusto-sandbox: Gusto's guide examples, every local validation rule refused
# by row and field with nothing sent, the idempotency key file (re-runs and
# lost answers create nobody twice), partial success, and 10,000 people.
#
# Environment: GUSTO (default build/gusto-connect), GUSTO_SANDBOX (default
# build/gusto-sandbox).  Needs jq.  Prints "ok - NAME" / "not ok - NAME" per
# check and ends with "N passed, N failed"; exits 1 if anything failed.
# shellcheck disable=SC2016,SC2034  # checks are eval'd later: single quotes on purpose
set -u
cd "$(dirname "$0")/.." || exit 1

GUSTO=${GUSTO:-build/gusto-connect}
SANDBOX=${GUSTO_SANDBOX:-build/gusto-sandbox}
TOKEN=batch-test-token-3c9d1e
pass=0
fail=0
n=0
rc=0
out=/dev/null
err=/dev/null
tmp=$(mktemp -d) || exit 1
export GUSTO_STORE="$tmp/connections.db"
unset GUSTO_CONNECTION GUSTO_STORE_KEY GUSTO_ACCESS_TOKEN GUSTO_COMPANY_UUID GUSTO_API_BASE_URL GUSTO_ENV
sbpid=
fpid=

cleanup() {
    for p in $fpid $sbpid; do
        kill "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    [ -n "${KEEP:-}" ] && echo "# outputs kept in $tmp" && return
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() {
    fail=$((fail + 1))
    echo "not ok - $1"
    echo "#   exit $rc; stdout: $(head -c 600 "$out" | tr '\n' ' ')"
    echo "#   stderr: $(head -c 600 "$err" | tr '\n' ' ')"
}
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

# start_sandbox OUT LOG ARGS...: start a sandbox, wait for its start-up lines;
# sets spid.
start_sandbox() {
    so=$1
    sl=$2
    shift 2
    "$SANDBOX" --port 0 --seed demo --token "$TOKEN" --rate-limit 0 "$@" >"$so" 2>"$sl" &
    spid=$!
    i=0
    while [ $i -lt 100 ] && ! grep -q '^company: ' "$so" 2>/dev/null; do
        sleep 0.1 2>/dev/null || sleep 1
        i=$((i + 1))
    done
}

start_sandbox "$tmp/sandbox.out" "$tmp/sandbox.log" --log
sbpid=$spid
URL=$(sed -n 's/^listening on //p' "$tmp/sandbox.out" | head -n 1)
COMPANY=$(sed -n 's/^company: //p' "$tmp/sandbox.out" | head -n 1)
if [ -z "$URL" ] || [ -z "$COMPANY" ]; then
    echo "not ok - gusto-sandbox did not start: $(cat "$tmp/sandbox.log")"
    echo "0 passed, 1 failed"
    exit 1
fi

# g ARGS...: gusto-connect against the sandbox, token in the environment, stdin from
# $STDIN (default /dev/null).  Sets rc, out, err.
g() {
    n=$((n + 1))
    out=$tmp/out.$n
    err=$tmp/err.$n
    GUSTO_ACCESS_TOKEN=$TOKEN "$GUSTO" --env "${GURL:-$URL}" "$@" <"${STDIN:-/dev/null}" \
        >"$out" 2>"$err"
    rc=$?
}
raw() {
    n=$((n + 1))
    out=$tmp/out.$n
    err=$tmp/err.$n
    "$GUSTO" "$@" <"${STDIN:-/dev/null}" >"$out" 2>"$err"
    rc=$?
}

exit_is() { [ "$rc" -eq "$1" ]; }
json() { [ "$(jq -s 'length' "$out" 2>/dev/null)" = 1 ] && jq -e "$1" "$out" >/dev/null 2>&1; }
expect() { exit_is "$1" && json "$2"; }
stderr_has() { grep -q -- "$1" "$err"; }
stdout_has() { grep -q -- "$1" "$out"; }
requests_sent() { wc -l <"$tmp/sandbox.log" | tr -d ' '; }
write() { printf '%s\n' "$2" >"$tmp/$1"; }

employee_count() {
    GUSTO_ACCESS_TOKEN=$TOKEN "$GUSTO" --env "$URL" employees list </dev/null 2>/dev/null |
        jq '.data | length'
}
# named LAST: how many employees have this last name.
named() {
    GUSTO_ACCESS_TOKEN=$TOKEN "$GUSTO" --env "$URL" employees list --search "$1" \
        </dev/null 2>/dev/null | jq "[.data[] | select(.last_name == \"$1\")] | length"
}

# ---- help --------------------------------------------------------------------

for cmd in "batch --help" "batch -h" "help batch" "batch create --help" "batch create -h" \
    "help batch create" "batch status --help" "help batch status"; do
    # shellcheck disable=SC2086 # split the command words
    raw $cmd
    check "'gusto-connect $cmd' prints usage and exits 0" eval 'exit_is 0 && stdout_has "Usage: gusto-connect batch"'
done
raw --help
check "gusto-connect --help lists the batch commands" eval 'stdout_has "batch create" && stdout_has "batch status"'
raw help batch create
check "batch create help documents the CSV columns and the key file" \
    eval 'stdout_has "bank_accounts.N.routing_number" && stdout_has "idempotency-key"'
g batch
check "batch without subcommand exits 2" eval 'exit_is 2'
g batch frobnicate
check "unknown batch subcommand exits 2" eval 'exit_is 2 && stderr_has frobnicate'
g batch status
check "batch status without UUID exits 2" eval 'exit_is 2'
g batch create --bogus
check "batch create with an unknown option exits 2" eval 'exit_is 2 && stderr_has -- "--idempotency-key"'

# ---- the guide's minimal example, as written -------------------------------------

before=$(employee_count)
write minimal.json '{
  "idempotency_key": "bcfc9744-0ab3-4ef3-ab0d-e728255d659c",
  "batch_action": "create",
  "batch": [
    {
      "entity_type": "employee",
      "person": {
        "external_id": "employee-abc-123",
        "first_name": "Alice",
        "last_name": "Smith"
      }
    }
  ]
}'
g batch create --input "$tmp/minimal.json" --wait
check "guide minimal example: exit 0, completed" expect 0 '.ok and .data.status == "completed" and .data.finished'
check "guide minimal example: uses the body's idempotency key" json '.data.idempotency_key == "bcfc9744-0ab3-4ef3-ab0d-e728255d659c" and .data.existing == false'
check "guide minimal example: external_id -> employee_uuid" json '.data.results | length == 1 and .[0].external_id == "employee-abc-123" and .[0].status == "success" and (.[0].employee_uuid | length) == 36 and .[0].row == 1'
MIN_BATCH=$(jq -r .data.uuid "$out")
MIN_EMP=$(jq -r '.data.results[0].employee_uuid' "$out")
after=$(employee_count)
check "guide minimal example: one employee more" eval '[ "$after" -eq $((before + 1)) ]'
g employees get "$MIN_EMP"
check "the batch employee is readable" expect 0 '.data.first_name == "Alice" and .data.last_name == "Smith"'

# ---- reusing a key gets the existing batch -----------------------------------------

g batch create --input "$tmp/minimal.json" --wait
check "same body again: exit 0, same batch" expect 0 ".data.uuid == \"$MIN_BATCH\" and .data.existing == true and .data.status == \"completed\""
write other.json '[{"person":{"external_id":"someone-else","first_name":"Other","last_name":"Keyreuse"}}]'
g batch create --input "$tmp/other.json" --idempotency-key bcfc9744-0ab3-4ef3-ab0d-e728255d659c
check "--idempotency-key of an earlier batch: exit 0, that batch" expect 0 ".data.uuid == \"$MIN_BATCH\" and .data.existing == true"
after2=$(employee_count)
check "reusing a key created nobody" eval '[ "$after2" -eq "$after" ]'
g batch status "$MIN_BATCH"
check "batch status UUID" expect 0 ".data.uuid == \"$MIN_BATCH\" and .data.status == \"completed\" and .data.results[0].employee_uuid == \"$MIN_EMP\""
g batch status 00000000-0000-4000-8000-000000000000
check "batch status of an unknown batch exits 4" expect 4 '.error.code == "not_found"'
g batch status not-a-uuid
check "batch status of a malformed UUID exits 7" expect 7 '.error.details.field == "batch_uuid"'

# ---- the guide's full two-person example, with real location and department -----

g api GET "/v1/companies/$COMPANY/locations"
LOC=$(jq -r '.data[0].uuid' "$out")
g api GET "/v1/companies/$COMPANY/employees?page=1&per=1"
DEPT=$(jq -r '.data[0].department_uuid' "$out")
DEPT_TITLE=$(jq -r '.data[0].department' "$out")
check "the sandbox gives a location and a department" eval '[ ${#LOC} -eq 36 ] && [ ${#DEPT} -eq 36 ]'
before=$(employee_count)
cat >"$tmp/full.json" <<EOF
{
  "idempotency_key": "5f1c3a52-8d0e-4b5b-9a3e-2f6d7c8b9a01",
  "batch_action": "create",
  "batch": [
    {
      "entity_type": "employee",
      "person": {
        "external_id": "hr-1001",
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace@example.com",
        "work_email": "grace@acme.test",
        "ssn": "517-29-3846",
        "date_of_birth": "1986-12-09"
      },
      "home_address": {
        "street_1": "1 Navy Way", "street_2": "Apt 4", "city": "Arlington",
        "state": "VA", "zip": "22202", "country": "USA"
      },
      "work_address": { "location_uuid": "$LOC" },
      "department": { "department_uuid": "$DEPT" },
      "job": { "title": "Rear Admiral", "hire_date": "2024-03-01" },
      "compensation": { "rate": "185000.00", "payment_unit": "Year", "flsa_status": "Exempt" },
      "bank_accounts": [
        { "name": "Main Checking", "account_type": "Checking", "routing_number": "266905059",
          "account_number": "5550001207", "type": "Direct Deposit", "split_by": "Amount",
          "split_amount": "50000" },
        { "name": "Rainy Day", "account_type": "Savings", "routing_number": "021000021",
          "account_number": "7770008890", "type": "Direct Deposit", "split_by": "Amount",
          "split_amount": null }
      ]
    },
    {
      "entity_type": "employee",
      "person": {
        "external_id": "hr-1002",
        "first_name": "Katherine",
        "last_name": "Johnson",
        "middle_initial": "C",
        "preferred_first_name": "Kat",
        "email": "kat@example.com",
        "self_onboarding": true
      },
      "home_address": {
        "street_1": "44 Orbit Road", "city": "Hampton", "state": "VA", "zip": "23666-1234",
        "work_from_home": true
      },
      "department": { "department_uuid": "$DEPT" },
      "job": { "title": "Mathematician", "hire_date": "2025-01-06",
               "two_percent_shareholder": false, "state_wc_covered": false },
      "compensation": { "rate": "48.50", "payment_unit": "Hour", "flsa_status": "Nonexempt" },
      "bank_accounts": [
        { "account_type": "Checking", "routing_number": "266905059", "account_number": "99994321",
          "type": "Direct Deposit", "split_by": "Percentage", "split_amount": "60" },
        { "name": "Brokerage", "account_type": "Savings", "routing_number": "021000021",
          "account_number": "123450009", "type": "Direct Deposit", "split_by": "Percentage",
          "split_amount": "40" }
      ]
    }
  ]
}
EOF
g batch create --input "$tmp/full.json" --dry-run
check "full example --dry-run: exit 0, one POST" expect 0 '.data.dry_run and .data.people == 2 and (.data.requests | length) == 1 and .data.requests[0].method == "POST"'
check "full example --dry-run masks the SSN and account numbers" eval '! grep -q -e 517-29-3846 -e 5550001207 -e 99994321 "$out" "$err"'
g batch create --input "$tmp/full.json" --wait
check "guide full example: exit 0, completed" expect 0 '.data.status == "completed" and .data.processed_items == 2'
check "guide full example: both people mapped" json '[.data.results[] | .external_id] == ["hr-1001","hr-1002"] and (.data.results | all(.status == "success" and (.employee_uuid | length) == 36))'
check "guide full example prints no SSN or account number" eval '! grep -q -e 517-29-3846 -e 517293846 -e 5550001207 -e 7770008890 -e 99994321 -e 123450009 "$out" "$err"'
GRACE=$(jq -r '.data.results[0].employee_uuid' "$out")
after=$(employee_count)
check "guide full example: two employees more" eval '[ "$after" -eq $((before + 2)) ]'
g employees get "$GRACE"
check "the full example's employee has job, home and work address, department" \
    expect 0 ".data.jobs[0].title == \"Rear Admiral\" and .data.current_home_address.city == \"Arlington\" and .data.current_work_address.location_uuid == \"$LOC\" and .data.department == \"$DEPT_TITLE\""

# ---- every validation rule is refused locally, by row and field, nothing sent ----

sent_before=$(requests_sent)
P='"external_id":"x1","first_name":"Val","last_name":"Idation"'
ACCT='"account_type":"Checking","routing_number":"266905059","account_number":"12345678","type":"Direct Deposit"'
# refuse NAME FIELD ENTRY: a file of a good entry, then ENTRY (row 2); exit 7
# with an error on row 2 at FIELD.
refuse() {
    printf '[{"person":{"external_id":"good","first_name":"Good","last_name":"Row"}},\n%s]\n' \
        "$3" >"$tmp/refuse.json"
    g batch create --input "$tmp/refuse.json"
    check "refused locally: $1 (row 2, $2)" \
        expect 7 ".ok == false and .error.code == \"invalid_input\" and (.error.details.errors | any(.row == 2 and .field == \"$2\")) and (.error.details.errors | all(.row == 2))"
}
refuse "external_id required" person.external_id '{"person":{"first_name":"A","last_name":"B"}}'
refuse "first_name required" person.first_name '{"person":{"external_id":"x1","last_name":"B"}}'
refuse "last_name required" person.last_name '{"person":{"external_id":"x1","first_name":"A"}}'
refuse "blank first_name" person.first_name '{"person":{"external_id":"x1","first_name":"","last_name":"B"}}'
refuse "person required" person '{"job":{"title":"T","hire_date":"2025-01-06"}}'
refuse "ssn without dashes" person.ssn "{\"person\":{$P,\"ssn\":\"123456789\"}}"
refuse "ssn malformed" person.ssn "{\"person\":{$P,\"ssn\":\"12-345-6789\"}}"
refuse "date_of_birth not a date" person.date_of_birth "{\"person\":{$P,\"date_of_birth\":\"1990-02-30\"}}"
refuse "date_of_birth in the future" person.date_of_birth "{\"person\":{$P,\"date_of_birth\":\"2999-01-01\"}}"
refuse "middle_initial of two letters" person.middle_initial "{\"person\":{$P,\"middle_initial\":\"AB\"}}"
refuse "email malformed" person.email "{\"person\":{$P,\"email\":\"not-an-email\"}}"
refuse "self_onboarding needs email" person.email "{\"person\":{$P,\"self_onboarding\":true}}"
refuse "unknown field" person.favourite_colour "{\"person\":{$P,\"favourite_colour\":\"blue\"}}"
refuse "entity_type other than employee" entity_type "{\"entity_type\":\"contractor\",\"person\":{$P}}"
refuse "state not a US state" home_address.state "{\"person\":{$P},\"home_address\":{\"street_1\":\"1 A St\",\"city\":\"Denver\",\"state\":\"Colorado\",\"zip\":\"80202\"}}"
refuse "zip malformed" home_address.zip "{\"person\":{$P},\"home_address\":{\"street_1\":\"1 A St\",\"city\":\"Denver\",\"state\":\"CO\",\"zip\":\"8020\"}}"
refuse "home_address street_1 required" home_address.street_1 "{\"person\":{$P},\"home_address\":{\"city\":\"Denver\",\"state\":\"CO\",\"zip\":\"80202\"}}"
refuse "country other than USA" home_address.country "{\"person\":{$P},\"home_address\":{\"street_1\":\"1 A St\",\"city\":\"Denver\",\"state\":\"CO\",\"zip\":\"80202\",\"country\":\"CAN\"}}"
refuse "work_from_home excludes work_address" work_address "{\"person\":{$P},\"home_address\":{\"street_1\":\"1 A St\",\"city\":\"Denver\",\"state\":\"CO\",\"zip\":\"80202\",\"work_from_home\":true},\"work_address\":{\"location_uuid\":\"$LOC\"}}"
refuse "location_uuid not a UUID" work_address.location_uuid "{\"person\":{$P},\"work_address\":{\"location_uuid\":\"Denver\"}}"
refuse "department_uuid not a UUID" department.department_uuid "{\"person\":{$P},\"department\":{\"department_uuid\":\"sales\"}}"
refuse "hire_date malformed" job.hire_date "{\"person\":{$P},\"job\":{\"title\":\"T\",\"hire_date\":\"2025/01/06\"}}"
refuse "job title required" job.title "{\"person\":{$P},\"job\":{\"hire_date\":\"2025-01-06\"}}"
refuse "compensation needs a job" job "{\"person\":{$P},\"compensation\":{\"rate\":\"1.00\",\"payment_unit\":\"Hour\",\"flsa_status\":\"Nonexempt\"}}"
refuse "payment_unit enum" compensation.payment_unit "{\"person\":{$P},\"job\":{\"title\":\"T\",\"hire_date\":\"2025-01-06\"},\"compensation\":{\"rate\":\"1.00\",\"payment_unit\":\"Fortnight\",\"flsa_status\":\"Nonexempt\"}}"
refuse "flsa_status enum" compensation.flsa_status "{\"person\":{$P},\"job\":{\"title\":\"T\",\"hire_date\":\"2025-01-06\"},\"compensation\":{\"rate\":\"1.00\",\"payment_unit\":\"Hour\",\"flsa_status\":\"Salaried\"}}"
refuse "rate as a number" compensation.rate "{\"person\":{$P},\"job\":{\"title\":\"T\",\"hire_date\":\"2025-01-06\"},\"compensation\":{\"rate\":70000,\"payment_unit\":\"Year\",\"flsa_status\":\"Exempt\"}}"
refuse "Owner paid per Paycheck" compensation.payment_unit "{\"person\":{$P},\"job\":{\"title\":\"T\",\"hire_date\":\"2025-01-06\"},\"compensation\":{\"rate\":\"1.00\",\"payment_unit\":\"Year\",\"flsa_status\":\"Owner\"}}"
refuse "Percentage splits must add up to 100" bank_accounts "{\"person\":{$P},\"bank_accounts\":[{$ACCT,\"split_by\":\"Percentage\",\"split_amount\":\"60\"},{$ACCT,\"split_by\":\"Percentage\",\"split_amount\":\"30\"}]}"
refuse "Percentage split needs an amount" 'bank_accounts[1].split_amount' "{\"person\":{$P},\"bank_accounts\":[{$ACCT,\"split_by\":\"Percentage\",\"split_amount\":\"100\"},{$ACCT,\"split_by\":\"Percentage\",\"split_amount\":null}]}"
refuse "Amount splits need one remainder" bank_accounts "{\"person\":{$P},\"bank_accounts\":[{$ACCT,\"split_by\":\"Amount\",\"split_amount\":\"5000\"},{$ACCT,\"split_by\":\"Amount\",\"split_amount\":\"100\"}]}"
refuse "Amount splits with two remainders" bank_accounts "{\"person\":{$P},\"bank_accounts\":[{$ACCT,\"split_by\":\"Amount\",\"split_amount\":null},{$ACCT,\"split_by\":\"Amount\",\"split_amount\":null}]}"
refuse "Amount remainder must be last" 'bank_accounts[0].split_amount' "{\"person\":{$P},\"bank_accounts\":[{$ACCT,\"split_by\":\"Amount\",\"split_amount\":null},{$ACCT,\"split_by\":\"Amount\",\"split_amount\":\"100\"}]}"
refuse "mixed split_by" 'bank_accounts[1].split_by' "{\"person\":{$P},\"bank_accounts\":[{$ACCT,\"split_by\":\"Percentage\",\"split_amount\":\"100\"},{$ACCT,\"split_by\":\"Amount\",\"split_amount\":null}]}"
refuse "routing_number of 9 digits" 'bank_accounts[0].routing_number' "{\"person\":{$P},\"bank_accounts\":[{\"account_type\":\"Checking\",\"routing_number\":\"12345\",\"account_number\":\"12345678\",\"type\":\"Direct Deposit\",\"split_by\":\"Amount\",\"split_amount\":null}]}"
refuse "account_type Checking or Savings" 'bank_accounts[0].account_type' "{\"person\":{$P},\"bank_accounts\":[{\"account_type\":\"Brokerage\",\"routing_number\":\"266905059\",\"account_number\":\"12345678\",\"type\":\"Direct Deposit\",\"split_by\":\"Amount\",\"split_amount\":null}]}"
refuse "account_number digits" 'bank_accounts[0].account_number' "{\"person\":{$P},\"bank_accounts\":[{\"account_type\":\"Checking\",\"routing_number\":\"266905059\",\"account_number\":\"12\",\"type\":\"Direct Deposit\",\"split_by\":\"Amount\",\"split_amount\":null}]}"
refuse "type Direct Deposit" 'bank_accounts[0].type' "{\"person\":{$P},\"bank_accounts\":[{\"account_type\":\"Checking\",\"routing_number\":\"266905059\",\"account_number\":\"12345678\",\"type\":\"Check\",\"split_by\":\"Amount\",\"split_amount\":null}]}"
refuse "duplicate external_id" person.external_id '{"person":{"external_id":"good","first_name":"Again","last_name":"Dup"}}'
check "a refused input never echoes the SSN" eval '! grep -q -e 123456789 -e 12-345-6789 "$tmp"/out.* "$tmp"/err.*'

# Every problem at once, each on its row.
write many.json '[{"person":{"external_id":"a","first_name":"A"}},
 {"person":{"external_id":"b","first_name":"B","last_name":"B","ssn":"1"}},
 {"person":{"external_id":"c","first_name":"C","last_name":"C"},"home_address":{"street_1":"x","city":"y","state":"ZZ","zip":"1"}},
 {"person":{"external_id":"d","first_name":"D","last_name":"D"}},
 {"person":{"external_id":"a","first_name":"E","last_name":"E"}}]'
g batch create --input "$tmp/many.json"
check "every problem is listed, with its row" expect 7 '[.error.details.errors[] | "\(.row) \(.field)"] == ["1 person.last_name","2 person.ssn","3 home_address.state","3 home_address.zip","5 person.external_id"]'
check "the summary counts problems and rows" json '.error.message | test("5 problems in 4 rows")'
check "the readable list goes to stderr" eval 'stderr_has "row 3, home_address.zip" && stderr_has "row 5, person.external_id"'

# CSV: rows are line numbers, fields are the column names.
printf '%s\r\n' 'person.external_id,person.first_name,person.last_name,home_address.street_1,home_address.city,home_address.state,home_address.zip,bank_accounts.0.routing_number,bank_accounts.0.account_number,bank_accounts.0.account_type,bank_accounts.0.split_by' \
    'c1,Ann,"Lee, Jr.","1 Main St' 'Apt 2",Denver,CO,80202,266905059,12345678,Checking,Amount' \
    'c2,"Bo ""Bobby""",Ray,1 Elm,Austin,TX,78701,12345,12345678,Checking,Amount' \
    'c3,Cy,,,,,,,,,' >"$tmp/bad.csv"
g batch create --input "$tmp/bad.csv"
check "CSV: refused with line numbers and column names" expect 7 '[.error.details.errors[] | "\(.row) \(.field)"] == ["4 bank_accounts.0.routing_number","5 person.last_name"]'
check "CSV: the summary speaks of lines" json '.error.message | test("2 problems in 2 lines of")'
printf 'person.external_id,person.first_name,person.last_name,person.nickname\nx,A,B,C\n' >"$tmp/col.csv"
g batch create --input "$tmp/col.csv"
check "CSV: an unknown column is refused on line 1" expect 7 '.error.details.errors == [{"row":1,"field":"person.nickname","message":.error.details.errors[0].message}]'
printf 'person.external_id,person.first_name,person.last_name\nx,"A,B\ny,C,D\n' >"$tmp/quote.csv"
g batch create --input "$tmp/quote.csv"
check "CSV: an unclosed quote is refused with its line" expect 7 '.error.details.errors[0].row == 2 and (.error.details.errors[0].message | test("never closed"))'
printf 'person.external_id,person.first_name,person.last_name\nx,A\ny,C,D,E\n' >"$tmp/width.csv"
g batch create --input "$tmp/width.csv"
check "CSV: a row of the wrong width is refused" expect 7 '[.error.details.errors[].row] == [2,3]'
printf 'person.external_id,person.first_name,person.last_name,bank_accounts.1.routing_number\nx,A,B,266905059\n' >"$tmp/gap.csv"
g batch create --input "$tmp/gap.csv"
check "CSV: bank accounts must start at 0" expect 7 '.error.details.errors[0].field == "bank_accounts.0"'
write notjson.json '[{"person": '
g batch create --input "$tmp/notjson.json"
check "malformed JSON exits 7 naming the line" expect 7 '.error.details.errors[0].field == "input" and (.error.details.errors[0].message | test("line"))'
write empty.json '[]'
g batch create --input "$tmp/empty.json"
check "an empty batch exits 7" expect 7 '.ok == false'
g batch create --input "$tmp/minimal.json" --idempotency-key not-a-uuid
check "--idempotency-key that is not a UUID exits 7" expect 7 '.error.details.field == "idempotency_key"'
check "refused inputs sent nothing" eval '[ "$(requests_sent)" = "$sent_before" ]'
check "refused inputs saved no key file" eval '[ ! -e "$tmp/refuse.json.idempotency-key" ] && [ ! -e "$tmp/many.json.idempotency-key" ] && [ ! -e "$tmp/bad.csv.idempotency-key" ]'

# ---- the key file: re-runs reuse it; a changed input gets a new one --------------

printf '%s\n' 'person.external_id,person.first_name,person.last_name,job.title,job.hire_date' \
    'k1,Kay,Keyfile,Clerk,2025-02-03' 'k2,Lee,Keyfile,Clerk,2025-02-03' >"$tmp/keys.csv"
sent=$(requests_sent)
g batch create --input "$tmp/keys.csv" --dry-run
check "--dry-run: exit 0, a new key, nothing sent or saved" eval 'expect 0 ".data.idempotency_key_source == \"new\"" && [ "$(requests_sent)" = "$sent" ] && [ ! -e "$tmp/keys.csv.idempotency-key" ]'
g batch create --input "$tmp/keys.csv"
check "CSV batch accepted: exit 0" expect 0 '.data.status == "pending" or .data.status == "processing" or .data.status == "completed"'
K1=$(jq -r .data.idempotency_key "$out")
B1=$(jq -r .data.uuid "$out")
check "the key is saved beside the input, mode 0600, with the input's hash" \
    eval '[ -f "$tmp/keys.csv.idempotency-key" ] && [ "$(stat -c %a "$tmp/keys.csv.idempotency-key")" = 600 ] && grep -q "^key $K1\$" "$tmp/keys.csv.idempotency-key" && grep -q "^sha256 $(sha256sum <"$tmp/keys.csv" | cut -d" " -f1)\$" "$tmp/keys.csv.idempotency-key"'
g batch create --input "$tmp/keys.csv" --wait
check "re-run with the same input: the same batch, exit 0" expect 0 ".data.uuid == \"$B1\" and .data.idempotency_key == \"$K1\" and .data.existing == true and .data.idempotency_key_source == \"saved\""
check "re-run says the key was reused" stderr_has "reusing idempotency key"
check "re-run: CSV rows are line numbers" json '[.data.results[].row] == [2,3]'
check "re-run created nobody twice" eval '[ "$(named Keyfile)" = 2 ]'
printf '%s\n' 'k3,May,Keyfile,Clerk,2025-02-03' >>"$tmp/keys.csv"
g batch create --input "$tmp/keys.csv" --wait
check "a changed input gets a new key and a new batch" expect 0 ".data.idempotency_key != \"$K1\" and .data.uuid != \"$B1\" and .data.existing == false and .data.idempotency_key_source == \"new\""
check "the user is told the input changed" stderr_has "input changed"
K2=$(jq -r .data.idempotency_key "$out")
check "the key file now holds the new key" grep -q "^key $K2\$" "$tmp/keys.csv.idempotency-key"
# The rows the earlier batch created are not sent again (they were, twice, before).
check "a changed input sends only the new row" json '[.data.results[].external_id] == ["k3"] and .data.submitted_items == 1'
check "...and lists the others as already created, with their employees" json '[.data.already_created[] | .external_id] == ["k1","k2"] and ([.data.already_created[].employee_uuid | length] == [36,36]) and [.data.already_created[].row] == [2,3] and .data.already_created[0].batch_uuid == "'"$B1"'"'
check "...so each person exists once" eval '[ "$(named Keyfile)" = 3 ]'
check "the key file remembers both batches" eval '[ "$(grep -c "^batch " "$tmp/keys.csv.idempotency-key")" = 2 ] && grep -q "^batch $K1 $B1\$" "$tmp/keys.csv.idempotency-key"'
write ovr.json '[{"person":{"external_id":"o1","first_name":"Over","last_name":"Ride"}}]'
g batch create --input "$tmp/ovr.json" --idempotency-key 7d0b5a9e-3c1f-4e2a-9b8c-6d5e4f3a2b10
check "--idempotency-key is used" expect 0 '.data.idempotency_key == "7d0b5a9e-3c1f-4e2a-9b8c-6d5e4f3a2b10" and .data.idempotency_key_source == "option"'
g batch create --input "$tmp/ovr.json"
check "and saved: a re-run without it reuses it" expect 0 '.data.idempotency_key == "7d0b5a9e-3c1f-4e2a-9b8c-6d5e4f3a2b10" and .data.existing == true'
STDIN=$tmp/ovr.json g batch create --input - --idempotency-key 7d0b5a9e-3c1f-4e2a-9b8c-6d5e4f3a2b10
check "--input - reads stdin" expect 0 '.data.existing == true'
write stdin.json '[{"person":{"external_id":"s1","first_name":"Std","last_name":"Input"}}]'
STDIN=$tmp/stdin.json g batch create --input -
check "stdin without a key warns that the key is not saved" eval 'exit_is 0 && stderr_has "not saved" && stderr_has -- "--idempotency-key"'

# ---- partial success, person by person ------------------------------------------

write partial.json "[{\"person\":{\"external_id\":\"p-ok\",\"first_name\":\"Part\",\"last_name\":\"Success\"},\"work_address\":{\"location_uuid\":\"$LOC\"}},
 {\"person\":{\"external_id\":\"p-bad\",\"first_name\":\"Part\",\"last_name\":\"Failure\"},\"work_address\":{\"location_uuid\":\"00000000-0000-4000-8000-000000000001\"}}]"
g batch create --input "$tmp/partial.json" --wait
check "partial success exits 12" expect 12 '.ok == true and .data.status == "partial_success" and .data.failed_items == 1'
check "partial success: the good person has an employee" json '.data.results[0] | .external_id == "p-ok" and .status == "success" and (.employee_uuid | length) == 36 and .errors == null'
check "partial success: the person is created without the failed part, which has its errors" json '.data.results[1] | .external_id == "p-bad" and .status == "partial_success" and (.employee_uuid | length) == 36 and .attributes == {"person":"success","work_address":"failed"} and (.errors[0].error_key | test("location_uuid"))'
check "partial success: a whole person's attributes all say success" json '.data.results[0].attributes == {"person":"success","work_address":"success"}'
PB=$(jq -r .data.uuid "$out")
g batch status "$PB"
check "batch status of a partial batch exits 12" expect 12 '.data.status == "partial_success"'

# ---- a re-run never creates a partly created person twice --------------------------

# p-bad exists (without its work address): the fix is an edit of that
# employee, not a second one (Gusto's People Batch API guide: "continue to
# use the existing endpoints"), so a re-run of the fixed input sends nobody.
before=$(employee_count)
write partial.json "[{\"person\":{\"external_id\":\"p-ok\",\"first_name\":\"Part\",\"last_name\":\"Success\"},\"work_address\":{\"location_uuid\":\"$LOC\"}},
 {\"person\":{\"external_id\":\"p-bad\",\"first_name\":\"Part\",\"last_name\":\"Failure\"},\"work_address\":{\"location_uuid\":\"$LOC\"}}]"
sent=$(requests_sent)
g batch create --input "$tmp/partial.json" --wait
check "fixed re-run: exit 0, nothing sent, both listed as created before" eval 'expect 0 ".data.submitted_items == 0 and ([.data.already_created[].external_id] | sort) == [\"p-bad\",\"p-ok\"] and .data.already_created[0].batch_uuid == \"$PB\"" && ! tail -n +$((sent + 1)) "$tmp/sandbox.log" | grep -q "^POST"'
check "fixed re-run: nobody more, and one of each" eval '[ "$(employee_count)" = "$before" ] && [ "$(named Success)" = 1 ] && [ "$(named Failure)" = 1 ]'

# ---- exclusions: a batch another client sent with a repeated external_id -----------

# gusto-connect refuses a repeated external_id before sending (row and field);
# Gusto accepts such a batch and excludes the repeats.  batch status shows them.
cat >"$tmp/dups.json" <<EOF2
{"idempotency_key":"3f1d6c9e-8a2b-4c7d-9e0f-1a2b3c4d5e6f","batch_action":"create","batch":[
 {"entity_type":"employee","person":{"external_id":"d-1","first_name":"Dup","last_name":"One"}},
 {"entity_type":"employee","person":{"external_id":"d-solo","first_name":"Dup","last_name":"Solo"}},
 {"entity_type":"employee","person":{"external_id":"d-1","first_name":"Dup","last_name":"Two"}}]}
EOF2
XB=$(curl -s -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    --data-binary @"$tmp/dups.json" "$URL/v1/companies/$COMPANY/people_batches" | jq -r .uuid)
g batch status "$XB" --wait
check "batch status shows the exclusions and exits 12" expect 12 '.data.status == "partial_success" and .data.excluded_items == 2 and .data.exclusions[0].external_id == "d-1" and .data.exclusions[0].item_count == 2 and ([.data.results[].external_id] == ["d-solo"])'
# A run cut short after its POST (the batch line never written): the next
# run of a changed input sends under that key first, finds the batch (409),
# and sends only the rest under a new key.
printf '%s\n' 'person.external_id,person.first_name,person.last_name' 'c1,Cut,Short' 'c2,Cut,Shorter' >"$tmp/cut.csv"
g batch create --input "$tmp/cut.csv" --wait
CK=$(jq -r .data.idempotency_key "$out")
CB=$(jq -r .data.uuid "$out")
sed -i '/^batch /d' "$tmp/cut.csv.idempotency-key"
printf '%s\n' 'c3,Cut,Shortest' >>"$tmp/cut.csv"
g batch create --input "$tmp/cut.csv" --wait
check "cut short: the old key's batch is found and left out" expect 0 '[.data.results[].external_id] == ["c3"] and .data.idempotency_key != "'"$CK"'" and [.data.already_created[] | .external_id] == ["c1","c2"] and .data.already_created[0].batch_uuid == "'"$CB"'"'
check "cut short: the user is told why the old key was sent" stderr_has "not known"
check "cut short: each person once" eval '[ "$(named Short)" = 1 ] && [ "$(named Shorter)" = 1 ] && [ "$(named Shortest)" = 1 ]'

# ---- on a terminal --------------------------------------------------------------------

if script -qec true /dev/null >/dev/null 2>&1; then
    n=$((n + 1))
    out=$tmp/out.$n
    err=$tmp/err.$n
    GUSTO_ACCESS_TOKEN=$TOKEN script -qec "$GUSTO --env $URL batch status $PB" /dev/null \
        >"$out" 2>"$err" </dev/null
    rc=$?
    check "on a terminal: external_id -> employee_uuid, and each person's errors" \
        eval 'exit_is 12 && stdout_has "EXTERNAL_ID" && stdout_has "p-ok .*success .*[0-9a-f-]\{36\}" && stdout_has "p-bad .*partial_success" && stdout_has "created: person" && stdout_has "not created: work_address" && stdout_has "work_address.location_uuid" && ! stdout_has "\"ok\""'
    n=$((n + 1))
    out=$tmp/out.$n
    err=$tmp/err.$n
    GUSTO_ACCESS_TOKEN=$TOKEN script -qec "$GUSTO --env $URL batch status $XB" /dev/null \
        >"$out" 2>"$err" </dev/null
    rc=$?
    check "on a terminal: the exclusions, one line each" \
        eval 'exit_is 12 && stdout_has "2 excluded" && stdout_has "Excluded by Gusto (not processed, 2 entries)" && stdout_has "external_id d-1 (2 entries, duplicate_external_id)"'
    n=$((n + 1))
    out=$tmp/out.$n
    GUSTO_ACCESS_TOKEN=$TOKEN script -qec "$GUSTO --env $URL batch create --input $tmp/many.json" \
        /dev/null >"$out" 2>"$err" </dev/null
    rc=$?
    check "on a terminal: every problem is listed by row" \
        eval 'exit_is 7 && stdout_has "row 2, person.ssn" && stdout_has "row 5, person.external_id"'
else
    echo "# script(1) not usable: terminal checks skipped"
fi

# ---- a POST whose answer is lost is sent again with the same key -----------------
# lost:P carries the request out and drops the answer (the sandbox logs it as
# "201 lost").  Find a seed where the first POST's answer is lost and a
# re-sent one gets through: that one is a 409, since the key was used.
found=0
for seed in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    start_sandbox "$tmp/lost.out" "$tmp/lost.log" --log --faults lost:0.5 --fault-seed "$seed"
    fpid=$spid
    FURL=$(sed -n 's/^listening on //p' "$tmp/lost.out" | head -n 1)
    rm -f "$tmp/lost.csv.idempotency-key"
    printf '%s\n' 'person.external_id,person.first_name,person.last_name' \
        'l1,One,Lostanswer' 'l2,Two,Lostanswer' 'l3,Three,Lostanswer' >"$tmp/lost.csv"
    GURL=$FURL
    g --company "$COMPANY" --retries 8 batch create --input "$tmp/lost.csv" --wait
    GURL=
    if grep -q '^POST /v1/companies/[^ ]*/people_batches 201 lost' "$tmp/lost.log" &&
        grep -q '^POST /v1/companies/[^ ]*/people_batches 409' "$tmp/lost.log"; then
        found=1
        break
    fi
    kill "$fpid" 2>/dev/null
    wait "$fpid" 2>/dev/null
    fpid=
done
check "a seed loses the POST's answer (seed $seed)" eval '[ $found = 1 ]'
check "lost answer: the batch completes, exit 0" expect 0 '.data.status == "completed" and .data.existing == true and (.data.results | length) == 3'
if [ $found = 1 ]; then
    lost_count=$(GUSTO_ACCESS_TOKEN=$TOKEN "$GUSTO" --env "$FURL" --company "$COMPANY" --retries 8 \
        employees list --search Lostanswer </dev/null 2>/dev/null |
        jq '[.data[] | select(.last_name == "Lostanswer")] | length')
    check "lost answer: each person was created exactly once" eval '[ "$lost_count" = 3 ]'
    check "lost answer: one batch was made; every re-send got 409" \
        eval '[ "$(grep -c "^POST /v1/companies/[^ ]*/people_batches 201" "$tmp/lost.log")" = 1 ] && [ "$(jq "[.data.results[].employee_uuid] | unique | length" "$out")" = 3 ]'
    kill "$fpid" 2>/dev/null
    wait "$fpid" 2>/dev/null
    fpid=
fi

# ---- CSV as people write it (issue 15) ------------------------------------------------

# Plain field names, comma separated.
printf '%s\n' 'external_id,first_name,last_name,email' 'pl1,Plain,Headers,plain1@example.com' >"$tmp/plain.csv"
g batch create --input "$tmp/plain.csv" --dry-run
check "CSV: plain field names (first_name, email) map to person.*" \
    expect 0 '.data.requests[0].body.batch[0].person == {"external_id":"pl1","first_name":"Plain","last_name":"Headers","email":"plain1@example.com"} and (.data.columns | map(.field)) == ["person.external_id","person.first_name","person.last_name","person.email"]'

# Spreadsheet headers, semicolons, a BOM, CRLF and a quoted cell holding the separator.
printf '\357\273\277First Name;Last Name;E-mail;Start Date;Job Title;Pay Rate;Pay Unit;FLSA Status;Street;City;State;ZIP Code\r\n' >"$tmp/sheet.csv"
printf 'Ada;Sheetwise;ada.sheet@example.com;3/1/2025;Engineer;"$52,000.00";yearly;exempt;"1 Main St; Apt 2";Austin;texas;78701\r\n' >>"$tmp/sheet.csv"
printf 'Bo;Sheetwise;bo.sheet@example.com;2025-3-1;Clerk;20.50;Hourly;non-exempt;2 Main St;Austin;tx;78701\r\n' >>"$tmp/sheet.csv"
printf 'Cy;Sheetwise;cy.sheet@example.com;March 1, 2025;Clerk;21.00;hour;Nonexempt;3 Main St;Austin;TX;78701\r\n' >>"$tmp/sheet.csv"
cp "$tmp/sheet.csv" "$tmp/sheet.orig"
before=$(named Sheetwise)
g batch create --input "$tmp/sheet.csv" --wait
check "CSV: spreadsheet headers, ';', BOM, CRLF and quotes: 3 people created, exit 0" \
    eval 'expect 0 ".data.status == \"completed\" and .data.processed_items == 3 and ([.data.results[].row] == [2,3,4])" && [ "$(named Sheetwise)" = $((before + 3)) ]'
check "CSV: each kind of normalisation is reported in JSON, with its rows and changes" \
    json '[.data.normalised[] | {kind, column, rows}] == [{"kind":"date","column":"Start Date","rows":[2,3,4]},{"kind":"rate","column":"Pay Rate","rows":[2]},{"kind":"payment_unit","column":"Pay Unit","rows":[2,3,4]},{"kind":"flsa_status","column":"FLSA Status","rows":[2,3]},{"kind":"state","column":"State","rows":[2,3]}] and (.data.normalised[0].changes == [{"from":"3/1/2025","to":"2025-03-01"},{"from":"2025-3-1","to":"2025-03-01"},{"from":"March 1, 2025","to":"2025-03-01"}]) and (.data.normalised[1].changes == [{"from":"$52,000.00","to":"52000.00"}]) and (.data.normalised[4].changes == [{"from":"texas","to":"TX"},{"from":"tx","to":"TX"}])'
check "CSV: one warning line per kind of normalisation, naming the lines" \
    eval '[ "$(grep -c "warning: normalised " "$err")" = 5 ] && stderr_has "normalised Pay Unit (compensation.payment_unit) on lines 2-4: \"yearly\" -> \"Year\", \"Hourly\" -> \"Hour\", \"hour\" -> \"Hour\"" && stderr_has "normalised State (home_address.state) on lines 2 and 3"'
g batch create --input "$tmp/sheet.csv" --dry-run
check "CSV: the values sent are Gusto's (Year, Exempt, TX, 2025-03-01, 52000.00)" \
    json '.data.requests[0].body.batch[0] | .compensation == {"rate":"52000.00","payment_unit":"Year","flsa_status":"Exempt"} and .job.hire_date == "2025-03-01" and .home_address.state == "TX" and .home_address.street_1 == "1 Main St; Apt 2"'

# Made external_ids, and the copy with them.
check "CSV: a missing external_id is made for each row (gc-...)" \
    json '(.data.generated_external_ids.ids | map(.row)) == [2,3,4] and all(.data.generated_external_ids.ids[]; .external_id | test("^gc-[0-9a-f]{12}$")) and .data.generated_external_ids.written == false'
IDS1=$(jq -c '[.data.generated_external_ids.ids[].external_id]' "$out")
check "CSV: the copy with the ids is written beside the input, mode 0600, the input untouched" \
    eval '[ -f "$tmp/sheet.with-ids.csv" ] && [ "$(stat -c %a "$tmp/sheet.with-ids.csv")" = 600 ] && cmp -s "$tmp/sheet.csv" "$tmp/sheet.orig" && ! ls "$tmp"/sheet.with-ids.csv.tmp* >/dev/null 2>&1'
check "CSV: the copy keeps the BOM, ';' and CRLF and adds an External ID column with the ids" \
    eval '[ "$(head -c 3 "$tmp/sheet.with-ids.csv" | od -An -tx1 | tr -d " ")" = efbbbf ] && head -n 1 "$tmp/sheet.with-ids.csv" | grep -q ";ZIP Code;External ID.\$" && [ "$(tr -d "\r" <"$tmp/sheet.with-ids.csv" | sed -n "2,4p" | awk -F";" "{print \$NF}" | jq -R . | jq -sc .)" = "$IDS1" ] && [ "$(grep -c "$(printf "\r")\$" "$tmp/sheet.with-ids.csv")" = 4 ]'
sent=$(requests_sent)
g batch create --input "$tmp/sheet.csv" --wait
check "CSV: a re-run makes the same ids and finds the same batch: nobody twice" \
    eval 'expect 0 ".data.existing == true" && [ "$(jq -c "[.data.generated_external_ids.ids[].external_id]" "$out")" = "$IDS1" ] && [ "$(named Sheetwise)" = $((before + 3)) ]'
g batch create --input "$tmp/sheet.with-ids.csv" --wait
check "CSV: running the copy with the ids finds the same batch too (its own key file): nobody twice" \
    eval 'expect 0 ".data.existing == true and .data.generated_external_ids.count == 0" && [ "$(jq -c "[.data.results[].external_id]" "$out")" = "$IDS1" ] && [ "$(named Sheetwise)" = $((before + 3)) ] && [ -f "$tmp/sheet.with-ids.csv.idempotency-key" ]'

# An empty external_id cell in a column that has others; a clash gets -2.
printf '%s\n' 'External ID,First Name,Last Name' 'own-1,Dee,Samename' ',Eve,Twin' ',Eve,Twin' >"$tmp/twins.csv"
g batch create --input "$tmp/twins.csv" --dry-run
check "CSV: an empty External ID cell gets one; two rows of the same name get -2" \
    eval 'expect 0 "[.data.requests[0].body.batch[].person.external_id][0] == \"own-1\"" && [ "$(jq -r ".data.requests[0].body.batch[2].person.external_id" "$out")" = "$(jq -r ".data.requests[0].body.batch[1].person.external_id" "$out")-2" ]'

# Tab separated, and --separator.
printf 'first_name\tlast_name\texternal_id\nTab\tSeparated\ttab-1\n' >"$tmp/tabs.csv"
g batch create --input "$tmp/tabs.csv" --dry-run
check "CSV: a tab-separated file is detected" \
    expect 0 '.data.requests[0].body.batch[0].person == {"first_name":"Tab","last_name":"Separated","external_id":"tab-1"}'
g batch create --input "$tmp/plain.csv" --dry-run --separator tab
check "CSV: --separator overrides the detection (a comma file read as tab-separated is one column)" \
    eval 'exit_is 7 && json ".error.details.errors[0].field == \"external_id,first_name,last_name,email\""'
g batch create --input "$tmp/plain.csv" --dry-run --separator pipe
check "CSV: --separator refuses what it does not know, exit 2" eval 'exit_is 2 && stderr_has "comma"'

# Unknown headers: did you mean.
printf '%s\n' 'Frist Name,Last Name,Emial,Favourite Colour,persn.zip' 'A,B,c@example.com,red,1' >"$tmp/typo.csv"
g batch create --input "$tmp/typo.csv" --dry-run
check "CSV: unknown headers get a 'did you mean' (or none when nothing is close)" \
    eval 'expect 7 "[.error.details.errors[] | .field] == [\"Frist Name\",\"Emial\",\"Favourite Colour\",\"persn.zip\"]" && json ".error.details.errors[3].message | test(\"did you mean .zip. \\\\(home_address.zip\\\\)\")" && json ".error.details.errors[0].message | test(\"did you mean .First Name. \\\\(person.first_name\\\\)\")" && json ".error.details.errors[1].message | test(\"did you mean .email.\")" && json ".error.details.errors[2].message | test(\"did you mean\") | not"'
printf '%s\n' 'first_name,last_name,Email,E-mail' 'A,B,c@example.com,d@example.com' >"$tmp/twice.csv"
g batch create --input "$tmp/twice.csv" --dry-run
check "CSV: two headers for one field are refused, naming both" \
    eval 'expect 7 ".error.details.errors[0].field == \"E-mail\"" && json ".error.details.errors[0].message | test(\"Email. both mean person.email\")"'

# Spellings people write, as a table: each row's value and what Gusto gets.
printf '%s\n' 'external_id,first_name,last_name,job_title,start_date,pay_rate,pay_unit,flsa_status,street,city,state,zip' \
    'n1,N,Table,Clerk,2025-03-01,20,Hour,Exempt,1 Main,Austin,TX,78701' \
    'n2,N,Table,Clerk,03/01/2025,20,per hour,salaried,1 Main,Austin,new york,10001' \
    'n3,N,Table,Clerk,1-Mar-2025,20,WEEKLY,Salaried Nonexempt,1 Main,Austin,District of Columbia,20001' \
    'n4,N,Table,Clerk,2025/03/01,20,Monthly,non exempt,1 Main,Austin,Puerto Rico,00901' \
    'n5,N,Table,Clerk,Mar. 1 2025,20,paycheck,owner,1 Main,Austin,ca,90001' \
    'n6,N,Table,Clerk,1 March 2025,20,Annual,commissioned,1 Main,Austin,Ny,10001' \
    'n7,N,Table,Clerk,2/29/2024,"$1,234,567.5",Year,Commission Only Nonexempt,1 Main,Austin,Texas,78701' >"$tmp/spell.csv"
g batch create --input "$tmp/spell.csv" --dry-run
check "CSV: a table of spellings becomes Gusto's values" \
    expect 0 '[.data.requests[0].body.batch[] | [.job.hire_date, .compensation.rate, .compensation.payment_unit, .compensation.flsa_status, .home_address.state]] == [["2025-03-01","20","Hour","Exempt","TX"],["2025-03-01","20","Hour","Exempt","NY"],["2025-03-01","20","Week","Salaried Nonexempt","DC"],["2025-03-01","20","Month","Nonexempt","PR"],["2025-03-01","20","Paycheck","Owner","CA"],["2025-03-01","20","Year","Commission Only Exempt","NY"],["2024-02-29","1234567.5","Year","Commission Only Nonexempt","TX"]]'
check "CSV: Gusto's own spellings are not reported as normalised (row 2 has none)" \
    json '[.data.normalised[].rows[]] | index(2) == null and (length > 0)'

# Refusals: nothing guessed, nothing sent.
printf '%s\n' 'External ID,First Name,Last Name,Start Date,Job Title,Pay Rate,Pay Unit,FLSA Status,Street,City,State,Zip' \
    'r1,Ref,Used,13/1/2025,Clerk,20,Hour,Nonexempt,1 Main,Austin,TX,78701' \
    'r2,Ref,Used,2/30/2025,Clerk,20,Hour,Nonexempt,1 Main,Austin,TX,78701' \
    'r3,Ref,Used,3/1/25,Clerk,20,Hour,Nonexempt,1 Main,Austin,TX,78701' \
    'r4,Ref,Used,2025-03-01,Clerk,20,fortnightly,Nonexempt,1 Main,Austin,TX,78701' \
    'r5,Ref,Used,2025-03-01,Clerk,20,Hour,sometimes,1 Main,Austin,Texass,78701' \
    'r6,Ref,Used,2025-03-01,Clerk,"1,50",Hour,Nonexempt,1 Main,Austin,TX,ABCDE' >"$tmp/refuse.csv"
sent=$(requests_sent)
g batch create --input "$tmp/refuse.csv"
check "CSV: what cannot be read for sure is refused with line, column, value and what was expected" \
    eval 'expect 7 "[.error.details.errors[] | \"\(.row) \(.field)\"] == [\"2 Start Date\",\"3 Start Date\",\"4 Start Date\",\"5 Pay Unit\",\"6 FLSA Status\",\"6 State\",\"7 Pay Rate\"]" && json "[.error.details.errors[].message] | (.[0] | test(\"13/1/2025.*day/month/year.*expected\")) and (.[1] | test(\"2/30/2025.*not a real date\")) and (.[2] | test(\"3/1/25.*two-digit year\")) and (.[3] | test(\"fortnightly.*expected Hour, Week, Month, Year or Paycheck\")) and (.[4] | test(\"sometimes.*expected Exempt\")) and (.[5] | test(\"Texass.*expected a two-letter code\")) and (.[6] | test(\"1,50.*thousands\"))"'
check "CSV: the refused file sent nothing and wrote no key file or copy" \
    eval '[ "$(requests_sent)" = "$sent" ] && [ ! -e "$tmp/refuse.csv.idempotency-key" ] && [ ! -e "$tmp/refuse.with-ids.csv" ]'
sed -i -e '2,7d' "$tmp/refuse.csv"
printf '%s\n' 'r7,Ref,Used,2025-03-01,Clerk,20,Hour,Nonexempt,1 Main,Austin,TX,ABCDE' >>"$tmp/refuse.csv"
g batch create --input "$tmp/refuse.csv"
check "CSV: a check of the library names the column as the header wrote it (Zip)" \
    eval 'expect 7 ".error.details.errors[0].field == \"Zip\" and .error.details.errors[0].row == 2" && [ "$(requests_sent)" = "$sent" ]'
sed -i -e 's/ABCDE/78701/' "$tmp/refuse.csv"
g batch create --input "$tmp/refuse.csv"
check "control: the same file fixed is sent (the sandbox sees it)" \
    eval 'exit_is 0 && [ "$(requests_sent)" -gt "$sent" ]'

# SSNs of 9 bare digits become xxx-xx-xxxx, never shown.
printf '%s\n' 'external_id,first_name,last_name,ssn' 'ssn-1,Sam,Digits,517293846' >"$tmp/ssn.csv"
g batch create --input "$tmp/ssn.csv" --dry-run
check "CSV: 9 bare SSN digits are normalised and reported without the value" \
    expect 0 '.data.normalised == [{"kind":"ssn","field":"person.ssn","column":"ssn","rows":[2],"changes":[]}] and .data.requests[0].body.batch[0].person.ssn == "***-**-3846"'

# ---- 10,000 people from a CSV --------------------------------------------------------

awk 'BEGIN {
    print "person.external_id,person.first_name,person.last_name,person.email,home_address.street_1,home_address.city,home_address.state,home_address.zip,job.title,job.hire_date,compensation.rate,compensation.payment_unit,compensation.flsa_status"
    for (i = 1; i <= 10000; i++)
        printf "bulk-%05d,First%d,\"Bulkload, %d\",p%d@example.com,%d Main St,Denver,CO,80202,Clerk,2025-03-01,%d.00,Year,Exempt\n", i, i, i, i, i, 40000 + i
}' >"$tmp/big.csv"
before=$(employee_count)
start=$(date +%s)
g batch create --input "$tmp/big.csv" --wait
took=$(($(date +%s) - start))
check "10,000-person CSV completes with --wait, exit 0 (${took}s)" expect 0 '.data.status == "completed" and .data.processed_items == 10000 and .data.submitted_items == 10000'
check "10,000 results, each with an employee, rows are lines 2..10001" json '(.data.results | length) == 10000 and (.data.results | all(.status == "success" and (.employee_uuid | length) == 36)) and .data.results[0].row == 2 and .data.results[9999].row == 10001 and .data.results[9999].external_id == "bulk-10000"'
after=$(employee_count)
check "10,000 employees more" eval '[ "$after" -eq $((before + 10000)) ]'

# ---- secrets ------------------------------------------------------------------------------

check "no output ever contains the token" eval '! grep -l -e "$TOKEN" "$tmp"/out.* "$tmp"/err.* >/dev/null 2>&1'
check "no output ever contains an SSN or account number" eval '! grep -l -e 517-29-3846 -e 517293846 -e 5550001207 -e 7770008890 -e 99994321 -e 123450009 "$tmp"/out.* "$tmp"/err.* >/dev/null 2>&1'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
