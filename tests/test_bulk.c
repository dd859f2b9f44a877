/**
 * @file test_bulk.c
 * @brief Bulk loading inside an explicit transaction (lib/store/sqlite_bulk.c): the
 * per-row SpatiaLite triggers are set aside and the R*Tree is rebuilt or topped up in
 * one go. Checks that afterwards the file's spatial index is exactly right (SQLite's
 * rtreecheck(), SpatiaLite's CheckSpatialIndex(), a row-by-row comparison), the
 * triggers are back byte for byte, queries agree with a brute-force geodesic scan, and
 * a rollback leaves no trace.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <geodesic.h>
#include <sqlite3.h>
/* after sqlite3.h, which it needs */
#include <spatialite.h>

#include "store/sqlite_bulk.h"
#include "store_fixture.h"

static fx_dir dir;

/* A new store in the test directory, read-write (the path is written to path). */
static bt_store *open_new(const char *name, char *path, size_t size)
{
    fx_file(&dir, name, path, size);
    bt_store *s = NULL;
    assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE | BT_OPEN_CREATE, &s, NULL), BT_OK);
    return s;
}

static struct geod_geodesic wgs84;

#define MAX_POINTS 32000
static bt_lonlat pts[MAX_POINTS];
static int64_t ids[MAX_POINTS];
static size_t npts;

static int setup(void **state)
{
    (void)state;
    geod_init(&wgs84, 6378137.0, 1.0 / 298.257223563);
    return fx_dir_make(&dir);
}

static int teardown(void **state)
{
    (void)state;
    fx_dir_remove(&dir);
    return 0;
}

/* Deterministic points over the border region, 124..131E, 40..43N. */
static uint64_t lcg = 12345;
static double next_unit(void)
{
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(lcg >> 11) / 9007199254740992.0;
}

static void add_points(bt_store *s, size_t n)
{
    char ref[32];
    for (size_t i = 0; i < n; i++) {
        assert_true(npts < MAX_POINTS);
        bt_lonlat p = {124.0 + 7.0 * next_unit(), 40.0 + 3.0 * next_unit()};
        snprintf(ref, sizeof ref, "B-%zu", npts);
        bt_incident inc = fx_incident(ref, p.lon, p.lat);
        int rc = bt_incident_add(s, &inc, &ids[npts]);
        if (rc) fprintf(stderr, "%s\n", bt_store_errmsg(s));
        assert_int_equal(rc, BT_OK);
        pts[npts++] = p;
    }
}

/* The CREATE TRIGGER text of the incidents table's triggers, concatenated. */
static char *trigger_sql(sqlite3 *db)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT group_concat(name || ':' || sql, '|') FROM"
                                            " (SELECT name, sql FROM sqlite_master WHERE type ="
                                            " 'trigger' AND tbl_name = 'incidents' ORDER BY name)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc) fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
    assert_int_equal(rc, SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Checks the file's R*Tree against the table with a separate connection. */
static void check_index(const char *path, const char *want_triggers)
{
    sqlite3 *db;
    /* read-write: CheckSpatialIndex() logs to spatialite_history */
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    void *cache = spatialite_alloc_connection();
    spatialite_init_ex(db, cache, 0);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT rtreecheck('idx_incidents_geom')", -1, &st,
                                        NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    int64_t n = query_int(db, "SELECT count(*) FROM incidents");
    assert_int_equal(n, (int64_t)npts);
    assert_int_equal(query_int(db, "SELECT count(*) FROM idx_incidents_geom"), n);
    /* every row's box holds exactly its point */
    assert_int_equal(query_int(db, "SELECT count(*) FROM incidents i JOIN idx_incidents_geom r"
                                   " ON r.pkid = i.id WHERE r.xmin <= i.lon AND r.xmax >= i.lon"
                                   " AND r.ymin <= i.lat AND r.ymax >= i.lat"
                                   " AND r.xmax - r.xmin < 1e-4 AND r.ymax - r.ymin < 1e-4"),
                     n);
    assert_int_equal(query_int(db, "SELECT CheckSpatialIndex('incidents', 'geom')"), 1);
    /* SpatiaLite's SpatialIndex queries find exactly the points in a window */
    static const double win[][4] = {{124.0, 40.0, 131.0, 43.0}, {127.1, 40.9, 128.3, 41.7},
                                    {124.2, 42.5, 124.25, 42.55}, {130.9, 40.0, 131.0, 40.1}};
    for (size_t w = 0; w < sizeof win / sizeof win[0]; w++) {
        char sql[512];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM incidents WHERE ROWID IN (SELECT ROWID FROM SpatialIndex"
                 " WHERE f_table_name = 'incidents' AND search_frame = BuildMbr(%.17g, %.17g,"
                 " %.17g, %.17g, 4326)) AND lon BETWEEN %.17g AND %.17g AND lat BETWEEN %.17g"
                 " AND %.17g",
                 win[w][0], win[w][1], win[w][2], win[w][3], win[w][0], win[w][2], win[w][1],
                 win[w][3]);
        int64_t via_index = query_int(db, sql);
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM incidents WHERE lon BETWEEN %.17g AND %.17g AND lat"
                 " BETWEEN %.17g AND %.17g",
                 win[w][0], win[w][2], win[w][1], win[w][3]);
        assert_int_equal(via_index, query_int(db, sql));
    }
    if (want_triggers) {
        char *got = trigger_sql(db);
        assert_string_equal(got, want_triggers);
        free(got);
    }
    sqlite3_close(db);
    spatialite_cleanup_ex(cache);
}

