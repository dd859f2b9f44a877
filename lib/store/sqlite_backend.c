/**
 * @file sqlite_backend.c
 * @brief The embedded SpatiaLite backend: connection life cycle, the statement cache,
 * error mapping and transactions. Record operations are in sqlite_records.c, the
 * schema in schema.c.
 */
/* open(2) with O_CLOEXEC, fchmod(2), unlink(2): POSIX.1-2008. */
#define _POSIX_C_SOURCE 200809L

#include "sqlite_internal.h"
#include "sqlite_analysis.h"
#include "sqlite_index.h"
#include "sqlite_interventions.h"
#include "sqlite_iter.h"
#include "sqlite_places.h"
#include "sqlite_splite.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <spatialite.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Every statement the backend reuses; all values are bound as parameters. */
static const char *const stmt_sql[BT__ST_COUNT_OF_IDS] = {
    [BT__ST_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [BT__ST_BEGIN_DEFERRED] = "BEGIN DEFERRED",
    [BT__ST_COMMIT] = "COMMIT",
    [BT__ST_ROLLBACK] = "ROLLBACK",
    [BT__ST_USER_VERSION] = "PRAGMA user_version",
    [BT__ST_COUNT] =
        "SELECT (SELECT count(*) FROM borders), (SELECT count(*) FROM installations),"
        " (SELECT count(*) FROM incidents), (SELECT count(*) FROM sources),"
        " (SELECT count(*) FROM incident_sources), (SELECT count(*) FROM places),"
        " (SELECT count(*) FROM interventions)",

    [BT__ST_SEG_INSERT] = "INSERT INTO borders(border, name, seq, kind, river, geom)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [BT__ST_SEG_GET] = "SELECT id, border, name, seq, kind, river, geom FROM borders"
                       " WHERE id = ?1",
    [BT__ST_SEG_UPDATE] = "UPDATE borders SET border = ?1, name = ?2, seq = ?3, kind = ?4,"
                          " river = ?5, geom = ?6 WHERE id = ?7",
    [BT__ST_SEG_DELETE] = "DELETE FROM borders WHERE id = ?1",

    [BT__ST_INST_INSERT] =
        "INSERT INTO installations(ref, kind, layer, material, barbed, electrified,"
        " height_m, post_material, quality, permanence, status, start_t, start_prec,"
        " end_t, end_prec, condition, observed_by, source_id, credibility, geom)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
        " ?17, ?18, ?19, ?20)",
    [BT__ST_INST_GET] =
        "SELECT id, ref, kind, layer, material, barbed, electrified, height_m,"
        " post_material, quality, permanence, status, start_t, start_prec, end_t,"
        " end_prec, condition, observed_by, source_id, credibility, geom"
        " FROM installations WHERE id = ?1",
    [BT__ST_INST_UPDATE] =
        "UPDATE installations SET ref = ?1, kind = ?2, layer = ?3, material = ?4,"
        " barbed = ?5, electrified = ?6, height_m = ?7, post_material = ?8, quality = ?9,"
        " permanence = ?10, status = ?11, start_t = ?12, start_prec = ?13, end_t = ?14,"
        " end_prec = ?15, condition = ?16, observed_by = ?17, source_id = ?18,"
        " credibility = ?19, geom = ?20 WHERE id = ?21",
    [BT__ST_INST_DELETE] = "DELETE FROM installations WHERE id = ?1",

    [BT__ST_INC_INSERT] =
        "INSERT INTO incidents(ref, type, lon, lat, uncertainty_m, loc_precision, start_t,"
        " end_t, time_precision, reported_t, reported_prec, summary, verification, geom)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    [BT__ST_INC_GET] =
        "SELECT id, ref, type, uncertainty_m, loc_precision, start_t, end_t,"
        " time_precision, reported_t, reported_prec, summary, verification, geom"
        " FROM incidents WHERE id = ?1",
    [BT__ST_INC_FIND] = "SELECT id FROM incidents WHERE ref = ?1",
    [BT__ST_INC_UPDATE] =
        "UPDATE incidents SET ref = ?1, type = ?2, lon = ?3, lat = ?4, uncertainty_m = ?5,"
        " loc_precision = ?6, start_t = ?7, end_t = ?8, time_precision = ?9,"
        " reported_t = ?10, reported_prec = ?11, summary = ?12, verification = ?13,"
        " geom = ?14 WHERE id = ?15",
    [BT__ST_INC_DELETE] = "DELETE FROM incidents WHERE id = ?1",
    /* The R*Tree gives the candidates (its float boxes are rounded outwards, so it
     * never misses a point); lon/lat then make the box exact. The unary + keeps the
     * planner off the time index so that rows come in id order without sorting. */
    [BT__ST_INC_SCAN_BBOX] =
        "SELECT id, ref, type, uncertainty_m, loc_precision, start_t, end_t,"
        " time_precision, reported_t, reported_prec, summary, verification, geom"
        " FROM incidents WHERE id IN (SELECT pkid FROM idx_incidents_geom"
        " WHERE xmin <= ?1 AND xmax >= ?2 AND ymin <= ?3 AND ymax >= ?4)"
        " AND lon BETWEEN ?2 AND ?1 AND lat BETWEEN ?4 AND ?3"
        " AND +start_t <= ?5 AND (end_t IS NULL OR +end_t >= ?6) ORDER BY id",

    [BT__ST_SRC_INSERT] = "INSERT INTO sources(name, type, reliability, notes)"
                          " VALUES (?1, ?2, ?3, ?4)",
    [BT__ST_SRC_GET] = "SELECT id, name, type, reliability, notes FROM sources WHERE id = ?1",
    [BT__ST_SRC_FIND] = "SELECT id FROM sources WHERE name = ?1",
    [BT__ST_SRC_UPDATE] = "UPDATE sources SET name = ?1, type = ?2, reliability = ?3,"
                          " notes = ?4 WHERE id = ?5",
    [BT__ST_SRC_DELETE] = "DELETE FROM sources WHERE id = ?1",
    [BT__ST_SRC_REFS] =
        "SELECT (SELECT count(*) FROM incident_sources WHERE source_id = ?1),"
        " (SELECT count(*) FROM installations WHERE source_id = ?1)",

    [BT__ST_LINK_INSERT] = "INSERT INTO incident_sources(incident_id, source_id,"
                           " reported_t, reported_prec, credibility)"
                           " VALUES (?1, ?2, ?3, ?4, ?5)",
    [BT__ST_LINK_GET] = "SELECT reported_t, reported_prec, credibility FROM incident_sources"
                        " WHERE incident_id = ?1 AND source_id = ?2",
    [BT__ST_LINK_UPDATE] = "UPDATE incident_sources SET reported_t = ?3, reported_prec = ?4,"
                           " credibility = ?5 WHERE incident_id = ?1 AND source_id = ?2",
    [BT__ST_LINK_DELETE] = "DELETE FROM incident_sources"
                           " WHERE incident_id = ?1 AND source_id = ?2",
    [BT__ST_LINK_LIST] = "SELECT source_id, reported_t, reported_prec, credibility"
                         " FROM incident_sources WHERE incident_id = ?1 ORDER BY source_id",
    [BT__ST_INC_EXISTS] = "SELECT 1 FROM incidents WHERE id = ?1",

    [BT__ST_PLACE_INSERT] = "INSERT INTO places(name, country, admin1, geom)"
                            " VALUES (?1, ?2, ?3, ?4)",
    [BT__ST_PLACE_GET] = "SELECT id, name, country, admin1, geom FROM places WHERE id = ?1",
    [BT__ST_PLACE_UPDATE] = "UPDATE places SET name = ?1, country = ?2, admin1 = ?3,"
                            " geom = ?4 WHERE id = ?5",
    [BT__ST_PLACE_DELETE] = "DELETE FROM places WHERE id = ?1",
};

/* ------------------------------------------------------------------------- */
/* Errors */

static int map_code(int ext)
{
    switch (ext & 0xff) {
    case SQLITE_CONSTRAINT:
        if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
            return BT_ERR_EXISTS;
        if (ext == SQLITE_CONSTRAINT_FOREIGNKEY) return BT_ERR_CONSTRAINT;
        return BT_ERR_INVALID; /* CHECK, NOT NULL, a SpatiaLite geometry trigger */
    case SQLITE_READONLY: return BT_ERR_READONLY;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return BT_ERR_BUSY;
    case SQLITE_NOMEM: return BT_ERR_NOMEM;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_CORRUPT:
    case SQLITE_PERM:
    case SQLITE_AUTH: return BT_ERR_IO;
    case SQLITE_NOTADB: return BT_ERR_NOT_A_STORE;
    default: return BT_ERR_INTERNAL;
    }
}

int bt__sq_fail(bt_store *s, int rc, const char *fmt, ...)
{
    struct bt__sq *q = bt__sq_of(s);
    int ext = q && q->db ? sqlite3_extended_errcode(q->db) : rc;
    /* The connection's code is the detailed one unless it was already overwritten. */
    if ((ext & 0xff) != (rc & 0xff)) ext = rc;
    const char *detail = q && q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc);
    char what[BT_ERRMSG_SIZE / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    int code = map_code(ext);
    /* step_write()'s code for a transaction SQLite rolled back under a statement that
     * reported success: a trigger function swallowed the failure of its own statement -
     * out of memory, or an I/O error writing the rollback journal of a load. */
    if (rc == SQLITE_ABORT_ROLLBACK && q && q->db && sqlite3_errcode(q->db) == SQLITE_DONE) {
        code = BT_ERR_IO;
        detail = "a statement inside a trigger failed (out of memory or an I/O error)";
    }
    bool lost_txn = s->in_txn && q && q->db && sqlite3_get_autocommit(q->db);
    if (lost_txn) {
        s->in_txn = false;
        bt__sq_bulk_reset(s);
    }
    return bt__error(s, code, "%s: %s%s", what, detail,
                     lost_txn ? " (SQLite rolled back the open transaction)" : "");
}

/* ------------------------------------------------------------------------- */
/* Statement cache */

int bt__sq_acquire(bt_store *s, enum bt__stmt_id id, sqlite3_stmt **out)
{
    struct bt__sq *q = bt__sq_of(s);
    *out = NULL;
    if (q->stmt[id] && !q->busy[id]) {
        q->busy[id] = 1;
        *out = q->stmt[id];
        return BT_OK;
    }
    sqlite3_stmt *st = NULL;
    bool cache = q->stmt[id] == NULL;
    int rc = sqlite3_prepare_v3(q->db, stmt_sql[id], -1,
                                cache ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return bt__sq_fail(s, rc, "preparing \"%.60s...\"", stmt_sql[id]);
    }
    if (cache) {
        q->stmt[id] = st;
        q->busy[id] = 1;
    }
    *out = st;
    return BT_OK;
}

void bt__sq_release(bt_store *s, enum bt__stmt_id id, sqlite3_stmt *st)
{
    struct bt__sq *q = bt__sq_of(s);
    if (!st) return;
    if (st == q->stmt[id]) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        q->busy[id] = 0;
    } else {
        sqlite3_finalize(st);
    }
}

