/**
 * @file plot_style.c
 * @brief The map's styles: colours and shapes of incident types, fence colours by
 * material, dash patterns by installation state, symbols, and text with a halo.
 */
#include "plot.h"

#include <math.h>
#include <string.h>

enum shape {
    SH_CIRCLE, SH_DIAMOND, SH_TRIANGLE, SH_STAR, SH_SQUARE, SH_X, SH_PLUS,
    SH_TRIDOWN, SH_HEXAGON, SH_RING, SH_STAR4, SH_DOT
};

/* Incident symbols by bt_incident_type: colour and shape both differ, so that the
 * types stay apart in grey-scale print too. */
static const struct { plot_rgb c; enum shape sh; } inc_style[BT_INCIDENT_TYPE_COUNT] = {
    {{0.12, 0.47, 0.71}, SH_CIRCLE},   /* smuggling */
    {{0.09, 0.66, 0.75}, SH_DIAMOND},  /* river_crossing */
    {{1.00, 0.50, 0.05}, SH_TRIANGLE}, /* crossing_attempt */
    {{0.58, 0.40, 0.74}, SH_STAR},     /* defection */
    {{0.84, 0.15, 0.16}, SH_SQUARE},   /* arrest */
    {{0.45, 0.00, 0.00}, SH_X},        /* shooting */
    {{0.55, 0.34, 0.29}, SH_PLUS},     /* fence_work */
    {{0.89, 0.47, 0.76}, SH_TRIDOWN},  /* fence_breach */
    {{0.40, 0.40, 0.40}, SH_HEXAGON},  /* guard_post_work */
    {{0.60, 0.60, 0.10}, SH_RING},     /* patrol */
    {{0.17, 0.60, 0.17}, SH_STAR4},    /* policy_notice */
    {{0.25, 0.25, 0.25}, SH_DOT},      /* other */
};

/* Fence colours by bt_material. */
static const plot_rgb material_tab[9] = {
    {0.35, 0.35, 0.35}, /* unknown */
    {0.85, 0.52, 0.10}, /* string_wire */
    {0.20, 0.42, 0.70}, /* thin_steel_wire */
    {0.50, 0.12, 0.12}, /* barbed_wire */
    {0.70, 0.20, 0.35}, /* concertina */
    {0.18, 0.50, 0.37}, /* chain_link */
    {0.45, 0.45, 0.45}, /* concrete */
    {0.55, 0.48, 0.23}, /* reeds_wood */
    {0.48, 0.31, 0.63}, /* mixed */
};

/* The border line colour (tests/cli looks for it). */
const plot_rgb plot_border_rgb = {0.78, 0.0, 0.47};
const plot_rgb plot_neighbour_rgb = {0.925, 0.915, 0.885};

plot_rgb plot_type_rgb(int type) { return inc_style[type].c; }

plot_rgb plot_material_rgb(int material) { return material_tab[material]; }

void plot_set_rgb(cairo_t *cr, plot_rgb c) { cairo_set_source_rgb(cr, c.r, c.g, c.b); }

/* Dash pattern by installation status; n = 0 is solid. */
int plot_status_dash(int status, double dash[4])
{
    switch (status) {
    case BT_STATUS_UNDER_CONSTRUCTION:
        dash[0] = 7; dash[1] = 4;
        return 2;
    case BT_STATUS_DAMAGED:
        dash[0] = 8; dash[1] = 3; dash[2] = 2; dash[3] = 3;
        return 4;
    case BT_STATUS_PLANNED:
        dash[0] = 1.5; dash[1] = 3.5;
        return 2;
    default:
        return 0;
    }
}

/* ---- text ------------------------------------------------------------------- */

