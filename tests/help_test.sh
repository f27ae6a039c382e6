#!/bin/sh
# help_test.sh - finding your way: `gusto-connect` alone and `version`, every
# help path the tool names (walked from the top-level help), "did you mean"
# for commands, subcommands, options and help topics, and completion for
# bash, zsh and fish (commands, options, values, stored connection names),
# each shell driven through its own script in completions/.
# HELP_SHELLS_OPTIONAL=1 (make check) skips zsh and fish when they are not
# installed; make test installs them (scripts/deps.sh).
set -u
cd "$(dirname "$0")/.."
. tests/common.sh

# ---- no command, version ----
"$GUSTO" >"$T/none.out" 2>"$T/none.err"
rc=$?
check "gusto-connect alone exits 0" [ "$rc" = 0 ]
check "gusto-connect alone prints the usage on stdout" grep -q '^Usage: gusto-connect' "$T/none.out"
check "gusto-connect alone lists the commands" grep -q '^  employees list' "$T/none.out"
check "gusto-connect alone prints no error" [ ! -s "$T/none.err" ]

hv=$(sed -n 's/^#define GUSTO_VERSION "\(.*\)"/\1/p' include/gusto.h)
"$GUSTO" version --json >"$T/v.json" 2>&1
check "version --json gives the version of gusto.h ($hv)" \
    [ "$(jq -r '.ok,.data.version' "$T/v.json" 2>/dev/null | tr '\n' ' ')" = "true $hv " ]
check "version --json gives the default API version" \
    jq -e '.data.api_version | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")' "$T/v.json" >/dev/null
script -qec "$GUSTO version" /dev/null >"$T/v.tty" 2>&1
check "version on a terminal is one line: gusto-connect $hv" grep -q "^gusto-connect $hv " "$T/v.tty"
check "--version prints the same line as version" \
    [ "$("$GUSTO" --version)" = "$(tr -d '\r' <"$T/v.tty")" ]

# ---- every help path the tool names ----
# Topics: the top-level commands, and every "gusto-connect help WORDS" and
# usage line "gusto-connect WORDS" any help text names, followed to the end.
echo "" >"$T/todo"
: >"$T/seen"
walked=0
while [ -s "$T/todo" ]; do
    topic=$(head -n 1 "$T/todo")
    sed -i 1d "$T/todo"
    grep -qxF -- "[$topic]" "$T/seen" && continue
    echo "[$topic]" >>"$T/seen"
    walked=$((walked + 1))
    # shellcheck disable=SC2086  # the topic's words are separate arguments
    if ! "$GUSTO" help $topic >"$T/h.out" 2>"$T/h.err"; then
        not_ok "help '$topic' works" "$(cat "$T/h.err")"
        continue
    fi
    # shellcheck disable=SC2086
    if [ -n "$topic" ] && ! "$GUSTO" $topic --help >"$T/h2.out" 2>&1; then
        not_ok "'$topic --help' works" "$(head -3 "$T/h2.out")"
    fi
    # Words after "gusto-connect help" or at the start of "gusto-connect ..."
    # usage lines and command-list lines, while they are lowercase words.
    {
        grep -o "gusto-connect help [a-z][a-z -]*" "$T/h.out" | sed 's/^gusto-connect help //'
        sed -n 's/^ *\(Usage: \)\{0,1\}gusto-connect \([a-z][a-z -]*\).*/\2/p' "$T/h.out"
        [ -z "$topic" ] && sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\( [a-z][a-z-]*\)\{0,1\}\) .*/\1/p' "$T/h.out"
    } | sed 's/ *$//; s/ [A-Z].*//' | while read -r words; do
        # Keep the longest prefix that is a topic: "serve keys add NAME" -> "serve keys add".
        try=""
        best=""
        for w in $words; do
            case $w in [a-z]*) ;; *) break ;; esac
            try="${try:+$try }$w"
            # shellcheck disable=SC2086
            "$GUSTO" help $try >/dev/null 2>&1 && best=$try
        done
        [ -n "$best" ] && echo "$best"
    done >>"$T/todo"
