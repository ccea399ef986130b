"""Randomized cross-check of loci's GCS V4 signed URLs against the official Node.js SDK
@google-cloud/storage (tests/node/sign_gcs.mjs drives its URL signer; run with /usr/bin/python3):
for the same store, key, method, declared headers and frozen time, loci's URL (build/rel/tools/
presign) must equal the SDK's byte for byte, and loci's required headers must be the ones the
SDK was told to sign.

Cases (fixed seed): RSA (Google's conformance test service account) and HMAC keys, at least
1,000 of each; keys with spaces, '+', '%', '~', '//', a leading '/', '.'/'..' segments, reserved
characters, UTF-8 of every width and 1 KiB names; the default endpoint, endpoints with the
scheme's port written out, other ports, upper-case and IPv6 hosts; path-style and virtual-hosted
addressing; public_host; GET (with and without response-content-* overrides), HEAD, DELETE and
PUT (with and without content-type, content-length and a SHA-256), and the XML API multipart
steps (create, part, complete, abort).

The clock: the Node script replaces the global Date so the SDK's `new Date()` and Date.now()
return NOW; every SDK URL is checked to carry that X-Goog-Date.

Two places where the SDK's *URL* is not what it *signed*, both from its use of WHATWG URL to
print it, and where loci follows the signature and Google's conformance file instead:
  - '.' and '..' path segments: the SDK signs the name as given but prints the URL with the
    segments resolved (so its own URL fails); loci's URL path must equal the path the SDK signed.
  - an endpoint with the scheme's default port written out (":443"): the SDK prints the URL
    without it; loci keeps the port as written, as conformance case "Simple GET with endpoint
    on client" expects. The signed host has no port either way.
Everything else (query, signature, host, path) must be byte-identical.

No GCS emulator verifies V4 signatures, so this file and the unit tests' conformance vectors
are the evidence; there is no end-to-end verifier test for GCS.

Prints PASS/FAIL per group of cases; the first mismatch of a group goes to stderr."""

import datetime
import hashlib
import json
import os
import random
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Reporter  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
rep = Reporter("sign")
TOOL = os.path.join(os.environ.get("LOCI_BUILD", os.path.join(ROOT, "build", "rel")), "tools", "presign")
NODE_SCRIPT = os.path.join(ROOT, "tests", "node", "sign_gcs.mjs")
VECTORS = os.environ.get("LOCI_TEST_VECTORS") or os.path.join(ROOT, "tests", "vectors")
NOW = datetime.datetime(2026, 11, 22, 10, 30, 15, tzinfo=datetime.timezone.utc)
NOW_UNIX = int(NOW.timestamp())
NOW_STAMP = NOW.strftime("%Y%m%dT%H%M%SZ")
N_STORES = 150
N_CASES_PER_KEY = 1500

with open(os.path.join(VECTORS, "gcs", "test_service_account.not-a-test.json")) as f:
    SERVICE_ACCOUNT = f.read()
with open(os.path.join(VECTORS, "gcs", "v4_signatures.json")) as f:
    CONFORMANCE = json.load(f)["signingV4Tests"]
HMAC_KEYS = [("GOOG1EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
             ("GOOG1EFSWAXSBA6WPB4TMSTOSQ7KLK3SFI7SFIEMZ2BVXWC5SYHPFJTHAMGBQ", "s3cr3t+/=Key"),
             ("GOOGTS7C7FUP3AIRVJTE2BCD", "é ü 中"), ("access-id@loci", "x")]

PIECES = ["a", "b", "Z", "0", "9", " ", "  ", "+", "%", "%20", "~", "-", "_", ".", "..", "/", "//", "/./", "/../", "é", "ü",
          "中文", "😀", "=", "&", "?", "#", "!", "'", "(", ")", "*", ",", ";", ":", "@", "$", "[", "]", "\u00a0", "ß", "Ω",
          "\u2028", "\ufeff", "\\", "^", "`", "{", "}", "|", "<", ">", '"']
CONTENT_TYPES = ["text/plain", "application/octet-stream", "audio/opus", "text/plain; charset=utf-8", "image/png",
                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "multipart/x; boundary=\"a  b\"",
                 "text/csv;  header=present"]
DISPOSITIONS = ["attachment", "inline", 'attachment; filename="a b.txt"', "attachment; filename=rec-1.opus",
                "attachment; filename*=UTF-8''%E2%82%AC%20rates.txt", 'inline; filename="x+y=z;%.pdf"']
UPLOAD_IDS = ["ABPnzm5wXY2p1JFVlX6uBfqSd3K7ZJ3nqT0xLr9a8q2FzCxM", "sample.upload.id", "a+b/c=d", "x"]


def random_key(rng):
    """A key; one in ten may have '.'/'..' segments (see the module comment), the rest are redrawn."""
    allow_dots = rng.random() < 0.1
    while True:
        key = random_key_draw(rng)
        if allow_dots or not any(seg in (".", "..") for seg in key.split("/")):
            return key


def random_key_draw(rng):
    r = rng.random()
    if r < 0.04:
        return "k" * rng.randint(900, 1024)
    if r < 0.06:
        return "".join(rng.choice(PIECES) for _ in range(300)).encode()[:1024].decode("utf-8", "ignore")
    key = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 40)))
    if rng.random() < 0.1:
        key = "/" + key
    return key


