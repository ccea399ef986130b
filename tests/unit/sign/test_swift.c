/*
 * test_swift.c - the swift provider (OpenStack Swift TempURLs, HMAC-SHA256): the example of
 * Swift's own documentation, every method, download overrides, public_host and path prefixes,
 * names that need percent-encoding, what it refuses, and signing from many threads.
 *
 * Expected signatures were computed independently with Python's hmac/hashlib over
 * "METHOD\nEXPIRES\nPATH" (PATH the unquoted /v1/account/container/object) and hard-coded.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sign/sign.h"
#include "unit/test.h"

#define T_EXP 1795000000 /* temp_url_expires of the fixed cases */

static const store_cred_t SWIFT_CREDS[] = {{"temp_url_key", "loci-swift-key"}};

static store_t swift_store(const char *endpoint, const char *container)
{
    store_t st = {.id = "sw1",
                  .provider = "swift",
                  .endpoint = endpoint,
                  .bucket = container,
                  .country = "CH",
                  .creds = SWIFT_CREDS,
                  .ncreds = 1};
    return st;
}

/* Creates a signer for st and signs rq (all countries allowed); returns the status. */
static int swift_sign(const store_t *st, const sign_request_t *rq, sign_result_t *r, arena_t *a, err_t *e)
{
    signer_t *sg;
    cset_t all;
    memset(&all, 0xff, sizeof(all));
    int rc = sign_create(st, &sg, e);
    if (rc == 0)
        rc = sign_presign(sg, &all, "acme", rq, r, a, e);
    sign_destroy(sg);
    return rc;
}

/* A request for name with method, expiring at T_EXP. */
static sign_request_t req(const char *method, const char *name)
{
    sign_request_t rq = {.method = method, .name = name, .now = T_EXP - 300, .expires = 300, .content_length = -1};
    return rq;
}

#define LOCI_OBJ "acme/eu1.01JD3Q5ZC8Y8K0Q4N6D2T7W9XB"
#define LOCI_URL "http://127.0.0.1:8080/v1/AUTH_test/loci-test/" LOCI_OBJ

/* Swift's documentation: key "mykey", GET /v1/AUTH_account/container/object until 1512508563. */
TEST(sign_swift_doc_vector)
{
    static const store_cred_t creds[] = {{"temp_url_key", "mykey"}};
    arena_t a;
    err_t e;
    sign_result_t r;
    arena_init(&a);
    store_t st = swift_store("https://swift-cluster.example.com/v1/AUTH_account", "container");
    st.creds = creds;
    sign_request_t rq = {.method = "GET", .name = "object", .now = 1512508563 - 60, .expires = 60, .content_length = -1};
    CHECK_INT(swift_sign(&st, &rq, &r, &a, &e), 0);
    CHECK_STR(r.url, "https://swift-cluster.example.com/v1/AUTH_account/container/object"
                     "?temp_url_sig=732fcac368abb10c78a4cbe95c3fab7f311584532bf779abd5074e13cbe8b88b&temp_url_expires=1512508563");
    CHECK_INT(r.nheaders, 0);
    CHECK_INT(r.expires_at, 1512508563);
    arena_release(&a);
}

