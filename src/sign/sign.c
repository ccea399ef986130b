/*
 * sign.c - the provider table and the residency re-check every signature passes through.
 */
#include "sign/sign.h"

#include <string.h>

#include "sign/s3.h"

static const signer_vt_t *const PROVIDERS[] = {&sign_s3, &sign_local};

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
    static const char *const methods[] = {"GET", "PUT", "HEAD", "DELETE"};
    bool ok = false;
    for (size_t i = 0; i < 4 && !ok; i++)
        ok = rq->method && strcmp(rq->method, methods[i]) == 0;
    if (!ok)
        return err_set(e, ERR_BAD_REQUEST, "cannot sign method '%s'", rq->method ? rq->method : "");
    if (rq->name == NULL || *rq->name == '\0')
        return err_set(e, ERR_BAD_REQUEST, "no object name to sign");
    if (rq->expires < 1 || rq->expires > SIGN_MAX_EXPIRES)
        return err_set(e, ERR_BAD_REQUEST, "url lifetime must be 1 to %d seconds", SIGN_MAX_EXPIRES);
    return s->vt->presign(s, rq, out, a, e);
}
