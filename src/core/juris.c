/*
 * juris.c - country codes, country sets, jurisdiction groups and region continents.
 *
 * Countries are the 249 assigned ISO 3166-1 alpha-2 codes (the list Debian's iso-codes ships);
 * exceptionally reserved codes such as UK, EU or XK are not countries. Each country has one
 * continent, chosen by this rule:
 *   - the region of the UN geoscheme (M49), with the Americas split into NA (Northern America,
 *     Central America, the Caribbean) and SA (South America);
 *   - AN for Antarctica and the uninhabited sub-Antarctic territories (AQ, BV, GS, HM, TF);
 *   - a country that spans two continents, or lies on their border, keeps its M49 region (which
 *     is where its capital is: KZ, AZ, GE, AM -> AS; EG -> AF; PA -> NA; ID -> AS; RU -> EU),
 *     except TR and CY, which count as EU: TR as loci's policy, CY because it is an EU member
 *     state and every member of the built-in EU group lies on continent EU.
 *
 * Everything here is pure: the tables are const and every function works on caller memory.
 */
#include "core/juris.h"

#include <string.h>

enum { C_EU, C_NA, C_SA, C_AS, C_AF, C_OC, C_AN };

static const char *const continent_names[] = {"EU", "NA", "SA", "AS", "AF", "OC", "AN"};

struct country {
    char cc[3];
    unsigned char continent;
};

