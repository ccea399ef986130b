"""Randomized cross-check of loci's Swift TempURLs against python-swiftclient (Debian's
python3-swiftclient, run with /usr/bin/python3): for the same account, container, object name,
method, key and expiry, loci's signature must equal swiftclient.utils.generate_temp_url(...,
digest='sha256') byte for byte, and loci's URL path-and-query must be exactly swiftclient's
(which returns the path unquoted) with the path percent-encoded the standard way
(urllib.parse.quote, '/' kept), after the endpoint's own path prefix.

Cases (fixed seed): names with spaces, '+', '%', '~', '//', '.'/'..' segments, a leading '/',
reserved characters, UTF-8 of every width and 1 KiB runs; accounts and containers needing
encoding; http and https, ports, a path prefix before /v1/ (not signed), public_host; GET,
HEAD, DELETE and PUT with and without content-type and content-length (loci's PUT headers are
checked too). GET download overrides (response_content_disposition) must come out as tempurl's
`inline` / `filename=` parameters, and tempurl's own parser (parse_qs) must read the intended
filename back. Requests tempurl cannot honour (a name of only slashes, a content type override)
must be refused by loci.

Prints PASS/FAIL per group of cases; the first mismatch of a group goes to stderr."""

import json
import os
import random
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Reporter  # noqa: E402

rep = Reporter("sign")
TOOL = os.path.join(os.environ.get("LOCI_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build", "rel")),
                    "tools", "presign")
N_CASES = 2400
NOW = 1795000000

try:
    from swiftclient.utils import generate_temp_url
except ImportError as e:  # reported as a failure, never as a pass
    generate_temp_url = None
    IMPORT_ERROR = e

PIECES = ["a", "b", "Z", "0", "9", " ", "  ", "+", "%", "%20", "%2F", "~", "-", "_", ".", "..", "/", "//", "/./",
          "/../", "é", "ü", "中文", "😀", "=", "&", "?", "#", "!", "'", "(", ")", "*", ",", ";", ":", "@", "$", "[", "]",
          "\u00a0", "ß", "Ω", "\u2028", "\ufeff", "\\", "^", "`", "{", "}", "|", "<", ">", '"', "\t",
          "?temp_url_sig=x"]
FILENAMES = ["report.pdf", "a b.txt", "Jane Doe's scan (1).png", "€ rates.csv", "中文 文件.docx",
             "q\"uote\\d.txt", "semi;colon,comma.txt", "plus+percent%25.bin", "😀.gif", "tab-free ~ tilde.txt", "ü",
             "x" * 200]
CONTENT_TYPES = ["text/plain", "application/octet-stream", "audio/opus", "text/plain; charset=utf-8",
                 "multipart/x; boundary=\"a b\""]


def random_name(rng):
    r = rng.random()
    if r < 0.04:
        return "k" * rng.randint(900, 1024)
    if r < 0.06:
        return "".join(rng.choice(PIECES) for _ in range(300))[:1024]
    name = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 40)))
    if rng.random() < 0.1:
        name = "/" + name
    if name.strip("/") == "":
        name += "x"
    return name


def random_store(rng):
    scheme = rng.choice(["http", "https"])
    host = rng.choice(["127.0.0.1", "swift.example.ch", "objects.internal", "localhost", "[::1]"])
    port = rng.choice(["", "", ":8080", ":443" if scheme == "https" else ":80"])
    prefix = rng.choice(["", "", "", "/swift", "/object-store/eu"])
    account = rng.choice(["AUTH_test", "AUTH_0123456789abcdef0123456789abcdef", "AUTH_é", "AUTH_a b+c", "KEY_x%y",
                          "AUTH_中"])
    container = rng.choice(["loci-test", "c", "my container", "é+%~", "x" * 256, "a.b_c-d", "中文 ;=&?#"])
    store = {
        "provider": "swift",
        "endpoint": "%s://%s%s%s/v1/%s%s" % (scheme, host, port, prefix, urllib.parse.quote(account, safe=""),
                                             rng.choice(["", "", "/"])),
        "bucket": container,
        "credentials": {"temp_url_key": rng.choice(["loci-swift-key", "s3cr3t+/=", "é", "k" * 200, "a\nb"])},
    }
    pub = None
    if rng.random() < 0.25:
        pub = rng.choice(["https://objects.example.ch", "http://10.1.2.3:8081", "https://cdn.example.org:8443/"])
        store["public_host"] = pub
    origin = pub.rstrip("/") if pub else "%s://%s%s" % (scheme, host, port)
    return store, origin, prefix, account, container


def disposition(rng):
    """A random Content-Disposition and the (inline, filename) tempurl should be asked for."""
    fn = rng.choice(FILENAMES)
    kind = rng.choice(["attachment", "inline", "Attachment", "INLINE"])
    form = rng.randrange(4)
    if form == 0:
        value = '%s; filename="%s"' % (kind, fn.replace("\\", "\\\\").replace('"', '\\"'))
    elif form == 1:
        value = "%s; filename*=UTF-8''%s" % (kind, urllib.parse.quote(fn, safe=""))
    elif form == 2:
        value = "%s; filename=\"fallback.txt\"; filename*=utf-8'en'%s" % (kind, urllib.parse.quote(fn, safe=""))
    else:
        value, fn = kind, None
    return value, kind.lower() == "inline", fn


