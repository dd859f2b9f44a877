/**
 * @file border.c
 * @brief The public border-analysis functions: loading a border from the store,
 * locating points, coverage and gaps, observed ranges, the incident profile and
 * space-time clusters. The computations live in chainage.c, coverage.c and
 * cluster.c; this file reads the store through the backend and packs the results.
 */
#include "analysis_internal.h"
#include "store/backend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Ids are read from the store a page at a time. */
#define PAGE 512

static int null_arg(bt_store *s, const char *fn, const char *what)
{
    return bt__error(s, BT_ERR_INVALID, "%s: %s is NULL", fn, what);
}

/* Calls fn(s, id, udata) for every id of a table, in increasing order. */
static int for_each_id(bt_store *s, bt_table table, int (*fn)(bt_store *, int64_t, void *),
                       void *udata)
{
    int64_t ids[PAGE];
    int64_t after = INT64_MIN;
    for (;;) {
        size_t n = 0;
        int rc = s->be->ids_after(s, table, after, ids, PAGE, &n);
        if (rc != BT_OK) return rc;
        for (size_t i = 0; i < n; i++) {
            rc = fn(s, ids[i], udata);
            if (rc != BT_OK) return rc;
        }
        if (n < PAGE) return BT_OK;
        after = ids[n - 1];
    }
}

/* ---- loading a border ------------------------------------------------------ */

struct seg_list {
    const char *border;
    bt_segment **v;
    size_t n, cap;
};

static int collect_segment(bt_store *s, int64_t id, void *udata)
{
    struct seg_list *l = udata;
    bt_segment *seg = NULL;
    int rc = s->be->segment_get(s, id, &seg);
    if (rc != BT_OK) return rc;
    if (strcmp(seg->border, l->border) != 0) {
        bt_segment_free(seg);
        return BT_OK;
    }
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 64;
        bt_segment **nv = bt__realloc(l->v, nc * sizeof *nv);
        if (!nv) {
            bt_segment_free(seg);
            return bt__error(s, BT_ERR_NOMEM, "border '%s': out of memory", l->border);
        }
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = seg;
    return BT_OK;
}

static int seg_cmp(const void *pa, const void *pb)
{
    const bt_segment *a = *(const bt_segment *const *)pa, *b = *(const bt_segment *const *)pb;
    if (a->seq != b->seq) return a->seq < b->seq ? -1 : 1;
    return a->id < b->id ? -1 : (a->id > b->id);
}

int bt_border_open(bt_store *store, const char *border, const bt_lonlat *origin,
                   bt_border **out)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!out) return null_arg(store, "bt_border_open", "out");
    *out = NULL;
    if (!border) return null_arg(store, "bt_border_open", "border");
    struct seg_list l = {border, NULL, 0, 0};
    int rc = for_each_id(store, BT_TABLE_BORDERS, collect_segment, &l);
    struct bt__part_in *in = NULL;
    if (rc == BT_OK && l.n > 0) {
        qsort(l.v, l.n, sizeof *l.v, seg_cmp);
        in = bt__malloc(l.n * sizeof *in);
        if (!in) rc = bt__error(store, BT_ERR_NOMEM, "border '%s': out of memory", border);
    }
    if (rc == BT_OK) {
        for (size_t i = 0; i < l.n; i++)
            in[i] = (struct bt__part_in){l.v[i]->id, l.v[i]->seq, l.v[i]->points,
                                         l.v[i]->npoints};
        rc = bt__border_build(store, border, in, l.n, origin, out);
    }
    for (size_t i = 0; i < l.n; i++) bt_segment_free(l.v[i]);
    bt__free(l.v);
    bt__free(in);
    return rc;
}

int bt_border_info_get(const bt_border *b, bt_border_info *out)
{
    if (!b || !out) return BT_ERR_INVALID;
    out->nparts = b->nparts;
    out->nchain = b->nchain;
    out->parts_length_m = b->parts_length_m;
    out->chain_parts_m = b->chain_parts_m;
    out->gaps_m = b->gaps_m;
    out->length_m = b->length_m;
    out->origin = b->origin;
    out->end = b->end;
    return BT_OK;
}

static bool lonlat_ok(bt_lonlat p)
{
    return isfinite(p.lon) && isfinite(p.lat) && p.lon >= -180.0 && p.lon <= 180.0 &&
           p.lat >= -90.0 && p.lat <= 90.0;
}

int bt_border_locate(bt_store *store, const bt_border *b, bt_lonlat p, bt_location *out)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!b) return null_arg(store, "bt_border_locate", "border");
    if (!out) return null_arg(store, "bt_border_locate", "out");
    if (!lonlat_ok(p))
        return bt__error(store, BT_ERR_INVALID,
                         "bt_border_locate: point (%g, %g) is not a valid lon/lat", p.lon,
                         p.lat);
    bool found;
    int rc = bt__border_locate(b, p, INFINITY, true, out, &found);
    if (rc != BT_OK || !found)
        return bt__error(store, BT_ERR_INTERNAL, "bt_border_locate: border '%s' has no edge",
                         b->name);
    return BT_OK;
}

int bt_border_point_at(bt_store *store, const bt_border *b, double chainage_m,
                       bt_lonlat *out)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!b) return null_arg(store, "bt_border_point_at", "border");
    if (!out) return null_arg(store, "bt_border_point_at", "out");
    if (!isfinite(chainage_m))
        return bt__error(store, BT_ERR_INVALID, "bt_border_point_at: chainage is not finite");
    *out = bt__border_point_at(b, chainage_m);
    return BT_OK;
}

/* ---- places ---------------------------------------------------------------- */

struct place_list {
    char **name;
    bt_lonlat *where;
    size_t n, cap;
};

static int collect_place(bt_store *s, int64_t id, void *udata)
{
    struct place_list *l = udata;
    bt_place *p = NULL;
    int rc = s->be->place_get(s, id, &p);
    if (rc != BT_OK) return rc;
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 64;
        char **nn = bt__realloc(l->name, nc * sizeof *nn);
        if (nn) l->name = nn;
        bt_lonlat *nw = nn ? bt__realloc(l->where, nc * sizeof *nw) : NULL;
        if (!nn || !nw) {
            bt_place_free(p);
            return bt__error(s, BT_ERR_NOMEM, "reading places: out of memory");
        }
        l->where = nw;
        l->cap = nc;
    }
    l->name[l->n] = bt__strdup(p->name);
    l->where[l->n] = p->where;
    bt_place_free(p);
    if (!l->name[l->n]) return bt__error(s, BT_ERR_NOMEM, "reading places: out of memory");
    l->n++;
    return BT_OK;
}

static void places_free(struct place_list *l)
{
    for (size_t i = 0; i < l->n; i++) bt__free(l->name[i]);
    bt__free(l->name);
    bt__free(l->where);
}

/* Index of the nearest place to p, or SIZE_MAX if there is none. */
static size_t nearest_place(const bt_border *b, const struct place_list *l, bt_lonlat p,
                            double *dist)
{
    size_t best = SIZE_MAX;
    double bd = INFINITY;
    for (size_t i = 0; i < l->n; i++) {
        double s12;
        geod_inverse(&b->g, p.lat, p.lon, l->where[i].lat, l->where[i].lon, &s12, NULL, NULL);
        if (s12 < bd) {
            bd = s12;
            best = i;
        }
    }
    *dist = best == SIZE_MAX ? 0.0 : bd;
    return best;
}

