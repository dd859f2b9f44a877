/**
 * @file stored.c
 * @brief Stored chainage: where each incident and installation near a border lies on
 * it, kept in the store (table `chainage`) so that a chainage range or a whole
 * border's profile is one indexed scan instead of locating every record again.
 *
 * The store's triggers queue every inserted or updated record and mark a border
 * stale when one of its segments changes (lib/store/schema.c, schema v2). Nothing is
 * computed on the write path: bt__chainage_refresh(), called by every reader before
 * it reads, takes in the queued records, or recomputes a stale border whole in one
 * pass, inside a savepoint that stays open over the reader's scan (one snapshot). A
 * reader therefore never sees a stale value, and a bulk load pays only the queue
 * (one INSERT ... SELECT at its flush, lib/store/sqlite_bulk.c).
 */
#include "analysis_internal.h"
#include "../store/backend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rows written per backend call during a whole recompute. */
#define PUT_BATCH 4096

struct rows {
    struct bt__chainage_row *v;
    size_t n, cap;
    bool nomem;
};

static struct bt__chainage_row *rows_next(struct rows *r)
{
    if (r->n == r->cap) {
        size_t nc = r->cap ? 2 * r->cap : 256;
        struct bt__chainage_row *nv = bt__realloc(r->v, nc * sizeof *nv);
        if (!nv) {
            r->nomem = true;
            return NULL;
        }
        r->v = nv;
        r->cap = nc;
    }
    return &r->v[r->n++];
}

/* The row of an incident (always: the caller chose it by the box). */
static int incident_row(const bt_border *b, const bt_incident *inc,
                        struct bt__chainage_row *r)
{
    bt_location loc;
    bool found = false;
    int rc = bt__border_locate(b, inc->where, INFINITY, true, &loc, &found);
    if (rc != BT_OK) return rc;
    if (!found) return BT_ERR_INTERNAL; /* unlimited: a border always has a part */
    r->record_id = inc->id;
    r->segment_id = loc.segment_id;
    r->chainage_m = r->chainage_to_m = loc.chainage_m;
    r->offset_m = loc.offset_m;
    r->side = loc.side;
    r->type = (int)inc->type;
    r->start_t = inc->start;
    r->end_t = inc->end; /* BT_TIME_OPEN is INT64_MAX */
    r->where = inc->where;
    return BT_OK;
}

/* The row of an installation: the chainage range of its vertices, and the offset,
 * side, segment and point of its vertex nearest to the border. */
static int installation_row(const bt_border *b, const bt_installation *inst,
                            struct bt__chainage_row *r)
{
    double best = INFINITY;
    for (size_t i = 0; i < inst->npoints; i++) {
        bt_location loc;
        bool found = false;
        int rc = bt__border_locate(b, inst->points[i], INFINITY, true, &loc, &found);
        if (rc != BT_OK) return rc;
        if (!found) return BT_ERR_INTERNAL;
        if (i == 0 || loc.chainage_m < r->chainage_m) r->chainage_m = loc.chainage_m;
        if (i == 0 || loc.chainage_m > r->chainage_to_m) r->chainage_to_m = loc.chainage_m;
        if (loc.offset_m < best) {
            best = loc.offset_m;
            r->offset_m = loc.offset_m;
            r->side = loc.side;
            r->segment_id = loc.segment_id;
            r->where = inst->points[i];
        }
    }
    r->record_id = inst->id;
    r->type = (int)inst->kind;
    r->start_t = inst->start.precision != BT_TIME_NONE ? inst->start.t : INT64_MIN;
    r->end_t = inst->end.precision != BT_TIME_NONE ? bt__date_last(inst->end) : INT64_MAX;
    return BT_OK;
}

static bool boxes_meet(bt_bbox a, bt_bbox b)
{
    return a.west <= b.east && b.west <= a.east && a.south <= b.north && b.south <= a.north;
}

static bt_bbox points_box(const bt_lonlat *p, size_t n)
{
    bt_bbox r = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < n; i++) {
        r.west = fmin(r.west, p[i].lon);
        r.east = fmax(r.east, p[i].lon);
        r.south = fmin(r.south, p[i].lat);
        r.north = fmax(r.north, p[i].lat);
    }
    return r;
}

/* ---- whole recompute ------------------------------------------------------ */

