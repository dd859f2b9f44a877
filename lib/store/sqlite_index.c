/**
 * @file sqlite_index.c
 * @brief The SpatiaLite backend's operations for the in-memory index and the queries
 * (backend.h, "index and query"): bulk and per-id reads of the indexed columns, the
 * write watch, the data version, and the R*Tree scans of installations and segments.
 *
 * The write watch is an SQLite update hook on this connection: it sees every row of
 * `incidents` that changes, whichever code path wrote it. Report links live in a
 * WITHOUT ROWID table that the hook does not report, so temporary triggers (private
 * to the connection, nothing is written to the file) copy the incident id of every
 * changed link into a temporary rowid table whose writes the hook does see.
 */
#include "index/index.h"
#include "sqlite_index.h"

#include <limits.h>
#include <string.h>

/* The indexed columns and the best reliability / credibility of the linked reports
 * (reliability 'A' is best and sorts first, as does credibility 1). */
#define ROW_COLUMNS                                                                    \
    "i.id, i.lon, i.lat, i.start_t, i.end_t, i.uncertainty_m, i.type, i.verification"

static const char scan_sql[] =
    "SELECT " ROW_COLUMNS ", t.rel, t.cred FROM incidents i LEFT JOIN"
    " (SELECT l.incident_id AS iid, min(s.reliability) AS rel, min(l.credibility) AS cred"
    "  FROM incident_sources l JOIN sources s ON s.id = l.source_id"
    "  GROUP BY l.incident_id) t ON t.iid = i.id";

static const char row_sql[] =
    "SELECT " ROW_COLUMNS ","
    " (SELECT min(s.reliability) FROM incident_sources l JOIN sources s"
    "  ON s.id = l.source_id WHERE l.incident_id = i.id),"
    " (SELECT min(l.credibility) FROM incident_sources l WHERE l.incident_id = i.id)"
    " FROM incidents i WHERE i.id = ?1";

static const char *const watch_sql[] = {
    "CREATE TEMP TABLE IF NOT EXISTS bt__link_log(incident_id INTEGER PRIMARY KEY)",
    "CREATE TEMP TRIGGER IF NOT EXISTS bt__link_ins AFTER INSERT ON main.incident_sources"
    " BEGIN INSERT OR REPLACE INTO bt__link_log VALUES (NEW.incident_id); END",
    "CREATE TEMP TRIGGER IF NOT EXISTS bt__link_upd AFTER UPDATE ON main.incident_sources"
    " BEGIN INSERT OR REPLACE INTO bt__link_log VALUES (OLD.incident_id);"
    " INSERT OR REPLACE INTO bt__link_log VALUES (NEW.incident_id); END",
    "CREATE TEMP TRIGGER IF NOT EXISTS bt__link_del AFTER DELETE ON main.incident_sources"
    " BEGIN INSERT OR REPLACE INTO bt__link_log VALUES (OLD.incident_id); END",
};

static int read_row(bt_store *s, sqlite3_stmt *st, struct bt__index_row *r)
{
    int v;
    r->id = sqlite3_column_int64(st, 0);
    r->lon = sqlite3_column_double(st, 1);
    r->lat = sqlite3_column_double(st, 2);
    r->start = sqlite3_column_int64(st, 3);
    r->end = sqlite3_column_type(st, 4) == SQLITE_NULL ? BT_TIME_OPEN
                                                       : sqlite3_column_int64(st, 4);
    r->uncertainty_m = sqlite3_column_double(st, 5);
    const char *t = (const char *)sqlite3_column_text(st, 6);
    if (!t || bt_enum_parse(BT_ENUM_INCIDENT_TYPE, t, &v) != BT_OK)
        return bt__error(s, BT_ERR_INTERNAL, "incident %lld: unknown type '%s' in the store",
                         (long long)r->id, t ? t : "");
    r->type = v;
    t = (const char *)sqlite3_column_text(st, 7);
    if (!t || bt_enum_parse(BT_ENUM_VERIFICATION, t, &v) != BT_OK)
        return bt__error(s, BT_ERR_INTERNAL,
                         "incident %lld: unknown verification '%s' in the store",
                         (long long)r->id, t ? t : "");
    r->verification = v;
    const char *rel = (const char *)sqlite3_column_text(st, 8);
    r->reliability = rel && rel[0] >= 'A' && rel[0] <= 'F' ? rel[0] - 'A' + 1 : 0;
    int cred = sqlite3_column_type(st, 9) == SQLITE_NULL ? 0 : sqlite3_column_int(st, 9);
    r->credibility = cred >= 1 && cred <= 6 ? cred : 0;
    return BT_OK;
}

