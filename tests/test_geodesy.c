/**
 * @file test_geodesy.c
 * @brief Tests of bt_geod_distance() and bt_geod_length() against published
 * GeographicLib test values and an independent formula (Vincenty's inverse, written
 * out here).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>

#include <cmocka.h>

#include "core/internal.h"

/* Lines of Karney's GeodTest.dat (WGS 84), as reproduced in GeographicLib's
 * legacy/C/geodtest.c: lat1, lon1, lat2, lon2, s12 (metres, exact to about 1e-9 m).
 * Longitudes above 180 in the data are given here minus 360 (the same meridian),
 * since bt_geod_distance() takes -180..180. Tolerance: 1 micrometre. */
static const double geodtest[][5] = {
    {35.60777, -139.44815, -11.17491, -69.95921, 8935244.5604818305},
    {55.52454, 106.05087, 77.03196, -162.81766, 4105086.1713924406},
    {-21.97856, 142.59065, 41.84138, 98.56635, 8394328.894657671},
    {-66.99028, 112.2363, -12.70631, -74.09656, 11150344.2312080241},
    {-17.42761, 173.34268, -15.84784, 5.93557, 16076603.1631180673},
    {32.84994, 48.28919, -56.28556, -157.70868, 16727068.9438164461},
    {6.96833, 52.74123, -7.39675, -153.82709, 17102477.2496958388},
    {-50.56724, -16.30485, -33.56571, -94.97412, 6455670.5118668696},
    {-58.93002, -8.90775, -8.91104, 133.13503, 11756066.0219864627},
    {-68.82867, -74.28391, -50.63005, -8.36685, 3956936.926063544},
    {-19.79938, -174.47484, -11.99349, -154.35109, 2319004.8601169389},
    {-87.85331, 85.66836, 66.48646, 16.09921, 17286615.3147144645},
    {-41.22777, 122.32875, -7.57291, 130.37946, 3812686.035106021},
};

static void test_geodtest_lines(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof geodtest / sizeof geodtest[0]; i++) {
        double d = -1;
        bt_lonlat a = {geodtest[i][1], geodtest[i][0]};
        bt_lonlat b = {geodtest[i][3], geodtest[i][2]};
        assert_int_equal(bt_geod_distance(a, b, &d), BT_OK);
        if (fabs(d - geodtest[i][4]) > 1e-6)
            fail_msg("GeodTest line %zu: %.9f, expected %.9f", i, d, geodtest[i][4]);
        /* symmetric */
        assert_int_equal(bt_geod_distance(b, a, &d), BT_OK);
        assert_true(fabs(d - geodtest[i][4]) <= 1e-6);
    }
    /* GeographicLib's GeodSolve0 (JFK to near CDG): 5853226 m +- 0.5 m */
    double d;
    assert_int_equal(bt_geod_distance((bt_lonlat){-73.8, 40.6},
                                      (bt_lonlat){2.55, 49.01666667}, &d),
                     BT_OK);
    assert_true(fabs(d - 5853226.0) <= 0.5);
}

/* Vincenty's inverse formula (Survey Review 1975) on WGS 84, iterated to 1e-13 rad.
 * Independent of geodesic.h; accurate to about 0.1 mm away from near-antipodal pairs. */
static double vincenty(bt_lonlat p1, bt_lonlat p2)
{
    const double a = 6378137.0, f = 1 / 298.257223563, b = a * (1 - f);
    const double rad = 3.14159265358979323846 / 180.0;
    const double L = (p2.lon - p1.lon) * rad;
    const double U1 = atan((1 - f) * tan(p1.lat * rad));
    const double U2 = atan((1 - f) * tan(p2.lat * rad));
    const double sinU1 = sin(U1), cosU1 = cos(U1), sinU2 = sin(U2), cosU2 = cos(U2);
    double lambda = L, lambdaP, sinSigma, cosSigma, sigma, cos2Alpha, cos2SigmaM;
    int iter = 0;
    do {
        const double sinL = sin(lambda), cosL = cos(lambda);
        sinSigma = sqrt((cosU2 * sinL) * (cosU2 * sinL) +
                        (cosU1 * sinU2 - sinU1 * cosU2 * cosL) *
                            (cosU1 * sinU2 - sinU1 * cosU2 * cosL));
        if (sinSigma == 0)
            return 0; /* coincident points */
        cosSigma = sinU1 * sinU2 + cosU1 * cosU2 * cosL;
        sigma = atan2(sinSigma, cosSigma);
        const double sinAlpha = cosU1 * cosU2 * sinL / sinSigma;
        cos2Alpha = 1 - sinAlpha * sinAlpha;
        cos2SigmaM = cos2Alpha != 0 ? cosSigma - 2 * sinU1 * sinU2 / cos2Alpha : 0;
        const double C = f / 16 * cos2Alpha * (4 + f * (4 - 3 * cos2Alpha));
        lambdaP = lambda;
        lambda = L + (1 - C) * f * sinAlpha *
                         (sigma + C * sinSigma *
                                      (cos2SigmaM + C * cosSigma *
                                                        (-1 + 2 * cos2SigmaM * cos2SigmaM)));
    } while (fabs(lambda - lambdaP) > 1e-13 && ++iter < 200);
    assert_true(iter < 200);
    const double u2 = cos2Alpha * (a * a - b * b) / (b * b);
    const double A = 1 + u2 / 16384 * (4096 + u2 * (-768 + u2 * (320 - 175 * u2)));
    const double B = u2 / 1024 * (256 + u2 * (-128 + u2 * (74 - 47 * u2)));
    const double dSigma =
        B * sinSigma *
        (cos2SigmaM + B / 4 *
                          (cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM) -
                           B / 6 * cos2SigmaM * (-3 + 4 * sinSigma * sinSigma) *
                               (-3 + 4 * cos2SigmaM * cos2SigmaM)));
    return b * A * (sigma - dSigma);
}

