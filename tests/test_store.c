/**
 * @file test_store.c
 * @brief The store handle: open flags, file modes, foreign and newer files, read-only
 * stores, transactions, counts, the error message, two handles on one file.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "store_fixture.h"

static fx_dir dir;

static int setup(void **state)
{
    (void)state;
    return fx_dir_make(&dir);
}

static int teardown(void **state)
{
    (void)state;
    fx_dir_remove(&dir);
    return 0;
}

static bt_store *create_store(const char *name, char *path, size_t n)
{
    bt_store *s = NULL;
    char *em = NULL;
    fx_file(&dir, name, path, n);
    int rc = bt_store_open(path, BT_OPEN_READWRITE | BT_OPEN_CREATE, &s, &em);
    if (rc) fprintf(stderr, "open %s: %s\n", path, em ? em : "?");
    assert_int_equal(rc, BT_OK);
    assert_null(em);
    assert_non_null(s);
    return s;
}

static void write_file(const char *path, const char *text, size_t times)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (size_t i = 0; i < times; i++) fputs(text, f);
    fclose(f);
}

static void raw_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc) fprintf(stderr, "%s: %s\n", sql, err ? err : "?");
    sqlite3_free(err);
    assert_int_equal(rc, SQLITE_OK);
    sqlite3_close(db);
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ------------------------------------------------------------------------- */

static void test_open_bad_arguments(void **state)
{
    (void)state;
    char path[512];
    fx_file(&dir, "args.bt", path, sizeof path);
    bt_store *s = (bt_store *)&dir; /* must be reset to NULL */
    char *em = NULL;
    static const unsigned bad[] = {0u, BT_OPEN_CREATE, BT_OPEN_READONLY | BT_OPEN_CREATE,
                                   BT_OPEN_READONLY | BT_OPEN_READWRITE, 0x80u | BT_OPEN_READWRITE};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s = (bt_store *)&dir;
        assert_int_equal(bt_store_open(path, bad[i], &s, &em), BT_ERR_INVALID);
        assert_null(s);
        assert_non_null(em);
        assert_non_null(strstr(em, "flags"));
        bt_string_free(em);
        em = NULL;
    }
    assert_false(file_exists(path));
    assert_int_equal(bt_store_open(NULL, BT_OPEN_READONLY, &s, &em), BT_ERR_INVALID);
    assert_non_null(em);
    bt_string_free(em);
    assert_int_equal(bt_store_open("", BT_OPEN_READONLY, &s, NULL), BT_ERR_INVALID);
    assert_int_equal(bt_store_open(path, BT_OPEN_READONLY, NULL, NULL), BT_ERR_INVALID);
    /* NULL handles are harmless */
    assert_int_equal(bt_store_close(NULL), BT_OK);
    assert_string_equal(bt_store_errmsg(NULL), "");
    assert_int_equal(bt_store_begin(NULL), BT_ERR_INVALID);
    assert_int_equal(bt_store_count(NULL, NULL), BT_ERR_INVALID);
}

static void test_create_files_are_private(void **state)
{
    (void)state;
    char path[512], p2[600];
    /* Even with an empty umask, nobody but the owner may read the store. */
    mode_t old = umask(0);
    bt_store *s = create_store("private.bt", path, sizeof path);
    bt_incident inc = fx_incident("P-1", 128.0, 41.0);
    assert_int_equal(bt_incident_add(s, &inc, NULL), BT_OK);
    const char *suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p2, sizeof p2, "%s%s", path, suffix[i]);
        struct stat st;
        assert_int_equal(stat(p2, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
    }
    assert_int_equal(bt_store_close(s), BT_OK);
    umask(old);
    /* The WAL is checkpointed and removed at the last close. */
    snprintf(p2, sizeof p2, "%s-wal", path);
    assert_false(file_exists(p2));
    /* Reopened read-only, the -shm/-wal made for the reader are private too. */
    char *em = NULL;
    assert_int_equal(bt_store_open(path, BT_OPEN_READONLY, &s, &em), BT_OK);
    bt_counts c;
    assert_int_equal(bt_store_count(s, &c), BT_OK);
    assert_int_equal(c.incidents, 1);
    for (size_t i = 1; i < 3; i++) {
        snprintf(p2, sizeof p2, "%s%s", path, suffix[i]);
        struct stat st;
        if (stat(p2, &st) == 0) assert_int_equal(st.st_mode & 0777, 0600);
    }
    bt_store_close(s);
}