/* The border's box grown by at least d metres on every side. */
bt_bbox bt__grown_bbox(const bt_border *b, double d)
{
    double maxabs = fmax(fabs(b->bbox.south), fabs(b->bbox.north));
    double dlat = d / 110574.0 * 1.01 + 1e-6;
    double poleward = maxabs + dlat;
    if (poleward > 89.0) poleward = 89.0;
    double dlon = d / (111319.5 * cos(poleward * 3.14159265358979323846 / 180.0)) * 1.01 + 1e-6;
    bt_bbox r = {b->bbox.west - dlon, b->bbox.south - dlat, b->bbox.east + dlon,
                 b->bbox.north + dlat};
    if (r.west < -180.0) r.west = -180.0;
    if (r.east > 180.0) r.east = 180.0;
    if (r.south < -90.0) r.south = -90.0;
    if (r.north > 90.0) r.north = 90.0;
    return r;
}

static bool in_bbox(bt_bbox box, bt_lonlat p)
{
    return p.lon >= box.west && p.lon <= box.east && p.lat >= box.south && p.lat <= box.north;
}

/* ---- coverage ----------------------------------------------------------------- */

void bt_coverage_opts_init(bt_coverage_opts *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->kinds = 1u << BT_INSTALL_FENCE;
    o->point_kinds = 1u << BT_INSTALL_GUARD_POST;
    o->as_of = INT64_MAX;
    o->include_construction = 0;
    o->max_offset_m = 500.0;
    o->from_m = 0.0;
    o->to_m = INFINITY;
    o->min_gap_m = 0.0;
    o->step_m = 25.0;
    o->incident_offset_m = 5000.0;
    o->incidents_from = INT64_MIN;
    o->incidents_to = INT64_MAX;
    o->since = INT64_MIN;
}

/* An interval with the classes of the installation it came from. */
struct tagged {
    double a, b;
    unsigned char layer, material, barbed, status;
    bool now, then; /* stands as of as_of, as of since */
};

struct cov_ctx {
    const bt_border *b;
    const bt_coverage_opts *o;
    bt_bbox near_box;      /* installations wholly outside cannot be near */
    struct bt__ivec tmp;   /* one installation's intervals */
    struct tagged *tv;
    size_t ntv, tvcap;
    size_t ncounted;
    double *pc;            /* chainages of point installations */
    size_t npc, pccap;
};

static int cov_install(bt_store *s, int64_t id, void *udata)
{
    struct cov_ctx *c = udata;
    bt_installation *in = NULL;
    int rc = s->be->installation_get(s, id, &in);
    if (rc != BT_OK) return rc;
    unsigned bit = 1u << (unsigned)in->kind;
    bool linear = in->npoints >= 2 && (c->o->kinds & bit);
    bool point = in->npoints == 1 && (c->o->point_kinds & bit);
    bool constr = c->o->include_construction != 0;
    bool now = bt__installation_stands(in, c->o->as_of, constr);
    bool then = c->o->since != INT64_MIN && bt__installation_stands(in, c->o->since, constr);
    if ((!linear && !point) || (!now && !(then && linear)) || (point && !now)) {
        bt_installation_free(in);
        return BT_OK;
    }
    bool any_in = false;
    for (size_t i = 0; i < in->npoints && !any_in; i++) any_in = in_bbox(c->near_box, in->points[i]);
    /* a long edge may pass near the border with both ends outside the box */
    if (!any_in && linear) {
        bt_bbox e = {INFINITY, INFINITY, -INFINITY, -INFINITY};
        for (size_t i = 0; i < in->npoints; i++) {
            e.west = fmin(e.west, in->points[i].lon);
            e.east = fmax(e.east, in->points[i].lon);
            e.south = fmin(e.south, in->points[i].lat);
            e.north = fmax(e.north, in->points[i].lat);
        }
        any_in = !(e.east < c->near_box.west || e.west > c->near_box.east ||
                   e.north < c->near_box.south || e.south > c->near_box.north);
    }
    if (!any_in) {
        bt_installation_free(in);
        return BT_OK;
    }
    if (point) {
        bt_location loc;
        bool found;
        rc = bt__border_locate(c->b, in->points[0], c->o->max_offset_m, false, &loc, &found);
        if (rc == BT_OK && found) {
            if (c->npc == c->pccap) {
                size_t nc = c->pccap ? 2 * c->pccap : 64;
                double *nv = bt__realloc(c->pc, nc * sizeof *nv);
                if (!nv) rc = BT_ERR_NOMEM;
                else { c->pc = nv; c->pccap = nc; }
            }
            if (rc == BT_OK) c->pc[c->npc++] = loc.chainage_m;
        }
    } else {
        c->tmp.n = 0;
        rc = bt__cover_polyline(c->b, in->points, in->npoints, c->o->max_offset_m,
                                c->o->step_m, &c->tmp);
        if (rc == BT_OK && c->tmp.n > 0) {
            c->ncounted += now;
            for (size_t i = 0; i < c->tmp.n && rc == BT_OK; i++) {
                if (c->ntv == c->tvcap) {
                    size_t nc = c->tvcap ? 2 * c->tvcap : 256;
                    struct tagged *nv = bt__realloc(c->tv, nc * sizeof *nv);
                    if (!nv) { rc = BT_ERR_NOMEM; break; }
                    c->tv = nv;
                    c->tvcap = nc;
                }
                c->tv[c->ntv++] = (struct tagged){c->tmp.v[i].a, c->tmp.v[i].b,
                                                  (unsigned char)in->layer,
                                                  (unsigned char)in->material,
                                                  (unsigned char)in->barbed,
                                                  (unsigned char)in->status, now, then};
            }
        }
    }
    bt_installation_free(in);
    if (rc == BT_ERR_NOMEM)
        return bt__error(s, rc, "coverage: out of memory at installation %lld", (long long)id);
    if (rc != BT_OK)
        return bt__error(s, rc, "coverage: installation %lld could not be located",
                         (long long)id);
    return BT_OK;
}

/* Covered length of the tagged intervals standing now, of one class (field selects
 * which tag; value < 0: every interval). ws is scratch of ntv intervals. */
static double class_length(const struct cov_ctx *c, int field, int value, struct bt__ival *ws,
                           double lo, double hi)
{
    size_t m = 0;
    for (size_t i = 0; i < c->ntv; i++) {
        const struct tagged *t = &c->tv[i];
        int v = field == 0 ? t->layer : field == 1 ? t->material : field == 2 ? t->barbed
                                                                              : t->status;
        if (t->now && (value < 0 || v == value)) ws[m++] = (struct bt__ival){t->a, t->b};
    }
    m = bt__ivals_union(ws, m);
    return bt__ivals_length(ws, m, lo, hi);
}

/* Length of the union of the intervals whose (now, then) flags one of the two
 * selectors accepts; a selector is a mask of 1 (now only), 2 (then only), 4 (both). */
static double flag_length(const struct cov_ctx *c, unsigned sel, struct bt__ival *ws,
                          double lo, double hi)
{
    size_t m = 0;
    for (size_t i = 0; i < c->ntv; i++) {
        const struct tagged *t = &c->tv[i];
        unsigned k = t->now && t->then ? 4u : t->now ? 1u : 2u;
        if (sel & k) ws[m++] = (struct bt__ival){t->a, t->b};
    }
    m = bt__ivals_union(ws, m);
    return bt__ivals_length(ws, m, lo, hi);
}

/* An incident located near the border. */
struct located {
    double c;
    int64_t id;
    int64_t t; /* start of the occurrence interval */
};

/* The incidents of a scan: first collected, then located together. */
struct inc_ctx {
    const bt_border *b;
    double max_offset_m;
    unsigned types;        /* 0: all */
    int64_t *ids;
    int64_t *ts;
    bt_lonlat *pts;
    size_t npts, ptcap;
    struct located *v;     /* those within max_offset_m */
    size_t n, vcap;        /* vcap: of v, when filled from the stored chainage */
    size_t too_far;
    bool nomem;
};

