/**
 * @file bench.c
 * @brief The bordertrack benchmark: synthetic incidents within 20 km of the PRK-CHN
 * border, the same queries answered by bordertrack and by what a user would do
 * otherwise (SpatiaLite SQL, a GEOS STRtree with an exact geodesic check, a scan of
 * flat arrays), medians side by side with ratios; open-and-index time, bulk insert
 * throughput against raw SQLite inserts, index memory, and one-shot process runs
 * against the spatialite shell.
 *
 * Usage: bt_bench [--sizes 10000,100000,1000000] [--long] [--reps N] [--dir DIR]
 *                 [--borders FILE] [--no-sql] [--keep]
 * (--long adds 10,000,000; --keep leaves each size's store in DIR, e.g. for
 * bench/query_ab.c.) The one-shot runs spawn bt_oneshot (bench/oneshot.c).
 * Everything is deterministic (fixed seeds); files go to DIR (default /tmp).
 */
#define _POSIX_C_SOURCE 200809L
#include "bordertrack.h"

#include <geodesic.h>
#include <geos_c.h>
#include <json-c/json.h>
#include <float.h>
#include <math.h>
#include <sqlite3.h>
/* after sqlite3.h, which it needs */
#include <spatialite.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define HYESAN_LON 128.17778
#define HYESAN_LAT 41.40167
#define T2019 INT64_C(1546300800) /* 2019-01-01 */
#define T2025 INT64_C(1735689600) /* 2025-01-01 */
#define DAY 86400

