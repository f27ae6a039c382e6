# oauthflow.sh - `gusto-connect connect` driven through gusto-sandbox's
# consent page with curl instead of a browser, for the stages and benches
# that need a real OAuth connection (tests/connect_test.sh,
# bench/refresh_storm.sh).
# shellcheck shell=sh
# Source it after tests/procs.sh (track, untrack, stop).  Uses T (a scratch
# directory), GUSTO (the gusto-connect binary), SB_URL (the sandbox), and
# CSECRET (the app's client secret) or CSECRET_STDIN (a file holding it).

# reap PID: wait for it; sets RC.
reap() {
    wait "$1"
    RC=$?
    untrack "$1"
}

# start_connect TAG CLIENT_ID REDIRECT_URI [ARGS...]: gusto-connect connect in the
# background, the secret from $CSECRET in GUSTO_CLIENT_SECRET (or, with
# CSECRET_STDIN=FILE, --client-secret-stdin from that file).  Waits for the
# authorize URL.  Sets C_PID, C_OUT, C_ERR, AUTH_URL, STATE.
start_connect() {
    tag=$1
    cid=$2
    redir=$3
    shift 3
    C_OUT="$T/$tag.cout"
    C_ERR="$T/$tag.cerr"
    if [ -n "${CSECRET_STDIN:-}" ]; then
        "$GUSTO" connect --no-browser --env "$SB_URL" --client-id "$cid" \
            --redirect-uri "$redir" --wait "${WAIT:-20}" --client-secret-stdin "$@" \
            <"$CSECRET_STDIN" >"$C_OUT" 2>"$C_ERR" &
    else
        GUSTO_CLIENT_SECRET=$CSECRET "$GUSTO" connect --no-browser --env "$SB_URL" \
            --client-id "$cid" --redirect-uri "$redir" --wait "${WAIT:-20}" "$@" \
            </dev/null >"$C_OUT" 2>"$C_ERR" &
    fi
    C_PID=$!
    track "$C_PID"
    i=0
    while [ $i -lt 100 ] && ! grep -q 'waiting for the redirect' "$C_ERR" 2>/dev/null; do
        kill -0 "$C_PID" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    AUTH_URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*/oauth/authorize?[^ ]*' "$C_ERR" | head -n 1)
    STATE=$(printf '%s' "$AUTH_URL" | sed -n 's/.*[?&]state=\([^&]*\).*/\1/p')
    [ -n "$AUTH_URL" ]
}

# consent_get URL: the consent page into $T/consent.html; sets HTTP, PAGE_LOC.
consent_get() {
    r=$(curl -s -o "$T/consent.html" -w '%{http_code} %{redirect_url}' "$1")
    HTTP=${r%% *}
    PAGE_LOC=${r#* }
}
# option_uuid LABEL: the company option's value on the consent page.
option_uuid() {
    sed -n "s/.*<option value=\"\\([^\"]*\\)\"[^>]*>$1<.*/\\1/p" "$T/consent.html" | head -n 1
}
# consent_post DECISION COMPANY: submit the form as a browser would (every
# hidden field, the company, the button); sets HTTP and LOCATION.
consent_post() {
    decision=$1
    company=$2
    fields=$(sed -n 's/.*<input type="hidden" name="\([^"]*\)" value="\([^"]*\)">.*/\1=\2/p' \
        "$T/consent.html")
    set --
    while IFS= read -r kv; do
        [ -n "$kv" ] && set -- "$@" --data-urlencode "$kv"
    done <<EOF
$fields
EOF
    r=$(curl -s -o "$T/post.html" -w '%{http_code} %{redirect_url}' "$@" \
        --data-urlencode "company=$company" --data-urlencode "decision=$decision" \
        "$SB_URL/oauth/authorize")
    HTTP=${r%% *}
    LOCATION=${r#* }
}
# callback URL: what the browser does with the redirect; sets CB_HTTP, page in $T/cb.html.
callback() {
    CB_HTTP=$(curl -s -o "$T/cb.html" -w '%{http_code}' --max-time 10 "$1")
}
# connect_allow TAG CLIENT_ID REDIRECT_URI COMPANY_LABEL [ARGS...]: a whole
# Allow round trip; sets RC (the connect's exit status) and C_OUT.
connect_allow() {
    ca_tag=$1
    ca_cid=$2
    ca_redir=$3
    ca_label=$4
    shift 4
    RC=99
    start_connect "$ca_tag" "$ca_cid" "$ca_redir" "$@" || { stop "$C_PID"; return 1; }
    consent_get "$AUTH_URL"
    consent_post allow "$(option_uuid "$ca_label")"
    callback "$LOCATION"
    reap "$C_PID"
}
