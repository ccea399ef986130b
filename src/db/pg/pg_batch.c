/*
 * pg_batch.c - write_batch for PostgreSQL: group commit, audit chains, retries.
 *
 * A batch is one READ COMMITTED transaction and one COMMIT (one WAL flush for every op in it):
 *
 *   BEGIN, and lock the chain heads of every tenant the ops name, in tenant order (HEADS_LOCK)
 *   each op (pg_ops.c); its audit entry is chained in memory on the locked head
 *   insert the entries (one multi-row INSERT per few hundred), move the heads, add a marker,
 *   and COMMIT
 *
 * The first line and the last are one round trip each (pg_pipeline). An op's statements whose
 * results it does not need (inserting tags, finishing an upload, queueing erasures) are put off
 * (pg_batch_later) and go in the same round trip as the batch's next statement, or with the
 * COMMIT; so a write of one op costs two round trips plus the statements it reads the answers
 * of (an upload's complete: one, locking the upload and its object together).
 *
 * Holding a tenant's head from the start orders every batch that touches the tenant, on every
 * server, and taking all heads in one order keeps those batches from deadlocking. What can
 * still happen is retried: a deadlock or serialization failure (a lock taken later, such as a
 * chain found only while an op runs) runs the batch again; a statement of one op failing (a
 * constraint another server's commit tripped) runs the batch again without that op, which
 * fails alone with the error; a connection found dead before COMMIT runs it again on a new
 * one. A connection lost while COMMIT was on its way leaves the outcome unknown: the writer
 * reconnects and looks for the batch's marker in loci_commits, which exists if and only if the
 * transaction committed; if it did not, the batch runs again; if it cannot tell, the batch fails
 * (never a success it cannot prove).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db/audit.h"
#include "db/pg/pg.h"
#include "util/crypto.h"
#include "util/timeutil.h"

#define FLUSH_AT         400 /* entries per multi-row INSERT */
#define MAX_ATTEMPTS     6   /* deadlock or serialization retries of one batch */
#define TRIM_EVERY       1024
#define COMMITS_KEEP_MS  (24 * 3600 * 1000LL)
#define IMPORT_VACUUM_MS (3600 * 1000) /* bound on the VACUUM after an import */

/* arr (n elements of size, room for *cap) with room for one more: grown (doubled) if full. */
static void *room_for_one(void *arr, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return arr;
    *cap = *cap ? 2 * *cap : 32;
    if ((arr = realloc(arr, *cap * size)) == NULL)
        abort();
    return arr;
}

/* A statement put off: its parameters are copied (the caller's go when it returns). */
typedef struct pg_later {
    pg_stmt_id_t id;
    const char *what;
    size_t owner; /* the op's index in the batch */
    int n;
    const char **v;
    int *len, *fmt;
} pg_later_t;

int pg_batch_later(pg_batch_t *b, pg_stmt_id_t id, const pg_params_t *p, const char *what)
{
    if (b->fatal)
        return b->fatal;
    b->later = room_for_one(b->later, b->nlater, &b->caplater, sizeof(*b->later));
    arena_t *a = &b->later_arena;
    pg_later_t *q = &b->later[b->nlater++];
    q->id = id;
    q->what = what;
    q->owner = b->op;
    q->n = p ? p->n : 0;
    q->v = arena_alloc(a, (size_t)q->n * sizeof(*q->v) + 1);
    q->len = arena_alloc(a, (size_t)q->n * sizeof(*q->len) + 1);
    q->fmt = arena_alloc(a, (size_t)q->n * sizeof(*q->fmt) + 1);
    for (int i = 0; i < q->n; i++) {
        q->len[i] = p->len[i];
        q->fmt[i] = p->fmt[i];
        if (p->v[i] == NULL)
            q->v[i] = NULL;
        else if (p->fmt[i] == 1)
            q->v[i] = memcpy(arena_alloc(a, (size_t)p->len[i] + 1), p->v[i], (size_t)p->len[i]);
        else
            q->v[i] = arena_strdup(a, p->v[i]);
    }
    return 0;
}

