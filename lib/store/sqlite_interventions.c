/**
 * @file sqlite_interventions.c
 * @brief The SpatiaLite backend's operations on the `interventions` table (schema
 * v4, schema.c): create, read, update, delete, the ordered id list, and the check
 * that keeps a border some intervention refers to from losing its last segment.
 *
 * The area is a SpatiaLite POLYGON (so GIS tools see the layer); it is written as
 * MakePolygon() of a LineString BLOB we encode, and read back through ExteriorRing(),
 * so the vertices round-trip bit for bit through the Point/LineString codec
 * (splite_blob.c); both need SpatiaLite's functions on the connection
 * (sqlite_splite.h). Interventions are few: statements are prepared per call.
 */
#include "sqlite_interventions.h"
#include "sqlite_splite.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define IV_COLUMNS                                                                    \
    "ref, name, kind, start_t, start_prec, end_t, end_prec, summary, citation, border," \
    " from_m, to_m"

static sqlite3 *db_of(bt_store *s) { return bt__sq_of(s)->db; }

/* "intervention 'ref'", else "intervention 'name'", else "intervention <id>". */
static void iv_what(char *buf, size_t n, const bt_intervention *iv)
{
    if (iv->ref)
        snprintf(buf, n, "intervention '%.200s'", iv->ref);
    else if (iv->name)
        snprintf(buf, n, "intervention '%.200s'", iv->name);
    else
        snprintf(buf, n, "intervention %lld", (long long)iv->id);
}

static int prepare(bt_store *s, const char *sql, sqlite3_stmt **st, const char *what)
{
    int rc = sqlite3_prepare_v2(db_of(s), sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(*st);
        *st = NULL;
        return bt__sq_fail(s, rc, "%s", what);
    }
    return BT_OK;
}

/* Whether some segment carries the border name. */
static int border_exists(bt_store *s, const char *border, const char *what)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, "SELECT 1 FROM borders WHERE border = ?1 LIMIT 1", &st, what);
    if (rc) return rc;
    bt__sq_bind_text(st, 1, border);
    int src = sqlite3_step(st);
    sqlite3_finalize(st);
    if (src == SQLITE_DONE)
        return bt__error(s, BT_ERR_NOT_FOUND, "%s: border '%.200s' has no segment", what,
                         border);
    if (src != SQLITE_ROW) return bt__sq_fail(s, src, "%s: looking up border '%.200s'", what,
                                              border);
    return BT_OK;
}

/* The ring as a LineString BLOB (bt__malloc'd), or NULL without an area. */
static int ring_blob(bt_store *s, const bt_intervention *iv, unsigned char **blob,
                     size_t *size, const char *what)
{
    *blob = NULL;
    *size = 0;
    if (!iv->area || iv->narea == 0) return BT_OK;
    if (iv->narea > (size_t)INT32_MAX / 16)
        return bt__error(s, BT_ERR_INVALID, "%s: too many vertices (%zu)", what, iv->narea);
    *size = bt__splite_blob_size(iv->narea);
    *blob = bt__malloc(*size);
    if (!*blob) return bt__error(s, BT_ERR_NOMEM, "%s: out of memory", what);
    bt__splite_encode(*blob, iv->area, iv->narea);
    return BT_OK;
}

/* SpatiaLite's own judgement of the ring: MakePolygon() gives NULL for one it cannot
 * turn into a polygon, which would otherwise be stored as "no area". */
static int check_ring(bt_store *s, const unsigned char *blob, size_t size, const char *what)
{
    sqlite3_stmt *st = NULL;
    int rc = bt__sq_spatialite(s);
    if (rc) return rc;
    rc = prepare(s, "SELECT MakePolygon(?1) IS NOT NULL", &st, what);
    if (rc) return rc;
    sqlite3_bind_blob(st, 1, blob, (int)size, SQLITE_STATIC);
    int src = sqlite3_step(st);
    int ok = src == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (src != SQLITE_ROW) return bt__sq_fail(s, src, "%s: checking the area", what);
    if (!ok)
        return bt__error(s, BT_ERR_INVALID, "%s: field 'area' is not a polygon ring SpatiaLite "
                         "accepts", what);
    return BT_OK;
}

