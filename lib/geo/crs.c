/**
 * @file crs.c
 * @brief Coordinate transforms to WGS 84 and the local conformal projection used for
 * metric geometry work, both on a store's PROJ context.
 */
#include "geo/geo.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

struct bt__crs {
    PJ *pj;     /* normalised (GIS axis order) operation source -> EPSG:4326 */
    char *name; /* the CRS text as given, for messages */
};

struct bt__localproj {
    PJ *pj;           /* degrees -> radians -> projection, a pipeline */
    char def[512];    /* the projection's PROJ string */
};

/* PROJ's reason for the last failure on the context, or @p fallback where PROJ has
 * none worth showing (it says "Unknown error (code 4096)" for a name it cannot
 * resolve; its detailed message goes only to the context's logger, which belongs to
 * the store). */
static const char *bt__proj_reason(PJ_CONTEXT *ctx, const char *fallback)
{
    const int err = proj_context_errno(ctx);
    const char *msg = err != 0 ? proj_context_errno_string(ctx, err) : NULL;
    if (msg == NULL || err == PROJ_ERR_OTHER || strncmp(msg, "Unknown error", 13) == 0)
        return fallback;
    return msg;
}

/* Accepts the CRS types a horizontal position can be given in. */
static bool bt__is_horizontal_crs(PJ_TYPE type)
{
    switch (type) {
    case PJ_TYPE_GEOGRAPHIC_2D_CRS:
    case PJ_TYPE_GEOGRAPHIC_3D_CRS:
    case PJ_TYPE_PROJECTED_CRS:
    case PJ_TYPE_COMPOUND_CRS:
    case PJ_TYPE_BOUND_CRS:
    case PJ_TYPE_OTHER_CRS:
        return true;
    default:
        return false;
    }
}

static bool is_word_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

/* The field of s up to the next ':' (or the end): its length. */
static size_t field_len(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0' && s[n] != ':') n++;
    return n;
}

static bool all_word_chars(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_word_char(s[i])) return false;
    return true;
}

/*
 * Is crs written in one of the forms the library takes: AUTHORITY:CODE, an OGC URN
 * (urn:ogc:def:crs:AUTHORITY:[VERSION]:CODE, or a compound urn:ogc:def:crs,...), an
 * OGC http URI, WKT, PROJJSON or a PROJ string? proj_create() also takes an object
 * *name* and matches it loosely ("foo" gives Amersfoort, EPSG:4289) after a search
 * of its database that takes up to 0.6 s; a CRS an analyst did not name must not be
 * used, so names are refused here.
 */
static bool crs_form_ok(const char *crs)
{
    while (*crs == ' ' || *crs == '\t' || *crs == '\n' || *crs == '\r') crs++;
    if (*crs == '+' || strncmp(crs, "proj=", 5) == 0 || *crs == '{') return true;
    if (strncmp(crs, "urn:ogc:def:crs,", 16) == 0) return true;
    if (strncmp(crs, "http://www.opengis.net/def/crs", 30) == 0 ||
        strncmp(crs, "https://www.opengis.net/def/crs", 31) == 0)
        return true;
    if (strncmp(crs, "urn:ogc:def:crs:", 16) == 0) {
        const char *a = crs + 16;
        size_t na = field_len(a);
        if (na == 0 || a[na] != ':' || !all_word_chars(a, na)) return false;
        const char *v = a + na + 1;
        size_t nv = field_len(v);
        if (v[nv] != ':' || !all_word_chars(v, nv)) return false;
        const char *c = v + nv + 1;
        size_t nc = field_len(c);
        return nc > 0 && c[nc] == '\0' && all_word_chars(c, nc);
    }
    /* WKT: a keyword, then [ or ( */
    size_t k = 0;
    while ((crs[k] >= 'A' && crs[k] <= 'Z') || (crs[k] >= 'a' && crs[k] <= 'z') ||
           (crs[k] >= '0' && crs[k] <= '9') || crs[k] == '_')
        k++;
    if (k > 0) {
        size_t j = k;
        while (crs[j] == ' ' || crs[j] == '\t' || crs[j] == '\n' || crs[j] == '\r') j++;
        if (crs[j] == '[' || crs[j] == '(') return true;
    }
    /* AUTHORITY:CODE */
    size_t na = field_len(crs);
    if (na == 0 || crs[na] != ':' || !all_word_chars(crs, na)) return false;
    const char *c = crs + na + 1;
    size_t nc = field_len(c);
    return nc > 0 && c[nc] == '\0' && all_word_chars(c, nc);
}

