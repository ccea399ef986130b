/*
 * server.c - fuzzes the whole request path of the real server, in process: the h2o glue,
 * routing, authentication, every handler with its query string and JSON body, the database
 * and the writer, on a temporary SQLite data directory.
 *
 * LLVMFuzzerInitialize starts the server with server_start() (the code `loci serve` runs) on
 * 127.0.0.1 with one event loop, then makes the tokens the inputs use. Each input becomes one
 * HTTP/1.1 request on a keep-alive loopback connection (reopened only when the server closes
 * it); the server's threads run in this process, so libFuzzer sees their coverage. Every 2000
 * inputs (LOCI_FUZZ_RESET) the server starts again on an empty directory, so the database stays
 * small and executions fast.
 *
 * Input (see fuzz.h for fields):
 *   byte 0   bits 0-2 credential: 0 the route's own (admin, read-write tenant, none), 1 tenant
 *            read-write, 2 tenant read-only, 3 admin, 4 none, 5 field hval as the bearer token,
 *            6 a revoked tenant token, 7 a token of another cell;
 *            bits 3-4 content type: 0 application/json, 1 none, 2 "application/json;
 *            charset=utf-8", 3 field hval; bits 5-6 extra header: 0 none, 1 If-Match: hval,
 *            2 If-None-Match: hval, 3 Accept: hval; bit 7 (/local/ routes) sign the request with
 *            the local store's signer (content type hval, the body's length, lifetime byte 1)
 *   byte 1   URL lifetime of a signed /local/ request (minutes)
 *   fields   route, p0, p1, query, hval, then the body (the rest). route is "METHOD pattern" of
 *            a route in http_routes (its {} and * take p0, then p1), or else "METHOD path", sent
 *            as it is (so a route table change never breaks the corpus: tests/fuzz/seeds.py
 *            writes one seed per route and the dictionary of route names).
 * Bytes HTTP forbids in a request target (controls, space, DEL, '#', and '?' in the path) are
 * percent-encoded; header values lose CR/LF/controls. Requests that would delete or redefine the
 * fixture tenant 'demo' or store 'local' are skipped, so every input sees the same fixtures.
 *
 * Properties: the server answers every request with one complete HTTP response; never 500; an
 * error answer (4xx/5xx, but HEAD) is application/json {"error":{"code","message","request_id"}}
 * with a code from src/util/err.h whose status is the response's, and the request id of the
 * x-request-id header; 405 has Allow; a 2xx JSON answer parses. Store calls cannot leave the
 * machine: libcurl is pointed at a closed loopback proxy.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "server/server.h"
#include "sign/sign.h"
#include "util/buf.h"
#include "util/enc.h"

#define ADMIN_TOKEN  "la_fuzz_admin_token_0123456789abcdef"
#define OTHER_CELL   "lk_zz9_aaaaaaaaaaaaaaaa_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define RESPONSE_MAX (8 << 20)
#define WAIT_MS      15000

static const struct {
    const char *code;
    int status;
} CODES[] = {
#define X(name, num, status, code, msg) {code, status},
    ERR_MAP(X)
#undef X
};

static config_t cfg;
static server_t *srv;
static char dir[256];
static int port;
static char rw_token[160], ro_token[160], revoked_token[160];
static int conn = -1;
static buf_t in; /* bytes received and not yet consumed */

/* --- the connection --- */

static void disconnect(void)
{
    if (conn >= 0)
        close(conn);
    conn = -1;
    buf_reset(&in);
}

static void connect_server(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    for (int attempt = 0; attempt < 100; attempt++) {
        conn = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        FZ_CHECK(conn >= 0, "socket: %s", strerror(errno));
        setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(conn, (struct sockaddr *)&a, sizeof(a)) == 0)
            return;
        close(conn);
        conn = -1;
        usleep(10000);
    }
    FZ_CHECK(0, "cannot connect to the server on port %d", port);
}