/* Sorted by code, for binary search. */
static const struct country countries[] = {
    {"AD", C_EU}, {"AE", C_AS}, {"AF", C_AS}, {"AG", C_NA}, {"AI", C_NA}, {"AL", C_EU}, {"AM", C_AS}, {"AO", C_AF}, {"AQ", C_AN},
    {"AR", C_SA}, {"AS", C_OC}, {"AT", C_EU}, {"AU", C_OC}, {"AW", C_NA}, {"AX", C_EU}, {"AZ", C_AS}, {"BA", C_EU}, {"BB", C_NA},
    {"BD", C_AS}, {"BE", C_EU}, {"BF", C_AF}, {"BG", C_EU}, {"BH", C_AS}, {"BI", C_AF}, {"BJ", C_AF}, {"BL", C_NA}, {"BM", C_NA},
    {"BN", C_AS}, {"BO", C_SA}, {"BQ", C_NA}, {"BR", C_SA}, {"BS", C_NA}, {"BT", C_AS}, {"BV", C_AN}, {"BW", C_AF}, {"BY", C_EU},
    {"BZ", C_NA}, {"CA", C_NA}, {"CC", C_OC}, {"CD", C_AF}, {"CF", C_AF}, {"CG", C_AF}, {"CH", C_EU}, {"CI", C_AF}, {"CK", C_OC},
    {"CL", C_SA}, {"CM", C_AF}, {"CN", C_AS}, {"CO", C_SA}, {"CR", C_NA}, {"CU", C_NA}, {"CV", C_AF}, {"CW", C_NA}, {"CX", C_OC},
    {"CY", C_EU}, {"CZ", C_EU}, {"DE", C_EU}, {"DJ", C_AF}, {"DK", C_EU}, {"DM", C_NA}, {"DO", C_NA}, {"DZ", C_AF}, {"EC", C_SA},
    {"EE", C_EU}, {"EG", C_AF}, {"EH", C_AF}, {"ER", C_AF}, {"ES", C_EU}, {"ET", C_AF}, {"FI", C_EU}, {"FJ", C_OC}, {"FK", C_SA},
    {"FM", C_OC}, {"FO", C_EU}, {"FR", C_EU}, {"GA", C_AF}, {"GB", C_EU}, {"GD", C_NA}, {"GE", C_AS}, {"GF", C_SA}, {"GG", C_EU},
    {"GH", C_AF}, {"GI", C_EU}, {"GL", C_NA}, {"GM", C_AF}, {"GN", C_AF}, {"GP", C_NA}, {"GQ", C_AF}, {"GR", C_EU}, {"GS", C_AN},
    {"GT", C_NA}, {"GU", C_OC}, {"GW", C_AF}, {"GY", C_SA}, {"HK", C_AS}, {"HM", C_AN}, {"HN", C_NA}, {"HR", C_EU}, {"HT", C_NA},
    {"HU", C_EU}, {"ID", C_AS}, {"IE", C_EU}, {"IL", C_AS}, {"IM", C_EU}, {"IN", C_AS}, {"IO", C_AF}, {"IQ", C_AS}, {"IR", C_AS},
    {"IS", C_EU}, {"IT", C_EU}, {"JE", C_EU}, {"JM", C_NA}, {"JO", C_AS}, {"JP", C_AS}, {"KE", C_AF}, {"KG", C_AS}, {"KH", C_AS},
    {"KI", C_OC}, {"KM", C_AF}, {"KN", C_NA}, {"KP", C_AS}, {"KR", C_AS}, {"KW", C_AS}, {"KY", C_NA}, {"KZ", C_AS}, {"LA", C_AS},
    {"LB", C_AS}, {"LC", C_NA}, {"LI", C_EU}, {"LK", C_AS}, {"LR", C_AF}, {"LS", C_AF}, {"LT", C_EU}, {"LU", C_EU}, {"LV", C_EU},
    {"LY", C_AF}, {"MA", C_AF}, {"MC", C_EU}, {"MD", C_EU}, {"ME", C_EU}, {"MF", C_NA}, {"MG", C_AF}, {"MH", C_OC}, {"MK", C_EU},
    {"ML", C_AF}, {"MM", C_AS}, {"MN", C_AS}, {"MO", C_AS}, {"MP", C_OC}, {"MQ", C_NA}, {"MR", C_AF}, {"MS", C_NA}, {"MT", C_EU},
    {"MU", C_AF}, {"MV", C_AS}, {"MW", C_AF}, {"MX", C_NA}, {"MY", C_AS}, {"MZ", C_AF}, {"NA", C_AF}, {"NC", C_OC}, {"NE", C_AF},
    {"NF", C_OC}, {"NG", C_AF}, {"NI", C_NA}, {"NL", C_EU}, {"NO", C_EU}, {"NP", C_AS}, {"NR", C_OC}, {"NU", C_OC}, {"NZ", C_OC},
    {"OM", C_AS}, {"PA", C_NA}, {"PE", C_SA}, {"PF", C_OC}, {"PG", C_OC}, {"PH", C_AS}, {"PK", C_AS}, {"PL", C_EU}, {"PM", C_NA},
    {"PN", C_OC}, {"PR", C_NA}, {"PS", C_AS}, {"PT", C_EU}, {"PW", C_OC}, {"PY", C_SA}, {"QA", C_AS}, {"RE", C_AF}, {"RO", C_EU},
    {"RS", C_EU}, {"RU", C_EU}, {"RW", C_AF}, {"SA", C_AS}, {"SB", C_OC}, {"SC", C_AF}, {"SD", C_AF}, {"SE", C_EU}, {"SG", C_AS},
    {"SH", C_AF}, {"SI", C_EU}, {"SJ", C_EU}, {"SK", C_EU}, {"SL", C_AF}, {"SM", C_EU}, {"SN", C_AF}, {"SO", C_AF}, {"SR", C_SA},
    {"SS", C_AF}, {"ST", C_AF}, {"SV", C_NA}, {"SX", C_NA}, {"SY", C_AS}, {"SZ", C_AF}, {"TC", C_NA}, {"TD", C_AF}, {"TF", C_AN},
    {"TG", C_AF}, {"TH", C_AS}, {"TJ", C_AS}, {"TK", C_OC}, {"TL", C_AS}, {"TM", C_AS}, {"TN", C_AF}, {"TO", C_OC}, {"TR", C_EU},
    {"TT", C_NA}, {"TV", C_OC}, {"TW", C_AS}, {"TZ", C_AF}, {"UA", C_EU}, {"UG", C_AF}, {"UM", C_OC}, {"US", C_NA}, {"UY", C_SA},
    {"UZ", C_AS}, {"VA", C_EU}, {"VC", C_NA}, {"VE", C_SA}, {"VG", C_NA}, {"VI", C_NA}, {"VN", C_AS}, {"VU", C_OC}, {"WF", C_OC},
    {"WS", C_OC}, {"YE", C_AS}, {"YT", C_AF}, {"ZA", C_AF}, {"ZM", C_AF}, {"ZW", C_AF},
};

#define NCOUNTRIES (sizeof(countries) / sizeof(countries[0]))

