/**
 * @file test_query.c
 * @brief The query API against independent brute-force answers: geodesic distances
 * from geodesic.h's geod_inverse called here, a ray-casting point-in-polygon written
 * here, plain box and interval tests, and SpatiaLite's own SQL on the same file.
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

#include "index/index.h"
#include "query/query_internal.h"
#include "store/sqlite_internal.h"
#include "store_fixture.h"
#include "test_rng.h"

/* ---- deterministic random numbers (splitmix64) ------------------------------- */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnext(rng *r) { return splitmix_next(&r->s); }

static double runif(rng *r, double a, double b) { return splitmix_unif(&r->s, a, b); }

/* ---- the reference ------------------------------------------------------------ */

struct refpt {
    int64_t id;
    double lon, lat;
    int64_t start, end;
    int type;
    int verif;
    double u;
    int rel, cred; /* best codes, 0 none */
    bool live;
};

static struct geod_geodesic G;

static double gdist(double lon1, double lat1, double lon2, double lat2)
{
    double s12;
    geod_inverse(&G, lat1, lon1, lat2, lon2, &s12, NULL, NULL);
    return s12;
}

/* Ray casting, planar lon/lat. */
static bool pip(const bt_lonlat *ring, size_t n, double x, double y)
{
    bool in = false;
    for (size_t i = 0, j = n - 1; i < n; j = i++) {
        double xi = ring[i].lon, yi = ring[i].lat, xj = ring[j].lon, yj = ring[j].lat;
        if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) in = !in;
    }
    return in;
}

