#!/bin/sh
# tty_test.sh - gusto-connect on a pseudo-terminal (script -qec, util-linux) at
# 80 and 160 columns against a sandbox with long and wide (CJK) names: every
# table line and every progress-bar redraw fits the width (ANSI stripped,
# measured in display columns), NO_COLOR and --no-color remove colour (which
# is there without them), and --output, --fields, ndjson, --limit and
# --cursor round-trip; a list failing half-way ends in one "ok":false.
#
# Environment: GUSTO, GUSTO_SANDBOX (see tests/common.sh).  Needs script(1),
# jq and GNU wc (-L).  Prints "ok - NAME" per check and "N passed, N failed".
# shellcheck disable=SC2016  # eval'd checks: single quotes on purpose
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/common.sh

TOKEN=tty-test-token-4b81
export LC_ALL=C.UTF-8
unset NO_COLOR COLUMNS

command -v script >/dev/null 2>&1 || bail "script(1) (util-linux) is missing"
command -v jq >/dev/null 2>&1 || bail "jq is missing"
sb_start main -- --seed demo --token "$TOKEN" --rate-limit 0 || bail "the sandbox did not start"
export GUSTO_ACCESS_TOKEN=$TOKEN
G="$GUSTO --env $URL --company $COMPANY"

# Long names, and double-width ones, that no 80-column row can hold.
printf '%s' '{"first_name":"Maximiliana-Josephine-Alexandria","last_name":"Featherstonehaugh-Wolfeschlegelsteinhausen","email":"max.long@example.com"}' >"$T/long.json"
printf '%s' '{"first_name":"花子花子花子花子花子","last_name":"山田山田山田山田山田山田山田","email":"hanako@example.com"}' >"$T/wide.json"
$G employees create --input "$T/long.json" >"$T/c1" 2>&1 &&
    $G employees create --input "$T/wide.json" >"$T/c2" 2>&1 || bail "could not create the long-named employees"
TOTAL=$($G employees list | jq '.data | length')

# tty NAME COLS COMMAND: run COMMAND (a shell string) on a pseudo-terminal of
# COLS columns; its output (stdout and stderr, as a terminal shows them)
# lands in $T/NAME.raw, and with \r as a line break and ANSI escapes
# stripped in $T/NAME.txt.
tty() {
    script -qec "stty cols $2 rows 50 2>/dev/null; $3" /dev/null </dev/null >"$T/$1.raw" 2>&1
    tty_rc=$?
    tr '\r' '\n' <"$T/$1.raw" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' >"$T/$1.txt"
}
# widest FILE: the display width of FILE's widest line.
widest() { wc -L <"$1"; }
# bars FILE: the progress-bar redraws in FILE.
bars() { grep -E '\[[#-]{10,}\]' "$1" >"$1.bars"; [ -s "$1.bars" ] && cat "$1.bars"; }
fits() { [ "$(widest "$1")" -le "$2" ]; }

# ---- tables fit the terminal ---------------------------------------------------
for cols in 80 160; do
    tty list$cols "$cols" "$G employees list"
    check "at $cols columns (TIOCGWINSZ) employees list exits 0 with every employee" \
        eval '[ $tty_rc = 0 ] && grep -q "^$TOTAL employees" "$T/list$cols.txt"'
    check "at $cols columns no table line is wider than $cols (widest $(widest "$T/list$cols.txt"))" \
        fits "$T/list$cols.txt" "$cols"
    check "at $cols columns each employee is one line (no row wraps)" \
        eval '[ "$(grep -cE "^[0-9a-f]{8}-[0-9a-f]{4}-" "$T/list$cols.txt")" = "$TOTAL" ]'
    check "at $cols columns a long name is cut with an ellipsis" \
        grep -q "Maximiliana.*…" "$T/list$cols.txt"
    check "at $cols columns the double-width name shows, cut on a character" \
        grep -q "花子" "$T/list$cols.txt"
    tty env$cols 200 "COLUMNS=$cols $G employees list"
    check "COLUMNS=$cols wins over the terminal's 200" \
        eval 'fits "$T/env$cols.txt" $cols && [ "$(widest "$T/env$cols.txt")" -gt $((cols - 12)) ]'
