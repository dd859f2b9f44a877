/**
 * @file test_change_check.c
 * @brief The check that spares the PRAGMA data_version before a query when nothing can
 * have changed (lib/store/sqlite_index.c, bt__sq_data_version): it compares the
 * WAL-index header in the -shm mapping with the one read before the last PRAGMA. Every
 * kind of change by another connection must still reach the next query of a handle
 * whose index is built: a commit, an insert and a delete that leave the row count as it
 * was, a truncating checkpoint, a WAL restart, a commit made while the handle's
 * connection was inside a read transaction, one made just after the PRAGMA took its
 * snapshot; on a read-write and on a read-only handle.
 * A store not in WAL mode (rollback journal, memory) still works, with the PRAGMA every
 * time, and so does a journal-mode change on the handle's own connection.
 *
 * Incidents lie on the parallel 41 N at 128 E + 0.001 deg * n (ref "n"), so the
 * reference answers need no geodesy: a box holds exactly the live n, and the nearest
 * ones to (128 E, 41 N) are the live n in increasing order.
 */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <sys/stat.h>

#include "index/index.h"
#include "store/sqlite_internal.h"
#include "store_fixture.h"

#define MAXN 64

/* The reference: which n are live, and the store's id of each. */
struct ref {
    bool live[MAXN];
    int64_t id[MAXN];
};

static void add_n(bt_store *s, struct ref *r, int n)
{
    char ref[16];
    snprintf(ref, sizeof ref, "%d", n);
    bt_incident inc;
    bt_incident_init(&inc);
    inc.ref = ref;
    inc.where = (bt_lonlat){128.0 + 0.001 * n, 41.0};
    inc.start = INT64_C(1600000000);
    inc.end = inc.start;
    inc.time_precision = BT_TIME_SECOND;
    int64_t id = 0;
    int rc = bt_incident_add(s, &inc, &id);
    if (rc) fail_msg("add %d: %s", n, bt_store_errmsg(s));
    r->live[n] = true;
    r->id[n] = id;
}

static void del_n(bt_store *s, struct ref *r, int n)
{
    assert_true(r->live[n]);
    assert_int_equal(bt_incident_delete(s, r->id[n]), BT_OK);
    r->live[n] = false;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* A box query, a count and a nearest query, each against the reference. */
static void check(bt_store *s, const struct ref *r)
{
    int64_t want[MAXN], near[MAXN];
    size_t nw = 0;
    for (int n = 0; n < MAXN; n++)
        if (r->live[n]) {
            near[nw] = r->id[n]; /* in increasing n, so increasing distance */
            want[nw++] = r->id[n];
        }
    qsort(want, nw, sizeof *want, cmp_i64);

    bt_query q;
    bt_query_init(&q);
    q.area = BT_AREA_BBOX;
    q.box = (bt_bbox){127.9995, 40.99, 128.0 + 0.001 * MAXN, 41.01};
    bt_hit *hits = NULL;
    size_t nh = 0;
    int rc = bt_incident_query_all(s, &q, &hits, &nh);
    if (rc) fail_msg("query: %s", bt_store_errmsg(s));
    assert_int_equal(nh, nw);
    for (size_t i = 0; i < nh; i++) assert_true(hits[i].id == want[i]);
    bt_hits_free(hits);

    int64_t total = -1;
    assert_int_equal(bt_incident_count(s, &q, &total, NULL), BT_OK);
    assert_true(total == (int64_t)nw);

    size_t k = nw < 5 ? nw : 5;
    assert_int_equal(bt_incident_nearest(s, (bt_lonlat){128.0, 41.0}, 5, NULL, &hits, &nh),
                     BT_OK);
    assert_int_equal(nh, k);
    for (size_t i = 0; i < nh; i++) assert_true(hits[i].id == near[i]);
    bt_hits_free(hits);
}

/* The handle's index is built and in use (not the first query's R*Tree path). */
static struct bt__index *warm(bt_store *s, const struct ref *r)
{
    check(s, r);
    check(s, r);
    assert_non_null(s->index);
    assert_true(s->index->valid);
    return s->index;
}

static struct bt__sq *sq(bt_store *s) { return (struct bt__sq *)s->be_data; }

/* Asks again with nothing changed: the answer stands and no PRAGMA runs. */
static void quiet(bt_store *s, const struct ref *r)
{
    size_t builds = s->index->builds;
    unsigned long runs = sq(s)->chk_runs;
    check(s, r);
    check(s, r);
    assert_int_equal(sq(s)->chk_mode, 2);
    assert_true(sq(s)->chk_saved);
    assert_int_equal(sq(s)->chk_runs, runs);
    assert_int_equal(s->index->builds, builds);
}

/* Another connection's change must reach the next query: it rebuilds and answers. */
static void seen(bt_store *s, const struct ref *r)
{
    size_t builds = s->index->builds;
    check(s, r);
    assert_true(s->index->builds > builds);
}

static sqlite3 *raw_open(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static void raw_exec(sqlite3 *db, const char *sql)
{
    char *em = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &em) != SQLITE_OK) fail_msg("%s: %s", sql, em);
}

