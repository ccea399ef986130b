/*
 * h_admin.c - /v1/admin: stores, tenants and tenant tokens (admin token only).
 *
 * Store credentials are write-only: they are sealed (AES-256-GCM under the master key, bound
 * to the store id) before they reach the writer, and no answer ever contains them.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/placement.h"
#include "core/token.h"
#include "http/body.h"
#include "http/handlers.h"
#include "http/render.h"
#include "util/crypto.h"

static void send_write_error(rq_t *rq, int rc)
{
    rq->err = rq->write.err;
    rq_send_error(rq, rc);
}

/* --- stores --- */

static const char *const STORE_FIELDS[] = {"provider", "endpoint",   "bucket",      "region",  "country",     "status",
                                           "weight",   "path_style", "public_host", "account", "credentials", NULL};

/* True if s looks like scheme://host[:port][/path] with scheme http or https. */
static bool url_ok(const char *s, bool allow_path)
{
    const char *host;
    if (strncmp(s, "http://", 7) == 0)
        host = s + 7;
    else if (strncmp(s, "https://", 8) == 0)
        host = s + 8;
    else
        return false;
    if (*host == '\0' || *host == '/')
        return false;
    for (const char *p = host; *p; p++) {
        if ((unsigned char)*p <= 0x20 || *p == '?' || *p == '#' || *p == '@' || *p == '\\')
            return false;
        if (*p == '/' && !allow_path)
            return false;
    }
    return true;
}

typedef struct store_put_state {
    db_store_row_t row;
    bool has_creds;
} store_put_state_t;

typedef struct store_rows {
    db_store_row_t *rows;
    size_t n;
} store_rows_t;

static int read_store_rows(rq_t *rq, db_conn_t *c)
{
    store_rows_t *sr = arena_alloc(&rq->arena, sizeof(*sr));
    rq->state = sr;
    return c->db->vt->store_list(c, &sr->rows, &sr->n, &rq->arena, &rq->err);
}

static void render_row(jw_t *w, const db_store_row_t *r)
{
    render_store(w, &r->store, r->sealed != NULL);
}

static void store_put_after_reload(rq_t *rq, int rc)
{
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    const store_rows_t *sr = rq->state;
    const db_store_row_t *rows = sr->rows;
    size_t n = sr->n;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].store.id, rq->params[0]) != 0)
            continue;
        buf_t b = BUF_INIT;
        jw_t w;
        jw_init(&w, &b);
        jw_obj_open(&w);
        jw_key(&w, "store");
        render_row(&w, &rows[i]);
        jw_obj_close(&w);
        jw_finish(&w);
        rq_send_json(rq, rq->write.created ? 201 : 200, &b);
        return;
    }
    rq_send_error(rq, err_set(&rq->err, ERR_NOT_FOUND, "store '%s' not found", rq->params[0]));
}

static void store_put_done(rq_t *rq, int rc)
{
    if (rc != 0) {
        send_write_error(rq, rc);
        return;
    }
    rq_read(rq, read_store_rows, store_put_after_reload);
}

