/**
 * @file geodesy.c
 * @brief Geodesic distances and lengths on WGS 84 (Karney's algorithm from PROJ's
 * geodesic.h).
 */
#include "core/internal.h"

/* WGS 84 ellipsoid (EPSG:7030). */
#define BT__WGS84_A 6378137.0
#define BT__WGS84_F (1.0 / 298.257223563)

double bt__geod_dist(const struct geod_geodesic *g, bt_lonlat a, bt_lonlat b)
{
    double s12 = 0.0;
    geod_inverse(g, a.lat, a.lon, b.lat, b.lon, &s12, NULL, NULL);
    return s12;
}

int bt_geod_distance(bt_lonlat a, bt_lonlat b, double *metres)
{
    if (metres == NULL)
        return BT_ERR_INVALID;
    if (bt__validate_lonlat(NULL, "a", a) != BT_OK ||
        bt__validate_lonlat(NULL, "b", b) != BT_OK)
        return BT_ERR_INVALID;
    /* initialising per call is a handful of flops and keeps no shared state */
    struct geod_geodesic g;
    geod_init(&g, BT__WGS84_A, BT__WGS84_F);
    *metres = bt__geod_dist(&g, a, b);
    return BT_OK;
}

int bt_geod_length(const bt_lonlat *points, size_t n, double *metres)
{
    if (metres == NULL || (points == NULL && n > 0))
        return BT_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        if (bt__validate_lonlat(NULL, "point", points[i]) != BT_OK)
            return BT_ERR_INVALID;
    }
    struct geod_geodesic g;
    geod_init(&g, BT__WGS84_A, BT__WGS84_F);
    double sum = 0.0;
    for (size_t i = 1; i < n; i++)
        sum += bt__geod_dist(&g, points[i - 1], points[i]);
    *metres = sum;
    return BT_OK;
}