static void send_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(conn, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        FZ_CHECK(w > 0, "send: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
}

/* Reads more bytes into `in`; returns false at end of stream. */
static bool receive(void)
{
    struct pollfd pfd = {.fd = conn, .events = POLLIN};
    int rc;
    do
        rc = poll(&pfd, 1, WAIT_MS);
    while (rc < 0 && errno == EINTR);
    FZ_CHECK(rc > 0, "no answer within %d ms", WAIT_MS);
    char chunk[16384];
    ssize_t r = recv(conn, chunk, sizeof(chunk), 0);
    if (r <= 0)
        return false;
    FZ_CHECK(buf_append(&in, chunk, (size_t)r) == 0, "response larger than %d bytes", RESPONSE_MAX);
    return true;
}

/* --- the response --- */

typedef struct response {
    int status;
    bool close;
    char content_type[128];
    char request_id[64];
    bool has_allow, chunked;
    long long content_length;
    buf_t body;
} response_t;

static bool header_is(const char *line, size_t n, const char *name, const char **value, size_t *vlen)
{
    size_t nl = strlen(name);
    if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return false;
    *value = line + nl + 1;
    *vlen = n - nl - 1;
    while (*vlen && (**value == ' ' || **value == '\t'))
        (*value)++, (*vlen)--;
    return true;
}

/* Parses the status line and headers of in[0..hlen). */
static void parse_head(const char *h, size_t hlen, response_t *r)
{
    FZ_CHECK(hlen > 12 && memcmp(h, "HTTP/1.1 ", 9) == 0, "status line '%.40s'", h);
    r->status = atoi(h + 9);
    FZ_CHECK(r->status >= 100 && r->status <= 599, "status %d", r->status);
    r->content_length = -1;
    for (const char *line = (const char *)memchr(h, '\n', hlen) + 1; line < h + hlen;) {
        const char *eol = memchr(line, '\r', (size_t)(h + hlen - line));
        size_t n = eol ? (size_t)(eol - line) : (size_t)(h + hlen - line);
        const char *v;
        size_t vl;
        if (header_is(line, n, "content-length", &v, &vl))
            r->content_length = strtoll(v, NULL, 10);
        else if (header_is(line, n, "transfer-encoding", &v, &vl))
            r->chunked = vl >= 7 && strncasecmp(v, "chunked", 7) == 0;
        else if (header_is(line, n, "connection", &v, &vl))
            r->close = vl >= 5 && strncasecmp(v, "close", 5) == 0;
        else if (header_is(line, n, "content-type", &v, &vl))
            snprintf(r->content_type, sizeof(r->content_type), "%.*s", (int)vl, v);
        else if (header_is(line, n, "x-request-id", &v, &vl))
            snprintf(r->request_id, sizeof(r->request_id), "%.*s", (int)vl, v);
        else if (header_is(line, n, "allow", &v, &vl))
            r->has_allow = true;
        line += n + 2;
    }
}

/* Reads one whole response to a request with this method. */
static void read_response(const char *method, response_t *r)
{
    char *end;
    while ((end = in.base ? memmem(in.base, in.len, "\r\n\r\n", 4) : NULL) == NULL)
        FZ_CHECK(receive(), "connection closed before a response (%zu bytes received)", in.len);
    size_t hlen = (size_t)(end - in.base) + 4;
    parse_head(in.base, hlen, r);
    size_t pos = hlen;
    bool no_body = strcmp(method, "HEAD") == 0 || r->status == 204 || r->status == 304 || r->status < 200;
    if (no_body) {
        /* nothing */
    } else if (r->chunked) {
        for (;;) {
            char *crlf;
            while ((crlf = memmem(in.base + pos, in.len - pos, "\r\n", 2)) == NULL)
                FZ_CHECK(receive(), "connection closed inside a chunk header");
            long long size = strtoll(in.base + pos, NULL, 16);
            FZ_CHECK(size >= 0 && size < RESPONSE_MAX, "chunk of %lld bytes", size);
            size_t start = (size_t)(crlf - in.base) + 2;
            while (in.len < start + (size_t)size + 2)
                FZ_CHECK(receive(), "connection closed inside a chunk");
            buf_append(&r->body, in.base + start, (size_t)size);
            pos = start + (size_t)size + 2;
            if (size == 0)
                break;
        }
    } else if (r->content_length >= 0) {
        FZ_CHECK(r->content_length < RESPONSE_MAX, "content-length %lld", r->content_length);
        while (in.len < pos + (size_t)r->content_length)
            FZ_CHECK(receive(), "connection closed %zu bytes into a %lld-byte body", in.len - pos, r->content_length);
        buf_append(&r->body, in.base + pos, (size_t)r->content_length);
        pos += (size_t)r->content_length;
    } else {
        while (receive())
            ;
        buf_append(&r->body, in.base + pos, in.len - pos);
        pos = in.len;
        r->close = true;
    }
    FZ_CHECK(pos == in.len, "%zu bytes after the response", in.len - pos);
    buf_reset(&in);
}

/* The JSON error shape of docs/api.md, with a code whose status is the response's. */
static void check_error_body(const response_t *r, const char *req)
{
    FZ_CHECK(strncmp(r->content_type, "application/json", 16) == 0, "error %d as '%s': %s\n--- request:\n%s", r->status,
             r->content_type, r->body.base ? r->body.base : "", req);
    json_error_t je;
    json_t *v = json_loadb(r->body.base ? r->body.base : "", r->body.len, JSON_REJECT_DUPLICATES, &je);
    FZ_CHECK(v && json_is_object(v) && json_object_size(v) == 1, "error body is not {\"error\":...}: %s", r->body.base);
    json_t *err = json_object_get(v, "error");
    json_t *code = json_object_get(err, "code"), *msg = json_object_get(err, "message"), *id = json_object_get(err, "request_id");
    FZ_CHECK(json_is_object(err) && json_object_size(err) == 3 && json_is_string(code) && json_is_string(msg) && json_is_string(id),
             "error body fields: %s", r->body.base);
    FZ_CHECK(json_string_length(msg) > 0, "empty error message: %s", r->body.base);
    FZ_CHECK(strcmp(json_string_value(id), r->request_id) == 0, "request_id %s, header %s", json_string_value(id), r->request_id);
    bool known = false;
    for (size_t i = 0; i < sizeof(CODES) / sizeof(CODES[0]) && !known; i++)
        known = strcmp(CODES[i].code, json_string_value(code)) == 0 && CODES[i].status == r->status;
    FZ_CHECK(known, "code '%s' with status %d", json_string_value(code), r->status);
    json_decref(v);
}

static void check_response(const char *method, const response_t *r, const char *req)
{
    FZ_CHECK(r->status != 500, "500: %s\n--- request:\n%s", r->body.base ? r->body.base : "", req);
    FZ_CHECK(strlen(r->request_id) == 16, "x-request-id '%s'", r->request_id);
    if (r->status == 405)
        FZ_CHECK(r->has_allow, "405 without Allow");
    if (strcmp(method, "HEAD") == 0) {
        FZ_CHECK(r->body.len == 0, "HEAD answered with a body");
        return;
    }
    if (r->status >= 400) {
        check_error_body(r, req);
    } else if (r->status >= 200 && r->body.len > 0 && strncmp(r->content_type, "application/json", 16) == 0) {
        json_t *v = json_loadb(r->body.base, r->body.len, 0, NULL);
        FZ_CHECK(v && json_is_object(v), "%d answer is not a JSON object: %.200s", r->status, r->body.base);
        json_decref(v);
    }
}

/* Sends one request and reads its answer (reconnecting if the server had closed the
 * connection before the request went out). */
static void exchange(const char *method, const buf_t *req, response_t *r)
{
    static long slow_ms = -1;
    struct timespec t0, t1;
    if (slow_ms < 0)
        slow_ms = getenv("LOCI_FUZZ_SLOW_MS") ? atol(getenv("LOCI_FUZZ_SLOW_MS")) : 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(r, 0, sizeof(*r));
    buf_init(&r->body, RESPONSE_MAX);
    if (conn < 0)
        connect_server();
    send_all(req->base, req->len);
    read_response(method, r);
    if (r->close)
        disconnect();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    if (slow_ms > 0 && ms >= slow_ms) /* LOCI_FUZZ_SLOW_MS=N: name requests slower than N ms */
        fprintf(stderr, "slow: %ld ms %d %.*s\n", ms, r->status, (int)strcspn(req->base, "\r"), req->base);
}

/* --- building requests --- */

static bool target_byte_ok(unsigned char c, bool in_path)
{
    return c > 0x20 && c != 0x7f && c != '#' && !(in_path && c == '?');
}

static void put_target(buf_t *b, slice_t s, bool in_path)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.base[i];
        if (target_byte_ok(c, in_path)) {
            buf_putc(b, (char)c);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_append(b, esc, 3);
        }
    }
}

