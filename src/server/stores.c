/*
 * stores.c - building and swapping store snapshots.
 */
#include "server/stores.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"

struct stores {
    db_t *db;
    db_conn_t *conn; /* used under mu */
    const secrets_t *sec;
    const config_t *cfg;
    pthread_mutex_t mu;
    store_snap_t *cur;
};

static void snap_free(store_snap_t *snap)
{
    for (size_t i = 0; i < snap->n; i++)
        sign_destroy(snap->signers[i]);
    arena_release(&snap->arena);
    free(snap);
}

void stores_release(store_snap_t *snap)
{
    if (snap && atomic_fetch_sub_explicit(&snap->refs, 1, memory_order_acq_rel) == 1)
        snap_free(snap);
}

store_snap_t *stores_acquire(stores_t *s)
{
    pthread_mutex_lock(&s->mu);
    store_snap_t *snap = s->cur;
    atomic_fetch_add_explicit(&snap->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&s->mu);
    return snap;
}

long snap_find(const store_snap_t *snap, const char *id)
{
    size_t lo = 0, hi = snap->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(snap->stores[mid].id, id);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

uint8_t *stores_seal_creds(const secrets_t *sec, const char *store_id, const char *json, size_t *len)
{
    size_t n = strlen(json);
    uint8_t *out = malloc(n + AEAD_OVERHEAD);
    if (out == NULL || aead_seal(sec->creds_key, store_id, strlen(store_id), json, n, out) != 0) {
        free(out);
        return NULL;
    }
    *len = n + AEAD_OVERHEAD;
    return out;
}

/* Decrypts a row's credentials into st->creds. Returns NULL or a problem description. */
static const char *open_creds(const secrets_t *sec, const db_store_row_t *r, store_t *st, arena_t *a)
{
    if (r->sealed == NULL)
        return NULL;
    uint8_t *pt = arena_alloc(a, r->sealed_len);
    size_t n;
    if (aead_open(sec->creds_key, st->id, strlen(st->id), r->sealed, r->sealed_len, pt, &n) != 0)
        return "credentials cannot be decrypted with this master key";
    json_t *obj = json_loadb((const char *)pt, n, 0, NULL);
    memset(pt, 0, n);
    if (!json_is_object(obj)) {
        json_decref(obj);
        return "credentials are not a JSON object";
    }
    size_t cnt = json_object_size(obj), i = 0;
    store_cred_t *creds = arena_alloc(a, (cnt ? cnt : 1) * sizeof(*creds));
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (!json_is_string(v))
            continue;
        creds[i].name = arena_strdup(a, k);
        creds[i].value = arena_strdup(a, json_string_value(v));
        i++;
    }
    json_decref(obj);
    st->creds = creds;
    st->ncreds = i;
    return NULL;
}

/* For a local store: loci's own URL as endpoint and credentials derived from the master key. */
static void local_fill(const stores_t *s, store_t *st, arena_t *a)
{
    char akid[80], secret[65];
    secrets_local_creds(s->sec, st->id, akid, secret);
    store_cred_t *creds = arena_alloc(a, 2 * sizeof(*creds));
    creds[0].name = "access_key_id";
    creds[0].value = arena_strdup(a, akid);
    creds[1].name = "secret_access_key";
    creds[1].value = arena_strdup(a, secret);
    st->creds = creds;
    st->ncreds = 2;
    st->endpoint = arena_strdup(a, s->cfg->public_url);
    if (st->region == NULL || st->region[0] == '\0')
        st->region = "local";
}

static int build(stores_t *s, store_snap_t **out, err_t *e)
{
    store_snap_t *snap = calloc(1, sizeof(*snap));
    if (snap == NULL)
        return err_set(e, ERR_NOMEM, NULL);
    atomic_init(&snap->refs, 1);
    arena_init(&snap->arena);
    db_store_row_t *rows;
    size_t n;
    int rc = s->db->vt->store_list(s->conn, &rows, &n, &snap->arena, e);
    if (rc != 0) {
        snap_free(snap);
        return rc;
    }
    snap->n = n;
    snap->stores = arena_calloc(&snap->arena, n ? n : 1, sizeof(store_t));
    snap->signers = arena_calloc(&snap->arena, n ? n : 1, sizeof(signer_t *));
    snap->problems = arena_calloc(&snap->arena, n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        store_t *st = &snap->stores[i];
        *st = rows[i].store; /* rows are sorted by id */
        const char *problem = NULL;
        if (strcmp(st->provider, "local") == 0)
            local_fill(s, st, &snap->arena);
        else
            problem = open_creds(s->sec, &rows[i], st, &snap->arena);
        if (problem == NULL) {
            err_t se;
            if (sign_create(st, &snap->signers[i], &se) != 0)
                problem = arena_strdup(&snap->arena, se.msg);
        }
        if (problem) {
            snap->signers[i] = NULL;
            snap->problems[i] = problem;
            fprintf(stderr, "loci: store '%s' cannot sign: %s\n", st->id, problem);
        }
    }
    *out = snap;
    return 0;
}

int stores_reload(stores_t *s, err_t *e)
{
    store_snap_t *snap, *old;
    pthread_mutex_lock(&s->mu);
    int rc = build(s, &snap, e);
    if (rc == 0) {
        old = s->cur;
        s->cur = snap;
    }
    pthread_mutex_unlock(&s->mu);
    if (rc == 0)
        stores_release(old);
    return rc;
}

/* True if rows (sorted by id) are the stores of snap, as last changed. */
static bool snap_matches(const store_snap_t *snap, const db_store_row_t *rows, size_t n)
{
    if (snap->n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(snap->stores[i].id, rows[i].store.id) != 0 || snap->stores[i].updated_at != rows[i].store.updated_at)
            return false;
    return true;
}

int stores_refresh(stores_t *s, err_t *e)
{
    arena_t a;
    db_store_row_t *rows;
    size_t n;
    arena_init(&a);
    pthread_mutex_lock(&s->mu);
    int rc = s->db->vt->store_list(s->conn, &rows, &n, &a, e);
    bool same = rc == 0 && snap_matches(s->cur, rows, n);
    pthread_mutex_unlock(&s->mu);
    arena_release(&a);
    if (rc != 0 || same)
        return rc;
    return stores_reload(s, e);
}

int stores_new(db_t *db, const secrets_t *sec, const config_t *cfg, stores_t **out, err_t *e)
{
    stores_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return err_set(e, ERR_NOMEM, NULL);
    s->db = db;
    s->sec = sec;
    s->cfg = cfg;
    pthread_mutex_init(&s->mu, NULL);
    int rc = db->vt->conn_open(db, &s->conn, e);
    if (rc == 0)
        rc = build(s, &s->cur, e);
    if (rc != 0) {
        if (s->conn)
            db->vt->conn_close(s->conn);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void stores_free(stores_t *s)
{
    if (s == NULL)
        return;
    stores_release(s->cur);
    s->db->vt->conn_close(s->conn);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