int bt__crs_open(bt_store *s, const char *crs, bt__crs **out)
{
    if (out != NULL)
        *out = NULL;
    if (BT_NEVER(s == NULL) || crs == NULL || out == NULL)
        return bt__error(s, BT_ERR_INVALID, "bt__crs_open: NULL argument");
    if (!crs_form_ok(crs))
        return bt__error(s, BT_ERR_CRS,
                         "CRS '%.200s': not an AUTHORITY:CODE (e.g. EPSG:32652), an OGC URN "
                         "(urn:ogc:def:crs:EPSG::32652), WKT, PROJJSON or a PROJ string",
                         crs);
    PJ_CONTEXT *ctx;
    int rc = bt__proj(s, &ctx);
    if (rc) return rc;
    PJ *src = proj_create(ctx, crs);
    if (src == NULL)
        return bt__error(s, BT_ERR_CRS, "CRS '%.200s': unknown to PROJ (%s)", crs,
                         bt__proj_reason(ctx, "not an AUTHORITY:CODE in its database, nor "
                                              "WKT, PROJJSON or a PROJ string"));
    if (!proj_is_crs(src) || !bt__is_horizontal_crs(proj_get_type(src))) {
        proj_destroy(src);
        return bt__error(s, BT_ERR_CRS,
                         "CRS '%.200s': not a geographic or projected coordinate reference "
                         "system (a PROJ string needs +type=crs)", crs);
    }
    PJ *dst = proj_create(ctx, "EPSG:4326");
    if (dst == NULL) {
        proj_destroy(src);
        return bt__error(s, BT_ERR_CRS, "EPSG:4326 unavailable: is proj.db installed? (%s)",
                         bt__proj_reason(ctx, "no detail from PROJ"));
    }
    PJ *op = proj_create_crs_to_crs_from_pj(ctx, src, dst, NULL, NULL);
    proj_destroy(src);
    proj_destroy(dst);
    if (op == NULL)
        return bt__error(s, BT_ERR_CRS, "CRS '%.200s': no transformation to WGS 84 (%s)", crs,
                         bt__proj_reason(ctx, "no detail from PROJ"));
    /* GIS order on both sides: lon/lat or easting/northing, whatever the authority
     * says (EPSG:4326 itself is lat/lon) */
    PJ *norm = proj_normalize_for_visualization(ctx, op);
    proj_destroy(op);
    if (norm == NULL)
        return bt__error(s, BT_ERR_CRS, "CRS '%.200s': cannot normalise the axis order (%s)",
                         crs, bt__proj_reason(ctx, "no detail from PROJ"));
    bt__crs *t = bt__malloc(sizeof *t);
    char *name = bt__strdup(crs);
    if (t == NULL || name == NULL) {
        bt__free(t);
        bt__free(name);
        proj_destroy(norm);
        return bt__error(s, BT_ERR_NOMEM, "CRS '%.200s': out of memory", crs);
    }
    t->pj = norm;
    t->name = name;
    *out = t;
    return BT_OK;
}

/* Runs pj over n strided points in place. A point that fails (not finite on input,
 * or PROJ's HUGE_VAL on output) is set to HUGE_VAL; *first_bad gets the first such
 * index (n if none). */
