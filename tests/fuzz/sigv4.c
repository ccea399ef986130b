/*
 * sigv4.c - fuzzes the local store's SigV4 query verification (sign_local_verify in
 * src/sign/local.c), which loci runs on every /local/ request before touching a file.
 *
 * Two modes, by the first byte:
 *  even: a request as received. Fields: method, raw path, raw query, Host, then header lines
 *        "name:value" (\n-separated); the byte after the mode shifts the clock. The seeds are
 *        real URLs of the local signer, signed at T0 with the fixed key below, so mutations start
 *        from requests that verify.
 *  odd:  signer round trip. The local signer signs a method (next byte), a lifetime (next byte)
 *        and the fields name, content type and content length; the URL it makes must verify,
 *        and changing the method, host, path, query, signature, signed length or clock must not.
 * Properties beyond "no crash": an accepted PUT reports the signed content-length; an accepted
 * request was signed no later than the clock skew allows and has not expired.
 */
#include <stdbool.h>
#include <stdio.h>

#include "fuzz.h"
#include "sign/sign.h"
#include "util/timeutil.h"

#define T0 1700000000 /* 2023-11-14T22:13:20Z: the seeds are signed at this time */

static const store_cred_t CREDS[] = {{"access_key_id", "LOCIKEY"}, {"secret_access_key", "0123456789abcdef"}};
static store_t store = {
    .id = "disk-1", .provider = "local", .endpoint = "http://127.0.0.1:7700", .country = "DE", .creds = CREDS, .ncreds = 2};
static signer_t *signer;
static cset_t everywhere;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    err_t e;
    if (sign_create(&store, &signer, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        abort();
    }
    for (char a = 'A'; a <= 'Z'; a++)
        for (char b = 'A'; b <= 'Z'; b++)
            cset_add(&everywhere, (char[]){a, b, 0});
    return 0;
}

typedef struct headers {
    size_t n;
    char *name[8];
    char *value[8];
} headers_t;

static slice_t header_cb(void *ctx, const char *lname)
{
    const headers_t *h = ctx;
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->name[i], lname) == 0)
            return slice_cstr(h->value[i]);
    return (slice_t){NULL, 0};
}

static void headers_release(headers_t *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->name[i]);
        free(h->value[i]);
    }
    h->n = 0;
}

static void headers_add(headers_t *h, slice_t name, slice_t value)
{
    if (h->n == 8)
        return;
    h->name[h->n] = fz_cstr(name);
    h->value[h->n] = fz_cstr(value);
    h->n++;
}

/* The X-Amz-Date and X-Amz-Expires of a raw query, as the signer writes them. */
static bool signed_window(slice_t q, int64_t *t, int64_t *expires)
{
    char *s = fz_cstr(q), *d = strstr(s, "X-Amz-Date="), *x = strstr(s, "X-Amz-Expires=");
    bool ok = false;
    if (d && x && strlen(d + 11) >= 16) {
        char iso[21];
        snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", d + 11, d + 15, d + 17, d + 20, d + 22, d + 24);
        ok = time_parse_iso8601(iso, 20, t) == 0;
        *expires = strtoll(x + 14, NULL, 10);
    }
    free(s);
    return ok;
}

static void raw_request(fz_t *f)
{
    int64_t now = T0 + (int64_t)(int8_t)fz_byte(f) * 60;
    slice_t method = fz_field(f), path = fz_field(f), query = fz_field(f), host = fz_field(f), lines = fz_rest(f);
    headers_t h = {0};
    for (size_t i = 0; i < lines.len;) {
        const char *nl = memchr(lines.base + i, '\n', lines.len - i);
        size_t end = nl ? (size_t)(nl - lines.base) : lines.len;
        const char *colon = memchr(lines.base + i, ':', end - i);
        if (colon)
            headers_add(&h, slice_make(lines.base + i, (size_t)(colon - lines.base - i)),
                        slice_make(colon + 1, (size_t)(lines.base + end - colon - 1)));
        i = end + 1;
    }
    sign_verify_request_t v = {method, path, query, host, header_cb, &h, now};
    int64_t len = 12345;
    err_t e;
    int rc = sign_local_verify(&store, &v, &len, &e);
    if (rc != 0) {
        FZ_CHECK(rc == ERR_FORBIDDEN && e.msg[0], "rc %d without a reason", rc);
        FZ_CHECK(len == -1, "refused, yet content_length %lld", (long long)len);
    } else {
        int64_t t = 0, expires = 0;
        FZ_CHECK(signed_window(query, &t, &expires), "accepted without a readable X-Amz-Date/X-Amz-Expires");
        FZ_CHECK(now >= t - 300 && now <= t + expires, "accepted at %lld, signed at %lld for %lld s", (long long)now, (long long)t,
                 (long long)expires);
        FZ_CHECK(slice_eq_cstr(method, "PUT") ? len >= 0 : len == -1, "content_length %lld for %.*s", (long long)len,
                 (int)method.len, method.base);
    }
    headers_release(&h);
}

