/*
 * h_objects.c - /v1/objects/{key} and /v1/fetch/{key}: start an upload, locate, head,
 * fetch (307), patch tags and attrs, delete.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/placement.h"
#include "http/body.h"
#include "http/handlers.h"
#include "http/render.h"
#include "util/crypto.h"
#include "util/timeutil.h"

/* --- helpers shared by the object handlers (declared in handlers.h) --- */

int hx_key(rq_t *rq, const char **key)
{
    *key = rq->params[0];
    return obj_key_check(slice_cstr(*key), &rq->app->cfg->limits, &rq->err);
}

int hx_expires(rq_t *rq, int64_t *out)
{
    const tenant_t *t = &rq->auth.tenant;
    const char *v = rq_query(rq, "expires");
    *out = t->url_expires;
    if (v == NULL)
        return 0;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (*v == '\0' || *end != '\0' || n < 1 || n > t->url_expires_max)
        return err_set(&rq->err, ERR_BAD_REQUEST, "expires must be 1 to %lld seconds", (long long)t->url_expires_max);
    *out = n;
    return 0;
}

const char *hx_region(rq_t *rq)
{
    const char *r = rq_query(rq, "region");
    return r && *r && strlen(r) <= 64 ? r : NULL;
}

/* What a lookup's rc means for its request. */
static int object_read_result(rq_t *rq, object_t *o, int rc)
{
    if (rc == ERR_NOT_FOUND)
        return err_set(&rq->err, ERR_NOT_FOUND, "object not found");
    if (rc == 0) {
        rq->state = o;
        rq->log_object_id = o->id;
    }
    return rc;
}

static int read_object(rq_t *rq, db_conn_t *c)
{
    object_t *o = arena_alloc(&rq->arena, sizeof(*o));
    return object_read_result(rq, o, c->db->vt->object_get(c, rq->auth.tenant.id, rq->params[0], o, &rq->arena, &rq->err));
}

/* Several requests' lookups in one round trip (a backend on the network, under load). */
static void read_objects(rq_t **rqs, size_t n, db_conn_t *c)
{
    if (c->db->vt->object_get_many == NULL) {
        for (size_t i = 0; i < n; i++)
            rqs[i]->job_rc = read_object(rqs[i], c);
        return;
    }
    db_object_get_t gets[POOL_BATCH_MAX];
    for (size_t i = 0; i < n; i++) {
        rq_t *rq = rqs[i];
        gets[i] = (db_object_get_t){.tenant = rq->auth.tenant.id,
                                    .key = rq->params[0],
                                    .out = arena_alloc(&rq->arena, sizeof(object_t)),
                                    .arena = &rq->arena,
                                    .err = &rq->err};
    }
    c->db->vt->object_get_many(c, gets, n);
    for (size_t i = 0; i < n; i++)
        rqs[i]->job_rc = object_read_result(rqs[i], gets[i].out, gets[i].rc);
}

static const rq_batch_read_t object_read = {read_object, read_objects};

/* ?filename=, ?disposition= and ?content_type=: what the store should answer a download with
 * instead of the stored values, so a browser saves it under the user's name. */
static int download_overrides(rq_t *rq, sign_request_t *srq)
{
    const char *filename = rq_query(rq, "filename"), *disp = rq_query(rq, "disposition");
    const char *ctype = rq_query(rq, "content_type");
    if (filename || disp) {
        buf_t b = BUF_INIT;
        int rc = obj_disposition(disp, filename, &b, &rq->err);
        if (rc == 0)
            srq->response_content_disposition = arena_strndup(&rq->arena, b.base, b.len);
        buf_release(&b);
        if (rc != 0)
            return rc;
    }
    if (ctype) {
        int rc = obj_content_type_check(ctype, &rq->err);
        if (rc != 0)
            return rc;
        srq->response_content_type = ctype;
    }
    return 0;
}

