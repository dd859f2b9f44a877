/**
 * @file export.c
 * @brief Export of a whole table as GeoJSON, newline-delimited GeoJSON, CSV or KML,
 * with source redaction and optional generalisation of incident points; and the
 * bt_*_foreach iteration the export is built on.
 *
 * Every record becomes a flat list of named values (the properties of
 * docs/formats.md, in a fixed order per table); each format then writes that list its
 * own way. The same names are what records.c reads, which is what makes
 * import(export(x)) give back x.
 */
#include "io/io.h"

#include "store/backend.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/** Ids fetched per page while iterating a table. */
#define BT__PAGE 512

/* ---- iteration ---------------------------------------------------------------- */

/* Calls fn for every id of a table in order; fn returns BT_OK to go on, BT__STOP to
 * stop early, or an error. */
#define BT__STOP (-1)
typedef int (*id_fn)(bt_store *s, int64_t id, void *udata);

static int each_id(bt_store *s, bt_table table, id_fn fn, void *udata)
{
    int64_t ids[BT__PAGE];
    int64_t after = 0;
    for (;;) {
        size_t n = 0;
        int rc = s->be->ids_after(s, table, after, ids, BT__PAGE, &n);
        if (rc) return rc;
        for (size_t i = 0; i < n; i++) {
            rc = fn(s, ids[i], udata);
            if (rc == BT__STOP) return BT_OK;
            if (rc == BT_ERR_NOT_FOUND) continue; /* deleted by the callback meanwhile */
            if (rc) return rc;
        }
        if (n < BT__PAGE) return BT_OK;
        after = ids[n - 1];
    }
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Interventions are few (public acts) and the backend lists their ids in start order:
 * all of them are fetched and sorted, so that they are written by id like the rest. */
static int each_intervention(bt_store *s, id_fn fn, void *udata)
{
    int64_t *ids = NULL;
    size_t n = 0;
    int rc = s->be->intervention_ids(s, NULL, &ids, &n);
    if (rc) return rc;
    if (n) qsort(ids, n, sizeof *ids, cmp_id);
    for (size_t i = 0; i < n; i++) {
        rc = fn(s, ids[i], udata);
        if (rc == BT__STOP) {
            rc = BT_OK;
            break;
        }
        if (rc == BT_ERR_NOT_FOUND) rc = BT_OK; /* deleted meanwhile */
        if (rc) break;
    }
    bt__free(ids);
    return rc;
}

/* One adapter per record type: fetch, call, free. */
struct cb_seg { int (*cb)(const bt_segment *, void *); void *udata; };
struct cb_inst { int (*cb)(const bt_installation *, void *); void *udata; };
struct cb_inc { int (*cb)(const bt_incident *, void *); void *udata; };
struct cb_src { int (*cb)(const bt_source *, void *); void *udata; };
struct cb_place { int (*cb)(const bt_place *, void *); void *udata; };

static int seg_one(bt_store *s, int64_t id, void *u)
{
    struct cb_seg *c = u;
    bt_segment *r = NULL;
    int rc = s->be->segment_get(s, id, &r);
    if (rc) return rc;
    rc = c->cb(r, c->udata) ? BT__STOP : BT_OK;
    bt__free(r);
    return rc;
}
static int inst_one(bt_store *s, int64_t id, void *u)
{
    struct cb_inst *c = u;
    bt_installation *r = NULL;
    int rc = s->be->installation_get(s, id, &r);
    if (rc) return rc;
    rc = c->cb(r, c->udata) ? BT__STOP : BT_OK;
    bt__free(r);
    return rc;
}
static int inc_one(bt_store *s, int64_t id, void *u)
{
    struct cb_inc *c = u;
    bt_incident *r = NULL;
    int rc = s->be->incident_get(s, id, &r);
    if (rc) return rc;
    rc = c->cb(r, c->udata) ? BT__STOP : BT_OK;
    bt__free(r);
    return rc;
}
static int src_one(bt_store *s, int64_t id, void *u)
{
    struct cb_src *c = u;
    bt_source *r = NULL;
    int rc = s->be->source_get(s, id, &r);
    if (rc) return rc;
    rc = c->cb(r, c->udata) ? BT__STOP : BT_OK;
    bt__free(r);
    return rc;
}
static int place_one(bt_store *s, int64_t id, void *u)
{
    struct cb_place *c = u;
    bt_place *r = NULL;
    int rc = s->be->place_get(s, id, &r);
    if (rc) return rc;
    rc = c->cb(r, c->udata) ? BT__STOP : BT_OK;
    bt__free(r);
    return rc;
}

#define FOREACH_BODY(fname, table, ctype, fn)                                             \
    if (!store) return BT_ERR_INVALID;                                                    \
    bt__clear_error(store);                                                               \
    if (!cb) return bt__error(store, BT_ERR_INVALID, fname ": the callback is NULL");      \
    ctype c = {cb, udata};                                                                \
    return each_id(store, table, fn, &c)

int bt_segment_foreach(bt_store *store, int (*cb)(const bt_segment *seg, void *udata),
                       void *udata)
{
    FOREACH_BODY("bt_segment_foreach", BT_TABLE_BORDERS, struct cb_seg, seg_one);
}
int bt_installation_foreach(bt_store *store, int (*cb)(const bt_installation *inst, void *udata),
                            void *udata)
{
    FOREACH_BODY("bt_installation_foreach", BT_TABLE_INSTALLATIONS, struct cb_inst, inst_one);
}
int bt_incident_foreach(bt_store *store, int (*cb)(const bt_incident *inc, void *udata),
                        void *udata)
{
    FOREACH_BODY("bt_incident_foreach", BT_TABLE_INCIDENTS, struct cb_inc, inc_one);
}
int bt_source_foreach(bt_store *store, int (*cb)(const bt_source *src, void *udata),
                      void *udata)
{
    FOREACH_BODY("bt_source_foreach", BT_TABLE_SOURCES, struct cb_src, src_one);
}
int bt_place_foreach(bt_store *store, int (*cb)(const bt_place *place, void *udata),
                     void *udata)
{
    FOREACH_BODY("bt_place_foreach", BT_TABLE_PLACES, struct cb_place, place_one);
}

/* ---- the record as a list of named values -------------------------------------- */

enum pkind { P_ABSENT = 0, P_STR, P_RAW, P_NULL };

typedef struct prop {
    const char *key;
    enum pkind kind;
    const char *text; /* P_STR, P_RAW; for P_NULL the CSV text ("open"), or NULL */
} prop;

#define MAXPROPS 24

typedef struct rec {
    prop p[MAXPROPS];
    int n;
    char pool[2048]; /* formatted numbers and dates */
    size_t used;
    const char *id;          /* GeoJSON feature id (the ref), or NULL */
    const char *name;        /* KML placemark name */
    const char *description; /* KML description, or NULL */
    const bt_lonlat *pts;
    size_t npts;
    bool line;               /* LineString (else Point; npts 0: no geometry) */
    bool polygon;            /* a Polygon whose ring is pts (interventions) */
    bt_lonlat where;         /* storage for a generalised point */
    char *more;              /* more_sources JSON text (bt__malloc'd) */
} rec;

typedef struct exporter {
    bt_store *s;
    bt_export_options opt;
    bt_format fmt;
    bt__out out;
    struct bt__gen *gen;
    long nwritten;
    int err;        /* a store error while building a record */
    uint64_t total; /* records to write, for progress */
} exporter;

static void add(rec *r, const char *key, enum pkind kind, const char *text)
{
    if (r->n < MAXPROPS) {
        r->p[r->n].key = key;
        r->p[r->n].kind = text || kind == P_NULL ? kind : P_ABSENT;
        r->p[r->n].text = text;
        r->n++;
    }
}

/* Copies text into the record's pool. */
static const char *pooled(rec *r, const char *text)
{
    size_t n = strlen(text) + 1;
    if (r->used + n > sizeof r->pool) return NULL;
    char *d = r->pool + r->used;
    memcpy(d, text, n);
    r->used += n;
    return d;
}

static void add_enum(rec *r, const char *key, bt_enum which, int value)
{
    add(r, key, P_STR, bt_enum_name(which, value));
}

static void add_int(rec *r, const char *key, long long v)
{
    char b[32];
    snprintf(b, sizeof b, "%lld", v);
    add(r, key, P_RAW, pooled(r, b));
}

static void add_double(rec *r, const char *key, double v)
{
    if (!isfinite(v)) {
        add(r, key, P_ABSENT, NULL);
        return;
    }
    char b[40];
    bt__fmt_double(b, sizeof b, v);
    add(r, key, P_RAW, pooled(r, b));
}

/* A time at a precision, falling back to seconds when the text at that precision
 * would not give back exactly t (as its first second, or its last for an end). */
static void fmt_time(int64_t t, bt_time_precision prec, bool last, char *buf, size_t size)
{
    if (bt_time_format(t, prec, buf, size) < 0) {
        buf[0] = '\0';
        return;
    }
    int64_t f = 0, l = 0;
    if (prec == BT_TIME_SECOND || bt_time_parse(buf, &f, &l, NULL) != BT_OK ||
        (last ? l : f) != t)
        bt_time_format(t, BT_TIME_SECOND, buf, size);
}

static void add_date(rec *r, const char *key, bt_date d)
{
    if (d.precision == BT_TIME_NONE) {
        add(r, key, P_ABSENT, NULL);
        return;
    }
    char b[40];
    fmt_time(d.t, d.precision, false, b, sizeof b);
    add(r, key, P_STR, pooled(r, b));
}

static void add_rel(rec *r, const char *key, char rel)
{
    char b[2] = {rel, '\0'};
    add(r, key, P_STR, rel ? pooled(r, b) : NULL);
}

/* ---- per table ------------------------------------------------------------------- */

static int build_incident(exporter *e, const bt_incident *inc, rec *r)
{
    bt_store *s = e->s;
    char b[40];
    r->id = inc->ref;
    r->name = inc->ref;
    r->description = inc->summary;
    add(r, "ref", P_STR, inc->ref);
    add_enum(r, "type", BT_ENUM_INCIDENT_TYPE, (int)inc->type);
    fmt_time(inc->start, inc->time_precision, false, b, sizeof b);
    add(r, "start", P_STR, pooled(r, b));
    if (inc->end == BT_TIME_OPEN) {
        add(r, "end", P_NULL, "open");
    } else {
        fmt_time(inc->end, inc->time_precision, true, b, sizeof b);
        add(r, "end", P_STR, pooled(r, b));
    }
    add_enum(r, "time_precision", BT_ENUM_TIME_PRECISION, (int)inc->time_precision);
    add_enum(r, "location_precision", BT_ENUM_LOC_PRECISION, (int)inc->loc_precision);
    double unc = inc->uncertainty_m;
    r->where = inc->where;
    if (e->gen) {
        r->where = bt__gen_point(e->gen, inc->where);
        /* The point moved: its stated uncertainty grows by as much. */
        unc += bt__geod_dist(bt__gen_geod(e->gen), inc->where, r->where);
    }
    add_double(r, "uncertainty_m", unc);
    add_date(r, "reported", inc->reported);
    add(r, "summary", P_STR, inc->summary);
    add_enum(r, "verification", BT_ENUM_VERIFICATION, (int)inc->verification);
    r->pts = &r->where;
    r->npts = 1;

    bt_report_link *links = NULL;
    size_t nl = 0;
    int rc = s->be->link_list(s, inc->id, &links, &nl);
    if (rc) return rc;
    json_object *more = NULL;
    for (size_t i = 0; i < nl && !rc; i++) {
        bt_source *src = NULL;
        rc = s->be->source_get(s, links[i].source_id, &src);
        if (rc) break;
        if (i == 0) {
            /* The first link (lowest source id) as flat properties. */
            if (e->opt.include_sources) add(r, "source", P_STR, pooled(r, src->name));
            add_enum(r, "source_type", BT_ENUM_SOURCE_TYPE, (int)src->type);
            add_rel(r, "reliability", src->reliability);
            add_int(r, "credibility", links[i].credibility);
            /* written only when it differs from the incident's `reported` */
            if (links[i].reported.precision != inc->reported.precision ||
                (links[i].reported.precision != BT_TIME_NONE &&
                 links[i].reported.t != inc->reported.t)) {
                if (links[i].reported.precision == BT_TIME_NONE) add(r, "source_reported", P_NULL, NULL);
                else add_date(r, "source_reported", links[i].reported);
            }
            if (e->opt.include_sources && src->notes)
                add(r, "source_notes", P_STR, pooled(r, src->notes));
        } else {
            if (!more) more = json_object_new_array();
            json_object *o = json_object_new_object();
            if (!more || !o) {
                json_object_put(o);
                rc = BT_ERR_NOMEM;
            } else {
                if (e->opt.include_sources)
                    json_object_object_add(o, "source", json_object_new_string(src->name));
                json_object_object_add(o, "source_type", json_object_new_string(bt_enum_name(
                                                             BT_ENUM_SOURCE_TYPE, (int)src->type)));
                char rel[2] = {src->reliability, '\0'};
                json_object_object_add(o, "reliability", json_object_new_string(rel));
                json_object_object_add(o, "credibility", json_object_new_int(links[i].credibility));
                if (links[i].reported.precision != BT_TIME_NONE) {
                    fmt_time(links[i].reported.t, links[i].reported.precision, false, b, sizeof b);
                    json_object_object_add(o, "reported", json_object_new_string(b));
                } else {
                    json_object_object_add(o, "reported", NULL);
                }
                json_object_array_add(more, o);
            }
        }
        bt__free(src);
    }
    bt__free(links);
    if (more && !rc) {
        const char *t = json_object_to_json_string_ext(
            more, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        r->more = t ? bt__strdup(t) : NULL;
        if (!r->more) rc = BT_ERR_NOMEM;
        add(r, "more_sources", P_RAW, r->more);
    }
    json_object_put(more);
    if (rc == BT_ERR_NOMEM) return bt__error(s, rc, "export: out of memory");
    return rc;
}

static int build_installation(exporter *e, const bt_installation *in, rec *r)
{
    bt_store *s = e->s;
    r->id = in->ref;
    r->name = in->ref ? in->ref : bt_enum_name(BT_ENUM_INSTALL_KIND, (int)in->kind);
    r->description = in->condition;
    add(r, "ref", P_STR, in->ref);
    add_enum(r, "kind", BT_ENUM_INSTALL_KIND, (int)in->kind);
    add_enum(r, "layer", BT_ENUM_FENCE_LAYER, (int)in->layer);
    add_enum(r, "material", BT_ENUM_MATERIAL, (int)in->material);
    add_enum(r, "barbed", BT_ENUM_YESNO, (int)in->barbed);
    add_enum(r, "electrified", BT_ENUM_YESNO, (int)in->electrified);
    add_double(r, "height_m", in->height_m);
    add(r, "post_material", P_STR, in->post_material);
    add_enum(r, "quality", BT_ENUM_QUALITY, (int)in->quality);
    add_enum(r, "permanence", BT_ENUM_PERMANENCE, (int)in->permanence);
    add_enum(r, "status", BT_ENUM_INSTALL_STATUS, (int)in->status);
    add_date(r, "start", in->start);
    add_date(r, "end", in->end);
    add(r, "condition", P_STR, in->condition);
    add_enum(r, "observed_by", BT_ENUM_OBSERVATION, (int)in->observed_by);
    if (in->source_id) {
        bt_source *src = NULL;
        int rc = s->be->source_get(s, in->source_id, &src);
        if (rc) return rc;
        if (e->opt.include_sources) add(r, "source", P_STR, pooled(r, src->name));
        add_enum(r, "source_type", BT_ENUM_SOURCE_TYPE, (int)src->type);
        add_rel(r, "reliability", src->reliability);
        if (e->opt.include_sources && src->notes)
            add(r, "source_notes", P_STR, pooled(r, src->notes));
        bt__free(src);
    }
    if (in->credibility) add_int(r, "credibility", in->credibility);
    r->pts = in->points;
    r->npts = in->npoints;
    r->line = in->npoints > 1;
    return BT_OK;
}

static int build_segment(const bt_segment *seg, rec *r)
{
    r->name = seg->name;
    r->description = seg->river;
    add(r, "border", P_STR, seg->border);
    add(r, "name", P_STR, seg->name);
    add_int(r, "seq", seg->seq);
    add_enum(r, "kind", BT_ENUM_SEGMENT_KIND, (int)seg->kind);
    add(r, "river", P_STR, seg->river);
    r->pts = seg->points;
    r->npts = seg->npoints;
    r->line = true;
    return BT_OK;
}

static void build_source(const bt_source *src, rec *r)
{
    r->name = src->name;
    r->description = src->notes;
    add(r, "name", P_STR, src->name);
    add_enum(r, "type", BT_ENUM_SOURCE_TYPE, (int)src->type);
    add_rel(r, "reliability", src->reliability);
    add(r, "notes", P_STR, src->notes);
}

static void build_place(const bt_place *p, rec *r)
{
    r->name = p->name;
    add(r, "name", P_STR, p->name);
    add(r, "country", P_STR, p->country);
    add(r, "admin1", P_STR, p->admin1);
    r->where = p->where;
    r->pts = &r->where;
    r->npts = 1;
}

static void build_intervention(const bt_intervention *iv, rec *r)
{
    r->id = iv->ref;
    r->name = iv->name;
    r->description = iv->summary;
    add(r, "ref", P_STR, iv->ref);
    add(r, "name", P_STR, iv->name);
    add_enum(r, "kind", BT_ENUM_INTERVENTION_KIND, (int)iv->kind);
    add_date(r, "start", iv->start);
    add_date(r, "end", iv->end);
    add(r, "summary", P_STR, iv->summary);
    add(r, "citation", P_STR, iv->citation);
    add(r, "border", P_STR, iv->border);
    if (iv->border) {
        /* the defaults (0, to the far end) are left out */
        if (iv->from_m != 0) add_double(r, "from_m", iv->from_m);
        add_double(r, "to_m", iv->to_m); /* absent when INFINITY */
    }
    r->pts = iv->area;
    r->npts = iv->area ? iv->narea : 0;
    r->polygon = r->npts > 0;
}

/* CSV columns per table, in the order the builders add them (absent ones are empty). */
static const char *const csv_cols_incidents[] = {
    "ref", "type", "start", "end", "time_precision", "location_precision", "uncertainty_m",
    "reported", "summary", "verification", "source", "source_type", "reliability",
    "credibility", "source_reported", "source_notes", "more_sources", NULL};
static const char *const csv_cols_installations[] = {
    "ref", "kind", "layer", "material", "barbed", "electrified", "height_m", "post_material",
    "quality", "permanence", "status", "start", "end", "condition", "observed_by", "source",
    "source_type", "reliability", "source_notes", "credibility", NULL};
static const char *const csv_cols_borders[] = {"border", "name", "seq", "kind", "river", NULL};
static const char *const csv_cols_sources[] = {"name", "type", "reliability", "notes", NULL};
static const char *const csv_cols_places[] = {"name", "country", "admin1", NULL};
static const char *const csv_cols_interventions[] = {
    "ref", "name", "kind", "start", "end", "summary", "citation", "border", "from_m", "to_m",
    NULL};

static const char *const *csv_cols(bt_table t, bool include_sources)
{
    (void)include_sources;
    switch (t) {
    case BT_TABLE_BORDERS: return csv_cols_borders;
    case BT_TABLE_INSTALLATIONS: return csv_cols_installations;
    case BT_TABLE_INCIDENTS: return csv_cols_incidents;
    case BT_TABLE_SOURCES: return csv_cols_sources;
    case BT_TABLE_PLACES: return csv_cols_places;
    case BT_TABLE_INTERVENTIONS: return csv_cols_interventions;
    }
    return csv_cols_places;
}

/* Point tables get lon/lat columns, line and polygon tables a wkt column, sources
 * none. */
static int csv_geom(bt_table t)
{
    if (t == BT_TABLE_INCIDENTS || t == BT_TABLE_PLACES) return 1;
    if (t == BT_TABLE_SOURCES) return 0;
    return 2;
}

/* Is a column redacted in this export? (Redacted columns are left out entirely.) */
static bool redacted(const exporter *e, const char *col)
{
    return !e->opt.include_sources && (strcmp(col, "source") == 0 || strcmp(col, "source_notes") == 0);
}

/* ---- writers ------------------------------------------------------------------- */

static void write_coords(exporter *e, const rec *r, const char *sep, const char *open,
                         const char *close)
{
    bt__out *o = &e->out;
    for (size_t i = 0; i < r->npts; i++) {
        if (i) bt__out_str(o, sep);
        bt__out_str(o, open);
        bt__out_coord(o, r->pts[i].lon, e->opt.decimals);
        bt__out_bytes(o, ",", 1);
        bt__out_coord(o, r->pts[i].lat, e->opt.decimals);
        bt__out_str(o, close);
    }
}

static void write_geojson(exporter *e, const rec *r)
{
    bt__out *o = &e->out;
    if (e->fmt == BT_FORMAT_GEOJSON && e->nwritten > 0) bt__out_str(o, ",\n");
    bt__out_str(o, "{\"type\":\"Feature\"");
    if (r->id) {
        bt__out_str(o, ",\"id\":");
        bt__out_json_str(o, r->id);
    }
    bt__out_str(o, ",\"geometry\":");
    if (r->npts == 0) {
        bt__out_str(o, "null");
    } else if (r->polygon) {
        bt__out_str(o, "{\"type\":\"Polygon\",\"coordinates\":[[");
        write_coords(e, r, ",", "[", "]");
        bt__out_str(o, "]]}");
    } else if (!r->line) {
        bt__out_str(o, "{\"type\":\"Point\",\"coordinates\":");
        write_coords(e, r, ",", "[", "]");
        bt__out_str(o, "}");
    } else {
        bt__out_str(o, "{\"type\":\"LineString\",\"coordinates\":[");
        write_coords(e, r, ",", "[", "]");
        bt__out_str(o, "]}");
    }
    bt__out_str(o, ",\"properties\":{");
    bool first = true;
    for (int i = 0; i < r->n; i++) {
        const prop *p = &r->p[i];
        if (p->kind == P_ABSENT) continue;
        if (!first) bt__out_bytes(o, ",", 1);
        first = false;
        bt__out_json_str(o, p->key);
        bt__out_bytes(o, ":", 1);
        if (p->kind == P_STR) bt__out_json_str(o, p->text);
        else if (p->kind == P_RAW) bt__out_str(o, p->text);
        else bt__out_str(o, "null");
    }
    bt__out_str(o, "}}");
    if (e->fmt == BT_FORMAT_GEOJSONSEQ) bt__out_bytes(o, "\n", 1);
}

static const prop *find_prop(const rec *r, const char *key)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->p[i].key, key) == 0) return &r->p[i];
    return NULL;
}

