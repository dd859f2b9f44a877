/**
 * @file import_json.c
 * @brief Streaming GeoJSON reader: a small scanner walks the top-level structure (a
 * FeatureCollection's members, or a sequence of Features separated by newlines or
 * RFC 8142 record separators) and json-c parses one feature at a time.
 *
 * Why this split (see docs/formats.md, "How the GeoJSON reader streams"): json-c
 * alone builds the whole document, which for a 1,000,000-feature file costs
 * gigabytes; yajl streams but would need a second tree builder of our own. The
 * scanner only matches brackets and strings to find where each feature ends, so each
 * feature is parsed and validated by json-c (strict mode, UTF-8 checked) and then
 * dropped: memory is bounded by the largest feature.
 */
#include "io/io.h"

#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/** Deepest nesting json-c accepts inside one feature. */
#define BT__JSON_DEPTH 64

typedef struct jstate {
    bt__import *im;
    bt__reader *r;
    size_t pos;          /* absolute scan position */
    size_t keep;         /* bytes from here on must stay in the window */
    json_tokener *tok;
    long nfeat;
    /* the feature being processed */
    json_object *props;
    size_t fstart, fend; /* its text, absolute offsets */
    bt__feature f;
} jstate;

/* ---- low-level scanning -------------------------------------------------- */

/* The byte at absolute offset off, reading more input as needed; -1 at the end,
 * -2 on out-of-memory. */
static int byte_at(jstate *js, size_t off)
{
    bt__reader *r = js->r;
    while (off >= r->base + r->len) {
        long got = bt__reader_more(r, js->keep);
        if (got < 0) return -2;
        if (got == 0) return -1;
    }
    return (unsigned char)r->data[off - r->base];
}

static int fail_pos(jstate *js, size_t off, int code, const char *what)
{
    long line, col;
    bt__reader_pos(js->r, off, false, &line, &col);
    return bt__import_error_at(js->im, code, line, col, "%s", what);
}

static int eof_or_nomem(jstate *js, int c, size_t off, const char *what)
{
    if (c == -2) return bt__error(js->im->s, BT_ERR_NOMEM, "%s: out of memory", js->im->name);
    if (js->r->io_error)
        return bt__error(js->im->s, BT_ERR_IO, "%s: read error: %s", js->im->name,
                         strerror(js->r->io_errno));
    return fail_pos(js, off, BT_ERR_PARSE, what);
}

/* Skips white space (and record separators and a leading BOM when at top level);
 * returns the next byte (not consumed), -1 at the end, -2 on out-of-memory. */
static int skip_ws(jstate *js, bool top)
{
    for (;;) {
        int c = byte_at(js, js->pos);
        if (c < 0) return c;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || (top && c == 0x1E)) {
            js->pos++;
        } else if (top && js->pos == 0 && c == 0xEF) {
            if (byte_at(js, 1) == 0xBB && byte_at(js, 2) == 0xBF) js->pos = 3;
            else return c;
        } else {
            return c;
        }
    }
}

/* Finds the end (exclusive) of the JSON value starting at js->pos: matches brackets
 * and skips strings; a scalar ends at a delimiter. Does not validate: json-c does. */
