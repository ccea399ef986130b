/*
 * placement.c - which stores take a new object, and which copy a read uses.
 *
 * The rules are in placement.h. In short: a store is eligible for a new object when it is
 * active, has weight > 0, lies in `allowed` and can be signed for; eligible stores are ranked by
 * tier (same region as the hint, same continent, other) and then by weighted rendezvous hashing,
 * and copies after the first prefer stores that add provider or region diversity. Every
 * comparison ends in the store id, so the order is total and the same inputs always give the
 * same answer.
 */
#include "core/placement.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"

/* Room for the longest cset_format of every country (249 * 3 bytes), for explain. */
#define ALLOWED_FMT_MAX 768
/* Room for `allowed` in an error message, so the message (err_t.msg holds 256 bytes) ends
 * in a whole code or "..." rather than being cut anywhere: EU and EEA fit. */
#define ALLOWED_MSG_MAX 140

/* One eligible store while choosing copies. */
typedef struct cand {
    size_t index; /* into in->stores */
    int tier;
    double score;
    int rank;      /* 1-based copy number once chosen, else 0 */
    int diversity; /* diversity against the earlier copies when it was chosen */
} cand_t;

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

/* ASCII case-insensitive equality: region names are lowercase, hints from clients may not be. */
static bool eq_nocase(const char *a, const char *b)
{
    for (;; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y)
            return false;
        if (x == '\0')
            return true;
    }
}

/* 0 if the store is in the hinted region, 1 if its country is on the hint's continent, else 2.
 * hint_continent is juris_region_continent(hint), passed in so it is computed once. */
static int tier_of(const store_t *st, const char *hint, const char *hint_continent)
{
    if (hint != NULL && st->region != NULL && eq_nocase(st->region, hint))
        return 0;
    const char *c = juris_country_continent(st->country);
    if (hint_continent != NULL && c != NULL && strcmp(c, hint_continent) == 0)
        return 1;
    return 2;
}

/*
 * The weighted rendezvous score of a store for an object: h is the first 8 bytes (big-endian)
 * of SHA-256(object id || 0x00 || store id), u = ((h >> 11) + 0.5) / 2^53 lies in (0,1), and
 * score = weight / -ln(u). The highest score wins, so each store wins a share of objects
 * proportional to its weight, and adding or removing a store moves only the objects it wins
 * or held. SHA-256 makes the hash the same on every platform.
 */
static double rendezvous_score(const char *object_id, const char *store_id, int weight)
{
    size_t on = strlen(object_id), sn = strlen(store_id);
    uint8_t d[SHA256_LEN];
    char stackbuf[256];
    if (on + 1 + sn <= sizeof(stackbuf)) {
        memcpy(stackbuf, object_id, on);
        stackbuf[on] = '\0';
        memcpy(stackbuf + on + 1, store_id, sn);
        sha256(stackbuf, on + 1 + sn, d);
    } else {
        sha256_stream_t *s = sha256_stream_new();
        sha256_stream_update(s, object_id, on + 1); /* with its NUL as the 0x00 separator */
        sha256_stream_update(s, store_id, sn);
        sha256_stream_final(s, d);
    }
    uint64_t h = 0;
    for (int i = 0; i < 8; i++)
        h = h << 8 | d[i];
    double u = ((double)(h >> 11) + 0.5) * 0x1p-53;
    /* (2^53 - 1) + 0.5 rounds to 2^53 in a double; keep u strictly below 1 so -ln(u) > 0 */
    if (u >= 1.0)
        u = 1.0 - 0x1p-53;
    return (double)weight / -log(u);
}

/* Diversity of a candidate against the copies chosen so far: 2 if its provider and its region
 * differ from every chosen store's, 1 if no chosen store shares both, else 0. */
static int diversity(const store_t *st, const store_t *const *chosen, size_t nchosen)
{
    int d = 2;
    for (size_t i = 0; i < nchosen; i++) {
        bool same_provider = strcmp(str_or_empty(st->provider), str_or_empty(chosen[i]->provider)) == 0;
        bool same_region = strcmp(str_or_empty(st->region), str_or_empty(chosen[i]->region)) == 0;
        if (same_provider && same_region)
            return 0;
        if (same_provider || same_region)
            d = 1;
    }
    return d;
}

