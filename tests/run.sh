#!/bin/sh
# Runs every test: the C unit tests, then the end-to-end suites in tests/e2e/ against the
# real binary. Each suite prints "PASS <name>" / "FAIL <name>" lines; this script counts
# them and ends with the line "N passed, N failed". A suite that dies without reporting
# counts as one failure. Exit status is non-zero if anything failed.
#
#   LOCI_BIN    the loci binary to test (set by `make test`)
#   LOCI_BUILD  the build directory holding unit-tests and tools/
#   TESTS       optional space-separated list of suite names to run (e.g. "unit e2e_api")
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${LOCI_BUILD:=$here/../build/rel}"
: "${LOCI_BIN:=$LOCI_BUILD/loci}"
export LOCI_BIN LOCI_BUILD
export LOCI_TEST_VECTORS="$here/vectors"
# sanitizer builds: fail on any report; ignore only what libh2o itself leaks at exit
export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="abort_on_error=0:detect_leaks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
PY=/usr/bin/python3
log=$(mktemp -d /tmp/loci-test.XXXXXX)
passed=0
failed=0

want() {
    [ -z "${TESTS:-}" ] && return 0
    for t in $TESTS; do [ "$t" = "$1" ] && return 0; done
    return 1
}

run_suite() {
    name=$1
    shift
    want "$name" || return 0
    echo "== $name"
    out="$log/$name.out"
    start=$(date +%s)
    "$@" >"$out" 2>"$log/$name.err"
    rc=$?
    p=$(grep -c '^PASS ' "$out")
    f=$(grep -c '^FAIL ' "$out")
    grep -E '^(PASS|FAIL|SKIP) ' "$out" | sed 's/^/   /'
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "   FAIL $name (exited $rc without reporting a failure)"
        f=$((f + 1))
    fi
    if [ "$f" -ne 0 ]; then
        echo "   --- stderr of $name (last 60 lines):"
        tail -n 60 "$log/$name.err" | sed 's/^/   | /'
    fi
    echo "   ($(($(date +%s) - start)) s)"
    passed=$((passed + p))
    failed=$((failed + f))
}

run_suite unit "$LOCI_BUILD/unit-tests"
for t in "$here"/e2e/test_*.py; do
    [ -e "$t" ] || continue
    n=$(basename "$t" .py)
    run_suite "e2e_${n#test_}" $PY "$t"
done

echo "logs: $log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
