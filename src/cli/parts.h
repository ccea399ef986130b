/*
 * parts.h - uploading one copy of a file in parts, several at a time.
 *
 * A multipart target (docs/api.md) gives the part size, the part count and signed URLs for the
 * first parts; more come from POST /v1/uploads/{id}/parts, fetched in batches as workers reach
 * them. Each worker thread has its own connections, reads its part with pread, and keeps the
 * store's ETag. A part that fails is retried with a fresh URL (a URL may have expired during
 * a long upload); the first part that keeps failing stops everyone.
 */
#ifndef LOCI_CLI_PARTS_H
#define LOCI_CLI_PARTS_H

#include <jansson.h>
#include <stdint.h>

#include "cli/progress.h"
#include "util/err.h"

/* How many times a part is tried, each with a fresh URL after the first. */
#define CLI_PART_TRIES 3
/* How many part URLs one POST .../parts asks for. */
#define CLI_PART_BATCH 32

typedef struct cli_parts_req {
    const char *url;       /* the server */
    const char *token;     /* the tenant's token */
    const char *upload_id; /* the upload */
    const char *expires;   /* ?expires= for fetched URLs, or NULL */
    json_t *target;        /* the target: {"store", "multipart": {"part_size", "part_count", "parts"}} */
    int fd;                /* the file, read with pread */
    int64_t size;          /* its size */
    int parallel;          /* worker threads, 1..64 */
    cli_progress_t *prog;  /* bytes are added as they go */
} cli_parts_req_t;

/* Uploads every part of rq->target and appends {"store", "part_number", "etag"} per part
 * (ETag omitted when the store gave none) to the array out. Returns 0, or the first failure
 * (ERR_CONFLICT a store or loci refused, ERR_UNAVAILABLE unreachable or interrupted, ERR_IO
 * the file) with the reason in e. */
int cli_put_parts(const cli_parts_req_t *rq, json_t *out, err_t *e);

#endif
