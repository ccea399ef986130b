/*
 * test_juris.c - country codes, country sets, jurisdiction groups and region
 * continents.
 */
#include <stdio.h>
#include <string.h>

#include "core/juris.h"
#include "unit/test.h"

/* Fills s from a comma-separated list of country codes; returns false if one is
 * not a country. */
static bool set_of(cset_t *s, const char *list)
{
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", list);
    cset_clear(s);
    for (char *p = buf; *p;) {
        char *end = strchr(p, ',');
        if (end)
            *end = '\0';
        if (!cset_add(s, p))
            return false;
        p = end ? end + 1 : p + strlen(p);
    }
    return true;
}

static bool set_is(const cset_t *s, const char *list)
{
    char buf[1024];
    cset_format(s, buf, sizeof(buf));
    if (strcmp(buf, list) != 0) {
        fprintf(stderr, "  set is [%s], expected [%s]\n", buf, list);
        return false;
    }
    return true;
}

TEST(core_juris_countries)
{
    size_t n = 0;
    char cc[3] = {0};
    for (cc[0] = 'A'; cc[0] <= 'Z'; cc[0]++)
        for (cc[1] = 'A'; cc[1] <= 'Z'; cc[1]++)
            n += juris_is_country(cc);
    CHECK_INT(n, 249); /* every assigned ISO 3166-1 alpha-2 code, and nothing else */

    const char *assigned[] = {"AD", "DE", "US", "GB", "SS", "BQ", "CW", "SX", "AX", "EH", "PS", "TW", "ZW", "AQ", "CL", "CM"};
    for (size_t i = 0; i < sizeof(assigned) / sizeof(assigned[0]); i++)
        CHECK(juris_is_country(assigned[i]));
    /* exceptionally reserved, deleted, user-assigned and malformed codes */
    const char *not_assigned[] = {"UK", "EU", "XK", "AN", "YU", "CS", "ZZ", "AA", "de", "De", "D", "DEU", "", "D1", "1D", "D-"};
    for (size_t i = 0; i < sizeof(not_assigned) / sizeof(not_assigned[0]); i++)
        CHECK(!juris_is_country(not_assigned[i]));
    CHECK(!juris_is_country(NULL));
}