/* --- country codes --- */

/* Bit index of a two-uppercase-letter code, or -1 if cc is not of that shape. */
static int cc_bit(const char *cc)
{
    if (cc == NULL || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' || cc[2] != '\0')
        return -1;
    return (cc[0] - 'A') * 26 + (cc[1] - 'A');
}

/* The table row of an assigned code, or NULL. */
static const struct country *country_find(const char *cc)
{
    if (cc_bit(cc) < 0)
        return NULL;
    size_t lo = 0, hi = NCOUNTRIES;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(cc, countries[mid].cc, 2);
        if (c == 0)
            return &countries[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

bool juris_is_country(const char *cc)
{
    return country_find(cc) != NULL;
}

const char *juris_country_continent(const char *cc)
{
    const struct country *c = country_find(cc);
    return c ? continent_names[c->continent] : NULL;
}

/* --- country sets --- */

void cset_clear(cset_t *s)
{
    memset(s, 0, sizeof(*s));
}

bool cset_add(cset_t *s, const char *cc)
{
    if (!juris_is_country(cc))
        return false;
    int b = cc_bit(cc);
    s->w[b / 64] |= UINT64_C(1) << (b % 64);
    return true;
}

bool cset_has(const cset_t *s, const char *cc)
{
    int b = cc_bit(cc);
    return b >= 0 && (s->w[b / 64] >> (b % 64) & 1) != 0;
}

void cset_union(cset_t *dst, const cset_t *src)
{
    for (size_t i = 0; i < 11; i++)
        dst->w[i] |= src->w[i];
}

void cset_intersect(cset_t *dst, const cset_t *src)
{
    for (size_t i = 0; i < 11; i++)
        dst->w[i] &= src->w[i];
}

bool cset_is_empty(const cset_t *s)
{
    for (size_t i = 0; i < 11; i++)
        if (s->w[i] != 0)
            return false;
    return true;
}

bool cset_is_subset(const cset_t *sub, const cset_t *super)
{
    for (size_t i = 0; i < 11; i++)
        if ((sub->w[i] & ~super->w[i]) != 0)
            return false;
    return true;
}

size_t cset_count(const cset_t *s)
{
    size_t n = 0;
    for (size_t i = 0; i < 11; i++)
        for (uint64_t w = s->w[i]; w != 0; w &= w - 1)
            n++;
    return n;
}

/*
 * Writes "DE,FR,IE". When the whole list does not fit, it writes the codes that fit followed
 * by ",..." so a message never shows half a code or hides that it was cut.
 */
void cset_format(const cset_t *s, char *out, size_t cap)
{
    if (cap == 0)
        return;
    size_t count = cset_count(s), full = count ? 3 * count - 1 : 0, pos = 0;
    bool cut = full > cap - 1;
    size_t room = !cut ? cap - 1 : cap - 1 >= 4 ? cap - 1 - 4 : 0;
    for (int b = 0; b < 26 * 26; b++) {
        if ((s->w[b / 64] >> (b % 64) & 1) == 0)
            continue;
        if (pos + (pos ? 3 : 2) > room)
            break;
        if (pos)
            out[pos++] = ',';
        out[pos++] = (char)('A' + b / 26);
        out[pos++] = (char)('A' + b % 26);
    }
    if (cut) {
        const char *more = pos ? ",..." : "...";
        size_t n = strlen(more);
        if (pos + n <= cap - 1) {
            memcpy(out + pos, more, n);
            pos += n;
        }
    }
    out[pos] = '\0';
}

/* --- groups --- */

/* The 27 member states of the European Union. */
static const char *const eu_members[] = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
                                         "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"};
static const char *const eea_extra[] = {"IS", "LI", "NO"};

static bool is_builtin(const char *name)
{
    return strcmp(name, "EU") == 0 || strcmp(name, "EEA") == 0;
}

/* 3-32 characters of A-Z, 0-9 and '_'. */
static bool group_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n < 3 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

void juris_groups_init(juris_groups_t *g)
{
    memset(g, 0, sizeof(*g));
    juris_group_t *eu = &g->g[0], *eea = &g->g[1];
    memcpy(eu->name, "EU", 3);
    for (size_t i = 0; i < sizeof(eu_members) / sizeof(eu_members[0]); i++)
        cset_add(&eu->members, eu_members[i]);
    memcpy(eea->name, "EEA", 4);
    eea->members = eu->members;
    for (size_t i = 0; i < sizeof(eea_extra) / sizeof(eea_extra[0]); i++)
        cset_add(&eea->members, eea_extra[i]);
    g->n = 2;
}

/* Index of the named group, or -1. */
static long group_index(const juris_groups_t *g, const char *name)
{
    if (name == NULL)
        return -1;
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->g[i].name, name) == 0)
            return (long)i;
    return -1;
}

