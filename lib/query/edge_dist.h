/**
 * @file edge_dist.h
 * @brief Geodesic distance on WGS 84 from a point to the boundary of a lon/lat box or
 * polygon (edges straight in lon/lat), to a stated tolerance: what the uncertainty
 * semantics of box and polygon queries rest on (lib/query/edge_dist.c).
 */
#ifndef BT_EDGE_DIST_H
#define BT_EDGE_DIST_H

#include "core/internal.h"

#include <stdint.h>

/** Tolerance of bt__bnd_dist(), metres: it brackets the distance within this. */
#define BT__BND_TOL_M 0.01

/** One edge: the straight line in lon/lat degrees from (lon0, lat0) to (lon1, lat1)
 *  (a meridian or a parallel of a box is such a line). */
struct bt__edge {
    double lon0, lat0, lon1, lat1;
    double dlam, dphi;    /* lon1 - lon0, lat1 - lat0 in radians */
    double acc;           /* bound of |E''(t)| in ECEF metres (see edge_dist.c) */
    double w, s, e, n;    /* lon/lat box of the edge */
};

/** A node of the box tree over the edges (a range of edges in the order given). */
struct bt__bnd_node {
    double w, s, e, n;
    uint32_t lo, hi;      /* edges [lo, hi) */
    uint32_t left, right; /* children; 0 = leaf */
};

/** The boundary of an area: edges and a box tree over them. */
struct bt__bnd {
    struct bt__edge *e;
    size_t ne, cap;
    struct bt__bnd_node *node; /* node[0] is the root once built */
    size_t nnode;
};

/** Work space of bt__bnd_dist() (a heap of pieces), reused between calls. */
struct bt__bnd_work {
    struct bt__bnd_item *a;
    size_t n, cap;
    size_t ngeod;         /* geod_inverse calls made (accumulates) */
};

/** Adds the edge from (lon0, lat0) to (lon1, lat1), degrees (a zero-length edge is
 *  a point: a box shrunk to a point or a line keeps its corners). @return BT_OK or
 *  BT_ERR_NOMEM. */
int bt__bnd_add(struct bt__bnd *b, double lon0, double lat0, double lon1, double lat1);

/** Adds the boundary of the closed box (west > east crosses the antimeridian): its
 *  meridians and parallels, leaving out what is not a boundary (the parallel at a pole,
 *  the meridians of a box spanning all longitudes). @return BT_OK or BT_ERR_NOMEM. */
int bt__bnd_add_box(struct bt__bnd *b, bt_bbox box);

/** Builds the box tree after the last edge. @return BT_OK or BT_ERR_NOMEM. */
int bt__bnd_build(struct bt__bnd *b);

void bt__bnd_free(struct bt__bnd *b);
void bt__bnd_work_free(struct bt__bnd_work *w);

/**
 * Brackets the geodesic distance d from @p p to the boundary: *lo <= d <= *hi.
 * Stops as soon as *hi - *lo <= @p tol, or *lo > @p lim_hi, or *hi <= @p lim_lo (the
 * caller only needs d against [lim_lo, lim_hi]). A boundary without edges gives
 * infinity for both.
 * @return BT_OK or BT_ERR_NOMEM (the work space could not grow).
 */
int bt__bnd_dist(const struct bt__bnd *b, const struct geod_geodesic *g, bt_lonlat p,
                 double lim_lo, double lim_hi, double tol, struct bt__bnd_work *w,
                 double *lo, double *hi);

/**
 * A lower bound of the geodesic distance between any point of the closed lon/lat cell
 * (w <= e) and the boundary, exact as bounds go up to @p cap: a result > cap only
 * says that every point is farther than cap. Never more than the true distance.
 */
double bt__bnd_cell_lb(const struct bt__bnd *b, double w, double s, double e, double n,
                       double cap);

#endif /* BT_EDGE_DIST_H */
