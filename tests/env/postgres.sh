#!/bin/sh
# A throwaway PostgreSQL 15 cluster on loopback for loci's tests and benchmarks.
#
#   tests/env/postgres.sh start DIR [--replica] [--no-fsync]
#       create a cluster in DIR (which must not exist, or be empty), start it on a free
#       127.0.0.1 port and create the database "loci"; with --replica also a streaming
#       replica made with pg_basebackup. Prints the variables below once everything answers.
#       --no-fsync turns fsync off (a stopped or killed PostgreSQL still keeps every commit it
#       acknowledged; only an operating-system crash could lose one) for faster test runs.
#   tests/env/postgres.sh stop DIR
#       stop exactly the postmasters start recorded in DIR (pg_ctl, then SIGKILL by recorded
#       PID if they do not stop) and remove DIR. Safe to repeat, and after a failed start.
#
# Extra commands for fault tests (the two above are the stable interface):
#   tests/env/postgres.sh down DIR [primary|replica] [fast|immediate]   stop a server, keep its data
#   tests/env/postgres.sh up DIR [primary|replica]                      start it again (same port)
#   tests/env/postgres.sh psql DIR [primary|replica] ARGS...            psql as the cluster owner
#
# Printed on stdout (and written to DIR/env), shell-sourceable:
#   PG_URL          postgres://loci@127.0.0.1:PORT/loci (trust authentication on loopback)
#   PG_PORT         the primary's port
#   PG_PID          the primary's postmaster PID
#   PG_REPLICA_URL  (--replica) the replica, database loci, read-only, streaming from the primary
#   PG_REPLICA_PORT, PG_REPLICA_PID
#   PG_BIN          the PostgreSQL 15 programs used (/usr/lib/postgresql/15/bin)
#
# PostgreSQL refuses to run as root: when run as root, the servers run as the system user
# "postgres" (Debian's postgresql-15 package creates it; override with LOCI_PG_USER), DIR is
# owned by that user, and every directory above DIR must be searchable by it. Otherwise they run
# as the invoking user. Needs Debian's postgresql-15 (scripts/deps.sh test).
set -eu

PG_BIN=${LOCI_PG_BIN:-/usr/lib/postgresql/15/bin}
PY=/usr/bin/python3
MARK=.loci-postgres

