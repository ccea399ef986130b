/*
 * gcs.c - the "gcs" provider: V4 signed URLs for Google Cloud Storage's XML API, with a
 * service-account RSA key (GOOG4-RSA-SHA256) or an HMAC key (GOOG4-HMAC-SHA256), path-style
 * ({endpoint}/{bucket}/{object}) or virtual-hosted ({scheme}://{bucket}.{host}/{object}).
 *
 * Store fields: endpoint (https://storage.googleapis.com when empty; no base path, GCS has
 * none), bucket, path_style, public_host (clients are sent to, and the signature is made for,
 * that scheme://host[:port] instead of the endpoint's). Credentials: service_account_json (the
 * key file's text: client_email and private_key are used; the key is parsed once, here), or
 * hmac_access_id and hmac_secret. Object names are encoded like S3's: each byte but the RFC 3986
 * unreserved ones and '/' percent-encoded, no normalisation.
 *
 * What a signed PUT binds (the client must send these headers with exactly these values):
 *   content-type                 when declared: a request with another type fails the signature
 *   content-length               when declared: likewise for a body of another length
 *   x-goog-content-length-range  "N,N" with the declared length: GCS itself refuses (400) a
 *                                body outside the range, whatever the signature covers
 *   x-goog-content-sha256        when a SHA-256 is declared: it takes UNSIGNED-PAYLOAD's place in
 *                                the signature and GCS checks the body against it
 * GCS's checksum header x-goog-hash (and Content-MD5) carry only crc32c and md5 digests, which
 * loci does not have, so they are not used. A part binds its content-length; starting a
 * multipart upload binds the content-type the object will get.
 */
#include "sign/gcs.h"

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sign/endpoint.h"
#include "sign/providers.h"
#include "util/crypto.h"
#include "util/enc.h"
#include "util/timeutil.h"

#define GCS_DEFAULT_ENDPOINT "https://storage.googleapis.com"
#define GCS_SCOPE_TAIL       "auto/storage/goog4_request"
#define GCS_MIN_RSA_BITS     2048

/* The day's HMAC signing key; thread-safe (like sigv4_key_cache_t, with GCS's derivation). */
typedef struct gcs_key_cache {
    pthread_mutex_t mu;
    char date[9];
    uint8_t key[32];
} gcs_key_cache_t;

typedef struct gcs_signer {
    signer_t base;
    char scheme[8];
    char host[512];                 /* the signed host: lowercase host name, no port ("bucket." leading when virtual) */
    char url_host[512];             /* the URL's host: lowercase, with the port as written */
    char prefix[256];               /* the path before "/<object>": "/<bucket>" (path style) or "" */
    EVP_PKEY *pkey;                 /* the service account's RSA key; NULL for an HMAC key */
    char *email;                    /* the service account (owned) */
    const char *access_id, *secret; /* the HMAC key (the store's strings) */
    gcs_key_cache_t cache;
} gcs_signer_t;

/* ---- the V4 core ---- */

/* An encoded query parameter (both strings malloc'ed). */
typedef struct owned_kv {
    char *name;
    char *value;
} owned_kv_t;

/* A signed header: its lowercase name (malloc'ed) and the caller's value. */
typedef struct hdr {
    char *name;
    const char *value;
} hdr_t;

/* What the canonical request and the URL share: the signed headers (lowercase names, host
 * included, sorted), their names joined by ';', the credential, X-Goog-Date and -Expires. */
typedef struct canon {
    hdr_t *hdrs;
    size_t nh;
    buf_t names;
    buf_t cred;
    char date[17];
    char expires[24];
} canon_t;

