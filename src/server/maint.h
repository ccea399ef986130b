/*
 * maint.h - background maintenance: erasing queued copies (replaced, deleted or aborted
 * uploads' bytes) from their stores, and aborting uploads that were never completed.
 */
#ifndef LOCI_SERVER_MAINT_H
#define LOCI_SERVER_MAINT_H

#include "db/writer.h"
#include "server/config.h"
#include "server/secrets.h"
#include "server/stores.h"

typedef struct maint maint_t;

/* Starts the maintenance thread (erasure, upload expiry, audit checkpoints). */
int maint_start(const config_t *cfg, const secrets_t *sec, db_t *db, db_writer_t *wr, stores_t *stores, maint_t **out, err_t *e);
/* Stops it (waits for the current round) after a final checkpoint if anything changed. */
void maint_stop(maint_t *m);

#endif