TEST(core_juris_continents)
{
    const char *names[] = {"EU", "NA", "SA", "AS", "AF", "OC", "AN"};
    size_t per[7] = {0}, total = 0;
    char cc[3] = {0};
    for (cc[0] = 'A'; cc[0] <= 'Z'; cc[0]++)
        for (cc[1] = 'A'; cc[1] <= 'Z'; cc[1]++) {
            const char *c = juris_country_continent(cc);
            CHECK((c != NULL) == juris_is_country(cc));
            for (size_t i = 0; c && i < 7; i++)
                if (strcmp(c, names[i]) == 0)
                    per[i]++, total++;
        }
    CHECK_INT(total, 249); /* every country has exactly one of the seven continents */
    for (size_t i = 0; i < 7; i++)
        CHECK(per[i] > 0);

    struct {
        const char *cc, *continent;
    } cases[] = {
        {"DE", "EU"}, {"GB", "EU"}, {"CH", "EU"}, {"NO", "EU"}, {"RU", "EU"}, {"TR", "EU"}, {"CY", "EU"},
        {"AX", "EU"}, {"US", "NA"}, {"CA", "NA"}, {"MX", "NA"}, {"PA", "NA"}, {"GL", "NA"}, {"PR", "NA"},
        {"BR", "SA"}, {"AR", "SA"}, {"FK", "SA"}, {"JP", "AS"}, {"IN", "AS"}, {"KZ", "AS"}, {"GE", "AS"},
        {"AE", "AS"}, {"IL", "AS"}, {"ID", "AS"}, {"EG", "AF"}, {"ZA", "AF"}, {"RE", "AF"}, {"AU", "OC"},
        {"NZ", "OC"}, {"FJ", "OC"}, {"AQ", "AN"}, {"BV", "AN"}, {"GS", "AN"}, {"HM", "AN"}, {"TF", "AN"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_STR(juris_country_continent(cases[i].cc), cases[i].continent);
    CHECK(juris_country_continent("UK") == NULL);
    CHECK(juris_country_continent("de") == NULL);
    CHECK(juris_country_continent(NULL) == NULL);

    /* every member state of the EU lies on continent EU (the reason CY counts as
     * EU) */
    juris_groups_t g;
    juris_groups_init(&g);
    const juris_group_t *eea = juris_groups_find(&g, "EEA");
    CHECK(eea != NULL);
    for (cc[0] = 'A'; eea && cc[0] <= 'Z'; cc[0]++)
        for (cc[1] = 'A'; cc[1] <= 'Z'; cc[1]++)
            if (cset_has(&eea->members, cc))
                CHECK_STR(juris_country_continent(cc), "EU");
}

TEST(core_juris_cset)
{
    cset_t a, b, before;
    cset_clear(&a);
    CHECK(cset_is_empty(&a));
    CHECK_INT(cset_count(&a), 0);
    CHECK(cset_add(&a, "DE"));
    CHECK(cset_add(&a, "DE")); /* adding twice is harmless */
    CHECK_INT(cset_count(&a), 1);
    CHECK(cset_has(&a, "DE"));
    CHECK(!cset_has(&a, "FR"));
    CHECK(!cset_is_empty(&a));

    /* an unassigned or malformed code adds nothing */
    before = a;
    CHECK(!cset_add(&a, "UK"));
    CHECK(!cset_add(&a, "de"));
    CHECK(!cset_add(&a, "DEU"));
    CHECK(!cset_add(&a, ""));
    CHECK(!cset_add(&a, NULL));
    CHECK(memcmp(&a, &before, sizeof(a)) == 0);
    CHECK(!cset_has(&a, "UK"));
    CHECK(!cset_has(&a, NULL));

    /* the first and last codes, and the two sides of the 64-bit word boundary (CL
     * is bit 63) */
    CHECK(set_of(&a, "AD,CL,CM,ZW"));
    CHECK_INT(cset_count(&a), 4);
    CHECK(cset_has(&a, "CL") && cset_has(&a, "CM") && cset_has(&a, "ZW") && cset_has(&a, "AD"));
    CHECK(!cset_has(&a, "CK") && !cset_has(&a, "CN") && !cset_has(&a, "ZM"));
    CHECK(set_is(&a, "AD,CL,CM,ZW"));

    /* union, intersection, subset */
    CHECK(set_of(&a, "DE,FR,IE"));
    CHECK(set_of(&b, "FR,IT"));
    cset_t u = a, x = a;
    cset_union(&u, &b);
    CHECK(set_is(&u, "DE,FR,IE,IT"));
    cset_intersect(&x, &b);
    CHECK(set_is(&x, "FR"));
    CHECK(cset_is_subset(&x, &a));
    CHECK(cset_is_subset(&x, &b));
    CHECK(cset_is_subset(&a, &u));
    CHECK(!cset_is_subset(&u, &a));
    CHECK(!cset_is_subset(&a, &b));
    CHECK(cset_is_subset(&a, &a));
    cset_t empty;
    cset_clear(&empty);
    CHECK(cset_is_subset(&empty, &a));
    CHECK(!cset_is_subset(&a, &empty));
    cset_intersect(&x, &empty);
    CHECK(cset_is_empty(&x));
    cset_clear(&u);
    CHECK(cset_is_empty(&u));
}

TEST(core_juris_cset_format)
{
    cset_t s;
    char out[128];
    CHECK(set_of(&s, "IE,FR,DE"));
    cset_format(&s, out, sizeof(out));
    CHECK_STR(out, "DE,FR,IE"); /* sorted */
    cset_clear(&s);
    cset_format(&s, out, sizeof(out));
    CHECK_STR(out, "");

    /* exactly fits */
    CHECK(set_of(&s, "DE,FR"));
    cset_format(&s, out, 6);
    CHECK_STR(out, "DE,FR");
    /* one byte short: never half a code */
    cset_format(&s, out, 5);
    CHECK_STR(out, "...");
    cset_format(&s, out, 1);
    CHECK_STR(out, "");
    memcpy(out, "xy", 3);
    cset_format(&s, out, 0);
    CHECK_STR(out, "xy"); /* cap 0 writes nothing */

    juris_groups_t g;
    juris_groups_init(&g);
    const juris_group_t *eu = juris_groups_find(&g, "EU");
    CHECK(eu != NULL);
    if (eu == NULL)
        return;
    cset_format(&eu->members, out, 20);
    CHECK_STR(out, "AT,BE,BG,CY,CZ,...");
    CHECK(strlen(out) < 20);
    cset_format(&eu->members, out, sizeof(out));
    CHECK_STR(out, "AT,BE,BG,CY,CZ,DE,DK,EE,ES,FI,FR,GR,HR,HU,IE,IT,LT,LU,LV,MT,"
                   "NL,PL,PT,RO,SE,SI,SK");

    /* all 249 countries fit in 747 bytes */
    char big[800];
    char cc[3] = {0};
    cset_clear(&s);
    for (cc[0] = 'A'; cc[0] <= 'Z'; cc[0]++)
        for (cc[1] = 'A'; cc[1] <= 'Z'; cc[1]++)
            cset_add(&s, cc);
    cset_format(&s, big, sizeof(big));
    CHECK_INT(strlen(big), 249 * 3 - 1);
    CHECK(strncmp(big, "AD,AE,AF,", 9) == 0);
    CHECK(strcmp(big + strlen(big) - 3, ",ZW") == 0);
}

TEST(core_juris_builtin_groups)
{
    juris_groups_t g;
    juris_groups_init(&g);
    CHECK_INT(g.n, 2);
    const juris_group_t *eu = juris_groups_find(&g, "EU"), *eea = juris_groups_find(&g, "EEA");
    CHECK(eu != NULL && eea != NULL);
    if (eu == NULL || eea == NULL)
        return;
    CHECK_STR(eu->name, "EU");
    CHECK_STR(eea->name, "EEA");
    CHECK_INT(cset_count(&eu->members), 27);
    const char *members[] = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
                             "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"};
    for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++)
        CHECK(cset_has(&eu->members, members[i]) && cset_has(&eea->members, members[i]));
    const char *outside_eu[] = {"GB", "CH", "IS", "LI", "NO", "TR", "RU", "US", "UA"};
    for (size_t i = 0; i < sizeof(outside_eu) / sizeof(outside_eu[0]); i++)
        CHECK(!cset_has(&eu->members, outside_eu[i]));

    /* EEA is EU plus IS, LI, NO, and nothing else */
    CHECK_INT(cset_count(&eea->members), 30);
    CHECK(cset_is_subset(&eu->members, &eea->members));
    CHECK(!cset_is_subset(&eea->members, &eu->members));
    CHECK(cset_has(&eea->members, "IS") && cset_has(&eea->members, "LI") && cset_has(&eea->members, "NO"));
    CHECK(!cset_has(&eea->members, "CH") && !cset_has(&eea->members, "GB"));

    /* names are exact */
    CHECK(juris_groups_find(&g, "eu") == NULL);
    CHECK(juris_groups_find(&g, "EUR") == NULL);
    CHECK(juris_groups_find(&g, NULL) == NULL);
    CHECK(juris_is_valid(&g, "EU"));
    CHECK(juris_is_valid(&g, "EEA"));
    CHECK(juris_is_valid(&g, "DE"));
    CHECK(!juris_is_valid(&g, "eu"));
    CHECK(!juris_is_valid(&g, "XX"));
    CHECK(!juris_is_valid(&g, ""));
}

