/**
 * @file analysis_internal.h
 * @brief Internals of the border analysis (lib/analysis): the chainage of a border
 * built from its parts, the index over its edges, and the pure computations on arrays
 * (interval unions, coverage, profile, clustering) that the public functions in
 * border.c feed from the store. Nothing outside lib/analysis and the tests uses it.
 */
#ifndef BT_ANALYSIS_INTERNAL_H
#define BT_ANALYSIS_INTERNAL_H

#include "../core/internal.h"

#include <stdbool.h>
#include <stdint.h>

/** One edge of a part: a geodesic from pts[i] to pts[i+1], with the constants of a
 *  tangent plane at its midpoint used to screen and project points cheaply. */
struct bt__edge {
    uint32_t part;    /* index into bt_border::parts */
    uint32_t i;       /* first vertex */
    double kx, ky;    /* metres per degree of lon / lat at the midpoint */
    double bx, by;    /* the end vertex in the plane anchored at the first vertex */
    double len;       /* geodesic length, m */
    double azi;       /* forward azimuth at the first vertex, degrees */
    double sag;       /* bound of the geodesic's departure from the planar chord, m */
};

/** One part (a border segment) as loaded. */
struct bt__part {
    int64_t id;        /* segment id in the store (0 for parts built from arrays) */
    int seq;
    bt_lonlat *pts;    /* own copy */
    size_t n;
    double *cum;       /* cum[i]: geodesic length from pts[0] to pts[i] */
    double length_m;   /* cum[n-1] */
    bool ring;         /* first and last vertex within 1 m: an island outline */
    bool on_chain;     /* part of the main chain */
    bool reversed;     /* runs against increasing chainage */
    double c0;         /* chainage of its chain-wise start (chain parts only) */
    size_t e0;         /* index of its first edge in bt_border::edges */
    size_t cv0;        /* chain parts: index of its chain-wise first vertex in
                          bt_border::cpts */
};

/** A border loaded with its chainage (the public opaque ::bt_border). */
struct bt_border {
    char *name;
    struct geod_geodesic g;
    struct bt__part *parts;
    size_t nparts;
    size_t *chain;       /* part indexes in chain order */
    size_t nchain;
    double *gap_before;  /* gap_before[k]: geodesic gap from chain part k-1's end */
    double parts_length_m, chain_parts_m, gaps_m, length_m;
    bt_lonlat origin, end;
    bool default_origin; /* built with origin NULL: chainage as stored */
    /* the main chain as one polyline in chain order: the chain parts' vertices
     * (reversed parts reversed), consecutive parts joined by their gap line; the
     * side of a point is decided on it (chainage.c, chain_side) */
    bt_lonlat *cpts;
    size_t ncpts;
    size_t *gap_at;      /* gap_at[k], k < nchain - 1: index j of the gap line
                            cpts[j] -> cpts[j + 1] after chain part k */
    bt_bbox bbox;        /* of all vertices */
    /* uniform lon/lat grid over the edges */
    struct bt__edge *edges;
    size_t nedges;
    double gx0, gy0;     /* south-west corner */
    double cw, ch;       /* cell width (lon) and height (lat), degrees */
    double cell_min_m;   /* lower bound of a cell's side in metres */
    long nx, ny;
    uint32_t *cell_start; /* nx*ny+1 offsets into cell_edges */
    uint32_t *cell_edges;
};

/** A part given as an array, for bt__border_build(). */
struct bt__part_in {
    int64_t id;
    int seq;
    const bt_lonlat *pts;
    size_t n;
};

/**
 * Builds a border's chainage from its parts (see docs/analysis.md for the ordering
 * rule). @p origin: the chain starts at the end of an open part nearest to it; NULL
 * means the westernmost such end. Errors go to @p s (may be NULL).
 * @return BT_OK, BT_ERR_INVALID (no part, a bad coordinate), BT_ERR_NOMEM.
 */
int bt__border_build(bt_store *s, const char *name, const struct bt__part_in *parts,
                     size_t nparts, const bt_lonlat *origin, bt_border **out);

/**
 * Where a point is relative to a border (see ::bt_location), if it lies within
 * @p max_offset_m of some part (INFINITY: always). With @p exact the offsets are
 * geodesic (about 1 mm); without, the planar figures of the edges' tangent planes
 * are used unless they cannot decide the limit (offsets to 0.2%, chainage and the
 * within-limit decision as in exact mode up to near-ties): the mode for bulk work.
 */
int bt__border_locate(const bt_border *b, bt_lonlat p, double max_offset_m, bool exact,
                      bt_location *out, bool *found);

