#!/bin/sh
# A throwaway single-node OpenStack Swift on loopback: the real verifier of SigV4 presigned
# URLs (s3api) and Swift TempURLs (tempurl) for loci's end-to-end tests.
#
#   tests/env/swift.sh start DIR   set up and start memcached and Swift's proxy, account,
#                                  container and object servers under DIR; print the variables
#                                  below once the proxy authenticates and the bucket exists
#   tests/env/swift.sh stop DIR    stop exactly the processes start recorded in DIR (safe to
#                                  repeat, and after a failed start); leaves DIR's files
#
# Printed on stdout (and written to DIR/env), shell-sourceable:
#   SWIFT_URL              proxy base URL; the S3 endpoint (path-style: $SWIFT_URL/$SWIFT_BUCKET/key)
#   SWIFT_S3_ACCESS_KEY    S3 access key id: the tempauth user "test:tester"
#   SWIFT_S3_SECRET_KEY    S3 secret: that user's password "testing"
#   SWIFT_S3_REGION        the region s3api requires in the SigV4 credential scope (its `location`)
#   SWIFT_ACCOUNT_URL      the Swift account URL, $SWIFT_URL/v1/AUTH_test (TempURL paths start at /v1/)
#   SWIFT_AUTH_TOKEN       a tempauth token for that account (X-Auth-Token), valid 24 h
#   SWIFT_BUCKET           the container/bucket created for the tests, "loci-test"
#   SWIFT_TEMPURL_KEY      the account's X-Account-Meta-Temp-URL-Key (HMAC key for TempURLs)
#
# What a SigV4 signer must do for this s3api (Swift 2.30): credential scope
# <date>/$SWIFT_S3_REGION/s3/aws4_request (another region: 400 AuthorizationQueryParametersError);
# path-style URLs only (no storage_domain); the signed host is "127.0.0.1:PORT"; presigned
# requests use UNSIGNED-PAYLOAD; X-Amz-Expires at most 604800. Signed headers (content-type,
# content-length) are enforced through the signature, but x-amz-checksum-* values are not checked
# against the body. Unsigned x-amz-meta-*/acl/grant/copy headers are refused.
#
# Everything lives under DIR: etc/ (configs, rings), srv/d1 (the one device), log/ (one log per
# process), run/ (pid files). Servers listen on 127.0.0.1 only, on ports free at start time, and
# run as the invoking user. Swift itself always reads /etc/swift/swift.conf (hash path
# prefix/suffix, storage policies); it is created if missing and left alone if present.
# Needs Debian's swift, swift-proxy, swift-account, swift-container, swift-object and memcached
# (scripts/deps.sh test), run with /usr/bin/python3.
set -eu

PY=/usr/bin/python3
# eventlet otherwise imports dnspython and httpx, half a second per process; all names here are IPs
EVENTLET_NO_GREENDNS=yes
export EVENTLET_NO_GREENDNS
REGION=us-east-1
BUCKET=loci-test
SWIFT_CONF=/etc/swift/swift.conf

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then usage; fi

say() { echo "swift.sh: $*" >&2; }

# --- processes -----------------------------------------------------------------------------
# run/NAME.pid holds the pid (written by the child itself before it execs the server, so a
# start that is killed half-way still leaves a record); run/NAME.start holds the process's start
# time from /proc, so stop never signals an unrelated process that reused the pid.

