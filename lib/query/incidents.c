/**
 * @file incidents.c
 * @brief The public incident queries: filter (callback, result array, count) and
 * exact geodesic k nearest neighbours, answered from the in-memory index.
 */
#include "query/query_internal.h"
#include "store/backend.h"

#include <math.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

void bt_query_init(bt_query *q)
{
    if (!q) return;
    memset(q, 0, sizeof *q);
    q->area = BT_AREA_NONE;
    q->from = INT64_MIN;
    q->to = INT64_MAX;
    q->match = BT_MATCH_POINT;
    q->order = BT_ORDER_ID;
}

void bt_hits_free(bt_hit *hits) { bt__free(hits); }

/* ---- running a plan over the index ------------------------------------------ */

struct run {
    struct bt__plan *p;
    const struct bt__index *ix;
    bool is_static;
    /* sinks: hits, or counts */
    bt_hit *hits;
    size_t n, cap;
    bool counting;
    bool want_types; /* counting per type */
    bool want_dist;
    int64_t total;
    int64_t per_type[BT_INCIDENT_TYPE_COUNT];
};

/* Room for k more hits. */
static bool reserve(struct run *r, size_t k)
{
    if (r->cap - r->n >= k) return true;
    size_t ncap = r->cap ? r->cap * 2 : 256;
    while (ncap - r->n < k) ncap *= 2;
    bt_hit *nh = bt__realloc(r->hits, ncap * sizeof *nh);
    if (!nh) {
        r->p->err = bt__error(r->p->s, BT_ERR_NOMEM, "query: out of memory");
        return false;
    }
    r->hits = nh;
    r->cap = ncap;
    return true;
}

/* Appends a hit (the distance is NaN when not known yet). */
static bt_hit *add_hit(struct run *r, int64_t id, double d, bt_lonlat where)
{
    if (!reserve(r, 1)) return NULL;
    if (r->want_dist && isnan(d)) {
        const struct geod_geodesic *g = bt__plan_geod(r->p);
        if (!g) return NULL;
        r->p->ngeod++;
        d = bt__geod_dist(g, r->p->q.centre, where);
    }
    bt_hit *h = &r->hits[r->n++];
    h->id = id;
    h->distance_m = r->want_dist ? d : NAN;
    h->start = 0;
    return h;
}

static int run_point(void *ctx, const struct bt__pts *pts, size_t i, bool inside)
{
    struct run *r = ctx;
    if (r->is_static && !bt__index_static_live(r->ix, i)) return 0;
    double d;
    if (bt__plan_match(r->p, pts, i, inside, &d) != BT__YES) return r->p->err ? 1 : 0;
    if (r->counting) {
        r->total++;
        r->per_type[BT__A_TYPE(pts->attr[i]) % BT_INCIDENT_TYPE_COUNT]++;
        return 0;
    }
    bt_hit *h = add_hit(r, bt__pts_id(pts, i), d, (bt_lonlat){pts->lon[i], pts->lat[i]});
    if (!h) return 1;
    return bt__plan_start(r->p, pts, i, &h->start) ? 1 : 0;
}

/* The candidates of one leaf. A circle matched by the point settles most of them by
 * its chord bounds: the chords are computed in one tight loop, the points beyond the
 * outer bound dropped, those within the inner one taken as inside (attributes and
 * time are still tested); only the shell between gets the full test. When nothing
 * else is asked of a point inside (no attribute condition, no shadowed entry, no
 * distance, a time condition only on an exact interval), it is appended here, as
 * run_point() would. */
static int run_batch(void *ctx, const struct bt__pts *pts, const size_t *idx, size_t k,
                     bool inside)
{
    struct run *r = ctx;
    const struct bt__plan *p = r->p;
    bool chord = !inside && p->q.area == BT_AREA_CIRCLE && p->q.match == BT_MATCH_POINT;
    bool bulk = !p->has_attr && !r->want_dist && r->ix->shadow.n == 0;
    if (!chord && !(inside && bulk)) {
        for (size_t j = 0; j < k; j++)
            if (run_point(r, pts, idx[j], inside)) return 1;
        return 0;
    }
    double c2[BT__KD_BATCH];
    if (chord) bt__plan_chord2_batch(p, pts, idx, k, c2);
    if (bulk && !r->counting && !reserve(r, k)) return 1;
    for (size_t j = 0; j < k; j++) {
        size_t i = idx[j];
        bool in = inside;
        if (chord) {
            if (c2[j] > p->c2_out) continue;
            in = c2[j] <= p->c2_in;
        }
        if (bulk && in && (!p->has_time || (pts->attr[i] & BT__A_TEXACT))) {
            if (p->has_time && !bt__plan_time_exact(p, pts, i)) continue;
            if (r->counting) {
                r->total++;
                r->per_type[BT__A_TYPE(pts->attr[i]) % BT_INCIDENT_TYPE_COUNT]++;
                continue;
            }
            bt_hit *h = &r->hits[r->n++];
            h->id = bt__pts_id(pts, i);
            h->distance_m = NAN;
            h->start = 0;
            if (pts->attr[i] & BT__A_TEXACT)
                h->start = (int64_t)pts->tlo[i] * 60;
            else if (bt__plan_start(r->p, pts, i, &h->start))
                return 1;
            continue;
        }
        if (run_point(r, pts, i, in)) return 1;
    }
    return 0;
}