/* Parses a PUT /v1/admin/stores/{id} body into ps->row. */
static int store_parse(rq_t *rq, store_put_state_t *ps, json_t *body)
{
    store_t *st = &ps->row.store;
    const char *s;
    int64_t n;
    bool present, b;
    int rc;

    st->id = rq->params[0];
    if (!store_id_valid(st->id))
        return err_set(&rq->err, ERR_BAD_REQUEST, "store id must be 1-64 of a-z, 0-9, '.', '_', '-'");
    if ((rc = body_fields(rq, body, STORE_FIELDS, NULL)) != 0)
        return rc;
    if ((rc = body_str(rq, body, "provider", 32, &st->provider)) != 0)
        return rc;
    if (st->provider == NULL)
        return err_set(&rq->err, ERR_BAD_REQUEST, "'provider' is required");
    bool local = strcmp(st->provider, "local") == 0;
    if (!local && sign_provider(st->provider) == NULL)
        return err_set(&rq->err, ERR_BAD_REQUEST, "unsupported provider '%s'", st->provider);
    if ((rc = body_str(rq, body, "endpoint", 512, &st->endpoint)) != 0 ||
        (rc = body_str(rq, body, "bucket", 255, &st->bucket)) != 0 || (rc = body_str(rq, body, "region", 64, &st->region)) != 0 ||
        (rc = body_str(rq, body, "public_host", 512, &st->public_host)) != 0 ||
        (rc = body_str(rq, body, "account", 255, &st->account)) != 0)
        return rc;
    if ((rc = body_str(rq, body, "country", 2, &s)) != 0)
        return rc;
    if (s == NULL || !juris_is_country(s))
        return err_set(&rq->err, ERR_BAD_REQUEST, "'country' must be an ISO 3166-1 alpha-2 code such as \"DE\"");
    memcpy(st->country, s, 3);
    if ((rc = body_str(rq, body, "status", 16, &s)) != 0)
        return rc;
    st->status = STORE_ACTIVE;
    if (s && store_status_parse(s, &st->status) != 0)
        return err_set(&rq->err, ERR_BAD_REQUEST, "'status' must be active, readonly or offline");
    st->weight = 100;
    if ((rc = body_int(rq, body, "weight", 0, 1000, &n, &present)) != 0)
        return rc;
    if (present)
        st->weight = (int)n;
    if ((rc = body_bool(rq, body, "path_style", &b, &present)) != 0)
        return rc;
    st->path_style = present && b;
    if (st->public_host && !url_ok(st->public_host, false))
        return err_set(&rq->err, ERR_BAD_REQUEST, "'public_host' must be scheme://host[:port]");
    if (st->region && st->region[0] == '\0')
        st->region = NULL;

    json_t *creds = json_object_get(body, "credentials");
    if (local) {
        if (st->endpoint || st->bucket || creds)
            return err_set(&rq->err, ERR_BAD_REQUEST, "a local store takes no endpoint, bucket or credentials");
        return 0;
    }
    if (st->endpoint == NULL && strcmp(st->provider, "gcs") == 0)
        st->endpoint = "https://storage.googleapis.com";
    if (st->endpoint == NULL || !url_ok(st->endpoint, true))
        return err_set(&rq->err, ERR_BAD_REQUEST, "'endpoint' must be an http:// or https:// URL");
    if (st->bucket == NULL || st->bucket[0] == '\0')
        return err_set(&rq->err, ERR_BAD_REQUEST, "'bucket' is required");
    if (creds && !json_is_null(creds)) {
        if (!json_is_object(creds) || json_object_size(creds) == 0)
            return err_set(&rq->err, ERR_BAD_REQUEST, "'credentials' must be an object of strings");
        const char *k;
        json_t *v;
        json_object_foreach(creds, k, v)
        {
            if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 16384)
                return err_set(&rq->err, ERR_BAD_REQUEST, "credential '%.64s' must be a non-empty string", k);
        }
        /* the signer must accept them before they are stored */
        store_t probe = *st;
        store_cred_t *list = arena_alloc(&rq->arena, json_object_size(creds) * sizeof(*list));
        size_t i = 0;
        json_object_foreach(creds, k, v)
        {
            list[i].name = k;
            list[i].value = json_string_value(v);
            i++;
        }
        probe.creds = list;
        probe.ncreds = i;
        signer_t *sg;
        err_t se;
        if (sign_create(&probe, &sg, &se) != 0)
            return err_set(&rq->err, ERR_BAD_REQUEST, "store '%s' is unusable: %s", st->id, se.msg);
        sign_destroy(sg);
        char *json = json_dumps(creds, JSON_COMPACT | JSON_SORT_KEYS);
        size_t sl;
        uint8_t *sealed = json ? stores_seal_creds(rq->app->sec, st->id, json, &sl) : NULL;
        if (json) {
            memset(json, 0, strlen(json));
            free(json);
        }
        if (sealed == NULL)
            return err_set(&rq->err, ERR_INTERNAL, "cannot encrypt credentials");
        uint8_t *copy = arena_alloc(&rq->arena, sl);
        memcpy(copy, sealed, sl);
        free(sealed);
        ps->row.sealed = copy;
        ps->row.sealed_len = sl;
        ps->has_creds = true;
    } else {
        /* replacing a store without credentials keeps the stored ones; a new one needs them */
        store_snap_t *snap = stores_acquire(rq->app->stores);
        bool exists = snap_find(snap, st->id) >= 0;
        stores_release(snap);
        if (!exists)
            return err_set(&rq->err, ERR_BAD_REQUEST, "'credentials' are required for a new %s store", st->provider);
    }
    return 0;
}

void h_store_put(rq_t *rq)
{
    store_put_state_t *ps = arena_calloc(&rq->arena, 1, sizeof(*ps));
    json_t *body = NULL;
    int rc = body_object(rq, false, &body);
    if (rc == 0)
        rc = store_parse(rq, ps, body);
    json_decref(body);
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    rq->write.op = DB_OP_STORE_PUT;
    rq->write.in.store_put.row = &ps->row;
    rq->write.in.store_put.keep_creds = !ps->has_creds;
    rq_write(rq, store_put_done);
}

