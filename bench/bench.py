#!/usr/bin/python3
"""bench.py - `make bench`: loci's throughput and latency against baselines measured in the same run.

Run through bench/run.sh (which builds and installs what is missing). Everything listens on
127.0.0.1; every process started here is stopped by its PID at the end.

  1. data set: N objects (BENCH_OBJECTS, default 1,000,000) bench/%08d with tags shard=i%100,
     kind=i%7 in one s3 store in the tenant's jurisdiction, registered with `loci import`
     (the bulk path; its rate is reported);
  2. loci under wrk (bench/workload.lua): locate, search, write, then the 70/20/10 mix for 15 s,
     each for a fixed time with a fixed number of connections (BENCH_CONNS, default 32); locate
     alternates with the hello-world ceiling in BENCH_ROUNDS (3) rounds of half BENCH_DURATION,
     both servers up, and their ratio is the median round's;
  3. baselines, same generator and connections where the protocol allows: the libh2o
     hello-world ceiling (bench/hello.c, sent exactly loci's locate requests), redis-server with
     appendfsync always (redis-benchmark SET: wrk cannot speak RESP), the node-pg peer
     (../shared/peers/node-pg) on PostgreSQL 15;
  4. throughput against connection count (locate and the hello ceiling), latency at half of the
     peak locate rate, resident memory, the load generator's CPU share;
  5. a table of results and loci/baseline ratios on stdout, appended to docs/benchmarks.md,
     and docs/bench-throughput.png (gnuplot).

Environment: BENCH_OBJECTS, BENCH_CONNS, BENCH_DURATION (s per workload, default 10),
BENCH_MIX_DURATION (15), BENCH_WARMUP (s of locate before a server is measured, default
BENCH_DURATION), BENCH_WRK_THREADS (2), BENCH_SWEEP (connection counts of the chart),
BENCH_SWEEP_DURATION (3), BENCH_QUICK=1 (100k objects, short runs, no peer, nothing appended),
BENCH_PEER=0 (skip node-pg), BENCH_APPEND=0 (do not touch docs/), BENCH_PROFILE=1 (also record
`perf` profiles of locate and mix into the bench directory), BENCH_GEN_SCHED (the load generators'
scheduling policy: batch, the default, or normal; with batch, locate and the hello-world are also
measured once at the normal policy, see generator_sched), LOCI_BIN, BENCH_HELLO.

loci on PostgreSQL: the same workloads with loci's metadata in a throwaway PostgreSQL 15 cluster
(tests/env/postgres.sh, fsync on), loaded with `loci import` (the backend's multi-row INSERTs),
against the reference figure of 195,000 transactions in 15 s on Aurora. BENCH_PG=0 skips it;
BENCH_PG_ONLY=1 runs only it (its own table; BENCH_PG_OBJECTS, default BENCH_OBJECTS).
BENCH_PG_READERS sets database_readers (default 4: two per event loop, for a PostgreSQL on the same
two cores; loci's own default, eight per loop, is for a database across a network, where
readers wait on latency rather than share the CPU; BENCH_PG_READERS=0 uses it).
"""
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TICK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1


def env_int(name, default):
    v = os.environ.get(name)
    return int(v) if v not in (None, "") else default