static int kv_cmp(const void *a, const void *b)
{
    const owned_kv_t *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static int hdr_cmp(const void *a, const void *b)
{
    return strcmp(((const hdr_t *)a)->name, ((const hdr_t *)b)->name);
}

static char *lowercase_dup(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d == NULL)
        abort();
    for (size_t i = 0; i <= n; i++)
        d[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    return d;
}

static void canon_release(canon_t *c)
{
    for (size_t i = 0; i < c->nh; i++)
        free(c->hdrs[i].name);
    free(c->hdrs);
    buf_release(&c->names);
    buf_release(&c->cred);
}

static int canon_init(canon_t *c, const gcs_v4_params_t *p)
{
    int rc = 0;
    memset(c, 0, sizeof(*c));
    c->hdrs = malloc((p->nheaders + 1) * sizeof(*c->hdrs));
    if (c->hdrs == NULL)
        abort();
    c->hdrs[c->nh++] = (hdr_t){lowercase_dup("host"), p->host};
    for (size_t i = 0; i < p->nheaders; i++)
        c->hdrs[c->nh++] = (hdr_t){lowercase_dup(p->headers[i].name), p->headers[i].value ? p->headers[i].value : ""};
    qsort(c->hdrs, c->nh, sizeof(*c->hdrs), hdr_cmp);
    for (size_t i = 0; i < c->nh; i++) {
        if (i)
            rc |= buf_putc(&c->names, ';');
        rc |= buf_puts(&c->names, c->hdrs[i].name);
    }
    time_fmt_amz(p->now, c->date);
    snprintf(c->expires, sizeof(c->expires), "%lld", (long long)p->expires);
    rc |= buf_printf(&c->cred, "%s/%.8s/" GCS_SCOPE_TAIL, p->credential_id, c->date);
    return rc ? ERR_PAYLOAD_TOO_LARGE : 0;
}

/* The blanks JavaScript's trim() and \s know (the ASCII ones). */
static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Appends a header value as the canonical request has it: trimmed, each run of two or more
 * blanks replaced by one space (a single blank stays as it is), as @google-cloud/storage does. */
static int put_header_value(buf_t *b, const char *v)
{
    size_t i = 0, n = strlen(v);
    int rc = 0;
    while (i < n && blank(v[i]))
        i++;
    while (n > i && blank(v[n - 1]))
        n--;
    while (i < n && rc == 0) {
        size_t run = 0;
        while (i + run < n && blank(v[i + run]))
            run++;
        if (run >= 2) {
            rc = buf_putc(b, ' ');
            i += run;
        } else {
            rc = buf_putc(b, v[i++]);
        }
    }
    return rc;
}

static int put_encoded(buf_t *b, const char *s)
{
    return pct_encode(b, s, strlen(s), false);
}

/* The X-Goog-* parameters but the signature, in the order the URL lists them. */
static void auth_params(const gcs_v4_params_t *p, const canon_t *c, gcs_kv_t out[5])
{
    out[0] = (gcs_kv_t){"X-Goog-Algorithm", p->algorithm};
    out[1] = (gcs_kv_t){"X-Goog-Credential", c->cred.base};
    out[2] = (gcs_kv_t){"X-Goog-Date", c->date};
    out[3] = (gcs_kv_t){"X-Goog-Expires", c->expires};
    out[4] = (gcs_kv_t){"X-Goog-SignedHeaders", c->names.base};
}

/* Encodes each parameter's name and value (malloc'ed) and sorts them by encoded name. */
static owned_kv_t *encoded_sorted_query(const gcs_v4_params_t *p, const canon_t *c, size_t *n)
{
    gcs_kv_t raw[5];
    auth_params(p, c, raw);
    *n = 5 + p->nquery;
    owned_kv_t *q = malloc(*n * sizeof(*q));
    if (q == NULL)
        abort();
    for (size_t i = 0; i < *n; i++) {
        const gcs_kv_t *kv = i < 5 ? &raw[i] : &p->query[i - 5];
        buf_t name = BUF_INIT, value = BUF_INIT;
        put_encoded(&name, kv->name);
        put_encoded(&value, kv->value ? kv->value : "");
        q[i] = (owned_kv_t){buf_detach(&name, NULL), buf_detach(&value, NULL)};
    }
    qsort(q, *n, sizeof(*q), kv_cmp);
    return q;
}

int gcs_v4_canonical(const gcs_v4_params_t *p, buf_t *creq)
{
    canon_t c;
    size_t nq = 0;
    int rc = canon_init(&c, p);
    owned_kv_t *q = encoded_sorted_query(p, &c, &nq);

    rc |= buf_printf(creq, "%s\n%s\n", p->method, p->path);
    for (size_t i = 0; i < nq; i++) {
        rc |= buf_printf(creq, "%s%s=%s", i ? "&" : "", q[i].name, q[i].value);
        free(q[i].name);
        free(q[i].value);
    }
    free(q);
    rc |= buf_putc(creq, '\n');
    for (size_t i = 0; i < c.nh; i++) {
        rc |= buf_puts(creq, c.hdrs[i].name);
        rc |= buf_putc(creq, ':');
        rc |= put_header_value(creq, c.hdrs[i].value);
        rc |= buf_putc(creq, '\n');
    }
    rc |= buf_printf(creq, "\n%s\n%s", c.names.base, p->payload ? p->payload : GCS_UNSIGNED_PAYLOAD);
    canon_release(&c);
    return rc ? ERR_PAYLOAD_TOO_LARGE : 0;
}

int gcs_v4_string_to_sign(const gcs_v4_params_t *p, const buf_t *creq, buf_t *sts)
{
    char date[17], hash[65];
    time_fmt_amz(p->now, date);
    sha256_hex(creq->base ? creq->base : "", creq->len, hash);
    int rc = buf_printf(sts, "%s\n%s\n%.8s/" GCS_SCOPE_TAIL "\n%s", p->algorithm, date, date, hash);
    return rc ? ERR_PAYLOAD_TOO_LARGE : 0;
}

int gcs_v4_url_query(const gcs_v4_params_t *p, const char *sig_hex, buf_t *query)
{
    canon_t c;
    gcs_kv_t auth[5];
    int rc = canon_init(&c, p);
    auth_params(p, &c, auth);
    for (size_t i = 0; i < 5 + p->nquery; i++) {
        const gcs_kv_t *kv = i < 5 ? &auth[i] : &p->query[i - 5];
        rc |= put_encoded(query, kv->name);
        rc |= buf_putc(query, '=');
        rc |= put_encoded(query, kv->value ? kv->value : "");
        rc |= buf_putc(query, '&');
    }
    rc |= buf_puts(query, "X-Goog-Signature=");
    rc |= buf_puts(query, sig_hex);
    canon_release(&c);
    return rc ? ERR_PAYLOAD_TOO_LARGE : 0;
}

void gcs_hmac_derive_key(const char *secret, const char *date8, uint8_t out[32])
{
    size_t sl = strlen(secret);
    char *k = malloc(sl + 6);
    uint8_t a[32], b[32];
    if (k == NULL)
        abort();
    memcpy(k, "GOOG4", 5);
    memcpy(k + 5, secret, sl + 1);
    hmac_sha256(k, sl + 5, date8, strlen(date8), a);
    hmac_sha256(a, 32, "auto", 4, b);
    hmac_sha256(b, 32, "storage", 7, a);
    hmac_sha256(a, 32, "goog4_request", 13, out);
    memset(k, 0, sl + 5);
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    free(k);
}

/* The signing key for date8, from the cache or derived (and cached). */
static void hmac_key_cached(gcs_signer_t *s, const char *date8, uint8_t out[32])
{
    pthread_mutex_lock(&s->cache.mu);
    if (strcmp(s->cache.date, date8) == 0) {
        memcpy(out, s->cache.key, 32);
        pthread_mutex_unlock(&s->cache.mu);
        return;
    }
    pthread_mutex_unlock(&s->cache.mu);
    /* derive outside the lock; a racing thread derives the same value */
    gcs_hmac_derive_key(s->secret, date8, out);
    pthread_mutex_lock(&s->cache.mu);
    memcpy(s->cache.key, out, 32);
    memcpy(s->cache.date, date8, 9);
    pthread_mutex_unlock(&s->cache.mu);
}

void gcs_signer_identity(const signer_t *base, gcs_v4_params_t *p)
{
    const gcs_signer_t *s = (const gcs_signer_t *)base;
    p->algorithm = s->pkey ? GCS_ALG_RSA : GCS_ALG_HMAC;
    p->credential_id = s->pkey ? s->email : s->access_id;
}

/* RSASSA-PKCS1-v1_5 with SHA-256 over msg, hex into sig_hex. The key is only read; each call
 * has its own EVP_MD_CTX, so threads may sign with one key at once. Returns 0 or ERR_INTERNAL. */
static int rsa_sign_hex(EVP_PKEY *pkey, const void *msg, size_t n, buf_t *sig_hex)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *sig = NULL;
    char *hex = NULL;
    size_t len = 0;
    int rc = ERR_INTERNAL;
    if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) != 1 ||
        EVP_DigestSign(ctx, NULL, &len, msg, n) != 1 || len == 0)
        goto out;
    sig = malloc(len);
    hex = malloc(2 * len + 1);
    if (sig == NULL || hex == NULL || EVP_DigestSign(ctx, sig, &len, msg, n) != 1)
        goto out;
    hex_encode(sig, len, hex);
    rc = buf_puts(sig_hex, hex) ? ERR_INTERNAL : 0;
