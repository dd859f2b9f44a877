/**
 * @file test_import_journal.c
 * @brief Imports under a rollback journal (sqlite_backend.c, "loads under a rollback
 * journal"): a large import that owns its transaction and is the file's sole user
 * runs with journal_mode=DELETE and synchronous=FULL and puts WAL and the old
 * synchronous back on every path - success, a bad feature, a cancellation, skipped
 * features; with a second connection open it stays in WAL and that connection keeps
 * reading; a kill at any moment leaves either the store as before or the whole import.
 * The state of the store is compared by a hash of every row of every table.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include <sqlite3.h>

#include "store/sqlite_internal.h"
#include "store_fixture.h"

static fx_dir dir;

static int setup(void **state)
{
    (void)state;
    return fx_dir_make(&dir);
}

static int teardown(void **state)
{
    (void)state;
    fx_dir_remove(&dir);
    return 0;
}

/* The backend switches from 8 MiB of input on; the tests lower that to 1 MiB
 * (lower_threshold()) to keep the inputs small: ~200 bytes a feature. */
#define NBIG 6000L
#define THRESHOLD (1u << 20)

static void lower_threshold(bt_store *s) { bt__sq_of(s)->load_min_bytes = THRESHOLD; }

/* A FeatureCollection of n incidents B-<first>...; feature number bad (1-based, 0:
 * none) has an unknown type. A bt__malloc'd string. */
static char *make_json(long first, long n, long bad, size_t *len)
{
    size_t cap = (size_t)n * 256 + 64, pos = 0;
    char *buf = bt__malloc(cap);
    assert_non_null(buf);
    pos += (size_t)snprintf(buf, cap, "{\"type\":\"FeatureCollection\",\"features\":[\n");
    for (long i = 0; i < n; i++) {
        long k = first + i;
        pos += (size_t)snprintf(
            buf + pos, cap - pos,
            "%s{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
            "[%.6f,%.6f]},\"properties\":{\"ref\":\"B-%08ld\",\"type\":\"%s\",\"start\":"
            "\"2021-%02ld-%02ld\",\"time_precision\":\"day\",\"summary\":\"row %ld\"}}\n",
            i ? "," : "", 124.5 + (double)(k % 6000) * 0.001, 40.0 + (double)(k % 2800) * 0.001,
            k, i + 1 == bad ? "no_such_type" : "smuggling", 1 + k % 12, 1 + k % 28, k);
    }
    pos += (size_t)snprintf(buf + pos, cap - pos, "]}\n");
    *len = pos;
    return buf;
}

static sqlite3 *db_of(bt_store *s) { return bt__sq_of(s)->db; }

static void pragma_text(sqlite3 *db, const char *sql, char *out, size_t n)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

/* Asserts the connection is back to how the store opens it: WAL, synchronous NORMAL. */
static void assert_wal(bt_store *s)
{
    char m[32];
    pragma_text(db_of(s), "PRAGMA journal_mode", m, sizeof m);
    assert_string_equal(m, "wal");
    pragma_text(db_of(s), "PRAGMA synchronous", m, sizeof m);
    assert_string_equal(m, "1");
}

/* FNV-1a over every row of every table (and the schema), in rowid order. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) h = (h ^ c[i]) * 1099511628211u;
    return h;
}

static uint64_t store_hash(sqlite3 *db)
{
    uint64_t h = 14695981039346656037u;
    sqlite3_stmt *tabs = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT name, sql FROM sqlite_master WHERE type ="
                                            " 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'"
                                            " ORDER BY name", -1, &tabs, NULL),
                     SQLITE_OK);
    while (sqlite3_step(tabs) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(tabs, 0);
        const char *sql = (const char *)sqlite3_column_text(tabs, 1);
        h = fnv(h, name, strlen(name) + 1);
        if (sql) h = fnv(h, sql, strlen(sql) + 1);
        /* WITHOUT ROWID tables have no rowid: order by every column instead */
        char *q = strstr(sql ? sql : "", "WITHOUT ROWID")
                      ? sqlite3_mprintf("SELECT * FROM \"%w\" ORDER BY 1, 2", name)
                      : sqlite3_mprintf("SELECT * FROM \"%w\" ORDER BY rowid", name);
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
        sqlite3_free(q);
        while (sqlite3_step(st) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(st); c++) {
                int t = sqlite3_column_type(st, c);
                const void *b = sqlite3_column_blob(st, c);
                int len = sqlite3_column_bytes(st, c);
                h = fnv(h, &t, sizeof t);
                if (b) h = fnv(h, b, (size_t)len);
            }
        }
        sqlite3_finalize(st);
    }
    sqlite3_finalize(tabs);
    /* the indexes too (the time index is dropped and re-created by a bulk load) */
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT name, coalesce(sql, '') FROM sqlite_master"
                                            " WHERE type IN ('index', 'trigger') ORDER BY name",
                                        -1, &tabs, NULL),
                     SQLITE_OK);
    while (sqlite3_step(tabs) == SQLITE_ROW)
        for (int c = 0; c < 2; c++)
            h = fnv(h, sqlite3_column_text(tabs, c), (size_t)sqlite3_column_bytes(tabs, c));
    sqlite3_finalize(tabs);
    return h;
}

