/*
 * swift.c - the "swift" provider: OpenStack Swift TempURLs (tempurl middleware, HMAC-SHA256).
 *
 * Store fields: endpoint = the account URL, "scheme://host[:port][/prefix]/v1/<account>";
 * bucket = the container; credentials "temp_url_key" (the account's or the container's
 * X-*-Meta-Temp-URL-Key); optional public_host = "scheme://host[:port]" clients use instead of
 * the endpoint's (the endpoint's path stays).
 *
 * URL: {scheme}://{host}{endpoint path}/{container}/{object}?temp_url_sig=S&temp_url_expires=T
 * with container and object percent-encoded (RFC 3986 unreserved characters stay, and '/' in
 * the object), T = now + expires, S = hex HMAC-SHA256(key, "METHOD\nT\nPATH").
 *
 * PATH, the canonical path: "/v1/<account>/<container>/<object>", every part percent-DECODED,
 * i.e. the raw bytes of the names, UTF-8. The tempurl middleware (Swift 2.30) signs the request
 * path as eventlet decoded it once (urllib.parse.unquote of the raw path: every %XX, '+' stays
 * '+', no other normalisation: "//", "." and ".." segments are kept), split by split_path into
 * v1/account/container/object and re-joined, then UTF-8 encoded. So the URL must be an exact
 * percent-encoding of PATH: a literal '%' in a name is signed as '%' and sent as "%25". A path
 * prefix before "/v1/" (a reverse proxy's, or Ceph RGW's "/swift") is in the URL but not signed:
 * TempURL paths are "from /v1/ onward" (Swift's docs, RGW); Swift's own `path_prefix` option,
 * which signs such a prefix, is not supported. Names must be valid UTF-8 (Swift fails on others)
 * and more than slashes (tempurl ignores a path whose object part is only '/').
 *
 * What a TempURL can and cannot bind (why a PUT's headers are only advice):
 *  - signed: the method, the expiry and PATH; nothing else. A HEAD is also accepted with a GET
 *    or PUT signature (tempurl tries HEAD, GET, POST, PUT), so a GET URL allows HEAD.
 *  - PUT: no header is bound. The result's headers carry content-type and content-length when
 *    given, as advice the client should follow; Swift stores the Content-Type sent (or guesses
 *    one) and stores exactly Content-Length bytes, and would check an ETag (MD5) header against
 *    the body (422 on mismatch) if the client sent one, but loci knows only a SHA-256, so nothing
 *    here binds the bytes: loci's complete checks the size with a signed HEAD. A client may
 *    also add X-Object-Meta-*, X-Delete-At/-After or Content-Disposition; tempurl refuses only
 *    X-Object-Manifest, X-Symlink-Target and X-Copy-From (400).
 *  - GET overrides: tempurl's `filename=` and `inline` query parameters (not signed: a holder
 *    of the URL may change them). response_content_disposition is parsed (RFC 6266: type
 *    "attachment" or "inline", filename or filename* in UTF-8/ISO-8859-1) onto them; other
 *    parameters are dropped, and "attachment" without a filename leaves Swift's default (the
 *    object's stored disposition, else attachment with the object name's last segment).
 *    A content type override cannot be expressed at all and is refused (ERR_BAD_REQUEST)
 *    rather than silently serving the stored type.
 *  - multipart: none. tempurl replaces the query string by its own parameters, so
 *    "multipart-manifest=put" never reaches the SLO middleware (the manifest is stored as a
 *    plain object), and DLO's X-Object-Manifest is refused; loci holds no other Swift
 *    credential to assemble parts. One PUT carries up to Swift's default max_file_size.
 *
 * The signer copies the key and is immutable after creation: signing is thread-safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sign/endpoint.h"
#include "sign/providers.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/enc.h"

/* Swift's limit on container names (constraints.MAX_CONTAINER_NAME_LENGTH). */
#define SWIFT_CONTAINER_MAX 256

typedef struct swift_signer {
    signer_t base;
    char *url_base;    /* "scheme://host[:port]<endpoint path>/<encoded container>" */
    char *signed_base; /* "/v1/<account>/<container>", decoded */
    char *key;         /* temp_url_key, a copy (wiped on destroy) */
    size_t keylen;
} swift_signer_t;

/* --- Content-Disposition (RFC 6266) -------------------------------------------------------- */

typedef struct swift_disposition {
    bool is_inline;
    const char *filename; /* arena; NULL for none */
} swift_disposition_t;

