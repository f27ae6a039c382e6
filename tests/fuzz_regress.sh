#!/bin/sh
# fuzz_regress.sh - replays every input the fuzzers ever crashed on (tests/fuzz-regressions/TARGET/) and the seed corpora (fuzz/corpus/TARGET/) through the fuzz harnesses, built with AddressSanitizer + UBSan and a plain main() (fuzz/replay.c) in build-san/.
#
# A crash found by `make fuzz` becomes a test by moving the file from
# fuzz/crashes/TARGET/ to tests/fuzz-regressions/TARGET/ with a name that
# says what it was.  Needs no clang: the harnesses build with cc.  Prints
# "ok - NAME" / "not ok - NAME" and ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.." || exit 1

B=${FUZZ_REGRESS_BUILD:-build-san}
TARGETS="input csv sandbox callback response jscan"
pass=0
fail=0
log=$(mktemp) || exit 1
trap 'rm -f "$log"' EXIT

bins=""
for t in $TARGETS; do bins="$bins $B/fuzz/$t"; done
# shellcheck disable=SC2086  # bins is a list
if ! make -s -j2 -f Makefile -f fuzz/fuzz.mk SAN=1 BUILD="$B" $bins >"$log" 2>&1; then
    cat "$log"
    echo "not ok - building the fuzz harnesses with sanitizers"
    echo "0 passed, 1 failed"
    exit 1
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# replay NAME BINARY FILE...: one check.
replay() {
    name=$1
    bin=$2
    shift 2
    if "$bin" "$@" >"$log" 2>&1; then
        pass=$((pass + 1))
        echo "ok - $name"
    else
        fail=$((fail + 1))
        echo "not ok - $name"
        grep -E 'ERROR|SUMMARY|runtime error|fuzz_[a-z]+: ' "$log" | head -5 | sed 's/^/#   /'
    fi
}

for t in $TARGETS; do
    for f in tests/fuzz-regressions/"$t"/*; do
        [ -f "$f" ] || continue
        replay "$t: regression $(basename "$f")" "$B/fuzz/$t" "$f"
    done
    if [ -d "fuzz/corpus/$t" ]; then
        n=$(find "fuzz/corpus/$t" -type f | wc -l)
        replay "$t: seed corpus ($n inputs) replays clean" "$B/fuzz/$t" "fuzz/corpus/$t"
    fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
