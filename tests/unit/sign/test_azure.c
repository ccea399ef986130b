/*
 * test_azure.c - the azure provider: the blob service SAS vectors of ../shared/vectors/README.md
 * (@azure/storage-blob 12.x output), a URL the SDK gave for loci's own version, every
 * operation's permissions and extra query, download overrides, block ids, public_host, what
 * the signer refuses at creation and at signing, and signing from many threads at once.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sign/azure.h"
#include "sign/sign.h"
#include "unit/test.h"
#include "util/enc.h"

#define KEY     "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define T_2024  1704067200 /* 2024-01-01T00:00:00Z */
#define T_2030  1893456000 /* 2030-01-01T00:00:00Z */
#define T_2023  1700000000 /* 2023-11-14T22:13:20Z */
#define AZURITE "http://127.0.0.1:10000/devstoreaccount1"

static store_cred_t creds[] = {{"account_key", KEY}};

static store_t store(const char *endpoint, const char *account, const char *container)
{
    store_t st = {.id = "az1",
                  .provider = "azure",
                  .endpoint = endpoint,
                  .bucket = container,
                  .account = account,
                  .country = "NL",
                  .creds = creds,
                  .ncreds = 1};
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

/* Creates a signer for st only; returns the status. */
static int create_only(const store_t *st, err_t *e)
{
    signer_t *sg = NULL;
    int rc = sign_create(st, &sg, e);
    sign_destroy(sg);
    return rc;
}

/* True if s starts with prefix. */
static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The value of query parameter name in url ("" if absent); written into out. */
static const char *param(const char *url, const char *name, char *out, size_t cap)
{
    char pat[32];
    snprintf(pat, sizeof(pat), "%s=", name);
    const char *q = strchr(url, '?');
    out[0] = '\0';
    for (const char *p = q; p != NULL; p = strchr(p + 1, '&')) {
        if (strncmp(p + 1, pat, strlen(pat)) == 0) {
            const char *v = p + 1 + strlen(pat);
            size_t n = strcspn(v, "&");
            snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), v);
            break;
        }
    }
    return out;
}

/* The signature of p under the Azurite key, through the core. */
static void core_sig(const azure_sas_t *p, char sig[AZURE_SIG_LEN])
{
    uint8_t key[80];
    size_t keylen;
    base64_decode(KEY, strlen(KEY), key, &keylen);
    sig[0] = '\0';
    CHECK_INT(azure_sas_sign(p, key, keylen, sig), 0);
}

