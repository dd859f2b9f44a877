/**
 * @file test_query_match.c
 * @brief Uncertainty semantics (BT_MATCH_POSSIBLE / CERTAIN) for box and polygon
 * areas, and the point-to-boundary distance under them (lib/query/edge_dist.c),
 * against an independent brute force written here.
 *
 * The brute force: every edge (straight in lon/lat) is sampled at <= 100 m of arc;
 * f(t) = geod_inverse(P, E(t)) changes no faster than the arc, so the interval between
 * samples i and i+1 holds nothing below (f_i + f_i+1 - arc_i) / 2 (arc_i: the geodesic
 * between the samples times 1.001, far above the excess of the lon/lat curve over
 * 100 m). Intervals that could hold the minimum are resampled at <= 0.9 m, so the true
 * distance d is in [d_bf - 0.45, d_bf]. Inside: ray casting (even-odd over all rings).
 * An incident whose u is within 0.46 m + 1 cm (the library's stated tolerance) of d_bf
 * is left out of the comparison; everything else must agree exactly.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <geodesic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/index.h"
#include "query/edge_dist.h"
#include "query/query_internal.h"
#include "store_fixture.h"
#include "test_rng.h"

static struct geod_geodesic G;

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnext(rng *r) { return splitmix_next(&r->s); }

static double runif(rng *r, double a, double b) { return splitmix_unif(&r->s, a, b); }

static double gdist(double lon1, double lat1, double lon2, double lat2)
{
    double s12;
    geod_inverse(&G, lat1, lon1, lat2, lon2, &s12, NULL, NULL);
    return s12;
}

static bt_lonlat gmove(double lon, double lat, double azi, double s)
{
    double lat2, lon2;
    geod_direct(&G, lat, lon, azi, s, &lat2, &lon2, NULL);
    return (bt_lonlat){lon2, lat2};
}

/* ---- the brute force ------------------------------------------------------------ */

#define COARSE_M 100.0
#define FINE_M 0.9
#define BF_ERR (FINE_M / 2.0)
#define BAND (BF_ERR + 0.011)

struct bf_edge {
    double lon0, lat0, lon1, lat1;
    size_t n;     /* intervals */
    double *arc;  /* arc bound of each interval */
};

struct area {
    int kind;                /* BT_AREA_BBOX or BT_AREA_POLYGON */
    bt_bbox box;
    bt_lonlat *ring[3];      /* rings (closed), for polygons */
    size_t nring[3];
    size_t nrings;
    char wkt[4096];
    struct bf_edge *e;
    size_t ne, cap;
};

static void ep(double lon0, double lat0, double lon1, double lat1, double t, double *lon,
               double *lat)
{
    *lon = lon0 + t * (lon1 - lon0);
    *lat = lat0 + t * (lat1 - lat0);
}

static void bf_add(struct area *a, double lon0, double lat0, double lon1, double lat1)
{
    if (lon0 == lon1 && lat0 == lat1) return;
    if (a->ne == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 16;
        a->e = realloc(a->e, a->cap * sizeof *a->e);
    }
    struct bf_edge *e = &a->e[a->ne++];
    e->lon0 = lon0;
    e->lat0 = lat0;
    e->lon1 = lon1;
    e->lat1 = lat1;
    /* length estimate only to choose the sampling; the bounds use the arcs below */
    double len = 0.0, px = lon0, py = lat0;
    for (int k = 1; k <= 64; k++) {
        double x, y;
        ep(lon0, lat0, lon1, lat1, k / 64.0, &x, &y);
        len += gdist(px, py, x, y);
        px = x;
        py = y;
    }
    e->n = (size_t)ceil(len * 1.01 / COARSE_M);
    if (e->n < 1) e->n = 1;
    e->arc = malloc(e->n * sizeof *e->arc);
    for (size_t i = 0; i < e->n; i++) {
        double x0, y0, x1, y1;
        ep(lon0, lat0, lon1, lat1, (double)i / e->n, &x0, &y0);
        ep(lon0, lat0, lon1, lat1, (double)(i + 1) / e->n, &x1, &y1);
        e->arc[i] = gdist(x0, y0, x1, y1) * 1.001 + 1e-6;
    }
}

static void area_free(struct area *a)
{
    for (size_t i = 0; i < a->ne; i++) free(a->e[i].arc);
    free(a->e);
    for (size_t k = 0; k < a->nrings; k++) free(a->ring[k]);
    memset(a, 0, sizeof *a);
}

static void area_box(struct area *a, bt_bbox b)
{
    memset(a, 0, sizeof *a);
    a->kind = BT_AREA_BBOX;
    a->box = b;
    /* written from the definition: meridians unless all longitudes, parallels except
     * at a pole, split at the antimeridian */
    if (!(b.west == -180.0 && b.east == 180.0)) {
        bf_add(a, b.west, b.south, b.west, b.north);
        bf_add(a, b.east, b.south, b.east, b.north);
    }
    double lat[2] = {b.south, b.north};
    for (int k = 0; k < 2; k++) {
        if (fabs(lat[k]) == 90.0) continue;
        if (b.west <= b.east) {
            bf_add(a, b.west, lat[k], b.east, lat[k]);
        } else {
            bf_add(a, b.west, lat[k], 180.0, lat[k]);
            bf_add(a, -180.0, lat[k], b.east, lat[k]);
        }
    }
}

