/**
 * @file test_fault_alloc.c
 * @brief Out-of-memory walks over the library's own allocations (bt__malloc & co with
 * BT_FAULT_INJECTION): for N = 1, 2, ... the Nth allocation and every later one fail
 * during one operation. Each failure must return an error (BT_ERR_NOMEM), leave the
 * store as it was (row counts and the digest of its whole content, and the in-memory
 * index), and leak nothing (the ASan build runs LeakSanitizer). The walk stops at the
 * first N past the operation's last allocation, where the operation must succeed with
 * the same result as an unfaulted run.
 *
 * Without BT_FAULT_INJECTION (a release build) the tests are skipped.
 */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "trust_util.h"

#ifdef BT_FAULT_INJECTION

#include "core/internal.h"

/* Past this many steps a walk is broken (an operation that never stops allocating). */
#define WALK_LIMIT 200000L

static bt_store *open_store(const char *path, unsigned flags)
{
    bt_store *s = NULL;
    char *err = NULL;
    int rc = bt_store_open(path, flags, &s, &err);
    if (rc != BT_OK)
        fail_msg("open %s: %s", path, err ? err : "");
    return s;
}

static int64_t index_count(bt_store *s)
{
    int64_t total = -1;
    assert_int_equal(bt_incident_count(s, NULL, &total, NULL), BT_OK);
    return total;
}

/* Fills a store with every fixture but @p skip (so the walked import adds to a store
 * that already holds records of every other table). */
static void populate(bt_store *s, const tu_fixture *skip)
{
    for (size_t i = 0; i < TU_NFIXTURES; i++) {
        if (&tu_fixtures[i] == skip)
            continue;
        int rc = tu_import(s, &tu_fixtures[i], NULL);
        if (rc != BT_OK)
            fail_msg("fixture %s: %s", tu_fixtures[i].name, bt_store_errmsg(s));
    }
}

/* Walks N over the allocations of importing one fixture into a populated store. */
static void walk_import(const tu_fixture *fx, long *steps)
{
    tu_dir d;
    assert_int_equal(tu_dir_make(&d), 0);
    char path[512], refpath[512];
    tu_path(&d, "walk.db", path, sizeof path);
    tu_path(&d, "ref.db", refpath, sizeof refpath);

    /* the result an unfaulted import gives */
    bt_store *ref = open_store(refpath, BT_OPEN_READWRITE | BT_OPEN_CREATE);
    populate(ref, fx);
    assert_int_equal(tu_import(ref, fx, NULL), BT_OK);
    uint64_t want_after = tu_digest(ref);
    assert_true(want_after != 0);
    bt_store_close(ref);

    /* the populated store, kept aside to restore after an absorbed failure */
    char pristine[512];
    tu_path(&d, "pristine.db", pristine, sizeof pristine);
    bt_store *s = open_store(path, BT_OPEN_READWRITE | BT_OPEN_CREATE);
    populate(s, fx);
    bt_store_close(s);
    assert_int_equal(tu_copy_file(path, pristine), 0);
    s = open_store(path, BT_OPEN_READWRITE);
    int64_t idx_before = index_count(s); /* builds the index before the walk */
    bt_counts before;
    assert_int_equal(bt_store_count(s, &before), BT_OK);
    uint64_t digest_before = tu_digest(s);
    assert_true(digest_before != 0);
    int64_t idx_want = idx_before + (fx->table == BT_TABLE_INCIDENTS ? 3 : 0);

    long n, absorbed = 0;
    for (n = 1; n < WALK_LIMIT; n++) {
        bt__alloc_fail_after(n);
        bt_import_report rep;
        int rc = tu_import(s, fx, &rep);
        long made = bt__alloc_fail_after(0);
        if (rc == BT_OK) {
            /* a success with a failed allocation is allowed only where the library
             * degrades on purpose (e.g. the index falls back to a rebuild): the result
             * must then be exactly the unfaulted one */
            assert_int_equal((uint64_t)tu_digest(s), (uint64_t)want_after);
            assert_int_equal(index_count(s), idx_want);
            if (made < n)
                break; /* past the last allocation: the walk is complete */
            absorbed++;
            bt_store_close(s);
            assert_int_equal(tu_restore_file(pristine, path), 0);
            s = open_store(path, BT_OPEN_READWRITE);
            assert_int_equal(index_count(s), idx_before);
            continue;
        }
        if (rc != BT_ERR_NOMEM)
            fail_msg("%s: allocation %ld failed: status %d (%s), want BT_ERR_NOMEM: %s",
                     fx->name, n, rc, bt_strerror(rc), bt_store_errmsg(s));
        assert_true(bt_store_errmsg(s)[0] != '\0');
        bt_counts after;
        assert_int_equal(bt_store_count(s, &after), BT_OK);
        assert_memory_equal(&before, &after, sizeof before);
        if (tu_digest(s) != digest_before)
            fail_msg("%s: allocation %ld failed and the store changed", fx->name, n);
        if (index_count(s) != idx_before)
            fail_msg("%s: allocation %ld failed and the index changed", fx->name, n);
    }
    print_message("import %-22s: %ld allocation failure points (%ld absorbed: the "
                  "import succeeded with the right content)\n", fx->name, n - 1, absorbed);
    assert_true(n < WALK_LIMIT);
    *steps += n;
    bt_store_close(s);
    tu_dir_remove(&d);
}

