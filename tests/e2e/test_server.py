"""Server behaviour: configuration sources and their precedence, limits on slow clients,
keep-alive, connections spread over the loops, polling after busy turns, and graceful shutdown that lets in-flight
requests finish."""

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import LOCI_BIN, Reporter, Server  # noqa: E402

rep = Reporter("server")


def test_config():
    data = tempfile.mkdtemp(prefix="loci-cfg.")
    cfg = os.path.join(data, "loci.yaml")
    with open(cfg, "w") as f:
        f.write("""# a loci config file
cell: eu2
log_requests: true
limits:
  body_max: 2048
  tags_max: 5
jurisdiction_groups:
  DACH: [DE, AT, CH]
""")
    srv = Server(data=os.path.join(data, "var"), args=["--config", cfg], env={"LOCI_LIMITS_TAGS_MAX": "2"})
    try:
        srv.start()
        tok = srv.demo_token
        rep.check("config_cell_in_token", tok.startswith("lk_eu2_"), tok)
        r = srv.request("PUT", "/v1/objects/k", {"size": 1, "attrs": {"pad": "x" * 3000}}, token=tok)
        rep.eq("config_body_max_from_yaml", r.status, 413)
        r = srv.request("PUT", "/v1/objects/k", {"size": 1, "tags": {"a": "1", "b": "2", "c": "3"}}, token=tok)
        rep.check("env_overrides_yaml", r.status == 400 and "more than 2" in r.json["error"]["message"], r)
        r = srv.admin("PUT", "/v1/admin/tenants/dach", {"jurisdictions": ["DACH"]})
        rep.eq("configured_group_usable", r.status, 201)
        r = srv.admin("PUT", "/v1/admin/tenants/nope", {"jurisdictions": ["NOPE"]})
        rep.eq("unknown_group_refused", r.status, 400)
    finally:
        srv.cleanup()

    def start_fails(yaml_text, needle, name):
        with open(cfg, "w") as f:
            f.write(yaml_text)
        p = subprocess.run([LOCI_BIN, "serve", "--config", cfg, "--data", os.path.join(data, "v2"),
                            "--listen", "127.0.0.1:1"], capture_output=True, timeout=20)
        rep.check(name, p.returncode != 0 and needle in p.stderr.decode(), p.stderr.decode())

    start_fails("colour: red\n", "unknown setting 'colour'", "config_unknown_key_refused")
    start_fails("admin_token: x\n", "never read from the config file", "config_admin_token_refused")
    start_fails("threads: many\n", "threads", "config_bad_number_refused")
    start_fails("limits: [1, 2]\n", "limits must be a mapping", "config_bad_shape_refused")
    start_fails("local_country: XX\n", "local_country", "config_bad_country_refused")
    p = subprocess.run([LOCI_BIN, "serve", "--help"], capture_output=True, timeout=10)
    rep.check("serve_help_lists_settings", p.returncode == 0 and b"LOCI_LIMITS_BODY_MAX" in p.stdout, p.stdout[:200])
    subprocess.run(["rm", "-rf", data])


def test_slow_client():
    srv = Server(env={"LOCI_REQUEST_TIMEOUT_MS": "1000"})
    try:
        srv.start()
        slow = socket.create_connection(("127.0.0.1", srv.port))
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finishes its headers
        t0 = time.time()
        served = [srv.request("GET", "/healthz").status for _ in range(20)]
        rep.check("others_served_meanwhile", served == [200] * 20, served)
        slow.settimeout(5)
        got = slow.recv(100)
        waited = time.time() - t0
        rep.check("slow_client_closed", got == b"" and 0.5 < waited < 4, (got, waited))
        slow.close()
        # keep-alive: many requests on one connection
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 5)
        buf = b""
        s.settimeout(5)
        while buf.count(b"HTTP/1.1 200") < 5:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        rep.eq("keep_alive_pipelined", buf.count(b"HTTP/1.1 200"), 5)
        s.close()
        # a request line + headers over the limit
        r = srv.request("GET", "/healthz", headers={"X-Big": "b" * 17000})
        rep.eq("header_limit_431", r.status, 431)
    finally:
        srv.cleanup()


def loop_connections(srv):
    """loci_http_connections_total per loop, from /metrics."""
    body = srv.request("GET", "/metrics").body.decode()
    got = {}
    for line in body.splitlines():
        if line.startswith("loci_http_connections_total{loop="):
            loop = line.split('"')[1]
            got[loop] = int(line.rsplit(" ", 1)[1])
    return got