out:
    if (rc != 0)
        ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    free(sig);
    free(hex);
    return rc;
}

int gcs_sign(signer_t *base, const gcs_v4_params_t *p, buf_t *sig_hex, err_t *e)
{
    gcs_signer_t *s = (gcs_signer_t *)base;
    buf_t creq = BUF_INIT, sts = BUF_INIT;
    int rc = gcs_v4_canonical(p, &creq);
    if (rc == 0)
        rc = gcs_v4_string_to_sign(p, &creq, &sts);
    if (rc != 0) {
        rc = err_set(e, ERR_BAD_REQUEST, "request too large to sign");
        goto out;
    }
    if (s->pkey) {
        if ((rc = rsa_sign_hex(s->pkey, sts.base, sts.len, sig_hex)) != 0)
            rc = err_set(e, ERR_INTERNAL, "cannot sign for store '%s'", s->base.store->id);
    } else {
        char date8[17], hex[65];
        uint8_t key[32], mac[32];
        time_fmt_amz(p->now, date8);
        date8[8] = '\0';
        hmac_key_cached(s, date8, key);
        hmac_sha256(key, 32, sts.base, sts.len, mac);
        memset(key, 0, sizeof(key));
        hex_encode(mac, 32, hex);
        if (buf_puts(sig_hex, hex) != 0)
            rc = err_set(e, ERR_INTERNAL, "cannot sign for store '%s'", s->base.store->id);
    }
out:
    buf_release(&creq);
    buf_release(&sts);
    return rc;
}