struct full_ctx {
    const bt_border *b;
    struct rows rows;
    int rc;
};

static int full_incident(const bt_incident *inc, void *udata)
{
    struct full_ctx *c = udata;
    struct bt__chainage_row *r = rows_next(&c->rows);
    if (!r) return 1;
    c->rc = incident_row(c->b, inc, r);
    return c->rc != BT_OK;
}

static int full_installation(const bt_installation *inst, void *udata)
{
    struct full_ctx *c = udata;
    struct bt__chainage_row *r = rows_next(&c->rows);
    if (!r) return 1;
    c->rc = installation_row(c->b, inst, r);
    return c->rc != BT_OK;
}

static int row_cmp(const void *pa, const void *pb)
{
    const struct bt__chainage_row *a = pa, *b = pb;
    if (a->chainage_m != b->chainage_m) return a->chainage_m < b->chainage_m ? -1 : 1;
    return a->record_id < b->record_id ? -1 : (a->record_id > b->record_id);
}

/* Every incident (then installation) of the grown box, located, then written in
 * increasing chainage: the table is clustered by chainage, so the rows are appended
 * in order instead of being scattered over the B-tree (measured: 25 us a row in id
 * order on a 200,000-incident store, most of it page reads and writes). */
static int recompute_kind(bt_store *s, const bt_border *b, bt_bbox box, int kind)
{
    struct full_ctx c = {b, {NULL, 0, 0, false}, BT_OK};
    int rc = kind == BT__CH_INCIDENT
                 ? s->be->incident_scan_bbox(s, box, INT64_MIN, INT64_MAX, full_incident, &c)
                 : s->be->installation_scan_bbox(s, box, full_installation, &c);
    if (rc == BT_OK && c.rows.nomem)
        rc = bt__error(s, BT_ERR_NOMEM, "stored chainage: out of memory");
    if (rc == BT_OK && c.rc != BT_OK)
        rc = bt__error(s, c.rc, "stored chainage of border '%s': locating failed", b->name);
    if (rc == BT_OK) {
        if (c.rows.n > 1) /* qsort's array may not be NULL, even for 0 rows */
            qsort(c.rows.v, c.rows.n, sizeof *c.rows.v, row_cmp);
        for (size_t i = 0; i < c.rows.n && rc == BT_OK; i += PUT_BATCH) {
            size_t m = c.rows.n - i < PUT_BATCH ? c.rows.n - i : PUT_BATCH;
            rc = s->be->chainage_put(s, b->name, kind, c.rows.v + i, m);
        }
    }
    bt__free(c.rows.v);
    return rc;
}

static int recompute_all(bt_store *s, const bt_border *b)
{
    int rc = s->be->chainage_clear(s, b->name, BT__CH_INCIDENT, -1);
    if (rc != BT_OK) return rc;
    bt_bbox box = bt__grown_bbox(b, BT__STORED_MAX_OFFSET_M);
    rc = recompute_kind(s, b, box, BT__CH_INCIDENT);
    if (rc == BT_OK) rc = recompute_kind(s, b, box, BT__CH_INSTALLATION);
    return rc;
}

/* ---- queued records ------------------------------------------------------- */

static int take_queued(bt_store *s, const bt_border *b, const int64_t *inc, size_t ninc,
                       const int64_t *inst, size_t ninst)
{
    bt_bbox box = bt__grown_bbox(b, BT__STORED_MAX_OFFSET_M);
    struct bt__chainage_row r;
    for (size_t i = 0; i < ninc; i++) {
        int rc = s->be->chainage_clear(s, b->name, BT__CH_INCIDENT, inc[i]);
        if (rc != BT_OK) return rc;
        bt_incident *x = NULL;
        rc = s->be->incident_get(s, inc[i], &x);
        if (rc == BT_ERR_NOT_FOUND) { /* deleted since: its trigger removed its rows */
            bt__clear_error(s);
            continue;
        }
        if (rc != BT_OK) return rc;
        bool near = x->where.lon >= box.west && x->where.lon <= box.east &&
                    x->where.lat >= box.south && x->where.lat <= box.north;
        if (near) rc = incident_row(b, x, &r);
        bt_incident_free(x);
        if (near && rc == BT_OK) rc = s->be->chainage_put(s, b->name, BT__CH_INCIDENT, &r, 1);
        if (rc != BT_OK) return bt__error(s, rc, "stored chainage of incident %lld failed",
                                          (long long)inc[i]);
    }
    for (size_t i = 0; i < ninst; i++) {
        int rc = s->be->chainage_clear(s, b->name, BT__CH_INSTALLATION, inst[i]);
        if (rc != BT_OK) return rc;
        bt_installation *x = NULL;
        rc = s->be->installation_get(s, inst[i], &x);
        if (rc == BT_ERR_NOT_FOUND) {
            bt__clear_error(s);
            continue;
        }
        if (rc != BT_OK) return rc;
        bool near = x->npoints > 0 && boxes_meet(points_box(x->points, x->npoints), box);
        if (near) rc = installation_row(b, x, &r);
        bt_installation_free(x);
        if (near && rc == BT_OK)
            rc = s->be->chainage_put(s, b->name, BT__CH_INSTALLATION, &r, 1);
        if (rc != BT_OK) return bt__error(s, rc, "stored chainage of installation %lld failed",
                                          (long long)inst[i]);
    }
    return BT_OK;
}

