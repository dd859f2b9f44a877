/**
 * @file test_coverage.c
 * @brief Fence coverage and gaps through the store: a hand-built 10 km border at
 * 41.4 N (placed with geod_direct so that chainages are known exactly), fences at
 * known chainages and offsets, status as of a date, breakdowns, gaps with places,
 * incidents and observed ranges, guard-post spacing, property-style checks on random
 * fences against an independent interval union, and the error paths.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <geodesic.h>
#include <math.h>

#include "store_fixture.h"

#include "test_line.h"

static int setup(void **state)
{
    /* border "T" (10 km, vertices every 500 m) and a short border "U" elsewhere */
    return line_fx_setup(state, "cov.sqlite", add_test_borders, true);
}

static int teardown(void **state) { return line_fx_teardown(state); }

/* Adds a fence along chainage [c0, c1] at a constant offset, vertices every 250 m. */
static int64_t add_fence(bt_store *s, double c0, double c1, double off, bt_fence_layer layer,
                         bt_yesno barbed)
{
    bt_lonlat pts[200];
    size_t n = 0;
    for (double c = c0; c < c1 - 1e-9 && n < 199; c += 250.0) pts[n++] = at(c, off);
    pts[n++] = at(c1, off);
    bt_installation in;
    bt_installation_init(&in);
    in.kind = BT_INSTALL_FENCE;
    in.layer = layer;
    in.barbed = barbed;
    in.material = BT_MATERIAL_BARBED_WIRE;
    in.points = pts;
    in.npoints = n;
    int64_t id = 0;
    assert_int_equal(bt_installation_add(s, &in, &id), BT_OK);
    return id;
}

static void test_hand_built(void **state)
{
    struct line_fx *f = *state;
    bt_border_info info;
    assert_int_equal(bt_border_info_get(f->b, &info), BT_OK);
    assert_int_equal(info.nparts, 1);
    assert_true(fabs(info.length_m - 10000.0) < 1e-6);

    add_fence(f->s, 0.0, 3000.0, 0.0, BT_LAYER_PRIMARY, BT_YES);
    add_fence(f->s, 5000.0, 6000.0, -50.0, BT_LAYER_SECONDARY, BT_NO);
    /* 300 m off the line: outside a 200 m limit */
    add_fence(f->s, 7000.0, 9000.0, 300.0, BT_LAYER_PRIMARY, BT_YES);

    bt_coverage_opts o;
    bt_coverage_opts_init(&o);
    o.max_offset_m = 200.0;
    bt_coverage *c = NULL;
    assert_int_equal(bt_border_coverage(f->s, f->b, &o, &c), BT_OK);
    /* tolerance 1 cm: chainages of vertices placed with geod_direct */
    assert_true(fabs(c->length_m - 10000.0) < 1e-6);
    assert_true(fabs(c->covered_m - 4000.0) < 0.01);
    assert_true(fabs(c->share - 0.4) < 1e-6);
    assert_int_equal(c->ncounted, 2);
    assert_int_equal(c->nintervals, 2);
    assert_int_equal(c->ngaps, 2);
    assert_true(fabs(c->gaps[0].from_m - 3000.0) < 0.01);
    assert_true(fabs(c->gaps[0].to_m - 5000.0) < 0.01);
    assert_true(fabs(c->gaps[1].from_m - 6000.0) < 0.01);
    assert_true(fabs(c->gaps[1].to_m - 10000.0) < 1e-6);
    assert_true(fabs(c->gaps_m + c->covered_m - c->length_m) < 1e-6);
    assert_true(fabs(c->by_layer[BT_LAYER_PRIMARY] - 3000.0) < 0.01);
    assert_true(fabs(c->by_layer[BT_LAYER_SECONDARY] - 1000.0) < 0.01);
    assert_true(fabs(c->by_barbed[BT_YES] - 3000.0) < 0.01);
    assert_true(fabs(c->by_barbed[BT_NO] - 1000.0) < 0.01);
    assert_true(fabs(c->by_material[BT_MATERIAL_BARBED_WIRE] - 4000.0) < 0.01);
    assert_true(fabs(c->by_status[BT_STATUS_COMPLETE] - 4000.0) < 0.01);
    /* no observation recorded: every gap is unobserved */
    assert_int_equal(c->gaps[0].unobserved, 1);
    assert_true(fabs(c->unobserved_m - 6000.0) < 0.02);
    /* no place in the store */
    assert_null(c->gaps[0].place_from);
    bt_coverage_free(c);

    /* with a 400 m limit the far fence counts: 7..9 km */
    o.max_offset_m = 400.0;
    assert_int_equal(bt_border_coverage(f->s, f->b, &o, &c), BT_OK);
    assert_true(fabs(c->covered_m - 6000.0) < 0.05);
    assert_int_equal(c->ncounted, 3);
    assert_int_equal(c->ngaps, 3);
    bt_coverage_free(c);

    /* a chainage range: 2000 .. 5500 */
    o.max_offset_m = 200.0;
    o.from_m = 2000.0;
    o.to_m = 5500.0;
    assert_int_equal(bt_border_coverage(f->s, f->b, &o, &c), BT_OK);
    assert_true(fabs(c->length_m - 3500.0) < 1e-9);
    assert_true(fabs(c->covered_m - 1500.0) < 0.01);
    assert_int_equal(c->ngaps, 1);
    assert_true(fabs(c->gaps[0].length_m - 2000.0) < 0.02);
    bt_coverage_free(c);

    /* min_gap keeps only the 4 km gap */
    bt_coverage_opts_init(&o);
    o.max_offset_m = 200.0;
    o.min_gap_m = 2500.0;
    assert_int_equal(bt_border_coverage(f->s, f->b, &o, &c), BT_OK);
    assert_int_equal(c->ngaps, 1);
    assert_true(fabs(c->gaps[0].from_m - 6000.0) < 0.01);
    bt_coverage_free(c);
}