/* Runs a statement that returns no rows we need. */
static int run_simple(bt_store *s, enum bt__stmt_id id, const char *what)
{
    sqlite3_stmt *st;
    int rc = bt__sq_acquire(s, id, &st);
    if (rc) return rc;
    int src = sqlite3_step(st);
    int ret = (src == SQLITE_DONE || src == SQLITE_ROW) ? BT_OK : bt__sq_fail(s, src, "%s", what);
    bt__sq_release(s, id, st);
    return ret;
}

/* Writes the WAL back into the file and truncates it, so that a deleted or renamed
 * source identity does not survive in old WAL frames (secure_delete scrubs the file
 * itself). Best effort: with readers active the WAL cannot be truncated now. */
static void scrub_wal(bt_store *s)
{
    struct bt__sq *q = bt__sq_of(s);
    if (sqlite3_wal_checkpoint_v2(q->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) ==
        SQLITE_OK)
        q->scrub_wal = false;
}

void bt__sq_after_write(bt_store *s)
{
    struct bt__sq *q = bt__sq_of(s);
    if (q->scrub_wal && !s->in_txn && sqlite3_get_autocommit(q->db)) scrub_wal(s);
}

/* ------------------------------------------------------------------------- */
/* Open and close */

/* SpatiaLite is loaded with dlopen() by the first handle that needs its SQL functions
 * (sqlite_splite.h), not linked: libspatialite and the libraries only it needs
 * (librttopo, libxml2, ICU, ...) cost a process ~7 million instructions to load (5-10
 * ms), and a one-shot read-only query needs none of them. RTLD_NODELETE keeps the library loaded once
 * the last handle is closed, so the next handle does not load it again. The
 * prototypes are checked against spatialite.h without referencing the symbols. */
