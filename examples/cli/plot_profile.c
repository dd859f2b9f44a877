/**
 * @file plot_profile.c
 * @brief The --profile panel of the map: incidents shown on the map counted per km of
 * chainage along the border (bt_border_locate), over the stretch of border inside
 * the map frame, with the fence coverage of that stretch (bt_border_coverage) drawn
 * as a band beneath, so incidents in the gaps stand out.
 */
#include "plot.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static double nice_tick(double span, int want)
{
    double raw = span / want, mag = pow(10, floor(log10(raw)));
    double r = raw / mag;
    return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
}

/* The chainage range of the primary border's vertices inside the frame. */
static void chain_range(plot *p, bt_store *s)
{
    p->chain_from = (double)INFINITY;
    p->chain_to = -(double)INFINITY;
    for (size_t i = 0; i < p->nseg; i++) {
        if (p->seg[i].border != p->primary) continue;
        for (size_t k = 0; k < p->seg[i].n; k++) {
            double x, y;
            plot_px(p, p->seg[i].pts[k], &x, &y);
            if (x < p->fx || x > p->fx + p->fw || y < p->fy || y > p->fy + p->fh) continue;
            bt_location loc;
            if (bt_border_locate(s, p->border, p->seg[i].pts[k], &loc) != BT_OK) continue;
            if (loc.chain_offset_m > 2000) continue; /* a part off the chain */
            p->chain_from = fmin(p->chain_from, loc.chainage_m);
            p->chain_to = fmax(p->chain_to, loc.chainage_m);
        }
    }
}

