/*
 * h_audit.c - /v1/admin/audit: export the chains (JSON pages or NDJSON), list chain heads and
 * signed checkpoints, publish the checkpoint key, and verify everything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/audit_verify.h"
#include "http/handlers.h"
#include "http/render.h"
#include "util/crypto.h"
#include "util/enc.h"

#define AUDIT_PAGE_DEFAULT 1000
#define AUDIT_PAGE_MAX     100000

static void render_hash(jw_t *w, const char *key, const uint8_t h[AUDIT_HASH_LEN])
{
    char hex[2 * AUDIT_HASH_LEN + 1];
    hex_encode(h, AUDIT_HASH_LEN, hex);
    jw_kv_str(w, key, hex);
}

/* One entry as exported: detail is the exact JSON text that was hashed, as a string. */
static void render_entry(jw_t *w, const audit_entry_t *e)
{
    jw_obj_open(w);
    jw_kv_str(w, "tenant", e->tenant);
    jw_kv_int(w, "seq", e->seq);
    jw_kv_int(w, "time", e->time);
    jw_kv_str(w, "actor", e->actor);
    jw_kv_str(w, "action", e->action);
    jw_kv_str(w, "subject", e->subject);
    jw_kv_str(w, "detail", e->detail);
    render_hash(w, "prev_hash", e->prev_hash);
    render_hash(w, "hash", e->hash);
    jw_obj_close(w);
}

static int parse_count(rq_t *rq, const char *name, int64_t min, int64_t max, int64_t def, int64_t *out)
{
    const char *v = rq_query(rq, name);
    *out = def;
    if (v == NULL)
        return 0;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (*v == '\0' || *end != '\0' || n < min || n > max)
        return err_set(&rq->err, ERR_BAD_REQUEST, "'%s' must be %lld to %lld", name, (long long)min, (long long)max);
    *out = n;
    return 0;
}

/* --- GET /v1/admin/audit --- */

typedef struct list_state {
    const char *only;         /* one chain (NULL: all) */
    const char *after_tenant; /* resume after (after_tenant, after_seq) */
    int64_t after_seq;
    int64_t limit;
    bool ndjson;
    audit_entry_t *entries;
    size_t n;
} list_state_t;

static int list_read(rq_t *rq, db_conn_t *c)
{
    list_state_t *ls = rq->state;
    return c->db->vt->audit_list(c, ls->only, ls->after_tenant, ls->after_seq, (size_t)ls->limit, &ls->entries, &ls->n, &rq->arena,
                                 &rq->err);
}

static void list_after(rq_t *rq, int rc)
{
    list_state_t *ls = rq->state;
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    buf_t b = BUF_INIT;
    jw_t w;
    if (ls->ndjson) {
        for (size_t i = 0; i < ls->n; i++) {
            jw_init(&w, &b);
            render_entry(&w, &ls->entries[i]);
            jw_finish(&w);
            buf_putc(&b, '\n');
        }
        rq_send_body(rq, 200, "application/x-ndjson", &b);
        return;
    }
    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_key(&w, "entries");
    jw_arr_open(&w);
    for (size_t i = 0; i < ls->n; i++)
        render_entry(&w, &ls->entries[i]);
    jw_arr_close(&w);
    if (ls->n == (size_t)ls->limit && ls->n > 0) {
        const audit_entry_t *last = &ls->entries[ls->n - 1];
        jw_kv_str(&w, "next_after", arena_printf(&rq->arena, "%s:%lld", last->tenant, (long long)last->seq));
    } else {
        jw_kv_str(&w, "next_after", NULL);
    }
    jw_obj_close(&w);
    jw_finish(&w);
    rq_send_json(rq, 200, &b);
}

void h_audit_list(rq_t *rq)
{
    list_state_t *ls = arena_calloc(&rq->arena, 1, sizeof(*ls));
    rq->state = ls;
    slice_t accept = rq_header(rq, "accept");
    ls->ndjson = accept.base && memmem(accept.base, accept.len, "application/x-ndjson", 20) != NULL;
    ls->only = rq_query(rq, "tenant"); /* "" is the administrative chain */
    ls->after_tenant = "";
    int rc = parse_count(rq, "limit", 1, AUDIT_PAGE_MAX, AUDIT_PAGE_DEFAULT, &ls->limit);
    const char *after = rq_query(rq, "after");
    if (rc == 0 && after) {
        /* one chain: after=<seq>; every chain: after=<tenant>:<seq> as next_after gives it */
        const char *colon = ls->only ? NULL : strrchr(after, ':');
        const char *num = colon ? colon + 1 : after;
        char *end;
        long long seq = strtoll(num, &end, 10);
        if ((!ls->only && colon == NULL) || *num == '\0' || *end != '\0' || seq < 0)
            rc = err_set(&rq->err, ERR_BAD_REQUEST, "'after' must be %s", ls->only ? "a sequence number" : "<tenant>:<seq>");
        ls->after_seq = seq;
        if (colon)
            ls->after_tenant = arena_strndup(&rq->arena, after, (size_t)(colon - after));
    }
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    rq_read(rq, list_read, list_after);
}

/* --- GET /v1/admin/audit/chains --- */

typedef struct heads_state {
    audit_head_t *heads;
    size_t n;
} heads_state_t;

static int heads_read(rq_t *rq, db_conn_t *c)
{
    heads_state_t *hs = rq->state;
    return c->db->vt->audit_heads(c, &hs->heads, &hs->n, &rq->arena, &rq->err);
}