static int inc_row(const bt_incident *inc, void *udata)
{
    struct inc_ctx *c = udata;
    if (c->types && !(c->types & (1u << (unsigned)inc->type))) return 0;
    if (c->npts == c->ptcap) {
        size_t nc = c->ptcap ? 2 * c->ptcap : 256;
        int64_t *ni = bt__realloc(c->ids, nc * sizeof *ni);
        if (ni) c->ids = ni;
        int64_t *nt = ni ? bt__realloc(c->ts, nc * sizeof *nt) : NULL;
        if (nt) c->ts = nt;
        bt_lonlat *np = nt ? bt__realloc(c->pts, nc * sizeof *np) : NULL;
        if (!np) {
            c->nomem = true;
            return 1;
        }
        c->pts = np;
        c->ptcap = nc;
    }
    c->ids[c->npts] = inc->id;
    c->ts[c->npts] = inc->start;
    c->pts[c->npts] = inc->where;
    c->npts++;
    return 0;
}

/* bt_incident_query() delivers with a distance; the scans do not need it. */
static int inc_query_row(const bt_incident *inc, double distance_m, void *udata)
{
    (void)distance_m;
    return inc_row(inc, udata);
}

static void inc_ctx_free(struct inc_ctx *c)
{
    bt__free(c->ids);
    bt__free(c->ts);
    bt__free(c->pts);
    bt__free(c->v);
}

/* Scans the incidents near the border: those in its box grown by max_offset_m,
 * overlapping [from, to], of the types asked, within max_offset_m of the line. */
static int scan_incidents(bt_store *s, const bt_border *b, struct inc_ctx *c, int64_t from,
                          int64_t to, const bt_query *q)
{
    int rc;
    if (q) {
        /* the query's own filters apply; the border's box is only an optimisation */
        c->types = 0;
        rc = bt_incident_query(s, q, inc_query_row, c);
    } else {
        bt_bbox box = bt__grown_bbox(b, c->max_offset_m);
        rc = s->be->incident_scan_bbox(s, box, from, to, inc_row, c);
    }
    if (rc != BT_OK) return rc;
    if (c->nomem) return bt__error(s, BT_ERR_NOMEM, "scanning incidents: out of memory");
    double *ch = bt__malloc((c->npts + 1) * sizeof *ch);
    unsigned char *fd = bt__malloc(c->npts + 1);
    c->v = bt__malloc((c->npts + 1) * sizeof *c->v);
    if (!ch || !fd || !c->v) {
        bt__free(ch);
        bt__free(fd);
        return bt__error(s, BT_ERR_NOMEM, "locating incidents: out of memory");
    }
    rc = bt__border_locate_many(b, c->pts, c->npts, c->max_offset_m, ch, fd);
    if (rc == BT_OK) {
        for (size_t i = 0; i < c->npts; i++) {
            if (fd[i]) c->v[c->n++] = (struct located){ch[i], c->ids[i], c->ts[i]};
            else c->too_far++;
        }
    }
    bt__free(ch);
    bt__free(fd);
    if (rc == BT_ERR_NOMEM) return bt__error(s, rc, "locating incidents: out of memory");
    if (rc != BT_OK) return bt__error(s, rc, "locating incidents on border '%s' failed", b->name);
    return BT_OK;
}

/* A row of the stored chainage for a profile: the same filters as inc_row() and the
 * box scan, and the same within-limit decision (the stored offset is geodesic). */
struct stored_ctx {
    struct inc_ctx *c;
    bt_bbox box;          /* the box scan_incidents() would read */
    int64_t from, to;
};

static int stored_row(const struct bt__chainage_row *r, void *udata)
{
    struct stored_ctx *x = udata;
    struct inc_ctx *c = x->c;
    if (c->types && !(c->types & (1u << (unsigned)r->type))) return 0;
    if (r->start_t > x->to || r->end_t < x->from) return 0;
    if (r->offset_m > c->max_offset_m) {
        if (in_bbox(x->box, r->where)) c->too_far++;
        return 0;
    }
    if (c->n == c->vcap) {
        size_t nc = c->vcap ? 2 * c->vcap : 1024;
        struct located *nv = bt__realloc(c->v, nc * sizeof *nv);
        if (!nv) {
            c->nomem = true;
            return 1;
        }
        c->v = nv;
        c->vcap = nc;
    }
    c->v[c->n++] = (struct located){r->chainage_m, r->record_id, r->start_t};
    return 0;
}

/* The incidents of a profile from the stored chainage, when it serves b; *used says
 * whether it did (else the caller scans and locates). */
static int scan_stored(bt_store *s, const bt_border *b, struct inc_ctx *c, int64_t from,
                       int64_t to, bool *used)
{
    *used = false;
    if (!b->default_origin) return BT_OK; /* stored chainage is from the default origin */
    int status;
    int rc = bt__chainage_refresh(s, b, &status);
    if (rc != BT_OK || status != BT__CH_USABLE) return rc;
    struct stored_ctx x = {c, bt__grown_bbox(b, c->max_offset_m), from, to};
    rc = s->be->chainage_scan(s, b->name, BT__CH_INCIDENT, -INFINITY, INFINITY, stored_row, &x);
    bt__chainage_done(s, &rc);
    if (rc != BT_OK) return rc;
    if (c->nomem) return bt__error(s, BT_ERR_NOMEM, "profile: out of memory");
    *used = true;
    return BT_OK;
}

static int located_cmp(const void *pa, const void *pb)
{
    const struct located *a = pa, *b = pb;
    if (a->c != b->c) return a->c < b->c ? -1 : 1;
    return a->id < b->id ? -1 : (a->id > b->id);
}

static int id_cmp(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return a < b ? -1 : (a > b);
}

static int dbl_cmp(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : (a > b);
}

static int check_cov_opts(bt_store *s, const bt_coverage_opts *o)
{
    if (!(o->max_offset_m > 0.0) || !isfinite(o->max_offset_m))
        return bt__error(s, BT_ERR_INVALID, "bt_border_coverage: max_offset_m %g must be > 0",
                         o->max_offset_m);
    if (!(o->step_m > 0.0) || !isfinite(o->step_m))
        return bt__error(s, BT_ERR_INVALID, "bt_border_coverage: step_m %g must be > 0",
                         o->step_m);
    if (isnan(o->from_m) || isnan(o->to_m) || o->from_m > o->to_m)
        return bt__error(s, BT_ERR_INVALID,
                         "bt_border_coverage: chainage range %g..%g is empty or invalid",
                         o->from_m, o->to_m);
    if (!(o->min_gap_m >= 0.0) || !(o->incident_offset_m >= 0.0) ||
        !isfinite(o->incident_offset_m))
        return bt__error(s, BT_ERR_INVALID,
                         "bt_border_coverage: min_gap_m and incident_offset_m must be >= 0");
    if (o->incidents_from > o->incidents_to)
        return bt__error(s, BT_ERR_INVALID,
                         "bt_border_coverage: incidents_from is after incidents_to");
    return BT_OK;
}

