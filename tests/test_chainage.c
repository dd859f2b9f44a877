/**
 * @file test_chainage.c
 * @brief Chainage of a border: ordering of parts, lengths, locating points (chainage,
 * offset, side), on hand-built lines with known answers and on the real PRK-CHN
 * border, checked against independent geodesic sums and against GEOS linear
 * referencing in a local transverse Mercator projection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <geodesic.h>
#include <geos_c.h>
#include <json-c/json.h>
#include <math.h>
#include <proj.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis_internal.h"

static struct geod_geodesic G;

/* The point at distance d along the geodesic leaving a with azimuth azi. */
static bt_lonlat along(bt_lonlat a, double azi, double d)
{
    bt_lonlat r;
    geod_direct(&G, a.lat, a.lon, azi, d, &r.lat, &r.lon, NULL);
    return r;
}

static double dist(bt_lonlat a, bt_lonlat b)
{
    double s;
    geod_inverse(&G, a.lat, a.lon, b.lat, b.lon, &s, NULL, NULL);
    return s;
}

/* Azimuth of the geodesic from a (due east at start) at distance d. */
static double azi_at(bt_lonlat a, double azi, double d)
{
    double lat, lon, azi2;
    geod_direct(&G, a.lat, a.lon, azi, d, &lat, &lon, &azi2);
    return azi2;
}

static const bt_lonlat START = {128.0, 41.4};

/* n+1 vertices every step metres due east from START, from d0. */
static bt_lonlat *east_line(double d0, double step, size_t n)
{
    bt_lonlat *v = malloc((n + 1) * sizeof *v);
    for (size_t i = 0; i <= n; i++) v[i] = along(START, 90.0, d0 + step * (double)i);
    return v;
}

/* A point at chainage d on the east line, offset by off metres to its left (north)
 * or, with off < 0, to its right. */
static bt_lonlat off_line(double d, double off)
{
    bt_lonlat on = along(START, 90.0, d);
    double az = azi_at(START, 90.0, d);
    return off >= 0 ? along(on, az - 90.0, off) : along(on, az + 90.0, -off);
}

static void test_straight_line(void **state)
{
    (void)state;
    bt_lonlat *v = east_line(0.0, 1000.0, 10);
    struct bt__part_in in = {7, 0, v, 11};
    bt_border *b = NULL;
    assert_int_equal(bt__border_build(NULL, "T", &in, 1, NULL, &b), BT_OK);
    bt_border_info info;
    assert_int_equal(bt_border_info_get(b, &info), BT_OK);
    assert_int_equal(info.nparts, 1);
    assert_int_equal(info.nchain, 1);
    assert_true(fabs(info.length_m - 10000.0) < 1e-6);
    assert_true(fabs(info.gaps_m) < 1e-12);
    assert_true(dist(info.origin, START) < 1e-6);

    /* points 200 m north / 300 m south of chainage 3000 and 7250.5 */
    const double cs[] = {0.0, 3000.0, 7250.5, 9999.0};
    const double offs[] = {200.0, -300.0, 1.0, -5000.0};
    for (size_t i = 0; i < 4; i++) {
        for (size_t j = 0; j < 4; j++) {
            bt_location loc;
            bool found;
            bt_lonlat p = off_line(cs[i], offs[j]);
            assert_int_equal(bt__border_locate(b, p, INFINITY, true, &loc, &found), BT_OK);
            assert_true(found);
            assert_int_equal(loc.segment_id, 7);
            /* tolerance: 1e-4 of the offset plus 1 cm (the tangent-plane projection) */
            double tol = 1e-4 * fabs(offs[j]) + 0.01;
            if (fabs(loc.chainage_m - cs[i]) > tol)
                fail_msg("chainage %.4f expected %.4f (offset %g)", loc.chainage_m, cs[i],
                         offs[j]);
            assert_true(fabs(loc.offset_m - fabs(offs[j])) < 1e-3);
            assert_true(fabs(loc.chain_offset_m - loc.offset_m) < 1e-9);
            assert_int_equal(loc.side, offs[j] > 0 ? BT_SIDE_LEFT : BT_SIDE_RIGHT);
        }
    }
    /* beyond the ends: chainage clamps, the offset is the distance to the end */
    bt_location loc;
    bool found;
    bt_lonlat west = along(START, 270.0, 1500.0);
    assert_int_equal(bt__border_locate(b, west, INFINITY, true, &loc, &found), BT_OK);
    assert_true(fabs(loc.chainage_m) < 1e-9);
    assert_true(fabs(loc.offset_m - 1500.0) < 1e-3);
    /* a bounded search that finds nothing */
    assert_int_equal(bt__border_locate(b, off_line(5000.0, 800.0), 500.0, true, &loc, &found), BT_OK);
    assert_false(found);
    /* a point 300 km away is still located */
    assert_int_equal(bt__border_locate(b, along(START, 180.0, 300000.0), INFINITY, true, &loc, &found),
                     BT_OK);
    assert_true(found);
    assert_true(fabs(loc.offset_m - 300000.0) < 1.0);
    /* point_at inverts the chainage */
    for (double c = 0.0; c <= 10000.0; c += 1234.5) {
        bt_lonlat p = bt__border_point_at(b, c);
        assert_true(dist(p, along(START, 90.0, c)) < 1e-3);
    }
    assert_true(dist(bt__border_point_at(b, -5.0), START) < 1e-9);
    assert_true(dist(bt__border_point_at(b, 1e9), v[10]) < 1e-9);
    bt_border_free(b);
    free(v);
}

