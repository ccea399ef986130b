/*
 * err.h - loci's one table of error codes.
 *
 * Every function that can fail returns int: 0 on success, a negative ERR_* code otherwise.
 * The X-macro below is the single source of truth for each code's number, its API name
 * (the "code" field of an error response), its HTTP status and a default message.
 * Numbers are never reused (curl's CURLE_OBSOLETE rule); add new codes at the end.
 *
 * Detail (a message quoting the subject) travels in an err_t owned by the caller,
 * never in a thread-local "last error".
 */
#ifndef LOCI_UTIL_ERR_H
#define LOCI_UTIL_ERR_H

#include <stddef.h>

/* X(NAME, number, http status, api code, default message) */
#define ERR_MAP(X)                                                                                                                 \
    X(BAD_REQUEST, -1, 400, "bad_request", "bad request")                                                                          \
    X(UNAUTHORIZED, -2, 401, "unauthorized", "missing or invalid token")                                                           \
    X(FORBIDDEN, -3, 403, "forbidden", "forbidden")                                                                                \
    X(NOT_FOUND, -4, 404, "not_found", "not found")                                                                                \
    X(CONFLICT, -5, 409, "conflict", "conflict")                                                                                   \
    X(PRECONDITION_FAILED, -6, 412, "precondition_failed", "precondition failed")                                                  \
    X(PAYLOAD_TOO_LARGE, -7, 413, "payload_too_large", "payload too large")                                                        \
    X(RESIDENCY_VIOLATION, -8, 403, "residency_violation", "residency violation")                                                  \
    X(NO_ELIGIBLE_STORE, -9, 409, "no_eligible_store", "no eligible store")                                                        \
    X(WRONG_CELL, -10, 421, "wrong_cell", "request belongs to another cell")                                                       \
    X(INTERNAL, -11, 500, "internal", "internal error")                                                                            \
    X(UNAVAILABLE, -12, 503, "unavailable", "service unavailable")                                                                 \
    X(METHOD_NOT_ALLOWED, -13, 405, "method_not_allowed", "method not allowed")                                                    \
    X(UNSUPPORTED_MEDIA_TYPE, -14, 415, "unsupported_media_type", "unsupported media type")                                        \
    X(HEADERS_TOO_LARGE, -15, 431, "headers_too_large", "request headers too large")                                               \
    X(NOMEM, -16, 500, "internal", "out of memory")                                                                                \
    X(IO, -17, 500, "internal", "i/o error")

enum {
#define ERR_ENUM(name, num, status, code, msg) ERR_##name = (num),
    ERR_MAP(ERR_ENUM)
#undef ERR_ENUM
};

/* Error detail: the code plus a message for the client (short, lowercase, quoting the subject). */
typedef struct err {
    int code;
    char msg[256];
} err_t;

/* Returns the API name ("not_found") of a code; "internal" for unknown codes. */
const char *err_api_code(int code);
/* Returns the HTTP status of a code; 500 for unknown codes. */
int err_http_status(int code);
/* Returns the default message of a code. */
const char *err_default_message(int code);
/* Returns the symbolic name ("NOT_FOUND") of a code, for logs and tests. */
const char *err_name(int code);

/* Fills *e (if not NULL) with code and a printf-style message; returns code so callers can
 * write `return err_set(e, ERR_NOT_FOUND, "unknown store '%s'", id);`. */
int err_set(err_t *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Clears *e to "no error". */
void err_clear(err_t *e);

#endif
