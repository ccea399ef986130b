/*
 * sq_ckpt.c - WAL checkpoints off the commit path.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that grows the WAL past 1,000 pages:
 * that commit copies the pages into the database file and fsyncs it, and every write request
 * of its group waits (the p99 of the write workload was 170 ms). Here the writer connection
 * only reports its WAL size (sqlite3_wal_hook) and a thread of its own, on a connection of its
 * own, runs PASSIVE checkpoints: they copy what no reader still needs while the writer goes on
 * committing into the WAL. Readers never wait for either.
 *
 * A PASSIVE checkpoint never starts the WAL over: that happens when a write transaction begins
 * on a WAL that is wholly copied back and no reader still reads from it. Under a steady load
 * that moment never comes (there is always a newer commit, and a loop thread in a snapshot of
 * it), so the WAL grew for as long as the load lasted (a gigabyte in a minute of the write
 * benchmark), and the hook, which reports the WAL's whole length, woke the checkpointer after
 * every commit once that passed CKPT_PAGES: two fsyncs each time, for a few pages. So the
 * checkpointer runs once CKPT_PAGES more pages have been committed since it last ran, and once
 * the WAL is longer than WAL_RESTART_PAGES and wholly copied back it makes that moment: a
 * RESTART checkpoint holds new commits back until every reader has left the WAL (a loop leaves
 * its snapshot at the end of each turn; a few milliseconds), and starts the WAL over. The file
 * keeps its length and is overwritten from its beginning: no file growth (and no metadata to
 * sync) on the commit path. A file far longer than that (one huge transaction) is truncated.
 */
#include <pthread.h>
#include <stdatomic.h>
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
#define CKPT_IDLE_MS  1000 /* and at least this often while the WAL holds anything not copied */
/* A WAL this long (64 MiB of 4 KiB pages), wholly copied back, is started over (RESTART). */
#define WAL_RESTART_PAGES 16000
#define RESTART_WAIT_US   40000 /* the longest a restart waits for the readers (and holds commits) */

struct sq_ckpt {
    sq_conn_t *conn;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int wal_pages; /* pages in the WAL, as the writer last reported */
    int seen;      /* of those, the ones there when the last checkpoint ran (0 after a restart) */
    int copied;    /* and the ones it copied back: all but what a reader's snapshot still needed */
    int ckpt_pages, restart_pages; /* CKPT_PAGES and WAL_RESTART_PAGES (tests lower them) */
    bool stop;
    _Atomic bool restarting;  /* a restart wants the write lock: the writer waits (sq_ckpt_yield) */
    pthread_cond_t restarted; /* ...until this, with restarting false */
    _Atomic uint64_t runs, restarts;
};

/* Pages committed since the last checkpoint ran. Called with the lock held. A checkpoint that a
 * reader kept from copying everything is not run again until this many more have come (or the
 * idle timer): run at once, it would find the same reader and copy nothing, over and over. */
static int fresh(const sq_ckpt_t *k)
{
    return k->wal_pages - k->seen;
}

static int wal_hook(void *arg, sqlite3 *h, const char *name, int pages)
{
    (void)h;
    (void)name;
    sq_ckpt_t *k = arg;
    pthread_mutex_lock(&k->mu);
    if (pages < k->seen) /* the WAL started over */
        k->seen = k->copied = 0;
    k->wal_pages = pages;
    if (fresh(k) >= k->ckpt_pages)
        pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
    return SQLITE_OK;
}

/* The busy handler of a RESTART: commits wait as long as it does, so it looks again soon, and
 * gives up (SQLITE_BUSY: the next checkpoint tries again) after RESTART_WAIT_US. */
static int restart_busy(void *arg, int count)
{
    (void)arg;
    long slept = count < 50 ? count * 20L : 1000L + (count - 50) * 200L;
    if (slept >= RESTART_WAIT_US)
        return 0;
    struct timespec ts = {0, count < 50 ? 20000 : 200000}; /* 20 µs for a millisecond, then 200 µs */
    nanosleep(&ts, NULL);
    return 1;
}

/* Starts a long, wholly copied WAL of log pages over. New commits wait meanwhile (a moment: the
 * readers leave the WAL at the end of their loop turn). The file keeps its length, unless that
 * is far beyond the restart length (one huge transaction, a reader that held restarts back for
 * long): then it is truncated, to give the disk space back. Returns whether it did. */
