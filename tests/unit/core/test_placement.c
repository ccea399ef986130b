/*
 * test_placement.c - placement of new objects and choice of the copy a read
 * uses, rule by rule. The randomized property tests are in
 * test_placement_prop.c.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/placement.h"
#include "unit/core/placement_fixture.h"
#include "unit/test.h"
#include "util/arena.h"

#define NIDS 20000

/* Places object `oid` among stores with no can_sign callback and no explain. */
static int place(const store_t *stores, size_t n, const cset_t *allowed, const char *hint, const char *oid, int copies,
                 placement_result_t *r, err_t *e)
{
    placement_input_t in = {
        .stores = stores, .nstores = n, .allowed = allowed, .region_hint = hint, .object_id = oid, .copies = copies};
    return placement_choose_stores(&in, r, NULL, e);
}

/* The index in stores of the first copy of object number i, or -1 on failure.
 */
static long first_copy(const store_t *stores, size_t n, const cset_t *allowed, const char *hint, long i)
{
    char oid[32];
    placement_result_t r;
    snprintf(oid, sizeof(oid), "eu1.obj-%06ld", i);
    if (place(stores, n, allowed, hint, oid, 1, &r, NULL) != 0 || r.nchosen != 1)
        return -1;
    return (long)(r.chosen[0] - stores);
}

static const placement_explain_t *explain_of(const placement_result_t *r, const char *store_id)
{
    for (size_t i = 0; i < r->nexplain; i++)
        if (strcmp(r->explain[i].store->id, store_id) == 0)
            return &r->explain[i];
    return NULL;
}

TEST(core_placement_exclusions)
{
    store_t stores[] = {
        fx_store("off", "s3", "eu-central-1", "DE", STORE_OFFLINE, 100),
        fx_store("ro", "s3", "eu-central-1", "DE", STORE_READONLY, 100),
        fx_store("w0", "s3", "eu-central-1", "DE", STORE_ACTIVE, 0),
        fx_store("neg", "s3", "eu-central-1", "DE", STORE_ACTIVE, -5),
        fx_store("us", "s3", "us-east-1", "US", STORE_ACTIVE, 100),
        fx_store("gcs", "gcs", "europe-west3", "DE", STORE_ACTIVE, 100),
        fx_store("ok", "s3", "eu-west-3", "FR", STORE_ACTIVE, 100),
    };
    size_t n = sizeof(stores) / sizeof(stores[0]);
    cset_t allowed = fx_set("DE,FR");
    fx_signers_t signers = {.refuse = "gcs"};
    placement_input_t in = {.stores = stores,
                            .nstores = n,
                            .allowed = &allowed,
                            .object_id = "eu1.obj",
                            .copies = 1,
                            .can_sign = fx_can_sign,
                            .can_sign_ctx = &signers};
    placement_result_t r;
    err_t e;
    arena_t a;
    arena_init(&a);
    CHECK_INT(placement_choose_stores(&in, &r, &a, &e), 0);
    CHECK_INT(r.nchosen, 1);
    CHECK(r.chosen[0] == &stores[6]);
    CHECK_INT(signers.calls, 2); /* asked only about stores that passed every other rule */
    CHECK_INT(r.nexplain, n);
    CHECK(r.explain != NULL);
    const char *reasons[] = {
        "status offline", "status readonly", "weight 0", "weight -5", "country US outside [DE,FR]", "provider 'gcs' cannot sign"};
    for (size_t i = 0; r.explain && i < 6; i++) {
        const placement_explain_t *x = &r.explain[i];
        CHECK(x->store == &stores[i]);
        CHECK_STR(x->verdict, "excluded");
        CHECK_STR(x->reason, reasons[i]);
        CHECK_INT(x->tier, -1);
        CHECK(x->score == 0);
        CHECK_INT(x->rank, 0);
    }
    if (r.explain) {
        CHECK_STR(r.explain[6].verdict, "chosen");
        CHECK_INT(r.explain[6].rank, 1);
        CHECK(r.explain[6].score > 0);
    }

    /* no callback: every provider can sign */
    in.can_sign = NULL;
    in.copies = 2;
    CHECK_INT(placement_choose_stores(&in, &r, &a, &e), 0);
    CHECK_INT(r.nchosen, 2);
    CHECK_STR(explain_of(&r, "gcs")->verdict, "chosen");
    CHECK_STR(explain_of(&r, "ok")->verdict, "chosen");

    /* without an arena there is no explain */
    CHECK_INT(placement_choose_stores(&in, &r, NULL, &e), 0);
    CHECK(r.explain == NULL);
    CHECK_INT(r.nexplain, 0);
    arena_release(&a);
}

