/**
 * @file sqlite_places.h
 * @brief The SpatiaLite backend's gazetteer operations (sqlite_places.c), for the
 * backend table in sqlite_backend.c. See backend.h ("gazetteer").
 */
#ifndef BT_SQLITE_PLACES_H
#define BT_SQLITE_PLACES_H

#include "sqlite_internal.h"

int bt__sq_place_scan(bt_store *s, const char *country,
                      int (*cb)(const bt_place *place, void *udata), void *udata);

#endif /* BT_SQLITE_PLACES_H */
