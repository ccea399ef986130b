"""Proves that the throwaway Swift (tests/env/swift.sh) really verifies signatures, so that other
tests' "Swift refused the tampered URL" means something. No loci involved: URLs are signed with
botocore (Debian's python3-botocore) and by hand for TempURLs.

s3api (SigV4 presigned URLs, path-style, region SWIFT_S3_REGION): a presigned PUT with a signed
content-type stores the bytes, presigned GET returns them, HEAD and DELETE work; refused with 403
(and an S3 error code from s3api, not some other 403): one signature hex digit changed, the key
changed after signing (to another object that exists), a GET URL used for PUT or DELETE, the wrong
secret, an expired URL (signed in the past), a PUT whose content-type or content-length differ
from the signed ones. Every refusal has a control that differs only in the tampered part and is
accepted, so a 403 cannot come from a broken signer.
tempurl (HMAC-SHA256 over "METHOD\\nEXPIRES\\nPATH"): GET and PUT work; a changed signature,
another object's path, the wrong method, the wrong key or an expired time get 401.

Prints "PASS swift/<name>" or "FAIL swift/<name>" per check, failure details on stderr; exits
non-zero if any check failed."""

import contextlib
import datetime
import hashlib
import hmac
import http.client
import os
import sys
import time
import types
import urllib.parse
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Reporter  # noqa: E402
from swiftenv import SwiftEnv  # noqa: E402

rep = Reporter("swift")

try:
    import botocore.auth
    import botocore.session
    from botocore.awsrequest import AWSRequest
    from botocore.config import Config
    from botocore.credentials import Credentials
except ImportError as e:  # reported as a failure below, never as a pass
    botocore = None
    BOTOCORE_ERROR = e


# --- HTTP ---------------------------------------------------------------------------------

class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def s3_code(self):
        """The <Code> of an S3 XML error body, or None."""
        try:
            return ET.fromstring(self.body).findtext("Code")
        except ET.ParseError:
            return None

    def __repr__(self):
        return "HTTP %d %r" % (self.status, self.body[:600])


def call(method, url, body=None, headers=None):
    """One request exactly as given (http.client adds only Host, and Content-Length for a body)."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request(method, u.path + ("?" + u.query if u.query else ""), body=body, headers=headers or {})
        r = conn.getresponse()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


def flip_hex(s, i):
    return s[:i] + ("0" if s[i] != "0" else "1") + s[i + 1:]


def flip_query_param(url, name):
    """The URL with the first hex digit of parameter `name` changed."""
    i = url.index(name + "=") + len(name) + 1
    return flip_hex(url, i)


# --- signing ------------------------------------------------------------------------------

@contextlib.contextmanager
def clock(at):
    """botocore signs with datetime.datetime.utcnow(); make that `at` (naive UTC) for a moment."""
    if at is None:
        yield
        return

    class Frozen(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return at

    real = botocore.auth.datetime
    botocore.auth.datetime = types.SimpleNamespace(datetime=Frozen)
    try:
        yield
    finally:
        botocore.auth.datetime = real


class Signer:
    def __init__(self, sw):
        self.sw = sw
        self.client = botocore.session.get_session().create_client(
            "s3", region_name=sw.region, endpoint_url=sw.url, aws_access_key_id=sw.access_key,
            aws_secret_access_key=sw.secret_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))

    def presign(self, op, key, expires=300, **params):
        """botocore's own presigned URL for an S3 operation (what SDK users would get)."""
        return self.client.generate_presigned_url(
            op, Params=dict(Bucket=self.sw.bucket, Key=key, **params), ExpiresIn=expires)

    def url(self, key):
        return "%s/%s/%s" % (self.sw.url, self.sw.bucket, urllib.parse.quote(key, safe="/~"))

    def sign(self, method, key, headers=None, secret=None, region=None, expires=300, at=None):
        """botocore.auth.S3SigV4QueryAuth directly: any headers, secret, region, signing time."""
        req = AWSRequest(method=method, url=self.url(key), headers=headers or {})
        auth = botocore.auth.S3SigV4QueryAuth(
            Credentials(self.sw.access_key, secret if secret is not None else self.sw.secret_key),
            "s3", region or self.sw.region, expires=expires)
        with clock(at):
            auth.add_auth(req)
        return req.url


def query(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True))


def tempurl(sw, method, key, expires_at, key_secret=None, path=None):
    """A Swift TempURL: hex HMAC-SHA256 over "METHOD\\nEXPIRES\\nPATH", PATH the unquoted
    /v1/AUTH_x/container/object."""
    obj_path = "%s/%s/%s" % (urllib.parse.urlsplit(sw.account_url).path, sw.bucket, key)
    body = "%s\n%d\n%s" % (method, expires_at, path or obj_path)
    sig = hmac.new((key_secret or sw.tempurl_key).encode(), body.encode(), hashlib.sha256).hexdigest()
    return "%s%s?temp_url_sig=%s&temp_url_expires=%d" % (sw.url, urllib.parse.quote(obj_path), sig, expires_at)


