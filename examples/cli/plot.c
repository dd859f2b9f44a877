/**
 * @file plot.c
 * @brief The `plot` command: a map of incidents, installations, borders and places,
 * rendered with cairo to PNG, SVG or PDF from one drawing path.
 *
 * Projection: transverse Mercator centred on the map (tmerc.c), so the map is
 * conformal and the scale bar holds everywhere on it to better than 1e-5 within
 * 50 km of the centre. Layout: title band on top, the map frame, the legend panel on
 * the right, the attribution at the bottom, and with --profile the incident profile
 * along the border under the map (plot_profile.c). This file gathers the data, lays
 * out the page and writes the file; the layers are in plot_layers.c, the legend in
 * plot_legend.c, the styles in plot_style.c.
 */
#include "plot.h"

#include <cairo-pdf.h>
#include <fontconfig/fontconfig.h>
#include <cairo-svg.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- data gathering --------------------------------------------------------- */

void plot_px(const plot *p, bt_lonlat ll, double *x, double *y)
{
    double mx, my;
    btcli_tmerc_fwd(&p->tm, ll.lon, ll.lat, &mx, &my);
    *x = p->cx + mx / p->s;
    *y = p->cy - my / p->s;
}

static int in_ext(const plot *p, bt_lonlat ll)
{
    return ll.lon >= p->ext.west && ll.lon <= p->ext.east && ll.lat >= p->ext.south &&
           ll.lat <= p->ext.north;
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) return 0;
    size_t ncap = *cap ? 2 * *cap : 64;
    void *na = realloc(*arr, ncap * size);
    if (!na) return -1;
    *arr = na;
    *cap = ncap;
    return 0;
}

/* Incidents: first pass for the extent (when the map is fitted to the data). */
static int collect_inc(const bt_incident *inc, double d, void *udata)
{
    (void)d;
    plot *p = udata;
    if (grow((void **)&p->inc, &p->capinc, p->ninc, sizeof *p->inc)) {
        p->nomem = 1;
        return 1;
    }
    plot_inc *pi = &p->inc[p->ninc++];
    pi->id = inc->id;
    pi->type = (int)inc->type;
    pi->where = inc->where;
    pi->unc_m = inc->uncertainty_m;
    return 0;
}

static bt_lonlat *copy_pts(const bt_lonlat *pts, size_t n)
{
    bt_lonlat *c = malloc(n * sizeof *c);
    if (c) memcpy(c, pts, n * sizeof *c);
    return c;
}

/* Installations that met the frame during the window (bt_installation_query). */
static int collect_inst(const bt_installation *inst, double d, void *udata)
{
    (void)d;
    plot *p = udata;
    if (inst->status == BT_STATUS_REMOVED) return 0;
    if (grow((void **)&p->inst, &p->capinst, p->ninst, sizeof *p->inst)) {
        p->nomem = 1;
        return 1;
    }
    plot_line *l = &p->inst[p->ninst];
    l->pts = copy_pts(inst->points, inst->npoints);
    if (!l->pts) {
        p->nomem = 1;
        return 1;
    }
    l->n = inst->npoints;
    l->kind = (int)inst->kind;
    l->material = (int)inst->material;
    l->status = (int)inst->status;
    l->barbed = inst->barbed == BT_YES;
    l->border = -1;
    p->ninst++;
    return 0;
}

/* Border segments that meet the frame (bt_segment_query). */
static int collect_seg(const bt_segment *seg, double d, void *udata)
{
    (void)d;
    plot *p = udata;
    int bi = -1;
    for (size_t i = 0; i < p->nborders; i++)
        if (strcmp(p->borders[i], seg->border) == 0) bi = (int)i;
    if (bi < 0 && p->nborders < 8) {
        snprintf(p->borders[p->nborders], sizeof p->borders[0], "%s", seg->border);
        bi = (int)p->nborders++;
    }
    if (grow((void **)&p->seg, &p->capseg, p->nseg, sizeof *p->seg)) {
        p->nomem = 1;
        return 1;
    }
    plot_line *l = &p->seg[p->nseg];
    l->pts = copy_pts(seg->points, seg->npoints);
    if (!l->pts) {
        p->nomem = 1;
        return 1;
    }
    l->n = seg->npoints;
    l->border = bi;
    p->nseg++;
    return 0;
}

