/*
 * test_local.c - the local provider: its URLs (pinned to what botocore generates for the same
 * path-style request), and sign_local_verify, which must accept what the signer made and refuse
 * every kind of tampering with ERR_FORBIDDEN and a reason naming what is wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sign/sign.h"
#include "unit/test.h"

#define T_2013 1369353600 /* 2013-05-24T00:00:00Z */

static const store_cred_t LOCAL_CREDS[] = {{"access_key_id", "LOCIKEY"}, {"secret_access_key", "0123456789abcdef"}};

/* A local store as loci configures one: its own public URL, no region (so "local"). */
static store_t local_store(void)
{
    store_t st = {.id = "disk-1",
                  .provider = "local",
                  .endpoint = "http://127.0.0.1:7700",
                  .country = "DE",
                  .creds = LOCAL_CREDS,
                  .ncreds = 2};
    return st;
}

/* Request headers as a server hands them to the verifier. */
typedef struct fake_headers {
    const char *name[4];
    const char *value[4];
} fake_headers_t;

static slice_t fake_header(void *ctx, const char *lname)
{
    const fake_headers_t *f = ctx;
    for (size_t i = 0; i < 4; i++)
        if (f->name[i] && strcmp(f->name[i], lname) == 0)
            return slice_cstr(f->value[i]);
    return (slice_t){NULL, 0};
}

/* Splits a URL into the parts a server sees: Host, raw path, raw query. */
static sign_verify_request_t as_received(const char *url, const char *method, fake_headers_t *f, int64_t now)
{
    const char *host = strstr(url, "://") + 3, *path = strchr(host, '/'), *q = strchr(path, '?');
    sign_verify_request_t v = {.method = slice_cstr(method),
                               .path = slice_make(path, q ? (size_t)(q - path) : strlen(path)),
                               .query = q ? slice_cstr(q + 1) : slice_make("", 0),
                               .host = slice_make(host, (size_t)(path - host)),
                               .header = fake_header,
                               .header_ctx = f,
                               .now = now};
    return v;
}

/* url with the first occurrence of from replaced by to (arena); records a failure if from is
 * not in url, so a mutation that silently does nothing cannot make a refusal test pass. */
static char *mutate(arena_t *a, const char *url, const char *from, const char *to, int line)
{
    const char *at = strstr(url, from);
    if (at == NULL) {
        test_fail(__FILE__, line, "'%s' not in %s", from, url);
        return arena_strdup(a, url);
    }
    return arena_printf(a, "%.*s%s%s", (int)(at - url), url, to, at + strlen(from));
}

/* Verifies and checks the outcome: 0, or ERR_FORBIDDEN with reason in the message. */
static void expect(const store_t *st, const char *url, const char *method, fake_headers_t *f, int64_t now, const char *reason,
                   int line)
{
    sign_verify_request_t v = as_received(url, method, f, now);
    int64_t len = 12345;
    err_t e = {0};
    int rc = sign_local_verify(st, &v, &len, &e);
    if (reason == NULL && rc != 0)
        test_fail(__FILE__, line, "%s %s refused: %s", method, url, e.msg);
    if (reason != NULL && (rc != ERR_FORBIDDEN || strstr(e.msg, reason) == NULL))
        test_fail(__FILE__, line, "%s %s: rc %d '%s', expected ERR_FORBIDDEN '%s'", method, url, rc, rc ? e.msg : "", reason);
}

#define ACCEPTED(st, url, method, f, now)        expect(st, url, method, f, now, NULL, __LINE__)
#define REFUSED(st, url, method, f, now, reason) expect(st, url, method, f, now, reason, __LINE__)

/* Presigns rq for st (everything allowed); returns the URL (arena). */
static const char *presign(const store_t *st, const sign_request_t *rq, sign_result_t *r, arena_t *a)
{
    signer_t *sg;
    err_t e;
    cset_t all;
    memset(&all, 0xff, sizeof(all));
    if (sign_create(st, &sg, &e) != 0 || sign_presign(sg, &all, "acme", rq, r, a, &e) != 0) {
        test_fail(__FILE__, __LINE__, "cannot presign: %s", e.msg);
        sign_destroy(sg);
        return "http://x/";
    }
    sign_destroy(sg);
    return r->url;
}

static const char GET_URL[] =
    "http://127.0.0.1:7700/local/disk-1/acme/a%20b%2Bc~%C3%A9//x?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=LOCIKEY%2F20130524%2Flocal%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host"
    "&X-Amz-Expires=600&X-Amz-Signature=86d23c5f0a11128568bd57888471e4c2d6e89c45e9d15195c71df5bb66560753";
