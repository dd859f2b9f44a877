/**
 * @file backend.h
 * @brief The storage interface: every SQL statement of the library lives behind this
 * table of functions.
 *
 * The model, query, index and analysis code never see SQL; they call these. The
 * embedded SpatiaLite backend (sqlite_backend.c) is the one implementation today; a
 * second one (PostGIS, for teams sharing a database) would fill the same table.
 *
 * Contract for every operation:
 * - `s` is the owning store: the backend reports failures with bt__error(s, ...), which
 *   names what failed, and returns the status code.
 * - Records passed in were validated by the caller (lib/model/validate.c).
 * - Records handed out to callbacks are valid only during the callback.
 * - Writes made outside an explicit transaction are atomic one by one.
 */
#ifndef BT_BACKEND_H
#define BT_BACKEND_H

#include "../core/internal.h"

/** One candidate row of an incident scan; return non-zero from it to stop. */
typedef int (*bt__incident_row_cb)(const bt_incident *inc, void *udata);

struct bt_backend {
    const char *name; /* "spatialite" */

    /* Opens the database at path with BT_OPEN_* flags, creating or migrating the
     * schema as needed; stores the backend state in s->be_data. */
    int (*open)(bt_store *s, const char *path, unsigned flags);
    /* Closes and frees s->be_data (rolls back an open transaction). */
    int (*close)(bt_store *s);

    int (*schema_version)(bt_store *s, int *version);
    int (*begin)(bt_store *s);
    int (*commit)(bt_store *s);
    int (*rollback)(bt_store *s);
    int (*count)(bt_store *s, bt_counts *out);

    /* Create, read, update, delete. insert writes the new id to *id. get returns a
     * block from the bt__*_dup family (caller frees with bt__free). update/delete
     * return BT_ERR_NOT_FOUND for an unknown id; insert returns BT_ERR_EXISTS for a
     * taken unique key and BT_ERR_NOT_FOUND for a dangling reference. */
    int (*segment_insert)(bt_store *s, const bt_segment *seg, int64_t *id);
    int (*segment_get)(bt_store *s, int64_t id, bt_segment **out);
    int (*segment_update)(bt_store *s, const bt_segment *seg);
    int (*segment_delete)(bt_store *s, int64_t id);

    int (*installation_insert)(bt_store *s, const bt_installation *inst, int64_t *id);
    int (*installation_get)(bt_store *s, int64_t id, bt_installation **out);
    int (*installation_update)(bt_store *s, const bt_installation *inst);
    int (*installation_delete)(bt_store *s, int64_t id);

    int (*incident_insert)(bt_store *s, const bt_incident *inc, int64_t *id);
    int (*incident_get)(bt_store *s, int64_t id, bt_incident **out);
    int (*incident_find)(bt_store *s, const char *ref, int64_t *id);
    int (*incident_update)(bt_store *s, const bt_incident *inc);
    int (*incident_delete)(bt_store *s, int64_t id);

    int (*source_insert)(bt_store *s, const bt_source *src, int64_t *id);
    int (*source_get)(bt_store *s, int64_t id, bt_source **out);
    int (*source_find)(bt_store *s, const char *name, int64_t *id);
    int (*source_update)(bt_store *s, const bt_source *src);
    int (*source_delete)(bt_store *s, int64_t id);

    int (*link_insert)(bt_store *s, const bt_report_link *link);
    int (*link_get)(bt_store *s, int64_t incident_id, int64_t source_id,
                    bt_report_link *out);
    int (*link_update)(bt_store *s, const bt_report_link *link);
    int (*link_delete)(bt_store *s, int64_t incident_id, int64_t source_id);
    /* out: a bt__malloc'd array (NULL when *n == 0). */
    int (*link_list)(bt_store *s, int64_t incident_id, bt_report_link **out, size_t *n);

    int (*place_insert)(bt_store *s, const bt_place *place, int64_t *id);
    int (*place_get)(bt_store *s, int64_t id, bt_place **out);
    int (*place_update)(bt_store *s, const bt_place *place);
    int (*place_delete)(bt_store *s, int64_t id);

    /* Incidents whose point lies in the lon/lat box (west <= east here: the caller
     * splits boxes that cross the antimeridian) and whose interval overlaps
     * [from, to]; in increasing id order, through the file's spatial index. */
    int (*incident_scan_bbox)(bt_store *s, bt_bbox box, int64_t from, int64_t to,
                              bt__incident_row_cb cb, void *udata);
};

/** The embedded SpatiaLite backend. */
extern const struct bt_backend bt__spatialite_backend;

#endif /* BT_BACKEND_H */
