"""Limits: loci under many connections and many requests, and while it stops.

- 10,000 idle connections (and 1,000 that sent half a request line) do not starve active
  clients: every request of the active clients is answered within a generous bound, and loci's
  memory (VmRSS from /proc) grows by a bounded amount per connection; when they go, so do their
  file descriptors.
- Out of file descriptors (its limit lowered under it with prlimit): loci does not spin,
  keeps serving the connections it has, answers a write that needs a file with 503, and serves
  new clients as soon as descriptors free up.
- A bounded flood (thousands of pipelined requests on many connections, and a burst of
  connections) gets answers (or fast 503s), never a crash or a reset.
- Graceful shutdown (SIGTERM) completes what is in flight - a local-store upload whose body is
  still arriving, writes waiting for their commit - makes every acknowledged change durable,
  refuses new connections, and does not wait for idle keep-alive connections.

These are behaviour checks with generous bounds, not benchmarks: the machine is shared.
"""

import hashlib
import json
import os
import random
import resource
import signal
import socket
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Reporter, Server, quote_key  # noqa: E402
from reliability import (build_request, client, close_client, cpu_seconds, nofile_limit, open_fds,  # noqa: E402
                         parse_response, raise_nofile, raw_request, restart, rss_kb, slow_store, wait_for)

rep = Reporter("limits")
IDLE = int(os.environ.get("LOCI_LIMITS_IDLE", "10000"))
HALF = 1000  # of the idle ones, this many sent half a request line


