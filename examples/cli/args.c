/**
 * @file args.c
 * @brief Parsing of the command-line values (distances, dates, points, boxes, type
 * lists) and of the FILTERS options. Pure functions: no I/O and no allocation, so
 * that a fuzzer can drive btcli_parse_filters() directly.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void set_err(char *err, size_t size, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void set_err(char *err, size_t size, const char *fmt, ...)
{
    if (!err || size == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
}

/* strtod that accepts only a whole finite number, with leading/trailing blanks. */
static int parse_double(const char *s, const char **end, double *out)
{
    if (!s) return -1;
    while (*s == ' ') s++;
    if (!*s || !(isdigit((unsigned char)*s) || *s == '-' || *s == '+' || *s == '.'))
        return -1;
    char *e;
    errno = 0;
    double v = strtod(s, &e);
    if (e == s || errno == ERANGE || !isfinite(v)) return -1;
    *out = v;
    *end = e;
    return 0;
}

int btcli_parse_dist(const char *text, double *metres)
{
    const char *e;
    double v;
    if (parse_double(text, &e, &v) || v < 0) return -1;
    while (*e == ' ') e++;
    double scale;
    if (strcmp(e, "m") == 0)
        scale = 1.0;
    else if (strcmp(e, "km") == 0)
        scale = 1000.0;
    else
        return -1;
    v *= scale;
    if (!isfinite(v) || v > 4.1e7) return -1; /* beyond any distance on Earth */
    *metres = v;
    return 0;
}

int btcli_parse_lonlat(const char *text, bt_lonlat *out)
{
    const char *e;
    double lon, lat;
    if (parse_double(text, &e, &lon)) return -1;
    while (*e == ' ') e++;
    if (*e != ',') return -1;
    if (parse_double(e + 1, &e, &lat)) return -1;
    while (*e == ' ') e++;
    if (*e) return -1;
    if (lon < -180 || lon > 180 || lat < -90 || lat > 90) return -1;
    out->lon = lon;
    out->lat = lat;
    return 0;
}

int btcli_parse_bbox(const char *text, bt_bbox *out)
{
    double v[4];
    const char *p = text;
    for (int k = 0; k < 4; k++) {
        const char *e;
        if (parse_double(p, &e, &v[k])) return -1;
        while (*e == ' ') e++;
        if (k < 3) {
            if (*e != ',') return -1;
            p = e + 1;
        } else if (*e) {
            return -1;
        }
    }
    if (v[0] < -180 || v[0] > 180 || v[2] < -180 || v[2] > 180) return -1;
    if (v[1] < -90 || v[1] > 90 || v[3] < -90 || v[3] > 90 || v[1] > v[3]) return -1;
    out->west = v[0];
    out->south = v[1];
    out->east = v[2];
    out->north = v[3];
    return 0;
}

