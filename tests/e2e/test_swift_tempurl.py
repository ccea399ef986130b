"""End-to-end through OpenStack Swift's tempurl middleware, a real TempURL verifier: a `swift`
store (account URL, container, temp_url_key) in loci, a tenant allowed in CH, and through loci's
API and CLI: `loci put` (PUT TempURL, then loci's complete verifies with a signed HEAD), `loci
get` (bytes equal), `loci stat`, HEAD, `loci rm` (loci's eraser removes the copy at Swift with a
signed DELETE). Swift itself must refuse (401) a tampered signature, an expired URL, a GET URL
used for PUT or DELETE, a URL moved to another object and one signed with another key, each with
an accepted control. Also: download overrides (tempurl's filename/inline, signed by
tools/presign since loci's API has no override parameter yet) honoured by Swift; what TempURL
does not bind (Swift stores a PUT of other bytes, which loci's complete then refuses); complete
before the bytes are there refused (409); and why the swift provider has no multipart (tempurl
drops multipart-manifest=put and refuses X-Object-Manifest)."""

import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Reporter, Server, http_call, http_get, http_put, quote_key, run_cli  # noqa: E402
from swiftenv import SwiftEnv  # noqa: E402

rep = Reporter("swift_tempurl")
TOOL = os.path.join(os.environ.get("LOCI_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build", "rel")),
                    "tools", "presign")
STORE = "swift-ch"


def tool_sign(sw, method, name, key=None, expires=300, now=None, **extra):
    """A TempURL signed by loci's swift signer (tests/tools/presign): (url, headers)."""
    req = dict(provider="swift", endpoint=sw.account_url, bucket=sw.bucket, method=method, key=name,
               credentials={"temp_url_key": key or sw.tempurl_key}, now=int(now or time.time()), expires=expires)
    req.update(extra)
    p = subprocess.run([TOOL], input=(json.dumps(req) + "\n").encode(), capture_output=True, timeout=30)
    out = p.stdout.decode().rstrip("\n")
    if p.returncode != 0 or out.startswith("ERROR") or "\t" not in out:
        raise RuntimeError("presign: %r %r" % (out, p.stderr))
    url, _, headers = out.partition("\t")
    return url, json.loads(headers)


def flip_sig(url):
    i = url.index("temp_url_sig=") + len("temp_url_sig=")
    return url[:i] + ("0" if url[i] != "0" else "1") + url[i + 1:]


def swift_head(sw, name):
    """(status, headers) of an object through Swift's own API (X-Auth-Token)."""
    st, h, _ = sw.swift("HEAD", "/%s/%s" % (sw.bucket, urllib.parse.quote(name)))
    return st, {k.lower(): v for k, v in h.items()}


def obj_path(key):
    return "/v1/objects/" + quote_key(key)


def wait_names(sw, want, timeout=20):
    deadline = time.time() + timeout
    left = sorted(sw.list_names())
    while left != sorted(want) and time.time() < deadline:
        time.sleep(0.3)
        left = sorted(sw.list_names())
    return left