typedef void *(*splite_alloc_fn)(void);
typedef void (*splite_init_fn)(sqlite3 *, const void *, int);
typedef void (*splite_cleanup_fn)(const void *);
_Static_assert(_Generic(&spatialite_alloc_connection, splite_alloc_fn: 1, default: 0) &&
                   _Generic(&spatialite_init_ex, splite_init_fn: 1, default: 0) &&
                   _Generic(&spatialite_cleanup_ex, splite_cleanup_fn: 1, default: 0),
               "SpatiaLite's connection functions changed their prototypes");

/* q->splite: what one connection holds of SpatiaLite. */
struct bt__splite {
    void *lib;                 /* dlopen() handle */
    void *cache;               /* spatialite_alloc_connection() */
    splite_cleanup_fn cleanup; /* spatialite_cleanup_ex */
};

static void splite_free(struct bt__splite *sp)
{
    if (!sp) return;
    if (sp->cache) sp->cleanup(sp->cache);
    if (sp->lib) dlclose(sp->lib);
    bt__free(sp);
}

static void free_state(struct bt__sq *q)
{
    if (!q) return;
    for (int i = 0; i < BT__ST_COUNT_OF_IDS; i++) sqlite3_finalize(q->stmt[i]);
    if (q->db) sqlite3_close_v2(q->db);
    /* SpatiaLite's cache must outlive the connection that uses it. */
    splite_free(q->splite);
    bt__free(q);
}

