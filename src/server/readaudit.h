/*
 * readaudit.h - read auditing for tenants that ask for it ("audit_reads": true): every signed
 * URL handed out is recorded in the tenant's chain. Reads must not wait for a disk write, so
 * entries are queued in memory and written in batches (one transaction per batch) at least
 * every audit.read_flush_ms. A crash can lose the entries of that last window; changes are
 * never affected (their entries are written with them). When the queue is full, audited reads
 * are refused (503) rather than served unrecorded.
 */
#ifndef LOCI_SERVER_READAUDIT_H
#define LOCI_SERVER_READAUDIT_H

#include <stdint.h>

#include "db/writer.h"
#include "server/config.h"

typedef struct read_audit read_audit_t;

int read_audit_start(const config_t *cfg, db_writer_t *wr, read_audit_t **out, err_t *e);
/* Queues an entry (strings are copied). Returns 0, or ERR_UNAVAILABLE when the queue is full. */
int read_audit_add(read_audit_t *ra, const db_audit_input_t *in);
/* Writes what is queued, then stops the flusher. */
void read_audit_stop(read_audit_t *ra);

typedef struct read_audit_stats {
    uint64_t queued, written, batches, lost;
} read_audit_stats_t;

void read_audit_stats(read_audit_t *ra, read_audit_stats_t *out);

#endif