/* Parts out of order and reversed, with gaps, plus an island ring beside the chain. */
static void test_order_gaps_rings(void **state)
{
    (void)state;
    bt_lonlat *a = east_line(0.0, 500.0, 8);     /* 0 .. 4 km */
    bt_lonlat *bw = east_line(5000.0, 1000.0, 5); /* 5 .. 10 km, stored reversed */
    for (size_t i = 0; i < 3; i++) {
        bt_lonlat t = bw[i];
        bw[i] = bw[5 - i];
        bw[5 - i] = t;
    }
    /* an island ring 300 m north of chainage 2 km: a square of side 100 m */
    bt_lonlat ring[5];
    ring[0] = off_line(2000.0, 300.0);
    ring[1] = along(ring[0], 90.0, 100.0);
    ring[2] = along(ring[1], 0.0, 100.0);
    ring[3] = along(ring[2], 270.0, 100.0);
    ring[4] = ring[0];
    struct bt__part_in in[3] = {
        {11, 0, bw, 6},  /* seq 0 is the far part: the order must not depend on seq */
        {12, 1, ring, 5},
        {13, 2, a, 9},
    };
    bt_border *b = NULL;
    assert_int_equal(bt__border_build(NULL, "T2", in, 3, NULL, &b), BT_OK);
    bt_border_info info;
    bt_border_info_get(b, &info);
    assert_int_equal(info.nparts, 3);
    assert_int_equal(info.nchain, 2);
    double ring_len = 0.0;
    for (size_t i = 0; i < 4; i++) ring_len += dist(ring[i], ring[i + 1]);
    assert_true(fabs(info.parts_length_m - (9000.0 + ring_len)) < 1e-6);
    assert_true(fabs(info.chain_parts_m - 9000.0) < 1e-6);
    assert_true(fabs(info.gaps_m - 1000.0) < 1e-6);
    assert_true(fabs(info.length_m - 10000.0) < 1e-6);
    assert_false(b->parts[1].on_chain);
    assert_true(b->parts[1].ring);
    assert_true(b->parts[0].reversed);
    assert_false(b->parts[2].reversed);

    bt_location loc;
    bool found;
    /* on the reversed part: chainage still increases eastward, north still left */
    assert_int_equal(bt__border_locate(b, off_line(7000.0, 150.0), INFINITY, true, &loc, &found), BT_OK);
    assert_int_equal(loc.segment_id, 11);
    assert_true(fabs(loc.chainage_m - 7000.0) < 0.03);
    assert_int_equal(loc.side, BT_SIDE_LEFT);
    /* in the gap: the nearest part is an end; chainage is that end's */
    assert_int_equal(bt__border_locate(b, off_line(4400.0, 10.0), INFINITY, true, &loc, &found), BT_OK);
    assert_int_equal(loc.segment_id, 13);
    assert_true(fabs(loc.chainage_m - 4000.0) < 1e-6);
    /* point_at inside the gap lies on the geodesic between the parts */
    assert_true(dist(bt__border_point_at(b, 4500.0), along(START, 90.0, 4500.0)) < 1e-3);
    /* near the island: the nearest segment is the ring, chainage from the chain */
    bt_lonlat isl = off_line(2050.0, 420.0);
    assert_int_equal(bt__border_locate(b, isl, INFINITY, true, &loc, &found), BT_OK);
    assert_int_equal(loc.segment_id, 12);
    assert_true(loc.offset_m < 30.0);
    assert_true(fabs(loc.chain_offset_m - 420.0) < 1e-3);
    assert_true(fabs(loc.chainage_m - 2050.0) < 0.1);
    assert_int_equal(loc.side, BT_SIDE_LEFT);
    bt_border_free(b);

    /* an origin at the east end reverses the chainage */
    bt_lonlat east = along(START, 90.0, 10100.0);
    assert_int_equal(bt__border_build(NULL, "T2", in, 3, &east, &b), BT_OK);
    assert_int_equal(bt__border_locate(b, off_line(3000.0, 100.0), INFINITY, true, &loc, &found), BT_OK);
    assert_true(fabs(loc.chainage_m - 7000.0) < 0.03);
    assert_int_equal(loc.side, BT_SIDE_RIGHT);
    bt_border_free(b);
    free(a);
    free(bw);
}