static int prepare(bt_store *s, const char *sql, sqlite3_stmt **st, const char *what)
{
    int rc = sqlite3_prepare_v2(bt__sq_of(s)->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(*st);
        *st = NULL;
        return bt__sq_fail(s, rc, "%s", what);
    }
    return BT_OK;
}

int bt__sq_index_scan(bt_store *s, int (*cb)(const struct bt__index_row *row, void *udata),
                         void *udata, int *stopped)
{
    sqlite3_stmt *st;
    *stopped = 0;
    int rc = prepare(s, scan_sql, &st, "reading incidents for the index");
    if (rc) return rc;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        struct bt__index_row r;
        rc = read_row(s, st, &r);
        if (rc) break;
        if (cb(&r, udata)) {
            *stopped = 1;
            break;
        }
    }
    if (!rc && !*stopped && src != SQLITE_DONE)
        rc = bt__sq_fail(s, src, "reading incidents for the index");
    sqlite3_finalize(st);
    return rc;
}

int bt__sq_index_rows(bt_store *s, const int64_t *ids, size_t n,
                         int (*cb)(int64_t id, const struct bt__index_row *row, void *udata),
                         void *udata)
{
    sqlite3_stmt *st;
    int rc = prepare(s, row_sql, &st, "reading changed incidents for the index");
    if (rc) return rc;
    for (size_t i = 0; i < n && !rc; i++) {
        sqlite3_bind_int64(st, 1, ids[i]);
        int src = sqlite3_step(st);
        struct bt__index_row r;
        if (src == SQLITE_ROW) {
            rc = read_row(s, st, &r);
            if (!rc && cb(ids[i], &r, udata)) break;
        } else if (src == SQLITE_DONE) {
            if (cb(ids[i], NULL, udata)) break;
        } else {
            rc = bt__sq_fail(s, src, "reading incident %lld for the index", (long long)ids[i]);
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

/* The first query of a handle: the R*Tree candidates joined to the table, with the
 * index's columns only (no names, no blobs). The R*Tree is the outer loop (CROSS
 * JOIN); the R*Tree's float32 boxes only narrow, lon/lat make the box exact and the
 * window is the records' own (the unary + keeps the planner off the time index). */
#define BBOX_FROM                                                                      \
    " FROM idx_incidents_geom r CROSS JOIN incidents i ON i.id = r.pkid"              \
    " WHERE r.xmin <= ?1 AND r.xmax >= ?2 AND r.ymin <= ?3 AND r.ymax >= ?4"          \
    " AND i.lon BETWEEN ?2 AND ?1 AND i.lat BETWEEN ?4 AND ?3"                        \
    " AND +i.start_t <= ?5 AND (i.end_t IS NULL OR +i.end_t >= ?6)"

static const char bbox_sql[] = "SELECT " ROW_COLUMNS ", NULL, NULL" BBOX_FROM;

static const char bbox_trust_sql[] =
    "SELECT " ROW_COLUMNS ","
    " (SELECT min(s.reliability) FROM incident_sources l JOIN sources s"
    "  ON s.id = l.source_id WHERE l.incident_id = i.id),"
    " (SELECT min(l.credibility) FROM incident_sources l WHERE l.incident_id = i.id)"
    BBOX_FROM;

int bt__sq_index_rows_bbox(bt_store *s, bt_bbox box, int64_t from, int64_t to, bool trust,
                           int (*cb)(const struct bt__index_row *row, void *udata),
                           void *udata)
{
    /* In bulk mode the R*Tree lags behind the table until flushed. */
    int rc = bt__sq_bulk_flush(s);
    if (rc) return rc;
    sqlite3_stmt *st;
    rc = prepare(s, trust ? bbox_trust_sql : bbox_sql, &st, "scanning incidents");
    if (rc) return rc;
    sqlite3_bind_double(st, 1, box.east);
    sqlite3_bind_double(st, 2, box.west);
    sqlite3_bind_double(st, 3, box.north);
    sqlite3_bind_double(st, 4, box.south);
    sqlite3_bind_int64(st, 5, to);
    sqlite3_bind_int64(st, 6, from);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        struct bt__index_row r;
        rc = read_row(s, st, &r);
        if (rc || cb(&r, udata)) break;
    }
    if (!rc && src != SQLITE_ROW && src != SQLITE_DONE)
        rc = bt__sq_fail(s, src, "scanning incidents");
    sqlite3_finalize(st);
    return rc;
}

/* SQLite's R*Tree stores 32-bit floats rounded outward (down for a minimum, up for a
 * maximum), so an incident's box holds its point. */
int bt__sq_incident_rtree_boxes(bt_store *s, bt_bbox box,
                                int (*cb)(int64_t id, const bt_bbox *b, void *udata),
                                void *udata)
{
    int rc = bt__sq_bulk_flush(s);
    if (rc) return rc;
    sqlite3_stmt *st;
    rc = prepare(s,
                 "SELECT pkid, xmin, ymin, xmax, ymax FROM idx_incidents_geom"
                 " WHERE xmin <= ?1 AND xmax >= ?2 AND ymin <= ?3 AND ymax >= ?4",
                 &st, "scanning the incidents' spatial index");
    if (rc) return rc;
    sqlite3_bind_double(st, 1, box.east);
    sqlite3_bind_double(st, 2, box.west);
    sqlite3_bind_double(st, 3, box.north);
    sqlite3_bind_double(st, 4, box.south);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        bt_bbox b = {sqlite3_column_double(st, 1), sqlite3_column_double(st, 2),
                     sqlite3_column_double(st, 3), sqlite3_column_double(st, 4)};
        if (cb(sqlite3_column_int64(st, 0), &b, udata)) break;
    }
    if (src != SQLITE_ROW && src != SQLITE_DONE)
        rc = bt__sq_fail(s, src, "scanning the incidents' spatial index");
    sqlite3_finalize(st);
    return rc;
}

/* The update hook: only notes ids; it must not run SQL. */
static void on_update(void *udata, int op, const char *db, const char *table,
                      sqlite3_int64 rowid)
{
    bt_store *s = udata;
    if (strcmp(db, "main") == 0) {
        if (strcmp(table, "incidents") == 0)
            bt__index_note_incident(s, rowid);
        else if (strcmp(table, "sources") == 0 && op != SQLITE_INSERT)
            bt__index_invalidate(s);
    } else if (strcmp(db, "temp") == 0 && strcmp(table, "bt__link_log") == 0) {
        bt__index_note_incident(s, rowid);
    }
}

int bt__sq_index_watch(bt_store *s)
{
    sqlite3 *db = bt__sq_of(s)->db;
    /* A read-only connection writes nothing; other writers show in the data version. */
    if (s->flags & BT_OPEN_READWRITE) {
        for (size_t i = 0; i < sizeof watch_sql / sizeof watch_sql[0]; i++) {
            int rc = sqlite3_exec(db, watch_sql[i], NULL, NULL, NULL);
            if (rc != SQLITE_OK) return bt__sq_fail(s, rc, "setting up the index write watch");
        }
    }
    sqlite3_update_hook(db, on_update, s);
    return BT_OK;
}

/* ---- the data version, and the check that spares most of its PRAGMAs ----------
 *
 * PRAGMA data_version starts (and ends) a read transaction: fcntl locks, an fstat and
 * a read of the WAL index, about half of an empty query's cost. In WAL mode every
 * commit, checkpoint restart and recovery by any connection rewrites the WAL-index
 * header in the shared -shm mapping (https://www.sqlite.org/walformat.html), and that
 * header is what SQLite itself compares to decide that the database changed. So: read
 * the header, and if it is byte for byte the one read just before the last PRAGMA that
 * ran outside any transaction, nobody has committed since and that PRAGMA's answer
 * still holds. Anything else runs the PRAGMA. The mapping is asked for only once the
 * connection is known to be in WAL mode with its WAL index mapped (a PRAGMA has run),
 * since xShmMap on a connection without one would create the shared memory; and only
 * while the pager's journal file is the WAL file it had then (journal_file()). Other
 * connections cannot take the file out of WAL mode: that needs an exclusive lock, and
 * a connection in WAL mode holds a shared lock on the file while its WAL is open. */
#define CHK_UNKNOWN 0
#define CHK_OFF 1
#define CHK_WAL 2
#define WAL_HDR_SIZE 48

void bt__sq_change_check_reset(bt_store *s)
{
    struct bt__sq *q = bt__sq_of(s);
    if (!q) return;
    q->chk_mode = CHK_UNKNOWN;
    q->chk_saved = false;
}

/* Copies the WAL-index header into hdr; false if it cannot be trusted right now. */
static bool wal_header(struct bt__sq *q, unsigned char *hdr)
{
    sqlite3_file *f = NULL;
    if (sqlite3_file_control(q->db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK ||
        !f || !f->pMethods || f->pMethods->iVersion < 2 || !f->pMethods->xShmMap ||
        !f->pMethods->xShmBarrier)
        return false;
    volatile void *p = NULL;
    /* SQLITE_READONLY here means a read-only -shm SQLite may not trust: not OK */
    if (f->pMethods->xShmMap(f, 0, 32768, 0, &p) != SQLITE_OK || !p) return false;
    unsigned char h2[WAL_HDR_SIZE];
    /* the order and the barrier SQLite reads them with (walIndexTryHdr): a writer
     * writes the second copy first */
    memcpy(hdr, (const void *)p, WAL_HDR_SIZE);
    f->pMethods->xShmBarrier(f);
    memcpy(h2, (const unsigned char *)p + WAL_HDR_SIZE, WAL_HDR_SIZE);
    f->pMethods->xShmBarrier(f);
    return memcmp(hdr, h2, WAL_HDR_SIZE) == 0 && hdr[12] != 0; /* isInit */
}

/* One text answer of a PRAGMA, compared; false on any failure. */
static bool pragma_is(sqlite3 *db, const char *sql, const char *want)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return false;
    }
    bool is = false;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *m = sqlite3_column_text(st, 0);
        is = m && strcmp((const char *)m, want) == 0;
    }
    sqlite3_finalize(st);
    return is;
}

