/**
 * @file sqlite_iter.h
 * @brief The SpatiaLite backend's data-exchange operations (sqlite_iter.c), for the
 * backend table in sqlite_backend.c. See backend.h for their contracts.
 */
#ifndef BT_SQLITE_ITER_H
#define BT_SQLITE_ITER_H

#include "sqlite_internal.h"

int bt__sq_ids_after(bt_store *s, bt_table table, int64_t after, int64_t *ids, size_t cap,
                     size_t *n);
int bt__sq_savepoint(bt_store *s, const char *name);
int bt__sq_savepoint_release(bt_store *s, const char *name);
int bt__sq_savepoint_rollback(bt_store *s, const char *name);

#endif /* BT_SQLITE_ITER_H */
