"""Tenant isolation, adversarially: tenant B uses everything it can learn or guess about tenant
A - A's keys, object ids, upload ids, list cursors, local-store URLs signed for A, the Location
of A's fetch redirects, admin paths with its tenant token, A's token key id - and must never
read, list, change, or learn of the existence of A's objects.

"Learn of the existence" is checked byte for byte: every answer B gets about something of A's
is compared with the answer to the same request about something that never existed - status,
headers (all but Date and X-Request-Id) and body (all but the error's request_id). Afterwards
A's objects, upload and audit chain are exactly as they were.
"""

import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Reporter, Server, http_get  # noqa: E402
from reliability import build_request, normalized, raw_request  # noqa: E402

rep = Reporter("isolation")


def fake_id(real):
    """A well-formed id of this cell that was never handed out: real with its random tail changed."""
    tail = real[-6:]
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    other = "".join(alphabet[(alphabet.index(c) + 7) % 32] for c in tail)
    return real[:-6] + other


def send(srv, method, path, token=None, body=None, headers=()):
    h = list(headers)
    if token:
        h.append(("Authorization", "Bearer " + token))
    if body is not None:
        h.append(("Content-Type", "application/json"))
        body = json.dumps(body)
    return raw_request(srv.port, build_request(method, path, h, body), head_only=method == "HEAD")


def same(name, a, b):
    """B's answer about A's thing (a) must equal its answer about nothing (b)."""
    na, nb = normalized(a), normalized(b)
    return rep.check(name, na == nb and a.status is not None, "A's: %r\n    none: %r" % (na, nb))


def local_path(url):
    u = urllib.parse.urlsplit(url)
    return u.path + "?" + u.query


def setup(srv):
    tok_a = srv.demo_token
    tok_b = srv.make_tenant("tenantb")
    a = {"tok": tok_a}
    _, c = srv.put_object(tok_a, "iso/secret", b"A's secret bytes", tags={"owner": "a", "t": "1"}, attrs={"x": 1})
    a["obj"] = c.json["object"]
    for k in ("iso/dir/one", "iso/dir/two", "iso/zz"):
        srv.put_object(tok_a, k, b"a")
    up, _ = srv.put_object(tok_a, "iso/pending", b"pending!", upload=False)
    a["upload_id"] = up.json["upload_id"]
    a["put_url"] = up.json["targets"][0]["url"]
    a["put_headers"] = up.json["targets"][0]["headers"]
    a["cursor"] = srv.request("GET", "/v1/objects?limit=1", token=tok_a).json["next_cursor"]
    a["get_url"] = srv.request("GET", "/v1/objects/iso/secret", token=tok_a).json["url"]["url"]
    a["location"] = srv.request("GET", "/v1/fetch/iso/secret", token=tok_a).headers["location"]
    a["key_id"] = tok_a.split("_")[2]
    b = {"tok": tok_b}
    _, c = srv.put_object(tok_b, "own/b-object", b"B's bytes")
    b["obj"] = c.json["object"]
    b["get_url"] = srv.request("GET", "/v1/objects/own/b-object", token=tok_b).json["url"]["url"]
    b["cursor"] = None
    srv.put_object(tok_b, "own/b-2", b"x")
    b["cursor"] = srv.request("GET", "/v1/objects?limit=1", token=tok_b).json["next_cursor"]
    return a, b


def snapshot_a(srv, a):
    """A's view of its own things: objects (without URLs), its pending upload, its audit chain."""
    objs = srv.request("GET", "/v1/objects?prefix=iso/&limit=1000", token=a["tok"]).json["objects"]
    chain = srv.admin("GET", "/v1/admin/audit?tenant=demo&limit=100000").json["entries"]
    return objs, chain