static bool ref_match(const struct refpt *p, const bt_query *q)
{
    if (!p->live) return false;
    if (q->types && !(q->types & (1u << p->type))) return false;
    if (q->verifications && !(q->verifications & (1u << p->verif))) return false;
    if (q->min_reliability && (p->rel == 0 || p->rel > q->min_reliability - 'A' + 1))
        return false;
    if (q->min_credibility && (p->cred == 0 || p->cred > q->min_credibility)) return false;
    if (!(p->start <= q->to && p->end >= q->from)) return false;
    switch (q->area) {
    case BT_AREA_CIRCLE: {
        /* cheap exclusion: the latitude difference alone bounds the distance below */
        if (fabs(p->lat - q->centre.lat) * 3.14159265358979323846 / 180.0 * 6335439.0 >
            q->radius_m + 100.0 + (q->match == BT_MATCH_POSSIBLE ? p->u : 0.0))
            return false;
        double d = gdist(q->centre.lon, q->centre.lat, p->lon, p->lat);
        if (q->match == BT_MATCH_POSSIBLE) return d <= q->radius_m + p->u;
        if (q->match == BT_MATCH_CERTAIN) return d + p->u <= q->radius_m;
        return d <= q->radius_m;
    }
    case BT_AREA_BBOX:
        if (p->lat < q->box.south || p->lat > q->box.north) return false;
        if (q->box.west <= q->box.east) return p->lon >= q->box.west && p->lon <= q->box.east;
        return p->lon >= q->box.west || p->lon <= q->box.east;
    case BT_AREA_POLYGON:
        return pip(q->ring, q->nring, p->lon, p->lat);
    default:
        return true;
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Compares the query's ids with the reference's; returns the number of hits. */
static size_t check_query(bt_store *s, const struct refpt *pts, size_t n, const bt_query *q)
{
    int64_t *want = malloc((n ? n : 1) * sizeof *want);
    size_t nw = 0;
    int64_t per_type[BT_INCIDENT_TYPE_COUNT] = {0};
    for (size_t i = 0; i < n; i++)
        if (ref_match(&pts[i], q)) {
            want[nw++] = pts[i].id;
            per_type[pts[i].type]++;
        }
    qsort(want, nw, sizeof *want, cmp_i64);
    bt_hit *hits = NULL;
    size_t nh = 0;
    int rc = bt_incident_query_all(s, q, &hits, &nh);
    if (rc) fprintf(stderr, "query failed: %s\n", bt_store_errmsg(s));
    assert_int_equal(rc, BT_OK);
    if (nh != nw)
        fprintf(stderr, "area %d centre (%.6f, %.6f) r %.3f box (%g %g %g %g) match %d: %zu vs %zu\n",
                (int)q->area, q->centre.lon, q->centre.lat, q->radius_m, q->box.west,
                q->box.south, q->box.east, q->box.north, (int)q->match, nh, nw);
    assert_int_equal(nh, nw);
    for (size_t i = 0; i < nh; i++) {
        if (hits[i].id != want[i]) fprintf(stderr, "hit %zu: %lld vs %lld\n", i,
                                           (long long)hits[i].id, (long long)want[i]);
        assert_true(hits[i].id == want[i]);
    }
    int64_t total = -1, pt[BT_INCIDENT_TYPE_COUNT];
    assert_int_equal(bt_incident_count(s, q, &total, pt), BT_OK);
    assert_true(total == (int64_t)nw);
    for (int t = 0; t < BT_INCIDENT_TYPE_COUNT; t++) assert_true(pt[t] == per_type[t]);
    bt_hits_free(hits);
    free(want);
    return nw;
}

/* kNN against sorting every distance. */
static void check_nearest(bt_store *s, const struct refpt *pts, size_t n, bt_lonlat at,
                          size_t k, const bt_query *filter)
{
    struct kd {
        double d;
        int64_t id;
    } *all = malloc((n ? n : 1) * sizeof *all);
    size_t m = 0;
    bt_query none;
    bt_query_init(&none);
    for (size_t i = 0; i < n; i++) {
        if (!ref_match(&pts[i], filter ? filter : &none)) continue;
        all[m].d = gdist(at.lon, at.lat, pts[i].lon, pts[i].lat);
        all[m].id = pts[i].id;
        m++;
    }
    /* insertion of the k smallest by (d, id) */
    size_t want = m < k ? m : k;
    for (size_t i = 0; i < want; i++) {
        size_t b = i;
        for (size_t j = i + 1; j < m; j++)
            if (all[j].d < all[b].d || (all[j].d == all[b].d && all[j].id < all[b].id)) b = j;
        struct kd t = all[i];
        all[i] = all[b];
        all[b] = t;
    }
    bt_hit *hits = NULL;
    size_t nh = 0;
    assert_int_equal(bt_incident_nearest(s, at, k, filter, &hits, &nh), BT_OK);
    assert_int_equal(nh, want);
    for (size_t i = 0; i < nh; i++) {
        assert_true(hits[i].id == all[i].id);
        assert_true(hits[i].distance_m == all[i].d);
    }
    bt_hits_free(hits);
    free(all);
}

/* A store in a fixture directory whose incident index is built directly from
 * reference points (SQLite would only add time): direct_open(), direct_push() of each
 * point, direct_ready(), queries, direct_close(). */
struct direct {
    fx_dir d;
    bt_store *s;
    struct bt__index *ix;
};

static void direct_open(struct direct *t, const char *name)
{
    geod_init(&G, 6378137.0, 1.0 / 298.257223563);
    assert_int_equal(fx_dir_make(&t->d), 0);
    char path[512];
    t->s = NULL;
    assert_int_equal(bt_store_open(fx_file(&t->d, name, path, sizeof path),
                                   BT_OPEN_READWRITE | BT_OPEN_CREATE, &t->s, NULL),
                     BT_OK);
    t->ix = calloc(1, sizeof *t->ix);
    assert_non_null(t->ix);
    bt__index_load_begin(t->ix);
}

static void direct_push(struct direct *t, const struct refpt *x)
{
    struct bt__index_row row = {x->id,   x->lon,  x->lat,   x->start, x->end,
                                x->u,    x->type, x->verif, x->rel,   x->cred};
    assert_int_equal(bt__pts_push(&t->ix->st, &row), BT_OK);
}

/* Builds the k-d tree and its time bounds and hands the index to the store, current. */
static void direct_ready(struct direct *t)
{
    struct bt__index *ix = t->ix;
    assert_int_equal(bt__kd_build(&ix->st, ix->leaf), BT_OK);
    assert_int_equal(bt__index_static_changed(ix), BT_OK); /* the time bounds */
    assert_int_equal(t->s->be->data_version(t->s, &ix->data_version), BT_OK);
    ix->valid = true;
    ix->watching = true;
    t->s->index = ix;
}

static void direct_close(struct direct *t)
{
    bt_store_close(t->s); /* frees the index too */
    fx_dir_remove(&t->d);
}

/* k nearest where many points share a position (so whole leaves tie) and some are
 * deleted or moved: the order is (distance, id) exactly, however the k-d leaves hand
 * their points out (a few at a time, lib/query/incidents.c take_leaf). */
static void test_nearest_tied_leaves(void **state)
{
    (void)state;
    struct direct t;
    direct_open(&t, "ties.sqlite");
    bt_store *s = t.s;
    struct bt__index *ix = t.ix;
    static const bt_lonlat site[] = {{128.1, 41.4}, {128.1, 41.4001}, {128.2, 41.4},
                                     {128.0, 41.3}, {128.1, 41.5}, {127.9, 41.4},
                                     {128.10001, 41.4}};
    const size_t nsite = sizeof site / sizeof site[0];
    const size_t n = 3000;
    struct refpt *pts = calloc(n, sizeof *pts);
    rng r = {4242};
    for (size_t i = 0; i < n; i++) {
        bt_lonlat p = i % 3 ? site[rnext(&r) % nsite]
                            : (bt_lonlat){runif(&r, 127.8, 128.4), runif(&r, 41.2, 41.6)};
        struct refpt *x = &pts[i];
        x->id = (int64_t)i + 1;
        x->lon = p.lon;
        x->lat = p.lat;
        x->start = INT64_C(1546300800) + 60 * (int64_t)(rnext(&r) % 1440u);
        x->end = x->start + 59;
        x->type = (int)(rnext(&r) % BT_INCIDENT_TYPE_COUNT);
        x->verif = (int)(rnext(&r) % 6);
        x->live = true;
        direct_push(&t, x);
    }
    direct_ready(&t);
    static const size_t ks[] = {1, 2, 3, 47, 48, 49, 50, 97, 300, 1200};
    for (int round = 0; round < 2; round++) {
        for (size_t j = 0; j < nsite + 3; j++) {
            bt_lonlat at = j < nsite ? site[j] : (bt_lonlat){runif(&r, 127.9, 128.3),
                                                             runif(&r, 41.3, 41.5)};
            for (size_t q = 0; q < sizeof ks / sizeof ks[0]; q++) {
                check_nearest(s, pts, n, at, ks[q], NULL);
                bt_query f;
                bt_query_init(&f);
                f.types = (unsigned)(rnext(&r) & 0xFFFu) | 1u;
                check_nearest(s, pts, n, at, ks[q], &f);
            }
        }
        /* deletes (shadowed static points) and moves onto the sites (the overlay) */
        for (size_t i = 0; i < 400; i++) {
            size_t j = rnext(&r) % n;
            if (rnext(&r) % 2) {
                pts[j].live = false;
                assert_int_equal(bt__index_apply(ix, pts[j].id, NULL), BT_OK);
            } else {
                bt_lonlat p = site[rnext(&r) % nsite];
                pts[j].lon = p.lon;
                pts[j].lat = p.lat;
                pts[j].live = true;
                struct bt__index_row row = {pts[j].id, p.lon, p.lat, pts[j].start, pts[j].end,
                                            0.0, pts[j].type, pts[j].verif, 0, 0};
                assert_int_equal(bt__index_apply(ix, pts[j].id, &row), BT_OK);
            }
        }
    }
    direct_close(&t);
    free(pts);
}

/* k nearest with a filter that rejects nearly every point: a leaf hands its points out
 * a few at a time, and when the filter rejects them it must hand out more each time,
 * not scan the whole leaf again for every point (the work was the square of a leaf's
 * size for each leaf the search passed). The answers are checked exactly, and the
 * leaf points whose keys were computed (bt__index::knn_keys) are bounded: each leaf
 * at most about ten times its size. */
static void test_nearest_rejecting_filter(void **state)
{
    (void)state;
    struct direct t;
    direct_open(&t, "rej.sqlite");
    bt_store *s = t.s;
    struct bt__index *ix = t.ix;
    const size_t n = 6000;
    struct refpt *pts = calloc(n, sizeof *pts);
    rng r = {777};
    for (size_t i = 0; i < n; i++) {
        struct refpt *x = &pts[i];
        x->id = (int64_t)i + 1;
        /* type 1 only at the four corners' few points */
        bool corner = i < 4;
        x->lon = corner ? (i & 1 ? 128.4 : 127.8) : runif(&r, 127.8, 128.4);
        x->lat = corner ? (i & 2 ? 41.6 : 41.2) : runif(&r, 41.2, 41.6);
        x->start = INT64_C(1546300800) + 60 * (int64_t)(rnext(&r) % 1440u);
        x->end = x->start + 59;
        x->type = corner ? 1 : 0;
        x->live = true;
        direct_push(&t, x);
    }
    direct_ready(&t);
    bt_query f;
    bt_query_init(&f);
    f.types = 1u << 1;
    static const size_t ks[] = {1, 3, 10};
    for (size_t j = 0; j < 6; j++) {
        bt_lonlat at = {runif(&r, 128.0, 128.2), runif(&r, 41.35, 41.45)};
        for (size_t q = 0; q < sizeof ks / sizeof ks[0]; q++) {
            unsigned long keys = ix->knn_keys;
            check_nearest(s, pts, n, at, ks[q], &f);
            assert_true(ix->knn_keys - keys <= 12 * n);
        }
    }
    direct_close(&t);
    free(pts);
}

/* ---- random data and queries ------------------------------------------------------ */

static const bt_lonlat HOT[] = {
    {128.17778, 41.40167}, /* Hyesan */
    {124.39, 40.10},       /* Sinuiju */
    {179.9999, 0.5},       /* antimeridian */
    {-179.9999, -12.0},
    {10.0, 89.9995},       /* near the north pole */
    {-70.0, -89.9},        /* near the south pole */
    {0.0, 0.0},
};
#define NHOT (sizeof HOT / sizeof HOT[0])

static bt_lonlat random_point(rng *r)
{
    uint64_t k = rnext(r) % 10;
    bt_lonlat p;
    if (k < 4) { /* the border region */
        p.lon = runif(r, 124.0, 131.0);
        p.lat = runif(r, 39.8, 43.0);
    } else if (k < 7) { /* near a hot spot, at every scale */
        bt_lonlat h = HOT[rnext(r) % NHOT];
        double scale = pow(10.0, runif(r, -6.0, 0.5));
        p.lon = h.lon + runif(r, -scale, scale);
        p.lat = h.lat + runif(r, -scale, scale);
        if (p.lon > 180.0) p.lon -= 360.0;
        if (p.lon < -180.0) p.lon += 360.0;
        if (p.lat > 90.0) p.lat = 180.0 - p.lat;
        if (p.lat < -90.0) p.lat = -180.0 - p.lat;
    } else { /* anywhere, uniform on the sphere */
        p.lon = runif(r, -180.0, 180.0);
        p.lat = asin(runif(r, -1.0, 1.0)) * 180.0 / 3.14159265358979323846;
    }
    return p;
}

static bt_query random_circle(rng *r, const struct refpt *pts, size_t n)
{
    static const double radii[] = {1.0, 10.0, 250.0, 1000.0, 5000.0, 25000.0, 300000.0, 2.0e6};
    bt_query q;
    bt_query_init(&q);
    q.area = BT_AREA_CIRCLE;
    uint64_t k = rnext(r) % 3;
    if (k == 0) {
        q.centre = HOT[rnext(r) % NHOT];
    } else if (k == 1 && n) { /* on a data point: tiny radii get hits */
        const struct refpt *p = &pts[rnext(r) % n];
        q.centre.lon = p->lon;
        q.centre.lat = p->lat;
    } else {
        q.centre = random_point(r);
    }
    q.radius_m = radii[rnext(r) % (sizeof radii / sizeof radii[0])] * runif(r, 0.5, 1.5);
    return q;
}

static bt_query random_box(rng *r)
{
    bt_query q;
    bt_query_init(&q);
    q.area = BT_AREA_BBOX;
    bt_lonlat c = random_point(r);
    double w = pow(10.0, runif(r, -4.0, 1.5)), h = pow(10.0, runif(r, -4.0, 1.2));
    q.box.west = c.lon - w;
    q.box.east = c.lon + w;
    if (q.box.west < -180.0) q.box.west += 360.0; /* crosses the antimeridian */
    if (q.box.east > 180.0) q.box.east -= 360.0;
    q.box.south = fmax(-90.0, c.lat - h);
    q.box.north = fmin(90.0, c.lat + h);
    return q;
}

/* A star-shaped polygon (simple by construction) around a point of the border. */
static void random_polygon(rng *r, bt_query *q, bt_lonlat *ring, size_t nv)
{
    bt_query_init(q);
    q->area = BT_AREA_POLYGON;
    bt_lonlat c = {runif(r, 124.5, 130.5), runif(r, 40.0, 42.8)};
    double scale = pow(10.0, runif(r, -2.5, 0.0));
    for (size_t i = 0; i < nv; i++) {
        double a = 2.0 * 3.14159265358979323846 * ((double)i + runif(r, 0.0, 0.9)) / (double)nv;
        double rad = scale * runif(r, 0.2, 1.0);
        ring[i].lon = c.lon + rad * cos(a);
        ring[i].lat = c.lat + rad * sin(a);
    }
    q->ring = ring;
    q->nring = nv;
}

static void random_filters(rng *r, bt_query *q)
{
    if (rnext(r) % 3 == 0) {
        int64_t a = INT64_C(1546300800) + (int64_t)(rnext(r) % (6u * 365u * 86400u));
        q->from = a;
        q->to = a + (int64_t)(rnext(r) % (200u * 86400u));
    }
    if (rnext(r) % 4 == 0) q->types = (unsigned)(rnext(r) & 0xFFFu);
}

/* ---- the large differential test: 100,000 points, index built directly ------------ */

static void test_differential_100k(void **state)
{
    (void)state;
    struct direct t;
    direct_open(&t, "big.sqlite");
    bt_store *s = t.s;
    struct bt__index *ix = t.ix;

    /* 100,000 points put straight into an index: SQLite would only add time here; the
     * store path is tested below with fewer points. Times are whole minutes (what the
     * index holds exactly; other times are tested through the store). */
    const size_t n = 100000;
    struct refpt *pts = calloc(n, sizeof *pts);
    rng r = {42};
    for (size_t i = 0; i < n; i++) {
        bt_lonlat p = random_point(&r);
        struct refpt *x = &pts[i];
        x->id = (int64_t)i + 1;
        x->lon = p.lon;
        x->lat = p.lat;
        x->start = INT64_C(1546300800) + 60 * (int64_t)(rnext(&r) % (6u * 365u * 1440u));
        x->end = rnext(&r) % 10 == 0 ? BT_TIME_OPEN : x->start + 60 * (int64_t)(1u + rnext(&r) % 100000u) - 1;
        x->type = (int)(rnext(&r) % BT_INCIDENT_TYPE_COUNT);
        x->verif = (int)(rnext(&r) % 6);
        x->live = true;
        direct_push(&t, x);
    }
    direct_ready(&t);

    size_t total_hits = 0;
    for (int i = 0; i < 60; i++) {
        bt_query q = random_circle(&r, pts, n);
        random_filters(&r, &q);
        total_hits += check_query(s, pts, n, &q);
    }
    for (int i = 0; i < 30; i++) {
        bt_query q = random_box(&r);
        random_filters(&r, &q);
        total_hits += check_query(s, pts, n, &q);
    }
    for (int i = 0; i < 15; i++) {
        bt_lonlat ring[24];
        bt_query q;
        random_polygon(&r, &q, ring, 3 + (size_t)(rnext(&r) % 20));
        random_filters(&r, &q);
        total_hits += check_query(s, pts, n, &q);
    }
    /* circles straddling the border line near Hyesan (the Yalu at 128.17E) */
    for (int i = 0; i < 5; i++) {
        bt_query q;
        bt_query_init(&q);
        q.area = BT_AREA_CIRCLE;
        q.centre = (bt_lonlat){128.17778 + runif(&r, -0.01, 0.01), 41.40167 + runif(&r, -0.01, 0.01)};
        q.radius_m = runif(&r, 2000.0, 30000.0);
        total_hits += check_query(s, pts, n, &q);
    }
    assert_true(total_hits > 50000); /* the queries are not all empty */

    /* deletes and updates through the overlay, then a repack */
    for (size_t i = 0; i < 3000; i++) {
        size_t j = rnext(&r) % n;
        if (rnext(&r) % 2) {
            pts[j].live = false;
            assert_int_equal(bt__index_apply(ix, pts[j].id, NULL), BT_OK);
        } else {
            bt_lonlat p = random_point(&r);
            pts[j].lon = p.lon;
            pts[j].lat = p.lat;
            pts[j].live = true;
            struct bt__index_row row = {pts[j].id, p.lon, p.lat, pts[j].start, pts[j].end, 0.0,
                                        pts[j].type, pts[j].verif, 0, 0};
            assert_int_equal(bt__index_apply(ix, pts[j].id, &row), BT_OK);
        }
    }
    for (int i = 0; i < 10; i++) {
        bt_query q = random_circle(&r, pts, n);
        check_query(s, pts, n, &q);
        q = random_box(&r);
        check_query(s, pts, n, &q);
    }
    for (int i = 0; i < 3; i++) check_nearest(s, pts, n, HOT[i], 10, NULL);
    assert_int_equal(bt__index_repack(ix), BT_OK);
    assert_int_equal(ix->ov.n, 0);
    for (int i = 0; i < 10; i++) {
        bt_query q = random_circle(&r, pts, n);
        check_query(s, pts, n, &q);
    }
    for (size_t i = 3; i < NHOT; i++) check_nearest(s, pts, n, HOT[i], 10, NULL);
    {
        bt_query f;
        bt_query_init(&f);
        f.types = 1u << BT_INCIDENT_SHOOTING;
        f.from = INT64_C(1577836800);
        f.to = INT64_C(1609459199);
        check_nearest(s, pts, n, HOT[0], 25, &f);
        check_nearest(s, pts, n, (bt_lonlat){-179.99995, 0.5}, 7, &f);
    }

    direct_close(&t);
    free(pts);
}

/* ---- time windows and k nearest against brute force (index built directly) -------- */

/* Many random windows over 100,000 points whose intervals are mostly short (so that
 * the leaves' start order and longest durations cut, lib/index/kdtree.c), with a few
 * open and very long ones (clamped starts: tests/test_index.c); every answer against the reference scan. Then
 * k nearest from many points, with and without filters. */
static void test_windows_and_nearest_100k(void **state)
{
    (void)state;
    struct direct t;
    direct_open(&t, "win.sqlite");
    bt_store *s = t.s;
    struct bt__index *ix = t.ix;
    const size_t n = 100000;
    const int64_t t0 = INT64_C(1546300800); /* 2019-01-01 */
    struct refpt *pts = calloc(n, sizeof *pts);
    rng r = {77};
    for (size_t i = 0; i < n; i++) {
        bt_lonlat p = rnext(&r) % 4 ? (bt_lonlat){runif(&r, 124.0, 131.0), runif(&r, 39.8, 43.0)}
                                    : random_point(&r);
        struct refpt *x = &pts[i];
        x->id = (int64_t)i + 1;
        x->lon = p.lon;
        x->lat = p.lat;
        x->start = t0 + 60 * (int64_t)(rnext(&r) % (6u * 365u * 1440u));
        uint64_t k = rnext(&r) % 1000;
        if (k == 0)
            x->end = BT_TIME_OPEN;
        else if (k == 1) /* years */
            x->end = x->start + 60 * (int64_t)(rnext(&r) % (4u * 365u * 1440u)) + 59;
        else if (k == 2) /* from long before (times held exactly: no record to read) */
            x->start = -60 * (int64_t)(rnext(&r) % (2000u * 365u * 1440u));
        if (k == 2) x->end = t0 + 60 * (int64_t)(rnext(&r) % (6u * 365u * 1440u)) - 1;
        else
            x->end = x->start + 60 * (int64_t)(rnext(&r) % (30u * 1440u)) + 59;
        x->type = (int)(rnext(&r) % BT_INCIDENT_TYPE_COUNT);
        x->verif = (int)(rnext(&r) % 6);
        x->live = true;
        direct_push(&t, x);
    }
    direct_ready(&t);
    assert_true(bt__kd_leaves_sorted(&ix->st, ix->leaf));

    size_t total_hits = 0;
    for (int i = 0; i < 400; i++) {
        bt_query q;
        switch (i % 4) {
        case 0: bt_query_init(&q); break; /* the whole world */
        case 1: q = random_box(&r); break;
        default: q = random_circle(&r, pts, n); break;
        }
        /* windows of one second to three years, on and off minute boundaries,
         * half-open, before and after all data */
        int64_t a = t0 - 30 * 86400 + (int64_t)(rnext(&r) % (7u * 365u * 86400u));
        if (i % 3 == 0) a -= a % 60;
        int64_t len = (int64_t[]){0, 1, 59, 60, 3600, 86400 * 7, 86400 * 90,
                                  86400 * 1000}[rnext(&r) % 8];
        q.from = a;
        q.to = a + len;
        if (i % 50 == 7) q.from = INT64_MIN;
        if (i % 50 == 8) q.to = INT64_MAX;
        if (i % 50 == 9) q.from = q.to = -(INT64_C(1) << 40); /* before everything */
        if (i % 50 == 10) q.from = q.to = INT64_C(1) << 40;
        if (i % 5 == 0) q.types = (unsigned)(rnext(&r) & 0xFFFu);
        total_hits += check_query(s, pts, n, &q);
    }
    assert_true(total_hits > 20000);

    /* k nearest, exact order and distances */
    for (int i = 0; i < 60; i++) {
        bt_lonlat at = i % 3 ? random_point(&r)
                             : (bt_lonlat){pts[rnext(&r) % n].lon, pts[rnext(&r) % n].lat};
        size_t k = (size_t[]){1, 2, 10, 10, 37, 200}[rnext(&r) % 6];
        if (i % 4 == 3) {
            bt_query f;
            bt_query_init(&f);
            f.from = t0 + (int64_t)(rnext(&r) % (6u * 365u * 86400u));
            f.to = f.from + 86400 * 30;
            if (i % 8 == 3) f.types = 1u << (rnext(&r) % BT_INCIDENT_TYPE_COUNT);
            check_nearest(s, pts, n, at, k, &f);
        } else {
            check_nearest(s, pts, n, at, k, NULL);
        }
    }
    direct_close(&t);
    free(pts);
}

/* ---- through the store: uncertainty, rounded times, trust, writes ------------------ */

struct store_fx {
    fx_dir d;
    char path[512];
    bt_store *s;
    struct refpt *pts;
    size_t n;
    int64_t src[6]; /* sources graded A..F */
};

static void add_random_incident(struct store_fx *f, rng *r, size_t i, bool in_txn_ok)
{
    (void)in_txn_ok;
    struct refpt *x = &f->pts[i];
    bt_lonlat p = random_point(r);
    if (rnext(r) % 2) { /* many near Hyesan, so circles there have work to do */
        p.lon = 128.17778 + runif(r, -0.3, 0.3);
        p.lat = 41.40167 + runif(r, -0.2, 0.2);
    }
    char ref[32];
    snprintf(ref, sizeof ref, "T-%zu", i);
    bt_incident inc;
    bt_incident_init(&inc);
    inc.ref = ref;
    inc.where = p;
    inc.type = (bt_incident_type)(rnext(r) % BT_INCIDENT_TYPE_COUNT);
    inc.verification = (bt_verification)(rnext(r) % 6);
    inc.uncertainty_m = rnext(r) % 4 == 0 ? 0.0 : runif(r, 0.0, 5000.0);
    /* seconds that are not whole minutes, so the rounded interval must be resolved */
    inc.start = INT64_C(1546300800) + (int64_t)(rnext(r) % (6u * 365u * 86400u));
    inc.end = rnext(r) % 8 == 0 ? BT_TIME_OPEN : inc.start + (int64_t)(rnext(r) % (90u * 86400u));
    inc.time_precision = BT_TIME_SECOND;
    int64_t id = 0;
    assert_int_equal(bt_incident_add(f->s, &inc, &id), BT_OK);
    x->id = id;
    x->lon = p.lon;
    x->lat = p.lat;
    x->start = inc.start;
    x->end = inc.end;
    x->type = (int)inc.type;
    x->verif = (int)inc.verification;
    x->u = inc.uncertainty_m;
    x->live = true;
    x->rel = x->cred = 0;
    int nlinks = (int)(rnext(r) % 3);
    for (int k = 0; k < nlinks; k++) {
        int g = (int)(rnext(r) % 6);
        bt_report_link l = {0};
        l.incident_id = id;
        l.source_id = f->src[g];
        l.credibility = 1 + (int)(rnext(r) % 6);
        if (bt_link_add(f->s, &l) != BT_OK) continue; /* same pair twice */
        if (x->rel == 0 || g + 1 < x->rel) x->rel = g + 1;
        if (x->cred == 0 || l.credibility < x->cred) x->cred = l.credibility;
    }
}

static void store_fx_open(struct store_fx *f, size_t n, uint64_t seed)
{
    memset(f, 0, sizeof *f);
    geod_init(&G, 6378137.0, 1.0 / 298.257223563);
    assert_int_equal(fx_dir_make(&f->d), 0);
    assert_int_equal(bt_store_open(fx_file(&f->d, "q.sqlite", f->path, sizeof f->path),
                                   BT_OPEN_READWRITE | BT_OPEN_CREATE, &f->s, NULL),
                     BT_OK);
    for (int g = 0; g < 6; g++) {
        char name[32];
        snprintf(name, sizeof name, "source %c", 'A' + g);
        bt_source src = {0};
        src.name = name;
        src.type = BT_SOURCE_HUMAN;
        src.reliability = (char)('A' + g);
        assert_int_equal(bt_source_add(f->s, &src, &f->src[g]), BT_OK);
    }
    f->pts = calloc(n + 1000, sizeof *f->pts);
    f->n = n;
    rng r = {seed};
    assert_int_equal(bt_store_begin(f->s), BT_OK);
    for (size_t i = 0; i < n; i++) add_random_incident(f, &r, i, true);
    assert_int_equal(bt_store_commit(f->s), BT_OK);
}

static void store_fx_close(struct store_fx *f)
{
    bt__index_free(f->s);
    bt_store_close(f->s);
    free(f->pts);
    fx_dir_remove(&f->d);
}

static void random_store_queries(struct store_fx *f, rng *r, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        bt_query q = random_circle(r, f->pts, f->n);
        if (i % 2) {
            q.centre = (bt_lonlat){128.17778 + runif(r, -0.2, 0.2), 41.40167 + runif(r, -0.1, 0.1)};
            q.radius_m = runif(r, 100.0, 20000.0);
        }
        q.match = (bt_match)(rnext(r) % 3);
        random_filters(r, &q);
        if (rnext(r) % 3 == 0) q.min_reliability = (char)('A' + rnext(r) % 6);
        if (rnext(r) % 3 == 0) q.min_credibility = 1 + (int)(rnext(r) % 6);
        if (rnext(r) % 4 == 0) q.verifications = (unsigned)(rnext(r) % 64);
        check_query(f->s, f->pts, f->n, &q);
        bt_query b = random_box(r);
        random_filters(r, &b);
        check_query(f->s, f->pts, f->n, &b);
    }
}

static void test_store_differential(void **state)
{
    (void)state;
    struct store_fx f;
    store_fx_open(&f, 3000, 7);
    rng r = {99};
    /* the handle's first query is answered from the file's R*Tree, the next ones from
     * the index: check_query() asks both (list, then count) */
    {
        bt_query q;
        bt_query_init(&q);
        q.area = BT_AREA_CIRCLE;
        q.centre = (bt_lonlat){FX_HYESAN_LON, FX_HYESAN_LAT};
        q.radius_m = 12000.0;
        q.from = INT64_C(1577836800);
        q.to = INT64_C(1609459199);
        assert_true(check_query(f.s, f.pts, f.n, &q) > 10);
        assert_true(f.s->index != NULL && f.s->index->builds == 1);
    }
    random_store_queries(&f, &r, 40);
    check_nearest(f.s, f.pts, f.n, HOT[0], 10, NULL);
    {
        bt_query fl;
        bt_query_init(&fl);
        fl.min_reliability = 'B';
        fl.from = INT64_C(1577836800);
        fl.order = BT_ORDER_DISTANCE; /* ignored by nearest, even without a circle */
        fl.limit = 3;
        check_nearest(f.s, f.pts, f.n, HOT[0], 15, &fl);
    }

    /* writes through the API: the index follows without any rebuild */
    struct bt__index *ix = f.s->index;
    size_t builds = ix->builds;
    for (int i = 0; i < 200; i++) {
        size_t j = rnext(&r) % f.n;
        if (!f.pts[j].live) continue;
        if (i % 3 == 0) {
            assert_int_equal(bt_incident_delete(f.s, f.pts[j].id), BT_OK);
            f.pts[j].live = false;
        } else if (i % 3 == 1) {
            bt_incident *inc = NULL;
            assert_int_equal(bt_incident_get(f.s, f.pts[j].id, &inc), BT_OK);
            bt_incident upd = *inc;
            upd.where.lon = 128.17778 + runif(&r, -0.1, 0.1);
            upd.where.lat = 41.40167 + runif(&r, -0.1, 0.1);
            upd.type = BT_INCIDENT_SHOOTING;
            assert_int_equal(bt_incident_update(f.s, &upd), BT_OK);
            f.pts[j].lon = upd.where.lon;
            f.pts[j].lat = upd.where.lat;
            f.pts[j].type = BT_INCIDENT_SHOOTING;
            bt_incident_free(inc);
        } else {
            /* a new link changes the incident's best grades */
            bt_report_link l = {0};
            l.incident_id = f.pts[j].id;
            l.source_id = f.src[0];
            l.credibility = 1;
            if (bt_link_add(f.s, &l) == BT_OK) {
                f.pts[j].rel = 1;
                f.pts[j].cred = 1;
            }
        }
    }
    for (size_t i = 0; i < 300; i++) add_random_incident(&f, &r, f.n + i, false);
    f.n += 300;
    random_store_queries(&f, &r, 20);
    assert_true(ix == f.s->index);
    assert_int_equal(ix->builds, builds); /* applied row by row */

    /* a rolled-back transaction leaves no trace, even after a query inside it */
    assert_int_equal(bt_store_begin(f.s), BT_OK);
    struct store_fx g = f;
    g.pts = malloc((f.n + 10) * sizeof *g.pts);
    memcpy(g.pts, f.pts, f.n * sizeof *g.pts);
    for (size_t i = 0; i < 10; i++) add_random_incident(&g, &r, g.n + i, true);
    g.n += 10;
    for (size_t i = 0; i < 20; i++) {
        size_t j = rnext(&r) % f.n;
        if (g.pts[j].live && bt_incident_delete(f.s, g.pts[j].id) == BT_OK) g.pts[j].live = false;
    }
    random_store_queries(&g, &r, 5); /* inside: sees the transaction's writes */
    assert_int_equal(bt_store_rollback(f.s), BT_OK);
    free(g.pts);
    random_store_queries(&f, &r, 10); /* after: sees the state before it */

    /* another connection writes: the data version changes and the index is rebuilt */
    bt_store *other = NULL;
    assert_int_equal(bt_store_open(f.path, BT_OPEN_READWRITE, &other, NULL), BT_OK);
    {
        bt_store *mine = f.s;
        f.s = other;
        for (size_t i = 0; i < 5; i++) add_random_incident(&f, &r, f.n + i, false);
        f.n += 5;
        assert_int_equal(bt_incident_delete(other, f.pts[0].id) == BT_OK ||
                             !f.pts[0].live, 1);
        f.pts[0].live = false;
        bt__index_free(other);
        bt_store_close(other);
        f.s = mine;
    }
    random_store_queries(&f, &r, 10);
    assert_true(f.s->index->builds > builds);

    store_fx_close(&f);
}

/* ---- the persisted index (lib/index/persist.c) ------------------------------------ */

static void fx_reopen(struct store_fx *f, unsigned flags)
{
    bt__index_free(f->s);
    bt_store_close(f->s);
    f->s = NULL;
    assert_int_equal(bt_store_open(f->path, flags, &f->s, NULL), BT_OK);
}

/* SQL on the file through a plain SQLite connection (no SpatiaLite, no library). */
static void fx_raw_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *em = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &em);
    if (rc != SQLITE_OK) fail_msg("%s: %s", sql, em ? em : "?");
    sqlite3_close(db);
}

