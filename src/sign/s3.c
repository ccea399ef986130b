/*
 * s3.c - the "s3" provider: SigV4 presigned URLs for AWS S3 and S3-compatible stores (MinIO,
 * Ceph, Swift s3api, Oracle, Alibaba), path-style or virtual-hosted.
 *
 * A PUT binds content-type and content-length (and x-amz-checksum-sha256 when a digest is
 * given), so the store refuses other bytes; the client must send exactly those headers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sign/endpoint.h"
#include "sign/s3.h"
#include "sign/sigv4.h"
#include "util/enc.h"
#include "util/timeutil.h"

typedef struct s3_signer {
    signer_t base;
    sign_endpoint_t ep; /* where clients go: public_host (scheme, host) over endpoint */
    const char *bucket; /* NULL for local stores */
    const char *prefix; /* path prefix before the name: "/<bucket>" (path style), "/local/<store>" */
    bool virtual_host;  /* bucket as a subdomain */
    const char *akid, *secret, *region;
    sigv4_key_cache_t cache;
    char *owned; /* the prefix string */
} s3_signer_t;

/* Sets up the common part of s3 and local signers. */
int sign_s3_setup(const store_t *st, const char *default_region, const char *prefix, bool virtual_host, signer_t **out,
                  const signer_vt_t *vt, err_t *e)
{
    s3_signer_t *s = calloc(1, sizeof(*s));
    int rc;
    if (s == NULL)
        return err_set(e, ERR_NOMEM, NULL);
    s->base.vt = vt;
    s->base.store = st;
    if ((rc = sign_endpoint_parse(st->endpoint, &s->ep, e)) != 0)
        goto fail;
    if (!sign_endpoint_path_ok(s->ep.path)) {
        rc = err_set(e, ERR_BAD_REQUEST, "endpoint '%.100s' has a path that is not url-encoded", st->endpoint);
        goto fail;
    }
    if (st->public_host && *st->public_host) {
        sign_endpoint_t pub;
        if ((rc = sign_endpoint_parse(st->public_host, &pub, e)) != 0)
            goto fail;
        memcpy(s->ep.scheme, pub.scheme, sizeof(pub.scheme));
        memcpy(s->ep.host, pub.host, sizeof(pub.host));
        memcpy(s->ep.url_host, pub.url_host, sizeof(pub.url_host));
    }
    s->akid = store_cred(st, "access_key_id");
    s->secret = store_cred(st, "secret_access_key");
    if (s->akid == NULL || s->secret == NULL || !*s->akid || !*s->secret) {
        rc = err_set(e, ERR_BAD_REQUEST, "store '%s' needs access_key_id and secret_access_key", st->id);
        goto fail;
    }
    if (strchr(s->akid, '/') != NULL) {
        rc = err_set(e, ERR_BAD_REQUEST, "access_key_id must not contain '/'");
        goto fail;
    }
    s->region = st->region && *st->region ? st->region : default_region;
    s->virtual_host = virtual_host;
    s->owned = strdup(prefix);
    if (s->owned == NULL) {
        rc = err_set(e, ERR_NOMEM, NULL);
        goto fail;
    }
    s->prefix = s->owned;
    sigv4_key_cache_init(&s->cache);
    *out = &s->base;
    return 0;
fail:
    free(s);
    return rc;
}

void sign_s3_destroy(signer_t *base)
{
    s3_signer_t *s = (s3_signer_t *)base;
    if (s == NULL)
        return;
    sigv4_key_cache_release(&s->cache);
    free(s->owned);
    free(s);
}

/* True if v can be sent as a header value as it is: printable ASCII and blanks. */
static bool header_value_ok(const char *v)
{
    for (; *v; v++)
        if ((unsigned char)*v < 0x20 || (unsigned char)*v > 0x7e)
            return false;
    return true;
}

