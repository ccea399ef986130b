/*
 * azure.c - the "azure" provider: Azure Blob service SAS URLs signed with the account key
 * (signed version AZURE_SAS_VERSION; the SAS core is described in azure.h).
 *
 * Store fields: endpoint = the blob service URL, with the account in the path for Azurite's
 * IP-style URLs ("http://127.0.0.1:10000/devstoreaccount1") or in the host
 * ("https://<account>.blob.core.windows.net"); account = the account name (3-24 of a-z 0-9),
 * signed in the canonicalized resource "/blob/{account}/{container}/{blob}"; bucket = the
 * container; credentials "account_key" (base64, as the portal shows it); optional
 * public_host = "scheme://host[:port]" clients use instead of the endpoint's (its path stays).
 *
 * URL: {scheme}://{host}{endpoint path}/{container}/{blob}?sv=...&spr=https%2Chttp&se=...&sr=b
 * &sp=...[&rscd=...][&rsct=...]&sig=..., byte for byte what @azure/storage-blob's
 * generateBlobSASQueryParameters and BlobClient.url give (the host lowercased and a default
 * port dropped, as the WHATWG URL parser does). No st: the SAS is valid at once, so a store
 * clock behind loci's cannot refuse it (the SDK leaves st out unless asked to).
 *
 * Operations and permissions (sp):
 *   GET, HEAD    r; a GET also carries the download overrides rscd / rsct, which are signed
 *   PUT          cw (Put Blob); the client must send x-ms-blob-type: BlockBlob
 *   DELETE       d
 *   SIGN_OP_PART        w, then &comp=block&blockid=B (Put Block), B = base64 of the 8-digit
 *                       zero-padded part number ("00000001" -> "MDAwMDAwMDE="), encoded
 *   SIGN_OP_MP_COMPLETE cw, then &comp=blocklist (Put Block List). NOTE: Azure's complete is a
 *                       PUT, not the POST sign_presign puts in the request: the caller must
 *                       send PUT with the XML block list (src/blob/multipart.c does).
 *   SIGN_OP_MP_CREATE / SIGN_OP_MP_ABORT: not needed for azure (blocks need no upload id, and
 *                       uncommitted blocks expire at the store after 7 days): ERR_BAD_REQUEST.
 *
 * What a SAS can and cannot bind (why a PUT's headers are only advice):
 *  - signed: the permissions, the expiry, the protocol, the blob's canonical name, the version
 *    and the response overrides (rscc/rscd/rsce/rscl/rsct). A service SAS with the account key
 *    signs no request header at all: Azure does not check Content-Type, Content-Length,
 *    Content-MD5 or x-ms-content-crc64 against anything in the SAS. (Only a user delegation
 *    SAS of version 2026-04-06 can list request headers, srh/srq; loci holds an account key.)
 *  - PUT: the result's headers are x-ms-blob-type: BlockBlob (required by Put Blob: 400
 *    without it) and content-type when given (stored as the blob's type; a client may send
 *    another). Azure stores exactly the Content-Length bytes sent, up to the 5000 MiB Put Blob
 *    limit; it verifies Content-MD5 / x-ms-content-crc64 against the body only when the client
 *    sends them, and loci knows only a SHA-256, which Azure cannot check. So nothing here
 *    binds the bytes: loci's complete checks the size with a signed HEAD (Content-Length).
 *  - the permissions are enforced: a GET URL (r) cannot write or delete, a PUT URL (cw)
 *    cannot read or delete, and a changed query value breaks the signature (403).
 *
 * Names: the blob name is signed raw and sent percent-encoded. Refused (ERR_BAD_REQUEST), as
 * no URL can address them reliably: names that are not UTF-8, names with a '\' (Azure turns
 * it into '/' before checking the signature), and names with "." or ".." segments (HTTP
 * clients and the SDK's own URL builder remove those before sending).
 *
 * The signer decodes the account key once at creation and is immutable afterwards: signing
 * is thread-safe.
 */
#include "sign/azure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sign/endpoint.h"
#include "sign/providers.h"
#include "util/crypto.h"
#include "util/enc.h"
#include "util/timeutil.h"

