/**
 * @file plan.c
 * @brief A ::bt_query checked and compiled, and the exact test of one indexed incident
 * with the conservative shortcuts that spare most geodesic computations.
 *
 * The circle bounds. Let s be the geodesic distance between the centre C and a point
 * P on the WGS 84 surface and c the straight-line (chord) distance between them in
 * ECEF. Then
 *
 *     c <= s <= 2 M asin(c / (2 M)),        M = a(1 - e^2) = 6,335,439.3 m,
 *
 * as long as s <= pi M. The left side: a straight line is the shortest curve. The right
 * side: the shortest geodesic, seen as a space curve, has curvature equal to the
 * surface's normal curvature along it (its geodesic curvature is zero), which is at
 * most the largest principal curvature of the ellipsoid, 1 / M (the meridional radius
 * of curvature at the equator is the smallest radius anywhere). By Schur's comparison
 * theorem a curve of length s <= pi / k_max with curvature <= k_max has its ends at
 * least as far apart as those of a circular arc of length s and curvature k_max:
 * c >= 2 M sin(s / (2 M)). Solving for s gives the bound.
 *
 * So for a radius R: c > R means out; c <= 2 M sin(R / (2 M)) means in; only the thin
 * shell between (R^3 / (24 M^2) wide: 0.1 mm at 5 km, 1.6 cm at 25 km, 13 m at
 * 500 km) needs geod_inverse. Both thresholds are moved outward/inward by 10 micron,
 * far above the rounding error of the chord in doubles (~10 nm) and of geod_inverse
 * (~15 nm), so a shortcut never disagrees with geod_inverse. The inner bound is used
 * only for R <= 10,000 km, where every pair with c under the threshold has s < pi M.
 *
 * Whole k-d cells are settled without looking at their points through the unit
 * normals: the angle t between the normals of C and P satisfies M t <= s <= N t with
 * N = a^2 / b, the largest radius of curvature (the normal turns by at most s / M
 * along the geodesic; conversely the curve on the ellipsoid whose normals follow the
 * great circle between them is at most N t long). The normals of a lon/lat cell are a
 * spherical rectangle whose nearest and farthest angles from C's normal are computed
 * exactly in bt__cell_angles(); one metre of slack absorbs the rounding of acos.
 */
#include "query/query_internal.h"
#include "store/backend.h"

#include <math.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846
/* Guards the candidate boxes against rounding in their trigonometry, in degrees. */
#define BOX_MARGIN_DEG 1e-9
/* Slack of the cell bounds, metres (see above). */
#define CELL_SLACK_M 1.0
/* Largest radius for which the inner chord bound is used. */
#define INNER_MAX_M 1.0e7

void bt__ecef(double lon, double lat, double *x, double *y, double *z)
{
    double phi = lat / BT__DEG, lam = lon / BT__DEG;
    double sp = sin(phi), cp = cos(phi);
    double n = BT__A / sqrt(1.0 - BT__E2 * sp * sp);
    *x = n * cp * cos(lam);
    *y = n * cp * sin(lam);
    *z = n * (1.0 - BT__E2) * sp;
}

/* Near the centre (both differences within NEAR_RAD, 2.9 degrees) the point's latitude
 * comes from the centre's by the addition formulas and its longitude is measured from
 * the centre's meridian (turning the ECEF frame about the axis leaves chords as they
 * are), so only the small differences need a sine and cosine, from their Taylor series
 * through x^7 and x^8 (Horner in x^2, multiplications only): the first terms left out
 * are below 5.4e-18 and 2.7e-20, 4e-11 m at the earth's radius. No libm call on the
 * candidates of ordinary radii, where bt__ecef()'s two sincos were half of a 5 km
 * query. The result agrees with bt__ecef()'s to ~1e-9 m (tested), far inside
 * BT__EPS_M. */
#define NEAR_RAD 0.05

/* The longitude and latitude differences to the centre, radians (|dl| <= pi). */
static inline void centre_diff(const struct bt__plan *p, double lon, double lat, double *dl,
                               double *dp)
{
    double d = lon - p->q.centre.lon;
    d = d > 180.0 ? d - 360.0 : d < -180.0 ? d + 360.0 : d;
    *dl = d / BT__DEG;
    *dp = (lat - p->q.centre.lat) / BT__DEG;
}

/* The squared chord by the series, for |dl|, |dp| <= NEAR_RAD. */
static inline double near_chord2(const struct bt__plan *p, double dl, double dp)
{
    double p2 = dp * dp, l2 = dl * dl;
    double sdp = dp * (1.0 + p2 * (-1.0 / 6.0 + p2 * (1.0 / 120.0 + p2 * (-1.0 / 5040.0))));
    double cdp = 1.0 + p2 * (-0.5 + p2 * (1.0 / 24.0 + p2 * (-1.0 / 720.0 + p2 * (1.0 / 40320.0))));
    double sdl = dl * (1.0 + l2 * (-1.0 / 6.0 + l2 * (1.0 / 120.0 + l2 * (-1.0 / 5040.0))));
    double cdl = 1.0 + l2 * (-0.5 + l2 * (1.0 / 24.0 + l2 * (-1.0 / 720.0 + l2 * (1.0 / 40320.0))));
    double sp = p->sp0 * cdp + p->cp0 * sdp, cp = p->cp0 * cdp - p->sp0 * sdp;
    double n = BT__A / sqrt(1.0 - BT__E2 * sp * sp);
    double dx = n * cp * cdl - p->xr0, dy = n * cp * sdl, dz = n * (1.0 - BT__E2) * sp - p->zr0;
    return dx * dx + dy * dy + dz * dz;
}

