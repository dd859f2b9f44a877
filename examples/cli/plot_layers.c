/**
 * @file plot_layers.c
 * @brief The map's layers, drawn in this order by plot.c: the neighbour's side and the
 * country labels, the graticule, installations, border lines, the query circle,
 * incidents (with uncertainty circles and clusters) and places; then the scale bar and
 * the north arrow.
 */
#include "plot.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const plot_rgb home_rgb = {0.985, 0.985, 0.975};

/* Side of the primary border at a pixel, -1 on failure. */
static int side_at(const plot *p, bt_store *s, double x, double y, double *offset)
{
    double lon, lat;
    btcli_tmerc_inv(&p->tm, (x - p->cx) * p->s, (p->cy - y) * p->s, &lon, &lat);
    bt_location loc;
    if (bt_border_locate(s, p->border, (bt_lonlat){lon, lat}, &loc) != BT_OK) return -1;
    if (offset) *offset = loc.chain_offset_m;
    return (int)loc.side;
}

/* Marks the cells a segment crosses (Bresenham, 4-connected so that regions cannot
 * leak through a diagonal step). */
static void mark_line(unsigned char *mask, int nx, int ny, int x0, int y0, int x1, int y1)
{
    int dx = abs(x1 - x0), dy = -abs(y1 - y0);
    int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, e = dx + dy;
    for (int guard = 0; guard < 4 * (nx + ny) + 8; guard++) {
        if (x0 >= 0 && y0 >= 0 && x0 < nx && y0 < ny)
            mask[(size_t)y0 * (size_t)nx + (size_t)x0] = 1;
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) {
            e += dy;
            x0 += sx;
        } else if (e2 <= dx) {
            e += dx;
            y0 += sy;
        }
    }
}

/* Shades the neighbour's side. The border lines cut the frame into regions (flood
 * fill on a 2 px raster); each region takes the side that most of its sample points
 * get from bt_border_locate, so a wrong answer at one point cannot streak the map.
 * Then the country labels, at the point of each side farthest from the line. */
