/*
 * render.c - JSON answers.
 */
#include "http/render.h"

#include <stdio.h>
#include <string.h>

#include "util/timeutil.h"

void render_time(jw_t *w, int64_t ms)
{
    char ts[25];
    time_fmt_iso8601_ms(ms, ts);
    jw_str(w, ts);
}

void render_object_open(jw_t *w, const object_t *o, const store_snap_t *snap, bool with_locations)
{
    jw_obj_open(w);
    jw_kv_str(w, "id", o->id);
    jw_kv_str(w, "key", o->key);
    jw_kv_int(w, "version", o->version);
    jw_kv_str(w, "state", o->pending ? "pending" : "committed");
    jw_kv_int(w, "size", o->size);
    jw_kv_str(w, "content_type", o->content_type);
    jw_kv_str(w, "sha256", o->sha256);
    jw_kv_raw(w, "tags", o->tags_json ? o->tags_json : "{}", o->tags_json ? strlen(o->tags_json) : 2);
    jw_kv_raw(w, "attrs", o->attrs_json, o->attrs_json ? strlen(o->attrs_json) : 0);
    jw_key(w, "created_at");
    render_time(w, o->created_at);
    jw_key(w, "updated_at");
    render_time(w, o->updated_at);
    if (with_locations) {
        jw_key(w, "locations");
        jw_arr_open(w);
        for (size_t i = 0; i < o->nlocs; i++) {
            const location_t *l = &o->locs[i];
            long si = snap ? snap_find(snap, l->store) : -1;
            jw_obj_open(w);
            jw_kv_str(w, "store", l->store);
            jw_kv_str(w, "region", si >= 0 ? snap->stores[si].region : NULL);
            jw_kv_str(w, "country", si >= 0 ? snap->stores[si].country : NULL);
            jw_kv_str(w, "state", l->state == LOC_PRESENT ? "present" : "pending");
            jw_obj_close(w);
        }
        jw_arr_close(w);
    }
}

void render_object_close(jw_t *w)
{
    jw_obj_close(w);
}

void render_signed(jw_t *w, const char *method, const char *store, const sign_result_t *r, bool with_headers)
{
    jw_obj_open(w);
    jw_kv_str(w, "store", store);
    jw_kv_str(w, "method", method);
    jw_kv_str(w, "url", r->url);
    if (with_headers) {
        jw_key(w, "headers");
        jw_obj_open(w);
        for (size_t i = 0; i < r->nheaders; i++)
            jw_kv_str(w, r->headers[i].name, r->headers[i].value);
        jw_obj_close(w);
    }
    jw_key(w, "expires_at");
    render_time(w, r->expires_at * 1000);
    jw_obj_close(w);
}

void render_store(jw_t *w, const store_t *st, bool has_credentials)
{
    jw_obj_open(w);
    jw_kv_str(w, "id", st->id);
    jw_kv_str(w, "provider", st->provider);
    if (strcmp(st->provider, "local") != 0)
        jw_kv_str(w, "endpoint", st->endpoint);
    jw_kv_str(w, "bucket", st->bucket);
    jw_kv_str(w, "region", st->region);
    jw_kv_str(w, "country", st->country);
    jw_kv_str(w, "status", store_status_name(st->status));
    jw_kv_int(w, "weight", st->weight);
    jw_kv_bool(w, "path_style", st->path_style);
    jw_kv_str(w, "public_host", st->public_host);
    if (st->account)
        jw_kv_str(w, "account", st->account);
    jw_kv_bool(w, "has_credentials", has_credentials);
    jw_key(w, "created_at");
    render_time(w, st->created_at);
    jw_key(w, "updated_at");
    render_time(w, st->updated_at);
    jw_obj_close(w);
}

void render_tenant(jw_t *w, const tenant_t *t)
{
    jw_obj_open(w);
    jw_kv_str(w, "id", t->id);
    jw_key(w, "jurisdictions");
    jw_arr_open(w);
    for (size_t i = 0; i < t->njurisdictions; i++)
        jw_str(w, t->jurisdictions[i]);
    jw_arr_close(w);
    jw_kv_int(w, "copies", t->copies);
    jw_kv_int(w, "url_expires", t->url_expires);
    jw_kv_int(w, "url_expires_max", t->url_expires_max);
    jw_kv_bool(w, "audit_reads", t->audit_reads);
    jw_key(w, "created_at");
    render_time(w, t->created_at);
    jw_key(w, "updated_at");
    render_time(w, t->updated_at);
    jw_obj_close(w);
}

void render_explain(jw_t *w, const placement_result_t *r)
{
    jw_arr_open(w);
    for (size_t i = 0; i < r->nexplain; i++) {
        const placement_explain_t *x = &r->explain[i];
        jw_obj_open(w);
        jw_kv_str(w, "store", x->store->id);
        jw_kv_str(w, "verdict", x->verdict);
        jw_kv_str(w, "reason", x->reason);
        if (x->tier >= 0)
            jw_kv_int(w, "tier", x->tier);
        if (x->score > 0) {
            char s[32];
            int n = snprintf(s, sizeof(s), "%.6g", x->score);
            jw_kv_raw(w, "score", s, (size_t)n);
        }
        if (x->rank > 0)
            jw_kv_int(w, "rank", x->rank);
        jw_obj_close(w);
    }
    jw_arr_close(w);
}
