/**
 * @file test_oneshot_open.c
 * @brief Read-only handles do not set up SpatiaLite (docs/PERFORMANCE.md, "One-shot"):
 * a read-only open followed by queries answers exactly (against geod_inverse called
 * here) without it, and SpatiaLite's SQL functions work on such a handle once
 * bt__sq_spatialite() has set them up. Read-write handles have them from the open.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <geodesic.h>
#include <math.h>
#include <sqlite3.h>

#include "store/sqlite_splite.h"
#include "store_fixture.h"
#include "test_rng.h"

#define N_INC 400
#define C_LON 128.17778
#define C_LAT 41.40167

struct fx {
    fx_dir dir;
    char path[512];
    double lon[N_INC], lat[N_INC];
    int64_t id[N_INC];
    int type[N_INC];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(fx_dir_make(&f->dir), 0);
    fx_file(&f->dir, "oneshot.sqlite", f->path, sizeof f->path);
    bt_store *s = NULL;
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READWRITE | BT_OPEN_CREATE, &s, NULL), BT_OK);
    /* the writer has SpatiaLite from the open: its triggers run on every insert */
    assert_true(bt__sq_spatialite_ready(s));
    uint64_t seed = 42;
    char ref[32];
    bt_incident inc;
    bt_incident_init(&inc);
    inc.ref = ref;
    inc.time_precision = BT_TIME_DAY;
    assert_int_equal(bt_store_begin(s), BT_OK);
    for (int i = 0; i < N_INC; i++) {
        snprintf(ref, sizeof ref, "OS-%d", i);
        /* a 16 km square around the centre: a 5 km circle holds about a quarter */
        f->lon[i] = C_LON + splitmix_unif(&seed, -0.1, 0.1);
        f->lat[i] = C_LAT + splitmix_unif(&seed, -0.075, 0.075);
        f->type[i] = (int)splitmix_unif(&seed, 0.0, (double)BT_INCIDENT_TYPE_COUNT - 1e-9);
        inc.where = (bt_lonlat){f->lon[i], f->lat[i]};
        inc.type = (bt_incident_type)f->type[i];
        inc.start = FX_T_2020_07_01 + i * 3600;
        inc.end = inc.start + 86400;
        assert_int_equal(bt_incident_add(s, &inc, &f->id[i]), BT_OK);
    }
    assert_int_equal(bt_store_commit(s), BT_OK);
    assert_int_equal(bt_store_close(s), BT_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    fx_dir_remove(&f->dir);
    free(f);
    return 0;
}

/* The ids within r metres of the centre, by geod_inverse here; returns how many. */
static size_t expected(const struct fx *f, double r, int64_t *ids)
{
    struct geod_geodesic g;
    geod_init(&g, 6378137.0, 1.0 / 298.257223563);
    size_t n = 0;
    for (int i = 0; i < N_INC; i++) {
        double s12;
        geod_inverse(&g, C_LAT, C_LON, f->lat[i], f->lon[i], &s12, NULL, NULL);
        if (s12 <= r) ids[n++] = f->id[i];
    }
    return n;
}

static void circle(bt_query *q, double r)
{
    bt_query_init(q);
    q->area = BT_AREA_CIRCLE;
    q->centre = (bt_lonlat){C_LON, C_LAT};
    q->radius_m = r;
}

/* Needs SpatiaLite: ST_X/ST_Y of the stored point. Returns the sqlite3 code of the
 * prepare, and the coordinates when it worked. */
static int spatialite_xy(bt_store *s, int64_t id, double *x, double *y)
{
    sqlite3 *db = bt__sq_of(s)->db;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT ST_X(geom), ST_Y(geom) FROM incidents WHERE id = ?1",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        *x = sqlite3_column_double(st, 0);
        *y = sqlite3_column_double(st, 1);
    }
    sqlite3_finalize(st);
    return rc;
}

static void test_readonly_query_without_spatialite(void **state)
{
    struct fx *f = *state;
    int64_t want[N_INC];
    size_t nwant = expected(f, 5000.0, want);
    assert_true(nwant > 50 && nwant < N_INC / 2); /* the circle cuts the square */

    bt_store *s = NULL;
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READONLY, &s, NULL), BT_OK);
    assert_false(bt__sq_spatialite_ready(s));
    bt_query q;
    circle(&q, 5000.0);
    /* the first query of a handle (the one-shot path), then the in-memory index */
    for (int pass = 0; pass < 2; pass++) {
        int64_t total = -1;
        int64_t per_type[BT_INCIDENT_TYPE_COUNT];
        assert_int_equal(bt_incident_count(s, &q, &total, per_type), BT_OK);
        assert_int_equal(total, (int64_t)nwant);
        int64_t sum = 0;
        for (int t = 0; t < BT_INCIDENT_TYPE_COUNT; t++) sum += per_type[t];
        assert_int_equal(sum, total);
        bt_hit *hits = NULL;
        size_t nh = 0;
        assert_int_equal(bt_incident_query_all(s, &q, &hits, &nh), BT_OK);
        assert_int_equal(nh, nwant);
        for (size_t i = 0; i < nh; i++) assert_int_equal(hits[i].id, want[i]); /* id order */
        bt_hits_free(hits);
    }
    bt_incident *inc = NULL;
    assert_int_equal(bt_incident_get(s, f->id[7], &inc), BT_OK);
    assert_true(inc->where.lon == f->lon[7] && inc->where.lat == f->lat[7]);
    assert_int_equal((int)inc->type, f->type[7]);
    bt_incident_free(inc);
    bt_counts k;
    assert_int_equal(bt_store_count(s, &k), BT_OK);
    assert_int_equal(k.incidents, N_INC);
    /* none of that needed SpatiaLite: its SQL functions are still absent */
    assert_false(bt__sq_spatialite_ready(s));
    double x = 0, y = 0;
    assert_int_equal(spatialite_xy(s, f->id[7], &x, &y), SQLITE_ERROR);
    assert_non_null(strstr(sqlite3_errmsg(bt__sq_of(s)->db), "no such function"));
    assert_int_equal(bt_store_close(s), BT_OK);
}

