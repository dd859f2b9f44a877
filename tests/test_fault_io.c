/**
 * @file test_fault_io.c
 * @brief I/O errors and a full disk: a test VFS wraps the default unix VFS and fails
 * the Nth xWrite (SQLITE_IOERR_WRITE, or SQLITE_FULL) or the Nth xSync
 * (SQLITE_IOERR_FSYNC). It is registered as the default VFS of this test process
 * (sqlite3_vfs_register(vfs, 1)), so bt_store_open uses it without an API change.
 * For every N up to the number of writes (syncs) of an unfaulted import, the import
 * runs with the fault armed; then the store is closed, reopened on the plain unix VFS
 * and must pass PRAGMA integrity_check and hold none of the import (it failed) or all
 * of it (it succeeded).
 */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "trust_util.h"

#include "store/sqlite_internal.h"

/* The fault plan. Test-process state: SQLite calls the VFS methods without a way to
 * pass ours, and this test is single-threaded. */
enum fault_kind { FAULT_WRITE = 0, FAULT_FULL = 1, FAULT_SYNC = 2 };
static sqlite3_vfs *fv_base;       /* the unix VFS */
static long fv_writes, fv_syncs;   /* calls since armed */
static long fv_fail_at;            /* 0: off */
static enum fault_kind fv_kind;
static long fv_journals;           /* rollback journals opened since armed */

typedef struct fv_file {
    sqlite3_file base;   /* our methods */
    sqlite3_file *real;  /* the unix VFS's file, allocated after ours */
} fv_file;

static int fv_close(sqlite3_file *f)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods ? p->real->pMethods->xClose(p->real) : SQLITE_OK;
}
static int fv_read(sqlite3_file *f, void *b, int n, sqlite3_int64 off)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xRead(p->real, b, n, off);
}
static int fv_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 off)
{
    fv_file *p = (fv_file *)f;
    fv_writes++;
    if (fv_fail_at > 0 && fv_kind != FAULT_SYNC && fv_writes == fv_fail_at)
        return fv_kind == FAULT_FULL ? SQLITE_FULL : SQLITE_IOERR_WRITE;
    return p->real->pMethods->xWrite(p->real, b, n, off);
}
static int fv_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xTruncate(p->real, size);
}
static int fv_sync(sqlite3_file *f, int flags)
{
    fv_file *p = (fv_file *)f;
    fv_syncs++;
    if (fv_fail_at > 0 && fv_kind == FAULT_SYNC && fv_syncs == fv_fail_at)
        return SQLITE_IOERR_FSYNC;
    return p->real->pMethods->xSync(p->real, flags);
}
static int fv_size(sqlite3_file *f, sqlite3_int64 *size)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xFileSize(p->real, size);
}
static int fv_lock(sqlite3_file *f, int l)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xLock(p->real, l);
}
static int fv_unlock(sqlite3_file *f, int l)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xUnlock(p->real, l);
}
static int fv_check_lock(sqlite3_file *f, int *out)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xCheckReservedLock(p->real, out);
}
static int fv_control(sqlite3_file *f, int op, void *arg)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xFileControl(p->real, op, arg);
}
static int fv_sector(sqlite3_file *f)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xSectorSize(p->real);
}
static int fv_devchar(sqlite3_file *f)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xDeviceCharacteristics(p->real);
}
static int fv_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **pp)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xShmMap(p->real, pg, sz, extend, pp);
}
static int fv_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xShmLock(p->real, off, n, flags);
}
static void fv_shm_barrier(sqlite3_file *f)
{
    fv_file *p = (fv_file *)f;
    p->real->pMethods->xShmBarrier(p->real);
}
static int fv_shm_unmap(sqlite3_file *f, int del)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xShmUnmap(p->real, del);
}
static int fv_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xFetch(p->real, off, n, pp);
}
static int fv_unfetch(sqlite3_file *f, sqlite3_int64 off, void *pg)
{
    fv_file *p = (fv_file *)f;
    return p->real->pMethods->xUnfetch(p->real, off, pg);
}

static const sqlite3_io_methods fv_methods = {
    3,           fv_close,    fv_read,       fv_write,       fv_truncate,  fv_sync,
    fv_size,     fv_lock,     fv_unlock,     fv_check_lock,  fv_control,   fv_sector,
    fv_devchar,  fv_shm_map,  fv_shm_lock,   fv_shm_barrier, fv_shm_unmap, fv_fetch,
    fv_unfetch};

static int fv_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
    (void)vfs;
    fv_file *p = (fv_file *)f;
    p->real = (sqlite3_file *)(p + 1);
    memset(p->real, 0, (size_t)fv_base->szOsFile);
    int rc = fv_base->xOpen(fv_base, name, p->real, flags, out);
    if (flags & SQLITE_OPEN_MAIN_JOURNAL) fv_journals++;
    /* SQLite calls xClose only when pMethods is set */
    p->base.pMethods = rc == SQLITE_OK ? &fv_methods : NULL;
    return rc;
}

