/**
 * @file test_firstquery.c
 * @brief The first query of a handle (answered from the file's R*Tree with the
 * backend's light rows, lib/query/incidents.c) and the in-memory index answer every
 * query identically: ids, starts, distances, counts per type, for random circles
 * (some across the antimeridian), boxes, polygons, time windows, types,
 * verification states, trust grades, match semantics, orders and limits, on read-only
 * handles: one that answers only first queries (R*Tree when the query qualifies) and
 * one with its index. A count with no filter but the area and no count per type is
 * settled from the R*Tree's boxes; it is checked the same way.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include <sqlite3.h>

#include "index/index.h"
#include "store/sqlite_splite.h"
#include "store_fixture.h"
#include "test_rng.h"

#define N_INC 1500
#define N_SRC 6
#define N_QUERIES 240

struct fx {
    fx_dir dir;
    char path[512];
};

static int pick(uint64_t *s, int n) { return (int)(splitmix_next(s) % (uint64_t)n); }

/* Two clusters: around Hyesan, and across the antimeridian at 65 N. */
static bt_lonlat place(uint64_t *s, int cluster)
{
    if (cluster == 0)
        return (bt_lonlat){FX_HYESAN_LON + splitmix_unif(s, -0.15, 0.15),
                           FX_HYESAN_LAT + splitmix_unif(s, -0.11, 0.11)};
    double lon = splitmix_unif(s, 179.8, 180.2);
    if (lon > 180.0) lon -= 360.0;
    return (bt_lonlat){lon, 65.0 + splitmix_unif(s, -0.09, 0.09)};
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(fx_dir_make(&f->dir), 0);
    fx_file(&f->dir, "firstq.sqlite", f->path, sizeof f->path);
    bt_store *s = NULL;
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READWRITE | BT_OPEN_CREATE, &s, NULL),
                     BT_OK);
    uint64_t seed = 7;
    assert_int_equal(bt_store_begin(s), BT_OK);
    int64_t src[N_SRC];
    char name[32], ref[32];
    for (int k = 0; k < N_SRC; k++) {
        bt_source so = {0};
        snprintf(name, sizeof name, "source %d", k);
        so.name = name;
        so.type = (bt_source_type)0;
        so.reliability = (char)('A' + k);
        assert_int_equal(bt_source_add(s, &so, &src[k]), BT_OK);
    }
    bt_incident inc;
    bt_incident_init(&inc);
    inc.ref = ref;
    for (int i = 0; i < N_INC; i++) {
        snprintf(ref, sizeof ref, "FQ-%d", i);
        inc.where = place(&seed, i % 4 == 3);
        inc.type = (bt_incident_type)pick(&seed, BT_INCIDENT_TYPE_COUNT);
        inc.verification = (bt_verification)pick(&seed, 6);
        /* 0, small (rounded by the index's code), or up to 3 km */
        int u = pick(&seed, 3);
        inc.uncertainty_m = u == 0 ? 0.0 : u == 1 ? splitmix_unif(&seed, 0.0, 50.0) : splitmix_unif(&seed, 0.0, 3000.0);
        /* starts with seconds (rounded in the index), some on whole minutes; some open */
        inc.time_precision = BT_TIME_SECOND;
        inc.start = FX_T_2020_07_01 + (int64_t)splitmix_unif(&seed, 0.0, 400.0 * 86400.0);
        if (pick(&seed, 4) == 0) inc.start -= inc.start % 60;
        inc.end = pick(&seed, 5) == 0 ? BT_TIME_OPEN
                                      : inc.start + (int64_t)splitmix_unif(&seed, 0.0, 20.0 * 86400.0);
        int64_t id;
        assert_int_equal(bt_incident_add(s, &inc, &id), BT_OK);
        int nl = pick(&seed, 3); /* 0..2 reports */
        int first = pick(&seed, N_SRC);
        for (int l = 0; l < nl; l++) {
            bt_report_link lk = {0};
            lk.incident_id = id;
            lk.source_id = src[(first + l) % N_SRC];
            lk.credibility = 1 + pick(&seed, 6);
            assert_int_equal(bt_link_add(s, &lk), BT_OK);
        }
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

/* A random query; ring is the storage of a polygon's vertices. */
static void make_query(uint64_t *s, bt_query *q, bt_lonlat ring[5])
{
    bt_query_init(q);
    int cluster = pick(s, 4) == 3;
    bt_lonlat c = place(s, cluster);
    int kind = pick(s, 6);
    if (kind <= 2) {
        q->area = BT_AREA_CIRCLE;
        q->centre = c;
        q->radius_m = kind == 0 ? 5000.0 : splitmix_unif(s, 0.0, 15000.0);
    } else if (kind <= 4) {
        q->area = BT_AREA_BBOX;
        double w = c.lon - splitmix_unif(s, 0.0, 0.1), e = c.lon + splitmix_unif(s, 0.0, 0.1);
        if (w < -180.0) w += 360.0;
        if (e > 180.0) e -= 360.0;
        q->box = (bt_bbox){w, c.lat - splitmix_unif(s, 0.0, 0.07), e, c.lat + splitmix_unif(s, 0.0, 0.07)};
    } else {
        if (cluster) c.lon = 179.0; /* a polygon does not cross the antimeridian */
        double r = splitmix_unif(s, 0.02, 0.1);
        ring[0] = (bt_lonlat){c.lon - r, c.lat - r};
        ring[1] = (bt_lonlat){c.lon + r, c.lat - 0.5 * r};
        ring[2] = (bt_lonlat){c.lon + 0.5 * r, c.lat + r};
        ring[3] = (bt_lonlat){c.lon - r, c.lat + 0.5 * r};
        ring[4] = ring[0];
        q->area = BT_AREA_POLYGON;
        q->ring = ring;
        q->nring = 5;
    }
    if (pick(s, 2)) { /* a time window with edges inside the index's rounding */
        int64_t a = FX_T_2020_07_01 + (int64_t)splitmix_unif(s, 0.0, 400.0 * 86400.0);
        q->from = a;
        q->to = a + (int64_t)splitmix_unif(s, 0.0, 60.0 * 86400.0);
        if (pick(s, 4) == 0) q->from = INT64_MIN;
        else if (pick(s, 4) == 0) q->to = INT64_MAX;
    }
    if (pick(s, 3) == 0) q->types = (unsigned)(splitmix_next(s) & ((1u << BT_INCIDENT_TYPE_COUNT) - 1));
    if (pick(s, 4) == 0) q->verifications = (unsigned)(splitmix_next(s) & 0x3Fu);
    if (pick(s, 4) == 0) q->min_reliability = (char)('A' + pick(s, 6));
    if (pick(s, 4) == 0) q->min_credibility = 1 + pick(s, 6);
    int m = pick(s, 5);
    q->match = m < 3 ? BT_MATCH_POINT : m == 3 ? BT_MATCH_POSSIBLE : BT_MATCH_CERTAIN;
    int o = pick(s, 4);
    q->order = o == 0 ? BT_ORDER_TIME
               : o == 1 && q->area == BT_AREA_CIRCLE ? BT_ORDER_DISTANCE : BT_ORDER_ID;
    if (q->area == BT_AREA_CIRCLE && pick(s, 2)) q->want_distance = true;
    if (pick(s, 6) == 0) q->limit = 1 + (size_t)pick(s, 20);
}

static bool same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

/* Handle a answers first queries only: its query counter is reset before each, and
 * it never builds its index (the R*Tree path does not). Handle b has its index. */
static void test_first_query_equals_index(void **state)
{
    struct fx *f = *state;
    uint64_t seed = 2024;
    int rtree = 0, rtree_filtered = 0, rtree_hits = 0, rtree_plain = 0, indexed = 0;
    bt_store *a = NULL, *b = NULL;
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READONLY, &a, NULL), BT_OK);
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READONLY, &b, NULL), BT_OK);
    size_t nb = 0;
    assert_int_equal(bt_index_stats(b, NULL, &nb), BT_OK);
    assert_int_equal(nb, N_INC);
    struct bt__index *ia = bt__index_peek(a), *ib = bt__index_peek(b);
    assert_non_null(ia);
    for (int k = 0; k < N_QUERIES; k++) {
        bt_query q;
        bt_lonlat ring[5];
        make_query(&seed, &q, ring);
        /* the R*Tree path takes every circle and box matched by the point */
        bool eligible = (q.area == BT_AREA_CIRCLE || q.area == BT_AREA_BBOX) &&
                        q.match == BT_MATCH_POINT;
        bt_hit *h2 = NULL;
        size_t n2 = 0;
        int64_t t2 = -2, pt2[BT_INCIDENT_TYPE_COUNT];
        assert_int_equal(bt_incident_query_all(b, &q, &h2, &n2), BT_OK);
        assert_int_equal(bt_incident_count(b, &q, &t2, pt2), BT_OK);
        assert_int_equal(ib->builds, 1);
        if (!q.limit) assert_int_equal((int64_t)n2, t2);
        if (!eligible) {
            if (indexed++ % 8 == 0) { /* on a fresh handle, the first query builds */
                bt_store *c = NULL;
                int64_t t = -1;
                assert_int_equal(bt_store_open(f->path, BT_OPEN_READONLY, &c, NULL), BT_OK);
                assert_int_equal(bt_incident_count(c, &q, &t, NULL), BT_OK);
                assert_int_equal(bt__index_peek(c)->builds, 1);
                assert_int_equal(t, t2);
                assert_int_equal(bt_store_close(c), BT_OK);
            }
            bt_hits_free(h2);
            continue;
        }
        bt_hit *h1 = NULL;
        size_t n1 = 0;
        ia->queries = 0;
        assert_int_equal(bt_incident_query_all(a, &q, &h1, &n1), BT_OK);
        int64_t t1 = -1, t0 = -3, pt1[BT_INCIDENT_TYPE_COUNT];
        ia->queries = 0; /* the count is a first query too */
        assert_int_equal(bt_incident_count(a, &q, &t1, pt1), BT_OK);
        /* without the count per type: from the R*Tree's boxes when nothing but the
         * area filters */
        ia->queries = 0;
        assert_int_equal(bt_incident_count(a, &q, &t0, NULL), BT_OK);
        assert_int_equal(ia->builds, 0);
        rtree++;
        rtree_hits += (int)n1;
        if (q.types || q.verifications || q.min_reliability || q.min_credibility ||
            q.from != INT64_MIN || q.to != INT64_MAX)
            rtree_filtered++;
        else
            rtree_plain++;
        assert_int_equal(t0, t2);
        assert_int_equal(t1, t2);
        assert_memory_equal(pt1, pt2, sizeof pt1);
        assert_int_equal(n1, n2);
        for (size_t i = 0; i < n1; i++) {
            assert_int_equal(h1[i].id, h2[i].id);
            assert_int_equal(h1[i].start, h2[i].start);
            assert_true(same_double(h1[i].distance_m, h2[i].distance_m));
        }
        bt_hits_free(h1);
        bt_hits_free(h2);
    }
    assert_int_equal(ia->builds, 0);
    assert_int_equal(bt_store_close(a), BT_OK);
    assert_int_equal(bt_store_close(b), BT_OK);
    print_message("first queries %d (%d filtered, %d area only, %d hits), index only %d\n",
                  rtree, rtree_filtered, rtree_plain, rtree_hits, indexed);
    /* both paths were exercised, with filters, on non-trivial answers */
    assert_true(rtree >= 60);
    assert_true(rtree_filtered >= 30);
    assert_true(rtree_plain >= 10);
    assert_true(rtree_hits >= 3000);
    assert_true(indexed >= 60);
}

