/**
 * @file check.c
 * @brief A small checker for the CLI tests, independent of the code under test:
 *   check png-size FILE                 prints "W H" from the PNG's IHDR chunk
 *   check find-colour FILE X Y R RRGGBB TOL
 *                                       exit 0 if a pixel within R px of (X, Y) has
 *                                       that colour within TOL per channel
 *   check tmerc LON0 LAT0 LON LAT       prints x y (metres) in a transverse Mercator
 *                                       centred on LON0/LAT0 (Snyder's series)
 *   check xml FILE                      exit 0 if FILE is well-formed XML
 *
 * The projection is Snyder, "Map Projections: A Working Manual" (USGS PP 1395, 1987),
 * eqs. 8-9 to 8-13 with k0 = 1: a different series from the tool's Krüger series, so
 * that a slip in either shows as a pixel offset.
 */
#include <cairo.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int png_size(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return 1;
    unsigned char h[24];
    size_t n = fread(h, 1, sizeof h, fp);
    fclose(fp);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n != sizeof h || memcmp(h, sig, 8) || memcmp(h + 12, "IHDR", 4)) return 1;
    unsigned long w = (unsigned long)h[16] << 24 | (unsigned long)h[17] << 16 |
                      (unsigned long)h[18] << 8 | h[19];
    unsigned long ht = (unsigned long)h[20] << 24 | (unsigned long)h[21] << 16 |
                       (unsigned long)h[22] << 8 | h[23];
    printf("%lu %lu\n", w, ht);
    return 0;
}

static int find_colour(const char *path, double x, double y, double r, const char *hex,
                       int tol)
{
    unsigned rgb;
    if (sscanf(hex, "%6x", &rgb) != 1) return 2;
    int want[3] = {(int)(rgb >> 16) & 255, (int)(rgb >> 8) & 255, (int)rgb & 255};
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) return 2;
    cairo_surface_flush(s);
    int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    int stride = cairo_image_surface_get_stride(s);
    const unsigned char *d = cairo_image_surface_get_data(s);
    int found = 0;
    for (int py = (int)floor(y - r); py <= (int)ceil(y + r) && !found; py++)
        for (int px = (int)floor(x - r); px <= (int)ceil(x + r) && !found; px++) {
            if (px < 0 || py < 0 || px >= w || py >= h) continue;
            if (hypot(px + 0.5 - x, py + 0.5 - y) > r + 0.71) continue;
            unsigned v = *(const unsigned *)(const void *)(d + py * stride + px * 4);
            int got[3] = {(int)(v >> 16) & 255, (int)(v >> 8) & 255, (int)v & 255};
            if (abs(got[0] - want[0]) <= tol && abs(got[1] - want[1]) <= tol &&
                abs(got[2] - want[2]) <= tol) {
                printf("found at %d,%d\n", px, py);
                found = 1;
            }
        }
    cairo_surface_destroy(s);
    return found ? 0 : 1;
}

/* Snyder's meridian distance M(phi) on WGS 84 (eq. 3-21). */
static double meridian(double phi, double e2)
{
    double e4 = e2 * e2, e6 = e4 * e2, a = 6378137.0;
    return a * ((1 - e2 / 4 - 3 * e4 / 64 - 5 * e6 / 256) * phi -
                (3 * e2 / 8 + 3 * e4 / 32 + 45 * e6 / 1024) * sin(2 * phi) +
                (15 * e4 / 256 + 45 * e6 / 1024) * sin(4 * phi) - (35 * e6 / 3072) * sin(6 * phi));
}

static void tmerc(double lon0, double lat0, double lon, double lat, double *x, double *y)
{
    const double a = 6378137.0, f = 1 / 298.257223563, d2r = 3.14159265358979323846 / 180;
    double e2 = f * (2 - f), ep2 = e2 / (1 - e2);
    double phi = lat * d2r;
    double N = a / sqrt(1 - e2 * sin(phi) * sin(phi));
    double T = tan(phi) * tan(phi), C = ep2 * cos(phi) * cos(phi);
    double A = (lon - lon0) * d2r * cos(phi);
    double M = meridian(phi, e2), M0 = meridian(lat0 * d2r, e2);
    *x = N * (A + (1 - T + C) * pow(A, 3) / 6 +
              (5 - 18 * T + T * T + 72 * C - 58 * ep2) * pow(A, 5) / 120);
    *y = M - M0 + N * tan(phi) * (A * A / 2 + (5 - T + 9 * C + 4 * C * C) * pow(A, 4) / 24 +
                                  (61 - 58 * T + T * T + 600 * C - 330 * ep2) * pow(A, 6) / 720);
}

/* ---- a small well-formedness checker (elements, attributes, entities) ---- */

typedef struct xp {
    const char *p, *end;
    char stack[256][64];
    int depth;
} xp;

static int name_char(int c) { return isalnum(c) || c == '_' || c == '-' || c == '.' || c == ':' || c >= 0x80; }

static int read_name(xp *x, char *out, size_t n)
{
    size_t k = 0;
    if (x->p >= x->end || !(isalpha((unsigned char)*x->p) || *x->p == '_' || *x->p == ':' ||
                            (unsigned char)*x->p >= 0x80))
        return -1;
    while (x->p < x->end && name_char((unsigned char)*x->p)) {
        if (k + 1 < n) out[k++] = *x->p;
        x->p++;
    }
    out[k] = '\0';
    return 0;
}

