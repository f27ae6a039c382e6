#!/bin/sh
# soak.sh - `make soak`: onboards 1,000 employees with every nested part one by one (gusto employees create, 8 at a time) and 1,000 through people batches (gusto batch create --wait), against gusto-sandbox injecting 10% faults (500s, 429s, dropped connections, 2 s stalls); then audits a fault-free restart of the same data.
#
# The driver acts as a careful operator: a command that fails with a server
# or network error (exit 5/6) is run again; a partial create (exit 8) has
# its warnings checked against the sandbox (each must name a part that is
# really missing) and then repaired with the command each warning gives.
# The audit, on the sandbox restarted without faults on the same --data
# file, checks that the company holds exactly the 2,000 employees, each
# once, each with its home address, work address, job and compensation as
# sent.  Prints "ok -"/"not ok -" lines and "N passed, N failed", and ends
# with "soak: expected N created N duplicated D lost L"; exits 1 unless
# everything passed and D = L = 0.
#
# Environment: SOAK_N (1000 per phase), SOAK_JOBS (8), SOAK_FAULTS
# (500:0.025,429:0.025,drop:0.025,delay:0.025@2000), SOAK_SEED, GUSTO,
# GUSTO_SANDBOX, KEEP=1.  Needs jq and curl.
set -u
cd "$(dirname "$0")/.." || exit 1

# ---- worker mode: one employee, one by one ---------------------------------------
# soak.sh --one I: create employee I from $T/in/I.json; retry on 5/6; on 8
# record its warnings in $T/warn/I; the result in $T/res/I.
if [ "${1:-}" = --one ]; then
    i=$2
    tries=0
    while :; do
        tries=$((tries + 1))
        "$GUSTO" --env "$URL" --company "$COMPANY" --rate-limit 0 --json employees create \
            --input "$T/in/$i.json" >"$T/res/$i" 2>"$T/err/$i"
        rc=$?
        case $rc in
        0 | 8) break ;;
        5 | 6) [ "$tries" -lt 10 ] || break ;;
        *) break ;;
        esac
        echo "$i $rc" >>"$T/reruns"
    done
    echo "$rc" >"$T/rc/$i"
    if [ "$rc" -eq 8 ]; then
        jq -c '.data.warnings[]' "$T/res/$i" >"$T/warn/$i"
    fi
    exit 0
fi

. tests/common.sh
N=${SOAK_N:-1000}
JOBS=${SOAK_JOBS:-8}
FAULTS=${SOAK_FAULTS:-500:0.025,429:0.025,drop:0.025,delay:0.025@2000}
SEED=${SOAK_SEED:-$$}
TOKEN=soak-token-5e2b
# A private copy of the binaries: a rebuild during the run changes nothing.
mkdir -p "$T/bin" && cp "$GUSTO" "$T/bin/gusto" && cp "$SANDBOX" "$T/bin/gusto-sandbox" ||
    bail "cannot copy $GUSTO and $SANDBOX"
GUSTO=$T/bin/gusto
SANDBOX=$T/bin/gusto-sandbox
export GUSTO SANDBOX T TOKEN
export GUSTO_ACCESS_TOKEN=$TOKEN
command -v jq >/dev/null 2>&1 || bail "jq is required"
command -v curl >/dev/null 2>&1 || bail "curl is required"
START=$(date +%s)
elapsed() { echo $(($(date +%s) - START)); }
mkdir -p "$T/in" "$T/res" "$T/err" "$T/rc" "$T/warn"
: >"$T/reruns"

sb_start faulty -- --data "$T/soak.db" --token "$TOKEN" --rate-limit 0 --faults "$FAULTS" \
    --fault-seed "$SEED" --log || bail "the sandbox did not start: $(cat "$T/faulty.log")"
export URL COMPANY
FAULTY=$SB_PID
echo "# sandbox $URL, faults $FAULTS (seed $SEED), $N employees per phase, $JOBS at a time"

# The company's locations (read with retries: faults apply to every request).
for try in 1 2 3 4 5 6 7 8 9 10; do
    curl -s -H "Authorization: Bearer $TOKEN" "$URL/v1/companies/$COMPANY/locations" \
        >"$T/locations.json" && jq -e 'length >= 2' "$T/locations.json" >/dev/null 2>&1 && break
    sleep 1