static void test_build_errors(void **state)
{
    (void)state;
    bt_border *b = (bt_border *)&b;
    assert_int_equal(bt__border_build(NULL, "E", NULL, 0, NULL, &b), BT_ERR_NOT_FOUND);
    assert_null(b);
    bt_lonlat one[1] = {{128.0, 41.0}};
    struct bt__part_in in = {1, 0, one, 1};
    assert_int_equal(bt__border_build(NULL, "E", &in, 1, NULL, &b), BT_ERR_INVALID);
    bt_lonlat bad[2] = {{128.0, 41.0}, {128.0, 91.0}};
    in = (struct bt__part_in){1, 0, bad, 2};
    assert_int_equal(bt__border_build(NULL, "E", &in, 1, NULL, &b), BT_ERR_INVALID);
    bt_lonlat nan2[2] = {{128.0, 41.0}, {NAN, 41.0}};
    in = (struct bt__part_in){1, 0, nan2, 2};
    assert_int_equal(bt__border_build(NULL, "E", &in, 1, NULL, &b), BT_ERR_INVALID);
    bt_lonlat wide[2] = {{-170.0, 41.0}, {170.0, 41.0}};
    in = (struct bt__part_in){1, 0, wide, 2};
    assert_int_equal(bt__border_build(NULL, "E", &in, 1, NULL, &b), BT_ERR_INVALID);
    bt_lonlat ok[2] = {{128.0, 41.0}, {128.1, 41.0}};
    in = (struct bt__part_in){1, 0, ok, 2};
    bt_lonlat badorigin = {200.0, 0.0};
    assert_int_equal(bt__border_build(NULL, "E", &in, 1, &badorigin, &b), BT_ERR_INVALID);
    assert_int_equal(bt_border_info_get(NULL, NULL), BT_ERR_INVALID);
    bt_border_free(NULL);
}

/* ---- the real border ------------------------------------------------------- */

struct real {
    struct bt__part_in *in;
    bt_lonlat **pts;
    size_t n;
};

