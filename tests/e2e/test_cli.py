"""End-to-end tests of the loci CLI against the real server (embedded default)."""

import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ADMIN_TOKEN, Reporter, Server, http_get, run_cli  # noqa: E402

rep = Reporter("cli")


def lifecycle(srv, tok):
    url = srv.url
    work = os.path.join(srv.data, "work")
    os.makedirs(work)
    src = os.path.join(work, "in.bin")
    data = os.urandom(3 * 1024 * 1024 + 17)
    open(src, "wb").write(data)
    key = "cli/dir with space/file+1~%.bin"

    rc, out, err = run_cli(["put", src, key, "--tag", "kind=test", "--tag", "team=a", "--attr", '{"n":1}',
                            "--content-type", "application/x-test"], url, tok)
    rep.check("put_exit_0", rc == 0, err)
    rep.check("put_prints_id", b"id=eu1." in out and b"version=1" in out, out)

    rc, out, err = run_cli(["stat", key], url, tok)
    st = json.loads(out) if rc == 0 else {}
    rep.check("stat", rc == 0 and st.get("key") == key and st.get("size") == len(data)
              and st.get("sha256") == hashlib.sha256(data).hexdigest() and st.get("tags") == {"kind": "test", "team": "a"}
              and st.get("attrs") == {"n": 1} and st.get("content_type") == "application/x-test", (rc, out[:300], err))

    dst = os.path.join(work, "out.bin")
    rc, out, err = run_cli(["get", key, "-o", dst], url, tok)
    rep.check("get_roundtrip", rc == 0 and open(dst, "rb").read() == data, err)

    rc, out, err = run_cli(["get", key], url, tok)
    rep.check("get_to_stdout", rc == 0 and out == data, err)

    rc, out, err = run_cli(["url", key], url, tok)
    status, _, body = http_get(out.decode().strip()) if rc == 0 else (0, None, b"")
    rep.check("url_downloads", rc == 0 and status == 200 and body == data, err)
    rc, out, err = run_cli(["url", key, "--filename", "Bericht März.txt", "--content-type", "text/plain"], url, tok)
    status, headers, body = http_get(out.decode().strip()) if rc == 0 else (0, {}, b"")
    rep.check("url_download_overrides", rc == 0 and status == 200 and body == data
              and headers.get("content-type") == "text/plain"
              and headers.get("content-disposition") == "attachment; filename=\"Bericht M_rz.txt\"; "
              "filename*=UTF-8''Bericht%20M%C3%A4rz.txt", (err, headers))

    for k in ("cli/a/1", "cli/a/2", "cli/b"):
        p = os.path.join(work, "small")
        open(p, "wb").write(k.encode())
        rc, _, err = run_cli(["put", p, k, "--tag", "kind=small"], url, tok)
        assert rc == 0, err
    rc, out, err = run_cli(["ls", "cli/", "--delimiter", "/"], url, tok)
    lines = out.decode().splitlines()
    rep.check("ls_delimiter", rc == 0 and any(l.startswith("PRE") and l.endswith("cli/a/") for l in lines)
              and any(l.endswith("cli/b") for l in lines) and not any(l.endswith("cli/a/1") for l in lines), out)
    rc, out, err = run_cli(["ls", "cli/", "--tag", "kind=small"], url, tok)
    keys = [l.split()[-1] for l in out.decode().splitlines()]
    rep.eq("ls_tag", keys, ["cli/a/1", "cli/a/2", "cli/b"])

    rc, out, err = run_cli(["tag", key, "kind=changed", "--remove", "team"], url, tok)
    rep.check("tag_exit_0", rc == 0, err)
    rc, out, err = run_cli(["stat", key], url, tok)
    rep.eq("tag_applied", json.loads(out)["tags"] if rc == 0 else None, {"kind": "changed"})
    rc, out, err = run_cli(["tag", key, "x=y", "--if-match", "1"], url, tok)
    rep.check("tag_if_match_stale_fails", rc == 1 and "precondition_failed" in err, (rc, err))

    rc, out, err = run_cli(["put", src, key, "--if-none-match"], url, tok)
    rep.check("put_if_none_match_fails", rc == 1 and "precondition_failed" in err, (rc, err))

    rc, out, err = run_cli(["rm", key], url, tok)
    rep.check("rm_exit_0", rc == 0, err)
    rc, out, err = run_cli(["stat", key], url, tok)
    rep.check("stat_after_rm_fails", rc == 1 and "not_found" in err, (rc, err))
    rc, out, err = run_cli(["get", key, "-o", dst], url, tok)
    rep.check("get_missing_keeps_file", rc == 1 and open(dst, "rb").read() == data, (rc, err))


def errors(srv, tok):
    url = srv.url
    rc, out, err = run_cli(["stat", "x"], url, None)
    rep.check("no_token_fails", rc == 1 and "unauthorized" in err, (rc, err))
    rc, out, err = run_cli(["put"], url, tok)
    rep.eq("usage_error_exit_2", rc, 2)
    rc, out, err = run_cli(["put", "/nonexistent/file", "k"], url, tok)
    rep.check("missing_file", rc != 0 and "nonexistent" in err, (rc, err))
    rc, out, err = run_cli(["stat", "x"], "http://127.0.0.1:1", tok)
    rep.check("server_down", rc == 1 and err.strip() != "", (rc, err))
    rc, out, err = run_cli(["bogus"], url, tok)
    rep.eq("unknown_command_exit_2", rc, 2)


