/**
 * @file test_within.c
 * @brief bt_incidents_within(): geodesic radius, time windows, early stop, circles
 * across the antimeridian and around the north pole.
 *
 * Points are placed with geod_direct() (PROJ's geodesic.h) at exact geodesic distances
 * from the centre, e.g. 9,999 m (inside 10 km) and 10,001 m (outside); the distances
 * the query reports are checked against those placements to 1 mm.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <geodesic.h>
#include <math.h>

#include "store_fixture.h"

static fx_dir dir;
static struct geod_geodesic wgs84;

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

static bt_store *new_store(const char *name)
{
    char path[512];
    bt_store *s = NULL;
    char *em = NULL;
    fx_file(&dir, name, path, sizeof path);
    assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE | BT_OPEN_CREATE, &s, &em), BT_OK);
    return s;
}

/* The point at geodesic distance d (m) and azimuth az (degrees) from c. */
static bt_lonlat place_at(bt_lonlat c, double az, double d)
{
    double lat, lon;
    geod_direct(&wgs84, c.lat, c.lon, az, d, &lat, &lon, NULL);
    /* geod_direct may return lon outside -180..180 by a hair after wrapping */
    if (lon > 180.0) lon -= 360.0;
    if (lon < -180.0) lon += 360.0;
    return (bt_lonlat){lon, lat};
}

/* Adds an incident at p with interval [start, end]; returns its id. */
static int64_t add_at(bt_store *s, const char *ref, bt_lonlat p, int64_t start, int64_t end)
{
    bt_incident inc = fx_incident(ref, p.lon, p.lat);
    inc.start = start;
    inc.end = end;
    int64_t id = 0;
    int rc = bt_incident_add(s, &inc, &id);
    if (rc) fprintf(stderr, "%s\n", bt_store_errmsg(s));
    assert_int_equal(rc, BT_OK);
    return id;
}

#define MAX_HITS 512

struct hits {
    size_t n;
    int64_t id[MAX_HITS];
    double dist[MAX_HITS];
    char ref[MAX_HITS][32];
    size_t stop_after; /* 0: never stop */
};

static int collect(const bt_incident *inc, double d, void *udata)
{
    struct hits *h = udata;
    assert_true(h->n < MAX_HITS);
    h->id[h->n] = inc->id;
    h->dist[h->n] = d;
    snprintf(h->ref[h->n], sizeof h->ref[0], "%s", inc->ref);
    h->n++;
    return h->stop_after && h->n >= h->stop_after;
}

static void run(bt_store *s, bt_lonlat c, double r, int64_t from, int64_t to, struct hits *h)
{
    memset(h, 0, sizeof *h);
    int rc = bt_incidents_within(s, c, r, from, to, collect, h);
    if (rc) fprintf(stderr, "%s\n", bt_store_errmsg(s));
    assert_int_equal(rc, BT_OK);
    for (size_t i = 1; i < h->n; i++) assert_true(h->id[i - 1] < h->id[i]);
}

static bool has_ref(const struct hits *h, const char *ref)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->ref[i], ref) == 0) return true;
    return false;
}

static double dist_of(const struct hits *h, const char *ref)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->ref[i], ref) == 0) return h->dist[i];
    fail_msg("%s not found", ref);
    return -1;
}

static const bt_lonlat hyesan = {FX_HYESAN_LON, FX_HYESAN_LAT};

#define T_2019_01_01 INT64_C(1546300800)
#define T_2019_12_31_END INT64_C(1577836799)
#define T_2020_08_01 INT64_C(1596240000)
#define T_2020_12_31_END INT64_C(1609459199)
#define T_2022_01_01 INT64_C(1640995200)