/* ---- refresh -------------------------------------------------------------- */

static bool matches(const bt_border *b, double length_m, int64_t nparts)
{
    return b->default_origin && b->length_m == length_m && (int64_t)b->nparts == nparts;
}

int bt__chainage_refresh(bt_store *s, const bt_border *b, int *status)
{
    *status = BT__CH_UNSUPPORTED;
    if (!s->be->chainage_state) return BT_OK;
    /* one snapshot from the state read to the caller's scan: on a writable store a
     * savepoint (a deferred transaction when none is open, so that a commit by
     * another connection in between makes our first write fail rather than mix) */
    bool rw = (s->flags & BT_OPEN_READWRITE) != 0;
    int rc = rw ? s->be->savepoint(s, "bt_chainage") : BT_OK;
    if (rc != BT_OK) return rc;
    bool supported = false, valid = false;
    int64_t done_seq = 0, nparts = 0;
    double length_m = 0.0;
    int64_t *inc = NULL, *inst = NULL;
    size_t ninc = 0, ninst = 0;
    int64_t max_seq = 0;
    bt_border *fresh = NULL;
    rc = s->be->chainage_state(s, b->name, &supported, &valid, &done_seq, &length_m, &nparts);
    if (rc != BT_OK || !supported) goto out;
    /* a stale border needs only the queue's end: the recompute covers the rest */
    rc = s->be->chainage_pending(s, valid ? done_seq : INT64_MAX, &inc, &ninc, &inst, &ninst,
                                 &max_seq);
    if (rc != BT_OK) goto out;
    if (valid && ninc == 0 && ninst == 0) {
        *status = matches(b, length_m, nparts) ? BT__CH_USABLE : BT__CH_MISMATCH;
        goto out;
    }
    if (!rw) {
        /* cannot bring it up to date: the caller computes on the fly */
        *status = BT__CH_STALE_READONLY;
        goto out;
    }
    /* the stored values follow the store's segments, which b may not */
    rc = bt_border_open(s, b->name, NULL, &fresh);
    if (rc == BT_OK)
        rc = valid ? take_queued(s, fresh, inc, ninc, inst, ninst) : recompute_all(s, fresh);
    if (rc == BT_OK)
        rc = s->be->chainage_set_state(s, fresh->name, max_seq > done_seq ? max_seq : done_seq,
                                       fresh->length_m, (int64_t)fresh->nparts);
    if (rc == BT_OK)
        *status = matches(b, fresh->length_m, (int64_t)fresh->nparts) ? BT__CH_USABLE
                                                                       : BT__CH_MISMATCH;
out:
    bt_border_free(fresh);
    bt__free(inc);
    bt__free(inst);
    if (rw && (rc != BT_OK || *status != BT__CH_USABLE)) {
        /* nothing for the caller to read: close the savepoint now */
        if (rc == BT_OK) rc = s->be->savepoint_release(s, "bt_chainage");
        else s->be->savepoint_rollback(s, "bt_chainage");
    }
    return rc;
}

void bt__chainage_done(bt_store *s, int *rc)
{
    if (!(s->flags & BT_OPEN_READWRITE)) return;
    if (*rc == BT_OK) *rc = s->be->savepoint_release(s, "bt_chainage");
    else s->be->savepoint_rollback(s, "bt_chainage");
}
