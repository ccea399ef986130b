/*
 * pg_link.c - libpq connections whose every call has a deadline, parameters and results.
 *
 * libpq's blocking calls can wait for as long as TCP does when the server stops answering.
 * Here every call goes through the asynchronous API on a non-blocking connection: connect with
 * PQconnectStartParams/PQconnectPoll, send with PQsend*, then poll() the socket until the
 * result is in or the deadline passes. A connection that timed out or broke is closed; the
 * next call opens a new one (after a short backoff if opening failed), so when PostgreSQL is
 * back, loci is too, without anyone restarting it.
 */
#include <errno.h>
#include <stdatomic.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/pg/pg.h"
#include "util/enc.h"

#define BACKOFF_MIN_MS 100
#define PG_SIMPLE      (-2) /* pg_exec id: the simple query protocol */
#define BACKOFF_MAX_MS 2000

/* When any link of this process last connected (monotonic ms): a link waiting out its backoff
 * tries again at once once another link found the server back, so that after an outage every
 * reader recovers together instead of each failing until its own backoff ends. */
static _Atomic int64_t last_connect_ok;

int64_t pg_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- parameters --- */

void pg_params_init(pg_params_t *p)
{
    p->n = 0;
}

static int param_slot(pg_params_t *p)
{
    if (p->n >= PG_MAX_PARAMS)
        abort(); /* a programming error: statements have a fixed number of parameters */
    return p->n++;
}

void pg_param_text(pg_params_t *p, const char *v)
{
    int i = param_slot(p);
    p->v[i] = v;
    p->len[i] = 0;
    p->fmt[i] = 0;
}

void pg_param_i64(pg_params_t *p, int64_t v)
{
    int i = param_slot(p);
    snprintf(p->num[i], sizeof(p->num[i]), "%lld", (long long)v);
    p->v[i] = p->num[i];
    p->len[i] = 0;
    p->fmt[i] = 0;
}

void pg_param_bool(pg_params_t *p, bool v)
{
    pg_param_text(p, v ? "t" : "f");
}

void pg_param_bytes(pg_params_t *p, const void *v, size_t n)
{
    int i = param_slot(p);
    p->v[i] = v;
    p->len[i] = (int)n;
    p->fmt[i] = 1;
}

void pg_param_buf(pg_params_t *p, const buf_t *b)
{
    pg_param_text(p, b->base ? b->base : "");
}

/* --- array literals --- */

void pg_array_begin(buf_t *b)
{
    buf_reset(b);
    buf_putc(b, '{');
}

static void array_sep(buf_t *b)
{
    if (b->len > 1)
        buf_putc(b, ',');
}

void pg_array_text(buf_t *b, const char *v)
{
    array_sep(b);
    if (v == NULL) {
        buf_puts(b, "NULL");
        return;
    }
    buf_putc(b, '"');
    for (const char *s = v; *s; s++) {
        if (*s == '"' || *s == '\\')
            buf_putc(b, '\\');
        buf_putc(b, *s);
    }
    buf_putc(b, '"');
}

void pg_array_i64(buf_t *b, int64_t v)
{
    array_sep(b);
    buf_put_i64(b, v);
}

void pg_array_bytes(buf_t *b, const uint8_t *v, size_t n)
{
    array_sep(b);
    buf_puts(b, "\"\\\\x");
    if (buf_reserve(b, 2 * n + 2) == 0) {
        hex_encode(v, n, b->base + b->len);
        b->len += 2 * n;
        b->base[b->len] = '\0';
    }
    buf_putc(b, '"');
}

void pg_array_end(buf_t *b)
{
    buf_putc(b, '}');
}

/* --- results --- */

bool pg_null(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) != 0;
}

int64_t pg_i64(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    const unsigned char *v = (const unsigned char *)PQgetvalue(r, row, col);
    int n = PQgetlength(r, row, col);
    uint64_t x = 0;
    for (int i = 0; i < n && i < 8; i++)
        x = x << 8 | v[i];
    switch (n) { /* sign-extend int2 and int4 */
    case 2:
        return (int16_t)x;
    case 4:
        return (int32_t)x;
    case 1: /* boolean */
        return (int64_t)x;
    default:
        return (int64_t)x;
    }
}