def make_cases():
    rng = random.Random(20261122)
    stores = [random_store(rng) for _ in range(60)]
    cases = []
    for i in range(N_CASES):
        store, origin, prefix, account, container = rng.choice(stores)
        method = rng.choice(["GET", "GET", "PUT", "PUT", "HEAD", "DELETE"])
        c = dict(store, method=method, key=random_name(rng), now=NOW + rng.randint(-10 ** 8, 10 ** 8),
                 expires=rng.choice([1, 60, 300, 900, 3600, 86400, 604800]))
        want = {"origin": origin, "prefix": prefix, "account": account, "container": container, "group": method.lower()}
        if method == "PUT":
            if rng.random() < 0.7:
                c["content_type"] = rng.choice(CONTENT_TYPES)
            if rng.random() < 0.7:
                c["content_length"] = rng.choice([0, 1, 48213, 5 << 30])
        if method == "GET" and rng.random() < 0.3:
            c["response_content_disposition"], want["inline"], want["filename"] = disposition(rng)
            want["group"] = "overrides"
        if "public_host" in c:
            want["group"] = "public_host"
        cases.append((c, want))
    # what tempurl cannot honour: refused by loci
    for i in range(40):
        store, origin, prefix, account, container = rng.choice(stores)
        c = dict(store, method="GET", now=NOW, expires=60)
        if i % 2:
            c["key"] = "/" * rng.randint(1, 5)
        else:
            c["key"] = random_name(rng)
            c["response_content_type"] = "text/plain"
        cases.append((c, {"group": "refused"}))
    return cases


def run_tool(cases):
    inp = "".join(json.dumps(c) + "\n" for c, _ in cases)
    p = subprocess.run([TOOL], input=inp.encode(), capture_output=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError("presign exited %d: %s" % (p.returncode, p.stderr.decode(errors="replace")))
    lines = p.stdout.decode().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != len(cases):
        raise RuntimeError("presign printed %d lines for %d cases" % (len(lines), len(cases)))
    return lines


def check_case(c, want, line):
    """Returns None if loci's answer is right, else what is wrong."""
    if want["group"] == "refused":
        return None if line.startswith("ERROR ") else "signed what tempurl cannot honour: %s" % line
    if line.startswith("ERROR "):
        return line
    url, _, headers = line.partition("\t")
    expires_at = c["now"] + c["expires"]
    path = "/v1/%s/%s/%s" % (want["account"], want["container"], c["key"])
    ref = generate_temp_url(path, expires_at, c["credentials"]["temp_url_key"], c["method"], absolute=True,
                            digest="sha256")
    ref_path, _, ref_rest = ref.rpartition("?temp_url_sig=")
    ref_query = "temp_url_sig=" + ref_rest
    if ref_path != path:
        return "swiftclient changed the path: %r" % ref
    if not url.startswith(want["origin"] + want["prefix"] + "/v1/"):
        return "origin/prefix: %s, want %s%s" % (url, want["origin"], want["prefix"])
    rest = url[len(want["origin"] + want["prefix"]):]
    loci_path, sep, loci_query = rest.partition("?")
    if not sep:
        return "no query: %s" % url
    if urllib.parse.unquote(loci_path, errors="strict") != ref_path:
        return "path decodes to %r, swiftclient signed %r" % (urllib.parse.unquote(loci_path), ref_path)
    if loci_path != urllib.parse.quote(ref_path, safe="/"):
        return "path %s, want %s" % (loci_path, urllib.parse.quote(ref_path, safe="/"))
    extra = ""
    if want.get("inline"):
        extra += "&inline"
    if want.get("filename"):
        extra += "&filename=" + urllib.parse.quote(want["filename"], safe="")
    if loci_query != ref_query + extra:
        return "query %s, want %s" % (loci_query, ref_query + extra)
    # what tempurl itself reads from the query (swift/common/middleware/tempurl.py)
    qs = urllib.parse.parse_qs(loci_query, keep_blank_values=True)
    if qs.get("filename", [None])[0] != want.get("filename") or ("inline" in qs) != bool(want.get("inline")):
        return "tempurl would read filename=%r inline=%r" % (qs.get("filename"), "inline" in qs)
    want_h = {}
    if c["method"] == "PUT":
        if "content_type" in c:
            want_h["content-type"] = c["content_type"]
        if "content_length" in c:
            want_h["content-length"] = str(c["content_length"])
    if json.loads(headers) != want_h:
        return "headers %s, want %s" % (headers, want_h)
    return None


def main():
    if generate_temp_url is None:
        rep.check("swift_swiftclient", False, "import swiftclient failed (%s); run scripts/deps.sh test" % IMPORT_ERROR)
        rep.finish()
    cases = make_cases()
    try:
        lines = run_tool(cases)
    except Exception as e:
        rep.check("swift_presign_tool", False, repr(e))
        rep.finish()
    groups = {}
    for (c, want), line in zip(cases, lines):
        g = groups.setdefault(want["group"], [0, 0, None])
        g[0] += 1
        try:
            why = check_case(c, want, line)
        except Exception as e:  # swiftclient refusing a case is a test bug: show it
            why = "exception %r" % e
        if why:
            g[1] += 1
            if g[2] is None:
                g[2] = "%s\n    case: %s\n    loci: %s" % (why, json.dumps(c)[:600], line[:600])
    total = 0
    for name in ("get", "put", "head", "delete", "public_host", "overrides", "refused"):
        n, bad, first = groups.get(name, [0, 0, None])
        total += n
        rep.check("swift_%s" % name, n > 0 and bad == 0,
                  "%d of %d cases differ; first: %s" % (bad, n, first) if n else "no cases")
    rep.check("swift_case_count", total >= 1000 and total == len(cases), "%d cases" % total)
    sys.stderr.write("%d cases compared with swiftclient.utils.generate_temp_url: %s\n"
                     % (total, ", ".join("%s %d" % (k, v[0]) for k, v in sorted(groups.items()))))
    rep.finish()


if __name__ == "__main__":
    main()
