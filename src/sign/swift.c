/*
 * swift.c - the "swift" provider (being written; until then stores of this provider are refused).
 */
#include "sign/providers.h"

static int create(const store_t *st, signer_t **out, err_t *e)
{
    (void)st;
    *out = NULL;
    return err_set(e, ERR_BAD_REQUEST, "provider 'swift' is not available yet");
}

static int presign(signer_t *s, const sign_request_t *rq, sign_result_t *out, arena_t *a, err_t *e)
{
    (void)s, (void)rq, (void)out, (void)a;
    return err_set(e, ERR_BAD_REQUEST, "provider 'swift' is not available yet");
}

static void destroy(signer_t *s)
{
    (void)s;
}

const signer_vt_t sign_swift = {.provider = "swift", .create = create, .presign = presign, .destroy = destroy};