static int collect_place(const bt_place *pl, void *udata)
{
    plot *p = udata;
    if (!in_ext(p, pl->where)) return 0;
    if (grow((void **)&p->places, &p->capplaces, p->nplaces, sizeof *p->places)) {
        p->nomem = 1;
        return 1;
    }
    bt_place *c = malloc(sizeof *c + strlen(pl->name) + strlen(pl->country) + 2);
    if (!c) {
        p->nomem = 1;
        return 1;
    }
    char *txt = (char *)(c + 1);
    strcpy(txt, pl->name);
    strcpy(txt + strlen(pl->name) + 1, pl->country);
    *c = *pl;
    c->name = txt;
    c->country = txt + strlen(pl->name) + 1;
    c->admin1 = NULL;
    p->places[p->nplaces++] = c;
    return 0;
}

static void free_plot(plot *p)
{
    free(p->inc);
    for (size_t i = 0; i < p->ninst; i++) free(p->inst[i].pts);
    free(p->inst);
    for (size_t i = 0; i < p->nseg; i++) free(p->seg[i].pts);
    free(p->seg);
    for (size_t i = 0; i < p->nplaces; i++) free(p->places[i]);
    free(p->places);
    free(p->discs);
    bt_border_free(p->border);
}

/* ---- layout ----------------------------------------------------------------- */

static void layout(plot *p)
{
    double W = p->W, H = p->H;
    p->base = fmin(fmax(fmin(W, H) / 70.0, 10.0), 18.0);
    double title_h = p->base * 3.6, foot_h = p->base * 2.0, pad = p->base;
    p->lw = fmin(fmax(W * 0.21, 200.0), 360.0);
    p->fx = pad * 4.2; /* room for latitude tick labels */
    p->fy = title_h;
    p->fw = W - p->fx - p->lw - pad * 1.5;
    double avail = H - title_h - foot_h - pad * 2.4; /* longitude labels below */
    if (p->with_profile) {
        p->ph = avail * 0.26;
        p->fh = avail - p->ph - pad * 3.2;
        p->px = p->fx;
        p->pw = p->fw;
        p->py = p->fy + p->fh + pad * 3.4;
    } else {
        p->fh = avail;
    }
    p->lx = p->fx + p->fw + pad * 0.8;
    p->ly = p->fy;
    p->lh = H - title_h - foot_h;
}

/* Fits the frame: centre and metres per pixel so that a box of half-sizes hx, hy
 * metres around the projection centre fills it. */
static void fit(plot *p, double lon0, double lat0, double hx, double hy)
{
    btcli_tmerc_init(&p->tm, lon0, lat0);
    p->s = fmax(2 * hx / p->fw, 2 * hy / p->fh);
    if (!(p->s > 0)) p->s = 10;
    p->cx = p->fx + p->fw / 2;
    p->cy = p->fy + p->fh / 2;
    /* the lon/lat extent of the frame: sample its edge */
    bt_bbox e = {180, 90, -180, -90};
    for (int i = 0; i <= 40; i++) {
        double t = i / 40.0;
        double xs[4] = {p->fx + t * p->fw, p->fx + t * p->fw, p->fx, p->fx + p->fw};
        double ys[4] = {p->fy, p->fy + p->fh, p->fy + t * p->fh, p->fy + t * p->fh};
        for (int k = 0; k < 4; k++) {
            double lon, lat;
            btcli_tmerc_inv(&p->tm, (xs[k] - p->cx) * p->s, (p->cy - ys[k]) * p->s, &lon, &lat);
            if (lon < e.west) e.west = lon;
            if (lon > e.east) e.east = lon;
            if (lat < e.south) e.south = lat;
            if (lat > e.north) e.north = lat;
        }
    }
    double mlon = (e.east - e.west) * 0.02, mlat = (e.north - e.south) * 0.02;
    e.west -= mlon;
    e.east += mlon;
    e.south -= mlat;
    e.north += mlat;
    p->ext = e;
}

