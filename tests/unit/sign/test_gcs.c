/*
 * test_gcs.c - the gcs provider (src/sign/gcs.c): Google's V4 conformance vectors
 * (tests/vectors/gcs/v4_signatures.json with its test service account, Apache-2.0), the HMAC pin
 * of ../shared/vectors/README.md, URLs @google-cloud/storage 7.22's getSignedUrl produced under a
 * frozen clock (tests/node/sign_gcs.mjs; tests/e2e/test_sign_gcs.py compares thousands more),
 * what each operation binds, the store options, the credentials refused at create, and signing
 * from many threads through one signer.
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sign/gcs.h"
#include "sign/sign.h"
#include "unit/test.h"
#include "util/crypto.h"
#include "util/enc.h"
#include "util/timeutil.h"

#define T_2019     1549011600 /* 2019-02-01T09:00:00Z, the conformance file's usual time */
#define T_2026     1795343415 /* 2026-11-22T10:30:15Z, the SDK pins' time */
#define HMAC_ID    "GOOG1EXAMPLE"
#define HMAC_KEY   "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define SA_EMAIL   "test-iam-credentials%40dummy-project-id.iam.gserviceaccount.com"
#define HMAC_CRED  "X-Goog-Algorithm=GOOG4-HMAC-SHA256&X-Goog-Credential=GOOG1EXAMPLE%2F20261122%2Fauto%2Fstorage%2Fgoog4_request"
#define DATE_2026  "&X-Goog-Date=20261122T103015Z"
#define GCS_PREFIX "https://storage.googleapis.com/acme-eu-1/big/file.bin?"

/* True if s starts with the string literal lit. */
#define STARTS_WITH(s, lit) (strncmp((s), (lit), sizeof(lit) - 1) == 0)

static const char *vectors_dir(void)
{
    const char *d = getenv("LOCI_TEST_VECTORS");
    return d && *d ? d : "tests/vectors";
}

/* The whole of a vectors file (free it), or NULL. */
static char *read_vector(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/gcs/%s", vectors_dir(), name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    buf_t b = BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    return buf_detach(&b, NULL);
}

static cset_t all_countries(void)
{
    cset_t c;
    memset(&c, 0xff, sizeof(c));
    return c;
}

static store_t gcs_store(const char *endpoint, const char *bucket, bool path_style, const store_cred_t *creds, size_t ncreds)
{
    store_t st = {.id = "g1",
                  .provider = "gcs",
                  .endpoint = endpoint,
                  .bucket = bucket,
                  .country = "DE",
                  .path_style = path_style,
                  .creds = creds,
                  .ncreds = ncreds};
    return st;
}

static const store_cred_t HMAC_CREDS[] = {{"hmac_access_id", HMAC_ID}, {"hmac_secret", HMAC_KEY}};

/* Creates a signer for st and signs rq; returns the status, with the result in *r. */
static int sign_once(const store_t *st, const sign_request_t *rq, sign_result_t *r, arena_t *a, err_t *e)
{
    signer_t *sg;
    cset_t all = all_countries();
    int rc = sign_create(st, &sg, e);
    if (rc == 0)
        rc = sign_presign(sg, &all, "acme", rq, r, a, e);
    sign_destroy(sg);
    return rc;
}

