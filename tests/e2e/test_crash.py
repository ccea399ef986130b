"""Crash safety: loci killed with SIGKILL at random moments under concurrent write load, then
restarted, many times over on one data directory.

Each round starts loci on the same data, checks that the previous round's acknowledged changes
are all there (through the API), runs writers (object uploads: start, bytes to the local
store, complete or abort; patches; deletes) and an administrator (tenants, tokens, store
changes) for a random time, kills loci with SIGKILL, and checks the data it left:

- every acknowledged change is present, and each change still in flight at the kill is either
  wholly there or wholly absent (the writers keep a ledger: each owns its keys, so the state
  of a key is its last acknowledged state, or the result of the one request in flight);
- no half-done change: every object and every pending upload has its audit entry (and every
  entry its change), every committed object has its locations, present, with its bytes on
  disk; no pending upload is an object; the tag index matches the objects;
- `PRAGMA integrity_check` says ok and `loci audit verify --data DIR` passes (both read the
  SQLite file: SQLite-specific; the ledger checks go through the API).

Then: local-store uploads interrupted mid-body (the client hangs up; loci is killed while the
body arrives; loci is killed while many bodies are written) never leave a partial object:
the bytes are wholly there or not at all, and complete refuses what is not there.
"""

import hashlib
import json
import os
import random
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Reporter, Server, http_get, http_put, quote_key  # noqa: E402
from reliability import (audit_verify_offline, backend, client, close_client, db_dump_data,  # noqa: E402
                         integrity_check, restart, sigkill)

rep = Reporter("crash")
ROUNDS = int(os.environ.get("LOCI_CRASH_ROUNDS", "50"))
WRITERS = 3
KEYS_PER_WRITER = 4
ENV = {"LOCI_AUDIT_CHECKPOINT_EVERY": "40", "LOCI_LOG_REQUESTS": "0"}
LOC_PENDING, LOC_PRESENT = 0, 1
OBJECT_ACTIONS = ("upload_committed", "object_patched")


class Unknown(Exception):
    """The request got no answer (loci was killed): its outcome is unknown."""