/* Asks enough queries that the index is used (the first one of a handle goes to the
 * R*Tree), and checks every answer against the reference. */
static struct bt__index *queried(struct store_fx *f, rng *r)
{
    random_store_queries(f, r, 3);
    check_nearest(f->s, f->pts, f->n, HOT[0], 7, NULL);
    assert_non_null(f->s->index);
    return f->s->index;
}

static void test_persisted_index(void **state)
{
    (void)state;
    struct store_fx f;
    store_fx_open(&f, 1500, 21); /* one transaction of 1500 rows: the bulk-load path */
    rng r = {5};

    /* a writable handle that builds from the table saves the copy ... */
    struct bt__index *ix = queried(&f, &r);
    assert_int_equal(ix->builds, 1);
    assert_int_equal(ix->loads, 0);
    assert_int_equal(ix->saves, 1);
    /* ... and the next handle, even read-only, loads it instead of building */
    fx_reopen(&f, BT_OPEN_READONLY);
    ix = queried(&f, &r);
    assert_int_equal(ix->builds, 1);
    assert_int_equal(ix->loads, 1);
    assert_int_equal(ix->saves, 0);
    size_t bytes = 0, count = 0;
    assert_int_equal(bt_index_stats(f.s, &bytes, &count), BT_OK);
    assert_int_equal(count, 1500);

    /* another connection of the library writes: the copy is stale and not used */
    {
        bt_store *mine = f.s;
        assert_int_equal(bt_store_open(f.path, BT_OPEN_READWRITE, &f.s, NULL), BT_OK);
        for (size_t i = 0; i < 4; i++) add_random_incident(&f, &r, f.n + i, false);
        f.n += 4;
        assert_int_equal(bt_incident_delete(f.s, f.pts[1].id), BT_OK);
        f.pts[1].live = false;
        bt__index_free(f.s);
        bt_store_close(f.s);
        f.s = mine;
    }
    fx_reopen(&f, BT_OPEN_READONLY);
    ix = queried(&f, &r);
    assert_int_equal(ix->loads, 0);
    assert_int_equal(ix->builds, 1);
    assert_int_equal(ix->saves, 0); /* read-only: nothing saved */

    /* a program without the library writes (the persistent triggers still count) */
    {
        char sql[160];
        snprintf(sql, sizeof sql, "UPDATE incidents SET verification = 'confirmed' WHERE id = %lld",
                 (long long)f.pts[2].id);
        fx_raw_sql(f.path, sql);
        f.pts[2].verif = (int)BT_VERIF_CONFIRMED;
        snprintf(sql, sizeof sql, "DELETE FROM incident_sources WHERE incident_id = %lld",
                 (long long)f.pts[3].id);
        fx_raw_sql(f.path, sql);
        f.pts[3].rel = f.pts[3].cred = 0;
    }
    fx_reopen(&f, BT_OPEN_READWRITE);
    ix = queried(&f, &r);
    assert_int_equal(ix->loads, 0);
    assert_int_equal(ix->saves, 1);
    fx_reopen(&f, BT_OPEN_READWRITE);
    ix = queried(&f, &r);
    assert_int_equal(ix->loads, 1);

    /* damaged copies, their generation still current: ignored, rebuilt, saved again */
    static const char *const damage[] = {
        /* one byte flipped in the middle of the columns */
        "UPDATE bt_index SET data = substr(data, 1, 5000) ||"
        " CASE WHEN substr(data, 5001, 1) = x'00' THEN x'01' ELSE x'00' END ||"
        " substr(data, 5002)",
        "UPDATE bt_index SET data = substr(data, 1, length(data) - 1)", /* truncated */
        "UPDATE bt_index SET data = x'00'",                             /* no header */
        "UPDATE bt_index SET data = x'' || substr(data, 2)",            /* bad magic */
        /* the format before leaves were sorted by start (BTKDIX01): stale, rebuilt */
        "UPDATE bt_index SET data = substr(data, 1, 6) || CAST('01' AS BLOB) ||"
        " substr(data, 9)",
    };
    for (size_t k = 0; k < sizeof damage / sizeof damage[0]; k++) {
        bt__index_free(f.s);
        bt_store_close(f.s);
        fx_raw_sql(f.path, damage[k]);
        assert_int_equal(bt_store_open(f.path, BT_OPEN_READWRITE, &f.s, NULL), BT_OK);
        ix = queried(&f, &r);
        assert_int_equal(ix->loads, 0);
        assert_int_equal(ix->builds, 1);
        assert_int_equal(ix->saves, 1);
    }

    /* a bulk load (one transaction past the bulk threshold) on this handle: the handle
     * follows it, and the copy saved before it is stale for the next handle */
    assert_int_equal(bt_store_begin(f.s), BT_OK);
    for (size_t i = 0; i < 700; i++) add_random_incident(&f, &r, f.n + i, true);
    assert_int_equal(bt_store_commit(f.s), BT_OK);
    f.n += 700;
    ix = queried(&f, &r);
    fx_reopen(&f, BT_OPEN_READONLY);
    ix = queried(&f, &r);
    assert_int_equal(ix->loads, 0);
    assert_int_equal(bt_index_stats(f.s, &bytes, &count), BT_OK);
    size_t live = 0;
    for (size_t i = 0; i < f.n; i++) live += f.pts[i].live;
    assert_int_equal(count, live);

    /* inside a transaction nothing is saved (it could still roll back) */
    fx_reopen(&f, BT_OPEN_READWRITE);
    assert_int_equal(bt_store_begin(f.s), BT_OK);
    ix = queried(&f, &r);
    assert_int_equal(ix->saves, 0);
    assert_int_equal(bt_store_rollback(f.s), BT_OK);
    ix = queried(&f, &r); /* built again after the transaction, and saved */
    assert_int_equal(ix->saves, 1);
    fx_reopen(&f, BT_OPEN_READONLY);
    ix = queried(&f, &r);
    assert_int_equal(ix->loads, 1);

    store_fx_close(&f);
}

