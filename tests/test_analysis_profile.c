/**
 * @file test_analysis_profile.c
 * @brief Incidents along a border: the chainage profile with its filters and
 * hotspots, and space-time DBSCAN clusters, on hand-placed incidents whose answers are
 * known by construction; plus the error paths.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <geodesic.h>
#include <math.h>

#include "analysis/analysis_internal.h"
#include "store_fixture.h"

#include "test_line.h"

#define DAY INT64_C(86400)

static int setup(void **state)
{
    /* border "T": the 10 km river line, vertices every 1 km */
    return line_fx_setup(state, "prof.sqlite", add_river_line, true);
}

static int teardown(void **state) { return line_fx_teardown(state); }

static int64_t add_inc(bt_store *s, const char *ref, bt_lonlat p, bt_incident_type type,
                       int64_t t)
{
    bt_incident inc;
    bt_incident_init(&inc);
    inc.ref = ref;
    inc.where = p;
    inc.type = type;
    inc.start = t;
    inc.end = t + DAY - 1;
    int64_t id = 0;
    assert_int_equal(bt_incident_add(s, &inc, &id), BT_OK);
    return id;
}

static void test_profile(void **state)
{
    struct line_fx *f = *state;
    const int64_t T0 = FX_T_2020_07_01;
    add_inc(f->s, "a1", at(100.0, 50.0), BT_INCIDENT_RIVER_CROSSING, T0);
    add_inc(f->s, "a2", at(400.0, -300.0), BT_INCIDENT_RIVER_CROSSING, T0 + DAY);
    add_inc(f->s, "a3", at(999.0, 10.0), BT_INCIDENT_SMUGGLING, T0 + 2 * DAY);
    add_inc(f->s, "b1", at(1500.0, 5000.0), BT_INCIDENT_SHOOTING, T0 + 400 * DAY);
    add_inc(f->s, "c1", at(9999.5, 0.0), BT_INCIDENT_ARREST, T0);
    add_inc(f->s, "d1", at(10600.0, 0.0), BT_INCIDENT_ARREST, T0); /* beyond the end */
    add_inc(f->s, "far", at(5000.0, 20100.0), BT_INCIDENT_ARREST, T0);
    bt_place pl = {0, "Hamlet", "KP", NULL, at(500.0, -900.0)};
    assert_int_equal(bt_place_add(f->s, &pl, NULL), BT_OK);
    pl = (bt_place){0, "Ferry", "CN", NULL, at(1500.0, 700.0)};
    assert_int_equal(bt_place_add(f->s, &pl, NULL), BT_OK);

    bt_profile_opts o;
    bt_profile_opts_init(&o);
    bt_profile *p = NULL;
    assert_int_equal(bt_border_profile(f->s, f->b, &o, &p), BT_OK);
    assert_int_equal(p->nbins, 10);
    const size_t want[10] = {3, 1, 0, 0, 0, 0, 0, 0, 0, 2};
    for (size_t i = 0; i < 10; i++)
        if (p->counts[i] != want[i]) fail_msg("bin %zu: %zu, expected %zu", i, p->counts[i], want[i]);
    assert_int_equal(p->total, 6);
    assert_int_equal(p->too_far, 1);
    assert_int_equal(p->nhotspots, 3);
    assert_int_equal(p->hotspots[0].count, 3);
    assert_true(p->hotspots[0].from_m == 0.0 && p->hotspots[0].to_m == 1000.0);
    assert_string_equal(p->hotspots[0].place, "Hamlet");
    assert_true(fabs(p->hotspots[0].place_m - 900.0) < 0.05);
    assert_int_equal(p->hotspots[1].count, 2);
    assert_true(p->hotspots[1].from_m == 9000.0);
    assert_int_equal(p->hotspots[2].count, 1);
    assert_string_equal(p->hotspots[2].place, "Ferry");
    bt_profile_free(p);

    /* types, time window, offset, bin size and top_n */
    bt_profile_opts_init(&o);
    o.types = 1u << BT_INCIDENT_RIVER_CROSSING;
    o.bin_m = 250.0;
    assert_int_equal(bt_border_profile(f->s, f->b, &o, &p), BT_OK);
    assert_int_equal(p->nbins, 40);
    assert_int_equal(p->counts[0], 1);
    assert_int_equal(p->counts[1], 1);
    assert_int_equal(p->total, 2);
    bt_profile_free(p);
    /* the same through a query, whose filters replace types/from/to */
    bt_query q;
    bt_query_init(&q);
    q.types = 1u << BT_INCIDENT_RIVER_CROSSING;
    bt_profile_opts_init(&o);
    o.bin_m = 250.0;
    o.types = 1u << BT_INCIDENT_ARREST; /* ignored */
    o.query = &q;
    assert_int_equal(bt_border_profile(f->s, f->b, &o, &p), BT_OK);
    assert_int_equal(p->counts[0], 1);
    assert_int_equal(p->counts[1], 1);
    assert_int_equal(p->total, 2);
    bt_profile_free(p);
    /* a circle of 1.2 km around chainage 9.5 km: c1 and d1 (10.6 km is 1.1 km away) */
    bt_query_init(&q);
    q.area = BT_AREA_CIRCLE;
    q.centre = at(9500.0, 0.0);
    q.radius_m = 1200.0;
    assert_int_equal(bt_border_profile(f->s, f->b, &o, &p), BT_OK);
    assert_int_equal(p->total, 2);
    assert_int_equal(p->counts[39], 2);
    bt_profile_free(p);
    q.radius_m = -1.0; /* the query's own validation */
    assert_int_equal(bt_border_profile(f->s, f->b, &o, &p), BT_ERR_INVALID);

    bt_profile_opts_init(&o);
    o.from = T0 + DAY;
    o.to = T0 + 2 * DAY;
    o.max_offset_m = 1000.0;
    o.top_n = 1;
    assert_int_equal(bt_border_profile(f->s, f->b, &o, &p), BT_OK);
    assert_int_equal(p->total, 2);
    assert_int_equal(p->counts[0], 2);
    assert_int_equal(p->nhotspots, 1);
    bt_profile_free(p);
    bt_profile_opts_init(&o);
    o.max_offset_m = 1000.0;
    o.from = T0 + 300 * DAY;
    assert_int_equal(bt_border_profile(f->s, f->b, &o, &p), BT_OK);
    assert_int_equal(p->total, 0);
    /* b1, 5 km off, lies outside the border's box grown by 1 km: not even a candidate */
    assert_int_equal(p->too_far, 0);
    assert_int_equal(p->nhotspots, 0);
    bt_profile_free(p);

    /* errors */
    bt_profile_opts_init(&o);
    o.bin_m = 0.0;
    p = (bt_profile *)&p;
    assert_int_equal(bt_border_profile(f->s, f->b, &o, &p), BT_ERR_INVALID);
    assert_null(p);
    o.bin_m = 1e-6; /* 1e10 bins */
    assert_int_equal(bt_border_profile(f->s, f->b, &o, &p), BT_ERR_INVALID);
    bt_profile_opts_init(&o);
    o.from = 10;
    o.to = 5;
    assert_int_equal(bt_border_profile(f->s, f->b, &o, &p), BT_ERR_INVALID);
    assert_int_equal(bt_border_profile(f->s, NULL, NULL, &p), BT_ERR_INVALID);
    assert_int_equal(bt_border_profile(NULL, f->b, NULL, &p), BT_ERR_INVALID);
    assert_int_equal(bt_border_profile(f->s, f->b, NULL, NULL), BT_ERR_INVALID);
    assert_int_equal(bt_border_profile(f->s, f->b, NULL, &p), BT_OK);
    bt_profile_free(p);
    bt_profile_free(NULL);
}