static void test_readonly_lazy_spatialite(void **state)
{
    struct fx *f = *state;
    bt_store *s = NULL;
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READONLY, &s, NULL), BT_OK);
    bt_query q;
    circle(&q, 2500.0);
    int64_t want[N_INC];
    size_t nwant = expected(f, 2500.0, want);
    int64_t total = -1;
    assert_int_equal(bt_incident_count(s, &q, &total, NULL), BT_OK);
    assert_int_equal(total, (int64_t)nwant);

    /* set up on first need, once */
    assert_int_equal(bt__sq_spatialite(s), BT_OK);
    assert_true(bt__sq_spatialite_ready(s));
    assert_int_equal(bt__sq_spatialite(s), BT_OK);
    for (int i = 0; i < N_INC; i += 37) {
        double x = 0, y = 0;
        assert_int_equal(spatialite_xy(s, f->id[i], &x, &y), SQLITE_OK);
        assert_true(x == f->lon[i] && y == f->lat[i]); /* the BLOB holds the doubles */
    }
    /* queries after it still agree, from the index this time */
    assert_int_equal(bt_incident_count(s, &q, &total, NULL), BT_OK);
    assert_int_equal(total, (int64_t)nwant);
    /* still read-only */
    bt_incident inc;
    bt_incident_init(&inc);
    inc.ref = "OS-new";
    inc.where = (bt_lonlat){C_LON, C_LAT};
    inc.start = FX_T_2020_07_01;
    assert_int_equal(bt_incident_add(s, &inc, NULL), BT_ERR_READONLY);
    assert_int_equal(bt_store_close(s), BT_OK);

    /* two read-only handles at once, one with SpatiaLite and one without */
    bt_store *a = NULL, *b = NULL;
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READONLY, &a, NULL), BT_OK);
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READONLY, &b, NULL), BT_OK);
    assert_int_equal(bt__sq_spatialite(a), BT_OK);
    double x = 0, y = 0;
    assert_int_equal(spatialite_xy(a, f->id[3], &x, &y), SQLITE_OK);
    assert_int_equal(spatialite_xy(b, f->id[3], &x, &y), SQLITE_ERROR);
    assert_false(bt__sq_spatialite_ready(b));
    assert_int_equal(bt_store_close(a), BT_OK);
    assert_int_equal(bt_store_close(b), BT_OK);
}

static void test_readwrite_has_spatialite(void **state)
{
    struct fx *f = *state;
    bt_store *s = NULL;
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READWRITE, &s, NULL), BT_OK);
    assert_true(bt__sq_spatialite_ready(s));
    double x = 0, y = 0;
    assert_int_equal(spatialite_xy(s, f->id[0], &x, &y), SQLITE_OK);
    assert_true(x == f->lon[0] && y == f->lat[0]);
    /* a write fires SpatiaLite's triggers (geometry check, R*Tree) */
    bt_incident inc;
    bt_incident_init(&inc);
    inc.ref = "OS-rw";
    inc.where = (bt_lonlat){C_LON, C_LAT};
    inc.time_precision = BT_TIME_DAY;
    inc.start = FX_T_2020_07_01;
    inc.end = FX_T_2020_07_01 + 86400;
    int64_t id = 0;
    int rc = bt_incident_add(s, &inc, &id);
    if (rc) fprintf(stderr, "%s\n", bt_store_errmsg(s));
    assert_int_equal(rc, BT_OK);
    bt_query q;
    circle(&q, 1.0);
    int64_t total = -1;
    assert_int_equal(bt_incident_count(s, &q, &total, NULL), BT_OK);
    assert_int_equal(total, 1);
    assert_int_equal(bt_incident_delete(s, id), BT_OK);
    assert_int_equal(bt_store_close(s), BT_OK);
}

#ifdef BT_FAULT_INJECTION
/* Every allocation of the lazy set-up may fail: the handle stays usable and a later
 * call succeeds. */
static void test_lazy_spatialite_out_of_memory(void **state)
{
    struct fx *f = *state;
    bt_store *s = NULL;
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READONLY, &s, NULL), BT_OK);
    int failures = 0;
    for (long n = 1; n < 100; n++) {
        bt__alloc_fail_after(n);
        int rc = bt__sq_spatialite(s);
        bt__alloc_fail_after(0);
        if (rc == BT_OK) break;
        assert_int_equal(rc, BT_ERR_NOMEM);
        assert_false(bt__sq_spatialite_ready(s));
        assert_non_null(strstr(bt_store_errmsg(s), "out of memory"));
        failures++;
    }
    assert_true(failures >= 1);
    assert_true(bt__sq_spatialite_ready(s));
    double x = 0, y = 0;
    assert_int_equal(spatialite_xy(s, f->id[1], &x, &y), SQLITE_OK);
    assert_true(x == f->lon[1] && y == f->lat[1]);
    assert_int_equal(bt_store_close(s), BT_OK);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readonly_query_without_spatialite),
        cmocka_unit_test(test_readonly_lazy_spatialite),
        cmocka_unit_test(test_readwrite_has_spatialite),
#ifdef BT_FAULT_INJECTION
        cmocka_unit_test(test_lazy_spatialite_out_of_memory),
#endif
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
