/*
 * handlers.h - helpers shared by the HTTP handlers.
 */
#ifndef LOCI_HTTP_HANDLERS_H
#define LOCI_HTTP_HANDLERS_H

#include "core/object.h"
#include "http/http.h"
#include "sign/sign.h"
#include "util/jsonw.h"

/* The object key from the path, validated. */
int hx_key(rq_t *rq, const char **key);
/* The URL lifetime from ?expires= (default the tenant's; at most the tenant's maximum). */
int hx_expires(rq_t *rq, int64_t *out);
/* The client's region hint from ?region=, or NULL. */
const char *hx_region(rq_t *rq);
/* If-Match / If-None-Match as a condition. */
int hx_condition(rq_t *rq, cond_t *c);
/* Chooses the copy to read and signs a GET for it. */
int hx_sign_read(rq_t *rq, const object_t *o, int64_t expires, sign_result_t *out, const char **store);

/* Validates the key in the path, then reads the committed object into rq->state and continues
 * with next(rq, rc) (ERR_NOT_FOUND "object not found" when there is none). */
void hx_read_object(rq_t *rq, void (*next)(rq_t *rq, int rc));
/* Answers {"object": <o with locations>} with status. */
void hx_send_object(rq_t *rq, int status, const object_t *o);
/* Fills rq->write.audit: the actor (token key id or "admin") and, when key is not NULL, the
 * subject (HMAC of the key under the tenant's audit key). Returns 0 or ERR_UNAVAILABLE. */
int hx_audit(rq_t *rq, const char *key);
/* A write's continuation that answers 204, or the write's error. */
void hx_done_no_content(rq_t *rq, int rc);
/* A write's continuation that answers 200 {"object": ...} with the written object, or the error. */
void hx_done_object(rq_t *rq, int rc);

/* --- multipart uploads (h_uploads.c) --- */

/* How many part URLs the start of an upload hands out; more come from POST .../parts. */
#define HX_FIRST_PARTS 16
/* How many part URLs one POST .../parts may ask for. */
#define HX_PARTS_PER_CALL 1000

/* A signed part URL. */
typedef struct hx_part {
    int part_number;
    sign_result_t su;
} hx_part_t;

/* Signs PUT URLs for parts numbers[0..n) of upload up's copy at location l (each bound to its
 * part's size), valid expires seconds from now_ms, into out[0..n). Returns 0 or the signer's
 * error (in rq->err). */
int hx_sign_parts(rq_t *rq, signer_t *sg, const cset_t *allowed, const upload_t *up, const location_t *l, const int *numbers,
                  size_t n, int64_t now_ms, int64_t expires, hx_part_t *out);
/* Writes [{"part_number","url","headers","expires_at"}, ...]. */
void hx_render_parts(jw_t *w, const hx_part_t *p, size_t n);

#endif
