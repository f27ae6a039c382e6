#!/bin/sh
# security_test.sh - backs docs/security.md: secrets stay out of argv, logs, traces and files; TLS is always verified and plain http:// only reaches loopback; the sandbox isolates companies and enforces scopes; SSNs and bank account numbers are masked in every output.
#
# Everything runs on 127.0.0.1 (a TLS server from `openssl s_server` with a
# self-signed certificate, a Node server that redirects, and gusto-sandbox).
# The checks of hosts that are not loopback run in a network namespace of
# their own (`unshare -n`), so even a regression could send nothing.
# Environment:
# GUSTO, GUSTO_SANDBOX.  Needs jq, openssl and node.  Prints "ok - NAME" /
# "not ok - NAME" and ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/common.sh

TOKEN=sec-token-4f9a2c71
RO=sec-readonly-77ab
OTHER=sec-other-c0ffee
SSN=517-29-3846
SSN_DIGITS=517293846
ACCT=000987654321
command -v jq >/dev/null 2>&1 || bail "jq is required"
command -v openssl >/dev/null 2>&1 || bail "openssl is required"
command -v node >/dev/null 2>&1 || bail "node is required (scripts/deps.sh)"

sb_start sb -- --seed demo --data "$T/sandbox.db" --token "$TOKEN" \
    --token "$RO:employees:read,companies:read" --token "$OTHER@other" --rate-limit 0 --log ||
    bail "the sandbox did not start"