int bt_border_coverage(bt_store *store, const bt_border *b, const bt_coverage_opts *opts,
                       bt_coverage **out)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!out) return null_arg(store, "bt_border_coverage", "out");
    *out = NULL;
    if (!b) return null_arg(store, "bt_border_coverage", "border");
    bt_coverage_opts o;
    if (opts) o = *opts; else bt_coverage_opts_init(&o);
    int rc = check_cov_opts(store, &o);
    if (rc != BT_OK) return rc;
    double lo = o.from_m < 0.0 ? 0.0 : o.from_m;
    double hi = o.to_m > b->length_m ? b->length_m : o.to_m;
    if (lo > hi) lo = hi;

    struct cov_ctx c = {0};
    c.b = b;
    c.o = &o;
    c.near_box = bt__grown_bbox(b, o.max_offset_m);
    struct place_list pl = {0};
    struct inc_ctx ic = {0};
    struct bt__ival *ws = NULL, *gaps = NULL, *obs = NULL;
    bt_obs_range *orng = NULL;
    size_t norng = 0, ncov = 0, ngaps = 0, nobs = 0;
    size_t *gfirst = NULL, *gcount = NULL;
    bt_coverage *res = NULL;

    rc = for_each_id(store, BT_TABLE_INSTALLATIONS, cov_install, &c);
    if (rc != BT_OK) goto done;

    /* the union of everything, kept in ws for the gaps */
    ws = bt__malloc((c.ntv + 1) * sizeof *ws);
    if (!ws) { rc = bt__error(store, BT_ERR_NOMEM, "coverage: out of memory"); goto done; }
    double by_layer[4], by_material[9], by_barbed[3], by_status[6];
    for (int v = 0; v < 4; v++) by_layer[v] = class_length(&c, 0, v, ws, lo, hi);
    for (int v = 0; v < 9; v++) by_material[v] = class_length(&c, 1, v, ws, lo, hi);
    for (int v = 0; v < 3; v++) by_barbed[v] = class_length(&c, 2, v, ws, lo, hi);
    for (int v = 0; v < 6; v++) by_status[v] = class_length(&c, 3, v, ws, lo, hi);
    double covered = class_length(&c, -1, -1, ws, lo, hi);
    /* comparison with an earlier date, by |A & B| = |A| + |B| - |A | B| */
    double new_m = 0.0, enhanced_m = 0.0, removed_m = 0.0;
    if (o.since != INT64_MIN) {
        double l_now = flag_length(&c, 1u | 4u, ws, lo, hi);
        double l_then = flag_length(&c, 2u | 4u, ws, lo, hi);
        double l_any = flag_length(&c, 1u | 2u | 4u, ws, lo, hi);
        double l_added = flag_length(&c, 1u, ws, lo, hi); /* installations new since */
        double both = l_now + l_then - l_any;
        new_m = fmax(0.0, l_now - both);
        removed_m = fmax(0.0, l_then - both);
        /* added | then is every interval: l_any again */
        enhanced_m = fmax(0.0, l_added + l_then - l_any);
    }
    ncov = 0;
    for (size_t i = 0; i < c.ntv; i++)
        if (c.tv[i].now) ws[ncov++] = (struct bt__ival){c.tv[i].a, c.tv[i].b};
    ncov = bt__ivals_union(ws, ncov);
    /* clip the covered intervals to the range */
    {
        size_t m = 0;
        for (size_t i = 0; i < ncov; i++) {
            double a = fmax(ws[i].a, lo), z = fmin(ws[i].b, hi);
            if (z > a) ws[m++] = (struct bt__ival){a, z};
        }
        ncov = m;
    }
    /* gaps: the complement in [lo, hi], at least min_gap_m long */
    gaps = bt__malloc((ncov + 1) * sizeof *gaps);
    if (!gaps) { rc = bt__error(store, BT_ERR_NOMEM, "coverage: out of memory"); goto done; }
    {
        double pos = lo;
        for (size_t i = 0; i <= ncov; i++) {
            double end = i < ncov ? ws[i].a : hi;
            if (end > pos && end - pos >= o.min_gap_m && end - pos > 0.0)
                gaps[ngaps++] = (struct bt__ival){pos, end};
            if (i < ncov && ws[i].b > pos) pos = ws[i].b;
        }
    }
    double gaps_m = 0.0;
    for (size_t i = 0; i < ngaps; i++) gaps_m += gaps[i].b - gaps[i].a;

    /* observations dated up to as_of */
    rc = store->be->obs_list(store, b->name, &orng, &norng);
    if (rc != BT_OK) goto done;
    obs = bt__malloc((norng + 1) * sizeof *obs);
    if (!obs) { rc = bt__error(store, BT_ERR_NOMEM, "coverage: out of memory"); goto done; }
    for (size_t i = 0; i < norng; i++)
        if (orng[i].when.t <= o.as_of) obs[nobs++] = (struct bt__ival){orng[i].from_m, orng[i].to_m};
    nobs = bt__ivals_union(obs, nobs);

    /* incidents and places, only when there are gaps to describe */
    if (ngaps > 0) {
        ic.b = b;
        ic.max_offset_m = o.incident_offset_m;
        rc = scan_incidents(store, b, &ic, o.incidents_from, o.incidents_to, NULL);
        if (rc != BT_OK) goto done;
        if (ic.n > 1) qsort(ic.v, ic.n, sizeof *ic.v, located_cmp);
        rc = for_each_id(store, BT_TABLE_PLACES, collect_place, &pl);
        if (rc != BT_OK) goto done;
    }
    gfirst = bt__calloc(ngaps + 1, sizeof *gfirst);
    gcount = bt__calloc(ngaps + 1, sizeof *gcount);
    if (!gfirst || !gcount) { rc = bt__error(store, BT_ERR_NOMEM, "coverage: out of memory"); goto done; }
    size_t nids = 0, names_len = 0;
    size_t *pfrom = bt__malloc((ngaps + 1) * sizeof *pfrom);
    size_t *pto = bt__malloc((ngaps + 1) * sizeof *pto);
    double *dfrom = bt__malloc((ngaps + 1) * sizeof *dfrom);
    double *dto = bt__malloc((ngaps + 1) * sizeof *dto);
    if (!pfrom || !pto || !dfrom || !dto) {
        bt__free(pfrom); bt__free(pto); bt__free(dfrom); bt__free(dto);
        rc = bt__error(store, BT_ERR_NOMEM, "coverage: out of memory");
        goto done;
    }
    for (size_t g = 0; g < ngaps; g++) {
        /* incidents with chainage in [a, b] */
        size_t l0 = 0, h0 = ic.n;
        while (l0 < h0) { size_t m = (l0 + h0) / 2; if (ic.v[m].c < gaps[g].a) l0 = m + 1; else h0 = m; }
        size_t k = l0;
        while (k < ic.n && ic.v[k].c <= gaps[g].b) k++;
        gfirst[g] = l0;
        gcount[g] = k - l0;
        nids += k - l0;
        pfrom[g] = nearest_place(b, &pl, bt__border_point_at(b, gaps[g].a), &dfrom[g]);
        pto[g] = nearest_place(b, &pl, bt__border_point_at(b, gaps[g].b), &dto[g]);
        if (pfrom[g] != SIZE_MAX) names_len += strlen(pl.name[pfrom[g]]) + 1;
        if (pto[g] != SIZE_MAX) names_len += strlen(pl.name[pto[g]]) + 1;
    }
    /* one block: struct, intervals, gaps, ids, names */
    size_t sz = sizeof(bt_coverage);
    size_t off_iv = sz;
    sz += ncov * sizeof(bt_chain_range);
    sz = (sz + 7) & ~(size_t)7;
    size_t off_gap = sz;
    sz += ngaps * sizeof(bt_gap);
    sz = (sz + 7) & ~(size_t)7;
    size_t off_ids = sz;
    sz += nids * sizeof(int64_t);
    size_t off_names = sz;
    sz += names_len;
    unsigned char *blk = bt__calloc(1, sz);
    if (!blk) {
        bt__free(pfrom); bt__free(pto); bt__free(dfrom); bt__free(dto);
        rc = bt__error(store, BT_ERR_NOMEM, "coverage: out of memory");
        goto done;
    }
    res = (bt_coverage *)blk;
    bt_chain_range *ivs = (bt_chain_range *)(blk + off_iv);
    bt_gap *gv = (bt_gap *)(blk + off_gap);
    int64_t *idv = (int64_t *)(blk + off_ids);
    char *names = (char *)(blk + off_names);
    res->from_m = lo;
    res->to_m = hi;
    res->length_m = hi - lo;
    res->covered_m = covered;
    res->share = hi > lo ? covered / (hi - lo) : 0.0;
    res->ncounted = c.ncounted;
    res->nintervals = ncov;
    res->intervals = ivs;
    for (size_t i = 0; i < ncov; i++) ivs[i] = (bt_chain_range){ws[i].a, ws[i].b};
    memcpy(res->by_layer, by_layer, sizeof by_layer);
    memcpy(res->by_material, by_material, sizeof by_material);
    memcpy(res->by_barbed, by_barbed, sizeof by_barbed);
    memcpy(res->by_status, by_status, sizeof by_status);
    res->new_m = new_m;
    res->enhanced_m = enhanced_m;
    res->removed_m = removed_m;
    res->ngaps = ngaps;
    res->gaps = gv;
    res->gaps_m = gaps_m;
    for (size_t g = 0; g < ngaps; g++) {
        bt_gap *gp = &gv[g];
        gp->from_m = gaps[g].a;
        gp->to_m = gaps[g].b;
        gp->length_m = gaps[g].b - gaps[g].a;
        gp->observed_m = bt__ivals_length(obs, nobs, gaps[g].a, gaps[g].b);
        gp->unobserved = gp->observed_m == 0.0;
        if (gp->unobserved) res->unobserved_m += gp->length_m;
        gp->nincidents = gcount[g];
        gp->incident_ids = idv;
        for (size_t k = 0; k < gcount[g]; k++) idv[k] = ic.v[gfirst[g] + k].id;
        if (gcount[g] > 1) qsort(idv, gcount[g], sizeof *idv, id_cmp);
        idv += gcount[g];
        if (pfrom[g] != SIZE_MAX) {
            size_t len = strlen(pl.name[pfrom[g]]) + 1;
            memcpy(names, pl.name[pfrom[g]], len);
            gp->place_from = names;
            gp->place_from_m = dfrom[g];
            names += len;
        }
        if (pto[g] != SIZE_MAX) {
            size_t len = strlen(pl.name[pto[g]]) + 1;
            memcpy(names, pl.name[pto[g]], len);
            gp->place_to = names;
            gp->place_to_m = dto[g];
            names += len;
        }
    }
    bt__free(pfrom); bt__free(pto); bt__free(dfrom); bt__free(dto);
    /* point installations in the range: density and largest spacing */
    {
        if (c.npc > 1) qsort(c.pc, c.npc, sizeof *c.pc, dbl_cmp);
        double prev = lo, maxsp = 0.0, maxfrom = lo;
        size_t np = 0;
        for (size_t i = 0; i < c.npc; i++) {
            if (c.pc[i] < lo || c.pc[i] > hi) continue;
            np++;
            if (c.pc[i] - prev > maxsp) { maxsp = c.pc[i] - prev; maxfrom = prev; }
            prev = c.pc[i];
        }
        if (hi - prev > maxsp) { maxsp = hi - prev; maxfrom = prev; }
        res->npoints = np;
        res->points_per_km = hi > lo ? (double)np / ((hi - lo) / 1000.0) : 0.0;
        res->max_spacing_m = maxsp;
        res->max_spacing_from_m = maxfrom;
    }
    *out = res;
    rc = BT_OK;
