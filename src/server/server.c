/*
 * server.c - assembling and running the server process.
 */
#include "server/server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob/remote.h"
#include "http/server.h"
#include "server/bootstrap.h"
#include "server/maint.h"
#include "util/version.h"

/* After a batch commits: a store change rebuilds the snapshot before anyone hears of success. */
static void on_commit(void *ctx, db_write_t *const *ops, size_t n)
{
    app_t *app = ctx;
    /* a revoked token or a changed tenant must not outlive its acknowledgement in the loops' caches */
    for (size_t i = 0; i < n; i++) {
        db_op_t op = ops[i]->op;
        if (ops[i]->rc == 0 && (op == DB_OP_KEY_REVOKE || op == DB_OP_TENANT_PUT || op == DB_OP_TENANT_DELETE)) {
            http_auth_invalidate();
            break;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (ops[i]->rc == 0 && (ops[i]->op == DB_OP_STORE_PUT || ops[i]->op == DB_OP_STORE_DELETE)) {
            err_t e;
            if (stores_reload(app->stores, &e) != 0)
                fprintf(stderr, "loci: reloading stores: %s\n", e.msg);
            return;
        }
    }
}

static int make_dir(const char *path, err_t *e)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return err_set(e, ERR_IO, "cannot create directory '%s': %s", path, strerror(errno));
    return 0;
}

static void *reader_conn_new(void *arg, size_t i)
{
    (void)i;
    db_t *db = arg;
    db_conn_t *c;
    err_t e;
    if (db_conn_open(db, &c, &e) != 0) {
        fprintf(stderr, "loci: database reader: %s\n", e.msg);
        return NULL;
    }
    return c;
}

static void reader_conn_free(void *ctx)
{
    db_conn_t *c = ctx;
    if (c)
        c->db->vt->conn_close(c);
}

/* Opens the database with the configured network settings, and for a backend whose reads
 * wait on the network, the reader threads that keep those waits off the event loops. */
static int open_database(const config_t *cfg, const char *url, app_t *app, err_t *e)
{
    char *copy = strdup(cfg->database_replicas), *urls[16];
    size_t n = 0;
    if (copy == NULL)
        return err_set(e, ERR_NOMEM, NULL);
    for (char *tok = copy, *end; tok && *tok && n < 16; tok = end ? end + 1 : NULL) {
        end = strchr(tok, ',');
        if (end)
            *end = '\0';
        while (*tok == ' ')
            tok++;
        if (*tok)
            urls[n++] = tok;
    }
    db_options_t opts = {.timeout_ms = cfg->database_timeout_ms,
                         .replicas = (const char *const *)urls,
                         .nreplicas = n,
                         .replica_max_lag_ms = cfg->database_replica_max_lag_ms};
    int rc = db_open_opts(url, &opts, &app->db, e);
    free(copy);
    if (rc != 0)
        return rc;
    if (app->db->vt->reads_inline)
        return 0;
    size_t readers = (size_t)cfg->database_readers;
    if (readers == 0)
        readers = app->nthreads * 8 < 8 ? 8 : app->nthreads * 8;
    if ((app->readers = pool_new_ctx("read", readers, reader_conn_new, reader_conn_free, app->db)) == NULL)
        return err_set(e, ERR_NOMEM, "cannot start the database readers");
    /* object lookups (locate, HEAD, download) have threads of their own, few so that lookups
     * queue up behind them and share round trips (rq_read_batched), and apart from the readers
     * so that slow searches never hold them up */
    if ((app->lookups = pool_new_ctx("lookup", app->nthreads, reader_conn_new, reader_conn_free, app->db)) == NULL)
        return err_set(e, ERR_NOMEM, "cannot start the database lookup threads");
    return 0;
}

/* Everything a running server holds; server_start fills it, server_stop takes it apart. */
struct server {
    app_t app;
    secrets_t sec;
    maint_t *maint;
};

/* Frees what was started, in reverse order (every step accepts "never started"). */
static void teardown(server_t *s)
{
    app_t *app = &s->app;
    read_audit_stop(app->reads); /* queued read entries first, so the last checkpoint covers them */
    maint_stop(s->maint);
    pool_free(app->io);
    pool_free(app->lookups);
    pool_free(app->readers);
    db_writer_stop(app->writer);
    stores_free(app->stores);
    db_close(app->db);
    metrics_release(&app->metrics);
    if (app->h2o.hosts)
        h2o_config_dispose(&app->h2o);
    free(s);
}