static int64_t count_incidents(bt_store *s)
{
    bt_counts c;
    assert_int_equal(bt_store_count(s, &c), BT_OK);
    return c.incidents;
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* What the progress callback saw of the store during the load. */
struct seen {
    bt_store *s;
    char path[512];
    char mode[32], sync[32];
    bool journal_file, wal_file;
    long calls;
    long cancel_at;      /* cancel on this call (0: never) */
    bt_store *other;     /* a second connection that reads during the load */
    int64_t other_count; /* what it read */
};

static int on_progress(uint64_t done, uint64_t total, void *udata)
{
    struct seen *w = udata;
    (void)total;
    w->calls++;
    if (done > 0 && done < total) { /* in the middle of the load */
        pragma_text(db_of(w->s), "PRAGMA journal_mode", w->mode, sizeof w->mode);
        pragma_text(db_of(w->s), "PRAGMA synchronous", w->sync, sizeof w->sync);
        char p[600];
        snprintf(p, sizeof p, "%s-journal", w->path);
        w->journal_file = file_exists(p);
        snprintf(p, sizeof p, "%s-wal", w->path);
        w->wal_file = file_exists(p);
        if (w->other) w->other_count = count_incidents(w->other);
    }
    return w->cancel_at != 0 && w->calls == w->cancel_at;
}

/* A new store holding 10 incidents. */
static bt_store *store_with_ten(const char *name, char *path, size_t n)
{
    fx_file(&dir, name, path, n);
    unlink(path);
    bt_store *s = NULL;
    assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE | BT_OPEN_CREATE, &s, NULL), BT_OK);
    lower_threshold(s);
    size_t len;
    char *json = make_json(900000, 10, 0, &len);
    assert_int_equal(bt_import_mem(s, json, len, "ten.geojson", NULL, NULL), BT_OK);
    bt__free(json);
    assert_wal(s); /* a small import never leaves WAL */
    return s;
}

