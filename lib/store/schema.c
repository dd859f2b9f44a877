/**
 * @file schema.c
 * @brief The store's schema and its migrations: one function per step from version k
 * to k + 1, all steps of an open run in one transaction.
 *
 * Enumerations are stored as their stable I/O names (bt_enum_name) and times as
 * seconds plus a precision name, so that other tools (ogrinfo, QGIS, the sqlite3
 * shell) can read the file without this library.
 */
#include "sqlite_internal.h"

#include <stdio.h>

/* A step returns an SQLite code and, on failure, the statement that failed. */
typedef int (*migration_step)(sqlite3 *db, const char **failed);

/* Statements of step 0 -> 1. SpatiaLite's own functions register every geometry
 * column and its R*Tree in the metadata tables, so that GDAL and QGIS see the
 * layers. InitSpatialMetadata(0, 'WGS84') fills spatial_ref_sys with the WGS 84
 * systems only (4326 and its UTM zones): 129 rows and ~0.3 MB instead of ~6,000 rows
 * and ~6.5 MB, and it runs inside our transaction (first argument 0). */
static const char *const schema_v1[] = {
    "SELECT InitSpatialMetadata(0, 'WGS84')",

    "CREATE TABLE sources ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " type TEXT NOT NULL,"
    " reliability TEXT NOT NULL"
    "  CHECK (length(reliability) = 1 AND reliability BETWEEN 'A' AND 'F'),"
    " notes TEXT)",

    "CREATE TABLE borders ("
    " id INTEGER PRIMARY KEY,"
    " border TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " seq INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " river TEXT,"
    " UNIQUE (border, name))",
    "SELECT AddGeometryColumn('borders', 'geom', 4326, 'LINESTRING', 'XY', 1)",
    "SELECT CreateSpatialIndex('borders', 'geom')",

    "CREATE TABLE installations ("
    " id INTEGER PRIMARY KEY,"
    " ref TEXT UNIQUE,"
    " kind TEXT NOT NULL,"
    " layer TEXT NOT NULL,"
    " material TEXT NOT NULL,"
    " barbed TEXT NOT NULL,"
    " electrified TEXT NOT NULL,"
    " height_m REAL,"
    " post_material TEXT,"
    " quality TEXT NOT NULL,"
    " permanence TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " start_t INTEGER,"
    " start_prec TEXT,"
    " end_t INTEGER,"
    " end_prec TEXT,"
    " condition TEXT,"
    " observed_by TEXT NOT NULL,"
    " source_id INTEGER REFERENCES sources(id) ON DELETE RESTRICT,"
    " credibility INTEGER CHECK (credibility BETWEEN 1 AND 6))",
    /* Points (guard posts) and LineStrings (fences) share the layer. */
    "SELECT AddGeometryColumn('installations', 'geom', 4326, 'GEOMETRY', 'XY', 1)",
    "SELECT CreateSpatialIndex('installations', 'geom')",
    "CREATE INDEX installations_source ON installations(source_id)",

    "CREATE TABLE incidents ("
    " id INTEGER PRIMARY KEY,"
    " ref TEXT NOT NULL UNIQUE,"
    " type TEXT NOT NULL,"
    " lon REAL NOT NULL," /* copies of the point for bulk reads without BLOBs */
    " lat REAL NOT NULL,"
    " uncertainty_m REAL NOT NULL,"
    " loc_precision TEXT NOT NULL,"
    " start_t INTEGER NOT NULL,"
    " end_t INTEGER," /* NULL: still going on (BT_TIME_OPEN) */
    " time_precision TEXT NOT NULL,"
    " reported_t INTEGER,"
    " reported_prec TEXT,"
    " summary TEXT,"
    " verification TEXT NOT NULL)",
    "SELECT AddGeometryColumn('incidents', 'geom', 4326, 'POINT', 'XY', 1)",
    "SELECT CreateSpatialIndex('incidents', 'geom')",
    "CREATE INDEX incidents_time ON incidents(start_t, end_t)",

    "CREATE TABLE incident_sources ("
    " incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,"
    " source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE RESTRICT,"
    " reported_t INTEGER,"
    " reported_prec TEXT,"
    " credibility INTEGER NOT NULL CHECK (credibility BETWEEN 1 AND 6),"
    " PRIMARY KEY (incident_id, source_id)) WITHOUT ROWID",
    "CREATE INDEX incident_sources_source ON incident_sources(source_id)",

    "CREATE TABLE places ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " country TEXT NOT NULL,"
    " admin1 TEXT,"
    " UNIQUE (name, country))",
    "SELECT AddGeometryColumn('places', 'geom', 4326, 'POINT', 'XY', 1)",
    "SELECT CreateSpatialIndex('places', 'geom')",

    /* Observed chainage ranges of a border (lib/analysis, sqlite_analysis.c). */
    "CREATE TABLE observations ("
    " id INTEGER PRIMARY KEY,"
    " border TEXT NOT NULL,"
    " from_m REAL NOT NULL,"
    " to_m REAL NOT NULL CHECK (to_m >= from_m),"
    " observed_t INTEGER NOT NULL,"
    " observed_prec TEXT NOT NULL,"
    " observed_by TEXT NOT NULL,"
    " note TEXT)",
    "CREATE INDEX observations_border ON observations(border, from_m)",
};

