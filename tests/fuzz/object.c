/*
 * object.c - fuzzes the rules for names that come from outside (src/core/object.c, ids.c,
 * store.c, juris.c, blob_local_name_valid): object keys, tags and tag sets (normalize, apply,
 * canonical JSON), content types, sha256 digests, If-Match values, tenant and store ids, object
 * and upload ids, local object names, list prefixes and delimiters, jurisdiction codes and
 * provider region names.
 *
 * Also download names (obj_disposition: the key as filename, the content type field as the
 * disposition type).
 *
 * Input: fields separated by 0x00 (see fuzz.h): limits byte, key, tag pairs "k=v" (one field
 * each, up to the first empty field) twice (a base set, then a set to apply), then content type,
 * sha256, If-Match, prefix, delimiter, a region, and jurisdiction codes (the rest, one each).
 *
 * Properties: an accepted key or tag round-trips through the JSON writer and jansson unchanged;
 * a normalized tag set is sorted, unique and within the limits; tagset_apply obeys set/remove;
 * an accepted sha256 is 64 lowercase hex digits; an accepted local object name cannot escape
 * its store directory; common prefixes are prefixes of the key ending in the delimiter; a
 * Content-Disposition value is printable ASCII with a quoted name that needs no escapes, and its
 * filename* decodes to the exact name.
 */
#include <jansson.h>
#include <stdbool.h>

#include "blob/local.h"
#include "core/ids.h"
#include "core/juris.h"
#include "core/object.h"
#include "core/store.h"
#include "fuzz.h"
#include "util/enc.h"
#include "util/jsonw.h"

#define MAX_TAGS 64

