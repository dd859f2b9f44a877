/**
 * @file cmd_border.c
 * @brief The border analysis commands: locate, coverage and profile.
 */
#include "cli.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Appends the border between two chainages as GeoJSON LineString text (about one
 * vertex per 100 m, at most 2000) to a malloc'd buffer. NULL on failure. */
static char *chain_geometry(bt_store *s, const bt_border *b, double from_m, double to_m)
{
    double len = to_m - from_m;
    int n = (int)ceil(len / 100.0);
    if (n < 1) n = 1;
    if (n > 2000) n = 2000;
    size_t cap = 64 + (size_t)(n + 1) * 28;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    size_t used = (size_t)snprintf(buf, cap, "{\"type\":\"LineString\",\"coordinates\":[");
    for (int i = 0; i <= n; i++) {
        bt_lonlat p;
        if (bt_border_point_at(s, b, from_m + len * i / n, &p) != BT_OK) {
            free(buf);
            return NULL;
        }
        used += (size_t)snprintf(buf + used, cap - used, "%s[%.7f,%.7f]", i ? "," : "",
                                 p.lon, p.lat);
    }
    snprintf(buf + used, cap - used, "]}");
    return buf;
}

static int open_border(const char *cmd, bt_store *s, const char *name, bt_border **b)
{
    int rc = bt_border_open(s, name, NULL, b);
    if (rc) {
        btcli_lib_error(cmd, s, rc, name);
        return BTCLI_FAIL;
    }
    return BTCLI_OK;
}

static const char *side_name(bt_side side)
{
    return side == BT_SIDE_LEFT ? "left" : side == BT_SIDE_RIGHT ? "right" : "on";
}

/* ---- locate ----------------------------------------------------------------- */

static const char locate_help[] =
    "Usage: bordertrack locate DB --border NAME (--at LON,LAT | --incidents [FILTERS])\n"
    "                          [--format table|csv|geojson]\n"
    "Where points lie along a border: chainage (geodesic metres from the border's\n"
    "origin, for PRK-CHN the Yalu mouth), geodesic offset from the line, and side\n"
    "(left/right looking along increasing chainage; for PRK-CHN China is left).\n"
    "Columns: ref,border,chainage_m,offset_m,side,lon,lat\n"
    "(ref is empty for --at). FILTERS as for query.\n";

static const char *const locate_cols[] = {"ref", "border", "chainage_m", "offset_m",
                                          "side", "lon", "lat"};
static const btcli_col locate_kinds[] = {BTCLI_STR, BTCLI_STR, BTCLI_NUM, BTCLI_NUM,
                                         BTCLI_STR, BTCLI_NUM, BTCLI_NUM};

typedef struct locate_ctx {
    bt_store *s;
    const bt_border *b;
    const char *border;
    btcli_out *o;
    int rc;
    long n;
} locate_ctx;

static int locate_one(locate_ctx *x, const char *ref, bt_lonlat p)
{
    bt_location loc;
    int rc = bt_border_locate(x->s, x->b, p, &loc);
    if (rc) {
        x->rc = rc;
        return 1;
    }
    char ch[32], off[32], lon[32], lat[32], geom[128];
    btcli_fmt_num(ch, sizeof ch, loc.chainage_m, 1);
    btcli_fmt_num(off, sizeof off, loc.offset_m, 1);
    snprintf(lon, sizeof lon, "%.7f", p.lon);
    snprintf(lat, sizeof lat, "%.7f", p.lat);
    snprintf(geom, sizeof geom, "{\"type\":\"Point\",\"coordinates\":[%.7f,%.7f]}", p.lon,
             p.lat);
    const char *row[] = {ref, x->border, ch, off, side_name(loc.side), lon, lat};
    btcli_out_row(x->o, row, geom);
    x->n++;
    return 0;
}

static int locate_cb(const bt_incident *inc, double d, void *udata)
{
    (void)d;
    return locate_one(udata, inc->ref, inc->where);
}