TEST(sign_swift_methods)
{
    arena_t a;
    err_t e;
    sign_result_t r;
    arena_init(&a);
    store_t st = swift_store("http://127.0.0.1:8080/v1/AUTH_test/", "loci-test");

    sign_request_t rq = req("GET", LOCI_OBJ);
    CHECK_INT(swift_sign(&st, &rq, &r, &a, &e), 0);
    CHECK_STR(r.url, LOCI_URL "?temp_url_sig=7fcb217167e33299af17ee97cf8858a2c782c8e2db9c6b0391a6a7dea6857aa0"
                              "&temp_url_expires=1795000000");
    CHECK_INT(r.nheaders, 0);

    /* HEAD is signed as HEAD (tempurl would also take a GET or PUT signature for it) */
    rq = req("HEAD", LOCI_OBJ);
    CHECK_INT(swift_sign(&st, &rq, &r, &a, &e), 0);
    CHECK_STR(r.url, LOCI_URL "?temp_url_sig=752ce30a9c7bd4e0daf01d19fa60de90483515459843de233d672a8f2a3333f3"
                              "&temp_url_expires=1795000000");
    CHECK_INT(r.nheaders, 0);

    rq = req("DELETE", LOCI_OBJ);
    CHECK_INT(swift_sign(&st, &rq, &r, &a, &e), 0);
    CHECK_STR(r.url, LOCI_URL "?temp_url_sig=b540960b46bc5c18671fead0e7814217858cfdb713195c347188eec51c4cf9dc"
                              "&temp_url_expires=1795000000");
    CHECK_INT(r.nheaders, 0);

    /* PUT: nothing but method, expiry and path is signed; type and length are the headers to send */
    rq = req("PUT", LOCI_OBJ);
    rq.content_type = "audio/opus";
    rq.content_length = 48213;
    rq.sha256_hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    CHECK_INT(swift_sign(&st, &rq, &r, &a, &e), 0);
    CHECK_STR(r.url, LOCI_URL "?temp_url_sig=c0d84ebcf669d8c4d0015d948de9b8265f107ed9a00dc352848563d2985b461b"
                              "&temp_url_expires=1795000000");
    CHECK_INT(r.nheaders, 2);
    if (r.nheaders == 2) {
        CHECK_STR(r.headers[0].name, "content-type");
        CHECK_STR(r.headers[0].value, "audio/opus");
        CHECK_STR(r.headers[1].name, "content-length");
        CHECK_STR(r.headers[1].value, "48213");
    }
    /* neither declared: no headers, same URL */
    const char *put_url = r.url;
    rq.content_type = NULL;
    rq.content_length = -1;
    CHECK_INT(swift_sign(&st, &rq, &r, &a, &e), 0);
    CHECK_STR(r.url, put_url);
    CHECK_INT(r.nheaders, 0);
    rq.content_length = 0;
    CHECK_INT(swift_sign(&st, &rq, &r, &a, &e), 0);
    CHECK_INT(r.nheaders, 1);
    CHECK_STR(r.headers[0].value, "0");

    /* the expiry is now + expires, and is signed */
    rq = req("GET", LOCI_OBJ);
    rq.expires = 301;
    CHECK_INT(swift_sign(&st, &rq, &r, &a, &e), 0);
    CHECK(strstr(r.url, "&temp_url_expires=1795000001") != NULL);
    CHECK(strstr(r.url, "7fcb217167e33299af17ee97cf8858a2c782c8e2db9c6b0391a6a7dea6857aa0") == NULL);
    CHECK_INT(r.expires_at, 1795000001);
    arena_release(&a);
}

/* Names are signed raw and sent percent-encoded (unreserved characters and '/' stay). */
TEST(sign_swift_names)
{
    arena_t a;
    err_t e;
    sign_result_t r;
    arena_init(&a);
    store_t st = swift_store("http://127.0.0.1:8080/v1/AUTH_test", "loci-test");

    sign_request_t rq = req("GET", "dir/a b+c~\xc3\xa9%.txt");
    CHECK_INT(swift_sign(&st, &rq, &r, &a, &e), 0);
    CHECK_STR(r.url, "http://127.0.0.1:8080/v1/AUTH_test/loci-test/dir/a%20b%2Bc~%C3%A9%25.txt"
                     "?temp_url_sig=07ee12e14c381be28434969c52b15978b3b4ed73d57a469656470e253e7c4ef0&temp_url_expires=1795000000");

    /* no path normalisation: "//", "." and ".." are signed as they are; a "%2F" is a '%' */
    rq = req("GET", "//x/./../y%2F?#&=\xe4\xb8\xad\xf0\x9f\x98\x80");
    CHECK_INT(swift_sign(&st, &rq, &r, &a, &e), 0);
    CHECK_STR(r.url, "http://127.0.0.1:8080/v1/AUTH_test/loci-test///x/./../y%252F%3F%23%26%3D%E4%B8%AD%F0%9F%98%80"
                     "?temp_url_sig=3dfef8e98cf367da2f9b78ba5810b3844378fece8d340e3e24ae4c9eecb6852a&temp_url_expires=1795000000");

    /* an account written percent-encoded in the endpoint is signed decoded; the container is
     * encoded in the URL and signed raw */
    store_t st2 = swift_store("https://swift.example.ch/v1/AUTH_%C3%A9%20t", "my container");
    rq = req("PUT", "o");
    CHECK_INT(swift_sign(&st2, &rq, &r, &a, &e), 0);
    CHECK_STR(r.url, "https://swift.example.ch/v1/AUTH_%C3%A9%20t/my%20container/o"
                     "?temp_url_sig=74d4e0a4433a000f2ae138172d9ca893755cb620a4e111b57602e2a6017fe2fa&temp_url_expires=1795000000");
    arena_release(&a);
}