/* The distance and start of the first query agree with an independent record read,
 * and a circle's first-query count agrees with geod_inverse over every record. */
static void test_first_query_exact(void **state)
{
    struct fx *f = *state;
    bt_store *s = NULL;
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READONLY, &s, NULL), BT_OK);
    bt_query q;
    bt_query_init(&q);
    q.area = BT_AREA_CIRCLE;
    q.centre = (bt_lonlat){FX_HYESAN_LON, FX_HYESAN_LAT};
    q.radius_m = 7000.0;
    q.want_distance = true;
    bt_hit *h = NULL;
    size_t n = 0;
    assert_int_equal(bt_incident_query_all(s, &q, &h, &n), BT_OK);
    assert_int_equal(bt__index_peek(s)->builds, 0);
    assert_true(n > 100);
    for (size_t i = 0; i < n; i++) {
        bt_incident *inc = NULL;
        assert_int_equal(bt_incident_get(s, h[i].id, &inc), BT_OK);
        double d = bt__geod_dist(bt__geod(s), q.centre, inc->where);
        assert_true(same_double(d, h[i].distance_m));
        assert_true(d <= q.radius_m);
        assert_int_equal(h[i].start, inc->start);
        bt_incident_free(inc);
    }
    /* every record within the radius is among the hits */
    size_t within = 0;
    for (int64_t id = 1; id <= N_INC; id++) {
        bt_incident *inc = NULL;
        assert_int_equal(bt_incident_get(s, id, &inc), BT_OK);
        if (bt__geod_dist(bt__geod(s), q.centre, inc->where) <= q.radius_m) within++;
        bt_incident_free(inc);
    }
    assert_int_equal(within, n);
    bt_hits_free(h);
    assert_int_equal(bt_store_close(s), BT_OK);
}

