/**
 * @file area.c
 * @brief The chainage intervals of a border's main chain that lie inside a polygon
 * (an intervention's area; docs/analysis.md, "Before and after").
 *
 * The chain is taken as bt_border::cpts, the chain parts joined by their gap lines,
 * and the polygon as GeoJSON draws it: edges straight in lon/lat. Each chain edge is
 * cut at every crossing with a polygon edge (in the lon/lat plane); a piece between
 * two cuts is inside when its midpoint is (the boundary counts as inside). A cut at
 * X on the edge from vertex j has the chainage c(j) + geodesic distance from vertex j
 * to X, where c(j) is the exact chainage of the vertex, so the figures are those the
 * chainage code gives for the points where the line meets the polygon, to within the
 * edge's departure from its lon/lat chord (millimetres for edges of a few km).
 */
#include "analysis_internal.h"

#include <geodesic.h>
#include <math.h>
#include <stdlib.h>

/* The chainage of cpts[j], from the part it belongs to. */
static double vertex_chainage(const bt_border *b, size_t k, size_t i)
{
    const struct bt__part *pt = &b->parts[b->chain[k]];
    return pt->reversed ? pt->c0 + (pt->length_m - pt->cum[pt->n - 1 - i])
                        : pt->c0 + pt->cum[i];
}

static double cross2(double ax, double ay, double bx, double by)
{
    return ax * by - ay * bx;
}

/* Point in polygon by the even-odd rule, the boundary counting as inside. */
static bool inside(const bt_lonlat *ring, size_t n, double x, double y)
{
    bool in = false;
    for (size_t i = 0; i + 1 < n; i++) {
        double ax = ring[i].lon, ay = ring[i].lat, bx = ring[i + 1].lon, by = ring[i + 1].lat;
        /* on the edge: collinear and within its box */
        if (cross2(bx - ax, by - ay, x - ax, y - ay) == 0.0 && x >= fmin(ax, bx) &&
            x <= fmax(ax, bx) && y >= fmin(ay, by) && y <= fmax(ay, by))
            return true;
        if ((ay > y) != (by > y)) {
            double xc = ax + (y - ay) / (by - ay) * (bx - ax);
            if (x < xc) in = !in;
        }
    }
    return in;
}

static int dbl_cmp(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : (a > b);
}

int bt__chain_in_polygon(const bt_border *b, const bt_lonlat *ring, size_t n,
                         struct bt__ivec *out)
{
    if (n < 4) return BT_OK;
    bt_bbox box = {ring[0].lon, ring[0].lat, ring[0].lon, ring[0].lat};
    for (size_t i = 1; i < n; i++) {
        box.west = fmin(box.west, ring[i].lon);
        box.east = fmax(box.east, ring[i].lon);
        box.south = fmin(box.south, ring[i].lat);
        box.north = fmax(box.north, ring[i].lat);
    }
    /* at most one cut per polygon edge (two for a collinear one), plus the ends */
    double *ts = bt__malloc((2 * n + 2) * sizeof *ts);
    if (!ts) return BT_ERR_NOMEM;
    int rc = BT_OK;
    size_t k = 0; /* chain part of vertex j */
    for (size_t j = 0; j + 1 < b->ncpts && rc == BT_OK; j++) {
        while (k + 1 < b->nchain && j >= b->parts[b->chain[k + 1]].cv0) k++;
        const struct bt__part *pt = &b->parts[b->chain[k]];
        /* the edge j -> j+1 is inside part k, or the gap line to part k + 1 */
        bool gap = j == pt->cv0 + pt->n - 1;
        double c0 = vertex_chainage(b, k, j - pt->cv0);
        double c1 = gap ? b->parts[b->chain[k + 1]].c0 : vertex_chainage(b, k, j + 1 - pt->cv0);
        bt_lonlat p = b->cpts[j], q = b->cpts[j + 1];
        if (!(c1 > c0)) continue; /* a repeated vertex */
        if (fmax(p.lon, q.lon) < box.west || fmin(p.lon, q.lon) > box.east ||
            fmax(p.lat, q.lat) < box.south || fmin(p.lat, q.lat) > box.north)
            continue; /* wholly outside the polygon's box */
        double rx = q.lon - p.lon, ry = q.lat - p.lat;
        size_t nt = 0;
        ts[nt++] = 0.0;
        ts[nt++] = 1.0;
        for (size_t i = 0; i + 1 < n; i++) {
            double ax = ring[i].lon - p.lon, ay = ring[i].lat - p.lat;
            double sx = ring[i + 1].lon - ring[i].lon, sy = ring[i + 1].lat - ring[i].lat;
            double den = cross2(rx, ry, sx, sy);
            if (den != 0.0) {
                double t = cross2(ax, ay, sx, sy) / den, u = cross2(ax, ay, rx, ry) / den;
                if (t > 0.0 && t < 1.0 && u >= 0.0 && u <= 1.0) ts[nt++] = t;
            } else if (cross2(ax, ay, rx, ry) == 0.0) {
                /* collinear: the polygon edge's ends cut the chain edge */
                double rr = rx * rx + ry * ry;
                double t0 = (ax * rx + ay * ry) / rr, t1 = ((ax + sx) * rx + (ay + sy) * ry) / rr;
                if (t0 > 0.0 && t0 < 1.0) ts[nt++] = t0;
                if (t1 > 0.0 && t1 < 1.0) ts[nt++] = t1;
            }
        }
        qsort(ts, nt, sizeof *ts, dbl_cmp);
        for (size_t i = 0; i + 1 < nt && rc == BT_OK; i++) {
            double ta = ts[i], tb = ts[i + 1];
            if (!(tb > ta)) continue;
            double tm = 0.5 * (ta + tb);
            if (!inside(ring, n, p.lon + tm * rx, p.lat + tm * ry)) continue;
            double ca = c0, cb = c1;
            if (ta > 0.0) {
                double d;
                geod_inverse(&b->g, p.lat, p.lon, p.lat + ta * ry, p.lon + ta * rx, &d, NULL,
                             NULL);
                ca = fmin(c0 + d, c1);
            }
            if (tb < 1.0) {
                double d;
                geod_inverse(&b->g, p.lat, p.lon, p.lat + tb * ry, p.lon + tb * rx, &d, NULL,
                             NULL);
                cb = fmin(c0 + d, c1);
            }
            if (cb > ca) rc = bt__ivec_push(out, ca, cb);
        }
    }
    bt__free(ts);
    return rc;
}
