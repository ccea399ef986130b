/*
 * request.c - the life of a request: entry from h2o, routing, authentication, async hops to
 * the writer and the I/O pool and back, responses, the log line and metrics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/http.h"
#include "util/crypto.h"
#include "util/enc.h"
#include "util/jsonw.h"
#include "util/timeutil.h"

/* --- reference counting --- */

static void rq_unref(rq_t *rq)
{
    if (--rq->refs > 0)
        return;
    stores_release(rq->snap);
    arena_release(&rq->arena);
    free(rq);
}

static void rq_log_and_count(rq_t *rq);

/* h2o disposes the request's memory pool after the response is sent (or the connection dies). */
static void on_req_dispose(void *p)
{
    rq_t *rq = *(rq_t **)p;
    http_thread_t *th = rq->th;
    rq->req = NULL;
    th->inflight--;
    atomic_fetch_sub_explicit(&th->m->inflight, 1, memory_order_relaxed);
    rq_unref(rq);
}

/* --- async hops --- */

/* Called on a writer or pool thread: hand the request back to its loop. */
static void post_back(rq_t *rq)
{
    memset(&rq->msg, 0, sizeof(rq->msg));
    h2o_multithread_send_message(&rq->th->receiver, &rq->msg);
}

/* On the loop thread: continue the request whose hop finished. */
void http_on_messages(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);

void http_on_messages(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    http_thread_t *th = H2O_STRUCT_FROM_MEMBER(http_thread_t, receiver, receiver);
    th->work++;
    if (th->first_work_ns == 0)
        th->first_work_ns = time_mono_ns();
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *msg = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&msg->link);
        if (msg == &th->stop_msg) {
            void http_thread_begin_shutdown(http_thread_t * t);
            http_thread_begin_shutdown(th);
            continue;
        }
        rq_t *rq = H2O_STRUCT_FROM_MEMBER(rq_t, msg, msg);
        void (*next)(rq_t *, int) = rq->next;
        rq->next = NULL;
        if (rq->req != NULL && next != NULL)
            next(rq, rq->job_rc);
        rq_unref(rq);
    }
}

static void io_done(pool_job_t *job);

static void read_run(pool_job_t *job)
{
    rq_t *rq = H2O_STRUCT_FROM_MEMBER(rq_t, job, job);
    rq->job_rc = rq->read_fn(rq, job->thread_ctx);
}

/* Readies rq for a pool (it holds a reference until the job is done); next runs on the loop
 * thread afterwards (io_done posts it back). */
static void prepare(rq_t *rq, void (*next)(rq_t *rq, int rc))
{
    rq->refs++;
    rq->next = next;
    rq->job_rc = 0;
    rq->job.done = io_done;
    rq->job.next = NULL;
}

static void submit(rq_t *rq, pool_t *pool, void (*next)(rq_t *rq, int rc))
{
    prepare(rq, next);
    pool_submit(pool, &rq->job);
}

void rq_read(rq_t *rq, int (*fn)(rq_t *rq, db_conn_t *c), void (*next)(rq_t *rq, int rc))
{
    if (rq->app->readers == NULL) {
        /* SQLite reads never touch the network: run them right here on the loop thread */
        int rc = fn(rq, rq->th->conn);
        next(rq, rc);
        return;
    }
    /* a round trip to the database: on a reader thread, back through the loop's queue (h2o's
     * HTTP/1 stops reading a connection while its request is processed, so the request the
     * reader may look at stays as it is until the answer goes out) */
    rq->read_fn = fn;
    rq->job.run = read_run;
    rq->job.run_many = NULL;
    rq->job.batch = NULL;
    submit(rq, rq->app->readers, next);
}

static void read_run_many(pool_job_t **jobs, size_t n)
{
    rq_t *rqs[POOL_BATCH_MAX];
    for (size_t i = 0; i < n; i++)
        rqs[i] = H2O_STRUCT_FROM_MEMBER(rq_t, job, jobs[i]);
    const rq_batch_read_t *b = jobs[0]->batch;
    if (n == 1)
        rqs[0]->job_rc = b->one(rqs[0], jobs[0]->thread_ctx);
    else
        b->many(rqs, n, jobs[0]->thread_ctx);
}

void rq_read_batched(rq_t *rq, const rq_batch_read_t *b, void (*next)(rq_t *rq, int rc))
{
    if (rq->app->readers == NULL) {
        next(rq, b->one(rq, rq->th->conn));
        return;
    }
    rq->job.run = NULL;
    rq->job.run_many = read_run_many;
    rq->job.batch = b;
    /* (lookups exist whenever readers do: server.c) held until the loop's turn ends, so the
     * lookups of requests that arrived together go as one list: one wake-up, one round trip */
    prepare(rq, next);
    http_thread_t *th = rq->th;
    if (th->lookups_tail)
        th->lookups_tail->next = &rq->job;
    else
        th->lookups_head = &rq->job;
    th->lookups_tail = &rq->job;
}