done
LOC1=$(jq -r '.[0].uuid' "$T/locations.json")
LOC2=$(jq -r '.[1].uuid' "$T/locations.json")
LOC2_CITY=$(jq -r '.[1].city' "$T/locations.json")
[ -n "$LOC1" ] && [ "$LOC1" != null ] || bail "could not read the company's locations"

# ---- phase 1: one by one -------------------------------------------------------
# Employee i: home street "i Soak St", job "Title i", rate "5i.00"; the work
# address by uuid for odd i, by the location's city for even i.
i=1
while [ "$i" -le "$N" ]; do
    if [ $((i % 2)) -eq 1 ]; then
        work="{\"location_uuid\": \"$LOC1\"}"
    else
        work="{\"location\": \"$LOC2_CITY\"}"
    fi
    printf '{"first_name": "One", "last_name": "Soak%d", "email": "one-%d@soak.test", "ssn": "%03d-55-%04d", "date_of_birth": "1980-01-02", "home_address": {"street_1": "%d Soak St", "city": "Austin", "state": "TX", "zip": "78701"}, "work_address": %s, "job": {"title": "Title %d", "hire_date": "2025-01-06"}, "compensation": {"rate": "5%d.00", "payment_unit": "Hour", "flsa_status": "Nonexempt"}}\n' \
        "$i" "$i" $((100 + i % 800)) "$i" "$i" "$work" "$i" "$i" >"$T/in/$i.json"
    i=$((i + 1))
