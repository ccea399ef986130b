/*
 * ids.h - object and upload ids: "<cell>.<ULID>".
 *
 * A ULID is 26 Crockford base32 characters: 48 bits of milliseconds since the epoch then 80
 * random bits, so ids sort by creation time and need no global counter (no hot row). The cell
 * prefix lets any cell tell where an id belongs without global state. Pure functions: the
 * caller supplies the time and the random bytes.
 */
#ifndef LOCI_CORE_IDS_H
#define LOCI_CORE_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/slice.h"

#define CELL_MAX      16 /* cell names: 1-16 of [a-z0-9] */
#define ULID_LEN      26
#define ID_MAX        (CELL_MAX + 1 + ULID_LEN + 1) /* with NUL */
#define ID_RANDOM_LEN 10

/* True if s is a valid cell name. */
bool id_cell_valid(const char *s, size_t len);

/* Writes "<cell>.<ULID>" for time ms and 10 random bytes into out (ID_MAX bytes). */
void id_make(char out[ID_MAX], const char *cell, int64_t ms, const uint8_t rnd[ID_RANDOM_LEN]);

/* Parses an id: returns true and sets *cell (a slice of s) when s is "<valid cell>.<ULID>". */
bool id_parse(slice_t s, slice_t *cell);

/* The millisecond timestamp encoded in a valid id's ULID. */
int64_t id_time_ms(slice_t id);

#endif
