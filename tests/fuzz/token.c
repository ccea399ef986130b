/*
 * token.c - fuzzes API token parsing (src/core/token.c): the Bearer value of every request.
 *
 * Input: the token text. Properties: token_parse accepts exactly lk_<cell>_<16 base32>_<32
 * base32> with a valid cell, its slices lie inside the input, and token_make -> token_parse
 * round-trips (random bytes taken from the input).
 */
#include <stdbool.h>

#include "core/ids.h"
#include "core/token.h"
#include "fuzz.h"

static bool b32(slice_t s)
{
    for (size_t i = 0; i < s.len; i++)
        if (!((s.base[i] >= 'a' && s.base[i] <= 'z') || (s.base[i] >= '2' && s.base[i] <= '7')))
            return false;
    return true;
}

static bool inside(slice_t part, slice_t whole)
{
    return part.base >= whole.base && part.base + part.len <= whole.base + whole.len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    slice_t tok = slice_make((const char *)data, size);
    token_parts_t p;
    if (token_parse(tok, &p) == 0) {
        FZ_CHECK(inside(p.cell, tok) && inside(p.key_id, tok) && inside(p.secret, tok), "slices outside the token");
        FZ_CHECK(id_cell_valid(p.cell.base, p.cell.len), "bad cell accepted");
        FZ_CHECK(p.key_id.len == TOKEN_KEYID_LEN && b32(p.key_id), "bad key id accepted");
        FZ_CHECK(p.secret.len == TOKEN_SECRET_LEN && b32(p.secret), "bad secret accepted");
        FZ_CHECK(size == 3 + p.cell.len + 1 + TOKEN_KEYID_LEN + 1 + TOKEN_SECRET_LEN && size <= TOKEN_MAX - 1,
                 "token of %zu bytes accepted", size);
        uint8_t h[32];
        token_secret_hash(p.secret, h);
    }

    /* making a token from these bytes must give one that parses back to its parts */
    uint8_t kr[TOKEN_KEYID_RANDOM] = {0}, sr[TOKEN_SECRET_RANDOM] = {0};
    memcpy(kr, data, size < sizeof(kr) ? size : sizeof(kr));
    if (size > sizeof(kr))
        memcpy(sr, data + sizeof(kr), size - sizeof(kr) < sizeof(sr) ? size - sizeof(kr) : sizeof(sr));
    char cell[CELL_MAX + 1];
    size_t cl = 0;
    for (size_t i = 0; i < size && cl < CELL_MAX; i++)
        if ((data[i] >= 'a' && data[i] <= 'z') || (data[i] >= '0' && data[i] <= '9'))
            cell[cl++] = (char)data[i];
    if (cl == 0)
        cell[cl++] = 'x';
    cell[cl] = '\0';
    char out[TOKEN_MAX], key_id[TOKEN_KEYID_LEN + 1];
    token_make(cell, kr, sr, out, key_id);
    FZ_CHECK(token_parse(slice_cstr(out), &p) == 0, "made token '%s' does not parse", out);
    FZ_CHECK(slice_eq_cstr(p.cell, cell) && slice_eq_cstr(p.key_id, key_id), "made token '%s' parses to other parts", out);

    char *name = fz_cstr(tok), scopes[24];
    int bit = token_scope_bit(name);
    FZ_CHECK(bit == 0 || bit == SCOPE_READ || bit == SCOPE_WRITE, "scope bit %d", bit);
    token_scopes_json(size ? data[0] : 0, scopes, sizeof(scopes));
    free(name);
    return 0;
}