/* Forgets what op i put off (it refused: nothing of it may stay). */
static void later_drop(pg_batch_t *b, size_t op)
{
    size_t k = 0;
    for (size_t i = 0; i < b->nlater; i++)
        if (b->later[i].owner != op)
            b->later[k++] = b->later[i];
    b->nlater = k;
}

static void later_clear(pg_batch_t *b)
{
    b->nlater = 0;
    arena_release(&b->later_arena);
}

/*
 * Runs the statements put off, then the k statements ids[] (ps[], what[]) in one round trip.
 * Returns 0 with the results of ids[] in out[] (those put off are cleared), or the error with
 * b->fatal set (and b->fatal_later, b->fatal_op when a put-off statement failed); *failed is
 * the index in ids[] of the one that failed, k when the connection broke, or -1 when a put-off
 * statement did.
 */
static int run(pg_batch_t *b, size_t k, const pg_stmt_id_t *ids, const pg_params_t *const *ps, const char *const *what,
               PGresult **out, ssize_t *failed)
{
    size_t m = b->nlater, n = m + k;
    pg_stmt_id_t *all = malloc(n * sizeof(*all));
    const pg_params_t **aps = malloc(n * sizeof(*aps));
    const char **aw = malloc(n * sizeof(*aw));
    PGresult **res = malloc(n * sizeof(*res));
    pg_params_t *lp = m ? malloc(m * sizeof(*lp)) : NULL;
    if (all == NULL || aps == NULL || aw == NULL || res == NULL || (m && lp == NULL))
        abort();
    for (size_t i = 0; i < m; i++) {
        const pg_later_t *q = &b->later[i];
        lp[i].n = q->n;
        memcpy(lp[i].v, q->v, (size_t)q->n * sizeof(*q->v));
        memcpy(lp[i].len, q->len, (size_t)q->n * sizeof(*q->len));
        memcpy(lp[i].fmt, q->fmt, (size_t)q->n * sizeof(*q->fmt));
        all[i] = q->id;
        aps[i] = &lp[i];
        aw[i] = q->what;
    }
    for (size_t i = 0; i < k; i++) {
        all[m + i] = ids[i];
        aps[m + i] = ps[i];
        aw[m + i] = what[i];
    }
    size_t bad;
    int rc = pg_pipeline(b->l, n, all, aps, res, aw, &bad, &b->fatal_err);
    if (rc != 0) {
        b->fatal = rc;
        if (bad < m && !b->l->lost) { /* (one that could not be prepared counts as the first) */
            b->fatal_later = true;
            b->fatal_op = b->later[bad].owner;
            b->fatal_stmt = b->later[bad].id;
            *failed = -1;
        } else {
            *failed = bad < m ? (ssize_t)k : (ssize_t)(bad - m);
        }
    } else {
        for (size_t i = 0; i < m; i++)
            PQclear(res[i]);
        if (k)
            memcpy(out, res + m, k * sizeof(*out));
    }
    later_clear(b);
    free(all);
    free(aps);
    free(aw);
    free(res);
    free(lp);
    return rc;
}

PGresult *pg_batch_stmt(pg_batch_t *b, pg_stmt_id_t id, const pg_params_t *p, const char *what)
{
    if (b->fatal)
        return NULL;
    PGresult *r = NULL;
    if (b->nlater) {
        ssize_t failed;
        run(b, 1, &id, &p, &what, &r, &failed);
        return r;
    }
    r = pg_stmt(b->l, id, p, what, &b->fatal_err);
    if (r == NULL)
        b->fatal = b->fatal_err.code ? b->fatal_err.code : ERR_UNAVAILABLE;
    return r;
}

int pg_batch_stmts(pg_batch_t *b, size_t k, const pg_stmt_id_t *ids, const pg_params_t *const *ps, const char *const *what,
                   PGresult **out)
{
    ssize_t failed;
    if (b->fatal)
        return b->fatal;
    return run(b, k, ids, ps, what, out, &failed);
}