void plot_draw_sides(plot *p, bt_store *s, cairo_t *cr)
{
    plot_set_rgb(cr, home_rgb);
    cairo_rectangle(cr, p->fx, p->fy, p->fw, p->fh);
    cairo_fill(cr);
    if (!p->border) return;
    int neighbour = 0;
    for (int side = 1; side <= 2; side++)
        if (p->side_country[side][0] && strcmp(p->side_country[side], "KP") != 0)
            neighbour = side;
    const double c = 2;
    int nx = (int)ceil(p->fw / c), ny = (int)ceil(p->fh / c);
    size_t ncell = (size_t)nx * (size_t)ny;
    unsigned char *mask = calloc(ncell, 1);
    int *comp = malloc(ncell * sizeof *comp);
    size_t *queue = malloc(ncell * sizeof *queue);
    if (!mask || !comp || !queue) {
        free(mask);
        free(comp);
        free(queue);
        return;
    }
    for (size_t i = 0; i < p->nseg; i++) {
        const plot_line *l = &p->seg[i];
        int px0 = 0, py0 = 0;
        for (size_t k = 0; k < l->n; k++) {
            double x, y;
            plot_px(p, l->pts[k], &x, &y);
            int cx = (int)floor((x - p->fx) / c), cy = (int)floor((y - p->fy) / c);
            if (k > 0 && abs(cx - px0) + abs(cy - py0) < 4 * (nx + ny))
                mark_line(mask, nx, ny, px0, py0, cx, cy);
            px0 = cx;
            py0 = cy;
        }
    }
    for (size_t i = 0; i < ncell; i++) comp[i] = -1;
    int ncomp = 0;
    int comp_side[4096];
    int label_i[3] = {-1, -1, -1};
    double label_best[3] = {-1, -1, -1};
    for (size_t start = 0; start < ncell && ncomp < 4096; start++) {
        if (mask[start] || comp[start] >= 0) continue;
        size_t qh = 0, qt = 0;
        queue[qt++] = start;
        comp[start] = ncomp;
        while (qh < qt) {
            size_t v = queue[qh++];
            int vx = (int)(v % (size_t)nx), vy = (int)(v / (size_t)nx);
            size_t nb[4];
            int nn = 0;
            if (vx > 0) nb[nn++] = v - 1;
            if (vx + 1 < nx) nb[nn++] = v + 1;
            if (vy > 0) nb[nn++] = v - (size_t)nx;
            if (vy + 1 < ny) nb[nn++] = v + (size_t)nx;
            for (int k = 0; k < nn; k++)
                if (!mask[nb[k]] && comp[nb[k]] < 0) {
                    comp[nb[k]] = ncomp;
                    queue[qt++] = nb[k];
                }
        }
        /* vote with up to 48 cells spread over the region (in fill order) */
        int votes[3] = {0, 0, 0};
        size_t step = qt / 48 + 1;
        for (size_t k = 0; k < qt; k += step) {
            size_t v = queue[k];
            double x = p->fx + ((double)(v % (size_t)nx) + 0.5) * c;
            double y = p->fy + ((double)(v / (size_t)nx) + 0.5) * c;
            double off = 0;
            int sd = side_at(p, s, x, y, &off);
            if (sd < 0) continue;
            votes[sd]++;
            /* label candidates: far from the line, not at the frame's edges */
            double cen = 1.0 - fabs((x - p->fx) / p->fw - 0.5) - fabs((y - p->fy) / p->fh - 0.5);
            if (sd > 0 && off * cen > label_best[sd] && qt > ncell / 50) {
                label_best[sd] = off * cen;
                label_i[sd] = (int)v;
            }
        }
        comp_side[ncomp] = votes[1] > votes[2] ? 1 : votes[2] > votes[1] ? 2 : 0;
        ncomp++;
    }
    if (neighbour) {
        /* runs of neighbour cells per row; a line cell goes with its left neighbour */
        plot_set_rgb(cr, plot_neighbour_rgb);
        cairo_save(cr);
        cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
        for (int y = 0; y < ny; y++) {
            int run = -1, prev = 0;
            for (int x = 0; x <= nx; x++) {
                int in = 0;
                if (x < nx) {
                    size_t v = (size_t)y * (size_t)nx + (size_t)x;
                    in = comp[v] >= 0 ? comp_side[comp[v]] == neighbour : prev;
                }
                if (in && run < 0) run = x;
                if (!in && run >= 0) {
                    cairo_rectangle(cr, p->fx + run * c, p->fy + y * c, (x - run) * c, c);
                    run = -1;
                }
                prev = in;
            }
        }
        cairo_fill(cr);
        cairo_restore(cr);
    }
    plot_font(cr, 1, p->base * 1.5);
    for (int side = 1; side <= 2; side++) {
        if (!p->side_country[side][0] || label_i[side] < 0) continue;
        size_t v = (size_t)label_i[side];
        if (comp_side[comp[v]] != side) continue;
        const char *name = plot_country_name(p->side_country[side]);
        cairo_text_extents_t te;
        cairo_text_extents(cr, name, &te);
        /* keep the whole label inside the frame */
        double lx = p->fx + ((double)(v % (size_t)nx) + 0.5) * c;
        double ly = p->fy + ((double)(v / (size_t)nx) + 0.5) * c;
        double half = te.x_advance / 2 + p->base * 0.5;
        lx = fmax(p->fx + half, fmin(lx, p->fx + p->fw - half - p->base * 3));
        ly = fmax(p->fy + p->base * 2, fmin(ly, p->fy + p->fh - p->base * 4));
        cairo_set_source_rgba(cr, 0.35, 0.33, 0.30, 0.55);
        plot_text(cr, lx, ly, name, 0.5, 0.5, 0);
    }
    free(mask);
    free(comp);
    free(queue);
}

/* ---- graticule, scale bar, north arrow ----------------------------------------- */

static double nice_step(double span, int want)
{
    static const double steps[] = {0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2,
                                   0.25,  0.5,  1,    2,     5,    10};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (span / steps[i] <= want) return steps[i];
    return 20;
}