static void test_success_under_journal(void **state)
{
    (void)state;
    char path[512];
    bt_store *s = store_with_ten("ok.db", path, sizeof path);
    size_t len;
    char *json = make_json(0, NBIG, 0, &len);
    assert_true(len >= THRESHOLD);
    /* through a file, as the benchmark does */
    char file[512];
    fx_file(&dir, "big.geojson", file, sizeof file);
    FILE *f = fopen(file, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(json, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    bt__free(json);

    struct seen w = {.s = s};
    snprintf(w.path, sizeof w.path, "%s", path);
    bt_import_options o;
    bt_import_options_init(&o);
    o.progress = on_progress;
    o.progress_udata = &w;
    bt_import_report rep;
    assert_int_equal(bt_import_file(s, file, &o, &rep), BT_OK);
    assert_int_equal(rep.added, NBIG);
    /* during the load: a rollback journal, synchronous FULL, no WAL file */
    assert_true(w.calls > 2);
    assert_string_equal(w.mode, "delete");
    assert_string_equal(w.sync, "2");
    assert_true(w.journal_file);
    assert_false(w.wal_file);
    /* after it: WAL again, everything there and consistent */
    assert_wal(s);
    assert_int_equal(count_incidents(s), NBIG + 10);
    char m[64];
    pragma_text(db_of(s), "PRAGMA integrity_check", m, sizeof m);
    assert_string_equal(m, "ok");
    pragma_text(db_of(s), "SELECT rtreecheck('idx_incidents_geom')", m, sizeof m);
    assert_string_equal(m, "ok");
    int64_t id = 0;
    assert_int_equal(bt_incident_find(s, "B-00005999", &id), BT_OK);
    bt_incident *inc = NULL;
    assert_int_equal(bt_incident_get(s, id, &inc), BT_OK);
    assert_true(fabs(inc->where.lon - (124.5 + 5999 * 0.001)) < 1e-9);
    assert_true(fabs(inc->where.lat - (40.0 + (5999 % 2800) * 0.001)) < 1e-9);
    assert_string_equal(inc->ref, "B-00005999");
    bt_incident_free(inc);
    /* the next write transaction runs in WAL mode: its WAL file appears */
    assert_int_equal(bt_store_begin(s), BT_OK);
    bt_incident one = fx_incident("after", 128.0, 41.0);
    assert_int_equal(bt_incident_add(s, &one, &id), BT_OK);
    assert_int_equal(bt_store_commit(s), BT_OK);
    char p[600];
    snprintf(p, sizeof p, "%s-wal", path);
    assert_true(file_exists(p));
    bt_store_close(s);
}

/* A bad feature near the end, then a cancellation: each time the store is exactly as
 * before, WAL and synchronous are back and no journal is left. */
static void test_failure_restores(void **state)
{
    (void)state;
    char path[512], p[600];
    bt_store *s = store_with_ten("fail.db", path, sizeof path);
    uint64_t before = store_hash(db_of(s));
    size_t len;
    char *json = make_json(0, NBIG, NBIG - 3, &len);
    struct seen w = {.s = s};
    snprintf(w.path, sizeof w.path, "%s", path);
    bt_import_options o;
    bt_import_options_init(&o);
    o.progress = on_progress;
    o.progress_udata = &w;
    assert_int_equal(bt_import_mem(s, json, len, "bad.geojson", &o, NULL), BT_ERR_INVALID);
    assert_non_null(strstr(bt_store_errmsg(s), "feature 5997"));
    assert_string_equal(w.mode, "delete");
    assert_wal(s);
    assert_true(store_hash(db_of(s)) == before);
    snprintf(p, sizeof p, "%s-journal", path);
    assert_false(file_exists(p));
    bt__free(json);

    json = make_json(0, NBIG, 0, &len);
    memset(&w, 0, sizeof w);
    w.s = s;
    snprintf(w.path, sizeof w.path, "%s", path);
    w.cancel_at = 3;
    assert_int_equal(bt_import_mem(s, json, len, "cancel.geojson", &o, NULL), BT_ERR_CANCELLED);
    assert_string_equal(w.mode, "delete");
    assert_wal(s);
    assert_true(store_hash(db_of(s)) == before);
    assert_false(file_exists(p));

    /* skip_invalid (savepoints under the journal): the valid ones, nothing else */
    bt__free(json);
    json = make_json(0, NBIG, 100, &len);
    bt_import_options_init(&o);
    o.skip_invalid = 1;
    bt_import_report rep;
    assert_int_equal(bt_import_mem(s, json, len, "skip.geojson", &o, &rep), BT_OK);
    assert_int_equal(rep.added, NBIG - 1);
    assert_int_equal(rep.skipped, 1);
    assert_int_equal(count_incidents(s), NBIG - 1 + 10);
    int64_t id;
    assert_int_equal(bt_incident_find(s, "B-00000099", &id), BT_ERR_NOT_FOUND);
    assert_int_equal(bt_incident_find(s, "B-00000100", &id), BT_OK);
    assert_wal(s);
    bt__free(json);
    bt_store_close(s);
}

/* With a second connection open the load stays in WAL mode, and the other connection
 * reads the old snapshot during it and the new one after. A caller's transaction and a
 * small import stay in WAL too. */
static void test_second_connection(void **state)
{
    (void)state;
    char path[512];
    bt_store *s = store_with_ten("two.db", path, sizeof path);
    bt_store *other = NULL;
    assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE, &other, NULL), BT_OK);
    lower_threshold(other);
    assert_int_equal(count_incidents(other), 10); /* it has read: it holds its lock */
    size_t len;
    char *json = make_json(0, NBIG, 0, &len);
    struct seen w = {.s = s, .other = other, .other_count = -1};
    snprintf(w.path, sizeof w.path, "%s", path);
    bt_import_options o;
    bt_import_options_init(&o);
    o.progress = on_progress;
    o.progress_udata = &w;
    assert_int_equal(bt_import_mem(s, json, len, "big.geojson", &o, NULL), BT_OK);
    assert_string_equal(w.mode, "wal");
    assert_string_equal(w.sync, "1");
    assert_int_equal(w.other_count, 10);
    assert_int_equal(count_incidents(other), NBIG + 10);
    assert_wal(s);
    assert_wal(other);
    bt_store_close(other);
    bt__free(json);

    /* inside the caller's transaction: WAL */
    json = make_json(100000, NBIG, 0, &len);
    memset(&w, 0, sizeof w);
    w.s = s;
    snprintf(w.path, sizeof w.path, "%s", path);
    assert_int_equal(bt_store_begin(s), BT_OK);
    assert_int_equal(bt_import_mem(s, json, len, "big2.geojson", &o, NULL), BT_OK);
    assert_string_equal(w.mode, "wal");
    assert_int_equal(bt_store_commit(s), BT_OK);
    assert_int_equal(count_incidents(s), 2 * NBIG + 10);
    assert_wal(s);
    bt__free(json);
    bt_store_close(s);
}

