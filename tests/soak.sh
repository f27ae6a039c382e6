#!/bin/sh
# soak.sh - `make soak`: onboards 1,000 employees with every nested part one by one (gusto-connect employees create, 8 at a time), then 1,000 through people batches (gusto-connect batch create --wait), each phase against its own gusto-sandbox injecting 10% faults (500s, 429s, dropped connections, lost answers, 2 s stalls); audits each sandbox restarted without faults on the same data.
#
# A quarter of the one-by-one creates run with --retries 0, so faults turn
# into partial creates and unknown outcomes.  The driver acts as a careful
# operator.  A create that ends with a server or network error (exit 5/6)
# left its outcome unknown: the driver looks the employee up by email before
# it runs the command again, and adopts it when it is there.  A partial create (exit 12) has each of its warnings checked
# against the sandbox (the part must really be missing), then repaired with
# a POST of that part.  The audit, on a fault-free restart of each phase's
# --data file, checks that the company holds exactly that phase's 1,000
# employees, each once, each with its home address, work address, job and
# compensation as sent (and, for batches, the payment method and the bank
# account, read from the database file: the API has no endpoint for it).
# Prints "ok -"/"not ok -" lines and "N passed, N failed", and ends with
# "soak: expected N created N duplicated D lost L" over both phases; exits 1
# unless every check passed and D = L = 0.
#
# Environment: SOAK_N (1000 per phase), SOAK_JOBS (8), SOAK_FAULTS
# (500:0.025,429:0.025,drop:0.0125,lost:0.0125,delay:0.025@2000), SOAK_SEED,
# GUSTO, GUSTO_SANDBOX, KEEP=1.  Needs jq, curl and sqlite3.
set -u
cd "$(dirname "$0")/.." || exit 1

# gq ARGS...: the CLI against the current sandbox, JSON out, no rate limit.
gq() { "$GUSTO" --env "$URL" --company "$COMPANY" --rate-limit 0 --json "$@"; }

# find_one I: the uuid of employee I of phase 1 (by its email), read
# through the faults; "" when it is not there; exit 1 when it cannot tell.
find_one() {
    for try in 1 2 3 4 5 6 7 8 9 10; do
        if gq employees list --search "one-$1@soak.test" >"$T/find.$1" 2>/dev/null; then
            jq -r --arg e "one-$1@soak.test" '[.data[] | select(.email == $e)][0].uuid // ""' \
                "$T/find.$1"
            return 0
        fi
        sleep 0.2
    done
    return 1
}

# ---- worker mode: one employee, one by one -----------------------------------------
# soak.sh --one I: create employee I from $T/in/I.json.  On exit 5/6 look it
# up first and adopt it ($T/adopt/I) when it exists, else run the create
# again; after a 429 (exit 4) run it again a second later.  On exit 12 its warnings go to $T/warn/I.  The final exit status of
# the create (or "adopted") goes to $T/rc/I.
if [ "${1:-}" = --one ]; then
    i=$2
    # A quarter of the creates run with --retries 0, so that faults become
    # warnings (and unknown outcomes) the driver must check and repair.
    retries=
    [ $((i % 4)) -eq 0 ] && retries="--retries 0"
    tries=0
    while :; do
        tries=$((tries + 1))
        # shellcheck disable=SC2086  # retries is an optional pair of words
        gq $retries employees create --input "$T/in/$i.json" >"$T/res/$i" 2>"$T/err/$i"
        rc=$?
        # A 429 (exit 4) was refused, not carried out: wait and run again.
        if [ "$rc" -eq 4 ] && [ "$tries" -lt 10 ] &&
            jq -e '.error.details.http_status == 429' "$T/res/$i" >/dev/null 2>&1; then
            echo "$i 429" >>"$T/reruns"
            sleep 1
            continue
        fi
        case $rc in
        5 | 6) ;;
        *) break ;;
        esac
        echo "$i $rc" >>"$T/reruns"
        if ! uuid=$(find_one "$i"); then
            break
        fi
        if [ -n "$uuid" ]; then
            echo "$uuid" >"$T/adopt/$i"
            rc=adopted
            break
        fi
        [ "$tries" -lt 10 ] || break
    done
    echo "$rc" >"$T/rc/$i"
    if [ "$rc" = 12 ]; then
        jq -c '.data.warnings[]' "$T/res/$i" >"$T/warn/$i"
    fi
    exit 0