static double far_chord2(const struct bt__plan *p, double lon, double lat)
{
    double x, y, z;
    bt__ecef(lon, lat, &x, &y, &z);
    double dx = x - p->cx, dy = y - p->cy, dz = z - p->cz;
    return dx * dx + dy * dy + dz * dz;
}

double bt__plan_chord2(const struct bt__plan *p, double lon, double lat)
{
    double dl, dp;
    centre_diff(p, lon, lat, &dl, &dp);
    if (!(fabs(dl) <= NEAR_RAD && fabs(dp) <= NEAR_RAD)) return far_chord2(p, lon, lat);
    return near_chord2(p, dl, dp);
}

void bt__plan_chord2_batch(const struct bt__plan *p, const struct bt__pts *pts,
                           const size_t *idx, size_t k, double *c2)
{
    /* the series for all in one branch-free loop (independent iterations), then the
     * few far ones again: the same value as bt__plan_chord2() for each */
    bool far = false;
    for (size_t j = 0; j < k; j++) {
        double dl, dp;
        centre_diff(p, pts->lon[idx[j]], pts->lat[idx[j]], &dl, &dp);
        far |= !(fabs(dl) <= NEAR_RAD && fabs(dp) <= NEAR_RAD);
        c2[j] = near_chord2(p, dl, dp);
    }
    if (!far) return;
    for (size_t j = 0; j < k; j++) {
        double dl, dp;
        centre_diff(p, pts->lon[idx[j]], pts->lat[idx[j]], &dl, &dp);
        if (!(fabs(dl) <= NEAR_RAD && fabs(dp) <= NEAR_RAD))
            c2[j] = far_chord2(p, pts->lon[idx[j]], pts->lat[idx[j]]);
    }
}

/* The largest chord that surely means a geodesic distance <= t (negative: none). */
static double inner_chord(double t)
{
    if (!(t - BT__EPS_M > 0.0) || t > INNER_MAX_M) return -1.0;
    return 2.0 * BT__M_MIN * sin((t - BT__EPS_M) / (2.0 * BT__M_MIN)) - BT__EPS_M;
}

static int64_t floor_div60(int64_t t)
{
    int64_t q = t / 60;
    if (t % 60 != 0 && t < 0) q--;
    return q;
}

static int64_t ceil_div60(int64_t t)
{
    int64_t q = t / 60;
    if (t % 60 != 0 && t > 0) q++;
    return q;
}

/* The boxes holding the circle: the normals of points within s lie within the angle
 * s / M of the centre's normal (see the file comment). */
static size_t circle_boxes(bt_lonlat c, double radius, bt_bbox box[2])
{
    double sigma = radius / BT__M_MIN;
    double south = c.lat - sigma * BT__DEG - BOX_MARGIN_DEG;
    double north = c.lat + sigma * BT__DEG + BOX_MARGIN_DEG;
    double phi = c.lat / BT__DEG;
    double dlon;
    if (sigma >= PI / 2.0 || north >= 90.0 || south <= -90.0 || sin(sigma) >= cos(phi))
        dlon = 180.0;
    else
        dlon = asin(sin(sigma) / cos(phi)) * BT__DEG + BOX_MARGIN_DEG;
    south = fmax(south, -90.0);
    north = fmin(north, 90.0);
    if (dlon >= 180.0) {
        box[0] = (bt_bbox){-180.0, south, 180.0, north};
        return 1;
    }
    double west = c.lon - dlon, east = c.lon + dlon;
    if (west < -180.0) {
        box[0] = (bt_bbox){-180.0, south, east, north};
        box[1] = (bt_bbox){west + 360.0, south, 180.0, north};
        return 2;
    }
    if (east > 180.0) {
        box[0] = (bt_bbox){-180.0, south, east - 360.0, north};
        box[1] = (bt_bbox){west, south, 180.0, north};
        return 2;
    }
    box[0] = (bt_bbox){west, south, east, north};
    return 1;
}

/* The boxes holding every point within @p extra metres of the lon/lat box b (west >
 * east crosses the antimeridian): such a point's normal is within sigma = extra / M
 * of the normal of a point of b (see the file comment), which reaches at most
 * asin(sin sigma / cos phi) further in longitude at latitude phi, and |phi| is at most
 * max(|south|, |north|) in b. */
