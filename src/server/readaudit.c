/*
 * readaudit.c - the read-audit queue and its flusher thread.
 */
#include "server/readaudit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/pool.h"
#include "util/timeutil.h"

#define FLUSH_AT 512 /* entries that wake the flusher early */

typedef struct batch {
    arena_t arena;
    db_audit_input_t *entries;
    size_t n, cap;
} batch_t;

struct read_audit {
    const config_t *cfg;
    db_writer_t *wr;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch_t *cur; /* being filled */
    bool stop;
    uint64_t queued, written, batches, lost;
};

static batch_t *batch_new(void)
{
    batch_t *b = calloc(1, sizeof(*b));
    if (b == NULL)
        abort();
    arena_init(&b->arena);
    return b;
}

static void batch_free(batch_t *b)
{
    arena_release(&b->arena);
    free(b->entries);
    free(b);
}

int read_audit_add(read_audit_t *ra, const db_audit_input_t *in)
{
    pthread_mutex_lock(&ra->mu);
    batch_t *b = ra->cur;
    if (b->n >= (size_t)ra->cfg->audit_read_queue_max) {
        pthread_mutex_unlock(&ra->mu);
        return ERR_UNAVAILABLE;
    }
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 256;
        b->entries = realloc(b->entries, b->cap * sizeof(*b->entries));
        if (b->entries == NULL)
            abort();
    }
    db_audit_input_t *x = &b->entries[b->n++];
    x->tenant = arena_strdup(&b->arena, in->tenant);
    x->actor = arena_strdup(&b->arena, in->actor);
    x->action = arena_strdup(&b->arena, in->action);
    x->subject = arena_strdup(&b->arena, in->subject);
    x->detail = arena_strdup(&b->arena, in->detail);
    ra->queued++;
    if (b->n == FLUSH_AT)
        pthread_cond_signal(&ra->cv);
    pthread_mutex_unlock(&ra->mu);
    return 0;
}

/* Writes one batch (on the flusher thread); the writer applies it in one transaction. */
static void flush(read_audit_t *ra, batch_t *b)
{
    if (b->n == 0)
        return;
    db_write_t w = {0};
    w.op = DB_OP_AUDIT_APPEND;
    w.arena = &b->arena;
    w.now = time_now_ms();
    w.in.audit_append.entries = b->entries;
    w.in.audit_append.n = b->n;
    int rc = db_write_sync(ra->wr, &w);
    pthread_mutex_lock(&ra->mu);
    if (rc == 0) {
        ra->written += b->n;
        ra->batches++;
    } else {
        ra->lost += b->n;
    }
    pthread_mutex_unlock(&ra->mu);
    if (rc != 0)
        fprintf(stderr, "loci: %zu read-audit entries could not be written: %s\n", b->n, w.err.msg);
}

static void *flusher(void *arg)
{
    read_audit_t *ra = arg;
    thread_name("readaudit");
    pthread_mutex_lock(&ra->mu);
    for (;;) {
        if (ra->cur->n < FLUSH_AT && !ra->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            long ms = ra->cfg->audit_read_flush_ms;
            ts.tv_sec += ms / 1000;
            ts.tv_nsec += (ms % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&ra->cv, &ra->mu, &ts);
        }
        batch_t *b = ra->cur;
        ra->cur = batch_new();
        bool stop = ra->stop;
        pthread_mutex_unlock(&ra->mu);
        flush(ra, b);
        batch_free(b);
        pthread_mutex_lock(&ra->mu);
        if (stop && ra->cur->n == 0)
            break;
    }
    pthread_mutex_unlock(&ra->mu);
    return NULL;
}

int read_audit_start(const config_t *cfg, db_writer_t *wr, read_audit_t **out, err_t *e)
{
    read_audit_t *ra = calloc(1, sizeof(*ra));
    if (ra == NULL)
        return err_set(e, ERR_NOMEM, NULL);
    ra->cfg = cfg;
    ra->wr = wr;
    ra->cur = batch_new();
    pthread_mutex_init(&ra->mu, NULL);
    pthread_cond_init(&ra->cv, NULL);
    if (pthread_create(&ra->thread, NULL, flusher, ra) != 0) {
        batch_free(ra->cur);
        free(ra);
        return err_set(e, ERR_INTERNAL, "cannot start the read-audit thread");
    }
    *out = ra;
    return 0;
}

void read_audit_stop(read_audit_t *ra)
{
    if (ra == NULL)
        return;
    pthread_mutex_lock(&ra->mu);
    ra->stop = true;
    pthread_cond_signal(&ra->cv);
    pthread_mutex_unlock(&ra->mu);
    pthread_join(ra->thread, NULL);
    batch_free(ra->cur);
    pthread_mutex_destroy(&ra->mu);
    pthread_cond_destroy(&ra->cv);
    free(ra);
}

void read_audit_stats(read_audit_t *ra, read_audit_stats_t *out)
{
    pthread_mutex_lock(&ra->mu);
    out->queued = ra->queued;
    out->written = ra->written;
    out->batches = ra->batches;
    out->lost = ra->lost;
    pthread_mutex_unlock(&ra->mu);
}