done
seq 1 "$N" | xargs -P "$JOBS" -n 1 "$0" --one
P1=$(elapsed)
created1=0 partial1=0 failed1=0
for f in "$T"/rc/*; do
    case $(cat "$f") in
    0) created1=$((created1 + 1)) ;;
    8) partial1=$((partial1 + 1)) ;;
    *) failed1=$((failed1 + 1)) ;;
    esac
done
reruns=$(wc -l <"$T/reruns" | tr -d ' ')
check "phase 1: $N creates in ${P1}s: $created1 complete, $partial1 partial (exit 8), $failed1 failed; $reruns reruns after exit 5/6" \
    [ "$failed1" -eq 0 ]

# Each warning must name a part that is really missing: read the employee
# back (through the faults, with retries) before repairing anything.
nwarn=0 badwarn=0 repaired=0
for w in "$T"/warn/*; do
    [ -s "$w" ] || continue
    i=$(basename "$w")
    uuid=$(jq -r '.data.employee.uuid' "$T/res/$i")
    for try in 1 2 3 4 5; do
        "$GUSTO" --env "$URL" --company "$COMPANY" --rate-limit 0 --json employees get "$uuid" \
            >"$T/check.$i" 2>/dev/null && break
    done
    while read -r warning; do
        nwarn=$((nwarn + 1))
        entity=$(echo "$warning" | jq -r .entity)
        case $entity in
        home_address) present=$(jq -r '.data.current_home_address != null' "$T/check.$i") ;;
        work_address) present=$(jq -r '.data.current_work_address != null' "$T/check.$i") ;;
        job) present=$(jq -r '(.data.jobs | length) > 0' "$T/check.$i") ;;
        compensation) present=$(jq -r '[.data.jobs[]?.compensations[]?] | length > 0' "$T/check.$i") ;;
        *) present=unknown ;;
        esac
        if [ "$present" != false ]; then
            badwarn=$((badwarn + 1))
            echo "#   employee $i: warning for $entity, but it is $present: $warning"
        else
            echo "#   employee $i: warning for $entity ($(echo "$warning" | jq -r .message | head -c 100)): really missing"
        fi
    done <"$w"
done
check "phase 1: all $nwarn warnings name a part that is really missing" [ "$badwarn" -eq 0 ]

# Repair: run the command each warning gives (its hint), retrying on 5/6.
# A compensation whose job failed needs the job first: warnings come in
# the order job, then compensation, and the hint names the job's uuid.
nfix=0 unfixed=0
for w in "$T"/warn/*; do
    [ -s "$w" ] || continue
    i=$(basename "$w")
    uuid=$(jq -r '.data.employee.uuid' "$T/res/$i")
    while read -r warning; do
        entity=$(echo "$warning" | jq -r .entity)
        body=$(jq -c ".$entity" "$T/in/$i.json")
        case $entity in
        home_address) path="/v1/employees/$uuid/home_addresses" ;;
        job) path="/v1/employees/$uuid/jobs" ;;
        work_address)
            body=$(jq -c --arg l "$LOC1" --arg l2 "$LOC2" \
                'if .location_uuid then . else {location_uuid: $l2} end' <<EOF
$body
EOF
)
            path="/v1/employees/$uuid/work_addresses" ;;
        compensation)
            job=""
            for try in 1 2 3 4 5; do
                job=$("$GUSTO" --env "$URL" --company "$COMPANY" --json api GET "/v1/employees/$uuid/jobs" \
                    2>/dev/null | jq -r '.data[0].uuid // empty') && [ -n "$job" ] && break
            done
            path="/v1/jobs/$job/compensations" ;;
        esac
        fixed=false
        for try in 1 2 3 4 5 6 7 8 9 10; do
            "$GUSTO" --env "$URL" --company "$COMPANY" --rate-limit 0 --json api POST "$path" \
                --data "$body" >"$T/fix.out" 2>&1
            frc=$?
            if [ "$frc" -eq 0 ]; then
                fixed=true
                break
            fi
            # A POST whose answer was lost may have worked: look before resending.
            if [ "$frc" -eq 5 ] || [ "$frc" -eq 6 ]; then
                lpath=$path
                [ "$entity" = compensation ] || lpath=$path
                have=$("$GUSTO" --env "$URL" --company "$COMPANY" --json api GET "$lpath" 2>/dev/null |
                    jq -r '.data | length')
                if [ "${have:-0}" -gt 0 ]; then
                    fixed=true
                    break
                fi
            else
                break
            fi
        done
        if $fixed; then nfix=$((nfix + 1)); else unfixed=$((unfixed + 1)); fi
    done <"$w"
done
check "phase 1: $nfix of $nwarn missing parts added with the commands the warnings give" \
    [ "$unfixed" -eq 0 ]

# ---- phase 2: people batches --------------------------------------------------------
# 10 batches of N/10, each a JSON file whose idempotency key is kept beside it.
NB=10
per=$((N / NB))
b=1
berr=0
while [ "$b" -le "$NB" ]; do
    f=$T/batch$b.json
    {
        echo '['
        k=1
        while [ "$k" -le "$per" ]; do
            i=$(((b - 1) * per + k))
            [ "$k" -gt 1 ] && echo ','
            printf '{"person": {"external_id": "bat-%d", "first_name": "Bat", "last_name": "Soak%d", "email": "bat-%d@soak.test", "ssn": "%03d-66-%04d", "date_of_birth": "1981-02-03"}, "home_address": {"street_1": "%d Batch Ave", "city": "Denver", "state": "CO", "zip": "80202"}, "work_address": {"location_uuid": "%s"}, "job": {"title": "Batch %d", "hire_date": "2025-02-03"}, "compensation": {"rate": "6%d.00", "payment_unit": "Hour", "flsa_status": "Nonexempt"}, "bank_accounts": [{"name": "Checking", "account_type": "Checking", "routing_number": "123456789", "account_number": "%012d", "type": "Direct Deposit", "split_by": "Percentage", "split_amount": "100"}]}' \
                "$i" "$i" "$i" $((100 + i % 800)) "$i" "$i" "$LOC1" "$i" "$i" $((770000000 + i))
            k=$((k + 1))
        done
        echo ']'
    } >"$f"
    tries=0
    while :; do
        tries=$((tries + 1))
        "$GUSTO" --env "$URL" --company "$COMPANY" --rate-limit 0 --json batch create \
            --input "$f" --wait >"$T/batch$b.out" 2>"$T/batch$b.err"
        brc=$?
        { [ "$brc" -eq 5 ] || [ "$brc" -eq 6 ]; } && [ "$tries" -lt 10 ] || break
        echo "batch $b $brc" >>"$T/reruns"
    done
    ok_people=$(jq '[.data.results[]? | select(.status == "success")] | length' "$T/batch$b.out" 2>/dev/null)
    if [ "$brc" -ne 0 ] || [ "${ok_people:-0}" -ne "$per" ]; then
        berr=$((berr + 1))
        echo "#   batch $b: exit $brc, $ok_people of $per created: $(head -c 300 "$T/batch$b.out")"
    fi
    b=$((b + 1))
done
P2=$(($(elapsed) - P1))
breruns=$(grep -c '^batch ' "$T/reruns")
check "phase 2: $NB batches of $per in ${P2}s, every person created, $breruns reruns (same idempotency key)" \
    [ "$berr" -eq 0 ]

# ---- the audit, on a fault-free restart ------------------------------------------------

sb_stop "$FAULTY"
check "the faulty sandbox stopped cleanly" [ $? -eq 0 ]
served=$(grep -c '' "$T/faulty.log")
faults=$(grep -cE ' (500|429) | dropped ' "$T/faulty.log")
stalls=$(awk '{v = $NF; sub(/ms$/, "", v); if (v + 0 >= 2000) n++} END {print n + 0}' "$T/faulty.log")
sb_start audit -- --data "$T/soak.db" --token "$TOKEN" --rate-limit 0 ||
    bail "the audit sandbox did not start"
curl -s -H "Authorization: Bearer $TOKEN" \
    "$URL/v1/companies/$COMPANY/employees?include=current_home_address" >"$T/all.json"
total=$(jq 'length' "$T/all.json")
# Work addresses: one keep-alive curl for all of them.
jq -r --arg u "$URL" '.[] | "url = \"\($u)/v1/employees/\(.uuid)/work_addresses\""' \
    "$T/all.json" >"$T/work.cfg"
curl -s -H "Authorization: Bearer $TOKEN" -K "$T/work.cfg" | jq -s 'add' >"$T/work.json"

# Per identity (the email): how many employees, and which parts are right.
jq -n --slurpfile all "$T/all.json" --slurpfile work "$T/work.json" --arg loc1 "$LOC1" \
    --arg loc2 "$LOC2" '
  ($work[0] | map(select(.active == true)) | map({key: .employee_uuid, value: .location_uuid})
   | from_entries) as $wa
  | $all[0] | map(select(.email | test("@soak.test$")))
  | group_by(.email) | map({
      email: .[0].email, n: length, e: .[0],
      i: (.[0].last_name | ltrimstr("Soak") | tonumber),
      one: (.[0].email | startswith("one-"))})
  | map(. as $x | $x.e as $e | $x + {
      home_ok: ($e.current_home_address.street_1 ==
                (if $x.one then "\($x.i) Soak St" else "\($x.i) Batch Ave" end)),
      work_ok: ($wa[$e.uuid] == (if ($x.one and ($x.i % 2 == 0)) then $loc2 else $loc1 end)),
      job_ok: ([$e.jobs[]?.title] == [if $x.one then "Title \($x.i)" else "Batch \($x.i)" end]),
      comp_ok: ([$e.jobs[]?.compensations[]?.rate] ==
                [if $x.one then "5\($x.i).00" else "6\($x.i).00" end])})
  | map(del(.e))' >"$T/audit.json"

expected=$((2 * N))
found=$(jq 'length' "$T/audit.json")
dups=$(jq '[.[] | select(.n > 1) | .n - 1] | add // 0' "$T/audit.json")
created=$((found))
lost=$((expected - found))
strays=$((total - found - dups))
parts_bad=$(jq '[.[] | select((.home_ok and .work_ok and .job_ok and .comp_ok) | not)] | length' "$T/audit.json")
for x in one bat; do
    got=$(jq --arg p "$x-" '[.[] | select(.email | startswith($p))] | length' "$T/audit.json")
    check "audit: $got of $N employees from the $([ $x = one ] && echo one-by-one || echo batch) phase are there" \
        [ "$got" -eq "$N" ]
done
check "audit: no employee exists twice (duplicates: $dups)" [ "$dups" -eq 0 ]
check "audit: the company holds nothing else ($total employees in all, $strays strays)" \
    [ "$strays" -eq 0 ]
check "audit: every employee has its home address, work address, job and compensation as sent ($parts_bad wrong)" \
    [ "$parts_bad" -eq 0 ]
if [ "$parts_bad" -gt 0 ]; then
    jq -c '.[] | select((.home_ok and .work_ok and .job_ok and .comp_ok) | not)' "$T/audit.json" |
        head -5 | sed 's/^/#   /'
fi
echo "# $served requests under faults: $faults answered 500/429 or dropped, $stalls stalled 2 s or more; $(elapsed) s in all"
echo "$pass passed, $fail failed"
echo "soak: expected $expected created $created duplicated $dups lost $lost"
[ "$fail" -eq 0 ] && [ "$dups" -eq 0 ] && [ "$lost" -eq 0 ]