n=0
# g ARGS...: gusto-connect against the sandbox, token in the environment; every
# output is kept as $T/o.N / $T/e.N for the final scans.
g() {
    n=$((n + 1))
    out=$T/o.$n err=$T/e.$n
    GUSTO_ACCESS_TOKEN=${TOK:-$TOKEN} "$GUSTO" --env "$URL" "$@" <"${STDIN:-/dev/null}" \
        >"$out" 2>"$err"
    rc=$?
}
# c METHOD PATH TOKEN [BODY]: curl status code of one sandbox request.
c() {
    if [ $# -ge 4 ]; then
        curl -s -o "$T/curl.out" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3" \
            -H 'Content-Type: application/json' --data "$4" "$URL$2"
    else
        curl -s -o "$T/curl.out" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3" "$URL$2"
    fi
}

# Controls for the absence checks below: lacks() fails when the pattern is
# there, and when there is nothing to search.
printf 'x-needle-y\n' >"$T/control"
check "control: lacks() fails when the pattern is in the file" eval '! lacks F needle "$T/control"'
check "control: lacks() fails on a missing file" eval '! lacks F needle "$T/missing" 2>/dev/null'
check "control: lacks() passes when the pattern is not there" eval 'lacks F haystack "$T/control"'

# ---- 1. secrets: where they live, what is logged ------------------------------------

g --token "$TOKEN" employees list
check "argv: --token is refused (exit 2) without echoing the token" \
    eval '[ "$rc" -eq 2 ] && lacks F "$TOKEN" "$out" "$err"'
printf '%s\n' "$TOKEN" >"$T/tok"
n=$((n + 1))
"$GUSTO" --env "$URL" --token-stdin employees list <"$T/tok" >"$T/o.$n" 2>"$T/e.$n"
check "argv: --token-stdin reads the token from stdin" \
    eval 'jq -e ".ok == true" "$T/o.$n" >/dev/null'
g --verbose employees list --search zzq
check "--verbose: the trace shows Authorization as [REDACTED], never the token" \
    eval 'grep -q "Authorization: \[REDACTED\]" "$err" && lacks F "$TOKEN" "$out" "$err"'
g connect --client-id app --client-secret s3cr3t-value
check "argv: connect --client-secret is refused (exit 2) without echoing it" \
    eval '[ "$rc" -eq 2 ] && lacks F s3cr3t-value "$out" "$err"'

# ---- 2. TLS always verified; plain http only to loopback ------------------------------

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$T/key.pem" -out "$T/cert.pem" \
    >/dev/null 2>&1 || bail "openssl could not make a certificate"
tls_pid=
for try in 1 2 3 4 5; do
    TLS_PORT=$((20000 + ($$ * 7 + try * 1031) % 40000))
    openssl s_server -accept "127.0.0.1:$TLS_PORT" -cert "$T/cert.pem" -key "$T/key.pem" \
        -quiet >"$T/tls.out" 2>"$T/tls.err" </dev/null &
    tls_pid=$!
    sleep 0.5
    kill -0 "$tls_pid" 2>/dev/null && break
    tls_pid=
done
[ -n "$tls_pid" ] || bail "openssl s_server did not start"
sb_pids="$sb_pids $tls_pid"
n=$((n + 1))
GUSTO_ACCESS_TOKEN=$TOKEN "$GUSTO" --env "https://127.0.0.1:$TLS_PORT" --retries 0 --timeout 5 \
    employees list >"$T/o.$n" 2>"$T/e.$n"
rc=$?
check "TLS: a self-signed certificate on https://127.0.0.1 is refused (exit $rc, network error)" \
    eval '[ "$rc" -eq 6 ] && grep -qi "certificate" "$T/o.$n"'
# The capture may be empty (it should be); the handshake above, refused for
# its certificate, is the proof that the client reached this server.
check "TLS: nothing reached the server in plain text (no request line, no token)" \
    eval '[ -f "$T/tls.out" ] && ! grep -qaF -e "$TOKEN" -e "GET /" "$T/tls.out" &&
          [ -f "$T/tls.err" ]'
kill "$tls_pid" 2>/dev/null
check "TLS: no source file turns certificate or host verification off" \
    eval 'grep -rqE "(SSL_VERIFYPEER|SSL_VERIFYHOST|PROXY_SSL_VERIFYPEER)[^;]*, *0L?\)" src include; [ $? -eq 1 ] && grep -rq CURLOPT_SSL_VERIFYPEER src'
n=$((n + 1))
http_proxy=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9 \
    GUSTO_ACCESS_TOKEN=$TOKEN "$GUSTO" --env "$URL" --retries 0 employees list \
    >"$T/o.$n" 2>"$T/e.$n"
rc=$?
check "plain http to loopback never goes through an http_proxy from the environment (exit $rc)" \
    [ "$rc" -eq 0 ]
# These two name hosts that are not loopback.  They run in a network
# namespace of their own when one can be made, so even a regression sends
# nothing off this machine; without one, the address is TEST-NET-1 and the
# name is under .test, which never resolve to a real host.
NS=
unshare -n true 2>/dev/null && NS="unshare -n"
n=$((n + 1))
$NS env GUSTO_ACCESS_TOKEN="$TOKEN" "$GUSTO" --env http://192.0.2.1:8080 --retries 0 --timeout 2 \
    employees list >"$T/o.$n" 2>"$T/e.$n"
rc=$?
check "http:// to a host that is not loopback is refused before sending (exit $rc)" \
    eval '[ "$rc" -eq 2 ] && grep -q base_url "$T/o.$n"'
n=$((n + 1))
$NS env GUSTO_ACCESS_TOKEN="$TOKEN" "$GUSTO" --env http://127.0.0.1.example.test:8080 \
    --retries 0 --timeout 2 employees list >"$T/o.$n" 2>"$T/e.$n"
rc=$?
check "http://127.0.0.1.example.test (a name that starts like loopback) is refused (exit $rc)" \
    eval '[ "$rc" -eq 2 ] && grep -q base_url "$T/o.$n"'
# Issue 14, Medium 1: userinfo hid the real host from the old check.
n=$((n + 1))
$NS env GUSTO_ACCESS_TOKEN="$TOKEN" "$GUSTO" --env http://127.0.0.1:1@192.0.2.1:8080 \
    --retries 0 --timeout 2 employees list >"$T/o.$n" 2>"$T/e.$n"
rc=$?
check "http://127.0.0.1:1@192.0.2.1 (userinfo before a remote host) is refused before sending (exit $rc)" \
    eval '[ "$rc" -eq 2 ] && grep -q base_url "$T/o.$n" && grep -q userinfo "$T/o.$n"'

# A server that answers every request with a redirect to a second one: the
# client must not follow it (the token would go along).  Node is what
# scripts/deps.sh installs for the SDK tests.
cat >"$T/redirect.js" <<'EOF'
const http = require('http'), fs = require('fs');
const log = process.argv[2];
const note = (who, q) => fs.appendFileSync(log,
    `${who} ${q.method} ${q.url} ${q.headers.authorization ? 'with-auth' : 'no-auth'}\n`);
const b = http.createServer((q, r) => { note('B', q); r.end('{}'); });
b.listen(0, '127.0.0.1', () => {
    const a = http.createServer((q, r) => {
        note('A', q);
        r.writeHead(302, {Location: `http://127.0.0.1:${b.address().port}/v1/token_info`});
        r.end();
    });
    a.listen(0, '127.0.0.1', () => console.log(a.address().port));
});
EOF
: >"$T/redirect.log"
node "$T/redirect.js" "$T/redirect.log" >"$T/redirect.port" 2>"$T/redirect.err" &
sb_pids="$sb_pids $!"
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    [ -s "$T/redirect.port" ] && break
    sleep 0.1
done
RPORT=$(cat "$T/redirect.port")
n=$((n + 1))
GUSTO_ACCESS_TOKEN=$TOKEN "$GUSTO" --env "http://127.0.0.1:${RPORT:-9}" --retries 0 --timeout 5 \
    api GET /v1/token_info >"$T/o.$n" 2>"$T/e.$n"
rc=$?
check "redirects: a 302 is not followed (exit $rc): the first server got the request, the host it names nothing" \
    eval 'grep -q "^A GET /v1/token_info with-auth" "$T/redirect.log" && ! grep -q "^B " "$T/redirect.log" && [ "$rc" -ne 0 ]'

# ---- 3. the sandbox: company isolation and scopes ---------------------------------

# Started without --bind, the sandbox listens on 127.0.0.1 only: its port
# in /proc/net/tcp is bound to 0100007F (127.0.0.1), never to 00000000.
SBPORT=$(printf '%04X' "${URL##*:}")
check "the sandbox listens on 127.0.0.1 only by default (port ${URL##*:})" \
    eval 'grep -qE "^ *[0-9]+: 0100007F:$SBPORT 00000000:0000 0A" /proc/net/tcp && lacks E "^ *[0-9]+: 00000000:$SBPORT " /proc/net/tcp'
E=$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/v1/companies/$COMPANY/employees?per=1&page=2" |
    jq -r '.[0].uuid')