/* dlsym() into a function pointer without the object-to-function cast ISO C lacks. */
static bool splite_sym(void *lib, const char *name, void *fn, size_t size)
{
    void *p = dlsym(lib, name);
    if (p) memcpy(fn, &p, size);
    return p != NULL;
}

int bt__sq_spatialite(bt_store *s)
{
    struct bt__sq *q = bt__sq_of(s);
    if (q->splite) return BT_OK;
    struct bt__splite *sp = bt__calloc(1, sizeof *sp);
    if (!sp) return bt__error(s, BT_ERR_NOMEM, "setting up SpatiaLite: out of memory");
    /* By soname first (the system's search path), then where the build found it. */
    static const char *const names[] = {BT_SPATIALITE_SONAME, BT_SPATIALITE_PATH};
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !sp->lib; i++)
        sp->lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    splite_alloc_fn alloc_conn = NULL;
    splite_init_fn init = NULL;
    if (!sp->lib || !splite_sym(sp->lib, "spatialite_alloc_connection", &alloc_conn,
                                sizeof alloc_conn) ||
        !splite_sym(sp->lib, "spatialite_init_ex", &init, sizeof init) ||
        !splite_sym(sp->lib, "spatialite_cleanup_ex", &sp->cleanup, sizeof sp->cleanup)) {
        const char *why = dlerror();
        int rc = bt__error(s, BT_ERR_INTERNAL, "cannot load SpatiaLite (%s): %s",
                           BT_SPATIALITE_SONAME, why ? why : "unknown error");
        splite_free(sp);
        return rc;
    }
    sp->cache = alloc_conn();
    if (!sp->cache) {
        splite_free(sp);
        return bt__error(s, BT_ERR_NOMEM,
                         "SpatiaLite could not set up the connection (out of memory or too "
                         "many open connections)");
    }
    init(q->db, sp->cache, 0);
    q->splite = sp;
    return BT_OK;
}

bool bt__sq_spatialite_ready(bt_store *s)
{
    struct bt__sq *q = bt__sq_of(s);
    return q && q->splite != NULL;
}

/* Runs a constant PRAGMA (no values from outside are ever spliced in). */
static int exec_const(bt_store *s, const char *sql, const char *path)
{
    int rc = sqlite3_exec(bt__sq_of(s)->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) return bt__sq_fail(s, rc, "store %s: %s", path, sql);
    return BT_OK;
}

static int pragma_int(bt_store *s, const char *sql, const char *path, int *value)
{
    sqlite3_stmt *st = NULL;
    struct bt__sq *q = bt__sq_of(s);
    int rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *value = sqlite3_column_int(st, 0);
            rc = SQLITE_OK;
        }
    }
    int ret = BT_OK;
    if (rc != SQLITE_OK && rc != SQLITE_DONE) {
        int ext = sqlite3_extended_errcode(q->db);
        if ((ext & 0xff) == SQLITE_NOTADB)
            ret = bt__error(s, BT_ERR_NOT_A_STORE, "not a bordertrack store: %s: %s", path,
                            sqlite3_errmsg(q->db));
        else
            ret = bt__sq_fail(s, rc, "store %s", path);
    }
    sqlite3_finalize(st);
    return ret;
}

/* Creates the file with mode 0600 before SQLite sees it; SQLite then gives its -wal
 * and -shm files the database file's mode. *created tells whether it is new. */
static int create_file(bt_store *s, const char *path, bool *created)
{
    *created = false;
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) {
        *created = true;
        /* The umask can only remove bits; make the mode exact all the same. */
        int frc = fchmod(fd, 0600);
        int err = errno;
        close(fd);
        if (frc != 0)
            return bt__error(s, BT_ERR_IO, "cannot create store %s: %s", path, strerror(err));
        return BT_OK;
    }
    if (errno == EEXIST) return BT_OK;
    return bt__error(s, errno == EACCES || errno == EROFS ? BT_ERR_READONLY : BT_ERR_IO,
                     "cannot create store %s: %s", path, strerror(errno));
}