/* The pager's journal file: its WAL file while the WAL is open, else its rollback
 * journal's (sqlite3PagerJrnlFile). Another one than when the mode was found means the
 * WAL was closed or opened since, whoever changed the journal mode. */
static void *journal_file(struct bt__sq *q)
{
    sqlite3_file *j = NULL;
    if (sqlite3_file_control(q->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &j) != SQLITE_OK)
        return NULL;
    return j;
}

/* Is the connection in WAL mode with its WAL index in shared memory? Asked once a read
 * transaction has opened the WAL (exclusive locking mode may keep the index in heap
 * memory). A failure leaves the check off. */
static void find_mode(struct bt__sq *q)
{
    q->chk_jfd = journal_file(q);
    q->chk_mode = q->chk_jfd && pragma_is(q->db, "PRAGMA main.journal_mode", "wal") &&
                          pragma_is(q->db, "PRAGMA main.locking_mode", "normal")
                      ? CHK_WAL
                      : CHK_OFF;
}

/* Asked before every query: the statement is kept in the index (prepared once, it
 * costs ~1 us instead of ~12) and finalized by bt__sq_index_release(). */
int bt__sq_data_version(bt_store *s, uint64_t *version)
{
    struct bt__sq *q = bt__sq_of(s);
    unsigned char hdr[WAL_HDR_SIZE];
    bool have_hdr = false;
    if (q->chk_mode != CHK_UNKNOWN && journal_file(q) != q->chk_jfd)
        bt__sq_change_check_reset(s);
    if (q->chk_mode == CHK_WAL) {
        have_hdr = wal_header(q, hdr);
        if (have_hdr && q->chk_saved && memcmp(hdr, q->chk_hdr, WAL_HDR_SIZE) == 0) {
            *version = q->chk_version;
            return BT_OK;
        }
    }
#if SQLITE_VERSION_NUMBER >= 3034000
    /* only a PRAGMA that starts its own read transaction sees the newest commit */
    bool fresh = sqlite3_txn_state(q->db, "main") == SQLITE_TXN_NONE;
#else
    bool fresh = false;
#endif
    sqlite3_stmt *st = s->index ? s->index->be_cache : NULL;
    int rc;
    if (!st) {
        rc = prepare(s, "PRAGMA data_version", &st, "reading the data version");
        if (rc) return rc;
        if (s->index) s->index->be_cache = st;
    }
    rc = BT_OK;
    q->chk_runs++;
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *version = (uint64_t)sqlite3_column_int64(st, 0);
    else
        rc = bt__sq_fail(s, src, "reading the data version");
    sqlite3_reset(st);
    if (!s->index || s->index->be_cache != st) sqlite3_finalize(st);
    if (rc || !fresh) return rc;
    if (q->chk_mode == CHK_UNKNOWN) {
        find_mode(q);
        return BT_OK;
    }
    /* the header read before the PRAGMA: a commit in between makes it differ next time */
    q->chk_saved = have_hdr;
    if (have_hdr) {
        memcpy(q->chk_hdr, hdr, WAL_HDR_SIZE);
        q->chk_version = *version;
    }
    return BT_OK;
}

