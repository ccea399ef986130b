"""End-to-end through Azurite in strict mode (it checks SAS signatures, expiry, permissions and
protocol): an `azure` store pointing at Azurite, `loci put` / `get` / `stat` / `rm` round-tripping
bytes through it, Azurite refusing tampered, expired, wrongly keyed and wrong-method requests,
what a SAS PUT does not bind (type, length) and how loci's complete catches a wrong size, loci
refusing to complete an upload that never happened, and erasure of replaced and deleted copies
at the store (loci's background signed DELETEs).

Azurite is stopped at the end whatever happens (azuriteenv); the check `azurite_stopped` proves
its process is gone."""

import base64
import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from azuriteenv import AzuriteEnv  # noqa: E402
from harness import ROOT, Reporter, Server, http_call, http_get, http_put, run_cli  # noqa: E402

rep = Reporter("azure")
TOOL = os.path.join(os.environ.get("LOCI_BUILD", os.path.join(ROOT, "build", "rel")), "tools", "presign")


def quote(key):
    return urllib.parse.quote(key, safe="/")


def flip_signature(url):
    i = url.index("&sig=") + len("&sig=")
    return url[:i] + ("A" if url[i] != "A" else "B") + url[i + 1:]


def presign(az, key, method, account_key=None, **extra):
    """A URL signed by loci's presign tool for the Azurite store (optionally with another key)."""
    case = {"provider": "azure", "endpoint": az.url, "account": az.account, "bucket": az.container,
            "credentials": {"account_key": account_key or az.key}, "method": method, "key": key,
            "now": int(time.time()), "expires": 300}
    case.update(extra)
    p = subprocess.run([TOOL], input=(json.dumps(case) + "\n").encode(), capture_output=True, timeout=30)
    line = p.stdout.decode().strip()
    if p.returncode != 0 or line.startswith("ERROR") or "\t" not in line:
        raise RuntimeError("presign: %s %s" % (line, p.stderr.decode()))
    url, _, headers = line.partition("\t")
    return url, json.loads(headers)


def wait_for_names(az, want, timeout=20):
    deadline = time.time() + timeout
    left = sorted(az.list_names())
    while left != sorted(want) and time.time() < deadline:
        time.sleep(0.3)
        left = sorted(az.list_names())
    return left


TRICKY = ["dir/a b+c~%'!*()\u00e9\U0001f600.txt", "//x//y/", "a%2Fb%20c", "\u00fc/\u4e2d\u6587 name", "semi;colon=eq&amp?#hash",
          "x" * 1000]


