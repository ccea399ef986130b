"""Helpers shared by the reliability suites (test_crash, test_hostile, test_isolation,
test_limits); stdlib only, run with /usr/bin/python3. Servers, reporting and HTTP come from
harness.py; this module adds what those suites need on top:

- state snapshots for "nothing was written" (db_dump, blob_listing) and crash checks
  (integrity_check, audit_verify_offline). db_dump is the one place that knows the metadata
  backend; everything SQLite-specific is marked as such.
- raw HTTP over a socket, for requests http.client cannot send (broken framing, NUL bytes,
  invalid UTF-8 in the path), and a comparison of two answers that ignores only what differs
  between any two requests (Date, X-Request-Id, the request_id in an error body).
- per-thread clients on one server, SIGKILL by PID, process facts from /proc.
"""

import http.server
import json
import os
import re
import resource
import signal
import socket
import sqlite3
import subprocess
import threading
import time

import harness
from harness import LOCI_BIN, Server

# --- the metadata backend -------------------------------------------------------------------


def backend(srv):
    """"sqlite" or "postgres": which metadata store the server uses (from --database / LOCI_DATABASE)."""
    url = srv.env.get("LOCI_DATABASE", "")
    if "--database" in srv.args:
        url = srv.args[srv.args.index("--database") + 1]
    return "postgres" if url.startswith(("postgres:", "postgresql:")) else "sqlite"


def sqlite_path(data):
    return os.path.join(data, "loci.db")


def _sqlite_rows(data):
    """Every row of every table of the SQLite database in data (read-only)."""
    con = sqlite3.connect("file:%s?mode=ro" % sqlite_path(data), uri=True, timeout=30)
    try:
        out = {}
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        for name in tables:
            cur = con.execute('SELECT * FROM "%s"' % name)
            cols = [d[0] for d in cur.description]
            rows = [dict(zip(cols, (bytes(v) if isinstance(v, memoryview) else v for v in r))) for r in cur]
            out[name] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def _pg_rows(data):
    """_sqlite_rows of the PostgreSQL database the harness gave data (DATA/database.url),
    without loci_commits (the writer's commit markers, written by every batch)."""
    con = harness.db_connect(data, readonly=True)
    try:
        out = {}
        for name in con.tables():
            if name == "loci_commits":
                continue
            cur = con.execute('SELECT * FROM "%s"' % name)
            cols = [d[0] for d in cur.description]
            rows = [dict(zip(cols, (bytes(v) if isinstance(v, memoryview) else v for v in r))) for r in cur.fetchall()]
            out[name] = sorted(rows, key=repr)
        con.commit()
        return out
    finally:
        con.close()


def db_dump(srv):
    """Every row of every table, as {table: [row dict, ...]} sorted, so that two dumps compare
    equal exactly when nothing was written. The backend switch lives here and only here."""
    return _sqlite_rows(srv.data) if backend(srv) == "sqlite" else _pg_rows(srv.data)


def _pg_quiesce(data, timeout=15.0):
    """Waits until no other session is connected to data's PostgreSQL database. A killed
    server's backends live on until they notice, and one may still commit what it had received:
    a dump taken before that would show the database as it was not left."""
    con = harness.db_connect(data)
    try:
        deadline = time.time() + timeout
        while True:
            n = con.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'").fetchone()[0]
            con.commit()  # (the activity view is read once per transaction)
            if n == 0 or time.time() > deadline:
                return
            time.sleep(0.05)
    finally:
        con.close()


def db_dump_data(data):
    """db_dump of a stopped (or killed) server's data directory, once nothing of it is left
    running against the database."""
    if harness.database_url(data):
        _pg_quiesce(data)
        return _pg_rows(data)
    return _sqlite_rows(data)


def dump_diff(before, after):
    """A short description of what changed between two dumps (for failure messages)."""
    out = {}
    for t in sorted(set(before) | set(after)):
        b, a = before.get(t, []), after.get(t, [])
        if b != a:
            gone = [r for r in b if r not in a][:2]
            new = [r for r in a if r not in b][:2]
            out[t] = {"rows": (len(b), len(a)), "gone": gone, "new": new}
    return out


def blob_listing(data):
    """Every file under the local stores' directory with its size: local-store writes are state too."""
    root = os.path.join(data, "blobs")
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            try:
                out[os.path.relpath(p, root)] = os.path.getsize(p)
            except OSError:
                pass
    return out


def integrity_check(data):
    """PRAGMA integrity_check of a data directory's database. SQLite-specific."""
    con = sqlite3.connect("file:%s?mode=ro" % sqlite_path(data), uri=True, timeout=30)
    try:
        return "\n".join(r[0] for r in con.execute("PRAGMA integrity_check"))
    finally:
        con.close()


def audit_verify_offline(data, pubkey=None):
    """`loci audit verify --data DIR`: reads the SQLite file directly (SQLite-specific; against
    PostgreSQL use `--url` through a running server). Returns (exit code, stdout, stderr)."""
    args = [LOCI_BIN, "audit", "verify", "--data", data]
    if pubkey:
        args += ["--pubkey", pubkey]
    p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


# --- clients and processes ------------------------------------------------------------------


def client(srv):
    """A Server-like object on the same server with its own kept-alive connection, for use from
    another thread (harness.Server.request keeps one connection per object)."""
    c = Server.__new__(Server)
    c.port, c.url, c.data, c.env, c.args, c._conn = srv.port, srv.url, srv.data, srv.env, srv.args, None
    c.proc, c.demo_token = srv.proc, getattr(srv, "demo_token", None)
    return c


