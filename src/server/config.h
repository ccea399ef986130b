/*
 * config.h - loci's settings: defaults, then the YAML config file, then LOCI_* environment
 * variables, then command-line flags (later wins). One table (config.c) names every setting
 * once, with its YAML path and its environment variable, so the two never drift apart.
 * The admin token is never read from the config file (see server/secrets.h).
 */
#ifndef LOCI_SERVER_CONFIG_H
#define LOCI_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/juris.h"
#include "core/object.h"
#include "util/err.h"

typedef struct config {
    char *data_dir;                   /* ./var */
    char *listen;                     /* 127.0.0.1:7700 */
    int threads;                      /* event-loop threads; 0 = one per core */
    int loop_spin_us;                 /* after a turn that did work, a loop polls up to this long before it sleeps */
    char *public_url;                 /* base URL clients use to reach loci (local-store URLs); default http://<listen> */
    char *cell;                       /* this deployment's cell name, in ids and tokens ("eu1") */
    char *database;                   /* "" = SQLite in <data_dir>/loci.db; "sqlite:PATH"; "postgres://..." */
    char *database_replicas;          /* PostgreSQL read replicas for list and search: URLs, comma-separated */
    int database_replica_max_lag_ms;  /* a replica further behind the primary than this is not used */
    int database_timeout_ms;          /* bound on connecting to a database server and on every round trip */
    int database_readers;             /* threads reading a database server (0: eight per event loop, at least 8) */
    int stores_refresh_ms;            /* how often stores changed by another server are picked up (0: never) */
    char *local_country;              /* country of the default local store ("DE") */
    char *local_region;               /* region name of the default local store ("local") */
    int64_t local_max_object_size;    /* largest PUT to a local store (1 GiB) */
    int64_t max_object_size;          /* largest object size accepted (5 GiB, the S3 single-PUT limit) */
    bool log_requests;                /* one JSON line per request on stderr */
    int request_timeout_ms;           /* a request (headers and body) must arrive within this; also keep-alive idle */
    int shutdown_timeout_ms;          /* graceful shutdown waits this long for in-flight requests */
    int header_max;                   /* request line + headers, bytes */
    int io_threads;                   /* pool for blocking I/O (store probes, local files) */
    int write_batch_max;              /* most writes in one transaction (group commit) */
    int upload_grace_s;               /* an upload is aborted this long after its URLs expire */
    int expire_interval_ms;           /* how often abandoned uploads are looked for */
    int audit_checkpoint_every;       /* sign a checkpoint after this many new entries... */
    int audit_checkpoint_interval_ms; /* ...or this long after the last one, if anything changed */
    int audit_read_flush_ms;          /* read-audit entries wait at most this long before they are written */
    int audit_read_queue_max;         /* read-audit entries held in memory before reads get 503 */
    obj_limits_t limits;
    juris_groups_t groups;
} config_t;

/* Sets defaults (owned strings). */
void config_init(config_t *c);
/* Frees the strings. */
void config_release(config_t *c);

/* Applies a YAML file. Unknown keys and bad values are errors naming the key. */
int config_load_file(config_t *c, const char *path, err_t *e);
/* Applies YAML text data[0..len) the same way; name stands for the file in messages. */
int config_load_buffer(config_t *c, const char *name, const char *data, size_t len, err_t *e);
/* Applies LOCI_* environment variables. */
int config_load_env(config_t *c, err_t *e);
/* Sets one setting by its YAML name (e.g. "listen", "limits.body_max") from a string. */
int config_set(config_t *c, const char *name, const char *value, err_t *e);
/* Fills derived defaults (public_url from listen, threads from cores) and checks consistency. */
int config_finish(config_t *c, err_t *e);

/* Writes a description of every setting (YAML name, environment variable, default) to f. */
void config_print_help(void *f);

#endif