TEST(sign_azure_vectors)
{
    /* 1: the README's first vector, signature and query byte for byte */
    azure_sas_t p = {.version = "2020-12-06",
                     .permissions = "r",
                     .start = T_2024,
                     .expiry = T_2024 + 86400,
                     .account = "devstoreaccount1",
                     .container = "mycontainer",
                     .blob = "dir/my file.txt",
                     .protocol = "https,http",
                     .resource = "b"};
    char sig[AZURE_SIG_LEN];
    core_sig(&p, sig);
    CHECK_STR(sig, "oh4j5oX8znXfU7u8CHoIY2XZhrVF8whh1tZ1jcf/eA4=");
    buf_t q = BUF_INIT, sts = BUF_INIT;
    CHECK_INT(azure_sas_query(&p, sig, &q), 0);
    CHECK_STR(q.base, "sv=2020-12-06&spr=https%2Chttp&st=2024-01-01T00%3A00%3A00Z&se=2024-01-02T00%3A00%3A00Z&sr=b&sp=r"
                      "&sig=oh4j5oX8znXfU7u8CHoIY2XZhrVF8whh1tZ1jcf%2FeA4%3D");
    /* its string to sign: 16 lines */
    CHECK_INT(azure_sas_string_to_sign(&p, &sts), 0);
    CHECK_STR(sts.base, "r\n2024-01-01T00:00:00Z\n2024-01-02T00:00:00Z\n/blob/devstoreaccount1/mycontainer/dir/my file.txt\n\n\n"
                        "https,http\n2020-12-06\nb\n\n\n\n\n\n\n");

    /* 2: the same with sv=2022-11-02 */
    p.version = "2022-11-02";
    core_sig(&p, sig);
    CHECK_STR(sig, "w+TJ2nP+qWfshGhWda8hhtYzzIbR/Bvi3CejbGok82c=");

    /* 3: no st, no spr, sp=rcw, download overrides */
    azure_sas_t p3 = {.version = "2020-12-06",
                      .permissions = "rcw",
                      .start = -1,
                      .expiry = T_2030,
                      .account = "devstoreaccount1",
                      .container = "mycontainer",
                      .blob = "hello.txt",
                      .protocol = NULL,
                      .resource = "b",
                      .content_disposition = "attachment; filename=\"a b.txt\"",
                      .content_type = "text/plain"};
    core_sig(&p3, sig);
    CHECK_STR(sig, "LuCHpBDbv1eLgalKA8jAcL63WDxQxOsGI6Qd7nyd6rA=");
    buf_reset(&q);
    CHECK_INT(azure_sas_query(&p3, sig, &q), 0);
    CHECK_STR(q.base, "sv=2020-12-06&se=2030-01-01T00%3A00%3A00Z&sr=b&sp=rcw"
                      "&rscd=attachment%3B%20filename%3D%22a%20b.txt%22&rsct=text%2Fplain"
                      "&sig=LuCHpBDbv1eLgalKA8jAcL63WDxQxOsGI6Qd7nyd6rA%3D");
    /* an empty override is no override, as in the SDK */
    p3.content_type = "";
    core_sig(&p3, sig);
    CHECK(strcmp(sig, "LuCHpBDbv1eLgalKA8jAcL63WDxQxOsGI6Qd7nyd6rA=") != 0);
    buf_reset(&q);
    azure_sas_query(&p3, sig, &q);
    CHECK(strstr(q.base, "rsct") == NULL);
    buf_release(&q);
    buf_release(&sts);
}