TEST(core_juris_configured_groups)
{
    juris_groups_t g, before;
    err_t e;
    juris_groups_init(&g);

    const char *dach[] = {"DE", "AT", "CH"};
    CHECK_INT(juris_groups_add(&g, "DACH", dach, 3, &e), 0);
    CHECK_INT(g.n, 3);
    const juris_group_t *grp = juris_groups_find(&g, "DACH");
    CHECK(grp != NULL && set_is(&grp->members, "AT,CH,DE"));
    CHECK(juris_is_valid(&g, "DACH"));

    /* members may be earlier groups, built in or configured */
    const char *wide[] = {"EEA", "DACH", "GB"};
    CHECK_INT(juris_groups_add(&g, "EEA_CH_GB_2", wide, 3, &e), 0);
    grp = juris_groups_find(&g, "EEA_CH_GB_2");
    CHECK(grp != NULL && cset_count(&grp->members) == 32);
    const char *later[] = {"DE", "LATER"};
    CHECK_INT(juris_groups_add(&g, "EARLY", later, 2, &e), ERR_BAD_REQUEST);
    CHECK_STR(e.msg, "unknown jurisdiction 'LATER' in group 'EARLY'");

    /* a 32-character name is fine, 33 is not */
    const char *de[] = {"DE"};
    CHECK_INT(juris_groups_add(&g, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_01234", de, 1, &e), 0);

    /* rejected names and members leave the groups unchanged */
    before = g;
    struct {
        const char *name;
        const char *msg;
    } bad_names[] = {
        {"EU", "jurisdiction group 'EU' is built in"},
        {"EEA", "jurisdiction group 'EEA' is built in"},
        {"DE", "jurisdiction group 'DE' is a country code"},
        {"AB", "bad jurisdiction group name 'AB' (3-32 of A-Z, 0-9, _)"},
        {"dach", "bad jurisdiction group name 'dach' (3-32 of A-Z, 0-9, _)"},
        {"DA-CH", "bad jurisdiction group name 'DA-CH' (3-32 of A-Z, 0-9, _)"},
        {"DA CH", "bad jurisdiction group name 'DA CH' (3-32 of A-Z, 0-9, _)"},
        {"", "bad jurisdiction group name '' (3-32 of A-Z, 0-9, _)"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZ_012345", "bad jurisdiction group name 'ABCDEFGHIJKLMNOPQRSTUVWXYZ_012345' (3-32 "
                                              "of A-Z, 0-9, _)"},
    };
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        err_clear(&e);
        CHECK_INT(juris_groups_add(&g, bad_names[i].name, de, 1, &e), ERR_BAD_REQUEST);
        CHECK_INT(e.code, ERR_BAD_REQUEST);
        CHECK_STR(e.msg, bad_names[i].msg);
    }
    CHECK_INT(juris_groups_add(&g, NULL, de, 1, &e), ERR_BAD_REQUEST);
    const char *unknown[] = {"DE", "XX"}, *lower[] = {"de"}, *null_member[] = {"DE", NULL}, *self[] = {"DE", "DACH"};
    CHECK_INT(juris_groups_add(&g, "NEW", unknown, 2, &e), ERR_BAD_REQUEST);
    CHECK_STR(e.msg, "unknown jurisdiction 'XX' in group 'NEW'");
    CHECK_INT(juris_groups_add(&g, "NEW", lower, 1, &e), ERR_BAD_REQUEST);
    CHECK_STR(e.msg, "unknown jurisdiction 'de' in group 'NEW'");
    CHECK_INT(juris_groups_add(&g, "NEW", null_member, 2, &e), ERR_BAD_REQUEST);
    CHECK_INT(juris_groups_add(&g, "NEW", de, 0, &e), ERR_BAD_REQUEST);
    CHECK_STR(e.msg, "jurisdiction group 'NEW' has no members");
    CHECK_INT(juris_groups_add(&g, "DACH", self, 2, &e), ERR_BAD_REQUEST);
    CHECK_STR(e.msg, "jurisdiction group 'DACH' contains itself");
    CHECK(memcmp(&g, &before, sizeof(g)) == 0);
    CHECK(juris_groups_find(&g, "NEW") == NULL);
    CHECK(juris_groups_find(&g, "EARLY") == NULL);

    /* replacing a configured group keeps its slot; groups built from it keep
     * their members */
    size_t n = g.n;
    CHECK_INT(juris_groups_add(&g, "DACH", de, 1, &e), 0);
    CHECK_INT(g.n, n);
    grp = juris_groups_find(&g, "DACH");
    CHECK(grp != NULL && set_is(&grp->members, "DE"));
    grp = juris_groups_find(&g, "EEA_CH_GB_2");
    CHECK(grp != NULL && cset_count(&grp->members) == 32);
    /* built-ins are untouched by all of this */
    CHECK_INT(cset_count(&juris_groups_find(&g, "EU")->members), 27);
    CHECK_INT(cset_count(&juris_groups_find(&g, "EEA")->members), 30);

    /* at most JURIS_MAX_GROUPS groups; replacing still works when full */
    for (size_t i = g.n; i < JURIS_MAX_GROUPS; i++) {
        char name[32];
        snprintf(name, sizeof(name), "G%03zu", i);
        CHECK_INT(juris_groups_add(&g, name, de, 1, &e), 0);
    }
    CHECK_INT(g.n, JURIS_MAX_GROUPS);
    CHECK_INT(juris_groups_add(&g, "ONE_MORE", de, 1, &e), ERR_BAD_REQUEST);
    CHECK_STR(e.msg, "too many jurisdiction groups (at most 64)");
    CHECK(juris_groups_find(&g, "ONE_MORE") == NULL);
    CHECK_INT(juris_groups_add(&g, "DACH", dach, 3, &e), 0);
    CHECK_INT(g.n, JURIS_MAX_GROUPS);

    /* a NULL err_t is allowed */
    CHECK_INT(juris_groups_add(&g, "EU", de, 1, NULL), ERR_BAD_REQUEST);
}

TEST(core_juris_expand)
{
    juris_groups_t g;
    err_t e;
    cset_t s;
    juris_groups_init(&g);

    const char *eu_ch[] = {"EU", "CH"};
    CHECK_INT(juris_expand(&g, eu_ch, 2, &s, &e), 0);
    CHECK_INT(cset_count(&s), 28);
    CHECK(cset_has(&s, "CH") && cset_has(&s, "DE") && !cset_has(&s, "NO"));

    const char *eea_eu[] = {"EEA", "EU"};
    CHECK_INT(juris_expand(&g, eea_eu, 2, &s, &e), 0);
    CHECK_INT(cset_count(&s), 30);

    const char *twice[] = {"DE", "DE"};
    CHECK_INT(juris_expand(&g, twice, 2, &s, &e), 0);
    CHECK(set_is(&s, "DE"));

    CHECK_INT(juris_expand(&g, NULL, 0, &s, &e), 0);
    CHECK(cset_is_empty(&s));

    const char *dach[] = {"DE", "AT", "CH"}, *with_group[] = {"DACH", "FR"};
    CHECK_INT(juris_expand(&g, with_group, 2, &s, &e), ERR_BAD_REQUEST);
    CHECK_STR(e.msg, "unknown jurisdiction 'DACH'");
    CHECK_INT(juris_groups_add(&g, "DACH", dach, 3, &e), 0);
    CHECK_INT(juris_expand(&g, with_group, 2, &s, &e), 0);
    CHECK(set_is(&s, "AT,CH,DE,FR"));

    /* an unknown code fails the whole expansion and leaves an empty set */
    const char *bad[][2] = {{"EU", "XX"}, {"eu", "DE"}, {"DE", "UK"}, {"DE", ""}, {"DE", NULL}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&e);
        CHECK_INT(juris_expand(&g, bad[i], 2, &s, &e), ERR_BAD_REQUEST);
        CHECK_INT(e.code, ERR_BAD_REQUEST);
        CHECK(cset_is_empty(&s));
    }
    const char *uk[] = {"DE", "UK"};
    juris_expand(&g, uk, 2, &s, &e);
    CHECK_STR(e.msg, "unknown jurisdiction 'UK'");
}

TEST(core_juris_regions)
{
    struct {
        const char *region, *continent;
    } cases[] = {
        /* AWS */
        {"eu-west-1", "EU"},
        {"eu-central-2", "EU"},
        {"eu-south-2", "EU"},
        {"eusc-de-east-1", "EU"},
        {"us-east-1", "NA"},
        {"us-gov-west-1", "NA"},
        {"ca-central-1", "NA"},
        {"mx-central-1", "NA"},
        {"sa-east-1", "SA"},
        {"ap-northeast-1", "AS"},
        {"ap-south-1", "AS"},
        {"ap-southeast-1", "AS"},
        {"ap-east-1", "AS"},
        {"ap-southeast-2", "OC"},
        {"ap-southeast-4", "OC"},
        {"me-south-1", "AS"},
        {"me-central-1", "AS"},
        {"il-central-1", "AS"},
        {"af-south-1", "AF"},
        {"cn-north-1", "AS"},
        {"cn-northwest-1", "AS"},
        /* GCP */
        {"europe-west3", "EU"},
        {"europe-north1", "EU"},
        {"us-central1", "NA"},
        {"northamerica-northeast1", "NA"},
        {"southamerica-east1", "SA"},
        {"asia-northeast1", "AS"},
        {"asia-south2", "AS"},
        {"australia-southeast1", "OC"},
        {"me-west1", "AS"},
        {"africa-south1", "AF"},
        /* Azure */
        {"westeurope", "EU"},
        {"northeurope", "EU"},
        {"germanywestcentral", "EU"},
        {"francecentral", "EU"},
        {"uksouth", "EU"},
        {"ukwest", "EU"},
        {"norwayeast", "EU"},
        {"switzerlandnorth", "EU"},
        {"swedencentral", "EU"},
        {"polandcentral", "EU"},
        {"italynorth", "EU"},
        {"spaincentral", "EU"},
        {"austriaeast", "EU"},
        {"eastus", "NA"},
        {"eastus2", "NA"},
        {"westus2", "NA"},
        {"westus3", "NA"},
        {"centralus", "NA"},
        {"southcentralus", "NA"},
        {"usgovvirginia", "NA"},
        {"canadacentral", "NA"},
        {"mexicocentral", "NA"},
        {"brazilsouth", "SA"},
        {"chilecentral", "SA"},
        {"japaneast", "AS"},
        {"koreacentral", "AS"},
        {"centralindia", "AS"},
        {"southeastasia", "AS"},
        {"eastasia", "AS"},
        {"chinanorth3", "AS"},
        {"uaenorth", "AS"},
        {"qatarcentral", "AS"},
        {"israelcentral", "AS"},
        {"australiaeast", "OC"},
        {"australiacentral2", "OC"},
        {"newzealandnorth", "OC"},
        {"southafricanorth", "AF"},
        /* Oracle */
        {"eu-frankfurt-1", "EU"},
        {"uk-london-1", "EU"},
        {"ap-tokyo-1", "AS"},
        {"ap-sydney-1", "OC"},
        {"ap-melbourne-1", "OC"},
        {"us-ashburn-1", "NA"},
        {"ca-toronto-1", "NA"},
        {"mx-queretaro-1", "NA"},
        {"sa-saopaulo-1", "SA"},
        {"me-dubai-1", "AS"},
        {"il-jerusalem-1", "AS"},
        {"af-johannesburg-1", "AF"},
        /* Alibaba */
        {"eu-central-1", "EU"},
        {"cn-hangzhou", "AS"},
        {"cn-hongkong", "AS"},
        {"ap-southeast-5", "AS"},
        {"me-east-1", "AS"},
        {"us-west-1", "NA"},
        /* Tencent */
        {"na-siliconvalley", "NA"},
        {"ap-guangzhou", "AS"},
        {"eu-frankfurt", "EU"},
        /* case does not matter */
        {"EU-WEST-1", "EU"},
        {"WestEurope", "EU"},
        /* a bare country code is a hint too */
        {"DE", "EU"},
        {"de", "EU"},
        {"TR", "EU"},
        {"US", "NA"},
        {"BR", "SA"},
        {"JP", "AS"},
        {"AU", "OC"},
        {"ZA", "AF"},
        {"AQ", "AN"},
        {"uk", "EU"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = juris_region_continent(cases[i].region);
        if (got == NULL || strcmp(got, cases[i].continent) != 0)
            test_fail(__FILE__, __LINE__, "region '%s' is on %s, expected %s", cases[i].region, got ? got : "(null)",
                      cases[i].continent);
    }

    char longname[80];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    memcpy(longname, "eu-", 3);
    const char *unknown[] = {NULL, "", "local", "mars-1", "somewhere", "xk", "ZZ", "ap", "-", "eu", longname};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        const char *got = juris_region_continent(unknown[i]);
        if (got != NULL)
            test_fail(__FILE__, __LINE__, "region '%s' is on %s, expected none", unknown[i] ? unknown[i] : "(null)", got);
    }
}
