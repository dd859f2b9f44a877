/**
 * @file test_fault_sqlite.c
 * @brief Out-of-memory walks over SQLite's allocations: main() installs, before SQLite
 * initialises, an allocator (sqlite3_config(SQLITE_CONFIG_MALLOC)) that wraps the
 * default one with a countdown, so that the Nth allocation SQLite (and SpatiaLite
 * through sqlite3_malloc) makes during an import fails: once (transient) or from then
 * on (persistent). Every failed import must return an error with a message and leave
 * the store as it was (counts and the digest of its content); an import that absorbs
 * the failure (SQLite retries some allocations, or does without) must give exactly the
 * unfaulted result. A separate process from test_fault_alloc.c because the allocator
 * can only be set before SQLite's first use.
 */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "trust_util.h"

/* The countdown. Test-process state, single-threaded: the allocator has no other way
 * to reach it (sqlite3_mem_methods carries a pointer, but xMalloc does not get it). */
static sqlite3_mem_methods fi_orig;
static long fi_fail_at;   /* 0: never; else the allocation number that fails */
static long fi_count;     /* allocations since the walk step started */
static int fi_persistent; /* fail every allocation from fi_fail_at on */

static int fi_should_fail(void)
{
    fi_count++;
    if (fi_fail_at <= 0)
        return 0;
    return fi_persistent ? fi_count >= fi_fail_at : fi_count == fi_fail_at;
}

static void *fi_malloc(int n)
{
    return fi_should_fail() ? NULL : fi_orig.xMalloc(n);
}

static void *fi_realloc(void *p, int n)
{
    return fi_should_fail() ? NULL : fi_orig.xRealloc(p, n);
}

static void fi_free(void *p)
{
    fi_orig.xFree(p);
}

static int fi_size(void *p)
{
    return fi_orig.xSize(p);
}

static int fi_roundup(int n)
{
    return fi_orig.xRoundup(n);
}

static int fi_init(void *p)
{
    return fi_orig.xInit(p);
}

static void fi_shutdown(void *p)
{
    fi_orig.xShutdown(p);
}

static void fi_arm(long n, int persistent)
{
    fi_count = 0;
    fi_fail_at = n;
    fi_persistent = persistent;
}

static long fi_disarm(void)
{
    long made = fi_count;
    fi_fail_at = 0;
    fi_count = 0;
    return made;
}