usage() {
    echo "usage: $0 start DIR [--replica] [--no-fsync] | stop DIR | down DIR [primary|replica] [fast|immediate]" >&2
    echo "       | up DIR [primary|replica] | psql DIR [primary|replica] ARGS..." >&2
    exit 2
}
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then usage; fi
shift 2
case "$dir" in /*) ;; *) dir="$(pwd)/$dir" ;; esac

say() { echo "postgres.sh: $*" >&2; }

if [ "$(id -u)" -eq 0 ]; then
    pguser=${LOCI_PG_USER:-postgres}
    as_pg() { runuser -u "$pguser" -- "$@"; }
else
    pguser=$(id -un)
    as_pg() { "$@"; }
fi

# A port free on 127.0.0.1 right now (the OS picks it).
free_port() {
    $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# The postmaster PID of a data directory, empty if it is not running.
pm_pid() {
    [ -f "$1/postmaster.pid" ] || return 0
    _p=$(head -n 1 "$1/postmaster.pid" 2>/dev/null || true)
    if [ -n "$_p" ] && kill -0 "$_p" 2>/dev/null; then echo "$_p"; fi
}

# Waits until psql can run a query on port $1 (database $2), up to 60 s.
wait_ready() {
    _i=0
    while [ $_i -lt 600 ]; do
        if as_pg "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$1" -U loci -d "$2" -tAc 'SELECT 1' >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
        _i=$((_i + 1))
    done
    return 1
}

# pg_ctl start with the server log in DIR/NAME.log; records the PID in DIR/NAME.pid.
pg_start() { # name
    as_pg "$PG_BIN/pg_ctl" -D "$dir/$1" -l "$dir/$1.log" -w -t 60 -s start >/dev/null || {
        say "cannot start $1; its log:"
        tail -n 30 "$dir/$1.log" >&2 || true
        return 1
    }
    pm_pid "$dir/$1" >"$dir/$1.pid"
}

# Stops one server: pg_ctl (fast or immediate), then SIGKILL by the recorded PID.
pg_stop() { # name mode
    [ -d "$dir/$1" ] || return 0
    if [ -n "$(pm_pid "$dir/$1")" ]; then
        as_pg "$PG_BIN/pg_ctl" -D "$dir/$1" -m "$2" -w -t 30 -s stop >/dev/null 2>&1 || true
    fi
    _p=$(cat "$dir/$1.pid" 2>/dev/null || true)
    if [ -n "$_p" ] && kill -0 "$_p" 2>/dev/null && grep -q postgres "/proc/$_p/cmdline" 2>/dev/null; then
        say "$1 (pid $_p) did not stop; killing it"
        kill -9 "$_p" 2>/dev/null || true
    fi
}

# Writes the settings loci's tests want into a data directory's postgresql.auto.conf.
configure() { # name port fsync
    cat >>"$dir/$1/postgresql.auto.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $2
unix_socket_directories = '$dir'
max_connections = 300
shared_buffers = 64MB
fsync = $3
full_page_writes = $3
wal_level = replica
max_wal_senders = 8
hot_standby = on
hot_standby_feedback = on
wal_keep_size = 256MB
log_min_messages = warning
log_connections = off
EOF
}

print_env() {
    cat "$dir/env"
}

start() {
    replica=""
    fsync=on
    for a in "$@"; do
        case "$a" in
        --replica) replica=1 ;;
        --no-fsync) fsync=off ;;
        *) usage ;;
        esac
    done
    [ -x "$PG_BIN/initdb" ] || { say "no PostgreSQL 15 in $PG_BIN (Debian package postgresql-15)"; exit 1; }
    if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
        say "$dir exists and is not empty"
        exit 1
    fi
    mkdir -p "$dir"
    chmod 0755 "$dir"
    : >"$dir/$MARK"
    if [ "$(id -u)" -eq 0 ]; then
        chown "$pguser" "$dir" || { say "no user '$pguser' to run PostgreSQL as"; exit 1; }
        if ! runuser -u "$pguser" -- test -w "$dir"; then
            say "user '$pguser' cannot reach $dir (every directory above it must be searchable)"
            exit 1
        fi
    fi
    as_pg "$PG_BIN/initdb" -D "$dir/primary" -U loci --auth=trust -E UTF8 --locale=C -N >"$dir/initdb.log" 2>&1 || {
        say "initdb failed:"
        cat "$dir/initdb.log" >&2
        exit 1
    }
    # the port is free when chosen; another process may take it before the postmaster binds
    tries=0
    while :; do
        port=$(free_port)
        configure primary "$port" "$fsync"
        if pg_start primary; then break; fi
        tries=$((tries + 1))
        [ $tries -lt 5 ] || exit 1
    done
    wait_ready "$port" postgres || { say "primary does not answer"; exit 1; }
    as_pg "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$port" -U loci -d postgres -c 'CREATE DATABASE loci' >/dev/null
    {
        echo "PG_URL=postgres://loci@127.0.0.1:$port/loci"
        echo "PG_PORT=$port"
        echo "PG_PID=$(cat "$dir/primary.pid")"
        echo "PG_BIN=$PG_BIN"
    } >"$dir/env"

    if [ -n "$replica" ]; then
        as_pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$port" -U loci -D "$dir/replica" -R -X stream -c fast \
            >"$dir/basebackup.log" 2>&1 || {
            say "pg_basebackup failed:"
            cat "$dir/basebackup.log" >&2
            exit 1
        }
        tries=0
        while :; do
            rport=$(free_port)
            configure replica "$rport" "$fsync"
            if pg_start replica; then break; fi
            tries=$((tries + 1))
            [ $tries -lt 5 ] || exit 1
        done
        wait_ready "$rport" loci || { say "replica does not answer"; exit 1; }
        # streaming, not just recovering from the copied WAL
        i=0
        until [ "$(as_pg "$PG_BIN/psql" -X -h 127.0.0.1 -p "$port" -U loci -d postgres -tAc \
            "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" 2>/dev/null)" = 1 ]; do
            i=$((i + 1))
            [ $i -lt 600 ] || { say "replica is not streaming"; exit 1; }
            sleep 0.1
        done
        {
            echo "PG_REPLICA_URL=postgres://loci@127.0.0.1:$rport/loci"
            echo "PG_REPLICA_PORT=$rport"
            echo "PG_REPLICA_PID=$(cat "$dir/replica.pid")"
        } >>"$dir/env"
    fi
    print_env
}

stop() {
    [ -d "$dir" ] || return 0
    if [ ! -e "$dir/$MARK" ]; then
        say "$dir was not made by postgres.sh start; leaving it alone"
        exit 1
    fi
    pg_stop replica fast
    pg_stop primary fast
    rm -rf "$dir"
}

which_server() { # [primary|replica] -> name
    case "${1:-primary}" in
    primary | replica) echo "${1:-primary}" ;;
    *) usage ;;
    esac
}

case "$cmd" in
start) start "$@" ;;
stop) stop ;;
down)
    name=$(which_server "${1:-primary}")
    mode=${2:-fast}
    case "$mode" in fast | immediate) ;; *) usage ;; esac
    [ -e "$dir/$MARK" ] || { say "no cluster in $dir"; exit 1; }
    pg_stop "$name" "$mode"
    ;;
up)
    name=$(which_server "${1:-primary}")
    [ -e "$dir/$MARK" ] || { say "no cluster in $dir"; exit 1; }
    [ -z "$(pm_pid "$dir/$name")" ] || exit 0
    pg_start "$name"
    p=$(sed -n "s/^port = //p" "$dir/$name/postgresql.auto.conf" | tail -n 1 | tr -d "'")
    wait_ready "$p" loci || { say "$name does not answer"; exit 1; }
    ;;
psql)
    name=primary
    case "${1:-}" in primary | replica) name=$1; shift ;; esac
    p=$(sed -n "s/^port = //p" "$dir/$name/postgresql.auto.conf" | tail -n 1 | tr -d "'")
    as_pg "$PG_BIN/psql" -X -h 127.0.0.1 -p "$p" -U loci "$@"
    ;;
*) usage ;;
esac
