/**
 * @file plot.h
 * @brief Internal interface of the map renderer: the command and layout (plot.c), styles
 * (plot_style.c), layers (plot_layers.c), legend (plot_legend.c) and the incident
 * profile panel (plot_profile.c).
 */
#ifndef BTCLI_PLOT_H
#define BTCLI_PLOT_H

#include "cli.h"

#include <cairo.h>

/** An incident as drawn. */
typedef struct plot_inc {
    int64_t id;
    int type;
    bt_lonlat where;
    double unc_m;
    double x, y; /* pixels */
} plot_inc;

/** A polyline or point as drawn (installations, border segments). */
typedef struct plot_line {
    bt_lonlat *pts;
    size_t n;
    int kind, material, status, barbed; /* installations */
    int border;                         /* index in plot::borders (segments) */
} plot_line;

/** The map: everything drawn, in one place. */
typedef struct plot {
    /* request */
    int W, H;
    btcli_filters f;
    int with_profile;
    const char *title;
    /* projection and frame: pixel = (cx + x / s, cy - y / s) */
    btcli_tmerc tm;
    double s;                 /* metres per pixel */
    double cx, cy;            /* pixel of the projection centre */
    double fx, fy, fw, fh;    /* map frame */
    double lx, ly, lw, lh;    /* legend panel */
    double px, py, pw, ph;    /* profile panel (with_profile) */
    double base;              /* base font size, px */
    bt_bbox ext;              /* lon/lat extent of the frame (slightly padded) */
    btcli_selection sel;
    /* data */
    plot_inc *inc;
    size_t ninc, capinc;
    plot_line *inst;
    size_t ninst, capinst;
    plot_line *seg;
    size_t nseg, capseg;
    bt_place **places;
    size_t nplaces, capplaces;
    char borders[8][64];
    size_t nborders;
    bt_border *border; /* the border nearest the centre, or NULL */
    int primary;       /* its index in borders */
    char side_country[3][3]; /* country code of each bt_side (ON, LEFT, RIGHT), "" unknown */
    double chain_from, chain_to; /* chainage range of the primary border in the frame */
    double *discs; /* x, y, r of every symbol and cluster drawn, for label placement */
    size_t ndiscs, capdiscs;
    int nomem;
} plot;

#define PLOT_PI 3.14159265358979323846

/** A colour. */
typedef struct plot_rgb {
    double r, g, b;
} plot_rgb;

/** The legend entries as text, for the SVG <desc> and the PDF subject. */
typedef struct plot_legend_text {
    char buf[4096];
    size_t used;
} plot_legend_text;

/* ---- styles (plot_style.c) ---- */

/** The border line colour (the tests look for it: #C70078). */
extern const plot_rgb plot_border_rgb;
/** The shade of the neighbouring country's side. */
extern const plot_rgb plot_neighbour_rgb;
/** Colour of an incident type. */
plot_rgb plot_type_rgb(int type);
/** Colour of a fence material. */
plot_rgb plot_material_rgb(int material);
void plot_set_rgb(cairo_t *cr, plot_rgb c);
/** Dash pattern of an installation status into dash[]; returns its length (0 solid). */
int plot_status_dash(int status, double dash[4]);
/** An incident symbol (colour and shape by type) of radius r. */
void plot_symbol(cairo_t *cr, int type, double x, double y, double r);
/** A point installation symbol by kind and status. */
void plot_post(cairo_t *cr, int kind, int status, double x, double y, double r);
/** A fence sample for the legend, w px long. */
void plot_fence_sample(cairo_t *cr, int material, int status, int barbed, double x,
                       double y, double w);
/** "CHINA" for "CN", etc. */
const char *plot_country_name(const char *cc);

/* ---- layers (plot_layers.c), in drawing order ---- */
void plot_draw_sides(plot *p, bt_store *s, cairo_t *cr);
void plot_draw_graticule(plot *p, cairo_t *cr);
void plot_draw_installations(plot *p, cairo_t *cr);
void plot_draw_borders(plot *p, cairo_t *cr);
void plot_draw_query_area(plot *p, cairo_t *cr);
void plot_draw_incidents(plot *p, cairo_t *cr, btcli_progress *bar);
void plot_draw_places(plot *p, cairo_t *cr);
void plot_draw_scalebar(plot *p, cairo_t *cr);
void plot_draw_north(plot *p, cairo_t *cr);

/* ---- legend, title, attribution (plot_legend.c) ---- */
void plot_draw_legend(plot *p, cairo_t *cr, plot_legend_text *lt);
/** Draws the title (generated unless --title) and writes it to title[n]. */
void plot_draw_title(plot *p, cairo_t *cr, char *title, size_t n);
void plot_draw_attribution(plot *p, cairo_t *cr);

/** Projects to pixels. */
void plot_px(const plot *p, bt_lonlat ll, double *x, double *y);

/** Draws the profile panel into p's profile rectangle. @return 0, or 1 after printing. */
int plot_profile_draw(plot *p, bt_store *s, cairo_t *cr);

/** Sets the font: bold or not, size in px. */
void plot_font(cairo_t *cr, int bold, double size);
/** Draws text with a white halo, anchored by (ax, ay) in 0..1 of its extents. */
void plot_text(cairo_t *cr, double x, double y, const char *text, double ax, double ay,
               int halo);

#endif /* BTCLI_PLOT_H */
