#!/bin/sh
# connect_test.sh - `gusto-connect connect` end to end, driven with curl instead of a
# browser: the happy path and where the client secret may (not) show up,
# the store file, a wrong store key, disconnect; PKCE on the authorize URL;
# a forged or missing state (ignored: the real redirect still connects), a
# redirect URI the app did not register, a wrong client secret, an expired
# code; 16 processes racing for one refresh; a refresh whose answer is
# lost; redirect URIs judged by their real host (userinfo, localhost); the
# browser's clean environment; the store on PostgreSQL (issue 18): its key
# only from the operator, one key per store, 16 processes in two HOMEs
# refreshing once, list, default and disconnect, no password printed.
#
# Everything runs against gusto-sandbox processes on 127.0.0.1, with HOME
# and GUSTO_STORE inside one mktemp directory.  Every process it starts is
# killed on exit, and the PostgreSQL server of its own (tests/pg.sh) is
# stopped.  Needs curl, jq and PostgreSQL's server binaries.  Environment: GUSTO (default
# build/gusto-connect), GUSTO_SANDBOX (default build/gusto-sandbox), KEEP=1 keeps
# the temporary directory, CONNECT_ONLY=pg runs section 13 alone,
# CONNECT_NO_VALGRIND=1 skips its valgrind check (for a sanitizer build).  Prints "ok - NAME" / "not ok - NAME" and ends
# with "N passed, N failed"; exits 1 when anything failed.
# shellcheck disable=SC2016,SC2034,SC2317  # checks are eval'd: single quotes on purpose
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
    for p in $pids; do
        kill "$p" 2>/dev/null
    done
    for p in $pids; do
        wait "$p" 2>/dev/null
    done
    pids=""
    pg_stop
    if [ -n "${KEEP:-}" ]; then
        echo "# files kept in $T"
    else
        rm -rf "$T"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Nothing from the machine leaks in: no token, no stored connection.
export HOME="$T/home"
mkdir -p "$HOME"
export GUSTO_STORE="$T/store/connections.db"
unset GUSTO_ACCESS_TOKEN GUSTO_CONNECTION GUSTO_STORE_KEY GUSTO_CLIENT_ID \
    GUSTO_CLIENT_SECRET GUSTO_COMPANY_UUID GUSTO_API_BASE_URL GUSTO_ENV GUSTO_ENVIRONMENT \
    GUSTO_REDIRECT_URI XDG_CONFIG_HOME DISPLAY WAYLAND_DISPLAY BROWSER
# curl must never go through a proxy: everything here is 127.0.0.1.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY='*'

ok() { pass=$((pass + 1)); echo "ok - $1"; }
# not_ok NAME [DETAIL]
not_ok() {
    fail=$((fail + 1))
    echo "not ok - $1"
    [ -n "${2:-}" ] && printf '%s\n' "$2" | head -c 600 | sed 's/^/#   /'
    return 0
}
# check NAME DETAIL COMMAND...: passes when COMMAND succeeds.
check() {
    name=$1
    detail=$2
    shift 2
    if "$@"; then ok "$name"; else not_ok "$name" "$detail"; fi
}
summary() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit $?
}

for tool in curl jq; do
    if ! command -v $tool >/dev/null 2>&1; then
        not_ok "$tool is installed (scripts/deps.sh)"
        summary
    fi
done
if [ ! -x "$GUSTO" ] || [ ! -x "$SANDBOX" ]; then
    not_ok "$GUSTO and $SANDBOX are built (make)"
    summary
fi

# ---- helpers ------------------------------------------------------------------

