/**
 * @file import_csv.c
 * @brief Streaming RFC 4180 CSV reader: a header row, quoted fields with embedded
 * commas, doubled quotes and line breaks, CRLF or LF line ends, UTF-8 with or
 * without a BOM. Coordinates come from `lon`/`lat` (or `x`/`y`, `longitude`/
 * `latitude`) columns or a `wkt` column (POINT, LINESTRING, MULTILINESTRING, POLYGON, read
 * with the GEOS WKT reader).
 *
 * Hand-written rather than libcsv (docs/formats.md says why): messages must give the
 * physical line of every row and field, and a quoted field may span lines; libcsv's
 * callbacks report neither. The reader keeps one row in memory.
 */
#include "io/io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/** Column look-ups cached per key (keys are the constant names of records.c). */
#define BT__KEYCACHE 48

typedef struct cstate {
    bt__import *im;
    bt__reader *r;
    size_t pos;      /* absolute scan position */
    long line;       /* line of pos */
    /* the current row: fields as NUL-terminated strings in fbuf */
    char *fbuf;
    size_t flen, fcap;
    size_t *foff;    /* offset of each field in fbuf */
    long *fline;     /* line where each field starts */
    size_t nf, fcapn;
    /* the header */
    char *hbuf;      /* copy of the header fields */
    size_t *hoff;
    size_t nh;
    int col_wkt, col_lon, col_lat;
    struct {
        const char *key;
        int col;
    } cache[BT__KEYCACHE];
    int ncache;
    bt__feature f;
} cstate;

static int nomem(cstate *cs)
{
    return bt__error(cs->im->s, BT_ERR_NOMEM, "%s: out of memory", cs->im->name);
}

static int byte_at(cstate *cs, size_t off, size_t keep)
{
    bt__reader *r = cs->r;
    while (off >= r->base + r->len) {
        long got = bt__reader_more(r, keep);
        if (got < 0) return -2;
        if (got == 0) return -1;
    }
    return (unsigned char)r->data[off - r->base];
}

static int put_char(cstate *cs, char c)
{
    if (cs->flen == cs->fcap) {
        size_t ncap = cs->fcap ? cs->fcap * 2 : 1024;
        char *nb = bt__realloc(cs->fbuf, ncap);
        if (!nb) return BT_ERR_NOMEM;
        cs->fbuf = nb;
        cs->fcap = ncap;
    }
    cs->fbuf[cs->flen++] = c;
    return BT_OK;
}

static int start_field(cstate *cs)
{
    if (cs->nf == cs->fcapn) {
        size_t ncap = cs->fcapn ? cs->fcapn * 2 : 32;
        size_t *no = bt__realloc(cs->foff, ncap * sizeof *no);
        if (!no) return BT_ERR_NOMEM;
        cs->foff = no;
        long *nl = bt__realloc(cs->fline, ncap * sizeof *nl);
        if (!nl) return BT_ERR_NOMEM;
        cs->fline = nl;
        cs->fcapn = ncap;
    }
    cs->foff[cs->nf] = cs->flen;
    cs->fline[cs->nf] = cs->line;
    cs->nf++;
    return BT_OK;
}

/* Reads one row into the field buffer. *got false at the end of the input. Blank lines
 * are skipped. */
