/*
 * audit.h - what each change records in the audit trail, shared by every backend so the
 * entries (and so the chains) are the same whatever database holds them.
 *
 * detail never contains an object key, a tag value or attributes: object keys appear only as
 * the subject, an HMAC under the tenant's audit key, so shredding that key leaves no personal
 * data in the trail.
 */
#ifndef LOCI_DB_AUDIT_H
#define LOCI_DB_AUDIT_H

#include <stdbool.h>

#include "db/db.h"

/* Describes the entry an applied op w appends. Returns false for ops that append none here
 * (reads audit batches and expiry append their own; checkpoints are not chain entries; a
 * failed erasure is only retried). Strings are allocated from a. */
bool db_audit_describe(const db_write_t *w, db_audit_input_t *out, arena_t *a);

/* The entry of one object of DB_OP_OBJECT_IMPORT w: action "object_imported", the object's
 * subject, and detail {"object_id","version":1,"size","sha256","stores":[store]} written into
 * detail (reset first; out->detail points into it until detail changes). */
void db_audit_import_entry(const db_write_t *w, const db_import_object_t *o, db_audit_input_t *out, buf_t *detail);

#endif