int sign_s3_presign(signer_t *base, const sign_request_t *rq, sign_result_t *out, arena_t *a, err_t *e)
{
    s3_signer_t *s = (s3_signer_t *)base;
    buf_t uri = BUF_INIT, host = BUF_INIT, url_host = BUF_INIT, query = BUF_INIT, url = BUF_INIT;
    sigv4_kv_t hdrs[3], q[2];
    size_t nh = 0, nq = 0;
    char len[24], date[17], checksum[48], part[16];
    uint8_t key[32];
    int rc = 0;

    rc |= buf_puts(&uri, s->ep.path);
    rc |= buf_puts(&uri, s->prefix);
    rc |= buf_putc(&uri, '/');
    rc |= sigv4_encode_path(&uri, rq->name, strlen(rq->name));
    if (s->virtual_host) {
        rc |= buf_puts(&host, s->base.store->bucket);
        rc |= buf_putc(&host, '.');
        rc |= buf_puts(&url_host, host.base);
        rc |= buf_puts(&url_host, s->ep.url_host);
    }
    rc |= buf_puts(&host, s->ep.host);
    if (!s->virtual_host)
        rc |= buf_puts(&url_host, s->ep.url_host);
    /* the operation's query parameters (they are signed) */
    switch (rq->op) {
    case SIGN_OP_OBJECT:
        if (strcmp(rq->method, "GET") == 0) {
            if (rq->response_content_disposition)
                q[nq++] = (sigv4_kv_t){"response-content-disposition", rq->response_content_disposition};
            if (rq->response_content_type)
                q[nq++] = (sigv4_kv_t){"response-content-type", rq->response_content_type};
        }
        break;
    case SIGN_OP_PART:
        snprintf(part, sizeof(part), "%d", rq->part_number);
        q[nq++] = (sigv4_kv_t){"partNumber", part};
        q[nq++] = (sigv4_kv_t){"uploadId", rq->mp_id ? rq->mp_id : ""};
        break;
    case SIGN_OP_MP_CREATE:
        q[nq++] = (sigv4_kv_t){"uploads", ""};
        break;
    case SIGN_OP_MP_COMPLETE:
    case SIGN_OP_MP_ABORT:
        q[nq++] = (sigv4_kv_t){"uploadId", rq->mp_id ? rq->mp_id : ""};
        break;
    }
    if (rq->op != SIGN_OP_OBJECT && rq->op != SIGN_OP_MP_CREATE && (rq->mp_id == NULL || *rq->mp_id == '\0')) {
        rc = err_set(e, ERR_BAD_REQUEST, "no multipart upload id");
        goto out;
    }
    for (size_t i = 0; i < nq; i++) {
        if (!header_value_ok(q[i].value)) {
            rc = err_set(e, ERR_BAD_REQUEST, "'%s' must be printable ascii", q[i].name);
            goto out;
        }
    }
    /* a PUT (object or part) binds its length, type and checksum; creating a multipart upload its type */
    bool binds = strcmp(rq->method, "PUT") == 0 || rq->op == SIGN_OP_MP_CREATE;
    if (binds) {
        if (rq->content_type && !header_value_ok(rq->content_type)) {
            rc = err_set(e, ERR_BAD_REQUEST, "content type must be printable ascii");
            goto out;
        }
        if (rq->content_length >= 0 && rq->op != SIGN_OP_MP_CREATE) {
            snprintf(len, sizeof(len), "%lld", (long long)rq->content_length);
            hdrs[nh++] = (sigv4_kv_t){"content-length", len};
        }
        if (rq->content_type && rq->op != SIGN_OP_PART)
            hdrs[nh++] = (sigv4_kv_t){"content-type", rq->content_type};
        if (rq->sha256_hex && rq->op == SIGN_OP_OBJECT) {
            uint8_t d[32];
            if (hex_decode(rq->sha256_hex, strlen(rq->sha256_hex), d, 32) != 0) {
                rc = err_set(e, ERR_BAD_REQUEST, "sha256 must be 64 hex digits");
                goto out;
            }
            base64_encode(d, 32, checksum);
            hdrs[nh++] = (sigv4_kv_t){"x-amz-checksum-sha256", checksum};
        }
    }
    if (rc != 0) {
        rc = err_set(e, ERR_BAD_REQUEST, "object name too long to sign");
        goto out;
    }
    sigv4_params_t p = {
        .method = rq->method,
        .host = host.base,
        .canonical_uri = uri.base,
        .query = q,
        .nquery = nq,
        .headers = hdrs,
        .nheaders = nh,
        .access_key = s->akid,
        .region = s->region,
        .service = "s3",
        .now = rq->now,
        .expires = rq->expires,
        .payload_hash = SIGV4_UNSIGNED_PAYLOAD,
    };
    time_fmt_amz(rq->now, date);
    date[8] = '\0';
    sigv4_key_cached(&s->cache, s->secret, date, s->region, "s3", key);
    buf_reserve(&query, 512);
    if ((rc = sigv4_presign(&p, key, &query, NULL)) != 0) {
        rc = err_set(e, ERR_BAD_REQUEST, "cannot sign");
        goto out;
    }
    /* appended piece by piece: printf's %s costs more than the signature's own HMACs here */
    buf_reserve(&url, strlen(s->ep.scheme) + 3 + url_host.len + uri.len + 1 + query.len + 1);
    buf_puts(&url, s->ep.scheme);
    buf_puts(&url, "://");
    buf_append(&url, url_host.base, url_host.len);
    buf_append(&url, uri.base, uri.len);
    buf_putc(&url, '?');
    buf_append(&url, query.base, query.len);
    out->url = arena_strndup(a, url.base, url.len);
    out->nheaders = nh;
    out->headers = arena_alloc(a, (nh ? nh : 1) * sizeof(sign_header_t));
    for (size_t i = 0; i < nh; i++) {
        out->headers[i].name = hdrs[i].name;
        out->headers[i].value = arena_strdup(a, hdrs[i].value);
    }
    out->expires_at = rq->now + rq->expires;
out:
    buf_release(&uri);
    buf_release(&host);
    buf_release(&url_host);
    buf_release(&query);
    buf_release(&url);
    return rc;
}

