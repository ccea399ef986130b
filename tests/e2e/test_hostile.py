"""Hostile input catalogue: a table of bad requests, each sent raw over its own socket (so that
framing errors, NUL bytes and invalid UTF-8 reach loci exactly as written), each with the status
and error code it must get. After every row loci still answers /healthz and nothing was written:
a dump of the database and a listing of the local stores' files are the same before and after.

An expected code of None means the answer is plain text from h2o's HTTP/1 parser (loci never
saw a request); an expected status of None means the connection is closed without an answer.

Then the slow clients: one that never finishes its headers and one that never finishes its body
are cut off after request_timeout_ms while a normal client is served all along.
"""

import json
import os
import socket
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ADMIN_TOKEN, Reporter, Server  # noqa: E402
from reliability import RawResponse, blob_listing, build_request, db_dump, dump_diff, raw_request  # noqa: E402

rep = Reporter("hostile")
TIMEOUT_MS = 1500
ENV = {"LOCI_REQUEST_TIMEOUT_MS": str(TIMEOUT_MS), "LOCI_AUDIT_CHECKPOINT_INTERVAL_MS": "3600000"}
JSON = ("Content-Type", "application/json")


def req(method, path, token=None, body=None, headers=(), json_body=True):
    """A request as bytes: token as Bearer, a dict/list body as JSON (str/bytes bodies as they are)."""
    h = []
    if token:
        h.append(("Authorization", "Bearer " + token))
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if body is not None and json_body and not any(k.lower() == "content-type" for k, _ in headers):
        h.append(JSON)
    h += list(headers)
    return build_request(method, path, h, body)


def tamper(url, old, new):
    assert old in url, (old, url)
    return url.replace(old, new, 1)


def local(method, url, headers=(), body=None):
    u = urllib.parse.urlsplit(url)
    return build_request(method, u.path + "?" + u.query, list(headers), body)


def chunked(body):
    """body in chunked transfer encoding, 4 KiB a chunk."""
    out = b""
    for i in range(0, len(body), 4096):
        c = body[i:i + 4096]
        out += b"%x\r\n" % len(c) + c + b"\r\n"
    return out + b"0\r\n\r\n"


def short(x, n=400):
    s = repr(x)
    return s if len(s) <= n else s[:n] + "..."


