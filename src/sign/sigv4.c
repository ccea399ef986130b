/*
 * sigv4.c - SigV4 query signing.
 */
#include "sign/sigv4.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"
#include "util/enc.h"
#include "util/timeutil.h"

void sigv4_derive_key(const char *secret, const char *date8, const char *region, const char *service, uint8_t out[32])
{
    size_t sl = strlen(secret);
    char *k = malloc(sl + 5);
    if (k == NULL)
        abort();
    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret, sl + 1);
    uint8_t a[32], b[32];
    hmac_sha256(k, sl + 4, date8, strlen(date8), a);
    hmac_sha256(a, 32, region, strlen(region), b);
    hmac_sha256(b, 32, service, strlen(service), a);
    hmac_sha256(a, 32, "aws4_request", 12, out);
    memset(k, 0, sl + 4);
    free(k);
}

void sigv4_key_cache_init(sigv4_key_cache_t *c)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
}

void sigv4_key_cache_release(sigv4_key_cache_t *c)
{
    memset(c->key, 0, sizeof(c->key));
    pthread_mutex_destroy(&c->mu);
}

void sigv4_key_cached(sigv4_key_cache_t *c, const char *secret, const char *date8, const char *region, const char *service,
                      uint8_t out[32])
{
    pthread_mutex_lock(&c->mu);
    if (strcmp(c->date, date8) == 0) {
        memcpy(out, c->key, 32);
        pthread_mutex_unlock(&c->mu);
        return;
    }
    pthread_mutex_unlock(&c->mu);
    /* derive outside the lock; a racing thread derives the same value */
    sigv4_derive_key(secret, date8, region, service, out);
    pthread_mutex_lock(&c->mu);
    memcpy(c->key, out, 32);
    memcpy(c->date, date8, 9);
    pthread_mutex_unlock(&c->mu);
}

int sigv4_encode_path(buf_t *b, const char *s, size_t len)
{
    return pct_encode(b, s, len, true);
}

/* A query parameter, encoded: name and value point into one buffer of encoded text. */
typedef struct qparam {
    const char *name;
    const char *value;
} qparam_t;

static int qparam_cmp(const void *a, const void *b)
{
    const qparam_t *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static int hdr_cmp(const void *a, const void *b)
{
    return strcmp(((const sigv4_kv_t *)a)->name, ((const sigv4_kv_t *)b)->name);
}

/* Appends a header value trimmed, with runs of spaces folded into one (SigV4's rule). */
static int put_trimmed(buf_t *b, const char *v)
{
    int rc = 0;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    bool space = false;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (v[i] == ' ' || v[i] == '\t') {
            space = true;
            continue;
        }
        if (space)
            rc = buf_putc(b, ' ');
        space = false;
        rc |= buf_putc(b, v[i]);
    }
    return rc;
}

/* Headers and query parameters on the stack up to this many (a presigned URL has a handful). */
#define SIGV4_STACK_ITEMS 16

/* What the canonical request and the URL's query share, worked out once per signature. */
typedef struct shared {
    sigv4_kv_t stack[SIGV4_STACK_ITEMS];
    sigv4_kv_t *hdrs; /* the headers to sign, host included, sorted by name */
    size_t nh;
    char date[17], date8[9], expires[24];
    buf_t text; /* the signed header names "a;b;c", NUL, the credential scope */
    size_t cred;
} shared_t;

/* [access_key "/"] date8 "/" region "/" service "/aws4_request": the credential scope. */
static int put_scope(buf_t *b, const char *access_key, const char *date8, const sigv4_params_t *p)
{
    int rc = 0;
    if (access_key) {
        rc |= buf_puts(b, access_key);
        rc |= buf_putc(b, '/');
    }
    rc |= buf_puts(b, date8);
    rc |= buf_putc(b, '/');
    rc |= buf_puts(b, p->region);
    rc |= buf_putc(b, '/');
    rc |= buf_puts(b, p->service);
    rc |= buf_puts(b, "/aws4_request");
    return rc;
}

/* Decimal digits of v into out (24 bytes), NUL-terminated. */
static void put_decimal(int64_t v, char out[24])
{
    char tmp[24];
    size_t i = sizeof(tmp);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--i] = '-';
    memcpy(out, tmp + i, sizeof(tmp) - i);
    out[sizeof(tmp) - i] = '\0';
}

