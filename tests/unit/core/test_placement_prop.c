/*
 * test_placement_prop.c - randomized property tests of placement (fixed seeds,
 * so every run is the same): whatever the stores, policies, hints and copy
 * counts, placement never returns a store outside the rules, and fails exactly
 * when it must.
 */
#include <stdio.h>
#include <string.h>

#include "core/placement.h"
#include "unit/core/placement_fixture.h"
#include "unit/test.h"
#include "util/arena.h"

#define ITERATIONS 10000
#define MAX_STORES 14

static const char *const providers[] = {"s3", "gcs", "azure", "swift", "local"};
#define NPROVIDERS (sizeof(providers) / sizeof(providers[0]))
static const char *const regions[] = {"eu-west-1",      "eu-central-1",   "europe-west3", "westeurope", "us-east-1",
                                      "us-central1",    "eastus",         "sa-east-1",    "af-south-1", "me-central-1",
                                      "ap-southeast-2", "ap-northeast-1", "local"};
#define NREGIONS (sizeof(regions) / sizeof(regions[0]))

/* splitmix64: small, good enough, and the same everywhere. */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static size_t below(uint64_t *s, size_t n)
{
    return (size_t)(next_rand(s) % n);
}

static bool chance(uint64_t *s, int percent)
{
    return below(s, 100) < (size_t)percent;
}

/* Every assigned country code, from the table itself. */
typedef struct world {
    char cc[249][3];
    size_t n;
    juris_groups_t groups;
} world_t;

static void world_init(world_t *w)
{
    char cc[3] = {0};
    w->n = 0;
    for (cc[0] = 'A'; cc[0] <= 'Z'; cc[0]++)
        for (cc[1] = 'A'; cc[1] <= 'Z'; cc[1]++)
            if (juris_is_country(cc) && w->n < 249)
                memcpy(w->cc[w->n++], cc, 3);
    juris_groups_init(&w->groups);
    const char *dach[] = {"DE", "AT", "CH"}, *five[] = {"US", "GB", "CA", "AU", "NZ"}, *mixed[] = {"DACH", "FIVE_EYES", "JP"};
    juris_groups_add(&w->groups, "DACH", dach, 3, NULL);
    juris_groups_add(&w->groups, "FIVE_EYES", five, 5, NULL);
    juris_groups_add(&w->groups, "DACH_5EYES_JP", mixed, 3, NULL);
}

/* A random set of 1-3 jurisdictions: countries or groups. */
static void random_policy(uint64_t *r, const world_t *w, cset_t *out)
{
    static const char *const groups[] = {"EU", "EEA", "DACH", "FIVE_EYES", "DACH_5EYES_JP"};
    const char *codes[3];
    size_t n = 1 + below(r, 3);
    for (size_t i = 0; i < n; i++)
        codes[i] = chance(r, 50) ? w->cc[below(r, w->n)] : groups[below(r, 5)];
    if (juris_expand(&w->groups, codes, n, out, NULL) != 0) {
        test_fail(__FILE__, __LINE__, "juris_expand failed on a generated policy");
        cset_clear(out);
    }
}

/* Lists the countries of s in out (249 entries); returns how many. */
static size_t members(const world_t *w, const cset_t *s, const char **out)
{
    size_t n = 0;
    for (size_t i = 0; i < w->n; i++)
        if (cset_has(s, w->cc[i]))
            out[n++] = w->cc[i];
    return n;
}

/* One generated placement problem. */
typedef struct pcase {
    store_t stores[MAX_STORES];
    char ids[MAX_STORES][24];
    size_t n;
    cset_t allowed;
    const char *hint;
    char hint_buf[3];
    int copies;
    unsigned refused; /* bit i: providers[i] cannot sign */
    bool have_can_sign;
    char oid[32];
} pcase_t;