/* A count takes a subtree inside the area whole, when no attribute, time or shadowed
 * entry has to be looked at point by point: its size, and the types only if asked. */
static int run_span(void *ctx, const struct bt__pts *pts, size_t left, size_t right)
{
    struct run *r = ctx;
    r->total += (int64_t)(right - left + 1);
    if (r->want_types)
        for (size_t i = left; i <= right; i++)
            r->per_type[BT__A_TYPE(pts->attr[i]) % BT_INCIDENT_TYPE_COUNT]++;
    return 0;
}

/* The k-d search hands the same context to both callbacks; the classifier wants the
 * plan. (Passing the run itself, as before, made it read the run as a plan: cells
 * were never settled whole, and with later plan fields it crashed.) */
static int run_cell(void *ctx, double w, double s, double e, double n)
{
    struct run *r = ctx;
    return bt__plan_cell(r->p, w, s, e, n);
}

/* The first query on a handle is answered from the file's R*Tree when it can be (a
 * circle or box matched by the point): a process that opens a store for one query (the
 * CLI, a script) then does not pay for building the index. The second query builds it.
 * The backend hands over only the index's columns of the candidates (no whole records),
 * and the circle is decided by the plan's chord bounds, geod_inverse only in the thin
 * shell between them, as on the index. */
static bool rtree_first(bt_store *s, const struct bt__plan *p)
{
    if ((p->q.area != BT_AREA_CIRCLE && p->q.area != BT_AREA_BBOX) ||
        p->q.match != BT_MATCH_POINT)
        return false;
    struct bt__index *ix = bt__index_peek(s);
    if (!ix || ix->valid) return false;
    return ix->queries == 1;
}

/* One candidate: in the box (exact, by the backend) and in the window (exact, from the
 * record's own times). The same tests as bt__plan_match() on the index, on exact
 * values instead of the index's rounded ones. */
static int rtree_row(const struct bt__index_row *row, void *udata)
{
    struct run *r = udata;
    struct bt__plan *p = r->p;
    if (p->has_attr) {
        unsigned rel = (unsigned)row->reliability, cred = (unsigned)row->credibility;
        if (p->types && !(p->types & (1u << row->type))) return 0;
        if (p->verifs && !(p->verifs & (1u << row->verification))) return 0;
        if (p->max_rel && (rel == 0 || rel > p->max_rel)) return 0;
        if (p->max_cred && (cred == 0 || cred > p->max_cred)) return 0;
    }
    double d = NAN;
    bt_lonlat pt = {row->lon, row->lat};
    if (p->q.area == BT_AREA_CIRCLE) {
        double c2 = bt__plan_chord2(p, row->lon, row->lat);
        if (c2 > p->c2_out) return 0;
        if (!(c2 <= p->c2_in)) {
            const struct geod_geodesic *g = bt__plan_geod(p);
            if (!g) return 1;
            p->ngeod++;
            d = bt__geod_dist(g, p->q.centre, pt);
            if (!(d <= p->q.radius_m)) return 0;
        }
    }
    if (r->counting) {
        r->total++;
        r->per_type[(unsigned)row->type % BT_INCIDENT_TYPE_COUNT]++;
        return 0;
    }
    bt_hit *h = add_hit(r, row->id, d, pt);
    if (!h) return 1;
    h->start = row->start;
    return 0;
}

/* A count that needs no column of the records (no filter but the area, no count per
 * type) is settled from the R*Tree's boxes: an incident's box holds its point, so a
 * box wholly in the circle (the plan's cell bounds) or the query box counts without
 * reading the record; only the few boxes that straddle the edge need their row. This
 * spares a table page read per candidate. */
struct boxrun {
    struct run *r;
    bt_bbox box;     /* the query box being scanned (p->box[k]) */
    int64_t *ids;    /* undecided candidates */
    size_t n, cap;
    double c_in, c_out; /* the plan's chord thresholds (c_in < 0: none) */
};

/* Whether every point of a (small) lon/lat box is surely in (BT__CELL_IN) or out of
 * (BT__CELL_OUT) the circle by the plan's chord thresholds, the test each point would
 * get: from the box's middle m, any point P of it is at most N (|dlat| + |dlon|)
 * away along a meridian and a parallel (N = a^2 / b bounds both radii of curvature),
 * so chord(C, P) is within that of chord(C, m). */
static int box_chord(const struct boxrun *br, const struct bt__plan *p, const bt_bbox *b)
{
    double mx, my, mz;
    bt__ecef(0.5 * (b->west + b->east), 0.5 * (b->south + b->north), &mx, &my, &mz);
    double dx = mx - p->cx, dy = my - p->cy, dz = mz - p->cz;
    double c = sqrt(dx * dx + dy * dy + dz * dz);
    double half = 0.5 * ((b->east - b->west) + (b->north - b->south));
    double delta = BT__N_MAX * half / BT__DEG + 10.0 * BT__EPS_M;
    if (c - delta > br->c_out) return BT__CELL_OUT;
    if (c + delta < br->c_in) return BT__CELL_IN;
    return BT__CELL_PART;
}

