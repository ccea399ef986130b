/*
 * auth.c - who is asking: the admin token or a tenant token with its scopes.
 *
 * Tenant tokens are checked by key id lookup and a constant-time comparison of SHA-256(secret);
 * the secret itself is never stored or logged. The tenant's jurisdictions are expanded once
 * here into the country set every later residency decision uses.
 */
#include <string.h>
#include <strings.h>

#include "core/token.h"
#include "http/http.h"
#include "util/crypto.h"

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

int http_authenticate(rq_t *rq, db_conn_t *c)
{
    app_t *app = rq->app;
    slice_t tok = bearer(rq);
    token_parts_t parts;
    int rc;

    if (tok.base == NULL || tok.len == 0)
        return err_set(&rq->err, ERR_UNAUTHORIZED, "missing 'Authorization: Bearer <token>'");
    bool is_admin = secrets_admin_ok(app->sec, tok);
    if (rq->route->auth == AUTH_ADMIN) {
        if (is_admin) {
            rq->auth.admin = true;
            return 0;
        }
        if (token_parse(tok, &parts) == 0)
            return err_set(&rq->err, ERR_FORBIDDEN, "this endpoint needs the admin token");
        return err_set(&rq->err, ERR_UNAUTHORIZED, "invalid admin token");
    }
    if (is_admin)
        return err_set(&rq->err, ERR_FORBIDDEN, "the admin token cannot access objects; use a tenant token");
    if (token_parse(tok, &parts) != 0)
        return err_set(&rq->err, ERR_UNAUTHORIZED, "malformed token");
    if (!slice_eq_cstr(parts.cell, app->cfg->cell))
        return err_set(&rq->err, ERR_WRONG_CELL, "token belongs to cell '%.*s', this is '%s'", (int)parts.cell.len, parts.cell.base,
                       app->cfg->cell);

    char key_id[TOKEN_KEYID_LEN + 1];
    memcpy(key_id, parts.key_id.base, TOKEN_KEYID_LEN);
    key_id[TOKEN_KEYID_LEN] = '\0';
    db_key_t key;
    rc = c->db->vt->key_get(c, key_id, &key, &rq->arena, &rq->err);
    if (rc == ERR_NOT_FOUND)
        return err_set(&rq->err, ERR_UNAUTHORIZED, "invalid token");
    if (rc != 0)
        return rc;
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
    return 0;
}