const char *pg_text(const PGresult *r, int row, int col, arena_t *a)
{
    if (PQgetisnull(r, row, col))
        return NULL;
    return arena_strndup(a, PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

void pg_fixed(const PGresult *r, int row, int col, uint8_t *out, size_t n)
{
    if (!PQgetisnull(r, row, col) && (size_t)PQgetlength(r, row, col) == n)
        memcpy(out, PQgetvalue(r, row, col), n);
    else
        memset(out, 0, n);
}

const uint8_t *pg_bytes(const PGresult *r, int row, int col, size_t *n, arena_t *a)
{
    *n = 0;
    if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) == 0)
        return NULL;
    *n = (size_t)PQgetlength(r, row, col);
    uint8_t *copy = arena_alloc(a, *n);
    memcpy(copy, PQgetvalue(r, row, col), *n);
    return copy;
}

int64_t pg_changes(PGresult *r)
{
    const char *s = PQcmdTuples(r);
    return s && *s ? strtoll(s, NULL, 10) : 0;
}

/* --- connections --- */

void pg_link_init(pg_link_t *l, const char *url, int timeout_ms)
{
    memset(l, 0, sizeof(*l));
    l->url = url;
    l->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
}

void pg_link_close(pg_link_t *l)
{
    if (l->pg)
        PQfinish(l->pg);
    l->pg = NULL;
    l->in_tx = false;
    memset(l->prepared, 0, sizeof(l->prepared));
}

/* Drops a connection that broke or timed out; the next call opens a new one. */
static void lose(pg_link_t *l)
{
    pg_link_close(l);
    l->lost = true;
    l->sqlstate[0] = '\0';
}

/* Waits until the socket is ready for events or the deadline passes.
 * Returns 1 (ready), 0 (deadline) or -1 (error). */