TEST(sign_azure_sdk_urls)
{
    /* URLs @azure/storage-blob 12.32 gave for loci's version (tests/node/sign_azure.mjs) */
    arena_t a;
    err_t e;
    sign_result_t r;
    arena_init(&a);
    store_t st = store(AZURITE, "devstoreaccount1", "mycontainer");
    sign_request_t get = {.method = "GET",
                          .name = "dir/my file+x~%'!*()\xc3\xa9.txt",
                          .now = T_2023,
                          .expires = 3600,
                          .content_length = -1,
                          .response_content_disposition = "attachment; filename=\"a b'.txt\"",
                          .response_content_type = "text/plain"};
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), 0);
    CHECK_STR(r.url, "http://127.0.0.1:10000/devstoreaccount1/mycontainer/dir/my%20file%2Bx~%25%27!*()%C3%A9.txt"
                     "?sv=2025-11-05&spr=https%2Chttp&se=2023-11-14T23%3A13%3A20Z&sr=b&sp=r"
                     "&rscd=attachment%3B%20filename%3D%22a%20b%27.txt%22&rsct=text%2Fplain"
                     "&sig=r94tjoFUafraPJ3zEQhZ1zxdHBLe6FbQsrPZLpvXsDk%3D");
    CHECK_INT(r.nheaders, 0);
    CHECK_INT(r.expires_at, T_2023 + 3600);

    /* production style written with capitals and the default port; $root; empty segments */
    st = store("https://Devstoreaccount1.blob.core.windows.net:443", "devstoreaccount1", "$root");
    sign_request_t put = {
        .method = "PUT", .name = "//a//b", .now = T_2023, .expires = 3600, .content_type = "text/plain", .content_length = 5};
    CHECK_INT(sign_once(&st, &put, &r, &a, &e), 0);
    CHECK_STR(r.url, "https://devstoreaccount1.blob.core.windows.net/%24root///a//b?sv=2025-11-05&spr=https%2Chttp"
                     "&se=2023-11-14T23%3A13%3A20Z&sr=b&sp=cw&sig=GsAKb246aA41eIOezMXzUrKRxy7A9%2FidYlvMLYTOUwE%3D");
    CHECK_INT(r.nheaders, 2);
    CHECK_STR(r.headers[0].name, "x-ms-blob-type");
    CHECK_STR(r.headers[0].value, "BlockBlob");
    CHECK_STR(r.headers[1].name, "content-type");
    CHECK_STR(r.headers[1].value, "text/plain");

    /* Put Block and Put Block List */
    st = store(AZURITE, "devstoreaccount1", "mycontainer");
    sign_request_t part = {.op = SIGN_OP_PART, .name = "x", .now = T_2023, .expires = 3600, .content_length = -1, .part_number = 1};
    CHECK_INT(sign_once(&st, &part, &r, &a, &e), 0);
    CHECK_STR(r.url, AZURITE "/mycontainer/x?sv=2025-11-05&spr=https%2Chttp&se=2023-11-14T23%3A13%3A20Z&sr=b&sp=w"
                             "&sig=2sd0gaNwv0F4r1tJIBEITjMNy4vw4zqbUSEg5LtSLaE%3D&comp=block&blockid=MDAwMDAwMDE%3D");
    CHECK_INT(r.nheaders, 0);
    sign_request_t done = {.op = SIGN_OP_MP_COMPLETE, .name = "x", .now = T_2023, .expires = 3600, .content_length = -1};
    CHECK_INT(sign_once(&st, &done, &r, &a, &e), 0);
    CHECK_STR(r.url, AZURITE "/mycontainer/x?sv=2025-11-05&spr=https%2Chttp&se=2023-11-14T23%3A13%3A20Z&sr=b&sp=cw"
                             "&sig=YN70l95P6deypcXJ0KaVQRMt1g1D23WBIy%2Fw%2FSK2zHU%3D&comp=blocklist");
    CHECK_INT(r.nheaders, 0);
    arena_release(&a);
}