QUICK = os.environ.get("BENCH_QUICK") == "1"
OBJECTS = env_int("BENCH_OBJECTS", 100000 if QUICK else 1000000)
CONNS = env_int("BENCH_CONNS", 32)
DUR = env_int("BENCH_DURATION", 3 if QUICK else 10)
MIX_DUR = env_int("BENCH_MIX_DURATION", 5 if QUICK else 15)
WRK_THREADS = env_int("BENCH_WRK_THREADS", 2)
SWEEP = [int(x) for x in os.environ.get("BENCH_SWEEP", "4,16,64" if QUICK else "1,2,4,8,16,32,64,128,256").split(",")]
SWEEP_DUR = env_int("BENCH_SWEEP_DURATION", 2 if QUICK else 3)
PEER = os.environ.get("BENCH_PEER", "0" if QUICK else "1") == "1"
APPEND = os.environ.get("BENCH_APPEND", "0" if QUICK else "1") == "1"
PROFILE = os.environ.get("BENCH_PROFILE") == "1"
PG = os.environ.get("BENCH_PG", "1") == "1"
PG_ONLY = os.environ.get("BENCH_PG_ONLY") == "1"
PG_OBJECTS = env_int("BENCH_PG_OBJECTS", OBJECTS)
PG_READERS = os.environ.get("BENCH_PG_READERS", "4")
GEN_SCHED = os.environ.get("BENCH_GEN_SCHED", "batch")
# every server is warmed up with locate this long before it is measured: long enough for a
# freshly started loci to have touched most of a 1M data set's pages (its readers map the
# database, and a page's first touch is a page fault), as a server that has run a while has
WARM = env_int("BENCH_WARMUP", DUR)
# locate and the hello-world ceiling alternate in this many rounds of ROUND_DUR s each
ROUNDS = env_int("BENCH_ROUNDS", 3)
ROUND_DUR = max(2, DUR // 2)
AURORA_MIX_15S = 195000  # the reference deployment: 195,000 transactions in 15 s on Aurora
BUILD = os.environ.get("BENCH_BUILD", os.path.join(ROOT, "build", "rel"))
LOCI = os.environ.get("LOCI_BIN", os.path.join(BUILD, "loci"))
HELLO = os.environ.get("BENCH_HELLO", os.path.join(BUILD, "hello"))
SIGNBENCH = os.environ.get("BENCH_SIGNBENCH", os.path.join(BUILD, "signbench"))
LUA = os.path.join(HERE, "workload.lua")
ADMIN = "bench-admin-token"
WRITE_SIZE = 1024  # bytes of every object the write workload uploads (workload.lua)

procs = []  # (name, Popen) started here, stopped at the end by PID


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(name, argv, env=None, cwd=None, logfile=None):
    out = open(logfile, "w") if logfile else subprocess.DEVNULL
    p = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    procs.append((name, p))
    return p


def stop(p, timeout=30):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    for i, (_, q) in enumerate(procs):
        if q is p:
            del procs[i]
            break


def stop_all():
    for _, p in list(reversed(procs)):
        stop(p, 10)


def wait_http(url, timeout=30, headers=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            req = urllib.request.Request(url, headers=headers or {})
            urllib.request.urlopen(req, timeout=2).read()
            return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError("nothing answers at " + url)


def http(method, url, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read()


# --- CPU accounting: /proc/PID/stat of a process tree, in seconds ---

def proc_tree_cpu(roots):
    """utime+stime of the given PIDs and all their descendants (living ones), seconds."""
    parent, cpu = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2:].split()
        parent[int(d)] = int(rest[1])
        cpu[int(d)] = (int(rest[11]) + int(rest[12])) / TICK
    want = set(roots)
    changed = True
    while changed:
        changed = False
        for pid, pp in parent.items():
            if pp in want and pid not in want:
                want.add(pid)
                changed = True
    return sum(cpu.get(p, 0.0) for p in want)


def rss_mb(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:", "RssAnon:", "RssFile:", "RssShmem:")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024.0
    return out


# --- the load generator ---

def generator_sched(policy=None):
    """preexec_fn for a load generator: with "batch" (the default) it runs as SCHED_BATCH. On
    two cores shared with the server, a generator at the normal policy is woken by every answer
    and preempts the server in the middle of its event loop (a context switch each way, per
    request); as a batch task it still gets its fair share of the CPU but waits for the tick
    instead of preempting. The same for every server measured, baselines included."""
    policy = policy or GEN_SCHED
    if policy == "normal":
        return None
    if policy != "batch":
        raise ValueError("BENCH_GEN_SCHED must be batch or normal, not %r" % policy)
    return lambda: os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))


def wrk(port, workload, conns, secs, token="", objects=OBJECTS, delay_ms=None, servers=(), threads=None, tag="",
        sched=None):
    """Runs wrk with workload.lua; returns its summary plus CPU seconds of wrk and of `servers`.
    sched: the generator's scheduling policy (generator_sched), default BENCH_GEN_SCHED."""
    out = os.path.join(WORK, "wrk-%s-%s-%d%s.json" % (port, workload, conns, tag))
    env = dict(os.environ, BENCH_WORKLOAD=workload, BENCH_TOKEN=token, BENCH_OBJECTS=str(objects), BENCH_OUT=out,
               BENCH_RUN="%x" % time.time_ns())
    if delay_ms is not None:
        env["BENCH_DELAY_MS"] = "%.3f" % delay_ms
    t = min(threads or WRK_THREADS, conns)
    argv = ["wrk", "-t%d" % t, "-c%d" % conns, "-d%ds" % secs, "--timeout", "10s", "-s", LUA, "http://127.0.0.1:%d" % port]
    before = proc_tree_cpu(servers) if servers else 0.0
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         preexec_fn=generator_sched(sched))
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace")
    after = proc_tree_cpu(servers) if servers else 0.0
    if p.returncode != 0 or not os.path.exists(out):
        raise RuntimeError("wrk failed (%s): %s" % (p.returncode, err[-500:]))
    with open(out) as f:
        r = json.load(f)
    r["secs"] = r["duration_us"] / 1e6
    r["rps"] = r["requests"] / r["secs"]
    r["wrk_cpu"] = ru.ru_utime + ru.ru_stime
    r["server_cpu"] = after - before
    r["errors_total"] = sum(v for k, v in r["errors"].items() if k != "bad") + 0
    r["errors_total"] = max(r["errors_total"], r["errors"]["bad"])
    r["conns"] = conns
    return r


def cpu_text(r):
    cap = r["secs"] * NCPU
    return "generator %.0f%%, server %.0f%% of %d cores" % (100 * r["wrk_cpu"] / cap, 100 * r["server_cpu"] / cap, NCPU)


def show(name, r, unit="req/s", rate=None):
    rate = r["rps"] if rate is None else rate
    lat = r["latency_us"]
    log("  %-26s %9.0f %s  p50 %.2f  p99 %.2f  p99.9 %.2f ms  errors %d  (%s)" % (
        name, rate, unit, lat["p50"] / 1e3, lat["p99"] / 1e3, lat["p999"] / 1e3, r["errors_total"], cpu_text(r)))


# --- data set and loci ---

def inventory(n):
    """The NDJSON inventory of n objects, generated once per n (reproducible: no randomness)."""
    d = os.path.join(BUILD, "bench-data")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "inventory-%d.ndjson" % n)
    if os.path.exists(path):
        return path
    log("generating %s" % path)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        step = 100000
        for lo in range(0, n, step):
            f.write("".join('{"key":"bench/%08d","store":"s3-eu","size":%d,"tags":{"shard":"%d","kind":"%d"}}\n'
                            % (i, 1024 + i % 4096, i % 100, i % 7) for i in range(lo, min(n, lo + step))))
    os.rename(tmp, path)
    return path


def loci_env(db=None):
    env = dict(os.environ, LOCI_ADMIN_TOKEN=ADMIN, LOCI_LOG_REQUESTS="false")
    if db:
        env["LOCI_DATABASE"] = db
        if PG_READERS not in ("", "0"):
            env["LOCI_DATABASE_READERS"] = PG_READERS
    return env


def loci_start(data, port, db=None):
    p = start("loci", [LOCI, "serve", "--data", data, "--listen", "127.0.0.1:%d" % port], env=loci_env(db),
              logfile=data + ".log")
    wait_http("http://127.0.0.1:%d/healthz" % port)
    return p