/* ---- the provider ---- */

/* True if v can be sent as a header value or signed as given: printable ASCII and spaces. */
static bool printable(const char *v)
{
    for (; *v; v++)
        if ((unsigned char)*v < 0x20 || (unsigned char)*v > 0x7e)
            return false;
    return true;
}

static int gcs_presign(signer_t *base, const sign_request_t *rq, sign_result_t *out, arena_t *a, err_t *e)
{
    gcs_signer_t *s = (gcs_signer_t *)base;
    buf_t path = BUF_INIT, sig = BUF_INIT, url = BUF_INIT;
    gcs_kv_t q[2], h[4];
    size_t nq = 0, nh = 0;
    char part[16], len[24], range[48], sha[65];
    int rc = 0;

    /* the operation's query parameters (signed); a GET's overrides in the order
     * @google-cloud/storage's getSignedUrl adds them */
    switch (rq->op) {
    case SIGN_OP_OBJECT:
        if (strcmp(rq->method, "GET") == 0) {
            if (rq->response_content_type)
                q[nq++] = (gcs_kv_t){"response-content-type", rq->response_content_type};
            if (rq->response_content_disposition)
                q[nq++] = (gcs_kv_t){"response-content-disposition", rq->response_content_disposition};
        }
        break;
    case SIGN_OP_PART:
        snprintf(part, sizeof(part), "%d", rq->part_number);
        q[nq++] = (gcs_kv_t){"partNumber", part};
        q[nq++] = (gcs_kv_t){"uploadId", rq->mp_id ? rq->mp_id : ""};
        break;
    case SIGN_OP_MP_CREATE:
        q[nq++] = (gcs_kv_t){"uploads", ""};
        break;
    case SIGN_OP_MP_COMPLETE:
    case SIGN_OP_MP_ABORT:
        q[nq++] = (gcs_kv_t){"uploadId", rq->mp_id ? rq->mp_id : ""};
        break;
    }
    if (rq->op != SIGN_OP_OBJECT && rq->op != SIGN_OP_MP_CREATE && (rq->mp_id == NULL || *rq->mp_id == '\0')) {
        rc = err_set(e, ERR_BAD_REQUEST, "no multipart upload id");
        goto out;
    }
    for (size_t i = 0; i < nq; i++) {
        if (!printable(q[i].value)) {
            rc = err_set(e, ERR_BAD_REQUEST, "'%s' must be printable ascii", q[i].name);
            goto out;
        }
    }
    /* what the request binds: a PUT its type, length and digest, a part its length, the
     * start of a multipart upload the object's type */
    bool put = rq->op == SIGN_OP_OBJECT && strcmp(rq->method, "PUT") == 0;
    if (put || rq->op == SIGN_OP_MP_CREATE) {
        if (rq->content_type && !printable(rq->content_type)) {
            rc = err_set(e, ERR_BAD_REQUEST, "content type must be printable ascii");
            goto out;
        }
        if (rq->content_type)
            h[nh++] = (gcs_kv_t){"content-type", rq->content_type};
    }
    if ((put || rq->op == SIGN_OP_PART) && rq->content_length >= 0) {
        snprintf(len, sizeof(len), "%lld", (long long)rq->content_length);
        h[nh++] = (gcs_kv_t){"content-length", len};
        if (put) {
            snprintf(range, sizeof(range), "%lld,%lld", (long long)rq->content_length, (long long)rq->content_length);
            h[nh++] = (gcs_kv_t){"x-goog-content-length-range", range};
        }
    }
    if (put && rq->sha256_hex) {
        uint8_t d[32];
        if (hex_decode(rq->sha256_hex, strlen(rq->sha256_hex), d, 32) != 0) {
            rc = err_set(e, ERR_BAD_REQUEST, "sha256 must be 64 hex digits");
            goto out;
        }
        hex_encode(d, 32, sha);
        h[nh++] = (gcs_kv_t){"x-goog-content-sha256", sha};
    }

    rc |= buf_puts(&path, s->prefix);
    rc |= buf_putc(&path, '/');
    rc |= pct_encode(&path, rq->name, strlen(rq->name), true);
    if (rc != 0) {
        rc = err_set(e, ERR_BAD_REQUEST, "object name too long to sign");
        goto out;
    }
    gcs_v4_params_t p = {
        .method = rq->method,
        .host = s->host,
        .path = path.base,
        .query = q,
        .nquery = nq,
        .headers = h,
        .nheaders = nh,
        .now = rq->now,
        .expires = rq->expires,
        .payload = put && rq->sha256_hex ? sha : NULL,
    };
    gcs_signer_identity(base, &p);
    if ((rc = gcs_sign(base, &p, &sig, e)) != 0)
        goto out;
    rc |= buf_printf(&url, "%s://%s%s?", s->scheme, s->url_host, path.base);
    rc |= gcs_v4_url_query(&p, sig.base, &url);
    if (rc != 0) {
        rc = err_set(e, ERR_BAD_REQUEST, "object name too long to sign");
        goto out;
    }
    out->url = arena_strndup(a, url.base, url.len);
    out->nheaders = nh;
    out->headers = arena_alloc(a, (nh ? nh : 1) * sizeof(sign_header_t));
    for (size_t i = 0; i < nh; i++) {
        out->headers[i].name = h[i].name;
        out->headers[i].value = arena_strdup(a, h[i].value);
    }
    out->expires_at = rq->now + rq->expires;
out:
    buf_release(&path);
    buf_release(&sig);
    buf_release(&url);
    return rc;
}