static void remove_files(const char *path)
{
    size_t n = strlen(path);
    char *buf = bt__malloc(n + 5);
    unlink(path);
    if (!buf) return;
    memcpy(buf, path, n);
    memcpy(buf + n, "-wal", 5);
    unlink(buf);
    memcpy(buf + n, "-shm", 5);
    unlink(buf);
    bt__free(buf);
}

/* Does the database hold any schema object? (An empty database may become a store.) */
static int schema_is_empty(bt_store *s, const char *path, bool *empty)
{
    int n = 0;
    int rc = pragma_int(s, "SELECT count(*) FROM sqlite_master", path, &n);
    *empty = n == 0;
    return rc;
}

static int open_db(bt_store *s, const char *path, unsigned flags)
{
    struct bt__sq *q = bt__sq_of(s);
    bool rw = (flags & BT_OPEN_READWRITE) != 0;
    int oflags = (rw ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &q->db, oflags, NULL);
    if (rc != SQLITE_OK) {
        int code = rc == SQLITE_NOMEM || !q->db ? BT_ERR_NOMEM : BT_ERR_IO;
        if (!q->db) return bt__error(s, code, "cannot open store %s: out of memory", path);
        int err = sqlite3_system_errno(q->db);
        return bt__error(s, code, "cannot open store %s: %s", path,
                         err ? strerror(err) : sqlite3_errmsg(q->db));
    }
    sqlite3_extended_result_codes(q->db, 1);
    sqlite3_busy_timeout(q->db, BT__BUSY_TIMEOUT_MS);
    if (rw && sqlite3_db_readonly(q->db, "main") == 1)
        return bt__error(s, BT_ERR_READONLY,
                         "store %s cannot be opened read-write: the file is read-only", path);

    /* Writes fire SpatiaLite's triggers and migrations call its functions; read-only
     * handles set it up only when a statement needs it (sqlite_splite.h). */
    if (rw) {
        int src = bt__sq_spatialite(s);
        if (src) {
            char why[BT_ERRMSG_SIZE];
            memcpy(why, s->errmsg, sizeof why);
            return bt__error(s, src, "store %s: %.400s", path, why);
        }
    }
    return BT_OK;
}

/* Checks that the file is ours and of a schema we understand, and brings it to the
 * current schema if needed and allowed. */
static int check_and_migrate(bt_store *s, const char *path, unsigned flags)
{
    bool rw = (flags & BT_OPEN_READWRITE) != 0;
    int appid = 0, version = 0;
    bool empty = false;
    int rc = pragma_int(s, "PRAGMA application_id", path, &appid);
    if (!rc) rc = pragma_int(s, "PRAGMA user_version", path, &version);
    if (!rc) rc = schema_is_empty(s, path, &empty);
    if (rc) return rc;

    bool fresh = appid == 0 && version == 0 && empty;
    if (fresh && !(rw && (flags & BT_OPEN_CREATE)))
        return bt__error(s, BT_ERR_NOT_A_STORE,
                         "not a bordertrack store: %s: the database is empty", path);
    if (!fresh && appid != BT__APPLICATION_ID)
        return bt__error(s, BT_ERR_NOT_A_STORE,
                         "not a bordertrack store: %s: SQLite database with application_id "
                         "0x%08x, expected 0x%08x",
                         path, (unsigned)appid, (unsigned)BT__APPLICATION_ID);
    if (version > BT__SCHEMA_VERSION)
        return bt__error(s, BT_ERR_SCHEMA,
                         "store schema version %d is newer than this library's %d; "
                         "upgrade bordertrack (%s)",
                         version, BT__SCHEMA_VERSION, path);
    if (rw) {
        /* Durable enough with WAL, and no deleted text left in free pages. */
        rc = exec_const(s, "PRAGMA journal_mode=WAL", path);
        bt__sq_change_check_reset(s); /* (a fresh handle: nothing known yet anyway) */
        if (!rc) rc = exec_const(s, "PRAGMA synchronous=NORMAL", path);
    }
    /* Statement journals in memory: with SpatiaLite's triggers every insert opens a
     * statement journal, and once one spills to a temporary file each later insert
     * of the transaction pays write(2) calls (measured: 16,000 -> 36,000 rows/s). */
    if (!rc) rc = exec_const(s, "PRAGMA temp_store=MEMORY", path);
    if (!rc) rc = exec_const(s, "PRAGMA foreign_keys=ON", path);
    if (!rc) rc = exec_const(s, "PRAGMA secure_delete=ON", path);
    if (rc) return rc;
    if (version < BT__SCHEMA_VERSION) {
        if (!rw)
            return bt__error(s, BT_ERR_SCHEMA,
                             "store schema version %d is older than this library's %d; "
                             "open it read-write once to migrate it (%s)",
                             version, BT__SCHEMA_VERSION, path);
        rc = bt__sq_migrate(s, version);
    }
    return rc;
}