static int read_row(cstate *cs, bool *got, long *row_line)
{
    *got = false;
    cs->flen = 0;
    cs->nf = 0;
    int c;
    /* skip blank lines */
    for (;;) {
        c = byte_at(cs, cs->pos, cs->pos);
        if (c == '\r' && byte_at(cs, cs->pos + 1, cs->pos) == '\n') {
            cs->pos += 2;
            cs->line++;
        } else if (c == '\n') {
            cs->pos++;
            cs->line++;
        } else {
            break;
        }
    }
    if (c == -2) return nomem(cs);
    if (c == -1) return BT_OK;
    size_t keep = cs->pos;
    *row_line = cs->line;
    *got = true;
    for (;;) {
        /* one field */
        if (start_field(cs)) return nomem(cs);
        c = byte_at(cs, cs->pos, keep);
        if (c == '"') {
            long qline = cs->line;
            cs->pos++;
            for (;;) {
                c = byte_at(cs, cs->pos, keep);
                if (c == -2) return nomem(cs);
                if (c == -1)
                    return bt__import_error_at(cs->im, BT_ERR_PARSE, qline, 0,
                                               "a quoted field is not closed before the end of "
                                               "the file");
                cs->pos++;
                if (c == '"') {
                    if (byte_at(cs, cs->pos, keep) == '"') {
                        cs->pos++;
                        if (put_char(cs, '"')) return nomem(cs);
                        continue;
                    }
                    break;
                }
                if (c == '\n') cs->line++;
                if (put_char(cs, (char)c)) return nomem(cs);
            }
            c = byte_at(cs, cs->pos, keep);
            if (c != ',' && c != '\n' && c != '\r' && c != -1) {
                if (c == -2) return nomem(cs);
                return bt__import_error_at(cs->im, BT_ERR_PARSE, cs->line, 0,
                                           "unexpected text after the closing quote of field "
                                           "%zu (a quote inside a quoted field must be doubled)",
                                           cs->nf);
            }
        } else {
            for (;;) {
                c = byte_at(cs, cs->pos, keep);
                if (c == -2) return nomem(cs);
                if (c == -1 || c == ',' || c == '\n' || c == '\r') break;
                if (c == '"')
                    return bt__import_error_at(cs->im, BT_ERR_PARSE, cs->line, 0,
                                               "a quote inside unquoted field %zu (quote the "
                                               "whole field and double the quote)",
                                               cs->nf);
                if (put_char(cs, (char)c)) return nomem(cs);
                cs->pos++;
            }
        }
        if (put_char(cs, '\0')) return nomem(cs);
        if (c == ',') {
            cs->pos++;
            continue;
        }
        if (c == '\r') {
            cs->pos++;
            if (byte_at(cs, cs->pos, keep) == '\n') cs->pos++;
            cs->line++;
        } else if (c == '\n') {
            cs->pos++;
            cs->line++;
        }
        if (cs->r->io_error)
            return bt__error(cs->im->s, BT_ERR_IO, "%s: read error: %s", cs->im->name,
                             strerror(cs->r->io_errno));
        return BT_OK;
    }
}

static int find_col(cstate *cs, const char *name)
{
    for (size_t i = 0; i < cs->nh; i++)
        if (strcasecmp(cs->hbuf + cs->hoff[i], name) == 0) return (int)i;
    return -1;
}

static int col_of(cstate *cs, const char *key)
{
    for (int i = 0; i < cs->ncache; i++)
        if (cs->cache[i].key == key) return cs->cache[i].col;
    int col = find_col(cs, key);
    if (cs->ncache < BT__KEYCACHE) {
        cs->cache[cs->ncache].key = key;
        cs->cache[cs->ncache].col = col;
        cs->ncache++;
    }
    return col;
}

static void csv_get(bt__feature *f, const char *key, bt__val *out)
{
    cstate *cs = f->impl;
    memset(out, 0, sizeof *out);
    int col = col_of(cs, key);
    if (col < 0 || (size_t)col >= cs->nf || cs->fbuf[cs->foff[col]] == '\0') {
        out->kind = BT__V_ABSENT;
        return;
    }
    out->kind = BT__V_STRING;
    out->str = cs->fbuf + cs->foff[col];
}

static void csv_locate(bt__feature *f, const char *key, long *line, long *col)
{
    cstate *cs = f->impl;
    *line = f->line;
    *col = 0;
    int c = strcmp(key, "geometry") == 0 ? (cs->col_wkt >= 0 ? cs->col_wkt : cs->col_lon)
                                         : col_of(cs, key);
    if (c >= 0 && (size_t)c < cs->nf) *line = cs->fline[c];
}

