/**
 * @file test_concurrency.c
 * @brief Several threads, each with its own store handle on one file, query while
 * another thread imports batches of K incidents (each import one transaction). Every
 * reader must always see a multiple of K incidents (all of an import or none), never
 * fewer than before, and nobody may get an error (the busy timeout absorbs the
 * locking). Built also under ThreadSanitizer (see docs/ROBUSTNESS.md).
 */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>

#include "trust_util.h"

#define K 50L        /* incidents per import */
#define IMPORTS 12   /* imports by the writer */
#define READERS 3

typedef struct shared {
    const char *path;
    atomic_int done;      /* the writer has finished */
    atomic_long errors;   /* calls that failed, any thread */
    atomic_long torn;     /* counts that were not a multiple of K, or went back */
    atomic_long reads;    /* queries made */
    char first_error[512];
    pthread_mutex_t lock; /* guards first_error */
} shared;

static void note_error(shared *sh, const char *who, int rc, const char *msg)
{
    atomic_fetch_add(&sh->errors, 1);
    pthread_mutex_lock(&sh->lock);
    if (!sh->first_error[0])
        snprintf(sh->first_error, sizeof sh->first_error, "%s: %d %s", who, rc, msg);
    pthread_mutex_unlock(&sh->lock);
}

static int count_cb(const bt_incident *inc, double dist, void *udata)
{
    (void)inc;
    (void)dist;
    ++*(long *)udata;
    return 0;
}

static void *writer(void *arg)
{
    shared *sh = arg;
    bt_store *s = NULL;
    int rc = bt_store_open(sh->path, BT_OPEN_READWRITE, &s, NULL);
    if (rc != BT_OK) {
        note_error(sh, "writer open", rc, "");
        atomic_store(&sh->done, 1);
        return NULL;
    }
    bt_import_options o;
    bt_import_options_init(&o);
    o.format = BT_FORMAT_GEOJSONSEQ;
    for (int i = 0; i < IMPORTS; i++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "W%d", i);
        size_t len = 0;
        char *gen = tu_gen_incidents(prefix, K, &len);
        rc = gen ? bt_import_mem(s, gen, len, "batch.geojsonl", &o, NULL) : BT_ERR_NOMEM;
        if (rc != BT_OK)
            note_error(sh, "writer import", rc, bt_store_errmsg(s));
        free(gen);
    }
    bt_store_close(s);
    atomic_store(&sh->done, 1);
    return NULL;
}

static void *reader(void *arg)
{
    shared *sh = arg;
    bt_store *s = NULL;
    int rc = bt_store_open(sh->path, BT_OPEN_READONLY, &s, NULL);
    if (rc != BT_OK) {
        note_error(sh, "reader open", rc, "");
        return NULL;
    }
    long last_count = 0, last_within = 0;
    bt_lonlat centre = {128.2, 41.43};
    for (int final = 0; final < 2;) {
        if (atomic_load(&sh->done))
            final++; /* one more round after the writer is done */
        int64_t total = -1;
        rc = bt_incident_count(s, NULL, &total, NULL);
        if (rc != BT_OK)
            note_error(sh, "reader count", rc, bt_store_errmsg(s));
        else if (total % K != 0 || total < last_count)
            atomic_fetch_add(&sh->torn, 1);
        else
            last_count = (long)total;
        long within = 0;
        rc = bt_incidents_within(s, centre, 100000.0, INT64_MIN, INT64_MAX, count_cb, &within);
        if (rc != BT_OK)
            note_error(sh, "reader within", rc, bt_store_errmsg(s));
        else if (within % K != 0 || within < last_within)
            atomic_fetch_add(&sh->torn, 1);
        else
            last_within = within;
        atomic_fetch_add(&sh->reads, 2);
    }
    if (last_count != K * IMPORTS || last_within != K * IMPORTS)
        atomic_fetch_add(&sh->torn, 1);
    bt_store_close(s);
    return NULL;
}

