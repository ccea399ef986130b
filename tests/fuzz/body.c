/*
 * body.c - fuzzes the strict JSON body helpers (src/http/body.c) the way the endpoints use
 * them: the first byte picks an endpoint's schema (object PUT, PATCH, store PUT, tenant PUT,
 * key create, upload complete), the rest is the request body.
 *
 * Properties: every refusal is ERR_BAD_REQUEST with a message (never internal, never a crash);
 * what is accepted keeps its documented bounds: strings within their maximum and without NUL,
 * integers in range, tags valid and normalized, attrs an object of at most attrs_max bytes
 * that parses back.
 */
#include <jansson.h>

#include "fuzz.h"
#include "http/body.h"

static config_t cfg;
static app_t app;
static h2o_req_t req;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    config_init(&cfg);
    app.cfg = &cfg;
    return 0;
}

static void ok_or_refused(rq_t *rq, int rc)
{
    FZ_CHECK(rc == 0 || (rc == ERR_BAD_REQUEST && rq->err.code == ERR_BAD_REQUEST && rq->err.msg[0]), "rc %d (%s)", rc,
             rq->err.msg);
}

static int str(rq_t *rq, json_t *o, const char *name, size_t max)
{
    const char *s;
    int rc = body_str(rq, o, name, max, &s);
    ok_or_refused(rq, rc);
    if (rc == 0 && s)
        FZ_CHECK(strlen(s) <= max, "'%s' of %zu bytes accepted", name, strlen(s));
    return rc;
}

static int num(rq_t *rq, json_t *o, const char *name, int64_t min, int64_t max)
{
    int64_t v = min - 1;
    bool present;
    int rc = body_int(rq, o, name, min, max, &v, &present);
    ok_or_refused(rq, rc);
    if (rc == 0 && present)
        FZ_CHECK(v >= min && v <= max, "'%s' = %lld accepted", name, (long long)v);
    return rc;
}

static int strings(rq_t *rq, json_t *o, const char *name, bool one_ok, size_t max)
{
    const char **v;
    size_t n;
    int rc = body_strings(rq, o, name, one_ok, max, &v, &n);
    ok_or_refused(rq, rc);
    if (rc == 0) {
        FZ_CHECK(n <= max, "%zu strings in '%s'", n, name);
        for (size_t i = 0; i < n; i++)
            FZ_CHECK(v[i] != NULL, "NULL string");
    }
    return rc;
}

static int tags(rq_t *rq, json_t *v, const char *where)
{
    tagset_t t;
    int rc = body_tags(rq, v, where, &t);
    ok_or_refused(rq, rc);
    if (rc == 0) {
        FZ_CHECK(t.n <= cfg.limits.tags_max, "%zu tags", t.n);
        for (size_t i = 0; i < t.n; i++) {
            err_t e;
            FZ_CHECK(obj_tag_check(slice_cstr(t.items[i].k), slice_cstr(t.items[i].v), &cfg.limits, &e) == 0, "tag '%s': %s",
                     t.items[i].k, e.msg);
            FZ_CHECK(i == 0 || strcmp(t.items[i - 1].k, t.items[i].k) < 0, "tags not normalized");
        }
    }
    return rc;
}

static int attrs(rq_t *rq, json_t *v)
{
    const char *js;
    int rc = body_attrs(rq, v, &js);
    ok_or_refused(rq, rc);
    if (rc == 0 && js) {
        FZ_CHECK(strlen(js) <= cfg.limits.attrs_max, "attrs of %zu bytes", strlen(js));
        json_t *back = json_loads(js, 0, NULL);
        FZ_CHECK(back && json_is_object(back), "attrs '%s' do not parse back", js);
        json_decref(back);
    }
    return rc;
}

