/**
 * @file sqlite_internal.h
 * @brief Shared state of the SpatiaLite backend's files (sqlite_backend.c,
 * sqlite_records.c, schema.c, splite_blob.c). Nothing outside lib/store/ includes it.
 */
#ifndef BT_SQLITE_INTERNAL_H
#define BT_SQLITE_INTERNAL_H

#include "backend.h"

#include <sqlite3.h>

/** PRAGMA application_id of a bordertrack store: 'BTRT'. */
#define BT__APPLICATION_ID 0x42545254
/** Schema version this library writes (PRAGMA user_version). */
#define BT__SCHEMA_VERSION 4
/** How long a writer waits for another one before BT_ERR_BUSY, in ms. */
#define BT__BUSY_TIMEOUT_MS 5000

/** Every SQL statement of the library that runs more than once. */
enum bt__stmt_id {
    BT__ST_BEGIN_IMMEDIATE = 0,
    BT__ST_BEGIN_DEFERRED,
    BT__ST_COMMIT,
    BT__ST_ROLLBACK,
    BT__ST_USER_VERSION,
    BT__ST_COUNT,

    BT__ST_SEG_INSERT,
    BT__ST_SEG_GET,
    BT__ST_SEG_UPDATE,
    BT__ST_SEG_DELETE,

    BT__ST_INST_INSERT,
    BT__ST_INST_GET,
    BT__ST_INST_UPDATE,
    BT__ST_INST_DELETE,

    BT__ST_INC_INSERT,
    BT__ST_INC_GET,
    BT__ST_INC_FIND,
    BT__ST_INC_UPDATE,
    BT__ST_INC_DELETE,
    BT__ST_INC_SCAN_BBOX,

    BT__ST_SRC_INSERT,
    BT__ST_SRC_GET,
    BT__ST_SRC_FIND,
    BT__ST_SRC_UPDATE,
    BT__ST_SRC_DELETE,
    BT__ST_SRC_REFS,

    BT__ST_LINK_INSERT,
    BT__ST_LINK_GET,
    BT__ST_LINK_UPDATE,
    BT__ST_LINK_DELETE,
    BT__ST_LINK_LIST,
    BT__ST_INC_EXISTS,

    BT__ST_PLACE_INSERT,
    BT__ST_PLACE_GET,
    BT__ST_PLACE_UPDATE,
    BT__ST_PLACE_DELETE,

    BT__ST_COUNT_OF_IDS /* number of statements, not a statement */
};

/** Number of per-row INSERT triggers set aside in bulk mode (sqlite_bulk.c). */
#define BT__BULK_NTRIGGERS 6

/** The backend's state, in bt_store::be_data. */
struct bt__sq {
    sqlite3 *db;
    struct bt__splite *splite; /* SpatiaLite: its dlopen() handle and per-connection
                                  cache, NULL until bt__sq_spatialite() */
    sqlite3_stmt *stmt[BT__ST_COUNT_OF_IDS];   /* prepared lazily, reused */
    unsigned char busy[BT__ST_COUNT_OF_IDS];   /* stmt[i] is being iterated */
    bool scrub_wal;                            /* a source was changed: checkpoint */
    /* "nothing can have changed" before PRAGMA data_version (sqlite_index.c) */
    unsigned char chk_mode;                    /* 0: not known yet, 1: off, 2: WAL */
    void *chk_jfd;                             /* journal file when chk_mode was set */
    bool chk_saved;                            /* chk_hdr/chk_version are usable */
    uint64_t chk_version;                      /* data version of the last PRAGMA */
    unsigned char chk_hdr[48];                 /* WAL-index header read before it */
    unsigned long chk_runs;                    /* PRAGMAs run (for tests) */
    /* bulk loading (sqlite_bulk.c) */
    bool bulk;                                 /* INSERT triggers set aside */
    int64_t bulk_base;                         /* incidents with id > this are new */
    int64_t txn_inserts;                       /* incident inserts in this transaction */
    char *bulk_trigger_sql[BT__BULK_NTRIGGERS]; /* sqlite3_malloc'd CREATE TRIGGER text */
    int bulk_cache_prev;                       /* cache_size to restore, 0: none */
    bool bulk_index_checked;                   /* the time index was looked at */
    char *bulk_index_sql;                      /* its CREATE INDEX text if dropped */
    bool bulk_sort_on_file;                    /* its last rebuild could spill to disk */
    struct bt__bulk_rows *bulk_rows;           /* R*Tree entries of the new rows */
    /* a load under a rollback journal (sq_load_begin): WAL to restore */
    bool load_journal;
    int load_sync_prev;                        /* synchronous to restore, -1: none */
    uint64_t load_min_bytes;                   /* smallest such load (tests lower it) */
};