static void write_csv_header(exporter *e)
{
    bt__out *o = &e->out;
    const char *const *cols = csv_cols(e->opt.table, e->opt.include_sources);
    bool first = true;
    for (size_t i = 0; cols[i]; i++) {
        if (redacted(e, cols[i])) continue;
        if (!first) bt__out_bytes(o, ",", 1);
        first = false;
        bt__out_str(o, cols[i]);
    }
    int g = csv_geom(e->opt.table);
    if (g == 1) bt__out_str(o, ",lon,lat");
    if (g == 2) bt__out_str(o, ",wkt");
    bt__out_str(o, "\r\n");
}

static void write_csv(exporter *e, const rec *r)
{
    bt__out *o = &e->out;
    const char *const *cols = csv_cols(e->opt.table, e->opt.include_sources);
    bool first = true;
    for (size_t i = 0; cols[i]; i++) {
        if (redacted(e, cols[i])) continue;
        if (!first) bt__out_bytes(o, ",", 1);
        first = false;
        const prop *p = find_prop(r, cols[i]);
        if (p && p->kind != P_ABSENT && p->text) bt__out_csv(o, p->text);
    }
    int g = csv_geom(e->opt.table);
    if (g == 1) {
        bt__out_bytes(o, ",", 1);
        bt__out_coord(o, r->pts[0].lon, e->opt.decimals);
        bt__out_bytes(o, ",", 1);
        bt__out_coord(o, r->pts[0].lat, e->opt.decimals);
    } else if (g == 2 && r->npts == 0) {
        bt__out_bytes(o, ",", 1); /* an intervention of a border: no geometry */
    } else if (g == 2) {
        /* WKT has spaces and commas: always quoted. */
        bt__out_str(o, r->polygon ? ",\"POLYGON((" : r->line ? ",\"LINESTRING(" : ",\"POINT(");
        for (size_t i = 0; i < r->npts; i++) {
            if (i) bt__out_bytes(o, ",", 1);
            bt__out_coord(o, r->pts[i].lon, e->opt.decimals);
            bt__out_bytes(o, " ", 1);
            bt__out_coord(o, r->pts[i].lat, e->opt.decimals);
        }
        bt__out_str(o, r->polygon ? "))\"" : ")\"");
    }
    bt__out_str(o, "\r\n");
}

