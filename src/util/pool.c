/*
 * pool.c - a FIFO work queue served by a fixed set of threads.
 */
#include "util/pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

typedef struct worker {
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
    void (*ctx_free)(void *ctx);
    worker_t workers[];
};

static void *worker(void *arg)
{
    worker_t *self = arg;
    pool_t *p = self->p;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->head == NULL && !p->stopping)
            pthread_cond_wait(&p->cv, &p->mu);
        pool_job_t *job = p->head;
        if (job) {
            p->head = job->next;
            if (p->head == NULL)
                p->tail = NULL;
        }
        pthread_mutex_unlock(&p->mu);
        if (job == NULL)
            return NULL; /* stopping and drained */
        job->thread_ctx = self->ctx;
        job->run(job);
        job->done(job);
    }
}

pool_t *pool_new_ctx(size_t nthreads, void *(*ctx_new)(void *arg, size_t i), void (*ctx_free)(void *ctx), void *arg)
{
    if (nthreads == 0)
        nthreads = 1;
    pool_t *p = calloc(1, sizeof(*p) + nthreads * sizeof(worker_t));
    if (p == NULL)
        return NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->ctx_free = ctx_free;
    for (size_t i = 0; i < nthreads; i++) {
        p->workers[i].p = p;
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

pool_t *pool_new(size_t nthreads)
{
    return pool_new_ctx(nthreads, NULL, NULL, NULL);
}

void pool_submit(pool_t *p, pool_job_t *job)
{
    job->next = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->tail)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
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
