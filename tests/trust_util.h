/**
 * @file trust_util.h
 * @brief Shared by the trust tests (test_fault_*.c, test_crash.c, test_concurrency.c,
 * test_hostile.c, test_source_safety.c): scratch directories, small fixture files of
 * every table, and a digest of a store's whole content. Header-only.
 */
#ifndef BT_TRUST_UTIL_H
#define BT_TRUST_UTIL_H

#include "bordertrack.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/** A scratch directory made with mkdtemp() and removed with its files. */
typedef struct tu_dir {
    char path[256];
} tu_dir;

static inline int tu_dir_make(tu_dir *d)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(d->path, sizeof d->path, "%s/bt_trust_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(d->path) ? 0 : -1;
}

static inline void tu_dir_remove(tu_dir *d)
{
    DIR *dir = opendir(d->path);
    if (dir) {
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[600];
            snprintf(p, sizeof p, "%s/%s", d->path, e->d_name);
            chmod(p, 0600);
            unlink(p);
        }
        closedir(dir);
    }
    rmdir(d->path);
}

static inline const char *tu_path(const tu_dir *d, const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", d->path, name);
    return buf;
}

/** Reads a whole file; NULL if it cannot. *len gets its size. Caller frees. */
static inline char *tu_read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    size_t cap = 65536, n = 0, got;
    char *buf = malloc(cap + 1);
    while (buf && (got = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(fp);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = n;
    }
    return buf;
}

static inline int tu_write_file(const char *path, const char *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    size_t put = fwrite(data, 1, len, fp);
    return fclose(fp) == 0 && put == len ? 0 : -1;
}

/** Copies a file (0 on success). */
static inline int tu_copy_file(const char *from, const char *to)
{
    size_t len = 0;
    char *data = tu_read_file(from, &len);
    if (!data)
        return -1;
    int rc = tu_write_file(to, data, len);
    free(data);
    return rc;
}

/** Puts a closed store file back from a copy: removes its -wal and -shm first. */
static inline int tu_restore_file(const char *copy, const char *path)
{
    char side[700];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    return tu_copy_file(copy, path);
}

/** Does @p hay (len bytes) contain @p needle anywhere? */
static inline int tu_contains(const char *hay, size_t len, const char *needle)
{
    size_t m = strlen(needle);
    if (m == 0 || m > len)
        return 0;
    for (size_t i = 0; i + m <= len; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, m) == 0)
            return 1;
    return 0;
}

/** A growing memory buffer for bt_export_write(). */
typedef struct tu_buf {
    char *data;
    size_t len, cap;
} tu_buf;

static inline int tu_buf_write(const void *p, size_t n, void *udata)
{
    tu_buf *b = udata;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *nd = realloc(b->data, cap);
        if (!nd)
            return -1;
        b->data = nd;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

/** FNV-1a, 64 bits, continued from @p h. */
static inline uint64_t tu_fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 1099511628211ull;
    }
    return h;
}

/** A digest of everything the store holds: the GeoJSON export of every table, with
 *  sources (ids, every field, every link), and the row counts. Returns 0 if an
 *  export failed. */
static inline uint64_t tu_digest(bt_store *s)
{
    static const bt_table tables[] = {BT_TABLE_BORDERS, BT_TABLE_INSTALLATIONS,
                                      BT_TABLE_INCIDENTS, BT_TABLE_SOURCES, BT_TABLE_PLACES};
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        bt_export_options o;
        bt_export_options_init(&o);
        o.table = tables[i];
        o.format = BT_FORMAT_GEOJSON;
        o.include_sources = 1;
        tu_buf b = {0};
        if (bt_export_write(s, tu_buf_write, &b, &o) != BT_OK) {
            free(b.data);
            return 0;
        }
        h = tu_fnv(h, b.data ? b.data : "", b.len);
        free(b.data);
    }
    bt_counts c;
    if (bt_store_count(s, &c) != BT_OK)
        return 0;
    return tu_fnv(h, &c, sizeof c);
}

/* ---- fixtures: a few features of every table ------------------------------ */

static const char tu_places_geojson[] =
    "{\"type\":\"FeatureCollection\",\"features\":[\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128.17778,41.40167]},"
    "\"properties\":{\"name\":\"Hyesan\",\"country\":\"KP\",\"admin1\":\"10\"}},\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[124.39472,40.12917]},"
    "\"properties\":{\"name\":\"Sin\xc5\xad" "iju\",\"country\":\"KP\"}},\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128.1956,41.4233]},"
    "\"properties\":{\"name\":\"Changbai\",\"country\":\"CN\",\"admin1\":\"22\"}}\n"
    "]}\n";

static const char tu_borders_geojson[] =
    "{\"type\":\"FeatureCollection\",\"features\":[\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"MultiLineString\",\"coordinates\":"
    "[[[128.10,41.38],[128.15,41.395],[128.18,41.405]],[[128.18,41.405],[128.22,41.42]]]},"
    "\"properties\":{\"border\":\"PRK-CHN\",\"name\":\"Yalu upper\",\"kind\":\"river\","
    "\"river\":\"Amnok\"}},\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":"
    "[[128.22,41.42],[128.30,41.46]]},"
    "\"properties\":{\"border\":\"PRK-CHN\",\"name\":\"Land 1\",\"kind\":\"land\"}}\n"
    "]}\n";