static inline struct bt__sq *bt__sq_of(bt_store *s) { return (struct bt__sq *)s->be_data; }

/** Forgets what the data-version pre-check knows of the connection (journal mode, WAL
 *  header): call it whenever this connection's journal mode changes or its WAL may be
 *  closed or reopened (sqlite_index.c). */
void bt__sq_change_check_reset(bt_store *s);

/* ---- statements and errors (sqlite_backend.c) ---- */

/** Gets a reset statement ready for binding. If the cached one is in the middle of an
 *  iteration (a callback re-entered the store), a private one is prepared instead;
 *  bt__sq_release() finalizes it. */
int bt__sq_acquire(bt_store *s, enum bt__stmt_id id, sqlite3_stmt **out);
/** Resets (or finalizes) a statement from bt__sq_acquire(). */
void bt__sq_release(bt_store *s, enum bt__stmt_id id, sqlite3_stmt *st);
/** Maps a failed SQLite result (the connection's extended code) to a bt_status, sets
 *  the message "<what>: <sqlite message>" and returns the status. If the failure ended
 *  an explicit transaction, says so and clears s->in_txn. */
int bt__sq_fail(bt_store *s, int rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/** Runs after every successful write: outside an explicit transaction, scrubs the
 *  WAL if a source was changed (see bt__sq::scrub_wal). */
void bt__sq_after_write(bt_store *s);

/* ---- records (sqlite_records.c): the backend's operations, see backend.h ---- */
int bt__sq_segment_insert(bt_store *s, const bt_segment *seg, int64_t *id);
int bt__sq_segment_get(bt_store *s, int64_t id, bt_segment **out);
int bt__sq_segment_update(bt_store *s, const bt_segment *seg);
int bt__sq_segment_delete(bt_store *s, int64_t id);
int bt__sq_installation_insert(bt_store *s, const bt_installation *inst, int64_t *id);
int bt__sq_installation_get(bt_store *s, int64_t id, bt_installation **out);
int bt__sq_installation_update(bt_store *s, const bt_installation *inst);
int bt__sq_installation_delete(bt_store *s, int64_t id);
int bt__sq_incident_insert(bt_store *s, const bt_incident *inc, int64_t *id);
int bt__sq_incident_get(bt_store *s, int64_t id, bt_incident **out);
int bt__sq_incident_find(bt_store *s, const char *ref, int64_t *id);
int bt__sq_incident_update(bt_store *s, const bt_incident *inc);
int bt__sq_incident_delete(bt_store *s, int64_t id);
int bt__sq_source_insert(bt_store *s, const bt_source *src, int64_t *id);
int bt__sq_source_get(bt_store *s, int64_t id, bt_source **out);
int bt__sq_source_find(bt_store *s, const char *name, int64_t *id);
int bt__sq_source_update(bt_store *s, const bt_source *src);
int bt__sq_source_delete(bt_store *s, int64_t id);
int bt__sq_link_insert(bt_store *s, const bt_report_link *link);
int bt__sq_link_get(bt_store *s, int64_t incident_id, int64_t source_id, bt_report_link *out);
int bt__sq_link_update(bt_store *s, const bt_report_link *link);
int bt__sq_link_delete(bt_store *s, int64_t incident_id, int64_t source_id);
int bt__sq_link_list(bt_store *s, int64_t incident_id, bt_report_link **out, size_t *n);
int bt__sq_place_insert(bt_store *s, const bt_place *place, int64_t *id);
int bt__sq_place_get(bt_store *s, int64_t id, bt_place **out);
int bt__sq_place_update(bt_store *s, const bt_place *place);
int bt__sq_place_delete(bt_store *s, int64_t id);
int bt__sq_incident_scan_bbox(bt_store *s, bt_bbox box, int64_t from, int64_t to,
                              bt__incident_row_cb cb, void *udata);

/* ---- bulk loading (sqlite_bulk.c) ---- */

/** Called before each incident insert: inside a large explicit transaction, sets the
 *  per-row INSERT triggers aside. */
int bt__sq_bulk_note_insert(bt_store *s);
/** Brings the R*Tree up to date and restores the triggers; a no-op outside bulk mode.
 *  Runs before anything reads the index and before COMMIT. */
int bt__sq_bulk_flush(bt_store *s);
/** Forgets bulk state (after a rollback: SQLite restored the triggers itself). */
void bt__sq_bulk_reset(bt_store *s);
/** Called after an incident insert: in bulk mode, keeps its R*Tree entry for the flush. */
void bt__sq_bulk_note_row(bt_store *s, int64_t id, bt_lonlat where);
/** Called when incidents change other than by insert (update, delete, rollback to a
 *  savepoint): the kept entries may be stale, the flush reads the table instead. */
void bt__sq_bulk_forget_rows(bt_store *s);

/* ---- schema (schema.c) ---- */

/** Creates or migrates the schema inside one transaction, from version @p from to
 *  BT__SCHEMA_VERSION. */
int bt__sq_migrate(bt_store *s, int from);

/* ---- binding and reading columns (sqlite_records.c) ---- */

/** Binds text, or NULL for a NULL pointer. */
int bt__sq_bind_text(sqlite3_stmt *st, int i, const char *text);
/** Binds an enumeration value by its I/O name; BT_ERR_INVALID naming @p what if it
 *  is not a value of @p which. */
int bt__sq_bind_enum(bt_store *s, sqlite3_stmt *st, int i, bt_enum which, int value,
                     const char *what);
/** Binds an optional date as (t, precision name) at columns @p it, @p ip: two NULLs
 *  when absent. */
int bt__sq_bind_date(bt_store *s, sqlite3_stmt *st, int it, int ip, bt_date d,
                     const char *what);
/** A text column, NULL for SQL NULL. */
const char *bt__sq_col_text(sqlite3_stmt *st, int i);
/** An enumeration column by its I/O name; BT_ERR_INTERNAL naming the column if the
 *  file holds an unknown value. */
int bt__sq_col_enum(bt_store *s, sqlite3_stmt *st, int i, bt_enum which, int *value,
                    const char *what);
/** An optional date from columns @p it (t) and @p ip (precision name). */
int bt__sq_col_date(bt_store *s, sqlite3_stmt *st, int it, int ip, bt_date *d,
                    const char *what);

/* ---- SpatiaLite geometry BLOBs (splite_blob.c) ---- */

/** Size of the BLOB of a Point (n == 1) or a LineString (n >= 2). */
size_t bt__splite_blob_size(size_t n);
/** Writes the BLOB of @p n points (1: Point, >= 2: LineString, SRID 4326) into @p buf
 *  of bt__splite_blob_size(n) bytes. */
void bt__splite_encode(unsigned char *buf, const bt_lonlat *pts, size_t n);
/**
 * Reads a SpatiaLite BLOB holding a Point or a LineString (also the TinyPoint form).
 * @param[out] npoints the number of vertices (1 for a Point).
 * @param[out] is_line true for a LineString.
 * @param dst where to write the vertices, or NULL to only count them.
 * @param cap capacity of @p dst in points.
 * @return BT_OK, or BT_ERR_INTERNAL with a message naming @p what if the BLOB is not a
 *         valid SRID-4326 Point/LineString with finite coordinates.
 */
int bt__splite_decode(bt_store *s, const char *what, const void *blob, size_t len,
                      bt_lonlat *dst, size_t cap, size_t *npoints, bool *is_line);

#endif /* BT_SQLITE_INTERNAL_H */
