/**
 * @file records.c
 * @brief Turns one imported feature (GeoJSON or CSV, see io.h) into a record of the
 * chosen table and adds it through the public API, checking each property first so
 * that a bad value is reported with its file position and the list of what is valid.
 *
 * The property names and their meaning are specified in docs/formats.md; keep the two
 * in step.
 */
#include "io/io.h"

#include <ctype.h>
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/** Running seq of a border within one import, for segments without a `seq`. */
struct bt__seqctr {
    struct bt__seqctr *next;
    int next_seq;
    char border[]; /* flexible array: the border name */
};

void bt__records_forget_sources(bt__import *im)
{
    for (unsigned i = 0; i < BT__SRC_CACHE; i++) {
        bt__free(im->srcs[i].name);
        im->srcs[i].name = NULL;
    }
}

void bt__records_free(bt__import *im)
{
    bt__records_forget_sources(im);
    struct bt__seqctr *c = im->seqs;
    while (c) {
        struct bt__seqctr *n = c->next;
        bt__free(c);
        c = n;
    }
    im->seqs = NULL;
}

#define FAIL(im, f, field, code, ...) bt__import_fail((im), (f), (field), (code), __VA_ARGS__)

/* What a property is called in messages: "property" in GeoJSON, "column" in CSV. */
static const char *pname(const bt__feature *f) { return f->csv ? "column" : "property"; }

/* Quotes a value for a message: at most 60 bytes, so a huge value does not flood it. */
static const char *shown(const char *v, char *buf, size_t size)
{
    size_t n = strlen(v);
    if (n < 60) return v;
    snprintf(buf, size, "%.56s...", v);
    return buf;
}

/* ---- typed property readers ------------------------------------------------ */

/* A string property; numbers are accepted as their text (a ref like 17). *out is
 * NULL when absent, null or empty. */
static int get_str(bt__import *im, bt__feature *f, const char *key, bool required,
                   const char **out)
{
    bt__val v;
    f->get(f, key, &v);
    *out = NULL;
    if (v.kind == BT__V_STRING || v.kind == BT__V_NUMBER) {
        *out = v.str && v.str[0] ? v.str : NULL;
    } else if (v.kind == BT__V_BOOL || v.kind == BT__V_OTHER) {
        return FAIL(im, f, key, BT_ERR_INVALID, "%s '%s' must be a string", pname(f), key);
    }
    if (required && !*out)
        return FAIL(im, f, key, BT_ERR_INVALID, "%s '%s' is missing", pname(f), key);
    return BT_OK;
}

