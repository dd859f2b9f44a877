/**
 * @file test_crs.c
 * @brief Tests of lib/geo/crs.c: transforms to WGS 84 with the axis order handled, and
 * the local conformal projection's distance error over the PRK-CHN border.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "core/internal.h"
#include "geo/geo.h"

#define DEG (3.14159265358979323846 / 180.0)

/* A store with only what lib/geo uses: its PROJ context (made by the library, which
 * loads PROJ for it). */
static int setup(void **state)
{
    bt_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -1;
    PJ_CONTEXT *ctx = NULL;
    if (bt__proj(s, &ctx) != BT_OK || ctx != s->proj) {
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    bt_store *s = *state;
    proj_context_destroy(s->proj);
    free(s);
    return 0;
}

/* UTM forward (northern hemisphere) by Krüger's series to n^6, after Karney, "Transverse
 * Mercator with an accuracy of a few nanometers", J. Geodesy 85 (2011), eqs. 7-9 and 35.
 * Written out here so that the test does not check PROJ against itself. */
static void utm_forward(double lon0, double lon, double lat, double *e, double *n_out)
{
    const double a = 6378137.0, f = 1 / 298.257223563, k0 = 0.9996;
    const double n = f / (2 - f), n2 = n * n, n3 = n2 * n, n4 = n3 * n, n5 = n4 * n,
                 n6 = n5 * n;
    const double A = a / (1 + n) * (1 + n2 / 4 + n4 / 64 + n6 / 256);
    const double alpha[7] = {
        0,
        n / 2 - 2 * n2 / 3 + 5 * n3 / 16 + 41 * n4 / 180 - 127 * n5 / 288 +
            7891 * n6 / 37800,
        13 * n2 / 48 - 3 * n3 / 5 + 557 * n4 / 1440 + 281 * n5 / 630 -
            1983433 * n6 / 1935360,
        61 * n3 / 240 - 103 * n4 / 140 + 15061 * n5 / 26880 + 167603 * n6 / 181440,
        49561 * n4 / 161280 - 179 * n5 / 168 + 6601661 * n6 / 7257600,
        34729 * n5 / 80640 - 3418889 * n6 / 1995840,
        212378941 * n6 / 319334400,
    };
    const double ecc = 2 * sqrt(n) / (1 + n);
    const double phi = lat * DEG, lam = (lon - lon0) * DEG;
    const double t = sinh(atanh(sin(phi)) - ecc * atanh(ecc * sin(phi)));
    const double xi1 = atan2(t, cos(lam));
    const double eta1 = atanh(sin(lam) / sqrt(1 + t * t));
    double xi = xi1, eta = eta1;
    for (int j = 1; j <= 6; j++) {
        xi += alpha[j] * sin(2 * j * xi1) * cosh(2 * j * eta1);
        eta += alpha[j] * cos(2 * j * xi1) * sinh(2 * j * eta1);
    }
    *e = 500000.0 + k0 * A * eta;
    *n_out = k0 * A * xi;
}

static void test_utm_hyesan_cs2cs(void **state)
{
    bt_store *s = *state;
    /* $ echo "41.40167 128.17778" | cs2cs -d 4 EPSG:4326 EPSG:32652
     * 431271.2383	4583673.9469 0.0000          (PROJ 9.1.1, Debian proj-bin) */
    double x = 431271.2383, y = 4583673.9469;
    bt__crs *t = NULL;
    assert_int_equal(bt__crs_open(s, "EPSG:32652", &t), BT_OK);
    assert_non_null(t);
    assert_string_equal(bt__crs_name(t), "EPSG:32652");
    assert_int_equal(bt__crs_to_wgs84(s, t, &x, &y, 1), BT_OK);
    /* 0.05 mm rounding of the input is about 1e-9 degrees */
    assert_true(fabs(x - 128.17778) < 5e-9);
    assert_true(fabs(y - 41.40167) < 5e-9);
    bt__crs_close(t);
}

static void test_utm_against_kruger(void **state)
{
    bt_store *s = *state;
    /* zone 52 (126..132 E, central meridian 129) and zone 51 (120..126 E, central
     * meridian 123): the PRK-CHN border spans both; the grid reaches 0.5 deg beyond */
    struct { const char *crs; double lon0; } zones[] = {{"EPSG:32652", 129.0},
                                                        {"EPSG:32651", 123.0}};
    for (size_t z = 0; z < 2; z++) {
        double x[48], y[48], lon[48], lat[48];
        size_t k = 0;
        for (int i = 0; i < 8; i++) {
            for (int j = 0; j < 6; j++, k++) {
                lon[k] = zones[z].lon0 - 3.5 + i;
                lat[k] = 38.0 + j * 1.1;
                utm_forward(zones[z].lon0, lon[k], lat[k], &x[k], &y[k]);
            }
        }
        bt__crs *t = NULL;
        assert_int_equal(bt__crs_open(s, zones[z].crs, &t), BT_OK);
        assert_int_equal(bt__crs_to_wgs84(s, t, x, y, k), BT_OK);
        for (size_t i = 0; i < k; i++) {
            /* 1e-9 degrees is about 0.1 mm */
            if (fabs(x[i] - lon[i]) > 1e-9 || fabs(y[i] - lat[i]) > 1e-9)
                fail_msg("%s point %zu: %.12f %.12f, expected %.12f %.12f", zones[z].crs, i,
                         x[i], y[i], lon[i], lat[i]);
        }
        bt__crs_close(t);
    }
}

static void test_geographic_crs_take_lon_lat(void **state)
{
    bt_store *s = *state;
    /* EPSG:4326 and EPSG:4490 are lat,lon by their authority; we take GIS order for all */
    /* (the URNs are what old GeoJSON files carry in their "crs" member) */
    const char *crs[] = {"EPSG:4326", "OGC:CRS84", "EPSG:4490", "urn:ogc:def:crs:EPSG::4326",
                         "urn:ogc:def:crs:OGC:1.3:CRS84"};
    for (size_t i = 0; i < sizeof crs / sizeof crs[0]; i++) {
        bt__crs *t = NULL;
        assert_int_equal(bt__crs_open(s, crs[i], &t), BT_OK);
        double x[2] = {128.17778, 124.4}, y[2] = {41.40167, 40.1};
        assert_int_equal(bt__crs_to_wgs84(s, t, x, y, 2), BT_OK);
        /* CGCS2000 to WGS 84 is a ballpark (null) transformation in PROJ: identical */
        assert_true(fabs(x[0] - 128.17778) < 1e-12 && fabs(y[0] - 41.40167) < 1e-12);
        assert_true(fabs(x[1] - 124.4) < 1e-12 && fabs(y[1] - 40.1) < 1e-12);
        bt__crs_close(t);
    }
}

static void test_lonlat_array_and_bad_points(void **state)
{
    bt_store *s = *state;
    bt__crs *t = NULL;
    assert_int_equal(bt__crs_open(s, "EPSG:32652", &t), BT_OK);
    bt_lonlat pts[3] = {{431271.2383, 4583673.9469}, {NAN, 4583673.9469},
                        {431271.2383, 4583673.9469}};
    size_t bad = 99;
    assert_int_equal(bt__crs_lonlat_to_wgs84(s, t, pts, 3, &bad), BT_ERR_CRS);
    assert_int_equal(bad, 1);
    assert_non_null(strstr(bt_store_errmsg(s), "EPSG:32652"));
    assert_non_null(strstr(bt_store_errmsg(s), "point 1"));
    /* the others were transformed, the bad one marked */
    assert_true(fabs(pts[0].lon - 128.17778) < 5e-9 && fabs(pts[0].lat - 41.40167) < 5e-9);
    assert_true(fabs(pts[2].lon - 128.17778) < 5e-9 && fabs(pts[2].lat - 41.40167) < 5e-9);
    assert_true(pts[1].lon == HUGE_VAL && pts[1].lat == HUGE_VAL);
    /* no points is fine */
    assert_int_equal(bt__crs_lonlat_to_wgs84(s, t, NULL, 0, NULL), BT_OK);
    assert_int_equal(bt__crs_to_wgs84(s, t, NULL, NULL, 0), BT_OK);
    bt__crs_close(t);
    bt__crs_close(NULL);
}

static void test_unknown_crs(void **state)
{
    bt_store *s = *state;
    bt__crs *t = (bt__crs *)1;
    assert_int_equal(bt__crs_open(s, "EPSG:999999", &t), BT_ERR_CRS);
    assert_null(t);
    assert_non_null(strstr(bt_store_errmsg(s), "'EPSG:999999'"));
    assert_int_equal(bt__crs_open(s, "no such thing", &t), BT_ERR_CRS);
    assert_non_null(strstr(bt_store_errmsg(s), "'no such thing'"));
    /* PROJ would take a loose object name ("foo" is Amersfoort to it): refused */
    assert_int_equal(bt__crs_open(s, "foo", &t), BT_ERR_CRS);
    assert_null(t);
    assert_string_equal(bt_store_errmsg(s),
                        "CRS 'foo': not an AUTHORITY:CODE (e.g. EPSG:32652), an OGC URN "
                        "(urn:ogc:def:crs:EPSG::32652), WKT, PROJJSON or a PROJ string");
    assert_int_equal(bt__crs_open(s, "WGS 84", &t), BT_ERR_CRS);
    /* a malformed URN is refused before PROJ searches its database for it */
    assert_int_equal(bt__crs_open(s, "urn:ogc:def:crs:garbage", &t), BT_ERR_CRS);
    assert_non_null(strstr(bt_store_errmsg(s), "not an AUTHORITY:CODE"));
    assert_int_equal(bt__crs_open(s, "urn:ogc:def:crs:EPSG::", &t), BT_ERR_CRS);
    assert_int_equal(bt__crs_open(s, "EPSG:32652:1", &t), BT_ERR_CRS);
    /* the accepted forms */
    const char *forms[] = {
        "EPSG:32652", " EPSG:4490", "urn:ogc:def:crs:EPSG::32652",
        "urn:ogc:def:crs:OGC:1.3:CRS84", "OGC:CRS84",
        "http://www.opengis.net/def/crs/EPSG/0/32652",
        "GEOGCRS[\"WGS 84\",DATUM[\"World Geodetic System 1984\",ELLIPSOID[\"WGS 84\","
        "6378137,298.257223563]],CS[ellipsoidal,2],AXIS[\"latitude\",north,ANGLEUNIT["
        "\"degree\",0.0174532925199433]],AXIS[\"longitude\",east,ANGLEUNIT[\"degree\","
        "0.0174532925199433]]]",
        "+proj=longlat +datum=WGS84 +type=crs"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        t = NULL;
        if (bt__crs_open(s, forms[i], &t) != BT_OK)
            fail_msg("'%s' refused: %s", forms[i], bt_store_errmsg(s));
        bt__crs_close(t);
    }
    /* a PROJ operation, not a CRS */
    assert_int_equal(bt__crs_open(s, "+proj=utm +zone=52 +datum=WGS84", &t), BT_ERR_CRS);
    assert_non_null(strstr(bt_store_errmsg(s), "+type=crs"));
    /* ... which is accepted with +type=crs */
    assert_int_equal(bt__crs_open(s, "+proj=utm +zone=52 +datum=WGS84 +type=crs", &t), BT_OK);
    double x = 431271.2383, y = 4583673.9469;
    assert_int_equal(bt__crs_to_wgs84(s, t, &x, &y, 1), BT_OK);
    assert_true(fabs(x - 128.17778) < 5e-9 && fabs(y - 41.40167) < 5e-9);
    bt__crs_close(t);
    /* geocentric and vertical CRSs carry no horizontal position */
    assert_int_equal(bt__crs_open(s, "EPSG:4978", &t), BT_ERR_CRS);
    assert_int_equal(bt__crs_open(s, "EPSG:5703", &t), BT_ERR_CRS);
    assert_int_equal(bt__crs_open(s, NULL, &t), BT_ERR_INVALID);
    assert_int_equal(bt__crs_open(s, "EPSG:4326", NULL), BT_ERR_INVALID);
}

#ifdef BT_FAULT_INJECTION
static void test_crs_out_of_memory(void **state)
{
    bt_store *s = *state;
    for (long n = 1; n <= 2; n++) {
        bt__crs *t = NULL;
        bt__alloc_fail_after(n);
        int rc = bt__crs_open(s, "EPSG:32652", &t);
        bt__alloc_fail_after(0);
        assert_int_equal(rc, BT_ERR_NOMEM);
        assert_null(t);
    }
    bt__localproj *p = NULL;
    bt__alloc_fail_after(1);
    int rc = bt__localproj_open(s, (bt_bbox){124, 39.8, 131, 43}, &p);
    bt__alloc_fail_after(0);
    assert_int_equal(rc, BT_ERR_NOMEM);
    assert_null(p);
}
#endif

/* Largest |projected distance / geodesic distance - 1| over all pairs of a grid of
 * nx * ny points spanning the extent (west <= east here). */
static double max_distance_error(bt_store *s, const bt__localproj *p, bt_bbox e, int nx,
                                 int ny)
{
    const int n = nx * ny;
    double *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    bt_lonlat *ll = malloc((size_t)n * sizeof *ll);
    assert_true(x && y && ll);
    for (int i = 0; i < nx; i++) {
        for (int j = 0; j < ny; j++) {
            const int k = i * ny + j;
            ll[k].lon = e.west + (e.east - e.west) * i / (nx - 1);
            ll[k].lat = e.south + (e.north - e.south) * j / (ny - 1);
            if (ll[k].lon > 180)
                ll[k].lon -= 360;
            x[k] = ll[k].lon;
            y[k] = ll[k].lat;
        }
    }
    assert_int_equal(bt__localproj_forward(s, p, x, y, (size_t)n), BT_OK);
    double worst = 0;
    for (int a = 0; a < n; a++) {
        for (int b = a + 1; b < n; b++) {
            double g;
            assert_int_equal(bt_geod_distance(ll[a], ll[b], &g), BT_OK);
            const double d = hypot(x[a] - x[b], y[a] - y[b]);
            worst = fmax(worst, fabs(d / g - 1));
        }
    }
    free(x);
    free(y);
    free(ll);
    return worst;
}

static void test_localproj_prk_chn_error(void **state)
{
    bt_store *s = *state;
    const bt_bbox prk_chn = {124.0, 39.8, 131.0, 43.0};
    bt__localproj *p = NULL;
    assert_int_equal(bt__localproj_open(s, prk_chn, &p), BT_OK);
    assert_non_null(strstr(bt__localproj_definition(p), "+proj=lcc"));
    /* 15 x 9 grid: 9045 pairs, from 23 km to 740 km apart */
    const double worst = max_distance_error(s, p, prk_chn, 15, 9);
    print_message("PRK-CHN extent: %s\n  max |d_proj/d_geod - 1| = %.3e\n",
                  bt__localproj_definition(p), worst);
    assert_true(worst < 1e-3); /* the requirement */
    /* and the analysis in crs.c: a scale error of about (3.2 deg in rad)^2 / 16 =
     * 1.95e-4 (spherical estimate; PROJ 9.1 gives 2.13e-4 on this grid) */
    assert_true(worst < 2.5e-4);
    bt__localproj_close(p);

    /* a segment's own small extent does at least as well */
    const bt_bbox small = {128.0, 41.3, 128.4, 41.5};
    assert_int_equal(bt__localproj_open(s, small, &p), BT_OK);
    assert_true(max_distance_error(s, p, small, 5, 5) < 1e-6);
    bt__localproj_close(p);
}

static void test_localproj_round_trip(void **state)
{
    bt_store *s = *state;
    bt__localproj *p = NULL;
    assert_int_equal(bt__localproj_open(s, (bt_bbox){124.0, 39.8, 131.0, 43.0}, &p), BT_OK);
    double x[3] = {124.4, 128.17778, 130.9}, y[3] = {40.1, 41.40167, 42.9};
    assert_int_equal(bt__localproj_forward(s, p, x, y, 3), BT_OK);
    /* origin at the centre: the middle point is close to (0, 0) */
    assert_true(fabs(x[1]) < 200e3 && fabs(y[1]) < 100e3);
    assert_int_equal(bt__localproj_inverse(s, p, x, y, 3), BT_OK);
    assert_true(fabs(x[0] - 124.4) < 1e-10 && fabs(y[0] - 40.1) < 1e-10);
    assert_true(fabs(x[1] - 128.17778) < 1e-10 && fabs(y[1] - 41.40167) < 1e-10);
    assert_true(fabs(x[2] - 130.9) < 1e-10 && fabs(y[2] - 42.9) < 1e-10);
    double bx = NAN, by = 0;
    assert_int_equal(bt__localproj_forward(s, p, &bx, &by, 1), BT_ERR_CRS);
    assert_true(bx == HUGE_VAL);
    bt__localproj_close(p);
    bt__localproj_close(NULL);
}

static void test_localproj_other_extents(void **state)
{
    bt_store *s = *state;
    bt__localproj *p = NULL;
    /* straddling the equator: a conic would degenerate, Mercator is used */
    const bt_bbox eq = {30.0, -2.0, 34.0, 2.0};
    assert_int_equal(bt__localproj_open(s, eq, &p), BT_OK);
    assert_non_null(strstr(bt__localproj_definition(p), "+proj=merc"));
    assert_true(max_distance_error(s, p, eq, 5, 5) < 1e-3);
    bt__localproj_close(p);
    /* southern hemisphere */
    const bt_bbox south = {140.0, -40.0, 148.0, -37.0};
    assert_int_equal(bt__localproj_open(s, south, &p), BT_OK);
    assert_true(max_distance_error(s, p, south, 5, 5) < 1e-3);
    bt__localproj_close(p);
    /* across the antimeridian (west > east) */
    const bt_bbox anti = {178.0, 60.0, -177.0, 63.0};
    assert_int_equal(bt__localproj_open(s, anti, &p), BT_OK);
    const bt_bbox unwrapped = {178.0, 60.0, 183.0, 63.0};
    assert_true(max_distance_error(s, p, unwrapped, 6, 4) < 1e-3);
    bt__localproj_close(p);
    /* a single point */
    assert_int_equal(bt__localproj_open(s, (bt_bbox){128, 41, 128, 41}, &p), BT_OK);
    bt__localproj_close(p);
}

static void test_localproj_bad_extent(void **state)
{
    bt_store *s = *state;
    bt__localproj *p = (bt__localproj *)1;
    assert_int_equal(bt__localproj_open(s, (bt_bbox){124, 43, 131, 39.8}, &p), BT_ERR_INVALID);
    assert_null(p);
    assert_non_null(strstr(bt_store_errmsg(s), "extent"));
    assert_int_equal(bt__localproj_open(s, (bt_bbox){NAN, 39, 131, 43}, &p), BT_ERR_INVALID);
    assert_int_equal(bt__localproj_open(s, (bt_bbox){124, -91, 131, 43}, &p), BT_ERR_INVALID);
    assert_int_equal(bt__localproj_open(s, (bt_bbox){124, 39, 181, 43}, &p), BT_ERR_INVALID);
    assert_int_equal(bt__localproj_open(s, (bt_bbox){124, 39, 131, 43}, NULL), BT_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_utm_hyesan_cs2cs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_utm_against_kruger, setup, teardown),
        cmocka_unit_test_setup_teardown(test_geographic_crs_take_lon_lat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lonlat_array_and_bad_points, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_crs, setup, teardown),
#ifdef BT_FAULT_INJECTION
        cmocka_unit_test_setup_teardown(test_crs_out_of_memory, setup, teardown),
#endif
        cmocka_unit_test_setup_teardown(test_localproj_prk_chn_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_localproj_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_localproj_other_extents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_localproj_bad_extent, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