static void store_get_after_read(rq_t *rq, int rc)
{
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    const store_rows_t *sr = rq->state;
    const db_store_row_t *rows = sr->rows;
    size_t n = sr->n;
    buf_t b = BUF_INIT;
    jw_t w;
    jw_init(&w, &b);
    jw_obj_open(&w);
    bool one = rq->nparams == 1;
    if (!one) {
        jw_key(&w, "stores");
        jw_arr_open(&w);
    }
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        if (one && strcmp(rows[i].store.id, rq->params[0]) != 0)
            continue;
        if (one)
            jw_key(&w, "store");
        render_row(&w, &rows[i]);
        found = true;
    }
    if (!one)
        jw_arr_close(&w);
    jw_obj_close(&w);
    jw_finish(&w);
    if (one && !found) {
        buf_release(&b);
        rq_send_error(rq, err_set(&rq->err, ERR_NOT_FOUND, "store '%s' not found", rq->params[0]));
        return;
    }
    rq_send_json(rq, 200, &b);
}

void h_store_get(rq_t *rq)
{
    rq_read(rq, read_store_rows, store_get_after_read);
}

void h_store_list(rq_t *rq)
{
    rq_read(rq, read_store_rows, store_get_after_read);
}

void h_store_delete(rq_t *rq)
{
    rq->write.op = DB_OP_STORE_DELETE;
    rq->write.in.store_delete.id = rq->params[0];
    rq_write(rq, hx_done_no_content);
}

/* --- tenants --- */

static const char *const TENANT_FIELDS[] = {"jurisdictions", "copies", "url_expires", "url_expires_max", "audit_reads", NULL};

static int read_tenant(rq_t *rq, db_conn_t *c)
{
    tenant_t *t = arena_alloc(&rq->arena, sizeof(*t));
    int rc = c->db->vt->tenant_get(c, rq->params[0], t, &rq->arena, &rq->err);
    if (rc == ERR_NOT_FOUND)
        return err_set(&rq->err, ERR_NOT_FOUND, "tenant '%s' not found", rq->params[0]);
    rq->state = t;
    return rc;
}

static void send_tenant(rq_t *rq, int status)
{
    buf_t b = BUF_INIT;
    jw_t w;
    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_key(&w, "tenant");
    render_tenant(&w, rq->state);
    jw_obj_close(&w);
    jw_finish(&w);
    rq_send_json(rq, status, &b);
}

static void tenant_put_after_read(rq_t *rq, int rc)
{
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    send_tenant(rq, rq->write.created ? 201 : 200);
}

static void tenant_put_done(rq_t *rq, int rc)
{
    if (rc != 0) {
        send_write_error(rq, rc);
        return;
    }
    rq_read(rq, read_tenant, tenant_put_after_read);
}

void h_tenant_put(rq_t *rq)
{
    const config_t *cfg = rq->app->cfg;
    tenant_t *t = arena_calloc(&rq->arena, 1, sizeof(*t));
    json_t *body = NULL;
    int64_t n;
    bool present;
    int rc;

    t->id = rq->params[0];
    if (!tenant_id_valid(t->id)) {
        rc = err_set(&rq->err, ERR_BAD_REQUEST, "tenant id must be 1-64 of a-z, 0-9, '_', '-'");
        goto fail;
    }
    if ((rc = body_object(rq, false, &body)) != 0 || (rc = body_fields(rq, body, TENANT_FIELDS, NULL)) != 0)
        goto fail;
    if ((rc = body_strings(rq, body, "jurisdictions", false, 64, &t->jurisdictions, &t->njurisdictions)) != 0)
        goto fail;
    if (t->njurisdictions == 0) {
        rc = err_set(&rq->err, ERR_BAD_REQUEST, "'jurisdictions' must list at least one country or group");
        goto fail;
    }
    cset_t set;
    if ((rc = juris_expand(&cfg->groups, t->jurisdictions, t->njurisdictions, &set, &rq->err)) != 0)
        goto fail;
    t->copies = 1;
    if ((rc = body_int(rq, body, "copies", 1, PLACEMENT_MAX_COPIES, &n, &present)) != 0)
        goto fail;
    if (present)
        t->copies = (int)n;
    t->url_expires = cfg->limits.expires_default;
    t->url_expires_max = cfg->limits.expires_max;
    if ((rc = body_int(rq, body, "url_expires", 1, SIGN_MAX_EXPIRES, &t->url_expires, NULL)) != 0 ||
        (rc = body_int(rq, body, "url_expires_max", 1, SIGN_MAX_EXPIRES, &t->url_expires_max, NULL)) != 0)
        goto fail;
    if (t->url_expires > t->url_expires_max) {
        rc = err_set(&rq->err, ERR_BAD_REQUEST, "'url_expires' is above 'url_expires_max'");
        goto fail;
    }
    if ((rc = body_bool(rq, body, "audit_reads", &t->audit_reads, NULL)) != 0)
        goto fail;
    /* a new tenant gets its audit key here; an existing one keeps the key it has */
    uint8_t *sealed = arena_alloc(&rq->arena, SECRETS_AUDIT_SEALED_LEN);
    if (secrets_audit_key_new(rq->app->sec, t->id, sealed) != 0) {
        rc = err_set(&rq->err, ERR_INTERNAL, "cannot make an audit key");
        goto fail;
    }
    t->audit_key_sealed = sealed;
    t->audit_key_sealed_len = SECRETS_AUDIT_SEALED_LEN;
    json_decref(body);
    rq->write.op = DB_OP_TENANT_PUT;
    rq->write.in.tenant_put.t = t;
    rq_write(rq, tenant_put_done);
    return;
fail:
    json_decref(body);
    rq_send_error(rq, rc);
}