/* A polygon from rings (each closed here), with its WKT. */
static void area_poly(struct area *a, bt_lonlat *const rings[], const size_t *n, size_t nr)
{
    memset(a, 0, sizeof *a);
    a->kind = BT_AREA_POLYGON;
    a->nrings = nr;
    size_t off = (size_t)snprintf(a->wkt, sizeof a->wkt, "POLYGON(");
    for (size_t k = 0; k < nr; k++) {
        a->ring[k] = malloc((n[k] + 1) * sizeof **a->ring);
        memcpy(a->ring[k], rings[k], n[k] * sizeof **a->ring);
        a->ring[k][n[k]] = rings[k][0];
        a->nring[k] = n[k] + 1;
        off += (size_t)snprintf(a->wkt + off, sizeof a->wkt - off, "%s(", k ? "," : "");
        for (size_t i = 0; i <= n[k]; i++) {
            bt_lonlat v = a->ring[k][i];
            off += (size_t)snprintf(a->wkt + off, sizeof a->wkt - off, "%s%.12f %.12f",
                                    i ? "," : "", v.lon, v.lat);
            if (i) bf_add(a, a->ring[k][i - 1].lon, a->ring[k][i - 1].lat, v.lon, v.lat);
        }
        off += (size_t)snprintf(a->wkt + off, sizeof a->wkt - off, ")");
    }
    snprintf(a->wkt + off, sizeof a->wkt - off, ")");
    assert_true(off < sizeof a->wkt - 2);
}

static bool bf_inside(const struct area *a, double x, double y)
{
    if (a->kind == BT_AREA_BBOX) {
        const bt_bbox *b = &a->box;
        if (y < b->south || y > b->north) return false;
        return b->west <= b->east ? x >= b->west && x <= b->east : x >= b->west || x <= b->east;
    }
    bool in = false;
    for (size_t k = 0; k < a->nrings; k++) {
        const bt_lonlat *r = a->ring[k];
        size_t n = a->nring[k];
        for (size_t i = 0, j = n - 1; i < n; j = i++) {
            double xi = r[i].lon, yi = r[i].lat, xj = r[j].lon, yj = r[j].lat;
            if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) in = !in;
        }
    }
    return in;
}

/* Coarse bracket of the distance from (x, y) to the boundary: lo <= d <= hi. With
 * @p fine, also the resampled value d_bf (d in [d_bf - BF_ERR, d_bf]). */
static void bf_dist(const struct area *a, double x, double y, double *lo, double *hi,
                    double *d_bf)
{
    double best = INFINITY, lbmin = INFINITY;
    double **fs = malloc(a->ne * sizeof *fs);
    for (size_t k = 0; k < a->ne; k++) {
        const struct bf_edge *e = &a->e[k];
        fs[k] = malloc((e->n + 1) * sizeof **fs);
        for (size_t i = 0; i <= e->n; i++) {
            double ex, ey;
            ep(e->lon0, e->lat0, e->lon1, e->lat1, (double)i / e->n, &ex, &ey);
            fs[k][i] = gdist(x, y, ex, ey);
            if (fs[k][i] < best) best = fs[k][i];
        }
        for (size_t i = 0; i < e->n; i++) {
            double lb = 0.5 * (fs[k][i] + fs[k][i + 1] - e->arc[i]);
            if (lb < lbmin) lbmin = lb;
        }
    }
    *lo = fmin(lbmin, best);
    *hi = best;
    if (d_bf) {
        double d = best;
        for (size_t k = 0; k < a->ne; k++) {
            const struct bf_edge *e = &a->e[k];
            for (size_t i = 0; i < e->n; i++) {
                if (0.5 * (fs[k][i] + fs[k][i + 1] - e->arc[i]) > best) continue;
                size_t m = (size_t)ceil(e->arc[i] / FINE_M);
                for (size_t j = 1; j < m; j++) {
                    double ex, ey;
                    ep(e->lon0, e->lat0, e->lon1, e->lat1, (i + (double)j / m) / e->n, &ex, &ey);
                    double f = gdist(x, y, ex, ey);
                    if (f < d) d = f;
                }
            }
        }
        *d_bf = d;
    }
    for (size_t k = 0; k < a->ne; k++) free(fs[k]);
    free(fs);
}

