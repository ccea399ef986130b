/*
 * client.h - the CLI's small HTTP client for loci's API (docs/api.md), over libcurl.
 *
 * The CLI talks to the server only through this, the way curl's src/ uses only libcurl's
 * public API. One cli_client_t holds one curl handle, reused for every request so
 * connections are kept alive (also for transfers to signed URLs, see transfer.h).
 *
 * Requests carry `Authorization: Bearer <token>` when a token is set, JSON bodies, and object
 * keys percent-encoded into the path (cli_path_object) with CURLOPT_PATH_AS_IS, so libcurl
 * never squashes `/../`, `/./` or `//` in a key.
 *
 * An error response {"error":{"code","message","request_id"}} becomes an err_t whose message
 * reads "<message> (<code>)" and whose code is the matching ERR_* (cli_error_from_response);
 * commands print it as "loci: <message> (<code>)".
 */
#ifndef LOCI_CLI_CLIENT_H
#define LOCI_CLI_CLIENT_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

/* Largest API response body the client accepts (a list page of 1000 objects with 4 KiB of
 * attributes each stays well below). */
#define CLI_BODY_MAX ((size_t)16 << 20)

typedef struct cli_client {
    CURL *curl;                   /* reused for every request */
    char *base;                   /* base URL without a trailing '/', malloc'ed */
    char *auth;                   /* "Authorization: Bearer …" or NULL, malloc'ed */
    bool https;                   /* base is https: redirects must stay on https */
    char errbuf[CURL_ERROR_SIZE]; /* libcurl's detail for the last failure */
} cli_client_t;

/* A request to the API. Strings are borrowed for the duration of cli_call. */
typedef struct cli_request {
    const char *method;        /* "GET", "PUT", "POST", "PATCH", "DELETE", "HEAD" */
    const char *path;          /* encoded path and query ("/v1/objects/a%20b?region=x"), see cli_path_* */
    const json_t *body;        /* sent as compact JSON with Content-Type: application/json, or NULL */
    const char *if_match;      /* If-Match value, or NULL */
    const char *if_none_match; /* If-None-Match value, or NULL */
} cli_request_t;

/* An answer. body holds at most CLI_BODY_MAX bytes; json is the parsed body (NULL when the
 * body is empty or the status is 204). Both are owned by the response: cli_response_release. */
typedef struct cli_response {
    long status;
    buf_t body;
    json_t *json;
} cli_response_t;

/* Sets up a client for the server at url (http:// or https://, a trailing '/' is dropped)
 * with token (NULL or "" sends no Authorization). Returns 0, or ERR_BAD_REQUEST for a bad URL
 * or token / ERR_INTERNAL if libcurl cannot start, with the reason in e.
 * Free with cli_client_release (also after a failed init). */
int cli_client_init(cli_client_t *c, const char *url, const char *token, err_t *e);
void cli_client_release(cli_client_t *c);

void cli_response_init(cli_response_t *r);
/* Frees the body and the parsed JSON; r is empty (and reusable) afterwards. */
void cli_response_release(cli_response_t *r);

/* Sends req and waits for the answer (following up to 5 redirects, e.g. a 307 to another
 * cell). Returns 0 for a 2xx answer (r->json is then a JSON value unless the body is empty);
 * otherwise an ERR_* code with e->msg set: the server's error as "<message> (<code>)", or
 * ERR_UNAVAILABLE when the server could not be reached. r is reset first and holds whatever
 * was received either way. */
int cli_call(cli_client_t *c, const cli_request_t *req, cli_response_t *r, err_t *e);

/* Turns a non-2xx answer into an error: e->msg = "<message> (<code>)" from an API error body,
 * or "unexpected answer from server (http <status>)" for anything else; e->code the ERR_*
 * whose API code matches (else one chosen from the status). Returns e->code. Pure. */
int cli_error_from_response(long status, const char *body, size_t len, err_t *e);

/* Maps an API error code ("not_found") to its ERR_* value; ERR_INTERNAL if unknown. */
int cli_err_from_api_code(const char *code);

/* Appends "/v1/objects/" and key percent-encoded per RFC 3986 keeping '/'. Returns 0 or the
 * buffer's error. */
int cli_path_object(buf_t *b, const char *key);
/* Appends "/" and one path segment percent-encoded ('/' encoded too). */
int cli_path_segment(buf_t *b, const char *segment);
/* Appends "?name=value" (or "&name=value" when b already has a query), both percent-encoded
 * (space as %20, '+' as %2B). */
int cli_query_add(buf_t *b, const char *name, const char *value);

/* Checks a user's object key before it goes into a path: 1 byte or more, no control
 * characters (U+0000-U+001F, U+007F). Returns 0 or ERR_BAD_REQUEST with the reason in e. */
int cli_check_key(const char *key, err_t *e);

/* Appends the libcurl header line for name/value to b ("name: value", or "name;" for an empty
 * value, which is how libcurl sends an empty header). Refuses (ERR_BAD_REQUEST) a name that is
 * not an HTTP token or a value with CR, LF or NUL, so a server cannot inject headers. */
int cli_header_line(buf_t *b, const char *name, const char *value, err_t *e);

/* Small readers for response JSON: a member's string (NULL if absent or not a string) and
 * integer (def if absent or not an integer). */
const char *cli_jstr(const json_t *obj, const char *key);
int64_t cli_jint(const json_t *obj, const char *key, int64_t def);

/* Prints j on stdout followed by a newline: pretty with 2-space indent, or compact on one
 * line. Returns 0, or ERR_IO if it cannot be written. */
int cli_print_json(const json_t *j, bool pretty);

/* Prints "loci: <e->msg>" on stderr and returns CLI_EXIT_FAIL. */
int cli_fail(const err_t *e);

#endif