static int value_extent(jstate *js, size_t *end)
{
    size_t p = js->pos;
    int c = byte_at(js, p);
    if (c < 0) return eof_or_nomem(js, c, p, "unexpected end of input; expected a value");
    if (c == '"') {
        p++;
        for (;;) {
            c = byte_at(js, p);
            if (c < 0) return eof_or_nomem(js, c, js->pos, "unterminated string");
            p++;
            if (c == '\\') {
                if (byte_at(js, p) < 0) return eof_or_nomem(js, -1, js->pos, "unterminated string");
                p++;
            } else if (c == '"') {
                break;
            }
        }
        *end = p;
        return BT_OK;
    }
    if (c != '{' && c != '[') {
        for (;;) {
            c = byte_at(js, p);
            if (c == -2) return eof_or_nomem(js, c, p, "");
            if (c < 0 || c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' ||
                c == '\n' || c == '\r' || c == 0x1E)
                break;
            p++;
        }
        if (p == js->pos) return fail_pos(js, p, BT_ERR_PARSE, "expected a value");
        *end = p;
        return BT_OK;
    }
    long depth = 0;
    bool in_str = false;
    for (;;) {
        c = byte_at(js, p);
        if (c < 0) {
            long line, col;
            bt__reader_pos(js->r, js->pos, false, &line, &col);
            if (c == -2) return eof_or_nomem(js, c, p, "");
            char msg[128];
            snprintf(msg, sizeof msg,
                     "unexpected end of input inside the %s that starts at line %ld, "
                     "column %ld",
                     byte_at(js, js->pos) == '{' ? "object" : "array", line, col);
            return eof_or_nomem(js, -1, p, msg);
        }
        p++;
        if (in_str) {
            if (c == '\\') {
                if (byte_at(js, p) >= 0) p++;
            } else if (c == '"') {
                in_str = false;
            }
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0) break;
        }
    }
    *end = p;
    return BT_OK;
}