done
check "the help walk reached every command ($walked topics)" [ "$walked" -ge 25 ]
for t in "employees create" "batch status" "serve keys" "serve connections remove" sync version; do
    check "the help walk reached '$t'" grep -qxF "[$t]" "$T/seen"
done
"$GUSTO" help serve keys >"$T/sk" 2>&1
check "help serve keys works (it once failed)" grep -q '^Usage: gusto-connect serve keys add' "$T/sk"

# ---- did you mean ----
dym() { # dym NAME EXPECT ARGS...: exit 2 and the suggestion on stderr
    name=$1; want=$2; shift 2
    "$GUSTO" "$@" >"$T/d.out" 2>"$T/d.err"
    rc=$?
    if [ "$rc" = 2 ] && grep -qF "did you mean '$want'" "$T/d.err"; then ok "$name"
    else not_ok "$name" "exit $rc: $(cat "$T/d.err")"; fi
}
dym "an unknown command gets a suggestion" employees emplyees list
dym "a near-miss of time-off gets it" time-off timeoff UUID
dym "an unknown subcommand gets one" list employees lst
dym "batch's unknown subcommand gets one" status batch stauts
dym "serve's unknown subcommand gets one" keys serve kyes list
dym "an unknown option gets one" --search employees list --serch x
dym "an unknown global option gets one" --company --compnay x status
dym "an unknown help topic gets one" "employees list" help employees lsit
"$GUSTO" frobnicate >/dev/null 2>"$T/d.err"
check "a word far from every command gets no suggestion, but the list" \
    sh -c "! grep -q 'did you mean' '$T/d.err' && grep -q 'expected employees' '$T/d.err'"

# ---- completion: the program's answers ----
export GUSTO_STORE_KEY=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
GUSTO_ACCESS_TOKEN=tok-S3cr3t-x "$GUSTO" serve connections add acme-prod --base-url http://127.0.0.1:9 \
    --company 00000000-0000-0000-0000-000000000001 --json >/dev/null 2>&1 ||
    bail "could not store a connection to complete"
GUSTO_ACCESS_TOKEN=tok-S3cr3t-x "$GUSTO" serve connections add globex --base-url http://127.0.0.1:9 \
    --company 00000000-0000-0000-0000-000000000002 --json >/dev/null 2>&1
comp() { "$GUSTO" __complete "$@" 2>&1 | tr '\n' ' '; }
has() { # has NAME OUTPUT WORD...: every WORD is among OUTPUT's words
    name=$1; out=" $2"; shift 2
    for w in "$@"; do
        case "$out" in *" $w "*) ;; *) not_ok "$name" "no '$w' in:$out"; return ;; esac
    done
    ok "$name"
}
has "commands complete" "$(comp '')" employees batch time-off api connect status sync serve version help
has "a prefix completes to its command" "$(comp em)" employees
check "a prefix offers nothing else" [ "$(comp em)" = "employees " ]
has "subcommands complete" "$(comp employees '')" list create get update
has "serve keys' subcommands complete" "$(comp serve keys '')" add list remove
has "a command's options come from its own table" "$(comp employees list --)" --search --terminated --active --include --help --env --connection
has "an option's choices complete" "$(comp time-off UUID --type '')" vacation sick all
has "--env's values complete" "$(comp --env '')" demo production sandbox
has "--output's values complete" "$(comp employees list --output '')" json table ndjson wide
has "stored connection names complete after --connection" "$(comp status --connection '')" acme-prod globex
has "after --connection, a prefix picks one" "$(comp --connection gl)" globex
check "after --connection gl, only globex" [ "$(comp --connection gl)" = "globex " ]
has "serve connections remove completes names" "$(comp serve connections remove '')" acme-prod globex
has "--grant completes names and *" "$(comp serve keys add k --grant '')" acme-prod globex '*'
has "file options ask the shell for files" "$(comp batch create --input '')" - :file
has "help completes topics" "$(comp help serve '')" keys connections
case "$(comp connect --)" in *--client-secret\ *) not_ok "a refused option is not offered" ;;
    *--client-id*) ok "a refused option is not offered (--client-secret), others are" ;;
    *) not_ok "a refused option is not offered: connect's options missing" ;; esac