def connect_many(port, n):
    out = []
    for _ in range(n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # close = RST: no TIME_WAIT pile
        s.connect(("127.0.0.1", port))
        out.append(s)
    return out


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def active_load(srv, tok, seconds, threads=4):
    """Active clients for a while: reads, a list and an upload start+abort in a loop. Returns
    (requests, failures, worst latency)."""
    stats = {"n": 0, "bad": [], "worst": 0.0}
    mu = threading.Lock()
    stop = time.time() + seconds

    def run(j):
        c = client(srv)
        i = 0
        try:
            while time.time() < stop:
                i += 1
                t0 = time.time()
                if i % 5 == 0:
                    r = c.request("PUT", "/v1/objects/limits/active-%d" % j, {"size": 1}, token=tok, timeout=30)
                    ok = r.status == 201 and c.request("DELETE", "/v1/uploads/" + r.json["upload_id"], token=tok,
                                                       timeout=30).status == 204
                elif i % 5 == 1:
                    r = c.request("GET", "/v1/objects?prefix=limits/&limit=10", token=tok, timeout=30)
                    ok = r.status == 200
                else:
                    r = c.request("GET", "/v1/objects/limits/there", token=tok, timeout=30)
                    ok = r.status == 200
                dt = time.time() - t0
                with mu:
                    stats["n"] += 1
                    stats["worst"] = max(stats["worst"], dt)
                    if not ok:
                        stats["bad"].append(repr(r))
        except Exception as e:
            with mu:
                stats["bad"].append(repr(e))
        finally:
            close_client(c)

    ts = [threading.Thread(target=run, args=(j,)) for j in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return stats["n"], stats["bad"], stats["worst"]


def settled_fds(pid):
    """loci's descriptor count once the connections of finished clients are closed on its side
    too (the count stays the same for half a second)."""
    last, since = open_fds(pid), time.time()
    while time.time() - since < 0.5:
        time.sleep(0.1)
        now = open_fds(pid)
        if now != last:
            last, since = now, time.time()
    return last


def test_idle_connections():
    soft = raise_nofile(IDLE + 1000)
    if soft < IDLE + 500:
        rep.check("nofile_limit_for_%d_connections" % IDLE, False, "RLIMIT_NOFILE is %d" % soft)
        return
    srv = Server(env={"LOCI_REQUEST_TIMEOUT_MS": "120000", "LOCI_LOG_REQUESTS": "0"})
    try:
        srv.start()
        pid, tok = srv.proc.pid, srv.demo_token
        srv.put_object(tok, "limits/there", b"x")
        lim = nofile_limit(pid)
        rep.check("loci_nofile_limit_fits_%d_connections" % IDLE, lim[0] >= IDLE + 256, lim)
        n0, bad0, worst0 = active_load(srv, tok, 1.0)
        fds0, rss0 = settled_fds(pid), rss_kb(pid)
        t0 = time.time()
        idle = connect_many(srv.port, IDLE)
        for s in idle[:HALF]:
            s.sendall(b"GET /v1/objects/limits/there HT")
        accepted = wait_for(lambda: open_fds(pid) >= fds0 + IDLE, timeout=60, step=0.2)
        sys.stderr.write("%d idle connections open in %.1f s; loci has %d fds\n" % (IDLE, time.time() - t0, open_fds(pid)))
        rep.check("loci_accepted_%d_idle_connections" % IDLE, accepted, (open_fds(pid), fds0))
        n, bad, worst = active_load(srv, tok, 3.0)
        rss1 = rss_kb(pid)
        sys.stderr.write("active clients: %d requests alone (worst %.3f s), %d beside idle ones (worst %.3f s); "
                         "RSS %d kB -> %d kB\n" % (n0, worst0, n, worst, rss0, rss1))
        rep.check("active_clients_answered_beside_idle", n >= 20 and not bad, (n, bad[:3]))
        rep.check("active_latency_bounded_beside_idle", worst < 2.0, worst)
        per_conn = (rss1 - rss0) * 1024 / IDLE
        rep.check("memory_per_idle_connection_bounded", per_conn < 32 * 1024, "%.0f bytes per connection" % per_conn)
        rep.check("rss_bounded_with_idle_connections", rss1 < 512 * 1024, rss1)
        # a request on an idle connection still works (they are idle, not dead)
        s = idle[-1]
        s.sendall(build_request("GET", "/healthz"))
        s.settimeout(10)
        rep.check("idle_connection_still_served", s.recv(100).startswith(b"HTTP/1.1 200"))
        close_all(idle)
        freed = wait_for(lambda: open_fds(pid) <= fds0 + 8, timeout=30, step=0.2)
        rep.check("idle_connections_release_their_fds", freed, (open_fds(pid), fds0))
        rep.eq("healthz_after_idle", srv.request("GET", "/healthz").status, 200)
        rep.eq("graceful_stop_after_idle", srv.stop(), 0)
    finally:
        srv.cleanup()


def test_fd_exhaustion():
    """loci's descriptor limit lowered under it: it runs out of descriptors for new connections
    and files, and must neither spin nor fail what it has."""
    srv = Server(env={"LOCI_REQUEST_TIMEOUT_MS": "120000", "LOCI_LOG_REQUESTS": "0"})
    try:
        srv.start()
        pid, tok = srv.proc.pid, srv.demo_token
        srv.put_object(tok, "limits/there", b"x")
        start, _ = srv.put_object(tok, "limits/needs-a-file", b"12345", upload=False)
        t = start.json["targets"][0]
        keep = client(srv)  # an established connection, for requests while no descriptor is left
        keep.request("GET", "/healthz")
        limit = open_fds(pid) + 40
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, limit))
        socks = connect_many(srv.port, 80)
        time.sleep(0.5)
        rep.check("descriptors_exhausted", open_fds(pid) >= limit - 1, (open_fds(pid), limit))
        c0, t0 = cpu_seconds(pid), time.time()
        time.sleep(2.0)
        used = cpu_seconds(pid) - c0
        rep.check("no_busy_loop_when_out_of_descriptors", used < 0.5, "%.2f s CPU in %.1f s" % (used, time.time() - t0))
        r = keep.request("GET", "/v1/objects/limits/there", token=tok)
        rep.eq("established_connection_served", r.status, 200)
        u = urllib.parse.urlsplit(t["url"])
        r = keep.request("PUT", u.path + "?" + u.query, raw_body=b"12345", headers=t["headers"])
        rep.check("write_needing_a_file_gets_503", r.status == 503 and r.error_code == "unavailable", r)
        close_all(socks[:60])
        t1 = time.time()
        try:
            r = raw_request(srv.port, build_request("GET", "/healthz"), timeout=10)
            ok = r.status == 200
        except OSError as e:
            ok, r = False, e
        rep.check("new_client_served_once_descriptors_free", ok and time.time() - t1 < 5, (r, time.time() - t1))
        close_all(socks[60:])
        close_client(keep)
        rep.check("alive_after_exhaustion", srv.proc.poll() is None)
        rep.eq("graceful_stop_after_exhaustion", srv.stop(), 0)
    finally:
        srv.cleanup()