static void tenant_get_after_read(rq_t *rq, int rc)
{
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    send_tenant(rq, 200);
}

void h_tenant_delete(rq_t *rq)
{
    if (!tenant_id_valid(rq->params[0])) {
        rq_send_error(rq, err_set(&rq->err, ERR_NOT_FOUND, "tenant not found"));
        return;
    }
    rq->write.op = DB_OP_TENANT_DELETE;
    rq->write.in.tenant_delete.id = rq->params[0];
    rq_write(rq, hx_done_no_content);
}

void h_tenant_get(rq_t *rq)
{
    rq_read(rq, read_tenant, tenant_get_after_read);
}

typedef struct tenant_list {
    tenant_t *t;
    size_t n;
} tenant_list_t;

static int read_tenants(rq_t *rq, db_conn_t *c)
{
    tenant_list_t *tl = arena_alloc(&rq->arena, sizeof(*tl));
    rq->state = tl;
    return c->db->vt->tenant_list(c, &tl->t, &tl->n, &rq->arena, &rq->err);
}

static void tenant_list_after_read(rq_t *rq, int rc)
{
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    tenant_list_t *tl = rq->state;
    buf_t b = BUF_INIT;
    jw_t w;
    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_key(&w, "tenants");
    jw_arr_open(&w);
    for (size_t i = 0; i < tl->n; i++)
        render_tenant(&w, &tl->t[i]);
    jw_arr_close(&w);
    jw_obj_close(&w);
    jw_finish(&w);
    rq_send_json(rq, 200, &b);
}

void h_tenant_list(rq_t *rq)
{
    rq_read(rq, read_tenants, tenant_list_after_read);
}

/* --- tokens --- */

typedef struct key_state {
    db_key_t key;
    char token[TOKEN_MAX];
    char key_id[TOKEN_KEYID_LEN + 1];
} key_state_t;

static void render_scopes(jw_t *w, int scopes)
{
    jw_arr_open(w);
    if (scopes & SCOPE_READ)
        jw_str(w, "read");
    if (scopes & SCOPE_WRITE)
        jw_str(w, "write");
    jw_arr_close(w);
}

static void key_create_done(rq_t *rq, int rc)
{
    key_state_t *ks = rq->state;
    if (rc != 0) {
        send_write_error(rq, rc);
        return;
    }
    buf_t b = BUF_INIT;
    jw_t w;
    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_kv_str(&w, "key_id", ks->key_id);
    jw_kv_str(&w, "token", ks->token);
    jw_kv_str(&w, "tenant", ks->key.tenant);
    jw_key(&w, "scopes");
    render_scopes(&w, ks->key.scopes);
    jw_key(&w, "created_at");
    render_time(&w, rq->write.now);
    jw_obj_close(&w);
    jw_finish(&w);
    rq_send_json(rq, 201, &b);
    memset(ks->token, 0, sizeof(ks->token));
}

