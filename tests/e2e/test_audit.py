"""The audit trail end to end: every change appends exactly one entry; entries carry no object
keys, tag values or attributes; tampering with entries or checkpoints in the database is found
with the right sequence number, by loci and by an independent verifier in another language
(tests/tools/audit_verify.mjs, written from docs/audit.md); deleting a tenant shreds its audit
key and leaves a verifiable chain; kill -9 during writes leaves a chain that verifies and
matches the data; read auditing records every URL handed out."""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import ADMIN_TOKEN, LOCI_BIN, Reporter, Server, db_connect, db_env, run_cli  # noqa: E402

rep = Reporter("audit")
HERE = os.path.dirname(os.path.abspath(__file__))
NODE_VERIFIER = os.path.join(os.path.dirname(HERE), "tools", "audit_verify.mjs")
ENV = {"LOCI_AUDIT_CHECKPOINT_EVERY": "4", "LOCI_AUDIT_CHECKPOINT_INTERVAL_MS": "100000", "LOCI_UPLOAD_GRACE_S": "0",
       "LOCI_EXPIRE_INTERVAL_MS": "200", "LOCI_AUDIT_READ_FLUSH_MS": "50"}


def export(srv, tenant=None):
    """Every entry through the NDJSON export (paged by the last line)."""
    out, after = [], ":0"
    while True:
        q = "/v1/admin/audit?limit=500&after=" + urllib.parse.quote(after, safe="")
        if tenant is not None:
            q = "/v1/admin/audit?limit=500&tenant=" + urllib.parse.quote(tenant) + "&after=" + after.rsplit(":", 1)[1]
        r = srv.admin("GET", q, headers={"Accept": "application/x-ndjson"})
        assert r.status == 200 and r.headers["content-type"] == "application/x-ndjson", r
        page = [json.loads(l) for l in r.body.decode().splitlines() if l]
        out += page
        if len(page) < 500:
            return out
        after = "%s:%d" % (page[-1]["tenant"], page[-1]["seq"])


def counts(srv):
    c = {}
    for e in export(srv):
        c[e["action"]] = c.get(e["action"], 0) + 1
    return c


