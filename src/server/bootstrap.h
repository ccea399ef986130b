/*
 * bootstrap.h - first start of an empty installation: a local store, a demo tenant and a token
 * for it, so `make run` is immediately usable.
 */
#ifndef LOCI_SERVER_BOOTSTRAP_H
#define LOCI_SERVER_BOOTSTRAP_H

#include "db/writer.h"
#include "server/config.h"
#include "server/secrets.h"

/* If the database has neither stores nor tenants, creates the `local` store, the `demo` tenant
 * and a read/write token (printed, and written to <data>/demo.token). Gives every tenant that
 * has none (from before the audit trail) an audit key. Returns 0 or an error. */
int bootstrap_first_start(const config_t *cfg, const secrets_t *sec, db_t *db, db_writer_t *wr, err_t *e);

#endif