static void write_kml(exporter *e, const rec *r)
{
    bt__out *o = &e->out;
    bt__out_str(o, "<Placemark><name>");
    bt__out_xml(o, r->name ? r->name : "");
    bt__out_str(o, "</name>");
    if (r->description) {
        bt__out_str(o, "<description>");
        bt__out_xml(o, r->description);
        bt__out_str(o, "</description>");
    }
    bt__out_str(o, "<ExtendedData>");
    for (int i = 0; i < r->n; i++) {
        const prop *p = &r->p[i];
        if (p->kind == P_ABSENT || (p->kind == P_NULL && !p->text)) continue;
        bt__out_str(o, "<Data name=\"");
        bt__out_xml(o, p->key);
        bt__out_str(o, "\"><value>");
        bt__out_xml(o, p->text);
        bt__out_str(o, "</value></Data>");
    }
    bt__out_str(o, "</ExtendedData>");
    if (r->polygon) {
        bt__out_str(o, "<Polygon><tessellate>1</tessellate><outerBoundaryIs><LinearRing>"
                       "<coordinates>");
        write_coords(e, r, " ", "", "");
        bt__out_str(o, "</coordinates></LinearRing></outerBoundaryIs></Polygon>");
    } else if (r->npts == 1 && !r->line) {
        bt__out_str(o, "<Point><coordinates>");
        write_coords(e, r, " ", "", "");
        bt__out_str(o, "</coordinates></Point>");
    } else if (r->npts > 1) {
        bt__out_str(o, "<LineString><tessellate>1</tessellate><coordinates>");
        write_coords(e, r, " ", "", "");
        bt__out_str(o, "</coordinates></LineString>");
    }
    bt__out_str(o, "</Placemark>\n");
}