int hx_sign_read(rq_t *rq, const object_t *o, int64_t expires, sign_result_t *out, const char **store)
{
    if (rq->snap == NULL)
        rq->snap = stores_acquire(rq->app->stores);
    store_snap_t *snap = rq->snap;
    placement_copy_t *copies = arena_alloc(&rq->arena, (o->nlocs ? o->nlocs : 1) * sizeof(*copies));
    for (size_t i = 0; i < o->nlocs; i++) {
        long si = snap_find(snap, o->locs[i].store);
        /* a store that cannot sign (bad credentials) is as unusable as a missing one */
        copies[i].store = si >= 0 && snap->signers[si] ? &snap->stores[si] : NULL;
        copies[i].present = o->locs[i].state == LOC_PRESENT;
    }
    size_t idx;
    int rc = placement_choose_read(copies, o->nlocs, &rq->auth.allowed, hx_region(rq), &idx, &rq->err);
    if (rc != 0)
        return rc;
    long si = snap_find(snap, o->locs[idx].store);
    sign_request_t srq = {
        .method = "GET",
        .name = o->locs[idx].name,
        .now = rq_now_ms(rq) / 1000,
        .expires = expires,
        .content_length = -1,
    };
    if ((rc = download_overrides(rq, &srq)) != 0)
        return rc;
    *store = o->locs[idx].store;
    return sign_presign(snap->signers[si], &rq->auth.allowed, rq->auth.tenant.id, &srq, out, &rq->arena, &rq->err);
}

int hx_audit(rq_t *rq, const char *key)
{
    rq->write.audit.actor = rq->auth.admin ? "admin" : rq->auth.key_id;
    rq->write.audit.subject = NULL;
    if (key == NULL)
        return 0;
    char *subject = arena_alloc(&rq->arena, 65);
    const tenant_t *t = &rq->auth.tenant;
    if (secrets_audit_subject(rq->app->sec, t->id, t->audit_key_sealed, t->audit_key_sealed_len, key, subject) != 0)
        return err_set(&rq->err, ERR_UNAVAILABLE, "tenant '%s' has no audit key", t->id);
    rq->write.audit.subject = subject;
    return 0;
}

void hx_read_object(rq_t *rq, void (*next)(rq_t *rq, int rc))
{
    const char *key;
    if (hx_key(rq, &key) != 0) {
        rq_send_error(rq, rq->err.code);
        return;
    }
    rq_read_batched(rq, &object_read, next);
}

void hx_send_object(rq_t *rq, int status, const object_t *o)
{
    buf_t b = BUF_INIT;
    jw_t w;
    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_key(&w, "object");
    if (rq->snap == NULL)
        rq->snap = stores_acquire(rq->app->stores);
    render_object_open(&w, o, rq->snap, true);
    render_object_close(&w);
    jw_obj_close(&w);
    jw_finish(&w);
    rq_send_json(rq, status, &b);
}

void hx_done_no_content(rq_t *rq, int rc)
{
    if (rc != 0) {
        rq->err = rq->write.err;
        rq_send_error(rq, rc);
        return;
    }
    rq_send_empty(rq, 204);
}

void hx_done_object(rq_t *rq, int rc)
{
    if (rc != 0) {
        rq->err = rq->write.err;
        rq_send_error(rq, rc);
        return;
    }
    hx_send_object(rq, 200, &rq->write.obj);
}

/* For tenants with read auditing: queues a url_issued entry (written within
 * audit.read_flush_ms, never waited for). A full queue refuses the read instead. */