static void fmt_deg(char *buf, size_t n, double v, double step, int is_lon)
{
    int dec = step >= 1 ? 0 : step >= 0.1 ? 1 : step >= 0.01 ? 2 : 3;
    if (fabs(step * pow(10, dec) - round(step * pow(10, dec))) > 1e-9) dec++;
    char hemi = is_lon ? (v < 0 ? 'W' : 'E') : (v < 0 ? 'S' : 'N');
    snprintf(buf, n, "%.*f\xc2\xb0%c", dec, fabs(v), hemi);
}

void plot_draw_graticule(plot *p, cairo_t *cr)
{
    double dlon = nice_step(p->ext.east - p->ext.west, 6);
    double dlat = nice_step(p->ext.north - p->ext.south, 6);
    cairo_save(cr);
    cairo_rectangle(cr, p->fx, p->fy, p->fw, p->fh);
    cairo_clip(cr);
    cairo_set_source_rgba(cr, 0.3, 0.4, 0.55, 0.35);
    cairo_set_line_width(cr, 0.7);
    for (double lon = ceil(p->ext.west / dlon) * dlon; lon <= p->ext.east; lon += dlon) {
        for (int i = 0; i <= 32; i++) {
            double x, y;
            plot_px(p, (bt_lonlat){lon, p->ext.south + (p->ext.north - p->ext.south) * i / 32},
                    &x, &y);
            if (i == 0) cairo_move_to(cr, x, y);
            else cairo_line_to(cr, x, y);
        }
        cairo_stroke(cr);
    }
    for (double lat = ceil(p->ext.south / dlat) * dlat; lat <= p->ext.north; lat += dlat) {
        for (int i = 0; i <= 32; i++) {
            double x, y;
            plot_px(p, (bt_lonlat){p->ext.west + (p->ext.east - p->ext.west) * i / 32, lat},
                    &x, &y);
            if (i == 0) cairo_move_to(cr, x, y);
            else cairo_line_to(cr, x, y);
        }
        cairo_stroke(cr);
    }
    cairo_restore(cr);
    /* tick labels where the lines meet the frame: longitudes below, latitudes left */
    plot_font(cr, 0, p->base * 0.85);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_set_line_width(cr, 1);
    char buf[32];
    for (double lon = ceil(p->ext.west / dlon) * dlon; lon <= p->ext.east; lon += dlon) {
        /* bisect the latitude where the meridian crosses the bottom edge */
        double lo = p->ext.south, hi = p->ext.north, x = 0, y = 0;
        for (int it = 0; it < 50; it++) {
            double mid = (lo + hi) / 2;
            plot_px(p, (bt_lonlat){lon, mid}, &x, &y);
            if (y > p->fy + p->fh) lo = mid;
            else hi = mid;
        }
        if (x < p->fx + 2 || x > p->fx + p->fw - 2) continue;
        cairo_move_to(cr, x, p->fy + p->fh);
        cairo_line_to(cr, x, p->fy + p->fh + p->base * 0.4);
        cairo_stroke(cr);
        fmt_deg(buf, sizeof buf, lon, dlon, 1);
        plot_text(cr, x, p->fy + p->fh + p->base * 0.55, buf, 0.5, 0, 0);
    }
    for (double lat = ceil(p->ext.south / dlat) * dlat; lat <= p->ext.north; lat += dlat) {
        double lo = p->ext.west, hi = p->ext.east, x = 0, y = 0;
        for (int it = 0; it < 50; it++) {
            double mid = (lo + hi) / 2;
            plot_px(p, (bt_lonlat){mid, lat}, &x, &y);
            if (x < p->fx) lo = mid;
            else hi = mid;
        }
        if (y < p->fy + 2 || y > p->fy + p->fh - 2) continue;
        cairo_move_to(cr, p->fx, y);
        cairo_line_to(cr, p->fx - p->base * 0.4, y);
        cairo_stroke(cr);
        fmt_deg(buf, sizeof buf, lat, dlat, 0);
        plot_text(cr, p->fx - p->base * 0.55, y, buf, 1.0, 0.5, 0);
    }
}