/* The reference decision: 1 match, 0 no match, -1 within the band (left out). */
static int bf_match(const struct area *a, double x, double y, double u, bt_match m)
{
    bool in = bf_inside(a, x, y);
    if (m == BT_MATCH_POINT) return in;
    if (m == BT_MATCH_POSSIBLE && in) return 1;
    if (m == BT_MATCH_CERTAIN && !in) return 0;
    if (u == 0.0) return in;
    double lo, hi, d;
    bf_dist(a, x, y, &lo, &hi, NULL);
    bool possible = m == BT_MATCH_POSSIBLE;
    /* coarse answer first: d in [lo, hi] */
    if (possible && hi <= u) return 1;
    if (possible && lo > u + BAND) return 0;
    if (!possible && lo >= u + BAND) return 1;
    if (!possible && hi < u - BAND) return 0;
    bf_dist(a, x, y, &lo, &hi, &d);
    if (fabs(d - u) <= BAND || fabs(d - BF_ERR - u) <= BAND) return -1;
    if (possible) return d <= u ? 1 : (d - BF_ERR > u ? 0 : -1);
    return d - BF_ERR >= u ? 1 : (d < u ? 0 : -1);
}

/* ---- random areas and points ------------------------------------------------------- */

/* A random point near the boundary (within a few u of a random boundary point), or
 * anywhere around the area. */
static bt_lonlat near_boundary(const struct area *a, rng *r, double spread)
{
    const struct bf_edge *e = &a->e[rnext(r) % a->ne];
    double x, y;
    ep(e->lon0, e->lat0, e->lon1, e->lat1, runif(r, 0.0, 1.0), &x, &y);
    bt_lonlat p = gmove(x, y, runif(r, -180.0, 180.0), runif(r, 0.0, spread));
    return p;
}

static bt_bbox random_box(rng *r, int flavour)
{
    bt_bbox b;
    double w = runif(r, 0.01, 0.08), h = runif(r, 0.01, 0.06);
    if (flavour == 0) { /* ordinary, near Hyesan */
        double lon = 128.0 + runif(r, -1.0, 1.0), lat = 41.0 + runif(r, -1.0, 1.0);
        b = (bt_bbox){lon - w, lat - h, lon + w, lat + h};
    } else if (flavour == 1) { /* across the antimeridian */
        double lon = 180.0 + runif(r, -0.5 * w, 0.5 * w), lat = runif(r, -60.0, 60.0);
        b = (bt_bbox){lon - w, lat - h, lon + w - 360.0, lat + h};
        if (b.west > 180.0) b.west -= 360.0;
    } else { /* near a pole: a few degrees of longitude at 88.5-89.5 */
        double lon = runif(r, -170.0, 170.0), lat = runif(r, 88.5, 89.5);
        double wl = runif(r, 0.5, 5.0);
        b = (bt_bbox){lon - wl, lat - h, lon + wl, fmin(89.9, lat + h)};
        if (rnext(r) % 2) {
            b.south = -b.north;
            b.north = -(lat - h);
        }
    }
    return b;
}

/* A star-shaped polygon (concave) of k vertices around (lon, lat). */
static void random_star(rng *r, double lon, double lat, double rad, size_t k, bt_lonlat *v)
{
    double step = 360.0 / (double)k;
    for (size_t i = 0; i < k; i++) {
        double ang = (i + runif(r, 0.1, 0.9)) * step / 180.0 * 3.14159265358979323846;
        double rr = rad * (i % 2 ? runif(r, 0.3, 0.6) : runif(r, 0.8, 1.0));
        v[i] = (bt_lonlat){lon + rr * cos(ang) / cos(lat / 57.29577951308232), lat + rr * sin(ang)};
    }
}

/* ---- the distance alone ----------------------------------------------------------- */

static void build_bnd(const struct area *a, struct bt__bnd *b)
{
    memset(b, 0, sizeof *b);
    for (size_t k = 0; k < a->ne; k++)
        assert_int_equal(bt__bnd_add(b, a->e[k].lon0, a->e[k].lat0, a->e[k].lon1, a->e[k].lat1),
                         BT_OK);
    assert_int_equal(bt__bnd_build(b), BT_OK);
}

static void check_dist_random(const struct area *a, rng *r, int npts, size_t *ngeod)
{
    struct bt__bnd b;
    build_bnd(a, &b);
    struct bt__bnd_work w = {0};
    for (int i = 0; i < npts; i++) {
        bt_lonlat p = near_boundary(a, r, i % 4 == 0 ? 30000.0 : 3000.0);
        double lo, hi, blo, bhi, d;
        assert_int_equal(bt__bnd_dist(&b, &G, p, -1.0, INFINITY, BT__BND_TOL_M, &w, &lo, &hi),
                         BT_OK);
        bf_dist(a, p.lon, p.lat, &blo, &bhi, &d);
        if (!(lo <= d + 1e-6 && hi >= d - BF_ERR - 1e-6 && hi - lo <= BT__BND_TOL_M + 1e-9))
            fprintf(stderr, "point (%.9f, %.9f): [%.6f, %.6f] vs brute force %.6f\n", p.lon,
                    p.lat, lo, hi, d);
        assert_true(lo <= d + 1e-6);
        assert_true(hi >= d - BF_ERR - 1e-6);
        assert_true(hi - lo <= BT__BND_TOL_M + 1e-9);
    }
    *ngeod += w.ngeod;
    bt__bnd_work_free(&w);
    bt__bnd_free(&b);
}

