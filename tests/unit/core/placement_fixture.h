/*
 * placement_fixture.h - helpers shared by the placement tests: building stores and sets.
 */
#ifndef LOCI_TEST_PLACEMENT_FIXTURE_H
#define LOCI_TEST_PLACEMENT_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "core/juris.h"
#include "core/placement.h"
#include "core/store.h"

/* A store value with the fields placement looks at; strings are borrowed. */
static inline store_t fx_store(const char *id, const char *provider, const char *region, const char *country, store_status_t status,
                               int weight)
{
    store_t s;
    memset(&s, 0, sizeof(s));
    s.id = id;
    s.provider = provider;
    s.region = region;
    snprintf(s.country, sizeof(s.country), "%s", country);
    s.status = status;
    s.weight = weight;
    return s;
}

/* Expands a comma-separated list of countries and built-in groups ("EU,CH"); an empty set on error. */
static inline cset_t fx_set(const char *list)
{
    juris_groups_t g;
    char buf[256];
    const char *codes[32];
    size_t n = 0;
    cset_t s;
    juris_groups_init(&g);
    snprintf(buf, sizeof(buf), "%s", list);
    for (char *p = buf; *p && n < 32;) {
        char *end = strchr(p, ',');
        if (end)
            *end = '\0';
        codes[n++] = p;
        p = end ? end + 1 : p + strlen(p);
    }
    if (juris_expand(&g, codes, n, &s, NULL) != 0)
        cset_clear(&s);
    return s;
}

/* can_sign callback: refuses the provider named by ctx->refuse, and counts its calls. */
typedef struct fx_signers {
    const char *refuse;
    int calls;
} fx_signers_t;

static inline bool fx_can_sign(const store_t *st, void *ctx)
{
    fx_signers_t *s = ctx;
    s->calls++;
    return s->refuse == NULL || strcmp(st->provider, s->refuse) != 0;
}

#endif