static const char PUT_URL[] =
    "http://127.0.0.1:7700/local/disk-1/acme/eu1.01JD3Q5ZC8Y8K0Q4N6D2T7W9XB?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=LOCIKEY%2F20130524%2Flocal%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
    "&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost&X-Amz-Expires=600"
    "&X-Amz-Signature=2b0eb4534621644ee2db2691d5c1510e51bfaa37d79cf0b998e8163e10aa0085";

TEST(sign_local_urls)
{
    /* botocore: path-style, bucket "local", key "disk-1/<name>", region "local", same time */
    store_t st = local_store();
    arena_t a;
    arena_init(&a);
    sign_result_t r;
    sign_request_t get = {.method = "GET", .name = "acme/a b+c~\xc3\xa9//x", .now = T_2013, .expires = 600, .content_length = -1};
    CHECK_STR(presign(&st, &get, &r, &a), GET_URL);
    CHECK_INT(r.nheaders, 0);
    CHECK_INT(r.expires_at, T_2013 + 600);
    sign_request_t put = {.method = "PUT",
                          .name = "acme/eu1.01JD3Q5ZC8Y8K0Q4N6D2T7W9XB",
                          .now = T_2013,
                          .expires = 600,
                          .content_type = "text/plain",
                          .content_length = 5};
    CHECK_STR(presign(&st, &put, &r, &a), PUT_URL);
    CHECK_INT(r.nheaders, 2);
    CHECK_STR(r.headers[0].name, "content-length");
    CHECK_STR(r.headers[0].value, "5");
    CHECK_STR(r.headers[1].name, "content-type");
    CHECK_STR(r.headers[1].value, "text/plain");
    /* a configured region is used instead of "local" */
    st.region = "eu-local-1";
    CHECK(strstr(presign(&st, &get, &r, &a), "%2F20130524%2Feu-local-1%2Fs3%2Faws4_request") != NULL);
    /* a store id that cannot be a path segment is refused */
    signer_t *sg;
    err_t e;
    st.id = "a/b";
    CHECK_INT(sign_create(&st, &sg, &e), ERR_BAD_REQUEST);
    CHECK(sg == NULL);
    arena_release(&a);
}

TEST(sign_local_verify_accepts)
{
    store_t st = local_store();
    fake_headers_t none = {{NULL}, {NULL}};
    fake_headers_t put_h = {{"content-type", "content-length"}, {"text/plain", "5"}};
    arena_t a;
    arena_init(&a);
    /* GET, and the same URL at the edges of its validity (300 s of clock skew allowed) */
    ACCEPTED(&st, GET_URL, "GET", &none, T_2013 + 10);
    ACCEPTED(&st, GET_URL, "GET", &none, T_2013 - 300);
    ACCEPTED(&st, GET_URL, "GET", &none, T_2013 + 600);
    /* the path spelt with other escapes decodes to the same bytes: '~' as %7E, lowercase hex,
     * an unreserved letter escaped */
    ACCEPTED(&st, mutate(&a, GET_URL, "c~%C3%A9", "c%7E%c3%a9", __LINE__), "GET", &none, T_2013);
    ACCEPTED(&st, mutate(&a, GET_URL, "/acme/", "/%61cme/", __LINE__), "GET", &none, T_2013);
    /* parameter order does not matter (the canonical query is sorted) */
    char *moved = mutate(&a, GET_URL, "X-Amz-Algorithm=AWS4-HMAC-SHA256&", "", __LINE__);
    ACCEPTED(&st, arena_printf(&a, "%s&X-Amz-Algorithm=AWS4-HMAC-SHA256", moved), "GET", &none, T_2013);

    /* PUT: the signed length is handed back */
    sign_verify_request_t v = as_received(PUT_URL, "PUT", &put_h, T_2013);
    int64_t len = 0;
    err_t e;
    CHECK_INT(sign_local_verify(&st, &v, &len, &e), 0);
    CHECK_INT(len, 5);
    /* header values are compared trimmed, as SigV4 canonicalises them */
    fake_headers_t padded = {{"content-type", "content-length"}, {"  text/plain ", " 5"}};
    v = as_received(PUT_URL, "PUT", &padded, T_2013);
    CHECK_INT(sign_local_verify(&st, &v, &len, &e), 0);
    CHECK_INT(len, 5);
    /* HEAD and DELETE URLs verify for their method; a GET's length is -1 */
    sign_result_t r;
    sign_request_t rq = {.method = "HEAD", .name = "acme/x", .now = T_2013, .expires = 60, .content_length = -1};
    ACCEPTED(&st, presign(&st, &rq, &r, &a), "HEAD", &none, T_2013);
    rq.method = "DELETE";
    ACCEPTED(&st, presign(&st, &rq, &r, &a), "DELETE", &none, T_2013);
    v = as_received(GET_URL, "GET", &none, T_2013);
    len = 0;
    CHECK_INT(sign_local_verify(&st, &v, &len, &e), 0);
    CHECK_INT(len, -1);
    arena_release(&a);
}