static size_t grown_boxes(bt_bbox b, double extra, bt_bbox box[2])
{
    double sigma = extra / BT__M_MIN;
    double south = b.south - sigma * BT__DEG - BOX_MARGIN_DEG;
    double north = b.north + sigma * BT__DEG + BOX_MARGIN_DEG;
    double phi = fmax(fabs(b.south), fabs(b.north)) / BT__DEG;
    double dlon;
    if (sigma >= PI / 2.0 || north >= 90.0 || south <= -90.0 || sin(sigma) >= cos(phi))
        dlon = 360.0;
    else
        dlon = asin(sin(sigma) / cos(phi)) * BT__DEG + BOX_MARGIN_DEG;
    south = fmax(south, -90.0);
    north = fmin(north, 90.0);
    double west = b.west - dlon;
    double east = (b.west <= b.east ? b.east : b.east + 360.0) + dlon;
    if (east - west >= 360.0) {
        box[0] = (bt_bbox){-180.0, south, 180.0, north};
        return 1;
    }
    if (west < -180.0) {
        west += 360.0;
        east += 360.0;
    }
    if (east <= 180.0) {
        box[0] = (bt_bbox){west, south, east, north};
        return 1;
    }
    box[0] = (bt_bbox){west, south, 180.0, north};
    box[1] = (bt_bbox){-180.0, south, east - 360.0, north};
    return 2;
}

void bt__plan_widen(struct bt__plan *p, double extra)
{
    if (!(extra > 0.0)) return;
    if (!isfinite(extra) || extra > 4.0e7) extra = 4.0e7; /* the whole Earth */
    if (p->q.area == BT_AREA_CIRCLE)
        p->nbox = circle_boxes(p->q.centre, p->q.radius_m + extra, p->box);
    else if (p->has_bnd && p->q.match == BT_MATCH_POSSIBLE)
        p->nbox = grown_boxes(p->ext, extra, p->box);
}

static bool lon_ok(double x) { return isfinite(x) && x >= -180.0 && x <= 180.0; }
static bool lat_ok(double y) { return isfinite(y) && y >= -90.0 && y <= 90.0; }

static int build_polygon(bt_store *s, const bt_query *q, const char *fn, struct bt__plan *p)
{
    int rc = bt__geos(s, &p->h);
    if (rc) return rc;
    GEOSContextHandle_t h = p->h;
    if (q->ring) {
        if (q->nring < 3)
            return bt__error(s, BT_ERR_INVALID, "%s: polygon ring has %zu vertices; expected >= 3",
                             fn, q->nring);
        for (size_t i = 0; i < q->nring; i++)
            if (!lon_ok(q->ring[i].lon) || !lat_ok(q->ring[i].lat))
                return bt__error(s, BT_ERR_INVALID,
                                 "%s: polygon vertex %zu (%g, %g) is not a valid lon/lat", fn,
                                 i, q->ring[i].lon, q->ring[i].lat);
        bool closed = q->ring[0].lon == q->ring[q->nring - 1].lon &&
                      q->ring[0].lat == q->ring[q->nring - 1].lat;
        size_t n = q->nring + (closed ? 0 : 1);
        if (n < 4 || n > UINT_MAX)
            return bt__error(s, BT_ERR_INVALID, "%s: polygon ring has too few vertices", fn);
        GEOSCoordSequence *cs = GEOSCoordSeq_create_r(h, (unsigned)n, 2);
        if (!cs) return bt__error(s, BT_ERR_NOMEM, "%s: out of memory", fn);
        for (size_t i = 0; i < n; i++) {
            bt_lonlat v = q->ring[i < q->nring ? i : 0];
            GEOSCoordSeq_setXY_r(h, cs, (unsigned)i, v.lon, v.lat);
        }
        GEOSGeometry *lr = GEOSGeom_createLinearRing_r(h, cs);
        if (lr) p->poly = GEOSGeom_createPolygon_r(h, lr, NULL, 0);
        if (!p->poly) return bt__error(s, BT_ERR_GEOMETRY, "%s: cannot build the polygon", fn);
    } else {
        GEOSWKTReader *r = GEOSWKTReader_create_r(h);
        if (!r) return bt__error(s, BT_ERR_NOMEM, "%s: out of memory", fn);
        p->poly = GEOSWKTReader_read_r(h, r, q->wkt);
        GEOSWKTReader_destroy_r(h, r);
        if (!p->poly) return bt__error(s, BT_ERR_GEOMETRY, "%s: polygon WKT does not parse", fn);
        int t = GEOSGeomTypeId_r(h, p->poly);
        if (t != GEOS_POLYGON && t != GEOS_MULTIPOLYGON)
            return bt__error(s, BT_ERR_INVALID, "%s: WKT is not a POLYGON or MULTIPOLYGON", fn);
    }
    if (GEOSisEmpty_r(h, p->poly) == 1)
        return bt__error(s, BT_ERR_INVALID, "%s: the polygon is empty", fn);
    if (GEOSisValid_r(h, p->poly) != 1)
        return bt__error(s, BT_ERR_GEOMETRY, "%s: the polygon is not valid (self-intersecting?)",
                         fn);
    double x0, y0, x1, y1;
    if (!GEOSGeom_getXMin_r(h, p->poly, &x0) || !GEOSGeom_getYMin_r(h, p->poly, &y0) ||
        !GEOSGeom_getXMax_r(h, p->poly, &x1) || !GEOSGeom_getYMax_r(h, p->poly, &y1))
        return bt__error(s, BT_ERR_GEOMETRY, "%s: cannot read the polygon's extent", fn);
    if (!lon_ok(x0) || !lon_ok(x1) || !lat_ok(y0) || !lat_ok(y1))
        return bt__error(s, BT_ERR_INVALID, "%s: polygon coordinates outside lon/lat range", fn);
    p->prep = GEOSPrepare_r(h, p->poly);
    if (!p->prep) return bt__error(s, BT_ERR_GEOMETRY, "%s: cannot prepare the polygon", fn);
    p->box[0] = (bt_bbox){x0, y0, x1, y1};
    p->nbox = 1;
    p->ext = p->box[0];
    return BT_OK;
}