struct idlist {
    size_t n;
    int64_t id[MAX_POINTS];
};

static int collect(const bt_incident *inc, double d, void *udata)
{
    (void)d;
    struct idlist *l = udata;
    l->id[l->n++] = inc->id;
    return 0;
}

/* bt_incidents_within against a brute-force geodesic scan of the test's own points. */
static void check_queries(bt_store *s)
{
    static struct idlist got;
    const bt_lonlat centres[] = {{FX_HYESAN_LON, FX_HYESAN_LAT}, {124.4, 40.1}, {127.5, 41.5}};
    const double radii[] = {5000.0, 25000.0, 120000.0};
    for (size_t c = 0; c < 3; c++) {
        for (size_t r = 0; r < 3; r++) {
            got.n = 0;
            assert_int_equal(bt_incidents_within(s, centres[c], radii[r], INT64_MIN, INT64_MAX,
                                                 collect, &got),
                             BT_OK);
            size_t k = 0;
            for (size_t i = 0; i < npts; i++) {
                double d;
                geod_inverse(&wgs84, centres[c].lat, centres[c].lon, pts[i].lat, pts[i].lon, &d,
                             NULL, NULL);
                if (d > radii[r]) continue;
                assert_true(k < got.n);
                assert_int_equal(got.id[k], ids[i]); /* ids increase with i */
                k++;
            }
            assert_int_equal(k, got.n);
        }
    }
}