static void test_clusters(void **state)
{
    struct line_fx *f = *state;
    const int64_t T0 = FX_T_2020_07_01;
    int64_t A[4], B[5], N[4];
    /* A: four reports within 400 m over three days */
    for (int i = 0; i < 4; i++) {
        char ref[16];
        snprintf(ref, sizeof ref, "A%d", i);
        A[i] = add_inc(f->s, ref, at(2000.0 + 100.0 * i, 50.0 * i), BT_INCIDENT_RIVER_CROSSING,
                       T0 + i * DAY);
    }
    /* noise: near A in space but a year later; near A in time but 6 km away */
    N[0] = add_inc(f->s, "N0", at(2100.0, 0.0), BT_INCIDENT_RIVER_CROSSING, T0 + 365 * DAY);
    N[1] = add_inc(f->s, "N1", at(8200.0, 0.0), BT_INCIDENT_RIVER_CROSSING, T0);
    /* B: a chain of five reports 1.5 km apart, each within reach of the next only, so
     * the cluster grows through its core points */
    for (int i = 0; i < 5; i++) {
        char ref[16];
        snprintf(ref, sizeof ref, "B%d", i);
        B[i] = add_inc(f->s, ref, at(1500.0 * i, -20000.0), BT_INCIDENT_SMUGGLING,
                       T0 + 100 * DAY + i * DAY);
    }
    N[2] = add_inc(f->s, "N2", at(9000.0, -20000.0), BT_INCIDENT_SMUGGLING, T0 + 100 * DAY);
    /* a type the filtered run leaves out */
    N[3] = add_inc(f->s, "N3", at(2000.0, 60.0), BT_INCIDENT_POLICY_NOTICE, T0);

    bt_cluster_opts o;
    bt_cluster_opts_init(&o);
    o.eps_m = 1600.0;
    o.window_s = 10 * DAY;
    o.min_pts = 3;
    o.types = (1u << BT_INCIDENT_RIVER_CROSSING) | (1u << BT_INCIDENT_SMUGGLING);
    bt_clusters *c = NULL;
    assert_int_equal(bt_incident_clusters(f->s, &o, &c), BT_OK);
    assert_int_equal(c->n, 12);
    assert_int_equal(c->nclusters, 2);
    for (size_t i = 0; i < c->n; i++) {
        long want = 0;
        for (int k = 0; k < 4; k++) if (c->ids[i] == A[k]) want = 1;
        for (int k = 0; k < 5; k++) if (c->ids[i] == B[k]) want = 2;
        if (c->labels[i] != want)
            fail_msg("incident %lld: cluster %ld, expected %ld", (long long)c->ids[i],
                     c->labels[i], want);
        if (i > 0) assert_true(c->ids[i] > c->ids[i - 1]);
        assert_true(c->ids[i] != N[3]);
    }
    bt_clusters_free(c);

    /* through a query: the smuggling reports only (B and N2) */
    bt_query q;
    bt_query_init(&q);
    q.types = 1u << BT_INCIDENT_SMUGGLING;
    o.query = &q;
    assert_int_equal(bt_incident_clusters(f->s, &o, &c), BT_OK);
    assert_int_equal(c->n, 6);
    assert_int_equal(c->nclusters, 1);
    bt_clusters_free(c);
    o.query = NULL;

    /* with a 1 km eps the chain B falls apart (1.5 km steps) */
    o.eps_m = 1000.0;
    assert_int_equal(bt_incident_clusters(f->s, &o, &c), BT_OK);
    assert_int_equal(c->nclusters, 1);
    bt_clusters_free(c);
    /* a box: only the southern group */
    bt_cluster_opts_init(&o);
    o.eps_m = 1600.0;
    o.window_s = 10 * DAY;
    o.box = (bt_bbox){127.9, 41.0, 128.2, 41.3};
    assert_int_equal(bt_incident_clusters(f->s, &o, &c), BT_OK);
    assert_int_equal(c->n, 6);
    assert_int_equal(c->nclusters, 1);
    bt_clusters_free(c);
    /* a box crossing the antimeridian holds nothing here */
    o.box = (bt_bbox){170.0, -10.0, -170.0, 10.0};
    assert_int_equal(bt_incident_clusters(f->s, &o, &c), BT_OK);
    assert_int_equal(c->n, 0);
    assert_int_equal(c->nclusters, 0);
    bt_clusters_free(c);

    /* errors */
    bt_cluster_opts_init(&o);
    o.eps_m = -1.0;
    assert_int_equal(bt_incident_clusters(f->s, &o, &c), BT_ERR_INVALID);
    bt_cluster_opts_init(&o);
    o.window_s = -1;
    assert_int_equal(bt_incident_clusters(f->s, &o, &c), BT_ERR_INVALID);
    bt_cluster_opts_init(&o);
    o.box.south = 50.0;
    o.box.north = 40.0;
    assert_int_equal(bt_incident_clusters(f->s, &o, &c), BT_ERR_INVALID);
    assert_int_equal(bt_incident_clusters(f->s, NULL, NULL), BT_ERR_INVALID);
    assert_int_equal(bt_incident_clusters(NULL, NULL, &c), BT_ERR_INVALID);
    bt_clusters_free(NULL);
}

