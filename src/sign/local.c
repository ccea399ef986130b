/*
 * local.c - the "local" provider: SigV4 URLs for loci's own local stores, and their
 * verification when the request comes back to loci.
 *
 * URLs are {public_url}/local/{store}/{name}, signed with service "s3", the store's region
 * ("local" by default) and credentials loci derives from its master key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sign/endpoint.h"
#include "sign/s3.h"
#include "sign/sigv4.h"
#include "util/crypto.h"
#include "util/enc.h"
#include "util/timeutil.h"

#define LOCAL_CLOCK_SKEW 300

static int local_create(const store_t *st, signer_t **out, err_t *e)
{
    char prefix[128];
    snprintf(prefix, sizeof(prefix), "/local/%s", st->id);
    if (strchr(st->id, '/') != NULL)
        return err_set(e, ERR_BAD_REQUEST, "bad store id");
    return sign_s3_setup(st, "local", prefix, false, out, &sign_local, e);
}

const signer_vt_t sign_local = {
    .provider = "local",
    .create = local_create,
    .presign = sign_s3_presign,
    .destroy = sign_s3_destroy,
};

/* The parameters of a presigned request's query. */
typedef struct parsed_query {
    char *algorithm, *credential, *date, *expires, *signed_headers, *signature;
    sigv4_kv_t other[16];
    size_t nother;
} parsed_query_t;

static char *decode(const char *s, size_t n, arena_t *a)
{
    char *out = arena_alloc(a, n + 1);
    size_t len;
    if (pct_decode(s, n, out, &len, false) != 0 || strlen(out) != len)
        return NULL;
    return out;
}

static int parse_query(slice_t q, parsed_query_t *pq, arena_t *a, err_t *e)
{
    memset(pq, 0, sizeof(*pq));
    size_t i = 0;
    while (i < q.len) {
        const char *amp = memchr(q.base + i, '&', q.len - i);
        size_t end = amp ? (size_t)(amp - q.base) : q.len;
        if (end > i) {
            const char *eq = memchr(q.base + i, '=', end - i);
            size_t nl = eq ? (size_t)(eq - (q.base + i)) : end - i;
            char *name = decode(q.base + i, nl, a);
            char *value = eq ? decode(eq + 1, (size_t)(q.base + end - eq - 1), a) : arena_strdup(a, "");
            if (name == NULL || value == NULL)
                return err_set(e, ERR_FORBIDDEN, "malformed query string");
            char **slot = NULL;
            if (strcmp(name, "X-Amz-Algorithm") == 0)
                slot = &pq->algorithm;
            else if (strcmp(name, "X-Amz-Credential") == 0)
                slot = &pq->credential;
            else if (strcmp(name, "X-Amz-Date") == 0)
                slot = &pq->date;
            else if (strcmp(name, "X-Amz-Expires") == 0)
                slot = &pq->expires;
            else if (strcmp(name, "X-Amz-SignedHeaders") == 0)
                slot = &pq->signed_headers;
            else if (strcmp(name, "X-Amz-Signature") == 0)
                slot = &pq->signature;
            if (slot) {
                if (*slot)
                    return err_set(e, ERR_FORBIDDEN, "duplicate query parameter '%s'", name);
                *slot = value;
            } else {
                if (pq->nother == sizeof(pq->other) / sizeof(pq->other[0]))
                    return err_set(e, ERR_FORBIDDEN, "too many query parameters");
                pq->other[pq->nother++] = (sigv4_kv_t){name, value};
            }
        }
        i = end + 1;
    }
    if (!pq->algorithm || !pq->credential || !pq->date || !pq->expires || !pq->signed_headers || !pq->signature)
        return err_set(e, ERR_FORBIDDEN, "missing signature parameters");
    return 0;
}

/* Parses "YYYYMMDDTHHMMSSZ". */
static int parse_amz_date(const char *s, int64_t *out)
{
    if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return -1;
    char iso[21];
    snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", s, s + 4, s + 6, s + 9, s + 11, s + 13);
    return time_parse_iso8601(iso, 20, out);
}