static int rtree_box(int64_t id, const bt_bbox *b, void *udata)
{
    struct boxrun *br = udata;
    struct bt__plan *p = br->r->p;
    bool circle = p->q.area == BT_AREA_CIRCLE;
    int c = circle ? box_chord(br, p, b) : BT__CELL_IN;
    if (c == BT__CELL_OUT) return 0;
    /* wholly in this scan's box too, so the point is counted in this scan only */
    if (c == BT__CELL_IN && b->west >= br->box.west && b->east <= br->box.east &&
        b->south >= br->box.south && b->north <= br->box.north) {
        br->r->total++;
        return 0;
    }
    if (br->n == br->cap) {
        size_t ncap = br->cap ? br->cap * 2 : 64;
        int64_t *na = bt__realloc(br->ids, ncap * sizeof *na);
        if (!na) {
            p->err = bt__error(p->s, BT_ERR_NOMEM, "query: out of memory");
            return 1;
        }
        br->ids = na;
        br->cap = ncap;
    }
    br->ids[br->n++] = id;
    return 0;
}

/* An undecided candidate: the backend's exact box test, then the usual one. */
static int rtree_box_row(int64_t id, const struct bt__index_row *row, void *udata)
{
    (void)id;
    struct boxrun *br = udata;
    if (!row || !(row->lon >= br->box.west && row->lon <= br->box.east &&
                  row->lat >= br->box.south && row->lat <= br->box.north))
        return 0;
    return rtree_row(row, br->r);
}

static int run_rtree_boxes(bt_store *s, struct bt__plan *p, struct run *r)
{
    struct boxrun br = {r, {0, 0, 0, 0}, NULL, 0, 0, -1.0, 0.0};
    if (p->q.area == BT_AREA_CIRCLE) {
        br.c_in = p->can_inner ? sqrt(p->c2_in) : -1.0;
        br.c_out = sqrt(p->c2_out);
    }
    int rc = BT_OK;
    for (size_t k = 0; k < p->nbox && !rc; k++) {
        br.box = p->box[k];
        br.n = 0;
        rc = s->be->incident_rtree_boxes(s, br.box, rtree_box, &br);
        if (!rc) rc = p->err;
        if (!rc && br.n) rc = s->be->index_rows(s, br.ids, br.n, rtree_box_row, &br);
        if (!rc) rc = p->err;
    }
    bt__free(br.ids);
    return rc;
}

static int run_rtree(bt_store *s, struct bt__plan *p, struct run *r)
{
    r->p = p;
    if (r->counting && !r->want_types && !p->has_attr && !p->has_time)
        return run_rtree_boxes(s, p, r);
    bool trust = p->max_rel || p->max_cred;
    for (size_t k = 0; k < p->nbox; k++) {
        int rc = s->be->index_rows_bbox(s, p->box[k], p->q.from, p->q.to, trust, rtree_row, r);
        if (rc) return rc;
        if (p->err) return p->err;
    }
    return BT_OK;
}

static int run_plan(bt_store *s, struct bt__plan *p, struct run *r)
{
    struct bt__index *peek = bt__index_peek(s);
    if (!peek) return bt__error(s, BT_ERR_NOMEM, "query: out of memory");
    peek->queries++;
    if (rtree_first(s, p)) return run_rtree(s, p, r);
    struct bt__index *ix;
    int rc = bt__index_ready(s, &ix);
    if (rc) return rc;
    if (p->q.match == BT_MATCH_POSSIBLE) bt__plan_widen(p, bt__ucode_hi(ix->umax));
    r->p = p;
    r->ix = ix;
    r->is_static = true;
    bool whole = r->counting && !p->has_attr && !p->has_time && ix->shadow.n == 0;
    for (size_t k = 0; k < p->nbox && !p->err; k++)
        bt__kd_range_batch(&ix->st, ix->leaf, p->box[k], p->has_time ? ix->ntime : NULL,
                           p->has_time ? ix->ldur : NULL, p->from_min, p->to_min, run_cell,
                           run_point, whole ? run_span : NULL, run_batch, r);
    r->is_static = false;
    for (size_t i = 0; i < ix->ov.n && !p->err; i++) {
        /* the overlay is small: every entry gets the full test */
        double x = ix->ov.lon[i], y = ix->ov.lat[i];
        bool in_box = false;
        for (size_t k = 0; k < p->nbox; k++)
            if (x >= p->box[k].west && x <= p->box[k].east && y >= p->box[k].south &&
                y <= p->box[k].north)
                in_box = true;
        if (in_box && run_point(r, &ix->ov, i, false)) break;
    }
    return p->err;
}