static void test_bulk_load_rebuilds_index(void **state)
{
    (void)state;
    char path[512];
    bt_store *s = open_new("bulk.bt", path, sizeof path);

    sqlite3 *raw;
    assert_int_equal(sqlite3_open_v2(path, &raw, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    char *triggers = trigger_sql(raw);
    sqlite3_close(raw);
    assert_non_null(strstr(triggers, "gii_incidents_geom"));

    /* some rows the ordinary way, then a large transaction */
    add_points(s, 100);
    assert_int_equal(bt_store_begin(s), BT_OK);
    add_points(s, 1500);
    /* a query in the middle sees every row so far (the index is brought up to date) */
    check_queries(s);
    add_points(s, 1500);
    assert_int_equal(bt_store_commit(s), BT_OK);
    check_index(path, triggers);
    check_queries(s);

    /* a smaller load onto a larger table: the new rows are added to the index */
    assert_int_equal(bt_store_begin(s), BT_OK);
    add_points(s, 700);
    assert_int_equal(bt_store_commit(s), BT_OK);
    check_index(path, triggers);
    check_queries(s);

    /* rows added after the bulk load are indexed by the restored triggers */
    add_points(s, 3);
    check_index(path, triggers);

    /* a rolled-back bulk load leaves the store as it was */
    size_t before = npts;
    assert_int_equal(bt_store_begin(s), BT_OK);
    add_points(s, 900);
    assert_int_equal(bt_store_rollback(s), BT_OK);
    npts = before;
    check_index(path, triggers);
    check_queries(s);

    /* closing in the middle of a bulk load rolls it back too */
    assert_int_equal(bt_store_begin(s), BT_OK);
    add_points(s, 600);
    npts = before;
    assert_int_equal(bt_store_close(s), BT_OK);
    check_index(path, triggers);
    assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE, &s, NULL), BT_OK);

    /* updates and deletes of bulk-loaded rows inside the same transaction */
    assert_int_equal(bt_store_begin(s), BT_OK);
    add_points(s, 600);
    bt_incident *inc = NULL;
    assert_int_equal(bt_incident_get(s, ids[npts - 1], &inc), BT_OK);
    bt_incident moved = *inc;
    moved.where = (bt_lonlat){125.0, 40.5};
    assert_int_equal(bt_incident_update(s, &moved), BT_OK);
    bt_incident_free(inc);
    pts[npts - 1] = moved.where;
    assert_int_equal(bt_incident_delete(s, ids[npts - 2]), BT_OK);
    pts[npts - 2] = pts[npts - 1];
    ids[npts - 2] = ids[npts - 1];
    npts--;
    assert_int_equal(bt_store_commit(s), BT_OK);
    check_index(path, triggers);
    check_queries(s);

    bt_store_close(s);
    free(triggers);
}

