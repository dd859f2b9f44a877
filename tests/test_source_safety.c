/**
 * @file test_source_safety.c
 * @brief Source identities: no default export (GeoJSON, sequence, CSV, KML, of every
 * table) and no error message of a failing call carries a source's name or notes;
 * a deleted source leaves no byte of its name in the store file or its WAL after
 * close; a new store and its -wal and -shm files are readable by their owner only.
 */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "trust_util.h"

/* The identities and notes of the fixtures (trust_util.h). */
static const char *const secrets[] = {"Informant Kim", "met in Yanbian", "Courier Pak",
                                      "Regional outlet", "restricted"};
#define NSECRETS (sizeof secrets / sizeof secrets[0])

static bt_store *fresh(tu_dir *d, char *path, size_t n)
{
    assert_int_equal(tu_dir_make(d), 0);
    tu_path(d, "src.db", path, n);
    bt_store *s = NULL;
    assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE | BT_OPEN_CREATE, &s, NULL), BT_OK);
    for (size_t i = 0; i < TU_NFIXTURES; i++)
        assert_int_equal(tu_import(s, &tu_fixtures[i], NULL), BT_OK);
    return s;
}

static void no_secret(const char *what, const char *text, size_t len)
{
    for (size_t k = 0; k < NSECRETS; k++)
        if (tu_contains(text, len, secrets[k]))
            fail_msg("%s contains the source text '%s'", what, secrets[k]);
}

static void test_default_exports_are_redacted(void **state)
{
    (void)state;
    tu_dir d;
    char path[512];
    bt_store *s = fresh(&d, path, sizeof path);
    const bt_table tables[] = {BT_TABLE_BORDERS, BT_TABLE_INSTALLATIONS, BT_TABLE_INCIDENTS,
                               BT_TABLE_PLACES};
    const bt_format formats[] = {BT_FORMAT_GEOJSON, BT_FORMAT_GEOJSONSEQ, BT_FORMAT_CSV,
                                 BT_FORMAT_KML};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
            bt_export_options o;
            bt_export_options_init(&o);
            o.table = tables[t];
            o.format = formats[f];
            tu_buf b = {0};
            assert_int_equal(bt_export_write(s, tu_buf_write, &b, &o), BT_OK);
            char what[64];
            snprintf(what, sizeof what, "export of %s as format %d", bt_table_name(tables[t]),
                     (int)formats[f]);
            no_secret(what, b.data ? b.data : "", b.len);
            free(b.data);
        }
    }
    /* the sources table itself needs the explicit flag */
    bt_export_options o;
    bt_export_options_init(&o);
    o.table = BT_TABLE_SOURCES;
    tu_buf b = {0};
    assert_int_equal(bt_export_write(s, tu_buf_write, &b, &o), BT_ERR_INVALID);
    no_secret("refused sources export", b.data ? b.data : "", b.len);
    no_secret("its message", bt_store_errmsg(s), strlen(bt_store_errmsg(s)));
    free(b.data);
    /* and with the flag, they are there (the test would be blind otherwise) */
    bt_export_options_init(&o);
    o.table = BT_TABLE_INCIDENTS;
    o.include_sources = 1;
    b.data = NULL;
    b.len = b.cap = 0;
    assert_int_equal(bt_export_write(s, tu_buf_write, &b, &o), BT_OK);
    assert_true(tu_contains(b.data, b.len, "Informant Kim"));
    free(b.data);
    bt_store_close(s);
    tu_dir_remove(&d);
}

/* Queries hand out incidents, never sources. */
static int query_cb(const bt_incident *inc, double dist, void *udata)
{
    (void)dist;
    (void)udata;
    no_secret("a queried incident's ref", inc->ref, strlen(inc->ref));
    if (inc->summary)
        no_secret("a queried incident's summary", inc->summary, strlen(inc->summary));
    return 0;
}

