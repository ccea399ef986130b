/*
 * audit.c - canonical encoding, hashing, Merkle roots and streaming verification.
 */
#include "core/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"
#include "util/enc.h"

static int field(buf_t *b, const char *s, size_t n)
{
    int rc = buf_put_u64(b, n);
    rc |= buf_putc(b, ':');
    rc |= buf_append(b, s, n);
    rc |= buf_putc(b, ',');
    return rc;
}

static int field_str(buf_t *b, const char *s)
{
    return field(b, s ? s : "", s ? strlen(s) : 0);
}

static int field_int(buf_t *b, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
    return field(b, tmp, (size_t)n);
}

int audit_canonical(const audit_entry_t *e, buf_t *b)
{
    int rc = buf_puts(b, "loci-audit-v1");
    rc |= field_str(b, e->tenant);
    rc |= field_int(b, e->seq);
    rc |= field_int(b, e->time);
    rc |= field_str(b, e->actor);
    rc |= field_str(b, e->action);
    rc |= field_str(b, e->subject);
    rc |= field_str(b, e->detail);
    return rc ? ERR_NOMEM : 0;
}

void audit_entry_hash(const audit_entry_t *e, uint8_t out[AUDIT_HASH_LEN])
{
    buf_t b = BUF_INIT;
    buf_append(&b, e->prev_hash, AUDIT_HASH_LEN);
    audit_canonical(e, &b);
    sha256(b.base, b.len, out);
    buf_release(&b);
}

static int head_cmp(const void *a, const void *b)
{
    return strcmp(((const audit_head_t *)a)->tenant, ((const audit_head_t *)b)->tenant);
}

void audit_merkle_root(audit_head_t *heads, size_t n, uint8_t out[AUDIT_HASH_LEN])
{
    if (n == 0) {
        sha256("", 0, out);
        return;
    }
    qsort(heads, n, sizeof(*heads), head_cmp);
    uint8_t(*level)[AUDIT_HASH_LEN] = malloc(n * AUDIT_HASH_LEN);
    if (level == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        buf_t b = BUF_INIT;
        buf_putc(&b, 0);
        field_str(&b, heads[i].tenant);
        field_int(&b, heads[i].seq);
        buf_append(&b, heads[i].hash, AUDIT_HASH_LEN);
        sha256(b.base, b.len, level[i]);
        buf_release(&b);
    }
    size_t width = n;
    while (width > 1) {
        size_t next = 0;
        for (size_t i = 0; i < width; i += 2) {
            if (i + 1 == width) {
                memcpy(level[next++], level[i], AUDIT_HASH_LEN); /* odd node: carried up */
                continue;
            }
            uint8_t node[1 + 2 * AUDIT_HASH_LEN];
            node[0] = 1;
            memcpy(node + 1, level[i], AUDIT_HASH_LEN);
            memcpy(node + 1 + AUDIT_HASH_LEN, level[i + 1], AUDIT_HASH_LEN);
            sha256(node, sizeof(node), level[next++]);
        }
        width = next;
    }
    memcpy(out, level[0], AUDIT_HASH_LEN);
    free(level);
}

int audit_checkpoint_message(int64_t seq, int64_t time, const uint8_t root[AUDIT_HASH_LEN], buf_t *b)
{
    char hex[2 * AUDIT_HASH_LEN + 1];
    hex_encode(root, AUDIT_HASH_LEN, hex);
    int rc = buf_puts(b, "loci-checkpoint-v1");
    rc |= field_int(b, seq);
    rc |= field_int(b, time);
    rc |= field_str(b, hex);
    return rc ? ERR_NOMEM : 0;
}

/* --- verification --- */

typedef struct expected {
    char *tenant;
    int64_t seq;
    int64_t checkpoint;
    uint8_t hash[AUDIT_HASH_LEN];
    bool seen;
} expected_t;

struct audit_verifier {
    char *tenant; /* the chain being read */
    int64_t last_seq;
    uint8_t last_hash[AUDIT_HASH_LEN];
    int64_t chains, entries;
    expected_t *exp;
    size_t nexp, capexp;
    bool sorted;
};

audit_verifier_t *audit_verifier_new(void)
{
    audit_verifier_t *v = calloc(1, sizeof(*v));
    if (v == NULL)
        abort();
    return v;
}

void audit_verifier_free(audit_verifier_t *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < v->nexp; i++)
        free(v->exp[i].tenant);
    free(v->exp);
    free(v->tenant);
    free(v);
}

