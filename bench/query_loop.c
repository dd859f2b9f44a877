/**
 * @file query_loop.c
 * @brief bt_query_loop KIND N STORE : the fixed cost of a query and the k nearest in a
 * tight loop. KIND: empty (bt_incident_count of a box holding nothing: what every
 * query pays before its work), k10 or k1 (bt_incident_nearest at incidents of the
 * store). Prints wall and thread-CPU microseconds per query. Run it against the builds
 * to compare with LD_LIBRARY_PATH, alternating (docs/PERFORMANCE.md, "Fixed cost").
 * Public API only.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "bordertrack.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double usec(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
    if (argc != 4 || atol(argv[2]) < 1 ||
        (strcmp(argv[1], "empty") && strcmp(argv[1], "k10") && strcmp(argv[1], "k1"))) {
        fprintf(stderr, "usage: %s empty|k10|k1 N STORE\n", argv[0]);
        return 2;
    }
    const char *kind = argv[1];
    long n = atol(argv[2]);
    size_t k = strcmp(kind, "k10") == 0 ? 10 : 1;
    bt_store *s = NULL;
    char *err = NULL;
    if (bt_store_open(argv[3], BT_OPEN_READONLY, &s, &err) != BT_OK) {
        fprintf(stderr, "%s\n", err ? err : argv[3]);
        bt_string_free(err);
        return 1;
    }
    /* query points at incidents, as bench/query_ab.c picks them */
    bt_counts c;
    if (bt_store_count(s, &c) != BT_OK || c.incidents == 0) {
        fprintf(stderr, "%s: no incidents\n", argv[3]);
        return 1;
    }
    bt_lonlat pts[64];
    uint64_t seed = 12345;
    for (int i = 0; i < 64; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        bt_incident *inc = NULL;
        if (bt_incident_get(s, 1 + (int64_t)(seed % (uint64_t)c.incidents), &inc) != BT_OK) {
            fprintf(stderr, "%s\n", bt_store_errmsg(s));
            return 1;
        }
        pts[i] = inc->where;
        bt_incident_free(inc);
    }
    bt_query q;
    bt_query_init(&q);
    q.area = BT_AREA_BBOX;
    q.box = (bt_bbox){0.0, 0.0, 0.0001, 0.0001}; /* no incident there */
    bt_hit *h = NULL;
    size_t nh = 0, sum = 0;
    for (int i = 0; i < 3; i++) { /* the index is built or loaded here */
        if (bt_incident_nearest(s, pts[0], 10, NULL, &h, &nh) != BT_OK) return 1;
        bt_hits_free(h);
    }
    double w0 = usec(CLOCK_MONOTONIC), c0 = usec(CLOCK_THREAD_CPUTIME_ID);
    for (long i = 0; i < n; i++) {
        int rc;
        if (kind[0] == 'e') {
            int64_t total = 0;
            rc = bt_incident_count(s, &q, &total, NULL);
            sum += (size_t)total;
        } else {
            rc = bt_incident_nearest(s, pts[i & 63], k, NULL, &h, &nh);
            sum += nh;
            bt_hits_free(h);
        }
        if (rc != BT_OK) {
            fprintf(stderr, "%s\n", bt_store_errmsg(s));
            return 1;
        }
    }
    double w = usec(CLOCK_MONOTONIC) - w0, cpu = usec(CLOCK_THREAD_CPUTIME_ID) - c0;
    printf("%s: %.2f us wall, %.2f us CPU per query (%zu hits in all)\n", kind, w / (double)n,
           cpu / (double)n, sum);
    bt_store_close(s);
    return 0;
}