/* The value of header name in r, or NULL. */
static const char *result_header(const sign_result_t *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

/* ---- Google's conformance file ---- */

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int enc_kv_cmp(const void *a, const void *b)
{
    const gcs_kv_t *x = a, *y = b;
    buf_t p = BUF_INIT, q = BUF_INIT;
    pct_encode(&p, x->name, strlen(x->name), false);
    pct_encode(&q, y->name, strlen(y->name), false);
    int c = strcmp(p.base, q.base);
    buf_release(&p);
    buf_release(&q);
    return c;
}

/* Checks one conformance case through the V4 core with sg's key: the canonical request, the
 * string to sign and the URL. Where the case names a host it is resolved as Google's clients
 * do: bucket-bound hostname, virtual-hosted (bucket.storage.<universe>), else the hostname,
 * the client's endpoint or the emulator host (in that order), else storage.<universe>; the
 * signed host never has a port. The case's own parameters are given in encoded-name order. */
static void check_conformance_case(signer_t *sg, json_t *t, int *sdk_order_differs)
{
    const char *desc = jstr(t, "description"), *bucket = jstr(t, "bucket"), *object = jstr(t, "object");
    const char *style = jstr(t, "urlStyle"), *universe = jstr(t, "universeDomain"), *scheme = jstr(t, "scheme");
    const char *ts = jstr(t, "timestamp");
    int64_t now = 0;
    CHECK_INT(time_parse_iso8601(ts, strlen(ts), &now), 0);
    if (universe == NULL)
        universe = "googleapis.com";

    buf_t url_host = BUF_INIT, path = BUF_INIT;
    if (style && strcmp(style, "BUCKET_BOUND_HOSTNAME") == 0) {
        buf_puts(&url_host, jstr(t, "bucketBoundHostname"));
    } else if (style && strcmp(style, "VIRTUAL_HOSTED_STYLE") == 0) {
        buf_printf(&url_host, "%s.storage.%s", bucket, universe);
    } else {
        const char *spec = jstr(t, "hostname");
        if (spec == NULL)
            spec = jstr(t, "clientEndpoint");
        if (spec == NULL)
            spec = jstr(t, "emulatorHostname");
        if (spec == NULL) {
            buf_printf(&url_host, "storage.%s", universe);
        } else {
            const char *sep = strstr(spec, "://");
            if (sep && scheme == NULL)
                scheme = STARTS_WITH(spec, "http://") ? "http" : "https";
            buf_puts(&url_host, sep ? sep + 3 : spec);
        }
        buf_printf(&path, "/%s", bucket);
    }
    if (object) {
        buf_putc(&path, '/');
        pct_encode(&path, object, strlen(object), true);
    }
    if (scheme == NULL)
        scheme = "https";
    char host[256];
    snprintf(host, sizeof(host), "%s", url_host.base);
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = '\0';

    gcs_kv_t hdrs[8], query[8];
    size_t nh = 0, nq = 0;
    const char *k, *payload = NULL;
    json_t *v;
    json_object_foreach(json_object_get(t, "headers"), k, v)
    {
        if (nh < 8)
            hdrs[nh++] = (gcs_kv_t){k, json_string_value(v)};
        if (strcasecmp(k, "x-goog-content-sha256") == 0)
            payload = json_string_value(v);
    }
    json_object_foreach(json_object_get(t, "queryParameters"), k, v)
    {
        if (nq < 8)
            query[nq++] = (gcs_kv_t){k, json_string_value(v)};
    }
    qsort(query, nq, sizeof(query[0]), enc_kv_cmp);

    gcs_v4_params_t p = {.method = jstr(t, "method"),
                         .host = host,
                         .path = path.base ? path.base : "/",
                         .query = query,
                         .nquery = nq,
                         .headers = hdrs,
                         .nheaders = nh,
                         .now = now,
                         .expires = json_integer_value(json_object_get(t, "expiration")),
                         .payload = payload};
    gcs_signer_identity(sg, &p);
    buf_t creq = BUF_INIT, sts = BUF_INIT, sig = BUF_INIT, url = BUF_INIT, canon_url = BUF_INIT;
    err_t e;
    CHECK_INT(gcs_v4_canonical(&p, &creq), 0);
    CHECK_INT(gcs_v4_string_to_sign(&p, &creq, &sts), 0);
    CHECK_INT(gcs_sign(sg, &p, &sig, &e), 0);
    buf_printf(&url, "%s://%s%s?", scheme, url_host.base, p.path);
    CHECK_INT(gcs_v4_url_query(&p, sig.base, &url), 0);
    /* the file's URLs are the canonical query (the creq's third line) and the signature */
    const char *q0 = strchr(strchr(creq.base, '\n') + 1, '\n') + 1, *q1 = strchr(q0, '\n');
    buf_printf(&canon_url, "%s://%s%s?%.*s&X-Goog-Signature=%s", scheme, url_host.base, p.path, (int)(q1 - q0), q0, sig.base);
    if (strcmp(creq.base, jstr(t, "expectedCanonicalRequest")) != 0)
        test_fail(__FILE__, __LINE__, "'%s': canonical request\n%s\nexpected\n%s", desc, creq.base,
                  jstr(t, "expectedCanonicalRequest"));
    if (strcmp(sts.base, jstr(t, "expectedStringToSign")) != 0)
        test_fail(__FILE__, __LINE__, "'%s': string to sign\n%s\nexpected\n%s", desc, sts.base, jstr(t, "expectedStringToSign"));
    if (strcmp(canon_url.base, jstr(t, "expectedUrl")) != 0)
        test_fail(__FILE__, __LINE__, "'%s': url\n%s\nexpected\n%s", desc, canon_url.base, jstr(t, "expectedUrl"));
    /* loci writes the query in @google-cloud/storage's order (X-Goog-* first, then the
     * caller's parameters as given): the same URL unless a parameter of the caller's sorts
     * among the X-Goog-* ones, as in "Query Parameter Ordering" only */
    if (strcmp(url.base, canon_url.base) != 0)
        (*sdk_order_differs)++;
    buf_release(&canon_url);
    buf_release(&url_host);
    buf_release(&path);
    buf_release(&creq);
    buf_release(&sts);
    buf_release(&sig);
    buf_release(&url);
}

/* Loads the conformance file and a signer with its test service account (NULL if missing). */
static json_t *load_conformance(char **sa, store_cred_t *cred)
{
    char path[512];
    json_error_t je;
    snprintf(path, sizeof(path), "%s/gcs/v4_signatures.json", vectors_dir());
    json_t *root = json_load_file(path, 0, &je);
    *sa = read_vector("test_service_account.not-a-test.json");
    if (root == NULL || *sa == NULL)
        test_fail(__FILE__, __LINE__, "cannot read %s or its test key (LOCI_TEST_VECTORS=%s)", path, vectors_dir());
    *cred = (store_cred_t){"service_account_json", *sa};
    return root;
}

TEST(sign_gcs_conformance)
{
    char *sa;
    store_cred_t cred;
    json_t *root = load_conformance(&sa, &cred);
    store_t st = gcs_store(NULL, "test-bucket", true, &cred, 1);
    signer_t *sg = NULL;
    err_t e;
    size_t i, checked = 0;
    int sdk_order_differs = 0;
    json_t *t;
    if (root == NULL || sa == NULL)
        goto out;
    CHECK_INT(sign_create(&st, &sg, &e), 0);
    if (sg == NULL)
        goto out;
    json_array_foreach(json_object_get(root, "signingV4Tests"), i, t)
    {
        /* "Universe domain with virtual hosted style" contradicts itself: its canonical request
         * has the path-style path /test-bucket/test-object, while its string to sign hashes
         * (and its URL uses) the virtual-hosted /test-object. Skipped. */
        if (strcmp(jstr(t, "description"), "Universe domain with virtual hosted style") == 0)
            continue;
        check_conformance_case(sg, t, &sdk_order_differs);
        checked++;
    }
    CHECK_INT(checked, 28);
    CHECK_INT(sdk_order_differs, 1);
out:
    sign_destroy(sg);
    json_decref(root);
    free(sa);
}

/* The conformance cases a store can express, signed through sign_presign: the URL must be
 * the file's (so the provider resolves hosts, ports and paths as Google's clients do). */
TEST(sign_gcs_conformance_stores)
{
    static const struct {
        const char *desc, *endpoint;
        bool path_style;
    } cases[] = {
        {"Simple GET", NULL, true},
        {"Simple PUT", "https://storage.googleapis.com", true},
        {"Vary expiration and timestamp", NULL, true},
        {"Vary bucket and object", NULL, true},
        {"Forward Slashes should not be stripped", NULL, true},
        {"Virtual Hosted Style", NULL, false},
        {"Simple GET with hostname", "https://storage.googleapis.com", true},
        {"Simple GET with non-default hostname", "http://localhost:8080", true},
        {"Simple GET with endpoint on client", "https://storage.googleapis.com:443", true},
        {"Endpoint on client with scheme", "http://localhost:8080", true},
        {"Emulator host", "https://xyz.googleapis.com", true},
        {"Hostname takes precendence over endpoint and emulator", "https://xyz.googleapis.com", true},
        {"Universe domain", "https://storage.domain.com", true},
    };
    char *sa;
    store_cred_t cred;
    json_t *root = load_conformance(&sa, &cred);
    arena_t a;
    arena_init(&a);
    size_t found = 0;
    for (size_t c = 0; root && sa && c < sizeof(cases) / sizeof(cases[0]); c++) {
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(root, "signingV4Tests"), i, t)
        {
            if (strcmp(jstr(t, "description"), cases[c].desc) != 0)
                continue;
            found++;
            const char *ts = jstr(t, "timestamp");
            int64_t now = 0;
            time_parse_iso8601(ts, strlen(ts), &now);
            store_t st = gcs_store(cases[c].endpoint, jstr(t, "bucket"), cases[c].path_style, &cred, 1);
            sign_request_t rq = {.method = jstr(t, "method"),
                                 .name = jstr(t, "object"),
                                 .now = now,
                                 .expires = json_integer_value(json_object_get(t, "expiration")),
                                 .content_length = -1};
            sign_result_t r;
            err_t e;
            CHECK_INT(sign_once(&st, &rq, &r, &a, &e), 0);
            if (strcmp(r.url, jstr(t, "expectedUrl")) != 0)
                test_fail(__FILE__, __LINE__, "'%s': url\n%s\nexpected\n%s", cases[c].desc, r.url, jstr(t, "expectedUrl"));
            CHECK_INT(r.nheaders, 0);
            CHECK_INT(r.expires_at, now + rq.expires);
        }
    }
    CHECK_INT(found, sizeof(cases) / sizeof(cases[0]));
    arena_release(&a);
    json_decref(root);
    free(sa);
}

