/*
 * pg_replica.c - which read replica may answer a list or search.
 *
 * A watcher thread samples, every SAMPLE_MS, the primary's WAL position and each replica's
 * replay position. A replica is fresh when it has replayed everything the primary had written
 * max_lag ms ago (the primary's position is kept in a ring of samples, so an idle primary
 * does not make a replica look behind). For each tenant the writer records the WAL position
 * of its latest commit on this server; a tenant's list goes to a fresh replica only if that
 * replica has replayed at least that far, so after a write through this server the same
 * tenant reads its write (read-your-writes). Writes made through other servers show up on a
 * replica within max_lag (plus one sample period). Locates, uploads and everything else read
 * the primary.
 *
 * Positions are sampled, so a replica is only ever credited with less than it has replayed.
 * When the primary cannot be sampled, no replica is used.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/pg/pg.h"
#include "util/pool.h"

#define SAMPLE_MS    50
#define RING         512 /* primary positions kept: 25 s at SAMPLE_MS */
#define SLOTS        4096
#define MAX_REPLICAS 16

struct pg_replicas {
    char *primary;
    char **urls;
    size_t n;
    int max_lag_ms, timeout_ms;
    _Atomic uint64_t tenant_lsn[SLOTS];    /* per hashed tenant: the latest commit's position (max on collision) */
    _Atomic uint64_t replay[MAX_REPLICAS]; /* per replica: replayed position, as last sampled */
    _Atomic int fresh[MAX_REPLICAS];       /* per replica: at most max_lag behind at the last sample */
    _Atomic unsigned next;                 /* round robin among fresh replicas */
    struct {
        int64_t at;
        uint64_t lsn;
    } ring[RING];
    size_t ring_n, ring_head;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

static size_t slot(const char *tenant)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *s = (const unsigned char *)tenant; *s; s++)
        h = (h ^ *s) * 16777619u;
    return h % SLOTS;
}

void pg_replicas_wrote(pg_replicas_t *r, const char *tenant, uint64_t lsn)
{
    if (r == NULL)
        return;
    _Atomic uint64_t *s = &r->tenant_lsn[slot(tenant)];
    uint64_t cur = atomic_load(s);
    while (cur < lsn && !atomic_compare_exchange_weak(s, &cur, lsn))
        ;
}

int pg_replicas_pick(pg_replicas_t *r, const char *tenant)
{
    if (r == NULL || r->n == 0)
        return -1;
    uint64_t need = atomic_load(&r->tenant_lsn[slot(tenant)]);
    unsigned start = atomic_fetch_add_explicit(&r->next, 1, memory_order_relaxed);
    for (size_t k = 0; k < r->n; k++) {
        size_t i = (start + k) % r->n;
        if (atomic_load(&r->fresh[i]) && atomic_load(&r->replay[i]) >= need)
            return (int)i;
    }
    return -1;
}

size_t pg_replicas_count(const pg_replicas_t *r)
{
    return r ? r->n : 0;
}

const char *pg_replicas_url(const pg_replicas_t *r, size_t i)
{
    return r->urls[i];
}

/* A position query's answer, or 0 (unknown) on failure or NULL. */
static uint64_t sample(pg_link_t *l, const char *sql)
{
    err_t e;
    PGresult *res = pg_exec(l, -1, sql, NULL, "replica position", &e);
    if (res == NULL)
        return 0;
    uint64_t v = PQntuples(res) && !pg_null(res, 0, 0) ? (uint64_t)pg_i64(res, 0, 0) : 0;
    PQclear(res);
    return v;
}

/* The primary's position max_lag ago (the oldest sample if none is that old). */
static uint64_t required(const pg_replicas_t *r, int64_t now)
{
    uint64_t need = 0;
    for (size_t k = 0; k < r->ring_n; k++) {
        size_t i = (r->ring_head + RING - 1 - k) % RING; /* newest first */
        need = r->ring[i].lsn;
        if (now - r->ring[i].at >= r->max_lag_ms)
            break;
    }
    return need;
}

static void *watch(void *arg)
{
    pg_replicas_t *r = arg;
    thread_name("replicas");
    pg_link_t primary, *links = calloc(r->n, sizeof(*links));
    if (links == NULL)
        abort();
    pg_link_init(&primary, r->primary, r->timeout_ms);
    for (size_t i = 0; i < r->n; i++)
        pg_link_init(&links[i], r->urls[i], r->timeout_ms);
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        pthread_mutex_unlock(&r->mu);
        int64_t now = pg_mono_ms();
        uint64_t at = sample(&primary, "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint");
        if (at) {
            r->ring[r->ring_head].at = now;
            r->ring[r->ring_head].lsn = at;
            r->ring_head = (r->ring_head + 1) % RING;
            if (r->ring_n < RING)
                r->ring_n++;
        }
        uint64_t need = required(r, now);
        for (size_t i = 0; i < r->n; i++) {
            uint64_t replayed = sample(&links[i], "SELECT CASE WHEN pg_is_in_recovery() THEN "
                                                  "(pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint END");
            atomic_store(&r->replay[i], replayed);
            atomic_store(&r->fresh[i], at != 0 && replayed != 0 && replayed >= need);
        }
        pthread_mutex_lock(&r->mu);
        if (r->stop)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += SAMPLE_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
    }
    pthread_mutex_unlock(&r->mu);
    pg_link_close(&primary);
    for (size_t i = 0; i < r->n; i++)
        pg_link_close(&links[i]);
    free(links);
    return NULL;
}

static void free_replicas(pg_replicas_t *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->urls[i]);
    free(r->urls);
    free(r->primary);
    free(r);
}

int pg_replicas_start(const char *primary, const char *const *urls, size_t n, int max_lag_ms, int timeout_ms, pg_replicas_t **out,
                      err_t *e)
{
    if (n > MAX_REPLICAS)
        return err_set(e, ERR_BAD_REQUEST, "at most %d database replicas", MAX_REPLICAS);
    pg_replicas_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return err_set(e, ERR_NOMEM, NULL);
    r->n = n;
    r->max_lag_ms = max_lag_ms > 0 ? max_lag_ms : 1000;
    r->timeout_ms = timeout_ms;
    r->primary = strdup(primary);
    r->urls = calloc(n, sizeof(char *));
    if (r->primary == NULL || r->urls == NULL) {
        free_replicas(r);
        return err_set(e, ERR_NOMEM, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        if (strncmp(urls[i], "postgres://", 11) != 0 && strncmp(urls[i], "postgresql://", 13) != 0) {
            free_replicas(r);
            return err_set(e, ERR_BAD_REQUEST, "database replica %zu is not a postgres:// URL", i + 1);
        }
        if ((r->urls[i] = strdup(urls[i])) == NULL) {
            free_replicas(r);
            return err_set(e, ERR_NOMEM, NULL);
        }
    }
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->thread, NULL, watch, r) != 0) {
        free_replicas(r);
        return err_set(e, ERR_INTERNAL, "cannot start the replica watcher");
    }
    *out = r;
    return 0;
}

void pg_replicas_stop(pg_replicas_t *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free_replicas(r);
}
