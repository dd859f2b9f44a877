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

struct bt__index_row; /* lib/index/index.h */

/* Stored chainage: which records a row is about. */
enum { BT__CH_INCIDENT = 0, BT__CH_INSTALLATION = 1 };

/** One row of the stored chainage of a border (docs/analysis.md, "Stored chainage"). */
struct bt__chainage_row {
    int64_t record_id, segment_id;
    double chainage_m, chainage_to_m; /* equal for incidents */
    double offset_m;
    bt_side side;
    int type;                         /* bt_incident_type or bt_install_kind */
    int64_t start_t, end_t;           /* INT64_MIN / INT64_MAX when open */
    bt_lonlat where;
};

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
    /* begin for a bulk load that owns its transaction (the import; bytes: the size of
     * its input, 0 if unknown): the backend may set the connection up for it.
     * load_end, called once the transaction has ended (committed, rolled back or never
     * begun), undoes that; it never fails the load: what it cannot undo now it retries
     * at the next begin and at close. */
    int (*load_begin)(bt_store *s, uint64_t bytes);
    void (*load_end)(bt_store *s);
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

    /* data exchange */
    /* Writes to ids[0..*n) up to cap ids of the table that are greater than after, in
     * increasing order (*n < cap means the end was reached). Paging keeps no statement
     * open across the caller's callbacks, so they may use the store. */
    int (*ids_after)(bt_store *s, bt_table table, int64_t after, int64_t *ids, size_t cap,
                     size_t *n);
    /* Savepoints, for an import inside a transaction and for undoing one feature.
     * name is a constant SQL identifier chosen by the library, never user data. */
    int (*savepoint)(bt_store *s, const char *name);
    int (*savepoint_release)(bt_store *s, const char *name);
    int (*savepoint_rollback)(bt_store *s, const char *name);

    /* border analysis */
    /* Adds an observed chainage range (bt_obs_range_add; validated by the caller). */
    int (*obs_insert)(bt_store *s, const bt_obs_range *r, int64_t *id);
    /* Deletes one; BT_ERR_NOT_FOUND for an unknown id. */
    int (*obs_delete)(bt_store *s, int64_t id);
    /* The observed ranges of a border in increasing id order: a bt__malloc'd array
     * (NULL when *n == 0) whose border and note pointers are NULL. */
    int (*obs_list)(bt_store *s, const char *border, bt_obs_range **out, size_t *n);
    /* Interventions (table interventions, schema v4; sqlite_interventions.c). The
     * CRUD contract above applies; insert and update return BT_ERR_NOT_FOUND when no
     * segment has the intervention's border name. */
    int (*intervention_insert)(bt_store *s, const bt_intervention *iv, int64_t *id);
    int (*intervention_get)(bt_store *s, int64_t id, bt_intervention **out);
    int (*intervention_find)(bt_store *s, const char *ref, int64_t *id);
    int (*intervention_update)(bt_store *s, const bt_intervention *iv);
    int (*intervention_delete)(bt_store *s, int64_t id);
    /* The ids in increasing (start, id), only those of one border when border is not
     * NULL: a bt__malloc'd array (NULL when *n == 0). */
    int (*intervention_ids)(bt_store *s, const char *border, int64_t **ids, size_t *n);
    /* BT_ERR_CONSTRAINT, with a message, if taking segment_id off its border (deleting
     * it: new_border NULL; or renaming its border to new_border) would leave
     * interventions on a border without a segment; BT_OK otherwise (also for an
     * unknown id: the write itself reports that). */
    int (*intervention_segment_check)(bt_store *s, int64_t segment_id, const char *new_border);
    /* Stored chainage (tables chainage, chainage_pending, chainage_state; see
     * docs/analysis.md "Stored chainage"). kind is BT__CH_INCIDENT or
     * BT__CH_INSTALLATION. */
    /* The border's state: *valid false when it has none (stale, or a store without
     * the tables: then *supported is false too). */
    int (*chainage_state)(bt_store *s, const char *border, bool *supported, bool *valid,
                          int64_t *done_seq, double *length_m, int64_t *nparts);
    /* The records queued after seq `after`, per kind (bt__malloc'd, NULL when 0,
     * possibly with repeats), and the highest seq queued at all (0: none). */
    int (*chainage_pending)(bt_store *s, int64_t after, int64_t **inc, size_t *ninc,
                            int64_t **inst, size_t *ninst, int64_t *max_seq);
    /* Deletes the rows of a border: all (record_id < 0) or one record's. */
    int (*chainage_clear)(bt_store *s, const char *border, int kind, int64_t record_id);
    int (*chainage_put)(bt_store *s, const char *border, int kind,
                        const struct bt__chainage_row *rows, size_t n);
    /* Marks the border valid up to done_seq and drops the queue entries every valid
     * border has seen. */
    int (*chainage_set_state)(bt_store *s, const char *border, int64_t done_seq,
                              double length_m, int64_t nparts);
    /* The rows of a border and kind with from_m <= chainage_m <= to_m, in increasing
     * chainage (then id); cb returns non-zero to stop. */
    int (*chainage_scan)(bt_store *s, const char *border, int kind, double from_m,
                         double to_m, int (*cb)(const struct bt__chainage_row *r, void *udata),
                         void *udata);

    /* index and query (sqlite_index.c) */
    /* Every incident as the index needs it (struct bt__index_row, lib/index/index.h),
     * in any order; stops when cb returns non-zero and then sets *stopped. */
    int (*index_scan)(bt_store *s, int (*cb)(const struct bt__index_row *row, void *udata),
                      void *udata, int *stopped);
    /* The rows of ids[0..n): cb gets each id with its row, or NULL if it no longer
     * exists. Stops when cb returns non-zero. */
    int (*index_rows)(bt_store *s, const int64_t *ids, size_t n,
                      int (*cb)(int64_t id, const struct bt__index_row *row, void *udata),
                      void *udata);
    /* The incidents of incident_scan_bbox (same box and window, any order) as the
     * index needs them: the first query of a handle matches on these without reading
     * whole records. reliability and credibility are read only when @p trust is set
     * (else 0). cb must not use the store; non-zero stops. */
    int (*index_rows_bbox)(bt_store *s, bt_bbox box, int64_t from, int64_t to, bool trust,
                           int (*cb)(const struct bt__index_row *row, void *udata),
                           void *udata);
    /* The entries of the file's spatial index that meet the box (west <= east): each
     * incident's id with its box there, which holds its point (coordinates rounded
     * outward), in any order; no record is read. cb must not use the store; non-zero
     * stops. */
    int (*incident_rtree_boxes)(bt_store *s, bt_bbox box,
                                int (*cb)(int64_t id, const bt_bbox *b, void *udata),
                                void *udata);
    /* Starts reporting this connection's writes: bt__index_note_incident() for each
     * incident inserted, updated or deleted and each incident whose report links
     * changed; bt__index_invalidate() when a source changed. */
    int (*index_watch)(bt_store *s);
    /* A number that changes whenever another connection commits to the file. */
    int (*data_version)(bt_store *s, uint64_t *version);
    /* Frees what the index operations keep (a cached statement, the write watch);
     * bt__index_free() calls it, before the backend is closed. */
    void (*index_release)(bt_store *s);
    /* True while a transaction (explicit, or an import's savepoint) is open. */
    bool (*in_transaction)(bt_store *s);
    /* The persisted index (lib/index/persist.c; schema step 3). The generation counter
     * that every write to incidents, report links and sources bumps (persistent
     * triggers); -1 if the store has none (an older read-only file). */
    int (*index_generation)(bt_store *s, int64_t *gen);
    /* In one read transaction: if the persisted copy @p name was made at the current
     * generation, calls fill(udata, len, rd, rh) once, where rd(rh, buf, n, off) reads
     * n bytes at off of the copy (returning non-zero on failure), and sets *found.
     * fill's non-zero return is passed back as *fill_rc. */
    int (*index_load)(bt_store *s, const char *name,
                      int (*fill)(void *udata, size_t len,
                                  int (*rd)(void *rh, void *buf, size_t n, size_t off),
                                  void *rh),
                      void *udata, bool *found, int *fill_rc);
    /* Stores the concatenation of parts[0..nparts) as the copy @p name of generation
     * @p gen, if the store is writable, no transaction is open, the write lock is free
     * now and gen is still the current generation; *saved says whether it did. */
    int (*index_save)(bt_store *s, const char *name, int64_t gen, size_t nparts,
                      const void *const *parts, const size_t *lens, bool *saved);
    /* Installations / segments whose geometry's box meets the lon/lat box (west <=
     * east), in increasing id order, through the file's spatial index. */
    int (*installation_scan_bbox)(bt_store *s, bt_bbox box,
                                  int (*cb)(const bt_installation *inst, void *udata),
                                  void *udata);
    int (*segment_scan_bbox)(bt_store *s, bt_bbox box,
                             int (*cb)(const bt_segment *seg, void *udata), void *udata);

    /* gazetteer */
    /* Visits the places in increasing id order, only those of one country when country
     * is not NULL (exact ISO code); cb returns non-zero to stop (the scan then returns
     * BT_OK). The statement is private to the call, so cb may use the store. */
    int (*place_scan)(bt_store *s, const char *country,
                      int (*cb)(const bt_place *place, void *udata), void *udata);
};

/** The embedded SpatiaLite backend. */
extern const struct bt_backend bt__spatialite_backend;

#endif /* BT_BACKEND_H */
