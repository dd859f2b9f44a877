/**
 * @file test_import_corpus.c
 * @brief Walks the bad-file corpus in tests/data/bad/: each file must fail to import
 * with exactly the message in the .expected file of the same name, and leave the
 * store as it was. The table is the file name's first word (borders_, installations_,
 * sources_, places_, incidents_, interventions_). Messages name the file by its base
 * name (the test imports with bt_import_mem and that name), so they do not depend on
 * the checkout.
 *
 * To add a case: add the file, run this test with BT_CORPUS_PRINT=1 to see the
 * message, check it by hand, and save it as <name>.expected.
 */
#include "io_test_util.h"

static bt_table table_of(const char *name)
{
    static const struct {
        const char *prefix;
        bt_table table;
    } map[] = {{"borders_", BT_TABLE_BORDERS},
               {"installations_", BT_TABLE_INSTALLATIONS},
               {"sources_", BT_TABLE_SOURCES},
               {"places_", BT_TABLE_PLACES},
               {"incidents_", BT_TABLE_INCIDENTS},
               {"interventions_", BT_TABLE_INTERVENTIONS}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strncmp(name, map[i].prefix, strlen(map[i].prefix)) == 0) return map[i].table;
    return BT_TABLE_INCIDENTS;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_case(const struct dirent *e)
{
    const char *dot = strrchr(e->d_name, '.');
    return e->d_name[0] != '.' && dot && strcmp(dot, ".expected") != 0;
}

static void test_corpus(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    /* something in every table, to see that a failed import leaves it */
    bt_segment seg = {0, "PRK-CHN", "s", 0, BT_SEGMENT_RIVER, NULL,
                      (const bt_lonlat[]){{128, 41}, {128.1, 41.1}}, 2};
    assert_int_equal(bt_segment_add(t.s, &seg, NULL), BT_OK);
    bt_place pl = {0, "Hyesan", "KP", NULL, {128.17778, 41.40167}};
    assert_int_equal(bt_place_add(t.s, &pl, NULL), BT_OK);
    bt_source src = {0, "Existing", BT_SOURCE_HUMAN, 'C', NULL};
    assert_int_equal(bt_source_add(t.s, &src, NULL), BT_OK);
    bt_incident inc;
    bt_incident_init(&inc);
    inc.ref = "EXISTING-1";
    inc.where = (bt_lonlat){128.1, 41.4};
    inc.start = 0;
    inc.end = 10;
    assert_int_equal(bt_incident_add(t.s, &inc, NULL), BT_OK);
    bt_counts before = counts(t.s);

    struct dirent **list = NULL;
    int n = scandir(BT_TEST_DATA_DIR "/bad", &list, is_case, by_name);
    assert_true(n >= 40);
    bool print = getenv("BT_CORPUS_PRINT") != NULL;
    int failures = 0;
    for (int i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        char path[512], exp_path[512];
        snprintf(path, sizeof path, "%s/bad/%s", BT_TEST_DATA_DIR, name);
        snprintf(exp_path, sizeof exp_path, "%s/bad/%.*s.expected", BT_TEST_DATA_DIR,
                 (int)(strrchr(name, '.') - name), name);
        size_t len = 0;
        char *data = read_all(path, &len);
        assert_non_null(data);
        bt_import_options o;
        bt_import_options_init(&o);
        o.table = table_of(name);
        bt_import_report rep;
        int rc = bt_import_mem(t.s, data, len, name, &o, &rep);
        const char *msg = bt_store_errmsg(t.s);
        if (print) printf("%s\t%d\t%s\n", name, rc, msg);
        char *want = read_all(exp_path, NULL);
        if (want) {
            size_t wl = strlen(want);
            while (wl && (want[wl - 1] == '\n' || want[wl - 1] == '\r')) want[--wl] = '\0';
        }
        if (rc == BT_OK || !want || strcmp(want, msg) != 0) {
            fprintf(stderr, "%s: rc %d\n  got:      %s\n  expected: %s\n", name, rc, msg,
                    want ? want : "(no .expected file)");
            failures++;
        }
        bt_counts after = counts(t.s);
        if (memcmp(&before, &after, sizeof before) != 0) {
            fprintf(stderr, "%s: the store changed\n", name);
            failures++;
        }
        /* the same file through bt_import_file fails the same way */
        rc = bt_import_file(t.s, path, &o, &rep);
        if (rc == BT_OK) {
            fprintf(stderr, "%s: bt_import_file succeeded\n", name);
            failures++;
        }
        free(want);
        free(data);
        free(list[i]);
    }
    free(list);
    assert_int_equal(failures, 0);
    tstore_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
