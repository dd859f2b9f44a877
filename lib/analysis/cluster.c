/**
 * @file cluster.c
 * @brief Space-time DBSCAN with a geodesic distance and a time window.
 *
 * Neighbours are found through a lon/lat grid whose cells are at least eps wide at
 * every latitude of the data, so a point's neighbours lie in its own and the eight
 * surrounding cells; the points are sorted by cell and each cell found by binary
 * search. Cost O(n log n + n k) for k candidates per point.
 */
#include "analysis_internal.h"

#include <math.h>
#include <stdlib.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

struct keyed {
    uint64_t key;
    size_t idx;
};

static int keyed_cmp(const void *pa, const void *pb)
{
    const struct keyed *a = pa, *b = pb;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return a->idx < b->idx ? -1 : (a->idx > b->idx);
}

struct grid {
    struct keyed *k;
    size_t n;
    double lon0, lat0, cw, ch;
};

static uint64_t make_key(long cx, long cy)
{
    return ((uint64_t)(uint32_t)cy << 32) | (uint64_t)(uint32_t)cx;
}

/* First position in the sorted array with key >= key. */
static size_t lower(const struct grid *gr, uint64_t key)
{
    size_t lo = 0, hi = gr->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (gr->k[mid].key < key) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* Writes the neighbours of point i (including i) to nb; returns their count, or
 * SIZE_MAX on out-of-memory. */
static size_t neighbours(const struct geod_geodesic *g, const struct grid *gr,
                         const bt_lonlat *p, const int64_t *t, size_t i, double eps,
                         int64_t window, size_t **nb, size_t *cap)
{
    size_t cnt = 0;
    long cx = (long)floor((p[i].lon - gr->lon0) / gr->cw);
    long cy = (long)floor((p[i].lat - gr->lat0) / gr->ch);
    for (long dy = -1; dy <= 1; dy++) {
        for (long dx = -1; dx <= 1; dx++) {
            if (cx + dx < 0 || cy + dy < 0) continue;
            uint64_t key = make_key(cx + dx, cy + dy);
            for (size_t q = lower(gr, key); q < gr->n && gr->k[q].key == key; q++) {
                size_t j = gr->k[q].idx;
                /* unsigned: the difference of two int64 always fits */
                uint64_t dt = t[i] >= t[j] ? (uint64_t)t[i] - (uint64_t)t[j]
                                           : (uint64_t)t[j] - (uint64_t)t[i];
                if (dt > (uint64_t)window) continue;
                double s12 = 0.0;
                if (j != i) geod_inverse(g, p[i].lat, p[i].lon, p[j].lat, p[j].lon, &s12, NULL, NULL);
                if (s12 > eps) continue;
                if (cnt == *cap) {
                    size_t nc = *cap ? 2 * *cap : 64;
                    size_t *v = bt__realloc(*nb, nc * sizeof *v);
                    if (!v) return SIZE_MAX;
                    *nb = v;
                    *cap = nc;
                }
                (*nb)[cnt++] = j;
            }
        }
    }
    return cnt;
}

long bt__dbscan(const struct geod_geodesic *g, const bt_lonlat *p, const int64_t *t,
                size_t n, double eps_m, int64_t window_s, size_t min_pts, long *label)
{
    if (n == 0) return 0;
    struct grid gr = {0};
    double maxabs = 0.0, minlon = INFINITY, minlat = INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (fabs(p[i].lat) > maxabs) maxabs = fabs(p[i].lat);
        if (p[i].lon < minlon) minlon = p[i].lon;
        if (p[i].lat < minlat) minlat = p[i].lat;
    }
    if (maxabs > 89.0) maxabs = 89.0;
    /* cells at least eps wide: 110574 m per degree of latitude at least (equator),
     * 111319 cos(lat) per degree of longitude at most poleward latitude */
    gr.ch = eps_m / 110574.0 * 1.001 + 1e-9;
    gr.cw = eps_m / (111319.5 * cos(maxabs * M_PI / 180.0)) * 1.001 + 1e-9;
    gr.lon0 = minlon - gr.cw;
    gr.lat0 = minlat - gr.ch;
    gr.n = n;
    gr.k = bt__malloc(n * sizeof *gr.k);
    long *cl = label;
    unsigned char *visited = bt__calloc(n, 1);
    size_t *queue = bt__malloc(n * sizeof *queue);
    unsigned char *queued = bt__calloc(n, 1);
    size_t *nb = NULL, nbcap = 0;
    long nclusters = -1;
    if (!gr.k || !visited || !queue || !queued) goto done;
    for (size_t i = 0; i < n; i++) {
        long cx = (long)floor((p[i].lon - gr.lon0) / gr.cw);
        long cy = (long)floor((p[i].lat - gr.lat0) / gr.ch);
        gr.k[i].key = make_key(cx, cy);
        gr.k[i].idx = i;
        cl[i] = 0;
    }
    qsort(gr.k, n, sizeof *gr.k, keyed_cmp);

    long c = 0;
    for (size_t i = 0; i < n; i++) {
        if (visited[i]) continue;
        visited[i] = 1;
        size_t m = neighbours(g, &gr, p, t, i, eps_m, window_s, &nb, &nbcap);
        if (m == SIZE_MAX) goto done;
        if (m < min_pts) continue; /* noise unless a cluster reaches it later */
        c++;
        cl[i] = c;
        size_t qh = 0, qt = 0;
        for (size_t q = 0; q < m; q++)
            if (!queued[nb[q]] && nb[q] != i) { queued[nb[q]] = 1; queue[qt++] = nb[q]; }
        while (qh < qt) {
            size_t j = queue[qh++];
            if (cl[j] == 0) cl[j] = c;
            if (visited[j]) continue;
            visited[j] = 1;
            size_t mj = neighbours(g, &gr, p, t, j, eps_m, window_s, &nb, &nbcap);
            if (mj == SIZE_MAX) goto done;
            if (mj < min_pts) continue; /* a border point: does not expand */
            for (size_t q = 0; q < mj; q++) {
                size_t k = nb[q];
                if (!queued[k] && k != i) { queued[k] = 1; queue[qt++] = k; }
            }
        }
        /* the queue marks are per cluster */
        for (size_t q = 0; q < qt; q++) queued[queue[q]] = 0;
    }
    /* renumber clusters by their first member */
    {
        long *map = bt__calloc((size_t)c + 1, sizeof *map);
        if (!map) goto done;
        long next = 0;
        for (size_t i = 0; i < n; i++)
            if (cl[i] > 0 && map[cl[i]] == 0) map[cl[i]] = ++next;
        for (size_t i = 0; i < n; i++)
            if (cl[i] > 0) cl[i] = map[cl[i]];
        bt__free(map);
    }
    nclusters = c;
done:
    bt__free(gr.k);
    bt__free(visited);
    bt__free(queue);
    bt__free(queued);
    bt__free(nb);
    return nclusters;
}
