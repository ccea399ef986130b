/*
 * endpoint.h - parsing store endpoints (private to src/sign/).
 */
#ifndef LOCI_SIGN_ENDPOINT_H
#define LOCI_SIGN_ENDPOINT_H

#include <stdbool.h>

#include "util/err.h"

typedef struct sign_endpoint {
    char scheme[8];     /* "http" or "https" */
    char host[256];     /* the signed host: ":port" only when not the scheme's default */
    char url_host[256]; /* the host as written in the endpoint, for the URL (botocore keeps ":443") */
    char path[512];     /* base path without a trailing '/', "" for none */
} sign_endpoint_t;

/* Parses "scheme://host[:port][/path]". Returns 0 or ERR_BAD_REQUEST with the reason. */
int sign_endpoint_parse(const char *url, sign_endpoint_t *out, err_t *e);

#endif
