/**
 * @file polygon.c
 * @brief Reads the area of --within: a GeoJSON file whose first geometry is a Polygon
 * or MultiPolygon (a bare geometry, a Feature or a FeatureCollection), or a WKT
 * file, into the WKT text that bt_query::wkt takes.
 *
 * Only the "coordinates" member is read, by a small scanner: nested arrays become
 * WKT parentheses and [x, y] positions become "x y" (a third ordinate is dropped).
 */
#include "cli.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct sbuf {
    char *s;
    size_t n, cap;
    int nomem;
} sbuf;

static void put(sbuf *b, const char *t, size_t len)
{
    if (b->nomem) return;
    if (b->n + len + 1 > b->cap) {
        size_t ncap = (b->cap ? b->cap * 2 : 256) + len;
        char *ns = realloc(b->s, ncap);
        if (!ns) {
            b->nomem = 1;
            return;
        }
        b->s = ns;
        b->cap = ncap;
    }
    memcpy(b->s + b->n, t, len);
    b->n += len;
    b->s[b->n] = '\0';
}

static char *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    sbuf b = {0};
    char chunk[4096];
    size_t r;
    while ((r = fread(chunk, 1, sizeof chunk, fp)) > 0) put(&b, chunk, r);
    int bad = ferror(fp) || b.nomem;
    fclose(fp);
    if (bad || !b.s) {
        free(b.s);
        return NULL;
    }
    *len = b.n;
    return b.s;
}

/* Converts the coordinates array at p into WKT. */
static int coords_to_wkt(const char *p, sbuf *out, char *err, size_t errsize)
{
    int depth_pos = 0; /* '[' before the first number: 3 Polygon, 4 MultiPolygon */
    for (const char *q = p; *q && *q != ']'; q++) {
        if (*q == '[') depth_pos++;
        else if (!isspace((unsigned char)*q)) break;
    }
    if (depth_pos == 3) put(out, "POLYGON", 7);
    else if (depth_pos == 4) put(out, "MULTIPOLYGON", 12);
    else {
        snprintf(err, errsize, "the geometry is not a Polygon or MultiPolygon");
        return -1;
    }
    int depth = 0, nnum = 0;
    for (const char *q = p; *q; q++) {
        char c = *q;
        if (isspace((unsigned char)c)) continue;
        if (c == '[') {
            depth++;
            nnum = 0;
            if (depth < depth_pos) put(out, "(", 1);
        } else if (c == ']') {
            if (depth < depth_pos) put(out, ")", 1);
            else if (nnum < 2) {
                snprintf(err, errsize, "a position has fewer than two numbers");
                return -1;
            }
            if (--depth == 0) return out->nomem ? -1 : 0;
        } else if (c == ',') {
            if (depth < depth_pos) put(out, ",", 1);
        } else if (depth == depth_pos &&
                   (isdigit((unsigned char)c) || c == '-' || c == '+' || c == '.')) {
            char *e;
            double v = strtod(q, &e);
            if (e == q) break;
            char num[40];
            int w = snprintf(num, sizeof num, "%s%.10g", nnum ? " " : "", v);
            if (nnum < 2) put(out, num, (size_t)w);
            nnum++;
            q = e - 1;
        } else {
            break;
        }
    }
    snprintf(err, errsize, "malformed coordinates");
    return -1;
}

char *btcli_read_polygon(const char *path, char *err, size_t errsize)
{
    size_t len = 0;
    char *text = read_all(path, &len);
    if (!text) {
        snprintf(err, errsize, "cannot read the file");
        return NULL;
    }
    const char *p = text;
    while (isspace((unsigned char)*p)) p++;
    if (*p != '{') return text; /* WKT: bt_query checks it */
    const char *c = strstr(p, "\"coordinates\"");
    if (!c) {
        snprintf(err, errsize, "no \"coordinates\" member");
        free(text);
        return NULL;
    }
    c += strlen("\"coordinates\"");
    while (isspace((unsigned char)*c) || *c == ':') c++;
    sbuf out = {0};
    if (*c != '[' || coords_to_wkt(c, &out, err, errsize)) {
        if (*c != '[') snprintf(err, errsize, "\"coordinates\" is not an array");
        free(out.s);
        free(text);
        return NULL;
    }
    free(text);
    return out.s;
}
