/*
 * session.h - what every client subcommand sets up and tears down: the parsed command line,
 * the API client, one response, an error and a path buffer.
 */
#ifndef LOCI_CLI_SESSION_H
#define LOCI_CLI_SESSION_H

#include <stdbool.h>

#include "cli/client.h"
#include "cli/opts.h"

typedef struct cli_session {
    const cli_spec_t *spec;
    cli_args_t args;
    cli_client_t client;
    cli_response_t resp;
    err_t e;
    buf_t path;    /* the request path the command builds */
    int exit_code; /* CLI_EXIT_FAIL until the command succeeds */
} cli_session_t;

/* Parses argv against spec; when positional argument key_arg (or -1 for none) is an object key,
 * checks it; connects the client. Returns true when the command should go on; otherwise help
 * or a usage error was printed and s->exit_code says how to exit. Always pair with
 * cli_session_end. */
bool cli_session_begin(cli_session_t *s, const cli_spec_t *spec, int argc, char **argv, int key_arg);

/* Sends req into s->resp. Returns true on a 2xx answer; otherwise prints the error (exit 1). */
bool cli_session_call(cli_session_t *s, const cli_request_t *req);

/* Prints a usage error and sets the usage exit code. Returns false (for `return` chains). */
bool cli_session_usage(cli_session_t *s, const char *msg);

/* Frees everything the session holds and returns its exit code. */
int cli_session_end(cli_session_t *s);

#endif