def rows(ctx):
    """(name, request bytes, expected status, expected error code)."""
    tok, ro, rev = ctx["tok"], ctx["ro"], ctx["revoked"]
    obj = "/v1/objects/h/existing"
    new = "/v1/objects/h/new"
    up = "/v1/uploads/" + ctx["upload_id"]
    get_url, put_url, put_hdrs = ctx["get_url"], ctx["put_url"], ctx["put_headers"]
    sig = get_url[get_url.index("X-Amz-Signature=") + 16:]
    other_sig = ("0" if sig[0] != "0" else "1") + sig[1:]
    nested = "[" * 5000 + "]" * 5000
    big = json.dumps({"size": 1, "attrs": {"pad": "x" * 70000}}).encode()
    r = [
        # --- HTTP framing: h2o's parser answers (plain text) or hangs up --------------------------
        ("garbage_request_line", b"GARBAGE\r\n\r\n", 400, None),
        ("request_line_without_version", b"GET /healthz\r\n\r\n", 400, None),
        ("http2_preface_on_http1", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, None),
        ("content_length_negative", build_request("PUT", new, [("Content-Length", "-1")]), 400, None),
        ("content_length_overflow", build_request("PUT", new, [("Content-Length", "9" * 30)]), 400, None),
        ("content_length_not_a_number", build_request("PUT", new, [("Content-Length", "12abc")]), 400, None),
        ("content_length_beyond_any_limit", build_request("PUT", new, [("Content-Length", str(1 << 40))]), 413, None),
        ("unknown_transfer_encoding", build_request("PUT", new, [("Transfer-Encoding", "gzip")]), 400, None),
        ("broken_chunked_body", build_request("PUT", new, [("Authorization", "Bearer " + tok), JSON,
                                                            ("Transfer-Encoding", "chunked")], b"zz\r\n{}\r\n0\r\n\r\n"),
         400, None),
        ("unknown_expectation", build_request("PUT", new, [("Expect", "200-ok")], b"{}"), 417, None),
        ("header_without_colon", b"GET /healthz HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", 400, None),
        ("nul_in_header_value", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400, None),
        ("too_many_headers", b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(120))
         + b"\r\n", 400, None),
        ("headers_beyond_h2o_buffer", b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"b" * 430000 + b"\r\n\r\n",
         400, None),
        # --- headers and methods: loci's own answers ---------------------------------------------
        ("headers_over_header_max", req("GET", obj, tok, headers=[("X-Pad", "p" * 20000)]), 431, "headers_too_large"),
        ("many_small_headers_over_header_max",
         req("GET", obj, tok, headers=[("X-H%d" % i, "v" * 200) for i in range(95)]), 431, "headers_too_large"),
        ("method_brew_405", req("BREW", "/healthz"), 405, "method_not_allowed"),
        ("post_on_object_405", req("POST", obj, tok, {"size": 1}), 405, "method_not_allowed"),
        ("options_on_object_405", req("OPTIONS", obj, tok), 405, "method_not_allowed"),
        ("trace_on_object_405", req("TRACE", obj, tok), 405, "method_not_allowed"),
        ("put_on_healthz_405", req("PUT", "/healthz", body={}), 405, "method_not_allowed"),
        ("delete_on_list_405", req("DELETE", "/v1/objects", tok), 405, "method_not_allowed"),
        ("get_on_complete_405", req("GET", up + "/complete", tok), 405, "method_not_allowed"),
        ("lowercase_method_405", req("get", "/healthz"), 405, "method_not_allowed"),
        ("unknown_path_404", req("GET", "/v1/nothing/here", tok), 404, "not_found"),
        ("path_traversal_404", req("GET", "/v1/../../etc/passwd", tok), 404, "not_found"),
        # --- authentication ----------------------------------------------------------------------
        ("no_token", req("GET", obj), 401, "unauthorized"),
        ("empty_bearer", build_request("GET", obj, [("Authorization", "Bearer ")]), 401, "unauthorized"),
        ("basic_auth", build_request("GET", obj, [("Authorization", "Basic YWRtaW46YWRtaW4=")]), 401, "unauthorized"),
        ("malformed_token", req("GET", obj, "lk_nonsense"), 401, "unauthorized"),
        ("token_8k", req("GET", obj, "lk_eu1_" + "a" * 8000), 401, "unauthorized"),
        ("token_wrong_secret", req("GET", obj, tok[:-4] + ("aaaa" if tok[-4:] != "aaaa" else "bbbb")), 401, "unauthorized"),
        ("revoked_token", req("GET", obj, rev), 401, "unauthorized"),
        ("token_of_other_cell", req("GET", obj, "lk_us1_aaaaaaaaaaaaaaaa_" + "a" * 32), 421, "wrong_cell"),
        ("admin_token_on_objects", req("GET", obj, ADMIN_TOKEN), 403, "forbidden"),
        ("tenant_token_on_admin", req("GET", "/v1/admin/stores", tok), 403, "forbidden"),
        ("read_token_deletes", req("DELETE", obj, ro), 403, "forbidden"),
        ("read_token_starts_upload", req("PUT", new, ro, {"size": 1}), 403, "forbidden"),
        ("wrong_admin_token", req("GET", "/v1/admin/stores", ADMIN_TOKEN + "x"), 401, "unauthorized"),
        # --- keys ----------------------------------------------------------------------------------
        ("key_invalid_utf8", req("GET", "/v1/objects/a%FFb", tok), 400, "bad_request"),
        ("key_overlong_utf8", req("PUT", "/v1/objects/a%C0%AFb", tok, {"size": 1}), 400, "bad_request"),
        ("key_utf16_surrogate", req("PUT", "/v1/objects/a%ED%A0%80b", tok, {"size": 1}), 400, "bad_request"),
        ("key_truncated_utf8", req("PUT", "/v1/objects/ab%E2%82", tok, {"size": 1}), 400, "bad_request"),
        ("key_raw_invalid_utf8", req("PUT", b"/v1/objects/a\xffb", tok, {"size": 1}), 400, "bad_request"),
        ("key_nul", req("PUT", "/v1/objects/a%00b", tok, {"size": 1}), 400, "bad_request"),
        ("key_control_char", req("PUT", "/v1/objects/a%01b", tok, {"size": 1}), 400, "bad_request"),
        ("key_del_char", req("PUT", "/v1/objects/a%7Fb", tok, {"size": 1}), 400, "bad_request"),
        ("key_newline", req("PATCH", "/v1/objects/a%0Ab", tok, {"tags": {"set": {"a": "b"}}}), 400, "bad_request"),
        ("key_1025_bytes", req("PUT", "/v1/objects/" + "k" * 1025, tok, {"size": 1}), 400, "bad_request"),
        ("key_1025_bytes_multibyte", req("PUT", "/v1/objects/" + "%C3%A9" * 512 + "k", tok, {"size": 1}), 400, "bad_request"),
        ("key_empty", req("PUT", "/v1/objects/", tok, {"size": 1}), 400, "bad_request"),
        ("key_bad_percent", req("PUT", "/v1/objects/a%G1", tok, {"size": 1}), 400, "bad_request"),
        ("key_truncated_percent", req("DELETE", "/v1/objects/a%4", tok), 400, "bad_request"),
        # --- JSON bodies -----------------------------------------------------------------------------
        ("json_malformed", req("PUT", new, tok, "{not json"), 400, "bad_request"),
        ("json_truncated", req("PUT", new, tok, '{"size":1'), 400, "bad_request"),
        ("json_trailing_garbage", req("PUT", new, tok, '{"size":1} x'), 400, "bad_request"),
        ("json_deeply_nested", req("PUT", new, tok, '{"size":1,"attrs":{"a":%s}}' % nested), 400, "bad_request"),
        ("json_nested_attrs_under_limit", req("PUT", new, tok, '{"size":1,"attrs":{"a":%s}}' % ("[" * 1500 + "]" * 1500)),
         400, "bad_request"),
        ("json_duplicate_keys", req("PUT", new, tok, '{"size":1,"size":2}'), 400, "bad_request"),
        ("json_duplicate_tag_keys", req("PUT", new, tok, '{"size":1,"tags":{"a":"1","a":"2"}}'), 400, "bad_request"),
        ("json_array_body", req("PUT", new, tok, [1, 2]), 400, "bad_request"),
        ("json_string_body", req("PUT", new, tok, '"size"'), 400, "bad_request"),
        ("json_empty_body", req("PUT", new, tok, ""), 400, "bad_request"),
        ("json_invalid_utf8", req("PUT", new, tok, b'{"size":1,"content_type":"a\xffb"}'), 400, "bad_request"),
        ("json_nul_escape", req("PUT", new, tok, '{"size":1,"content_type":"a\\u0000b"}'), 400, "bad_request"),
        ("json_lone_surrogate", req("PUT", new, tok, '{"size":1,"tags":{"a":"\\ud800"}}'), 400, "bad_request"),
        ("unknown_field", req("PUT", new, tok, {"size": 1, "colour": "red"}), 400, "bad_request"),
        ("size_missing", req("PUT", new, tok, {"content_type": "a/b"}), 400, "bad_request"),
        ("size_negative", req("PUT", new, tok, {"size": -1}), 400, "bad_request"),
        ("size_int64_min", req("PUT", new, tok, '{"size":-9223372036854775808}'), 400, "bad_request"),
        ("size_int64_max", req("PUT", new, tok, {"size": (1 << 63) - 1}), 400, "bad_request"),
        ("size_overflowing", req("PUT", new, tok, '{"size":99999999999999999999999}'), 400, "bad_request"),
        ("size_float", req("PUT", new, tok, '{"size":1.5}'), 400, "bad_request"),
        ("size_exponent", req("PUT", new, tok, '{"size":1e3}'), 400, "bad_request"),
        ("size_string", req("PUT", new, tok, {"size": "1"}), 400, "bad_request"),
        ("size_bool", req("PUT", new, tok, {"size": True}), 400, "bad_request"),
        ("size_null", req("PUT", new, tok, {"size": None}), 400, "bad_request"),
        ("size_beyond_max_object", req("PUT", new, tok, {"size": (5 << 40) + 1}), 400, "bad_request"),
        ("size_beyond_local_store", req("PUT", new, tok, {"size": (1 << 30) + 1}), 413, "payload_too_large"),
        ("tags_51", req("PUT", new, tok, {"size": 1, "tags": {"t%d" % i: "v" for i in range(51)}}), 400, "bad_request"),
        ("tag_key_129_bytes", req("PUT", new, tok, {"size": 1, "tags": {"k" * 129: "v"}}), 400, "bad_request"),
        ("tag_value_257_bytes", req("PUT", new, tok, {"size": 1, "tags": {"k": "v" * 257}}), 400, "bad_request"),
        ("tag_key_empty", req("PUT", new, tok, {"size": 1, "tags": {"": "v"}}), 400, "bad_request"),
        ("tag_value_number", req("PUT", new, tok, {"size": 1, "tags": {"k": 1}}), 400, "bad_request"),
        ("tag_control_char", req("PUT", new, tok, {"size": 1, "tags": {"k": "a\tb"}}), 400, "bad_request"),
        ("tags_as_array", req("PUT", new, tok, {"size": 1, "tags": ["a", "b"]}), 400, "bad_request"),
        ("attrs_over_4k", req("PUT", new, tok, {"size": 1, "attrs": {"a": "x" * 5000}}), 400, "bad_request"),
        ("attrs_not_object", req("PUT", new, tok, {"size": 1, "attrs": [1]}), 400, "bad_request"),
        ("sha256_short", req("PUT", new, tok, {"size": 1, "sha256": "a" * 63}), 400, "bad_request"),
        ("sha256_not_hex", req("PUT", new, tok, {"size": 1, "sha256": "g" * 64}), 400, "bad_request"),
        ("content_type_control", req("PUT", new, tok, {"size": 1, "content_type": "text/\nhtml"}), 400, "bad_request"),
        ("content_type_non_ascii", req("PUT", new, tok, {"size": 1, "content_type": "t\u00e9xt/plain"}), 400, "bad_request"),
        ("copies_zero", req("PUT", new, tok, {"size": 1, "copies": 0}), 400, "bad_request"),
        ("copies_nine", req("PUT", new, tok, {"size": 1, "copies": 9}), 400, "bad_request"),
        ("jurisdiction_outside", req("PUT", new, tok, {"size": 1, "jurisdiction": "US"}), 403, "residency_violation"),
        ("jurisdiction_unknown", req("PUT", new, tok, {"size": 1, "jurisdiction": "XX"}), 400, "bad_request"),
        ("jurisdiction_number", req("PUT", new, tok, {"size": 1, "jurisdiction": 49}), 400, "bad_request"),
        ("body_over_64k", req("PUT", new, tok, {"size": 1, "attrs": {"pad": "x" * 70000}}), 413, "payload_too_large"),
        ("body_over_64k_chunked", build_request("PUT", new, [("Authorization", "Bearer " + tok), JSON,
                                                             ("Transfer-Encoding", "chunked")], chunked(big)),
         413, "payload_too_large"),
        ("wrong_content_type", req("PUT", new, tok, '{"size":1}', headers=[("Content-Type", "text/plain")]), 415,
         "unsupported_media_type"),
        ("no_content_type", req("PUT", new, tok, '{"size":1}', json_body=False), 415, "unsupported_media_type"),
        ("content_type_prefix_trick", req("PUT", new, tok, '{"size":1}', headers=[("Content-Type", "application/jsonx")]), 415,
         "unsupported_media_type"),
        ("patch_nothing", req("PATCH", obj, tok, {}), 400, "bad_request"),
        ("patch_set_and_remove", req("PATCH", obj, tok, {"tags": {"set": {"a": "1"}, "remove": ["a"]}}), 400, "bad_request"),
        ("patch_unknown_tags_field", req("PATCH", obj, tok, {"tags": {"add": {"a": "1"}}}), 400, "bad_request"),
        ("patch_51_tags", req("PATCH", obj, tok, {"tags": {"set": {"t%d" % i: "v" for i in range(51)}}}), 400, "bad_request"),
        ("patch_remove_not_strings", req("PATCH", obj, tok, {"tags": {"remove": [1]}}), 400, "bad_request"),
        ("patch_if_none_match", req("PATCH", obj, tok, {"attrs": None}, headers=[("If-None-Match", "*")]), 400, "bad_request"),
        ("if_match_garbage", req("DELETE", obj, tok, headers=[("If-Match", "abc")]), 400, "bad_request"),
        ("if_match_overflow", req("DELETE", obj, tok, headers=[("If-Match", "9" * 30)]), 400, "bad_request"),
        ("if_match_and_if_none_match", req("PUT", new, tok, {"size": 1}, headers=[("If-Match", "1"), ("If-None-Match", "*")]),
         400, "bad_request"),
        ("if_none_match_etag", req("PUT", new, tok, {"size": 1}, headers=[("If-None-Match", '"1"')]), 400, "bad_request"),
        ("if_match_stale", req("DELETE", obj, tok, headers=[("If-Match", "7")]), 412, "precondition_failed"),
        ("complete_with_body", req("POST", up + "/complete", tok, {"force": True}), 400, "bad_request"),
        ("complete_with_bad_json", req("POST", up + "/complete", tok, "{"), 400, "bad_request"),
        ("complete_unknown_upload", req("POST", "/v1/uploads/eu1.01AAAAAAAAAAAAAAAAAAAAAAAA/complete", tok), 404, "not_found"),
        ("complete_malformed_upload_id", req("POST", "/v1/uploads/..%2F..%2Fx/complete", tok), 404, "not_found"),
        ("complete_other_cell", req("POST", "/v1/uploads/us1.01AAAAAAAAAAAAAAAAAAAAAAAA/complete", tok), 421, "wrong_cell"),
        ("complete_not_uploaded", req("POST", up + "/complete", tok), 409, "conflict"),
        ("if_none_match_existing", req("PUT", obj, tok, {"size": 1}, headers=[("If-None-Match", "*")]), 412,
         "precondition_failed"),
        # --- query strings ---------------------------------------------------------------------------
        ("expires_zero", req("GET", obj + "?expires=0", tok), 400, "bad_request"),
        ("expires_negative", req("GET", obj + "?expires=-5", tok), 400, "bad_request"),
        ("expires_beyond_max", req("GET", obj + "?expires=604801", tok), 400, "bad_request"),
        ("expires_overflow", req("GET", obj + "?expires=" + "9" * 30, tok), 400, "bad_request"),
        ("expires_not_number", req("GET", "/v1/fetch/h/existing?expires=soon", tok), 400, "bad_request"),
        ("expires_beyond_max_on_put", req("PUT", new + "?expires=604801", tok, {"size": 1}), 400, "bad_request"),
        ("list_limit_zero", req("GET", "/v1/objects?limit=0", tok), 400, "bad_request"),
        ("list_limit_1001", req("GET", "/v1/objects?limit=1001", tok), 400, "bad_request"),
        ("list_limit_overflow", req("GET", "/v1/objects?limit=99999999999999999999", tok), 400, "bad_request"),
        ("list_unknown_parameter", req("GET", "/v1/objects?colour=red", tok), 400, "bad_request"),
        ("list_malformed_query", req("GET", "/v1/objects?prefix=%", tok), 400, "bad_request"),
        ("list_prefix_nul", req("GET", "/v1/objects?prefix=a%00", tok), 400, "bad_request"),
        ("list_prefix_invalid_utf8", req("GET", "/v1/objects?prefix=%FF", tok), 400, "bad_request"),
        ("list_tag_key_129", req("GET", "/v1/objects?tag." + "k" * 129 + "=v", tok), 400, "bad_request"),
        ("list_51_tag_filters", req("GET", "/v1/objects?" + "&".join("tag.t%d=v" % i for i in range(51)), tok), 400,
         "bad_request"),
        ("cursor_garbage", req("GET", "/v1/objects?cursor=AAAA", tok), 400, "bad_request"),
        ("cursor_not_base64", req("GET", "/v1/objects?cursor=%21%21%21", tok), 400, "bad_request"),
        ("cursor_truncated", req("GET", "/v1/objects?limit=1&cursor=" + urllib.parse.quote(ctx["cursor"][:-4], safe=""), tok),
         400, "bad_request"),
        ("cursor_flipped", req("GET", "/v1/objects?limit=1&cursor=" + urllib.parse.quote(ctx["cursor_flipped"], safe=""), tok),
         400, "bad_request"),
        ("cursor_other_query", req("GET", "/v1/objects?limit=1&prefix=h/&cursor=" + urllib.parse.quote(ctx["cursor"], safe=""),
                                   tok), 400, "bad_request"),
        ("cursor_huge", req("GET", "/v1/objects?cursor=" + "A" * 8000, tok), 400, "bad_request"),
        # --- administration --------------------------------------------------------------------------
        ("store_bad_id", req("PUT", "/v1/admin/stores/BAD%20ID", ADMIN_TOKEN, {"provider": "local", "country": "DE"}), 400,
         "bad_request"),
        ("store_bad_country", req("PUT", "/v1/admin/stores/s1", ADMIN_TOKEN, {"provider": "local", "country": "XX"}), 400,
         "bad_request"),
        ("store_unknown_provider", req("PUT", "/v1/admin/stores/s1", ADMIN_TOKEN, {"provider": "ftp", "country": "DE"}), 400,
         "bad_request"),
        ("store_weight_negative", req("PUT", "/v1/admin/stores/s1", ADMIN_TOKEN,
                                      {"provider": "local", "country": "DE", "weight": -1}), 400, "bad_request"),
        ("store_credentials_not_strings", req("PUT", "/v1/admin/stores/s1", ADMIN_TOKEN, {
            "provider": "s3", "endpoint": "https://s3.example.com", "bucket": "b", "country": "DE",
            "credentials": {"access_key_id": 1}}), 400, "bad_request"),
        ("store_endpoint_with_userinfo", req("PUT", "/v1/admin/stores/s1", ADMIN_TOKEN, {
            "provider": "s3", "endpoint": "https://user@evil.example.com", "bucket": "b", "country": "DE",
            "credentials": {"access_key_id": "a", "secret_access_key": "b"}}), 400, "bad_request"),
        ("store_in_use_delete", req("DELETE", "/v1/admin/stores/local", ADMIN_TOKEN), 409, "conflict"),
        ("tenant_bad_id", req("PUT", "/v1/admin/tenants/Bad!", ADMIN_TOKEN, {"jurisdictions": ["EU"]}), 400, "bad_request"),
        ("tenant_unknown_jurisdiction", req("PUT", "/v1/admin/tenants/t1", ADMIN_TOKEN, {"jurisdictions": ["ZZ"]}), 400,
         "bad_request"),
        ("tenant_no_jurisdictions", req("PUT", "/v1/admin/tenants/t1", ADMIN_TOKEN, {"jurisdictions": []}), 400, "bad_request"),
        ("tenant_url_expires_max_beyond_7_days", req("PUT", "/v1/admin/tenants/t1", ADMIN_TOKEN,
                                                     {"jurisdictions": ["EU"], "url_expires_max": 604801}), 400, "bad_request"),
        ("tenant_url_expires_above_max", req("PUT", "/v1/admin/tenants/t1", ADMIN_TOKEN,
                                             {"jurisdictions": ["EU"], "url_expires": 1000, "url_expires_max": 999}), 400,
         "bad_request"),
        ("tenant_copies_zero", req("PUT", "/v1/admin/tenants/t1", ADMIN_TOKEN, {"jurisdictions": ["EU"], "copies": 0}), 400,
         "bad_request"),
        ("tenant_audit_reads_string", req("PUT", "/v1/admin/tenants/t1", ADMIN_TOKEN,
                                          {"jurisdictions": ["EU"], "audit_reads": "yes"}), 400, "bad_request"),
        ("key_unknown_scope", req("POST", "/v1/admin/tenants/demo/keys", ADMIN_TOKEN, {"scopes": ["root"]}), 400, "bad_request"),
        ("key_for_unknown_tenant", req("POST", "/v1/admin/tenants/nobody/keys", ADMIN_TOKEN, {"scopes": ["read"]}), 404,
         "not_found"),
        ("key_revoke_unknown", req("DELETE", "/v1/admin/tenants/demo/keys/aaaaaaaaaaaaaaaa", ADMIN_TOKEN), 404, "not_found"),
        ("audit_limit_zero", req("GET", "/v1/admin/audit?limit=0", ADMIN_TOKEN), 400, "bad_request"),
        ("audit_after_garbage", req("GET", "/v1/admin/audit?after=nocolon", ADMIN_TOKEN), 400, "bad_request"),
        # --- local-store URLs --------------------------------------------------------------------------
        ("local_signature_flipped", local("GET", tamper(get_url, sig, other_sig)), 403, "forbidden"),
        ("local_signature_removed", local("GET", get_url.split("&X-Amz-Signature=")[0]), 403, "forbidden"),
        ("local_no_query", local("GET", get_url.split("?")[0] + "?"), 403, "forbidden"),
        ("local_expires_extended", local("GET", tamper(get_url, "X-Amz-Expires=", "X-Amz-Expires=9")), 403, "forbidden"),
        ("local_expires_overflow", local("GET", tamper(get_url, "X-Amz-Expires=", "X-Amz-Expires=99999999999999999999")), 403,
         "forbidden"),
        ("local_date_moved", local("GET", tamper(get_url, "X-Amz-Date=2", "X-Amz-Date=1")), 403, "forbidden"),
        ("local_other_object", local("GET", tamper(get_url, ctx["object_id"], ctx["upload_id"])), 403, "forbidden"),
        ("local_duplicate_signature", local("GET", get_url + "&X-Amz-Signature=" + other_sig), 403, "forbidden"),
        ("local_get_url_used_for_delete", local("DELETE", get_url), 403, "forbidden"),
        ("local_get_url_used_for_put", local("PUT", get_url, [("Content-Type", "text/plain")], b"x"), 403, "forbidden"),
        ("local_put_wrong_length", local("PUT", put_url, [(k, v) for k, v in put_hdrs.items() if k != "content-length"],
                                         b"123"), 403, "forbidden"),
        ("local_put_wrong_type", local("PUT", put_url, [("content-type", "text/html")], b"12345"), 403, "forbidden"),
        ("local_unknown_store", local("GET", tamper(get_url, "/local/local/", "/local/nostore/")), 404, "not_found"),
        ("local_traversal_name", local("GET", tamper(get_url, "/demo/", "/demo/..%2F..%2F")), 404, "not_found"),
    ]
    return r