/* True if b is a GCS bucket name: 3 to 222 of a-z, 0-9, '-', '_' and '.', dot-separated parts
 * of at most 63, starting and ending with a letter or digit. With for_host, also a host name
 * label sequence (no '_'), as virtual-hosted addressing needs. */
static bool bucket_ok(const char *b, bool for_host)
{
    size_t n = b ? strlen(b) : 0, label = 0;
    if (n < 3 || n > 222)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if ((i == 0 || i == n - 1) && !alnum)
            return false;
        if (!alnum && c != '-' && c != '.' && (c != '_' || for_host))
            return false;
        label = c == '.' ? 0 : label + 1;
        if (label > 63 || (c == '.' && b[i + 1] == '.'))
            return false;
    }
    return true;
}

/* Lowercases s in place. */
static void lowercase(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* Sets the signer's scheme and hosts from the endpoint (or public_host) and the bucket. */
static int setup_hosts(gcs_signer_t *s, const store_t *st, err_t *e)
{
    const char *endpoint = st->endpoint && *st->endpoint ? st->endpoint : GCS_DEFAULT_ENDPOINT;
    sign_endpoint_t ep;
    int rc;
    if (st->public_host && *st->public_host)
        endpoint = st->public_host;
    if ((rc = sign_endpoint_parse(endpoint, &ep, e)) != 0)
        return rc;
    if (ep.path[0] != '\0')
        return err_set(e, ERR_BAD_REQUEST, "gcs endpoint '%.100s' must not have a path", endpoint);
    /* the signed host is the host name alone: Google's clients drop any port from it */
    char name[256];
    memcpy(name, ep.url_host, sizeof(name));
    char *colon = strrchr(name, ':');
    if (colon && strchr(colon, ']') == NULL)
        *colon = '\0';
    lowercase(name);
    lowercase(ep.url_host);
    if (!st->path_style && (name[0] == '[' || strspn(name, "0123456789.") == strlen(name)))
        return err_set(e, ERR_BAD_REQUEST, "gcs endpoint '%.100s' is an ip address; use path_style", endpoint);
    memcpy(s->scheme, ep.scheme, sizeof(s->scheme));
    if (st->path_style) {
        snprintf(s->host, sizeof(s->host), "%s", name);
        snprintf(s->url_host, sizeof(s->url_host), "%s", ep.url_host);
        snprintf(s->prefix, sizeof(s->prefix), "/%s", st->bucket);
    } else {
        snprintf(s->host, sizeof(s->host), "%s.%s", st->bucket, name);
        snprintf(s->url_host, sizeof(s->url_host), "%s.%s", st->bucket, ep.url_host);
        s->prefix[0] = '\0';
    }
    return 0;
}

/* An encrypted key is refused rather than prompting on the terminal (OpenSSL's default). */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

/* Reads the service-account key file's client_email and private_key (an RSA key of at least
 * GCS_MIN_RSA_BITS) and checks that the key signs. Messages never quote the key material. */
static int load_service_account(gcs_signer_t *s, const store_t *st, const char *text, err_t *e)
{
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    BIO *bio = NULL;
    buf_t probe = BUF_INIT;
    int rc = 0;
    if (!json_is_object(root)) {
        rc = err_set(e, ERR_BAD_REQUEST, "store '%s': service_account_json is not a json object", st->id);
        goto out;
    }
    const char *email = json_string_value(json_object_get(root, "client_email"));
    const char *pem = json_string_value(json_object_get(root, "private_key"));
    if (email == NULL || *email == '\0' || pem == NULL || *pem == '\0') {
        rc = err_set(e, ERR_BAD_REQUEST, "store '%s': service_account_json needs client_email and private_key", st->id);
        goto out;
    }
    if (!printable(email) || strchr(email, '/') != NULL) {
        rc = err_set(e, ERR_BAD_REQUEST, "store '%s': client_email must be printable ascii without '/'", st->id);
        goto out;
    }
    bio = BIO_new_mem_buf(pem, -1);
    if (bio == NULL) {
        rc = err_set(e, ERR_NOMEM, NULL);
        goto out;
    }
    s->pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    if (s->pkey == NULL) {
        rc = err_set(e, ERR_BAD_REQUEST, "store '%s': private_key is not an unencrypted pem private key", st->id);
        goto out;
    }
    if (EVP_PKEY_base_id(s->pkey) != EVP_PKEY_RSA) {
        rc = err_set(e, ERR_BAD_REQUEST, "store '%s': private_key is not an rsa key", st->id);
        goto out;
    }
    if (EVP_PKEY_bits(s->pkey) < GCS_MIN_RSA_BITS) {
        rc = err_set(e, ERR_BAD_REQUEST, "store '%s': private_key has fewer than %d bits", st->id, GCS_MIN_RSA_BITS);
        goto out;
    }
    /* one signature now: a key OpenSSL cannot use is refused here, not on every request */
    if (rsa_sign_hex(s->pkey, "loci", 4, &probe) != 0) {
        rc = err_set(e, ERR_BAD_REQUEST, "store '%s': private_key cannot sign", st->id);
        goto out;
    }
    s->email = strdup(email);
    if (s->email == NULL)
        rc = err_set(e, ERR_NOMEM, NULL);
out:
    if (rc != 0) {
        EVP_PKEY_free(s->pkey);
        s->pkey = NULL;
    }
    ERR_clear_error();
    BIO_free(bio);
    buf_release(&probe);
    json_decref(root);
    return rc;
}

static void gcs_destroy(signer_t *base)
{
    gcs_signer_t *s = (gcs_signer_t *)base;
    if (s == NULL)
        return;
    EVP_PKEY_free(s->pkey);
    free(s->email);
    memset(s->cache.key, 0, sizeof(s->cache.key));
    pthread_mutex_destroy(&s->cache.mu);
    free(s);
}

static int gcs_create(const store_t *st, signer_t **out, err_t *e)
{
    const char *sa = store_cred(st, "service_account_json");
    const char *id = store_cred(st, "hmac_access_id"), *secret = store_cred(st, "hmac_secret");
    gcs_signer_t *s = NULL;
    int rc = 0;
    *out = NULL;
    if (st->bucket == NULL || *st->bucket == '\0')
        return err_set(e, ERR_BAD_REQUEST, "store '%s' needs a bucket", st->id);
    if (!bucket_ok(st->bucket, false))
        return err_set(e, ERR_BAD_REQUEST, "bucket '%.64s' is not a gcs bucket name", st->bucket);
    if (!st->path_style && !bucket_ok(st->bucket, true))
        return err_set(e, ERR_BAD_REQUEST, "bucket '%.64s' cannot be part of a host name; use path_style", st->bucket);
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return err_set(e, ERR_NOMEM, NULL);
    s->base.vt = &sign_gcs;
    s->base.store = st;
    pthread_mutex_init(&s->cache.mu, NULL);
    if ((rc = setup_hosts(s, st, e)) != 0)
        goto out;
    bool has_hmac = (id && *id) || (secret && *secret);
    if (sa && *sa && has_hmac) {
        rc = err_set(e, ERR_BAD_REQUEST, "store '%s' needs service_account_json or an hmac key, not both", st->id);
    } else if (sa && *sa) {
        rc = load_service_account(s, st, sa, e);
    } else if (id && *id && secret && *secret) {
        if (!printable(id) || strchr(id, '/') != NULL)
            rc = err_set(e, ERR_BAD_REQUEST, "store '%s': hmac_access_id must be printable ascii without '/'", st->id);
        s->access_id = id;
        s->secret = secret;
    } else {
        rc = err_set(e, ERR_BAD_REQUEST, "store '%s' needs service_account_json, or hmac_access_id and hmac_secret", st->id);
    }
out:
    if (rc != 0) {
        gcs_destroy(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}

const signer_vt_t sign_gcs = {
    .provider = "gcs",
    /* GCS: 5 TiB per object; XML API multipart parts of 5 MiB to 5 GiB, at most 10,000 */
    .limits = {.single_put_max = INT64_C(5) << 40, .part_min = INT64_C(5) << 20, .part_max = INT64_C(5) << 30, .parts_max = 10000},
    .create = gcs_create,
    .presign = gcs_presign,
    .destroy = gcs_destroy,
};
