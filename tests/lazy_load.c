/**
 * @file lazy_load.c
 * @brief PROJ and GEOS are loaded only when a query needs them (lib/core/deps.c,
 * docs/PERFORMANCE.md, "One-shot"). Linked to the shared library only, as bench/oneshot.c
 * is, so that whether libproj, libgeos_c and libspatialite are in the process depends
 * on the library alone; dlopen(soname, RTLD_NOLOAD) tells.
 *
 * Each step runs in a new process (fork), so that each starts with none of them
 * loaded: the store is written and the expected answers computed (with
 * bt_geod_distance(), which loads PROJ) in one child; then one child per query:
 *   - a 5 km count: exact, and neither PROJ nor GEOS (nor SpatiaLite) loaded;
 *   - a count whose radius is the distance of one incident (it lies on the edge, in
 *     the band where only an exact geodesic decides): exact, PROJ loaded, GEOS not;
 *   - a polygon count: exact (a lon/lat box, counted here by comparisons), GEOS
 *     loaded, PROJ not;
 *   - the 7 nearest incidents: exact ids and distances, PROJ loaded, GEOS not.
 * Registered with ctest as lazy_load.
 */
#define _DEFAULT_SOURCE
#include "bordertrack.h"

#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "store_fixture.h"
#include "test_rng.h"

#define N_INC 3000
#define C_LON FX_HYESAN_LON
#define C_LAT FX_HYESAN_LAT
#define R_M 5000.0
#define K_NN 7
/* the polygon: a lon/lat box around the centre */
#define P_W (C_LON - 0.05)
#define P_E (C_LON + 0.03)
#define P_S (C_LAT - 0.02)
#define P_N (C_LAT + 0.04)

/* What the writer child computed, handed to the query children through a file. */
struct expect {
    int64_t in_5km;        /* incidents within R_M of the centre */
    double r_edge;         /* the distance of one incident between 4 and 6 km */
    int64_t in_edge;       /* incidents within r_edge (that one included) */
    int64_t in_poly;       /* incidents strictly inside the box */
    int64_t nn_id[K_NN];   /* the K_NN nearest to the centre, nearest first */
    double nn_d[K_NN];
};

static char store_path[512], expect_path[512];

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
            exit(1);                                                                      \
        }                                                                                 \
    } while (0)

static bool loaded(const char *soname)
{
    void *h = dlopen(soname, RTLD_LAZY | RTLD_NOLOAD);
    if (h) dlclose(h);
    return h != NULL;
}

/* Child: writes the store and the expected answers. */
static void write_store(void)
{
    static double lon[N_INC], lat[N_INC], d[N_INC];
    static int64_t id[N_INC];
    bt_store *s = NULL;
    CHECK(bt_store_open(store_path, BT_OPEN_READWRITE | BT_OPEN_CREATE, &s, NULL) == BT_OK);
    CHECK(bt_store_begin(s) == BT_OK);
    uint64_t seed = 7;
    char ref[32];
    for (int i = 0; i < N_INC; i++) {
        snprintf(ref, sizeof ref, "LZ-%d", i);
        /* a 16 km square around the centre: a 5 km circle holds about a quarter */
        lon[i] = C_LON + splitmix_unif(&seed, -0.1, 0.1);
        lat[i] = C_LAT + splitmix_unif(&seed, -0.075, 0.075);
        bt_incident inc = fx_incident(ref, lon[i], lat[i]);
        inc.uncertainty_m = 0.0;
        CHECK(bt_incident_add(s, &inc, &id[i]) == BT_OK);
    }
    CHECK(bt_store_commit(s) == BT_OK);
    CHECK(bt_store_close(s) == BT_OK);

    struct expect e = {0};
    int edge = -1;
    for (int i = 0; i < N_INC; i++) {
        CHECK(bt_geod_distance((bt_lonlat){C_LON, C_LAT}, (bt_lonlat){lon[i], lat[i]}, &d[i]) ==
              BT_OK);
        if (d[i] <= R_M) e.in_5km++;
        if (edge < 0 && d[i] > 4000.0 && d[i] < 6000.0) edge = i;
        /* strictly inside (no random point lies on the box's sides) */
        if (lon[i] > P_W && lon[i] < P_E && lat[i] > P_S && lat[i] < P_N) e.in_poly++;
    }
    CHECK(edge >= 0);
    e.r_edge = d[edge];
    for (int i = 0; i < N_INC; i++)
        if (d[i] <= e.r_edge) e.in_edge++;
    /* the K_NN nearest, by selection (distances of random points do not tie) */
    for (int k = 0; k < K_NN; k++) {
        int best = -1;
        for (int i = 0; i < N_INC; i++) {
            bool taken = false;
            for (int j = 0; j < k; j++) taken = taken || e.nn_id[j] == id[i];
            if (!taken && (best < 0 || d[i] < d[best])) best = i;
        }
        e.nn_id[k] = id[best];
        e.nn_d[k] = d[best];
    }
    FILE *f = fopen(expect_path, "wb");
    CHECK(f && fwrite(&e, sizeof e, 1, f) == 1 && fclose(f) == 0);
}

static struct expect read_expect(void)
{
    struct expect e;
    FILE *f = fopen(expect_path, "rb");
    CHECK(f && fread(&e, sizeof e, 1, f) == 1);
    fclose(f);
    return e;
}

static bt_store *open_ro(void)
{
    bt_store *s = NULL;
    CHECK(bt_store_open(store_path, BT_OPEN_READONLY, &s, NULL) == BT_OK);
    return s;
}