static bool restart(sq_ckpt_t *k, int log, int restart_at)
{
    sqlite3 *h = k->conn->h;
    int mode = log >= 4 * restart_at ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_RESTART;
    int done = 0;
    /* the writer lets go of the write lock after its current batch and waits: taken between
     * two batches by polling it, it was a matter of luck (a few microseconds between them) */
    atomic_store(&k->restarting, true);
    sqlite3_busy_handler(h, restart_busy, NULL);
    int rc = sqlite3_wal_checkpoint_v2(h, NULL, mode, &log, &done);
    sqlite3_busy_timeout(h, SQ_BUSY_MS);
    pthread_mutex_lock(&k->mu);
    atomic_store(&k->restarting, false);
    pthread_cond_broadcast(&k->restarted);
    pthread_mutex_unlock(&k->mu);
    if (rc == SQLITE_OK) {
        atomic_fetch_add_explicit(&k->restarts, 1, memory_order_relaxed);
        return true;
    }
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
        fprintf(stderr, "loci: sqlite checkpoint (restart): %s\n", sqlite3_errmsg(h));
    return false;
}

static void *run(void *arg)
{
    sq_ckpt_t *k = arg;
    thread_name("checkpoint");
    pthread_mutex_lock(&k->mu);
    while (!k->stop) {
        if (fresh(k) < k->ckpt_pages) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += CKPT_IDLE_MS / 1000;
            pthread_cond_timedwait(&k->cv, &k->mu, &until);
            /* woken by the hook, or idle: then whatever is not copied yet */
            if (k->stop || (fresh(k) < k->ckpt_pages && k->wal_pages <= k->copied))
                continue;
        }
        int restart_at = k->restart_pages;
        k->seen = k->wal_pages;
        pthread_mutex_unlock(&k->mu);
        int log = 0, done = 0;
        int rc = sqlite3_wal_checkpoint_v2(k->conn->h, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
            fprintf(stderr, "loci: sqlite checkpoint: %s\n", sqlite3_errmsg(k->conn->h));
        atomic_fetch_add_explicit(&k->runs, 1, memory_order_relaxed);
        /* only a WAL copied back in full: a reader that kept the checkpoint from that (a long
         * export, say) would keep the restart waiting too, holding up commits for nothing */
        bool over = rc == SQLITE_OK && log >= restart_at && done == log && restart(k, log, restart_at);
        pthread_mutex_lock(&k->mu);
        if (over) {
            k->wal_pages = k->seen = k->copied = 0;
        } else if (rc == SQLITE_OK && log >= k->seen) { /* (a restart the writer made shows at its next commit) */
            k->seen = log;
            k->copied = done;
        }
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
    k->ckpt_pages = CKPT_PAGES;
    k->restart_pages = WAL_RESTART_PAGES;
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
    pthread_cond_init(&k->restarted, NULL);
    if (pthread_create(&k->thread, NULL, run, k) != 0) {
        pthread_cond_destroy(&k->cv);
        pthread_cond_destroy(&k->restarted);
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
    pthread_cond_destroy(&k->restarted);
    pthread_mutex_destroy(&k->mu);
    sq_conn_free(k->conn);
    free(k);
    db->ckpt = NULL;
}

void sq_ckpt_stats(sq_db_t *db, uint64_t *runs, uint64_t *restarts, int *wal_pages, int *copied)
{
    sq_ckpt_t *k = db->ckpt;
    *runs = *restarts = 0;
    *wal_pages = *copied = 0;
    if (k == NULL)
        return;
    *runs = atomic_load_explicit(&k->runs, memory_order_relaxed);
    *restarts = atomic_load_explicit(&k->restarts, memory_order_relaxed);
    pthread_mutex_lock(&k->mu);
    *wal_pages = k->wal_pages;
    *copied = k->copied;
    pthread_mutex_unlock(&k->mu);
}

void sq_ckpt_limits(sq_db_t *db, int ckpt_pages, int restart_pages)
{
    sq_ckpt_t *k = db->ckpt;
    if (k == NULL)
        return;
    pthread_mutex_lock(&k->mu);
    k->ckpt_pages = ckpt_pages;
    k->restart_pages = restart_pages;
    pthread_mutex_unlock(&k->mu);
}

void sq_ckpt_yield(sq_db_t *db)
{
    sq_ckpt_t *k = db->ckpt;
    if (k == NULL || !atomic_load(&k->restarting))
        return;
    pthread_mutex_lock(&k->mu);
    while (atomic_load(&k->restarting))
        pthread_cond_wait(&k->restarted, &k->mu);
    pthread_mutex_unlock(&k->mu);
}