int btcli_parse_long(const char *text, long lo, long hi, long *out)
{
    if (!text || !isdigit((unsigned char)text[0])) return -1;
    char *e;
    errno = 0;
    long v = strtol(text, &e, 10);
    if (*e || errno == ERANGE || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int btcli_parse_size(const char *text, int *w, int *h)
{
    if (!text) return -1;
    const char *x = strchr(text, 'x');
    if (!x || x == text || (size_t)(x - text) > 6) return -1;
    char a[8];
    memcpy(a, text, (size_t)(x - text));
    a[x - text] = '\0';
    long lw, lh;
    if (btcli_parse_long(a, 16, 20000, &lw) || btcli_parse_long(x + 1, 16, 20000, &lh))
        return -1;
    *w = (int)lw;
    *h = (int)lh;
    return 0;
}

int btcli_parse_types(const char *text, unsigned *mask, char *bad, size_t badsize)
{
    unsigned m = 0;
    const char *p = text;
    if (!p || !*p) {
        set_err(bad, badsize, "%s", "");
        return -1;
    }
    for (;;) {
        size_t len = strcspn(p, ",");
        char name[40];
        if (len == 0 || len >= sizeof name) {
            set_err(bad, badsize, "%.*s", (int)(len < 40 ? len : 40), p);
            return -1;
        }
        memcpy(name, p, len);
        name[len] = '\0';
        int v;
        if (bt_enum_parse(BT_ENUM_INCIDENT_TYPE, name, &v) != BT_OK) {
            set_err(bad, badsize, "%s", name);
            return -1;
        }
        m |= 1u << v;
        if (!p[len]) break;
        p += len + 1;
    }
    *mask = m;
    return 0;
}

int btcli_opt_value(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0') return 0;
    if (*i + 1 >= argc) return -1;
    *value = argv[++*i];
    return 1;
}

void btcli_filters_init(btcli_filters *f)
{
    memset(f, 0, sizeof *f);
    f->radius_m = -1;
    f->from = INT64_MIN;
    f->to = INT64_MAX;
}

/* The filter options that take a value. */
static const char *const filter_opts[] = {
    "--near", "--radius", "--bbox", "--within", "--from", "--to", "--type",
    "--min-reliability", "--min-credibility", "--match",
};

static int apply(btcli_filters *f, const char *opt, const char *v, char *err, size_t esz)
{
    if (strcmp(opt, "--near") == 0) {
        if (!*v) {
            set_err(err, esz, "--near: empty place name");
            return -1;
        }
        f->near = v;
        /* "LON,LAT" when it parses as two numbers; otherwise a place name */
        f->near_is_point = btcli_parse_lonlat(v, &f->near_pt) == 0;
        if (!f->near_is_point && (isdigit((unsigned char)v[0]) || v[0] == '-') &&
            strchr(v, ',')) {
            set_err(err, esz, "--near '%s': expected a place name or LON,LAT in degrees",
                    v);
            return -1;
        }
    } else if (strcmp(opt, "--radius") == 0) {
        if (btcli_parse_dist(v, &f->radius_m)) {
            set_err(err, esz, "--radius '%s': expected a distance with a unit, e.g. 500m or 5km",
                    v);
            return -1;
        }
    } else if (strcmp(opt, "--bbox") == 0) {
        if (btcli_parse_bbox(v, &f->bbox)) {
            set_err(err, esz, "--bbox '%s': expected W,S,E,N in degrees (S <= N)", v);
            return -1;
        }
        f->has_bbox = 1;
    } else if (strcmp(opt, "--within") == 0) {
        if (!*v) {
            set_err(err, esz, "--within: empty file name");
            return -1;
        }
        f->within = v;
    } else if (strcmp(opt, "--from") == 0 || strcmp(opt, "--to") == 0) {
        int64_t first, last;
        bt_time_precision p;
        if (bt_time_parse(v, &first, &last, &p) != BT_OK) {
            set_err(err, esz, "%s '%s': expected an ISO 8601 date (2020, 2020-07, 2020-07-29"
                    " or a timestamp)", opt, v);
            return -1;
        }
        if (opt[2] == 'f') {
            f->has_from = 1;
            f->from = first;
            f->from_prec = p;
            f->from_text = v;
        } else {
            f->has_to = 1;
            f->to = last;
            f->to_prec = p;
            f->to_text = v;
        }
    } else if (strcmp(opt, "--type") == 0) {
        char bad[48];
        if (btcli_parse_types(v, &f->types, bad, sizeof bad)) {
            set_err(err, esz, "--type: unknown incident type '%s'", bad);
            return -1;
        }
    } else if (strcmp(opt, "--min-reliability") == 0) {
        char c = (char)toupper((unsigned char)v[0]);
        if (c < 'A' || c > 'F' || v[1]) {
            set_err(err, esz, "--min-reliability '%s': expected a grade A-F", v);
            return -1;
        }
        f->min_reliability = c;
    } else if (strcmp(opt, "--min-credibility") == 0) {
        long c;
        if (btcli_parse_long(v, 1, 6, &c)) {
            set_err(err, esz, "--min-credibility '%s': expected 1-6", v);
            return -1;
        }
        f->min_credibility = (int)c;
    } else { /* --match */
        if (strcmp(v, "possible") == 0)
            f->match = BTCLI_MATCH_POSSIBLE;
        else if (strcmp(v, "certain") == 0)
            f->match = BTCLI_MATCH_CERTAIN;
        else if (strcmp(v, "point") == 0)
            f->match = BTCLI_MATCH_POINT;
        else {
            set_err(err, esz, "--match '%s': expected possible, certain or point", v);
            return -1;
        }
    }
    return 0;
}

int btcli_parse_filters(int argc, char **argv, btcli_filters *f, char **rest, int *nrest,
                        char *err, size_t errsize)
{
    btcli_filters_init(f);
    *nrest = 0;
    if (err && errsize) err[0] = '\0';
    for (int i = 0; i < argc; i++) {
        if (!argv[i]) {
            set_err(err, errsize, "null argument");
            return -1;
        }
        int matched = 0;
        for (size_t k = 0; k < sizeof filter_opts / sizeof filter_opts[0]; k++) {
            const char *v;
            int r = btcli_opt_value(argc, argv, &i, filter_opts[k], &v);
            if (r < 0) {
                set_err(err, errsize, "%s needs a value", filter_opts[k]);
                return -1;
            }
            if (r == 0) continue;
            if (apply(f, filter_opts[k], v, err, errsize)) return -1;
            matched = 1;
            break;
        }
        if (!matched) rest[(*nrest)++] = argv[i];
    }
    int areas = (f->near && f->radius_m >= 0) + f->has_bbox + (f->within != NULL);
    if (areas > 1) {
        set_err(err, errsize, "give one area: --near with --radius, --bbox or --within");
        return -1;
    }
    if (f->match != BTCLI_MATCH_POINT && areas == 0) {
        set_err(err, errsize, "--match needs an area: --near with --radius, --bbox or --within");
        return -1;
    }
    if (f->radius_m >= 0 && !f->near) {
        set_err(err, errsize, "--radius needs --near");
        return -1;
    }
    if (f->has_from && f->has_to && f->from > f->to) {
        set_err(err, errsize, "--from %s is after --to %s", f->from_text, f->to_text);
        return -1;
    }
    return 0;
}
