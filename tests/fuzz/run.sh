#!/bin/sh
# Runs the libFuzzer harnesses built by `make fuzz-build`, each on its committed corpus
# (tests/fuzz/corpus/<name>/) and then for SECONDS of fuzzing, and prints one line per harness:
#   PASS fuzz/<name> (...)   or   FAIL fuzz/<name> (...)
# followed by libFuzzer's numbers (executions, execs/s, coverage). Exit status is non-zero if any
# harness crashed, leaked, timed out or broke a property.
#
#   tests/fuzz/run.sh SECONDS [NAME...]
#
#   LOCI_FUZZ_BUILD  directory holding the harness binaries (default build/fuzz/fuzz)
#   LOCI_FUZZ_WORK   where new corpus entries and crash inputs go (default: a temporary
#                    directory, removed afterwards unless something failed). `make fuzz` sets it
#                    to build/fuzz/work so what a long run finds is kept.
#
# A harness may have tests/fuzz/<name>.dict (a libFuzzer dictionary) and tests/fuzz/<name>.options
# (extra libFuzzer flags, one line). New crashing inputs are written as <work>/crash-<name>-<sha1>;
# copy them into tests/fuzz/corpus/<name>/ under a name that says what they found.
set -u
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-5}
[ $# -gt 0 ] && shift
bin=${LOCI_FUZZ_BUILD:-$here/../../build/fuzz/fuzz}
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="suppressions=$here/../lsan.supp:print_suppressions=0"

names="$*"
if [ -z "$names" ]; then
    for f in "$here"/*.c; do
        names="$names $(basename "$f" .c)"
    done
fi

if [ -n "${LOCI_FUZZ_WORK:-}" ]; then
    work=$LOCI_FUZZ_WORK
    keep=1
else
    work=$(mktemp -d /tmp/loci-fuzz.XXXXXX)
    keep=""
fi
mkdir -p "$work"

failed=0
for n in $names; do
    exe="$bin/$n"
    if [ ! -x "$exe" ]; then
        echo "FAIL fuzz/$n (no binary $exe: run make fuzz-build)"
        failed=$((failed + 1))
        continue
    fi
    mkdir -p "$work/corpus/$n"
    set -- -max_total_time="$secs" -timeout=20 -print_final_stats=1 -artifact_prefix="$work/crash-$n-"
    [ -f "$here/$n.dict" ] && set -- "$@" -dict="$here/$n.dict"
    [ -f "$here/$n.options" ] && set -- "$@" $(cat "$here/$n.options")
    log="$work/$n.log"
    start=$(date +%s)
    "$exe" "$@" "$work/corpus/$n" "$here/corpus/$n" >"$log" 2>&1
    rc=$?
    took=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED)' "$log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\).*/cov \1, ft \2, corpus \3/p')
    seeds=$(ls "$here/corpus/$n" 2>/dev/null | wc -l)
    info="${took} s, ${execs:-?} execs, ${rate:-?}/s, ${cov:-no coverage line}, $seeds seeds"
    if [ "$rc" -eq 0 ]; then
        echo "PASS fuzz/$n ($info)"
    else
        echo "FAIL fuzz/$n (exit $rc; $info; log $log)"
        grep -E 'ERROR|SUMMARY|property failed|runtime error|Test unit written' "$log" | head -n 20 >&2
        tail -n 40 "$log" >&2
        failed=$((failed + 1))
    fi
done
if [ "$failed" -eq 0 ] && [ -z "$keep" ]; then
    rm -rf "$work"
fi
[ "$failed" -eq 0 ]
