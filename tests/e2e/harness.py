"""Shared helpers for loci's end-to-end tests (run with /usr/bin/python3).

A test file creates a Reporter, starts one or more Server()s (the real binary on a free
loopback port with a fresh data directory), drives them over HTTP and with the CLI, and
reports each check as a "PASS name" / "FAIL name" line. Servers are stopped with SIGTERM by
the PID we started, and their exit status is checked (a graceful shutdown exits 0).

The metadata store: SQLite in the data directory by default. With LOCI_TEST_BACKEND=postgres
and LOCI_TEST_PG_URL set to a throwaway cluster's database (tests/env/postgres.sh start; the
user must be allowed to create databases), every new data directory gets a database of its
own in that cluster (its URL is kept in DATA/database.url, so a server restarted on the same
directory finds it again) and the server and the CLI's --data commands are given it as
LOCI_DATABASE. db_connect()/db_dump() read either backend for checks (psycopg2 for PostgreSQL).
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LOCI_BIN = os.environ.get("LOCI_BIN", os.path.join(ROOT, "build", "rel", "loci"))
ADMIN_TOKEN = "la_test_admin_token_0123456789"
BACKEND = os.environ.get("LOCI_TEST_BACKEND", "sqlite")  # "sqlite" or "postgres"
PG_URL = os.environ.get("LOCI_TEST_PG_URL", "")
if os.environ.get("LOCI_DATABASE", "").startswith(("postgres://", "postgresql://")):
    # LOCI_DATABASE=postgres://... names the cluster to test against: each server gets a database of its own there
    BACKEND, PG_URL = "postgres", PG_URL or os.environ["LOCI_DATABASE"]
    del os.environ["LOCI_DATABASE"]
PG = BACKEND == "postgres"
if PG and not PG_URL:
    sys.exit("LOCI_TEST_BACKEND=postgres needs LOCI_TEST_PG_URL (tests/env/postgres.sh start)")
_db_seq = [0]


def pg_create_database(url=None):
    """Creates an empty database in the cluster of url (default LOCI_TEST_PG_URL); returns its URL."""
    import psycopg2
    base = url or PG_URL
    _db_seq[0] += 1
    name = "loci_t%d_%d_%d" % (os.getpid(), _db_seq[0], int(time.time() * 1000) % 100000)
    con = psycopg2.connect(base)
    con.autocommit = True
    try:
        con.cursor().execute('CREATE DATABASE "%s"' % name)
    finally:
        con.close()
    return base.rsplit("/", 1)[0] + "/" + name


def database_url(data):
    """The database URL a data directory uses with the PostgreSQL backend (made on first use),
    or None with SQLite."""
    if not PG:
        return None
    f = os.path.join(data, "database.url")
    if os.path.exists(f):
        return open(f).read().strip()
    os.makedirs(data, exist_ok=True)
    url = pg_create_database()
    with open(f, "w") as fh:
        fh.write(url + "\n")
    return url


def db_env(data):
    """Environment for a process working on data's metadata store directly (loci import, audit verify --data)."""
    url = database_url(data)
    return {"LOCI_DATABASE": url} if url else {}


class _Db:
    """A DB-API connection to either backend; SQL is written with ? placeholders."""

    def __init__(self, data, readonly=False):
        self.pg = PG
        if PG:
            import psycopg2
            self.con = psycopg2.connect(database_url(data))
            if readonly:
                # one snapshot for every statement: a dump read table by table must not see a
                # transaction half, e.g. one a killed server's backend commits meanwhile
                self.con.set_session(isolation_level="REPEATABLE READ", readonly=True)
        else:
            import sqlite3
            path = os.path.join(data, "loci.db")
            self.con = sqlite3.connect("file:%s?mode=ro" % path, uri=True) if readonly else sqlite3.connect(path)

    def execute(self, sql, params=()):
        if self.pg:
            sql = re.sub(r"zeroblob\((\d+)\)", r"decode(repeat('00', \1), 'hex')", sql)
            cur = self.con.cursor()
            cur.execute(sql.replace("%", "%%").replace("?", "%s"), tuple(params))
            return cur
        return self.con.execute(sql, params)

    def tables(self):
        if self.pg:
            q = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
        else:
            q = "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"
        return [r[0] for r in self.execute(q).fetchall()]

    def commit(self):
        self.con.commit()

    def close(self):
        self.con.close()