# --- checks -------------------------------------------------------------------------------

S3_AUTH_CODES = ("SignatureDoesNotMatch", "AccessDenied")


def refused(name, r, code=None, why=""):
    """A 403 from s3api: status 403 and, where the method has a body, an S3 auth error code."""
    if r.status != 403:
        return rep.check(name, False, "want 403, got %r %s" % (r, why))
    if r.body or code:
        got = r.s3_code
        want = (code,) if code else S3_AUTH_CODES
        return rep.check(name, got in want, "403, but S3 error code %r, want %s: %r" % (got, " or ".join(want), r))
    return rep.check(name, True)


def swift_object(sw, key):
    """(status, body) of an object read through Swift's own API (X-Auth-Token), not s3api."""
    status, _, body = sw.swift("GET", "/%s/%s" % (sw.bucket, urllib.parse.quote(key)))
    return status, body


def run_s3(sw, sg):
    data = os.urandom(64 * 1024 + 5)
    key = "verifier/object.bin"
    ctype = "application/x-loci-test"

    # presigned PUT with a signed content-type; first refused with another type, then accepted
    put = sg.presign("put_object", key, ContentType=ctype)
    signed = query(put).get("X-Amz-SignedHeaders", "")
    rep.check("s3_put_url_signs_content_type", signed.split(";") == ["content-type", "host"], put)
    r = call("PUT", put, data, {"Content-Type": "text/html"})
    refused("s3_put_other_content_type_403", r, "SignatureDoesNotMatch")
    rep.eq("s3_put_other_content_type_stored_nothing", swift_object(sw, key)[0], 404)
    r = call("PUT", put, data, {"Content-Type": ctype})
    rep.check("s3_put_presigned", r.status // 100 == 2 and r.headers.get("etag", "").strip('"')
              == hashlib.md5(data).hexdigest(), r)
    rep.check("s3_put_stored_bytes", swift_object(sw, key) == (200, data), "Swift API read differs")

    # presigned GET and HEAD
    get = sg.presign("get_object", key)
    r = call("GET", get)
    rep.check("s3_get_presigned", r.status == 200 and r.body == data
              and r.headers.get("content-type") == ctype, r if r.status != 200 else r.headers)
    r = call("HEAD", sg.presign("head_object", key))
    rep.check("s3_head_presigned", r.status == 200 and r.headers.get("content-length") == str(len(data)), r)

    # one hex digit of the signature changed
    refused("s3_get_tampered_signature_403", call("GET", flip_query_param(get, "X-Amz-Signature")),
            "SignatureDoesNotMatch")
    refused("s3_head_tampered_signature_403",
            call("HEAD", flip_query_param(sg.presign("head_object", key), "X-Amz-Signature")))

    # the key changed after signing, to another object that exists and is readable with its own URL
    other = "verifier/objecu.bin"
    st, _, _ = sw.swift("PUT", "/%s/%s" % (sw.bucket, other), data=b"another object")
    assert st == 201, "setup: Swift API PUT of %s: %d" % (other, st)
    rep.eq("s3_other_key_control_200", call("GET", sg.presign("get_object", other)).status, 200)
    moved = get.replace("/" + key + "?", "/" + other + "?")
    assert moved != get
    r = call("GET", moved)
    refused("s3_get_key_changed_403", r, "SignatureDoesNotMatch",
            "(served %r)" % r.body[:40] if r.status == 200 else "")

    # a GET URL used with another method; the object must stay as it was
    refused("s3_get_url_used_for_put_403", call("PUT", get, b"overwritten", {"Content-Type": ctype}),
            "SignatureDoesNotMatch")
    refused("s3_get_url_used_for_delete_403", call("DELETE", get), "SignatureDoesNotMatch")
    refused("s3_get_url_used_for_head_403", call("HEAD", get))
    rep.check("s3_object_unchanged_after_wrong_methods", swift_object(sw, key) == (200, data),
              "object changed or gone")

    # signed with the wrong secret; the same signer with the right secret is the control
    rep.eq("s3_signer_control_200", call("GET", sg.sign("GET", key)).status, 200)
    refused("s3_wrong_secret_403", call("GET", sg.sign("GET", key, secret="testinh")), "SignatureDoesNotMatch")
    refused("s3_wrong_access_key_refused", call("GET", sg.sign("GET", key).replace(
        "test%3Atester", "test%3Atestex")), None)

    # expired: signed 10 minutes ago for 60 s; control: signed then for an hour
    past = datetime.datetime.utcnow().replace(microsecond=0) - datetime.timedelta(minutes=10)
    old_long = sg.sign("GET", key, at=past, expires=3600)
    rep.check("s3_signed_in_past_control_200",
              query(old_long).get("X-Amz-Date") == past.strftime("%Y%m%dT%H%M%SZ")
              and call("GET", old_long).status == 200, old_long)
    r = call("GET", sg.sign("GET", key, at=past, expires=60))
    refused("s3_expired_403", r, "AccessDenied")
    rep.check("s3_expired_says_expired", b"expired" in r.body, r)

    # the region is part of the credential scope: another region is refused (400, not 403)
    r = call("GET", sg.sign("GET", key, region="eu-west-1"))
    rep.check("s3_wrong_region_400", r.status == 400 and r.s3_code == "AuthorizationQueryParametersError", r)

    # content-length signed: other bytes refused, the signed length accepted
    small = sg.sign("PUT", "verifier/sized.bin", headers={"Content-Length": "5"})
    refused("s3_put_other_length_403", call("PUT", small, b"123456"), "SignatureDoesNotMatch")
    rep.check("s3_put_signed_length_200", call("PUT", small, b"12345").status == 200
              and swift_object(sw, "verifier/sized.bin") == (200, b"12345"), "")

    # a key needing percent-encoding (space, +, ~, UTF-8, %) round-trips
    odd = "verifier/a b+c~\u00e9%.txt"
    r1 = call("PUT", sg.presign("put_object", odd), b"odd key")
    r2 = call("GET", sg.presign("get_object", odd))
    rep.check("s3_odd_key_roundtrip", r1.status == 200 and r2.status == 200 and r2.body == b"odd key"
              and odd in sw.list_names(), (r1, r2))

    # presigned DELETE: refused when tampered, then removes the object
    delete = sg.presign("delete_object", key)
    refused("s3_delete_tampered_signature_403", call("DELETE", flip_query_param(delete, "X-Amz-Signature")),
            "SignatureDoesNotMatch")
    rep.eq("s3_object_kept_after_refused_delete", swift_object(sw, key)[0], 200)
    r = call("DELETE", delete)
    rep.check("s3_delete_presigned", r.status == 204 and swift_object(sw, key)[0] == 404, r)