void plot_draw_scalebar(plot *p, cairo_t *cr)
{
    /* a round length near a fifth of the frame width */
    double target = p->fw * p->s / 5;
    static const double nice[] = {100, 200, 400, 1000, 2000, 4000, 10000, 20000, 40000,
                                  100000, 200000, 400000};
    double len = nice[0];
    for (size_t i = 0; i < sizeof nice / sizeof nice[0]; i++)
        if (nice[i] <= target) len = nice[i];
    double px_len = len / p->s, x0 = p->fx + p->base * 1.2, y0 = p->fy + p->fh - p->base * 1.6;
    double h = p->base * 0.45;
    cairo_set_source_rgba(cr, 1, 1, 1, 0.8);
    cairo_rectangle(cr, x0 - p->base * 0.6, y0 - p->base * 1.9, px_len + p->base * 3.6,
                    p->base * 2.9);
    cairo_fill(cr);
    for (int i = 0; i < 4; i++) {
        cairo_rectangle(cr, x0 + px_len * i / 4, y0, px_len / 4, h);
        if (i % 2) cairo_set_source_rgb(cr, 1, 1, 1);
        else cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        cairo_set_line_width(cr, 0.8);
        cairo_stroke(cr);
    }
    plot_font(cr, 0, p->base * 0.8);
    char buf[32];
    int km = len >= 1000;
    for (int i = 0; i <= 4; i += 2) {
        double v = len * i / 4 / (km ? 1000.0 : 1.0);
        btcli_fmt_num(buf, sizeof buf, v, 2);
        plot_text(cr, x0 + px_len * i / 4, y0 - p->base * 0.25, buf, 0.5, 1.0, 0);
    }
    plot_text(cr, x0 + px_len + p->base * 0.4, y0 + h / 2, km ? "km" : "m", 0, 0.5, 0);
}

void plot_draw_north(plot *p, cairo_t *cr)
{
    double x = p->fx + p->fw - p->base * 2.2, y = p->fy + p->base * 3.4;
    /* true north at that point: project a short step north */
    double lon, lat, x1, y1, x2, y2;
    btcli_tmerc_inv(&p->tm, (x - p->cx) * p->s, (p->cy - y) * p->s, &lon, &lat);
    plot_px(p, (bt_lonlat){lon, lat}, &x1, &y1);
    plot_px(p, (bt_lonlat){lon, lat + 0.01}, &x2, &y2);
    double a = atan2(x2 - x1, -(y2 - y1)); /* angle from screen up */
    double L = p->base * 1.6;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, a);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.8);
    cairo_arc(cr, 0, 0, L * 1.05, 0, 2 * PLOT_PI);
    cairo_fill(cr);
    cairo_move_to(cr, 0, -L);
    cairo_line_to(cr, L * 0.38, L * 0.55);
    cairo_line_to(cr, 0, L * 0.25);
    cairo_close_path(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_fill(cr);
    cairo_move_to(cr, 0, -L);
    cairo_line_to(cr, -L * 0.38, L * 0.55);
    cairo_line_to(cr, 0, L * 0.25);
    cairo_close_path(cr);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    cairo_restore(cr);
    plot_font(cr, 1, p->base);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    plot_text(cr, x, y - L * 1.05 - p->base * 0.2, "N", 0.5, 1.0, 1);
}

/* ---- layers ------------------------------------------------------------------- */

static void path_line(plot *p, cairo_t *cr, const plot_line *l)
{
    cairo_new_path(cr);
    for (size_t i = 0; i < l->n; i++) {
        double x, y;
        plot_px(p, l->pts[i], &x, &y);
        if (i == 0) cairo_move_to(cr, x, y);
        else cairo_line_to(cr, x, y);
    }
}

