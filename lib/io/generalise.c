/**
 * @file generalise.c
 * @brief Generalisation of incident points for public release: snap to a grid of
 * about N metres, never across a border line.
 *
 * The grid: rows every N metres of latitude (N / 111,320 degrees) and, in each row,
 * columns every N metres of longitude at that row's latitude. A point goes to the
 * nearest grid corner, unless the straight line from the point to that corner
 * touches or crosses a border line of the store (then the point would land on the
 * other side, or on the line). It then tries the other corners of its grid cell
 * within N metres, nearest first; then points N/2 and N/4 metres straight away from
 * the nearest border line; and if all of those cross too (a point between two close
 * border lines, or on one), it is left where it is. Every border line is one GEOS
 * prepared geometry, so each test is an indexed intersection.
 */
#include "io/io.h"

#include "store/backend.h"

#include <math.h>
#include <string.h>

/** Metres per degree of latitude (mean); the grid is "about" N metres. */
#define BT__M_PER_DEG 111320.0
#define BT__D2R (3.14159265358979323846 / 180.0)

struct bt__gen {
    bt_store *s;
    GEOSContextHandle_t h;       /* the store's GEOS context */
    const struct geod_geodesic *geod;
    double g;                    /* grid size, metres */
    GEOSGeometry *lines;         /* MultiLineString of every border segment, or NULL */
    const GEOSPreparedGeometry *prep;
    GEOSGeometry **parts;        /* collected while loading */
    size_t nparts, cap;
    int err;
};

static int collect(const bt_segment *seg, void *udata)
{
    struct bt__gen *g = udata;
    GEOSContextHandle_t ctx = g->h;
    if (g->nparts == g->cap) {
        size_t ncap = g->cap ? g->cap * 2 : 64;
        GEOSGeometry **np = bt__realloc(g->parts, ncap * sizeof *np);
        if (!np) {
            g->err = BT_ERR_NOMEM;
            return 1;
        }
        g->parts = np;
        g->cap = ncap;
    }
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(ctx, (unsigned)seg->npoints, 2);
    if (!cs) {
        g->err = BT_ERR_GEOMETRY;
        return 1;
    }
    for (size_t i = 0; i < seg->npoints; i++)
        GEOSCoordSeq_setXY_r(ctx, cs, (unsigned)i, seg->points[i].lon, seg->points[i].lat);
    GEOSGeometry *ls = GEOSGeom_createLineString_r(ctx, cs);
    if (!ls) {
        g->err = BT_ERR_GEOMETRY;
        return 1;
    }
    g->parts[g->nparts++] = ls;
    return 0;
}

void bt__gen_close(struct bt__gen *g)
{
    if (!g) return;
    GEOSContextHandle_t ctx = g->h;
    if (g->prep) GEOSPreparedGeom_destroy_r(ctx, g->prep);
    if (g->lines) GEOSGeom_destroy_r(ctx, g->lines);
    for (size_t i = 0; i < g->nparts; i++) GEOSGeom_destroy_r(ctx, g->parts[i]);
    bt__free(g->parts);
    bt__free(g);
}

int bt__gen_open(bt_store *s, double grid_m, struct bt__gen **out)
{
    *out = NULL;
    struct bt__gen *g = bt__calloc(1, sizeof *g);
    if (!g) return bt__error(s, BT_ERR_NOMEM, "export: out of memory");
    g->s = s;
    g->g = grid_m;
    int rc = bt__geos(s, &g->h);
    if (!rc) {
        g->geod = bt__geod(s);
        if (!g->geod) rc = BT_ERR_INTERNAL;
    }
    if (!rc) rc = bt_segment_foreach(s, collect, g);
    if (!rc && g->err) rc = bt__error(s, g->err, "export: cannot build the border lines");
    if (!rc && g->nparts) {
        GEOSContextHandle_t ctx = g->h;
        /* The collection takes ownership of the parts. */
        g->lines = GEOSGeom_createCollection_r(ctx, GEOS_MULTILINESTRING, g->parts,
                                               (unsigned)g->nparts);
        if (!g->lines) {
            rc = bt__error(s, BT_ERR_GEOMETRY, "export: cannot build the border lines");
        } else {
            g->nparts = 0;
            g->prep = GEOSPrepare_r(ctx, g->lines);
            if (!g->prep) rc = bt__error(s, BT_ERR_GEOMETRY, "export: cannot index the border lines");
        }
    }
    if (rc) {
        bt__gen_close(g);
        return rc;
    }
    *out = g;
    return BT_OK;
}