static int64_t fx_generation(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT generation FROM bt_meta", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t g = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return g;
}

/* Schema step 2 -> 3 on a file made without it; then the triggers count every write. */
static void test_migration_to_v3(void **state)
{
    (void)state;
    struct store_fx f;
    store_fx_open(&f, 300, 31);
    bt__index_free(f.s);
    bt_store_close(f.s);
    f.s = NULL;
    /* the file as schema version 2 wrote it */
    fx_raw_sql(f.path,
               "DROP TRIGGER bt_gen_incident_ins; DROP TRIGGER bt_gen_incident_upd;"
               " DROP TRIGGER bt_gen_incident_del; DROP TRIGGER bt_gen_link_ins;"
               " DROP TRIGGER bt_gen_link_upd; DROP TRIGGER bt_gen_link_del;"
               " DROP TRIGGER bt_gen_source_upd; DROP TRIGGER bt_gen_source_del;"
               " DROP TABLE bt_index; DROP TABLE bt_meta; PRAGMA user_version = 2");
    rng r = {8};
    assert_int_equal(bt_store_open(f.path, BT_OPEN_READWRITE, &f.s, NULL), BT_OK);
    int v = 0;
    assert_int_equal(bt_store_schema_version(f.s, &v), BT_OK);
    assert_true(v >= 3); /* later steps may follow */
    struct bt__index *ix = queried(&f, &r);
    assert_int_equal(ix->saves, 1);
    int64_t g0 = fx_generation(f.path);
    assert_true(g0 >= 0);
    /* one incident added (one row, plus its links), one deleted: each bumps it */
    add_random_incident(&f, &r, f.n, false);
    f.n++;
    assert_true(fx_generation(f.path) > g0);
    int64_t g1 = fx_generation(f.path);
    assert_int_equal(bt_incident_delete(f.s, f.pts[0].id), BT_OK);
    f.pts[0].live = false;
    assert_true(fx_generation(f.path) > g1);
    /* a change to a source (its reliability grades its incidents) */
    int64_t g2 = fx_generation(f.path);
    fx_raw_sql(f.path, "UPDATE sources SET notes = 'x' WHERE id = 1");
    assert_true(fx_generation(f.path) > g2);
    fx_reopen(&f, BT_OPEN_READONLY);
    ix = queried(&f, &r);
    assert_int_equal(ix->loads, 0); /* the copy is of an older generation */
    store_fx_close(&f);
}