/* ---- the neighbour's side ---------------------------------------------------- */

/* Which country lies on each side of the primary border, by a vote of the places in
 * the frame (their country codes from the gazetteer). */
static void vote_sides(plot *p, bt_store *s)
{
    int votes[3][8] = {{0}};
    char codes[8][3];
    int ncodes = 0;
    for (size_t i = 0; i < p->nplaces; i++) {
        bt_location loc;
        if (bt_border_locate(s, p->border, p->places[i]->where, &loc) != BT_OK) continue;
        if (loc.side == BT_SIDE_ON) continue;
        int k;
        for (k = 0; k < ncodes; k++)
            if (strcmp(codes[k], p->places[i]->country) == 0) break;
        if (k == ncodes) {
            if (ncodes == 8) continue;
            snprintf(codes[ncodes++], 3, "%s", p->places[i]->country);
        }
        votes[loc.side][k]++;
    }
    for (int side = 1; side <= 2; side++) {
        int best = -1, bv = 0;
        for (int k = 0; k < ncodes; k++)
            if (votes[side][k] > bv) {
                bv = votes[side][k];
                best = k;
            }
        p->side_country[side][0] = '\0';
        if (best >= 0) snprintf(p->side_country[side], 3, "%s", codes[best]);
    }
    /* one side unknown: if the other is KP, the border's name gives the neighbour */
    for (int side = 1; side <= 2; side++) {
        int other = 3 - side;
        if (!p->side_country[side][0] && strcmp(p->side_country[other], "KP") == 0) {
            const char *b = p->borders[p->primary];
            static const struct { const char *suffix, *cc; } nb[] = {
                {"-CHN", "CN"}, {"-RUS", "RU"}, {"-KOR", "KR"}};
            for (size_t k = 0; k < 3; k++)
                if (strstr(b, nb[k].suffix)) snprintf(p->side_country[side], 3, "%s", nb[k].cc);
        }
    }
}

/* ---- the command ---------------------------------------------------------------- */

static const char plot_help[] =
    "Usage: bordertrack plot DB [FILTERS] -o FILE.png|FILE.svg|FILE.pdf [--size WxH]\n"
    "                        [--profile] [--title TEXT]\n"
    "Draws a map of the incidents that match FILTERS (see 'bordertrack query --help')\n"
    "with the border, fences and guard posts standing during the time window, places,\n"
    "a scale bar, north arrow, graticule, legend and attribution.\n"
    "  -o FILE      output; the format follows the extension (.png, .svg, .pdf)\n"
    "  --size WxH   size in pixels (SVG/PDF: points), default 1600x1200\n"
    "  --profile    add the incident profile along the border under the map: counts\n"
    "               per km of chainage, with the fence coverage as a band\n"
    "  --title TEXT replace the generated title\n"
    "The map is centred on --near (filling --radius), fitted to --bbox, or else to the\n"
    "incidents shown. A line on stderr gives the frame, e.g.\n"
    "  frame: centre 128.17778,41.40167 at 620.0,583.2 px, 41.67 m/px, tmerc\n";

typedef enum out_kind { OUT_PNG, OUT_SVG, OUT_PDF } out_kind;

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (n < m) return 0;
    for (size_t i = 0; i < m; i++) {
        char c = s[n - m + i];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (c != suffix[i]) return 0;
    }
    return 1;
}