fi

. tests/common.sh
N=${SOAK_N:-1000}
JOBS=${SOAK_JOBS:-8}
FAULTS=${SOAK_FAULTS:-500:0.025,429:0.025,drop:0.0125,lost:0.0125,delay:0.025@2000}
SEED=${SOAK_SEED:-$$}
TOKEN=soak-token-5e2b
# A private copy of the binaries: a rebuild during the run changes nothing.
mkdir -p "$T/bin" && cp "$GUSTO" "$T/bin/gusto-connect" && cp "$SANDBOX" "$T/bin/gusto-sandbox" ||
    bail "cannot copy $GUSTO and $SANDBOX"
GUSTO=$T/bin/gusto-connect
SANDBOX=$T/bin/gusto-sandbox
export GUSTO SANDBOX T TOKEN
export GUSTO_ACCESS_TOKEN=$TOKEN
for tool in jq curl sqlite3; do
    command -v $tool >/dev/null 2>&1 || bail "$tool is required (scripts/deps.sh installs it)"
done
START=$(date +%s)
elapsed() { echo $(($(date +%s) - START)); }
mkdir -p "$T/in" "$T/res" "$T/err" "$T/rc" "$T/warn" "$T/adopt"
: >"$T/reruns"
expected=0 created=0 dups=0

# faulty NAME: start a sandbox with faults on $T/NAME.db; sets URL, COMPANY.
faulty() {
    sb_start "$1" -- --data "$T/$1.db" --token "$TOKEN" --rate-limit 0 --faults "$FAULTS" \
        --fault-seed "$SEED" --log || bail "the $1 sandbox did not start: $(head -c 300 "$T/$1.log")"
    FAULTY=$SB_PID
    export URL COMPANY
    echo "# $1: sandbox $URL, faults $FAULTS (seed $SEED), $N employees, $JOBS at a time"
}

# stop_faulty NAME: stop it and summarise the faults it injected.
stop_faulty() {
    sb_stop "$FAULTY"
    check "$1: the faulty sandbox stopped cleanly" [ $? -eq 0 ]
    served=$(grep -c -v '^mhd:' "$T/$1.log")
    answered=$(grep -cE ' (500|429) [0-9.]+ms$' "$T/$1.log")
    dropped=$(grep -c ' dropped ' "$T/$1.log")
    lostn=$(grep -c ' lost ' "$T/$1.log")
    stalls=$(awk '{v = $NF; sub(/ms$/, "", v); if (v + 0 >= 2000) n++} END {print n + 0}' "$T/$1.log")
    echo "# $1: $served requests under faults: $answered answered 500/429, $dropped dropped," \
        "$lostn carried out with the answer lost, $stalls stalled 2 s or more"
}

