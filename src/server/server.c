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

int server_run(config_t *cfg)
{
    app_t app;
    secrets_t sec;
    maint_t *maint = NULL;
    err_t e;
    int rc, exit_code = 1;
    char path[4096], dburl[4200];

    memset(&app, 0, sizeof(app));
    app.cfg = cfg;
    app.sec = &sec;
    app.nthreads = (size_t)cfg->threads;
    atomic_init(&app.stopping, false);

    /* signals: SIGINT/SIGTERM are taken by sigwait below; every thread inherits the mask */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    snprintf(path, sizeof(path), "%s/blobs", cfg->data_dir);
    if ((rc = make_dir(cfg->data_dir, &e)) != 0 || (rc = make_dir(path, &e)) != 0)
        goto fail;
    if ((rc = secrets_load(&sec, cfg->data_dir, &e)) != 0)
        goto fail;
    if (cfg->database[0])
        snprintf(dburl, sizeof(dburl), "%s", cfg->database);
    else
        snprintf(dburl, sizeof(dburl), "sqlite:%s/loci.db", cfg->data_dir);
    if ((rc = db_open(dburl, &app.db, &e)) != 0)
        goto fail;
    if ((rc = db_writer_start(app.db, (size_t)cfg->write_batch_max, &app.writer, &e)) != 0)
        goto fail;
    if ((rc = bootstrap_first_start(cfg, &sec, app.db, app.writer, &e)) != 0)
        goto fail;
    if ((rc = stores_new(app.db, &sec, cfg, &app.stores, &e)) != 0)
        goto fail;
    db_writer_set_commit_hook(app.writer, on_commit, &app);
    if ((app.io = pool_new((size_t)cfg->io_threads)) == NULL || metrics_init(&app.metrics, app.nthreads) != 0) {
        err_set(&e, ERR_NOMEM, "cannot start worker threads");
        goto fail;
    }
    blob_remote_global_init();
    if ((rc = read_audit_start(cfg, app.writer, &app.reads, &e)) != 0)
        goto fail;
    http_config(&app);
    if ((rc = http_start(&app, &e)) != 0)
        goto fail;
    if ((rc = maint_start(cfg, &sec, app.db, app.writer, app.stores, &maint, &e)) != 0)
        goto fail;

    if (sec.admin_generated)
        fprintf(stderr, "loci: admin token written to %s/admin.token\n", cfg->data_dir);
    fprintf(stderr, "loci %s: serving on http://%s (%d threads, %s, data in %s)\n", LOCI_VERSION, cfg->listen, cfg->threads,
            app.db->vt->name, cfg->data_dir);

    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "loci: %s: finishing in-flight requests\n", sig == SIGINT ? "interrupt" : "terminate");
    int unfinished = http_stop(&app, cfg->shutdown_timeout_ms);
    if (unfinished) {
        fprintf(stderr, "loci: %d threads still busy after %d ms; exiting anyway\n", unfinished, cfg->shutdown_timeout_ms);
        _exit(1); /* the database stays consistent: every commit is atomic */
    }
    exit_code = 0;
    goto out;
fail:
    fprintf(stderr, "loci: %s\n", e.msg);
    if (app.threads) {
        http_stop(&app, 1000);
    }
out:
    read_audit_stop(app.reads); /* queued read entries first, so the last checkpoint covers them */
    maint_stop(maint);
    pool_free(app.io);
    db_writer_stop(app.writer);
    stores_free(app.stores);
    db_close(app.db);
    metrics_release(&app.metrics);
    if (app.h2o.hosts)
        h2o_config_dispose(&app.h2o);
    if (exit_code == 0)
        fprintf(stderr, "loci: stopped\n");
    return exit_code;
}