def pipelined(port, reqs, timeout=60):
    """Sends reqs (bytes each) on one connection at once and reads the answers. Returns
    [(status, seconds after sending)] for each answer received."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    out = []
    try:
        t0 = time.time()
        s.sendall(b"".join(reqs))
        buf = b""
        while len(out) < len(reqs):
            r, used = parse_response(buf)
            if r is not None:
                out.append((r.status, time.time() - t0))
                buf = buf[used:]
                continue
            c = s.recv(1 << 16)
            if not c:
                break
            buf += c
    finally:
        s.close()
    return out


def test_flood():
    srv = Server(env={"LOCI_LOG_REQUESTS": "0"})
    try:
        srv.start()
        pid, tok = srv.proc.pid, srv.demo_token
        srv.put_object(tok, "limits/there", b"x")
        auth = [("Authorization", "Bearer " + tok)]
        mix = [build_request("GET", "/healthz"),
               build_request("GET", "/v1/objects/limits/there", auth),
               build_request("HEAD", "/v1/objects/limits/there", auth),
               build_request("GET", "/v1/objects?prefix=limits/", auth),
               build_request("GET", "/v1/objects/limits/missing", auth),
               build_request("PATCH", "/v1/objects/limits/there", auth + [("Content-Type", "application/json")],
                             json.dumps({"tags": {"set": {"f": "1"}}}))]
        conns, per = 48, 120
        results, errors = [], []
        mu = threading.Lock()

        def flood(j):
            rng = random.Random(j)
            reqs = [rng.choice(mix) for _ in range(per)]
            try:
                got = pipelined(srv.port, reqs)
            except OSError as e:
                got = []
                with mu:
                    errors.append(repr(e))
            with mu:
                results.append((per, got))

        rss0 = rss_kb(pid)
        t0 = time.time()
        ts = [threading.Thread(target=flood, args=(j,)) for j in range(conns)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        took = time.time() - t0
        sent = sum(p for p, _ in results)
        answers = [a for _, got in results for a in got]
        statuses = {}
        for st, _ in answers:
            statuses[st] = statuses.get(st, 0) + 1
        slow_503 = [dt for st, dt in answers if st == 503 and dt > 5]
        sys.stderr.write("flood: %d pipelined requests on %d connections in %.1f s: %r; RSS %s -> %s kB\n"
                         % (sent, conns, took, statuses, rss0, rss_kb(pid)))
        rep.check("flood_every_request_answered", len(answers) == sent and not errors, (len(answers), sent, errors[:3]))
        rep.check("flood_answers_are_expected", set(statuses) <= {200, 404, 503}, statuses)
        rep.check("flood_503s_are_fast", not slow_503, slow_503[:5])
        # a burst of connections, one request each
        burst, got, bad = 1500, [], []

        def one(k):
            try:
                r = raw_request(srv.port, build_request("GET", "/v1/objects/limits/there", auth), timeout=60)
                with mu:
                    got.append(r.status)
            except OSError as e:
                with mu:
                    bad.append(repr(e))

        ts = [threading.Thread(target=one, args=(k,)) for k in range(burst)]
        t0 = time.time()
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        sys.stderr.write("burst: %d connections in %.1f s\n" % (burst, time.time() - t0))
        rep.check("burst_every_connection_answered", len(got) == burst and set(got) <= {200, 503} and not bad,
                  (len(got), set(got), bad[:3]))
        rep.check("alive_after_flood", srv.proc.poll() is None and srv.request("GET", "/healthz").status == 200,
                  srv.proc.poll())
        rss = rss_kb(pid)
        rep.check("rss_bounded_after_flood", rss is not None and rss < 512 * 1024, rss)
        rep.eq("graceful_stop_after_flood", srv.stop(), 0)
    finally:
        srv.cleanup()


def test_graceful_shutdown():
    """SIGTERM while requests are in flight: an upload body still arriving at the local store,
    completes waiting on a slow store's HEAD, a stream of patches. Every one of them that loci
    took in is answered and, when acknowledged, durable."""
    store = slow_store(1.5, 5)
    srv = Server(env={"LOCI_LOG_REQUESTS": "0"})
    try:
        srv.start()
        tok = srv.demo_token
        # 1. an upload to the local store whose body is still arriving when SIGTERM comes
        data = os.urandom(6 << 20)
        start = srv.request("PUT", "/v1/objects/limits/big", {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
                            token=tok)
        t = start.json["targets"][0]
        u = urllib.parse.urlsplit(t["url"])
        body_conn = socket.create_connection((u.hostname, u.port), timeout=30)
        body_conn.sendall(("PUT %s?%s HTTP/1.1\r\nHost: %s\r\n" % (u.path, u.query, u.netloc)
                           + "".join("%s: %s\r\n" % kv for kv in t["headers"].items()) + "\r\n").encode())
        body_result = {}

        def trickle():
            try:
                for i in range(0, len(data), 1 << 20):
                    body_conn.sendall(data[i:i + (1 << 20)])
                    time.sleep(0.25)
                body_result["answer"] = body_conn.recv(200)
            except OSError as e:
                body_result["error"] = repr(e)

        for k in ("w%d" % i for i in range(6)):
            srv.put_object(tok, "limits/" + k, b"w")  # for the patches below
        # 2. completes that wait on a slow store when SIGTERM comes
        r = srv.admin("PUT", "/v1/admin/stores/slow", {
            "provider": "s3", "endpoint": "http://127.0.0.1:%d" % store.server_address[1], "bucket": "b", "path_style": True,
            "country": "DE", "credentials": {"access_key_id": "AK", "secret_access_key": "SK"}})
        assert r.status == 201, r
        srv.admin("PUT", "/v1/admin/stores/local", {"provider": "local", "country": "DE", "status": "readonly"})
        slow_ids = []
        for i in range(4):
            r = srv.request("PUT", "/v1/objects/limits/slow%d" % i, {"size": 5}, token=tok)
            assert r.status == 201 and r.json["targets"][0]["store"] == "slow", r
            slow_ids.append(r.json["upload_id"])
        completes = {}

        def complete(uid):
            c = client(srv)
            try:
                completes[uid] = c.request("POST", "/v1/uploads/%s/complete" % uid, token=tok).status
            except Exception as e:
                completes[uid] = repr(e)
            finally:
                close_client(c)

        # 3. a stream of patches on several connections, until the server stops taking them
        acked, stop = {}, threading.Event()
        mu = threading.Lock()

        def patches(k):
            c = client(srv)
            n = 0
            try:
                while not stop.is_set():
                    n += 1
                    r = c.request("PATCH", "/v1/objects/" + k, {"tags": {"set": {"n": str(n)}}}, token=tok)
                    if r.status != 200:
                        break
                    with mu:
                        acked[k] = r.json["object"]["version"]
                    if r.headers.get("connection", "").lower() == "close":
                        break
            except Exception:
                pass  # a request sent as its idle connection closed: never taken in
            finally:
                close_client(c)

        idle = socket.create_connection(("127.0.0.1", srv.port))  # an idle keep-alive connection
        idle.sendall(build_request("GET", "/healthz"))
        idle.recv(1000)
        ts = [threading.Thread(target=trickle)] + [threading.Thread(target=complete, args=(uid,)) for uid in slow_ids]
        ts += [threading.Thread(target=patches, args=("limits/w%d" % i,)) for i in range(6)]
        for th in ts:
            th.start()
        time.sleep(0.6)
        t0 = time.time()
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        try:
            socket.create_connection(("127.0.0.1", srv.port), timeout=1).close()
            refused = False
        except OSError:
            refused = True
        rep.check("stops_accepting_on_sigterm", refused)
        stop.set()
        for th in ts:
            th.join(30)
        rc = srv.proc.wait(30)
        took = time.time() - t0
        srv.proc = None
        srv.log.close()
        idle.close()
        body_conn.close()
        rep.eq("exit_0_after_inflight", rc, 0)
        rep.check("inflight_upload_body_completed", body_result.get("answer", b"").startswith(b"HTTP/1.1 200"), body_result)
        rep.eq("inflight_completes_answered", sorted(completes.values(), key=str), [200] * len(slow_ids))
        rep.check("idle_connection_did_not_hold_shutdown", took < 10, took)
        srv2 = restart(srv)
        try:
            lost = []
            for k, v in acked.items():
                r = srv2.request("GET", "/v1/objects/" + quote_key(k), token=tok)
                if r.status != 200 or r.json["version"] < v:
                    lost.append((k, v, r.status))
            for i in range(len(slow_ids)):
                if srv2.request("HEAD", "/v1/objects/limits/slow%d" % i, token=tok).status != 200:
                    lost.append("limits/slow%d" % i)
            rep.check("acknowledged_writes_durable_after_sigterm", acked and not lost, (acked, lost))
            srv2.admin("PUT", "/v1/admin/stores/local", {"provider": "local", "country": "DE", "status": "active"})
            c = srv2.request("POST", "/v1/uploads/%s/complete" % start.json["upload_id"], token=tok)
            rep.eq("inflight_upload_completes_after_restart", c.status, 200)
            srv2.stop()
        finally:
            srv2.cleanup()
    finally:
        srv.cleanup()
        store.shutdown()


def main():
    for name, fn in (("idle_connections", test_idle_connections), ("fd_exhaustion", test_fd_exhaustion),
                     ("flood", test_flood), ("graceful_shutdown", test_graceful_shutdown)):
        t0 = time.time()
        rep.run(name, fn)
        sys.stderr.write("%s: %.1f s\n" % (name, time.time() - t0))
    rep.finish()


if __name__ == "__main__":
    main()
