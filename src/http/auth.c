/*
 * auth.c - who is asking: the admin token or a tenant token with its scopes.
 *
 * Tenant tokens are checked by key id lookup and a constant-time comparison of SHA-256(secret);
 * the secret itself is never stored or logged. The tenant's jurisdictions are expanded once
 * here into the country set every later residency decision uses.
 */
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#include "core/token.h"
#include "http/http.h"
#include "util/crypto.h"
#include "util/timeutil.h"

/*
 * The token cache. Every tenant request used to read its key and its tenant from the database
 * (two read transactions: a quarter of a locate's time). Each loop thread now keeps what it
 * read, per key id, in a small direct-mapped table of its own (no locks, nothing shared):
 * the secret's hash, scopes, revocation, the tenant and its expanded jurisdictions.
 *
 * Revocation: http_auth_invalidate() bumps a process-wide epoch, and an entry from an older
 * epoch is never used. The server calls it after committing a change to keys or tenants and
 * before that change is acknowledged, so once `DELETE .../keys/{id}` has answered, the token is
 * refused everywhere in this process. Entries also expire after AUTH_CACHE_TTL_MS, which bounds
 * how long a change made by another process (another loci server on the same database) takes
 * to be seen. Unknown keys and refused secrets are never cached; the presented secret is
 * hashed and compared on every request, cached or not.
 */
#define AUTH_CACHE_SLOTS  64
#define AUTH_CACHE_TTL_MS 5000

typedef struct auth_entry {
    char key_id[TOKEN_KEYID_LEN + 1]; /* "" when the slot is empty */
    uint64_t epoch;
    int64_t filled_ms;
    uint8_t secret_hash[32];
    int scopes;
    bool revoked;
    tenant_t tenant; /* scalars; strings below */
    char tenant_id[65];
    char jur[256]; /* the jurisdictions, NUL-separated */
    size_t njur;
    uint8_t audit_key[96]; /* sealed */
    cset_t allowed;
} auth_entry_t;

static atomic_uint_fast64_t auth_epoch = 1;
static _Thread_local auth_entry_t auth_cache[AUTH_CACHE_SLOTS];

void http_auth_invalidate(void)
{
    atomic_fetch_add_explicit(&auth_epoch, 1, memory_order_release);
}

