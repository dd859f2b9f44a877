/**
 * @file sqlite_splite.h
 * @brief SpatiaLite's SQL functions on a store's connection, initialised only when
 * needed (sqlite_backend.c).
 *
 * The geometry triggers of every write and the schema migrations call SpatiaLite's
 * SQL functions, so a read-write handle gets them at open. Reads of the library need
 * none (geometries are decoded in C, splite_blob.c; the R*Trees are plain SQLite),
 * and setting SpatiaLite up costs more than a whole one-shot query (docs/
 * PERFORMANCE.md, "One-shot"), so a read-only handle gets them only when a statement
 * needs one: call bt__sq_spatialite() before preparing SQL that names a SpatiaLite
 * function (ST_*, MakePolygon, ExteriorRing, Mbr*, ...).
 */
#ifndef BT_SQLITE_SPLITE_H
#define BT_SQLITE_SPLITE_H

#include "sqlite_internal.h"

/** Loads and initialises SpatiaLite on the handle's connection once; BT_OK at once
 *  after that. On failure the store's message says why. */
int bt__sq_spatialite(bt_store *s);

/** True once SpatiaLite is initialised on the handle's connection (for tests). */
bool bt__sq_spatialite_ready(bt_store *s);

#endif /* BT_SQLITE_SPLITE_H */