static void test_dist_random(void **state)
{
    (void)state;
    rng r = {11};
    size_t ngeod = 0;
    int npts = 0;
    for (int k = 0; k < 9; k++) {
        struct area a;
        area_box(&a, random_box(&r, k % 3));
        check_dist_random(&a, &r, 60, &ngeod);
        npts += 60;
        area_free(&a);
    }
    for (int k = 0; k < 4; k++) {
        bt_lonlat v[12];
        size_t n = 5 + rnext(&r) % 8;
        random_star(&r, 128.0 + runif(&r, -1, 1), k == 3 ? 88.0 : 41.0, 0.1, n, v);
        bt_lonlat *rings[1] = {v};
        struct area a;
        area_poly(&a, rings, &n, 1);
        check_dist_random(&a, &r, 60, &ngeod);
        npts += 60;
        area_free(&a);
    }
    print_message("distance: %d points, %.1f geod_inverse per point\n", npts,
                  (double)ngeod / npts);
}

/* Hand-built: points at known geodesic offsets from a meridian, a parallel, a vertex. */
static void test_dist_exact(void **state)
{
    (void)state;
    geod_init(&G, 6378137.0, 1.0 / 298.257223563);
    struct bt__bnd b = {0};
    bt_bbox box = {128.0, 41.0, 128.5, 41.4};
    assert_int_equal(bt__bnd_add_box(&b, box), BT_OK);
    assert_int_equal(bt__bnd_build(&b), BT_OK);
    assert_int_equal(b.ne, 4);
    struct bt__bnd_work w = {0};
    double lo, hi;
    /* 1000 m due south of the south edge: the nearest point is straight north */
    bt_lonlat p = gmove(128.2, 41.0, 180.0, 1000.0);
    assert_int_equal(bt__bnd_dist(&b, &G, p, -1, INFINITY, BT__BND_TOL_M, &w, &lo, &hi), BT_OK);
    assert_true(lo <= 1000.0 && hi >= 1000.0 - 1e-6 && hi - lo <= BT__BND_TOL_M);
    assert_true(fabs(gdist(p.lon, p.lat, 128.2, 41.0) - 1000.0) < 1e-6);
    /* 1000 m inside, north of the south edge, far from the other edges */
    p = gmove(128.2, 41.0, 0.0, 1000.0);
    assert_int_equal(bt__bnd_dist(&b, &G, p, -1, INFINITY, BT__BND_TOL_M, &w, &lo, &hi), BT_OK);
    assert_true(lo <= 1000.0 && hi >= 1000.0 - 1e-6 && hi - lo <= BT__BND_TOL_M);
    /* 2500 m west of the west meridian along the geodesic perpendicular to it */
    p = gmove(128.0, 41.2, 270.0, 2500.0);
    assert_int_equal(bt__bnd_dist(&b, &G, p, -1, INFINITY, BT__BND_TOL_M, &w, &lo, &hi), BT_OK);
    assert_true(lo <= 2500.0 + 1e-6 && hi >= 2500.0 - 1e-6 && hi - lo <= BT__BND_TOL_M);
    /* outside a corner: the corner is nearest */
    p = gmove(128.5, 41.4, 45.0, 3000.0);
    assert_int_equal(bt__bnd_dist(&b, &G, p, -1, INFINITY, BT__BND_TOL_M, &w, &lo, &hi), BT_OK);
    double dc = gdist(p.lon, p.lat, 128.5, 41.4);
    assert_true(lo <= dc + 1e-6 && hi >= dc - 1e-6 && hi - lo <= BT__BND_TOL_M);
    /* limits: stops early on either side */
    p = gmove(128.2, 41.0, 180.0, 1000.0);
    assert_int_equal(bt__bnd_dist(&b, &G, p, 0.0, 10.0, BT__BND_TOL_M, &w, &lo, &hi), BT_OK);
    assert_true(lo > 10.0 && lo <= 1000.0);
    assert_int_equal(bt__bnd_dist(&b, &G, p, 5000.0, 6000.0, BT__BND_TOL_M, &w, &lo, &hi), BT_OK);
    assert_true(hi <= 5000.0 && hi >= 1000.0 - 1e-6);
    /* a box over all longitudes has no meridians; a pole has no parallel */
    struct bt__bnd b2 = {0};
    assert_int_equal(bt__bnd_add_box(&b2, (bt_bbox){-180.0, 80.0, 180.0, 90.0}), BT_OK);
    assert_int_equal(bt__bnd_build(&b2), BT_OK);
    assert_int_equal(b2.ne, 1);
    p = (bt_lonlat){10.0, 89.0};
    assert_int_equal(bt__bnd_dist(&b2, &G, p, -1, INFINITY, BT__BND_TOL_M, &w, &lo, &hi), BT_OK);
    double dm = gdist(10.0, 89.0, 10.0, 80.0);
    assert_true(lo <= dm + 1e-6 && hi >= dm - 1e-6 && hi - lo <= BT__BND_TOL_M);
    /* the cell bound never exceeds the distance of the cell's points */
    double cl = bt__bnd_cell_lb(&b, 128.1, 41.1, 128.2, 41.2, INFINITY);
    assert_true(cl > 0.0 && cl <= gdist(128.1, 41.1, 128.0, 41.1));
    assert_true(bt__bnd_cell_lb(&b, 127.9, 41.1, 128.1, 41.2, INFINITY) <= 0.0);
    bt__bnd_free(&b2);
    /* a box shrunk to a point is that point */
    assert_int_equal(bt__bnd_add_box(&b2, (bt_bbox){128.2, 41.0, 128.2, 41.0}), BT_OK);
    assert_int_equal(bt__bnd_build(&b2), BT_OK);
    p = gmove(128.2, 41.0, 30.0, 777.0);
    assert_int_equal(bt__bnd_dist(&b2, &G, p, -1, INFINITY, BT__BND_TOL_M, &w, &lo, &hi), BT_OK);
    assert_true(lo <= 777.0 + 1e-6 && hi >= 777.0 - 1e-6 && hi - lo <= BT__BND_TOL_M);
    bt__bnd_free(&b2);
    /* an empty boundary: nothing to be near */
    assert_int_equal(bt__bnd_dist(&b2, &G, p, -1, INFINITY, BT__BND_TOL_M, &w, &lo, &hi), BT_OK);
    assert_true(isinf(lo) && isinf(hi));
    bt__bnd_work_free(&w);
    bt__bnd_free(&b);
}

