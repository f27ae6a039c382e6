#!/bin/sh
# demo.sh - the main job end to end, through the gusto-connect CLI, against a local
# gusto-sandbox: onboard an employee with every nested part, read it back,
# update it, read time off, call an arbitrary endpoint.  `make demo` installs
# the packages and builds first.
set -eu
cd "$(dirname "$0")/.."

out=$(mktemp)
work=$(mktemp -d)
# Without --token the sandbox makes up a full-scope token and prints it.
build/gusto-sandbox --port 0 --seed demo >"$out" 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$out" "$work"' EXIT INT TERM
i=0
until grep -q '^company:' "$out" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 200 ] || { echo "demo: sandbox did not start" >&2; exit 1; }
    sleep 0.05
done
# The token reaches gusto-connect through the environment, never argv.
GUSTO_ACCESS_TOKEN=$(sed -n 's/^token: //p' "$out")
export GUSTO_ACCESS_TOKEN
GUSTO_API_BASE_URL=$(sed -n 's/^listening on //p' "$out")
export GUSTO_API_BASE_URL
export GUSTO_STORE="$work/connections.db"
echo "sandbox: $GUSTO_API_BASE_URL (pid $pid)"
PATH=$PWD/build:$PATH; export PATH # gusto-connect from this build

echo
echo '$ gusto-connect employees create --input grace.json'
cat >"$work/grace.json" <<'JSON'
{
  "first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com",
  "date_of_birth": "1986-12-09", "ssn": "123-45-6789",
  "home_address": {"street_1": "1 Navy Way", "city": "Arlington", "state": "VA", "zip": "22202"},
  "work_address": {"location": "Denver"},
  "job": {"title": "Rear Admiral", "hire_date": "2025-01-06"},
  "compensation": {"rate": "185000.00", "payment_unit": "Year", "flsa_status": "Exempt"}
}
JSON
created=$(gusto-connect employees create --input "$work/grace.json")
echo "$created" | jq '{ok, uuid: .data.employee.uuid, warnings: .data.warnings}'
EMP=$(echo "$created" | jq -r .data.employee.uuid)

echo
echo "\$ gusto-connect employees get $EMP"
gusto-connect employees get "$EMP" | jq '.data | {first_name, last_name, title, hired_at,
    home: .current_home_address.city, work: .current_work_address.city,
    rate: .jobs[0].compensations[0].rate}'

echo
echo "\$ echo '{\"preferred_first_name\":\"Amazing Grace\",\"job\":{\"title\":\"Commodore\"}}' | gusto-connect employees update $EMP"
echo '{"preferred_first_name":"Amazing Grace","job":{"title":"Commodore"}}' |
    gusto-connect employees update "$EMP" | jq '.data | {preferred_first_name, title: .jobs[0].title}'

echo
SOMEONE=$(gusto-connect employees list --search alice | jq -r '.data[0].uuid')
echo "\$ gusto-connect time-off $SOMEONE --type vacation"
gusto-connect time-off "$SOMEONE" --type vacation | jq -c '.data.balances[]'

echo
echo "\$ gusto-connect api GET '/v1/companies/{company_uuid}/locations'"
gusto-connect api GET '/v1/companies/{company_uuid}/locations' | jq -c '.data[] | {uuid, city}'

echo
echo "\$ gusto-connect employees list | jq '.data | length'"
gusto-connect employees list | jq '.data | length'
echo "demo: ok"