/* Inserts <title> and <desc> after the opening <svg ...> tag of a cairo SVG file. */
static int svg_annotate(const char *path, const char *title, const char *desc)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(fp);
    if (!buf) return -1;
    char *svg = NULL;
    for (size_t i = 0; i + 4 < n; i++)
        if (memcmp(buf + i, "<svg", 4) == 0) {
            svg = buf + i;
            break;
        }
    char *gt = svg ? memchr(svg, '>', n - (size_t)(svg - buf)) : NULL;
    if (!gt) {
        free(buf);
        return -1;
    }
    fp = fopen(path, "wb");
    if (!fp) {
        free(buf);
        return -1;
    }
    size_t head = (size_t)(gt - buf) + 1;
    fwrite(buf, 1, head, fp);
    const char *parts[2] = {title, desc};
    const char *tags[2] = {"title", "desc"};
    for (int k = 0; k < 2; k++) {
        fprintf(fp, "\n<%s>", tags[k]);
        for (const char *c = parts[k]; *c; c++) {
            if (*c == '<') fputs("&lt;", fp);
            else if (*c == '>') fputs("&gt;", fp);
            else if (*c == '&') fputs("&amp;", fp);
            else fputc(*c, fp);
        }
        fprintf(fp, "</%s>", tags[k]);
    }
    fwrite(buf + head, 1, n - head, fp);
    free(buf);
    return fclose(fp) == 0 ? 0 : -1;
}

static int draw_all(plot *p, bt_store *s, cairo_t *cr, char *title, size_t tn,
                    plot_legend_text *lt)
{
    btcli_progress bar;
    btcli_progress_start(&bar, "plot", (double)p->ninc + 1);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    plot_draw_sides(p, s, cr);
    plot_draw_graticule(p, cr);
    cairo_save(cr);
    cairo_rectangle(cr, p->fx, p->fy, p->fw, p->fh);
    cairo_clip(cr);
    plot_draw_installations(p, cr);
    plot_draw_borders(p, cr);
    plot_draw_query_area(p, cr);
    plot_draw_incidents(p, cr, &bar);
    plot_draw_places(p, cr);
    cairo_restore(cr);
    cairo_rectangle(cr, p->fx, p->fy, p->fw, p->fh);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    plot_draw_scalebar(p, cr);
    plot_draw_north(p, cr);
    plot_draw_title(p, cr, title, tn);
    plot_draw_legend(p, cr, lt);
    plot_draw_attribution(p, cr);
    int rc = 0;
    if (p->with_profile) rc = plot_profile_draw(p, s, cr);
    btcli_progress_finish(&bar);
    return rc;
}

