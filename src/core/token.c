/*
 * token.c - token formatting and parsing.
 */
#include "core/token.h"

#include <stdio.h>
#include <string.h>

#include "util/crypto.h"
#include "util/enc.h"

void token_make(const char *cell, const uint8_t keyid_rnd[TOKEN_KEYID_RANDOM], const uint8_t secret_rnd[TOKEN_SECRET_RANDOM],
                char out[TOKEN_MAX], char key_id[TOKEN_KEYID_LEN + 1])
{
    char secret[TOKEN_SECRET_LEN + 1];
    base32_encode(keyid_rnd, TOKEN_KEYID_RANDOM, key_id);
    base32_encode(secret_rnd, TOKEN_SECRET_RANDOM, secret);
    snprintf(out, TOKEN_MAX, "lk_%s_%s_%s", cell, key_id, secret);
}

static bool b32(slice_t s, size_t len)
{
    if (s.len != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s.base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')))
            return false;
    }
    return true;
}

int token_parse(slice_t tok, token_parts_t *out)
{
    if (tok.len < 3 || memcmp(tok.base, "lk_", 3) != 0)
        return ERR_UNAUTHORIZED;
    const char *p = tok.base + 3, *end = tok.base + tok.len;
    const char *u1 = memchr(p, '_', (size_t)(end - p));
    if (u1 == NULL)
        return ERR_UNAUTHORIZED;
    const char *u2 = memchr(u1 + 1, '_', (size_t)(end - u1 - 1));
    if (u2 == NULL)
        return ERR_UNAUTHORIZED;
    out->cell = slice_make(p, (size_t)(u1 - p));
    out->key_id = slice_make(u1 + 1, (size_t)(u2 - u1 - 1));
    out->secret = slice_make(u2 + 1, (size_t)(end - u2 - 1));
    if (!id_cell_valid(out->cell.base, out->cell.len) || !b32(out->key_id, TOKEN_KEYID_LEN) || !b32(out->secret, TOKEN_SECRET_LEN))
        return ERR_UNAUTHORIZED;
    return 0;
}

void token_secret_hash(slice_t secret, uint8_t out[32])
{
    sha256(secret.base, secret.len, out);
}

int token_scope_bit(const char *name)
{
    if (strcmp(name, "read") == 0)
        return SCOPE_READ;
    if (strcmp(name, "write") == 0)
        return SCOPE_WRITE;
    return 0;
}

void token_scopes_json(int scopes, char *out, size_t cap)
{
    const char *s = (scopes & SCOPE_READ) && (scopes & SCOPE_WRITE) ? "[\"read\",\"write\"]"
                    : (scopes & SCOPE_READ)                         ? "[\"read\"]"
                    : (scopes & SCOPE_WRITE)                        ? "[\"write\"]"
                                                                    : "[]";
    snprintf(out, cap, "%s", s);
}