int btcli_cmd_locate(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (btcli_is_help(argv[i])) {
            fputs(locate_help, stdout);
            return BTCLI_OK;
        }
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest) return BTCLI_FAIL;
    int nrest = 0, incidents = 0, st = BTCLI_OK;
    char err[256];
    btcli_filters f;
    const char *db = NULL, *border = NULL, *at = NULL;
    btcli_format fmt = BTCLI_TABLE;
    if (btcli_parse_filters(argc, argv, &f, rest, &nrest, err, sizeof err)) {
        btcli_usage_error("locate", "%s", err);
        free(rest);
        return BTCLI_USAGE;
    }
    int nfilters = argc - nrest;
    for (int i = 0; i < nrest && !st; i++) {
        const char *v, *opt = rest[i];
        int r;
        if ((r = btcli_opt_value(nrest, rest, &i, "--border", &v)) > 0) border = v;
        else if (r == 0 && (r = btcli_opt_value(nrest, rest, &i, "--at", &v)) > 0) at = v;
        else if (r == 0 && (r = btcli_opt_value(nrest, rest, &i, "--format", &v)) > 0) {
            if (btcli_parse_format(v, &fmt)) {
                btcli_usage_error("locate", "--format: expected table, csv or geojson");
                st = BTCLI_USAGE;
            }
        } else if (r == 0 && strcmp(opt, "--incidents") == 0) incidents = 1;
        else if (r == 0 && opt[0] == '-' && opt[1]) {
            btcli_usage_error("locate", "unknown option '%s'", opt);
            st = BTCLI_USAGE;
        } else if (r == 0 && !db) db = opt;
        else if (r == 0) {
            btcli_usage_error("locate", "unexpected argument '%s'", opt);
            st = BTCLI_USAGE;
        }
        if (r < 0) {
            btcli_usage_error("locate", "%s needs a value", opt);
            st = BTCLI_USAGE;
        }
    }
    free(rest);
    if (st) return st;
    bt_lonlat p = {0, 0};
    if (!db || !border) {
        btcli_usage_error("locate", "expected DB and --border NAME");
        return BTCLI_USAGE;
    }
    if ((at != NULL) == (incidents != 0)) {
        btcli_usage_error("locate", "give either --at LON,LAT or --incidents");
        return BTCLI_USAGE;
    }
    if (at && nfilters > 0) {
        btcli_usage_error("locate", "FILTERS apply to --incidents only");
        return BTCLI_USAGE;
    }
    if (at && btcli_parse_lonlat(at, &p)) {
        btcli_usage_error("locate", "--at '%s': expected LON,LAT in degrees", at);
        return BTCLI_USAGE;
    }
    bt_store *s = btcli_open(db, BT_OPEN_READONLY);
    if (!s) return BTCLI_FAIL;
    bt_border *b = NULL;
    st = open_border("locate", s, border, &b);
    if (!st) {
        btcli_out o;
        btcli_out_begin(&o, fmt, stdout, 7, locate_cols, locate_kinds);
        locate_ctx x = {s, b, border, &o, BT_OK, 0};
        if (at) {
            locate_one(&x, "", p);
        } else {
            btcli_selection sel;
            st = btcli_select("locate", s, &f, &sel, locate_cb, &x);
        }
        if (btcli_out_end(&o) && !st) st = BTCLI_FAIL;
        if (x.rc) {
            btcli_lib_error("locate", s, x.rc, "locating");
            st = BTCLI_FAIL;
        }
    }
    bt_border_free(b);
    bt_store_close(s);
    return st;
}

/* ---- coverage --------------------------------------------------------------- */

static const char coverage_help[] =
    "Usage: bordertrack coverage DB --border NAME [--as-of DATE] [--max-offset DIST]\n"
    "                            [--min-gap DIST] [--from-km KM] [--to-km KM]\n"
    "                            [--include-construction] [--format table|csv|geojson]\n"
    "Fence coverage of a border: the stretches no standing fence covers (gaps).\n"
    "  --as-of DATE            what stood then (default: every standing record)\n"
    "  --max-offset DIST       a fence counts where it is within DIST of the border\n"
    "                          (default 500m)\n"
    "  --min-gap DIST          report gaps at least this long (default 0)\n"
    "  --from-km, --to-km      the chainage range examined (default: all)\n"
    "  --include-construction  count fences under construction as standing\n"
    "One row per gap. Columns: border,start_m,end_m,length_m,observed,place_from,\n"
    "place_to,incidents (observed: metres of the gap covered by recorded\n"
    "observations). The summary goes to stderr (to stdout before a table).\n";