def copy_data(src, dst):
    """Copies a (stopped) server's data directory, and with PostgreSQL its database too."""
    shutil.copytree(src, dst)
    if PG:
        import psycopg2
        old = database_url(src)
        name = "loci_c%d_%d_%d" % (os.getpid(), _db_seq[0], int(time.time() * 1000) % 100000)
        _db_seq[0] += 1
        con = psycopg2.connect(PG_URL)
        con.autocommit = True
        try:
            con.cursor().execute('CREATE DATABASE "%s" TEMPLATE "%s"' % (name, old.rsplit("/", 1)[1]))
        finally:
            con.close()
        new = old.rsplit("/", 1)[0] + "/" + name
        with open(os.path.join(dst, "database.url"), "w") as fh:
            fh.write(new + "\n")


def db_connect(data, readonly=False):
    """A connection to the metadata store of data (SQLite file or its PostgreSQL database)."""
    return _Db(data, readonly)


def db_dump(data, skip=("loci_commits",)):
    """Every row of every table, for "nothing was written" comparisons (bytea as bytes)."""
    con = db_connect(data, readonly=True)
    try:
        out = {}
        for name in con.tables():
            if name in skip:
                continue
            rows = con.execute('SELECT * FROM "%s"' % name).fetchall()
            out[name] = sorted(repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)) for r in rows)
        if con.pg:
            con.commit()
        return out
    finally:
        con.close()