/* Parses [start, end) with json-c (the whole of it); *out may be NULL for `null`. */
static int parse_text(jstate *js, size_t start, size_t end, json_object **out)
{
    bt__reader *r = js->r;
    const char *text = r->data + (start - r->base);
    size_t n = end - start;
    *out = NULL;
    unsigned char c0 = (unsigned char)text[0];
    if (c0 != '{' && c0 != '[' && c0 != '"') {
        /* A bare scalar: json-c would wait for more digits, so read it here. */
        char tmp[64];
        if (n == 4 && memcmp(text, "null", 4) == 0) return BT_OK;
        if (n == 4 && memcmp(text, "true", 4) == 0) {
            *out = json_object_new_boolean(1);
        } else if (n == 5 && memcmp(text, "false", 5) == 0) {
            *out = json_object_new_boolean(0);
        } else {
            /* JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
            size_t i = 0;
            bool ok = n < sizeof tmp;
            if (ok && text[i] == '-') i++;
            if (ok && i < n && text[i] == '0') i++;
            else if (ok && i < n && text[i] >= '1' && text[i] <= '9')
                while (i < n && text[i] >= '0' && text[i] <= '9') i++;
            else ok = false;
            if (ok && i < n && text[i] == '.') {
                size_t d = ++i;
                while (i < n && text[i] >= '0' && text[i] <= '9') i++;
                ok = i > d;
            }
            if (ok && i < n && (text[i] == 'e' || text[i] == 'E')) {
                i++;
                if (i < n && (text[i] == '+' || text[i] == '-')) i++;
                size_t d = i;
                while (i < n && text[i] >= '0' && text[i] <= '9') i++;
                ok = i > d;
            }
            if (!ok || i != n) return fail_pos(js, start, BT_ERR_PARSE, "invalid JSON value");
            memcpy(tmp, text, n);
            tmp[n] = '\0';
            *out = json_object_new_double_s(strtod(tmp, NULL), tmp);
        }
        if (!*out) return bt__error(js->im->s, BT_ERR_NOMEM, "%s: out of memory", js->im->name);
        return BT_OK;
    }
    json_tokener_reset(js->tok);
    if (n > (size_t)INT32_MAX)
        return fail_pos(js, start, BT_ERR_PARSE, "a single JSON value larger than 2 GiB");
    json_object *o = json_tokener_parse_ex(js->tok, text, (int)n);
    enum json_tokener_error jerr = json_tokener_get_error(js->tok);
    if (jerr != json_tokener_success) {
        size_t at = start + json_tokener_get_parse_end(js->tok);
        if (o) json_object_put(o);
        char msg[160];
        snprintf(msg, sizeof msg, "invalid JSON: %s",
                 jerr == json_tokener_continue ? "unexpected end of the value"
                                               : json_tokener_error_desc(jerr));
        /* json-c stops on the byte after the bad one */
        return fail_pos(js, at > start ? at - 1 : at, BT_ERR_PARSE, msg);
    }
    if (json_tokener_get_parse_end(js->tok) != n) {
        if (o) json_object_put(o);
        return fail_pos(js, start + json_tokener_get_parse_end(js->tok), BT_ERR_PARSE,
                        "invalid JSON: unexpected text after the value");
    }
    *out = o;
    return BT_OK;
}

/* ---- the feature interface for records.c --------------------------------- */

static void set_val(json_object *v, bt__val *out)
{
    memset(out, 0, sizeof *out);
    if (!v) {
        out->kind = BT__V_NULL;
        return;
    }
    switch (json_object_get_type(v)) {
    case json_type_string:
        out->kind = BT__V_STRING;
        out->str = json_object_get_string(v);
        break;
    case json_type_int:
    case json_type_double:
        out->kind = BT__V_NUMBER;
        out->num = json_object_get_double(v);
        out->str = json_object_get_string(v);
        break;
    case json_type_boolean:
        out->kind = BT__V_BOOL;
        out->b = json_object_get_boolean(v) != 0;
        out->str = out->b ? "true" : "false";
        break;
    case json_type_null: out->kind = BT__V_NULL; break;
    default:
        out->kind = BT__V_OTHER;
        out->json = v;
        break;
    }
}

static void json_get(bt__feature *f, const char *key, bt__val *out)
{
    jstate *js = f->impl;
    json_object *v = NULL;
    if (!js->props || !json_object_object_get_ex(js->props, key, &v)) {
        memset(out, 0, sizeof *out);
        out->kind = BT__V_ABSENT;
        return;
    }
    set_val(v, out);
}

/* Finds `"key"` followed by ':' in the feature's text and gives the position of its
 * value; falls back to the feature's start. A match inside a string value is possible
 * but harmless: the message still names the property. */
static void json_locate(bt__feature *f, const char *key, long *line, long *col)
{
    jstate *js = f->impl;
    bt__reader *r = js->r;
    size_t klen = strlen(key);
    *line = f->line;
    *col = f->column;
    if (js->fstart < r->base || js->fend > r->base + r->len) return;
    const char *t = r->data + (js->fstart - r->base);
    size_t n = js->fend - js->fstart;
    size_t from = 0;
    if (strcmp(key, "geometry") != 0 && strcmp(key, "properties") != 0) {
        /* a property: look inside "properties" (a feature has its own "type") */
        const char *p = NULL;
        for (size_t i = 0; i + 12 <= n && !p; i++)
            if (t[i] == '"' && memcmp(t + i, "\"properties\"", 12) == 0) p = t + i + 12;
        if (!p) return;
        from = (size_t)(p - t);
    }
    for (size_t i = from; i + klen + 2 <= n; i++) {
        if (t[i] != '"' || memcmp(t + i + 1, key, klen) != 0 || t[i + 1 + klen] != '"')
            continue;
        size_t j = i + klen + 2;
        while (j < n && (t[j] == ' ' || t[j] == '\t' || t[j] == '\n' || t[j] == '\r')) j++;
        if (j >= n || t[j] != ':') continue;
        j++;
        while (j < n && (t[j] == ' ' || t[j] == '\t' || t[j] == '\n' || t[j] == '\r')) j++;
        bt__reader_pos(r, js->fstart + j, false, line, col);
        return;
    }
}

static int num_of(json_object *v, double *d)
{
    if (!v) return 0;
    enum json_type t = json_object_get_type(v);
    if (t != json_type_int && t != json_type_double) return 0;
    *d = json_object_get_double(v);
    return isfinite(*d);
}

/* Reads an array of positions into the feature's points. */
static int read_positions(jstate *js, json_object *arr, const char *what)
{
    bt__feature *f = &js->f;
    if (!arr || !json_object_is_type(arr, json_type_array))
        return bt__import_fail(js->im, f, "geometry", BT_ERR_INVALID,
                               "geometry: %s must be an array of positions", what);
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        json_object *p = json_object_array_get_idx(arr, i);
        double x, y;
        if (!p || !json_object_is_type(p, json_type_array) ||
            json_object_array_length(p) < 2 ||
            !num_of(json_object_array_get_idx(p, 0), &x) ||
            !num_of(json_object_array_get_idx(p, 1), &y))
            return bt__import_fail(js->im, f, "geometry", BT_ERR_INVALID,
                                   "geometry: position %zu of %s is not [x, y] numbers",
                                   i + 1, what);
        if (bt__feature_push(f, x, y))
            return bt__error(js->im->s, BT_ERR_NOMEM, "%s: out of memory", js->im->name);
    }
    if (bt__feature_end_part(f))
        return bt__error(js->im->s, BT_ERR_NOMEM, "%s: out of memory", js->im->name);
    return BT_OK;
}

