/*
 * ids.c - ULID encoding with a cell prefix.
 */
#include "core/ids.h"

#include <string.h>

static const char CROCKFORD[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

bool id_cell_valid(const char *s, size_t len)
{
    if (len == 0 || len > CELL_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

void id_make(char out[ID_MAX], const char *cell, int64_t ms, const uint8_t rnd[ID_RANDOM_LEN])
{
    size_t cl = strlen(cell);
    if (cl > CELL_MAX)
        cl = CELL_MAX;
    memcpy(out, cell, cl);
    out[cl] = '.';
    char *u = out + cl + 1;
    /* 128 bits = 48-bit time || 80 random bits, written as 26 base32 digits (the top 2 bits are zero) */
    uint8_t b[16];
    uint64_t t = (uint64_t)ms & 0xffffffffffffULL;
    for (int i = 0; i < 6; i++)
        b[i] = (uint8_t)(t >> (40 - 8 * i));
    memcpy(b + 6, rnd, ID_RANDOM_LEN);
    int bit = -2; /* position in the 128-bit string of the current digit's first bit */
    for (int i = 0; i < ULID_LEN; i++, bit += 5) {
        unsigned v = 0;
        for (int k = 0; k < 5; k++) {
            int p = bit + k;
            unsigned x = p < 0 ? 0 : (b[p / 8] >> (7 - p % 8)) & 1;
            v = v << 1 | x;
        }
        u[i] = CROCKFORD[v];
    }
    u[ULID_LEN] = '\0';
}

static int crockford_val(char c)
{
    const char *p = c ? strchr(CROCKFORD, c) : NULL;
    return p ? (int)(p - CROCKFORD) : -1;
}

bool id_parse(slice_t s, slice_t *cell)
{
    if (s.len < ULID_LEN + 2)
        return false;
    size_t cl = s.len - ULID_LEN - 1;
    if (s.base[cl] != '.' || !id_cell_valid(s.base, cl))
        return false;
    const char *u = s.base + cl + 1;
    if (crockford_val(u[0]) < 0 || crockford_val(u[0]) > 7)
        return false;
    for (size_t i = 0; i < ULID_LEN; i++)
        if (crockford_val(u[i]) < 0)
            return false;
    if (cell)
        *cell = slice_make(s.base, cl);
    return true;
}

int64_t id_time_ms(slice_t id)
{
    const char *u = id.base + id.len - ULID_LEN;
    uint64_t t = 0;
    for (int i = 0; i < 10; i++)
        t = t << 5 | (uint64_t)crockford_val(u[i]);
    return (int64_t)(t & 0xffffffffffffULL);
}