/* Everything else goes straight to the unix VFS. */
static int fv_delete(sqlite3_vfs *v, const char *n, int s)
{
    (void)v;
    return fv_base->xDelete(fv_base, n, s);
}
static int fv_access(sqlite3_vfs *v, const char *n, int fl, int *o)
{
    (void)v;
    return fv_base->xAccess(fv_base, n, fl, o);
}
static int fv_full(sqlite3_vfs *v, const char *n, int sz, char *o)
{
    (void)v;
    return fv_base->xFullPathname(fv_base, n, sz, o);
}
static void *fv_dlopen(sqlite3_vfs *v, const char *n)
{
    (void)v;
    return fv_base->xDlOpen(fv_base, n);
}
static void fv_dlerror(sqlite3_vfs *v, int n, char *o)
{
    (void)v;
    fv_base->xDlError(fv_base, n, o);
}
static void (*fv_dlsym(sqlite3_vfs *v, void *h, const char *s))(void)
{
    (void)v;
    return fv_base->xDlSym(fv_base, h, s);
}
static void fv_dlclose(sqlite3_vfs *v, void *h)
{
    (void)v;
    fv_base->xDlClose(fv_base, h);
}
static int fv_random(sqlite3_vfs *v, int n, char *o)
{
    (void)v;
    return fv_base->xRandomness(fv_base, n, o);
}
static int fv_sleep(sqlite3_vfs *v, int us)
{
    (void)v;
    return fv_base->xSleep(fv_base, us);
}
static int fv_time(sqlite3_vfs *v, double *o)
{
    (void)v;
    return fv_base->xCurrentTime(fv_base, o);
}
static int fv_lasterr(sqlite3_vfs *v, int n, char *o)
{
    (void)v;
    return fv_base->xGetLastError(fv_base, n, o);
}
static int fv_time64(sqlite3_vfs *v, sqlite3_int64 *o)
{
    (void)v;
    return fv_base->xCurrentTimeInt64(fv_base, o);
}

static sqlite3_vfs fv_vfs = {
    2,        0,          0,        NULL,         "bt_faulty", NULL,      fv_open,
    fv_delete, fv_access, fv_full,  fv_dlopen,    fv_dlerror, fv_dlsym,  fv_dlclose,
    fv_random, fv_sleep,  fv_time,  fv_lasterr,   fv_time64,  NULL,      NULL,
    NULL};

static void fv_use(int faulty)
{
    assert_int_equal(sqlite3_vfs_register(faulty ? &fv_vfs : fv_base, 1), SQLITE_OK);
}

static void fv_arm(enum fault_kind k, long n)
{
    fv_kind = k;
    fv_fail_at = n;
    fv_writes = fv_syncs = fv_journals = 0;
}

static bt_store *open_store(const char *path, unsigned flags)
{
    bt_store *s = NULL;
    char *err = NULL;
    int rc = bt_store_open(path, flags, &s, &err);
    if (rc != BT_OK)
        fail_msg("open %s: %s", path, err ? err : "");
    return s;
}

/* PRAGMA integrity_check through a plain connection on the unix VFS. */
static void check_integrity(const char *path, long n)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, "unix"), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const char *res = (const char *)sqlite3_column_text(st, 0);
    if (!res || strcmp(res, "ok") != 0)
        fail_msg("after fault %ld: integrity_check: %s", n, res ? res : "(null)");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

#define NGEN 200
/* An import that is the file's sole user runs under a rollback journal from 8 MiB of
 * input on (sqlite_backend.c); lowered to 1 MiB here (journal_from()) to keep each
 * step short: ~230 bytes a line. */
#define NGEN_JOURNAL 5000

static void journal_from(bt_store *s, long ngen)
{
    if (ngen == NGEN_JOURNAL) bt__sq_of(s)->load_min_bytes = 1u << 20;
}

/* Fails each of the writes (syncs) of an import of ngen incidents in turn; with
 * points > 0 only about that many of them, evenly spread (each step of a large import
 * costs a fraction of a second). */