static void test_open_missing_file(void **state)
{
    (void)state;
    char path[512];
    fx_file(&dir, "missing.bt", path, sizeof path);
    bt_store *s = NULL;
    char *em = NULL;
    assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE, &s, &em), BT_ERR_IO);
    assert_null(s);
    assert_non_null(em);
    assert_non_null(strstr(em, path));
    bt_string_free(em);
    assert_int_equal(bt_store_open(path, BT_OPEN_READONLY, &s, &em), BT_ERR_IO);
    assert_non_null(strstr(em, path));
    bt_string_free(em);
    assert_false(file_exists(path));
}

static void test_not_a_store_text_file(void **state)
{
    (void)state;
    char path[512];
    fx_file(&dir, "notes.txt", path, sizeof path);
    write_file(path, "Hyesan, 2020-07-29: a text file, not a database.\n", 40);
    struct stat before, after;
    assert_int_equal(stat(path, &before), 0);
    unsigned flags[] = {BT_OPEN_READONLY, BT_OPEN_READWRITE,
                        BT_OPEN_READWRITE | BT_OPEN_CREATE};
    for (size_t i = 0; i < 3; i++) {
        bt_store *s = NULL;
        char *em = NULL;
        assert_int_equal(bt_store_open(path, flags[i], &s, &em), BT_ERR_NOT_A_STORE);
        assert_null(s);
        assert_non_null(em);
        assert_non_null(strstr(em, "not a bordertrack store"));
        assert_non_null(strstr(em, path));
        assert_non_null(strstr(em, "file is not a database"));
        bt_string_free(em);
    }
    /* Left untouched. */
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(before.st_size, after.st_size);
}

static void test_not_a_store_sqlite_file(void **state)
{
    (void)state;
    char path[512];
    fx_file(&dir, "other.sqlite", path, sizeof path);
    raw_sql(path, "CREATE TABLE t(x); INSERT INTO t VALUES (1);");
    unsigned flags[] = {BT_OPEN_READONLY, BT_OPEN_READWRITE | BT_OPEN_CREATE};
    for (size_t i = 0; i < 2; i++) {
        bt_store *s = NULL;
        char *em = NULL;
        assert_int_equal(bt_store_open(path, flags[i], &s, &em), BT_ERR_NOT_A_STORE);
        assert_null(s);
        assert_non_null(strstr(em, path));
        assert_non_null(strstr(em, "application_id"));
        bt_string_free(em);
    }
    /* An empty file is an empty database: not a store unless asked to create one. */
    char empty[512];
    fx_file(&dir, "empty.bt", empty, sizeof empty);
    write_file(empty, "", 1);
    bt_store *s = NULL;
    char *em = NULL;
    assert_int_equal(bt_store_open(empty, BT_OPEN_READWRITE, &s, &em), BT_ERR_NOT_A_STORE);
    assert_non_null(strstr(em, empty));
    bt_string_free(em);
    assert_int_equal(bt_store_open(empty, BT_OPEN_READWRITE | BT_OPEN_CREATE, &s, &em), BT_OK);
    int v = 0;
    assert_int_equal(bt_store_schema_version(s, &v), BT_OK);
    assert_int_equal(v, 4);
    bt_store_close(s);
}

static void test_newer_schema(void **state)
{
    (void)state;
    char path[512];
    bt_store *s = create_store("newer.bt", path, sizeof path);
    int v = 0;
    assert_int_equal(bt_store_schema_version(s, &v), BT_OK);
    assert_int_equal(v, 4);
    assert_int_equal(bt_store_schema_version(s, NULL), BT_ERR_INVALID);
    bt_store_close(s);
    raw_sql(path, "PRAGMA user_version = 99");
    unsigned flags[] = {BT_OPEN_READONLY, BT_OPEN_READWRITE};
    for (size_t i = 0; i < 2; i++) {
        char *em = NULL;
        s = NULL;
        assert_int_equal(bt_store_open(path, flags[i], &s, &em), BT_ERR_SCHEMA);
        assert_null(s);
        assert_non_null(em);
        assert_non_null(strstr(em, "store schema version 99 is newer than this library's 4"));
        assert_non_null(strstr(em, "upgrade bordertrack"));
        bt_string_free(em);
    }
}

