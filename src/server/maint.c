/*
 * maint.c - the maintenance thread.
 *
 * Erasure: the erasures table is a durable queue filled in the same transaction as the change
 * that orphaned a copy. This thread deletes each copy at its store (a file for local stores, a
 * signed DELETE for remote ones; already gone counts as done) and then removes the queue entry;
 * a failure is counted and retried later, after entries that have not failed yet.
 *
 * Stores: every stores_refresh_ms the store snapshot is compared with the database and rebuilt
 * if another server on the same database changed a store (this server's own changes rebuild it
 * at once, from the writer's commit hook).
 */
#include "server/maint.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blob/local.h"
#include "blob/multipart.h"
#include "blob/remote.h"
#include "server/checkpoint.h"
#include "util/pool.h"
#include "util/timeutil.h"

#define MAINT_ERASE_BATCH 100

struct maint {
    const config_t *cfg;
    db_t *db;
    db_writer_t *wr;
    stores_t *stores;
    db_conn_t *conn;
    checkpointer_t cp;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

static int erase_one(maint_t *m, store_snap_t *snap, const db_erasure_t *x, arena_t *a, err_t *e)
{
    long si = snap_find(snap, x->store);
    if (si < 0)
        return err_set(e, ERR_NOT_FOUND, "store '%s' is gone", x->store);
    const store_t *st = &snap->stores[si];
    if (strcmp(st->provider, "local") == 0) {
        char root[4096], path[4096];
        snprintf(root, sizeof(root), "%s/blobs", m->cfg->data_dir);
        if (blob_local_path(root, st->id, x->name, path, sizeof(path)) != 0)
            return err_set(e, ERR_INTERNAL, "path too long");
        return blob_local_delete(path, e);
    }
    if (snap->signers[si] == NULL)
        return err_set(e, ERR_UNAVAILABLE, "store '%s' cannot sign: %s", st->id, snap->problems[si]);
    /* loci erasing its own copy: the store's own country is the only one involved */
    cset_t here;
    cset_clear(&here);
    cset_add(&here, st->country);
    int64_t now = time_now_ms() / 1000;
    /* an unfinished multipart upload first: its parts are stored (and billed) until aborted */
    blob_mp_target_t t = {snap->signers[si], &here, x->tenant, x->name, now};
    int rc = blob_mp_abort(&t, x->mp_id, a, e);
    if (rc != 0)
        return rc;
    sign_request_t srq = {.method = "DELETE", .name = x->name, .now = now, .expires = 300, .content_length = -1};
    sign_result_t su;
    rc = sign_presign(snap->signers[si], &here, x->tenant, &srq, &su, a, e);
    if (rc != 0)
        return rc;
    rc = blob_remote_request("DELETE", &su, NULL, e);
    return rc == ERR_NOT_FOUND ? 0 : rc;
}

static void finish(maint_t *m, int64_t seq, int rc, const char *error, arena_t *a)
{
    db_write_t w = {0};
    w.op = DB_OP_ERASURE_DONE;
    w.arena = a;
    w.now = time_now_ms();
    w.in.erasure_done.seq = seq;
    w.in.erasure_done.ok = rc == 0;
    w.in.erasure_done.error = error;
    db_write_sync(m->wr, &w);
}

/* One round over the queue; returns how many new (never failed) entries it handled, and sets
 * *retried when it only retried failed ones. */
static size_t erase_round(maint_t *m, bool *retried)
{
    arena_t a;
    arena_init(&a);
    db_erasure_t *list;
    size_t n = 0;
    err_t e;
    if (m->db->vt->erasure_list(m->conn, MAINT_ERASE_BATCH, &list, &n, &a, &e) != 0) {
        fprintf(stderr, "loci: erasure queue: %s\n", e.msg);
        arena_release(&a);
        return 0;
    }
    store_snap_t *snap = n ? stores_acquire(m->stores) : NULL;
    size_t fresh = 0;
    *retried = false;
    for (size_t i = 0; i < n; i++) {
        if (list[i].attempts > 0 && fresh > 0)
            break; /* retry failed ones only when nothing new is waiting */
        err_clear(&e);
        int rc = erase_one(m, snap, &list[i], &a, &e);
        finish(m, list[i].seq, rc, e.msg, &a);
        if (list[i].attempts == 0)
            fresh++;
        else
            *retried = true;
    }
    stores_release(snap);
    arena_release(&a);
    return fresh;
}

static void expire_uploads(maint_t *m)
{
    arena_t a;
    arena_init(&a);
    db_write_t w = {0};
    w.op = DB_OP_UPLOADS_EXPIRE;
    w.arena = &a;
    w.now = time_now_ms();
    db_write_sync(m->wr, &w);
    arena_release(&a);
}

/* Temporary files of local-store writes that a crash cut off: gone at the next start. */
#define TMP_SWEEP_AGE_S 600

static void *maint_main(void *arg)
{
    maint_t *m = arg;
    thread_name("maint");
    int64_t last_expire = 0, last_refresh = time_now_ms();
    int refresh_ms = m->cfg->stores_refresh_ms;
    char root[4200];
    snprintf(root, sizeof(root), "%s/blobs", m->cfg->data_dir);
    size_t swept = blob_local_sweep_tmp(root, TMP_SWEEP_AGE_S);
    if (swept)
        fprintf(stderr, "loci: removed %zu temporary files left by interrupted writes in %s\n", swept, root);
    pthread_mutex_lock(&m->mu);
    while (!m->stop) {
        pthread_mutex_unlock(&m->mu);
        bool retried = false;
        size_t done = erase_round(m, &retried);
        int64_t now = time_now_ms();
        if (now - last_expire >= m->cfg->expire_interval_ms) {
            expire_uploads(m);
            last_expire = now;
        }
        err_t e;
        /* stores changed through another server on the same database */
        if (refresh_ms > 0 && now - last_refresh >= refresh_ms) {
            if (stores_refresh(m->stores, &e) != 0)
                fprintf(stderr, "loci: refreshing stores: %s\n", e.msg);
            last_refresh = now;
        }
        if (checkpointer_tick(&m->cp, false, &e) != 0)
            fprintf(stderr, "loci: audit checkpoint: %s\n", e.msg);
        pthread_mutex_lock(&m->mu);
        if (m->stop)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        /* busy queue: go on at once; failures only: back off */
        long wait_ms = done == MAINT_ERASE_BATCH ? 10 : done == 0 && retried ? 30000 : 500;
        if (refresh_ms > 0 && wait_ms > refresh_ms)
            wait_ms = refresh_ms;
        ts.tv_nsec += wait_ms * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&m->cv, &m->mu, &ts);
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

int maint_start(const config_t *cfg, const secrets_t *sec, db_t *db, db_writer_t *wr, stores_t *stores, maint_t **out, err_t *e)
{
    maint_t *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return err_set(e, ERR_NOMEM, NULL);
    m->cfg = cfg;
    m->db = db;
    m->wr = wr;
    m->stores = stores;
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    int rc = db_conn_open(db, &m->conn, e);
    if (rc != 0) {
        free(m);
        return rc;
    }
    if ((rc = checkpointer_init(&m->cp, cfg, sec, db, m->conn, wr, e)) != 0) {
        db->vt->conn_close(m->conn);
        free(m);
        return rc;
    }
    if (pthread_create(&m->thread, NULL, maint_main, m) != 0) {
        db->vt->conn_close(m->conn);
        free(m);
        return err_set(e, ERR_INTERNAL, "cannot start the maintenance thread");
    }
    *out = m;
    return 0;
}

void maint_stop(maint_t *m)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    m->stop = true;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->thread, NULL);
    err_t e;
    if (checkpointer_tick(&m->cp, true, &e) != 0)
        fprintf(stderr, "loci: final audit checkpoint: %s\n", e.msg);
    m->db->vt->conn_close(m->conn);
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->cv);
    free(m);
}