static void test_partial_and_overlap(void **state)
{
    struct line_fx *f = *state;
    /* overlapping fences 2..4 and 3..5 km: the union is 3 km, not 4 */
    add_fence(f->s, 2000.0, 4000.0, 20.0, BT_LAYER_PRIMARY, BT_UNKNOWN);
    add_fence(f->s, 3000.0, 5000.0, -20.0, BT_LAYER_SECONDARY, BT_UNKNOWN);
    /* a fence leaving the line: from chainage 7000 on the line, straight to 1 km north of
     * chainage 8000; it is within 200 m up to about chainage 7000 + 200/1 * ... */
    bt_lonlat diag[2] = {at(7000.0, 0.0), at(8000.0, 1000.0)};
    bt_installation in;
    bt_installation_init(&in);
    in.points = diag;
    in.npoints = 2;
    assert_int_equal(bt_installation_add(f->s, &in, NULL), BT_OK);

    bt_coverage_opts o;
    bt_coverage_opts_init(&o);
    o.max_offset_m = 200.0;
    bt_coverage *c = NULL;
    assert_int_equal(bt_border_coverage(f->s, f->b, &o, &c), BT_OK);
    /* the diagonal is within 200 m up to chainage 7200 (offset = chainage - 7000 on a
     * 45-degree line); sampling every 25 m along it (17.7 m of chainage) clips it to
     * within one sample step */
    assert_int_equal(c->nintervals, 2);
    assert_true(fabs(c->intervals[0].from_m - 2000.0) < 0.01);
    assert_true(fabs(c->intervals[0].to_m - 5000.0) < 0.01);
    assert_true(fabs(c->intervals[1].from_m - 7000.0) < 0.01);
    assert_true(c->intervals[1].to_m > 7200.0 - 18.0 && c->intervals[1].to_m <= 7200.0 + 0.5);
    assert_true(fabs(c->by_layer[BT_LAYER_PRIMARY] - 2000.0) < 0.01);
    assert_true(fabs(c->by_layer[BT_LAYER_SECONDARY] - 2000.0) < 0.01);
    assert_true(c->covered_m <= c->length_m);
    assert_true(fabs(c->gaps_m + c->covered_m - c->length_m) < 1e-6);
    bt_coverage_free(c);
}

