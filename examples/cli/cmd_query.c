/**
 * @file cmd_query.c
 * @brief The incident listing commands: query (filters) and nearest (k nearest).
 */
#include "cli.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char query_help[] =
    "Usage: bordertrack query DB [FILTERS] [--format table|csv|geojson] [--limit N]\n"
    "Lists the incidents that match FILTERS, in increasing id order.\n"
    "FILTERS:\n"
    "  --near PLACE|LON,LAT --radius DIST   within DIST (500m, 5km) of a place of the\n"
    "                                       store's gazetteer or of a point\n"
    "  --bbox W,S,E,N                       in a lon/lat box\n"
    "  --from DATE --to DATE                occurrence overlaps the window (2020,\n"
    "                                       2020-07, 2020-07-29 or a timestamp)\n"
    "  --type T[,T...]                      incident types (river_crossing, ...)\n"
    "  --min-reliability A-F                a linked source at least this reliable\n"
    "  --min-credibility 1-6                a report at least this credible\n"
    "  --match possible|certain|point       uncertainty circle touches / lies inside\n"
    "                                       the circle, box or --within polygon\n"
    "                                       (default: the point is inside)\n"
    "Columns: ref,type,lon,lat,uncertainty_m,location_precision,start,end,\n"
    "time_precision,reported,verification,summary,id[,distance_m with --near]\n";

static const char nearest_help[] =
    "Usage: bordertrack nearest DB --near PLACE|LON,LAT [-k N] [FILTERS]\n"
    "                           [--format table|csv|geojson]\n"
    "The N (default 10) incidents nearest to a place or point by geodesic distance,\n"
    "nearest first (ties by id). FILTERS as for query (not --radius).\n"
    "Columns: as query, then distance_m (metres).\n";

/* Parsed common options of both commands. */
typedef struct list_args {
    const char *db;
    btcli_filters f;
    btcli_format fmt;
    long limit; /* query --limit or nearest -k; -1 = none */
} list_args;

static int parse_list(const char *cmd, const char *help, int argc, char **argv,
                      list_args *a, int is_nearest)
{
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest) return BTCLI_FAIL;
    int nrest = 0;
    char err[256];
    memset(a, 0, sizeof *a);
    a->limit = is_nearest ? 10 : -1;
    for (int i = 0; i < argc; i++) {
        if (btcli_is_help(argv[i])) {
            fputs(help, stdout);
            free(rest);
            return -1;
        }
    }
    if (btcli_parse_filters(argc, argv, &a->f, rest, &nrest, err, sizeof err)) {
        btcli_usage_error(cmd, "%s", err);
        free(rest);
        return BTCLI_USAGE;
    }
    for (int i = 0; i < nrest; i++) {
        const char *v;
        const char *opt = rest[i];
        int r;
        if ((r = btcli_opt_value(nrest, rest, &i, "--format", &v)) != 0) {
            if (r < 0 || btcli_parse_format(v, &a->fmt)) {
                btcli_usage_error(cmd, "--format: expected table, csv or geojson");
                free(rest);
                return BTCLI_USAGE;
            }
        } else if ((r = btcli_opt_value(nrest, rest, &i, is_nearest ? "-k" : "--limit",
                                        &v)) != 0) {
            if (r < 0 || btcli_parse_long(v, is_nearest ? 1 : 0, 100000000L, &a->limit)) {
                btcli_usage_error(cmd, "%s: expected a count", opt);
                free(rest);
                return BTCLI_USAGE;
            }
        } else if (opt[0] == '-' && opt[1]) {
            btcli_usage_error(cmd, "unknown option '%s'", opt);
            free(rest);
            return BTCLI_USAGE;
        } else if (!a->db) {
            a->db = opt;
        } else {
            btcli_usage_error(cmd, "unexpected argument '%s'", opt);
            free(rest);
            return BTCLI_USAGE;
        }
    }
    free(rest);
    if (!a->db) {
        btcli_usage_error(cmd, "missing DB");
        return BTCLI_USAGE;
    }
    if (is_nearest && !a->f.near) {
        btcli_usage_error(cmd, "--near PLACE|LON,LAT is required");
        return BTCLI_USAGE;
    }
    if (is_nearest && a->f.radius_m >= 0) {
        btcli_usage_error(cmd, "--radius does not apply; use -k");
        return BTCLI_USAGE;
    }
    if (!is_nearest && a->f.near && a->f.radius_m < 0) {
        btcli_usage_error(cmd, "--near needs --radius (or use 'bordertrack nearest')");
        return BTCLI_USAGE;
    }
    return BTCLI_OK;
}