const juris_group_t *juris_groups_find(const juris_groups_t *g, const char *name)
{
    long i = group_index(g, name);
    return i >= 0 ? &g->g[i] : NULL;
}

/*
 * Members are expanded when the group is defined, so a group is a plain set of countries;
 * replacing a group later does not change groups that were built from it. A group may not
 * name itself, even when it replaces an earlier definition. On error g is left unchanged.
 */
int juris_groups_add(juris_groups_t *g, const char *name, const char *const *members, size_t n, err_t *e)
{
    if (name == NULL)
        return err_set(e, ERR_BAD_REQUEST, "missing jurisdiction group name");
    if (is_builtin(name))
        return err_set(e, ERR_BAD_REQUEST, "jurisdiction group '%s' is built in", name);
    if (juris_is_country(name))
        return err_set(e, ERR_BAD_REQUEST, "jurisdiction group '%s' is a country code", name);
    if (!group_name_ok(name))
        return err_set(e, ERR_BAD_REQUEST, "bad jurisdiction group name '%.64s' (3-32 of A-Z, 0-9, _)", name);
    if (n == 0)
        return err_set(e, ERR_BAD_REQUEST, "jurisdiction group '%s' has no members", name);
    cset_t set;
    cset_clear(&set);
    for (size_t i = 0; i < n; i++) {
        const char *m = members[i];
        const juris_group_t *sub;
        if (m != NULL && strcmp(m, name) == 0)
            return err_set(e, ERR_BAD_REQUEST, "jurisdiction group '%s' contains itself", name);
        if (cset_add(&set, m))
            continue;
        if ((sub = juris_groups_find(g, m)) == NULL)
            return err_set(e, ERR_BAD_REQUEST, "unknown jurisdiction '%.64s' in group '%s'", m ? m : "", name);
        cset_union(&set, &sub->members);
    }
    long at = group_index(g, name);
    if (at < 0) {
        if (g->n == JURIS_MAX_GROUPS)
            return err_set(e, ERR_BAD_REQUEST, "too many jurisdiction groups (at most %d)", JURIS_MAX_GROUPS);
        at = (long)g->n++;
        memcpy(g->g[at].name, name, strlen(name) + 1);
    }
    g->g[at].members = set;
    return 0;
}

bool juris_is_valid(const juris_groups_t *g, const char *code)
{
    return juris_is_country(code) || juris_groups_find(g, code) != NULL;
}

int juris_expand(const juris_groups_t *g, const char *const *codes, size_t n, cset_t *out, err_t *e)
{
    cset_t set;
    cset_clear(&set);
    cset_clear(out);
    for (size_t i = 0; i < n; i++) {
        const juris_group_t *grp;
        if (cset_add(&set, codes[i]))
            continue;
        if ((grp = juris_groups_find(g, codes[i])) == NULL)
            return err_set(e, ERR_BAD_REQUEST, "unknown jurisdiction '%.64s'", codes[i] ? codes[i] : "");
        cset_union(&set, &grp->members);
    }
    *out = set;
    return 0;
}

/* --- provider regions --- */

struct region_rule {
    const char *text;
    unsigned char continent;
};

/* Whole names that the prefix rules below would place wrongly (AWS and Alibaba "ap-" regions
 * in Australia and New Zealand). */
static const struct region_rule region_exact[] = {
    {"ap-southeast-2", C_OC}, /* Sydney */
    {"ap-southeast-4", C_OC}, /* Melbourne */
    {"ap-southeast-6", C_OC}, /* New Zealand */
};

/* Words found anywhere in the name: Azure's one-word regions ("germanywestcentral",
 * "southafricanorth") and the city names Oracle and others use ("ap-sydney-1"). They are
 * checked before the prefixes, so a city beats the "ap-" it sits behind. First match wins,
 * and no word here contains another. */