TEST(core_placement_copies_range)
{
    store_t stores[PLACEMENT_MAX_COPIES + 1];
    char ids[PLACEMENT_MAX_COPIES + 1][16];
    for (int i = 0; i <= PLACEMENT_MAX_COPIES; i++) {
        snprintf(ids[i], sizeof(ids[i]), "s%d", i);
        stores[i] = fx_store(ids[i], "s3", "eu-central-1", "DE", STORE_ACTIVE, 100);
    }
    cset_t allowed = fx_set("DE");
    placement_result_t r;
    err_t e;
    int bad[] = {0, -1, PLACEMENT_MAX_COPIES + 1, 1000};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&e);
        CHECK_INT(place(stores, PLACEMENT_MAX_COPIES + 1, &allowed, NULL, "eu1.obj", bad[i], &r, &e), ERR_BAD_REQUEST);
        CHECK_INT(e.code, ERR_BAD_REQUEST);
        CHECK_INT(r.nchosen, 0);
    }
    CHECK_STR(e.msg, "copies must be 1-8, not 1000");
    CHECK_INT(place(stores, PLACEMENT_MAX_COPIES + 1, &allowed, NULL, "eu1.obj", PLACEMENT_MAX_COPIES, &r, &e), 0);
    CHECK_INT(r.nchosen, PLACEMENT_MAX_COPIES);
    CHECK_INT(place(stores, PLACEMENT_MAX_COPIES + 1, &allowed, NULL, "eu1.obj", 1, &r, &e), 0);
    CHECK_INT(r.nchosen, 1);
}

TEST(core_placement_no_eligible)
{
    store_t stores[] = {
        fx_store("de", "s3", "eu-central-1", "DE", STORE_ACTIVE, 100),
        fx_store("fr", "s3", "eu-west-3", "FR", STORE_OFFLINE, 100),
        fx_store("us", "s3", "us-east-1", "US", STORE_ACTIVE, 100),
    };
    cset_t allowed = fx_set("DE,FR");
    placement_result_t r;
    err_t e;
    arena_t a;
    arena_init(&a);
    placement_input_t in = {.stores = stores, .nstores = 3, .allowed = &allowed, .object_id = "eu1.obj", .copies = 2};
    CHECK_INT(placement_choose_stores(&in, &r, &a, &e), ERR_NO_ELIGIBLE_STORE);
    CHECK_STR(e.msg, "need 2 stores, 1 eligible in [DE,FR]");
    CHECK_INT(r.nchosen, 0);
    /* explain still says why */
    CHECK_INT(r.nexplain, 3);
    CHECK_STR(explain_of(&r, "de")->verdict, "candidate");
    CHECK_STR(explain_of(&r, "fr")->reason, "status offline");
    CHECK_STR(explain_of(&r, "us")->reason, "country US outside [DE,FR]");

    cset_t it = fx_set("IT");
    CHECK_INT(place(stores, 3, &it, NULL, "eu1.obj", 1, &r, &e), ERR_NO_ELIGIBLE_STORE);
    CHECK_STR(e.msg, "need 1 store, 0 eligible in [IT]");
    CHECK_INT(place(NULL, 0, &allowed, NULL, "eu1.obj", 1, &r, &e), ERR_NO_ELIGIBLE_STORE);
    CHECK_STR(e.msg, "need 1 store, 0 eligible in [DE,FR]");
    cset_t none;
    cset_clear(&none);
    CHECK_INT(place(stores, 3, &none, NULL, "eu1.obj", 1, &r, &e), ERR_NO_ELIGIBLE_STORE);
    CHECK_STR(e.msg, "need 1 store, 0 eligible in []");
    /* a long list of countries is shortened in the message, never cut inside a code */
    cset_t world;
    char cc[3] = {0};
    cset_clear(&world);
    for (cc[0] = 'A'; cc[0] <= 'Z'; cc[0]++)
        for (cc[1] = 'A'; cc[1] <= 'Z'; cc[1]++)
            cset_add(&world, cc);
    CHECK_INT(place(stores, 1, &world, NULL, "eu1.obj", 2, &r, &e), ERR_NO_ELIGIBLE_STORE);
    CHECK(strncmp(e.msg, "need 2 stores, 1 eligible in [AD,AE,AF,", 39) == 0);
    CHECK(strlen(e.msg) > 5 && strcmp(e.msg + strlen(e.msg) - 5, ",...]") == 0);
    /* never a store outside the rules, whatever else is there */
    CHECK_INT(place(stores, 3, &allowed, "us-east-1", "eu1.obj", 1, &r, &e), 0);
    CHECK(r.chosen[0] == &stores[0]);
    arena_release(&a);
}