static void test_radius_around_hyesan(void **state)
{
    (void)state;
    bt_store *s = new_store("hyesan.bt");
    int64_t open = BT_TIME_OPEN;
    add_at(s, "in-9999", place_at(hyesan, 30.0, 9999.0), FX_T_2020_07_01, FX_T_2020_07_29 + 86399);
    add_at(s, "out-10001", place_at(hyesan, 120.0, 10001.0), FX_T_2020_07_01, open);
    add_at(s, "in-5000", place_at(hyesan, 250.0, 5000.0), FX_T_2020_01_01, open);
    add_at(s, "centre", hyesan, FX_T_2021_03_15, FX_T_2021_03_15 + 86399);
    add_at(s, "out-50km", place_at(hyesan, 300.0, 50000.0), FX_T_2020_01_01, open);
    add_at(s, "in-9999-north", place_at(hyesan, 0.0, 9999.0), FX_T_2020_01_01, open);
    add_at(s, "out-10001-east", place_at(hyesan, 90.0, 10001.0), FX_T_2020_01_01, open);

    struct hits h;
    run(s, hyesan, 10000.0, INT64_MIN, INT64_MAX, &h);
    assert_int_equal(h.n, 4);
    assert_true(has_ref(&h, "in-9999"));
    assert_true(has_ref(&h, "in-5000"));
    assert_true(has_ref(&h, "centre"));
    assert_true(has_ref(&h, "in-9999-north"));
    assert_float_equal(dist_of(&h, "in-9999"), 9999.0, 1e-3);
    assert_float_equal(dist_of(&h, "in-5000"), 5000.0, 1e-3);
    assert_float_equal(dist_of(&h, "centre"), 0.0, 1e-3);
    assert_float_equal(dist_of(&h, "in-9999-north"), 9999.0, 1e-3);

    /* 10,001 m is in at 10,002 m, and the 50 km one at 50,001 m */
    run(s, hyesan, 10002.0, INT64_MIN, INT64_MAX, &h);
    assert_int_equal(h.n, 6);
    assert_float_equal(dist_of(&h, "out-10001"), 10001.0, 1e-3);
    run(s, hyesan, 50001.0, INT64_MIN, INT64_MAX, &h);
    assert_int_equal(h.n, 7);

    /* radius 0 finds only what is exactly at the centre */
    run(s, hyesan, 0.0, INT64_MIN, INT64_MAX, &h);
    assert_int_equal(h.n, 1);
    assert_string_equal(h.ref[0], "centre");

    /* time windows: overlap of [start, end] with [from, to], open ends included */
    run(s, hyesan, 10000.0, T_2020_08_01, T_2020_12_31_END, &h);
    assert_int_equal(h.n, 2); /* in-5000 and in-9999-north run on; in-9999 ended July 29 */
    assert_true(has_ref(&h, "in-5000"));
    assert_true(has_ref(&h, "in-9999-north"));
    run(s, hyesan, 10000.0, T_2019_01_01, T_2019_12_31_END, &h);
    assert_int_equal(h.n, 0);
    run(s, hyesan, 10000.0, INT64_MIN, FX_T_2020_07_01, &h); /* to is inclusive */
    assert_int_equal(h.n, 3);
    assert_true(has_ref(&h, "in-9999"));
    run(s, hyesan, 10000.0, FX_T_2020_07_29 + 86399, FX_T_2020_07_29 + 86399, &h); /* end inclusive */
    assert_int_equal(h.n, 3);
    run(s, hyesan, 10000.0, T_2022_01_01, INT64_MAX, &h);
    assert_int_equal(h.n, 2); /* only the open-ended ones */
    assert_false(has_ref(&h, "centre"));

    /* early stop returns BT_OK after exactly the hits asked for */
    memset(&h, 0, sizeof h);
    h.stop_after = 2;
    assert_int_equal(bt_incidents_within(s, hyesan, 10000.0, INT64_MIN, INT64_MAX, collect, &h),
                     BT_OK);
    assert_int_equal(h.n, 2);
    assert_string_equal(bt_store_errmsg(s), "");
    bt_store_close(s);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    bt_store *s = new_store("args.bt");
    struct hits h;
    memset(&h, 0, sizeof h);
    assert_int_equal(bt_incidents_within(s, hyesan, -1.0, INT64_MIN, INT64_MAX, collect, &h),
                     BT_ERR_INVALID);
    assert_non_null(strstr(bt_store_errmsg(s), "radius"));
    assert_int_equal(bt_incidents_within(s, hyesan, NAN, INT64_MIN, INT64_MAX, collect, &h),
                     BT_ERR_INVALID);
    assert_int_equal(bt_incidents_within(s, hyesan, INFINITY, INT64_MIN, INT64_MAX, collect, &h),
                     BT_ERR_INVALID);
    bt_lonlat bad = {128.0, 91.0};
    assert_int_equal(bt_incidents_within(s, bad, 10.0, INT64_MIN, INT64_MAX, collect, &h),
                     BT_ERR_INVALID);
    assert_non_null(strstr(bt_store_errmsg(s), "lat"));
    bad = (bt_lonlat){-180.5, 0.0};
    assert_int_equal(bt_incidents_within(s, bad, 10.0, INT64_MIN, INT64_MAX, collect, &h),
                     BT_ERR_INVALID);
    assert_int_equal(bt_incidents_within(s, hyesan, 10.0, 10, 9, collect, &h), BT_ERR_INVALID);
    assert_int_equal(bt_incidents_within(s, hyesan, 10.0, INT64_MIN, INT64_MAX, NULL, &h),
                     BT_ERR_INVALID);
    assert_int_equal(bt_incidents_within(NULL, hyesan, 10.0, INT64_MIN, INT64_MAX, collect, &h),
                     BT_ERR_INVALID);
    assert_int_equal(h.n, 0);
    bt_store_close(s);
}