/* k nearest with ties: identical points, and pairs mirrored east-west of the query
 * point (the same geodesic distance); ties go by id, both in the static part and in
 * the overlay, and k cuts through tied groups. */
static void test_nearest_ties(void **state)
{
    (void)state;
    struct store_fx f;
    store_fx_open(&f, 200, 41);
    const bt_lonlat at = {128.2, 41.3};
    rng r = {77};
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: before the index exists (then built from the table: static part);
         * pass 1: added to a built index (the overlay) */
        for (int i = 0; i < 30; i++) {
            struct refpt *x = &f.pts[f.n];
            double dx = i < 12 ? 0.01 : 0.002 * (double)(i / 2);
            double lon = i < 12 ? at.lon + dx : (i % 2 ? at.lon + dx : at.lon - dx);
            double lat = i < 12 ? at.lat + 0.003 : at.lat;
            char ref[32];
            snprintf(ref, sizeof ref, "TIE-%d-%d", pass, i);
            bt_incident inc;
            bt_incident_init(&inc);
            inc.ref = ref;
            inc.where = (bt_lonlat){lon, lat};
            inc.start = INT64_C(1600000000);
            inc.end = inc.start + 3600;
            int64_t id = 0;
            assert_int_equal(bt_incident_add(f.s, &inc, &id), BT_OK);
            memset(x, 0, sizeof *x);
            x->id = id;
            x->lon = lon;
            x->lat = lat;
            x->start = inc.start;
            x->end = inc.end;
            x->type = (int)inc.type;
            x->verif = (int)inc.verification;
            x->live = true;
            f.n++;
        }
        /* the mirrored pairs are exact ties for geod_inverse too */
        assert_true(gdist(at.lon, at.lat, at.lon + 0.004, at.lat) ==
                    gdist(at.lon, at.lat, at.lon - 0.004, at.lat));
        if (pass == 0) random_store_queries(&f, &r, 1); /* builds the index */
        for (size_t k = 1; k <= 70; k += 3) check_nearest(f.s, f.pts, f.n, at, k, NULL);
    }
    store_fx_close(&f);
}

