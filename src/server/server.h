/*
 * server.h - `loci serve`: assemble the process (database, writer, stores, I/O pool, HTTP
 * threads, maintenance), serve until SIGTERM/SIGINT, then shut down gracefully.
 */
#ifndef LOCI_SERVER_SERVER_H
#define LOCI_SERVER_SERVER_H

#include "server/config.h"

/* Runs the server with a finished configuration. Returns the process exit code. */
int server_run(config_t *cfg);

#endif