/* What the count from the R*Tree's boxes rests on: every incident has an entry, and
 * its 32-bit box holds the exact point. */
static void test_rtree_boxes_hold_points(void **state)
{
    struct fx *f = *state;
    bt_store *s = NULL;
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READONLY, &s, NULL), BT_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(bt__sq_of(s)->db,
                                        "SELECT i.lon, i.lat, r.xmin, r.xmax, r.ymin, r.ymax"
                                        " FROM incidents i JOIN idx_incidents_geom r"
                                        " ON r.pkid = i.id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    int n = 0, tight = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        double x = sqlite3_column_double(st, 0), y = sqlite3_column_double(st, 1);
        double x0 = sqlite3_column_double(st, 2), x1 = sqlite3_column_double(st, 3);
        double y0 = sqlite3_column_double(st, 4), y1 = sqlite3_column_double(st, 5);
        assert_true(x0 <= x && x <= x1 && y0 <= y && y <= y1);
        if (x1 - x0 < 1e-4 && y1 - y0 < 1e-4) tight++;
        n++;
    }
    sqlite3_finalize(st);
    assert_int_equal(n, N_INC);
    assert_int_equal(tight, N_INC); /* float32 boxes: about a metre wide */
    assert_int_equal(bt_store_close(s), BT_OK);
}

