/**
 * @file edge_dist.c
 * @brief Geodesic distance from a point to the boundary of a box or polygon, bracketed
 * to a tolerance by branch and bound over pieces of the edges.
 *
 * An edge is straight in lon/lat: E(t) = (lon0 + t dlon, lat0 + t dlat), t in [0, 1]
 * (GEOS's planar reading of a polygon in EPSG:4326; a box's meridians and parallels
 * are such lines too). The distance to the boundary is the least f(t) = s(P, E(t))
 * over the edges, s from geod_inverse. Pieces [ta, tb] of edges wait in a heap by a
 * lower bound of f over them, the largest of three:
 *
 *  - normals: s >= M_min a, with a the least angle between P's normal and the normals
 *    of the piece's lon/lat box (bt__cell_angles(), see plan.c), less 1 m for the
 *    rounding of acos (at most ~0.3 m at tiny angles);
 *  - Lipschitz: f changes no faster than the arc length, and the piece's arc is at
 *    most S (tb - ta) long, S = N_max sqrt((cos(phi*) dlon)^2 + dlat^2) (radians;
 *    the parallel radius is N cos(phi) <= N_max cos(phi), the meridional M <= N_max,
 *    phi* the piece's latitude nearest the equator), so f >= (fa + fb - S h) / 2;
 *  - chord: s >= c (the ECEF chord), and the piece lies within A h^2 / 8 of the
 *    straight segment between its ends, where A bounds |E''(t)|: with the ECEF map
 *    X(lon, lat), |X_ll| = N cos(lat), |X_lp| = M |sin(lat)|, |X_pp| = sqrt(M^2 +
 *    M'^2) <= 1.0001 M, all <= N_max, so A = 1.001 N_max (|dlon| + |dlat|)^2.
 *
 * The upper bound is the least f evaluated (and, for a meridian or parallel piece,
 * which is its own lon/lat box, N_max a + 1 m). The loop splits the piece of least
 * bound until the bounds are within tol or on one side of the caller's limits. The
 * chord bound closes to 1 cm for distances up to ~20 km (the chord is shorter than
 * the geodesic by ~s^3 / (24 R^2)); beyond, the Lipschitz bound alone closes the gap
 * with pieces ~2 tol long: slower, but needed only for points whose distance lies
 * within that gap of the threshold asked. Termination: once S h < 2 tol every piece's
 * bound is within tol of the best value.
 */
#include "query/edge_dist.h"
#include "query/query_internal.h"

#include <math.h>
#include <string.h>

/* Slack of the normal-angle bounds, metres (rounding of acos). */
#define ANGLE_SLACK_M 1.0
/* Slack for geod_inverse and the chord in doubles, metres. */
#define ROUND_M 1e-7
/* Edges per leaf of the box tree. */
#define LEAF 4
/* Pieces shorter than this (in t) are not split: rounding would dominate. */
#define MIN_PIECE 1e-13

enum { ITEM_NODE = 0, ITEM_PIECE = 1 };

struct bt__bnd_item {
    double lb;
    double ta, tb, fa, fb;  /* f at the ends, NaN until evaluated */
    double xa[3], xb[3];    /* ECEF of the ends */
    uint32_t idx;           /* node or edge */
    int kind;
};

int bt__bnd_add(struct bt__bnd *b, double lon0, double lat0, double lon1, double lat1)
{
    if (b->ne == b->cap) {
        size_t nc = b->cap ? 2 * b->cap : 16;
        struct bt__edge *ne = bt__realloc(b->e, nc * sizeof *ne);
        if (!ne) return BT_ERR_NOMEM;
        b->e = ne;
        b->cap = nc;
    }
    struct bt__edge *e = &b->e[b->ne++];
    e->lon0 = lon0;
    e->lat0 = lat0;
    e->lon1 = lon1;
    e->lat1 = lat1;
    e->dlam = (lon1 - lon0) / BT__DEG;
    e->dphi = (lat1 - lat0) / BT__DEG;
    double k = fabs(e->dlam) + fabs(e->dphi);
    e->acc = 1.001 * BT__N_MAX * k * k;
    e->w = fmin(lon0, lon1);
    e->e = fmax(lon0, lon1);
    e->s = fmin(lat0, lat1);
    e->n = fmax(lat0, lat1);
    return BT_OK;
}