void bt__sq_index_release(bt_store *s)
{
    struct bt__sq *q = bt__sq_of(s);
    if (!q || !q->db) return;
    if (s->index && s->index->be_cache) {
        sqlite3_finalize(s->index->be_cache);
        s->index->be_cache = NULL;
    }
    sqlite3_update_hook(q->db, NULL, NULL);
}

bool bt__sq_in_transaction(bt_store *s)
{
    return sqlite3_get_autocommit(bt__sq_of(s)->db) == 0;
}

/* Ids from an R*Tree whose boxes meet the box, increasing; a bt__malloc'd array. */
static int rtree_ids(bt_store *s, const char *sql, bt_bbox box, int64_t **ids, size_t *n,
                     const char *what)
{
    *ids = NULL;
    *n = 0;
    sqlite3_stmt *st;
    int rc = prepare(s, sql, &st, what);
    if (rc) return rc;
    sqlite3_bind_double(st, 1, box.east);
    sqlite3_bind_double(st, 2, box.west);
    sqlite3_bind_double(st, 3, box.north);
    sqlite3_bind_double(st, 4, box.south);
    size_t cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            int64_t *na = bt__realloc(*ids, ncap * sizeof *na);
            if (!na) {
                rc = bt__error(s, BT_ERR_NOMEM, "%s: out of memory", what);
                break;
            }
            *ids = na;
            cap = ncap;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    if (!rc && src != SQLITE_DONE) rc = bt__sq_fail(s, src, "%s", what);
    sqlite3_finalize(st);
    if (rc) {
        bt__free(*ids);
        *ids = NULL;
        *n = 0;
    }
    return rc;
}

