/*
 * test_sign.c - the s3 provider's store options (region, public_host, base paths, addressing
 * styles), what it refuses, and signing from many threads at once through one signer (whose
 * derived-key cache is shared).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sign/sign.h"
#include "unit/test.h"

#define T_2013 1369353600 /* 2013-05-24T00:00:00Z */

static const store_cred_t CREDS[] = {{"access_key_id", "AK"}, {"secret_access_key", "SK"}};

static store_t store(const char *endpoint, const char *bucket, bool path_style, const char *region)
{
    store_t st = {.id = "s1",
                  .provider = "s3",
                  .endpoint = endpoint,
                  .bucket = bucket,
                  .region = region,
                  .country = "DE",
                  .path_style = path_style,
                  .creds = CREDS,
                  .ncreds = 2};
    return st;
}

/* Creates a signer for st and signs rq; returns the status, with the result in *r. */
static int sign_once(const store_t *st, const sign_request_t *rq, sign_result_t *r, arena_t *a, err_t *e)
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

TEST(sign_s3_store_options)
{
    arena_t a;
    err_t e;
    sign_result_t r, r2;
    arena_init(&a);
    sign_request_t get = {.method = "GET", .name = "k", .now = T_2013, .expires = 60, .content_length = -1};

    /* no region: us-east-1 */
    store_t st = store("https://s3.amazonaws.com", "b", true, NULL);
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), 0);
    CHECK(strstr(r.url, "AK%2F20130524%2Fus-east-1%2Fs3%2Faws4_request") != NULL);
    st.region = "";
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), 0);
    CHECK(strstr(r.url, "AK%2F20130524%2Fus-east-1%2Fs3%2Faws4_request") != NULL);

    /* an endpoint with a base path, a non-default port and a checksum: botocore's URL for
     * put_object with ContentType, ContentLength and ChecksumSHA256 */
    st = store("https://minio.example.com:9443/base/", "b", true, "eu-central-1");
    sign_request_t put = {.method = "PUT",
                          .name = "k",
                          .now = T_2013,
                          .expires = 60,
                          .content_type = "text/plain",
                          .content_length = 5,
                          .sha256_hex = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"};
    CHECK_INT(sign_once(&st, &put, &r, &a, &e), 0);
    CHECK_STR(r.url, "https://minio.example.com:9443/base/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                     "&X-Amz-Credential=AK%2F20130524%2Feu-central-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
                     "&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost%3Bx-amz-checksum-sha256&X-Amz-Expires=60"
                     "&X-Amz-Signature=37bae44ef530d6ecca36e690b0d1dfcdb23dcbb48d1d1a5512fc6f81a90b206c");
    CHECK_INT(r.nheaders, 3);
    CHECK_STR(r.headers[2].value, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");

    /* public_host: clients go to (and the signature is for) that host, the endpoint's path stays */
    st = store("http://10.0.0.5:9000", "b", true, "eu-west-1");
    st.public_host = "https://s3.example.com";
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), 0);
    store_t pub = store("https://s3.example.com", "b", true, "eu-west-1");
    CHECK_INT(sign_once(&pub, &get, &r2, &a, &e), 0);
    CHECK_STR(r.url, r2.url);
    CHECK(strncmp(r.url, "https://s3.example.com/b/k?", 27) == 0);

    /* virtual-hosted: the bucket leads the host, the port stays */
    st = store("http://minio.internal:9000", "acme-eu-1", false, "eu-west-1");
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), 0);
    CHECK(strncmp(r.url, "http://acme-eu-1.minio.internal:9000/k?", 39) == 0);
    /* path style: the bucket is the first path segment */
    st.path_style = true;
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), 0);
    CHECK(strncmp(r.url, "http://minio.internal:9000/acme-eu-1/k?", 39) == 0);

    /* GET, HEAD and DELETE bind only host, whatever else the request carries */
    static const char *const reads[] = {"GET", "HEAD", "DELETE"};
    for (size_t i = 0; i < 3; i++) {
        sign_request_t rq = put;
        rq.method = reads[i];
        CHECK_INT(sign_once(&st, &rq, &r, &a, &e), 0);
        CHECK_INT(r.nheaders, 0);
        CHECK(strstr(r.url, "&X-Amz-SignedHeaders=host&") != NULL);
    }
    /* a PUT without declared type or length binds nothing but host */
    sign_request_t bare = {.method = "PUT", .name = "k", .now = T_2013, .expires = 60, .content_length = -1};
    CHECK_INT(sign_once(&st, &bare, &r, &a, &e), 0);
    CHECK_INT(r.nheaders, 0);
    CHECK(strstr(r.url, "&X-Amz-SignedHeaders=host&") != NULL);
    arena_release(&a);
}