static void test_readers_see_all_or_nothing(void **state)
{
    (void)state;
    tu_dir d;
    assert_int_equal(tu_dir_make(&d), 0);
    char path[512];
    tu_path(&d, "conc.db", path, sizeof path);
    bt_store *s = NULL;
    assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE | BT_OPEN_CREATE, &s, NULL),
                     BT_OK);
    bt_store_close(s);

    shared sh;
    memset(&sh, 0, sizeof sh);
    sh.path = path;
    pthread_mutex_init(&sh.lock, NULL);
    pthread_t w, r[READERS];
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_create(&r[i], NULL, reader, &sh), 0);
    assert_int_equal(pthread_create(&w, NULL, writer, &sh), 0);
    pthread_join(w, NULL);
    for (int i = 0; i < READERS; i++)
        pthread_join(r[i], NULL);
    pthread_mutex_destroy(&sh.lock);
    print_message("%d readers, %ld queries, %d imports of %ld: %ld errors, %ld torn reads\n",
                  READERS, (long)atomic_load(&sh.reads), IMPORTS, K,
                  (long)atomic_load(&sh.errors), (long)atomic_load(&sh.torn));
    if (atomic_load(&sh.errors))
        fail_msg("first error: %s", sh.first_error);
    assert_int_equal(atomic_load(&sh.torn), 0);
    tu_dir_remove(&d);
}

/* PROJ and GEOS are loaded by the first call that needs them (lib/core/deps.c, under
 * pthread_once): threads that all make such a first call at once, each on its own
 * handle, get the same answers, and ThreadSanitizer sees no race on the loaded tables.
 * First in the list, so that nothing has loaded them before. */
#define FIRST_USERS 4
static const char *first_path;
static atomic_int first_go;

static void *first_user(void *arg)
{
    double *out = arg;
    while (!atomic_load(&first_go)) {
    }
    /* PROJ: a store-less distance, then the k nearest on a handle */
    bt_lonlat hyesan = {128.17778, 41.40167}, changbai = {128.19624, 41.41772};
    if (bt_geod_distance(hyesan, changbai, &out[0]) != BT_OK) out[0] = -1.0;
    bt_store *s = NULL;
    if (bt_store_open(first_path, BT_OPEN_READONLY, &s, NULL) != BT_OK) {
        out[1] = out[2] = -1.0;
        return NULL;
    }
    bt_hit *h = NULL;
    size_t n = 0;
    out[1] = bt_incident_nearest(s, hyesan, 1, NULL, &h, &n) == BT_OK && n == 1
                 ? h[0].distance_m
                 : -1.0;
    bt_hits_free(h);
    /* GEOS: a polygon count */
    bt_query q;
    bt_query_init(&q);
    q.area = BT_AREA_POLYGON;
    q.wkt = "POLYGON((128.1 41.3, 128.3 41.3, 128.3 41.5, 128.1 41.5, 128.1 41.3))";
    int64_t total = -1;
    out[2] = bt_incident_count(s, &q, &total, NULL) == BT_OK ? (double)total : -1.0;
    bt_store_close(s);
    return NULL;
}

static void test_first_use_from_threads(void **state)
{
    (void)state;
    tu_dir d;
    assert_int_equal(tu_dir_make(&d), 0);
    char path[512];
    tu_path(&d, "first.db", path, sizeof path);
    bt_store *s = NULL;
    assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE | BT_OPEN_CREATE, &s, NULL),
                     BT_OK);
    /* one incident inside the polygon, one outside (Changbai is inside too) */
    bt_incident inc;
    bt_incident_init(&inc);
    inc.time_precision = BT_TIME_DAY;
    inc.start = inc.end = 1593561600;
    inc.ref = "F-1";
    inc.where = (bt_lonlat){128.19624, 41.41772};
    assert_int_equal(bt_incident_add(s, &inc, NULL), BT_OK);
    inc.ref = "F-2";
    inc.where = (bt_lonlat){127.5, 41.0};
    assert_int_equal(bt_incident_add(s, &inc, NULL), BT_OK);
    bt_store_close(s);

    first_path = path;
    double out[FIRST_USERS][3];
    pthread_t t[FIRST_USERS];
    for (int i = 0; i < FIRST_USERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, first_user, out[i]), 0);
    atomic_store(&first_go, 1);
    for (int i = 0; i < FIRST_USERS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < FIRST_USERS; i++) {
        /* Hyesan-Changbai, about 2,358 m (docs/api.md); the nearest is Changbai */
        assert_true(out[i][0] > 2300.0 && out[i][0] < 2400.0);
        assert_true(out[i][0] == out[0][0]);
        assert_true(out[i][1] == out[0][0]);
        assert_true(out[i][2] == 1.0);
    }
    tu_dir_remove(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_use_from_threads),
        cmocka_unit_test(test_readers_see_all_or_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