static void put_header(buf_t *b, const char *name, slice_t value)
{
    buf_puts(b, name);
    buf_puts(b, ": ");
    for (size_t i = 0; i < value.len; i++) {
        unsigned char c = (unsigned char)value.base[i];
        buf_putc(b, c < 0x20 || c == 0x7f ? ' ' : (char)c);
    }
    buf_puts(b, "\r\n");
}

/* The request target for route r: its pattern with {} and * replaced by p0, p1. */
static void route_path(const route_t *r, slice_t p0, slice_t p1, buf_t *b)
{
    size_t k = 0;
    for (const char *p = r->pattern; *p; p++) {
        if ((p[0] == '{' && p[1] == '}') || (p[0] == '*' && p[1] == '\0')) {
            put_target(b, k++ == 0 ? p0 : p1, true);
            p += p[0] == '{';
        } else {
            buf_putc(b, *p);
        }
    }
}

/* True if the request would change the fixtures every input relies on. */
static bool touches_fixtures(const char *method, const buf_t *path)
{
    rq_t rq;
    bool matched;
    char allow[128];
    memset(&rq, 0, sizeof(rq));
    arena_init(&rq.arena);
    const char *q = memchr(path->base, '?', path->len);
    slice_t p = slice_make(path->base, q ? (size_t)(q - path->base) : path->len);
    const route_t *r = http_route_match(slice_cstr(method), p, &rq, &matched, allow, sizeof(allow));
    bool hit = false;
    if (r && rq.err.code == 0 && rq.nparams > 0 && rq.params[0]) {
        if (r->handler == h_tenant_put || r->handler == h_tenant_delete)
            hit = strcmp(rq.params[0], "demo") == 0;
        if (r->handler == h_store_put || r->handler == h_store_delete)
            hit = strcmp(rq.params[0], "local") == 0;
    }
    arena_release(&rq.arena);
    return hit;
}