def restart(srv, **kw):
    """A new Server on the same data directory, port and settings as srv (stopped or killed):
    signed local-store URLs name the port, so they stay valid across the restart."""
    s = Server(data=srv.data, env={k: v for k, v in srv.env.items() if k.startswith("LOCI_")}, args=srv.args,
               threads=srv.threads, keep_data=True, **kw)
    s.port = srv.port
    s.url = "http://127.0.0.1:%d" % s.port
    s.own_data = srv.own_data
    return s.start()


def close_client(c):
    if c._conn is not None:
        c._conn.close()
        c._conn = None


def sigkill(srv):
    """SIGKILL the server by the PID we started and reap it; returns the exit status (-9)."""
    if srv.proc is None:
        return None
    if srv._conn:
        srv._conn.close()
        srv._conn = None
    srv.proc.send_signal(signal.SIGKILL)
    rc = srv.proc.wait()
    srv.proc = None
    srv.log.close()
    return rc


def wait_for(cond, timeout=10.0, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


def proc_status(pid, field):
    """A field of /proc/PID/status as an int (kB for the Vm* fields), or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_kb(pid):
    return proc_status(pid, "VmRSS")


def open_fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


def cpu_seconds(pid):
    """User + system CPU time the process has used so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def nofile_limit(pid=0):
    """(soft, hard) RLIMIT_NOFILE of a process (0: this one)."""
    return resource.prlimit(pid, resource.RLIMIT_NOFILE)


def raise_nofile(want):
    """Raises this process's soft RLIMIT_NOFILE to at least want (up to the hard limit); returns
    the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def slow_store(delay, size):
    """A stand-in for a slow S3-compatible store on loopback: HEAD answers after delay seconds
    with Content-Length size, DELETE with 204 (no signature check: it stands in for latency).
    Returns the running server; its port is server_address[1]; stop it with shutdown()."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):
            time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()

        def do_DELETE(self):
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


# --- raw HTTP -------------------------------------------------------------------------------


class RawResponse:
    """One HTTP/1.1 answer read from a socket: status None when the server closed the
    connection without answering."""

    def __init__(self, status=None, reason="", headers=None, body=b"", raw=b""):
        self.status = status
        self.reason = reason
        self.headers = headers or {}
        self.body = body
        self.raw = raw

    @property
    def json(self):
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):
            return None

    @property
    def error_code(self):
        j = self.json
        try:
            return j["error"]["code"]
        except Exception:
            return None

    def __repr__(self):
        return "<raw %r %r>" % (self.status, self.raw[:300])


def parse_response(buf, head_only=False):
    """Parses the first answer in buf; returns (RawResponse, bytes used) or (None, 0) when buf
    does not hold a whole answer yet."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None, 0
    lines = buf[:end].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        return RawResponse(raw=buf), len(buf)
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0")) if not head_only else 0
    if len(buf) < end + 4 + n:
        return None, 0
    body = buf[end + 4:end + 4 + n]
    return RawResponse(int(parts[1]), parts[2] if len(parts) > 2 else "", headers, body, buf[:end + 4 + n]), end + 4 + n


def raw_request(port, data, timeout=10.0, head_only=False, chunks=None):
    """Sends raw bytes (or chunks, with a short pause between them) on a fresh connection and
    reads one answer. Returns a RawResponse; status None if the server closed without one."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    buf = b""
    try:
        try:
            if chunks is None:
                s.sendall(data)
            else:
                for c in chunks:
                    s.sendall(c)
                    time.sleep(0.02)
        except OSError:
            pass  # the server may answer (and close) before it has read everything
        while True:
            r, _ = parse_response(buf, head_only)
            if r is not None:
                return r
            try:
                c = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                c = b""
            if not c:
                r, _ = parse_response(buf, head_only)
                return r if r is not None else RawResponse(raw=buf)
            buf += c
    finally:
        s.close()


def build_request(method, path, headers=None, body=None, version="HTTP/1.1"):
    """The bytes of a request; path and header values may be str or bytes and are sent as they
    are (no encoding, no validation). Adds Host and, for a body, Content-Length unless given."""
    def b(x):
        return x if isinstance(x, bytes) else x.encode("utf-8")
    hdrs = [(b"Host", b"127.0.0.1")]
    given = {b(k).lower() for k, _ in (headers or [])}
    for k, v in headers or []:
        hdrs.append((b(k), b(v)))
    if body is not None and b"content-length" not in given and b"transfer-encoding" not in given:
        hdrs.append((b"Content-Length", str(len(body)).encode()))
    out = b(method) + b" " + b(path) + b" " + b(version) + b"\r\n"
    out += b"".join(k + b": " + v + b"\r\n" for k, v in hdrs)
    out += b"\r\n"
    if body is not None:
        out += b(body)
    return out


_VOLATILE_HEADERS = {"date", "x-request-id"}


def normalized(resp):
    """What an answer says, minus what differs between any two requests: (status, headers
    without Date and X-Request-Id, body with the error's request_id blanked)."""
    headers = resp.headers.items() if isinstance(resp.headers, dict) else resp.headers
    h = tuple(sorted((k.lower(), v) for k, v in headers if k.lower() not in _VOLATILE_HEADERS))
    body = re.sub(rb'"request_id":"[0-9a-f]*"', b'"request_id":""', resp.body or b"")
    return resp.status, h, body
