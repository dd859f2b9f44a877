/**
 * @file test_line.h
 * @brief The hand-built test border shared by the analysis tests: a geodesic due east
 * from START (128.0 E, 41.4 N), placed with geod_direct so that chainages and offsets
 * are known exactly. Each test's main() calls geod_init(&G, 6378137, 1/298.257223563).
 */
#ifndef BT_TEST_LINE_H
#define BT_TEST_LINE_H

#include <bordertrack.h>
#include <geodesic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "store_fixture.h"

static struct geod_geodesic G;
static const bt_lonlat START = {128.0, 41.4};

/* The point d metres from a along azimuth azi. */
static bt_lonlat along(bt_lonlat a, double azi, double d)
{
    bt_lonlat r;
    geod_direct(&G, a.lat, a.lon, azi, d, &r.lat, &r.lon, NULL);
    return r;
}

/* The point at chainage c of the test border, off metres to its left (north); off < 0
 * to its right (south). */
static bt_lonlat at(double c, double off)
{
    double lat, lon, azi2;
    geod_direct(&G, START.lat, START.lon, 90.0, c, &lat, &lon, &azi2);
    bt_lonlat on = {lon, lat};
    if (off == 0.0) return on;
    return off > 0 ? along(on, azi2 - 90.0, off) : along(on, azi2 + 90.0, -off);
}

/* Adds the 10 km test border "T" (one segment, vertices every 500 m) and, elsewhere, a
 * short border "U" whose segment must never be mixed into T's figures. */
static inline int add_test_borders(bt_store *s)
{
    bt_lonlat pts[21];
    for (int i = 0; i <= 20; i++) pts[i] = at(500.0 * i, 0.0);
    bt_segment seg = {0, "T", "line", 0, BT_SEGMENT_LAND, NULL, pts, 21};
    if (bt_segment_add(s, &seg, NULL) != BT_OK) return -1;
    bt_lonlat other[2] = {{127.0, 40.0}, {127.1, 40.0}};
    bt_segment oseg = {0, "U", "x", 0, BT_SEGMENT_LAND, NULL, other, 2};
    return bt_segment_add(s, &oseg, NULL) == BT_OK ? 0 : -1;
}

/* Adds border "T" as the 10 km river line of the stored-chainage and profile tests
 * (one segment, vertices every 1 km). */
static inline int add_river_line(bt_store *s)
{
    bt_lonlat pts[11];
    for (int i = 0; i <= 10; i++) pts[i] = at(1000.0 * i, 0.0);
    bt_segment seg = {0, "T", "line", 0, BT_SEGMENT_RIVER, "Yalu", pts, 11};
    return bt_segment_add(s, &seg, NULL) == BT_OK ? 0 : -1;
}

/* The cmocka fixture of the analysis tests: a new store (file `name` in a scratch
 * directory, its path in path) holding what fill() adds, and border "T" open in b
 * when open_b (else b is NULL). G must be initialised first. */
struct line_fx {
    fx_dir dir;
    char path[512];
    bt_store *s;
    bt_border *b;
};

static inline int line_fx_setup(void **state, const char *name, int (*fill)(bt_store *),
                                bool open_b)
{
    struct line_fx *f = calloc(1, sizeof *f);
    *state = f;
    if (!f || fx_dir_make(&f->dir) != 0) return -1;
    if (bt_store_open(fx_file(&f->dir, name, f->path, sizeof f->path),
                      BT_OPEN_READWRITE | BT_OPEN_CREATE, &f->s, NULL) != BT_OK)
        return -1;
    if (fill(f->s) != 0) return -1;
    if (open_b && bt_border_open(f->s, "T", NULL, &f->b) != BT_OK) return -1;
    return 0;
}

static inline int line_fx_teardown(void **state)
{
    struct line_fx *f = *state;
    bt_border_free(f->b);
    if (f->s) bt_store_close(f->s);
    fx_dir_remove(&f->dir);
    free(f);
    return 0;
}

#endif