static void walk_n(enum fault_kind kind, const char *what, long ngen, long points)
{
    tu_dir d;
    assert_int_equal(tu_dir_make(&d), 0);
    char path[512], pristine[512];
    tu_path(&d, "io.db", path, sizeof path);
    tu_path(&d, "pristine.db", pristine, sizeof pristine);
    size_t len = 0;
    char *gen = tu_gen_incidents("IO", ngen, &len);
    assert_non_null(gen);
    bt_import_options o;
    bt_import_options_init(&o);
    o.format = BT_FORMAT_GEOJSONSEQ;

    fv_use(0);
    bt_store *s = open_store(path, BT_OPEN_READWRITE | BT_OPEN_CREATE);
    for (size_t i = 0; i < TU_NFIXTURES; i++)
        assert_int_equal(tu_import(s, &tu_fixtures[i], NULL), BT_OK);
    bt_counts base;
    assert_int_equal(bt_store_count(s, &base), BT_OK);
    bt_store_close(s);
    assert_int_equal(tu_copy_file(path, pristine), 0);

    /* how many writes and syncs an unfaulted import (with its close) makes */
    fv_use(1);
    s = open_store(path, BT_OPEN_READWRITE);
    journal_from(s, ngen);
    fv_arm(kind, 0);
    assert_int_equal(bt_import_mem(s, gen, len, "io.geojsonl", &o, NULL), BT_OK);
    bt_store_close(s);
    long total = kind == FAULT_SYNC ? fv_syncs : fv_writes;
    /* the large import ran under a rollback journal, the small one did not */
    assert_true(ngen == NGEN_JOURNAL ? fv_journals > 0 : fv_journals == 0);
    fv_arm(kind, 0);
    assert_true(total > 0);
    long step = points > 0 && total > points ? total / points : 1;

    long failed = 0, none = 0, all = 0;
    for (long n = 1; n <= total; n += step) {
        fv_use(0);
        assert_int_equal(tu_restore_file(pristine, path), 0);
        fv_use(1);
        s = open_store(path, BT_OPEN_READWRITE);
        journal_from(s, ngen);
        fv_arm(kind, n);
        int rc = bt_import_mem(s, gen, len, "io.geojsonl", &o, NULL);
        if (rc != BT_OK) {
            failed++;
            if (rc != BT_ERR_IO && rc != BT_ERR_NOMEM)
                fail_msg("%s %ld: status %d (%s), want BT_ERR_IO: %s", what, n, rc,
                         bt_strerror(rc), bt_store_errmsg(s));
            assert_true(bt_store_errmsg(s)[0] != '\0');
        }
        bt_store_close(s); /* may meet the fault too (checkpoint at close) */
        fv_arm(kind, 0);
        char jn[600];
        snprintf(jn, sizeof jn, "%s-journal", path);
        if (access(jn, F_OK) == 0) fail_msg("%s %ld: a rollback journal was left", what, n);

        fv_use(0);
        check_integrity(path, n);
        s = open_store(path, BT_OPEN_READWRITE);
        bt_counts c;
        assert_int_equal(bt_store_count(s, &c), BT_OK);
        if (c.incidents == base.incidents)
            none++;
        else if (c.incidents == base.incidents + ngen)
            all++;
        else
            fail_msg("%s %ld: %lld incidents, want %lld or %lld", what, n,
                     (long long)c.incidents, (long long)base.incidents,
                     (long long)(base.incidents + ngen));
        if (rc != BT_OK && c.incidents != base.incidents)
            fail_msg("%s %ld: the import failed (%d) but its incidents are in the store",
                     what, n, rc);
        bt_store_close(s);
    }
    print_message("%-24s: %ld fault points (every %ld. one walked), %ld imports failed; store "
                  "held none %ld, all %ld times; integrity_check ok every time\n",
                  what, total, step, failed, none, all);
    free(gen);
    fv_use(0);
    tu_dir_remove(&d);
}

static void walk(enum fault_kind kind, const char *what)
{
    walk_n(kind, what, NGEN, 0);
}

static void test_write_errors(void **state)
{
    (void)state;
    walk(FAULT_WRITE, "xWrite SQLITE_IOERR_WRITE");
}

static void test_disk_full(void **state)
{
    (void)state;
    walk(FAULT_FULL, "xWrite SQLITE_FULL");
}

static void test_sync_errors(void **state)
{
    (void)state;
    walk(FAULT_SYNC, "xSync SQLITE_IOERR_FSYNC");
}

/* The same under the rollback journal of a large import: a failed write or sync
 * leaves the store as it was, and no journal behind. */
static void test_journal_write_errors(void **state)
{
    (void)state;
    walk_n(FAULT_WRITE, "journal: xWrite IOERR", NGEN_JOURNAL, 40);
}

static void test_journal_sync_errors(void **state)
{
    (void)state;
    walk_n(FAULT_SYNC, "journal: xSync IOERR", NGEN_JOURNAL, 0);
}

int main(void)
{
    fv_base = sqlite3_vfs_find("unix");
    if (!fv_base)
        return 1;
    fv_vfs.szOsFile = (int)sizeof(fv_file) + fv_base->szOsFile;
    fv_vfs.mxPathname = fv_base->mxPathname;
    if (sqlite3_vfs_register(&fv_vfs, 1) != SQLITE_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_sync_errors),
        cmocka_unit_test(test_journal_write_errors),
        cmocka_unit_test(test_journal_sync_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