/* ---- through the store ----------------------------------------------------------- */

struct inc_ref {
    int64_t id;
    double lon, lat, u;
    int want[3]; /* the reference per bt_match, once computed (else -2) */
};

struct fx {
    fx_dir d;
    char path[512];
    bt_store *s;
    struct inc_ref *v;
    size_t n, cap;
};

static void fx_open(struct fx *f)
{
    memset(f, 0, sizeof *f);
    assert_int_equal(fx_dir_make(&f->d), 0);
    assert_int_equal(bt_store_open(fx_file(&f->d, "m.sqlite", f->path, sizeof f->path),
                                   BT_OPEN_READWRITE | BT_OPEN_CREATE, &f->s, NULL),
                     BT_OK);
}

static void fx_close(struct fx *f)
{
    bt_store_close(f->s);
    free(f->v);
    fx_dir_remove(&f->d);
}

static void fx_add(struct fx *f, bt_lonlat p, double u)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 256;
        f->v = realloc(f->v, f->cap * sizeof *f->v);
    }
    char ref[32];
    snprintf(ref, sizeof ref, "M-%zu", f->n);
    bt_incident inc;
    bt_incident_init(&inc);
    inc.ref = ref;
    inc.where = p;
    inc.uncertainty_m = u;
    inc.start = FX_T_2020_07_01;
    inc.end = FX_T_2020_07_01 + 3600;
    int64_t id = 0;
    assert_int_equal(bt_incident_add(f->s, &inc, &id), BT_OK);
    f->v[f->n++] = (struct inc_ref){id, p.lon, p.lat, u, {-2, -2, -2}};
}

static int count_csv_lines(const void *buf, size_t n, void *udata)
{
    size_t *lines = udata;
    for (size_t i = 0; i < n; i++) *lines += ((const char *)buf)[i] == '\n';
    return 0;
}

static int collect_cb(const bt_incident *inc, double d, void *udata)
{
    (void)d;
    int64_t *ids = udata;
    ids[++ids[0]] = inc->id;
    return 0;
}

/* Runs one query through bt_incident_query_all, bt_incident_count, bt_incident_query
 * and the export filter, and compares with the brute force outside the band. Returns
 * the number of hits. */
static size_t check_area(struct fx *f, const struct area *a, bt_match m, size_t *left_out)
{
    bt_query q;
    bt_query_init(&q);
    q.area = (bt_area_kind)a->kind;
    if (a->kind == BT_AREA_BBOX)
        q.box = a->box;
    else
        q.wkt = a->wkt;
    q.match = m;
    bt_hit *hits = NULL;
    size_t nh = 0;
    int rc = bt_incident_query_all(f->s, &q, &hits, &nh);
    if (rc) fprintf(stderr, "%s\n", bt_store_errmsg(f->s));
    assert_int_equal(rc, BT_OK);
    int64_t total = -1;
    assert_int_equal(bt_incident_count(f->s, &q, &total, NULL), BT_OK);
    assert_int_equal(total, (int64_t)nh);
    size_t j = 0, bad = 0;
    for (size_t i = 0; i < f->n; i++) {
        const struct inc_ref *x = &f->v[i];
        bool got = j < nh && hits[j].id == x->id;
        if (got) j++;
        if (x->want[m] == -2) f->v[i].want[m] = bf_match(a, x->lon, x->lat, x->u, m);
        int want = x->want[m];
        if (want < 0) {
            (*left_out)++;
            continue;
        }
        if (want != (int)got) {
            double lo, hi, d;
            bf_dist(a, x->lon, x->lat, &lo, &hi, &d);
            fprintf(stderr, "match %d id %lld (%.9f, %.9f) u %.4f: got %d want %d, d_bf %.4f "
                    "inside %d\n", (int)m, (long long)x->id, x->lon, x->lat, x->u, got,
                    want, d, bf_inside(a, x->lon, x->lat));
            bad++;
        }
    }
    assert_int_equal(j, nh); /* hits are known ids in increasing order */
    assert_int_equal(bad, 0);
    /* the callback query and the export filter select the same incidents */
    int64_t *ids = calloc(nh + 2, sizeof *ids);
    assert_int_equal(bt_incident_query(f->s, &q, collect_cb, ids), BT_OK);
    assert_int_equal(ids[0], (int64_t)nh);
    for (size_t i = 0; i < nh; i++) assert_true(ids[i + 1] == hits[i].id);
    free(ids);
    bt_export_options opt;
    bt_export_options_init(&opt);
    opt.format = BT_FORMAT_CSV;
    opt.filter = &q;
    size_t lines = 0;
    assert_int_equal(bt_export_write(f->s, count_csv_lines, &lines, &opt), BT_OK);
    assert_int_equal(lines, nh + 1); /* with the header row */
    bt_hits_free(hits);
    return nh;
}