static int shared_init(shared_t *s, const sigv4_params_t *p)
{
    s->nh = p->nheaders + 1;
    s->hdrs = s->nh <= SIGV4_STACK_ITEMS ? s->stack : malloc(s->nh * sizeof(*s->hdrs));
    if (s->hdrs == NULL)
        abort();
    s->hdrs[0] = (sigv4_kv_t){"host", p->host};
    for (size_t i = 0; i < p->nheaders; i++)
        s->hdrs[i + 1] = p->headers[i];
    qsort(s->hdrs, s->nh, sizeof(*s->hdrs), hdr_cmp);
    time_fmt_amz(p->now, s->date);
    memcpy(s->date8, s->date, 8);
    s->date8[8] = '\0';
    put_decimal(p->expires, s->expires);
    buf_init(&s->text, 0);
    int rc = buf_reserve(&s->text, 256);
    for (size_t i = 0; i < s->nh; i++) {
        if (i)
            rc |= buf_putc(&s->text, ';');
        rc |= buf_puts(&s->text, s->hdrs[i].name);
    }
    rc |= buf_putc(&s->text, '\0');
    s->cred = s->text.len;
    rc |= put_scope(&s->text, p->access_key, s->date8, p);
    return rc;
}

static void shared_release(shared_t *s)
{
    if (s->hdrs != s->stack)
        free(s->hdrs);
    buf_release(&s->text);
}