JOB=$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/v1/employees/$E/jobs" | jq -r '.[0].uuid')
HOME_UUID=$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/v1/employees/$E/home_addresses" | jq -r '.[0].uuid')
NAME0=$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/v1/employees/$E" | jq -r .first_name)
OTHER_CO=$(curl -s -H "Authorization: Bearer $OTHER" "$URL/v1/token_info" | jq -r '.resource.uuid')
check "isolation: the other company's token_info names another company" \
    eval '[ -n "$OTHER_CO" ] && [ "$OTHER_CO" != "$COMPANY" ] && [ "$OTHER_CO" != null ]'
own=""
for p in "/v1/companies/$COMPANY" "/v1/employees/$E" "/v1/jobs/$JOB" "/v1/home_addresses/$HOME_UUID"; do
    st=$(c GET "$p" "$TOKEN")
    [ "$st" = 200 ] || own="$own [$p -> $st]"
done
check "isolation: control: the company's own token reads the same objects (200)${own:+:$own}" \
    [ -z "$own" ]
iso=""
for req in "GET /v1/companies/$COMPANY" "GET /v1/companies/$COMPANY/employees" \
    "GET /v1/companies/$COMPANY/locations" "GET /v1/employees/$E" "GET /v1/employees/$E/jobs" \
    "GET /v1/jobs/$JOB" "GET /v1/jobs/$JOB/compensations" "GET /v1/home_addresses/$HOME_UUID" \
    "GET /v1/employees/$E/time_off_activities" "DELETE /v1/employees/$E"; do
    st=$(c ${req% *} "${req#* }" "$OTHER")
    [ "$st" = 404 ] || iso="$iso [$req -> $st]"