static void random_case(uint64_t *r, const world_t *w, pcase_t *c, int iter)
{
    memset(c, 0, sizeof(*c));
    const char *inside[249];
    size_t ninside;
    random_policy(r, w, &c->allowed);
    ninside = members(w, &c->allowed, inside);
    if (chance(r, 40)) { /* the request narrows: to a few of the tenant's countries, or by another policy */
        cset_t want;
        cset_clear(&want);
        if (ninside && chance(r, 70))
            for (size_t k = 1 + below(r, 3); k > 0; k--)
                cset_add(&want, inside[below(r, ninside)]);
        else
            random_policy(r, w, &want);
        cset_intersect(&c->allowed, &want);
        ninside = members(w, &c->allowed, inside);
    }

    c->n = below(r, MAX_STORES + 1);
    for (size_t i = 0; i < c->n; i++) {
        store_t *s = &c->stores[i];
        /* mostly unique ids, sometimes a duplicate */
        snprintf(c->ids[i], sizeof(c->ids[i]), "st%02zu", chance(r, 5) && i > 0 ? below(r, i) : i);
        s->id = c->ids[i];
        s->provider = providers[below(r, NPROVIDERS)];
        s->region = chance(r, 5) ? NULL : regions[below(r, NREGIONS)];
        const char *cc = ninside && chance(r, 75) ? inside[below(r, ninside)] : w->cc[below(r, w->n)];
        if (chance(r, 2))
            cc = chance(r, 50) ? "XX" : "";
        snprintf(s->country, sizeof(s->country), "%s", cc);
        size_t st = below(r, 10);
        s->status = st < 7 ? STORE_ACTIVE : st < 9 ? STORE_READONLY : STORE_OFFLINE;
        s->weight = chance(r, 15) ? 0 : chance(r, 3) ? -1 - (int)below(r, 10) : 1 + (int)below(r, 1000);
    }
    size_t h = below(r, 10);
    if (h < 4) {
        c->hint = regions[below(r, NREGIONS)];
    } else if (h < 6) {
        memcpy(c->hint_buf, w->cc[below(r, w->n)], 3);
        c->hint = c->hint_buf;
    } else if (h < 8) {
        c->hint = NULL;
    } else {
        c->hint = h == 8 ? "" : "somewhere-else-9";
    }
    static const int odd_copies[] = {0, 9, -1, 100};
    size_t k = below(r, 100);
    c->copies = k < 45   ? 1
                : k < 65 ? 2
                : k < 75 ? 3
                : k < 95 ? 4 + (int)below(r, PLACEMENT_MAX_COPIES - 3)
                         : odd_copies[below(r, 4)];
    c->have_can_sign = chance(r, 70);
    for (size_t i = 0; i < NPROVIDERS; i++)
        if (chance(r, 20))
            c->refused |= 1u << i;
    snprintf(c->oid, sizeof(c->oid), "eu1.prop-%d", iter);
}

static bool signable(const pcase_t *c, const store_t *st)
{
    if (!c->have_can_sign)
        return true;
    for (size_t i = 0; i < NPROVIDERS; i++)
        if (strcmp(st->provider, providers[i]) == 0)
            return (c->refused & (1u << i)) == 0;
    return false;
}

static bool can_sign_mask(const store_t *st, void *ctx)
{
    return signable(ctx, st);
}

/* The rules of placement.h, written out again independently. */
static bool eligible(const pcase_t *c, const store_t *s)
{
    return s->status == STORE_ACTIVE && s->weight > 0 && cset_has(&c->allowed, s->country) && signable(c, s);
}

static int tier(const store_t *s, const char *hint)
{
    if (hint == NULL || hint[0] == '\0')
        return 2;
    if (s->region && strcmp(s->region, hint) == 0)
        return 0;
    const char *hc = juris_region_continent(hint), *sc = juris_country_continent(s->country);
    return hc && sc && strcmp(hc, sc) == 0 ? 1 : 2;
}

static bool same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static int diversity(const store_t *s, const store_t *const *chosen, size_t n)
{
    int d = 2;
    for (size_t i = 0; i < n; i++) {
        bool p = same(s->provider, chosen[i]->provider), g = same(s->region, chosen[i]->region);
        if (p && g)
            return 0;
        if (p || g)
            d = 1;
    }
    return d;
}

