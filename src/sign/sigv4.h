/*
 * sigv4.h - AWS Signature Version 4, query (presigned URL) form, shared by the s3 and local
 * signers and by local-store verification.
 *
 * The caller gives the canonical URI already encoded (S3 rules: each byte but unreserved
 * characters and '/' percent-encoded, no normalisation), the Host value, the extra query
 * parameters and the headers to sign; this module builds the canonical request, the string
 * to sign and the signature. Derived signing keys are cached per day (sigv4_key_cache_t).
 */
#ifndef LOCI_SIGN_SIGV4_H
#define LOCI_SIGN_SIGV4_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

#define SIGV4_ALGORITHM        "AWS4-HMAC-SHA256"
#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

typedef struct sigv4_kv {
    const char *name;
    const char *value;
} sigv4_kv_t;

typedef struct sigv4_params {
    const char *method;
    const char *host;          /* the Host header value (with a non-default port) */
    const char *canonical_uri; /* encoded path */
    const sigv4_kv_t *query;   /* other query parameters, raw (encoded here) */
    size_t nquery;
    const sigv4_kv_t *headers; /* headers to sign besides host: lowercase names, raw values */
    size_t nheaders;
    const char *access_key;
    const char *region;
    const char *service;
    int64_t now;              /* Unix seconds: X-Amz-Date */
    int64_t expires;          /* X-Amz-Expires */
    const char *payload_hash; /* SIGV4_UNSIGNED_PAYLOAD for S3 presigning */
} sigv4_params_t;

/* Derives the signing key for (secret, YYYYMMDD, region, service). */
void sigv4_derive_key(const char *secret, const char *date8, const char *region, const char *service, uint8_t out[32]);

/* A one-day cache of the derived key of a fixed (secret, region, service); thread-safe. */
typedef struct sigv4_key_cache {
    pthread_mutex_t mu;
    char date[9];
    uint8_t key[32];
} sigv4_key_cache_t;

void sigv4_key_cache_init(sigv4_key_cache_t *c);
void sigv4_key_cache_release(sigv4_key_cache_t *c);
/* The signing key for date8, from the cache or derived (and cached). */
void sigv4_key_cached(sigv4_key_cache_t *c, const char *secret, const char *date8, const char *region, const char *service,
                      uint8_t out[32]);

/* Builds the canonical request into creq and the canonical query string (X-Amz-* parameters
 * included, no signature) into query. Returns 0 or ERR_PAYLOAD_TOO_LARGE. */
int sigv4_canonical(const sigv4_params_t *p, buf_t *creq, buf_t *query);

/* Builds the string to sign from a canonical request. */
int sigv4_string_to_sign(const sigv4_params_t *p, const buf_t *creq, buf_t *sts);

/* Presigns: writes the URL's query string into query (see sigv4_url_query), using signing_key
 * (from sigv4_derive_key or the cache). sig_hex (65 bytes) receives the signature unless NULL. */
int sigv4_presign(const sigv4_params_t *p, const uint8_t signing_key[32], buf_t *query, char *sig_hex);

/* Writes a presigned URL's query in the order botocore's generate_presigned_url uses: the
 * operation parameters, then X-Amz-Algorithm, -Credential, -Date, -SignedHeaders, -Expires and
 * -Signature. (The signature itself covers the sorted canonical query.) */
int sigv4_url_query(const sigv4_params_t *p, const char *sig_hex, buf_t *query);

/* Appends s encoded for a canonical URI: unreserved bytes and '/' as they are, the rest %XX. */
int sigv4_encode_path(buf_t *b, const char *s, size_t len);

#endif
