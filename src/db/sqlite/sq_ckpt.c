/*
 * sq_ckpt.c - WAL checkpoints off the commit path.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that grows the WAL past 1,000 pages:
 * that commit copies the pages into the database file and fsyncs it, and every write request
 * of its group waits (the p99 of the write workload was 170 ms). Here the writer connection
 * only reports its WAL size (sqlite3_wal_hook) and a thread of its own, on a connection of its
 * own, runs PASSIVE checkpoints: they copy what no reader still needs while the writer goes on
 * committing into the WAL. Readers never wait for either.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "db/sqlite/sq.h"
#include "util/pool.h"

/* WAL pages that wake the checkpointer. SQLite's default of 1,000 checkpointed many times a
 * second under the write benchmark, each time syncing both files and copying again the pages
 * every write touches (the indexes' right edges, the audit heads); at 4,000 a durable write
 * costs ~5% less CPU (benchmarks.md); 16,000 gave nothing more. */
#define CKPT_PAGES    4000
#define CKPT_IDLE_MS  1000 /* and at least this often while the WAL holds anything */

struct sq_ckpt {
    sq_conn_t *conn;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int wal_pages; /* as the writer last reported */
    bool stop;
};

static int wal_hook(void *arg, sqlite3 *h, const char *name, int pages)
{
    (void)h;
    (void)name;
    sq_ckpt_t *k = arg;
    pthread_mutex_lock(&k->mu);
    k->wal_pages = pages;
    if (pages >= CKPT_PAGES)
        pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
    return SQLITE_OK;
}

static void *run(void *arg)
{
    sq_ckpt_t *k = arg;
    thread_name("checkpoint");
    pthread_mutex_lock(&k->mu);
    while (!k->stop) {
        if (k->wal_pages < CKPT_PAGES) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += CKPT_IDLE_MS / 1000;
            pthread_cond_timedwait(&k->cv, &k->mu, &until);
            if (k->stop || k->wal_pages == 0)
                continue;
        }
        k->wal_pages = 0;
        pthread_mutex_unlock(&k->mu);
        int log = 0, done = 0;
        int rc = sqlite3_wal_checkpoint_v2(k->conn->h, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
            fprintf(stderr, "loci: sqlite checkpoint: %s\n", sqlite3_errmsg(k->conn->h));
        pthread_mutex_lock(&k->mu);
    }
    pthread_mutex_unlock(&k->mu);
    return NULL;
}

int sq_ckpt_start(sq_db_t *db, err_t *e)
{
    sq_ckpt_t *k = calloc(1, sizeof(*k));
    int rc;
    if (k == NULL)
        return err_set(e, ERR_NOMEM, NULL);
    if ((rc = sq_conn_connect(db, false, &k->conn, e)) != 0) {
        free(k);
        return rc;
    }
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
    if (pthread_create(&k->thread, NULL, run, k) != 0) {
        pthread_cond_destroy(&k->cv);
        pthread_mutex_destroy(&k->mu);
        sq_conn_free(k->conn);
        free(k);
        return err_set(e, ERR_NOMEM, "cannot start the checkpoint thread");
    }
    sqlite3_wal_autocheckpoint(db->writer->h, 0);
    sqlite3_wal_hook(db->writer->h, wal_hook, k);
    db->ckpt = k;
    return 0;
}

void sq_ckpt_stop(sq_db_t *db)
{
    sq_ckpt_t *k = db->ckpt;
    if (k == NULL)
        return;
    sqlite3_wal_hook(db->writer->h, NULL, NULL);
    pthread_mutex_lock(&k->mu);
    k->stop = true;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
    pthread_join(k->thread, NULL);
    pthread_cond_destroy(&k->cv);
    pthread_mutex_destroy(&k->mu);
    sq_conn_free(k->conn);
    free(k);
    db->ckpt = NULL;
}