/* The key as a JSON string must parse back to the same bytes. */
static void check_json_string(const char *s, size_t len)
{
    buf_t b = BUF_INIT;
    FZ_CHECK(jw_escape(&b, s, len) == 0, "escape failed");
    json_error_t je;
    json_t *v = json_loadb(b.base, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    FZ_CHECK(v != NULL && json_is_string(v), "writer produced invalid JSON %s: %s", b.base, je.text);
    FZ_CHECK(json_string_length(v) == len && memcmp(json_string_value(v), s, len) == 0, "JSON round trip changed %s", b.base);
    json_decref(v);
    buf_release(&b);
}

static void check_key(slice_t key, const obj_limits_t *l)
{
    err_t e;
    if (obj_key_check(key, l, &e) != 0) {
        FZ_CHECK(e.code == ERR_BAD_REQUEST && e.msg[0], "refusal without a message");
        return;
    }
    FZ_CHECK(key.len >= 1 && key.len <= l->key_max, "key of %zu bytes accepted", key.len);
    FZ_CHECK(memchr(key.base, '\0', key.len) == NULL, "key with NUL accepted");
    check_json_string(key.base, key.len);
}

/* An accepted "<tenant>/<object id>" has exactly one '/', no dot segment, no NUL. */
static void check_local_name(slice_t name)
{
    if (!blob_local_name_valid(name))
        return;
    size_t slashes = 0;
    for (size_t i = 0; i < name.len; i++) {
        FZ_CHECK(name.base[i] != '\0' && name.base[i] != '\\', "local name with byte 0x%02x", (unsigned char)name.base[i]);
        slashes += name.base[i] == '/';
    }
    FZ_CHECK(slashes == 1, "local name with %zu slashes", slashes);
    FZ_CHECK(name.base[0] != '.' && name.base[0] != '/', "local name starts with '%c'", name.base[0]);
    const char *id = (const char *)memchr(name.base, '/', name.len) + 1;
    FZ_CHECK(id[0] != '.', "object id starts with '.'");
}

static bool sorted_unique(const tagset_t *t)
{
    for (size_t i = 1; i < t->n; i++)
        if (strcmp(t->items[i - 1].k, t->items[i].k) >= 0)
            return false;
    return true;
}

static void check_tagset_json(const tagset_t *t)
{
    buf_t b = BUF_INIT;
    FZ_CHECK(tagset_to_json(t, &b) == 0, "tag JSON failed");
    json_t *v = json_loadb(b.base, b.len, JSON_REJECT_DUPLICATES, NULL);
    FZ_CHECK(v && json_is_object(v) && json_object_size(v) == t->n, "tag JSON %s does not parse back", b.base);
    for (size_t i = 0; i < t->n; i++) {
        json_t *val = json_object_get(v, t->items[i].k);
        FZ_CHECK(val && json_is_string(val) && strcmp(json_string_value(val), t->items[i].v) == 0, "tag '%s' lost", t->items[i].k);
    }
    json_decref(v);
    buf_release(&b);
}

/* Parses "k=v" fields into tags that pass obj_tag_check (the way request bodies are read). */
static size_t read_tags(fz_t *f, tag_t *tags, char **owned, size_t *nowned, const obj_limits_t *l)
{
    size_t n = 0;
    while (f->n && n < MAX_TAGS) {
        slice_t t = fz_field(f);
        if (t.len == 0)
            break;
        const char *eq = memchr(t.base, '=', t.len);
        slice_t k = eq ? slice_make(t.base, (size_t)(eq - t.base)) : t;
        slice_t v = eq ? slice_make(eq + 1, t.len - k.len - 1) : slice_make("", 0);
        err_t e;
        if (obj_tag_check(k, v, l, &e) != 0)
            continue;
        FZ_CHECK(memchr(k.base, 0, k.len) == NULL && memchr(v.base, 0, v.len) == NULL, "tag with NUL accepted");
        check_json_string(k.base, k.len);
        check_json_string(v.base, v.len);
        tags[n].k = owned[(*nowned)++] = fz_cstr(k);
        tags[n].v = owned[(*nowned)++] = fz_cstr(v);
        n++;
    }
    return n;
}

static void check_tags(fz_t *f, const obj_limits_t *l)
{
    tag_t base_items[MAX_TAGS], set_items[MAX_TAGS];
    char *owned[4 * MAX_TAGS + 2];
    size_t nowned = 0;
    err_t e;
    arena_t a;
    arena_init(&a);
    tagset_t base = {base_items, read_tags(f, base_items, owned, &nowned, l)};
    tagset_t set = {set_items, read_tags(f, set_items, owned, &nowned, l)};
    if (tagset_normalize(&base, l, &e) == 0) {
        FZ_CHECK(base.n <= l->tags_max && sorted_unique(&base), "normalize left %zu tags unsorted or over the limit", base.n);
        check_tagset_json(&base);
        if (tagset_normalize(&set, l, &e) == 0) {
            /* remove: every other key of base, plus one that is not there */
            const char *remove[MAX_TAGS + 1];
            size_t nremove = 0;
            for (size_t i = 0; i < base.n; i += 2)
                remove[nremove++] = base.items[i].k;
            remove[nremove++] = "\xff-absent";
            tagset_t out;
            if (tagset_apply(&base, &set, remove, nremove, l, &out, &a, &e) == 0) {
                FZ_CHECK(out.n <= l->tags_max && sorted_unique(&out), "apply gave %zu tags, unsorted or over the limit", out.n);
                for (size_t i = 0; i < set.n; i++) {
                    bool found = false;
                    for (size_t j = 0; j < out.n && !found; j++)
                        found = strcmp(out.items[j].k, set.items[i].k) == 0 && strcmp(out.items[j].v, set.items[i].v) == 0;
                    FZ_CHECK(found, "set tag '%s' missing after apply", set.items[i].k);
                }
                for (size_t r = 0; r < nremove; r++)
                    for (size_t j = 0; j < out.n; j++)
                        FZ_CHECK(strcmp(out.items[j].k, remove[r]) != 0, "removed tag '%s' still there", remove[r]);
                check_tagset_json(&out);
            }
        }
    }
    arena_release(&a);
    for (size_t i = 0; i < nowned; i++)
        free(owned[i]);
}

static void check_disposition(slice_t name, const char *type)
{
    buf_t b = BUF_INIT;
    err_t e;
    char *filename = fz_cstr(name);
    if (obj_disposition(type[0] ? type : NULL, filename, &b, &e) == 0) {
        for (size_t i = 0; i < b.len; i++)
            FZ_CHECK(b.base[i] >= 0x20 && b.base[i] < 0x7f, "byte 0x%02x in '%s'", (unsigned char)b.base[i], b.base);
        FZ_CHECK(strncmp(b.base, type[0] ? type : "attachment", strlen(type[0] ? type : "attachment")) == 0, "type lost");
        const char *q = strstr(b.base, "; filename=\""), *star = NULL;
        FZ_CHECK((q != NULL) == (filename != NULL && filename[0]), "filename %s: %s", q ? "invented" : "lost", b.base);
        if (q) {
            const char *end = strchr(q + 12, '"');
            FZ_CHECK(end && !memchr(q + 12, '\\', (size_t)(end - q - 12)), "quoted name not closed or escaped: %s", b.base);
            FZ_CHECK(end[1] == '\0' || strncmp(end + 1, "; filename*=UTF-8''", 19) == 0, "after the name: %s", end + 1);
            star = end[1] ? end + 1 + 19 : NULL;
        }
        if (star) {
            char *dec = malloc(strlen(star) + 1);
            size_t dl;
            FZ_CHECK(pct_decode(star, strlen(star), dec, &dl, false) == 0, "filename* does not decode");
            FZ_CHECK(dl == strlen(filename) && memcmp(dec, filename, dl) == 0, "filename* is not the name");
            free(dec);
        }
    } else {
        FZ_CHECK(e.code == ERR_BAD_REQUEST && e.msg[0], "refusal without a message");
    }
    free(filename);
    buf_release(&b);
}

static void check_small_things(fz_t *f, slice_t key)
{
    err_t e;
    char *ct = fz_cstr(fz_field(f));
    if (obj_content_type_check(ct, &e) == 0)
        check_json_string(ct, strlen(ct));
    check_disposition(key, ct);
    free(ct);

    char *sha = fz_cstr(fz_field(f));
    if (obj_sha256_check(sha, &e) == 0) {
        FZ_CHECK(strlen(sha) == 64, "sha256 of %zu characters accepted", strlen(sha));
        for (const char *p = sha; *p; p++)
            FZ_CHECK((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'), "sha256 keeps '%c'", *p);
    }
    free(sha);

    slice_t im = fz_field(f);
    cond_t c;
    if (obj_parse_if_match(im, &c, &e) == 0) {
        FZ_CHECK(c.kind == COND_IF_MATCH && (c.version == -1 || c.version >= 1), "If-Match gave version %lld",
                 (long long)c.version);
        for (int64_t v = 0; v < 3; v++)
            obj_cond_check(&c, v, &e);
    }

    /* ids: tenant, store, object/upload ids and local object names are all taken from paths */
    char *id = fz_cstr(im);
    if (tenant_id_valid(id) || store_id_valid(id)) {
        for (const char *p = id; *p; p++)
            FZ_CHECK(*p != '/' && *p != '%' && (unsigned char)*p > 0x20, "id with '%c' accepted", *p);
        FZ_CHECK(strcmp(id, ".") != 0 && strcmp(id, "..") != 0, "dot id accepted");
    }
    free(id);
    slice_t cell;
    if (id_parse(im, &cell)) {
        FZ_CHECK(cell.base == im.base && cell.len >= 1 && cell.len <= CELL_MAX, "cell slice outside the id");
        int64_t ms = id_time_ms(im);
        FZ_CHECK(ms >= 0 && ms <= 0xffffffffffffLL, "id time %lld", (long long)ms);
    }
    check_local_name(im);
}

static void check_listing(fz_t *f, slice_t key)
{
    char *prefix = fz_cstr(fz_field(f)), *delim = fz_cstr(fz_field(f)), *k = fz_cstr(key);
    size_t pl = strlen(prefix), len;
    if (strncmp(k, prefix, pl) == 0 && obj_common_prefix(k, prefix, delim, &len)) {
        size_t dl = strlen(delim);
        FZ_CHECK(dl > 0 && len >= pl + dl && len <= strlen(k), "common prefix of %zu bytes", len);
        FZ_CHECK(memcmp(k + len - dl, delim, dl) == 0, "common prefix does not end with the delimiter");
    }
    arena_t a;
    arena_init(&a);
    char *succ = obj_prefix_successor(prefix, pl, &a);
    FZ_CHECK(strncmp(succ, prefix, pl) == 0 && (unsigned char)succ[pl] == 0xff && succ[pl + 1] == '\0', "bad successor");
    obj_query_t q = {.prefix = prefix, .delimiter = delim, .limit = 1};
    uint8_t h[32];
    obj_query_hash(&q, h);
    arena_release(&a);
    free(prefix);
    free(delim);
    free(k);
}

static void check_juris(fz_t *f)
{
    char *region = fz_cstr(fz_field(f));
    const char *cont = juris_region_continent(region);
    FZ_CHECK(cont == NULL || strlen(cont) == 2, "continent '%s'", cont);
    free(region);

    const char *codes[16];
    char *owned[16];
    size_t n = 0;
    while (f->n && n < 16)
        codes[n] = owned[n] = fz_cstr(fz_field(f)), n++;
    juris_groups_t g;
    juris_groups_init(&g);
    err_t e;
    cset_t set;
    if (juris_expand(&g, codes, n, &set, &e) == 0) {
        char text[3 * 250 + 1];
        cset_format(&set, text, sizeof(text));
        FZ_CHECK(strlen(text) == (cset_count(&set) ? 3 * cset_count(&set) - 1 : 0), "cset_format wrote '%s'", text);
        char small[8];
        cset_format(&set, small, sizeof(small));
        FZ_CHECK(strlen(small) < sizeof(small), "cset_format overflowed");
    }
    /* the codes as a group definition, named by the first one */
    if (n >= 2)
        juris_groups_add(&g, codes[0], codes + 1, n - 1, &e);
    for (size_t i = 0; i < n; i++)
        free(owned[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f = fz_init(data, size);
    obj_limits_t l;
    obj_limits_default(&l);
    uint8_t lim = fz_byte(&f);
    if (lim & 1) { /* small limits, so the fuzzer reaches them */
        l.key_max = 1 + (lim >> 4);
        l.tags_max = (lim >> 1) & 7;
        l.tag_key_max = 1 + ((lim >> 4) & 3);
        l.tag_value_max = (lim >> 6) & 3;
    }
    slice_t key = fz_field(&f);
    check_key(key, &l);
    check_local_name(key);
    check_tags(&f, &l);
    check_small_things(&f, key);
    check_listing(&f, key);
    check_juris(&f);
    return 0;
}
