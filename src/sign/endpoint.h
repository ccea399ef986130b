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

/* Parses "scheme://host[:port][/path]" with a host of RFC 3986 characters (no userinfo).
 * Returns 0 or ERR_BAD_REQUEST with the reason. */
int sign_endpoint_parse(const char *url, sign_endpoint_t *out, err_t *e);

/* True if path is a URL path as it must be sent: RFC 3986 pchars and '/', anything else
 * percent-encoded (%XX). A raw space, quote or non-ASCII byte would be signed as it is but sent
 * encoded by some clients and not by others. */
bool sign_endpoint_path_ok(const char *path);

#endif