/* A checkpoint that must complete (no reader in the way): busy = 0. */
static void raw_checkpoint(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
}

static long long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

static void set_verified(sqlite3 *db, int64_t id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE incidents SET verification = 'confirmed' WHERE id = %lld",
             (long long)id);
    raw_exec(db, sql);
}

/* Opens the file read-write and puts n = 0..19 in it. */
static void make_store(fx_dir *d, char *path, size_t len, struct ref *r, bt_store **s)
{
    memset(r, 0, sizeof *r);
    assert_int_equal(fx_dir_make(d), 0);
    fx_file(d, "c.sqlite", path, len);
    assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE | BT_OPEN_CREATE, s, NULL), BT_OK);
    assert_int_equal(bt_store_begin(*s), BT_OK);
    for (int n = 0; n < 20; n++) add_n(*s, r, n);
    assert_int_equal(bt_store_commit(*s), BT_OK);
}

static void other_writers(bt_store *a, struct ref *r, const char *path, bool a_writes)
{
    bt_store *b = NULL;
    assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE, &b, NULL), BT_OK);
    sqlite3 *raw = raw_open(path);
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", path);
    warm(a, r);
    quiet(a, r);

    /* a commit by another handle */
    add_n(b, r, 20);
    seen(a, r);
    quiet(a, r);

    /* an insert and a delete in one transaction: the row count stays */
    assert_int_equal(bt_store_begin(b), BT_OK);
    add_n(b, r, 21);
    del_n(b, r, 3);
    assert_int_equal(bt_store_commit(b), BT_OK);
    seen(a, r);
    quiet(a, r);

    /* ... and in two transactions, the delete first */
    del_n(b, r, 0);
    add_n(b, r, 22);
    seen(a, r);

    /* a program without the library: a change the index holds (verification) */
    set_verified(raw, r->id[5]);
    size_t builds = a->index->builds;
    check(a, r);
    assert_true(a->index->builds > builds);
    quiet(a, r);

    /* a truncating checkpoint, then commits into the emptied WAL */
    raw_checkpoint(raw, "PRAGMA wal_checkpoint(TRUNCATE)");
    assert_true(file_size(wal) == 0);
    check(a, r); /* nothing changed in the rows */
    quiet(a, r);
    del_n(b, r, 7);
    seen(a, r);
    quiet(a, r);
    /* the same change again after a truncation: the WAL reaches the same length */
    raw_checkpoint(raw, "PRAGMA wal_checkpoint(TRUNCATE)");
    check(a, r);
    quiet(a, r);
    del_n(b, r, 8);
    seen(a, r);
    raw_checkpoint(raw, "PRAGMA wal_checkpoint(TRUNCATE)");
    check(a, r);
    del_n(b, r, 9);
    seen(a, r);
    quiet(a, r);

    /* a WAL restart: the next writer starts the WAL over with new salts */
    raw_checkpoint(raw, "PRAGMA wal_checkpoint(RESTART)");
    check(a, r);
    add_n(b, r, 23);
    seen(a, r);
    raw_checkpoint(raw, "PRAGMA wal_checkpoint(RESTART)");
    check(a, r);
    add_n(b, r, 24);
    seen(a, r);
    quiet(a, r);

    /* a commit while this handle reads inside a transaction of its own (the PRAGMA
     * then answers for the transaction's snapshot): seen once the transaction ends.
     * (A read-only handle's transaction is deferred; a read-write one's would hold the
     * write lock: test_commit_during_open_read covers
     * the case of an open read in autocommit mode.) */
    if (!a_writes) {
    assert_int_equal(bt_store_begin(a), BT_OK);
    struct ref before = *r;
    check(a, &before);
    add_n(b, r, 25);
    check(a, &before); /* the snapshot */
    assert_int_equal(bt_store_commit(a), BT_OK);
    seen(a, r);
    quiet(a, r);
    }

    if (a_writes) {
        /* this handle's own writes: applied row by row, no PRAGMA needed to see them */
        builds = a->index->builds;
        add_n(a, r, 26);
        del_n(a, r, 10);
        check(a, r);
        assert_int_equal(a->index->builds, builds);
        quiet(a, r);
        /* its own writes, then another's */
        add_n(a, r, 27);
        del_n(b, r, 11);
        seen(a, r);
        quiet(a, r);
    }

    /* the file cannot leave WAL mode under an open handle */
    sqlite3_busy_timeout(raw, 0);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(raw, "PRAGMA journal_mode=DELETE", -1, &st, NULL),
                     SQLITE_OK);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    else
        assert_int_equal(src & 0xff, SQLITE_BUSY);
    sqlite3_finalize(st);
    sqlite3_busy_timeout(raw, 5000);
    del_n(b, r, 12);
    seen(a, r);

    sqlite3_close(raw);
    bt_store_close(b);
}

