/*
 * local.c - atomic file writes for local stores.
 */
#include "blob/local.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/ids.h"
#include "core/object.h"
#include "util/crypto.h"
#include "util/enc.h"

bool blob_local_name_valid(slice_t name)
{
    const char *slash = memchr(name.base, '/', name.len);
    if (slash == NULL)
        return false;
    size_t tl = (size_t)(slash - name.base);
    if (tl == 0 || tl > 64)
        return false;
    char tenant[65];
    memcpy(tenant, name.base, tl);
    tenant[tl] = '\0';
    if (!tenant_id_valid(tenant))
        return false;
    return id_parse(slice_make(slash + 1, name.len - tl - 1), NULL);
}

int blob_local_path(const char *root, const char *store, const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s/%s", root, store, name);
    return n < 0 || (size_t)n >= cap ? ERR_BAD_REQUEST : 0;
}

static int io_error(err_t *e, const char *what, const char *path)
{
    /* out of space or out of descriptors: the store is fine, this moment is not (503) */
    int code = errno == ENOSPC || errno == EDQUOT || errno == EMFILE || errno == ENFILE ? ERR_UNAVAILABLE : ERR_IO;
    return err_set(e, code, "%s '%s': %s", what, path, strerror(errno));
}

/* mkdir -p for the directory part of path. */
static int make_parents(const char *path, err_t *e)
{
    char tmp[4096];
    size_t n = strlen(path);
    if (n >= sizeof(tmp))
        return err_set(e, ERR_BAD_REQUEST, "path too long");
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return io_error(e, "cannot create directory", tmp);
        *p = '/';
    }
    return 0;
}

static int fsync_dir(const char *path, err_t *e)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        return 0;
    *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return io_error(e, "cannot open directory", dir);
    int rc = fsync(fd) == 0 ? 0 : io_error(e, "cannot sync directory", dir);
    close(fd);
    return rc;
}

/* Writes len bytes to a fresh temporary file next to path, fsyncs it and renames it to path. */
static int write_atomic(const char *path, const void *data, size_t len, err_t *e)
{
    char tmp[4200];
    uint8_t rnd[6];
    char suffix[16];
    crypto_random(rnd, sizeof(rnd));
    hex_encode(rnd, sizeof(rnd), suffix);
    snprintf(tmp, sizeof(tmp), "%s.tmp-%s", path, suffix);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return io_error(e, "cannot create", tmp);
    const char *p = data;
    size_t left = len;
    int rc = 0;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = io_error(e, "cannot write", tmp);
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = io_error(e, "cannot sync", tmp);
    if (close(fd) != 0 && rc == 0)
        rc = io_error(e, "cannot close", tmp);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = io_error(e, "cannot rename", tmp);
    if (rc != 0)
        unlink(tmp);
    return rc;
}

int blob_local_write(const char *path, const void *data, size_t len, const char *content_type, char sha_hex[65], err_t *e)
{
    int rc;
    char side[4200], meta[512];
    if ((rc = make_parents(path, e)) != 0)
        return rc;
    sha256_hex(data, len, sha_hex);
    snprintf(side, sizeof(side), "%s.sha256", path);
    int ml = snprintf(meta, sizeof(meta), "%s\n%.255s\n", sha_hex, content_type ? content_type : "");
    /* the sidecar first: a crash between the renames leaves a digest without bytes, never bytes
     * with a stale digest */
    if ((rc = write_atomic(side, meta, (size_t)ml, e)) != 0)
        return rc;
    if ((rc = write_atomic(path, data, len, e)) != 0)
        return rc;
    return fsync_dir(path, e);
}

int blob_local_stat(const char *path, int64_t *size, char sha_hex[65], char content_type[256], err_t *e)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return ERR_NOT_FOUND;
        return io_error(e, "cannot stat", path);
    }
    *size = (int64_t)st.st_size;
    sha_hex[0] = '\0';
    content_type[0] = '\0';
    char side[4200], meta[512];
    snprintf(side, sizeof(side), "%s.sha256", path);
    int fd = open(side, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, meta, sizeof(meta) - 1);
        close(fd);
        if (n >= 65 && meta[64] == '\n') {
            meta[n] = '\0';
            memcpy(sha_hex, meta, 64);
            sha_hex[64] = '\0';
            char *ct = meta + 65, *nl = strchr(ct, '\n');
            if (nl)
                *nl = '\0';
            size_t cl = strlen(ct);
            if (cl > 255)
                cl = 255;
            memcpy(content_type, ct, cl);
            content_type[cl] = '\0';
        }
    }
    return 0;
}

int blob_local_delete(const char *path, err_t *e)
{
    char side[4200];
    snprintf(side, sizeof(side), "%s.sha256", path);
    if (unlink(path) != 0 && errno != ENOENT)
        return io_error(e, "cannot delete", path);
    if (unlink(side) != 0 && errno != ENOENT)
        return io_error(e, "cannot delete", side);
    return 0;
}

/* nftw() has no context argument: the sweep's settings, for its one thread at a time */
static _Thread_local struct {
    time_t before;
    size_t removed;
} sweep;

/* True if name ends in ".tmp-" and the 12 lowercase hex digits write_atomic gives it. */
static bool is_tmp_name(const char *name)
{
    size_t n = strlen(name);
    if (n < 17 || memcmp(name + n - 17, ".tmp-", 5) != 0)
        return false;
    for (size_t i = n - 12; i < n; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            return false;
    return true;
}

static int sweep_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    if (type == FTW_F && is_tmp_name(path + ftw->base) && st->st_mtime < sweep.before && unlink(path) == 0)
        sweep.removed++;
    return 0;
}

size_t blob_local_sweep_tmp(const char *root, int64_t min_age_s)
{
    sweep.before = time(NULL) - (time_t)min_age_s;
    sweep.removed = 0;
    nftw(root, sweep_one, 16, FTW_PHYS);
    return sweep.removed;
}