static void test_import_walk_every_table(void **state)
{
    (void)state;
    long steps = 0;
    for (size_t i = 0; i < TU_NFIXTURES; i++) {
        walk_import(&tu_fixtures[i], &steps);
    }
}

/* The results of the read operations walked below, for comparison. */
typedef struct reads {
    size_t nhits;
    int64_t count;
    int64_t per_type[BT_INCIDENT_TYPE_COUNT];
    long within;
    double within_sum;
    int64_t inc_start;
    char inc_ref[32];
    size_t nlinks;
    size_t nnear;
    size_t nplaces;
} reads;

static int within_cb(const bt_incident *inc, double d, void *udata)
{
    reads *r = udata;
    r->within++;
    r->within_sum += d + (double)inc->id;
    return 0;
}

/* One read operation, by number; fills the part of @p r it computes. */
static int read_op(bt_store *s, int op, reads *r)
{
    bt_query q;
    bt_query_init(&q);
    q.area = BT_AREA_CIRCLE;
    q.centre.lon = 128.18;
    q.centre.lat = 41.40;
    q.radius_m = 5000;
    switch (op) {
    case 0: {
        bt_hit *hits = NULL;
        int rc = bt_incident_query_all(s, &q, &hits, &r->nhits);
        bt_hits_free(hits);
        return rc;
    }
    case 1:
        return bt_incident_count(s, &q, &r->count, r->per_type);
    case 2:
        r->within = 0;
        r->within_sum = 0;
        return bt_incidents_within(s, q.centre, q.radius_m, INT64_MIN, INT64_MAX, within_cb, r);
    case 3: {
        int64_t id = 0;
        int rc = bt_incident_find(s, "T-2", &id);
        if (rc)
            return rc;
        bt_incident *inc = NULL;
        rc = bt_incident_get(s, id, &inc);
        if (rc == BT_OK) {
            r->inc_start = inc->start;
            snprintf(r->inc_ref, sizeof r->inc_ref, "%s", inc->ref);
        }
        bt_incident_free(inc);
        return rc;
    }
    case 4: {
        bt_report_link *links = NULL;
        int rc = bt_link_list(s, 1, &links, &r->nlinks);
        bt_link_list_free(links);
        return rc;
    }
    case 5: {
        bt_hit *hits = NULL;
        int rc = bt_incident_nearest(s, q.centre, 2, NULL, &hits, &r->nnear);
        bt_hits_free(hits);
        return rc;
    }
    case 6: {
        bt_place **pl = NULL;
        int rc = bt_place_search(s, "Sinuiju", 3, &pl, &r->nplaces);
        bt_place_array_free(pl, r->nplaces);
        return rc;
    }
    case 7: {
        bt_segment *seg = NULL;
        int rc = bt_segment_get(s, 1, &seg);
        bt_segment_free(seg);
        if (rc)
            return rc;
        bt_installation *inst = NULL;
        rc = bt_installation_get(s, 1, &inst);
        bt_installation_free(inst);
        if (rc)
            return rc;
        bt_source *src = NULL;
        rc = bt_source_get(s, 1, &src);
        bt_source_free(src);
        if (rc)
            return rc;
        bt_place *pl = NULL;
        rc = bt_place_get(s, 1, &pl);
        bt_place_free(pl);
        return rc;
    }
    default: {
        tu_buf b = {0};
        bt_export_options o;
        bt_export_options_init(&o);
        int rc = bt_export_write(s, tu_buf_write, &b, &o);
        free(b.data);
        return rc;
    }
    }
}
#define NREAD_OPS 9

