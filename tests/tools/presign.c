/*
 * presign.c - a test tool: signs requests described as JSON lines on stdin with loci's signers
 * and prints one line per request: the URL, a tab, the headers the client must send (JSON
 * object, keys sorted). A request that cannot be signed prints "ERROR <message>".
 *
 * Input fields: provider (any signing provider), endpoint, bucket, region, path_style,
 * public_host, account, store_id; credentials as "credentials": {name: value, ...} (or the
 * s3 shorthand access_key_id, secret_access_key); method, key, now (Unix seconds), expires,
 * content_type, content_length, sha256 (hex); op ("object", "part", "mp_create",
 * "mp_complete", "mp_abort"), part_number, mp_id; response_content_disposition,
 * response_content_type.
 *
 * A line with "verify": {"url", "method", "headers": {lowercase name: value}, "now", "host"}
 * instead asks sign_local_verify whether that request (e.g. a URL botocore signed) is valid for
 * the local store the other fields describe; "host" is the Host header the client sends (by
 * default the URL's authority). It prints "VERIFY OK <signed content-length>" or
 * "VERIFY REFUSED <message>".
 *
 * Used by tests/e2e/test_sign_botocore.py to compare with botocore byte for byte.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sign/sign.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* The header callback of a verify request: values from the "headers" object. */
static slice_t json_header(void *ctx, const char *lname)
{
    const char *v = json_string_value(json_object_get(ctx, lname));
    return v ? slice_cstr(v) : (slice_t){NULL, 0};
}

/* Verifies the request described by v against st; prints the outcome. */
static void verify(const store_t *st, json_t *v)
{
    const char *url = str(v, "url"), *host = url ? strstr(url, "://") : NULL;
    const char *path = host ? strchr(host + 3, '/') : NULL;
    if (path == NULL) {
        printf("VERIFY REFUSED no url\n");
        return;
    }
    host += 3;
    const char *q = strchr(path, '?'), *given_host = str(v, "host");
    sign_verify_request_t rq = {
        .method = slice_cstr(str(v, "method")),
        .path = slice_make(path, q ? (size_t)(q - path) : strlen(path)),
        .query = q ? slice_cstr(q + 1) : slice_make("", 0),
        .host = given_host ? slice_cstr(given_host) : slice_make(host, (size_t)(path - host)),
        .header = json_header,
        .header_ctx = json_object_get(v, "headers"),
        .now = json_integer_value(json_object_get(v, "now")),
    };
    int64_t len;
    err_t e;
    if (sign_local_verify(st, &rq, &len, &e) == 0)
        printf("VERIFY OK %lld\n", (long long)len);
    else
        printf("VERIFY REFUSED %s\n", e.msg);
}

/* Signs the request one input line describes; prints the URL and headers or the error. */
static void presign(const store_t *st, json_t *in)
{
    json_t *cl = json_object_get(in, "content_length");
    static const char *const ops[] = {"object", "part", "mp_create", "mp_complete", "mp_abort"};
    const char *op = str(in, "op");
    sign_op_t opv = SIGN_OP_OBJECT;
    for (size_t i = 0; op && i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strcmp(op, ops[i]) == 0)
            opv = (sign_op_t)i;
    sign_request_t rq = {.op = opv,
                         .part_number = (int)json_integer_value(json_object_get(in, "part_number")),
                         .mp_id = str(in, "mp_id"),
                         .response_content_disposition = str(in, "response_content_disposition"),
                         .response_content_type = str(in, "response_content_type"),
                         .method = str(in, "method"),
                         .name = str(in, "key"),
                         .now = json_integer_value(json_object_get(in, "now")),
                         .expires = json_integer_value(json_object_get(in, "expires")),
                         .content_type = str(in, "content_type"),
                         .content_length = json_is_integer(cl) ? json_integer_value(cl) : -1,
                         .sha256_hex = str(in, "sha256")};
    signer_t *sg = NULL;
    sign_result_t r;
    err_t e;
    arena_t a;
    cset_t all;
    memset(&all, 0xff, sizeof(all));
    arena_init(&a);
    if (sign_create(st, &sg, &e) != 0 || sign_presign(sg, &all, "t", &rq, &r, &a, &e) != 0) {
        printf("ERROR %s\n", e.msg);
    } else {
        json_t *h = json_object();
        for (size_t i = 0; i < r.nheaders; i++)
            json_object_set_new(h, r.headers[i].name, json_string(r.headers[i].value));
        char *hs = json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS);
        printf("%s\t%s\n", r.url, hs);
        free(hs);
        json_decref(h);
    }
    sign_destroy(sg);
    arena_release(&a);
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    while (getline(&line, &cap, stdin) > 0) {
        json_error_t je;
        json_t *in = json_loads(line, 0, &je);
        if (in == NULL) {
            fprintf(stderr, "presign: bad input: %s\n", je.text);
            rc = 1;
            break;
        }
        store_cred_t creds[16] = {{"access_key_id", str(in, "access_key_id")}, {"secret_access_key", str(in, "secret_access_key")}};
        size_t ncreds = 2;
        json_t *cj = json_object_get(in, "credentials");
        if (json_is_object(cj)) {
            const char *k;
            json_t *v;
            ncreds = 0;
            json_object_foreach(cj, k, v)
            {
                if (ncreds < 16 && json_is_string(v))
                    creds[ncreds++] = (store_cred_t){k, json_string_value(v)};
            }
        }
        store_t st = {.id = str(in, "store_id") ? str(in, "store_id") : "s",
                      .provider = str(in, "provider"),
                      .endpoint = str(in, "endpoint"),
                      .bucket = str(in, "bucket"),
                      .region = str(in, "region"),
                      .country = "DE",
                      .path_style = json_is_true(json_object_get(in, "path_style")),
                      .public_host = str(in, "public_host"),
                      .account = str(in, "account"),
                      .creds = creds,
                      .ncreds = ncreds};
        if (json_is_object(json_object_get(in, "verify")))
            verify(&st, json_object_get(in, "verify"));
        else
            presign(&st, in);
        json_decref(in);
    }
    free(line);
    fflush(stdout);
    return rc;
}