/* Adds the edges of one GEOS ring (closed: consecutive pairs are all its edges). */
static int ring_edges(struct bt__plan *p, const GEOSGeometry *ring)
{
    GEOSContextHandle_t h = p->h;
    const GEOSCoordSequence *cs = ring ? GEOSGeom_getCoordSeq_r(h, ring) : NULL;
    unsigned n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n)) return BT_ERR_GEOMETRY;
    double x0 = 0.0, y0 = 0.0;
    for (unsigned i = 0; i < n; i++) {
        double x, y;
        if (!GEOSCoordSeq_getXY_r(h, cs, i, &x, &y)) return BT_ERR_GEOMETRY;
        if (i && bt__bnd_add(&p->bnd, x0, y0, x, y)) return BT_ERR_NOMEM;
        x0 = x;
        y0 = y;
    }
    return BT_OK;
}

/* The boundary of a box or polygon for the uncertainty semantics. */
static int build_boundary(bt_store *s, const char *fn, struct bt__plan *p)
{
    int rc = BT_OK;
    if (p->q.area == BT_AREA_BBOX) {
        p->ext = p->q.box;
        rc = bt__bnd_add_box(&p->bnd, p->q.box);
    } else {
        GEOSContextHandle_t h = p->h;
        int ng = GEOSGetNumGeometries_r(h, p->poly);
        for (int g = 0; g < ng && !rc; g++) {
            const GEOSGeometry *pg = GEOSGetGeometryN_r(h, p->poly, g);
            int nh = pg ? GEOSGetNumInteriorRings_r(h, pg) : -1;
            if (nh < 0) {
                rc = BT_ERR_GEOMETRY;
                break;
            }
            rc = ring_edges(p, GEOSGetExteriorRing_r(h, pg));
            for (int k = 0; k < nh && !rc; k++) rc = ring_edges(p, GEOSGetInteriorRingN_r(h, pg, k));
        }
    }
    if (!rc) rc = bt__bnd_build(&p->bnd);
    if (rc == BT_ERR_NOMEM) return bt__error(s, rc, "%s: out of memory", fn);
    if (rc) return bt__error(s, rc, "%s: cannot read the polygon's rings", fn);
    p->has_bnd = true;
    return BT_OK;
}