def test_object_paths(srv, a, b):
    tb = b["tok"]
    never = "iso/never-existed"
    for verb, method, body, headers in [
        ("get", "GET", None, ()),
        ("head", "HEAD", None, ()),
        ("fetch", "GET", None, ()),
        ("patch", "PATCH", {"tags": {"set": {"t": "2"}}}, ()),
        ("patch_if_match", "PATCH", {"tags": {"set": {"t": "2"}}}, (("If-Match", "1"),)),
        ("delete", "DELETE", None, ()),
        ("delete_if_match", "DELETE", None, (("If-Match", "1"),)),
        ("get_expires", "GET", None, ()),
    ]:
        base = "/v1/fetch/" if verb == "fetch" else "/v1/objects/"
        q = "?expires=60&region=eu-west-1" if verb == "get_expires" else ""
        same("b_%s_a_key_like_none" % verb, send(srv, method, base + "iso/secret" + q, tb, body, headers),
             send(srv, method, base + never + q, tb, body, headers))
    # If-Match on a replace: A's key is as absent for B as one that never existed
    same("b_replace_if_match_a_key_like_none", send(srv, "PUT", "/v1/objects/iso/secret", tb, {"size": 1}, [("If-Match", "1")]),
         send(srv, "PUT", "/v1/objects/" + never, tb, {"size": 1}, [("If-Match", "1")]))
    # If-None-Match: * succeeds for B on A's key: B's namespace has no such object
    r1 = send(srv, "PUT", "/v1/objects/iso/secret", tb, {"size": 1}, [("If-None-Match", "*")])
    r2 = send(srv, "PUT", "/v1/objects/" + never, tb, {"size": 1}, [("If-None-Match", "*")])
    ok = r1.status == r2.status == 201 and r1.json["object"]["version"] == r2.json["object"]["version"] == 1
    rep.check("b_create_on_a_key_like_none", ok, (r1, r2))
    for r in (r1, r2):
        if r.status == 201:
            srv.request("DELETE", "/v1/uploads/" + r.json["upload_id"], token=tb)
    # A's object id used as a key
    same("b_get_a_object_id_as_key", send(srv, "GET", "/v1/objects/" + a["obj"]["id"], tb),
         send(srv, "GET", "/v1/objects/" + fake_id(a["obj"]["id"]), tb))


def test_upload_paths(srv, a, b):
    tb = b["tok"]
    for name, uid in (("pending_upload", a["upload_id"]), ("committed_object_id", a["obj"]["id"])):
        none = fake_id(uid)
        same("b_complete_a_%s_like_none" % name, send(srv, "POST", "/v1/uploads/%s/complete" % uid, tb),
             send(srv, "POST", "/v1/uploads/%s/complete" % none, tb))
        same("b_complete_a_%s_with_body_like_none" % name, send(srv, "POST", "/v1/uploads/%s/complete" % uid, tb, {}),
             send(srv, "POST", "/v1/uploads/%s/complete" % none, tb, {}))
        same("b_parts_a_%s_like_none" % name,
             send(srv, "POST", "/v1/uploads/%s/parts" % uid, tb, {"store": "local", "part_numbers": [1]}),
             send(srv, "POST", "/v1/uploads/%s/parts" % none, tb, {"store": "local", "part_numbers": [1]}))
        same("b_abort_a_%s_like_none" % name, send(srv, "DELETE", "/v1/uploads/" + uid, tb),
             send(srv, "DELETE", "/v1/uploads/" + none, tb))


def test_listing(srv, a, b):
    tb = b["tok"]
    for name, q_a, q_none in [
        ("prefix", "prefix=iso/", "prefix=never/"),
        ("prefix_delimiter", "prefix=iso/&delimiter=/", "prefix=never/&delimiter=/"),
        ("tag", "tag.owner=a", "tag.owner=nobody"),
        ("tag_and_prefix", "prefix=iso/&tag.t=1", "prefix=never/&tag.t=1"),
        ("start_at_a_key", "prefix=iso/s&limit=1", "prefix=never/s&limit=1"),
    ]:
        same("b_list_%s_like_none" % name, send(srv, "GET", "/v1/objects?" + q_a, tb),
             send(srv, "GET", "/v1/objects?" + q_none, tb))
    r = srv.request("GET", "/v1/objects?limit=1000", token=tb)
    keys = [o["key"] for o in r.json["objects"]]
    rep.check("b_full_list_only_its_own", r.status == 200 and keys and all(k.startswith("own/") for k in keys)
              and "iso/" not in r.body.decode(), keys)
    r = srv.request("GET", "/v1/objects?delimiter=/", token=tb)
    rep.eq("b_top_level_prefixes_only_its_own", r.json["common_prefixes"], ["own/"])
    # A's cursor: refused exactly like a forged one (not "belongs to another tenant")
    cur = a["cursor"]
    forged = cur[:-3] + ("AAA" if cur[-3:] != "AAA" else "BBB")
    q = "/v1/objects?limit=1&cursor="
    same("b_uses_a_cursor_like_forged", send(srv, "GET", q + urllib.parse.quote(cur, safe=""), tb),
         send(srv, "GET", q + urllib.parse.quote(forged, safe=""), tb))
    r = send(srv, "GET", q + urllib.parse.quote(cur, safe=""), tb)
    rep.eq("b_a_cursor_refused", (r.status, r.error_code), (400, "bad_request"))
    # and B's own cursor still works (the refusal above is about A's, not cursors in general)
    r = srv.request("GET", q + urllib.parse.quote(b["cursor"], safe=""), token=tb)
    rep.check("b_own_cursor_works", r.status == 200 and [o["key"] for o in r.json["objects"]] == ["own/b-object"], r)


