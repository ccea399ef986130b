/*
 * stores.h - the in-memory snapshot of every store, with decrypted credentials and a ready
 * signer per store. Requests take a reference to the current snapshot (cheap) and use it
 * without locks; a change to the stores table builds a new snapshot and swaps it in, and the
 * old one is freed when its last user releases it.
 */
#ifndef LOCI_SERVER_STORES_H
#define LOCI_SERVER_STORES_H

#include <stdatomic.h>
#include <stddef.h>

#include "core/store.h"
#include "db/db.h"
#include "server/config.h"
#include "server/secrets.h"
#include "sign/sign.h"
#include "util/arena.h"

typedef struct store_snap {
    atomic_int refs;
    arena_t arena;
    size_t n;
    store_t *stores;       /* sorted by id */
    signer_t **signers;    /* signers[i] for stores[i]; NULL when it cannot sign */
    const char **problems; /* why signers[i] is NULL */
} store_snap_t;

typedef struct stores stores_t;

/* Loads the stores through a connection of its own (kept for reloads). */
int stores_new(db_t *db, const secrets_t *sec, const config_t *cfg, stores_t **out, err_t *e);
void stores_free(stores_t *s);

/* Rebuilds the snapshot from the database (thread-safe; called after store changes commit). */
int stores_reload(stores_t *s, err_t *e);

/* Rebuilds the snapshot if the stores in the database differ from it (ids or updated_at): picks
 * up changes made through another server on the same database. Returns 0 or an error. */
int stores_refresh(stores_t *s, err_t *e);

/* Takes a reference to the current snapshot; give it back with stores_release. */
store_snap_t *stores_acquire(stores_t *s);
void stores_release(store_snap_t *snap);

/* Finds a store by id; returns its index or -1. */
long snap_find(const store_snap_t *snap, const char *id);

/* Encrypts a credentials JSON object for a store (AES-256-GCM, bound to the store id).
 * Returns a malloc'ed buffer (free it) and its length, or NULL. */
uint8_t *stores_seal_creds(const secrets_t *sec, const char *store_id, const char *json, size_t *len);

#endif