/* The canonical query string (sorted, every name and value encoded) into query. */
static int canonical_query(const sigv4_params_t *p, const shared_t *s, buf_t *query)
{
    size_t nq = p->nquery + 5;
    qparam_t stack[SIGV4_STACK_ITEMS], *q = nq <= SIGV4_STACK_ITEMS ? stack : malloc(nq * sizeof(*q));
    size_t offs[2 * SIGV4_STACK_ITEMS], *off = nq <= SIGV4_STACK_ITEMS ? offs : malloc(2 * nq * sizeof(*off));
    if (q == NULL || off == NULL)
        abort();
    const char *names5[5] = {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders"};
    const char *values5[5] = {SIGV4_ALGORITHM, s->text.base + s->cred, s->date, s->expires, s->text.base};
    /* every name and value encoded into one buffer, NUL after each; pointers once it stops growing */
    buf_t enc = BUF_INIT;
    int rc = buf_reserve(&enc, 512);
    for (size_t i = 0; i < nq; i++) {
        const char *name = i < 5 ? names5[i] : p->query[i - 5].name;
        const char *value = i < 5 ? values5[i] : p->query[i - 5].value ? p->query[i - 5].value : "";
        off[2 * i] = enc.len;
        rc |= pct_encode(&enc, name, strlen(name), false);
        rc |= buf_putc(&enc, '\0');
        off[2 * i + 1] = enc.len;
        rc |= pct_encode(&enc, value, strlen(value), false);
        rc |= buf_putc(&enc, '\0');
    }
    for (size_t i = 0; i < nq && rc == 0; i++)
        q[i] = (qparam_t){enc.base + off[2 * i], enc.base + off[2 * i + 1]};
    if (rc == 0) {
        qsort(q, nq, sizeof(*q), qparam_cmp);
        rc |= buf_reserve(query, enc.len + nq);
        for (size_t i = 0; i < nq; i++) {
            if (i)
                rc |= buf_putc(query, '&');
            rc |= buf_puts(query, q[i].name);
            rc |= buf_putc(query, '=');
            rc |= buf_puts(query, q[i].value);
        }
    }
    buf_release(&enc);
    if (q != stack)
        free(q);
    if (off != offs)
        free(off);
    return rc;
}

static int canonical(const sigv4_params_t *p, const shared_t *s, buf_t *creq, buf_t *query)
{
    int rc = canonical_query(p, s, query);
    rc |= buf_reserve(creq, 256 + query->len + strlen(p->canonical_uri));
    rc |= buf_puts(creq, p->method);
    rc |= buf_putc(creq, '\n');
    rc |= buf_puts(creq, p->canonical_uri);
    rc |= buf_putc(creq, '\n');
    rc |= buf_put_slice(creq, buf_slice(query));
    rc |= buf_putc(creq, '\n');
    for (size_t i = 0; i < s->nh; i++) {
        rc |= buf_puts(creq, s->hdrs[i].name);
        rc |= buf_putc(creq, ':');
        rc |= put_trimmed(creq, s->hdrs[i].value ? s->hdrs[i].value : "");
        rc |= buf_putc(creq, '\n');
    }
    rc |= buf_putc(creq, '\n');
    rc |= buf_puts(creq, s->text.base);
    rc |= buf_putc(creq, '\n');
    rc |= buf_puts(creq, p->payload_hash);
    return rc ? ERR_PAYLOAD_TOO_LARGE : 0;
}

int sigv4_canonical(const sigv4_params_t *p, buf_t *creq, buf_t *query)
{
    shared_t s;
    int rc = shared_init(&s, p);
    if (rc == 0)
        rc = canonical(p, &s, creq, query);
    shared_release(&s);
    return rc ? ERR_PAYLOAD_TOO_LARGE : 0;
}

static int string_to_sign(const sigv4_params_t *p, const shared_t *s, const buf_t *creq, buf_t *sts)
{
    char hash[65];
    sha256_hex(creq->base, creq->len, hash);
    int rc = buf_puts(sts, SIGV4_ALGORITHM "\n");
    rc |= buf_puts(sts, s->date);
    rc |= buf_putc(sts, '\n');
    rc |= put_scope(sts, NULL, s->date8, p);
    rc |= buf_putc(sts, '\n');
    rc |= buf_puts(sts, hash);
    return rc ? ERR_PAYLOAD_TOO_LARGE : 0;
}

int sigv4_string_to_sign(const sigv4_params_t *p, const buf_t *creq, buf_t *sts)
{
    shared_t s;
    int rc = shared_init(&s, p);
    if (rc == 0)
        rc = string_to_sign(p, &s, creq, sts);
    shared_release(&s);
    return rc ? ERR_PAYLOAD_TOO_LARGE : 0;
}

static int url_query(const sigv4_params_t *p, const shared_t *s, const char *sig_hex, buf_t *query)
{
    int rc = 0;
    /* operation parameters first, then the authentication ones: botocore's order */
    for (size_t i = 0; i < p->nquery; i++) {
        const char *value = p->query[i].value ? p->query[i].value : "";
        rc |= pct_encode(query, p->query[i].name, strlen(p->query[i].name), false);
        rc |= buf_putc(query, '=');
        rc |= pct_encode(query, value, strlen(value), false);
        rc |= buf_putc(query, '&');
    }
    const char *const auth[][2] = {{"X-Amz-Algorithm", SIGV4_ALGORITHM},
                                   {"X-Amz-Credential", s->text.base + s->cred},
                                   {"X-Amz-Date", s->date},
                                   {"X-Amz-SignedHeaders", s->text.base},
                                   {"X-Amz-Expires", s->expires},
                                   {"X-Amz-Signature", sig_hex}};
    for (size_t i = 0; i < sizeof(auth) / sizeof(auth[0]); i++) {
        if (i)
            rc |= buf_putc(query, '&');
        rc |= buf_puts(query, auth[i][0]);
        rc |= buf_putc(query, '=');
        rc |= pct_encode(query, auth[i][1], strlen(auth[i][1]), false);
    }
    return rc ? ERR_PAYLOAD_TOO_LARGE : 0;
}

int sigv4_url_query(const sigv4_params_t *p, const char *sig_hex, buf_t *query)
{
    shared_t s;
    int rc = shared_init(&s, p);
    if (rc == 0)
        rc = url_query(p, &s, sig_hex, query);
    shared_release(&s);
    return rc ? ERR_PAYLOAD_TOO_LARGE : 0;
}

int sigv4_presign(const sigv4_params_t *p, const uint8_t signing_key[32], buf_t *query, char *sig_hex)
{
    /* the pieces the three steps share are worked out once, and two buffers serve all steps */
    shared_t s;
    buf_t creq = BUF_INIT, text = BUF_INIT;
    uint8_t mac[32];
    char hex[65];
    int rc = shared_init(&s, p);
    if (rc == 0)
        rc = canonical(p, &s, &creq, &text);
    if (rc == 0) {
        buf_reset(&text);
        rc = string_to_sign(p, &s, &creq, &text);
    }
    if (rc == 0) {
        hmac_sha256(signing_key, 32, text.base, text.len, mac);
        hex_encode(mac, 32, hex);
        rc = url_query(p, &s, hex, query);
        if (sig_hex)
            memcpy(sig_hex, hex, 65);
    }
    shared_release(&s);
    buf_release(&creq);
    buf_release(&text);
    return rc ? ERR_PAYLOAD_TOO_LARGE : 0;
}
