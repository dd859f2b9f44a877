/**
 * @file plot_legend.c
 * @brief The map's legend (every type, material, state and symbol present, with
 * counts; also kept as text for the SVG <desc>), title and attribution.
 */
#include "plot.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- legend ------------------------------------------------------------------- */

static void lt_add(plot_legend_text *lt, const char *s)
{
    if (lt->used >= sizeof lt->buf) return;
    int w = snprintf(lt->buf + lt->used, sizeof lt->buf - lt->used, "%s%s",
                     lt->used ? "; " : "", s);
    if (w > 0) lt->used += (size_t)w;
}

void plot_draw_legend(plot *p, cairo_t *cr, plot_legend_text *lt)
{
    double x = p->lx, y = p->ly, w = p->lw - p->base * 0.6, b = p->base;
    double lh = b * 1.45, sx = x + b * 0.9, tx = x + b * 2.6;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_rectangle(cr, x, y, w, p->lh);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    cairo_set_line_width(cr, 0.8);
    cairo_stroke(cr);
    y += b * 1.6;
    char buf[128];
    size_t count[BT_INCIDENT_TYPE_COUNT] = {0};
    for (size_t i = 0; i < p->ninc; i++) count[p->inc[i].type]++;

    plot_font(cr, 1, b);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    snprintf(buf, sizeof buf, "Incidents (%zu)", p->ninc);
    plot_text(cr, x + b * 0.6, y, buf, 0, 0.5, 0);
    y += lh;
    for (int t = 0; t < BT_INCIDENT_TYPE_COUNT; t++) {
        if (!count[t]) continue;
        plot_symbol(cr, t, sx, y, b * 0.4);
        const char *name = bt_enum_name(BT_ENUM_INCIDENT_TYPE, t);
        char label[64];
        snprintf(label, sizeof label, "%s", name);
        for (char *c = label; *c; c++)
            if (*c == '_') *c = ' ';
        snprintf(buf, sizeof buf, "%s (%zu)", label, count[t]);
        plot_font(cr, 0, b * 0.9);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        plot_text(cr, tx, y, buf, 0, 0.5, 0);
        lt_add(lt, name);
        y += lh;
    }
    if (p->ninc) {
        /* a cluster sample */
        double r = b * 0.8, a = -PLOT_PI / 2;
        int shown = 0;
        for (int t = 0; t < BT_INCIDENT_TYPE_COUNT && shown < 3; t++) {
            if (!count[t]) continue;
            cairo_move_to(cr, sx, y + b * 0.2);
            cairo_arc(cr, sx, y + b * 0.2, r, a, a + 2 * PLOT_PI / 3);
            cairo_close_path(cr);
            plot_set_rgb(cr, plot_type_rgb(t));
            cairo_fill(cr);
            a += 2 * PLOT_PI / 3;
            shown++;
        }
        plot_font(cr, 0, b * 0.85);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        plot_text(cr, tx, y + b * 0.2, "cluster: share by type,", 0, 0.5, 0);
        plot_text(cr, tx, y + b * 1.2, "number of incidents", 0, 0.5, 0);
        lt_add(lt, "cluster");
        y += lh * 1.7;
        cairo_new_path(cr);
        cairo_arc(cr, sx, y, b * 0.7, 0, 2 * PLOT_PI);
        cairo_set_source_rgba(cr, 0.3, 0.3, 0.3, 0.06);
        cairo_fill_preserve(cr);
        cairo_set_source_rgba(cr, 0.3, 0.3, 0.3, 0.5);
        cairo_set_line_width(cr, 0.6);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        plot_text(cr, tx, y, "location uncertainty", 0, 0.5, 0);
        lt_add(lt, "location uncertainty");
        y += lh * 1.3;
    }

    /* installations */
    int mat[9] = {0}, st[6] = {0}, barbed = 0, kinds[7] = {0}, lines = 0;
    for (size_t i = 0; i < p->ninst; i++) {
        const plot_line *l = &p->inst[i];
        if (l->n >= 2) {
            mat[l->material] = 1;
            st[l->status] = 1;
            barbed |= l->barbed;
            lines = 1;
        } else {
            kinds[l->kind] = 1;
            st[l->status] = 1;
        }
    }
    plot_font(cr, 1, b);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    plot_text(cr, x + b * 0.6, y, "Border and installations", 0, 0.5, 0);
    y += lh;
    cairo_set_source_rgb(cr, plot_border_rgb.r, plot_border_rgb.g, plot_border_rgb.b);
    cairo_set_line_width(cr, 3);
    cairo_move_to(cr, sx - b * 0.6, y);
    cairo_line_to(cr, sx + b * 0.8, y);
    cairo_stroke(cr);
    plot_font(cr, 0, b * 0.9);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    for (size_t k = 0; k < p->nborders; k++) {
        snprintf(buf, sizeof buf, "border %s", p->borders[k]);
        plot_text(cr, tx, y, buf, 0, 0.5, 0);
        lt_add(lt, buf);
        y += lh;
    }
    if (!p->nborders) y += lh;
    for (int m = 0; m < 9; m++) {
        if (!mat[m]) continue;
        plot_fence_sample(cr, m, BT_STATUS_COMPLETE, 0, sx - b * 0.6, y, b * 1.4);
        const char *name = bt_enum_name(BT_ENUM_MATERIAL, m);
        snprintf(buf, sizeof buf, "fence: %s", name);
        for (char *c = buf; *c; c++)
            if (*c == '_') *c = ' ';
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        plot_text(cr, tx, y, buf, 0, 0.5, 0);
        lt_add(lt, buf);
        y += lh;
    }
    if (lines) {
        plot_fence_sample(cr, 0, BT_STATUS_COMPLETE, 1, sx - b * 0.6, y, b * 1.4);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        plot_text(cr, tx, y, barbed ? "barbed (x marks)" : "barbed: x marks (none shown)", 0,
                  0.5, 0);
        lt_add(lt, "barbed");
        y += lh;
    }
    static const int status_order[] = {BT_STATUS_COMPLETE, BT_STATUS_REPAIRED,
                                       BT_STATUS_UNDER_CONSTRUCTION, BT_STATUS_DAMAGED,
                                       BT_STATUS_PLANNED};
    for (size_t k = 0; lines && k < 5; k++) {
        int s2 = status_order[k];
        if (!st[s2]) continue;
        plot_fence_sample(cr, 0, s2, 0, sx - b * 0.6, y, b * 1.4);
        snprintf(buf, sizeof buf, "%s", bt_enum_name(BT_ENUM_INSTALL_STATUS, s2));
        for (char *c = buf; *c; c++)
            if (*c == '_') *c = ' ';
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        plot_text(cr, tx, y, buf, 0, 0.5, 0);
        lt_add(lt, buf);
        y += lh;
    }
    for (int k = 0; k < 7; k++) {
        if (!kinds[k] || k == BT_INSTALL_FENCE || k == BT_INSTALL_WALL) continue;
        int shown_status[2] = {BT_STATUS_COMPLETE, BT_STATUS_UNDER_CONSTRUCTION};
        for (int q = 0; q < 2; q++) {
            int any = 0;
            for (size_t i = 0; i < p->ninst; i++)
                if (p->inst[i].n == 1 && p->inst[i].kind == k &&
                    (p->inst[i].status == BT_STATUS_UNDER_CONSTRUCTION) == (q == 1))
                    any = 1;
            if (!any) continue;
            plot_post(cr, k, shown_status[q], sx, y, b * 0.4);
            snprintf(buf, sizeof buf, "%s%s", bt_enum_name(BT_ENUM_INSTALL_KIND, k),
                     q ? " (under construction)" : "");
            for (char *c = buf; *c; c++)
                if (*c == '_') *c = ' ';
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            plot_text(cr, tx, y, buf, 0, 0.5, 0);
            lt_add(lt, buf);
            y += lh;
        }
    }
    y += lh * 0.3;
    plot_font(cr, 1, b);
    plot_text(cr, x + b * 0.6, y, "Other", 0, 0.5, 0);
    y += lh;
    plot_font(cr, 0, b * 0.9);
    cairo_new_path(cr);
    cairo_arc(cr, sx, y, 3, 0, 2 * PLOT_PI);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_set_line_width(cr, 1.4);
    cairo_stroke(cr);
    plot_text(cr, tx, y, "place (GeoNames)", 0, 0.5, 0);
    lt_add(lt, "place");
    y += lh;
    if (p->sel.has_centre && p->f.radius_m > 0) {
        double dash[2] = {4, 3};
        cairo_set_dash(cr, dash, 2, 0);
        cairo_set_line_width(cr, 1.2);
        cairo_move_to(cr, sx - b * 0.6, y);
        cairo_line_to(cr, sx + b * 0.8, y);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        snprintf(buf, sizeof buf, "query radius (%g km)", p->f.radius_m / 1000);
        plot_text(cr, tx, y, buf, 0, 0.5, 0);
        lt_add(lt, "query radius");
        y += lh;
    }
    for (int side = 1; side <= 2; side++) {
        if (!p->side_country[side][0] || strcmp(p->side_country[side], "KP") == 0) continue;
        plot_set_rgb(cr, plot_neighbour_rgb);
        cairo_rectangle(cr, sx - b * 0.6, y - b * 0.45, b * 1.4, b * 0.9);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
        cairo_set_line_width(cr, 0.6);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        snprintf(buf, sizeof buf, "%s side", plot_country_name(p->side_country[side]));
        char lower[sizeof buf];
        snprintf(lower, sizeof lower, "%c%s", buf[0], buf + 1);
        for (char *c = lower + 1; *c; c++)
            if (*c >= 'A' && *c <= 'Z' && c[-1] != ' ') *c = (char)(*c + 32);
        plot_text(cr, tx, y, lower, 0, 0.5, 0);
        lt_add(lt, lower);
        y += lh;
    }
}