static void write_rec(exporter *e, const rec *r)
{
    switch (e->fmt) {
    case BT_FORMAT_CSV: write_csv(e, r); break;
    case BT_FORMAT_KML: write_kml(e, r); break;
    default: write_geojson(e, r); break;
    }
    e->nwritten++;
}

static int export_one(bt_store *s, int64_t id, void *udata)
{
    exporter *e = udata;
    rec r;
    memset(&r, 0, sizeof r);
    int rc = BT_OK;
    switch (e->opt.table) {
    case BT_TABLE_INCIDENTS: {
        bt_incident *x = NULL;
        rc = s->be->incident_get(s, id, &x);
        if (!rc) rc = build_incident(e, x, &r);
        if (!rc) write_rec(e, &r);
        bt__free(x);
        break;
    }
    case BT_TABLE_INSTALLATIONS: {
        bt_installation *x = NULL;
        rc = s->be->installation_get(s, id, &x);
        if (!rc) rc = build_installation(e, x, &r);
        if (!rc) write_rec(e, &r);
        bt__free(x);
        break;
    }
    case BT_TABLE_BORDERS: {
        bt_segment *x = NULL;
        rc = s->be->segment_get(s, id, &x);
        if (!rc) rc = build_segment(x, &r);
        if (!rc) write_rec(e, &r);
        bt__free(x);
        break;
    }
    case BT_TABLE_SOURCES: {
        bt_source *x = NULL;
        rc = s->be->source_get(s, id, &x);
        if (!rc) build_source(x, &r);
        if (!rc) write_rec(e, &r);
        bt__free(x);
        break;
    }
    case BT_TABLE_PLACES: {
        bt_place *x = NULL;
        rc = s->be->place_get(s, id, &x);
        if (!rc) build_place(x, &r);
        if (!rc) write_rec(e, &r);
        bt__free(x);
        break;
    }
    case BT_TABLE_INTERVENTIONS: {
        bt_intervention *x = NULL;
        rc = s->be->intervention_get(s, id, &x);
        if (!rc) build_intervention(x, &r);
        if (!rc) write_rec(e, &r);
        bt_intervention_free(x);
        break;
    }
    }
    bt__free(r.more);
    if (!rc && r.used > sizeof r.pool - 1)
        rc = bt__error(s, BT_ERR_INTERNAL, "export: record %lld too large", (long long)id);
    if (!rc && e->out.err) rc = e->out.err;
    return rc;
}

