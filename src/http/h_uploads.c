/*
 * h_uploads.c - POST /v1/uploads/{id}/complete and DELETE /v1/uploads/{id}.
 *
 * complete checks that every target really holds the bytes before anything is committed:
 * for a local store, the file's size (and the SHA-256 computed while it was received); for a
 * remote store, a signed HEAD comparing the size. Those checks block, so they run on the I/O
 * pool; only then does the commit go to the writer.
 */
#include <stdio.h>
#include <string.h>

#include "blob/local.h"
#include "blob/remote.h"
#include "core/ids.h"
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

static int read_upload(rq_t *rq, db_conn_t *c)
{
    upload_t *up = arena_alloc(&rq->arena, sizeof(*up));
    int rc = c->db->vt->upload_get(c, rq->auth.tenant.id, rq->params[0], up, &rq->arena, &rq->err);
    if (rc == ERR_NOT_FOUND)
        return err_set(&rq->err, ERR_NOT_FOUND, "upload not found");
    if (rc == 0)
        rq->state = up;
    return rc;
}

/* Checks one target of an upload (on the I/O pool). */
static int verify_target(rq_t *rq, const upload_t *up, const location_t *l)
{
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
        sign_request_t srq = {.method = "HEAD", .name = l->name, .now = rq_now_ms(rq) / 1000, .expires = 300, .content_length = -1};
        sign_result_t su;
        if ((rc = sign_presign(sg, &rq->auth.allowed, rq->auth.tenant.id, &srq, &su, &rq->arena, &rq->err)) != 0)
            return rc;
        rc = blob_remote_request("HEAD", &su, &size, &rq->err);
        if (rc == ERR_NOT_FOUND)
            return err_set(&rq->err, ERR_CONFLICT, "nothing was uploaded to store '%s'", st->id);
        if (rc != 0)
            return err_set(&rq->err, ERR_CONFLICT, "cannot verify the upload at store '%s': %s", st->id, rq->err.msg);
    }
    if (size != o->size)
        return err_set(&rq->err, ERR_CONFLICT, "store '%s' holds %lld bytes, expected %lld", st->id, (long long)size,
                       (long long)o->size);
    return 0;
}

static void verify_all(rq_t *rq)
{
    const upload_t *up = rq->state;
    rq->job_rc = 0;
    for (size_t i = 0; i < up->obj.nlocs && rq->job_rc == 0; i++)
        rq->job_rc = verify_target(rq, up, &up->obj.locs[i]);
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

static void complete_after_read(rq_t *rq, int rc)
{
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    rq->snap = stores_acquire(rq->app->stores);
    rq_io(rq, verify_all, after_verify);
}

void h_upload_complete(rq_t *rq)
{
    const char *id;
    int rc = upload_id(rq, &id);
    if (rc == 0 && rq_body(rq).len > 0) {
        /* an empty JSON object is accepted; anything else would be silently ignored, so refuse it */
        static const char *const none[] = {NULL};
        json_t *body = NULL;
        if ((rc = body_object(rq, true, &body)) == 0)
            rc = body_fields(rq, body, none, NULL);
        json_decref(body);
    }
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    rq->log_object_id = id;
    rq_read(rq, read_upload, complete_after_read);
}

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