static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Reads a token at *p into a slice; returns false if there is none. */
static bool read_token(const char **p, slice_t *out)
{
    const char *s = *p;
    while (is_tchar(**p))
        (*p)++;
    *out = slice_make(s, (size_t)(*p - s));
    return out->len > 0;
}

/* Reads a quoted-string at *p (after the opening quote) into b, unescaping quoted-pairs. */
static bool read_quoted(const char **p, buf_t *b)
{
    for (const char *s = *p; *s; s++) {
        if (*s == '"') {
            *p = s + 1;
            return true;
        }
        if (*s == '\\' && s[1] != '\0')
            s++;
        if ((unsigned char)*s < 0x20 && *s != '\t')
            return false;
        buf_putc(b, *s);
    }
    return false;
}

static bool slice_ieq(slice_t s, const char *lit)
{
    return s.len == strlen(lit) && strncasecmp(s.base, lit, s.len) == 0;
}

/* Decodes an RFC 8187 ext-value "charset'lang'pct-chars" (UTF-8 or ISO-8859-1) as UTF-8 into b. */
static bool decode_ext_value(slice_t v, buf_t *b)
{
    const char *q1 = memchr(v.base, '\'', v.len);
    const char *q2 = q1 ? memchr(q1 + 1, '\'', v.len - (size_t)(q1 + 1 - v.base)) : NULL;
    if (q2 == NULL)
        return false;
    slice_t charset = slice_make(v.base, (size_t)(q1 - v.base));
    const char *val = q2 + 1;
    size_t n = v.len - (size_t)(val - v.base);
    char *raw = malloc(n + 1);
    size_t rawlen;
    bool ok = raw != NULL && pct_decode(val, n, raw, &rawlen, false) == 0;
    if (ok && slice_ieq(charset, "utf-8")) {
        buf_append(b, raw, rawlen);
    } else if (ok && slice_ieq(charset, "iso-8859-1")) {
        for (size_t i = 0; i < rawlen; i++) {
            unsigned char c = (unsigned char)raw[i];
            if (c < 0x80) {
                buf_putc(b, (char)c);
            } else {
                buf_putc(b, (char)(0xc0 | (c >> 6)));
                buf_putc(b, (char)(0x80 | (c & 0x3f)));
            }
        }
    } else {
        ok = false;
    }
    free(raw);
    return ok;
}

/* Parses a Content-Disposition value into what tempurl can express. Returns 0 or
 * ERR_BAD_REQUEST (malformed, another type than attachment/inline, or an unusable filename). */
static int parse_disposition(const char *v, swift_disposition_t *out, arena_t *a, err_t *e)
{
    buf_t plain = BUF_INIT, ext = BUF_INIT;
    bool have_plain = false, have_ext = false;
    const char *p = skip_ows(v);
    slice_t type, name;
    int rc = 0;

    out->is_inline = false;
    out->filename = NULL;
    if (!read_token(&p, &type) || !(slice_ieq(type, "attachment") || slice_ieq(type, "inline"))) {
        rc = err_set(e, ERR_BAD_REQUEST, "swift can only serve 'attachment' or 'inline' content dispositions");
        goto out;
    }
    out->is_inline = slice_ieq(type, "inline");
    for (;;) {
        p = skip_ows(p);
        if (*p == '\0')
            break;
        if (*p != ';')
            goto malformed;
        p = skip_ows(p + 1);
        if (*p == '\0')
            break; /* a trailing ';' */
        if (!read_token(&p, &name))
            goto malformed;
        p = skip_ows(p);
        if (*p != '=')
            goto malformed;
        p = skip_ows(p + 1);
        bool is_plain = slice_ieq(name, "filename"), is_ext = slice_ieq(name, "filename*");
        buf_t scratch = BUF_INIT, *dst = is_plain ? &plain : &scratch;
        if (is_plain)
            buf_reset(&plain);
        if (*p == '"') {
            p++;
            bool ok = !is_ext && read_quoted(&p, dst);
            buf_release(&scratch);
            if (!ok)
                goto malformed;
        } else {
            slice_t value;
            if (!read_token(&p, &value))
                goto malformed;
            if (is_plain)
                buf_append(&plain, value.base, value.len);
            if (is_ext) {
                buf_reset(&ext);
                if (!decode_ext_value(value, &ext)) {
                    rc = err_set(e, ERR_BAD_REQUEST, "content disposition filename* must be UTF-8 or ISO-8859-1");
                    goto out;
                }
            }
        }
        have_plain |= is_plain;
        have_ext |= is_ext;
    }
    /* RFC 6266 4.3: filename* wins over filename */
    buf_t *fn = have_ext ? &ext : have_plain ? &plain : NULL;
    if (fn != NULL) {
        slice_t s = buf_slice(fn);
        bool ok = s.len > 0 && utf8_valid(s.base, s.len);
        for (size_t i = 0; ok && i < s.len; i++)
            ok = (unsigned char)s.base[i] >= 0x20 && s.base[i] != 0x7f;
        if (!ok) {
            rc = err_set(e, ERR_BAD_REQUEST, "content disposition filename must be non-empty UTF-8 without control characters");
            goto out;
        }
        out->filename = arena_strndup(a, s.base, s.len);
    }
    goto out;
malformed:
    rc = err_set(e, ERR_BAD_REQUEST, "malformed content disposition '%.100s'", v);
out:
    buf_release(&plain);
    buf_release(&ext);
    return rc;
}