/* The DBSCAN core against a brute-force reference on random points: same labels. */
static void test_dbscan_brute(void **state)
{
    (void)state;
    enum { N = 400 };
    bt_lonlat p[N];
    int64_t t[N];
    uint64_t st = 12345;
    for (int i = 0; i < N; i++) {
        st = st * 6364136223846793005u + 1442695040888963407u;
        double u = (double)(st >> 11) / 9007199254740992.0;
        st = st * 6364136223846793005u + 1442695040888963407u;
        double v = (double)(st >> 11) / 9007199254740992.0;
        st = st * 6364136223846793005u + 1442695040888963407u;
        double w = (double)(st >> 11) / 9007199254740992.0;
        p[i] = (bt_lonlat){128.0 + 0.3 * u, 41.3 + 0.2 * v};
        t[i] = (int64_t)(w * 200.0) * DAY;
    }
    long got[N], ref[N];
    const double eps = 1500.0;
    const int64_t win = 20 * DAY;
    const size_t minpts = 3;
    /* called directly: the library's PROJ table must be filled (lib/core/deps.h) */
    assert_int_equal(bt__proj_load(NULL), BT_OK);
    long nc = bt__dbscan(&G, p, t, N, eps, win, minpts, got);
    assert_true(nc > 0);
    /* reference: O(n^2) neighbours, same visiting order */
    static unsigned char nbm[N][N];
    size_t deg[N];
    for (int i = 0; i < N; i++) {
        deg[i] = 0;
        for (int j = 0; j < N; j++) {
            double s;
            geod_inverse(&G, p[i].lat, p[i].lon, p[j].lat, p[j].lon, &s, NULL, NULL);
            int64_t dt = t[i] > t[j] ? t[i] - t[j] : t[j] - t[i];
            nbm[i][j] = s <= eps && dt <= win;
            deg[i] += nbm[i][j];
        }
    }
    /* core points and their connected components must match; border points must be
     * in the cluster of some core neighbour; noise has no core neighbour */
    for (int i = 0; i < N; i++) {
        bool core = deg[i] >= minpts;
        ref[i] = core;
        if (core) assert_true(got[i] > 0);
        bool has_core_nb = false;
        for (int j = 0; j < N; j++)
            if (nbm[i][j] && deg[j] >= minpts) {
                has_core_nb = true;
                if (core) assert_int_equal(got[i], got[j]);
            }
        if (!core && !has_core_nb) assert_int_equal(got[i], 0);
        if (!core && has_core_nb) {
            bool ok = false;
            for (int j = 0; j < N; j++)
                if (nbm[i][j] && deg[j] >= minpts && got[j] == got[i]) ok = true;
            assert_true(ok);
        }
    }
    /* numbering follows the first member */
    long seen = 0;
    for (int i = 0; i < N; i++)
        if (got[i] > seen) {
            assert_int_equal(got[i], seen + 1);
            seen = got[i];
        }
    assert_int_equal(seen, nc);
    (void)ref;
}

