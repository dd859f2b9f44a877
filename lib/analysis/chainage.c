/**
 * @file chainage.c
 * @brief A border's main chain and chainage, an index over its edges, and locating
 * points on it (nearest segment, chainage, offset, side).
 *
 * Edges are geodesics. A point is projected on an edge in a tangent plane at the
 * edge's midpoint (cheap, used to screen candidates and to find the foot's fraction
 * along the edge); the foot is then put on the geodesic with geod_direct and the
 * offset measured with geod_inverse, so the offset is exact to second order.
 */
#include "analysis_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* WGS 84, as the store uses. */
#define WGS84_A 6378137.0
#define WGS84_F (1.0 / 298.257223563)
#define DEG (M_PI / 180.0)
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* A ring (island outline) closes within this distance. */
#define RING_CLOSE_M 1.0
/* Target grid cell height in degrees of latitude (about 2.2 km). */
#define CELL_DEG 0.02

static double norm_dlon(double d)
{
    if (d > 180.0) d -= 360.0 * ceil((d - 180.0) / 360.0);
    if (d < -180.0) d += 360.0 * ceil((-180.0 - d) / 360.0);
    return d;
}

/* Metres per degree of longitude and latitude at latitude lat (WGS 84). */
static void metres_per_degree(double lat, double *kx, double *ky)
{
    double e2 = WGS84_F * (2.0 - WGS84_F);
    double sp = sin(lat * DEG);
    double w = sqrt(1.0 - e2 * sp * sp);
    *kx = WGS84_A / w * cos(lat * DEG) * DEG;
    *ky = WGS84_A * (1.0 - e2) / (w * w * w) * DEG;
}

static double gdist(const struct geod_geodesic *g, bt_lonlat a, bt_lonlat b)
{
    double s12 = 0.0;
    geod_inverse(g, a.lat, a.lon, b.lat, b.lon, &s12, NULL, NULL);
    return s12;
}

/* Planar projection of p on edge e (whose first vertex is a): distance in the
 * edge's tangent plane, fraction t in [0, 1] and the cross product sign (> 0: p is
 * left of the edge's direction). */
static double edge_planar(const struct bt__edge *e, bt_lonlat a, bt_lonlat p, double *t,
                          double *cross)
{
    double px = norm_dlon(p.lon - a.lon) * e->kx;
    double py = (p.lat - a.lat) * e->ky;
    double l2 = e->bx * e->bx + e->by * e->by;
    double tt = l2 > 0.0 ? (px * e->bx + py * e->by) / l2 : 0.0;
    if (tt < 0.0) tt = 0.0;
    if (tt > 1.0) tt = 1.0;
    *t = tt;
    *cross = e->bx * py - e->by * px;
    double dx = px - tt * e->bx, dy = py - tt * e->by;
    return sqrt(dx * dx + dy * dy); /* not hypot(): this is the hot path; metres fit */
}

/* The point at fraction t of edge e, on the geodesic. */
static bt_lonlat edge_point(const bt_border *b, const struct bt__edge *e, double t)
{
    const bt_lonlat *pts = b->parts[e->part].pts;
    bt_lonlat a = pts[e->i];
    if (t <= 0.0 || e->len == 0.0) return a;
    if (t >= 1.0) return pts[e->i + 1];
    bt_lonlat r;
    geod_direct(&b->g, a.lat, a.lon, e->azi, t * e->len, &r.lat, &r.lon, NULL);
    r.lon = norm_dlon(r.lon);
    return r;
}

/* Bounds of the geodesic distance given the planar distance d in an edge's tangent
 * plane. The plane's scale is exact at the edge's midpoint and drifts with the
 * latitude difference (tan(lat) * dlat, under 1.5e-7 per metre below 56 degrees of
 * latitude): 0.2% plus 3e-7 per metre, and 1 cm, bound both ways with a margin. The
 * callers add the edge's sagitta (bt__edge::sag): the geodesic edge bows off the
 * straight chord of the plane. */
static double planar_lb(double d)
{
    return d / (1.002 + 3e-7 * d) - 0.01;
}

static double planar_ub(double d)
{
    return d * (1.002 + 3e-7 * d) + 0.01;
}

struct hit {
    uint32_t edge;
    double t, dist, cross;
    bt_lonlat foot;
};

/* Candidates kept during a search: the edges that may still be the nearest. */
#define MAX_CAND 32

struct cand {
    uint32_t edge;
    double t, cross, dpl;
    double lb, ub; /* bounds of its geodesic distance */
};

/* Adds candidate nw to cv[0..*nc): a smaller upper bound drops what it rules out;
 * when full (many edges at nearly one distance) the nearest are kept. */
static void cand_add(struct cand *cv, size_t *nc, double *best_ub, struct cand nw)
{
    if (nw.ub < *best_ub) {
        *best_ub = nw.ub;
        size_t m = 0;
        for (size_t c = 0; c < *nc; c++)
            if (cv[c].lb <= *best_ub) cv[m++] = cv[c];
        *nc = m;
    }
    if (*nc < MAX_CAND) {
        cv[(*nc)++] = nw;
        return;
    }
    size_t worst = 0;
    for (size_t c = 1; c < *nc; c++)
        if (cv[c].dpl > cv[worst].dpl) worst = c;
    if (nw.dpl < cv[worst].dpl) cv[worst] = nw;
}

/* Measures a candidate exactly: the foot on the geodesic edge and the geodesic
 * distance to it. */
static void exact_hit(const bt_border *b, bt_lonlat p, const struct cand *c, struct hit *h)
{
    const struct bt__edge *e = &b->edges[c->edge];
    h->edge = c->edge;
    h->t = c->t;
    h->cross = c->cross;
    h->foot = edge_point(b, e, c->t);
    h->dist = gdist(&b->g, p, h->foot);
}

/* The nearest of the candidates cv[0..nc) on the ellipsoid, within maxd: each is
 * measured in increasing order of its lower bound until the next bound exceeds the
 * best distance measured (a measured distance is never below the bound, so nothing
 * skipped can be nearer; at an exact tie the candidate first in cv wins, as when all
 * are measured). Edges meeting at a vertex share its foot there: measured once. */
