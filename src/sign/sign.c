/*
 * sign.c - the provider table and the residency re-check every signature passes through.
 */
#include "sign/sign.h"

#include <string.h>

#include "sign/providers.h"

static const signer_vt_t *const PROVIDERS[] = {
#define SIGN_PROVIDER_ENTRY(name) &sign_##name,
    SIGN_PROVIDERS(SIGN_PROVIDER_ENTRY)
#undef SIGN_PROVIDER_ENTRY
};

const signer_vt_t *sign_provider(const char *provider)
{
    for (size_t i = 0; provider && i < sizeof(PROVIDERS) / sizeof(PROVIDERS[0]); i++)
        if (strcmp(PROVIDERS[i]->provider, provider) == 0)
            return PROVIDERS[i];
    return NULL;
}

int sign_create(const store_t *st, signer_t **out, err_t *e)
{
    const signer_vt_t *vt = sign_provider(st->provider);
    *out = NULL;
    if (vt == NULL)
        return err_set(e, ERR_BAD_REQUEST, "loci cannot sign for provider '%s'", st->provider ? st->provider : "");
    return vt->create(st, out, e);
}

void sign_destroy(signer_t *s)
{
    if (s)
        s->vt->destroy(s);
}

int sign_presign(signer_t *s, const cset_t *allowed, const char *tenant, const sign_request_t *rq, sign_result_t *out, arena_t *a,
                 err_t *e)
{
    if (s == NULL)
        return err_set(e, ERR_UNAVAILABLE, "store cannot sign");
    const store_t *st = s->store;
    if (!cset_has(allowed, st->country)) {
        char set[256];
        cset_format(allowed, set, sizeof(set));
        return err_set(e, ERR_RESIDENCY_VIOLATION, "store '%s' (%s) is outside tenant '%s' jurisdictions [%s]", st->id, st->country,
                       tenant ? tenant : "", set);
    }
    sign_request_t r = *rq;
    if (r.op == SIGN_OP_OBJECT) {
        static const char *const methods[] = {"GET", "PUT", "HEAD", "DELETE"};
        bool ok = false;
        for (size_t i = 0; i < 4 && !ok; i++)
            ok = r.method && strcmp(r.method, methods[i]) == 0;
        if (!ok)
            return err_set(e, ERR_BAD_REQUEST, "cannot sign method '%s'", r.method ? r.method : "");
    } else {
        /* multipart steps have fixed methods (a provider may use another, e.g. Azure's PUT) */
        if (s->vt->limits.part_min <= 0)
            return err_set(e, ERR_BAD_REQUEST, "store '%s' (%s) has no multipart uploads", st->id, s->vt->provider);
        static const char *const mp_methods[] = {
            [SIGN_OP_PART] = "PUT", [SIGN_OP_MP_CREATE] = "POST", [SIGN_OP_MP_COMPLETE] = "POST", [SIGN_OP_MP_ABORT] = "DELETE"};
        if (r.op < SIGN_OP_PART || r.op > SIGN_OP_MP_ABORT)
            return err_set(e, ERR_BAD_REQUEST, "unknown signing operation");
        r.method = mp_methods[r.op];
        if (r.op == SIGN_OP_PART && (r.part_number < 1 || r.part_number > s->vt->limits.parts_max))
            return err_set(e, ERR_BAD_REQUEST, "part number must be 1 to %d", s->vt->limits.parts_max);
    }
    if (r.name == NULL || *r.name == '\0')
        return err_set(e, ERR_BAD_REQUEST, "no object name to sign");
    if (r.expires < 1 || r.expires > SIGN_MAX_EXPIRES)
        return err_set(e, ERR_BAD_REQUEST, "url lifetime must be 1 to %d seconds", SIGN_MAX_EXPIRES);
    return s->vt->presign(s, &r, out, a, e);
}