static void test_readwrite_handle(void **state)
{
    (void)state;
    fx_dir d;
    char path[512];
    struct ref r;
    bt_store *a = NULL;
    make_store(&d, path, sizeof path, &r, &a);
    other_writers(a, &r, path, true);
    bt_store_close(a);
    fx_dir_remove(&d);
}

static void test_readonly_handle(void **state)
{
    (void)state;
    fx_dir d;
    char path[512];
    struct ref r;
    bt_store *w = NULL, *a = NULL;
    make_store(&d, path, sizeof path, &r, &w);
    bt_store_close(w);
    assert_int_equal(bt_store_open(path, BT_OPEN_READONLY, &a, NULL), BT_OK);
    other_writers(a, &r, path, false);
    bt_store_close(a);
    fx_dir_remove(&d);
}

/* A query while a statement of the handle's own connection holds a read transaction
 * open outside any bt_store transaction (autocommit): the PRAGMA then answers for that
 * snapshot, so what it saw must not be taken for the newest state afterwards. */
static void test_commit_during_open_read(void **state)
{
    (void)state;
    fx_dir d;
    char path[512];
    struct ref r;
    bt_store *a = NULL, *b = NULL;
    make_store(&d, path, sizeof path, &r, &a);
    assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE, &b, NULL), BT_OK);
    warm(a, &r);
    quiet(a, &r);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(sq(a)->db, "SELECT id FROM incidents ORDER BY id", -1,
                                        &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_get_autocommit(sq(a)->db), 1);
    struct ref before = r;
    del_n(b, &r, 1); /* commits while the statement reads */
    check(a, &before); /* the snapshot */
    check(a, &before);
    sqlite3_finalize(st);
    seen(a, &r);
    quiet(a, &r);
    bt_store_close(b);
    bt_store_close(a);
    fx_dir_remove(&d);
}

