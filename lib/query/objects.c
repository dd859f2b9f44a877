/**
 * @file objects.c
 * @brief Area and time queries over installations and border segments, and the
 * nearest segment. There are few of these records (thousands, not millions), so the
 * file's R*Tree selects candidates and each is tested exactly: geodesic distance to a
 * point or polyline for circles, GEOS (planar lon/lat) for boxes and polygons.
 *
 * Distance from a point P to a geodesic edge A-B: the distance to the point at
 * arc length t along the edge, minimised over t by golden-section search to 0.1 mm of
 * arc (the distance is unimodal along an edge much shorter than the Earth's radius,
 * which border and fence edges are). Edges are screened first with a lower bound:
 * every point X of the edge is within len/2 of A or of B, so d(P, X) >=
 * min(chord(P, A), chord(P, B)) - len/2, with len itself bounded above through the
 * chord of A-B (plan.c states the chord/arc bound).
 */
#include "query/query_internal.h"
#include "store/backend.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN 0.6180339887498949
#define ARC_TOL_M 1e-4

/* Upper bound of a geodesic's length from its chord (plan.c). */
static double arc_upper(double chord)
{
    double x = (chord + BT__EPS_M) / (2.0 * BT__M_MIN);
    if (x >= 1.0) return 2.1e7; /* longer than any geodesic on WGS 84 */
    return 2.0 * BT__M_MIN * asin(x) + BT__EPS_M;
}

static double chord(const double a[3], const double b[3])
{
    double dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];
    return sqrt(dx * dx + dy * dy + dz * dz);
}

/* Exact geodesic distance from p to the geodesic edge a-b. */
static double edge_dist(const struct geod_geodesic *g, bt_lonlat p, bt_lonlat a, bt_lonlat b)
{
    double len, azi1, azi2;
    geod_inverse(g, a.lat, a.lon, b.lat, b.lon, &len, &azi1, &azi2);
    double da = bt__geod_dist(g, p, a), db = bt__geod_dist(g, p, b);
    double best = fmin(da, db);
    if (len <= ARC_TOL_M) return best;
    struct geod_geodesicline l;
    geod_lineinit(&l, g, a.lat, a.lon, azi1, GEOD_LATITUDE | GEOD_LONGITUDE | GEOD_DISTANCE_IN);
    double lo = 0.0, hi = len;
    double t1 = hi - GOLDEN * (hi - lo), t2 = lo + GOLDEN * (hi - lo);
    double lat, lon;
    geod_position(&l, t1, &lat, &lon, NULL);
    double f1 = bt__geod_dist(g, p, (bt_lonlat){lon, lat});
    geod_position(&l, t2, &lat, &lon, NULL);
    double f2 = bt__geod_dist(g, p, (bt_lonlat){lon, lat});
    while (hi - lo > ARC_TOL_M) {
        if (f1 <= f2) {
            hi = t2;
            t2 = t1;
            f2 = f1;
            t1 = hi - GOLDEN * (hi - lo);
            geod_position(&l, t1, &lat, &lon, NULL);
            f1 = bt__geod_dist(g, p, (bt_lonlat){lon, lat});
        } else {
            lo = t1;
            t1 = t2;
            f1 = f2;
            t2 = lo + GOLDEN * (hi - lo);
            geod_position(&l, t2, &lat, &lon, NULL);
            f2 = bt__geod_dist(g, p, (bt_lonlat){lon, lat});
        }
    }
    return fmin(best, fmin(f1, f2));
}

/* Geodesic distance from p to a point or polyline; stops early once it is known to be
 * <= stop_below (then returns a value <= stop_below, not necessarily the minimum). */
static double geom_dist(const struct geod_geodesic *g, bt_lonlat p, const bt_lonlat *pts,
                        size_t n, double stop_below)
{
    if (n == 1) return bt__geod_dist(g, p, pts[0]);
    double pe[3];
    bt__ecef(p.lon, p.lat, &pe[0], &pe[1], &pe[2]);
    double best = INFINITY;
    double prev[3];
    bt__ecef(pts[0].lon, pts[0].lat, &prev[0], &prev[1], &prev[2]);
    /* screen edges by the lower bound, nearest bound first */
    struct eb {
        double lb;
        size_t i;
    } *e = bt__malloc((n - 1) * sizeof *e);
    if (!e) return NAN;
    for (size_t i = 0; i + 1 < n; i++) {
        double cur[3];
        bt__ecef(pts[i + 1].lon, pts[i + 1].lat, &cur[0], &cur[1], &cur[2]);
        double lb = fmin(chord(pe, prev), chord(pe, cur)) - 0.5 * arc_upper(chord(prev, cur)) -
                    BT__EPS_M;
        e[i].lb = lb;
        e[i].i = i;
        memcpy(prev, cur, sizeof prev);
    }
    /* selection by repeated minimum: polylines are short and most edges pruned */
    size_t left = n - 1;
    while (left) {
        size_t m = 0;
        for (size_t j = 1; j < left; j++)
            if (e[j].lb < e[m].lb) m = j;
        if (e[m].lb > best) break;
        double d = edge_dist(g, p, pts[e[m].i], pts[e[m].i + 1]);
        if (d < best) best = d;
        if (best <= stop_below) break;
        e[m] = e[--left];
    }
    bt__free(e);
    return best;
}