TEST(sign_local_verify_refuses)
{
    store_t st = local_store();
    fake_headers_t none = {{NULL}, {NULL}};
    fake_headers_t put_h = {{"content-type", "content-length"}, {"text/plain", "5"}};
    arena_t a;
    arena_init(&a);
    /* the untouched URLs pass, so each refusal below is due to its one change */
    ACCEPTED(&st, GET_URL, "GET", &none, T_2013);
    ACCEPTED(&st, PUT_URL, "PUT", &put_h, T_2013);

    /* tampered signature, path, query parameters, host */
    REFUSED(&st, mutate(&a, GET_URL, "=86d23c5f", "=96d23c5f", __LINE__), "GET", &none, T_2013, "signature does not match");
    REFUSED(&st, mutate(&a, GET_URL, "0753", "075", __LINE__), "GET", &none, T_2013, "signature does not match");
    REFUSED(&st, mutate(&a, GET_URL, "a%20b", "a%20c", __LINE__), "GET", &none, T_2013, "signature does not match");
    REFUSED(&st, mutate(&a, GET_URL, "//x", "/x", __LINE__), "GET", &none, T_2013, "signature does not match");
    REFUSED(&st, mutate(&a, GET_URL, "/disk-1/", "/disk-2/", __LINE__), "GET", &none, T_2013, "signature does not match");
    REFUSED(&st, mutate(&a, GET_URL, "a%20b", "a+b", __LINE__), "GET", &none, T_2013, "signature does not match");
    REFUSED(&st, mutate(&a, GET_URL, "Expires=600", "Expires=6000", __LINE__), "GET", &none, T_2013, "signature does not match");
    REFUSED(&st, mutate(&a, GET_URL, "T000000Z", "T000001Z", __LINE__), "GET", &none, T_2013, "signature does not match");
    REFUSED(&st, mutate(&a, GET_URL, "?", "?response-content-type=text%2Fhtml&", __LINE__), "GET", &none, T_2013,
            "signature does not match");
    REFUSED(&st, mutate(&a, GET_URL, "127.0.0.1:7700", "127.0.0.1:7701", __LINE__), "GET", &none, T_2013,
            "signature does not match");
    /* non-canonical spellings of the X-Amz-* values are refused, not reinterpreted */
    REFUSED(&st, mutate(&a, GET_URL, "Expires=600", "Expires=0600", __LINE__), "GET", &none, T_2013, "malformed x-amz-expires");
    REFUSED(&st, mutate(&a, GET_URL, "Expires=600", "Expires=%2B600", __LINE__), "GET", &none, T_2013, "malformed x-amz-expires");
    REFUSED(&st, mutate(&a, GET_URL, "Expires=600", "Expires=604801", __LINE__), "GET", &none, T_2013, "malformed x-amz-expires");
    REFUSED(&st, mutate(&a, GET_URL, "Expires=600", "Expires=0", __LINE__), "GET", &none, T_2013, "malformed x-amz-expires");
    REFUSED(&st, mutate(&a, GET_URL, "Date=20130524T000000Z", "Date=20130524T000060Z", __LINE__), "GET", &none, T_2013,
            "malformed x-amz-date");
    REFUSED(&st, mutate(&a, GET_URL, "Date=20130524T000000Z", "Date=2013-05-24T00:00:00Z", __LINE__), "GET", &none, T_2013,
            "malformed x-amz-date");
    REFUSED(&st, mutate(&a, PUT_URL, "content-length%3Bcontent-type", "content-type%3Bcontent-length", __LINE__), "PUT", &put_h,
            T_2013, "malformed signed headers");
    REFUSED(&st, mutate(&a, GET_URL, "SignedHeaders=host", "SignedHeaders=Host", __LINE__), "GET", &none, T_2013,
            "malformed signed headers");
    REFUSED(&st, mutate(&a, GET_URL, "SignedHeaders=host", "SignedHeaders=host%3Bhost", __LINE__), "GET", &none, T_2013,
            "malformed signed headers");
    REFUSED(&st, mutate(&a, GET_URL, "Algorithm=AWS4-HMAC-SHA256", "Algorithm=AWS4-HMAC-SHA1", __LINE__), "GET", &none, T_2013,
            "unsupported signature algorithm");
    /* missing, repeated and malformed parameters */
    REFUSED(&st, mutate(&a, GET_URL, "&X-Amz-Signature=", "&X-Amz-Sig=", __LINE__), "GET", &none, T_2013,
            "missing query parameter 'X-Amz-Signature'");
    REFUSED(&st, mutate(&a, GET_URL, "?", "?X-Amz-Expires=600&", __LINE__), "GET", &none, T_2013, "duplicate query parameter");
    REFUSED(&st, mutate(&a, GET_URL, "?", "?a=%zz&", __LINE__), "GET", &none, T_2013, "malformed query string");
    REFUSED(&st, mutate(&a, GET_URL, "/x?", "/x%00?", __LINE__), "GET", &none, T_2013, "malformed path");
    REFUSED(&st, "http://127.0.0.1:7700/local/disk-1/acme/x", "GET", &none, T_2013, "missing query parameter");

    /* expired and not yet valid */
    REFUSED(&st, GET_URL, "GET", &none, T_2013 + 601, "url expired");
    REFUSED(&st, GET_URL, "GET", &none, T_2013 + 86400, "url expired");
    REFUSED(&st, GET_URL, "GET", &none, T_2013 - 301, "url not yet valid");

    /* wrong method: the method is part of what is signed */
    REFUSED(&st, GET_URL, "DELETE", &none, T_2013, "signature does not match");
    REFUSED(&st, GET_URL, "HEAD", &none, T_2013, "signature does not match");
    REFUSED(&st, PUT_URL, "POST", &put_h, T_2013, "signature does not match");

    /* wrong store key, key id, region; a credential whose date is not X-Amz-Date's */
    static const store_cred_t other_secret[] = {{"access_key_id", "LOCIKEY"}, {"secret_access_key", "fedcba9876543210"}};
    static const store_cred_t other_id[] = {{"access_key_id", "OTHERKEY"}, {"secret_access_key", "0123456789abcdef"}};
    store_t st2 = st;
    st2.creds = other_secret;
    REFUSED(&st2, GET_URL, "GET", &none, T_2013, "signature does not match");
    st2.creds = other_id;
    REFUSED(&st2, GET_URL, "GET", &none, T_2013, "credential is not this store's key");
    st2 = st;
    st2.region = "eu-local-1";
    REFUSED(&st2, GET_URL, "GET", &none, T_2013, "credential is for region 'local'");
    st2.creds = NULL;
    st2.ncreds = 0;
    REFUSED(&st2, GET_URL, "GET", &none, T_2013, "has no signing key");
    REFUSED(&st, mutate(&a, GET_URL, "%2F20130524%2F", "%2F20130525%2F", __LINE__), "GET", &none, T_2013,
            "credential date does not match");
    REFUSED(&st, mutate(&a, GET_URL, "%2Fs3%2F", "%2Fs4%2F", __LINE__), "GET", &none, T_2013, "malformed credential");
    REFUSED(&st, mutate(&a, GET_URL, "aws4_request", "aws4_request%2Fx", __LINE__), "GET", &none, T_2013, "malformed credential");

    /* PUT: the body's length and type are bound and must be sent exactly */
    fake_headers_t h = put_h;
    h.value[1] = "6";
    REFUSED(&st, PUT_URL, "PUT", &h, T_2013, "signature does not match");
    h.value[1] = "05";
    REFUSED(&st, PUT_URL, "PUT", &h, T_2013, "malformed content-length");
    h.value[1] = "5";
    h.value[0] = "text/html";
    REFUSED(&st, PUT_URL, "PUT", &h, T_2013, "signature does not match");
    h.name[0] = NULL;
    REFUSED(&st, PUT_URL, "PUT", &h, T_2013, "signed header 'content-type' missing from the request");
    h = put_h;
    h.name[1] = NULL;
    REFUSED(&st, PUT_URL, "PUT", &h, T_2013, "signed header 'content-length' missing from the request");
    /* a PUT signature that does not bind the length (or the type) is refused outright */
    sign_result_t r;
    sign_request_t rq = {
        .method = "PUT", .name = "acme/x", .now = T_2013, .expires = 60, .content_type = "text/plain", .content_length = -1};
    REFUSED(&st, presign(&st, &rq, &r, &a), "PUT", &put_h, T_2013, "must cover content-length and content-type");
    rq.content_length = 5;
    rq.content_type = NULL;
    REFUSED(&st, presign(&st, &rq, &r, &a), "PUT", &put_h, T_2013, "must cover content-length and content-type");
    rq.content_type = "text/plain";
    ACCEPTED(&st, presign(&st, &rq, &r, &a), "PUT", &put_h, T_2013);
    /* a GET URL replayed as a PUT: not bound, and signed for another method anyway */
    REFUSED(&st, GET_URL, "PUT", &put_h, T_2013, "must cover content-length and content-type");
    /* a signature that does not cover host (no signer of ours makes one) */
    REFUSED(&st, mutate(&a, PUT_URL, "content-type%3Bhost", "content-type", __LINE__), "PUT", &put_h, T_2013, "must cover host");
    arena_release(&a);
}