static int wait_socket(PGconn *pg, short events, int64_t deadline)
{
    int fd = PQsocket(pg);
    if (fd < 0)
        return -1;
    for (;;) {
        int64_t left = deadline - pg_mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

/* First line of libpq's message for the connection. */
static const char *conn_message(PGconn *pg, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", pg ? PQerrorMessage(pg) : "out of memory");
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = '\0';
    return buf[0] ? buf : "connection failed";
}

/* Sends everything libpq has buffered (the connection is non-blocking). Returns 0, or -1 on
 * error, or 1 when the deadline passed. */
static int flush_out(PGconn *pg, int64_t deadline)
{
    for (;;) {
        int r = PQflush(pg);
        if (r == 0)
            return 0;
        if (r < 0)
            return -1;
        int w = wait_socket(pg, POLLOUT | POLLIN, deadline);
        if (w == 0)
            return 1;
        if (w < 0 || PQconsumeInput(pg) == 0)
            return -1;
    }
}

/* Collects the results of the one statement sent: returns the first error result if any, else
 * the last result. *timed_out tells a deadline from a broken connection when NULL is returned. */
static PGresult *collect(PGconn *pg, int64_t deadline, bool *timed_out)
{
    PGresult *keep = NULL;
    *timed_out = false;
    for (;;) {
        while (PQisBusy(pg)) {
            int w = wait_socket(pg, POLLIN, deadline);
            if (w == 0)
                *timed_out = true;
            if (w <= 0 || PQconsumeInput(pg) == 0) {
                PQclear(keep);
                return NULL;
            }
        }
        PGresult *r = PQgetResult(pg);
        if (r == NULL)
            return keep;
        if (keep && PQresultStatus(keep) == PGRES_FATAL_ERROR) {
            PQclear(r);
            continue;
        }
        PQclear(keep);
        keep = r;
    }
}

/* Runs SQL text (several statements allowed) with the deadline; 0 or -1 (message in buf). */
static int simple_on(PGconn *pg, const char *sql, int64_t deadline, char *msg, size_t cap)
{
    bool timed_out;
    if (!PQsendQuery(pg, sql) || flush_out(pg, deadline) != 0) {
        conn_message(pg, msg, cap);
        return -1;
    }
    PGresult *r = collect(pg, deadline, &timed_out);
    int rc = r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK) ? 0 : -1;
    if (rc != 0)
        snprintf(msg, cap, "%s", r ? PQresultErrorMessage(r) : timed_out ? "timed out" : PQerrorMessage(pg));
    PQclear(r);
    return rc;
}

/* Connects (and sets the session up) by the deadline if not connected. */
static int link_connect(pg_link_t *l, int64_t deadline, err_t *e)
{
    char msg[256];
    if (l->pg && PQstatus(l->pg) == CONNECTION_OK)
        return 0;
    if (l->pg)
        pg_link_close(l);
    int64_t now = pg_mono_ms();
    if (now < l->retry_at && atomic_load(&last_connect_ok) <= l->failed_at)
        return err_set(e, ERR_UNAVAILABLE, "database unavailable (reconnecting)");

    /* our defaults come before the URL, which may override them; UTF-8 after, which it may not */
    char connect_timeout[16], user_timeout[16];
    snprintf(connect_timeout, sizeof(connect_timeout), "%d", (l->timeout_ms + 999) / 1000 < 2 ? 2 : (l->timeout_ms + 999) / 1000);
    snprintf(user_timeout, sizeof(user_timeout), "%d", l->timeout_ms);
    const char *keys[] = {"connect_timeout",  "keepalives",       "keepalives_idle", "keepalives_interval", "keepalives_count",
                          "tcp_user_timeout", "application_name", "dbname",          "client_encoding",     NULL};
    const char *vals[] = {connect_timeout, "1", "10", "2", "3", user_timeout, "loci", l->url, "UTF8", NULL};
    PGconn *pg = PQconnectStartParams(keys, vals, 1);
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    int rc = 0;
    if (pg == NULL || PQstatus(pg) == CONNECTION_BAD) {
        rc = err_set(e, ERR_UNAVAILABLE, "database unavailable: %s", conn_message(pg, msg, sizeof(msg)));
        goto fail;
    }
    while (st != PGRES_POLLING_OK) {
        if (st == PGRES_POLLING_FAILED) {
            rc = err_set(e, ERR_UNAVAILABLE, "database unavailable: %s", conn_message(pg, msg, sizeof(msg)));
            goto fail;
        }
        int w = wait_socket(pg, st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
        if (w <= 0) {
            rc = err_set(e, ERR_UNAVAILABLE, "database unavailable: %s", w == 0 ? "connection timed out" : "connection failed");
            goto fail;
        }
        st = PQconnectPoll(pg);
    }
    if (PQsetnonblocking(pg, 1) != 0) {
        rc = err_set(e, ERR_UNAVAILABLE, "database unavailable: %s", conn_message(pg, msg, sizeof(msg)));
        goto fail;
    }
    /* the server bounds each statement too, and drops a session stuck inside a transaction.
     * Prepared statements always run their generic plan: loci's statements are shaped for one
     * index each (a search's driving filter is chosen by loci's probes, not by the planner), and
     * PostgreSQL's default of re-planning while a custom plan looks cheaper spent ~18% of a
     * search's database CPU in the planner (benchmarks.md) */
    char setup[256];
    snprintf(setup, sizeof(setup),
             "SET statement_timeout = %d; SET idle_in_transaction_session_timeout = %d; SET lock_timeout = %d; "
             "SET plan_cache_mode = force_generic_plan",
             l->timeout_ms, l->timeout_ms * 4 < 60000 ? 60000 : l->timeout_ms * 4, l->timeout_ms);
    if (simple_on(pg, setup, deadline, msg, sizeof(msg)) != 0) {
        rc = err_set(e, ERR_UNAVAILABLE, "database unavailable: %s", msg);
        goto fail;
    }
    l->pg = pg;
    atomic_store(&last_connect_ok, pg_mono_ms());
    l->backoff_ms = 0;
    l->retry_at = 0;
    l->in_tx = false;
    memset(l->prepared, 0, sizeof(l->prepared));
    return 0;
fail:
    if (pg)
        PQfinish(pg);
    /* fail fast until the backoff passes: a stopped database answers every request at once */
    l->backoff_ms = l->backoff_ms ? l->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (l->backoff_ms > BACKOFF_MAX_MS)
        l->backoff_ms = BACKOFF_MAX_MS;
    l->failed_at = pg_mono_ms();
    l->retry_at = l->failed_at + l->backoff_ms;
    l->lost = true;
    l->sqlstate[0] = '\0';
    return rc;
}

int pg_link_connect(pg_link_t *l, err_t *e)
{
    return link_connect(l, pg_mono_ms() + l->timeout_ms, e);
}

bool pg_retryable(const pg_link_t *l)
{
    return strcmp(l->sqlstate, "40001") == 0 || strcmp(l->sqlstate, "40P01") == 0;
}

/* Maps a failed statement's SQLSTATE to a loci error (and drops the connection when the
 * server is going away or is a standby). */
static int statement_error(pg_link_t *l, PGresult *r, const char *what, err_t *e)
{
    const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    snprintf(l->sqlstate, sizeof(l->sqlstate), "%s", st ? st : "");
    int code = ERR_INTERNAL;
    bool drop = false;
    if (st == NULL) {
        code = ERR_UNAVAILABLE;
        drop = true;
    } else if (strncmp(st, "08", 2) == 0 || strcmp(st, "57P01") == 0 || strcmp(st, "57P02") == 0 || strcmp(st, "57P03") == 0 ||
               strcmp(st, "25006") == 0) {
        code = ERR_UNAVAILABLE; /* connection trouble, shutdown, or a standby where a primary was expected */
        drop = true;
    } else if (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 || strcmp(st, "57014") == 0 || strcmp(st, "55P03") == 0 ||
               strncmp(st, "53", 2) == 0) {
        code = ERR_UNAVAILABLE; /* serialization, deadlock, timeout, lock timeout, out of resources */
    } else if (strcmp(st, "23505") == 0 || strcmp(st, "23503") == 0) {
        code = ERR_CONFLICT;
    } else if (strncmp(st, "22", 2) == 0) {
        code = ERR_BAD_REQUEST;
    }
    err_set(e, code, "database: %s: %s", what, m ? m : "error");
    if (drop || PQstatus(l->pg) != CONNECTION_OK)
        lose(l);
    return code;
}

/* A connection that broke or gave no answer by the deadline: says which, and drops it.
 * Returns ERR_UNAVAILABLE. */
static int broken_link(pg_link_t *l, bool timed_out, int64_t deadline, const char *what, err_t *e)
{
    char msg[256];
    if (timed_out || pg_mono_ms() >= deadline)
        err_set(e, ERR_UNAVAILABLE, "database: %s: no answer within %d ms", what, l->timeout_ms);
    else
        err_set(e, ERR_UNAVAILABLE, "database: %s: %s", what, conn_message(l->pg, msg, sizeof(msg)));
    lose(l);
    return ERR_UNAVAILABLE;
}

static void stmt_name(int id, char out[16])
{
    snprintf(out, 16, "l%d", id);
}

/* Prepares statement id on the connection unless it was already. Returns 0 or the error (the
 * connection dropped if it broke). */
static int prepare_once(pg_link_t *l, int id, const char *sql, const pg_params_t *p, const char *what, int64_t deadline, err_t *e)
{
    PGconn *pg = l->pg;
    char name[16];
    bool timed_out = false;
    PGresult *r;
    if (l->prepared[id])
        return 0;
    stmt_name(id, name);
    if (!PQsendPrepare(pg, name, sql, p->n, NULL) || flush_out(pg, deadline) != 0 ||
        (r = collect(pg, deadline, &timed_out)) == NULL) {
        return broken_link(l, timed_out, deadline, what, e);
    }
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        int rc = statement_error(l, r, what, e);
        PQclear(r);
        return rc;
    }
    PQclear(r);
    l->prepared[id] = 1;
    return 0;
}

/* One attempt on an open connection, by the deadline. */
static PGresult *exec_once(pg_link_t *l, int id, const char *sql, const pg_params_t *p, const char *what, int64_t deadline,
                           err_t *e)
{
    PGconn *pg = l->pg;
    char name[16];
    bool timed_out = false;
    PGresult *r;
    static const pg_params_t none = {.n = 0};
    if (p == NULL)
        p = &none;

    l->lost = false;
    l->sqlstate[0] = '\0';
    if (id >= 0 && prepare_once(l, id, sql, p, what, deadline, e) != 0)
        return NULL;
    int ok;
    if (id >= 0) {
        stmt_name(id, name);
        ok = PQsendQueryPrepared(pg, name, p->n, p->v, p->len, p->fmt, 1);
    } else if (id == PG_SIMPLE) {
        ok = PQsendQuery(pg, sql); /* several statements, text results, no parameters */
    } else {
        ok = PQsendQueryParams(pg, sql, p->n, NULL, p->v, p->len, p->fmt, 1);
    }
    if (!ok || flush_out(pg, deadline) != 0)
        goto broken;
    if ((r = collect(pg, deadline, &timed_out)) == NULL)
        goto broken;
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        statement_error(l, r, what, e);
        PQclear(r);
        return NULL;
    }
    return r;
broken:
    broken_link(l, timed_out, deadline, what, e);
    return NULL;
}

