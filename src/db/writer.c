/*
 * writer.c - the group-commit writer thread.
 */
#include "db/writer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "util/pool.h"

struct db_writer {
    db_t *db;
    size_t max_batch;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    db_write_t *head, *tail; /* FIFO of waiting ops */
    bool stopping;
    db_commit_hook_t hook;
    void *hook_ctx;
    _Atomic uint64_t commits, ops, failed_batches;
};

/* Takes up to max ops off the queue, in order; blocks while the queue is empty and running.
 * Returns 0 when stopping and nothing is left. */
static size_t take(db_writer_t *wr, db_write_t **batch, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&wr->mu);
    while (wr->head == NULL && !wr->stopping)
        pthread_cond_wait(&wr->cv, &wr->mu);
    while (wr->head && n < max) {
        db_write_t *w = wr->head;
        wr->head = w->next;
        if (wr->head == NULL)
            wr->tail = NULL;
        w->next = NULL;
        batch[n++] = w;
    }
    pthread_mutex_unlock(&wr->mu);
    return n;
}

static void *writer_main(void *arg)
{
    db_writer_t *wr = arg;
    thread_name("writer");
    db_write_t **batch = calloc(wr->max_batch, sizeof(*batch));
    if (batch == NULL)
        abort();
    for (;;) {
        size_t n = take(wr, batch, wr->max_batch);
        if (n == 0)
            break;
        int rc = wr->db->vt->write_batch(wr->db, batch, n);
        if (rc == 0) {
            atomic_fetch_add_explicit(&wr->commits, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&wr->ops, n, memory_order_relaxed);
            if (wr->hook)
                wr->hook(wr->hook_ctx, batch, n);
        } else {
            atomic_fetch_add_explicit(&wr->failed_batches, 1, memory_order_relaxed);
            /* nothing of the batch is durable: every op fails with the batch's error */
            for (size_t i = 0; i < n; i++)
                err_set(&batch[i]->err, batch[i]->rc = ERR_UNAVAILABLE, "database write failed");
        }
        for (size_t i = 0; i < n; i++)
            batch[i]->done(batch[i]);
    }
    free(batch);
    return NULL;
}

int db_writer_start(db_t *db, size_t max_batch, db_writer_t **out, err_t *e)
{
    db_writer_t *wr = calloc(1, sizeof(*wr));
    if (wr == NULL)
        return err_set(e, ERR_NOMEM, NULL);
    wr->db = db;
    wr->max_batch = max_batch ? max_batch : 1;
    pthread_mutex_init(&wr->mu, NULL);
    pthread_cond_init(&wr->cv, NULL);
    if (pthread_create(&wr->thread, NULL, writer_main, wr) != 0) {
        free(wr);
        return err_set(e, ERR_INTERNAL, "cannot start the writer thread");
    }
    *out = wr;
    return 0;
}

void db_writer_set_commit_hook(db_writer_t *wr, db_commit_hook_t hook, void *ctx)
{
    pthread_mutex_lock(&wr->mu);
    wr->hook = hook;
    wr->hook_ctx = ctx;
    pthread_mutex_unlock(&wr->mu);
}

void db_writer_submit(db_writer_t *wr, db_write_t *op)
{
    op->next = NULL;
    pthread_mutex_lock(&wr->mu);
    if (wr->stopping) {
        pthread_mutex_unlock(&wr->mu);
        op->rc = err_set(&op->err, ERR_UNAVAILABLE, "shutting down");
        op->done(op);
        return;
    }
    if (wr->tail)
        wr->tail->next = op;
    else
        wr->head = op;
    wr->tail = op;
    pthread_cond_signal(&wr->cv);
    pthread_mutex_unlock(&wr->mu);
}

struct sync_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    void (*orig_done)(db_write_t *);
    void *orig_ctx;
};

static void sync_done(db_write_t *w)
{
    struct sync_wait *sw = w->ctx;
    pthread_mutex_lock(&sw->mu);
    sw->done = true;
    pthread_cond_signal(&sw->cv);
    pthread_mutex_unlock(&sw->mu);
}

int db_write_sync(db_writer_t *wr, db_write_t *op)
{
    struct sync_wait sw = {.done = false, .orig_done = op->done, .orig_ctx = op->ctx};
    pthread_mutex_init(&sw.mu, NULL);
    pthread_cond_init(&sw.cv, NULL);
    op->done = sync_done;
    op->ctx = &sw;
    db_writer_submit(wr, op);
    pthread_mutex_lock(&sw.mu);
    while (!sw.done)
        pthread_cond_wait(&sw.cv, &sw.mu);
    pthread_mutex_unlock(&sw.mu);
    pthread_mutex_destroy(&sw.mu);
    pthread_cond_destroy(&sw.cv);
    op->done = sw.orig_done;
    op->ctx = sw.orig_ctx;
    return op->rc;
}

void db_writer_stop(db_writer_t *wr)
{
    if (wr == NULL)
        return;
    pthread_mutex_lock(&wr->mu);
    wr->stopping = true;
    pthread_cond_broadcast(&wr->cv);
    pthread_mutex_unlock(&wr->mu);
    pthread_join(wr->thread, NULL);
    pthread_mutex_destroy(&wr->mu);
    pthread_cond_destroy(&wr->cv);
    free(wr);
}

void db_writer_stats(db_writer_t *wr, db_writer_stats_t *out)
{
    out->commits = atomic_load_explicit(&wr->commits, memory_order_relaxed);
    out->ops = atomic_load_explicit(&wr->ops, memory_order_relaxed);
    out->failed_batches = atomic_load_explicit(&wr->failed_batches, memory_order_relaxed);
}