TEST(core_placement_tiers)
{
    store_t stores[] = {
        fx_store("ie", "s3", "eu-west-1", "IE", STORE_ACTIVE, 1),
        fx_store("de", "s3", "eu-central-1", "DE", STORE_ACTIVE, 1000),
        fx_store("us", "s3", "us-east-1", "US", STORE_ACTIVE, 1000),
    };
    cset_t allowed = fx_set("IE,DE,US");
    long count[5][3] = {{0}};
    const char *hints[5] = {"eu-west-1", "eu-north-1", "us-west-2", "westeurope", "DE"};
    long nohint[3] = {0};
    for (long i = 0; i < 2000; i++) {
        for (int h = 0; h < 5; h++) {
            long c = first_copy(stores, 3, &allowed, hints[h], i);
            CHECK(c >= 0);
            if (c >= 0)
                count[h][c]++;
        }
        long c = first_copy(stores, 3, &allowed, NULL, i);
        if (c >= 0)
            nohint[c]++;
        /* a hint nobody recognises, or in another case, is no different from its
         * absence / itself */
        CHECK_INT(first_copy(stores, 3, &allowed, "mars-1", i), c);
        CHECK_INT(first_copy(stores, 3, &allowed, "", i), c);
        CHECK_INT(first_copy(stores, 3, &allowed, "EU-WEST-1", i), 0);
    }
    /* same region wins whatever the weights */
    CHECK_INT(count[0][0], 2000);
    /* same continent beats another continent whatever the weights; within it,
     * weight decides */
    for (int h = 1; h < 5; h++) {
        if (h == 2)
            continue;
        CHECK_INT(count[h][2], 0);
        CHECK(count[h][1] > count[h][0]);
        CHECK(count[h][0] + count[h][1] == 2000);
    }
    CHECK_INT(count[2][2], 2000);
    /* no hint: all one tier, weight decides (1 : 1000 : 1000) */
    CHECK(nohint[0] < 20);
    CHECK(nohint[1] > 900 && nohint[2] > 900);
}

TEST(core_placement_score_formula)
{
    /* expected scores computed independently: h = first 8 bytes of SHA-256(oid ||
     * 0x00 || store), u = ((h >> 11) + 0.5) / 2^53, score = weight / -ln(u) */
    char longid[301];
    memset(longid, 'x', 300);
    longid[300] = '\0';
    struct {
        const char *oid, *store;
        int weight;
        double score;
    } cases[] = {
        {"obj-1", "s1", 300, 316.2800716014276},
        {"eu1.01JD3Q5ZC8Y8K0Q4N6D2T7W9XB", "aws-eu-west-1", 100, 157.78927193152796},
        {longid, "gcs-europe-west3", 1000, 226.30184819912984}, /* longer than the stack buffer */
    };
    cset_t allowed = fx_set("DE");
    arena_t a;
    arena_init(&a);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        store_t st = fx_store(cases[i].store, "s3", "eu-central-1", "DE", STORE_ACTIVE, cases[i].weight);
        placement_input_t in = {.stores = &st, .nstores = 1, .allowed = &allowed, .object_id = cases[i].oid, .copies = 1};
        placement_result_t r;
        CHECK_INT(placement_choose_stores(&in, &r, &a, NULL), 0);
        double got = r.explain ? r.explain[0].score : 0;
        if (fabs(got - cases[i].score) > 1e-9 * cases[i].score)
            test_fail(__FILE__, __LINE__, "score of (%.20s, %s) is %.17g, expected %.17g", cases[i].oid, cases[i].store, got,
                      cases[i].score);
        /* the score is proportional to the weight */
        st.weight *= 2;
        CHECK_INT(placement_choose_stores(&in, &r, &a, NULL), 0);
        CHECK(r.explain && fabs(r.explain[0].score - 2 * got) <= 1e-9 * got);
    }
    arena_release(&a);
}