def state(srv):
    return db_dump(srv), blob_listing(srv.data)


def healthy(srv):
    try:
        return raw_request(srv.port, build_request("GET", "/healthz"), timeout=10).status == 200
    except OSError:
        return False


def setup(srv):
    tok = srv.demo_token
    ro = srv.make_tenant("hro", scopes=("read",))
    rev_r = srv.admin("POST", "/v1/admin/tenants/demo/keys", {"scopes": ["read"]})
    assert srv.admin("DELETE", "/v1/admin/tenants/demo/keys/" + rev_r.json["key_id"]).status == 204
    _, c = srv.put_object(tok, "h/existing", b"existing bytes")
    assert c.status == 200, c
    srv.put_object(tok, "h/second", b"x")
    start, _ = srv.put_object(tok, "h/pending", b"12345", upload=False)
    got = srv.request("GET", "/v1/objects/h/existing", token=tok)
    cursor = srv.request("GET", "/v1/objects?limit=1", token=tok).json["next_cursor"]
    i = len(cursor) // 2
    flipped = cursor[:i] + ("A" if cursor[i] != "A" else "B") + cursor[i + 1:]
    t = start.json["targets"][0]
    return {"tok": tok, "ro": ro, "revoked": rev_r.json["token"], "upload_id": start.json["upload_id"],
            "object_id": c.json["object"]["id"], "get_url": got.json["url"]["url"], "put_url": t["url"],
            "put_headers": t["headers"], "cursor": cursor, "cursor_flipped": flipped}


