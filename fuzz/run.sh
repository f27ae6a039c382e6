#!/bin/sh
# run.sh - `make fuzz`: builds the libFuzzer harnesses with clang into build-fuzz/ and runs each for FUZZ_SECONDS (default 60) from fuzz/corpus/TARGET; crashes are saved in fuzz/crashes/TARGET/.
#
# FUZZ_TARGETS limits the targets ("input csv sandbox callback response jscan").
# The working corpus grows in build-fuzz/corpus/TARGET; the committed seeds
# in fuzz/corpus/ are only read.  A crash file becomes a regression test by
# moving it to tests/fuzz-regressions/TARGET/ (tests/fuzz_regress.sh
# replays it on every make test).  Prints "ok -"/"not ok -" per target and
# ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.." || exit 1

SECS=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-input csv sandbox callback response jscan}
B=build-fuzz
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"

if ! command -v clang >/dev/null 2>&1; then
    echo "not ok - clang is missing (apt-get install clang libclang-rt-14-dev)"
    echo "0 passed, 1 failed"
    exit 1
fi
mkdir -p "$B"
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' \
    >"$B/probe.c"
if ! clang -fsanitize=fuzzer -o "$B/probe" "$B/probe.c" >/dev/null 2>&1; then
    echo "not ok - clang cannot link libFuzzer (apt-get install libclang-rt-14-dev)"
    echo "0 passed, 1 failed"
    exit 1
fi
bins=""
for t in $TARGETS; do bins="$bins $B/fuzz/$t"; done
# shellcheck disable=SC2086  # bins is a list
if ! make -s -j2 -f Makefile -f fuzz/fuzz.mk BUILD=$B CC=clang SAN=1 FUZZ=1 OPT="-O1 -g" \
    SAN_FLAGS="$SAN" $bins; then
    echo "not ok - building the fuzz harnesses"
    echo "0 passed, 1 failed"
    exit 1
fi

pass=0
fail=0
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in $TARGETS; do
    mkdir -p "$B/corpus/$t" "fuzz/crashes/$t" "fuzz/corpus/$t"
    dict=
    [ -f "fuzz/$t.dict" ] && dict="-dict=fuzz/$t.dict"
    log=$B/$t.log
    maxlen=8192
    [ "$t" = response ] && maxlen=32768 # a seed is a whole conversation
    # shellcheck disable=SC2086  # dict is one optional word
    "$B/fuzz/$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=$maxlen \
        -print_final_stats=1 -artifact_prefix="fuzz/crashes/$t/" $dict \
        "$B/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | sed 's/cov: //')
    units=$(find "$B/corpus/$t" -type f | wc -l)
    if [ "$rc" -eq 0 ]; then
        pass=$((pass + 1))
        echo "ok - fuzz $t: ${execs:-?} runs in ${SECS}s, coverage ${cov:-?} edges, corpus $units, no crash"
    else
        fail=$((fail + 1))
        crash=$(grep -oE "fuzz/crashes/$t/[^ ]+" "$log" | tail -1)
        echo "not ok - fuzz $t: exit $rc after ${execs:-?} runs; input saved as ${crash:-?}"
        grep -E 'ERROR|SUMMARY|fuzz_[a-z]+: |#[0-9]+ 0x' "$log" | head -12 | sed 's/^/#   /'
        echo "#   replay: $B/fuzz/$t ${crash:-CRASHFILE}; keep it as a test: mv it to tests/fuzz-regressions/$t/"
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