static void print_inc(btcli_out *o, const bt_incident *inc, double d, int with_dist)
{
    char buf[BTCLI_INC_NCOLS][96], dbuf[32], geom[128];
    const char *cells[BTCLI_INC_NCOLS + 1];
    btcli_inc_cells(inc, buf, cells, geom, sizeof geom);
    btcli_fmt_num(dbuf, sizeof dbuf, d, 1);
    cells[BTCLI_INC_NCOLS] = with_dist ? dbuf : NULL;
    btcli_out_row(o, cells, geom);
}

typedef struct print_ctx {
    btcli_out *o;
    int with_dist;
    long n;
} print_ctx;

static int print_cb(const bt_incident *inc, double d, void *udata)
{
    print_ctx *p = udata;
    print_inc(p->o, inc, d, p->with_dist);
    p->n++;
    return 0;
}

/* The incident columns followed by distance_m. */
static void cols_dist(const char **cols, btcli_col *kinds)
{
    memcpy(cols, btcli_inc_cols, sizeof btcli_inc_cols);
    memcpy(kinds, btcli_inc_kinds, sizeof btcli_inc_kinds);
    cols[BTCLI_INC_NCOLS] = "distance_m";
    kinds[BTCLI_INC_NCOLS] = BTCLI_NUM;
}

int btcli_cmd_query(int argc, char **argv)
{
    list_args a;
    int st = parse_list("query", query_help, argc, argv, &a, 0);
    if (st < 0) return BTCLI_OK;
    if (st) return st;
    bt_store *s = btcli_open(a.db, BT_OPEN_READONLY);
    if (!s) return BTCLI_FAIL;
    btcli_selection sel;
    bt_query q;
    char *wkt = NULL;
    st = btcli_build_query("query", s, &a.f, &sel, &q, &wkt);
    if (!st) {
        if (a.limit >= 0) q.limit = (size_t)a.limit;
        const char *cols[BTCLI_INC_NCOLS + 1];
        btcli_col kinds[BTCLI_INC_NCOLS + 1];
        cols_dist(cols, kinds);
        int with_dist = sel.has_centre;
        btcli_out o;
        btcli_out_begin(&o, a.fmt, stdout, BTCLI_INC_NCOLS + (size_t)with_dist, cols, kinds);
        print_ctx p = {&o, with_dist, 0};
        int rc = a.limit == 0 ? BT_OK : bt_incident_query(s, &q, print_cb, &p);
        if (rc) {
            btcli_lib_error("query", s, rc, "query");
            st = BTCLI_FAIL;
        }
        if (btcli_out_end(&o) && !st) {
            fprintf(stderr, "bordertrack query: writing the output failed\n");
            st = BTCLI_FAIL;
        }
        if (!st) fprintf(stderr, "%ld incident%s\n", p.n, p.n == 1 ? "" : "s");
    }
    free(wkt);
    bt_store_close(s);
    return st;
}

int btcli_cmd_nearest(int argc, char **argv)
{
    list_args a;
    int st = parse_list("nearest", nearest_help, argc, argv, &a, 1);
    if (st < 0) return BTCLI_OK;
    if (st) return st;
    bt_store *s = btcli_open(a.db, BT_OPEN_READONLY);
    if (!s) return BTCLI_FAIL;
    btcli_selection sel;
    bt_query q;
    char *wkt = NULL;
    bt_hit *hits = NULL;
    size_t n = 0;
    st = btcli_build_query("nearest", s, &a.f, &sel, &q, &wkt);
    if (!st) {
        int rc = bt_incident_nearest(s, sel.centre, (size_t)a.limit, &q, &hits, &n);
        if (rc) {
            btcli_lib_error("nearest", s, rc, "nearest");
            st = BTCLI_FAIL;
        }
    }
    if (!st) {
        const char *cols[BTCLI_INC_NCOLS + 1];
        btcli_col kinds[BTCLI_INC_NCOLS + 1];
        cols_dist(cols, kinds);
        btcli_out o;
        btcli_out_begin(&o, a.fmt, stdout, BTCLI_INC_NCOLS + 1, cols, kinds);
        for (size_t i = 0; i < n && !st; i++) {
            bt_incident *inc = NULL;
            int rc = bt_incident_get(s, hits[i].id, &inc);
            if (rc) {
                btcli_lib_error("nearest", s, rc, "reading an incident");
                st = BTCLI_FAIL;
                break;
            }
            print_inc(&o, inc, hits[i].distance_m, 1);
            bt_incident_free(inc);
        }
        if (btcli_out_end(&o) && !st) st = BTCLI_FAIL;
    }
    bt_hits_free(hits);
    free(wkt);
    bt_store_close(s);
    return st;
}