/* The smallest import run under a rollback journal ("loads under a rollback journal"
 * below). Below it the switch costs more than it saves (the journal's file and syncs, the
 * WAL's close and re-creation): into a new store, 1,000 features (0.2 MB) took 0.03-0.15
 * s with it against 0.02-0.04 s without, 5,000 (1 MB) 0.06-0.12 s against 0.05-0.11 s,
 * 20,000 (4 MB) the same with and without, 50,000 (10 MB) 0.40-0.80 s against 0.50-0.84
 * s (load ~4.5): it pays once the load outgrows the 16 MiB bulk page cache. */
#define LOAD_JOURNAL_MIN_BYTES (8u << 20)

static int sq_open(bt_store *s, const char *path, unsigned flags)
{
    struct bt__sq *q = bt__calloc(1, sizeof *q);
    if (!q) return bt__error(s, BT_ERR_NOMEM, "opening store %s: out of memory", path);
    s->be_data = q;
    q->load_min_bytes = LOAD_JOURNAL_MIN_BYTES;
    bool memory = strcmp(path, ":memory:") == 0;
    bool created = false;
    int rc = BT_OK;
    if (!memory && (flags & BT_OPEN_CREATE)) rc = create_file(s, path, &created);
    if (!rc) rc = open_db(s, path, flags);
    if (!rc) rc = check_and_migrate(s, path, flags);
    if (rc) {
        free_state(q);
        s->be_data = NULL;
        /* Leave nothing behind of a store we failed to create. */
        if (created) remove_files(path);
    }
    return rc;
}

static bool load_restore(bt_store *s);

static int sq_close(bt_store *s)
{
    struct bt__sq *q = bt__sq_of(s);
    if (!q) return BT_OK;
    int ret = BT_OK;
    if (q->db && !sqlite3_get_autocommit(q->db))
        sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    s->in_txn = false;
    bt__sq_bulk_reset(s);
    load_restore(s);
    if (q->scrub_wal) scrub_wal(s);
    for (int i = 0; i < BT__ST_COUNT_OF_IDS; i++) {
        sqlite3_finalize(q->stmt[i]);
        q->stmt[i] = NULL;
    }
    if (q->db) {
        int rc = sqlite3_close(q->db);
        if (rc != SQLITE_OK) {
            ret = bt__error(s, map_code(rc), "closing store: %s", sqlite3_errmsg(q->db));
            sqlite3_close_v2(q->db); /* frees it once whatever is left is finalized */
        }
        q->db = NULL;
    }
    free_state(q);
    s->be_data = NULL;
    return ret;
}

/* ------------------------------------------------------------------------- */
/* Store-level operations */

static int sq_schema_version(bt_store *s, int *version)
{
    sqlite3_stmt *st;
    int rc = bt__sq_acquire(s, BT__ST_USER_VERSION, &st);
    if (rc) return rc;
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        *version = sqlite3_column_int(st, 0);
        rc = BT_OK;
    } else {
        rc = bt__sq_fail(s, src, "reading the schema version");
    }
    bt__sq_release(s, BT__ST_USER_VERSION, st);
    return rc;
}

static int begin_txn(bt_store *s)
{
    /* IMMEDIATE takes the write lock now, so a writer never fails half-way through on
     * a lock upgrade; a read-only store gets a consistent read snapshot instead. */
    bool rw = (s->flags & BT_OPEN_READWRITE) != 0;
    bt__sq_bulk_reset(s);
    /* A rollback that could not run (out of memory) leaves SQLite's transaction open,
     * holding the write lock: end it before starting anew. */
    if (!sqlite3_get_autocommit(bt__sq_of(s)->db)) {
        int rc = run_simple(s, BT__ST_ROLLBACK, "rolling back a transaction left open");
        if (rc) return rc;
    }
    return run_simple(s, rw ? BT__ST_BEGIN_IMMEDIATE : BT__ST_BEGIN_DEFERRED,
                      "beginning a transaction");
}

static int sq_begin(bt_store *s)
{
    if (bt__sq_of(s)->load_journal) load_restore(s); /* retried, see sq_load_end() */
    return begin_txn(s);
}