static bool exact_nearest(const bt_border *b, bt_lonlat p, struct cand *cv, size_t nc,
                          double maxd, struct hit *h)
{
    size_t ord[MAX_CAND];
    for (size_t c = 0; c < nc; c++) {
        /* insertion sort by (lb, position): nc is at most MAX_CAND */
        size_t j = c;
        while (j > 0 && cv[ord[j - 1]].lb > cv[c].lb) {
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = c;
    }
    bool found = false;
    size_t best_pos = 0;
    bt_lonlat last_foot = {NAN, NAN};
    double last_dist = INFINITY;
    for (size_t k = 0; k < nc; k++) {
        const struct cand *c = &cv[ord[k]];
        if (c->lb > maxd || (found && c->lb > h->dist)) break;
        struct hit x;
        const struct bt__edge *e = &b->edges[c->edge];
        bool at_vertex = c->t <= 0.0 || c->t >= 1.0 || e->len == 0.0;
        bt_lonlat foot = at_vertex ? edge_point(b, e, c->t) : (bt_lonlat){NAN, NAN};
        if (at_vertex && foot.lon == last_foot.lon && foot.lat == last_foot.lat) {
            x.edge = c->edge;
            x.t = c->t;
            x.cross = c->cross;
            x.foot = foot;
            x.dist = last_dist;
        } else {
            exact_hit(b, p, c, &x);
            if (at_vertex) {
                last_foot = foot;
                last_dist = x.dist;
            }
        }
        if (x.dist <= maxd &&
            (!found || x.dist < h->dist || (x.dist == h->dist && ord[k] < best_pos))) {
            *h = x;
            best_pos = ord[k];
            found = true;
        }
    }
    return found;
}

/*
 * The nearest edge to p (only chain parts if chain_only) within maxd metres; returns
 * whether one was found. Phase one walks the grid in rings of cells around p with
 * planar distances only, keeping every edge that the bounds above cannot rule out.
 * Phase two: with exact, each kept edge is measured on the ellipsoid and the nearest
 * wins (offset exact to about 1 mm); without, the planar nearest wins and the
 * ellipsoid is consulted only when the planar figure cannot decide whether it lies
 * within maxd (the fast mode of coverage and profiles: chainage to about 1e-4 of
 * the offset, h->dist then approximate to 0.2%).
 */
static bool nearest_edge(const bt_border *b, bt_lonlat p, bool chain_only, double maxd,
                         bool exact, struct hit *h)
{
    struct cand cv[MAX_CAND];
    size_t nc = 0;
    double best_ub = INFINITY; /* least upper bound of a candidate's distance */
    long cx = (long)floor((p.lon - b->gx0) / b->cw);
    long cy = (long)floor((p.lat - b->gy0) / b->ch);
    /* rings before kstart contain no grid cell */
    long kx0 = cx < 0 ? -cx : (cx >= b->nx ? cx - b->nx + 1 : 0);
    long ky0 = cy < 0 ? -cy : (cy >= b->ny ? cy - b->ny + 1 : 0);
    long kstart = kx0 > ky0 ? kx0 : ky0;
    /* the ring reaching the farthest grid corner */
    long kmax = labs(cx);
    if (labs(cx - (b->nx - 1)) > kmax) kmax = labs(cx - (b->nx - 1));
    if (labs(cy) > kmax) kmax = labs(cy);
    if (labs(cy - (b->ny - 1)) > kmax) kmax = labs(cy - (b->ny - 1));

    for (long k = kstart; k <= kmax; k++) {
        for (long iy = cy - k; iy <= cy + k; iy++) {
            if (iy < 0 || iy >= b->ny) continue;
            bool edge_row = (iy == cy - k || iy == cy + k);
            long step = edge_row ? 1 : (2 * k > 0 ? 2 * k : 1);
            for (long ix = cx - k; ix <= cx + k; ix += step) {
                if (ix < 0 || ix >= b->nx) continue;
                size_t cell = (size_t)iy * (size_t)b->nx + (size_t)ix;
                for (uint32_t q = b->cell_start[cell]; q < b->cell_start[cell + 1]; q++) {
                    uint32_t ei = b->cell_edges[q];
                    const struct bt__edge *e = &b->edges[ei];
                    const struct bt__part *pt = &b->parts[e->part];
                    if (chain_only && !pt->on_chain) continue;
                    double t, cross;
                    double dpl = edge_planar(e, pt->pts[e->i], p, &t, &cross);
                    double lb = planar_lb(dpl) - e->sag;
                    if (lb > maxd || lb > best_ub) continue;
                    bool dup = false;
                    for (size_t c = 0; c < nc && !dup; c++) dup = cv[c].edge == ei;
                    if (dup) continue;
                    double ub = planar_ub(dpl) + e->sag;
                    cand_add(cv, &nc, &best_ub, (struct cand){ei, t, cross, dpl, lb, ub});
                }
            }
        }
        /* every edge not seen yet lies at least k whole cells away */
        double reach = fmin(best_ub, maxd);
        if ((double)k * b->cell_min_m > reach) break;
    }
    if (nc == 0) return false;
    size_t bi = 0;
    for (size_t c = 1; c < nc; c++)
        if (cv[c].dpl < cv[bi].dpl) bi = c;
    if (!exact) {
        if (cv[bi].ub <= maxd || isinf(maxd)) {
            const struct bt__edge *e = &b->edges[cv[bi].edge];
            bt_lonlat a = b->parts[e->part].pts[e->i], z = b->parts[e->part].pts[e->i + 1];
            h->edge = cv[bi].edge;
            h->t = cv[bi].t;
            h->cross = cv[bi].cross;
            h->dist = cv[bi].dpl;
            h->foot = (bt_lonlat){a.lon + cv[bi].t * norm_dlon(z.lon - a.lon),
                                  a.lat + cv[bi].t * (z.lat - a.lat)};
            return true;
        }
        /* near the limit: decide on the ellipsoid */
    }
    return exact_nearest(b, p, cv, nc, maxd, h);
}

/* Chainage of a hit on a chain part. */
static double hit_chainage(const bt_border *b, const struct hit *h)
{
    const struct bt__edge *e = &b->edges[h->edge];
    const struct bt__part *pt = &b->parts[e->part];
    double along = pt->cum[e->i] + h->t * e->len;
    return pt->reversed ? pt->c0 + (pt->length_m - along) : pt->c0 + along;
}

/* Where p projects on the segment a->z of a plane (p at the origin): the fraction
 * t unclamped and the squared distance to the clamped foot. */
static double seg_project(double ax, double ay, double zx, double zy, double *t)
{
    double dx = zx - ax, dy = zy - ay;
    double l2 = dx * dx + dy * dy;
    double tt = l2 > 0.0 ? -(ax * dx + ay * dy) / l2 : 0.0;
    *t = tt;
    double tc = tt < 0.0 ? 0.0 : (tt > 1.0 ? 1.0 : tt);
    double fx = ax + tc * dx, fy = ay + tc * dy;
    return fx * fx + fy * fy;
}

/* Chain vertices closer than this (in the plane of p) are one vertex. */
#define SAME_VERTEX_M 1e-3
/* A chain vertex turning by more than this (cosine of the angle between the
 * incoming and outgoing directions below -cos 30 degrees) is a spike. */
#define SPIKE_COS (-0.8660254037844386)

/* The previous (dir -1) or next (+1) chain vertex distinct from cpts[v] in the plane
 * of p, or SIZE_MAX at an end of the chain. */
static size_t chain_neighbour(const bt_border *b, double kx, double ky, bt_lonlat p,
                              size_t v, int dir)
{
    double vx = norm_dlon(b->cpts[v].lon - p.lon) * kx, vy = (b->cpts[v].lat - p.lat) * ky;
    size_t i = v;
    for (;;) {
        if (dir < 0 ? i == 0 : i + 1 >= b->ncpts) return SIZE_MAX;
        i = dir < 0 ? i - 1 : i + 1;
        double x = norm_dlon(b->cpts[i].lon - p.lon) * kx, y = (b->cpts[i].lat - p.lat) * ky;
        if (hypot(x - vx, y - vy) > SAME_VERTEX_M) return i;
    }
}

/*
 * The side of p (> 0 left, < 0 right, 0 undecided) when its nearest chain point is
 * the vertex cpts[v], in the tangent plane of p (p at the origin): the sign of
 * (p - v) . N, N the sum of the unit left normals of the segments meeting at v (the
 * angle-weighted pseudo-normal of Baerentzen & Aanaes, 2005; at an end of the chain
 * only one segment meets and its extended line decides).
 *
 * A spike — the chain turning back by more than 150 degrees at one vertex, as where a
 * part ends in a stub and the gap line to the next part runs back over it — makes
 * the pseudo-normal meaningless for points beyond its tip (the stub and the gap
 * line even cross in the sample data). A spike is cut off: its neighbours are joined
 * by a chord and p is tested against the chord, or against the chord's end vertex
 * if p projects beyond it (which may be a spike again: repeated a few times).
 */
static double vertex_side(const bt_border *b, double kx, double ky, bt_lonlat p, size_t v)
{
#define PX(i) (norm_dlon(b->cpts[i].lon - p.lon) * kx)
#define PY(i) ((b->cpts[i].lat - p.lat) * ky)
    size_t ia = chain_neighbour(b, kx, ky, p, v, -1);
    size_t ib = chain_neighbour(b, kx, ky, p, v, +1);
    for (int round = 0; round < 16; round++) {
        double vx = PX(v), vy = PY(v);
        double ax = 0.0, ay = 0.0, bx = 0.0, by = 0.0, la = 0.0, lb = 0.0;
        if (ia != SIZE_MAX) {
            ax = vx - PX(ia);
            ay = vy - PY(ia);
            la = hypot(ax, ay);
            ax /= la;
            ay /= la;
        }
        if (ib != SIZE_MAX) {
            bx = PX(ib) - vx;
            by = PY(ib) - vy;
            lb = hypot(bx, by);
            bx /= lb;
            by /= lb;
        }
        if (ia == SIZE_MAX || ib == SIZE_MAX || ax * bx + ay * by >= SPIKE_COS) {
            /* left normal of (dx, dy) is (-dy, dx); p - v = -v */
            double nx = -ay - by, ny = ax + bx;
            return -vx * nx - vy * ny;
        }
        /* a spike at v: test p against the chord ia -> ib */
        double t;
        double cax = PX(ia), cay = PY(ia), cbx = PX(ib), cby = PY(ib);
        (void)seg_project(cax, cay, cbx, cby, &t);
        double clen = hypot(cbx - cax, cby - cay);
        if (clen > SAME_VERTEX_M && t * clen > SAME_VERTEX_M && (1.0 - t) * clen > SAME_VERTEX_M)
            return (cbx - cax) * (-cay) - (cby - cay) * (-cax);
        if (t * clen <= SAME_VERTEX_M || clen <= SAME_VERTEX_M) {
            v = ia; /* ib stays: the chord replaces the spike */
            ia = chain_neighbour(b, kx, ky, p, v, -1);
        } else {
            v = ib;
            ib = chain_neighbour(b, kx, ky, p, v, +1);
        }
    }
    return 0.0;
#undef PX
#undef PY
}

/*
 * The side of p relative to the main chain, given hc, its nearest chain edge.
 *
 * The side of the nearest point of a polyline is ill-defined where that point is a
 * vertex or an end: the sign test against one edge's line can disagree with its
 * neighbour's (the point is beyond both edges, in the vertex's Voronoi cone), and at
 * the end of a chain part the "edge" that continues the border is the gap line to the
 * next part, not the extension of the last edge. So the side is decided on the chain
 * as one polyline (bt_border::cpts: the chain parts joined by their gap lines) in a
 * tangent plane at p:
 *  - the nearest point of that polyline is the nearer of hc's edge and the gap lines;
 *  - inside a segment, the sign of the cross product decides;
 *  - at a vertex, the sign of (p - v) . N, with N the sum of the unit left normals of
 *    the two segments meeting there: the angle-weighted pseudo-normal of Baerentzen &
 *    Aanaes (2005), which in 2-D gives the correct inside/outside sign for any point
 *    whose nearest polyline point is that vertex;
 *  - at the two ends of the chain only one segment meets: its extended line decides;
 *  - a spike (the chain turning back by more than 150 degrees) is cut off by a chord
 *    (vertex_side).
 * Within 1 mm of the chain (p on it) the side is BT_SIDE_ON.
 */
static bt_side chain_side(const bt_border *b, bt_lonlat p, const struct hit *hc)
{
    double kx, ky;
    metres_per_degree(p.lat, &kx, &ky);
    const bt_lonlat *c = b->cpts;
#define CX(q) (norm_dlon((q).lon - p.lon) * kx)
#define CY(q) (((q).lat - p.lat) * ky)
    /* hc's edge as a segment of cpts, in chain orientation */
    const struct bt__edge *e = &b->edges[hc->edge];
    const struct bt__part *pt = &b->parts[e->part];
    size_t best = pt->cv0 + (pt->reversed ? pt->n - 2 - e->i : e->i);
    double bt;
    double bd = seg_project(CX(c[best]), CY(c[best]), CX(c[best + 1]), CY(c[best + 1]), &bt);
    for (size_t k = 0; k + 1 < b->nchain; k++) {
        size_t j = b->gap_at[k];
        double t;
        double d = seg_project(CX(c[j]), CY(c[j]), CX(c[j + 1]), CY(c[j + 1]), &t);
        if (d < bd) {
            bd = d;
            bt = t;
            best = j;
        }
    }
    if (sqrt(bd) < 1e-3 && hc->dist < 1e-3) return BT_SIDE_ON;
    double ax = CX(c[best]), ay = CY(c[best]), zx = CX(c[best + 1]), zy = CY(c[best + 1]);
    double seglen = hypot(zx - ax, zy - ay);
    double s; /* > 0: left */
    if (bt * seglen > SAME_VERTEX_M && (1.0 - bt) * seglen > SAME_VERTEX_M) {
        s = (zx - ax) * (-ay) - (zy - ay) * (-ax);
    } else {
        /* a vertex v (or an end): the pseudo-normal of the segments meeting there */
        size_t v = bt * seglen <= SAME_VERTEX_M ? best : best + 1;
        s = vertex_side(b, kx, ky, p, v);
        if (s == 0.0) {
            /* normals cancel (an exact reversal): the edge's own sign test */
            s = pt->reversed ? -hc->cross : hc->cross;
        }
    }
#undef CX
#undef CY
    if (s == 0.0) return BT_SIDE_ON;
    return s > 0.0 ? BT_SIDE_LEFT : BT_SIDE_RIGHT;
}

int bt__border_locate(const bt_border *b, bt_lonlat p, double max_offset_m, bool exact,
                      bt_location *out, bool *found)
{
    struct hit h, hc;
    *found = false;
    if (!nearest_edge(b, p, false, max_offset_m, exact, &h)) return BT_OK;
    const struct bt__part *pt = &b->parts[b->edges[h.edge].part];
    out->segment_id = pt->id;
    out->offset_m = h.dist;
    out->foot = h.foot;
    if (pt->on_chain) {
        hc = h;
    } else if (!nearest_edge(b, p, true, INFINITY, exact, &hc)) {
        return BT_ERR_INTERNAL; /* a border always has a chain part */
    }
    out->chainage_m = hit_chainage(b, &hc);
    out->chain_offset_m = hc.dist;
    out->side = chain_side(b, p, &hc);
    *found = true;
    return BT_OK;
}

/* An edge listed for a cell, with a lower bound of its distance from the cell's
 * centre. */
struct lbe {
    double lb;
    uint32_t e;
};

static int lbe_cmp(const void *pa, const void *pb)
{
    const struct lbe *a = pa, *b = pb;
    if (a->lb != b->lb) return a->lb < b->lb ? -1 : 1;
    return a->e < b->e ? -1 : (a->e > b->e);
}

/* Appends to *list every edge (chain parts only if chain_only) whose lower bound
 * from c is within reach metres, then sorts what it appended by that bound. */
static int collect_edges(const bt_border *b, bt_lonlat c, bool chain_only, double reach,
                         struct lbe **list, size_t *n, size_t *cap)
{
    long cx = (long)floor((c.lon - b->gx0) / b->cw);
    long cy = (long)floor((c.lat - b->gy0) / b->ch);
    size_t first = *n;
    for (long k = 0;; k++) {
        bool any = false;
        for (long iy = cy - k; iy <= cy + k; iy++) {
            if (iy < 0 || iy >= b->ny) continue;
            bool edge_row = (iy == cy - k || iy == cy + k);
            long step = edge_row ? 1 : (2 * k > 0 ? 2 * k : 1);
            for (long ix = cx - k; ix <= cx + k; ix += step) {
                if (ix < 0 || ix >= b->nx) continue;
                any = true;
                size_t cell = (size_t)iy * (size_t)b->nx + (size_t)ix;
                for (uint32_t q = b->cell_start[cell]; q < b->cell_start[cell + 1]; q++) {
                    uint32_t ei = b->cell_edges[q];
                    const struct bt__edge *e = &b->edges[ei];
                    const struct bt__part *pt = &b->parts[e->part];
                    if (chain_only && !pt->on_chain) continue;
                    double t, cross;
                    double dpl = edge_planar(e, pt->pts[e->i], c, &t, &cross);
                    double lb = planar_lb(dpl) - e->sag;
                    if (lb > reach) continue;
                    bool dup = false;
                    for (size_t j = first; j < *n && !dup; j++) dup = (*list)[j].e == ei;
                    if (dup) continue;
                    if (*n == *cap) {
                        size_t nc = *cap ? 2 * *cap : 256;
                        struct lbe *nv = bt__realloc(*list, nc * sizeof *nv);
                        if (!nv) return BT_ERR_NOMEM;
                        *list = nv;
                        *cap = nc;
                    }
                    (*list)[(*n)++] = (struct lbe){lb, ei};
                }
            }
        }
        if (!any || (double)k * b->cell_min_m > reach) break;
    }
    if (*n - first > 1) qsort(*list + first, *n - first, sizeof **list, lbe_cmp);
    return BT_OK;
}

/* Picks, among the listed edges (chain parts only if chain_only), the nearest to p in
 * the fast mode's sense (see nearest_edge). p lies within r metres of the centre the
 * list was sorted from, so an edge listed with bound lb is at least lb - r from p:
 * the walk stops at the first one that cannot beat the best so far. */
static bool pick_edge(const bt_border *b, bt_lonlat p, const struct lbe *list, size_t n,
                      double r, bool chain_only, double maxd, struct hit *h)
{
    struct cand cv[MAX_CAND];
    size_t nc = 0;
    double best_ub = INFINITY;
    for (size_t j = 0; j < n; j++) {
        if (list[j].lb - r > best_ub || list[j].lb - r > maxd) break;
        const struct bt__edge *e = &b->edges[list[j].e];
        const struct bt__part *pt = &b->parts[e->part];
        if (chain_only && !pt->on_chain) continue;
        double t, cross;
        double dpl = edge_planar(e, pt->pts[e->i], p, &t, &cross);
        double lb = planar_lb(dpl) - e->sag;
        if (lb > maxd || lb > best_ub) continue;
        double ub = planar_ub(dpl) + e->sag;
        cand_add(cv, &nc, &best_ub, (struct cand){list[j].e, t, cross, dpl, lb, ub});
    }
    if (nc == 0) return false;
    size_t bi = 0;
    for (size_t c = 1; c < nc; c++)
        if (cv[c].dpl < cv[bi].dpl) bi = c;
    if (cv[bi].ub <= maxd || isinf(maxd)) {
        h->edge = cv[bi].edge;
        h->t = cv[bi].t;
        h->cross = cv[bi].cross;
        h->dist = cv[bi].dpl;
        return true;
    }
    return exact_nearest(b, p, cv, nc, maxd, h);
}

int bt__border_locate_many(const bt_border *b, const bt_lonlat *p, size_t n,
                           double max_offset_m, double *chainage, unsigned char *found)
{
    size_t ncells = (size_t)b->nx * (size_t)b->ny;
    /* counting sort of the points by cell; points outside the grid come last */
    size_t *start = bt__calloc(ncells + 2, sizeof *start);
    size_t *order = bt__malloc((n + 1) * sizeof *order);
    struct lbe *list = NULL;
    size_t lcap = 0;
    int rc = BT_OK;
    if (!start || !order) {
        rc = BT_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        long cx = (long)floor((p[i].lon - b->gx0) / b->cw);
        long cy = (long)floor((p[i].lat - b->gy0) / b->ch);
        size_t cell = (cx < 0 || cy < 0 || cx >= b->nx || cy >= b->ny)
                          ? ncells
                          : (size_t)cy * (size_t)b->nx + (size_t)cx;
        start[cell + 1]++;
    }
    for (size_t c = 0; c <= ncells; c++) start[c + 1] += start[c];
    for (size_t i = 0; i < n; i++) {
        long cx = (long)floor((p[i].lon - b->gx0) / b->cw);
        long cy = (long)floor((p[i].lat - b->gy0) / b->ch);
        size_t cell = (cx < 0 || cy < 0 || cx >= b->nx || cy >= b->ny)
                          ? ncells
                          : (size_t)cy * (size_t)b->nx + (size_t)cx;
        order[start[cell]++] = i;
    }
    /* start[c] is now the end of cell c */
    size_t pos = 0;
    for (size_t cell = 0; cell <= ncells; cell++) {
        size_t end = start[cell];
        if (end == pos) continue;
        if (cell == ncells) {
            /* outside the grid: one by one */
            for (; pos < end; pos++) {
                bt_location loc;
                bool f;
                rc = bt__border_locate(b, p[order[pos]], max_offset_m, false, &loc, &f);
                if (rc != BT_OK) goto done;
                found[order[pos]] = f;
                chainage[order[pos]] = f ? loc.chainage_m : 0.0;
            }
            break;
        }
        /* the cell's candidates: every edge that can be nearest to a point of the cell
         * (within the nearest distance from its centre plus the cell's diameter), for
         * all parts and for the chain alone */
        long cy = (long)(cell / (size_t)b->nx), cx = (long)(cell % (size_t)b->nx);
        bt_lonlat ctr = {b->gx0 + ((double)cx + 0.5) * b->cw, b->gy0 + ((double)cy + 0.5) * b->ch};
        double kx, ky;
        metres_per_degree(fabs(ctr.lat) - 0.5 * b->ch, &kx, &ky);
        double r = 0.5 * hypot(b->cw * kx, b->ch * ky) * 1.01 + 0.01;
        size_t nl = 0, nall = 0;
        struct hit h0;
        for (int pass = 0; pass < 2; pass++) {
            bool chain_only = pass == 1;
            if (!nearest_edge(b, ctr, chain_only, INFINITY, false, &h0)) continue;
            double ub0 = planar_ub(h0.dist) + b->edges[h0.edge].sag;
            /* with a margin for the planar bounds of the edge picked at p */
            double reach = (ub0 + 2.0 * r) * 1.01 + 1.0;
            rc = collect_edges(b, ctr, chain_only, reach, &list, &nl, &lcap);
            if (rc != BT_OK) goto done;
            if (pass == 0) nall = nl;
        }
        for (; pos < end; pos++) {
            size_t i = order[pos];
            struct hit h, hc;
            found[i] = 0;
            chainage[i] = 0.0;
            if (!pick_edge(b, p[i], list, nall, r, false, max_offset_m, &h)) continue;
            if (!b->parts[b->edges[h.edge].part].on_chain) {
                if (!pick_edge(b, p[i], list + nall, nl - nall, r, true, INFINITY, &hc)) {
                    rc = BT_ERR_INTERNAL;
                    goto done;
                }
                h = hc;
            }
            found[i] = 1;
            chainage[i] = hit_chainage(b, &h);
        }
    }
done:
    bt__free(start);
    bt__free(order);
    bt__free(list);
    return rc;
}

bt_lonlat bt__border_point_at(const bt_border *b, double c)
{
    if (!(c > 0.0)) c = 0.0;
    if (c > b->length_m) c = b->length_m;
    /* last chain part with c0 <= c */
    size_t lo = 0, hi = b->nchain;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (b->parts[b->chain[mid]].c0 <= c) lo = mid; else hi = mid;
    }
    const struct bt__part *pt = &b->parts[b->chain[lo]];
    double u = c - pt->c0;
    if (u > pt->length_m) {
        /* inside the gap after this part */
        bt_lonlat a = pt->reversed ? pt->pts[0] : pt->pts[pt->n - 1];
        if (lo + 1 >= b->nchain) return a;
        const struct bt__part *nx = &b->parts[b->chain[lo + 1]];
        bt_lonlat z = nx->reversed ? nx->pts[nx->n - 1] : nx->pts[0];
        double s12, azi1, r_lat, r_lon;
        geod_inverse(&b->g, a.lat, a.lon, z.lat, z.lon, &s12, &azi1, NULL);
        double d = u - pt->length_m;
        if (d >= s12) return z;
        geod_direct(&b->g, a.lat, a.lon, azi1, d, &r_lat, &r_lon, NULL);
        return (bt_lonlat){norm_dlon(r_lon), r_lat};
    }
    double along = pt->reversed ? pt->length_m - u : u;
    /* last vertex with cum <= along */
    size_t i0 = 0, i1 = pt->n - 1;
    while (i1 - i0 > 1) {
        size_t mid = (i0 + i1) / 2;
        if (pt->cum[mid] <= along) i0 = mid; else i1 = mid;
    }
    const struct bt__edge *e = &b->edges[pt->e0 + i0];
    double t = e->len > 0.0 ? (along - pt->cum[i0]) / e->len : 0.0;
    return edge_point(b, e, t);
}