done
st=$(c PUT "/v1/employees/$E" "$OTHER" '{"version":"x","first_name":"Mallory"}')
[ "$st" = 404 ] || iso="$iso [PUT employee -> $st]"
st=$(c POST "/v1/companies/$COMPANY/employees" "$OTHER" '{"first_name":"M","last_name":"X"}')
[ "$st" = 404 ] || iso="$iso [POST employee -> $st]"
check "isolation: another company's token gets 404 on 12 reads and writes of this company's data${iso:+:$iso}" \
    [ -z "$iso" ]
NAME1=$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/v1/employees/$E" | jq -r .first_name)
check "isolation: nothing was changed through the other company's token (first_name '$NAME0' before, '$NAME1' after)" \
    eval '[ -n "$NAME0" ] && [ "$NAME0" != null ] && [ "$NAME1" = "$NAME0" ]'
sc=""
for req in "PUT /v1/employees/$E" "POST /v1/companies/$COMPANY/employees" "POST /v1/employees/$E/jobs" \
    "PUT /v1/jobs/$JOB" "POST /v1/companies/$COMPANY/people_batches"; do
    st=$(c ${req% *} "${req#* }" "$RO" '{"version":"x"}')
    [ "$st" = 403 ] && grep -q missing_oauth_scopes "$T/curl.out" || sc="$sc [$req -> $st]"
done
for req in "GET /v1/employees/$E/jobs" "GET /v1/jobs/$JOB/compensations" "GET /v1/employees/$E/time_off_activities"; do
    st=$(c GET "${req#* }" "$RO")
    [ "$st" = 403 ] || sc="$sc [$req -> $st]"
done
check "scopes: a token with employees:read and companies:read gets 403 (missing_oauth_scopes) on 8 calls outside them${sc:+:$sc}" \
    [ -z "$sc" ]
st=$(c GET "/v1/employees/$E?include=all_compensations" "$TOKEN")
pay=$(jq "[.. | objects | select(has(\"rate\"))] | length" "$T/curl.out")
st=$(c GET "/v1/employees/$E?include=all_compensations" "$RO")
nopay=$(jq "[.. | objects | select(has(\"rate\"))] | length" "$T/curl.out")
check "scopes: without compensations:read an employee shows no pay ($st; $nopay rates, against $pay with the full token)" \
    eval '[ "$st" = 200 ] && [ "$pay" -gt 0 ] && [ "$nopay" = 0 ]'