/* Random incidents around an area: many near its boundary with uncertainties on the
 * scale of their offsets, some far, some exact (u = 0). */
static void fill_random(struct fx *f, const struct area *a, rng *r, size_t n, double umax)
{
    assert_int_equal(bt_store_begin(f->s), BT_OK);
    for (size_t i = 0; i < n; i++) {
        bt_lonlat p = near_boundary(a, r, i % 5 == 0 ? 4.0 * umax : umax);
        double u = rnext(r) % 8 == 0 ? 0.0 : runif(r, 0.0, umax);
        fx_add(f, p, u);
    }
    assert_int_equal(bt_store_commit(f->s), BT_OK);
}

static void run_area(struct fx *f, const struct area *a, size_t counts[3], size_t *left_out)
{
    for (int m = 0; m < 3; m++) counts[m] += check_area(f, a, (bt_match)m, left_out);
}

static void test_store_boxes(void **state)
{
    (void)state;
    geod_init(&G, 6378137.0, 1.0 / 298.257223563);
    rng r = {2024};
    size_t total = 0, left_out = 0;
    for (int k = 0; k < 6; k++) {
        struct fx f;
        fx_open(&f);
        struct area a;
        area_box(&a, random_box(&r, k % 3));
        double umax = k < 3 ? 3000.0 : 400.0;
        fill_random(&f, &a, &r, 700, umax);
        size_t counts[3] = {0};
        run_area(&f, &a, counts, &left_out);
        /* point <= possible, certain <= point, and the semantics make a difference */
        assert_true(counts[1] > counts[0] && counts[2] < counts[0]);
        /* writes after the build go to the overlay: same answers */
        fill_random(&f, &a, &r, 60, umax);
        run_area(&f, &a, counts, &left_out);
        total += f.n;
        area_free(&a);
        fx_close(&f);
    }
    print_message("boxes: %zu incidents x 2 rounds x 3 semantics, %zu decisions in the band\n",
                  total, left_out);
    assert_true(left_out < total / 50);
}

static void test_store_polygons(void **state)
{
    (void)state;
    geod_init(&G, 6378137.0, 1.0 / 298.257223563);
    rng r = {77};
    size_t total = 0, left_out = 0;
    for (int k = 0; k < 4; k++) {
        struct fx f;
        fx_open(&f);
        bt_lonlat outer[12], hole[4];
        size_t n[2] = {6 + rnext(&r) % 7, 4};
        double lon = 128.0 + runif(&r, -1, 1), lat = k == 3 ? 87.5 : 41.0 + runif(&r, -1, 1);
        random_star(&r, lon, lat, 0.15, n[0], outer);
        /* a small square hole around the centre (inside the star's inner radius) */
        double hs = 0.02, hc = cos(lat / 57.29577951308232);
        hole[0] = (bt_lonlat){lon - hs / hc, lat - hs};
        hole[1] = (bt_lonlat){lon - hs / hc, lat + hs};
        hole[2] = (bt_lonlat){lon + hs / hc, lat + hs};
        hole[3] = (bt_lonlat){lon + hs / hc, lat - hs};
        bt_lonlat *rings[2] = {outer, hole};
        struct area a;
        area_poly(&a, rings, n, k % 2 ? 2 : 1);
        double umax = k < 2 ? 2500.0 : 500.0;
        fill_random(&f, &a, &r, 700, umax);
        size_t counts[3] = {0};
        run_area(&f, &a, counts, &left_out);
        assert_true(counts[1] > counts[0] && counts[2] < counts[0]);
        /* the same polygon as a ring (no hole) */
        if (a.nrings == 1) {
            bt_query q;
            bt_query_init(&q);
            q.area = BT_AREA_POLYGON;
            q.ring = outer;
            q.nring = n[0];
            q.match = BT_MATCH_CERTAIN;
            int64_t t1 = -1, t2 = -2;
            assert_int_equal(bt_incident_count(f.s, &q, &t1, NULL), BT_OK);
            q.ring = NULL;
            q.wkt = a.wkt;
            assert_int_equal(bt_incident_count(f.s, &q, &t2, NULL), BT_OK);
            assert_int_equal(t1, t2);
        }
        fill_random(&f, &a, &r, 60, umax);
        run_area(&f, &a, counts, &left_out);
        total += f.n;
        area_free(&a);
        fx_close(&f);
    }
    print_message("polygons: %zu incidents x 2 rounds x 3 semantics, %zu in the band\n", total,
                  left_out);
    assert_true(left_out < total / 50);
}