/*
 * Statements of step 1 -> 2: stored chainage (lib/analysis, docs/analysis.md "Stored
 * chainage"). `chainage` holds, per border, where each incident and installation in
 * the border's box grown by 50 km lies on it, clustered by (border, kind, chainage)
 * so that a chainage range or a whole border's profile is one sequential scan; the
 * copies of type and times let a profile filter without touching `incidents`.
 * Triggers keep it from ever being read stale:
 *  - a record inserted or updated is queued in `chainage_pending` (its rows are
 *    deleted at once on update and delete), and located by the next analysis call
 *    that reads the table;
 *  - a border segment inserted, updated or deleted drops the border's row of
 *    `chainage_state`: the border is stale and is recomputed in one pass on next use.
 * A border without a state row has no valid chainage; a migrated store starts so.
 */
static const char *const schema_v2[] = {
    "CREATE TABLE chainage ("
    " border TEXT NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('incident', 'installation')),"
    " chainage_m REAL NOT NULL,"
    " record_id INTEGER NOT NULL,"
    " chainage_to_m REAL NOT NULL," /* installations: the range of their vertices */
    " offset_m REAL NOT NULL,"
    " side TEXT NOT NULL,"
    " segment_id INTEGER NOT NULL,"
    " type TEXT NOT NULL,"          /* incident type / installation kind (copies) */
    " start_t INTEGER,"
    " end_t INTEGER,"
    " lon REAL NOT NULL,"           /* the point (an installation's nearest vertex) */
    " lat REAL NOT NULL,"
    " PRIMARY KEY (border, kind, chainage_m, record_id)) WITHOUT ROWID",
    "CREATE INDEX chainage_record ON chainage(kind, record_id)",
    /* AUTOINCREMENT: seq must never be reused once the queue is trimmed empty */
    "CREATE TABLE chainage_pending ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " kind TEXT NOT NULL,"
    " record_id INTEGER NOT NULL)",
    "CREATE TABLE chainage_state ("
    " border TEXT PRIMARY KEY,"
    " done_seq INTEGER NOT NULL," /* pending entries up to this seq are in `chainage` */
    " length_m REAL NOT NULL,"    /* of the border the rows were computed on */
    " nparts INTEGER NOT NULL)",
    "CREATE TRIGGER chainage_incident_ins AFTER INSERT ON incidents BEGIN"
    " INSERT INTO chainage_pending (kind, record_id) VALUES ('incident', NEW.id); END",
    "CREATE TRIGGER chainage_incident_upd AFTER UPDATE ON incidents BEGIN"
    " DELETE FROM chainage WHERE kind = 'incident' AND record_id = OLD.id;"
    " INSERT INTO chainage_pending (kind, record_id) VALUES ('incident', NEW.id); END",
    "CREATE TRIGGER chainage_incident_del AFTER DELETE ON incidents BEGIN"
    " DELETE FROM chainage WHERE kind = 'incident' AND record_id = OLD.id; END",
    "CREATE TRIGGER chainage_installation_ins AFTER INSERT ON installations BEGIN"
    " INSERT INTO chainage_pending (kind, record_id) VALUES ('installation', NEW.id); END",
    "CREATE TRIGGER chainage_installation_upd AFTER UPDATE ON installations BEGIN"
    " DELETE FROM chainage WHERE kind = 'installation' AND record_id = OLD.id;"
    " INSERT INTO chainage_pending (kind, record_id) VALUES ('installation', NEW.id); END",
    "CREATE TRIGGER chainage_installation_del AFTER DELETE ON installations BEGIN"
    " DELETE FROM chainage WHERE kind = 'installation' AND record_id = OLD.id; END",
    "CREATE TRIGGER chainage_border_ins AFTER INSERT ON borders BEGIN"
    " DELETE FROM chainage_state WHERE border = NEW.border; END",
    "CREATE TRIGGER chainage_border_upd AFTER UPDATE ON borders BEGIN"
    " DELETE FROM chainage_state WHERE border IN (OLD.border, NEW.border); END",
    "CREATE TRIGGER chainage_border_del AFTER DELETE ON borders BEGIN"
    " DELETE FROM chainage_state WHERE border = OLD.border; END",
};