static int read_geometry(jstate *js, json_object *g)
{
    bt__feature *f = &js->f;
    f->gtype = BT__G_NONE;
    f->npts = f->nparts = 0;
    if (!g) return BT_OK; /* null geometry: records.c decides whether that is allowed */
    json_object *t = NULL, *c = NULL;
    if (!json_object_is_type(g, json_type_object) || !json_object_object_get_ex(g, "type", &t) ||
        !json_object_is_type(t, json_type_string))
        return bt__import_fail(js->im, f, "geometry", BT_ERR_INVALID,
                               "geometry: not a GeoJSON geometry object (no 'type')");
    const char *type = json_object_get_string(t);
    json_object_object_get_ex(g, "coordinates", &c);
    if (strcmp(type, "Point") == 0) {
        double x, y;
        if (!c || !json_object_is_type(c, json_type_array) || json_object_array_length(c) < 2 ||
            !num_of(json_object_array_get_idx(c, 0), &x) ||
            !num_of(json_object_array_get_idx(c, 1), &y))
            return bt__import_fail(js->im, f, "geometry", BT_ERR_INVALID,
                                   "geometry: Point coordinates are not [x, y] numbers");
        if (bt__feature_push(f, x, y) || bt__feature_end_part(f))
            return bt__error(js->im->s, BT_ERR_NOMEM, "%s: out of memory", js->im->name);
        f->gtype = BT__G_POINT;
        return BT_OK;
    }
    if (strcmp(type, "LineString") == 0) {
        f->gtype = BT__G_LINE;
        return read_positions(js, c, "the LineString");
    }
    if (strcmp(type, "MultiLineString") == 0) {
        f->gtype = BT__G_MULTILINE;
        if (!c || !json_object_is_type(c, json_type_array))
            return bt__import_fail(js->im, f, "geometry", BT_ERR_INVALID,
                                   "geometry: MultiLineString coordinates must be an array");
        size_t n = json_object_array_length(c);
        for (size_t i = 0; i < n; i++) {
            char what[48];
            snprintf(what, sizeof what, "part %zu", i + 1);
            int rc = read_positions(js, json_object_array_get_idx(c, i), what);
            if (rc) return rc;
        }
        return BT_OK;
    }
    return bt__import_fail(js->im, f, "geometry", BT_ERR_INVALID,
                           "geometry type '%s' is not supported (Point, LineString, "
                           "MultiLineString)",
                           type);
}

/* Checks a parsed Feature object whose text is [start, end) and reads its geometry. */
static int check_feature(jstate *js, json_object *obj)
{
    bt__feature *f = &js->f;
    if (!obj || !json_object_is_type(obj, json_type_object))
        return bt__import_fail(js->im, f, NULL, BT_ERR_INVALID, "not a JSON object");
    json_object *t = NULL, *g = NULL, *p = NULL, *id = NULL;
    if (!json_object_object_get_ex(obj, "type", &t) || !json_object_is_type(t, json_type_string) ||
        strcmp(json_object_get_string(t), "Feature") != 0)
        return bt__import_fail(js->im, f, NULL, BT_ERR_INVALID,
                               "not a GeoJSON Feature ('type' must be \"Feature\")");
    if (json_object_object_get_ex(obj, "properties", &p) && p &&
        !json_object_is_type(p, json_type_object))
        return bt__import_fail(js->im, f, "properties", BT_ERR_INVALID,
                               "'properties' must be an object or null");
    js->props = p;
    if (json_object_object_get_ex(obj, "id", &id)) set_val(id, &f->id);
    if (!json_object_object_get_ex(obj, "geometry", &g))
        return bt__import_fail(js->im, f, "geometry", BT_ERR_INVALID,
                               "the 'geometry' member is missing");
    return read_geometry(js, g);
}

