/*
 * crypto.c - OpenSSL EVP wrappers.
 */
#include "util/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/enc.h"
#include "util/err.h"

#define AEAD_VERSION 1

void sha256(const void *data, size_t n, uint8_t out[SHA256_LEN])
{
    unsigned int len = SHA256_LEN;
    if (EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) != 1)
        abort();
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

void hmac_sha256(const void *key, size_t keylen, const void *data, size_t n, uint8_t out[SHA256_LEN])
{
    unsigned int len = SHA256_LEN;
    if (HMAC(EVP_sha256(), key, (int)keylen, data, n, out, &len) == NULL)
        abort();
}

int crypto_random(void *buf, size_t n)
{
    return RAND_bytes(buf, (int)n) == 1 ? 0 : ERR_INTERNAL;
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

int aead_seal(const uint8_t key[AEAD_KEY_LEN], const void *aad, size_t aadlen, const void *pt, size_t n, uint8_t *out)
{
    int rc = ERR_INTERNAL, len;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    uint8_t *nonce = out + 1, *ct = out + 1 + AEAD_NONCE_LEN;

    out[0] = AEAD_VERSION;
    if (ctx == NULL || crypto_random(nonce, AEAD_NONCE_LEN) != 0)
        goto out;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1)
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
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

int aead_open(const uint8_t key[AEAD_KEY_LEN], const void *aad, size_t aadlen, const uint8_t *in, size_t inlen, uint8_t *out,
              size_t *outlen)
{
    int rc = ERR_BAD_REQUEST, len;
    EVP_CIPHER_CTX *ctx = NULL;

    if (inlen < AEAD_OVERHEAD || in[0] != AEAD_VERSION)
        return ERR_BAD_REQUEST;
    size_t n = inlen - AEAD_OVERHEAD;
    const uint8_t *nonce = in + 1, *ct = in + 1 + AEAD_NONCE_LEN, *tag = ct + n;
    uint8_t tagcopy[AEAD_TAG_LEN];
    memcpy(tagcopy, tag, AEAD_TAG_LEN);

    if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
        return ERR_INTERNAL;
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1)
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
    EVP_CIPHER_CTX_free(ctx);
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