void plot_font(cairo_t *cr, int bold, double size)
{
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

void plot_text(cairo_t *cr, double x, double y, const char *text, double ax, double ay,
               int halo)
{
    cairo_text_extents_t te;
    cairo_font_extents_t fe;
    cairo_text_extents(cr, text, &te);
    cairo_font_extents(cr, &fe);
    /* anchor on the advance width and the font's ascent, so labels line up */
    double tx = x - ax * te.x_advance;
    double ty = y - ay * (fe.ascent * 0.75) + fe.ascent * 0.75;
    cairo_move_to(cr, tx, ty);
    if (halo) {
        cairo_save(cr);
        cairo_text_path(cr, text);
        cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
        cairo_set_line_width(cr, 3.0);
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
        cairo_stroke(cr);
        cairo_restore(cr);
        cairo_move_to(cr, tx, ty);
    }
    cairo_show_text(cr, text);
}

/* ---- symbols ---------------------------------------------------------------- */

static void poly(cairo_t *cr, double x, double y, double r, int n, double rot)
{
    for (int i = 0; i < n; i++) {
        double a = rot + 2 * PLOT_PI * i / n;
        if (i == 0) cairo_move_to(cr, x + r * cos(a), y + r * sin(a));
        else cairo_line_to(cr, x + r * cos(a), y + r * sin(a));
    }
    cairo_close_path(cr);
}

static void star(cairo_t *cr, double x, double y, double r, int points, double inner)
{
    for (int i = 0; i < 2 * points; i++) {
        double a = -PLOT_PI / 2 + PLOT_PI * i / points;
        double rr = i % 2 ? r * inner : r;
        if (i == 0) cairo_move_to(cr, x + rr * cos(a), y + rr * sin(a));
        else cairo_line_to(cr, x + rr * cos(a), y + rr * sin(a));
    }
    cairo_close_path(cr);
}

/* An incident symbol of radius r, filled with the type colour, outlined white. */
void plot_symbol(cairo_t *cr, int type, double x, double y, double r)
{
    plot_rgb c = plot_type_rgb(type);
    cairo_new_path(cr);
    switch (inc_style[type].sh) {
    case SH_CIRCLE: cairo_arc(cr, x, y, r, 0, 2 * PLOT_PI); break;
    case SH_DIAMOND: poly(cr, x, y, r * 1.25, 4, -PLOT_PI / 2); break;
    case SH_TRIANGLE: poly(cr, x, y + r * 0.2, r * 1.3, 3, -PLOT_PI / 2); break;
    case SH_STAR: star(cr, x, y, r * 1.4, 5, 0.45); break;
    case SH_SQUARE: cairo_rectangle(cr, x - r * 0.9, y - r * 0.9, r * 1.8, r * 1.8); break;
    case SH_TRIDOWN: poly(cr, x, y - r * 0.2, r * 1.3, 3, PLOT_PI / 2); break;
    case SH_HEXAGON: poly(cr, x, y, r * 1.1, 6, 0); break;
    case SH_STAR4: star(cr, x, y, r * 1.4, 4, 0.4); break;
    case SH_DOT: cairo_arc(cr, x, y, r * 0.7, 0, 2 * PLOT_PI); break;
    case SH_RING:
        cairo_arc(cr, x, y, r, 0, 2 * PLOT_PI);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_fill_preserve(cr);
        plot_set_rgb(cr, c);
        cairo_set_line_width(cr, r * 0.55);
        cairo_stroke(cr);
        return;
    case SH_X:
    case SH_PLUS: {
        double a = inc_style[type].sh == SH_X ? PLOT_PI / 4 : 0, w = r * 0.42, l = r * 1.3;
        cairo_save(cr);
        cairo_translate(cr, x, y);
        cairo_rotate(cr, a);
        cairo_rectangle(cr, -l, -w, 2 * l, 2 * w);
        cairo_rectangle(cr, -w, -l, 2 * w, 2 * l);
        cairo_restore(cr);
        cairo_set_fill_rule(cr, CAIRO_FILL_RULE_WINDING);
        break;
    }
    }
    plot_set_rgb(cr, c);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_set_line_width(cr, 0.9);
    cairo_stroke(cr);
}

/* A point installation symbol. Under construction: hollow and dashed. */
void plot_post(cairo_t *cr, int kind, int status, double x, double y, double r)
{
    cairo_new_path(cr);
    switch (kind) {
    case BT_INSTALL_WATCHTOWER: poly(cr, x, y + r * 0.2, r * 1.35, 3, -PLOT_PI / 2); break;
    case BT_INSTALL_GATE: cairo_rectangle(cr, x - r * 1.2, y - r * 0.45, r * 2.4, r * 0.9); break;
    case BT_INSTALL_CAMERA: cairo_arc(cr, x, y, r * 0.8, 0, 2 * PLOT_PI); break;
    default: /* guard post and other: a square with a dot */
        cairo_rectangle(cr, x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7);
    }
    int hollow = status == BT_STATUS_UNDER_CONSTRUCTION || status == BT_STATUS_PLANNED;
    double dash[4];
    int nd = plot_status_dash(status, dash);
    cairo_set_source_rgb(cr, hollow ? 1 : 0.15, hollow ? 1 : 0.15, hollow ? 1 : 0.15);
    cairo_fill_preserve(cr);
    if (status == BT_STATUS_DAMAGED) cairo_set_source_rgb(cr, 0.8, 0.1, 0.1);
    else cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_set_line_width(cr, 1.2);
    if (nd) {
        double d2[2] = {2, 1.5};
        cairo_set_dash(cr, d2, 2, 0);
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    if (kind == BT_INSTALL_GUARD_POST && !hollow) {
        cairo_arc(cr, x, y, r * 0.3, 0, 2 * PLOT_PI);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_fill(cr);
    }
}


void plot_fence_sample(cairo_t *cr, int material, int status, int barbed, double x,
                              double y, double w)
{
    double dash[4];
    int nd = plot_status_dash(status, dash);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
    cairo_set_line_width(cr, 4.2);
    cairo_move_to(cr, x, y);
    cairo_line_to(cr, x + w, y);
    cairo_stroke(cr);
    plot_set_rgb(cr, plot_material_rgb(material));
    cairo_set_line_width(cr, 2.4);
    cairo_set_dash(cr, dash, nd, 0);
    cairo_move_to(cr, x, y);
    cairo_line_to(cr, x + w, y);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    if (barbed) {
        for (double d = 5.5; d < w; d += 11) {
            cairo_move_to(cr, x + d - 2.5, y - 2.5);
            cairo_line_to(cr, x + d + 2.5, y + 2.5);
            cairo_move_to(cr, x + d - 2.5, y + 2.5);
            cairo_line_to(cr, x + d + 2.5, y - 2.5);
        }
        cairo_set_line_width(cr, 1.1);
        cairo_stroke(cr);
    }
}

const char *plot_country_name(const char *cc)
{
    if (strcmp(cc, "KP") == 0) return "NORTH KOREA";
    if (strcmp(cc, "CN") == 0) return "CHINA";
    if (strcmp(cc, "RU") == 0) return "RUSSIA";
    if (strcmp(cc, "KR") == 0) return "SOUTH KOREA";
    return cc;
}

