/*
 * router.c - the route table and the path matcher.
 *
 * Dispatch is a table (git's commands[], Redis' command table): method, pattern, handler,
 * the authentication it needs, and whether it takes a JSON body. In a pattern, "{}" is one
 * path segment and a final "*" is the rest of the path (the object key, which may contain
 * '/'); both are percent-decoded once into rq->params.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "http/http.h"
#include "util/enc.h"

#define R(method, pattern, handler, auth, body)                                                                                    \
    {                                                                                                                              \
        method, pattern, handler, auth, body, 1                                                                                    \
    }
/* a route whose body may be larger: complete lists up to 10,000 parts per copy */
#define R_LARGE(method, pattern, handler, auth, body, scale)                                                                       \
    {                                                                                                                              \
        method, pattern, handler, auth, body, scale                                                                                \
    }

const route_t http_routes[] = {
    R("GET", "/healthz", h_healthz, AUTH_NONE, false),
    R("GET", "/readyz", h_readyz, AUTH_NONE, false),
    R("GET", "/metrics", h_metrics, AUTH_NONE, false),
    R("GET", "/v1/objects", h_object_list, AUTH_READ, false),
    R("PUT", "/v1/objects/*", h_object_put, AUTH_WRITE, true),
    R("GET", "/v1/objects/*", h_object_get, AUTH_READ, false),
    R("HEAD", "/v1/objects/*", h_object_head, AUTH_READ, false),
    R("PATCH", "/v1/objects/*", h_object_patch, AUTH_WRITE, true),
    R("DELETE", "/v1/objects/*", h_object_delete, AUTH_WRITE, false),
    R("GET", "/v1/fetch/*", h_object_fetch, AUTH_READ, false),
    R_LARGE("POST", "/v1/uploads/{}/complete", h_upload_complete, AUTH_WRITE, false, HTTP_BODY_SCALE_MAX),
    R("POST", "/v1/uploads/{}/parts", h_upload_parts, AUTH_WRITE, true),
    R("DELETE", "/v1/uploads/{}", h_upload_abort, AUTH_WRITE, false),
    R("GET", "/v1/admin/stores", h_store_list, AUTH_ADMIN, false),
    R("PUT", "/v1/admin/stores/{}", h_store_put, AUTH_ADMIN, true),
    R("GET", "/v1/admin/stores/{}", h_store_get, AUTH_ADMIN, false),
    R("DELETE", "/v1/admin/stores/{}", h_store_delete, AUTH_ADMIN, false),
    R("GET", "/v1/admin/tenants", h_tenant_list, AUTH_ADMIN, false),
    R("PUT", "/v1/admin/tenants/{}", h_tenant_put, AUTH_ADMIN, true),
    R("GET", "/v1/admin/tenants/{}", h_tenant_get, AUTH_ADMIN, false),
    R("DELETE", "/v1/admin/tenants/{}", h_tenant_delete, AUTH_ADMIN, false),
    R("POST", "/v1/admin/tenants/{}/keys", h_key_create, AUTH_ADMIN, false),
    R("GET", "/v1/admin/tenants/{}/keys", h_key_list, AUTH_ADMIN, false),
    R("DELETE", "/v1/admin/tenants/{}/keys/{}", h_key_revoke, AUTH_ADMIN, false),
    R("GET", "/v1/admin/audit", h_audit_list, AUTH_ADMIN, false),
    R("GET", "/v1/admin/audit/chains", h_audit_chains, AUTH_ADMIN, false),
    R("GET", "/v1/admin/audit/checkpoints", h_audit_checkpoints, AUTH_ADMIN, false),
    R("GET", "/v1/admin/audit/pubkey", h_audit_pubkey, AUTH_ADMIN, false),
    R("GET", "/v1/admin/audit/verify", h_audit_verify, AUTH_ADMIN, false),
    R("GET", "/local/{}/*", h_local, AUTH_NONE, false),
    R("HEAD", "/local/{}/*", h_local, AUTH_NONE, false),
    R("PUT", "/local/{}/*", h_local, AUTH_NONE, false),
    R("DELETE", "/local/{}/*", h_local, AUTH_NONE, false),
};

const size_t http_nroutes = sizeof(http_routes) / sizeof(http_routes[0]);

/* Decodes a path parameter into the arena; NULL if malformed or it hides a NUL. */
static const char *decode_param(rq_t *rq, const char *s, size_t n)
{
    char *out = arena_alloc(&rq->arena, n + 1);
    size_t len;
    if (pct_decode(s, n, out, &len, false) != 0)
        return NULL;
    if (strlen(out) != len)
        return NULL;
    return out;
}

/* Matches path against pattern; on success fills params (raw slices). */
static bool match(const char *pattern, slice_t path, slice_t *params, size_t *nparams)
{
    const char *p = pattern;
    size_t i = 0;
    *nparams = 0;
    while (*p) {
        if (p[0] == '*' && p[1] == '\0') {
            params[(*nparams)++] = slice_make(path.base + i, path.len - i);
            return true;
        }
        if (p[0] == '{' && p[1] == '}') {
            size_t start = i;
            while (i < path.len && path.base[i] != '/')
                i++;
            if (i == start || *nparams == RQ_MAX_PARAMS)
                return false;
            params[(*nparams)++] = slice_make(path.base + start, i - start);
            p += 2;
            continue;
        }
        if (i >= path.len || path.base[i] != *p)
            return false;
        i++;
        p++;
    }
    return i == path.len;
}

const route_t *http_route_match(slice_t method, slice_t path, rq_t *rq, bool *path_matched, char *allow, size_t allowcap)
{
    slice_t params[RQ_MAX_PARAMS];
    size_t nparams;
    const route_t *found = NULL;
    size_t found_index = 0, alen = 0;
    *path_matched = false;
    allow[0] = '\0';
    for (size_t r = 0; r < http_nroutes; r++) {
        if (!match(http_routes[r].pattern, path, params, &nparams))
            continue;
        *path_matched = true;
        if (slice_eq_cstr(method, http_routes[r].method)) {
            found = &http_routes[r];
            found_index = r;
            break;
        }
        size_t ml = strlen(http_routes[r].method);
        if (alen + ml + 3 < allowcap && strstr(allow, http_routes[r].method) == NULL) {
            if (alen) {
                memcpy(allow + alen, ", ", 2);
                alen += 2;
            }
            memcpy(allow + alen, http_routes[r].method, ml + 1);
            alen += ml;
        }
    }
    if (found == NULL)
        return NULL;
    rq->route_index = (int)found_index; /* the metrics slot: the route's place in the table */
    rq->nparams = nparams;
    for (size_t i = 0; i < nparams; i++) {
        rq->params[i] = decode_param(rq, params[i].base, params[i].len);
        if (rq->params[i] == NULL)
            err_set(&rq->err, ERR_BAD_REQUEST, "malformed percent-encoding in the path");
    }
    return found;
}

static const char *route_names[sizeof(http_routes) / sizeof(http_routes[0])];
static char route_name_storage[sizeof(http_routes) / sizeof(http_routes[0])][96];
static pthread_once_t route_names_once = PTHREAD_ONCE_INIT;

static void build_route_names(void)
{
    for (size_t i = 0; i < http_nroutes; i++) {
        snprintf(route_name_storage[i], sizeof(route_name_storage[i]), "%s %s", http_routes[i].method, http_routes[i].pattern);
        route_names[i] = route_name_storage[i];
    }
}

const char *const *http_route_names(void)
{
    pthread_once(&route_names_once, build_route_names);
    return route_names;
}