static void bt__trans(PJ *pj, PJ_DIRECTION dir, double *x, size_t sx, double *y, size_t sy,
                      size_t n, size_t *first_bad)
{
    *first_bad = n;
    if (n == 0)
        return;
    /* PROJ treats HUGE_VAL as "no value" and passes it through; NaN it might not */
    for (size_t i = 0; i < n; i++) {
        double *px = (double *)(void *)((char *)x + i * sx);
        double *py = (double *)(void *)((char *)y + i * sy);
        if (!isfinite(*px) || !isfinite(*py))
            *px = *py = HUGE_VAL;
    }
    proj_errno_reset(pj);
    proj_trans_generic(pj, dir, x, sx, n, y, sy, n, NULL, 0, 0, NULL, 0, 0);
    for (size_t i = 0; i < n; i++) {
        double *px = (double *)(void *)((char *)x + i * sx);
        double *py = (double *)(void *)((char *)y + i * sy);
        if (!isfinite(*px) || !isfinite(*py) || *px == HUGE_VAL || *py == HUGE_VAL) {
            *px = *py = HUGE_VAL;
            if (*first_bad == n)
                *first_bad = i;
        }
    }
}

static int bt__crs_run(bt_store *s, bt__crs *t, double *x, size_t sx, double *y, size_t sy,
                       size_t n, size_t *bad)
{
    if (BT_NEVER(t == NULL) || (n > 0 && (x == NULL || y == NULL)))
        return bt__error(s, BT_ERR_INVALID, "bt__crs_to_wgs84: NULL argument");
    size_t first_bad;
    bt__trans(t->pj, PJ_FWD, x, sx, y, sy, n, &first_bad);
    if (first_bad < n) {
        if (bad != NULL)
            *bad = first_bad;
        return bt__error(s, BT_ERR_CRS, "CRS '%.200s': point %zu cannot be transformed to "
                         "WGS 84 (%s)", t->name, first_bad,
                         proj_errno(t->pj) != 0
                             ? proj_context_errno_string(s->proj, proj_errno(t->pj))
                             : "not a finite coordinate");
    }
    return BT_OK;
}

int bt__crs_to_wgs84(bt_store *s, bt__crs *t, double *x, double *y, size_t n)
{
    return bt__crs_run(s, t, x, sizeof *x, y, sizeof *y, n, NULL);
}

int bt__crs_lonlat_to_wgs84(bt_store *s, bt__crs *t, bt_lonlat *pts, size_t n, size_t *bad)
{
    if (n > 0 && pts == NULL)
        return bt__error(s, BT_ERR_INVALID, "bt__crs_lonlat_to_wgs84: NULL points");
    return bt__crs_run(s, t, n > 0 ? &pts[0].lon : NULL, sizeof *pts,
                       n > 0 ? &pts[0].lat : NULL, sizeof *pts, n, bad);
}

const char *bt__crs_name(const bt__crs *t)
{
    return t != NULL ? t->name : "";
}

void bt__crs_close(bt__crs *t)
{
    if (t == NULL)
        return;
    proj_destroy(t->pj);
    bt__free(t->name);
    bt__free(t);
}

/* ---- local projection ---------------------------------------------------- */

/* Writes v with 9 decimals without printf's %f, which follows LC_NUMERIC and would
 * give PROJ "39,8" under a German locale. |v| < 1e9 here. */
static void bt__fmt_fixed(char *buf, size_t size, double v)
{
    const bool neg = v < 0;
    const double a = fabs(v);
    const long long scaled = (long long)llround(a * 1e9);
    snprintf(buf, size, "%s%lld.%09lld", neg && scaled != 0 ? "-" : "", scaled / 1000000000LL,
             scaled % 1000000000LL);
}