def admin(srv):
    url = srv.url
    env = {"LOCI_ADMIN_TOKEN": ADMIN_TOKEN}
    rc, out, err = run_cli(["admin", "tenants", "put", "clitenant", "--jurisdiction", "DE", "--copies", "1"], url, env=env)
    rep.check("admin_tenant_put", rc == 0, err)
    rc, out, err = run_cli(["admin", "tenants", "get", "clitenant"], url, env=env)
    rep.check("admin_tenant_get", rc == 0 and json.loads(out)["jurisdictions"] == ["DE"], (out, err))
    rc, out, err = run_cli(["admin", "keys", "create", "clitenant", "--scope", "read"], url, env=env)
    token = out.decode().strip()
    rep.check("admin_key_create", rc == 0 and token.startswith("lk_eu1_"), (out, err))
    key_id = err.strip().split()[-1] if rc == 0 else ""
    rc2, out2, err2 = run_cli(["ls"], url, token)
    rep.check("new_token_reads", rc2 == 0, err2)
    p = os.path.join(srv.data, "f")
    open(p, "wb").write(b"x")
    rc2, out2, err2 = run_cli(["put", p, "k"], url, token)
    rep.check("read_token_cannot_write", rc2 == 1 and "forbidden" in err2, (rc2, err2))
    rc, out, err = run_cli(["admin", "keys", "list", "clitenant"], url, env=env)
    rep.check("admin_key_list", rc == 0 and key_id and key_id.encode() in out, (out, err))
    rc, out, err = run_cli(["admin", "keys", "revoke", "clitenant", key_id], url, env=env)
    rep.check("admin_key_revoke", rc == 0, err)
    rc2, out2, err2 = run_cli(["ls"], url, token)
    rep.check("revoked_token_refused", rc2 == 1 and "unauthorized" in err2, (rc2, err2))
    rc, out, err = run_cli(["admin", "stores", "put", "cli-local", "--provider", "local", "--country", "FR"], url, env=env)
    rep.check("admin_store_put", rc == 0, err)
    rc, out, err = run_cli(["admin", "stores", "list"], url, env=env)
    rep.check("admin_store_list", rc == 0 and b"cli-local" in out and b"secret" not in out, (out, err))
    rc, out, err = run_cli(["admin", "stores", "delete", "cli-local"], url, env=env)
    rep.check("admin_store_delete", rc == 0, err)
    rc, out, err = run_cli(["admin", "stores", "get", "cli-local"], url, env=env)
    rep.check("admin_store_gone", rc == 1 and "not_found" in err, (rc, err))
    rc, out, err = run_cli(["admin", "tenants", "list", "--token", srv.demo_token], url)
    rep.check("tenant_token_not_admin", rc == 1 and "forbidden" in err, (rc, err))

    # every provider's store from the command line; the server validates the credentials
    sa = os.path.join(os.environ["LOCI_TEST_VECTORS"], "gcs", "test_service_account.not-a-test.json")
    stores = [
        ("cli-gcs", ["--provider", "gcs", "--bucket", "acme-eu", "--country", "BE", "--service-account-file", sa]),
        ("cli-gcs-hmac", ["--provider", "gcs", "--bucket", "acme-eu", "--country", "BE", "--hmac-access-id", "GOOG1X",
                          "--hmac-secret", "c2VjcmV0"]),
        ("cli-azure", ["--provider", "azure", "--endpoint", "https://acmeeu.blob.core.windows.net", "--account", "acmeeu",
                       "--bucket", "objects", "--country", "NL", "--account-key", "c2VjcmV0c2VjcmV0c2VjcmV0"]),
        ("cli-swift", ["--provider", "swift", "--endpoint", "https://swift.example.ch/v1/AUTH_acme", "--bucket", "objects",
                       "--country", "CH", "--temp-url-key", "k" * 32, "--public-host", "https://cdn.example.ch"]),
    ]
    for sid, args in stores:
        rc, out, err = run_cli(["admin", "stores", "put", sid] + args, url, env=env)
        st = json.loads(out) if rc == 0 else {}
        rep.check("admin_store_put_" + sid, rc == 0 and st.get("has_credentials") is True
                  and st.get("provider") == args[1] and b"secret" not in out and b"PRIVATE" not in out, (out, err))
    rc, out, err = run_cli(["admin", "stores", "put", "x", "--provider", "gcs", "--bucket", "b", "--country", "BE",
                            "--hmac-access-id", "GOOG1X"], url, env=env)
    rep.check("admin_store_hmac_pair_usage", rc == 2 and "go together" in err, (rc, err))
    rc, out, err = run_cli(["admin", "stores", "put", "x", "--provider", "gcs", "--bucket", "b", "--country", "BE",
                            "--service-account-file", "/nonexistent/key.json"], url, env=env)
    rep.check("admin_store_missing_key_file", rc == 1 and "/nonexistent/key.json" in err, (rc, err))
    bad = os.path.join(srv.data, "bad-key.json")
    open(bad, "w").write('{"type": "service_account", "private_key": "not a key"}')
    rc, out, err = run_cli(["admin", "stores", "put", "x", "--provider", "gcs", "--bucket", "b", "--country", "BE",
                            "--service-account-file", bad], url, env=env)
    rep.check("admin_store_bad_key_refused", rc == 1 and "bad_request" in err and "not a key" not in err, (rc, err))
    for sid, _ in stores:
        run_cli(["admin", "stores", "delete", sid], url, env=env)


def main():
    with Server() as srv:
        tok = srv.demo_token
        rep.run("lifecycle", lifecycle, srv, tok)
        rep.run("errors", errors, srv, tok)
        rep.run("admin", admin, srv)
    rep.finish()


if __name__ == "__main__":
    main()