TEST(sign_azure_permissions)
{
    arena_t a;
    err_t e;
    sign_result_t r;
    char v[64];
    arena_init(&a);
    store_t st = store(AZURITE, "devstoreaccount1", "loci-test");
    static const struct {
        sign_op_t op;
        const char *method, *sp, *tail;
        size_t nheaders;
    } cases[] = {
        {SIGN_OP_OBJECT, "GET", "r", NULL, 0},
        {SIGN_OP_OBJECT, "HEAD", "r", NULL, 0},
        {SIGN_OP_OBJECT, "PUT", "cw", NULL, 2},
        {SIGN_OP_OBJECT, "DELETE", "d", NULL, 0},
        {SIGN_OP_PART, NULL, "w", "&comp=block&blockid=MDAwMDAwMDc%3D", 0},
        {SIGN_OP_MP_COMPLETE, NULL, "cw", "&comp=blocklist", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sign_request_t rq = {.op = cases[i].op,
                             .method = cases[i].method,
                             .name = "t1/obj",
                             .now = T_2024,
                             .expires = 900,
                             .content_type = "audio/opus",
                             .content_length = 9,
                             .part_number = 7};
        CHECK_INT(sign_once(&st, &rq, &r, &a, &e), 0);
        CHECK_STR(param(r.url, "sp", v, sizeof(v)), cases[i].sp);
        CHECK_STR(param(r.url, "sr", v, sizeof(v)), "b");
        CHECK_STR(param(r.url, "sv", v, sizeof(v)), AZURE_SAS_VERSION);
        CHECK_STR(param(r.url, "spr", v, sizeof(v)), "https%2Chttp");
        CHECK_STR(param(r.url, "se", v, sizeof(v)), "2024-01-01T00%3A15%3A00Z");
        CHECK_STR(param(r.url, "st", v, sizeof(v)), "");
        CHECK_INT(r.expires_at, T_2024 + 900);
        CHECK(strncmp(r.url, AZURITE "/loci-test/t1/obj?sv=", strlen(AZURITE "/loci-test/t1/obj?sv=")) == 0);
        if (cases[i].tail) {
            size_t n = strlen(r.url), t = strlen(cases[i].tail);
            CHECK(n > t && strcmp(r.url + n - t, cases[i].tail) == 0);
        } else {
            CHECK(strstr(r.url, "comp=") == NULL);
        }
        CHECK_INT(r.nheaders, cases[i].nheaders);
        /* the signature is the core's over the same values */
        azure_sas_t p = {.version = AZURE_SAS_VERSION,
                         .permissions = cases[i].sp,
                         .start = -1,
                         .expiry = T_2024 + 900,
                         .account = "devstoreaccount1",
                         .container = "loci-test",
                         .blob = "t1/obj",
                         .protocol = "https,http",
                         .resource = "b"};
        char sig[AZURE_SIG_LEN];
        buf_t want = BUF_INIT;
        core_sig(&p, sig);
        azure_encode_query(&want, sig, strlen(sig));
        CHECK_STR(param(r.url, "sig", v, sizeof(v)), want.base);
        buf_release(&want);
    }
    /* the PUT's headers: the blob type Put Blob needs, the content type as given (a SAS cannot
     * bind either, nor the length: no content-length header is asked for) */
    sign_request_t put = {.method = "PUT", .name = "k", .now = T_2024, .expires = 60, .content_type = "a/b", .content_length = 3};
    CHECK_INT(sign_once(&st, &put, &r, &a, &e), 0);
    CHECK_INT(r.nheaders, 2);
    CHECK_STR(r.headers[0].name, "x-ms-blob-type");
    CHECK_STR(r.headers[0].value, "BlockBlob");
    CHECK_STR(r.headers[1].name, "content-type");
    CHECK_STR(r.headers[1].value, "a/b");
    put.content_type = NULL;
    CHECK_INT(sign_once(&st, &put, &r, &a, &e), 0);
    CHECK_INT(r.nheaders, 1);
    CHECK_STR(r.headers[0].value, "BlockBlob");
    /* complete: the blob's type travels in x-ms-blob-content-type */
    sign_request_t done = {.op = SIGN_OP_MP_COMPLETE, .name = "k", .now = T_2024, .expires = 60, .content_type = "a/b"};
    CHECK_INT(sign_once(&st, &done, &r, &a, &e), 0);
    CHECK_INT(r.nheaders, 1);
    CHECK_STR(r.headers[0].name, "x-ms-blob-content-type");
    CHECK_STR(r.headers[0].value, "a/b");
    done.content_type = NULL;
    CHECK_INT(sign_once(&st, &done, &r, &a, &e), 0);
    CHECK_INT(r.nheaders, 0);

    /* no upload id to create or abandon */
    sign_request_t mp = {.op = SIGN_OP_MP_CREATE, .name = "k", .now = T_2024, .expires = 60, .mp_id = "x"};
    CHECK_INT(sign_once(&st, &mp, &r, &a, &e), ERR_BAD_REQUEST);
    CHECK_STR(e.msg, "not needed for azure");
    mp.op = SIGN_OP_MP_ABORT;
    CHECK_INT(sign_once(&st, &mp, &r, &a, &e), ERR_BAD_REQUEST);
    CHECK_STR(e.msg, "not needed for azure");
    arena_release(&a);
}

TEST(sign_azure_overrides)
{
    arena_t a;
    err_t e;
    sign_result_t r;
    char v[256];
    arena_init(&a);
    store_t st = store(AZURITE, "devstoreaccount1", "loci-test");
    sign_request_t get = {.method = "GET",
                          .name = "k",
                          .now = T_2024,
                          .expires = 60,
                          .content_length = -1,
                          .response_content_disposition = "attachment; filename=\"Jane's scan (1).pdf\"",
                          .response_content_type = "application/pdf"};
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), 0);
    CHECK_STR(param(r.url, "rscd", v, sizeof(v)), "attachment%3B%20filename%3D%22Jane%27s%20scan%20(1).pdf%22");
    CHECK_STR(param(r.url, "rsct", v, sizeof(v)), "application%2Fpdf");
    CHECK(strstr(r.url, "&sp=r&rscd=") != NULL && strstr(r.url, "&rsct=application%2Fpdf&sig=") != NULL);
    /* signed: the same SAS through the core */
    azure_sas_t p = {.version = AZURE_SAS_VERSION,
                     .permissions = "r",
                     .start = -1,
                     .expiry = T_2024 + 60,
                     .account = "devstoreaccount1",
                     .container = "loci-test",
                     .blob = "k",
                     .protocol = AZURE_SAS_PROTOCOL,
                     .resource = "b",
                     .content_disposition = get.response_content_disposition,
                     .content_type = get.response_content_type};
    char sig[AZURE_SIG_LEN];
    core_sig(&p, sig);
    buf_t want = BUF_INIT;
    buf_puts(&want, AZURITE "/loci-test/k?");
    azure_sas_query(&p, sig, &want);
    CHECK_STR(r.url, want.base);
    buf_release(&want);
    /* only one of them */
    get.response_content_type = NULL;
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), 0);
    CHECK(strstr(r.url, "rscd=") != NULL && strstr(r.url, "rsct=") == NULL);
    /* HEAD, PUT and DELETE ignore them */
    static const char *const others[] = {"HEAD", "PUT", "DELETE"};
    for (size_t i = 0; i < 3; i++) {
        sign_request_t rq = get;
        rq.method = others[i];
        rq.response_content_type = "text/plain";
        CHECK_INT(sign_once(&st, &rq, &r, &a, &e), 0);
        CHECK(strstr(r.url, "rscd=") == NULL && strstr(r.url, "rsct=") == NULL);
    }
    /* they become response headers: printable ASCII only */
    get.response_content_disposition = "attachment; filename=\"\xc3\xa9.txt\"";
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), ERR_BAD_REQUEST);
    get.response_content_disposition = NULL;
    get.response_content_type = "text/plain\r\nx-evil: 1";
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), ERR_BAD_REQUEST);
    arena_release(&a);
}