/* True if a bucket can lead a virtual-hosted host name: up to 63 of a-z, 0-9, '.' and '-',
 * starting and ending with a letter or digit. (AWS names have 3 or more; S3-compatible stores
 * may allow shorter ones. botocore addresses names under 3 characters path-style.) */
static bool dns_label_ok(const char *b)
{
    size_t n = strlen(b);
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool alnum = (b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9');
        if (!alnum && ((b[i] != '.' && b[i] != '-') || i == 0 || i == n - 1))
            return false;
    }
    return true;
}

static int s3_create(const store_t *st, signer_t **out, err_t *e)
{
    if (st->bucket == NULL || *st->bucket == '\0')
        return err_set(e, ERR_BAD_REQUEST, "store '%s' needs a bucket", st->id);
    if (!st->path_style && !dns_label_ok(st->bucket))
        return err_set(e, ERR_BAD_REQUEST, "bucket '%.64s' cannot be part of a host name; use path_style", st->bucket);
    buf_t prefix = BUF_INIT;
    if (st->path_style) {
        buf_putc(&prefix, '/');
        sigv4_encode_path(&prefix, st->bucket, strlen(st->bucket));
    }
    int rc = sign_s3_setup(st, "us-east-1", prefix.base ? prefix.base : "", !st->path_style, out, &sign_s3, e);
    buf_release(&prefix);
    return rc;
}

const signer_vt_t sign_s3 = {
    .provider = "s3",
    /* S3: 5 GiB per PUT; parts of 5 MiB to 5 GiB, at most 10,000 */
    .limits = {.single_put_max = INT64_C(5) << 30, .part_min = INT64_C(5) << 20, .part_max = INT64_C(5) << 30, .parts_max = 10000},
    .create = s3_create,
    .presign = sign_s3_presign,
    .destroy = sign_s3_destroy,
};
