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

/* A property the fast reader read (see "fast path for the common feature" below). */
typedef struct fast_prop {
    size_t key;  /* offset of the name in the arena */
    bt__val v;   /* str as an arena offset until the feature is complete */
    size_t str;  /* offset of the text (string, number) */
} fast_prop;

typedef struct fastr {
    const unsigned char *p, *end;
    char *arena; /* decoded strings, NUL-terminated */
    size_t alen, acap;
    fast_prop *props;
    size_t nprops, pcap;
    bool nomem;
} fastr;

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
    fastr fast; /* the fast path's buffers, reused from feature to feature */
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

/* strcmp(a, b) == 0 with the first two bytes compared inline: they settle nearly
 * every mismatch of member names without a call (strcmp showed at 2-3% of an import). */
static inline bool same_name(const char *a, const char *b)
{
    if (a[0] != b[0]) return false;
    if (a[0] == '\0') return true;
    return a[1] == b[1] && (a[1] == '\0' || strcmp(a + 2, b + 2) == 0);
}

/* Byte classes of the scans: SCAN_STR, the bytes that matter inside a string ('"',
 * '\\'); SCAN_OUT, outside one ('"', brackets, braces); SCAN_PLAIN, the bytes a string
 * copies as they are (printable ASCII but '"' and '\\'). A scan skips the others with
 * one look-up a byte instead of a chain of compares. */
enum { SCAN_STR = 1, SCAN_OUT = 2, SCAN_PLAIN = 4 };
static const unsigned char scan_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    4, 4, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 6, 1, 6, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 6, 4, 6, 4, 4,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* Where a scan for the end of an object or array stands: nesting depth, inside a
 * string, after a backslash there (the state carries across reads). */
struct nest {
    long depth;
    bool in_str, esc;
};

