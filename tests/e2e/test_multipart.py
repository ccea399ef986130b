"""Large uploads in parts against real verifiers, through loci's API and CLI.

S3 multipart through OpenStack Swift's s3api (loci starts the upload itself with a signed POST,
hands out part URLs, completes with the parts' ETags, aborts abandoned uploads) and Azure block
blobs through Azurite (Put Block per part, Put Block List at complete). Also: the part layout
loci chooses, refreshing part URLs, the checks complete makes on the parts it is given, stores
that take no parts, download overrides honoured by each store, and `loci put` uploading a file
in parallel parts."""

import hashlib
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from azuriteenv import AzuriteEnv  # noqa: E402
from harness import Reporter, Server, http_call, http_get, http_put, quote_key, run_cli  # noqa: E402
from swiftenv import SwiftEnv  # noqa: E402

rep = Reporter("multipart")
MiB = 1 << 20


def start(srv, tok, key, data, parts=None, query=""):
    body = {"size": len(data), "content_type": "application/x-test", "sha256": hashlib.sha256(data).hexdigest()}
    if parts is not None:
        body["parts"] = parts
    return srv.request("PUT", "/v1/objects/" + quote_key(key) + query, body, token=tok)


def put_parts(mp, data, urls):
    """PUTs every part with its signed URL; returns {part_number: etag} and the statuses."""
    etags, statuses = {}, []
    ps = mp["part_size"]
    for n in range(1, mp["part_count"] + 1):
        u = urls[n]
        status, headers, _ = http_put(u["url"], data[(n - 1) * ps:n * ps], u["headers"])
        statuses.append(status)
        etags[n] = headers.get("etag")
    return etags, statuses


def refresh(srv, tok, upload_id, store, numbers, query=""):
    return srv.request("POST", "/v1/uploads/%s/parts%s" % (upload_id, query),
                       {"store": store, "part_numbers": numbers}, token=tok)


def complete(srv, tok, upload_id, parts=None):
    return srv.request("POST", "/v1/uploads/%s/complete" % upload_id, {"parts": parts} if parts is not None else None,
                       token=tok)


def s3_client(sw):
    """botocore on the same credentials: an independent S3 client."""
    import botocore.config
    import botocore.session
    s = botocore.session.get_session()
    return s.create_client("s3", endpoint_url=sw.url, region_name=sw.region, aws_access_key_id=sw.access_key,
                           aws_secret_access_key=sw.secret_key,
                           config=botocore.config.Config(s3={"addressing_style": "path"}))


def s3_uploads_in_progress(sw):
    """Multipart uploads Swift's s3api still holds for the bucket."""
    return [u["Key"] for u in s3_client(sw).list_multipart_uploads(Bucket=sw.bucket).get("Uploads", [])]