/**
 * Locates many points at once in the fast mode (the same answers as
 * bt__border_locate() with exact false): the points are bucketed by grid cell and
 * each cell's candidate edges are found once. @p found[i] says whether point i lies
 * within @p max_offset_m; @p chainage[i] is then its chainage.
 * @return BT_OK, BT_ERR_NOMEM (no message: the caller reports).
 */
int bt__border_locate_many(const bt_border *b, const bt_lonlat *p, size_t n,
                           double max_offset_m, double *chainage, unsigned char *found);

/** The border's lon/lat box grown by at least @p d metres on every side. */
bt_bbox bt__grown_bbox(const bt_border *b, double d);

/** Stored chainage (stored.c) is kept for records within this box distance of a
 *  border, and serves queries with a max offset up to it. */
#define BT__STORED_MAX_OFFSET_M 50000.0

/** What bt__chainage_refresh() found. */
enum {
    BT__CH_USABLE = 0,       /* current, and computed on a border like b */
    BT__CH_UNSUPPORTED,      /* the store has no chainage tables */
    BT__CH_STALE_READONLY,   /* not current, and the store is read-only */
    BT__CH_MISMATCH          /* b has another origin, or older segments */
};

/**
 * Brings the stored chainage of the border named like @p b up to date (a whole
 * recompute if the border is stale, else the queued records) and says in @p status
 * whether it serves @p b (BT__CH_USABLE) or why not. When it returns BT_OK with
 * BT__CH_USABLE on a writable store, a savepoint stays open so that the caller's
 * scan reads the same snapshot: the caller then must call bt__chainage_done().
 * @return BT_OK, or an error reported on @p s.
 */
int bt__chainage_refresh(bt_store *s, const bt_border *b, int *status);

/** Ends what a usable bt__chainage_refresh() opened: releases the savepoint when
 *  *rc is BT_OK (a failure to release becomes *rc), else rolls it back. */
void bt__chainage_done(bt_store *s, int *rc);

/** The point at a chainage (clamped to 0..length); inside a gap, on the geodesic
 *  joining the two parts. */
bt_lonlat bt__border_point_at(const bt_border *b, double chainage_m);

/** A closed interval of chainage. */
struct bt__ival {
    double a, b;
};

/** Sorts and merges intervals in place; returns the new count. */
size_t bt__ivals_union(struct bt__ival *v, size_t n);
/** Total length of merged intervals clipped to [lo, hi]. */
double bt__ivals_length(const struct bt__ival *v, size_t n, double lo, double hi);

/** A growable array of intervals. */
struct bt__ivec {
    struct bt__ival *v;
    size_t n, cap;
};
int bt__ivec_push(struct bt__ivec *iv, double a, double b);

/**
 * Adds to @p out the chainage intervals covered by one linear installation: the
 * polyline is sampled along its geodesic edges at most every @p step_m; two
 * consecutive samples both within @p max_offset_m of the border give the interval
 * between their chainages, unless their chainages differ by more than their distance
 * plus 2 * max_offset_m (a jump across a bend, not coverage).
 */
int bt__cover_polyline(const bt_border *b, const bt_lonlat *pts, size_t n,
                       double max_offset_m, double step_m, struct bt__ivec *out);

/**
 * Adds to @p out the chainage intervals of @p b's main chain (with its gap lines)
 * inside the polygon @p ring (closed, @p n >= 4 vertices, edges straight in lon/lat;
 * the boundary counts as inside), unmerged (area.c states the rule).
 * @return BT_OK or BT_ERR_NOMEM (no message: the caller reports).
 */
int bt__chain_in_polygon(const bt_border *b, const bt_lonlat *ring, size_t n,
                         struct bt__ivec *out);

/** Last second of the period a date names (its first second plus the period). */
int64_t bt__date_last(bt_date d);

/** Whether an installation stands as of @p t (docs/analysis.md, "as of a date"). */
bool bt__installation_stands(const bt_installation *inst, int64_t t,
                             bool include_construction);

/**
 * DBSCAN over points with times: neighbours are within @p eps_m (geodesic) and
 * @p window_s seconds; a core point has at least @p min_pts neighbours counting
 * itself. @p label receives the cluster number (1-based) or 0 for noise.
 * @return the number of clusters, or -1 on out-of-memory.
 */
long bt__dbscan(const struct geod_geodesic *g, const bt_lonlat *p, const int64_t *t,
                size_t n, double eps_m, int64_t window_s, size_t min_pts, long *label);

#endif /* BT_ANALYSIS_INTERNAL_H */
