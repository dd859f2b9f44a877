/**
 * @file store_fixture.h
 * @brief Temporary directories and sample records shared by the store tests
 * (test_store.c, test_records.c, test_within.c, test_ogrinfo.c). Header-only: each
 * test executable gets its own copy.
 */
#ifndef BT_STORE_FIXTURE_H
#define BT_STORE_FIXTURE_H

#include "bordertrack.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/** A scratch directory made with mkdtemp() and removed with its files. */
typedef struct fx_dir {
    char path[256];
} fx_dir;

static inline int fx_dir_make(fx_dir *d)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(d->path, sizeof d->path, "%s/bt_store_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(d->path) ? 0 : -1;
}

/** Removes the files of the directory (it holds no sub-directories) and the directory. */
static inline void fx_dir_remove(fx_dir *d)
{
    DIR *dir = opendir(d->path);
    if (dir) {
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char p[512];
            snprintf(p, sizeof p, "%s/%s", d->path, e->d_name);
            unlink(p);
        }
        closedir(dir);
    }
    rmdir(d->path);
}

/** Builds "<dir>/<name>" into a static-size buffer owned by the caller. */
static inline const char *fx_file(const fx_dir *d, const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", d->path, name);
    return buf;
}

/** 2020-07-01T00:00:00Z and friends, checked with `date -ud ... +%s`. */
#define FX_T_2020_01_01 INT64_C(1577836800)
#define FX_T_2020_07_01 INT64_C(1593561600)
#define FX_T_2020_07_29 INT64_C(1595980800)
#define FX_T_2020_07_29_140500 INT64_C(1596031500)
#define FX_T_2021_03_15 INT64_C(1615766400)
#define FX_T_2022_06_01 INT64_C(1654041600)

/** Hyesan, the centre of the query tests. */
#define FX_HYESAN_LON 128.17778
#define FX_HYESAN_LAT 41.40167

/** A valid incident with every field set to something other than its default. */
static inline bt_incident fx_incident(const char *ref, double lon, double lat)
{
    bt_incident inc;
    bt_incident_init(&inc);
    inc.ref = ref;
    inc.type = BT_INCIDENT_RIVER_CROSSING;
    inc.where.lon = lon;
    inc.where.lat = lat;
    inc.uncertainty_m = 250.5;
    inc.loc_precision = BT_LOC_NEAR_PLACE;
    inc.start = FX_T_2020_07_01;
    inc.end = FX_T_2020_07_29 + 86399;
    inc.time_precision = BT_TIME_DAY;
    inc.reported.t = FX_T_2021_03_15;
    inc.reported.precision = BT_TIME_DAY;
    inc.summary = "three people crossed the Yalu at night";
    inc.verification = BT_VERIF_CORROBORATED;
    return inc;
}

#endif /* BT_STORE_FIXTURE_H */
