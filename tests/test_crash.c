/**
 * @file test_crash.c
 * @brief Power-loss-like crashes: a child process imports a few thousand incidents
 * (one transaction) and the parent kills it with SIGKILL after a delay taken from a
 * seeded, deterministic list spread over the typical import time. After each kill
 * the store must pass PRAGMA integrity_check and hold either none or all of that
 * import. The assertions do not depend on timing: whichever moment the kill lands on,
 * only "none" or "all" is correct.
 */
#define _DEFAULT_SOURCE /* mkdtemp, usleep */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <time.h>

#include "trust_util.h"

#define NINC 2000L  /* incidents per import */
#define RUNS 30

static bt_store *open_store(const char *path, unsigned flags)
{
    bt_store *s = NULL;
    char *err = NULL;
    int rc = bt_store_open(path, flags, &s, &err);
    if (rc != BT_OK)
        fail_msg("open %s: %s", path, err ? err : "");
    return s;
}

/* The child: import the file and exit 0 on success. Never returns. */
static void child_import(const char *db, const char *file)
{
    bt_store *s = NULL;
    if (bt_store_open(db, BT_OPEN_READWRITE, &s, NULL) != BT_OK)
        _exit(2);
    bt_import_options o;
    bt_import_options_init(&o);
    o.format = BT_FORMAT_GEOJSONSEQ;
    int rc = bt_import_file(s, file, &o, NULL);
    bt_store_close(s);
    _exit(rc == BT_OK ? 0 : 3);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void integrity_ok(const char *path, int run)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const char *res = (const char *)sqlite3_column_text(st, 0);
    if (!res || strcmp(res, "ok") != 0)
        fail_msg("run %d: integrity_check: %s", run, res ? res : "(null)");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_sigkill_during_import(void **state)
{
    (void)state;
    tu_dir d;
    assert_int_equal(tu_dir_make(&d), 0);
    char db[512], file[512];
    tu_path(&d, "crash.db", db, sizeof db);
    tu_path(&d, "import.geojsonl", file, sizeof file);
    bt_store *s = open_store(db, BT_OPEN_READWRITE | BT_OPEN_CREATE);
    for (size_t i = 0; i < TU_NFIXTURES; i++)
        assert_int_equal(tu_import(s, &tu_fixtures[i], NULL), BT_OK);
    bt_store_close(s);

    /* run 0 is not killed: it measures the typical import time */
    double typical = 0;
    unsigned seed = 20200729u;
    long none = 0, all = 0;
    int64_t count = 0;
    s = open_store(db, BT_OPEN_READONLY);
    bt_counts c;
    assert_int_equal(bt_store_count(s, &c), BT_OK);
    count = c.incidents;
    bt_store_close(s);
    for (int run = 0; run <= RUNS; run++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "K%d", run);
        size_t len = 0;
        char *gen = tu_gen_incidents(prefix, NINC, &len);
        assert_non_null(gen);
        assert_int_equal(tu_write_file(file, gen, len), 0);
        free(gen);

        /* 0 .. 1.2 x the typical time, from a fixed LCG */
        seed = seed * 1103515245u + 12345u;
        double frac = (double)((seed >> 8) % 1000u) / 1000.0 * 1.2;
        double t0 = now_s();
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            child_import(db, file);
        int status = 0;
        if (run > 0) {
            useconds_t us = (useconds_t)(frac * typical * 1e6);
            if (us)
                usleep(us);
            kill(pid, SIGKILL);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (run == 0) {
            typical = now_s() - t0;
            assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        } else {
            /* killed, or finished first: either way it must not have failed */
            assert_true(WIFSIGNALED(status) ||
                        (WIFEXITED(status) && WEXITSTATUS(status) == 0));
        }
        integrity_ok(db, run);
        s = open_store(db, BT_OPEN_READWRITE);
        assert_int_equal(bt_store_count(s, &c), BT_OK);
        int64_t idx = -1;
        assert_int_equal(bt_incident_count(s, NULL, &idx, NULL), BT_OK);
        bt_store_close(s);
        assert_int_equal(idx, c.incidents);
        if (c.incidents == count) {
            none++;
        } else if (c.incidents == count + NINC) {
            all++;
            count += NINC;
        } else {
            fail_msg("run %d (killed at %.0f%% of %.3f s): %lld incidents, want %lld or %lld",
                     run, frac * 100, typical, (long long)c.incidents, (long long)count,
                     (long long)(count + NINC));
        }
    }
    print_message("%d kills during a %ld-incident import (typical %.3f s): store held none "
                  "%ld, all %ld times (run 0 unkilled); integrity_check ok every time\n",
                  RUNS, NINC, typical, none - 0, all - 1);
    tu_dir_remove(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill_during_import),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
