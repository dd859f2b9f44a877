/**
 * @file select.c
 * @brief Incident selection with the FILTERS options, and the incident columns shared
 * by query, nearest and locate.
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

const char *const btcli_inc_cols[BTCLI_INC_NCOLS] = {
    "ref", "type", "lon", "lat", "uncertainty_m", "location_precision", "start", "end",
    "time_precision", "reported", "verification", "summary", "id",
};
const btcli_col btcli_inc_kinds[BTCLI_INC_NCOLS] = {
    BTCLI_STR, BTCLI_STR, BTCLI_NUM, BTCLI_NUM, BTCLI_NUM, BTCLI_STR, BTCLI_STR, BTCLI_STR,
    BTCLI_STR, BTCLI_STR, BTCLI_STR, BTCLI_STR, BTCLI_NUM,
};

void btcli_inc_cells(const bt_incident *inc, char buf[BTCLI_INC_NCOLS][96],
                     const char *cells[BTCLI_INC_NCOLS], char *geom, size_t geomsize)
{
    for (int i = 0; i < BTCLI_INC_NCOLS; i++) {
        buf[i][0] = '\0';
        cells[i] = buf[i];
    }
    cells[0] = inc->ref;
    cells[1] = bt_enum_name(BT_ENUM_INCIDENT_TYPE, (int)inc->type);
    snprintf(buf[2], 96, "%.7f", inc->where.lon);
    snprintf(buf[3], 96, "%.7f", inc->where.lat);
    btcli_fmt_num(buf[4], 96, inc->uncertainty_m, 1);
    cells[5] = bt_enum_name(BT_ENUM_LOC_PRECISION, (int)inc->loc_precision);
    btcli_fmt_time(buf[6], 96, inc->start, inc->time_precision);
    /* the end of a period is printed at its precision: "2020-07" ends in July */
    if (inc->end == BT_TIME_OPEN) cells[7] = NULL;
    else btcli_fmt_time(buf[7], 96, inc->end, inc->time_precision);
    cells[8] = bt_enum_name(BT_ENUM_TIME_PRECISION, (int)inc->time_precision);
    btcli_fmt_time(buf[9], 96, inc->reported.t, inc->reported.precision);
    cells[10] = bt_enum_name(BT_ENUM_VERIFICATION, (int)inc->verification);
    cells[11] = inc->summary;
    snprintf(buf[12], 96, "%lld", (long long)inc->id);
    if (geom)
        snprintf(geom, geomsize, "{\"type\":\"Point\",\"coordinates\":[%.7f,%.7f]}",
                 inc->where.lon, inc->where.lat);
}

int btcli_build_query(const char *cmd, bt_store *s, const btcli_filters *f,
                      btcli_selection *sel, bt_query *q, char **wkt)
{
    memset(sel, 0, sizeof *sel);
    *wkt = NULL;
    bt_query_init(q);
    if (f->near) {
        if (btcli_resolve_near(cmd, s, f, &sel->centre, sel->centre_label,
                               sizeof sel->centre_label))
            return BTCLI_FAIL;
        sel->has_centre = 1;
        if (f->radius_m >= 0) {
            q->area = BT_AREA_CIRCLE;
            q->centre = sel->centre;
            q->radius_m = f->radius_m;
        }
    }
    if (f->has_bbox) {
        q->area = BT_AREA_BBOX;
        q->box = f->bbox;
    }
    if (f->within) {
        char err[200];
        *wkt = btcli_read_polygon(f->within, err, sizeof err);
        if (!*wkt) {
            fprintf(stderr, "bordertrack %s: --within %s: %s\n", cmd, f->within, err);
            return BTCLI_FAIL;
        }
        q->area = BT_AREA_POLYGON;
        q->wkt = *wkt;
    }
    q->from = f->from;
    q->to = f->to;
    q->types = f->types;
    q->min_reliability = f->min_reliability;
    q->min_credibility = f->min_credibility;
    q->match = f->match == BTCLI_MATCH_POSSIBLE ? BT_MATCH_POSSIBLE
             : f->match == BTCLI_MATCH_CERTAIN  ? BT_MATCH_CERTAIN
                                                : BT_MATCH_POINT;
    q->want_distance = sel->has_centre;
    return BTCLI_OK;
}

int btcli_select(const char *cmd, bt_store *s, const btcli_filters *f, btcli_selection *sel,
                 btcli_inc_cb cb, void *udata)
{
    bt_query q;
    char *wkt = NULL;
    int st = btcli_build_query(cmd, s, f, sel, &q, &wkt);
    if (!st) {
        int rc = bt_incident_query(s, &q, cb, udata);
        if (rc) {
            btcli_lib_error(cmd, s, rc, "query");
            st = BTCLI_FAIL;
        }
    }
    free(wkt);
    return st;
}
