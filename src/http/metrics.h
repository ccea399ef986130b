/*
 * metrics.h - request counters and latency histograms, per thread (no sharing on the hot
 * path: each loop thread increments its own counters; /metrics sums them).
 */
#ifndef LOCI_HTTP_METRICS_H
#define LOCI_HTTP_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "db/writer.h"
#include "util/buf.h"

#define METRICS_MAX_ROUTES 48 /* routes + the "unmatched" bucket */
#define METRICS_NSTATUS    22
#define METRICS_NBUCKETS   14

typedef struct metrics_thread {
    atomic_uint_fast64_t requests[METRICS_MAX_ROUTES][METRICS_NSTATUS];
    atomic_uint_fast64_t latency[METRICS_MAX_ROUTES][METRICS_NBUCKETS + 1]; /* per bucket, last = +Inf */
    atomic_uint_fast64_t latency_sum_us[METRICS_MAX_ROUTES];
    atomic_int_fast64_t inflight;
    atomic_uint_fast64_t connections; /* connections this loop took */
} metrics_thread_t;

typedef struct metrics {
    size_t nthreads;
    metrics_thread_t *threads;
} metrics_t;

/* Allocates zeroed per-thread counters. Returns 0 or ERR_NOMEM. */
int metrics_init(metrics_t *m, size_t nthreads);
void metrics_release(metrics_t *m);

/* Records a finished request on the calling thread's counters. */
void metrics_record(metrics_thread_t *t, int route, int status, int64_t duration_ns);

/* Renders the Prometheus text exposition format. route_names[i] names route i;
 * index nroutes is "unmatched". */
int metrics_render(const metrics_t *m, const char *const *route_names, size_t nroutes, const db_writer_stats_t *db, buf_t *out);
/* Appends the counters of batched object lookups (a database server's lookup threads). */
int metrics_render_lookups(uint64_t round_trips, uint64_t lookups, buf_t *out);

#endif
