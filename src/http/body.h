/*
 * body.h - strict JSON request bodies (jansson): duplicate keys, unknown fields and wrong
 * types are errors that name the field. Every function sets rq->err and returns an ERR_*
 * code on failure, 0 on success.
 */
#ifndef LOCI_HTTP_BODY_H
#define LOCI_HTTP_BODY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/object.h"
#include "http/http.h"

/* Parses the request body as a JSON object (*out owned by caller: json_decref). An empty body
 * gives an empty object when allow_empty. */
int body_object(rq_t *rq, bool allow_empty, json_t **out);
/* Refuses members not named in allowed (NULL-terminated). */
int body_fields(rq_t *rq, json_t *obj, const char *const *allowed, const char *where);
/* Reads an optional integer member in [min, max]; *present tells whether it was there. */
int body_int(rq_t *rq, json_t *obj, const char *name, int64_t min, int64_t max, int64_t *out, bool *present);
/* Reads an optional string member (copied into the arena); NULL when absent. null_ok accepts null as absent. */
int body_str(rq_t *rq, json_t *obj, const char *name, size_t maxlen, const char **out);
/* Reads an optional boolean member. */
int body_bool(rq_t *rq, json_t *obj, const char *name, bool *out, bool *present);
/* Reads an optional array of strings (or, when one_ok, a single string) into the arena. */
int body_strings(rq_t *rq, json_t *obj, const char *name, bool one_ok, size_t max, const char ***out, size_t *n);
/* Reads a JSON object of string tags, validated against the limits. */
int body_tags(rq_t *rq, json_t *val, const char *where, tagset_t *out);
/* The deepest nesting attrs may have (the attrs object itself is level 1). */
#define BODY_ATTRS_DEPTH_MAX 32

/* Validates attrs (an object, at most attrs_max bytes encoded, nested at most
 * BODY_ATTRS_DEPTH_MAX deep) and encodes it compactly. */
int body_attrs(rq_t *rq, json_t *val, const char **json_out);

#endif
