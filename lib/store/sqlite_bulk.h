/**
 * @file sqlite_bulk.h
 * @brief Test hook of the bulk loader (sqlite_bulk.c); the rest of its interface is in
 * sqlite_internal.h.
 */
#ifndef BT_SQLITE_BULK_H
#define BT_SQLITE_BULK_H

#include "core/internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Rebuilds the incidents R*Tree by packing, as a bulk load's flush does, with the
 *  external sort cut into runs of @p run_records records merged @p fanin at a time
 *  (0: the defaults). Tests use tiny values to walk the merge passes. */
int bt__sq_bulk_repack(bt_store *s, size_t run_records, unsigned fanin);

/** The first column of the first row of @p sql run on the store's own connection
 *  (inside its open transaction, with its per-connection settings), -1 if none. Tests
 *  use it to see what bulk mode did to the time index, temp_store and cache_size. */
int64_t bt__sq_bulk_query_int(bt_store *s, const char *sql);

/** Whether the last rebuild of the time index at a flush sorted under
 *  temp_store=FILE, i.e. could spill to disk and keep the load's memory bounded. */
bool bt__sq_bulk_sort_on_file(bt_store *s);

#endif /* BT_SQLITE_BULK_H */