static void check_case(const pcase_t *c, const placement_result_t *res, int rc, const err_t *e, int iter)
{
    size_t neligible = 0;
    for (size_t i = 0; i < c->n; i++)
        neligible += eligible(c, &c->stores[i]);

    if (c->copies < 1 || c->copies > PLACEMENT_MAX_COPIES) {
        if (rc != ERR_BAD_REQUEST || res->nchosen != 0)
            test_fail(__FILE__, __LINE__, "iteration %d: copies %d gave %s", iter, c->copies, err_name(rc));
        return;
    }
    if (neligible < (size_t)c->copies) {
        char want[32];
        snprintf(want, sizeof(want), "need %d store", c->copies);
        if (rc != ERR_NO_ELIGIBLE_STORE || res->nchosen != 0 || strncmp(e->msg, want, strlen(want)) != 0)
            test_fail(__FILE__, __LINE__, "iteration %d: %zu eligible for %d copies gave %s '%s'", iter, neligible, c->copies,
                      err_name(rc), e->msg);
        return;
    }
    if (rc != 0 || res->nchosen != (size_t)c->copies) {
        test_fail(__FILE__, __LINE__, "iteration %d: %zu eligible for %d copies gave %s, %zu chosen", iter, neligible, c->copies,
                  err_name(rc), res->nchosen);
        return;
    }
    for (size_t k = 0; k < res->nchosen; k++) {
        const store_t *s = res->chosen[k];
        if (s < c->stores || s >= c->stores + c->n) {
            test_fail(__FILE__, __LINE__, "iteration %d: copy %zu is not one of the input stores", iter, k);
            return;
        }
        if (s->status != STORE_ACTIVE || s->weight <= 0 || !cset_has(&c->allowed, s->country) || !signable(c, s))
            test_fail(__FILE__, __LINE__, "iteration %d: copy %zu is ineligible store '%s'", iter, k, s->id);
        for (size_t j = 0; j < k; j++)
            if (res->chosen[j] == s)
                test_fail(__FILE__, __LINE__, "iteration %d: store '%s' chosen twice", iter, s->id);
        /* no remaining candidate was better by (diversity, tier) when this copy was
         * picked */
        int dk = diversity(s, res->chosen, k), tk = tier(s, c->hint);
        for (size_t i = 0; i < c->n; i++) {
            const store_t *o = &c->stores[i];
            bool taken = false;
            for (size_t j = 0; j < k; j++)
                taken |= res->chosen[j] == o;
            if (taken || !eligible(c, o))
                continue;
            int d = diversity(o, res->chosen, k), t = tier(o, c->hint);
            if (d > dk || (d == dk && t < tk))
                test_fail(__FILE__, __LINE__,
                          "iteration %d: copy %zu is '%s' (diversity %d, tier %d) over "
                          "'%s' (%d, %d)",
                          iter, k, s->id, dk, tk, o->id, d, t);
        }
    }
}

static void check_explain(const pcase_t *c, const placement_result_t *res, int iter)
{
    if (res->explain == NULL || res->nexplain != c->n) {
        test_fail(__FILE__, __LINE__, "iteration %d: explain has %zu entries for %zu stores", iter, res->nexplain, c->n);
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        const placement_explain_t *x = &res->explain[i];
        const store_t *s = &c->stores[i];
        size_t pos = 0;
        while (pos < res->nchosen && res->chosen[pos] != s)
            pos++;
        const char *want = !eligible(c, s) ? "excluded" : pos < res->nchosen ? "chosen" : "candidate";
        if (x->store != s || x->verdict == NULL || strcmp(x->verdict, want) != 0 || x->reason == NULL)
            test_fail(__FILE__, __LINE__, "iteration %d: explain of '%s' is %s, expected %s", iter, s->id,
                      x->verdict ? x->verdict : "(null)", want);
        else if (strcmp(want, "excluded") == 0
                     ? (x->tier != -1 || x->score != 0 || x->rank != 0)
                     : (x->tier != tier(s, c->hint) || !(x->score > 0) || x->rank != (pos < res->nchosen ? (int)pos + 1 : 0)))
            test_fail(__FILE__, __LINE__, "iteration %d: explain of '%s': tier %d score %g rank %d", iter, s->id, x->tier, x->score,
                      x->rank);
    }
}