/* A prefix before /v1/ (reverse proxy, RGW) is in the URL, not in the signed path; public_host
 * replaces scheme and host only. */
TEST(sign_swift_public_host)
{
    arena_t a;
    err_t e;
    sign_result_t r;
    arena_init(&a);
    const char *sig = "?temp_url_sig=db320ee7b0e361a969e86c2a08364899777cb5ae8f83383ff2e58d9b68cbdf08&temp_url_expires=1795000000";
    store_t st = swift_store("http://10.0.0.5:8080/swift/v1/AUTH_x", "c");
    sign_request_t rq = req("GET", "o");
    CHECK_INT(swift_sign(&st, &rq, &r, &a, &e), 0);
    CHECK_STR(r.url, arena_printf(&a, "http://10.0.0.5:8080/swift/v1/AUTH_x/c/o%s", sig));
    st.public_host = "https://objects.example.ch";
    CHECK_INT(swift_sign(&st, &rq, &r, &a, &e), 0);
    CHECK_STR(r.url, arena_printf(&a, "https://objects.example.ch/swift/v1/AUTH_x/c/o%s", sig));
    st.public_host = "https://objects.example.ch:8443/";
    CHECK_INT(swift_sign(&st, &rq, &r, &a, &e), 0);
    CHECK_STR(r.url, arena_printf(&a, "https://objects.example.ch:8443/swift/v1/AUTH_x/c/o%s", sig));
    st.public_host = "";
    CHECK_INT(swift_sign(&st, &rq, &r, &a, &e), 0);
    CHECK_STR(r.url, arena_printf(&a, "http://10.0.0.5:8080/swift/v1/AUTH_x/c/o%s", sig));
    /* the default port is kept as written */
    st = swift_store("https://10.0.0.5:443/v1/AUTH_x", "c");
    CHECK_INT(swift_sign(&st, &rq, &r, &a, &e), 0);
    CHECK_STR(r.url, arena_printf(&a, "https://10.0.0.5:443/v1/AUTH_x/c/o%s", sig));
    arena_release(&a);
}

/* Signs a GET of LOCI_OBJ with a content disposition; returns the status and the URL's part
 * after the signature and expiry (or "ERR <message>"). */
static const char *disposition(const char *value, arena_t *a)
{
    store_t st = swift_store("http://127.0.0.1:8080/v1/AUTH_test", "loci-test");
    sign_request_t rq = req("GET", LOCI_OBJ);
    rq.response_content_disposition = value;
    sign_result_t r;
    err_t e;
    int rc = swift_sign(&st, &rq, &r, a, &e);
    if (rc != 0)
        return arena_printf(a, "ERR %s %s", err_name(rc), e.msg);
    const char *base = LOCI_URL "?temp_url_sig=7fcb217167e33299af17ee97cf8858a2c782c8e2db9c6b0391a6a7dea6857aa0"
                                "&temp_url_expires=1795000000";
    if (strncmp(r.url, base, strlen(base)) != 0)
        return arena_printf(a, "URL %s", r.url);
    return r.url + strlen(base);
}