/* True if candidate a (with diversity da) ranks before b (with db). */
static bool ranks_before(const placement_input_t *in, const cand_t *a, int da, const cand_t *b, int db)
{
    if (da != db)
        return da > db;
    if (a->tier != b->tier)
        return a->tier < b->tier;
    if (a->score != b->score)
        return a->score > b->score;
    int c = strcmp(in->stores[a->index].id, in->stores[b->index].id);
    if (c != 0)
        return c < 0;
    return a->index < b->index;
}

/* Why an ineligible store is excluded, or NULL if it is eligible. The country reason is
 * written into buf; allowed_fmt is the formatted `allowed`, filled on first use. */
static const char *exclusion(const placement_input_t *in, const store_t *st, char *buf, size_t cap, char *allowed_fmt)
{
    if (st->status == STORE_OFFLINE)
        return "status offline";
    if (st->status == STORE_READONLY)
        return "status readonly";
    if (st->status != STORE_ACTIVE)
        return "status unknown";
    if (st->weight <= 0) {
        snprintf(buf, cap, "weight %d", st->weight);
        return buf;
    }
    if (!cset_has(in->allowed, st->country)) {
        if (allowed_fmt[0] == '\0')
            cset_format(in->allowed, allowed_fmt, ALLOWED_FMT_MAX);
        snprintf(buf, cap, "country %.2s outside [%s]", st->country, allowed_fmt);
        return buf;
    }
    if (in->can_sign != NULL && !in->can_sign(st, in->can_sign_ctx)) {
        snprintf(buf, cap, "provider '%s' cannot sign", str_or_empty(st->provider));
        return buf;
    }
    return NULL;
}

/* The explain reason of an eligible store, allocated in a. */
static const char *explain_reason(arena_t *a, const cand_t *c, const char *hint, const char *hint_continent)
{
    const char *why = c->tier == 0             ? "same region as hint"
                      : c->tier == 1           ? NULL
                      : hint == NULL           ? "no region hint"
                      : hint_continent == NULL ? "region hint not recognised"
                                               : "other continent than hint";
    const char *spread = c->rank <= 1        ? ""
                         : c->diversity == 2 ? "; provider and region differ from earlier copies"
                         : c->diversity == 1 ? "; provider or region differs from earlier copies"
                                             : "; same provider and region as an earlier copy";
    if (why == NULL)
        return arena_printf(a, "same continent as hint (%s)%s", hint_continent, spread);
    return arena_printf(a, "%s%s", why, spread);
}

/* Picks in->copies of the ncands (>= copies) candidates into out->chosen, one at a time: each
 * pick is the best remaining candidate by (diversity against the picks so far, tier, score, id);
 * for the first pick diversity is the same for all. copies <= 8, so the repeated scan is cheap. */
static void pick_copies(const placement_input_t *in, cand_t *cands, size_t ncands, placement_result_t *out)
{
    for (int k = 0; k < in->copies; k++) {
        cand_t *best = NULL;
        int best_div = 0;
        for (size_t j = 0; j < ncands; j++) {
            cand_t *c = &cands[j];
            if (c->rank != 0)
                continue;
            int d = diversity(&in->stores[c->index], out->chosen, out->nchosen);
            if (best == NULL || ranks_before(in, c, d, best, best_div)) {
                best = c;
                best_div = d;
            }
        }
        assert(best != NULL);
        best->rank = k + 1;
        best->diversity = best_div;
        out->chosen[out->nchosen++] = &in->stores[best->index];
    }
}

/*
 * Filters the stores into candidates (recording why the others are excluded), then picks the
 * copies. Scratch memory is malloc'd rather than taken from the arena, which may be NULL.
 */