def loci_dataset(n, store_port, db=None):
    """A fresh data directory with tenant 'bench', store 's3-eu' and n imported objects (in db,
    a PostgreSQL URL, or SQLite in the directory). Returns (data dir, token, import seconds, import rate)."""
    data = os.path.join(WORK, "loci-%d%s" % (n, "-pg" if db else ""))
    port = free_port()
    p = loci_start(data, port, db)
    base = "http://127.0.0.1:%d" % port
    http("PUT", base + "/v1/admin/tenants/bench", {"jurisdictions": ["EU"]}, ADMIN)
    # the first-start local store (DE) would take half the new uploads: writes go to s3-eu only
    http("DELETE", base + "/v1/admin/stores/local", None, ADMIN)
    http("PUT", base + "/v1/admin/stores/s3-eu", {
        "provider": "s3", "endpoint": "http://127.0.0.1:%d" % store_port, "bucket": "bench", "region": "eu-west-1",
        "country": "IE", "path_style": True,
        "credentials": {"access_key_id": "AKIABENCHBENCHBENCH0", "secret_access_key": "bench-secret-key"}}, ADMIN)
    token = json.loads(http("POST", base + "/v1/admin/tenants/bench/keys", {"scopes": ["read", "write"]}, ADMIN))["token"]
    stop(p)
    inv = inventory(n)
    log("importing %d objects (loci import)" % n)
    t0 = time.time()
    r = subprocess.run([LOCI, "import", "--data", data, "--tenant", "bench", inv], env=loci_env(db),
                       capture_output=True, text=True)
    secs = time.time() - t0
    if r.returncode != 0:
        raise RuntimeError("loci import failed: " + r.stderr[-2000:])
    log("  " + r.stdout.strip())
    return data, token, secs, n / secs


# --- loci on PostgreSQL ---

def pg_bench(n, store_port, store_pid):
    """loci with its metadata in PostgreSQL 15 (a throwaway cluster, fsync on): import, then the
    same workloads. Returns the results, or None with a reason."""
    pgsh = os.path.join(ROOT, "tests", "env", "postgres.sh")
    pgdir = os.path.join(WORK, "pg-loci")
    r = subprocess.run([pgsh, "start", pgdir], capture_output=True, text=True)
    if r.returncode != 0:
        return None, "postgres.sh start failed: " + r.stderr[-300:]
    global PGLOCI
    PGLOCI = pgdir
    env = dict(line.split("=", 1) for line in r.stdout.split())
    url, pg_pid = env["PG_URL"], int(env["PG_PID"])
    res = {"objects": n}
    data, token, res["import_secs"], res["import_rate"] = loci_dataset(n, store_port, db=url)
    port = free_port()
    p = loci_start(data, port, db=url)
    servers = [p.pid, pg_pid]
    log("loci on PostgreSQL 15, %d objects, %d connections:" % (n, CONNS))
    wrk(port, "locate", CONNS, WARM, token=token, objects=n)  # warm-up
    for w in ("locate", "search", "write"):
        res[w] = wrk(port, w, CONNS, DUR, token=token, objects=n, servers=servers + [store_pid] if w == "write" else servers)
    res["mix"] = wrk(port, "mix", CONNS, MIX_DUR, token=token, objects=n, servers=servers + [store_pid])
    res["write"]["writes"] = res["write"]["ops"]["complete"] / res["write"]["secs"]
    show("pg locate", res["locate"])
    show("pg search (2 tags, limit 20)", res["search"])
    show("pg write (start + complete)", res["write"], "writes/s", res["write"]["writes"])
    show("pg mix 70/20/10, %d s" % MIX_DUR, res["mix"])
    res["rss"] = rss_mb(p.pid)
    stop(p)
    res["db_mb"] = 0.0
    db = url.rsplit("/", 1)[1]
    out = subprocess.run([pgsh, "psql", pgdir, "-d", db, "-tAc", "SELECT pg_database_size(current_database())"],
                         capture_output=True, text=True)
    if out.returncode == 0 and out.stdout.strip().isdigit():
        res["db_mb"] = int(out.stdout.strip()) / 2**20
    shutil.rmtree(data, ignore_errors=True)
    return res, None