int bt__sq_installation_scan_bbox(bt_store *s, bt_bbox box,
                                     int (*cb)(const bt_installation *inst, void *udata),
                                     void *udata)
{
    int64_t *ids;
    size_t n;
    int rc = rtree_ids(s,
                       "SELECT pkid FROM idx_installations_geom WHERE xmin <= ?1 AND"
                       " xmax >= ?2 AND ymin <= ?3 AND ymax >= ?4 ORDER BY pkid",
                       box, &ids, &n, "scanning installations");
    for (size_t i = 0; i < n && !rc; i++) {
        bt_installation *inst = NULL;
        rc = bt__sq_installation_get(s, ids[i], &inst);
        if (rc == BT_ERR_NOT_FOUND) { /* gone meanwhile (a callback deleted it) */
            bt__clear_error(s);
            rc = BT_OK;
            continue;
        }
        if (rc) break;
        int stop = cb(inst, udata);
        bt_installation_free(inst);
        if (stop) break;
    }
    bt__free(ids);
    return rc;
}

int bt__sq_segment_scan_bbox(bt_store *s, bt_bbox box,
                                int (*cb)(const bt_segment *seg, void *udata), void *udata)
{
    int64_t *ids;
    size_t n;
    int rc = rtree_ids(s,
                       "SELECT pkid FROM idx_borders_geom WHERE xmin <= ?1 AND"
                       " xmax >= ?2 AND ymin <= ?3 AND ymax >= ?4 ORDER BY pkid",
                       box, &ids, &n, "scanning border segments");
    for (size_t i = 0; i < n && !rc; i++) {
        bt_segment *seg = NULL;
        rc = bt__sq_segment_get(s, ids[i], &seg);
        if (rc == BT_ERR_NOT_FOUND) {
            bt__clear_error(s);
            rc = BT_OK;
            continue;
        }
        if (rc) break;
        int stop = cb(seg, udata);
        bt_segment_free(seg);
        if (stop) break;
    }
    bt__free(ids);
    return rc;
}