/* ---- progress and filters ------------------------------------------------------- */

/* Tells the caller's progress callback how far the export is; non-zero cancels. The
 * total grows if another connection added records since it was counted; the last call
 * gives done == total even when some counted record was deleted meanwhile. */
static int report_progress(exporter *e, uint64_t done, bool last)
{
    if (done > e->total) e->total = done;
    if (last) done = e->total;
    if (e->opt.progress(done, e->total, e->opt.progress_udata) != 0)
        return bt__error(e->s, BT_ERR_CANCELLED,
                         "export: cancelled by the caller after %llu records",
                         (unsigned long long)done);
    return BT_OK;
}

/* Writes one record, and reports progress every BT_PROGRESS_EVERY records (a count,
 * not a clock: no record pays for a time look-up). */
static int export_step(bt_store *s, int64_t id, void *udata)
{
    exporter *e = udata;
    int rc = export_one(s, id, udata);
    if (rc || !e->opt.progress || e->nwritten % BT_PROGRESS_EVERY != 0) return rc;
    return report_progress(e, (uint64_t)e->nwritten, false);
}

/* The ids a filter selects, collected first so that the records are read and written
 * after the query has finished with the store. */
typedef struct idlist {
    int64_t *ids;
    size_t n, cap;
    bool nomem;
} idlist;