def test_connections_spread():
    """A burst of connections opened at once (a client's pool, a load balancer's) is shared
    by the loops in turn; left to the race for the listening socket, the first loop to wake
    took most of it."""
    srv = Server(threads=3)
    try:
        srv.start()
        before = loop_connections(srv)
        rep.eq("connections_metric_per_loop", sorted(before), ["0", "1", "2"])
        socks = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(30)]
        answered = 0
        for s in socks:  # each is served wherever it went
            s.settimeout(5)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        for s in socks:
            if s.recv(4096).startswith(b"HTTP/1.1 200"):
                answered += 1
        rep.eq("burst_served", answered, 30)
        after = loop_connections(srv)  # (its own request may come on a new connection)
        took = [after[k] - before.get(k, 0) for k in sorted(after)]
        rep.check("burst_spread_over_loops", sum(took) in (30, 31) and max(took) - min(took) <= 1, took)
        for s in socks:
            s.close()
        # every thread says what it is (top -H, perf, gdb): one per loop, the writer, the pools
        names = sorted(open("/proc/%d/task/%s/comm" % (srv.proc.pid, t)).read().strip()
                       for t in os.listdir("/proc/%d/task" % srv.proc.pid))
        want = {"loci-loop0", "loci-loop1", "loci-loop2", "loci-writer", "loci-io0", "loci-maint", "loci-readaudit"}
        rep.check("threads_named", want <= set(names) and names.count("loci") == 1
                  and sum(n.startswith("loci-loop") for n in names) == 3, names)
    finally:
        srv.cleanup()


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_loop_spin():
    """After a turn that served a request a loop polls for up to loop_spin_us before it sleeps
    (the next request then finds it running); the window shrinks when polling catches nothing,
    and an idle server uses no CPU."""
    def spaced_requests(spin_us, n, gap):
        """CPU seconds the server used for n requests gap seconds apart, then idle for 1 s."""
        srv = Server(env={"LOCI_LOOP_SPIN_US": str(spin_us)})
        try:
            srv.start()
            s = socket.create_connection(("127.0.0.1", srv.port))
            s.settimeout(5)
            c0 = cpu_seconds(srv.proc.pid)
            for _ in range(n):
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                s.recv(4096)
                time.sleep(gap)
            busy = cpu_seconds(srv.proc.pid) - c0
            time.sleep(0.2)
            c1 = cpu_seconds(srv.proc.pid)
            time.sleep(1.0)
            s.close()
            return busy, cpu_seconds(srv.proc.pid) - c1
        finally:
            srv.cleanup()

    # each request comes 5 ms after the last answer, inside the 10 ms window: the loop polls
    # through all 80 (0.4 s), at least a part of it on a machine busy with other work
    busy, idle = spaced_requests(10000, 80, 0.005)
    rep.check("polls_after_busy_turn", busy >= 0.1, busy)
    rep.check("idle_server_does_not_poll", idle <= 0.05, idle)
    # 30 ms apart, polling never catches one: the window halves each time (about 20 ms in
    # all instead of 0.4 s)
    busy, _ = spaced_requests(10000, 40, 0.03)
    rep.check("polling_stops_when_it_never_pays", busy < 0.08, busy)
    busy, _ = spaced_requests(0, 80, 0.005)
    rep.check("no_polling_when_off", busy < 0.08, busy)


class SlowStore(http.server.BaseHTTPRequestHandler):
    """Answers HEAD after a delay, as a slow S3-compatible store would (no signature check:
    this store stands in for latency only)."""
    delay = 2.0
    size = 5

    def do_HEAD(self):
        time.sleep(self.delay)
        self.send_response(200)
        self.send_header("Content-Length", str(self.size))
        self.end_headers()

    def do_DELETE(self):
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


def test_graceful_inflight():
    store = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowStore)
    threading.Thread(target=store.serve_forever, daemon=True).start()
    srv = Server()
    try:
        srv.start()
        tok = srv.demo_token
        r = srv.admin("PUT", "/v1/admin/stores/slow", {
            "provider": "s3", "endpoint": "http://127.0.0.1:%d" % store.server_address[1], "bucket": "b",
            "path_style": True, "country": "DE", "credentials": {"access_key_id": "AK", "secret_access_key": "SK"}})
        assert r.status == 201, r
        srv.admin("PUT", "/v1/admin/stores/local", {"provider": "local", "country": "DE", "status": "readonly"})
        start = srv.request("PUT", "/v1/objects/slow/obj", {"size": 5}, token=tok)
        rep.check("placed_on_slow_store", start.status == 201 and start.json["targets"][0]["store"] == "slow", start)
        result = {}

        def complete():
            import http.client
            c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
            c.request("POST", "/v1/uploads/%s/complete" % start.json["upload_id"], headers={"Authorization": "Bearer " + tok})
            resp = c.getresponse()
            result["status"] = resp.status
            result["body"] = resp.read()

        t = threading.Thread(target=complete)
        t.start()
        time.sleep(0.5)  # the complete is now waiting on the store's HEAD
        t0 = time.time()
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        # new connections are refused while the in-flight request finishes
        try:
            socket.create_connection(("127.0.0.1", srv.port), timeout=1).close()
            refused = False
        except OSError:
            refused = True
        rep.check("stops_accepting", refused)
        t.join(10)
        rc = srv.proc.wait(10)
        rep.check("inflight_completed", result.get("status") == 200 and json.loads(result["body"])["object"]["state"] ==
                  "committed", result)
        rep.check("exit_after_inflight", rc == 0 and time.time() - t0 > 1.0, (rc, time.time() - t0))
        srv.proc = None
        srv.log.close()
        # the acknowledged commit is there after a restart
        srv2 = Server(data=srv.data)
        srv2.start()
        r = srv2.request("HEAD", "/v1/objects/slow/obj", token=tok)
        rep.eq("acknowledged_commit_durable", r.status, 200)
        srv2.stop()
    finally:
        srv.cleanup()
        store.shutdown()


def main():
    rep.run("config", test_config)
    rep.run("slow_client", test_slow_client)
    rep.run("connections_spread", test_connections_spread)
    rep.run("loop_spin", test_loop_spin)
    rep.run("graceful_inflight", test_graceful_inflight)
    rep.finish()


if __name__ == "__main__":
    main()