int pg_batch_sync(pg_batch_t *b)
{
    ssize_t failed;
    if (b->fatal)
        return b->fatal;
    return b->nlater ? run(b, 0, NULL, NULL, NULL, NULL, &failed) : 0;
}

static int cmp_tenant(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Adds the heads a HEADS_LOCK returned to the batch. */
static void heads_take(pg_batch_t *b, PGresult *r)
{
    int rows = PQntuples(r);
    if (b->nheads + (size_t)rows > b->capheads) {
        size_t cap = b->capheads ? b->capheads : 64;
        while (cap < b->nheads + (size_t)rows)
            cap *= 2;
        pg_head_t *nh = arena_alloc(&b->arena, cap * sizeof(*nh));
        if (b->nheads)
            memcpy(nh, b->heads, b->nheads * sizeof(*nh));
        b->heads = nh;
        b->capheads = cap;
    }
    for (int i = 0; i < rows; i++) {
        pg_head_t *h = &b->heads[b->nheads++];
        h->tenant = pg_text(r, i, 0, &b->arena);
        h->seq = pg_i64(r, i, 1);
        pg_fixed(r, i, 2, h->hash, AUDIT_HASH_LEN); /* a new chain's empty hash gives zeros */
        h->dirty = false;
    }
}

/* HEADS_LOCK's parameter: the tenants as an array (arr must outlive the call). */
static void heads_params(const char **tenants, size_t n, buf_t *arr, pg_params_t *p)
{
    pg_array_begin(arr);
    for (size_t i = 0; i < n; i++)
        pg_array_text(arr, tenants[i]);
    pg_array_end(arr);
    pg_params_init(p);
    pg_param_buf(p, arr);
}

/* Locks the heads of tenants[0..n) (sorted, without repeats) and adds them to the batch. */
static int heads_lock(pg_batch_t *b, const char **tenants, size_t n)
{
    if (n == 0)
        return 0;
    buf_t arr = BUF_INIT;
    pg_params_t p;
    heads_params(tenants, n, &arr, &p);
    PGresult *r = pg_batch_stmt(b, PG_HEADS_LOCK, &p, "lock audit chains");
    buf_release(&arr);
    if (r == NULL)
        return b->fatal;
    heads_take(b, r);
    PQclear(r);
    return 0;
}

/* BEGIN, and the heads of tenants[0..n) locked, in one round trip. Returns 0, or the error
 * with b->fatal set and *began telling whether the transaction is open (to be rolled back). */
static int begin_locked(pg_batch_t *b, const char **tenants, size_t n, bool *began)
{
    buf_t arr = BUF_INIT;
    pg_params_t p;
    heads_params(tenants, n, &arr, &p);
    const pg_stmt_id_t ids[2] = {PG_TX_BEGIN, PG_HEADS_LOCK};
    const pg_params_t *ps[2] = {NULL, &p};
    static const char *const what[2] = {"begin", "lock audit chains"};
    PGresult *res[2];
    size_t failed;
    int rc = pg_pipeline(b->l, n ? 2 : 1, ids, ps, res, what, &failed, &b->fatal_err);
    buf_release(&arr);
    *began = rc == 0 || (failed > 0 && !b->l->lost);
    if (rc != 0)
        return b->fatal = rc;
    if (n)
        heads_take(b, res[1]);
    PQclear(res[0]);
    PQclear(n ? res[1] : NULL);
    return 0;
}

static pg_head_t *head_find(pg_batch_t *b, const char *tenant)
{
    for (size_t i = b->nheads; i-- > 0;)
        if (strcmp(b->heads[i].tenant, tenant) == 0)
            return &b->heads[i];
    return NULL;
}

/* AUDIT_INSERT's parameters for the entries appended so far (a[9] released by the caller). */
static void flush_params(pg_batch_t *b, buf_t a[9], pg_params_t *p)
{
    for (int i = 0; i < 9; i++) {
        buf_init(&a[i], 0);
        pg_array_begin(&a[i]);
    }
    for (size_t i = 0; i < b->nents; i++) {
        const audit_entry_t *e = &b->ents[i];
        pg_array_text(&a[0], e->tenant);
        pg_array_i64(&a[1], e->seq);
        pg_array_i64(&a[2], e->time);
        pg_array_text(&a[3], e->actor);
        pg_array_text(&a[4], e->action);
        pg_array_text(&a[5], e->subject);
        pg_array_text(&a[6], e->detail);
        pg_array_bytes(&a[7], e->prev_hash, AUDIT_HASH_LEN);
        pg_array_bytes(&a[8], e->hash, AUDIT_HASH_LEN);
    }
    pg_params_init(p);
    for (int i = 0; i < 9; i++) {
        pg_array_end(&a[i]);
        pg_param_buf(p, &a[i]);
    }
}

static void flushed(pg_batch_t *b)
{
    b->nents = 0;
    arena_release(&b->ents_arena);
}

int pg_batch_flush(pg_batch_t *b)
{
    if (b->fatal)
        return b->fatal;
    if (b->nents == 0)
        return 0;
    buf_t a[9];
    pg_params_t p;
    flush_params(b, a, &p);
    PGresult *r = pg_batch_stmt(b, PG_AUDIT_INSERT, &p, "audit entries");
    for (int i = 0; i < 9; i++)
        buf_release(&a[i]);
    if (r == NULL)
        return b->fatal;
    PQclear(r);
    flushed(b);
    return 0;
}

int pg_batch_audit(pg_batch_t *b, db_write_t *w, const db_audit_input_t *in)
{
    if (b->fatal)
        return b->fatal;
    pg_head_t *h = head_find(b, in->tenant);
    if (h == NULL) { /* a chain known only now (an erased copy's tenant, an expired upload's) */
        const char *t = in->tenant;
        int rc = heads_lock(b, &t, 1);
        if (rc != 0)
            return rc;
        if ((h = head_find(b, in->tenant)) == NULL)
            return b->fatal = err_set(&b->fatal_err, ERR_INTERNAL, "audit chain '%s' not locked", in->tenant);
    }
    b->ents = room_for_one(b->ents, b->nents, &b->capents, sizeof(*b->ents));
    arena_t *a = &b->ents_arena;
    audit_entry_t *e = &b->ents[b->nents++];
    e->tenant = h->tenant;
    e->seq = h->seq + 1;
    e->time = w ? w->now : time_now_ms();
    e->actor = arena_strdup(a, in->actor ? in->actor : "system");
    e->action = arena_strdup(a, in->action);
    e->subject = arena_strdup(a, in->subject ? in->subject : "");
    e->detail = arena_strdup(a, in->detail ? in->detail : "{}");
    memcpy(e->prev_hash, h->hash, AUDIT_HASH_LEN);
    audit_entry_hash(e, e->hash); /* the one definition of the chain (src/core/audit.c) */
    h->seq = e->seq;
    memcpy(h->hash, e->hash, AUDIT_HASH_LEN);
    h->dirty = true;
    if (w)
        w->audit_entries++;
    if (b->nents >= FLUSH_AT)
        return pg_batch_flush(b);
    return 0;
}

/* Clears an op's outputs before (another) attempt. */
static void reset_op(db_write_t *w)
{
    w->rc = 0;
    err_clear(&w->err);
    w->created = false;
    w->affected = 0;
    w->audit_entries = 0;
    w->replaced_id = NULL;
    memset(&w->obj, 0, sizeof(w->obj));
    memset(&w->erased, 0, sizeof(w->erased));
}

typedef enum outcome {
    COMMITTED,
    RETRY,   /* deadlock, serialization failure, or a dead connection: run the batch again */
    ISOLATE, /* op *bad failed on its own: run the batch again without it */
    FAILED,  /* nothing committed */
} outcome_t;

typedef enum op_state {
    OP_PENDING = 0,
    OP_DONE_ONCE, /* ran in an attempt that did not commit (matters for ops that cannot run twice) */
    OP_FAILED,    /* out of the batch, with its rc and err */
} op_state_t;

/* BATCH_END's parameters: the moved heads, the ones still without an entry, and the commit
 * marker (bufs[4] released by the caller). */
static void batch_end_params(pg_batch_t *b, int64_t marker, buf_t bufs[4], pg_params_t *p)
{
    buf_t *t = &bufs[0], *s = &bufs[1], *h = &bufs[2], *empty = &bufs[3];
    for (int i = 0; i < 4; i++) {
        buf_init(&bufs[i], 0);
        pg_array_begin(&bufs[i]);
    }
    for (size_t i = 0; i < b->nheads; i++) {
        if (!b->heads[i].dirty) {
            if (b->heads[i].seq == 0) /* made by this batch's lock, or left over: no entry yet */
                pg_array_text(empty, b->heads[i].tenant);
            continue;
        }
        pg_array_text(t, b->heads[i].tenant);
        pg_array_i64(s, b->heads[i].seq);
        pg_array_bytes(h, b->heads[i].hash, AUDIT_HASH_LEN);
    }
    for (int i = 0; i < 4; i++)
        pg_array_end(&bufs[i]);
    pg_params_init(p);
    pg_param_buf(p, t);
    pg_param_buf(p, s);
    pg_param_buf(p, h);
    pg_param_i64(p, marker);
    pg_param_i64(p, time_now_ms());
    pg_param_buf(p, empty);
}

/* The batch's end in one round trip: the statements put off, its remaining audit entries, the
 * heads moved and the marker (BATCH_END), and COMMIT. Returns 0 (committed) or the error
 * (b->fatal set); *failed is the index of the statement that failed (-1: one put off, whose op
 * b->fatal_op is), or the count when the connection was lost (and with it, possibly, the
 * answer to a COMMIT that happened). *ncommit is COMMIT's index. */
static int end_and_commit(pg_batch_t *b, int64_t marker, ssize_t *failed, size_t *ncommit)
{
    buf_t a[9], e[4];
    pg_params_t ap, ep;
    pg_stmt_id_t ids[3];
    const pg_params_t *ps[3];
    const char *what[3];
    PGresult *res[3];
    size_t k = 0;
    bool ents = b->nents > 0;
    if (ents) {
        flush_params(b, a, &ap);
        ids[k] = PG_AUDIT_INSERT;
        what[k] = "audit entries";
        ps[k++] = &ap;
    }
    batch_end_params(b, marker, e, &ep);
    ids[k] = PG_BATCH_END;
    what[k] = "commit";
    ps[k++] = &ep;
    ids[k] = PG_TX_COMMIT;
    what[k] = "commit";
    ps[k++] = NULL;
    *ncommit = k - 1;
    int rc = run(b, k, ids, ps, what, res, failed);
    for (int i = 0; ents && i < 9; i++)
        buf_release(&a[i]);
    for (int i = 0; i < 4; i++)
        buf_release(&e[i]);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < k; i++)
        PQclear(res[i]);
    flushed(b);
    return 0;
}