static int audit_read(rq_t *rq, const object_t *o, const char *store, const sign_result_t *su)
{
    const tenant_t *t = &rq->auth.tenant;
    if (!t->audit_reads)
        return 0;
    char subject[65];
    if (secrets_audit_subject(rq->app->sec, t->id, t->audit_key_sealed, t->audit_key_sealed_len, o->key, subject) != 0)
        return err_set(&rq->err, ERR_UNAVAILABLE, "tenant '%s' has no audit key", t->id);
    buf_t b = BUF_INIT;
    jw_t w;
    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_kv_str(&w, "object_id", o->id);
    jw_kv_str(&w, "store", store);
    jw_kv_str(&w, "method", "GET");
    jw_kv_int(&w, "expires_at", su->expires_at);
    jw_obj_close(&w);
    jw_finish(&w);
    db_audit_input_t in = {t->id, rq->auth.key_id, "url_issued", subject, b.base};
    int rc = read_audit_add(rq->app->reads, &in);
    buf_release(&b);
    if (rc != 0)
        return err_set(&rq->err, ERR_UNAVAILABLE, "read auditing is behind; try again");
    return 0;
}

/* The URL lifetime asked for, then a signed GET for the nearest usable copy of rq->state,
 * recorded when the tenant audits reads. */
static int locate(rq_t *rq, int rc, sign_result_t *su, const char **store)
{
    int64_t expires;
    if (rc == 0)
        rc = hx_expires(rq, &expires);
    if (rc == 0)
        rc = hx_sign_read(rq, rq->state, expires, su, store);
    if (rc == 0)
        rc = audit_read(rq, rq->state, *store, su);
    return rc;
}

/* --- GET /v1/objects/{key} --- */

static void get_after_read(rq_t *rq, int rc)
{
    sign_result_t su;
    const char *store;
    object_t *o = rq->state;
    if ((rc = locate(rq, rc, &su, &store)) != 0) {
        rq_send_error(rq, rc);
        return;
    }
    buf_t b = BUF_INIT;
    jw_t w;
    jw_init(&w, &b);
    render_object_open(&w, o, rq->snap, true);
    jw_key(&w, "url");
    render_signed(&w, "GET", store, &su, false);
    render_object_close(&w);
    jw_finish(&w);
    rq_send_json(rq, 200, &b);
}

void h_object_get(rq_t *rq)
{
    hx_read_object(rq, get_after_read);
}

/* --- GET /v1/fetch/{key} --- */

static void fetch_after_read(rq_t *rq, int rc)
{
    sign_result_t su;
    const char *store;
    if ((rc = locate(rq, rc, &su, &store)) != 0) {
        rq_send_error(rq, rc);
        return;
    }
    rq_add_header(rq, "location", su.url);
    rq_add_header(rq, "cache-control", "no-store");
    rq_send_empty(rq, 307);
}

void h_object_fetch(rq_t *rq)
{
    hx_read_object(rq, fetch_after_read);
}

/* --- HEAD /v1/objects/{key} --- */

static void head_after_read(rq_t *rq, int rc)
{
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    const object_t *o = rq->state;
    char n[32], date[30];
    snprintf(n, sizeof(n), "%lld", (long long)o->size);
    rq_add_header(rq, "x-loci-size", n);
    snprintf(n, sizeof(n), "%lld", (long long)o->version);
    rq_add_header(rq, "x-loci-version", n);
    rq_add_header(rq, "x-loci-id", o->id);
    snprintf(n, sizeof(n), "\"%lld\"", (long long)o->version);
    rq_add_header(rq, "etag", n);
    time_fmt_http(o->updated_at / 1000, date);
    rq_add_header(rq, "last-modified", date);
    rq_send_empty(rq, 200);
}

void h_object_head(rq_t *rq)
{
    hx_read_object(rq, head_after_read);
}

/* --- conditions (PUT, PATCH, DELETE) --- */

int hx_condition(rq_t *rq, cond_t *c)
{
    slice_t inm = rq_header(rq, "if-none-match"), im = rq_header(rq, "if-match");
    c->kind = COND_NONE;
    c->version = 0;
    if (inm.base && im.base)
        return err_set(&rq->err, ERR_BAD_REQUEST, "use either If-Match or If-None-Match, not both");
    if (inm.base) {
        if (!(inm.len == 1 && inm.base[0] == '*'))
            return err_set(&rq->err, ERR_BAD_REQUEST, "If-None-Match supports only '*'");
        c->kind = COND_IF_NONE_MATCH;
        return 0;
    }
    if (im.base)
        return obj_parse_if_match(im, c, &rq->err);
    return 0;
}