/* Signs a /local/ request for store p0, object name p1 with the server's own signer; appends
 * the path and query to target and the headers the signature binds to hdrs. */
static bool sign_local(const char *method, slice_t p0, slice_t p1, slice_t ctype, size_t body_len, int64_t expires, buf_t *target,
                       buf_t *hdrs)
{
    const app_t *app = server_app(srv);
    store_snap_t *snap = stores_acquire(app->stores);
    char *store = fz_cstr(p0), *name = fz_cstr(p1), *ct = fz_cstr(ctype);
    bool ok = false;
    long si = snap_find(snap, store);
    if (si >= 0 && snap->signers[si] && strcmp(snap->stores[si].provider, "local") == 0) {
        cset_t all;
        cset_clear(&all);
        cset_add(&all, snap->stores[si].country);
        sign_request_t srq = {.method = method,
                              .name = name,
                              .now = time(NULL),
                              .expires = expires,
                              .content_type = ct,
                              .content_length = (int64_t)body_len};
        sign_result_t res;
        arena_t a;
        err_t e;
        arena_init(&a);
        if (sign_presign(snap->signers[si], &all, "demo", &srq, &res, &a, &e) == 0) {
            const char *path = strchr(strstr(res.url, "://") + 3, '/');
            buf_puts(target, path);
            for (size_t i = 0; i < res.nheaders; i++)
                if (strcmp(res.headers[i].name, "content-length") != 0)
                    put_header(hdrs, res.headers[i].name, slice_cstr(res.headers[i].value));
            ok = true;
        }
        arena_release(&a);
    }
    stores_release(snap);
    free(store);
    free(name);
    free(ct);
    return ok;
}

static const char *credential(int mode, const route_t *r, slice_t hval, char *own, size_t cap)
{
    switch (mode) {
    case 0:
        if (r == NULL || r->auth == AUTH_NONE)
            return NULL;
        return r->auth == AUTH_ADMIN ? ADMIN_TOKEN : rw_token;
    case 1:
        return rw_token;
    case 2:
        return ro_token;
    case 3:
        return ADMIN_TOKEN;
    case 4:
        return NULL;
    case 5:
        snprintf(own, cap, "%.*s", (int)(hval.len < cap - 1 ? hval.len : cap - 1), hval.base);
        return own;
    case 6:
        return revoked_token;
    default:
        return OTHER_CELL;
    }
}

static void maybe_reset(void);

/* The route named "METHOD pattern", or NULL. */
static const route_t *find_route(slice_t name)
{
    for (size_t i = 0; i < http_nroutes; i++) {
        size_t ml = strlen(http_routes[i].method), pl = strlen(http_routes[i].pattern);
        if (name.len == ml + 1 + pl && memcmp(name.base, http_routes[i].method, ml) == 0 && name.base[ml] == ' ' &&
            memcmp(name.base + ml + 1, http_routes[i].pattern, pl) == 0)
            return &http_routes[i];
    }
    return NULL;
}

