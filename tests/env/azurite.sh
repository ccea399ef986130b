#!/bin/sh
# A throwaway Azurite (Azure Blob emulator, npm `azurite`) on loopback: the real verifier of
# Azure blob service SAS URLs for loci's end-to-end tests.
#
#   tests/env/azurite.sh start DIR   start Azurite's blob service with its data under DIR; print
#                                    the variables below once it answers and the container exists
#   tests/env/azurite.sh stop DIR    stop exactly the process start recorded in DIR (safe to
#                                    repeat, and after a failed start); leaves DIR's files
#
# Printed on stdout (and written to DIR/env), shell-sourceable:
#   AZURITE_URL        the blob service URL with the account, http://127.0.0.1:PORT/devstoreaccount1
#   AZURITE_ACCOUNT    devstoreaccount1, Azurite's built-in account
#   AZURITE_KEY        its well-known account key (base64)
#   AZURITE_CONTAINER  the container created for the tests, "loci-test"
#
# Azurite runs strict: without --loose, so SAS signatures, start and expiry times, permissions
# and the protocol are checked (a wrong one is 403), and with --skipApiVersionCheck only so that
# SDK clients newer than this Azurite may talk to it (the x-ms-version header; a SAS's sv is not
# checked against a list either way). --disableTelemetry: no calls out of the machine. It listens
# on 127.0.0.1 at a port free at start time, runs as the invoking user, and keeps its data in
# DIR/data (log/ has its output, run/ its pid; LOCI_AZURITE_DEBUG=1 adds Azurite's debug log,
# which shows each SAS's string to sign, in log/debug.log).
# Needs node and tests/node/node_modules (scripts/deps.sh test).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
NODE_DIR=$(cd "$here/../node" && pwd)
AZURITE_MAIN=$NODE_DIR/node_modules/azurite/dist/src/blob/main.js
ACCOUNT=devstoreaccount1
KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
CONTAINER=loci-test

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then usage; fi

say() { echo "azurite.sh: $*" >&2; }

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
command -v node >/dev/null || { say "node is missing (run scripts/deps.sh test)"; exit 1; }
[ -r "$AZURITE_MAIN" ] || { say "$AZURITE_MAIN is missing (run scripts/deps.sh test)"; exit 1; }
[ -d "$NODE_DIR/node_modules/@azure/storage-blob" ] || { say "@azure/storage-blob is missing (run scripts/deps.sh test)"; exit 1; }

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# start wipes its own subdirectories of DIR: only in an empty DIR or one an earlier start made
if [ ! -e "$dir/.loci-azurite" ] && [ -n "$(ls -A "$dir")" ]; then
    say "$dir is not empty and was not made by $0; give it an empty or new directory"
    exit 1
fi
: >"$dir/.loci-azurite"
for f in "$dir"/run/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    if [ -n "$pid" ] && alive "$pid" && ours "$(basename "$f" .pid)" "$pid"; then
        say "$dir already has a running instance (pid $pid); run: $0 stop $dir"
        exit 1
    fi
done
rm -rf "${dir:?}/data" "${dir:?}/run" "${dir:?}/log" "${dir:?}/env"
mkdir -p "$dir/data" "$dir/run" "$dir/log"

show_logs() {
    for f in "$dir"/log/*.log; do
        [ -s "$f" ] || continue
        echo "--- $f (last 25 lines)" >&2
        tail -n 25 "$f" >&2
    done
}

# --- one attempt: a port, the process, readiness, the container ------------------------------
attempt() {
    port=$(node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });') || return 2
    set -- --blobHost 127.0.0.1 --blobPort "$port" --location "$dir/data" --silent --skipApiVersionCheck --disableTelemetry
    if [ -n "${LOCI_AZURITE_DEBUG:-}" ]; then
        set -- "$@" --debug "$dir/log/debug.log"
    fi
    spawn azurite node "$AZURITE_MAIN" "$@"

    # Wait until the account answers (SharedKey), then create the container and read it back.
    # Exit 3: Azurite died (e.g. lost a port race), worth another attempt; exit 1: gave up.
    (cd "$NODE_DIR" && node --input-type=module - "$dir" "http://127.0.0.1:$port/$ACCOUNT" "$ACCOUNT" "$KEY" \
        "$CONTAINER") >"$dir/env.tmp" <<'EOF'
import { readFileSync } from "node:fs";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
const [dir, url, account, key, container] = process.argv.slice(2);
const deadline = Date.now() + 60000;
const svc = new BlobServiceClient(url, new StorageSharedKeyCredential(account, key), { retryOptions: { maxTries: 1 } });

function checkAlive() {
  let pid;
  try {
    pid = parseInt(readFileSync(`${dir}/run/azurite.pid`, "utf8"), 10);
  } catch {
    return; // being written
  }
  let state = "gone";
  try {
    state = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ").pop().split(" ")[0];
  } catch {}
  if (state === "Z" || state === "X" || state === "gone") {
    process.stderr.write("azurite.sh: azurite exited during start\n");
    process.exit(3);
  }
}

let last = "no answer";
for (;;) {
  checkAlive();
  if (Date.now() > deadline) {
    process.stderr.write(`azurite.sh: gave up after 60 s: ${last}\n`);
    process.exit(1);
  }
  try {
    const c = svc.getContainerClient(container);
    await c.createIfNotExists();
    await c.getProperties();
    break;
  } catch (e) {
    last = String(e && e.message ? e.message : e).split("\n")[0];
    await new Promise((r) => setTimeout(r, 100));
  }
}
console.log(`AZURITE_URL=${url}`);
console.log(`AZURITE_ACCOUNT=${account}`);
console.log(`AZURITE_KEY=${key}`);
console.log(`AZURITE_CONTAINER=${container}`);
EOF
}

n=1
while :; do
    rc=0
    attempt || rc=$?
    [ $rc -eq 0 ] && break
    if [ $rc -eq 3 ] && [ $n -lt 3 ]; then
        say "attempt $n failed (azurite exited, likely a port taken meanwhile); retrying"
        show_logs
        stop_all
        n=$((n + 1))
        continue
    fi
    say "Azurite did not start (logs in $dir/log)"
    show_logs
    stop_all
    exit 1
done
mv "$dir/env.tmp" "$dir/env"
cat "$dir/env"
