/*
 * multipart.h - the calls loci makes itself to run a large upload in parts (blocking: run on a
 * pool thread). Clients upload the parts straight to the store with signed part URLs; loci
 * starts the upload where the store needs that, assembles the parts at complete, and abandons
 * the upload on abort or expiry.
 *
 *   s3, gcs (XML API): CreateMultipartUpload (POST ?uploads) gives an UploadId;
 *                      CompleteMultipartUpload (POST ?uploadId, XML list of parts and ETags);
 *                      AbortMultipartUpload (DELETE ?uploadId).
 *   azure:             nothing to start; Put Block List (PUT ?comp=blocklist, the block ids of
 *                      parts 1..N); nothing to abort (uncommitted blocks expire at the store).
 */
#ifndef LOCI_BLOB_MULTIPART_H
#define LOCI_BLOB_MULTIPART_H

#include <stdbool.h>
#include <stdint.h>

#include "sign/sign.h"
#include "util/arena.h"
#include "util/err.h"

typedef struct blob_part {
    int part_number;
    const char *etag; /* as the store answered the part's PUT (s3, gcs); unused for azure */
} blob_part_t;

/* Where and as whom the calls are signed. */
typedef struct blob_mp_target {
    signer_t *signer;
    const cset_t *allowed; /* the tenant's jurisdictions (signing re-checks residency) */
    const char *tenant;
    const char *name; /* the object's name in the store */
    int64_t now;      /* Unix seconds */
} blob_mp_target_t;

/* True when the provider needs an upload id from a create call (s3, gcs). */
bool blob_mp_needs_create(const char *provider);
/* True when complete needs each part's ETag (s3, gcs). */
bool blob_mp_needs_etags(const char *provider);

/* Starts a multipart upload; *mp_id is the store's id (arena), or NULL when the provider needs
 * none. Returns 0, ERR_UNAVAILABLE (store unreachable) or ERR_CONFLICT (store refused). */
int blob_mp_create(const blob_mp_target_t *t, const char *content_type, const char **mp_id, arena_t *a, err_t *e);
/* Assembles parts 1..n (sorted by part number). Returns 0, ERR_NOT_FOUND (the store has no such
 * upload: it may already be complete), ERR_CONFLICT (refused: a missing or wrong part) or
 * ERR_UNAVAILABLE. */
int blob_mp_complete(const blob_mp_target_t *t, const char *mp_id, const char *content_type, const blob_part_t *parts, size_t n,
                     arena_t *a, err_t *e);
/* Abandons the upload; an upload the store no longer knows is success. */
int blob_mp_abort(const blob_mp_target_t *t, const char *mp_id, arena_t *a, err_t *e);

#endif