/* --- PATCH /v1/objects/{key} --- */

/* An unconditional PATCH is a read-modify-write that retries when another change of the object
 * got in between; each round at least one of the contenders commits, so this many rounds see
 * through a burst of that many concurrent patches of one key. Past it: 503, retry later. */
#define PATCH_RETRIES 32

typedef struct patch_state {
    tagset_t set;
    const char **remove;
    size_t nremove;
    bool has_tags, has_attrs;
    const char *attrs_json;
    cond_t cond;
    int attempts;
    object_t *current;
} patch_state_t;

static const char *const PATCH_FIELDS[] = {"tags", "attrs", NULL};
static const char *const PATCH_TAG_FIELDS[] = {"set", "remove", NULL};

static void patch_after_read(rq_t *rq, int rc);

static int patch_read(rq_t *rq, db_conn_t *c)
{
    patch_state_t *ps = rq->state;
    object_t *o = arena_alloc(&rq->arena, sizeof(*o));
    int rc = c->db->vt->object_get(c, rq->auth.tenant.id, rq->params[0], o, &rq->arena, &rq->err);
    if (rc == ERR_NOT_FOUND)
        return err_set(&rq->err, ERR_NOT_FOUND, "object not found");
    if (rc == 0) {
        ps->current = o;
        rq->log_object_id = o->id;
    }
    return rc;
}

/* Parses the stored tags JSON of an object into a tag set. */
static int tags_of(rq_t *rq, const char *json, tagset_t *out)
{
    json_t *v = json ? json_loads(json, 0, NULL) : NULL;
    out->items = arena_alloc(&rq->arena, (json_object_size(v) + 1) * sizeof(tag_t));
    out->n = 0;
    const char *k;
    json_t *val;
    json_object_foreach(v, k, val)
    {
        out->items[out->n].k = arena_strdup(&rq->arena, k);
        out->items[out->n].v = arena_strdup(&rq->arena, json_string_value(val) ? json_string_value(val) : "");
        out->n++;
    }
    json_decref(v);
    obj_limits_t unlimited = rq->app->cfg->limits;
    unlimited.tags_max = (size_t)-1;
    return tagset_normalize(out, &unlimited, &rq->err);
}

static void patch_done(rq_t *rq, int rc)
{
    patch_state_t *ps = rq->state;
    if (rc == ERR_PRECONDITION_FAILED && ps->cond.kind == COND_NONE) {
        if (++ps->attempts < PATCH_RETRIES) {
            /* someone else changed the object between our read and write: recompute on the new version */
            rq_read(rq, patch_read, patch_after_read);
            return;
        }
        /* the client asked for no condition: a 412 would be a lie */
        rc = err_set(&rq->err, ERR_UNAVAILABLE, "the object changed %d times while this change was applied; retry", PATCH_RETRIES);
    }
    hx_done_object(rq, rc);
}