static void heads_after(rq_t *rq, int rc)
{
    heads_state_t *hs = rq->state;
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    buf_t b = BUF_INIT;
    jw_t w;
    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_key(&w, "chains");
    jw_arr_open(&w);
    for (size_t i = 0; i < hs->n; i++) {
        jw_obj_open(&w);
        jw_kv_str(&w, "tenant", hs->heads[i].tenant);
        jw_kv_int(&w, "seq", hs->heads[i].seq);
        render_hash(&w, "hash", hs->heads[i].hash);
        jw_obj_close(&w);
    }
    jw_arr_close(&w);
    jw_obj_close(&w);
    jw_finish(&w);
    rq_send_json(rq, 200, &b);
}

void h_audit_chains(rq_t *rq)
{
    rq->state = arena_calloc(&rq->arena, 1, sizeof(heads_state_t));
    rq_read(rq, heads_read, heads_after);
}

/* --- GET /v1/admin/audit/checkpoints --- */

typedef struct cp_state {
    int64_t after, limit;
    db_checkpoint_t *cps;
    size_t n;
} cp_state_t;

static int cp_read(rq_t *rq, db_conn_t *c)
{
    cp_state_t *cs = rq->state;
    return c->db->vt->checkpoint_list(c, cs->after, (size_t)cs->limit, &cs->cps, &cs->n, &rq->arena, &rq->err);
}

static void cp_after(rq_t *rq, int rc)
{
    cp_state_t *cs = rq->state;
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    buf_t b = BUF_INIT;
    jw_t w;
    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_key(&w, "checkpoints");
    jw_arr_open(&w);
    for (size_t i = 0; i < cs->n; i++) {
        const db_checkpoint_t *cp = &cs->cps[i];
        char sig[4 * ((ED25519_SIG_LEN + 2) / 3) + 1];
        base64_encode(cp->signature, cp->signature_len <= ED25519_SIG_LEN ? cp->signature_len : ED25519_SIG_LEN, sig);
        jw_obj_open(&w);
        jw_kv_int(&w, "seq", cp->seq);
        jw_kv_int(&w, "time", cp->time);
        render_hash(&w, "root", cp->root);
        jw_kv_raw(&w, "heads", cp->heads, strlen(cp->heads));
        jw_kv_str(&w, "signature", sig);
        jw_obj_close(&w);
    }
    jw_arr_close(&w);
    jw_obj_close(&w);
    jw_finish(&w);
    rq_send_json(rq, 200, &b);
}

void h_audit_checkpoints(rq_t *rq)
{
    cp_state_t *cs = arena_calloc(&rq->arena, 1, sizeof(*cs));
    rq->state = cs;
    int rc = parse_count(rq, "after", 0, INT64_MAX, 0, &cs->after);
    if (rc == 0)
        rc = parse_count(rq, "limit", 1, AUDIT_PAGE_MAX, AUDIT_PAGE_DEFAULT, &cs->limit);
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    rq_read(rq, cp_read, cp_after);
}

/* --- GET /v1/admin/audit/pubkey --- */

void h_audit_pubkey(rq_t *rq)
{
    char raw[64], pem[256];
    base64_encode(rq->app->sec->audit_pub, ED25519_KEY_LEN, raw);
    ed25519_public_pem(rq->app->sec->audit_pub, pem, sizeof(pem));
    buf_t b = BUF_INIT;
    jw_t w;
    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_kv_str(&w, "algorithm", "Ed25519");
    jw_kv_str(&w, "public_key", raw);
    jw_kv_str(&w, "public_key_pem", pem);
    jw_obj_close(&w);
    jw_finish(&w);
    rq_send_json(rq, 200, &b);
}

/* --- GET /v1/admin/audit/verify (on the I/O pool: it reads the whole trail) --- */

typedef struct verify_state {
    audit_report_t report;
} verify_state_t;

static void verify_io(rq_t *rq)
{
    verify_state_t *vs = rq->state;
    db_conn_t *c;
    rq->job_rc = db_conn_open(rq->app->db, &c, &rq->err);
    if (rq->job_rc != 0)
        return;
    rq->job_rc = db_audit_verify(c, rq->app->sec->audit_pub, &vs->report, &rq->err);
    rq->app->db->vt->conn_close(c);
}

static void verify_after(rq_t *rq, int rc)
{
    verify_state_t *vs = rq->state;
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    const audit_report_t *r = &vs->report;
    buf_t b = BUF_INIT;
    jw_t w;
    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_kv_bool(&w, "ok", r->ok);
    jw_kv_int(&w, "chains", r->chains);
    jw_kv_int(&w, "entries", r->entries);
    jw_kv_int(&w, "checkpoints", r->checkpoints);
    if (!r->ok) {
        jw_key(&w, "problem");
        jw_obj_open(&w);
        jw_kv_str(&w, "tenant", r->problem.tenant);
        jw_kv_int(&w, "seq", r->problem.seq);
        jw_kv_str(&w, "reason", r->problem.reason);
        jw_obj_close(&w);
    }
    jw_obj_close(&w);
    jw_finish(&w);
    rq_send_json(rq, 200, &b);
}

void h_audit_verify(rq_t *rq)
{
    rq->state = arena_calloc(&rq->arena, 1, sizeof(verify_state_t));
    rq_io(rq, verify_io, verify_after);
}
