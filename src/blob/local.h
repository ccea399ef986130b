/*
 * local.h - the bytes of `local` stores on loci's own disk.
 *
 * Layout: <root>/<store>/<tenant>/<object id> holds the bytes and <...>.sha256 the hex SHA-256
 * computed while they were received. Writes go to a temporary file that is fsynced and renamed
 * into place (and the directory fsynced), so a reader never sees a partial object and a
 * completed write survives a crash. Blocking calls: run them on a pool thread.
 */
#ifndef LOCI_BLOB_LOCAL_H
#define LOCI_BLOB_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "util/slice.h"

/* True if name is a valid local object name "<tenant>/<object id>" (so never a path escape). */
bool blob_local_name_valid(slice_t name);

/* Writes "<root>/<store>/<name>" into out (cap bytes). Returns 0 or ERR_BAD_REQUEST if too long. */
int blob_local_path(const char *root, const char *store, const char *name, char *out, size_t cap);

/* Stores data atomically at path with its SHA-256 (hex written to sha_hex, 65 bytes) and its
 * content type in the sidecar. Returns 0 or ERR_IO / ERR_UNAVAILABLE (disk full) with the
 * reason in e. */
int blob_local_write(const char *path, const void *data, size_t len, const char *content_type, char sha_hex[65], err_t *e);

/* Stats an object: returns 0 with its size and, from the sidecar, its SHA-256 hex and content
 * type ("" when the sidecar is missing); ERR_NOT_FOUND; or ERR_IO. */
int blob_local_stat(const char *path, int64_t *size, char sha_hex[65], char content_type[256], err_t *e);

/* Deletes an object and its sidecar; a missing object is success. Returns 0 or ERR_IO. */
int blob_local_delete(const char *path, err_t *e);

/* Removes the temporary files ("<name>.tmp-<12 hex>") that writes cut off by a crash left under
 * root, if last modified more than min_age_s seconds ago (a write in progress holds its file
 * for moments: it writes bytes already received, fsyncs and renames). Returns how many were
 * removed; files it cannot remove are skipped. */
size_t blob_local_sweep_tmp(const char *root, int64_t min_age_s);

#endif
