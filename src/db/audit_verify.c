/*
 * audit_verify.c - verification of the trail as a database holds it.
 */
#include "db/audit_verify.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"
#include "util/enc.h"

#define PAGE 2000

static void cp_problem(audit_problem_t *p, int64_t seq, const char *reason)
{
    snprintf(p->tenant, sizeof(p->tenant), "%s", AUDIT_CHECKPOINTS);
    p->seq = seq;
    snprintf(p->reason, sizeof(p->reason), "%s", reason);
}

int audit_checkpoint_check(const db_checkpoint_t *cp, const uint8_t pub[32], audit_verifier_t *v, audit_problem_t *p)
{
    buf_t msg = BUF_INIT;
    audit_checkpoint_message(cp->seq, cp->time, cp->root, &msg);
    bool good = ed25519_verify(pub, msg.base, msg.len, cp->signature, cp->signature_len);
    buf_release(&msg);
    if (!good) {
        cp_problem(p, cp->seq, "checkpoint signature does not verify (forged, altered or moved)");
        return -1;
    }
    json_t *heads = json_loads(cp->heads ? cp->heads : "", 0, NULL);
    if (!json_is_array(heads)) {
        json_decref(heads);
        cp_problem(p, cp->seq, "checkpoint heads are unreadable");
        return -1;
    }
    size_t n = json_array_size(heads);
    audit_head_t *hs = calloc(n ? n : 1, sizeof(*hs));
    if (hs == NULL)
        abort();
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *h = json_array_get(heads, i);
        const char *tenant = json_string_value(json_object_get(h, "tenant"));
        const char *hash = json_string_value(json_object_get(h, "hash"));
        json_t *seq = json_object_get(h, "seq");
        if (tenant == NULL || hash == NULL || !json_is_integer(seq) || hex_decode(hash, strlen(hash), hs[i].hash, 32) != 0) {
            cp_problem(p, cp->seq, "checkpoint heads are unreadable");
            rc = -1;
            break;
        }
        hs[i].tenant = tenant;
        hs[i].seq = json_integer_value(seq);
    }
    if (rc == 0) {
        uint8_t root[32];
        audit_merkle_root(hs, n, root);
        if (!crypto_equal(root, cp->root, 32)) {
            cp_problem(p, cp->seq, "checkpoint heads do not give its signed root");
            rc = -1;
        }
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        audit_verifier_expect(v, hs[i].tenant, hs[i].seq, hs[i].hash, cp->seq);
    free(hs);
    json_decref(heads);
    return rc;
}

int db_audit_verify(db_conn_t *c, const uint8_t pub[32], audit_report_t *r, err_t *e)
{
    audit_verifier_t *v = audit_verifier_new();
    int rc = 0;
    memset(r, 0, sizeof(*r));
    r->ok = true;

    /* checkpoints first: they say which entries must exist and what they hash to */
    int64_t after = 0;
    for (;;) {
        arena_t a;
        arena_init(&a);
        db_checkpoint_t *cps;
        size_t n;
        rc = c->db->vt->checkpoint_list(c, after, PAGE, &cps, &n, &a, e);
        for (size_t i = 0; rc == 0 && r->ok && i < n; i++) {
            if (cps[i].seq != after + 1) {
                cp_problem(&r->problem, after + 1, "checkpoint missing");
                r->ok = false;
            } else if (audit_checkpoint_check(&cps[i], pub, v, &r->problem) != 0) {
                r->ok = false;
            }
            after = cps[i].seq;
            r->checkpoints++;
        }
        arena_release(&a);
        if (rc != 0 || !r->ok || n < PAGE)
            break;
    }

    /* then every chain, entry by entry */
    const char *after_tenant = "";
    int64_t after_seq = 0;
    arena_t keep;
    arena_init(&keep);
    while (rc == 0 && r->ok) {
        arena_t a;
        arena_init(&a);
        audit_entry_t *es;
        size_t n;
        rc = c->db->vt->audit_list(c, NULL, after_tenant, after_seq, PAGE, &es, &n, &a, e);
        for (size_t i = 0; rc == 0 && r->ok && i < n; i++)
            if (audit_verifier_entry(v, &es[i], &r->problem) != 0)
                r->ok = false;
        if (rc == 0 && n > 0) {
            after_tenant = arena_strdup(&keep, es[n - 1].tenant);
            after_seq = es[n - 1].seq;
        }
        arena_release(&a);
        if (n < PAGE)
            break;
    }
    arena_release(&keep);
    if (rc == 0 && r->ok && audit_verifier_finish(v, &r->problem) != 0)
        r->ok = false;
    audit_verifier_counts(v, &r->chains, &r->entries);
    audit_verifier_free(v);
    return rc;
}