/* ---- HMAC keys ---- */

TEST(sign_gcs_hmac_pin)
{
    /* ../shared/vectors/README.md: signing key and signature for a GET at 2019-02-01T09:00:00Z */
    uint8_t key[32];
    char hex[65];
    gcs_hmac_derive_key(HMAC_KEY, "20190201", key);
    hex_encode(key, 32, hex);
    CHECK_STR(hex, "d6560443acdb551163bde8ed0d3ed9bcc7c95ce50f05e42cd8763a0a0c243e32");
    gcs_hmac_derive_key(HMAC_KEY, "20190202", key);
    hex_encode(key, 32, hex);
    CHECK(strcmp(hex, "d6560443acdb551163bde8ed0d3ed9bcc7c95ce50f05e42cd8763a0a0c243e32") != 0);

    arena_t a;
    arena_init(&a);
    store_t st = gcs_store("https://storage.googleapis.com", "test-bucket", true, HMAC_CREDS, 2);
    sign_request_t rq = {.method = "GET", .name = "test-object", .now = T_2019, .expires = 10, .content_length = -1};
    sign_result_t r;
    err_t e;
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), 0);
    CHECK_STR(r.url, "https://storage.googleapis.com/test-bucket/test-object?X-Goog-Algorithm=GOOG4-HMAC-SHA256"
                     "&X-Goog-Credential=GOOG1EXAMPLE%2F20190201%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date=20190201T090000Z"
                     "&X-Goog-Expires=10&X-Goog-SignedHeaders=host"
                     "&X-Goog-Signature=d8e66b066ab0a7851cb0cf6c21711563fb0768d0f781b13e3ecd39dd2a3b44bb");
    /* the same request a day later, and back: the cached key follows the date */
    signer_t *sg;
    cset_t all = all_countries();
    CHECK_INT(sign_create(&st, &sg, &e), 0);
    sign_result_t r1, r2, r3;
    CHECK_INT(sign_presign(sg, &all, "acme", &rq, &r1, &a, &e), 0);
    rq.now += 86400;
    CHECK_INT(sign_presign(sg, &all, "acme", &rq, &r2, &a, &e), 0);
    rq.now -= 86400;
    CHECK_INT(sign_presign(sg, &all, "acme", &rq, &r3, &a, &e), 0);
    CHECK_STR(r1.url, r.url);
    CHECK_STR(r3.url, r.url);
    CHECK(strstr(r2.url, "%2F20190202%2Fauto%2F") != NULL && strcmp(r2.url, r.url) != 0);
    sign_destroy(sg);
    sign_result_t fresh;
    rq.now += 86400;
    CHECK_INT(sign_once(&st, &rq, &fresh, &a, &e), 0);
    CHECK_STR(r2.url, fresh.url);
    arena_release(&a);
}

/* ---- URLs the SDK produced (@google-cloud/storage 7.22, clock frozen at T_2026) ---- */

