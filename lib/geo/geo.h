/**
 * @file geo.h
 * @brief Internal interface of lib/geo: transforms from any CRS to WGS 84, and a local
 * conformal projection for metric geometry work.
 *
 * Both objects are created on a store's PJ_CONTEXT and keep a pointer to it (a PROJ
 * object cannot be separated from its context). So they must be used with, and closed
 * before, the store they were opened on, from that store's thread: open one for a job
 * (an import, an analysis) and close it at the end; never keep one inside a
 * long-lived object.
 */
#ifndef BT_GEO_H
#define BT_GEO_H

#include "core/internal.h"

/* ---- CRS to WGS 84 (crs.c) ------------------------------------------------ */

/** A transform from one CRS to WGS 84 longitude/latitude. */
typedef struct bt__crs bt__crs;

/**
 * Opens a transform from @p crs to WGS 84 on the store's PROJ context.
 *
 * Axis order: input and output are both in GIS order, whatever the CRS's
 * authority says: x = longitude or easting, y = latitude or northing. (EPSG:4326 and
 * EPSG:4490 are defined lat,lon; here they still take lon,lat, the order of GeoJSON,
 * WKT from GIS tools and every coordinate of this library.) Angles are degrees and
 * lengths the CRS's own unit (metres for UTM).
 *
 * @param s the store (its PJ_CONTEXT; errors are reported on it).
 * @param crs anything PROJ accepts: "EPSG:32652", "EPSG:4490", "OGC:CRS84", WKT,
 *        PROJJSON, a "+proj=... +type=crs" string.
 * @param[out] out the transform; close with bt__crs_close().
 * @return BT_OK; BT_ERR_CRS naming @p crs and PROJ's reason (unknown CRS, not a
 *         horizontal CRS, no transformation); BT_ERR_INVALID for NULL arguments;
 *         BT_ERR_NOMEM.
 */
int bt__crs_open(bt_store *s, const char *crs, bt__crs **out);

/**
 * Transforms @p n points in place, x/y in GIS order (see bt__crs_open()) to WGS 84
 * lon/lat degrees.
 * @return BT_OK; BT_ERR_CRS if a point could not be transformed (not finite, or
 *         outside the domain of the CRS): every point that failed is then set to
 *         HUGE_VAL in both x and y, the others are transformed, and the message names
 *         the first failed index.
 */
int bt__crs_to_wgs84(bt_store *s, bt__crs *t, double *x, double *y, size_t n);

/**
 * The same for an array of bt_lonlat (lon = x, lat = y), the layout of the records.
 * @param[out] bad if not NULL, on BT_ERR_CRS the index of the first failed point.
 */
int bt__crs_lonlat_to_wgs84(bt_store *s, bt__crs *t, bt_lonlat *pts, size_t n,
                            size_t *bad);

/** The CRS text the transform was opened with (for messages). */
const char *bt__crs_name(const bt__crs *t);

/** Closes a transform. NULL is a no-op. */
void bt__crs_close(bt__crs *t);

/* ---- local conformal projection (crs.c) ----------------------------------- */

/** A conformal projection fitted to an extent, in metres. */
typedef struct bt__localproj bt__localproj;

/**
 * Opens a conformal projection fitted to @p extent, so that distances measured in it
 * are close to geodesic distances. For an extent that stays on one side of the
 * equator it is a Lambert Conformal Conic on WGS 84 with standard parallels at
 * mid ± (north-south)/(2*sqrt 2) (the minimax placement: the scale error is at most
 * about (north-south)^2/16 with the latitude span in radians, 0.02% for the PRK-CHN
 * border's 39.8..43 N, and does not depend on the longitude span); an extent that
 * straddles the equator gets a Mercator with a reduced scale factor instead (a conic
 * degenerates there). Origin at the extent's centre, false easting/northing 0.
 * @param extent lon/lat box; west > east means it crosses the antimeridian.
 * @param[out] out the projection; close with bt__localproj_close().
 * @return BT_OK, BT_ERR_INVALID for a box that is not finite or out of range,
 *         BT_ERR_CRS if PROJ refuses, BT_ERR_NOMEM.
 */
int bt__localproj_open(bt_store *s, bt_bbox extent, bt__localproj **out);

/**
 * Projects @p n lon/lat points (degrees) in place to x/y metres.
 * @return BT_OK, or BT_ERR_CRS if a point failed (set to HUGE_VAL; message names the
 *         first index).
 */
int bt__localproj_forward(bt_store *s, const bt__localproj *p, double *x, double *y,
                          size_t n);

/** Inverse of bt__localproj_forward(): x/y metres in place to lon/lat degrees. */
int bt__localproj_inverse(bt_store *s, const bt__localproj *p, double *x, double *y,
                          size_t n);

/** The PROJ string of the projection (for messages and tests). */
const char *bt__localproj_definition(const bt__localproj *p);

/** Closes a projection. NULL is a no-op. */
void bt__localproj_close(bt__localproj *p);

#endif /* BT_GEO_H */