/* Fraction of NIDS objects whose first copy is each store. */
static void shares(const store_t *stores, size_t n, double *out)
{
    cset_t allowed = fx_set("EU");
    long count[16] = {0};
    for (long i = 0; i < NIDS; i++) {
        long c = first_copy(stores, n, &allowed, NULL, i);
        if (c >= 0)
            count[c]++;
    }
    for (size_t j = 0; j < n; j++)
        out[j] = (double)count[j] / NIDS;
}

TEST(core_placement_weights)
{
    double s[8];
    store_t two[] = {
        fx_store("a", "s3", "eu-central-1", "DE", STORE_ACTIVE, 100),
        fx_store("b", "s3", "eu-central-1", "DE", STORE_ACTIVE, 300),
    };
    shares(two, 2, s);
    CHECK(fabs(s[0] - 0.25) < 0.015);
    CHECK(fabs(s[1] - 0.75) < 0.015);

    store_t three[] = {
        fx_store("x", "s3", "eu-west-1", "IE", STORE_ACTIVE, 10),
        fx_store("y", "gcs", "europe-west1", "BE", STORE_ACTIVE, 20),
        fx_store("z", "azure", "westeurope", "NL", STORE_ACTIVE, 70),
    };
    shares(three, 3, s);
    CHECK(fabs(s[0] - 0.1) < 0.015);
    CHECK(fabs(s[1] - 0.2) < 0.015);
    CHECK(fabs(s[2] - 0.7) < 0.015);

    store_t equal[5];
    const char *ids[5] = {"e1", "e2", "e3", "e4", "e5"};
    for (int i = 0; i < 5; i++)
        equal[i] = fx_store(ids[i], "s3", "eu-central-1", "DE", STORE_ACTIVE, 500);
    shares(equal, 5, s);
    for (int i = 0; i < 5; i++)
        CHECK(fabs(s[i] - 0.2) < 0.015);
}

TEST(core_placement_stability)
{
    store_t stores[] = {
        fx_store("s1", "s3", "eu-west-1", "IE", STORE_ACTIVE, 100),
        fx_store("s2", "s3", "eu-central-1", "DE", STORE_ACTIVE, 200),
        fx_store("s3", "gcs", "europe-west1", "BE", STORE_ACTIVE, 100),
        fx_store("s4", "azure", "westeurope", "NL", STORE_ACTIVE, 100),
        fx_store("s5", "s3", "eu-north-1", "SE", STORE_ACTIVE, 100),
        fx_store("new", "s3", "eu-south-1", "IT", STORE_ACTIVE, 120),
    };
    /* the same stores in another order, with "new" among them */
    store_t shuffled[] = {stores[3], stores[5], stores[0], stores[4], stores[2], stores[1]};
    cset_t allowed = fx_set("EU");
    long moved = 0, moved_elsewhere = 0, lost = 0, lost_elsewhere = 0, lost_total = 0;
    for (long i = 0; i < NIDS; i++) {
        long before = first_copy(stores, 5, &allowed, NULL, i);
        CHECK(before >= 0);
        /* same id, same answer */
        CHECK_INT(first_copy(stores, 5, &allowed, NULL, i), before);
        /* adding a store moves an object only onto the new store */
        long after = first_copy(stores, 6, &allowed, NULL, i);
        if (after != before) {
            moved++;
            moved_elsewhere += after != 5;
        }
        /* the order of the store list does not matter */
        long sh = first_copy(shuffled, 6, &allowed, NULL, i);
        CHECK(sh >= 0 && after >= 0 && strcmp(shuffled[sh].id, stores[after].id) == 0);
        /* taking a store offline moves only the objects it held */
        stores[1].status = STORE_OFFLINE;
        long without = first_copy(stores, 5, &allowed, NULL, i);
        stores[1].status = STORE_ACTIVE;
        if (before == 1)
            lost_total++;
        if (without != before) {
            lost++;
            lost_elsewhere += before != 1;
        }
    }
    CHECK_INT(moved_elsewhere, 0);
    CHECK_INT(lost_elsewhere, 0);
    CHECK_INT(lost, lost_total);
    /* the new store takes its share, 120 / 720, and no more */
    double f = (double)moved / NIDS;
    CHECK(fabs(f - 120.0 / 720.0) < 0.015);
}

