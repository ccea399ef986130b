#!/bin/sh
# `make bench`: installs what is missing, builds loci and the hello-world baseline, and runs
# bench/bench.py (see its header and docs/benchmarks.md for what is measured and how).
#
#   bench/run.sh                      the full run, ~5-10 min: 1M objects, appends to docs/benchmarks.md
#   BENCH_QUICK=1 bench/run.sh        a quick development run (100k objects, short runs, no peer, no docs)
#   BENCH_OBJECTS=10000000 bench/run.sh   the 10M data set (also measures 1M in the same run)
#   BENCH_PROFILE=1 bench/run.sh      also records perf profiles of locate and mix (kept in the work dir)
#
# BUILD (default build/rel) is where loci and hello are built; other BENCH_* settings are read
# by bench.py.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build/rel}
"$here/scripts/deps.sh" bench
make -C "$here" --no-print-directory BUILD="$build" "$build/loci" "$build/hello" "$build/signbench"
BENCH_BUILD="$here/$build" LOCI_BIN="${LOCI_BIN:-$here/$build/loci}" BENCH_HELLO="$here/$build/hello" \
    BENCH_SIGNBENCH="$here/$build/signbench" \
    exec /usr/bin/python3 "$here/bench/bench.py"
