/*
 * handlers.h - helpers shared by the HTTP handlers.
 */
#ifndef LOCI_HTTP_HANDLERS_H
#define LOCI_HTTP_HANDLERS_H

#include "core/object.h"
#include "http/http.h"
#include "sign/sign.h"

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

#endif
