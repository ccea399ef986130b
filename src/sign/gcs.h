/*
 * gcs.h - Google Cloud Storage V4 signing, query (signed URL) form (private to src/sign/ and
 * its tests; the provider itself is sign_gcs in providers.h).
 *
 * The core below builds the canonical request, the string to sign and the URL query of any
 * V4 request (the conformance tests need headers and parameters loci itself never signs);
 * the signer (sign_gcs) holds the key: an RSA service-account key (GOOG4-RSA-SHA256) or an
 * HMAC key (GOOG4-HMAC-SHA256, signing keys derived per day and cached).
 *
 * The rules are those of @google-cloud/storage's URLSigner, which Google's conformance file
 * (tests/vectors/gcs/v4_signatures.json) also checks:
 *   - the signed host is the host name without any port ("localhost:8080" signs
 *     "host:localhost"), while the URL keeps the port as written;
 *   - header names are lowercased and sorted; values are trimmed and runs of two or more
 *     blanks become one space;
 *   - the canonical query holds the X-Goog-* parameters (not X-Goog-Signature) and the
 *     caller's, each name and value percent-encoded (RFC 3986 unreserved bytes stay), sorted
 *     by encoded name; the URL lists X-Goog-Algorithm, -Credential, -Date, -Expires,
 *     -SignedHeaders, then the caller's parameters in the caller's order, then X-Goog-Signature;
 *   - the payload line is UNSIGNED-PAYLOAD unless an x-goog-content-sha256 digest is given.
 */
#ifndef LOCI_SIGN_GCS_H
#define LOCI_SIGN_GCS_H

#include <stddef.h>
#include <stdint.h>

#include "sign/sign.h"
#include "util/buf.h"
#include "util/err.h"

#define GCS_ALG_RSA          "GOOG4-RSA-SHA256"
#define GCS_ALG_HMAC         "GOOG4-HMAC-SHA256"
#define GCS_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

typedef struct gcs_kv {
    const char *name;
    const char *value;
} gcs_kv_t;

typedef struct gcs_v4_params {
    const char *method;
    const char *host;      /* the signed Host value: host name only, no port */
    const char *path;      /* the canonical URI, already percent-encoded */
    const gcs_kv_t *query; /* the caller's query parameters, raw (encoded here), in URL order */
    size_t nquery;
    const gcs_kv_t *headers; /* headers to sign besides host: names in any case, raw values */
    size_t nheaders;
    const char *algorithm;     /* GCS_ALG_RSA or GCS_ALG_HMAC (gcs_signer_identity fills it) */
    const char *credential_id; /* service-account email or HMAC access id (likewise) */
    int64_t now;               /* Unix seconds: X-Goog-Date */
    int64_t expires;           /* X-Goog-Expires */
    const char *payload;       /* hex SHA-256 of the body, or NULL for UNSIGNED-PAYLOAD */
} gcs_v4_params_t;

/* Builds the canonical request into creq. Returns 0 or ERR_PAYLOAD_TOO_LARGE. */
int gcs_v4_canonical(const gcs_v4_params_t *p, buf_t *creq);

/* Builds the string to sign of canonical request creq into sts. Returns 0 or ERR_PAYLOAD_TOO_LARGE. */
int gcs_v4_string_to_sign(const gcs_v4_params_t *p, const buf_t *creq, buf_t *sts);

/* Appends the signed URL's query (without '?') for signature sig_hex to query, in the order
 * @google-cloud/storage writes it. Returns 0 or ERR_PAYLOAD_TOO_LARGE. */
int gcs_v4_url_query(const gcs_v4_params_t *p, const char *sig_hex, buf_t *query);

/* Derives the HMAC signing key for (secret, YYYYMMDD): HMAC chain over "GOOG4"+secret, the
 * date, "auto", "storage" and "goog4_request". */
void gcs_hmac_derive_key(const char *secret, const char *date8, uint8_t out[32]);

/* Sets p's algorithm and credential id to those of s, a signer of provider "gcs". */
void gcs_signer_identity(const signer_t *s, gcs_v4_params_t *p);

/* Signs p with s's key (RSA: PKCS#1 v1.5 over SHA-256; HMAC: the day's derived key) and
 * appends the lowercase hex signature to sig_hex. p's algorithm and credential must be s's.
 * Safe to call from many threads at once. Returns 0, or ERR_INTERNAL if OpenSSL fails. */
int gcs_sign(signer_t *s, const gcs_v4_params_t *p, buf_t *sig_hex, err_t *e);

#endif
