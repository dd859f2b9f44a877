/**
 * @file sqlite_analysis.h
 * @brief The SpatiaLite backend's border-analysis operations (sqlite_analysis.c), for
 * the backend table in sqlite_backend.c. See backend.h ("border analysis").
 */
#ifndef BT_SQLITE_ANALYSIS_H
#define BT_SQLITE_ANALYSIS_H

#include "sqlite_internal.h"

int bt__sq_obs_insert(bt_store *s, const bt_obs_range *r, int64_t *id);
int bt__sq_obs_delete(bt_store *s, int64_t id);
int bt__sq_obs_list(bt_store *s, const char *border, bt_obs_range **out, size_t *n);
int bt__sq_chainage_state(bt_store *s, const char *border, bool *supported, bool *valid,
                          int64_t *done_seq, double *length_m, int64_t *nparts);
int bt__sq_chainage_pending(bt_store *s, int64_t after, int64_t **inc, size_t *ninc,
                            int64_t **inst, size_t *ninst, int64_t *max_seq);
int bt__sq_chainage_clear(bt_store *s, const char *border, int kind, int64_t record_id);
int bt__sq_chainage_put(bt_store *s, const char *border, int kind,
                        const struct bt__chainage_row *rows, size_t n);
int bt__sq_chainage_set_state(bt_store *s, const char *border, int64_t done_seq,
                              double length_m, int64_t nparts);
int bt__sq_chainage_scan(bt_store *s, const char *border, int kind, double from_m,
                         double to_m, int (*cb)(const struct bt__chainage_row *r, void *udata),
                         void *udata);

#endif /* BT_SQLITE_ANALYSIS_H */
