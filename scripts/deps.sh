#!/bin/sh
# Installs the Debian packages loci needs and that are missing.
#   scripts/deps.sh build   what `make` needs to compile and link loci
#   scripts/deps.sh test    that, plus what `make test` needs (verifiers, SDK clients, tools; clang,
#                           its sanitizer and libFuzzer runtimes and llvm-symbolizer for tests/fuzz;
#                           PostgreSQL 15 and psycopg2 for the PostgreSQL pass and e2e_pg_cluster)
#   scripts/deps.sh bench   that of build, plus what `make bench` needs (load generators, baselines,
#                           PostgreSQL for the node-pg peer, gnuplot, perf)
# Runs apt-get only when something is missing, so repeated calls are cheap.
set -eu

build_pkgs="gcc make pkg-config libh2o-evloop-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev
libjansson-dev libyaml-dev libpq-dev"
test_pkgs="curl sqlite3 python3-botocore python3-yaml python3-swiftclient memcached
swift swift-proxy swift-object swift-container swift-account
clang libclang-rt-dev llvm postgresql-15 python3-psycopg2"
bench_pkgs="curl wrk redis-server redis-tools gnuplot-nox linux-perf postgresql-15 python3"

case "${1:-build}" in
build) want="$build_pkgs" ;;
test) want="$build_pkgs $test_pkgs" ;;
bench) want="$build_pkgs $bench_pkgs" ;;
*) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac

# The npm clients the tests use (official SDKs as reference signers, Azurite as a verifier),
# pinned by tests/node/package-lock.json; installed only for `test`.
npm_deps() {
    [ "${1:-build}" = test ] || return 0
    dir=$(cd "$(dirname "$0")/../tests/node" && pwd)
    stamp="$dir/node_modules/.loci-lock"
    if [ -f "$stamp" ] && cmp -s "$stamp" "$dir/package-lock.json"; then
        return 0
    fi
    echo "installing test clients from npm (tests/node)" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) && cp "$dir/package-lock.json" "$stamp"
}

missing=""
# Node.js may come from elsewhere than Debian (the machine image has one): only ask apt for it
# when there is no node/npm at all.
if [ "${1:-build}" != build ] && ! { command -v node >/dev/null && command -v npm >/dev/null; }; then
    missing="nodejs npm"
fi
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -z "$missing" ]; then
    npm_deps "${1:-build}"
    exit 0
fi

echo "installing:$missing" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# Debian's maintainer scripts would start swift and memcached as system services;
# loci's tests start their own instances on loopback, so keep the packaged ones off.
policy=/usr/sbin/policy-rc.d
added_policy=""
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    added_policy=1
fi
$sudo apt-get update -q >/dev/null || true
$sudo apt-get install -y -q --no-install-recommends $missing >/dev/null
[ -n "$added_policy" ] && $sudo rm -f "$policy"
npm_deps "${1:-build}"
exit 0
