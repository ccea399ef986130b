"""Randomized cross-check of loci's SigV4 presigned URLs against botocore (Debian's
python3-botocore, run with /usr/bin/python3): for the same store, key, method, declared headers
and frozen time, loci's URL and required headers must equal botocore's generate_presigned_url
byte for byte.

Cases (fixed seed) mix keys with spaces, '+', '%', '~', '//', a leading '/', reserved
characters, UTF-8 of every width and 1 KiB runs; endpoints over http and https with no port, the
scheme's default port written out or another port, with and without a base path; path-style and
virtual-hosted addressing; several regions and credentials; public_host; GET, HEAD, DELETE and
PUT with and without content-type, content-length and a SHA-256 checksum. `local` stores are
compared too: their URLs are botocore's path-style URLs for bucket "local" and key
"<store>/<name>". Finally, the local store's verifier must accept the URLs botocore signs for it
(and refuse them once tampered with), so any SigV4 client can talk to it.

Prints PASS/FAIL per group of cases; the first mismatch of a group goes to stderr."""

import base64
import datetime
import hashlib
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Reporter  # noqa: E402

import botocore.auth  # noqa: E402
import botocore.session  # noqa: E402
from botocore.config import Config  # noqa: E402

rep = Reporter("sign")
TOOL = os.path.join(os.environ.get("LOCI_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build", "rel")),
                    "tools", "presign")
NOW = datetime.datetime(2026, 11, 22, 10, 30, 15)
NOW_UNIX = int((NOW - datetime.datetime(1970, 1, 1)).total_seconds())
N_STORES = 120
N_CASES = 2000


class FrozenDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return NOW


botocore.auth.datetime.datetime = FrozenDatetime  # botocore reads the clock through this name

PIECES = ["a", "b", "Z", "0", "9", " ", "  ", "+", "%", "%20", "~", "-", "_", ".", "..", "/", "//", "/./", "/../", "é", "ü",
          "中文", "😀", "=", "&", "?", "#", "!", "'", "(", ")", "*", ",", ";", ":", "@", "$", "[", "]", "\u00a0", "ß", "Ω",
          "\u2028", "\ufeff", "\\", "^", "`", "{", "}", "|", "<", ">", '"']
CONTENT_TYPES = ["text/plain", "application/octet-stream", "audio/opus", "text/plain; charset=utf-8", "image/png",
                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "multipart/x; boundary=\"a b\""]


def random_key(rng):
    r = rng.random()
    if r < 0.04:
        return "k" * rng.randint(900, 1024)
    if r < 0.06:
        return "".join(rng.choice(PIECES) for _ in range(300))[:1024]
    key = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 40)))
    if rng.random() < 0.1:
        key = "/" + key
    return key