# audit NAME PREFIX JQ_EXPECT: restart NAME's data without faults; check
# that the company holds exactly the N employees whose email starts with
# PREFIX, each once, and that JQ_EXPECT (a jq function body over $x with
# .i and the employee .e, $wa = work locations by employee) holds for each.
audit() {
    ph=$1 prefix=$2 expect=$3
    sb_start "$ph-audit" -- --data "$T/$ph.db" --token "$TOKEN" --rate-limit 0 ||
        bail "the $ph audit sandbox did not start"
    AUDIT=$SB_PID
    curl -s -H "Authorization: Bearer $TOKEN" \
        "$URL/v1/companies/$COMPANY/employees?include=current_home_address,all_compensations" \
        >"$T/$ph.all.json"
    total=$(jq 'length' "$T/$ph.all.json")
    # Work addresses and jobs: one keep-alive curl for all of them.
    jq -r --arg u "$URL" '.[] | "url = \"\($u)/v1/employees/\(.uuid)/work_addresses\""' \
        "$T/$ph.all.json" >"$T/$ph.work.cfg"
    curl -s -H "Authorization: Bearer $TOKEN" -K "$T/$ph.work.cfg" | jq -s 'add // []' \
        >"$T/$ph.work.json"
    jq -n --slurpfile all "$T/$ph.all.json" --slurpfile work "$T/$ph.work.json" \
        --arg p "$prefix" --arg loc1 "$LOC1" --arg loc2 "$LOC2" "
      (\$work[0] | map(select(.active == true)) | group_by(.employee_uuid)
       | map({key: .[0].employee_uuid, value: map(.location_uuid)}) | from_entries) as \$wa
      | \$all[0] | map(select(.email | startswith(\$p)))
      | group_by(.email) | map({email: .[0].email, n: length, e: .[0],
          i: (.[0].email | ltrimstr(\$p) | rtrimstr(\"@soak.test\") | tonumber)})
      | map(. as \$x | \$x + {ok: ($expect)}) | map(del(.e))" >"$T/$ph.audit.json"
    found=$(jq 'length' "$T/$ph.audit.json")
    d=$(jq '[.[] | select(.n > 1) | .n - 1] | add // 0' "$T/$ph.audit.json")
    inrange=$(jq --argjson n "$N" '[.[] | select(.i >= 1 and .i <= $n)] | length' "$T/$ph.audit.json")
    strays=$((total - found - d))
    bad=$(jq '[.[] | select(.ok | not)] | length' "$T/$ph.audit.json")
    check "$ph audit: $found of $N employees are there ($inrange with an expected number)" \
        eval '[ "$found" -eq "$N" ] && [ "$inrange" -eq "$N" ]'
    check "$ph audit: no employee exists twice (duplicates: $d)" [ "$d" -eq 0 ]
    check "$ph audit: the company holds nothing else ($total employees in all, $strays others)" \
        [ "$strays" -eq 0 ]
    check "$ph audit: every employee has every nested part as sent ($bad wrong)" [ "$bad" -eq 0 ]
    if [ "$bad" -gt 0 ]; then
        jq -c '.[] | select(.ok | not)' "$T/$ph.audit.json" | head -5 | sed 's/^/#   /'
    fi
    expected=$((expected + N))
    created=$((created + inrange))
    dups=$((dups + d))
}

# ---- phase 1: one by one ---------------------------------------------------------
faulty one
# The company's locations (through the faults, so with retries).
for try in 1 2 3 4 5 6 7 8 9 10; do
    gq api GET '/v1/companies/{company_uuid}/locations' >"$T/locations.json" 2>/dev/null &&
        jq -e '.data | length >= 2' "$T/locations.json" >/dev/null 2>&1 && break
    sleep 0.5
done
LOC1=$(jq -r '.data[0].uuid' "$T/locations.json")
LOC2=$(jq -r '.data[1].uuid' "$T/locations.json")
LOC2_CITY=$(jq -r '.data[1].city' "$T/locations.json")
[ -n "$LOC1" ] && [ "$LOC1" != null ] && [ "$LOC2" != null ] ||
    bail "could not read the company's locations"
export LOC1 LOC2

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
complete=0 partial=0 adopted=0 failed=0
for f in "$T"/rc/*; do
    case $(cat "$f") in
    0) complete=$((complete + 1)) ;;
    8) partial=$((partial + 1)) ;;
    adopted) adopted=$((adopted + 1)) ;;
    *)
        failed=$((failed + 1))
        echo "#   employee $(basename "$f"): exit $(cat "$f"): $(head -c 300 "$T/res/$(basename "$f")")"
        ;;
    esac
done
reruns=$(wc -l <"$T/reruns" | tr -d ' ')
r429=$(grep -c ' 429$' "$T/reruns")
check "one: $N creates in ${P1}s: $complete complete, $partial partial (exit 12), $adopted found after an unknown outcome, $failed failed; run again after $r429 429s and $((reruns - r429)) exits 5/6" \
    eval '[ "$failed" -eq 0 ] && [ $((complete + partial + adopted)) -eq "$N" ]'

# A part's state in an `employees get` envelope: true (there), false.
present() {
    case $1 in
    home_address) jq -r '.data.current_home_address != null' "$2" ;;
    work_address) jq -r '.data.current_work_address != null' "$2" ;;
    job) jq -r '(.data.jobs // []) | length > 0' "$2" ;;
    # The job comes with Gusto's $0 compensation: the pay is there once set.
    compensation) jq -r '[.data.jobs[]?.compensations[]? | select(.rate != "0.00")] | length > 0' "$2" ;;
    *) echo unknown ;;
    esac
}
# get_emp I UUID: employee I's state, through the faults, in $T/state.I.
get_emp() {
    for try in 1 2 3 4 5 6 7 8 9 10; do
        gq employees get "$2" >"$T/state.$1" 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}

# Each warning must name a part that is really missing: read the employee
# back before anything is repaired.  Adopted employees (their create ended
# with an unknown outcome) have their missing parts listed the same way.
nwarn=0 badwarn=0 unread=0
: >"$T/todo"
for f in "$T"/rc/*; do
    i=$(basename "$f")
    case $(cat "$f") in
    8) uuid=$(jq -r '.data.employee.uuid' "$T/res/$i") ;;
    adopted) uuid=$(cat "$T/adopt/$i") ;;
    *) continue ;;
    esac
    if ! get_emp "$i" "$uuid"; then
        unread=$((unread + 1))
        continue
    fi
    if [ -s "$T/warn/$i" ]; then
        while read -r warning; do
            nwarn=$((nwarn + 1))
            entity=$(echo "$warning" | jq -r .entity)
            p=$(present "$entity" "$T/state.$i")
            if [ "$p" = false ]; then
                echo "$i $uuid $entity" >>"$T/todo"
            else
                badwarn=$((badwarn + 1))
                echo "#   employee $i: a warning for $entity, but it is there ($p): $warning"
            fi
        done <"$T/warn/$i"
    else
        for entity in home_address work_address job compensation; do
            [ "$(present "$entity" "$T/state.$i")" = false ] && echo "$i $uuid $entity" >>"$T/todo"
        done
    fi
done
check "one: every warning ($nwarn in all) names a part that is really missing" \
    eval '[ "$badwarn" -eq 0 ] && [ "$unread" -eq 0 ]'
[ "$unread" -eq 0 ] || echo "#   $unread employees could not be read back"

# Repair each missing part as the warning's hint says: a POST of it, or for
# the pay a PUT of the compensation the job came with (with its version).
# A POST whose answer was lost may have worked: look before sending again.
# Parts come in the order job, then compensation, so a compensation whose
# job was missing finds the repaired job.
nfix=0 unfixed=0
while read -r i uuid entity; do
    body=$(jq -c ".$entity" "$T/in/$i.json")
    case $entity in
    home_address) path="/v1/employees/$uuid/home_addresses" ;;
    job) path="/v1/employees/$uuid/jobs" ;;
    work_address)
        body=$(echo "$body" | jq -c --arg l2 "$LOC2" 'if .location_uuid then . else {location_uuid: $l2} end')
        path="/v1/employees/$uuid/work_addresses" ;;
    compensation)
        comp=""
        for try in 1 2 3 4 5 6 7 8 9 10; do
            comp=$(gq api GET "/v1/employees/$uuid/jobs" 2>/dev/null |
                jq -r '.data[0].current_compensation_uuid // empty') && [ -n "$comp" ] && break
        done
        path="/v1/compensations/$comp" ;;
    esac
    fixed=false
    for try in 1 2 3 4 5 6 7 8 9 10; do
        if [ "$entity" = compensation ]; then
            # A PUT is safe to repeat: send it with the version read just before.
            v=$(gq api GET "$path" 2>/dev/null | jq -r '.data.version // empty')
            gq api PUT "$path" --data "$(echo "$body" | jq -c --arg v "$v" '. + {version: $v}')" \
                >"$T/fix.out" 2>&1
            frc=$?
            [ "$frc" -eq 0 ] && { fixed=true; break; }
            [ "$frc" -eq 4 ] && grep -q '"http_status":429' "$T/fix.out" && sleep 1
            continue
        fi
        gq api POST "$path" --data "$body" >"$T/fix.out" 2>&1
        frc=$?
        if [ "$frc" -eq 0 ]; then
            fixed=true
            break
        fi
        if [ "$frc" -eq 4 ] && grep -q '"http_status":429' "$T/fix.out"; then
            sleep 1
            continue
        fi
        [ "$frc" -eq 5 ] || [ "$frc" -eq 6 ] || break
        have=$(gq api GET "$path" 2>/dev/null | jq -r '.data | length')
        if [ "${have:-0}" -gt 0 ]; then
            fixed=true
            break
        fi
    done
    if $fixed; then
        nfix=$((nfix + 1))
    else
        unfixed=$((unfixed + 1))
        echo "#   employee $i: $entity not repaired: $(head -c 300 "$T/fix.out")"
    fi
done <"$T/todo"
ntodo=$(wc -l <"$T/todo" | tr -d ' ')
check "one: all $ntodo missing parts repaired ($nfix)" [ "$unfixed" -eq 0 ]
stop_faulty one

audit one one- '
  $x.e as $e | $x.i as $i
  | $e.current_home_address.street_1 == "\($i) Soak St"
  and ($wa[$e.uuid] // []) == [if $i % 2 == 0 then $loc2 else $loc1 end]
  and [$e.jobs[]?.title] == ["Title \($i)"]
  and [$e.jobs[]?.compensations[]?.rate] == ["5\($i).00"]'
sb_stop "$AUDIT"

# ---- phase 2: people batches --------------------------------------------------------
faulty bat
for try in 1 2 3 4 5 6 7 8 9 10; do
    gq api GET '/v1/companies/{company_uuid}/locations' >"$T/locations.json" 2>/dev/null &&
        jq -e '.data | length >= 2' "$T/locations.json" >/dev/null 2>&1 && break
    sleep 0.5
done
LOC1=$(jq -r '.data[0].uuid' "$T/locations.json")
LOC2=$(jq -r '.data[1].uuid' "$T/locations.json")
[ -n "$LOC1" ] && [ "$LOC1" != null ] || bail "could not read the company's locations"
# 10 batches of N/10, each a JSON file whose idempotency key the CLI keeps
# beside it, so a run again after exit 5/6 never creates anyone twice.
NB=10
per=$((N / NB))
b=1
berr=0
breruns=0
P2S=$(elapsed)
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
        gq batch create --input "$f" --wait >"$T/batch$b.out" 2>"$T/batch$b.err"
        brc=$?
        { [ "$brc" -eq 5 ] || [ "$brc" -eq 6 ]; } && [ "$tries" -lt 10 ] || break
        breruns=$((breruns + 1))
    done
    ok_people=$(jq '[.data.results[]? | select(.status == "success")] | length' "$T/batch$b.out" 2>/dev/null)
    if [ "$brc" -ne 0 ] || [ "${ok_people:-0}" -ne "$per" ]; then
        berr=$((berr + 1))
        echo "#   batch $b: exit $brc, $ok_people of $per created: $(head -c 300 "$T/batch$b.out")"
    fi
    b=$((b + 1))
done
P2=$(($(elapsed) - P2S))
check "bat: $NB batches of $per in ${P2}s, every person created, $breruns runs again after exit 5/6 (same idempotency key)" \
    [ "$berr" -eq 0 ]
stop_faulty bat

audit bat bat- '
  $x.e as $e | $x.i as $i
  | $e.current_home_address.street_1 == "\($i) Batch Ave"
  and ($wa[$e.uuid] // []) == [$loc1]
  and [$e.jobs[]?.title] == ["Batch \($i)"]
  and [$e.jobs[]?.compensations[]?.rate] == ["6\($i).00"]
  and $e.payment_method == "Direct Deposit"'
sb_stop "$AUDIT"
# Bank accounts are not served by the API: read them from the data file.
# Each batch employee has exactly one, holding only the last four digits.
sqlite3 -separator ' ' "$T/bat.db" \
    "SELECT json_extract(e.doc, '$.email'), count(b.uuid), group_concat(b.hidden_account_number)
       FROM employees e LEFT JOIN bank_accounts b ON b.employee_uuid = e.uuid
      WHERE json_extract(e.doc, '$.email') LIKE 'bat-%' GROUP BY e.uuid" >"$T/banks" 2>"$T/banks.err"
badbank=$(awk '{i = $1; sub(/^bat-/, "", i); sub(/@.*/, "", i); want = sprintf("XXXX%04d", (770000000 + i) % 10000)
                if ($2 != 1 || $3 != want) n++} END {print n + 0}' "$T/banks")
nbank=$(grep -c '' "$T/banks")
check "bat audit: every batch employee has its one bank account, masked to its last four digits ($nbank read, $badbank wrong)" \
    eval '[ "$nbank" -eq "$N" ] && [ "$badbank" -eq 0 ]'

lost=$((expected - created))
echo "# $(elapsed) s in all"
echo "$pass passed, $fail failed"
echo "soak: expected $expected created $created duplicated $dups lost $lost"
[ "$fail" -eq 0 ] && [ "$dups" -eq 0 ] && [ "$lost" -eq 0 ]
