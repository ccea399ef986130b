/*
 * multipart.c - CreateMultipartUpload / CompleteMultipartUpload / AbortMultipartUpload
 * (s3, gcs) and Put Block List (azure), over signed URLs.
 */
#include "blob/multipart.h"

#include <stdio.h>
#include <string.h>

#include "blob/remote.h"
#include "util/buf.h"
#include "util/enc.h"

bool blob_mp_needs_create(const char *provider)
{
    return strcmp(provider, "s3") == 0 || strcmp(provider, "gcs") == 0;
}

bool blob_mp_needs_etags(const char *provider)
{
    return blob_mp_needs_create(provider);
}

static int sign_step(const blob_mp_target_t *t, sign_op_t op, const char *mp_id, const char *content_type, sign_result_t *out,
                     arena_t *a, err_t *e)
{
    sign_request_t rq = {.op = op,
                         .name = t->name,
                         .now = t->now,
                         .expires = 600,
                         .content_length = -1,
                         .content_type = content_type,
                         .mp_id = mp_id};
    return sign_presign(t->signer, t->allowed, t->tenant, &rq, out, a, e);
}

/* The text of the first <tag>...</tag> in an XML answer, entities decoded; NULL if absent. */
static char *xml_text(const buf_t *xml, const char *tag, arena_t *a)
{
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    const char *s = xml->base ? strstr(xml->base, open) : NULL;
    if (s == NULL)
        return NULL;
    s += strlen(open);
    const char *end = strstr(s, close);
    if (end == NULL)
        return NULL;
    char *out = arena_alloc(a, (size_t)(end - s) + 1);
    size_t o = 0;
    static const struct {
        const char *ent;
        char c;
    } ENTS[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    while (s < end) {
        bool done = false;
        for (size_t i = 0; i < sizeof(ENTS) / sizeof(ENTS[0]) && *s == '&'; i++) {
            size_t n = strlen(ENTS[i].ent);
            if ((size_t)(end - s) >= n && memcmp(s, ENTS[i].ent, n) == 0) {
                out[o++] = ENTS[i].c;
                s += n;
                done = true;
                break;
            }
        }
        if (!done)
            out[o++] = *s++;
    }
    out[o] = '\0';
    return out;
}

static void xml_escape(buf_t *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            buf_puts(b, "&amp;");
            break;
        case '<':
            buf_puts(b, "&lt;");
            break;
        case '>':
            buf_puts(b, "&gt;");
            break;
        case '"':
            buf_puts(b, "&quot;");
            break;
        default:
            buf_putc(b, *s);
        }
    }
}

/* Maps a store's answer to our codes, naming the S3-style error code when there is one. */
static int answer(const blob_call_t *c, const buf_t *body, const char *what, arena_t *a, err_t *e)
{
    if (c->status >= 200 && c->status <= 299 && (body->base == NULL || strstr(body->base, "<Error>") == NULL))
        return 0;
    const char *code = xml_text(body, "Code", a);
    if (c->status == 404 || (code && strcmp(code, "NoSuchUpload") == 0))
        return err_set(e, ERR_NOT_FOUND, "%s: the store has no such upload", what);
    return err_set(e, ERR_CONFLICT, "%s: the store answered %ld%s%s", what, c->status, code ? " " : "", code ? code : "");
}

int blob_mp_create(const blob_mp_target_t *t, const char *content_type, const char **mp_id, arena_t *a, err_t *e)
{
    *mp_id = NULL;
    if (!blob_mp_needs_create(t->signer->store->provider))
        return 0;
    sign_result_t su;
    int rc = sign_step(t, SIGN_OP_MP_CREATE, NULL, content_type, &su, a, e);
    if (rc != 0)
        return rc;
    buf_t body = BUF_INIT;
    blob_call_t c = {.method = "POST", .url = su.url, .headers = su.headers, .nheaders = su.nheaders, .response = &body};
    if ((rc = blob_remote_call(&c, e)) == 0 && (rc = answer(&c, &body, "starting a multipart upload", a, e)) == 0) {
        *mp_id = xml_text(&body, "UploadId", a);
        if (*mp_id == NULL || **mp_id == '\0')
            rc = err_set(e, ERR_CONFLICT, "the store gave no multipart upload id");
    }
    buf_release(&body);
    return rc;
}

/* The Azure block id of a part: base64 of its 8-digit number (all ids of a blob have one length). */
static void block_id(int part, char out[16])
{
    char digits[9];
    snprintf(digits, sizeof(digits), "%08d", part);
    base64_encode((const uint8_t *)digits, 8, out);
}

int blob_mp_complete(const blob_mp_target_t *t, const char *mp_id, const char *content_type, const blob_part_t *parts, size_t n,
                     arena_t *a, err_t *e)
{
    bool azure = strcmp(t->signer->store->provider, "azure") == 0;
    sign_result_t su;
    int rc = sign_step(t, SIGN_OP_MP_COMPLETE, mp_id, NULL, &su, a, e);
    if (rc != 0)
        return rc;
    buf_t req = BUF_INIT, body = BUF_INIT;
    sign_header_t *hdrs = arena_alloc(a, (su.nheaders + 2) * sizeof(*hdrs));
    size_t nh = 0;
    for (size_t i = 0; i < su.nheaders; i++)
        hdrs[nh++] = su.headers[i];
    if (azure) {
        buf_puts(&req, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
        for (size_t i = 0; i < n; i++) {
            char id[16];
            block_id(parts[i].part_number, id);
            buf_printf(&req, "<Latest>%s</Latest>", id);
        }
        buf_puts(&req, "</BlockList>");
        if (content_type)
            hdrs[nh++] = (sign_header_t){"x-ms-blob-content-type", content_type};
    } else {
        buf_puts(&req, "<CompleteMultipartUpload>");
        for (size_t i = 0; i < n; i++) {
            buf_printf(&req, "<Part><PartNumber>%d</PartNumber><ETag>", parts[i].part_number);
            xml_escape(&req, parts[i].etag ? parts[i].etag : "");
            buf_puts(&req, "</ETag></Part>");
        }
        buf_puts(&req, "</CompleteMultipartUpload>");
    }
    hdrs[nh++] = (sign_header_t){"content-type", "application/xml"};
    blob_call_t c = {.method = azure ? "PUT" : "POST",
                     .url = su.url,
                     .headers = hdrs,
                     .nheaders = nh,
                     .body = req.base,
                     .body_len = req.len,
                     .response = &body};
    if ((rc = blob_remote_call(&c, e)) == 0)
        rc = answer(&c, &body, "assembling the parts", a, e);
    buf_release(&req);
    buf_release(&body);
    return rc;
}

int blob_mp_abort(const blob_mp_target_t *t, const char *mp_id, arena_t *a, err_t *e)
{
    if (mp_id == NULL || !blob_mp_needs_create(t->signer->store->provider))
        return 0;
    sign_result_t su;
    int rc = sign_step(t, SIGN_OP_MP_ABORT, mp_id, NULL, &su, a, e);
    if (rc != 0)
        return rc;
    buf_t body = BUF_INIT;
    blob_call_t c = {.method = "DELETE", .url = su.url, .headers = su.headers, .nheaders = su.nheaders, .response = &body};
    if ((rc = blob_remote_call(&c, e)) == 0) {
        rc = answer(&c, &body, "abandoning a multipart upload", a, e);
        if (rc == ERR_NOT_FOUND)
            rc = 0;
    }
    buf_release(&body);
    return rc;
}