int sign_local_verify(const store_t *st, const sign_verify_request_t *rq, int64_t *content_length, err_t *e)
{
    arena_t a;
    parsed_query_t pq;
    buf_t uri = BUF_INIT, query = BUF_INIT;
    int rc;
    const char *akid = store_cred(st, "access_key_id"), *secret = store_cred(st, "secret_access_key");
    const char *region = st->region && *st->region ? st->region : "local";
    sign_endpoint_t ep;

    *content_length = -1;
    arena_init(&a);
    if (akid == NULL || secret == NULL) {
        rc = err_set(e, ERR_FORBIDDEN, "store has no signing key");
        goto out;
    }
    if ((rc = parse_query(rq->query, &pq, &a, e)) != 0)
        goto out;
    if (strcmp(pq.algorithm, SIGV4_ALGORITHM) != 0) {
        rc = err_set(e, ERR_FORBIDDEN, "unsupported signature algorithm");
        goto out;
    }
    /* credential: akid/date/region/service/aws4_request */
    char *parts[5];
    size_t np = 0;
    for (char *p = pq.credential; np < 5;) {
        parts[np++] = p;
        char *slash = strchr(p, '/');
        if (slash == NULL)
            break;
        *slash = '\0';
        p = slash + 1;
    }
    int64_t t, expires;
    char *end;
    if (np != 5 || strcmp(parts[4], "aws4_request") != 0 || strcmp(parts[3], "s3") != 0) {
        rc = err_set(e, ERR_FORBIDDEN, "malformed credential");
        goto out;
    }
    if (strcmp(parts[0], akid) != 0 || strcmp(parts[2], region) != 0) {
        rc = err_set(e, ERR_FORBIDDEN, "credential does not belong to this store");
        goto out;
    }
    if (parse_amz_date(pq.date, &t) != 0 || strncmp(parts[1], pq.date, 8) != 0 || strlen(parts[1]) != 8) {
        rc = err_set(e, ERR_FORBIDDEN, "malformed date");
        goto out;
    }
    expires = strtoll(pq.expires, &end, 10);
    if (*pq.expires == '\0' || *end != '\0' || expires < 1 || expires > SIGN_MAX_EXPIRES) {
        rc = err_set(e, ERR_FORBIDDEN, "malformed expiry");
        goto out;
    }
    if (rq->now < t - LOCAL_CLOCK_SKEW) {
        rc = err_set(e, ERR_FORBIDDEN, "url not yet valid");
        goto out;
    }
    if (rq->now > t + expires) {
        rc = err_set(e, ERR_FORBIDDEN, "url expired");
        goto out;
    }

    /* the signed headers, taken from the request */
    sigv4_kv_t hdrs[16];
    size_t nh = 0;
    bool has_host = false, has_len = false, has_type = false;
    char *names = arena_strdup(&a, pq.signed_headers);
    for (char *p = names; p && *p;) {
        char *semi = strchr(p, ';');
        if (semi)
            *semi = '\0';
        if (strcmp(p, "host") == 0) {
            has_host = true;
        } else {
            if (nh == sizeof(hdrs) / sizeof(hdrs[0])) {
                rc = err_set(e, ERR_FORBIDDEN, "too many signed headers");
                goto out;
            }
            slice_t v = rq->header(rq->header_ctx, p);
            if (v.base == NULL) {
                rc = err_set(e, ERR_FORBIDDEN, "signed header '%.40s' missing from the request", p);
                goto out;
            }
            hdrs[nh++] = (sigv4_kv_t){p, arena_slice_dup(&a, v)};
            has_len |= strcmp(p, "content-length") == 0;
            has_type |= strcmp(p, "content-type") == 0;
            if (strcmp(p, "content-length") == 0) {
                *content_length = strtoll(hdrs[nh - 1].value, &end, 10);
                if (*hdrs[nh - 1].value == '\0' || *end != '\0' || *content_length < 0) {
                    rc = err_set(e, ERR_FORBIDDEN, "malformed content-length");
                    goto out;
                }
            }
        }
        p = semi ? semi + 1 : NULL;
    }
    bool is_put = slice_eq_cstr(rq->method, "PUT");
    if (!has_host || (is_put && (!has_len || !has_type))) {
        rc = err_set(e, ERR_FORBIDDEN, "the signature must cover host%s", is_put ? ", content-length and content-type" : "");
        goto out;
    }
    if (!is_put)
        *content_length = -1;

    /* the canonical URI: the path as received, decoded and encoded again the canonical way */
    char *path = decode(rq->path.base, rq->path.len, &a);
    if (path == NULL) {
        rc = err_set(e, ERR_FORBIDDEN, "malformed path");
        goto out;
    }
    if ((rc = sign_endpoint_parse(st->endpoint, &ep, e)) != 0) {
        rc = err_set(e, ERR_FORBIDDEN, "store endpoint unusable");
        goto out;
    }
    sigv4_encode_path(&uri, path, strlen(path));
    char *method = arena_slice_dup(&a, rq->method);
    char *host = arena_slice_dup(&a, rq->host);
    sigv4_params_t p = {
        .method = method,
        .host = host,
        .canonical_uri = uri.base,
        .query = pq.other,
        .nquery = pq.nother,
        .headers = hdrs,
        .nheaders = nh,
        .access_key = akid,
        .region = region,
        .service = "s3",
        .now = t,
        .expires = expires,
        .payload_hash = SIGV4_UNSIGNED_PAYLOAD,
    };
    uint8_t key[32];
    char sig[65];
    sigv4_derive_key(secret, parts[1], region, "s3", key);
    if ((rc = sigv4_presign(&p, key, &query, sig)) != 0) {
        rc = err_set(e, ERR_FORBIDDEN, "cannot verify");
        goto out;
    }
    if (strlen(pq.signature) != 64 || !crypto_equal(sig, pq.signature, 64)) {
        rc = err_set(e, ERR_FORBIDDEN, "signature does not match");
        goto out;
    }
    rc = 0;
out:
    buf_release(&uri);
    buf_release(&query);
    arena_release(&a);
    return rc;
}
