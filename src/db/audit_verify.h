/*
 * audit_verify.h - verifying the whole audit trail held by a database: every chain entry by
 * entry, every checkpoint's signature and Merkle root, and every entry a checkpoint attests.
 * Used by GET /v1/admin/audit/verify and by `loci audit verify --data DIR`.
 */
#ifndef LOCI_DB_AUDIT_VERIFY_H
#define LOCI_DB_AUDIT_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/audit.h"
#include "db/db.h"

typedef struct audit_report {
    bool ok;
    int64_t chains, entries, checkpoints;
    audit_problem_t problem; /* the first problem when !ok */
} audit_report_t;

/* The tenant value a report uses for problems with checkpoints themselves. */
#define AUDIT_CHECKPOINTS "(checkpoints)"

/* Checks one checkpoint: its signature under pub and that root is the Merkle root of its heads;
 * registers the attested heads with v. Returns 0, or -1 with *p describing the problem. */
int audit_checkpoint_check(const db_checkpoint_t *cp, const uint8_t pub[32], audit_verifier_t *v, audit_problem_t *p);

/* Verifies everything readable through c. Returns 0 with *r filled (r->ok false and r->problem
 * set when the trail is not intact), or an error when the database cannot be read. */
int db_audit_verify(db_conn_t *c, const uint8_t pub[32], audit_report_t *r, err_t *e);

#endif
