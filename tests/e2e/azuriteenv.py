"""A throwaway Azurite (Azure Blob emulator, strict mode) for end-to-end tests: tests/env/azurite.sh.

    from azuriteenv import AzuriteEnv
    with AzuriteEnv() as az:
        az.url          # AZURITE_URL, the blob service URL with the account (http://127.0.0.1:PORT/devstoreaccount1)
        az.account      # AZURITE_ACCOUNT
        az.key          # AZURITE_KEY, the account key (base64)
        az.container    # AZURITE_CONTAINER
        az.env          # all printed variables, {"AZURITE_URL": ...}; az["AZURITE_URL"] works too

Start runs `tests/env/azurite.sh start` in a fresh temporary directory; leaving the block (also by
an exception, Ctrl-C or SIGTERM/SIGHUP to this process) runs `stop`, which ends exactly the
process start recorded, and removes the directory. LOCI_KEEP_AZURITE=1 keeps the directory (data
and logs; with LOCI_AZURITE_DEBUG=1 also Azurite's debug log) for a look afterwards.

The helpers reach Azurite with SAS URLs of their own (a service SAS computed here, independently
of loci's signer, in Python): list the container, and read or write a blob as loci's clients
cannot. Standard library only, for /usr/bin/python3.
"""

import base64
import datetime
import hashlib
import hmac
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(os.path.dirname(HERE), "env", "azurite.sh")
SAS_VERSION = "2025-11-05"

_ATTRS = {
    "AZURITE_URL": "url",
    "AZURITE_ACCOUNT": "account",
    "AZURITE_KEY": "key",
    "AZURITE_CONTAINER": "container",
}


def parse_env(text):
    """The NAME=value lines of azurite.sh's output, as a dict."""
    env = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.isidentifier():
            env[name] = value
    return env


def service_sas(account, key_b64, container, blob, permissions, expiry, resource=None, **overrides):
    """A blob service SAS query (sv >= 2020-12-06, no st, spr=https,http): resource "b" for
    a blob, "c" for the container (blob None). overrides: rscd=..., rsct=... ."""
    resource = resource or ("b" if blob is not None else "c")
    se = expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
    canonical = "/blob/%s/%s" % (account, container) + ("/" + blob if blob is not None else "")
    fields = [permissions, "", se, canonical, "", "", "https,http", SAS_VERSION, resource, "", ""] + \
        [overrides.get(k, "") for k in ("rscc", "rscd", "rsce", "rscl", "rsct")]
    sig = base64.b64encode(hmac.new(base64.b64decode(key_b64), "\n".join(fields).encode(), hashlib.sha256).digest())
    q = [("sv", SAS_VERSION), ("spr", "https,http"), ("se", se), ("sr", resource), ("sp", permissions)]
    q += [(k, overrides[k]) for k in ("rscc", "rscd", "rsce", "rscl", "rsct") if overrides.get(k)]
    q.append(("sig", sig.decode()))
    return "&".join("%s=%s" % (k, urllib.parse.quote(v, safe="-_.!~*()")) for k, v in q)


class AzuriteEnv:
    def __init__(self, start_timeout=120):
        self.start_timeout = start_timeout
        self.dir = None
        self.env = {}
        self._old_handlers = {}

    def __getitem__(self, name):
        return self.env[name]

    def __enter__(self):
        self._catch_signals()
        try:
            self.dir = tempfile.mkdtemp(prefix="loci-azurite.")
            p = subprocess.run(["sh", SCRIPT, "start", self.dir], stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=self.start_timeout)
            if p.returncode != 0:
                raise RuntimeError("tests/env/azurite.sh start failed (exit %d):\n%s"
                                   % (p.returncode, p.stderr[-4000:]))
            self.env = parse_env(p.stdout)
            missing = [n for n in _ATTRS if n not in self.env]
            if missing:
                raise RuntimeError("tests/env/azurite.sh printed no %s:\n%s" % (", ".join(missing), p.stdout))
            for name, attr in _ATTRS.items():
                setattr(self, attr, self.env[name])
        except BaseException:
            self._cleanup()
            raise
        return self

    def __exit__(self, *exc):
        self._cleanup()
        return False

    def pid(self):
        """The pid of the Azurite process start recorded, or None."""
        try:
            with open(os.path.join(self.dir, "run", "azurite.pid")) as f:
                return int(f.read())
        except (OSError, TypeError, ValueError):
            return None

    def _cleanup(self):
        try:
            if self.dir is not None:
                try:
                    p = subprocess.run(["sh", SCRIPT, "stop", self.dir], stdin=subprocess.DEVNULL,
                                       capture_output=True, text=True, timeout=60)
                    if p.returncode != 0:
                        sys.stderr.write("azuriteenv: stop failed: %s\n" % p.stderr)
                except subprocess.TimeoutExpired:
                    sys.stderr.write("azuriteenv: stop timed out; azurite may be left, see %s/run\n" % self.dir)
                    return
                if os.environ.get("LOCI_KEEP_AZURITE"):
                    sys.stderr.write("azuriteenv: kept %s\n" % self.dir)
                else:
                    shutil.rmtree(self.dir, ignore_errors=True)
                self.dir = None
        finally:
            self._restore_signals()

    # SIGTERM/SIGHUP would end the interpreter without running __exit__; turn them into
    # SystemExit so Azurite is stopped. Only the main thread can set handlers.
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
            old(signum, frame)  # an outer handler may raise itself
        raise SystemExit(128 + signum)

    # helpers for tests

    def log_tail(self, name="azurite", lines=30):
        """The last lines of DIR/log/NAME.log (azurite; debug with LOCI_AZURITE_DEBUG=1)."""
        try:
            with open(os.path.join(self.dir, "log", name + ".log"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except (OSError, TypeError):
            return ""

    def sas(self, blob, permissions, lifetime=300, **overrides):
        """A SAS query for a blob of the test container (blob None: the container itself)."""
        expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=lifetime)
        return service_sas(self.account, self.key, self.container, blob, permissions, expiry, **overrides)

    def blob_url(self, blob, permissions, lifetime=300, **overrides):
        """A signed URL for a blob of the test container."""
        return "%s/%s/%s?%s" % (self.url, self.container, urllib.parse.quote(blob, safe="/-_.!~*()"),
                                self.sas(blob, permissions, lifetime, **overrides))

    def list_names(self):
        """The blob names in the test container (committed blobs), through Azurite's own API."""
        from harness import http_get
        names, marker = [], ""
        while True:
            url = "%s/%s?restype=container&comp=list&%s" % (self.url, self.container, self.sas(None, "l"))
            if marker:
                url += "&marker=" + urllib.parse.quote(marker, safe="")
            status, _, body = http_get(url)
            if status != 200:
                raise RuntimeError("listing %s: %d %r" % (self.container, status, body[:300]))
            root = ET.fromstring(body)
            names += [n.text for n in root.iter("Name")]
            marker = root.findtext("NextMarker") or ""
            if not marker:
                return names


if __name__ == "__main__":
    # manual use: python3 tests/e2e/azuriteenv.py  -> prints the variables, waits for Enter
    with AzuriteEnv() as az:
        for k, v in az.env.items():
            print("%s=%s" % (k, v))
        print("# data in %s; press Enter to stop" % az.dir, flush=True)
        try:
            input()
        except EOFError:
            pass
