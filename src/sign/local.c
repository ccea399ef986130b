/*
 * local.c - the "local" provider: SigV4 URLs for loci's own local stores, and their
 * verification when the request comes back to loci.
 *
 * URLs are {endpoint}/local/{store}/{name}, signed like S3 path-style URLs (service "s3", the
 * store's region, "local" by default) with credentials loci derives from its master key, so
 * any SigV4 client library produces and checks the same signatures.
 *
 * Verification rebuilds the canonical request from the request exactly as received and
 * accepts only the canonical spelling of the X-Amz-* parameters the signer writes, so one
 * signature matches one URL (up to the percent-encoding of the path, which is canonicalised).
 */
#include <stdio.h>
#include <string.h>

#include "sign/s3.h"
#include "sign/sigv4.h"
#include "util/crypto.h"
#include "util/enc.h"
#include "util/timeutil.h"

/* How far a client's clock may run ahead of loci's. */
#define LOCAL_CLOCK_SKEW 300
/* Query parameters besides the X-Amz-* ones, and signed headers besides host, accepted. */
#define LOCAL_MAX_PARAMS  16
#define LOCAL_MAX_HEADERS 8

static int local_create(const store_t *st, signer_t **out, err_t *e)
{
    char prefix[sizeof(SIGN_LOCAL_PREFIX) + 64];
    *out = NULL;
    if (st->id == NULL || !store_id_valid(st->id))
        return err_set(e, ERR_BAD_REQUEST, "bad store id '%.64s'", st->id ? st->id : "");
    /* the prefix is the path before '/name': "/local/<store>" */
    snprintf(prefix, sizeof(prefix), "%s%s", SIGN_LOCAL_PREFIX, st->id);
    return sign_s3_setup(st, "local", prefix, false, out, &sign_local, e);
}

const signer_vt_t sign_local = {
    .provider = "local",
    /* loci buffers a local PUT whole (libh2o 2.2): no multipart; the size is local_max_object_size */
    .limits = {.single_put_max = INT64_MAX, .part_min = 0, .part_max = 0, .parts_max = 0},
    .create = local_create,
    .presign = sign_s3_presign,
    .destroy = sign_s3_destroy,
};

/* The parameters of a presigned request's query, decoded (arena strings). */
typedef struct parsed_query {
    char *algorithm, *credential, *date, *expires, *signed_headers, *signature;
    sigv4_kv_t other[LOCAL_MAX_PARAMS];
    size_t nother;
} parsed_query_t;

/* Percent-decodes s[0..n) into the arena; NULL if malformed or if it decodes to a NUL byte. */
static char *decode(const char *s, size_t n, arena_t *a)
{
    char *out = arena_alloc(a, n + 1);
    size_t len;
    if (pct_decode(s, n, out, &len, false) != 0 || memchr(out, '\0', len) != NULL)
        return NULL;
    return out;
}

/* Splits the raw query into the six X-Amz-* authentication parameters (each exactly once)
 * and the others, which the canonical query includes as they are. */
static int parse_query(slice_t q, parsed_query_t *pq, arena_t *a, err_t *e)
{
    static const char *const AUTH[] = {"X-Amz-Algorithm",     "X-Amz-Credential", "X-Amz-Date",
                                       "X-Amz-SignedHeaders", "X-Amz-Expires",    "X-Amz-Signature"};
    char **slots[] = {&pq->algorithm, &pq->credential, &pq->date, &pq->signed_headers, &pq->expires, &pq->signature};
    memset(pq, 0, sizeof(*pq));
    for (size_t i = 0; i < q.len;) {
        const char *amp = memchr(q.base + i, '&', q.len - i);
        size_t end = amp ? (size_t)(amp - q.base) : q.len;
        if (end > i) {
            const char *eq = memchr(q.base + i, '=', end - i);
            size_t nl = eq ? (size_t)(eq - (q.base + i)) : end - i;
            char *name = decode(q.base + i, nl, a);
            char *value = eq ? decode(eq + 1, (size_t)(q.base + end - eq - 1), a) : arena_strdup(a, "");
            if (name == NULL || value == NULL)
                return err_set(e, ERR_FORBIDDEN, "malformed query string");
            size_t k = 0;
            while (k < sizeof(AUTH) / sizeof(AUTH[0]) && strcmp(name, AUTH[k]) != 0)
                k++;
            if (k < sizeof(AUTH) / sizeof(AUTH[0])) {
                if (*slots[k] != NULL)
                    return err_set(e, ERR_FORBIDDEN, "duplicate query parameter '%s'", name);
                *slots[k] = value;
            } else {
                if (pq->nother == LOCAL_MAX_PARAMS)
                    return err_set(e, ERR_FORBIDDEN, "too many query parameters");
                pq->other[pq->nother++] = (sigv4_kv_t){name, value};
            }
        }
        i = end + 1;
    }
    for (size_t k = 0; k < sizeof(AUTH) / sizeof(AUTH[0]); k++)
        if (*slots[k] == NULL)
            return err_set(e, ERR_FORBIDDEN, "missing query parameter '%s'", AUTH[k]);
    return 0;
}