/* ---- title and attribution ------------------------------------------------------ */

static void window_text(const btcli_filters *f, char *buf, size_t n)
{
    char a[40], b[40];
    btcli_fmt_time(a, sizeof a, f->from, f->from_prec);
    btcli_fmt_time(b, sizeof b, f->to, f->to_prec);
    if (f->has_from && f->has_to && strcmp(f->from_text, f->to_text) == 0)
        snprintf(buf, n, "%s", a);
    else if (f->has_from && f->has_to)
        snprintf(buf, n, "%s \xe2\x80\x93 %s", a, b);
    else if (f->has_from)
        snprintf(buf, n, "since %s", a);
    else if (f->has_to)
        snprintf(buf, n, "until %s", b);
    else
        snprintf(buf, n, "all dates");
}

void plot_draw_title(plot *p, cairo_t *cr, char *title, size_t n)
{
    char win[96];
    window_text(&p->f, win, sizeof win);
    if (p->title) snprintf(title, n, "%s", p->title);
    else if (p->sel.has_centre && p->f.radius_m > 0)
        snprintf(title, n, "Incidents within %g km of %s, %s (%zu shown)", p->f.radius_m / 1000,
                 p->sel.centre_label, win, p->ninc);
    else
        snprintf(title, n, "Border incidents, %s (%zu shown)", win, p->ninc);
    plot_font(cr, 1, p->base * 1.45);
    cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
    plot_text(cr, p->fx, p->base * 1.0, title, 0, 0, 0);
    char sub[256];
    snprintf(sub, sizeof sub,
             "Fences and posts standing during the window \xc2\xb7 transverse Mercator "
             "centred on %.4f\xc2\xb0" "E %.4f\xc2\xb0" "N \xc2\xb7 %.1f m per pixel",
             p->tm.lon0, p->tm.lat0, p->s);
    plot_font(cr, 0, p->base * 0.9);
    cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
    plot_text(cr, p->fx, p->base * 2.55, sub, 0, 0, 0);
}

void plot_draw_attribution(plot *p, cairo_t *cr)
{
    plot_font(cr, 0, p->base * 0.8);
    cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
    plot_text(cr, p->fx, p->H - p->base * 1.2,
              "Border \xc2\xa9 OpenStreetMap contributors (ODbL) \xc2\xb7 Places: GeoNames "
              "(CC BY 4.0) \xc2\xb7 Incidents and installations: bordertrack sample data "
              "(synthetic records are marked as such)",
              0, 0.5, 0);
}
