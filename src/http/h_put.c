/*
 * h_put.c - PUT /v1/objects/{key}: start an upload.
 *
 * Placement chooses the stores; core/parts.h decides between one PUT per store and a multipart
 * upload (asked for with "parts", or needed when the size exceeds a store's single PUT). For a
 * multipart upload to an s3 or gcs store loci first starts the upload at the store itself (a
 * signed POST on the I/O pool) and keeps the store's upload id with the location; the client
 * then gets signed URLs for the first parts and asks for more with POST /v1/uploads/{id}/parts.
 * Whatever fails after a store started an upload abandons it again, so nothing is left billed.
 */
#include <jansson.h>
#include <string.h>

#include "blob/multipart.h"
#include "core/ids.h"
#include "core/parts.h"
#include "core/placement.h"
#include "http/body.h"
#include "http/handlers.h"
#include "http/render.h"
#include "util/crypto.h"

typedef struct put_state {
    upload_t up;
    cset_t allowed; /* the tenant's jurisdictions, narrowed by the body's */
    int want_parts;
    int64_t expires, now;
    bool explain;
    placement_result_t placement;
    part_plan_t plan;
    struct {
        const store_t *store;
        signer_t *signer;
        bool parts;           /* this copy goes up in parts */
        sign_result_t single; /* the PUT, when not in parts */
        hx_part_t *first;     /* the first parts' URLs, when in parts */
        size_t nfirst;
    } t[PLACEMENT_MAX_COPIES];
    size_t nt;
    int failed_rc; /* the error being answered while started uploads are abandoned */
    err_t failed;
} put_state_t;

static const char *const PUT_FIELDS[] = {"size",   "content_type", "sha256", "tags", "attrs",
                                         "copies", "jurisdiction", "parts",  NULL};

/* Parses and validates the body of PUT /v1/objects/{key} into ps. */
static int put_parse(rq_t *rq, put_state_t *ps, const char *key, int *copies)
{
    app_t *app = rq->app;
    object_t *o = &ps->up.obj;
    json_t *body = NULL;
    int64_t n;
    bool present;
    const char *s;
    int rc;

    if ((rc = body_object(rq, false, &body)) != 0)
        goto out;
    if ((rc = body_fields(rq, body, PUT_FIELDS, NULL)) != 0)
        goto out;
    if ((rc = body_int(rq, body, "size", 0, app->cfg->max_object_size, &o->size, &present)) != 0)
        goto out;
    if (!present) {
        rc = err_set(&rq->err, ERR_BAD_REQUEST, "'size' is required");
        goto out;
    }
    if ((rc = body_int(rq, body, "parts", 1, PARTS_MAX, &n, &present)) != 0)
        goto out;
    ps->want_parts = present ? (int)n : 0;
    if ((rc = body_str(rq, body, "content_type", 255, &s)) != 0)
        goto out;
    o->content_type = s ? s : "application/octet-stream";
    if ((rc = obj_content_type_check(o->content_type, &rq->err)) != 0)
        goto out;
    if ((rc = body_str(rq, body, "sha256", 64, &s)) != 0)
        goto out;
    if (s && (rc = obj_sha256_check((char *)(uintptr_t)s, &rq->err)) != 0)
        goto out;
    o->sha256 = s;
    tagset_t tags;
    if ((rc = body_tags(rq, json_object_get(body, "tags"), "tags", &tags)) != 0)
        goto out;
    buf_t tj = BUF_INIT;
    tagset_to_json(&tags, &tj);
    o->tags_json = arena_strndup(&rq->arena, tj.base, tj.len);
    buf_release(&tj);
    if ((rc = body_attrs(rq, json_object_get(body, "attrs"), &o->attrs_json)) != 0)
        goto out;
    *copies = rq->auth.tenant.copies;
    if ((rc = body_int(rq, body, "copies", 1, PLACEMENT_MAX_COPIES, &n, &present)) != 0)
        goto out;
    if (present) {
        if (n < rq->auth.tenant.copies) {
            rc = err_set(&rq->err, ERR_BAD_REQUEST, "tenant '%s' keeps at least %d copies", rq->auth.tenant.id,
                         rq->auth.tenant.copies);
            goto out;
        }
        *copies = (int)n;
    }
    const char **jur;
    size_t njur;
    if ((rc = body_strings(rq, body, "jurisdiction", true, 64, &jur, &njur)) != 0)
        goto out;
    ps->allowed = rq->auth.allowed;
    if (njur) {
        cset_t want;
        if ((rc = juris_expand(&app->cfg->groups, jur, njur, &want, &rq->err)) != 0)
            goto out;
        if (!cset_is_subset(&want, &rq->auth.allowed)) {
            char have[512];
            cset_format(&rq->auth.allowed, have, sizeof(have));
            rc = err_set(&rq->err, ERR_RESIDENCY_VIOLATION, "jurisdiction '%s' is outside tenant '%s' jurisdictions [%s]", jur[0],
                         rq->auth.tenant.id, have);
            goto out;
        }
        cset_intersect(&ps->allowed, &want);
    }
    o->key = key;
    o->tenant = rq->auth.tenant.id;
out:
    json_decref(body);
    return rc;
}

