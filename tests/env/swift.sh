#!/bin/sh
# A throwaway single-node OpenStack Swift on loopback: the real verifier of SigV4 presigned
# URLs (s3api) and Swift TempURLs (tempurl) for loci's end-to-end tests.
#
#   tests/env/swift.sh start DIR   set up and start proxy, account, container, object servers
#                                  and memcached under DIR; print the variables below
#   tests/env/swift.sh stop DIR    stop exactly the processes start recorded in DIR
#
# Printed (and written to DIR/env), shell-sourceable:
#   SWIFT_URL              proxy base URL (S3 endpoint, path-style)
#   SWIFT_S3_ACCESS_KEY    tempauth user as S3 access key ("test:tester")
#   SWIFT_S3_SECRET_KEY    its password as S3 secret ("testing")
#   SWIFT_S3_REGION        the region s3api expects in the credential scope
#   SWIFT_ACCOUNT_URL      the Swift account URL (TempURL endpoint)
#   SWIFT_AUTH_TOKEN       a tempauth token for the account
#   SWIFT_BUCKET           a container created for the tests
#   SWIFT_TEMPURL_KEY      the account's Temp-URL key
#
# Needs Debian's swift, swift-proxy, swift-account, swift-container, swift-object and memcached
# (scripts/deps.sh test). Runs as the invoking user; every server listens on 127.0.0.1 only.
set -eu

PY=/usr/bin/python3
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

stop() {
    [ -d "$dir/run" ] || return 0
    for f in "$dir"/run/*.pid; do
        [ -e "$f" ] || continue
        pid=$(cat "$f")
        kill "$pid" 2>/dev/null || true
    done
    for f in "$dir"/run/*.pid; do
        [ -e "$f" ] || continue
        pid=$(cat "$f")
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$f"
    done
}

if [ "$cmd" = stop ]; then
    stop
    exit 0
fi
[ "$cmd" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

for b in swift-proxy-server swift-account-server swift-container-server swift-object-server swift-ring-builder memcached; do
    command -v "$b" >/dev/null || { echo "swift.sh: $b is not installed (run scripts/deps.sh test)" >&2; exit 1; }
done
# Swift reads the hash path settings from this fixed path; the Debian package installs it.
if [ ! -r /etc/swift/swift.conf ]; then
    echo "swift.sh: /etc/swift/swift.conf is missing (install the swift package)" >&2
    exit 1
fi

mkdir -p "$dir/etc" "$dir/srv/d1" "$dir/run" "$dir/log" "$dir/cache"
user=$(id -un)

free_port() {
    $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
p_proxy=$(free_port); p_acc=$(free_port); p_con=$(free_port); p_obj=$(free_port); p_mc=$(free_port)

common() {
    cat <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $1
workers = 0
user = $user
swift_dir = $dir/etc
devices = $dir/srv
mount_check = false
log_name = $2
log_facility = LOG_LOCAL0
log_level = WARNING
log_address = $dir/log/no-syslog
EOF
}

for kind in account container object; do
    case $kind in account) port=$p_acc ;; container) port=$p_con ;; object) port=$p_obj ;; esac
    {
        common "$port" "$kind-server"
        cat <<EOF

[pipeline:main]
pipeline = $kind-server

[app:$kind-server]
use = egg:swift#$kind
EOF
        [ $kind = container ] && printf '\n[container-sync]\n'
        [ $kind = object ] && printf '\n[object-replicator]\n'
        true
    } >"$dir/etc/$kind-server.conf"
    (cd "$dir/etc" && swift-ring-builder $kind.builder create 0 1 1 >/dev/null &&
        swift-ring-builder $kind.builder add r1z1-127.0.0.1:$port/d1 1 >/dev/null &&
        swift-ring-builder $kind.builder rebalance >/dev/null 2>&1) || true
    [ -s "$dir/etc/$kind.ring.gz" ] || { echo "swift.sh: cannot build the $kind ring" >&2; exit 1; }
done

tempurl_key=loci-tempurl-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
{
    common "$p_proxy" proxy-server
    cat <<EOF

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats tempurl s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$p_mc

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:tempurl]
use = egg:swift#tempurl
allowed_digests = sha1 sha256 sha512

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
dns_compliant_bucket_names = false

[filter:tempauth]
use = egg:swift#tempauth
user_admin_admin = admin .admin .reseller_admin
user_test_tester = testing .admin

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo
EOF
} >"$dir/etc/proxy-server.conf"

# Swift's loggers want a syslog socket; give them a datagram sink of their own.
$PY - "$dir/log/no-syslog" >/dev/null 2>&1 <<'EOF' &
import os, socket, sys
p = sys.argv[1]
if os.path.exists(p):
    os.unlink(p)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(p)
while True:
    s.recv(65536)
EOF
echo $! >"$dir/run/syslog.pid"

memcached -l 127.0.0.1 -p "$p_mc" -U 0 -u "$user" -m 16 >"$dir/log/memcached.log" 2>&1 &
echo $! >"$dir/run/memcached.pid"

for kind in account container object proxy; do
    $PY /usr/bin/swift-$kind-server "$dir/etc/$kind-server.conf" >"$dir/log/$kind.log" 2>&1 &
    echo $! >"$dir/run/$kind.pid"
done

url=http://127.0.0.1:$p_proxy
fail() {
    echo "swift.sh: $1" >&2
    for f in "$dir"/log/*.log; do echo "--- $f" >&2; tail -n 20 "$f" >&2; done
    stop
    exit 1
}

# wait for the proxy, then for authentication (which needs the account ring and memcached)
i=0
until $PY -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "$url/healthcheck" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 300 ] || fail "the proxy did not come up"
    sleep 0.2
done

$PY - "$url" "$tempurl_key" >"$dir/auth.env" <<'EOF' || fail "cannot authenticate or create the test container"
import sys, time, urllib.request, urllib.error
url, key = sys.argv[1], sys.argv[2]
deadline = time.time() + 60
last = None
while time.time() < deadline:
    try:
        r = urllib.request.urlopen(urllib.request.Request(url + "/auth/v1.0", headers={
            "X-Auth-User": "test:tester", "X-Auth-Key": "testing"}), timeout=5)
        token, storage = r.headers["X-Auth-Token"], r.headers["X-Storage-Url"]
        for method, path, hdrs in (("POST", "", {"X-Account-Meta-Temp-URL-Key": key}),
                                   ("PUT", "/loci-test", {})):
            req = urllib.request.Request(storage + path, method=method, headers=dict(hdrs, **{"X-Auth-Token": token}))
            urllib.request.urlopen(req, timeout=5)
        print("SWIFT_ACCOUNT_URL=" + storage)
        print("SWIFT_AUTH_TOKEN=" + token)
        sys.exit(0)
    except (urllib.error.URLError, OSError, KeyError) as e:
        last = e
        time.sleep(0.3)
sys.stderr.write("swift auth: %s\n" % last)
sys.exit(1)
EOF

{
    echo "SWIFT_URL=$url"
    echo "SWIFT_S3_ACCESS_KEY=test:tester"
    echo "SWIFT_S3_SECRET_KEY=testing"
    echo "SWIFT_S3_REGION=us-east-1"
    cat "$dir/auth.env"
    echo "SWIFT_BUCKET=loci-test"
    echo "SWIFT_TEMPURL_KEY=$tempurl_key"
} >"$dir/env"
cat "$dir/env"
