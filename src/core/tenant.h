/*
 * tenant.h - a customer account and its residency policy (DESIGN.md "Concepts").
 */
#ifndef LOCI_CORE_TENANT_H
#define LOCI_CORE_TENANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tenant {
    const char *id;
    const char **jurisdictions; /* as configured: countries and group names */
    size_t njurisdictions;
    int copies;                     /* stores per object, 1..PLACEMENT_MAX_COPIES */
    int64_t url_expires;            /* default URL lifetime, seconds */
    int64_t url_expires_max;        /* longest lifetime a client may ask for, seconds */
    int64_t created_at, updated_at; /* ms */
    bool audit_reads;               /* record every signed URL handed out (asynchronously, in batches) */
    /* the tenant's audit key (HMAC key for object keys in the trail), sealed under the master key */
    const uint8_t *audit_key_sealed;
    size_t audit_key_sealed_len;
} tenant_t;

#endif