void h_key_create(rq_t *rq)
{
    static const char *const fields[] = {"scopes", NULL};
    key_state_t *ks = arena_calloc(&rq->arena, 1, sizeof(*ks));
    json_t *body = NULL;
    const char **scopes;
    size_t n;
    int rc;
    rq->state = ks;
    if (!tenant_id_valid(rq->params[0])) {
        rc = err_set(&rq->err, ERR_NOT_FOUND, "tenant not found");
        goto fail;
    }
    if (rq_body(rq).len && !slice_starts_with(rq_header(rq, "content-type"), SLICE_LIT("application/json"))) {
        rc = err_set(&rq->err, ERR_UNSUPPORTED_MEDIA_TYPE, "request body must be application/json");
        goto fail;
    }
    if ((rc = body_object(rq, true, &body)) != 0 || (rc = body_fields(rq, body, fields, NULL)) != 0 ||
        (rc = body_strings(rq, body, "scopes", false, 8, &scopes, &n)) != 0)
        goto fail;
    ks->key.scopes = json_object_get(body, "scopes") ? 0 : SCOPE_READ | SCOPE_WRITE;
    for (size_t i = 0; i < n; i++) {
        int bit = token_scope_bit(scopes[i]);
        if (bit == 0) {
            rc = err_set(&rq->err, ERR_BAD_REQUEST, "unknown scope '%.32s' (read, write)", scopes[i]);
            goto fail;
        }
        ks->key.scopes |= bit;
    }
    if (ks->key.scopes == 0) {
        rc = err_set(&rq->err, ERR_BAD_REQUEST, "'scopes' must name read and/or write");
        goto fail;
    }
    json_decref(body);
    body = NULL;
    uint8_t kr[TOKEN_KEYID_RANDOM], sr[TOKEN_SECRET_RANDOM];
    if (crypto_random(kr, sizeof(kr)) != 0 || crypto_random(sr, sizeof(sr)) != 0) {
        rc = err_set(&rq->err, ERR_INTERNAL, "no randomness");
        goto fail;
    }
    token_make(rq->app->cfg->cell, kr, sr, ks->token, ks->key_id);
    token_parts_t parts;
    token_parse(slice_cstr(ks->token), &parts);
    token_secret_hash(parts.secret, ks->key.secret_hash);
    ks->key.key_id = ks->key_id;
    ks->key.tenant = rq->params[0];
    rq->write.op = DB_OP_KEY_CREATE;
    rq->write.tenant = rq->params[0];
    rq->write.in.key_create.key = &ks->key;
    rq_write(rq, key_create_done);
    return;
fail:
    json_decref(body);
    rq_send_error(rq, rc);
}

typedef struct key_list {
    db_key_t *keys;
    size_t n;
} key_list_t;

static int read_keys(rq_t *rq, db_conn_t *c)
{
    tenant_t t;
    int rc = c->db->vt->tenant_get(c, rq->params[0], &t, &rq->arena, &rq->err);
    if (rc == ERR_NOT_FOUND)
        return err_set(&rq->err, ERR_NOT_FOUND, "tenant '%s' not found", rq->params[0]);
    if (rc != 0)
        return rc;
    key_list_t *kl = arena_alloc(&rq->arena, sizeof(*kl));
    rq->state = kl;
    return c->db->vt->key_list(c, rq->params[0], &kl->keys, &kl->n, &rq->arena, &rq->err);
}

static void key_list_after_read(rq_t *rq, int rc)
{
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    key_list_t *kl = rq->state;
    buf_t b = BUF_INIT;
    jw_t w;
    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_key(&w, "keys");
    jw_arr_open(&w);
    for (size_t i = 0; i < kl->n; i++) {
        jw_obj_open(&w);
        jw_kv_str(&w, "key_id", kl->keys[i].key_id);
        jw_key(&w, "scopes");
        render_scopes(&w, kl->keys[i].scopes);
        jw_key(&w, "created_at");
        render_time(&w, kl->keys[i].created_at);
        jw_key(&w, "revoked_at");
        if (kl->keys[i].revoked_at)
            render_time(&w, kl->keys[i].revoked_at);
        else
            jw_null(&w);
        jw_obj_close(&w);
    }
    jw_arr_close(&w);
    jw_obj_close(&w);
    jw_finish(&w);
    rq_send_json(rq, 200, &b);
}

void h_key_list(rq_t *rq)
{
    rq_read(rq, read_keys, key_list_after_read);
}

void h_key_revoke(rq_t *rq)
{
    rq->write.op = DB_OP_KEY_REVOKE;
    rq->write.tenant = rq->params[0];
    rq->write.in.key_revoke.key_id = rq->params[1];
    rq_write(rq, hx_done_no_content);
}