/* --- signer -------------------------------------------------------------------------------- */

/* True if the object part of a path is more than slashes (tempurl ignores it otherwise). */
static bool has_object_name(const char *name)
{
    return name[strspn(name, "/")] != '\0';
}

/* Finds the account in an endpoint path ".../v1/<account>": sets *acct to the (still encoded)
 * account segment. Returns false if the path does not end that way. */
static bool find_account(const char *path, slice_t *acct)
{
    const char *last = strrchr(path, '/');
    if (last == NULL || last[1] == '\0' || last - path < 3 || strncmp(last - 3, "/v1", 3) != 0)
        return false;
    *acct = slice_cstr(last + 1);
    return true;
}

static void swift_destroy(signer_t *base)
{
    swift_signer_t *s = (swift_signer_t *)base;
    if (s == NULL)
        return;
    if (s->key)
        explicit_bzero(s->key, s->keylen);
    free(s->key);
    free(s->url_base);
    free(s->signed_base);
    free(s);
}

/* Checks the store and precomputes the URL and signed-path prefixes. */
static int swift_create(const store_t *st, signer_t **out, err_t *e)
{
    sign_endpoint_t ep, pub;
    buf_t url = BUF_INIT, signed_path = BUF_INIT;
    swift_signer_t *s = NULL;
    slice_t acct;
    char account[sizeof(ep.path)];
    size_t account_len;
    int rc;

    *out = NULL;
    if ((rc = sign_endpoint_parse(st->endpoint, &ep, e)) != 0)
        goto out;
    if (!sign_endpoint_path_ok(ep.path) || !find_account(ep.path, &acct) ||
        pct_decode(acct.base, acct.len, account, &account_len, false) != 0 || account_len == 0 ||
        memchr(account, '/', account_len) || !utf8_valid(account, account_len)) {
        rc = err_set(e, ERR_BAD_REQUEST, "swift endpoint '%.100s' must be the account URL, ending in /v1/<account>",
                     st->endpoint ? st->endpoint : "");
        goto out;
    }
    const char *bucket = st->bucket ? st->bucket : "";
    size_t blen = strlen(bucket);
    if (blen == 0 || blen > SWIFT_CONTAINER_MAX || strchr(bucket, '/') || !utf8_valid(bucket, blen)) {
        rc = err_set(e, ERR_BAD_REQUEST, "store '%s' needs a container (bucket): 1-%d bytes of UTF-8 without '/'", st->id,
                     SWIFT_CONTAINER_MAX);
        goto out;
    }
    const char *key = store_cred(st, "temp_url_key");
    if (key == NULL || *key == '\0') {
        rc = err_set(e, ERR_BAD_REQUEST, "store '%s' needs the credential temp_url_key", st->id);
        goto out;
    }
    if (st->public_host && *st->public_host) {
        if ((rc = sign_endpoint_parse(st->public_host, &pub, e)) != 0)
            goto out;
        if (pub.path[0] != '\0') {
            rc = err_set(e, ERR_BAD_REQUEST, "public_host '%.100s' must be scheme://host[:port], without a path", st->public_host);
            goto out;
        }
        memcpy(ep.scheme, pub.scheme, sizeof(ep.scheme));
        memcpy(ep.url_host, pub.url_host, sizeof(ep.url_host));
    }
    buf_printf(&url, "%s://%s%s/", ep.scheme, ep.url_host, ep.path);
    pct_encode(&url, bucket, blen, false);
    buf_puts(&signed_path, "/v1/");
    buf_append(&signed_path, account, account_len);
    buf_putc(&signed_path, '/');
    buf_append(&signed_path, bucket, blen);

    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        rc = err_set(e, ERR_NOMEM, NULL);
        goto out;
    }
    s->base.vt = &sign_swift;
    s->base.store = st;
    s->keylen = strlen(key);
    s->key = strdup(key);
    s->url_base = buf_detach(&url, NULL);
    s->signed_base = buf_detach(&signed_path, NULL);
    if (s->key == NULL) {
        swift_destroy(&s->base);
        rc = err_set(e, ERR_NOMEM, NULL);
        goto out;
    }
    *out = &s->base;