proc_field() { # pid n: field n (1-based, n >= 3) of /proc/pid/stat, empty if no such process
    _s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    _k=$2
    _s=${_s##*) }
    # shellcheck disable=SC2086
    set -- $_s
    shift $((_k - 3))
    echo "$1"
}

alive() { # pid: running and not a zombie
    kill -0 "$1" 2>/dev/null || return 1
    [ -r "/proc/$1/stat" ] || return 0
    _st=$(proc_field "$1" 3)
    [ -n "$_st" ] && [ "$_st" != Z ] && [ "$_st" != X ]
}

ours() { # name pid: the pid still is the process we started
    [ -r "/proc/$2/stat" ] || return 0 # no /proc: trust the pid file
    [ -s "$dir/run/$1.start" ] || return 0 # recorded by the child moments before start died
    [ "$(proc_field "$2" 22)" = "$(cat "$dir/run/$1.start")" ]
}

spawn() { # name command...: start in the background, stdin closed, output to log/NAME.log
    _name=$1
    shift
    # shellcheck disable=SC2016
    sh -c 'echo $$ >"$0"; exec "$@"' "$dir/run/$_name.pid" "$@" \
        </dev/null >"$dir/log/$_name.log" 2>&1 &
    _pid=$!
    echo "$_pid" >"$dir/run/$_name.pid"
    proc_field "$_pid" 22 >"$dir/run/$_name.start" || true
}

stop_all() {
    [ -d "$dir/run" ] || return 0
    # twice: a child of a start that was killed may write its pid file late
    for _round in 1 2; do
        _pids=""
        for _f in "$dir"/run/*.pid; do
            [ -e "$_f" ] || continue
            _name=$(basename "$_f" .pid)
            _pid=$(cat "$_f" 2>/dev/null || true)
            case $_pid in '' | *[!0-9]*) rm -f "$_f" "$dir/run/$_name.start"; continue ;; esac
            if alive "$_pid" && ours "$_name" "$_pid"; then
                kill -TERM "$_pid" 2>/dev/null || true
                _pids="$_pids $_name:$_pid"
            else
                rm -f "$_f" "$dir/run/$_name.start"
            fi
        done
        for _np in $_pids; do
            _name=${_np%%:*}
            _pid=${_np#*:}
            _i=0
            while alive "$_pid" && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i + 1)); done
            if alive "$_pid"; then
                kill -KILL "$_pid" 2>/dev/null || true
                _i=0
                while alive "$_pid" && [ $_i -lt 40 ]; do sleep 0.05; _i=$((_i + 1)); done
            fi
            rm -f "$dir/run/$_name.pid" "$dir/run/$_name.start"
        done
        [ -n "$_pids" ] || break
    done
}

if [ "$cmd" = stop ]; then
    [ -d "$dir" ] || exit 0
    dir=$(cd "$dir" && pwd)
    stop_all
    exit 0
fi
[ "$cmd" = start ] || usage

# --- prerequisites -------------------------------------------------------------------------
[ -x "$PY" ] || { say "$PY is missing"; exit 1; }
for b in swift-proxy-server swift-account-server swift-container-server swift-object-server; do
    [ -r "/usr/bin/$b" ] || { say "/usr/bin/$b is missing (run scripts/deps.sh test)"; exit 1; }
done
command -v memcached >/dev/null || { say "memcached is missing (run scripts/deps.sh test)"; exit 1; }

# Swift reads the hash path settings and storage policies from this fixed path.
if [ ! -e "$SWIFT_CONF" ]; then
    if ! { mkdir -p "${SWIFT_CONF%/*}" 2>/dev/null && tmp=$(mktemp "$SWIFT_CONF.XXXXXX" 2>/dev/null); }; then
        say "$SWIFT_CONF is missing and $(id -un) cannot create it; Swift reads it from that fixed path."
        say "run this once as root (it then creates the file), or reinstall Debian's swift package, which ships it"
        exit 1
    fi
    rnd() { od -An -N8 -tx1 /dev/urandom | tr -d ' \n'; }
    printf '# created by loci tests/env/swift.sh\n[swift-hash]\nswift_hash_path_prefix = %s\nswift_hash_path_suffix = %s\n\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n' \
        "$(rnd)" "$(rnd)" >"$tmp"
    chmod 644 "$tmp"
    # ln, not mv: atomic and never replaces a file another start created meanwhile
    if ln "$tmp" "$SWIFT_CONF" 2>/dev/null; then say "created $SWIFT_CONF"; fi
    rm -f "$tmp"
fi
[ -r "$SWIFT_CONF" ] || { say "$SWIFT_CONF exists but $(id -un) cannot read it"; exit 1; }

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# start wipes its own subdirectories of DIR: only in an empty DIR or one an earlier start made
if [ ! -e "$dir/.loci-swift" ] && [ -n "$(ls -A "$dir")" ]; then
    say "$dir is not empty and was not made by $0; give it an empty or new directory"
    exit 1
fi
: >"$dir/.loci-swift"
for f in "$dir"/run/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    if [ -n "$pid" ] && alive "$pid" && ours "$(basename "$f" .pid)" "$pid"; then
        say "$dir already has a running instance (pid $pid); run: $0 stop $dir"
        exit 1
    fi
done
rm -rf "${dir:?}/etc" "${dir:?}/srv" "${dir:?}/run" "${dir:?}/log" "${dir:?}/env"
mkdir -p "$dir/etc" "$dir/srv/d1" "$dir/run" "$dir/log"
user=$(id -un)

# --- one attempt: ports, rings, configs, processes, readiness --------------------------------
write_configs() {
    for kind in account container object proxy; do
        case $kind in
        account) port=$p_acc ;;
        container) port=$p_con ;;
        object) port=$p_obj ;;
        proxy) port=$p_proxy ;;
        esac
        # log_udp_port 9 (discard): Swift always adds a syslog handler; this keeps it from
        # /dev/log. `-v` on the command line copies every log line to log/NAME.log instead.
        cat >"$dir/etc/$kind-server.conf" <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $port
# a port taken since it was picked: exit soon (start then retries on new ports), not in 30 s
bind_timeout = 2
workers = 0
user = $user
swift_dir = $dir/etc
devices = $dir/srv
mount_check = false
disable_fallocate = true
log_name = $kind-server
log_level = INFO
log_udp_host = 127.0.0.1
log_udp_port = 9
EOF
    done
    for kind in account container object; do
        cat >>"$dir/etc/$kind-server.conf" <<EOF

[pipeline:main]
pipeline = $kind-server

[app:$kind-server]
use = egg:swift#$kind
EOF
    done
    cat >>"$dir/etc/proxy-server.conf" <<EOF

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl ratelimit s3api tempauth copy container-quotas account-quotas slo dlo versioned_writes symlink proxy-logging proxy-server

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

[filter:bulk]
use = egg:swift#bulk

[filter:tempurl]
use = egg:swift#tempurl
allowed_digests = sha1 sha256 sha512

[filter:ratelimit]
use = egg:swift#ratelimit

[filter:s3api]
use = egg:swift#s3api
# the region a SigV4 credential scope must name (s3api also accepts its lower-case form)
location = $REGION
# path-style only: no storage_domain, so the bucket is always the first path segment
dns_compliant_bucket_names = true
# also log the Swift subrequests behind each S3 request (log/proxy.log)
force_swift_request_proxy_log = true

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin

[filter:copy]
use = egg:swift#copy

[filter:container-quotas]
use = egg:swift#container_quotas

[filter:account-quotas]
use = egg:swift#account_quotas

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo

[filter:versioned_writes]
use = egg:swift#versioned_writes

[filter:symlink]
use = egg:swift#symlink
EOF
}

show_logs() {
    for f in "$dir"/log/*.log; do
        [ -s "$f" ] || continue
        echo "--- $f (last 25 lines)" >&2
        tail -n 25 "$f" >&2
    done
}

attempt() {
    # free ports, a user-xattr check on the device, and one ring per server type and policy,
    # all in one interpreter (swift-ring-builder costs a second per call)
    ports=$("$PY" - "$dir" <<'EOF'
import os, socket, sys
try:
    from swift.common.ring import RingBuilder
    from swift.common.storage_policy import POLICIES, EC_POLICY
except ImportError as e:
    sys.exit("swift.sh: %s cannot import swift (%s); run scripts/deps.sh test" % (sys.executable, e))
d = sys.argv[1]
socks, ports = [], []
while len(ports) < 5:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
    ports.append(s.getsockname()[1])
for s in socks:
    s.close()
try:
    os.setxattr(os.path.join(d, "srv", "d1"), "user.loci-swift-check", b"1")
except OSError as e:
    sys.exit("swift.sh: %s has no user xattrs (%s), which Swift's object server needs; "
             "use a directory on a disk file system (tmpfs supports them only from Linux 6.6)" % (d, e))
proxy, acc, con, obj, mc = ports
rings = [("account", acc, 1), ("container", con, 1)]
for p in POLICIES:
    rings.append((p.ring_name, obj, p.ec_n_unique_fragments if p.policy_type == EC_POLICY else 1))
for name, port, replicas in rings:
    b = RingBuilder(0, replicas, 1)
    b.add_dev({"region": 1, "zone": 1, "ip": "127.0.0.1", "port": port, "device": "d1", "weight": 1.0})
    b.rebalance()
    b.get_ring().save(os.path.join(d, "etc", name + ".ring.gz"))
print(*ports)
EOF
    ) || return 2
    # shellcheck disable=SC2086
    set -- $ports
    p_proxy=$1 p_acc=$2 p_con=$3 p_obj=$4 p_mc=$5
    write_configs

    if [ "$(id -u)" -eq 0 ]; then
        spawn memcached memcached -l 127.0.0.1 -p "$p_mc" -U 0 -m 16 -c 256 -t 1 -u "$user"
    else
        spawn memcached memcached -l 127.0.0.1 -p "$p_mc" -U 0 -m 16 -c 256 -t 1
    fi
    for kind in account container object proxy; do
        spawn "$kind" "$PY" "/usr/bin/swift-$kind-server" "$dir/etc/$kind-server.conf" -v
    done

    # Wait for /healthcheck, then authenticate, set the Temp-URL key, create the bucket and
    # check that s3api (SigV4, our region) lists it. Exit 3: a process died (e.g. lost a port
    # race), worth another attempt; exit 1: gave up.
    "$PY" - "$dir" "http://127.0.0.1:$p_proxy" "$REGION" "$BUCKET" >"$dir/env.tmp" <<'EOF'
import datetime, hashlib, hmac, os, sys, time, urllib.error, urllib.request
d, url, region, bucket = sys.argv[1:5]
deadline = time.time() + 60
names = ["memcached", "account", "container", "object", "proxy"]

def check_alive():
    for n in names:
        try:
            pid = int(open(os.path.join(d, "run", n + ".pid")).read())
        except (OSError, ValueError):
            continue  # being written
        try:
            st = open("/proc/%d/stat" % pid).read().rsplit(") ", 1)[1].split()[0]
        except OSError:
            st = "gone"
        if st in ("Z", "X", "gone"):
            sys.stderr.write("swift.sh: %s exited during start\n" % n)
            sys.exit(3)

def call(method, u, headers=None, data=None, timeout=5):
    req = urllib.request.Request(u, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()

def s3_list_buckets(access, secret):
    # minimal SigV4 header auth: GET / (ListBuckets)
    now = datetime.datetime.utcnow()
    amzdate, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    host = url.split("://", 1)[1]
    payload = hashlib.sha256(b"").hexdigest()
    hdrs = "host:%s\nx-amz-content-sha256:%s\nx-amz-date:%s\n" % (host, payload, amzdate)
    signed = "host;x-amz-content-sha256;x-amz-date"
    creq = "\n".join(["GET", "/", "", hdrs, signed, payload])
    scope = "%s/%s/s3/aws4_request" % (day, region)
    sts = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (day, region, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    auth = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (access, scope, signed, sig)
    return call("GET", url + "/", {"Authorization": auth, "x-amz-date": amzdate, "x-amz-content-sha256": payload})

last = "no answer"
step = "healthcheck"
while True:
    check_alive()
    if time.time() > deadline:
        sys.stderr.write("swift.sh: gave up after 60 s waiting for %s: %s\n" % (step, last))
        sys.exit(1)
    try:
        if step == "healthcheck":
            st, _, body = call("GET", url + "/healthcheck", timeout=1)
            if st != 200:
                raise RuntimeError("healthcheck %d %r" % (st, body[:200]))
            step = "auth"
        if step == "auth":
            st, h, body = call("GET", url + "/auth/v1.0", {"X-Auth-User": "test:tester", "X-Auth-Key": "testing"})
            if st != 200 or not h.get("X-Auth-Token"):
                raise RuntimeError("auth %d %r" % (st, body[:200]))
            token, account = h["X-Auth-Token"], h["X-Storage-Url"]
            tempurl_key = "loci-tempurl-" + os.urandom(12).hex()
            step = "account"
        if step == "account":
            st, _, body = call("POST", account, {"X-Auth-Token": token, "X-Account-Meta-Temp-URL-Key": tempurl_key})
            if st // 100 != 2:
                raise RuntimeError("account POST %d %r" % (st, body[:200]))
            step = "container"
        if step == "container":
            st, _, body = call("PUT", account + "/" + bucket, {"X-Auth-Token": token})
            if st // 100 != 2:
                raise RuntimeError("container PUT %d %r" % (st, body[:200]))
            st, h, _ = call("HEAD", account, {"X-Auth-Token": token})
            if st // 100 != 2 or h.get("X-Account-Meta-Temp-Url-Key") != tempurl_key:
                raise RuntimeError("account HEAD %d, temp-url key not set" % st)
            step = "s3api"
        if step == "s3api":
            st, _, body = s3_list_buckets("test:tester", "testing")
            if st != 200 or ("<Name>%s</Name>" % bucket).encode() not in body:
                raise RuntimeError("s3api ListBuckets %d %r" % (st, body[:300]))
            break
    except (OSError, RuntimeError) as e:
        last = e
        time.sleep(0.1)

print("SWIFT_URL=" + url)
print("SWIFT_S3_ACCESS_KEY=test:tester")
print("SWIFT_S3_SECRET_KEY=testing")
print("SWIFT_S3_REGION=" + region)
print("SWIFT_ACCOUNT_URL=" + account)
print("SWIFT_AUTH_TOKEN=" + token)
print("SWIFT_BUCKET=" + bucket)
print("SWIFT_TEMPURL_KEY=" + tempurl_key)
EOF
}

n=1
while :; do
    rc=0
    attempt || rc=$?
    [ $rc -eq 0 ] && break
    if [ $rc -eq 3 ] && [ $n -lt 3 ]; then
        say "attempt $n failed (a process exited, likely a port taken meanwhile); retrying"
        show_logs
        stop_all
        n=$((n + 1))
        continue
    fi
    say "Swift did not start (logs in $dir/log)"
    show_logs
    stop_all
    exit 1
done
mv "$dir/env.tmp" "$dir/env"
cat "$dir/env"
