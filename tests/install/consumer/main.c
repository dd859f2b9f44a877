/**
 * @file main.c
 * @brief A tiny program built against an installed bordertrack (CMake package and
 * pkg-config): opens a new store, adds three incidents, counts those within 10 km of
 * Hyesan. Usage: consumer STORE_PATH (the file must not exist).
 */
#include <bordertrack.h>

#include <stdio.h>
#include <string.h>

static int count_hit(const bt_incident *inc, double distance_m, void *udata)
{
    (void)inc;
    (void)distance_m;
    ++*(int *)udata;
    return 0;
}

static int add(bt_store *store, const char *ref, double lon, double lat)
{
    bt_incident inc;
    bt_incident_init(&inc);
    inc.ref = ref;
    inc.type = BT_INCIDENT_RIVER_CROSSING;
    inc.where.lon = lon;
    inc.where.lat = lat;
    inc.start = 1593561600; /* 2020-07-01T00:00:00Z */
    inc.end = 1593647999;   /* 2020-07-01T23:59:59Z */
    inc.time_precision = BT_TIME_DAY;
    inc.summary = "synthetic: install test";
    return bt_incident_add(store, &inc, NULL);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: consumer STORE_PATH\n");
        return 2;
    }
    if (strcmp(bt_version(), BT_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s but library %s\n", BT_VERSION_STRING, bt_version());
        return 1;
    }
    bt_store *store = NULL;
    char *err = NULL;
    int rc = bt_store_open(argv[1], BT_OPEN_READWRITE | BT_OPEN_CREATE, &store, &err);
    if (rc != BT_OK) {
        fprintf(stderr, "open: %s: %s\n", bt_strerror(rc), err ? err : "");
        bt_string_free(err);
        return 1;
    }
    /* Two points about 2.5 km from Hyesan, one about 93 km off. */
    if ((rc = add(store, "synthetic-1", 128.2, 41.42)) != BT_OK ||
        (rc = add(store, "synthetic-2", 128.16, 41.38)) != BT_OK ||
        (rc = add(store, "synthetic-3", 127.2, 41.8)) != BT_OK) {
        fprintf(stderr, "add: %s: %s\n", bt_strerror(rc), bt_store_errmsg(store));
        bt_store_close(store);
        return 1;
    }
    int hits = 0;
    bt_lonlat hyesan = {128.17778, 41.40167};
    rc = bt_incidents_within(store, hyesan, 10000.0, INT64_MIN, INT64_MAX, count_hit, &hits);
    if (rc != BT_OK) {
        fprintf(stderr, "query: %s: %s\n", bt_strerror(rc), bt_store_errmsg(store));
        bt_store_close(store);
        return 1;
    }
    if (bt_store_close(store) != BT_OK)
        return 1;
    printf("bordertrack %s: %d incidents within 10 km\n", bt_version(), hits);
    return hits == 2 ? 0 : 1;
}
