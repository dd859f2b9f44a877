/**
 * @file sqlite_places.c
 * @brief The SpatiaLite backend's gazetteer operation: a scan of the places table for
 * name lookup (lib/model/gazetteer.c folds and compares the names in C, because the
 * folding rules are the library's, not SQLite's).
 */
#include "sqlite_places.h"

#include <stdio.h>

/* The statement is prepared per call, not cached: a callback may re-enter the store
 * (bt_place_get, another scan) while this one is still stepping. */
static const char scan_all_sql[] =
    "SELECT id, name, country, admin1, geom FROM places ORDER BY id";
static const char scan_country_sql[] =
    "SELECT id, name, country, admin1, geom FROM places WHERE country = ?1 ORDER BY id";

static const char *col_text(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NULL
                                                      : (const char *)sqlite3_column_text(st, i);
}

int bt__sq_place_scan(bt_store *s, const char *country,
                      int (*cb)(const bt_place *place, void *udata), void *udata)
{
    sqlite3 *db = bt__sq_of(s)->db;
    sqlite3_stmt *st = NULL;
    const char *sql = country ? scan_country_sql : scan_all_sql;
    int src = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (src != SQLITE_OK) return bt__sq_fail(s, src, "scanning places");
    if (country) sqlite3_bind_text(st, 1, country, -1, SQLITE_TRANSIENT);

    int rc = BT_OK;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        bt_place p = {0};
        p.id = sqlite3_column_int64(st, 0);
        p.name = col_text(st, 1);
        p.country = col_text(st, 2);
        p.admin1 = col_text(st, 3);
        char what[48];
        snprintf(what, sizeof what, "place %lld", (long long)p.id);
        size_t n = 0;
        bool line = false;
        rc = bt__splite_decode(s, what, sqlite3_column_blob(st, 4),
                               (size_t)sqlite3_column_bytes(st, 4), &p.where, 1, &n, &line);
        if (!rc && (line || p.name == NULL || p.country == NULL))
            rc = bt__error(s, BT_ERR_INTERNAL, "%s: not a named point", what);
        if (rc) break;
        if (cb(&p, udata)) break;
    }
    if (!rc && src != SQLITE_ROW && src != SQLITE_DONE)
        rc = bt__sq_fail(s, src, "scanning places");
    sqlite3_finalize(st);
    return rc;
}
