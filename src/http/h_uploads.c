/*
 * h_uploads.c - POST /v1/uploads/{id}/complete, POST /v1/uploads/{id}/parts and
 * DELETE /v1/uploads/{id}.
 *
 * complete checks that every target really holds the bytes before anything is committed:
 * for a local store, the file's size (and the SHA-256 computed while it was received); for a
 * remote store, a signed HEAD comparing the size. A copy uploaded in parts is first assembled
 * at its store (CompleteMultipartUpload with the parts' ETags, or Azure's block list). Those
 * calls block, so they run on the I/O pool; only then does the commit go to the writer.
 *
 * parts hands out more part URLs for a multipart upload (clients upload for hours; URLs are
 * short-lived) and keeps the upload from expiring while they do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob/local.h"
#include "blob/multipart.h"
#include "blob/remote.h"
#include "core/ids.h"
#include "core/parts.h"
#include "core/placement.h"
#include "http/body.h"
#include "http/handlers.h"
#include "http/render.h"

/* An upload id is an object id; one from another cell is misdirected. */
static int upload_id(rq_t *rq, const char **id)
{
    slice_t cell;
    *id = rq->params[0];
    if (!id_parse(slice_cstr(*id), &cell))
        return err_set(&rq->err, ERR_NOT_FOUND, "upload not found");
    if (!slice_eq_cstr(cell, rq->app->cfg->cell))
        return err_set(&rq->err, ERR_WRONG_CELL, "upload belongs to cell '%.*s'", (int)cell.len, cell.base);
    return 0;
}

/* What a request about an upload carries between its steps. */
typedef struct upload_state {
    upload_t *up;
    /* complete: the parts the client listed, then per location the parts to assemble */
    const char **part_store;
    blob_part_t *part;
    size_t nparts;
    blob_part_t **loc_parts; /* [nlocs], sorted by part number; NULL when not in parts */
    /* parts */
    const char *store;
    int *numbers;
    size_t nnumbers;
    int64_t expires;
    hx_part_t *signed_parts;
} upload_state_t;

static int read_upload(rq_t *rq, db_conn_t *c)
{
    upload_state_t *us = rq->state;
    upload_t *up = arena_alloc(&rq->arena, sizeof(*up));
    int rc = c->db->vt->upload_get(c, rq->auth.tenant.id, rq->params[0], up, &rq->arena, &rq->err);
    if (rc == ERR_NOT_FOUND)
        return err_set(&rq->err, ERR_NOT_FOUND, "upload not found");
    if (rc == 0)
        us->up = up;
    return rc;
}

/* The signer of location l's store, or NULL with the reason in rq->err. */
static signer_t *loc_signer(rq_t *rq, const location_t *l)
{
    store_snap_t *snap = rq->snap;
    long si = snap_find(snap, l->store);
    if (si < 0) {
        err_set(&rq->err, ERR_CONFLICT, "store '%s' no longer exists", l->store);
        return NULL;
    }
    if (snap->signers[si] == NULL)
        err_set(&rq->err, ERR_CONFLICT, "store '%s' cannot be reached: %s", l->store, snap->problems[si]);
    return snap->signers[si];
}

/* The plan an upload was started with. */
static part_plan_t upload_plan(const upload_t *up)
{
    return (part_plan_t){up->parts > 0, up->part_size, up->parts};
}

/* True when location l of upload up goes up in parts (the rule h_put.c applied). */
static bool loc_in_parts(const upload_t *up, const signer_t *sg)
{
    part_plan_t plan = upload_plan(up);
    return sg && parts_store_uses(&plan, &sg->vt->limits);
}

/* --- part URLs (shared with h_put.c) --- */