out:
    buf_release(&url);
    buf_release(&signed_path);
    return rc;
}

/* Signs one object request: the URL, and for a PUT the headers the client should send. */
static int swift_presign(signer_t *base, const sign_request_t *rq, sign_result_t *out, arena_t *a, err_t *e)
{
    swift_signer_t *s = (swift_signer_t *)base;
    buf_t body = BUF_INIT, url = BUF_INIT;
    swift_disposition_t disp = {false, NULL};
    uint8_t mac[SHA256_LEN];
    char sig[2 * SHA256_LEN + 1];
    sign_header_t hdrs[2];
    size_t nh = 0;
    int rc = 0;

    if (rq->op != SIGN_OP_OBJECT) {
        rc = err_set(e, ERR_BAD_REQUEST, "swift tempurls cannot do multipart uploads");
        goto out;
    }
    size_t nlen = strlen(rq->name);
    if (!utf8_valid(rq->name, nlen) || !has_object_name(rq->name)) {
        rc = err_set(e, ERR_BAD_REQUEST, "a swift object name must be UTF-8 and more than '/'");
        goto out;
    }
    bool is_get = strcmp(rq->method, "GET") == 0, is_put = strcmp(rq->method, "PUT") == 0;
    if (is_get && rq->response_content_type) {
        rc = err_set(e, ERR_BAD_REQUEST, "swift tempurls cannot override the content type");
        goto out;
    }
    if (is_get && rq->response_content_disposition && (rc = parse_disposition(rq->response_content_disposition, &disp, a, e)) != 0)
        goto out;
    if (is_put && rq->content_type) {
        for (const char *c = rq->content_type; *c; c++) {
            if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e) {
                rc = err_set(e, ERR_BAD_REQUEST, "content type must be printable ascii");
                goto out;
            }
        }
        hdrs[nh++] = (sign_header_t){"content-type", arena_strdup(a, rq->content_type)};
    }
    if (is_put && rq->content_length >= 0)
        hdrs[nh++] = (sign_header_t){"content-length", arena_printf(a, "%lld", (long long)rq->content_length)};

    int64_t expires_at = rq->now + rq->expires;
    buf_printf(&body, "%s\n%lld\n%s/", rq->method, (long long)expires_at, s->signed_base);
    buf_append(&body, rq->name, nlen);
    hmac_sha256(s->key, s->keylen, body.base, body.len, mac);
    hex_encode(mac, SHA256_LEN, sig);

    buf_puts(&url, s->url_base);
    buf_putc(&url, '/');
    pct_encode(&url, rq->name, nlen, true);
    buf_printf(&url, "?temp_url_sig=%s&temp_url_expires=%lld", sig, (long long)expires_at);
    if (disp.is_inline)
        buf_puts(&url, "&inline");
    if (disp.filename) {
        buf_puts(&url, "&filename=");
        pct_encode(&url, disp.filename, strlen(disp.filename), false);
    }
    out->url = arena_strndup(a, url.base, url.len);
    out->headers = arena_alloc(a, sizeof(hdrs));
    memcpy(out->headers, hdrs, nh * sizeof(hdrs[0]));
    out->nheaders = nh;
    out->expires_at = expires_at;
out:
    buf_release(&body);
    buf_release(&url);
    return rc;
}

const signer_vt_t sign_swift = {
    .provider = "swift",
    /* one PUT up to Swift's default max_file_size (5 GiB + 2 bytes; 5 GiB kept); no multipart */
    .limits = {.single_put_max = INT64_C(5) << 30, .part_min = 0, .part_max = 0, .parts_max = 0},
    .create = swift_create,
    .presign = swift_presign,
    .destroy = swift_destroy,
};