int bt__bnd_add_box(struct bt__bnd *b, bt_bbox x)
{
    int rc = BT_OK;
    bool all_lon = x.west == -180.0 && x.east == 180.0;
    if (!all_lon) {
        rc = bt__bnd_add(b, x.west, x.south, x.west, x.north);
        if (!rc) rc = bt__bnd_add(b, x.east, x.south, x.east, x.north);
    }
    double lat[2] = {x.south, x.north};
    for (int k = 0; k < 2 && !rc; k++) {
        if (fabs(lat[k]) == 90.0) continue; /* a point, on the meridians if any */
        if (x.west <= x.east) {
            rc = bt__bnd_add(b, x.west, lat[k], x.east, lat[k]);
        } else {
            rc = bt__bnd_add(b, x.west, lat[k], 180.0, lat[k]);
            if (!rc) rc = bt__bnd_add(b, -180.0, lat[k], x.east, lat[k]);
        }
    }
    return rc;
}

/* Builds the node for edges [lo, hi) and returns its index. */
static uint32_t build_node(struct bt__bnd *b, uint32_t lo, uint32_t hi)
{
    uint32_t k = (uint32_t)b->nnode++;
    struct bt__bnd_node *nd = &b->node[k];
    nd->lo = lo;
    nd->hi = hi;
    nd->left = nd->right = 0;
    if (hi - lo > LEAF) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint32_t l = build_node(b, lo, mid), r = build_node(b, mid, hi);
        nd = &b->node[k];
        nd->left = l;
        nd->right = r;
        nd->w = fmin(b->node[l].w, b->node[r].w);
        nd->s = fmin(b->node[l].s, b->node[r].s);
        nd->e = fmax(b->node[l].e, b->node[r].e);
        nd->n = fmax(b->node[l].n, b->node[r].n);
    } else {
        nd->w = nd->s = INFINITY;
        nd->e = nd->n = -INFINITY;
        for (uint32_t i = lo; i < hi; i++) {
            nd->w = fmin(nd->w, b->e[i].w);
            nd->s = fmin(nd->s, b->e[i].s);
            nd->e = fmax(nd->e, b->e[i].e);
            nd->n = fmax(nd->n, b->e[i].n);
        }
    }
    return k;
}

int bt__bnd_build(struct bt__bnd *b)
{
    bt__free(b->node);
    b->node = NULL;
    b->nnode = 0;
    if (b->ne == 0) return BT_OK;
    if (b->ne > UINT32_MAX / 4) return BT_ERR_NOMEM;
    b->node = bt__malloc(2 * b->ne * sizeof *b->node);
    if (!b->node) return BT_ERR_NOMEM;
    build_node(b, 0, (uint32_t)b->ne);
    return BT_OK;
}

void bt__bnd_free(struct bt__bnd *b)
{
    bt__free(b->e);
    bt__free(b->node);
    memset(b, 0, sizeof *b);
}

void bt__bnd_work_free(struct bt__bnd_work *w)
{
    bt__free(w->a);
    memset(w, 0, sizeof *w);
}

/* ---- bounds -------------------------------------------------------------------- */

static double angle_lb(bt_lonlat p, double w, double s, double e, double n)
{
    double amin, amax;
    bt__cell_angles(p.lon, p.lat, w, s, e, n, &amin, &amax);
    return BT__M_MIN * amin - ANGLE_SLACK_M;
}

static void edge_at(const struct bt__edge *e, double t, double *lon, double *lat)
{
    if (t == 0.0) {
        *lon = e->lon0;
        *lat = e->lat0;
    } else if (t == 1.0) {
        *lon = e->lon1;
        *lat = e->lat1;
    } else {
        *lon = e->lon0 + t * (e->lon1 - e->lon0);
        *lat = e->lat0 + t * (e->lat1 - e->lat0);
    }
}

/* Distance from x to the segment [a, b] in ECEF. */
static double seg_dist(const double x[3], const double a[3], const double b[3])
{
    double d[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]};
    double v[3] = {x[0] - a[0], x[1] - a[1], x[2] - a[2]};
    double dd = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
    double t = dd > 0.0 ? (v[0] * d[0] + v[1] * d[1] + v[2] * d[2]) / dd : 0.0;
    t = fmax(0.0, fmin(1.0, t));
    double r0 = v[0] - t * d[0], r1 = v[1] - t * d[1], r2 = v[2] - t * d[2];
    return sqrt(r0 * r0 + r1 * r1 + r2 * r2);
}

struct ctx {
    const struct bt__bnd *b;
    const struct geod_geodesic *g;
    bt_lonlat p;
    double px[3];
    struct bt__bnd_work *w;
    double ub;
};