/* Barbs: small crosses every 11 px along a fence. */
static void draw_barbs(plot *p, cairo_t *cr, const plot_line *l)
{
    double carry = 5.5;
    for (size_t i = 1; i < l->n; i++) {
        double x0, y0, x1, y1;
        plot_px(p, l->pts[i - 1], &x0, &y0);
        plot_px(p, l->pts[i], &x1, &y1);
        double len = hypot(x1 - x0, y1 - y0);
        double d = carry;
        while (d < len) {
            double t = d / len, x = x0 + t * (x1 - x0), y = y0 + t * (y1 - y0);
            cairo_move_to(cr, x - 2.5, y - 2.5);
            cairo_line_to(cr, x + 2.5, y + 2.5);
            cairo_move_to(cr, x - 2.5, y + 2.5);
            cairo_line_to(cr, x + 2.5, y - 2.5);
            d += 11;
        }
        carry = d - len;
    }
    cairo_set_line_width(cr, 1.1);
    cairo_stroke(cr);
}


void plot_draw_installations(plot *p, cairo_t *cr)
{
    for (size_t i = 0; i < p->ninst; i++) {
        const plot_line *l = &p->inst[i];
        if (l->n < 2) continue;
        double dash[4];
        int nd = plot_status_dash(l->status, dash);
        path_line(p, cr, l);
        cairo_set_source_rgba(cr, 1, 1, 1, 0.9); /* halo keeps fences apart from the border */
        cairo_set_line_width(cr, 4.2);
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
        cairo_stroke(cr);
        path_line(p, cr, l);
        plot_set_rgb(cr, plot_material_rgb(l->material));
        cairo_set_line_width(cr, 2.4);
        cairo_set_dash(cr, dash, nd, 0);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        if (l->barbed) {
            plot_set_rgb(cr, plot_material_rgb(l->material));
            draw_barbs(p, cr, l);
        }
    }
    for (size_t i = 0; i < p->ninst; i++) {
        const plot_line *l = &p->inst[i];
        if (l->n != 1) continue;
        double x, y;
        plot_px(p, l->pts[0], &x, &y);
        plot_post(cr, l->kind, l->status, x, y, p->base * 0.28);
    }
}

void plot_draw_borders(plot *p, cairo_t *cr)
{
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    for (size_t i = 0; i < p->nseg; i++) {
        path_line(p, cr, &p->seg[i]);
        plot_set_rgb(cr, plot_border_rgb);
        cairo_set_line_width(cr, 3.0);
        cairo_stroke(cr);
    }
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
}

/* Remembers a drawn disc so that place labels can avoid it. */
static void add_disc(plot *p, double x, double y, double r)
{
    if (p->ndiscs == p->capdiscs) {
        size_t ncap = p->capdiscs ? 2 * p->capdiscs : 256;
        double *nd = realloc(p->discs, ncap * 3 * sizeof *nd);
        if (!nd) return; /* labels then ignore this disc: only their placement suffers */
        p->discs = nd;
        p->capdiscs = ncap;
    }
    p->discs[3 * p->ndiscs] = x;
    p->discs[3 * p->ndiscs + 1] = y;
    p->discs[3 * p->ndiscs + 2] = r;
    p->ndiscs++;
}

/* Greedy clustering in screen space: an incident gathers the unassigned ones within
 * R px; groups of 4 or more are drawn as a pie of their types with the count. */