PGresult *pg_exec(pg_link_t *l, int id, const char *sql, const pg_params_t *p, const char *what, err_t *e)
{
    /* one deadline for the whole call: connecting, the session's setup, the statement and a
     * second attempt all fit in timeout_ms, so a caller never waits longer than that */
    int64_t deadline = pg_mono_ms() + l->timeout_ms;
    for (int attempt = 0;; attempt++) {
        bool had = l->pg != NULL;
        if (link_connect(l, deadline, e) != 0)
            return NULL;
        PGresult *r = exec_once(l, id, sql, p, what, deadline, e);
        if (r != NULL)
            return r;
        /* a connection that died while idle (the server restarted): open a new one and send the
         * statement again, unless a transaction was open (its work is gone with the connection)
         * or the time is up */
        if (attempt == 0 && had && l->lost && !l->in_tx && pg_mono_ms() < deadline)
            continue;
        /* a prepared statement the server forgot (a pooler's DISCARD): prepare again */
        if (attempt == 0 && strcmp(l->sqlstate, "26000") == 0 && !l->in_tx) {
            memset(l->prepared, 0, sizeof(l->prepared));
            continue;
        }
        return NULL;
    }
}

static const char *const SQL_TEXT[] = {
#define PG_TEXT(name, sql) sql,
    PG_STATEMENTS(PG_TEXT)
#undef PG_TEXT
};