TEST(sign_gcs_sdk_urls)
{
    char *sa = read_vector("test_service_account.not-a-test.json");
    store_cred_t rsa = {"service_account_json", sa ? sa : ""};
    arena_t a;
    arena_init(&a);
    sign_result_t r;
    err_t e;

    /* HMAC, virtual-hosted (default endpoint), a PUT binding type, length and digest (given in
     * upper case, signed in lower case, as the payload line too) */
    store_t st = gcs_store(NULL, "acme-eu-1", false, HMAC_CREDS, 2);
    sign_request_t put = {.method = "PUT",
                          .name = "t1/01JD3Q5ZC8Y8K0Q4N6D2T7W9XB",
                          .now = T_2026,
                          .expires = 900,
                          .content_type = "audio/opus",
                          .content_length = 48213,
                          .sha256_hex = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"};
    CHECK_INT(sign_once(&st, &put, &r, &a, &e), 0);
    CHECK_STR(r.url, "https://acme-eu-1.storage.googleapis.com/t1/01JD3Q5ZC8Y8K0Q4N6D2T7W9XB?" HMAC_CRED DATE_2026
                     "&X-Goog-Expires=900&X-Goog-SignedHeaders=content-length%3Bcontent-type%3Bhost%3Bx-goog-content-length-range"
                     "%3Bx-goog-content-sha256&X-Goog-Signature=ae2f4d72f2dc6410e49a8b96ef51625ad194bb5e9d390bd25ed240d4ed3a27b2");
    CHECK_INT(r.nheaders, 4);
    CHECK_STR(result_header(&r, "content-type"), "audio/opus");
    CHECK_STR(result_header(&r, "content-length"), "48213");
    CHECK_STR(result_header(&r, "x-goog-content-length-range"), "48213,48213");
    CHECK_STR(result_header(&r, "x-goog-content-sha256"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    /* RSA, path style behind a public_host, a GET with both overrides: the SDK lists
     * response-content-type first */
    st = gcs_store("http://10.0.0.5:4443", "acme-eu-1", true, &rsa, 1);
    st.public_host = "https://files.example.org";
    sign_request_t get = {.method = "GET",
                          .name = "dir/a b+c~\xc3\xa9.txt",
                          .now = T_2026,
                          .expires = 3600,
                          .content_length = -1,
                          .response_content_disposition = "attachment; filename=\"a b.txt\"",
                          .response_content_type = "text/plain"};
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), 0);
    CHECK_STR(r.url, "https://files.example.org/acme-eu-1/dir/a%20b%2Bc~%C3%A9.txt?X-Goog-Algorithm=GOOG4-RSA-SHA256"
                     "&X-Goog-Credential=" SA_EMAIL "%2F20261122%2Fauto%2Fstorage%2Fgoog4_request" DATE_2026
                     "&X-Goog-Expires=3600&X-Goog-SignedHeaders=host&response-content-type=text%2Fplain"
                     "&response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22&X-Goog-Signature="
                     "966dce118ffff9802309d97aabd4c487e5a635cd29c9303dde05d66fe63df9f3ee587cf64e651e8b7ecc9650232f5909b4777"
                     "8e0eaf67dc1c883ca4b033e9e6375cdcef9c83de52c737f5d8c84a83ff31980f8f65e0c70f6ea43c552c981416af7a2474bbf"
                     "b879b8428e5c5d300e2ed0af15e2a88d569d62cbbe97b1c4c9e746b79460775a7467fd4333f33e67bbf2992204b201c7e3754"
                     "98af4f69064955b9a6bd7c17deeb7f97b5229ec56c8e7e61cfd40082dfdb82920f01d64f74c0a87815e4667904a0bc77ead1f"
                     "06fe150c606004f981deb5df6f6e933aa3b8805adb72264e681fe0c3c68a65b68b626edcdd8a5b9f407d5c691396d3bfd76ee"
                     "ba807fd");
    CHECK_INT(r.nheaders, 0);

    /* RSA, virtual-hosted on a port (the URL keeps it, the signed host drops it), a HEAD of a
     * name with a leading and a doubled slash, which stay as they are */
    st = gcs_store("http://localhost:4443", "test-bucket", false, &rsa, 1);
    sign_request_t head = {.method = "HEAD", .name = "/lead//x", .now = T_2026, .expires = 60, .content_length = -1};
    CHECK_INT(sign_once(&st, &head, &r, &a, &e), 0);
    CHECK(STARTS_WITH(r.url, "http://test-bucket.localhost:4443//lead//x?X-Goog-Algorithm=GOOG4-RSA-SHA256&"));
    CHECK(strstr(r.url, "&X-Goog-Signature=3184edb81761d5dce60cfae097135fa0330c6adcd72d287e2a8798cb4f9630b76041553c4d"
                        "3747804747bf94dfe552a8cd571bd3d11ecae0d6347ba66384bc119d9a6cc3b55e890be7dd83fbf44b33e98306befe555ecc7"
                        "b14217803c123df1d5cfb91453981ade674d3ce6044ca1868e5a7727e96e7f76a48292f2da03aaef33b7cfc225131f78edb72"
                        "90fbea17bde2d8f1b0b10ebca600555f194d92d8196661ab72ecf6b24124302cfe0c236efc7d5b52b2e93d7350e9bc65bf81e"
                        "4b790a3cc7dafeb442fa2fbc789299b6ce3e6dfe6d8c43483cf2959c42cf782b24ce626898272cbb258acbd262b34450414be"
                        "4ea0e3419d7fb34f4e062f6be8eba3e126") != NULL);
    arena_release(&a);
    free(sa);
}

TEST(sign_gcs_multipart)
{
    store_t st = gcs_store(NULL, "acme-eu-1", true, HMAC_CREDS, 2);
    arena_t a;
    arena_init(&a);
    sign_result_t r;
    err_t e;
    sign_request_t create = {.op = SIGN_OP_MP_CREATE,
                             .name = "big/file.bin",
                             .now = T_2026,
                             .expires = 3600,
                             .content_type = "application/octet-stream",
                             .content_length = 1 << 30}; /* the whole size: not a header of the POST */
    CHECK_INT(sign_once(&st, &create, &r, &a, &e), 0);
    CHECK_STR(r.url,
              GCS_PREFIX HMAC_CRED DATE_2026 "&X-Goog-Expires=3600&X-Goog-SignedHeaders=content-type%3Bhost&uploads="
                                             "&X-Goog-Signature=738bd6c28f453c97e2de9c84ecff65a89fdf701fddbe9178b401e77b56483e2b");
    CHECK_INT(r.nheaders, 1);
    CHECK_STR(result_header(&r, "content-type"), "application/octet-stream");

    sign_request_t part = {.op = SIGN_OP_PART,
                           .name = "big/file.bin",
                           .now = T_2026,
                           .expires = 3600,
                           .content_type = "text/plain", /* parts take no type */
                           .content_length = 5242880,
                           .sha256_hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                           .part_number = 7,
                           .mp_id = "ABPnzm5wXY2p1JFVlX6uBfqSd3K7"};
    CHECK_INT(sign_once(&st, &part, &r, &a, &e), 0);
    CHECK_STR(r.url, GCS_PREFIX HMAC_CRED DATE_2026
              "&X-Goog-Expires=3600&X-Goog-SignedHeaders=content-length%3Bhost&partNumber=7&uploadId=ABPnzm5wXY2p1JFVlX6uBfqSd3K7"
              "&X-Goog-Signature=14ecece69aac6ed65300c5b286c45ec008d8e01378ebfcd820ea92ee655667e7");
    CHECK_INT(r.nheaders, 1);
    CHECK_STR(result_header(&r, "content-length"), "5242880");

    sign_request_t done = {.op = SIGN_OP_MP_COMPLETE,
                           .name = "big/file.bin",
                           .now = T_2026,
                           .expires = 3600,
                           .content_length = -1,
                           .mp_id = part.mp_id};
    CHECK_INT(sign_once(&st, &done, &r, &a, &e), 0);
    CHECK_STR(r.url,
              GCS_PREFIX HMAC_CRED DATE_2026 "&X-Goog-Expires=3600&X-Goog-SignedHeaders=host&uploadId=ABPnzm5wXY2p1JFVlX6uBfqSd3K7"
                                             "&X-Goog-Signature=d7598a01cf335386383565f6e473b366d2937d18dc9935d96f6b30c503b9c10a");
    CHECK_INT(r.nheaders, 0);
    sign_request_t abort_ = done;
    abort_.op = SIGN_OP_MP_ABORT;
    CHECK_INT(sign_once(&st, &abort_, &r, &a, &e), 0);
    CHECK_STR(r.url,
              GCS_PREFIX HMAC_CRED DATE_2026 "&X-Goog-Expires=3600&X-Goog-SignedHeaders=host&uploadId=ABPnzm5wXY2p1JFVlX6uBfqSd3K7"
                                             "&X-Goog-Signature=fc10997f17b758924333692400e0469ccbc3f069d5121a28ca1c30a385f4500a");

    /* what cannot be signed */
    sign_request_t rq = part;
    rq.part_number = 0;
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq.part_number = 10001;
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq.part_number = 10000;
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), 0);
    rq.mp_id = NULL;
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq.mp_id = "";
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq.mp_id = "id\nx";
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    done.mp_id = NULL;
    CHECK_INT(sign_once(&st, &done, &r, &a, &e), ERR_BAD_REQUEST);
    abort_.mp_id = NULL;
    CHECK_INT(sign_once(&st, &abort_, &r, &a, &e), ERR_BAD_REQUEST);

    /* the limits callers plan uploads with (XML API multipart) */
    const signer_vt_t *vt = sign_provider("gcs");
    CHECK(vt != NULL);
    if (vt) {
        CHECK(vt->limits.single_put_max == INT64_C(5) * 1024 * 1024 * 1024 * 1024);
        CHECK(vt->limits.part_min == INT64_C(5) * 1024 * 1024);
        CHECK(vt->limits.part_max == INT64_C(5) * 1024 * 1024 * 1024);
        CHECK_INT(vt->limits.parts_max, 10000);
    }
    arena_release(&a);
}