def run(sw, srv):
    r = srv.admin("PUT", "/v1/admin/stores/" + STORE, {
        "provider": "swift", "endpoint": sw.account_url, "bucket": sw.bucket, "country": "CH",
        "credentials": {"temp_url_key": sw.tempurl_key}})
    rep.eq("store_created", r.status, 201)
    r = srv.admin("GET", "/v1/admin/stores/" + STORE)
    rep.check("store_hides_key", r.status == 200 and sw.tempurl_key not in r.body.decode(), r)
    r = srv.admin("PUT", "/v1/admin/stores/swift-bad", {
        "provider": "swift", "endpoint": sw.url, "bucket": sw.bucket, "country": "CH",
        "credentials": {"temp_url_key": sw.tempurl_key}})
    rep.check("store_without_account_400", r.status == 400 and r.error_code == "bad_request"
              and "account URL" in r.body.decode(), r)
    tok = srv.make_tenant("ch", jurisdictions=["CH"])

    work = os.path.join(srv.data, "work")
    os.makedirs(work)
    src = os.path.join(work, "in.bin")
    data = os.urandom(256 * 1024 + 7)
    with open(src, "wb") as f:
        f.write(data)
    key = "patients/J\u00f6hn D\u0153+x~%/scan 1.bin"

    # put through the CLI: PUT TempURL, then complete (a signed HEAD compares Content-Length)
    rc, out, err = run_cli(["put", src, key, "--content-type", "application/x-loci-scan"], srv.url, tok)
    rep.check("cli_put", rc == 0, err)
    r = srv.request("GET", obj_path(key), token=tok)
    obj = r.json or {}
    url = (obj.get("url") or {}).get("url", "")
    rep.check("located_in_swift", r.status == 200 and obj["state"] == "committed" and obj["size"] == len(data)
              and obj["locations"][0]["store"] == STORE and obj["locations"][0]["state"] == "present", r)
    rep.check("url_is_tempurl", url.startswith("%s/%s/ch/" % (sw.account_url, sw.bucket)) and "temp_url_sig=" in url
              and "temp_url_expires=" in url, url)
    name = "ch/" + obj.get("id", "")
    names = sw.list_names()
    rep.check("store_holds_tenant_and_id_not_key", names == [name], names)
    st, h = swift_head(sw, name)
    rep.check("swift_stored_content_type", st == 200 and h.get("content-type") == "application/x-loci-scan"
              and h.get("content-length") == str(len(data)), (st, h))

    # get through the CLI and the URL itself
    dst = os.path.join(work, "out.bin")
    rc, out, err = run_cli(["get", key, "-o", dst], srv.url, tok)
    rep.check("cli_get_bytes_equal", rc == 0 and open(dst, "rb").read() == data, err)
    status, hdrs, body = http_get(url)
    rep.check("swift_accepts_loci_get", status == 200 and body == data, status)
    rep.check("default_disposition_names_id_not_key", status == 200 and obj.get("id", "?") in hdrs.get(
        "content-disposition", "") and "scan" not in hdrs.get("content-disposition", ""), hdrs)
    rc, out, err = run_cli(["stat", key], srv.url, tok)
    try:
        st_obj = json.loads(out)
    except ValueError:
        st_obj = {}
    rep.check("cli_stat", rc == 0 and st_obj.get("id") == obj.get("id") and st_obj.get("size") == len(data)
              and st_obj.get("locations", [{}])[0].get("store") == STORE, (rc, out[:300], err))
    r = srv.request("HEAD", obj_path(key), token=tok)
    rep.check("api_head", r.status == 200 and r.headers.get("x-loci-size") == str(len(data))
              and r.headers.get("x-loci-id") == obj.get("id"), (r, r.headers))
    head_url, _ = tool_sign(sw, "HEAD", name)
    status, hdrs, _ = http_call("HEAD", head_url)
    rep.check("signed_head_content_length", status == 200 and hdrs.get("content-length") == str(len(data)),
              (status, hdrs))
    status, hdrs, _ = http_get(srv.url + "/v1/fetch/" + quote_key(key), {"Authorization": "Bearer " + tok})
    loc = hdrs.get("location", "")
    rep.check("fetch_307_to_tempurl", status == 307 and loc.startswith(sw.account_url + "/")
              and http_get(loc)[2] == data, (status, loc))

    # Swift refuses what was not signed; each refusal has an accepted control just before it
    rep.eq("tampered_signature_401", http_get(flip_sig(url))[0], 401)
    other = "ch/other-object"
    st, _, _ = sw.swift("PUT", "/%s/%s" % (sw.bucket, other), data=b"another object")
    assert st == 201, st
    rep.eq("other_object_control_200", http_get(tool_sign(sw, "GET", other)[0])[0], 200)
    moved = url.replace("/" + name + "?", "/" + other + "?")
    rep.check("moved_to_other_object_401", moved != url and http_get(moved)[0] == 401, moved)
    rep.eq("get_url_used_for_put_401", http_put(url, b"overwritten", {})[0], 401)
    rep.eq("get_url_used_for_delete_401", http_call("DELETE", url)[0], 401)
    rep.check("object_unchanged_after_refusals", http_get(url)[2] == data, "object changed")
    rep.eq("tool_right_key_control_200", http_get(tool_sign(sw, "GET", name)[0])[0], 200)
    rep.eq("other_key_401", http_get(tool_sign(sw, "GET", name, key="not-the-temp-url-key")[0])[0], 401)
    past = int(time.time()) - 600
    rep.eq("signed_in_past_control_200", http_get(tool_sign(sw, "GET", name, now=past, expires=3600)[0])[0], 200)
    rep.eq("expired_tool_401", http_get(tool_sign(sw, "GET", name, now=past, expires=60)[0])[0], 401)
    short = srv.request("GET", obj_path(key) + "?expires=1", token=tok).json["url"]["url"]
    time.sleep(2.5)
    rep.eq("expired_loci_url_401", http_get(short)[0], 401)

    # download overrides (tempurl's filename= and inline, outside the signature)
    u, _ = tool_sign(sw, "GET", name, response_content_disposition='attachment; filename="J\u00f6hn scan.bin"')
    status, hdrs, body = http_get(u)
    cd = hdrs.get("content-disposition", "")
    rep.check("override_attachment_filename", status == 200 and body == data and cd.startswith("attachment;")
              and "filename*=UTF-8''J%C3%B6hn%20scan.bin" in cd, (status, cd))
    u, _ = tool_sign(sw, "GET", name, response_content_disposition="inline")
    status, hdrs, _ = http_get(u)
    rep.check("override_inline", status == 200 and hdrs.get("content-disposition") == "inline", (status, hdrs))
    u, _ = tool_sign(sw, "GET", name, response_content_disposition="inline; filename*=UTF-8''%E2%82%AC.pdf")
    status, hdrs, _ = http_get(u)
    cd = hdrs.get("content-disposition", "")
    rep.check("override_inline_filename", status == 200 and cd.startswith("inline;")
              and "filename*=UTF-8''%E2%82%AC.pdf" in cd, (status, cd))

    # complete before the bytes are there: refused, nothing visible; then upload and complete
    start = srv.request("PUT", "/v1/objects/early", {"size": 4, "content_type": "text/plain"}, token=tok)
    rep.eq("upload_started", start.status, 201)
    t = start.json["targets"][0]
    rep.eq("put_target_headers", t["headers"], {"content-type": "text/plain", "content-length": "4"})
    c = srv.request("POST", "/v1/uploads/%s/complete" % start.json["upload_id"], token=tok)
    rep.eq("complete_before_upload_409", (c.status, c.error_code), (409, "conflict"))
    rep.eq("early_not_visible", srv.request("GET", "/v1/objects/early", token=tok).status, 404)
    rep.eq("put_tempurl_201", http_put(t["url"], b"1234", t["headers"])[0], 201)
    c = srv.request("POST", "/v1/uploads/%s/complete" % start.json["upload_id"], token=tok)
    rep.eq("complete_after_upload_200", c.status, 200)
    early = srv.request("GET", "/v1/objects/early", token=tok).json
    st, h = swift_head(sw, "ch/" + early["id"])
    rep.check("put_content_type_stored", st == 200 and h.get("content-type") == "text/plain", (st, h))

    # TempURL binds no header: Swift stores other bytes; loci's complete (signed HEAD) refuses them
    start = srv.request("PUT", "/v1/objects/short", {"size": 10, "content_type": "text/plain"}, token=tok)
    t = start.json["targets"][0]
    status = http_put(t["url"], b"123", {"content-type": "text/html"})[0]
    rep.eq("tempurl_does_not_bind_length_or_type", status, 201)
    c = srv.request("POST", "/v1/uploads/%s/complete" % start.json["upload_id"], token=tok)
    rep.check("complete_wrong_size_409", c.status == 409 and "3 bytes" in c.json["error"]["message"], c)
    rep.eq("abort_204", srv.request("DELETE", "/v1/uploads/" + start.json["upload_id"], token=tok).status, 204)

    # the canonical path rule against the real middleware: names and a container needing
    # encoding (UTF-8, space, '+', '%', '~', "//", "./..", '?', '#'), every method
    odd_container = "loci \u00e9+%~ test"
    st, _, _ = sw.swift("PUT", "/" + urllib.parse.quote(odd_container, safe=""))
    assert st in (201, 202), "setup: container %d" % st
    odd_names = ["dir/a b+c~\u00e9%.txt", "x%2Fy%zz", "//lead/./../seg", "q?h#a&b=c;d", "\u4e2d\u6587/\U0001F600",
                 "t\u00e9st" * 100]
    ok, bad = 0, []
    for i, n in enumerate(odd_names):
        body = ("odd %d" % i).encode()
        r1 = http_put(tool_sign(sw, "PUT", n, bucket=odd_container)[0], body, {})[0]
        r2 = http_get(tool_sign(sw, "GET", n, bucket=odd_container)[0])
        r3 = http_call("HEAD", tool_sign(sw, "HEAD", n, bucket=odd_container)[0])
        st, _, listing = sw.swift("GET", "/%s?format=json&prefix=%s" % (urllib.parse.quote(odd_container, safe=""),
                                                                         urllib.parse.quote(n, safe="")))
        listed = [o["name"] for o in json.loads(listing or b"[]")]
        r4 = http_call("DELETE", tool_sign(sw, "DELETE", n, bucket=odd_container)[0])[0]
        if (r1, r2[0], r2[2], r3[0], r3[1].get("content-length"), r4) == (201, 200, body, 200, str(len(body)), 204) \
                and n in listed:
            ok += 1
        else:
            bad.append((n, r1, r2[0], r3[0], r4, listed))
    rep.check("odd_names_every_method", ok == len(odd_names), bad)
    sw.swift("DELETE", "/" + urllib.parse.quote(odd_container, safe=""))

    # no multipart through TempURLs: tempurl drops multipart-manifest=put (the manifest becomes a
    # plain object) and refuses DLO's X-Object-Manifest
    seg = b"s" * 1000
    seg_url, _ = tool_sign(sw, "PUT", "mp/obj/00000001")
    rep.eq("segment_put_201", http_put(seg_url, seg, {})[0], 201)
    manifest = json.dumps([{"path": "/%s/mp/obj/00000001" % sw.bucket, "etag": hashlib.md5(seg).hexdigest(),
                            "size_bytes": len(seg)}]).encode()
    man_url, _ = tool_sign(sw, "PUT", "mp/obj")
    rep.eq("manifest_put_201", http_put(man_url + "&multipart-manifest=put", manifest, {})[0], 201)
    st, h = swift_head(sw, "mp/obj")
    rep.check("slo_manifest_not_assembled", st == 200 and "x-static-large-object" not in h
              and h.get("content-length") == str(len(manifest)), (st, h))
    dlo_url, _ = tool_sign(sw, "PUT", "mp/dlo")
    rep.eq("dlo_manifest_header_400", http_put(dlo_url, b"", {"X-Object-Manifest": sw.bucket + "/mp/obj/"})[0], 400)
    for what, n in (("segment", "mp/obj/00000001"), ("manifest", "mp/obj"), ("other", other)):
        del_url, _ = tool_sign(sw, "DELETE", n)
        rep.eq("signed_delete_204_" + what, http_call("DELETE", del_url)[0], 204)

    # overwrite, then rm: loci's eraser removes both copies at Swift with signed DELETEs
    rc, out, err = run_cli(["put", src, key], srv.url, tok)
    rep.check("cli_put_again", rc == 0, err)
    second = srv.request("GET", obj_path(key), token=tok).json["id"]
    rc, out, err = run_cli(["rm", key], srv.url, tok)
    rep.check("cli_rm", rc == 0, err)
    rep.eq("removed_from_loci", srv.request("GET", obj_path(key), token=tok).status, 404)
    keep = ["ch/" + early["id"]]
    left = wait_names(sw, keep)
    rep.check("copies_erased_at_swift", left == keep and ("ch/" + second) not in left and name not in left,
              (left, keep))
    rep.eq("erased_object_gone_404", swift_head(sw, name)[0], 404)


def main():
    try:
        with SwiftEnv() as sw, Server() as srv:
            before = rep.failed
            rep.run("tempurl", run, sw, srv)
            if rep.failed > before:
                sys.stderr.write("--- proxy log (last 30 lines):\n%s" % sw.log_tail("proxy", 30))
                sys.stderr.write("--- loci log (last 30 lines):\n%s" % srv.read_log()[-4000:])
    except Exception as e:
        rep.check("environment", False, repr(e))
    rep.finish()


if __name__ == "__main__":
    main()