/* Hand-built: a point 1000 m south of a box's south edge (on a meridian through the
 * edge) with u = 999 / 1001, and its mirror 1000 m inside. */
static void test_store_exact(void **state)
{
    (void)state;
    geod_init(&G, 6378137.0, 1.0 / 298.257223563);
    struct fx f;
    fx_open(&f);
    bt_bbox box = {128.0, 41.0, 128.5, 41.4};
    bt_lonlat out = gmove(128.2, 41.0, 180.0, 1000.0), in = gmove(128.2, 41.0, 0.0, 1000.0);
    assert_true(fabs(gdist(out.lon, out.lat, 128.2, 41.0) - 1000.0) < 1e-6);
    fx_add(&f, out, 999.0);  /* 1 */
    fx_add(&f, out, 1001.0); /* 2 */
    fx_add(&f, in, 999.0);   /* 3 */
    fx_add(&f, in, 1001.0);  /* 4 */
    fx_add(&f, in, 0.0);     /* 5 */
    fx_add(&f, out, 0.0);    /* 6 */
    /* a polygon: a triangle with the same south edge; the points are 1000 m from it */
    bt_lonlat tri[3] = {{128.0, 41.0}, {128.4, 41.0}, {128.2, 41.3}};
    bt_query q;
    for (int area = 0; area < 2; area++) {
        bt_query_init(&q);
        if (area == 0) {
            q.area = BT_AREA_BBOX;
            q.box = box;
        } else {
            q.area = BT_AREA_POLYGON;
            q.ring = tri;
            q.nring = 3;
        }
        bt_hit *h = NULL;
        size_t n = 0;
        q.match = BT_MATCH_POSSIBLE;
        assert_int_equal(bt_incident_query_all(f.s, &q, &h, &n), BT_OK);
        assert_int_equal(n, 4);
        assert_true(h[0].id == f.v[1].id && h[1].id == f.v[2].id && h[2].id == f.v[3].id &&
                    h[3].id == f.v[4].id);
        bt_hits_free(h);
        q.match = BT_MATCH_CERTAIN;
        assert_int_equal(bt_incident_query_all(f.s, &q, &h, &n), BT_OK);
        assert_int_equal(n, 2);
        assert_true(h[0].id == f.v[2].id && h[1].id == f.v[4].id);
        bt_hits_free(h);
        q.match = BT_MATCH_POINT;
        assert_int_equal(bt_incident_query_all(f.s, &q, &h, &n), BT_OK);
        assert_int_equal(n, 3);
        bt_hits_free(h);
    }
    /* across the antimeridian: a box 179.9 .. -179.9, points 1000 m east of its east
     * meridian and 1000 m west of its west one */
    bt_bbox am = {179.9, -10.0, -179.9, 10.0};
    fx_add(&f, gmove(-179.9, 0.0, 90.0, 1000.0), 1001.0); /* 7 */
    fx_add(&f, gmove(179.9, 0.0, 270.0, 1000.0), 999.0);  /* 8 */
    fx_add(&f, gmove(-179.9, 0.0, 270.0, 1000.0), 999.0); /* 9: inside */
    bt_query_init(&q);
    q.area = BT_AREA_BBOX;
    q.box = am;
    q.match = BT_MATCH_POSSIBLE;
    int64_t t = 0;
    assert_int_equal(bt_incident_count(f.s, &q, &t, NULL), BT_OK);
    assert_int_equal(t, 2); /* 7 and 9 */
    q.match = BT_MATCH_CERTAIN;
    assert_int_equal(bt_incident_count(f.s, &q, &t, NULL), BT_OK);
    assert_int_equal(t, 1); /* 9 */
    /* a MULTIPOLYGON: the second part's boundary counts as much as the first's */
    fx_add(&f, gmove(129.2, 42.0, 180.0, 1000.0), 1001.0); /* 10 */
    fx_add(&f, gmove(129.2, 42.0, 180.0, 1000.0), 999.0);  /* 11 */
    bt_query_init(&q);
    q.area = BT_AREA_POLYGON;
    q.wkt = "MULTIPOLYGON(((128 41,128.5 41,128.5 41.4,128 41.4,128 41)),"
            "((129 42,129.5 42,129.5 42.3,129 42.3,129 42)))";
    q.match = BT_MATCH_POSSIBLE;
    assert_int_equal(bt_incident_count(f.s, &q, &t, NULL), BT_OK);
    assert_int_equal(t, 5); /* 2, 3, 4, 5 and 10 */
    q.match = BT_MATCH_CERTAIN;
    assert_int_equal(bt_incident_count(f.s, &q, &t, NULL), BT_OK);
    assert_int_equal(t, 2); /* 3 and 5 */
    /* the match of a query without an area is ignored, as before */
    bt_query_init(&q);
    q.match = BT_MATCH_CERTAIN;
    assert_int_equal(bt_incident_count(f.s, &q, &t, NULL), BT_OK);
    assert_int_equal(t, (int64_t)f.n);
    /* nearest with a possible-box filter keeps only what the filter matches */
    bt_query_init(&q);
    q.area = BT_AREA_BBOX;
    q.box = box;
    q.match = BT_MATCH_POSSIBLE;
    bt_hit *h = NULL;
    size_t n = 0;
    assert_int_equal(bt_incident_nearest(f.s, (bt_lonlat){128.2, 41.0}, 10, &q, &h, &n), BT_OK);
    assert_int_equal(n, 4);
    bt_hits_free(h);
    /* the k-d cells: whole when provably in by the largest uncertainty (1001 m here),
     * dropped when provably out, else left to the points */
    struct bt__plan p;
    for (int m = 1; m <= 2; m++) {
        q.match = (bt_match)m;
        assert_int_equal(bt__plan_init(f.s, &q, "test", &p), BT_OK);
        assert_int_equal(bt__plan_cell(&p, 128.2, 41.15, 128.3, 41.25), BT__CELL_IN);
        assert_int_equal(bt__plan_cell(&p, 129.0, 42.0, 129.1, 42.1), BT__CELL_OUT);
        assert_int_equal(bt__plan_cell(&p, 127.9, 41.1, 128.1, 41.2), BT__CELL_PART);
        /* small cells (the bound is the centre's less the cell's radius): 500 m inside
         * the south edge, in but not by 1001 m ... */
        double y = gmove(128.2, 41.0, 0.0, 500.0).lat;
        assert_int_equal(bt__plan_cell(&p, 128.2, y, 128.201, y + 0.001),
                         m == 1 ? BT__CELL_IN : BT__CELL_PART);
        /* ... and 500 m outside: not out by 1001 m for "possible" */
        y = gmove(128.2, 41.0, 180.0, 500.0).lat;
        assert_int_equal(bt__plan_cell(&p, 128.2, y - 0.001, 128.201, y),
                         m == 1 ? BT__CELL_PART : BT__CELL_OUT);
        bt__plan_free(&p);
    }
    fx_close(&f);
}

