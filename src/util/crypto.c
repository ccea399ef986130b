/*
 * crypto.c - OpenSSL EVP wrappers.
 */
#include "util/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/enc.h"
#include "util/err.h"

#define AEAD_VERSION 1

/*
 * SHA-256 and HMAC-SHA256 are on every request's path (token hashes, SigV4 signing: about a
 * dozen digests per signed URL). The one-shot EVP_Digest() and HMAC() fetch the algorithm and
 * allocate a context on every call, which cost more than the hashing itself; here the
 * algorithm is fetched once and each thread reuses one digest context (freed when the thread
 * ends).
 */
static EVP_MD *sha256_md;
static EVP_CIPHER *gcm_cipher; /* (AES-256-GCM, for aead_seal/open below) */
static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
static pthread_key_t md_key, gcm_key;

static void md_ctx_free(void *p)
{
    EVP_MD_CTX_free(p);
}

static void gcm_ctx_free(void *p)
{
    EVP_CIPHER_CTX_free(p);
}

static void *md_ctx_new(void)
{
    return EVP_MD_CTX_new();
}

static void *gcm_ctx_new(void)
{
    return EVP_CIPHER_CTX_new();
}

static void setup(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    gcm_cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    if (sha256_md == NULL || gcm_cipher == NULL || pthread_key_create(&md_key, md_ctx_free) != 0 ||
        pthread_key_create(&gcm_key, gcm_ctx_free) != 0)
        abort();
}

/* This thread's object under *key, made on first use (freed when the thread ends). */
static void *thread_object(const pthread_key_t *key, void *(*make)(void))
{
    pthread_once(&setup_once, setup);
    void *p = pthread_getspecific(*key);
    if (p == NULL) {
        if ((p = make()) == NULL || pthread_setspecific(*key, p) != 0)
            abort();
    }
    return p;
}

static EVP_MD_CTX *thread_ctx(void)
{
    return thread_object(&md_key, md_ctx_new);
}

/* SHA-256 over two pieces (either may be empty). */
static void sha256_2(const void *a, size_t an, const void *b, size_t bn, uint8_t out[SHA256_LEN])
{
    EVP_MD_CTX *ctx = thread_ctx();
    unsigned int len = SHA256_LEN;
    if (EVP_DigestInit_ex2(ctx, sha256_md, NULL) != 1 || (an && EVP_DigestUpdate(ctx, a, an) != 1) ||
        (bn && EVP_DigestUpdate(ctx, b, bn) != 1) || EVP_DigestFinal_ex(ctx, out, &len) != 1)
        abort();
}

void sha256(const void *data, size_t n, uint8_t out[SHA256_LEN])
{
    sha256_2(data, n, NULL, 0, out);
}

void sha256_hex(const void *data, size_t n, char out[2 * SHA256_LEN + 1])
{
    uint8_t d[SHA256_LEN];
    sha256(data, n, d);
    hex_encode(d, SHA256_LEN, out);
}

struct sha256_stream {
    EVP_MD_CTX *ctx;
};

sha256_stream_t *sha256_stream_new(void)
{
    sha256_stream_t *s = malloc(sizeof(*s));
    if (s == NULL || (s->ctx = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL) != 1) {
        fputs("loci: cannot set up sha256\n", stderr);
        abort();
    }
    return s;
}

void sha256_stream_update(sha256_stream_t *s, const void *data, size_t n)
{
    if (EVP_DigestUpdate(s->ctx, data, n) != 1)
        abort();
}

void sha256_stream_final(sha256_stream_t *s, uint8_t out[SHA256_LEN])
{
    unsigned int len = SHA256_LEN;
    if (EVP_DigestFinal_ex(s->ctx, out, &len) != 1)
        abort();
    EVP_MD_CTX_free(s->ctx);
    free(s);
}