static void patch_after_read(rq_t *rq, int rc)
{
    patch_state_t *ps = rq->state;
    if (rc == 0)
        rc = obj_cond_check(&ps->cond, ps->current->version, &rq->err);
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    object_t *o = ps->current;
    tagset_t base, next;
    if ((rc = tags_of(rq, o->tags_json, &base)) != 0 ||
        (rc = tagset_apply(&base, &ps->set, ps->remove, ps->nremove, &rq->app->cfg->limits, &next, &rq->arena, &rq->err)) != 0) {
        rq_send_error(rq, rc);
        return;
    }
    buf_t tj = BUF_INIT;
    tagset_to_json(&next, &tj);
    tagset_t *tags = arena_alloc(&rq->arena, sizeof(*tags));
    *tags = next;
    memset(&rq->write, 0, sizeof(rq->write));
    rq->write.op = DB_OP_OBJECT_UPDATE;
    rq->write.tenant = rq->auth.tenant.id;
    rq->write.in.object_update.key = rq->params[0];
    rq->write.in.object_update.expected_version = o->version;
    rq->write.in.object_update.tags_json = arena_strndup(&rq->arena, tj.base, tj.len);
    rq->write.in.object_update.tags = tags;
    rq->write.in.object_update.attrs_json = ps->has_attrs ? ps->attrs_json : o->attrs_json;
    buf_release(&tj);
    if ((rc = hx_audit(rq, rq->params[0])) != 0) {
        rq_send_error(rq, rc);
        return;
    }
    rq_write(rq, patch_done);
}

void h_object_patch(rq_t *rq)
{
    patch_state_t *ps = arena_calloc(&rq->arena, 1, sizeof(*ps));
    json_t *body = NULL;
    const char *key;
    int rc;
    rq->state = ps;
    if ((rc = hx_key(rq, &key)) != 0 || (rc = body_object(rq, false, &body)) != 0 ||
        (rc = body_fields(rq, body, PATCH_FIELDS, NULL)) != 0)
        goto fail;
    json_t *tags = json_object_get(body, "tags");
    if (tags) {
        if (!json_is_object(tags)) {
            rc = err_set(&rq->err, ERR_BAD_REQUEST, "'tags' must be an object with 'set' and/or 'remove'");
            goto fail;
        }
        if ((rc = body_fields(rq, tags, PATCH_TAG_FIELDS, "'tags'")) != 0 ||
            (rc = body_tags(rq, json_object_get(tags, "set"), "tags.set", &ps->set)) != 0 ||
            (rc = body_strings(rq, tags, "remove", false, rq->app->cfg->limits.tags_max, &ps->remove, &ps->nremove)) != 0)
            goto fail;
        ps->has_tags = true;
    }
    json_t *attrs = json_object_get(body, "attrs");
    if (attrs) {
        if ((rc = body_attrs(rq, attrs, &ps->attrs_json)) != 0)
            goto fail;
        ps->has_attrs = true;
    }
    if (!ps->has_tags && !ps->has_attrs) {
        rc = err_set(&rq->err, ERR_BAD_REQUEST, "nothing to change: give 'tags' or 'attrs'");
        goto fail;
    }
    if ((rc = hx_condition(rq, &ps->cond)) != 0)
        goto fail;
    if (ps->cond.kind == COND_IF_NONE_MATCH) {
        rc = err_set(&rq->err, ERR_BAD_REQUEST, "If-None-Match does not apply to PATCH");
        goto fail;
    }
    json_decref(body);
    rq_read(rq, patch_read, patch_after_read);
    return;
fail:
    json_decref(body);
    rq_send_error(rq, rc);
}

/* --- DELETE /v1/objects/{key} --- */

void h_object_delete(rq_t *rq)
{
    const char *key;
    cond_t cond;
    int rc;
    if ((rc = hx_key(rq, &key)) != 0 || (rc = hx_condition(rq, &cond)) != 0) {
        rq_send_error(rq, rc);
        return;
    }
    if (cond.kind == COND_IF_NONE_MATCH) {
        rq_send_error(rq, err_set(&rq->err, ERR_BAD_REQUEST, "If-None-Match does not apply to DELETE"));
        return;
    }
    rq->write.op = DB_OP_OBJECT_DELETE;
    rq->write.tenant = rq->auth.tenant.id;
    rq->write.in.object_delete.key = key;
    rq->write.in.object_delete.expected_version = cond.kind == COND_IF_MATCH ? cond.version : -1;
    if ((rc = hx_audit(rq, key)) != 0) {
        rq_send_error(rq, rc);
        return;
    }
    rq_write(rq, hx_done_no_content);
}