/* Number of distinct strings among n. */
static size_t distinct(const char *const *s, size_t n)
{
    size_t d = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < i && strcmp(s[i], s[j]) != 0)
            j++;
        d += j == i;
    }
    return d;
}

TEST(core_placement_copies)
{
    cset_t eu = fx_set("EU");
    placement_result_t r;
    err_t e;
    char oid[32];

    /* three providers available: three copies use all three, never two of the
     * same kind */
    store_t spread[] = {
        fx_store("s3-a", "s3", "eu-west-1", "IE", STORE_ACTIVE, 1000),
        fx_store("s3-b", "s3", "eu-west-1", "IE", STORE_ACTIVE, 1000),
        fx_store("gcs", "gcs", "europe-west1", "BE", STORE_ACTIVE, 10),
        fx_store("azure", "azure", "westeurope", "NL", STORE_ACTIVE, 10),
    };
    for (long i = 0; i < 500; i++) {
        snprintf(oid, sizeof(oid), "eu1.obj-%ld", i);
        CHECK_INT(place(spread, 4, &eu, NULL, oid, 3, &r, &e), 0);
        CHECK_INT(r.nchosen, 3);
        const char *prov[3], *ids[3];
        for (int k = 0; k < 3; k++)
            prov[k] = r.chosen[k]->provider, ids[k] = r.chosen[k]->id;
        CHECK_INT(distinct(ids, 3), 3);
        CHECK_INT(distinct(prov, 3), 3);
        /* two copies: the second differs from the first in provider and region */
        CHECK_INT(place(spread, 4, &eu, NULL, oid, 2, &r, &e), 0);
        CHECK(strcmp(r.chosen[0]->provider, r.chosen[1]->provider) != 0);
        CHECK(strcmp(r.chosen[0]->region, r.chosen[1]->region) != 0);
        /* four copies: all four stores */
        CHECK_INT(place(spread, 4, &eu, NULL, oid, 4, &r, &e), 0);
        CHECK_INT(r.nchosen, 4);
        const char *all4[4];
        for (size_t k = 0; k < 4 && k < r.nchosen; k++)
            all4[k] = r.chosen[k]->id;
        CHECK(r.nchosen == 4 && distinct(all4, 4) == 4);
    }

    /* one provider, two regions: the second copy goes to the other region */
    store_t regions[] = {
        fx_store("w1", "s3", "eu-west-1", "IE", STORE_ACTIVE, 1000),
        fx_store("w2", "s3", "eu-west-1", "IE", STORE_ACTIVE, 1000),
        fx_store("c1", "s3", "eu-central-1", "DE", STORE_ACTIVE, 1),
    };
    /* two providers, one region: the second copy goes to the other provider */
    store_t providers[] = {
        fx_store("a1", "s3", "eu-west-1", "IE", STORE_ACTIVE, 1000),
        fx_store("a2", "s3", "eu-west-1", "IE", STORE_ACTIVE, 1000),
        fx_store("g1", "gcs", "eu-west-1", "IE", STORE_ACTIVE, 1),
    };
    for (long i = 0; i < 500; i++) {
        snprintf(oid, sizeof(oid), "eu1.obj-%ld", i);
        CHECK_INT(place(regions, 3, &eu, NULL, oid, 2, &r, &e), 0);
        CHECK(strcmp(r.chosen[0]->region, r.chosen[1]->region) != 0);
        CHECK_INT(place(providers, 3, &eu, NULL, oid, 2, &r, &e), 0);
        CHECK(strcmp(r.chosen[0]->provider, r.chosen[1]->provider) != 0);
    }

    /* diversity comes before tier: the second copy leaves the hinted region for
     * another provider */
    store_t hinted[] = {
        fx_store("a", "s3", "eu-west-1", "IE", STORE_ACTIVE, 100),
        fx_store("b", "s3", "eu-west-1", "IE", STORE_ACTIVE, 100),
        fx_store("c", "gcs", "us-central1", "US", STORE_ACTIVE, 100),
    };
    cset_t ie_us = fx_set("IE,US");
    /* with equal diversity, tier decides: same region, then same continent */
    store_t tiered[] = {
        fx_store("x-us", "azure", "eastus", "US", STORE_ACTIVE, 1000),
        fx_store("x-de", "gcs", "europe-west3", "DE", STORE_ACTIVE, 1),
        fx_store("x-ie", "s3", "eu-west-1", "IE", STORE_ACTIVE, 1),
    };
    cset_t ie_de_us = fx_set("IE,DE,US");
    for (long i = 0; i < 500; i++) {
        snprintf(oid, sizeof(oid), "eu1.obj-%ld", i);
        CHECK_INT(place(hinted, 3, &ie_us, "eu-west-1", oid, 2, &r, &e), 0);
        CHECK(strcmp(r.chosen[0]->region, "eu-west-1") == 0);
        CHECK_STR(r.chosen[1]->id, "c");
        CHECK_INT(place(tiered, 3, &ie_de_us, "eu-west-1", oid, 3, &r, &e), 0);
        CHECK_STR(r.chosen[0]->id, "x-ie");
        CHECK_STR(r.chosen[1]->id, "x-de");
        CHECK_STR(r.chosen[2]->id, "x-us");
    }

    /* more copies than eligible stores */
    CHECK_INT(place(spread, 4, &eu, NULL, "eu1.obj", 5, &r, &e), ERR_NO_ELIGIBLE_STORE);
    CHECK_STR(e.msg, "need 5 stores, 4 eligible in "
                     "[AT,BE,BG,CY,CZ,DE,DK,EE,ES,FI,FR,GR,HR,HU,IE,IT,LT,LU,LV,"
                     "MT,NL,PL,PT,RO,SE,SI,SK]");
    CHECK_INT(r.nchosen, 0);
    spread[3].status = STORE_READONLY;
    CHECK_INT(place(spread, 4, &eu, NULL, "eu1.obj", 4, &r, &e), ERR_NO_ELIGIBLE_STORE);
    CHECK_INT(place(spread, 4, &eu, NULL, "eu1.obj", 3, &r, &e), 0);
    CHECK_INT(r.nchosen, 3);

    /* entries equal in everything (even the id, so the score) are still distinct
     * copies, in list order */
    store_t twins[] = {
        fx_store("twin", "s3", "eu-west-1", "IE", STORE_ACTIVE, 100),
        fx_store("twin", "s3", "eu-west-1", "IE", STORE_ACTIVE, 100),
    };
    CHECK_INT(place(twins, 2, &eu, NULL, "eu1.obj", 2, &r, &e), 0);
    CHECK(r.chosen[0] == &twins[0] && r.chosen[1] == &twins[1]);
}