def wait_for(cond, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


SYNC_ACTIONS = {"upload_started", "upload_committed", "upload_aborted", "object_patched", "object_deleted", "store_created",
                "store_updated", "store_deleted", "tenant_created", "tenant_updated", "tenant_deleted", "token_issued",
                "token_revoked"}


def test_one_entry_per_action(srv):
    tok = srv.demo_token
    secrets = {"key": "patients/Jane Doe 1970-01-01/scan.dcm", "tag": "diagnosis-very-private", "attr": "attr-secret-1234"}

    def expect(name, action, fn, chain=None, wait=False):
        seen = {(e["tenant"], e["seq"]) for e in export(srv)}
        fn()
        if wait:
            wait_for(lambda: any(e["action"] == action and (e["tenant"], e["seq"]) not in seen for e in export(srv)))
        new = [e for e in export(srv) if (e["tenant"], e["seq"]) not in seen]
        diff = {}
        for e in new:
            if e["action"] in SYNC_ACTIONS or e["action"] == action:
                diff[e["action"]] = diff.get(e["action"], 0) + 1
        rep.eq("one_entry_" + name, diff, {action: 1})
        mine = [e for e in new if e["action"] == action]
        if chain is not None and mine:
            rep.eq("chain_of_" + name, mine[0]["tenant"], chain)
        return mine[0] if mine else {}

    e = expect("store_created", "store_created", lambda: srv.make_local_store("audit-s1", country="FR"), chain="")
    rep.check("admin_actor", e["actor"] == "admin" and e["subject"] == "audit-s1", e)
    expect("store_updated", "store_updated", lambda: srv.make_local_store("audit-s1", country="FR", weight=5))
    expect("store_deleted", "store_deleted", lambda: srv.admin("DELETE", "/v1/admin/stores/audit-s1"), chain="")
    expect("tenant_created", "tenant_created", lambda: srv.admin("PUT", "/v1/admin/tenants/au1", {"jurisdictions": ["EU"]}),
           chain="")
    expect("tenant_updated", "tenant_updated",
           lambda: srv.admin("PUT", "/v1/admin/tenants/au1", {"jurisdictions": ["EU"], "copies": 1}))
    holder = {}
    e = expect("token_issued", "token_issued",
               lambda: holder.update(r=srv.admin("POST", "/v1/admin/tenants/au1/keys", {"scopes": ["read", "write"]})),
               chain="au1")
    key_id = holder["r"].json["key_id"]
    rep.check("token_subject_is_key_id", e["subject"] == key_id and holder["r"].json["token"] not in json.dumps(e), e)
    t2 = srv.admin("POST", "/v1/admin/tenants/au1/keys", {"scopes": ["read"]}).json
    expect("token_revoked", "token_revoked", lambda: srv.admin("DELETE", "/v1/admin/tenants/au1/keys/" + t2["key_id"]),
           chain="au1")

    key = secrets["key"]
    e = expect("upload_started", "upload_started",
               lambda: holder.update(s=srv.put_object(tok, key, b"x" * 10, tags={"dx": secrets["tag"]},
                                                      attrs={"note": secrets["attr"]}, complete=False)[0]), chain="demo")
    rep.check("object_actor_is_token", e["actor"] == srv.demo_token.split("_")[2] and len(e["subject"]) == 64, e)
    subject = e["subject"]
    upload_id = holder["s"].json["upload_id"]
    e = expect("upload_committed", "upload_committed",
               lambda: srv.request("POST", "/v1/uploads/%s/complete" % upload_id, token=tok), chain="demo")
    rep.check("committed_same_subject", e["subject"] == subject and json.loads(e["detail"])["object_id"] == upload_id, e)
    path = "/v1/objects/" + urllib.parse.quote(key)
    e = expect("object_patched", "object_patched",
               lambda: srv.request("PATCH", path, {"tags": {"set": {"dx2": secrets["tag"]}}}, token=tok), chain="demo")
    rep.eq("patched_same_subject", e["subject"], subject)
    r2, _ = srv.put_object(tok, "audit/abort-me", b"abc", upload=False)
    expect("upload_aborted", "upload_aborted",
           lambda: srv.request("DELETE", "/v1/uploads/" + r2.json["upload_id"], token=tok), chain="demo")
    # the aborted upload's (empty) copy is erased in the background: let that settle first
    rep.check("aborted_copy_erased", wait_for(lambda: any(
        e["action"] == "copy_erased" and r2.json["upload_id"] in e["subject"] for e in export(srv, "demo"))))
    expect("object_deleted", "object_deleted", lambda: srv.request("DELETE", path, token=tok), chain="demo")
    e = expect("copy_erased", "copy_erased", lambda: None, chain="demo", wait=True)
    rep.check("erasure_by_system", e["actor"] == "system", e)
    r3 = srv.request("PUT", "/v1/objects/audit/expire-me?expires=1", {"size": 3}, token=tok)
    e = expect("upload_expired", "upload_expired", lambda: time.sleep(1.2), chain="demo", wait=True)
    rep.check("expired_by_system", e["actor"] == "system" and r3.json["upload_id"] in e["detail"], e)

    # refused requests append nothing
    before = counts(srv)
    srv.request("PUT", "/v1/objects/audit/x", {"size": 1}, token=tok, headers={"If-Match": "9"})
    srv.request("DELETE", "/v1/objects/audit/none", token=tok)
    srv.request("PATCH", "/v1/objects/audit/none", {"tags": {"set": {"a": "b"}}}, token=tok)
    srv.admin("DELETE", "/v1/admin/stores/nope")
    srv.admin("PUT", "/v1/admin/tenants/bad!", {"jurisdictions": ["EU"]})
    rep.eq("refused_requests_append_nothing", counts(srv), before)

    # nothing personal in the trail
    text = json.dumps(export(srv))
    rep.check("no_keys_tags_attrs_in_trail", all(s not in text for s in secrets.values()) and "Jane" not in text)
    expect("tenant_deleted", "tenant_deleted", lambda: srv.admin("DELETE", "/v1/admin/tenants/au1"), chain="")


def test_read_auditing(srv):
    tok = srv.make_tenant("reader")
    srv.admin("PUT", "/v1/admin/tenants/reader", {"jurisdictions": ["EU"], "audit_reads": True})
    rep.eq("tenant_shows_audit_reads", srv.admin("GET", "/v1/admin/tenants/reader").json["tenant"]["audit_reads"], True)
    srv.put_object(tok, "read/me", b"bytes")
    before = [e for e in export(srv, "reader") if e["action"] == "url_issued"]
    for _ in range(3):
        assert srv.request("GET", "/v1/objects/read/me", token=tok).status == 200
    assert srv.request("GET", "/v1/fetch/read/me", token=tok).status == 307
    ok = wait_for(lambda: len([e for e in export(srv, "reader") if e["action"] == "url_issued"]) == len(before) + 4, 5)
    rep.check("every_url_recorded", ok)
    e = [e for e in export(srv, "reader") if e["action"] == "url_issued"][-1]
    d = json.loads(e["detail"])
    rep.check("url_entry_shape", d["method"] == "GET" and d["store"] == "local" and "read/me" not in json.dumps(e), e)
    n_demo = len([x for x in export(srv, "demo") if x["action"] == "url_issued"])
    srv.put_object(srv.demo_token, "read/not-audited", b"x")
    srv.request("GET", "/v1/objects/read/not-audited", token=srv.demo_token)
    time.sleep(0.3)
    rep.eq("reads_not_audited_by_default", len([x for x in export(srv, "demo") if x["action"] == "url_issued"]), n_demo)


def test_export_and_independent_verifier(srv, work):
    r = srv.admin("GET", "/v1/admin/audit/pubkey")
    rep.check("pubkey_served", r.status == 200 and r.json["algorithm"] == "Ed25519"
              and r.json["public_key_pem"] == open(os.path.join(srv.data, "audit.pub")).read(), r)
    r = srv.admin("GET", "/v1/admin/audit/chains")
    heads = {c["tenant"]: c["seq"] for c in r.json["chains"]}
    rep.check("chains_listed", r.status == 200 and "" in heads and "demo" in heads, r)
    entries = export(srv)
    # background work (the read-audit queue, erasures, checkpoints) may append between the two
    # reads: every chain must come out whole, from 1 up to at least its head before the export
    # and at most its head after it
    after = {c["tenant"]: c["seq"] for c in srv.admin("GET", "/v1/admin/audit/chains").json["chains"]}
    seqs = {t: [e["seq"] for e in entries if e["tenant"] == t] for t in set(after) | {e["tenant"] for e in entries}}
    rep.check("export_complete", all(s == list(range(1, len(s) + 1)) and heads.get(t, 0) <= len(s) <= after.get(t, 0)
                                     for t, s in seqs.items()), (len(entries), heads, after))
    # JSON pages agree with NDJSON
    r = srv.admin("GET", "/v1/admin/audit?tenant=demo&after=2&limit=3")
    rep.check("json_page", r.status == 200 and [e["seq"] for e in r.json["entries"]] == [3, 4, 5]
              and r.json["next_after"] == "demo:5", r)
    r = srv.admin("GET", "/v1/admin/audit?after=nocolon")
    rep.eq("bad_after_400", r.status, 400)
    r = srv.request("GET", "/v1/admin/audit", token=srv.demo_token)
    rep.eq("tenant_token_refused", r.status, 403)
    rc, out, err = run_cli(["audit", "verify"], srv.url, env={"LOCI_ADMIN_TOKEN": ADMIN_TOKEN})
    rep.check("cli_verify_url_ok", rc == 0 and b"audit trail intact" in out, (rc, out, err))
    r = srv.admin("GET", "/v1/admin/audit/verify")
    rep.check("api_verify_ok", r.status == 200 and r.json["ok"] is True and r.json["checkpoints"] >= 1, r)
    n = len(export(srv))
    ver = run_node(srv.url, work)
    rep.check("independent_verifier_ok", ver.get("ok") is True and ver.get("entries", 0) >= n, (ver, n))


def run_node(url, work, entries_path=None, cps_path=None, pub_path=None):
    """Runs the Node verifier; by default on a fresh export from url."""
    if entries_path is None:
        import http.client
        u = urllib.parse.urlsplit(url)
        def get(path, accept="application/json"):
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
            c.request("GET", path, headers={"Authorization": "Bearer " + ADMIN_TOKEN, "Accept": accept})
            body = c.getresponse().read()
            c.close()
            return body
        entries_path = os.path.join(work, "export.ndjson")
        open(entries_path, "wb").write(get("/v1/admin/audit?limit=100000", "application/x-ndjson"))
        cps_path = os.path.join(work, "checkpoints.json")
        open(cps_path, "wb").write(get("/v1/admin/audit/checkpoints?limit=100000"))
        pub_path = os.path.join(work, "pub.pem")
        open(pub_path, "w").write(json.loads(get("/v1/admin/audit/pubkey"))["public_key_pem"])
    p = subprocess.run(["node", NODE_VERIFIER, "--entries", entries_path, "--checkpoints", cps_path, "--pubkey", pub_path],
                       capture_output=True, text=True, timeout=60)
    try:
        return json.loads(p.stdout)
    except ValueError:
        return {"error": p.stdout + p.stderr}


def db_export(data, work):
    """The export and checkpoints read straight from a (tampered) database, in the export format."""
    con = db_connect(data)
    ep = os.path.join(work, "t-export.ndjson")
    with open(ep, "w") as f:
        for row in con.execute("SELECT tenant, seq, time, actor, action, subject, detail, prev_hash, hash FROM audit_entries "
                               "ORDER BY tenant, seq"):
            f.write(json.dumps({"tenant": row[0], "seq": row[1], "time": row[2], "actor": row[3], "action": row[4],
                                "subject": row[5], "detail": row[6], "prev_hash": bytes(row[7]).hex(),
                                "hash": bytes(row[8]).hex()}) + "\n")
    cp = os.path.join(work, "t-checkpoints.ndjson")
    import base64
    with open(cp, "w") as f:
        for row in con.execute("SELECT seq, time, root, heads, signature FROM audit_checkpoints ORDER BY seq"):
            f.write(json.dumps({"seq": row[0], "time": row[1], "root": bytes(row[2]).hex(), "heads": json.loads(row[3]),
                                "signature": base64.b64encode(bytes(row[4])).decode()}) + "\n")
    con.close()
    return ep, cp


def test_tampering(data, work):
    """Each change to a stopped server's database is reported at the right place, by both verifiers."""
    pub = os.path.join(data, "audit.pub")
    con = db_connect(data)
    n_demo = con.execute("SELECT MAX(seq) FROM audit_entries WHERE tenant='demo'").fetchone()[0]
    n_cp = con.execute("SELECT MAX(seq) FROM audit_checkpoints").fetchone()[0]
    con.close()
    k = 3  # an entry in the middle of the demo chain

    def shift(con, frm, by):
        con.execute("UPDATE audit_entries SET seq = seq + 1000000 WHERE tenant='demo' AND seq >= ?", (frm,))
        con.execute("UPDATE audit_entries SET seq = seq - 1000000 + ? WHERE tenant='demo' AND seq >= 1000000", (by,))

    cases = [
        ("edit", lambda c: c.execute("UPDATE audit_entries SET detail='{}' WHERE tenant='demo' AND seq=?", (k,)), "demo", k),
        ("edit_actor", lambda c: c.execute("UPDATE audit_entries SET actor='someone' WHERE tenant='demo' AND seq=?", (k,)),
         "demo", k),
        ("delete", lambda c: c.execute("DELETE FROM audit_entries WHERE tenant='demo' AND seq=?", (k,)), "demo", k),
        ("insert", lambda c: (shift(c, k, 1), c.execute(
            "INSERT INTO audit_entries SELECT tenant, ?, time, actor, 'object_deleted', subject, detail, prev_hash, hash "
            "FROM audit_entries WHERE tenant='demo' AND seq=?", (k, k + 1))), "demo", k),
        ("reorder", lambda c: (c.execute("UPDATE audit_entries SET seq=-1 WHERE tenant='demo' AND seq=?", (k,)),
                               c.execute("UPDATE audit_entries SET seq=? WHERE tenant='demo' AND seq=?", (k, k + 1)),
                               c.execute("UPDATE audit_entries SET seq=? WHERE tenant='demo' AND seq=-1", (k + 1,))),
         "demo", k),
        ("truncate", lambda c: c.execute("DELETE FROM audit_entries WHERE tenant='demo' AND seq=?", (n_demo,)), "demo", n_demo),
        ("admin_chain_edit", lambda c: c.execute("UPDATE audit_entries SET subject='x' WHERE tenant='' AND seq=2"), "", 2),
        ("checkpoint_forged_root", lambda c: c.execute(
            "UPDATE audit_checkpoints SET root=zeroblob(32) WHERE seq=1"), "(checkpoints)", 1),
        ("checkpoint_forged_signature", lambda c: c.execute(
            "UPDATE audit_checkpoints SET signature=zeroblob(64) WHERE seq=?", (n_cp,)), "(checkpoints)", n_cp),
        ("checkpoint_heads_edited", lambda c: c.execute(
            "UPDATE audit_checkpoints SET heads=replace(heads, '\"seq\":', '\"seq\":1') WHERE seq=1"), "(checkpoints)", 1),
        ("checkpoint_moved", lambda c: (c.execute("UPDATE audit_checkpoints SET seq=-1 WHERE seq=1"),
                                        c.execute("UPDATE audit_checkpoints SET seq=1 WHERE seq=2"),
                                        c.execute("UPDATE audit_checkpoints SET seq=2 WHERE seq=-1")), "(checkpoints)", 1),
        ("checkpoint_removed", lambda c: c.execute("DELETE FROM audit_checkpoints WHERE seq=1"), "(checkpoints)", 1),
    ]
    for name, change, tenant, seq in cases:
        copy = os.path.join(work, "tamper-" + name)
        harness.copy_data(data, copy)
        con = db_connect(copy)
        change(con)
        con.commit()
        con.close()
        p = subprocess.run([LOCI_BIN, "audit", "verify", "--data", copy, "--pubkey", pub], capture_output=True, text=True,
                           timeout=60, env=dict(os.environ, **db_env(copy)))
        label = "(admin)" if tenant == "" else tenant
        want = ("chain %s seq %d:" % (label, seq)) if tenant != "(checkpoints)" else ("(checkpoints) seq %d:" % seq)
        rep.check("loci_detects_" + name, p.returncode == 1 and want in p.stderr, (p.returncode, p.stdout, p.stderr, want))
        ep, cp = db_export(copy, work)
        ver = run_node(None, work, ep, cp, pub)
        got = ver.get("problem", {})
        rep.check("node_detects_" + name, ver.get("ok") is False and got.get("tenant") == tenant and got.get("seq") == seq,
                  (ver, tenant, seq))
        shutil.rmtree(copy)
    # the untouched copy verifies with both
    p = subprocess.run([LOCI_BIN, "audit", "verify", "--data", data, "--pubkey", pub], capture_output=True, text=True,
                       env=dict(os.environ, **db_env(data)))
    rep.check("untouched_verifies_loci", p.returncode == 0, p.stderr)
    ep, cp = db_export(data, work)
    rep.check("untouched_verifies_node", run_node(None, work, ep, cp, pub).get("ok") is True)


def test_shredding(srv, work):
    tok = srv.make_tenant("shred")
    key = "patients/Erika Mustermann/ct.dcm"
    srv.put_object(tok, key, b"image bytes", tags={"name": "Erika"})
    con = db_connect(srv.data, readonly=True)
    sealed = bytes(con.execute("SELECT audit_key FROM tenants WHERE id='shred'").fetchone()[0])
    con.close()
    subject = [e for e in export(srv, "shred") if e["action"] == "upload_committed"][0]["subject"]
    r = srv.admin("DELETE", "/v1/admin/tenants/shred")
    rep.eq("tenant_delete_204", r.status, 204)
    rep.eq("tenant_gone", srv.admin("GET", "/v1/admin/tenants/shred").status, 404)
    rep.eq("token_gone", srv.request("GET", "/v1/objects", token=tok).status, 401)
    raw = b""
    if harness.PG:
        # the row is gone, and the table's pages (vacuumed and flushed by loci) no longer hold the key
        con = db_connect(srv.data)
        gone = con.execute("SELECT count(*) FROM tenants WHERE id='shred'").fetchone()[0] == 0
        con.execute("CHECKPOINT")
        ddir = con.execute("SHOW data_directory").fetchone()[0]
        rel = con.execute("SELECT pg_relation_filepath('tenants')").fetchone()[0]
        con.commit()
        con.close()
        raw = open(os.path.join(ddir, rel), "rb").read() if gone else sealed
    for name in ("loci.db", "loci.db-wal"):
        p = os.path.join(srv.data, name)
        if os.path.exists(p):
            raw += open(p, "rb").read()
    rep.check("audit_key_shredded", len(sealed) == 61 and sealed not in raw and sealed[:16] not in raw)
    entries = export(srv, "shred")
    rep.check("chain_kept_without_personal_data", len(entries) >= 2 and any(e["subject"] == subject for e in entries)
              and "Erika" not in json.dumps(entries))
    rep.check("copies_erased_after_delete", wait_for(lambda: any(e["action"] == "copy_erased" for e in export(srv, "shred"))))
    r = srv.admin("GET", "/v1/admin/audit/verify")
    rep.check("verifies_after_shredding", r.json["ok"] is True, r)
    rep.check("node_verifies_after_shredding", run_node(srv.url, work).get("ok") is True)


def writer_load(url_port, tok, stop, errors, acked):
    import harness
    s = harness.Server.__new__(harness.Server)
    s.port, s._conn = url_port, None
    i = 0
    while not stop.is_set():
        k = "crash/%d/%d" % (threading.get_ident() % 1000, i % 7)
        try:
            _, c = harness.Server.put_object(s, tok, k, b"v%d" % i)
            if c is not None and c.status == 200:
                acked.append(c.json["object"]["id"])
            if i % 3 == 0:
                s.request("PATCH", "/v1/objects/" + k, {"tags": {"set": {"i": str(i)}}}, token=tok)
            if i % 5 == 0:
                s.request("DELETE", "/v1/objects/" + k, token=tok)
        except Exception as e:  # the server is being killed: expected
            errors.append(repr(e))
            break
        i += 1


def check_matches_data(data):
    """Every committed object has its upload_committed entry; every committed version that is
    gone has a later entry that replaced or deleted it."""
    con = db_connect(data)
    objects = {row[0] for row in con.execute("SELECT id FROM objects")}
    committed, gone = set(), set()
    for action, detail in con.execute("SELECT action, detail FROM audit_entries WHERE tenant='demo' ORDER BY seq"):
        d = json.loads(detail)
        if action == "upload_committed":
            committed.add(d["object_id"])
            if d.get("replaced"):
                gone.add(d["replaced"])
        elif action == "object_deleted":
            gone.add(d["object_id"])
    con.close()
    return objects <= committed and committed - objects <= gone, (len(objects), len(committed), len(gone))


def test_kill9(work):
    data = tempfile.mkdtemp(prefix="loci-kill9.")
    ok_rounds = 0
    rounds = 5
    for rnd in range(rounds):
        srv = Server(data=data, env=ENV)
        srv.start()
        stop, errors, acked = threading.Event(), [], []
        threads = [threading.Thread(target=writer_load, args=(srv.port, srv.demo_token, stop, errors, acked)) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.3 + random.random())
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait()
        stop.set()
        for t in threads:
            t.join()
        srv.proc = None
        srv.log.close()
        p = subprocess.run([LOCI_BIN, "audit", "verify", "--data", data], capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, **db_env(data)))
        matches, detail = check_matches_data(data)
        con = db_connect(data)
        present = {row[0] for row in con.execute("SELECT id FROM objects")}
        con.close()
        if p.returncode == 0 and matches:
            ok_rounds += 1
        else:
            sys.stderr.write("round %d: verify %s %s; matches %s %s\n" % (rnd, p.returncode, p.stderr, matches, detail))
    rep.eq("kill9_rounds_verify_and_match_data", ok_rounds, rounds)
    srv = Server(data=data, env=ENV)
    srv.start()
    r = srv.admin("GET", "/v1/admin/audit/verify")
    rep.check("kill9_restarted_server_verifies", r.json["ok"] is True, r)
    srv.stop()
    shutil.rmtree(data, ignore_errors=True)


def main():
    work = tempfile.mkdtemp(prefix="loci-audit.")
    srv = Server(env=ENV)
    try:
        srv.start()
        rep.run("one_entry_per_action", test_one_entry_per_action, srv)
        rep.run("read_auditing", test_read_auditing, srv)
        rep.run("export", test_export_and_independent_verifier, srv, work)
        rep.run("shredding", test_shredding, srv, work)
        rc = srv.stop()
        rep.eq("stops_cleanly", rc, 0)
        cps = [json.loads(l) for l in open(os.path.join(srv.data, "audit-checkpoints.ndjson"))]
        rep.check("checkpoints_file_appended", len(cps) >= 2 and [c["seq"] for c in cps] == list(range(1, len(cps) + 1)))
        rep.run("tampering", test_tampering, srv.data, work)
    finally:
        srv.cleanup()
    rep.run("kill9", test_kill9, work)
    shutil.rmtree(work, ignore_errors=True)
    rep.finish()


if __name__ == "__main__":
    main()