def test_admin_paths(srv, a, b):
    tb = b["tok"]
    for name, method, path_a, path_none, body in [
        ("tenant_get", "GET", "/v1/admin/tenants/demo", "/v1/admin/tenants/nosuch", None),
        ("tenant_put", "PUT", "/v1/admin/tenants/demo", "/v1/admin/tenants/nosuch", {"jurisdictions": ["US"]}),
        ("tenant_delete", "DELETE", "/v1/admin/tenants/demo", "/v1/admin/tenants/nosuch", None),
        ("keys_list", "GET", "/v1/admin/tenants/demo/keys", "/v1/admin/tenants/nosuch/keys", None),
        ("key_create", "POST", "/v1/admin/tenants/demo/keys", "/v1/admin/tenants/nosuch/keys", {"scopes": ["read"]}),
        ("key_revoke", "DELETE", "/v1/admin/tenants/demo/keys/" + a["key_id"],
         "/v1/admin/tenants/nosuch/keys/aaaaaaaaaaaaaaaa", None),
        ("audit_chain", "GET", "/v1/admin/audit?tenant=demo", "/v1/admin/audit?tenant=nosuch", None),
        ("store", "GET", "/v1/admin/stores/local", "/v1/admin/stores/nosuch", None),
    ]:
        ra, rn = send(srv, method, path_a, tb, body), send(srv, method, path_none, tb, body)
        same("b_admin_%s_like_none" % name, ra, rn)
        rep.eq("b_admin_%s_forbidden" % name, (ra.status, ra.error_code), (403, "forbidden"))
    for path in ("/v1/admin/tenants", "/v1/admin/stores", "/v1/admin/audit", "/v1/admin/audit/chains",
                 "/v1/admin/audit/verify", "/v1/admin/audit/checkpoints"):
        r = send(srv, "GET", path, tb)
        rep.check("b_admin_list_forbidden" + path.replace("/v1/admin", "").replace("/", "_"),
                  r.status == 403 and b"demo" not in r.body and b"iso/" not in r.body, r)


def test_tokens(srv, a, b):
    """Guessed tokens: A's key id with B's secret is refused exactly like an unknown key id."""
    parts = b["tok"].split("_")
    with_a_id = "_".join([parts[0], parts[1], a["key_id"], parts[3]])
    with_none = "_".join([parts[0], parts[1], "a" * len(a["key_id"]), parts[3]])
    same("a_key_id_with_b_secret_like_unknown", send(srv, "GET", "/v1/objects/iso/secret", with_a_id),
         send(srv, "GET", "/v1/objects/iso/secret", with_none))


def test_local_urls(srv, a, b):
    """Local-store URLs: a signed URL is a capability for one object, one method, until it
    expires. B cannot turn A's URL (or its own) into access to anything else of A's."""
    a_name = "demo/" + a["obj"]["id"]
    b_name = "tenantb/" + b["obj"]["id"]
    none_name = "demo/" + fake_id(a["obj"]["id"])
    # B's own URL pointed at A's object, and at an object that does not exist
    same("b_url_retargeted_to_a_like_none", raw_request(srv.port, build_request("GET", local_path(b["get_url"].replace(
        b_name, a_name)))), raw_request(srv.port, build_request("GET", local_path(b["get_url"].replace(b_name, none_name)))))
    same("b_url_other_tenant_segment_like_none", raw_request(srv.port, build_request("GET", local_path(b["get_url"].replace(
        "/tenantb/", "/demo/")))), raw_request(srv.port, build_request("GET", local_path(b["get_url"].replace(
            "/tenantb/", "/nosuch/")))))
    # A's URLs pointed at B's object, at A's pending upload, at nothing
    pending_name = "demo/" + a["upload_id"]
    r_pending = raw_request(srv.port, build_request("GET", local_path(a["get_url"].replace(a_name, pending_name))))
    r_none = raw_request(srv.port, build_request("GET", local_path(a["get_url"].replace(a_name, none_name))))
    same("a_url_retargeted_to_other_a_object_like_none", r_pending, r_none)
    rep.eq("a_url_retargeted_refused", (r_none.status, r_none.error_code), (403, "forbidden"))
    # A's GET URL and fetch Location used for other methods
    for name, url in (("get_url", a["get_url"]), ("fetch_location", a["location"])):
        for method in ("DELETE", "PUT", "HEAD"):
            body = b"x" if method == "PUT" else None
            r = raw_request(srv.port, build_request(method, local_path(url), [("Content-Type", "text/plain")] if body else [],
                                                    body), head_only=method == "HEAD")
            rep.eq("a_%s_as_%s_refused" % (name, method.lower()), r.status, 403)
    # A's PUT URL cannot be stretched to another object or a longer life
    for name, url in (("other_object", a["put_url"].replace(a["upload_id"], fake_id(a["upload_id"]))),
                      ("longer_life", a["put_url"].replace("X-Amz-Expires=", "X-Amz-Expires=9"))):
        r = raw_request(srv.port, build_request("PUT", local_path(url), list(a["put_headers"].items()), b"x" * int(
            a["put_headers"]["content-length"])))
        rep.eq("a_put_url_%s_refused" % name, r.status, 403)
    # the untouched URLs still serve exactly their own bytes
    rep.eq("a_url_serves_a_bytes", http_get(a["get_url"])[2], b"A's secret bytes")
    rep.eq("b_url_serves_b_bytes", http_get(b["get_url"])[2], b"B's bytes")


