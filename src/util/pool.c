/*
 * pool.c - a FIFO work queue served by a fixed set of threads.
 */
#include "util/pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pool_job_t *head, *tail;
    bool stopping;
    size_t n;
    pthread_t threads[];
};

static void *worker(void *arg)
{
    pool_t *p = arg;
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
        job->run(job);
        job->done(job);
    }
}

pool_t *pool_new(size_t nthreads)
{
    if (nthreads == 0)
        nthreads = 1;
    pool_t *p = calloc(1, sizeof(*p) + nthreads * sizeof(pthread_t));
    if (p == NULL)
        return NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (size_t i = 0; i < nthreads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
            p->n = i;
            pool_free(p);
            return NULL;
        }
        p->n = i + 1;
    }
    return p;
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
    for (size_t i = 0; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}