#ifdef BT_FAULT_INJECTION
/* Every allocation of a first query may fail: the answer is then BT_ERR_NOMEM with a
 * message, or right. */
static void test_first_query_out_of_memory(void **state)
{
    struct fx *f = *state;
    bt_query q;
    bt_query_init(&q);
    q.area = BT_AREA_CIRCLE;
    q.centre = (bt_lonlat){FX_HYESAN_LON, FX_HYESAN_LAT};
    q.radius_m = 9000.0;
    int64_t want = -1;
    bt_store *s = NULL;
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READONLY, &s, NULL), BT_OK);
    assert_int_equal(bt_incident_count(s, &q, &want, NULL), BT_OK);
    assert_true(want > 100);
    assert_int_equal(bt_store_close(s), BT_OK);
    for (int per_type = 0; per_type < 2; per_type++) {
        int failures = 0;
        for (long n = 1; n < 200; n++) {
            assert_int_equal(bt_store_open(f->path, BT_OPEN_READONLY, &s, NULL), BT_OK);
            int64_t got = -1, pt[BT_INCIDENT_TYPE_COUNT];
            bt__alloc_fail_after(n);
            int rc = bt_incident_count(s, &q, &got, per_type ? pt : NULL);
            bt__alloc_fail_after(0);
            if (rc == BT_OK) {
                assert_int_equal(got, want);
                assert_int_equal(bt__index_peek(s)->builds, 0);
            } else {
                assert_int_equal(rc, BT_ERR_NOMEM);
                assert_true(bt_store_errmsg(s)[0] != '\0');
                failures++;
            }
            assert_int_equal(bt_store_close(s), BT_OK);
            if (rc == BT_OK) break;
        }
        assert_true(failures >= 1);
    }
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_query_equals_index),
        cmocka_unit_test(test_first_query_exact),
        cmocka_unit_test(test_rtree_boxes_hold_points),
#ifdef BT_FAULT_INJECTION
        cmocka_unit_test(test_first_query_out_of_memory),
#endif
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