/* Whether the batch with marker committed, asked on a new connection after COMMIT was cut off.
 * Inserting the same marker waits for the old transaction if it is still finishing; it then
 * conflicts if and only if that transaction committed. Returns 1, 0, or -1 (cannot tell). */
static int committed_after_all(pg_batch_t *b, int64_t marker)
{
    pg_params_t p;
    err_t e;
    pg_params_init(&p);
    pg_param_i64(&p, marker);
    pg_param_i64(&p, time_now_ms());
    PGresult *r =
        pg_exec(b->l, -1, "INSERT INTO loci_commits(id, at) VALUES($1, $2) ON CONFLICT (id) DO NOTHING", &p, "commit outcome", &e);
    if (r == NULL)
        return -1;
    int rc = pg_changes(r) == 0 ? 1 : 0;
    PQclear(r);
    return rc;
}

static void rollback(pg_batch_t *b)
{
    err_t e;
    if (b->l->pg) {
        b->l->in_tx = false;
        PGresult *r = pg_stmt(b->l, PG_TX_ROLLBACK, NULL, "rollback", &e);
        PQclear(r);
    }
    b->l->in_tx = false;
}

/* One attempt: every op not out of the batch, in one transaction. */
static outcome_t attempt(pg_batch_t *b, db_write_t *const *ops, size_t n, uint8_t *state, size_t *bad)
{
    pg_db_t *db = b->db;
    bool sp;
    int rc;

    /* the chains known up front, sorted, without repeats */
    size_t cap = 2 * n + 2, nt = 0;
    const char **tenants = arena_alloc(&b->arena, cap * sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        if (state[i] == OP_FAILED)
            continue;
        if (ops[i]->op == DB_OP_AUDIT_APPEND) { /* may name many chains */
            size_t want = ops[i]->in.audit_append.n;
            const char **more = arena_alloc(&b->arena, (cap + want) * sizeof(char *));
            memcpy(more, tenants, nt * sizeof(char *));
            tenants = more;
            cap += want;
        }
        nt += pg_op_chains(ops[i], tenants + nt, cap - nt);
    }
    qsort(tenants, nt, sizeof(char *), cmp_tenant);
    size_t u = 0;
    for (size_t i = 0; i < nt; i++)
        if (u == 0 || strcmp(tenants[u - 1], tenants[i]) != 0)
            tenants[u++] = tenants[i];

    PGresult *r;
    bool began;
    if (begin_locked(b, tenants, u, &began) != 0) {
        if (!began)
            return b->l->lost || pg_retryable(b->l) ? RETRY : FAILED;
        b->l->in_tx = true;
        goto failed;
    }
    b->l->in_tx = true;

    for (size_t i = 0; i < n; i++) {
        db_write_t *w = ops[i];
        if (state[i] == OP_FAILED)
            continue;
        reset_op(w);
        b->op = i;
        pg_op_fn fn = pg_op(w->op, &sp);
        if (fn == NULL) {
            w->rc = err_set(&w->err, ERR_INTERNAL, "unknown write op");
            state[i] = OP_FAILED;
            continue;
        }
        if (state[i] == OP_DONE_ONCE && w->op == DB_OP_OBJECT_IMPORT) {
            /* its iterator is spent: it cannot run again */
            w->rc = err_set(&w->err, ERR_UNAVAILABLE, "import interrupted by a concurrent change; try again");
            state[i] = OP_FAILED;
            continue;
        }
        pg_head_t *saved = NULL;
        size_t nsaved = 0;
        if (sp) {
            if (pg_batch_sync(b) != 0) /* what earlier ops put off runs outside its savepoint */
                goto stmt_failed;
            if (pg_batch_flush(b) != 0)
                goto failed;
            if ((r = pg_batch_stmt(b, PG_SP_BEGIN, NULL, "savepoint")) == NULL)
                goto failed;
            PQclear(r);
            saved = malloc((b->nheads ? b->nheads : 1) * sizeof(*saved));
            if (saved == NULL)
                abort();
            memcpy(saved, b->heads, b->nheads * sizeof(*saved));
            nsaved = b->nheads;
        }
        state[i] = OP_DONE_ONCE;
        w->rc = fn(b, w);
        if (!b->fatal && w->rc != 0 && w->err.code == 0)
            err_set(&w->err, w->rc, NULL);
        if (!b->fatal && w->rc != 0)
            later_drop(b, i); /* it refused before its first change; nothing it put off may run */
        /* the change's audit entry, in the same transaction: both are there, or neither */
        db_audit_input_t entry;
        if (!b->fatal && w->rc == 0 && db_audit_describe(w, &entry, w->arena))
            pg_batch_audit(b, w, &entry);
        if (sp) {
            if (!b->fatal && w->rc == 0)
                pg_batch_sync(b); /* what it put off runs inside its savepoint */
            bool undo = w->rc != 0 || (b->fatal && !b->l->lost);
            if (undo && b->fatal) { /* this op's own statement failed: it fails alone */
                w->rc = b->fatal;
                w->err = b->fatal_err;
                b->fatal = 0;
                b->fatal_later = false;
            }
            if (undo) {
                r = pg_batch_stmt(b, PG_SP_ROLLBACK, NULL, "rollback to savepoint");
                PQclear(r);
                memcpy(b->heads, saved, nsaved * sizeof(*saved)); /* heads locked since keep their state */
                b->nheads = nsaved;
                b->nents = 0;
                arena_release(&b->ents_arena);
                w->audit_entries = 0;
            }
            if ((r = pg_batch_stmt(b, PG_SP_RELEASE, NULL, "release savepoint")) != NULL)
                PQclear(r);
            free(saved);
            if (undo && !b->fatal) {
                state[i] = OP_FAILED;
                continue;
            }
        }
        if (b->fatal)
            goto stmt_failed;
    }
    b->op = n; /* what fails from here on is the batch's */
    int64_t marker;
    crypto_random(&marker, sizeof(marker));
    marker &= INT64_MAX;
    ssize_t failed;
    size_t ncommit;
    if (end_and_commit(b, marker, &failed, &ncommit) == 0) {
        b->l->in_tx = false;
        return COMMITTED;
    }
    if (failed < 0)
        goto stmt_failed; /* a statement an op put off failed */
    if (!b->l->lost && (size_t)failed < ncommit)
        goto failed; /* a statement before COMMIT failed: the transaction is aborted, roll it back */
    b->l->in_tx = false;
    if (!b->l->lost)
        return pg_retryable(b->l) ? RETRY : FAILED; /* COMMIT refused: rolled back */
    /* the connection went with COMMIT sent or on its way: did it happen? */
    rc = committed_after_all(b, marker);
    if (rc == 1) {
        fprintf(stderr, "loci: database connection lost during COMMIT; the batch committed\n");
        return COMMITTED;
    }
    if (rc == 0) /* certainly not: nothing of it stayed, so it can run again */
        return RETRY;
    fprintf(stderr, "loci: database connection lost during COMMIT; the batch may or may not have committed (reported as "
                    "failed)\n");
    (void)db;
    return FAILED;
stmt_failed:
    /* a statement failed: whole-batch trouble runs the batch again; anything else (a constraint
     * another server's commit tripped) is the op's own, which fails alone */
    if (b->l->lost || pg_retryable(b->l) || strcmp(b->l->sqlstate, "57014") == 0 || (!b->fatal_later && b->op >= n))
        goto failed;
    if (b->fatal_later && b->fatal_stmt == PG_OBJECT_INSERT && strcmp(b->l->sqlstate, "23505") == 0) {
        rollback(b); /* another server made the key first: run again, to find it and replace it */
        return RETRY;
    }
    *bad = b->fatal_later ? b->fatal_op : b->op;
    ops[*bad]->rc = b->fatal;
    ops[*bad]->err = b->fatal_err;
    if (ops[*bad]->op == DB_OP_STORE_DELETE && strcmp(b->l->sqlstate, "23503") == 0)
        err_set(&ops[*bad]->err, ERR_CONFLICT, "store '%s' still holds objects or copies waiting for erasure",
                ops[*bad]->in.store_delete.id);
    rollback(b);
    return ISOLATE;
failed:
    if (!b->l->lost)
        rollback(b);
    b->l->in_tx = false;
    return b->l->lost || pg_retryable(b->l) ? RETRY : FAILED;
}