void http_thread_flush_lookups(http_thread_t *th)
{
    if (th->lookups_head == NULL)
        return;
    pool_submit_list(th->app->lookups, th->lookups_head);
    th->lookups_head = th->lookups_tail = NULL;
}

static void write_done(db_write_t *w)
{
    rq_t *rq = w->ctx;
    rq->job_rc = w->rc;
    post_back(rq);
}

void rq_write(rq_t *rq, void (*next)(rq_t *rq, int rc))
{
    rq->refs++;
    rq->next = next;
    rq->write.done = write_done;
    rq->write.ctx = rq;
    rq->write.arena = &rq->arena;
    if (rq->write.audit.actor == NULL) /* who is asking is who made the change */
        rq->write.audit.actor = rq->auth.admin ? "admin" : rq->auth.key_id ? rq->auth.key_id : "system";
    if (rq->write.now == 0)
        rq->write.now = rq_now_ms(rq);
    db_writer_submit(rq->app->writer, &rq->write);
}

static void io_run(pool_job_t *job)
{
    rq_t *rq = H2O_STRUCT_FROM_MEMBER(rq_t, job, job);
    rq->io_fn(rq);
}

static void io_done(pool_job_t *job)
{
    rq_t *rq = H2O_STRUCT_FROM_MEMBER(rq_t, job, job);
    post_back(rq);
}

void rq_io(rq_t *rq, void (*fn)(rq_t *rq), void (*next)(rq_t *rq, int rc))
{
    rq->io_fn = fn;
    rq->job.run = io_run;
    rq->job.run_many = NULL;
    rq->job.batch = NULL;
    submit(rq, rq->app->io, next);
}

/* --- accessors --- */

slice_t rq_header(rq_t *rq, const char *lname)
{
    ssize_t i = h2o_find_header_by_str(&rq->req->headers, lname, strlen(lname), -1);
    if (i < 0)
        return (slice_t){NULL, 0};
    return slice_make(rq->req->headers.entries[i].value.base, rq->req->headers.entries[i].value.len);
}

slice_t rq_body(rq_t *rq)
{
    return slice_make(rq->req->entity.base ? rq->req->entity.base : "", rq->req->entity.len);
}

slice_t rq_method(rq_t *rq)
{
    return slice_make(rq->req->method.base, rq->req->method.len);
}

int64_t rq_now_ms(rq_t *rq)
{
    (void)rq;
    return time_now_ms();
}

/* Decodes one query component (form encoding) into the arena; NULL if malformed. */
static const char *query_decode(rq_t *rq, const char *s, size_t n)
{
    char *out = arena_alloc(&rq->arena, n + 1);
    size_t len;
    if (pct_decode(s, n, out, &len, true) != 0)
        return NULL;
    if (strlen(out) != len) /* an encoded NUL */
        return NULL;
    return out;
}

bool rq_query_next(rq_t *rq, size_t *pos, const char **name, const char **value)
{
    const char *q = rq->query.base;
    size_t n = rq->query.len;
    while (*pos < n) {
        size_t start = *pos;
        const char *amp = memchr(q + start, '&', n - start);
        size_t end = amp ? (size_t)(amp - q) : n;
        *pos = amp ? end + 1 : n;
        if (end == start)
            continue;
        const char *eq = memchr(q + start, '=', end - start);
        size_t nl = eq ? (size_t)(eq - (q + start)) : end - start;
        *name = query_decode(rq, q + start, nl);
        *value = eq ? query_decode(rq, eq + 1, (size_t)(q + end - eq - 1)) : "";
        if (*name == NULL || *value == NULL) {
            *name = "";
            *value = NULL; /* malformed: callers treat NULL value as an error */
        }
        return true;
    }
    return false;
}

const char *rq_query(rq_t *rq, const char *name)
{
    size_t pos = 0;
    const char *k, *v;
    while (rq_query_next(rq, &pos, &k, &v))
        if (v != NULL && strcmp(k, name) == 0)
            return v;
    return NULL;
}

/* --- responses --- */

void rq_add_header(rq_t *rq, const char *name, const char *value)
{
    h2o_req_t *req = rq->req;
    size_t nl = strlen(name), vl = strlen(value);
    char *n = h2o_mem_alloc_pool(&req->pool, nl), *v = h2o_mem_alloc_pool(&req->pool, vl + 1);
    memcpy(n, name, nl);
    memcpy(v, value, vl + 1);
    h2o_add_header_by_str(&req->pool, &req->res.headers, n, nl, 1, NULL, v, vl);
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 307:
        return "Temporary Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 421:
        return "Misdirected Request";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "OK";
    }
}