def pg_lines(G):
    """Report lines of the PostgreSQL part."""
    lines = []

    def row(name, r, rate=None, unit="req/s"):
        lines.append(table_row(name, r, rate, unit))

    lines.append("loci on PostgreSQL 15 (throwaway cluster on the same machine, fsync on, default settings but "
                 "shared_buffers 64MB; loci's `database_readers` %s): %d objects loaded with `loci import` in %.1f s "
                 "(**%.0f objects/s**); database %.0f MB." % (
                     PG_READERS if PG_READERS not in ("", "0") else "at its default", G["objects"], G["import_secs"],
                     G["import_rate"], G["db_mb"]))
    lines.append("")
    lines.append("| workload | throughput | p50 ms | p99 ms | p99.9 ms | errors | generator CPU | server CPU | server CPU per request |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    row("loci+pg locate", G["locate"])
    row("loci+pg search (2 tags, limit 20)", G["search"])
    row("loci+pg write (start + complete, durable)", G["write"], G["write"]["writes"], "writes/s")
    row("loci+pg mix 70/20/10 (%d s: %d transactions)" % (MIX_DUR, G["mix"]["requests"]), G["mix"])
    mix15 = G["mix"]["rps"] * 15
    lines.append("")
    lines.append("Server CPU includes PostgreSQL (postmaster and backends) and the HEAD responder. Mix on PostgreSQL: "
                 "**{:,.0f} transactions in 15 s** against the reference 195,000 in 15 s on Aurora ({:.2f}×).".format(
                     mix15, mix15 / AURORA_MIX_15S))
    lines.append("")
    return lines


def main_pg_only():
    """BENCH_PG_ONLY=1: only loci on PostgreSQL, with its own report."""
    global WORK
    WORK = tempfile.mkdtemp(prefix="loci-bench.")
    os.chmod(WORK, 0o755)
    started = datetime.datetime.now(datetime.timezone.utc)
    log("loci bench (PostgreSQL only) - %s - %d objects, %d connections, %d s per workload, mix %d s; work dir %s" % (
        machine(), PG_OBJECTS, CONNS, DUR, MIX_DUR, WORK))
    G = None
    try:
        store_port = free_port()
        store = start("store", [HELLO, "--listen", "127.0.0.1:%d" % store_port, "--threads", "1", "--spin-us", "0", "--head-size",
                                str(WRITE_SIZE)], logfile=os.path.join(WORK, "store.log"))
        wait_http("http://127.0.0.1:%d/" % store_port)
        G, skip = pg_bench(PG_OBJECTS, store_port, store.pid)
        if skip:
            sys.exit("bench: " + skip)
    finally:
        stop_all()
        if globals().get("PGLOCI"):
            subprocess.run([os.path.join(ROOT, "tests", "env", "postgres.sh"), "stop", PGLOCI], capture_output=True)
    lines = ["## `make bench` (BENCH_PG_ONLY=1), %s, loci on PostgreSQL" % started.strftime("%Y-%m-%d %H:%M UTC"), "",
             "Machine: %s. Commit `%s`. wrk %d threads, %d connections, loopback, generator on the same cores; %d s per "
             "workload, mix %d s." % (machine(), git("rev-parse", "--short", "HEAD") + "+changes", WRK_THREADS, CONNS, DUR,
                                      MIX_DUR), ""]

    lines += pg_lines(G)
    text = "\n".join(lines)
    print(text)
    if APPEND:
        with open(os.path.join(ROOT, "docs", "benchmarks.md"), "a") as f:
            f.write("\n" + text)
        log("appended to docs/benchmarks.md")
    shutil.rmtree(WORK, ignore_errors=True)


def table_row(name, r, rate=None, unit="req/s"):
    rate = r["rps"] if rate is None else rate
    cap = r["secs"] * NCPU
    return "| %s | %.0f %s | %s | %s | %s | %d | %.0f%% | %.0f%% | %.0f µs |" % (
        name, rate, unit, fmt_ms(r["latency_us"]["p50"]), fmt_ms(r["latency_us"]["p99"]),
        fmt_ms(r["latency_us"]["p999"]), r["errors_total"], 100 * r["wrk_cpu"] / cap, 100 * r["server_cpu"] / cap,
        1e6 * r["server_cpu"] / max(1, r["requests"]))


# --- baselines ---

def redis_baseline(conns, secs):
    exe = shutil.which("redis-server")
    if exe is None or shutil.which("redis-benchmark") is None:
        return None
    d = os.path.join(WORK, "redis")
    os.makedirs(d)
    port = free_port()
    p = start("redis", [exe, "--port", str(port), "--bind", "127.0.0.1", "--dir", d, "--appendonly", "yes",
                        "--appendfsync", "always", "--save", "", "--daemonize", "no", "--protected-mode", "no"],
              logfile=d + ".log")
    for _ in range(100):
        if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode == 0:
            break
        time.sleep(0.1)

    def run(n):
        argv = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", str(conns), "-n", str(n), "-t", "set",
                "-d", "256", "-r", "1000000", "--csv"]
        before = proc_tree_cpu([p.pid])
        t0 = time.time()
        q = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, preexec_fn=generator_sched())
        _, status, ru = os.wait4(q.pid, 0)
        out = q.stdout.read().decode()
        wall = time.time() - t0
        row = None
        for line in out.splitlines():
            cells = [c.strip('"') for c in line.split(",")]
            if cells and cells[0].startswith("SET"):
                row = cells
        if row is None:
            raise RuntimeError("redis-benchmark printed no SET line: " + out[-300:])
        return {"rps": float(row[1]), "latency_ms": {"avg": float(row[2]), "p50": float(row[4]), "p99": float(row[6])},
                "wrk_cpu": ru.ru_utime + ru.ru_stime, "server_cpu": proc_tree_cpu([p.pid]) - before, "secs": wall,
                "requests": n}

    probe = run(max(2000, conns * 100))
    r = run(max(10000, int(probe["rps"] * secs)))
    stop(p)
    return r


def peer_baseline(n, conns, secs):
    """The node-pg peer on PostgreSQL 15 with the same data set; None (with a reason) if it cannot run."""
    pgsh = os.path.join(ROOT, "tests", "env", "postgres.sh")
    if not os.path.exists(pgsh):
        return None, "tests/env/postgres.sh is missing"
    if shutil.which("node") is None:
        return None, "node is not installed"
    src = os.path.join(os.path.dirname(ROOT), "shared", "peers", "node-pg")
    dst = os.path.join(BUILD, "node-pg")
    if not os.path.isdir(os.path.join(dst, "node_modules")):
        os.makedirs(dst, exist_ok=True)
        for f in os.listdir(src):
            shutil.copy(os.path.join(src, f), dst)
            os.chmod(os.path.join(dst, f), 0o644)
        log("npm install (node-pg peer) in %s" % dst)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=dst, check=True,
                       stdout=subprocess.DEVNULL)
    pgdir = os.path.join(WORK, "pg")
    r = subprocess.run([pgsh, "start", pgdir], capture_output=True, text=True)
    if r.returncode != 0:
        return None, "postgres.sh start failed: " + r.stderr[-300:]
    global PGDIR
    PGDIR = pgdir
    env = dict(os.environ)
    for line in r.stdout.splitlines():
        k, _, v = line.partition("=")
        env[k] = v
    env.update(PGHOST="127.0.0.1", PGPORT=env["PG_PORT"], PGUSER="loci", PGDATABASE="loci")
    pg_pid = int(env["PG_PID"])
    log("seeding the peer's PostgreSQL with %d objects" % n)
    t0 = time.time()
    subprocess.run(["node", "seed.js", str(n)], cwd=dst, env=env, check=True, stdout=subprocess.DEVNULL)
    seed_secs = time.time() - t0
    port = free_port()
    env["PORT"] = str(port)
    p = start("node-pg", ["node", "server.js"], env=env, cwd=dst, logfile=os.path.join(WORK, "node-pg.log"))
    wait_http("http://127.0.0.1:%d/v1/objects/bench/00000000" % port, headers={"Authorization": "Bearer peer-bench-token"})
    tok = "peer-bench-token"
    wrk(port, "locate", conns, WARM, token=tok, objects=n, servers=[p.pid, pg_pid])  # warm-up
    res = {"seed_secs": seed_secs}
    for w in ("locate", "search", "write"):
        res[w] = wrk(port, w, conns, secs, token=tok, objects=n, servers=[p.pid, pg_pid])
        show("node-pg " + w, res[w])
    res["mix"] = wrk(port, "mix", conns, MIX_DUR, token=tok, objects=n, servers=[p.pid, pg_pid])
    show("node-pg mix", res["mix"])
    stop(p)
    return res, None