TEST(sign_azure_blocks)
{
    arena_t a;
    err_t e;
    sign_result_t r;
    char v[64];
    arena_init(&a);
    store_t st = store(AZURITE, "devstoreaccount1", "loci-test");
    static const struct {
        int part;
        const char *id;
    } ids[] = {{1, "MDAwMDAwMDE%3D"}, {10, "MDAwMDAwMTA%3D"}, {9999, "MDAwMDk5OTk%3D"}, {50000, "MDAwNTAwMDA%3D"}};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        sign_request_t rq = {.op = SIGN_OP_PART, .name = "k", .now = T_2024, .expires = 60, .part_number = ids[i].part};
        CHECK_INT(sign_once(&st, &rq, &r, &a, &e), 0);
        CHECK_STR(param(r.url, "blockid", v, sizeof(v)), ids[i].id);
        CHECK_STR(param(r.url, "comp", v, sizeof(v)), "block");
        /* every block id of a blob has the same length */
        CHECK_INT(strlen(param(r.url, "blockid", v, sizeof(v))), 14);
    }
    /* parts outside 1..50000 */
    sign_request_t rq = {.op = SIGN_OP_PART, .name = "k", .now = T_2024, .expires = 60, .part_number = 0};
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq.part_number = 50001;
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    rq.part_number = -1;
    CHECK_INT(sign_once(&st, &rq, &r, &a, &e), ERR_BAD_REQUEST);
    /* the limits */
    const signer_vt_t *vt = sign_provider("azure");
    CHECK(vt != NULL);
    CHECK_INT(vt->limits.single_put_max, INT64_C(5000) * 1024 * 1024);
    CHECK_INT(vt->limits.part_min, INT64_C(5) * 1024 * 1024);
    CHECK_INT(vt->limits.part_max, INT64_C(4000) * 1024 * 1024);
    CHECK_INT(vt->limits.parts_max, 50000);
    arena_release(&a);
}

