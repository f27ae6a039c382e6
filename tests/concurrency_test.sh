#!/bin/sh
# concurrency_test.sh - 8 `gusto-connect employees update` processes at once against one gusto-sandbox: on different fields of the same employees no update is lost; on the same field each update is either applied (exactly one successful PUT) or reported as a version conflict (exit 4, naming the field), and the final value is a winner's; both checked to have really collided.
#
# Environment: GUSTO, GUSTO_SANDBOX (defaults build/...), ROUNDS (3).  Needs
# jq.  Prints "ok - NAME" / "not ok - NAME" and ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/common.sh

TOKEN=concurrency-token-31d9
ROUNDS=${ROUNDS:-3}
command -v jq >/dev/null 2>&1 || bail "jq is required"
sb_start sb -- --seed demo --token "$TOKEN" --rate-limit 0 --log || bail "the sandbox did not start"
export GUSTO_ACCESS_TOKEN=$TOKEN

# gc ARGS...: the CLI against the sandbox, JSON envelopes out.
gc() { "$GUSTO" --env "$URL" --json "$@"; }

# A start gate: writers block opening the FIFO for reading, and open_gate
# releases them all at the same instant (polling a file would let them
# trickle out one by one and never collide).  The gate stays open (fd 9)
# until close_gate, so a writer that comes late passes too.
mkfifo "$T/gate" || bail "cannot make a FIFO"
wait_gate() { : <"$T/gate"; }
open_gate() {
    sleep 0.2 # every writer is blocked on the gate by now
    exec 9>"$T/gate"
}
close_gate() { exec 9>&-; }

# Onboarded seed employees (they have every part), 3 for the first test and
# 2 more for the second.
gc employees list --terminated=false >"$T/list.json" 2>/dev/null ||
    gc employees list >"$T/list.json" 2>/dev/null
jq -r '[.data[] | select(.onboarded == true and .terminated == false)] | .[0:5][] | .uuid' \
    "$T/list.json" >"$T/emps"
[ "$(wc -l <"$T/emps")" -eq 5 ] || bail "could not find 5 onboarded employees"
E1=$(sed -n 1p "$T/emps")
E2=$(sed -n 2p "$T/emps")
E3=$(sed -n 3p "$T/emps")
E4=$(sed -n 4p "$T/emps")
E5=$(sed -n 5p "$T/emps")

# ---- 1. different fields ---------------------------------------------------------

# change P R: the JSON process P sends in round R (one field each).
change() {
    case $1 in
    1) echo "{\"preferred_first_name\": \"Pref-$2\"}" ;;
    2) echo "{\"middle_initial\": \"$(echo ABCDEFGHIJ | cut -c"$2")\"}" ;;
    3) echo "{\"work_email\": \"w$2@acme-demo.test\"}" ;;
    4) echo "{\"email\": \"e$2@example.com\"}" ;;
    5) echo "{\"home_address\": {\"street_2\": \"Apt $2\"}}" ;;
    6) echo "{\"home_address\": {\"city\": \"City $2\"}}" ;;
    7) echo "{\"job\": {\"title\": \"Title $2\"}}" ;;
    8) echo "{\"compensation\": {\"rate\": \"7000$2.00\"}}" ;;
    esac
}
# extra P R: process 8's pay change is a new compensation in round 1 (from
# the first day no payroll has run for) and a correction of it later: a
# second new compensation on that same day would be refused, and the seeded
# one was processed on the seed's payrolls.
extra() { [ "$1" -eq 8 ] && [ "$2" -gt 1 ] && echo --correct; }
# value P R: the jq path of P's field in `employees get` and the value expected.
path_of() {
    case $1 in
    1) echo '.preferred_first_name' ;;
    2) echo '.middle_initial' ;;
    3) echo '.work_email' ;;
    4) echo '.email' ;;
    5) echo '.current_home_address.street_2' ;;
    6) echo '.current_home_address.city' ;;
    7) echo '([.jobs[] | select(.primary)][0] // .jobs[0]).title' ;;
    8) echo '([.jobs[] | select(.primary)][0] // .jobs[0]).rate' ;;
    esac
}
change_value() { change "$1" "$2" | jq -r '.. | scalars'; }

# The writers wait for one start signal, then run their rounds.
writer() {
    p=$1
    wait_gate
    r=1
    while [ "$r" -le "$ROUNDS" ]; do
        for e in $E1 $E2 $E3; do
            # shellcheck disable=SC2046  # extra is one word or none
            change "$p" "$r" | gc employees update "$e" $(extra "$p" "$r") \
                >"$T/w$p.$r.$e.out" 2>"$T/w$p.$r.$e.err"
            echo $? >"$T/w$p.$r.$e.rc"
        done
        r=$((r + 1))
    done
}
pids=""
for p in 1 2 3 4 5 6 7 8; do
    writer "$p" &
    pids="$pids $!"
done
open_gate
t0=$(date +%s.%N)
for p in $pids; do wait "$p"; done
t1=$(date +%s.%N)
close_gate

total=$((8 * ROUNDS * 3))
# The writers really collided: the sandbox refused stale versions (409 on
# the employee, 422 on addresses and jobs: docs/sandbox.md) and the CLI
# re-read and re-applied.  Without collisions nothing was tested.
c409=$(grep -c '^PUT .* 409 ' "$T/sb.log")
c422=$(grep -c '^PUT .* 422 ' "$T/sb.log")
check "different fields: the writers collided ($c409 PUTs answered 409, $c422 answered 422, and were re-applied)" \
    [ $((c409 + c422)) -gt 0 ]