/* Azure's limits on names (Naming and Referencing Containers, Blobs, and Metadata). */
#define ACCOUNT_MIN   3
#define ACCOUNT_MAX   24
#define CONTAINER_MIN 3
#define CONTAINER_MAX 63
/* the shortest account key loci accepts (Azure's are 64 bytes) and the longest */
#define KEY_MIN 16
#define KEY_MAX 512

typedef struct azure_signer {
    signer_t base;
    char *url_base; /* "scheme://host[:port]<endpoint path>/<encoded container>" */
    uint8_t *key;   /* the decoded account key (wiped on destroy) */
    size_t keylen;
} azure_signer_t;

/* --- the SAS core ---------------------------------------------------------------------------- */

/* Appends s percent-encoded, keeping unreserved bytes, the marks encodeURIComponent keeps
 * but '\'' (the SDK's URLs have it as %27 in the path and the query), and '/' when keep_slash. */
static int encode(buf_t *b, const char *s, size_t len, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c && strchr("-_.!~*()", c)) ||
                    (c == '/' && keep_slash);
        if (keep) {
            rc |= buf_putc(b, (char)c);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc |= buf_append(b, esc, 3);
        }
    }
    return rc ? ERR_PAYLOAD_TOO_LARGE : 0;
}

int azure_encode_path(buf_t *b, const char *s, size_t len)
{
    return encode(b, s, len, true);
}

int azure_encode_query(buf_t *b, const char *s, size_t len)
{
    return encode(b, s, len, false);
}

/* An override value as the SDK treats it: absent when NULL or empty. */
static const char *opt(const char *v)
{
    return v && *v ? v : NULL;
}

int azure_sas_string_to_sign(const azure_sas_t *p, buf_t *sts)
{
    char st[21] = "", se[21];
    int rc = 0;
    if (p->start >= 0)
        time_fmt_iso8601(p->start, st);
    time_fmt_iso8601(p->expiry, se);
    rc |= buf_printf(sts, "%s\n%s\n%s\n/blob/%s/%s/", p->permissions, st, se, p->account, p->container);
    rc |= buf_puts(sts, p->blob);
    /* si, sip (none), spr, sv, sr, snapshot time / version id (none), ses (none) */
    rc |= buf_printf(sts, "\n\n\n%s\n%s\n%s\n\n", p->protocol ? p->protocol : "", p->version, p->resource);
    const char *overrides[] = {p->cache_control, p->content_disposition, p->content_encoding, p->content_language, p->content_type};
    for (size_t i = 0; i < 5; i++) {
        rc |= buf_putc(sts, '\n');
        if (opt(overrides[i]))
            rc |= buf_puts(sts, overrides[i]);
    }
    return rc ? ERR_PAYLOAD_TOO_LARGE : 0;
}

int azure_sas_sign(const azure_sas_t *p, const uint8_t *key, size_t keylen, char sig[AZURE_SIG_LEN])
{
    buf_t sts = BUF_INIT;
    uint8_t mac[SHA256_LEN];
    int rc = azure_sas_string_to_sign(p, &sts);
    if (rc == 0) {
        hmac_sha256(key, keylen, sts.base, sts.len, mac);
        base64_encode(mac, SHA256_LEN, sig);
    }
    buf_release(&sts);
    return rc;
}

/* Appends "&name=value" (no '&' when the query is empty), the value encoded. */
static int add_param(buf_t *q, const char *name, const char *value)
{
    int rc = 0;
    if (q->len > 0)
        rc |= buf_putc(q, '&');
    rc |= buf_printf(q, "%s=", name);
    rc |= azure_encode_query(q, value, strlen(value));
    return rc ? ERR_PAYLOAD_TOO_LARGE : 0;
}

int azure_sas_query(const azure_sas_t *p, const char *sig, buf_t *query)
{
    /* a separate buffer so that "no '&' first" holds whatever query already holds */
    buf_t q = BUF_INIT;
    char st[21], se[21];
    int rc = add_param(&q, "sv", p->version);
    if (p->protocol)
        rc |= add_param(&q, "spr", p->protocol);
    if (p->start >= 0) {
        time_fmt_iso8601(p->start, st);
        rc |= add_param(&q, "st", st);
    }
    time_fmt_iso8601(p->expiry, se);
    rc |= add_param(&q, "se", se);
    rc |= add_param(&q, "sr", p->resource);
    rc |= add_param(&q, "sp", p->permissions);
    static const char *const names[] = {"rscc", "rscd", "rsce", "rscl", "rsct"};
    const char *values[] = {p->cache_control, p->content_disposition, p->content_encoding, p->content_language, p->content_type};
    for (size_t i = 0; i < 5; i++)
        if (opt(values[i]))
            rc |= add_param(&q, names[i], values[i]);
    rc |= add_param(&q, "sig", sig);
    if (rc == 0)
        rc = buf_append(query, q.base, q.len);
    buf_release(&q);
    return rc ? ERR_PAYLOAD_TOO_LARGE : 0;
}

