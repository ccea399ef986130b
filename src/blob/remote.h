/*
 * remote.h - requests loci itself makes to stores with signed URLs (libcurl, blocking: run on
 * a pool thread): HEAD to verify an upload, DELETE to erase a copy, and the calls of the
 * multipart protocols (blob/multipart.h).
 */
#ifndef LOCI_BLOB_REMOTE_H
#define LOCI_BLOB_REMOTE_H

#include <stdint.h>

#include "sign/sign.h"
#include "util/buf.h"
#include "util/err.h"

/* Initialises libcurl once per process (call before threads start). */
void blob_remote_global_init(void);

/* A request to a signed URL. */
typedef struct blob_call {
    const char *method;
    const char *url;
    const sign_header_t *headers; /* sent as given (the signed ones and any extra) */
    size_t nheaders;
    const void *body; /* request body or NULL */
    size_t body_len;
    /* outputs */
    long status;
    int64_t content_length; /* of the answer, -1 if unknown */
    buf_t *response;        /* the answer's body is appended here when not NULL (capped at 1 MiB) */
} blob_call_t;

/* Performs c. Returns 0 when an HTTP answer arrived (whatever its status: see c->status), or
 * ERR_UNAVAILABLE when the store could not be reached (reason in e). */
int blob_remote_call(blob_call_t *c, err_t *e);

/* Sends `method` (HEAD or DELETE) to a signed URL with its required headers. On a 2xx answer
 * returns 0 and, when size is not NULL, the Content-Length; 404 gives ERR_NOT_FOUND; other
 * statuses or transport failures give ERR_CONFLICT / ERR_UNAVAILABLE with the reason in e. */
int blob_remote_request(const char *method, const sign_result_t *signed_url, int64_t *size, err_t *e);

#endif