/* SpatiaLite's answer to the same circle, in SQL, on the same file. */
static void test_spatialite_agrees(void **state)
{
    (void)state;
    struct store_fx f;
    store_fx_open(&f, 2000, 11);
    sqlite3 *db = bt__sq_of(f.s)->db;
    static const char sql[] =
        "SELECT id, ST_Distance(geom, MakePoint(?1, ?2, 4326), 1) FROM incidents"
        " WHERE id IN (SELECT rowid FROM SpatialIndex WHERE f_table_name = 'incidents'"
        " AND search_frame = BuildMbr(?3, ?4, ?5, ?6, 4326))"
        " AND ST_Distance(geom, MakePoint(?1, ?2, 4326), 1) <= ?7 ORDER BY id";
    rng r = {5};
    size_t compared = 0;
    for (int i = 0; i < 20; i++) {
        bt_query q;
        bt_query_init(&q);
        q.area = BT_AREA_CIRCLE;
        q.centre = (bt_lonlat){128.17778 + runif(&r, -0.2, 0.2), 41.40167 + runif(&r, -0.1, 0.1)};
        q.radius_m = runif(&r, 500.0, 25000.0);
        q.want_distance = 1;
        bt_hit *hits = NULL;
        size_t nh = 0;
        assert_int_equal(bt_incident_query_all(f.s, &q, &hits, &nh), BT_OK);
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        /* a generous degree box: SpatiaLite does the exact test */
        double dlat = q.radius_m / 100000.0 + 0.01, dlon = dlat / cos(q.centre.lat * 3.14159265 / 180.0);
        sqlite3_bind_double(st, 1, q.centre.lon);
        sqlite3_bind_double(st, 2, q.centre.lat);
        sqlite3_bind_double(st, 3, q.centre.lon - dlon);
        sqlite3_bind_double(st, 4, q.centre.lat - dlat);
        sqlite3_bind_double(st, 5, q.centre.lon + dlon);
        sqlite3_bind_double(st, 6, q.centre.lat + dlat);
        sqlite3_bind_double(st, 7, q.radius_m);
        size_t k = 0;
        int src;
        /* Tolerance: SpatiaLite's ellipsoidal distance differs from geod_inverse by
         * well under 1 mm at these ranges, so the two answers may differ only for
         * points within 1 mm of the circle's edge, and distances agree to 1 mm. */
        while ((src = sqlite3_step(st)) == SQLITE_ROW) {
            int64_t id = sqlite3_column_int64(st, 0);
            double dsql = sqlite3_column_double(st, 1);
            while (k < nh && hits[k].id < id) {
                assert_true(fabs(hits[k].distance_m - q.radius_m) < 1e-3);
                k++;
            }
            if (k < nh && hits[k].id == id) {
                assert_true(fabs(hits[k].distance_m - dsql) < 1e-3);
                k++;
                compared++;
            } else {
                assert_true(fabs(dsql - q.radius_m) < 1e-3);
            }
        }
        assert_int_equal(src, SQLITE_DONE);
        for (; k < nh; k++) assert_true(fabs(hits[k].distance_m - q.radius_m) < 1e-3);
        sqlite3_finalize(st);
        bt_hits_free(hits);
    }
    assert_true(compared > 1000);
    store_fx_close(&f);
}

/* ---- order, limit, callbacks, errors ------------------------------------------------ */

struct cb_ctx {
    int64_t last_id;
    double last_d;
    int n, stop_at;
    bool ordered;
};

