/**
 * @file oneshot.c
 * @brief bt_oneshot FILE LON LAT RADIUS: what a script or the CLI does for one
 * question: open the store read-only, count the incidents within RADIUS metres of
 * LON, LAT, print the count, exit. bt_bench times it against the spatialite shell
 * (docs/PERFORMANCE.md, "One-shot"). Public API and the shared library only, so the
 * process loads what a program using bordertrack loads, nothing more.
 */
#include "bordertrack.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s FILE LON LAT RADIUS_M\n", argv[0]);
        return 2;
    }
    bt_store *s = NULL;
    char *err = NULL;
    if (bt_store_open(argv[1], BT_OPEN_READONLY, &s, &err) != BT_OK) {
        fprintf(stderr, "%s\n", err ? err : "cannot open the store");
        bt_string_free(err);
        return 1;
    }
    bt_query q;
    bt_query_init(&q);
    q.area = BT_AREA_CIRCLE;
    q.centre = (bt_lonlat){atof(argv[2]), atof(argv[3])};
    q.radius_m = atof(argv[4]);
    int64_t n = 0;
    int rc = bt_incident_count(s, &q, &n, NULL);
    if (rc != BT_OK) fprintf(stderr, "%s\n", bt_store_errmsg(s));
    else printf("%lld\n", (long long)n);
    bt_store_close(s);
    return rc == BT_OK ? 0 : 1;
}
