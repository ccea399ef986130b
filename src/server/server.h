/*
 * server.h - `loci serve`: assemble the process (database, writer, stores, I/O pool, HTTP
 * threads, maintenance), serve until SIGTERM/SIGINT, then shut down gracefully.
 */
#ifndef LOCI_SERVER_SERVER_H
#define LOCI_SERVER_SERVER_H

#include "http/http.h"
#include "server/config.h"

typedef struct server server_t;

/* Runs the server with a finished configuration. Returns the process exit code. */
int server_run(config_t *cfg);

/* Starts everything server_run serves with (cfg must outlive the server) and returns once
 * the HTTP threads accept on cfg->listen. Signals are left alone: the caller decides how the
 * server is stopped. Returns 0 with *out, or an error with the reason in e (nothing left
 * running). */
int server_start(config_t *cfg, server_t **out, err_t *e);
/* The process-wide state of a started server (read-only for callers). */
const app_t *server_app(const server_t *s);
/* Stops accepting, lets in-flight requests finish (at most timeout_ms), stops every thread and
 * frees the server. Returns 0, or the number of HTTP threads still busy, in which case nothing
 * is freed (the caller should exit). */
int server_stop(server_t *s, int timeout_ms);

#endif