/* ---- what each request binds ---- */

TEST(sign_gcs_put_binds)
{
    store_t st = gcs_store("https://storage.googleapis.com", "b-1", true, HMAC_CREDS, 2);
    arena_t a;
    arena_init(&a);
    sign_result_t r;
    err_t e;
    sign_request_t put = {.method = "PUT",
                          .name = "k",
                          .now = T_2026,
                          .expires = 60,
                          .content_type = "text/plain",
                          .content_length = 5,
                          .sha256_hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"};
    CHECK_INT(sign_once(&st, &put, &r, &a, &e), 0);
    CHECK_INT(r.nheaders, 4);
    CHECK_STR(result_header(&r, "x-goog-content-length-range"), "5,5");
    CHECK(strstr(r.url, "&X-Goog-SignedHeaders=content-length%3Bcontent-type%3Bhost%3Bx-goog-content-length-range"
                        "%3Bx-goog-content-sha256&") != NULL);

    /* the digest is the payload line: another digest, another signature */
    gcs_kv_t hdr = {"x-goog-content-sha256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"};
    gcs_v4_params_t p = {.method = "PUT",
                         .host = "h",
                         .path = "/b/k",
                         .headers = &hdr,
                         .nheaders = 1,
                         .algorithm = GCS_ALG_HMAC,
                         .credential_id = "id",
                         .now = T_2026,
                         .expires = 60,
                         .payload = hdr.value};
    buf_t creq = BUF_INIT;
    gcs_v4_canonical(&p, &creq);
    CHECK(strstr(creq.base, "\nhost;x-goog-content-sha256\nba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") !=
          NULL);
    CHECK(strstr(creq.base, "UNSIGNED-PAYLOAD") == NULL);
    buf_release(&creq);

    /* a zero length is a length (an empty object) */
    sign_request_t rq = put;
    rq.content_length = 0;
    rq.content_type = NULL;
    rq.sha256_hex = NULL;
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), 0);
    CHECK_INT(r.nheaders, 2);
    CHECK_STR(result_header(&r, "content-length"), "0");
    CHECK_STR(result_header(&r, "x-goog-content-length-range"), "0,0");
    /* a PUT declaring nothing binds nothing but host */
    rq.content_length = -1;
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), 0);
    CHECK_INT(r.nheaders, 0);
    CHECK(strstr(r.url, "&X-Goog-SignedHeaders=host&") != NULL);

    /* GET, HEAD and DELETE bind only host, whatever else the request carries; only a GET
     * carries response overrides */
    static const char *const reads[] = {"GET", "HEAD", "DELETE"};
    for (size_t i = 0; i < 3; i++) {
        rq = put;
        rq.method = reads[i];
        rq.response_content_type = "text/csv";
        CHECK_INT(sign_once(&st, &rq, &r, &a, &e), 0);
        CHECK_INT(r.nheaders, 0);
        CHECK(strstr(r.url, "&X-Goog-SignedHeaders=host&") != NULL);
        CHECK((strstr(r.url, "&response-content-type=text%2Fcsv&") != NULL) == (i == 0));
    }

    /* request values that cannot be signed */
    rq = put;
    rq.content_type = "text/plain\r\nx-evil: 1";
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq.content_type = "text/\xc3\xa9";
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq = put;
    rq.sha256_hex = "abc";
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq.sha256_hex = "zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq = put;
    rq.method = "GET";
    rq.response_content_disposition = "attachment; filename=\"\xc3\xa9.txt\"";
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq = put;
    rq.name = "";
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq.name = NULL;
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq = put;
    rq.expires = SIGN_MAX_EXPIRES + 1; /* GCS's ceiling: 7 days */
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq.expires = SIGN_MAX_EXPIRES;
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), 0);
    CHECK(strstr(r.url, "&X-Goog-Expires=604800&") != NULL);
    rq.method = "POST";
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);

    /* residency is checked before the provider signs */
    signer_t *sg;
    cset_t none;
    memset(&none, 0, sizeof(none));
    CHECK_INT(sign_create(&st, &sg, &e), 0);
    CHECK_INT(sign_presign(sg, &none, "acme", &put, &r, &a, &e), ERR_RESIDENCY_VIOLATION);
    sign_destroy(sg);
    arena_release(&a);
}