static const char *const gap_cols[] = {"border", "start_m", "end_m", "length_m", "observed",
                                       "place_from", "place_to", "incidents"};
static const btcli_col gap_kinds[] = {BTCLI_STR, BTCLI_NUM, BTCLI_NUM, BTCLI_NUM,
                                      BTCLI_NUM, BTCLI_STR, BTCLI_STR, BTCLI_NUM};

int btcli_cmd_coverage(int argc, char **argv)
{
    const char *db = NULL, *border = NULL;
    btcli_format fmt = BTCLI_TABLE;
    bt_coverage_opts co;
    bt_coverage_opts_init(&co);
    for (int i = 0; i < argc; i++) {
        const char *v = NULL, *opt = argv[i];
        int r = 0, bad = 0;
        double km;
        if (btcli_is_help(opt)) {
            fputs(coverage_help, stdout);
            return BTCLI_OK;
        }
        if ((r = btcli_opt_value(argc, argv, &i, "--border", &v)) > 0) border = v;
        else if (r == 0 && (r = btcli_opt_value(argc, argv, &i, "--as-of", &v)) > 0) {
            int64_t last;
            bad = bt_time_parse(v, NULL, &last, NULL) != BT_OK;
            co.as_of = last;
        } else if (r == 0 && (r = btcli_opt_value(argc, argv, &i, "--max-offset", &v)) > 0)
            bad = btcli_parse_dist(v, &co.max_offset_m) != 0;
        else if (r == 0 && (r = btcli_opt_value(argc, argv, &i, "--min-gap", &v)) > 0)
            bad = btcli_parse_dist(v, &co.min_gap_m) != 0;
        else if (r == 0 && (r = btcli_opt_value(argc, argv, &i, "--from-km", &v)) > 0) {
            char *e;
            km = strtod(v, &e);
            bad = *e || !isfinite(km) || km < 0;
            co.from_m = km * 1000.0;
        } else if (r == 0 && (r = btcli_opt_value(argc, argv, &i, "--to-km", &v)) > 0) {
            char *e;
            km = strtod(v, &e);
            bad = *e || !isfinite(km) || km < 0;
            co.to_m = km * 1000.0;
        } else if (r == 0 && (r = btcli_opt_value(argc, argv, &i, "--format", &v)) > 0)
            bad = btcli_parse_format(v, &fmt) != 0;
        else if (r == 0 && strcmp(opt, "--include-construction") == 0)
            co.include_construction = 1;
        else if (r == 0 && opt[0] == '-' && opt[1]) {
            btcli_usage_error("coverage", "unknown option '%s'", opt);
            return BTCLI_USAGE;
        } else if (r == 0 && !db) db = opt;
        else if (r == 0) {
            btcli_usage_error("coverage", "unexpected argument '%s'", opt);
            return BTCLI_USAGE;
        }
        if (r < 0) {
            btcli_usage_error("coverage", "%s needs a value", opt);
            return BTCLI_USAGE;
        }
        if (bad) {
            btcli_usage_error("coverage", "%s: bad value '%s'", opt, v);
            return BTCLI_USAGE;
        }
    }
    if (!db || !border) {
        btcli_usage_error("coverage", "expected DB and --border NAME");
        return BTCLI_USAGE;
    }
    if (co.to_m <= co.from_m) {
        btcli_usage_error("coverage", "--to-km must be greater than --from-km");
        return BTCLI_USAGE;
    }
    bt_store *s = btcli_open(db, BT_OPEN_READONLY);
    if (!s) return BTCLI_FAIL;
    bt_border *b = NULL;
    bt_coverage *c = NULL;
    int st = open_border("coverage", s, border, &b);
    if (!st) {
        int rc = bt_border_coverage(s, b, &co, &c);
        if (rc) {
            btcli_lib_error("coverage", s, rc, border);
            st = BTCLI_FAIL;
        }
    }
    if (!st) {
        FILE *sum = fmt == BTCLI_TABLE ? stdout : stderr;
        fprintf(sum, "%s: %.3f km examined (%.3f..%.3f km), %.3f km covered (%.1f%%) by %zu"
                     " installations, %zu gaps totalling %.3f km (%.3f km never observed)\n",
                border, c->length_m / 1000, c->from_m / 1000, c->to_m / 1000,
                c->covered_m / 1000, 100 * c->share, c->ncounted, c->ngaps, c->gaps_m / 1000,
                c->unobserved_m / 1000);
        btcli_out o;
        btcli_out_begin(&o, fmt, stdout, 8, gap_cols, gap_kinds);
        for (size_t i = 0; i < c->ngaps && !st; i++) {
            const bt_gap *g = &c->gaps[i];
            char a[32], e[32], l[32], ob[32], n[32];
            btcli_fmt_num(a, sizeof a, g->from_m, 1);
            btcli_fmt_num(e, sizeof e, g->to_m, 1);
            btcli_fmt_num(l, sizeof l, g->length_m, 1);
            btcli_fmt_num(ob, sizeof ob, g->observed_m, 1);
            snprintf(n, sizeof n, "%zu", g->nincidents);
            const char *row[] = {border, a, e, l, ob, g->place_from, g->place_to, n};
            char *geom = fmt == BTCLI_GEOJSON ? chain_geometry(s, b, g->from_m, g->to_m) : NULL;
            if (fmt == BTCLI_GEOJSON && !geom) {
                fprintf(stderr, "bordertrack coverage: cannot trace gap %zu\n", i + 1);
                st = BTCLI_FAIL;
            }
            btcli_out_row(&o, row, geom);
            free(geom);
        }
        if (btcli_out_end(&o) && !st) st = BTCLI_FAIL;
    }
    bt_coverage_free(c);
    bt_border_free(b);
    bt_store_close(s);
    return st;
}