/* A file in rollback-journal mode, read by a read-only handle while a program without
 * the library writes: no WAL index, so the PRAGMA runs every time. */
static void test_rollback_journal(void **state)
{
    (void)state;
    fx_dir d;
    char path[512];
    struct ref r;
    bt_store *a = NULL;
    make_store(&d, path, sizeof path, &r, &a);
    bt_store_close(a);
    sqlite3 *raw = raw_open(path);
    raw_exec(raw, "PRAGMA journal_mode=DELETE");
    assert_int_equal(bt_store_open(path, BT_OPEN_READONLY, &a, NULL), BT_OK);
    warm(a, &r);
    assert_int_equal(sq(a)->chk_mode, 1);
    unsigned long runs = sq(a)->chk_runs;
    check(a, &r);
    assert_true(sq(a)->chk_runs > runs);
    set_verified(raw, r.id[2]);
    size_t builds = a->index->builds;
    check(a, &r);
    assert_true(a->index->builds > builds);
    raw_exec(raw, "DELETE FROM incident_sources"); /* nothing linked: no change */
    check(a, &r);
    sqlite3_close(raw);
    bt_store_close(a);
    fx_dir_remove(&d);
}

static void test_memory_store(void **state)
{
    (void)state;
    struct ref r;
    memset(&r, 0, sizeof r);
    bt_store *a = NULL;
    assert_int_equal(bt_store_open(":memory:", BT_OPEN_READWRITE | BT_OPEN_CREATE, &a, NULL),
                     BT_OK);
    for (int n = 0; n < 20; n++) add_n(a, &r, n);
    warm(a, &r);
    assert_int_equal(sq(a)->chk_mode, 1);
    unsigned long runs = sq(a)->chk_runs;
    add_n(a, &r, 20);
    del_n(a, &r, 4);
    check(a, &r);
    assert_true(sq(a)->chk_runs > runs);
    bt_store_close(a);
}

/* The reset for code that changes the journal mode: the check starts over. */
static void test_reset(void **state)
{
    (void)state;
    fx_dir d;
    char path[512];
    struct ref r;
    bt_store *a = NULL, *b = NULL;
    make_store(&d, path, sizeof path, &r, &a);
    assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE, &b, NULL), BT_OK);
    warm(a, &r);
    quiet(a, &r);
    bt__sq_change_check_reset(a);
    assert_int_equal(sq(a)->chk_mode, 0);
    assert_false(sq(a)->chk_saved);
    del_n(b, &r, 6);
    seen(a, &r);
    check(a, &r);
    quiet(a, &r);
    bt_store_close(b);
    bt_store_close(a);
    fx_dir_remove(&d);
}

/* The journal mode changed on the handle's own connection without telling the check
 * (as code that switches modes might): it notices the pager's journal file changed,
 * never maps a -shm out of WAL mode, and takes WAL mode up again when it is back. */
static void test_own_journal_mode_change(void **state)
{
    (void)state;
    fx_dir d;
    char path[512], shm[600];
    struct ref r;
    bt_store *a = NULL;
    make_store(&d, path, sizeof path, &r, &a);
    snprintf(shm, sizeof shm, "%s-shm", path);
    warm(a, &r);
    quiet(a, &r);
    raw_exec(sq(a)->db, "PRAGMA journal_mode=DELETE");
    assert_true(file_size(shm) < 0); /* the last connection removed it */
    check(a, &r);
    check(a, &r);
    assert_int_equal(sq(a)->chk_mode, 1);
    assert_true(file_size(shm) < 0); /* not created again */
    sqlite3 *raw = raw_open(path);
    set_verified(raw, r.id[4]);
    seen(a, &r);
    add_n(a, &r, 30);
    check(a, &r);
    assert_true(file_size(shm) < 0);

    raw_exec(sq(a)->db, "PRAGMA journal_mode=WAL");
    check(a, &r);
    check(a, &r);
    quiet(a, &r);
    set_verified(raw, r.id[6]);
    seen(a, &r);
    quiet(a, &r);
    sqlite3_close(raw);
    bt_store_close(a);
    fx_dir_remove(&d);
}