st=$(curl -s -D "$T/h401" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer not-a-token" "$URL/v1/token_info")
check "auth: an unknown token gets 401 with WWW-Authenticate ($st)" \
    eval '[ "$st" = 401 ] && grep -qi "^WWW-Authenticate: Bearer" "$T/h401"'

# ---- 4. SSNs and bank account numbers masked in every output ---------------------------

cat >"$T/emp.json" <<EOF
{"first_name": "Mask", "last_name": "Check", "email": "mask.check@example.com", "ssn": "$SSN",
 "date_of_birth": "1985-12-10",
 "home_address": {"street_1": "1 Main St", "city": "Austin", "state": "TX", "zip": "78701"},
 "job": {"title": "Analyst", "hire_date": "2025-03-01"},
 "compensation": {"rate": "98000.00", "payment_unit": "Year", "flsa_status": "Exempt"}}
EOF
g employees create --input "$T/emp.json" --dry-run
check "masking: employees create --dry-run shows the SSN as ***-**-3846" \
    eval 'grep -q "\*\*\*-\*\*-3846" "$out"'
g --verbose employees create --input "$T/emp.json"
NEW=$(jq -r '.data.employee.uuid' "$out")
check "masking: employees create (--verbose) succeeds" [ "$rc" -eq 0 ]
g employees get "$NEW"
check "masking: employees get shows no SSN, only has_ssn" \
    eval 'jq -e ".data.has_ssn == true and (.data.ssn // \"\") == \"\"" "$out" >/dev/null'
echo "{\"ssn\": \"$SSN\"}" >"$T/upd.json"
STDIN=$T/upd.json g employees update "$NEW" --dry-run
check "masking: employees update --dry-run masks the SSN" eval 'grep -q "\*\*\*-\*\*-3846" "$out"'
STDIN=$T/upd.json g --verbose employees update "$NEW"
check "masking: employees update with an SSN succeeds (exit $rc)" [ "$rc" -eq 0 ]
echo "{\"first_name\": \"A\", \"last_name\": \"B\", \"ssn\": \"${SSN_DIGITS}0\"}" >"$T/bad.json"
g employees create --input "$T/bad.json"
check "masking: an invalid SSN is refused (exit 7) without repeating it" \
    eval '[ "$rc" -eq 7 ] && lacks F "$SSN_DIGITS" "$out" "$err"'
g api POST "/v1/companies/$COMPANY/employees" --data "{\"first_name\":\"Api\",\"last_name\":\"Mask\",\"ssn\":\"$SSN_DIGITS\"}"
check "masking: api POST with an SSN: the answer holds none (exit $rc)" \
    eval '[ "$rc" -eq 0 ] && jq -e ".data.has_ssn == true" "$out" >/dev/null && lacks E "$SSN_DIGITS|$SSN" "$out" "$err"'
cat >"$T/people.csv" <<EOF
person.external_id,person.first_name,person.last_name,person.ssn,job.title,job.hire_date,compensation.rate,compensation.payment_unit,compensation.flsa_status,bank_accounts.0.routing_number,bank_accounts.0.account_number,bank_accounts.0.account_type,bank_accounts.0.split_by,bank_accounts.0.split_amount
sec-1,Grace,Mask,$SSN,Admiral,2025-01-02,50.00,Hour,Nonexempt,123456789,$ACCT,Checking,Percentage,100
EOF
g batch create --input "$T/people.csv" --dry-run
check "masking: batch create --dry-run masks the SSN and the account number" \
    eval 'grep -q "\*\*\*-\*\*-3846" "$out" && grep -q "\*\*\*\*4321" "$out"'
# The terminal form (plans and tables, not JSON), through a pty from
# script(1); these outputs are in the final scans too.
n=$((n + 1))
script -qec "'$GUSTO' --env '$URL' employees create --input '$T/emp.json' --dry-run" /dev/null \
    >"$T/o.$n" 2>"$T/e.$n"
tty1=$n
n=$((n + 1))
script -qec "'$GUSTO' --env '$URL' batch create --input '$T/people.csv' --dry-run" /dev/null \
    >"$T/o.$n" 2>"$T/e.$n"
check "masking: on a terminal, both dry runs show ***-**-3846 and ****4321, never the numbers" \
    eval 'grep -q "Dry run" "$T/o.$tty1" && grep -q "\*\*\*-\*\*-3846" "$T/o.$tty1" &&
          grep -q "\*\*\*-\*\*-3846" "$T/o.$n" && grep -q "\*\*\*\*4321" "$T/o.$n" &&
          lacks E "$SSN_DIGITS|$SSN|$ACCT" "$T/o.$tty1" "$T/o.$n"'
g --verbose batch create --input "$T/people.csv" --wait
check "masking: batch create --wait (--verbose) succeeds (exit $rc)" [ "$rc" -eq 0 ]
sed "s/$ACCT/${ACCT}99999999/" "$T/people.csv" >"$T/bad.csv"
g batch create --input "$T/bad.csv"
check "masking: a bad account number is refused (exit 7) without repeating it" \
    eval '[ "$rc" -eq 7 ] && lacks F "$ACCT" "$out" "$err"'

# ---- the final scans over everything -----------------------------------------------

sb_stop_check sb "$SB_PID"
check "no output of gusto-connect holds the token" eval 'lacks F "$TOKEN" "$T"/o.* "$T"/e.*'
check "no output of gusto-connect holds a whole SSN or account number" \
    eval 'lacks E "$SSN_DIGITS|$SSN|$ACCT" "$T"/o.* "$T"/e.*'
check "the sandbox log holds no token, SSN, account number or query string" \
    eval 'lacks E "$TOKEN|$RO|$OTHER|$SSN_DIGITS|$SSN|$ACCT|\?|zzq" "$T/sb.log"'
check "the sandbox's database file holds no token (only SHA-256 hashes)" \
    eval 'lacks aF "$TOKEN" "$T"/sandbox.db*'
check "the sandbox's database file holds no whole account number" \
    eval 'lacks aF "$ACCT" "$T"/sandbox.db*'

finish
