/**
 * @file within.c
 * @brief bt_incidents_within(): incidents within a geodesic radius of a point.
 *
 * A conservative lon/lat box of the geodesic circle selects candidates through the
 * store's spatial index; the exact geodesic distance then decides.
 *
 * Why the box is conservative: along any curve on the ellipsoid, the surface normal
 * turns by at most (length / smallest radius of curvature). The normal's direction is
 * the geodetic (lat, lon) as a point of the unit sphere, and the smallest radius of
 * curvature on WGS 84 is the meridional one at the equator, a(1 - e^2). So every point
 * within geodesic distance r lies, on the unit sphere of geodetic coordinates, within
 * the angle r / (a(1 - e^2)) of the centre, whose lon/lat box is known exactly.
 */
#include "store/backend.h"

#include <math.h>

/* a (1 - e^2) = b^2 / a for WGS 84, rounded down so the bound stays conservative. */
#define MIN_RADIUS_OF_CURVATURE 6335439.0
/* Guards the box against rounding in the trigonometry below, in degrees. */
#define BOX_MARGIN_DEG 1e-9

#define DEG (180.0 / 3.14159265358979323846)

struct within_ctx {
    bt_store *s;
    bt_lonlat centre;
    double radius;
    bt_incident_cb cb;
    void *udata;
    bool stopped;
    /* Second pass of a box split at the antimeridian: hits are collected. */
    int64_t *ids;
    double *dist;
    size_t n, cap;
    int rc;
};

/* Streams hits straight to the user's callback (one box: rows come in id order). */
static int stream_row(const bt_incident *inc, void *udata)
{
    struct within_ctx *c = udata;
    double d = bt__geod_dist(&c->s->geod, c->centre, inc->where);
    if (d > c->radius) return 0;
    if (c->cb(inc, d, c->udata)) {
        c->stopped = true;
        return 1;
    }
    return 0;
}

/* Collects hit ids (two boxes: merged in id order afterwards). */
static int collect_row(const bt_incident *inc, void *udata)
{
    struct within_ctx *c = udata;
    double d = bt__geod_dist(&c->s->geod, c->centre, inc->where);
    if (d > c->radius) return 0;
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 64;
        int64_t *ni = bt__realloc(c->ids, ncap * sizeof *ni);
        if (ni) c->ids = ni;
        double *nd = ni ? bt__realloc(c->dist, ncap * sizeof *nd) : NULL;
        if (nd) c->dist = nd;
        if (!ni || !nd) {
            c->rc = bt__error(c->s, BT_ERR_NOMEM, "bt_incidents_within: out of memory");
            return 1;
        }
        c->cap = ncap;
    }
    c->ids[c->n] = inc->id;
    c->dist[c->n] = d;
    c->n++;
    return 0;
}

/* The boxes to scan: one, or two when the circle crosses the antimeridian. */
static size_t circle_boxes(bt_lonlat c, double radius, bt_bbox box[2])
{
    double sigma = radius / MIN_RADIUS_OF_CURVATURE; /* radians on the unit sphere */
    double south = c.lat - sigma * DEG - BOX_MARGIN_DEG;
    double north = c.lat + sigma * DEG + BOX_MARGIN_DEG;
    double phi = c.lat / DEG;
    double dlon;
    if (sigma >= 3.14159265358979323846 / 2.0 || north >= 90.0 || south <= -90.0 ||
        sin(sigma) >= cos(phi)) {
        dlon = 180.0; /* the circle holds a pole (or half the globe): every longitude */
    } else {
        dlon = asin(sin(sigma) / cos(phi)) * DEG + BOX_MARGIN_DEG;
    }
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

/* Merges the two collected, each id-ordered, runs and delivers them in id order. */
static int deliver_merged(struct within_ctx *c, size_t split)
{
    size_t i = 0, j = split;
    while (i < split || j < c->n) {
        size_t k;
        if (j >= c->n || (i < split && c->ids[i] < c->ids[j]))
            k = i++;
        else
            k = j++;
        bt_incident *inc = NULL;
        int rc = c->s->be->incident_get(c->s, c->ids[k], &inc);
        if (rc) return rc;
        int stop = c->cb(inc, c->dist[k], c->udata);
        bt_incident_free(inc);
        if (stop) break;
    }
    return BT_OK;
}

int bt_incidents_within(bt_store *store, bt_lonlat centre, double radius_m, int64_t from,
                        int64_t to, bt_incident_cb cb, void *udata)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    int rc = bt__validate_lonlat(store, "centre", centre);
    if (rc) return rc;
    if (!isfinite(radius_m) || radius_m < 0.0)
        return bt__error(store, BT_ERR_INVALID,
                         "bt_incidents_within: radius %g m; expected a finite value >= 0",
                         radius_m);
    if (from > to)
        return bt__error(store, BT_ERR_INVALID,
                         "bt_incidents_within: time window starts after it ends");
    if (!cb) return bt__error(store, BT_ERR_INVALID, "bt_incidents_within: callback is NULL");

    struct within_ctx c = {.s = store, .centre = centre, .radius = radius_m, .cb = cb,
                           .udata = udata};
    bt_bbox box[2];
    size_t nbox = circle_boxes(centre, radius_m, box);
    if (nbox == 1) return store->be->incident_scan_bbox(store, box[0], from, to, stream_row, &c);

    rc = store->be->incident_scan_bbox(store, box[0], from, to, collect_row, &c);
    size_t split = c.n;
    if (!rc && !c.rc) rc = store->be->incident_scan_bbox(store, box[1], from, to, collect_row, &c);
    if (!rc) rc = c.rc;
    if (!rc) rc = deliver_merged(&c, split);
    bt__free(c.ids);
    bt__free(c.dist);
    return rc;
}