/* ---- small helpers ------------------------------------------------------------ */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnext(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static double runif(rng *r, double a, double b)
{
    return a + (b - a) * ((double)(rnext(r) >> 11) / 9007199254740992.0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bt_bench: %s: %s\n", what, detail ? detail : "");
    exit(1);
}

/* ---- the border ------------------------------------------------------------------ */

struct border {
    double *lon, *lat; /* vertices of all parts, parts separated by NaN */
    double *cum;       /* cumulative edge length at each vertex (edges only in a part) */
    size_t n;
    double total;
};

static void border_load(const char *path, struct border *b, const struct geod_geodesic *g)
{
    json_object *root = json_object_from_file(path);
    if (!root) die("cannot read the border file", path);
    json_object *feats;
    if (!json_object_object_get_ex(root, "features", &feats)) die("no features in", path);
    size_t cap = 8192;
    b->lon = malloc(cap * sizeof *b->lon);
    b->lat = malloc(cap * sizeof *b->lat);
    b->n = 0;
    for (size_t i = 0; i < json_object_array_length(feats); i++) {
        json_object *f = json_object_array_get_idx(feats, i), *props, *name, *geom, *coords;
        if (!json_object_object_get_ex(f, "properties", &props) ||
            !json_object_object_get_ex(props, "name", &name) ||
            strcmp(json_object_get_string(name), "PRK-CHN") != 0)
            continue;
        json_object_object_get_ex(f, "geometry", &geom);
        json_object_object_get_ex(geom, "coordinates", &coords);
        for (size_t p = 0; p < json_object_array_length(coords); p++) {
            json_object *part = json_object_array_get_idx(coords, p);
            for (size_t k = 0; k < json_object_array_length(part) + 1; k++) {
                if (b->n + 1 >= cap) {
                    cap *= 2;
                    b->lon = realloc(b->lon, cap * sizeof *b->lon);
                    b->lat = realloc(b->lat, cap * sizeof *b->lat);
                }
                if (k == json_object_array_length(part)) {
                    b->lon[b->n] = b->lat[b->n] = NAN;
                } else {
                    json_object *v = json_object_array_get_idx(part, k);
                    b->lon[b->n] = json_object_get_double(json_object_array_get_idx(v, 0));
                    b->lat[b->n] = json_object_get_double(json_object_array_get_idx(v, 1));
                }
                b->n++;
            }
        }
    }
    json_object_put(root);
    if (b->n < 2) die("no PRK-CHN border in", path);
    b->cum = malloc(b->n * sizeof *b->cum);
    double sum = 0.0;
    b->cum[0] = 0.0;
    for (size_t i = 1; i < b->n; i++) {
        if (!isnan(b->lon[i]) && !isnan(b->lon[i - 1])) {
            double s12;
            geod_inverse(g, b->lat[i - 1], b->lon[i - 1], b->lat[i], b->lon[i], &s12, NULL, NULL);
            sum += s12;
        }
        b->cum[i] = sum;
    }
    b->total = sum;
}

/* A point on the border, uniform by length. */
static bt_lonlat border_point(const struct border *b, const struct geod_geodesic *g, rng *r)
{
    double t = runif(r, 0.0, b->total);
    size_t lo = 1, hi = b->n - 1;
    while (lo < hi) { /* first vertex with cum >= t */
        size_t m = (lo + hi) / 2;
        if (b->cum[m] < t)
            lo = m + 1;
        else
            hi = m;
    }
    size_t i = lo;
    while (i > 0 && (isnan(b->lon[i]) || isnan(b->lon[i - 1]))) i--;
    if (i == 0) return (bt_lonlat){b->lon[0], b->lat[0]};
    double s12, azi1, lat, lon;
    geod_inverse(g, b->lat[i - 1], b->lon[i - 1], b->lat[i], b->lon[i], &s12, &azi1, NULL);
    double along = s12 > 0 ? fmin(s12, fmax(0.0, t - b->cum[i - 1])) : 0.0;
    geod_direct(g, b->lat[i - 1], b->lon[i - 1], azi1, along, &lat, &lon, NULL);
    return (bt_lonlat){lon, lat};
}

/* ---- the data ----------------------------------------------------------------------- */

struct data {
    size_t n;
    double *lon, *lat;
    int64_t *start, *end;
    int *type;
};

static void gen_data(struct data *d, size_t n, const struct border *b,
                     const struct geod_geodesic *g)
{
    rng r = {20240601u + n};
    d->n = n;
    d->lon = malloc(n * sizeof *d->lon);
    d->lat = malloc(n * sizeof *d->lat);
    d->start = malloc(n * sizeof *d->start);
    d->end = malloc(n * sizeof *d->end);
    d->type = malloc(n * sizeof *d->type);
    for (size_t i = 0; i < n; i++) {
        bt_lonlat p = border_point(b, g, &r);
        /* uniform over the 20 km disc around the border point */
        double dist = 20000.0 * sqrt(runif(&r, 0.0, 1.0)), az = runif(&r, -180.0, 180.0);
        geod_direct(g, p.lat, p.lon, az, dist, &d->lat[i], &d->lon[i], NULL);
        d->start[i] = T2019 + (int64_t)(rnext(&r) % (uint64_t)((T2025 - T2019) / DAY)) * DAY;
        d->end[i] = d->start[i] + (int64_t)(rnext(&r) % 30u) * DAY + DAY - 1;
        d->type[i] = (int)(rnext(&r) % BT_INCIDENT_TYPE_COUNT);
    }
}

static void data_free(struct data *d)
{
    free(d->lon);
    free(d->lat);
    free(d->start);
    free(d->end);
    free(d->type);
}

/* ---- queries -------------------------------------------------------------------------- */

enum qkind { Q_R5_HYESAN, Q_R25_HYESAN, Q_R5_RANDOM, Q_R25_RANDOM, Q_BOX, Q_POLY, Q_KNN10,
             Q_R25_90D, Q_COUNT };
static const char *const qname[Q_COUNT] = {
    "radius 5 km, Hyesan", "radius 25 km, Hyesan", "radius 5 km, border pts",
    "radius 25 km, border pts", "box 0.2 x 0.1 deg", "polygon (12-gon, r 15 km)",
    "k = 10 nearest", "radius 25 km + 90 days"};

enum method { M_BT, M_SQL_DIST, M_SQL_PTDIST, M_STRTREE, M_SCAN, M_COUNT };
static const char *const mname[M_COUNT] = {"bordertrack", "SQL ST_Distance", "SQL PtDistWithin",
                                           "STRtree+geod", "flat scan+geod"};

struct qspec {
    enum qkind kind;
    bt_lonlat c;
    double r;
    bt_bbox box;
    bt_lonlat ring[13];
    char wkt[1024];
    int64_t from, to;
};

static void make_query(struct qspec *q, enum qkind kind, int rep, const struct border *b,
                       const struct geod_geodesic *g)
{
    rng r = {(uint64_t)kind * 1000u + (uint64_t)rep + 1u};
    memset(q, 0, sizeof *q);
    q->kind = kind;
    q->c = (bt_lonlat){HYESAN_LON, HYESAN_LAT};
    if (kind == Q_R5_RANDOM || kind == Q_R25_RANDOM || kind == Q_KNN10 || kind == Q_R25_90D ||
        kind == Q_BOX || kind == Q_POLY) {
        if (rep > 0 || kind == Q_R5_RANDOM || kind == Q_R25_RANDOM) q->c = border_point(b, g, &r);
    }
    q->r = (kind == Q_R5_HYESAN || kind == Q_R5_RANDOM) ? 5000.0 : 25000.0;
    q->from = INT64_MIN;
    q->to = INT64_MAX;
    if (kind == Q_R25_90D) {
        q->from = T2019 + (int64_t)(rnext(&r) % (uint64_t)((T2025 - T2019) / DAY - 90)) * DAY;
        q->to = q->from + 90 * DAY - 1;
    }
    q->box = (bt_bbox){q->c.lon - 0.1, q->c.lat - 0.05, q->c.lon + 0.1, q->c.lat + 0.05};
    int off = snprintf(q->wkt, sizeof q->wkt, "POLYGON((");
    for (int i = 0; i <= 12; i++) {
        double lat, lon;
        geod_direct(g, q->c.lat, q->c.lon, 30.0 * (i % 12), 15000.0 * (i % 2 ? 0.8 : 1.0), &lat,
                    &lon, NULL);
        q->ring[i] = (bt_lonlat){lon, lat};
        off += snprintf(q->wkt + off, sizeof q->wkt - (size_t)off, "%s%.9f %.9f", i ? ", " : "",
                        lon, lat);
    }
    snprintf(q->wkt + off, sizeof q->wkt - (size_t)off, "))");
}

/* The conservative box of a geodesic circle (same bound as lib/query/plan.c). */
static bt_bbox circle_box(bt_lonlat c, double r)
{
    double sigma = r / 6335439.0, deg = 180.0 / 3.14159265358979323846;
    double dlat = sigma * deg + 1e-9;
    double dlon = asin(fmin(1.0, sin(sigma) / cos(c.lat / deg))) * deg + 1e-9;
    return (bt_bbox){c.lon - dlon, c.lat - dlat, c.lon + dlon, c.lat + dlat};
}

/* ---- bordertrack ------------------------------------------------------------------------ */

static long run_bt(bt_store *s, const struct qspec *q)
{
    bt_query f;
    bt_query_init(&f);
    f.from = q->from;
    f.to = q->to;
    bt_hit *h = NULL;
    size_t n = 0;
    int rc;
    switch (q->kind) {
    case Q_BOX:
        f.area = BT_AREA_BBOX;
        f.box = q->box;
        break;
    case Q_POLY:
        f.area = BT_AREA_POLYGON;
        f.ring = q->ring;
        f.nring = 13;
        break;
    case Q_KNN10:
        rc = bt_incident_nearest(s, q->c, 10, NULL, &h, &n);
        if (rc) die("bt_incident_nearest", bt_store_errmsg(s));
        bt_hits_free(h);
        return (long)n;
    default:
        f.area = BT_AREA_CIRCLE;
        f.centre = q->c;
        f.radius_m = q->r;
        break;
    }
    rc = bt_incident_query_all(s, &f, &h, &n);
    if (rc) die("bt_incident_query_all", bt_store_errmsg(s));
    bt_hits_free(h);
    return (long)n;
}

/* ---- SpatiaLite SQL, as documented for SpatiaLite 5 ------------------------------- */

static long run_sql(sqlite3 *db, const struct qspec *q, enum method m)
{
    char sql[4096];
    bt_bbox b = circle_box(q->c, q->r);
    char fr[160];
    snprintf(fr, sizeof fr, "BuildMbr(%.9f, %.9f, %.9f, %.9f, 4326)", b.west, b.south, b.east,
             b.north);
    const char *timecond = q->from != INT64_MIN ? " AND start_t <= ?2 AND (end_t IS NULL OR end_t >= ?1)" : "";
    switch (q->kind) {
    case Q_BOX:
        snprintf(sql, sizeof sql,
                 "SELECT id FROM incidents WHERE ROWID IN (SELECT ROWID FROM SpatialIndex"
                 " WHERE f_table_name = 'incidents' AND search_frame = BuildMbr(%.9f, %.9f,"
                 " %.9f, %.9f, 4326)) AND lon BETWEEN %.9f AND %.9f AND lat BETWEEN %.9f AND %.9f",
                 q->box.west, q->box.south, q->box.east, q->box.north, q->box.west, q->box.east,
                 q->box.south, q->box.north);
        break;
    case Q_POLY:
        snprintf(sql, sizeof sql,
                 "SELECT id FROM incidents WHERE ROWID IN (SELECT ROWID FROM SpatialIndex"
                 " WHERE f_table_name = 'incidents' AND search_frame = GeomFromText('%s', 4326))"
                 " AND ST_Intersects(geom, GeomFromText('%s', 4326))",
                 q->wkt, q->wkt);
        break;
    case Q_KNN10:
        snprintf(sql, sizeof sql,
                 "SELECT fid FROM KNN WHERE f_table_name = 'incidents' AND ref_geometry ="
                 " MakePoint(%.9f, %.9f, 4326) AND max_items = 10",
                 q->c.lon, q->c.lat);
        break;
    default:
        if (m == M_SQL_DIST)
            snprintf(sql, sizeof sql,
                     "SELECT id FROM incidents WHERE ROWID IN (SELECT ROWID FROM SpatialIndex"
                     " WHERE f_table_name = 'incidents' AND search_frame = %s)"
                     " AND ST_Distance(geom, MakePoint(%.9f, %.9f, 4326), 1) <= %.3f%s",
                     fr, q->c.lon, q->c.lat, q->r, timecond);
        else
            snprintf(sql, sizeof sql,
                     "SELECT id FROM incidents WHERE ROWID IN (SELECT ROWID FROM SpatialIndex"
                     " WHERE f_table_name = 'incidents' AND search_frame = %s)"
                     " AND PtDistWithin(geom, MakePoint(%.9f, %.9f, 4326), %.3f)%s",
                     fr, q->c.lon, q->c.lat, q->r, timecond);
        break;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) die("SQL", sqlite3_errmsg(db));
    if (q->from != INT64_MIN) {
        sqlite3_bind_int64(st, 1, q->from);
        sqlite3_bind_int64(st, 2, q->to);
    }
    long n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) n++;
    if (rc != SQLITE_DONE) die("SQL step", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return n;
}

/* ---- GEOS STRtree + geod_inverse ------------------------------------------------------ */

struct strt {
    GEOSContextHandle_t h;
    GEOSSTRtree *tree;
    GEOSGeometry **pts;
    const struct data *d;
    const struct geod_geodesic *g;
};

struct strt_q {
    const struct strt *t;
    const struct qspec *q;
    const GEOSPreparedGeometry *prep;
    long n;
    /* knn */
    double *dist;
    size_t nd, capd;
};

static void strt_build(struct strt *t, const struct data *d, const struct geod_geodesic *g)
{
    t->h = GEOS_init_r();
    t->d = d;
    t->g = g;
    t->tree = GEOSSTRtree_create_r(t->h, 10);
    t->pts = malloc(d->n * sizeof *t->pts);
    /* every insert before the first query: GEOS 3.11 crashes on an insert after one */
    for (size_t i = 0; i < d->n; i++) {
        t->pts[i] = GEOSGeom_createPointFromXY_r(t->h, d->lon[i], d->lat[i]);
        GEOSSTRtree_insert_r(t->h, t->tree, t->pts[i], (void *)(uintptr_t)(i + 1));
    }
}

static void strt_free(struct strt *t)
{
    GEOSSTRtree_destroy_r(t->h, t->tree);
    for (size_t i = 0; i < t->d->n; i++) GEOSGeom_destroy_r(t->h, t->pts[i]);
    free(t->pts);
    GEOS_finish_r(t->h);
}

static void strt_cb(void *item, void *udata)
{
    struct strt_q *c = udata;
    size_t i = (size_t)(uintptr_t)item - 1;
    const struct data *d = c->t->d;
    const struct qspec *q = c->q;
    if (q->from != INT64_MIN && !(d->start[i] <= q->to && d->end[i] >= q->from)) return;
    if (q->kind == Q_BOX) {
        if (d->lon[i] >= q->box.west && d->lon[i] <= q->box.east && d->lat[i] >= q->box.south &&
            d->lat[i] <= q->box.north)
            c->n++;
        return;
    }
    if (q->kind == Q_POLY) {
        if (GEOSPreparedIntersects_r(c->t->h, c->prep, c->t->pts[i]) == 1) c->n++;
        return;
    }
    double s12;
    geod_inverse(c->t->g, q->c.lat, q->c.lon, d->lat[i], d->lon[i], &s12, NULL, NULL);
    if (q->kind == Q_KNN10) {
        if (c->nd == c->capd) {
            c->capd = c->capd ? 2 * c->capd : 256;
            c->dist = realloc(c->dist, c->capd * sizeof *c->dist);
        }
        c->dist[c->nd++] = s12;
        return;
    }
    if (s12 <= q->r) c->n++;
}

static GEOSGeometry *env_geom(GEOSContextHandle_t h, bt_bbox b)
{
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(h, 5, 2);
    GEOSCoordSeq_setXY_r(h, cs, 0, b.west, b.south);
    GEOSCoordSeq_setXY_r(h, cs, 1, b.east, b.south);
    GEOSCoordSeq_setXY_r(h, cs, 2, b.east, b.north);
    GEOSCoordSeq_setXY_r(h, cs, 3, b.west, b.north);
    GEOSCoordSeq_setXY_r(h, cs, 4, b.west, b.south);
    return GEOSGeom_createPolygon_r(h, GEOSGeom_createLinearRing_r(h, cs), NULL, 0);
}

static long run_strtree(const struct strt *t, const struct qspec *q)
{
    struct strt_q c = {t, q, NULL, 0, NULL, 0, 0};
    GEOSGeometry *poly = NULL;
    bt_bbox b = circle_box(q->c, q->r);
    if (q->kind == Q_BOX) b = q->box;
    if (q->kind == Q_POLY) {
        GEOSWKTReader *r = GEOSWKTReader_create_r(t->h);
        poly = GEOSWKTReader_read_r(t->h, r, q->wkt);
        GEOSWKTReader_destroy_r(t->h, r);
        c.prep = GEOSPrepare_r(t->h, poly);
        GEOSGeometry *env = GEOSEnvelope_r(t->h, poly);
        GEOSSTRtree_query_r(t->h, t->tree, env, strt_cb, &c);
        GEOSGeom_destroy_r(t->h, env);
        GEOSPreparedGeom_destroy_r(t->h, c.prep);
        GEOSGeom_destroy_r(t->h, poly);
        return c.n;
    }
    if (q->kind == Q_KNN10) {
        /* expanding geodesic radius until 10 are surely inside it */
        for (double r = 1000.0;; r *= 2.0) {
            c.nd = 0;
            bt_bbox e = circle_box(q->c, r);
            GEOSGeometry *env = env_geom(t->h, e);
            GEOSSTRtree_query_r(t->h, t->tree, env, strt_cb, &c);
            GEOSGeom_destroy_r(t->h, env);
            size_t within = 0;
            for (size_t i = 0; i < c.nd; i++) within += c.dist[i] <= r;
            if (within >= 10 || r > 4e7) break;
        }
        qsort(c.dist, c.nd, sizeof *c.dist, cmp_double);
        free(c.dist);
        return c.nd < 10 ? (long)c.nd : 10;
    }
    GEOSGeometry *env = env_geom(t->h, b);
    GEOSSTRtree_query_r(t->h, t->tree, env, strt_cb, &c);
    GEOSGeom_destroy_r(t->h, env);
    return c.n;
}

/* k = 1 through GEOS's own nearest search. GEOSSTRtree_nearest_generic prunes tree
 * nodes by their planar envelope distance in degrees, so the item distance must be
 * in comparable units and never smaller: the geodesic distance divided by 80,700 m,
 * at most the metres of one degree in any direction up to 43.5 N (all the data lies
 * within 39.5..43.5 N), is such a distance; its order is the geodesic order. */
struct nn1 {
    const struct strt *t;
    bt_lonlat c;
    uintptr_t query_item;
    const uintptr_t *taken; /* items already found (k nearest by repeated k = 1 searches) */
    int ntaken;
};

static int nn1_dist(const void *item1, const void *item2, double *distance, void *udata)
{
    const struct nn1 *c = udata;
    uintptr_t a = (uintptr_t)item1;
    uintptr_t k = a == c->query_item ? (uintptr_t)item2 : a;
    if (k == c->query_item) {
        *distance = 0.0;
        return 1;
    }
    for (int j = 0; j < c->ntaken; j++) {
        if (c->taken[j] == k) {
            *distance = DBL_MAX; /* never nearer than an item not yet found */
            return 1;
        }
    }
    size_t i = (size_t)k - 1;
    double s12;
    geod_inverse(c->t->g, c->c.lat, c->c.lon, c->t->d->lat[i], c->t->d->lon[i], &s12, NULL, NULL);
    *distance = s12 / 80700.0;
    return 1;
}

static double run_strtree_nn1(const struct strt *t, bt_lonlat at)
{
    struct nn1 c = {t, at, (uintptr_t)t->d->n + 1, NULL, 0};
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(t->h, at.lon, at.lat);
    const void *hit = GEOSSTRtree_nearest_generic_r(t->h, t->tree, (const void *)c.query_item, pt,
                                                    nn1_dist, &c);
    GEOSGeom_destroy_r(t->h, pt);
    if (!hit) return NAN;
    double d;
    nn1_dist(hit, (const void *)c.query_item, &d, &c);
    return d * 80700.0;
}

/* k nearest the way a GEOS user gets them: GEOS 3.11 has only the k = 1 search, so k
 * searches, each one's distance callback putting the items already found out of reach.
 * Writes the k distances in metres, nearest first; returns how many were found. */
static int run_strtree_nnk(const struct strt *t, bt_lonlat at, int k, double *dist)
{
    uintptr_t taken[16];
    struct nn1 c = {t, at, (uintptr_t)t->d->n + 1, taken, 0};
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(t->h, at.lon, at.lat);
    while (c.ntaken < k && c.ntaken < 16) {
        const void *hit = GEOSSTRtree_nearest_generic_r(t->h, t->tree,
                                                        (const void *)c.query_item, pt,
                                                        nn1_dist, &c);
        if (!hit) break;
        struct nn1 one = {t, at, c.query_item, NULL, 0};
        double d;
        nn1_dist(hit, (const void *)c.query_item, &d, &one);
        dist[c.ntaken] = d * 80700.0;
        taken[c.ntaken++] = (uintptr_t)hit;
    }
    GEOSGeom_destroy_r(t->h, pt);
    return c.ntaken;
}

/* ---- flat arrays: bbox test over every point, geod_inverse for those in it ------------ */

static long run_scan(const struct data *d, const struct geod_geodesic *g, const struct qspec *q,
                     GEOSContextHandle_t h)
{
    long n = 0;
    if (q->kind == Q_KNN10) {
        /* a bounded max-heap of 10 geodesic distances over all points */
        double best[10];
        size_t nb = 0;
        for (size_t i = 0; i < d->n; i++) {
            double s12;
            geod_inverse(g, q->c.lat, q->c.lon, d->lat[i], d->lon[i], &s12, NULL, NULL);
            if (nb < 10) {
                best[nb++] = s12;
            } else {
                size_t m = 0;
                for (size_t k = 1; k < 10; k++)
                    if (best[k] > best[m]) m = k;
                if (s12 < best[m]) best[m] = s12;
            }
        }
        return (long)nb;
    }
    bt_bbox b = q->kind == Q_BOX ? q->box : circle_box(q->c, q->r);
    GEOSGeometry *poly = NULL;
    const GEOSPreparedGeometry *prep = NULL;
    if (q->kind == Q_POLY) {
        GEOSWKTReader *r = GEOSWKTReader_create_r(h);
        poly = GEOSWKTReader_read_r(h, r, q->wkt);
        GEOSWKTReader_destroy_r(h, r);
        prep = GEOSPrepare_r(h, poly);
        GEOSGeom_getXMin_r(h, poly, &b.west);
        GEOSGeom_getXMax_r(h, poly, &b.east);
        GEOSGeom_getYMin_r(h, poly, &b.south);
        GEOSGeom_getYMax_r(h, poly, &b.north);
    }
    for (size_t i = 0; i < d->n; i++) {
        double x = d->lon[i], y = d->lat[i];
        if (x < b.west || x > b.east || y < b.south || y > b.north) continue;
        if (q->from != INT64_MIN && !(d->start[i] <= q->to && d->end[i] >= q->from)) continue;
        if (q->kind == Q_BOX) {
            n++;
        } else if (q->kind == Q_POLY) {
            GEOSGeometry *p = GEOSGeom_createPointFromXY_r(h, x, y);
            n += GEOSPreparedIntersects_r(h, prep, p) == 1;
            GEOSGeom_destroy_r(h, p);
        } else {
            double s12;
            geod_inverse(g, q->c.lat, q->c.lon, y, x, &s12, NULL, NULL);
            n += s12 <= q->r;
        }
    }
    if (prep) GEOSPreparedGeom_destroy_r(h, prep);
    if (poly) GEOSGeom_destroy_r(h, poly);
    return n;
}

/* ---- one-shot processes ------------------------------------------------------------------ */

/* Runs argv to completion with its output discarded; returns the wall time and, in
 * *cpu, the child's user + system CPU time (s). The machine is shared, so the CPU time
 * is the steadier of the two. */
static double spawn_time(char *const argv[], double *cpu)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    struct rusage r0, r1;
    getrusage(RUSAGE_CHILDREN, &r0); /* children waited for so far */
    double t0 = now();
    pid_t pid;
    if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) die("spawn", argv[0]);
    int status;
    waitpid(pid, &status, 0);
    double t = now() - t0;
    getrusage(RUSAGE_CHILDREN, &r1);
    *cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec -
                    r0.ru_stime.tv_sec) +
           (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec -
                    r0.ru_stime.tv_usec) * 1e-6;
    posix_spawn_file_actions_destroy(&fa);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("child failed", argv[0]);
    return t;
}

