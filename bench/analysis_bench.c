/**
 * @file analysis_bench.c
 * @brief Measures the border analysis on the real PRK-CHN border: building the
 * chainage, locating 1,000,000 points within 20 km of the line (the core of
 * bt_border_profile), coverage of 10,000 fence pieces (the core of
 * bt_border_coverage), and the same two through a store (bt_border_coverage with
 * 10,000 fences; bt_border_profile with N incidents computed on the fly - the border
 * opened with its origin given, which stored chainage does not serve - then from the
 * stored chainage: the first call computes it, the next ones read it; and
 * bt_incidents_by_chainage over a 10 km range).
 * Usage: analysis_bench <borders.geojson> <scratch dir> [N incidents for the store, 200000]
 */
#define _POSIX_C_SOURCE 200809L
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/analysis_internal.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); /* CPU time: the machine is shared */
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t rng = 1;
static double uni(void)
{
    rng = rng * 6364136223846793005u + 1442695040888963407u;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static int count_cb(const bt_chainage_hit *h, void *udata)
{
    (void)h;
    (*(size_t *)udata)++;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s borders.geojson scratch-dir [N]\n", argv[0]);
        return 2;
    }
    size_t nstore = argc > 3 ? (size_t)atol(argv[3]) : 200000;
    json_object *root = json_object_from_file(argv[1]);
    if (!root) return 1;
    json_object *feats = json_object_object_get(root, "features");
    struct bt__part_in *in = NULL;
    size_t n = 0;
    for (size_t f = 0; f < json_object_array_length(feats); f++) {
        json_object *ft = json_object_array_get_idx(feats, f);
        const char *name = json_object_get_string(
            json_object_object_get(json_object_object_get(ft, "properties"), "name"));
        if (strcmp(name, "PRK-CHN") != 0) continue;
        json_object *co = json_object_object_get(json_object_object_get(ft, "geometry"), "coordinates");
        n = json_object_array_length(co);
        in = calloc(n, sizeof *in);
        for (size_t i = 0; i < n; i++) {
            json_object *l = json_object_array_get_idx(co, i);
            size_t nv = json_object_array_length(l);
            bt_lonlat *p = malloc(nv * sizeof *p);
            for (size_t k = 0; k < nv; k++) {
                json_object *c = json_object_array_get_idx(l, k);
                p[k].lon = json_object_get_double(json_object_array_get_idx(c, 0));
                p[k].lat = json_object_get_double(json_object_array_get_idx(c, 1));
            }
            in[i] = (struct bt__part_in){(int64_t)i + 1, (int)i, p, nv};
        }
    }
    bt_border *b;
    double t0 = now();
    if (bt__border_build(NULL, "PRK-CHN", in, n, NULL, &b) != BT_OK) return 1;
    double t1 = now();
    printf("build chainage: %.1f ms (%zu parts, %zu edges)\n", (t1 - t0) * 1e3, n, b->nedges);

    size_t N = 1000000;
    bt_lonlat *pts = malloc(N * sizeof *pts);
    for (size_t i = 0; i < N; i++) {
        bt_lonlat c = bt__border_point_at(b, uni() * b->length_m);
        double az = 360.0 * uni(), d = 20000.0 * uni();
        geod_direct(&b->g, c.lat, c.lon, az, d, &pts[i].lat, &pts[i].lon, NULL);
    }
    double *ch = malloc(N * sizeof *ch);
    unsigned char *fd = malloc(N);
    t0 = now();
    bt__border_locate_many(b, pts, N, 20000.0, ch, fd);
    t1 = now();
    printf("locate 1,000,000 points within 20 km (profile core): %.3f s\n", t1 - t0);

    struct bt__ivec iv = {0};
    bt_lonlat (*fences)[10] = malloc(10000 * sizeof *fences);
    for (int k = 0; k < 10000; k++) {
        double c0 = (double)k / 10000.0 * b->length_m;
        for (int j = 0; j < 10; j++) {
            bt_lonlat c = bt__border_point_at(b, c0 + 15.0 * j);
            geod_direct(&b->g, c.lat, c.lon, 0.0, 50.0, &fences[k][j].lat, &fences[k][j].lon, NULL);
        }
    }
    t0 = now();
    for (int k = 0; k < 10000; k++) bt__cover_polyline(b, fences[k], 10, 500.0, 25.0, &iv);
    t1 = now();
    printf("cover 10,000 fence pieces (coverage core): %.3f s\n", t1 - t0);

    /* through a store */
    char path[512];
    snprintf(path, sizeof path, "%s/analysis_bench.sqlite", argv[2]);
    remove(path);
    bt_store *s = NULL;
    if (bt_store_open(path, BT_OPEN_READWRITE | BT_OPEN_CREATE, &s, NULL) != BT_OK) return 1;
    double tl0 = now();
    bt_store_begin(s);
    for (size_t i = 0; i < n; i++) {
        char nm[32];
        snprintf(nm, sizeof nm, "part-%zu", i);
        bt_segment seg = {0, "PRK-CHN", nm, (int)i, BT_SEGMENT_RIVER, NULL, in[i].pts, in[i].n};
        bt_segment_add(s, &seg, NULL);
    }
    for (int k = 0; k < 10000; k++) {
        bt_installation inst;
        bt_installation_init(&inst);
        inst.points = fences[k];
        inst.npoints = 10;
        bt_installation_add(s, &inst, NULL);
    }
    for (size_t i = 0; i < nstore; i++) {
        bt_incident inc;
        bt_incident_init(&inc);
        char ref[32];
        snprintf(ref, sizeof ref, "B-%zu", i);
        inc.ref = ref;
        inc.where = pts[i];
        inc.start = 1577836800 + (int64_t)(uni() * 1.8e8);
        inc.end = inc.start + 86399;
        inc.type = (bt_incident_type)(i % BT_INCIDENT_TYPE_COUNT);
        bt_incident_add(s, &inc, NULL);
    }
    bt_store_commit(s);
    printf("store: load (segments, 10,000 fences, %zu incidents): %.3f s\n", nstore, now() - tl0);
    bt_border *sb = NULL;
    t0 = now();
    bt_border_open(s, "PRK-CHN", NULL, &sb);
    t1 = now();
    printf("store: bt_border_open: %.3f s\n", t1 - t0);
    bt_coverage_opts o;
    bt_coverage_opts_init(&o);
    o.min_gap_m = 1e9; /* no gap to describe: coverage alone */
    bt_coverage *c = NULL;
    t0 = now();
    bt_border_coverage(s, sb, &o, &c);
    t1 = now();
    printf("store: bt_border_coverage, 10,000 fences: %.3f s (covered %.1f km)\n", t1 - t0,
           c ? c->covered_m / 1e3 : -1.0);
    bt_coverage_free(c);
    bt_profile *p = NULL;
    {
        /* on the fly: the same chain opened with its origin given (stored values are
         * for the default origin only) */
        bt_border_info bi;
        bt_border_info_get(sb, &bi);
        bt_border *fb = NULL;
        bt_border_open(s, "PRK-CHN", &bi.origin, &fb);
        t0 = now();
        bt_border_profile(s, fb, NULL, &p);
        t1 = now();
        printf("store: bt_border_profile on the fly, %zu incidents: %.3f s (%zu counted)\n",
               nstore, t1 - t0, p ? p->total : 0);
        bt_profile_free(p);
        bt_border_free(fb);
    }
    for (int rep = 0; rep < 3; rep++) {
        t0 = now();
        int prc = bt_border_profile(s, sb, NULL, &p);
        t1 = now();
        printf("store: bt_border_profile stored%s, %zu incidents: %.3f s (%zu counted, rc %d)\n",
               rep == 0 ? " (first: computes the stored chainage)" : "", nstore, t1 - t0,
               p ? p->total : 0, prc);
        bt_profile_free(p);
    }
    {
        size_t cnt = 0;
        t0 = now();
        bt_incidents_by_chainage(s, sb, 800000.0, 810000.0, 20000.0, count_cb, &cnt);
        t1 = now();
        printf("store: bt_incidents_by_chainage 10 km: %.6f s (%zu incidents)\n", t1 - t0, cnt);
    }
    bt_border_free(sb);
    bt_store_close(s);
    remove(path);
    bt_border_free(b);
    return 0;
}