/* Killed at moments spread over a load under the journal (its hot journal left
 * behind): the next open sees either the store as before or the whole import, in WAL
 * mode, with no journal left. */
static void test_kill_during_load(void **state)
{
    (void)state;
    char path[512], p[600];
    size_t len;
    char *json = make_json(0, NBIG, 0, &len);
    bt_store *s = store_with_ten("kill.db", path, sizeof path);
    uint64_t before = store_hash(db_of(s));
    bt_store_close(s);
    snprintf(p, sizeof p, "%s-journal", path);
    double typical = 0;
    int kills = 0, none = 0, all = 0;
    for (int run = 0; run < 10; run++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            bt_store *c = NULL;
            if (bt_store_open(path, BT_OPEN_READWRITE, &c, NULL) != BT_OK) _exit(2);
            lower_threshold(c);
            int rc = bt_import_mem(c, json, len, "kill.geojson", NULL, NULL);
            bt_store_close(c);
            _exit(rc == BT_OK ? 0 : 1);
        }
        if (run > 0) {
            /* run 0 measured the load; then a deterministic spread over 0.1 .. 1.1 of it */
            double at = typical * (0.1 + 0.11 * (run - 1));
            struct timespec d = {(time_t)at, (long)((at - (double)(time_t)at) * 1e9)};
            nanosleep(&d, NULL);
            kill(pid, SIGKILL);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (run == 0) {
            assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
            typical = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
        }
        if (WIFSIGNALED(status)) kills++;
        assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE, &s, NULL), BT_OK);
        assert_false(file_exists(p)); /* rolled back (or never there) */
        assert_wal(s);
        char m[64];
        pragma_text(db_of(s), "PRAGMA integrity_check", m, sizeof m);
        assert_string_equal(m, "ok");
        int64_t n = count_incidents(s);
        if (n == 10) {
            assert_true(store_hash(db_of(s)) == before);
            none++;
            bt_store_close(s);
            continue;
        }
        assert_int_equal(n, NBIG + 10); /* the whole import */
        pragma_text(db_of(s), "SELECT rtreecheck('idx_incidents_geom')", m, sizeof m);
        assert_string_equal(m, "ok");
        all++;
        bt_store_close(s);
        /* start the next run from a new store of ten */
        const char *suffix[] = {"", "-wal", "-shm"};
        for (int i = 0; i < 3; i++) {
            char f[600];
            snprintf(f, sizeof f, "%s%s", path, suffix[i]);
            unlink(f);
        }
        s = store_with_ten("kill.db", path, sizeof path);
        before = store_hash(db_of(s));
        bt_store_close(s);
    }
    print_message("%d kills over a %.3f s load: %d left the store as before, %d kept all\n",
                  kills, typical, none, all);
    assert_true(kills > 0);
    assert_true(all > 0); /* run 0 at least */
    bt__free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_success_under_journal),
        cmocka_unit_test(test_failure_restores),
        cmocka_unit_test(test_second_connection),
        cmocka_unit_test(test_kill_during_load),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