static int iv_write(bt_store *s, const bt_intervention *iv, bool update, int64_t *id)
{
    char what[256];
    iv_what(what, sizeof what, iv);
    int rc = iv->border ? border_exists(s, iv->border, what) : BT_OK;
    unsigned char *blob = NULL;
    size_t size = 0;
    if (!rc) rc = ring_blob(s, iv, &blob, &size, what);
    if (!rc && blob) rc = check_ring(s, blob, size, what);
    sqlite3_stmt *st = NULL;
    if (!rc)
        rc = prepare(s,
                     update ? "UPDATE interventions SET ref = ?1, name = ?2, kind = ?3,"
                              " start_t = ?4, start_prec = ?5, end_t = ?6, end_prec = ?7,"
                              " summary = ?8, citation = ?9, border = ?10, from_m = ?11,"
                              " to_m = ?12, area = CASE WHEN ?13 IS NULL THEN NULL"
                              " ELSE MakePolygon(?13) END WHERE id = ?14"
                            : "INSERT INTO interventions (" IV_COLUMNS ", area) VALUES"
                              " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
                              " CASE WHEN ?13 IS NULL THEN NULL ELSE MakePolygon(?13) END)",
                     &st, what);
    if (rc) {
        bt__free(blob);
        return rc;
    }
    bt__sq_bind_text(st, 1, iv->ref);
    bt__sq_bind_text(st, 2, iv->name);
    sqlite3_bind_text(st, 3, bt_enum_name(BT_ENUM_INTERVENTION_KIND, (int)iv->kind), -1,
                      SQLITE_STATIC);
    bt__sq_bind_date(s, st, 4, 5, iv->start, what);
    bt__sq_bind_date(s, st, 6, 7, iv->end, what);
    bt__sq_bind_text(st, 8, iv->summary);
    bt__sq_bind_text(st, 9, iv->citation);
    bt__sq_bind_text(st, 10, iv->border);
    sqlite3_bind_double(st, 11, iv->from_m);
    /* to the far end: NULL (SQLite would keep an infinity, but other tools may not) */
    if (isinf(iv->to_m))
        sqlite3_bind_null(st, 12);
    else
        sqlite3_bind_double(st, 12, iv->to_m);
    if (blob)
        sqlite3_bind_blob(st, 13, blob, (int)size, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 13);
    if (update) sqlite3_bind_int64(st, 14, iv->id);
    sqlite3 *db = db_of(s);
    bool in_txn = !sqlite3_get_autocommit(db);
    int src = sqlite3_step(st);
    /* a failure inside a SpatiaLite trigger can roll the transaction back while the
     * statement reports success (see sqlite_records.c, step_write) */
    if (src == SQLITE_DONE && in_txn && sqlite3_get_autocommit(db)) src = SQLITE_ABORT_ROLLBACK;
    int ext = sqlite3_extended_errcode(db);
    if (src == SQLITE_DONE && update && sqlite3_changes(db) == 0)
        rc = bt__error(s, BT_ERR_NOT_FOUND, "intervention %lld does not exist",
                       (long long)iv->id);
    else if (src == SQLITE_DONE && !update)
        *id = sqlite3_last_insert_rowid(db);
    else if (src != SQLITE_DONE &&
             (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY))
        rc = bt__error(s, BT_ERR_EXISTS, "intervention ref '%.200s' already exists",
                       iv->ref ? iv->ref : "");
    else if (src != SQLITE_DONE)
        rc = bt__sq_fail(s, src, "writing %s", what);
    sqlite3_finalize(st);
    bt__free(blob);
    if (!rc) bt__sq_after_write(s);
    return rc;
}

int bt__sq_intervention_insert(bt_store *s, const bt_intervention *iv, int64_t *id)
{
    return iv_write(s, iv, false, id);
}

int bt__sq_intervention_update(bt_store *s, const bt_intervention *iv)
{
    return iv_write(s, iv, true, NULL);
}

int bt__sq_intervention_get(bt_store *s, int64_t id, bt_intervention **out)
{
    *out = NULL;
    char what[64];
    snprintf(what, sizeof what, "intervention %lld", (long long)id);
    sqlite3_stmt *st = NULL;
    /* ExteriorRing() is SpatiaLite's: a read-only handle sets it up on first need */
    int rc = bt__sq_spatialite(s);
    if (rc) return rc;
    rc = prepare(s,
                     "SELECT id, " IV_COLUMNS ", ExteriorRing(area) FROM interventions"
                     " WHERE id = ?1",
                     &st, what);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    int src = sqlite3_step(st);
    if (src != SQLITE_ROW) {
        rc = src == SQLITE_DONE
                 ? bt__error(s, BT_ERR_NOT_FOUND, "intervention %lld does not exist",
                             (long long)id)
                 : bt__sq_fail(s, src, "reading %s", what);
        sqlite3_finalize(st);
        return rc;
    }
    bt_intervention iv;
    memset(&iv, 0, sizeof iv);
    int kind = 0;
    iv.id = sqlite3_column_int64(st, 0);
    iv.ref = bt__sq_col_text(st, 1);
    iv.name = bt__sq_col_text(st, 2);
    rc = bt__sq_col_enum(s, st, 3, BT_ENUM_INTERVENTION_KIND, &kind, what);
    iv.kind = (bt_intervention_kind)kind;
    if (!rc) rc = bt__sq_col_date(s, st, 4, 5, &iv.start, what);
    if (!rc) rc = bt__sq_col_date(s, st, 6, 7, &iv.end, what);
    iv.summary = bt__sq_col_text(st, 8);
    iv.citation = bt__sq_col_text(st, 9);
    iv.border = bt__sq_col_text(st, 10);
    iv.from_m = sqlite3_column_double(st, 11);
    iv.to_m = sqlite3_column_type(st, 12) == SQLITE_NULL ? INFINITY
                                                         : sqlite3_column_double(st, 12);
    bt_lonlat *pts = NULL;
    if (!rc && sqlite3_column_type(st, 13) != SQLITE_NULL) {
        const void *b = sqlite3_column_blob(st, 13);
        size_t len = (size_t)sqlite3_column_bytes(st, 13);
        size_t n = 0;
        bool line = false;
        rc = bt__splite_decode(s, what, b, len, NULL, 0, &n, &line);
        if (!rc) {
            pts = bt__malloc(n * sizeof *pts);
            if (!pts) rc = bt__error(s, BT_ERR_NOMEM, "%s: out of memory", what);
        }
        if (!rc) rc = bt__splite_decode(s, what, b, len, pts, n, &n, &line);
        iv.area = pts;
        iv.narea = n;
    }
    if (!rc) {
        *out = bt__intervention_dup(&iv);
        if (!*out) rc = bt__error(s, BT_ERR_NOMEM, "%s: out of memory", what);
    }
    bt__free(pts);
    sqlite3_finalize(st);
    return rc;
}

