/*
 * remote.h - requests loci itself makes to stores with signed URLs (libcurl, blocking:
 * run on a pool thread): HEAD to verify an upload, DELETE to erase a copy.
 */
#ifndef LOCI_BLOB_REMOTE_H
#define LOCI_BLOB_REMOTE_H

#include <stdint.h>

#include "sign/sign.h"
#include "util/err.h"

/* Initialises libcurl once per process (call before threads start). */
void blob_remote_global_init(void);

/* Sends `method` to a signed URL with its required headers. On a 2xx answer returns 0 and, when
 * size is not NULL, the Content-Length; 404 gives ERR_NOT_FOUND; other statuses or transport
 * failures give ERR_CONFLICT / ERR_UNAVAILABLE with the reason in e. */
int blob_remote_request(const char *method, const sign_result_t *signed_url, int64_t *size, err_t *e);

#endif