static int64_t circle_count(bt_store *s, double r)
{
    bt_query q;
    bt_query_init(&q);
    q.area = BT_AREA_CIRCLE;
    q.centre = (bt_lonlat){C_LON, C_LAT};
    q.radius_m = r;
    int64_t n = -1;
    int rc = bt_incident_count(s, &q, &n, NULL);
    if (rc) fprintf(stderr, "count: %s\n", bt_store_errmsg(s));
    CHECK(rc == BT_OK);
    return n;
}

/* The one-shot case: needs neither library. */
static void oneshot_count(void)
{
    struct expect e = read_expect();
    CHECK(!loaded(BT_PROJ_SONAME) && !loaded(BT_GEOS_SONAME));
    bt_store *s = open_ro();
    int64_t n = circle_count(s, R_M);
    CHECK(!loaded(BT_PROJ_SONAME));
    CHECK(!loaded(BT_GEOS_SONAME));
    CHECK(!loaded(BT_SPATIALITE_SONAME));
    CHECK(n == e.in_5km);
    CHECK(n > 500); /* the circle holds about a quarter of the square */
    CHECK(bt_store_close(s) == BT_OK);
    /* a store-less function loads PROJ itself */
    double d = 0.0;
    CHECK(bt_geod_distance((bt_lonlat){C_LON, C_LAT}, (bt_lonlat){C_LON, C_LAT + 0.01}, &d) ==
          BT_OK);
    CHECK(loaded(BT_PROJ_SONAME));
    /* 0.01 deg of latitude at 41.4 N: M * 0.01 deg, M = a(1-e2)/(1-e2 sin^2)^1.5 at the
     * middle latitude: 1110.6178 m (within 1 mm: M varies little over 1 km) */
    CHECK(fabs(d - 1110.6178) < 1e-3);
    CHECK(!loaded(BT_GEOS_SONAME));
}

/* An incident exactly on the edge: the chord bounds cannot decide it. */
static void edge_count(void)
{
    struct expect e = read_expect();
    bt_store *s = open_ro();
    CHECK(!loaded(BT_PROJ_SONAME));
    int64_t n = circle_count(s, e.r_edge);
    CHECK(n == e.in_edge);
    CHECK(loaded(BT_PROJ_SONAME));
    CHECK(!loaded(BT_GEOS_SONAME));
    CHECK(bt_store_close(s) == BT_OK);
}

static void polygon_count(void)
{
    struct expect e = read_expect();
    bt_store *s = open_ro();
    char wkt[256];
    snprintf(wkt, sizeof wkt, "POLYGON((%.9f %.9f, %.9f %.9f, %.9f %.9f, %.9f %.9f, %.9f %.9f))",
             P_W, P_S, P_E, P_S, P_E, P_N, P_W, P_N, P_W, P_S);
    bt_query q;
    bt_query_init(&q);
    q.area = BT_AREA_POLYGON;
    q.wkt = wkt;
    int64_t n = -1;
    CHECK(!loaded(BT_GEOS_SONAME));
    CHECK(bt_incident_count(s, &q, &n, NULL) == BT_OK);
    CHECK(loaded(BT_GEOS_SONAME));
    CHECK(!loaded(BT_PROJ_SONAME));
    CHECK(n == e.in_poly);
    CHECK(n > 100);
    CHECK(bt_store_close(s) == BT_OK);
}

static void nearest(void)
{
    struct expect e = read_expect();
    bt_store *s = open_ro();
    bt_hit *h = NULL;
    size_t n = 0;
    CHECK(!loaded(BT_PROJ_SONAME));
    CHECK(bt_incident_nearest(s, (bt_lonlat){C_LON, C_LAT}, K_NN, NULL, &h, &n) == BT_OK);
    CHECK(loaded(BT_PROJ_SONAME));
    CHECK(!loaded(BT_GEOS_SONAME));
    CHECK(n == K_NN);
    for (size_t i = 0; i < n; i++) {
        CHECK(h[i].id == e.nn_id[i]);
        CHECK(fabs(h[i].distance_m - e.nn_d[i]) <= 1e-9);
    }
    bt_hits_free(h);
    CHECK(bt_store_close(s) == BT_OK);
}

/* Runs fn in a new process; true if it exited with 0. */
static bool in_child(const char *name, void (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        fn();
        fflush(NULL);
        _exit(0);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid) return false;
    bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    printf("%s %s\n", ok ? "ok" : "FAILED", name);
    return ok;
}

int main(void)
{
    fx_dir dir;
    if (fx_dir_make(&dir) != 0) return 1;
    fx_file(&dir, "lazy.sqlite", store_path, sizeof store_path);
    fx_file(&dir, "expect.bin", expect_path, sizeof expect_path);
    bool ok = in_child("write the store and the expected answers", write_store);
    if (ok) {
        ok &= in_child("5 km count: exact, no PROJ, GEOS or SpatiaLite loaded", oneshot_count);
        ok &= in_child("count with an incident on the edge: exact, PROJ loaded", edge_count);
        ok &= in_child("polygon count: exact, GEOS loaded, PROJ not", polygon_count);
        ok &= in_child("7 nearest: exact, PROJ loaded, GEOS not", nearest);
    }
    /* this process itself never loaded them */
    if (loaded(BT_PROJ_SONAME) || loaded(BT_GEOS_SONAME)) {
        printf("FAILED the test process has PROJ or GEOS loaded\n");
        ok = false;
    }
    fx_dir_remove(&dir);
    return ok ? 0 : 1;
}
