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
    bool want_dist;
    int64_t total;
    int64_t per_type[BT_INCIDENT_TYPE_COUNT];
};

/* Appends a hit (the distance is NaN when not known yet). */
static bt_hit *add_hit(struct run *r, int64_t id, double d, bt_lonlat where)
{
    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 256;
        bt_hit *nh = bt__realloc(r->hits, ncap * sizeof *nh);
        if (!nh) {
            r->p->err = bt__error(r->p->s, BT_ERR_NOMEM, "query: out of memory");
            return NULL;
        }
        r->hits = nh;
        r->cap = ncap;
    }
    bt_hit *h = &r->hits[r->n++];
    h->id = id;
    if (r->want_dist && isnan(d)) {
        r->p->ngeod++;
        d = bt__geod_dist(&r->p->s->geod, r->p->q.centre, where);
    }
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

/* The first query on a handle is answered from the file's R*Tree when it can be (a
 * circle or box matched by the point, no attribute filter): a process that opens a
 * store for one query (the CLI, a script) then does not pay for building the index.
 * The second query builds it. */
static bool rtree_first(bt_store *s, const struct bt__plan *p)
{
    if ((p->q.area != BT_AREA_CIRCLE && p->q.area != BT_AREA_BBOX) ||
        p->q.match != BT_MATCH_POINT || p->has_attr)
        return false;
    struct bt__index *ix = bt__index_peek(s);
    if (!ix || ix->valid) return false;
    return ix->queries == 1;
}

static int rtree_row(const bt_incident *inc, void *udata)
{
    struct run *r = udata;
    struct bt__plan *p = r->p;
    double d = NAN;
    if (p->q.area == BT_AREA_CIRCLE) {
        d = bt__geod_dist(&p->s->geod, p->q.centre, inc->where);
        if (!(d <= p->q.radius_m)) return 0;
    }
    if (r->counting) {
        r->total++;
        r->per_type[(unsigned)inc->type % BT_INCIDENT_TYPE_COUNT]++;
        return 0;
    }
    bt_hit *h = add_hit(r, inc->id, d, inc->where);
    if (!h) return 1;
    h->start = inc->start;
    return 0;
}

static int run_rtree(bt_store *s, struct bt__plan *p, struct run *r)
{
    r->p = p;
    for (size_t k = 0; k < p->nbox; k++) {
        int rc = s->be->incident_scan_bbox(s, p->box[k], p->q.from, p->q.to, rtree_row, r);
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
    for (size_t k = 0; k < p->nbox && !p->err; k++)
        bt__kd_range_time(&ix->st, ix->leaf, p->box[k], p->has_time ? ix->ntime : NULL,
                          p->from_min, p->to_min, bt__plan_cell, run_point, r);
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

/* Sorts hits by id: LSD radix sort on 11-bit digits of the (positive) ids, as many
 * passes as the largest id needs (three below 2^33), stable and linear; qsort with a
 * comparison callback cost more than the whole search on large results. */
static int sort_by_id(bt_hit *h, size_t n)
{
    if (n < 64) {
        for (size_t i = 1; i < n; i++) {
            bt_hit x = h[i];
            size_t j = i;
            while (j > 0 && h[j - 1].id > x.id) {
                h[j] = h[j - 1];
                j--;
            }
            h[j] = x;
        }
        return BT_OK;
    }
    uint64_t maxid = 0;
    for (size_t i = 0; i < n; i++)
        if ((uint64_t)h[i].id > maxid) maxid = (uint64_t)h[i].id;
    bt_hit *tmp = bt__malloc(n * sizeof *tmp);
    if (!tmp) return BT_ERR_NOMEM;
    bt_hit *src = h, *dst = tmp;
    for (unsigned shift = 0; shift < 64 && (maxid >> shift) != 0; shift += 11) {
        size_t count[2048 + 1] = {0};
        for (size_t i = 0; i < n; i++) count[(((uint64_t)src[i].id >> shift) & 2047u) + 1]++;
        for (size_t b = 1; b <= 2048; b++) count[b] += count[b - 1];
        for (size_t i = 0; i < n; i++) dst[count[((uint64_t)src[i].id >> shift) & 2047u]++] = src[i];
        bt_hit *t = src;
        src = dst;
        dst = t;
    }
    if (src != h) memcpy(h, src, n * sizeof *h);
    bt__free(tmp);
    return BT_OK;
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
        if (sort_by_id(r.hits, r.n)) {
            bt__free(r.hits);
            return bt__error(s, BT_ERR_NOMEM, "%s: out of memory", fn);
        }
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

enum { ITEM_NODE = 0, ITEM_BOUND = 1, ITEM_EXACT = 2 };

struct item {
    double key;
    int kind;
    bool ov;      /* a point of the overlay */
    size_t left, right; /* node range; for points left is the slot */
    int axis;
    double w, s, e, n;
    int64_t id;   /* points */
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
    size_t i = h->n++;
    h->a[i] = *it;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!item_less(&h->a[i], &h->a[up])) break;
        struct item t = h->a[i];
        h->a[i] = h->a[up];
        h->a[up] = t;
        i = up;
    }
    return BT_OK;
}

static struct item heap_pop(struct heap *h)
{
    struct item top = h->a[0];
    h->a[0] = h->a[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && item_less(&h->a[l], &h->a[m])) m = l;
        if (r < h->n && item_less(&h->a[r], &h->a[m])) m = r;
        if (m == i) break;
        struct item t = h->a[i];
        h->a[i] = h->a[m];
        h->a[m] = t;
        i = m;
    }
    return top;
}