#ifdef BT_FAULT_INJECTION
/* Every allocation of the analysis calls made to fail in turn: each call fails
 * cleanly (an error status, no crash, no leak under the sanitizers) until it has
 * enough memory, then succeeds. */
static void test_alloc_failures(void **state)
{
    struct line_fx *f = *state;
    add_inc(f->s, "a1", at(100.0, 50.0), BT_INCIDENT_RIVER_CROSSING, FX_T_2020_07_01);
    add_inc(f->s, "a2", at(200.0, 50.0), BT_INCIDENT_RIVER_CROSSING, FX_T_2020_07_01);
    add_inc(f->s, "a3", at(300.0, 50.0), BT_INCIDENT_RIVER_CROSSING, FX_T_2020_07_01);
    bt_place pl = {0, "Hamlet", "KP", NULL, at(500.0, -900.0)};
    assert_int_equal(bt_place_add(f->s, &pl, NULL), BT_OK);
    bt_lonlat fence[3] = {at(1000.0, 0.0), at(2000.0, 0.0), at(2500.0, 10.0)};
    bt_installation in;
    bt_installation_init(&in);
    in.points = fence;
    in.npoints = 3;
    assert_int_equal(bt_installation_add(f->s, &in, NULL), BT_OK);
    bt_obs_range r = {0, "T", 0.0, 500.0, {FX_T_2020_01_01, BT_TIME_YEAR},
                      BT_OBSERVED_SATELLITE, NULL};
    assert_int_equal(bt_obs_range_add(f->s, &r, NULL), BT_OK);
    for (int which = 0; which < 5; which++) {
        int rc = BT_ERR_NOMEM;
        long n;
        for (n = 1; n < 100000; n++) {
            bt__alloc_fail_after(n);
            if (which == 0) {
                bt_border *b = NULL;
                rc = bt_border_open(f->s, "T", NULL, &b);
                bt_border_free(b);
            } else if (which == 1) {
                bt_coverage *c = NULL;
                rc = bt_border_coverage(f->s, f->b, NULL, &c);
                bt_coverage_free(c);
            } else if (which == 2) {
                bt_profile *p = NULL;
                rc = bt_border_profile(f->s, f->b, NULL, &p);
                bt_profile_free(p);
            } else if (which == 3) {
                bt_clusters *c = NULL;
                rc = bt_incident_clusters(f->s, NULL, &c);
                bt_clusters_free(c);
            } else {
                bt_before_after_opts o;
                bt_before_after_opts_init(&o);
                o.from_m = 500.0;
                o.to_m = 1500.0;
                o.t0 = FX_T_2020_07_01;
                bt_before_after r;
                rc = bt_border_before_after(f->s, f->b, &o, &r);
            }
            bt__alloc_fail_after(0);
            if (rc == BT_OK) break;
            assert_true(rc == BT_ERR_NOMEM || rc == BT_ERR_IO || rc == BT_ERR_INTERNAL);
        }
        assert_int_equal(rc, BT_OK);
        print_message("call %d succeeded after %ld failing allocations\n", which, n - 1);
    }
}
#endif

int main(void)
{
    geod_init(&G, 6378137.0, 1.0 / 298.257223563);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_profile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clusters, setup, teardown),
        cmocka_unit_test(test_dbscan_brute),
#ifdef BT_FAULT_INJECTION
        cmocka_unit_test_setup_teardown(test_alloc_failures, setup, teardown),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