/* Common start of every response: status, request id; logs and counts it. */
static bool begin(rq_t *rq, int status)
{
    if (rq->req == NULL || rq->responded)
        return false;
    rq->responded = true;
    rq->status = status;
    rq->req->res.status = status;
    rq->req->res.reason = reason(status);
    rq_add_header(rq, "x-request-id", rq->request_id);
    rq_log_and_count(rq);
    return true;
}

void rq_send_body(rq_t *rq, int status, const char *content_type, buf_t *body)
{
    if (begin(rq, status)) {
        rq_add_header(rq, "content-type", content_type);
        rq->req->res.content_length = body->len;
        h2o_send_inline(rq->req, body->base ? body->base : "", body->len);
    }
    buf_release(body);
}

void rq_send_json(rq_t *rq, int status, buf_t *body)
{
    rq_send_body(rq, status, "application/json", body);
}

void rq_send_empty(rq_t *rq, int status)
{
    if (!begin(rq, status))
        return;
    rq->req->res.content_length = 0;
    h2o_send_inline(rq->req, "", 0);
}

void rq_send_head(rq_t *rq, int status, int64_t content_length)
{
    if (!begin(rq, status))
        return;
    rq->req->res.content_length = (size_t)content_length;
    h2o_send_inline(rq->req, "", 0);
}

void rq_send_file(rq_t *rq, const char *path, const char *content_type)
{
    if (!begin(rq, 200))
        return;
    if (h2o_file_send(rq->req, 200, "OK", path, h2o_iovec_init(content_type, strlen(content_type)), 0) != 0) {
        rq->req->res.content_length = 0;
        rq->req->res.status = 404;
        rq->req->res.reason = "Not Found";
        h2o_send_inline(rq->req, "", 0);
    }
}

void rq_send_error(rq_t *rq, int code)
{
    if (rq->err.code != code || rq->err.msg[0] == '\0')
        err_set(&rq->err, code, NULL);
    buf_t b = BUF_INIT;
    jw_t w;
    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_key(&w, "error");
    jw_obj_open(&w);
    jw_kv_str(&w, "code", err_api_code(code));
    jw_kv_str(&w, "message", rq->err.msg);
    jw_kv_str(&w, "request_id", rq->request_id);
    jw_obj_close(&w);
    jw_obj_close(&w);
    jw_finish(&w);
    int status = err_http_status(code);
    if (status == 503)
        rq_add_header(rq, "retry-after", "1");
    rq_send_json(rq, status, &b);
}

/* --- the log line --- */

static void rq_log_and_count(rq_t *rq)
{
    int64_t ns = time_mono_ns() - rq->start_ns;
    metrics_record(rq->th->m, rq->route_index, rq->status, ns);
    if (!rq->app->cfg->log_requests)
        return;
    char ts[25];
    time_fmt_iso8601_ms(time_now_ms(), ts);
    buf_t b = BUF_INIT;
    jw_t w;
    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_kv_str(&w, "time", ts);
    jw_kv_str(&w, "request_id", rq->request_id);
    jw_kv_str(&w, "method", rq->req ? arena_strndup(&rq->arena, rq->req->method.base, rq->req->method.len) : "");
    jw_kv_str(&w, "route", rq->route ? rq->route->pattern : "unmatched");
    jw_kv_int(&w, "status", rq->status);
    char dur[32];
    int dl = snprintf(dur, sizeof(dur), "%.3f", (double)ns / 1e6);
    jw_kv_raw(&w, "duration_ms", dur, (size_t)dl);
    if (rq->auth.admin)
        jw_kv_str(&w, "actor", "admin");
    else if (rq->auth.tenant.id)
        jw_kv_str(&w, "tenant", rq->auth.tenant.id);
    if (rq->auth.key_id)
        jw_kv_str(&w, "key_id", rq->auth.key_id);
    if (rq->log_object_id)
        jw_kv_str(&w, "object_id", rq->log_object_id);
    if (rq->status >= 400)
        jw_kv_str(&w, "error", err_api_code(rq->err.code ? rq->err.code : ERR_INTERNAL));
    jw_obj_close(&w);
    jw_finish(&w);
    buf_putc(&b, '\n');
    /* one write per line keeps lines from different threads whole */
    ssize_t rc = write(STDERR_FILENO, b.base, b.len);
    (void)rc;
    buf_release(&b);
}

/* --- entry --- */

static void make_request_id(char out[17])
{
    uint8_t r[8];
    crypto_random(r, sizeof(r));
    hex_encode(r, sizeof(r), out);
}

static size_t header_bytes(h2o_req_t *req)
{
    size_t n = req->input.method.len + req->input.path.len + req->input.authority.len + 16;
    for (size_t i = 0; i < req->headers.size; i++)
        n += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 4;
    return n;
}