/* Lower bound of f over a piece (fills it->lb); may lower c->ub for axis pieces. */
static void piece_bound(struct ctx *c, struct bt__bnd_item *it)
{
    const struct bt__edge *e = &c->b->e[it->idx];
    double la, pa, lb_, pb;
    edge_at(e, it->ta, &la, &pa);
    edge_at(e, it->tb, &lb_, &pb);
    double w = fmin(la, lb_), ea = fmax(la, lb_), s = fmin(pa, pb), n = fmax(pa, pb);
    double amin, amax;
    bt__cell_angles(c->p.lon, c->p.lat, w, s, ea, n, &amin, &amax);
    double l1 = BT__M_MIN * amin - ANGLE_SLACK_M;
    if (e->dlam == 0.0 || e->dphi == 0.0) {
        /* a meridian or parallel piece is its own box: its nearest normal is on it */
        double u = BT__N_MAX * amin + ANGLE_SLACK_M;
        if (u < c->ub) c->ub = u;
    }
    double h = it->tb - it->ta;
    double l3 = seg_dist(c->px, it->xa, it->xb) - e->acc * h * h / 8.0 - ROUND_M;
    double lb = fmax(l1, l3);
    if (!isnan(it->fa) && !isnan(it->fb)) {
        double phis = (s <= 0.0 && n >= 0.0) ? 0.0 : fmin(fabs(s), fabs(n)) / BT__DEG;
        double cl = cos(phis) * e->dlam;
        double speed = BT__N_MAX * sqrt(cl * cl + e->dphi * e->dphi) * (1.0 + 1e-12);
        double l2 = 0.5 * (it->fa + it->fb - speed * h) - ROUND_M;
        lb = fmax(lb, l2);
    }
    it->lb = fmax(lb, 0.0);
}

static double eval(struct ctx *c, const struct bt__edge *e, double t)
{
    double lon, lat;
    edge_at(e, t, &lon, &lat);
    c->w->ngeod++;
    double f = bt__geod_dist(c->g, c->p, (bt_lonlat){lon, lat});
    if (f < c->ub) c->ub = f;
    return f;
}

static void heap_up(struct bt__bnd_item *a, size_t i)
{
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!(a[i].lb < a[up].lb)) break;
        struct bt__bnd_item t = a[i];
        a[i] = a[up];
        a[up] = t;
        i = up;
    }
}

static struct bt__bnd_item heap_pop(struct bt__bnd_work *w)
{
    struct bt__bnd_item top = w->a[0];
    w->a[0] = w->a[--w->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < w->n && w->a[l].lb < w->a[m].lb) m = l;
        if (r < w->n && w->a[r].lb < w->a[m].lb) m = r;
        if (m == i) break;
        struct bt__bnd_item t = w->a[i];
        w->a[i] = w->a[m];
        w->a[m] = t;
        i = m;
    }
    return top;
}

/* Keeps an item that may hold a smaller value; notes the bound of one dropped for
 * being beyond the caller's upper limit. */
static int offer(struct ctx *c, const struct bt__bnd_item *it, double lim_hi, double *dropped)
{
    if (it->lb >= c->ub) return BT_OK; /* nothing below the best value found */
    if (it->lb > lim_hi) {
        if (it->lb < *dropped) *dropped = it->lb;
        return BT_OK;
    }
    struct bt__bnd_work *w = c->w;
    if (w->n == w->cap) {
        size_t nc = w->cap ? 2 * w->cap : 64;
        struct bt__bnd_item *na = bt__realloc(w->a, nc * sizeof *na);
        if (!na) return BT_ERR_NOMEM;
        w->a = na;
        w->cap = nc;
    }
    w->a[w->n] = *it;
    heap_up(w->a, w->n++);
    return BT_OK;
}

static void node_item(const struct bt__bnd *b, bt_lonlat p, uint32_t k, struct bt__bnd_item *it)
{
    const struct bt__bnd_node *nd = &b->node[k];
    memset(it, 0, sizeof *it);
    it->kind = ITEM_NODE;
    it->idx = k;
    it->lb = fmax(0.0, angle_lb(p, nd->w, nd->s, nd->e, nd->n));
}

static void piece_item(struct ctx *c, uint32_t edge, struct bt__bnd_item *it)
{
    const struct bt__edge *e = &c->b->e[edge];
    memset(it, 0, sizeof *it);
    it->kind = ITEM_PIECE;
    it->idx = edge;
    it->ta = 0.0;
    it->tb = 1.0;
    it->fa = it->fb = NAN;
    bt__ecef(e->lon0, e->lat0, &it->xa[0], &it->xa[1], &it->xa[2]);
    bt__ecef(e->lon1, e->lat1, &it->xb[0], &it->xb[1], &it->xb[2]);
    piece_bound(c, it);
}