TEST(sign_azure_public_host)
{
    arena_t a;
    err_t e;
    sign_result_t r, r2;
    arena_init(&a);
    sign_request_t get = {.method = "GET", .name = "t/k", .now = T_2024, .expires = 60, .content_length = -1};

    /* clients go to public_host; the endpoint's path stays; the signature does not change */
    store_t st = store("http://10.0.0.5:10000/devstoreaccount1", "devstoreaccount1", "loci-test");
    CHECK_INT(sign_once(&st, &get, &r2, &a, &e), 0);
    st.public_host = "https://Blob.Example.com:443";
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), 0);
    CHECK(starts(r.url, "https://blob.example.com/devstoreaccount1/loci-test/t/k?sv="));
    CHECK_STR(strchr(r.url, '?'), strchr(r2.url, '?'));
    st.public_host = "http://cdn.example.net:8080";
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), 0);
    CHECK(starts(r.url, "http://cdn.example.net:8080/devstoreaccount1/loci-test/t/k?"));
    /* a production endpoint behind a public host */
    st = store("https://acme0eu1.blob.core.windows.net/", "acme0eu1", "loci-test");
    st.public_host = "https://files.example.org";
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), 0);
    CHECK(starts(r.url, "https://files.example.org/loci-test/t/k?sv="));
    /* public_host is scheme://host[:port] only */
    st.public_host = "https://files.example.org/base";
    CHECK_INT(create_only(&st, &e), ERR_BAD_REQUEST);
    st.public_host = "ftp://files.example.org";
    CHECK_INT(create_only(&st, &e), ERR_BAD_REQUEST);
    st.public_host = "";
    CHECK_INT(create_only(&st, &e), 0);
    arena_release(&a);
}