done:
    bt__free(c.tmp.v);
    bt__free(c.tv);
    bt__free(c.pc);
    bt__free(ws);
    bt__free(gaps);
    bt__free(obs);
    bt__free(orng);
    bt__free(gfirst);
    bt__free(gcount);
    inc_ctx_free(&ic);
    places_free(&pl);
    return rc;
}

void bt_coverage_free(bt_coverage *c)
{
    bt__free(c);
}

/* ---- observed ranges ------------------------------------------------------ */

int bt_obs_range_add(bt_store *store, const bt_obs_range *r, int64_t *id)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!r) return null_arg(store, "bt_obs_range_add", "range");
    if (!(store->flags & BT_OPEN_READWRITE))
        return bt__error(store, BT_ERR_READONLY, "bt_obs_range_add: the store is open read-only");
    if (!r->border || !r->border[0])
        return bt__error(store, BT_ERR_INVALID, "observed range: field 'border' is required");
    if (!isfinite(r->from_m) || !isfinite(r->to_m) || r->from_m < 0.0 || r->from_m > r->to_m)
        return bt__error(store, BT_ERR_INVALID,
                         "observed range of '%s': chainage %g..%g; expected 0 <= from <= to",
                         r->border, r->from_m, r->to_m);
    if (r->when.precision < BT_TIME_YEAR || r->when.precision > BT_TIME_SECOND)
        return bt__error(store, BT_ERR_INVALID,
                         "observed range of '%s': field 'when' is required", r->border);
    if (!bt_enum_name(BT_ENUM_OBSERVATION, (int)r->by))
        return bt__error(store, BT_ERR_INVALID, "observed range of '%s': field 'by' is %d",
                         r->border, (int)r->by);
    int64_t nid = 0;
    int rc = store->be->obs_insert(store, r, &nid);
    if (rc == BT_OK && id) *id = nid;
    return rc;
}

int bt_obs_range_delete(bt_store *store, int64_t id)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!(store->flags & BT_OPEN_READWRITE))
        return bt__error(store, BT_ERR_READONLY,
                         "bt_obs_range_delete: the store is open read-only");
    return store->be->obs_delete(store, id);
}

/* ---- profile -------------------------------------------------------------- */

void bt_profile_opts_init(bt_profile_opts *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->bin_m = 1000.0;
    o->from = INT64_MIN;
    o->to = INT64_MAX;
    o->types = 0;
    o->max_offset_m = 20000.0;
    o->top_n = 10;
}

struct bin_rank {
    size_t bin, count;
};

static int rank_cmp(const void *pa, const void *pb)
{
    const struct bin_rank *a = pa, *b = pb;
    if (a->count != b->count) return a->count > b->count ? -1 : 1;
    return a->bin < b->bin ? -1 : (a->bin > b->bin);
}