/* The SQL of the time index as the file holds it ("" if there is none). */
static char *time_index_sql(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT coalesce((SELECT sql FROM sqlite_master"
                                            " WHERE type = 'index' AND name = 'incidents_time'),"
                                            " '')",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

#define TIME_INDEX_PRESENT                                                                   \
    "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'incidents_time'"

/* Incidents with varied times: start_t = 10^9 + 3600 * k for k in 0..9999 (from the
 * generator), open-ended for every seventh; times[] keeps each start. */
static int64_t times[MAX_POINTS];

static void add_timed(bt_store *s, size_t n)
{
    char ref[32];
    for (size_t i = 0; i < n; i++) {
        assert_true(npts < MAX_POINTS);
        bt_lonlat p = {124.0 + 7.0 * next_unit(), 40.0 + 3.0 * next_unit()};
        snprintf(ref, sizeof ref, "T-%zu", npts);
        bt_incident inc = fx_incident(ref, p.lon, p.lat);
        inc.start = INT64_C(1000000000) + 3600 * (int64_t)(next_unit() * 10000.0);
        inc.end = npts % 7 == 0 ? BT_TIME_OPEN : inc.start + 86399;
        assert_int_equal(bt_incident_add(s, &inc, &ids[npts]), BT_OK);
        times[npts] = inc.start;
        pts[npts++] = p;
    }
}

/* The time index agrees with the table and with the test's own list of times. */
static void check_time_index(const char *path, const char *want_sql)
{
    char *got = time_index_sql(path);
    assert_string_equal(got, want_sql);
    free(got);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    static const int64_t from[] = {1000000000, 1010000000, 1020000000, 1035000000};
    for (size_t k = 0; k < sizeof from / sizeof from[0]; k++) {
        int64_t lo = from[k], hi = from[k] + 5000000;
        size_t want = 0;
        for (size_t i = 0; i < npts; i++) want += times[i] >= lo && times[i] <= hi;
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM incidents INDEXED BY incidents_time WHERE start_t"
                 " BETWEEN %lld AND %lld",
                 (long long)lo, (long long)hi);
        assert_int_equal(query_int(db, sql), (int64_t)want);
    }
    /* the open-ended ones, through the index's second column */
    size_t open = 0;
    for (size_t i = 0; i < npts; i++) open += i % 7 == 0;
    assert_int_equal(query_int(db, "SELECT count(*) FROM incidents INDEXED BY incidents_time"
                                   " WHERE start_t >= 0 AND end_t IS NULL"),
                     (int64_t)open);
    sqlite3_close(db);
}

/* A load at least as large as the table builds the time index once at flush: dropped
 * while loading, back byte for byte at commit, the connection's settings restored. */
static void test_bulk_time_index(void **state)
{
    (void)state;
    char path[512];
    bt_store *s = open_new("bulk_time.bt", path, sizeof path);
    npts = 0;
    char *want = time_index_sql(path);
    assert_non_null(strstr(want, "CREATE INDEX incidents_time"));
    int64_t temp_store = bt__sq_bulk_query_int(s, "PRAGMA temp_store");
    int64_t cache_size = bt__sq_bulk_query_int(s, "PRAGMA cache_size");
    assert_int_equal(temp_store, 2); /* MEMORY, as the store opens */

    add_timed(s, 100);
    assert_int_equal(bt_store_begin(s), BT_OK);
    add_timed(s, 600); /* bulk mode from insert 512; not yet as many as the table's rows */
    assert_int_equal(bt_incident_find(s, "T-650", &(int64_t){0}), BT_OK);
    assert_int_equal(bt__sq_bulk_query_int(s, TIME_INDEX_PRESENT), 1);
    add_timed(s, 2400);
    assert_int_equal(bt__sq_bulk_query_int(s, TIME_INDEX_PRESENT), 0);
    assert_int_equal(bt_store_commit(s), BT_OK);
    assert_int_equal(bt__sq_bulk_query_int(s, TIME_INDEX_PRESENT), 1);
    /* rebuilt by a sort that could spill to disk (bounded memory) */
    assert_true(bt__sq_bulk_sort_on_file(s));
    assert_int_equal(bt__sq_bulk_query_int(s, "PRAGMA temp_store"), temp_store);
    assert_int_equal(bt__sq_bulk_query_int(s, "PRAGMA cache_size"), cache_size);
    check_time_index(path, want);
    check_index(path, NULL);

    /* a smaller load onto a larger table keeps the index and inserts into it */
    assert_int_equal(bt_store_begin(s), BT_OK);
    add_timed(s, 1500);
    assert_int_equal(bt__sq_bulk_query_int(s, TIME_INDEX_PRESENT), 1);
    assert_int_equal(bt_store_commit(s), BT_OK);
    check_time_index(path, want);

    /* a rolled-back load leaves the index as it was */
    size_t before = npts;
    assert_int_equal(bt_store_begin(s), BT_OK);
    add_timed(s, 6000); /* the table holds 4600 */
    assert_int_equal(bt__sq_bulk_query_int(s, TIME_INDEX_PRESENT), 0);
    assert_int_equal(bt_store_rollback(s), BT_OK);
    npts = before;
    assert_int_equal(bt__sq_bulk_query_int(s, "PRAGMA temp_store"), temp_store);
    assert_int_equal(bt__sq_bulk_query_int(s, "PRAGMA cache_size"), cache_size);
    check_time_index(path, want);

    /* a query in the middle of the load rebuilds it; the load goes on */
    assert_int_equal(bt_store_begin(s), BT_OK);
    add_timed(s, 6000);
    assert_int_equal(bt__sq_bulk_query_int(s, TIME_INDEX_PRESENT), 0);
    check_queries(s);
    assert_int_equal(bt__sq_bulk_query_int(s, TIME_INDEX_PRESENT), 1);
    add_timed(s, 600);
    assert_int_equal(bt_store_commit(s), BT_OK);
    check_time_index(path, want);
    check_index(path, NULL);

    /* the queries built the in-memory index, whose watch objects are TEMP: temp_store
     * can no longer change inside a transaction, so the rebuild could not spill to
     * disk and the index stays (a larger load than the table's 11,200 rows) */
    assert_true(bt__sq_bulk_query_int(s, "SELECT count(*) FROM temp.sqlite_master") > 0);
    assert_int_equal(bt_store_begin(s), BT_OK);
    add_timed(s, 12000);
    assert_int_equal(bt__sq_bulk_query_int(s, TIME_INDEX_PRESENT), 1);
    assert_int_equal(bt_store_commit(s), BT_OK);
    assert_int_equal(bt__sq_bulk_query_int(s, "PRAGMA temp_store"), temp_store);
    check_time_index(path, want);
    check_index(path, NULL);
    bt_store_close(s);
    free(want);
}

/* Writes n features, one a line, with refs D-0.. and the ref of feature dup (1-based)
 * repeating that of feature 1 when dup > 0. */
static char *geojson_lines(size_t n, size_t dup)
{
    size_t cap = 200 * n + 64, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    len += (size_t)snprintf(buf + len, cap - len, "{\"type\":\"FeatureCollection\",\"features\":[\n");
    for (size_t i = 1; i <= n; i++)
        len += (size_t)snprintf(buf + len, cap - len,
                                "%s{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\","
                                "\"coordinates\":[%.6f,%.6f]},\"properties\":{\"ref\":\"D-%zu\","
                                "\"type\":\"arrest\",\"start\":\"2021-03-04\"}}\n",
                                i > 1 ? "," : "", 124.0 + 0.001 * (double)(i % 5000),
                                40.0 + 0.0005 * (double)i, i == dup ? (size_t)1 : i);
    len += (size_t)snprintf(buf + len, cap - len, "]}\n");
    assert_true(len < cap);
    return buf;
}

/* The ref index is kept: a duplicate past the point where the time index is dropped is
 * refused at its feature, with the message of an ordinary import, and nothing is kept. */
static void test_bulk_duplicate_ref(void **state)
{
    (void)state;
    char path[512];
    bt_store *s = open_new("bulk_dup.bt", path, sizeof path);
    char *want = time_index_sql(path);
    char *text = geojson_lines(3000, 2500);
    bt_import_report rep;
    assert_int_equal(bt_import_mem(s, text, strlen(text), "dup.geojson", NULL, &rep),
                     BT_ERR_EXISTS);
    /* feature 2500 is on line 2501 after the comma that starts it */
    assert_string_equal(bt_store_errmsg(s), "dup.geojson: feature 2500 (line 2501, column 2): "
                                            "incident ref 'D-1' already exists");
    npts = 0;
    check_time_index(path, want);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(query_int(db, "SELECT count(*) FROM incidents"), 0);
    sqlite3_close(db);

    /* skipping it instead: a rollback to the feature's savepoint in the middle of the
     * bulk load, the other 2999 kept and indexed */
    bt_import_options o;
    bt_import_options_init(&o);
    o.skip_invalid = 1;
    assert_int_equal(bt_import_mem(s, text, strlen(text), "dup.geojson", &o, &rep), BT_OK);
    assert_int_equal(rep.added, 2999);
    assert_int_equal(rep.skipped, 1);
    assert_int_equal(bt__sq_bulk_query_int(s, TIME_INDEX_PRESENT), 1);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(query_int(db, "SELECT count(*) FROM incidents"), 2999);
    assert_int_equal(query_int(db, "SELECT count(*) FROM incidents INDEXED BY incidents_time"
                                   " WHERE start_t >= 0"),
                     2999);
    sqlite3_close(db);
    free(text);
    free(want);
    bt_store_close(s);
}

/* The R*Tree entries kept while inserting stand for the new rows only while nothing
 * else changed them: a point moved, a row deleted, in the load that rebuilds the tree
 * (an entry kept from before the move would put the row's box in the wrong place). */
static void test_bulk_kept_entries_follow_changes(void **state)
{
    (void)state;
    char path[512];
    bt_store *s = open_new("bulk_kept.bt", path, sizeof path);
    npts = 0;
    add_points(s, 50);
    assert_int_equal(bt_store_begin(s), BT_OK);
    add_points(s, 2000);
    /* move one new row far away: same count of new rows, other box */
    bt_incident *inc = NULL;
    assert_int_equal(bt_incident_get(s, ids[1500], &inc), BT_OK);
    bt_incident moved = *inc;
    moved.where = (bt_lonlat){130.5, 42.75};
    assert_int_equal(bt_incident_update(s, &moved), BT_OK);
    bt_incident_free(inc);
    pts[1500] = moved.where;
    add_points(s, 500);
    assert_int_equal(bt_store_commit(s), BT_OK);
    check_index(path, NULL);
    check_queries(s);

    /* a delete, then as many inserts as rows deleted */
    assert_int_equal(bt_store_begin(s), BT_OK);
    add_points(s, 3000);
    assert_int_equal(bt_incident_delete(s, ids[npts - 1]), BT_OK);
    npts--;
    add_points(s, 1); /* the same ref again, another id and point */
    assert_int_equal(bt_store_commit(s), BT_OK);
    check_index(path, NULL);
    check_queries(s);
    bt_store_close(s);
}

/* The R*Tree's (pkid, box) rows in pkid order, as text, to compare two packings. */
static char *rtree_rows(const char *path)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT group_concat(pkid || ':' || xmin || ',' ||"
                                            " xmax || ',' || ymin || ',' || ymax, ';') FROM"
                                            " (SELECT * FROM idx_incidents_geom ORDER BY pkid)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const char *t = (const char *)sqlite3_column_text(st, 0);
    char *out = strdup(t ? t : "");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

/* Packs the R*Tree with the external sort cut into tiny runs (several merge passes),
 * one merge pass, and in memory, on tables of 0, 1, a node's worth and thousands of
 * rows: every packing is a valid tree holding exactly the same entries. */
static void test_repack_external_sort(void **state)
{
    (void)state;
    char path[512];
    bt_store *s = open_new("repack.bt", path, sizeof path);
    npts = 0;
    /* 0 rows, one, a leaf root (167 cells a node with 4 KiB pages), exactly one full
     * node, one more, two levels, three levels (more than 167 * 167 rows) */
    const size_t grow[] = {0, 1, 50, 116, 1, 2000, 26000};
    const size_t runs[][2] = {{0, 0}, {7, 2}, {5, 3}, {64, 16}, {1000, 2}, {3, 200}};
    for (size_t g = 0; g < sizeof grow / sizeof grow[0]; g++) {
        assert_int_equal(bt_store_begin(s), BT_OK);
        add_points(s, grow[g]);
        assert_int_equal(bt_store_commit(s), BT_OK);
        check_index(path, NULL);
        /* (SQLite rounds a box edge by its own rule, at most an ulp wider than ours: compare
         * the packings with each other) */
        char *want = NULL;
        for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
            assert_int_equal(bt_store_begin(s), BT_OK);
            int rc = bt__sq_bulk_repack(s, runs[r][0], (unsigned)runs[r][1]);
            if (rc) fprintf(stderr, "%s\n", bt_store_errmsg(s));
            assert_int_equal(rc, BT_OK);
            assert_int_equal(bt_store_commit(s), BT_OK);
            check_index(path, NULL);
            char *got = rtree_rows(path);
            if (!want) want = got;
            assert_string_equal(got, want);
            if (got != want) free(got);
        }
        free(want);
        check_queries(s);
    }
    bt_store_close(s);
}

#ifdef BT_FAULT_INJECTION
long bt__alloc_fail_after(long n);

/* Every allocation of a packing with several merge passes fails in turn: each failure
 * is BT_ERR_NOMEM, the rollback leaves the index valid, and the walk ends in success. */
static void test_repack_out_of_memory(void **state)
{
    (void)state;
    char path[512];
    bt_store *s = open_new("repack_oom.bt", path, sizeof path);
    npts = 0;
    assert_int_equal(bt_store_begin(s), BT_OK);
    add_points(s, 700);
    assert_int_equal(bt_store_commit(s), BT_OK);
    long n;
    for (n = 1; n < 10000; n++) {
        assert_int_equal(bt_store_begin(s), BT_OK);
        bt__alloc_fail_after(n);
        int rc = bt__sq_bulk_repack(s, 9, 2);
        bt__alloc_fail_after(0);
        if (rc == BT_OK) {
            assert_int_equal(bt_store_commit(s), BT_OK);
            break;
        }
        assert_int_equal(rc, BT_ERR_NOMEM);
        assert_int_equal(bt_store_rollback(s), BT_OK);
        check_index(path, NULL);
    }
    assert_true(n > 10); /* the failure paths were walked */
    check_index(path, NULL);
    check_queries(s);
    bt_store_close(s);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bulk_load_rebuilds_index),
        cmocka_unit_test(test_repack_external_sort),
        cmocka_unit_test(test_bulk_time_index),
        cmocka_unit_test(test_bulk_duplicate_ref),
        cmocka_unit_test(test_bulk_kept_entries_follow_changes),
#ifdef BT_FAULT_INJECTION
        cmocka_unit_test(test_repack_out_of_memory),
#endif
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