def call(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except (OSError, ConnectionError, ValueError) as e:  # http.client errors are OSError/ValueError subclasses
        raise Unknown(repr(e))
    except Exception as e:  # http.client.HTTPException and friends
        raise Unknown(repr(e))


# --- the ledger ----------------------------------------------------------------------------
#
# A key's state is None (absent) or (object id, version, tags as sorted JSON). For each key the
# ledger holds the set of states loci may show: one after an acknowledged change, two while a
# change is in flight. Admin state works the same way, keyed by ("tenant", id), ("key", id),
# ("weight", store).

class Ledger:
    def __init__(self):
        self.mu = threading.Lock()
        self.states = {}         # name -> set of allowed states
        self.pending = {}        # upload id -> key, for acknowledged starts not yet completed or aborted
        self.maybe = set()       # uploads whose abort is in flight: there or not
        self.key_creates = set()  # tenants with a token being issued at a kill: loci may hold a token we never saw
        self.unknown_uploads = 0  # starts in flight at a kill: loci may hold an upload we never heard of
        self.blobs = {}          # (store, name) -> sha256 of bytes a 200 acknowledged
        self.acked = 0

    def get(self, name):
        with self.mu:
            return set(self.states.get(name, {None}))

    def settle(self, name, state):
        with self.mu:
            self.states[name] = {state}
            self.acked += 1

    def in_flight(self, name, state):
        with self.mu:
            self.states.setdefault(name, {None}).add(state)


def tags_json(tags):
    return json.dumps(tags, sort_keys=True, separators=(",", ":"))


def writer(srv, tok, j, rnd, stop, led, errors):
    c = client(srv)
    rng = random.Random(rnd * 1000 + j)
    keys = ["crash/w%d/k%d" % (j, i) for i in range(KEYS_PER_WRITER)]
    i = 0
    try:
        while not stop.is_set():
            i += 1
            key = keys[rng.randrange(len(keys))]
            path = "/v1/objects/" + quote_key(key)
            (cur,) = led.get(key)  # settled: only this thread changes this key
            op = rng.random()
            if op < 0.55:
                upload(c, tok, key, cur, rng, led, "r%di%d" % (rnd, i))
            elif op < 0.8:
                if cur is None:
                    continue
                tags = json.loads(cur[2])
                tags["p"] = "r%di%d" % (rnd, i)
                led.in_flight(key, (cur[0], cur[1] + 1, tags_json(tags)))
                r = call(c.request, "PATCH", path, {"tags": {"set": {"p": tags["p"]}}}, token=tok)
                if r.status != 200:
                    raise AssertionError("patch %s: %r" % (key, r))
                o = r.json["object"]
                led.settle(key, (o["id"], o["version"], tags_json(o["tags"])))
            else:
                if cur is None:
                    continue
                led.in_flight(key, None)
                r = call(c.request, "DELETE", path, token=tok)
                if r.status != 204:
                    raise AssertionError("delete %s: %r" % (key, r))
                led.settle(key, None)
    except Unknown:
        pass
    except AssertionError as e:
        errors.append(str(e))
    finally:
        close_client(c)


def upload(c, tok, key, cur, rng, led, mark):
    data = os.urandom(rng.randrange(0, 3000))
    sha = hashlib.sha256(data).hexdigest()
    tags = {"m": mark}
    with led.mu:
        led.unknown_uploads += 1
    r = call(c.request, "PUT", "/v1/objects/" + quote_key(key),
             {"size": len(data), "sha256": sha, "tags": tags, "content_type": "application/x-crash"}, token=tok)
    if r.status != 201:
        raise AssertionError("start %s: %r" % (key, r))
    uid = r.json["upload_id"]
    with led.mu:
        led.unknown_uploads -= 1
        led.pending[uid] = key
    for t in r.json["targets"]:
        name = urllib.parse.unquote(urllib.parse.urlsplit(t["url"]).path).split("/", 3)[3]
        status, _, _ = call(http_put, t["url"], data, t["headers"])
        if status != 200:
            raise AssertionError("bytes %s: %d" % (key, status))
        with led.mu:
            led.blobs[(t["store"], name)] = sha
    what = rng.random()
    if what < 0.1:
        return  # left pending
    if what < 0.2:
        with led.mu:
            del led.pending[uid]
            led.maybe.add(uid)
        r = call(c.request, "DELETE", "/v1/uploads/" + uid, token=tok)
        if r.status != 204:
            raise AssertionError("abort %s: %r" % (key, r))
        with led.mu:
            led.maybe.discard(uid)
        return
    after = (uid, (cur[1] if cur else 0) + 1, tags_json(tags))
    led.in_flight(key, after)
    r = call(c.request, "POST", "/v1/uploads/%s/complete" % uid, token=tok)
    if r.status != 200:
        raise AssertionError("complete %s: %r" % (key, r))
    o = r.json["object"]
    led.settle(key, (o["id"], o["version"], tags_json(o["tags"])))
    with led.mu:
        del led.pending[uid]


def admin(srv, rnd, stop, led, errors):
    c = client(srv)
    rng = random.Random(rnd)
    n = 0
    try:
        while not stop.is_set():
            n += 1
            op = rng.random()
            if op < 0.3:
                tid = "ct%dx%d" % (rnd, n)
                led.in_flight(("tenant", tid), "EU")
                r = call(c.admin, "PUT", "/v1/admin/tenants/" + tid, {"jurisdictions": ["EU"]})
                if r.status != 201:
                    raise AssertionError("tenant put: %r" % r)
                led.settle(("tenant", tid), "EU")
            elif op < 0.55:
                with led.mu:
                    live = [k[1] for k, v in led.states.items() if k[0] == "tenant" and v == {"EU"}]
                if not live:
                    continue
                tid = rng.choice(live)
                with led.mu:
                    led.key_creates.add(tid)
                r = call(c.admin, "POST", "/v1/admin/tenants/%s/keys" % tid, {"scopes": ["read"]})
                if r.status != 201:
                    raise AssertionError("key create: %r" % r)
                led.settle(("key", r.json["key_id"]), (tid, "active"))
                with led.mu:
                    led.key_creates.discard(tid)
            elif op < 0.7:
                with led.mu:
                    live = [(k[1], st[0]) for k, v in led.states.items() if k[0] == "key" and len(v) == 1
                            for st in v if st is not None and st[1] == "active"]
                if not live:
                    continue
                kid, tid = rng.choice(live)
                led.in_flight(("key", kid), (tid, "revoked"))
                r = call(c.admin, "DELETE", "/v1/admin/tenants/%s/keys/%s" % (tid, kid))
                if r.status != 204:
                    raise AssertionError("key revoke: %r" % r)
                led.settle(("key", kid), (tid, "revoked"))
            elif op < 0.9:
                w = rng.randrange(1, 1000)
                led.in_flight(("weight", "aux"), w)
                r = call(c.admin, "PUT", "/v1/admin/stores/aux", {"provider": "local", "country": "DE", "weight": w})
                if r.status != 200:
                    raise AssertionError("store put: %r" % r)
                led.settle(("weight", "aux"), w)
            else:
                with led.mu:
                    live = [k[1] for k, v in led.states.items() if k[0] == "tenant" and v == {"EU"}]
                if not live:
                    continue
                tid = rng.choice(live)
                led.in_flight(("tenant", tid), None)
                with led.mu:
                    keys = [k for k, v in led.states.items() if k[0] == "key" and any(s and s[0] == tid for s in v)]
                for k in keys:  # a deleted tenant's tokens go with it
                    led.in_flight(k, None)
                r = call(c.admin, "DELETE", "/v1/admin/tenants/" + tid)
                if r.status != 204:
                    raise AssertionError("tenant delete: %r" % r)
                led.settle(("tenant", tid), None)
                for k in keys:  # a deleted tenant's tokens go with it
                    led.settle(k, None)
    except Unknown:
        pass
    except AssertionError as e:
        errors.append(str(e))
    finally:
        close_client(c)


def running(holder, srv):
    """Remembers srv as the server a test is using now, so that its finally: can stop it."""
    holder["srv"] = srv
    return srv


def stop_running(holder):
    srv = holder.get("srv")
    if srv is not None and srv.proc is not None:
        srv.stop()


# --- checks --------------------------------------------------------------------------------

def api_state(srv, tok):
    """What loci shows through the API: every crash/ object, tenants, tokens, the aux store."""
    out = {}
    cursor = None
    while True:
        q = "/v1/objects?prefix=crash/&limit=1000" + ("&cursor=" + urllib.parse.quote(cursor, safe="") if cursor else "")
        r = srv.request("GET", q, token=tok)
        assert r.status == 200, r
        for o in r.json["objects"]:
            out[o["key"]] = (o["id"], o["version"], tags_json(o["tags"]))
        cursor = r.json["next_cursor"]
        if not cursor:
            break
    r = srv.admin("GET", "/v1/admin/tenants")
    assert r.status == 200, r
    tenants = [t["id"] for t in r.json["tenants"] if t["id"].startswith("ct")]
    for t in tenants:
        out[("tenant", t)] = "EU"
        r = srv.admin("GET", "/v1/admin/tenants/%s/keys" % t)
        assert r.status == 200, r
        for k in r.json["keys"]:
            out[("key", k["key_id"])] = (t, "revoked" if k["revoked_at"] else "active")
    r = srv.admin("GET", "/v1/admin/stores/aux")
    assert r.status == 200, r
    out[("weight", "aux")] = r.json["store"]["weight"]
    return out


def check_ledger(srv, tok, led, rnd):
    """Every name in the ledger shows one of its allowed states; then the ledger settles on what
    loci shows. Returns a list of problems."""
    seen = api_state(srv, tok)
    problems = []
    with led.mu:
        names = set(led.states) | set(seen)
        for name in names:
            allowed = led.states.get(name, {None})
            got = seen.get(name)
            if name not in led.states and name[0] == "key" and got[0] in led.key_creates:
                led.key_creates.discard(got[0])  # the one token whose issue was in flight
                allowed = {got}
            if got not in allowed:
                problems.append("round %d: %r is %r, allowed %r" % (rnd, name, got, allowed))
            led.states[name] = {got}
        led.key_creates.clear()
    return problems


def check_half_done(data, led):
    """The database a kill left behind: no change without its audit entry and the reverse, no
    committed object without its locations and bytes, no pending upload as an object."""
    d = db_dump_data(data)
    problems = []
    entries = {}
    for e in d["audit_entries"]:
        entries.setdefault(e["tenant"], []).append(e)
    by_object = set()
    started, committed, aborted, deleted, replaced = set(), set(), set(), set(), set()
    for t, es in entries.items():
        es.sort(key=lambda e: e["seq"])
        for e in es:
            det = json.loads(e["detail"])
            a = e["action"]
            if a in OBJECT_ACTIONS:
                by_object.add((t, det["object_id"], det["version"]))
            if a == "upload_started":
                started.add(det["upload_id"])
            elif a == "upload_committed":
                committed.add(det["object_id"])
                if det.get("replaced"):
                    replaced.add(det["replaced"])
            elif a in ("upload_aborted", "upload_expired"):
                aborted.add(det["upload_id"])
            elif a == "object_deleted":
                deleted.add(det["object_id"])
    objects = {o["id"]: o for o in d["objects"]}
    uploads = {u["id"]: u for u in d["uploads"]}
    locs = {}
    for l in d["locations"]:
        locs.setdefault(l["object_id"], []).append(l)
    stores = {s["id"] for s in d["stores"]}
    for o in d["objects"]:
        if (o["tenant"], o["id"], o["version"]) not in by_object:
            problems.append("object %s v%d has no audit entry" % (o["id"], o["version"]))
        if o["id"] in uploads:
            problems.append("object %s is also a pending upload" % o["id"])
        ls = locs.get(o["id"], [])
        if not ls:
            problems.append("object %s has no locations" % o["id"])
        for l in ls:
            if l["state"] != LOC_PRESENT or l["store"] not in stores or l["name"] != "%s/%s" % (o["tenant"], o["id"]):
                problems.append("object %s location %r" % (o["id"], l))
                continue
            p = os.path.join(data, "blobs", l["store"], l["name"])
            try:
                got = open(p, "rb").read()
            except OSError:
                problems.append("object %s: no bytes at %s" % (o["id"], p))
                continue
            if len(got) != o["size"] or hashlib.sha256(got).hexdigest() != o["sha256"]:
                problems.append("object %s: bytes at %s are %d, not the %d committed"
                                % (o["id"], l["store"], len(got), o["size"]))
    for u in d["uploads"]:
        if u["id"] not in started:
            problems.append("upload %s has no upload_started entry" % u["id"])
        for l in locs.get(u["id"], []):
            if l["state"] != LOC_PENDING:
                problems.append("pending upload %s has location %r" % (u["id"], l))
    for oid in locs:
        if oid not in objects and oid not in uploads:
            problems.append("locations of %s, which is neither an object nor an upload" % oid)
    # and the reverse: no entry without its change
    for oid in committed:
        if oid not in objects and oid not in replaced and oid not in deleted:
            problems.append("upload_committed %s: no such object and never replaced or deleted" % oid)
    for uid in started:
        if uid not in uploads and uid not in committed and uid not in aborted:
            problems.append("upload_started %s: neither pending, committed nor aborted" % uid)
    for oid in deleted:
        if oid in objects:
            problems.append("object_deleted %s: still an object" % oid)
    # the tag index is the objects' tags
    index = {}
    for r in d["object_tags"]:
        index.setdefault((r["tenant"], r["key"]), {})[r["k"]] = r["v"]
    for o in d["objects"]:
        if index.pop((o["tenant"], o["key"]), {}) != json.loads(o["tags"]):
            problems.append("object %s: tag index differs from its tags" % o["key"])
    if index:
        problems.append("tag index rows without an object: %r" % list(index)[:3])
    heads = {h["tenant"]: h for h in d["audit_heads"]}
    for t, es in entries.items():
        h = heads.get(t)
        if h is None or h["seq"] != es[-1]["seq"] or h["hash"] != es[-1]["hash"]:
            problems.append("chain %r: head %r is not its last entry %d" % (t, h and h["seq"], es[-1]["seq"]))
    for k in d["api_keys"]:
        if k["tenant"] not in {t["id"] for t in d["tenants"]}:
            problems.append("token %s of a tenant that is gone" % k["key_id"])
    # acknowledged pending uploads are still there, with the bytes acknowledged for them
    with led.mu:
        for uid in led.pending:
            if uid not in uploads and uid not in objects:
                problems.append("acknowledged upload %s is gone" % uid)
        extra = [u for u in uploads if u not in led.pending and u not in led.maybe]
        if len(extra) > led.unknown_uploads:
            problems.append("%d uploads nobody started: %r" % (len(extra), extra[:3]))
        for (store, name), sha in led.blobs.items():
            oid = name.split("/", 1)[1]
            if oid in uploads or oid in objects:
                p = os.path.join(data, "blobs", store, name)
                if not os.path.exists(p) or hashlib.sha256(open(p, "rb").read()).hexdigest() != sha:
                    problems.append("acknowledged bytes of %s at %s are not there" % (oid, store))
        # from here on, the uploads loci holds are the ones we know of
        led.pending = {u: uploads[u]["key"] for u in uploads}
        led.maybe.clear()
        led.unknown_uploads = 0
    return problems, len(d["audit_entries"])


def test_kill_rounds(work):
    cur = {}
    try:
        data = os.path.join(work, "rounds")
        led = Ledger()
        srv = running(cur, Server(data=data, env=ENV, keep_data=True))
        srv.start()
        tok = srv.demo_token
        srv.make_local_store("aux", country="DE")
        led.settle(("weight", "aux"), 100)
        sqlite = backend(srv) == "sqlite"  # the checks that read the database file are SQLite's
        srv.stop()
        failures = {"ledger": [], "half_done": [], "integrity": [], "verify": [], "load": []}
        kills, entries = 0, 0
        t0 = time.time()
        for rnd in range(ROUNDS):
            srv = running(cur, Server(data=data, env=ENV, keep_data=True))
            srv.start()
            failures["ledger"] += check_ledger(srv, tok, led, rnd)
            if not sqlite:  # the chain as the server verifies it, for what the previous kill left
                r = srv.admin("GET", "/v1/admin/audit/verify")
                if r.status != 200 or r.json["ok"] is not True:
                    failures["verify"].append("round %d: %r" % (rnd, r))
            stop, errors = threading.Event(), []
            threads = [threading.Thread(target=writer, args=(srv, tok, j, rnd, stop, led, errors)) for j in range(WRITERS)]
            threads.append(threading.Thread(target=admin, args=(srv, rnd, stop, led, errors)))
            for t in threads:
                t.start()
            time.sleep(random.uniform(0.02, 0.4))
            sigkill(srv)
            kills += 1
            stop.set()
            for t in threads:
                t.join(30)
            failures["load"] += errors
            problems, entries = check_half_done(data, led)
            failures["half_done"] += ["round %d: %s" % (rnd, p) for p in problems]
            if not sqlite:
                continue
            ic = integrity_check(data)
            if ic != "ok":
                failures["integrity"].append("round %d: %s" % (rnd, ic))
            rc, out, err = audit_verify_offline(data)
            if rc != 0:
                failures["verify"].append("round %d: %s %s" % (rnd, out, err))
        sys.stderr.write("%d kill rounds in %.1f s: %d acknowledged changes, %d audit entries\n"
                         % (kills, time.time() - t0, led.acked, entries))
        rep.check("kill_rounds_%d" % ROUNDS, kills == ROUNDS and not failures["load"], failures["load"][:5])
        rep.check("load_made_changes", led.acked > ROUNDS * 5, led.acked)
        rep.check("every_acknowledged_change_present", not failures["ledger"], failures["ledger"][:10])
        rep.check("no_half_done_change", not failures["half_done"], failures["half_done"][:10])
        if sqlite:
            rep.check("integrity_check_ok_every_round", not failures["integrity"], failures["integrity"][:3])
        else:
            print("SKIP crash/integrity_check_ok_every_round (SQLite's PRAGMA integrity_check)")
        rep.check("audit_verify_every_round", not failures["verify"], failures["verify"][:3])
        # a last start: the ledger once more, the server's own verification, a clean stop
        srv = running(cur, Server(data=data, env=ENV, keep_data=True))
        srv.start()
        rep.check("final_ledger", not check_ledger(srv, tok, led, ROUNDS))
        r = srv.admin("GET", "/v1/admin/audit/verify")
        rep.check("final_api_verify", r.status == 200 and r.json["ok"] is True, r)
        rep.eq("final_graceful_stop", srv.stop(), 0)
        shutil.rmtree(data, ignore_errors=True)
    finally:
        stop_running(cur)


# --- interrupted local-store uploads ---------------------------------------------------------

def start_upload(srv, tok, key, data):
    r = srv.request("PUT", "/v1/objects/" + quote_key(key), {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
                    token=tok)
    assert r.status == 201, r
    t = r.json["targets"][0]
    name = urllib.parse.unquote(urllib.parse.urlsplit(t["url"]).path).split("/", 3)[3]
    return r.json["upload_id"], t, os.path.join(srv.data, "blobs", t["store"], name)


def send_partial(t, data, upto):
    """Opens a connection to the target, sends the headers and data[:upto]; returns the socket."""
    u = urllib.parse.urlsplit(t["url"])
    s = socket.create_connection((u.hostname, u.port))
    head = "PUT %s?%s HTTP/1.1\r\nHost: %s\r\n" % (u.path, u.query, u.netloc)
    head += "".join("%s: %s\r\n" % kv for kv in t["headers"].items()) + "\r\n"
    s.sendall(head.encode() + data[:upto])
    return s


def no_partial_object(srv, tok, name, key, uid, blob):
    """Nothing of an interrupted upload is visible: no file under its name, the key not there,
    complete refused (and the upload still pending, so it can be retried)."""
    c = srv.request("POST", "/v1/uploads/%s/complete" % uid, token=tok)
    got = srv.request("GET", "/v1/objects/" + quote_key(key), token=tok)
    rep.check(name + "_no_file", not os.path.exists(blob), blob)
    rep.eq(name + "_complete_refused", (c.status, c.error_code), (409, "conflict"))
    rep.eq(name + "_key_not_visible", got.status, 404)


def retry_succeeds(srv, tok, name, key, uid, t, data):
    status, _, _ = http_put(t["url"], data, t["headers"])
    c = srv.request("POST", "/v1/uploads/%s/complete" % uid, token=tok)
    ok = status == 200 and c.status == 200
    if ok:
        url = srv.request("GET", "/v1/objects/" + quote_key(key), token=tok).json["url"]["url"]
        ok = http_get(url)[2] == data
    rep.check(name + "_retry_completes_with_all_bytes", ok, (status, c))


def test_client_hangs_up(srv, tok):
    data = os.urandom(1 << 20)
    uid, t, blob = start_upload(srv, tok, "mid/hangup", data)
    s = send_partial(t, data, len(data) // 2)
    time.sleep(0.2)
    s.close()
    time.sleep(0.3)
    no_partial_object(srv, tok, "hangup", "mid/hangup", uid, blob)
    retry_succeeds(srv, tok, "hangup", "mid/hangup", uid, t, data)


def test_replacement_interrupted(srv, tok):
    """An existing object stays whole while its replacement's bytes are cut off."""
    v1 = os.urandom(5000)
    _, c = srv.put_object(tok, "mid/replace", v1)
    assert c.status == 200, c
    v2 = os.urandom(1 << 20)
    uid, t, blob = start_upload(srv, tok, "mid/replace", v2)
    s = send_partial(t, v2, 1000)
    s.close()
    time.sleep(0.3)
    c = srv.request("POST", "/v1/uploads/%s/complete" % uid, token=tok)
    r = srv.request("GET", "/v1/objects/mid/replace", token=tok)
    ok = r.status == 200 and r.json["version"] == 1 and http_get(r.json["url"]["url"])[2] == v1
    rep.check("replacement_cut_keeps_old_object", c.status == 409 and ok and not os.path.exists(blob), (c, r))


def test_kill_during_body(work):
    cur = {}
    try:
        data_dir = os.path.join(work, "midbody")
        srv = running(cur, Server(data=data_dir, env=ENV, keep_data=True))
        srv.start()
        tok = srv.demo_token
        data = os.urandom(4 << 20)
        uid, t, blob = start_upload(srv, tok, "mid/killed", data)
        s = send_partial(t, data, len(data) // 2)
        time.sleep(0.2)
        sigkill(srv)
        s.close()
        srv = running(cur, restart(srv))
        no_partial_object(srv, tok, "killed_mid_body", "mid/killed", uid, blob)
        retry_succeeds(srv, tok, "killed_mid_body", "mid/killed", uid, t, data)
        srv.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    finally:
        stop_running(cur)


def test_kill_while_writing_blobs(work, rounds=6, n=6):
    """Kill loci while it receives and writes many bodies at once: afterwards each body is
    wholly there or absent, every acknowledged one is there, complete agrees with the disk, and
    a completed object serves exactly its bytes."""
    cur = {}
    try:
        data_dir = os.path.join(work, "blobs")
        srv = running(cur, Server(data=data_dir, env=ENV, keep_data=True))
        srv.start()
        tok = srv.demo_token
        bad, acked_total, whole, absent = [], 0, 0, 0
        for rnd in range(rounds):
            ups = []
            for i in range(n):
                data = os.urandom(random.choice((64 << 10, 2 << 20, 8 << 20)))
                uid, t, blob = start_upload(srv, tok, "blobs/r%d/%d" % (rnd, i), data)
                ups.append({"uid": uid, "t": t, "blob": blob, "data": data, "acked": False, "key": "blobs/r%d/%d" % (rnd, i)})

            def put(u):
                try:
                    status, _, _ = http_put(u["t"]["url"], u["data"], u["t"]["headers"])
                    u["acked"] = status == 200
                except Exception:
                    pass
            threads = [threading.Thread(target=put, args=(u,)) for u in ups]
            for th in threads:
                th.start()
            time.sleep(random.uniform(0.0, 0.1))
            sigkill(srv)
            for th in threads:
                th.join(30)
            srv = running(cur, restart(srv))
            for u in ups:
                acked_total += u["acked"]
                exists = os.path.exists(u["blob"])
                if exists:
                    got = open(u["blob"], "rb").read()
                    if got != u["data"]:
                        bad.append("partial or wrong file %s (%d of %d bytes)" % (u["blob"], len(got), len(u["data"])))
                        continue
                    whole += 1
                else:
                    absent += 1
                    if u["acked"]:
                        bad.append("acknowledged bytes of %s are gone" % u["uid"])
                c = srv.request("POST", "/v1/uploads/%s/complete" % u["uid"], token=tok)
                if exists and c.status != 200 or not exists and c.status != 409:
                    bad.append("complete of %s (file %s) answered %r" % (u["uid"], exists, c))
                if exists and c.status == 200:
                    r = srv.request("GET", "/v1/objects/" + quote_key(u["key"]), token=tok)
                    if r.status != 200 or http_get(r.json["url"]["url"])[2] != u["data"]:
                        bad.append("object %s does not serve its bytes: %r" % (u["uid"], r))
        sys.stderr.write("blob kill rounds: %d whole, %d absent, %d acknowledged\n" % (whole, absent, acked_total))
        rep.check("kill_while_writing_blobs_no_partial_object", not bad, bad[:5])
        litter = [f for f in os.listdir(os.path.join(data_dir, "blobs", "local", "demo")) if ".tmp-" in f]
        if litter:
            sys.stderr.write("note: %d temporary files left by the kills (never visible as objects)\n" % len(litter))
        srv.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    finally:
        stop_running(cur)


def test_tmp_files_swept(work):
    """Temporary files of writes that a crash cut off are removed at the next start once they
    are ten minutes old; a younger one (a write that may still be running) and files that only
    look similar stay."""
    data_dir = os.path.join(work, "sweep")
    srv = Server(data=data_dir, env=ENV, keep_data=True)
    try:
        srv.start()
        srv.stop()
        d = os.path.join(data_dir, "blobs", "local", "demo")
        os.makedirs(d, exist_ok=True)
        names = {"stale": "obj1.tmp-0123456789ab", "stale_sidecar": "obj1.sha256.tmp-ba9876543210",
                 "young": "obj2.tmp-00112233aabb", "not_tmp": "obj3.tmp-notahexsuffix", "object": "obj4"}
        hour_ago = time.time() - 3600
        for what, name in names.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(b"x")
            if what != "young":
                os.utime(os.path.join(d, name), (hour_ago, hour_ago))
        srv.start()
        gone = lambda what: not os.path.exists(os.path.join(d, names[what]))  # noqa: E731
        deadline = time.time() + 10
        while time.time() < deadline and not (gone("stale") and gone("stale_sidecar")):
            time.sleep(0.1)
        rep.check("stale_tmp_files_removed_at_start", gone("stale") and gone("stale_sidecar"), sorted(os.listdir(d)))
        rep.check("young_tmp_file_kept", not gone("young"), sorted(os.listdir(d)))
        rep.check("look_alikes_kept", not gone("not_tmp") and not gone("object"), sorted(os.listdir(d)))
        with open(srv.log_path) as f:
            rep.check("sweep_logged", "removed 2 temporary files" in f.read(), srv.log_path)
        srv.stop()
    finally:
        srv.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


def main():
    work = tempfile.mkdtemp(prefix="loci-crash.")
    try:
        rep.run("kill_rounds", test_kill_rounds, work)
        srv = Server(env=ENV)
        try:
            srv.start()
            rep.run("client_hangs_up", test_client_hangs_up, srv, srv.demo_token)
            rep.run("replacement_interrupted", test_replacement_interrupted, srv, srv.demo_token)
        finally:
            srv.cleanup()
        rep.run("kill_during_body", test_kill_during_body, work)
        rep.run("kill_while_writing_blobs", test_kill_while_writing_blobs, work)
        rep.run("tmp_files_swept", test_tmp_files_swept, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rep.finish()


if __name__ == "__main__":
    main()