int placement_choose_stores(const placement_input_t *in, placement_result_t *out, arena_t *explain_arena, err_t *e)
{
    memset(out, 0, sizeof(*out));
    if (in->copies < 1 || in->copies > PLACEMENT_MAX_COPIES)
        return err_set(e, ERR_BAD_REQUEST, "copies must be 1-%d, not %d", PLACEMENT_MAX_COPIES, in->copies);
    assert(in->allowed != NULL && in->object_id != NULL && (in->stores != NULL || in->nstores == 0));

    const char *hint = in->region_hint && in->region_hint[0] ? in->region_hint : NULL;
    const char *hint_continent = juris_region_continent(hint);
    char allowed_fmt[ALLOWED_FMT_MAX] = "";
    cand_t *cands = NULL;
    size_t ncands = 0;
    int rc = 0;

    if (in->nstores > 0 && (cands = malloc(in->nstores * sizeof(*cands))) == NULL) {
        rc = err_set(e, ERR_NOMEM, "out of memory");
        goto out;
    }
    if (explain_arena != NULL) {
        out->explain = arena_calloc(explain_arena, in->nstores ? in->nstores : 1, sizeof(*out->explain));
        out->nexplain = in->nstores;
    }
    for (size_t i = 0; i < in->nstores; i++) {
        const store_t *st = &in->stores[i];
        char buf[ALLOWED_FMT_MAX + 64];
        const char *why = exclusion(in, st, buf, sizeof(buf), allowed_fmt);
        if (why != NULL) {
            if (out->explain)
                out->explain[i] = (placement_explain_t){st, "excluded", arena_strdup(explain_arena, why), -1, 0, 0};
            continue;
        }
        cands[ncands++] = (cand_t){i, tier_of(st, hint, hint_continent), rendezvous_score(in->object_id, st->id, st->weight), 0, 0};
    }
    if (ncands < (size_t)in->copies) {
        char msg_fmt[ALLOWED_MSG_MAX];
        cset_format(in->allowed, msg_fmt, sizeof(msg_fmt));
        rc = err_set(e, ERR_NO_ELIGIBLE_STORE, "need %d store%s, %zu eligible in [%s]", in->copies, in->copies == 1 ? "" : "s",
                     ncands, msg_fmt);
    } else {
        pick_copies(in, cands, ncands, out);
    }
    /* explain says why even when placement fails */
    for (size_t j = 0; out->explain != NULL && j < ncands; j++) {
        const cand_t *c = &cands[j];
        out->explain[c->index] = (placement_explain_t){&in->stores[c->index],
                                                       c->rank ? "chosen" : "candidate",
                                                       explain_reason(explain_arena, c, hint, hint_continent),
                                                       c->tier,
                                                       c->score,
                                                       c->rank};
    }
out:
    free(cands);
    return rc;
}

/* --- reads --- */

/* True if copy a is nearer than copy b: lower tier, then higher weight, then lower store id. */
static bool read_before(const placement_copy_t *copies, size_t a, int ta, size_t b, int tb)
{
    const store_t *x = copies[a].store, *y = copies[b].store;
    if (ta != tb)
        return ta < tb;
    if (x->weight != y->weight)
        return x->weight > y->weight;
    int c = strcmp(x->id, y->id);
    if (c != 0)
        return c < 0;
    return a < b;
}

/*
 * A copy is usable when its store exists, is not offline and the location is present; a
 * usable copy outside `allowed` is never returned. The error says which case applied so an
 * operator can tell a residency refusal from an outage.
 */
int placement_choose_read(const placement_copy_t *copies, size_t n, const cset_t *allowed, const char *region_hint, size_t *index,
                          err_t *e)
{
    assert(allowed != NULL && index != NULL && (copies != NULL || n == 0));
    const char *hint = region_hint && region_hint[0] ? region_hint : NULL;
    const char *hint_continent = juris_region_continent(hint);
    size_t missing = 0, absent = 0, offline = 0, best = 0;
    int best_tier = -1;
    const store_t *outside = NULL;

    for (size_t i = 0; i < n; i++) {
        const store_t *st = copies[i].store;
        if (st == NULL) {
            missing++;
            continue;
        }
        if (!copies[i].present) {
            absent++;
            continue;
        }
        if (st->status == STORE_OFFLINE) {
            offline++;
            continue;
        }
        if (!cset_has(allowed, st->country)) {
            if (outside == NULL)
                outside = st;
            continue;
        }
        int t = tier_of(st, hint, hint_continent);
        if (best_tier < 0 || read_before(copies, i, t, best, best_tier)) {
            best = i;
            best_tier = t;
        }
    }
    if (best_tier >= 0) {
        *index = best;
        return 0;
    }
    if (outside != NULL) {
        char fmt[ALLOWED_MSG_MAX];
        cset_format(allowed, fmt, sizeof(fmt));
        return err_set(e, ERR_RESIDENCY_VIOLATION, "store '%.64s' (%.2s) is outside jurisdictions [%s]", outside->id,
                       outside->country, fmt);
    }
    if (n == 0)
        return err_set(e, ERR_UNAVAILABLE, "object has no stored copy");
    return err_set(e, ERR_UNAVAILABLE, "no usable copy: %zu not present, %zu on offline stores, %zu on unknown stores", absent,
                   offline, missing);
}