/*
 * Statements of step 2 -> 3: the persisted incident index (lib/index/persist.c).
 * `bt_index` holds the in-memory index's packed arrays as one BLOB, stamped with the
 * generation of `bt_meta` it was built from. Persistent triggers bump the generation
 * on every write to the tables the index is made of, whichever program writes, so a
 * copy whose generation is not the current one is never used. Per row the triggers
 * cost one update of a one-row table.
 */
static const char *const schema_v3[] = {
    "CREATE TABLE bt_meta ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " generation INTEGER NOT NULL)",
    "INSERT INTO bt_meta (id, generation) VALUES (1, 0)",
    "CREATE TABLE bt_index ("
    " name TEXT PRIMARY KEY,"
    " generation INTEGER NOT NULL,"
    " data BLOB NOT NULL)",
    "CREATE TRIGGER bt_gen_incident_ins AFTER INSERT ON incidents BEGIN"
    " UPDATE bt_meta SET generation = generation + 1; END",
    "CREATE TRIGGER bt_gen_incident_upd AFTER UPDATE ON incidents BEGIN"
    " UPDATE bt_meta SET generation = generation + 1; END",
    "CREATE TRIGGER bt_gen_incident_del AFTER DELETE ON incidents BEGIN"
    " UPDATE bt_meta SET generation = generation + 1; END",
    "CREATE TRIGGER bt_gen_link_ins AFTER INSERT ON incident_sources BEGIN"
    " UPDATE bt_meta SET generation = generation + 1; END",
    "CREATE TRIGGER bt_gen_link_upd AFTER UPDATE ON incident_sources BEGIN"
    " UPDATE bt_meta SET generation = generation + 1; END",
    "CREATE TRIGGER bt_gen_link_del AFTER DELETE ON incident_sources BEGIN"
    " UPDATE bt_meta SET generation = generation + 1; END",
    "CREATE TRIGGER bt_gen_source_upd AFTER UPDATE ON sources BEGIN"
    " UPDATE bt_meta SET generation = generation + 1; END",
    "CREATE TRIGGER bt_gen_source_del AFTER DELETE ON sources BEGIN"
    " UPDATE bt_meta SET generation = generation + 1; END",
};

/*
 * Statements of step 3 -> 4: interventions (lib/analysis, docs/data-model.md), dated
 * acts that apply to a border (by name, optionally a chainage range; to_m NULL: to
 * the far end) or to an area (a POLYGON, registered so that GIS tools see the layer).
 * A border that interventions name cannot lose its last segment: the API refuses
 * with BT_ERR_CONSTRAINT (lib/model/records.c), and these triggers refuse it to any
 * other program writing the file.
 */