#define WALK_LIMIT 100000L
/* Every failure point in a plain build; every 4th under a sanitizer, where each step
 * costs several times more (the plain build's run covers the others). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define WALK_STRIDE 4
#else
#define WALK_STRIDE 1
#endif
#define BT_ERRMSG_SIZE_COPY 1024

static bt_store *open_store(const char *path, unsigned flags)
{
    bt_store *s = NULL;
    char *err = NULL;
    int rc = bt_store_open(path, flags, &s, &err);
    if (rc != BT_OK)
        fail_msg("open %s: %s", path, err ? err : "");
    return s;
}

static void populate(bt_store *s, const tu_fixture *skip)
{
    for (size_t i = 0; i < TU_NFIXTURES; i++) {
        if (&tu_fixtures[i] == skip)
            continue;
        if (tu_import(s, &tu_fixtures[i], NULL) != BT_OK)
            fail_msg("fixture %s: %s", tu_fixtures[i].name, bt_store_errmsg(s));
    }
}

static void walk(const tu_fixture *fx, int persistent)
{
    tu_dir d;
    assert_int_equal(tu_dir_make(&d), 0);
    char path[512], pristine[512], refpath[512];
    tu_path(&d, "walk.db", path, sizeof path);
    tu_path(&d, "pristine.db", pristine, sizeof pristine);
    tu_path(&d, "ref.db", refpath, sizeof refpath);

    bt_store *ref = open_store(refpath, BT_OPEN_READWRITE | BT_OPEN_CREATE);
    populate(ref, fx);
    assert_int_equal(tu_import(ref, fx, NULL), BT_OK);
    uint64_t want_after = tu_digest(ref);
    bt_store_close(ref);

    bt_store *s = open_store(path, BT_OPEN_READWRITE | BT_OPEN_CREATE);
    populate(s, fx);
    bt_store_close(s);
    assert_int_equal(tu_copy_file(path, pristine), 0);
    s = open_store(path, BT_OPEN_READWRITE);
    uint64_t digest_before = tu_digest(s);
    assert_true(digest_before != 0 && want_after != 0);
    bt_store_close(s);

    long n, absorbed = 0, codes[16] = {0};
    /* a fresh handle for every step: no statement prepared yet, so the walk covers
     * the preparation of each (including those of the error paths) */
    long steps = 0;
    for (n = 1; n < WALK_LIMIT; n += WALK_STRIDE) {
        steps++;
        s = open_store(path, BT_OPEN_READWRITE);
        fi_arm(n, persistent);
        int rc = tu_import(s, fx, NULL);
        long made = fi_disarm();
        if (rc == BT_OK) {
            uint64_t got = tu_digest(s);
            if (got != want_after)
                fail_msg("%s: SQLite allocation %ld failed, the import succeeded, and the "
                         "content differs from an unfaulted import", fx->name, n);
            if (made < n) {
                bt_store_close(s);
                break;
            }
            absorbed++;
        } else {
            if (rc > 0 && rc < 16)
                codes[rc]++;
            if (bt_store_errmsg(s)[0] == '\0')
                fail_msg("%s: SQLite allocation %ld failed: status %d without a message",
                         fx->name, n, rc);
            char msg[BT_ERRMSG_SIZE_COPY];
            snprintf(msg, sizeof msg, "%s", bt_store_errmsg(s));
            /* the handle must recover once memory is back: no transaction left open
             * (it would also hold the write lock against every other connection) */
            int brc = bt_store_begin(s);
            if (brc != BT_OK)
                fail_msg("%s: after SQLite allocation %ld failed (%s), the handle is stuck: "
                         "bt_store_begin gives %d: %s", fx->name, n, msg, brc,
                         bt_store_errmsg(s));
            assert_int_equal(bt_store_rollback(s), BT_OK);
            uint64_t got = tu_digest(s);
            if (got != digest_before)
                fail_msg("%s: SQLite allocation %ld failed (status %d: %s) and the store "
                         "changed (or cannot be read back: %s)", fx->name, n, rc, msg,
                         bt_store_errmsg(s));
            bt_store_close(s);
            continue;
        }
        /* restore the populated store for the next step */
        bt_store_close(s);
        assert_int_equal(tu_restore_file(pristine, path), 0);
    }
    assert_true(n < WALK_LIMIT);
    steps--; /* the last step met no failure */
    print_message("%s import %-22s: %ld SQLite allocation failure points tried (of %ld), "
                  "%ld absorbed; errors: NOMEM %ld, IO %ld, INVALID %ld, other %ld\n",
                  persistent ? "persistent" : "transient ", fx->name, steps, n - 1, absorbed,
                  codes[BT_ERR_NOMEM], codes[BT_ERR_IO], codes[BT_ERR_INVALID],
                  steps - absorbed - codes[BT_ERR_NOMEM] - codes[BT_ERR_IO] -
                      codes[BT_ERR_INVALID]);
    tu_dir_remove(&d);
}

static void test_transient_every_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < TU_NFIXTURES; i++)
        walk(&tu_fixtures[i], 0);
}

static void test_persistent_incidents(void **state)
{
    (void)state;
    walk(&tu_fixtures[TU_NFIXTURES - 1], 1);
}

int main(void)
{
    /* before anything touches SQLite */
    if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &fi_orig) != SQLITE_OK)
        return 1;
    sqlite3_mem_methods m = {fi_malloc, fi_free,     fi_realloc, fi_size,
                             fi_roundup, fi_init, fi_shutdown, NULL};
    if (sqlite3_config(SQLITE_CONFIG_MALLOC, &m) != SQLITE_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_persistent_incidents),
        cmocka_unit_test(test_transient_every_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