int bt__plan_init(bt_store *s, const bt_query *qin, const char *fn, struct bt__plan *p)
{
    memset(p, 0, sizeof *p);
    p->s = s;
    if (qin)
        p->q = *qin;
    else
        bt_query_init(&p->q);
    const bt_query *q = &p->q;
    switch (q->area) {
    case BT_AREA_NONE:
        p->box[0] = (bt_bbox){-180.0, -90.0, 180.0, 90.0};
        p->nbox = 1;
        break;
    case BT_AREA_CIRCLE:
        if (!lon_ok(q->centre.lon) || !lat_ok(q->centre.lat))
            return bt__error(s, BT_ERR_INVALID, "%s: circle centre (%g, %g) is not a valid lon/lat",
                             fn, q->centre.lon, q->centre.lat);
        if (!isfinite(q->radius_m) || q->radius_m < 0.0)
            return bt__error(s, BT_ERR_INVALID, "%s: radius_m is %g; expected a finite value >= 0",
                             fn, q->radius_m);
        p->nbox = circle_boxes(q->centre, q->radius_m, p->box);
        bt__ecef(q->centre.lon, q->centre.lat, &p->cx, &p->cy, &p->cz);
        {
            double phi = q->centre.lat / BT__DEG;
            p->sp0 = sin(phi);
            p->cp0 = cos(phi);
            double n0 = BT__A / sqrt(1.0 - BT__E2 * p->sp0 * p->sp0);
            p->xr0 = n0 * p->cp0;
            p->zr0 = n0 * (1.0 - BT__E2) * p->sp0;
        }
        p->c2_out = (q->radius_m + BT__EPS_M) * (q->radius_m + BT__EPS_M);
        {
            double ci = inner_chord(q->radius_m);
            p->can_inner = ci > 0.0;
            p->c2_in = p->can_inner ? ci * ci : -1.0;
        }
        break;
    case BT_AREA_BBOX: {
        bt_bbox b = q->box;
        if (!lon_ok(b.west) || !lon_ok(b.east) || !lat_ok(b.south) || !lat_ok(b.north) ||
            b.south > b.north)
            return bt__error(s, BT_ERR_INVALID,
                             "%s: box (%g, %g, %g, %g) is not a valid lon/lat box "
                             "(west, south, east, north; south <= north)",
                             fn, b.west, b.south, b.east, b.north);
        if (b.west <= b.east) {
            p->box[0] = b;
            p->nbox = 1;
        } else {
            p->box[0] = (bt_bbox){b.west, b.south, 180.0, b.north};
            p->box[1] = (bt_bbox){-180.0, b.south, b.east, b.north};
            p->nbox = 2;
        }
        break;
    }
    case BT_AREA_POLYGON:
        if (!q->ring && !q->wkt)
            return bt__error(s, BT_ERR_INVALID, "%s: polygon area without ring or wkt", fn);
        {
            int rc = build_polygon(s, q, fn, p);
            if (rc) {
                bt__plan_free(p);
                return rc;
            }
        }
        break;
    default:
        return bt__error(s, BT_ERR_INVALID, "%s: area kind %d is not a bt_area_kind", fn,
                         (int)q->area);
    }
    int rc = BT_OK;
    if (q->from > q->to)
        rc = bt__error(s, BT_ERR_INVALID, "%s: time window starts (%lld) after it ends (%lld)",
                       fn, (long long)q->from, (long long)q->to);
    else if (q->types >> BT_INCIDENT_TYPE_COUNT)
        rc = bt__error(s, BT_ERR_INVALID, "%s: types 0x%x has bits beyond the incident types",
                       fn, q->types);
    else if (q->verifications >> 6)
        rc = bt__error(s, BT_ERR_INVALID,
                       "%s: verifications 0x%x has bits beyond the verification states", fn,
                       q->verifications);
    else if (q->min_reliability != 0 && (q->min_reliability < 'A' || q->min_reliability > 'F'))
        rc = bt__error(s, BT_ERR_INVALID, "%s: min_reliability is %d; expected 'A'..'F' or 0",
                       fn, (int)q->min_reliability);
    else if (q->min_credibility < 0 || q->min_credibility > 6)
        rc = bt__error(s, BT_ERR_INVALID, "%s: min_credibility is %d; expected 1..6 or 0", fn,
                       q->min_credibility);
    else if ((unsigned)q->match > BT_MATCH_CERTAIN)
        rc = bt__error(s, BT_ERR_INVALID, "%s: match %d is not a bt_match", fn, (int)q->match);
    else if ((unsigned)q->order > BT_ORDER_TIME)
        rc = bt__error(s, BT_ERR_INVALID, "%s: order %d is not a bt_order", fn, (int)q->order);
    else if (q->order == BT_ORDER_DISTANCE && q->area != BT_AREA_CIRCLE)
        rc = bt__error(s, BT_ERR_INVALID, "%s: ordering by distance needs a circle area", fn);
    if (rc) {
        bt__plan_free(p);
        return rc;
    }
    if (q->area == BT_AREA_NONE) p->q.match = BT_MATCH_POINT;
    if (q->match != BT_MATCH_POINT && (q->area == BT_AREA_BBOX || q->area == BT_AREA_POLYGON)) {
        rc = build_boundary(s, fn, p);
        if (rc) {
            bt__plan_free(p);
            return rc;
        }
    }
    p->has_time = q->from != INT64_MIN || q->to != INT64_MAX;
    p->to_min = floor_div60(q->to);
    /* end >= from iff thi * 60 - 1 >= from (thi: see lib/index/index.h) */
    p->from_min = q->from == INT64_MAX ? INT64_MAX : ceil_div60(q->from + 1);
    p->types = q->types;
    p->verifs = q->verifications;
    p->max_rel = q->min_reliability ? (unsigned)(q->min_reliability - 'A' + 1) : 0;
    p->max_cred = (unsigned)q->min_credibility;
    p->has_attr = p->types || p->verifs || p->max_rel || p->max_cred;
    return BT_OK;
}

void bt__plan_free(struct bt__plan *p)
{
    if (p->prep) GEOSPreparedGeom_destroy_r(p->h, p->prep);
    if (p->poly) GEOSGeom_destroy_r(p->h, p->poly);
    p->prep = NULL;
    p->poly = NULL;
    bt__bnd_free(&p->bnd);
    bt__bnd_work_free(&p->bw);
    p->has_bnd = false;
}

/* Reads the record of point i for what the index rounded. */
static int fetch(struct bt__plan *p, const struct bt__pts *pts, size_t i, bt_incident **inc)
{
    p->nfetch++;
    int rc = p->s->be->incident_get(p->s, bt__pts_id(pts, i), inc);
    if (rc && !p->err) p->err = rc;
    return rc;
}

int bt__plan_start(struct bt__plan *p, const struct bt__pts *pts, size_t i, int64_t *start)
{
    if (pts->attr[i] & BT__A_TEXACT) {
        *start = (int64_t)pts->tlo[i] * 60;
        return BT_OK;
    }
    bt_incident *inc = NULL;
    int rc = fetch(p, pts, i, &inc);
    if (!rc) *start = inc->start;
    bt_incident_free(inc);
    return rc;
}