def test_catalogue(srv):
    ctx = setup(srv)
    table = rows(ctx)
    names = [r[0] for r in table]
    rep.check("catalogue_has_at_least_60_rows", len(table) >= 60 and len(set(names)) == len(names), len(table))
    wrong, wrote, died = [], [], []
    for name, data, status, code in table:
        before = state(srv)
        try:
            r = raw_request(srv.port, data, timeout=10)
        except OSError as e:
            r = RawResponse(raw=repr(e).encode())
        alive = healthy(srv)
        after = state(srv)
        got_code = r.error_code
        ok = r.status == status and got_code == code
        if ok and code is not None:
            e = r.json["error"]
            ok = len(e.get("request_id", "")) == 16 and bool(e.get("message")) \
                and r.headers.get("x-request-id") == e["request_id"]
        if ok and status == 405:
            ok = bool(r.headers.get("allow"))
        if not ok:
            wrong.append("%s: got %r %r, want %r %r (%s)" % (name, r.status, got_code, status, code, short(r.raw[:300])))
        if before != after:
            wrote.append("%s: %s" % (name, short(dump_diff(before[0], after[0]) or (before[1], after[1]))))
        rep.check("row_" + name, ok and before == after and alive, wrong[-1:] + wrote[-1:] + ([] if alive else ["died"]))
        if not alive:
            died.append(name)
            break
    sys.stderr.write("%d hostile rows: %d wrong answers, %d wrote something\n" % (len(table), len(wrong), len(wrote)))
    rep.check("server_answered_after_every_row", not died, died)