/* One attempt at a pipeline on an open connection, by the deadline. Returns 0 with out[]
 * filled, or the error of the first statement that failed (*failed says which; n when the
 * connection broke) with out[] empty. */
static int pipeline_once(pg_link_t *l, size_t n, const pg_stmt_id_t *ids, const pg_params_t *const *ps, PGresult **out,
                         const char *const *what, int64_t deadline, size_t *failed, err_t *e)
{
    PGconn *pg = l->pg;
    char name[16];
    bool timed_out = false;
    static const pg_params_t none = {.n = 0};
    int rc = 0;

    l->lost = false;
    l->sqlstate[0] = '\0';
    *failed = n;
    for (size_t i = 0; i < n; i++) { /* prepare what this connection has not seen yet (once) */
        int prc = prepare_once(l, (int)ids[i], SQL_TEXT[ids[i]], ps[i] ? ps[i] : &none, what[i], deadline, e);
        if (prc != 0) { /* nothing of the pipeline ran: it counts as its first statement failing */
            *failed = l->lost ? n : 0;
            return prc;
        }
    }
    if (!PQenterPipelineMode(pg))
        goto broken;
    for (size_t i = 0; i < n; i++) {
        const pg_params_t *p = ps[i] ? ps[i] : &none;
        stmt_name((int)ids[i], name);
        if (!PQsendQueryPrepared(pg, name, p->n, p->v, p->len, p->fmt, 1))
            goto broken;
    }
    if (!PQpipelineSync(pg) || flush_out(pg, deadline) != 0)
        goto broken;
    for (size_t i = 0; i < n; i++) {
        PGresult *r = collect(pg, deadline, &timed_out);
        if (r == NULL)
            goto broken;
        ExecStatusType st = PQresultStatus(r);
        if (rc == 0 && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            rc = statement_error(l, r, what[i], e); /* the statements after it were skipped (PIPELINE_ABORTED) */
            *failed = i;
            PQclear(r);
            if (l->pg == NULL) { /* the error dropped the connection */
                for (size_t j = 0; j < i; j++) {
                    PQclear(out[j]);
                    out[j] = NULL;
                }
                return rc;
            }
            continue;
        }
        out[i] = r;
    }
    for (int nulls = 0;;) { /* the sync's own result */
        while (PQisBusy(pg)) {
            int w = wait_socket(pg, POLLIN, deadline);
            if (w == 0)
                timed_out = true;
            if (w <= 0 || PQconsumeInput(pg) == 0)
                goto broken;
        }
        PGresult *r = PQgetResult(pg);
        if (r == NULL) {
            if (++nulls > 2) /* not the protocol libpq documents: do not spin on it */
                goto broken;
            continue;
        }
        bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
        PQclear(r);
        if (sync)
            break;
    }
    if (!PQexitPipelineMode(pg))
        goto broken;
    if (rc != 0)
        for (size_t i = 0; i < n; i++) {
            PQclear(out[i]);
            out[i] = NULL;
        }
    return rc;
broken:
    for (size_t i = 0; i < n; i++) {
        PQclear(out[i]);
        out[i] = NULL;
    }
    broken_link(l, timed_out, deadline, what[n - 1], e);
    *failed = n;
    return ERR_UNAVAILABLE;
}