TEST(sign_azure_create_refuses)
{
    err_t e;
    store_t ok = store(AZURITE, "devstoreaccount1", "loci-test");
    CHECK_INT(create_only(&ok, &e), 0);

    /* account keys: missing, empty, not base64, not canonical, too short */
    static const char *const bad_keys[] = {
        "",
        "not base64!",
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw",    /* unpadded */
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq_K1SZFPTOtr_KBHBeksoGMGw==",  /* url-safe */
        "Eby8vdM02xNOcqFlqUwJPLlmEtlC DXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==", /* a blank */
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGx==",  /* bits left */
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMG===",  /* 3 pads */
        "a2V5",                                                                                      /* 3 bytes */
        "MTIzNDU2Nzg5MDEyMzQ1",                                                                      /* 15 bytes */
        "=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMG=",
    };
    for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
        store_cred_t c[] = {{"account_key", bad_keys[i]}};
        store_t st = ok;
        st.creds = c;
        if (create_only(&st, &e) != ERR_BAD_REQUEST)
            test_fail(__FILE__, __LINE__, "account key %zu accepted", i);
    }
    store_cred_t other[] = {{"access_key_id", "AK"}, {"secret_access_key", "SK"}};
    store_t st = ok;
    st.creds = other;
    st.ncreds = 2;
    CHECK_INT(create_only(&st, &e), ERR_BAD_REQUEST);
    CHECK(strstr(e.msg, "account_key") != NULL);
    st.ncreds = 0;
    CHECK_INT(create_only(&st, &e), ERR_BAD_REQUEST);
    /* 16 bytes is enough */
    store_cred_t short_ok[] = {{"account_key", "MTIzNDU2Nzg5MDEyMzQ1Ng=="}};
    st = ok;
    st.creds = short_ok;
    CHECK_INT(create_only(&st, &e), 0);

    /* accounts: 3-24 of a-z 0-9, and the one a production endpoint names */
    static const char *const bad_accounts[] = {
        "", "ab", "DevStoreAccount1", "dev-store", "dev_store", "a234567890123456789012345", "dévstore"};
    for (size_t i = 0; i < sizeof(bad_accounts) / sizeof(bad_accounts[0]); i++) {
        st = ok;
        st.account = bad_accounts[i];
        if (create_only(&st, &e) != ERR_BAD_REQUEST)
            test_fail(__FILE__, __LINE__, "account '%s' accepted", bad_accounts[i]);
    }
    st = ok;
    st.account = NULL;
    CHECK_INT(create_only(&st, &e), ERR_BAD_REQUEST);
    st = store("https://other.blob.core.windows.net", "devstoreaccount1", "loci-test");
    CHECK_INT(create_only(&st, &e), ERR_BAD_REQUEST);
    st = store("https://devstoreaccount1x.blob.core.windows.net", "devstoreaccount1", "loci-test");
    CHECK_INT(create_only(&st, &e), ERR_BAD_REQUEST);
    st = store("https://DEVSTOREACCOUNT1.blob.core.windows.net", "devstoreaccount1", "loci-test");
    CHECK_INT(create_only(&st, &e), 0);
    st = store("https://abc.blob.core.windows.net", "abc", "loci-test");
    CHECK_INT(create_only(&st, &e), 0);

    /* containers: 3-63 of a-z 0-9 and single inner '-', or a special one */
    static const char *const bad_containers[] = {"",
                                                 "ab",
                                                 "-abc",
                                                 "abc-",
                                                 "a--b",
                                                 "ABC",
                                                 "a_b",
                                                 "a.b",
                                                 "a/b",
                                                 "$other",
                                                 "$ROOT",
                                                 "a b",
                                                 "\xc3\xa9t\xc3\xa9",
                                                 "a234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < sizeof(bad_containers) / sizeof(bad_containers[0]); i++) {
        st = ok;
        st.bucket = bad_containers[i];
        if (create_only(&st, &e) != ERR_BAD_REQUEST)
            test_fail(__FILE__, __LINE__, "container '%s' accepted", bad_containers[i]);
    }
    st = ok;
    st.bucket = NULL;
    CHECK_INT(create_only(&st, &e), ERR_BAD_REQUEST);
    static const char *const good_containers[] = {
        "abc", "a-b-c", "$root", "$web", "$logs", "0ab", "a23456789012345678901234567890123456789012345678901234567890123"};
    for (size_t i = 0; i < sizeof(good_containers) / sizeof(good_containers[0]); i++) {
        st = ok;
        st.bucket = good_containers[i];
        if (create_only(&st, &e) != 0)
            test_fail(__FILE__, __LINE__, "container '%s' refused: %s", good_containers[i], e.msg);
    }

    /* endpoints */
    static const char *const bad_endpoints[] = {
        "", "127.0.0.1:10000/devstoreaccount1", "ftp://h/devstoreaccount1", "http:///x", "http://h/a b", "http://h/x?y=1"};
    for (size_t i = 0; i < sizeof(bad_endpoints) / sizeof(bad_endpoints[0]); i++) {
        st = ok;
        st.endpoint = bad_endpoints[i];
        if (create_only(&st, &e) != ERR_BAD_REQUEST)
            test_fail(__FILE__, __LINE__, "endpoint '%s' accepted", bad_endpoints[i]);
    }
    st = ok;
    st.endpoint = NULL;
    CHECK_INT(create_only(&st, &e), ERR_BAD_REQUEST);
}