static void test_reopen_keeps_data(void **state)
{
    (void)state;
    char path[512];
    bt_store *s = create_store("reopen.bt", path, sizeof path);
    bt_incident inc = fx_incident("K-1", 128.0, 41.0);
    assert_int_equal(bt_incident_add(s, &inc, NULL), BT_OK);
    bt_store_close(s);
    /* CREATE on an existing store opens it as it is. */
    char *em = NULL;
    assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE | BT_OPEN_CREATE, &s, &em), BT_OK);
    bt_counts c;
    assert_int_equal(bt_store_count(s, &c), BT_OK);
    assert_int_equal(c.incidents, 1);
    bt_store_close(s);
}

static void test_readonly_store_rejects_writes(void **state)
{
    (void)state;
    char path[512];
    bt_store *s = create_store("ro.bt", path, sizeof path);
    bt_incident inc = fx_incident("RO-1", 128.0, 41.0);
    int64_t iid = 0, sid = 0;
    assert_int_equal(bt_incident_add(s, &inc, &iid), BT_OK);
    bt_source src = {0, "a source in Yanggang Province", BT_SOURCE_HUMAN, 'B', NULL};
    assert_int_equal(bt_source_add(s, &src, &sid), BT_OK);
    bt_store_close(s);

    char *em = NULL;
    assert_int_equal(bt_store_open(path, BT_OPEN_READONLY, &s, &em), BT_OK);
    bt_incident *got = NULL;
    assert_int_equal(bt_incident_get(s, iid, &got), BT_OK);
    assert_string_equal(got->ref, "RO-1");
    bt_incident_free(got);

    inc.ref = "RO-2";
    assert_int_equal(bt_incident_add(s, &inc, NULL), BT_ERR_READONLY);
    assert_non_null(strstr(bt_store_errmsg(s), "read-only"));
    inc.id = iid;
    assert_int_equal(bt_incident_update(s, &inc), BT_ERR_READONLY);
    assert_int_equal(bt_incident_delete(s, iid), BT_ERR_READONLY);
    assert_int_equal(bt_source_add(s, &src, NULL), BT_ERR_READONLY);
    assert_int_equal(bt_source_delete(s, sid), BT_ERR_READONLY);
    bt_report_link l = {iid, sid, {0, BT_TIME_NONE}, 2};
    assert_int_equal(bt_link_add(s, &l), BT_ERR_READONLY);
    assert_int_equal(bt_link_delete(s, iid, sid), BT_ERR_READONLY);
    bt_place p = {0, "Hyesan", "KP", NULL, {FX_HYESAN_LON, FX_HYESAN_LAT}};
    assert_int_equal(bt_place_add(s, &p, NULL), BT_ERR_READONLY);
    assert_int_equal(bt_place_delete(s, 1), BT_ERR_READONLY);
    bt_lonlat pts[2] = {{128.0, 41.0}, {128.1, 41.1}};
    bt_segment seg = {0, "PRK-CHN", "s", 0, BT_SEGMENT_RIVER, NULL, pts, 2};
    assert_int_equal(bt_segment_add(s, &seg, NULL), BT_ERR_READONLY);
    assert_int_equal(bt_segment_delete(s, 1), BT_ERR_READONLY);
    bt_installation in;
    bt_installation_init(&in);
    in.points = pts;
    in.npoints = 2;
    assert_int_equal(bt_installation_add(s, &in, NULL), BT_ERR_READONLY);
    assert_int_equal(bt_installation_delete(s, 1), BT_ERR_READONLY);

    /* A read-only transaction is a consistent snapshot. */
    assert_int_equal(bt_store_begin(s), BT_OK);
    bt_counts c;
    assert_int_equal(bt_store_count(s, &c), BT_OK);
    assert_int_equal(c.incidents, 1);
    assert_int_equal(c.sources, 1);
    assert_int_equal(bt_store_commit(s), BT_OK);
    bt_store_close(s);
}