/* ---- building ------------------------------------------------------------ */

void bt_border_free(bt_border *b)
{
    if (!b) return;
    for (size_t i = 0; i < b->nparts; i++) {
        bt__free(b->parts[i].pts);
        bt__free(b->parts[i].cum);
    }
    bt__free(b->parts);
    bt__free(b->chain);
    bt__free(b->gap_before);
    bt__free(b->cpts);
    bt__free(b->gap_at);
    bt__free(b->edges);
    bt__free(b->cell_start);
    bt__free(b->cell_edges);
    bt__free(b->name);
    bt__free(b);
}

static bool lonlat_ok(bt_lonlat p)
{
    return isfinite(p.lon) && isfinite(p.lat) && p.lon >= -180.0 && p.lon <= 180.0 &&
           p.lat >= -90.0 && p.lat <= 90.0;
}

/* Copies the parts, measures them and builds the edges. */
static int load_parts(bt_store *s, bt_border *b, const struct bt__part_in *in, size_t n)
{
    size_t nedges = 0;
    b->parts = bt__calloc(n, sizeof *b->parts);
    if (!b->parts) return bt__error(s, BT_ERR_NOMEM, "border '%s': out of memory", b->name);
    b->nparts = n;
    b->bbox = (bt_bbox){INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < n; i++) {
        if (in[i].n < 2 || !in[i].pts)
            return bt__error(s, BT_ERR_INVALID,
                             "border '%s': segment %lld has %zu vertices; expected >= 2",
                             b->name, (long long)in[i].id, in[i].n);
        for (size_t k = 0; k < in[i].n; k++)
            if (!lonlat_ok(in[i].pts[k]))
                return bt__error(s, BT_ERR_INVALID,
                                 "border '%s': segment %lld vertex %zu is not a valid "
                                 "lon/lat", b->name, (long long)in[i].id, k);
        nedges += in[i].n - 1;
    }
    if (nedges > UINT32_MAX / 2)
        return bt__error(s, BT_ERR_INVALID, "border '%s': too many edges (%zu)", b->name,
                         nedges);
    b->edges = bt__malloc(nedges * sizeof *b->edges);
    if (!b->edges) return bt__error(s, BT_ERR_NOMEM, "border '%s': out of memory", b->name);
    b->nedges = nedges;
    size_t ei = 0;
    for (size_t i = 0; i < n; i++) {
        struct bt__part *pt = &b->parts[i];
        pt->id = in[i].id;
        pt->seq = in[i].seq;
        pt->n = in[i].n;
        pt->pts = bt__malloc(pt->n * sizeof *pt->pts);
        pt->cum = bt__malloc(pt->n * sizeof *pt->cum);
        if (!pt->pts || !pt->cum)
            return bt__error(s, BT_ERR_NOMEM, "border '%s': out of memory", b->name);
        memcpy(pt->pts, in[i].pts, pt->n * sizeof *pt->pts);
        pt->e0 = ei;
        pt->cum[0] = 0.0;
        for (size_t k = 0; k < pt->n; k++) {
            bt_lonlat v = pt->pts[k];
            if (v.lon < b->bbox.west) b->bbox.west = v.lon;
            if (v.lon > b->bbox.east) b->bbox.east = v.lon;
            if (v.lat < b->bbox.south) b->bbox.south = v.lat;
            if (v.lat > b->bbox.north) b->bbox.north = v.lat;
            if (k + 1 == pt->n) break;
            bt_lonlat w = pt->pts[k + 1];
            struct bt__edge *e = &b->edges[ei++];
            double s12, azi1;
            geod_inverse(&b->g, v.lat, v.lon, w.lat, w.lon, &s12, &azi1, NULL);
            e->part = (uint32_t)i;
            e->i = (uint32_t)k;
            e->len = s12;
            e->azi = azi1;
            metres_per_degree(0.5 * (v.lat + w.lat), &e->kx, &e->ky);
            e->bx = norm_dlon(w.lon - v.lon) * e->kx;
            /* the geodesic bows poleward of the lon/lat chord by about
             * len^2 tan(lat) / 8R; with a margin, and 1 mm */
            e->sag = s12 * s12 * (fabs(tan(0.5 * (v.lat + w.lat) * DEG)) + 0.05) /
                         (8.0 * 6371000.0) * 1.5 + 1e-3;
            e->by = (w.lat - v.lat) * e->ky;
            pt->cum[k + 1] = pt->cum[k] + s12;
        }
        pt->length_m = pt->cum[pt->n - 1];
        pt->ring = pt->n >= 3 && gdist(&b->g, pt->pts[0], pt->pts[pt->n - 1]) < RING_CLOSE_M;
        b->parts_length_m += pt->length_m;
    }
    if (b->bbox.east - b->bbox.west > 180.0)
        return bt__error(s, BT_ERR_INVALID,
                         "border '%s' spans more than 180 degrees of longitude "
                         "(crossing the antimeridian is not supported)", b->name);
    return BT_OK;
}