/* Lists the names of an enumeration for a message: "a, b or c". */
static void enum_list(bt_enum which, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    const char *names[32];
    int n = 0;
    for (int v = 0; v < 32; v++) {
        const char *nm = bt_enum_name(which, v);
        if (!nm) break;
        names[n++] = nm;
    }
    for (int i = 0; i < n && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ",
                         names[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
}

static int get_enum(bt__import *im, bt__feature *f, const char *key, bt_enum which,
                    int dflt, int *out)
{
    const char *s;
    int rc = get_str(im, f, key, false, &s);
    if (rc) return rc;
    *out = dflt;
    if (!s) return BT_OK;
    if (bt_enum_parse(which, s, out) == BT_OK) return BT_OK;
    char list[400], b[64];
    enum_list(which, list, sizeof list);
    return FAIL(im, f, key, BT_ERR_INVALID, "%s '%s' is '%s'; expected %s", pname(f), key,
                shown(s, b, sizeof b), list);
}

/* A number; CSV text is parsed (the whole field must be a number). */
static int get_num(bt__import *im, bt__feature *f, const char *key, bool *present,
                   double *out)
{
    bt__val v;
    f->get(f, key, &v);
    *present = false;
    if (v.kind == BT__V_ABSENT || v.kind == BT__V_NULL) return BT_OK;
    if (v.kind == BT__V_NUMBER) {
        *out = v.num;
    } else if (v.kind == BT__V_STRING && v.str[0]) {
        char *end;
        *out = strtod(v.str, &end);
        if (*end != '\0' || end == v.str || !isfinite(*out)) {
            char b[64];
            return FAIL(im, f, key, BT_ERR_INVALID, "%s '%s' is '%s'; expected a number",
                        pname(f), key, shown(v.str, b, sizeof b));
        }
    } else if (v.kind == BT__V_STRING) {
        return BT_OK; /* empty */
    } else {
        return FAIL(im, f, key, BT_ERR_INVALID, "%s '%s' must be a number", pname(f), key);
    }
    *present = true;
    return BT_OK;
}

/* An integer in [lo, hi]; 0 when absent (callers give the default). */
static int get_int(bt__import *im, bt__feature *f, const char *key, int lo, int hi,
                   bool *present, int *out)
{
    double d = 0;
    int rc = get_num(im, f, key, present, &d);
    if (rc || !*present) return rc;
    if (d != floor(d) || d < lo || d > hi) {
        bt__val v;
        f->get(f, key, &v);
        char b[64];
        return FAIL(im, f, key, BT_ERR_INVALID, "%s '%s' is %s; expected %d-%d", pname(f), key,
                    shown(v.str ? v.str : "?", b, sizeof b), lo, hi);
    }
    *out = (int)d;
    return BT_OK;
}

/* Admiralty source reliability 'A'..'F' (lower case accepted). */
static int get_reliability(bt__import *im, bt__feature *f, const char *key, char dflt,
                           char *out)
{
    const char *s;
    int rc = get_str(im, f, key, false, &s);
    if (rc) return rc;
    *out = dflt;
    if (!s) return BT_OK;
    char c = (char)toupper((unsigned char)s[0]);
    if (s[1] != '\0' || c < 'A' || c > 'F') {
        char b[64];
        return FAIL(im, f, key, BT_ERR_INVALID, "%s '%s' is '%s'; expected A-F", pname(f), key,
                    shown(s, b, sizeof b));
    }
    *out = c;
    return BT_OK;
}

/* A date or timestamp; *present false when absent. */
static int get_date(bt__import *im, bt__feature *f, const char *key, bool *present,
                    int64_t *first, int64_t *last, bt_time_precision *prec)
{
    const char *s;
    int rc = get_str(im, f, key, false, &s);
    *present = false;
    if (rc || !s) return rc;
    if (bt_time_parse(s, first, last, prec) != BT_OK) {
        char b[64];
        return FAIL(im, f, key, BT_ERR_PARSE,
                    "%s '%s' is '%s'; expected an ISO 8601 date (YYYY, YYYY-MM, YYYY-MM-DD) "
                    "or timestamp",
                    pname(f), key, shown(s, b, sizeof b));
    }
    *present = true;
    return BT_OK;
}

static int get_bt_date(bt__import *im, bt__feature *f, const char *key, bt_date *out)
{
    bool present;
    int64_t first = 0, last = 0;
    bt_time_precision prec = BT_TIME_NONE;
    int rc = get_date(im, f, key, &present, &first, &last, &prec);
    out->t = present ? first : 0;
    out->precision = present ? prec : BT_TIME_NONE;
    return rc;
}

/* Yes/no/unknown: a JSON boolean, or one of the names (also "true"/"false"). */
static int get_yesno(bt__import *im, bt__feature *f, const char *key, bt_yesno *out)
{
    bt__val v;
    f->get(f, key, &v);
    *out = BT_UNKNOWN;
    if (v.kind == BT__V_BOOL) {
        *out = v.b ? BT_YES : BT_NO;
        return BT_OK;
    }
    const char *s;
    int rc = get_str(im, f, key, false, &s);
    if (rc || !s) return rc;
    if (strcmp(s, "true") == 0) {
        *out = BT_YES;
        return BT_OK;
    }
    if (strcmp(s, "false") == 0) {
        *out = BT_NO;
        return BT_OK;
    }
    int x;
    rc = get_enum(im, f, key, BT_ENUM_YESNO, BT_UNKNOWN, &x);
    *out = (bt_yesno)x;
    return rc;
}

/* The record's ref: the `ref` property, else the feature id (GeoJSON) or `id` column. */
static int get_ref(bt__import *im, bt__feature *f, bool required, const char **out)
{
    int rc = get_str(im, f, "ref", false, out);
    if (rc || *out) return rc;
    if (f->id.kind == BT__V_STRING || f->id.kind == BT__V_NUMBER) {
        *out = f->id.str && f->id.str[0] ? f->id.str : NULL;
    } else if (f->csv) {
        rc = get_str(im, f, "id", false, out);
        if (rc) return rc;
    }
    if (required && !*out)
        return FAIL(im, f, "ref", BT_ERR_INVALID, "%s 'ref' is missing (or give the feature an 'id')",
                    pname(f));
    return BT_OK;
}

/* ---- coordinates ----------------------------------------------------------- */

static int check_points(bt__import *im, bt__feature *f)
{
    for (size_t i = 0; i < f->npts; i++) {
        bt_lonlat p = f->pts[i];
        if (!(p.lon >= -180 && p.lon <= 180) || !(p.lat >= -90 && p.lat <= 90))
            return FAIL(im, f, "geometry", BT_ERR_INVALID,
                        "geometry: position %zu (%.7g, %.7g) is outside lon -180..180, "
                        "lat -90..90%s",
                        i + 1, p.lon, p.lat,
                        im->crs ? " after the CRS transform" : " (is a CRS missing?)");
    }
    return BT_OK;
}

static int need_point(bt__import *im, bt__feature *f)
{
    if (f->gtype != BT__G_POINT)
        return FAIL(im, f, "geometry", BT_ERR_INVALID, "geometry: expected a Point, got %s",
                    f->gtype == BT__G_NONE      ? "none"
                    : f->gtype == BT__G_POLYGON ? "a Polygon"
                                                : "a line");
    return BT_OK;
}

/* Copies the add function's message and wraps it with the file position. */
static int wrap(bt__import *im, bt__feature *f, int rc)
{
    char msg[BT_ERRMSG_SIZE];
    snprintf(msg, sizeof msg, "%s", bt_store_errmsg(im->s));
    return FAIL(im, f, NULL, rc, "%s", msg);
}

/* ---- sources --------------------------------------------------------------- */

/* Finds the source by name or creates it with the given type and reliability. */
static int source_id_for(bt__import *im, bt__feature *f, const char *name, bt_source_type type,
                         char reliability, const char *notes, int64_t *id)
{
    for (unsigned i = 0; i < BT__SRC_CACHE; i++) {
        if (im->srcs[i].name && strcmp(im->srcs[i].name, name) == 0) {
            *id = im->srcs[i].id;
            return BT_OK;
        }
    }
    int rc = bt_source_find(im->s, name, id);
    if (rc != BT_OK && rc != BT_ERR_NOT_FOUND) return wrap(im, f, rc);
    if (rc == BT_ERR_NOT_FOUND) {
        bt_source src = {0, name, type, reliability, notes};
        rc = bt_source_add(im->s, &src, id);
        if (rc) return wrap(im, f, rc);
        /* (the rows after this one must not commit alone: see bt__import_check_txn) */
        if ((rc = bt__import_check_txn(im, f)) != BT_OK) return rc;
        im->rep.sources_added++;
    }
    /* Remember it (a failed copy only costs a look-up next time). */
    unsigned slot = im->srcs_next++ % BT__SRC_CACHE;
    bt__free(im->srcs[slot].name);
    im->srcs[slot].name = bt__strdup(name);
    im->srcs[slot].id = *id;
    return BT_OK;
}

/* The flat source properties of a feature. */
typedef struct src_props {
    const char *name, *notes;
    int type;
    char reliability;
    int credibility; /* 0 when absent */
} src_props;

static int get_src_props(bt__import *im, bt__feature *f, src_props *sp)
{
    bool present;
    int rc = get_str(im, f, "source", false, &sp->name);
    if (!rc) rc = get_enum(im, f, "source_type", BT_ENUM_SOURCE_TYPE, BT_SOURCE_UNKNOWN, &sp->type);
    if (!rc) rc = get_reliability(im, f, "reliability", 'F', &sp->reliability);
    sp->credibility = 0;
    if (!rc) rc = get_int(im, f, "credibility", 1, 6, &present, &sp->credibility);
    if (!rc) rc = get_str(im, f, "source_notes", false, &sp->notes);
    return rc;
}

/* ---- one record per table ---------------------------------------------------- */

static int add_incident(bt__import *im, bt__feature *f)
{
    bt_incident inc;
    bt_incident_init(&inc);
    int rc = get_ref(im, f, true, &inc.ref);
    int x = 0;
    bool present = false;
    if (!rc) {
        bt__val v;
        f->get(f, "type", &v);
        if (v.kind == BT__V_ABSENT || v.kind == BT__V_NULL)
            rc = FAIL(im, f, "type", BT_ERR_INVALID, "%s 'type' is missing", pname(f));
    }
    if (!rc) rc = get_enum(im, f, "type", BT_ENUM_INCIDENT_TYPE, BT_INCIDENT_OTHER, &x);
    inc.type = (bt_incident_type)x;
    if (!rc) rc = need_point(im, f);
    if (!rc) rc = check_points(im, f);
    if (!rc) inc.where = f->pts[0];
    double u = 0;
    if (!rc) rc = get_num(im, f, "uncertainty_m", &present, &u);
    if (!rc && present) {
        if (u < 0) {
            bt__val v;
            f->get(f, "uncertainty_m", &v);
            rc = FAIL(im, f, "uncertainty_m", BT_ERR_INVALID, "%s 'uncertainty_m' is %s; expected >= 0",
                      pname(f), v.str ? v.str : "negative");
        }
        inc.uncertainty_m = u;
    }
    if (!rc) rc = get_enum(im, f, "location_precision", BT_ENUM_LOC_PRECISION, BT_LOC_EXACT, &x);
    inc.loc_precision = (bt_loc_precision)x;
    int64_t sfirst = 0, slast = 0;
    bt_time_precision sprec = BT_TIME_NONE;
    if (!rc) rc = get_date(im, f, "start", &present, &sfirst, &slast, &sprec);
    if (!rc && !present) rc = FAIL(im, f, "start", BT_ERR_INVALID, "%s 'start' is missing", pname(f));
    inc.start = sfirst;
    inc.time_precision = sprec;
    if (!rc) {
        /* end: absent = within the period `start` names; null, "" or "open" = still
         * going on; a date = the last second of the period it names. */
        bt__val v;
        f->get(f, "end", &v);
        if (v.kind == BT__V_ABSENT) {
            inc.end = slast;
        } else if (v.kind == BT__V_NULL || (v.kind == BT__V_STRING && strcmp(v.str, "open") == 0)) {
            inc.end = BT_TIME_OPEN;
        } else {
            int64_t ef = 0, el = 0;
            bt_time_precision ep;
            rc = get_date(im, f, "end", &present, &ef, &el, &ep);
            inc.end = present ? el : BT_TIME_OPEN;
            if (!rc && present && el < sfirst)
                rc = FAIL(im, f, "end", BT_ERR_INVALID, "%s 'end' is before 'start'", pname(f));
        }
    }
    if (!rc) rc = get_enum(im, f, "time_precision", BT_ENUM_TIME_PRECISION, (int)sprec, &x);
    if (!rc && x == BT_TIME_NONE)
        rc = FAIL(im, f, "time_precision", BT_ERR_INVALID, "%s 'time_precision' is 'none'; "
                  "an incident needs a time", pname(f));
    inc.time_precision = (bt_time_precision)x;
    if (!rc) rc = get_bt_date(im, f, "reported", &inc.reported);
    if (!rc) rc = get_str(im, f, "summary", false, &inc.summary);
    if (!rc) rc = get_enum(im, f, "verification", BT_ENUM_VERIFICATION, BT_VERIF_UNVERIFIED, &x);
    inc.verification = (bt_verification)x;
    src_props sp;
    if (!rc) rc = get_src_props(im, f, &sp);
    bt_date src_rep = inc.reported;
    if (!rc) {
        bt__val v;
        f->get(f, "source_reported", &v);
        if (v.kind != BT__V_ABSENT) rc = get_bt_date(im, f, "source_reported", &src_rep);
    }
    /* more_sources: further report links, an array of objects (CSV: its JSON text). */
    json_object *more = NULL, *parsed = NULL;
    if (!rc) {
        bt__val v;
        f->get(f, "more_sources", &v);
        if (v.kind == BT__V_OTHER) {
            more = v.json;
        } else if (v.kind == BT__V_STRING && v.str[0]) {
            parsed = json_tokener_parse(v.str);
            more = parsed;
        } else if (v.kind != BT__V_ABSENT && v.kind != BT__V_NULL &&
                   !(v.kind == BT__V_STRING && !v.str[0])) {
            rc = FAIL(im, f, "more_sources", BT_ERR_INVALID, "%s 'more_sources' must be an array",
                      pname(f));
        }
        if (!rc && (v.kind == BT__V_OTHER || parsed || (v.kind == BT__V_STRING && v.str[0])) &&
            (!more || !json_object_is_type(more, json_type_array)))
            rc = FAIL(im, f, "more_sources", BT_ERR_INVALID,
                      "%s 'more_sources' must be an array of objects", pname(f));
    }
    int64_t id = 0;
    if (!rc) {
        rc = bt_incident_add(im->s, &inc, &id);
        if (rc) rc = wrap(im, f, rc);
        else rc = bt__import_check_txn(im, f); /* before its links */
    }
    if (!rc && sp.name) {
        int64_t sid;
        rc = source_id_for(im, f, sp.name, (bt_source_type)sp.type, sp.reliability, sp.notes, &sid);
        if (!rc) {
            bt_report_link link = {id, sid, src_rep, sp.credibility ? sp.credibility : 6};
            rc = bt_link_add(im->s, &link);
            if (rc) rc = wrap(im, f, rc);
            else rc = bt__import_check_txn(im, f);
        }
    }
    size_t nmore = more && !rc ? json_object_array_length(more) : 0;
    for (size_t i = 0; i < nmore && !rc; i++) {
        json_object *o = json_object_array_get_idx(more, i), *m;
        const char *name = NULL;
        int type = BT_SOURCE_UNKNOWN, cred = 6;
        char rel = 'F';
        bt_date rep = inc.reported;
        if (!o || !json_object_is_type(o, json_type_object)) {
            rc = FAIL(im, f, "more_sources", BT_ERR_INVALID, "more_sources[%zu]: expected an object", i);
            break;
        }
        /* A link without a source name comes from a redacted export: nothing to link. */
        if (!json_object_object_get_ex(o, "source", &m) || !m) continue;
        if (!json_object_is_type(m, json_type_string)) {
            rc = FAIL(im, f, "more_sources", BT_ERR_INVALID, "more_sources[%zu]: 'source' must be a string", i);
            break;
        }
        name = json_object_get_string(m);
        if (json_object_object_get_ex(o, "source_type", &m) &&
            (!json_object_is_type(m, json_type_string) ||
             bt_enum_parse(BT_ENUM_SOURCE_TYPE, json_object_get_string(m), &type)))
            rc = FAIL(im, f, "more_sources", BT_ERR_INVALID, "more_sources[%zu]: bad 'source_type'", i);
        if (!rc && json_object_object_get_ex(o, "reliability", &m)) {
            const char *r = json_object_get_string(m);
            if (!json_object_is_type(m, json_type_string) || strlen(r) != 1 ||
                toupper((unsigned char)r[0]) < 'A' || toupper((unsigned char)r[0]) > 'F')
                rc = FAIL(im, f, "more_sources", BT_ERR_INVALID,
                          "more_sources[%zu]: 'reliability' is '%s'; expected A-F", i, r ? r : "");
            else
                rel = (char)toupper((unsigned char)r[0]);
        }
        if (!rc && json_object_object_get_ex(o, "credibility", &m)) {
            cred = json_object_get_int(m);
            if (!json_object_is_type(m, json_type_int) || cred < 1 || cred > 6)
                rc = FAIL(im, f, "more_sources", BT_ERR_INVALID,
                          "more_sources[%zu]: 'credibility' is %s; expected 1-6", i,
                          json_object_get_string(m));
        }
        if (!rc && json_object_object_get_ex(o, "reported", &m)) {
            bt_time_precision p;
            if (!m) {
                rep.precision = BT_TIME_NONE;
                rep.t = 0;
            } else if (!json_object_is_type(m, json_type_string) ||
                       bt_time_parse(json_object_get_string(m), &rep.t, NULL, &p)) {
                rc = FAIL(im, f, "more_sources", BT_ERR_PARSE,
                          "more_sources[%zu]: 'reported' is not an ISO 8601 date", i);
            } else {
                rep.precision = p;
            }
        }
        int64_t sid;
        if (!rc) rc = source_id_for(im, f, name, (bt_source_type)type, rel, NULL, &sid);
        if (!rc) {
            bt_report_link link = {id, sid, rep, cred};
            rc = bt_link_add(im->s, &link);
            if (rc) rc = wrap(im, f, rc);
            else rc = bt__import_check_txn(im, f);
        }
    }
    if (parsed) json_object_put(parsed);
    if (!rc) im->rep.added++;
    return rc;
}

static int add_installation(bt__import *im, bt__feature *f)
{
    bt_installation in;
    bt_installation_init(&in);
    int x = 0;
    bool present;
    int rc = get_ref(im, f, false, &in.ref);
    if (!rc) rc = get_enum(im, f, "kind", BT_ENUM_INSTALL_KIND, BT_INSTALL_FENCE, &x);
    in.kind = (bt_install_kind)x;
    if (!rc) rc = get_enum(im, f, "layer", BT_ENUM_FENCE_LAYER, BT_LAYER_UNKNOWN, &x);
    in.layer = (bt_fence_layer)x;
    if (!rc) rc = get_enum(im, f, "material", BT_ENUM_MATERIAL, BT_MATERIAL_UNKNOWN, &x);
    in.material = (bt_material)x;
    if (!rc) rc = get_yesno(im, f, "barbed", &in.barbed);
    if (!rc) rc = get_yesno(im, f, "electrified", &in.electrified);
    double h = NAN;
    if (!rc) rc = get_num(im, f, "height_m", &present, &h);
    in.height_m = !rc && present ? h : NAN;
    if (!rc) rc = get_str(im, f, "post_material", false, &in.post_material);
    if (!rc) rc = get_enum(im, f, "quality", BT_ENUM_QUALITY, BT_QUALITY_UNKNOWN, &x);
    in.quality = (bt_quality)x;
    if (!rc) rc = get_enum(im, f, "permanence", BT_ENUM_PERMANENCE, BT_PERMANENCE_UNKNOWN, &x);
    in.permanence = (bt_permanence)x;
    if (!rc) rc = get_enum(im, f, "status", BT_ENUM_INSTALL_STATUS, BT_STATUS_COMPLETE, &x);
    in.status = (bt_install_status)x;
    if (!rc) rc = get_bt_date(im, f, "start", &in.start);
    if (!rc) rc = get_bt_date(im, f, "end", &in.end);
    if (!rc) rc = get_str(im, f, "condition", false, &in.condition);
    if (!rc) rc = get_enum(im, f, "observed_by", BT_ENUM_OBSERVATION, BT_OBSERVED_UNKNOWN, &x);
    in.observed_by = (bt_observation)x;
    src_props sp;
    if (!rc) rc = get_src_props(im, f, &sp);
    in.credibility = !rc ? sp.credibility : 0;
    if (!rc && f->gtype != BT__G_POINT && f->gtype != BT__G_LINE)
        rc = FAIL(im, f, "geometry", BT_ERR_INVALID,
                  "geometry: expected a Point or a LineString for an installation");
    if (!rc && f->gtype == BT__G_LINE && f->npts < 2)
        rc = FAIL(im, f, "geometry", BT_ERR_INVALID,
                  "geometry: a LineString needs at least 2 positions");
    if (!rc) rc = check_points(im, f);
    in.points = f->pts;
    in.npoints = f->npts;
    if (!rc && sp.name)
        rc = source_id_for(im, f, sp.name, (bt_source_type)sp.type, sp.reliability, sp.notes,
                           &in.source_id);
    if (!rc) {
        rc = bt_installation_add(im->s, &in, NULL);
        if (rc) rc = wrap(im, f, rc);
    }
    if (!rc) im->rep.added++;
    return rc;
}

/* Next running seq for a border within this import. */
static int next_seq(bt__import *im, const char *border, int *seq)
{
    struct bt__seqctr *c;
    for (c = im->seqs; c; c = c->next)
        if (strcmp(c->border, border) == 0) break;
    if (!c) {
        size_t n = strlen(border) + 1;
        c = bt__malloc(sizeof *c + n);
        if (!c) return bt__error(im->s, BT_ERR_NOMEM, "%s: out of memory", im->name);
        memcpy(c->border, border, n);
        c->next_seq = 0;
        c->next = im->seqs;
        im->seqs = c;
    }
    *seq = c->next_seq++;
    return BT_OK;
}

static void bump_seq(bt__import *im, const char *border, int used)
{
    for (struct bt__seqctr *c = im->seqs; c; c = c->next)
        if (strcmp(c->border, border) == 0 && c->next_seq <= used) c->next_seq = used + 1;
}

static int add_segments(bt__import *im, bt__feature *f)
{
    bt_segment seg;
    memset(&seg, 0, sizeof seg);
    const char *border = NULL, *name = NULL;
    int x = 0, seq0 = 0;
    bool has_seq = false;
    int rc = get_str(im, f, "border", false, &border);
    if (!rc) rc = get_str(im, f, "name", false, &name);
    if (!rc && !border) {
        /* The bundled file: the border's name in `name`, no `border`. */
        if (!name)
            return FAIL(im, f, "border", BT_ERR_INVALID, "%s 'border' is missing", pname(f));
        border = name;
        name = NULL;
    }
    if (!rc) rc = get_int(im, f, "seq", 0, 1000000000, &has_seq, &seq0);
    if (!rc) rc = get_enum(im, f, "kind", BT_ENUM_SEGMENT_KIND, BT_SEGMENT_UNKNOWN, &x);
    seg.kind = (bt_segment_kind)x;
    if (!rc) rc = get_str(im, f, "river", false, &seg.river);
    if (!rc && f->gtype != BT__G_LINE && f->gtype != BT__G_MULTILINE)
        rc = FAIL(im, f, "geometry", BT_ERR_INVALID,
                  "geometry: expected a LineString or MultiLineString for a border");
    if (!rc) rc = check_points(im, f);
    if (rc) return rc;
    /* The border string lives in the feature; copy it, since next_seq may not. */
    seg.border = border;
    const char *base = name ? name : border;
    size_t need = strlen(base) + 32;
    if (need > im->scratch_cap) {
        char *nb = bt__realloc(im->scratch, need);
        if (!nb) return bt__error(im->s, BT_ERR_NOMEM, "%s: out of memory", im->name);
        im->scratch = nb;
        im->scratch_cap = need;
    }
    bool multi = f->gtype == BT__G_MULTILINE;
    size_t from = 0;
    for (size_t part = 0; part < f->nparts; part++) {
        size_t to = f->part_end[part];
        if (to - from < 2) {
            return FAIL(im, f, "geometry", BT_ERR_INVALID,
                        "geometry: part %zu has %zu position%s; a line needs at least 2",
                        part + 1, to - from, to - from == 1 ? "" : "s");
        }
        if (has_seq) {
            seg.seq = seq0 + (int)part;
            rc = next_seq(im, border, &x); /* make sure the counter exists */
            if (rc) return rc;
            bump_seq(im, border, seg.seq);
        } else {
            rc = next_seq(im, border, &seg.seq);
            if (rc) return rc;
        }
        if (multi || !name) {
            /* "<border> part 001": 1-based, zero-padded so that names sort in order. */
            snprintf(im->scratch, im->scratch_cap, "%s part %03zu", base,
                     multi ? part + 1 : (size_t)seg.seq + 1);
            seg.name = im->scratch;
        } else {
            seg.name = name;
        }
        seg.points = f->pts + from;
        seg.npoints = to - from;
        rc = bt_segment_add(im->s, &seg, NULL);
        if (rc) return wrap(im, f, rc);
        if (multi && (rc = bt__import_check_txn(im, f)) != BT_OK) return rc;
        im->rep.added++;
        from = to;
    }
    return BT_OK;
}

static int add_source(bt__import *im, bt__feature *f)
{
    bt_source src;
    memset(&src, 0, sizeof src);
    int x = BT_SOURCE_UNKNOWN;
    int rc = get_str(im, f, "name", true, &src.name);
    bt__val v;
    f->get(f, "type", &v);
    const char *tkey = v.kind == BT__V_ABSENT ? "source_type" : "type";
    if (!rc) rc = get_enum(im, f, tkey, BT_ENUM_SOURCE_TYPE, BT_SOURCE_UNKNOWN, &x);
    src.type = (bt_source_type)x;
    if (!rc) rc = get_reliability(im, f, "reliability", 'F', &src.reliability);
    if (!rc) rc = get_str(im, f, "notes", false, &src.notes);
    if (!rc) {
        rc = bt_source_add(im->s, &src, NULL);
        if (rc) rc = wrap(im, f, rc);
    }
    if (!rc) im->rep.added++;
    return rc;
}

static int add_place(bt__import *im, bt__feature *f)
{
    bt_place p;
    memset(&p, 0, sizeof p);
    int rc = get_str(im, f, "name", true, &p.name);
    if (!rc) rc = get_str(im, f, "country", true, &p.country);
    if (!rc) rc = get_str(im, f, "admin1", false, &p.admin1);
    if (!rc) rc = need_point(im, f);
    if (!rc) rc = check_points(im, f);
    if (!rc) {
        p.where = f->pts[0];
        rc = bt_place_add(im->s, &p, NULL);
        if (rc) rc = wrap(im, f, rc);
    }
    if (!rc) im->rep.added++;
    return rc;
}

/* An intervention: a Polygon geometry (its area) or none and a `border` with an
 * optional chainage range. The ring is checked here, so that the message points at
 * the geometry; the rest is checked by bt_intervention_add(). */
static int add_intervention(bt__import *im, bt__feature *f)
{
    bt_intervention iv;
    bt_intervention_init(&iv);
    int x = 0;
    bool has_from = false, has_to = false;
    double from = 0, to = INFINITY;
    int rc = get_ref(im, f, false, &iv.ref);
    if (!rc) rc = get_str(im, f, "name", true, &iv.name);
    if (!rc) {
        bt__val v;
        f->get(f, "kind", &v);
        if (v.kind == BT__V_ABSENT || v.kind == BT__V_NULL)
            rc = FAIL(im, f, "kind", BT_ERR_INVALID, "%s 'kind' is missing", pname(f));
    }
    if (!rc) rc = get_enum(im, f, "kind", BT_ENUM_INTERVENTION_KIND, BT_INTERVENTION_OTHER, &x);
    iv.kind = (bt_intervention_kind)x;
    int64_t sf = 0, sl = 0, ef = 0, el = 0;
    bool has_start = false, has_end = false;
    if (!rc) rc = get_date(im, f, "start", &has_start, &sf, &sl, &iv.start.precision);
    if (!rc && !has_start)
        rc = FAIL(im, f, "start", BT_ERR_INVALID, "%s 'start' is missing", pname(f));
    iv.start.t = sf;
    if (!rc) rc = get_date(im, f, "end", &has_end, &ef, &el, &iv.end.precision);
    if (!rc && has_end) iv.end.t = ef;
    if (!rc && has_end && el < sf)
        rc = FAIL(im, f, "end", BT_ERR_INVALID, "%s 'end' is before 'start'", pname(f));
    if (!rc) rc = get_str(im, f, "summary", false, &iv.summary);
    if (!rc) rc = get_str(im, f, "citation", false, &iv.citation);
    if (!rc) rc = get_str(im, f, "border", false, &iv.border);
    if (!rc) rc = get_num(im, f, "from_m", &has_from, &from);
    if (!rc) rc = get_num(im, f, "to_m", &has_to, &to);
    if (rc) return rc;
    if (f->gtype == BT__G_POLYGON) {
        if (iv.border)
            return FAIL(im, f, "border", BT_ERR_INVALID,
                        "%s 'border' is given with a Polygon geometry; an intervention "
                        "applies to a border (null geometry) or to an area, not both",
                        pname(f));
        if (has_from || has_to)
            return FAIL(im, f, has_from ? "from_m" : "to_m", BT_ERR_INVALID,
                        "%s '%s' is given with a Polygon geometry; a chainage range needs "
                        "a border",
                        pname(f), has_from ? "from_m" : "to_m");
        if (f->npts < 4)
            return FAIL(im, f, "geometry", BT_ERR_INVALID,
                        "geometry: the Polygon's ring has %zu position%s; it needs at least 4",
                        f->npts, f->npts == 1 ? "" : "s");
        rc = check_points(im, f);
        if (rc) return rc;
        bt_lonlat a = f->pts[0], z = f->pts[f->npts - 1];
        if (a.lon != z.lon || a.lat != z.lat)
            return FAIL(im, f, "geometry", BT_ERR_INVALID,
                        "geometry: the Polygon's ring is not closed (position 1 (%.7g, %.7g) "
                        "differs from position %zu (%.7g, %.7g))",
                        a.lon, a.lat, f->npts, z.lon, z.lat);
        iv.area = f->pts;
        iv.narea = f->npts;
    } else if (f->gtype != BT__G_NONE) {
        return FAIL(im, f, "geometry", BT_ERR_INVALID,
                    "geometry: expected a Polygon (the area) or null (a border) for an "
                    "intervention");
    } else {
        if (!iv.border)
            return FAIL(im, f, "border", BT_ERR_INVALID,
                        "%s 'border' is missing (an intervention without a Polygon applies "
                        "to a border)",
                        pname(f));
        if (has_from) iv.from_m = from;
        if (has_to) iv.to_m = to;
    }
    rc = bt_intervention_add(im->s, &iv, NULL);
    if (rc) return wrap(im, f, rc);
    im->rep.added++;
    return BT_OK;
}

int bt__records_add(bt__import *im, bt__feature *f)
{
    switch (im->opt.table) {
    case BT_TABLE_BORDERS: return add_segments(im, f);
    case BT_TABLE_INSTALLATIONS: return add_installation(im, f);
    case BT_TABLE_INCIDENTS: return add_incident(im, f);
    case BT_TABLE_SOURCES: return add_source(im, f);
    case BT_TABLE_PLACES: return add_place(im, f);
    case BT_TABLE_INTERVENTIONS: return add_intervention(im, f);
    }
    return bt__error(im->s, BT_ERR_INVALID, "unknown table %d", (int)im->opt.table);
}
