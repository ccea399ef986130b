#!/usr/bin/python3
"""Writes the seed corpora of the libFuzzer harnesses, tests/fuzz/corpus/<name>/, and the
server's dictionary, tests/fuzz/server.dict, from real requests: one seed per route of
src/http/router.c with its valid bodies and edge cases, local-store URLs signed here with an
independent SigV4 implementation, configuration files, tokens, cursors and names.

    /usr/bin/python3 tests/fuzz/seeds.py

Run it after changing routes or request formats. It only writes its own seeds (names without
the "crash-" prefix); inputs that once crashed a harness (crash-<what-it-found>) are kept.
The input formats are described at the top of each harness.
"""

import datetime
import hashlib
import hmac
import os
import re
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")

UPLOAD_ID = "eu1.01JD3Q5ZC8Y8K0Q4N6D2T7W9XB"
SHA_HELLO = hashlib.sha256(b"hello").hexdigest()


def b(x):
    return x if isinstance(x, bytes) else x.encode("utf-8")


def write(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    assert not name.startswith("crash-")
    with open(os.path.join(d, name), "wb") as f:
        f.write(b(data))


def fields(*parts):
    return b"\0".join(b(p) for p in parts)


# --- server -------------------------------------------------------------------------------

AUTH_OWN, AUTH_RW, AUTH_RO, AUTH_ADMIN, AUTH_NONE, AUTH_HVAL, AUTH_REVOKED, AUTH_OTHER_CELL = range(8)
CT_JSON, CT_NONE, CT_JSON_UTF8, CT_HVAL = range(4)
X_NONE, X_IF_MATCH, X_IF_NONE_MATCH, X_ACCEPT = range(4)


def server_seed(name, route, p0="", p1="", query="", body="", auth=AUTH_OWN, ct=CT_JSON, extra=X_NONE, hval="", sign=False,
                life=15):
    flags = auth | ct << 3 | extra << 5 | (0x80 if sign else 0)
    write("server", name, bytes([flags, life]) + fields(route, p0, p1, query, hval, body))


def routes():
    """The "METHOD pattern" of every route in the table, in order."""
    with open(os.path.join(ROOT, "src", "http", "router.c")) as f:
        text = f.read()
    return ["%s %s" % m for m in re.findall(r'\bR(?:_LARGE)?\("([A-Z]+)", "([^"]+)"', text)]


STORE_BODIES = {
    "s3": '{"provider":"s3","endpoint":"https://s3.eu-west-1.amazonaws.com","bucket":"acme-eu","region":"eu-west-1",'
          '"country":"IE","credentials":{"access_key_id":"AKIAEXAMPLE","secret_access_key":"wJalrXUtnFEMI/K7MDENG"}}',
    "s3-path-style": '{"provider":"s3","endpoint":"http://127.0.0.1:9000","bucket":"b","path_style":true,"country":"DE",'
                     '"weight":500,"status":"readonly","public_host":"https://files.example.com",'
                     '"credentials":{"access_key_id":"minio","secret_access_key":"minio123"}}',
    "gcs-hmac": '{"provider":"gcs","bucket":"acme","region":"europe-west3","country":"DE",'
                '"credentials":{"hmac_access_id":"GOOG1EXAMPLE","hmac_secret":"c2VjcmV0"}}',
    "azure": '{"provider":"azure","endpoint":"https://acme.blob.core.windows.net","bucket":"objects","account":"acme",'
             '"region":"westeurope","country":"NL","credentials":{"account_key":"c2VjcmV0c2VjcmV0c2VjcmV0"}}',
    "swift": '{"provider":"swift","endpoint":"https://swift.example.com/v1/AUTH_acme","bucket":"objects","country":"CH",'
             '"credentials":{"temp_url_key":"secret"}}',
    "local": '{"provider":"local","country":"FR","region":"local-fr"}',
    "offline": '{"provider":"local","country":"DE","status":"offline","weight":0}',
    "bad-country": '{"provider":"local","country":"XX"}',
    "bad-provider": '{"provider":"ftp","country":"DE"}',
    "no-credentials": '{"provider":"s3","endpoint":"https://s3.amazonaws.com","bucket":"b","country":"DE"}',
    "bad-endpoint": '{"provider":"s3","endpoint":"ftp://x@y","bucket":"b","country":"DE","credentials":{"access_key_id":"a",'
                    '"secret_access_key":"b"}}',
    "unknown-field": '{"provider":"local","country":"DE","colour":"red"}',
}

TENANT_BODIES = {
    "eu": '{"jurisdictions":["EU"]}',
    "full": '{"jurisdictions":["DE","FR"],"copies":2,"url_expires":600,"url_expires_max":3600,"audit_reads":true}',
    "one-string": '{"jurisdictions":"DE"}',
    "unknown-group": '{"jurisdictions":["ATLANTIS"]}',
    "empty": '{"jurisdictions":[]}',
    "expiry-order": '{"jurisdictions":["EEA"],"url_expires":7200,"url_expires_max":60}',
    "copies-too-many": '{"jurisdictions":["DE"],"copies":99}',
}

PUT_BODIES = {
    "minimal": '{"size":5}',
    "full": '{"size":5,"content_type":"text/plain","sha256":"%s","tags":{"lang":"en","kind":"note"},'
            '"attrs":{"duration_ms":31200,"x":[1,2,{"y":null}]},"copies":1,"jurisdiction":"DE"}' % SHA_HELLO,
    "jurisdictions": '{"size":0,"jurisdiction":["EU","DE"]}',
    "outside": '{"size":5,"jurisdiction":["US"]}',
    "two-copies": '{"size":5,"copies":2}',
    "multipart": '{"size":104857600,"parts":4,"content_type":"video/mp4"}',
    "too-large": '{"size":1099511627776}',
    "negative": '{"size":-1}',
    "bad-sha": '{"size":5,"sha256":"xyz"}',
    "bad-type": '{"size":5,"content_type":"text/\\u0001"}',
    "tag-limits": '{"size":1,"tags":{"%s":"v","k":"%s"}}' % ("k" * 129, "v" * 257),
    "many-tags": '{"size":1,"tags":{%s}}' % ",".join('"t%d":"v"' % i for i in range(51)),
    "duplicate": '{"size":1,"size":2}',
    "unknown": '{"size":1,"colour":"red"}',
    "not-object": '[1,2,3]',
    "invalid": '{"size":',
    "nul-in-string": '{"size":1,"content_type":"a\\u0000b"}',
    "attrs-not-object": '{"size":1,"attrs":[1]}',
    "deep": '{"size":1,"attrs":' + '{"a":' * 40 + '1' + '}' * 40 + '}',
}

PATCH_BODIES = {
    "tags": '{"tags":{"set":{"lang":"de"},"remove":["kind"]}}',
    "attrs": '{"attrs":{"rating":5}}',
    "both": '{"tags":{"set":{"a":"b"}},"attrs":null}',
    "set-and-remove": '{"tags":{"set":{"a":"b"},"remove":["a"]}}',
    "nothing": '{}',
    "bad-tags": '{"tags":["a"]}',
    "unknown-in-tags": '{"tags":{"add":{"a":"b"}}}',
}


def server():
    table = routes()
    for i, route in enumerate(table):
        method, pattern = route.split(" ", 1)
        slug = re.sub(r"[^a-z0-9]+", "-", route.lower()).strip("-")
        server_seed("route-%02d-%s" % (i, slug), route, p0="demo" if "{}" in pattern else "greetings/hello.txt",
                    p1="x")
    # objects: start uploads, read, change, list, delete
    for n, body in PUT_BODIES.items():
        server_seed("put-object-" + n, "PUT /v1/objects/*", p0="calls/2026/rec-1.opus", body=body)
    server_seed("put-object-conditional", "PUT /v1/objects/*", p0="a", body=PUT_BODIES["minimal"], extra=X_IF_NONE_MATCH,
                hval="*")
    server_seed("put-object-explain-region", "PUT /v1/objects/*", p0="a b/ü", query="explain=1&region=eu-central-1&expires=60",
                body=PUT_BODIES["minimal"])
    server_seed("put-object-wrong-type", "PUT /v1/objects/*", p0="a", body=PUT_BODIES["minimal"], ct=CT_HVAL, hval="text/plain")
    server_seed("put-object-read-only-token", "PUT /v1/objects/*", p0="a", body=PUT_BODIES["minimal"], auth=AUTH_RO)
    server_seed("put-object-encoded-key", "PUT /v1/objects/*", p0="dir%2Fname%20%E2%82%AC", body=PUT_BODIES["minimal"])
    server_seed("put-object-nul-key", "PUT /v1/objects/*", p0="a%00b", body=PUT_BODIES["minimal"])
    server_seed("put-object-bad-escape", "PUT /v1/objects/*", p0="a%zz", body=PUT_BODIES["minimal"])
    server_seed("put-object-long-key", "PUT /v1/objects/*", p0="k" * 1025, body=PUT_BODIES["minimal"])
    for n, body in PATCH_BODIES.items():
        server_seed("patch-object-" + n, "PATCH /v1/objects/*", p0="calls/2026/rec-1.opus", body=body)
    server_seed("patch-object-if-match", "PATCH /v1/objects/*", p0="a", body=PATCH_BODIES["tags"], extra=X_IF_MATCH,
                hval='W/"3"')
    server_seed("get-object", "GET /v1/objects/*", p0="calls/2026/rec-1.opus", query="expires=60&region=eu-west-1")
    server_seed("get-object-download", "GET /v1/objects/*", p0="a",
                query="filename=R%C3%A9sum%C3%A9+2026.pdf&disposition=inline&content_type=application/pdf")
    server_seed("get-object-bad-expires", "GET /v1/objects/*", p0="a", query="expires=99999999")
    server_seed("head-object", "HEAD /v1/objects/*", p0="a")
    server_seed("fetch-object", "GET /v1/fetch/*", p0="a", query="filename=a.txt")
    server_seed("delete-object-if-match", "DELETE /v1/objects/*", p0="a", extra=X_IF_MATCH, hval="1")
    server_seed("delete-object-if-none-match", "DELETE /v1/objects/*", p0="a", extra=X_IF_NONE_MATCH, hval="*")
    for n, q in {
        "prefix-delimiter": "prefix=calls%2F&delimiter=/&limit=2",
        "tags": "tag.lang=en&tag.kind=note&limit=1000",
        "cursor": "cursor=AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0e&prefix=a",
        "bad-limit": "limit=0",
        "unknown": "colour=red",
        "malformed": "prefix=%zz&delimiter",
        "plus-space": "prefix=a+b&tag.a+b=c+d",
    }.items():
        server_seed("list-" + n, "GET /v1/objects", query=q)
    # uploads
    server_seed("complete-empty", "POST /v1/uploads/{}/complete", p0=UPLOAD_ID)
    server_seed("complete-parts", "POST /v1/uploads/{}/complete", p0=UPLOAD_ID,
                body='{"parts":[{"store":"local","part_number":1,"etag":"\\"abc\\""}]}')
    server_seed("complete-other-cell", "POST /v1/uploads/{}/complete", p0="us2.01JD3Q5ZC8Y8K0Q4N6D2T7W9XB")
    server_seed("upload-parts", "POST /v1/uploads/{}/parts", p0=UPLOAD_ID, body='{"store":"local","part_numbers":[1,2,3]}')
    server_seed("abort-upload", "DELETE /v1/uploads/{}", p0=UPLOAD_ID)
    server_seed("abort-bad-id", "DELETE /v1/uploads/{}", p0="not-an-id")
    # administration
    for n, body in STORE_BODIES.items():
        server_seed("store-put-" + n, "PUT /v1/admin/stores/{}", p0="fz-" + n, body=body)
    server_seed("store-put-bad-id", "PUT /v1/admin/stores/{}", p0="-x", body=STORE_BODIES["local"])
    server_seed("store-get", "GET /v1/admin/stores/{}", p0="local")
    server_seed("store-delete", "DELETE /v1/admin/stores/{}", p0="fz-s3")
    for n, body in TENANT_BODIES.items():
        server_seed("tenant-put-" + n, "PUT /v1/admin/tenants/{}", p0="acme-" + n, body=body)
    server_seed("tenant-get", "GET /v1/admin/tenants/{}", p0="demo")
    server_seed("tenant-delete", "DELETE /v1/admin/tenants/{}", p0="acme-eu")
    server_seed("key-create-read", "POST /v1/admin/tenants/{}/keys", p0="demo", body='{"scopes":["read"]}')
    server_seed("key-create-bad-scope", "POST /v1/admin/tenants/{}/keys", p0="demo", body='{"scopes":["admin"]}')
    server_seed("key-create-no-body", "POST /v1/admin/tenants/{}/keys", p0="acme-eu", ct=CT_NONE)
    server_seed("key-list", "GET /v1/admin/tenants/{}/keys", p0="demo")
    server_seed("key-revoke", "DELETE /v1/admin/tenants/{}/keys/{}", p0="demo", p1="aaaaaaaaaaaaaaaa")
    server_seed("audit-all", "GET /v1/admin/audit", query="after=demo:1&limit=10")
    server_seed("audit-one-chain-ndjson", "GET /v1/admin/audit", query="tenant=demo&after=2", extra=X_ACCEPT,
                hval="application/x-ndjson")
    server_seed("audit-admin-chain", "GET /v1/admin/audit", query="tenant=&limit=1")
    server_seed("audit-bad-after", "GET /v1/admin/audit", query="after=x")
    server_seed("audit-checkpoints", "GET /v1/admin/audit/checkpoints", query="after=0&limit=5")
    # credentials
    server_seed("auth-admin-on-objects", "GET /v1/objects/*", p0="a", auth=AUTH_ADMIN)
    server_seed("auth-tenant-on-admin", "GET /v1/admin/stores", auth=AUTH_RW)
    server_seed("auth-none", "GET /v1/objects", auth=AUTH_NONE)
    server_seed("auth-revoked", "GET /v1/objects", auth=AUTH_REVOKED)
    server_seed("auth-other-cell", "GET /v1/objects", auth=AUTH_OTHER_CELL)
    server_seed("auth-garbage", "GET /v1/objects", auth=AUTH_HVAL, hval="lk_eu1_zzzz")
    server_seed("auth-lowercase-bearer", "GET /v1/objects", auth=AUTH_HVAL, hval=" lk_eu1_aaaaaaaaaaaaaaaa_" + "a" * 32 + " ")
    # the router: unknown paths, other methods, odd spellings
    for n, route in {
        "unknown-path": "GET /v2/objects",
        "method-not-allowed": "POST /v1/objects/a",
        "options": "OPTIONS /healthz",
        "dot-segments": "GET /v1/objects/../admin/stores",
        "double-slash": "GET //v1//objects",
        "no-slash": "GET healthz",
        "encoded-route": "GET /v1/%61dmin/stores",
        "lowercase-method": "get /healthz",
    }.items():
        server_seed("raw-" + n, route)
    # the local store: requests signed by loci's own signer (the harness signs them)
    name = "demo/" + UPLOAD_ID
    server_seed("local-put-signed", "PUT /local/{}/*", p0="local", p1=name, body="hello", hval="text/plain", sign=True)
    server_seed("local-get-signed", "GET /local/{}/*", p0="local", p1=name, sign=True)
    server_seed("local-head-signed", "HEAD /local/{}/*", p0="local", p1=name, sign=True)
    server_seed("local-delete-signed", "DELETE /local/{}/*", p0="local", p1=name, sign=True)
    server_seed("local-get-unsigned", "GET /local/{}/*", p0="local", p1=name,
                query="X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00")
    server_seed("local-bad-name", "GET /local/{}/*", p0="local", p1="../../etc/passwd", sign=True)

    words = set()
    for r in table:
        words.add(r)
        words.update(p for p in re.split(r"[ /{}*]+", r) if p)
    for body in list(STORE_BODIES.values()) + list(TENANT_BODIES.values()) + list(PUT_BODIES.values()) + list(
            PATCH_BODIES.values()):
        words.update(re.findall(r'"([a-z_]+)":', body))
    words.update(["explain", "region", "expires", "prefix", "delimiter", "limit", "cursor", "tag.", "filename", "disposition",
                  "content_type", "after", "tenant", "X-Amz-Signature", "application/json", "application/x-ndjson",
                  "demo", "local", UPLOAD_ID, "%00", "%2F", "%C3%A9", "\\u0000", "true", "null", "-1", "9223372036854775807"])
    write_dict("server", words)


def write_dict(harness, words):
    with open(os.path.join(HERE, harness + ".dict"), "w") as f:
        f.write("# libFuzzer dictionary for tests/fuzz/%s.c, written by tests/fuzz/seeds.py\n" % harness)
        for w in sorted(words):
            f.write('"%s"\n' % "".join(c if 0x20 <= ord(c) < 0x7f and c not in '"\\' else "\\x%02x" % ord(c)
                                      for c in w))


# --- sigv4: local-store URLs signed here (independently of loci's signer) --------------------

T0 = 1700000000
AKID, SECRET, REGION, HOST = "LOCIKEY", "0123456789abcdef", "local", "127.0.0.1:7700"


def quote(s, safe=""):
    return urllib.parse.quote(s, safe="-_.~" + safe)


def presign(method, name, headers, expires=900, extra=()):
    """A SigV4 query-signed URL for /local/disk-1/<name>: (path, query)."""
    amz_date = datetime.datetime.fromtimestamp(T0, datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    scope = "%s/%s/s3/aws4_request" % (amz_date[:8], REGION)
    hdrs = dict(headers, host=HOST)
    signed = ";".join(sorted(hdrs))
    params = list(extra) + [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", AKID + "/" + scope),
                            ("X-Amz-Date", amz_date), ("X-Amz-Expires", str(expires)), ("X-Amz-SignedHeaders", signed)]
    path = "/local/disk-1/" + quote(name, "/")
    cq = "&".join("%s=%s" % (quote(k), quote(v)) for k, v in sorted(params))
    ch = "".join("%s:%s\n" % (k, " ".join(hdrs[k].split())) for k in sorted(hdrs))
    creq = "\n".join([method, path, cq, ch, signed, "UNSIGNED-PAYLOAD"])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    key = ("AWS4" + SECRET).encode()
    for part in (amz_date[:8], REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    return path, cq + "&X-Amz-Signature=" + sig


def sigv4():
    name = "demo/" + UPLOAD_ID
    cases = {
        "get": ("GET", name, {}, 900, ()),
        "head": ("HEAD", name, {}, 60, ()),
        "delete": ("DELETE", name, {}, 604800, ()),
        "put": ("PUT", name, {"content-type": "text/plain", "content-length": "5"}, 900, ()),
        "put-checksum": ("PUT", name, {"content-type": "application/octet-stream", "content-length": "0",
                                       "x-amz-checksum-sha256": "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="}, 900, ()),
        "get-response-overrides": ("GET", "a b/ü€.txt", {}, 900,
                                   (("response-content-disposition", 'attachment; filename="x.txt"'),
                                    ("response-content-type", "text/plain"))),
    }
    for n, (method, nm, headers, expires, extra) in cases.items():
        path, query = presign(method, nm, headers, expires, extra)
        lines = "\n".join("%s:%s" % kv for kv in headers.items())
        write("sigv4", "verify-" + n, b"\0\0" + fields(method, path, query, HOST, lines))
    # the signer round trip: method byte, lifetime byte, name, content type, length
    for n, (m, life, nm, ct, ln) in {
        "get": (0, 1, name, "", ""),
        "put": (1, 2, name, "text/plain", "5"),
        "put-unicode": (1, 255, "dir/ü €/x", "application/json; charset=utf-8", "123456789"),
        "head-odd-name": (2, 0, "a%2F..//b?c#d", "", ""),
        "delete": (3, 7, "x", "", ""),
        "put-bad-type": (1, 3, "x", "text/\x01", "1"),
    }.items():
        write("sigv4", "sign-" + n, bytes([1, m, life]) + fields(nm, ct, ln))


# --- the others ----------------------------------------------------------------------------


JSON_WORDS = ["{", "}", "[", "]", ":", ",", '""', "true", "false", "null", "-0", "1e308", "\\u0000", "\\ud800", "\\\\",
              "9223372036854775807", "-9223372036854775808"]


def body():
    words = set(JSON_WORDS)
    for v in list(PUT_BODIES.values()) + list(PATCH_BODIES.values()) + list(STORE_BODIES.values()) + list(
            TENANT_BODIES.values()):
        words.update('"%s"' % k for k in re.findall(r'"([a-z_]+)":', v))
    write_dict("body", words)
    schemas = {"put": 0, "patch": 1, "store": 2, "tenant": 3, "key": 4, "complete": 5}
    for n, v in PUT_BODIES.items():
        write("body", "put-" + n, bytes([schemas["put"]]) + b(v))
    for n, v in PATCH_BODIES.items():
        write("body", "patch-" + n, bytes([schemas["patch"]]) + b(v))
    for n, v in STORE_BODIES.items():
        write("body", "store-" + n, bytes([schemas["store"]]) + b(v))
    for n, v in TENANT_BODIES.items():
        write("body", "tenant-" + n, bytes([schemas["tenant"]]) + b(v))
    write("body", "key-scopes", bytes([schemas["key"]]) + b'{"scopes":["read","write"]}')
    write("body", "key-empty-allowed", bytes([schemas["key"] | 0x80]))
    write("body", "complete-empty", bytes([schemas["complete"]]) + b"{}")
    write("body", "empty-refused", bytes([schemas["put"]]))


def config():
    with open(os.path.join(ROOT, "src", "server", "config.c")) as f:
        names = re.findall(r'\{"([a-z_.]+)", "LOCI_[A-Z_]+"', f.read())
    words = {"\\n", ": ", "- ", "[", "]", "{", "}", "&a", "*a", "!!str", "---", "...", "'", '"', "64K", "1M", "5G", "true",
             "off", "EU", "EEA", "DE"}
    for n in names:
        words.update(n.split("."))
        words.add(n + "=")
    write_dict("config", words)
    write("config", "readme-example", b"\0" + b"""# loci.yaml
listen: 0.0.0.0:7700
data_dir: /var/lib/loci
public_url: https://loci.example.com/
cell: eu1
limits:
  body_max: 64K
  url_expires_max: 86400
  url_expires_default: 900
audit:
  checkpoint_every: 100
jurisdiction_groups:
  DACH: [DE, AT, CH]
  NORDICS:
    - DK
    - SE
    - NORDIC_EXTRA
""")
    write("config", "every-type", b"\0" + b"""threads: 4
log_requests: off
max_object_size: 5G
request_timeout_ms: 100
database: "sqlite:/tmp/x.db"
local_country: FR
""")
    write("config", "admin-token-refused", b"\0admin_token: secret\n")
    write("config", "not-a-mapping", b"\0- a\n- b\n")
    write("config", "nested-wrong", b"\0limits: 5\n")
    write("config", "anchors", b"\0a: &x 1\nthreads: *x\n")
    write("config", "empty", b"\0")
    write("config", "env-style", b"\x01" + b"""listen=127.0.0.1:0
limits.body_max=1M
jurisdiction_groups=DACH=DE,AT,CH;ALPS=DACH,IT,FR
cell=eu2
log_requests=yes
""")
    write("config", "env-bad-group", b"\x01jurisdiction_groups=EU=DE\n")


def signer():
    with open(os.path.join(ROOT, "tests", "vectors", "gcs", "test_service_account.not-a-test.json")) as f:
        service_account = f.read()
    prov = {"s3": 0, "gcs": 1, "azure": 2, "swift": 3, "local": 4}
    # flags: bit 0 path_style, bits 1-3 operation (0 object, 1 part, 2 create, 3 complete, 4 abort), bits 4-5 method
    cases = {
        "s3-virtual-get": (prov["s3"], 0x00, "https://s3.eu-west-1.amazonaws.com", "acme-eu", "eu-west-1", "", "",
                           "demo/" + UPLOAD_ID, "", ["access_key_id=AKIAEXAMPLE", "secret_access_key=wJalrXUtnFEMI/K7MDENG"]),
        "s3-path-put": (prov["s3"], 0x11, "http://127.0.0.1:9000/base", "b", "", "https://cdn.example.com:8443", "",
                        "a b/ü€", "text/plain", ["access_key_id=minio", "secret_access_key=minio123"]),
        "s3-part": (prov["s3"], 0x03, "https://s3.amazonaws.com", "bucket", "upload-xyz", "", "", "x", "",
                    ["access_key_id=A", "secret_access_key=B"]),
        "gcs-service-account": (prov["gcs"], 0x10, "https://storage.googleapis.com", "acme", "europe-west3", "", "",
                                "demo/x", "application/json", ["service_account_json=" + service_account]),
        "gcs-hmac-create": (prov["gcs"], 0x04, "https://storage.googleapis.com", "acme", "", "", "", "demo/x", "video/mp4",
                            ["hmac_access_id=GOOG1EXAMPLE", "hmac_secret=c2VjcmV0"]),
        "azure-put": (prov["azure"], 0x10, "https://acme.blob.core.windows.net", "objects", "", "", "acme", "demo/x",
                      "text/plain", ["account_key=c2VjcmV0c2VjcmV0c2VjcmV0"]),
        "azure-block": (prov["azure"], 0x02, "http://127.0.0.1:10000/devstoreaccount1", "objects", "", "", "devstoreaccount1",
                        "demo/x", "", ["account_key=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="]),
        "swift-tempurl": (prov["swift"], 0x30, "https://swift.example.com/v1/AUTH_acme", "objects", "", "", "", "demo/x", "",
                          ["temp_url_key=secret"]),
        "local": (prov["local"], 0x00, "http://127.0.0.1:7700", "", "", "", "", "demo/" + UPLOAD_ID, "",
                  ["access_key_id=LOCIKEY", "secret_access_key=0123456789abcdef"]),
    }
    for n, (p, flags, endpoint, bucket, region, public_host, account, name, ct, creds) in cases.items():
        write("signer", n, bytes([p, flags]) + fields(endpoint, bucket, region, public_host, account, name, ct, *creds))


def small():
    token = "lk_eu1_" + "abcdefghijklmnop" + "_" + "abcdefghijklmnopqrstuvwxyz234567"
    write("token", "valid", token)
    write("token", "admin-like", "la_test_admin_token_0123456789")
    write("token", "long-cell", "lk_" + "a" * 17 + "_abcdefghijklmnop_" + "a" * 32)
    write("token", "extra-underscore", token + "_x")
    write("cursor", "sealed-shape", fields("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMk", "demo", "calls/", "/", "calls/2026/a"))
    write("cursor", "empty", fields("", "acme", "", "", ""))
    write("query", "object-key", b"\x00/v1/objects/a%2Fb?prefix=x&tag.k=v")
    write("query", "admin", b"\x03/v1/admin/tenants/acme/keys/abc?after=demo:1&limit=10")
    write("query", "local", b"\x01/local/local/demo/" + b(UPLOAD_ID) + b"?X-Amz-Date=20231114T221320Z&a=%zz&&=&b")
    write("object", "key-and-tags", b"\x00calls/2026/rec-1.opus\0lang=en\0kind=note\0\0lang=de\0\0text/plain\0"
          + b(SHA_HELLO.upper()) + b'\0W/"3"\0calls/\0/\0eu-west-1\0EU\0DE')
    write("object", "small-limits", b"\x0bk\xc3\xa9y\0a=b\0a=c\0\0\0x\0\0*\0\0\0westeurope\0DACH")
    write("object", "local-name", b"\x00demo/" + b(UPLOAD_ID) + b"\0\0\0\0\0" + b(UPLOAD_ID) + b"\0\0\0ap-southeast-2\0EEA\0US")
    write("object", "disposition", b"\x00R\xc3\xa9sum\xc3\xa9 \"2026\".pdf\0\0\0inline\0")
    write("enc", "percent", "hello%20world%2F%e2%82%ac+x")
    write("enc", "base64", "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=")
    write("enc", "utf8", "k\xe9y \u20ac \U0001f600".encode("utf-8") + b"\xed\xa0\x80\xf4\x90\x80\x80")


if __name__ == "__main__":
    server()
    sigv4()
    body()
    config()
    signer()
    small()