def random_store(rng, i, kind):
    """One gcs store as loci's admin API would hold it (endpoint None: the default)."""
    endpoint = rng.choice([None, None, "https://storage.googleapis.com", "https://storage.googleapis.com",
                           "https://storage.googleapis.com:443", "http://localhost:4443", "http://localhost:4443",
                           "http://127.0.0.1:9023", "https://Storage.EU.Example.COM", "http://[::1]:8080",
                           "https://gcs.internal:8443", "https://gcs.internal", "http://gcs.internal:80", "http://gcs.internal"])
    host = urllib.parse.urlsplit(endpoint or "https://x").hostname
    ip = host[0].isdigit() or ":" in host
    path_style = ip or rng.random() < 0.5
    bucket = rng.choice(["test-bucket", "loci_eu_1", "a.b.c", "bucket-9", "acme-eu-1"]) if path_style else \
        rng.choice(["test-bucket", "acme-eu-1", "b.dotted", "abc", "0-9"])
    if kind == "rsa":
        creds = {"service_account_json": SERVICE_ACCOUNT}
    else:
        access_id, secret = rng.choice(HMAC_KEYS)
        creds = {"hmac_access_id": access_id, "hmac_secret": secret}
    st = dict(provider="gcs", bucket=bucket, path_style=path_style, credentials=creds, kind=kind)
    if endpoint:
        st["endpoint"] = endpoint
    if rng.random() < 0.15:
        st["public_host"] = rng.choice(["https://files.example.org", "http://cdn.example.net:8080", "https://files.example.org",
                                        "https://storage.example.com:443"])
    return st


def random_case(rng, store):
    r = rng.random()
    if r < 0.8:
        op, method = "object", rng.choice(["GET", "HEAD", "DELETE", "PUT"])
    else:
        op = rng.choice(["part", "mp_create", "mp_complete", "mp_abort"])
        method = {"part": "PUT", "mp_create": "POST", "mp_complete": "POST", "mp_abort": "DELETE"}[op]
    case = dict(store, op=op, method=method, key=random_key(rng), now=NOW_UNIX,
                expires=rng.choice([1, 60, 900, 3600, 86400, 604800]))
    if method in ("PUT", "POST") or rng.random() < 0.2:  # the others ignore these; give some anyway
        if rng.random() < 0.85:
            case["content_type"] = rng.choice(CONTENT_TYPES)
        if rng.random() < 0.85:
            case["content_length"] = rng.choice([0, 1, 5, 48213, 5 * 1024 ** 3, 5 * 1024 ** 4])
        if rng.random() < 0.3:
            case["sha256"] = hashlib.sha256(case["key"].encode()).hexdigest()
            if rng.random() < 0.3:
                case["sha256"] = case["sha256"].upper()
    if op == "object" and method == "GET" and rng.random() < 0.4:
        if rng.random() < 0.7:
            case["response_content_disposition"] = rng.choice(DISPOSITIONS)
        if rng.random() < 0.7:
            case["response_content_type"] = rng.choice(CONTENT_TYPES)
    if op == "part":
        case["part_number"] = rng.choice([1, 2, 17, 9999, 10000])
    if op in ("part", "mp_complete", "mp_abort"):
        case["mp_id"] = rng.choice(UPLOAD_IDS)
    return case


