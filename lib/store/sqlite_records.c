/**
 * @file sqlite_records.c
 * @brief Create, read, update and delete of every record type, and the incident scan
 * through the R*Tree, for the SpatiaLite backend.
 *
 * Every value is bound as a parameter. Strings are bound SQLITE_STATIC: the statement
 * runs to completion before the function returns, while the caller's record lives.
 */
#include "sqlite_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Small buffer for the BLOB of a Point; LineStrings get a heap buffer. */
#define POINT_BLOB_SIZE 60

/* ------------------------------------------------------------------------- */
/* Binding */

int bt__sq_bind_text(sqlite3_stmt *st, int i, const char *text)
{
    return text ? sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

int bt__sq_bind_enum(bt_store *s, sqlite3_stmt *st, int i, bt_enum which, int value,
                     const char *what)
{
    const char *name = bt_enum_name(which, value);
    if (!name)
        return bt__error(s, BT_ERR_INVALID, "%s: value %d is not valid for its field", what,
                         value);
    return sqlite3_bind_text(st, i, name, -1, SQLITE_STATIC) == SQLITE_OK
               ? BT_OK
               : bt__sq_fail(s, SQLITE_ERROR, "%s: binding a value", what);
}

/* An optional date: two NULLs when absent. */
int bt__sq_bind_date(bt_store *s, sqlite3_stmt *st, int it, int ip, bt_date d, const char *what)
{
    if (d.precision == BT_TIME_NONE) {
        sqlite3_bind_null(st, it);
        sqlite3_bind_null(st, ip);
        return BT_OK;
    }
    sqlite3_bind_int64(st, it, d.t);
    return bt__sq_bind_enum(s, st, ip, BT_ENUM_TIME_PRECISION, (int)d.precision, what);
}

/* Binds a Point or LineString BLOB; *heap receives a buffer to free after the step. */
static int bind_geom(bt_store *s, sqlite3_stmt *st, int i, const bt_lonlat *pts, size_t n,
                     unsigned char *small, unsigned char **heap, const char *what)
{
    *heap = NULL;
    if (!pts || n == 0) return bt__error(s, BT_ERR_INVALID, "%s: no geometry", what);
    size_t size = bt__splite_blob_size(n);
    unsigned char *buf = small;
    if (size > POINT_BLOB_SIZE) {
        if (n > (size_t)INT32_MAX / 16)
            return bt__error(s, BT_ERR_INVALID, "%s: too many vertices (%zu)", what, n);
        buf = *heap = bt__malloc(size);
        if (!buf) return bt__error(s, BT_ERR_NOMEM, "%s: out of memory", what);
    }
    bt__splite_encode(buf, pts, n);
    return sqlite3_bind_blob(st, i, buf, (int)size, SQLITE_STATIC) == SQLITE_OK
               ? BT_OK
               : bt__sq_fail(s, SQLITE_ERROR, "%s: binding the geometry", what);
}

/* ------------------------------------------------------------------------- */
/* Reading columns */

const char *bt__sq_col_text(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NULL
                                                      : (const char *)sqlite3_column_text(st, i);
}

int bt__sq_col_enum(bt_store *s, sqlite3_stmt *st, int i, bt_enum which, int *value,
                    const char *what)
{
    const char *text = bt__sq_col_text(st, i);
    if (!text || bt_enum_parse(which, text, value) != BT_OK)
        return bt__error(s, BT_ERR_INTERNAL, "%s: column '%s' holds an unknown value '%.40s'",
                         what, sqlite3_column_name(st, i), text ? text : "NULL");
    return BT_OK;
}

int bt__sq_col_date(bt_store *s, sqlite3_stmt *st, int it, int ip, bt_date *d, const char *what)
{
    if (sqlite3_column_type(st, it) == SQLITE_NULL) {
        d->t = 0;
        d->precision = BT_TIME_NONE;
        return BT_OK;
    }
    int p = 0;
    int rc = bt__sq_col_enum(s, st, ip, BT_ENUM_TIME_PRECISION, &p, what);
    d->t = sqlite3_column_int64(st, it);
    d->precision = (bt_time_precision)p;
    return rc;
}

/* Decodes a geometry column into a new array (*pts, freed by the caller). */
static int col_geom(bt_store *s, sqlite3_stmt *st, int i, bt_lonlat **pts, size_t *n,
                    bool *is_line, const char *what)
{
    const void *blob = sqlite3_column_blob(st, i);
    size_t len = (size_t)sqlite3_column_bytes(st, i);
    *pts = NULL;
    int rc = bt__splite_decode(s, what, blob, len, NULL, 0, n, is_line);
    if (rc) return rc;
    *pts = bt__malloc(*n * sizeof **pts);
    if (!*pts) return bt__error(s, BT_ERR_NOMEM, "%s: out of memory", what);
    return bt__splite_decode(s, what, blob, len, *pts, *n, n, is_line);
}

/* Decodes a Point column. */
static int col_point(bt_store *s, sqlite3_stmt *st, int i, bt_lonlat *p, const char *what)
{
    size_t n = 0;
    bool line = false;
    int rc = bt__splite_decode(s, what, sqlite3_column_blob(st, i),
                               (size_t)sqlite3_column_bytes(st, i), p, 1, &n, &line);
    if (!rc && line) rc = bt__error(s, BT_ERR_INTERNAL, "%s: geometry is not a Point", what);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Shared shapes of operations */

static sqlite3 *db_of(bt_store *s) { return bt__sq_of(s)->db; }

static bool is_unique_violation(bt_store *s)
{
    int ext = sqlite3_extended_errcode(db_of(s));
    return ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY;
}

static bool is_fk_violation(bt_store *s)
{
    return sqlite3_extended_errcode(db_of(s)) == SQLITE_CONSTRAINT_FOREIGNKEY;
}

/* Steps a bound write statement; on success reports whether a row changed. */
static int step_write(sqlite3_stmt *st, bool *changed)
{
    sqlite3 *db = sqlite3_db_handle(st);
    bool in_txn = !sqlite3_get_autocommit(db);
    int src = sqlite3_step(st);
    /* An error inside a SpatiaLite trigger function (out of memory in its own
     * statements) can make SQLite roll the whole transaction back while this statement
     * reports success; later writes would then each commit on their own. */
    if (src == SQLITE_DONE && in_txn && sqlite3_get_autocommit(db)) return SQLITE_ABORT_ROLLBACK;
    if (src == SQLITE_DONE) *changed = sqlite3_changes(sqlite3_db_handle(st)) > 0;
    return src;
}

/* DELETE ... WHERE id = ?1 for a record kind. */
static int delete_by_id(bt_store *s, enum bt__stmt_id sid, int64_t id, const char *kind)
{
    sqlite3_stmt *st;
    int rc = bt__sq_acquire(s, sid, &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    bool changed = false;
    int src = step_write(st, &changed);
    if (src != SQLITE_DONE)
        rc = bt__sq_fail(s, src, "deleting %s %lld", kind, (long long)id);
    else if (!changed)
        rc = bt__error(s, BT_ERR_NOT_FOUND, "%s %lld does not exist", kind, (long long)id);
    else
        bt__sq_after_write(s);
    bt__sq_release(s, sid, st);
    return rc;
}

/* SELECT id ... WHERE key = ?1. */
static int find_id(bt_store *s, enum bt__stmt_id sid, const char *key, int64_t *id,
                   const char *kind, bool show_key)
{
    sqlite3_stmt *st;
    int rc = bt__sq_acquire(s, sid, &st);
    if (rc) return rc;
    bt__sq_bind_text(st, 1, key);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    else if (src == SQLITE_DONE)
        rc = show_key ? bt__error(s, BT_ERR_NOT_FOUND, "no %s '%.200s'", kind, key)
                      : bt__error(s, BT_ERR_NOT_FOUND, "no %s of that name", kind);
    else
        rc = bt__sq_fail(s, src, "finding a %s", kind);
    bt__sq_release(s, sid, st);
    return rc;
}

/* Runs a "SELECT 1 ... WHERE id = ?1" and tells whether a row exists. */
static int exists(bt_store *s, enum bt__stmt_id sid, int64_t id, bool *found)
{
    sqlite3_stmt *st;
    int rc = bt__sq_acquire(s, sid, &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    int src = sqlite3_step(st);
    *found = src == SQLITE_ROW;
    if (src != SQLITE_ROW && src != SQLITE_DONE) rc = bt__sq_fail(s, src, "looking up id %lld", (long long)id);
    bt__sq_release(s, sid, st);
    return rc;
}

/* Acquires a statement and binds ?1 = id for a single-row read. Returns BT_OK with
 * *row true when the row is there. */
static int get_row(bt_store *s, enum bt__stmt_id sid, int64_t id, sqlite3_stmt **st,
                   const char *kind)
{
    int rc = bt__sq_acquire(s, sid, st);
    if (rc) return rc;
    sqlite3_bind_int64(*st, 1, id);
    int src = sqlite3_step(*st);
    if (src == SQLITE_ROW) return BT_OK;
    if (src == SQLITE_DONE)
        rc = bt__error(s, BT_ERR_NOT_FOUND, "%s %lld does not exist", kind, (long long)id);
    else
        rc = bt__sq_fail(s, src, "reading %s %lld", kind, (long long)id);
    bt__sq_release(s, sid, *st);
    *st = NULL;
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Segments */

static int bind_segment(bt_store *s, sqlite3_stmt *st, const bt_segment *seg,
                        unsigned char *small, unsigned char **heap, const char *what)
{
    bt__sq_bind_text(st, 1, seg->border);
    bt__sq_bind_text(st, 2, seg->name);
    sqlite3_bind_int(st, 3, seg->seq);
    int rc = bt__sq_bind_enum(s, st, 4, BT_ENUM_SEGMENT_KIND, (int)seg->kind, what);
    bt__sq_bind_text(st, 5, seg->river);
    if (!rc) rc = bind_geom(s, st, 6, seg->points, seg->npoints, small, heap, what);
    return rc;
}

static int segment_write(bt_store *s, const bt_segment *seg, bool update, int64_t *id)
{
    enum bt__stmt_id sid = update ? BT__ST_SEG_UPDATE : BT__ST_SEG_INSERT;
    char what[256];
    snprintf(what, sizeof what, "segment '%.100s' of border '%.100s'", seg->name, seg->border);
    sqlite3_stmt *st;
    int rc = bt__sq_acquire(s, sid, &st);
    if (rc) return rc;
    unsigned char small[POINT_BLOB_SIZE], *heap = NULL;
    rc = bind_segment(s, st, seg, small, &heap, what);
    if (update) sqlite3_bind_int64(st, 7, seg->id);
    if (!rc) {
        bool changed = false;
        int src = step_write(st, &changed);
        if (src == SQLITE_DONE && update && !changed)
            rc = bt__error(s, BT_ERR_NOT_FOUND, "segment %lld does not exist", (long long)seg->id);
        else if (src == SQLITE_DONE && !update)
            *id = sqlite3_last_insert_rowid(db_of(s));
        else if (src != SQLITE_DONE && is_unique_violation(s))
            rc = bt__error(s, BT_ERR_EXISTS, "%s already exists", what);
        else if (src != SQLITE_DONE)
            rc = bt__sq_fail(s, src, "writing %s", what);
    }
    bt__sq_release(s, sid, st);
    bt__free(heap);
    return rc;
}

int bt__sq_segment_insert(bt_store *s, const bt_segment *seg, int64_t *id)
{
    return segment_write(s, seg, false, id);
}

int bt__sq_segment_update(bt_store *s, const bt_segment *seg)
{
    return segment_write(s, seg, true, NULL);
}

int bt__sq_segment_get(bt_store *s, int64_t id, bt_segment **out)
{
    sqlite3_stmt *st;
    int rc = get_row(s, BT__ST_SEG_GET, id, &st, "segment");
    if (rc) return rc;
    char what[64];
    snprintf(what, sizeof what, "segment %lld", (long long)id);
    bt_segment seg = {0};
    bt_lonlat *pts = NULL;
    bool line = false;
    int kind = 0;
    seg.id = sqlite3_column_int64(st, 0);
    seg.border = bt__sq_col_text(st, 1);
    seg.name = bt__sq_col_text(st, 2);
    seg.seq = sqlite3_column_int(st, 3);
    rc = bt__sq_col_enum(s, st, 4, BT_ENUM_SEGMENT_KIND, &kind, what);
    seg.kind = (bt_segment_kind)kind;
    seg.river = bt__sq_col_text(st, 5);
    if (!rc) rc = col_geom(s, st, 6, &pts, &seg.npoints, &line, what);
    if (!rc && !line) rc = bt__error(s, BT_ERR_INTERNAL, "%s: geometry is not a LineString", what);
    if (!rc) {
        seg.points = pts;
        *out = bt__segment_dup(&seg);
        if (!*out) rc = bt__error(s, BT_ERR_NOMEM, "%s: out of memory", what);
    }
    bt__free(pts);
    bt__sq_release(s, BT__ST_SEG_GET, st);
    return rc;
}

int bt__sq_segment_delete(bt_store *s, int64_t id)
{
    return delete_by_id(s, BT__ST_SEG_DELETE, id, "segment");
}

/* ------------------------------------------------------------------------- */
/* Installations */

static void inst_what(char *buf, size_t n, const bt_installation *inst)
{
    if (inst->ref)
        snprintf(buf, n, "installation '%.200s'", inst->ref);
    else
        snprintf(buf, n, "installation %lld", (long long)inst->id);
}

static int bind_installation(bt_store *s, sqlite3_stmt *st, const bt_installation *in,
                             unsigned char *small, unsigned char **heap, const char *what)
{
    int rc = BT_OK;
    bt__sq_bind_text(st, 1, in->ref);
    if (!rc) rc = bt__sq_bind_enum(s, st, 2, BT_ENUM_INSTALL_KIND, (int)in->kind, what);
    if (!rc) rc = bt__sq_bind_enum(s, st, 3, BT_ENUM_FENCE_LAYER, (int)in->layer, what);
    if (!rc) rc = bt__sq_bind_enum(s, st, 4, BT_ENUM_MATERIAL, (int)in->material, what);
    if (!rc) rc = bt__sq_bind_enum(s, st, 5, BT_ENUM_YESNO, (int)in->barbed, what);
    if (!rc) rc = bt__sq_bind_enum(s, st, 6, BT_ENUM_YESNO, (int)in->electrified, what);
    if (isnan(in->height_m))
        sqlite3_bind_null(st, 7);
    else
        sqlite3_bind_double(st, 7, in->height_m);
    bt__sq_bind_text(st, 8, in->post_material);
    if (!rc) rc = bt__sq_bind_enum(s, st, 9, BT_ENUM_QUALITY, (int)in->quality, what);
    if (!rc) rc = bt__sq_bind_enum(s, st, 10, BT_ENUM_PERMANENCE, (int)in->permanence, what);
    if (!rc) rc = bt__sq_bind_enum(s, st, 11, BT_ENUM_INSTALL_STATUS, (int)in->status, what);
    if (!rc) rc = bt__sq_bind_date(s, st, 12, 13, in->start, what);
    if (!rc) rc = bt__sq_bind_date(s, st, 14, 15, in->end, what);
    bt__sq_bind_text(st, 16, in->condition);
    if (!rc) rc = bt__sq_bind_enum(s, st, 17, BT_ENUM_OBSERVATION, (int)in->observed_by, what);
    if (in->source_id != 0)
        sqlite3_bind_int64(st, 18, in->source_id);
    else
        sqlite3_bind_null(st, 18);
    if (in->credibility != 0)
        sqlite3_bind_int(st, 19, in->credibility);
    else
        sqlite3_bind_null(st, 19);
    if (!rc) rc = bind_geom(s, st, 20, in->points, in->npoints, small, heap, what);
    return rc;
}

static int installation_write(bt_store *s, const bt_installation *in, bool update, int64_t *id)
{
    enum bt__stmt_id sid = update ? BT__ST_INST_UPDATE : BT__ST_INST_INSERT;
    char what[256];
    inst_what(what, sizeof what, in);
    sqlite3_stmt *st;
    int rc = bt__sq_acquire(s, sid, &st);
    if (rc) return rc;
    unsigned char small[POINT_BLOB_SIZE], *heap = NULL;
    rc = bind_installation(s, st, in, small, &heap, what);
    if (update) sqlite3_bind_int64(st, 21, in->id);
    if (!rc) {
        bool changed = false;
        int src = step_write(st, &changed);
        if (src == SQLITE_DONE && update && !changed)
            rc = bt__error(s, BT_ERR_NOT_FOUND, "installation %lld does not exist",
                           (long long)in->id);
        else if (src == SQLITE_DONE && !update)
            *id = sqlite3_last_insert_rowid(db_of(s));
        else if (src != SQLITE_DONE && is_unique_violation(s))
            rc = bt__error(s, BT_ERR_EXISTS, "installation ref '%.200s' already exists",
                           in->ref ? in->ref : "");
        else if (src != SQLITE_DONE && is_fk_violation(s))
            rc = bt__error(s, BT_ERR_NOT_FOUND, "%s: source %lld does not exist", what,
                           (long long)in->source_id);
        else if (src != SQLITE_DONE)
            rc = bt__sq_fail(s, src, "writing %s", what);
    }
    bt__sq_release(s, sid, st);
    bt__free(heap);
    return rc;
}

int bt__sq_installation_insert(bt_store *s, const bt_installation *inst, int64_t *id)
{
    return installation_write(s, inst, false, id);
}

int bt__sq_installation_update(bt_store *s, const bt_installation *inst)
{
    return installation_write(s, inst, true, NULL);
}

int bt__sq_installation_get(bt_store *s, int64_t id, bt_installation **out)
{
    sqlite3_stmt *st;
    int rc = get_row(s, BT__ST_INST_GET, id, &st, "installation");
    if (rc) return rc;
    char what[64];
    snprintf(what, sizeof what, "installation %lld", (long long)id);
    bt_installation in;
    memset(&in, 0, sizeof in);
    int v[11] = {0};
    bt_lonlat *pts = NULL;
    bool line = false;
    in.id = sqlite3_column_int64(st, 0);
    in.ref = bt__sq_col_text(st, 1);
    if (!rc) rc = bt__sq_col_enum(s, st, 2, BT_ENUM_INSTALL_KIND, &v[0], what);
    if (!rc) rc = bt__sq_col_enum(s, st, 3, BT_ENUM_FENCE_LAYER, &v[1], what);
    if (!rc) rc = bt__sq_col_enum(s, st, 4, BT_ENUM_MATERIAL, &v[2], what);
    if (!rc) rc = bt__sq_col_enum(s, st, 5, BT_ENUM_YESNO, &v[3], what);
    if (!rc) rc = bt__sq_col_enum(s, st, 6, BT_ENUM_YESNO, &v[4], what);
    in.height_m = sqlite3_column_type(st, 7) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 7);
    in.post_material = bt__sq_col_text(st, 8);
    if (!rc) rc = bt__sq_col_enum(s, st, 9, BT_ENUM_QUALITY, &v[5], what);
    if (!rc) rc = bt__sq_col_enum(s, st, 10, BT_ENUM_PERMANENCE, &v[6], what);
    if (!rc) rc = bt__sq_col_enum(s, st, 11, BT_ENUM_INSTALL_STATUS, &v[7], what);
    if (!rc) rc = bt__sq_col_date(s, st, 12, 13, &in.start, what);
    if (!rc) rc = bt__sq_col_date(s, st, 14, 15, &in.end, what);
    in.condition = bt__sq_col_text(st, 16);
    if (!rc) rc = bt__sq_col_enum(s, st, 17, BT_ENUM_OBSERVATION, &v[8], what);
    in.source_id = sqlite3_column_int64(st, 18); /* NULL reads as 0 */
    in.credibility = sqlite3_column_int(st, 19);
    in.kind = (bt_install_kind)v[0];
    in.layer = (bt_fence_layer)v[1];
    in.material = (bt_material)v[2];
    in.barbed = (bt_yesno)v[3];
    in.electrified = (bt_yesno)v[4];
    in.quality = (bt_quality)v[5];
    in.permanence = (bt_permanence)v[6];
    in.status = (bt_install_status)v[7];
    in.observed_by = (bt_observation)v[8];
    if (!rc) rc = col_geom(s, st, 20, &pts, &in.npoints, &line, what);
    if (!rc) {
        in.points = pts;
        *out = bt__installation_dup(&in);
        if (!*out) rc = bt__error(s, BT_ERR_NOMEM, "%s: out of memory", what);
    }
    bt__free(pts);
    bt__sq_release(s, BT__ST_INST_GET, st);
    return rc;
}

int bt__sq_installation_delete(bt_store *s, int64_t id)
{
    return delete_by_id(s, BT__ST_INST_DELETE, id, "installation");
}

/* ------------------------------------------------------------------------- */
/* Incidents */

static int bind_incident(bt_store *s, sqlite3_stmt *st, const bt_incident *inc,
                         unsigned char *blob, const char *what)
{
    int rc = BT_OK;
    bt__sq_bind_text(st, 1, inc->ref);
    if (!rc) rc = bt__sq_bind_enum(s, st, 2, BT_ENUM_INCIDENT_TYPE, (int)inc->type, what);
    sqlite3_bind_double(st, 3, inc->where.lon);
    sqlite3_bind_double(st, 4, inc->where.lat);
    sqlite3_bind_double(st, 5, inc->uncertainty_m);
    if (!rc) rc = bt__sq_bind_enum(s, st, 6, BT_ENUM_LOC_PRECISION, (int)inc->loc_precision, what);
    sqlite3_bind_int64(st, 7, inc->start);
    if (inc->end == BT_TIME_OPEN)
        sqlite3_bind_null(st, 8);
    else
        sqlite3_bind_int64(st, 8, inc->end);
    if (!rc) rc = bt__sq_bind_enum(s, st, 9, BT_ENUM_TIME_PRECISION, (int)inc->time_precision, what);
    if (!rc) rc = bt__sq_bind_date(s, st, 10, 11, inc->reported, what);
    bt__sq_bind_text(st, 12, inc->summary);
    if (!rc) rc = bt__sq_bind_enum(s, st, 13, BT_ENUM_VERIFICATION, (int)inc->verification, what);
    if (!rc) {
        bt__splite_encode(blob, &inc->where, 1);
        sqlite3_bind_blob(st, 14, blob, (int)bt__splite_blob_size(1), SQLITE_STATIC);
    }
    return rc;
}

/* "incident '<ref>'", as messages name an incident being written. */
static const char *incident_what(char *buf, size_t size, const bt_incident *inc)
{
    snprintf(buf, size, "incident '%.200s'", inc->ref ? inc->ref : "");
    return buf;
}

static int incident_write(bt_store *s, const bt_incident *inc, bool update, int64_t *id)
{
    enum bt__stmt_id sid = update ? BT__ST_INC_UPDATE : BT__ST_INC_INSERT;
    /* The record's name is for messages only: formatted when one is needed (a
     * snprintf per row shows in an import). */
    char what[256] = "";
    int rc = update ? BT_OK : bt__sq_bulk_note_insert(s);
    if (rc) return rc;
    if (update) bt__sq_bulk_forget_rows(s); /* the point may move */
    sqlite3_stmt *st;
    rc = bt__sq_acquire(s, sid, &st);
    if (rc) return rc;
    unsigned char blob[POINT_BLOB_SIZE];
    rc = bind_incident(s, st, inc, blob, what);
    if (rc) {
        /* binding has no effect but on the statement: again, to name the record */
        incident_what(what, sizeof what, inc);
        rc = bind_incident(s, st, inc, blob, what);
    }
    if (update) sqlite3_bind_int64(st, 15, inc->id);
    if (!rc) {
        bool changed = false;
        int src = step_write(st, &changed);
        if (src == SQLITE_DONE && update && !changed)
            rc = bt__error(s, BT_ERR_NOT_FOUND, "incident %lld does not exist", (long long)inc->id);
        else if (src == SQLITE_DONE && !update)
            *id = sqlite3_last_insert_rowid(db_of(s));
        else if (src != SQLITE_DONE && is_unique_violation(s))
            rc = bt__error(s, BT_ERR_EXISTS, "incident ref '%.200s' already exists", inc->ref);
        else if (src != SQLITE_DONE)
            rc = bt__sq_fail(s, src, "writing %s", incident_what(what, sizeof what, inc));
        if (src == SQLITE_DONE && !update) bt__sq_bulk_note_row(s, *id, inc->where);
    }
    bt__sq_release(s, sid, st);
    return rc;
}

int bt__sq_incident_insert(bt_store *s, const bt_incident *inc, int64_t *id)
{
    return incident_write(s, inc, false, id);
}

int bt__sq_incident_update(bt_store *s, const bt_incident *inc)
{
    return incident_write(s, inc, true, NULL);
}

/* Fills @p inc from a row of INC_GET / INC_SCAN_BBOX; strings stay in the statement. */
static int read_incident(bt_store *s, sqlite3_stmt *st, bt_incident *inc)
{
    char what[64];
    int v[4] = {0};
    int rc = BT_OK;
    memset(inc, 0, sizeof *inc);
    inc->id = sqlite3_column_int64(st, 0);
    snprintf(what, sizeof what, "incident %lld", (long long)inc->id);
    inc->ref = bt__sq_col_text(st, 1);
    if (!rc) rc = bt__sq_col_enum(s, st, 2, BT_ENUM_INCIDENT_TYPE, &v[0], what);
    inc->uncertainty_m = sqlite3_column_double(st, 3);
    if (!rc) rc = bt__sq_col_enum(s, st, 4, BT_ENUM_LOC_PRECISION, &v[1], what);
    inc->start = sqlite3_column_int64(st, 5);
    inc->end = sqlite3_column_type(st, 6) == SQLITE_NULL ? BT_TIME_OPEN
                                                         : sqlite3_column_int64(st, 6);
    if (!rc) rc = bt__sq_col_enum(s, st, 7, BT_ENUM_TIME_PRECISION, &v[2], what);
    if (!rc) rc = bt__sq_col_date(s, st, 8, 9, &inc->reported, what);
    inc->summary = bt__sq_col_text(st, 10);
    if (!rc) rc = bt__sq_col_enum(s, st, 11, BT_ENUM_VERIFICATION, &v[3], what);
    if (!rc) rc = col_point(s, st, 12, &inc->where, what);
    inc->type = (bt_incident_type)v[0];
    inc->loc_precision = (bt_loc_precision)v[1];
    inc->time_precision = (bt_time_precision)v[2];
    inc->verification = (bt_verification)v[3];
    return rc;
}

int bt__sq_incident_get(bt_store *s, int64_t id, bt_incident **out)
{
    sqlite3_stmt *st;
    int rc = get_row(s, BT__ST_INC_GET, id, &st, "incident");
    if (rc) return rc;
    bt_incident inc;
    rc = read_incident(s, st, &inc);
    if (!rc) {
        *out = bt__incident_dup(&inc);
        if (!*out) rc = bt__error(s, BT_ERR_NOMEM, "incident %lld: out of memory", (long long)id);
    }
    bt__sq_release(s, BT__ST_INC_GET, st);
    return rc;
}

int bt__sq_incident_find(bt_store *s, const char *ref, int64_t *id)
{
    return find_id(s, BT__ST_INC_FIND, ref, id, "incident with ref", true);
}

int bt__sq_incident_delete(bt_store *s, int64_t id)
{
    /* incident_sources rows go with it (ON DELETE CASCADE). */
    bt__sq_bulk_forget_rows(s);
    return delete_by_id(s, BT__ST_INC_DELETE, id, "incident");
}

int bt__sq_incident_scan_bbox(bt_store *s, bt_bbox box, int64_t from, int64_t to,
                              bt__incident_row_cb cb, void *udata)
{
    /* In bulk mode the index lags behind the table until flushed. */
    int rc = bt__sq_bulk_flush(s);
    if (rc) return rc;
    sqlite3_stmt *st;
    rc = bt__sq_acquire(s, BT__ST_INC_SCAN_BBOX, &st);
    if (rc) return rc;
    sqlite3_bind_double(st, 1, box.east);
    sqlite3_bind_double(st, 2, box.west);
    sqlite3_bind_double(st, 3, box.north);
    sqlite3_bind_double(st, 4, box.south);
    sqlite3_bind_int64(st, 5, to);
    sqlite3_bind_int64(st, 6, from);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        bt_incident inc;
        rc = read_incident(s, st, &inc);
        if (rc || cb(&inc, udata)) break;
    }
    if (!rc && src != SQLITE_ROW && src != SQLITE_DONE)
        rc = bt__sq_fail(s, src, "scanning incidents");
    bt__sq_release(s, BT__ST_INC_SCAN_BBOX, st);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Sources. Their names are identities that may endanger people: messages give ids,
 * never names. */

static int bind_source(bt_store *s, sqlite3_stmt *st, const bt_source *src, char *grade)
{
    bt__sq_bind_text(st, 1, src->name);
    int rc = bt__sq_bind_enum(s, st, 2, BT_ENUM_SOURCE_TYPE, (int)src->type, "source");
    grade[0] = src->reliability;
    grade[1] = '\0';
    sqlite3_bind_text(st, 3, grade, 1, SQLITE_STATIC);
    bt__sq_bind_text(st, 4, src->notes);
    return rc;
}

static int source_write(bt_store *s, const bt_source *src, bool update, int64_t *id)
{
    enum bt__stmt_id sid = update ? BT__ST_SRC_UPDATE : BT__ST_SRC_INSERT;
    sqlite3_stmt *st;
    int rc = bt__sq_acquire(s, sid, &st);
    if (rc) return rc;
    char grade[2];
    rc = bind_source(s, st, src, grade);
    if (update) sqlite3_bind_int64(st, 5, src->id);
    if (!rc) {
        bool changed = false;
        int sr = step_write(st, &changed);
        if (sr == SQLITE_DONE && update && !changed) {
            rc = bt__error(s, BT_ERR_NOT_FOUND, "source %lld does not exist", (long long)src->id);
        } else if (sr == SQLITE_DONE) {
            if (!update) *id = sqlite3_last_insert_rowid(db_of(s));
            /* A renamed identity must not linger in old WAL frames. */
            if (update) bt__sq_of(s)->scrub_wal = true;
        } else if (is_unique_violation(s)) {
            rc = bt__error(s, BT_ERR_EXISTS, "a source with that name already exists");
        } else {
            rc = bt__sq_fail(s, sr, "writing source %lld", (long long)(update ? src->id : 0));
        }
    }
    bt__sq_release(s, sid, st);
    if (!rc) bt__sq_after_write(s);
    return rc;
}

int bt__sq_source_insert(bt_store *s, const bt_source *src, int64_t *id)
{
    return source_write(s, src, false, id);
}

int bt__sq_source_update(bt_store *s, const bt_source *src)
{
    return source_write(s, src, true, NULL);
}

int bt__sq_source_get(bt_store *s, int64_t id, bt_source **out)
{
    sqlite3_stmt *st;
    int rc = get_row(s, BT__ST_SRC_GET, id, &st, "source");
    if (rc) return rc;
    char what[64];
    snprintf(what, sizeof what, "source %lld", (long long)id);
    bt_source src = {0};
    int type = 0;
    src.id = sqlite3_column_int64(st, 0);
    src.name = bt__sq_col_text(st, 1);
    rc = bt__sq_col_enum(s, st, 2, BT_ENUM_SOURCE_TYPE, &type, what);
    src.type = (bt_source_type)type;
    const char *grade = bt__sq_col_text(st, 3);
    src.reliability = grade ? grade[0] : '\0';
    src.notes = bt__sq_col_text(st, 4);
    if (!rc) {
        *out = bt__source_dup(&src);
        if (!*out) rc = bt__error(s, BT_ERR_NOMEM, "%s: out of memory", what);
    }
    bt__sq_release(s, BT__ST_SRC_GET, st);
    return rc;
}

int bt__sq_source_find(bt_store *s, const char *name, int64_t *id)
{
    return find_id(s, BT__ST_SRC_FIND, name, id, "source", false);
}

int bt__sq_source_delete(bt_store *s, int64_t id)
{
    sqlite3_stmt *st;
    int rc = bt__sq_acquire(s, BT__ST_SRC_DELETE, &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    bool changed = false;
    int src = step_write(st, &changed);
    /* ON DELETE RESTRICT is run as a trigger program: SQLite reports it as
     * SQLITE_CONSTRAINT_TRIGGER, not _FOREIGNKEY (sources carry no other trigger). */
    int ext = sqlite3_extended_errcode(db_of(s));
    bool fk = src != SQLITE_DONE &&
              (ext == SQLITE_CONSTRAINT_FOREIGNKEY || ext == SQLITE_CONSTRAINT_TRIGGER);
    if (src == SQLITE_DONE && !changed)
        rc = bt__error(s, BT_ERR_NOT_FOUND, "source %lld does not exist", (long long)id);
    else if (src == SQLITE_DONE)
        bt__sq_of(s)->scrub_wal = true;
    else if (!fk)
        rc = bt__sq_fail(s, src, "deleting source %lld", (long long)id);
    bt__sq_release(s, BT__ST_SRC_DELETE, st);
    if (fk) {
        /* Say what still refers to it. */
        int64_t links = 0, insts = 0;
        sqlite3_stmt *rs;
        if (bt__sq_acquire(s, BT__ST_SRC_REFS, &rs) == BT_OK) {
            sqlite3_bind_int64(rs, 1, id);
            if (sqlite3_step(rs) == SQLITE_ROW) {
                links = sqlite3_column_int64(rs, 0);
                insts = sqlite3_column_int64(rs, 1);
            }
            bt__sq_release(s, BT__ST_SRC_REFS, rs);
        }
        rc = bt__error(s, BT_ERR_CONSTRAINT,
                       "source %lld is still referred to by %lld report link(s) and %lld "
                       "installation(s); delete or re-point those first",
                       (long long)id, (long long)links, (long long)insts);
    }
    if (!rc) bt__sq_after_write(s);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Report links */

/* A link's foreign key failed: say which end is missing. */
static int link_fk_message(bt_store *s, const bt_report_link *l)
{
    bool inc = false;
    int rc = exists(s, BT__ST_INC_EXISTS, l->incident_id, &inc);
    if (rc) return rc;
    if (!inc)
        return bt__error(s, BT_ERR_NOT_FOUND, "incident %lld does not exist",
                         (long long)l->incident_id);
    return bt__error(s, BT_ERR_NOT_FOUND, "source %lld does not exist",
                     (long long)l->source_id);
}

static int link_write(bt_store *s, const bt_report_link *l, bool update)
{
    enum bt__stmt_id sid = update ? BT__ST_LINK_UPDATE : BT__ST_LINK_INSERT;
    sqlite3_stmt *st;
    int rc = bt__sq_acquire(s, sid, &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, l->incident_id);
    sqlite3_bind_int64(st, 2, l->source_id);
    rc = bt__sq_bind_date(s, st, 3, 4, l->reported, "report link");
    sqlite3_bind_int(st, 5, l->credibility);
    bool fk = false;
    if (!rc) {
        bool changed = false;
        int src = step_write(st, &changed);
        fk = src != SQLITE_DONE && is_fk_violation(s);
        if (src == SQLITE_DONE && update && !changed)
            rc = bt__error(s, BT_ERR_NOT_FOUND, "incident %lld is not linked to source %lld",
                           (long long)l->incident_id, (long long)l->source_id);
        else if (src != SQLITE_DONE && is_unique_violation(s))
            rc = bt__error(s, BT_ERR_EXISTS, "incident %lld is already linked to source %lld",
                           (long long)l->incident_id, (long long)l->source_id);
        else if (src != SQLITE_DONE && !fk)
            rc = bt__sq_fail(s, src, "linking incident %lld to source %lld",
                             (long long)l->incident_id, (long long)l->source_id);
    }
    bt__sq_release(s, sid, st);
    if (fk) rc = link_fk_message(s, l);
    return rc;
}

int bt__sq_link_insert(bt_store *s, const bt_report_link *link)
{
    return link_write(s, link, false);
}

int bt__sq_link_update(bt_store *s, const bt_report_link *link)
{
    return link_write(s, link, true);
}

int bt__sq_link_get(bt_store *s, int64_t incident_id, int64_t source_id, bt_report_link *out)
{
    sqlite3_stmt *st;
    int rc = bt__sq_acquire(s, BT__ST_LINK_GET, &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, incident_id);
    sqlite3_bind_int64(st, 2, source_id);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        bt_report_link l = {incident_id, source_id, {0, BT_TIME_NONE}, 0};
        rc = bt__sq_col_date(s, st, 0, 1, &l.reported, "report link");
        l.credibility = sqlite3_column_int(st, 2);
        if (!rc) *out = l;
    } else if (src == SQLITE_DONE) {
        rc = bt__error(s, BT_ERR_NOT_FOUND, "incident %lld is not linked to source %lld",
                       (long long)incident_id, (long long)source_id);
    } else {
        rc = bt__sq_fail(s, src, "reading the link of incident %lld to source %lld",
                         (long long)incident_id, (long long)source_id);
    }
    bt__sq_release(s, BT__ST_LINK_GET, st);
    return rc;
}

int bt__sq_link_delete(bt_store *s, int64_t incident_id, int64_t source_id)
{
    sqlite3_stmt *st;
    int rc = bt__sq_acquire(s, BT__ST_LINK_DELETE, &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, incident_id);
    sqlite3_bind_int64(st, 2, source_id);
    bool changed = false;
    int src = step_write(st, &changed);
    if (src != SQLITE_DONE)
        rc = bt__sq_fail(s, src, "unlinking incident %lld from source %lld",
                         (long long)incident_id, (long long)source_id);
    else if (!changed)
        rc = bt__error(s, BT_ERR_NOT_FOUND, "incident %lld is not linked to source %lld",
                       (long long)incident_id, (long long)source_id);
    bt__sq_release(s, BT__ST_LINK_DELETE, st);
    return rc;
}

int bt__sq_link_list(bt_store *s, int64_t incident_id, bt_report_link **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    bool found = false;
    int rc = exists(s, BT__ST_INC_EXISTS, incident_id, &found);
    if (rc) return rc;
    if (!found)
        return bt__error(s, BT_ERR_NOT_FOUND, "incident %lld does not exist", (long long)incident_id);
    sqlite3_stmt *st;
    rc = bt__sq_acquire(s, BT__ST_LINK_LIST, &st);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, incident_id);
    bt_report_link *arr = NULL;
    size_t len = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            bt_report_link *na = bt__realloc(arr, ncap * sizeof *na);
            if (!na) {
                rc = bt__error(s, BT_ERR_NOMEM, "listing links of incident %lld: out of memory",
                               (long long)incident_id);
                break;
            }
            arr = na;
            cap = ncap;
        }
        bt_report_link *l = &arr[len];
        l->incident_id = incident_id;
        l->source_id = sqlite3_column_int64(st, 0);
        rc = bt__sq_col_date(s, st, 1, 2, &l->reported, "report link");
        l->credibility = sqlite3_column_int(st, 3);
        if (rc) break;
        len++;
    }
    if (!rc && src != SQLITE_DONE)
        rc = bt__sq_fail(s, src, "listing links of incident %lld", (long long)incident_id);
    bt__sq_release(s, BT__ST_LINK_LIST, st);
    if (rc || len == 0) {
        bt__free(arr);
        return rc;
    }
    *out = arr;
    *n = len;
    return BT_OK;
}

/* ------------------------------------------------------------------------- */
/* Places */

static int place_write(bt_store *s, const bt_place *p, bool update, int64_t *id)
{
    enum bt__stmt_id sid = update ? BT__ST_PLACE_UPDATE : BT__ST_PLACE_INSERT;
    char what[256];
    snprintf(what, sizeof what, "place '%.100s' (%.20s)", p->name, p->country);
    sqlite3_stmt *st;
    int rc = bt__sq_acquire(s, sid, &st);
    if (rc) return rc;
    unsigned char blob[POINT_BLOB_SIZE];
    bt__sq_bind_text(st, 1, p->name);
    bt__sq_bind_text(st, 2, p->country);
    bt__sq_bind_text(st, 3, p->admin1);
    bt__splite_encode(blob, &p->where, 1);
    sqlite3_bind_blob(st, 4, blob, (int)bt__splite_blob_size(1), SQLITE_STATIC);
    if (update) sqlite3_bind_int64(st, 5, p->id);
    bool changed = false;
    int src = step_write(st, &changed);
    if (src == SQLITE_DONE && update && !changed)
        rc = bt__error(s, BT_ERR_NOT_FOUND, "place %lld does not exist", (long long)p->id);
    else if (src == SQLITE_DONE && !update)
        *id = sqlite3_last_insert_rowid(db_of(s));
    else if (src != SQLITE_DONE && is_unique_violation(s))
        rc = bt__error(s, BT_ERR_EXISTS, "%s already exists", what);
    else if (src != SQLITE_DONE)
        rc = bt__sq_fail(s, src, "writing %s", what);
    bt__sq_release(s, sid, st);
    return rc;
}

int bt__sq_place_insert(bt_store *s, const bt_place *place, int64_t *id)
{
    return place_write(s, place, false, id);
}

int bt__sq_place_update(bt_store *s, const bt_place *place)
{
    return place_write(s, place, true, NULL);
}

int bt__sq_place_get(bt_store *s, int64_t id, bt_place **out)
{
    sqlite3_stmt *st;
    int rc = get_row(s, BT__ST_PLACE_GET, id, &st, "place");
    if (rc) return rc;
    char what[64];
    snprintf(what, sizeof what, "place %lld", (long long)id);
    bt_place p = {0};
    p.id = sqlite3_column_int64(st, 0);
    p.name = bt__sq_col_text(st, 1);
    p.country = bt__sq_col_text(st, 2);
    p.admin1 = bt__sq_col_text(st, 3);
    rc = col_point(s, st, 4, &p.where, what);
    if (!rc) {
        *out = bt__place_dup(&p);
        if (!*out) rc = bt__error(s, BT_ERR_NOMEM, "%s: out of memory", what);
    }
    bt__sq_release(s, BT__ST_PLACE_GET, st);
    return rc;
}

int bt__sq_place_delete(bt_store *s, int64_t id)
{
    return delete_by_id(s, BT__ST_PLACE_DELETE, id, "place");
}