static int time_match(struct bt__plan *p, const struct bt__pts *pts, size_t i)
{
    if (pts->attr[i] & BT__A_TEXACT) return bt__plan_time_exact(p, pts, i) ? BT__YES : BT__NO;
    int64_t lo = pts->tlo[i], hi = pts->thi[i];
    bool open = hi == INT32_MAX;
    /* INT32_MIN may stand for any earlier start (clamped): no condition then */
    if ((lo != INT32_MIN && lo > p->to_min) || (!open && hi < p->from_min)) return BT__NO;
    bt_incident *inc = NULL;
    if (fetch(p, pts, i, &inc)) return BT__NO;
    int r = inc->start <= p->q.to && inc->end >= p->q.from ? BT__YES : BT__NO;
    bt_incident_free(inc);
    return r;
}

/* Circle test with an uncertainty-dependent threshold. */
static int circle_match(struct bt__plan *p, const struct bt__pts *pts, size_t i, double *dist)
{
    double c2 = bt__plan_chord2(p, pts->lon[i], pts->lat[i]);
    double r = p->q.radius_m;
    bt_lonlat pt = {pts->lon[i], pts->lat[i]};
    if (p->q.match == BT_MATCH_POINT) {
        if (c2 > p->c2_out) return BT__NO;
        if (c2 <= p->c2_in) return BT__YES;
        const struct geod_geodesic *g = bt__plan_geod(p);
        if (!g) return BT__NO;
        p->ngeod++;
        *dist = bt__geod_dist(g, p->q.centre, pt);
        return *dist <= r ? BT__YES : BT__NO;
    }
    unsigned code = pts->ucode[i];
    double ulo = bt__ucode_lo(code), uhi = bt__ucode_hi(code);
    bool possible = p->q.match == BT_MATCH_POSSIBLE;
    double tlo = possible ? r + ulo : r - uhi;
    double thi = possible ? r + uhi : r - ulo;
    if (thi < 0.0) return BT__NO;
    if (isfinite(thi) && c2 > (thi + BT__EPS_M) * (thi + BT__EPS_M)) return BT__NO;
    double ci = inner_chord(tlo);
    if (ci > 0.0 && c2 <= ci * ci) return BT__YES;
    const struct geod_geodesic *g = bt__plan_geod(p);
    if (!g) return BT__NO;
    p->ngeod++;
    double d = bt__geod_dist(g, p->q.centre, pt);
    *dist = d;
    if (d < tlo - BT__EPS_M) return BT__YES;
    if (d > thi + BT__EPS_M) return BT__NO;
    if (code == 0) return (possible ? d <= r : d <= r) ? BT__YES : BT__NO;
    bt_incident *inc = NULL;
    if (fetch(p, pts, i, &inc)) return BT__NO;
    double u = inc->uncertainty_m;
    bt_incident_free(inc);
    return (possible ? d <= r + u : d + u <= r) ? BT__YES : BT__NO;
}

static int polygon_match(struct bt__plan *p, double lon, double lat)
{
    GEOSContextHandle_t h = p->h;
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, lon, lat);
    if (!pt) {
        if (!p->err) p->err = bt__error(p->s, BT_ERR_NOMEM, "polygon query: out of memory");
        return BT__NO;
    }
    char r = GEOSPreparedIntersects_r(h, p->prep, pt);
    GEOSGeom_destroy_r(h, pt);
    if (r == 2) {
        if (!p->err) p->err = BT_ERR_GEOMETRY;
        return BT__NO;
    }
    return r == 1 ? BT__YES : BT__NO;
}

static bool box_inside(const bt_bbox *b, double x, double y)
{
    if (!(y >= b->south && y <= b->north)) return false;
    if (b->west <= b->east) return x >= b->west && x <= b->east;
    return x >= b->west || x <= b->east;
}

/* The decision of the uncertainty semantics from brackets: the distance d to the
 * boundary is in [lo, hi] and the uncertainty u in [ulo, uhi]. POSSIBLE (point
 * outside) asks d <= u, CERTAIN (point inside) d >= u; once [lo, hi] is within the
 * tolerance and u is known, a tie within it counts as a match. */
static int bnd_decide(bool possible, double lo, double hi, double ulo, double uhi)
{
    if (possible) {
        if (hi <= ulo) return BT__YES;
        if (lo > uhi) return BT__NO;
    } else {
        if (lo >= uhi) return BT__YES;
        if (hi < ulo) return BT__NO;
    }
    if (ulo == uhi && hi - lo <= BT__BND_TOL_M) return BT__YES;
    return BT__UNSURE;
}

/* Box or polygon with BT_MATCH_POSSIBLE / CERTAIN: the uncertainty circle (radius u,
 * geodesic) touches the area (the point is in it, or within u of its boundary) or lies
 * in it (the point is in it and at least u from its boundary). */