/* clang-format off */
static const struct region_rule region_words[] = {
    {"australia", C_OC}, {"zealand", C_OC}, {"sydney", C_OC}, {"melbourne", C_OC}, {"auckland", C_OC},
    {"europe", C_EU}, {"germany", C_EU}, {"france", C_EU}, {"norway", C_EU}, {"switzerland", C_EU}, {"sweden", C_EU},
    {"poland", C_EU}, {"italy", C_EU}, {"spain", C_EU}, {"austria", C_EU}, {"belgium", C_EU}, {"denmark", C_EU},
    {"finland", C_EU}, {"greece", C_EU}, {"ireland", C_EU}, {"netherlands", C_EU},
    {"canada", C_NA}, {"mexico", C_NA},
    {"brazil", C_SA}, {"chile", C_SA},
    {"africa", C_AF},
    {"asia", C_AS}, {"japan", C_AS}, {"korea", C_AS}, {"india", C_AS}, {"china", C_AS}, {"indonesia", C_AS},
    {"malaysia", C_AS}, {"taiwan", C_AS}, {"singapore", C_AS}, {"qatar", C_AS}, {"israel", C_AS}, {"saudi", C_AS},
};

/* Dash-separated prefixes: AWS, GCP, Oracle, Alibaba and Tencent. */
static const struct region_rule region_prefixes[] = {
    {"eu-", C_EU}, {"eusc-", C_EU}, {"uk-", C_EU},
    {"us-", C_NA}, {"ca-", C_NA}, {"na-", C_NA}, {"mx-", C_NA}, {"northamerica-", C_NA},
    {"sa-", C_SA}, {"southamerica-", C_SA},
    {"ap-", C_AS}, {"cn-", C_AS}, {"me-", C_AS}, {"il-", C_AS},
    {"af-", C_AF},
};
/* clang-format on */

/* Short country words that are only trusted at the start of a name ("usgovvirginia", "uksouth",
 * "uaenorth") or at its end before an optional number ("eastus", "westus2"): anywhere else they
 * would match too much ("australia" contains "us"). */
static const struct region_rule region_tokens[] = {
    {"uae", C_AS},
    {"us", C_NA},
    {"uk", C_EU},
};

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* True if s ends with word, optionally followed by digits. */
static bool ends_with_word(const char *s, size_t len, const char *word)
{
    while (len > 0 && s[len - 1] >= '0' && s[len - 1] <= '9')
        len--;
    size_t n = strlen(word);
    return len >= n && memcmp(s + len - n, word, n) == 0;
}

/*
 * Tries, in order: a bare country code ("DE", "us"), the exceptions, words anywhere, dashed
 * prefixes, then the short words. Names are compared case-insensitively; names longer than
 * 64 characters are not regions.
 */
const char *juris_region_continent(const char *region)
{
    char s[65];
    size_t len;
    if (region == NULL || (len = strlen(region)) == 0 || len >= sizeof(s))
        return NULL;
    for (size_t i = 0; i <= len; i++) {
        char c = region[i];
        s[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    if (len == 2) {
        char cc[3] = {(char)(s[0] - 'a' + 'A'), (char)(s[1] - 'a' + 'A'), '\0'};
        const char *c = juris_country_continent(cc);
        if (c != NULL)
            return c;
    }
    for (size_t i = 0; i < sizeof(region_exact) / sizeof(region_exact[0]); i++)
        if (strcmp(s, region_exact[i].text) == 0)
            return continent_names[region_exact[i].continent];
    for (size_t i = 0; i < sizeof(region_words) / sizeof(region_words[0]); i++)
        if (strstr(s, region_words[i].text) != NULL)
            return continent_names[region_words[i].continent];
    for (size_t i = 0; i < sizeof(region_prefixes) / sizeof(region_prefixes[0]); i++)
        if (starts_with(s, region_prefixes[i].text))
            return continent_names[region_prefixes[i].continent];
    for (size_t i = 0; i < sizeof(region_tokens) / sizeof(region_tokens[0]); i++)
        if (starts_with(s, region_tokens[i].text) || ends_with_word(s, len, region_tokens[i].text))
            return continent_names[region_tokens[i].continent];
    return NULL;
}
