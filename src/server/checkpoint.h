/*
 * checkpoint.h - signed checkpoints of the audit trail: every audit.checkpoint_every new
 * entries or audit.checkpoint_interval_ms (whichever comes first, and only when something
 * changed), the Merkle root over every chain's head is signed with the Ed25519 key in
 * audit.key, stored in the database and appended to <data>/audit-checkpoints.ndjson (fsynced),
 * a file meant to be shipped out of loci's reach.
 */
#ifndef LOCI_SERVER_CHECKPOINT_H
#define LOCI_SERVER_CHECKPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include "db/writer.h"
#include "server/config.h"
#include "server/secrets.h"

typedef struct checkpointer {
    const config_t *cfg;
    const secrets_t *sec;
    db_t *db;
    db_conn_t *conn;
    db_writer_t *wr;
    int64_t last_seq;   /* the newest checkpoint's seq */
    int64_t last_time;  /* its time (ms) */
    int64_t last_total; /* the sum of the chain heads' seqs it covered */
} checkpointer_t;

/* Sets up from the newest stored checkpoint (conn is borrowed). */
int checkpointer_init(checkpointer_t *cp, const config_t *cfg, const secrets_t *sec, db_t *db, db_conn_t *conn, db_writer_t *wr,
                      err_t *e);
/* Makes a checkpoint if one is due (or, with force, whenever anything changed since the last).
 * Returns 0 (made or not needed) or an error. */
int checkpointer_tick(checkpointer_t *cp, bool force, err_t *e);

#endif