/* ---- the persisted index (schema step 3) ------------------------------------ */

/* Reads one integer from a statement without parameters; *found = 0 when no row. */
static int query_int64(sqlite3 *db, const char *sql, int64_t *v, bool *found)
{
    sqlite3_stmt *st = NULL;
    *found = false;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return rc;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *v = sqlite3_column_int64(st, 0);
        *found = true;
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

int bt__sq_index_generation(bt_store *s, int64_t *gen)
{
    bool found;
    *gen = -1;
    int rc = query_int64(bt__sq_of(s)->db, "SELECT generation FROM bt_meta WHERE id = 1",
                         gen, &found);
    if (rc == SQLITE_ERROR) return BT_OK; /* no such table: a file without the step */
    if (rc != SQLITE_OK) return bt__sq_fail(s, rc, "reading the index generation");
    if (!found) *gen = -1;
    return BT_OK;
}

static int blob_rd(void *rh, void *buf, size_t n, size_t off)
{
    if (n > INT_MAX || off > (size_t)INT_MAX - n) return 1;
    return sqlite3_blob_read(rh, buf, (int)n, (int)off) != SQLITE_OK;
}

int bt__sq_index_load(bt_store *s, const char *name,
                      int (*fill)(void *udata, size_t len,
                                  int (*rd)(void *rh, void *buf, size_t n, size_t off),
                                  void *rh),
                      void *udata, bool *found, int *fill_rc)
{
    sqlite3 *db = bt__sq_of(s)->db;
    *found = false;
    *fill_rc = 0;
    /* The generation and the copy must come from one snapshot. */
    bool own_txn = sqlite3_get_autocommit(db) != 0;
    int rc = own_txn ? sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) : SQLITE_OK;
    if (rc != SQLITE_OK) return bt__sq_fail(s, rc, "reading the persisted index");
    int64_t gen = -1, rowid = 0, pgen = -2, len = 0;
    bool have;
    rc = query_int64(db, "SELECT generation FROM bt_meta WHERE id = 1", &gen, &have);
    sqlite3_stmt *st = NULL;
    if (rc == SQLITE_OK && have) {
        rc = sqlite3_prepare_v2(db, "SELECT rowid, generation, length(data) FROM bt_index"
                                    " WHERE name = ?1", -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
            rc = sqlite3_step(st);
            if (rc == SQLITE_ROW) {
                rowid = sqlite3_column_int64(st, 0);
                pgen = sqlite3_column_int64(st, 1);
                len = sqlite3_column_int64(st, 2);
                rc = SQLITE_OK;
            } else if (rc == SQLITE_DONE) {
                rc = SQLITE_OK;
            }
        }
        sqlite3_finalize(st);
    }
    int ret = BT_OK;
    if (rc == SQLITE_ERROR) rc = SQLITE_OK; /* no such table: nothing persisted */
    if (rc != SQLITE_OK) ret = bt__sq_fail(s, rc, "reading the persisted index");
    if (!ret && have && pgen == gen && len > 0 && (uint64_t)len <= (uint64_t)INT_MAX) {
        sqlite3_blob *b = NULL;
        rc = sqlite3_blob_open(db, "main", "bt_index", "data", rowid, 0, &b);
        if (rc == SQLITE_OK) {
            *found = true;
            *fill_rc = fill(udata, (size_t)len, blob_rd, b);
        } else {
            ret = bt__sq_fail(s, rc, "opening the persisted index");
        }
        sqlite3_blob_close(b);
    }
    if (own_txn) sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    return ret;
}