static int uncertain_match(struct bt__plan *p, const struct bt__pts *pts, size_t i)
{
    double x = pts->lon[i], y = pts->lat[i];
    bool in = p->q.area == BT_AREA_BBOX ? box_inside(&p->q.box, x, y)
                                        : polygon_match(p, x, y) == BT__YES;
    if (p->err) return BT__NO;
    bool possible = p->q.match == BT_MATCH_POSSIBLE;
    if (possible == in) return in ? BT__YES : BT__NO;
    unsigned code = pts->ucode[i];
    if (code == 0) return in ? BT__YES : BT__NO; /* u = 0: the point decides */
    double ulo = bt__ucode_lo(code), uhi = bt__ucode_hi(code);
    double lo, hi;
    const struct geod_geodesic *g = bt__plan_geod(p);
    if (!g) return BT__NO;
    size_t g0 = p->bw.ngeod;
    int rc = bt__bnd_dist(&p->bnd, g, (bt_lonlat){x, y}, ulo, uhi, BT__BND_TOL_M,
                          &p->bw, &lo, &hi);
    int r = rc ? BT__NO : bnd_decide(possible, lo, hi, ulo, uhi);
    if (!rc && r == BT__UNSURE) {
        bt_incident *inc = NULL;
        if (fetch(p, pts, i, &inc)) return BT__NO;
        double u = inc->uncertainty_m;
        bt_incident_free(inc);
        r = bnd_decide(possible, lo, hi, u, u);
        if (r == BT__UNSURE) {
            rc = bt__bnd_dist(&p->bnd, g, (bt_lonlat){x, y}, u, u, BT__BND_TOL_M,
                              &p->bw, &lo, &hi);
            r = rc ? BT__NO : bnd_decide(possible, lo, hi, u, u);
        }
    }
    p->ngeod += p->bw.ngeod - g0;
    if (rc) {
        if (!p->err) p->err = bt__error(p->s, rc, "query: out of memory");
        return BT__NO;
    }
    return r == BT__YES ? BT__YES : BT__NO;
}

int bt__plan_match(struct bt__plan *p, const struct bt__pts *pts, size_t i, bool inside,
                   double *dist)
{
    *dist = NAN;
    if (p->has_attr) {
        unsigned a = pts->attr[i];
        if (p->types && !(p->types & (1u << BT__A_TYPE(a)))) return BT__NO;
        if (p->verifs && !(p->verifs & (1u << BT__A_VERIF(a)))) return BT__NO;
        if (p->max_rel && (BT__A_REL(a) == 0 || BT__A_REL(a) > p->max_rel)) return BT__NO;
        if (p->max_cred && (BT__A_CRED(a) == 0 || BT__A_CRED(a) > p->max_cred)) return BT__NO;
    }
    if (p->has_time && time_match(p, pts, i) != BT__YES) return BT__NO;
    switch (p->q.area) {
    case BT_AREA_CIRCLE:
        if (inside) return BT__YES;
        return circle_match(p, pts, i, dist);
    case BT_AREA_BBOX:
        if (inside) return BT__YES;
        if (p->has_bnd) return uncertain_match(p, pts, i);
        /* the k-d search delivers only points in the boxes; the overlay is tested here */
        return box_inside(&p->q.box, pts->lon[i], pts->lat[i]) ? BT__YES : BT__NO;
    case BT_AREA_POLYGON:
        if (inside) return BT__YES;
        if (p->has_bnd) return uncertain_match(p, pts, i);
        return polygon_match(p, pts->lon[i], pts->lat[i]);
    default:
        return BT__YES;
    }
}

/* Smallest angular distance, degrees, from longitude x to the interval [w, e]. */
static double lon_gap(double x, double w, double e)
{
    if (x >= w && x <= e) return 0.0;
    double d1 = fmod(w - x + 720.0, 360.0), d2 = fmod(x - e + 720.0, 360.0);
    return fmin(d1, d2);
}

/* Largest angular distance, degrees (<= 180), from longitude x to a point of [w, e]. */
static double lon_far(double x, double w, double e)
{
    double anti = x + 180.0;
    if (anti > 180.0) anti -= 360.0;
    if (anti >= w && anti <= e) return 180.0;
    double d1 = fabs(fmod(w - x + 540.0, 360.0) - 180.0);
    double d2 = fabs(fmod(e - x + 540.0, 360.0) - 180.0);
    return fmax(d1, d2);
}

void bt__cell_angles(double lon, double lat, double w, double s, double e, double n,
                     double *amin, double *amax)
{
    double pc = lat / BT__DEG, ps = s / BT__DEG, pn = n / BT__DEG;
    double sp = sin(pc), cp = cos(pc);
    /* f(phi) = sp sin(phi) + cp cos(phi) cos(dlon) = R cos(phi - alpha) */
    double dmin = lon_gap(lon, w, e) / BT__DEG, dmax = lon_far(lon, w, e) / BT__DEG;
    double b1 = cp * cos(dmin);
    double r1 = hypot(sp, b1), al1 = atan2(sp, b1);
    double fmaxv;
    if (al1 >= ps && al1 <= pn)
        fmaxv = r1;
    else
        fmaxv = fmax(sp * sin(ps) + b1 * cos(ps), sp * sin(pn) + b1 * cos(pn));
    double b2 = cp * cos(dmax);
    double r2 = hypot(sp, b2), al2 = atan2(sp, b2);
    double fminv;
    if ((al2 + PI >= ps && al2 + PI <= pn) || (al2 - PI >= ps && al2 - PI <= pn))
        fminv = -r2;
    else
        fminv = fmin(sp * sin(ps) + b2 * cos(ps), sp * sin(pn) + b2 * cos(pn));
    *amin = acos(fmax(-1.0, fmin(1.0, fmaxv)));
    *amax = acos(fmax(-1.0, fmin(1.0, fminv)));
}