def run_s3(sw, srv, tok):
    data = os.urandom(12 * MiB + 12345)
    key = "scans/big one+%.bin"
    r = start(srv, tok, key, data, parts=4)
    rep.eq("start_201", r.status, 201)
    t = r.json["targets"][0]
    mp = t.get("multipart", {})
    # 4 parts asked of 12 MiB: 3 MiB parts are below S3's 5 MiB minimum, so 5 MiB parts, 3 of them
    rep.eq("layout_raised_to_store_minimum", (mp.get("part_size"), mp.get("part_count")), (5 * MiB, 3))
    rep.check("target_shape", t["store"] == "swift-at" and "url" not in t and len(mp["parts"]) == 3
              and all("partNumber=%d" % p["part_number"] in p["url"] and "uploadId=" in p["url"] for p in mp["parts"])
              and mp["parts"][2]["headers"].get("content-length") == str(len(data) - 10 * MiB), t)
    upload_id = r.json["upload_id"]
    urls = {p["part_number"]: p for p in mp["parts"]}
    # the store refuses a tampered part URL, a part URL used for another part, and a wrong size
    p1 = urls[1]
    bad = p1["url"].replace("X-Amz-Signature=", "X-Amz-Signature=0")
    rep.eq("part_tampered_refused", http_put(bad, data[:5 * MiB], p1["headers"])[0], 403)
    moved = p1["url"].replace("partNumber=1", "partNumber=2")
    rep.eq("part_url_for_other_part_refused", http_put(moved, data[5 * MiB:10 * MiB], p1["headers"])[0], 403)
    rep.eq("part_wrong_length_refused", http_put(p1["url"], data[:5 * MiB - 1], dict(p1["headers"], **{"content-length": str(5 * MiB - 1)}))[0], 403)

    # fresh URLs for parts 2 and 3 (a long upload outlives its URLs)
    fr = refresh(srv, tok, upload_id, "swift-at", [2, 3], "?expires=120")
    rep.check("refresh_parts", fr.status == 200 and [p["part_number"] for p in fr.json["parts"]] == [2, 3]
              and fr.json["parts"][0]["url"] != urls[2]["url"], fr)
    for p in fr.json["parts"]:
        urls[p["part_number"]] = p
    rep.eq("refresh_beyond_count_400", refresh(srv, tok, upload_id, "swift-at", [4]).error_code, "bad_request")
    rep.eq("refresh_unknown_store_400", refresh(srv, tok, upload_id, "nowhere", [1]).error_code, "bad_request")
    rep.eq("refresh_unknown_upload_404", refresh(srv, tok, "eu1.00000000000000000000000000", "swift-at", [1]).status, 404)

    etags, statuses = put_parts(mp, data, urls)
    rep.check("parts_accepted_by_swift", statuses == [200, 200, 200] and all(etags.values()), (statuses, etags))
    parts = [{"store": "swift-at", "part_number": n, "etag": etags[n]} for n in (1, 2, 3)]
    # complete's checks on the parts it is given, before anything reaches the store
    c = complete(srv, tok, upload_id, parts[:2])
    rep.check("complete_missing_part_400", c.status == 400 and "part 3" in c.json["error"]["message"], c)
    c = complete(srv, tok, upload_id, parts + [parts[0]])
    rep.check("complete_duplicate_part_400", c.status == 400 and "twice" in c.json["error"]["message"], c)
    c = complete(srv, tok, upload_id, [dict(parts[0], etag=None)] + parts[1:])
    rep.eq("complete_without_etag_400", c.status, 400)
    # a wrong ETag: the store refuses to assemble, nothing is committed
    wrong = [dict(parts[0], etag='"%s"' % ("0" * 32))] + parts[1:]
    c = complete(srv, tok, upload_id, wrong)
    rep.check("complete_wrong_etag_409", c.status == 409 and "assemble" in c.json["error"]["message"], c)
    rep.eq("not_visible_before_complete", srv.request("GET", "/v1/objects/" + quote_key(key), token=tok).status, 404)
    c = complete(srv, tok, upload_id, parts)
    rep.check("complete_200", c.status == 200 and c.json["object"]["size"] == len(data)
              and c.json["object"]["state"] == "committed", c)
    # a retried complete (say the answer was lost) finds the upload already assembled
    rep.eq("complete_again_404", complete(srv, tok, upload_id, parts).status, 404)
    g = srv.request("GET", "/v1/objects/" + quote_key(key), token=tok)
    status, _, body = http_get(g.json["url"]["url"])
    rep.check("bytes_round_trip", status == 200 and body == data, (status, len(body)))
    rep.eq("no_upload_left_at_store", s3_uploads_in_progress(sw), [])

    # download overrides: s3api answers with the disposition and type loci signed
    q = "?filename=%s&content_type=text/plain" % urllib.parse.quote("Röntgen 2026.bin")
    g = srv.request("GET", "/v1/objects/" + quote_key(key) + q, token=tok)
    status, headers, _ = http_call("GET", g.json["url"]["url"], headers={"Range": "bytes=0-0"})
    rep.check("swift_honours_overrides", status in (200, 206) and headers.get("content-type") == "text/plain"
              and "filename*=UTF-8''R%C3%B6ntgen%202026.bin" in headers.get("content-disposition", ""), headers)
    rep.eq("override_bad_disposition_400",
           srv.request("GET", "/v1/objects/" + quote_key(key) + "?disposition=evil", token=tok).status, 400)

    # the store assembled the parts but loci never heard back (a crash, a lost answer): the
    # retried complete finds no upload at the store, and the HEAD shows the object is whole
    r = start(srv, tok, "assembled.bin", data, parts=3)
    t = r.json["targets"][0]
    urls = {p["part_number"]: p for p in t["multipart"]["parts"]}
    etags, _ = put_parts(t["multipart"], data, urls)
    mp_id = urllib.parse.parse_qs(urllib.parse.urlsplit(urls[1]["url"]).query)["uploadId"][0]
    name = "austria/" + r.json["upload_id"]
    s3_client(sw).complete_multipart_upload(Bucket=sw.bucket, Key=name, UploadId=mp_id, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": etags[n]} for n in (1, 2, 3)]})
    c = complete(srv, tok, r.json["upload_id"], [{"store": "swift-at", "part_number": n, "etag": etags[n]} for n in (1, 2, 3)])
    rep.check("complete_after_store_assembled_200", c.status == 200 and c.json["object"]["size"] == len(data), c)

    # abandoned: an aborted upload's multipart upload is aborted at the store by the eraser
    r = start(srv, tok, "abandoned.bin", data, parts=3)
    t = r.json["targets"][0]
    p = t["multipart"]["parts"][0]
    rep.eq("abandoned_part_put", http_put(p["url"], data[:5 * MiB], p["headers"])[0], 200)
    rep.check("store_holds_upload", len(s3_uploads_in_progress(sw)) == 1, s3_uploads_in_progress(sw))
    rep.eq("abort_204", srv.request("DELETE", "/v1/uploads/" + r.json["upload_id"], token=tok).status, 204)
    deadline = time.time() + 15
    while s3_uploads_in_progress(sw) and time.time() < deadline:
        time.sleep(0.3)
    rep.eq("aborted_at_store_by_eraser", s3_uploads_in_progress(sw), [])

    # loci put: a file over the threshold goes up in parallel parts
    work = os.path.join(srv.data, "work")
    os.makedirs(work, exist_ok=True)
    src = os.path.join(work, "big.bin")
    data = os.urandom(17 * MiB + 7)
    open(src, "wb").write(data)
    rc, out, err = run_cli(["put", src, "cli/big.bin", "--multipart-threshold", "8M", "--part-size", "5M",
                            "--parallel", "3", "--json"], srv.url, tok)
    rep.check("cli_put_in_parts", rc == 0 and json.loads(out)["size"] == len(data), err)
    dst = os.path.join(work, "big.out")
    rc, out, err = run_cli(["get", "cli/big.bin", "-o", dst], srv.url, tok)
    rep.check("cli_get_after_parts", rc == 0 and open(dst, "rb").read() == data, err)
    rep.eq("cli_left_no_upload", s3_uploads_in_progress(sw), [])
    rc, out, err = run_cli(["put", src, "cli/bad.bin", "--part-size", "0"], srv.url, tok)
    rep.check("cli_bad_part_size_usage", rc == 2 and "--part-size" in err, err)


def parts_calls(srv):
    """The POST /v1/uploads/{id}/parts requests in the server's log, in order."""
    return [json.loads(line) for line in srv.read_log().splitlines()
            if line.startswith("{") and '"route":"/v1/uploads/{}/parts"' in line]


def run_many_parts(sw, srv, tok):
    """More parts than the first batch: the CLI fetches the rest with POST .../parts. s3api's
    minimum part size is 5 MiB, so 20 parts are 100 MiB: sent from a sparse file, fast."""
    work = os.path.join(srv.data, "work")
    os.makedirs(work, exist_ok=True)
    src = os.path.join(work, "sparse.bin")
    with open(src, "wb") as f:
        f.truncate(20 * 5 * MiB)
        f.seek(77 * MiB)
        f.write(b"needle")
    before = len(parts_calls(srv))
    rc, out, err = run_cli(["put", src, "cli/sparse.bin", "--multipart-threshold", "1M", "--part-size", "5M",
                            "--parallel", "4", "--json"], srv.url, tok, timeout=120)
    rep.check("cli_put_20_parts", rc == 0 and json.loads(out)["size"] == 100 * MiB, err)
    g = srv.request("GET", "/v1/objects/cli/sparse.bin", token=tok)
    status, _, body = http_call("GET", g.json["url"]["url"], headers={"Range": "bytes=%d-%d" % (77 * MiB, 77 * MiB + 5)})
    rep.check("needle_in_part_16", status == 206 and body == b"needle", (status, body))
    # 16 URLs came with the start; the other 4 in a batch the CLI asked for
    fetched = parts_calls(srv)[before:]
    rep.check("parts_fetched_lazily", len(fetched) >= 1 and all(f["status"] == 200 for f in fetched), fetched)


def run_azure(az, srv, tok):
    data = os.urandom(11 * MiB + 5)
    r = start(srv, tok, "blob/big.bin", data, parts=2)
    rep.eq("azure_start_201", r.status, 201)
    t = r.json["targets"][0]
    mp = t.get("multipart", {})
    rep.eq("azure_layout", (mp.get("part_size"), mp.get("part_count")), ((11 * MiB + 5 + 1) // 2, 2))
    rep.check("azure_block_urls", all("comp=block" in p["url"] and "blockid=" in p["url"] for p in mp.get("parts", [])), t)
    urls = {p["part_number"]: p for p in mp["parts"]}
    _, statuses = put_parts(mp, data, urls)
    rep.eq("azure_blocks_staged", statuses, [201, 201])
    rep.eq("azure_nothing_visible_before_list", az.list_names(), [])
    # Azure needs no ETags: the block ids follow from the part numbers
    c = complete(srv, tok, r.json["upload_id"])
    rep.check("azure_complete_200", c.status == 200 and c.json["object"]["size"] == len(data), c)
    g = srv.request("GET", "/v1/objects/blob/big.bin?filename=scan.bin&disposition=inline", token=tok)
    status, headers, body = http_get(g.json["url"]["url"])
    rep.check("azure_bytes_round_trip", status == 200 and body == data, (status, len(body)))
    rep.check("azure_honours_overrides", headers.get("content-disposition") == 'inline; filename="scan.bin"'
              and headers.get("content-type") == "application/x-test", headers)
    # CLI
    work = os.path.join(srv.data, "work")
    os.makedirs(work, exist_ok=True)
    src = os.path.join(work, "az.bin")
    data = os.urandom(13 * MiB)
    open(src, "wb").write(data)
    rc, out, err = run_cli(["put", src, "cli/az.bin", "--multipart-threshold", "1M", "--part-size", "5M"], srv.url, tok)
    rep.check("azure_cli_put_in_parts", rc == 0, err)
    dst = os.path.join(work, "az.out")
    rc, out, err = run_cli(["get", "cli/az.bin", "-o", dst], srv.url, tok)
    rep.check("azure_cli_get", rc == 0 and open(dst, "rb").read() == data, err)


def run_single_put_stores(srv, tok_local):
    # a local store takes no parts: asking for parts gets one PUT
    data = os.urandom(6 * MiB)
    r = start(srv, tok_local, "local/big.bin", data, parts=3)
    t = r.json["targets"][0]
    rep.check("local_parts_asked_single_put", r.status == 201 and "multipart" not in t and "url" in t, r)
    c = complete(srv, tok_local, r.json["upload_id"], [{"store": "local", "part_number": 1, "etag": "x"}])
    rep.check("complete_parts_for_single_put_400", c.status == 400 and "not in parts" in c.json["error"]["message"], c)
    # download overrides from loci's own local store
    status, _, _ = http_put(t["url"], data, t["headers"])
    c = complete(srv, tok_local, r.json["upload_id"])
    g = srv.request("GET", "/v1/objects/local/big.bin?filename=a%22b.bin", token=tok_local)
    status, headers, _ = http_call("GET", g.json["url"]["url"], headers={"Range": "bytes=0-0"})
    rep.check("local_honours_overrides", status in (200, 206)
              and headers.get("content-disposition") == "attachment; filename=\"a_b.bin\"; filename*=UTF-8''a%22b.bin",
              headers)
    tampered = g.json["url"]["url"].replace("response-content-disposition=attachment", "response-content-disposition=inline")
    rep.check("local_override_in_url", tampered != g.json["url"]["url"], g.json["url"]["url"])
    rep.eq("local_override_tamper_refused", http_get(tampered)[0], 403)


def run_too_large(srv, tok_swift_tempurl):
    # a store without parts cannot take more than its single PUT: 413 naming it
    r = srv.request("PUT", "/v1/objects/huge", {"size": 6 << 30}, token=tok_swift_tempurl)
    rep.check("no_parts_store_too_large_413", r.status == 413 and "swift-ch" in r.json["error"]["message"], r)


def run(sw, az, srv):
    r = srv.admin("PUT", "/v1/admin/stores/swift-at", {
        "provider": "s3", "endpoint": sw.url, "bucket": sw.bucket, "path_style": True, "region": sw.region,
        "country": "AT", "credentials": {"access_key_id": sw.access_key, "secret_access_key": sw.secret_key}})
    rep.eq("s3_store_created", r.status, 201)
    r = srv.admin("PUT", "/v1/admin/stores/azure-nl", {
        "provider": "azure", "endpoint": az.url, "account": az.account, "bucket": az.container, "country": "NL",
        "credentials": {"account_key": az.key}})
    rep.eq("azure_store_created", r.status, 201)
    r = srv.admin("PUT", "/v1/admin/stores/swift-ch", {
        "provider": "swift", "endpoint": sw.account_url, "bucket": sw.bucket, "country": "CH",
        "credentials": {"temp_url_key": "k" * 32}})
    rep.eq("swift_store_created", r.status, 201)
    rep.run("s3", run_s3, sw, srv, srv.make_tenant("austria", jurisdictions=["AT"]))
    rep.run("many_parts", run_many_parts, sw, srv, srv.make_tenant("austria2", jurisdictions=["AT"]))
    rep.run("azure", run_azure, az, srv, srv.make_tenant("dutch", jurisdictions=["NL"]))
    rep.run("single_put", run_single_put_stores, srv, srv.make_tenant("german", jurisdictions=["DE"]))
    rep.run("too_large", run_too_large, srv, srv.make_tenant("swiss", jurisdictions=["CH"]))


def main():
    try:
        with SwiftEnv() as sw, AzuriteEnv() as az, Server(env={"LOCI_MAX_OBJECT_SIZE": str(8 << 30)}) as srv:
            rep.run("multipart", run, sw, az, srv)
    except Exception as e:
        rep.check("environment", False, repr(e))
    rep.finish()


if __name__ == "__main__":
    main()
