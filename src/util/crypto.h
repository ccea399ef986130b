/*
 * crypto.h - the few primitives loci uses, on OpenSSL EVP: SHA-256, HMAC-SHA256,
 * AES-256-GCM, random bytes and constant-time comparison.
 */
#ifndef LOCI_UTIL_CRYPTO_H
#define LOCI_UTIL_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN     32
#define AEAD_KEY_LEN   32
#define AEAD_NONCE_LEN 12
#define AEAD_TAG_LEN   16
/* bytes aead_seal adds to the plaintext: version byte, nonce, tag */
#define AEAD_OVERHEAD (1 + AEAD_NONCE_LEN + AEAD_TAG_LEN)

void sha256(const void *data, size_t n, uint8_t out[SHA256_LEN]);
/* Writes the lowercase hex SHA-256 of data and a NUL (65 bytes). */
void sha256_hex(const void *data, size_t n, char out[2 * SHA256_LEN + 1]);

/* Incremental SHA-256 for streams. */
typedef struct sha256_stream sha256_stream_t;
/* Returns a new stream (free with sha256_stream_final). Aborts on out of memory. */
sha256_stream_t *sha256_stream_new(void);
void sha256_stream_update(sha256_stream_t *s, const void *data, size_t n);
/* Writes the digest and frees the stream. */
void sha256_stream_final(sha256_stream_t *s, uint8_t out[SHA256_LEN]);

void hmac_sha256(const void *key, size_t keylen, const void *data, size_t n, uint8_t out[SHA256_LEN]);

/* Fills buf with n cryptographically secure random bytes. Returns 0 or ERR_INTERNAL. */
int crypto_random(void *buf, size_t n);

/* Constant-time equality of two n-byte buffers. */
bool crypto_equal(const void *a, const void *b, size_t n);

/* AES-256-GCM. aead_seal writes version(1) || nonce(12) || ciphertext(n) || tag(16) into out,
 * which needs n + AEAD_OVERHEAD bytes; the nonce is random. aad binds the ciphertext to
 * a context (e.g. the store id) so it cannot be moved to another row. Returns 0 or ERR_INTERNAL. */
int aead_seal(const uint8_t key[AEAD_KEY_LEN], const void *aad, size_t aadlen, const void *pt, size_t n, uint8_t *out);
/* Opens what aead_seal wrote (inlen bytes); out needs inlen - AEAD_OVERHEAD bytes and receives
 * *outlen bytes. Returns 0, or ERR_BAD_REQUEST if the input is malformed or was tampered with. */
int aead_open(const uint8_t key[AEAD_KEY_LEN], const void *aad, size_t aadlen, const uint8_t *in, size_t inlen, uint8_t *out,
              size_t *outlen);

/* Ed25519 (RFC 8032) with raw 32-byte keys and 64-byte signatures. */
#define ED25519_KEY_LEN 32
#define ED25519_SIG_LEN 64
/* Derives the public key of a private key (its 32-byte seed). Returns 0 or ERR_INTERNAL. */
int ed25519_public(const uint8_t priv[ED25519_KEY_LEN], uint8_t pub[ED25519_KEY_LEN]);
int ed25519_sign(const uint8_t priv[ED25519_KEY_LEN], const void *msg, size_t n, uint8_t sig[ED25519_SIG_LEN]);
bool ed25519_verify(const uint8_t pub[ED25519_KEY_LEN], const void *msg, size_t n, const uint8_t *sig, size_t siglen);
/* Reads an Ed25519 public key from PEM (SubjectPublicKeyInfo) or base64 of the raw 32 bytes.
 * Returns 0 or ERR_BAD_REQUEST. */
int ed25519_public_parse(const char *text, uint8_t pub[ED25519_KEY_LEN]);
/* Writes the SubjectPublicKeyInfo PEM of a public key (for tools outside loci) into out (cap bytes). */
int ed25519_public_pem(const uint8_t pub[ED25519_KEY_LEN], char *out, size_t cap);

/* Derives a 32-byte subkey for a named purpose: HMAC-SHA256(master, "loci/" || purpose). */
void crypto_derive(const uint8_t master[32], const char *purpose, uint8_t out[32]);

#endif
