/*
 * hello.c - the HTTP stack's ceiling for `make bench`: a server on the same libh2o 2.2 evloop
 * as loci, set up the same way (N loop threads, each with its own h2o context, all accepting
 * from one listening socket and handing the connections round the loops in turn;
 * SO_REUSEADDR, TCP_NODELAY, HTTP/1.1 only, keep-alive; after a busy turn a loop polls for
 * --spin-us before it sleeps, loci's loop_spin_us with the same default, a fixed window: every
 * request it serves is answered at once, so polling always pays), that answers every request
 * with a fixed JSON body of a given size and does nothing else.
 *
 *   hello --listen 127.0.0.1:PORT [--threads N] [--body-size BYTES] [--head-size BYTES] [--spin-us US]
 *
 * --head-size makes it also a stand-in object store for the write workload: a HEAD (loci's
 * verification of a finished upload) is answered 200 with that Content-Length. Stops on
 * SIGINT/SIGTERM.
 */
#include <h2o.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct thread {
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_multithread_receiver_t handoffs; /* connections another loop accepted for this one */
    atomic_bool ready;                   /* handoffs registered */
    int fd;
    pthread_t tid;
    unsigned long work; /* requests begun on this loop */
} thread_t;

typedef struct handoff {
    h2o_multithread_message_t msg;
    int fd;
} handoff_t;

static thread_t *loops;
static long nloops;
static atomic_long next_loop;

static h2o_globalconf_t config;
static char *body;
static size_t body_len;
static long long head_size = -1;
static char head_len[32];
static long spin_us = 50;

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    H2O_STRUCT_FROM_MEMBER(thread_t, ctx, req->conn->ctx)->work++;
    req->res.status = 200;
    req->res.reason = "OK";
    if (head_size >= 0 && h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        /* h2o 2.2 sends no body for HEAD; the length is the stored object's */
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_LENGTH, NULL, head_len, strlen(head_len));
        h2o_send_inline(req, "", 0);
        return 0;
    }
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
    req->res.content_length = body_len;
    h2o_send_inline(req, body, body_len);
    return 0;
}

static void serve(thread_t *th, int fd)
{
    h2o_accept(&th->accept_ctx, h2o_evloop_socket_create(th->ctx.loop, fd, H2O_SOCKET_FLAG_IS_ACCEPTED_CONNECTION));
}

static void on_handoffs(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    thread_t *th = H2O_STRUCT_FROM_MEMBER(thread_t, handoffs, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        handoff_t *h = H2O_STRUCT_FROM_MEMBER(handoff_t, msg.link, messages->next);
        h2o_linklist_unlink(&h->msg.link);
        serve(th, h->fd);
        free(h);
    }
}

/* as loci's server.c: connections go round the loops in turn, whichever loop woke for them */
static void on_accept(h2o_socket_t *listener, const char *err)
{
    thread_t *th = listener->data;
    if (err != NULL)
        return;
    for (int i = 0; i < 16; i++) {
        int fd = accept4(th->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), on = 1;
        if (fd < 0)
            return;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
        thread_t *to = &loops[atomic_fetch_add(&next_loop, 1) % nloops];
        handoff_t *h = to != th && atomic_load(&to->ready) ? calloc(1, sizeof(*h)) : NULL;
        if (h == NULL) {
            serve(th, fd);
            continue;
        }
        h->fd = fd;
        h2o_multithread_send_message(&to->handoffs, &h->msg);
    }
}

static void *thread_main(void *arg)
{
    thread_t *th = arg;
    h2o_context_init(&th->ctx, h2o_evloop_create(), &config);
    th->accept_ctx.ctx = &th->ctx;
    th->accept_ctx.hosts = config.hosts;
    h2o_multithread_register_receiver(th->ctx.queue, &th->handoffs, on_handoffs);
    atomic_store(&th->ready, true);
    h2o_socket_t *listener = h2o_evloop_socket_create(th->ctx.loop, th->fd, H2O_SOCKET_FLAG_DONT_READ);
    listener->data = th;
    h2o_socket_read_start(listener, on_accept);
    /* as loci's server.c: after a turn that did work, poll (yielding) for spin_us first */
    long long until = 0; /* ns, CLOCK_MONOTONIC; 0: not polling */
    for (;;) {
        unsigned long work = th->work;
        bool spinning = until != 0;
        if (spinning)
            sched_yield();
        h2o_evloop_run(th->ctx.loop, spinning ? 0 : INT32_MAX);
        if (spin_us <= 0)
            continue;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        long long now = ts.tv_sec * 1000000000LL + ts.tv_nsec;
        if (th->work != work)
            until = now + spin_us * 1000LL;
        else if (spinning && now >= until)
            until = 0;
    }
    return NULL;
}

static int listen_on(const char *addr)
{
    char host[256];
    const char *colon = strrchr(addr, ':');
    if (colon == NULL || (size_t)(colon - addr) >= sizeof(host))
        return -1;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
        return -1;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
        listen(fd, SOMAXCONN) != 0) {
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    return fd;
}

int main(int argc, char **argv)
{
    const char *listen_addr = "127.0.0.1:7790";
    long threads = sysconf(_SC_NPROCESSORS_ONLN), size = 900;
    static const char usage[] =
        "usage: hello --listen HOST:PORT [--threads N] [--body-size BYTES] [--head-size BYTES] [--spin-us US]\n";
    for (int i = 1; i < argc; i += 2) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (i + 1 >= argc) { /* an option without its value */
            fputs(usage, stderr);
            return 2;
        }
        if (strcmp(argv[i], "--listen") == 0)
            listen_addr = argv[i + 1];
        else if (strcmp(argv[i], "--threads") == 0)
            threads = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--body-size") == 0)
            size = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--head-size") == 0)
            head_size = strtoll(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--spin-us") == 0)
            spin_us = strtol(argv[i + 1], NULL, 10);
        else {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (threads < 1 || size < 2) {
        fprintf(stderr, "hello: bad --threads or --body-size\n");
        return 2;
    }
    snprintf(head_len, sizeof(head_len), "%lld", head_size);
    /* a JSON object of exactly `size` bytes: {"pad":"xxxx..."} */
    body_len = (size_t)size;
    body = malloc(body_len);
    memset(body, 'x', body_len);
    memcpy(body, "{\"pad\":\"", 8 < body_len ? 8 : body_len);
    body[body_len - 2] = '"';
    body[body_len - 1] = '}';

    signal(SIGPIPE, SIG_IGN);
    h2o_config_init(&config);
    config.server_name = h2o_iovec_init(H2O_STRLIT("hello"));
    config.http1.upgrade_to_http2 = 0;
    h2o_hostconf_t *host = h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof(*handler));
    handler->on_req = on_req;

    int fd = listen_on(listen_addr);
    if (fd < 0) {
        fprintf(stderr, "hello: cannot listen on %s\n", listen_addr);
        return 1;
    }
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* every thread inherits it; main takes them in sigwait */
    nloops = threads;
    loops = calloc((size_t)threads, sizeof(*loops));
    for (long i = 0; i < threads; i++)
        loops[i].fd = i == 0 ? fd : dup(fd);
    for (long i = 0; i < threads; i++)
        pthread_create(&loops[i].tid, NULL, thread_main, &loops[i]);
    fprintf(stderr, "hello: serving %zu-byte bodies on http://%s (%ld threads)\n", body_len, listen_addr, threads);
    int sig;
    sigwait(&sigs, &sig);
    return 0;
}