TEST(sign_azure_names)
{
    arena_t a;
    err_t e;
    sign_result_t r;
    arena_init(&a);
    store_t st = store(AZURITE, "devstoreaccount1", "loci-test");
    /* names no URL can address */
    static const char *const bad[] = {"a\\b",   "\\",   ".",     "..",    "./a",  "a/.",          "a/./b",
                                      "a/../b", "x/..", "a/b/.", "k\xff", "\xc3", "\xed\xa0\x80", "\xc0\xaf"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sign_request_t rq = {.method = "GET", .name = bad[i], .now = T_2024, .expires = 60, .content_length = -1};
        if (sign_once(&st, &rq, &r, &a, &e) != ERR_BAD_REQUEST)
            test_fail(__FILE__, __LINE__, "name %zu accepted", i);
    }
    /* dots that are not whole segments are fine; so are empty segments */
    static const char *const good[] = {"a.", ".a", "...", "a/.b", "a/..b/", "/", "//", "a//b/", ".../x"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        sign_request_t rq = {.method = "GET", .name = good[i], .now = T_2024, .expires = 60, .content_length = -1};
        if (sign_once(&st, &rq, &r, &a, &e) != 0)
            test_fail(__FILE__, __LINE__, "name '%s' refused: %s", good[i], e.msg);
    }
    /* a content type that cannot be a header */
    sign_request_t put = {.method = "PUT", .name = "k", .now = T_2024, .expires = 60, .content_type = "text/plain\r\nx: 1"};
    CHECK_INT(sign_once(&st, &put, &r, &a, &e), ERR_BAD_REQUEST);
    put.content_type = "t\xc3\xa9xt/plain";
    CHECK_INT(sign_once(&st, &put, &r, &a, &e), ERR_BAD_REQUEST);
    /* lifetimes: the interface's bounds */
    sign_request_t get = {.method = "GET", .name = "k", .now = T_2024, .expires = 0, .content_length = -1};
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), ERR_BAD_REQUEST);
    get.expires = SIGN_MAX_EXPIRES;
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), 0);
    get.method = "POST";
    CHECK_INT(sign_once(&st, &get, &r, &a, &e), ERR_BAD_REQUEST);
    /* residency is re-checked for azure stores too */
    signer_t *sg;
    cset_t de;
    cset_clear(&de);
    cset_add(&de, "DE");
    get.method = "GET";
    CHECK_INT(sign_create(&st, &sg, &e), 0);
    CHECK_INT(sign_presign(sg, &de, "acme", &get, &r, &a, &e), ERR_RESIDENCY_VIOLATION);
    sign_destroy(sg);
    arena_release(&a);
}

typedef struct azure_worker {
    signer_t *sg;
    int id;
    int bad;
} azure_worker_t;

static void *azure_work(void *arg)
{
    azure_worker_t *w = arg;
    cset_t all;
    memset(&all, 0xff, sizeof(all));
    for (int i = 0; i < 400; i++) {
        arena_t a;
        err_t e;
        sign_result_t r;
        char name[32];
        arena_init(&a);
        snprintf(name, sizeof(name), "t/%d-%d", w->id, i);
        sign_request_t rq = {.method = "GET", .name = name, .now = T_2024 + i, .expires = 60, .content_length = -1};
        /* the same request through a fresh signer must give the same URL */
        signer_t *own = NULL;
        sign_result_t r2;
        if (sign_presign(w->sg, &all, "acme", &rq, &r, &a, &e) != 0 || sign_create(w->sg->store, &own, &e) != 0 ||
            sign_presign(own, &all, "acme", &rq, &r2, &a, &e) != 0 || strcmp(r.url, r2.url) != 0)
            w->bad++;
        sign_destroy(own);
        arena_release(&a);
    }
    return NULL;
}

TEST(sign_azure_concurrent_signing)
{
    store_t st = store(AZURITE, "devstoreaccount1", "loci-test");
    signer_t *sg;
    err_t e;
    CHECK_INT(sign_create(&st, &sg, &e), 0);
    pthread_t th[4];
    azure_worker_t w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (azure_worker_t){sg, i, 0};
        CHECK_INT(pthread_create(&th[i], NULL, azure_work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(w[i].bad, 0);
    }
    sign_destroy(sg);
}