def test_same_key_both_tenants(srv, a, b):
    tb = b["tok"]
    _, c = srv.put_object(tb, "iso/secret", b"B's own bytes under A's key", tags={"owner": "b"})
    rep.check("b_creates_same_key", c.status == 200 and c.json["object"]["version"] == 1, c)
    ra = srv.request("GET", "/v1/objects/iso/secret", token=a["tok"])
    rb = srv.request("GET", "/v1/objects/iso/secret", token=tb)
    rep.check("same_key_separate_objects", ra.json["id"] == a["obj"]["id"] and rb.json["id"] != a["obj"]["id"]
              and http_get(ra.json["url"]["url"])[2] == b"A's secret bytes"
              and http_get(rb.json["url"]["url"])[2] == b"B's own bytes under A's key", (ra, rb))
    r = srv.request("GET", "/v1/objects?tag.owner=a", token=tb)
    rep.eq("b_tag_search_sees_only_its_own", r.json["objects"], [])
    rep.eq("b_deletes_its_own", srv.request("DELETE", "/v1/objects/iso/secret", token=tb).status, 204)
    ra = srv.request("GET", "/v1/objects/iso/secret", token=a["tok"])
    rep.check("a_object_survives_b_delete", ra.status == 200 and ra.json["id"] == a["obj"]["id"], ra)


def test_messages_name_nothing_of_a(srv, a, b):
    """No answer B gets mentions A's tenant id, keys or ids."""
    tb = b["tok"]
    leaks = []
    for method, path, body in [
        ("GET", "/v1/objects/iso/secret", None), ("PATCH", "/v1/objects/iso/secret", {"tags": {"set": {"a": "b"}}}),
        ("DELETE", "/v1/objects/iso/secret", None), ("POST", "/v1/uploads/%s/complete" % a["upload_id"], None),
        ("DELETE", "/v1/uploads/" + a["upload_id"], None), ("GET", "/v1/objects?prefix=iso/", None),
        ("GET", "/v1/admin/tenants/demo", None), ("GET", "/v1/objects?cursor=" + urllib.parse.quote(a["cursor"], safe=""), None),
    ]:
        r = send(srv, method, path, tb, body)
        text = r.raw.decode("latin-1")
        for secret in ("demo", a["obj"]["id"], a["upload_id"], "iso/secret", a["key_id"]):
            if secret in text and secret not in path:
                leaks.append((method, path, secret))
    rep.check("b_answers_name_nothing_of_a", not leaks, leaks)


def main():
    srv = Server()
    try:
        srv.start()
        a, b = setup(srv)
        before = snapshot_a(srv, a)
        rep.run("object_paths", test_object_paths, srv, a, b)
        rep.run("upload_paths", test_upload_paths, srv, a, b)
        rep.run("listing", test_listing, srv, a, b)
        rep.run("admin_paths", test_admin_paths, srv, a, b)
        rep.run("tokens", test_tokens, srv, a, b)
        rep.run("local_urls", test_local_urls, srv, a, b)
        rep.run("messages", test_messages_name_nothing_of_a, srv, a, b)
        after = snapshot_a(srv, a)
        rep.check("a_objects_unchanged", before[0] == after[0], (before[0], after[0]))
        rep.check("a_audit_chain_unchanged_by_b", before[1] == after[1], (len(before[1]), len(after[1])))
        r = srv.request("POST", "/v1/uploads/%s/complete" % a["upload_id"], token=a["tok"])
        rep.eq("a_upload_still_pending_for_a", r.status, 409)  # pending, bytes never sent: A can still finish it
        rep.eq("a_upload_abort_by_a", srv.request("DELETE", "/v1/uploads/" + a["upload_id"], token=a["tok"]).status, 204)
        rep.run("same_key_both_tenants", test_same_key_both_tenants, srv, a, b)
        rep.eq("graceful_stop", srv.stop(), 0)
    finally:
        srv.cleanup()
    rep.finish()


if __name__ == "__main__":
    main()
