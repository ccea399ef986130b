/*
 * render.h - the JSON shapes of API answers (objects, signed URLs, stores, tenants).
 */
#ifndef LOCI_HTTP_RENDER_H
#define LOCI_HTTP_RENDER_H

#include "core/object.h"
#include "core/placement.h"
#include "core/tenant.h"
#include "server/stores.h"
#include "sign/sign.h"
#include "util/jsonw.h"

/* Writes the object JSON; locations (with each store's region and country from snap) when
 * with_locations. The caller closes nothing: this writes one complete value. */
void render_object_open(jw_t *w, const object_t *o, const store_snap_t *snap, bool with_locations);
/* Closes what render_object_open opened (callers may add members in between). */
void render_object_close(jw_t *w);
/* Writes {"method","url","store","expires_at"} for a signed URL (and "headers" when with_headers). */
void render_signed(jw_t *w, const char *method, const char *store, const sign_result_t *r, bool with_headers);
/* Writes a store without credentials. */
void render_store(jw_t *w, const store_t *st, bool has_credentials);
/* Writes a tenant. */
void render_tenant(jw_t *w, const tenant_t *t);
/* Writes the ?explain=1 placement detail array. */
void render_explain(jw_t *w, const placement_result_t *r);
/* Writes an RFC 3339 timestamp value with milliseconds. */
void render_time(jw_t *w, int64_t ms);

#endif