/* Takes one byte; true when it closes the outermost object or array. */
static inline bool nest_step(struct nest *n, int c)
{
    if (n->esc) {
        n->esc = false;
    } else if (n->in_str) {
        if (c == '\\')
            n->esc = true;
        else if (c == '"')
            n->in_str = false;
    } else if (c == '"') {
        n->in_str = true;
    } else if (c == '{' || c == '[') {
        n->depth++;
    } else if ((c == '}' || c == ']') && --n->depth == 0) {
        return true;
    }
    return false;
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
    struct nest n = {0, false, false};
    for (;;) {
        /* The bytes already read without a call per byte (this scan is what finds
         * each feature's end); byte_at() below only at the window's end. */
        const char *d = js->r->data;
        size_t base = js->r->base, lim = base + js->r->len;
        while (p < lim) {
            if (!n.esc) {
                /* bytes nest_step() would pass over in this state */
                unsigned m = n.in_str ? SCAN_STR : SCAN_OUT;
                while (p < lim && !(scan_class[(unsigned char)d[p - base]] & m)) p++;
                if (p == lim) break;
            }
            if (nest_step(&n, (unsigned char)d[p++ - base])) {
                *end = p;
                return BT_OK;
            }
        }
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
        if (nest_step(&n, c)) break;
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
    if (strcmp(type, "Polygon") == 0) {
        /* One ring: an intervention's area. Holes would change what is inside, so they
         * are refused rather than dropped. */
        f->gtype = BT__G_POLYGON;
        if (!c || !json_object_is_type(c, json_type_array))
            return bt__import_fail(js->im, f, "geometry", BT_ERR_INVALID,
                                   "geometry: Polygon coordinates must be an array of rings");
        size_t n = json_object_array_length(c);
        if (n != 1)
            return bt__import_fail(js->im, f, "geometry", BT_ERR_INVALID,
                                   "geometry: the Polygon has %zu rings; only one (the "
                                   "exterior ring, no holes) is supported",
                                   n);
        return read_positions(js, json_object_array_get_idx(c, 0), "the Polygon's ring");
    }
    if (strcmp(type, "MultiPolygon") == 0)
        return bt__import_fail(js->im, f, "geometry", BT_ERR_INVALID,
                               "geometry type 'MultiPolygon' is not supported; give one "
                               "Polygon per feature");
    return bt__import_fail(js->im, f, "geometry", BT_ERR_INVALID,
                           "geometry type '%s' is not supported (Point, LineString, "
                           "MultiLineString, Polygon)",
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

/* ---- fast path for the common feature --------------------------------------- */
/*
 * json-c builds a tree per feature (an allocation per value, a hash table per object)
 * and costs about a third of an import of point features. Most features are small,
 * well formed and flat, so a feature of a FeatureCollection is first read by this
 * small strict reader into reused buffers. It accepts only a subset of what json-c
 * accepts - a Feature whose geometry is null or a Point, whose properties are scalars,
 * with no duplicate member names where it reads them, no control characters, \u0000
 * or lone surrogates in strings, strictly valid UTF-8, integers of at most 15 digits
 * (not -0) and finite numbers - and gives back the same values json-c would (doubles
 * keep their text, as json-c keeps it). Anything else, and every error, goes to
 * json-c, which decides and words the message exactly as before.
 */

/* The reader's verdict: the feature was read, or json-c must take it. */
#define FAST_OK 0
#define FAST_NO 1

/* Depth of nesting the fast reader follows (json-c allows BT__JSON_DEPTH). */
#define FAST_DEPTH 16

static void fast_ws(fastr *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static bool fast_reserve(fastr *r, size_t n)
{
    if (r->alen + n <= r->acap) return true;
    size_t cap = r->acap ? r->acap : 1024;
    while (cap < r->alen + n) cap *= 2;
    char *a = bt__realloc(r->arena, cap);
    if (!a) {
        r->nomem = true;
        return false;
    }
    r->arena = a;
    r->acap = cap;
    return true;
}

/* Length of the strictly valid UTF-8 sequence at p (lead byte >= 0x80), 0 if invalid. */
static size_t fast_utf8(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else return 0;
    if ((size_t)(end - p) < n) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    return n;
}

static int fast_hex4(const unsigned char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return FAST_NO;
        v = v * 16 + d;
    }
    *out = v;
    return FAST_OK;
}

/* A string at r->p (on the quote); decoded into the arena when @p keep, its offset in
 * *off. */
static int fast_string(fastr *r, bool keep, size_t *off)
{
    r->p++;
    if (keep) *off = r->alen;
    for (;;) {
        /* a run of plain ASCII bytes */
        const unsigned char *s = r->p;
        while (r->p < r->end && (scan_class[*r->p] & SCAN_PLAIN)) r->p++;
        if (keep && r->p > s) {
            if (!fast_reserve(r, (size_t)(r->p - s))) return FAST_NO;
            memcpy(r->arena + r->alen, s, (size_t)(r->p - s));
            r->alen += (size_t)(r->p - s);
        }
        if (r->p >= r->end) return FAST_NO;
        unsigned c = *r->p;
        if (c == '"') {
            r->p++;
            if (keep) {
                if (!fast_reserve(r, 1)) return FAST_NO;
                r->arena[r->alen++] = '\0';
            }
            return FAST_OK;
        }
        if (c < 0x20) return FAST_NO;
        char enc[4];
        size_t n;
        if (c == '\\') {
            if (r->end - r->p < 2) return FAST_NO;
            unsigned e = r->p[1];
            r->p += 2;
            n = 1;
            switch (e) {
            case '"': enc[0] = '"'; break;
            case '\\': enc[0] = '\\'; break;
            case '/': enc[0] = '/'; break;
            case 'b': enc[0] = '\b'; break;
            case 'f': enc[0] = '\f'; break;
            case 'n': enc[0] = '\n'; break;
            case 'r': enc[0] = '\r'; break;
            case 't': enc[0] = '\t'; break;
            case 'u': {
                unsigned u;
                if (r->end - r->p < 4 || fast_hex4(r->p, &u)) return FAST_NO;
                r->p += 4;
                if (u == 0 || (u >= 0xD800 && u <= 0xDFFF)) return FAST_NO; /* json-c's way */
                if (u < 0x80) {
                    enc[0] = (char)u;
                } else if (u < 0x800) {
                    enc[0] = (char)(0xC0 | (u >> 6));
                    enc[1] = (char)(0x80 | (u & 0x3F));
                    n = 2;
                } else {
                    enc[0] = (char)(0xE0 | (u >> 12));
                    enc[1] = (char)(0x80 | ((u >> 6) & 0x3F));
                    enc[2] = (char)(0x80 | (u & 0x3F));
                    n = 3;
                }
                break;
            }
            default: return FAST_NO;
            }
        } else {
            n = fast_utf8(r->p, r->end);
            if (n == 0) return FAST_NO;
            memcpy(enc, r->p, n);
            r->p += n;
        }
        if (keep) {
            if (!fast_reserve(r, n)) return FAST_NO;
            memcpy(r->arena + r->alen, enc, n);
            r->alen += n;
        }
    }
}

/* A number at r->p: its value, and its text as json-c gives it (in the arena when
 * @p keep). */
static int fast_number(fastr *r, bool keep, double *num, size_t *off)
{
    const unsigned char *s = r->p, *q = r->p;
    bool is_double = false;
    if (q < r->end && *q == '-') q++;
    const unsigned char *digits = q;
    if (q < r->end && *q == '0') q++;
    else if (q < r->end && *q >= '1' && *q <= '9')
        while (q < r->end && *q >= '0' && *q <= '9') q++;
    else return FAST_NO;
    size_t ndig = (size_t)(q - digits), nfrac = 0;
    bool has_exp = false;
    if (q < r->end && *q == '.') {
        is_double = true;
        const unsigned char *d = ++q;
        while (q < r->end && *q >= '0' && *q <= '9') q++;
        if (q == d) return FAST_NO;
        nfrac = (size_t)(q - d);
    }
    if (q < r->end && (*q == 'e' || *q == 'E')) {
        is_double = true;
        has_exp = true;
        q++;
        if (q < r->end && (*q == '+' || *q == '-')) q++;
        const unsigned char *d = q;
        while (q < r->end && *q >= '0' && *q <= '9') q++;
        if (q == d) return FAST_NO;
    }
    size_t len = (size_t)(q - s);
    /* an integer json-c would print differently (-0) or not hold exactly */
    if (!is_double && (ndig > 15 || (s[0] == '-' && s[1] == '0'))) return FAST_NO;
    if (len > 63) return FAST_NO;
    char tmp[64];
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (!has_exp && ndig + nfrac <= 15) {
        /* At most 15 digits: the digits as an integer and 10^nfrac are exact doubles,
         * so their quotient is the correctly rounded value, strtod's own result
         * (Clinger's fast path), without strtod's cost (a few % of an import). */
        static const double p10[16] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
        int64_t m = 0;
        for (const unsigned char *c = digits; c < q; c++)
            if (*c != '.') m = m * 10 + (*c - '0');
        double v = (double)m / p10[nfrac];
        *num = s[0] == '-' ? -v : v;
    } else {
        *num = strtod(tmp, NULL);
    }
    if (!isfinite(*num)) return FAST_NO;
    r->p = q;
    if (keep) {
        if (!fast_reserve(r, len + 1)) return FAST_NO;
        *off = r->alen;
        memcpy(r->arena + r->alen, tmp, len + 1);
        r->alen += len + 1;
    }
    return FAST_OK;
}

static bool fast_lit(fastr *r, const char *w, size_t n)
{
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0) return false;
    r->p += n;
    return true;
}

/* Skips any value (checking it as strictly as the rest). */
static int fast_skip(fastr *r, int depth)
{
    size_t off;
    double d;
    if (depth > FAST_DEPTH || r->p >= r->end) return FAST_NO;
    unsigned c = *r->p;
    if (c == '"') return fast_string(r, false, &off);
    if (c == '-' || (c >= '0' && c <= '9')) return fast_number(r, false, &d, &off);
    if (c == 't') return fast_lit(r, "true", 4) ? FAST_OK : FAST_NO;
    if (c == 'f') return fast_lit(r, "false", 5) ? FAST_OK : FAST_NO;
    if (c == 'n') return fast_lit(r, "null", 4) ? FAST_OK : FAST_NO;
    if (c != '{' && c != '[') return FAST_NO;
    bool obj = c == '{';
    r->p++;
    fast_ws(r);
    if (r->p < r->end && *r->p == (obj ? '}' : ']')) {
        r->p++;
        return FAST_OK;
    }
    for (;;) {
        if (obj) {
            if (r->p >= r->end || *r->p != '"' || fast_string(r, false, &off)) return FAST_NO;
            fast_ws(r);
            if (r->p >= r->end || *r->p != ':') return FAST_NO;
            r->p++;
            fast_ws(r);
        }
        if (fast_skip(r, depth + 1)) return FAST_NO;
        fast_ws(r);
        if (r->p >= r->end) return FAST_NO;
        if (*r->p == ',') {
            r->p++;
            fast_ws(r);
            continue;
        }
        if (*r->p != (obj ? '}' : ']')) return FAST_NO;
        r->p++;
        return FAST_OK;
    }
}

/* Reads one scalar into a property slot (strings and numbers keep their text). */
static int fast_scalar(fastr *r, fast_prop *pr)
{
    memset(&pr->v, 0, sizeof pr->v);
    pr->str = (size_t)-1;
    if (r->p >= r->end) return FAST_NO;
    unsigned c = *r->p;
    if (c == '"') {
        pr->v.kind = BT__V_STRING;
        return fast_string(r, true, &pr->str);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        pr->v.kind = BT__V_NUMBER;
        return fast_number(r, true, &pr->v.num, &pr->str);
    }
    if (fast_lit(r, "true", 4)) {
        pr->v.kind = BT__V_BOOL;
        pr->v.b = true;
        pr->v.str = "true";
        return FAST_OK;
    }
    if (fast_lit(r, "false", 5)) {
        pr->v.kind = BT__V_BOOL;
        pr->v.str = "false";
        return FAST_OK;
    }
    if (fast_lit(r, "null", 4)) {
        pr->v.kind = BT__V_NULL;
        return FAST_OK;
    }
    return FAST_NO; /* an array or object: json-c's job */
}

/* Iterates over the members of the object at r->p, calling @p member with the name's
 * arena offset and r->p on the value; a repeated name goes to json-c (it keeps the
 * last one). */
typedef int (*fast_member_fn)(fastr *r, size_t key, void *ctx);

#define FAST_MAX_MEMBERS 64

static int fast_object(fastr *r, fast_member_fn member, void *ctx)
{
    if (r->p >= r->end || *r->p != '{') return FAST_NO;
    r->p++;
    fast_ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return FAST_OK;
    }
    size_t keys[FAST_MAX_MEMBERS];
    size_t nk = 0;
    for (;;) {
        size_t key;
        if (r->p >= r->end || *r->p != '"' || fast_string(r, true, &key)) return FAST_NO;
        if (nk == FAST_MAX_MEMBERS) return FAST_NO;
        for (size_t k = 0; k < nk; k++)
            if (same_name(r->arena + keys[k], r->arena + key)) return FAST_NO;
        keys[nk++] = key;
        fast_ws(r);
        if (r->p >= r->end || *r->p != ':') return FAST_NO;
        r->p++;
        fast_ws(r);
        if (member(r, key, ctx)) return FAST_NO;
        fast_ws(r);
        if (r->p >= r->end) return FAST_NO;
        if (*r->p == ',') {
            r->p++;
            fast_ws(r);
            continue;
        }
        if (*r->p != '}') return FAST_NO;
        r->p++;
        return FAST_OK;
    }
}

/* What the fast reader found in a feature. */
typedef struct fast_feat {
    bool type_ok, has_geom, point;
    size_t gtype; /* arena offset of the geometry's type, or -1 */
    double x, y;
    bool has_coords;
    bool top_member; /* "crs" or "features" (skipped here; at top level they count) */
    fast_prop id;
} fast_feat;

static int fast_prop_member(fastr *r, size_t key, void *ctx)
{
    (void)ctx;
    if (r->nprops == r->pcap) {
        size_t cap = r->pcap ? r->pcap * 2 : 32;
        fast_prop *np = bt__realloc(r->props, cap * sizeof *np);
        if (!np) {
            r->nomem = true;
            return FAST_NO;
        }
        r->props = np;
        r->pcap = cap;
    }
    fast_prop *pr = &r->props[r->nprops];
    pr->key = key;
    if (fast_scalar(r, pr)) return FAST_NO;
    r->nprops++;
    return FAST_OK;
}

static int fast_geom_member(fastr *r, size_t key, void *ctx)
{
    fast_feat *ff = ctx;
    const char *k = r->arena + key;
    if (same_name(k, "type")) {
        if (r->p >= r->end || *r->p != '"') return FAST_NO;
        return fast_string(r, true, &ff->gtype);
    }
    if (!same_name(k, "coordinates")) return fast_skip(r, 2);
    /* [x, y, anything...] */
    size_t off;
    if (r->p >= r->end || *r->p != '[') return FAST_NO;
    r->p++;
    fast_ws(r);
    if (fast_number(r, false, &ff->x, &off)) return FAST_NO;
    fast_ws(r);
    if (r->p >= r->end || *r->p != ',') return FAST_NO;
    r->p++;
    fast_ws(r);
    if (fast_number(r, false, &ff->y, &off)) return FAST_NO;
    for (;;) {
        fast_ws(r);
        if (r->p >= r->end) return FAST_NO;
        if (*r->p == ']') {
            r->p++;
            ff->has_coords = true;
            return FAST_OK;
        }
        if (*r->p != ',') return FAST_NO;
        r->p++;
        fast_ws(r);
        if (fast_skip(r, 3)) return FAST_NO;
    }
}

static int fast_feature_member(fastr *r, size_t key, void *ctx)
{
    fast_feat *ff = ctx;
    const char *k = r->arena + key;
    if (same_name(k, "type")) {
        size_t off;
        if (r->p >= r->end || *r->p != '"' || fast_string(r, true, &off)) return FAST_NO;
        ff->type_ok = same_name(r->arena + off, "Feature");
        return ff->type_ok ? FAST_OK : FAST_NO;
    }
    if (same_name(k, "properties")) {
        if (fast_lit(r, "null", 4)) return FAST_OK;
        return fast_object(r, fast_prop_member, ff);
    }
    if (same_name(k, "id")) {
        if (fast_scalar(r, &ff->id) || ff->id.v.kind == BT__V_BOOL) return FAST_NO;
        return FAST_OK;
    }
    if (same_name(k, "geometry")) {
        ff->has_geom = true;
        if (fast_lit(r, "null", 4)) return FAST_OK;
        ff->point = true;
        return fast_object(r, fast_geom_member, ff);
    }
    if (same_name(k, "crs") || same_name(k, "features")) ff->top_member = true;
    return fast_skip(r, 1);
}

/* Reads the feature text [start, end) the fast way; FAST_NO leaves it to json-c. */
static int fast_feature_in(jstate *js, size_t start, size_t *end, bool open, fast_feat *ff);

static int fast_feature(jstate *js, size_t start, size_t end, fast_feat *ff)
{
    return fast_feature_in(js, start, &end, false, ff);
}

/* As fast_feature(), but the feature may end anywhere in the bytes read from start on:
 * FAST_OK sets *end past its closing brace, which is where value_extent() would end it
 * (the fast reader read a whole valid object, strings included, to get there).
 * FAST_NO when it is not all in those bytes. */
static int fast_feature_open(jstate *js, size_t start, size_t *end, fast_feat *ff)
{
    *end = js->r->base + js->r->len;
    return fast_feature_in(js, start, end, true, ff);
}

static int fast_feature_in(jstate *js, size_t start, size_t *end, bool open, fast_feat *ff)
{
    fastr *r = &js->fast;
    bt__reader *rd = js->r;
    r->p = (const unsigned char *)rd->data + (start - rd->base);
    r->end = r->p + (*end - start);
    const unsigned char *first = r->p;
    r->alen = 0;
    r->nprops = 0;
    r->nomem = false;
    memset(ff, 0, sizeof *ff);
    ff->gtype = (size_t)-1;
    ff->id.v.kind = BT__V_ABSENT;
    ff->id.str = (size_t)-1;
    if (fast_object(r, fast_feature_member, ff)) return FAST_NO;
    if (open) {
        *end = start + (size_t)(r->p - first);
        r->end = r->p;
    }
    fast_ws(r);
    if (r->p != r->end || !ff->type_ok || !ff->has_geom) return FAST_NO;
    if (ff->point && (ff->gtype == (size_t)-1 || strcmp(r->arena + ff->gtype, "Point") != 0 ||
                      !ff->has_coords))
        return FAST_NO;
    /* the arena is complete: texts become pointers */
    for (size_t i = 0; i < r->nprops; i++)
        if (r->props[i].str != (size_t)-1) r->props[i].v.str = r->arena + r->props[i].str;
    if (ff->id.str != (size_t)-1) ff->id.v.str = r->arena + ff->id.str;
    return FAST_OK;
}

static void fast_get(bt__feature *f, const char *key, bt__val *out)
{
    jstate *js = f->impl;
    fastr *r = &js->fast;
    for (size_t i = 0; i < r->nprops; i++) {
        /* most look-ups are of absent names: same_name() settles them inline */
        if (same_name(r->arena + r->props[i].key, key)) {
            *out = r->props[i].v;
            return;
        }
    }
    memset(out, 0, sizeof *out);
    out->kind = BT__V_ABSENT;
}

/* Processes a feature the fast reader read (fast_feature() returned FAST_OK). */
static int handle_fast(jstate *js, const fast_feat *ff, size_t start, size_t end)
{
    bt__feature *f = &js->f;
    js->nfeat++;
    f->number = js->nfeat;
    bt__reader_pos(js->r, start, true, &f->line, &f->column);
    js->fstart = start;
    js->fend = end;
    f->end_off = end;
    js->props = NULL;
    f->id = ff->id.v;
    f->gtype = BT__G_NONE;
    f->npts = f->nparts = 0;
    if (ff->point) {
        if (bt__feature_push(f, ff->x, ff->y) || bt__feature_end_part(f))
            return bt__error(js->im->s, BT_ERR_NOMEM, "%s: out of memory", js->im->name);
        f->gtype = BT__G_POINT;
    }
    f->get = fast_get;
    js->im->nfast++;
    int rc = bt__import_feature(js->im, f);
    f->get = json_get;
    return rc;
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
        fast_feat ff;
        int rc;
        /* The fast reader finds the end itself when the feature is in the bytes read
         * (all but one in a window's worth): no separate scan for it (a few % of an
         * import). Else, or when it is not for the fast reader, as before. */
        if (!js->im->no_fast && fast_feature_open(js, start, &end, &ff) == FAST_OK) {
            rc = handle_fast(js, &ff, start, end);
        } else if ((rc = value_extent(js, &end)) != BT_OK) {
            return rc;
        } else if (!js->im->no_fast && fast_feature(js, start, end, &ff) == FAST_OK) {
            rc = handle_fast(js, &ff, start, end);
        } else if (js->fast.nomem) {
            return bt__error(js->im->s, BT_ERR_NOMEM, "%s: out of memory", js->im->name);
        } else {
            json_object *obj = NULL;
            rc = parse_text(js, start, end, &obj);
            if (rc) return rc;
            rc = handle_feature(js, obj, start, end);
            json_object_put(obj);
            js->props = NULL;
        }
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

/* A top-level object larger than this is not tried the fast way: a FeatureCollection
 * must not be read whole to find its end (memory stays bounded). */
#define FAST_TOP_MAX 65536

/* The end of the object at js->pos if it ends within FAST_TOP_MAX bytes; false
 * otherwise, and on any problem (the json-c path then reports it). */
static bool top_extent(jstate *js, size_t *end)
{
    size_t p = js->pos;
    struct nest n = {0, false, false};
    while (p - js->pos < FAST_TOP_MAX) {
        int c = byte_at(js, p++);
        if (c < 0) return false;
        if (nest_step(&n, c)) {
            *end = p;
            return true;
        }
    }
    return false;
}

/* One top-level value: a FeatureCollection (streamed) or a Feature. */
static int top_object(jstate *js)
{
    size_t start = js->pos;
    js->keep = start;
    if (byte_at(js, start) != '{')
        return fail_pos(js, start, BT_ERR_PARSE, "expected a GeoJSON object ('{')");
    /* A Feature of a sequence (one a line): the fast reader as in a collection; one
     * with a "crs" or "features" member goes the json-c way, which handles those. */
    size_t fend;
    if (!js->im->no_fast && top_extent(js, &fend)) {
        fast_feat ff;
        if (fast_feature(js, start, fend, &ff) == FAST_OK && !ff.top_member) {
            int rc = handle_fast(js, &ff, start, fend);
            js->pos = fend;
            js->keep = fend;
            return rc;
        }
        if (js->fast.nomem)
            return bt__error(js->im->s, BT_ERR_NOMEM, "%s: out of memory", js->im->name);
    }
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
    bt__free(js.fast.arena);
    bt__free(js.fast.props);
    json_tokener_free(js.tok);
    return rc;
}
