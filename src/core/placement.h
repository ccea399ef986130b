/*
 * placement.h - where new objects go and which copy a read uses (DESIGN.md "Placement").
 *
 * Pure functions: no I/O, no clock, no global state; the same inputs always give the same
 * answer. Residency is decided here, and nowhere is a store outside `allowed` ever returned.
 *
 * New objects: candidates are stores that are `active`, have weight > 0, whose country is in
 * `allowed`, and whose provider can sign. They are ranked in tiers: same region as the client's
 * hint, then same continent as the hint, then the rest; within a tier by weighted rendezvous
 * hashing of (object id, store id), so equal stores share objects in proportion to weight and
 * an object's choice is stable. Copies go to distinct stores; after the first copy, a candidate
 * whose provider and region both differ from every chosen store is preferred, then one that
 * differs in either, then tier and score.
 *
 * Reads: among the object's locations, those that are `present`, whose store exists, is not
 * `offline` and lies in `allowed`; nearest by the same tiers, then store weight, then store id.
 */
#ifndef LOCI_CORE_PLACEMENT_H
#define LOCI_CORE_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/juris.h"
#include "core/store.h"
#include "util/arena.h"
#include "util/err.h"

#define PLACEMENT_MAX_COPIES 8

typedef struct placement_input {
    const store_t *stores; /* every known store */
    size_t nstores;
    const cset_t *allowed;   /* the tenant's jurisdictions, narrowed by the request, expanded */
    const char *region_hint; /* client's region (e.g. "eu-west-1"), or NULL */
    const char *object_id;   /* rendezvous key */
    int copies;              /* 1..PLACEMENT_MAX_COPIES */
    /* Returns true if loci can sign for this store's provider. NULL means every provider can. */
    bool (*can_sign)(const store_t *st, void *ctx);
    void *can_sign_ctx;
} placement_input_t;

/* One line of ?explain=1: what placement thought of a store. */
typedef struct placement_explain {
    const store_t *store;
    const char *verdict; /* "chosen", "candidate" or "excluded" */
    const char *reason;  /* e.g. "status offline", "country US outside [DE,FR]", "same region as hint" */
    int tier;            /* 0 same region, 1 same continent, 2 other; -1 when excluded */
    double score;        /* weighted rendezvous score; 0 when excluded */
    int rank;            /* 1-based position among chosen copies; 0 otherwise */
} placement_explain_t;

typedef struct placement_result {
    size_t nchosen;
    const store_t *chosen[PLACEMENT_MAX_COPIES]; /* in copy order; pointers into input->stores */
    placement_explain_t *explain;                /* one per input store when requested, else NULL */
    size_t nexplain;
} placement_result_t;

/* Chooses stores for a new object. When explain_arena is not NULL, out->explain is filled
 * (allocated there). Returns 0, ERR_BAD_REQUEST for copies out of range, or
 * ERR_NO_ELIGIBLE_STORE with a message saying how many stores were needed and eligible. */
int placement_choose_stores(const placement_input_t *in, placement_result_t *out, arena_t *explain_arena, err_t *e);

/* One copy of an object, as placement sees it for a read. */
typedef struct placement_copy {
    const store_t *store; /* NULL if the location names a store that no longer exists */
    bool present;         /* location state is `present` */
} placement_copy_t;

/* Chooses the copy a read should use. Returns 0 and its index in *index; ERR_RESIDENCY_VIOLATION
 * if the only usable copies lie outside `allowed`; ERR_UNAVAILABLE if no copy is usable
 * (stores offline, missing, or no present location). */
int placement_choose_read(const placement_copy_t *copies, size_t n, const cset_t *allowed, const char *region_hint, size_t *index,
                          err_t *e);

#endif