/* ---- one size ------------------------------------------------------------------------------ */

struct opts {
    size_t sizes[8];
    int nsizes;
    int reps;
    const char *dir;
    const char *borders;
    bool sql;
    const char *self;
    bool keep; /* leave the store file */
};

static void bench_size(const struct opts *o, size_t n, const struct border *b,
                       const struct geod_geodesic *g)
{
    printf("\n=== N = %zu incidents ===\n", n);
    struct data d;
    double t0 = now();
    gen_data(&d, n, b, g);
    printf("generated in %.2f s\n", now() - t0);

    char path[1024], rawpath[1024], wal[1100];
    snprintf(path, sizeof path, "%s/bt_bench_%zu.sqlite", o->dir, n);
    snprintf(rawpath, sizeof rawpath, "%s/bt_bench_raw_%zu.sqlite", o->dir, n);
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int k = 0; k < 3; k++) {
        snprintf(wal, sizeof wal, "%s%s", path, sfx[k]);
        unlink(wal);
        snprintf(wal, sizeof wal, "%s%s", rawpath, sfx[k]);
        unlink(wal);
    }

    /* bulk insert through the API, one transaction */
    bt_store *s = NULL;
    char *err = NULL;
    if (bt_store_open(path, BT_OPEN_READWRITE | BT_OPEN_CREATE, &s, &err)) die("create", err);
    t0 = now();
    if (bt_store_begin(s)) die("begin", bt_store_errmsg(s));
    char ref[32];
    bt_incident inc;
    bt_incident_init(&inc);
    inc.ref = ref;
    inc.time_precision = BT_TIME_DAY;
    for (size_t i = 0; i < n; i++) {
        snprintf(ref, sizeof ref, "B-%zu", i);
        inc.where = (bt_lonlat){d.lon[i], d.lat[i]};
        inc.start = d.start[i];
        inc.end = d.end[i];
        inc.type = (bt_incident_type)d.type[i];
        if (bt_incident_add(s, &inc, NULL)) die("add", bt_store_errmsg(s));
    }
    if (bt_store_commit(s)) die("commit", bt_store_errmsg(s));
    double t_ins = now() - t0;
    /* the writer's first index build reads the table, sorts, and saves the packed
     * index in the file (bt_index); later opens load that copy */
    t0 = now();
    size_t wbytes = 0, wn = 0;
    if (bt_index_stats(s, &wbytes, &wn)) die("index", bt_store_errmsg(s));
    double t_build = now() - t0;
    bt_store_close(s);

    /* raw SQLite: the same five columns into a plain table, one transaction */
    sqlite3 *raw;
    sqlite3_open(rawpath, &raw);
    sqlite3_exec(raw, "PRAGMA journal_mode=WAL; CREATE TABLE t(lon REAL, lat REAL, start_t INTEGER,"
                      " end_t INTEGER, type TEXT)", NULL, NULL, NULL);
    t0 = now();
    sqlite3_exec(raw, "BEGIN", NULL, NULL, NULL);
    sqlite3_stmt *ins;
    sqlite3_prepare_v2(raw, "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)", -1, &ins, NULL);
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_double(ins, 1, d.lon[i]);
        sqlite3_bind_double(ins, 2, d.lat[i]);
        sqlite3_bind_int64(ins, 3, d.start[i]);
        sqlite3_bind_int64(ins, 4, d.end[i]);
        sqlite3_bind_text(ins, 5, bt_enum_name(BT_ENUM_INCIDENT_TYPE, d.type[i]), -1, SQLITE_STATIC);
        sqlite3_step(ins);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    sqlite3_exec(raw, "COMMIT", NULL, NULL, NULL);
    double t_raw = now() - t0;
    sqlite3_close(raw);
    unlink(rawpath);

    /* open and index */
    t0 = now();
    if (bt_store_open(path, BT_OPEN_READONLY, &s, &err)) die("open", err);
    size_t bytes = 0, nidx = 0;
    if (bt_index_stats(s, &bytes, &nidx)) die("index", bt_store_errmsg(s));
    double t_open = now() - t0;

    /* baselines' own setup */
    t0 = now();
    struct strt tree;
    strt_build(&tree, &d, g);
    double t_strt = now() - t0;
    GEOSContextHandle_t gh = GEOS_init_r();
    sqlite3 *db = NULL;
    void *cache = NULL;
    if (o->sql) {
        cache = spatialite_alloc_connection();
        sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
        spatialite_init_ex(db, cache, 0);
    }

    printf("insert through the API: %.2f s (%.0f /s); raw SQLite, same 5 columns: %.2f s"
           " (%.0f /s); ratio %.1fx slower\n",
           t_ins, (double)n / t_ins, t_raw, (double)n / t_raw, t_ins / t_raw);
    printf("first index build on the writable handle (table scan, k-d sort, save): %.3f s\n",
           t_build);
    printf("open + load the index (saved copy): %.3f s; index memory %zu bytes = %.1f"
           " bytes/incident (%zu indexed); GEOS STRtree build %.2f s\n",
           t_open, bytes, (double)bytes / (double)nidx, nidx, t_strt);

    printf("\n%-27s %8s | %11s %11s %11s %11s %11s | ratios: alternative / bordertrack\n",
           "query (median ms)", "hits", mname[0], mname[1], mname[2], mname[3], mname[4]);
    double *tm = malloc((size_t)o->reps * sizeof *tm);
    for (int k = 0; k < Q_COUNT; k++) {
        double med[M_COUNT];
        long hits[M_COUNT];
        for (int m = 0; m < M_COUNT; m++) {
            med[m] = NAN;
            hits[m] = -1;
            if ((m == M_SQL_DIST || m == M_SQL_PTDIST) && !o->sql) continue;
            if (m == M_SQL_PTDIST && (k == Q_BOX || k == Q_POLY || k == Q_KNN10)) continue;
            /* the slow baselines get fewer repetitions */
            int reps = m == M_BT || m == M_STRTREE ? o->reps : (o->reps < 5 ? o->reps : 5);
            for (int r = 0; r < reps; r++) {
                struct qspec q;
                make_query(&q, (enum qkind)k, r, b, g);
                double a = now();
                long h;
                switch (m) {
                case M_BT: h = run_bt(s, &q); break;
                case M_SQL_DIST:
                case M_SQL_PTDIST: h = run_sql(db, &q, (enum method)m); break;
                case M_STRTREE: h = run_strtree(&tree, &q); break;
                default: h = run_scan(&d, g, &q, gh); break;
                }
                tm[r] = (now() - a) * 1e3;
                if (r == 0) hits[m] = h;
            }
            med[m] = median(tm, reps);
        }
        printf("%-27s %8ld |", qname[k], hits[M_BT]);
        for (int m = 0; m < M_COUNT; m++) {
            if (isnan(med[m]))
                printf(" %11s", "-");
            else
                printf(" %11.3f", med[m]);
        }
        printf(" |");
        for (int m = 1; m < M_COUNT; m++)
            if (!isnan(med[m])) printf(" %s %.0fx", m == 1 ? "SQL" : m == 2 ? "PtD" : m == 3 ? "STR" : "scan",
                                       med[m] / med[M_BT]);
        /* hit counts of the first repetition must agree (SQL: within its tolerance;
         * the SpatiaLite KNN table is planar, so not compared) */
        for (int m = 1; m < M_COUNT; m++)
            if (hits[m] >= 0 && hits[m] != hits[M_BT] && !(k == Q_KNN10 && m == M_SQL_DIST))
                printf("  [%s: %ld hits]", mname[m], hits[m]);
        printf("\n");
    }
    free(tm);

    /* with distances filled in for every hit */
    {
        double v[64];
        int reps = o->reps < 64 ? o->reps : 64;
        for (int r = 0; r < reps; r++) {
            bt_query f;
            bt_query_init(&f);
            f.area = BT_AREA_CIRCLE;
            f.centre = (bt_lonlat){HYESAN_LON, HYESAN_LAT};
            f.radius_m = 5000.0;
            f.want_distance = 1;
            bt_hit *h;
            size_t nh;
            double a = now();
            bt_incident_query_all(s, &f, &h, &nh);
            v[r] = (now() - a) * 1e3;
            bt_hits_free(h);
        }
        printf("radius 5 km, Hyesan, with every hit's distance: %.3f ms\n", median(v, reps));
        for (int r = 0; r < reps; r++) {
            bt_query f;
            bt_query_init(&f);
            f.area = BT_AREA_CIRCLE;
            f.centre = (bt_lonlat){HYESAN_LON, HYESAN_LAT};
            f.radius_m = 5000.0;
            int64_t total;
            double a = now();
            bt_incident_count(s, &f, &total, NULL);
            v[r] = (now() - a) * 1e3;
        }
        printf("radius 5 km, Hyesan, bt_incident_count: %.3f ms\n", median(v, reps));
        /* k = 1 against GEOSSTRtree_nearest_generic, same points as the k = 10 rows */
        double w[64];
        int mism = 0;
        for (int r = 0; r < reps; r++) {
            struct qspec q;
            make_query(&q, Q_KNN10, r, b, g);
            bt_hit *h = NULL;
            size_t nh = 0;
            double a = now();
            if (bt_incident_nearest(s, q.c, 1, NULL, &h, &nh)) die("nearest", bt_store_errmsg(s));
            v[r] = (now() - a) * 1e3;
            a = now();
            double gd = run_strtree_nn1(&tree, q.c);
            w[r] = (now() - a) * 1e3;
            if (nh != 1 || fabs(h[0].distance_m - gd) > 1e-6) mism++;
            bt_hits_free(h);
        }
        double m1 = median(v, reps), m2 = median(w, reps);
        printf("k = 1 nearest: bordertrack %.4f ms, GEOSSTRtree_nearest_generic + geodesic"
               " %.4f ms: %.1fx%s\n", m1, m2, m2 / m1,
               mism ? " [distances differ]" : "");
        /* k = 10 against ten nearest_generic searches, each excluding those found */
        mism = 0;
        for (int r = 0; r < reps; r++) {
            struct qspec q;
            make_query(&q, Q_KNN10, r, b, g);
            bt_hit *h = NULL;
            size_t nh = 0;
            double a = now();
            if (bt_incident_nearest(s, q.c, 10, NULL, &h, &nh)) die("nearest", bt_store_errmsg(s));
            v[r] = (now() - a) * 1e3;
            double gd[10];
            a = now();
            int ng = run_strtree_nnk(&tree, q.c, 10, gd);
            w[r] = (now() - a) * 1e3;
            if ((size_t)ng != nh) mism++;
            for (size_t j = 0; j < nh && (int)j < ng; j++)
                if (fabs(h[j].distance_m - gd[j]) > 1e-6) mism++;
            bt_hits_free(h);
        }
        m1 = median(v, reps);
        m2 = median(w, reps);
        printf("k = 10 nearest: bordertrack %.4f ms, 10 x GEOSSTRtree_nearest_generic + geodesic"
               " (each excluding those found) %.4f ms: %.1fx%s\n", m1, m2, m2 / m1,
               mism ? " [distances differ]" : "");
    }
    if (db) sqlite3_close(db);
    if (cache) spatialite_cleanup_ex(cache);
    strt_free(&tree);
    GEOS_finish_r(gh);
    bt_store_close(s);

    /* one-shot: a new process opens the store, answers one 5 km query, exits. Ours is
     * bt_oneshot (bench/oneshot.c, the shared library only, as the CLI links it), next
     * to this program; runs alternate, medians of 11. */
    if (o->sql) {
        char lon[32], lat[32], sql[1024], exe[1100];
        snprintf(lon, sizeof lon, "%.6f", HYESAN_LON);
        snprintf(lat, sizeof lat, "%.6f", HYESAN_LAT);
        const char *slash = strrchr(o->self, '/');
        snprintf(exe, sizeof exe, "%.*sbt_oneshot", slash ? (int)(slash - o->self + 1) : 0,
                 o->self);
        bt_bbox bb = circle_box((bt_lonlat){HYESAN_LON, HYESAN_LAT}, 5000.0);
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM incidents WHERE ROWID IN (SELECT ROWID FROM SpatialIndex"
                 " WHERE f_table_name = 'incidents' AND search_frame = BuildMbr(%.9f, %.9f, %.9f,"
                 " %.9f, 4326)) AND PtDistWithin(geom, MakePoint(%s, %s, 4326), 5000);",
                 bb.west, bb.south, bb.east, bb.north, lon, lat);
        char *a1[] = {exe, path, lon, lat, "5000", NULL};
        char *a2[] = {"spatialite", "-bail", path, sql, NULL};
        enum { ONESHOT_REPS = 11 };
        double v1[ONESHOT_REPS], v2[ONESHOT_REPS], c1[ONESHOT_REPS], c2[ONESHOT_REPS];
        for (int r = 0; r < ONESHOT_REPS; r++) {
            v1[r] = spawn_time(a1, &c1[r]) * 1e3;
            v2[r] = spawn_time(a2, &c2[r]) * 1e3;
            c1[r] *= 1e3;
            c2[r] *= 1e3;
        }
        double m1 = median(v1, ONESHOT_REPS), m2 = median(v2, ONESHOT_REPS);
        double k1 = median(c1, ONESHOT_REPS), k2 = median(c2, ONESHOT_REPS);
        printf("one-shot process, radius 5 km: bordertrack %.1f ms, spatialite shell %.1f ms"
               " (ratio %.2fx); CPU time %.1f ms against %.1f ms (ratio %.2fx)\n", m1, m2,
               m2 / m1, k1, k2, k2 / k1);
    }
    data_free(&d);
    if (o->keep) {
        printf("store kept: %s\n", path);
        return;
    }
    unlink(path);
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);
}