class Reporter:
    """Prints one PASS/FAIL line per check; exits non-zero at the end if anything failed."""

    def __init__(self, prefix):
        self.prefix = prefix + ("[pg]" if PG else "")
        self.failed = 0
        self.passed = 0

    def check(self, name, ok, detail=""):
        line = "%s %s/%s" % ("PASS" if ok else "FAIL", self.prefix, name)
        print(line, flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            sys.stderr.write("%s\n    %s\n" % (line, detail))
            sys.stderr.flush()
        return ok

    def eq(self, name, got, want):
        return self.check(name, got == want, "got %r, want %r" % (got, want))

    def run(self, name, fn, *args):
        """Runs fn; an exception is reported as a failure of `name` instead of ending the file."""
        try:
            fn(*args)
        except Exception:
            self.check(name, False, traceback.format_exc())

    def finish(self):
        sys.exit(1 if self.failed else 0)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    @property
    def json(self):
        return json.loads(self.body) if self.body else None

    @property
    def error_code(self):
        try:
            return self.json["error"]["code"]
        except Exception:
            return None

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


def quote_key(key):
    """Percent-encodes a key for a path: everything but unreserved characters and '/'."""
    return urllib.parse.quote(key, safe="/-_.~")


class Server:
    """A loci server on a free loopback port with its own data directory."""

    def __init__(self, data=None, env=None, args=(), threads=2, keep_data=False):
        self.port = free_port()
        self.own_data = data is None
        self.data = data or tempfile.mkdtemp(prefix="loci-e2e.")
        self.keep_data = keep_data
        self.env = dict(os.environ)
        self.env["LOCI_ADMIN_TOKEN"] = ADMIN_TOKEN
        if PG and "LOCI_DATABASE" not in (env or {}):
            self.env["LOCI_DATABASE"] = database_url(self.data)
        self.env.update(env or {})
        self.args = list(args)
        self.threads = threads
        self.proc = None
        self.log_path = os.path.join(self.data, "server.log")
        self.url = "http://127.0.0.1:%d" % self.port
        self._conn = None

    def start(self):
        os.makedirs(self.data, exist_ok=True)
        self.log = open(self.log_path, "ab")
        cmd = [LOCI_BIN, "serve", "--data", self.data, "--listen", "127.0.0.1:%d" % self.port,
               "--threads", str(self.threads)] + self.args
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, env=self.env)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("loci exited at start (%s): %s" % (self.proc.returncode, self.read_log()[-2000:]))
            try:
                r = self.request("GET", "/healthz")
                if r.status == 200:
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("loci did not answer: " + self.read_log()[-2000:])
        tok = os.path.join(self.data, "demo.token")
        self.demo_token = open(tok).read().strip() if os.path.exists(tok) else None
        return self

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Stops the server; returns its exit status."""
        if self.proc is None:
            return None
        if self._conn:
            self._conn.close()
            self._conn = None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        self.log.close()
        return rc

    def kill(self):
        return self.stop(sig=signal.SIGKILL)

    def cleanup(self):
        self.stop()
        if self.own_data and not self.keep_data:
            shutil.rmtree(self.data, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    # --- HTTP ---

    def request(self, method, path, body=None, token=None, headers=None, raw_body=None, timeout=30):
        """One request on a kept-alive connection (reopened when the server closed it)."""
        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = "Bearer " + token
        data = raw_body
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        for attempt in range(2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            try:
                self._conn.request(method, path, body=data, headers=hdrs)
                r = self._conn.getresponse()
                payload = r.read()
                resp = Response(r.status, r.getheaders(), payload)
                if r.getheader("connection", "").lower() == "close":
                    self._conn.close()
                    self._conn = None
                return resp
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._conn.close()
                self._conn = None
                if attempt == 1:
                    raise
            except Exception:
                self._conn.close()
                self._conn = None
                raise
        raise RuntimeError("unreachable")

    def admin(self, method, path, body=None, **kw):
        return self.request(method, path, body=body, token=ADMIN_TOKEN, **kw)

    def make_tenant(self, tenant, jurisdictions=("EU",), copies=1, scopes=("read", "write")):
        r = self.admin("PUT", "/v1/admin/tenants/" + tenant, {"jurisdictions": list(jurisdictions), "copies": copies})
        if r.status not in (200, 201):
            raise RuntimeError("tenant: %r" % r)
        r = self.admin("POST", "/v1/admin/tenants/%s/keys" % tenant, {"scopes": list(scopes)})
        if r.status != 201:
            raise RuntimeError("key: %r" % r)
        return r.json["token"]

    def make_local_store(self, store, country="DE", **extra):
        body = {"provider": "local", "country": country}
        body.update(extra)
        r = self.admin("PUT", "/v1/admin/stores/" + store, body)
        if r.status not in (200, 201):
            raise RuntimeError("store: %r" % r)
        return r.json

    def put_object(self, token, key, data=b"", tags=None, attrs=None, content_type="application/octet-stream",
                   headers=None, complete=True, query="", upload=True):
        """Starts an upload, PUTs the bytes to every target (unless not upload) and completes it
        (unless not complete). Returns (start response, complete response or None)."""
        import hashlib
        body = {"size": len(data), "content_type": content_type, "sha256": hashlib.sha256(data).hexdigest()}
        if tags is not None:
            body["tags"] = tags
        if attrs is not None:
            body["attrs"] = attrs
        r = self.request("PUT", "/v1/objects/" + quote_key(key) + query, body, token=token, headers=headers)
        if r.status != 201:
            return r, None
        for t in r.json["targets"] if upload else []:
            status, _, _ = http_put(t["url"], data, t["headers"])
            if status != 200:
                raise RuntimeError("target PUT %s -> %d" % (t["store"], status))
        if not complete or not upload:
            return r, None
        c = self.request("POST", "/v1/uploads/%s/complete" % r.json["upload_id"], token=token)
        return r, c


def http_call(method, url, data=None, headers=None, timeout=30):
    """A request to an absolute URL (a signed URL), sending exactly the given headers."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    path = u.path + ("?" + u.query if u.query else "")
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", u.netloc)
    hdrs = dict(headers or {})
    if data is not None and not any(k.lower() == "content-length" for k in hdrs):
        hdrs["Content-Length"] = str(len(data))
    for k, v in hdrs.items():
        conn.putheader(k, v)
    conn.endheaders()
    if data:
        conn.send(data)
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


def http_put(url, data, headers):
    return http_call("PUT", url, data, headers)


def http_get(url, headers=None):
    return http_call("GET", url, None, headers)


def run_cli(args, url, token=None, env=None, input_bytes=None, timeout=60):
    """Runs `loci <args>`; returns (exit code, stdout bytes, stderr text)."""
    e = dict(os.environ)
    e["LOCI_URL"] = url
    if token:
        e["LOCI_TOKEN"] = token
    else:
        e.pop("LOCI_TOKEN", None)
    if "--data" in args and args.index("--data") + 1 < len(args):
        e.update(db_env(args[args.index("--data") + 1]))
    e.update(env or {})
    p = subprocess.run([LOCI_BIN] + list(args), input=input_bytes, capture_output=True, env=e, timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")