/* Points just inside and just outside the circle at every azimuth: the lon/lat box
 * used to pick candidates must never cut off a point that is inside. */
static void sweep(bt_store *s, bt_lonlat c, double r, const char *prefix)
{
    char ref[32];
    size_t n_in = 0;
    for (int az = 0; az < 360; az += 5) {
        snprintf(ref, sizeof ref, "%s-in-%03d", prefix, az);
        add_at(s, ref, place_at(c, az, r - 1.0), FX_T_2020_01_01, BT_TIME_OPEN);
        snprintf(ref, sizeof ref, "%s-out-%03d", prefix, az);
        add_at(s, ref, place_at(c, az, r + 1.0), FX_T_2020_01_01, BT_TIME_OPEN);
        n_in++;
    }
    /* the widest longitude is reached a little off 90 and 270 degrees */
    for (double az = 80.0; az <= 100.0; az += 0.5) {
        snprintf(ref, sizeof ref, "%s-in-e%.1f", prefix, az);
        add_at(s, ref, place_at(c, az, r - 1.0), FX_T_2020_01_01, BT_TIME_OPEN);
        snprintf(ref, sizeof ref, "%s-in-w%.1f", prefix, az);
        add_at(s, ref, place_at(c, 360.0 - az, r - 1.0), FX_T_2020_01_01, BT_TIME_OPEN);
        n_in += 2;
    }
    struct hits h;
    run(s, c, r, INT64_MIN, INT64_MAX, &h);
    size_t mine = 0;
    for (size_t i = 0; i < h.n; i++) {
        if (strncmp(h.ref[i], prefix, strlen(prefix)) != 0) continue;
        mine++;
        assert_null(strstr(h.ref[i], "-out-"));
        assert_float_equal(h.dist[i], r - 1.0, 1e-3);
    }
    assert_int_equal(mine, n_in);
}

static void test_box_is_conservative(void **state)
{
    (void)state;
    bt_store *s = new_store("sweep.bt");
    sweep(s, hyesan, 500000.0, "mid");
    sweep(s, (bt_lonlat){-60.0, 80.0}, 1000000.0, "high"); /* pole 1,116 km away */
    sweep(s, (bt_lonlat){10.0, -45.0}, 30.0, "tiny");
    bt_store_close(s);
}

static void test_antimeridian(void **state)
{
    (void)state;
    bt_store *s = new_store("antimeridian.bt");
    bt_lonlat c = {179.99, 52.0};
    /* ids interleave the two sides, so the merge must restore id order */
    bt_lonlat e1 = place_at(c, 90.0, 8000.0), w1 = place_at(c, 270.0, 8000.0);
    bt_lonlat e2 = place_at(c, 60.0, 9999.0), e3 = place_at(c, 95.0, 10001.0);
    assert_true(e1.lon < 0.0 && e2.lon < 0.0 && e3.lon < 0.0); /* across the line */
    assert_true(w1.lon > 179.0);
    int64_t id_e1 = add_at(s, "east-8000", e1, FX_T_2020_01_01, BT_TIME_OPEN);
    int64_t id_w1 = add_at(s, "west-8000", w1, FX_T_2020_01_01, BT_TIME_OPEN);
    int64_t id_e2 = add_at(s, "east-9999", e2, FX_T_2020_01_01, BT_TIME_OPEN);
    add_at(s, "east-10001", e3, FX_T_2020_01_01, BT_TIME_OPEN);
    add_at(s, "far", (bt_lonlat){0.0, 52.0}, FX_T_2020_01_01, BT_TIME_OPEN);
    int64_t id_c = add_at(s, "centre", c, FX_T_2021_03_15, FX_T_2021_03_15 + 86399);

    struct hits h;
    run(s, c, 10000.0, INT64_MIN, INT64_MAX, &h);
    assert_int_equal(h.n, 4);
    assert_int_equal(h.id[0], id_e1);
    assert_int_equal(h.id[1], id_w1);
    assert_int_equal(h.id[2], id_e2);
    assert_int_equal(h.id[3], id_c);
    assert_float_equal(dist_of(&h, "east-8000"), 8000.0, 1e-3);
    assert_float_equal(dist_of(&h, "west-8000"), 8000.0, 1e-3);
    assert_float_equal(dist_of(&h, "east-9999"), 9999.0, 1e-3);

    /* with a time window, across the line too */
    run(s, c, 10000.0, T_2022_01_01, INT64_MAX, &h);
    assert_int_equal(h.n, 3);
    assert_false(has_ref(&h, "centre"));

    /* early stop in the merged delivery */
    memset(&h, 0, sizeof h);
    h.stop_after = 2;
    assert_int_equal(bt_incidents_within(s, c, 10000.0, INT64_MIN, INT64_MAX, collect, &h), BT_OK);
    assert_int_equal(h.n, 2);
    assert_int_equal(h.id[1], id_w1);

    /* the same from the other side of the line */
    bt_lonlat cw = {-179.995, 52.0};
    run(s, cw, 10000.0, INT64_MIN, INT64_MAX, &h);
    assert_true(has_ref(&h, "centre"));
    assert_true(has_ref(&h, "east-8000"));
    bt_store_close(s);
}