static int idlist_add(idlist *l, int64_t id)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 256;
        int64_t *p = bt__realloc(l->ids, ncap * sizeof *p);
        if (!p) {
            l->nomem = true;
            return 1;
        }
        l->ids = p;
        l->cap = ncap;
    }
    l->ids[l->n++] = id;
    return 0;
}

static int collect_inst(const bt_installation *inst, double distance_m, void *udata)
{
    (void)distance_m;
    return idlist_add(udata, inst->id);
}

static int collect_seg(const bt_segment *seg, double distance_m, void *udata)
{
    (void)distance_m;
    return idlist_add(udata, seg->id);
}

/* Runs the export's filter through the query API. */
static int filter_ids(exporter *e, idlist *l)
{
    bt_store *s = e->s;
    int rc = BT_OK;
    if (e->opt.table == BT_TABLE_INCIDENTS) {
        bt_hit *hits = NULL;
        size_t n = 0;
        rc = bt_incident_query_all(s, e->opt.filter, &hits, &n);
        if (!rc && n) {
            l->ids = bt__malloc(n * sizeof *l->ids);
            if (!l->ids) rc = BT_ERR_NOMEM;
            for (size_t i = 0; !rc && i < n; i++) l->ids[i] = hits[i].id;
            if (!rc) l->n = l->cap = n;
        }
        bt_hits_free(hits);
    } else if (e->opt.table == BT_TABLE_INSTALLATIONS) {
        rc = bt_installation_query(s, e->opt.filter, collect_inst, l);
    } else {
        rc = bt_segment_query(s, e->opt.filter, collect_seg, l);
    }
    if (!rc && l->nomem) rc = BT_ERR_NOMEM;
    if (rc == BT_ERR_NOMEM) return bt__error(s, rc, "export: out of memory");
    if (rc) {
        char msg[BT_ERRMSG_SIZE];
        snprintf(msg, sizeof msg, "%s", s->errmsg);
        return bt__error(s, rc, "export: the filter: %s", msg);
    }
    return BT_OK;
}

