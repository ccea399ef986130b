"""A throwaway OpenStack Swift (s3api + tempurl) for end-to-end tests: tests/env/swift.sh.

    from swiftenv import SwiftEnv
    with SwiftEnv() as sw:
        sw.url          # SWIFT_URL, the S3 endpoint (path-style)
        sw.access_key   # SWIFT_S3_ACCESS_KEY
        sw.secret_key   # SWIFT_S3_SECRET_KEY
        sw.region       # SWIFT_S3_REGION, the region s3api wants in the credential scope
        sw.account_url  # SWIFT_ACCOUNT_URL
        sw.auth_token   # SWIFT_AUTH_TOKEN
        sw.bucket       # SWIFT_BUCKET
        sw.tempurl_key  # SWIFT_TEMPURL_KEY
        sw.env          # all printed variables, {"SWIFT_URL": ...}; sw["SWIFT_URL"] works too

Start runs `tests/env/swift.sh start` in a fresh temporary directory; leaving the block (also by
an exception, Ctrl-C or SIGTERM/SIGHUP to this process) runs `stop`, which ends exactly the
processes start recorded, and removes the directory. LOCI_KEEP_SWIFT=1 keeps the directory
(configs and logs) for a look afterwards. Standard library only, for /usr/bin/python3.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(os.path.dirname(HERE), "env", "swift.sh")

_ATTRS = {
    "SWIFT_URL": "url",
    "SWIFT_S3_ACCESS_KEY": "access_key",
    "SWIFT_S3_SECRET_KEY": "secret_key",
    "SWIFT_S3_REGION": "region",
    "SWIFT_ACCOUNT_URL": "account_url",
    "SWIFT_AUTH_TOKEN": "auth_token",
    "SWIFT_BUCKET": "bucket",
    "SWIFT_TEMPURL_KEY": "tempurl_key",
}


def parse_env(text):
    """The NAME=value lines of swift.sh's output, as a dict."""
    env = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.isidentifier():
            env[name] = value
    return env


class SwiftEnv:
    def __init__(self, start_timeout=240):
        self.start_timeout = start_timeout
        self.dir = None
        self.env = {}
        self._old_handlers = {}

    def __getitem__(self, name):
        return self.env[name]

    def __enter__(self):
        self._catch_signals()
        try:
            self.dir = tempfile.mkdtemp(prefix="loci-swift.")
            p = subprocess.run(["sh", SCRIPT, "start", self.dir], stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=self.start_timeout)
            if p.returncode != 0:
                raise RuntimeError("tests/env/swift.sh start failed (exit %d):\n%s"
                                   % (p.returncode, p.stderr[-4000:]))
            self.env = parse_env(p.stdout)
            missing = [n for n in _ATTRS if n not in self.env]
            if missing:
                raise RuntimeError("tests/env/swift.sh printed no %s:\n%s" % (", ".join(missing), p.stdout))
            for name, attr in _ATTRS.items():
                setattr(self, attr, self.env[name])
        except BaseException:
            self._cleanup()
            raise
        return self

    def __exit__(self, *exc):
        self._cleanup()
        return False

    def _cleanup(self):
        try:
            if self.dir is not None:
                try:
                    p = subprocess.run(["sh", SCRIPT, "stop", self.dir], stdin=subprocess.DEVNULL,
                                       capture_output=True, text=True, timeout=60)
                    if p.returncode != 0:
                        sys.stderr.write("swiftenv: stop failed: %s\n" % p.stderr)
                except subprocess.TimeoutExpired:
                    sys.stderr.write("swiftenv: stop timed out; processes may be left, see %s/run\n" % self.dir)
                    return
                if os.environ.get("LOCI_KEEP_SWIFT"):
                    sys.stderr.write("swiftenv: kept %s\n" % self.dir)
                else:
                    shutil.rmtree(self.dir, ignore_errors=True)
                self.dir = None
        finally:
            self._restore_signals()

    # SIGTERM/SIGHUP would end the interpreter without running __exit__; turn them into
    # SystemExit so the servers are stopped. Only the main thread can set handlers.
    def _catch_signals(self):
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGHUP):
            try:
                if signal.getsignal(sig) == signal.SIG_IGN:
                    continue  # e.g. SIGHUP under nohup: stay ignored
                self._old_handlers[sig] = signal.signal(sig, self._on_signal)
            except (ValueError, OSError):
                pass

    def _restore_signals(self):
        for sig, old in self._old_handlers.items():
            try:
                signal.signal(sig, old if old is not None else signal.SIG_DFL)
            except (ValueError, OSError):
                pass
        self._old_handlers = {}

    def _on_signal(self, signum, frame):
        old = self._old_handlers.get(signum)
        if callable(old):
            old(signum, frame)  # an outer handler (e.g. another SwiftEnv) may raise itself
        raise SystemExit(128 + signum)

    # helpers for tests

    def log_tail(self, name="proxy", lines=30):
        """The last lines of DIR/log/NAME.log (proxy, account, container, object, memcached)."""
        try:
            with open(os.path.join(self.dir, "log", name + ".log"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except (OSError, TypeError):
            return ""

    def swift(self, method, path="", headers=None, data=None):
        """A request through Swift's own API as test:tester: (status, headers, body). `path` is
        relative to the account URL, e.g. "/loci-test/name"; it is used as given (quote it)."""
        h = {"X-Auth-Token": self.auth_token}
        h.update(headers or {})
        req = urllib.request.Request(self.account_url + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def list_names(self):
        """The object names in the test container, through Swift's own API."""
        status, _, body = self.swift("GET", "/%s?format=json" % self.bucket)
        if status // 100 != 2:
            raise RuntimeError("listing %s: %d %r" % (self.bucket, status, body[:200]))
        return [o["name"] for o in json.loads(body or b"[]")]


if __name__ == "__main__":
    # manual use: python3 tests/e2e/swiftenv.py  -> prints the variables, waits for Enter
    with SwiftEnv() as sw:
        for k, v in sw.env.items():
            print("%s=%s" % (k, v))
        print("# data in %s; press Enter to stop" % sw.dir, flush=True)
        try:
            input()
        except EOFError:
            pass