int hx_sign_parts(rq_t *rq, signer_t *sg, const cset_t *allowed, const upload_t *up, const location_t *l, const int *numbers,
                  size_t n, int64_t now_ms, int64_t expires, hx_part_t *out)
{
    part_plan_t plan = upload_plan(up);
    for (size_t i = 0; i < n; i++) {
        sign_request_t srq = {
            .op = SIGN_OP_PART,
            .name = l->name,
            .now = now_ms / 1000,
            .expires = expires,
            .content_length = parts_size_of(&plan, up->obj.size, numbers[i]),
            .part_number = numbers[i],
            .mp_id = l->mp_id,
        };
        out[i].part_number = numbers[i];
        int rc = sign_presign(sg, allowed, rq->auth.tenant.id, &srq, &out[i].su, &rq->arena, &rq->err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void hx_render_parts(jw_t *w, const hx_part_t *p, size_t n)
{
    jw_arr_open(w);
    for (size_t i = 0; i < n; i++) {
        jw_obj_open(w);
        jw_kv_int(w, "part_number", p[i].part_number);
        jw_kv_str(w, "url", p[i].su.url);
        jw_key(w, "headers");
        jw_obj_open(w);
        for (size_t k = 0; k < p[i].su.nheaders; k++)
            jw_kv_str(w, p[i].su.headers[k].name, p[i].su.headers[k].value);
        jw_obj_close(w);
        jw_key(w, "expires_at");
        render_time(w, p[i].su.expires_at * 1000);
        jw_obj_close(w);
    }
    jw_arr_close(w);
}

/* --- POST /v1/uploads/{id}/complete --- */

/* Checks one target of an upload (on the I/O pool): assembles its parts first when it went
 * up in parts, then compares what the store holds with what was declared. */
static int verify_target(rq_t *rq, const upload_t *up, size_t li)
{
    upload_state_t *us = rq->state;
    const location_t *l = &up->obj.locs[li];
    store_snap_t *snap = rq->snap;
    const object_t *o = &up->obj;
    long si = snap_find(snap, l->store);
    if (si < 0)
        return err_set(&rq->err, ERR_CONFLICT, "store '%s' no longer exists", l->store);
    const store_t *st = &snap->stores[si];
    int64_t size = -1;
    int rc;
    if (strcmp(st->provider, "local") == 0) {
        char path[4096], root[4096], sha[65], ctype[256];
        snprintf(root, sizeof(root), "%s/blobs", rq->app->cfg->data_dir);
        if (blob_local_path(root, st->id, l->name, path, sizeof(path)) != 0)
            return err_set(&rq->err, ERR_INTERNAL, "local path too long");
        rc = blob_local_stat(path, &size, sha, ctype, &rq->err);
        if (rc == ERR_NOT_FOUND)
            return err_set(&rq->err, ERR_CONFLICT, "nothing was uploaded to store '%s'", st->id);
        if (rc != 0)
            return rc;
        if (size == o->size && o->sha256 && strcmp(sha, o->sha256) != 0)
            return err_set(&rq->err, ERR_CONFLICT, "bytes at store '%s' do not match the declared sha256", st->id);
    } else {
        signer_t *sg = snap->signers[si];
        if (sg == NULL)
            return err_set(&rq->err, ERR_CONFLICT, "store '%s' cannot be reached: %s", st->id, snap->problems[si]);
        int64_t now = rq_now_ms(rq) / 1000;
        if (us->loc_parts && us->loc_parts[li]) {
            blob_mp_target_t t = {sg, &rq->auth.allowed, rq->auth.tenant.id, l->name, now};
            err_t e;
            err_clear(&e);
            rc = blob_mp_complete(&t, l->mp_id, o->content_type, us->loc_parts[li], (size_t)up->parts, &rq->arena, &e);
            /* no such upload: a retried complete whose parts were already assembled; the HEAD decides */
            if (rc != 0 && rc != ERR_NOT_FOUND)
                return err_set(&rq->err, rc, "cannot assemble the parts at store '%s': %s", st->id, e.msg);
        }
        sign_request_t srq = {.method = "HEAD", .name = l->name, .now = now, .expires = 300, .content_length = -1};
        sign_result_t su;
        if ((rc = sign_presign(sg, &rq->auth.allowed, rq->auth.tenant.id, &srq, &su, &rq->arena, &rq->err)) != 0)
            return rc;
        rc = blob_remote_request("HEAD", &su, &size, &rq->err);
        if (rc == ERR_NOT_FOUND)
            return err_set(&rq->err, ERR_CONFLICT, "nothing was uploaded to store '%s'", st->id);
        /* a store that cannot be reached or fails stays 503: the upload is intact, retry later */
        if (rc != 0)
            return err_set(&rq->err, rc == ERR_UNAVAILABLE ? ERR_UNAVAILABLE : ERR_CONFLICT,
                           "cannot verify the upload at store '%s': %s", st->id, rq->err.msg);
    }
    if (size != o->size)
        return err_set(&rq->err, ERR_CONFLICT, "store '%s' holds %lld bytes, expected %lld", st->id, (long long)size,
                       (long long)o->size);
    return 0;
}

static void verify_all(rq_t *rq)
{
    upload_state_t *us = rq->state;
    rq->job_rc = 0;
    for (size_t i = 0; i < us->up->obj.nlocs && rq->job_rc == 0; i++)
        rq->job_rc = verify_target(rq, us->up, i);
}

static void after_verify(rq_t *rq, int rc)
{
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    rq->write.op = DB_OP_UPLOAD_COMPLETE;
    rq->write.tenant = rq->auth.tenant.id;
    rq->write.in.upload_complete.upload_id = rq->params[0];
    /* the audit subject was recorded when the upload started */
    rq_write(rq, hx_done_object);
}

/* Matches the parts the client listed to the upload's copies: every copy in parts gets parts
 * 1..N exactly once, with an ETag where its store needs one (azure does not: its block ids
 * follow from the part numbers). */
static int match_parts(rq_t *rq, upload_state_t *us)
{
    const upload_t *up = us->up;
    size_t nl = up->obj.nlocs;
    us->loc_parts = arena_calloc(&rq->arena, nl ? nl : 1, sizeof(*us->loc_parts));
    for (size_t k = 0; k < us->nparts; k++) {
        size_t li;
        for (li = 0; li < nl && strcmp(up->obj.locs[li].store, us->part_store[k]) != 0; li++)
            ;
        if (li == nl)
            return err_set(&rq->err, ERR_BAD_REQUEST, "the upload has no copy at store '%s'", us->part_store[k]);
        if (up->parts == 0)
            return err_set(&rq->err, ERR_BAD_REQUEST, "the upload is not in parts");
        if (us->part[k].part_number > up->parts)
            return err_set(&rq->err, ERR_BAD_REQUEST, "part %d is beyond the upload's %d parts", us->part[k].part_number,
                           up->parts);
    }
    for (size_t li = 0; li < nl; li++) {
        const location_t *l = &up->obj.locs[li];
        signer_t *sg = loc_signer(rq, l);
        if (sg == NULL)
            return rq->err.code;
        if (!loc_in_parts(up, sg)) {
            for (size_t k = 0; k < us->nparts; k++)
                if (strcmp(us->part_store[k], l->store) == 0)
                    return err_set(&rq->err, ERR_BAD_REQUEST, "the copy at store '%s' is a single PUT, not parts", l->store);
            continue;
        }
        bool etags = blob_mp_needs_etags(sg->store->provider);
        blob_part_t *lp = arena_calloc(&rq->arena, (size_t)up->parts, sizeof(*lp));
        for (size_t k = 0; k < us->nparts; k++) {
            if (strcmp(us->part_store[k], l->store) != 0)
                continue;
            blob_part_t *slot = &lp[us->part[k].part_number - 1];
            if (slot->part_number)
                return err_set(&rq->err, ERR_BAD_REQUEST, "part %d of store '%s' is listed twice", us->part[k].part_number,
                               l->store);
            *slot = us->part[k];
        }
        for (int p = 0; p < up->parts; p++) {
            if (lp[p].part_number == 0 && etags)
                return err_set(&rq->err, ERR_BAD_REQUEST, "part %d of store '%s' is missing: complete needs every part's ETag",
                               p + 1, l->store);
            if (etags && lp[p].etag == NULL)
                return err_set(&rq->err, ERR_BAD_REQUEST, "part %d of store '%s' needs its 'etag'", p + 1, l->store);
            lp[p].part_number = p + 1;
        }
        us->loc_parts[li] = lp;
    }
    return 0;
}

static void complete_after_read(rq_t *rq, int rc)
{
    upload_state_t *us = rq->state;
    if (rc == 0) {
        rq->snap = stores_acquire(rq->app->stores);
        rc = match_parts(rq, us);
    }
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    rq_io(rq, verify_all, after_verify);
}

static const char *const COMPLETE_FIELDS[] = {"parts", NULL};
static const char *const PART_FIELDS[] = {"store", "part_number", "etag", NULL};

/* Reads {"parts": [{"store", "part_number", "etag"}, ...]} (the whole body is optional). */
static int complete_parse(rq_t *rq, upload_state_t *us)
{
    json_t *body = NULL, *parts, *p;
    size_t i;
    int rc;
    if ((rc = body_object(rq, true, &body)) != 0 || (rc = body_fields(rq, body, COMPLETE_FIELDS, NULL)) != 0)
        goto out;
    parts = json_object_get(body, "parts");
    if (parts == NULL || json_is_null(parts))
        goto out;
    size_t max = (size_t)PARTS_MAX * PLACEMENT_MAX_COPIES;
    if (!json_is_array(parts) || json_array_size(parts) > max) {
        rc = err_set(&rq->err, ERR_BAD_REQUEST, "'parts' must be an array of at most %zu parts", max);
        goto out;
    }
    us->nparts = json_array_size(parts);
    us->part = arena_calloc(&rq->arena, us->nparts ? us->nparts : 1, sizeof(*us->part));
    us->part_store = arena_calloc(&rq->arena, us->nparts ? us->nparts : 1, sizeof(*us->part_store));
    json_array_foreach(parts, i, p)
    {
        int64_t n;
        bool present;
        const char *etag;
        if (!json_is_object(p)) {
            rc = err_set(&rq->err, ERR_BAD_REQUEST, "each of 'parts' must be an object");
            goto out;
        }
        if ((rc = body_fields(rq, p, PART_FIELDS, "a part")) != 0 || (rc = body_str(rq, p, "store", 64, &us->part_store[i])) != 0 ||
            (rc = body_int(rq, p, "part_number", 1, PARTS_MAX, &n, &present)) != 0 ||
            (rc = body_str(rq, p, "etag", 256, &etag)) != 0)
            goto out;
        if (us->part_store[i] == NULL || !present) {
            rc = err_set(&rq->err, ERR_BAD_REQUEST, "each part needs 'store' and 'part_number'");
            goto out;
        }
        for (const char *c = etag; c && *c; c++) {
            if ((unsigned char)*c < 0x20 || *c == 0x7f) {
                rc = err_set(&rq->err, ERR_BAD_REQUEST, "'etag' of part %lld contains a control character", (long long)n);
                goto out;
            }
        }
        us->part[i] = (blob_part_t){(int)n, etag && *etag ? etag : NULL};
    }
out:
    json_decref(body);
    return rc;
}

void h_upload_complete(rq_t *rq)
{
    const char *id;
    upload_state_t *us = arena_calloc(&rq->arena, 1, sizeof(*us));
    rq->state = us;
    int rc = upload_id(rq, &id);
    if (rc == 0)
        rc = complete_parse(rq, us);
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    rq->log_object_id = id;
    rq_read(rq, read_upload, complete_after_read);
}

/* --- POST /v1/uploads/{id}/parts --- */

static void parts_done(rq_t *rq, int rc)
{
    upload_state_t *us = rq->state;
    if (rc != 0) {
        rq->err = rq->write.err;
        rq_send_error(rq, rc);
        return;
    }
    buf_t b = BUF_INIT;
    jw_t w;
    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_kv_str(&w, "store", us->store);
    jw_key(&w, "parts");
    hx_render_parts(&w, us->signed_parts, us->nnumbers);
    jw_obj_close(&w);
    jw_finish(&w);
    rq_send_json(rq, 200, &b);
}

static void parts_after_read(rq_t *rq, int rc)
{
    upload_state_t *us = rq->state;
    const upload_t *up = us->up;
    size_t li = 0;
    if (rc != 0)
        goto fail;
    for (li = 0; li < up->obj.nlocs && strcmp(up->obj.locs[li].store, us->store) != 0; li++)
        ;
    if (li == up->obj.nlocs) {
        rc = err_set(&rq->err, ERR_BAD_REQUEST, "the upload has no copy at store '%s'", us->store);
        goto fail;
    }
    rq->snap = stores_acquire(rq->app->stores);
    signer_t *sg = loc_signer(rq, &up->obj.locs[li]);
    if (sg == NULL) {
        rc = rq->err.code;
        goto fail;
    }
    if (!loc_in_parts(up, sg)) {
        rc = err_set(&rq->err, ERR_BAD_REQUEST, "the copy at store '%s' is a single PUT, not parts", us->store);
        goto fail;
    }
    for (size_t i = 0; i < us->nnumbers; i++) {
        if (us->numbers[i] > up->parts) {
            rc = err_set(&rq->err, ERR_BAD_REQUEST, "part %d is beyond the upload's %d parts", us->numbers[i], up->parts);
            goto fail;
        }
    }
    int64_t now = rq_now_ms(rq);
    us->signed_parts = arena_alloc(&rq->arena, us->nnumbers * sizeof(hx_part_t));
    if ((rc = hx_sign_parts(rq, sg, &rq->auth.allowed, up, &up->obj.locs[li], us->numbers, us->nnumbers, now, us->expires,
                            us->signed_parts)) != 0)
        goto fail;
    /* the upload lives until its newest URLs expire, plus the grace */
    rq->write.op = DB_OP_UPLOAD_TOUCH;
    rq->write.tenant = rq->auth.tenant.id;
    rq->write.now = now;
    rq->write.in.upload_touch.upload_id = up->obj.id;
    rq->write.in.upload_touch.expires_at = now + (us->expires + rq->app->cfg->upload_grace_s) * 1000;
    rq_write(rq, parts_done);
    return;
fail:
    rq_send_error(rq, rc);
}

static const char *const PARTS_FIELDS[] = {"store", "part_numbers", NULL};

/* Reads {"store": s, "part_numbers": [n, ...]}. */
static int parts_parse(rq_t *rq, upload_state_t *us)
{
    json_t *body = NULL, *nums, *v;
    size_t i;
    int rc;
    if ((rc = body_object(rq, false, &body)) != 0 || (rc = body_fields(rq, body, PARTS_FIELDS, NULL)) != 0 ||
        (rc = body_str(rq, body, "store", 64, &us->store)) != 0)
        goto out;
    nums = json_object_get(body, "part_numbers");
    if (us->store == NULL || nums == NULL) {
        rc = err_set(&rq->err, ERR_BAD_REQUEST, "'store' and 'part_numbers' are required");
        goto out;
    }
    if (!json_is_array(nums) || json_array_size(nums) == 0 || json_array_size(nums) > HX_PARTS_PER_CALL) {
        rc = err_set(&rq->err, ERR_BAD_REQUEST, "'part_numbers' must be an array of 1 to %d part numbers", HX_PARTS_PER_CALL);
        goto out;
    }
    us->nnumbers = json_array_size(nums);
    us->numbers = arena_alloc(&rq->arena, us->nnumbers * sizeof(int));
    json_array_foreach(nums, i, v)
    {
        json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
        if (n < 1 || n > PARTS_MAX) {
            rc = err_set(&rq->err, ERR_BAD_REQUEST, "part numbers must be integers from 1 to %d", PARTS_MAX);
            goto out;
        }
        us->numbers[i] = (int)n;
    }
out:
    json_decref(body);
    return rc;
}

void h_upload_parts(rq_t *rq)
{
    const char *id;
    upload_state_t *us = arena_calloc(&rq->arena, 1, sizeof(*us));
    rq->state = us;
    int rc = upload_id(rq, &id);
    if (rc == 0)
        rc = parts_parse(rq, us);
    if (rc == 0)
        rc = hx_expires(rq, &us->expires);
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    rq->log_object_id = id;
    rq_read(rq, read_upload, parts_after_read);
}

/* --- DELETE /v1/uploads/{id} --- */

void h_upload_abort(rq_t *rq)
{
    const char *id;
    int rc = upload_id(rq, &id);
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    rq->log_object_id = id;
    rq->write.op = DB_OP_UPLOAD_ABORT;
    rq->write.tenant = rq->auth.tenant.id;
    rq->write.in.upload_abort.upload_id = id;
    rq_write(rq, hx_done_no_content);
}