/* The header must be the one read before the PRAGMA: a commit by another connection
 * that lands just after the PRAGMA took its snapshot must still reach the next query.
 * The commit is made from inside the handle's own xShmLock (its methods patched here)
 * as the read transaction of the PRAGMA data_version ends (found with a trace). */
static struct {
    const sqlite3_io_methods *orig;
    sqlite3_io_methods patched;
    bool armed;
    int fired;
    bt_store *other;
    int64_t del_id;
    int del_rc;
} hk;

static int hook_shm_lock(sqlite3_file *f, int ofst, int n, int flags)
{
    int rc = hk.orig->xShmLock(f, ofst, n, flags);
    /* a read mark (WAL_READ_LOCK(i) = 3 + i) let go: the read transaction ends */
    if (hk.armed && flags == (SQLITE_SHM_UNLOCK | SQLITE_SHM_SHARED) && ofst >= 3 && n == 1) {
        hk.armed = false;
        hk.fired++;
        hk.del_rc = bt_incident_delete(hk.other, hk.del_id);
    }
    return rc;
}

static int hook_trace(unsigned t, void *ctx, void *p, void *x)
{
    (void)ctx;
    (void)x;
    const char *sql = t == SQLITE_TRACE_STMT ? sqlite3_sql((sqlite3_stmt *)p) : NULL;
    if (sql && strstr(sql, "data_version") && hk.fired == 0) hk.armed = true;
    return 0;
}

static void test_commit_right_after_pragma(void **state)
{
    (void)state;
    fx_dir d;
    char path[512];
    struct ref r;
    bt_store *a = NULL, *b = NULL;
    make_store(&d, path, sizeof path, &r, &a);
    assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE, &b, NULL), BT_OK);
    warm(a, &r);
    quiet(a, &r);
    add_n(a, &r, 30); /* its own commit: the header moves, the data version does not */

    sqlite3_file *f = NULL;
    assert_int_equal(sqlite3_file_control(sq(a)->db, "main", SQLITE_FCNTL_FILE_POINTER, &f),
                     SQLITE_OK);
    memset(&hk, 0, sizeof hk);
    hk.orig = f->pMethods;
    hk.patched = *f->pMethods;
    hk.patched.xShmLock = hook_shm_lock;
    hk.other = b;
    hk.del_id = r.id[3];
    f->pMethods = &hk.patched;
    sqlite3_trace_v2(sq(a)->db, SQLITE_TRACE_STMT, hook_trace, NULL);
    unsigned long runs = sq(a)->chk_runs;
    bt_query q;
    bt_query_init(&q);
    int64_t total = -1;
    assert_int_equal(bt_incident_count(a, &q, &total, NULL), BT_OK); /* either answer */
    sqlite3_trace_v2(sq(a)->db, 0, NULL, NULL);
    f->pMethods = hk.orig;
    assert_int_equal(sq(a)->chk_runs, runs + 1);
    assert_int_equal(hk.fired, 1);
    assert_int_equal(hk.del_rc, BT_OK);
    r.live[3] = false;
    check(a, &r);
    check(a, &r);
    quiet(a, &r);
    bt_store_close(b);
    bt_store_close(a);
    fx_dir_remove(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readwrite_handle),
        cmocka_unit_test(test_readonly_handle),
        cmocka_unit_test(test_commit_during_open_read),
        cmocka_unit_test(test_rollback_journal),
        cmocka_unit_test(test_memory_store),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_own_journal_mode_change),
        cmocka_unit_test(test_commit_right_after_pragma),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
