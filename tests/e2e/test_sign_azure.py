"""Randomized cross-check of loci's Azure blob service SAS URLs against the official
@azure/storage-blob (tests/node/sign_azure.mjs): for the same store, blob name, operation,
overrides and frozen time, loci's URL (tests/tools/presign) must equal the SDK's byte for byte,
and the headers loci tells the client to send must be the ones Azure needs.

Cases (fixed seed) mix blob names with spaces, '+', '%', '~', '//', a leading '/', quotes and
other reserved characters, UTF-8 of every width and 1 KiB runs; Azurite-style endpoints
(account in the path, http, a port) and production ones (<account>.blob.core.windows.net,
https, sometimes written with capitals or the default port), public_host; the special
container $root; several accounts and keys; GET (with and without the rscd/rsct download
overrides), HEAD, PUT and DELETE, Put Block (SIGN_OP_PART, block ids of every width of part
number) and Put Block List (SIGN_OP_MP_COMPLETE). Names no URL can address (a '\\', "." or
".." segments) must be refused, as must the multipart steps Azure does not have.

Prints PASS/FAIL per group of cases; the first mismatch of a group goes to stderr."""

import base64
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, Reporter  # noqa: E402

rep = Reporter("sign")
TOOL = os.path.join(os.environ.get("LOCI_BUILD", os.path.join(ROOT, "build", "rel")), "tools", "presign")
NODE_SCRIPT = os.path.join(ROOT, "tests", "node", "sign_azure.mjs")
NOW_UNIX = 1795343415  # 2026-11-22T10:30:15Z
N_STORES = 80
N_CASES = 2000
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

PIECES = ["a", "b", "Z", "0", "9", " ", "  ", "+", "%", "%20", "%2F", "~", "-", "_", ".", "..", "/", "//", "é", "ü",
          "中文", "😀", "=", "&", "?", "#", "!", "'", "(", ")", "*", ",", ";", ":", "@", "$", "[", "]", "\u00a0", "ß",
          "Ω", "\u2028", "\ufeff", "^", "`", "{", "}", "|", "<", ">", '"', "a.b", ".x"]
CONTENT_TYPES = ["text/plain", "application/octet-stream", "audio/opus", "text/plain; charset=utf-8", "image/png",
                 "multipart/x; boundary=\"a b\""]
DISPOSITIONS = ["attachment", "inline", "attachment; filename=\"a b.txt\"", "attachment; filename=report's (1).pdf",
                "attachment; filename*=UTF-8''na%C3%AFve%20file.txt", "inline; filename=\"x+y~z%.bin\"", ""]
RESPONSE_TYPES = ["text/plain", "application/pdf", "image/png; q=0.9", "text/csv; charset=\"utf-8\"", ""]


def random_key(rng):
    r = rng.random()
    if r < 0.04:
        return "k" * rng.randint(900, 1024)
    if r < 0.06:
        return "".join(rng.choice(PIECES) for _ in range(300))[:1000]
    key = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 40)))
    if rng.random() < 0.1:
        key = "/" + key
    return key


def addressable(key):
    """What loci signs for Azure: no '\\' and no "." or ".." segment."""
    return "\\" not in key and not any(seg in (".", "..") for seg in key.split("/"))


def random_store(rng):
    account = rng.choice(["devstoreaccount1", "mystorage", "acme0eu1", "abc", "a" * 24])
    key = rng.choice([AZURITE_KEY, base64.b64encode(rng.randbytes(64)).decode(),
                      base64.b64encode(rng.randbytes(32)).decode(), base64.b64encode(rng.randbytes(17)).decode()])
    style = rng.random()
    if style < 0.5:
        host = rng.choice(["127.0.0.1", "localhost", "10.0.0.5", "[::1]"])
        endpoint = "http://%s%s/%s" % (host, rng.choice([":10000", ":8080", "", ":80"]), account)
    else:
        suffix = rng.choice(["blob.core.windows.net", "blob.core.chinacloudapi.cn", "blob.core.usgovcloudapi.net"])
        host = "%s.%s" % (account, suffix)
        if rng.random() < 0.2:
            host = host.upper()
        endpoint = "https://%s%s" % (host, rng.choice(["", "", ":443", ":8443"]))
    st = {"provider": "azure", "endpoint": endpoint, "account": account,
          "bucket": rng.choice(["mycontainer", "loci-test", "a-b-c", "$root", "c0d", "x" * 63, "acme-eu-1"]),
          "credentials": {"account_key": key}}
    if rng.random() < 0.15:
        st["public_host"] = rng.choice(["https://files.example.org", "http://cdn.example.net:8443",
                                        "https://Blob.Example.COM:443"])
    return st


