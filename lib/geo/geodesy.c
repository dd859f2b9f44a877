/**
 * @file geodesy.c
 * @brief Geodesic distances and lengths on WGS 84 (Karney's algorithm from PROJ's
 * geodesic.h).
 */
#include "core/internal.h"

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
    const struct geod_geodesic *g = bt__geod(NULL); /* loads PROJ on first use */
    if (!g) return BT_ERR_INTERNAL;
    *metres = bt__geod_dist(g, a, b);
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
    const struct geod_geodesic *g = bt__geod(NULL);
    if (!g) return BT_ERR_INTERNAL;
    double sum = 0.0;
    for (size_t i = 1; i < n; i++)
        sum += bt__geod_dist(g, points[i - 1], points[i]);
    *metres = sum;
    return BT_OK;
}