/* HMAC (RFC 2104) on the thread's digest context. */
void hmac_sha256(const void *key, size_t keylen, const void *data, size_t n, uint8_t out[SHA256_LEN])
{
    uint8_t k[64], pad[64], inner[SHA256_LEN];
    memset(k, 0, sizeof(k));
    if (keylen > sizeof(k))
        sha256(key, keylen, k);
    else if (keylen)
        memcpy(k, key, keylen);
    for (size_t i = 0; i < sizeof(pad); i++)
        pad[i] = k[i] ^ 0x36;
    sha256_2(pad, sizeof(pad), data, n, inner);
    for (size_t i = 0; i < sizeof(pad); i++)
        pad[i] = k[i] ^ 0x5c;
    sha256_2(pad, sizeof(pad), inner, sizeof(inner), out);
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(pad, sizeof(pad));
}

/*
 * Random bytes. Small requests (request and object ids: 8 to 10 bytes, several per request)
 * are served from a per-thread block refilled from RAND_bytes, because a DRBG call costs far
 * more than the bytes; served bytes are wiped from the block. Anything larger (keys, tokens)
 * comes straight from RAND_bytes.
 */
#define RANDOM_POOL       512
#define RANDOM_POOLED_MAX 16

static _Thread_local uint8_t random_pool[RANDOM_POOL];
static _Thread_local size_t random_left;

int crypto_random(void *buf, size_t n)
{
    if (n > RANDOM_POOLED_MAX)
        return RAND_bytes(buf, (int)n) == 1 ? 0 : ERR_INTERNAL;
    if (random_left < n) {
        if (RAND_bytes(random_pool, RANDOM_POOL) != 1)
            return ERR_INTERNAL;
        random_left = RANDOM_POOL;
    }
    uint8_t *p = random_pool + (RANDOM_POOL - random_left);
    memcpy(buf, p, n);
    OPENSSL_cleanse(p, n);
    random_left -= n;
    return 0;
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

/* AES-256-GCM seals every search's cursor: as with SHA-256, the cipher is fetched once and each
 * thread reuses one context (each message initializes it afresh with its key and nonce). */
static EVP_CIPHER_CTX *gcm_ctx(void)
{
    return thread_object(&gcm_key, gcm_ctx_new);
}

int aead_seal(const uint8_t key[AEAD_KEY_LEN], const void *aad, size_t aadlen, const void *pt, size_t n, uint8_t *out)
{
    int rc = ERR_INTERNAL, len;
    EVP_CIPHER_CTX *ctx = gcm_ctx();
    uint8_t *nonce = out + 1, *ct = out + 1 + AEAD_NONCE_LEN;

    out[0] = AEAD_VERSION;
    if (crypto_random(nonce, AEAD_NONCE_LEN) != 0)
        goto out;
    if (EVP_EncryptInit_ex(ctx, gcm_cipher, NULL, key, nonce) != 1)
        goto out;
    if (aadlen && EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)aadlen) != 1)
        goto out;
    if (n && EVP_EncryptUpdate(ctx, ct, &len, pt, (int)n) != 1)
        goto out;
    if (EVP_EncryptFinal_ex(ctx, ct + n, &len) != 1)
        goto out;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, AEAD_TAG_LEN, ct + n) != 1)
        goto out;
    rc = 0;
out:
    return rc;
}

int aead_open(const uint8_t key[AEAD_KEY_LEN], const void *aad, size_t aadlen, const uint8_t *in, size_t inlen, uint8_t *out,
              size_t *outlen)
{
    int rc = ERR_BAD_REQUEST, len;

    if (inlen < AEAD_OVERHEAD || in[0] != AEAD_VERSION)
        return ERR_BAD_REQUEST;
    size_t n = inlen - AEAD_OVERHEAD;
    const uint8_t *nonce = in + 1, *ct = in + 1 + AEAD_NONCE_LEN, *tag = ct + n;
    uint8_t tagcopy[AEAD_TAG_LEN];
    memcpy(tagcopy, tag, AEAD_TAG_LEN);

    EVP_CIPHER_CTX *ctx = gcm_ctx();
    if (EVP_DecryptInit_ex(ctx, gcm_cipher, NULL, key, nonce) != 1)
        goto out;
    if (aadlen && EVP_DecryptUpdate(ctx, NULL, &len, aad, (int)aadlen) != 1)
        goto out;
    if (n && EVP_DecryptUpdate(ctx, out, &len, ct, (int)n) != 1)
        goto out;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, AEAD_TAG_LEN, tagcopy) != 1)
        goto out;
    if (EVP_DecryptFinal_ex(ctx, out + n, &len) != 1)
        goto out;
    *outlen = n;
    rc = 0;