done
check "a wider terminal shows more (160 columns: the department)" \
    eval 'grep -q DEPARTMENT "$T/list160.txt"'
tty wide80 80 "$G --output wide employees list --search Featherstonehaugh"
check "--output wide shows every column and cuts nothing" \
    eval 'grep -q "Featherstonehaugh-Wolfeschlegelsteinhausen" "$T/wide80.txt" && grep -q "WORK EMAIL" "$T/wide80.txt" && ! grep -q "…" "$T/wide80.txt"'
tty time80 80 "$G time-off \$($G employees list --limit 1 | jq -r '.data[0].uuid')"
check "time-off's tables fit 80 columns" eval 'grep -q POLICY "$T/time80.txt" && fits "$T/time80.txt" 80'

# ---- a table on a pipe -----------------------------------------------------------
$G --output table employees list >"$T/pipe.txt" 2>"$T/pipe.err"
check "--output table on a pipe is a table, not cut" \
    eval 'grep -q "^UUID" "$T/pipe.txt" && grep -q "Featherstonehaugh-Wolfeschlegelsteinhausen" "$T/pipe.txt" && [ "$(widest "$T/pipe.txt")" -gt 80 ]'
COLUMNS=80 $G --output table employees list >"$T/pipe80.txt"
check "--output table on a pipe with COLUMNS=80 fits 80" \
    eval 'grep -q "^UUID" "$T/pipe80.txt" && fits "$T/pipe80.txt" 80'
check "a table on a pipe has no colour" lacks F "$(printf '\033[')" "$T/pipe.txt"

# ---- colour ----------------------------------------------------------------------------
check "on a terminal the header is bold and the status coloured (the control)" \
    eval 'grep -q "$(printf "\033\\[1m")UUID" "$T/list80.raw" && grep -q "$(printf "\033\\[32m")active" "$T/list80.raw"'
tty nocolor 80 "NO_COLOR=1 $G employees list"
check "NO_COLOR=1 removes every escape" \
    eval 'grep -q "^UUID" "$T/nocolor.raw" && lacks F "$(printf "\033")" "$T/nocolor.raw"'
tty nocolor2 80 "$G --no-color employees list"
check "--no-color removes every escape" \
    eval 'grep -q "^UUID" "$T/nocolor2.raw" && lacks F "$(printf "\033")" "$T/nocolor2.raw"'
tty emptycolor 80 "NO_COLOR= $G employees list"
check "an empty NO_COLOR keeps colour (no-color.org: only a non-empty value)" \
    grep -q "$(printf '\033')\[1m" "$T/emptycolor.raw"

# ---- the progress bar ---------------------------------------------------------------
sb_start slow -- --seed demo --seed-employees 400 --token "$TOKEN" --rate-limit 0 \
    --faults 'delay:1.0@350' || bail "the slow sandbox did not start"
SLOW=$URL
SLOWC=$COMPANY
GS="$GUSTO --env $SLOW --company $SLOWC"
for cols in 80 160; do
    tty bar$cols "$cols" "$GS employees list"
    check "at $cols columns a long list draws a bar (label, counts) on stderr" \
        eval '[ $tty_rc = 0 ] && grep -qE "^employees \[[#-]+\] [0-9]+" "$T/bar$cols.txt"'
    check "at $cols columns every redraw of the bar fits (widest $(widest "$T/bar$cols.txt"))" \
        fits "$T/bar$cols.txt" "$cols"
    check "at $cols columns the bar is erased before each table row (never shares a line)" \
        eval 'grep -aq "$(printf "\r\033")\[K[0-9a-f]\{8\}-" "$T/bar$cols.raw" && ! grep -qE "\] [0-9].*([0-9a-f]{8}-|UUID|employees$)" "$T/bar$cols.txt"'
