/*
 * sq_vfs.c - "loci-map", the VFS of the read connections: SQLite's own unix VFS, except that a
 * reader keeps its memory map of the database file from one read transaction to the next.
 *
 * Why: in WAL mode a connection that starts a read transaction after any commit drops its
 * whole page cache, and with mmap_size set it also unmaps the file (sqlite3OsUnfetch(fd, 0, 0)
 * from pagerBeginReadTransaction). Under a steady trickle of writes every read then finds a cold
 * cache: each page comes back through pread (a system call and a 4 KiB copy), or, mapped, through
 * a fresh mmap, page faults and TLB shootdowns. Keeping the map makes the refill a pointer into
 * pages the kernel already has mapped.
 *
 * Why it is safe: the map is MAP_SHARED and read-only, so it always shows the file's current
 * bytes. A reader only takes from the map pages its snapshot does not find in the WAL, and the
 * checkpointer never overwrites a database page that a live snapshot still reads from the file
 * (that is WAL's backfill rule, the same one SQLite's mmap relies on). The one thing the unmap
 * also did is follow the file's growth: a fetch beyond the map fails over to xRead, and marks the
 * file so that the next full unfetch does unmap, and the next fetch maps the grown file. loci never
 * shrinks the file; if another program does (VACUUM), the checkpoint that truncates it waits until
 * no snapshot older than the VACUUM is left, and newer ones read no page past the new end.
 *
 * Everything else is the unix VFS's own code, called through its methods: locks, the WAL-index
 * in shared memory, the inode list that makes POSIX locks work between connections of one
 * process.
 */
#include "db/sqlite/sq.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

/* A database file opened through loci-map: ours in front, the unix VFS's file right behind. */
typedef struct map_file {
    sqlite3_file base;
    sqlite3_file *real;
    int grew;                /* a fetch went past the map: the next full unfetch unmaps for real */
    sqlite3_int64 map_limit; /* the most this file is mapped (PRAGMA mmap_size, as SQLite took it) */
} map_file_t;

static sqlite3_vfs map_vfs;
static sqlite3_vfs *unix_vfs;
static size_t head; /* our part of a file, rounded up so the unix VFS's part is aligned */
static sqlite3_io_methods map_methods;
static int setup_rc = SQLITE_ERROR;
static _Atomic uint64_t kept, redone; /* maps kept over a change, maps redone after growth */

#define REAL(f) (((map_file_t *)(f))->real)

static int m_close(sqlite3_file *f)
{
    return REAL(f)->pMethods->xClose(REAL(f));
}

static int m_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    return REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}

static int m_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    return REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}

static int m_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    ((map_file_t *)f)->grew = 1; /* (not expected of a reader; the map is redone next time) */
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int m_sync(sqlite3_file *f, int flags)
{
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int m_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int m_lock(sqlite3_file *f, int level)
{
    return REAL(f)->pMethods->xLock(REAL(f), level);
}

static int m_unlock(sqlite3_file *f, int level)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), level);
}

static int m_check_reserved(sqlite3_file *f, int *out)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int m_file_control(sqlite3_file *f, int op, void *arg)
{
    int rc = REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
    if (op == SQLITE_FCNTL_MMAP_SIZE && rc == SQLITE_OK) {
        /* the limit SQLite settled on (it caps the pragma at its build's maximum): a fetch
         * beyond it is no sign of growth */
        sqlite3_int64 now = -1;
        if (REAL(f)->pMethods->xFileControl(REAL(f), SQLITE_FCNTL_MMAP_SIZE, &now) == SQLITE_OK)
            ((map_file_t *)f)->map_limit = now;
    }
    return rc;
}

static int m_sector_size(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int m_device(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int m_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **pp)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), region, size, extend, pp);
}

static int m_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}

static void m_shm_barrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int m_shm_unmap(sqlite3_file *f, int delete_flag)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), delete_flag);
}

static int m_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
    int rc = REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
    /* past the map but within what may be mapped: the file grew since it was mapped */
    if (rc == SQLITE_OK && *pp == NULL && off + n <= ((map_file_t *)f)->map_limit)
        ((map_file_t *)f)->grew = 1;
    return rc;
}

static int m_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    map_file_t *m = (map_file_t *)f;
    if (p == NULL && !m->grew) {
        atomic_fetch_add_explicit(&kept, 1, memory_order_relaxed);
        return SQLITE_OK; /* "unmap everything" after a change: keep the map (see the top) */
    }
    if (p == NULL) {
        atomic_fetch_add_explicit(&redone, 1, memory_order_relaxed);
        m->grew = 0;
    }
    return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static int m_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags, int *out_flags)
{
    (void)vfs;
    if ((flags & SQLITE_OPEN_MAIN_DB) == 0) /* the WAL, its index, journals: the unix VFS's own */
        return unix_vfs->xOpen(unix_vfs, name, f, flags, out_flags);
    map_file_t *m = (map_file_t *)f;
    memset(m, 0, sizeof(*m));
    m->real = (sqlite3_file *)((char *)m + head);
    int rc = unix_vfs->xOpen(unix_vfs, name, m->real, flags, out_flags);
    if (m->real->pMethods == NULL)
        return rc; /* (SQLite calls no method of a file whose pMethods is NULL) */
    if (m->real->pMethods->iVersion < 3) {
        m->real->pMethods->xClose(m->real);
        return SQLITE_CANTOPEN;
    }
    m->base.pMethods = &map_methods;
    return rc;
}

static void setup(void)
{
    unix_vfs = sqlite3_vfs_find("unix");
    if (unix_vfs == NULL || unix_vfs->iVersion < 2)
        return;
    map_vfs = *unix_vfs; /* its other methods as they are, with the unix VFS's own pAppData */
    map_vfs.pNext = NULL;
    map_vfs.zName = SQ_MAP_VFS;
    /* room for the unix VFS's file behind ours, aligned as it expects */
    head = (sizeof(map_file_t) + 15) & ~(size_t)15;
    map_vfs.szOsFile = (int)head + unix_vfs->szOsFile;
    map_vfs.xOpen = m_open;
    map_methods = (sqlite3_io_methods){
        .iVersion = 3,
        .xClose = m_close,
        .xRead = m_read,
        .xWrite = m_write,
        .xTruncate = m_truncate,
        .xSync = m_sync,
        .xFileSize = m_file_size,
        .xLock = m_lock,
        .xUnlock = m_unlock,
        .xCheckReservedLock = m_check_reserved,
        .xFileControl = m_file_control,
        .xSectorSize = m_sector_size,
        .xDeviceCharacteristics = m_device,
        .xShmMap = m_shm_map,
        .xShmLock = m_shm_lock,
        .xShmBarrier = m_shm_barrier,
        .xShmUnmap = m_shm_unmap,
        .xFetch = m_fetch,
        .xUnfetch = m_unfetch,
    };
    setup_rc = sqlite3_vfs_register(&map_vfs, 0);
}

int sq_map_vfs_register(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, setup);
    return setup_rc;
}

void sq_map_stats(uint64_t *kept_out, uint64_t *redone_out)
{
    *kept_out = atomic_load_explicit(&kept, memory_order_relaxed);
    *redone_out = atomic_load_explicit(&redone, memory_order_relaxed);
}