int bt__sq_index_save(bt_store *s, const char *name, int64_t gen, size_t nparts,
                      const void *const *parts, const size_t *lens, bool *saved)
{
    sqlite3 *db = bt__sq_of(s)->db;
    *saved = false;
    size_t total = 0;
    for (size_t i = 0; i < nparts; i++) total += lens[i];
    if (!(s->flags & BT_OPEN_READWRITE) || sqlite3_get_autocommit(db) == 0 ||
        total > (size_t)INT_MAX)
        return BT_OK;
    /* Saving is an optimisation: do not wait for another writer. */
    sqlite3_busy_timeout(db, 0);
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    sqlite3_busy_timeout(db, BT__BUSY_TIMEOUT_MS);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return BT_OK;
    if (rc != SQLITE_OK) return bt__sq_fail(s, rc, "saving the index");
    int64_t cur = -1;
    bool have;
    sqlite3_stmt *st = NULL;
    rc = query_int64(db, "SELECT generation FROM bt_meta WHERE id = 1", &cur, &have);
    if (rc == SQLITE_OK && (!have || cur != gen)) goto rollback; /* changed meanwhile */
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO bt_index (name, generation, data)"
                                    " VALUES (?1, ?2, zeroblob(?3))", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, gen);
        sqlite3_bind_int(st, 3, (int)total);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_OK) {
        sqlite3_blob *b = NULL;
        rc = sqlite3_blob_open(db, "main", "bt_index", "data", sqlite3_last_insert_rowid(db),
                               1, &b);
        size_t off = 0;
        for (size_t i = 0; i < nparts && rc == SQLITE_OK; i++) {
            if (lens[i]) rc = sqlite3_blob_write(b, parts[i], (int)lens[i], (int)off);
            off += lens[i];
        }
        int crc = sqlite3_blob_close(b);
        if (rc == SQLITE_OK) rc = crc;
    }
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc == SQLITE_OK) {
        *saved = true;
        return BT_OK;
    }
    {
        int ret = bt__sq_fail(s, rc, "saving the index");
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return ret;
    }
rollback:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc == SQLITE_OK ? BT_OK : bt__sq_fail(s, rc, "saving the index");
}