def run(cmd, lines):
    p = subprocess.run(cmd, input="".join(json.dumps(c) + "\n" for c in lines).encode(), capture_output=True, timeout=600,
                       cwd=os.path.dirname(NODE_SCRIPT))
    return p.returncode, p.stdout.decode().splitlines(), p.stderr.decode()


def sdk_sign(cases):
    rc, out, err = run(["node", NODE_SCRIPT, str(NOW_UNIX)], cases)
    if rc != 0 or len(out) != len(cases):
        raise RuntimeError("sign_gcs.mjs failed (%d, %d lines of %d): %s" % (rc, len(out), len(cases), err[-2000:]))
    return [json.loads(line) for line in out]


def expected_headers(case):
    """What the client must send: what the SDK was told to sign besides host."""
    h = {}
    put = case["op"] == "object" and case["method"] == "PUT"
    if (put or case["op"] == "mp_create") and "content_type" in case:
        h["content-type"] = case["content_type"]
    if (put or case["op"] == "part") and "content_length" in case:
        h["content-length"] = str(case["content_length"])
        if put:
            h["x-goog-content-length-range"] = "%d,%d" % (case["content_length"], case["content_length"])
    if put and "sha256" in case:
        h["x-goog-content-sha256"] = case["sha256"].lower()
    return h


def authority(case):
    return urllib.parse.urlsplit(case.get("public_host") or case.get("endpoint") or "https://storage.googleapis.com")


def default_port_written(case):
    a = authority(case)
    return a.netloc.endswith({"http": ":80", "https": ":443"}[a.scheme])


def dot_segments(case):
    return any(seg in (".", "..") for seg in case["key"].split("/"))


def wanted_url(case, sdk):
    """The SDK's URL, with the path it signed and the port as the store writes it (see above)."""
    parts = urllib.parse.urlsplit(sdk["url"])
    netloc, path = parts.netloc, parts.path
    if dot_segments(case):
        path = sdk["signed_path"]
    if default_port_written(case):
        netloc += ":" + str(authority(case).port)
    return urllib.parse.urlunsplit((parts.scheme, netloc, path, parts.query, ""))


def group_of(case):
    op = case["method"].lower() if case["op"] == "object" else case["op"]
    return "gcs_%s_%s_%s" % (case["kind"], op, "path_style" if case["path_style"] else "virtual_host")


def features(case):
    f = []
    a = authority(case)
    if case.get("public_host"):
        f.append("gcs_public_host")
    if not case.get("endpoint"):
        f.append("gcs_default_endpoint")
    if default_port_written(case):
        f.append("gcs_default_port_written")
    elif a.port:
        f.append("gcs_port_dropped_from_signed_host")
    if a.hostname and ":" in a.hostname:
        f.append("gcs_ipv6_host")
    if any(c.isupper() for c in a.netloc):
        f.append("gcs_uppercase_host")
    if "response_content_disposition" in case or "response_content_type" in case:
        if case["method"] == "GET":
            f.append("gcs_response_overrides")
    if case["op"] == "object" and case["method"] == "PUT":
        if "sha256" in case:
            f.append("gcs_put_sha256")
        if "content_type" not in case and "content_length" not in case and "sha256" not in case:
            f.append("gcs_put_unbound")
        if "  " in case.get("content_type", ""):
            f.append("gcs_content_type_blank_runs")
    if any(ord(c) > 127 for c in case["key"]):
        f.append("gcs_unicode_key")
    if dot_segments(case):
        f.append("gcs_dot_segment_key")
    if "//" in case["key"] or case["key"].startswith("/"):
        f.append("gcs_double_slash_key")
    if len(case["key"].encode()) > 512:
        f.append("gcs_long_key")
    return f


