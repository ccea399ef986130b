/*
 * query.c - fuzzes request paths and query strings as the HTTP layer reads them: the route
 * matcher with its percent-decoding of {} and * parameters (src/http/router.c) and the query
 * string iterator (rq_query_next / rq_query in src/http/request.c).
 *
 * Input: a method byte (an index into the methods below), then the request target
 * "path?query". Properties: a matched route has this method and one decoded parameter per {}
 * and *, none hiding a NUL and a {} never holding a raw '/'; building the path again from the
 * pattern and the canonically encoded parameters matches the same route with the same
 * parameters; the query iterator returns one pair per non-empty '&' piece, each decoded
 * without NUL or marked malformed, and rq_query finds the first well-formed value of a name.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "http/http.h"
#include "util/enc.h"

static const char *const METHODS[] = {"GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS", "get"};

static size_t pattern_params(const char *p)
{
    size_t n = 0;
    for (; *p; p++)
        n += (p[0] == '{' && p[1] == '}') || (p[0] == '*' && p[1] == '\0');
    return n;
}

/* The path a client would send for route r with these parameters, each encoded canonically. */
static void build_path(const route_t *r, const char *const *params, buf_t *b)
{
    size_t k = 0;
    for (const char *p = r->pattern; *p; p++) {
        if (p[0] == '{' && p[1] == '}') {
            pct_encode(b, params[k], strlen(params[k]), false);
            k++;
            p++;
        } else if (p[0] == '*' && p[1] == '\0') {
            pct_encode(b, params[k], strlen(params[k]), true);
            k++;
        } else {
            buf_putc(b, *p);
        }
    }
}

static void check_route(slice_t method, slice_t path)
{
    rq_t rq, again;
    bool path_matched;
    char allow[128];
    memset(&rq, 0, sizeof(rq));
    arena_init(&rq.arena);
    const route_t *r = http_route_match(method, path, &rq, &path_matched, allow, sizeof(allow));
    FZ_CHECK(strlen(allow) < sizeof(allow), "allow overflow");
    if (r == NULL || rq.err.code != 0) {
        FZ_CHECK(r == NULL || rq.err.code == ERR_BAD_REQUEST, "router error %d", rq.err.code);
        arena_release(&rq.arena);
        return;
    }
    FZ_CHECK(path_matched && slice_eq_cstr(method, r->method), "route %s %s for another method", r->method, r->pattern);
    FZ_CHECK(rq.nparams == pattern_params(r->pattern) && rq.nparams <= RQ_MAX_PARAMS, "%zu parameters for %s", rq.nparams,
             r->pattern);
    for (size_t i = 0; i < rq.nparams; i++)
        FZ_CHECK(rq.params[i] != NULL, "parameter %zu missing", i);
    /* a {} parameter is one raw segment: it can hold '/' only percent-encoded */
    buf_t b = BUF_INIT;
    build_path(r, rq.params, &b);
    memset(&again, 0, sizeof(again));
    arena_init(&again.arena);
    const route_t *r2 = http_route_match(method, buf_slice(&b), &again, &path_matched, allow, sizeof(allow));
    FZ_CHECK(r2 == r && again.err.code == 0, "rebuilt path '%s' matches %s instead of %s", b.base, r2 ? r2->pattern : "nothing",
             r->pattern);
    for (size_t i = 0; i < rq.nparams; i++)
        FZ_CHECK(strcmp(rq.params[i], again.params[i]) == 0, "parameter %zu changed on the way back", i);
    buf_release(&b);
    arena_release(&again.arena);
    arena_release(&rq.arena);
}

static void check_query(slice_t query)
{
    rq_t rq;
    memset(&rq, 0, sizeof(rq));
    arena_init(&rq.arena);
    rq.query = query;
    size_t pieces = 0;
    for (size_t i = 0; i < query.len;) {
        const char *amp = memchr(query.base + i, '&', query.len - i);
        size_t end = amp ? (size_t)(amp - query.base) : query.len;
        pieces += end > i;
        i = end + 1;
    }
    size_t pos = 0, got = 0, prev = 0;
    const char *k, *v, *first_name = NULL, *first_value = NULL;
    while (rq_query_next(&rq, &pos, &k, &v)) {
        FZ_CHECK(pos > prev && pos <= query.len, "iterator went from %zu to %zu", prev, pos);
        prev = pos;
        got++;
        FZ_CHECK(k != NULL, "no name");
        if (v == NULL) {
            FZ_CHECK(*k == '\0', "malformed pair keeps name '%s'", k);
            continue;
        }
        if (first_name == NULL) {
            first_name = k;
            first_value = v;
        }
    }
    FZ_CHECK(got == pieces, "%zu pairs for %zu pieces", got, pieces);
    if (first_name) {
        const char *found = rq_query(&rq, first_name);
        FZ_CHECK(found && strcmp(found, first_value) == 0, "rq_query('%s') does not find the first value", first_name);
    }
    arena_release(&rq.arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f = fz_init(data, size);
    const char *m = METHODS[fz_byte(&f) % (sizeof(METHODS) / sizeof(METHODS[0]))];
    slice_t target = fz_rest(&f);
    const char *q = memchr(target.base, '?', target.len);
    slice_t path = slice_make(target.base, q ? (size_t)(q - target.base) : target.len);
    slice_t query = q ? slice_make(q + 1, target.len - path.len - 1) : slice_make("", 0);
    check_route(slice_cstr(m), path);
    check_query(query);
    return 0;
}