int bt_border_profile(bt_store *store, const bt_border *b, const bt_profile_opts *opts,
                      bt_profile **out)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!out) return null_arg(store, "bt_border_profile", "out");
    *out = NULL;
    if (!b) return null_arg(store, "bt_border_profile", "border");
    bt_profile_opts o;
    if (opts) o = *opts; else bt_profile_opts_init(&o);
    if (!(o.bin_m > 0.0) || !isfinite(o.bin_m) || b->length_m / o.bin_m > 1e8)
        return bt__error(store, BT_ERR_INVALID,
                         "bt_border_profile: bin_m %g must be > 0 and give at most 1e8 bins",
                         o.bin_m);
    if (!(o.max_offset_m >= 0.0) || !isfinite(o.max_offset_m))
        return bt__error(store, BT_ERR_INVALID, "bt_border_profile: max_offset_m %g must be >= 0",
                         o.max_offset_m);
    if (o.from > o.to)
        return bt__error(store, BT_ERR_INVALID, "bt_border_profile: from is after to");
    /* a length within rounding of a whole number of bins does not open one more */
    double nb = b->length_m / o.bin_m;
    size_t nbins = (size_t)ceil(nb - 1e-9 * nb);
    if (nbins == 0) nbins = 1;

    struct inc_ctx ic = {0};
    ic.b = b;
    ic.max_offset_m = o.max_offset_m;
    ic.types = o.types;
    struct place_list pl = {0};
    struct bin_rank *rank = NULL;
    size_t *counts = NULL;
    int rc = BT_OK;
    bool stored = false;
    if (!o.query && o.max_offset_m <= BT__STORED_MAX_OFFSET_M) {
        rc = scan_stored(store, b, &ic, o.from, o.to, &stored);
        if (rc != BT_OK) goto done;
    }
    if (!stored) rc = scan_incidents(store, b, &ic, o.from, o.to, o.query);
    if (rc != BT_OK) goto done;
    counts = bt__calloc(nbins, sizeof *counts);
    if (!counts) { rc = bt__error(store, BT_ERR_NOMEM, "profile: out of memory"); goto done; }
    for (size_t i = 0; i < ic.n; i++) {
        double q = floor(ic.v[i].c / o.bin_m);
        size_t k = q < 0.0 ? 0 : (size_t)q;
        if (k >= nbins) k = nbins - 1; /* the far end itself */
        counts[k]++;
    }
    size_t nz = 0;
    for (size_t k = 0; k < nbins; k++) nz += counts[k] > 0;
    rank = bt__malloc((nz + 1) * sizeof *rank);
    if (!rank) { rc = bt__error(store, BT_ERR_NOMEM, "profile: out of memory"); goto done; }
    nz = 0;
    for (size_t k = 0; k < nbins; k++)
        if (counts[k] > 0) rank[nz++] = (struct bin_rank){k, counts[k]};
    qsort(rank, nz, sizeof *rank, rank_cmp);
    size_t nhot = nz < o.top_n ? nz : o.top_n;
    if (nhot > 0) {
        rc = for_each_id(store, BT_TABLE_PLACES, collect_place, &pl);
        if (rc != BT_OK) goto done;
    }
    size_t place_idx[64];
    size_t names_len = 0;
    size_t *pidx = nhot <= 64 ? place_idx : bt__malloc(nhot * sizeof *pidx);
    double *pdist = bt__malloc((nhot + 1) * sizeof *pdist);
    if (!pidx || !pdist) {
        if (pidx != place_idx) bt__free(pidx);
        bt__free(pdist);
        rc = bt__error(store, BT_ERR_NOMEM, "profile: out of memory");
        goto done;
    }
    for (size_t h = 0; h < nhot; h++) {
        double mid = ((double)rank[h].bin + 0.5) * o.bin_m;
        pidx[h] = nearest_place(b, &pl, bt__border_point_at(b, mid), &pdist[h]);
        if (pidx[h] != SIZE_MAX) names_len += strlen(pl.name[pidx[h]]) + 1;
    }
    size_t sz = sizeof(bt_profile);
    size_t off_counts = sz;
    sz += nbins * sizeof(size_t);
    sz = (sz + 7) & ~(size_t)7;
    size_t off_hot = sz;
    sz += nhot * sizeof(bt_hotspot);
    size_t off_names = sz;
    sz += names_len;
    unsigned char *blk = bt__calloc(1, sz);
    if (!blk) {
        if (pidx != place_idx) bt__free(pidx);
        bt__free(pdist);
        rc = bt__error(store, BT_ERR_NOMEM, "profile: out of memory");
        goto done;
    }
    bt_profile *res = (bt_profile *)blk;
    size_t *cv = (size_t *)(blk + off_counts);
    bt_hotspot *hv = (bt_hotspot *)(blk + off_hot);
    char *names = (char *)(blk + off_names);
    memcpy(cv, counts, nbins * sizeof *cv);
    res->bin_m = o.bin_m;
    res->nbins = nbins;
    res->counts = cv;
    res->total = ic.n;
    res->too_far = ic.too_far;
    res->nhotspots = nhot;
    res->hotspots = hv;
    for (size_t h = 0; h < nhot; h++) {
        hv[h].from_m = (double)rank[h].bin * o.bin_m;
        hv[h].to_m = fmin(hv[h].from_m + o.bin_m, b->length_m);
        hv[h].count = rank[h].count;
        if (pidx[h] != SIZE_MAX) {
            size_t len = strlen(pl.name[pidx[h]]) + 1;
            memcpy(names, pl.name[pidx[h]], len);
            hv[h].place = names;
            hv[h].place_m = pdist[h];
            names += len;
        }
    }
    if (pidx != place_idx) bt__free(pidx);
    bt__free(pdist);
    *out = res;
    rc = BT_OK;
done:
    inc_ctx_free(&ic);
    bt__free(counts);
    bt__free(rank);
    places_free(&pl);
    return rc;
}

void bt_profile_free(bt_profile *p)
{
    bt__free(p);
}

/* ---- incidents by chainage ------------------------------------------------ */

struct by_ch_ctx {
    double max_offset_m;
    bt_chainage_cb cb;
    void *udata;
};

static int by_ch_row(const struct bt__chainage_row *r, void *udata)
{
    struct by_ch_ctx *x = udata;
    if (r->offset_m > x->max_offset_m) return 0;
    bt_chainage_hit h = {r->record_id, r->segment_id, r->chainage_m, r->offset_m, r->side,
                         r->where};
    return x->cb(&h, x->udata);
}

int bt_incidents_by_chainage(bt_store *store, const bt_border *b, double from_m, double to_m,
                             double max_offset_m, bt_chainage_cb cb, void *udata)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!b) return null_arg(store, "bt_incidents_by_chainage", "border");
    if (!cb) return null_arg(store, "bt_incidents_by_chainage", "cb");
    if (!isfinite(from_m) || !isfinite(to_m) || from_m > to_m)
        return bt__error(store, BT_ERR_INVALID,
                         "bt_incidents_by_chainage: range %g..%g; expected finite from <= to",
                         from_m, to_m);
    if (!(max_offset_m >= 0.0) || max_offset_m > BT__STORED_MAX_OFFSET_M)
        return bt__error(store, BT_ERR_INVALID,
                         "bt_incidents_by_chainage: max_offset_m %g; expected 0..%g",
                         max_offset_m, BT__STORED_MAX_OFFSET_M);
    if (!b->default_origin)
        return bt__error(store, BT_ERR_INVALID,
                         "bt_incidents_by_chainage: border '%s' was opened with an origin; "
                         "stored chainage is from the default origin (open it with NULL)",
                         b->name);
    int status;
    int rc = bt__chainage_refresh(store, b, &status);
    if (rc != BT_OK) return rc;
    switch (status) {
    case BT__CH_UNSUPPORTED:
        return bt__error(store, BT_ERR_SCHEMA,
                         "bt_incidents_by_chainage: this store has no stored chainage");
    case BT__CH_STALE_READONLY:
        return bt__error(store, BT_ERR_READONLY,
                         "bt_incidents_by_chainage: the stored chainage of border '%s' needs "
                         "updating and the store is open read-only", b->name);
    case BT__CH_MISMATCH:
        return bt__error(store, BT_ERR_INVALID,
                         "bt_incidents_by_chainage: border '%s' changed in the store since "
                         "it was opened; open it again", b->name);
    default:
        break;
    }
    struct by_ch_ctx x = {max_offset_m, cb, udata};
    rc = store->be->chainage_scan(store, b->name, BT__CH_INCIDENT, from_m, to_m, by_ch_row, &x);
    bt__chainage_done(store, &rc);
    return rc;
}

/* ---- clusters ------------------------------------------------------------- */

void bt_cluster_opts_init(bt_cluster_opts *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->eps_m = 2000.0;
    o->window_s = 30 * 86400;
    o->min_pts = 3;
    o->box = (bt_bbox){-180.0, -90.0, 180.0, 90.0};
    o->from = INT64_MIN;
    o->to = INT64_MAX;
    o->types = 0;
}

struct pt_ctx {
    unsigned types;
    int64_t *id;
    bt_lonlat *p;
    int64_t *t;
    size_t n, cap;
    bool nomem;
};

static int pt_row(const bt_incident *inc, void *udata)
{
    struct pt_ctx *c = udata;
    if (c->types && !(c->types & (1u << (unsigned)inc->type))) return 0;
    if (c->n == c->cap) {
        size_t nc = c->cap ? 2 * c->cap : 256;
        int64_t *ni = bt__realloc(c->id, nc * sizeof *ni);
        if (ni) c->id = ni;
        bt_lonlat *np = ni ? bt__realloc(c->p, nc * sizeof *np) : NULL;
        if (np) c->p = np;
        int64_t *nt = np ? bt__realloc(c->t, nc * sizeof *nt) : NULL;
        if (!nt) {
            c->nomem = true;
            return 1;
        }
        c->t = nt;
        c->cap = nc;
    }
    c->id[c->n] = inc->id;
    c->p[c->n] = inc->where;
    c->t[c->n] = inc->start;
    c->n++;
    return 0;
}

