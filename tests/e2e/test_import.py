"""`loci import`: registering objects that already exist in a store, offline, from an NDJSON
inventory. Imported objects are locatable (signed URL to their existing name) and searchable by
tag through the API; a bad line is refused with its line number and nothing at all is imported
(also when the bad line is the last of many, or a key already exists); residency is enforced;
every imported object has its audit entry and the whole trail verifies."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ADMIN_TOKEN, LOCI_BIN, Reporter, Server, db_connect, db_env  # noqa: E402

rep = Reporter("import")
N = 3000


def loci(*args, stdin=None):
    env = dict(os.environ, LOCI_ADMIN_TOKEN=ADMIN_TOKEN)
    if "--data" in args:
        env.update(db_env(args[args.index("--data") + 1]))
    return subprocess.run([LOCI_BIN] + list(args), input=stdin, capture_output=True, text=True, env=env, timeout=120)


def line(i, **over):
    d = {"key": "imp/%06d" % i, "store": "s3-ie", "name": "legacy/bucket/%06d.bin" % i, "size": 100 + i,
         "tags": {"shard": str(i % 10), "kind": str(i % 3)}}
    if i % 5 == 0:
        d["sha256"] = "AB" * 32  # uppercase is accepted and stored lowercase, as by the API
        d["content_type"] = "audio/opus"
        d["attrs"] = {"n": i}
    d.update(over)
    return json.dumps(d)


def write(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def count_objects(data):
    c = db_connect(data)
    try:
        return c.execute("SELECT count(*) FROM objects WHERE tenant = 'acme'").fetchone()[0]
    finally:
        c.close()


def main():
    tmp = tempfile.mkdtemp(prefix="loci-e2e-import.")
    srv = Server()
    try:
        srv.start()
        token = srv.make_tenant("acme", jurisdictions=("EU",))
        r = srv.admin("PUT", "/v1/admin/stores/s3-ie", {
            "provider": "s3", "endpoint": "http://127.0.0.1:9", "bucket": "legacy", "region": "eu-west-1",
            "country": "IE", "path_style": True,
            "credentials": {"access_key_id": "AKIAIMPORTTEST000000", "secret_access_key": "import-secret"}})
        rep.check("setup_store", r.status in (200, 201), repr(r))
        r = srv.admin("PUT", "/v1/admin/stores/s3-us", {
            "provider": "s3", "endpoint": "http://127.0.0.1:9", "bucket": "us", "region": "us-east-1", "country": "US",
            "credentials": {"access_key_id": "AKIAIMPORTTEST000001", "secret_access_key": "import-secret"}})
        rep.check("setup_store_us", r.status in (200, 201), repr(r))
        rep.eq("stop_before_import", srv.stop(), 0)

        good = os.path.join(tmp, "good.ndjson")
        write(good, [line(i) for i in range(N)])

        # a bad line anywhere refuses the whole file, with the line numbers, and imports nothing
        cases = {
            "bad_json": (N, "{not json"),
            "unknown_field": (2, line(2, colour="red")),
            "bad_key": (7, line(7, key="")),
            "bad_tag": (9, line(9, tags={"k": 5})),
            "negative_size": (11, line(11, size=-1)),
            "bad_sha": (13, line(13, sha256="xyz")),
            "unknown_store": (17, line(17, store="nope")),
            "residency": (19, line(19, store="s3-us")),
        }
        for name, (at, text) in cases.items():
            lines = [line(i) for i in range(N)]
            lines[at - 1] = text
            path = os.path.join(tmp, name + ".ndjson")
            write(path, lines)
            r = loci("import", "--data", srv.data, "--tenant", "acme", path)
            rep.check("refused_" + name, r.returncode == 1 and ("%s:%d:" % (path, at)) in r.stderr and
                      "nothing was imported" in r.stderr, "rc %d: %s" % (r.returncode, r.stderr[-600:]))
            rep.eq("nothing_imported_" + name, count_objects(srv.data), 0)
        # several bad lines are all reported
        lines = [line(i) for i in range(N)]
        for at in (5, 50, 500):
            lines[at - 1] = line(at, size="big")
        path = os.path.join(tmp, "several.ndjson")
        write(path, lines)
        r = loci("import", "--data", srv.data, "--tenant", "acme", path)
        rep.check("several_bad_lines_reported", all(("%s:%d:" % (path, at)) in r.stderr for at in (5, 50, 500)), r.stderr)
        # a key twice in the input: found by the store itself, at the second occurrence
        lines = [line(i) for i in range(N)]
        lines[N - 1] = line(3)
        path = os.path.join(tmp, "dup.ndjson")
        write(path, lines)
        r = loci("import", "--data", srv.data, "--tenant", "acme", path)
        rep.check("duplicate_refused", r.returncode == 1 and ("%s:%d:" % (path, N)) in r.stderr and "already exists" in r.stderr,
                  r.stderr[-400:])
        rep.eq("nothing_imported_duplicate", count_objects(srv.data), 0)
        r = loci("import", "--data", srv.data, "--tenant", "nobody", good)
        rep.check("unknown_tenant", r.returncode == 1 and "tenant 'nobody' not found" in r.stderr, r.stderr)

        r = loci("import", "--data", srv.data, "--tenant", "acme", good)
        rep.check("import_ok", r.returncode == 0 and ("imported %d objects" % N) in r.stdout, r.stdout + r.stderr)
        rep.eq("imported_count", count_objects(srv.data), N)
        # importing the same inventory again conflicts on the first line and adds nothing
        r = loci("import", "--data", srv.data, "--tenant", "acme", good)
        rep.check("reimport_refused", r.returncode == 1 and (good + ":1:") in r.stderr, r.stderr[-300:])
        rep.eq("reimport_added_nothing", count_objects(srv.data), N)

        r = loci("audit", "verify", "--data", srv.data)
        rep.check("audit_verifies", r.returncode == 0 and "intact" in r.stdout, r.stdout + r.stderr)
        c = db_connect(srv.data)
        rows = c.execute("SELECT actor, subject, detail FROM audit_entries WHERE tenant = 'acme' AND action = 'object_imported'").fetchall()
        c.close()
        rep.eq("one_audit_entry_per_object", len(rows), N)
        rep.check("audit_entries_carry_no_keys", all("imp/" not in d and "legacy/" not in d and len(s) == 64 for _, s, d in rows),
                  repr(rows[:2]))

        srv.start()
        r = srv.request("GET", "/v1/objects/imp/000010", token=token)
        ok = r.status == 200
        rep.check("locate_imported", ok, repr(r))
        if ok:
            o = r.json
            rep.eq("imported_state", (o["state"], o["version"], o["size"], o["content_type"]), ("committed", 1, 110, "audio/opus"))
            rep.eq("imported_sha_lowercase", o["sha256"], "ab" * 32)
            rep.eq("imported_attrs", o["attrs"], {"n": 10})
            rep.eq("imported_location", [(l["store"], l["state"]) for l in o["locations"]], [("s3-ie", "present")])
            rep.check("url_names_existing_object", "/legacy/legacy/bucket/000010.bin?" in o["url"]["url"], o["url"]["url"])
        r = srv.request("GET", "/v1/objects?tag.shard=3&tag.kind=1&limit=1000", token=token)
        want = ["imp/%06d" % i for i in range(N) if i % 10 == 3 and i % 3 == 1]
        rep.eq("search_imported", [o["key"] for o in r.json["objects"]] if r.status == 200 else r, want)
        r = srv.request("GET", "/v1/objects?prefix=imp/0000&limit=5", token=token)
        rep.eq("list_imported", [o["key"] for o in r.json["objects"]], ["imp/%06d" % i for i in range(5)])
        # imported objects behave like any other: patch and delete go through the chain
        r = srv.request("PATCH", "/v1/objects/imp/000001", {"tags": {"set": {"x": "y"}}}, token=token)
        rep.eq("patch_imported", r.status, 200)
        r = srv.request("GET", "/v1/admin/audit/verify", token=ADMIN_TOKEN)
        rep.check("server_verifies_after_patch", r.status == 200 and r.json.get("ok") is True, repr(r))
        rep.eq("server_stops", srv.stop(), 0)
    finally:
        srv.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


rep.run("import", main)
rep.finish()
