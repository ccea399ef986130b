/*
 * juris.h - jurisdictions: ISO 3166-1 alpha-2 countries, sets of them, and named groups.
 *
 * A jurisdiction is a country code ("DE") or a group name ("EU"). `EU` (the 27 member
 * states) and `EEA` (EU + IS, LI, NO) are built in; configuration can add more groups.
 * Group names are 3-32 characters of A-Z, 0-9 and '_' so they never collide with a country.
 * Everything here is pure: no I/O, no global state.
 */
#ifndef LOCI_CORE_JURIS_H
#define LOCI_CORE_JURIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* A set of country codes: bit (c0-'A')*26 + (c1-'A'). */
typedef struct cset {
    uint64_t w[11];
} cset_t;

/* True if cc is two uppercase letters that form an assigned ISO 3166-1 alpha-2 code. */
bool juris_is_country(const char *cc);

void cset_clear(cset_t *s);
/* Adds a country; returns false (and adds nothing) if cc is not an assigned country code. */
bool cset_add(cset_t *s, const char *cc);
bool cset_has(const cset_t *s, const char *cc);
void cset_union(cset_t *dst, const cset_t *src);
void cset_intersect(cset_t *dst, const cset_t *src);
bool cset_is_empty(const cset_t *s);
bool cset_is_subset(const cset_t *sub, const cset_t *super);
size_t cset_count(const cset_t *s);
/* Writes the members as "DE,FR,IE" (sorted, NUL-terminated, truncated to cap). */
void cset_format(const cset_t *s, char *out, size_t cap);

#define JURIS_MAX_GROUPS 64

typedef struct juris_group {
    char name[33];
    cset_t members;
} juris_group_t;

/* Named groups: the built-ins plus configured ones. Caller-owned, copied by value. */
typedef struct juris_groups {
    size_t n;
    juris_group_t g[JURIS_MAX_GROUPS];
} juris_groups_t;

/* Sets up g with the built-in groups EU and EEA. */
void juris_groups_init(juris_groups_t *g);
/* Adds (or replaces, except a built-in) a group whose members are countries or already-defined
 * groups. Returns 0, or ERR_BAD_REQUEST with a message in e for a bad name or member. */
int juris_groups_add(juris_groups_t *g, const char *name, const char *const *members, size_t n, err_t *e);
/* Looks up a group by name; NULL if there is none. */
const juris_group_t *juris_groups_find(const juris_groups_t *g, const char *name);
/* True if code is a valid jurisdiction (a country or a known group). */
bool juris_is_valid(const juris_groups_t *g, const char *code);
/* Expands a list of jurisdictions (countries or groups) into one set.
 * Returns 0, or ERR_BAD_REQUEST naming the unknown code. */
int juris_expand(const juris_groups_t *g, const char *const *codes, size_t n, cset_t *out, err_t *e);

/* Continent of a country: "EU", "NA", "SA", "AS", "AF", "OC", "AN"; NULL if unknown. */
const char *juris_country_continent(const char *cc);
/* Continent a provider region name lies on ("eu-west-1", "europe-west3", "westeurope",
 * "us-east-1", "ap-southeast-2", ...); NULL if it cannot be told. */
const char *juris_region_continent(const char *region);

#endif