static void test_error_messages_carry_no_identity(void **state)
{
    (void)state;
    tu_dir d;
    char path[512];
    bt_store *s = fresh(&d, path, sizeof path);
    bt_lonlat c = {128.18, 41.40};
    assert_int_equal(bt_incidents_within(s, c, 50000, INT64_MIN, INT64_MAX, query_cb, NULL),
                     BT_OK);
    int64_t kim = 0;
    assert_int_equal(bt_source_find(s, "Informant Kim in Hyesan", &kim), BT_OK);
    const char *msg;
#define NO_SECRET_IN_ERR(call, want)                                                   \
    do {                                                                                \
        int rc_ = (call);                                                               \
        assert_int_equal(rc_, (want));                                                  \
        msg = bt_store_errmsg(s);                                                       \
        assert_true(msg[0] != '\0');                                                    \
        no_secret("message of " #call, msg, strlen(msg));                               \
    } while (0)
    /* deleting a source still linked */
    NO_SECRET_IN_ERR(bt_source_delete(s, kim), BT_ERR_CONSTRAINT);
    /* a duplicate source name */
    bt_source dup = {0, "Informant Kim in Hyesan", BT_SOURCE_HUMAN, 'C', "met in Yanbian"};
    NO_SECRET_IN_ERR(bt_source_add(s, &dup, NULL), BT_ERR_EXISTS);
    /* an invalid grade on a named source */
    dup.name = "Courier Pak 2";
    dup.reliability = 'G';
    NO_SECRET_IN_ERR(bt_source_add(s, &dup, NULL), BT_ERR_INVALID);
    /* a duplicate link */
    bt_report_link link = {1, kim, {0, BT_TIME_NONE}, 3};
    NO_SECRET_IN_ERR(bt_link_add(s, &link), BT_ERR_EXISTS);
    /* an import whose bad feature names a source */
    static const char bad[] =
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128.1,41.3]},"
        "\"properties\":{\"ref\":\"Z-1\",\"type\":\"other\",\"start\":\"2020\","
        "\"source\":\"Informant Kim in Hyesan\",\"source_notes\":\"met in Yanbian\","
        "\"credibility\":9}}\n";
    bt_import_options o;
    bt_import_options_init(&o);
    o.format = BT_FORMAT_GEOJSONSEQ;
    NO_SECRET_IN_ERR(bt_import_mem(s, bad, sizeof bad - 1, "bad.geojsonl", &o, NULL),
                     BT_ERR_INVALID);
    static const char bad2[] =
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128.1,41.3]},"
        "\"properties\":{\"ref\":\"Z-2\",\"type\":\"other\",\"start\":\"2020\","
        "\"source\":\"Courier Pak restricted\",\"reliability\":\"Q\"}}\n";
    NO_SECRET_IN_ERR(bt_import_mem(s, bad2, sizeof bad2 - 1, "bad2.geojsonl", &o, NULL),
                     BT_ERR_INVALID);
    bt_store_close(s);
    tu_dir_remove(&d);
}

/* The bytes of @p needle anywhere in the file at @p path (0 if it does not exist). */
static int file_has(const char *path, const char *needle)
{
    size_t len = 0;
    char *data = tu_read_file(path, &len);
    if (!data)
        return 0;
    int found = tu_contains(data, len, needle);
    free(data);
    return found;
}

static void test_deleted_source_leaves_no_trace(void **state)
{
    (void)state;
    tu_dir d;
    char path[512], wal[600];
    bt_store *s = fresh(&d, path, sizeof path);
    snprintf(wal, sizeof wal, "%s-wal", path);
    /* a source that is added, used, renamed, unlinked and deleted */
    const char *name = "Defector Choe Myong-sik of Hyesan";
    const char *notes = "phone 8613900000000";
    const char *renamed = "Defector Choe M. of Hyesan";
    bt_source src = {0, name, BT_SOURCE_HUMAN, 'B', notes};
    int64_t sid = 0;
    assert_int_equal(bt_source_add(s, &src, &sid), BT_OK);
    bt_report_link link = {1, sid, {0, BT_TIME_NONE}, 2};
    assert_int_equal(bt_link_add(s, &link), BT_OK);
    /* not blind: the name is on disk now */
    assert_true(file_has(path, name) || file_has(wal, name));
    src.id = sid;
    src.name = renamed;
    assert_int_equal(bt_source_update(s, &src), BT_OK);
    assert_int_equal(bt_link_delete(s, 1, sid), BT_OK);
    assert_int_equal(bt_source_delete(s, sid), BT_OK);
    /* while open, the WAL may still hold it; after close, neither file may */
    assert_int_equal(bt_store_close(s), BT_OK);
    const char *gone[] = {name, notes, renamed};
    for (size_t i = 0; i < 3; i++) {
        if (file_has(path, gone[i]))
            fail_msg("'%s' survives in the store file after delete and close", gone[i]);
        if (file_has(wal, gone[i]))
            fail_msg("'%s' survives in the WAL after delete and close", gone[i]);
    }
    /* the other sources are still there (the scrub did not lose data) */
    s = NULL;
    assert_int_equal(bt_store_open(path, BT_OPEN_READONLY, &s, NULL), BT_OK);
    int64_t id = 0;
    assert_int_equal(bt_source_find(s, "Informant Kim in Hyesan", &id), BT_OK);
    bt_store_close(s);
    tu_dir_remove(&d);
}

static void test_new_store_is_owner_only(void **state)
{
    (void)state;
    mode_t old = umask(0); /* the most permissive umask: the library must still say 0600 */
    tu_dir d;
    char path[512], side[600];
    bt_store *s = fresh(&d, path, sizeof path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* with the handle open and a write done, the WAL and shared-memory files exist */
    const char *sfx[] = {"-wal", "-shm"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(side, sizeof side, "%s%s", path, sfx[i]);
        assert_int_equal(stat(side, &st), 0);
        if ((st.st_mode & 0777) != 0600)
            fail_msg("%s has mode %03o, want 0600", side, (unsigned)(st.st_mode & 0777));
    }
    bt_store_close(s);
    umask(old);
    tu_dir_remove(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_exports_are_redacted),
        cmocka_unit_test(test_error_messages_carry_no_identity),
        cmocka_unit_test(test_deleted_source_leaves_no_trace),
        cmocka_unit_test(test_new_store_is_owner_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