TEST(core_placement_property)
{
    static world_t w;
    static pcase_t c;
    uint64_t rng = 20260101;
    arena_t a;
    world_init(&w);
    arena_init(&a);
    size_t ok = 0, none = 0;
    for (int iter = 0; iter < ITERATIONS; iter++) {
        random_case(&rng, &w, &c, iter);
        placement_input_t in = {
            .stores = c.stores,
            .nstores = c.n,
            .allowed = &c.allowed,
            .region_hint = c.hint,
            .object_id = c.oid,
            .copies = c.copies,
            .can_sign = c.have_can_sign ? can_sign_mask : NULL,
            .can_sign_ctx = &c,
        };
        placement_result_t res, again;
        err_t e;
        err_clear(&e);
        bool explain = iter % 2 == 0;
        int rc = placement_choose_stores(&in, &res, explain ? &a : NULL, &e);
        check_case(&c, &res, rc, &e, iter);
        if (explain && rc != ERR_BAD_REQUEST)
            check_explain(&c, &res, iter);
        /* the same inputs give the same answer, with or without explain */
        int rc2 = placement_choose_stores(&in, &again, explain ? NULL : &a, NULL);
        if (rc2 != rc || again.nchosen != res.nchosen || memcmp(again.chosen, res.chosen, res.nchosen * sizeof(res.chosen[0])) != 0)
            test_fail(__FILE__, __LINE__, "iteration %d: a second run chose differently", iter);
        ok += rc == 0;
        none += rc == ERR_NO_ELIGIBLE_STORE;
        arena_release(&a);
    }
    /* the generator reaches both outcomes often */
    CHECK(ok > ITERATIONS / 5);
    CHECK(none > ITERATIONS / 10);
}

TEST(core_placement_read_property)
{
    static world_t w;
    static pcase_t c;
    uint64_t rng = 4242;
    world_init(&w);
    size_t outcomes[3] = {0};
    for (int iter = 0; iter < ITERATIONS; iter++) {
        random_case(&rng, &w, &c, iter);
        placement_copy_t copies[8];
        size_t n = below(&rng, 9);
        for (size_t i = 0; i < n; i++) {
            copies[i].store = c.n == 0 || chance(&rng, 10) ? NULL : &c.stores[below(&rng, c.n)];
            copies[i].present = chance(&rng, 80);
        }
        size_t idx = SIZE_MAX;
        err_t e;
        int rc = placement_choose_read(copies, n, &c.allowed, c.hint, &idx, &e);

        bool any_usable = false, any_allowed = false;
        int best_tier = 3;
        for (size_t i = 0; i < n; i++) {
            const store_t *s = copies[i].store;
            if (s == NULL || !copies[i].present || s->status == STORE_OFFLINE)
                continue;
            any_usable = true;
            if (!cset_has(&c.allowed, s->country))
                continue;
            any_allowed = true;
            if (tier(s, c.hint) < best_tier)
                best_tier = tier(s, c.hint);
        }
        if (any_allowed) {
            outcomes[0]++;
            const store_t *s = rc == 0 && idx < n ? copies[idx].store : NULL;
            if (s == NULL || !copies[idx].present || s->status == STORE_OFFLINE || !cset_has(&c.allowed, s->country)) {
                test_fail(__FILE__, __LINE__, "iteration %d: read chose %s, index %zu", iter, err_name(rc), idx);
                continue;
            }
            if (tier(s, c.hint) != best_tier)
                test_fail(__FILE__, __LINE__, "iteration %d: read chose tier %d, best is %d", iter, tier(s, c.hint), best_tier);
            for (size_t i = 0; i < n; i++) {
                const store_t *o = copies[i].store;
                if (o && copies[i].present && o->status != STORE_OFFLINE && cset_has(&c.allowed, o->country) &&
                    tier(o, c.hint) == best_tier && o->weight > s->weight)
                    test_fail(__FILE__, __LINE__, "iteration %d: read chose weight %d over %d", iter, s->weight, o->weight);
            }
        } else if (any_usable) {
            outcomes[1]++;
            if (rc != ERR_RESIDENCY_VIOLATION)
                test_fail(__FILE__, __LINE__, "iteration %d: copies only outside allowed gave %s", iter, err_name(rc));
        } else {
            outcomes[2]++;
            if (rc != ERR_UNAVAILABLE)
                test_fail(__FILE__, __LINE__, "iteration %d: no usable copy gave %s", iter, err_name(rc));
        }
    }
    for (int i = 0; i < 3; i++)
        CHECK(outcomes[i] > ITERATIONS / 20);
}