#ifdef BT_FAULT_INJECTION
/* Every allocation failure inside a query with the uncertainty semantics (boundary,
 * work space, index) gives BT_ERR_NOMEM and nothing leaked, or the unfaulted answer. */
static void test_fault_walk(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f);
    rng r = {5};
    bt_lonlat outer[8], hole[4] = {{128.19, 41.39}, {128.19, 41.41}, {128.21, 41.41},
                                   {128.21, 41.39}};
    random_star(&r, 128.2, 41.4, 0.1, 8, outer);
    size_t n[2] = {8, 4};
    bt_lonlat *rings[2] = {outer, hole};
    struct area a;
    area_poly(&a, rings, n, 2);
    fill_random(&f, &a, &r, 300, 2000.0);
    bt_query q;
    bt_query_init(&q);
    q.area = BT_AREA_POLYGON;
    q.wkt = a.wkt;
    for (int m = 1; m <= 2; m++) {
        q.match = (bt_match)m;
        for (int area = 0; area < 2; area++) {
            if (area == 1) {
                q.area = BT_AREA_BBOX;
                q.box = (bt_bbox){128.15, 41.35, 128.25, 41.45};
            }
            int64_t want = -1;
            bt__index_free(f.s); /* the walk covers the index build as well */
            assert_int_equal(bt_incident_count(f.s, &q, &want, NULL), BT_OK);
            bt__index_free(f.s);
            long k;
            for (k = 1; k < 100000; k++) {
                int64_t got = -1;
                bt__alloc_fail_after(k);
                int rc = bt_incident_count(f.s, &q, &got, NULL);
                long made = bt__alloc_fail_after(0);
                if (rc == BT_OK) {
                    assert_true(made < k);
                    assert_int_equal(got, want);
                    break;
                }
                assert_int_equal(rc, BT_ERR_NOMEM);
            }
            q.area = BT_AREA_POLYGON;
            print_message("match %d area %d: %ld failure points\n", m, area, k - 1);
        }
    }
    area_free(&a);
    fx_close(&f);
}
#endif

int main(void)
{
    geod_init(&G, 6378137.0, 1.0 / 298.257223563);
    /* bt__bnd_dist() is called directly with G: the library's own calls to PROJ go
     * through its table, filled when it loads PROJ (lib/core/deps.h) */
    if (bt__proj_load(NULL) != BT_OK) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dist_exact),
        cmocka_unit_test(test_dist_random),
        cmocka_unit_test(test_store_exact),
        cmocka_unit_test(test_store_boxes),
        cmocka_unit_test(test_store_polygons),
#ifdef BT_FAULT_INJECTION
        cmocka_unit_test(test_fault_walk),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