static int read_header(cstate *cs)
{
    bool got;
    long line;
    int rc = read_row(cs, &got, &line);
    if (rc) return rc;
    if (!got) return bt__import_error_at(cs->im, BT_ERR_PARSE, 1, 0, "the file is empty; expected a header row");
    /* Drop a UTF-8 byte order mark. */
    if (cs->flen >= 3 && memcmp(cs->fbuf, "\xEF\xBB\xBF", 3) == 0) {
        memmove(cs->fbuf, cs->fbuf + 3, cs->flen - 3);
        cs->flen -= 3;
        for (size_t i = 1; i < cs->nf; i++) cs->foff[i] -= 3;
    }
    cs->hbuf = bt__malloc(cs->flen ? cs->flen : 1);
    cs->hoff = bt__malloc((cs->nf ? cs->nf : 1) * sizeof *cs->hoff);
    if (!cs->hbuf || !cs->hoff) return nomem(cs);
    memcpy(cs->hbuf, cs->fbuf, cs->flen);
    memcpy(cs->hoff, cs->foff, cs->nf * sizeof *cs->hoff);
    cs->nh = cs->nf;
    for (size_t i = 0; i < cs->nh; i++) {
        /* trim spaces around names */
        char *h = cs->hbuf + cs->hoff[i];
        while (*h == ' ') h++;
        size_t n = strlen(h);
        while (n && h[n - 1] == ' ') h[--n] = '\0';
        cs->hoff[i] = (size_t)(h - cs->hbuf);
        if (!*h)
            return bt__import_error_at(cs->im, BT_ERR_PARSE, line, 0, "column %zu of the header has no name", i + 1);
        for (size_t j = 0; j < i; j++)
            if (strcasecmp(h, cs->hbuf + cs->hoff[j]) == 0)
                return bt__import_error_at(cs->im, BT_ERR_PARSE, line, 0,
                                           "column '%s' appears twice in the header", h);
    }
    cs->col_wkt = find_col(cs, "wkt");
    static const char *const lon_names[] = {"lon", "longitude", "lng", "x"};
    static const char *const lat_names[] = {"lat", "latitude", "y"};
    cs->col_lon = cs->col_lat = -1;
    for (size_t i = 0; i < 4 && cs->col_lon < 0; i++) cs->col_lon = find_col(cs, lon_names[i]);
    for (size_t i = 0; i < 3 && cs->col_lat < 0; i++) cs->col_lat = find_col(cs, lat_names[i]);
    if ((cs->col_lon < 0) != (cs->col_lat < 0))
        return bt__import_error_at(cs->im, BT_ERR_PARSE, line, 0,
                                   "the header has a %s column but no %s column",
                                   cs->col_lon < 0 ? "latitude" : "longitude",
                                   cs->col_lon < 0 ? "longitude" : "latitude");
    return BT_OK;
}

/* Points of a GEOS LineString or Point into the feature. */
static int push_seq(cstate *cs, const GEOSGeometry *g)
{
    GEOSContextHandle_t ctx = cs->im->s->geos; /* set: read_wkt() parsed g */
    const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(ctx, g);
    unsigned int n = 0;
    if (!seq || !GEOSCoordSeq_getSize_r(ctx, seq, &n)) return BT_ERR_GEOMETRY;
    for (unsigned int i = 0; i < n; i++) {
        double x, y;
        if (!GEOSCoordSeq_getXY_r(ctx, seq, i, &x, &y)) return BT_ERR_GEOMETRY;
        if (bt__feature_push(&cs->f, x, y)) return BT_ERR_NOMEM;
    }
    return bt__feature_end_part(&cs->f) ? BT_ERR_NOMEM : BT_OK;
}

static int read_wkt(cstate *cs, const char *text)
{
    bt__import *im = cs->im;
    bt__feature *f = &cs->f;
    GEOSContextHandle_t ctx;
    int lrc = bt__geos(im->s, &ctx); /* GEOS is loaded at the first WKT cell */
    if (lrc) return lrc;
    if (!im->wkt) {
        im->wkt = GEOSWKTReader_create_r(ctx);
        if (!im->wkt) return nomem(cs);
    }
    GEOSGeometry *g = GEOSWKTReader_read_r(ctx, im->wkt, text);
    if (!g) {
        char b[48];
        snprintf(b, sizeof b, "%.40s%s", text, strlen(text) > 40 ? "..." : "");
        /* GEOS's reason (a ring that is not closed, where the parse stopped) went to
         * the store's message through the context's error handler */
        const char *m = bt_store_errmsg(im->s);
        char why[160] = "";
        if (strncmp(m, "GEOS: ", 6) == 0) snprintf(why, sizeof why, "; %s", m);
        return bt__import_fail(im, f, "wkt", BT_ERR_INVALID, "column 'wkt' is '%s'; expected "
                               "WKT (POINT, LINESTRING, MULTILINESTRING or POLYGON)%s", b, why);
    }
    int rc = BT_OK;
    int type = GEOSGeomTypeId_r(ctx, g);
    if (GEOSisEmpty_r(ctx, g) == 1) {
        rc = bt__import_fail(im, f, "wkt", BT_ERR_INVALID, "column 'wkt' holds an empty geometry");
    } else if (type == GEOS_POINT) {
        f->gtype = BT__G_POINT;
        rc = push_seq(cs, g);
    } else if (type == GEOS_LINESTRING) {
        f->gtype = BT__G_LINE;
        rc = push_seq(cs, g);
    } else if (type == GEOS_MULTILINESTRING) {
        f->gtype = BT__G_MULTILINE;
        int n = GEOSGetNumGeometries_r(ctx, g);
        for (int i = 0; i < n && !rc; i++) rc = push_seq(cs, GEOSGetGeometryN_r(ctx, g, i));
    } else if (type == GEOS_POLYGON) {
        f->gtype = BT__G_POLYGON;
        int holes = GEOSGetNumInteriorRings_r(ctx, g);
        if (holes != 0)
            rc = bt__import_fail(im, f, "wkt", BT_ERR_INVALID, "column 'wkt': the POLYGON has "
                                 "%d rings; only one (the exterior ring, no holes) is "
                                 "supported", holes + 1);
        else
            rc = push_seq(cs, GEOSGetExteriorRing_r(ctx, g));
    } else {
        char *tname = GEOSGeomType_r(ctx, g); /* the caller frees it */
        rc = bt__import_fail(im, f, "wkt", BT_ERR_INVALID, "column 'wkt': geometry type '%s' is "
                             "not supported (POINT, LINESTRING, MULTILINESTRING, POLYGON)",
                             tname ? tname : "?");
        GEOSFree_r(ctx, tname);
    }
    GEOSGeom_destroy_r(ctx, g);
    if (rc == BT_ERR_NOMEM) return nomem(cs);
    if (rc == BT_ERR_GEOMETRY)
        return bt__import_fail(im, f, "wkt", BT_ERR_GEOMETRY, "column 'wkt': cannot read the coordinates");
    return rc;
}