int btcli_cmd_plot(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (btcli_is_help(argv[i])) {
            fputs(plot_help, stdout);
            return BTCLI_OK;
        }
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest) return BTCLI_FAIL;
    int nrest = 0, st = BTCLI_OK;
    char err[256];
    plot P;
    memset(&P, 0, sizeof P);
    plot *p = &P;
    p->W = 1600;
    p->H = 1200;
    const char *db = NULL, *out = NULL;
    if (btcli_parse_filters(argc, argv, &p->f, rest, &nrest, err, sizeof err)) {
        btcli_usage_error("plot", "%s", err);
        free(rest);
        return BTCLI_USAGE;
    }
    for (int i = 0; i < nrest && !st; i++) {
        const char *v = NULL, *opt = rest[i];
        int r;
        if ((r = btcli_opt_value(nrest, rest, &i, "-o", &v)) > 0) out = v;
        else if (r == 0 && (r = btcli_opt_value(nrest, rest, &i, "--output", &v)) > 0) out = v;
        else if (r == 0 && (r = btcli_opt_value(nrest, rest, &i, "--title", &v)) > 0)
            p->title = v;
        else if (r == 0 && (r = btcli_opt_value(nrest, rest, &i, "--size", &v)) > 0) {
            if (btcli_parse_size(v, &p->W, &p->H) || p->W < 400 || p->H < 300) {
                btcli_usage_error("plot", "--size '%s': expected WxH, at least 400x300", v);
                st = BTCLI_USAGE;
            }
        } else if (r == 0 && strcmp(opt, "--profile") == 0) p->with_profile = 1;
        else if (r == 0 && opt[0] == '-' && opt[1]) {
            btcli_usage_error("plot", "unknown option '%s'", opt);
            st = BTCLI_USAGE;
        } else if (r == 0 && !db) db = opt;
        else if (r == 0) {
            btcli_usage_error("plot", "unexpected argument '%s'", opt);
            st = BTCLI_USAGE;
        }
        if (r < 0) {
            btcli_usage_error("plot", "%s needs a value", opt);
            st = BTCLI_USAGE;
        }
    }
    free(rest);
    if (st) return st;
    if (!db || !out) {
        btcli_usage_error("plot", "expected DB and -o FILE");
        return BTCLI_USAGE;
    }
    out_kind kind;
    if (ends_with(out, ".png")) kind = OUT_PNG;
    else if (ends_with(out, ".svg")) kind = OUT_SVG;
    else if (ends_with(out, ".pdf")) kind = OUT_PDF;
    else {
        btcli_usage_error("plot", "-o '%s': the name must end in .png, .svg or .pdf", out);
        return BTCLI_USAGE;
    }
    if (p->f.near && p->f.radius_m < 0) {
        btcli_usage_error("plot", "--near needs --radius (the map shows that circle)");
        return BTCLI_USAGE;
    }
    bt_store *s = btcli_open(db, BT_OPEN_READONLY);
    if (!s) return BTCLI_FAIL;
    layout(p);
    st = btcli_select("plot", s, &p->f, &p->sel, collect_inc, p);
    if (!st && p->nomem) {
        fprintf(stderr, "bordertrack plot: out of memory\n");
        st = BTCLI_FAIL;
    }
    /* the frame */
    if (!st) {
        if (p->sel.has_centre) {
            double r = fmax(p->f.radius_m, 500) * 1.06;
            fit(p, p->sel.centre.lon, p->sel.centre.lat, r, r);
        } else {
            bt_bbox b;
            if (p->f.has_bbox) {
                b = p->f.bbox;
            } else if (p->ninc) {
                b = (bt_bbox){180, 90, -180, -90};
                for (size_t i = 0; i < p->ninc; i++) {
                    b.west = fmin(b.west, p->inc[i].where.lon);
                    b.east = fmax(b.east, p->inc[i].where.lon);
                    b.south = fmin(b.south, p->inc[i].where.lat);
                    b.north = fmax(b.north, p->inc[i].where.lat);
                }
            } else {
                fprintf(stderr, "bordertrack plot: no incident matches; give --near with "
                                "--radius or --bbox to draw an area anyway\n");
                st = BTCLI_FAIL;
            }
            if (!st) {
                double lon0 = (b.west + b.east) / 2, lat0 = (b.south + b.north) / 2;
                btcli_tmerc_init(&p->tm, lon0, lat0);
                double hx = 0, hy = 0;
                bt_lonlat c[4] = {{b.west, b.south}, {b.east, b.south}, {b.west, b.north},
                                  {b.east, b.north}};
                for (int k = 0; k < 4; k++) {
                    double x, y;
                    btcli_tmerc_fwd(&p->tm, c[k].lon, c[k].lat, &x, &y);
                    hx = fmax(hx, fabs(x));
                    hy = fmax(hy, fabs(y));
                }
                fit(p, lon0, lat0, fmax(hx * 1.08, 1000), fmax(hy * 1.08, 1000));
            }
        }
    }
    int rc = BT_OK;
    bt_query area;
    bt_query_init(&area);
    area.area = BT_AREA_BBOX;
    area.box = p->ext;
    area.from = p->f.from;
    area.to = p->f.to;
    if (!st) rc = bt_installation_query(s, &area, collect_inst, p);
    if (!st && !rc) rc = bt_segment_query(s, &area, collect_seg, p);
    if (!st && !rc) rc = bt_place_foreach(s, collect_place, p);
    if (rc) {
        btcli_lib_error("plot", s, rc, "reading the store");
        st = BTCLI_FAIL;
    }
    if (!st && p->nomem) {
        fprintf(stderr, "bordertrack plot: out of memory\n");
        st = BTCLI_FAIL;
    }
    /* the border nearest to the centre, for the sides and the profile */
    if (!st && p->nborders) {
        bt_lonlat c;
        btcli_tmerc_inv(&p->tm, 0, 0, &c.lon, &c.lat);
        double best = (double)INFINITY;
        for (size_t k = 0; k < p->nborders; k++) {
            bt_border *b = NULL;
            bt_location loc;
            if (bt_border_open(s, p->borders[k], NULL, &b) != BT_OK ||
                bt_border_locate(s, b, c, &loc) != BT_OK) {
                bt_border_free(b);
                continue;
            }
            if (loc.chain_offset_m < best) {
                best = loc.chain_offset_m;
                bt_border_free(p->border);
                p->border = b;
                p->primary = (int)k;
            } else {
                bt_border_free(b);
            }
        }
        if (p->border) vote_sides(p, s);
    }
    if (!st && p->with_profile && !p->border) {
        fprintf(stderr, "bordertrack plot: --profile: no border line in the map\n");
        st = BTCLI_FAIL;
    }
    char title[512] = "";
    plot_legend_text lt;
    memset(&lt, 0, sizeof lt);
    if (!st) {
        cairo_surface_t *surf;
        if (kind == OUT_PNG)
            surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, p->W, p->H);
        else if (kind == OUT_SVG)
            surf = cairo_svg_surface_create(out, p->W, p->H);
        else
            surf = cairo_pdf_surface_create(out, p->W, p->H);
        cairo_t *cr = cairo_create(surf);
        int drc = draw_all(p, s, cr, title, sizeof title, &lt);
        if (kind == OUT_PDF) {
            cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_TITLE, title);
            cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_SUBJECT, lt.buf);
        }
        cairo_status_t cs = cairo_status(cr);
        cairo_destroy(cr);
        if (kind == OUT_PNG && cs == CAIRO_STATUS_SUCCESS)
            cs = cairo_surface_write_to_png(surf, out);
        cairo_surface_finish(surf);
        if (cs == CAIRO_STATUS_SUCCESS) cs = cairo_surface_status(surf);
        cairo_surface_destroy(surf);
        if (cs != CAIRO_STATUS_SUCCESS) {
            fprintf(stderr, "bordertrack plot: %s: %s\n", out, cairo_status_to_string(cs));
            st = BTCLI_FAIL;
        } else if (drc || p->nomem) {
            st = BTCLI_FAIL;
        } else if (kind == OUT_SVG && svg_annotate(out, title, lt.buf)) {
            fprintf(stderr, "bordertrack plot: %s: cannot add the title\n", out);
            st = BTCLI_FAIL;
        }
    }
    if (!st) {
        fprintf(stderr, "frame: centre %.5f,%.5f at %.1f,%.1f px, %.4f m/px, tmerc\n",
                p->tm.lon0, p->tm.lat0, p->cx, p->cy, p->s);
        fprintf(stderr, "wrote %s (%dx%d, %zu incidents)\n", out, p->W, p->H, p->ninc);
    }
    free_plot(p);
    bt_store_close(s);
    /* cairo keeps its font caches for the process; free them so that a memory
     * checker sees a clean exit */
    cairo_debug_reset_static_data();
    FcFini(); /* fontconfig's caches, which cairo's reset leaves behind */
    return st;
}