out:
    return rc;
}

void crypto_derive(const uint8_t master[32], const char *purpose, uint8_t out[32])
{
    char label[128];
    int n = snprintf(label, sizeof(label), "loci/%s", purpose);
    hmac_sha256(master, 32, label, (size_t)n < sizeof(label) ? (size_t)n : sizeof(label) - 1, out);
}

int ed25519_public(const uint8_t priv[ED25519_KEY_LEN], uint8_t pub[ED25519_KEY_LEN])
{
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, ED25519_KEY_LEN);
    size_t len = ED25519_KEY_LEN;
    int rc = k && EVP_PKEY_get_raw_public_key(k, pub, &len) == 1 && len == ED25519_KEY_LEN ? 0 : ERR_INTERNAL;
    EVP_PKEY_free(k);
    return rc;
}

int ed25519_sign(const uint8_t priv[ED25519_KEY_LEN], const void *msg, size_t n, uint8_t sig[ED25519_SIG_LEN])
{
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, ED25519_KEY_LEN);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t len = ED25519_SIG_LEN;
    int rc = k && ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) == 1 && EVP_DigestSign(ctx, sig, &len, msg, n) == 1 &&
                     len == ED25519_SIG_LEN
                 ? 0
                 : ERR_INTERNAL;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    return rc;
}

bool ed25519_verify(const uint8_t pub[ED25519_KEY_LEN], const void *msg, size_t n, const uint8_t *sig, size_t siglen)
{
    if (siglen != ED25519_SIG_LEN)
        return false;
    EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, ED25519_KEY_LEN);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = k && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) == 1 && EVP_DigestVerify(ctx, sig, siglen, msg, n) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    return ok;
}

int ed25519_public_pem(const uint8_t pub[ED25519_KEY_LEN], char *out, size_t cap)
{
    EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, ED25519_KEY_LEN);
    BIO *bio = BIO_new(BIO_s_mem());
    int rc = ERR_INTERNAL;
    if (k && bio && PEM_write_bio_PUBKEY(bio, k) == 1) {
        char *p;
        long n = BIO_get_mem_data(bio, &p);
        if (n > 0 && (size_t)n < cap) {
            memcpy(out, p, (size_t)n);
            out[n] = '\0';
            rc = 0;
        }
    }
    BIO_free(bio);
    EVP_PKEY_free(k);
    return rc;
}

int ed25519_public_parse(const char *text, uint8_t pub[ED25519_KEY_LEN])
{
    if (strstr(text, "-----BEGIN PUBLIC KEY-----") != NULL) {
        BIO *bio = BIO_new_mem_buf(text, -1);
        EVP_PKEY *k = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
        size_t len = ED25519_KEY_LEN;
        int rc =
            k && EVP_PKEY_get_id(k) == EVP_PKEY_ED25519 && EVP_PKEY_get_raw_public_key(k, pub, &len) == 1 && len == ED25519_KEY_LEN
                ? 0
                : ERR_BAD_REQUEST;
        EVP_PKEY_free(k);
        BIO_free(bio);
        return rc;
    }
    uint8_t raw[64];
    size_t n, len = strlen(text);
    while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
        len--;
    if (len > 60 || base64_decode(text, len, raw, &n) != 0 || n != ED25519_KEY_LEN)
        return ERR_BAD_REQUEST;
    memcpy(pub, raw, ED25519_KEY_LEN);
    return 0;
}
