"""End-to-end through OpenStack Swift's s3api, a real SigV4 verifier: an `s3` store pointing at
Swift, `loci put` then `loci get` round-tripping bytes through it, Swift refusing tampered,
expired, wrong-method and wrongly-sized requests, loci refusing to complete an upload that never
happened, and erasure of replaced and deleted copies at the store."""

import hashlib
import os
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Reporter, Server, http_call, http_get, http_put, run_cli  # noqa: E402
from swiftenv import SwiftEnv  # noqa: E402

rep = Reporter("swift")


def flip_signature(url):
    i = url.index("X-Amz-Signature=") + len("X-Amz-Signature=")
    return url[:i] + ("0" if url[i] != "0" else "1") + url[i + 1:]


def run(sw, srv):
    r = srv.admin("PUT", "/v1/admin/stores/swift-at", {
        "provider": "s3", "endpoint": sw.url, "bucket": sw.bucket, "path_style": True, "region": sw.region,
        "country": "AT", "credentials": {"access_key_id": sw.access_key, "secret_access_key": sw.secret_key}})
    rep.eq("store_created", r.status, 201)
    tok = srv.make_tenant("austria", jurisdictions=["AT"])
    work = os.path.join(srv.data, "work")
    os.makedirs(work)
    src = os.path.join(work, "in.bin")
    data = os.urandom(1024 * 1024 + 3)
    open(src, "wb").write(data)
    key = "patients/Jane Doe+x~%/scan.bin"

    rc, out, err = run_cli(["put", src, key, "--tag", "kind=scan"], srv.url, tok)
    rep.check("cli_put_through_swift", rc == 0, err)
    r = srv.request("GET", "/v1/objects/" + urllib.parse.quote(key, safe="/"), token=tok)
    obj = r.json
    rep.check("located_in_swift", r.status == 200 and obj["locations"][0]["store"] == "swift-at"
              and obj["url"]["url"].startswith(sw.url + "/" + sw.bucket + "/austria/"), r)
    names = sw.list_names()
    rep.check("store_holds_tenant_and_id_not_key", names == ["austria/" + obj["id"]], names)

    dst = os.path.join(work, "out.bin")
    rc, out, err = run_cli(["get", key, "-o", dst], srv.url, tok)
    rep.check("cli_get_through_swift", rc == 0 and open(dst, "rb").read() == data, err)

    url = obj["url"]["url"]
    status, _, body = http_get(url)
    rep.check("swift_accepts_loci_url", status == 200 and hashlib.sha256(body).hexdigest() == obj["sha256"], status)
    rep.eq("swift_refuses_tampered_signature", http_get(flip_signature(url))[0], 403)
    # another id: its last character changed (to "1" when it is "0", or it would be the same)
    other = obj["id"][:-1] + ("1" if obj["id"].endswith("0") else "0")
    rep.eq("swift_refuses_tampered_key", http_get(url.replace(obj["id"], other))[0], 403)
    rep.eq("swift_refuses_wrong_method", http_call("DELETE", url)[0], 403)
    short = srv.request("GET", "/v1/objects/" + urllib.parse.quote(key, safe="/") + "?expires=1", token=tok).json["url"]["url"]
    time.sleep(2.5)
    rep.eq("swift_refuses_expired", http_get(short)[0], 403)
    rep.eq("object_still_in_swift", http_get(url)[0], 200)

    # complete before the bytes are there: refused by loci, object stays pending
    start = srv.request("PUT", "/v1/objects/early", {"size": 4, "content_type": "text/plain"}, token=tok)
    t = start.json["targets"][0]
    c = srv.request("POST", "/v1/uploads/%s/complete" % start.json["upload_id"], token=tok)
    rep.eq("complete_before_upload_409", (c.status, c.error_code), (409, "conflict"))
    rep.eq("early_not_visible", srv.request("GET", "/v1/objects/early", token=tok).status, 404)
    # Swift refuses bytes that differ from the signed size or type
    hdr = dict(t["headers"], **{"content-length": "5"})
    rep.eq("swift_refuses_other_length", http_put(t["url"], b"12345", hdr)[0], 403)
    hdr = dict(t["headers"], **{"content-type": "text/html"})
    rep.eq("swift_refuses_other_type", http_put(t["url"], b"1234", hdr)[0], 403)
    rep.eq("swift_accepts_signed_put", http_put(t["url"], b"1234", t["headers"])[0], 200)
    c = srv.request("POST", "/v1/uploads/%s/complete" % start.json["upload_id"], token=tok)
    rep.eq("complete_after_upload_200", c.status, 200)

    # wrong size at the store: loci's signed HEAD sees it
    start = srv.request("PUT", "/v1/objects/short", {"size": 10}, token=tok)
    # upload 10 bytes under a different (unsigned) name is impossible with the URL, so write the
    # object through Swift's own API with other bytes, as a misbehaving client could not
    name = "austria/" + start.json["upload_id"]
    req = urllib.request.Request("%s/%s/%s" % (sw.account_url, sw.bucket, name), data=b"123", method="PUT",
                                 headers={"X-Auth-Token": sw.auth_token})
    urllib.request.urlopen(req, timeout=10)
    c = srv.request("POST", "/v1/uploads/%s/complete" % start.json["upload_id"], token=tok)
    rep.check("complete_wrong_size_409", c.status == 409 and "3 bytes" in c.json["error"]["message"], c)
    rep.eq("abort_204", srv.request("DELETE", "/v1/uploads/" + start.json["upload_id"], token=tok).status, 204)

    # overwrite and delete: the old copies are erased at Swift by loci's signed DELETEs
    rc, out, err = run_cli(["put", src, key], srv.url, tok)
    assert rc == 0, err
    rc, out, err = run_cli(["rm", key], srv.url, tok)
    rep.check("cli_rm", rc == 0, err)
    keep = ["austria/" + srv.request("GET", "/v1/objects/early", token=tok).json["id"]]
    deadline = time.time() + 15
    left = sw.list_names()
    while left != keep and time.time() < deadline:
        time.sleep(0.3)
        left = sw.list_names()
    rep.check("replaced_aborted_deleted_copies_erased", left == keep, (left, keep))


def main():
    try:
        with SwiftEnv() as sw, Server() as srv:
            rep.run("swift", run, sw, srv)
    except Exception as e:
        rep.check("environment", False, repr(e))
    rep.finish()


if __name__ == "__main__":
    main()