/* ---- store options ---- */

TEST(sign_gcs_store_options)
{
    arena_t a;
    arena_init(&a);
    sign_result_t r, r2;
    err_t e;
    signer_t *sg = NULL;
    sign_request_t get = {.method = "GET", .name = "k", .now = T_2026, .expires = 60, .content_length = -1};

    /* no endpoint, or an empty one: Google's */
    store_t st = gcs_store(NULL, "b-1", true, HMAC_CREDS, 2);
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), 0);
    st.endpoint = "";
    CHECK_INT(sign_once(&st, &get, &r2, &a, &e), 0);
    CHECK_STR(r.url, r2.url);
    CHECK(STARTS_WITH(r.url, "https://storage.googleapis.com/b-1/k?"));
    st.endpoint = "https://storage.googleapis.com/"; /* a trailing slash is no path */
    CHECK_INT(sign_once(&st, &get, &r2, &a, &e), 0);
    CHECK_STR(r.url, r2.url);

    /* the host is lowercased (as URL parsers do); the signed host has no port */
    st.endpoint = "https://Storage.GoogleAPIs.COM";
    CHECK_INT(sign_once(&st, &get, &r2, &a, &e), 0);
    CHECK_STR(r.url, r2.url);
    st.endpoint = "http://[::1]:4443";
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), 0);
    CHECK(STARTS_WITH(r.url, "http://[::1]:4443/b-1/k?"));
    st.endpoint = "http://[::1]";
    CHECK_INT(sign_once(&st, &get, &r2, &a, &e), 0);
    CHECK(strcmp(strchr(r.url, '?'), strchr(r2.url, '?')) == 0); /* same signature: same signed host "[::1]" */
    st.endpoint = "http://localhost:9000";
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), 0);
    st.endpoint = "http://localhost";
    CHECK_INT(sign_once(&st, &get, &r2, &a, &e), 0);
    CHECK(strcmp(strchr(r.url, '?'), strchr(r2.url, '?')) == 0);

    /* public_host: clients go to (and the signature is for) that host; addressing still applies */
    st = gcs_store("http://10.0.0.5:4443", "b-1", false, HMAC_CREDS, 2);
    st.public_host = "https://files.example.org";
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), 0);
    store_t pub = gcs_store("https://files.example.org", "b-1", false, HMAC_CREDS, 2);
    CHECK_INT(sign_once(&pub, &get, &r2, &a, &e), 0);
    CHECK_STR(r.url, r2.url);
    CHECK(STARTS_WITH(r.url, "https://b-1.files.example.org/k?"));

    /* stores that cannot sign, refused at create */
    st = gcs_store("https://storage.googleapis.com/base", "b-1", true, HMAC_CREDS, 2);
    CHECK_INT(sign_create(&st, &sg, &e), ERR_BAD_REQUEST); /* GCS has no base path */
    CHECK(sg == NULL && strstr(e.msg, "path") != NULL);
    st.endpoint = "https://storage.googleapis.com";
    st.public_host = "https://files.example.org/x";
    CHECK_INT(sign_create(&st, &sg, &e), ERR_BAD_REQUEST);
    st.public_host = "ftp://files.example.org";
    CHECK_INT(sign_create(&st, &sg, &e), ERR_BAD_REQUEST);
    st.public_host = NULL;
    st.endpoint = "storage.googleapis.com";
    CHECK_INT(sign_create(&st, &sg, &e), ERR_BAD_REQUEST);
    static const char *const bad_buckets[] = {NULL, "", "ab", "My-Bucket", "-bucket", "bucket-", "a..b", "b/c", "b c", "b%c"};
    for (size_t i = 0; i < sizeof(bad_buckets) / sizeof(bad_buckets[0]); i++) {
        st = gcs_store(NULL, bad_buckets[i], true, HMAC_CREDS, 2);
        CHECK_INT(sign_create(&st, &sg, &e), ERR_BAD_REQUEST);
        CHECK(sg == NULL);
    }
    static const char *const ip_hosts[] = {"http://127.0.0.1:9023", "http://[::1]:4443", "https://10.0.0.5"};
    for (size_t i = 0; i < 3; i++) { /* no bucket can lead an ip address */
        st = gcs_store(ip_hosts[i], "b-1", false, HMAC_CREDS, 2);
        CHECK_INT(sign_create(&st, &sg, &e), ERR_BAD_REQUEST);
        CHECK(strstr(e.msg, "path_style") != NULL);
        st.path_style = true;
        CHECK_INT(sign_once(&st, &get, &r, &a, &e), 0);
    }
    st = gcs_store(NULL, "loci_eu_1", false, HMAC_CREDS, 2); /* '_' cannot be in a host name */
    CHECK_INT(sign_create(&st, &sg, &e), ERR_BAD_REQUEST);
    CHECK(strstr(e.msg, "path_style") != NULL);
    st.path_style = true; /* but is fine as a path segment */
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), 0);
    CHECK(strstr(r.url, "/loci_eu_1/k?") != NULL);
    st = gcs_store(NULL, "a.b.c", false, HMAC_CREDS, 2);
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), 0);
    CHECK(STARTS_WITH(r.url, "https://a.b.c.storage.googleapis.com/k?"));
    arena_release(&a);
}