struct knn {
    struct bt__plan *p;
    struct bt__index *ix;
    bt_lonlat at;
    double ax, ay, az; /* ECEF of the query point */
    struct heap h;
};

/* A point becomes a candidate with its chord as lower bound (chord <= geodesic). */
static int push_point(struct knn *k, const struct bt__pts *pts, size_t i, bool ov)
{
    if (!ov && !bt__index_static_live(k->ix, i)) return BT_OK;
    double x, y, z;
    bt__ecef(pts->lon[i], pts->lat[i], &x, &y, &z);
    double dx = x - k->ax, dy = y - k->ay, dz = z - k->az;
    struct item it = {0};
    it.key = sqrt(dx * dx + dy * dy + dz * dz) - BT__EPS_M;
    it.kind = ITEM_BOUND;
    it.ov = ov;
    it.left = i;
    it.id = bt__pts_id(pts, i);
    return heap_push(&k->h, &it);
}

static int push_node(struct knn *k, size_t left, size_t right, int axis, double w, double s,
                     double e, double n, double floor_key)
{
    double amin, amax;
    bt__cell_angles(k->at.lon, k->at.lat, w, s, e, n, &amin, &amax);
    struct item it = {0};
    it.key = fmax(floor_key, BT__M_MIN * amin - 1.0);
    it.kind = ITEM_NODE;
    it.left = left;
    it.right = right;
    it.axis = axis;
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
    bt__ecef(at.lon, at.lat, &kn.ax, &kn.ay, &kn.az);
    rc = bt__index_ready(store, &kn.ix);
    bt_hit *hits = NULL;
    size_t nh = 0;
    if (!rc) hits = bt__malloc((k < 1024 ? k : 1024) * sizeof *hits);
    size_t caph = k < 1024 ? k : 1024;
    if (!rc && !hits) rc = bt__error(store, BT_ERR_NOMEM, "bt_incident_nearest: out of memory");
    const struct bt__pts *st = rc ? NULL : &kn.ix->st;
    if (!rc && st->n) rc = push_node(&kn, 0, st->n - 1, 0, -180.0, -90.0, 180.0, 90.0, 0.0);
    for (size_t i = 0; !rc && i < kn.ix->ov.n; i++) rc = push_point(&kn, &kn.ix->ov, i, true);
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
        } else if (it.kind == ITEM_BOUND) {
            const struct bt__pts *pts = it.ov ? &kn.ix->ov : st;
            double dummy;
            if (bt__plan_match(&p, pts, it.left, false, &dummy) != BT__YES) {
                rc = p.err;
                continue;
            }
            p.ngeod++;
            it.key = bt__geod_dist(&store->geod, at, (bt_lonlat){pts->lon[it.left], pts->lat[it.left]});
            it.kind = ITEM_EXACT;
            rc = heap_push(&kn.h, &it) ? BT_ERR_NOMEM : BT_OK;
        } else if (it.right - it.left <= kn.ix->leaf) {
            for (size_t i = it.left; i <= it.right && !rc; i++)
                rc = push_point(&kn, st, i, false) ? BT_ERR_NOMEM : BT_OK;
        } else {
            size_t m = it.left + ((it.right - it.left) >> 1);
            double v = it.axis == 0 ? st->lon[m] : st->lat[m];
            rc = push_point(&kn, st, m, false) ? BT_ERR_NOMEM : BT_OK;
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
