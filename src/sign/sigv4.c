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

/* A query parameter, encoded. */
typedef struct qparam {
    char *name;
    char *value;
} qparam_t;

static int qparam_cmp(const void *a, const void *b)
{
    const qparam_t *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static char *encode(const char *s)
{
    buf_t b = BUF_INIT;
    pct_encode(&b, s, strlen(s), false);
    return buf_detach(&b, NULL);
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

/* Writes "a;b;c", the signed header names (host included), sorted. */
static void signed_names(const sigv4_kv_t *sorted, size_t n, buf_t *out)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(out, ';');
        buf_puts(out, sorted[i].name);
    }
}

/* The headers to sign, host included, sorted by name (malloc'ed; free it). */
static sigv4_kv_t *all_headers(const sigv4_params_t *p, size_t *n)
{
    sigv4_kv_t *h = malloc((p->nheaders + 1) * sizeof(*h));
    if (h == NULL)
        abort();
    h[0] = (sigv4_kv_t){"host", p->host};
    for (size_t i = 0; i < p->nheaders; i++)
        h[i + 1] = p->headers[i];
    *n = p->nheaders + 1;
    qsort(h, *n, sizeof(*h), hdr_cmp);
    return h;
}

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

int sigv4_canonical(const sigv4_params_t *p, buf_t *creq, buf_t *query)
{
    char date[17], date8[9], expires[24];
    size_t nh;
    sigv4_kv_t *hdrs = all_headers(p, &nh);
    buf_t names = BUF_INIT, cred = BUF_INIT;
    int rc = 0;

    time_fmt_amz(p->now, date);
    memcpy(date8, date, 8);
    date8[8] = '\0';
    snprintf(expires, sizeof(expires), "%lld", (long long)p->expires);
    signed_names(hdrs, nh, &names);
    put_scope(&cred, p->access_key, date8, p);

    size_t nq = p->nquery + 5;
    qparam_t *q = malloc(nq * sizeof(*q));
    if (q == NULL)
        abort();
    const char *names5[5] = {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders"};
    const char *values5[5] = {SIGV4_ALGORITHM, cred.base, date, expires, names.base};
    for (size_t i = 0; i < 5; i++)
        q[i] = (qparam_t){encode(names5[i]), encode(values5[i])};
    for (size_t i = 0; i < p->nquery; i++)
        q[5 + i] = (qparam_t){encode(p->query[i].name), encode(p->query[i].value ? p->query[i].value : "")};
    qsort(q, nq, sizeof(*q), qparam_cmp);
    for (size_t i = 0; i < nq; i++) {
        if (i)
            rc |= buf_putc(query, '&');
        rc |= buf_puts(query, q[i].name);
        rc |= buf_putc(query, '=');
        rc |= buf_puts(query, q[i].value);
        free(q[i].name);
        free(q[i].value);
    }
    free(q);

    rc |= buf_puts(creq, p->method);
    rc |= buf_putc(creq, '\n');
    rc |= buf_puts(creq, p->canonical_uri);
    rc |= buf_putc(creq, '\n');
    rc |= buf_put_slice(creq, buf_slice(query));
    rc |= buf_putc(creq, '\n');
    for (size_t i = 0; i < nh; i++) {
        rc |= buf_puts(creq, hdrs[i].name);
        rc |= buf_putc(creq, ':');
        rc |= put_trimmed(creq, hdrs[i].value ? hdrs[i].value : "");
        rc |= buf_putc(creq, '\n');
    }
    rc |= buf_putc(creq, '\n');
    rc |= buf_puts(creq, names.base);
    rc |= buf_putc(creq, '\n');
    rc |= buf_puts(creq, p->payload_hash);
    free(hdrs);
    buf_release(&names);
    buf_release(&cred);
    return rc ? ERR_PAYLOAD_TOO_LARGE : 0;
}

int sigv4_string_to_sign(const sigv4_params_t *p, const buf_t *creq, buf_t *sts)
{
    char date[17], hash[65];
    time_fmt_amz(p->now, date);
    sha256_hex(creq->base, creq->len, hash);
    char date8[9];
    memcpy(date8, date, 8);
    date8[8] = '\0';
    int rc = buf_puts(sts, SIGV4_ALGORITHM "\n");
    rc |= buf_puts(sts, date);
    rc |= buf_putc(sts, '\n');
    rc |= put_scope(sts, NULL, date8, p);
    rc |= buf_putc(sts, '\n');
    rc |= buf_puts(sts, hash);
    return rc ? ERR_PAYLOAD_TOO_LARGE : 0;
}

int sigv4_presign(const sigv4_params_t *p, const uint8_t signing_key[32], buf_t *query, char *sig_hex)
{
    buf_t creq = BUF_INIT, sts = BUF_INIT, canon = BUF_INIT;
    uint8_t mac[32];
    char hex[65];
    int rc = sigv4_canonical(p, &creq, &canon);
    if (rc == 0)
        rc = sigv4_string_to_sign(p, &creq, &sts);
    if (rc == 0) {
        hmac_sha256(signing_key, 32, sts.base, sts.len, mac);
        hex_encode(mac, 32, hex);
        rc = sigv4_url_query(p, hex, query);
        if (sig_hex)
            memcpy(sig_hex, hex, 65);
    }
    buf_release(&creq);
    buf_release(&sts);
    buf_release(&canon);
    return rc;
}

int sigv4_url_query(const sigv4_params_t *p, const char *sig_hex, buf_t *query)
{
    char date[17], expires[24];
    buf_t names = BUF_INIT, cred = BUF_INIT;
    size_t nh;
    sigv4_kv_t *hdrs = all_headers(p, &nh);
    int rc = 0;
    time_fmt_amz(p->now, date);
    snprintf(expires, sizeof(expires), "%lld", (long long)p->expires);
    signed_names(hdrs, nh, &names);
    char date8[9];
    memcpy(date8, date, 8);
    date8[8] = '\0';
    put_scope(&cred, p->access_key, date8, p);
    /* operation parameters first, then the authentication ones: botocore's order */
    for (size_t i = 0; i < p->nquery; i++) {
        rc |= pct_encode(query, p->query[i].name, strlen(p->query[i].name), false);
        rc |= buf_putc(query, '=');
        rc |=
            pct_encode(query, p->query[i].value ? p->query[i].value : "", p->query[i].value ? strlen(p->query[i].value) : 0, false);
        rc |= buf_putc(query, '&');
    }
    const char *const auth[][2] = {
        {"X-Amz-Algorithm", SIGV4_ALGORITHM}, {"X-Amz-Credential", cred.base}, {"X-Amz-Date", date},
        {"X-Amz-SignedHeaders", names.base},  {"X-Amz-Expires", expires},      {"X-Amz-Signature", sig_hex}};
    for (size_t i = 0; i < sizeof(auth) / sizeof(auth[0]); i++) {
        if (i)
            rc |= buf_putc(query, '&');
        rc |= buf_puts(query, auth[i][0]);
        rc |= buf_putc(query, '=');
        rc |= pct_encode(query, auth[i][1], strlen(auth[i][1]), false);
    }
    free(hdrs);
    buf_release(&names);
    buf_release(&cred);
    return rc ? ERR_PAYLOAD_TOO_LARGE : 0;
}
