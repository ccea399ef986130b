/*
 * metrics.c - counters and the Prometheus text format.
 */
#include "http/metrics.h"

#include <stdlib.h>
#include <string.h>

static const int STATUSES[METRICS_NSTATUS - 1] = {200, 201, 204, 206, 304, 307, 400, 401, 403, 404, 405,
                                                  409, 412, 413, 415, 416, 421, 431, 500, 502, 503};
/* upper bounds in microseconds */
static const uint64_t BUCKETS_US[METRICS_NBUCKETS] = {100,   250,   500,    1000,   2500,   5000,    10000,
                                                      25000, 50000, 100000, 250000, 500000, 1000000, 5000000};

int metrics_init(metrics_t *m, size_t nthreads)
{
    m->nthreads = nthreads;
    m->threads = calloc(nthreads ? nthreads : 1, sizeof(metrics_thread_t));
    return m->threads ? 0 : -1;
}

void metrics_release(metrics_t *m)
{
    free(m->threads);
    m->threads = NULL;
}

static int status_index(int status)
{
    for (int i = 0; i < METRICS_NSTATUS - 1; i++)
        if (STATUSES[i] == status)
            return i;
    return METRICS_NSTATUS - 1; /* other */
}

void metrics_record(metrics_thread_t *t, int route, int status, int64_t duration_ns)
{
    if (route < 0 || route >= METRICS_MAX_ROUTES)
        route = METRICS_MAX_ROUTES - 1;
    uint64_t us = duration_ns > 0 ? (uint64_t)duration_ns / 1000 : 0;
    int b = 0;
    while (b < METRICS_NBUCKETS && us > BUCKETS_US[b])
        b++;
    atomic_fetch_add_explicit(&t->requests[route][status_index(status)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&t->latency[route][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&t->latency_sum_us[route], us, memory_order_relaxed);
}

static uint64_t sum_req(const metrics_t *m, size_t r, int s)
{
    uint64_t n = 0;
    for (size_t t = 0; t < m->nthreads; t++)
        n += atomic_load_explicit(&m->threads[t].requests[r][s], memory_order_relaxed);
    return n;
}

static uint64_t sum_lat(const metrics_t *m, size_t r, int b)
{
    uint64_t n = 0;
    for (size_t t = 0; t < m->nthreads; t++)
        n += atomic_load_explicit(&m->threads[t].latency[r][b], memory_order_relaxed);
    return n;
}

int metrics_render(const metrics_t *m, const char *const *route_names, size_t nroutes, const db_writer_stats_t *db, buf_t *out)
{
    int rc = 0;
    if (nroutes >= METRICS_MAX_ROUTES)
        nroutes = METRICS_MAX_ROUTES - 1;
    rc |= buf_puts(out, "# HELP loci_http_requests_total HTTP requests by route and status.\n"
                        "# TYPE loci_http_requests_total counter\n");
    for (size_t r = 0; r <= nroutes; r++) {
        const char *name = r < nroutes ? route_names[r] : "unmatched";
        for (int s = 0; s < METRICS_NSTATUS; s++) {
            uint64_t n = sum_req(m, r == nroutes ? METRICS_MAX_ROUTES - 1 : r, s);
            if (n == 0)
                continue;
            if (s < METRICS_NSTATUS - 1)
                rc |= buf_printf(out, "loci_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n", name, STATUSES[s],
                                 (unsigned long long)n);
            else
                rc |=
                    buf_printf(out, "loci_http_requests_total{route=\"%s\",status=\"other\"} %llu\n", name, (unsigned long long)n);
        }
    }
    rc |= buf_puts(out, "# HELP loci_http_request_duration_seconds Request latency by route.\n"
                        "# TYPE loci_http_request_duration_seconds histogram\n");
    for (size_t r = 0; r <= nroutes; r++) {
        size_t ri = r == nroutes ? METRICS_MAX_ROUTES - 1 : r;
        const char *name = r < nroutes ? route_names[r] : "unmatched";
        uint64_t total = 0, cum = 0, sum_us = 0;
        for (int b = 0; b <= METRICS_NBUCKETS; b++)
            total += sum_lat(m, ri, b);
        if (total == 0)
            continue;
        for (int b = 0; b < METRICS_NBUCKETS; b++) {
            cum += sum_lat(m, ri, b);
            rc |= buf_printf(out, "loci_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n", name,
                             (double)BUCKETS_US[b] / 1e6, (unsigned long long)cum);
        }
        rc |= buf_printf(out, "loci_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", name,
                         (unsigned long long)total);
        for (size_t t = 0; t < m->nthreads; t++)
            sum_us += atomic_load_explicit(&m->threads[t].latency_sum_us[ri], memory_order_relaxed);
        rc |= buf_printf(out, "loci_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", name, (double)sum_us / 1e6);
        rc |= buf_printf(out, "loci_http_request_duration_seconds_count{route=\"%s\"} %llu\n", name, (unsigned long long)total);
    }
    int64_t inflight = 0;
    for (size_t t = 0; t < m->nthreads; t++)
        inflight += atomic_load_explicit(&m->threads[t].inflight, memory_order_relaxed);
    rc |= buf_printf(out,
                     "# HELP loci_http_requests_in_flight Requests being served.\n"
                     "# TYPE loci_http_requests_in_flight gauge\n"
                     "loci_http_requests_in_flight %lld\n",
                     (long long)inflight);
    /* per loop: connections go round the loops in turn (server.c), so these stay within one
     * of each other */
    rc |= buf_puts(out, "# HELP loci_http_connections_total Connections accepted, by the loop thread that serves them.\n"
                        "# TYPE loci_http_connections_total counter\n");
    for (size_t t = 0; t < m->nthreads; t++)
        rc |= buf_printf(out, "loci_http_connections_total{loop=\"%zu\"} %llu\n", t,
                         (unsigned long long)atomic_load_explicit(&m->threads[t].connections, memory_order_relaxed));
    rc |= buf_printf(out,
                     "# HELP loci_db_commits_total Durable database commits (one per group of writes).\n"
                     "# TYPE loci_db_commits_total counter\n"
                     "loci_db_commits_total %llu\n"
                     "# HELP loci_db_write_transactions_total Write operations applied.\n"
                     "# TYPE loci_db_write_transactions_total counter\n"
                     "loci_db_write_transactions_total %llu\n"
                     "# HELP loci_db_failed_batches_total Write batches that failed to commit.\n"
                     "# TYPE loci_db_failed_batches_total counter\n"
                     "loci_db_failed_batches_total %llu\n",
                     (unsigned long long)db->commits, (unsigned long long)db->ops, (unsigned long long)db->failed_batches);
    return rc ? -1 : 0;
}

int metrics_render_lookups(uint64_t round_trips, uint64_t lookups, buf_t *out)
{
    return buf_printf(
        out,
        "# HELP loci_db_lookup_round_trips_total Database round trips made for object lookups (each serves one or more).\n"
        "# TYPE loci_db_lookup_round_trips_total counter\n"
        "loci_db_lookup_round_trips_total %llu\n"
        "# HELP loci_db_lookups_total Object lookups served by those round trips.\n"
        "# TYPE loci_db_lookups_total counter\n"
        "loci_db_lookups_total %llu\n",
        (unsigned long long)round_trips, (unsigned long long)lookups);
}