/* Processes a parsed Feature object whose text is [start, end). */
static int handle_feature(jstate *js, json_object *obj, size_t start, size_t end)
{
    bt__feature *f = &js->f;
    js->nfeat++;
    f->number = js->nfeat;
    bt__reader_pos(js->r, start, true, &f->line, &f->column);
    js->fstart = start;
    js->fend = end;
    f->end_off = end;
    js->props = NULL;
    memset(&f->id, 0, sizeof f->id);
    f->gtype = BT__G_NONE;
    f->npts = f->nparts = 0;
    int rc = check_feature(js, obj);
    if (rc) return bt__import_feature_failed(js->im, f, rc);
    return bt__import_feature(js->im, f);
}

/* Reads one `"key":` and leaves js->pos on the value. *key is owned by the caller. */
static int read_key(jstate *js, json_object **key)
{
    size_t start = js->pos, end;
    if (byte_at(js, start) != '"') return fail_pos(js, start, BT_ERR_PARSE, "expected a member name");
    int rc = value_extent(js, &end);
    if (!rc) rc = parse_text(js, start, end, key);
    if (rc) return rc;
    js->pos = end;
    int c = skip_ws(js, false);
    if (c != ':') {
        json_object_put(*key);
        *key = NULL;
        return c < -1 ? eof_or_nomem(js, c, js->pos, "")
                      : fail_pos(js, js->pos, BT_ERR_PARSE, "expected ':' after a member name");
    }
    js->pos++;
    skip_ws(js, false);
    return BT_OK;
}

/* Streams the elements of a "features" array, js->pos on the '['. */
static int stream_features(jstate *js)
{
    js->pos++;
    int c = skip_ws(js, false);
    if (c == ']') {
        js->pos++;
        return BT_OK;
    }
    for (;;) {
        size_t start = js->pos, end;
        js->keep = start;
        c = byte_at(js, start);
        if (c < 0) return eof_or_nomem(js, c, start, "unexpected end of input in 'features'");
        if (c != '{') return fail_pos(js, start, BT_ERR_PARSE, "expected a Feature object in 'features'");
        int rc = value_extent(js, &end);
        json_object *obj = NULL;
        if (!rc) rc = parse_text(js, start, end, &obj);
        if (rc) return rc;
        rc = handle_feature(js, obj, start, end);
        json_object_put(obj);
        js->props = NULL;
        if (rc) return rc;
        js->pos = end;
        js->keep = end;
        c = skip_ws(js, false);
        if (c == ',') {
            js->pos++;
            skip_ws(js, false);
            continue;
        }
        if (c == ']') {
            js->pos++;
            return BT_OK;
        }
        if (c < 0) return eof_or_nomem(js, c, js->pos, "unexpected end of input in 'features'");
        return fail_pos(js, js->pos, BT_ERR_PARSE, "expected ',' or ']' after a feature");
    }
}

static int apply_crs_member(jstate *js, json_object *crs, size_t at)
{
    long line, col;
    bt__reader_pos(js->r, at, false, &line, &col);
    json_object *p = NULL, *name = NULL;
    if (!crs) return BT_OK; /* "crs": null means the default */
    if (!json_object_is_type(crs, json_type_object) ||
        !json_object_object_get_ex(crs, "properties", &p) || !p ||
        !json_object_object_get_ex(p, "name", &name) || !name ||
        !json_object_is_type(name, json_type_string))
        return bt__import_error_at(js->im, BT_ERR_CRS, line, col,
                                   "the 'crs' member has no properties.name (only named "
                                   "CRSs are supported)");
    if (js->im->features_started)
        return bt__import_error_at(js->im, BT_ERR_CRS, line, col,
                                   "the 'crs' member must come before the features");
    return bt__import_set_file_crs(js->im, json_object_get_string(name), line, col);
}