/* A method for the raw form: the token before the first space, "GET" if there is none. */
static void raw_method(slice_t route, char *out, size_t cap, slice_t *path)
{
    size_t n = 0;
    while (n < route.len && route.base[n] != ' ' && n < cap - 1) {
        unsigned char c = (unsigned char)route.base[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' || c == '_'))
            break;
        out[n] = (char)c;
        n++;
    }
    out[n] = '\0';
    if (n == 0)
        snprintf(out, cap, "GET");
    const char *sp = memchr(route.base, ' ', route.len);
    *path = sp ? slice_make(sp + 1, route.len - (size_t)(sp + 1 - route.base)) : route;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f = fz_init(data, size);
    maybe_reset();
    uint8_t flags = fz_byte(&f), b2 = fz_byte(&f);
    slice_t name = fz_field(&f), p0 = fz_field(&f), p1 = fz_field(&f), query = fz_field(&f), hval = fz_field(&f);
    slice_t body = fz_rest(&f), raw;
    const route_t *r = find_route(name);
    char rawm[16];
    const char *method = r ? r->method : rawm;
    buf_t target = BUF_INIT, hdrs = BUF_INIT, req = BUF_INIT;
    char own[512];

    if (r == NULL)
        raw_method(name, rawm, sizeof(rawm), &raw);
    bool signed_local = r && (flags & 0x80) && r->handler == h_local;
    if (signed_local) {
        if (!sign_local(method, p0, p1, hval, body.len, 1 + b2 * 60, &target, &hdrs))
            goto out;
    } else {
        if (r) {
            route_path(r, p0, p1, &target);
        } else {
            if (raw.len == 0 || raw.base[0] != '/')
                buf_putc(&target, '/');
            put_target(&target, raw, true);
        }
        if (query.len) {
            buf_putc(&target, '?');
            put_target(&target, query, false);
        }
    }
    if (touches_fixtures(method, &target))
        goto out;

    const char *tok = credential(flags & 7, r, hval, own, sizeof(own));
    if (tok) {
        char auth[600];
        snprintf(auth, sizeof(auth), "Bearer %s", tok);
        put_header(&hdrs, "Authorization", slice_cstr(auth));
    }
    if (!signed_local) {
        switch ((flags >> 3) & 3) {
        case 0:
            put_header(&hdrs, "Content-Type", SLICE_LIT("application/json"));
            break;
        case 2:
            put_header(&hdrs, "Content-Type", SLICE_LIT("application/json; charset=utf-8"));
            break;
        case 3:
            put_header(&hdrs, "Content-Type", hval);
            break;
        }
    }
    switch ((flags >> 5) & 3) {
    case 1:
        put_header(&hdrs, "If-Match", hval);
        break;
    case 2:
        put_header(&hdrs, "If-None-Match", hval);
        break;
    case 3:
        put_header(&hdrs, "Accept", hval);
        break;
    }
    buf_printf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n", method, target.base, port);
    buf_put_slice(&req, buf_slice(&hdrs));
    if (body.len || strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0)
        buf_printf(&req, "Content-Length: %zu\r\n", body.len);
    buf_puts(&req, "\r\n");
    buf_put_slice(&req, body);

    response_t res;
    exchange(method, &req, &res);
    check_response(method, &res, req.base);
    buf_release(&res.body);
out:
    buf_release(&target);
    buf_release(&hdrs);
    buf_release(&req);
    return 0;
}

/* --- setup --- */

/* One request during setup; returns the answer's JSON (or NULL) and its status. */
static json_t *setup_request(const char *method, const char *path, const char *token, const char *body, int *status)
{
    buf_t req = BUF_INIT;
    buf_printf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n", method, path, port, token);
    if (body)
        buf_printf(&req, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
    else
        buf_puts(&req, "Content-Length: 0\r\n\r\n");
    response_t r;
    exchange(method, &req, &r);
    *status = r.status;
    json_t *v = r.body.len ? json_loadb(r.body.base, r.body.len, 0, NULL) : NULL;
    buf_release(&r.body);
    buf_release(&req);
    return v;
}

/* Creates a key for tenant demo with the given scopes JSON and copies its token into out. */
static void make_token(const char *scopes, char *out, size_t cap, const char **key_id)
{
    int status;
    json_t *v = setup_request("POST", "/v1/admin/tenants/demo/keys", ADMIN_TOKEN, scopes, &status);
    const char *t = json_string_value(json_object_get(v, "token"));
    FZ_CHECK(status == 201 && t, "cannot create a token: status %d", status);
    snprintf(out, cap, "%s", t);
    if (key_id) {
        static char id[64];
        snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(v, "key_id")));
        *key_id = id;
    }
    json_decref(v);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Stops the server and removes its data directory. */
static void stop_fixture(void)
{
    disconnect();
    if (srv) {
        FZ_CHECK(server_stop(srv, 5000) == 0, "the server did not stop within 5 s");
        srv = NULL;
        config_release(&cfg);
    }
    if (dir[0])
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    dir[0] = '\0';
}

static void at_exit(void)
{
    stop_fixture();
    buf_release(&in);
}

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    FZ_CHECK(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 && getsockname(s, (struct sockaddr *)&a, &len) == 0,
             "no free port: %s", strerror(errno));
    close(s);
    return ntohs(a.sin_port);
}