done
check "the bar shows a rate once a second has gone" grep -qE '[0-9.]+/s' "$T/bar80.txt"
tty barq 80 "$GS --quiet employees list"
check "--quiet draws no bar" eval '[ $tty_rc = 0 ] && ! grep -q "^employees \[" "$T/barq.txt" && grep -q "^UUID" "$T/barq.txt"'
$GS --output table employees list >"$T/barpipe.out" 2>"$T/barpipe.err"
check "no bar when stderr is not a terminal" \
    eval 'grep -q "^UUID" "$T/barpipe.out" && ! grep -q "employees \[" "$T/barpipe.err"'
tty barlimit 80 "$GS employees list --limit 390"
check "with --limit the bar counts against the limit" grep -qE '[0-9]+/390' "$T/barlimit.txt"
# Gusto's rate limit: 429s with Retry-After are waited out, and said so.
sb_start r429 -- --seed demo --seed-employees 300 --token "$TOKEN" --rate-limit 0 \
    --faults '429:0.5' --fault-seed 3 || bail "the 429 sandbox did not start"
tty wait80 80 "$GUSTO --env $URL --company $COMPANY --retries 20 employees list"
check "a rate-limit wait shows as 'waiting Ns for Gusto's rate limit'" \
    eval '[ $tty_rc = 0 ] && grep -qE "waiting [0-9]+s for Gusto.s rate limit" "$T/wait80.txt"'
check "the bar with its wait still fits 80 columns" fits "$T/wait80.txt" 80
# sync's bar, the same helper.
tty sync80 80 "GUSTO_API_BASE_URL=$SLOW $GUSTO sync --db $T/sync.db"
check "sync's bar draws and each redraw fits 80 columns" \
    eval '[ $tty_rc = 0 ] && grep -q "page 2, " "$T/sync80.txt" && bars "$T/sync80.txt" >/dev/null && fits "$T/sync80.txt.bars" 80'
tty sync160 160 "GUSTO_API_BASE_URL=$SLOW $GUSTO sync --db $T/sync160.db"
check "sync's bar fits 160 columns" \
    eval '[ $tty_rc = 0 ] && bars "$T/sync160.txt" >/dev/null && fits "$T/sync160.txt.bars" 160'

# batch --wait's bar, the same helper.
# 5,000 people: the sandbox takes about half a second, so the wait polls.
jq -n '{batch_action: "create", batch: [range(5000) | {entity_type: "employee",
    person: {external_id: "tty-\(.)", first_name: "Ada", last_name: "Batchworth\(.)"}}]}' >"$T/batch.json"
sb_start batch -- --seed demo --token "$TOKEN" --rate-limit 0 || bail "the batch sandbox did not start"
tty batch80 80 "$GUSTO --env $URL --company $COMPANY batch create --input $T/batch.json --wait"
check "batch --wait draws its bar (people done of submitted), fitting 80 columns" \
    eval '[ $tty_rc = 0 ] && grep -qE "^batch \[[#-]+\] [0-9]+" "$T/batch80.txt" && grep -q "5000 of 5000 people created" "$T/batch80.txt" && bars "$T/batch80.txt" >/dev/null && fits "$T/batch80.txt.bars" 80'

# ---- --output, --fields, ndjson, --limit and --cursor ----------------------------------
$G employees list | jq -r '.data[].uuid' >"$T/all.ids"
: >"$T/paged.ids"
cur=""
pages=0
while [ $pages -lt 30 ]; do
    $G employees list --limit 7 ${cur:+--cursor "$cur"} >"$T/page.json" || break
    jq -r '.data[].uuid' "$T/page.json" >>"$T/paged.ids"
    pages=$((pages + 1))
    cur=$(jq -r '.next_cursor // empty' "$T/page.json")
    [ -n "$cur" ] || break
done
check "--limit 7 and next_cursor page through everyone once, in order ($pages pages)" \
    eval '[ -s "$T/all.ids" ] && cmp -s "$T/all.ids" "$T/paged.ids" && [ $pages = $(((TOTAL + 6) / 7)) ]'
