/*
 * h_local.c - loci serving the bytes of its `local` stores: GET, HEAD, PUT and DELETE on
 * /local/<store>/<tenant>/<object id>, each checked against the SigV4 query signature loci's
 * local signer made for that store and method. File work (write, fsync, rename, unlink) runs
 * on the I/O pool.
 */
#include <stdio.h>
#include <string.h>

#include "blob/local.h"
#include "http/http.h"
#include "util/crypto.h"
#include "util/enc.h"
#include "util/timeutil.h"

typedef struct local_state {
    char path[4096];
    const store_t *store;
    char sha[65];
    char ctype[256];
    int64_t size;
} local_state_t;

/* Request headers for signature checks. h2o keeps Content-Length out of the header list (it
 * becomes the body's length), so that one is answered from the body actually received. */
static slice_t header_cb(void *ctx, const char *lname)
{
    rq_t *rq = ctx;
    if (strcmp(lname, "content-length") == 0) {
        if (rq->req->entity.base == NULL)
            return (slice_t){NULL, 0};
        char *v = arena_printf(&rq->arena, "%zu", rq->req->entity.len);
        return slice_cstr(v);
    }
    return rq_header(rq, lname);
}

static void local_put_io(rq_t *rq)
{
    local_state_t *ls = rq->state;
    slice_t body = rq_body(rq);
    slice_t ct = rq_header(rq, "content-type");
    /* a declared checksum (S3's x-amz-checksum-sha256, signed when loci knew the digest) is
     * checked before anything is written, as S3 does */
    slice_t want = rq_header(rq, "x-amz-checksum-sha256");
    if (want.base) {
        uint8_t d[SHA256_LEN];
        char got[48];
        sha256(body.base, body.len, d);
        size_t n = base64_encode(d, SHA256_LEN, got);
        if (want.len != n || memcmp(want.base, got, n) != 0) {
            rq->job_rc = err_set(&rq->err, ERR_BAD_REQUEST, "body does not match x-amz-checksum-sha256");
            return;
        }
    }
    char ctype[256] = "";
    if (ct.base)
        snprintf(ctype, sizeof(ctype), "%.*s", (int)(ct.len < 255 ? ct.len : 255), ct.base);
    rq->job_rc = blob_local_write(ls->path, body.base, body.len, ctype, ls->sha, &rq->err);
}

static void local_put_done(rq_t *rq, int rc)
{
    local_state_t *ls = rq->state;
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    char etag[70];
    snprintf(etag, sizeof(etag), "\"%s\"", ls->sha);
    rq_add_header(rq, "etag", etag);
    rq_send_empty(rq, 200);
}

static void local_stat_io(rq_t *rq)
{
    local_state_t *ls = rq->state;
    rq->job_rc = blob_local_stat(ls->path, &ls->size, ls->sha, ls->ctype, &rq->err);
}

static void local_get_done(rq_t *rq, int rc)
{
    local_state_t *ls = rq->state;
    if (rc == ERR_NOT_FOUND)
        rc = err_set(&rq->err, ERR_NOT_FOUND, "no such object in store '%s'", ls->store->id);
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    const char *ctype = ls->ctype[0] ? ls->ctype : "application/octet-stream";
    /* download overrides, as S3 answers them (the signature covers the query) */
    const char *rct = rq_query(rq, "response-content-type"), *rcd = rq_query(rq, "response-content-disposition");
    if (rct && *rct)
        ctype = rct;
    if (rcd && *rcd)
        rq_add_header(rq, "content-disposition", rcd);
    if (ls->sha[0]) {
        char etag[70];
        snprintf(etag, sizeof(etag), "\"%s\"", ls->sha);
        rq_add_header(rq, "etag", etag);
    }
    if (slice_eq_cstr(rq_method(rq), "HEAD")) {
        rq_add_header(rq, "content-type", ctype);
        rq_send_head(rq, 200, ls->size);
        return;
    }
    rq_send_file(rq, ls->path, ctype);
}

static void local_delete_io(rq_t *rq)
{
    local_state_t *ls = rq->state;
    rq->job_rc = blob_local_delete(ls->path, &rq->err);
}

static void local_delete_done(rq_t *rq, int rc)
{
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    rq_send_empty(rq, 204);
}

void h_local(rq_t *rq)
{
    local_state_t *ls = arena_calloc(&rq->arena, 1, sizeof(*ls));
    const char *store_id = rq->params[0], *name = rq->params[1];
    int rc;
    rq->state = ls;
    rq->snap = stores_acquire(rq->app->stores);
    long si = snap_find(rq->snap, store_id);
    if (si < 0 || strcmp(rq->snap->stores[si].provider, "local") != 0 || !blob_local_name_valid(slice_cstr(name))) {
        rq_send_error(rq, err_set(&rq->err, ERR_NOT_FOUND, "no such object"));
        return;
    }
    ls->store = &rq->snap->stores[si];
    int64_t signed_length = -1;
    sign_verify_request_t vr = {
        .method = rq_method(rq),
        .path = rq->path,
        .query = rq->query,
        .host = slice_make(rq->req->authority.base, rq->req->authority.len),
        .header = header_cb,
        .header_ctx = rq,
        .now = rq_now_ms(rq) / 1000,
    };
    if ((rc = sign_local_verify(ls->store, &vr, &signed_length, &rq->err)) != 0) {
        rq_send_error(rq, rc);
        return;
    }
    char root[4096];
    snprintf(root, sizeof(root), "%s/blobs", rq->app->cfg->data_dir);
    if (blob_local_path(root, store_id, name, ls->path, sizeof(ls->path)) != 0) {
        rq_send_error(rq, err_set(&rq->err, ERR_BAD_REQUEST, "object name too long"));
        return;
    }
    slice_t m = rq_method(rq);
    if (slice_eq_cstr(m, "PUT")) {
        slice_t body = rq_body(rq);
        if (signed_length < 0 || (int64_t)body.len != signed_length) {
            rq_send_error(rq, err_set(&rq->err, ERR_BAD_REQUEST, "body is %zu bytes, the URL was signed for %lld", body.len,
                                      (long long)signed_length));
            return;
        }
        rq_io(rq, local_put_io, local_put_done);
    } else if (slice_eq_cstr(m, "DELETE")) {
        rq_io(rq, local_delete_io, local_delete_done);
    } else {
        rq_io(rq, local_stat_io, local_get_done);
    }
}