static int cmp_hit_dist(const void *a, const void *b)
{
    const bt_hit *x = a, *y = b;
    if (x->distance_m != y->distance_m) return x->distance_m < y->distance_m ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static int cmp_hit_time(const void *a, const void *b)
{
    const bt_hit *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static void insertion_by_id(bt_hit *h, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        bt_hit x = h[i];
        size_t j = i;
        while (j > 0 && h[j - 1].id > x.id) {
            h[j] = h[j - 1];
            j--;
        }
        h[j] = x;
    }
}

/* In-place MSD radix sort (American flag sort) on 8-bit digits of the (positive) ids,
 * from bit `shift` up; the bits above are equal within the range. No scratch array:
 * a second array of the result's size cost more in fresh pages than the sort itself
 * on large results, and qsort with a comparison callback more than the whole search. */
static void msd_by_id(bt_hit *h, size_t n, unsigned shift)
{
    if (n < 64) {
        insertion_by_id(h, n);
        return;
    }
    size_t next[256], end[256] = {0}; /* 4 KiB a level, at most 8 levels */
    for (size_t i = 0; i < n; i++) end[((uint64_t)h[i].id >> shift) & 255u]++;
    size_t sum = 0;
    for (int b = 0; b < 256; b++) {
        next[b] = sum;
        sum += end[b];
        end[b] = sum;
    }
    for (unsigned b = 0; b < 256; b++) {
        while (next[b] < end[b]) {
            bt_hit x = h[next[b]];
            unsigned d = (unsigned)(((uint64_t)x.id >> shift) & 255u);
            while (d != b) { /* put x in its bucket, carry on with what was there */
                bt_hit t = h[next[d]];
                h[next[d]++] = x;
                x = t;
                d = (unsigned)(((uint64_t)x.id >> shift) & 255u);
            }
            h[next[b]++] = x;
        }
    }
    if (shift == 0) return;
    unsigned sub = shift > 8 ? shift - 8 : 0;
    for (int b = 0; b < 256; b++) {
        size_t lo = b ? end[b - 1] : 0;
        if (end[b] - lo > 1) msd_by_id(h + lo, end[b] - lo, sub);
    }
}

/* Sorts hits by id (ids are positive), in place. */
static void msd_sort(bt_hit *h, size_t n)
{
    uint64_t maxid = 0;
    for (size_t i = 0; i < n; i++)
        if ((uint64_t)h[i].id > maxid) maxid = (uint64_t)h[i].id;
    unsigned bits = 0;
    while (bits < 64 && (maxid >> bits) != 0) bits++;
    msd_by_id(h, n, bits > 8 ? bits - 8 : 0);
}

/* Most hits whose sort buffers the index keeps (up to 2 MiB of keys, 6 MiB of hits). */
#define SORT_KEEP ((size_t)1 << 17)

/* Sorts the n hits of *hp (capacity *cap; ids positive and distinct) by id; *hp may be
 * swapped with the index's buffer. When the ids span under 2^32, 8-byte keys (id -
 * smallest id, slot) are sorted by an LSD radix sort on the id bits (at most 11 a pass)
 * and the hits gathered once: the in-place sort moved 24-byte hits along chains of
 * dependent, cache-missing loads, the largest cost of a query returning many hits. The
 * buffers are kept in the index (fresh pages cost several times the sort); beyond
 * SORT_KEEP hits, for wider spans or without memory, the in-place sort does it. */
void bt__hits_sort_by_id(struct bt__index *ix, bt_hit **hp, size_t *cap, size_t n)
{
    bt_hit *h = *hp;
    if (n < 64) {
        insertion_by_id(h, n);
        return;
    }
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t id = (uint64_t)h[i].id;
        lo = id < lo ? id : lo;
        hi = id > hi ? id : hi;
    }
    unsigned bits = 0;
    while (bits < 64 && ((hi - lo) >> bits) != 0) bits++;
    if (!ix || bits > 32 || n > SORT_KEEP) {
        msd_sort(h, n);
        return;
    }
    if (ix->sort_kcap < n) {
        size_t c = 1024;
        while (c < n) c *= 2;
        uint64_t *k = bt__malloc(2 * c * sizeof *k);
        if (!k) {
            msd_sort(h, n);
            return;
        }
        bt__free(ix->sort_keys);
        ix->sort_keys = k;
        ix->sort_kcap = c;
    }
    if (ix->sort_hcap < n) {
        bt_hit *o = bt__malloc(n * sizeof *o);
        if (!o) {
            msd_sort(h, n);
            return;
        }
        bt__free(ix->sort_hits);
        ix->sort_hits = o;
        ix->sort_hcap = n;
    }
    uint64_t *src = ix->sort_keys, *dst = ix->sort_keys + n;
    for (size_t i = 0; i < n; i++) src[i] = ((uint64_t)h[i].id - lo) << 32 | i;
    unsigned passes = (bits + 10) / 11, width = (bits + passes - 1) / passes;
    uint64_t mask = ((uint64_t)1 << width) - 1;
    size_t cnt[2048];
    for (unsigned ps = 0; ps < passes; ps++) {
        unsigned shift = 32 + ps * width;
        memset(cnt, 0, (mask + 1) * sizeof *cnt);
        for (size_t i = 0; i < n; i++) cnt[(src[i] >> shift) & mask]++;
        size_t sum = 0;
        for (size_t d = 0; d <= mask; d++) {
            size_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) dst[cnt[(src[i] >> shift) & mask]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    bt_hit *out = ix->sort_hits;
    for (size_t i = 0; i < n; i++) out[i] = h[(uint32_t)src[i]];
    /* the sorted array becomes the result, the old one the buffer */
    *hp = out;
    ix->sort_hits = h;
    size_t c = ix->sort_hcap;
    ix->sort_hcap = *cap;
    *cap = c;
}

/* Runs the query into an ordered, limited hit array. */
static int collect(bt_store *s, const bt_query *q, const char *fn, bool want_dist,
                   struct bt__plan *p, bt_hit **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int rc = bt__plan_init(s, q, fn, p);
    if (rc) return rc;
    struct run r = {0};
    r.want_dist = p->q.area == BT_AREA_CIRCLE &&
                  (want_dist || p->q.want_distance || p->q.order == BT_ORDER_DISTANCE);
    rc = run_plan(s, p, &r);
    if (rc) {
        bt__free(r.hits);
        return rc;
    }
    if (p->q.order == BT_ORDER_ID) {
        bt__hits_sort_by_id(bt__index_peek(s), &r.hits, &r.cap, r.n);
    } else if (r.n > 1) {
        qsort(r.hits, r.n, sizeof *r.hits,
              p->q.order == BT_ORDER_DISTANCE ? cmp_hit_dist : cmp_hit_time);
    }
    if (p->q.limit && r.n > p->q.limit) r.n = p->q.limit;
    *out = r.hits;
    *n = r.n;
    if (r.n == 0) {
        bt__free(r.hits);
        *out = NULL;
    }
    return BT_OK;
}

int bt_incident_query_all(bt_store *store, const bt_query *q, bt_hit **out, size_t *n)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!out || !n)
        return bt__error(store, BT_ERR_INVALID, "bt_incident_query_all: out or n is NULL");
    struct bt__plan p;
    int rc = collect(store, q, "bt_incident_query_all", false, &p, out, n);
    bt__plan_free(&p);
    return rc;
}

