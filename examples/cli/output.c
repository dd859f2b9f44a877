/**
 * @file output.c
 * @brief Record output: an aligned table, RFC 4180 CSV or an RFC 7946 GeoJSON
 * FeatureCollection, from one row-at-a-time interface.
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int btcli_parse_format(const char *text, btcli_format *out)
{
    if (strcmp(text, "table") == 0)
        *out = BTCLI_TABLE;
    else if (strcmp(text, "csv") == 0)
        *out = BTCLI_CSV;
    else if (strcmp(text, "geojson") == 0)
        *out = BTCLI_GEOJSON;
    else
        return -1;
    return 0;
}

void btcli_fmt_num(char *buf, size_t size, double v, int decimals)
{
    if (!isfinite(v)) {
        snprintf(buf, size, "%s", "");
        return;
    }
    snprintf(buf, size, "%.*f", decimals, v);
    if (decimals > 0 && strchr(buf, '.')) {
        char *e = buf + strlen(buf) - 1;
        while (*e == '0') *e-- = '\0';
        if (*e == '.') *e = '\0';
    }
    if (strcmp(buf, "-0") == 0) snprintf(buf, size, "0");
}

void btcli_fmt_time(char *buf, size_t size, int64_t t, bt_time_precision p)
{
    if (p == BT_TIME_NONE) {
        snprintf(buf, size, "%s", "");
        return;
    }
    if (t == BT_TIME_OPEN) {
        snprintf(buf, size, "%s", "open");
        return;
    }
    if (bt_time_format(t, p, buf, size) < 0) snprintf(buf, size, "%lld", (long long)t);
}

void btcli_csv_field(FILE *fp, const char *s)
{
    if (!s) return;
    int quote = s[0] == ' ' || (s[0] && s[strlen(s) - 1] == ' ') ||
                strpbrk(s, ",\"\r\n") != NULL;
    if (!quote) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (const char *p = s; *p; p++) {
        if (*p == '"') fputc('"', fp);
        fputc(*p, fp);
    }
    fputc('"', fp);
}

void btcli_json_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", fp); break;
        case '\\': fputs("\\\\", fp); break;
        case '\n': fputs("\\n", fp); break;
        case '\r': fputs("\\r", fp); break;
        case '\t': fputs("\\t", fp); break;
        default:
            if (*p < 0x20)
                fprintf(fp, "\\u%04x", *p);
            else
                fputc(*p, fp);
        }
    }
    fputc('"', fp);
}

void btcli_out_begin(btcli_out *o, btcli_format format, FILE *fp, size_t ncols,
                     const char *const *names, const btcli_col *kinds)
{
    memset(o, 0, sizeof *o);
    o->format = format;
    o->fp = fp;
    o->ncols = ncols;
    o->names = names;
    o->kinds = kinds;
    if (format == BTCLI_CSV) {
        for (size_t i = 0; i < ncols; i++) {
            if (i) fputc(',', fp);
            btcli_csv_field(fp, names[i]);
        }
        fputs("\r\n", fp);
    } else if (format == BTCLI_GEOJSON) {
        fputs("{\"type\":\"FeatureCollection\",\"features\":[", fp);
    }
}

/* A number column's text is written bare in JSON only if it is a JSON number. */
static int is_json_number(const char *s)
{
    if (!*s) return 0;
    char *e;
    double v = strtod(s, &e);
    (void)v;
    return *e == '\0' && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9'));
}

