/*
 * presign.c - a test tool: signs requests described as JSON lines on stdin with loci's signers
 * and prints one line per request: the URL, a tab, the headers the client must send (JSON).
 *
 * Input fields: provider ("s3"/"local"), endpoint, bucket, region, path_style, public_host,
 * store_id, access_key_id, secret_access_key, method, key, now (Unix seconds), expires,
 * content_type, content_length, sha256. Used by tests/e2e/test_sign_botocore.py to compare
 * URLs byte for byte with botocore's.
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

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    cset_t all;
    memset(&all, 0xff, sizeof(all));
    while ((n = getline(&line, &cap, stdin)) > 0) {
        json_error_t je;
        json_t *in = json_loads(line, 0, &je);
        if (in == NULL) {
            fprintf(stderr, "presign: bad input: %s\n", je.text);
            rc = 1;
            break;
        }
        store_cred_t creds[2] = {{"access_key_id", str(in, "access_key_id")}, {"secret_access_key", str(in, "secret_access_key")}};
        store_t st = {.id = str(in, "store_id") ? str(in, "store_id") : "s",
                      .provider = str(in, "provider"),
                      .endpoint = str(in, "endpoint"),
                      .bucket = str(in, "bucket"),
                      .region = str(in, "region"),
                      .country = "DE",
                      .path_style = json_is_true(json_object_get(in, "path_style")),
                      .public_host = str(in, "public_host"),
                      .creds = creds,
                      .ncreds = 2};
        json_t *cl = json_object_get(in, "content_length");
        sign_request_t rq = {.method = str(in, "method"),
                             .name = str(in, "key"),
                             .now = json_integer_value(json_object_get(in, "now")),
                             .expires = json_integer_value(json_object_get(in, "expires")),
                             .content_type = str(in, "content_type"),
                             .content_length = json_is_integer(cl) ? json_integer_value(cl) : -1,
                             .sha256_hex = str(in, "sha256")};
        signer_t *sg;
        sign_result_t r;
        err_t e;
        arena_t a;
        arena_init(&a);
        if (sign_create(&st, &sg, &e) != 0 || sign_presign(sg, &all, "t", &rq, &r, &a, &e) != 0) {
            printf("ERROR %s\n", e.msg);
        } else {
            json_t *h = json_object();
            for (size_t i = 0; i < r.nheaders; i++)
                json_object_set_new(h, r.headers[i].name, json_string(r.headers[i].value));
            char *hs = json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS);
            printf("%s\t%s\n", r.url, hs);
            free(hs);
            json_decref(h);
            sign_destroy(sg);
        }
        arena_release(&a);
        json_decref(in);
    }
    free(line);
    fflush(stdout);
    return rc;
}