void plot_draw_incidents(plot *p, cairo_t *cr, btcli_progress *bar)
{
    const double R = p->base * 0.9;
    size_t n = p->ninc;
    for (size_t i = 0; i < n; i++) plot_px(p, p->inc[i].where, &p->inc[i].x, &p->inc[i].y);
    /* uncertainty circles first, under every symbol, where wider than 4 px */
    for (size_t i = 0; i < n; i++) {
        double r = p->inc[i].unc_m / p->s;
        if (r < 4) continue;
        plot_rgb c = plot_type_rgb(p->inc[i].type);
        cairo_new_path(cr);
        cairo_arc(cr, p->inc[i].x, p->inc[i].y, r, 0, 2 * PLOT_PI);
        cairo_set_source_rgba(cr, c.r, c.g, c.b, 0.035);
        cairo_fill_preserve(cr);
        cairo_set_source_rgba(cr, c.r, c.g, c.b, 0.28);
        cairo_set_line_width(cr, 0.6);
        cairo_stroke(cr);
    }
    /* spatial hash of cell R: indices sorted by cell */
    int gx = (int)ceil(p->W / R) + 1, gy = (int)ceil(p->H / R) + 1;
    size_t *head = malloc((size_t)gx * (size_t)gy * sizeof *head);
    size_t *next = malloc((n + 1) * sizeof *next);
    unsigned char *done = calloc(n + 1, 1);
    size_t *members = malloc((n + 1) * sizeof *members);
    if (!head || !next || !done || !members) {
        free(head);
        free(next);
        free(done);
        free(members);
        p->nomem = 1;
        return;
    }
    for (size_t c = 0; c < (size_t)gx * (size_t)gy; c++) head[c] = SIZE_MAX;
    for (size_t i = n; i-- > 0;) {
        int cx = (int)floor(p->inc[i].x / R), cy = (int)floor(p->inc[i].y / R);
        if (cx < 0 || cy < 0 || cx >= gx || cy >= gy) {
            done[i] = 1; /* off the canvas */
            continue;
        }
        size_t c = (size_t)cy * (size_t)gx + (size_t)cx;
        next[i] = head[c];
        head[c] = i;
    }
    for (size_t i = 0; i < n; i++) {
        btcli_progress_update(bar, (double)i);
        if (done[i]) continue;
        size_t m = 0;
        int cx = (int)floor(p->inc[i].x / R), cy = (int)floor(p->inc[i].y / R);
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                int x = cx + dx, y = cy + dy;
                if (x < 0 || y < 0 || x >= gx || y >= gy) continue;
                for (size_t k = head[(size_t)y * (size_t)gx + (size_t)x]; k != SIZE_MAX;
                     k = next[k])
                    if (!done[k] && hypot(p->inc[k].x - p->inc[i].x,
                                          p->inc[k].y - p->inc[i].y) <= R)
                        members[m++] = k;
            }
        if (m < 4) {
            done[i] = 1;
            plot_symbol(cr, p->inc[i].type, p->inc[i].x, p->inc[i].y, p->base * 0.36);
            add_disc(p, p->inc[i].x, p->inc[i].y, p->base * 0.5);
            continue;
        }
        size_t count[BT_INCIDENT_TYPE_COUNT] = {0};
        double mx = 0, my = 0;
        for (size_t k = 0; k < m; k++) {
            done[members[k]] = 1;
            count[p->inc[members[k]].type]++;
            mx += p->inc[members[k]].x;
            my += p->inc[members[k]].y;
        }
        mx /= (double)m;
        my /= (double)m;
        double r = fmin(p->base * 0.4 + p->base * 0.18 * sqrt((double)m), p->base * 1.3);
        double a = -PLOT_PI / 2;
        for (int t = 0; t < BT_INCIDENT_TYPE_COUNT; t++) {
            if (!count[t]) continue;
            double da = 2 * PLOT_PI * (double)count[t] / (double)m;
            cairo_move_to(cr, mx, my);
            cairo_arc(cr, mx, my, r, a, a + da);
            cairo_close_path(cr);
            plot_set_rgb(cr, plot_type_rgb(t));
            cairo_fill(cr);
            a += da;
        }
        cairo_arc(cr, mx, my, r, 0, 2 * PLOT_PI);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_set_line_width(cr, 1.2);
        cairo_stroke(cr);
        char buf[24];
        snprintf(buf, sizeof buf, "%zu", m);
        plot_font(cr, 1, p->base * 0.8);
        cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
        plot_text(cr, mx, my, buf, 0.5, 0.5, 1);
        add_disc(p, mx, my, r);
    }
    free(head);
    free(next);
    free(done);
    free(members);
}

