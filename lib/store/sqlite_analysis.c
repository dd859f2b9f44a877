/**
 * @file sqlite_analysis.c
 * @brief The SpatiaLite backend's border-analysis operations: the `observations`
 * table of observed chainage ranges (backend.h, "border analysis").
 *
 * The table is created here on first write (CREATE TABLE IF NOT EXISTS) until the
 * schema migration carries it (OBS_DDL below is the statement to add there); a
 * store without the table simply has no observed range.
 */
#include "sqlite_analysis.h"

#include <stdio.h>
#include <string.h>

#define OBS_DDL                                                    \
    "CREATE TABLE IF NOT EXISTS observations ("                    \
    " id INTEGER PRIMARY KEY,"                                     \
    " border TEXT NOT NULL,"                                       \
    " from_m REAL NOT NULL,"                                       \
    " to_m REAL NOT NULL CHECK (to_m >= from_m),"                  \
    " observed_t INTEGER NOT NULL,"                                \
    " observed_prec TEXT NOT NULL,"                                \
    " observed_by TEXT NOT NULL,"                                  \
    " note TEXT)"
#define OBS_INDEX_DDL \
    "CREATE INDEX IF NOT EXISTS observations_border ON observations(border, from_m)"

static int obs_table_exists(bt_store *s, bool *exists)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(bt__sq_of(s)->db,
                                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                "name = 'observations'",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return bt__sq_fail(s, rc, "looking for the observations table");
    }
    rc = sqlite3_step(st);
    *exists = rc == SQLITE_ROW;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return bt__sq_fail(s, rc, "looking for the observations table");
    return BT_OK;
}

int bt__sq_obs_insert(bt_store *s, const bt_obs_range *r, int64_t *id)
{
    sqlite3 *db = bt__sq_of(s)->db;
    int rc = sqlite3_exec(db, OBS_DDL, NULL, NULL, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, OBS_INDEX_DDL, NULL, NULL, NULL);
    if (rc != SQLITE_OK) return bt__sq_fail(s, rc, "creating the observations table");
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(db,
                            "INSERT INTO observations (border, from_m, to_m, observed_t,"
                            " observed_prec, observed_by, note) VALUES (?,?,?,?,?,?,?)",
                            -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return bt__sq_fail(s, rc, "observed range of border '%s'", r->border);
    }
    sqlite3_bind_text(st, 1, r->border, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 2, r->from_m);
    sqlite3_bind_double(st, 3, r->to_m);
    sqlite3_bind_int64(st, 4, r->when.t);
    sqlite3_bind_text(st, 5, bt_enum_name(BT_ENUM_TIME_PRECISION, (int)r->when.precision), -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 6, bt_enum_name(BT_ENUM_OBSERVATION, (int)r->by), -1,
                      SQLITE_STATIC);
    if (r->note)
        sqlite3_bind_text(st, 7, r->note, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 7);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return bt__sq_fail(s, rc, "observed range of border '%s'", r->border);
    *id = sqlite3_last_insert_rowid(db);
    bt__sq_after_write(s);
    return BT_OK;
}

int bt__sq_obs_delete(bt_store *s, int64_t id)
{
    bool exists;
    int rc = obs_table_exists(s, &exists);
    if (rc != BT_OK) return rc;
    if (!exists) return bt__error(s, BT_ERR_NOT_FOUND, "observed range %lld: no such id",
                                  (long long)id);
    sqlite3 *db = bt__sq_of(s)->db;
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(db, "DELETE FROM observations WHERE id = ?", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return bt__sq_fail(s, rc, "deleting observed range %lld", (long long)id);
    }
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return bt__sq_fail(s, rc, "deleting observed range %lld", (long long)id);
    if (sqlite3_changes(db) == 0)
        return bt__error(s, BT_ERR_NOT_FOUND, "observed range %lld: no such id",
                         (long long)id);
    bt__sq_after_write(s);
    return BT_OK;
}