static int by_id_cb(const bt_incident *inc, double d, void *udata)
{
    struct cb_ctx *c = udata;
    if (inc->id <= c->last_id) c->ordered = false;
    c->last_id = inc->id;
    (void)d;
    c->n++;
    return c->stop_at && c->n >= c->stop_at;
}

static int by_dist_cb(const bt_incident *inc, double d, void *udata)
{
    struct cb_ctx *c = udata;
    double want = gdist(FX_HYESAN_LON, FX_HYESAN_LAT, inc->where.lon, inc->where.lat);
    if (d != want || d < c->last_d) c->ordered = false;
    c->last_d = d;
    c->n++;
    return 0;
}

static void test_order_limit_callbacks(void **state)
{
    (void)state;
    struct store_fx f;
    store_fx_open(&f, 800, 3);
    bt_query q;
    bt_query_init(&q);
    q.area = BT_AREA_CIRCLE;
    q.centre = (bt_lonlat){FX_HYESAN_LON, FX_HYESAN_LAT};
    q.radius_m = 15000.0;
    int64_t total = 0;
    assert_int_equal(bt_incident_count(f.s, &q, &total, NULL), BT_OK);
    assert_true(total > 50);

    struct cb_ctx c = {0, -1.0, 0, 0, true};
    assert_int_equal(bt_incident_query(f.s, &q, by_id_cb, &c), BT_OK);
    assert_true(c.ordered);
    assert_int_equal(c.n, total);
    struct cb_ctx stop = {0, -1.0, 0, 7, true};
    assert_int_equal(bt_incident_query(f.s, &q, by_id_cb, &stop), BT_OK);
    assert_int_equal(stop.n, 7);

    q.order = BT_ORDER_DISTANCE;
    struct cb_ctx cd = {0, -1.0, 0, 0, true};
    assert_int_equal(bt_incident_query(f.s, &q, by_dist_cb, &cd), BT_OK);
    assert_true(cd.ordered);
    assert_int_equal(cd.n, total);

    /* order by distance with a limit = the k nearest within the radius */
    q.limit = 10;
    bt_hit *h = NULL, *k = NULL;
    size_t nh = 0, nk = 0;
    assert_int_equal(bt_incident_query_all(f.s, &q, &h, &nh), BT_OK);
    assert_int_equal(bt_incident_nearest(f.s, q.centre, 10, NULL, &k, &nk), BT_OK);
    assert_int_equal(nh, 10);
    assert_int_equal(nk, 10);
    for (size_t i = 0; i < 10; i++) {
        assert_true(h[i].id == k[i].id);
        assert_true(h[i].distance_m == k[i].distance_m);
    }
    bt_hits_free(h);
    bt_hits_free(k);

    /* by time: starts never decrease, and they are the exact starts */
    q.order = BT_ORDER_TIME;
    q.limit = 0;
    assert_int_equal(bt_incident_query_all(f.s, &q, &h, &nh), BT_OK);
    assert_int_equal(nh, total);
    for (size_t i = 0; i < nh; i++) {
        bt_incident *inc = NULL;
        assert_int_equal(bt_incident_get(f.s, h[i].id, &inc), BT_OK);
        assert_true(inc->start == h[i].start);
        if (i) assert_true(h[i - 1].start < h[i].start ||
                           (h[i - 1].start == h[i].start && h[i - 1].id < h[i].id));
        bt_incident_free(inc);
    }
    bt_hits_free(h);

    /* polygon as WKT equals the same polygon as a ring */
    bt_lonlat ring[4] = {{128.0, 41.3}, {128.3, 41.3}, {128.3, 41.5}, {128.0, 41.5}};
    bt_query pr, pw;
    bt_query_init(&pr);
    pr.area = BT_AREA_POLYGON;
    pr.ring = ring;
    pr.nring = 4;
    pw = pr;
    pw.ring = NULL;
    pw.wkt = "POLYGON((128 41.3, 128.3 41.3, 128.3 41.5, 128 41.5, 128 41.3))";
    int64_t a = 0, b = 0;
    assert_int_equal(bt_incident_count(f.s, &pr, &a, NULL), BT_OK);
    assert_int_equal(bt_incident_count(f.s, &pw, &b, NULL), BT_OK);
    assert_true(a == b && a > 0);
    check_query(f.s, f.pts, f.n, &pr);
    store_fx_close(&f);
}

static void test_errors(void **state)
{
    (void)state;
    struct store_fx f;
    store_fx_open(&f, 10, 1);
    bt_query q;
    int64_t n;
    bt_query_init(&q);
    q.area = BT_AREA_CIRCLE;
    q.centre = (bt_lonlat){200.0, 0.0};
    assert_int_equal(bt_incident_count(f.s, &q, &n, NULL), BT_ERR_INVALID);
    assert_non_null(strstr(bt_store_errmsg(f.s), "centre"));
    q.centre = (bt_lonlat){0.0, 0.0};
    q.radius_m = -1.0;
    assert_int_equal(bt_incident_count(f.s, &q, &n, NULL), BT_ERR_INVALID);
    assert_non_null(strstr(bt_store_errmsg(f.s), "radius_m"));
    q.radius_m = 10.0;
    q.from = 10;
    q.to = 5;
    assert_int_equal(bt_incident_count(f.s, &q, &n, NULL), BT_ERR_INVALID);
    bt_query_init(&q);
    q.min_reliability = 'G';
    assert_int_equal(bt_incident_count(f.s, &q, &n, NULL), BT_ERR_INVALID);
    bt_query_init(&q);
    q.min_credibility = 7;
    assert_int_equal(bt_incident_count(f.s, &q, &n, NULL), BT_ERR_INVALID);
    bt_query_init(&q);
    q.types = 1u << 20;
    assert_int_equal(bt_incident_count(f.s, &q, &n, NULL), BT_ERR_INVALID);
    bt_query_init(&q);
    q.order = BT_ORDER_DISTANCE; /* needs a circle */
    bt_hit *h = NULL;
    size_t nh = 0;
    assert_int_equal(bt_incident_query_all(f.s, &q, &h, &nh), BT_ERR_INVALID);
    bt_query_init(&q);
    q.area = BT_AREA_BBOX;
    q.box = (bt_bbox){0.0, 10.0, 1.0, 5.0}; /* south > north */
    assert_int_equal(bt_incident_count(f.s, &q, &n, NULL), BT_ERR_INVALID);
    bt_query_init(&q);
    q.area = BT_AREA_POLYGON;
    q.wkt = "POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))"; /* a bow tie */
    assert_int_equal(bt_incident_count(f.s, &q, &n, NULL), BT_ERR_GEOMETRY);
    q.wkt = "LINESTRING(0 0, 1 1)";
    assert_int_equal(bt_incident_count(f.s, &q, &n, NULL), BT_ERR_INVALID);
    q.wkt = "POLYGON((0 0";
    assert_int_equal(bt_incident_count(f.s, &q, &n, NULL), BT_ERR_GEOMETRY);
    q.wkt = NULL;
    assert_int_equal(bt_incident_count(f.s, &q, &n, NULL), BT_ERR_INVALID);
    bt_query_init(&q);
    q.area = (bt_area_kind)9;
    assert_int_equal(bt_incident_count(f.s, &q, &n, NULL), BT_ERR_INVALID);
    assert_int_equal(bt_incident_query(f.s, NULL, NULL, NULL), BT_ERR_INVALID);
    assert_int_equal(bt_incident_query_all(f.s, NULL, NULL, &nh), BT_ERR_INVALID);
    assert_int_equal(bt_incident_nearest(f.s, (bt_lonlat){0.0, 95.0}, 3, NULL, &h, &nh),
                     BT_ERR_INVALID);
    assert_int_equal(bt_incident_count(NULL, NULL, &n, NULL), BT_ERR_INVALID);
    /* and a good call clears the message */
    assert_int_equal(bt_incident_count(f.s, NULL, &n, NULL), BT_OK);
    assert_true(n == 10);
    assert_string_equal(bt_store_errmsg(f.s), "");
    bt_hits_free(NULL);
    store_fx_close(&f);
}


/* ---- installations and segments --------------------------------------------------- */

/* Reference distance to a polyline: dense samples along each geodesic edge (the true
 * minimum is at most this, and at most ~len^2/(8 n^2 d) below it). */
