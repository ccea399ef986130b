/*
 * providers.h - every signing provider, each defined in its own file as `sign_<name>`
 * (private to src/sign/; sign.c builds the provider table from this list).
 */
#ifndef LOCI_SIGN_PROVIDERS_H
#define LOCI_SIGN_PROVIDERS_H

#include "sign/sign.h"

#define SIGN_PROVIDERS(X) X(s3) X(local) X(gcs) X(azure) X(swift)

#define SIGN_PROVIDER_DECLARE(name) extern const signer_vt_t sign_##name;
SIGN_PROVIDERS(SIGN_PROVIDER_DECLARE)
#undef SIGN_PROVIDER_DECLARE

#endif
