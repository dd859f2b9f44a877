/**
 * @file test_analysis_border.c
 * @brief The real PRK-CHN border through the store and the public API: loading its
 * 103 segments, the chainage figures against an independent geodesic sum, Hyesan and
 * Changbai located, a fence laid along 50 km of the line measured back, and a guard
 * post spacing on real geometry.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <geodesic.h>
#include <json-c/json.h>
#include <math.h>

#include "store_fixture.h"

static struct geod_geodesic G;

static double dist(bt_lonlat a, bt_lonlat b)
{
    double s;
    geod_inverse(&G, a.lat, a.lon, b.lat, b.lon, &s, NULL, NULL);
    return s;
}

struct fx {
    fx_dir dir;
    bt_store *s;
    double sum_m; /* independent sum of the PRK-CHN part lengths */
    size_t nparts;
};

/* Loads the PRK-CHN parts of examples/data/borders.geojson as segments (seq = the
 * file order), and PRK-RUS too, which must not be mixed in. */
static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    *state = f;
    json_object *root = json_object_from_file(BT_EXAMPLES_DATA_DIR "/borders.geojson");
    if (!root) return 0; /* the test skips */
    if (fx_dir_make(&f->dir) != 0) return -1;
    char path[512];
    if (bt_store_open(fx_file(&f->dir, "real.sqlite", path, sizeof path),
                      BT_OPEN_READWRITE | BT_OPEN_CREATE, &f->s, NULL) != BT_OK)
        return -1;
    bt_store_begin(f->s);
    json_object *feats = json_object_object_get(root, "features");
    for (size_t k = 0; k < json_object_array_length(feats); k++) {
        json_object *ft = json_object_array_get_idx(feats, k);
        const char *name = json_object_get_string(
            json_object_object_get(json_object_object_get(ft, "properties"), "name"));
        if (strcmp(name, "PRK-CHN") != 0 && strcmp(name, "PRK-RUS") != 0) continue;
        json_object *coords =
            json_object_object_get(json_object_object_get(ft, "geometry"), "coordinates");
        for (size_t i = 0; i < json_object_array_length(coords); i++) {
            json_object *line = json_object_array_get_idx(coords, i);
            size_t nv = json_object_array_length(line);
            bt_lonlat *pts = malloc(nv * sizeof *pts);
            for (size_t v = 0; v < nv; v++) {
                json_object *c = json_object_array_get_idx(line, v);
                pts[v].lon = json_object_get_double(json_object_array_get_idx(c, 0));
                pts[v].lat = json_object_get_double(json_object_array_get_idx(c, 1));
                if (v > 0 && strcmp(name, "PRK-CHN") == 0) f->sum_m += dist(pts[v - 1], pts[v]);
            }
            char segname[32];
            snprintf(segname, sizeof segname, "part-%zu", i);
            bt_segment seg = {0, name, segname, (int)i, BT_SEGMENT_RIVER, NULL, pts, nv};
            int rc = bt_segment_add(f->s, &seg, NULL);
            free(pts);
            if (rc != BT_OK) return -1;
            if (strcmp(name, "PRK-CHN") == 0) f->nparts++;
        }
    }
    json_object_put(root);
    return bt_store_commit(f->s) == BT_OK ? 0 : -1;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->s) {
        bt_store_close(f->s);
        fx_dir_remove(&f->dir);
    }
    free(f);
    return 0;
}

static void test_real_chainage(void **state)
{
    struct fx *f = *state;
    if (!f->s) skip();
    assert_int_equal(f->nparts, 103);
    bt_border *b = NULL;
    assert_int_equal(bt_border_open(f->s, "PRK-CHN", NULL, &b), BT_OK);
    bt_border_info info;
    assert_int_equal(bt_border_info_get(b, &info), BT_OK);
    assert_int_equal(info.nparts, 103);
    /* "about 1,536 km" (data README), against the independent sum to 1 mm */
    assert_true(fabs(info.parts_length_m - f->sum_m) < 1e-3);
    assert_true(fabs(info.parts_length_m - 1536e3) < 1e3);
    assert_true(info.chain_parts_m <= info.parts_length_m);
    assert_true(fabs(info.chain_parts_m + info.gaps_m - info.length_m) < 1e-6);
    assert_true(dist(info.origin, (bt_lonlat){124.2236, 39.8916}) < 20.0);

    bt_location loc;
    assert_int_equal(bt_border_locate(f->s, b, (bt_lonlat){128.17778, 41.40167}, &loc), BT_OK);
    assert_true(loc.offset_m > 550.0 && loc.offset_m < 700.0); /* "about 600 m" */
    assert_int_equal(loc.side, BT_SIDE_RIGHT);                  /* North Korea */
    bt_segment *seg = NULL;
    assert_int_equal(bt_segment_get(f->s, loc.segment_id, &seg), BT_OK);
    assert_string_equal(seg->border, "PRK-CHN");
    bt_segment_free(seg);
    double hyesan_c = loc.chainage_m;
    /* Sinuiju is near the mouth, Musan further up than Hyesan */
    assert_int_equal(bt_border_locate(f->s, b, (bt_lonlat){124.39806, 40.10056}, &loc), BT_OK);
    assert_true(loc.chainage_m < 100e3 && loc.chainage_m < hyesan_c);
    assert_int_equal(loc.side, BT_SIDE_RIGHT);
    assert_int_equal(bt_border_locate(f->s, b, (bt_lonlat){129.20776, 42.22609}, &loc), BT_OK);
    assert_true(loc.chainage_m > hyesan_c);
    assert_int_equal(bt_border_locate(f->s, b, (bt_lonlat){124.39472, 40.12917}, &loc), BT_OK);
    assert_int_equal(loc.side, BT_SIDE_LEFT); /* Dandong, China */

    /* from the Tumen end instead: Hyesan's chainage is measured from there */
    bt_border *be = NULL;
    assert_int_equal(bt_border_open(f->s, "PRK-CHN", &info.end, &be), BT_OK);
    bt_border_info ie;
    bt_border_info_get(be, &ie);
    assert_true(dist(ie.origin, info.end) < 1e-6);
    assert_int_equal(bt_border_locate(f->s, be, (bt_lonlat){128.17778, 41.40167}, &loc), BT_OK);
    assert_int_equal(loc.side, BT_SIDE_LEFT);
    print_message("from the Tumen end: length %.3f km, Hyesan at %.3f km (%.3f from the Yalu)\n",
                  ie.length_m / 1e3, loc.chainage_m / 1e3, hyesan_c / 1e3);
    bt_border_free(be);
    bt_border_free(b);
}

