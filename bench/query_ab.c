/**
 * @file query_ab.c
 * @brief bt_query_ab REPS STORE... : A/B of query CPU times on a shared, noisy machine.
 *
 * The stores hold the same incidents and differ in what is measured (e.g. their saved
 * indexes were built with different k-d leaf sizes: docs/PERFORMANCE.md, "Leaf
 * size"). Every repetition runs each query kind on every store, the stores in an order
 * that rotates with the repetition, so that load changes hit all of them alike. Prints
 * the median CPU time of the calling thread per kind and store, its ratio to the first
 * store, and checks that the stores gave the same number of hits. Public API only.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "bordertrack.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_STORES 8
#define KINDS 10
#define HYESAN_LON 128.17778
#define HYESAN_LAT 41.40167
#define T2019 INT64_C(1546300800) /* 2019-01-01, the benchmark's time range */
#define DAYS 2192                 /* to 2025-01-01 */

static const char *const kind_name[KINDS] = {
    "radius 5 km, Hyesan", "radius 25 km, Hyesan", "25 km + 90 days, Hyesan",
    "radius 5 km, incident pts", "radius 25 km, incident pts", "k = 10 nearest",
    "k = 1 nearest", "box 0.2 x 0.1 deg", "count 25 km, incident pts", "polygon 12-gon"};

static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* One query of kind k; *hits gets the number of answers. */
static int run(bt_store *s, int k, bt_lonlat at, int64_t from, double *ms, size_t *hits)
{
    bt_query q;
    bt_query_init(&q);
    q.area = BT_AREA_CIRCLE;
    q.centre = at;
    q.radius_m = (k == 0 || k == 3) ? 5000.0 : 25000.0;
    if (k == 2) {
        q.from = from;
        q.to = from + 90 * 86400 - 1;
    }
    bt_lonlat ring[13];
    if (k == 7) {
        q.area = BT_AREA_BBOX;
        q.box = (bt_bbox){at.lon - 0.1, at.lat - 0.05, at.lon + 0.1, at.lat + 0.05};
    } else if (k == 9) {
        /* 12 vertices alternating 15 and 12 km (in degrees at this latitude), closed */
        for (int i = 0; i <= 12; i++) {
            double a = (double)(i % 12) * 30.0 * 3.14159265358979323846 / 180.0;
            double r = (i % 2 ? 0.8 : 1.0) * 0.135;
            ring[i] = (bt_lonlat){at.lon + r * 1.34 * sin(a), at.lat + r * cos(a)};
        }
        q.area = BT_AREA_POLYGON;
        q.ring = ring;
        q.nring = 13;
    }
    bt_hit *h = NULL;
    size_t n = 0;
    int64_t total = 0;
    int rc;
    double t0 = cpu_ms();
    if (k == 5 || k == 6) {
        rc = bt_incident_nearest(s, at, k == 5 ? 10 : 1, NULL, &h, &n);
    } else if (k == 8) {
        rc = bt_incident_count(s, &q, &total, NULL);
        n = (size_t)total;
    } else {
        rc = bt_incident_query_all(s, &q, &h, &n);
    }
    *ms = cpu_ms() - t0;
    bt_hits_free(h);
    *hits = n;
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc - 2 > MAX_STORES || atoi(argv[1]) < 1) {
        fprintf(stderr, "usage: %s REPS STORE [STORE...] (at most %d stores)\n", argv[0],
                MAX_STORES);
        return 2;
    }
    int reps = atoi(argv[1]), ns = argc - 2;
    bt_store *s[MAX_STORES] = {0};
    for (int j = 0; j < ns; j++) {
        char *err = NULL;
        if (bt_store_open(argv[2 + j], BT_OPEN_READONLY, &s[j], &err) != BT_OK) {
            fprintf(stderr, "%s\n", err ? err : argv[2 + j]);
            bt_string_free(err);
            return 1;
        }
    }
    /* centres at incidents of the first store (they lie within 20 km of the border) */
    uint64_t seed = 12345;
    int64_t nmax = 0;
    bt_counts c;
    if (bt_store_count(s[0], &c) != BT_OK || c.incidents == 0) {
        fprintf(stderr, "%s: no incidents\n", argv[2]);
        return 1;
    }
    nmax = (int64_t)c.incidents;
    bt_lonlat pts[64];
    for (int i = 0; i < 64; i++) {
        bt_incident *inc = NULL;
        int64_t id = 1 + (int64_t)(rnd(&seed) % (uint64_t)nmax);
        if (bt_incident_get(s[0], id, &inc) != BT_OK) {
            fprintf(stderr, "incident %lld: %s\n", (long long)id, bt_store_errmsg(s[0]));
            return 1;
        }
        pts[i] = inc->where;
        bt_incident_free(inc);
    }
    double *t = malloc(sizeof *t * (size_t)KINDS * (size_t)ns * (size_t)reps);
    size_t hits[KINDS][MAX_STORES] = {{0}};
    if (!t) return 1;
    for (int r = 0; r < reps; r++) {
        for (int k = 0; k < KINDS; k++) {
            bt_lonlat at = k < 3 ? (bt_lonlat){HYESAN_LON, HYESAN_LAT} : pts[r % 64];
            int64_t from = T2019 + (int64_t)(rnd(&seed) % (DAYS - 90)) * 86400;
            for (int jj = 0; jj < ns; jj++) {
                int j = (jj + r) % ns;
                size_t n = 0;
                double *ms = &t[((size_t)k * (size_t)ns + (size_t)j) * (size_t)reps + (size_t)r];
                if (run(s[j], k, at, from, ms, &n) != BT_OK) {
                    fprintf(stderr, "%s: %s\n", kind_name[k], bt_store_errmsg(s[j]));
                    return 1;
                }
                hits[k][j] += n;
            }
        }
    }
    printf("CPU-time medians, ms (ratio to the first store), %d repetitions\n", reps);
    int bad = 0;
    for (int k = 0; k < KINDS; k++) {
        printf("%-27s", kind_name[k]);
        double m0 = 0.0;
        int differ = 0;
        for (int j = 0; j < ns; j++) {
            double *v = &t[((size_t)k * (size_t)ns + (size_t)j) * (size_t)reps];
            qsort(v, (size_t)reps, sizeof *v, cmp_double);
            double m = v[reps / 2];
            if (j == 0) m0 = m;
            printf(" %9.4f (%.2f)", m, m / m0);
            if (hits[k][j] != hits[k][0]) differ = 1;
        }
        printf("%s\n", differ ? "  HITS DIFFER" : "");
        bad |= differ;
    }
    free(t);
    for (int j = 0; j < ns; j++) bt_store_close(s[j]);
    return bad;
}