static double ref_line_dist(bt_lonlat p, const bt_lonlat *pts, size_t n)
{
    if (n == 1) return gdist(p.lon, p.lat, pts[0].lon, pts[0].lat);
    double best = INFINITY;
    for (size_t i = 0; i + 1 < n; i++) {
        double len, azi1, azi2;
        geod_inverse(&G, pts[i].lat, pts[i].lon, pts[i + 1].lat, pts[i + 1].lon, &len, &azi1, &azi2);
        /* coarse samples, then fine ones around the best coarse one */
        int kb = 0;
        double eb = INFINITY;
        for (int k = 0; k <= 1000; k++) {
            double lat, lon;
            geod_direct(&G, pts[i].lat, pts[i].lon, azi1, len * k / 1000.0, &lat, &lon, NULL);
            double d = gdist(p.lon, p.lat, lon, lat);
            if (d < eb) {
                eb = d;
                kb = k;
            }
        }
        for (int k = 0; k <= 1000; k++) {
            double t = len * ((double)kb - 1.0 + 2.0 * k / 1000.0) / 1000.0;
            if (t < 0.0 || t > len) continue;
            double lat, lon;
            geod_direct(&G, pts[i].lat, pts[i].lon, azi1, t, &lat, &lon, NULL);
            double d = gdist(p.lon, p.lat, lon, lat);
            if (d < eb) eb = d;
        }
        if (eb < best) best = eb;
    }
    return best;
}

struct obj_hits {
    int64_t ids[64];
    double d[64];
    size_t n;
};

static int inst_cb(const bt_installation *inst, double d, void *udata)
{
    struct obj_hits *h = udata;
    h->ids[h->n] = inst->id;
    h->d[h->n++] = d;
    return 0;
}

static int seg_cb(const bt_segment *seg, double d, void *udata)
{
    struct obj_hits *h = udata;
    h->ids[h->n] = seg->id;
    h->d[h->n++] = d;
    return 0;
}

static void test_installations_segments(void **state)
{
    (void)state;
    struct store_fx f;
    store_fx_open(&f, 0, 1);
    rng r = {77};
    bt_lonlat lines[6][5];
    int64_t seg_ids[6], inst_ids[12];
    bt_lonlat geoms[12][5];
    size_t ngeom[12];
    for (int i = 0; i < 6; i++) {
        for (int k = 0; k < 5; k++)
            lines[i][k] = (bt_lonlat){128.0 + 0.08 * i + 0.02 * k + runif(&r, 0.0, 0.01),
                                      41.3 + runif(&r, 0.0, 0.2)};
        char name[16];
        snprintf(name, sizeof name, "s%d", i);
        bt_segment seg = {0};
        seg.border = i < 4 ? "PRK-CHN" : "OTHER";
        seg.name = name;
        seg.seq = i;
        seg.kind = BT_SEGMENT_RIVER;
        seg.points = lines[i];
        seg.npoints = 5;
        assert_int_equal(bt_segment_add(f.s, &seg, &seg_ids[i]), BT_OK);
    }
    for (int i = 0; i < 12; i++) {
        bt_installation in;
        bt_installation_init(&in);
        ngeom[i] = i % 2 ? 1 : 3;
        for (size_t k = 0; k < ngeom[i]; k++)
            geoms[i][k] = (bt_lonlat){128.0 + runif(&r, 0.0, 0.5), 41.3 + runif(&r, 0.0, 0.2)};
        in.kind = i % 2 ? BT_INSTALL_GUARD_POST : BT_INSTALL_FENCE;
        in.points = geoms[i];
        in.npoints = ngeom[i];
        if (i % 3 == 0) {
            in.start = (bt_date){INT64_C(1577836800), BT_TIME_DAY};  /* 2020-01-01 */
            in.end = (bt_date){INT64_C(1609459200), BT_TIME_YEAR};   /* 2021: all of it */
        }
        assert_int_equal(bt_installation_add(f.s, &in, &inst_ids[i]), BT_OK);
    }
    const double tol = 0.05; /* metres: sampling error of the reference */
    for (int t = 0; t < 12; t++) {
        bt_query q;
        bt_query_init(&q);
        q.area = BT_AREA_CIRCLE;
        q.centre = (bt_lonlat){128.0 + runif(&r, 0.0, 0.5), 41.3 + runif(&r, 0.0, 0.2)};
        q.radius_m = runif(&r, 100.0, 6000.0);
        if (t % 4 == 3) {
            q.from = INT64_C(1633046400); /* 2021-10-01, inside the dated ones' 2021 */
            q.to = INT64_C(1635724800);
        }
        struct obj_hits h = {0};
        assert_int_equal(bt_installation_query(f.s, &q, inst_cb, &h), BT_OK);
        size_t k = 0;
        for (int i = 0; i < 12; i++) {
            double rd = ref_line_dist(q.centre, geoms[i], ngeom[i]);
            /* every window of these queries overlaps the dated ones' 2020..2021 */
            bool in = rd <= q.radius_m;
            if (k < h.n && h.ids[k] == inst_ids[i]) {
                assert_true(rd <= q.radius_m + tol);
                assert_true(h.d[k] <= rd + 1e-6 && h.d[k] >= rd - tol);
                k++;
            } else {
                assert_true(!in || rd > q.radius_m - tol);
            }
        }
        assert_int_equal(k, h.n);
        struct obj_hits sh = {0};
        assert_int_equal(bt_segment_query(f.s, &q, seg_cb, &sh), BT_OK);
        k = 0;
        for (int i = 0; i < 6; i++) {
            double rd = ref_line_dist(q.centre, lines[i], 5);
            if (k < sh.n && sh.ids[k] == seg_ids[i]) {
                assert_true(rd <= q.radius_m + tol);
                assert_true(sh.d[k] <= rd + 1e-6 && sh.d[k] >= rd - tol);
                k++;
            } else {
                assert_true(rd > q.radius_m - tol);
            }
        }
        assert_int_equal(k, sh.n);
        /* nearest segment, of any border and of PRK-CHN */
        int64_t id = 0;
        double dist = 0.0;
        assert_int_equal(bt_segment_nearest(f.s, q.centre, NULL, &id, &dist), BT_OK);
        double best = INFINITY, best4 = INFINITY;
        for (int i = 0; i < 6; i++) {
            double rd = ref_line_dist(q.centre, lines[i], 5);
            if (rd < best) best = rd;
            if (i < 4 && rd < best4) best4 = rd;
        }
        assert_true(fabs(dist - best) < tol);
        assert_int_equal(bt_segment_nearest(f.s, q.centre, "PRK-CHN", &id, &dist), BT_OK);
        assert_true(fabs(dist - best4) < tol);
        assert_true(id >= seg_ids[0] && id <= seg_ids[3]);
    }
    /* time window before everything dated: the dated fences drop out */
    {
        bt_query q;
        bt_query_init(&q);
        q.to = INT64_C(1500000000);
        struct obj_hits h = {0};
        assert_int_equal(bt_installation_query(f.s, &q, inst_cb, &h), BT_OK);
        assert_int_equal(h.n, 8);
        q.to = INT64_MAX;
        q.from = INT64_C(1640995200); /* 2022-01-01: after the end of 2021 */
        h.n = 0;
        assert_int_equal(bt_installation_query(f.s, &q, inst_cb, &h), BT_OK);
        assert_int_equal(h.n, 8);
        q.from = INT64_C(1640995199); /* the last second of 2021 still overlaps */
        h.n = 0;
        assert_int_equal(bt_installation_query(f.s, &q, inst_cb, &h), BT_OK);
        assert_int_equal(h.n, 12);
        bt_query_init(&q);
        q.types = 1u << BT_INSTALL_GUARD_POST;
        q.area = BT_AREA_BBOX;
        q.box = (bt_bbox){127.0, 41.0, 129.0, 42.0};
        h.n = 0;
        assert_int_equal(bt_installation_query(f.s, &q, inst_cb, &h), BT_OK);
        assert_int_equal(h.n, 6);
    }
    int64_t id;
    assert_int_equal(bt_segment_nearest(f.s, (bt_lonlat){0, 0}, "NOPE", &id, NULL), BT_ERR_NOT_FOUND);
    store_fx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_differential_100k),
        cmocka_unit_test(test_nearest_tied_leaves),
        cmocka_unit_test(test_nearest_rejecting_filter),
        cmocka_unit_test(test_windows_and_nearest_100k),
        cmocka_unit_test(test_store_differential),
        cmocka_unit_test(test_persisted_index),
        cmocka_unit_test(test_migration_to_v3),
        cmocka_unit_test(test_nearest_ties),
        cmocka_unit_test(test_spatialite_agrees),
        cmocka_unit_test(test_order_limit_callbacks),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_installations_segments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