static void test_real_fence(void **state)
{
    struct fx *f = *state;
    if (!f->s) skip();
    bt_border *b = NULL;
    assert_int_equal(bt_border_open(f->s, "PRK-CHN", NULL, &b), BT_OK);
    /* a fence laid on the line of one long chain part (no data gap inside), from
     * chainage c0 to c0 + 50 km, a vertex every 100 m of chainage */
    bt_location loc;
    assert_int_equal(bt_border_locate(f->s, b, (bt_lonlat){129.20776, 42.22609}, &loc), BT_OK);
    double c0 = loc.chainage_m - 25e3;
    bt_lonlat pts[501];
    for (int i = 0; i <= 500; i++)
        assert_int_equal(bt_border_point_at(f->s, b, c0 + 100.0 * i, &pts[i]), BT_OK);
    bt_installation in;
    bt_installation_init(&in);
    in.points = pts;
    in.npoints = 501;
    in.layer = BT_LAYER_PRIMARY;
    assert_int_equal(bt_installation_add(f->s, &in, NULL), BT_OK);
    /* guard posts every 2 km along it */
    for (int i = 0; i <= 25; i++) {
        bt_installation gp;
        bt_installation_init(&gp);
        gp.kind = BT_INSTALL_GUARD_POST;
        gp.points = &pts[20 * i];
        gp.npoints = 1;
        assert_int_equal(bt_installation_add(f->s, &gp, NULL), BT_OK);
    }
    bt_coverage_opts o;
    bt_coverage_opts_init(&o);
    o.max_offset_m = 200.0;
    bt_coverage *c = NULL;
    assert_int_equal(bt_border_coverage(f->s, b, &o, &c), BT_OK);
    print_message("fence on the line: covered %.3f m of %.3f m in %zu interval(s)\n",
                  c->covered_m, c->length_m, c->nintervals);
    /* the fence cuts the line's corners between vertices 100 m apart: its chainage
     * interval is the 50 km it was laid on, to 1 m */
    assert_true(fabs(c->covered_m - 50e3) < 1.0);
    assert_int_equal(c->nintervals, 1);
    assert_true(fabs(c->intervals[0].from_m - c0) < 0.5);
    assert_int_equal(c->ngaps, 2);
    assert_true(fabs(c->gaps_m + c->covered_m - c->length_m) < 1e-6);
    assert_int_equal(c->npoints, 26);
    /* the longest stretch without a post: before the first or after the last */
    assert_true(fabs(c->max_spacing_m - fmax(c0, c->length_m - (c0 + 50e3))) < 1.0);
    bt_coverage_free(c);
    /* the range of the fence only, and 1 m on each side so that the posts at its ends
     * (located to millimetres) are inside */
    o.from_m = c0 - 1.0;
    o.to_m = c0 + 50e3 + 1.0;
    assert_int_equal(bt_border_coverage(f->s, b, &o, &c), BT_OK);
    assert_true(fabs(c->covered_m - 50e3) < 1.0);
    assert_true(fabs(c->share - 50e3 / 50002.0) < 2e-5);
    assert_int_equal(c->npoints, 26);
    assert_true(fabs(c->points_per_km - 26.0 / 50.002) < 1e-9);
    assert_true(fabs(c->max_spacing_m - 2000.0) < 1.0);
    bt_coverage_free(c);
    bt_border_free(b);
}

int main(void)
{
    geod_init(&G, 6378137.0, 1.0 / 298.257223563);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_real_chainage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_fence, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
