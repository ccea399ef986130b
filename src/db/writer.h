/*
 * writer.h - the writer thread: every change to the metadata store goes through it.
 *
 * Loop threads never block on a write. They submit a db_write_t and return; the writer takes
 * every op waiting in its queue (up to max_batch), applies them in one transaction with one
 * durable commit (group commit: N concurrent requests share one fsync), then calls each op's
 * done() on the writer thread. A success therefore means the change is durable.
 */
#ifndef LOCI_DB_WRITER_H
#define LOCI_DB_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

typedef struct db_writer db_writer_t;

/* Called on the writer thread after a batch commits, before the ops' done() callbacks. */
typedef void (*db_commit_hook_t)(void *ctx, db_write_t *const *ops, size_t n);

/* Starts the writer thread for db. max_batch bounds how many ops share one transaction.
 * Returns 0 or an error. */
int db_writer_start(db_t *db, size_t max_batch, db_writer_t **out, err_t *e);

/* Sets a hook run after every committed batch (e.g. to refresh a cache of stores). */
void db_writer_set_commit_hook(db_writer_t *wr, db_commit_hook_t hook, void *ctx);

/* Queues an op (thread-safe). After db_writer_stop began, ops fail with ERR_UNAVAILABLE. */
void db_writer_submit(db_writer_t *wr, db_write_t *op);

/* Submits an op and waits for it; returns op->rc. For startup and tools, not loop threads. */
int db_write_sync(db_writer_t *wr, db_write_t *op);

/* Finishes every queued op, stops the thread and frees the writer. */
void db_writer_stop(db_writer_t *wr);

/* Counters for /metrics. */
typedef struct db_writer_stats {
    uint64_t commits; /* committed transactions (fsyncs) */
    uint64_t ops;     /* ops applied */
    uint64_t failed_batches;
} db_writer_stats_t;

void db_writer_stats(db_writer_t *wr, db_writer_stats_t *out);

#endif