/* After a commit: tell the replica router where each written tenant now is, vacuum away a
 * deleted tenant's audit key, and trim old commit markers now and then. */
static void after_commit(pg_batch_t *b, db_write_t *const *ops, size_t n)
{
    pg_db_t *db = b->db;
    err_t e;
    PGresult *r;
    if (db->replicas && (r = pg_stmt(b->l, PG_WAL_LSN, NULL, "wal position", &e)) != NULL) {
        uint64_t lsn = (uint64_t)pg_i64(r, 0, 0);
        PQclear(r);
        for (size_t i = 0; i < n; i++)
            if (ops[i]->rc == 0 && ops[i]->tenant)
                pg_replicas_wrote(db->replicas, ops[i]->tenant, lsn);
    }
    for (size_t i = 0; i < n; i++) {
        if (ops[i]->op == DB_OP_TENANT_DELETE && ops[i]->rc == 0) {
            /* crypto-shredding: the table (small) is rewritten into a new file without the deleted
             * row and its sealed audit key; the old file is removed (docs/audit.md) */
            if (pg_simple(b->l, "VACUUM FULL tenants", "vacuum", &e) != 0)
                fprintf(stderr, "loci: after deleting a tenant: %s\n", e.msg);
            break;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (ops[i]->op == DB_OP_OBJECT_IMPORT && ops[i]->rc == 0 && ops[i]->affected > 0) {
            /* a bulk load: fresh statistics, so the planner does not guess from an empty table,
             * and a visibility map, so searches read the tag index alone (index-only scans)
             * from the start instead of after autovacuum gets to it. It takes a while on a
             * large table: not bounded by the per-round-trip timeout. */
            int timeout = b->l->timeout_ms;
            char reset[64];
            snprintf(reset, sizeof(reset), "SET statement_timeout = %d", timeout);
            b->l->timeout_ms = IMPORT_VACUUM_MS;
            if (pg_simple(b->l, "SET statement_timeout = 0", "vacuum", &e) != 0 ||
                pg_simple(b->l, "VACUUM (ANALYZE) objects, object_tags, locations", "vacuum", &e) != 0)
                fprintf(stderr, "loci: after an import: %s\n", e.msg);
            b->l->timeout_ms = timeout;
            if (pg_simple(b->l, reset, "vacuum", &e) != 0)
                fprintf(stderr, "loci: after an import: %s\n", e.msg);
            break;
        }
    }
    if (++db->batches % TRIM_EVERY == 0) {
        pg_params_t p;
        pg_params_init(&p);
        pg_param_i64(&p, time_now_ms() - COMMITS_KEEP_MS);
        if ((r = pg_stmt(b->l, PG_COMMITS_TRIM, &p, "trim commit markers", &e)) != NULL)
            PQclear(r);
    }
}

int pg_write_batch(db_t *base, db_write_t *const *ops, size_t n)
{
    pg_db_t *db = (pg_db_t *)base;
    pg_batch_t b;
    memset(&b, 0, sizeof(b));
    b.db = db;
    b.l = &db->writer;
    arena_init(&b.arena);
    arena_init(&b.ents_arena);
    arena_init(&b.later_arena);
    uint8_t *state = calloc(n ? n : 1, 1);
    if (state == NULL)
        abort();
    int rc = ERR_UNAVAILABLE, retries = 0;
    for (;;) {
        size_t bad = 0;
        b.fatal = 0;
        err_clear(&b.fatal_err);
        b.nheads = b.capheads = 0;
        b.heads = NULL;
        b.nents = 0;
        b.fatal_later = false;
        later_clear(&b);
        arena_release(&b.arena);
        arena_release(&b.ents_arena);
        outcome_t o = attempt(&b, ops, n, state, &bad);
        if (o == COMMITTED) {
            after_commit(&b, ops, n);
            rc = 0;
            break;
        }
        if (o == ISOLATE) {
            state[bad] = OP_FAILED;
            continue;
        }
        if (o == RETRY && ++retries < MAX_ATTEMPTS) {
            /* a short random pause lets the other side of a deadlock finish */
            uint8_t r;
            crypto_random(&r, 1);
            usleep((useconds_t)(1000 + r * 40 * retries));
            continue;
        }
        rc = b.fatal ? b.fatal : ERR_UNAVAILABLE;
        fprintf(stderr, "loci: write batch of %zu failed: %s\n", n, b.fatal_err.msg[0] ? b.fatal_err.msg : "database unavailable");
        break;
    }
    free(state);
    free(b.ents);
    free(b.later);
    arena_release(&b.arena);
    arena_release(&b.ents_arena);
    arena_release(&b.later_arena);
    return rc;
}
