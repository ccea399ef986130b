/*
 * token.h - tenant API tokens: "lk_<cell>_<keyid>_<secret>".
 *
 * keyid is 16 and secret 32 lowercase base32 characters (10 and 20 random bytes). loci stores
 * only SHA-256(secret); the token is shown once. Scopes are a bit set. Pure functions.
 */
#ifndef LOCI_CORE_TOKEN_H
#define LOCI_CORE_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ids.h"
#include "util/err.h"
#include "util/slice.h"

#define TOKEN_KEYID_LEN     16
#define TOKEN_SECRET_LEN    32
#define TOKEN_KEYID_RANDOM  10
#define TOKEN_SECRET_RANDOM 20
#define TOKEN_MAX           (3 + CELL_MAX + 1 + TOKEN_KEYID_LEN + 1 + TOKEN_SECRET_LEN + 1)

enum {
    SCOPE_READ = 1,
    SCOPE_WRITE = 2,
};

typedef struct token_parts {
    slice_t cell;
    slice_t key_id;
    slice_t secret;
} token_parts_t;

/* Builds a token and its key id from random bytes. out needs TOKEN_MAX bytes, key_id
 * TOKEN_KEYID_LEN + 1. */
void token_make(const char *cell, const uint8_t keyid_rnd[TOKEN_KEYID_RANDOM], const uint8_t secret_rnd[TOKEN_SECRET_RANDOM],
                char out[TOKEN_MAX], char key_id[TOKEN_KEYID_LEN + 1]);

/* Splits a token into its parts (slices of tok). Returns 0 or ERR_UNAUTHORIZED if malformed. */
int token_parse(slice_t tok, token_parts_t *out);

/* SHA-256 of the secret, the value stored in the database. */
void token_secret_hash(slice_t secret, uint8_t out[32]);

/* Parses a scope name ("read"/"write") into its bit; 0 if unknown. */
int token_scope_bit(const char *name);
/* Writes the scopes as a JSON array into a caller buffer of at least 24 bytes. */
void token_scopes_json(int scopes, char *out, size_t cap);

#endif
