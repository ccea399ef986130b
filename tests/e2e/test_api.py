"""End-to-end tests of the v1 API against the real binary on the embedded default
(SQLite + local store): lifecycle with curl, search, pagination, conditions, every error
code with nothing written, tenant isolation, local-store signatures, logs, shutdown."""

import base64
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (ADMIN_TOKEN, Reporter, Server, db_connect, http_call, http_get, http_put, quote_key)  # noqa: E402

rep = Reporter("api")


def db_dump(srv):
    """Every row of every table, for "nothing was written" comparisons."""
    return harness.db_dump(srv.data)


def curl(*args):
    p = subprocess.run(["curl", "-sS"] + list(args), capture_output=True, timeout=30)
    return p.returncode, p.stdout, p.stderr.decode()


def test_health(srv):
    rep.eq("healthz", srv.request("GET", "/healthz").status, 200)
    r = srv.request("GET", "/readyz")
    rep.eq("readyz", (r.status, r.json), (200, {"status": "ready"}))
    r = srv.request("GET", "/metrics")
    rep.check("metrics_text", r.status == 200 and "loci_http_requests_total{" in r.body.decode()
              and "loci_http_request_duration_seconds_bucket" in r.body.decode()
              and "loci_db_commits_total" in r.body.decode()
              and "loci_http_requests_in_flight" in r.body.decode(), r.body[:500])
    # the backend's own counters: SQLite's checkpointer (the WAL's length, what is not copied yet)
    body = r.body.decode()
    sq = ("loci_sqlite_checkpoints_total ", "loci_sqlite_wal_restarts_total ", "loci_sqlite_wal_pages ",
          "loci_sqlite_wal_pages_pending ")
    rep.eq("metrics_backend", [any(line.startswith(n) for line in body.splitlines()) for n in sq],
           [not harness.PG] * len(sq))
    rep.check("request_id_header", len(r.headers.get("x-request-id", "")) == 16, r.headers)
    rep.check("demo_token_written", srv.demo_token is not None and srv.demo_token.startswith("lk_eu1_"), srv.demo_token)
    mode = os.stat(os.path.join(srv.data, "master.key")).st_mode & 0o777
    rep.eq("master_key_mode_0600", oct(mode), oct(0o600))


def test_lifecycle_curl(srv, tok):
    data = b"hello, loci\n" * 100
    key = "calls/2026/11/rec 1+x~%.opus"
    path = "/v1/objects/" + quote_key(key)
    body = json.dumps({"size": len(data), "content_type": "audio/opus", "sha256": hashlib.sha256(data).hexdigest(),
                       "tags": {"customer": "acme", "kind": "voicemail"}, "attrs": {"duration_ms": 31200}})
    rc, out, err = curl("-X", "PUT", "-H", "Authorization: Bearer " + tok, "-H", "Content-Type: application/json",
                        "--data-binary", body, "-w", "\n%{http_code}", srv.url + path)
    text, code = out.decode().rsplit("\n", 1)
    start = json.loads(text)
    rep.eq("curl_start_201", code, "201")
    rep.eq("curl_start_pending", (start["object"]["state"], start["object"]["key"], start["object"]["version"]),
           ("pending", key, 1))
    t = start["targets"][0]
    rep.check("target_shape", t["method"] == "PUT" and t["store"] == "local" and "X-Amz-Signature=" in t["url"]
              and t["headers"] == {"content-type": "audio/opus", "content-length": str(len(data)),
                                     "x-amz-checksum-sha256": base64.b64encode(hashlib.sha256(data).digest()).decode()}, t)
    rep.check("object_name_hides_key", "calls" not in t["url"] and start["upload_id"] in t["url"], t["url"])
    # HEAD/GET on the key before completion: not visible yet
    rep.eq("pending_not_visible", srv.request("GET", path, token=tok).status, 404)
    hdr = []
    for k, v in t["headers"].items():
        hdr += ["-H", "%s: %s" % (k, v)]
    tmp = os.path.join(srv.data, "upload.bin")
    open(tmp, "wb").write(data)
    rc, out, err = curl("-X", "PUT", "--data-binary", "@" + tmp, "-w", "%{http_code}", *hdr, t["url"])
    rep.eq("curl_put_bytes_200", out.decode()[-3:], "200")
    rc, out, err = curl("-X", "POST", "-H", "Authorization: Bearer " + tok, "-w", "\n%{http_code}",
                        srv.url + "/v1/uploads/%s/complete" % start["upload_id"])
    text, code = out.decode().rsplit("\n", 1)
    rep.eq("curl_complete_200", code, "200")
    obj = json.loads(text)["object"]
    rep.eq("committed", (obj["state"], obj["version"], obj["size"], obj["locations"][0]["state"]),
           ("committed", 1, len(data), "present"))
    r = srv.request("GET", path, token=tok)
    o = r.json
    rep.check("get_object", r.status == 200 and o["tags"] == {"customer": "acme", "kind": "voicemail"}
              and o["attrs"] == {"duration_ms": 31200} and o["url"]["method"] == "GET"
              and o["locations"] == [{"store": "local", "region": "local", "country": "DE", "state": "present"}], o)
    status, _, got = http_get(o["url"]["url"])
    rep.eq("signed_get_bytes", (status, got == data), (200, True))
    rc, out, err = curl("-L", "-H", "Authorization: Bearer " + tok, srv.url + "/v1/fetch/" + quote_key(key))
    rep.check("curl_fetch_follows_307", rc == 0 and out == data, err)
    r = srv.request("GET", "/v1/fetch/" + quote_key(key), token=tok)
    rep.check("fetch_307", r.status == 307 and "X-Amz-Signature=" in r.headers.get("location", ""), r)
    r = srv.request("HEAD", path, token=tok)
    rep.check("head", r.status == 200 and r.headers.get("x-loci-size") == str(len(data)) and r.body == b""
              and r.headers.get("etag") == '"1"', r.headers)
    r = srv.request("PATCH", path, {"tags": {"set": {"kind": "recording"}, "remove": ["customer"]}}, token=tok)
    rep.check("patch_tags", r.status == 200 and r.json["object"]["tags"] == {"kind": "recording"}
              and r.json["object"]["version"] == 2, r)
    r = srv.request("PATCH", path, {"attrs": {"lang": "de"}}, token=tok, headers={"If-Match": "2"})
    rep.check("patch_attrs_if_match", r.status == 200 and r.json["object"]["attrs"] == {"lang": "de"}
              and r.json["object"]["version"] == 3, r)
    r = srv.request("GET", "/v1/objects?prefix=" + urllib.parse.quote("calls/2026/", safe=""), token=tok)
    rep.check("list_finds_it", r.status == 200 and [x["key"] for x in r.json["objects"]] == [key], r)
    blob = os.path.join(srv.data, "blobs", "local", "demo", obj["id"])
    rep.check("blob_on_disk", open(blob, "rb").read() == data, blob)
    rep.eq("delete_204", srv.request("DELETE", path, token=tok).status, 204)
    rep.eq("deleted_404", srv.request("GET", path, token=tok).status, 404)
    rep.eq("deleted_head_404", srv.request("HEAD", path, token=tok).status, 404)
    deadline = time.time() + 10
    while os.path.exists(blob) and time.time() < deadline:
        time.sleep(0.1)
    rep.check("deleted_copy_erased", not os.path.exists(blob), blob)