TEST(sign_swift_overrides)
{
    arena_t a;
    arena_init(&a);
    /* the filename and inline parameters are not signed: the URL before them is unchanged */
    CHECK_STR(disposition("attachment; filename=\"a b.txt\"", &a), "&filename=a%20b.txt");
    CHECK_STR(disposition("attachment; filename=report.pdf", &a), "&filename=report.pdf");
    CHECK_STR(disposition("Attachment ;Filename = \"q\\\"uo\\\\te+;.txt\" ; size=5;", &a), "&filename=q%22uo%5Cte%2B%3B.txt");
    CHECK_STR(disposition("inline", &a), "&inline");
    CHECK_STR(disposition("INLINE; filename=\"x.png\"", &a), "&inline&filename=x.png");
    /* no filename: Swift's default (stored disposition, else attachment; filename=<basename>) */
    CHECK_STR(disposition("attachment", &a), "");
    CHECK_STR(disposition("attachment; creation-date=\"Wed, 12 Feb 1997 16:29:51 -0500\"", &a), "");
    /* filename* (RFC 8187) wins over filename, in either order; UTF-8 and ISO-8859-1 */
    CHECK_STR(disposition("attachment; filename*=UTF-8''%E2%82%AC%20rates.txt; filename=\"EUR rates.txt\"", &a),
              "&filename=%E2%82%AC%20rates.txt");
    CHECK_STR(disposition("attachment; filename=\"EUR rates.txt\"; filename*=utf-8'en'%E2%82%AC%20rates.txt", &a),
              "&filename=%E2%82%AC%20rates.txt");
    CHECK_STR(disposition("attachment; filename*=iso-8859-1''%E9t%E9.txt", &a), "&filename=%C3%A9t%C3%A9.txt");
    CHECK_STR(disposition("attachment; filename=\"\xc3\xa9t\xc3\xa9 \xe4\xb8\xad.txt\"", &a),
              "&filename=%C3%A9t%C3%A9%20%E4%B8%AD.txt");

    /* what Swift cannot express, or malformed values */
    static const char *const bad[] = {
        "form-data; name=\"x\"",
        "",
        "; filename=x",
        "attachment filename=x",
        "attachment; filename=\"unterminated",
        "attachment; filename=",
        "attachment; filename=a b",
        "attachment; filename=\"\"",
        "attachment; filename=\"a\tb\"",
        "attachment; filename=\"\xff.txt\"",
        "attachment; filename*=UTF-16''%00a",
        "attachment; filename*=UTF-8''%E2%82",
        "attachment; filename*=UTF-8''%0A.txt",
        "attachment; filename*=\"UTF-8''a.txt\"",
        "attachment; filename*=a.txt",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *got = disposition(bad[i], &a);
        if (strncmp(got, "ERR BAD_REQUEST ", 16) != 0)
            test_fail(__FILE__, __LINE__, "disposition '%s' gave '%s', want ERR BAD_REQUEST", bad[i], got);
    }

    /* a content type override cannot be expressed: refused, not silently dropped */
    store_t st = swift_store("http://127.0.0.1:8080/v1/AUTH_test", "loci-test");
    sign_request_t rq = req("GET", LOCI_OBJ);
    rq.response_content_type = "text/plain";
    sign_result_t r;
    err_t e;
    CHECK_INT(swift_sign(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    CHECK(strstr(e.msg, "content type") != NULL);
    /* overrides belong to GET only; other methods ignore them */
    rq = req("DELETE", LOCI_OBJ);
    rq.response_content_type = "text/plain";
    rq.response_content_disposition = "form-data";
    CHECK_INT(swift_sign(&st, &rq, &r, &a, &e), 0);
    CHECK(strchr(r.url, '&') != NULL && strstr(r.url, "filename") == NULL && strstr(r.url, "inline") == NULL);
    arena_release(&a);
}

/* Checks that creating a signer for st fails with ERR_BAD_REQUEST naming `why`. */
static void refused_at_create(const store_t *st, const char *why, int line)
{
    signer_t *sg = NULL;
    err_t e = {0};
    int rc = sign_create(st, &sg, &e);
    if (rc != ERR_BAD_REQUEST || sg != NULL || strstr(e.msg, why) == NULL)
        test_fail(__FILE__, line, "store %s/%s: rc %d '%s', want ERR_BAD_REQUEST with '%s'", st->endpoint ? st->endpoint : "(null)",
                  st->bucket ? st->bucket : "(null)", rc, e.msg, why);
    sign_destroy(sg);
}

TEST(sign_swift_refuses)
{
    static const store_cred_t empty_key[] = {{"temp_url_key", ""}};
    static const store_cred_t s3_creds[] = {{"access_key_id", "AK"}, {"secret_access_key", "SK"}};
    arena_t a;
    err_t e;
    sign_result_t r;
    arena_init(&a);

    /* endpoints that are not an account URL */
    static const char *const endpoints[] = {"http://127.0.0.1:8080",
                                            "http://127.0.0.1:8080/",
                                            "http://127.0.0.1:8080/v1",
                                            "http://127.0.0.1:8080/v1/",
                                            "http://127.0.0.1:8080/v2/AUTH_t",
                                            "http://127.0.0.1:8080/v1/AUTH_t/loci-test",
                                            "http://127.0.0.1:8080/xv1/AUTH_t",
                                            "http://127.0.0.1:8080/v1/AUTH_%zz",
                                            "http://127.0.0.1:8080/v1/AUTH_%2Fx",
                                            "http://127.0.0.1:8080/v1/A UTH",
                                            "http://127.0.0.1:8080/v1/AUTH_%FF",
                                            "http://127.0.0.1:8080/v1/%"};
    for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
        store_t st = swift_store(endpoints[i], "c");
        refused_at_create(&st, "account URL", __LINE__);
    }
    store_t st = swift_store("ftp://127.0.0.1/v1/AUTH_t", "c");
    refused_at_create(&st, "http", __LINE__);
    st = swift_store(NULL, "c");
    refused_at_create(&st, "endpoint", __LINE__);
    /* containers */
    static const char *const containers[] = {"", "a/b", "\xc3"};
    for (size_t i = 0; i < sizeof(containers) / sizeof(containers[0]); i++) {
        st = swift_store("http://127.0.0.1:8080/v1/AUTH_t", containers[i]);
        refused_at_create(&st, "container", __LINE__);
    }
    st = swift_store("http://127.0.0.1:8080/v1/AUTH_t", NULL);
    refused_at_create(&st, "container", __LINE__);
    char long_name[258];
    memset(long_name, 'c', 257);
    long_name[257] = '\0';
    st = swift_store("http://127.0.0.1:8080/v1/AUTH_t", long_name);
    refused_at_create(&st, "container", __LINE__);
    long_name[256] = '\0'; /* 256 bytes: Swift's maximum */
    signer_t *sg = NULL;
    CHECK_INT(sign_create(&st, &sg, &e), 0);
    sign_destroy(sg);
    /* credentials */
    st = swift_store("http://127.0.0.1:8080/v1/AUTH_t", "c");
    st.creds = empty_key;
    refused_at_create(&st, "temp_url_key", __LINE__);
    st.creds = s3_creds;
    st.ncreds = 2;
    refused_at_create(&st, "temp_url_key", __LINE__);
    st.creds = NULL;
    st.ncreds = 0;
    refused_at_create(&st, "temp_url_key", __LINE__);
    /* public_host */
    st = swift_store("http://127.0.0.1:8080/v1/AUTH_t", "c");
    st.public_host = "https://objects.example.ch/v1/AUTH_t";
    refused_at_create(&st, "without a path", __LINE__);
    st.public_host = "objects.example.ch";
    refused_at_create(&st, "http", __LINE__);

    /* requests */
    st = swift_store("http://127.0.0.1:8080/v1/AUTH_t", "c");
    static const char *const names[] = {"/", "///", "bad\xc3(", "\xed\xa0\x80", "a\xff"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        sign_request_t rq = req("GET", names[i]);
        if (swift_sign(&st, &rq, &r, &a, &e) != ERR_BAD_REQUEST)
            test_fail(__FILE__, __LINE__, "name %zu was signed", i);
    }
    sign_request_t rq = req("PUT", "o");
    rq.content_type = "text/plain\r\nX-Object-Manifest: c/x";
    CHECK_INT(swift_sign(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq.content_type = "text/\xc3\xa9";
    CHECK_INT(swift_sign(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq = req("POST", "o");
    CHECK_INT(swift_sign(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq = req("GET", "o");
    rq.expires = SIGN_MAX_EXPIRES + 1;
    CHECK_INT(swift_sign(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);

    /* no multipart: the limits say so, and every step is refused */
    const signer_vt_t *vt = sign_provider("swift");
    CHECK(vt != NULL);
    if (vt) {
        CHECK_INT(vt->limits.part_min, 0);
        CHECK_INT(vt->limits.single_put_max, INT64_C(5) << 30);
    }
    for (sign_op_t op = SIGN_OP_PART; op <= SIGN_OP_MP_ABORT; op++) {
        rq = req("PUT", "o");
        rq.op = op;
        rq.part_number = 1;
        rq.mp_id = "x";
        CHECK_INT(swift_sign(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    }
    /* and the provider itself refuses them, should a caller skip sign_presign */
    CHECK_INT(sign_create(&st, &sg, &e), 0);
    if (sg) {
        rq = req("PUT", "o");
        rq.op = SIGN_OP_MP_COMPLETE;
        rq.method = "POST";
        CHECK_INT(sg->vt->presign(sg, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    }

    /* residency is re-checked: a CH store for a tenant allowed only DE */
    cset_t de;
    cset_clear(&de);
    cset_add(&de, "DE");
    rq = req("GET", "o");
    CHECK_INT(sign_presign(sg, &de, "acme", &rq, &r, &a, &e), ERR_RESIDENCY_VIOLATION);
    sign_destroy(sg);
    arena_release(&a);
}

#define SWIFT_THREADS 8
#define SWIFT_ROUNDS  500

typedef struct swift_job {
    signer_t *sg;
    int id;
    int bad;
} swift_job_t;

/* Signs SWIFT_ROUNDS names through a shared signer; counts results that differ from a fresh
 * single-threaded signer's. */
static void *swift_worker(void *arg)
{
    swift_job_t *j = arg;
    cset_t all;
    memset(&all, 0xff, sizeof(all));
    store_t st = swift_store("http://127.0.0.1:8080/v1/AUTH_test", "loci-test");
    for (int i = 0; i < SWIFT_ROUNDS; i++) {
        arena_t a;
        arena_init(&a);
        char name[64];
        snprintf(name, sizeof(name), "t%d/\xc3\xa9 %d", j->id, i);
        sign_request_t rq = req(i % 2 ? "PUT" : "GET", name);
        rq.now += i;
        sign_result_t shared, alone;
        err_t e;
        if (sign_presign(j->sg, &all, "acme", &rq, &shared, &a, &e) != 0 || swift_sign(&st, &rq, &alone, &a, &e) != 0 ||
            strcmp(shared.url, alone.url) != 0)
            j->bad++;
        arena_release(&a);
    }
    return NULL;
}

TEST(sign_swift_concurrent)
{
    store_t st = swift_store("http://127.0.0.1:8080/v1/AUTH_test", "loci-test");
    signer_t *sg = NULL;
    err_t e;
    CHECK_INT(sign_create(&st, &sg, &e), 0);
    if (sg == NULL)
        return;
    pthread_t th[SWIFT_THREADS];
    swift_job_t jobs[SWIFT_THREADS];
    for (int i = 0; i < SWIFT_THREADS; i++) {
        jobs[i] = (swift_job_t){sg, i, 0};
        CHECK_INT(pthread_create(&th[i], NULL, swift_worker, &jobs[i]), 0);
    }
    for (int i = 0; i < SWIFT_THREADS; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(jobs[i].bad, 0);
    }
    sign_destroy(sg);
}