static uint64_t table_count(const bt_counts *c, bt_table t)
{
    switch (t) {
    case BT_TABLE_BORDERS: return (uint64_t)c->segments;
    case BT_TABLE_INSTALLATIONS: return (uint64_t)c->installations;
    case BT_TABLE_INCIDENTS: return (uint64_t)c->incidents;
    case BT_TABLE_SOURCES: return (uint64_t)c->sources;
    case BT_TABLE_PLACES: return (uint64_t)c->places;
    case BT_TABLE_INTERVENTIONS: return (uint64_t)c->interventions;
    }
    return 0;
}

void bt_export_options_init(bt_export_options *opt)
{
    if (!opt) return;
    memset(opt, 0, sizeof *opt);
    opt->table = BT_TABLE_INCIDENTS;
    opt->format = BT_FORMAT_AUTO;
    opt->decimals = 7;
}

static int export_run(bt_store *s, bt_write_fn write, void *udata, const bt_export_options *opt,
                      bt_format fmt)
{
    exporter e;
    memset(&e, 0, sizeof e);
    e.s = s;
    if (opt) e.opt = *opt;
    else bt_export_options_init(&e.opt);
    e.fmt = fmt == BT_FORMAT_AUTO ? BT_FORMAT_GEOJSON : fmt;
    const char *tname = bt_table_name(e.opt.table);
    if (!tname) return bt__error(s, BT_ERR_INVALID, "export: unknown table %d", (int)e.opt.table);
    if ((int)e.fmt < 0 || e.fmt > BT_FORMAT_KML)
        return bt__error(s, BT_ERR_INVALID, "export: unknown format %d", (int)e.fmt);
    if (e.opt.decimals < 0 || e.opt.decimals > 7)
        return bt__error(s, BT_ERR_INVALID, "export: decimals is %d; expected 0..7", e.opt.decimals);
    if (!(e.opt.generalise_m >= 0) || !isfinite(e.opt.generalise_m))
        return bt__error(s, BT_ERR_INVALID, "export: generalise_m must be a finite number >= 0");
    if (e.opt.table == BT_TABLE_SOURCES && !e.opt.include_sources)
        return bt__error(s, BT_ERR_INVALID,
                         "export: the sources table holds identities; it is exported only "
                         "with include_sources");
    if (e.opt.table == BT_TABLE_SOURCES && e.fmt == BT_FORMAT_KML)
        return bt__error(s, BT_ERR_INVALID, "export: sources have no location to put in KML");
    if (e.opt.filter && (e.opt.table == BT_TABLE_SOURCES || e.opt.table == BT_TABLE_PLACES ||
                         e.opt.table == BT_TABLE_INTERVENTIONS))
        return bt__error(s, BT_ERR_INVALID,
                         "export: a filter applies to incidents, installations and borders "
                         "only; the %s table takes none",
                         tname);
    e.out.write = write;
    e.out.udata = udata;
    int rc = BT_OK;
    idlist sel = {NULL, 0, 0, false};
    if (e.opt.filter) {
        rc = filter_ids(&e, &sel);
        e.total = sel.n;
    } else if (e.opt.progress) {
        bt_counts c;
        rc = s->be->count(s, &c);
        if (!rc) e.total = table_count(&c, e.opt.table);
    }
    if (!rc && e.opt.table == BT_TABLE_INCIDENTS && e.opt.generalise_m > 0)
        rc = bt__gen_open(s, e.opt.generalise_m, &e.gen);
    if (!rc && e.opt.progress) rc = report_progress(&e, 0, false);
    if (rc) {
        bt__free(sel.ids);
        return rc;
    }

    bt__out *o = &e.out;
    if (e.fmt == BT_FORMAT_GEOJSON) {
        bt__out_str(o, "{\"type\":\"FeatureCollection\",\"name\":\"");
        bt__out_str(o, tname);
        bt__out_str(o, "\",\"features\":[\n");
    } else if (e.fmt == BT_FORMAT_CSV) {
        write_csv_header(&e);
    } else if (e.fmt == BT_FORMAT_KML) {
        bt__out_str(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<kml xmlns=\"http://www.opengis.net/kml/2.2\"><Document><name>");
        bt__out_str(o, tname);
        bt__out_str(o, "</name>\n");
    }
    if (e.opt.filter) {
        for (size_t i = 0; !rc && i < sel.n; i++) {
            rc = export_step(s, sel.ids[i], &e);
            if (rc == BT_ERR_NOT_FOUND) rc = BT_OK; /* deleted meanwhile */
        }
    } else if (e.opt.table == BT_TABLE_INTERVENTIONS) {
        rc = each_intervention(s, export_step, &e);
    } else {
        rc = each_id(s, e.opt.table, export_step, &e);
    }
    if (!rc) {
        if (e.fmt == BT_FORMAT_GEOJSON) bt__out_str(o, "\n]}\n");
        else if (e.fmt == BT_FORMAT_KML) bt__out_str(o, "</Document></kml>\n");
        bt__out_flush(o);
        rc = o->err;
    }
    /* The last call has done == total (before the caller gets BT_OK). */
    if (!rc && e.opt.progress) rc = report_progress(&e, (uint64_t)e.nwritten, true);
    if (rc == BT_ERR_NOMEM && !s->errmsg[0]) bt__error(s, rc, "export: out of memory");
    if (rc == BT_ERR_IO && !s->errmsg[0]) bt__error(s, rc, "export: the writer failed");
    if (rc == BT_ERR_INTERNAL && !s->errmsg[0]) bt__error(s, rc, "export: formatting failed");
    bt__free(o->buf);
    bt__free(sel.ids);
    bt__gen_close(e.gen);
    return rc;
}