check "the last page's next_cursor is null" eval 'jq -e ".next_cursor == null and .ok == true" "$T/page.json" >/dev/null'
$G employees list --output ndjson >"$T/all.ndjson"
check "--output ndjson: one employee object per line" \
    eval '[ "$(wc -l <"$T/all.ndjson")" = "$TOTAL" ] && jq -se "all(.uuid)" "$T/all.ndjson" >/dev/null'
$G --output ndjson employees list --limit 5 >"$T/nd5" 2>"$T/nd5.err"
ndcur=$(sed -n 's/.*--cursor \([^ ]*\)$/\1/p' "$T/nd5.err")
$G --output ndjson employees list --limit 5 --cursor "$ndcur" >"$T/nd5b" 2>/dev/null
check "ndjson --limit names the next cursor on stderr, and it continues" \
    eval '[ "$(wc -l <"$T/nd5")" = 5 ] && [ "$(cat "$T/nd5" "$T/nd5b" | jq -r .uuid)" = "$(head -n 10 "$T/all.ids")" ]'
tty tlimit 80 "$G employees list --limit 4"
check "a table with --limit says how to get the next page" \
    grep -q "run the same command with --cursor v1\." "$T/tlimit.txt"
$G employees list --fields uuid,name,status --limit 3 >"$T/f.json"
check "--fields picks the JSON keys, in order" \
    eval 'jq -e "[.data[] | keys_unsorted] == [[\"uuid\",\"name\",\"status\"],[\"uuid\",\"name\",\"status\"],[\"uuid\",\"name\",\"status\"]]" "$T/f.json" >/dev/null'
$G --output table --fields name,status employees list --limit 2 >"$T/f.txt" 2>/dev/null
check "--fields picks the table's columns" eval 'head -n 1 "$T/f.txt" | grep -qE "^NAME +STATUS$"'
$G --json employees list --limit 2 >"$T/alias.json"
$G --output json employees list --limit 2 >"$T/out.json"
check "--json is --output json" eval 'cmp -s "$T/alias.json" "$T/out.json" && jq -e .ok "$T/out.json" >/dev/null'
$G --fields uuid,nme employees list >"$T/bad.out" 2>"$T/bad.err"
rc=$?
check "an unknown field is refused (exit 2), named, with a suggestion and the valid ones" \
    eval '[ $rc = 2 ] && grep -q "unknown field .nme." "$T/bad.err" && grep -q "did you mean .name." "$T/bad.err" && grep -q "valid fields: uuid, name" "$T/bad.err"'
$G --output yaml employees list >/dev/null 2>"$T/badout.err"
rc=$?
check "--output yaml is refused naming the choices" eval '[ $rc = 2 ] && grep -q "json, table, ndjson or wide" "$T/badout.err"'
first=$($G employees list --limit 7 | jq -r .next_cursor)
$G employees list --search Ali --cursor "$first" >/dev/null 2>"$T/othercur.err"
rc2=$?
check "a cursor of a list with other filters is refused" \
    eval '[ $rc2 = 2 ] && grep -q "other filters" "$T/othercur.err"'
$G employees list --cursor v9.zz >/dev/null 2>"$T/junk.err"
rc=$?
check "a cursor that is not one is refused" eval '[ $rc = 2 ] && grep -q "not a next cursor" "$T/junk.err"'
$G employees list --all --limit 3 >/dev/null 2>"$T/all.err"
rc=$?
check "--all with --limit is refused" eval '[ $rc = 2 ] && grep -q "excludes" "$T/all.err"'
$G employees list --limit 0 >/dev/null 2>"$T/l0.err"
rc=$?
check "--limit 0 is refused" eval '[ $rc = 2 ] && grep -q "from 1 to" "$T/l0.err"'