# --- latency at half of the peak rate ---

def half_load(port, token, peak, servers):
    """Locate at about half of peak req/s: 64 connections, each pausing between requests
    (workload.lua delay), calibrated once against the rate reached. Against a baseline (the
    hello-world) the same rate and pattern: the latency floor of the HTTP stack, the load
    generator and this machine's scheduler at that rate."""
    conns = 64
    target = peak / 2.0
    delay = max(0.0, conns / target * 1000.0 - 0.3)

    def recalibrate(r, delay):
        # rate = conns / (delay + service time): keep the service time, fix the delay
        service = conns / r["rps"] * 1000.0 - delay
        return max(0.0, conns / target * 1000.0 - service)

    for _ in range(2):
        delay = recalibrate(wrk(port, "locate", conns, 4, token=token, delay_ms=delay, servers=servers, tag="-cal"), delay)
    # wrk fires its pauses on whole milliseconds, so the rate a delay gives is not quite linear
    # in it: a measured run more than 10% off the target is run again, recalibrated on itself
    # (at most twice), and the run nearest the target is the one reported
    best = None
    for attempt in range(3):
        r = wrk(port, "locate", conns, DUR, token=token, delay_ms=delay, servers=servers, tag="-half%d" % attempt)
        r["target"] = target
        r["delay_ms"] = delay
        if best is None or abs(r["rps"] - target) < abs(best["rps"] - target):
            best = r
        if abs(r["rps"] - target) <= 0.1 * target:
            break
        delay = recalibrate(r, delay)
    return best


def perf_profile(pid, port, token, workload, secs):
    if shutil.which("perf") is None:
        return None
    out = os.path.join(WORK, "perf-%s.data" % workload)
    rec = subprocess.Popen(["perf", "record", "--call-graph", "dwarf,16384", "-F", "299", "-p", str(pid), "-o", out, "--", "sleep", str(secs)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wrk(port, workload, CONNS, secs, token=token)
    rec.wait()
    txt = os.path.join(WORK, "perf-%s.txt" % workload)
    with open(txt, "w") as f:
        subprocess.run(["perf", "report", "-i", out, "--no-children", "--percent-limit", "0.7", "--stdio", "-g", "none",
                        "--sort", "dso,sym"], stdout=f, stderr=subprocess.DEVNULL)
    return txt


# --- report ---

def git(*args):
    r = subprocess.run(["git", "-C", ROOT] + list(args), capture_output=True, text=True)
    return r.stdout.strip()


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%d cores (%s), %s, Linux %s" % (NCPU, model or platform.machine(), "%.0f GiB" % (
        os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30), platform.release())


def chart(sweep, hello_sweep, png):
    if shutil.which("gnuplot") is None:
        log("gnuplot is missing: no chart")
        return False
    dat = os.path.join(WORK, "sweep.dat")
    with open(dat, "w") as f:
        f.write("# conns loci_locate hello\n")
        for c in SWEEP:
            f.write("%d %.0f %.0f\n" % (c, sweep[c]["rps"], hello_sweep[c]["rps"]))
    script = """set terminal pngcairo size 900,520 font ",11"
set output '%s'
set title "loci locate vs the libh2o hello-world ceiling (%s)"
set xlabel "connections (wrk, loopback, generator on the same cores)"
set ylabel "requests/s"
set logscale x 2
set grid
set key top left
set yrange [0:*]
plot '%s' using 1:3 with linespoints lw 2 title "h2o hello-world (same body size)", \\
     '%s' using 1:2 with linespoints lw 2 title "loci GET /v1/objects/{key} (signed URL)"
""" % (png, datetime.date.today().isoformat(), dat, dat)
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if r.returncode != 0:
        script = script.replace("pngcairo", "png")
        r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if r.returncode != 0:
        log("gnuplot failed: " + r.stderr[-300:])
        return False
    return True


def fmt_ms(us):
    return "%.2f" % (us / 1000.0)