/* One top-level value: a FeatureCollection (streamed) or a Feature. */
static int top_object(jstate *js)
{
    size_t start = js->pos;
    js->keep = start;
    if (byte_at(js, start) != '{')
        return fail_pos(js, start, BT_ERR_PARSE, "expected a GeoJSON object ('{')");
    js->pos++;
    json_object *top = json_object_new_object();
    if (!top) return bt__error(js->im->s, BT_ERR_NOMEM, "%s: out of memory", js->im->name);
    bool features = false;
    int rc = BT_OK;
    int c = skip_ws(js, false);
    if (c == '}') {
        js->pos++;
    } else {
        for (;;) {
            json_object *key = NULL;
            rc = read_key(js, &key);
            if (rc) break;
            const char *k = json_object_get_string(key);
            size_t vstart = js->pos;
            if (strcmp(k, "features") == 0 && byte_at(js, vstart) == '[') {
                features = true;
                /* Members seen so far are small; the features are dropped one by one. */
                rc = stream_features(js);
                js->keep = js->pos;
            } else {
                size_t vend;
                json_object *v = NULL;
                rc = value_extent(js, &vend);
                if (!rc) rc = parse_text(js, vstart, vend, &v);
                if (!rc) {
                    js->pos = vend;
                    if (strcmp(k, "crs") == 0) rc = apply_crs_member(js, v, vstart);
                    if (json_object_object_add(top, k, v) != 0) {
                        json_object_put(v);
                        rc = bt__error(js->im->s, BT_ERR_NOMEM, "%s: out of memory",
                                       js->im->name);
                    }
                }
            }
            json_object_put(key);
            if (rc) break;
            c = skip_ws(js, false);
            if (c == ',') {
                js->pos++;
                skip_ws(js, false);
                continue;
            }
            if (c == '}') {
                js->pos++;
                break;
            }
            rc = c < 0 ? eof_or_nomem(js, c, js->pos, "unexpected end of input; expected '}'")
                       : fail_pos(js, js->pos, BT_ERR_PARSE, "expected ',' or '}'");
            break;
        }
    }
    if (!rc) {
        json_object *t = NULL;
        const char *type = json_object_object_get_ex(top, "type", &t) &&
                                   json_object_is_type(t, json_type_string)
                               ? json_object_get_string(t)
                               : NULL;
        if (features) {
            if (type && strcmp(type, "FeatureCollection") != 0)
                rc = fail_pos(js, start, BT_ERR_INVALID,
                              "an object with 'features' must be a FeatureCollection");
        } else if (type && strcmp(type, "FeatureCollection") == 0) {
            rc = fail_pos(js, start, BT_ERR_INVALID,
                          "the FeatureCollection has no 'features' array");
        } else {
            rc = handle_feature(js, top, start, js->pos);
            js->props = NULL;
        }
    }
    json_object_put(top);
    js->keep = js->pos;
    return rc;
}

int bt__import_geojson(bt__import *im, bt__reader *r)
{
    jstate js;
    memset(&js, 0, sizeof js);
    js.im = im;
    js.r = r;
    js.tok = json_tokener_new_ex(BT__JSON_DEPTH);
    if (!js.tok) return bt__error(im->s, BT_ERR_NOMEM, "%s: out of memory", im->name);
    json_tokener_set_flags(js.tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    js.f.get = json_get;
    js.f.locate = json_locate;
    js.f.impl = &js;
    int rc = BT_OK;
    bool any = false;
    for (;;) {
        int c = skip_ws(&js, true);
        if (c == -1) {
            if (r->io_error) rc = eof_or_nomem(&js, c, js.pos, "");
            break;
        }
        if (c < 0) {
            rc = eof_or_nomem(&js, c, js.pos, "");
            break;
        }
        any = true;
        rc = top_object(&js);
        if (rc) break;
    }
    if (!rc && !any) rc = fail_pos(&js, js.pos, BT_ERR_PARSE, "the file is empty; expected GeoJSON");
    bt__feature_free_arrays(&js.f);
    json_tokener_free(js.tok);
    return rc;
}