int bt_incident_query(bt_store *store, const bt_query *q, bt_incident_cb cb, void *udata)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!cb) return bt__error(store, BT_ERR_INVALID, "bt_incident_query: callback is NULL");
    struct bt__plan p;
    bt_hit *hits;
    size_t n;
    bool circle = q && q->area == BT_AREA_CIRCLE;
    int rc = collect(store, q, "bt_incident_query", circle, &p, &hits, &n);
    bt__plan_free(&p);
    if (rc) return rc;
    /* The hits were collected first, so the callback may use (even write) the store. */
    for (size_t i = 0; i < n; i++) {
        bt_incident *inc = NULL;
        rc = store->be->incident_get(store, hits[i].id, &inc);
        if (rc == BT_ERR_NOT_FOUND) { /* deleted by an earlier callback */
            bt__clear_error(store);
            rc = BT_OK;
            continue;
        }
        if (rc) break;
        int stop = cb(inc, hits[i].distance_m, udata);
        bt_incident_free(inc);
        if (stop) break;
    }
    bt__free(hits);
    return rc;
}

int bt_incident_count(bt_store *store, const bt_query *q, int64_t *total,
                      int64_t per_type[BT_INCIDENT_TYPE_COUNT])
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    struct bt__plan p;
    int rc = bt__plan_init(store, q, "bt_incident_count", &p);
    if (rc) return rc;
    struct run r = {0};
    r.counting = true;
    r.want_types = per_type != NULL;
    rc = run_plan(store, &p, &r);
    bt__plan_free(&p);
    if (rc) return rc;
    if (total) *total = r.total;
    if (per_type) memcpy(per_type, r.per_type, sizeof r.per_type);
    return BT_OK;
}

int bt_index_stats(bt_store *store, size_t *bytes, size_t *incidents)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    struct bt__index *ix;
    int rc = bt__index_ready(store, &ix);
    if (rc) return rc;
    if (bytes) *bytes = bt__index_bytes(ix);
    if (incidents) *incidents = bt__index_count(ix);
    return BT_OK;
}

/* ---- k nearest ------------------------------------------------------------- */

static bool lon_lat_valid(bt_lonlat p)
{
    return isfinite(p.lon) && isfinite(p.lat) && p.lon >= -180.0 && p.lon <= 180.0 &&
           p.lat >= -90.0 && p.lat <= 90.0;
}

/* A point enters the queue with the cheap bound (ITEM_POINT), is re-queued with its
 * chord (ITEM_BOUND) when that comes up, and with its geodesic distance (ITEM_EXACT)
 * when the chord does: the trigonometry of the chord is spent only on points near
 * the front, geod_inverse only on those at the very front. */
enum { ITEM_NODE = 0, ITEM_POINT = 1, ITEM_BOUND = 2, ITEM_EXACT = 3, ITEM_REST = 4 };