def test_search(srv, tok):
    objs = {
        "img/2026/a.png": {"shard": "1", "kind": "pic"},
        "img/2026/b.png": {"shard": "2", "kind": "pic"},
        "img/2025/c.png": {"shard": "1", "kind": "pic"},
        "img/top.png": {"shard": "1", "kind": "doc"},
        "doc/readme": {"shard": "1", "kind": "pic"},
    }
    for k, tags in objs.items():
        _, c = srv.put_object(tok, k, b"x", tags=tags)
        assert c.status == 200, c

    def keys(q):
        r = srv.request("GET", "/v1/objects?" + q, token=tok)
        assert r.status == 200, r
        return [o["key"] for o in r.json["objects"]], r.json["common_prefixes"]

    rep.eq("search_two_tags", keys("tag.shard=1&tag.kind=pic")[0], ["doc/readme", "img/2025/c.png", "img/2026/a.png"])
    rep.eq("search_prefix_and_tag", keys("prefix=img/&tag.shard=1&tag.kind=pic")[0], ["img/2025/c.png", "img/2026/a.png"])
    rep.eq("search_prefix_only", keys("prefix=img/2026/")[0], ["img/2026/a.png", "img/2026/b.png"])
    rep.eq("delimiter_top", keys("delimiter=/"), ([], ["doc/", "img/"]))
    rep.eq("delimiter_under_prefix", keys("prefix=img/&delimiter=/"), (["img/top.png"], ["img/2025/", "img/2026/"]))
    rep.eq("delimiter_with_tag", keys("prefix=img/&delimiter=/&tag.kind=doc"), (["img/top.png"], []))
    rep.eq("no_match", keys("tag.shard=9"), ([], []))
    # delimiter pages: limit counts prefixes and objects together
    r = srv.request("GET", "/v1/objects?prefix=img/&delimiter=/&limit=2", token=tok)
    page1 = (r.json["common_prefixes"], [o["key"] for o in r.json["objects"]])
    r2 = srv.request("GET", "/v1/objects?prefix=img/&delimiter=/&limit=2&cursor=" +
                     urllib.parse.quote(r.json["next_cursor"] or "", safe=""), token=tok)
    rep.check("delimiter_pagination", page1 == (["img/2025/", "img/2026/"], []) and r2.json["objects"][0]["key"] ==
              "img/top.png" and r2.json["next_cursor"] is None, (page1, r2))
    for k in objs:
        srv.request("DELETE", "/v1/objects/" + quote_key(k), token=tok)