/* Builds the uniform grid: each edge is listed in every cell its padded envelope
 * meets (the pad covers the geodesic's bulge off the lon/lat segment). */
static int build_grid(bt_store *s, bt_border *b)
{
    double midlat = 0.5 * (b->bbox.south + b->bbox.north);
    double ch = CELL_DEG;
    double coslat = cos(midlat * DEG);
    if (coslat < 0.05) coslat = 0.05;
    double w = b->bbox.east - b->bbox.west, hgt = b->bbox.north - b->bbox.south;
    long nx, ny;
    for (;;) {
        double cw = ch / coslat;
        nx = (long)ceil(w / cw) + 3;
        ny = (long)ceil(hgt / ch) + 3;
        if ((double)nx * (double)ny <= 16.0 * (double)b->nedges + 65536.0) {
            b->cw = cw;
            break;
        }
        ch *= 2.0;
    }
    b->ch = ch;
    b->nx = nx;
    b->ny = ny;
    b->gx0 = b->bbox.west - b->cw;
    b->gy0 = b->bbox.south - b->ch;
    /* lower bound of a cell side in metres anywhere in the grid, with a margin */
    double maxabs = fmax(fabs(b->gy0), fabs(b->gy0 + (double)ny * ch));
    if (maxabs > 89.0) maxabs = 89.0;
    double kx, ky, kx0, ky0;
    metres_per_degree(maxabs, &kx, &ky);
    metres_per_degree(0.0, &kx0, &ky0);
    b->cell_min_m = 0.99 * fmin(b->cw * kx, b->ch * ky0);

    size_t ncells = (size_t)nx * (size_t)ny;
    b->cell_start = bt__calloc(ncells + 1, sizeof *b->cell_start);
    if (!b->cell_start) return bt__error(s, BT_ERR_NOMEM, "border '%s': out of memory", b->name);
    /* two passes: count, then fill */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            /* counts are in cell_start[c + 1]: make cell_start[c] the start of cell c */
            for (size_t c = 0; c < ncells; c++) b->cell_start[c + 1] += b->cell_start[c];
            b->cell_edges = bt__malloc((size_t)(b->cell_start[ncells] + 1) * sizeof(uint32_t));
            if (!b->cell_edges)
                return bt__error(s, BT_ERR_NOMEM, "border '%s': out of memory", b->name);
        }
        for (size_t ei = 0; ei < b->nedges; ei++) {
            const struct bt__edge *e = &b->edges[ei];
            bt_lonlat a = b->parts[e->part].pts[e->i], z = b->parts[e->part].pts[e->i + 1];
            double pad = 1e-4 + 1e-3 * fmax(fabs(z.lon - a.lon), fabs(z.lat - a.lat));
            long x0 = (long)floor((fmin(a.lon, z.lon) - pad - b->gx0) / b->cw);
            long x1 = (long)floor((fmax(a.lon, z.lon) + pad - b->gx0) / b->cw);
            long y0 = (long)floor((fmin(a.lat, z.lat) - pad - b->gy0) / b->ch);
            long y1 = (long)floor((fmax(a.lat, z.lat) + pad - b->gy0) / b->ch);
            if (x0 < 0) x0 = 0;
            if (y0 < 0) y0 = 0;
            if (x1 >= nx) x1 = nx - 1;
            if (y1 >= ny) y1 = ny - 1;
            for (long y = y0; y <= y1; y++)
                for (long x = x0; x <= x1; x++) {
                    size_t c = (size_t)y * (size_t)nx + (size_t)x;
                    if (pass == 0) {
                        if (b->cell_start[c + 1] == UINT32_MAX)
                            return bt__error(s, BT_ERR_INVALID, "border '%s': index overflow",
                                             b->name);
                        b->cell_start[c + 1]++;
                    } else {
                        b->cell_edges[b->cell_start[c]++] = (uint32_t)ei;
                    }
                }
        }
        if (pass == 1) {
            /* the fill advanced cell_start[c] to the end of cell c: shift back */
            for (size_t c = ncells; c > 0; c--) b->cell_start[c] = b->cell_start[c - 1];
            b->cell_start[0] = 0;
        }
    }
    return BT_OK;
}