static void object_put(rq_t *rq, json_t *b)
{
    static const char *const F[] = {"size", "content_type", "sha256", "tags", "attrs", "copies", "jurisdiction", NULL};
    if (body_fields(rq, b, F, NULL) != 0 || num(rq, b, "size", 0, cfg.max_object_size) != 0 ||
        str(rq, b, "content_type", 255) != 0 || str(rq, b, "sha256", 64) != 0 ||
        tags(rq, json_object_get(b, "tags"), "tags") != 0 || attrs(rq, json_object_get(b, "attrs")) != 0 ||
        num(rq, b, "copies", 1, 8) != 0)
        return;
    strings(rq, b, "jurisdiction", true, 64);
}

static void object_patch(rq_t *rq, json_t *b)
{
    static const char *const F[] = {"tags", "attrs", NULL}, *const T[] = {"set", "remove", NULL};
    if (body_fields(rq, b, F, NULL) != 0)
        return;
    json_t *t = json_object_get(b, "tags");
    if (json_is_object(t) && (body_fields(rq, t, T, "'tags'") != 0 || tags(rq, json_object_get(t, "set"), "tags.set") != 0 ||
                              strings(rq, t, "remove", false, cfg.limits.tags_max) != 0))
        return;
    attrs(rq, json_object_get(b, "attrs"));
}

static void store_put(rq_t *rq, json_t *b)
{
    static const char *const F[] = {"provider", "endpoint",   "bucket",      "region",  "country",     "status",
                                    "weight",   "path_style", "public_host", "account", "credentials", NULL};
    bool v, present;
    if (body_fields(rq, b, F, NULL) != 0 || str(rq, b, "provider", 32) != 0 || str(rq, b, "endpoint", 512) != 0 ||
        str(rq, b, "bucket", 255) != 0 || str(rq, b, "region", 64) != 0 || str(rq, b, "public_host", 512) != 0 ||
        str(rq, b, "account", 255) != 0 || str(rq, b, "country", 2) != 0 || str(rq, b, "status", 16) != 0 ||
        num(rq, b, "weight", 0, 1000) != 0)
        return;
    ok_or_refused(rq, body_bool(rq, b, "path_style", &v, &present));
}

static void tenant_put(rq_t *rq, json_t *b)
{
    static const char *const F[] = {"jurisdictions", "copies", "url_expires", "url_expires_max", "audit_reads", NULL};
    bool v;
    if (body_fields(rq, b, F, NULL) != 0 || strings(rq, b, "jurisdictions", false, 64) != 0 || num(rq, b, "copies", 1, 8) != 0 ||
        num(rq, b, "url_expires", 1, 604800) != 0 || num(rq, b, "url_expires_max", 1, 604800) != 0)
        return;
    ok_or_refused(rq, body_bool(rq, b, "audit_reads", &v, NULL));
}

static void key_create(rq_t *rq, json_t *b)
{
    static const char *const F[] = {"scopes", NULL};
    if (body_fields(rq, b, F, NULL) == 0)
        strings(rq, b, "scopes", false, 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f = fz_init(data, size);
    uint8_t schema = fz_byte(&f);
    slice_t body = fz_rest(&f);
    rq_t rq;
    memset(&rq, 0, sizeof(rq));
    memset(&req, 0, sizeof(req));
    req.entity = h2o_iovec_init(body.len ? body.base : NULL, body.len);
    rq.req = &req;
    rq.app = &app;
    arena_init(&rq.arena);
    json_t *b = NULL;
    int rc = body_object(&rq, schema & 0x80, &b);
    ok_or_refused(&rq, rc);
    if (rc == 0) {
        FZ_CHECK(json_is_object(b), "body_object gave a non-object");
        switch ((schema & 0x7f) % 6) {
        case 0:
            object_put(&rq, b);
            break;
        case 1:
            object_patch(&rq, b);
            break;
        case 2:
            store_put(&rq, b);
            break;
        case 3:
            tenant_put(&rq, b);
            break;
        case 4:
            key_create(&rq, b);
            break;
        default: { /* upload complete: an empty object only */
            static const char *const none[] = {NULL};
            ok_or_refused(&rq, body_fields(&rq, b, none, NULL));
        }
        }
    }
    json_decref(b);
    arena_release(&rq.arena);
    return 0;
}