/* ---- credentials refused at create ---- */

/* A fresh private key as PEM (free it): RSA of bits, or EC P-256 when bits is 0; encrypted
 * with a passphrase when encrypt. A negative bits gives the public half of an RSA key. */
static char *fresh_key_pem(int bits, bool encrypt)
{
    EVP_PKEY *k = bits ? EVP_RSA_gen((unsigned)(bits < 0 ? -bits : bits)) : EVP_EC_gen("P-256");
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem = NULL, *data;
    if (k && bio) {
        int ok = bits < 0  ? PEM_write_bio_PUBKEY(bio, k)
                 : encrypt ? PEM_write_bio_PKCS8PrivateKey(bio, k, EVP_aes_256_cbc(), "pw", 2, NULL, NULL)
                           : PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL);
        long n = BIO_get_mem_data(bio, &data);
        if (ok == 1 && n > 0)
            pem = strndup(data, (size_t)n);
    }
    BIO_free(bio);
    EVP_PKEY_free(k);
    return pem;
}

/* A service-account key file with the given fields (NULL leaves one out). Free it. */
static char *key_file(const char *email, const char *pem)
{
    json_t *o = json_pack("{s:s}", "type", "service_account");
    if (email)
        json_object_set_new(o, "client_email", json_string(email));
    if (pem)
        json_object_set_new(o, "private_key", json_string(pem));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* Expects st's credentials to be refused at create with ERR_BAD_REQUEST, a message that says
 * want and quotes none of the key, and no signer. */
static void check_refused(const store_cred_t *creds, size_t n, const char *why, const char *want, int line)
{
    store_t st = gcs_store(NULL, "b-1", true, creds, n);
    signer_t *sg = (signer_t *)&st; /* anything but NULL */
    err_t e = {0};
    int rc = sign_create(&st, &sg, &e);
    if (rc != ERR_BAD_REQUEST || sg != NULL)
        test_fail(__FILE__, line, "%s: create gave %d (%s), expected ERR_BAD_REQUEST", why, rc, e.msg);
    if (strstr(e.msg, want) == NULL)
        test_fail(__FILE__, line, "%s: message '%s' does not say '%s'", why, e.msg, want);
    if (strstr(e.msg, "MII") != NULL || strstr(e.msg, "BEGIN") != NULL || strstr(e.msg, "EXAMPLEKEY") != NULL)
        test_fail(__FILE__, line, "%s: message quotes key material: %s", why, e.msg);
    sign_destroy(sg);
}

TEST(sign_gcs_bad_credentials)
{
    char *sa = read_vector("test_service_account.not-a-test.json");
    json_t *good = sa ? json_loads(sa, 0, NULL) : NULL;
    const char *good_pem = json_string_value(json_object_get(good, "private_key"));
    CHECK(good_pem != NULL);
    char *ec = fresh_key_pem(0, false), *small = fresh_key_pem(1024, false), *enc = fresh_key_pem(2048, true);
    CHECK(ec && small && enc);
    const char *email = "svc@p.iam.gserviceaccount.com";
    char *no_email = key_file(NULL, good_pem), *no_key = key_file(email, NULL), *empty_email = key_file("", good_pem);
    char *slash_email = key_file("a/b@p", good_pem), *not_pem = key_file(email, "MIIEvAIBADANBgkqhkiG9w0BAQEFAASC");
    char *ec_file = key_file(email, ec ? ec : ""), *small_file = key_file(email, small ? small : "");
    char *enc_file = key_file(email, enc ? enc : ""), *ok_file = key_file(email, good_pem ? good_pem : "");
    char truncated[600] = "";
    if (sa)
        snprintf(truncated, sizeof(truncated), "%.500s", sa);
    char *pub_pem = fresh_key_pem(-2048, false), *pub_file = key_file(email, pub_pem ? pub_pem : "");

    const char *not_object = "not a json object", *needs = "needs client_email and private_key";
    const char *unusable = "not an unencrypted pem private key", *not_rsa = "not an rsa key";
    const struct {
        const char *json, *why, *want;
    } files[] = {
        {"{", "malformed json", not_object},
        {"[\"client_email\", \"private_key\"]", "not an object", not_object},
        {truncated, "truncated key file", not_object},
        {no_email, "no client_email", needs},
        {empty_email, "empty client_email", needs},
        {slash_email, "client_email with '/'", "client_email must be printable ascii without '/'"},
        {no_key, "no private_key", needs},
        {not_pem, "private_key not pem", unusable},
        {pub_file, "a public key", unusable},
        {enc_file, "an encrypted key", unusable},
        {ec_file, "an EC key", not_rsa},
        {small_file, "an RSA key of 1024 bits", "fewer than 2048 bits"},
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        store_cred_t c = {"service_account_json", files[i].json ? files[i].json : "{"};
        check_refused(&c, 1, files[i].why, files[i].want, __LINE__);
    }
    /* the same fields with the good key are accepted */
    store_cred_t ok = {"service_account_json", ok_file};
    store_t st = gcs_store(NULL, "b-1", true, &ok, 1);
    signer_t *sg = NULL;
    err_t e;
    CHECK_INT(sign_create(&st, &sg, &e), 0);
    sign_destroy(sg);

    /* HMAC keys, and the choice between the two */
    static const store_cred_t id_only[] = {{"hmac_access_id", "GOOG1X"}};
    static const store_cred_t secret_only[] = {{"hmac_secret", "s"}};
    static const store_cred_t empty_secret[] = {{"hmac_access_id", "GOOG1X"}, {"hmac_secret", ""}};
    static const store_cred_t slash_id[] = {{"hmac_access_id", "GOOG1/X"}, {"hmac_secret", "s"}};
    static const store_cred_t s3_style[] = {{"access_key_id", "GOOG1X"}, {"secret_access_key", "s"}};
    store_cred_t both[] = {{"service_account_json", ok_file}, {"hmac_access_id", "GOOG1X"}, {"hmac_secret", "s"}};
    const char *needs_key = "needs service_account_json, or hmac_access_id and hmac_secret";
    static const store_cred_t empty_sa[] = {{"service_account_json", ""}};
    check_refused(empty_sa, 1, "empty key file", needs_key, __LINE__);
    check_refused(id_only, 1, "access id without secret", needs_key, __LINE__);
    check_refused(secret_only, 1, "secret without access id", needs_key, __LINE__);
    check_refused(empty_secret, 2, "empty secret", needs_key, __LINE__);
    check_refused(slash_id, 2, "access id with '/'", "hmac_access_id must be printable ascii without '/'", __LINE__);
    check_refused(s3_style, 2, "s3 credential names", needs_key, __LINE__);
    check_refused(both, 3, "both kinds of key", "not both", __LINE__);
    check_refused(NULL, 0, "no credentials", needs_key, __LINE__);

    json_decref(good);
    free(sa);
    free(ec);
    free(small);
    free(enc);
    free(no_email);
    free(no_key);
    free(empty_email);
    free(slash_email);
    free(not_pem);
    free(ec_file);
    free(small_file);
    free(enc_file);
    free(ok_file);
    free(pub_file);
    free(pub_pem);
}

/* ---- many threads, one signer ---- */

#define GCS_THREADS 8
#define GCS_ROUNDS  150
#define GCS_DAYS    3

typedef struct gcs_job {
    signer_t *sg[2];         /* RSA, HMAC */
    const char *const *want; /* want[k * GCS_DAYS + d]: key k's URL for day d, from a fresh signer */
    int index;
    int mismatches;
} gcs_job_t;

static sign_request_t day_request(int d)
{
    sign_request_t rq = {.method = "PUT",
                         .name = "t/obj",
                         .now = T_2026 + d * 86400 + 7,
                         .expires = 900,
                         .content_type = "audio/opus",
                         .content_length = 31200};
    return rq;
}

/* Alternates keys and days, so the HMAC signer's cached key keeps changing under the other
 * threads, and counts results that differ from the references. */
static void *gcs_worker(void *arg)
{
    gcs_job_t *job = arg;
    cset_t all = all_countries();
    arena_t a;
    arena_init(&a);
    for (int i = 0; i < GCS_ROUNDS; i++) {
        int k = (i + job->index) % 2, d = (i / 2 + job->index) % GCS_DAYS;
        sign_request_t rq = day_request(d);
        sign_result_t r;
        err_t e;
        if (sign_presign(job->sg[k], &all, "acme", &rq, &r, &a, &e) != 0 || strcmp(r.url, job->want[k * GCS_DAYS + d]) != 0)
            job->mismatches++;
        if (i % 32 == 31)
            arena_release(&a);
    }
    arena_release(&a);
    return NULL;
}

TEST(sign_gcs_concurrent_signing)
{
    char *sa = read_vector("test_service_account.not-a-test.json");
    store_cred_t rsa = {"service_account_json", sa ? sa : ""};
    store_t st[2] = {gcs_store(NULL, "acme-eu-1", false, &rsa, 1), gcs_store(NULL, "acme-eu-1", false, HMAC_CREDS, 2)};
    arena_t a;
    arena_init(&a);
    const char *want[2 * GCS_DAYS];
    err_t e;
    for (int k = 0; k < 2; k++) {
        for (int d = 0; d < GCS_DAYS; d++) {
            sign_request_t rq = day_request(d);
            sign_result_t r;
            CHECK_INT(sign_once(&st[k], &rq, &r, &a, &e), 0);
            want[k * GCS_DAYS + d] = r.url ? r.url : "";
        }
    }
    CHECK(strcmp(want[GCS_DAYS], want[GCS_DAYS + 1]) != 0); /* each day has its own HMAC key */
    gcs_job_t jobs[GCS_THREADS];
    pthread_t th[GCS_THREADS];
    signer_t *sg[2] = {NULL, NULL};
    CHECK_INT(sign_create(&st[0], &sg[0], &e), 0);
    CHECK_INT(sign_create(&st[1], &sg[1], &e), 0);
    int started = 0, mismatches = 0;
    for (int i = 0; sg[0] && sg[1] && i < GCS_THREADS; i++) {
        jobs[i] = (gcs_job_t){.sg = {sg[0], sg[1]}, .want = want, .index = i};
        if (pthread_create(&th[i], NULL, gcs_worker, &jobs[i]) == 0)
            started++;
    }
    CHECK_INT(started, GCS_THREADS);
    for (int i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        mismatches += jobs[i].mismatches;
    }
    CHECK_INT(mismatches, 0);
    sign_destroy(sg[0]);
    sign_destroy(sg[1]);
    arena_release(&a);
    free(sa);
}
