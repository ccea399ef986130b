/*
 * pool.c - a FIFO work queue served by a fixed set of threads.
 */
#include "util/pool.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct worker {
    size_t i;
    struct pool *p;
    pthread_t thread;
    void *ctx;
} worker_t;

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pool_job_t *head, *tail;
    bool stopping;
    size_t n;
    char name[8];
    void (*ctx_free)(void *ctx);
    atomic_uint_fast64_t batches, batched_jobs; /* run_many calls, and the jobs they ran */
    worker_t workers[];
};

/* How far down the queue a batch looks for jobs like its first (bounds the time under the lock). */
#define POOL_BATCH_SCAN 256

/* Moves the queued jobs that batch with jobs[0] (at most POOL_BATCH_MAX in all) into jobs.
 * Called with the lock held. Returns how many jobs there are now. */
static size_t take_batch(pool_t *p, pool_job_t **jobs)
{
    size_t n = 1, looked = 0;
    pool_job_t *prev = NULL, *j = p->head;
    while (j != NULL && n < POOL_BATCH_MAX && looked++ < POOL_BATCH_SCAN) {
        pool_job_t *next = j->next;
        if (j->run_many == jobs[0]->run_many && j->batch == jobs[0]->batch) {
            jobs[n++] = j;
            if (prev)
                prev->next = next;
            else
                p->head = next;
            if (p->tail == j)
                p->tail = prev;
        } else {
            prev = j;
        }
        j = next;
    }
    return n;
}

void thread_name(const char *fmt, ...)
{
    char what[64], name[16];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(name, sizeof(name), "loci-%.10s", what);
    pthread_setname_np(pthread_self(), name);
}

static void *worker(void *arg)
{
    worker_t *self = arg;
    pool_t *p = self->p;
    thread_name("%s%zu", p->name, self->i);
    pool_job_t *jobs[POOL_BATCH_MAX];
    for (;;) {
        size_t n = 0;
        pthread_mutex_lock(&p->mu);
        while (p->head == NULL && !p->stopping)
            pthread_cond_wait(&p->cv, &p->mu);
        if ((jobs[0] = p->head) != NULL) {
            p->head = jobs[0]->next;
            if (p->head == NULL)
                p->tail = NULL;
            n = jobs[0]->run_many ? take_batch(p, jobs) : 1;
            if (p->head != NULL) /* more than this thread takes: hand on the wake-up */
                pthread_cond_signal(&p->cv);
        }
        pthread_mutex_unlock(&p->mu);
        if (n == 0)
            return NULL; /* stopping and drained */
        for (size_t i = 0; i < n; i++)
            jobs[i]->thread_ctx = self->ctx;
        if (jobs[0]->run_many) {
            atomic_fetch_add_explicit(&p->batches, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&p->batched_jobs, n, memory_order_relaxed);
            jobs[0]->run_many(jobs, n);
        } else {
            jobs[0]->run(jobs[0]);
        }
        for (size_t i = 0; i < n; i++)
            jobs[i]->done(jobs[i]);
    }
}

pool_t *pool_new_ctx(const char *name, size_t nthreads, void *(*ctx_new)(void *arg, size_t i), void (*ctx_free)(void *ctx),
                     void *arg)
{
    if (nthreads == 0)
        nthreads = 1;
    pool_t *p = calloc(1, sizeof(*p) + nthreads * sizeof(worker_t));
    if (p == NULL)
        return NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->ctx_free = ctx_free;
    snprintf(p->name, sizeof(p->name), "%s", name);
    for (size_t i = 0; i < nthreads; i++) {
        p->workers[i].p = p;
        p->workers[i].i = i;
        if (ctx_new && (p->workers[i].ctx = ctx_new(arg, i)) == NULL) {
            p->n = i;
            pool_free(p);
            return NULL;
        }
        if (pthread_create(&p->workers[i].thread, NULL, worker, &p->workers[i]) != 0) {
            if (ctx_free)
                ctx_free(p->workers[i].ctx);
            p->n = i;
            pool_free(p);
            return NULL;
        }
        p->n = i + 1;
    }
    return p;
}

pool_t *pool_new(const char *name, size_t nthreads)
{
    return pool_new_ctx(name, nthreads, NULL, NULL, NULL);
}

void pool_submit(pool_t *p, pool_job_t *job)
{
    job->next = NULL;
    pool_submit_list(p, job);
}

void pool_submit_list(pool_t *p, pool_job_t *first)
{
    if (first == NULL)
        return;
    pool_job_t *last = first;
    while (last->next != NULL)
        last = last->next;
    pthread_mutex_lock(&p->mu);
    if (p->tail)
        p->tail->next = first;
    else
        p->head = first;
    p->tail = last;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void pool_batch_stats(pool_t *p, uint64_t *batches, uint64_t *jobs)
{
    *batches = p ? atomic_load_explicit(&p->batches, memory_order_relaxed) : 0;
    *jobs = p ? atomic_load_explicit(&p->batched_jobs, memory_order_relaxed) : 0;
}

void pool_free(pool_t *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->n; i++) {
        pthread_join(p->workers[i].thread, NULL);
        if (p->ctx_free)
            p->ctx_free(p->workers[i].ctx);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}