/* A point or line as a GEOS geometry (planar lon/lat). */
static GEOSGeometry *geos_of(GEOSContextHandle_t h, const bt_lonlat *pts, size_t n)
{
    if (n == 1) return GEOSGeom_createPointFromXY_r(h, pts[0].lon, pts[0].lat);
    if (n > UINT_MAX) return NULL;
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(h, (unsigned)n, 2);
    if (!cs) return NULL;
    for (size_t i = 0; i < n; i++) GEOSCoordSeq_setXY_r(h, cs, (unsigned)i, pts[i].lon, pts[i].lat);
    return GEOSGeom_createLineString_r(h, cs);
}

static GEOSGeometry *geos_box(GEOSContextHandle_t h, bt_bbox b)
{
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(h, 5, 2);
    if (!cs) return NULL;
    GEOSCoordSeq_setXY_r(h, cs, 0, b.west, b.south);
    GEOSCoordSeq_setXY_r(h, cs, 1, b.east, b.south);
    GEOSCoordSeq_setXY_r(h, cs, 2, b.east, b.north);
    GEOSCoordSeq_setXY_r(h, cs, 3, b.west, b.north);
    GEOSCoordSeq_setXY_r(h, cs, 4, b.west, b.south);
    GEOSGeometry *r = GEOSGeom_createLinearRing_r(h, cs);
    return r ? GEOSGeom_createPolygon_r(h, r, NULL, 0) : NULL;
}

/* Does the geometry meet the plan's area? Sets *dist for circles. */
static int geom_match(struct bt__plan *p, const bt_lonlat *pts, size_t n, double *dist)
{
    *dist = NAN;
    switch (p->q.area) {
    case BT_AREA_NONE:
        return BT__YES;
    case BT_AREA_CIRCLE: {
        const struct geod_geodesic *gg = bt__plan_geod(p);
        if (!gg) return BT__NO;
        double d = geom_dist(gg, p->q.centre, pts, n, -1.0);
        if (isnan(d)) {
            p->err = bt__error(p->s, BT_ERR_NOMEM, "query: out of memory");
            return BT__NO;
        }
        *dist = d;
        return d <= p->q.radius_m ? BT__YES : BT__NO;
    }
    case BT_AREA_BBOX:
    case BT_AREA_POLYGON: {
        /* a polygon plan has the context already; a box gets it at the first record */
        if (!p->h) {
            int rc = bt__geos(p->s, &p->h);
            if (rc) {
                if (!p->err) p->err = rc;
                return BT__NO;
            }
        }
        GEOSContextHandle_t h = p->h;
        GEOSGeometry *g = geos_of(h, pts, n);
        if (!g) {
            p->err = bt__error(p->s, BT_ERR_GEOMETRY, "query: cannot build a geometry");
            return BT__NO;
        }
        char r = 0;
        if (p->q.area == BT_AREA_POLYGON) {
            r = GEOSPreparedIntersects_r(h, p->prep, g);
        } else {
            for (size_t k = 0; k < p->nbox && r == 0; k++) {
                GEOSGeometry *b = geos_box(h, p->box[k]);
                r = b ? GEOSIntersects_r(h, b, g) : 2;
                GEOSGeom_destroy_r(h, b);
            }
        }
        GEOSGeom_destroy_r(h, g);
        if (r == 2) {
            p->err = bt__error(p->s, BT_ERR_GEOMETRY, "query: geometry test failed");
            return BT__NO;
        }
        return r ? BT__YES : BT__NO;
    }
    default:
        return BT__NO;
    }
}

/* Last second of the period a date names (its t is the first second). */
static int64_t date_last(bt_date d)
{
    char buf[40];
    int64_t last = d.t;
    if (d.precision == BT_TIME_SECOND) return d.t;
    if (bt_time_format(d.t, d.precision, buf, sizeof buf) > 0 &&
        bt_time_parse(buf, NULL, &last, NULL) == BT_OK)
        return last;
    return d.t;
}

struct obj_run {
    struct bt__plan *p;
    bt_installation_cb icb;
    bt_segment_cb scb;
    void *udata;
    size_t delivered;
    bool stopped;
};

