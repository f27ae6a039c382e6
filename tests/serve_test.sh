#!/bin/sh
# serve_test.sh - `gusto-connect serve` over real HTTP against gusto-sandbox: every action, auth failures and isolation between callers, the audit and request logs (masked), Gusto webhooks (the handshake with the token alone verified through a system access token, a pending token refused and the confirmed one accepted, both header spellings, good and bad signature, duplicate, the resulting mirror sync, people_batch events), 200 concurrent calls, metrics and a graceful shutdown; and the security findings of issue 14 (docs/security.md): atomic de-duplication under a handshake flood, no false terminations through the webhook worker, the queue by grants, bounded handshakes, the key checked before a body, idle connections, framing, log and audit hygiene.
#
# Everything runs on 127.0.0.1 in one mktemp directory; every process it
# starts is killed on exit.  Needs curl, jq, openssl, sqlite3 and node.
# Environment: GUSTO (build/gusto-connect), GUSTO_SANDBOX (build/gusto-sandbox),
# KEEP=1 keeps the directory.  Prints "ok - NAME" / "not ok - NAME" and
# ends with "N passed, N failed"; exits 1 when anything failed.
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

cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    for p in $pids; do wait "$p" 2>/dev/null; done
    pids=""
    if [ -n "${KEEP:-}" ]; then echo "# files kept in $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