int server_start(config_t *cfg, server_t **out, err_t *e)
{
    server_t *s = calloc(1, sizeof(*s));
    app_t *app;
    int rc;
    char path[4096], dburl[4200];

    *out = NULL;
    if (s == NULL)
        return err_set(e, ERR_NOMEM, NULL);
    app = &s->app;
    app->cfg = cfg;
    app->sec = &s->sec;
    app->nthreads = (size_t)cfg->threads;
    atomic_init(&app->stopping, false);

    snprintf(path, sizeof(path), "%s/blobs", cfg->data_dir);
    if ((rc = make_dir(cfg->data_dir, e)) != 0 || (rc = make_dir(path, e)) != 0)
        goto fail;
    if ((rc = secrets_load(&s->sec, cfg->data_dir, e)) != 0)
        goto fail;
    if (cfg->database[0])
        snprintf(dburl, sizeof(dburl), "%s", cfg->database);
    else
        snprintf(dburl, sizeof(dburl), "sqlite:%s/loci.db", cfg->data_dir);
    if ((rc = open_database(cfg, dburl, app, e)) != 0)
        goto fail;
    if ((rc = db_writer_start(app->db, (size_t)cfg->write_batch_max, &app->writer, e)) != 0)
        goto fail;
    if ((rc = bootstrap_first_start(cfg, &s->sec, app->db, app->writer, e)) != 0)
        goto fail;
    if ((rc = stores_new(app->db, &s->sec, cfg, &app->stores, e)) != 0)
        goto fail;
    db_writer_set_commit_hook(app->writer, on_commit, app);
    if ((app->io = pool_new("io", (size_t)cfg->io_threads)) == NULL || metrics_init(&app->metrics, app->nthreads) != 0) {
        rc = err_set(e, ERR_NOMEM, "cannot start worker threads");
        goto fail;
    }
    blob_remote_global_init();
    if ((rc = read_audit_start(cfg, app->writer, &app->reads, e)) != 0)
        goto fail;
    http_config(app);
    if ((rc = http_start(app, e)) != 0)
        goto fail;
    if ((rc = maint_start(cfg, &s->sec, app->db, app->writer, app->stores, &s->maint, e)) != 0)
        goto fail;
    *out = s;
    return 0;
fail:
    if (app->threads)
        http_stop(app, 1000);
    teardown(s);
    return rc;
}

const app_t *server_app(const server_t *s)
{
    return &s->app;
}

int server_stop(server_t *s, int timeout_ms)
{
    if (s == NULL)
        return 0;
    int unfinished = http_stop(&s->app, timeout_ms);
    if (unfinished)
        return unfinished; /* threads still use everything: leave it to the process exit */
    teardown(s);
    return 0;
}

int server_run(config_t *cfg)
{
    server_t *s;
    err_t e;

    /* signals: SIGINT/SIGTERM are taken by sigwait below; every thread inherits the mask */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (server_start(cfg, &s, &e) != 0) {
        fprintf(stderr, "loci: %s\n", e.msg);
        return 1;
    }
    if (s->sec.admin_generated)
        fprintf(stderr, "loci: admin token written to %s/admin.token\n", cfg->data_dir);
    fprintf(stderr, "loci %s: serving on http://%s (%d threads, %s, data in %s)\n", LOCI_VERSION, cfg->listen, cfg->threads,
            s->app.db->vt->name, cfg->data_dir);

    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "loci: %s: finishing in-flight requests\n", sig == SIGINT ? "interrupt" : "terminate");
    int unfinished = server_stop(s, cfg->shutdown_timeout_ms);
    if (unfinished) {
        fprintf(stderr, "loci: %d threads still busy after %d ms; exiting anyway\n", unfinished, cfg->shutdown_timeout_ms);
        _exit(1); /* the database stays consistent: every commit is atomic */
    }
    fprintf(stderr, "loci: stopped\n");
    return 0;
}
