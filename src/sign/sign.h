/*
 * sign.h - the signer interface: one provider per store kind turns a store, an object name
 * and a method into a short-lived signed URL the client uses directly.
 *
 * A provider is a const table (signer_vt_t); a signer_t is an instance made for one store
 * (it may keep parsed keys and derived-key caches). Signers are immutable after creation
 * except for internal caches, which are thread-safe: many loop threads sign at once.
 * Signing is pure computation: no I/O, the time is passed in.
 *
 * Residency is checked again here (DESIGN.md: "the signer re-checks"): sign_presign refuses a
 * store whose country is outside the set the caller is allowed, whatever placement decided.
 */
#ifndef LOCI_SIGN_SIGN_H
#define LOCI_SIGN_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/juris.h"
#include "core/parts.h"
#include "core/store.h"
#include "util/arena.h"
#include "util/err.h"
#include "util/slice.h"

/* URL lifetime ceiling (7 days): the S3 and GCS maximum. */
#define SIGN_MAX_EXPIRES (7 * 24 * 3600)

typedef struct sign_header {
    const char *name; /* as the client must send it, e.g. "content-type" */
    const char *value;
} sign_header_t;

/* What a signed URL is for. Plain object access is SIGN_OP_OBJECT; the others drive large
 * uploads in parts, each provider in its own protocol (a provider without multipart support
 * refuses them with ERR_BAD_REQUEST):
 *   s3, gcs (XML API): POST ?uploads, PUT ?partNumber=N&uploadId=U, POST ?uploadId=U, DELETE ?uploadId=U
 *   azure: PUT ?comp=block&blockid=B (B = base64 of the 8-digit part number), PUT ?comp=blocklist;
 *          nothing to create or abort (uncommitted blocks expire at the store) */
typedef enum sign_op {
    SIGN_OP_OBJECT = 0,  /* the object itself: method GET, PUT, HEAD or DELETE */
    SIGN_OP_PART,        /* PUT part part_number of multipart upload mp_id */
    SIGN_OP_MP_CREATE,   /* start a multipart upload (POST) */
    SIGN_OP_MP_COMPLETE, /* assemble the parts (s3/gcs: POST; azure: PUT) */
    SIGN_OP_MP_ABORT,    /* abandon the upload (DELETE) */
} sign_op_t;

typedef struct sign_request {
    sign_op_t op;             /* SIGN_OP_OBJECT unless a multipart step */
    const char *method;       /* "GET", "PUT", "HEAD", "DELETE" (SIGN_OP_OBJECT; others imply theirs) */
    const char *name;         /* the object's name inside the store, raw (not encoded) */
    int64_t now;              /* signing time, Unix seconds */
    int64_t expires;          /* lifetime in seconds, 1..SIGN_MAX_EXPIRES */
    const char *content_type; /* PUT: bound into the signature when not NULL */
    int64_t content_length;   /* PUT: bound into the signature when >= 0; otherwise -1 */
    const char *sha256_hex;   /* PUT: optional checksum, bound where the provider can */
    int part_number;          /* SIGN_OP_PART: 1..10000 */
    const char *mp_id;        /* SIGN_OP_PART/_COMPLETE/_ABORT: the store's multipart upload id (s3, gcs) */
    /* GET: what the store should answer with instead of the stored values, so a browser saves
     * the download under the user's name (S3 response-content-*, GCS the same, Azure rscd/rsct,
     * Swift filename=); NULL leaves the stored value */
    const char *response_content_disposition;
    const char *response_content_type;
} sign_request_t;

typedef struct sign_result {
    const char *url;        /* the signed URL (arena) */
    sign_header_t *headers; /* headers the client must send exactly (arena) */
    size_t nheaders;
    int64_t expires_at; /* Unix seconds */
} sign_result_t;

typedef struct signer signer_t;

/* What a provider's stores accept, for choosing single PUT or multipart (core/parts.h). */
typedef part_limits_t sign_limits_t;

typedef struct signer_vt {
    const char *provider; /* "s3", "local", ... */
    sign_limits_t limits;
    /* Makes a signer for store st (which must outlive it). Returns 0 or ERR_BAD_REQUEST when the
     * store's configuration or credentials are unusable, with the reason in e. */
    int (*create)(const store_t *st, signer_t **out, err_t *e);
    /* Signs rq; everything in *out is allocated from a. */
    int (*presign)(signer_t *s, const sign_request_t *rq, sign_result_t *out, arena_t *a, err_t *e);
    /* Frees what create made. */
    void (*destroy)(signer_t *s);
} signer_vt_t;

/* Every signer instance starts with this base. */
struct signer {
    const signer_vt_t *vt;
    const store_t *store;
};

/* Returns the provider table for a provider name, or NULL if loci cannot sign for it. */
const signer_vt_t *sign_provider(const char *provider);

/* Creates a signer for st through its provider. Returns 0, ERR_BAD_REQUEST (unknown provider or
 * unusable store, reason in e). */
int sign_create(const store_t *st, signer_t **out, err_t *e);
/* Frees a signer (NULL is fine). */
void sign_destroy(signer_t *s);

/* Signs a request after re-checking residency: st's country must be in *allowed, otherwise
 * ERR_RESIDENCY_VIOLATION naming the store, its country and tenant. Also rejects a lifetime
 * outside 1..SIGN_MAX_EXPIRES (ERR_BAD_REQUEST) and methods other than GET/PUT/HEAD/DELETE. */
int sign_presign(signer_t *s, const cset_t *allowed, const char *tenant, const sign_request_t *rq, sign_result_t *out, arena_t *a,
                 err_t *e);

/*
 * Local-store verification: the request loci itself receives at
 *   {public_url}/local/{store}/{name}?X-Amz-...
 * must carry a valid SigV4 query signature made by the local signer for that store.
 */
typedef struct sign_verify_request {
    slice_t method; /* request method */
    slice_t path;   /* raw request path as received (still percent-encoded), without the query */
    slice_t query;  /* raw query string (after '?'), may be empty */
    slice_t host;   /* Host header value */
    /* Returns the value of a request header by lowercase name, or a slice with base == NULL. */
    slice_t (*header)(void *ctx, const char *lname);
    void *header_ctx;
    int64_t now; /* Unix seconds */
} sign_verify_request_t;

/* Verifies a local-store request for store st (provider "local"). Returns 0, or ERR_FORBIDDEN
 * with the reason in e (missing/malformed parameters, wrong key or region, expired or not yet
 * valid, signature mismatch, method mismatch, or a PUT that does not bind content-length and
 * content-type). On success *content_length is the signed content-length for a PUT (-1 otherwise). */
int sign_local_verify(const store_t *st, const sign_verify_request_t *rq, int64_t *content_length, err_t *e);

/* The local store's URL path prefix: "/local/". */
#define SIGN_LOCAL_PREFIX "/local/"

#endif
