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

#endif
