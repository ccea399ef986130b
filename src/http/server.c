/*
 * server.c - h2o setup: one event loop per thread, all accepting from one listening socket and
 * handing the connections round the loops in turn, and graceful shutdown (stop accepting,
 * finish in-flight requests, then leave the loop).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <h2o.h>
#include <h2o/http1.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/server.h"
#include "util/pool.h"
#include "util/spin.h"
#include "util/timeutil.h"

/* Out of file descriptors, accepting rests this long: the listening socket stays readable
 * while a connection waits, so trying again at once would spin the loop. */
#define ACCEPT_PAUSE_MS 100
/* While shutting down, how often a loop looks whether only idle connections are left. */
#define SHUTDOWN_POLL_MS 20

void http_on_messages(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);
void http_thread_begin_shutdown(http_thread_t *th);

/* Binds and listens on "host:port" ("[v6]:port" for IPv6). Returns the fd or -1 with e set. */
static int listen_on(const char *addr, err_t *e)
{
    char host[256];
    const char *colon = strrchr(addr, ':');
    if (colon == NULL || colon == addr || (size_t)(colon - addr) >= sizeof(host)) {
        err_set(e, ERR_BAD_REQUEST, "listen address '%s' must be HOST:PORT", addr);
        return -1;
    }
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    char *h = host;
    if (h[0] == '[' && h[strlen(h) - 1] == ']') {
        h[strlen(h) - 1] = '\0';
        h++;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(h, colon + 1, &hints, &res);
    if (gai != 0) {
        err_set(e, ERR_BAD_REQUEST, "cannot resolve '%s': %s", addr, gai_strerror(gai));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
        listen(fd, SOMAXCONN) != 0) {
        err_set(e, ERR_UNAVAILABLE, "cannot listen on %s: %s", addr, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    return fd;
}

static void on_accept(h2o_socket_t *listener, const char *err);

static void on_accept_resume(h2o_timeout_entry_t *entry)
{
    http_thread_t *th = H2O_STRUCT_FROM_MEMBER(http_thread_t, accept_resume, entry);
    if (th->listener != NULL)
        h2o_socket_read_start(th->listener, on_accept);
}

/* Stops accepting for ACCEPT_PAUSE_MS (no descriptor is left for a new connection). The
 * connections and requests already here carry on; new clients wait in the listen backlog. */
static void pause_accepting(http_thread_t *th)
{
    if (th->listener == NULL || h2o_timeout_is_linked(&th->accept_resume))
        return;
    h2o_socket_read_stop(th->listener);
    h2o_timeout_link(th->ctx.loop, &th->accept_pause, &th->accept_resume);
}

/* A connection one loop accepted for another. */
typedef struct handoff {
    h2o_multithread_message_t msg;
    int fd;
} handoff_t;

static void serve(http_thread_t *th, int fd)
{
    atomic_fetch_add_explicit(&th->m->connections, 1, memory_order_relaxed);
    h2o_accept(&th->accept_ctx, h2o_evloop_socket_create(th->ctx.loop, fd, H2O_SOCKET_FLAG_IS_ACCEPTED_CONNECTION));
}

/* Gives the connection fd to loop `to`; false (fd still the caller's) when that loop does not
 * take connections (not started yet, or ending). */
static bool hand_off(http_thread_t *to, int fd)
{
    handoff_t *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return false;
    h->fd = fd;
    pthread_mutex_lock(&to->handoff_mu);
    bool open = to->handoff_open;
    if (open)
        h2o_multithread_send_message(&to->handoffs, &h->msg);
    pthread_mutex_unlock(&to->handoff_mu);
    if (!open)
        free(h);
    return open;
}

static void on_handoffs(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    http_thread_t *th = H2O_STRUCT_FROM_MEMBER(http_thread_t, handoffs, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        handoff_t *h = H2O_STRUCT_FROM_MEMBER(handoff_t, msg.link, messages->next);
        h2o_linklist_unlink(&h->msg.link);
        if (th->handoff_open)
            serve(th, h->fd);
        else
            close(h->fd); /* sent just before this loop stopped taking connections */
        free(h);
    }
}

/* Stops taking connections from other loops and closes those still queued, so that the
 * receiver can go. */
static void close_handoffs(http_thread_t *th)
{
    pthread_mutex_lock(&th->handoff_mu);
    th->handoff_open = false;
    pthread_mutex_unlock(&th->handoff_mu);
    /* no loop sends any more, and what was sent is on the receiver's list (the one
     * h2o_multithread_unregister_receiver asserts empty) */
    on_handoffs(&th->handoffs, &th->handoffs._messages);
    h2o_multithread_unregister_receiver(th->ctx.queue, &th->handoffs);
}

/*
 * Connections go round the loops in turn, whichever loop woke for them. Left to the race for
 * the listening socket, the first loop to wake takes a whole burst (a client pool opening its
 * connections at once, a load balancer's): that loop then serves nearly every request while
 * the others idle.
 */
static void on_accept(h2o_socket_t *listener, const char *err)
{
    http_thread_t *th = listener->data;
    app_t *app = th->app;
    if (err != NULL)
        return;
    /* take what is waiting; another loop may win the race for a connection, that is fine */
    for (int i = 0; i < 16; i++) {
        int fd = accept4(th->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), on = 1;
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                pause_accepting(th);
            return;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
        http_thread_t *to = app->threads[atomic_fetch_add(&app->next_loop, 1) % app->nthreads];
        if (to == th || !hand_off(to, fd))
            serve(th, fd);
    }
}

void http_thread_begin_shutdown(http_thread_t *th)
{
    th->shutting_down = true;
    th->shutdown_at = *h2o_get_timestamp(&th->ctx, NULL, NULL);
    if (h2o_timeout_is_linked(&th->accept_resume))
        h2o_timeout_unlink(&th->accept_resume);
    if (th->listener) {
        h2o_socket_read_stop(th->listener);
        h2o_socket_close(th->listener);
        th->listener = NULL;
    }
    /* HTTP/1 only: answers now carry "Connection: close" (h2o_context_request_shutdown would also
     * arm HTTP/2's one-second GOAWAY timer, which loci does not use) */
    th->ctx.shutdown_requested = 1;
}

/* h2o sets a request's version once its headers are in; a connection waiting for (the rest of)
 * the headers of its next request has none. */
static int request_started(h2o_req_t *req, void *cbdata)
{
    (void)cbdata;
    return req->version != 0;
}

/* While shutting down: once no request is being received or processed here, the connections
 * left are idle keep-alive ones (or never finished sending headers); their request timeout
 * becomes zero so they close at once. Until then it stays, so a request whose body is still
 * arriving (a local-store upload) finishes, within its request timeout. */
static void close_idle_when_quiet(http_thread_t *th)
{
    if (th->ctx.http1.req_timeout.timeout == 0 || th->inflight != 0 ||
        H2O_HTTP1_CALLBACKS.foreach_request(&th->ctx, request_started, NULL) != 0)
        return;
    th->ctx.http1.req_timeout.timeout = 0;
}

/* The loop is done when shutting down, nothing is in flight and no connection is left. */
static bool loop_done(http_thread_t *th)
{
    return th->shutting_down && th->inflight == 0 && h2o_linklist_is_empty(&th->ctx.http1._conns);
}

typedef struct start_sync {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t ready, failed;
} start_sync_t;

static start_sync_t start_sync = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

static void report_start(bool ok)
{
    pthread_mutex_lock(&start_sync.mu);
    if (ok)
        start_sync.ready++;
    else
        start_sync.failed++;
    pthread_cond_broadcast(&start_sync.cv);
    pthread_mutex_unlock(&start_sync.mu);
}

static void *thread_main(void *arg)
{
    http_thread_t *th = arg;
    app_t *app = th->app;
    err_t e;

    thread_name("loop%zu", th->index);
    h2o_context_init(&th->ctx, h2o_evloop_create(), &app->h2o);
    h2o_multithread_register_receiver(th->ctx.queue, &th->receiver, http_on_messages);
    h2o_multithread_register_receiver(th->ctx.queue, &th->handoffs, on_handoffs);
    th->accept_ctx.ctx = &th->ctx;
    th->accept_ctx.hosts = app->h2o.hosts;
    if (db_conn_open(app->db, &th->conn, &e) != 0) {
        fprintf(stderr, "loci: thread %zu: %s\n", th->index, e.msg);
        report_start(false);
        return NULL;
    }
    h2o_timeout_init(th->ctx.loop, &th->accept_pause, ACCEPT_PAUSE_MS);
    th->accept_resume.cb = on_accept_resume;
    th->listener = h2o_evloop_socket_create(th->ctx.loop, th->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    th->listener->data = th;
    h2o_socket_read_start(th->listener, on_accept);
    pthread_mutex_lock(&th->handoff_mu);
    th->handoff_open = true;
    pthread_mutex_unlock(&th->handoff_mu);
    report_start(true);

    /* the reads of one turn of the loop share a snapshot until a write commits; it ends
     * before the loop waits for events again */
    db_conn_share(th->conn);
    /* after busy turns the loop polls for a while before it sleeps (util/spin.h) */
    spin_t spin;
    spin_init(&spin, (int64_t)app->cfg->loop_spin_us * 1000);
    while (!loop_done(th)) {
        uint64_t work = th->work;
        bool polling = spin_polling(&spin);
        if (polling)
            sched_yield(); /* anything else runnable here goes first */
        th->first_work_ns = 0;
        h2o_evloop_run(th->ctx.loop, th->shutting_down ? SHUTDOWN_POLL_MS : polling ? 0 : INT32_MAX);
        http_thread_flush_lookups(th);
        db_conn_idle(th->conn);
        if (spin.max_ns > 0)
            spin_after_turn(&spin, th->work != work && !th->shutting_down, th->first_work_ns, time_mono_ns());
        if (th->shutting_down)
            close_idle_when_quiet(th);
    }

    close_handoffs(th);
    /* let closing sockets and zero-delay callbacks finish before the context goes */
    for (int i = 0; i < 4; i++) {
        h2o_evloop_run(th->ctx.loop, 0);
        http_thread_flush_lookups(th);
        db_conn_idle(th->conn);
    }
    h2o_timeout_dispose(th->ctx.loop, &th->accept_pause);
    app->db->vt->conn_close(th->conn);
    th->conn = NULL;
    h2o_multithread_unregister_receiver(th->ctx.queue, &th->receiver);
    h2o_evloop_t *loop = th->ctx.loop;
    h2o_context_dispose(&th->ctx);
    h2o_evloop_destroy(loop);
    return NULL;
}

void http_config(app_t *app)
{
    const config_t *cfg = app->cfg;
    h2o_config_init(&app->h2o);
    app->h2o.server_name = h2o_iovec_init(H2O_STRLIT("loci"));
    /* h2o buffers a whole body before the handler runs: the largest body is a local-store PUT;
     * API routes refuse anything above limits.body_max (times their body_scale) themselves */
    size_t max = cfg->limits.body_max * HTTP_BODY_SCALE_MAX;
    if ((size_t)cfg->local_max_object_size > max)
        max = (size_t)cfg->local_max_object_size;
    app->h2o.max_request_entity_size = max;
    app->h2o.http1.req_timeout = (uint64_t)cfg->request_timeout_ms;
    app->h2o.http1.upgrade_to_http2 = 0; /* HTTP/1.1 only */
    h2o_hostconf_t *host = h2o_config_register_host(&app->h2o, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof(*handler));
    handler->on_req = http_on_req;
}

/* Lets the soft limit on open files rise to the hard one, as h2o's own server does: every
 * connection costs a descriptor, and a soft limit of 1024 (a common default) would leave a
 * server that can hold tens of thousands of idle connections unable to accept the 1025th. */
static void raise_nofile_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            fprintf(stderr, "loci: cannot raise the open file limit: %s\n", strerror(errno));
    }
}

int http_start(app_t *app, err_t *e)
{
    raise_nofile_limit();
    int fd = listen_on(app->cfg->listen, e);
    if (fd < 0)
        return e->code;
    app->threads = calloc(app->nthreads, sizeof(*app->threads));
    if (app->threads == NULL) {
        close(fd);
        return err_set(e, ERR_NOMEM, NULL);
    }
    /* every loop exists before any accepts: a loop hands connections to the others */
    for (size_t i = 0; i < app->nthreads; i++) {
        http_thread_t *th = calloc(1, sizeof(*th));
        if (th == NULL)
            abort();
        th->app = app;
        th->index = i;
        th->m = &app->metrics.threads[i];
        th->listen_fd = i == 0 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 0);
        pthread_mutex_init(&th->handoff_mu, NULL);
        app->threads[i] = th;
    }
    for (size_t i = 0; i < app->nthreads; i++)
        if (pthread_create(&app->threads[i]->tid, NULL, thread_main, app->threads[i]) != 0)
            return err_set(e, ERR_INTERNAL, "cannot start thread %zu", i);
    pthread_mutex_lock(&start_sync.mu);
    while (start_sync.ready + start_sync.failed < app->nthreads)
        pthread_cond_wait(&start_sync.cv, &start_sync.mu);
    size_t failed = start_sync.failed;
    pthread_mutex_unlock(&start_sync.mu);
    if (failed)
        return err_set(e, ERR_UNAVAILABLE, "%zu of %zu threads failed to start", failed, app->nthreads);
    return 0;
}

int http_stop(app_t *app, int timeout_ms)
{
    atomic_store(&app->stopping, true);
    for (size_t i = 0; i < app->nthreads; i++) {
        memset(&app->threads[i]->stop_msg, 0, sizeof(app->threads[i]->stop_msg));
        h2o_multithread_send_message(&app->threads[i]->receiver, &app->threads[i]->stop_msg);
    }
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    int unfinished = 0;
    for (size_t i = 0; i < app->nthreads; i++)
        if (pthread_timedjoin_np(app->threads[i]->tid, NULL, &deadline) != 0)
            unfinished++;
    /* a loop that has not stopped yet may still hand a connection to one that has (and finds
     * it closed): the threads' state goes only once every loop is done */
    if (unfinished == 0) {
        for (size_t i = 0; i < app->nthreads; i++) {
            pthread_mutex_destroy(&app->threads[i]->handoff_mu);
            free(app->threads[i]);
        }
        free(app->threads);
        app->threads = NULL;
    }
    return unfinished;
}