int plot_profile_draw(plot *p, bt_store *s, cairo_t *cr)
{
    chain_range(p, s);
    if (!(p->chain_to > p->chain_from)) {
        fprintf(stderr, "bordertrack plot: --profile: the border does not cross the map\n");
        return 1;
    }
    const double bin = 1000;
    double from = floor(p->chain_from / bin) * bin, to = ceil(p->chain_to / bin) * bin;
    size_t nb = (size_t)((to - from) / bin);
    size_t *counts = calloc(nb, sizeof *counts);
    if (!counts) return 1;
    size_t maxc = 0, counted = 0;
    for (size_t i = 0; i < p->ninc; i++) {
        bt_location loc;
        if (bt_border_locate(s, p->border, p->inc[i].where, &loc) != BT_OK) continue;
        if (loc.chainage_m < from || loc.chainage_m >= to) continue;
        size_t b = (size_t)((loc.chainage_m - from) / bin);
        if (b >= nb) b = nb - 1;
        counts[b]++;
        counted++;
        if (counts[b] > maxc) maxc = counts[b];
    }
    bt_coverage_opts co;
    bt_coverage_opts_init(&co);
    co.from_m = from;
    co.to_m = to;
    co.as_of = p->f.to;
    co.include_construction = 1;
    bt_coverage *cov = NULL;
    int rc = bt_border_coverage(s, p->border, &co, &cov);
    if (rc != BT_OK) {
        btcli_lib_error("plot", s, rc, "fence coverage");
        free(counts);
        return 1;
    }

    double b = p->base, x0 = p->px, w = p->pw;
    double band_h = b * 0.9, y_top = p->py, y_base = p->py + p->ph - band_h - b * 0.5;
    double hist_h = y_base - y_top;
    double ymax = maxc ? (double)maxc : 1;
    double ystep = nice_tick(ymax, 4);
    if (ystep < 1) ystep = 1;
    ymax = ceil(ymax / ystep) * ystep;

    /* title */
    plot_font(cr, 1, b * 0.95);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    char buf[256];
    snprintf(buf, sizeof buf,
             "Incidents per km along %s (%zu of %zu shown), with fence coverage", 
             p->borders[p->primary], counted, p->ninc);
    plot_text(cr, x0, y_top - b * 1.5, buf, 0, 0.5, 0);

    /* grid and y axis */
    plot_font(cr, 0, b * 0.8);
    cairo_set_line_width(cr, 0.6);
    for (double v = 0; v <= ymax + 1e-9; v += ystep) {
        double y = y_base - v / ymax * hist_h;
        cairo_set_source_rgba(cr, 0.3, 0.3, 0.3, 0.25);
        cairo_move_to(cr, x0, y);
        cairo_line_to(cr, x0 + w, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        snprintf(buf, sizeof buf, "%.0f", v);
        plot_text(cr, x0 - b * 0.4, y, buf, 1.0, 0.5, 0);
    }
    /* gaps shaded through the histogram, so incidents in gaps stand out */
    for (size_t g = 0; g < cov->ngaps; g++) {
        double a = x0 + (cov->gaps[g].from_m - from) / (to - from) * w;
        double e = x0 + (cov->gaps[g].to_m - from) / (to - from) * w;
        cairo_set_source_rgba(cr, 0.85, 0.2, 0.1, 0.07);
        cairo_rectangle(cr, a, y_top, e - a, hist_h);
        cairo_fill(cr);
    }
    /* bars */
    for (size_t i = 0; i < nb; i++) {
        if (!counts[i]) continue;
        double a = x0 + (double)i / (double)nb * w, bw = w / (double)nb;
        double h = (double)counts[i] / ymax * hist_h;
        cairo_rectangle(cr, a + bw * 0.08, y_base - h, bw * 0.84, h);
        cairo_set_source_rgb(cr, 0.25, 0.35, 0.55);
        cairo_fill(cr);
    }
    /* the coverage band: covered green, gaps red */
    double yb = y_base + b * 0.35;
    cairo_set_source_rgb(cr, 0.86, 0.36, 0.30);
    cairo_rectangle(cr, x0, yb, w, band_h);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0.25, 0.62, 0.35);
    for (size_t k = 0; k < cov->nintervals; k++) {
        double a = x0 + (cov->intervals[k].from_m - from) / (to - from) * w;
        double e = x0 + (cov->intervals[k].to_m - from) / (to - from) * w;
        cairo_rectangle(cr, a, yb, fmax(e - a, 0.8), band_h);
    }
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_set_line_width(cr, 0.8);
    cairo_rectangle(cr, x0, yb, w, band_h);
    cairo_stroke(cr);
    /* x axis: km of chainage */
    double xstep = nice_tick((to - from) / 1000, 8);
    plot_font(cr, 0, b * 0.8);
    for (double km = ceil(from / 1000 / xstep) * xstep; km <= to / 1000 + 1e-9; km += xstep) {
        double x = x0 + (km * 1000 - from) / (to - from) * w;
        cairo_move_to(cr, x, yb + band_h);
        cairo_line_to(cr, x, yb + band_h + b * 0.35);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%g", km);
        plot_text(cr, x, yb + band_h + b * 0.45, buf, 0.5, 0, 0);
    }
    /* the same km marks on the map's border line, to read one against the other */
    cairo_save(cr);
    cairo_rectangle(cr, p->fx, p->fy, p->fw, p->fh);
    cairo_clip(cr);
    plot_font(cr, 1, b * 0.75);
    for (double km = ceil(from / 1000 / xstep) * xstep; km <= to / 1000 + 1e-9; km += xstep) {
        bt_lonlat ll;
        double x, y;
        if (bt_border_point_at(s, p->border, km * 1000, &ll) != BT_OK) continue;
        plot_px(p, ll, &x, &y);
        cairo_new_path(cr);
        cairo_arc(cr, x, y, 3.2, 0, 2 * PLOT_PI);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 0.78, 0.0, 0.47);
        cairo_set_line_width(cr, 1.5);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "km %g", km);
        cairo_set_source_rgb(cr, 0.5, 0.0, 0.3);
        plot_text(cr, x + 5, y + 4, buf, 0, 0, 1);
    }
    cairo_restore(cr);
    plot_font(cr, 0, b * 0.8);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    snprintf(buf, sizeof buf,
             "km along the border from its origin \xc2\xb7 band: fence coverage %.0f%% "
             "(green covered, red gap), standing or under construction",
             100 * cov->share);
    plot_text(cr, x0 + w, yb + band_h + b * 1.55, buf, 1.0, 0, 0);
    bt_coverage_free(cov);
    free(counts);
    return 0;
}