/* ---- loads under a rollback journal ------------------------------------------ */
/*
 * In WAL mode a large load writes every page twice: into the WAL, then again when the
 * checkpoint copies it into the database. Under a rollback journal a page is written
 * once, and a page past the file's size when the transaction began (all of a load
 * into a new store, most of a large one) is not journaled at all: an import of 3*10^5
 * incidents into a new store took 1.56-1.66 s instead of 1.94-2.02 s (the COMMIT
 * itself 0.10 s instead of 0.39 s). So an import that owns its transaction and has at
 * least LOAD_JOURNAL_MIN_BYTES (8 MiB) of input switches the connection to
 * journal_mode=DELETE for the load and back to WAL after it, but only if it is the
 * file's sole user: leaving WAL mode takes an exclusive lock on the file, which SQLite
 * tries once, without waiting, and is refused while any other connection holds its
 * shared lock - as every connection in WAL mode that has read does, in this process
 * or another. Then the load simply stays in WAL mode.
 * The guarantees: the load is still one transaction; an error rolls it back from the
 * journal; a crash leaves a hot journal that the next open (by this library or any
 * SQLite) rolls back before reading, so the store is as it was; synchronous is FULL
 * while the journal is in use (NORMAL is safe against power loss only in WAL mode).
 * The cost: a connection that opens the file during the load waits for the load's
 * exclusive lock (a page spill or the commit) instead of reading the old snapshot.
 */

/* Runs a PRAGMA that answers a journal mode; true if the answer is @p want. */
static bool journal_mode_is(sqlite3 *db, const char *sql, const char *want)
{
    sqlite3_stmt *st = NULL;
    bool yes = false;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        yes = mode && strcmp(mode, want) == 0;
    }
    sqlite3_finalize(st);
    return yes;
}

/* Back to WAL (and the old synchronous) after a load under a rollback journal; false
 * if that cannot be done now. Never touches the store's error message. */
static bool load_restore(bt_store *s)
{
    struct bt__sq *q = bt__sq_of(s);
    if (!q->load_journal) return true;
    if (!sqlite3_get_autocommit(q->db)) return false; /* the load's transaction is open */
    if (!journal_mode_is(q->db, "PRAGMA main.journal_mode=WAL", "wal")) return false;
    q->load_journal = false;
    bt__sq_change_check_reset(s);
    if (q->load_sync_prev >= 0) {
        char sql[40];
        snprintf(sql, sizeof sql, "PRAGMA main.synchronous=%d", q->load_sync_prev);
        sqlite3_exec(q->db, sql, NULL, NULL, NULL); /* a PRAGMA that does no I/O */
        q->load_sync_prev = -1;
    }
    return true;
}

static int sq_load_begin(bt_store *s, uint64_t bytes)
{
    struct bt__sq *q = bt__sq_of(s);
    if (q->load_journal) load_restore(s);
    if (!q->load_journal && bytes >= q->load_min_bytes && bytes > 0 &&
        (s->flags & BT_OPEN_READWRITE) && sqlite3_get_autocommit(q->db) &&
        journal_mode_is(q->db, "PRAGMA main.journal_mode", "wal")) {
        int sync = -1;
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(q->db, "PRAGMA main.synchronous", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            sync = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        /* refused (SQLITE_BUSY) if another connection has the file open: stay in WAL */
        if (sync >= 0 && journal_mode_is(q->db, "PRAGMA main.journal_mode=DELETE", "delete")) {
            q->load_journal = true;
            q->load_sync_prev = -1;
            bt__sq_change_check_reset(s);
            if (sync < 2 && sqlite3_exec(q->db, "PRAGMA main.synchronous=FULL", NULL, NULL, NULL) ==
                                SQLITE_OK)
                q->load_sync_prev = sync;
        }
    }
    return begin_txn(s);
}

static void sq_load_end(bt_store *s)
{
    struct bt__sq *q = bt__sq_of(s);
    if (!q->load_journal) return;
    /* A rollback that could not run (out of memory) leaves SQLite's transaction open:
     * end it, as sq_begin() would. */
    if (!s->in_txn && !sqlite3_get_autocommit(q->db))
        sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    load_restore(s); /* if not now, at the next begin or at close */
}

static int sq_commit(bt_store *s)
{
    /* Index the bulk-loaded rows and restore the triggers inside the transaction, so
     * that readers only ever see the table with both. */
    int rc = bt__sq_bulk_flush(s);
    if (rc) return rc;
    rc = run_simple(s, BT__ST_COMMIT, "committing the transaction");
    if (rc == BT_OK) {
        s->in_txn = false;
        bt__sq_after_write(s);
    } else if (sqlite3_get_autocommit(bt__sq_of(s)->db)) {
        s->in_txn = false;
    }
    return rc;
}

static int sq_rollback(bt_store *s)
{
    struct bt__sq *q = bt__sq_of(s);
    int rc = run_simple(s, BT__ST_ROLLBACK, "rolling back the transaction");
    if (sqlite3_get_autocommit(q->db)) {
        s->in_txn = false;
        bt__sq_bulk_reset(s);
        /* Rolled-back frames stay in the WAL: scrub them too. */
        bt__sq_after_write(s);
    }
    return rc;
}

static int sq_count(bt_store *s, bt_counts *out)
{
    sqlite3_stmt *st;
    int rc = bt__sq_acquire(s, BT__ST_COUNT, &st);
    if (rc) return rc;
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        out->segments = sqlite3_column_int64(st, 0);
        out->installations = sqlite3_column_int64(st, 1);
        out->incidents = sqlite3_column_int64(st, 2);
        out->sources = sqlite3_column_int64(st, 3);
        out->links = sqlite3_column_int64(st, 4);
        out->places = sqlite3_column_int64(st, 5);
        out->interventions = sqlite3_column_int64(st, 6);
    } else {
        rc = bt__sq_fail(s, src, "counting records");
    }
    bt__sq_release(s, BT__ST_COUNT, st);
    return rc;
}