int bt_export_write(bt_store *store, bt_write_fn write, void *udata, const bt_export_options *opt)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!write) return bt__error(store, BT_ERR_INVALID, "bt_export_write: write is NULL");
    return export_run(store, write, udata, opt, opt ? opt->format : BT_FORMAT_AUTO);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

struct file_sink {
    FILE *fp;
    int err;
};

static int file_write(const void *buf, size_t n, void *udata)
{
    struct file_sink *fs = udata;
    if (fwrite(buf, 1, n, fs->fp) != n) {
        fs->err = errno;
        return 1;
    }
    return 0;
}

int bt_export_file(bt_store *store, const char *path, const bt_export_options *opt)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!path) return bt__error(store, BT_ERR_INVALID, "bt_export_file: path is NULL");
    bt_format fmt = opt ? opt->format : BT_FORMAT_AUTO;
    if (fmt == BT_FORMAT_AUTO) {
        if (ends_with(path, ".geojson") || ends_with(path, ".json")) fmt = BT_FORMAT_GEOJSON;
        else if (ends_with(path, ".geojsonl") || ends_with(path, ".geojsons") ||
                 ends_with(path, ".geojsonseq") || ends_with(path, ".ndjson") ||
                 ends_with(path, ".jsonl"))
            fmt = BT_FORMAT_GEOJSONSEQ;
        else if (ends_with(path, ".csv")) fmt = BT_FORMAT_CSV;
        else if (ends_with(path, ".kml")) fmt = BT_FORMAT_KML;
        else
            return bt__error(store, BT_ERR_INVALID,
                             "export %s: cannot tell the format from the extension (use "
                             ".geojson, .geojsonl, .csv or .kml, or set the format)",
                             path);
    }
    struct file_sink fs = {fopen(path, "wb"), 0};
    if (!fs.fp)
        return bt__error(store, errno == EACCES || errno == EROFS ? BT_ERR_READONLY : BT_ERR_IO,
                         "export: cannot create %s: %s", path, strerror(errno));
    int rc = export_run(store, file_write, &fs, opt, fmt);
    if (fclose(fs.fp) != 0 && !rc) {
        fs.err = errno;
        rc = BT_ERR_IO;
    }
    if (rc == BT_ERR_IO && fs.err)
        bt__error(store, rc, "export: writing %s: %s", path, strerror(fs.err));
    if (rc) unlink(path);
    return rc;
}