static const char tu_installations_geojson[] =
    "{\"type\":\"FeatureCollection\",\"features\":[\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":"
    "[[128.16,41.395],[128.17,41.40],[128.18,41.404]]},"
    "\"properties\":{\"ref\":\"I-1\",\"kind\":\"fence\",\"layer\":\"primary\","
    "\"material\":\"thin_steel_wire\",\"barbed\":\"no\",\"electrified\":\"unknown\","
    "\"height_m\":2.5,\"post_material\":\"wooden stakes\",\"quality\":\"poor\","
    "\"permanence\":\"temporary\",\"status\":\"under_construction\",\"start\":\"2020-07\","
    "\"condition\":\"sways in the wind\",\"observed_by\":\"human_source\","
    "\"source\":\"Informant Kim in Hyesan\",\"source_type\":\"human\",\"reliability\":\"C\","
    "\"credibility\":3}},\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128.175,41.401]},"
    "\"properties\":{\"ref\":\"I-2\",\"kind\":\"guard_post\",\"status\":\"complete\","
    "\"start\":\"2019-05-02\",\"observed_by\":\"satellite\"}}\n"
    "]}\n";

static const char tu_incidents_geojson[] =
    "{\"type\":\"FeatureCollection\",\"features\":[\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128.17778,41.40167]},"
    "\"properties\":{\"ref\":\"T-1\",\"type\":\"fence_work\",\"start\":\"2020-07\",\"end\":null,"
    "\"time_precision\":\"month\",\"location_precision\":\"near_place\",\"uncertainty_m\":5000,"
    "\"reported\":\"2020-07-29\",\"summary\":\"new wire fencing near Hyesan\","
    "\"verification\":\"single_source\",\"source\":\"Informant Kim in Hyesan\","
    "\"source_type\":\"human\",\"reliability\":\"C\",\"credibility\":3,"
    "\"source_notes\":\"met in Yanbian\"}},\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128.19,41.41]},"
    "\"properties\":{\"ref\":\"T-2\",\"type\":\"river_crossing\",\"start\":\"2020-08-03\","
    "\"end\":\"2020-08-04\",\"uncertainty_m\":300,\"summary\":\"two people crossed\","
    "\"source\":\"Regional outlet\",\"source_type\":\"media\",\"reliability\":\"B\","
    "\"credibility\":2}},\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128.21,41.42]},"
    "\"properties\":{\"ref\":\"T-3\",\"type\":\"arrest\",\"start\":\"2021-02-04T10:00:00Z\","
    "\"verification\":\"corroborated\",\"source\":\"Informant Kim in Hyesan\",\"credibility\":2}}\n"
    "]}\n";

static const char tu_sources_geojson[] =
    "{\"type\":\"FeatureCollection\",\"features\":[\n"
    "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"name\":\"Courier Pak\","
    "\"type\":\"human\",\"reliability\":\"B\",\"notes\":\"restricted\"}},\n"
    "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"name\":\"Satellite vendor\","
    "\"type\":\"imagery\",\"reliability\":\"A\"}}\n"
    "]}\n";

/** The fixtures in the order they can be imported (installations and incidents
 *  create their sources). */
typedef struct tu_fixture {
    bt_table table;
    const char *name;
    const char *text;
} tu_fixture;

static const tu_fixture tu_fixtures[] = {
    {BT_TABLE_PLACES, "places.geojson", tu_places_geojson},
    {BT_TABLE_BORDERS, "borders.geojson", tu_borders_geojson},
    {BT_TABLE_SOURCES, "sources.geojson", tu_sources_geojson},
    {BT_TABLE_INSTALLATIONS, "installations.geojson", tu_installations_geojson},
    {BT_TABLE_INCIDENTS, "incidents.geojson", tu_incidents_geojson},
};
#define TU_NFIXTURES (sizeof tu_fixtures / sizeof tu_fixtures[0])

static inline int tu_import(bt_store *s, const tu_fixture *fx, bt_import_report *rep)
{
    bt_import_options o;
    bt_import_options_init(&o);
    o.table = fx->table;
    o.format = BT_FORMAT_GEOJSON;
    return bt_import_mem(s, fx->text, strlen(fx->text), fx->name, &o, rep);
}

/** Generates a GeoJSON text sequence of @p n incidents with refs "<prefix>-<i>",
 *  spread around Hyesan. Caller frees. */
static inline char *tu_gen_incidents(const char *prefix, long n, size_t *len)
{
    size_t cap = (size_t)n * 400 + 64, off = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    for (long i = 0; i < n; i++) {
        double lon = 128.0 + (double)(i % 97) * 0.004;
        double lat = 41.30 + (double)(i % 89) * 0.003;
        int m = snprintf(buf + off, cap - off,
                         "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\""
                         ":[%.5f,%.5f]},\"properties\":{\"ref\":\"%s-%ld\",\"type\":"
                         "\"smuggling\",\"start\":\"2020-%02ld-%02ld\",\"uncertainty_m\":%ld,"
                         "\"summary\":\"generated incident %ld for the trust tests\"}}\n",
                         lon, lat, prefix, i, 1 + i % 12, 1 + i % 28, i % 1000, i);
        if (m < 0 || (size_t)m >= cap - off) {
            free(buf);
            return NULL;
        }
        off += (size_t)m;
    }
    buf[off] = '\0';
    if (len)
        *len = off;
    return buf;
}

#endif /* BT_TRUST_UTIL_H */