static auth_entry_t *cache_slot(const char *key_id)
{
    uint32_t h = 2166136261u;
    for (const char *p = key_id; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return &auth_cache[h % AUTH_CACHE_SLOTS];
}

static bool cache_get(const char *key_id, uint64_t epoch, int64_t now, auth_entry_t **out)
{
    auth_entry_t *en = cache_slot(key_id);
    *out = en;
    return en->epoch == epoch && strcmp(en->key_id, key_id) == 0 && now - en->filled_ms < AUTH_CACHE_TTL_MS;
}

/* Copies what was read into the slot; a tenant too large for it is simply not cached. */
static void cache_put(auth_entry_t *en, const db_key_t *key, const tenant_t *t, const cset_t *allowed, uint64_t epoch, int64_t now)
{
    size_t used = 0;
    en->key_id[0] = '\0';
    if (strlen(t->id) >= sizeof(en->tenant_id) || t->audit_key_sealed_len > sizeof(en->audit_key))
        return;
    for (size_t i = 0; i < t->njurisdictions; i++) {
        size_t n = strlen(t->jurisdictions[i]) + 1;
        if (used + n > sizeof(en->jur))
            return;
        memcpy(en->jur + used, t->jurisdictions[i], n);
        used += n;
    }
    en->njur = t->njurisdictions;
    memcpy(en->tenant_id, t->id, strlen(t->id) + 1);
    if (t->audit_key_sealed_len)
        memcpy(en->audit_key, t->audit_key_sealed, t->audit_key_sealed_len);
    en->tenant = *t;
    memcpy(en->secret_hash, key->secret_hash, 32);
    en->scopes = key->scopes;
    en->revoked = key->revoked_at != 0;
    en->allowed = *allowed;
    en->epoch = epoch;
    en->filled_ms = now;
    memcpy(en->key_id, key->key_id, TOKEN_KEYID_LEN + 1);
}

/* Rebuilds the tenant and key from a slot, with copies in the request's arena (a slot can be
 * replaced while the request is still in flight). */
static void cache_load(const auth_entry_t *en, rq_t *rq, db_key_t *key)
{
    tenant_t *t = &rq->auth.tenant;
    *t = en->tenant;
    t->id = arena_strdup(&rq->arena, en->tenant_id);
    t->jurisdictions = arena_alloc(&rq->arena, (en->njur + 1) * sizeof(char *));
    const char *p = en->jur;
    for (size_t i = 0; i < en->njur; i++) {
        t->jurisdictions[i] = arena_strdup(&rq->arena, p);
        p += strlen(p) + 1;
    }
    t->njurisdictions = en->njur;
    if (en->tenant.audit_key_sealed_len) {
        uint8_t *k = arena_alloc(&rq->arena, en->tenant.audit_key_sealed_len);
        memcpy(k, en->audit_key, en->tenant.audit_key_sealed_len);
        t->audit_key_sealed = k;
    }
    rq->auth.allowed = en->allowed;
    key->key_id = arena_strdup(&rq->arena, en->key_id);
    key->tenant = t->id;
    memcpy(key->secret_hash, en->secret_hash, 32);
    key->scopes = en->scopes;
    key->revoked_at = en->revoked ? 1 : 0;
}

static slice_t bearer(rq_t *rq)
{
    slice_t h = rq_header(rq, "authorization");
    if (h.base == NULL || h.len < 7 || strncasecmp(h.base, "Bearer ", 7) != 0)
        return (slice_t){NULL, 0};
    slice_t t = slice_make(h.base + 7, h.len - 7);
    while (t.len && t.base[0] == ' ')
        t.base++, t.len--;
    while (t.len && (t.base[t.len - 1] == ' ' || t.base[t.len - 1] == '\t'))
        t.len--;
    return t;
}

/* A tenant's token: its key (cached), secret, scope and tenant. */
static int tenant_authenticate(rq_t *rq, db_conn_t *c, slice_t tok)
{
    app_t *app = rq->app;
    token_parts_t parts;
    int rc;

    if (token_parse(tok, &parts) != 0)
        return err_set(&rq->err, ERR_UNAUTHORIZED, "malformed token");
    if (!slice_eq_cstr(parts.cell, app->cfg->cell))
        return err_set(&rq->err, ERR_WRONG_CELL, "token belongs to cell '%.*s', this is '%s'", (int)parts.cell.len, parts.cell.base,
                       app->cfg->cell);

    char key_id[TOKEN_KEYID_LEN + 1];
    memcpy(key_id, parts.key_id.base, TOKEN_KEYID_LEN);
    key_id[TOKEN_KEYID_LEN] = '\0';
    db_key_t key;
    uint64_t epoch = atomic_load_explicit(&auth_epoch, memory_order_acquire);
    int64_t now = time_mono_ns() / 1000000;
    auth_entry_t *slot;
    bool cached = cache_get(key_id, epoch, now, &slot);
    if (cached) {
        cache_load(slot, rq, &key);
    } else {
        rc = c->db->vt->key_get(c, key_id, &key, &rq->arena, &rq->err);
        if (rc == ERR_NOT_FOUND)
            return err_set(&rq->err, ERR_UNAUTHORIZED, "invalid token");
        if (rc != 0)
            return rc;
    }
    uint8_t h[32];
    token_secret_hash(parts.secret, h);
    if (!crypto_equal(h, key.secret_hash, 32))
        return err_set(&rq->err, ERR_UNAUTHORIZED, "invalid token");
    if (key.revoked_at != 0)
        return err_set(&rq->err, ERR_UNAUTHORIZED, "token revoked");
    rq->auth.key_id = key.key_id;
    rq->auth.scopes = key.scopes;
    int need = rq->route->auth == AUTH_WRITE ? SCOPE_WRITE : SCOPE_READ;
    if ((key.scopes & need) == 0)
        return err_set(&rq->err, ERR_FORBIDDEN, "token lacks the '%s' scope", need == SCOPE_WRITE ? "write" : "read");
    if (cached)
        return 0;
    rc = c->db->vt->tenant_get(c, key.tenant, &rq->auth.tenant, &rq->arena, &rq->err);
    if (rc == ERR_NOT_FOUND)
        return err_set(&rq->err, ERR_UNAUTHORIZED, "invalid token");
    if (rc != 0)
        return rc;
    err_t je;
    if (juris_expand(&app->cfg->groups, (const char *const *)rq->auth.tenant.jurisdictions, rq->auth.tenant.njurisdictions,
                     &rq->auth.allowed, &je) != 0) {
        /* a group removed from the configuration: the tenant may use nothing until it is fixed */
        cset_clear(&rq->auth.allowed);
    }
    cache_put(slot, &key, &rq->auth.tenant, &rq->auth.allowed, epoch, now);
    return 0;
}

int http_authenticate(rq_t *rq, db_conn_t *c)
{
    slice_t tok = bearer(rq);
    token_parts_t parts;

    if (tok.base == NULL || tok.len == 0)
        return err_set(&rq->err, ERR_UNAUTHORIZED, "missing 'Authorization: Bearer <token>'");
    if (rq->route->auth == AUTH_ADMIN) {
        if (secrets_admin_ok(rq->app->sec, tok)) {
            rq->auth.admin = true;
            return 0;
        }
        if (token_parse(tok, &parts) == 0)
            return err_set(&rq->err, ERR_FORBIDDEN, "this endpoint needs the admin token");
        return err_set(&rq->err, ERR_UNAUTHORIZED, "invalid admin token");
    }
    /* the admin token's hash is checked only for a token no tenant accepts, so that it gets its
     * own answer: the requests that pass (nearly all) skip that hash */
    int rc = tenant_authenticate(rq, c, tok);
    if (rc != 0 && secrets_admin_ok(rq->app->sec, tok))
        return err_set(&rq->err, ERR_FORBIDDEN, "the admin token cannot access objects; use a tenant token");
    return rc;
}