int pg_pipeline(pg_link_t *l, size_t n, const pg_stmt_id_t *ids, const pg_params_t *const *ps, PGresult **out,
                const char *const *what, size_t *failed, err_t *e)
{
    int64_t deadline = pg_mono_ms() + l->timeout_ms;
    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    for (int attempt = 0;; attempt++) {
        bool had = l->pg != NULL;
        if (link_connect(l, deadline, e) != 0) {
            *failed = n;
            return e->code;
        }
        int rc = pipeline_once(l, n, ids, ps, out, what, deadline, failed, e);
        if (rc == 0)
            return 0;
        /* as pg_exec: a connection found dead outside a transaction is opened again once, and
         * statements the server forgot (a pooler's DISCARD) are prepared again */
        if (attempt == 0 && had && l->lost && !l->in_tx && pg_mono_ms() < deadline)
            continue;
        if (strcmp(l->sqlstate, "26000") == 0) {
            memset(l->prepared, 0, sizeof(l->prepared));
            if (attempt == 0 && !l->in_tx && *failed == 0) /* (nothing of it ran) */
                continue;
        }
        return rc;
    }
}

PGresult *pg_stmt(pg_link_t *l, pg_stmt_id_t id, const pg_params_t *p, const char *what, err_t *e)
{
    return pg_exec(l, (int)id, SQL_TEXT[id], p, what, e);
}

int pg_simple(pg_link_t *l, const char *sql, const char *what, err_t *e)
{
    PGresult *r = pg_exec(l, PG_SIMPLE, sql, NULL, what, e);
    if (r == NULL)
        return e ? e->code : ERR_UNAVAILABLE;
    PQclear(r);
    return 0;
}
