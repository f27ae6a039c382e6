#!/bin/sh
# demo.sh - the main job end to end against a local gusto-sandbox: onboard
# an employee with every nested part, read it back, update it, read its time
# off.  Run through `make demo`, which installs packages and builds first.
set -eu
cd "$(dirname "$0")/.."

TOKEN="demo-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
out=$(mktemp)
build/gusto-sandbox --port 0 --seed demo --token "$TOKEN" >"$out" 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$out"' EXIT INT TERM
i=0
until grep -q '^listening on' "$out" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "demo: sandbox did not start" >&2; exit 1; }
    sleep 0.05
done
BASE=$(sed -n 's/^listening on //p' "$out")
echo "sandbox: $BASE (pid $pid)"

# The token travels in a header file, never on argv.
hdr=$(mktemp)
trap 'kill $pid 2>/dev/null; rm -f "$out" "$hdr"' EXIT INT TERM
printf 'Authorization: Bearer %s\nContent-Type: application/json\n' "$TOKEN" >"$hdr"
api() { curl -sS -f -H @"$hdr" -X "$1" "$BASE$2" ${3:+-d "$3"}; }

COMPANY=$(api GET /v1/token_info | jq -r .resource.uuid)
echo "company: $COMPANY"
LOCATION=$(api GET "/v1/companies/$COMPANY/locations" | jq -r '.[0].uuid')

echo "== onboard Grace Hopper"
EMP=$(api POST "/v1/companies/$COMPANY/employees" \
    '{"first_name":"Grace","last_name":"Hopper","email":"grace@example.com","date_of_birth":"1986-12-09"}' |
    jq -r .uuid)
api POST "/v1/employees/$EMP/home_addresses" \
    '{"street_1":"1 Navy Way","city":"Arlington","state":"VA","zip":"22202"}' >/dev/null
api POST "/v1/employees/$EMP/work_addresses" "{\"location_uuid\":\"$LOCATION\"}" >/dev/null
JOB=$(api POST "/v1/employees/$EMP/jobs" '{"title":"Rear Admiral","hire_date":"2025-01-06"}' | jq -r .uuid)
api POST "/v1/jobs/$JOB/compensations" \
    '{"rate":"185000.00","payment_unit":"Year","flsa_status":"Exempt"}' >/dev/null

echo "== read back"
api GET "/v1/employees/$EMP?include=current_home_address" |
    jq '{uuid, first_name, last_name, title, hired_at, flsa_status,
         home: .current_home_address.city, rate: .jobs[0].rate, version}'

echo "== update (version read, then sent)"
V=$(api GET "/v1/employees/$EMP" | jq -r .version)
api PUT "/v1/employees/$EMP" "{\"version\":\"$V\",\"preferred_first_name\":\"Amazing Grace\"}" |
    jq '{preferred_first_name, version}'

echo "== a stale version gets 409"
curl -sS -H @"$hdr" -X PUT "$BASE/v1/employees/$EMP" -d "{\"version\":\"$V\",\"first_name\":\"G\"}" | jq -c .

echo "== time off of a seeded employee"
SOMEONE=$(api GET "/v1/companies/$COMPANY/employees?per=1&page=1" | jq -r '.[0].uuid')
api GET "/v1/employees/$SOMEONE/time_off_activities?time_off_type=vacation" |
    jq -c '.[-3:][] | {event_type, effective_time, balance}'

echo "== employees: $(api GET "/v1/companies/$COMPANY/employees" | jq length)"
echo "demo: ok"