static int pt_query_row(const bt_incident *inc, double distance_m, void *udata)
{
    (void)distance_m;
    return pt_row(inc, udata);
}

struct idx_sort {
    int64_t id;
    size_t i;
};

static int idx_sort_cmp(const void *pa, const void *pb)
{
    const struct idx_sort *a = pa, *b = pb;
    return a->id < b->id ? -1 : (a->id > b->id);
}

int bt_incident_clusters(bt_store *store, const bt_cluster_opts *opts, bt_clusters **out)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!out) return null_arg(store, "bt_incident_clusters", "out");
    *out = NULL;
    bt_cluster_opts o;
    if (opts) o = *opts; else bt_cluster_opts_init(&o);
    if (!(o.eps_m > 0.0) || !isfinite(o.eps_m) || o.eps_m > 1e6)
        return bt__error(store, BT_ERR_INVALID,
                         "bt_incident_clusters: eps_m %g must be in (0, 1e6]", o.eps_m);
    if (o.window_s < 0 || o.min_pts < 1)
        return bt__error(store, BT_ERR_INVALID,
                         "bt_incident_clusters: window_s must be >= 0 and min_pts >= 1");
    if (o.from > o.to)
        return bt__error(store, BT_ERR_INVALID, "bt_incident_clusters: from is after to");
    if (!(o.box.south <= o.box.north) || o.box.south < -90.0 || o.box.north > 90.0 ||
        !(o.box.west >= -180.0 && o.box.west <= 180.0) ||
        !(o.box.east >= -180.0 && o.box.east <= 180.0))
        return bt__error(store, BT_ERR_INVALID, "bt_incident_clusters: invalid box");
    struct pt_ctx c = {0};
    c.types = o.types;
    int rc;
    if (o.query) {
        c.types = 0;
        rc = bt_incident_query(store, o.query, pt_query_row, &c);
    } else if (o.box.west <= o.box.east) {
        rc = store->be->incident_scan_bbox(store, o.box, o.from, o.to, pt_row, &c);
    } else {
        /* crosses the antimeridian: two boxes */
        bt_bbox w = {o.box.west, o.box.south, 180.0, o.box.north};
        bt_bbox e = {-180.0, o.box.south, o.box.east, o.box.north};
        rc = store->be->incident_scan_bbox(store, w, o.from, o.to, pt_row, &c);
        if (rc == BT_OK && !c.nomem)
            rc = store->be->incident_scan_bbox(store, e, o.from, o.to, pt_row, &c);
    }
    long *labels = NULL;
    struct idx_sort *srt = NULL;
    if (rc == BT_OK && c.nomem) rc = bt__error(store, BT_ERR_NOMEM, "clusters: out of memory");
    if (rc != BT_OK) goto done;
    /* increasing id order (two scans may interleave) */
    srt = bt__malloc((c.n + 1) * sizeof *srt);
    labels = bt__malloc((c.n + 1) * sizeof *labels);
    bt_lonlat *sp = bt__malloc((c.n + 1) * sizeof *sp);
    int64_t *st = bt__malloc((c.n + 1) * sizeof *st);
    if (!srt || !labels || !sp || !st) {
        bt__free(sp); bt__free(st);
        rc = bt__error(store, BT_ERR_NOMEM, "clusters: out of memory");
        goto done;
    }
    for (size_t i = 0; i < c.n; i++) srt[i] = (struct idx_sort){c.id[i], i};
    qsort(srt, c.n, sizeof *srt, idx_sort_cmp);
    for (size_t i = 0; i < c.n; i++) {
        sp[i] = c.p[srt[i].i];
        st[i] = c.t[srt[i].i];
    }
    const struct geod_geodesic *g = bt__geod(store);
    if (!g) {
        bt__free(sp);
        bt__free(st);
        rc = BT_ERR_INTERNAL;
        goto done;
    }
    long nc = bt__dbscan(g, sp, st, c.n, o.eps_m, o.window_s, o.min_pts, labels);
    bt__free(sp);
    bt__free(st);
    if (nc < 0) { rc = bt__error(store, BT_ERR_NOMEM, "clusters: out of memory"); goto done; }
    size_t sz = sizeof(bt_clusters);
    size_t off_ids = (sz + 7) & ~(size_t)7;
    sz = off_ids + c.n * sizeof(int64_t);
    size_t off_lab = (sz + 7) & ~(size_t)7;
    sz = off_lab + c.n * sizeof(long);
    unsigned char *blk = bt__calloc(1, sz);
    if (!blk) { rc = bt__error(store, BT_ERR_NOMEM, "clusters: out of memory"); goto done; }
    bt_clusters *res = (bt_clusters *)blk;
    int64_t *idv = (int64_t *)(blk + off_ids);
    long *lv = (long *)(blk + off_lab);
    for (size_t i = 0; i < c.n; i++) {
        idv[i] = srt[i].id;
        lv[i] = labels[i];
    }
    res->n = c.n;
    res->ids = idv;
    res->labels = lv;
    res->nclusters = (size_t)nc;
    *out = res;
    rc = BT_OK;
done:
    bt__free(c.id);
    bt__free(c.p);
    bt__free(c.t);
    bt__free(srt);
    bt__free(labels);
    return rc;
}

void bt_clusters_free(bt_clusters *c)
{
    bt__free(c);
}

/* ---- before and after ------------------------------------------------------ */

void bt_before_after_opts_init(bt_before_after_opts *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->installation_id = 0;
    o->intervention_id = 0;
    o->from_m = 0.0;
    o->to_m = 0.0;
    o->t0 = INT64_MIN;
    o->window_s = 365 * 86400;
    o->max_offset_m = 2000.0;
    o->types = 0;
    o->fence_kinds = (1u << BT_INSTALL_FENCE) | (1u << BT_INSTALL_WALL);
}

/* Whether chainage x lies in one of the merged intervals v[0..n). */
static bool in_ivals(const struct bt__ival *v, size_t n, double x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid].b < x) lo = mid + 1; else hi = mid;
    }
    return lo < n && v[lo].a <= x;
}

/* Rates per km per month; NaN for a stretch of no length (no rate to speak of). */
static void ba_rates(bt_ba_counts *c, double months)
{
    double km = c->length_m / 1000.0;
    c->rate_before = km > 0.0 ? (double)c->before / km / months : NAN;
    c->rate_after = km > 0.0 ? (double)c->after / km / months : NAN;
}

/* The treated stretch of a stored intervention on b, and its start as t0 unless the
 * caller gave one. */
static int intervention_stretch(bt_store *s, const bt_border *b, int64_t id,
                                struct bt__ivec *tr, int64_t *t0)
{
    bt_intervention *iv = NULL;
    int rc = s->be->intervention_get(s, id, &iv);
    if (rc != BT_OK) return rc;
    if (*t0 == INT64_MIN) *t0 = iv->start.t;
    if (iv->border) {
        bool whole = iv->from_m == 0.0 && isinf(iv->to_m);
        double a = iv->from_m, z = fmin(iv->to_m, b->length_m);
        if (strcmp(iv->border, b->name) != 0)
            rc = bt__error(s, BT_ERR_INVALID, "bt_border_before_after: intervention %lld "
                           "applies to border '%.200s', not '%.200s'", (long long)id,
                           iv->border, b->name);
        else if (!whole && !b->default_origin)
            rc = bt__error(s, BT_ERR_INVALID, "bt_border_before_after: intervention %lld "
                           "has a chainage range from the default origin; open border "
                           "'%.200s' with origin NULL", (long long)id, b->name);
        else if (!(a < z))
            rc = bt__error(s, BT_ERR_INVALID, "bt_border_before_after: intervention %lld: "
                           "chainage %g..%g lies beyond the end of border '%.200s' (%g m)",
                           (long long)id, iv->from_m, iv->to_m, b->name, b->length_m);
        else if (bt__ivec_push(tr, a, z) != BT_OK)
            rc = bt__error(s, BT_ERR_NOMEM, "before/after: out of memory");
    } else {
        rc = bt__chain_in_polygon(b, iv->area, iv->narea, tr);
        if (rc == BT_ERR_NOMEM)
            rc = bt__error(s, rc, "before/after: out of memory");
        else if (rc == BT_OK && bt__ivals_length(tr->v, tr->n, 0.0, b->length_m) <= 0.0)
            rc = bt__error(s, BT_ERR_INVALID, "bt_border_before_after: the area of "
                           "intervention %lld does not meet the main chain of border '%.200s'",
                           (long long)id, b->name);
    }
    bt_intervention_free(iv);
    return rc;
}