static void test_north_pole(void **state)
{
    (void)state;
    bt_store *s = new_store("pole.bt");
    bt_lonlat c = {0.0, 89.95}; /* the pole is ~5.6 km away */
    add_at(s, "over-pole", place_at(c, 0.0, 15000.0), FX_T_2020_01_01, BT_TIME_OPEN);
    add_at(s, "east", place_at(c, 90.0, 19999.0), FX_T_2020_01_01, BT_TIME_OPEN);
    add_at(s, "west", place_at(c, 270.0, 19999.0), FX_T_2020_01_01, BT_TIME_OPEN);
    add_at(s, "south-out", place_at(c, 200.0, 20001.0), FX_T_2020_01_01, BT_TIME_OPEN);
    add_at(s, "pole", (bt_lonlat){123.0, 90.0}, FX_T_2020_01_01, BT_TIME_OPEN);
    add_at(s, "far", (bt_lonlat){0.0, 80.0}, FX_T_2020_01_01, BT_TIME_OPEN);
    struct hits h;
    run(s, c, 20000.0, INT64_MIN, INT64_MAX, &h);
    assert_int_equal(h.n, 4);
    assert_true(has_ref(&h, "over-pole"));
    assert_true(has_ref(&h, "east"));
    assert_true(has_ref(&h, "west"));
    assert_true(has_ref(&h, "pole"));
    assert_float_equal(dist_of(&h, "over-pole"), 15000.0, 1e-3);
    assert_float_equal(dist_of(&h, "east"), 19999.0, 1e-3);

    /* a radius larger than half the globe holds everything */
    run(s, (bt_lonlat){0.0, 0.0}, 2.1e7, INT64_MIN, INT64_MAX, &h);
    assert_int_equal(h.n, 6);
    bt_store_close(s);
}

/* A callback may use the store, even run another query on it. */
struct nested {
    bt_store *s;
    size_t outer, inner;
};

static int count_inner(const bt_incident *inc, double d, void *udata)
{
    (void)inc;
    (void)d;
    ((struct nested *)udata)->inner++;
    return 0;
}

static int reenter(const bt_incident *inc, double d, void *udata)
{
    (void)d;
    struct nested *n = udata;
    n->outer++;
    bt_incident *copy = NULL;
    assert_int_equal(bt_incident_get(n->s, inc->id, &copy), BT_OK);
    assert_string_equal(copy->ref, inc->ref);
    bt_incident_free(copy);
    assert_int_equal(bt_incidents_within(n->s, inc->where, 1.0, INT64_MIN, INT64_MAX,
                                         count_inner, n),
                     BT_OK);
    return 0;
}

static void test_callback_reenters_store(void **state)
{
    (void)state;
    bt_store *s = new_store("reenter.bt");
    for (int i = 0; i < 5; i++) {
        char ref[16];
        snprintf(ref, sizeof ref, "R-%d", i);
        add_at(s, ref, place_at(hyesan, 72.0 * i, 1000.0), FX_T_2020_01_01, BT_TIME_OPEN);
    }
    struct nested n = {s, 0, 0};
    assert_int_equal(bt_incidents_within(s, hyesan, 2000.0, INT64_MIN, INT64_MAX, reenter, &n),
                     BT_OK);
    assert_int_equal(n.outer, 5);
    assert_int_equal(n.inner, 5);
    bt_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_radius_around_hyesan),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_box_is_conservative),
        cmocka_unit_test(test_antimeridian),
        cmocka_unit_test(test_north_pole),
        cmocka_unit_test(test_callback_reenters_store),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
