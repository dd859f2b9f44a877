/**
 * @file sqlite_index.h
 * @brief The SpatiaLite backend's index and query operations (sqlite_index.c), for the
 * backend table in sqlite_backend.c. See backend.h, "index and query".
 */
#ifndef BT_SQLITE_INDEX_H
#define BT_SQLITE_INDEX_H

#include "sqlite_internal.h"

int bt__sq_index_scan(bt_store *s, int (*cb)(const struct bt__index_row *row, void *udata),
                      void *udata, int *stopped);
int bt__sq_index_rows(bt_store *s, const int64_t *ids, size_t n,
                      int (*cb)(int64_t id, const struct bt__index_row *row, void *udata),
                      void *udata);
int bt__sq_index_rows_bbox(bt_store *s, bt_bbox box, int64_t from, int64_t to, bool trust,
                           int (*cb)(const struct bt__index_row *row, void *udata),
                           void *udata);
int bt__sq_incident_rtree_boxes(bt_store *s, bt_bbox box,
                                int (*cb)(int64_t id, const bt_bbox *b, void *udata),
                                void *udata);
int bt__sq_index_watch(bt_store *s);
int bt__sq_data_version(bt_store *s, uint64_t *version);
void bt__sq_index_release(bt_store *s);
bool bt__sq_in_transaction(bt_store *s);
int bt__sq_index_generation(bt_store *s, int64_t *gen);
int bt__sq_index_load(bt_store *s, const char *name,
                      int (*fill)(void *udata, size_t len,
                                  int (*rd)(void *rh, void *buf, size_t n, size_t off),
                                  void *rh),
                      void *udata, bool *found, int *fill_rc);
int bt__sq_index_save(bt_store *s, const char *name, int64_t gen, size_t nparts,
                      const void *const *parts, const size_t *lens, bool *saved);
int bt__sq_installation_scan_bbox(bt_store *s, bt_bbox box,
                                  int (*cb)(const bt_installation *inst, void *udata),
                                  void *udata);
int bt__sq_segment_scan_bbox(bt_store *s, bt_bbox box,
                             int (*cb)(const bt_segment *seg, void *udata), void *udata);

#endif /* BT_SQLITE_INDEX_H */
