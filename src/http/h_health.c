/*
 * h_health.c - /healthz, /readyz and /metrics.
 */
#include <string.h>

#include "http/http.h"

void h_healthz(rq_t *rq)
{
    buf_t b = BUF_INIT;
    buf_puts(&b, "{\"status\":\"ok\"}");
    rq_send_json(rq, 200, &b);
}

static int ping(rq_t *rq, db_conn_t *c)
{
    return c->db->vt->ping(c, &rq->err);
}

static void ready_after(rq_t *rq, int rc)
{
    if (rc == 0 && atomic_load(&rq->app->stopping))
        rc = err_set(&rq->err, ERR_UNAVAILABLE, "shutting down");
    if (rc != 0) {
        rq_send_error(rq, ERR_UNAVAILABLE);
        return;
    }
    buf_t b = BUF_INIT;
    buf_puts(&b, "{\"status\":\"ready\"}");
    rq_send_json(rq, 200, &b);
}

void h_readyz(rq_t *rq)
{
    rq_read(rq, ping, ready_after);
}

void h_metrics(rq_t *rq)
{
    db_writer_stats_t ds;
    db_writer_stats(rq->app->writer, &ds);
    buf_t b = BUF_INIT;
    metrics_render(&rq->app->metrics, http_route_names(), http_nroutes, &ds, &b);
    if (rq->app->lookups) {
        uint64_t trips, lookups;
        pool_batch_stats(rq->app->lookups, &trips, &lookups);
        metrics_render_lookups(trips, lookups, &b);
    }
    if (rq->app->db->vt->metrics)
        rq->app->db->vt->metrics(rq->app->db, &b);
    rq_send_body(rq, 200, "text/plain; version=0.0.4", &b);
}