TEST(sign_s3_refuses)
{
    arena_t a;
    err_t e;
    sign_result_t r;
    signer_t *sg = NULL;
    arena_init(&a);
    sign_request_t put = {
        .method = "PUT", .name = "k", .now = T_2013, .expires = 60, .content_type = "text/plain", .content_length = 5};
    store_t st = store("https://s3.example.com", "b", true, NULL);
    CHECK_INT(sign_once(&st, &put, &r, &a, &e), 0);

    /* request values that cannot be signed */
    sign_request_t rq = put;
    rq.content_type = "text/plain\r\nx-evil: 1";
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq = put;
    rq.sha256_hex = "abc";
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq.sha256_hex = "zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq = put;
    rq.name = "";
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq.name = NULL;
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq = put;
    rq.expires = 0;
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq.expires = SIGN_MAX_EXPIRES;
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), 0);
    rq.method = NULL;
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq.method = "get"; /* methods are case-sensitive */
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);

    /* stores that cannot sign */
    st = store("https://s3.example.com", "My_Bucket", false, NULL); /* not a DNS name */
    CHECK_INT(sign_create(&st, &sg, &e), ERR_BAD_REQUEST);
    CHECK(sg == NULL && strstr(e.msg, "path_style") != NULL);
    st.path_style = true; /* but fine as a path segment */
    CHECK_INT(sign_once(&st, &put, &r, &a, &e), 0);
    CHECK(strstr(r.url, "/My_Bucket/k?") != NULL);
    st = store("https://", "b", true, NULL);
    CHECK_INT(sign_create(&st, &sg, &e), ERR_BAD_REQUEST);
    st = store("s3.example.com", "b", true, NULL);
    CHECK_INT(sign_create(&st, &sg, &e), ERR_BAD_REQUEST);
    st = store("https://s3.example.com", "b", true, NULL);
    st.public_host = "ftp://x";
    CHECK_INT(sign_create(&st, &sg, &e), ERR_BAD_REQUEST);
    static const store_cred_t slash[] = {{"access_key_id", "A/K"}, {"secret_access_key", "SK"}};
    static const store_cred_t no_secret[] = {{"access_key_id", "AK"}};
    st = store("https://s3.example.com", "b", true, NULL);
    st.creds = slash;
    CHECK_INT(sign_create(&st, &sg, &e), ERR_BAD_REQUEST);
    st.creds = no_secret;
    st.ncreds = 1;
    CHECK_INT(sign_create(&st, &sg, &e), ERR_BAD_REQUEST);
    CHECK(strstr(e.msg, "secret_access_key") != NULL);
    arena_release(&a);
}

/* --- many threads, one signer --- */

#define SIGN_THREADS 8
#define SIGN_ROUNDS  400
#define SIGN_DAYS    4

typedef struct sign_job {
    signer_t *sg;
    const char *const *want; /* the URL for day d, signed alone by a fresh signer */
    int index;               /* where in the days this thread starts */
    int mismatches;
} sign_job_t;

/* Signs the same request for several days in turn, so the threads keep replacing each
 * other's cached key, and counts results that differ from the reference. */
static void *sign_worker(void *arg)
{
    sign_job_t *job = arg;
    cset_t all;
    memset(&all, 0xff, sizeof(all));
    arena_t a;
    arena_init(&a);
    for (int i = 0; i < SIGN_ROUNDS; i++) {
        int day = (i + job->index) % SIGN_DAYS;
        sign_request_t rq = {
            .method = "GET", .name = "t/obj", .now = T_2013 + day * 86400 + 7, .expires = 900, .content_length = -1};
        sign_result_t r;
        err_t e;
        if (sign_presign(job->sg, &all, "acme", &rq, &r, &a, &e) != 0 || strcmp(r.url, job->want[day]) != 0)
            job->mismatches++;
        if (i % 64 == 63)
            arena_release(&a);
    }
    arena_release(&a);
    return NULL;
}

TEST(sign_concurrent_signing)
{
    store_t st = store("https://s3.eu-central-1.amazonaws.com", "acme-eu-1", false, "eu-central-1");
    arena_t a;
    arena_init(&a);
    const char *want[SIGN_DAYS];
    for (int d = 0; d < SIGN_DAYS; d++) {
        sign_request_t rq = {.method = "GET", .name = "t/obj", .now = T_2013 + d * 86400 + 7, .expires = 900, .content_length = -1};
        sign_result_t r;
        err_t e;
        CHECK_INT(sign_once(&st, &rq, &r, &a, &e), 0);
        want[d] = r.url;
    }
    CHECK(strcmp(want[0], want[1]) != 0); /* each day has its own key */
    signer_t *sg;
    err_t e;
    CHECK_INT(sign_create(&st, &sg, &e), 0);
    sign_job_t jobs[SIGN_THREADS];
    pthread_t th[SIGN_THREADS];
    for (int i = 0; i < SIGN_THREADS; i++) {
        jobs[i] = (sign_job_t){.sg = sg, .want = want, .index = i};
        CHECK_INT(pthread_create(&th[i], NULL, sign_worker, &jobs[i]), 0);
    }
    int mismatches = 0;
    for (int i = 0; i < SIGN_THREADS; i++) {
        pthread_join(th[i], NULL);
        mismatches += jobs[i].mismatches;
    }
    CHECK_INT(mismatches, 0);
    sign_destroy(sg);
    arena_release(&a);
}