int bt__bnd_dist(const struct bt__bnd *b, const struct geod_geodesic *g, bt_lonlat p,
                 double lim_lo, double lim_hi, double tol, struct bt__bnd_work *w,
                 double *lo, double *hi)
{
    struct ctx c = {b, g, p, {0, 0, 0}, w, INFINITY};
    bt__ecef(p.lon, p.lat, &c.px[0], &c.px[1], &c.px[2]);
    double dropped = INFINITY;
    w->n = 0;
    int rc = BT_OK;
    if (b->nnode) {
        struct bt__bnd_item it;
        node_item(b, p, 0, &it);
        rc = offer(&c, &it, lim_hi, &dropped);
    }
    while (!rc && w->n) {
        double l = fmin(fmin(w->a[0].lb, dropped), c.ub);
        if (c.ub - l <= tol || l > lim_hi || c.ub <= lim_lo) break;
        struct bt__bnd_item it = heap_pop(w);
        if (it.lb >= c.ub) continue;
        if (it.kind == ITEM_NODE) {
            const struct bt__bnd_node *nd = &b->node[it.idx];
            struct bt__bnd_item ch;
            if (nd->left) {
                node_item(b, p, nd->left, &ch);
                rc = offer(&c, &ch, lim_hi, &dropped);
                node_item(b, p, nd->right, &ch);
                if (!rc) rc = offer(&c, &ch, lim_hi, &dropped);
            } else {
                for (uint32_t i = nd->lo; i < nd->hi && !rc; i++) {
                    piece_item(&c, i, &ch);
                    rc = offer(&c, &ch, lim_hi, &dropped);
                }
            }
            continue;
        }
        const struct bt__edge *e = &b->e[it.idx];
        if (isnan(it.fa)) it.fa = eval(&c, e, it.ta);
        if (isnan(it.fb)) it.fb = eval(&c, e, it.tb);
        if (it.tb - it.ta < MIN_PIECE) { /* within ~1e-5 m of its ends */
            dropped = fmin(dropped, fmin(it.fa, it.fb) - 1e-5);
            continue;
        }
        double tm = 0.5 * (it.ta + it.tb);
        double fm = eval(&c, e, tm);
        double lon, lat, xm[3];
        edge_at(e, tm, &lon, &lat);
        bt__ecef(lon, lat, &xm[0], &xm[1], &xm[2]);
        struct bt__bnd_item l_ = it, r_ = it;
        l_.tb = tm;
        l_.fb = fm;
        memcpy(l_.xb, xm, sizeof xm);
        r_.ta = tm;
        r_.fa = fm;
        memcpy(r_.xa, xm, sizeof xm);
        piece_bound(&c, &l_);
        piece_bound(&c, &r_);
        rc = offer(&c, &l_, lim_hi, &dropped);
        if (!rc) rc = offer(&c, &r_, lim_hi, &dropped);
    }
    *hi = c.ub;
    *lo = fmin(fmin(w->n ? w->a[0].lb : INFINITY, dropped), c.ub);
    w->n = 0;
    return rc;
}

double bt__bnd_cell_lb(const struct bt__bnd *b, double w, double s, double e, double n,
                       double cap)
{
    if (b->nnode == 0) return INFINITY;
    bt_lonlat c = {0.5 * (w + e), 0.5 * (s + n)};
    double amin, rad;
    bt__cell_angles(c.lon, c.lat, w, s, e, n, &amin, &rad);
    /* every normal of the cell is within rad of the centre's: the angle to a box's
     * normals is at least the centre's least angle less rad */
    double best = INFINITY;
    uint32_t stack[128];
    size_t top = 0;
    stack[top++] = 0;
    while (top) {
        const struct bt__bnd_node *nd = &b->node[stack[--top]];
        double a0, a1;
        bt__cell_angles(c.lon, c.lat, nd->w, nd->s, nd->e, nd->n, &a0, &a1);
        double lb = BT__M_MIN * (a0 - rad) - 2.0 * ANGLE_SLACK_M;
        if (lb > cap || lb >= best) continue;
        if (nd->left) {
            /* depth <= log2(edges) + 1, so never; a bound that proves nothing */
            if (BT_NEVER(top + 2 > sizeof stack / sizeof stack[0])) return -INFINITY;
            stack[top++] = nd->left;
            stack[top++] = nd->right;
            continue;
        }
        for (uint32_t i = nd->lo; i < nd->hi; i++) {
            const struct bt__edge *ed = &b->e[i];
            bt__cell_angles(c.lon, c.lat, ed->w, ed->s, ed->e, ed->n, &a0, &a1);
            double el = BT__M_MIN * (a0 - rad) - 2.0 * ANGLE_SLACK_M;
            if (el < best) best = el;
        }
    }
    return best;
}