def names_and_blocks(az):
    """Blob names loci itself never makes (imported objects keep theirs), and Put Block / Put
    Block List, signed by loci's presign tool and checked by Azurite."""
    ok = []
    for name in TRICKY:
        put_url, hdrs = presign(az, name, "PUT", content_type="application/x-test")
        s_put = http_put(put_url, name.encode(), hdrs)[0]
        get_url, _ = presign(az, name, "GET")
        s_get, _, body = http_get(get_url)
        ok.append((name, s_put, s_get, body == name.encode()))
    rep.check("azurite_accepts_tricky_names", all(p == 201 and g == 200 and b for _, p, g, b in ok), ok)
    listed = az.list_names()
    rep.check("azurite_stores_tricky_names_exactly", all(n in listed for n in TRICKY), listed)
    statuses = [http_call("DELETE", presign(az, name, "DELETE")[0])[0] for name in TRICKY]
    rep.check("azurite_deletes_tricky_names", statuses == [202] * len(TRICKY), statuses)

    # two blocks and the block list: loci's signer for each step, Azurite checks each
    name = "nl/blocks test"
    parts = [os.urandom(70000), os.urandom(1234)]
    statuses = []
    for i, part in enumerate(parts, 1):
        url, hdrs = presign(az, name, "PUT", op="part", part_number=i)
        statuses.append(http_put(url, part, hdrs)[0])
    rep.eq("azurite_accepts_put_block", statuses, [201, 201])
    # blocks are not a blob until the list is committed
    rep.eq("blocks_not_a_blob_yet", http_get(presign(az, name, "GET")[0])[0], 404)
    url, hdrs = presign(az, name, "PUT", op="mp_complete", content_type="application/x-blocks")
    rep.check("complete_signs_blocklist", url.endswith("&comp=blocklist") and "&sp=cw&" in url
              and hdrs == {"x-ms-blob-content-type": "application/x-blocks"}, (url, hdrs))
    ids = "".join("<Latest>%s</Latest>" % base64.b64encode(b"%08d" % i).decode() for i in (1, 2))
    xml = ('<?xml version="1.0" encoding="utf-8"?><BlockList>%s</BlockList>' % ids).encode()
    # Put Block List is a PUT (the caller of SIGN_OP_MP_COMPLETE must not send sign_presign's POST)
    status = http_call("POST", url, xml, dict(hdrs, **{"content-type": "application/xml"}))[0]
    rep.check("azurite_blocklist_is_a_put_not_a_post", status // 100 == 4, status)
    rep.eq("azurite_accepts_put_block_list", http_put(url, xml, dict(hdrs, **{"content-type": "application/xml"}))[0], 201)
    status, rh, body = http_get(presign(az, name, "GET")[0])
    rep.check("blocks_assembled", status == 200 and body == b"".join(parts) and rh.get("content-type") == "application/x-blocks",
              (status, rh, len(body)))
    # a block URL is only good for writing
    block_url, _ = presign(az, name, "PUT", op="part", part_number=1)
    rep.eq("azurite_refuses_block_url_for_read", http_get(block_url)[0], 403)
    rep.eq("azurite_deletes_assembled", http_call("DELETE", presign(az, name, "DELETE")[0])[0], 202)


def run(az, srv):
    r = srv.admin("PUT", "/v1/admin/stores/az-nl", {
        "provider": "azure", "endpoint": az.url, "account": az.account, "bucket": az.container, "country": "NL",
        "credentials": {"account_key": az.key}})
    rep.eq("store_created", r.status, 201)
    tok = srv.make_tenant("nl", jurisdictions=["NL"])
    work = os.path.join(srv.data, "work")
    os.makedirs(work)
    src = os.path.join(work, "in.bin")
    data = os.urandom(1024 * 1024 + 3)
    with open(src, "wb") as f:
        f.write(data)
    key = "patients/Jane Doe+x~%/scan'(1).bin"

    # put, located in Azurite under <tenant>/<id>, never the key
    rc, out, err = run_cli(["put", src, key, "--tag", "kind=scan"], srv.url, tok)
    rep.check("cli_put_through_azurite", rc == 0, err)
    r = srv.request("GET", "/v1/objects/" + quote(key), token=tok)
    obj = r.json or {}
    rep.check("located_in_azurite", r.status == 200 and obj["locations"][0]["store"] == "az-nl"
              and obj["state"] == "committed"
              and obj["url"]["url"].startswith(az.url + "/" + az.container + "/nl/"), r)
    names = az.list_names()
    rep.check("store_holds_tenant_and_id_not_key", names == ["nl/" + obj["id"]], names)

    # get and stat through the CLI
    dst = os.path.join(work, "out.bin")
    rc, out, err = run_cli(["get", key, "-o", dst], srv.url, tok)
    rep.check("cli_get_through_azurite", rc == 0 and open(dst, "rb").read() == data, err)
    rc, out, err = run_cli(["stat", key], srv.url, tok)
    st = json.loads(out or b"{}") if rc == 0 else {}
    rep.check("cli_stat", rc == 0 and st.get("size") == len(data) and st.get("sha256") == hashlib.sha256(data).hexdigest()
              and st["locations"][0]["store"] == "az-nl", (rc, err, out[:300]))
    h = srv.request("HEAD", "/v1/objects/" + quote(key), token=tok)
    rep.eq("api_head_200", h.status, 200)

    # the signed GET itself, and a HEAD with it (r allows both)
    url = obj["url"]["url"]
    status, hdrs, body = http_get(url)
    rep.check("azurite_accepts_loci_get", status == 200 and hashlib.sha256(body).hexdigest() == obj["sha256"], status)
    status, hdrs, _ = http_call("HEAD", url)
    rep.check("azurite_accepts_loci_head", status == 200 and hdrs.get("content-length") == str(len(data)), (status, hdrs))

    # what Azurite refuses
    rep.eq("azurite_refuses_tampered_signature", http_get(flip_signature(url))[0], 403)
    other = url.replace(obj["id"], obj["id"][:-1] + ("0" if obj["id"][-1] != "0" else "1"))
    rep.eq("azurite_refuses_url_for_another_blob", http_get(other)[0], 403)
    rep.eq("azurite_refuses_get_url_for_put", http_put(url, b"evil", {"x-ms-blob-type": "BlockBlob"})[0], 403)
    rep.eq("azurite_refuses_get_url_for_delete", http_call("DELETE", url)[0], 403)
    rep.eq("azurite_refuses_tampered_permissions", http_call("DELETE", url.replace("&sp=r&", "&sp=rd&"))[0], 403)
    wrong_key = base64.b64encode(os.urandom(64)).decode()
    bad_url, _ = presign(az, "nl/" + obj["id"], "GET", account_key=wrong_key)
    rep.eq("azurite_refuses_wrong_key", http_get(bad_url)[0], 403)
    good_url, _ = presign(az, "nl/" + obj["id"], "GET")
    rep.eq("azurite_accepts_presign_tool_url", http_get(good_url)[0], 200)
    short = srv.request("GET", "/v1/objects/" + quote(key) + "?expires=1", token=tok).json["url"]["url"]
    time.sleep(2.5)
    rep.eq("azurite_refuses_expired", http_get(short)[0], 403)
    rep.eq("object_still_in_azurite", http_get(url)[0], 200)

    # download overrides: signed, so Azurite serves them, and refuses them changed
    ov_url, _ = presign(az, "nl/" + obj["id"], "GET", response_content_disposition='attachment; filename="Jane\'s scan.bin"',
                        response_content_type="application/x-scan")
    status, hdrs, _ = http_get(ov_url)
    rep.check("azurite_serves_signed_overrides", status == 200 and hdrs.get("content-disposition") ==
              'attachment; filename="Jane\'s scan.bin"' and hdrs.get("content-type") == "application/x-scan", (status, hdrs))
    rep.eq("azurite_refuses_changed_override", http_get(ov_url.replace("rsct=application%2Fx-scan",
                                                                       "rsct=text%2Fhtml"))[0], 403)

    # complete before the bytes are there: refused by loci, object stays pending
    start = srv.request("PUT", "/v1/objects/early", {"size": 4, "content_type": "text/plain"}, token=tok)
    t = start.json["targets"][0]
    rep.check("put_target_headers", t["headers"] == {"x-ms-blob-type": "BlockBlob", "content-type": "text/plain"}
              and t["method"] == "PUT", t)
    c = srv.request("POST", "/v1/uploads/%s/complete" % start.json["upload_id"], token=tok)
    rep.eq("complete_before_upload_409", (c.status, c.error_code), (409, "conflict"))
    rep.eq("early_not_visible", srv.request("GET", "/v1/objects/early", token=tok).status, 404)
    # a PUT URL cannot read or delete; Put Blob needs x-ms-blob-type
    rep.eq("azurite_refuses_put_url_for_get", http_get(t["url"])[0], 403)
    rep.eq("azurite_refuses_put_url_for_delete", http_call("DELETE", t["url"])[0], 403)
    rep.eq("azurite_needs_blob_type", http_put(t["url"], b"1234", {"content-type": "text/plain"})[0], 400)
    rep.eq("azurite_accepts_signed_put", http_put(t["url"], b"1234", t["headers"])[0], 201)
    c = srv.request("POST", "/v1/uploads/%s/complete" % start.json["upload_id"], token=tok)
    rep.eq("complete_after_upload_200", c.status, 200)
    got = srv.request("GET", "/v1/objects/early", token=tok).json
    status, hdrs, body = http_get(got["url"]["url"])
    rep.check("early_bytes_and_type", status == 200 and body == b"1234" and hdrs.get("content-type") == "text/plain",
              (status, hdrs, body))

    # what a SAS cannot bind: another type or length goes through; loci's complete sees the size
    start = srv.request("PUT", "/v1/objects/short", {"size": 10, "content_type": "text/plain"}, token=tok)
    t = start.json["targets"][0]
    status = http_put(t["url"], b"123", dict(t["headers"], **{"content-type": "text/html"}))[0]
    rep.eq("azurite_put_type_and_length_not_bound", status, 201)
    c = srv.request("POST", "/v1/uploads/%s/complete" % start.json["upload_id"], token=tok)
    rep.check("complete_wrong_size_409", c.status == 409 and "3 bytes" in c.json["error"]["message"], c)
    rep.eq("abort_204", srv.request("DELETE", "/v1/uploads/" + start.json["upload_id"], token=tok).status, 204)

    names_and_blocks(az)

    # overwrite and delete: the old copies are erased at Azurite by loci's signed DELETEs
    rc, out, err = run_cli(["put", src, key], srv.url, tok)
    rep.check("cli_put_again", rc == 0, err)
    new_id = srv.request("GET", "/v1/objects/" + quote(key), token=tok).json["id"]
    rc, out, err = run_cli(["rm", key], srv.url, tok)
    rep.check("cli_rm", rc == 0, err)
    rep.eq("removed_not_visible", srv.request("GET", "/v1/objects/" + quote(key), token=tok).status, 404)
    early_id = srv.request("GET", "/v1/objects/early", token=tok).json["id"]
    keep = ["nl/" + early_id]
    left = wait_for_names(az, keep)
    rep.check("replaced_aborted_deleted_copies_erased", left == keep, (left, keep, obj["id"], new_id))
    rep.eq("erased_blob_gone_at_azurite", http_get(az.blob_url("nl/" + obj["id"], "r"))[0], 404)


def main():
    pid = None
    try:
        with AzuriteEnv() as az, Server() as srv:
            pid = az.pid()
            rep.check("azurite_running", pid is not None and os.path.exists("/proc/%d" % pid), pid)
            rep.run("azure", run, az, srv)
            rep.eq("loci_exits_cleanly", srv.stop(), 0)
    except Exception as e:
        rep.check("environment", False, repr(e))
    if pid is not None:
        try:
            with open("/proc/%d/stat" % pid) as f:
                gone = f.read().rsplit(") ", 1)[1].split()[0] in ("Z", "X")
        except OSError:
            gone = True
        rep.check("azurite_stopped", gone, pid)
    rep.finish()


if __name__ == "__main__":
    main()