const struct geod_geodesic *bt__gen_geod(const struct bt__gen *g) { return g->geod; }

bool bt__gen_crosses(struct bt__gen *g, bt_lonlat a, bt_lonlat b)
{
    if (!g->prep) return false;
    GEOSContextHandle_t ctx = g->h;
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(ctx, 2, 2);
    if (!cs) return true; /* cannot tell: treat as crossing, the safe answer */
    GEOSCoordSeq_setXY_r(ctx, cs, 0, a.lon, a.lat);
    GEOSCoordSeq_setXY_r(ctx, cs, 1, b.lon, b.lat);
    GEOSGeometry *seg = GEOSGeom_createLineString_r(ctx, cs);
    if (!seg) return true;
    char r = GEOSPreparedIntersects_r(ctx, g->prep, seg);
    GEOSGeom_destroy_r(ctx, seg);
    return r != 0; /* 2 (exception) counts as crossing */
}

/* Direction (unit, in local metres east/north) from the nearest border point to p. */
static bool away_dir(struct bt__gen *g, bt_lonlat p, double *ux, double *uy)
{
    GEOSContextHandle_t ctx = g->h;
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(ctx, p.lon, p.lat);
    if (!pt) return false;
    GEOSCoordSequence *near = GEOSNearestPoints_r(ctx, g->lines, pt);
    GEOSGeom_destroy_r(ctx, pt);
    if (!near) return false;
    double qx = 0, qy = 0;
    GEOSCoordSeq_getXY_r(ctx, near, 0, &qx, &qy);
    GEOSCoordSeq_destroy_r(ctx, near);
    double dx = (p.lon - qx) * cos(p.lat * BT__D2R), dy = p.lat - qy;
    double n = hypot(dx, dy);
    if (!(n > 0)) return false;
    *ux = dx / n;
    *uy = dy / n;
    return true;
}

static bt_lonlat offset(bt_lonlat p, double east_m, double north_m)
{
    bt_lonlat q;
    q.lat = p.lat + north_m / BT__M_PER_DEG;
    q.lon = p.lon + east_m / (BT__M_PER_DEG * cos(p.lat * BT__D2R));
    return q;
}

bt_lonlat bt__gen_point(struct bt__gen *g, bt_lonlat p)
{
    double dlat = g->g / BT__M_PER_DEG;
    double rows[2] = {floor(p.lat / dlat) * dlat, ceil(p.lat / dlat) * dlat};
    bt_lonlat cand[4];
    double dist[4];
    int n = 0;
    for (int i = 0; i < 2; i++) {
        double lat = rows[i];
        if (lat > 90) lat = 90;
        if (lat < -90) lat = -90;
        double c = cos(lat * BT__D2R);
        double dlon = c > 1e-9 ? g->g / (BT__M_PER_DEG * c) : 360.0;
        double cols[2] = {floor(p.lon / dlon) * dlon, ceil(p.lon / dlon) * dlon};
        for (int j = 0; j < 2; j++) {
            bt_lonlat q = {cols[j], lat};
            if (q.lon > 180) q.lon -= 360;
            if (q.lon < -180) q.lon += 360;
            cand[n] = q;
            dist[n] = bt__geod_dist(g->geod, p, q);
            n++;
        }
    }
    /* nearest first (insertion sort of 4; ties keep the grid order, deterministic) */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && dist[j] < dist[j - 1]; j--) {
            double td = dist[j];
            dist[j] = dist[j - 1];
            dist[j - 1] = td;
            bt_lonlat tq = cand[j];
            cand[j] = cand[j - 1];
            cand[j - 1] = tq;
        }
    for (int i = 0; i < n; i++) {
        if (i > 0 && dist[i] > g->g) break;
        if (!bt__gen_crosses(g, p, cand[i])) return cand[i];
    }
    double ux, uy;
    if (away_dir(g, p, &ux, &uy)) {
        for (double f = 0.5; f >= 0.25; f /= 2) {
            bt_lonlat q = offset(p, ux * g->g * f, uy * g->g * f);
            if (!bt__gen_crosses(g, p, q)) return q;
        }
    }
    return p;
}
