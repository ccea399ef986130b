/*
 * bootstrap.c - the first-start defaults.
 */
#include "server/bootstrap.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/juris.h"
#include "core/token.h"
#include "util/crypto.h"
#include "util/timeutil.h"

static int write_sync(db_writer_t *wr, db_write_t *w, arena_t *a, err_t *e)
{
    w->arena = a;
    w->now = time_now_ms();
    int rc = db_write_sync(wr, w);
    if (rc != 0)
        *e = w->err;
    return rc;
}

/* Tenants created before the audit trail have no audit key: give them one (a tenant_updated
 * entry by "system" records it). */
static int give_audit_keys(const secrets_t *sec, db_writer_t *wr, tenant_t *tenants, size_t n, arena_t *a, err_t *e)
{
    for (size_t i = 0; i < n; i++) {
        if (tenants[i].audit_key_sealed != NULL)
            continue;
        uint8_t *sealed = arena_alloc(a, SECRETS_AUDIT_SEALED_LEN);
        if (secrets_audit_key_new(sec, tenants[i].id, sealed) != 0)
            return err_set(e, ERR_INTERNAL, "cannot make an audit key");
        tenants[i].audit_key_sealed = sealed;
        tenants[i].audit_key_sealed_len = SECRETS_AUDIT_SEALED_LEN;
        db_write_t w = {0};
        w.op = DB_OP_TENANT_PUT;
        w.in.tenant_put.t = &tenants[i];
        int rc = write_sync(wr, &w, a, e);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int bootstrap_first_start(const config_t *cfg, const secrets_t *sec, db_t *db, db_writer_t *wr, err_t *e)
{
    db_conn_t *c;
    arena_t a;
    int rc = db_conn_open(db, &c, e);
    if (rc != 0)
        return rc;
    arena_init(&a);
    db_store_row_t *rows;
    tenant_t *tenants;
    size_t nstores, ntenants;
    if ((rc = db->vt->store_list(c, &rows, &nstores, &a, e)) != 0 || (rc = db->vt->tenant_list(c, &tenants, &ntenants, &a, e)) != 0)
        goto out;
    if (nstores != 0 || ntenants != 0) {
        rc = give_audit_keys(sec, wr, tenants, ntenants, &a, e);
        goto out;
    }

    /* the local store */
    db_store_row_t store = {0};
    store.store.id = "local";
    store.store.provider = "local";
    store.store.region = cfg->local_region;
    snprintf(store.store.country, sizeof(store.store.country), "%s", cfg->local_country);
    store.store.status = STORE_ACTIVE;
    store.store.weight = 100;
    db_write_t w = {0};
    w.op = DB_OP_STORE_PUT;
    w.in.store_put.row = &store;
    if ((rc = write_sync(wr, &w, &a, e)) != 0)
        goto out;

    /* the demo tenant: the EU if the local store is there, else its country */
    juris_groups_t groups;
    juris_groups_init(&groups);
    const juris_group_t *eu = juris_groups_find(&groups, "EU");
    const char *jur[1] = {eu && cset_has(&eu->members, cfg->local_country) ? "EU" : cfg->local_country};
    tenant_t t = {.id = "demo", .jurisdictions = jur, .njurisdictions = 1, .copies = 1};
    uint8_t sealed[SECRETS_AUDIT_SEALED_LEN];
    if (secrets_audit_key_new(sec, "demo", sealed) != 0) {
        rc = err_set(e, ERR_INTERNAL, "cannot make an audit key");
        goto out;
    }
    t.audit_key_sealed = sealed;
    t.audit_key_sealed_len = sizeof(sealed);
    t.url_expires = cfg->limits.expires_default;
    t.url_expires_max = cfg->limits.expires_max;
    memset(&w, 0, sizeof(w));
    w.op = DB_OP_TENANT_PUT;
    w.in.tenant_put.t = &t;
    if ((rc = write_sync(wr, &w, &a, e)) != 0)
        goto out;

    /* its token */
    uint8_t kr[TOKEN_KEYID_RANDOM], sr[TOKEN_SECRET_RANDOM];
    char token[TOKEN_MAX], key_id[TOKEN_KEYID_LEN + 1];
    if (crypto_random(kr, sizeof(kr)) != 0 || crypto_random(sr, sizeof(sr)) != 0) {
        rc = err_set(e, ERR_INTERNAL, "no randomness");
        goto out;
    }
    token_make(cfg->cell, kr, sr, token, key_id);
    token_parts_t parts;
    token_parse(slice_cstr(token), &parts);
    db_key_t key = {.key_id = key_id, .tenant = "demo", .scopes = SCOPE_READ | SCOPE_WRITE};
    token_secret_hash(parts.secret, key.secret_hash);
    memset(&w, 0, sizeof(w));
    w.op = DB_OP_KEY_CREATE;
    w.tenant = "demo";
    w.in.key_create.key = &key;
    if ((rc = write_sync(wr, &w, &a, e)) != 0)
        goto out;

    char path[4096];
    snprintf(path, sizeof(path), "%s/demo.token", cfg->data_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        dprintf(fd, "%s\n", token);
        fsync(fd);
        close(fd);
    }
    fprintf(stderr,
            "loci: first start: created local store 'local' (%s, in %s/blobs) and tenant 'demo' (%s)\n"
            "loci: demo tenant token (also in %s):\n%s\n",
            cfg->local_country, cfg->data_dir, jur[0], path, token);
    memset(token, 0, sizeof(token));
out:
    arena_release(&a);
    db->vt->conn_close(c);
    return rc;
}
