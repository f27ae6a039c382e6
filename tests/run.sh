#!/bin/sh
# run.sh - the whole test suite, as `make test` and CI run it.
#
# Stages: build + lint; the C integration tests against gusto-sandbox; the
# libgusto tests (and every allocation of a create and an update failed in
# turn: oom) and the CLI tests (at the default API version and again
# pinned to 2026-06-15), the CLI on a pseudo-terminal at 80 and 160 columns
# (tty) and an install test; the security review's
# tests, 8 concurrent writers, the sandbox under 10,000 malformed requests
# (hostile) and valgrind memcheck; the Node conformance test (every response
# checked against Gusto's OpenAPI schemas) and Gusto's official TypeScript
# SDK against the sandbox; then the C tests again with AddressSanitizer +
# UBSan, and every fuzzing crash and seed replayed under them
# (fuzz-regress).  Every stage prints its own "N passed, N failed"; this
# script adds them up and ends with the total.  `make fuzz` and `make soak`
# are longer and run on their own.
#
# tests/run.sh --check (make check) is the fast loop: the build, the C tests
# and the CLI tests, with no root, no package installs and no network
# beyond 127.0.0.1; a couple of minutes.
set -u
check=
[ "${1:-}" = "--check" ] && check=1
cd "$(dirname "$0")/.."

total_pass=0
total_fail=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# run_stage NAME COMMAND...: run, echo its output, add its counts.  A stage
# that ends without a count line (a crash, a build failure) counts as one
# failure, so nothing can pass by printing nothing.
run_stage() {
    name=$1; shift
    echo "=== $name"
    t0=$(date +%s)
    "$@" >"$log/out" 2>&1
    rc=$?
    secs=$(($(date +%s) - t0))
    cat "$log/out"
    line=$(grep -E '^([A-Za-z_-]+: )?[0-9]+ passed, [0-9]+ failed' "$log/out" | tail -1)
    if [ -n "$line" ]; then
        p=$(echo "$line" | sed -E 's/^([A-Za-z_-]+: )?([0-9]+) passed.*/\2/')
        f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    else
        p=0; f=1
    fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    echo "=== $name: $p passed, $f failed (exit $rc, $secs s)"
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
}

build() {
    make -j2 all && make lint && echo "build: 1 passed, 0 failed"
}

# The last line, and the exit status, of a run.
finish() {
    echo
    echo "$total_pass passed, $total_fail failed"
    [ "$total_fail" -eq 0 ]
    exit
}
run_stage build build

run_stage sandbox ./build/tests/sandbox_test
run_stage libgusto ./build/tests/lib_test
run_stage oauth ./build/tests/oauth_test
run_stage batches ./build/tests/batches_test
run_stage oom ./build/tests/oom_test
run_stage term ./build/tests/term_test
run_stage cli ./tests/cli_test.sh
run_stage tty ./tests/tty_test.sh
if [ -n "$check" ]; then
    run_stage help env HELP_SHELLS_OPTIONAL=1 ./tests/help_test.sh
    run_stage batch-cli ./tests/batch_cli_test.sh
    finish
fi
# The client's tests again at the previous version, so the two newest
# versions Gusto serves are both exercised (default: GUSTO_API_VERSION 2026-12-01).
run_stage libgusto-2026-06-15 env GUSTO_API_VERSION=2026-06-15 ./build/tests/lib_test
run_stage cli-2026-06-15 env GUSTO_API_VERSION=2026-06-15 ./tests/cli_test.sh
run_stage help ./tests/help_test.sh
run_stage connect ./tests/connect_test.sh
run_stage batch-cli ./tests/batch_cli_test.sh
run_stage serve ./tests/serve_test.sh
run_stage sync ./tests/sync_test.sh
run_stage replicas ./tests/replicas_test.sh
run_stage install ./tests/install_test.sh
run_stage security ./tests/security_test.sh
run_stage concurrency ./tests/concurrency_test.sh
run_stage hostile ./build/tests/hostile_test
run_stage valgrind ./tests/valgrind.sh

# npm ci once per run (it wipes node_modules), then each Node test.
npm_ready=
node_tests() {
    if ! command -v node >/dev/null 2>&1; then
        echo "node is missing: run scripts/deps.sh"; return 1
    fi
    if [ -z "$npm_ready" ]; then
        (cd tests/node && npm ci --no-audit --no-fund --loglevel=error) || return 1
        npm_ready=1
    fi
    GUSTO_SANDBOX=build/gusto-sandbox node tests/node/"$1"
}
run_stage conformance node_tests conformance.mjs
run_stage sdk node_tests sdk.mjs
run_stage browser node_tests browser.mjs
run_stage gusto_cli_auth node_tests gusto-cli-auth.mjs
run_stage mcp node_tests mcp.mjs

san_build() {
    make -j2 SAN=1 BUILD=build-san build-san/gusto-sandbox build-san/gusto-connect \
        build-san/tests/sandbox_test build-san/tests/lib_test build-san/tests/oauth_test \
        build-san/tests/batches_test build-san/tests/hostile_test build-san/tests/oom_test \
        build-san/tests/term_test &&
        echo "san-build: 1 passed, 0 failed"
}
run_stage san-build san_build
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_stage sandbox-asan env GUSTO_SANDBOX=build-san/gusto-sandbox ./build-san/tests/sandbox_test
run_stage libgusto-asan env GUSTO_SANDBOX=build-san/gusto-sandbox ./build-san/tests/lib_test
run_stage oauth-asan env GUSTO_SANDBOX=build-san/gusto-sandbox ./build-san/tests/oauth_test
run_stage batches-asan env GUSTO_SANDBOX=build-san/gusto-sandbox ./build-san/tests/batches_test
run_stage oom-asan env GUSTO_SANDBOX=build-san/gusto-sandbox ./build-san/tests/oom_test
run_stage term-asan ./build-san/tests/term_test
run_stage cli-asan env GUSTO=build-san/gusto-connect GUSTO_SANDBOX=build-san/gusto-sandbox \
    ./tests/cli_test.sh
run_stage batch-cli-asan env GUSTO=build-san/gusto-connect GUSTO_SANDBOX=build-san/gusto-sandbox \
    ./tests/batch_cli_test.sh
run_stage serve-asan env GUSTO=build-san/gusto-connect GUSTO_SANDBOX=build-san/gusto-sandbox \
    ./tests/serve_test.sh
# The connection store on PostgreSQL (row lock, kept sessions, serve replicas).
run_stage connect-pg-asan env GUSTO=build-san/gusto-connect GUSTO_SANDBOX=build-san/gusto-sandbox \
    CONNECT_ONLY=pg CONNECT_NO_VALGRIND=1 ./tests/connect_test.sh
# RSS says nothing under ASan's quarantine: the memory bound is checked above.
run_stage hostile-asan env GUSTO_SANDBOX=build-san/gusto-sandbox HOSTILE_SKIP_RSS=1 \
    ./build-san/tests/hostile_test
run_stage fuzz-regress ./tests/fuzz_regress.sh

finish
