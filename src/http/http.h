/*
 * http.h - the HTTP layer: h2o glue, the request context, routing and handlers.
 *
 * Threads: N event loops (one per core) accept and serve requests; reads of the metadata
 * store run inline on the loop (SQLite) through the thread's own connection; writes go to the
 * writer thread; blocking I/O (store probes, local-store files) goes to the I/O pool. Each hop
 * comes back to the request's loop thread through its h2o multithread queue, and the
 * handler continues in `next`.
 */
#ifndef LOCI_HTTP_HTTP_H
#define LOCI_HTTP_HTTP_H

#include <h2o.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/juris.h"
#include "core/tenant.h"
#include "db/db.h"
#include "db/writer.h"
#include "http/metrics.h"
#include "server/config.h"
#include "server/readaudit.h"
#include "server/secrets.h"
#include "server/stores.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/pool.h"

typedef struct http_thread http_thread_t;
typedef struct rq rq_t;

/* Process-wide state shared by every thread (read-only after start, except atomics). */
typedef struct app {
    config_t *cfg;
    secrets_t *sec;
    db_t *db;
    db_writer_t *writer;
    stores_t *stores;
    pool_t *io;
    pool_t *readers;     /* database reader threads, each with its connection; NULL when reads run inline (SQLite) */
    pool_t *lookups;     /* batched object lookups (rq_read_batched): one thread per loop; NULL with readers */
    read_audit_t *reads; /* read auditing for tenants that ask for it */
    h2o_globalconf_t h2o;
    atomic_bool stopping;
    size_t nthreads;
    http_thread_t **threads;
    atomic_size_t next_loop; /* the loop the next accepted connection goes to (round robin) */
    metrics_t metrics;
} app_t;

/* One event-loop thread. */
struct http_thread {
    app_t *app;
    size_t index;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listener;
    int listen_fd;
    h2o_timeout_t accept_pause;          /* accepting rests this long when out of descriptors */
    h2o_timeout_entry_t accept_resume;   /* ...and resumes here */
    h2o_multithread_receiver_t receiver; /* completions of jobs hop back here */
    h2o_multithread_message_t stop_msg;
    h2o_multithread_receiver_t handoffs; /* connections another loop accepted for this one */
    pthread_mutex_t handoff_mu;
    bool handoff_open; /* takes handed-off connections (under handoff_mu; only this loop changes it) */
    db_conn_t *conn;
    pool_job_t *lookups_head, *lookups_tail; /* lookups of this turn of the loop, submitted at its end */
    uint64_t work;         /* requests begun and hops finished on this loop (whether a turn did anything) */
    int64_t first_work_ns; /* when this turn's first work began (0: none yet; util/spin.h) */
    pthread_t tid;
    size_t inflight;
    bool shutting_down;
    struct timeval shutdown_at; /* when shutting_down was set (the loop's clock) */
    metrics_thread_t *m;
};

/* Who is asking. */
typedef struct auth {
    bool admin;
    const char *key_id;
    int scopes;
    tenant_t tenant;
    cset_t allowed; /* the tenant's jurisdictions, expanded */
} auth_t;

typedef enum route_auth {
    AUTH_NONE = 0,
    AUTH_READ,  /* tenant token with scope read */
    AUTH_WRITE, /* tenant token with scope write */
    AUTH_ADMIN, /* the admin token */
} route_auth_t;

#define HTTP_BODY_SCALE_MAX 32

typedef struct route {
    const char *method;  /* "GET", ... */
    const char *pattern; /* e.g. "/v1/uploads/{}/complete"; a final "*" takes the rest */
    void (*handler)(rq_t *rq);
    route_auth_t auth;
    bool json_body; /* the request must carry a JSON body */
    int body_scale; /* the body may be this many times limits.body_max (0: once; at most HTTP_BODY_SCALE_MAX) */
} route_t;

#define RQ_MAX_PARAMS 3

/* A request in flight. Reference-counted: h2o's request holds one reference until it is
 * disposed, and every job in flight holds one, so a late completion never touches freed memory. */
struct rq {
    h2o_req_t *req; /* NULL once h2o disposed the request */
    http_thread_t *th;
    app_t *app;
    int refs;
    arena_t arena;
    err_t err;
    const route_t *route;
    int route_index;                   /* for metrics; the "unmatched" bucket when no route */
    slice_t path;                      /* raw path, without the query */
    slice_t query;                     /* raw query string */
    const char *params[RQ_MAX_PARAMS]; /* decoded {} and * parts of the path */
    size_t nparams;
    char request_id[17];
    int64_t start_ns;
    auth_t auth;
    const char *log_object_id; /* an object id for the log line (never a key) */
    int status;
    bool responded;
    store_snap_t *snap; /* released at the end */

    /* the current async hop */
    void (*next)(rq_t *rq, int rc);
    int job_rc;
    h2o_multithread_message_t msg;
    pool_job_t job;
    void (*io_fn)(rq_t *rq);
    int (*read_fn)(rq_t *rq, db_conn_t *c);
    db_write_t write;
    void *state; /* handler-specific */
};

/* --- request lifecycle (request.c) --- */

/* Runs fn with a database connection, then next(rq, rc) on the loop thread: inline with the
 * loop's own connection when the backend's reads never wait on the network (SQLite), else on
 * a database reader thread with that thread's connection (PostgreSQL), so that no loop thread
 * waits on a round trip. fn must not touch the h2o request beyond reading it. */