TEST(core_placement_explain)
{
    store_t stores[] = {
        fx_store("ie", "s3", "eu-west-1", "IE", STORE_ACTIVE, 100),     fx_store("ie2", "s3", "eu-west-1", "IE", STORE_ACTIVE, 100),
        fx_store("de", "gcs", "europe-west3", "DE", STORE_ACTIVE, 100), fx_store("us", "azure", "eastus", "US", STORE_ACTIVE, 100),
        fx_store("fr", "s3", "eu-west-3", "FR", STORE_OFFLINE, 100),
    };
    cset_t allowed = fx_set("IE,DE,US,FR");
    arena_t a;
    arena_init(&a);
    placement_result_t r;
    err_t e;
    placement_input_t in = {
        .stores = stores, .nstores = 5, .allowed = &allowed, .region_hint = "eu-west-1", .object_id = "eu1.obj", .copies = 3};
    CHECK_INT(placement_choose_stores(&in, &r, &a, &e), 0);
    CHECK_INT(r.nexplain, 5);
    for (size_t i = 0; r.explain && i < 5; i++)
        CHECK(r.explain[i].store == &stores[i]);
    /* copy 1 in the hinted region, copy 2 adds provider and region, copy 3 as
     * well */
    CHECK_INT(r.nchosen, 3);
    CHECK(r.chosen[1] == &stores[2] && r.chosen[2] == &stores[3]);
    const placement_explain_t *first = r.chosen[0] == &stores[0] ? &r.explain[0] : &r.explain[1];
    const placement_explain_t *other = r.chosen[0] == &stores[0] ? &r.explain[1] : &r.explain[0];
    CHECK_STR(first->verdict, "chosen");
    CHECK_INT(first->rank, 1);
    CHECK_INT(first->tier, 0);
    CHECK_STR(first->reason, "same region as hint");
    CHECK_STR(other->verdict, "candidate");
    CHECK_INT(other->rank, 0);
    CHECK_INT(other->tier, 0);
    CHECK(other->score > 0);
    CHECK_STR(r.explain[2].verdict, "chosen");
    CHECK_INT(r.explain[2].rank, 2);
    CHECK_INT(r.explain[2].tier, 1);
    CHECK_STR(r.explain[2].reason, "same continent as hint (EU); provider and "
                                   "region differ from earlier copies");
    CHECK_INT(r.explain[3].rank, 3);
    CHECK_INT(r.explain[3].tier, 2);
    CHECK_STR(r.explain[3].reason, "other continent than hint; provider and "
                                   "region differ from earlier copies");
    CHECK_STR(r.explain[4].verdict, "excluded");
    CHECK_STR(r.explain[4].reason, "status offline");

    /* a fourth copy can only share provider and region with the first */
    in.copies = 4;
    CHECK_INT(placement_choose_stores(&in, &r, &a, &e), 0);
    other = r.chosen[0] == &stores[0] ? &r.explain[1] : &r.explain[0];
    CHECK_STR(other->verdict, "chosen");
    CHECK_INT(other->rank, 4);
    CHECK_STR(other->reason, "same region as hint; same provider and region as an earlier copy");

    /* one differing attribute */
    store_t half[] = {
        fx_store("p", "s3", "eu-west-1", "IE", STORE_ACTIVE, 100),
        fx_store("q", "s3", "eu-central-1", "DE", STORE_ACTIVE, 100),
    };
    in = (placement_input_t){.stores = half, .nstores = 2, .allowed = &allowed, .object_id = "eu1.obj", .copies = 2};
    CHECK_INT(placement_choose_stores(&in, &r, &a, &e), 0);
    const placement_explain_t *second = r.explain[0].rank == 2 ? &r.explain[0] : &r.explain[1];
    CHECK_STR(second->reason, "no region hint; provider or region differs from earlier copies");
    CHECK_INT(second->tier, 2);

    in.region_hint = "mars-1";
    in.copies = 1;
    CHECK_INT(placement_choose_stores(&in, &r, &a, &e), 0);
    CHECK_STR(r.explain[0].reason, "region hint not recognised");
    CHECK_INT(r.explain[0].tier, 2);
    arena_release(&a);
}