static void test_transactions(void **state)
{
    (void)state;
    char path[512];
    bt_store *s = create_store("txn.bt", path, sizeof path);
    bt_counts c;

    assert_int_equal(bt_store_commit(s), BT_ERR_STATE);
    assert_non_null(strstr(bt_store_errmsg(s), "no transaction"));
    assert_int_equal(bt_store_rollback(s), BT_ERR_STATE);

    /* rollback undoes everything since begin */
    assert_int_equal(bt_store_begin(s), BT_OK);
    assert_int_equal(bt_store_begin(s), BT_ERR_STATE);
    bt_incident inc = fx_incident("T-1", 128.0, 41.0);
    assert_int_equal(bt_incident_add(s, &inc, NULL), BT_OK);
    inc.ref = "T-2";
    assert_int_equal(bt_incident_add(s, &inc, NULL), BT_OK);
    assert_int_equal(bt_store_count(s, &c), BT_OK);
    assert_int_equal(c.incidents, 2);
    assert_int_equal(bt_store_rollback(s), BT_OK);
    assert_int_equal(bt_store_count(s, &c), BT_OK);
    assert_int_equal(c.incidents, 0);

    /* a failed write inside a transaction does not spoil the rest */
    assert_int_equal(bt_store_begin(s), BT_OK);
    inc.ref = "T-1";
    assert_int_equal(bt_incident_add(s, &inc, NULL), BT_OK);
    assert_int_equal(bt_incident_add(s, &inc, NULL), BT_ERR_EXISTS);
    inc.where.lat = 91.0;
    inc.ref = "T-bad";
    assert_int_equal(bt_incident_add(s, &inc, NULL), BT_ERR_INVALID);
    inc.where.lat = 41.0;
    inc.ref = "T-3";
    assert_int_equal(bt_incident_add(s, &inc, NULL), BT_OK);
    assert_int_equal(bt_store_commit(s), BT_OK);
    assert_int_equal(bt_store_count(s, &c), BT_OK);
    assert_int_equal(c.incidents, 2);
    assert_int_equal(bt_store_commit(s), BT_ERR_STATE);

    /* closing with an open transaction rolls it back */
    assert_int_equal(bt_store_begin(s), BT_OK);
    inc.ref = "T-4";
    assert_int_equal(bt_incident_add(s, &inc, NULL), BT_OK);
    assert_int_equal(bt_store_close(s), BT_OK);
    char *em = NULL;
    assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE, &s, &em), BT_OK);
    assert_int_equal(bt_store_count(s, &c), BT_OK);
    assert_int_equal(c.incidents, 2);
    int64_t id = 0;
    assert_int_equal(bt_incident_find(s, "T-4", &id), BT_ERR_NOT_FOUND);
    assert_int_equal(bt_incident_find(s, "T-3", &id), BT_OK);
    bt_store_close(s);
}

static void test_counts(void **state)
{
    (void)state;
    char path[512];
    bt_store *s = create_store("counts.bt", path, sizeof path);
    bt_counts c;
    memset(&c, 0xff, sizeof c);
    assert_int_equal(bt_store_count(s, &c), BT_OK);
    assert_int_equal(c.segments + c.installations + c.incidents + c.sources + c.links + c.places, 0);
    assert_int_equal(bt_store_count(s, NULL), BT_ERR_INVALID);

    bt_lonlat pts[2] = {{128.0, 41.0}, {128.1, 41.1}};
    bt_segment seg = {0, "PRK-CHN", "s1", 0, BT_SEGMENT_RIVER, "Yalu", pts, 2};
    assert_int_equal(bt_segment_add(s, &seg, NULL), BT_OK);
    seg.name = "s2";
    assert_int_equal(bt_segment_add(s, &seg, NULL), BT_OK);
    bt_installation in;
    bt_installation_init(&in);
    in.points = pts;
    in.npoints = 2;
    assert_int_equal(bt_installation_add(s, &in, NULL), BT_OK);
    int64_t iid, sid;
    bt_incident inc = fx_incident("C-1", 128.0, 41.0);
    assert_int_equal(bt_incident_add(s, &inc, &iid), BT_OK);
    inc.ref = "C-2";
    assert_int_equal(bt_incident_add(s, &inc, NULL), BT_OK);
    inc.ref = "C-3";
    assert_int_equal(bt_incident_add(s, &inc, NULL), BT_OK);
    bt_source src = {0, "video footage", BT_SOURCE_VIDEO, 'C', NULL};
    assert_int_equal(bt_source_add(s, &src, &sid), BT_OK);
    bt_report_link l = {iid, sid, {0, BT_TIME_NONE}, 3};
    assert_int_equal(bt_link_add(s, &l), BT_OK);
    bt_place p = {0, "Hyesan", "KP", NULL, {FX_HYESAN_LON, FX_HYESAN_LAT}};
    assert_int_equal(bt_place_add(s, &p, NULL), BT_OK);

    assert_int_equal(bt_store_count(s, &c), BT_OK);
    assert_int_equal(c.segments, 2);
    assert_int_equal(c.installations, 1);
    assert_int_equal(c.incidents, 3);
    assert_int_equal(c.sources, 1);
    assert_int_equal(c.links, 1);
    assert_int_equal(c.places, 1);
    bt_store_close(s);
}