def random_store(rng, i):
    """One store as loci's admin API would hold it."""
    scheme = rng.choice(["http", "https"])
    host = rng.choice(["127.0.0.1", "s3.example.com", "minio.internal", "localhost", "s3.eu-west-1.amazonaws.com",
                       "objectstorage.eu-frankfurt-1.oraclecloud.com"])
    port = rng.choice(["", "", ":9000", ":8080", ":443" if scheme == "https" else ":80"])
    base = rng.choice(["", "", "", "/base", "/s3/v1"])
    creds = {"access_key_id": rng.choice(["AKIAIOSFODNN7EXAMPLE", "test:tester", "minio", "LOCI-LOCAL-KEY"]),
             "secret_access_key": rng.choice(["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "testing", "s3cr3t+/=", "é"])}
    if i % 6 == 5:
        return dict(creds, provider="local", store_id=rng.choice(["local", "disk-1", "nas.2", "eu_local"]),
                    endpoint="%s://%s%s" % (scheme, host, port), region=rng.choice([None, "", "local", "eu-local-1"]))
    path_style = rng.random() < 0.6 or host[0].isdigit()
    bucket = rng.choice(["bucket", "loci-test", "acme-eu-1", "b.dotted", "My_Bucket", "ab"]) if path_style else \
        rng.choice(["bucket", "acme-eu-1", "abc", "0-9"])
    st = dict(creds, provider="s3", endpoint="%s://%s%s%s" % (scheme, host, port, base), bucket=bucket,
              region=rng.choice([None, "", "us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"]), path_style=path_style)
    if rng.random() < 0.15:
        st["public_host"] = rng.choice(["https://s3.example.org", "http://files.example.net:8443", "https://cdn.example.com:443"])
    return st


def random_case(rng, store):
    method = rng.choice(["GET", "HEAD", "DELETE", "PUT"])
    case = dict(store, method=method, key=random_key(rng), now=NOW_UNIX,
                expires=rng.choice([1, 60, 900, 3600, 86400, 604800]))
    if method == "PUT" or rng.random() < 0.2:  # reads ignore these; give some anyway
        if rng.random() < 0.85:
            case["content_type"] = rng.choice(CONTENT_TYPES)
        if rng.random() < 0.85:
            case["content_length"] = rng.choice([0, 1, 5, 48213, 5 * 1024 ** 3])
        if rng.random() < 0.3:
            case["sha256"] = hashlib.sha256(case["key"].encode()).hexdigest()
    return case


_session = botocore.session.get_session()
_clients = {}


def botocore_client(case):
    """A client for the case's store: the endpoint clients are sent to (public_host with the
    endpoint's base path when set), the region loci signs for, the store's addressing style."""
    endpoint = case["endpoint"]
    if case.get("public_host"):
        rest = endpoint.split("://", 1)[1]
        endpoint = case["public_host"] + (rest[rest.index("/"):] if "/" in rest else "")
    local = case["provider"] == "local"
    region = case.get("region") or ("local" if local else "us-east-1")
    style = "path" if local or case["path_style"] else "virtual"
    k = (endpoint, region, style, case["access_key_id"], case["secret_access_key"])
    if k not in _clients:
        _clients[k] = _session.create_client(
            "s3", region_name=region, endpoint_url=endpoint, aws_access_key_id=case["access_key_id"],
            aws_secret_access_key=case["secret_access_key"],
            config=Config(signature_version="s3v4", s3={"addressing_style": style}))
    return _clients[k]


def botocore_url(case):
    op = {"GET": "get_object", "HEAD": "head_object", "DELETE": "delete_object", "PUT": "put_object"}[case["method"]]
    if case["provider"] == "local":
        params = {"Bucket": "local", "Key": case["store_id"] + "/" + case["key"]}
    else:
        params = {"Bucket": case["bucket"], "Key": case["key"]}
    if case["method"] == "PUT":
        if "content_type" in case:
            params["ContentType"] = case["content_type"]
        if "content_length" in case:
            params["ContentLength"] = case["content_length"]
        if "sha256" in case:
            params["ChecksumSHA256"] = base64.b64encode(bytes.fromhex(case["sha256"])).decode()
    return botocore_client(case).generate_presigned_url(op, Params=params, ExpiresIn=case["expires"])


def expected_headers(case):
    """What the client must send: the PUT's declared headers, nothing for reads."""
    h = {}
    if case["method"] == "PUT":
        if "content_type" in case:
            h["content-type"] = case["content_type"]
        if "content_length" in case:
            h["content-length"] = str(case["content_length"])
        if "sha256" in case:
            h["x-amz-checksum-sha256"] = base64.b64encode(bytes.fromhex(case["sha256"])).decode()
    return h


def run_tool(lines):
    p = subprocess.run([TOOL], input="".join(json.dumps(c) + "\n" for c in lines).encode(), capture_output=True,
                       timeout=300)
    return p.returncode, p.stdout.decode().splitlines(), p.stderr.decode()


def group_of(case):
    if case["provider"] == "local":
        return "botocore_local_%s" % case["method"].lower()
    return "botocore_s3_%s_%s" % (case["method"].lower(), "path_style" if case["path_style"] else "virtual_host")


def features(case):
    """Cross-cutting properties, each summarised in a check of its own."""
    f = []
    scheme, rest = (case.get("public_host") or case["endpoint"]).split("://", 1)
    hostport = rest.split("/")[0]
    if case.get("public_host"):
        f.append("public_host")
    if hostport.endswith({"http": ":80", "https": ":443"}[scheme]):
        f.append("default_port_written")
    if "/" in case["endpoint"].split("://", 1)[1]:
        f.append("endpoint_base_path")
    if "sha256" in case and case["method"] == "PUT":
        f.append("put_checksum")
    if case["method"] == "PUT" and "content_type" not in case and "content_length" not in case:
        f.append("put_unbound")
    if any(ord(c) > 127 for c in case["key"]):
        f.append("unicode_key")
    if "//" in case["key"] or case["key"].startswith("/") or "/./" in case["key"] or "/../" in case["key"]:
        f.append("unnormalised_key")
    if len(case["key"].encode()) > 512:
        f.append("long_key")
    if not case.get("region"):
        f.append("default_region")
    return f


def same_url(a, b):
    """The same URL byte for byte, except for the order of the authentication parameters:
    botocore releases differ in it (1.29 writes X-Amz-Expires before X-Amz-SignedHeaders, other
    releases the other way round) and the signature does not depend on it (the canonical query
    is sorted). Operation parameters must still come first, each written exactly alike."""
    (a_base, _, a_query), (b_base, _, b_query) = a.partition("?"), b.partition("?")
    if a_base != b_base:
        return False
    a_params, b_params = a_query.split("&"), b_query.split("&")

    def op_params(params):
        return [x for x in params if not x.startswith("X-Amz-")]
    return (op_params(a_params) == a_params[:len(op_params(a_params))]
            and op_params(a_params) == op_params(b_params) and sorted(a_params) == sorted(b_params))


def compare(cases):
    rc, ours, err = run_tool(cases)
    rep.check("presign_tool_answers_every_case", rc == 0 and len(ours) == len(cases), err[-500:])
    groups, feats = {}, {}
    for case, line in zip(cases, ours):
        want = botocore_url(case)
        url, _, headers = line.partition("\t")
        ok = same_url(url, want) and not line.startswith("ERROR")
        if ok:
            ok = json.loads(headers) == expected_headers(case)
        for name, table in [(group_of(case), groups)] + [(f, feats) for f in features(case)]:
            g = table.setdefault(name, [0, 0, None])
            g[0] += 1
            if not ok:
                g[1] += 1
                if g[2] is None:
                    g[2] = "case %s\n  loci:     %s\n  botocore: %s\n  headers:  %s" % (
                        json.dumps(case, ensure_ascii=False)[:600], line[:900], want[:900], expected_headers(case))
    for table in (groups, feats):
        for name in sorted(table):
            total, bad, example = table[name]
            print("# %s: %d cases, %d differ" % (name, total, bad))
            rep.check(name, bad == 0, "%d of %d differ; first:\n%s" % (bad, total, example))
    want_groups = {"botocore_s3_%s_%s" % (m, s) for m in ("get", "head", "delete", "put")
                   for s in ("path_style", "virtual_host")} | {"botocore_local_%s" % m for m in ("get", "head", "delete", "put")}
    want_feats = {"public_host", "default_port_written", "endpoint_base_path", "put_checksum", "put_unbound", "unicode_key",
                  "unnormalised_key", "long_key", "default_region"}
    rep.check("every_group_and_feature_covered", set(groups) == want_groups and want_feats <= set(feats),
              "groups %s, features %s" % (sorted(groups), sorted(feats)))


def host_header(url):
    """The Host header an HTTP client sends for url: the authority without a default port."""
    scheme, rest = url.split("://", 1)
    authority = rest.split("/", 1)[0]
    default = {"http": ":80", "https": ":443"}[scheme]
    return authority[:-len(default)] if authority.endswith(default) else authority


def tamper(url):
    """The URL with the last hex digit of its signature changed."""
    return url[:-1] + ("0" if url[-1] != "0" else "1")


def verify_botocore_local(cases):
    """loci's verifier on botocore's local-store URLs: each must pass as sent, with the
    method and headers it was signed for, and fail with one signature digit changed."""
    local = [c for c in cases if c["provider"] == "local"]
    lines = []
    for c in local:
        url = botocore_url(c)
        hdrs = expected_headers(c)
        for u in (url, tamper(url)):
            lines.append(dict(c, verify={"url": u, "method": c["method"], "headers": hdrs, "now": NOW_UNIX + 1,
                                         "host": host_header(u)}))
    rc, out, err = run_tool(lines)
    rep.check("verify_tool_answers_every_case", rc == 0 and len(out) == len(lines), err[-500:])
    accepted_bad = refused_good = None
    n_ok = n_bad = 0
    for i, c in enumerate(local):
        good, bad = out[2 * i] if 2 * i < len(out) else "", out[2 * i + 1] if 2 * i + 1 < len(out) else ""
        put_bound = c["method"] != "PUT" or ("content_type" in c and "content_length" in c)
        # a PUT that binds neither length nor type is refused by design, even as botocore signed it
        want_good = "VERIFY OK %d" % (c["content_length"] if c["method"] == "PUT" else -1) if put_bound else "VERIFY REFUSED"
        if good.startswith(want_good):
            n_ok += 1
        elif refused_good is None:
            refused_good = "case %s\n  url: %s\n  got: %s, want %s" % (json.dumps(c, ensure_ascii=False)[:600], lines[2 * i]
                                                                         ["verify"]["url"][:900], good, want_good)
        if bad.startswith("VERIFY REFUSED"):
            n_bad += 1
        elif accepted_bad is None:
            accepted_bad = "case %s\n  got: %s" % (json.dumps(c, ensure_ascii=False)[:600], bad)
    print("# local verify: %d botocore URLs, %d as expected, %d tampered refused" % (len(local), n_ok, n_bad))
    rep.check("local_verify_accepts_botocore_urls", len(local) > 100 and refused_good is None, refused_good or "")
    rep.check("local_verify_refuses_tampered_botocore_urls", len(local) > 100 and accepted_bad is None, accepted_bad or "")


def main():
    rng = random.Random(20261122)
    stores = [random_store(rng, i) for i in range(N_STORES)]
    cases = [random_case(rng, rng.choice(stores)) for _ in range(N_CASES)]
    rep.run("compare_with_botocore", compare, cases)
    rep.run("verify_botocore_local_urls", verify_botocore_local, cases)
    rep.finish()


if __name__ == "__main__":
    main()