def test_slow_clients(srv):
    """A client that never finishes its headers, and one that never finishes its body, are cut off
    after request_timeout_ms; a normal client meanwhile gets every answer at once."""
    tok = srv.demo_token
    before = state(srv)
    slow_head = socket.create_connection(("127.0.0.1", srv.port))
    slow_head.sendall(b"GET /v1/objects/h/existing HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok.encode() + b"\r\n")
    slow_body = socket.create_connection(("127.0.0.1", srv.port))
    slow_body.sendall(build_request("PUT", "/v1/objects/h/slow-body", [("Authorization", "Bearer " + tok), JSON,
                                                                       ("Content-Length", "100")], b'{"size":'))
    t0 = time.time()
    lat, statuses = [], []
    while time.time() - t0 < TIMEOUT_MS / 1000.0 * 0.8:
        s = time.time()
        statuses.append(srv.request("GET", "/v1/objects/h/existing", token=tok).status)
        lat.append(time.time() - s)
        # trickle: the slow clients keep sending, one byte at a time, without ever finishing
        for sk, b in ((slow_head, b"X"), (slow_body, b"1")):
            try:
                sk.sendall(b)
            except OSError:
                pass
        time.sleep(0.02)
    rep.check("normal_client_served_meanwhile", statuses and set(statuses) == {200} and max(lat) < 1.0,
              (len(statuses), set(statuses), max(lat) if lat else None))
    cut = {}
    for name, sk in (("headers", slow_head), ("body", slow_body)):
        sk.settimeout(TIMEOUT_MS / 1000.0 * 4)
        try:
            got = sk.recv(1000)
        except socket.timeout:
            got = None
        except ConnectionResetError:
            got = b""
        cut[name] = (got, time.time() - t0)
        sk.close()
    rep.check("slow_headers_cut_off", cut["headers"][0] == b"" and cut["headers"][1] < TIMEOUT_MS / 1000.0 * 3, cut["headers"])
    rep.check("slow_body_cut_off", cut["body"][0] is not None and not cut["body"][0].startswith(b"HTTP/1.1 2")
              and cut["body"][1] < TIMEOUT_MS / 1000.0 * 3, cut["body"])
    rep.check("slow_clients_wrote_nothing", state(srv) == before)
    rep.check("still_serving_after_slow_clients", healthy(srv))

    # many slow clients at once (bounded: 200) do not hold up a normal one either
    slow = []
    for _ in range(200):
        sk = socket.create_connection(("127.0.0.1", srv.port))
        sk.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        slow.append(sk)
    s = time.time()
    ok = all(srv.request("GET", "/v1/objects/h/existing", token=tok).status == 200 for _ in range(50))
    rep.check("normal_client_served_beside_200_slow_ones", ok and time.time() - s < 5, time.time() - s)
    for sk in slow:
        sk.close()


def main():
    srv = Server(env=ENV)
    try:
        srv.start()
        rep.run("catalogue", test_catalogue, srv)
        rep.run("slow_clients", test_slow_clients, srv)
        rep.eq("graceful_stop", srv.stop(), 0)
    finally:
        srv.cleanup()
    rep.finish()


if __name__ == "__main__":
    main()