int bt__localproj_open(bt_store *s, bt_bbox e, bt__localproj **out)
{
    if (out != NULL)
        *out = NULL;
    if (BT_NEVER(s == NULL) || out == NULL)
        return bt__error(s, BT_ERR_INVALID, "bt__localproj_open: NULL argument");
    if (!isfinite(e.west) || !isfinite(e.east) || !isfinite(e.south) || !isfinite(e.north) ||
        e.west < -180 || e.west > 180 || e.east < -180 || e.east > 180 || e.south < -90 ||
        e.north > 90 || e.south > e.north)
        return bt__error(s, BT_ERR_INVALID, "local projection: extent %.15g,%.15g,%.15g,%.15g "
                         "(west,south,east,north) is not a lon/lat box", e.west, e.south,
                         e.east, e.north);
    /* centre meridian; a box with west > east crosses the antimeridian */
    double east = e.east < e.west ? e.east + 360.0 : e.east;
    double lon0 = (e.west + east) / 2.0;
    if (lon0 > 180.0)
        lon0 -= 360.0;
    const double mid = (e.south + e.north) / 2.0;
    const double half = (e.north - e.south) / 2.0;
    /* The scale of a conformal conic is about 1 + (phi-phi1)(phi-phi2)/2 (radians):
     * parallels at mid -+ half/sqrt(2) make the error equal (half^2/4) at the middle
     * and at both edges, the smallest possible maximum. */
    const double lat1 = mid - half / sqrt(2.0), lat2 = mid + half / sqrt(2.0);
    char a[48], b[48], c[48], d[48];
    bt__fmt_fixed(c, sizeof c, mid);
    bt__fmt_fixed(d, sizeof d, lon0);
    bt__localproj *p = bt__malloc(sizeof *p);
    if (p == NULL)
        return bt__error(s, BT_ERR_NOMEM, "local projection: out of memory");
    if (lat1 * lat2 > 0 && fabs(lat1 + lat2) >= 1.0) {
        bt__fmt_fixed(a, sizeof a, lat1);
        bt__fmt_fixed(b, sizeof b, lat2);
        snprintf(p->def, sizeof p->def,
                 "+proj=lcc +lat_1=%s +lat_2=%s +lat_0=%s +lon_0=%s +x_0=0 +y_0=0 "
                 "+ellps=WGS84",
                 a, b, c, d);
    } else {
        /* Near the equator a conic degenerates: Mercator, whose scale k0/cos(phi)
         * is balanced over |phi| <= m by k0 = 2 cos m / (1 + cos m). */
        const double m = fmax(fabs(e.south), fabs(e.north)) * (3.14159265358979323846 / 180.0);
        bt__fmt_fixed(a, sizeof a, 2.0 * cos(m) / (1.0 + cos(m)));
        snprintf(p->def, sizeof p->def,
                 "+proj=merc +lon_0=%s +k_0=%s +x_0=0 +y_0=0 +ellps=WGS84", d, a);
    }
    PJ_CONTEXT *ctx;
    int prc = bt__proj(s, &ctx);
    if (prc) {
        bt__free(p);
        return prc;
    }
    char pipeline[640];
    snprintf(pipeline, sizeof pipeline,
             "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step %s", p->def);
    p->pj = proj_create(ctx, pipeline);
    if (p->pj == NULL) {
        int rc = bt__error(s, BT_ERR_CRS, "local projection '%s': %s", p->def,
                           bt__proj_reason(ctx, "refused by PROJ"));
        bt__free(p);
        return rc;
    }
    *out = p;
    return BT_OK;
}

static int bt__localproj_run(bt_store *s, const bt__localproj *p, PJ_DIRECTION dir,
                             double *x, double *y, size_t n)
{
    if (BT_NEVER(p == NULL) || (n > 0 && (x == NULL || y == NULL)))
        return bt__error(s, BT_ERR_INVALID, "local projection: NULL argument");
    size_t first_bad;
    bt__trans(p->pj, dir, x, sizeof *x, y, sizeof *y, n, &first_bad);
    if (first_bad < n)
        return bt__error(s, BT_ERR_CRS, "local projection '%s': point %zu cannot be %s",
                         p->def, first_bad, dir == PJ_FWD ? "projected" : "unprojected");
    return BT_OK;
}

int bt__localproj_forward(bt_store *s, const bt__localproj *p, double *x, double *y,
                          size_t n)
{
    return bt__localproj_run(s, p, PJ_FWD, x, y, n);
}

int bt__localproj_inverse(bt_store *s, const bt__localproj *p, double *x, double *y,
                          size_t n)
{
    return bt__localproj_run(s, p, PJ_INV, x, y, n);
}

const char *bt__localproj_definition(const bt__localproj *p)
{
    return p != NULL ? p->def : "";
}

void bt__localproj_close(bt__localproj *p)
{
    if (p == NULL)
        return;
    proj_destroy(p->pj);
    bt__free(p);
}