/* Parses "YYYYMMDDTHHMMSSZ"; only the spelling time_fmt_amz writes is accepted. */
static int parse_amz_date(const char *s, int64_t *out)
{
    char iso[21], again[17];
    if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return -1;
    snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", s, s + 4, s + 6, s + 9, s + 11, s + 13);
    if (time_parse_iso8601(iso, 20, out) != 0)
        return -1;
    time_fmt_amz(*out, again);
    return strcmp(again, s) == 0 ? 0 : -1;
}

/* Parses a decimal number of 1-18 digits without sign or leading zero (the form the signer
 * writes for X-Amz-Expires and content-length alike). Returns 0 or -1. */
static int parse_decimal(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;
    if (n == 0 || n > 18 || (s[0] == '0' && n > 1))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Checks "<akid>/<yyyymmdd>/<region>/s3/aws4_request" against the store and the X-Amz-Date. */
static int check_credential(char *cred, const char *akid, const char *region, const char *date, err_t *e)
{
    char *parts[5];
    size_t np = 0;
    for (char *p = cred; p != NULL && np < 5;) {
        char *slash = strchr(p, '/');
        parts[np++] = p;
        if (slash)
            *slash = '\0';
        p = slash ? slash + 1 : NULL;
        if (np == 5 && slash != NULL)
            return err_set(e, ERR_FORBIDDEN, "malformed credential");
    }
    if (np != 5 || strcmp(parts[3], "s3") != 0 || strcmp(parts[4], "aws4_request") != 0 || strlen(parts[1]) != 8)
        return err_set(e, ERR_FORBIDDEN, "malformed credential");
    if (strcmp(parts[0], akid) != 0)
        return err_set(e, ERR_FORBIDDEN, "credential is not this store's key");
    if (strcmp(parts[2], region) != 0)
        return err_set(e, ERR_FORBIDDEN, "credential is for region '%.32s', not '%.32s'", parts[2], region);
    if (strncmp(parts[1], date, 8) != 0)
        return err_set(e, ERR_FORBIDDEN, "credential date does not match x-amz-date");
    return 0;
}

/* True if s is a header name the signer can have written: lowercase letters, digits, '-'. */
static bool header_name_ok(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return false;
    return true;
}

/* Collects the values of the signed headers (X-Amz-SignedHeaders, sorted, no repeats, host
 * included) from the request. host comes from rq->host; the others through the callback. */
static int collect_headers(const sign_verify_request_t *rq, const char *list, sigv4_kv_t *hdrs, size_t *nh, bool *has_host,
                           arena_t *a, err_t *e)
{
    char *names = arena_strdup(a, list), *prev = NULL;
    *nh = 0;
    *has_host = false;
    for (char *p = names; p != NULL;) {
        char *semi = strchr(p, ';');
        if (semi)
            *semi = '\0';
        if (!header_name_ok(p) || (prev && strcmp(prev, p) >= 0))
            return err_set(e, ERR_FORBIDDEN, "malformed signed headers");
        prev = p;
        if (strcmp(p, "host") == 0) {
            *has_host = true;
        } else {
            if (*nh == LOCAL_MAX_HEADERS)
                return err_set(e, ERR_FORBIDDEN, "too many signed headers");
            slice_t v = rq->header(rq->header_ctx, p);
            if (v.base == NULL)
                return err_set(e, ERR_FORBIDDEN, "signed header '%s' missing from the request", p);
            hdrs[(*nh)++] = (sigv4_kv_t){p, arena_slice_dup(a, v)};
        }
        p = semi ? semi + 1 : NULL;
    }
    return 0;
}

/* The value of a signed header among hdrs, or NULL. */
static const char *find_header(const sigv4_kv_t *hdrs, size_t nh, const char *name)
{
    for (size_t i = 0; i < nh; i++)
        if (strcmp(hdrs[i].name, name) == 0)
            return hdrs[i].value;
    return NULL;
}

/* The signed content-length as a number: the header value without surrounding blanks. */
static int signed_length(const char *v, int64_t *out)
{
    size_t n;
    while (*v == ' ' || *v == '\t')
        v++;
    n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    return parse_decimal(v, n, out);
}

int sign_local_verify(const store_t *st, const sign_verify_request_t *rq, int64_t *content_length, err_t *e)
{
    arena_t a;
    parsed_query_t pq;
    buf_t uri = BUF_INIT, query = BUF_INIT;
    sigv4_kv_t hdrs[LOCAL_MAX_HEADERS];
    size_t nh = 0;
    bool has_host, is_put = slice_eq_cstr(rq->method, "PUT");
    int64_t t, expires, len = -1;
    uint8_t key[32];
    char sig[65], date8[9];
    const char *akid = store_cred(st, "access_key_id"), *secret = store_cred(st, "secret_access_key");
    const char *region = st->region && *st->region ? st->region : "local";
    const char *path;
    int rc;

    *content_length = -1;
    arena_init(&a);
    if (akid == NULL || secret == NULL || *akid == '\0' || *secret == '\0') {
        rc = err_set(e, ERR_FORBIDDEN, "store '%s' has no signing key", st->id);
        goto out;
    }
    if ((rc = parse_query(rq->query, &pq, &a, e)) != 0)
        goto out;
    if (strcmp(pq.algorithm, SIGV4_ALGORITHM) != 0) {
        rc = err_set(e, ERR_FORBIDDEN, "unsupported signature algorithm");
        goto out;
    }
    if (parse_amz_date(pq.date, &t) != 0) {
        rc = err_set(e, ERR_FORBIDDEN, "malformed x-amz-date");
        goto out;
    }
    if ((rc = check_credential(pq.credential, akid, region, pq.date, e)) != 0)
        goto out;
    if (parse_decimal(pq.expires, strlen(pq.expires), &expires) != 0 || expires < 1 || expires > SIGN_MAX_EXPIRES) {
        rc = err_set(e, ERR_FORBIDDEN, "malformed x-amz-expires");
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
    if ((rc = collect_headers(rq, pq.signed_headers, hdrs, &nh, &has_host, &a, e)) != 0)
        goto out;
    if (!has_host) {
        rc = err_set(e, ERR_FORBIDDEN, "the signature must cover host");
        goto out;
    }
    if (is_put) {
        const char *cl = find_header(hdrs, nh, "content-length");
        if (cl == NULL || find_header(hdrs, nh, "content-type") == NULL) {
            rc = err_set(e, ERR_FORBIDDEN, "a put signature must cover content-length and content-type");
            goto out;
        }
        if (signed_length(cl, &len) != 0) {
            rc = err_set(e, ERR_FORBIDDEN, "malformed content-length");
            goto out;
        }
    }

    /* the canonical URI: the path as received, decoded and encoded again the canonical way */
    if ((path = decode(rq->path.base, rq->path.len, &a)) == NULL) {
        rc = err_set(e, ERR_FORBIDDEN, "malformed path");
        goto out;
    }
    if (sigv4_encode_path(&uri, path, strlen(path)) != 0) {
        rc = err_set(e, ERR_FORBIDDEN, "path too long");
        goto out;
    }
    sigv4_params_t p = {
        .method = arena_slice_dup(&a, rq->method),
        .host = arena_slice_dup(&a, rq->host),
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
    snprintf(date8, sizeof(date8), "%.8s", pq.date);
    sigv4_derive_key(secret, date8, region, "s3", key);
    rc = sigv4_presign(&p, key, &query, sig);
    memset(key, 0, sizeof(key));
    if (rc != 0) {
        rc = err_set(e, ERR_FORBIDDEN, "request too large to verify");
        goto out;
    }
    if (strlen(pq.signature) != 64 || !crypto_equal(sig, pq.signature, 64)) {
        rc = err_set(e, ERR_FORBIDDEN, "signature does not match");
        goto out;
    }
    *content_length = is_put ? len : -1;
    rc = 0;
out:
    buf_release(&uri);
    buf_release(&query);
    arena_release(&a);
    return rc;
}