static void test_errmsg_reset_after_success(void **state)
{
    (void)state;
    char path[512];
    bt_store *s = create_store("errmsg.bt", path, sizeof path);
    assert_string_equal(bt_store_errmsg(s), "");
    bt_incident *got = NULL;
    assert_int_equal(bt_incident_get(s, 42, &got), BT_ERR_NOT_FOUND);
    assert_null(got);
    assert_string_equal(bt_store_errmsg(s), "incident 42 does not exist");
    bt_counts c;
    assert_int_equal(bt_store_count(s, &c), BT_OK);
    assert_string_equal(bt_store_errmsg(s), "");
    bt_store_close(s);
}

static void test_two_stores_same_file(void **state)
{
    (void)state;
    char path[512];
    bt_store *a = create_store("shared.bt", path, sizeof path);
    bt_store *b = NULL;
    char *em = NULL;
    assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE, &b, &em), BT_OK);
    bt_counts c;

    bt_incident inc = fx_incident("S-1", 128.0, 41.0);
    assert_int_equal(bt_incident_add(a, &inc, NULL), BT_OK);
    assert_int_equal(bt_store_count(b, &c), BT_OK);
    assert_int_equal(c.incidents, 1);

    /* b does not see a's open transaction until it commits */
    assert_int_equal(bt_store_begin(a), BT_OK);
    inc.ref = "S-2";
    assert_int_equal(bt_incident_add(a, &inc, NULL), BT_OK);
    assert_int_equal(bt_store_count(b, &c), BT_OK);
    assert_int_equal(c.incidents, 1);
    assert_int_equal(bt_store_commit(a), BT_OK);
    assert_int_equal(bt_store_count(b, &c), BT_OK);
    assert_int_equal(c.incidents, 2);

    /* and b's writes are seen by a */
    inc.ref = "S-3";
    int64_t id = 0, found = 0;
    assert_int_equal(bt_incident_add(b, &inc, &id), BT_OK);
    assert_int_equal(bt_incident_find(a, "S-3", &found), BT_OK);
    assert_int_equal(found, id);
    assert_int_equal(bt_store_close(b), BT_OK);
    assert_int_equal(bt_store_close(a), BT_OK);
}

/* Searches a file's bytes for a text. */
static bool file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    size_t n = strlen(needle), len = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    size_t r;
    while ((r = fread(buf + len, 1, cap - len, f)) > 0) {
        len += r;
        if (len == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    bool found = false;
    for (size_t i = 0; i + n <= len && !found; i++) found = memcmp(buf + i, needle, n) == 0;
    free(buf);
    return found;
}

static void test_deleted_source_leaves_no_trace(void **state)
{
    (void)state;
    char path[512], wal[600];
    bt_store *s = create_store("scrub.bt", path, sizeof path);
    snprintf(wal, sizeof wal, "%s-wal", path);
    const char *name = "Kim Q. Informant of Hyesan";
    bt_source src = {0, name, BT_SOURCE_HUMAN, 'B', "met at the market"};
    int64_t sid = 0;
    assert_int_equal(bt_source_add(s, &src, &sid), BT_OK);
    assert_true(file_contains(path, name) || file_contains(wal, name));
    assert_int_equal(bt_source_delete(s, sid), BT_OK);
    /* while the store is still open: neither the file nor the WAL holds it */
    assert_false(file_contains(path, name));
    assert_false(file_contains(wal, name));
    assert_false(file_contains(path, "met at the market"));
    bt_store_close(s);
    assert_false(file_contains(path, name));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_bad_arguments),
        cmocka_unit_test(test_create_files_are_private),
        cmocka_unit_test(test_open_missing_file),
        cmocka_unit_test(test_not_a_store_text_file),
        cmocka_unit_test(test_not_a_store_sqlite_file),
        cmocka_unit_test(test_newer_schema),
        cmocka_unit_test(test_reopen_keeps_data),
        cmocka_unit_test(test_readonly_store_rejects_writes),
        cmocka_unit_test(test_transactions),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_errmsg_reset_after_success),
        cmocka_unit_test(test_two_stores_same_file),
        cmocka_unit_test(test_deleted_source_leaves_no_trace),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
