/**
 * @file test_import_fault.c
 * @brief Out-of-memory paths of import and export: in a BT_FAULT_INJECTION build,
 * makes the library's Nth allocation fail for every N until the call succeeds, and
 * checks each failure is reported as BT_ERR_NOMEM (or the call succeeds) and leaves the
 * store unchanged. In other builds the test is skipped.
 */
#include "io_test_util.h"

#ifdef BT_FAULT_INJECTION
long bt__alloc_fail_after(long n);

static const char *geojson =
    "{\"type\":\"FeatureCollection\",\"features\":[\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128.1,41.4]},"
    "\"properties\":{\"ref\":\"A-1\",\"type\":\"arrest\",\"start\":\"2020-01-02\","
    "\"source\":\"N1\",\"more_sources\":[{\"source\":\"N2\",\"credibility\":2}]}},\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128.2,41.4]},"
    "\"properties\":{\"ref\":\"A-2\",\"type\":\"patrol\",\"start\":\"2020-01\",\"source\":\"N1\"}}\n"
    "]}\n";

static const char *csv = "border,name,wkt\n"
                         "PRK-CHN,,\"MULTILINESTRING((128 41,128.1 41.1),(128.1 41.1,128.2 41.2))\"\n";

static void run_until_ok(bt_table table, const char *text)
{
    for (long n = 1; n < 5000; n++) {
        tstore t;
        tstore_open(&t);
        bt_counts before = counts(t.s);
        bt_import_options o;
        bt_import_options_init(&o);
        o.table = table;
        bt__alloc_fail_after(n);
        int rc = bt_import_mem(t.s, text, strlen(text), "f", &o, NULL);
        long made = bt__alloc_fail_after(0);
        if (getenv("BT_FAULT_TRACE"))
            fprintf(stderr, "n=%ld made=%ld rc=%d %s\n", n, made, rc, bt_store_errmsg(t.s));
        if (rc == BT_OK) {
            tstore_close(&t);
            assert_true(n > 2); /* failure paths were taken (the source cache tolerates one) */
            return;
        }
        if (rc != BT_ERR_NOMEM) fprintf(stderr, "n=%ld: %d %s\n", n, rc, bt_store_errmsg(t.s));
        assert_int_equal(rc, BT_ERR_NOMEM);
        bt_counts after = counts(t.s);
        assert_memory_equal(&before, &after, sizeof before);
        tstore_close(&t);
    }
    fail_msg("the import never succeeded");
}

static void test_import_nomem(void **state)
{
    (void)state;
    run_until_ok(BT_TABLE_INCIDENTS, geojson);
    run_until_ok(BT_TABLE_BORDERS, csv);
}

static void test_export_nomem(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    assert_int_equal(import_text(t.s, BT_TABLE_INCIDENTS, "g", geojson, NULL), BT_OK);
    bt_export_options eo;
    bt_export_options_init(&eo);
    eo.include_sources = 1;
    for (long n = 1; n < 5000; n++) {
        membuf m = {0};
        bt__alloc_fail_after(n);
        int rc = bt_export_write(t.s, membuf_write, &m, &eo);
        bt__alloc_fail_after(0);
        free(m.p);
        if (rc == BT_OK) {
            assert_true(n > 5);
            break;
        }
        assert_int_equal(rc, BT_ERR_NOMEM);
    }
    tstore_close(&t);
}
#else
static void test_import_nomem(void **state)
{
    (void)state;
    skip();
}
static void test_export_nomem(void **state)
{
    (void)state;
    skip();
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_nomem),
        cmocka_unit_test(test_export_nomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
