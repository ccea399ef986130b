/*
 * object.c - validation and tag rules for objects, conditions, list queries and cursors.
 */
#include "core/object.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"
#include "util/enc.h"
#include "util/jsonw.h"

void obj_limits_default(obj_limits_t *l)
{
    l->key_max = 1024;
    l->tags_max = 50;
    l->tag_key_max = 128;
    l->tag_value_max = 256;
    l->attrs_max = 4096;
    l->body_max = 65536;
    l->expires_default = 900;
    l->expires_max = 7 * 24 * 3600;
}

int obj_cond_check(const cond_t *c, int64_t current_version, err_t *e)
{
    switch (c->kind) {
    case COND_NONE:
        return 0;
    case COND_IF_NONE_MATCH:
        if (current_version != 0)
            return err_set(e, ERR_PRECONDITION_FAILED, "object exists (version %lld)", (long long)current_version);
        return 0;
    case COND_IF_MATCH:
        if (current_version == 0)
            return err_set(e, ERR_PRECONDITION_FAILED, "object does not exist");
        if (c->version >= 0 && c->version != current_version)
            return err_set(e, ERR_PRECONDITION_FAILED, "object is at version %lld, not %lld", (long long)current_version,
                           (long long)c->version);
        return 0;
    }
    return 0;
}

int obj_parse_if_match(slice_t v, cond_t *out, err_t *e)
{
    while (v.len && (v.base[0] == ' ' || v.base[0] == '\t'))
        v.base++, v.len--;
    while (v.len && (v.base[v.len - 1] == ' ' || v.base[v.len - 1] == '\t'))
        v.len--;
    if (v.len >= 2 && v.base[0] == 'W' && v.base[1] == '/') /* a weak validator compares the same */
        v.base += 2, v.len -= 2;
    if (v.len >= 2 && v.base[0] == '"' && v.base[v.len - 1] == '"')
        v.base++, v.len -= 2;
    out->kind = COND_IF_MATCH;
    if (v.len == 1 && v.base[0] == '*') {
        out->version = -1;
        return 0;
    }
    if (v.len == 0 || v.len > 18)
        return err_set(e, ERR_BAD_REQUEST, "If-Match must be an object version");
    int64_t n = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (v.base[i] < '0' || v.base[i] > '9')
            return err_set(e, ERR_BAD_REQUEST, "If-Match must be an object version");
        n = n * 10 + (v.base[i] - '0');
    }
    if (n < 1)
        return err_set(e, ERR_BAD_REQUEST, "If-Match must be an object version");
    out->version = n;
    return 0;
}

static bool has_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return true;
    return false;
}

int obj_key_check(slice_t key, const obj_limits_t *l, err_t *e)
{
    if (key.len == 0)
        return err_set(e, ERR_BAD_REQUEST, "object key is empty");
    if (key.len > l->key_max)
        return err_set(e, ERR_BAD_REQUEST, "object key is %zu bytes, more than %zu", key.len, l->key_max);
    if (!utf8_valid(key.base, key.len))
        return err_set(e, ERR_BAD_REQUEST, "object key is not valid UTF-8");
    if (has_control(key.base, key.len))
        return err_set(e, ERR_BAD_REQUEST, "object key contains a control character");
    return 0;
}

int obj_tag_check(slice_t k, slice_t v, const obj_limits_t *l, err_t *e)
{
    if (k.len == 0)
        return err_set(e, ERR_BAD_REQUEST, "tag key is empty");
    if (k.len > l->tag_key_max)
        return err_set(e, ERR_BAD_REQUEST, "tag key is %zu bytes, more than %zu", k.len, l->tag_key_max);
    if (v.len > l->tag_value_max)
        return err_set(e, ERR_BAD_REQUEST, "tag value is %zu bytes, more than %zu", v.len, l->tag_value_max);
    if (!utf8_valid(k.base, k.len) || !utf8_valid(v.base, v.len))
        return err_set(e, ERR_BAD_REQUEST, "tag is not valid UTF-8");
    if (has_control(k.base, k.len) || has_control(v.base, v.len))
        return err_set(e, ERR_BAD_REQUEST, "tag contains a control character");
    return 0;
}

int obj_content_type_check(const char *ct, err_t *e)
{
    size_t n = strlen(ct);
    if (n == 0 || n > 255)
        return err_set(e, ERR_BAD_REQUEST, "content_type must be 1-255 characters");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)ct[i] < 0x20 || (unsigned char)ct[i] > 0x7e)
            return err_set(e, ERR_BAD_REQUEST, "content_type must be printable ASCII");
    return 0;
}

int obj_sha256_check(char *hex, err_t *e)
{
    uint8_t d[32];
    if (hex_decode(hex, strlen(hex), d, 32) != 0)
        return err_set(e, ERR_BAD_REQUEST, "sha256 must be 64 hex digits");
    for (char *p = hex; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p - 'A' + 'a');
    return 0;
}

static int tag_cmp(const void *a, const void *b)
{
    return strcmp(((const tag_t *)a)->k, ((const tag_t *)b)->k);
}

int tagset_normalize(tagset_t *t, const obj_limits_t *l, err_t *e)
{
    if (t->n > l->tags_max)
        return err_set(e, ERR_BAD_REQUEST, "%zu tags, more than %zu", t->n, l->tags_max);
    if (t->n > 1)
        qsort(t->items, t->n, sizeof(tag_t), tag_cmp);
    for (size_t i = 1; i < t->n; i++)
        if (strcmp(t->items[i - 1].k, t->items[i].k) == 0)
            return err_set(e, ERR_BAD_REQUEST, "duplicate tag '%s'", t->items[i].k);
    return 0;
}

static const tag_t *find_tag(const tagset_t *t, const char *k)
{
    tag_t key = {k, NULL};
    return t->n ? bsearch(&key, t->items, t->n, sizeof(tag_t), tag_cmp) : NULL;
}

int tagset_apply(const tagset_t *base, const tagset_t *set, const char *const *remove, size_t nremove, const obj_limits_t *l,
                 tagset_t *out, arena_t *a, err_t *e)
{
    for (size_t i = 0; i < nremove; i++)
        if (find_tag(set, remove[i]))
            return err_set(e, ERR_BAD_REQUEST, "tag '%s' is both set and removed", remove[i]);
    out->items = arena_alloc(a, sizeof(tag_t) * (base->n + set->n + 1));
    out->n = 0;
    for (size_t i = 0; i < base->n; i++) {
        bool drop = find_tag(set, base->items[i].k) != NULL;
        for (size_t r = 0; r < nremove && !drop; r++)
            drop = strcmp(remove[r], base->items[i].k) == 0;
        if (!drop)
            out->items[out->n++] = base->items[i];
    }
    for (size_t i = 0; i < set->n; i++)
        out->items[out->n++] = set->items[i];
    return tagset_normalize(out, l, e);
}

int tagset_to_json(const tagset_t *t, buf_t *b)
{
    jw_t w;
    jw_init(&w, b);
    jw_obj_open(&w);
    for (size_t i = 0; i < t->n; i++)
        jw_kv_str(&w, t->items[i].k, t->items[i].v);
    jw_obj_close(&w);
    return jw_finish(&w);
}

void tagset_member(const tag_t *t, const char **open, const char **comma, arena_t *a)
{
    tag_t one = *t;
    tagset_t set = {&one, 1};
    buf_t b = BUF_INIT;
    tagset_to_json(&set, &b); /* {"k":"v"} */
    char *o = arena_strndup(a, b.base, b.len - 1);
    char *c = arena_strndup(a, b.base, b.len - 1);
    c[0] = ',';
    buf_release(&b);
    *open = o;
    *comma = c;
}

bool obj_common_prefix(const char *key, const char *prefix, const char *delimiter, size_t *len)
{
    if (delimiter == NULL || delimiter[0] == '\0')
        return false;
    size_t pl = strlen(prefix);
    const char *d = strstr(key + pl, delimiter);
    if (d == NULL)
        return false;
    *len = (size_t)(d - key) + strlen(delimiter);
    return true;
}

char *obj_prefix_successor(const char *p, size_t n, arena_t *a)
{
    char *s = arena_alloc(a, n + 2);
    memcpy(s, p, n);
    s[n] = (char)0xff;
    s[n + 1] = '\0';
    return s;
}

void obj_query_hash(const obj_query_t *q, uint8_t out[32])
{
    sha256_stream_t *s = sha256_stream_new();
    const char *d = q->delimiter ? q->delimiter : "";
    sha256_stream_update(s, "p", 1);
    sha256_stream_update(s, q->prefix, strlen(q->prefix) + 1);
    sha256_stream_update(s, "d", 1);
    sha256_stream_update(s, d, strlen(d) + 1);
    for (size_t i = 0; i < q->tags.n; i++) {
        sha256_stream_update(s, "t", 1);
        sha256_stream_update(s, q->tags.items[i].k, strlen(q->tags.items[i].k) + 1);
        sha256_stream_update(s, q->tags.items[i].v, strlen(q->tags.items[i].v) + 1);
    }
    sha256_stream_final(s, out);
}

/* The AAD binding a cursor: tenant id, NUL, query hash. The whole tenant id, never a cut one:
 * tenants whose ids share a long prefix must not share cursors. */
static const uint8_t *cursor_aad(const char *tenant, const uint8_t qhash[32], size_t *len, arena_t *a)
{
    size_t tl = strlen(tenant);
    uint8_t *aad = arena_alloc(a, tl + 1 + 32);
    memcpy(aad, tenant, tl + 1);
    memcpy(aad + tl + 1, qhash, 32);
    *len = tl + 1 + 32;
    return aad;
}

char *obj_cursor_seal(const uint8_t key[32], const char *tenant, const uint8_t qhash[32], const char *start_after, arena_t *a)
{
    size_t aadlen;
    const uint8_t *aad = cursor_aad(tenant, qhash, &aadlen, a);
    size_t n = strlen(start_after);
    uint8_t *sealed = arena_alloc(a, n + AEAD_OVERHEAD);
    if (aead_seal(key, aad, aadlen, start_after, n, sealed) != 0)
        return NULL;
    char *out = arena_alloc(a, 4 * ((n + AEAD_OVERHEAD + 2) / 3) + 1);
    base64url_encode(sealed, n + AEAD_OVERHEAD, out);
    return out;
}

int obj_cursor_open(const uint8_t key[32], const char *tenant, const uint8_t qhash[32], slice_t cursor, const char **start_after,
                    arena_t *a, err_t *e)
{
    if (cursor.len == 0 || cursor.len > 4096)
        return err_set(e, ERR_BAD_REQUEST, "invalid cursor");
    uint8_t *raw = arena_alloc(a, cursor.len);
    size_t rawlen;
    if (base64_decode(cursor.base, cursor.len, raw, &rawlen) != 0 || rawlen < AEAD_OVERHEAD)
        return err_set(e, ERR_BAD_REQUEST, "invalid cursor");
    size_t aadlen;
    const uint8_t *aad = cursor_aad(tenant, qhash, &aadlen, a);
    char *pt = arena_alloc(a, rawlen - AEAD_OVERHEAD + 1);
    size_t ptlen;
    if (aead_open(key, aad, aadlen, raw, rawlen, (uint8_t *)pt, &ptlen) != 0)
        return err_set(e, ERR_BAD_REQUEST, "invalid cursor");
    pt[ptlen] = '\0';
    if (strlen(pt) != ptlen)
        return err_set(e, ERR_BAD_REQUEST, "invalid cursor");
    *start_after = pt;
    return 0;
}

bool tenant_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '_' && c != '-')))
            return false;
    }
    return true;
}

int obj_disposition(const char *type, const char *filename, buf_t *out, err_t *e)
{
    if (type == NULL)
        type = "attachment";
    if (strcmp(type, "attachment") != 0 && strcmp(type, "inline") != 0)
        return err_set(e, ERR_BAD_REQUEST, "disposition must be 'attachment' or 'inline'");
    buf_puts(out, type);
    if (filename == NULL)
        return 0;
    size_t n = strlen(filename);
    bool ascii = true;
    if (n == 0 || n > OBJ_FILENAME_MAX)
        return err_set(e, ERR_BAD_REQUEST, "filename must be 1 to %d bytes", OBJ_FILENAME_MAX);
    if (!utf8_valid(filename, n))
        return err_set(e, ERR_BAD_REQUEST, "filename is not valid UTF-8");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)filename[i];
        if (c < 0x20 || c == 0x7f)
            return err_set(e, ERR_BAD_REQUEST, "filename contains a control character");
        ascii &= c < 0x80 && c != '"' && c != '\\';
    }
    /* the quoted form for every client, '"' '\' and non-ASCII replaced so it needs no escapes;
     * then the exact name for clients that read filename* (all current browsers) */
    buf_puts(out, "; filename=\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)filename[i];
        if (c >= 0x80) {
            while (i + 1 < n && ((unsigned char)filename[i + 1] & 0xc0) == 0x80)
                i++;
            c = '_';
        }
        buf_putc(out, c == '"' || c == '\\' ? '_' : (char)c);
    }
    buf_putc(out, '"');
    if (!ascii) {
        buf_puts(out, "; filename*=UTF-8''");
        pct_encode(out, filename, n, false);
    }
    return 0;
}