static bool can_sign(const store_t *st, void *ctx)
{
    const store_snap_t *snap = ctx;
    return snap->signers[st - snap->stores] != NULL;
}

/* Single PUT or parts for the chosen stores, within what each accepts. */
static int plan_parts(rq_t *rq, put_state_t *ps)
{
    part_limits_t lims[PLACEMENT_MAX_COPIES];
    const char *names[PLACEMENT_MAX_COPIES];
    for (size_t i = 0; i < ps->nt; i++) {
        lims[i] = ps->t[i].signer->vt->limits;
        if (strcmp(ps->t[i].store->provider, "local") == 0 && lims[i].single_put_max > rq->app->cfg->local_max_object_size)
            lims[i].single_put_max = rq->app->cfg->local_max_object_size;
        names[i] = ps->t[i].store->id;
    }
    int rc = parts_plan(ps->up.obj.size, ps->want_parts, lims, names, ps->nt, &ps->plan, &rq->err);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < ps->nt; i++)
        ps->t[i].parts = parts_store_uses(&ps->plan, &lims[i]);
    if (ps->plan.multipart) {
        ps->up.part_size = ps->plan.part_size;
        ps->up.parts = ps->plan.part_count;
    }
    return 0;
}

static blob_mp_target_t mp_target(rq_t *rq, put_state_t *ps, size_t i)
{
    return (blob_mp_target_t){ps->t[i].signer, &ps->allowed, rq->auth.tenant.id, ps->up.obj.locs[i].name, ps->now / 1000};
}

/* I/O pool: starts the multipart uploads the stores need started. */
static void mp_create_all(rq_t *rq)
{
    put_state_t *ps = rq->state;
    rq->job_rc = 0;
    for (size_t i = 0; i < ps->nt && rq->job_rc == 0; i++) {
        if (!ps->t[i].parts || !blob_mp_needs_create(ps->t[i].store->provider))
            continue;
        blob_mp_target_t t = mp_target(rq, ps, i);
        err_t e;
        err_clear(&e);
        rq->job_rc = blob_mp_create(&t, ps->up.obj.content_type, &ps->up.obj.locs[i].mp_id, &rq->arena, &e);
        if (rq->job_rc != 0)
            err_set(&rq->err, rq->job_rc, "store '%s': %s", ps->t[i].store->id, e.msg);
    }
}

/* I/O pool: abandons the multipart uploads started for this request (best effort: what cannot
 * be abandoned now is left to the store's own expiry of incomplete uploads). */
static void mp_abort_all(rq_t *rq)
{
    put_state_t *ps = rq->state;
    for (size_t i = 0; i < ps->nt; i++) {
        if (ps->up.obj.locs[i].mp_id == NULL)
            continue;
        blob_mp_target_t t = mp_target(rq, ps, i);
        err_t e;
        err_clear(&e);
        blob_mp_abort(&t, ps->up.obj.locs[i].mp_id, &rq->arena, &e);
    }
}

static void after_abort(rq_t *rq, int rc)
{
    put_state_t *ps = rq->state;
    (void)rc;
    rq->err = ps->failed;
    rq_send_error(rq, ps->failed_rc);
}

/* Answers the error in rq->err, once any multipart upload a store started is abandoned. */
static void put_fail(rq_t *rq, int rc)
{
    put_state_t *ps = rq->state;
    for (size_t i = 0; i < ps->nt; i++) {
        if (ps->up.obj.locs[i].mp_id) {
            ps->failed_rc = rc;
            ps->failed = rq->err;
            rq_io(rq, mp_abort_all, after_abort);
            return;
        }
    }
    rq_send_error(rq, rc);
}

static void put_done(rq_t *rq, int rc)
{
    put_state_t *ps = rq->state;
    if (rc != 0) {
        rq->err = rq->write.err;
        put_fail(rq, rc);
        return;
    }
    buf_t b = BUF_INIT;
    jw_t w;
    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_key(&w, "object");
    render_object_open(&w, &rq->write.obj, rq->snap, true);
    render_object_close(&w);
    jw_kv_str(&w, "upload_id", ps->up.obj.id);
    jw_key(&w, "targets");
    jw_arr_open(&w);
    for (size_t i = 0; i < ps->nt; i++) {
        if (!ps->t[i].parts) {
            render_signed(&w, "PUT", ps->t[i].store->id, &ps->t[i].single, true);
            continue;
        }
        jw_obj_open(&w);
        jw_kv_str(&w, "store", ps->t[i].store->id);
        jw_kv_str(&w, "method", "PUT");
        jw_key(&w, "multipart");
        jw_obj_open(&w);
        jw_kv_int(&w, "part_size", ps->plan.part_size);
        jw_kv_int(&w, "part_count", ps->plan.part_count);
        jw_key(&w, "parts");
        hx_render_parts(&w, ps->t[i].first, ps->t[i].nfirst);
        jw_obj_close(&w);
        jw_key(&w, "expires_at");
        render_time(&w, ps->t[i].first[0].su.expires_at * 1000);
        jw_obj_close(&w);
    }
    jw_arr_close(&w);
    if (ps->explain) {
        jw_key(&w, "placement");
        render_explain(&w, &ps->placement);
    }
    jw_obj_close(&w);
    jw_finish(&w);
    rq_send_json(rq, 201, &b);
}

