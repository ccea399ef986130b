/*
 * s3.h - the SigV4 providers (private to src/sign/): "s3", and "local", which signs loci's
 * own local-store paths the same way.
 */
#ifndef LOCI_SIGN_S3_H
#define LOCI_SIGN_S3_H

#include "sign/sign.h"

extern const signer_vt_t sign_s3;
extern const signer_vt_t sign_local;

/* Shared by both providers: a SigV4 signer whose URLs are {scheme}://{host}{base}{prefix}/{name}. */
int sign_s3_setup(const store_t *st, const char *default_region, const char *prefix, bool virtual_host, signer_t **out,
                  const signer_vt_t *vt, err_t *e);
int sign_s3_presign(signer_t *s, const sign_request_t *rq, sign_result_t *out, arena_t *a, err_t *e);
void sign_s3_destroy(signer_t *s);

#endif