# Every option a command's help names is one completion offers, and back.
for t in "employees list" "employees create" "employees update" "batch create" "time-off" api \
         connect sync profile serve "serve keys" "serve connections"; do
    # shellcheck disable=SC2086
    "$GUSTO" help $t | awk '/^Usage:/{u=1; print; next} u && (/^$/ || /^ *gusto-connect /){exit} u' | grep -o -- '--[a-z][a-z-]*' | sort -u >"$T/hopt"
    # shellcheck disable=SC2086
    "$GUSTO" __complete $t -- 2>/dev/null | grep -- '^--' | sort -u >"$T/copt"
    missing=$(comm -23 "$T/hopt" "$T/copt" | tr '\n' ' ')
    [ -s "$T/hopt" ] && [ -z "$missing" ] && ok "completion offers every option help gives for '$t'" ||
        not_ok "completion offers every option help gives for '$t'" "missing: $missing"
done
"$GUSTO" __complete --connection "" >"$T/copt" 2>&1
lacks F S3cr3t "$T/copt" && ok "completion output holds no token" || not_ok "completion output holds no token"

# ---- the shells, through their scripts ----
bash -c '
    . completions/gusto-connect.bash
    COMP_WORDS=("$1" employees l); COMP_CWORD=2; _gusto_connect; echo "${COMPREPLY[*]}"
    COMP_WORDS=("$1" --connection ""); COMP_CWORD=2; _gusto_connect; echo "${COMPREPLY[*]}"
' _ "$GUSTO" >"$T/bash.out" 2>&1
check "bash: employees l<TAB> is list" [ "$(sed -n 1p "$T/bash.out")" = list ]
check "bash: --connection <TAB> lists connections" [ "$(sed -n 2p "$T/bash.out")" = "acme-prod globex" ]

shell_or_skip() {
    if command -v "$1" >/dev/null 2>&1; then return 0; fi
    if [ -n "${HELP_SHELLS_OPTIONAL:-}" ]; then echo "# $1 is not installed: skipped"; return 1; fi
    not_ok "$1 is installed (scripts/deps.sh installs it)"
    return 1
}
if shell_or_skip zsh; then
    # zsh's completion system needs a terminal; drive the function with
    # compadd and _files standing in, and the words zsh would pass.
    zsh -c '
        compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }
        _files() { print FILES; }
        words=("$1" serve keys ""); CURRENT=4
        source completions/_gusto-connect
        words=("$1" --connection a); CURRENT=3
        source completions/_gusto-connect
        words=("$1" batch create --input ""); CURRENT=5
        source completions/_gusto-connect
    ' _ "$GUSTO" >"$T/zsh.out" 2>&1
    check "zsh: serve keys <TAB> offers add list remove" \
        [ "$(sed -n 1,3p "$T/zsh.out" | tr '\n' ' ')" = "add list remove " ]
    check "zsh: --connection a<TAB> is acme-prod" [ "$(sed -n 4p "$T/zsh.out")" = acme-prod ]
    check "zsh: --input <TAB> offers - and files" [ "$(sed -n 5,6p "$T/zsh.out" | tr '\n' ' ')" = "- FILES " ]
    check "zsh -n parses the script" zsh -n completions/_gusto-connect
fi
if shell_or_skip fish; then
    PATH="$(dirname "$GUSTO"):$PATH" fish --no-config -c '
        source completions/gusto-connect.fish
        complete -C "gusto-connect employees "
        echo ---
        complete -C "gusto-connect --connection g"
        echo ---
        complete -C "gusto-connect employees list --se"
    ' >"$T/fish.out" 2>&1
    check "fish: employees <TAB> offers the subcommands" \
        [ "$(sed -n '1,/^---$/p' "$T/fish.out" | grep -v -- --- | cut -f1 | sort | tr '\n' ' ')" = "create get list update " ]
    check "fish: --connection g<TAB> is globex" \
        [ "$(sed -n '/^---$/,/^---$/p' "$T/fish.out" | grep -v -- --- | cut -f1)" = globex ]
    check "fish: --se<TAB> is --search" [ "$(sed '1,/^---$/d' "$T/fish.out" | sed '1,/^---$/d' | cut -f1)" = --search ]
fi

finish
