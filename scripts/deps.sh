#!/bin/sh
# Installs the Debian packages loci needs and that are missing.
#   scripts/deps.sh build   what `make` needs to compile and link loci
#   scripts/deps.sh test    that, plus what `make test` needs (verifiers, SDK clients, tools)
# Runs apt-get only when something is missing, so repeated calls are cheap.
set -eu

build_pkgs="gcc make pkg-config libh2o-evloop-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev
libjansson-dev libyaml-dev libpq-dev"
test_pkgs="curl sqlite3 python3-botocore python3-yaml memcached
swift swift-proxy swift-object swift-container swift-account"

case "${1:-build}" in
build) want="$build_pkgs" ;;
test) want="$build_pkgs $test_pkgs" ;;
*) echo "usage: $0 build|test" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

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
exit 0