int bt__sq_intervention_find(bt_store *s, const char *ref, int64_t *id)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, "SELECT id FROM interventions WHERE ref = ?1", &st,
                     "finding an intervention");
    if (rc) return rc;
    bt__sq_bind_text(st, 1, ref);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    else if (src == SQLITE_DONE)
        rc = bt__error(s, BT_ERR_NOT_FOUND, "no intervention '%.200s'", ref);
    else
        rc = bt__sq_fail(s, src, "finding an intervention");
    sqlite3_finalize(st);
    return rc;
}

int bt__sq_intervention_delete(bt_store *s, int64_t id)
{
    char what[64];
    snprintf(what, sizeof what, "deleting intervention %lld", (long long)id);
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, "DELETE FROM interventions WHERE id = ?1", &st, what);
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, id);
    int src = sqlite3_step(st);
    if (src != SQLITE_DONE)
        rc = bt__sq_fail(s, src, "%s", what);
    else if (sqlite3_changes(db_of(s)) == 0)
        rc = bt__error(s, BT_ERR_NOT_FOUND, "intervention %lld does not exist", (long long)id);
    sqlite3_finalize(st);
    if (!rc) bt__sq_after_write(s);
    return rc;
}

int bt__sq_intervention_ids(bt_store *s, const char *border, int64_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    int rc = prepare(s,
                     "SELECT id FROM interventions WHERE ?1 IS NULL OR border = ?1"
                     " ORDER BY start_t, id",
                     &st, "listing interventions");
    if (rc) return rc;
    bt__sq_bind_text(st, 1, border);
    size_t cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t nc = cap ? 2 * cap : 16;
            int64_t *nv = bt__realloc(*ids, nc * sizeof *nv);
            if (!nv) {
                rc = bt__error(s, BT_ERR_NOMEM, "listing interventions: out of memory");
                break;
            }
            *ids = nv;
            cap = nc;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    if (!rc && src != SQLITE_DONE) rc = bt__sq_fail(s, src, "listing interventions");
    sqlite3_finalize(st);
    if (rc) {
        bt__free(*ids);
        *ids = NULL;
        *n = 0;
    }
    return rc;
}

int bt__sq_intervention_segment_check(bt_store *s, int64_t segment_id, const char *new_border)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(s,
                     "SELECT b.border, (SELECT count(*) FROM interventions i"
                     " WHERE i.border = b.border) FROM borders b WHERE b.id = ?1"
                     " AND (?2 IS NULL OR ?2 <> b.border) AND NOT EXISTS (SELECT 1"
                     " FROM borders o WHERE o.border = b.border AND o.id <> b.id)",
                     &st, "checking the interventions of a border");
    if (rc) return rc;
    sqlite3_bind_int64(st, 1, segment_id);
    bt__sq_bind_text(st, 2, new_border);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW && sqlite3_column_int64(st, 1) > 0)
        rc = bt__error(s, BT_ERR_CONSTRAINT,
                       "segment %lld is the last of border '%.200s', to which %lld "
                       "intervention(s) refer; delete them or change their border first",
                       (long long)segment_id, (const char *)sqlite3_column_text(st, 0),
                       (long long)sqlite3_column_int64(st, 1));
    else if (src != SQLITE_ROW && src != SQLITE_DONE)
        rc = bt__sq_fail(s, src, "checking the interventions of border segment %lld",
                         (long long)segment_id);
    sqlite3_finalize(st);
    return rc;
}
