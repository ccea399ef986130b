#!/bin/sh
# Runs every test: the C unit tests, then the end-to-end suites in tests/e2e/ against the
# real binary. Each suite prints "PASS <name>" / "FAIL <name>" lines; this script counts
# them and ends with the line "N passed, N failed". A suite that dies without reporting
# counts as one failure. Exit status is non-zero if anything failed.
#
#   LOCI_BIN    the loci binary to test (set by `make test`)
#   LOCI_BUILD  the build directory holding unit-tests and tools/
#   TESTS       optional space-separated list of suite names to run (e.g. "unit e2e_api e2e_api[pg]")
#   PG_SUITES   the e2e suites run a second time on PostgreSQL, named e2e_<suite>[pg]
#               (default: the ones that exercise the metadata store, see docs/testing.md)
#
# The PostgreSQL pass starts a throwaway PostgreSQL 15 cluster (tests/env/postgres.sh) and runs
# each of PG_SUITES with LOCI_DATABASE naming it (tests/e2e/harness.py then gives every server a
# database of its own there); the cluster is stopped and removed afterwards.
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
# ThreadSanitizer builds: the first report ends the process with status 66 and is written to
# $log/tsan.<pid>; any such file fails the run (tests/tsan.supp names the only reports ignored)
export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1:suppressions=$here/tsan.supp:log_path=$log/tsan:${TSAN_OPTIONS:-}"
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

# the same suites on PostgreSQL: one throwaway cluster for the pass, removed afterwards
: "${PG_SUITES:=api server audit cli import isolation multipart hostile crash}"
pg_wanted=""
for s in $PG_SUITES; do want "e2e_$s[pg]" && pg_wanted="$pg_wanted $s"; done
if [ -n "$pg_wanted" ]; then
    pgdir=$(mktemp -d /tmp/loci-pg.XXXXXX)
    chmod 0755 "$pgdir"
    echo "== postgres (tests/env/postgres.sh start $pgdir/c)"
    if "$here/env/postgres.sh" start "$pgdir/c" --no-fsync >"$log/postgres.env" 2>"$log/postgres.err"; then
        pg_url=$(sed -n 's/^PG_URL=//p' "$log/postgres.env")
        for s in $pg_wanted; do
            run_suite "e2e_$s[pg]" env LOCI_DATABASE="$pg_url" $PY "$here/e2e/test_$s.py"
        done
    else
        echo "   FAIL postgres: the cluster did not start"
        sed 's/^/   | /' "$log/postgres.err"
        failed=$((failed + 1))
    fi
    "$here/env/postgres.sh" stop "$pgdir/c" 2>>"$log/postgres.err"
    rmdir "$pgdir" 2>/dev/null
fi

# the libFuzzer harnesses, each on its corpus plus a few seconds of fuzzing (tests/fuzz/run.sh);
# `make test` sets LOCI_FUZZ_BUILD (not for sanitizer builds: the harnesses are ASan+UBSan builds)
if [ -n "${LOCI_FUZZ_BUILD:-}" ]; then
    run_suite fuzz "$here/fuzz/run.sh" "${LOCI_FUZZ_SECONDS:-3}"
fi

for r in "$log"/tsan.*; do
    [ -e "$r" ] || continue
    echo "   FAIL ThreadSanitizer report $r:"
    head -n 40 "$r" | sed 's/^/   | /'
    failed=$((failed + 1))
done

echo "logs: $log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
