/*
 * signer.c - fuzzes what an administrator's store definition feeds the signers
 * (src/sign/{s3,gcs,azure,swift,local,endpoint}.c): endpoints, buckets, regions, public hosts,
 * account names and credentials (S3 keys, GCS service-account JSON with its PEM key or HMAC
 * keys, Azure base64 account keys, Swift TempURL keys), then the object names, methods and
 * multipart steps they sign.
 *
 * Input: provider byte (s3, gcs, azure, swift, local), flags byte (bit 0 path_style, bits 1-3
 * the operation, bits 4-5 the method), then fields: endpoint, bucket, region, public_host,
 * account, object name, content type, then credentials "name=value" (the rest, one a field).
 *
 * Properties: a signer is made or refused with a reason, never a crash; every URL it signs is
 * http(s)://host/path[?query] made only of the characters RFC 3986 allows (no space, control,
 * quote or non-ASCII byte that a client would have to guess how to send), and every header it
 * tells the client to send is printable ASCII.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "sign/sign.h"

static const char *const PROVIDERS[] = {"s3", "gcs", "azure", "swift", "local"};
static const char *const METHODS[] = {"GET", "PUT", "HEAD", "DELETE"};
static cset_t everywhere;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    for (char a = 'A'; a <= 'Z'; a++)
        for (char b = 'A'; b <= 'Z'; b++)
            cset_add(&everywhere, (char[]){a, b, 0});
    return 0;
}

static bool url_char_ok(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-._~!$&'()*+,;=:@/?%[]", c);
}

static void check_url(const char *url)
{
    const char *rest = strncmp(url, "https://", 8) == 0 ? url + 8 : strncmp(url, "http://", 7) == 0 ? url + 7 : NULL;
    FZ_CHECK(rest != NULL && *rest && *rest != '/', "URL '%s' has no scheme and host", url);
    for (const char *p = url; *p; p++) {
        FZ_CHECK(url_char_ok((unsigned char)*p) && *p != '\0', "URL '%s' holds byte 0x%02x", url, (unsigned char)*p);
        if (*p == '%')
            FZ_CHECK(strchr("0123456789ABCDEFabcdef", p[1]) && p[1] && strchr("0123456789ABCDEFabcdef", p[2]) && p[2],
                     "URL '%s' has a bad escape", url);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f = fz_init(data, size);
    uint8_t prov = fz_byte(&f), flags = fz_byte(&f);
    char *endpoint = fz_cstr(fz_field(&f)), *bucket = fz_cstr(fz_field(&f)), *region = fz_cstr(fz_field(&f));
    char *public_host = fz_cstr(fz_field(&f)), *account = fz_cstr(fz_field(&f)), *name = fz_cstr(fz_field(&f));
    char *ctype = fz_cstr(fz_field(&f));
    store_cred_t creds[8];
    char *owned[16];
    size_t ncreds = 0, nowned = 0;
    while (f.n && ncreds < 8) {
        slice_t c = fz_field(&f);
        const char *eq = memchr(c.base, '=', c.len);
        if (eq == NULL)
            continue;
        creds[ncreds].name = owned[nowned++] = fz_cstr(slice_make(c.base, (size_t)(eq - c.base)));
        creds[ncreds].value = owned[nowned++] = fz_cstr(slice_make(eq + 1, c.len - (size_t)(eq + 1 - c.base)));
        ncreds++;
    }
    store_t st = {.id = "fz-store",
                  .provider = PROVIDERS[prov % 5],
                  .endpoint = endpoint,
                  .bucket = bucket,
                  .region = *region ? region : NULL,
                  .country = "DE",
                  .path_style = flags & 1,
                  .public_host = *public_host ? public_host : NULL,
                  .account = account,
                  .creds = creds,
                  .ncreds = ncreds};
    signer_t *s;
    err_t e;
    if (sign_create(&st, &s, &e) != 0) {
        FZ_CHECK(e.code == ERR_BAD_REQUEST && e.msg[0], "refused (%d) without a reason", e.code);
    } else {
        sign_request_t rq = {.op = (sign_op_t)((flags >> 1) & 7),
                             .method = METHODS[(flags >> 4) & 3],
                             .name = name,
                             .now = 1700000000,
                             .expires = 900,
                             .content_type = *ctype ? ctype : NULL,
                             .content_length = (int64_t)strlen(ctype),
                             .part_number = 1 + (flags >> 6),
                             .mp_id = *region ? region : "upload-1",
                             .response_content_type = *ctype ? ctype : NULL};
        sign_result_t res;
        arena_t a;
        arena_init(&a);
        if (sign_presign(s, &everywhere, "t", &rq, &res, &a, &e) == 0) {
            check_url(res.url);
            FZ_CHECK(res.expires_at == rq.now + rq.expires, "expires_at %lld", (long long)res.expires_at);
            for (size_t i = 0; i < res.nheaders; i++) {
                for (const char *p = res.headers[i].name; *p; p++)
                    FZ_CHECK((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-', "header name '%s'",
                             res.headers[i].name);
                for (const char *p = res.headers[i].value; *p; p++)
                    FZ_CHECK(*p >= 0x20 && *p < 0x7f, "header %s: byte 0x%02x", res.headers[i].name, (unsigned char)*p);
            }
        } else {
            FZ_CHECK(e.msg[0], "presign refused (%d) without a reason", e.code);
        }
        arena_release(&a);
        sign_destroy(s);
    }
    for (size_t i = 0; i < nowned; i++)
        free(owned[i]);
    free(endpoint);
    free(bucket);
    free(region);
    free(public_host);
    free(account);
    free(name);
    free(ctype);
    return 0;
}