struct item {
    double key;
    int64_t id;   /* points */
    uint32_t left, right; /* node range; for points left is the slot (< 2^32: kdtree.c) */
    uint8_t kind;
    uint8_t axis;
    bool ov;      /* a point of the overlay */
    double w, s, e, n; /* a node's box; ITEM_REST: (w, id) the (key, slot) last taken,
                          s the leaf's floor key, e how many were taken */
};

struct heap {
    struct item *a;
    size_t n, cap;
};

/* Order: key, then unsettled before settled (so a node or bound at the same key is
 * opened before a settled point is given out), then id. */
static bool item_less(const struct item *x, const struct item *y)
{
    if (x->key != y->key) return x->key < y->key;
    if ((x->kind == ITEM_EXACT) != (y->kind == ITEM_EXACT)) return x->kind != ITEM_EXACT;
    return x->id < y->id;
}

static int heap_push(struct heap *h, const struct item *it)
{
    if (h->n == h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : 256;
        struct item *na = bt__realloc(h->a, ncap * sizeof *na);
        if (!na) return BT_ERR_NOMEM;
        h->a = na;
        h->cap = ncap;
    }
    /* sift the hole up, then fill it once */
    size_t i = h->n++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!item_less(it, &h->a[up])) break;
        h->a[i] = h->a[up];
        i = up;
    }
    h->a[i] = *it;
    return BT_OK;
}

static struct item heap_pop(struct heap *h)
{
    struct item top = h->a[0];
    struct item last = h->a[--h->n];
    size_t i = 0;
    for (;;) { /* sift the hole down, then fill it once */
        size_t l = 2 * i + 1, r = l + 1, m = l;
        if (l >= h->n) break;
        if (r < h->n && item_less(&h->a[r], &h->a[l])) m = r;
        if (!item_less(&h->a[m], &last)) break;
        h->a[i] = h->a[m];
        i = m;
    }
    if (h->n) h->a[i] = last;
    return top;
}

struct knn {
    struct bt__plan *p;
    struct bt__index *ix;
    bt_lonlat at;
    double ax, ay, az; /* ECEF of the query point */
    double cos_lat;    /* cosine of its latitude */
    struct heap h;
};

#define KNN_PI 3.14159265358979323846

/*
 * A cheap lower bound, metres, of the geodesic distance from the query point Q to any
 * point of the lon/lat box [w, e] x [s, n], without trigonometry. The angle t between
 * the surface normals of the two points bounds the distance below, s >= M t (see
 * lib/query/plan.c); the normals are the unit vectors of the geodetic latitude and
 * longitude, so t is a great-circle distance on the unit sphere, and
 *  - t >= the latitude gap (a meridian arc is the shortest path between parallels);
 *  - t >= the distance from Q to the great circle of the nearest meridian of the box,
 *    asin(cos(lat_Q) sin(d)) for a longitude gap d <= pi/2 (and pi/2 - |lat_Q| =
 *    asin(cos(lat_Q)) beyond, where the nearest point is a pole), which is at least
 *    cos(lat_Q) (d - d^3 / 6) with d clamped to pi/2 (sin d >= d - d^3/6, asin x >= x).
 * One metre of slack covers rounding.
 */
static double cheap_bound(const struct knn *k, double w, double s, double e, double n)
{
    double lat = k->at.lat, lon = k->at.lon;
    double dlat = lat < s ? s - lat : lat > n ? lat - n : 0.0;
    double dlon = 0.0;
    if (lon < w || lon > e) {
        double d1 = w - lon, d2 = lon - e; /* each in (-360, 360) */
        if (d1 < 0.0) d1 += 360.0;
        if (d2 < 0.0) d2 += 360.0;
        dlon = d1 < d2 ? d1 : d2;
    }
    double t = dlat / BT__DEG;
    if (dlon > 0.0) {
        double d = dlon / BT__DEG;
        if (d > KNN_PI / 2.0) d = KNN_PI / 2.0;
        double tl = k->cos_lat * (d - d * d * d / 6.0);
        if (tl > t) t = tl;
    }
    return BT__M_MIN * t - 1.0;
}

/* A point becomes a candidate with the cheap bound of itself. */
static int push_point(struct knn *k, const struct bt__pts *pts, size_t i, bool ov,
                      double floor_key)
{
    if (!ov && !bt__index_static_live(k->ix, i)) return BT_OK;
    double x = pts->lon[i], y = pts->lat[i];
    struct item it;
    it.key = fmax(floor_key, cheap_bound(k, x, y, x, y));
    it.kind = ITEM_POINT;
    it.ov = ov;
    it.left = it.right = (uint32_t)i;
    it.axis = 0;
    it.id = bt__pts_id(pts, i);
    return heap_push(&k->h, &it);
}

/* Its chord (chord <= geodesic), once the cheap bound reached the front. */
static double point_chord(const struct knn *k, const struct bt__pts *pts, size_t i)
{
    double x, y, z;
    bt__ecef(pts->lon[i], pts->lat[i], &x, &y, &z);
    double dx = x - k->ax, dy = y - k->ay, dz = z - k->az;
    return sqrt(dx * dx + dy * dy + dz * dz) - BT__EPS_M;
}