/* --- store checks ---------------------------------------------------------------------------- */

/* True if a is an Azure storage account name: 3-24 lowercase letters and digits. */
static bool account_ok(const char *a)
{
    size_t n = a ? strlen(a) : 0;
    if (n < ACCOUNT_MIN || n > ACCOUNT_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((a[i] >= 'a' && a[i] <= 'z') || (a[i] >= '0' && a[i] <= '9')))
            return false;
    return true;
}

/* True if c is a container name: 3-63 of a-z 0-9 '-', starting and ending with a letter or
 * digit, no "--"; or one of the special containers $root, $web and $logs. */
static bool container_ok(const char *c)
{
    size_t n = c ? strlen(c) : 0;
    if (n > 0 && (strcmp(c, "$root") == 0 || strcmp(c, "$web") == 0 || strcmp(c, "$logs") == 0))
        return true;
    if (n < CONTAINER_MIN || n > CONTAINER_MAX || c[0] == '-' || c[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        bool alnum = (c[i] >= 'a' && c[i] <= 'z') || (c[i] >= '0' && c[i] <= '9');
        if (!alnum && (c[i] != '-' || c[i + 1] == '-'))
            return false;
    }
    return true;
}

/* Decodes an account key written as canonical standard base64 (padded, A-Z a-z 0-9 + /) into
 * a new allocation. Returns 0, ERR_BAD_REQUEST or ERR_NOMEM. */
static int decode_key(const char *b64, uint8_t **key, size_t *keylen)
{
    size_t n = strlen(b64), pad = 0;
    while (pad < n && pad < 3 && b64[n - 1 - pad] == '=')
        pad++;
    if (n == 0 || n % 4 != 0 || pad > 2 || n / 4 * 3 - pad < KEY_MIN || n / 4 * 3 - pad > KEY_MAX)
        return ERR_BAD_REQUEST;
    for (size_t i = 0; i < n - pad; i++) {
        char c = b64[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/'))
            return ERR_BAD_REQUEST;
    }
    uint8_t *k = malloc(n / 4 * 3 + 3);
    if (k == NULL)
        return ERR_NOMEM;
    if (base64_decode(b64, n, k, keylen) != 0) {
        free(k);
        return ERR_BAD_REQUEST;
    }
    *key = k;
    return 0;
}

/* The URL host: lowercase, as the WHATWG URL parser (and so the SDK) writes it; the default
 * port is already dropped by sign_endpoint_parse. */
static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

static void azure_destroy(signer_t *base)
{
    azure_signer_t *s = (azure_signer_t *)base;
    if (s == NULL)
        return;
    if (s->key)
        explicit_bzero(s->key, s->keylen);
    free(s->key);
    free(s->url_base);
    free(s);
}

/* Checks the store, decodes the key and precomputes the URL prefix. */
static int azure_create(const store_t *st, signer_t **out, err_t *e)
{
    sign_endpoint_t ep, pub;
    buf_t url = BUF_INIT;
    azure_signer_t *s = NULL;
    uint8_t *key = NULL;
    size_t keylen = 0;
    int rc;

    *out = NULL;
    if ((rc = sign_endpoint_parse(st->endpoint, &ep, e)) != 0)
        goto out;
    if (!sign_endpoint_path_ok(ep.path)) {
        rc = err_set(e, ERR_BAD_REQUEST, "azure endpoint '%.100s' has a path that is not url-encoded", st->endpoint);
        goto out;
    }
    if (!account_ok(st->account)) {
        rc = err_set(e, ERR_BAD_REQUEST, "store '%s' needs an azure account name: 3-24 lowercase letters and digits", st->id);
        goto out;
    }
    /* a production-style endpoint names the account itself: <account>.blob.<suffix> */
    lower(ep.host);
    const char *dot = strchr(ep.host, '.');
    if (dot && strncmp(dot, ".blob.", 6) == 0 &&
        ((size_t)(dot - ep.host) != strlen(st->account) || strncmp(ep.host, st->account, (size_t)(dot - ep.host)) != 0)) {
        rc = err_set(e, ERR_BAD_REQUEST, "azure endpoint '%.100s' is not of account '%s'", st->endpoint, st->account);
        goto out;
    }
    if (!container_ok(st->bucket)) {
        rc =
            err_set(e, ERR_BAD_REQUEST,
                    "store '%s' needs a container (bucket): 3-63 of a-z, 0-9 and single '-' inside, or $root, $web, $logs", st->id);
        goto out;
    }
    const char *b64 = store_cred(st, "account_key");
    if (b64 == NULL || *b64 == '\0') {
        rc = err_set(e, ERR_BAD_REQUEST, "store '%s' needs the credential account_key", st->id);
        goto out;
    }
    if ((rc = decode_key(b64, &key, &keylen)) != 0) {
        rc = rc == ERR_NOMEM ? err_set(e, ERR_NOMEM, NULL)
                             : err_set(e, ERR_BAD_REQUEST, "store '%s': account_key must be standard base64 of %d to %d bytes",
                                       st->id, KEY_MIN, KEY_MAX);
        goto out;
    }
    if (st->public_host && *st->public_host) {
        if ((rc = sign_endpoint_parse(st->public_host, &pub, e)) != 0)
            goto out;
        if (pub.path[0] != '\0') {
            rc = err_set(e, ERR_BAD_REQUEST, "public_host '%.100s' must be scheme://host[:port], without a path", st->public_host);
            goto out;
        }
        lower(pub.host);
        memcpy(ep.scheme, pub.scheme, sizeof(ep.scheme));
        memcpy(ep.host, pub.host, sizeof(ep.host));
    }
    buf_printf(&url, "%s://%s%s/", ep.scheme, ep.host, ep.path);
    azure_encode_path(&url, st->bucket, strlen(st->bucket));

    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        rc = err_set(e, ERR_NOMEM, NULL);
        goto out;
    }
    s->base.vt = &sign_azure;
    s->base.store = st;
    s->key = key;
    s->keylen = keylen;
    s->url_base = buf_detach(&url, NULL);
    key = NULL;
    *out = &s->base;
out:
    if (key) {
        explicit_bzero(key, keylen);
        free(key);
    }
    buf_release(&url);
    return rc;
}

/* True if a blob name can be addressed by a URL: UTF-8, no '\', no "." or ".." segment. */
static bool blob_name_ok(const char *name, size_t len)
{
    if (!utf8_valid(name, len) || memchr(name, '\\', len))
        return false;
    for (const char *seg = name, *end = name + len; seg <= end;) {
        const char *slash = memchr(seg, '/', (size_t)(end - seg));
        size_t n = slash ? (size_t)(slash - seg) : (size_t)(end - seg);
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        seg += n + 1;
    }
    return true;
}

/* True if v can be a header value as it is: printable ASCII and blanks. */
static bool header_value_ok(const char *v)
{
    for (; *v; v++)
        if ((unsigned char)*v < 0x20 || (unsigned char)*v > 0x7e)
            return false;
    return true;
}

/* Signs one request: the URL, and the headers the client must send. */
static int azure_presign(signer_t *base, const sign_request_t *rq, sign_result_t *out, arena_t *a, err_t *e)
{
    azure_signer_t *s = (azure_signer_t *)base;
    const store_t *st = s->base.store;
    buf_t url = BUF_INIT;
    sign_header_t hdrs[2];
    size_t nh = 0;
    char sig[AZURE_SIG_LEN], block[16];
    const char *extra = NULL; /* query after the SAS */
    int rc = 0;

    azure_sas_t p = {.version = AZURE_SAS_VERSION,
                     .start = -1,
                     .expiry = rq->now + rq->expires,
                     .account = st->account,
                     .container = st->bucket,
                     .blob = rq->name,
                     .protocol = AZURE_SAS_PROTOCOL,
                     .resource = "b"};
    switch (rq->op) {
    case SIGN_OP_OBJECT:
        if (strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0) {
            p.permissions = "r";
            if (rq->method[0] == 'G') {
                p.content_disposition = rq->response_content_disposition;
                p.content_type = rq->response_content_type;
            }
        } else if (strcmp(rq->method, "PUT") == 0) {
            p.permissions = "cw";
            hdrs[nh++] = (sign_header_t){"x-ms-blob-type", "BlockBlob"};
            if (rq->content_type)
                hdrs[nh++] = (sign_header_t){"content-type", rq->content_type};
        } else if (strcmp(rq->method, "DELETE") == 0) {
            p.permissions = "d";
        } else {
            rc = err_set(e, ERR_BAD_REQUEST, "cannot sign method '%s'", rq->method);
            goto out;
        }
        break;
    case SIGN_OP_PART: {
        char digits[16];
        snprintf(digits, sizeof(digits), "%08d", rq->part_number);
        if (rq->part_number < 1 || strlen(digits) != 8) {
            rc = err_set(e, ERR_BAD_REQUEST, "part number must be 1 to %d", sign_azure.limits.parts_max);
            goto out;
        }
        base64_encode((const uint8_t *)digits, 8, block);
        p.permissions = "w";
        extra = "&comp=block&blockid=";
        break;
    }
    case SIGN_OP_MP_COMPLETE:
        /* Put Block List is a PUT (see the top of this file); the blob's type travels in
         * x-ms-blob-content-type, Content-Type being the XML body's */
        p.permissions = "cw";
        extra = "&comp=blocklist";
        if (rq->content_type)
            hdrs[nh++] = (sign_header_t){"x-ms-blob-content-type", rq->content_type};
        break;
    case SIGN_OP_MP_CREATE:
    case SIGN_OP_MP_ABORT:
        rc = err_set(e, ERR_BAD_REQUEST, "not needed for azure");
        goto out;
    default:
        rc = err_set(e, ERR_BAD_REQUEST, "unknown signing operation");
        goto out;
    }
    size_t nlen = strlen(rq->name);
    if (!blob_name_ok(rq->name, nlen)) {
        rc = err_set(e, ERR_BAD_REQUEST, "azure blob names must be UTF-8 without '\\' or '.' and '..' segments");
        goto out;
    }
    for (size_t i = 0; i < nh; i++) {
        if (!header_value_ok(hdrs[i].value)) {
            rc = err_set(e, ERR_BAD_REQUEST, "content type must be printable ascii");
            goto out;
        }
    }
    if ((p.content_disposition && !header_value_ok(p.content_disposition)) ||
        (p.content_type && !header_value_ok(p.content_type))) {
        rc = err_set(e, ERR_BAD_REQUEST, "response overrides must be printable ascii");
        goto out;
    }
    if ((rc = azure_sas_sign(&p, s->key, s->keylen, sig)) != 0) {
        rc = err_set(e, ERR_BAD_REQUEST, "object name too long to sign");
        goto out;
    }
    rc |= buf_puts(&url, s->url_base);
    rc |= buf_putc(&url, '/');
    rc |= azure_encode_path(&url, rq->name, nlen);
    rc |= buf_putc(&url, '?');
    rc |= azure_sas_query(&p, sig, &url);
    if (extra) {
        rc |= buf_puts(&url, extra);
        if (rq->op == SIGN_OP_PART)
            rc |= azure_encode_query(&url, block, strlen(block));
    }
    if (rc != 0) {
        rc = err_set(e, ERR_BAD_REQUEST, "object name too long to sign");
        goto out;
    }
    out->url = arena_strndup(a, url.base, url.len);
    out->headers = arena_alloc(a, sizeof(hdrs));
    for (size_t i = 0; i < nh; i++)
        out->headers[i] = (sign_header_t){hdrs[i].name, arena_strdup(a, hdrs[i].value)};
    out->nheaders = nh;
    out->expires_at = p.expiry;
out:
    buf_release(&url);
    return rc;
}

const signer_vt_t sign_azure = {
    .provider = "azure",
    /* Put Blob up to 5000 MiB; Put Block up to 4000 MiB (Azure's minimum is 1 byte, loci
     * keeps parts of at least 5 MiB like the other providers), at most 50,000 blocks */
    .limits = {.single_put_max = INT64_C(5000) << 20,
               .part_min = INT64_C(5) << 20,
               .part_max = INT64_C(4000) << 20,
               .parts_max = 50000},
    .create = azure_create,
    .presign = azure_presign,
    .destroy = azure_destroy,
};
