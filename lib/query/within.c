/**
 * @file within.c
 * @brief bt_incidents_within(): the foundation's radius query, now one case of the
 * query API.
 *
 * It keeps its own argument checks (and messages), then asks bt_incident_query() for
 * a circle and a time window in id order, so that it uses the incident index and its
 * proven bounds (lib/query/plan.c) instead of a second copy of the circle's box.
 */
#include "core/internal.h"

#include <math.h>

int bt_incidents_within(bt_store *store, bt_lonlat centre, double radius_m, int64_t from,
                        int64_t to, bt_incident_cb cb, void *udata)
{
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    int rc = bt__validate_lonlat(store, "centre", centre);
    if (rc) return rc;
    if (!isfinite(radius_m) || radius_m < 0.0)
        return bt__error(store, BT_ERR_INVALID,
                         "bt_incidents_within: radius %g m; expected a finite value >= 0",
                         radius_m);
    if (from > to)
        return bt__error(store, BT_ERR_INVALID,
                         "bt_incidents_within: time window starts after it ends");
    if (!cb) return bt__error(store, BT_ERR_INVALID, "bt_incidents_within: callback is NULL");

    bt_query q;
    bt_query_init(&q);
    q.area = BT_AREA_CIRCLE;
    q.centre = centre;
    q.radius_m = radius_m;
    q.from = from;
    q.to = to;
    q.order = BT_ORDER_ID;
    return bt_incident_query(store, &q, cb, udata);
}