/* Verifies url as received with method, headers h and clock now; returns the result. */
static int verify_url(const char *url, const char *method, headers_t *h, int64_t now, int64_t *len)
{
    const char *host = strstr(url, "://") + 3, *path = strchr(host, '/'), *q = strchr(path, '?');
    sign_verify_request_t v = {slice_cstr(method),
                               slice_make(path, (size_t)(q - path)),
                               slice_cstr(q + 1),
                               slice_make(host, (size_t)(path - host)),
                               header_cb,
                               h,
                               now};
    err_t e;
    return sign_local_verify(&store, &v, len, &e);
}

static char *replace(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    FZ_CHECK(at != NULL, "'%s' not in '%s'", from, s);
    size_t n = strlen(s) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);
    snprintf(out, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
    return out;
}

static void round_trip(fz_t *f)
{
    static const char *const METHODS[] = {"GET", "PUT", "HEAD", "DELETE"};
    const char *method = METHODS[fz_byte(f) & 3];
    int64_t expires = 1 + fz_byte(f) * 2371; /* 1 .. 604606 s */
    char *name = fz_cstr(fz_field(f)), *ctype = fz_cstr(fz_field(f)), *lentext = fz_cstr(fz_field(f));
    /* object sizes loci signs are at most max_object_size (5 TiB): keep to what the verifier
     * reads, 1-18 digits */
    int64_t length = strtoll(lentext, NULL, 10) % INT64_C(1000000000000000000);
    if (length < 0)
        length = -length;
    free(lentext);
    bool put = strcmp(method, "PUT") == 0;
    sign_request_t srq = {.method = method,
                          .name = name,
                          .now = T0,
                          .expires = expires,
                          .content_type = put ? ctype : NULL,
                          .content_length = put ? length : -1};
    sign_result_t res;
    arena_t a;
    err_t e;
    arena_init(&a);
    if (sign_presign(signer, &everywhere, "t", &srq, &res, &a, &e) != 0)
        goto out;
    headers_t h = {0};
    char lenbuf[32];
    for (size_t i = 0; i < res.nheaders; i++)
        headers_add(&h, slice_cstr(res.headers[i].name), slice_cstr(res.headers[i].value));
    int64_t got = -2;
    FZ_CHECK(verify_url(res.url, method, &h, T0, &got) == 0, "own URL refused: %s %s", method, res.url);
    FZ_CHECK(got == (put ? length : -1), "content_length %lld, signed %lld", (long long)got, (long long)length);
    FZ_CHECK(verify_url(res.url, method, &h, T0 + expires, &got) == 0, "refused on its last second");

    /* each change must be refused */
    FZ_CHECK(verify_url(res.url, method, &h, T0 + expires + 1, &got) != 0, "accepted after expiry");
    FZ_CHECK(verify_url(res.url, method, &h, T0 - 301, &got) != 0, "accepted before its time");
    for (size_t m = 0; m < 4; m++)
        if (strcmp(METHODS[m], method) != 0)
            FZ_CHECK(verify_url(res.url, METHODS[m], &h, T0, &got) != 0, "%s URL accepted for %s", method, METHODS[m]);
    char *u = replace(res.url, "127.0.0.1:7700/", "127.0.0.1:7701/");
    FZ_CHECK(verify_url(u, method, &h, T0, &got) != 0, "accepted for another host");
    free(u);
    u = replace(res.url, "?", "x?");
    FZ_CHECK(verify_url(u, method, &h, T0, &got) != 0, "accepted for another path");
    free(u);
    u = replace(res.url, "?", "?x=1&");
    FZ_CHECK(verify_url(u, method, &h, T0, &got) != 0, "accepted with another query parameter");
    free(u);
    char *sig = strstr(res.url, "X-Amz-Signature=") + 16;
    sig[0] = sig[0] == '0' ? '1' : '0';
    FZ_CHECK(verify_url(res.url, method, &h, T0, &got) != 0, "accepted with another signature");
    sig[0] = sig[0] == '0' ? '1' : '0';
    if (put) {
        for (size_t i = 0; i < h.n; i++)
            if (strcmp(h.name[i], "content-length") == 0) {
                snprintf(lenbuf, sizeof(lenbuf), "%lld", (long long)length + 1);
                free(h.value[i]);
                h.value[i] = fz_cstr(slice_cstr(lenbuf));
            }
        FZ_CHECK(verify_url(res.url, method, &h, T0, &got) != 0, "accepted with another content-length");
    }
    headers_release(&h);
out:
    arena_release(&a);
    free(name);
    free(ctype);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f = fz_init(data, size);
    if (fz_byte(&f) & 1)
        round_trip(&f);
    else
        raw_request(&f);
    return 0;
}