void audit_verifier_expect(audit_verifier_t *v, const char *tenant, int64_t seq, const uint8_t hash[AUDIT_HASH_LEN],
                           int64_t checkpoint_seq)
{
    if (v->nexp == v->capexp) {
        v->capexp = v->capexp ? 2 * v->capexp : 64;
        v->exp = realloc(v->exp, v->capexp * sizeof(*v->exp));
        if (v->exp == NULL)
            abort();
    }
    expected_t *x = &v->exp[v->nexp++];
    x->tenant = strdup(tenant);
    if (x->tenant == NULL)
        abort();
    x->seq = seq;
    x->checkpoint = checkpoint_seq;
    memcpy(x->hash, hash, AUDIT_HASH_LEN);
    x->seen = false;
    v->sorted = false;
}

static int exp_cmp(const void *a, const void *b)
{
    const expected_t *x = a, *y = b;
    int c = strcmp(x->tenant, y->tenant);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq ? 1 : (x->checkpoint < y->checkpoint ? -1 : x->checkpoint > y->checkpoint);
}

static void problem(audit_problem_t *p, const char *tenant, int64_t seq, const char *reason)
{
    snprintf(p->tenant, sizeof(p->tenant), "%s", tenant);
    p->seq = seq;
    snprintf(p->reason, sizeof(p->reason), "%s", reason);
}

int audit_verifier_entry(audit_verifier_t *v, const audit_entry_t *e, audit_problem_t *p)
{
    if (!v->sorted) {
        if (v->nexp > 1)
            qsort(v->exp, v->nexp, sizeof(*v->exp), exp_cmp);
        v->sorted = true;
    }
    if (v->tenant == NULL || strcmp(v->tenant, e->tenant) != 0) {
        /* a new chain */
        free(v->tenant);
        v->tenant = strdup(e->tenant);
        if (v->tenant == NULL)
            abort();
        v->last_seq = 0;
        memset(v->last_hash, 0, AUDIT_HASH_LEN);
        v->chains++;
    }
    if (e->seq != v->last_seq + 1) {
        if (e->seq <= v->last_seq)
            problem(p, e->tenant, e->seq, "entry out of order or repeated");
        else
            problem(p, e->tenant, v->last_seq + 1, "entry missing (the chain jumps past it)");
        return -1;
    }
    if (!crypto_equal(e->prev_hash, v->last_hash, AUDIT_HASH_LEN)) {
        problem(p, e->tenant, e->seq, "prev_hash does not match the previous entry's hash");
        return -1;
    }
    uint8_t h[AUDIT_HASH_LEN];
    audit_entry_hash(e, h);
    if (!crypto_equal(h, e->hash, AUDIT_HASH_LEN)) {
        problem(p, e->tenant, e->seq, "hash does not match the entry's content");
        return -1;
    }
    /* what checkpoints attest about this entry */
    expected_t key = {.tenant = (char *)(uintptr_t)e->tenant, .seq = e->seq, .checkpoint = 0};
    size_t lo = 0, hi = v->nexp;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (exp_cmp(&v->exp[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < v->nexp && strcmp(v->exp[i].tenant, e->tenant) == 0 && v->exp[i].seq == e->seq; i++) {
        v->exp[i].seen = true;
        if (!crypto_equal(v->exp[i].hash, e->hash, AUDIT_HASH_LEN)) {
            char why[96];
            snprintf(why, sizeof(why), "differs from what checkpoint %lld attests", (long long)v->exp[i].checkpoint);
            problem(p, e->tenant, e->seq, why);
            return -1;
        }
    }
    memcpy(v->last_hash, e->hash, AUDIT_HASH_LEN);
    v->last_seq = e->seq;
    v->entries++;
    return 0;
}

int audit_verifier_finish(audit_verifier_t *v, audit_problem_t *p)
{
    for (size_t i = 0; i < v->nexp; i++) {
        if (!v->exp[i].seen) {
            char why[120];
            snprintf(why, sizeof(why), "entry missing: checkpoint %lld attests it (the chain was truncated)",
                     (long long)v->exp[i].checkpoint);
            problem(p, v->exp[i].tenant, v->exp[i].seq, why);
            return -1;
        }
    }
    return 0;
}

void audit_verifier_counts(const audit_verifier_t *v, int64_t *chains, int64_t *entries)
{
    *chains = v->chains;
    *entries = v->entries;
}
