/*
 * azure.h - Azure Blob service SAS with the account key (private to src/sign/ and its tests;
 * the provider itself is sign_azure in providers.h).
 *
 * The core below builds the string to sign, the signature and the query of any blob service
 * SAS of signed version 2020-12-06 or later (the vectors in ../shared/vectors/README.md use
 * versions loci itself does not sign with); the signer (sign_azure) fills it in for loci's
 * requests with AZURE_SAS_VERSION.
 *
 * The rules are those of @azure/storage-blob 12.x (generateBlobSASQueryParameters and the
 * BlobClient URL), which Azure and Azurite verify:
 *   - string to sign, 16 fields joined by '\n': sp, st, se, "/blob/{account}/{container}/{blob}"
 *     (raw names, not encoded), si, sip, spr, sv, sr, snapshot time or version id, ses, rscc,
 *     rscd, rsce, rscl, rsct; absent values are empty lines;
 *   - sig = base64(HMAC-SHA256(base64-decoded account key, string to sign));
 *   - query order sv, spr, st, se, sr, sp, rscc, rscd, rsce, rscl, rsct, sig;
 *   - values and the path's segments (container, blob; '/' stays) percent-encoded as the SDK's
 *     URLs have them: JavaScript's encodeURIComponent (A-Z a-z 0-9 - _ . ! ~ * ' ( ) stay,
 *     the rest %XX, uppercase hex), and then '\'' as %27 too (the WHATWG URL setters add it).
 */
#ifndef LOCI_SIGN_AZURE_H
#define LOCI_SIGN_AZURE_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* The signed version (sv) of loci's SAS: the newest both the installed Azurite (3.35, whose
 * newest API version it is) and @azure/storage-blob accept. The string to sign of a service
 * SAS with the account key is the same for every version from 2020-12-06 on. */
#define AZURE_SAS_VERSION "2025-11-05"
/* spr: Azurite refuses "https" alone over plain http, so loci allows both */
#define AZURE_SAS_PROTOCOL "https,http"
/* the longest signature: base64 of 32 bytes and a NUL */
#define AZURE_SIG_LEN 45

typedef struct azure_sas {
    const char *version;     /* sv, e.g. "2020-12-06" */
    const char *permissions; /* sp, in Azure's order ("racwdxytmei"), e.g. "r", "cw" */
    int64_t start;           /* st, Unix seconds, or -1 to leave it out */
    int64_t expiry;          /* se, Unix seconds */
    const char *account;     /* for the canonicalized resource */
    const char *container;
    const char *blob;     /* raw name */
    const char *protocol; /* spr, or NULL */
    const char *resource; /* sr: "b" for a blob */
    /* response header overrides rscc, rscd, rsce, rscl, rsct; NULL or "" for none */
    const char *cache_control, *content_disposition, *content_encoding, *content_language, *content_type;
} azure_sas_t;

/* Writes p's string to sign into sts. Returns 0 or ERR_PAYLOAD_TOO_LARGE. */
int azure_sas_string_to_sign(const azure_sas_t *p, buf_t *sts);

/* Computes the base64 signature of p under key (the decoded account key) into sig.
 * Returns 0 or ERR_PAYLOAD_TOO_LARGE. */
int azure_sas_sign(const azure_sas_t *p, const uint8_t *key, size_t keylen, char sig[AZURE_SIG_LEN]);

/* Appends p's SAS query with signature sig (without '?') to query, in the SDK's order.
 * Returns 0 or ERR_PAYLOAD_TOO_LARGE. */
int azure_sas_query(const azure_sas_t *p, const char *sig, buf_t *query);

/* Appends s (len bytes) encoded for a URL path: as the SDK's, '/' kept. */
int azure_encode_path(buf_t *b, const char *s, size_t len);

/* Appends s encoded for a query value, as the SDK's. */
int azure_encode_query(buf_t *b, const char *s, size_t len);

#endif