failed=0
for f in "$T"/w*.rc; do
    [ "$(cat "$f")" -eq 0 ] || failed=$((failed + 1))
done
if [ "$failed" -eq 0 ]; then
    ok "different fields: all $total updates by 8 processes exited 0 ($(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s)"
else
    first=$(grep -L -x 0 "$T"/w*.rc | head -1)
    not_ok "different fields: $failed of $total updates failed" \
        "$(cat "${first%.rc}.out" | head -c 400)"
fi
lost=0
for e in $E1 $E2 $E3; do
    gc employees get "$e" >"$T/final.$e.json" 2>/dev/null
    for p in 1 2 3 4 5 6 7 8; do
        want=$(change_value "$p" "$ROUNDS")
        got=$(jq -r ".data | $(path_of "$p")" "$T/final.$e.json")
        if [ "$got" != "$want" ]; then
            lost=$((lost + 1))
            echo "#   $e field $(path_of "$p"): got '$got', want '$want'"
        fi
    done
done
check "different fields: every field holds its writer's last value on all 3 employees (lost: $lost of 24)" \
    [ "$lost" -eq 0 ]

# ---- 2. the same field ---------------------------------------------------------

# same NAME EMPLOYEE PUT_PATH JQ_PATH TEMPLATE FIELD: 8 processes set one field
# at once, each to its own value (TEMPLATE with @ replaced by the process
# and the round).  Rounds repeat (up to 5) until the writers have collided
# at least once, so the conflict path is always exercised; every round must
# hold on its own.
same() {
    sname=$1 e=$2 put_path=$3 jq_path=$4 tmpl=$5 field=$6
    applied=0 conflicts=0 other=0 named=0 puts=0 badfinal=0 round=0
    while [ "$round" -lt 5 ] && { [ "$round" -eq 0 ] || [ "$conflicts" -eq 0 ]; }; do
        round=$((round + 1))
        before=$(grep -c "^PUT $put_path 200 " "$T/sb.log")
        pids=""
        for p in 1 2 3 4 5 6 7 8; do
            (
                wait_gate
                echo "$tmpl" | sed "s/@/$p-r$round/g" | gc employees update "$e" \
                    >"$T/s$p.out" 2>"$T/s$p.err"
                echo $? >"$T/s$p.rc"
            ) &
            pids="$pids $!"
        done
        open_gate
        for p in $pids; do wait "$p"; done
        close_gate
        after=$(grep -c "^PUT $put_path 200 " "$T/sb.log")
        puts=$((puts + after - before))
        : >"$T/winners"
        for p in 1 2 3 4 5 6 7 8; do
            rc=$(cat "$T/s$p.rc")
            if [ "$rc" -eq 0 ]; then
                applied=$((applied + 1))
                echo "$tmpl" | sed "s/@/$p-r$round/g" | jq -r '.. | scalars' >>"$T/winners"
            elif [ "$rc" -eq 4 ] && jq -e '.ok == false' "$T/s$p.out" >/dev/null 2>&1; then
                conflicts=$((conflicts + 1))
                # The error names the colliding field.
                if jq -e --arg f "$field" '(.error | tostring) | contains($f)' "$T/s$p.out" >/dev/null &&
                    grep -qi conflict "$T/s$p.out"; then
                    named=$((named + 1))
                fi
            else
                other=$((other + 1))
                echo "#   round $round, process $p: exit $rc: $(head -c 300 "$T/s$p.out")"
            fi
        done
        final=$(gc employees get "$e" 2>/dev/null | jq -r ".data | $jq_path")
        if ! grep -q -x -F -- "$final" "$T/winners"; then
            badfinal=$((badfinal + 1))
            echo "#   round $round: the final value '$final' is no applied update's"
        fi
    done
    n=$((8 * round))
    all=false
    [ "$other" -eq 0 ] && [ "$applied" -ge "$round" ] && [ $((applied + conflicts)) -eq "$n" ] &&
        all=true
    check "same field ($sname): $n updates in $round rounds = $applied applied + $conflicts conflicts, none failing otherwise" \
        $all
    check "same field ($sname): the writers collided ($conflicts conflicts in $round rounds)" \
        [ "$conflicts" -gt 0 ]
    check "same field ($sname): each conflict (exit 4) names $field ($named of $conflicts)" \
        [ "$named" -eq "$conflicts" ]
    check "same field ($sname): the sandbox took exactly one successful PUT per applied update ($puts for $applied)" \
        [ "$puts" -eq "$applied" ]
    check "same field ($sname): after each round the value is one an applied update wrote ($badfinal rounds not)" \
        [ "$badfinal" -eq 0 ]
}

same "employee.preferred_first_name" "$E4" "/v1/employees/$E4" '.preferred_first_name' \
    '{"preferred_first_name": "Same-@"}' preferred_first_name
JOB5=$(gc employees get "$E5" 2>/dev/null | jq -r '([.data.jobs[] | select(.primary)][0] // .data.jobs[0]).uuid')
same "job.title" "$E5" "/v1/jobs/$JOB5" '([.jobs[] | select(.primary)][0] // .jobs[0]).title' \
    '{"job": {"title": "Same title @"}}' title

sb_stop_check sb "$SB_PID"
finish