/* Reads the PRK-CHN MultiLineString of examples/data/borders.geojson. */
static int load_real(struct real *r)
{
    json_object *root = json_object_from_file(BT_EXAMPLES_DATA_DIR "/borders.geojson");
    if (!root) return -1;
    json_object *feats = json_object_object_get(root, "features");
    memset(r, 0, sizeof *r);
    for (size_t f = 0; f < json_object_array_length(feats); f++) {
        json_object *ft = json_object_array_get_idx(feats, f);
        json_object *props = json_object_object_get(ft, "properties");
        const char *name = json_object_get_string(json_object_object_get(props, "name"));
        if (!name || strcmp(name, "PRK-CHN") != 0) continue;
        json_object *coords =
            json_object_object_get(json_object_object_get(ft, "geometry"), "coordinates");
        r->n = json_object_array_length(coords);
        r->in = calloc(r->n, sizeof *r->in);
        r->pts = calloc(r->n, sizeof *r->pts);
        for (size_t i = 0; i < r->n; i++) {
            json_object *line = json_object_array_get_idx(coords, i);
            size_t nv = json_object_array_length(line);
            r->pts[i] = malloc(nv * sizeof(bt_lonlat));
            for (size_t k = 0; k < nv; k++) {
                json_object *c = json_object_array_get_idx(line, k);
                r->pts[i][k].lon = json_object_get_double(json_object_array_get_idx(c, 0));
                r->pts[i][k].lat = json_object_get_double(json_object_array_get_idx(c, 1));
            }
            r->in[i] = (struct bt__part_in){(int64_t)i + 1, (int)i, r->pts[i], nv};
        }
    }
    json_object_put(root);
    return r->n > 0 ? 0 : -1;
}

static void free_real(struct real *r)
{
    for (size_t i = 0; i < r->n; i++) free(r->pts[i]);
    free(r->pts);
    free(r->in);
}

static const bt_lonlat HYESAN = {128.17778, 41.40167};
static const bt_lonlat CHANGBAI = {128.19624, 41.41772};

/* Independent distance from p to a part: every edge densified every 5 m with
 * geod_direct, the minimum geod_inverse, refined around the best sample. */
static double brute_dist(const bt_lonlat *v, size_t n, bt_lonlat p)
{
    double best = INFINITY;
    for (size_t i = 0; i + 1 < n; i++) {
        if (fabs(v[i].lon - p.lon) > 0.2 || fabs(v[i].lat - p.lat) > 0.2) continue;
        double len, azi;
        geod_inverse(&G, v[i].lat, v[i].lon, v[i + 1].lat, v[i + 1].lon, &len, &azi, NULL);
        for (double d = 0.0; d <= len; d += 0.05) {
            double d2 = dist(along(v[i], azi, d), p);
            if (d2 < best) best = d2;
            /* skip ahead when far: the distance changes at most 1 m per metre */
            if (d2 - best > 10.0) d += d2 - best - 10.0;
        }
        double d2 = dist(v[i + 1], p);
        if (d2 < best) best = d2;
    }
    return best;
}

/* The geodesic distance from p to the nearest part of r: every edge with a vertex
 * within 0.2 degrees is sampled every 20 m, and each edge whose coarse minimum is
 * within 25 m of the best is sampled again every 2 cm around its coarse minimum (the
 * distance along an edge of a few km is unimodal at these offsets). */
static double coarse_fine_dist(const struct real *r, bt_lonlat p)
{
    double best = INFINITY, fine = INFINITY;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t j = 0; j < r->n; j++) {
            const bt_lonlat *v = r->pts[j];
            for (size_t i = 0; i + 1 < r->in[j].n; i++) {
                if ((fabs(v[i].lon - p.lon) > 0.2 || fabs(v[i].lat - p.lat) > 0.2) &&
                    (fabs(v[i + 1].lon - p.lon) > 0.2 || fabs(v[i + 1].lat - p.lat) > 0.2))
                    continue;
                double len, azi;
                geod_inverse(&G, v[i].lat, v[i].lon, v[i + 1].lat, v[i + 1].lon, &len, &azi,
                             NULL);
                double emin = INFINITY, at = 0.0;
                for (double d = 0.0;; d += 20.0) {
                    if (d > len) d = len;
                    double d2 = dist(along(v[i], azi, d), p);
                    if (d2 < emin) {
                        emin = d2;
                        at = d;
                    }
                    if (d >= len) break;
                }
                if (pass == 0) {
                    best = fmin(best, emin);
                    continue;
                }
                if (emin > best + 25.0) continue;
                double lo = fmax(0.0, at - 25.0), hi = fmin(len, at + 25.0);
                for (double d = lo;; d += 0.02) {
                    if (d > hi) d = hi;
                    fine = fmin(fine, dist(along(v[i], azi, d), p));
                    if (d >= hi) break;
                }
            }
        }
    }
    return fine;
}