int bt__sq_obs_list(bt_store *s, const char *border, bt_obs_range **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    bool exists;
    int rc = obs_table_exists(s, &exists);
    if (rc != BT_OK || !exists) return rc;
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(bt__sq_of(s)->db,
                            "SELECT id, from_m, to_m, observed_t, observed_prec, observed_by"
                            " FROM observations WHERE border = ? ORDER BY id",
                            -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return bt__sq_fail(s, rc, "observed ranges of border '%s'", border);
    }
    sqlite3_bind_text(st, 1, border, -1, SQLITE_STATIC);
    bt_obs_range *v = NULL;
    size_t cap = 0;
    int ret = BT_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t nc = cap ? 2 * cap : 16;
            bt_obs_range *nv = bt__realloc(v, nc * sizeof *nv);
            if (!nv) {
                ret = bt__error(s, BT_ERR_NOMEM, "observed ranges of border '%s': out of memory",
                                border);
                break;
            }
            v = nv;
            cap = nc;
        }
        bt_obs_range *r = &v[*n];
        memset(r, 0, sizeof *r);
        r->id = sqlite3_column_int64(st, 0);
        r->from_m = sqlite3_column_double(st, 1);
        r->to_m = sqlite3_column_double(st, 2);
        r->when.t = sqlite3_column_int64(st, 3);
        int val = 0;
        const char *prec = (const char *)sqlite3_column_text(st, 4);
        const char *by = (const char *)sqlite3_column_text(st, 5);
        if (!prec || bt_enum_parse(BT_ENUM_TIME_PRECISION, prec, &val) != BT_OK) {
            ret = bt__error(s, BT_ERR_INTERNAL, "observed range %lld: bad precision",
                            (long long)r->id);
            break;
        }
        r->when.precision = (bt_time_precision)val;
        if (!by || bt_enum_parse(BT_ENUM_OBSERVATION, by, &val) != BT_OK) {
            ret = bt__error(s, BT_ERR_INTERNAL, "observed range %lld: bad observed_by",
                            (long long)r->id);
            break;
        }
        r->by = (bt_observation)val;
        (*n)++;
    }
    if (ret == BT_OK && rc != SQLITE_DONE)
        ret = bt__sq_fail(s, rc, "observed ranges of border '%s'", border);
    sqlite3_finalize(st);
    if (ret != BT_OK) {
        bt__free(v);
        *n = 0;
        return ret;
    }
    *out = v;
    return BT_OK;
}

/* ---- stored chainage -------------------------------------------------------- */

static const char *const ch_kind_name[] = {"incident", "installation"};
static const char *const ch_side_name[] = {"on", "left", "right"};

/* Prepares a statement on the store's connection, reporting failure as `what`. */
static int ch_prepare(bt_store *s, const char *sql, sqlite3_stmt **st, const char *what,
                      const char *border)
{
    int rc = sqlite3_prepare_v2(bt__sq_of(s)->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(*st);
        *st = NULL;
        return bt__sq_fail(s, rc, "stored chainage of border '%s': %s", border, what);
    }
    return BT_OK;
}