/* Planar distance from p to the part (used only to order the parts). */
static double part_planar_dist(const bt_border *b, size_t i, bt_lonlat p)
{
    const struct bt__part *pt = &b->parts[i];
    double best = INFINITY;
    for (size_t k = 0; k + 1 < pt->n; k++) {
        double t, cross;
        double d = edge_planar(&b->edges[pt->e0 + k], pt->pts[k], p, &t, &cross);
        if (d < best) best = d;
    }
    return best;
}

static bt_lonlat part_start(const struct bt__part *pt, bool rev)
{
    return rev ? pt->pts[pt->n - 1] : pt->pts[0];
}

static bt_lonlat part_end(const struct bt__part *pt, bool rev)
{
    return rev ? pt->pts[0] : pt->pts[pt->n - 1];
}

/* The main chain as one polyline (bt_border::cpts) with its gap lines. */
static int build_chain_polyline(bt_store *s, bt_border *b)
{
    size_t n = 0;
    for (size_t k = 0; k < b->nchain; k++) n += b->parts[b->chain[k]].n;
    b->cpts = bt__malloc(n * sizeof *b->cpts);
    b->gap_at = bt__malloc(b->nchain * sizeof *b->gap_at);
    if (!b->cpts || !b->gap_at)
        return bt__error(s, BT_ERR_NOMEM, "border '%s': out of memory", b->name);
    size_t j = 0;
    for (size_t k = 0; k < b->nchain; k++) {
        struct bt__part *pt = &b->parts[b->chain[k]];
        if (k > 0) b->gap_at[k - 1] = j - 1;
        pt->cv0 = j;
        for (size_t i = 0; i < pt->n; i++)
            b->cpts[j++] = pt->pts[pt->reversed ? pt->n - 1 - i : i];
    }
    b->ncpts = n;
    return BT_OK;
}