/* Signs every target (a PUT, or the first parts) and records the upload. */
static void put_sign_and_record(rq_t *rq, int rc)
{
    put_state_t *ps = rq->state;
    object_t *o = &ps->up.obj;
    if (rc != 0) {
        put_fail(rq, rc);
        return;
    }
    for (size_t i = 0; i < ps->nt; i++) {
        if (ps->t[i].parts) {
            size_t n = ps->plan.part_count < HX_FIRST_PARTS ? (size_t)ps->plan.part_count : HX_FIRST_PARTS;
            int numbers[HX_FIRST_PARTS];
            for (size_t k = 0; k < n; k++)
                numbers[k] = (int)k + 1;
            ps->t[i].first = arena_alloc(&rq->arena, n * sizeof(hx_part_t));
            ps->t[i].nfirst = n;
            rc = hx_sign_parts(rq, ps->t[i].signer, &ps->allowed, &ps->up, &o->locs[i], numbers, n, ps->now, ps->expires,
                               ps->t[i].first);
        } else {
            sign_request_t srq = {
                .method = "PUT",
                .name = o->locs[i].name,
                .now = ps->now / 1000,
                .expires = ps->expires,
                .content_type = o->content_type,
                .content_length = o->size,
                .sha256_hex = o->sha256,
            };
            rc = sign_presign(ps->t[i].signer, &ps->allowed, rq->auth.tenant.id, &srq, &ps->t[i].single, &rq->arena, &rq->err);
        }
        if (rc != 0) {
            put_fail(rq, rc);
            return;
        }
    }
    rq->write.op = DB_OP_UPLOAD_BEGIN;
    rq->write.tenant = rq->auth.tenant.id;
    rq->write.now = ps->now;
    rq->write.in.upload_begin.up = &ps->up;
    rq_write(rq, put_done);
}

void h_object_put(rq_t *rq)
{
    app_t *app = rq->app;
    put_state_t *ps = arena_calloc(&rq->arena, 1, sizeof(*ps));
    object_t *o = &ps->up.obj;
    const char *key;
    int copies = 1, rc;

    rq->state = ps;
    ps->now = rq_now_ms(rq);
    if ((rc = hx_key(rq, &key)) != 0 || (rc = put_parse(rq, ps, key, &copies)) != 0 || (rc = hx_condition(rq, &ps->up.cond)) != 0 ||
        (rc = hx_expires(rq, &ps->expires)) != 0)
        goto fail;
    const char *ex = rq_query(rq, "explain");
    ps->explain = ex && (strcmp(ex, "1") == 0 || strcmp(ex, "true") == 0);
    if ((rc = hx_audit(rq, key)) != 0)
        goto fail;

    uint8_t rnd[ID_RANDOM_LEN];
    char *id = arena_alloc(&rq->arena, ID_MAX);
    crypto_random(rnd, sizeof(rnd));
    id_make(id, app->cfg->cell, ps->now, rnd);
    o->id = id;
    rq->log_object_id = id;

    rq->snap = stores_acquire(app->stores);
    placement_input_t in = {
        .stores = rq->snap->stores,
        .nstores = rq->snap->n,
        .allowed = &ps->allowed,
        .region_hint = hx_region(rq),
        .object_id = id,
        .copies = copies,
        .can_sign = can_sign,
        .can_sign_ctx = rq->snap,
    };
    if ((rc = placement_choose_stores(&in, &ps->placement, ps->explain ? &rq->arena : NULL, &rq->err)) != 0)
        goto fail;

    ps->nt = ps->placement.nchosen;
    o->nlocs = ps->nt;
    o->locs = arena_alloc(&rq->arena, ps->nt * sizeof(location_t));
    const char *name = arena_printf(&rq->arena, "%s/%s", rq->auth.tenant.id, id);
    bool create = false;
    for (size_t i = 0; i < ps->nt; i++) {
        const store_t *st = ps->placement.chosen[i];
        ps->t[i].store = st;
        ps->t[i].signer = rq->snap->signers[st - rq->snap->stores];
        o->locs[i] = (location_t){st->id, name, LOC_PENDING, NULL};
    }
    if ((rc = plan_parts(rq, ps)) != 0)
        goto fail;
    for (size_t i = 0; i < ps->nt; i++)
        create |= ps->t[i].parts && blob_mp_needs_create(ps->t[i].store->provider);
    /* an abandoned upload is aborted upload_grace_s after its URLs expire */
    ps->up.expires_at = ps->now + (ps->expires + app->cfg->upload_grace_s) * 1000;
    if (create)
        rq_io(rq, mp_create_all, put_sign_and_record);
    else
        put_sign_and_record(rq, 0);
    return;
fail:
    rq_send_error(rq, rc);
}