static void test_real_border(void **state)
{
    (void)state;
    struct real r = {0};
    if (load_real(&r) != 0) {
        print_message("examples/data/borders.geojson missing: skipped\n");
        skip();
    }
    assert_int_equal(r.n, 103);
    /* independent sum of the part lengths */
    double sum = 0.0;
    for (size_t i = 0; i < r.n; i++)
        for (size_t k = 0; k + 1 < r.in[i].n; k++) sum += dist(r.pts[i][k], r.pts[i][k + 1]);
    bt_border *b = NULL;
    assert_int_equal(bt__border_build(NULL, "PRK-CHN", r.in, r.n, NULL, &b), BT_OK);
    bt_border_info info;
    bt_border_info_get(b, &info);
    assert_int_equal(info.nparts, 103);
    assert_true(fabs(info.parts_length_m - sum) < 1e-6 * sum);
    assert_true(info.parts_length_m > 1530e3 && info.parts_length_m < 1542e3);
    print_message("PRK-CHN: %zu parts, %.3f km; chain of %zu parts %.3f km + gaps %.3f km = "
                  "%.3f km\n", info.nparts, info.parts_length_m / 1e3, info.nchain,
                  info.chain_parts_m / 1e3, info.gaps_m / 1e3, info.length_m / 1e3);
    /* the origin is the Yalu mouth (westernmost end), the end on the Tumen */
    assert_true(fabs(info.origin.lon - 124.2236) < 1e-3);
    assert_true(info.end.lon > 130.6);
    /* chain parts come in increasing chainage, separated by their gaps */
    double total = 0.0;
    for (size_t k = 0; k < b->nchain; k++) {
        const struct bt__part *pt = &b->parts[b->chain[k]];
        assert_true(fabs(pt->c0 - (total + b->gap_before[k])) < 1e-6);
        assert_true(b->gap_before[k] >= 0.0 && b->gap_before[k] < 10000.0);
        total = pt->c0 + pt->length_m;
    }
    assert_true(fabs(total - info.length_m) < 1e-6);
    assert_true(fabs(info.chain_parts_m + info.gaps_m - info.length_m) < 1e-6);
    /* every ring is a side part */
    for (size_t i = 0; i < b->nparts; i++)
        if (b->parts[i].ring) assert_false(b->parts[i].on_chain);
    /* chainage is monotone along the chain: points at 1 km steps come back at their
     * chainage, except where another chain part lies within 2 m (a shared vertex) */
    size_t checked = 0, shared = 0;
    double prevc = -1.0;
    for (double c = 500.0; c < info.length_m; c += 1000.0) {
        bt_lonlat p = bt__border_point_at(b, c);
        bt_location loc;
        bool found;
        assert_int_equal(bt__border_locate(b, p, INFINITY, true, &loc, &found), BT_OK);
        if (fabs(loc.chainage_m - c) < 0.05) {
            checked++;
            assert_true(loc.chainage_m > prevc);
            prevc = loc.chainage_m;
        } else {
            shared++;
        }
    }
    print_message("round trip: %zu exact, %zu elsewhere (gaps, meanders within reach)\n",
                  checked, shared);
    assert_true(checked > 9 * (checked + shared) / 10);

    /* Hyesan: about 600 m from the line (places.csv gives 628 m), on the right (North
     * Korea); Changbai on the left (China) */
    bt_location loc;
    bool found;
    assert_int_equal(bt__border_locate(b, HYESAN, INFINITY, true, &loc, &found), BT_OK);
    double ref = INFINITY;
    size_t near_part = 0;
    for (size_t i = 0; i < r.n; i++) {
        double d = brute_dist(r.pts[i], r.in[i].n, HYESAN);
        if (d < ref) { ref = d; near_part = i; }
    }
    print_message("Hyesan: offset %.3f m (independent %.3f m), chainage %.3f km, side %d\n",
                  loc.offset_m, ref, loc.chainage_m / 1e3, (int)loc.side);
    assert_true(fabs(loc.offset_m - ref) < 0.01);
    assert_true(loc.offset_m > 550.0 && loc.offset_m < 700.0);
    assert_int_equal(loc.segment_id, r.in[near_part].id);
    assert_int_equal(loc.side, BT_SIDE_RIGHT);
    bt_location lc;
    assert_int_equal(bt__border_locate(b, CHANGBAI, INFINITY, true, &lc, &found), BT_OK);
    assert_int_equal(lc.side, BT_SIDE_LEFT);

    /* the fast mode agrees with the exact one: the same within-limit decisions and,
     * but for near-ties between two edges, the same chainage to 1e-4 of the offset */
    uint64_t st = 99;
    size_t same = 0, ties = 0;
    for (int i = 0; i < 3000; i++) {
        double u[3];
        for (int k = 0; k < 3; k++) {
            st = st * 6364136223846793005u + 1442695040888963407u;
            u[k] = (double)(st >> 11) / 9007199254740992.0;
        }
        bt_lonlat q = along(bt__border_point_at(b, u[0] * info.length_m), 360.0 * u[1],
                            12000.0 * u[2]);
        bt_location le, lf;
        bool fe, ff;
        assert_int_equal(bt__border_locate(b, q, 5000.0, true, &le, &fe), BT_OK);
        assert_int_equal(bt__border_locate(b, q, 5000.0, false, &lf, &ff), BT_OK);
        assert_int_equal(fe, ff);
        if (!fe) continue;
        /* the fast offset is planar: 0.2%, and the bow of edges up to 8.8 km long
         * (1.5 m) */
        if (fabs(lf.offset_m - le.offset_m) > 0.002 * le.offset_m + 2.0)
            fail_msg("offset fast %.3f exact %.3f at (%.6f, %.6f)", lf.offset_m, le.offset_m,
                     q.lon, q.lat);
        if (fabs(lf.chainage_m - le.chainage_m) <= 1e-4 * le.offset_m + 0.01) same++;
        else ties++;
    }
    print_message("fast vs exact: %zu same chainage, %zu near-ties\n", same, ties);
    assert_true(ties * 100 <= same);

    /* the exact mode measures candidate edges in order of their lower bounds and stops
     * early: its offsets must still be the minimum over every part, found here
     * independently by sampling every edge near the point (coarse_fine_dist) */
    for (int i = 0; i < 120; i++) {
        double u[3];
        for (int k = 0; k < 3; k++) {
            st = st * 6364136223846793005u + 1442695040888963407u;
            u[k] = (double)(st >> 11) / 9007199254740992.0;
        }
        bt_lonlat q = along(bt__border_point_at(b, u[0] * info.length_m), 360.0 * u[1],
                            (i % 3 == 0 ? 50.0 : 8000.0) * u[2]);
        bt_location le;
        bool fe;
        assert_int_equal(bt__border_locate(b, q, INFINITY, true, &le, &fe), BT_OK);
        assert_true(fe);
        double bd = coarse_fine_dist(&r, q);
        if (fabs(le.offset_m - bd) > 0.01)
            fail_msg("point %d (%.6f, %.6f): exact offset %.4f, sampled minimum %.4f", i, q.lon,
                     q.lat, le.offset_m, bd);
    }

    /* the batch locator gives the fast mode's answers, also for points off the grid */
    {
        enum { NB = 4000 };
        bt_lonlat *q = malloc(NB * sizeof *q);
        double *ch = malloc(NB * sizeof *ch);
        unsigned char *fd = malloc(NB);
        for (int i = 0; i < NB; i++) {
            double u[3];
            for (int k = 0; k < 3; k++) {
                st = st * 6364136223846793005u + 1442695040888963407u;
                u[k] = (double)(st >> 11) / 9007199254740992.0;
            }
            q[i] = along(bt__border_point_at(b, u[0] * info.length_m), 360.0 * u[1],
                         (i % 10 == 0 ? 80000.0 : 20000.0) * u[2]);
        }
        assert_int_equal(bt__border_locate_many(b, q, NB, 15000.0, ch, fd), BT_OK);
        size_t nfound = 0;
        for (int i = 0; i < NB; i++) {
            bt_location lf;
            bool ff;
            assert_int_equal(bt__border_locate(b, q[i], 15000.0, false, &lf, &ff), BT_OK);
            assert_int_equal(fd[i], ff);
            if (ff && fabs(ch[i] - lf.chainage_m) > 1e-6)
                fail_msg("point %d: batch %.6f single %.6f", i, ch[i], lf.chainage_m);
            nfound += ff;
        }
        assert_true(nfound > NB / 2 && nfound < NB);
        free(q);
        free(ch);
        free(fd);
    }

    /* GEOS linear referencing in a transverse Mercator centred on Hyesan */
    PJ_CONTEXT *ctx = proj_context_create();
    PJ *tm = proj_create_crs_to_crs(ctx, "EPSG:4326",
                                    "+proj=tmerc +lat_0=41.40167 +lon_0=128.17778 +k=1 "
                                    "+ellps=WGS84 +units=m +type=crs", NULL);
    assert_non_null(tm);
    PJ *tmn = proj_normalize_for_visualization(ctx, tm);
    assert_non_null(tmn);
    GEOSContextHandle_t gh = GEOS_init_r();
    const struct bt__part *pt = &b->parts[near_part];
    assert_true(pt->on_chain);
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(gh, (unsigned)pt->n, 2);
    for (size_t k = 0; k < pt->n; k++) {
        PJ_COORD c = proj_trans(tmn, PJ_FWD, proj_coord(pt->pts[k].lon, pt->pts[k].lat, 0, 0));
        GEOSCoordSeq_setXY_r(gh, cs, (unsigned)k, c.xy.x, c.xy.y);
    }
    GEOSGeometry *line = GEOSGeom_createLineString_r(gh, cs);
    PJ_COORD hc = proj_trans(tmn, PJ_FWD, proj_coord(HYESAN.lon, HYESAN.lat, 0, 0));
    GEOSGeometry *hp = GEOSGeom_createPointFromXY_r(gh, hc.xy.x, hc.xy.y);
    double gd = 0.0;
    assert_int_equal(GEOSDistance_r(gh, line, hp, &gd), 1);
    double gproj = GEOSProject_r(gh, line, hp);
    double glen = 0.0;
    GEOSLength_r(gh, line, &glen);
    double along_part = pt->reversed ? pt->length_m - (loc.chainage_m - pt->c0)
                                     : loc.chainage_m - pt->c0;
    print_message("GEOS: offset %.3f m, projection %.3f m of %.3f m; ours %.3f of %.3f m\n", gd,
                  gproj, glen, along_part, pt->length_m);
    /* tolerances: the projection's scale error within 70 km of its centre is under
     * 7e-5, edges straight in the projection vs geodesic differ by millimetres */
    assert_true(fabs(gd - loc.offset_m) < 0.05);
    assert_true(fabs(gproj - along_part) < 1e-4 * pt->length_m + 1.0);
    assert_true(fabs(glen - pt->length_m) < 1e-4 * pt->length_m);
    GEOSGeom_destroy_r(gh, line);
    GEOSGeom_destroy_r(gh, hp);
    GEOS_finish_r(gh);
    proj_destroy(tmn);
    proj_destroy(tm);
    proj_context_destroy(ctx);
    bt_border_free(b);
    free_real(&r);
}

int main(void)
{
    geod_init(&G, 6378137.0, 1.0 / 298.257223563);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_straight_line),
        cmocka_unit_test(test_order_gaps_rings),
        cmocka_unit_test(test_build_errors),
        cmocka_unit_test(test_real_border),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
