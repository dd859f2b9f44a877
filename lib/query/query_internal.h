/**
 * @file query_internal.h
 * @brief Internals of the queries (lib/query): a ::bt_query checked and compiled into
 * a plan, the exact per-incident test with its conservative shortcuts, and the
 * geodesic bounds they rest on.
 */
#ifndef BT_QUERY_INTERNAL_H
#define BT_QUERY_INTERNAL_H

#include "index/index.h"
#include "query/edge_dist.h"

/* WGS 84 */
#define BT__A 6378137.0
#define BT__F (1.0 / 298.257223563)
#define BT__E2 (BT__F * (2.0 - BT__F))
/* Smallest radius of curvature, a(1 - e^2) (meridional, at the equator), rounded down;
 * largest, a^2 / b (at the poles), rounded up. */
#define BT__M_MIN 6335439.0
#define BT__N_MAX 6399594.0
/* Slack for rounding in the bounds, metres: far above the error of the chord computed
 * in doubles (~1e-8 m) and of geod_inverse (~15 nm), far below anything measurable. */
#define BT__EPS_M 1e-5

#define BT__DEG (180.0 / 3.14159265358979323846)

/** Result of a three-way test. */
enum { BT__NO = 0, BT__YES = 1, BT__UNSURE = -1 };

/** A compiled query. */
struct bt__plan {
    bt_store *s;
    bt_query q;             /* the caller's filter, defaults applied */
    /* area */
    size_t nbox;            /* lon/lat boxes (west <= east) holding every candidate */
    bt_bbox box[2];
    /* circle: centre as a unit normal and in ECEF, chord thresholds (squared) */
    double nx, ny, nz;      /* unit normal of the centre (for cell bounds) */
    double cx, cy, cz;      /* ECEF of the centre */
    double sp0, cp0;        /* sine and cosine of the centre's latitude */
    double xr0, zr0;        /* the centre in ECEF turned to its own meridian (y = 0) */
    double c2_out, c2_in;   /* point semantics: chord^2 beyond c2_out: out; up to c2_in: in */
    bool can_inner;         /* the inner bound holds for this radius */
    /* the WGS 84 ellipsoid, NULL until a candidate needs an exact geodesic (PROJ is
     * loaded then: bt__plan_geod()) */
    const struct geod_geodesic *g;
    /* polygon, and its store's GEOS context */
    GEOSContextHandle_t h;
    GEOSGeometry *poly;
    const GEOSPreparedGeometry *prep;
    /* box and polygon with BT_MATCH_POSSIBLE / CERTAIN: the area's boundary, and the
     * largest uncertainty in the index (read at the first cell, or set by widen) */
    bool has_bnd;
    bt_bbox ext;            /* the box, or the polygon's extent (for widening) */
    struct bt__bnd bnd;
    struct bt__bnd_work bw;
    bool umax_known;
    double umax_m;
    /* time window in minutes, for exact rows: start <= to iff tlo <= to_min, and
     * end >= from iff thi >= from_min */
    int64_t to_min, from_min;
    bool has_time;
    /* attributes */
    unsigned types, verifs;
    unsigned max_rel, max_cred; /* 0: no condition; else code <= this */
    bool has_attr;
    /* statistics of the last run (for tests and the benchmark) */
    size_t ngeod, nfetch;
    int err;                /* first failure inside a callback */
};

/** The WGS 84 ellipsoid for an exact geodesic: loads PROJ at the first candidate that
 *  needs one, so that a query the chord bounds decide never loads it. NULL with
 *  p->err set (and the store's message) if PROJ does not load. */
static inline const struct geod_geodesic *bt__plan_geod(struct bt__plan *p)
{
    if (!p->g) {
        p->g = bt__geod(p->s);
        if (!p->g && !p->err) p->err = BT_ERR_INTERNAL;
    }
    return p->g;
}

/** Checks @p q (NULL: everything) and compiles it; names the bad field on failure. */
int bt__plan_init(bt_store *s, const bt_query *q, const char *fn, struct bt__plan *p);
void bt__plan_free(struct bt__plan *p);

/** Widens the candidate boxes of a circle, box or polygon by @p extra metres (for
 *  the "possible" semantics, by the largest uncertainty in the index). */
void bt__plan_widen(struct bt__plan *p, double extra);

/** ECEF coordinates of a point on the WGS 84 surface. */
void bt__ecef(double lon, double lat, double *x, double *y, double *z);

/** The squared chord (ECEF straight line) from a circle plan's centre to (lon, lat), as
 *  from bt__ecef() of both, without a libm call for points near the centre. */
double bt__plan_chord2(const struct bt__plan *p, double lon, double lat);
/** bt__plan_chord2() of the points idx[0..k) of pts, into c2[0..k) (the same values). */
void bt__plan_chord2_batch(const struct bt__plan *p, const struct bt__pts *pts,
                           const size_t *idx, size_t k, double *c2);

/**
 * The exact test of one indexed point against the plan (attributes, time, area).
 * @param inside the caller knows the point is in the area (a cell wholly inside).
 * @param[out] dist the geodesic distance from the circle centre when it was computed,
 *        else NaN.
 * @return BT__YES or BT__NO; BT__UNSURE never (undecided cases read the record);
 *         on a store failure p->err is set and BT__NO returned.
 */
int bt__plan_match(struct bt__plan *p, const struct bt__pts *pts, size_t i, bool inside,
                   double *dist);

/** The time test of point i whose interval the index holds exactly (BT__A_TEXACT). */
static inline bool bt__plan_time_exact(const struct bt__plan *p, const struct bt__pts *pts,
                                       size_t i)
{
    int64_t lo = pts->tlo[i], hi = pts->thi[i];
    return lo <= p->to_min && (hi == INT32_MAX || hi >= p->from_min);
}

/** Cell classifier for bt__kd_range() (ctx is the plan). */
int bt__plan_cell(void *ctx, double w, double s, double e, double n);

/** Lower bound of the angle (radians) between the unit normal (nx,ny,nz) of a point at
 *  (lon, lat) and any normal of the closed lon/lat cell; and the upper bound. */
void bt__cell_angles(double lon, double lat, double w, double s, double e, double n,
                     double *amin, double *amax);

/** Sorts the n hits of *hp (bt__malloc'd, capacity *cap; ids positive and distinct) by
 *  id. *hp and *cap may be swapped with a buffer of @p ix (may be NULL: in place). */
void bt__hits_sort_by_id(struct bt__index *ix, bt_hit **hp, size_t *cap, size_t n);

/** Exact start of the interval of point i (reads the record if the index rounded it). */
int bt__plan_start(struct bt__plan *p, const struct bt__pts *pts, size_t i, int64_t *start);

#endif /* BT_QUERY_INTERNAL_H */