/* At most this many of a leaf's points enter the queue at once (leaves hold ~192). */
#define KNN_TAKE 48
/* Points whose keys are computed in one pass. */
#define KNN_CHUNK 64

/* Takes a leaf's points whose key (floored cheap bound) follows (after_key, after_i) in
 * (key, slot) order: only the few smallest enter the queue, as many as answers are
 * still wanted, and one ITEM_REST item stands for the others with the smallest key
 * among them, a lower bound of all of them (most leaves opened are never needed past
 * their first points: pushing all ~192 of each was most of a query's time). taken: how
 * many the leaf gave before; at least as many again are taken, since points a filter
 * rejects do not lower the answers wanted and each take scans the whole leaf (without
 * that, a leaf of rejected points was scanned once per point). */
static int take_leaf(struct knn *k, size_t left, size_t right, double floor_key,
                     size_t want, size_t taken, double after_key, int64_t after_i)
{
    const struct bt__pts *st = &k->ix->st;
    if (want < taken) want = taken;
    if (want > KNN_TAKE) want = KNN_TAKE;
    if (want == 0) want = 1;
    /* the want + 1 smallest, sorted: the last one only gives the rest's key */
    struct cand {
        double key;
        size_t i;
    } c[KNN_TAKE + 1];
    size_t nc = 0;
    double lat = k->at.lat, lon = k->at.lon;
    k->ix->knn_keys += right + 1 - left;
    for (size_t b = left; b <= right; b += KNN_CHUNK) {
        size_t end = right - b < KNN_CHUNK ? right + 1 : b + KNN_CHUNK;
        double kb[KNN_CHUNK];
        /* cheap_bound() of each point, floored, without branches and with products
         * for its quotients (rounding differences far below its metre of slack) */
        for (size_t i = b; i < end; i++) {
            double dlat = fabs(st->lat[i] - lat);
            double dx = fabs(st->lon[i] - lon);
            double dlon = dx > 180.0 ? 360.0 - dx : dx;
            double d = dlon * (1.0 / BT__DEG);
            d = d > KNN_PI / 2.0 ? KNN_PI / 2.0 : d;
            double t = dlat * (1.0 / BT__DEG), tl = k->cos_lat * (d - d * d * d * (1.0 / 6.0));
            t = tl > t ? tl : t;
            double key = BT__M_MIN * t - 1.0;
            kb[i - b] = key > floor_key ? key : floor_key;
        }
        for (size_t i = b; i < end; i++) {
            double key = kb[i - b];
            if (key < after_key || (key == after_key && (int64_t)i <= after_i)) continue;
            if (nc == want + 1 && !(key < c[nc - 1].key)) continue; /* i rises: ties lose */
            if (!bt__index_static_live(k->ix, i)) continue;
            size_t j = nc < want + 1 ? nc++ : nc - 1;
            while (j > 0 && key < c[j - 1].key) {
                c[j] = c[j - 1];
                j--;
            }
            c[j].key = key;
            c[j].i = i;
        }
    }
    size_t take = nc < want ? nc : want;
    for (size_t j = 0; j < take; j++) {
        struct item it;
        it.key = c[j].key;
        it.kind = ITEM_POINT;
        it.ov = false;
        it.left = it.right = (uint32_t)c[j].i;
        it.axis = 0;
        it.id = bt__pts_id(st, c[j].i);
        if (heap_push(&k->h, &it)) return BT_ERR_NOMEM;
    }
    if (nc <= want) return BT_OK;
    struct item rest;
    rest.key = c[want].key;
    rest.kind = ITEM_REST;
    rest.ov = false;
    rest.left = (uint32_t)left;
    rest.right = (uint32_t)right;
    rest.axis = 0;
    rest.w = c[want - 1].key;
    rest.id = (int64_t)c[want - 1].i;
    rest.s = floor_key;
    rest.e = (double)(taken + want); /* handed out so far */
    rest.n = 0.0;
    return heap_push(&k->h, &rest);
}

static int push_node(struct knn *k, size_t left, size_t right, int axis, double w, double s,
                     double e, double n, double floor_key)
{
    struct item it;
    it.key = fmax(floor_key, cheap_bound(k, w, s, e, n));
    it.ov = false;
    it.id = 0;
    it.kind = ITEM_NODE;
    it.left = (uint32_t)left;
    it.right = (uint32_t)right;
    it.axis = (uint8_t)axis;
    it.w = w;
    it.s = s;
    it.e = e;
    it.n = n;
    return heap_push(&k->h, &it);
}