int bt__sq_chainage_state(bt_store *s, const char *border, bool *supported, bool *valid,
                          int64_t *done_seq, double *length_m, int64_t *nparts)
{
    *supported = *valid = false;
    *done_seq = 0;
    *length_m = 0.0;
    *nparts = 0;
    /* in bulk mode the queue lags behind the incidents table until flushed */
    int rc = bt__sq_bulk_flush(s);
    if (rc != BT_OK) return rc;
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(bt__sq_of(s)->db,
                                "SELECT done_seq, length_m, nparts FROM chainage_state"
                                " WHERE border = ?",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        /* a store without the tables (opened by an older library? never: migrated)
         * cannot hold stored chainage; the caller computes on the fly */
        sqlite3_finalize(st);
        return BT_OK;
    }
    *supported = true;
    sqlite3_bind_text(st, 1, border, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *valid = true;
        *done_seq = sqlite3_column_int64(st, 0);
        *length_m = sqlite3_column_double(st, 1);
        *nparts = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return bt__sq_fail(s, rc, "stored chainage state of border '%s'", border);
    return BT_OK;
}

static int push_id(int64_t **v, size_t *n, size_t *cap, int64_t id)
{
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 64;
        int64_t *nv = bt__realloc(*v, nc * sizeof *nv);
        if (!nv) return BT_ERR_NOMEM;
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = id;
    return BT_OK;
}

int bt__sq_chainage_pending(bt_store *s, int64_t after, int64_t **inc, size_t *ninc,
                            int64_t **inst, size_t *ninst, int64_t *max_seq)
{
    *inc = *inst = NULL;
    *ninc = *ninst = 0;
    *max_seq = 0;
    size_t cinc = 0, cinst = 0;
    sqlite3_stmt *st = NULL;
    int rc = ch_prepare(s, "SELECT seq, kind, record_id FROM chainage_pending WHERE seq > ?"
                           " ORDER BY seq", &st, "reading the queue", "");
    if (rc != BT_OK) return rc;
    sqlite3_bind_int64(st, 1, after);
    int ret = BT_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        *max_seq = sqlite3_column_int64(st, 0);
        const char *kind = (const char *)sqlite3_column_text(st, 1);
        int64_t id = sqlite3_column_int64(st, 2);
        bool is_inc = kind && strcmp(kind, "incident") == 0;
        if (push_id(is_inc ? inc : inst, is_inc ? ninc : ninst, is_inc ? &cinc : &cinst, id)) {
            ret = bt__error(s, BT_ERR_NOMEM, "stored chainage queue: out of memory");
            break;
        }
    }
    if (ret == BT_OK && rc != SQLITE_DONE)
        ret = bt__sq_fail(s, rc, "reading the stored chainage queue");
    sqlite3_finalize(st);
    if (ret == BT_OK && *max_seq == 0) {
        /* nothing after `after`: still report the highest seq queued (0: none) */
        st = NULL;
        ret = ch_prepare(s, "SELECT max(seq) FROM chainage_pending", &st, "reading the queue", "");
        if (ret == BT_OK) {
            if (sqlite3_step(st) == SQLITE_ROW) *max_seq = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
    }
    if (ret != BT_OK) {
        bt__free(*inc);
        bt__free(*inst);
        *inc = *inst = NULL;
        *ninc = *ninst = 0;
    }
    return ret;
}

int bt__sq_chainage_clear(bt_store *s, const char *border, int kind, int64_t record_id)
{
    if (record_id < 0) {
        /* a whole recompute follows: its index inserts (chainage_record, in random
         * order) stay in a larger page cache instead of going to the file (measured
         * on 200,000 rows: 6.6 -> 3.8 us a row). The connection keeps the setting;
         * SQLite allocates cache pages only as they are used. */
        sqlite3_exec(bt__sq_of(s)->db, "PRAGMA cache_size=-65536", NULL, NULL, NULL);
    }
    sqlite3_stmt *st = NULL;
    int rc = record_id < 0
                 ? ch_prepare(s, "DELETE FROM chainage WHERE border = ?", &st, "clearing", border)
                 : ch_prepare(s, "DELETE FROM chainage WHERE kind = ? AND record_id = ?"
                                 " AND border = ?", &st, "clearing", border);
    if (rc != BT_OK) return rc;
    if (record_id < 0) {
        sqlite3_bind_text(st, 1, border, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_text(st, 1, ch_kind_name[kind], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, record_id);
        sqlite3_bind_text(st, 3, border, -1, SQLITE_STATIC);
    }
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return bt__sq_fail(s, rc, "clearing stored chainage of '%s'", border);
    return BT_OK;
}

int bt__sq_chainage_put(bt_store *s, const char *border, int kind,
                        const struct bt__chainage_row *rows, size_t n)
{
    if (n == 0) return BT_OK;
    sqlite3_stmt *st = NULL;
    int rc = ch_prepare(s,
                        "INSERT OR REPLACE INTO chainage (border, kind, chainage_m, record_id,"
                        " chainage_to_m, offset_m, side, segment_id, type, start_t, end_t, lon,"
                        " lat) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        &st, "writing", border);
    if (rc != BT_OK) return rc;
    bt_enum ek = kind == BT__CH_INCIDENT ? BT_ENUM_INCIDENT_TYPE : BT_ENUM_INSTALL_KIND;
    sqlite3_bind_text(st, 1, border, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ch_kind_name[kind], -1, SQLITE_STATIC);
    int ret = BT_OK;
    for (size_t i = 0; i < n && ret == BT_OK; i++) {
        const struct bt__chainage_row *r = &rows[i];
        const char *tn = bt_enum_name(ek, r->type);
        sqlite3_bind_double(st, 3, r->chainage_m);
        sqlite3_bind_int64(st, 4, r->record_id);
        sqlite3_bind_double(st, 5, r->chainage_to_m);
        sqlite3_bind_double(st, 6, r->offset_m);
        sqlite3_bind_text(st, 7, ch_side_name[r->side], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 8, r->segment_id);
        sqlite3_bind_text(st, 9, tn ? tn : "", -1, SQLITE_STATIC);
        if (r->start_t == INT64_MIN) sqlite3_bind_null(st, 10);
        else sqlite3_bind_int64(st, 10, r->start_t);
        if (r->end_t == INT64_MAX) sqlite3_bind_null(st, 11);
        else sqlite3_bind_int64(st, 11, r->end_t);
        sqlite3_bind_double(st, 12, r->where.lon);
        sqlite3_bind_double(st, 13, r->where.lat);
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            ret = bt__sq_fail(s, rc, "writing stored chainage of '%s', %s %lld", border,
                              ch_kind_name[kind], (long long)r->record_id);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return ret;
}

int bt__sq_chainage_set_state(bt_store *s, const char *border, int64_t done_seq,
                              double length_m, int64_t nparts)
{
    sqlite3_stmt *st = NULL;
    int rc = ch_prepare(s,
                        "INSERT OR REPLACE INTO chainage_state (border, done_seq, length_m,"
                        " nparts) VALUES (?,?,?,?)", &st, "marking it valid", border);
    if (rc != BT_OK) return rc;
    sqlite3_bind_text(st, 1, border, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, done_seq);
    sqlite3_bind_double(st, 3, length_m);
    sqlite3_bind_int64(st, 4, nparts);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return bt__sq_fail(s, rc, "marking stored chainage of '%s' valid", border);
    /* queue entries every valid border has taken in; a stale border is recomputed
     * whole, so it needs none */
    rc = sqlite3_exec(bt__sq_of(s)->db,
                      "DELETE FROM chainage_pending WHERE seq <="
                      " (SELECT min(done_seq) FROM chainage_state)",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK) return bt__sq_fail(s, rc, "trimming the stored chainage queue");
    return BT_OK;
}

int bt__sq_chainage_scan(bt_store *s, const char *border, int kind, double from_m,
                         double to_m, int (*cb)(const struct bt__chainage_row *r, void *udata),
                         void *udata)
{
    sqlite3_stmt *st = NULL;
    int rc = ch_prepare(s,
                        "SELECT record_id, segment_id, chainage_m, chainage_to_m, offset_m,"
                        " side, type, start_t, end_t, lon, lat FROM chainage"
                        " WHERE border = ? AND kind = ? AND chainage_m BETWEEN ? AND ?"
                        " ORDER BY chainage_m, record_id",
                        &st, "reading", border);
    if (rc != BT_OK) return rc;
    sqlite3_bind_text(st, 1, border, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ch_kind_name[kind], -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, from_m);
    sqlite3_bind_double(st, 4, to_m);
    bt_enum ek = kind == BT__CH_INCIDENT ? BT_ENUM_INCIDENT_TYPE : BT_ENUM_INSTALL_KIND;
    /* the type names repeat: remember the last one parsed */
    char last[64] = "";
    int last_val = 0;
    int ret = BT_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct bt__chainage_row r;
        r.record_id = sqlite3_column_int64(st, 0);
        r.segment_id = sqlite3_column_int64(st, 1);
        r.chainage_m = sqlite3_column_double(st, 2);
        r.chainage_to_m = sqlite3_column_double(st, 3);
        r.offset_m = sqlite3_column_double(st, 4);
        const char *side = (const char *)sqlite3_column_text(st, 5);
        r.side = !side ? BT_SIDE_ON
                       : (strcmp(side, "left") == 0 ? BT_SIDE_LEFT
                                                    : (strcmp(side, "right") == 0 ? BT_SIDE_RIGHT
                                                                                  : BT_SIDE_ON));
        const char *tn = (const char *)sqlite3_column_text(st, 6);
        if (!tn) tn = "";
        if (strcmp(tn, last) != 0) {
            if (bt_enum_parse(ek, tn, &last_val) != BT_OK) {
                ret = bt__error(s, BT_ERR_INTERNAL, "stored chainage of '%s': bad type '%s'",
                                border, tn);
                break;
            }
            snprintf(last, sizeof last, "%s", tn);
        }
        r.type = last_val;
        r.start_t = sqlite3_column_type(st, 7) == SQLITE_NULL ? INT64_MIN
                                                               : sqlite3_column_int64(st, 7);
        r.end_t = sqlite3_column_type(st, 8) == SQLITE_NULL ? INT64_MAX
                                                             : sqlite3_column_int64(st, 8);
        r.where.lon = sqlite3_column_double(st, 9);
        r.where.lat = sqlite3_column_double(st, 10);
        if (cb(&r, udata)) break;
    }
    if (ret == BT_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        ret = bt__sq_fail(s, rc, "reading stored chainage of '%s'", border);
    sqlite3_finalize(st);
    return ret;
}