/* Starts a server on a fresh data directory and makes the tokens the inputs use. */
static void start_fixture(void)
{
    err_t e;
    char text[512];

    /* tmpfs when there is one: every write is fsynced */
    struct stat st;
    const char *base = stat("/dev/shm", &st) == 0 && access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/loci-fuzz-server.XXXXXX", base ? base : "/tmp");
    FZ_CHECK(mkdtemp(dir) != NULL, "mkdtemp %s: %s", dir, strerror(errno));

    port = free_port();
    config_init(&cfg);
    snprintf(text, sizeof(text), "%s/data", dir);
    config_set(&cfg, "data_dir", text, &e);
    snprintf(text, sizeof(text), "127.0.0.1:%d", port);
    config_set(&cfg, "listen", text, &e);
    config_set(&cfg, "threads", "1", &e);
    config_set(&cfg, "io_threads", "2", &e);
    config_set(&cfg, "log_requests", "false", &e);
    config_set(&cfg, "shutdown_timeout_ms", "2000", &e);
    FZ_CHECK(config_finish(&cfg, &e) == 0, "config: %s", e.msg);
    /* first start prints the demo token; keep the fuzzer's output readable */
    int saved = dup(STDERR_FILENO), devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDERR_FILENO);
    int rc = server_start(&cfg, &srv, &e);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(devnull);
    FZ_CHECK(rc == 0, "server_start: %s", e.msg);

    snprintf(text, sizeof(text), "%s/data/demo.token", dir);
    FILE *tf = fopen(text, "r");
    FZ_CHECK(tf && fgets(rw_token, sizeof(rw_token), tf), "no demo token");
    fclose(tf);
    rw_token[strcspn(rw_token, "\n")] = '\0';
    const char *revoked_id;
    make_token("{\"scopes\":[\"read\"]}", ro_token, sizeof(ro_token), NULL);
    make_token("{}", revoked_token, sizeof(revoked_token), &revoked_id);
    snprintf(text, sizeof(text), "/v1/admin/tenants/demo/keys/%s", revoked_id);
    int status;
    json_decref(setup_request("DELETE", text, ADMIN_TOKEN, NULL, &status));
    FZ_CHECK(status == 204, "cannot revoke a token: %d", status);
}

/* Every so many inputs the server starts again on an empty directory: the audit trail and the
 * object table grow with every write, and the answers that read them (audit export, verify,
 * listings) slow down with them. LOCI_FUZZ_RESET=N sets how many (0: never). */
static void maybe_reset(void)
{
    static unsigned long every = 0, runs = 0;
    if (every == 0)
        every = getenv("LOCI_FUZZ_RESET") ? strtoul(getenv("LOCI_FUZZ_RESET"), NULL, 10) : 2000;
    if (every != 0 && ++runs % every == 0) {
        stop_fixture();
        start_fixture();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN);
    /* loci's own requests to stores (complete, erasure) go to a closed loopback port, never out */
    static const char *const proxies[] = {"ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"};
    for (size_t i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
        setenv(proxies[i], "http://127.0.0.1:9", 1);
    unsetenv("NO_PROXY");
    unsetenv("no_proxy");
    setenv("LOCI_ADMIN_TOKEN", ADMIN_TOKEN, 1);
    buf_init(&in, RESPONSE_MAX);
    start_fixture();
    /* after OpenSSL registered its exit handler, so the server stops before OpenSSL is gone */
    atexit(at_exit);
    return 0;
}