void rq_read(rq_t *rq, int (*fn)(rq_t *rq, db_conn_t *c), void (*next)(rq_t *rq, int rc));
/* A read that several requests can share: one(rq, c) reads for one request and returns its rc;
 * many(rqs, n, c) reads for n > 1 requests at once and sets each rqs[i]->job_rc (one round trip
 * to the database for all of them). */
typedef struct rq_batch_read {
    int (*one)(rq_t *rq, db_conn_t *c);
    void (*many)(rq_t **rqs, size_t n, db_conn_t *c);
} rq_batch_read_t;
/* rq_read, batched on a lookup thread with the other requests of the same b queued at that
 * moment (util/pool.h): under load, requests waiting for a thread share its next round trip.
 * The lookup is queued when the loop's turn ends (http_thread_flush_lookups), with the
 * others of that turn. */
void rq_read_batched(rq_t *rq, const rq_batch_read_t *b, void (*next)(rq_t *rq, int rc));
/* Hands the lookups the loop queued in this turn to the lookup threads; the loop calls it
 * after every turn, before it waits for events again. */
void http_thread_flush_lookups(http_thread_t *th);
/* Submits rq->write (prepared by the caller) to the writer; next(rq, rq->write.rc) runs on the
 * loop thread once the change is durable or refused. */
void rq_write(rq_t *rq, void (*next)(rq_t *rq, int rc));
/* Runs fn on the I/O pool (it may block), then next(rq, rq->job_rc) on the loop thread. */
void rq_io(rq_t *rq, void (*fn)(rq_t *rq), void (*next)(rq_t *rq, int rc));

/* Responds with a body of the given type (taken over: freed when sent). */
void rq_send_body(rq_t *rq, int status, const char *content_type, buf_t *body);
/* Responds with a JSON body (taken over: freed when sent). */
void rq_send_json(rq_t *rq, int status, buf_t *body);
/* Responds with the error in rq->err (or code's default message). */
void rq_send_error(rq_t *rq, int code);
/* Responds with no body (204, or HEAD answers). */
void rq_send_empty(rq_t *rq, int status);
/* Responds to a HEAD with the Content-Length the GET would have. */
void rq_send_head(rq_t *rq, int status, int64_t content_length);
/* Adds a response header (name lowercase; values copied). */
void rq_add_header(rq_t *rq, const char *name, const char *value);
/* Responds with a local file (h2o's file sender, with range support). */
void rq_send_file(rq_t *rq, const char *path, const char *content_type);

/* Request accessors. */
slice_t rq_header(rq_t *rq, const char *lname);
slice_t rq_body(rq_t *rq);
slice_t rq_method(rq_t *rq);
/* Returns the first value of a query parameter, decoded (form encoding), or NULL. */
const char *rq_query(rq_t *rq, const char *name);
/* Iterates query parameters: call with *pos = 0; returns false at the end. */
bool rq_query_next(rq_t *rq, size_t *pos, const char **name, const char **value);
/* Milliseconds / seconds since the epoch, for this request. */
int64_t rq_now_ms(rq_t *rq);

/* --- routing and dispatch (router.c) --- */
extern const route_t http_routes[];
extern const size_t http_nroutes;
/* "METHOD pattern" for each route, for metrics (built once, thread-safe). */
const char *const *http_route_names(void);
/* Matches method + path: returns the route, or NULL with *path_matched telling whether some
 * route has this path (405) and allow filled with the methods that do. */
const route_t *http_route_match(slice_t method, slice_t path, rq_t *rq, bool *path_matched, char *allow, size_t allowcap);

/* --- authentication (auth.c) --- */
/* Fills rq->auth for the route's requirement; returns 0 or an error (rq->err set). Reads the
 * key and tenant through c. */
int http_authenticate(rq_t *rq, db_conn_t *c);
/* Forgets every cached token and tenant (each loop thread caches what it read). Call it after
 * committing a change to API keys or tenants, before acknowledging it. Thread-safe. */
void http_auth_invalidate(void);

/* --- the h2o entry point (server.c) --- */
int http_on_req(h2o_handler_t *self, h2o_req_t *req);

/* --- handlers --- */
void h_healthz(rq_t *rq);
void h_readyz(rq_t *rq);
void h_metrics(rq_t *rq);
void h_object_put(rq_t *rq);
void h_object_get(rq_t *rq);
void h_object_head(rq_t *rq);
void h_object_fetch(rq_t *rq);
void h_object_patch(rq_t *rq);
void h_object_delete(rq_t *rq);
void h_object_list(rq_t *rq);
void h_upload_complete(rq_t *rq);
void h_upload_parts(rq_t *rq);
void h_upload_abort(rq_t *rq);
void h_store_put(rq_t *rq);
void h_store_get(rq_t *rq);
void h_store_list(rq_t *rq);
void h_store_delete(rq_t *rq);
void h_tenant_put(rq_t *rq);
void h_tenant_get(rq_t *rq);
void h_tenant_delete(rq_t *rq);
void h_audit_list(rq_t *rq);
void h_audit_chains(rq_t *rq);
void h_audit_checkpoints(rq_t *rq);
void h_audit_pubkey(rq_t *rq);
void h_audit_verify(rq_t *rq);
void h_tenant_list(rq_t *rq);
void h_key_create(rq_t *rq);
void h_key_list(rq_t *rq);
void h_key_revoke(rq_t *rq);
void h_local(rq_t *rq);

#endif
