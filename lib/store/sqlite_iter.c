/**
 * @file sqlite_iter.c
 * @brief The SpatiaLite backend's data-exchange operations (backend.h, "data
 * exchange"): paging through a table's ids, and savepoints.
 *
 * Kept apart from sqlite_records.c so that the import/export work does not touch the
 * record code. The ids are read a page at a time and the statement is reset before
 * returning, so the caller may use the store (get, add) between pages.
 */
#include "sqlite_iter.h"

#include <stdio.h>

/* One constant statement per table; the table name is never taken from outside. */
static const char *const ids_sql[] = {
    [BT_TABLE_BORDERS] = "SELECT id FROM borders WHERE id > ?1 ORDER BY id LIMIT ?2",
    [BT_TABLE_INSTALLATIONS] =
        "SELECT id FROM installations WHERE id > ?1 ORDER BY id LIMIT ?2",
    [BT_TABLE_INCIDENTS] = "SELECT id FROM incidents WHERE id > ?1 ORDER BY id LIMIT ?2",
    [BT_TABLE_SOURCES] = "SELECT id FROM sources WHERE id > ?1 ORDER BY id LIMIT ?2",
    [BT_TABLE_PLACES] = "SELECT id FROM places WHERE id > ?1 ORDER BY id LIMIT ?2",
};

int bt__sq_ids_after(bt_store *s, bt_table table, int64_t after, int64_t *ids, size_t cap,
                     size_t *n)
{
    *n = 0;
    if ((unsigned)table >= sizeof ids_sql / sizeof ids_sql[0])
        return bt__error(s, BT_ERR_INVALID, "listing ids: unknown table %d", (int)table);
    struct bt__sq *q = bt__sq_of(s);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->db, ids_sql[table], -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return bt__sq_fail(s, rc, "listing the ids of %s", bt_table_name(table));
    }
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)cap);
    int ret = BT_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < cap)
        ids[(*n)++] = sqlite3_column_int64(st, 0);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        ret = bt__sq_fail(s, rc, "listing the ids of %s", bt_table_name(table));
    sqlite3_finalize(st);
    return ret;
}

/* Runs "<verb> <name>" where name is one of the library's constant identifiers. */
static int savepoint_exec(bt_store *s, const char *verb, const char *name)
{
    char sql[96];
    snprintf(sql, sizeof sql, "%s %s", verb, name);
    int rc = sqlite3_exec(bt__sq_of(s)->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) return bt__sq_fail(s, rc, "%s", sql);
    return BT_OK;
}

int bt__sq_savepoint(bt_store *s, const char *name)
{
    return savepoint_exec(s, "SAVEPOINT", name);
}

int bt__sq_savepoint_release(bt_store *s, const char *name)
{
    return savepoint_exec(s, "RELEASE SAVEPOINT", name);
}

/* ROLLBACK TO leaves the savepoint on the stack; release it too so that the caller's
 * transaction is exactly as before SAVEPOINT. */
int bt__sq_savepoint_rollback(bt_store *s, const char *name)
{
    bt__sq_bulk_forget_rows(s); /* rows kept for the R*Tree may be undone */
    int rc = savepoint_exec(s, "ROLLBACK TO SAVEPOINT", name);
    int rc2 = savepoint_exec(s, "RELEASE SAVEPOINT", name);
    return rc ? rc : rc2;
}