def random_case(rng, store):
    r = rng.random()
    case = dict(store, key=random_key(rng), now=NOW_UNIX, expires=rng.choice([1, 60, 900, 3600, 86400, 604800]))
    if r < 0.12:
        case.update(op="part", method="PUT", part_number=rng.choice([1, 2, 9, 10, 99, 1000, 9999, 10000, 49999, 50000,
                                                                      rng.randint(1, 50000)]))
    elif r < 0.2:
        case.update(op="mp_complete", method="PUT")
        if rng.random() < 0.5:
            case["content_type"] = rng.choice(CONTENT_TYPES)
    else:
        method = rng.choice(["GET", "GET", "HEAD", "DELETE", "PUT"])
        case.update(op="object", method=method)
        if method == "PUT" and rng.random() < 0.8:
            case["content_type"] = rng.choice(CONTENT_TYPES)
        if method == "PUT" and rng.random() < 0.5:
            case["content_length"] = rng.choice([0, 1, 5, 48213])
        # overrides count on GET only; give some to the others too, which must ignore them
        if rng.random() < (0.5 if method == "GET" else 0.1):
            case["response_content_disposition"] = rng.choice(DISPOSITIONS)
        if rng.random() < (0.4 if method == "GET" else 0.1):
            case["response_content_type"] = rng.choice(RESPONSE_TYPES)
    return case


def expected_headers(case):
    h = {}
    if case["op"] == "object" and case["method"] == "PUT":
        h["x-ms-blob-type"] = "BlockBlob"
        if "content_type" in case:
            h["content-type"] = case["content_type"]
    if case["op"] == "mp_complete" and "content_type" in case:
        h["x-ms-blob-content-type"] = case["content_type"]
    return h


def run_tool(cases):
    p = subprocess.run([TOOL], input="".join(json.dumps(c) + "\n" for c in cases).encode(), capture_output=True,
                       timeout=300)
    return p.returncode, p.stdout.decode().splitlines(), p.stderr.decode()


def run_sdk(cases):
    p = subprocess.run(["node", NODE_SCRIPT], input="".join(json.dumps(c) + "\n" for c in cases).encode(),
                       capture_output=True, timeout=300, cwd=os.path.join(ROOT, "tests", "node"))
    out = [json.loads(line) for line in p.stdout.decode().splitlines()]
    return p.returncode, out, p.stderr.decode()


def group_of(case):
    if case["op"] == "part":
        return "azure_sdk_put_block"
    if case["op"] == "mp_complete":
        return "azure_sdk_put_block_list"
    g = "azure_sdk_%s" % case["method"].lower()
    if case["method"] == "GET" and (case.get("response_content_disposition") or case.get("response_content_type")):
        g += "_overrides"
    return g


def features(case):
    f = []
    k = case["key"]
    if case.get("public_host"):
        f.append("azure_public_host")
    if ".blob." in case["endpoint"].lower():
        f.append("azure_production_endpoint")
    else:
        f.append("azure_azurite_style_endpoint")
    if case["endpoint"].endswith(":443") or (case.get("public_host") or "").endswith(":443") or ":80/" in case["endpoint"]:
        f.append("azure_default_port_written")
    if any(c.isupper() for c in case["endpoint"].split("://")[1].split("/")[0]):
        f.append("azure_uppercase_host")
    if case["bucket"] == "$root":
        f.append("azure_root_container")
    if any(ord(c) > 127 for c in k):
        f.append("azure_unicode_key")
    if " " in k or "+" in k or "%" in k or "~" in k:
        f.append("azure_space_plus_percent_tilde")
    if any(c in k for c in "'!*()"):
        f.append("azure_js_marks")
    if "//" in k or k.startswith("/"):
        f.append("azure_empty_segments")
    if len(k.encode()) > 512:
        f.append("azure_long_key")
    if case["op"] == "object" and case["method"] != "GET" and (case.get("response_content_disposition")
                                                               or case.get("response_content_type")):
        f.append("azure_overrides_ignored_off_get")
    return f