/* A box or polygon cell under the uncertainty semantics. A cell the boundary does not
 * meet (bound > 0) lies wholly in or wholly out of the area (it is connected), as its
 * centre does. Taken whole: POSSIBLE, a cell inside; CERTAIN, a cell inside and at
 * least the largest uncertainty in the index from the boundary. Dropped: POSSIBLE,
 * a cell outside and farther than that from the boundary; CERTAIN, a cell outside. */
static int bnd_cell(struct bt__plan *p, double w, double s, double e, double n)
{
    bool possible = p->q.match == BT_MATCH_POSSIBLE;
    if (possible && p->q.area == BT_AREA_BBOX &&
        box_inside(&p->q.box, w, s) && box_inside(&p->q.box, e, n) &&
        (p->q.box.west <= p->q.box.east || w > p->q.box.east || e < p->q.box.west))
        return BT__CELL_IN;
    if (!p->umax_known) {
        struct bt__index *ix = bt__index_peek(p->s);
        p->umax_m = ix ? bt__ucode_hi(ix->umax) : INFINITY;
        p->umax_known = true;
    }
    double T = p->umax_m;
    double lb = bt__bnd_cell_lb(&p->bnd, w, s, e, n, isfinite(T) ? T : 0.0);
    if (!(lb > 0.0)) return BT__CELL_PART;
    double cx = 0.5 * (w + e), cy = 0.5 * (s + n);
    bool in = p->q.area == BT_AREA_BBOX ? box_inside(&p->q.box, cx, cy)
                                        : polygon_match(p, cx, cy) == BT__YES;
    if (p->err) return BT__CELL_PART;
    if (in) return possible || lb >= T ? BT__CELL_IN : BT__CELL_PART;
    return !possible || lb > T ? BT__CELL_OUT : BT__CELL_PART;
}

/* A polygon cell under the point semantics. The per-point test is GEOS's intersects
 * in the lon/lat plane, so GEOS decides the cell's box in the same plane: a box the
 * prepared polygon contains holds only matching points, one it does not meet none.
 * A box around the polygon's whole extent can be neither (no GEOS call); a degenerate
 * or failed box is left to its points. */
static int poly_cell(struct bt__plan *p, double w, double s, double e, double n)
{
    if (!(w < e && s < n)) return BT__CELL_PART;
    if (w <= p->ext.west && e >= p->ext.east && s <= p->ext.south && n >= p->ext.north)
        return BT__CELL_PART;
    /* a GEOS failure here only leaves the cell to its points: the message GEOS's
     * handler wrote must not outlive a query that succeeds */
    bool quiet = p->s->errmsg[0] == '\0';
    GEOSGeometry *r = GEOSGeom_createRectangle_r(p->h, w, s, e, n);
    int c = BT__CELL_PART;
    char in = r ? GEOSPreparedContains_r(p->h, p->prep, r) : 2;
    if (in == 1) {
        c = BT__CELL_IN;
    } else if (in == 0) {
        char meets = GEOSPreparedIntersects_r(p->h, p->prep, r);
        if (meets == 0) c = BT__CELL_OUT;
        if (meets == 2 && quiet) p->s->errmsg[0] = '\0';
    } else if (quiet) {
        p->s->errmsg[0] = '\0';
    }
    if (r) GEOSGeom_destroy_r(p->h, r);
    return c;
}

int bt__plan_cell(void *ctx, double w, double s, double e, double n)
{
    struct bt__plan *p = ctx;
    if (p->has_bnd) return bnd_cell(p, w, s, e, n);
    if (p->q.area == BT_AREA_POLYGON && p->q.match == BT_MATCH_POINT && p->prep)
        return poly_cell(p, w, s, e, n);
    if (p->q.area != BT_AREA_CIRCLE || p->q.match != BT_MATCH_POINT) return BT__CELL_PART;
    /* Most cells asked about straddle the circle, and two chords (no libm call near
     * the centre) show that more cheaply than the angles below: a point of the cell
     * within the inner chord bound and its far corner beyond the outer one. Such a
     * cell is neither in nor out, whatever the angles would say. */
    if (p->can_inner) {
        double x = p->q.centre.lon, y = p->q.centre.lat;
        double nx = x < w ? w : x > e ? e : x, ny = y < s ? s : y > n ? n : y;
        if (bt__plan_chord2(p, nx, ny) <= p->c2_in) {
            double fx = fabs(w - x) > fabs(e - x) ? w : e;
            double fy = fabs(s - y) > fabs(n - y) ? s : n;
            if (bt__plan_chord2(p, fx, fy) > p->c2_out) return BT__CELL_PART;
        }
    }
    double amin, amax;
    bt__cell_angles(p->q.centre.lon, p->q.centre.lat, w, s, e, n, &amin, &amax);
    double r = p->q.radius_m;
    if (BT__M_MIN * amin > r + CELL_SLACK_M) return BT__CELL_OUT;
    if (BT__N_MAX * amax < r - CELL_SLACK_M) return BT__CELL_IN;
    return BT__CELL_PART;
}
