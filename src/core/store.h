/*
 * store.h - a backing location for object bytes (see DESIGN.md "Concepts").
 *
 * A store_t is a plain value: its strings are owned by whoever built it (a store snapshot's
 * arena, or a test). Credentials appear here only decrypted in memory; they are stored
 * encrypted (AES-256-GCM under the master key) and never returned by the API or logged.
 */
#ifndef LOCI_CORE_STORE_H
#define LOCI_CORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef enum store_status {
    STORE_ACTIVE = 0, /* takes new objects */
    STORE_READONLY,   /* serves reads only */
    STORE_OFFLINE,    /* skipped for reads and writes */
} store_status_t;

typedef struct store_cred {
    const char *name; /* e.g. "access_key_id", "secret_access_key" */
    const char *value;
} store_cred_t;

typedef struct store {
    const char *id;
    const char *provider; /* "s3", "gcs", "azure", "swift", "local" */
    const char *endpoint; /* scheme://host[:port][/base-path]; for local: loci's own public URL */
    const char *bucket;   /* bucket or container (local: unused) */
    const char *region;   /* provider region, e.g. "eu-west-1" ("us-east-1" if not set for s3) */
    char country[3];      /* ISO 3166-1 alpha-2 where the bytes are */
    store_status_t status;
    int weight;              /* 0-1000; 0 takes no new objects */
    bool path_style;         /* s3: https://endpoint/bucket/key rather than https://bucket.endpoint/key */
    const char *public_host; /* optional scheme://host[:port] clients use instead of the endpoint */
    const char *account;     /* azure account name */
    const store_cred_t *creds;
    size_t ncreds;
    int64_t created_at, updated_at; /* ms since epoch */
} store_t;

/* Returns the value of the named credential, or NULL. */
const char *store_cred(const store_t *s, const char *name);

/* "active" / "readonly" / "offline". */
const char *store_status_name(store_status_t st);
/* Parses a status name; returns 0 or ERR_BAD_REQUEST. */
int store_status_parse(const char *name, store_status_t *out);

/* True if id is a valid store id: 1-64 of [a-z0-9._-], starting with a letter or digit. */
bool store_id_valid(const char *id);

#endif