TEST(core_placement_read)
{
    store_t st[] = {
        fx_store("de-off", "s3", "eu-central-1", "DE", STORE_OFFLINE, 100),
        fx_store("de", "s3", "eu-central-1", "DE", STORE_ACTIVE, 100),
        fx_store("fr-ro", "s3", "eu-west-3", "FR", STORE_READONLY, 100),
        fx_store("us", "s3", "us-east-1", "US", STORE_ACTIVE, 1000),
        fx_store("ie", "s3", "eu-west-1", "IE", STORE_ACTIVE, 10),
        fx_store("ie-heavy", "gcs", "europe-west1", "IE", STORE_ACTIVE, 0),
        fx_store("ie-b", "azure", "northeurope", "IE", STORE_ACTIVE, 10),
    };
    cset_t eu = fx_set("EU"), all = fx_set("EU,US"), de = fx_set("DE");
    size_t idx = 99;
    err_t e;

    /* missing store, offline store and absent location are skipped; readonly
     * serves reads */
    placement_copy_t c1[] = {{NULL, true}, {&st[0], true}, {&st[1], false}, {&st[2], true}};
    CHECK_INT(placement_choose_read(c1, 4, &eu, NULL, &idx, &e), 0);
    CHECK_INT(idx, 3);
    CHECK_INT(placement_choose_read(c1, 3, &eu, NULL, &idx, &e), ERR_UNAVAILABLE);
    CHECK_STR(e.msg, "no usable copy: 1 not present, 1 on offline stores, 1 on "
                     "unknown stores");
    CHECK_INT(placement_choose_read(NULL, 0, &eu, NULL, &idx, &e), ERR_UNAVAILABLE);

    /* a usable copy outside the jurisdictions is refused, not served */
    placement_copy_t c2[] = {{&st[0], true}, {&st[3], true}};
    CHECK_INT(placement_choose_read(c2, 2, &eu, "us-east-1", &idx, &e), ERR_RESIDENCY_VIOLATION);
    CHECK_STR(e.msg, "store 'us' (US) is outside jurisdictions "
                     "[AT,BE,BG,CY,CZ,DE,DK,EE,ES,FI,FR,GR,HR,HU,IE,IT,LT,LU,LV,MT,NL,PL,"
                     "PT,RO,SE,SI,SK]");
    CHECK_INT(placement_choose_read(c2, 2, &all, NULL, &idx, &e), 0);
    CHECK_INT(idx, 1);
    /* ... and an unusable copy outside them is only unavailable */
    placement_copy_t c3[] = {{&st[1], false}, {&st[3], false}};
    CHECK_INT(placement_choose_read(c3, 2, &eu, NULL, &idx, &e), ERR_UNAVAILABLE);

    /* nearest wins: same region, then same continent, then the rest; residency
     * beats nearness */
    placement_copy_t c4[] = {{&st[3], true}, {&st[1], true}, {&st[4], true}};
    CHECK_INT(placement_choose_read(c4, 3, &all, "eu-west-1", &idx, &e), 0);
    CHECK_INT(idx, 2);
    CHECK_INT(placement_choose_read(c4, 3, &all, "eu-north-1", &idx, &e), 0);
    CHECK_INT(idx, 1); /* both EU; DE has the higher weight */
    CHECK_INT(placement_choose_read(c4, 3, &all, "us-west-2", &idx, &e), 0);
    CHECK_INT(idx, 0);
    CHECK_INT(placement_choose_read(c4, 3, &all, "US", &idx, &e), 0);
    CHECK_INT(idx, 0);
    CHECK_INT(placement_choose_read(c4, 3, &all, NULL, &idx, &e), 0);
    CHECK_INT(idx, 0); /* no hint: highest weight */
    CHECK_INT(placement_choose_read(c4, 3, &eu, "us-east-1", &idx, &e), 0);
    CHECK_INT(idx, 1);
    CHECK_INT(placement_choose_read(c4, 3, &de, "eu-west-1", &idx, &e), 0);
    CHECK_INT(idx, 1);

    /* ties: higher weight, then lower store id; weight 0 still serves reads */
    placement_copy_t c5[] = {{&st[6], true}, {&st[5], true}, {&st[4], true}};
    CHECK_INT(placement_choose_read(c5, 3, &eu, "eu-north-1", &idx, &e), 0);
    CHECK_INT(idx, 2); /* "ie" < "ie-b", both weight 10 */
    CHECK_INT(placement_choose_read(c5, 2, &eu, "eu-north-1", &idx, &e), 0);
    CHECK_INT(idx, 0);
    CHECK_INT(placement_choose_read(c5 + 1, 1, &eu, NULL, &idx, &e), 0);
    CHECK_INT(idx, 0);
    CHECK_INT(placement_choose_read(c5, 3, &eu, "europe-west1", &idx, &e), 0);
    CHECK_INT(idx, 1); /* same region beats weight */
}