static const char *const schema_v4[] = {
    "CREATE TABLE interventions ("
    " id INTEGER PRIMARY KEY,"
    " ref TEXT UNIQUE,"
    " name TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " start_t INTEGER NOT NULL,"
    " start_prec TEXT NOT NULL,"
    " end_t INTEGER,"
    " end_prec TEXT,"
    " summary TEXT,"
    " citation TEXT,"
    " border TEXT,"
    " from_m REAL NOT NULL DEFAULT 0,"
    " to_m REAL CHECK (to_m IS NULL OR to_m > from_m))",
    "SELECT AddGeometryColumn('interventions', 'area', 4326, 'POLYGON', 'XY', 0)",
    "CREATE INDEX interventions_border ON interventions(border)",
    "CREATE INDEX interventions_start ON interventions(start_t)",
    "CREATE TRIGGER interventions_border_del BEFORE DELETE ON borders"
    " WHEN EXISTS (SELECT 1 FROM interventions WHERE border = OLD.border)"
    " AND NOT EXISTS (SELECT 1 FROM borders WHERE border = OLD.border AND id <> OLD.id)"
    " BEGIN SELECT RAISE(ABORT, 'interventions refer to the border of this last segment');"
    " END",
    "CREATE TRIGGER interventions_border_upd BEFORE UPDATE OF border ON borders"
    " WHEN NEW.border IS NOT OLD.border"
    " AND EXISTS (SELECT 1 FROM interventions WHERE border = OLD.border)"
    " AND NOT EXISTS (SELECT 1 FROM borders WHERE border = OLD.border AND id <> OLD.id)"
    " BEGIN SELECT RAISE(ABORT, 'interventions refer to the border of this last segment');"
    " END",
};

/* Runs one statement; SpatiaLite's functions report failure as a 0 result, not as
 * an SQLite error, so a SELECT that returns 0 is a failure too. */
static int exec_step_sql(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        rc = sqlite3_column_type(st, 0) == SQLITE_INTEGER && sqlite3_column_int(st, 0) == 0
                 ? SQLITE_ERROR
                 : SQLITE_DONE;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int migrate_0_to_1(sqlite3 *db, const char **failed)
{
    for (size_t i = 0; i < sizeof schema_v1 / sizeof schema_v1[0]; i++) {
        int rc = exec_step_sql(db, schema_v1[i]);
        if (rc != SQLITE_OK) {
            *failed = schema_v1[i];
            return rc;
        }
    }
    return SQLITE_OK;
}

static int migrate_1_to_2(sqlite3 *db, const char **failed)
{
    for (size_t i = 0; i < sizeof schema_v2 / sizeof schema_v2[0]; i++) {
        int rc = exec_step_sql(db, schema_v2[i]);
        if (rc != SQLITE_OK) {
            *failed = schema_v2[i];
            return rc;
        }
    }
    return SQLITE_OK;
}

static int migrate_2_to_3(sqlite3 *db, const char **failed)
{
    for (size_t i = 0; i < sizeof schema_v3 / sizeof schema_v3[0]; i++) {
        int rc = exec_step_sql(db, schema_v3[i]);
        if (rc != SQLITE_OK) {
            *failed = schema_v3[i];
            return rc;
        }
    }
    return SQLITE_OK;
}

/* A file taken back to an older version by hand (tests do, to check the earlier
 * steps) may still hold the table: then the step has nothing to add. */
static int migrate_3_to_4(sqlite3 *db, const char **failed)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table'"
                                " AND name = 'interventions'", -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return SQLITE_OK;
    if (rc != SQLITE_DONE) {
        *failed = "looking for the interventions table";
        return rc;
    }
    for (size_t i = 0; i < sizeof schema_v4 / sizeof schema_v4[0]; i++) {
        rc = exec_step_sql(db, schema_v4[i]);
        if (rc != SQLITE_OK) {
            *failed = schema_v4[i];
            return rc;
        }
    }
    return SQLITE_OK;
}

/* steps[k] migrates version k to k + 1. */
static const migration_step steps[BT__SCHEMA_VERSION] = {migrate_0_to_1, migrate_1_to_2,
                                                         migrate_2_to_3, migrate_3_to_4};

int bt__sq_migrate(bt_store *s, int from)
{
    sqlite3 *db = bt__sq_of(s)->db;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) return bt__sq_fail(s, rc, "migrating the store schema");

    /* Another process may have migrated it while we waited for the lock. */
    int version = from;
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);

    int step = version;
    const char *failed = "";
    rc = SQLITE_OK;
    for (; step < BT__SCHEMA_VERSION && rc == SQLITE_OK; step++) rc = steps[step](db, &failed);
    if (rc == SQLITE_OK && version < BT__SCHEMA_VERSION) {
        /* Integers of our own, not outside values: PRAGMAs take no parameters. */
        char sql[96];
        snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=%d",
                 BT__APPLICATION_ID, BT__SCHEMA_VERSION);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        int ret = bt__sq_fail(s, rc, "migrating the store schema from version %d (%.120s)",
                              version, failed);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return ret;
    }
    return BT_OK;
}