/* Pairs along and across the PRK-CHN border and a few far apart (none near-antipodal,
 * where Vincenty fails to converge). Tolerance: 1 mm. */
static const bt_lonlat pairs[][2] = {
    {{124.40, 40.10}, {128.17778, 41.40167}},    /* Sinuiju - Hyesan */
    {{128.17778, 41.40167}, {130.37, 42.30}},    /* Hyesan - Rason area */
    {{124.0, 39.8}, {131.0, 43.0}},              /* corner to corner of the extent */
    {{128.17778, 41.40167}, {128.17790, 41.40167}}, /* 10 m along a parallel */
    {{128.17778, 41.40167}, {128.17778, 41.40176}}, /* 10 m along a meridian */
    {{129.0, 42.0}, {129.0, 42.0}},              /* the same point */
    {{0.0, 0.0}, {1.0, 0.0}},                    /* along the equator */
    {{10.0, -80.0}, {-170.0, 70.0}},             /* over the south pole */
    {{-73.78, 40.64}, {103.99, 1.36}},           /* JFK - SIN */
    {{179.5, 10.0}, {-179.5, 10.5}},             /* across the antimeridian */
    {{-180.0, -90.0}, {0.0, 60.0}},              /* from a pole */
    {{0.0, 60.0}, {90.0, -30.0}},
};

static void test_against_vincenty(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        double d;
        assert_int_equal(bt_geod_distance(pairs[i][0], pairs[i][1], &d), BT_OK);
        const double v = vincenty(pairs[i][0], pairs[i][1]);
        if (fabs(d - v) > 1e-3)
            fail_msg("pair %zu: %.6f vs Vincenty %.6f", i, d, v);
    }
}

static void test_internal_uses_given_ellipsoid(void **state)
{
    (void)state;
    struct geod_geodesic g;
    geod_init(&g, 6378137, 1 / 298.257223563);
    /* called directly: the library's PROJ table must be filled (lib/core/deps.h) */
    assert_int_equal(bt__proj_load(NULL), BT_OK);
    const double d = bt__geod_dist(&g, pairs[0][0], pairs[0][1]);
    assert_true(fabs(d - vincenty(pairs[0][0], pairs[0][1])) <= 1e-3);
    /* a sphere of radius R: a quarter meridian is pi R / 2 */
    geod_init(&g, 6371000, 0);
    const double q = bt__geod_dist(&g, (bt_lonlat){0, 0}, (bt_lonlat){0, 90});
    assert_true(fabs(q - 3.14159265358979323846 * 6371000 / 2) <= 1e-6);
}

static void test_length(void **state)
{
    (void)state;
    const bt_lonlat line[4] = {{124.40, 40.10}, {126.0, 41.0}, {128.17778, 41.40167},
                               {130.37, 42.30}};
    double len = -1;
    assert_int_equal(bt_geod_length(line, 4, &len), BT_OK);
    const double expect = vincenty(line[0], line[1]) + vincenty(line[1], line[2]) +
                          vincenty(line[2], line[3]);
    assert_true(fabs(len - expect) <= 3e-3);
    assert_int_equal(bt_geod_length(line, 1, &len), BT_OK);
    assert_true(len == 0.0);
    assert_int_equal(bt_geod_length(line, 0, &len), BT_OK);
    assert_true(len == 0.0);
    assert_int_equal(bt_geod_length(NULL, 0, &len), BT_OK);
    assert_true(len == 0.0);
}

static void test_errors(void **state)
{
    (void)state;
    double d = 7;
    const bt_lonlat ok = {128, 41};
    assert_int_equal(bt_geod_distance(ok, (bt_lonlat){0, 90.001}, &d), BT_ERR_INVALID);
    assert_int_equal(bt_geod_distance((bt_lonlat){-180.5, 0}, ok, &d), BT_ERR_INVALID);
    assert_int_equal(bt_geod_distance((bt_lonlat){NAN, 0}, ok, &d), BT_ERR_INVALID);
    assert_int_equal(bt_geod_distance(ok, (bt_lonlat){0, INFINITY}, &d), BT_ERR_INVALID);
    assert_true(d == 7); /* untouched on failure */
    assert_int_equal(bt_geod_distance(ok, ok, NULL), BT_ERR_INVALID);
    const bt_lonlat bad[3] = {{128, 41}, {128, 95}, {129, 41}};
    assert_int_equal(bt_geod_length(bad, 3, &d), BT_ERR_INVALID);
    assert_int_equal(bt_geod_length(NULL, 2, &d), BT_ERR_INVALID);
    assert_int_equal(bt_geod_length(bad, 1, NULL), BT_ERR_INVALID);
    assert_true(d == 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geodtest_lines),
        cmocka_unit_test(test_against_vincenty),
        cmocka_unit_test(test_internal_uses_given_ellipsoid),
        cmocka_unit_test(test_length),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