def test_search_hostile_tags(srv, tok, n=60):
    """Searches with two and three tag filters against a model, on tags whose keys and values
    hold the characters of the JSON the filters are checked against (quotes, backslashes,
    commas, colons, braces, keys that are prefixes of others, non-ASCII), before and after
    PATCHes change them: each search answers exactly the objects that have every tag."""
    import random
    rng = random.Random(7)
    alphabet = ['a', 'b', '"', '\\', ',', ':', '{', '}', 'é', ' ', 'ab', 'a"', 'a\\"', '":"', '","']
    keys_k = ["k", "kk", "k\"", "\"k", "k,", "{k", "k:"]

    def rnd_tags():
        return {k: "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 3)))
                for k in rng.sample(keys_k, rng.randint(1, 4))}
    model = {}
    for i in range(n):
        key = "ht/%03d" % i
        model[key] = rnd_tags()
        _, c = srv.put_object(tok, key, b"", tags=model[key])
        assert c is not None and c.status == 200, c

    def search(filters, paged=False):
        """One page of 1000 under the prefix, or (paged) pages of 3 with no prefix: the
        cursor's exclusive lower bound and no upper bound."""
        q = "&".join("tag.%s=%s" % (urllib.parse.quote(k, safe=""), urllib.parse.quote(v, safe=""))
                     for k, v in filters) + ("&limit=3" if paged else "&prefix=ht/&limit=1000")
        keys, cursor = [], None
        for _ in range(100):
            r = srv.request("GET", "/v1/objects?" + q + ("&cursor=" + urllib.parse.quote(cursor, safe="") if cursor else ""),
                            token=tok)
            if r.status != 200:
                return r.status, r.json
            keys += [o["key"] for o in r.json["objects"] if o["key"].startswith("ht/")]  # (other tests' objects)
            cursor = r.json.get("next_cursor")
            if not cursor:
                break
        return 200, keys

    def check_all(label):
        bad = []
        for _ in range(150):
            # filters drawn from real tags (so that most searches match something) and random ones
            src = model[rng.choice(sorted(model))]
            filters = {}
            for k in rng.sample(sorted(src), min(len(src), rng.randint(2, 3))):
                filters[k] = src[k] if rng.random() < 0.8 else rng.choice(alphabet)
            if len(filters) < 2:
                filters[rng.choice([k for k in keys_k if k not in filters])] = rng.choice(alphabet)
            want = sorted(k for k, t in model.items() if all(t.get(fk) == fv for fk, fv in filters.items()))
            paged = rng.random() < 0.3
            got = search(sorted(filters.items()), paged)
            if got != (200, want):
                bad.append((sorted(filters.items()), paged, got, want))
        rep.check("multi_tag_search_matches_model_" + label, not bad, bad[:3])
    check_all("after_put")
    for key in rng.sample(sorted(model), n // 2):
        new = rnd_tags()
        body = {"tags": {"set": new, "remove": [k for k in model[key] if k not in new]}}
        r = srv.request("PATCH", "/v1/objects/" + quote_key(key), body, token=tok)
        assert r.status == 200, r
        model[key] = new
    check_all("after_patch")
    for key in model:
        srv.request("DELETE", "/v1/objects/" + quote_key(key), token=tok)


def test_pagination(srv, tok, n=2500):
    """2,500 objects listed in pages: each exactly once, in order."""
    keys = ["page/%05d" % i for i in range(n)]
    errors = []

    def worker(part):
        import harness
        s = harness.Server.__new__(harness.Server)
        s.port, s._conn = srv.port, None
        for k in part:
            _, c = Server.put_object(s, tok, k, b"", tags={"par": str(int(k[-5:]) % 2)})
            if c is None or c.status != 200:
                errors.append((k, c))
        if s._conn:
            s._conn.close()

    threads = [threading.Thread(target=worker, args=(keys[i::4],)) for i in range(4)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rep.check("created_%d_objects" % n, not errors, errors[:3])
    sys.stderr.write("created %d objects in %.1f s\n" % (n, time.time() - t0))
    for limit, query, expect in ((100, "prefix=page/", keys), (1000, "prefix=page/", keys),
                                 (37, "prefix=page/&tag.par=1", [k for k in keys if int(k[-5:]) % 2 == 1])):
        seen, cursor, pages = [], None, 0
        while True:
            q = "/v1/objects?%s&limit=%d" % (query, limit)
            if cursor:
                q += "&cursor=" + urllib.parse.quote(cursor, safe="")
            r = srv.request("GET", q, token=tok)
            if r.status != 200:
                break
            seen += [o["key"] for o in r.json["objects"]]
            pages += 1
            cursor = r.json["next_cursor"]
            if not cursor or pages > 200:
                break
        rep.check("pages_limit_%d_%s_each_once" % (limit, "tag" if "tag" in query else "all"), seen == expect,
                  "got %d keys (%d unique), want %d" % (len(seen), len(set(seen)), len(expect)))
        # a full last page (2,500 in pages of 100) carries no cursor to an empty one
        rep.eq("pages_limit_%d_%s_no_empty_page" % (limit, "tag" if "tag" in query else "all"), pages,
               -(-len(expect) // limit))


def test_conditions(srv, tok):
    key = "cond/obj"
    path = "/v1/objects/" + key
    _, c = srv.put_object(tok, key, b"v1")
    v1 = c.json["object"]
    r, _ = srv.put_object(tok, key, b"v1 again", headers={"If-None-Match": "*"})
    rep.eq("if_none_match_existing_412", (r.status, r.error_code), (412, "precondition_failed"))
    r, _ = srv.put_object(tok, key, b"v2", headers={"If-Match": "7"})
    rep.eq("if_match_wrong_412", r.status, 412)
    r, c = srv.put_object(tok, key, b"v2", headers={"If-Match": '"1"'})
    rep.check("if_match_right", r.status == 201 and c.status == 200 and c.json["object"]["version"] == 2
              and c.json["object"]["id"] != v1["id"], (r, c))
    old_blob = os.path.join(srv.data, "blobs", "local", "demo", v1["id"])
    deadline = time.time() + 10
    while os.path.exists(old_blob) and time.time() < deadline:
        time.sleep(0.1)
    rep.check("replaced_copy_erased", not os.path.exists(old_blob), old_blob)
    status, _, got = http_get(srv.request("GET", path, token=tok).json["url"]["url"])
    rep.eq("overwrite_serves_new_bytes", got, b"v2")
    # two racing creates with If-None-Match: the second complete loses
    a, _ = srv.put_object(tok, "cond/new", b"a", headers={"If-None-Match": "*"}, complete=False)
    b, _ = srv.put_object(tok, "cond/new", b"b", headers={"If-None-Match": "*"}, complete=False)
    ca = srv.request("POST", "/v1/uploads/%s/complete" % a.json["upload_id"], token=tok)
    cb = srv.request("POST", "/v1/uploads/%s/complete" % b.json["upload_id"], token=tok)
    rep.eq("racing_creates", (ca.status, cb.status, cb.error_code), (200, 412, "precondition_failed"))
    # a PUT with If-Match whose object changes before complete
    a, _ = srv.put_object(tok, key, b"v3", headers={"If-Match": "2"}, complete=False)
    srv.request("PATCH", path, {"tags": {"set": {"x": "y"}}}, token=tok)
    ca = srv.request("POST", "/v1/uploads/%s/complete" % a.json["upload_id"], token=tok)
    rep.eq("if_match_rechecked_at_complete", ca.status, 412)
    rep.eq("abort_204", srv.request("DELETE", "/v1/uploads/" + a.json["upload_id"], token=tok).status, 204)
    rep.eq("abort_again_404", srv.request("DELETE", "/v1/uploads/" + a.json["upload_id"], token=tok).status, 404)
    rep.eq("patch_stale_412", srv.request("PATCH", path, {"tags": {"set": {"x": "z"}}}, token=tok,
                                          headers={"If-Match": "2"}).status, 412)
    rep.eq("delete_stale_412", srv.request("DELETE", path, token=tok, headers={"If-Match": "1"}).status, 412)
    rep.eq("delete_current_204", srv.request("DELETE", path, token=tok, headers={"If-Match": "3"}).status, 204)
    srv.request("DELETE", "/v1/objects/cond/new", token=tok)


def test_errors(srv, tok):
    """Every error code, and the database unchanged by each failing request."""
    ro = srv.make_tenant("readonly", scopes=("read",))
    ro_tok = ro
    _, c = srv.put_object(tok, "err/existing", b"abc")
    assert c.status == 200
    pending, _ = srv.put_object(tok, "err/pending", b"abcdef", upload=False)
    # make an object whose only store is offline (for 503)
    srv.make_local_store("dying", country="FR")
    srv.admin("PUT", "/v1/admin/stores/local", {"provider": "local", "country": "DE", "status": "readonly"})
    _, c = srv.put_object(tok, "err/on-dying", b"x")
    srv.admin("PUT", "/v1/admin/stores/dying", {"provider": "local", "country": "FR", "status": "offline"})
    srv.admin("PUT", "/v1/admin/stores/local", {"provider": "local", "country": "DE", "status": "active"})
    other_cell = "lk_us1_aaaaaaaaaaaaaaaa_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    # the background eraser works on the queue earlier tests filled: let it finish first, so the
    # before/after dumps below see only what each request did
    deadline = time.time() + 20
    while db_dump(srv).get("erasures") and time.time() < deadline:
        time.sleep(0.1)
    rep.check("erasure_queue_drains", not db_dump(srv).get("erasures"))
    big = {"size": 1, "attrs": {"pad": "x" * 70000}}
    cases = [
        ("bad_json", "PUT", "/v1/objects/err/x", None, b"{not json", {"Content-Type": "application/json"}, tok, 400, "bad_request"),
        ("unknown_field", "PUT", "/v1/objects/err/x", {"size": 1, "colour": "red"}, None, None, tok, 400, "bad_request"),
        ("negative_size", "PUT", "/v1/objects/err/x", {"size": -1}, None, None, tok, 400, "bad_request"),
        ("key_too_long", "PUT", "/v1/objects/" + "k" * 1025, {"size": 1}, None, None, tok, 400, "bad_request"),
        ("nul_in_key", "GET", "/v1/objects/a%00b", None, None, None, tok, 400, "bad_request"),
        ("no_token", "GET", "/v1/objects/err/existing", None, None, None, None, 401, "unauthorized"),
        ("bad_token", "GET", "/v1/objects/err/existing", None, None, None, tok[:-1] + ("a" if tok[-1] != "a" else "b"), 401,
         "unauthorized"),
        ("read_token_writes", "DELETE", "/v1/objects/err/existing", None, None, None, ro_tok, 403, "forbidden"),
        ("tenant_on_admin", "GET", "/v1/admin/tenants", None, None, None, tok, 403, "forbidden"),
        ("admin_on_objects", "GET", "/v1/objects/err/existing", None, None, None, ADMIN_TOKEN, 403, "forbidden"),
        ("not_found", "GET", "/v1/objects/err/none", None, None, None, tok, 404, "not_found"),
        ("no_endpoint", "GET", "/v2/nothing", None, None, None, tok, 404, "not_found"),
        ("method_not_allowed", "POST", "/v1/objects/err/existing", None, None, None, tok, 405, "method_not_allowed"),
        ("complete_before_upload", "POST", "/v1/uploads/%s/complete" % pending.json["upload_id"], None, None, None, tok, 409,
         "conflict"),
        ("if_none_match", "PUT", "/v1/objects/err/existing", {"size": 1}, None, {"If-None-Match": "*"}, tok, 412,
         "precondition_failed"),
        ("body_too_large", "PUT", "/v1/objects/err/x", big, None, None, tok, 413, "payload_too_large"),
        ("wrong_content_type", "PUT", "/v1/objects/err/x", None, b'{"size":1}', {"Content-Type": "text/plain"}, tok, 415,
         "unsupported_media_type"),
        ("headers_too_large", "GET", "/v1/objects/err/existing", None, None, {"X-Pad": "p" * 20000}, tok, 431,
         "headers_too_large"),
        ("residency", "PUT", "/v1/objects/err/x", {"size": 1, "jurisdiction": "US"}, None, None, tok, 403,
         "residency_violation"),
        ("no_eligible_store", "PUT", "/v1/objects/err/x", {"size": 1, "copies": 3}, None, None, tok, 409, "no_eligible_store"),
        ("wrong_cell", "GET", "/v1/objects/err/existing", None, None, None, other_cell, 421, "wrong_cell"),
        ("unavailable_copy", "GET", "/v1/objects/err/on-dying", None, None, None, tok, 503, "unavailable"),
        ("bad_cursor", "GET", "/v1/objects?cursor=AAAA", None, None, None, tok, 400, "bad_request"),
        ("expires_too_long", "GET", "/v1/objects/err/existing?expires=999999999", None, None, None, tok, 400, "bad_request"),
        ("bad_store_body", "PUT", "/v1/admin/stores/bad", {"provider": "s3", "country": "XX"}, None, None, ADMIN_TOKEN, 400,
         "bad_request"),
        ("store_in_use", "DELETE", "/v1/admin/stores/local", None, None, None, ADMIN_TOKEN, 409, "conflict"),
    ]
    for name, method, path, body, raw, headers, token, status, code in cases:
        before = db_dump(srv)
        r = srv.request(method, path, body=body, raw_body=raw, token=token, headers=headers)
        after = db_dump(srv)
        ok = r.status == status and r.error_code == code and len(r.json["error"]["request_id"]) == 16 \
            and r.json["error"]["message"]
        rep.check("error_%s_%d_%s" % (name, status, code), ok, r)
        rep.check("error_%s_wrote_nothing" % name, before == after,
                  {k: (len(before[k]), len(after.get(k, []))) for k in before if before[k] != after.get(k)})
    rep.eq("server_still_serves", srv.request("GET", "/readyz").status, 200)


def test_isolation(srv, tok_a):
    tok_b = srv.make_tenant("tenantb")
    _, c = srv.put_object(tok_a, "iso/secret", b"A's bytes", tags={"t": "1"})
    a_obj = c.json["object"]
    up, _ = srv.put_object(tok_a, "iso/pending", b"pending", upload=False)
    r = srv.request("GET", "/v1/objects?prefix=iso/", token=tok_a)
    a_cursor = srv.request("GET", "/v1/objects?limit=1", token=tok_a).json["next_cursor"]
    missing = srv.request("GET", "/v1/objects/iso/never-existed", token=tok_b)
    for name, method, path, body in [
        ("get", "GET", "/v1/objects/iso/secret", None),
        ("head", "HEAD", "/v1/objects/iso/secret", None),
        ("fetch", "GET", "/v1/fetch/iso/secret", None),
        ("patch", "PATCH", "/v1/objects/iso/secret", {"tags": {"set": {"t": "2"}}}),
        ("delete", "DELETE", "/v1/objects/iso/secret", None),
        ("complete", "POST", "/v1/uploads/%s/complete" % up.json["upload_id"], None),
        ("abort", "DELETE", "/v1/uploads/%s" % up.json["upload_id"], None),
    ]:
        r = srv.request(method, path, body=body, token=tok_b)
        same = r.status == 404 and (method == "HEAD" or r.json["error"]["message"] in (missing.json["error"]["message"],
                                                                                       "upload not found"))
        rep.check("b_cannot_%s_a" % name, same, r)
    r = srv.request("GET", "/v1/objects?prefix=iso/", token=tok_b)
    rep.eq("b_lists_nothing_of_a", (r.status, r.json["objects"]), (200, []))
    r = srv.request("GET", "/v1/objects?tag.t=1", token=tok_b)
    rep.eq("b_searches_nothing_of_a", r.json["objects"], [])
    r = srv.request("GET", "/v1/objects?limit=1&cursor=" + urllib.parse.quote(a_cursor, safe=""), token=tok_b)
    rep.eq("b_cannot_use_a_cursor", (r.status, r.error_code), (400, "bad_request"))
    r = srv.request("GET", "/v1/objects/iso/secret", token=tok_a)
    rep.check("a_object_untouched", r.status == 200 and r.json["version"] == a_obj["version"] and r.json["tags"] == {"t": "1"}, r)
    rep.eq("a_upload_untouched",
           srv.request("DELETE", "/v1/uploads/%s" % up.json["upload_id"], token=tok_a).status, 204)


def test_local_signatures(srv, tok):
    _, c = srv.put_object(tok, "sig/obj", b"signed bytes")
    url = srv.request("GET", "/v1/objects/sig/obj", token=tok).json["url"]["url"]
    rep.eq("local_get_ok", http_get(url)[0], 200)
    sig_at = url.index("X-Amz-Signature=") + len("X-Amz-Signature=")
    flipped = url[:sig_at] + ("0" if url[sig_at] != "0" else "1") + url[sig_at + 1:]
    rep.eq("local_tampered_signature_403", http_get(flipped)[0], 403)
    rep.eq("local_tampered_path_403", http_get(url.replace("/demo/", "/readonly/", 1))[0] in (403, 404), True)
    rep.eq("local_wrong_method_403", http_call("DELETE", url)[0], 403)
    rep.eq("local_wrong_method_put_403", http_put(url, b"x", {})[0], 403)
    rep.eq("local_no_signature_403", http_get(url.split("?")[0])[0], 403)
    r = srv.request("GET", "/v1/objects/sig/obj?expires=1", token=tok)
    short = r.json["url"]["url"]
    time.sleep(2.2)
    rep.eq("local_expired_403", http_get(short)[0], 403)
    rep.eq("still_ok_after", http_get(url)[0], 200)
    # a PUT whose body differs from the signed content-length
    start, _ = srv.put_object(tok, "sig/put", b"12345", upload=False)
    t = start.json["targets"][0]
    hdr = dict(t["headers"])
    hdr["content-length"] = "4"
    rep.eq("local_put_shorter_403", http_put(t["url"], b"1234", hdr)[0], 403)
    hdr = dict(t["headers"])
    hdr["content-length"] = "6"
    rep.eq("local_put_longer_403", http_put(t["url"], b"123456", hdr)[0], 403)
    hdr = dict(t["headers"])
    hdr["content-type"] = "text/html"
    rep.eq("local_put_other_type_403", http_put(t["url"], b"12345", hdr)[0], 403)
    c = srv.request("POST", "/v1/uploads/%s/complete" % start.json["upload_id"], token=tok)
    rep.eq("complete_after_refused_puts_409", c.status, 409)
    rep.eq("local_put_exact_200", http_put(t["url"], b"12345", t["headers"])[0], 200)
    c = srv.request("POST", "/v1/uploads/%s/complete" % start.json["upload_id"], token=tok)
    rep.eq("complete_after_put_200", c.status, 200)
    # wrong bytes of the right length: sha256 mismatch at complete
    start, _ = srv.put_object(tok, "sig/sha", b"abcde", upload=False)
    t = start.json["targets"][0]
    http_put(t["url"], b"ABCDE", t["headers"])
    c = srv.request("POST", "/v1/uploads/%s/complete" % start.json["upload_id"], token=tok)
    rep.eq("complete_sha_mismatch_409", (c.status, c.error_code), (409, "conflict"))
    rep.eq("sha_mismatch_stays_pending", srv.request("GET", "/v1/objects/sig/sha", token=tok).status, 404)


def test_credentials_at_rest(srv):
    secret = "wJalrXUtnFEMI-K7MDENG-sEcReT-0123456789"
    r = srv.admin("PUT", "/v1/admin/stores/creds-test", {
        "provider": "s3", "endpoint": "https://s3.example.com", "bucket": "b", "country": "DE", "status": "offline",
        "credentials": {"access_key_id": "AKIDCREDTEST", "secret_access_key": secret}})
    rep.check("store_with_credentials_created", r.status == 201 and r.json["store"]["has_credentials"] is True
              and secret not in r.body.decode(), r)
    for path in ("/v1/admin/stores/creds-test", "/v1/admin/stores"):
        r = srv.admin("GET", path)
        rep.check("credentials_never_returned_" + path.rsplit("/", 1)[1], r.status == 200 and secret not in r.body.decode()
                  and "AKIDCREDTEST" not in r.body.decode(), r)
    # replacing without credentials keeps them
    r = srv.admin("PUT", "/v1/admin/stores/creds-test", {
        "provider": "s3", "endpoint": "https://s3.example.com", "bucket": "b", "country": "DE", "status": "offline"})
    rep.check("replace_keeps_credentials", r.status == 200 and r.json["store"]["has_credentials"] is True, r)
    srv.request("GET", "/readyz")  # let the WAL be written
    raw = b""
    if harness.PG:
        raw = repr(db_dump(srv)).encode()  # what the database holds, as any reader of it sees it
    for name in ("loci.db", "loci.db-wal"):
        p = os.path.join(srv.data, name)
        if os.path.exists(p):
            raw += open(p, "rb").read()
    rep.check("credentials_encrypted_at_rest", secret.encode() not in raw and b"AKIDCREDTEST" not in raw)
    rep.check("credentials_not_logged", secret not in srv.read_log())
    rep.eq("store_delete_204", srv.admin("DELETE", "/v1/admin/stores/creds-test").status, 204)


def test_store_down(srv):
    """A store that cannot be reached or fails when loci verifies an upload: 503 `unavailable`
    (retry later), never a 409 telling the client its upload is wrong; the upload stays open and
    completes once the store answers again."""
    import http.server
    port = harness.free_port()
    r = srv.admin("PUT", "/v1/admin/stores/down-lu", {
        "provider": "s3", "endpoint": "http://127.0.0.1:%d" % port, "bucket": "b", "path_style": True,
        "region": "eu-west-1", "country": "LU",
        "credentials": {"access_key_id": "AKIDDOWN", "secret_access_key": "down-secret"}})
    rep.eq("down_store_created", r.status, 201)
    tok = srv.make_tenant("lux", jurisdictions=["LU"])
    start = srv.request("PUT", "/v1/objects/held", {"size": 4}, token=tok)
    rep.check("upload_started_at_down_store", start.status == 201
              and start.json["targets"][0]["store"] == "down-lu", start)
    complete = "/v1/uploads/%s/complete" % start.json["upload_id"]

    c = srv.request("POST", complete, token=tok)
    msg = c.json["error"]["message"] if c.json and "error" in c.json else ""
    rep.check("unreachable_store_503", (c.status, c.error_code) == (503, "unavailable")
              and msg.count("cannot verify") == 1 and "store unreachable" in msg, c)
    rep.eq("still_pending_while_down", srv.request("GET", "/v1/objects/held", token=tok).status, 404)

    answer = {"status": 500}
    heads = []

    class Store(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):
            heads.append(self.path)
            self.send_response(answer["status"])
            self.send_header("Content-Length", "4")
            self.end_headers()

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Store)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        c = srv.request("POST", complete, token=tok)
        rep.check("failing_store_503", (c.status, c.error_code) == (503, "unavailable")
                  and "store answered 500" in c.json["error"]["message"], c)
        answer["status"] = 403
        c = srv.request("POST", complete, token=tok)
        rep.check("refusing_store_409", (c.status, c.error_code) == (409, "conflict")
                  and "store answered 403" in c.json["error"]["message"], c)
        answer["status"] = 200
        c = srv.request("POST", complete, token=tok)
        rep.check("completes_when_store_back", c.status == 200 and c.json["object"]["state"] == "committed", c)
        rep.check("verified_with_signed_head", len(heads) == 3 and all("X-Amz-Signature=" in h for h in heads), heads)
    finally:
        httpd.shutdown()
        httpd.server_close()
    rep.eq("located_after_complete", srv.request("GET", "/v1/objects/held", token=tok).status, 200)


def test_explain(srv, tok):
    r = srv.request("PUT", "/v1/objects/explain/x?explain=1", {"size": 3}, token=tok)
    p = r.json.get("placement", []) if r.status == 201 else []
    verdicts = {x["store"]: x["verdict"] for x in p}
    rep.check("explain_lists_every_store", r.status == 201 and verdicts.get("local") == "chosen"
              and verdicts.get("dying") == "excluded", r)
    srv.request("DELETE", "/v1/uploads/" + r.json["upload_id"], token=tok)


def test_tag_migration():
    """A database of the schema before tag sets were kept in the tag index (SQLite version 3,
    PostgreSQL version 1) is migrated at start: multi-tag searches answer the objects that were
    there before."""
    srv = Server()
    try:
        srv.start()
        tok = srv.demo_token
        tags = {"mig/a": {"x": "1", "y": "2"}, "mig/b": {"x": "1", "y": "3"}, "mig/c": {"x": "2", "y": "2", "z": "\\,"}}
        for k, t in tags.items():
            srv.put_object(tok, k, b"", tags=t)
        srv.stop()
        con = db_connect(srv.data)
        if harness.PG:
            for q in ("DROP INDEX object_tags_kv", "ALTER TABLE object_tags DROP COLUMN tags",
                      "CREATE INDEX object_tags_kv ON object_tags(tenant, k, v, key)", "DELETE FROM loci_schema WHERE version >= 2"):
                con.execute(q)
            con.commit()
        else:
            con.con.executescript("DROP INDEX object_tags_kv; ALTER TABLE object_tags DROP COLUMN tags;"
                                  "CREATE INDEX object_tags_kv ON object_tags(tenant, k, v, key); PRAGMA user_version=3;")
        con.close()
        srv.start()
        con = db_connect(srv.data)
        if harness.PG:
            version, want_version = con.execute("SELECT max(version) FROM loci_schema").fetchone()[0], 2
        else:
            version, want_version = con.execute("PRAGMA user_version").fetchone()[0], 4
        con.close()
        rep.eq("tag_migration_to_version_%d" % want_version, version, want_version)
        for q, want in (("tag.x=1&tag.y=2", ["mig/a"]), ("tag.y=2&tag.x=2", ["mig/c"]), ("tag.x=1&tag.y=3", ["mig/b"]),
                        ("tag.y=2&tag.z=%5C%2C", ["mig/c"])):
            r = srv.request("GET", "/v1/objects?prefix=mig/&" + q, token=tok)
            rep.eq("migrated_search_" + q, [o["key"] for o in r.json.get("objects", [])], want)
    finally:
        srv.cleanup()


def test_logs(srv, tok, secret_key):
    text = srv.read_log()
    lines = [l for l in text.splitlines() if l.startswith("{")]
    parsed = []
    for l in lines:
        try:
            parsed.append(json.loads(l))
        except ValueError:
            pass
    rep.check("log_lines_are_json", len(parsed) == len(lines) and len(parsed) > 100, (len(parsed), len(lines)))
    rep.check("log_fields", all({"time", "request_id", "route", "status", "duration_ms"} <= set(p) for p in parsed), parsed[:2])
    rep.check("log_has_tenant_and_object_id", any(p.get("tenant") == "demo" and p.get("object_id") for p in parsed))
    # the request lines (the first-start banner prints the demo token once, on purpose)
    req_text = "\n".join(lines)
    secret = tok.rsplit("_", 1)[1]
    rep.check("log_never_has_token", secret not in req_text and ADMIN_TOKEN not in req_text)
    rep.check("log_never_has_key", secret_key not in text and "iso/secret" not in text)
    rep.check("banner_prints_demo_token_once", text.count(secret) == 1, text.count(secret))


def main():
    srv = Server()
    try:
        srv.start()
        tok = srv.demo_token
        rep.run("health", test_health, srv)
        rep.run("lifecycle_curl", test_lifecycle_curl, srv, tok)
        rep.run("search", test_search, srv, tok)
        rep.run("search_hostile_tags", test_search_hostile_tags, srv, tok)
        rep.run("pagination", test_pagination, srv, tok)
        rep.run("conditions", test_conditions, srv, tok)
        rep.run("errors", test_errors, srv, tok)
        rep.run("isolation", test_isolation, srv, tok)
        rep.run("local_signatures", test_local_signatures, srv, tok)
        rep.run("explain", test_explain, srv, tok)
        rep.run("credentials_at_rest", test_credentials_at_rest, srv)
        rep.run("store_down", test_store_down, srv)
        rep.run("logs", test_logs, srv, tok, "calls/2026/11/rec 1+x~%.opus")
        rep.run("tag_migration", test_tag_migration)
        rc = srv.stop()
        rep.eq("graceful_shutdown_exit_0", rc, 0)
        if harness.PG:
            con = db_connect(srv.data)
            rep.eq("no_open_uploads_left_as_objects",
                   con.execute("SELECT count(*) FROM objects o JOIN uploads u ON u.tenant = o.tenant AND u.id = o.id").fetchone()[0], 0)
            rep.eq("audit_heads_match_entries", con.execute(
                "SELECT count(*) FROM audit_heads h WHERE h.seq > 0 AND h.seq <> (SELECT max(seq) FROM audit_entries e "
                "WHERE e.tenant = h.tenant)").fetchone()[0], 0)
            con.close()
        else:
            con = db_connect(srv.data)
            rep.eq("integrity_check", con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            con.close()
            rep.check("clean_shutdown_truncates_wal", not os.path.exists(os.path.join(srv.data, "loci.db-wal"))
                      or os.path.getsize(os.path.join(srv.data, "loci.db-wal")) == 0)
    finally:
        srv.cleanup()
    rep.finish()


if __name__ == "__main__":
    main()