# ---- a list that fails half-way ------------------------------------------------------
found=0
for seed in 1 2 3 4 5 6 7 8 9 10 11 12; do
    sb_start faulty$seed -- --seed demo --seed-employees 300 --token "$TOKEN" --rate-limit 0 \
        --faults 500:0.3 --fault-seed "$seed" || continue
    GF="$GUSTO --env $URL --company $COMPANY --retries 0"
    $GF employees list >"$T/half.json" 2>/dev/null
    rc=$?
    sb_stop "$SB_PID"
    if [ $rc -ne 0 ] && [ "$(jq '.data | length' "$T/half.json" 2>/dev/null || echo 0)" -gt 0 ]; then
        found=$seed
        break
    fi
done
check "a listing failing half-way is found (seed $found)" [ "$found" != 0 ]
check "its JSON envelope parses, ok:false, exit 5" \
    eval '[ $rc = 5 ] && jq -e ".ok == false and .error.details.http_status == 500 and (.data | length) > 0" "$T/half.json" >/dev/null'
check "its envelope never repeats a key: one \"ok\", last" \
    eval '[ "$(grep -o "\"ok\":" "$T/half.json" | wc -l)" = 1 ] && jq -e "keys_unsorted == [\"data\",\"ok\",\"error\"]" "$T/half.json" >/dev/null'
check "a listing that succeeds puts ok last too" \
    eval 'jq -e "keys_unsorted == [\"data\",\"next_cursor\",\"ok\"]" "$T/page.json" >/dev/null'
if [ "$found" != 0 ]; then
    sb_start faultyn -- --seed demo --seed-employees 300 --token "$TOKEN" --rate-limit 0 \
        --faults 500:0.3 --fault-seed "$found"
    $GUSTO --env "$URL" --company "$COMPANY" --retries 0 --output ndjson employees list \
        >"$T/half.ndjson" 2>/dev/null
    rc=$?
    check "ndjson failing half-way: objects, then a last line {\"ok\":false,\"error\":...}, exit 5" \
        eval '[ $rc = 5 ] && [ "$(wc -l <"$T/half.ndjson")" -gt 1 ] && head -n 1 "$T/half.ndjson" | jq -e .uuid >/dev/null && tail -n 1 "$T/half.ndjson" | jq -e ".ok == false and .error.details.http_status == 500" >/dev/null'
fi

# ---- employee details ------------------------------------------------------------------
EMP=$($G employees list --limit 1 --cursor v1.6.$(printf '%s' "$first" | cut -d. -f3) | jq -r '.data[0].uuid')
$G --output table employees get "$EMP" >"$T/get.txt"
MGR=$($G employees get "$EMP" | jq -r .data.manager_uuid)
MGRNAME=$($G employees get "$MGR" | jq -r '.data.first_name + " " + .data.last_name')
check "employees get shows the manager by name, with the uuid" \
    eval 'grep -qE "^manager: +$MGRNAME \($MGR\)" "$T/get.txt"'
$G api POST "/v1/employees/$EMP/terminations" --data '{"effective_date":"2030-01-15"}' >/dev/null
$G --output table employees get "$EMP" >"$T/sched.txt"
check "a scheduled termination reads 'active, terminating on DATE'" \
    grep -qE "^status: +active, terminating on 2030-01-15$" "$T/sched.txt"
check "before the termination the status was plain active" grep -qE "^status: +active$" "$T/get.txt"
$G --output table --fields uuid,status employees list --search "$($G employees get "$EMP" | jq -r .data.last_name)" >"$T/schedlist.txt"
check "the list's status says terminating" grep -q "terminating" "$T/schedlist.txt"
TERM=$($G employees list --terminated --fields uuid,status | jq -r '[.data[] | select(.status == "terminated")][0].uuid')
$G --output table employees get "$TERM" >"$T/term.txt"
check "a terminated employee shows the termination date" \
    eval 'grep -qE "^status: +terminated$" "$T/term.txt" && grep -qE "^terminated on: +[0-9]{4}-[0-9]{2}-[0-9]{2}$" "$T/term.txt"'

finish