enum { ST_FREE = 0, ST_CHAIN = 1, ST_SIDE = 2 };

/* Orders the parts into the main chain (docs/analysis.md, "The main chain"):
 * greedy nearest-end chaining from the origin over the open parts, dropping as side
 * parts those the chain has passed (both ends nearer to the chain than half their
 * distance to the chain's current end). */
static int build_chain(bt_store *s, bt_border *b, const bt_lonlat *origin)
{
    size_t n = b->nparts;
    unsigned char *st = bt__calloc(n, 1);
    double *dch = bt__malloc(2 * n * sizeof *dch);
    b->chain = bt__malloc(n * sizeof *b->chain);
    b->gap_before = bt__calloc(n, sizeof *b->gap_before);
    if (!st || !dch || !b->chain || !b->gap_before) {
        bt__free(st);
        bt__free(dch);
        return bt__error(s, BT_ERR_NOMEM, "border '%s': out of memory", b->name);
    }
    size_t nopen = 0;
    for (size_t i = 0; i < n; i++) nopen += !b->parts[i].ring;
    /* a border of island outlines only: treat them as open */
    for (size_t i = 0; i < n; i++) {
        st[i] = (b->parts[i].ring && nopen > 0) ? ST_SIDE : ST_FREE;
        dch[2 * i] = dch[2 * i + 1] = INFINITY;
    }
    /* the origin end */
    size_t first = SIZE_MAX;
    bool first_rev = false;
    double bestkey = INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (st[i] != ST_FREE) continue;
        for (int r = 0; r < 2; r++) {
            bt_lonlat e = part_start(&b->parts[i], r != 0);
            double key = origin ? gdist(&b->g, *origin, e) : e.lon;
            if (key < bestkey) {
                bestkey = key;
                first = i;
                first_rev = r != 0;
            }
        }
    }
    size_t cur = first;
    bool cur_rev = first_rev;
    double c = 0.0;
    b->nchain = 0;
    for (;;) {
        struct bt__part *pt = &b->parts[cur];
        st[cur] = ST_CHAIN;
        pt->on_chain = true;
        pt->reversed = cur_rev;
        c += b->nchain > 0 ? b->gap_before[b->nchain] : 0.0;
        pt->c0 = c;
        c += pt->length_m;
        b->chain[b->nchain++] = cur;
        bt_lonlat end = part_end(pt, cur_rev);
        /* update the free parts' end distances to the chain with the new part */
        for (size_t j = 0; j < n; j++) {
            if (st[j] != ST_FREE) continue;
            for (int r = 0; r < 2; r++) {
                double d = part_planar_dist(b, cur, part_start(&b->parts[j], r != 0));
                if (d < dch[2 * j + (size_t)r]) dch[2 * j + (size_t)r] = d;
            }
        }
        size_t next = SIZE_MAX;
        bool next_rev = false;
        double bestd = INFINITY;
        for (size_t j = 0; j < n; j++) {
            if (st[j] != ST_FREE) continue;
            double d0 = gdist(&b->g, end, part_start(&b->parts[j], false));
            double d1 = gdist(&b->g, end, part_start(&b->parts[j], true));
            if (dch[2 * j] < 0.5 * d0 && dch[2 * j + 1] < 0.5 * d1) {
                st[j] = ST_SIDE; /* passed: it lies beside the chain built so far */
                continue;
            }
            if (d0 < bestd) { bestd = d0; next = j; next_rev = false; }
            if (d1 < bestd) { bestd = d1; next = j; next_rev = true; }
        }
        if (next == SIZE_MAX) break;
        b->gap_before[b->nchain] = bestd;
        cur = next;
        cur_rev = next_rev;
    }
    b->length_m = c;
    for (size_t k = 0; k < b->nchain; k++) {
        b->chain_parts_m += b->parts[b->chain[k]].length_m;
        b->gaps_m += b->gap_before[k];
    }
    b->origin = part_start(&b->parts[b->chain[0]], b->parts[b->chain[0]].reversed);
    const struct bt__part *last = &b->parts[b->chain[b->nchain - 1]];
    b->end = part_end(last, last->reversed);
    bt__free(st);
    bt__free(dch);
    return build_chain_polyline(s, b);
}