def compare(cases):
    rc, ours, err = run([TOOL], cases)
    rep.check("gcs_presign_tool_answers_every_case", rc == 0 and len(ours) == len(cases), err[-500:])
    theirs = sdk_sign(cases)
    stamp = "X-Goog-Date=" + NOW_STAMP + "&"
    rep.check("gcs_sdk_clock_frozen", all(stamp in t.get("url", "") for t in theirs),
              next((t.get("url", t.get("error", "")) for t in theirs if stamp not in t.get("url", "")), "")[:600])
    groups, feats = {}, {}
    for case, line, sdk in zip(cases, ours, theirs):
        url, _, headers = line.partition("\t")
        want = wanted_url(case, sdk) if "url" in sdk else None
        ok = want is not None and url == want and not line.startswith("ERROR")
        if ok:
            ok = json.loads(headers) == expected_headers(case)
        for name, table in [(group_of(case), groups)] + [(f, feats) for f in features(case)]:
            g = table.setdefault(name, [0, 0, None])
            g[0] += 1
            if not ok:
                g[1] += 1
                if g[2] is None:
                    g[2] = "case %s\n  loci: %s\n  sdk:  %s\n  want headers: %s\n  sdk canonical request:\n%s" % (
                        json.dumps({k: v for k, v in case.items() if k != "credentials"}, ensure_ascii=False)[:700],
                        line[:1200], (want or sdk.get("error", ""))[:1200], expected_headers(case),
                        sdk.get("canonical_request", "")[:1500])
    for table in (groups, feats):
        for name in sorted(table):
            total, bad, example = table[name]
            print("# %s: %d cases, %d differ" % (name, total, bad))
            rep.check(name, bad == 0 and total > 0, "%d of %d differ; first:\n%s" % (bad, total, example))
    want_groups = {"gcs_%s_%s_%s" % (k, op, s) for k in ("rsa", "hmac")
                   for op in ("get", "put", "head", "delete", "part", "mp_create", "mp_complete", "mp_abort")
                   for s in ("path_style", "virtual_host")}
    want_feats = {"gcs_public_host", "gcs_default_endpoint", "gcs_default_port_written", "gcs_port_dropped_from_signed_host",
                  "gcs_ipv6_host", "gcs_uppercase_host", "gcs_response_overrides", "gcs_put_sha256", "gcs_put_unbound",
                  "gcs_content_type_blank_runs", "gcs_unicode_key", "gcs_dot_segment_key", "gcs_double_slash_key",
                  "gcs_long_key"}
    rep.check("gcs_every_group_and_feature_covered", set(groups) == want_groups and want_feats <= set(feats),
              "missing groups %s, missing features %s" % (sorted(want_groups - set(groups)), sorted(want_feats - set(feats))))
    per_kind = {k: sum(1 for c in cases if c["kind"] == k) for k in ("rsa", "hmac")}
    print("# cases per key type: %s" % per_kind)
    rep.check("gcs_1000_cases_per_key_type", min(per_kind.values()) >= 1000, str(per_kind))


def check_reference():
    """The reference itself: the SDK path reproduces Google's conformance URL (RSA) and the
    README's HMAC pin (so the HMAC shims sign what GOOG4-HMAC-SHA256 means)."""
    t = CONFORMANCE[0]  # "Simple GET"
    now = int(datetime.datetime.strptime(t["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp())
    base = dict(provider="gcs", bucket=t["bucket"], path_style=True, op="object", method="GET", key=t["object"],
                now=now, expires=t["expiration"])
    cases = [dict(base, credentials={"service_account_json": SERVICE_ACCOUNT}),
             dict(base, bucket="test-bucket", key="test-object", expires=10,
                  credentials={"hmac_access_id": HMAC_KEYS[0][0], "hmac_secret": HMAC_KEYS[0][1]})]
    rc, out, err = run(["node", NODE_SCRIPT, str(now)], cases)
    sdk = [json.loads(line) for line in out] if rc == 0 and len(out) == 2 else [{}, {}]
    rep.eq("gcs_sdk_reproduces_conformance_simple_get", sdk[0].get("url"), t["expectedUrl"])
    pin = "X-Goog-Signature=d8e66b066ab0a7851cb0cf6c21711563fb0768d0f781b13e3ecd39dd2a3b44bb"
    rep.check("gcs_sdk_hmac_shim_reproduces_readme_pin", sdk[1].get("url", "").endswith(pin), sdk[1].get("url", err[-500:]))


def main():
    rng = random.Random(20261123)
    cases = []
    for kind in ("rsa", "hmac"):
        stores = [random_store(rng, i, kind) for i in range(N_STORES)]
        cases += [random_case(rng, rng.choice(stores)) for _ in range(N_CASES_PER_KEY)]
    rep.run("gcs_reference_checks", check_reference)
    rep.run("gcs_compare_with_sdk", compare, cases)
    rep.finish()


if __name__ == "__main__":
    main()