# track, untrack, stop, free_port
. tests/procs.sh
# PGBIN, as_pg, pg_start, pg_stop, pg_createdb
. tests/pg.sh
# reap, start_connect, consent_get, option_uuid, consent_post, callback, connect_allow
. tests/oauthflow.sh
hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# start_sandbox TAG ARGS...: sets SB_URL, SB_PORT, SB_PID, SB_LOG, SB_COMPANY.
start_sandbox() {
    tag=$1
    shift
    SB_LOG="$T/$tag.log"
    "$SANDBOX" --seed demo --rate-limit 0 --log "$@" >"$T/$tag.out" 2>"$SB_LOG" &
    SB_PID=$!
    track "$SB_PID"
    i=0
    while [ $i -lt 100 ] && ! grep -q '^listening on ' "$T/$tag.out" 2>/dev/null; do
        kill -0 "$SB_PID" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    SB_URL=$(sed -n 's/^listening on //p' "$T/$tag.out" | head -n 1)
    SB_PORT=${SB_URL##*:}
    SB_COMPANY=$(sed -n 's/^company: //p' "$T/$tag.out" | head -n 1)
    if [ -z "$SB_URL" ]; then
        not_ok "sandbox $tag starts" "$(cat "$SB_LOG")"
        return 1
    fi
    return 0
}

# g OUTFILE ARGS...: run gusto-connect (stored connection); sets RC.
g() {
    g_out=$1
    shift
    "$GUSTO" "$@" </dev/null >"$g_out" 2>"$g_out.err"
    RC=$?
}
jqe() { jq -e "$2" "$1" >/dev/null 2>&1; }
count_token_posts() { grep -c "^POST /oauth/token $1" "$2"; }

# race TAG: 16 runs of `racer I OUTFILE` at once (racer is defined by the
# caller); sets good, how many exited 0 with Globex's token_info.
race() {
    racers=""
    i=1
    while [ $i -le 16 ]; do
        racer $i "$T/$1.$i" </dev/null >"$T/$1.$i" 2>"$T/$1.$i.err" &
        racers="$racers $!"
        track "$!"
        i=$((i + 1))
    done
    good=0
    i=1
    for p in $racers; do
        reap "$p"
        if [ "$RC" = 0 ] && jqe "$T/$1.$i" ".ok and .data.resource.uuid == \"$GLOBEX\""; then
            good=$((good + 1))
        fi
        i=$((i + 1))
    done
}

# ---- set-up -------------------------------------------------------------------

SECRET="sec-$(hex 16)"
WRONG_SECRET="wrong-$(hex 16)"
P1=$(free_port)
P2=$(free_port)
while [ "$P2" = "$P1" ]; do P2=$(free_port); done
R1="http://127.0.0.1:$P1/callback"
R2="http://127.0.0.1:$P2/callback"
APPS="$T/apps.json"
(umask 077 && jq -n --arg s "$SECRET" --arg r1 "$R1" --arg r2 "$R2" '[
    {client_id: "ct-app", client_secret: $s, redirect_uris: [$r1], name: "Connect Test"},
    {client_id: "ct-other", client_secret: $s, redirect_uris: [$r2]}]' >"$APPS")

start_sandbox main --port 0 --apps "$APPS" || summary
ACME=$SB_COMPANY

# CONNECT_ONLY=pg runs only section 13 (the store on PostgreSQL), as the
# connect-pg-asan stage does under AddressSanitizer.
if [ "${CONNECT_ONLY:-}" != pg ]; then

# ---- 1. happy path, and where the secret is not -------------------------------

CSECRET=$SECRET
if start_connect happy ct-app "$R1"; then ok "connect prints the authorize URL"; else
    not_ok "connect prints the authorize URL" "$(cat "$C_ERR")"; fi
check "the authorize URL carries client_id, the redirect URI and a random state" "$AUTH_URL" \
    eval 'case $AUTH_URL in "$SB_URL/oauth/authorize?"*client_id=ct-app*) true;; *) false;; esac &&
        printf "%s" "$AUTH_URL" | grep -q "redirect_uri=http%3A%2F%2F127.0.0.1%3A$P1%2Fcallback" &&
        [ ${#STATE} -ge 32 ]'
check "stderr names the redirect URI it listens on" "$(cat "$C_ERR")" \
    grep -qF "waiting for the redirect to $R1" "$C_ERR"
check "the authorize URL carries a PKCE S256 challenge (43 base64url characters)" "$AUTH_URL" \
    eval 'printf "%s" "$AUTH_URL" | grep -Eq "[?&]code_challenge=[A-Za-z0-9_-]{43}(&|$)" &&
        printf "%s" "$AUTH_URL" | grep -q "code_challenge_method=S256"'

# While it waits: the secret is not on any command line.
check "the secret is not in gusto-connect's argv (/proc/PID/cmdline)" "" \
    eval '[ -r "/proc/$C_PID/cmdline" ] && ! tr "\\0" " " <"/proc/$C_PID/cmdline" | grep -qF "$SECRET"'
if command -v ps >/dev/null 2>&1; then
    check "the secret is in no process's arguments (ps)" "" \
        eval 'ps -eo args >"$T/ps.txt" && grep -qF -- "--client-id ct-app" "$T/ps.txt" && ! grep -qF "$SECRET" "$T/ps.txt"'
fi

# The listener ignores other paths (a browser asks for /favicon.ico).
fav=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$P1/favicon.ico")
check "the listener answers 404 on another path and keeps waiting" "got $fav" \
    eval '[ "$fav" = 404 ] && kill -0 "$C_PID" 2>/dev/null'

consent_get "$AUTH_URL"
check "the consent page loads (200) and lists both companies" "HTTP $HTTP" \
    eval '[ "$HTTP" = 200 ] && [ -n "$(option_uuid "Acme Demo Co")" ] && [ -n "$(option_uuid "Globex Other Inc")" ]'
consent_post allow "$ACME"
CODE=$(printf '%s' "$LOCATION" | sed -n 's/.*[?&]code=\([^&]*\).*/\1/p')
check "Allow redirects to the redirect URI with a code and the same state" "HTTP $HTTP -> $LOCATION" \
    eval '[ "$HTTP" = 302 ] && case $LOCATION in "$R1?"*) true;; *) false;; esac &&
        [ -n "$CODE" ] && printf "%s" "$LOCATION" | grep -q "[?&]state=$STATE\(&\|\$\)"'
callback "$LOCATION"
check "the listener answers the redirect with its \"Connected\" page" \
    "HTTP $CB_HTTP: $(cat "$T/cb.html" 2>/dev/null)" \
    eval '[ "$CB_HTTP" = 200 ] && grep -q "<h1>Connected</h1>" "$T/cb.html"'
reap "$C_PID"
check "connect exits 0 and reports the connection" "exit $RC: $(cat "$C_OUT" "$C_ERR")" \
    eval '[ "$RC" = 0 ] && jqe "$C_OUT" ".ok == true and .data.company_uuid == \"$ACME\" and
        .data.base_url == \"$SB_URL\" and (.data.name | length > 0) and .data.expires_at > now"'
check "the secret is in neither connect's stdout nor its stderr" "" \
    eval '! grep -qF "$SECRET" "$C_OUT" "$C_ERR"'

STORE=$GUSTO_STORE
check "the store file is mode 0600" "$(ls -la "$T/store")" \
    eval '[ "$(stat -c %a "$STORE")" = 600 ]'
check "the store's directory is 0700 and its key file 0600" "$(ls -la "$T/store")" \
    eval '[ "$(stat -c %a "$T/store")" = 700 ] && [ "$(stat -c %a "$STORE.key")" = 600 ]'
check "the secret is not in the raw store (nor its -wal/-journal, nor under HOME)" "" \
    eval '! grep -rqaF "$SECRET" "$T/store" "$HOME"'
check "the sandbox log holds no secret, code or state" "" \
    eval '[ -s "$SB_LOG" ] && ! grep -qF -e "$SECRET" -e "$CODE" -e "$STATE" "$SB_LOG"'

g "$T/status1" status --json
check "status: valid, bound to the demo company, no refresh yet" "exit $RC: $(cat "$T/status1")" \
    eval '[ "$RC" = 0 ] && jqe "$T/status1" ".ok and (.data | length == 1) and .data[0].valid == true and
        .data[0].company_uuid == \"$ACME\" and .data[0].refreshes == 0"'
check "status output holds no secret" "" eval '! grep -qF "$SECRET" "$T/status1" "$T/status1.err"'
GUSTO_API_VERSION= GUSTO_TODAY=2026-12-03 g "$T/status1v" status --json
check "status shows the API version in use: 2026-12-01, stable, no sunset set" \
    "exit $RC: $(cat "$T/status1v")" \
    eval '[ "$RC" = 0 ] && jqe "$T/status1v" ".data[0].api_version | .version == \"2026-12-01\" and
        .status == \"stable\" and .sunset == null" && ! grep -q warning "$T/status1v.err"'
GUSTO_API_VERSION=2026-06-15 GUSTO_TODAY=2026-12-03 g "$T/status1d" status --json
check "status at 2026-06-15: deprecated, sunset 2027-12-01, and one warning on stderr" \
    "exit $RC: $(cat "$T/status1d") $(cat "$T/status1d.err")" \
    eval '[ "$RC" = 0 ] && jqe "$T/status1d" ".data[0].api_version | .version == \"2026-06-15\" and
        .status == \"deprecated\" and .sunset == \"2027-12-01\" and .days_to_sunset == 363" &&
        [ "$(grep -c "warning: Gusto API version 2026-06-15" "$T/status1d.err")" = 1 ]'
g "$T/emp1" employees list --json
check "employees list works through the stored connection" "exit $RC: $(head -c 300 "$T/emp1")" \
    eval '[ "$RC" = 0 ] && jqe "$T/emp1" ".ok and (.data | length > 0) and all(.data[]; .company_uuid == \"$ACME\")"'

# A wrong store key: clear failure, nothing printed that looks like a token.
OTHER_KEY=$(hex 32)
GUSTO_STORE_KEY=$OTHER_KEY "$GUSTO" status --json </dev/null >"$T/badkey" 2>"$T/badkey.err"
RC=$?
check "status with a wrong GUSTO_STORE_KEY: exit 3, says it cannot decrypt" \
    "exit $RC: $(cat "$T/badkey" "$T/badkey.err")" \
    eval '[ "$RC" = 3 ] && jqe "$T/badkey" "[.. | strings] | any(test(\"cannot be decrypted\"))"'
check "the wrong-key failure hints at GUSTO_STORE_KEY" "$(cat "$T/badkey")" \
    grep -q GUSTO_STORE_KEY "$T/badkey"
GUSTO_STORE_KEY=$OTHER_KEY "$GUSTO" api GET /v1/token_info </dev/null >"$T/badkey2" 2>"$T/badkey2.err"
RC=$?
check "api with a wrong GUSTO_STORE_KEY: exit 3, nothing sent" "exit $RC: $(cat "$T/badkey2")" \
    eval '[ "$RC" = 3 ] && jqe "$T/badkey2" ".ok == false and (.error.message | test(\"decrypt\"))"'
GUSTO_STORE_KEY=abc123 "$GUSTO" status --json </dev/null >"$T/badkey3" 2>"$T/badkey3.err"
RC=$?
check "status with a malformed GUSTO_STORE_KEY fails and says 64 hex digits" \
    "exit $RC: $(cat "$T/badkey3")" \
    eval '[ "$RC" != 0 ] && grep -q "64 hex digits" "$T/badkey3"'

# The secret on the command line is refused outright.
"$GUSTO" connect --env "$SB_URL" --client-id ct-app --client-secret not-the-secret-x1 \
    </dev/null >"$T/argv" 2>"$T/argv.err"
RC=$?
check "connect --client-secret is refused (exit 2) without echoing it" "exit $RC: $(cat "$T/argv")" \
    eval '[ "$RC" = 2 ] && ! grep -qF not-the-secret-x1 "$T/argv" "$T/argv.err"'

g "$T/disc" disconnect --json
check "disconnect removes the connection" "exit $RC: $(cat "$T/disc" "$T/disc.err")" \
    eval '[ "$RC" = 0 ] && jqe "$T/disc" ".ok and .data.removed == true"'
g "$T/status2" status --json
check "status after disconnect: exit 3, not_connected" "exit $RC: $(cat "$T/status2")" \
    eval '[ "$RC" = 3 ] && jqe "$T/status2" ".ok == false and .error.code == \"not_connected\""'
g "$T/api2" api GET /v1/token_info
check "api after disconnect: exit 3, no connection" "exit $RC: $(cat "$T/api2")" \
    eval '[ "$RC" = 3 ] && jqe "$T/api2" ".ok == false"'

# ---- 2. a forged or missing state -------------------------------------------------

# Any local process or web page can GET the callback: such a redirect is
# answered 400 and ignored, and the real one still connects.
posts_before=$(count_token_posts "" "$SB_LOG")
start_connect forged ct-app "$R1"
forged=$(curl -s -o "$T/forged.html" -w '%{http_code}' --max-time 10 \
    "http://127.0.0.1:$P1/callback?code=forged-code&state=$(hex 24)")
nostate=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
    "http://127.0.0.1:$P1/callback?code=forged-code")
check "forged state: the listener answers 400 \"Not connected\"" "HTTP $forged" \
    eval '[ "$forged" = 400 ] && grep -q "Not connected" "$T/forged.html"'
check "forged and missing state: connect keeps waiting" "HTTP $nostate; $(cat "$C_OUT")" \
    eval '[ "$nostate" = 400 ] && kill -0 "$C_PID" 2>/dev/null'
check "a forged redirect never reaches POST /oauth/token" "" \
    eval '[ "$(count_token_posts "" "$SB_LOG")" = "$posts_before" ]'
consent_get "$AUTH_URL"
consent_post allow "$ACME"
callback "$LOCATION"
reap "$C_PID"
check "after forged redirects, the real one still connects (exit 0)" \
    "exit $RC: $(cat "$C_OUT" "$C_ERR")" \
    eval '[ "$RC" = 0 ] && [ "$CB_HTTP" = 200 ] && jqe "$C_OUT" ".data.company_uuid == \"$ACME\""'
check "exactly one POST /oauth/token: the real code's" "" \
    eval '[ "$(count_token_posts "" "$SB_LOG")" = "$((posts_before + 1))" ]'
g "$T/disc3" disconnect
WAIT=2
start_connect forgedonly ct-app "$R1"
WAIT=20
curl -s -o /dev/null --max-time 10 "http://127.0.0.1:$P1/callback?code=forged-code&state=$(hex 24)"
reap "$C_PID"
check "only a forged redirect: connect times out (exit 3) and says it was ignored" \
    "exit $RC: $(cat "$C_OUT")" \
    eval '[ "$RC" = 3 ] && jqe "$C_OUT" ".error.code == \"timeout\" and (.error.message | test(\"state did not match\"))"'
g "$T/status3" status --json
check "nothing was stored by the forged attempts" "exit $RC: $(cat "$T/status3")" \
    eval '[ "$RC" = 3 ] && jqe "$T/status3" ".error.code == \"not_connected\""'

# ---- 3. a redirect URI the app did not register -----------------------------------

# ct-other is registered with R2 only; the CLI listens on R1.
WAIT=3
start_connect wronguri ct-other "$R1"
WAIT=20
consent_get "$AUTH_URL"
check "unregistered redirect URI: the sandbox answers 400 and does not redirect" \
    "HTTP $HTTP, Location '$PAGE_LOC'" \
    eval '[ "$HTTP" = 400 ] && [ -z "$PAGE_LOC" ] && grep -qi "redirect" "$T/consent.html"'
reap "$C_PID"
check "unregistered redirect URI: connect times out, exit 3" "exit $RC: $(cat "$C_OUT")" \
    eval '[ "$RC" = 3 ] && jqe "$C_OUT" ".ok == false and .error.code == \"timeout\""'
check "unregistered redirect URI: the timeout error names the redirect URI to register" \
    "$(cat "$C_OUT")" \
    eval 'jqe "$C_OUT" "(.error.message + \" \" + (.error.hint // \"\")) | contains(\"$R1\")"'

# ---- 4. a wrong client secret -------------------------------------------------------

CSECRET=$WRONG_SECRET
connect_allow wrongsecret ct-app "$R1" "Acme Demo Co"
CSECRET=$SECRET
check "wrong secret: connect exits 3 with invalid_client" "exit $RC: $(cat "$C_OUT")" \
    eval '[ "$RC" = 3 ] && jqe "$C_OUT" ".ok == false and (.error.message | test(\"invalid_client\"))"'
check "wrong secret: the hint says to check the client id and secret" "$(cat "$C_OUT")" \
    eval 'jqe "$C_OUT" ".error.hint | test(\"client id and secret\")"'
check "wrong secret: neither secret is printed" "" \
    eval '! grep -qF -e "$WRONG_SECRET" -e "$SECRET" "$C_OUT" "$C_ERR"'
check "wrong secret: the sandbox refused it with 401" "" \
    grep -q "^POST /oauth/token 401" "$SB_LOG"

# ---- 5. an expired code ---------------------------------------------------------------

start_sandbox expiry --port 0 --apps "$APPS" --code-ttl 1 || summary
printf '%s\n' "$SECRET" >"$T/secret.txt"
chmod 600 "$T/secret.txt"
CSECRET_STDIN="$T/secret.txt"
start_connect expired ct-app "$R1"
CSECRET_STDIN=
consent_get "$AUTH_URL"
consent_post allow "$ACME"
sleep 3 # the browser "takes" 3 s to follow the redirect: the 1 s code is dead
callback "$LOCATION"
reap "$C_PID"
check "expired code: connect exits 3 with invalid_grant" "exit $RC: $(cat "$C_OUT")" \
    eval '[ "$RC" = 3 ] && jqe "$C_OUT" ".ok == false and (.error.message | test(\"invalid_grant\"))"'
check "expired code: the hint says the code expired and names the redirect URI" "$(cat "$C_OUT")" \
    eval 'jqe "$C_OUT" ".error.hint | test(\"expired\") and contains(\"$R1\")"'
check "expired code: the sandbox refused the exchange with 400" "" \
    grep -q "^POST /oauth/token 400" "$SB_LOG"
check "--client-secret-stdin: the secret is not printed" "" \
    eval '! grep -qF "$SECRET" "$C_OUT" "$C_ERR" "$SB_LOG"'
stop "$SB_PID"

# ---- 6. 16 processes, one refresh -------------------------------------------------

# Tokens live 66 s and the client refreshes 60 s ahead: 7 s after the
# exchange every process finds the token due, and the next refresh would
# only be due 6 s after this one.
export GUSTO_STORE="$T/race/connections.db"
start_sandbox race --port 0 --apps "$APPS" --access-ttl 66 || summary
connect_allow race ct-app "$R1" "Globex Other Inc"
GLOBEX=$(option_uuid "Globex Other Inc")
check "race: connect to Globex exits 0" "exit $RC: $(cat "$C_OUT")" \
    eval '[ "$RC" = 0 ] && jqe "$C_OUT" ".data.company_uuid == \"$GLOBEX\""'
sleep 7
racer() { "$GUSTO" api GET /v1/token_info; }
race racer
check "race: all 16 processes exit 0 with Globex's token_info" \
    "$good of 16; e.g. $(cat "$T/racer.1" "$T/racer.1.err")" [ "$good" = 16 ]
posts=$(count_token_posts "" "$SB_LOG")
check "race: exactly one POST /oauth/token after the code exchange" \
    "$(grep '^POST /oauth/token' "$SB_LOG")" \
    eval '[ "$posts" = 2 ] && [ "$(count_token_posts 200 "$SB_LOG")" = 2 ]'
check "race: no 401 reached any process" "$(grep ' 401 ' "$SB_LOG")" \
    eval '! grep -q "^GET /v1/token_info 401" "$SB_LOG"'
g "$T/status4" status --json
check "race: status says valid with refreshes == 1" "exit $RC: $(cat "$T/status4")" \
    eval '[ "$RC" = 0 ] && jqe "$T/status4" ".data[0].valid == true and .data[0].refreshes == 1"'
stop "$SB_PID"

# ---- 7. a refresh whose answer is lost -----------------------------------------------

# Sandbox A: access tokens of 30 s, so the stored one is due for a refresh
# at once.  Sandbox B, on the same --data file and port: every answer is
# lost, so the refresh rotates the tokens there but the client never hears
# of it.  Sandbox C, same file, no faults: the old refresh token must still
# work, because the new access token was never used.
export GUSTO_STORE="$T/lost/connections.db"
DATA="$T/lost-sandbox.db"
start_sandbox lostA --port 0 --data "$DATA" --apps "$APPS" --access-ttl 30 || summary
LOST_PORT=$SB_PORT
connect_allow lost ct-app "$R1" "Acme Demo Co"
check "lost: connect exits 0" "exit $RC: $(cat "$C_OUT" "$C_ERR")" [ "$RC" = 0 ]
stop "$SB_PID"

start_sandbox lostB --port "$LOST_PORT" --data "$DATA" --apps "$APPS" --access-ttl 30 \
    --faults lost:1 || summary
g "$T/lost1" api GET /v1/token_info
check "lost: with every answer lost, the call fails with a network error (exit 6)" \
    "exit $RC: $(cat "$T/lost1")" [ "$RC" = 6 ]
check "lost: the sandbox's --log shows the refresh it carried out" "$(cat "$SB_LOG")" \
    eval '[ "$(count_token_posts "" "$SB_LOG")" -ge 1 ]'
stop "$SB_PID"
# Independent of the log: the refresh rotated, i.e. the sandbox minted new
# refresh tokens (its oauth_refresh table holds one row per refresh token).
if command -v sqlite3 >/dev/null 2>&1; then
    rows=$(sqlite3 "$DATA" 'SELECT count(*) FROM oauth_refresh' 2>&1)
    check "lost: the refresh reached the sandbox and rotated the tokens (--data file)" \
        "oauth_refresh rows: $rows" eval '[ "$rows" -ge 2 ] 2>/dev/null'
else
    echo "# skip: sqlite3 is not installed, so the rotation is not read back from --data"
fi

start_sandbox lostC --port "$LOST_PORT" --data "$DATA" --apps "$APPS" || summary
g "$T/lost2" status --json
check "lost: after the restart, status succeeds (the old refresh token still works)" \
    "exit $RC: $(cat "$T/lost2"); log: $(cat "$SB_LOG")" \
    eval '[ "$RC" = 0 ] && jqe "$T/lost2" ".data[0].valid == true and .data[0].company_uuid == \"$ACME\" and
        .data[0].refreshes == 1"'
g "$T/lost3" employees list --json
check "lost: the store keeps working (employees list)" "exit $RC: $(head -c 300 "$T/lost3")" \
    eval '[ "$RC" = 0 ] && jqe "$T/lost3" ".ok and (.data | length > 0)"'
g "$T/lost4" status --json
check "lost: exactly one refresh, one POST /oauth/token 200 on the restarted sandbox" \
    "$(cat "$T/lost4"); log: $(grep oauth "$SB_LOG")" \
    eval 'jqe "$T/lost4" ".data[0].refreshes == 1" && [ "$(count_token_posts "" "$SB_LOG")" = 1 ] &&
        [ "$(count_token_posts 200 "$SB_LOG")" = 1 ]'
stop "$SB_PID"

# ---- 8. redirect URIs judged by their real host; the browser's environment ---

start_sandbox sec --port 0 --apps "$APPS" || summary
for bad in "http://127.0.0.1:1@10.9.9.9:$P1/callback" "http://localhost:$P1/callback" \
    "https://127.0.0.1:$P1/callback" "http://127.0.0.1.example.com:$P1/callback" \
    "http://10.9.9.9:$P1/callback" "http://[::1]:$P1/callback" "http://127.0.0.1/callback"; do
    GUSTO_CLIENT_SECRET=$SECRET "$GUSTO" connect --no-browser --env "$SB_URL" \
        --client-id ct-app --redirect-uri "$bad" --wait 2 </dev/null >"$T/badredir" 2>&1
    RC=$?
    check "redirect URI $bad is refused at once (exit 2), saying why" \
        "exit $RC: $(cat "$T/badredir")" \
        eval '[ "$RC" = 2 ] && grep -q "redirect-uri must be http://127.0.0.1:PORT/PATH" "$T/badredir"'
done
check "the userinfo refusal says so; the localhost one names [::1]" "" \
    eval 'GUSTO_CLIENT_SECRET=x "$GUSTO" connect --no-browser --env "$SB_URL" --client-id c \
            --redirect-uri "http://127.0.0.1:1@10.9.9.9:$P1/cb" 2>&1 | grep -q userinfo &&
        GUSTO_CLIENT_SECRET=x "$GUSTO" connect --no-browser --env "$SB_URL" --client-id c \
            --redirect-uri "http://localhost:$P1/cb" 2>&1 | grep -qF "[::1]"'
check "no refused redirect URI reached the sandbox" "$(cat "$SB_LOG")" \
    eval '! grep -q "^GET /oauth/authorize" "$SB_LOG"'

# A fake browser that records its environment and the URL it was given.
printf '#!/bin/sh\nenv >"%s/browser.env.tmp" && mv "%s/browser.env.tmp" "%s/browser.env"\nprintf "%%s\\n" "$1" >"%s/browser.url"\n' \
    "$T" "$T" "$T" "$T" >"$T/browser.sh"
chmod 700 "$T/browser.sh"
export GUSTO_STORE="$T/browser/connections.db"
STORE_KEY=$(hex 32)
BROWSER="$T/browser.sh" GUSTO_CLIENT_SECRET=$SECRET GUSTO_STORE_KEY=$STORE_KEY LANG=C.UTF-8 \
    XDG_RUNTIME_DIR="$T" GUSTO_OTHER_SETTING=leak "$GUSTO" connect --env "$SB_URL" \
    --client-id ct-app --redirect-uri "$R1" --wait 20 </dev/null >"$T/br.out" 2>"$T/br.err" &
C_PID=$!
track "$C_PID"
i=0
while [ $i -lt 100 ] && ! [ -s "$T/browser.url" ]; do
    sleep 0.1
    i=$((i + 1))
done
BURL=$(cat "$T/browser.url" 2>/dev/null)
consent_get "$BURL"
consent_post allow "$ACME"
callback "$LOCATION"
reap "$C_PID"
check "the browser was started with the authorize URL, and the flow completes" \
    "exit $RC: $(cat "$T/br.out" "$T/br.err")" \
    eval '[ "$RC" = 0 ] && case $BURL in "$SB_URL/oauth/authorize?"*code_challenge=*) true;; *) false;; esac'
check "the browser's environment has no GUSTO_CLIENT_SECRET, GUSTO_STORE_KEY or other GUSTO_*" \
    "$(grep GUSTO "$T/browser.env")" \
    eval '! grep -q "^GUSTO_" "$T/browser.env" && ! grep -qF -e "$SECRET" -e "$STORE_KEY" "$T/browser.env"'
check "but it has what a browser needs (PATH, HOME, LANG, XDG_*)" "$(cat "$T/browser.env")" \
    eval 'grep -q "^PATH=" "$T/browser.env" && grep -q "^HOME=" "$T/browser.env" &&
        grep -q "^LANG=C.UTF-8" "$T/browser.env" && grep -q "^XDG_RUNTIME_DIR=" "$T/browser.env"'
stop "$SB_PID"


# ---- 9. a default connection: use NAME, --connection and GUSTO_CONNECTION ------

start_sandbox dflt --port 0 --apps "$APPS" || summary
export GUSTO_STORE="$T/s9/connections.db"
CSECRET=$SECRET
connect_allow d1 ct-app "$R1" "Acme Demo Co" --name acme
check "connect acme (exit 0)" "exit $RC: $(cat "$C_OUT" "$C_ERR")" eval '[ "$RC" = 0 ]'
connect_allow d2 ct-app "$R1" "Globex Other Inc" --name globex
check "connect globex (exit 0)" "exit $RC: $(cat "$C_OUT" "$C_ERR")" eval '[ "$RC" = 0 ]'
GLOBEX=$(jq -r .data.company_uuid "$C_OUT")
g "$T/amb" api GET /v1/token_info --json
check "two connections, no default: refused, naming both and gusto-connect use NAME" \
    "exit $RC: $(cat "$T/amb")" \
    eval '[ "$RC" != 0 ] && jqe "$T/amb" ".ok == false and (.error.message | contains(\"acme, globex\")) and (.error.hint | contains(\"gusto-connect use NAME\"))"'
g "$T/use0" use --json
check "use alone: no default yet, both connections listed" "exit $RC: $(cat "$T/use0")" \
    eval '[ "$RC" = 0 ] && jqe "$T/use0" ".data.default == null and .data.connections == [\"acme\",\"globex\"]"'
g "$T/usebad" use nosuch --json
check "use of an unknown name exits 4 naming the stored ones" "exit $RC: $(cat "$T/usebad")" \
    eval '[ "$RC" = 4 ] && jqe "$T/usebad" ".ok == false and (.error.hint | contains(\"acme\"))"'
g "$T/use0b" use --json
check "and changed nothing: still no default" "$(cat "$T/use0b")" \
    jqe "$T/use0b" ".data.default == null"
g "$T/use1" use globex --json
check "use globex makes it the default" "exit $RC: $(cat "$T/use1")" \
    eval '[ "$RC" = 0 ] && jqe "$T/use1" ".data.default == \"globex\" and .data.company_uuid == \"$GLOBEX\""'
"$GUSTO" use </dev/null >"$T/use1t" 2>&1
check "use alone prints the default on a terminal-less run too" "$(cat "$T/use1t")" \
    eval 'jqe "$T/use1t" ".data.default == \"globex\""'
g "$T/d_ti" api GET /v1/token_info --json
check "with no name given, commands use the default (globex)" "exit $RC: $(cat "$T/d_ti")" \
    eval '[ "$RC" = 0 ] && jqe "$T/d_ti" ".data.resource.uuid == \"$GLOBEX\""'
g "$T/d_ti2" --connection acme api GET /v1/token_info --json
check "--connection acme overrides the default" "exit $RC: $(cat "$T/d_ti2")" \
    eval '[ "$RC" = 0 ] && jqe "$T/d_ti2" ".data.resource.uuid == \"$ACME\""'
GUSTO_CONNECTION=acme g "$T/d_ti3" api GET /v1/token_info --json
check "GUSTO_CONNECTION=acme overrides the default" "exit $RC: $(cat "$T/d_ti3")" \
    eval '[ "$RC" = 0 ] && jqe "$T/d_ti3" ".data.resource.uuid == \"$ACME\""'
g "$T/d_disc" disconnect --json
check "disconnect with no name forgets the default (globex)" "exit $RC: $(cat "$T/d_disc")" \
    eval '[ "$RC" = 0 ] && jqe "$T/d_disc" ".data.name == \"globex\""'
g "$T/use2" use --json
check "then there is no default, and acme is the only one left" "$(cat "$T/use2")" \
    jqe "$T/use2" ".data.default == null and .data.connections == [\"acme\"]"
g "$T/d_ti4" api GET /v1/token_info --json
check "the only connection is used again" "exit $RC: $(cat "$T/d_ti4")" \
    eval '[ "$RC" = 0 ] && jqe "$T/d_ti4" ".data.resource.uuid == \"$ACME\""'
g "$T/useclr" use acme --json
g "$T/useclr" use --clear --json
check "use --clear: no default" "exit $RC: $(cat "$T/useclr")" \
    eval '[ "$RC" = 0 ] && jqe "$T/useclr" ".data.default == null"'
stop "$SB_PID"


# ---- 10. an --env that contradicts the connection's environment: nothing sent ---
# Sandbox A holds connection "alpha"; sandbox B is another environment that
# must see no request when alpha is used with --env B (positive control: B
# does log a request made with its own token).

start_sandbox envb --port 0 --token tok-b || summary
B_URL=$SB_URL
B_LOG=$SB_LOG
B_PID=$SB_PID
start_sandbox enva --port 0 --apps "$APPS" || summary
A_URL=$SB_URL
A_LOG=$SB_LOG
export GUSTO_STORE="$T/s10/connections.db"
connect_allow e1 ct-app "$R1" "Acme Demo Co" --name alpha
check "connect alpha in A: exit 0, the company's name shown, nothing replaced" \
    "exit $RC: $(cat "$C_OUT" "$C_ERR")" \
    eval '[ "$RC" = 0 ] && jqe "$C_OUT" ".data.company_name == \"Acme Demo Co\" and .data.replaced == false"'
reqs() { grep -cE '^(GET|POST|PUT|PATCH|DELETE) ' "$1"; }
a_before=$(reqs "$A_LOG")
g "$T/mm1" --env "$B_URL" --connection alpha api GET /v1/token_info --json
check "--env B with connection alpha (made in A): exit 2, naming both environments" \
    "exit $RC: $(cat "$T/mm1" "$T/mm1.err")" \
    eval '[ "$RC" = 2 ] && jqe "$T/mm1" ".ok == false and (.error.message | contains(\"$A_URL\")) and (.error.message | contains(\"$B_URL\")) and (.error.hint | contains(\"--env\"))"'
GUSTO_ENV=$B_URL g "$T/mm2" employees list --json
check "GUSTO_ENV=B with the only connection: exit 2, the hint names GUSTO_ENV" \
    "exit $RC: $(cat "$T/mm2")" \
    eval '[ "$RC" = 2 ] && jqe "$T/mm2" ".error.hint | contains(\"GUSTO_ENV=\")"'
g "$T/mm3" --env production --connection alpha api GET /v1/token_info --json
check "--env production with alpha: exit 2, naming https://api.gusto.com and A" \
    "exit $RC: $(cat "$T/mm3")" \
    eval '[ "$RC" = 2 ] && jqe "$T/mm3" "(.error.message | contains(\"https://api.gusto.com\")) and (.error.message | contains(\"$A_URL\"))"'
check "sandbox B saw no request at all, A none either" "B: $(cat "$B_LOG")" \
    eval '[ "$(reqs "$B_LOG")" = 0 ] && [ "$(reqs "$A_LOG")" = "$a_before" ]'
check "alpha's token appears in neither sandbox's log" "" \
    eval '! grep -q "Bearer" "$B_LOG"'
GUSTO_ACCESS_TOKEN=tok-b g "$T/mmb" --env "$B_URL" api GET /v1/token_info --json
check "positive control: a request to B with B's own token is logged by B" \
    "exit $RC: $(cat "$T/mmb")" eval '[ "$RC" = 0 ] && [ "$(reqs "$B_LOG")" = 1 ]'
g "$T/mma" --env "$A_URL" --connection alpha api GET /v1/token_info --json
check "--env naming alpha's own environment is fine (exit 0, sent to A)" \
    "exit $RC: $(cat "$T/mma")" \
    eval '[ "$RC" = 0 ] && [ "$(reqs "$A_LOG")" = "$((a_before + 1))" ]'

# connect: the same name in another environment is refused before the
# consent page; in the same environment it is replaced, and says so.
b_before=$(reqs "$B_LOG")
GUSTO_CLIENT_SECRET=$SECRET "$GUSTO" connect --no-browser --env "$B_URL" --client-id ct-app \
    --name alpha --redirect-uri "$R1" --wait 2 --json </dev/null >"$T/cx1" 2>"$T/cx1.err"
RC=$?
check "connect --name alpha in environment B: exit 2, naming both, suggesting --name or disconnect" \
    "exit $RC: $(cat "$T/cx1" "$T/cx1.err")" \
    eval '[ "$RC" = 2 ] && jqe "$T/cx1" ".error.code == \"connection_exists\" and (.error.message | contains(\"$A_URL\")) and (.error.message | contains(\"$B_URL\")) and (.error.hint | contains(\"--name\")) and (.error.hint | contains(\"disconnect\"))"'
check "and nothing was sent to B, alpha still points at A" "" \
    eval '[ "$(reqs "$B_LOG")" = "$b_before" ] && "$GUSTO" use --json </dev/null | jq -e ".data.connections == [\"alpha\"]" >/dev/null &&
        "$GUSTO" status --json </dev/null | jq -e ".data[0].base_url == \"$A_URL\"" >/dev/null'
connect_allow e2 ct-app "$R1" "Acme Demo Co" --name alpha
check "connect --name alpha again in A: exit 0, replaced true" "exit $RC: $(cat "$C_OUT" "$C_ERR")" \
    eval '[ "$RC" = 0 ] && jqe "$C_OUT" ".data.replaced == true and .data.company_name == \"Acme Demo Co\""'
stop "$SB_PID"
stop "$B_PID"


# ---- 11. disconnect revokes the grant (POST /oauth/revoke), then forgets it -----
# A copy of the store, taken before, still holds the old tokens: after the
# revocation they must get 401 and fail to refresh (positive control: the
# copy works before).

start_sandbox rev --port 0 --apps "$APPS" || summary
REV_LOG=$SB_LOG
REV_PID=$SB_PID
export GUSTO_STORE="$T/s11/connections.db"
connect_allow r1 ct-app "$R1" "Acme Demo Co" --name gone
check "connect gone (exit 0)" "exit $RC: $(cat "$C_OUT" "$C_ERR")" eval '[ "$RC" = 0 ]'
cp -rp "$T/s11" "$T/s11copy"
GUSTO_STORE="$T/s11copy/connections.db" g "$T/rv0" api GET /v1/token_info --json
check "the copy of the store works before disconnect (positive control)" "exit $RC: $(cat "$T/rv0")" \
    eval '[ "$RC" = 0 ]'
g "$T/rv1" disconnect --json
check "disconnect: revoked at Gusto and removed" "exit $RC: $(cat "$T/rv1" "$T/rv1.err")" \
    eval '[ "$RC" = 0 ] && jqe "$T/rv1" ".data.removed == true and .data.revoked == true" &&
        [ "$(grep -c "^POST /oauth/revoke 200" "$REV_LOG")" = 1 ]'
check "the revocation request carried no secret in its URL (the log has none)" "" \
    eval '! grep -qF "$SECRET" "$REV_LOG"'
GUSTO_STORE="$T/s11copy/connections.db" g "$T/rv2" api GET /v1/token_info --json
check "the revoked tokens no longer work: 401, then the refresh is refused (exit 3, reconnect)" \
    "exit $RC: $(cat "$T/rv2")" \
    eval '[ "$RC" = 3 ] && grep -q "^GET /v1/token_info 401" "$REV_LOG" && grep -q "^POST /oauth/token 400" "$REV_LOG"'
g "$T/rv3" use --json
check "and the connection is gone locally" "$(cat "$T/rv3")" jqe "$T/rv3" ".data.connections == []"

connect_allow r2 ct-app "$R1" "Acme Demo Co" --name keep
g "$T/rv4" disconnect --no-revoke --json
check "disconnect --no-revoke: removed, not revoked, nothing sent" "exit $RC: $(cat "$T/rv4")" \
    eval '[ "$RC" = 0 ] && jqe "$T/rv4" ".data.removed == true and .data.revoked == false" &&
        [ "$(grep -c "^POST /oauth/revoke" "$REV_LOG")" = 1 ]'

connect_allow r3 ct-app "$R1" "Acme Demo Co" --name offline
stop "$REV_PID"
g "$T/rv5" disconnect --json
check "Gusto unreachable: still removed locally, the output says it was not revoked" \
    "exit $RC: $(cat "$T/rv5" "$T/rv5.err")" \
    eval '[ "$RC" = 0 ] && jqe "$T/rv5" ".data.removed == true and .data.revoked == false and (.data.revoke_error | length > 0)" &&
        grep -q "removed locally, but Gusto did not revoke" "$T/rv5.err"'
g "$T/rv6" use --json
check "and it is gone" "$(cat "$T/rv6")" jqe "$T/rv6" ".data.connections == []"


# ---- 12. the stores move out of Gusto's own CLI's directories, once -------------
# Old defaults: ~/.config/gusto/connections.db (Gusto's CLI's config dir) and
# ~/.local/share/gusto/mirror.db; new: .../gusto-connect/.

start_sandbox mig --port 0 --apps "$APPS" || summary
H12="$T/h12"
mkdir -p "$H12"
export GUSTO_STORE="$H12/.config/gusto/connections.db"
connect_allow m1 ct-app "$R1" "Acme Demo Co" --name moved
check "a connection saved at the old default place (exit 0)" "exit $RC: $(cat "$C_OUT" "$C_ERR")" \
    eval '[ "$RC" = 0 ] && [ -f "$H12/.config/gusto/connections.db" ] && [ -f "$H12/.config/gusto/connections.db.key" ]'
unset GUSTO_STORE GUSTO_SYNC_DB
mkdir -p "$H12/.local/share/gusto"
printf 'mirror-bytes\n' >"$H12/.local/share/gusto/mirror.db"
HOME=$H12 g "$T/mig1" use --json
check "the first run moves the store and says so, naming both paths" "exit $RC: $(cat "$T/mig1" "$T/mig1.err")" \
    eval '[ "$RC" = 0 ] && grep -qF "moved the connection store from $H12/.config/gusto/connections.db to $H12/.config/gusto-connect/connections.db" "$T/mig1.err"'
check "the connection, its key and all, works from the new place" "$(cat "$T/mig1")" \
    eval 'jqe "$T/mig1" ".data.connections == [\"moved\"]" && HOME=$H12 "$GUSTO" api GET /v1/token_info --json </dev/null | jq -e ".ok" >/dev/null'
check "the old files are gone; the new store is 0600 in a 0700 directory" "$(ls -la "$H12/.config/gusto" "$H12/.config/gusto-connect" 2>&1)" \
    eval '[ ! -e "$H12/.config/gusto/connections.db" ] && [ ! -e "$H12/.config/gusto/connections.db.key" ] &&
        [ "$(stat -c %a "$H12/.config/gusto-connect/connections.db")" = 600 ] &&
        [ "$(stat -c %a "$H12/.config/gusto-connect")" = 700 ]'
check "the sync mirror moved too, unchanged, with a note" "$(cat "$T/mig1.err")" \
    eval 'grep -q "moved the sync mirror from $H12/.local/share/gusto/mirror.db" "$T/mig1.err" &&
        [ "$(cat "$H12/.local/share/gusto-connect/mirror.db")" = mirror-bytes ] && [ ! -e "$H12/.local/share/gusto/mirror.db" ]'
HOME=$H12 g "$T/mig2" use --json
check "the second run moves nothing and says nothing (positive control: it still works)" "$(cat "$T/mig2.err")" \
    eval '[ "$RC" = 0 ] && ! grep -q "moved" "$T/mig2.err" && jqe "$T/mig2" ".data.connections == [\"moved\"]"'
mkdir -p "$H12/.config/gusto"
printf 'not-a-store\n' >"$H12/.config/gusto/connections.db"
HOME=$H12 g "$T/mig3" use --json
check "an old file left beside a new store is never moved over it" "$(cat "$T/mig3" "$T/mig3.err")" \
    eval '[ "$RC" = 0 ] && ! grep -q "moved" "$T/mig3.err" && [ "$(cat "$H12/.config/gusto/connections.db")" = not-a-store ] && jqe "$T/mig3" ".data.connections == [\"moved\"]"'
HOME=$H12 GUSTO_STORE="$H12/explicit.db" g "$T/mig4" status --json
check "an explicit GUSTO_STORE is never moved to (nothing created at the default)" "$(cat "$T/mig4")" \
    eval '[ ! -e "$H12/explicit.db" ] && ! grep -q moved "$T/mig4.err"'
stop "$SB_PID"

fi # CONNECT_ONLY

# ---- 13. the store on PostgreSQL: two HOMEs, one key, one refresh ----------------

# Two machines, as far as the store can tell: each with its own HOME and
# nothing shared but the PostgreSQL URL and the key, given as a file to
# one and in the environment to the other.  The URL carries a password
# (ignored by the server's trust authentication) that must never be shown.
if ! pg_available; then
    not_ok "PostgreSQL's server binaries are installed (scripts/deps.sh: postgresql)"
    summary
fi
pg_start || { not_ok "a PostgreSQL server of our own runs" "$(pg_log)"; summary; }
pg_createdb connstore >/dev/null || { not_ok "database connstore created"; summary; }
PGPW="pw-$(hex 8)"
PGSTORE="postgres://postgres:$PGPW@127.0.0.1:$PGPORT/connstore"
pq() { as_pg psql -At -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d connstore -c "$1" 2>&1; }
HA="$T/pga" HB="$T/pgb"
mkdir -p "$HA" "$HB"
PGKEY=$(hex 32)
(umask 077 && printf '%s\n' "$PGKEY" >"$HA/store.key")
export GUSTO_STORE="$PGSTORE"
# ga/gb OUTFILE ARGS...: gusto-connect on machine A (key file) or B (key in
# the environment); RC set.
ga() { HOME=$HA GUSTO_STORE_KEY_FILE="$HA/store.key" g "$@"; }
gb() { HOME=$HB GUSTO_STORE_KEY=$PGKEY g "$@"; }

start_sandbox pgs --port 0 --apps "$APPS" --access-ttl 66 || summary
CSECRET=$SECRET
HOME=$HA GUSTO_CLIENT_SECRET=$CSECRET "$GUSTO" connect --no-browser --env "$SB_URL" \
    --client-id ct-app --redirect-uri "$R1" --wait 5 --json </dev/null >"$T/pg0" 2>"$T/pg0.err"
RC=$?
check "PostgreSQL store with no key: connect refuses before the consent page, naming store_key" \
    "exit $RC: $(cat "$T/pg0" "$T/pg0.err")" \
    eval '[ "$RC" = 7 ] && jqe "$T/pg0" ".error.details.field == \"store_key\" and (.error.hint | contains(\"openssl rand -hex 32\"))" && ! grep -q "waiting for the redirect" "$T/pg0.err"'
HOME=$HA GUSTO_STORE_KEY_FILE="$HA/nosuch.key" GUSTO_CLIENT_SECRET=$CSECRET "$GUSTO" connect \
    --no-browser --env "$SB_URL" --client-id ct-app --redirect-uri "$R1" --wait 5 --json \
    </dev/null >"$T/pg0b" 2>"$T/pg0b.err"
RC=$?
check "a GUSTO_STORE_KEY_FILE that does not exist is refused, never created" "exit $RC: $(cat "$T/pg0b")" \
    eval '[ "$RC" = 7 ] && jqe "$T/pg0b" ".error.details.field == \"GUSTO_STORE_KEY_FILE\"" && [ ! -e "$HA/nosuch.key" ]'

HOME=$HA GUSTO_STORE_KEY_FILE="$HA/store.key" connect_allow pga ct-app "$R1" "Globex Other Inc" --name globex
GLOBEX=$(option_uuid "Globex Other Inc")
check "connect on machine A saves the connection in PostgreSQL" "exit $RC: $(cat "$C_OUT" "$C_ERR")" \
    eval '[ "$RC" = 0 ] && jqe "$C_OUT" ".data.company_uuid == \"$GLOBEX\"" && [ "$(pq "select count(*) from connections where name = '"'globex'"'")" = 1 ]'
check "the client secret and tokens are sealed in bytea columns (positive control: the name is in clear)" \
    "$(pq "select name, length(secret), length(access) from connections")" \
    eval '[ "$(pq "select count(*) from connections where position(convert_to('"'$SECRET'"', '"'UTF8'"') in secret) = 0 and length(secret) > 28 and length(access) > 28 and name = '"'globex'"'")" = 1 ]'
check "nothing was written beside the store on either machine (no key file, no SQLite file)" \
    "$(find "$HA" "$HB" -type f)" \
    eval '[ "$(find "$HA" "$HB" -type f | grep -v "/store.key$" | grep -c "connections.db")" = 0 ]'

gb "$T/pgb1" status --json
check "machine B (key in the environment) sees the connection" "exit $RC: $(cat "$T/pgb1" "$T/pgb1.err")" \
    eval '[ "$RC" = 0 ] && jqe "$T/pgb1" ".data[0].name == \"globex\" and .data[0].valid == true"'
chmod 644 "$HA/store.key"
ga "$T/pgkr" api GET /v1/token_info --json
chmod 600 "$HA/store.key"
ga "$T/pgkr2" api GET /v1/token_info --json
check "a key file others can read is refused, with a hint to chmod it and not to remove it (control: 0600 works)" \
    "exit $RC: $(cat "$T/pgkr" "$T/pgkr2")" \
    eval 'jqe "$T/pgkr" ".ok == false and (.error.message | test(\"readable by group or others\")) and (.error.hint | test(\"chmod 600\") and test(\"do not remove\"))" && [ "$RC" = 0 ]'
HOME=$HB GUSTO_STORE_KEY=$(hex 32) g "$T/pgw" api GET /v1/token_info --json
check "a wrong key is refused (exit 3, store_key), nothing sent" "exit $RC: $(cat "$T/pgw")" \
    eval '[ "$RC" = 3 ] && jqe "$T/pgw" ".error.reason == \"store_key\" or (.error.message | test(\"cannot be decrypted\"))"'
HOME=$HB GUSTO_STORE_KEY=$(hex 32) GUSTO_CLIENT_SECRET=$CSECRET "$GUSTO" connect --no-browser \
    --env "$SB_URL" --client-id ct-app --redirect-uri "$R1" --wait 5 --json </dev/null \
    >"$T/pgw2" 2>"$T/pgw2.err"
RC=$?
check "connect with another key than the store's is refused before the consent page" \
    "exit $RC: $(cat "$T/pgw2" "$T/pgw2.err")" \
    eval '[ "$RC" = 3 ] && jqe "$T/pgw2" ".error.details.field == \"store_key\" and (.error.hint | contains(\"same on every machine\"))" && ! grep -q "waiting for the redirect" "$T/pgw2.err"'

# 16 processes, 8 on each machine, with a due token: one refresh at the sandbox.
sleep 7
posts_before=$(count_token_posts "" "$SB_LOG")
racer() {
    if [ $(($1 % 2)) = 0 ]; then
        HOME=$HA GUSTO_STORE_KEY_FILE="$HA/store.key" "$GUSTO" api GET /v1/token_info
    else
        HOME=$HB GUSTO_STORE_KEY=$PGKEY "$GUSTO" api GET /v1/token_info
    fi
}
race pgr
check "PostgreSQL race: all 16 processes on two machines exit 0 with Globex's token_info" \
    "$good of 16; e.g. $(cat "$T/pgr.1" "$T/pgr.1.err" "$T/pgr.2.err")" [ "$good" = 16 ]
check "PostgreSQL race: exactly one POST /oauth/token, answered 200" \
    "$(grep '^POST /oauth/token' "$SB_LOG")" \
    eval '[ "$(count_token_posts "" "$SB_LOG")" = $((posts_before + 1)) ] && [ "$(count_token_posts 200 "$SB_LOG")" = 2 ]'
check "PostgreSQL race: no 401 reached any process" "$(grep ' 401 ' "$SB_LOG")" \
    eval '! grep -q "^GET /v1/token_info 401" "$SB_LOG"'
check "the row says one refresh, generation moved once" "$(pq "select refreshes, generation from connections")" \
    eval '[ "$(pq "select refreshes || '"'/'"' || generation from connections where name = '"'globex'"'")" = 1/2 ]'

# Two serve replicas, one per machine, on the same store and (by default,
# the store being a URL) the same database for their keys: a key added on
# A works on B, and 16 calls spread over both with a due token refresh once.
for h in "$HA" "$HB"; do
    printf '{"port": 0, "auto_verify": false, "quiet": true, "shutdown_grace_ms": 5000}\n' \
        >"$h/serve.json"
done
ga "$T/pgk" serve keys add ops --grant globex --config "$HA/serve.json" --json
KEY=$(jq -r .data.key "$T/pgk" 2>/dev/null)
# start_replica TAG HOME ENV...: sets REP_URL, REP_PID
start_replica() {
    sr_tag=$1 sr_home=$2
    shift 2
    env HOME="$sr_home" "$@" "$GUSTO" serve --config "$sr_home/serve.json" \
        </dev/null >"$T/$sr_tag.out" 2>"$T/$sr_tag.err" &
    REP_PID=$!
    track "$REP_PID"
    i=0
    while [ $i -lt 100 ] && ! grep -q '^listening on ' "$T/$sr_tag.out" 2>/dev/null; do
        kill -0 "$REP_PID" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    REP_URL=$(sed -n 's/^listening on //p' "$T/$sr_tag.out" | head -n 1)
}
start_replica pgsa "$HA" GUSTO_STORE_KEY_FILE="$HA/store.key"
RA=$REP_URL PA=$REP_PID
start_replica pgsb "$HB" GUSTO_STORE_KEY="$PGKEY"
RB=$REP_URL PB=$REP_PID
check "two serve replicas start on the store; their database is the store's, shown without its password" \
    "$(cat "$T/pgsa.err" "$T/pgsb.err" "$T/pgk" "$T/pgk.err")" \
    eval '[ -n "$RA" ] && [ -n "$RB" ] && grep -qF "\"database\":\"postgres://postgres:***@127.0.0.1:$PGPORT/connstore\"" "$T/pgsb.err" && [ "$(pq "select count(*) from api_keys where name = '"'ops'"'")" = 1 ]'
sleep 7
posts_before=$(count_token_posts "" "$SB_LOG")
callers=""
i=1
while [ $i -le 16 ]; do
    if [ $((i % 2)) = 0 ]; then u=$RA; else u=$RB; fi
    curl -s -o "$T/pgc.$i" -w '%{http_code}\n' -H "Authorization: Bearer $KEY" \
        -H 'Content-Type: application/json' -X POST --data '{}' \
        "$u/actions/list-employees" >"$T/pgc.$i.code" &
    callers="$callers $!"
    i=$((i + 1))
done
for p in $callers; do wait "$p"; done
good=$(cat "$T"/pgc.*.code | grep -c '^200$')
check "serve race: 16 calls over two replicas, all answered 200 with Globex's employees" \
    "$good of 16; e.g. $(cat "$T/pgc.1" "$T/pgc.2"; tail -n 3 "$T/pgsa.err")" \
    eval '[ "$good" = 16 ] && jqe "$T/pgc.1" ".ok and (.data | length > 0) and all(.data[]; .company_uuid == \"$GLOBEX\")" && jqe "$T/pgc.2" ".ok and all(.data[]; .company_uuid == \"$GLOBEX\")"'
check "serve race: exactly one more POST /oauth/token" "$(grep '^POST /oauth/token' "$SB_LOG")" \
    eval '[ "$(count_token_posts "" "$SB_LOG")" = $((posts_before + 1)) ] && [ "$(pq "select refreshes from connections where name = '"'globex'"'")" = 2 ]'
# Both replicas keep idle store sessions for the next request; a restart
# of PostgreSQL closes them all, and the next calls open fresh ones.
as_pg pg_ctl -D "$PGDIR/data" -m fast -w -t 30 restart \
    -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGDIR -c fsync=off" >/dev/null 2>&1
for u in "$RA" "$RB"; do
    curl -s -o "$T/pgrs" -w '%{http_code}\n' -H "Authorization: Bearer $KEY" \
        -H 'Content-Type: application/json' -X POST --data '{}' "$u/actions/list-employees"
done >"$T/pgrs.codes"
check "after PostgreSQL restarts, both replicas answer 200 again (their kept sessions were replaced)" \
    "$(cat "$T/pgrs.codes" "$T/pgrs"; tail -n 3 "$T/pgsa.err")" \
    eval '[ "$(grep -c "^200$" "$T/pgrs.codes")" = 2 ]'
stop "$PA"
stop "$PB"

# The PostgreSQL paths under valgrind: a due token, so the row lock, the
# refresh through the client's handle and the commit all run.
if command -v valgrind >/dev/null 2>&1 && [ -z "${CONNECT_NO_VALGRIND:-}" ]; then
    sleep 7
    posts_before=$(count_token_posts "" "$SB_LOG")
    HOME=$HA GUSTO_STORE_KEY_FILE="$HA/store.key" valgrind --quiet --error-exitcode=9 \
        --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
        --show-leak-kinds=definite,indirect,possible --log-file="$T/pgvg.log" \
        "$GUSTO" api GET /v1/token_info --json </dev/null >"$T/pgvg" 2>"$T/pgvg.err"
    RC=$?
    check "valgrind: a refresh on the PostgreSQL store, no memory errors and no leaks" \
        "exit $RC: $(head -c 1500 "$T/pgvg.log") $(cat "$T/pgvg.err")" \
        eval '[ "$RC" = 0 ] && [ ! -s "$T/pgvg.log" ] && jqe "$T/pgvg" ".data.resource.uuid == \"$GLOBEX\"" && [ "$(count_token_posts "" "$SB_LOG")" = $((posts_before + 1)) ]'
fi

# Several connections, the default, disconnect: the store's other operations.
HOME=$HB GUSTO_STORE_KEY=$PGKEY connect_allow pgb ct-app "$R1" "Acme Demo Co" --name acme
check "machine B connects a second company into the same store" "exit $RC: $(cat "$C_OUT" "$C_ERR")" \
    eval '[ "$RC" = 0 ] && [ "$(pq "select string_agg(name, '"','"' order by name) from connections")" = acme,globex ]'
ga "$T/pgu0" api GET /v1/token_info --json
check "two connections and no default: refused, naming both" "exit $RC: $(cat "$T/pgu0")" \
    eval '[ "$RC" != 0 ] && jqe "$T/pgu0" ".error.message | contains(\"acme, globex\")"'
gb "$T/pgu1" use globex --json
ga "$T/pgu2" api GET /v1/token_info --json
check "use globex on machine B is the default on machine A" "exit $RC: $(cat "$T/pgu1" "$T/pgu2")" \
    eval '[ "$RC" = 0 ] && jqe "$T/pgu2" ".data.resource.uuid == \"$GLOBEX\""'
ga "$T/pgd" disconnect --connection acme --json
gb "$T/pgs2" status --json
check "disconnect on A removes acme for B too; globex stays" "exit $RC: $(cat "$T/pgd" "$T/pgs2")" \
    eval '[ "$RC" = 0 ] && jqe "$T/pgs2" "[.data[].name] == [\"globex\"]"'

# The store unreachable: a clear error naming it, with no password.
stop "$SB_PID"
HOME=$HA GUSTO_STORE_KEY=$PGKEY GUSTO_STORE="postgres://postgres:$PGPW@127.0.0.1:$(free_port)/connstore" \
    g "$T/pgdown" api GET /v1/token_info --json
check "an unreachable store: exit 6, the error names the store without its password" \
    "exit $RC: $(cat "$T/pgdown")" \
    eval '[ "$RC" = 6 ] && jqe "$T/pgdown" ".error.details.field == \"store\" and (.error.message | contains(\"postgres://postgres:***@127.0.0.1:\"))"'
check "the store's password appears in no output of this section (positive control: the URL was used)" \
    "$(grep -l "$PGPW" "$T"/pg* 2>/dev/null)" \
    eval '! cat "$T"/pg* "$T"/pga.* "$T"/pgb.* 2>/dev/null | grep -qF "$PGPW" && grep -q "postgres:\*\*\*@" "$T/pgdown"'
unset GUSTO_STORE

summary
