#!/bin/sh
# Measures what the audit trail costs on durable writes, and what read auditing adds, on this
# machine in one run (ratios, not absolute numbers, are what to compare across machines).
#
#   bench/audit_overhead.sh [BASE_COMMIT]
#
# Builds BASE_COMMIT (default: the last commit before the audit trail) in a temporary worktree,
# then, against a fresh data directory each time, runs with wrk (Debian's wrk, loopback):
#   1. PATCH (one durable write each) on the base build and on this build;
#   2. GET (a signed URL each) for a tenant without and with read auditing;
#   3. PATCH while GETs of a read-audited tenant run alongside.
# Prints requests/s and the ratios. Needs: wrk, curl, a built ./loci.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
base=${1:-$(git -C "$here" log --format=%H --grep='^A tamper-evident audit trail' -n 1)^}
dur=${DURATION:-8}
conns=${CONNS:-32}
threads=${WRK_THREADS:-2}
tmp=$(mktemp -d /tmp/loci-bench.XXXXXX)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    git -C "$here" worktree remove --force "$tmp/base" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

command -v wrk >/dev/null || { echo "bench: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
git -C "$here" worktree add -q "$tmp/base" "$base"
make -C "$tmp/base" -s loci >/dev/null 2>&1
new="$here/build/rel/loci"
old="$tmp/base/build/rel/loci"

port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start BIN DATA PORT: starts a server (request logs off) and waits for it
start() {
    LOCI_ADMIN_TOKEN=bench LOCI_LOG_REQUESTS=false "$1" serve --data "$2" --listen "127.0.0.1:$3" >"$2.log" 2>&1 &
    pids="$pids $!"
    echo $! >"$2.pid"
    i=0
    until curl -sf "http://127.0.0.1:$3/healthz" >/dev/null; do
        i=$((i + 1)); [ $i -lt 100 ] || { echo "bench: server did not start" >&2; cat "$2.log" >&2; exit 1; }
        sleep 0.1
    done
}
stop() { kill "$(cat "$1.pid")"; while kill -0 "$(cat "$1.pid")" 2>/dev/null; do sleep 0.1; done; }

# seed URL TOKEN N: N small objects bench/0..N-1 through the API
seed() {
    /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import json, sys, http.client, urllib.parse
url, tok, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
u = urllib.parse.urlsplit(url)
c = http.client.HTTPConnection(u.hostname, u.port)
h = {"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
for i in range(n):
    c.request("PUT", "/v1/objects/bench/%d" % i, json.dumps({"size": 0}), h)
    r = json.loads(c.getresponse().read())
    t = r["targets"][0]
    tu = urllib.parse.urlsplit(t["url"])
    c2 = http.client.HTTPConnection(tu.hostname, tu.port)
    c2.request("PUT", tu.path + "?" + tu.query, b"", t["headers"])
    c2.getresponse().read()
    c.request("POST", "/v1/uploads/%s/complete" % r["upload_id"], headers={"Authorization": h["Authorization"]})
    c.getresponse().read()
PY
}

cat >"$tmp/patch.lua" <<'LUA'
local n = 0
request = function()
    n = n + 1
    local body = '{"tags":{"set":{"n":"' .. n .. '"}}}'
    return wrk.format("PATCH", "/v1/objects/bench/" .. (n % 200), {["Content-Type"] = "application/json",
        ["Authorization"] = "Bearer " .. os.getenv("TOKEN")}, body)
end
LUA
cat >"$tmp/get.lua" <<'LUA'
local n = 0
request = function()
    n = n + 1
    return wrk.format("GET", "/v1/objects/bench/" .. (n % 200), {["Authorization"] = "Bearer " .. os.getenv("TOKEN")})
end
LUA

# rps LUA PORT TOKEN [SECONDS]: requests per second from wrk
rps() {
    TOKEN=$3 wrk -t "$threads" -c "$conns" -d "${4:-$dur}s" -s "$1" "http://127.0.0.1:$2" | awk '/Requests\/sec/ {print int($2)}'
}

# setup BIN NAME AUDIT_READS: a server with a seeded tenant; prints PORT TOKEN
setup() {
    d="$tmp/$2"
    p=$(port)
    start "$1" "$d" "$p"
    curl -sf -X PUT -H "Authorization: Bearer bench" -H 'Content-Type: application/json' \
        -d "{\"jurisdictions\":[\"EU\"],\"audit_reads\":$3}" "http://127.0.0.1:$p/v1/admin/tenants/b" >/dev/null ||
        curl -sf -X PUT -H "Authorization: Bearer bench" -H 'Content-Type: application/json' \
            -d '{"jurisdictions":["EU"]}' "http://127.0.0.1:$p/v1/admin/tenants/b" >/dev/null
    tok=$(curl -sf -X POST -H "Authorization: Bearer bench" -H 'Content-Type: application/json' -d '{}' \
        "http://127.0.0.1:$p/v1/admin/tenants/b/keys" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    seed "http://127.0.0.1:$p" "$tok" 200
    echo "$p $tok"
}

echo "loci audit overhead - $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, wrk -t$threads -c$conns -d${dur}s"
echo "base: $(git -C "$here" log --format='%h %s' -n 1 "$base" | cut -c1-70)"

set -- $(setup "$old" base false); bp=$1; bt=$2
base_patch=$(rps "$tmp/patch.lua" "$bp" "$bt"); stop "$tmp/base"
set -- $(setup "$new" plain false); pp=$1; pt=$2
audit_patch=$(rps "$tmp/patch.lua" "$pp" "$pt")
plain_get=$(rps "$tmp/get.lua" "$pp" "$pt"); stop "$tmp/plain"
set -- $(setup "$new" reads true); rp=$1; rt=$2
audited_get=$(rps "$tmp/get.lua" "$rp" "$rt")
# writes while audited reads run alongside (half the connections each)
conns_half=$((conns / 2))
TOKEN=$rt wrk -t 1 -c "$conns_half" -d "${dur}s" -s "$tmp/get.lua" "http://127.0.0.1:$rp" >"$tmp/bg.txt" &
bg=$!
mixed_patch=$(conns=$conns_half threads=1 rps "$tmp/patch.lua" "$rp" "$rt")
wait $bg
mixed_get=$(awk '/Requests\/sec/ {print int($2)}' "$tmp/bg.txt")
stop "$tmp/reads"

ratio() { /usr/bin/python3 -c "print('%.2f' % ($1 / $2))"; }
printf '%-58s %10s\n' "workload" "req/s"
printf '%-58s %10s\n' "PATCH, build before the audit trail (baseline)" "$base_patch"
printf '%-58s %10s   x%s of baseline\n' "PATCH, with the audit trail" "$audit_patch" "$(ratio "$audit_patch" "$base_patch")"
printf '%-58s %10s\n' "GET (signed URL), read auditing off" "$plain_get"
printf '%-58s %10s   x%s of off\n' "GET (signed URL), read auditing on" "$audited_get" "$(ratio "$audited_get" "$plain_get")"
printf '%-58s %10s\n' "PATCH beside audited GETs (${conns_half}+${conns_half} connections)" "$mixed_patch"
printf '%-58s %10s\n' "  the audited GETs meanwhile" "$mixed_get"