static void test_status_as_of(void **state)
{
    struct line_fx *f = *state;
    bt_lonlat pts[2] = {at(1000.0, 0.0), at(2000.0, 0.0)};
    bt_installation in;
    bt_installation_init(&in);
    in.points = pts;
    in.npoints = 2;
    /* complete from July 2020 until the end of 2021 */
    in.start = (bt_date){FX_T_2020_07_01, BT_TIME_MONTH};
    in.end = (bt_date){INT64_C(1609459200), BT_TIME_YEAR}; /* 2021 */
    assert_int_equal(bt_installation_add(f->s, &in, NULL), BT_OK);
    /* planned and removed ones never count; under construction only on request */
    bt_lonlat p2[2] = {at(4000.0, 0.0), at(5000.0, 0.0)};
    bt_installation_init(&in);
    in.points = p2;
    in.npoints = 2;
    in.status = BT_STATUS_PLANNED;
    assert_int_equal(bt_installation_add(f->s, &in, NULL), BT_OK);
    bt_lonlat p3[2] = {at(6000.0, 0.0), at(7000.0, 0.0)};
    in.points = p3;
    in.status = BT_STATUS_REMOVED;
    assert_int_equal(bt_installation_add(f->s, &in, NULL), BT_OK);
    bt_lonlat p4[2] = {at(8000.0, 0.0), at(8500.0, 0.0)};
    in.points = p4;
    in.status = BT_STATUS_UNDER_CONSTRUCTION;
    assert_int_equal(bt_installation_add(f->s, &in, NULL), BT_OK);
    /* a wall is not a fence */
    bt_lonlat p5[2] = {at(9000.0, 0.0), at(9500.0, 0.0)};
    in.points = p5;
    in.status = BT_STATUS_COMPLETE;
    in.kind = BT_INSTALL_WALL;
    assert_int_equal(bt_installation_add(f->s, &in, NULL), BT_OK);

    struct { int64_t t; int constr; unsigned kinds; double want; } cases[] = {
        {FX_T_2020_07_01 - 1, 0, 1u << BT_INSTALL_FENCE, 0.0},
        {FX_T_2020_07_01, 0, 1u << BT_INSTALL_FENCE, 1000.0},
        {INT64_C(1640995199), 0, 1u << BT_INSTALL_FENCE, 1000.0}, /* 2021-12-31T23:59:59 */
        {INT64_C(1640995200), 0, 1u << BT_INSTALL_FENCE, 0.0},    /* 2022-01-01 */
        {INT64_C(1640995200), 1, 1u << BT_INSTALL_FENCE, 500.0},
        {FX_T_2021_03_15, 1, (1u << BT_INSTALL_FENCE) | (1u << BT_INSTALL_WALL), 2000.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bt_coverage_opts o;
        bt_coverage_opts_init(&o);
        o.as_of = cases[i].t;
        o.include_construction = cases[i].constr;
        o.kinds = cases[i].kinds;
        bt_coverage *c = NULL;
        assert_int_equal(bt_border_coverage(f->s, f->b, &o, &c), BT_OK);
        if (fabs(c->covered_m - cases[i].want) > 0.01)
            fail_msg("case %zu: covered %.3f, expected %.3f", i, c->covered_m, cases[i].want);
        bt_coverage_free(c);
    }
}

/* New, enhanced and removed fence between two dates. */
static void test_since(void **state)
{
    struct line_fx *f = *state;
    const int64_t Y2019 = INT64_C(1546300800), Y2020 = FX_T_2020_01_01,
                  Y2021 = INT64_C(1609459200), Y2022 = INT64_C(1640995200);
    struct { double a, b; int64_t start, end; bt_fence_layer layer; } fs[] = {
        {0.0, 3000.0, Y2019, 0, BT_LAYER_PRIMARY},      /* standing throughout */
        {2000.0, 5000.0, Y2021, 0, BT_LAYER_SECONDARY}, /* built in 2021 */
        {7000.0, 8000.0, Y2019, Y2020, BT_LAYER_PRIMARY}, /* complete until end 2020 */
    };
    for (size_t i = 0; i < 3; i++) {
        bt_lonlat pts[2] = {at(fs[i].a, 0.0), at(fs[i].b, 0.0)};
        bt_installation in;
        bt_installation_init(&in);
        in.points = pts;
        in.npoints = 2;
        in.layer = fs[i].layer;
        in.start = (bt_date){fs[i].start, BT_TIME_YEAR};
        if (fs[i].end) in.end = (bt_date){fs[i].end, BT_TIME_YEAR};
        assert_int_equal(bt_installation_add(f->s, &in, NULL), BT_OK);
    }
    bt_coverage_opts o;
    bt_coverage_opts_init(&o);
    o.as_of = Y2022;
    o.since = Y2020;
    bt_coverage *c = NULL;
    assert_int_equal(bt_border_coverage(f->s, f->b, &o, &c), BT_OK);
    /* now 0..5 km; then 0..3 and 7..8 km */
    assert_true(fabs(c->covered_m - 5000.0) < 0.01);
    assert_int_equal(c->ncounted, 2);
    assert_true(fabs(c->new_m - 2000.0) < 0.01);      /* 3..5 */
    assert_true(fabs(c->removed_m - 1000.0) < 0.01);  /* 7..8 */
    assert_true(fabs(c->enhanced_m - 1000.0) < 0.01); /* 2..3: a second layer */
    /* the breakdowns are of what stands now */
    assert_true(fabs(c->by_layer[BT_LAYER_PRIMARY] - 3000.0) < 0.01);
    assert_true(fabs(c->by_layer[BT_LAYER_SECONDARY] - 3000.0) < 0.01);
    bt_coverage_free(c);
    /* without since: no comparison */
    o.since = INT64_MIN;
    assert_int_equal(bt_border_coverage(f->s, f->b, &o, &c), BT_OK);
    assert_true(c->new_m == 0.0 && c->enhanced_m == 0.0 && c->removed_m == 0.0);
    bt_coverage_free(c);
}

static int64_t add_incident(bt_store *s, const char *ref, bt_lonlat p, bt_incident_type type,
                            int64_t t);

/* Before and after a fence, against the unfenced stretches. */
static void test_before_after(void **state)
{
    struct line_fx *f = *state;
    const int64_t T0 = FX_T_2020_07_01, D = 86400, Y2019 = INT64_C(1546300800);
    /* the intervention: a fence 2..4 km from T0; another fence 6..7 km since 2019 */
    bt_lonlat p1[2] = {at(2000.0, 0.0), at(4000.0, 0.0)};
    bt_installation in;
    bt_installation_init(&in);
    in.points = p1;
    in.npoints = 2;
    in.start = (bt_date){T0, BT_TIME_DAY};
    int64_t fence = 0;
    assert_int_equal(bt_installation_add(f->s, &in, &fence), BT_OK);
    bt_lonlat p2[2] = {at(6000.0, 0.0), at(7000.0, 0.0)};
    in.points = p2;
    in.start = (bt_date){Y2019, BT_TIME_YEAR};
    assert_int_equal(bt_installation_add(f->s, &in, NULL), BT_OK);
    struct { double c, off; int64_t dt; } inc[] = {
        {3000.0, 10.0, -10}, {3100.0, -10.0, -20}, {3200.0, 10.0, -30}, {3300.0, 0.0, -40},
        {3500.0, 50.0, 5},                                  /* treated: 4 before, 1 after */
        {8000.0, 100.0, -5}, {8500.0, -100.0, -50},         /* control before */
        {1000.0, 20.0, 1}, {1200.0, 20.0, 2}, {5000.0, 20.0, 3}, /* control after */
        {6500.0, 0.0, -3},                                  /* fenced elsewhere: neither */
        {3000.0, 0.0, -200},                                /* outside the windows */
        {9000.0, 5000.0, 1},                                /* too far from the line */
    };
    for (size_t i = 0; i < sizeof inc / sizeof inc[0]; i++) {
        char ref[16];
        snprintf(ref, sizeof ref, "BA-%zu", i);
        add_incident(f->s, ref, at(inc[i].c, inc[i].off), BT_INCIDENT_RIVER_CROSSING,
                     T0 + inc[i].dt * D);
    }
    bt_before_after_opts o;
    bt_before_after_opts_init(&o);
    o.installation_id = fence;
    o.window_s = 100 * D;
    bt_before_after r;
    assert_int_equal(bt_border_before_after(f->s, f->b, &o, &r), BT_OK);
    double months = 100.0 / 30.4375;
    assert_int_equal(r.t0, T0);
    assert_true(fabs(r.months - months) < 1e-12);
    assert_true(fabs(r.treated.length_m - 2000.0) < 0.01);
    assert_true(fabs(r.control.length_m - 7000.0) < 0.01);
    assert_int_equal(r.treated.before, 4);
    assert_int_equal(r.treated.after, 1);
    assert_int_equal(r.control.before, 2);
    assert_int_equal(r.control.after, 3);
    double rtb = 4.0 / 2.0 / months, rta = 1.0 / 2.0 / months;
    double rcb = 2.0 / 7.0 / months, rca = 3.0 / 7.0 / months;
    assert_true(fabs(r.treated.rate_before - rtb) < 1e-5 * rtb);
    assert_true(fabs(r.control.rate_after - rca) < 1e-5 * rca);
    assert_true(fabs(r.did - ((rta - rtb) - (rca - rcb))) < 1e-5);
    assert_true(r.did < 0.0);

    /* the same stretch given by chainage and date */
    bt_before_after_opts_init(&o);
    o.from_m = 2000.0;
    o.to_m = 4000.0;
    o.t0 = T0;
    o.window_s = 100 * D;
    bt_before_after r2;
    assert_int_equal(bt_border_before_after(f->s, f->b, &o, &r2), BT_OK);
    assert_int_equal(r2.treated.before, 4);
    assert_int_equal(r2.control.after, 3);
    assert_true(fabs(r2.did - r.did) < 1e-5);

    /* errors */
    o.t0 = INT64_MIN;
    assert_int_equal(bt_border_before_after(f->s, f->b, &o, &r2), BT_ERR_INVALID);
    o.t0 = T0;
    o.to_m = 1000.0;
    assert_int_equal(bt_border_before_after(f->s, f->b, &o, &r2), BT_ERR_INVALID);
    bt_before_after_opts_init(&o);
    o.installation_id = 9999;
    assert_int_equal(bt_border_before_after(f->s, f->b, &o, &r2), BT_ERR_NOT_FOUND);
    o.installation_id = fence;
    o.window_s = 0;
    assert_int_equal(bt_border_before_after(f->s, f->b, &o, &r2), BT_ERR_INVALID);
    assert_int_equal(bt_border_before_after(f->s, f->b, NULL, &r2), BT_ERR_INVALID);
}

static int64_t add_incident(bt_store *s, const char *ref, bt_lonlat p, bt_incident_type type,
                            int64_t t)
{
    bt_incident inc;
    bt_incident_init(&inc);
    inc.ref = ref;
    inc.where = p;
    inc.type = type;
    inc.start = t;
    inc.end = t + 86399;
    int64_t id = 0;
    assert_int_equal(bt_incident_add(s, &inc, &id), BT_OK);
    return id;
}

static void test_gaps_places_incidents_observed(void **state)
{
    struct line_fx *f = *state;
    add_fence(f->s, 0.0, 3000.0, 0.0, BT_LAYER_PRIMARY, BT_YES);
    add_fence(f->s, 5000.0, 6000.0, 0.0, BT_LAYER_PRIMARY, BT_YES);
    bt_place pl = {0, "Alpha", "KP", NULL, at(3100.0, -800.0)};
    assert_int_equal(bt_place_add(f->s, &pl, NULL), BT_OK);
    pl = (bt_place){0, "Bravo", "CN", NULL, at(5000.0, 1500.0)};
    assert_int_equal(bt_place_add(f->s, &pl, NULL), BT_OK);
    pl = (bt_place){0, "Charlie", "KP", NULL, at(9900.0, -100.0)};
    assert_int_equal(bt_place_add(f->s, &pl, NULL), BT_OK);
    int64_t i1 = add_incident(f->s, "I-1", at(4000.0, 100.0), BT_INCIDENT_RIVER_CROSSING,
                              FX_T_2020_07_01);
    int64_t i2 = add_incident(f->s, "I-2", at(8000.0, -2000.0), BT_INCIDENT_SMUGGLING,
                              FX_T_2020_07_01);
    int64_t i3 = add_incident(f->s, "I-3", at(3500.0, 0.0), BT_INCIDENT_SHOOTING,
                              FX_T_2021_03_15);
    add_incident(f->s, "I-4", at(1000.0, 10.0), BT_INCIDENT_SMUGGLING, FX_T_2020_07_01);
    add_incident(f->s, "I-5", at(8000.0, 9000.0), BT_INCIDENT_SMUGGLING, FX_T_2020_07_01);
    /* observed 2000..4000 in 2020, 7000..7500 in 2023 */
    bt_obs_range r = {0, "T", 2000.0, 4000.0, {FX_T_2020_01_01, BT_TIME_YEAR},
                      BT_OBSERVED_SATELLITE, "imagery"};
    int64_t oid = 0;
    assert_int_equal(bt_obs_range_add(f->s, &r, &oid), BT_OK);
    assert_true(oid > 0);
    r = (bt_obs_range){0, "T", 7000.0, 7500.0, {INT64_C(1672531200), BT_TIME_YEAR},
                       BT_OBSERVED_GROUND_PHOTO, NULL};
    int64_t oid2 = 0;
    assert_int_equal(bt_obs_range_add(f->s, &r, &oid2), BT_OK);
    /* another border's observation does not count */
    r.border = "U";
    r.from_m = 0.0;
    r.to_m = 1e6;
    assert_int_equal(bt_obs_range_add(f->s, &r, NULL), BT_OK);

    bt_coverage_opts o;
    bt_coverage_opts_init(&o);
    o.max_offset_m = 200.0;
    o.as_of = FX_T_2022_06_01;
    o.incident_offset_m = 5000.0;
    bt_coverage *c = NULL;
    assert_int_equal(bt_border_coverage(f->s, f->b, &o, &c), BT_OK);
    assert_int_equal(c->ngaps, 2);
    const bt_gap *g = &c->gaps[0];
    assert_string_equal(g->place_from, "Alpha");
    assert_string_equal(g->place_to, "Bravo");
    assert_true(fabs(g->place_to_m - 1500.0) < 0.05);
    assert_int_equal(g->nincidents, 2);
    assert_int_equal(g->incident_ids[0], i1 < i3 ? i1 : i3);
    assert_int_equal(g->incident_ids[1], i1 < i3 ? i3 : i1);
    assert_true(fabs(g->observed_m - 1000.0) < 0.02);
    assert_int_equal(g->unobserved, 0);
    g = &c->gaps[1];
    assert_string_equal(g->place_from, "Bravo");
    assert_string_equal(g->place_to, "Charlie");
    assert_int_equal(g->nincidents, 1);
    assert_int_equal(g->incident_ids[0], i2);
    /* the 2023 observation is after as_of */
    assert_int_equal(g->unobserved, 1);
    assert_true(fabs(c->unobserved_m - 4000.0) < 0.02);
    bt_coverage_free(c);

    /* as of now the 2023 observation counts; incidents of 2021 only */
    o.as_of = INT64_MAX;
    o.incidents_from = FX_T_2021_03_15;
    o.incidents_to = FX_T_2021_03_15 + 86400;
    assert_int_equal(bt_border_coverage(f->s, f->b, &o, &c), BT_OK);
    assert_true(fabs(c->gaps[1].observed_m - 500.0) < 0.02);
    assert_int_equal(c->gaps[1].unobserved, 0);
    assert_int_equal(c->gaps[0].nincidents, 1);
    assert_int_equal(c->gaps[0].incident_ids[0], i3);
    assert_int_equal(c->gaps[1].nincidents, 0);
    bt_coverage_free(c);

    assert_int_equal(bt_obs_range_delete(f->s, oid), BT_OK);
    assert_int_equal(bt_obs_range_delete(f->s, oid), BT_ERR_NOT_FOUND);
    assert_int_equal(bt_border_coverage(f->s, f->b, &o, &c), BT_OK);
    assert_int_equal(c->gaps[0].unobserved, 1);
    bt_coverage_free(c);
}

static void test_guard_posts(void **state)
{
    struct line_fx *f = *state;
    const double cs[] = {1000.0, 2500.0, 7000.0};
    for (size_t i = 0; i < 3; i++) {
        bt_lonlat p = at(cs[i], i == 1 ? -150.0 : 30.0);
        bt_installation in;
        bt_installation_init(&in);
        in.kind = BT_INSTALL_GUARD_POST;
        in.points = &p;
        in.npoints = 1;
        assert_int_equal(bt_installation_add(f->s, &in, NULL), BT_OK);
    }
    /* too far and a watchtower: not counted */
    bt_lonlat far = at(5000.0, 900.0);
    bt_installation in;
    bt_installation_init(&in);
    in.kind = BT_INSTALL_GUARD_POST;
    in.points = &far;
    in.npoints = 1;
    assert_int_equal(bt_installation_add(f->s, &in, NULL), BT_OK);
    bt_lonlat tw = at(5000.0, 0.0);
    in.kind = BT_INSTALL_WATCHTOWER;
    in.points = &tw;
    assert_int_equal(bt_installation_add(f->s, &in, NULL), BT_OK);

    bt_coverage_opts o;
    bt_coverage_opts_init(&o);
    o.max_offset_m = 200.0;
    bt_coverage *c = NULL;
    assert_int_equal(bt_border_coverage(f->s, f->b, &o, &c), BT_OK);
    assert_int_equal(c->npoints, 3);
    assert_true(fabs(c->points_per_km - 0.3) < 1e-9);
    assert_true(fabs(c->max_spacing_m - 4500.0) < 0.02);
    assert_true(fabs(c->max_spacing_from_m - 2500.0) < 0.02);
    /* no fence: one gap, the whole border */
    assert_int_equal(c->ngaps, 1);
    assert_true(fabs(c->covered_m) < 1e-12);
    bt_coverage_free(c);
    /* with watchtowers too */
    o.point_kinds |= 1u << BT_INSTALL_WATCHTOWER;
    assert_int_equal(bt_border_coverage(f->s, f->b, &o, &c), BT_OK);
    assert_int_equal(c->npoints, 4);
    assert_true(fabs(c->max_spacing_m - 3000.0) < 0.02);
    bt_coverage_free(c);
}

/* Deterministic generator (xorshift64*). */
static double rnd(uint64_t *st)
{
    *st ^= *st >> 12;
    *st ^= *st << 25;
    *st ^= *st >> 27;
    return (double)((*st * UINT64_C(2685821657736338717)) >> 11) / 9007199254740992.0;
}

static int cmp_pair(const void *a, const void *b)
{
    const double *x = a, *y = b;
    return x[0] < y[0] ? -1 : (x[0] > y[0]);
}

static void test_property_random(void **state)
{
    struct line_fx *f = *state;
    uint64_t st = UINT64_C(0x9E3779B97F4A7C15);
    double iv[60][2];
    size_t niv = 0;
    assert_int_equal(bt_store_begin(f->s), BT_OK);
    for (int i = 0; i < 60; i++) {
        double a = rnd(&st) * 11000.0 - 500.0; /* some start before 0 or end after 10 km */
        double len = 20.0 + rnd(&st) * 1500.0;
        double off = (rnd(&st) * 2.0 - 1.0) * 350.0;
        double a0 = a < -400.0 ? -400.0 : a, b0 = a + len;
        if (fabs(off) > 195.0 && fabs(off) < 205.0) off = 100.0; /* stay clear of the limit */
        /* a fence beyond the ends is measured only along the line */
        bt_lonlat pts[2];
        double lo = a0 < 0.0 ? 0.0 : a0, hi = b0 > 10000.0 ? 10000.0 : b0;
        if (hi - lo < 1.0) continue;
        pts[0] = at(lo, off);
        pts[1] = at(hi, off);
        bt_installation in;
        bt_installation_init(&in);
        in.points = pts;
        in.npoints = 2;
        assert_int_equal(bt_installation_add(f->s, &in, NULL), BT_OK);
        if (fabs(off) < 200.0) {
            iv[niv][0] = lo;
            iv[niv][1] = hi;
            niv++;
        }
    }
    assert_int_equal(bt_store_commit(f->s), BT_OK);
    /* independent union */
    qsort(iv, niv, sizeof iv[0], cmp_pair);
    double want = 0.0, cs = -1.0, ce = -1.0;
    for (size_t i = 0; i < niv; i++) {
        if (iv[i][0] > ce) {
            if (ce > cs) want += ce - cs;
            cs = iv[i][0];
            ce = iv[i][1];
        } else if (iv[i][1] > ce) {
            ce = iv[i][1];
        }
    }
    if (ce > cs) want += ce - cs;

    bt_coverage_opts o;
    bt_coverage_opts_init(&o);
    o.max_offset_m = 200.0;
    bt_coverage *c = NULL;
    assert_int_equal(bt_border_coverage(f->s, f->b, &o, &c), BT_OK);
    /* a fence 2 km long at 350 m offset is a geodesic chord: its middle bends towards
     * the pole by 2e-2 m at most, so 0.05 m per interval */
    if (fabs(c->covered_m - want) > 0.05 * (double)niv)
        fail_msg("covered %.3f, independent union %.3f", c->covered_m, want);
    assert_true(c->covered_m <= c->length_m + 1e-9);
    double gsum = 0.0;
    for (size_t i = 0; i < c->ngaps; i++) {
        gsum += c->gaps[i].length_m;
        assert_true(c->gaps[i].length_m > 0.0);
        if (i > 0) assert_true(c->gaps[i].from_m >= c->gaps[i - 1].to_m);
    }
    assert_true(fabs(gsum + c->covered_m - c->length_m) < 1e-6);
    /* every chainage sub-range obeys the same identities */
    for (int k = 0; k < 20; k++) {
        double a = rnd(&st) * 10000.0, b = rnd(&st) * 10000.0;
        bt_coverage *d = NULL;
        o.from_m = a < b ? a : b;
        o.to_m = a < b ? b : a;
        assert_int_equal(bt_border_coverage(f->s, f->b, &o, &d), BT_OK);
        assert_true(d->covered_m <= d->length_m + 1e-9);
        assert_true(d->covered_m <= c->covered_m + 1e-9);
        assert_true(fabs(d->gaps_m + d->covered_m - d->length_m) < 1e-6);
        bt_coverage_free(d);
    }
    bt_coverage_free(c);
}

static void test_errors(void **state)
{
    struct line_fx *f = *state;
    bt_coverage *c = (bt_coverage *)&c;
    assert_int_equal(bt_border_coverage(NULL, f->b, NULL, &c), BT_ERR_INVALID);
    assert_int_equal(bt_border_coverage(f->s, NULL, NULL, &c), BT_ERR_INVALID);
    assert_null(c);
    assert_int_equal(bt_border_coverage(f->s, f->b, NULL, NULL), BT_ERR_INVALID);
    bt_coverage_opts o;
    bt_coverage_opts_init(&o);
    o.max_offset_m = 0.0;
    assert_int_equal(bt_border_coverage(f->s, f->b, &o, &c), BT_ERR_INVALID);
    assert_non_null(strstr(bt_store_errmsg(f->s), "max_offset_m"));
    bt_coverage_opts_init(&o);
    o.from_m = 5.0;
    o.to_m = 4.0;
    assert_int_equal(bt_border_coverage(f->s, f->b, &o, &c), BT_ERR_INVALID);
    bt_coverage_opts_init(&o);
    o.step_m = NAN;
    assert_int_equal(bt_border_coverage(f->s, f->b, &o, &c), BT_ERR_INVALID);
    /* defaults with NULL options work, and clear the error */
    assert_int_equal(bt_border_coverage(f->s, f->b, NULL, &c), BT_OK);
    assert_string_equal(bt_store_errmsg(f->s), "");
    bt_coverage_free(c);
    bt_coverage_free(NULL);

    bt_border *b = (bt_border *)&b;
    assert_int_equal(bt_border_open(f->s, "NOPE", NULL, &b), BT_ERR_NOT_FOUND);
    assert_null(b);
    assert_int_equal(bt_border_open(f->s, NULL, NULL, &b), BT_ERR_INVALID);
    assert_int_equal(bt_border_open(NULL, "T", NULL, &b), BT_ERR_INVALID);

    bt_location loc;
    bt_lonlat bad = {0.0, 95.0};
    assert_int_equal(bt_border_locate(f->s, f->b, bad, &loc), BT_ERR_INVALID);
    assert_int_equal(bt_border_locate(f->s, f->b, at(10.0, 10.0), NULL), BT_ERR_INVALID);
    assert_int_equal(bt_border_locate(f->s, f->b, at(10.0, 10.0), &loc), BT_OK);
    assert_true(fabs(loc.chainage_m - 10.0) < 0.01);
    bt_lonlat p;
    assert_int_equal(bt_border_point_at(f->s, f->b, NAN, &p), BT_ERR_INVALID);
    assert_int_equal(bt_border_point_at(f->s, f->b, 2500.0, &p), BT_OK);

    bt_obs_range r = {0, "T", 10.0, 5.0, {FX_T_2020_01_01, BT_TIME_YEAR}, BT_OBSERVED_SATELLITE,
                      NULL};
    assert_int_equal(bt_obs_range_add(f->s, &r, NULL), BT_ERR_INVALID);
    r.from_m = 1.0;
    r.when.precision = BT_TIME_NONE;
    assert_int_equal(bt_obs_range_add(f->s, &r, NULL), BT_ERR_INVALID);
    r.when.precision = BT_TIME_YEAR;
    r.border = NULL;
    assert_int_equal(bt_obs_range_add(f->s, &r, NULL), BT_ERR_INVALID);
    r.border = "T";
    r.by = (bt_observation)99;
    assert_int_equal(bt_obs_range_add(f->s, &r, NULL), BT_ERR_INVALID);
    assert_int_equal(bt_obs_range_add(f->s, NULL, NULL), BT_ERR_INVALID);
    /* no observation table yet: deleting finds nothing */
    assert_int_equal(bt_obs_range_delete(f->s, 1), BT_ERR_NOT_FOUND);
}

static void test_readonly(void **state)
{
    struct line_fx *f = *state;
    char path[512];
    fx_file(&f->dir, "cov.sqlite", path, sizeof path);
    bt_store *ro = NULL;
    assert_int_equal(bt_store_open(path, BT_OPEN_READONLY, &ro, NULL), BT_OK);
    bt_obs_range r = {0, "T", 1.0, 5.0, {FX_T_2020_01_01, BT_TIME_YEAR}, BT_OBSERVED_SATELLITE,
                      NULL};
    assert_int_equal(bt_obs_range_add(ro, &r, NULL), BT_ERR_READONLY);
    assert_int_equal(bt_obs_range_delete(ro, 1), BT_ERR_READONLY);
    /* reading works on a read-only store, without the observations table */
    bt_border *b = NULL;
    assert_int_equal(bt_border_open(ro, "T", NULL, &b), BT_OK);
    bt_coverage *c = NULL;
    assert_int_equal(bt_border_coverage(ro, b, NULL, &c), BT_OK);
    assert_int_equal(c->ngaps, 1);
    assert_int_equal(c->gaps[0].unobserved, 1);
    bt_coverage_free(c);
    bt_border_free(b);
    bt_store_close(ro);
}

int main(void)
{
    geod_init(&G, 6378137.0, 1.0 / 298.257223563);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hand_built, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_and_overlap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_as_of, setup, teardown),
        cmocka_unit_test_setup_teardown(test_since, setup, teardown),
        cmocka_unit_test_setup_teardown(test_before_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gaps_places_incidents_observed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guard_posts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_property_random, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