static int read_coords(cstate *cs)
{
    bt__feature *f = &cs->f;
    f->gtype = BT__G_NONE;
    f->npts = f->nparts = 0;
    if (cs->col_wkt >= 0 && (size_t)cs->col_wkt < cs->nf) {
        const char *w = cs->fbuf + cs->foff[cs->col_wkt];
        if (*w) return read_wkt(cs, w);
    }
    if (cs->col_lon < 0) return BT_OK;
    const char *xs = cs->fbuf + cs->foff[cs->col_lon], *ys = cs->fbuf + cs->foff[cs->col_lat];
    if (!*xs && !*ys) return BT_OK;
    const char *names[2] = {cs->hbuf + cs->hoff[cs->col_lon], cs->hbuf + cs->hoff[cs->col_lat]};
    const char *vals[2] = {xs, ys};
    double v[2];
    for (int i = 0; i < 2; i++) {
        char *end;
        v[i] = strtod(vals[i], &end);
        if (!*vals[i] || *end || !isfinite(v[i])) {
            char b[64];
            snprintf(b, sizeof b, "%.56s", vals[i]);
            return bt__import_fail(cs->im, f, names[i], BT_ERR_INVALID,
                                   "column '%s' is '%s'; expected a number", names[i], b);
        }
    }
    f->gtype = BT__G_POINT;
    if (bt__feature_push(f, v[0], v[1]) || bt__feature_end_part(f)) return nomem(cs);
    return BT_OK;
}

int bt__import_csv(bt__import *im, bt__reader *r)
{
    cstate cs;
    memset(&cs, 0, sizeof cs);
    cs.im = im;
    cs.r = r;
    cs.line = 1;
    cs.f.csv = true;
    cs.f.get = csv_get;
    cs.f.locate = csv_locate;
    cs.f.impl = &cs;
    int rc = read_header(&cs);
    long row = 0;
    while (!rc) {
        bool got;
        long line;
        rc = read_row(&cs, &got, &line);
        if (rc || !got) break;
        row++;
        bt__feature *f = &cs.f;
        f->number = row;
        f->line = line;
        f->column = 0;
        f->end_off = cs.pos;
        if (cs.nf != cs.nh) {
            rc = bt__import_fail(im, f, NULL, BT_ERR_PARSE, "the row has %zu field%s; the header has %zu",
                                 cs.nf, cs.nf == 1 ? "" : "s", cs.nh);
            rc = bt__import_feature_failed(im, f, rc);
            continue;
        }
        rc = read_coords(&cs);
        if (rc) {
            rc = bt__import_feature_failed(im, f, rc);
            continue;
        }
        rc = bt__import_feature(im, f);
    }
    bt__feature_free_arrays(&cs.f);
    bt__free(cs.fbuf);
    bt__free(cs.foff);
    bt__free(cs.fline);
    bt__free(cs.hbuf);
    bt__free(cs.hoff);
    return rc;
}
