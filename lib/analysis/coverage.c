/**
 * @file coverage.c
 * @brief The pure parts of fence coverage: chainage intervals and their union, the
 * intervals one fence covers, and whether an installation stands at a date.
 */
#include "analysis_internal.h"

#include <math.h>
#include <stdlib.h>

static int ival_cmp(const void *pa, const void *pb)
{
    const struct bt__ival *a = pa, *b = pb;
    if (a->a != b->a) return a->a < b->a ? -1 : 1;
    if (a->b != b->b) return a->b < b->b ? -1 : 1;
    return 0;
}

size_t bt__ivals_union(struct bt__ival *v, size_t n)
{
    if (n == 0) return 0;
    qsort(v, n, sizeof *v, ival_cmp);
    size_t m = 0;
    for (size_t i = 1; i < n; i++) {
        if (v[i].a <= v[m].b) {
            if (v[i].b > v[m].b) v[m].b = v[i].b;
        } else {
            v[++m] = v[i];
        }
    }
    return m + 1;
}

double bt__ivals_length(const struct bt__ival *v, size_t n, double lo, double hi)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double a = v[i].a > lo ? v[i].a : lo;
        double b = v[i].b < hi ? v[i].b : hi;
        if (b > a) sum += b - a;
    }
    return sum;
}

int bt__ivec_push(struct bt__ivec *iv, double a, double b)
{
    if (iv->n == iv->cap) {
        size_t cap = iv->cap ? 2 * iv->cap : 64;
        struct bt__ival *v = bt__realloc(iv->v, cap * sizeof *v);
        if (!v) return BT_ERR_NOMEM;
        iv->v = v;
        iv->cap = cap;
    }
    iv->v[iv->n].a = a;
    iv->v[iv->n].b = b;
    iv->n++;
    return BT_OK;
}

/* Adds [a, b] to out, extending the last interval this fence added when they touch
 * (consecutive samples mostly do), so that a fence yields few intervals. */
static int push_merged(struct bt__ivec *out, size_t first, double a, double b)
{
    if (out->n > first) {
        struct bt__ival *last = &out->v[out->n - 1];
        if (a <= last->b && b >= last->a) {
            if (a < last->a) last->a = a;
            if (b > last->b) last->b = b;
            return BT_OK;
        }
    }
    return bt__ivec_push(out, a, b);
}

struct sample {
    bool near;
    double c;
};

/* Locates one sample; near means within max_offset_m of the border. */
static int take_sample(const bt_border *b, bt_lonlat p, double max_offset_m, struct sample *s)
{
    bt_location loc;
    bool found;
    int rc = bt__border_locate(b, p, max_offset_m, false, &loc, &found);
    if (rc != BT_OK) return rc;
    s->near = found;
    s->c = found ? loc.chainage_m : 0.0;
    return BT_OK;
}

int bt__cover_polyline(const bt_border *b, const bt_lonlat *pts, size_t n,
                       double max_offset_m, double step_m, struct bt__ivec *out)
{
    size_t first = out->n;
    if (n < 2) return BT_OK;
    struct sample prev;
    int rc = take_sample(b, pts[0], max_offset_m, &prev);
    if (rc != BT_OK) return rc;
    for (size_t i = 0; i + 1 < n; i++) {
        double len, azi;
        geod_inverse(&b->g, pts[i].lat, pts[i].lon, pts[i + 1].lat, pts[i + 1].lon, &len,
                     &azi, NULL);
        double k = ceil(len / step_m);
        if (k < 1.0) k = 1.0;
        if (k > 1e7) k = 1e7; /* a 250,000 km edge is not a fence */
        double ds = len / k;
        for (long j = 1; j <= (long)k; j++) {
            bt_lonlat q;
            if (j == (long)k) {
                q = pts[i + 1];
            } else {
                geod_direct(&b->g, pts[i].lat, pts[i].lon, azi, ds * (double)j, &q.lat,
                            &q.lon, NULL);
            }
            struct sample cur;
            rc = take_sample(b, q, max_offset_m, &cur);
            if (rc != BT_OK) return rc;
            if (prev.near && cur.near && fabs(cur.c - prev.c) <= ds + 2.0 * max_offset_m) {
                double a = prev.c < cur.c ? prev.c : cur.c;
                double z = prev.c < cur.c ? cur.c : prev.c;
                if (push_merged(out, first, a, z) != BT_OK) return BT_ERR_NOMEM;
            }
            prev = cur;
        }
    }
    return BT_OK;
}

/* ---- dates ---------------------------------------------------------------- */

int64_t bt__date_last(bt_date dt)
{
    int64_t last = dt.t;
    (void)bt__time_period(dt.t, dt.precision, NULL, &last);
    return last;
}

bool bt__installation_stands(const bt_installation *inst, int64_t t,
                             bool include_construction)
{
    switch (inst->status) {
    case BT_STATUS_COMPLETE:
    case BT_STATUS_DAMAGED:
    case BT_STATUS_REPAIRED:
        break;
    case BT_STATUS_UNDER_CONSTRUCTION:
        if (!include_construction) return false;
        break;
    default: /* planned, removed */
        return false;
    }
    if (inst->start.precision != BT_TIME_NONE && t < inst->start.t) return false;
    if (inst->end.precision != BT_TIME_NONE && t > bt__date_last(inst->end)) return false;
    return true;
}