def main():
    global WORK
    for exe in (LOCI, HELLO):
        if not os.access(exe, os.X_OK):
            sys.exit("bench: %s is not built (make bench builds it)" % exe)
    if subprocess.run([LOCI, "import", "--help"], capture_output=True).returncode != 0:
        sys.exit("bench: this loci has no 'import' command (src/cli/commands.c must register cmd_import)")
    if shutil.which("wrk") is None:
        sys.exit("bench: wrk is not installed (scripts/deps.sh bench)")
    WORK = tempfile.mkdtemp(prefix="loci-bench.")
    os.chmod(WORK, 0o755)  # PostgreSQL runs as another user and must reach its directory
    started = datetime.datetime.now(datetime.timezone.utc)
    log("loci bench - %s - %s - %d objects, %d connections, wrk -t%d, %d s per workload, mix %d s; work dir %s" % (
        started.strftime("%Y-%m-%d %H:%M UTC"), machine(), OBJECTS, CONNS, WRK_THREADS, DUR, MIX_DUR, WORK))
    R = {"objects": OBJECTS, "conns": CONNS}
    R["sign"] = signing_cost()
    try:
        # the object store stand-in: answers loci's verification HEAD of a finished upload (it
        # stands for S3, whose CPU is counted with the server's: it does not poll)
        store_port = free_port()
        store = start("store", [HELLO, "--listen", "127.0.0.1:%d" % store_port, "--threads", "1", "--spin-us", "0", "--head-size",
                                str(WRITE_SIZE)], logfile=os.path.join(WORK, "store.log"))
        wait_http("http://127.0.0.1:%d/" % store_port)

        ref = None
        if OBJECTS > 1000000:
            # the 10M goal compares with 1M in the same run
            data1, tok1, _, _ = loci_dataset(1000000, store_port)
            port = free_port()
            p = loci_start(data1, port)
            wrk(port, "locate", CONNS, WARM, token=tok1, objects=1000000)
            ref = wrk(port, "locate", CONNS, DUR, token=tok1, objects=1000000, servers=[p.pid])
            show("locate (1M reference)", ref)
            stop(p)
            shutil.rmtree(data1, ignore_errors=True)
        data, token, isecs, irate = loci_dataset(OBJECTS, store_port)
        R["import"] = {"secs": isecs, "rate": irate}
        port = free_port()
        p = loci_start(data, port)
        base = "http://127.0.0.1:%d" % port
        sample = http("GET", base + "/v1/objects/bench/%08d" % (OBJECTS // 2), token=token)
        R["locate_body"] = len(sample)
        servers = [p.pid]
        log("loci (%d-byte locate answers), %d connections:" % (len(sample), CONNS))
        wrk(port, "locate", CONNS, WARM, token=token)  # warm-up: page cache, mapped pages, statements
        # the ceiling runs beside loci from here on, and the two are measured in alternating
        # rounds: the drift of this shared machine (other tenants, the disk) moves both alike,
        # where minutes apart it moved one of them by up to a fifth
        hport = free_port()
        h = start("hello", [HELLO, "--listen", "127.0.0.1:%d" % hport, "--body-size", str(len(sample))],
                  logfile=os.path.join(WORK, "hello.log"))
        wait_http("http://127.0.0.1:%d/" % hport)
        # it gets exactly loci's locate requests (random keys, the bearer token), which it does
        # not look at: the generator and the HTTP parser do the same work for both
        wrk(hport, "locate", CONNS, WARM, token=token)
        R["rounds"] = []
        for i in range(ROUNDS):
            a = wrk(port, "locate", CONNS, ROUND_DUR, token=token, servers=servers, tag="-r%d" % i)
            b = wrk(hport, "locate", CONNS, ROUND_DUR, token=token, servers=[h.pid], tag="-r%d" % i)
            R["rounds"].append((a, b))
            log("  round %d: loci locate %.0f req/s, hello-world %.0f req/s (%.2fx)" % (i + 1, a["rps"], b["rps"],
                                                                                   a["rps"] / b["rps"]))
        # the table shows the round with the median ratio
        R["locate"], R["hello"] = sorted(R["rounds"], key=lambda ab: ab[0]["rps"] / ab[1]["rps"])[len(R["rounds"]) // 2]
        for w in ("search", "write"):
            R[w] = wrk(port, w, CONNS, DUR, token=token, servers=servers + [store.pid] if w == "write" else servers)
        R["mix"] = wrk(port, "mix", CONNS, MIX_DUR, token=token, servers=servers + [store.pid])
        R["write"]["writes"] = R["write"]["ops"]["complete"] / R["write"]["secs"]
        if GEN_SCHED != "normal":
            R["locate_normal"] = wrk(port, "locate", CONNS, DUR, token=token, servers=servers, sched="normal")
        show("locate", R["locate"])
        if R.get("locate_normal"):
            show("locate, generator at the normal policy", R["locate_normal"])
        show("search (2 tags, limit 20)", R["search"])
        show("write (start + complete)", R["write"], "writes/s", R["write"]["writes"])
        show("mix 70/20/10, %d s" % MIX_DUR, R["mix"])
        log("  mix: %d transactions in %.1f s" % (R["mix"]["requests"], R["mix"]["secs"]))
        R["sweep"] = {}
        for c in SWEEP:
            R["sweep"][c] = wrk(port, "locate", c, SWEEP_DUR, token=token, servers=servers)
        peak = max([R["locate"]["rps"]] + [r["rps"] for r in R["sweep"].values()])
        R["peak"] = peak
        R["half"] = half_load(port, token, peak, servers)
        show("locate at half of peak", R["half"])
        R["rss"] = rss_mb(p.pid)
        log("  loci resident memory %.0f MB: %.0f MB its own (anonymous), %.0f MB mapped files "
            "(page cache); peak resident %.0f MB" % (R["rss"]["VmRSS"], R["rss"]["RssAnon"] + R["rss"]["RssShmem"],
                                                      R["rss"]["RssFile"], R["rss"]["VmHWM"]))
        if ref:
            R["ref1m"] = ref
        if PROFILE:
            for w in ("locate", "search", "write", "mix"):
                txt = perf_profile(p.pid, port, token, w, DUR)
                log("  perf profile of %s: %s" % (w, txt))
        stop(p)
        db_bytes = sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data) if f.startswith("loci.db"))
        R["db_mb"] = db_bytes / 2**20

        # baselines (the hello-world has run since the locate rounds)
        show("h2o hello-world", R["hello"])
        if GEN_SCHED != "normal":
            R["hello_normal"] = wrk(hport, "locate", CONNS, DUR, token=token, servers=[h.pid], sched="normal")
            show("h2o hello-world, generator at the normal policy", R["hello_normal"])
        R["hello_sweep"] = {c: wrk(hport, "locate", c, SWEEP_DUR, token=token, servers=[h.pid]) for c in SWEEP}
        R["hello_half"] = half_load(hport, token, R["peak"], [h.pid])
        show("h2o hello-world at loci's half-load rate", R["hello_half"])
        stop(h)
        stop(store)
        R["redis"] = redis_baseline(CONNS, DUR)
        if R["redis"]:
            rr = R["redis"]
            log("  %-26s %9.0f SET/s    p50 %.2f  p99 %.2f ms  (generator %.0f%%, server %.0f%% of %d cores)" % (
                "redis appendfsync always", rr["rps"], rr["latency_ms"]["p50"], rr["latency_ms"]["p99"],
                100 * rr["wrk_cpu"] / (rr["secs"] * NCPU), 100 * rr["server_cpu"] / (rr["secs"] * NCPU), NCPU))
        if PG:
            # the store stand-in was stopped with the baselines: a fresh one for loci on PostgreSQL
            store = start("store", [HELLO, "--listen", "127.0.0.1:%d" % store_port, "--threads", "1", "--spin-us", "0", "--head-size",
                                    str(WRITE_SIZE)], logfile=os.path.join(WORK, "store2.log"))
            wait_http("http://127.0.0.1:%d/" % store_port)
            R["pg"], R["pg_skip"] = pg_bench(PG_OBJECTS, store_port, store.pid)
            stop(store)
        R["peer"], R["peer_skip"] = (None, "BENCH_PEER=0") if not PEER else peer_baseline(OBJECTS, CONNS, DUR)
        if R["peer_skip"]:
            log("  node-pg peer skipped: " + R["peer_skip"])
    finally:
        stop_all()
        for d in (globals().get("PGDIR"), globals().get("PGLOCI")):
            if d:
                subprocess.run([os.path.join(ROOT, "tests", "env", "postgres.sh"), "stop", d], capture_output=True)
    report(R, started)
    if not PROFILE:
        shutil.rmtree(WORK, ignore_errors=True)


def signing_cost():
    """bench/signbench.c's table: nanoseconds per signed URL per provider, and URLs/s from
    NCPU threads sharing one signer (the way loop threads share a store's signer)."""
    secs = "0.3" if QUICK else "1"
    r = subprocess.run([SIGNBENCH, "--seconds", secs, "--threads", str(NCPU), "--vectors",
                        os.path.join(ROOT, "tests", "vectors")], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("bench: signbench failed: " + r.stderr.strip())
    log("signing cost per URL:\n" + r.stdout.rstrip())
    return r.stdout.rstrip()


def report(R, started):
    L, H, W, M = R["locate"], R["hello"], R["write"], R["mix"]
    rows = []
    goals = []

    def ratio(a, b):
        return a / b if b else 0.0

    commit = git("rev-parse", "--short", "HEAD") + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")
    lines = []
    lines.append("## `make bench`, %s, %d objects" % (started.strftime("%Y-%m-%d %H:%M UTC"), R["objects"]))
    lines.append("")
    lines.append("Machine: %s. Commit `%s`. wrk %d threads, %d connections, loopback, generator on the same cores "
                 "(scheduling policy: %s); %d s per workload, mix %d s. Data set: %d objects `bench/%%08d` (tags shard, "
                 "kind), one `s3` store; database %.0f MB. The hello-world gets the same requests as locate." % (
                     machine(), commit, WRK_THREADS, R["conns"], "SCHED_BATCH" if GEN_SCHED == "batch" else "normal",
                     DUR, MIX_DUR, R["objects"], R["db_mb"]))
    lines.append("")
    lines.append("Loading: `loci import` of %d objects in %.1f s: **%.0f objects/s** (one transaction, one audit entry per "
                 "object)." % (R["objects"], R["import"]["secs"], R["import"]["rate"]))
    if R.get("peer"):
        lines.append("The peer's own seed (`seed.js`, SQL `generate_series`, no audit) took %.1f s." % R["peer"]["seed_secs"])
    lines.append("")
    lines.append("| workload | throughput | p50 ms | p99 ms | p99.9 ms | errors | generator CPU | server CPU | server CPU per request |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")

    def row(name, r, rate=None, unit="req/s"):
        rate = r["rps"] if rate is None else rate
        cap = r["secs"] * NCPU
        lines.append("| %s | %.0f %s | %s | %s | %s | %d | %.0f%% | %.0f%% | %.0f µs |" % (
            name, rate, unit, fmt_ms(r["latency_us"]["p50"]), fmt_ms(r["latency_us"]["p99"]),
            fmt_ms(r["latency_us"]["p999"]), r["errors_total"], 100 * r["wrk_cpu"] / cap, 100 * r["server_cpu"] / cap,
            1e6 * r["server_cpu"] / max(1, r["requests"])))

    row("loci locate `GET /v1/objects/{key}`", L)
    if R.get("locate_normal"):
        row("loci locate, generator at the normal policy", R["locate_normal"])
    row("loci search (2 tags, limit 20)", R["search"])
    row("loci write (start + complete, durable)", W, W["writes"], "writes/s")
    row("loci mix 70/20/10 (%d s: %d transactions)" % (MIX_DUR, M["requests"]), M)
    row("loci locate at half of peak (%.0f req/s target)" % R["half"]["target"], R["half"])
    if R.get("ref1m"):
        row("loci locate, 1M objects (same run)", R["ref1m"])
    row("h2o hello-world, %d-byte body" % R["locate_body"], H)
    if R.get("hello_normal"):
        row("h2o hello-world, generator at the normal policy", R["hello_normal"])
    if R.get("hello_half"):
        row("h2o hello-world at loci's half-load rate (%.0f req/s target)" % R["hello_half"]["target"], R["hello_half"])
    rr = R.get("redis")
    if rr:
        cap = rr["secs"] * NCPU
        lines.append("| redis SET, appendfsync always (redis-benchmark) | %.0f SET/s | %.2f | %.2f | | | %.0f%% | %.0f%% | %.0f µs |" % (
            rr["rps"], rr["latency_ms"]["p50"], rr["latency_ms"]["p99"], 100 * rr["wrk_cpu"] / cap,
            100 * rr["server_cpu"] / cap, 1e6 * rr["server_cpu"] / rr["requests"]))
    P = R.get("peer")
    if P:
        row("node-pg peer locate", P["locate"])
        row("node-pg peer search", P["search"])
        row("node-pg peer write", P["write"], P["write"]["ops"]["complete"] / P["write"]["secs"], "writes/s")
        row("node-pg peer mix (%d s: %d transactions)" % (MIX_DUR, P["mix"]["requests"]), P["mix"])
    lines.append("")
    lines.append("Server CPU includes everything the server needed (node-pg: node workers and PostgreSQL; write and mix: "
                 "the HEAD responder standing in for S3). Percentages are of all %d cores over the run; CPU per request "
                 "is the figure least disturbed by other work on a shared machine." % NCPU)
    lines.append("")
    if R.get("pg"):
        lines.extend(pg_lines(R["pg"]))
    elif R.get("pg_skip"):
        lines.append("loci on PostgreSQL not run: %s." % R["pg_skip"])
        lines.append("")

    def goal(name, value, target, ok, how):
        goals.append((name, value, target, ok, how))

    goal("locate / h2o hello-world", ratio(L["rps"], H["rps"]), "≥ 0.6", ratio(L["rps"], H["rps"]) >= 0.6, "x")
    if R.get("locate_normal") and R.get("hello_normal"):
        goal("locate / h2o hello-world, generator at the normal policy",
             ratio(R["locate_normal"]["rps"], R["hello_normal"]["rps"]), "", None, "x")
    if rr:
        goal("durable writes / redis appendfsync always", ratio(W["writes"], rr["rps"]), "≥ 0.5",
             ratio(W["writes"], rr["rps"]) >= 0.5, "x")
        goal("durable write transactions / redis (start and complete counted apart)",
             ratio(W["rps"], rr["rps"]), "", None, "x")
    mix15 = M["rps"] * 15  # the requests of a 15 s run (extrapolated when BENCH_MIX_DURATION differs)
    goal("mix transactions in 15 s", mix15, "≥ 600,000", mix15 >= 600000, "n")
    if P:
        goal("locate / node-pg peer locate", ratio(L["rps"], P["locate"]["rps"]), "≥ 30",
             ratio(L["rps"], P["locate"]["rps"]) >= 30, "x")
        goal("search / node-pg peer search", ratio(R["search"]["rps"], P["search"]["rps"]), "", None, "x")
        goal("writes / node-pg peer writes", ratio(W["writes"], P["write"]["ops"]["complete"] / P["write"]["secs"]), "",
             None, "x")
        goal("mix / node-pg peer mix", ratio(M["rps"], P["mix"]["rps"]), "", None, "x")
    goal("p99 locate at half of peak (%.0f of %.0f req/s), ms" % (R["half"]["rps"], R["peak"]),
         R["half"]["latency_us"]["p99"] / 1000.0, "< 2", R["half"]["latency_us"]["p99"] < 2000, "ms")
    if R.get("hello_half"):
        goal("p99 of the h2o hello-world at that rate and pattern (%.0f req/s), ms" % R["hello_half"]["rps"],
             R["hello_half"]["latency_us"]["p99"] / 1000.0, "", None, "ms")
    if R.get("ref1m"):
        goal("locate with %d objects / with 1M" % R["objects"], ratio(L["rps"], R["ref1m"]["rps"]), "≥ 0.8",
             ratio(L["rps"], R["ref1m"]["rps"]) >= 0.8, "x")
    # the goal counts the server's own memory "plus page cache": file-backed pages (RssFile: the
    # mapped libraries, and database pages if SQLite maps the file) are page cache, shared and
    # reclaimable, so they are reported beside it
    own = R["rss"]["RssAnon"] + R["rss"]["RssShmem"]
    goal("loci resident memory without page cache, MB (plus %.0f MB of mapped files)" % R["rss"]["RssFile"],
         own, "< 300", own < 300, "mb")
    lines.append("Signing cost per URL (`bench/signbench.c`, no HTTP, names vary so nothing is cached; "
                 "PUT URLs bind content type and length):")
    lines.append("")
    lines.append(R["sign"])
    lines.append("")
    lines.append("| ratio or goal | measured | goal | |")
    lines.append("|---|---:|---:|---|")
    for name, value, target, ok, how in goals:
        v = {"x": "%.2f×" % value, "n": "{:,.0f}".format(value), "ms": "%.2f" % value, "mb": "%.0f" % value}[how]
        lines.append("| %s | %s | %s | %s |" % (name, v, target, "" if ok is None else ("met" if ok else "**missed**")))
    if R.get("peer_skip"):
        lines.append("")
        lines.append("node-pg peer not run: %s." % R["peer_skip"])
    lines.append("")
    png = os.path.join(ROOT, "docs", "bench-throughput.png")
    if APPEND and chart(R["sweep"], R["hello_sweep"], png):
        lines.append("![throughput against connections](bench-throughput.png)")
        lines.append("")
    sweep_line = "Throughput by connections (loci locate / hello): " + ", ".join(
        "%d: %.0f / %.0f" % (c, R["sweep"][c]["rps"], R["hello_sweep"][c]["rps"]) for c in SWEEP) + "."
    lines.append(sweep_line)
    lines.append("")
    lines.append("Locate and the hello-world in %d alternating rounds of %d s (the tables show the round with the "
                 "median ratio): " % (len(R["rounds"]), ROUND_DUR) + ", ".join(
                     "%.0f / %.0f (%.2f×)" % (a["rps"], b["rps"], a["rps"] / b["rps"]) for a, b in R["rounds"]) + ".")
    lines.append("")
    text = "\n".join(lines)
    print(text)
    if APPEND:
        with open(os.path.join(ROOT, "docs", "benchmarks.md"), "a") as f:
            f.write("\n" + text)
        log("appended to docs/benchmarks.md")
    with open(os.path.join(BUILD, "bench-last.json"), "w") as f:
        json.dump(R, f, indent=1, default=str)


if __name__ == "__main__":
    try:
        main_pg_only() if PG_ONLY else main()
    except KeyboardInterrupt:
        stop_all()
        sys.exit(130)