int bt_incident_nearest(bt_store *store, bt_lonlat at, size_t k, const bt_query *filter,
                        bt_hit **out, size_t *n)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!out || !n) return bt__error(store, BT_ERR_INVALID, "bt_incident_nearest: out or n is NULL");
    *out = NULL;
    *n = 0;
    if (!lon_lat_valid(at))
        return bt__error(store, BT_ERR_INVALID,
                         "bt_incident_nearest: point (%g, %g) is not a valid lon/lat", at.lon,
                         at.lat);
    /* the filter's order and limit do not apply here */
    bt_query f;
    if (filter)
        f = *filter;
    else
        bt_query_init(&f);
    f.order = BT_ORDER_ID;
    f.limit = 0;
    struct bt__plan p;
    int rc = bt__plan_init(store, &f, "bt_incident_nearest", &p);
    if (rc) return rc;
    if (k == 0) {
        bt__plan_free(&p);
        return BT_OK;
    }
    struct knn kn = {0};
    kn.p = &p;
    kn.at = at;
    kn.cos_lat = cos(at.lat / BT__DEG);
    bt__ecef(at.lon, at.lat, &kn.ax, &kn.ay, &kn.az);
    rc = bt__index_ready(store, &kn.ix);
    bt_hit *hits = NULL;
    size_t nh = 0;
    if (!rc) hits = bt__malloc((k < 1024 ? k : 1024) * sizeof *hits);
    size_t caph = k < 1024 ? k : 1024;
    if (!rc && !hits) rc = bt__error(store, BT_ERR_NOMEM, "bt_incident_nearest: out of memory");
    /* every hit's distance is an exact geodesic: PROJ is needed */
    const struct geod_geodesic *g = rc ? NULL : bt__plan_geod(&p);
    if (!rc && !g) rc = p.err;
    const struct bt__pts *st = rc ? NULL : &kn.ix->st;
    if (!rc && st->n) rc = push_node(&kn, 0, st->n - 1, 0, -180.0, -90.0, 180.0, 90.0, 0.0);
    for (size_t i = 0; !rc && i < kn.ix->ov.n; i++)
        rc = push_point(&kn, &kn.ix->ov, i, true, 0.0);
    while (!rc && kn.h.n && nh < k) {
        struct item it = heap_pop(&kn.h);
        if (it.kind == ITEM_EXACT) {
            if (nh == caph) {
                size_t nc = caph * 2 < k ? caph * 2 : k;
                bt_hit *nhits = bt__realloc(hits, nc * sizeof *nhits);
                if (!nhits) {
                    rc = BT_ERR_NOMEM;
                    break;
                }
                hits = nhits;
                caph = nc;
            }
            const struct bt__pts *pts = it.ov ? &kn.ix->ov : st;
            hits[nh].id = it.id;
            hits[nh].distance_m = it.key;
            hits[nh].start = 0;
            rc = bt__plan_start(&p, pts, it.left, &hits[nh].start);
            nh++;
        } else if (it.kind == ITEM_POINT) {
            const struct bt__pts *pts = it.ov ? &kn.ix->ov : st;
            it.key = fmax(it.key, point_chord(&kn, pts, it.left));
            it.kind = ITEM_BOUND;
            rc = heap_push(&kn.h, &it) ? BT_ERR_NOMEM : BT_OK;
        } else if (it.kind == ITEM_BOUND) {
            const struct bt__pts *pts = it.ov ? &kn.ix->ov : st;
            double dummy;
            if (bt__plan_match(&p, pts, it.left, false, &dummy) != BT__YES) {
                rc = p.err;
                continue;
            }
            p.ngeod++;
            it.key = bt__geod_dist(g, at, (bt_lonlat){pts->lon[it.left], pts->lat[it.left]});
            it.kind = ITEM_EXACT;
            rc = heap_push(&kn.h, &it) ? BT_ERR_NOMEM : BT_OK;
        } else if (it.kind == ITEM_REST) {
            rc = take_leaf(&kn, it.left, it.right, it.s, k - nh, (size_t)it.e, it.w, it.id);
        } else if (it.right - it.left <= kn.ix->leaf) {
            rc = take_leaf(&kn, it.left, it.right, it.key, k - nh, 0, -INFINITY, -1);
        } else {
            size_t m = it.left + ((it.right - it.left) >> 1);
            double v = it.axis == 0 ? st->lon[m] : st->lat[m];
            rc = push_point(&kn, st, m, false, it.key) ? BT_ERR_NOMEM : BT_OK;
            if (!rc && m > it.left)
                rc = push_node(&kn, it.left, m - 1, 1 - it.axis, it.w, it.s,
                               it.axis == 0 ? v : it.e, it.axis == 1 ? v : it.n, it.key);
            if (!rc && m < it.right)
                rc = push_node(&kn, m + 1, it.right, 1 - it.axis, it.axis == 0 ? v : it.w,
                               it.axis == 1 ? v : it.s, it.e, it.n, it.key);
            if (rc) rc = BT_ERR_NOMEM;
        }
    }
    if (rc == BT_ERR_NOMEM && !store->errmsg[0])
        bt__error(store, BT_ERR_NOMEM, "bt_incident_nearest: out of memory");
    bt__free(kn.h.a);
    bt__plan_free(&p);
    if (rc || nh == 0) {
        bt__free(hits);
        return rc;
    }
    *out = hits;
    *n = nh;
    return BT_OK;
}