def run_tempurl(sw):
    key = "verifier/tempurl.bin"
    data = os.urandom(4096)
    exp = int(time.time()) + 300

    put = tempurl(sw, "PUT", key, exp)
    r = call("PUT", put, data)
    rep.check("tempurl_put", r.status == 201 and swift_object(sw, key) == (200, data), r)

    get = tempurl(sw, "GET", key, exp)
    assert len(query(get)["temp_url_sig"]) == 64  # hex SHA-256
    r = call("GET", get)
    rep.check("tempurl_get", r.status == 200 and r.body == data, r)

    rep.eq("tempurl_tampered_signature_401", call("GET", flip_query_param(get, "temp_url_sig")).status, 401)
    other = "verifier/tempurl-other.bin"
    st, _, _ = sw.swift("PUT", "/%s/%s" % (sw.bucket, other), data=b"other")
    assert st == 201, "setup: Swift API PUT of %s: %d" % (other, st)
    rep.eq("tempurl_other_object_401", call("GET", get.replace("/" + key + "?", "/" + other + "?")).status, 401)
    rep.eq("tempurl_get_url_used_for_put_401", call("PUT", get, b"overwritten").status, 401)
    rep.eq("tempurl_get_url_used_for_delete_401", call("DELETE", get).status, 401)
    rep.check("tempurl_object_unchanged", swift_object(sw, key) == (200, data), "object changed or gone")
    rep.eq("tempurl_wrong_key_401", call("GET", tempurl(sw, "GET", key, exp, key_secret="not-the-key")).status, 401)
    rep.eq("tempurl_expired_401", call("GET", tempurl(sw, "GET", key, int(time.time()) - 5)).status, 401)
    moved_exp = get.replace("temp_url_expires=%d" % exp, "temp_url_expires=%d" % (exp + 3600))
    rep.eq("tempurl_expiry_changed_401", call("GET", moved_exp).status, 401)

    # a key needing percent-encoding: the HMAC covers the unquoted path, the URL carries it quoted
    odd = "verifier/t e+m~\u00e9%.bin"
    r = call("PUT", tempurl(sw, "PUT", odd, exp), b"odd key")
    r2 = call("GET", tempurl(sw, "GET", odd, exp))
    rep.check("tempurl_odd_key_roundtrip", r.status == 201 and r2.status == 200 and r2.body == b"odd key"
              and odd in sw.list_names(), (r, r2))


def main():
    if botocore is None:
        rep.check("botocore", False, "import botocore failed (%s); run scripts/deps.sh test" % BOTOCORE_ERROR)
        rep.finish()
    try:
        with SwiftEnv() as sw:
            sg = Signer(sw)
            before = rep.failed
            rep.run("s3api", run_s3, sw, sg)
            rep.run("tempurl", run_tempurl, sw)
            if rep.failed > before:
                sys.stderr.write("--- proxy log (last 40 lines):\n%s" % sw.log_tail("proxy", 40))
    except Exception as e:
        rep.check("environment", False, repr(e))
    rep.finish()


if __name__ == "__main__":
    main()