/* ---- profile ---------------------------------------------------------------- */

static const char profile_help[] =
    "Usage: bordertrack profile DB --border NAME [--bin DIST] [--max-offset DIST]\n"
    "                           [--from DATE] [--to DATE] [--type T[,T...]]\n"
    "                           [--hotspots N] [--format table|csv|geojson]\n"
    "Incident counts along a border per chainage bin (default 1km), counting the\n"
    "incidents within --max-offset (default 20km) of the line.\n"
    "Columns: border,from_m,to_m,count; with --hotspots N the N busiest bins:\n"
    "border,from_m,to_m,count,place,place_m.\n"
    "Only the time and type filters apply (the profile is along the whole border).\n";

int btcli_cmd_profile(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (btcli_is_help(argv[i])) {
            fputs(profile_help, stdout);
            return BTCLI_OK;
        }
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest) return BTCLI_FAIL;
    int nrest = 0, st = BTCLI_OK;
    long hotspots = -1;
    char err[256];
    btcli_filters f;
    const char *db = NULL, *border = NULL;
    btcli_format fmt = BTCLI_TABLE;
    bt_profile_opts po;
    bt_profile_opts_init(&po);
    if (btcli_parse_filters(argc, argv, &f, rest, &nrest, err, sizeof err)) {
        btcli_usage_error("profile", "%s", err);
        free(rest);
        return BTCLI_USAGE;
    }
    for (int i = 0; i < nrest && !st; i++) {
        const char *v = NULL, *opt = rest[i];
        int r = 0, bad = 0;
        if ((r = btcli_opt_value(nrest, rest, &i, "--border", &v)) > 0) border = v;
        else if (r == 0 && (r = btcli_opt_value(nrest, rest, &i, "--bin", &v)) > 0)
            bad = btcli_parse_dist(v, &po.bin_m) || po.bin_m < 1;
        else if (r == 0 && (r = btcli_opt_value(nrest, rest, &i, "--max-offset", &v)) > 0)
            bad = btcli_parse_dist(v, &po.max_offset_m) != 0;
        else if (r == 0 && (r = btcli_opt_value(nrest, rest, &i, "--hotspots", &v)) > 0)
            bad = btcli_parse_long(v, 1, 100000, &hotspots) != 0;
        else if (r == 0 && (r = btcli_opt_value(nrest, rest, &i, "--format", &v)) > 0)
            bad = btcli_parse_format(v, &fmt) != 0;
        else if (r == 0 && opt[0] == '-' && opt[1]) {
            btcli_usage_error("profile", "unknown option '%s'", opt);
            st = BTCLI_USAGE;
        } else if (r == 0 && !db) db = opt;
        else if (r == 0) {
            btcli_usage_error("profile", "unexpected argument '%s'", opt);
            st = BTCLI_USAGE;
        }
        if (r < 0) {
            btcli_usage_error("profile", "%s needs a value", opt);
            st = BTCLI_USAGE;
        } else if (bad) {
            btcli_usage_error("profile", "%s: bad value '%s'", opt, v);
            st = BTCLI_USAGE;
        }
    }
    free(rest);
    if (st) return st;
    if (!db || !border) {
        btcli_usage_error("profile", "expected DB and --border NAME");
        return BTCLI_USAGE;
    }
    if (f.near || f.has_bbox || f.within || f.min_reliability || f.min_credibility) {
        btcli_usage_error("profile", "only --from, --to and --type apply to a profile");
        return BTCLI_USAGE;
    }
    po.from = f.from;
    po.to = f.to;
    po.types = f.types;
    if (hotspots > 0) po.top_n = (size_t)hotspots;
    bt_store *s = btcli_open(db, BT_OPEN_READONLY);
    if (!s) return BTCLI_FAIL;
    bt_border *b = NULL;
    bt_profile *p = NULL;
    st = open_border("profile", s, border, &b);
    if (!st) {
        int rc = bt_border_profile(s, b, &po, &p);
        if (rc) {
            btcli_lib_error("profile", s, rc, border);
            st = BTCLI_FAIL;
        }
    }
    if (!st) {
        static const char *const cols[] = {"border", "from_m", "to_m", "count", "place",
                                           "place_m"};
        static const btcli_col kinds[] = {BTCLI_STR, BTCLI_NUM, BTCLI_NUM, BTCLI_NUM,
                                          BTCLI_STR, BTCLI_NUM};
        bt_border_info info;
        bt_border_info_get(b, &info);
        btcli_out o;
        btcli_out_begin(&o, fmt, stdout, hotspots > 0 ? 6 : 4, cols, kinds);
        size_t n = hotspots > 0 ? p->nhotspots : p->nbins;
        for (size_t i = 0; i < n && !st; i++) {
            char a[32], e[32], cnt[32], pm[32];
            double from = hotspots > 0 ? p->hotspots[i].from_m : (double)i * p->bin_m;
            double to = hotspots > 0 ? p->hotspots[i].to_m : (double)(i + 1) * p->bin_m;
            if (to > info.length_m) to = info.length_m;
            size_t count = hotspots > 0 ? p->hotspots[i].count : p->counts[i];
            btcli_fmt_num(a, sizeof a, from, 1);
            btcli_fmt_num(e, sizeof e, to, 1);
            snprintf(cnt, sizeof cnt, "%zu", count);
            const char *place = hotspots > 0 ? p->hotspots[i].place : NULL;
            btcli_fmt_num(pm, sizeof pm, hotspots > 0 ? p->hotspots[i].place_m : (double)NAN, 1);
            const char *row[] = {border, a, e, cnt, place, pm};
            char *geom = fmt == BTCLI_GEOJSON ? chain_geometry(s, b, from, to) : NULL;
            if (fmt == BTCLI_GEOJSON && !geom) st = BTCLI_FAIL;
            btcli_out_row(&o, row, geom);
            free(geom);
        }
        if (btcli_out_end(&o) && !st) st = BTCLI_FAIL;
        fprintf(stderr, "%zu incidents in %zu bins of %.0f m; %zu beyond %.0f m of the line\n",
                p->total, p->nbins, p->bin_m, p->too_far, po.max_offset_m);
    }
    bt_profile_free(p);
    bt_border_free(b);
    bt_store_close(s);
    return st;
}