/* Walks N over each read operation, on a freshly opened handle each time so that the
 * first query's index build is walked too. */
static void test_read_walks(void **state)
{
    (void)state;
    tu_dir d;
    assert_int_equal(tu_dir_make(&d), 0);
    char path[512];
    tu_path(&d, "reads.db", path, sizeof path);
    bt_store *s = open_store(path, BT_OPEN_READWRITE | BT_OPEN_CREATE);
    populate(s, NULL);
    bt_store_close(s);

    for (int op = 0; op < NREAD_OPS; op++) {
        reads want;
        memset(&want, 0, sizeof want);
        s = open_store(path, BT_OPEN_READONLY);
        assert_int_equal(read_op(s, op, &want), BT_OK);
        bt_store_close(s);
        long n;
        for (n = 1; n < WALK_LIMIT; n++) {
            s = open_store(path, BT_OPEN_READONLY);
            reads got;
            memset(&got, 0, sizeof got);
            bt__alloc_fail_after(n);
            int rc = read_op(s, op, &got);
            long made = bt__alloc_fail_after(0);
            if (rc == BT_OK) {
                if (made >= n)
                    fail_msg("read %d: allocation %ld failed but the call succeeded", op, n);
                assert_memory_equal(&got, &want, sizeof got);
                bt_store_close(s);
                break;
            }
            if (rc != BT_ERR_NOMEM)
                fail_msg("read %d: allocation %ld failed: status %d (%s), want "
                         "BT_ERR_NOMEM: %s", op, n, rc, bt_strerror(rc), bt_store_errmsg(s));
            assert_true(bt_store_errmsg(s)[0] != '\0');
            /* the handle still works and the answer has not changed */
            memset(&got, 0, sizeof got);
            assert_int_equal(read_op(s, op, &got), BT_OK);
            assert_memory_equal(&got, &want, sizeof got);
            bt_store_close(s);
        }
        assert_true(n < WALK_LIMIT);
        print_message("read op %d: %ld allocation failure points\n", op, n - 1);
    }
    tu_dir_remove(&d);
}

/* Opening a store: every failure returns an error with a message and no handle. */
static void test_open_walk(void **state)
{
    (void)state;
    tu_dir d;
    assert_int_equal(tu_dir_make(&d), 0);
    char path[512];
    tu_path(&d, "open.db", path, sizeof path);
    bt_store *s = open_store(path, BT_OPEN_READWRITE | BT_OPEN_CREATE);
    populate(s, NULL);
    bt_store_close(s);
    long n;
    for (n = 1; n < WALK_LIMIT; n++) {
        char *err = NULL;
        s = NULL;
        bt__alloc_fail_after(n);
        int rc = bt_store_open(path, BT_OPEN_READWRITE, &s, &err);
        long made = bt__alloc_fail_after(0);
        if (rc == BT_OK) {
            assert_true(made < n);
            bt_store_close(s);
            break;
        }
        assert_int_equal(rc, BT_ERR_NOMEM);
        assert_null(s);
        bt_string_free(err); /* may be NULL when even the message could not be made */
    }
    print_message("open: %ld allocation failure points\n", n - 1);
    tu_dir_remove(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_walk_every_table),
        cmocka_unit_test(test_read_walks),
        cmocka_unit_test(test_open_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#else /* !BT_FAULT_INJECTION */

static void test_skipped_without_fault_injection(void **state)
{
    (void)state;
    skip(); /* configure with -DBT_FAULT_INJECTION=ON (make test-asan does) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skipped_without_fault_injection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif
