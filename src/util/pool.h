/*
 * pool.h - a small pool of threads for blocking work (file I/O with fsync, HTTP probes of
 * stores) that must never run on an event-loop thread.
 *
 * A job is caller-owned memory: run(job) executes on a pool thread, then done(job) is called
 * on the same pool thread (typically to post the job back to the loop that submitted it).
 *
 * Batches: a job with run_many set may be run together with other queued jobs of the same
 * run_many and batch tag: a thread that takes one takes up to POOL_BATCH_MAX such jobs from the
 * queue (in queue order) and calls run_many(jobs, n) once instead of run() on each, then done()
 * on each. One round trip to a database can then answer several requests; a queue that is
 * empty (a quiet server) gives batches of one, so batching costs no latency.
 */
#ifndef LOCI_UTIL_POOL_H
#define LOCI_UTIL_POOL_H

#include <stddef.h>
#include <stdint.h>

#define POOL_BATCH_MAX 32

typedef struct pool_job {
    void (*run)(struct pool_job *job);
    void (*done)(struct pool_job *job);
    void (*run_many)(struct pool_job **jobs, size_t n); /* NULL: never batched */
    const void *batch;                                  /* jobs batch together only with the same tag */
    void *thread_ctx; /* set by the pool before run(): the running thread's context (pool_new_ctx) */
    struct pool_job *next;
} pool_job_t;

typedef struct pool pool_t;

/* Names the calling thread "loci-<what>" (what is printf-style; the kernel keeps 15 bytes) so
 * top -H, perf and gdb tell the threads apart. */
void thread_name(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Starts nthreads threads, named "loci-<name><i>". Returns NULL on failure. */
pool_t *pool_new(const char *name, size_t nthreads);
/* Starts nthreads threads, each with a context of its own that jobs see as job->thread_ctx
 * (a database connection, say): ctx_new(arg, i) makes thread i's before any thread starts
 * (NULL fails the pool), ctx_free(ctx) frees it after the threads stopped. */
pool_t *pool_new_ctx(const char *name, size_t nthreads, void *(*ctx_new)(void *arg, size_t i), void (*ctx_free)(void *ctx),
                     void *arg);
/* Queues a job (thread-safe). */
void pool_submit(pool_t *p, pool_job_t *job);
/* Queues the jobs linked from first through their next pointers (the last one's next NULL),
 * in that order, under one lock and with one wake-up: the thread that wakes takes what it can
 * batch and wakes another while jobs remain. A thread that submits several jobs at once (an
 * event loop at the end of its turn) wakes one thread instead of one per job, and the jobs
 * share a round trip instead of racing each other to idle threads. */
void pool_submit_list(pool_t *p, pool_job_t *first);
/* How many batches ran (run_many calls) and how many jobs they held, so far (0 for NULL). */
void pool_batch_stats(pool_t *p, uint64_t *batches, uint64_t *jobs);
/* Runs every queued job, then stops the threads and frees the pool. */
void pool_free(pool_t *p);

#endif