static bool is_json_type(slice_t ct)
{
    static const char j[] = "application/json";
    if (ct.len < sizeof(j) - 1 || strncasecmp(ct.base, j, sizeof(j) - 1) != 0)
        return false;
    return ct.len == sizeof(j) - 1 || ct.base[sizeof(j) - 1] == ';' || ct.base[sizeof(j) - 1] == ' ';
}

static int auth_read(rq_t *rq, db_conn_t *c)
{
    return http_authenticate(rq, c);
}

static void after_auth(rq_t *rq, int rc)
{
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    rq->route->handler(rq);
}

int http_on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    http_thread_t *th = H2O_STRUCT_FROM_MEMBER(http_thread_t, ctx, req->conn->ctx);
    rq_t *rq = calloc(1, sizeof(*rq));
    if (rq == NULL)
        return -1;
    rq->req = req;
    rq->th = th;
    rq->app = th->app;
    rq->refs = 1;
    th->work++;
    rq->start_ns = time_mono_ns();
    if (th->first_work_ns == 0)
        th->first_work_ns = rq->start_ns;
    rq->route_index = METRICS_MAX_ROUTES - 1;
    arena_init(&rq->arena);
    make_request_id(rq->request_id);
    rq_t **slot = h2o_mem_alloc_shared(&req->pool, sizeof(rq_t *), on_req_dispose);
    *slot = rq;
    th->inflight++;
    atomic_fetch_add_explicit(&th->m->inflight, 1, memory_order_relaxed);

    /* refused: a request that began arriving after this loop began shutting down; served: one
     * whose headers were in before (a local-store upload whose body was still arriving) */
    if (th->shutting_down && timercmp(&req->timestamps.request_begin_at, &th->shutdown_at, >)) {
        err_set(&rq->err, ERR_UNAVAILABLE, "server is shutting down");
        rq_send_error(rq, ERR_UNAVAILABLE);
        return 0;
    }
    if (header_bytes(req) > (size_t)th->app->cfg->header_max) {
        err_set(&rq->err, ERR_HEADERS_TOO_LARGE, "request headers exceed %d bytes", th->app->cfg->header_max);
        rq_send_error(rq, ERR_HEADERS_TOO_LARGE);
        return 0;
    }
    const char *q = memchr(req->path.base, '?', req->path.len);
    rq->path = slice_make(req->path.base, q ? (size_t)(q - req->path.base) : req->path.len);
    rq->query = q ? slice_make(q + 1, req->path.len - rq->path.len - 1) : slice_make("", 0);

    bool path_matched = false;
    char allow[128] = "";
    const route_t *route = http_route_match(rq_method(rq), rq->path, rq, &path_matched, allow, sizeof(allow));
    if (route == NULL) {
        if (path_matched) {
            rq_add_header(rq, "allow", allow);
            err_set(&rq->err, ERR_METHOD_NOT_ALLOWED, "method %.*s not allowed here (allowed: %s)", (int)req->method.len,
                    req->method.base, allow);
            rq_send_error(rq, ERR_METHOD_NOT_ALLOWED);
        } else {
            err_set(&rq->err, ERR_NOT_FOUND, "no such endpoint");
            rq_send_error(rq, ERR_NOT_FOUND);
        }
        return 0;
    }
    rq->route = route;
    if (rq->err.code) { /* the router found a malformed path parameter */
        rq_send_error(rq, rq->err.code);
        return 0;
    }
    size_t body_max = th->app->cfg->limits.body_max * (size_t)(route->body_scale > 0 ? route->body_scale : 1);
    if (route->json_body) {
        if (req->entity.base == NULL || req->entity.len == 0) {
            err_set(&rq->err, ERR_BAD_REQUEST, "request body required");
            rq_send_error(rq, ERR_BAD_REQUEST);
            return 0;
        }
        if (req->entity.len > body_max) {
            err_set(&rq->err, ERR_PAYLOAD_TOO_LARGE, "request body exceeds %zu bytes", body_max);
            rq_send_error(rq, ERR_PAYLOAD_TOO_LARGE);
            return 0;
        }
        if (!is_json_type(rq_header(rq, "content-type"))) {
            err_set(&rq->err, ERR_UNSUPPORTED_MEDIA_TYPE, "request body must be application/json");
            rq_send_error(rq, ERR_UNSUPPORTED_MEDIA_TYPE);
            return 0;
        }
    } else if (req->entity.len > body_max && route->handler != h_local) {
        err_set(&rq->err, ERR_PAYLOAD_TOO_LARGE, "request body exceeds %zu bytes", body_max);
        rq_send_error(rq, ERR_PAYLOAD_TOO_LARGE);
        return 0;
    }
    if (route->auth == AUTH_NONE) {
        route->handler(rq);
        return 0;
    }
    rq_read(rq, auth_read, after_auth);
    return 0;
}
