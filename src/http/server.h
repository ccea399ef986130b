/*
 * server.h - starting and stopping the HTTP threads.
 */
#ifndef LOCI_HTTP_SERVER_H
#define LOCI_HTTP_SERVER_H

#include "http/http.h"

/* Sets up app->h2o (limits, timeouts, the one handler) from app->cfg. */
void http_config(app_t *app);
/* Listens on app->cfg->listen and starts app->nthreads event loops. */
int http_start(app_t *app, err_t *e);
/* Stops accepting, lets in-flight requests finish (at most timeout_ms) and joins the threads.
 * Returns the number of threads that did not finish in time. */
int http_stop(app_t *app, int timeout_ms);

#endif
