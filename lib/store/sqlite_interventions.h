/**
 * @file sqlite_interventions.h
 * @brief The SpatiaLite backend's intervention operations (sqlite_interventions.c),
 * for the backend table in sqlite_backend.c. See backend.h ("interventions").
 */
#ifndef BT_SQLITE_INTERVENTIONS_H
#define BT_SQLITE_INTERVENTIONS_H

#include "sqlite_internal.h"

int bt__sq_intervention_insert(bt_store *s, const bt_intervention *iv, int64_t *id);
int bt__sq_intervention_get(bt_store *s, int64_t id, bt_intervention **out);
int bt__sq_intervention_find(bt_store *s, const char *ref, int64_t *id);
int bt__sq_intervention_update(bt_store *s, const bt_intervention *iv);
int bt__sq_intervention_delete(bt_store *s, int64_t id);
int bt__sq_intervention_ids(bt_store *s, const char *border, int64_t **ids, size_t *n);
int bt__sq_intervention_segment_check(bt_store *s, int64_t segment_id, const char *new_border);

#endif /* BT_SQLITE_INTERVENTIONS_H */