const struct bt_backend bt__spatialite_backend = {
    .name = "spatialite",
    .open = sq_open,
    .close = sq_close,
    .schema_version = sq_schema_version,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .load_begin = sq_load_begin,
    .load_end = sq_load_end,
    .count = sq_count,
    .segment_insert = bt__sq_segment_insert,
    .segment_get = bt__sq_segment_get,
    .segment_update = bt__sq_segment_update,
    .segment_delete = bt__sq_segment_delete,
    .installation_insert = bt__sq_installation_insert,
    .installation_get = bt__sq_installation_get,
    .installation_update = bt__sq_installation_update,
    .installation_delete = bt__sq_installation_delete,
    .incident_insert = bt__sq_incident_insert,
    .incident_get = bt__sq_incident_get,
    .incident_find = bt__sq_incident_find,
    .incident_update = bt__sq_incident_update,
    .incident_delete = bt__sq_incident_delete,
    .source_insert = bt__sq_source_insert,
    .source_get = bt__sq_source_get,
    .source_find = bt__sq_source_find,
    .source_update = bt__sq_source_update,
    .source_delete = bt__sq_source_delete,
    .link_insert = bt__sq_link_insert,
    .link_get = bt__sq_link_get,
    .link_update = bt__sq_link_update,
    .link_delete = bt__sq_link_delete,
    .link_list = bt__sq_link_list,
    .place_insert = bt__sq_place_insert,
    .place_get = bt__sq_place_get,
    .place_update = bt__sq_place_update,
    .place_delete = bt__sq_place_delete,
    .incident_scan_bbox = bt__sq_incident_scan_bbox,
    /* data exchange (sqlite_iter.c) */
    .ids_after = bt__sq_ids_after,
    .savepoint = bt__sq_savepoint,
    .savepoint_release = bt__sq_savepoint_release,
    .savepoint_rollback = bt__sq_savepoint_rollback,
    .obs_insert = bt__sq_obs_insert,
    .obs_delete = bt__sq_obs_delete,
    .obs_list = bt__sq_obs_list,
    /* interventions (sqlite_interventions.c) */
    .intervention_insert = bt__sq_intervention_insert,
    .intervention_get = bt__sq_intervention_get,
    .intervention_find = bt__sq_intervention_find,
    .intervention_update = bt__sq_intervention_update,
    .intervention_delete = bt__sq_intervention_delete,
    .intervention_ids = bt__sq_intervention_ids,
    .intervention_segment_check = bt__sq_intervention_segment_check,
    .chainage_state = bt__sq_chainage_state,
    .chainage_pending = bt__sq_chainage_pending,
    .chainage_clear = bt__sq_chainage_clear,
    .chainage_put = bt__sq_chainage_put,
    .chainage_set_state = bt__sq_chainage_set_state,
    .chainage_scan = bt__sq_chainage_scan,
    /* gazetteer (sqlite_places.c) */
    .place_scan = bt__sq_place_scan,
    /* index and query (sqlite_index.c) */
    .index_scan = bt__sq_index_scan,
    .index_rows = bt__sq_index_rows,
    .index_rows_bbox = bt__sq_index_rows_bbox,
    .incident_rtree_boxes = bt__sq_incident_rtree_boxes,
    .index_watch = bt__sq_index_watch,
    .data_version = bt__sq_data_version,
    .index_release = bt__sq_index_release,
    .in_transaction = bt__sq_in_transaction,
    .index_generation = bt__sq_index_generation,
    .index_load = bt__sq_index_load,
    .index_save = bt__sq_index_save,
    .installation_scan_bbox = bt__sq_installation_scan_bbox,
    .segment_scan_bbox = bt__sq_segment_scan_bbox,
};