int main(int argc, char **argv)
{
    struct opts o = {{10000, 100000, 1000000}, 3, 15, "/tmp",
                     BT_EXAMPLES_DATA_DIR "/borders.geojson", true, argv[0], false};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--long") == 0 && o.nsizes < 8) {
            o.sizes[o.nsizes++] = 10000000;
        } else if (strcmp(argv[i], "--no-sql") == 0) {
            o.sql = false;
        } else if (strcmp(argv[i], "--keep") == 0) {
            o.keep = true;
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            o.reps = atoi(argv[++i]);
            if (o.reps < 1) o.reps = 1;
        } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            o.dir = argv[++i];
        } else if (strcmp(argv[i], "--borders") == 0 && i + 1 < argc) {
            o.borders = argv[++i];
        } else if (strcmp(argv[i], "--sizes") == 0 && i + 1 < argc) {
            o.nsizes = 0;
            for (char *p = argv[++i]; *p && o.nsizes < 7;) {
                o.sizes[o.nsizes++] = (size_t)strtoull(p, &p, 10);
                if (*p == ',') p++;
            }
        } else {
            fprintf(stderr,
                    "usage: %s [--sizes N,N,...] [--long] [--reps N] [--dir DIR] "
                    "[--borders FILE] [--no-sql] [--keep]\n", argv[0]);
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct geod_geodesic g;
    geod_init(&g, 6378137.0, 1.0 / 298.257223563);
    struct border b;
    border_load(o.borders, &b, &g);
    printf("bordertrack %s benchmark; PRK-CHN border %.0f km from %s\n", bt_version(),
           b.total / 1000.0, o.borders);
    for (int i = 0; i < o.nsizes; i++) bench_size(&o, o.sizes[i], &b, &g);
    free(b.lon);
    free(b.lat);
    free(b.cum);
    return 0;
}