def compare(cases):
    good = [c for c in cases if addressable(c["key"])]
    rc, ours, err = run_tool(good)
    rep.check("azure_presign_tool_answers_every_case", rc == 0 and len(ours) == len(good), err[-500:])
    rc, sdk, err = run_sdk(good)
    rep.check("azure_sdk_answers_every_case", rc == 0 and len(sdk) == len(good) and not any("error" in s for s in sdk),
              err[-500:] + repr([s for s in sdk if "error" in s][:2]))
    groups, feats = {}, {}
    sdk_self = [0, 0, None]
    for case, line, ref in zip(good, ours, sdk):
        url, _, headers = line.partition("\t")
        want = ref.get("url")
        ok = not line.startswith("ERROR") and url == want and json.loads(headers or "null") == expected_headers(case)
        if "sdk_url" in ref:
            sdk_self[0] += 1
            if ref["sdk_url"] != want:
                sdk_self[1] += 1
                sdk_self[2] = sdk_self[2] or "%r\n  url:     %s\n  sdk_url: %s" % (case["key"], want, ref["sdk_url"])
        for name, table in [(group_of(case), groups)] + [(f, feats) for f in features(case)]:
            g = table.setdefault(name, [0, 0, None])
            g[0] += 1
            if not ok:
                g[1] += 1
                if g[2] is None:
                    g[2] = "case %s\n  loci: %s\n  sdk:  %s\n  headers wanted: %s" % (
                        json.dumps(case, ensure_ascii=False)[:600], line[:900], (want or str(ref))[:900],
                        expected_headers(case))
    for table in (groups, feats):
        for name in sorted(table):
            total, bad, example = table[name]
            print("# %s: %d cases, %d differ" % (name, total, bad))
            rep.check(name, bad == 0, "%d of %d differ; first:\n%s" % (bad, total, example))
    print("# generateSasUrl usable for %d cases" % sdk_self[0])
    rep.check("azure_sdk_generate_sas_url_agrees", sdk_self[0] > 200 and sdk_self[1] == 0,
              "%d of %d differ: %s" % (sdk_self[1], sdk_self[0], sdk_self[2]))
    rep.check("azure_at_least_1000_cases_compared", len(good) >= 1000, len(good))
    want_groups = {"azure_sdk_get", "azure_sdk_get_overrides", "azure_sdk_head", "azure_sdk_put", "azure_sdk_delete",
                   "azure_sdk_put_block", "azure_sdk_put_block_list"}
    want_feats = {"azure_public_host", "azure_production_endpoint", "azure_azurite_style_endpoint",
                  "azure_default_port_written", "azure_uppercase_host", "azure_root_container", "azure_unicode_key",
                  "azure_space_plus_percent_tilde", "azure_js_marks", "azure_empty_segments", "azure_long_key",
                  "azure_overrides_ignored_off_get"}
    rep.check("azure_every_group_and_feature_covered", set(groups) == want_groups and want_feats <= set(feats),
              "groups %s, features %s" % (sorted(groups), sorted(feats)))
    print("# %d cases compared with @azure/storage-blob" % len(good))


def refusals(cases, store, rng):
    """Names no URL can address, multipart steps Azure has no use for, overrides that cannot be
    response headers: each must give an ERROR line, never a URL."""
    bad = [c for c in cases if not addressable(c["key"])]
    print("# %d random names refused as unaddressable" % len(bad))
    for key in ["a\\b", "\\", "./a", "a/.", "a/../b", "..", ".", "a/./b", "x/..", "é\\ü"]:
        bad.append(dict(store, key=key, op="object", method=rng.choice(["GET", "PUT", "HEAD", "DELETE"]), now=NOW_UNIX,
                        expires=60))
    for op in ("mp_create", "mp_abort"):
        bad.append(dict(store, key="k", op=op, method="POST", mp_id="x", now=NOW_UNIX, expires=60))
    base = dict(store, key="k", op="object", now=NOW_UNIX, expires=60)
    bad.append(dict(base, method="GET", response_content_disposition="attachment; filename=é"))
    bad.append(dict(base, method="GET", response_content_type="text/plain\r\nx: 1"))
    bad.append(dict(base, method="PUT", content_type="text/plain\nx: 1"))
    bad.append(dict(base, op="mp_complete", method="PUT", content_type="text/\x7fplain"))
    rc, ours, err = run_tool(bad)
    wrong = [(c["key"], c["op"], line) for c, line in zip(bad, ours) if not line.startswith("ERROR ")]
    rep.check("azure_refuses_unaddressable_and_unneeded", rc == 0 and len(ours) == len(bad) and not wrong,
              "%s %s" % (err[-300:], wrong[:5]))
    ops = [line for c, line in zip(bad, ours) if c["op"] in ("mp_create", "mp_abort")]
    rep.check("azure_mp_create_abort_not_needed", ops == ["ERROR not needed for azure"] * 2, ops)


def main():
    rng = random.Random(20261122)
    stores = [random_store(rng) for _ in range(N_STORES)]
    cases = [random_case(rng, rng.choice(stores)) for _ in range(N_CASES)]
    rep.run("azure_compare_with_sdk", compare, cases)
    rep.run("azure_refusals", refusals, cases, stores[0], rng)
    rep.finish()


if __name__ == "__main__":
    main()