static int inst_row(const bt_installation *inst, void *udata)
{
    struct obj_run *r = udata;
    struct bt__plan *p = r->p;
    if (p->types && !(p->types & (1u << ((unsigned)inst->kind & 31u)))) return 0;
    if (p->has_time) {
        int64_t a = inst->start.precision != BT_TIME_NONE ? inst->start.t : INT64_MIN;
        int64_t b = inst->end.precision != BT_TIME_NONE ? date_last(inst->end) : INT64_MAX;
        if (a > p->q.to || b < p->q.from) return 0;
    }
    double d;
    if (geom_match(p, inst->points, inst->npoints, &d) != BT__YES) return p->err ? 1 : 0;
    r->delivered++;
    if (r->icb(inst, d, r->udata)) {
        r->stopped = true;
        return 1;
    }
    return p->q.limit && r->delivered >= p->q.limit;
}

int bt_installation_query(bt_store *store, const bt_query *q, bt_installation_cb cb,
                          void *udata)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!cb) return bt__error(store, BT_ERR_INVALID, "bt_installation_query: callback is NULL");
    struct bt__plan p;
    int rc = bt__plan_init(store, q, "bt_installation_query", &p);
    if (rc) return rc;
    struct obj_run r = {.p = &p, .icb = cb, .udata = udata};
    /* Ids must come out increasing: with two boxes, the second scan's ids are merged
     * by running it only when the first found nothing past... simpler: one world-wide
     * longitude span when the area crosses the antimeridian (few records). */
    bt_bbox box = p.box[0];
    if (p.nbox == 2) box = (bt_bbox){-180.0, fmin(p.box[0].south, p.box[1].south), 180.0,
                                     fmax(p.box[0].north, p.box[1].north)};
    rc = store->be->installation_scan_bbox(store, box, inst_row, &r);
    if (!rc) rc = p.err;
    bt__plan_free(&p);
    return rc;
}

static int seg_row(const bt_segment *seg, void *udata)
{
    struct obj_run *r = udata;
    double d;
    if (geom_match(r->p, seg->points, seg->npoints, &d) != BT__YES) return r->p->err ? 1 : 0;
    r->delivered++;
    if (r->scb(seg, d, r->udata)) {
        r->stopped = true;
        return 1;
    }
    return r->p->q.limit && r->delivered >= r->p->q.limit;
}

int bt_segment_query(bt_store *store, const bt_query *q, bt_segment_cb cb, void *udata)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!cb) return bt__error(store, BT_ERR_INVALID, "bt_segment_query: callback is NULL");
    struct bt__plan p;
    int rc = bt__plan_init(store, q, "bt_segment_query", &p);
    if (rc) return rc;
    struct obj_run r = {.p = &p, .scb = cb, .udata = udata};
    bt_bbox box = p.box[0];
    if (p.nbox == 2) box = (bt_bbox){-180.0, fmin(p.box[0].south, p.box[1].south), 180.0,
                                     fmax(p.box[0].north, p.box[1].north)};
    rc = store->be->segment_scan_bbox(store, box, seg_row, &r);
    if (!rc) rc = p.err;
    bt__plan_free(&p);
    return rc;
}

struct nearest_ctx {
    bt_store *s;
    const struct geod_geodesic *g;
    bt_lonlat p;
    const char *border;
    int64_t id;
    double best;
    int err;
};

static int nearest_row(const bt_segment *seg, void *udata)
{
    struct nearest_ctx *c = udata;
    if (c->border && (!seg->border || strcmp(seg->border, c->border) != 0)) return 0;
    double d = geom_dist(c->g, c->p, seg->points, seg->npoints, -1.0);
    if (isnan(d)) {
        c->err = bt__error(c->s, BT_ERR_NOMEM, "bt_segment_nearest: out of memory");
        return 1;
    }
    if (d < c->best || (d == c->best && seg->id < c->id)) {
        c->best = d;
        c->id = seg->id;
    }
    return 0;
}

int bt_segment_nearest(bt_store *store, bt_lonlat p, const char *border, int64_t *id,
                       double *distance_m)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!id) return bt__error(store, BT_ERR_INVALID, "bt_segment_nearest: id is NULL");
    if (!isfinite(p.lon) || !isfinite(p.lat) || fabs(p.lon) > 180.0 || fabs(p.lat) > 90.0)
        return bt__error(store, BT_ERR_INVALID,
                         "bt_segment_nearest: point (%g, %g) is not a valid lon/lat", p.lon,
                         p.lat);
    struct nearest_ctx c = {.s = store, .p = p, .border = border, .best = INFINITY};
    c.g = bt__geod(store);
    if (!c.g) return BT_ERR_INTERNAL;
    int rc = store->be->segment_scan_bbox(store, (bt_bbox){-180.0, -90.0, 180.0, 90.0},
                                          nearest_row, &c);
    if (!rc) rc = c.err;
    if (rc) return rc;
    if (c.id == 0)
        return bt__error(store, BT_ERR_NOT_FOUND, "bt_segment_nearest: no segment%s%s",
                         border ? " of border " : "", border ? border : "");
    *id = c.id;
    if (distance_m) *distance_m = c.best;
    return BT_OK;
}