export HOME="$T/home"
mkdir -p "$HOME"
export GUSTO_STORE="$T/connections.db"
unset GUSTO_ACCESS_TOKEN GUSTO_CONNECTION GUSTO_STORE_KEY GUSTO_COMPANY_UUID \
    GUSTO_API_BASE_URL GUSTO_ENV XDG_CONFIG_HOME GUSTO_SERVE_PORT GUSTO_SERVE_DB \
    GUSTO_SERVE_MIRROR GUSTO_SERVE_BIND
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY='*'
export GUSTO_SANDBOX_WEBHOOK_RETRY_MS=200
export GUSTO_SERVE_WEBHOOK_TOKEN=test-webhook-secret

ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() {
    fail=$((fail + 1))
    echo "not ok - $1"
    [ $# -gt 1 ] && printf '%s\n' "$2" | head -c 1500 | sed 's/^/#   /'
    return 0
}
# check NAME COND [DETAIL]
check() { if eval "$2"; then ok "$1"; else not_ok "$1" "${3:-}"; fi; }

# start_sandbox OUTFILE ARGS...: start, wait for the first line; sets sb_pid sb_url
start_sandbox() {
    out=$1; shift
    "$SANDBOX" --port 0 "$@" >"$out" 2>"$out.err" &
    sb_pid=$!
    pids="$pids $sb_pid"
    i=0
    while [ $i -lt 100 ] && ! grep -q '^company:' "$out" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
    sb_url=$(sed -n 's/^listening on //p' "$out")
}

start_serve() {
    "$GUSTO" serve --config "$T/serve.json" "$@" >"$T/serve.out" 2>>"$T/serve.err" &
    sv_pid=$!
    pids="$pids $sv_pid"
    i=0
    while [ $i -lt 100 ] && ! grep -q '^listening on' "$T/serve.out" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
    S=$(sed -n 's/^listening on //p' "$T/serve.out")
}

# act KEY ACTION JSON [CURL ARGS...]: body in $T/r.json, status in $code
act() {
    key=$1; action=$2; body=$3; shift 3
    code=$(curl -s -o "$T/r.json" -w '%{http_code}' -H "Authorization: Bearer $key" \
        -H 'Content-Type: application/json' "$@" -X POST --data "$body" "$S/actions/$action")
    { cat "$T/r.json"; echo; } >>"$T/answers.log" 2>/dev/null
}
j() { jq -r "$1" "$T/r.json" 2>/dev/null; }
sign() { printf %s "$1" | openssl dgst -sha256 -hmac "$2" | sed 's/^.*= //'; }

# ---- set up: a sandbox, two stored connections, two callers -------------

start_sandbox "$T/sb.out" --seed demo --token tokA --token tokB@other --rate-limit 0 --log \
    --app hookapp:hooksecret:http://127.0.0.1:9/cb
[ -n "$sb_url" ] || { not_ok "sandbox starts" "$(cat "$T/sb.out.err")"; echo "$pass passed, $fail failed"; exit 1; }
GUSTO_ACCESS_TOKEN=tokA "$GUSTO" serve connections add acme --base-url "$sb_url" --json >"$T/c1" 2>&1
GUSTO_ACCESS_TOKEN=tokB "$GUSTO" serve connections add globex --base-url "$sb_url" --json >"$T/c2" 2>&1
check "connections stored" '[ "$(jq -r .ok "$T/c1")" = true ] && [ "$(jq -r .ok "$T/c2")" = true ]' "$(cat "$T/c1" "$T/c2")"
ACME=$(jq -r .data.company_uuid "$T/c1")

# The app's client id in the file, its secret in the environment.
export GUSTO_SERVE_CLIENT_SECRET=hooksecret
cat >"$T/serve.json" <<EOF
{"port": 0, "db": "$T/serve.db", "audit_log": "$T/audit.jsonl", "client_id": "hookapp",
 "webhook_connection": "acme", "mirror": "$T/mirror.db", "shutdown_grace_ms": 10000}
EOF
"$GUSTO" serve keys add alice --grant acme --config "$T/serve.json" --json >"$T/k1" 2>&1
"$GUSTO" serve keys add bob --grant globex --config "$T/serve.json" --json >"$T/k2" 2>&1
KA=$(jq -r .data.key "$T/k1")
KB=$(jq -r .data.key "$T/k2")
check "keys add prints a key once" 'case $KA in gsk_*) true ;; *) false ;; esac && [ "$KA" != "$KB" ]' "$(cat "$T/k1")"
check "keys are stored hashed" '! sqlite3 "$T/serve.db" .dump | grep -q "$KA" && sqlite3 "$T/serve.db" "select hash from api_keys" | grep -qE "^[0-9a-f]{64}$"'

start_serve
[ -n "$S" ] || { not_ok "serve starts" "$(cat "$T/serve.err")"; echo "$pass passed, $fail failed"; exit 1; }
ok "serve starts"

# ---- health, catalogue, auth ---------------------------------------------

code=$(curl -s -o "$T/r.json" -w '%{http_code}' "$S/healthz")
check "GET /healthz" '[ "$code" = 200 ] && [ "$(j .status)" = ok ]'
code=$(curl -s -o "$T/r.json" -w '%{http_code}' "$S/actions")
check "no API key: 401, not retryable" '[ "$code" = 401 ] && [ "$(j .error.code)" = unauthorized ] && [ "$(j .error.retryable)" = false ]'
code=$(curl -s -o "$T/r.json" -w '%{http_code}' -H "Authorization: Bearer gsk_wrong" "$S/actions")
check "wrong API key: 401" '[ "$code" = 401 ]'
act gsk_wrong list-employees '{}'
check "wrong API key on an action: 401" '[ "$code" = 401 ]'
code=$(curl -s -o "$T/r.json" -w '%{http_code}' -H "X-API-Key: $KA" "$S/actions")
check "GET /actions lists 9 actions with schemas" '[ "$code" = 200 ] && [ "$(j ".data.actions|length")" = 9 ] && [ "$(j "[.data.actions[]|select(.input_schema.type==\"object\" and .output_schema.type==\"object\")]|length")" = 9 ]' "$(head -c 400 "$T/r.json")"

# ---- each action ----------------------------------------------------------

act "$KA" list-employees '{}'
check "list-employees" '[ "$code" = 200 ] && [ "$(j .ok)" = true ] && [ "$(j ".data|length")" -gt 40 ]' "$code $(head -c 300 "$T/r.json")"
act "$KA" create-employee '{"first_name":"Ada","last_name":"Lovelace","ssn":"123-45-6789","email":"ada.serve@example.com","home_address":{"street_1":"12 St James Sq","city":"Austin","state":"TX","zip":"78701"},"work_address":{"location":"Denver"},"job":{"title":"Analyst","hire_date":"2025-03-01"},"compensation":{"rate":"98000.00","payment_unit":"Year","flsa_status":"Exempt"}}'
EMP=$(j .data.employee.uuid)
check "create-employee: 201 with no warnings" '[ "$code" = 201 ] && [ "$(j ".data.warnings|length")" = 0 ] && [ -n "$EMP" ]' "$code $(head -c 600 "$T/r.json")"
act "$KA" create-employee '{"first_name":"Partial","last_name":"Person","work_address":{"location":"Atlantis"}}'
check "create-employee with a failed part: 207 and a warning" '[ "$code" = 207 ] && [ "$(j .ok)" = true ] && [ "$(j ".data.warnings[0].entity")" = work_address ]' "$code $(head -c 600 "$T/r.json")"
act "$KA" create-employee '{"first_name":"NoLast"}'
check "create-employee, invalid input: 400" '[ "$code" = 400 ] && [ "$(j .ok)" = false ] && [ -n "$(j .error.message)" ]' "$code $(cat "$T/r.json")"
act "$KA" create-employee '{"first_name":"","last_name":"X","home_address":{"street_1":"1 A","city":"B","state":"ZZ","zip":"1"}}'
check "create-employee lists every problem" '[ "$code" = 400 ] && [ "$(j "[.error.details.errors[].field]|join(\",\")")" = "first_name,home_address.state,home_address.zip" ]' "$code $(cat "$T/r.json")"
act "$KA" get-employee "{\"employee_uuid\":\"$EMP\"}"
check "get-employee" '[ "$code" = 200 ] && [ "$(j .data.uuid)" = "$EMP" ] && [ "$(j .data.current_home_address.city)" = Austin ]' "$code $(head -c 400 "$T/r.json")"
act "$KA" get-employee '{"employee_uuid":"00000000-0000-4000-8000-000000000000"}'
check "get-employee, unknown: 404" '[ "$code" = 404 ] && [ "$(j .ok)" = false ]' "$code $(cat "$T/r.json")"
act "$KA" get-employee '{}'
check "get-employee, no uuid: 400" '[ "$code" = 400 ]'
act "$KA" update-employee "{\"employee_uuid\":\"$EMP\",\"preferred_first_name\":\"Countess\",\"job\":{\"title\":\"Lead Analyst\"}}"
check "update-employee" '[ "$code" = 200 ] && [ "$(j .data.preferred_first_name)" = Countess ]' "$code $(head -c 400 "$T/r.json")"
# A pay change is a new compensation; correct_compensation: true corrects in place.
EMP_JOB=$(curl -s -H "Authorization: Bearer $KA" -X POST --data "{\"employee_uuid\":\"$EMP\"}" "$S/actions/get-employee" | jq -r '.data.jobs[0].uuid')
comps() { curl -s -H "Authorization: Bearer $KA" -X POST --data "{\"method\":\"GET\",\"path\":\"/v1/jobs/$EMP_JOB/compensations?include=all_compensations\"}" "$S/actions/call-api" | jq -r "$1"; }
check "create-employee left one compensation with the pay from the hire date" '[ "$(comps ".data|length")" = 1 ] && [ "$(comps ".data[0].rate")" = 98000.00 ] && [ "$(comps ".data[0].effective_date")" = 2025-03-01 ]' "$(comps .)"
RAISE_ON=$(date -d "+20 days" +%Y-%m-%d)
act "$KA" update-employee "{\"employee_uuid\":\"$EMP\",\"compensation\":{\"rate\":\"99000.00\",\"effective_date\":\"$RAISE_ON\"}}"
check "update-employee with a raise: a new compensation, the old kept" '[ "$code" = 200 ] && [ "$(comps ".data|length")" = 2 ] && [ "$(comps ".data[0].rate")" = 98000.00 ] && [ "$(comps ".data[1].rate")" = 99000.00 ]' "$code $(comps .)"
act "$KA" update-employee "{\"employee_uuid\":\"$EMP\",\"correct_compensation\":true,\"compensation\":{\"rate\":\"98500.00\"}}"
check "update-employee with correct_compensation: corrected in place" '[ "$code" = 200 ] && [ "$(comps ".data|length")" = 2 ] && [ "$(comps ".data[0].rate")" = 98500.00 ] && [ "$(comps ".data[0].effective_date")" = 2025-03-01 ]' "$code $(comps .)"
SEEDED=$(curl -s -H "Authorization: Bearer $KA" -X POST --data '{}' "$S/actions/list-employees" | jq -r '.data[0].uuid')
act "$KA" get-time-off-activities "{\"employee_uuid\":\"$SEEDED\",\"type\":\"vacation\"}"
check "get-time-off-activities" '[ "$code" = 200 ] && [ "$(j ".data.balances|type")" = array ] && [ "$(j ".data.activities|length")" -gt 0 ]' "$code $(head -c 400 "$T/r.json")"
act "$KA" call-api '{"method":"GET","path":"/v1/companies/{company_uuid}"}'
check "call-api" '[ "$code" = 200 ] && [ "$(j .http_status)" = 200 ] && [ "$(j .data.uuid)" = "$ACME" ]' "$code $(head -c 300 "$T/r.json")"
act "$KA" call-api '{"method":"GET","path":"/v1/employees/00000000-0000-4000-8000-000000000000"}'
check "call-api, Gusto 404 passed through" '[ "$code" = 404 ] && [ "$(j .ok)" = false ]'
act "$KA" create-people-batch '{"entries":[{"person":{"first_name":"Bat","last_name":"One","external_id":"b1"}},{"person":{"first_name":"Bat","last_name":"Two","external_id":"b2"}}]}'
BATCH=$(j .data.uuid)
check "create-people-batch: 202" '[ "$code" = 202 ] && [ -n "$BATCH" ] && [ "$BATCH" != null ]' "$code $(head -c 600 "$T/r.json")"
i=0
while [ $i -lt 50 ]; do
    act "$KA" get-people-batch "{\"batch_uuid\":\"$BATCH\"}"
    [ "$(j .data.finished)" = true ] && break
    sleep 0.2; i=$((i + 1))
done
check "get-people-batch: completed" '[ "$code" = 200 ] && [ "$(j .data.status)" = completed ] && [ "$(j ".data.results|length")" = 2 ]' "$code $(head -c 600 "$T/r.json")"
check "create-people-batch without a key returns the key it used" '[ "$(j .data.idempotency_key | grep -cE "^[0-9a-f-]{36}$")" = 1 ]' "$(head -c 400 "$T/r.json")"

# ---- no duplicate people; Idempotency-Key ----------------------------------

count_emps() { curl -s -H "Authorization: Bearer $KA" -X POST --data '{}' "$S/actions/list-employees" | jq '.data|length'; }
ADA_BODY='{"first_name":"Ada","last_name":"Lovelace","ssn":"123-45-6789","email":"ada.serve@example.com"}'
before=$(count_emps)
act "$KA" create-employee "$ADA_BODY"
check "create-employee of the same person: 409 duplicate_employee naming her" '[ "$code" = 409 ] && [ "$(j .error.code)" = duplicate_employee ] && [ "$(j .error.details.duplicate_of.uuid)" = "$EMP" ] && [ "$(j .error.details.field)" = email ]' "$code $(head -c 600 "$T/r.json")"
check "...the refusal shows no SSN and created nobody" '! grep -q 123-45-6789 "$T/r.json" && [ "$(count_emps)" = "$before" ]'
act "$KA" create-employee "$(echo "$ADA_BODY" | jq -c '. + {allow_duplicate: true}')"
check "allow_duplicate: true creates a second record" '[ "$code" = 201 ] && [ "$(j .data.employee.uuid)" != "$EMP" ] && [ "$(count_emps)" = $((before + 1)) ]' "$code $(head -c 400 "$T/r.json")"

IDA='{"first_name":"Ida","last_name":"Rhodes","email":"ida.serve@example.com"}'
K1=0b7f3c1e-4a6d-4e8b-9c2f-5d1a7e3b9c41
before=$(count_emps)
act "$KA" create-employee "$IDA" -H "Idempotency-Key: $K1"
IDA_UUID=$(j .data.employee.uuid)
cp "$T/r.json" "$T/first.json"
check "Idempotency-Key: the first call creates (201)" '[ "$code" = 201 ] && [ -n "$IDA_UUID" ] && [ "$IDA_UUID" != null ]' "$code $(head -c 400 "$T/r.json")"
# The same body with other spacing and key order is the same request.
act "$KA" create-employee '{ "email": "ida.serve@example.com", "last_name": "Rhodes", "first_name": "Ida" }' -H "Idempotency-Key: $K1"
check "Idempotency-Key: a retry replays the first answer (status and body)" '[ "$code" = 201 ] && [ "$(j .data.employee.uuid)" = "$IDA_UUID" ] && [ "$(jq -cS "del(.request_id)" "$T/r.json")" = "$(jq -cS "del(.request_id)" "$T/first.json")" ]' "$code $(head -c 400 "$T/r.json")"
check "Idempotency-Key: one employee was created" '[ "$(count_emps)" = $((before + 1)) ]'
act "$KA" create-employee '{"first_name":"Ida","last_name":"Rhodes","email":"ida.other@example.com"}' -H "Idempotency-Key: $K1"
check "Idempotency-Key with a different body: 422 naming the header" '[ "$code" = 422 ] && [ "$(j .error.code)" = idempotency_key_reused ] && [ "$(j .error.details.field)" = Idempotency-Key ] && [ "$(count_emps)" = $((before + 1)) ]' "$code $(head -c 400 "$T/r.json")"
act "$KA" create-employee "$IDA"
check "no key: a second call is refused as a duplicate (409), not created" '[ "$code" = 409 ] && [ "$(j .error.code)" = duplicate_employee ] && [ "$(j .error.details.duplicate_of.uuid)" = "$IDA_UUID" ] && [ "$(count_emps)" = $((before + 1)) ]' "$code $(head -c 400 "$T/r.json")"
act "$KA" create-employee '{"first_name":"Key","last_name":"Bad"}' -H "Idempotency-Key: has space"
check "an Idempotency-Key with a space: 400 naming the header" '[ "$code" = 400 ] && [ "$(j .error.code)" = invalid_idempotency_key ] && [ "$(j .error.details.field)" = Idempotency-Key ]' "$code $(cat "$T/r.json")"
act "$KA" create-employee '{"first_name":"Key","last_name":"Long"}' -H "Idempotency-Key: $(head -c 256 /dev/zero | tr '\0' a)"
check "an Idempotency-Key over 255 characters: 400" '[ "$code" = 400 ] && [ "$(j .error.code)" = invalid_idempotency_key ]' "$code"
check "...and the refused keys created nobody" '[ "$(count_emps)" = $((before + 1)) ]'
# A key is the caller's own: bob's K1 is another request.
act "$KB" call-api '{"method":"GET","path":"/v1/companies/{company_uuid}"}' -H "Idempotency-Key: $K1"
check "a GET through call-api ignores the key" '[ "$code" = 200 ]' "$code"
# The claim is atomic: while the first request runs, the same key gets 409.
BUSY='{"first_name":"Busy","last_name":"Beaver","email":"busy.serve@example.com"}'
FP=$(printf 'create-employee\nacme\n%s' "$(printf %s "$BUSY" | jq -cS .)" | openssl dgst -sha256 | sed 's/^.*= //')
sqlite3 "$T/serve.db" "INSERT INTO idempotency(caller, key, fingerprint, created_at) VALUES ('alice', 'busy-key-1', '$FP', strftime('%s','now'))"
act "$KA" create-employee "$BUSY" -H "Idempotency-Key: busy-key-1"
check "the same key while the first call runs: 409 in progress, nothing run" '[ "$code" = 409 ] && [ "$(j .error.code)" = idempotency_key_in_progress ] && [ "$(count_emps)" = $((before + 1)) ]' "$code $(cat "$T/r.json")"
act "$KA" create-employee "$BUSY" -H "Idempotency-Key: busy-key-2"
check "...positive control: the same body under a fresh key runs (201)" '[ "$code" = 201 ] && [ "$(count_emps)" = $((before + 2)) ]' "$code $(head -c 300 "$T/r.json")"
check "the kept answer is in serve's db, keyed by caller and key" '[ "$(sqlite3 "$T/serve.db" "select count(*) from idempotency where caller='"'alice'"' and key='"'$K1'"' and done=1 and status=201")" = 1 ]'
# Eight runs racing for the same person, each with its own key: one creates,
# seven are refused naming her (serve's creates through one connection take
# turns, so no two pass the look before either has written).  On loopback
# the eight seldom overlap, so this holds the outcome more than the lock.
RACE='{"first_name":"Race","last_name":"Condition","email":"race.serve@example.com"}'
mkdir -p "$T/race"
racers=""
for r in 1 2 3 4 5 6 7 8; do
    curl -s -o "$T/race/$r.json" -w '%{http_code}\n' -H "Authorization: Bearer $KA" \
        -H "Idempotency-Key: race-$r" -X POST --data "$RACE" "$S/actions/create-employee" \
        >"$T/race/$r.code" &
    racers="$racers $!"
done
for p in $racers; do wait "$p"; done
check "8 racing creates of one person: one 201, seven 409 duplicate_employee" '[ "$(cat "$T"/race/*.code | grep -c "^201$")" = 1 ] && [ "$(cat "$T"/race/*.code | grep -c "^409$")" = 7 ] && [ "$(cat "$T"/race/*.json | jq -r "select(.ok == false) | .error.code" | sort -u)" = duplicate_employee ]' "$(cat "$T"/race/*.code | tr '\n' ' ')"
check "...and she exists once" '[ "$(curl -s -H "Authorization: Bearer $KA" -X POST --data "{\"search\":\"Condition\"}" "$S/actions/list-employees" | jq "[.data[] | select(.last_name == \"Condition\")] | length")" = 1 ]'

# update-employee under a key, and a partial update said in full.
act "$KA" update-employee "{\"employee_uuid\":\"$IDA_UUID\",\"preferred_first_name\":\"Idy\",\"work_address\":{\"location_uuid\":\"00000000-0000-4000-8000-000000000001\"},\"job\":{\"title\":\"Never\"}}" -H "Idempotency-Key: upd-1"
check "update-employee stopped part way says what was applied and not" '[ "$code" = 422 ] && [ "$(j "[.error.details.update.applied[].part]|join(\",\")")" = employee ] && [ "$(j "[.error.details.update.not_applied[].part]|join(\",\")")" = "work_address,job" ] && [ "$(j .error.details.update.failed.part)" = work_address ] && [ -n "$(j .error.details.update.failed.request_id)" ]' "$code $(head -c 700 "$T/r.json")"
act "$KA" update-employee "{\"employee_uuid\":\"$IDA_UUID\",\"preferred_first_name\":\"Idy\",\"work_address\":{\"location_uuid\":\"00000000-0000-4000-8000-000000000001\"},\"job\":{\"title\":\"Never\"}}" -H "Idempotency-Key: upd-1"
check "...replayed for its key" '[ "$code" = 422 ] && [ "$(j .error.details.update.failed.part)" = work_address ]' "$code"

act "$KA" no-such-action '{}'
check "unknown action: 404" '[ "$code" = 404 ]'
act "$KA" list-employees 'not json'
check "malformed body: 400" '[ "$code" = 400 ] && [ "$(j .error.code)" = invalid_json ]'

# ---- isolation between callers --------------------------------------------

act "$KA" list-employees '{"connection":"globex"}'
check "alice cannot use globex (body field): 403" '[ "$code" = 403 ] && [ "$(j .error.code)" = forbidden_connection ]'
act "$KA" list-employees '{}' -H 'X-Gusto-Connection: globex'
check "alice cannot use globex (header): 403" '[ "$code" = 403 ]'
act "$KB" list-employees '{}' -H 'X-Gusto-Connection: globex'
check "bob sees only globex's employees" '[ "$code" = 200 ] && [ "$(j ".data|length")" -ge 1 ] && ! grep -q "$EMP" "$T/r.json" && [ "$(j "[.data[]|select(.company_uuid==\"$ACME\")]|length")" = 0 ]' "$code $(head -c 300 "$T/r.json")"
act "$KB" get-employee "{\"employee_uuid\":\"$EMP\"}"
check "bob cannot read acme's employee" '[ "$code" = 404 ] || [ "$code" = 403 ]' "$code"
act "$KB" get-employee "{\"employee_uuid\":\"$EMP\",\"connection\":\"acme\"}"
check "bob cannot name acme: 403" '[ "$code" = 403 ]'
code=$(curl -s -o "$T/r.json" -w '%{http_code}' -H "X-API-Key: $KB" "$S/actions")
check "bob's catalogue shows only his grants" '[ "$(jq -c .data.connections "$T/r.json")" = "[\"globex\"]" ]' "$(cat "$T/r.json" | head -c 300)"

# ---- issue 15: serve's contract ---------------------------------------------

# Schema refusals: each action's body against the input_schema GET /actions
# publishes.  refuse NAME ACTION BODY FIELD: 400 invalid_input naming FIELD.
refuse() {
    rf_field=$4
    act "$KA" "$2" "$3"
    check "$1: 400 naming $4" '[ "$code" = 400 ] && [ "$(j .error.code)" = invalid_input ] && [ "$(j .error.details.field)" = "$rf_field" ] && [ "$(j .error.retryable)" = false ] && [ -n "$(j .error.details.errors[0].expected)" ]' "$code $(head -c 500 "$T/r.json")"
}
before=$(count_emps)
act "$KA" list-employees '{"search":"Lovelace"}'
n_search=$(j '.data|length')
check "list-employees search (control for the typo below)" '[ "$code" = 200 ] && [ "$n_search" -ge 1 ] && [ "$n_search" -lt "$before" ]' "$code $n_search"
refuse "list-employees {\"serch\":...} (unknown field) no longer returns everyone" list-employees '{"serch":"Lovelace"}' serch
check "...the message says what is expected" 'j .error.message | grep -q "not a field" && j .error.details.errors[0].expected | grep -q search'
refuse "list-employees, wrong type" list-employees '{"terminated":"yes"}' terminated
refuse "list-employees, limit 0 (minimum)" list-employees '{"limit":0}' limit
refuse "list-employees, limit 1001 (maximum)" list-employees '{"limit":1001}' limit
refuse "list-employees, limit 2.5 (integer)" list-employees '{"limit":2.5}' limit
refuse "list-employees, connection not a string" list-employees '{"connection":5}' connection
refuse "create-employee, unknown field" create-employee '{"first_name":"Typo","last_name":"Field","emial":"t@example.com"}' emial
refuse "create-employee, unknown nested field" create-employee '{"first_name":"Typo","last_name":"Nested","home_address":{"stret_1":"1 Main St"}}' home_address.stret_1
refuse "create-employee, wrong type" create-employee '{"first_name":"Typo","last_name":7}' last_name
refuse "create-employee, date format" create-employee '{"first_name":"Typo","last_name":"Date","date_of_birth":"03/01/1990"}' date_of_birth
refuse "create-employee, required" create-employee '{"last_name":"Required"}' first_name
refuse "get-employee, unknown field" get-employee "{\"employee_uuid\":\"$EMP\",\"uid\":1}" uid
refuse "get-employee, wrong type" get-employee '{"employee_uuid":42}' employee_uuid
refuse "get-employee, not a uuid (pattern)" get-employee '{"employee_uuid":"ada"}' employee_uuid
refuse "get-employee, required" get-employee '{}' employee_uuid
refuse "update-employee, unknown field" update-employee "{\"employee_uuid\":\"$EMP\",\"preferred_name\":\"X\"}" preferred_name
refuse "update-employee, wrong type" update-employee "{\"employee_uuid\":\"$EMP\",\"correct_compensation\":\"yes\"}" correct_compensation
refuse "update-employee, unknown field in changes" update-employee "{\"employee_uuid\":\"$EMP\",\"changes\":{\"titel\":\"X\"}}" changes.titel
refuse "update-employee, required" update-employee '{"preferred_first_name":"X"}' employee_uuid
refuse "get-time-off-activities, unknown field" get-time-off-activities "{\"employee_uuid\":\"$SEEDED\",\"kind\":\"sick\"}" kind
refuse "get-time-off-activities, enum" get-time-off-activities "{\"employee_uuid\":\"$SEEDED\",\"type\":\"holiday\"}" type
refuse "get-time-off-activities, wrong type" get-time-off-activities "{\"employee_uuid\":\"$SEEDED\",\"type\":1}" type
refuse "get-time-off-activities, required" get-time-off-activities '{"type":"sick"}' employee_uuid
refuse "call-api, unknown field" call-api '{"method":"GET","path":"/v1/me","data":{}}' data
refuse "call-api, enum" call-api '{"method":"FETCH","path":"/v1/me"}' method
refuse "call-api, pattern" call-api '{"method":"GET","path":"v1/me"}' path
refuse "call-api, required" call-api '{"path":"/v1/me"}' method
refuse "create-people-batch, unknown field" create-people-batch '{"entries":[],"idempotencykey":"x"}' idempotencykey
refuse "create-people-batch, unknown field in an entry" create-people-batch '{"entries":[{"persn":{}}]}' 'entries[0].persn'
refuse "create-people-batch, wrong type" create-people-batch '{"entries":{}}' entries
refuse "create-people-batch, required" create-people-batch '{}' entries
refuse "get-people-batch, unknown field" get-people-batch "{\"batch_uuid\":\"$BATCH\",\"uuid\":\"x\"}" uuid
refuse "get-people-batch, wrong type" get-people-batch '{"batch_uuid":[]}' batch_uuid
refuse "get-people-batch, required" get-people-batch '{}' batch_uuid
act "$KA" create-employee '{"first_name":7,"last_name":[],"emial":"x","home_address":{"zip":1}}'
check "every mismatch is listed, the first in details.field" '[ "$code" = 400 ] && [ "$(j "[.error.details.errors[].field]|sort|join(\",\")")" = "emial,first_name,home_address.zip,last_name" ]' "$code $(head -c 600 "$T/r.json")"
check "...the refusals created nobody" '[ "$(count_emps)" = "$before" ]'

# One status for local validation: the batch's own check was 422, now 400
# like every action; Gusto's own 422 stays 422 (update stopped part way, above).
act "$KA" create-people-batch '{"entries":[{"person":{"first_name":"No"}}]}'
check "create-people-batch, locally invalid entry: 400 (one status for local validation)" '[ "$code" = 400 ] && [ "$(j .error.code)" = invalid_input ]' "$code $(head -c 500 "$T/r.json")"
act "$KA" create-employee '{"first_name":"","last_name":"X"}'
check "create-employee, locally invalid value: 400 (the same status)" '[ "$code" = 400 ] && [ "$(j .error.code)" = invalid_input ]' "$code"
code=$(curl -s -o "$T/r.json" -w '%{http_code}' -H "X-API-Key: $KA" "$S/actions")
check "GET /actions: the schemas say additionalProperties:false, list-employees has limit and cursor" '[ "$(j "[.data.actions[].input_schema.additionalProperties]|unique|tostring")" = "[false]" ] && [ "$(j ".data.actions[0].input_schema.properties.limit.maximum")" = 1000 ] && [ "$(j ".data.actions[0].output_schema.properties.next_cursor.type|tostring")" = "[\"string\",\"null\"]" ]' "$(head -c 300 "$T/r.json")"

# Paging: limit and an opaque cursor; each employee exactly once.
act "$KA" list-employees '{"limit":1000}'
all_n=$(j '.data|length')
j '[.data[].uuid]|sort|.[]' >"$T/all.uuids"
check "list-employees limit 1000: everyone, next_cursor null" '[ "$all_n" -gt 40 ] && [ "$(j .next_cursor)" = null ]' "$all_n $(j .next_cursor)"
act "$KA" list-employees '{}'
check "list-employees default limit 100 (or everyone when fewer)" '[ "$(j ".data|length")" = "$([ "$all_n" -gt 100 ] && echo 100 || echo "$all_n")" ]'
: >"$T/paged.uuids"
cur=null; pages=0
while [ $pages -lt 50 ]; do
    if [ "$cur" = null ]; then act "$KA" list-employees '{"limit":7}'
    else act "$KA" list-employees "{\"limit\":7,\"cursor\":\"$cur\"}"; fi
    [ "$code" = 200 ] || break
    j '.data[].uuid' >>"$T/paged.uuids"
    pages=$((pages + 1))
    [ "$(j '.data|length')" -le 7 ] || break
    cur=$(j .next_cursor)
    [ "$cur" = null ] && break
done
check "paging by 7 returns each employee exactly once, then next_cursor null" '[ "$cur" = null ] && [ "$(sort "$T/paged.uuids" | uniq -d | wc -l)" = 0 ] && [ "$(sort "$T/paged.uuids")" = "$(cat "$T/all.uuids")" ] && [ $pages = $(( (all_n + 6) / 7 )) ]' "pages=$pages code=$code cur=$cur $(wc -l <"$T/paged.uuids") of $all_n"
act "$KA" list-employees '{"limit":7}'
cur=$(j .next_cursor)
act "$KA" list-employees "{\"limit\":7,\"cursor\":\"$cur\",\"search\":\"Lovelace\"}"
check "a cursor with other filters: 400 naming cursor" '[ "$code" = 400 ] && [ "$(j .error.details.field)" = cursor ]' "$code $(cat "$T/r.json")"
act "$KA" list-employees '{"cursor":"not-a-cursor"}'
check "a cursor that is not one: 400 naming cursor" '[ "$code" = 400 ] && [ "$(j .error.details.field)" = cursor ]' "$code"

# serve connections list / remove.
"$GUSTO" serve connections list --json >"$T/cl" 2>"$T/cl.err"
check "serve connections list: name, company, environment, scopes, expiry" '[ "$(jq -r ".data[]|select(.name==\"acme\")|.company_uuid" "$T/cl")" = "$ACME" ] && jq -e ".data|length == 2 and all(.[]; has(\"environment\") and has(\"scopes\") and (.expires_at|test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T\")))" "$T/cl" >/dev/null' "$(cat "$T/cl" "$T/cl.err")"
check "...never a token" '! grep -q -e tokA -e tokB -e token "$T/cl"' "$(cat "$T/cl")"
GUSTO_ACCESS_TOKEN=tokA "$GUSTO" serve connections add temp --base-url "$sb_url" --json >/dev/null 2>&1
"$GUSTO" serve keys add dora --grant temp --config "$T/serve.json" --json >"$T/k4" 2>&1
KD=$(jq -r .data.key "$T/k4")
act "$KD" list-employees '{"limit":1}'
check "a key granted the temp connection uses it (control)" '[ "$code" = 200 ]' "$code"
"$GUSTO" serve connections remove temp --config "$T/serve.json" --json >"$T/cr" 2>&1
check "serve connections remove: removed, and its grants with it" '[ "$(jq -r .data.removed "$T/cr")" = true ] && [ "$(jq -r .data.grants_removed "$T/cr")" = 1 ] && [ "$(sqlite3 "$T/serve.db" "select count(*) from grants where connection='"'temp'"'")" = 0 ]' "$(cat "$T/cr")"
"$GUSTO" serve connections list --json >"$T/cl"
check "...gone from the list, the others kept" '[ "$(jq -c "[.data[].name]|sort" "$T/cl")" = "[\"acme\",\"globex\"]" ]' "$(cat "$T/cl")"
act "$KD" list-employees '{"limit":1}' -H 'X-Gusto-Connection: temp'
check "...and an action on it is refused" '[ "$code" = 403 ] || [ "$code" = 404 ]' "$code"
"$GUSTO" serve connections remove temp --config "$T/serve.json" --json >"$T/cr" 2>/dev/null
check "removing it again: an error naming it not found" '[ "$(jq -r .ok "$T/cr")" = false ] && grep -q not_found "$T/cr"' "$(cat "$T/cr")"

# reauth_required: a grant made through OAuth whose refresh token the
# sandbox then revoked.  Access tokens live 30 s and the client refreshes
# 60 s ahead, so the next call refreshes, and Gusto says invalid_grant.
# A port nothing listens on (curl: 7, could not connect), as tests/procs.sh finds one.
RP=
while [ -z "$RP" ]; do
    RP=$(($(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000 + 20000))
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$RP/"
    [ $? -eq 7 ] || RP=
done
RR="http://127.0.0.1:$RP/callback"
(umask 077 && jq -n --arg r "$RR" '[{client_id: "ra-app", client_secret: "ra-secret", redirect_uris: [$r]}]' >"$T/apps.json")
"$SANDBOX" --port 0 --seed demo --rate-limit 0 --apps "$T/apps.json" --access-ttl 30 --data "$T/ra-sb.db" >"$T/ra.out" 2>"$T/ra.err" &
pids="$pids $!"
i=0; while [ $i -lt 100 ] && ! grep -q '^company:' "$T/ra.out" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
RA_URL=$(sed -n 's/^listening on //p' "$T/ra.out")
GUSTO_CLIENT_SECRET=ra-secret "$GUSTO" connect --no-browser --env "$RA_URL" --client-id ra-app \
    --redirect-uri "$RR" --wait 20 --name ra </dev/null >"$T/ra.cout" 2>"$T/ra.cerr" &
ra_pid=$!
pids="$pids $ra_pid"
i=0; while [ $i -lt 100 ] && ! grep -q 'waiting for the redirect' "$T/ra.cerr" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
RA_AUTH=$(grep -o 'http://127\.0\.0\.1:[0-9]*/oauth/authorize?[^ ]*' "$T/ra.cerr" | head -n 1)
curl -s -o "$T/ra.html" "$RA_AUTH"
ra_company=$(sed -n 's/.*<option value="\([^"]*\)".*/\1/p' "$T/ra.html" | head -n 1)
set --
sed -n 's/.*<input type="hidden" name="\([^"]*\)" value="\([^"]*\)">.*/\1=\2/p' "$T/ra.html" >"$T/ra.fields"
while IFS= read -r kv; do
    [ -n "$kv" ] && set -- "$@" --data-urlencode "$kv"
done <"$T/ra.fields"
loc=$(curl -s -o /dev/null -w '%{redirect_url}' "$@" --data-urlencode "company=$ra_company" --data-urlencode decision=allow "$RA_URL/oauth/authorize")
curl -s -o /dev/null --max-time 10 "$loc"
wait "$ra_pid"
ra_rc=$?
"$GUSTO" serve keys add erin --grant ra --config "$T/serve.json" --json >"$T/k5" 2>&1
KE=$(jq -r .data.key "$T/k5")
act "$KE" list-employees '{"limit":1}'
check "an OAuth connection works through serve before the revocation (control)" '[ "$ra_rc" = 0 ] && [ "$code" = 200 ]' "connect exit $ra_rc: $(head -c 300 "$T/ra.cerr") / $code $(head -c 300 "$T/r.json")"
sqlite3 "$T/ra-sb.db" 'UPDATE oauth_refresh SET revoked=1; UPDATE tokens SET revoked=1;'
act "$KE" list-employees '{"limit":1}'
check "a revoked refresh token: 424 reauth_required, retryable false (not a 502)" '[ "$code" = 424 ] && [ "$(j .error.code)" = reauth_required ] && [ "$(j .error.retryable)" = false ] && j .error.hint | grep -q "serve connections list"' "$code $(head -c 600 "$T/r.json")"
act "$KA" call-api '{"method":"GET","path":"/v1/companies/{company_uuid}"}'
check "...a working connection still answers 200 (control)" '[ "$code" = 200 ]' "$code"
"$GUSTO" serve connections remove ra --config "$T/serve.json" --json >/dev/null 2>&1

# The start-up banner (stderr is not a terminal here: one JSON line).
check "the start-up banner names every path: address, database, audit log, mirror, store, API version" \
    'grep "serve_started" "$T/serve.err" | head -1 | jq -e --arg s "$S" --arg t "$T" ".listening == \$s and .database == (\$t + \"/serve.db\") and .audit_log == (\$t + \"/audit.jsonl\") and .mirror == (\$t + \"/mirror.db\") and .store == (\$t + \"/connections.db\") and (.api_version|test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}$\"))" >/dev/null' \
    "$(grep serve_started "$T/serve.err" | head -1)"

# On a terminal (script(1) gives serve's stderr a pseudo-terminal): one
# "name: value" line per item.
if command -v script >/dev/null 2>&1; then
    printf '{"port": 0, "db": "%s/tty.db", "audit_log": "%s/tty.jsonl", "mirror": "%s/tty-mirror.db"}\n' "$T" "$T" "$T" >"$T/tty.json"
    cat >"$T/tty.sh" <<EOF
"$GUSTO" serve --config "$T/tty.json" >"$T/tty.out" 2>/dev/tty &
p=\$!
i=0; while [ \$i -lt 100 ] && ! grep -q '^listening' "$T/tty.out"; do sleep 0.1; i=\$((i + 1)); done
kill \$p; wait \$p
EOF
    script -qfec "sh $T/tty.sh" "$T/tty.log" >/dev/null 2>&1 </dev/null
    tr -d '\r' <"$T/tty.log" >"$T/tty.txt"
    check "on a terminal the banner is one line per path" \
        'grep -q "^  listening: *http://127.0.0.1:[0-9]" "$T/tty.txt" && grep -q "^  database: *$T/tty.db$" "$T/tty.txt" && grep -q "^  audit log: *$T/tty.jsonl$" "$T/tty.txt" && grep -q "^  mirror: *$T/tty-mirror.db$" "$T/tty.txt" && grep -q "^  store: *$T/connections.db$" "$T/tty.txt" && grep -q "^  api version: *[0-9-]*$" "$T/tty.txt" && ! grep -q serve_started "$T/tty.txt"' \
        "$(head -c 800 "$T/tty.txt")"
else
    echo "# skip: script(1) is missing, so the terminal banner is not checked"
fi

# ISO 8601 times (UTC) in the audit log.
check "audit log times are ISO 8601 UTC, every line" \
    '[ "$(wc -l <"$T/audit.jsonl")" -gt 10 ] && jq -s -e "all(.[]; .time|type == \"string\" and test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\\\.[0-9]{3})?Z$\"))" "$T/audit.jsonl" >/dev/null' \
    "$(tail -1 "$T/audit.jsonl" | head -c 300)"
check "...and today's date" 'tail -1 "$T/audit.jsonl" | jq -r .time | grep -q "^$(date -u +%Y-%m-%d)"'

# No CLI flags or commands in any answer of this suite so far; the control:
# answers do carry hints.
check "no answer names a CLI flag (' --') or command ('gusto-connect ')" \
    '! grep -q -e " --" -e "gusto-connect " "$T/answers.log"' "$(grep -e " --" -e "gusto-connect " "$T/answers.log" | head -3)"
check "...positive control: answers carry hints" '[ "$(jq -r ".error.hint // empty" "$T/answers.log" 2>/dev/null | grep -c .)" -gt 10 ]'

# ---- audit and request logs -----------------------------------------------

check "audit: who, action, employee, outcome, request id" \
    'jq -s -e "map(select(.caller==\"alice\" and .action==\"update-employee\" and .employee_uuid==\"$EMP\" and .outcome==\"ok\" and (.request_id|startswith(\"req_\"))))|length > 0" "$T/audit.jsonl" >/dev/null'
check "audit: failures recorded (403, 401)" \
    'jq -s -e "map(select(.caller==\"bob\" and .http_status==403))|length > 0" "$T/audit.jsonl" >/dev/null && jq -s -e "map(select(.outcome==\"unauthorized\"))|length > 0" "$T/audit.jsonl" >/dev/null'
check "audit: SSN masked" '! grep -q "123-45-6789" "$T/audit.jsonl" && grep -q "\*\*\*-\*\*-6789" "$T/audit.jsonl"'
check "no API key or SSN in any log" '! grep -q -e "$KA" -e "$KB" -e "123-45-6789" "$T/audit.jsonl" "$T/serve.err"'
check "one request-log line per call" '[ "$(grep -c " POST /actions " "$T/serve.err")" -ge 20 ] && grep -q "caller=alice action=create-employee connection=acme" "$T/serve.err"'

# ---- webhooks -----------------------------------------------------------

# As Gusto documents it: a system access token manages the subscription;
# Gusto POSTs {"verification_token"} alone; serve finds the subscription
# and verifies it with its own system token.
SYS=$(curl -s -H 'Content-Type: application/json' \
    --data '{"client_id":"hookapp","client_secret":"hooksecret","grant_type":"system_access"}' \
    "$sb_url/oauth/token" | jq -r .access_token)
code=$(curl -s -o "$T/r.json" -w '%{http_code}' -H "Authorization: Bearer $SYS" \
    -H 'Content-Type: application/json' \
    --data "{\"url\":\"$S/webhooks/gusto\",\"subscription_types\":[\"Employee\",\"PeopleBatch\"]}" \
    "$sb_url/v1/webhook_subscriptions")
SUB=$(j .uuid)
check "webhook subscription created with a system token (pending)" '[ "$code" = 201 ] && [ "$(j .status)" = pending ]' "$code $(cat "$T/r.json")"
i=0
while [ $i -lt 50 ]; do
    curl -s -o "$T/r.json" -H "Authorization: Bearer $SYS" "$sb_url/v1/webhook_subscriptions/$SUB"
    [ "$(j .status)" = verified ] && break
    sleep 0.2; i=$((i + 1))
done
check "handshake with the token alone: serve verified the subscription" '[ "$(j .status)" = verified ]' "$(cat "$T/r.json"; tail -5 "$T/serve.err")"
check "verified through the app's system access token" 'grep -q "subscription $SUB verified through the app.s system access token" "$T/serve.err"' "$(grep "gusto-connect serve: webhook" "$T/serve.err")"
HOOKTOK=$(sqlite3 "$T/serve.db" "select token from webhook_tokens where verified=1 and subscription='$SUB'")
check "the confirmed token is kept for that subscription" '[ -n "$HOOKTOK" ]' "$(sqlite3 "$T/serve.db" "select subscription, verified from webhook_tokens")"
code=$(curl -s -o "$T/r.json" -w '%{http_code}' --data "{\"verification_token\":\"$HOOKTOK\"}" "$S/webhooks/gusto")
rows=$(sqlite3 "$T/serve.db" "select count(*) from webhook_tokens where token='$HOOKTOK'")
check "the confirmed token sent again (as request_verification_token does): no second verify" '[ "$code" = 200 ] && [ "$(j .verification)" = verified ] && [ "$rows" = 1 ]' "$code $(cat "$T/r.json") rows=$rows"

act "$KA" create-employee '{"first_name":"Grace","last_name":"Hopper","email":"grace.serve@example.com"}'
GRACE=$(j .data.employee.uuid)
i=0
while [ $i -lt 100 ]; do
    curl -s -H "X-API-Key: $KA" "$S/webhooks/queue" >"$T/q.json"
    [ "$(jq -r "[.data[]|select(.employee_uuid==\"$GRACE\" and .status==\"synced\")]|length" "$T/q.json")" -ge 1 ] && break
    sleep 0.1; i=$((i + 1))
done
check "employee.created delivered, sync done within 10 s" '[ "$(jq -r "[.data[]|select(.employee_uuid==\"$GRACE\" and .status==\"synced\")]|length" "$T/q.json")" -ge 1 ]' "$(cat "$T/q.json")"
"$GUSTO" profile --email grace.serve@example.com --db "$T/mirror.db" --json >"$T/p.json" 2>&1
check "the mirror has the new employee" '[ "$(jq -r .data.employee_uuid "$T/p.json")" = "$GRACE" ]' "$(head -c 300 "$T/p.json")"

# A hand-made event, signed with GUSTO_SERVE_WEBHOOK_TOKEN.
EV_UUID=11111111-2222-4333-8444-555555555555
BODY="{\"uuid\":\"$EV_UUID\",\"event_type\":\"employee.updated\",\"resource_type\":\"Company\",\"resource_uuid\":\"$ACME\",\"entity_type\":\"Employee\",\"entity_uuid\":\"$EMP\",\"timestamp\":1700000000}"
SIG=$(sign "$BODY" "$GUSTO_SERVE_WEBHOOK_TOKEN")
code=$(curl -s -o "$T/r.json" -w '%{http_code}' -H "X-Gusto-Signature: $SIG" --data "$BODY" "$S/webhooks/gusto")
check "webhook, good signature: 200 accepted, sync queued" '[ "$code" = 200 ] && [ "$(j .result)" = accepted ] && [ "$(j .sync_queued)" = true ]' "$code $(cat "$T/r.json")"
code=$(curl -s -o "$T/r.json" -w '%{http_code}' -H "X-Gusto-Signature: $SIG" --data "$BODY" "$S/webhooks/gusto")
check "webhook, duplicate uuid: dropped" '[ "$code" = 200 ] && [ "$(j .result)" = duplicate ]' "$code $(cat "$T/r.json")"
BAD=$(sign "$BODY" wrong-secret)
code=$(curl -s -o "$T/r.json" -w '%{http_code}' -H "X-Gusto-Signature: $BAD" --data "$(echo "$BODY" | sed 's/1111/2222/')" "$S/webhooks/gusto")
check "webhook, bad signature: 401" '[ "$code" = 401 ] && [ "$(j .result)" = bad_signature ]' "$code $(cat "$T/r.json")"
code=$(curl -s -o "$T/r.json" -w '%{http_code}' --data "$BODY" "$S/webhooks/gusto")
check "webhook, no signature: 401" '[ "$code" = 401 ]'
curl -s -o /dev/null --data "{\"verification_token\":\"forged\",\"webhook_subscription_uuid\":\"$SUB\"}" "$S/webhooks/gusto"
sleep 0.5
FORGED=$(echo "$BODY" | sed 's/1111/4444/')
code=$(curl -s -o "$T/r.json" -w '%{http_code}' -H "X-Gusto-Signature: $(sign "$FORGED" forged)" --data "$FORGED" "$S/webhooks/gusto")
check "webhook, token from a forged handshake signs nothing: 401" '[ "$code" = 401 ]' "$code $(cat "$T/r.json")"
# A handshake as Gusto sends it, but for no subscription: the token stays
# pending, and an event signed with it is refused.  The control: the same
# kind of event signed with the token Gusto confirmed is accepted.
nv0=$(grep -c "handshake not verified" "$T/serve.err")
code=$(curl -s -o "$T/r.json" -w '%{http_code}' --data '{"verification_token":"tok-alone-1"}' "$S/webhooks/gusto")
pending=$(sqlite3 "$T/serve.db" "select verified from webhook_tokens where token='tok-alone-1'")
check "handshake with the token alone: 200, kept pending" '[ "$code" = 200 ] && [ "$(j .result)" = handshake ] && [ "$pending" = 0 ]' "$code $(cat "$T/r.json") verified=$pending"
i=0
while [ $i -lt 100 ] && [ "$(grep -c "handshake not verified" "$T/serve.err")" -le "$nv0" ]; do sleep 0.1; i=$((i + 1)); done
check "its verify failed, logged without the token" '[ "$(grep -c "handshake not verified (the token stays pending" "$T/serve.err")" -gt "$nv0" ] && ! grep -q tok-alone-1 "$T/serve.err"' "$(grep "gusto-connect serve: webhook" "$T/serve.err")"
PEND=$(echo "$BODY" | sed 's/1111/5555/')
code=$(curl -s -o "$T/r.json" -w '%{http_code}' -H "X-Gusto-Signature: $(sign "$PEND" tok-alone-1)" --data "$PEND" "$S/webhooks/gusto")
check "event signed with an unverified handshake token: 401" '[ "$code" = 401 ] && [ "$(j .result)" = bad_signature ]' "$code $(cat "$T/r.json")"
code=$(curl -s -o "$T/r.json" -w '%{http_code}' -H "X-Gusto-Signature: $(sign "$PEND" "$HOOKTOK")" --data "$PEND" "$S/webhooks/gusto")
check "the same event signed with the verified token: accepted" '[ "$code" = 200 ] && [ "$(j .result)" = accepted ]' "$code $(cat "$T/r.json")"
UND=$(echo "$BODY" | sed 's/1111/6666/')
code=$(curl -s -o "$T/r.json" -w '%{http_code}' -H "X_Gusto_Signature: $(sign "$UND" "$HOOKTOK")" --data "$UND" "$S/webhooks/gusto")
check "the app-integrations spelling x_gusto_signature is read too" '[ "$code" = 200 ] && [ "$(j .result)" = accepted ]' "$code $(cat "$T/r.json")"
code=$(curl -s -o "$T/r.json" -w '%{http_code}' --data '{"verification_token":"has space"}' "$S/webhooks/gusto")
check "a malformed verification_token: 400" '[ "$code" = 400 ] && [ "$(j .result)" = invalid_handshake ]' "$code $(cat "$T/r.json")"
check "no client secret, system token or verification token in the logs" '! grep -q -e hooksecret -e "$SYS" -e "$HOOKTOK" "$T/serve.err" "$T/audit.jsonl" && [ -n "$SYS" ] && [ "$SYS" != null ]'
TAMPER=$(echo "$BODY" | sed 's/employee.updated/employee.terminated/; s/1111/3333/')
code=$(curl -s -o "$T/r.json" -w '%{http_code}' -H "X-Gusto-Signature: $SIG" --data "$TAMPER" "$S/webhooks/gusto")
check "webhook, body changed after signing: 401" '[ "$code" = 401 ]'
i=0
while [ $i -lt 100 ]; do
    curl -s -H "X-API-Key: $KA" "$S/webhooks/queue" >"$T/q.json"
    [ "$(jq -r "[.data[]|select(.event_uuid==\"$EV_UUID\" and .status==\"synced\")]|length" "$T/q.json")" = 1 ] && break
    sleep 0.1; i=$((i + 1))
done
check "the signed event's sync ran once" '[ "$(jq -r "[.data[]|select(.event_uuid==\"$EV_UUID\")]|length" "$T/q.json")" = 1 ] && [ "$(jq -r "[.data[]|select(.event_uuid==\"$EV_UUID\")][0].status" "$T/q.json")" = synced ]' "$(cat "$T/q.json")"
# Events from the sandbox: update, termination, a people batch.
act "$KA" update-employee "{\"employee_uuid\":\"$GRACE\",\"preferred_first_name\":\"Amazing\"}"
act "$KA" call-api "{\"method\":\"POST\",\"path\":\"/v1/employees/$SEEDED/terminations\",\"body\":{\"effective_date\":\"2026-12-31\"}}"
act "$KA" create-people-batch '{"entries":[{"person":{"first_name":"Hook","last_name":"Batch","external_id":"h1"}}]}'
i=0
while [ $i -lt 100 ]; do
    n=$(sqlite3 "$T/serve.db" "select count(distinct event_type) from webhook_events where event_type in ('employee.created','employee.updated','employee.terminated','people_batch.completed')")
    [ "$n" = 4 ] && break
    sleep 0.1; i=$((i + 1))
done
i=0
while [ $i -lt 100 ]; do
    "$GUSTO" profile --email grace.serve@example.com --db "$T/mirror.db" --json >"$T/p.json" 2>&1
    grep -q Amazing "$T/p.json" && break
    sleep 0.1; i=$((i + 1))
done
check "employee.updated: the mirror has the change within 10 s" 'grep -q Amazing "$T/p.json"' "$(head -c 400 "$T/p.json")"
curl -s -H "X-API-Key: $KA" "$S/webhooks/queue" >"$T/q.json"
check "an employee event syncs that employee alone (at most 2 requests)" '[ "$(jq -r "[.data[]|select(.employee_uuid==\"$GRACE\" and .status==\"synced\")|.detail|select(test(\"employees read 1, requests [12]\\\\b\"))]|length" "$T/q.json")" -ge 1 ]' "$(jq -c "[.data[]|select(.employee_uuid==\"$GRACE\")]" "$T/q.json")"
check "sandbox delivers employee.created/updated/terminated and people_batch.completed" '[ "$n" = 4 ]' "$(sqlite3 "$T/serve.db" "select event_type, count(*) from webhook_events group by 1")"

# ---- --faults: the sandbox sends some events twice or late; each is handled once

start_sandbox "$T/faulty.out" --token tokF --rate-limit 0 --faults delay:0.001@1 --log
F=$sb_url
GUSTO_ACCESS_TOKEN=tokF "$GUSTO" serve connections add faulty --base-url "$F" --json >/dev/null 2>&1
curl -s -o "$T/r.json" -H "Authorization: Bearer tokF" -H 'Content-Type: application/json' \
    --data "{\"url\":\"$S/webhooks/gusto\",\"subscription_types\":[\"Employee\"]}" "$F/v1/webhook_subscriptions"
FSUB=$(j .uuid)
i=0
while [ $i -lt 50 ]; do
    [ "$(curl -s -H "Authorization: Bearer tokF" "$F/v1/webhook_subscriptions/$FSUB" | jq -r .status)" = verified ] && break
    sleep 0.2; i=$((i + 1))
done
check "faulty sandbox: subscription verified through the matching connection" '[ $i -lt 50 ]' "$(tail -3 "$T/serve.err")"
before=$(sqlite3 "$T/serve.db" "select count(*) from webhook_events where event_type='employee.created'")
for n in $(seq 1 20); do
    curl -s -o /dev/null -H "Authorization: Bearer tokF" -H 'Content-Type: application/json' \
        --data "{\"first_name\":\"Fault$n\",\"last_name\":\"Test\"}" "$F/v1/companies/$ACME/employees"
done
i=0
while [ $i -lt 100 ]; do
    after=$(sqlite3 "$T/serve.db" "select count(*) from webhook_events where event_type='employee.created'")
    [ $((after - before)) -ge 20 ] && break
    sleep 0.1; i=$((i + 1))
done
sleep 1
after=$(sqlite3 "$T/serve.db" "select count(*) from webhook_events where event_type='employee.created'")
posts=$(grep -c "^webhook POST .* 200 " "$T/faulty.out.err")
dups=$(curl -s "$S/metrics" | sed -n 's/^gusto_serve_webhooks_total{result="duplicate"} //p')
check "faults: duplicates delivered and dropped, every event recorded once" '[ $((after - before)) = 20 ] && [ "$posts" -gt 21 ] && [ "$dups" -gt 1 ]' "events $((after - before)), posts $posts, duplicates $dups"

# ---- 200 concurrent calls ---------------------------------------------------

mkdir -p "$T/conc"
export KA S EMP T
seq 1 200 | xargs -P 100 -I{} sh -c 'curl -s -o "$T/conc/{}.json" -w "%{http_code}\n" -H "Authorization: Bearer $KA" -X POST --data "{\"employee_uuid\":\"$EMP\"}" "$S/actions/get-employee" > "$T/conc/{}.code"'
good=0
for f in "$T"/conc/*.json; do
    [ "$(jq -r .data.uuid "$f" 2>/dev/null)" = "$EMP" ] && [ "$(cat "${f%.json}.code")" = 200 ] && good=$((good + 1))
done
[ "$good" = 200 ] || { ls "$T/conc" | wc -l; grep -h -o '"code":"[a-z_]*"' "$T"/conc/*.json | sort | uniq -c; }
check "200 concurrent action calls, all answered correctly" '[ "$good" = 200 ]' "$good of 200 correct; $(cat "$T"/conc/*.code | sort | uniq -c | tr '\n' ' ')"

# ---- metrics ------------------------------------------------------------------

curl -s "$S/metrics" >"$T/m.txt"
check "metrics: request counts and latencies" 'grep -qE "^gusto_serve_requests_total\{route=\"action:get-employee\",status=\"200\"\} [0-9]+" "$T/m.txt" && grep -q "^gusto_serve_request_seconds_bucket" "$T/m.txt" && [ "$(sed -n "s/^gusto_serve_requests_total{route=\"action:get-employee\",status=\"200\"} //p" "$T/m.txt")" -ge 201 ]' "$(head -20 "$T/m.txt")"
check "metrics: rate-limit waits and errors by category" 'grep -q "^gusto_serve_rate_limit_waits_total " "$T/m.txt" && grep -q "^gusto_serve_errors_total{category=\"not_found\"}" "$T/m.txt" && grep -qE "^gusto_serve_webhooks_total\{result=\"duplicate\"\} [1-9]" "$T/m.txt"' "$(grep -E "errors|waits|webhooks" "$T/m.txt")"

# ---- graceful shutdown: a slow call in flight finishes ----------------------

start_sandbox "$T/slow.out" --token tokS --rate-limit 0 --faults delay:1@1500
GUSTO_ACCESS_TOKEN=tokS "$GUSTO" serve connections add slow --base-url "$sb_url" --json >/dev/null 2>&1
"$GUSTO" serve keys add carol --grant slow --config "$T/serve.json" --json >"$T/k3" 2>&1
KC=$(jq -r .data.key "$T/k3")
curl -s -o "$T/slow.json" -w '%{http_code}' -H "Authorization: Bearer $KC" -X POST \
    --data '{"method":"GET","path":"/v1/companies/{company_uuid}"}' "$S/actions/call-api" >"$T/slow.code" &
cpid=$!
i=0
while [ $i -lt 100 ] && [ "$(curl -s "$S/healthz" | jq -r .in_flight)" -lt 2 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM "$sv_pid"
wait "$cpid"
wait "$sv_pid"
rc=$?
check "graceful shutdown finishes the call in flight" '[ "$(cat "$T/slow.code")" = 200 ] && [ "$(jq -r .ok "$T/slow.json")" = true ] && [ "$rc" = 0 ]' "code $(cat "$T/slow.code") rc $rc $(tail -3 "$T/serve.err")"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$S/healthz")
check "after shutdown nothing listens" '[ "$code" = 000 ]'

# ---- retries: an event sent while serve is down arrives after its restart ----

PORT=${S##*:}
curl -s -o "$T/r.json" -H "Authorization: Bearer tokA" -H 'Content-Type: application/json' \
    --data '{"first_name":"Retry","last_name":"Person","email":"retry.serve@example.com"}' \
    "$(sed -n 's/^listening on //p' "$T/sb.out")/v1/companies/$ACME/employees"
RETRY=$(j .uuid)
sleep 0.5
export GUSTO_SERVE_WEBHOOK_URL="http://127.0.0.1:$PORT/webhooks/gusto"
start_serve --port "$PORT"
unset GUSTO_SERVE_WEBHOOK_URL
i=0
while [ $i -lt 100 ]; do
    curl -s -H "X-API-Key: $KA" "$S/webhooks/queue" >"$T/q.json"
    [ "$(jq -r "[.data[]|select(.employee_uuid==\"$RETRY\" and .status==\"synced\")]|length" "$T/q.json")" -ge 1 ] && break
    sleep 0.1; i=$((i + 1))
done
check "webhook retried with backoff after a failed delivery" '[ "$(jq -r "[.data[]|select(.employee_uuid==\"$RETRY\" and .status==\"synced\")]|length" "$T/q.json")" -ge 1 ] && grep -q "webhook POST .* -1 attempt 1" "$T/sb.out.err"' "$(grep "webhook POST" "$T/sb.out.err" | tail -4)"

# ---- webhook_url: only the subscription at this receiver's URL is verified

sb_url=$(sed -n 's/^listening on //p' "$T/sb.out")   # the first sandbox again

sub_at() {
    curl -s -H "Authorization: Bearer $SYS" -H 'Content-Type: application/json' \
        --data "{\"url\":\"$1\",\"subscription_types\":[\"Employee\"]}" \
        "$sb_url/v1/webhook_subscriptions" | jq -r .uuid
}
Y=$(sub_at "http://127.0.0.1:9/elsewhere")
X=$(sub_at "$S/webhooks/gusto")
i=0
while [ $i -lt 50 ]; do
    [ "$(curl -s -H "Authorization: Bearer $SYS" "$sb_url/v1/webhook_subscriptions/$X" | jq -r .status)" = verified ] && break
    sleep 0.2; i=$((i + 1))
done
check "webhook_url set: the subscription at this URL is verified, the other pending one is never tried" \
    'grep -q "PUT /v1/webhook_subscriptions/$X/verify 200" "$T/sb.out.err" && ! grep -q "/v1/webhook_subscriptions/$Y/verify" "$T/sb.out.err" && [ "$(curl -s -H "Authorization: Bearer $SYS" "$sb_url/v1/webhook_subscriptions/$Y" | jq -r .status)" = pending ]' \
    "X=$X Y=$Y $(grep "webhook_subscriptions/.*/verify" "$T/sb.out.err" | tail -4)"

# ---- issue 14: serve's security findings -------------------------------------

# High 1: the de-duplication is decided atomically.  6 senders post 600
# unique signed events while 3 loops repeat an anonymous handshake (before:
# other threads' statements changed sqlite3_changes(), and unique events
# were answered "duplicate").  Each must be accepted once; a true duplicate
# is still recognised.
# One node process sends them (a process per request took 25 s): 6
# senders of 100 events each and 3 handshake loops, every request on a new
# connection, so serve runs them on 9 threads at once.
mkdir -p "$T/race"
cat >"$T/race/race.mjs" <<'EOF'
import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
const [base, acme, dir] = process.argv.slice(2);
const url = new URL(base + '/webhooks/gusto');
const agent = new http.Agent({keepAlive: false});
const post = (body, headers) => new Promise((resolve, reject) => {
  const req = http.request({host: url.hostname, port: url.port, path: url.pathname,
    method: 'POST', agent, headers: {'content-type': 'application/json',
    'content-length': Buffer.byteLength(body), ...headers}}, (res) => {
    let d = '';
    res.on('data', (c) => { d += c; });
    res.on('end', () => resolve(d));
  });
  req.on('error', reject);
  req.end(body);
});
let stop = false;
async function hammer() {
  while (!stop) {
    try { await post('{"verification_token":"hammer-token"}', {}); } catch { /* keep going */ }
  }
}
async function sender(w) {
  const out = [];
  for (let n = 1; n <= 100; n++) {
    const b = JSON.stringify({uuid: `race-${w}-${n}`, event_type: 'company.updated',
      resource_type: 'Company', resource_uuid: acme, entity_type: 'Company',
      entity_uuid: acme, timestamp: 1});
    const sig = crypto.createHmac('sha256', 'test-webhook-secret').update(b).digest('hex');
    let r = 'error';
    try { r = JSON.parse(await post(b, {'x-gusto-signature': sig})).result; } catch { /* counted */ }
    out.push(r);
  }
  fs.writeFileSync(`${dir}/out.${w}`, out.join('\n') + '\n');
}
const hammers = [hammer(), hammer(), hammer()];
await Promise.all([1, 2, 3, 4, 5, 6].map(sender));
stop = true;
await Promise.all(hammers);
EOF
node "$T/race/race.mjs" "$S" "$ACME" "$T/race" >"$T/race/node.err" 2>&1
acc=$(cat "$T"/race/out.* | grep -c '^accepted$')
dupl=$(cat "$T"/race/out.* | grep -c '^duplicate$')
check "600 unique signed events sent while handshakes hammer serve: each accepted once" \
    '[ "$acc" = 600 ] && [ "$dupl" = 0 ] && [ "$(sqlite3 "$T/serve.db" "select count(*) from webhook_events where uuid like '"'race-%'"'")" = 600 ]' \
    "accepted $acc, duplicate $dupl; $(head -c 300 "$T/race/node.err")"
b="{\"uuid\":\"race-3-7\",\"event_type\":\"company.updated\",\"resource_type\":\"Company\",\"resource_uuid\":\"$ACME\",\"entity_type\":\"Company\",\"entity_uuid\":\"$ACME\",\"timestamp\":1}"
code=$(curl -s -o "$T/r.json" -w '%{http_code}' -H "X-Gusto-Signature: $(sign "$b" test-webhook-secret)" --data "$b" "$S/webhooks/gusto")
check "and one of them sent again is still a duplicate" '[ "$code" = 200 ] && [ "$(j .result)" = duplicate ]' "$code $(cat "$T/r.json")"

# Medium 4: the queue shows only the caller's granted connections' events.
curl -s -H "X-API-Key: $KB" "$S/webhooks/queue" >"$T/qb.json"
curl -s -H "X-API-Key: $KA" "$S/webhooks/queue" >"$T/qa.json"
check "GET /webhooks/queue: bob (globex only) sees none of acme's events, alice (acme) sees them" \
    '[ "$(jq "[.data[]|select(.company==\"$ACME\")]|length" "$T/qb.json")" = 0 ] && [ "$(jq "[.data[]|select(.company==\"$ACME\")]|length" "$T/qa.json")" -gt 0 ]' \
    "bob $(head -c 300 "$T/qb.json")"

# Medium 6, and Low: framing.  Raw sockets (node): a body announced but never
# sent is answered 401 from the headers alone; two Content-Lengths that
# differ, or Content-Length with Transfer-Encoding, are 400.
cat >"$T/raw.mjs" <<'EOF'
import net from 'node:net';
const [host, port] = new URL(process.argv[2]).host.split(':');
const req = process.argv[3].replace(/\\r\\n/g, '\r\n');
const s = net.connect(Number(port), host, () => s.write(req));
let got = '';
s.on('data', (d) => { got += d; if (got.includes('\r\n\r\n')) { console.log(got.split('\r\n')[0]); process.exit(0); } });
s.on('error', () => { console.log('error'); process.exit(0); });
s.on('close', () => { console.log(got ? got.split('\r\n')[0] : 'closed'); process.exit(0); });
setTimeout(() => { console.log('no answer'); process.exit(0); }, 10000);
EOF
raw() { node "$T/raw.mjs" "$S" "$1"; }
r=$(raw 'POST /actions/list-employees HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n')
check "a request without an API key is answered 401 before its body is read" 'case $r in "HTTP/1.1 401"*) true ;; *) false ;; esac' "$r"
r=$(raw "POST /actions/list-employees HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer $KA\\r\\nContent-Length: 2\\r\\n\\r\\n{}")
check "the same request with its key and body is served (control)" 'case $r in "HTTP/1.1 200"*) true ;; *) false ;; esac' "$r"
r=$(raw "POST /actions/list-employees HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer $KA\\r\\nContent-Length: 2\\r\\nContent-Length: 7\\r\\n\\r\\n{}")
check "two different Content-Length headers: 400" 'case $r in "HTTP/1.1 400"*) true ;; *) false ;; esac' "$r"
r=$(raw "POST /actions/list-employees HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer $KA\\r\\nContent-Length: 7\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n2\\r\\n{}\\r\\n0\\r\\n\\r\\n")
check "Content-Length with Transfer-Encoding: 400" 'case $r in "HTTP/1.1 400"*) true ;; *) false ;; esac' "$r"

# Medium 7: 1,100 idle connections (more than select() can watch, more than
# serve keeps idle) do not lock callers out: /healthz still answers.
cat >"$T/idle.mjs" <<'EOF'
import net from 'node:net';
const [host, port] = new URL(process.argv[2]).host.split(':');
const n = Number(process.argv[3]);
let up = 0;
const keep = [];
for (let i = 0; i < n; i++) {
  const s = net.connect(Number(port), host, () => { if (++up === n) probe(); });
  s.on('error', () => { if (++up === n) probe(); });
  keep.push(s);
}
function probe() {
  const s = net.connect(Number(port), host, () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
  let got = '';
  s.on('data', (d) => { got += d; });
  s.on('close', () => { console.log(got.split('\r\n')[0] || 'closed'); process.exit(0); });
  s.on('error', () => { console.log('error'); process.exit(0); });
}
setTimeout(() => { console.log('no answer'); process.exit(0); }, 20000);
EOF
r=$(ulimit -n 4096 2>/dev/null; node "$T/idle.mjs" "$S" 1100)
check "1,100 idle connections open: /healthz still answers 200" 'case $r in "HTTP/1.1 200"*) true ;; *) false ;; esac' "$r"
code=$(curl -s -o "$T/r.json" -w '%{http_code}' "$S/healthz")
check "and afterwards serve answers as before" '[ "$code" = 200 ]'

# Lows: what a caller sends cannot forge a request-log line; an unknown
# action name is cut in the audit log; audit masking covers every spelling.
curl -s -o /dev/null "$S/x%0d%0aFAKE%20line"
check "CR/LF in a path is escaped in the request log, no forged line" \
    '! grep -q "^FAKE" "$T/serve.err" && grep -q "x\\\\x0d\\\\x0aFAKE" "$T/serve.err"' "$(tail -3 "$T/serve.err")"
code=$(curl -s -o "$T/r.json" -w '%{http_code}' --data '{"verification_token":"tok-x","webhook_subscription_uuid":"x?y=1#"}' "$S/webhooks/gusto")
check "a handshake's subscription that is not a UUID: 400, never in a request path" '[ "$code" = 400 ] && [ "$(j .result)" = invalid_handshake ]' "$code $(cat "$T/r.json")"
long=$(head -c 6000 /dev/zero | tr '\0' A)
curl -s -o /dev/null -X POST "$S/actions/$long"
len=$(tail -1 "$T/audit.jsonl" | wc -c)
check "an unauthenticated 6,000-character action name: the audit line stays short" '[ "$len" -lt 600 ] && tail -1 "$T/audit.jsonl" | grep -q unauthorized' "$len bytes"
act "$KA" create-employee '{"last_name":"Mask","birthday":"1980-01-02","ein":"12-3456789","social_security_number":"517-29-1111","socialSecurityNumber":"517-29-2222","employee_SSN":"517-29-3333","accountNumber":"000111222333","routingNumber":"021000021","bank":{"account_number":"000999888777"}}'
check "audit masking: birthday, ein, social_security_number, camelCase and other SSN spellings" \
    '! grep -q -e 1980-01-02 -e 3456789 -e 517-29- -e 000111222333 -e 021000021 -e 000999888777 "$T/audit.jsonl" && tail -1 "$T/audit.jsonl" | jq -e ".input.ein == \"****6789\" and .input.social_security_number == \"***-**-1111\" and .input.accountNumber == \"****2333\" and .input.birthday == \"***\"" >/dev/null' \
    "$code $(tail -1 "$T/audit.jsonl" | head -c 800)"

# Low: a non-loopback bind over plain HTTP warns.  In a network namespace of
# its own (unshare -n), so nothing is reachable from outside even then.
if unshare -n true 2>/dev/null; then
    printf '{"port": 0, "db": "%s/serve-ns.db", "audit_log": "%s/audit-ns.jsonl"}\n' "$T" "$T" >"$T/serve-ns.json"
    unshare -n "$GUSTO" serve --config "$T/serve-ns.json" --bind 0.0.0.0 >"$T/serve-ns.out" 2>"$T/serve-ns.err" &
    nsp=$!
    pids="$pids $nsp"
    i=0
    while [ $i -lt 100 ] && ! grep -q '^listening on' "$T/serve-ns.out" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
    kill "$nsp" 2>/dev/null; wait "$nsp" 2>/dev/null
    check "binding 0.0.0.0 over plain HTTP warns on stderr; 127.0.0.1 does not (control)" \
        'grep -q "warning: listening on 0.0.0.0 over plain HTTP" "$T/serve-ns.err" && ! grep -q "over plain HTTP" "$T/serve.err"' "$(cat "$T/serve-ns.out" "$T/serve-ns.err")"
else
    echo "# skip: unshare -n is not allowed here, so the non-loopback warning is not checked"
fi

# Low: --company is honoured by serve connections add.
GUSTO_ACCESS_TOKEN=tokA "$GUSTO" serve connections add pinned --base-url "$sb_url" \
    --company 11111111-2222-4333-8444-555555555555 --json >"$T/cp" 2>&1
check "serve connections add --company UUID: the connection is for that company" \
    '[ "$(jq -r .data.company_uuid "$T/cp")" = 11111111-2222-4333-8444-555555555555 ]' "$(cat "$T/cp")"

# High 2: the mass-termination safeguard cannot be bypassed through the
# webhook worker.  A sandbox of its own, dated (terminations take effect on
# their date), a mirror of acme synced by the CLI, and a serve whose store
# has no connection for acme at first, webhook_connection globex.
start_sandbox "$T/sbh.out" --seed demo --token tokH --token tokG@other --rate-limit 0 --log \
    --today 2026-12-03 --app hookapp:hooksecret:http://127.0.0.1:9/cb
H=$sb_url
export GUSTO_TODAY=2026-12-03
GUSTO_API_BASE_URL=$H GUSTO_ACCESS_TOKEN=tokH "$GUSTO" sync --db "$T/mirror-h.db" --json \
    </dev/null >"$T/hsync.json" 2>&1
HACME=$(jq -r '.data.companies[0].company_uuid' "$T/hsync.json")
nact=$(sqlite3 "$T/mirror-h.db" "select count(*) from gusto_employees where company_uuid='$HACME' and status='active'")
check "the mirror holds acme's active employees" '[ "$nact" -ge 40 ]' "$nact $(head -c 300 "$T/hsync.json")"
[ "$nact" -gt 50 ] && nact=50
GUSTO_STORE=$T/store-h.db GUSTO_ACCESS_TOKEN=tokG "$GUSTO" serve connections add globex \
    --base-url "$H" --json >/dev/null 2>&1
cat >"$T/serve-h.json" <<EOF
{"port": 0, "db": "$T/serve-h.db", "audit_log": "$T/audit-h.jsonl", "store": "$T/store-h.db",
 "webhook_connection": "globex", "mirror": "$T/mirror-h.db", "client_id": "hookapp",
 "gusto_base_url": "$H", "quiet": true}
EOF
# serve_h: serve on serve-h.json; sets SH and shp
serve_h() {
    : >"$T/serve-h.out"
    before=$(wc -l <"$T/serve-h.err" 2>/dev/null || echo 0)
    "$GUSTO" serve --config "$T/serve-h.json" >"$T/serve-h.out" 2>>"$T/serve-h.err" &
    shp=$!
    pids="$pids $shp"
    # Up to 60 s, and not past the process's end: a loaded machine (the
    # suite beside other work) has been seen to need more than 30.
    i=0
    while [ $i -lt 600 ] && ! grep -q '^listening on' "$T/serve-h.out" 2>/dev/null &&
        kill -0 "$shp" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
    SH=$(sed -n 's/^listening on //p' "$T/serve-h.out")
    [ -n "$SH" ] || not_ok "serve on serve-h.json starts" \
        "after $((i / 10)) s, $(kill -0 "$shp" 2>/dev/null && echo running || echo exited); its stderr: $(tail -n +"$((before + 1))" "$T/serve-h.err")"
}
# hook_all TAG: a signed employee.updated for each of acme's first 50 active employees
hook_all() {
    for e in $(sqlite3 "$T/mirror-h.db" "select employee_uuid from gusto_employees where company_uuid='$HACME' and status='active' order by employee_uuid limit 50"); do
        b="{\"uuid\":\"$1-$e\",\"event_type\":\"employee.updated\",\"resource_type\":\"Company\",\"resource_uuid\":\"$HACME\",\"entity_type\":\"Employee\",\"entity_uuid\":\"$e\",\"timestamp\":1}"
        curl -s -o /dev/null -H "X-Gusto-Signature: $(sign "$b" test-webhook-secret)" --data "$b" "$SH/webhooks/gusto"
    done
}
# queue_settled: wait (at most 120 s) until no queue row is pending
queue_settled() {
    i=0
    while [ $i -lt 1200 ] && [ "$(sqlite3 "$T/serve-h.db" "select count(*) from sync_queue where status='pending'")" != 0 ]; do sleep 0.1; i=$((i + 1)); done
}
terms() { sqlite3 "$T/mirror-h.db" "select count(*) from gusto_events where company_uuid='$HACME' and type='employee.terminated'"; }
serve_h
hook_all gone
queue_settled
check "$nact signed employee.updated for a company with no connection of its own: no employee.terminated" \
    '[ "$(terms)" = 0 ] && [ "$(sqlite3 "$T/serve-h.db" "select count(*) from sync_queue where status='"'not_handled'"' and detail like '"'%no stored connection%'"'")" = "$nact" ]' \
    "terminated $(terms); $(sqlite3 "$T/serve-h.db" "select status, detail from sync_queue limit 3")"

# A buggy upstream that answers 404 for every single employee (its list is
# right): acme's own connection goes through it.
cat >"$T/p404.mjs" <<'EOF'
import http from 'node:http';
const up = new URL(process.argv[2]);
const srv = http.createServer((req, res) => {
  if (req.method === 'GET' && /^\/v1\/employees\/[0-9a-f-]{36}(\?|$)/.test(req.url)) {
    res.writeHead(404, {'content-type': 'application/json'});
    res.end('{"errors":[{"error_key":"base","category":"not_found","message":"Not found"}]}');
    return;
  }
  const p = http.request({host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers}, (r) => {
    res.writeHead(r.statusCode, r.headers); r.pipe(res);
  });
  req.pipe(p);
});
srv.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + srv.address().port));
EOF
node "$T/p404.mjs" "$H" >"$T/p404.out" 2>&1 &
pids="$pids $!"
i=0
while [ $i -lt 300 ] && ! grep -q '^listening on' "$T/p404.out" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
P404=$(sed -n 's/^listening on //p' "$T/p404.out")
kill "$shp" 2>/dev/null; wait "$shp" 2>/dev/null
GUSTO_STORE=$T/store-h.db GUSTO_ACCESS_TOKEN=tokH "$GUSTO" serve connections add acme \
    --base-url "$P404" --json >"$T/ca404" 2>&1
[ "$(jq -r .ok "$T/ca404")" = true ] || not_ok "acme's connection through the 404 proxy is stored" "$P404 $(cat "$T/ca404")"
serve_h
hook_all buggy
queue_settled
check "$nact events whose upstream answers 404: no false employee.terminated without --confirm" \
    '[ "$(terms)" = 0 ] && [ "$(sqlite3 "$T/serve-h.db" "select count(*) from sync_queue where event_uuid like '"'buggy-%'"' and status='"'synced'"'")" = "$nact" ]' \
    "terminated $(terms); $(sqlite3 "$T/serve-h.db" "select status, detail from sync_queue where event_uuid like 'buggy-%' limit 3")"
# The control: a real termination still comes through.
REAL=$(sqlite3 "$T/mirror-h.db" "select employee_uuid from gusto_employees where company_uuid='$HACME' and status='active' order by employee_uuid limit 1")
curl -s -o "$T/r.json" -H "Authorization: Bearer tokH" -H 'Content-Type: application/json' \
    --data '{"effective_date":"2026-12-01"}' "$H/v1/employees/$REAL/terminations"
b="{\"uuid\":\"real-$REAL\",\"event_type\":\"employee.terminated\",\"resource_type\":\"Company\",\"resource_uuid\":\"$HACME\",\"entity_type\":\"Employee\",\"entity_uuid\":\"$REAL\",\"timestamp\":1}"
curl -s -o /dev/null -H "X-Gusto-Signature: $(sign "$b" test-webhook-secret)" --data "$b" "$SH/webhooks/gusto"
queue_settled
check "a real termination still comes through (positive control)" \
    '[ "$(terms)" = 1 ] && [ "$(sqlite3 "$T/mirror-h.db" "select status from gusto_employees where employee_uuid='"'$REAL'"'")" = terminated ]' \
    "terminated $(terms); $(sqlite3 "$T/serve-h.db" "select status, detail from sync_queue where event_uuid like 'real-%'")"

# Medium 5: a handshake gets one PUT .../verify at most, whatever the number
# of pending subscriptions and stored connections; 64 pending tokens at most.
SYSH=$(curl -s -H 'Content-Type: application/json' \
    --data '{"client_id":"hookapp","client_secret":"hooksecret","grant_type":"system_access"}' \
    "$H/oauth/token" | jq -r .access_token)
for u in 1 2 3; do
    curl -s -o /dev/null -H "Authorization: Bearer $SYSH" -H 'Content-Type: application/json' \
        --data "{\"url\":\"http://127.0.0.1:9/nowhere$u\",\"subscription_types\":[\"Employee\"]}" "$H/v1/webhook_subscriptions"
done
puts0=$(grep -c "PUT /v1/webhook_subscriptions/.*/verify" "$T/sbh.out.err")
nv0=$(grep -c "handshake not verified" "$T/serve-h.err")
curl -s -o /dev/null --data '{"verification_token":"forged-once"}' "$SH/webhooks/gusto"
i=0
while [ $i -lt 100 ] && [ "$(grep -c "handshake not verified" "$T/serve-h.err")" -le "$nv0" ]; do sleep 0.1; i=$((i + 1)); done
puts=$(( $(grep -c "PUT /v1/webhook_subscriptions/.*/verify" "$T/sbh.out.err") - puts0 ))
check "one anonymous handshake, 3 pending subscriptions, 2 connections: one PUT .../verify" '[ "$puts" = 1 ]' "$puts PUTs"
for n in $(seq 1 80); do
    curl -s -o /dev/null --data "{\"verification_token\":\"flood-$n\"}" "$SH/webhooks/gusto"
done
pend=$(sqlite3 "$T/serve-h.db" "select count(*) from webhook_tokens where verified=0")
check "80 anonymous handshakes keep at most 64 pending tokens" '[ "$pend" -le 64 ] && [ "$pend" -ge 1 ]' "$pend pending"
kill "$shp" 2>/dev/null; wait "$shp" 2>/dev/null
unset GUSTO_TODAY

# ---- the API version of serve's calls (--api-version, GUSTO_API_VERSION, "api_version")
# A sandbox dated 2026-03-01 serves versions up to 2026-02-01 only: serve's
# default (2026-12-01) gets Gusto's 406 there, a serve pinned to 2026-02-01 is
# served, and a retired version stops serve before it listens.

start_sandbox "$T/sbv.out" --seed demo --token tokV --rate-limit 0 --today 2026-03-01
# GUSTO_TODAY pins the client's calendar too, so this holds after 2026-02-01's sunset.
export GUSTO_TODAY=2026-12-03
GUSTO_ACCESS_TOKEN=tokV "$GUSTO" --api-version 2026-02-01 serve connections add vco \
    --base-url "$sb_url" --json >"$T/cv" 2>&1
check "connections add sends the pinned version" '[ "$(jq -r .ok "$T/cv")" = true ]' "$(cat "$T/cv")"
printf '{"port": 0, "db": "%s/serve-v.db", "audit_log": "%s/audit-v.jsonl"}\n' "$T" "$T" \
    >"$T/serve-v.json"
"$GUSTO" serve keys add vee --grant vco --config "$T/serve-v.json" --json >"$T/kv" 2>&1
KV=$(jq -r .data.key "$T/kv")
# serve_v ARGS...: serve on serve-v.json; sets S and sv_pid
serve_v() {
    "$GUSTO" "$@" serve --config "$T/serve-v.json" >"$T/serve-v.out" 2>"$T/serve-v.err" &
    sv_pid=$!
    pids="$pids $sv_pid"
    i=0
    while [ $i -lt 100 ] && ! grep -q '^listening on' "$T/serve-v.out" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
    S=$(sed -n 's/^listening on //p' "$T/serve-v.out")
}
serve_v
act "$KV" list-employees '{}'
check "serve's default version (2026-12-01) is sent: a sandbox dated 2026-03-01 answers 406" \
    '[ "$(j .ok)" = false ] && [ "$(j .error.details.http_status)" = 406 ]' "$code $(head -c 400 "$T/r.json")"
kill "$sv_pid" 2>/dev/null; wait "$sv_pid" 2>/dev/null
serve_v --api-version 2026-02-01
act "$KV" list-employees '{}'
check "serve --api-version 2026-02-01 is sent and served (positive control)" \
    '[ "$code" = 200 ] && [ "$(j ".data|length")" -gt 40 ]' "$code $(head -c 400 "$T/r.json")"
check "a deprecated version warns once on serve's stderr" \
    '[ "$(grep -c "warning: Gusto API version 2026-02-01" "$T/serve-v.err")" = 1 ]' "$(cat "$T/serve-v.err")"
kill "$sv_pid" 2>/dev/null; wait "$sv_pid" 2>/dev/null
GUSTO_API_VERSION=2025-06-15 "$GUSTO" serve --config "$T/serve-v.json" --json \
    >"$T/serve-v.out" 2>"$T/serve-v.err" </dev/null &
rp=$!
i=0
while [ $i -lt 100 ] && kill -0 "$rp" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
wait "$rp" 2>/dev/null
rc=$?
check "GUSTO_API_VERSION=2025-06-15 (retired): serve exits 2 naming api_version, never listens" \
    '[ "$rc" = 2 ] && ! grep -q "^listening" "$T/serve-v.out" && grep -q api_version "$T/serve-v.out" "$T/serve-v.err"' \
    "rc=$rc $(cat "$T/serve-v.out" "$T/serve-v.err" | head -c 600)"
unset GUSTO_TODAY

# ---- a broken --config file: the error names the place, never the file's text
printf '{"client_secret": "cfg-secret-4711\n' >"$T/broken.json"
"$GUSTO" serve --config "$T/broken.json" --json >"$T/broken.out" 2>"$T/broken.err" </dev/null
rc=$?
check "a broken --config: exit 2 naming the line and column (control)" \
    '[ "$rc" = 2 ] && grep -q "line 1, column" "$T/broken.out"' "rc=$rc $(cat "$T/broken.out")"
check "... and the secret in it is not echoed" \
    '! grep -q cfg-secret-4711 "$T/broken.out" "$T/broken.err"' "$(cat "$T/broken.out" "$T/broken.err")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