/* Does the box [x0, x1] x [y0, y1] meet the disc? */
static int box_disc(double x0, double y0, double x1, double y1, const double *d)
{
    double cx = fmax(x0, fmin(d[0], x1)), cy = fmax(y0, fmin(d[1], y1));
    return hypot(cx - d[0], cy - d[1]) < d[2];
}

/* Places with their labels. Each label takes the first of eight positions around its
 * dot that meets the fewest symbols, clusters and earlier labels, inside the frame. */
void plot_draw_places(plot *p, cairo_t *cr)
{
    double (*boxes)[4] = calloc(p->nplaces + 1, sizeof *boxes);
    size_t nboxes = 0;
    for (size_t i = 0; i < p->nplaces; i++) {
        double x, y;
        plot_px(p, p->places[i]->where, &x, &y);
        if (x < p->fx || x > p->fx + p->fw || y < p->fy || y > p->fy + p->fh) continue;
        int centre = p->sel.has_centre && strcmp(p->sel.centre_label, p->places[i]->name) == 0;
        cairo_new_path(cr);
        cairo_arc(cr, x, y, centre ? 4.2 : 3.0, 0, 2 * PLOT_PI);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        cairo_set_line_width(cr, 1.4);
        cairo_stroke(cr);
        plot_font(cr, centre, p->base * (centre ? 1.05 : 0.9));
        cairo_text_extents_t te;
        cairo_font_extents_t fe;
        cairo_text_extents(cr, p->places[i]->name, &te);
        cairo_font_extents(cr, &fe);
        double w = te.x_advance, h = fe.ascent * 0.75, g = 6;
        /* anchor (ax, ay) of the text at (x + dx, y + dy) */
        static const double cand[8][4] = {
            {1, -1, 0, 1}, {-1, -1, 1, 1}, {1, 1, 0, 0}, {-1, 1, 1, 0},
            {0, -1.6, 0.5, 1}, {0, 1.6, 0.5, 0}, {1.5, 0, 0, 0.5}, {-1.5, 0, 1, 0.5},
        };
        double best_score = 1e18, bx0 = 0, by0 = 0;
        for (int k = 0; k < 8; k++) {
            double tx = x + cand[k][0] * g - cand[k][2] * w;
            double ty = y + cand[k][1] * g + (1 - cand[k][3]) * h; /* baseline */
            double x0 = tx - 1, x1 = tx + w + 1, y0 = ty - h - 1, y1 = ty + 2;
            double score = k * 0.01;
            if (x0 < p->fx || x1 > p->fx + p->fw || y0 < p->fy || y1 > p->fy + p->fh)
                score += 1000;
            for (size_t d = 0; d < p->ndiscs; d++)
                if (box_disc(x0, y0, x1, y1, &p->discs[3 * d])) score += 1;
            for (size_t b = 0; b < nboxes; b++)
                if (x0 < boxes[b][2] && boxes[b][0] < x1 && y0 < boxes[b][3] && boxes[b][1] < y1)
                    score += 3;
            if (score < best_score) {
                best_score = score;
                bx0 = tx;
                by0 = ty;
            }
        }
        if (boxes) {
            boxes[nboxes][0] = bx0;
            boxes[nboxes][1] = by0 - h;
            boxes[nboxes][2] = bx0 + w;
            boxes[nboxes][3] = by0;
            nboxes++;
        }
        cairo_set_source_rgb(cr, 0.08, 0.08, 0.08);
        plot_text(cr, bx0, by0, p->places[i]->name, 0, 1.0, 1);
    }
    free(boxes);
}

void plot_draw_query_area(plot *p, cairo_t *cr)
{
    if (!(p->sel.has_centre && p->f.radius_m > 0)) return;
    double x, y;
    plot_px(p, p->sel.centre, &x, &y);
    double dash[2] = {6, 4};
    cairo_new_path(cr);
    cairo_arc(cr, x, y, p->f.radius_m / p->s, 0, 2 * PLOT_PI);
    cairo_set_source_rgba(cr, 0.15, 0.15, 0.15, 0.7);
    cairo_set_line_width(cr, 1.2);
    cairo_set_dash(cr, dash, 2, 0);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
}