int bt_border_before_after(bt_store *store, const bt_border *b,
                           const bt_before_after_opts *opts, bt_before_after *out)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!b) return null_arg(store, "bt_border_before_after", "border");
    if (!opts) return null_arg(store, "bt_border_before_after", "opts");
    if (!out) return null_arg(store, "bt_border_before_after", "out");
    const bt_before_after_opts *o = opts;
    if (o->window_s <= 0)
        return bt__error(store, BT_ERR_INVALID, "bt_border_before_after: window_s must be > 0");
    if (!(o->max_offset_m > 0.0) || !isfinite(o->max_offset_m))
        return bt__error(store, BT_ERR_INVALID,
                         "bt_border_before_after: max_offset_m %g must be > 0", o->max_offset_m);
    if (o->installation_id != 0 && o->intervention_id != 0)
        return bt__error(store, BT_ERR_INVALID, "bt_border_before_after: give "
                         "installation_id or intervention_id, not both");
    int64_t t0 = o->t0;
    struct bt__ivec tr = {0};
    int rc = BT_OK;
    if (o->intervention_id != 0) {
        rc = intervention_stretch(store, b, o->intervention_id, &tr, &t0);
        if (rc != BT_OK) {
            bt__free(tr.v);
            return rc;
        }
    } else if (o->installation_id != 0) {
        bt_installation *in = NULL;
        rc = store->be->installation_get(store, o->installation_id, &in);
        if (rc != BT_OK) return rc;
        if (in->npoints < 2) {
            bt_installation_free(in);
            return bt__error(store, BT_ERR_INVALID,
                             "bt_border_before_after: installation %lld is a point, not a line",
                             (long long)o->installation_id);
        }
        if (t0 == INT64_MIN && in->start.precision != BT_TIME_NONE) t0 = in->start.t;
        rc = bt__cover_polyline(b, in->points, in->npoints, o->max_offset_m, 25.0, &tr);
        bt_installation_free(in);
        if (rc != BT_OK) {
            bt__free(tr.v);
            return bt__error(store, rc, "bt_border_before_after: locating installation %lld",
                             (long long)o->installation_id);
        }
    } else {
        double a = fmax(o->from_m, 0.0), z = fmin(o->to_m, b->length_m);
        if (!(a < z))
            return bt__error(store, BT_ERR_INVALID,
                             "bt_border_before_after: stretch %g..%g is empty; give "
                             "installation_id or from_m < to_m", o->from_m, o->to_m);
        if (bt__ivec_push(&tr, a, z) != BT_OK)
            return bt__error(store, BT_ERR_NOMEM, "before/after: out of memory");
    }
    if (t0 == INT64_MIN) {
        bt__free(tr.v);
        return bt__error(store, BT_ERR_INVALID,
                         "bt_border_before_after: no date: give t0, an intervention, or an "
                         "installation with a start date");
    }
    if (t0 < INT64_MIN + o->window_s || t0 > INT64_MAX - o->window_s) {
        bt__free(tr.v);
        return bt__error(store, BT_ERR_INVALID, "bt_border_before_after: t0 +- window overflows");
    }
    size_t ntr = bt__ivals_union(tr.v, tr.n);
    double tr_len = bt__ivals_length(tr.v, ntr, 0.0, b->length_m);

    /* fenced at the start of the before window or at the end of the after window */
    bt_coverage_opts co;
    bt_coverage_opts_init(&co);
    co.kinds = o->fence_kinds;
    co.point_kinds = 0;
    co.max_offset_m = o->max_offset_m;
    co.as_of = t0 - o->window_s;
    co.since = t0 + o->window_s;
    struct cov_ctx c = {0};
    c.b = b;
    c.o = &co;
    c.near_box = bt__grown_bbox(b, o->max_offset_m);
    struct inc_ctx ic = {0};
    struct bt__ival *ctl = NULL;
    rc = for_each_id(store, BT_TABLE_INSTALLATIONS, cov_install, &c);
    if (rc != BT_OK) goto done;
    /* control = the complement of (fenced | treated) */
    size_t nf = c.ntv + ntr;
    struct bt__ival *fv = bt__malloc((nf + 1) * sizeof *fv);
    ctl = bt__malloc((nf + 2) * sizeof *ctl);
    if (!fv || !ctl) {
        bt__free(fv);
        rc = bt__error(store, BT_ERR_NOMEM, "before/after: out of memory");
        goto done;
    }
    for (size_t i = 0; i < c.ntv; i++) fv[i] = (struct bt__ival){c.tv[i].a, c.tv[i].b};
    for (size_t i = 0; i < ntr; i++) fv[c.ntv + i] = tr.v[i];
    nf = bt__ivals_union(fv, nf);
    size_t nctl = 0;
    double pos = 0.0;
    for (size_t i = 0; i <= nf; i++) {
        double end = i < nf ? fmin(fv[i].a, b->length_m) : b->length_m;
        if (end > pos) ctl[nctl++] = (struct bt__ival){pos, end};
        if (i < nf && fv[i].b > pos) pos = fv[i].b;
    }
    bt__free(fv);

    ic.b = b;
    ic.max_offset_m = o->max_offset_m;
    ic.types = o->types;
    rc = scan_incidents(store, b, &ic, t0 - o->window_s, t0 + o->window_s - 1, NULL);
    if (rc != BT_OK) goto done;
    memset(out, 0, sizeof *out);
    out->t0 = t0;
    out->window_s = o->window_s;
    out->months = (double)o->window_s / (30.4375 * 86400.0);
    out->treated.length_m = tr_len;
    out->control.length_m = bt__ivals_length(ctl, nctl, 0.0, b->length_m);
    for (size_t i = 0; i < ic.n; i++) {
        const struct located *l = &ic.v[i];
        int w = l->t >= t0 - o->window_s && l->t < t0 ? 0
                : (l->t >= t0 && l->t < t0 + o->window_s ? 1 : -1);
        if (w < 0) continue; /* started before the windows, still going on in them */
        bt_ba_counts *k = in_ivals(tr.v, ntr, l->c) ? &out->treated
                          : (in_ivals(ctl, nctl, l->c) ? &out->control : NULL);
        if (!k) continue;
        if (w == 0) k->before++; else k->after++;
    }
    ba_rates(&out->treated, out->months);
    ba_rates(&out->control, out->months);
    out->diff_treated = out->treated.rate_after - out->treated.rate_before;
    out->diff_control = out->control.rate_after - out->control.rate_before;
    out->did = out->diff_treated - out->diff_control;
    /* no control: the NaNs above say so; a made-up baseline would not */
    out->control_empty = !(out->control.length_m > 0.0);
    rc = BT_OK;
done:
    bt__free(tr.v);
    bt__free(ctl);
    bt__free(c.tmp.v);
    bt__free(c.tv);
    bt__free(c.pc);
    inc_ctx_free(&ic);
    return rc;
}