int bt__border_build(bt_store *s, const char *name, const struct bt__part_in *parts,
                     size_t nparts, const bt_lonlat *origin, bt_border **out)
{
    *out = NULL;
    if (nparts == 0)
        return bt__error(s, BT_ERR_NOT_FOUND, "border '%s' has no segment", name ? name : "");
    if (origin && !lonlat_ok(*origin))
        return bt__error(s, BT_ERR_INVALID, "border '%s': origin is not a valid lon/lat",
                         name ? name : "");
    bt_border *b = bt__calloc(1, sizeof *b);
    if (!b) return bt__error(s, BT_ERR_NOMEM, "border: out of memory");
    b->name = bt__strdup(name ? name : "");
    if (!b->name) {
        bt__free(b);
        return bt__error(s, BT_ERR_NOMEM, "border: out of memory");
    }
    const struct geod_geodesic *wgs84 = bt__geod(s);
    if (!wgs84) {
        bt__free(b->name);
        bt__free(b);
        return BT_ERR_INTERNAL;
    }
    b->g = *wgs84;
    b->default_origin = origin == NULL;
    int rc = load_parts(s, b, parts, nparts);
    if (rc == BT_OK) rc = build_grid(s, b);
    if (rc == BT_OK) rc = build_chain(s, b, origin);
    if (rc != BT_OK) {
        bt_border_free(b);
        return rc;
    }
    *out = b;
    return BT_OK;
}