void btcli_out_row(btcli_out *o, const char *const *values, const char *geometry)
{
    if (o->format == BTCLI_CSV) {
        for (size_t i = 0; i < o->ncols; i++) {
            if (i) fputc(',', o->fp);
            btcli_csv_field(o->fp, values[i]);
        }
        fputs("\r\n", o->fp);
    } else if (o->format == BTCLI_GEOJSON) {
        fputs(o->nfeatures ? ",\n" : "\n", o->fp);
        fputs("{\"type\":\"Feature\",\"geometry\":", o->fp);
        fputs(geometry ? geometry : "null", o->fp);
        fputs(",\"properties\":{", o->fp);
        for (size_t i = 0; i < o->ncols; i++) {
            if (i) fputc(',', o->fp);
            btcli_json_string(o->fp, o->names[i]);
            fputc(':', o->fp);
            const char *v = values[i];
            if (!v || (!*v && o->kinds[i] == BTCLI_NUM))
                fputs("null", o->fp);
            else if (o->kinds[i] == BTCLI_NUM && is_json_number(v))
                fputs(v, o->fp);
            else
                btcli_json_string(o->fp, v);
        }
        fputs("}}", o->fp);
        o->nfeatures++;
    } else {
        if (o->failed) return;
        if (o->nrows == o->cap) {
            size_t ncap = o->cap ? 2 * o->cap : 64;
            char **nc = realloc(o->cells, ncap * o->ncols * sizeof *nc);
            if (!nc) {
                o->failed = 1;
                return;
            }
            o->cells = nc;
            o->cap = ncap;
        }
        for (size_t i = 0; i < o->ncols; i++) {
            const char *v = values[i] ? values[i] : "";
            char *d = malloc(strlen(v) + 1);
            if (d) strcpy(d, v);
            else o->failed = 1;
            o->cells[o->nrows * o->ncols + i] = d;
        }
        o->nrows++;
    }
}

/* Display width of UTF-8 text: one column per code point (the data is Latin). */
static size_t width_of(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80) w++;
    return w;
}

#define BTCLI_MAX_CELL 48 /* table cells are cut to this many columns */

/* Prints s cut to max columns (with "..." when cut). Returns the columns printed. */
static size_t put_cut(FILE *fp, const char *s, size_t max)
{
    size_t w = width_of(s);
    if (w <= max) {
        fputs(s, fp);
        return w;
    }
    size_t cols = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && cols < max - 3) {
        fputc(*p++, fp);
        while ((*p & 0xC0) == 0x80) fputc(*p++, fp);
        cols++;
    }
    fputs("...", fp);
    return max;
}

int btcli_out_end(btcli_out *o)
{
    if (o->format == BTCLI_GEOJSON) {
        fputs(o->nfeatures ? "\n]}\n" : "]}\n", o->fp);
    } else if (o->format == BTCLI_TABLE) {
        size_t *w = calloc(o->ncols, sizeof *w);
        if (!w) o->failed = 1;
        for (size_t c = 0; w && c < o->ncols; c++) {
            w[c] = width_of(o->names[c]);
            for (size_t r = 0; r < o->nrows; r++) {
                const char *v = o->cells[r * o->ncols + c];
                size_t cw = v ? width_of(v) : 0;
                if (cw > BTCLI_MAX_CELL) cw = BTCLI_MAX_CELL;
                if (cw > w[c]) w[c] = cw;
            }
        }
        for (size_t r = 0; w && r <= o->nrows; r++) {
            for (size_t c = 0; c < o->ncols; c++) {
                const char *v = r == 0 ? o->names[c] : o->cells[(r - 1) * o->ncols + c];
                if (!v) v = "";
                size_t vw = width_of(v) > BTCLI_MAX_CELL ? BTCLI_MAX_CELL : width_of(v);
                int right = r > 0 && o->kinds[c] == BTCLI_NUM;
                if (c) fputs("  ", o->fp);
                if (right)
                    for (size_t k = vw; k < w[c]; k++) fputc(' ', o->fp);
                put_cut(o->fp, v, BTCLI_MAX_CELL);
                if (!right && c + 1 < o->ncols)
                    for (size_t k = vw; k < w[c]; k++) fputc(' ', o->fp);
            }
            fputc('\n', o->fp);
            if (r == 0) {
                for (size_t c = 0; c < o->ncols; c++) {
                    if (c) fputs("  ", o->fp);
                    for (size_t k = 0; k < w[c]; k++) fputc('-', o->fp);
                }
                fputc('\n', o->fp);
            }
        }
        free(w);
        for (size_t i = 0; i < o->nrows * o->ncols; i++) free(o->cells[i]);
        free(o->cells);
        o->cells = NULL;
    }
    if (fflush(o->fp) != 0 || ferror(o->fp)) o->failed = 1;
    return o->failed ? -1 : 0;
}
