"""Randomized cross-check of loci's S3 presigned URLs against botocore (Debian's
python3-botocore): the same key, method, headers, endpoint style and frozen time must give the
byte-for-byte same URL. Keys mix spaces, '+', '%', '~', '//', a leading '/', unicode of every
width and long runs; endpoints mix http/https, default and other ports, path-style and
virtual-hosted addressing and regions; methods are GET, HEAD, DELETE and PUT (with
content-type and content-length signed)."""

import datetime
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Reporter  # noqa: E402

import botocore.auth  # noqa: E402
import botocore.session  # noqa: E402
from botocore.config import Config  # noqa: E402

rep = Reporter("sign")
TOOL = os.path.join(os.environ.get("LOCI_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build", "rel")),
                    "tools", "presign")
NOW = datetime.datetime(2026, 11, 22, 10, 30, 15)
NOW_UNIX = int((NOW - datetime.datetime(1970, 1, 1)).total_seconds())
N_CASES = 1200


class FrozenDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return NOW


botocore.auth.datetime.datetime = FrozenDatetime  # botocore reads the clock through this name

PIECES = ["a", "b", "Z", "0", "9", " ", "+", "%", "~", "-", "_", ".", "/", "//", "é", "ü", "中文", "😀", "=", "&", "?",
          "#", "!", "'", "(", ")", "*", ",", ";", ":", "@", "$", "[", "]", "\u00a0", "ß", "Ω"]


def random_key(rng):
    if rng.random() < 0.05:
        return "k" * rng.randint(900, 1024)
    key = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 40)))
    if rng.random() < 0.1:
        key = "/" + key
    return key


def random_case(rng):
    scheme = rng.choice(["http", "https"])
    host = rng.choice(["127.0.0.1", "s3.example.com", "minio.internal", "localhost"])
    port = rng.choice(["", ":9000", ":8080", ":443" if scheme == "https" else ":80"])
    path_style = rng.random() < 0.6 or host[0].isdigit()
    bucket = rng.choice(["bucket", "loci-test", "acme-eu-1", "b.dotted"]) if path_style else rng.choice(["bucket", "acme-eu-1"])
    method = rng.choice(["GET", "HEAD", "DELETE", "PUT"])
    case = {
        "provider": "s3", "endpoint": "%s://%s%s" % (scheme, host, port), "bucket": bucket,
        "region": rng.choice(["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"]),
        "path_style": path_style, "access_key_id": rng.choice(["AKIAIOSFODNN7EXAMPLE", "test:tester", "minio"]),
        "secret_access_key": rng.choice(["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "testing", "s3cr3t+/="]),
        "method": method, "key": random_key(rng), "now": NOW_UNIX, "expires": rng.choice([1, 60, 900, 3600, 604800]),
    }
    if method == "PUT":
        if rng.random() < 0.85:
            case["content_type"] = rng.choice(["text/plain", "application/octet-stream", "audio/opus",
                                               "text/plain; charset=utf-8", "image/png"])
        if rng.random() < 0.85:
            case["content_length"] = rng.choice([0, 1, 5, 48213, 5 * 1024 ** 3])
    return case


def botocore_url(case):
    s = botocore.session.get_session()
    client = s.create_client(
        "s3", region_name=case["region"], endpoint_url=case["endpoint"], aws_access_key_id=case["access_key_id"],
        aws_secret_access_key=case["secret_access_key"],
        config=Config(signature_version="s3v4", s3={"addressing_style": "path" if case["path_style"] else "virtual"}))
    op = {"GET": "get_object", "HEAD": "head_object", "DELETE": "delete_object", "PUT": "put_object"}[case["method"]]
    params = {"Bucket": case["bucket"], "Key": case["key"]}
    if "content_type" in case:
        params["ContentType"] = case["content_type"]
    if "content_length" in case:
        params["ContentLength"] = case["content_length"]
    return client.generate_presigned_url(op, Params=params, ExpiresIn=case["expires"])


def main():
    rng = random.Random(20261122)
    cases = [random_case(rng) for _ in range(N_CASES)]
    p = subprocess.run([TOOL], input="".join(json.dumps(c) + "\n" for c in cases).encode(), capture_output=True, timeout=120)
    ours = p.stdout.decode().splitlines()
    rep.check("tool_answers_every_case", p.returncode == 0 and len(ours) == len(cases), p.stderr.decode()[-500:])
    groups = {}
    for case, line in zip(cases, ours):
        style = "path_style" if case["path_style"] else "virtual_host"
        name = "botocore_%s_%s" % (case["method"].lower(), style)
        want = botocore_url(case)
        url, _, headers = line.partition("\t")
        ok = url == want
        if ok and case["method"] == "PUT":
            h = json.loads(headers)
            expect = {}
            if "content_type" in case:
                expect["content-type"] = case["content_type"]
            if "content_length" in case:
                expect["content-length"] = str(case["content_length"])
            ok = h == expect
        g = groups.setdefault(name, [0, 0, None])
        g[0] += 1
        if not ok:
            g[1] += 1
            if g[2] is None:
                g[2] = "case %s\n  loci:     %s\n  botocore: %s" % (json.dumps(case, ensure_ascii=False)[:400], line[:600],
                                                                  want[:600])
    for name in sorted(groups):
        total, bad, example = groups[name]
        rep.check("%s_%d_cases" % (name, total), bad == 0, "%d of %d differ; first:\n%s" % (bad, total, example))
    rep.check("all_methods_and_styles_covered", len(groups) == 8, sorted(groups))
    rep.finish()


if __name__ == "__main__":
    main()