static int check_text(const char *a, const char *b)
{
    for (const char *q = a; q < b; q++) {
        if (*q == '<') return -1;
        if (*q == '&') {
            const char *semi = memchr(q, ';', (size_t)(b - q));
            if (!semi || semi - q > 10) return -1;
            if (q[1] == '#') {
                for (const char *r = q + 2 + (q[2] == 'x'); r < semi; r++)
                    if (!isxdigit((unsigned char)*r)) return -1;
            } else {
                static const char *ents[] = {"&lt;", "&gt;", "&amp;", "&quot;", "&apos;"};
                int ok = 0;
                for (int i = 0; i < 5; i++)
                    if ((size_t)(semi - q + 1) == strlen(ents[i]) &&
                        strncmp(q, ents[i], strlen(ents[i])) == 0)
                        ok = 1;
                if (!ok) return -1;
            }
        }
    }
    return 0;
}

static void skip_ws(xp *x)
{
    while (x->p < x->end && isspace((unsigned char)*x->p)) x->p++;
}

static int xml_check(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return 2;
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    if (!buf || fread(buf, 1, (size_t)len, fp) != (size_t)len) return 2;
    fclose(fp);
    buf[len] = '\0';
    xp x = {buf, buf + len, {{0}}, 0};
    int roots = 0;
    while (x.p < x.end) {
        const char *lt = memchr(x.p, '<', (size_t)(x.end - x.p));
        const char *stop = lt ? lt : x.end;
        if (check_text(x.p, stop)) goto bad;
        if (x.depth == 0) /* only white space outside the root */
            for (const char *q = x.p; q < stop; q++)
                if (!isspace((unsigned char)*q)) goto bad;
        if (!lt) break;
        x.p = lt + 1;
        if (strncmp(x.p, "?", 1) == 0) {
            const char *e = strstr(x.p, "?>");
            if (!e) goto bad;
            x.p = e + 2;
        } else if (strncmp(x.p, "!--", 3) == 0) {
            const char *e = strstr(x.p, "-->");
            if (!e) goto bad;
            x.p = e + 3;
        } else if (strncmp(x.p, "![CDATA[", 8) == 0) {
            const char *e = strstr(x.p, "]]>");
            if (!e || x.depth == 0) goto bad;
            x.p = e + 3;
        } else if (strncmp(x.p, "!DOCTYPE", 8) == 0) {
            const char *e = strchr(x.p, '>');
            if (!e) goto bad;
            x.p = e + 1;
        } else if (*x.p == '/') {
            char name[64];
            x.p++;
            if (read_name(&x, name, sizeof name) || x.depth == 0 ||
                strcmp(name, x.stack[x.depth - 1]) != 0)
                goto bad;
            skip_ws(&x);
            if (x.p >= x.end || *x.p != '>') goto bad;
            x.p++;
            x.depth--;
        } else {
            char name[64];
            if (read_name(&x, name, sizeof name)) goto bad;
            if (x.depth == 0 && roots++) goto bad;
            char attrs[64][64];
            int na = 0;
            for (;;) {
                skip_ws(&x);
                if (x.p >= x.end) goto bad;
                if (*x.p == '>' || (*x.p == '/' && x.p[1] == '>')) break;
                char an[64];
                if (read_name(&x, an, sizeof an)) goto bad;
                for (int i = 0; i < na; i++)
                    if (strcmp(attrs[i], an) == 0) goto bad; /* duplicate attribute */
                if (na < 64) strcpy(attrs[na++], an);
                skip_ws(&x);
                if (x.p >= x.end || *x.p != '=') goto bad;
                x.p++;
                skip_ws(&x);
                char q = x.p < x.end ? *x.p : 0;
                if (q != '"' && q != '\'') goto bad;
                const char *e = memchr(x.p + 1, q, (size_t)(x.end - x.p - 1));
                if (!e || check_text(x.p + 1, e)) goto bad;
                x.p = e + 1;
            }
            if (*x.p == '/') {
                x.p += 2;
            } else {
                x.p++;
                if (x.depth == 256) goto bad;
                strcpy(x.stack[x.depth++], name);
            }
        }
    }
    if (x.depth != 0 || roots != 1) goto bad;
    free(buf);
    return 0;
bad:
    fprintf(stderr, "not well-formed near byte %ld\n", (long)(x.p - buf));
    free(buf);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "png-size") == 0) return png_size(argv[2]);
    if (argc == 8 && strcmp(argv[1], "find-colour") == 0)
        return find_colour(argv[2], atof(argv[3]), atof(argv[4]), atof(argv[5]), argv[6],
                           atoi(argv[7]));
    if (argc == 6 && strcmp(argv[1], "tmerc") == 0) {
        double x, y;
        tmerc(atof(argv[2]), atof(argv[3]), atof(argv[4]), atof(argv[5]), &x, &y);
        printf("%.4f %.4f\n", x, y);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "xml") == 0) return xml_check(argv[2]);
    fprintf(stderr, "usage: check png-size|find-colour|tmerc|xml ...\n");
    return 2;
}
