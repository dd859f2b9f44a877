/**
 * @file test_analysis_stored.c
 * @brief Stored chainage (schema v2): bt_incidents_by_chainage() on a 10 km test line
 * with incidents at known chainages, kept current through incident updates and
 * deletes and segment changes; the profile from stored values equal to the profile
 * computed on the fly; a store migrated from schema v1; a read-only store; the error
 * paths.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <geodesic.h>
#include <math.h>
#include <sqlite3.h>

#include "store_fixture.h"

#include "test_line.h"

static int setup(void **state)
{
    /* border "T": the 10 km river line, vertices every 1 km */
    geod_init(&G, 6378137.0, 1.0 / 298.257223563);
    return line_fx_setup(state, "stored.sqlite", add_river_line, false);
}

static int teardown(void **state) { return line_fx_teardown(state); }

static int64_t add_inc(bt_store *s, const char *ref, bt_lonlat p, bt_incident_type type,
                       int64_t t)
{
    bt_incident inc;
    bt_incident_init(&inc);
    inc.ref = ref;
    inc.where = p;
    inc.type = type;
    inc.start = t;
    inc.end = t;
    inc.time_precision = BT_TIME_SECOND;
    int64_t id = 0;
    assert_int_equal(bt_incident_add(s, &inc, &id), BT_OK);
    return id;
}

#define MAXHITS 64
struct hits {
    size_t n;
    bt_chainage_hit v[MAXHITS];
    size_t stop_after; /* 0: never */
};

static int collect(const bt_chainage_hit *h, void *udata)
{
    struct hits *x = udata;
    if (x->n < MAXHITS) x->v[x->n] = *h;
    x->n++;
    return x->stop_after && x->n >= x->stop_after;
}

/* Incidents at chainage 500 (200 m north), 2500 (1 km south), 4000 (on the line),
 * 7000 (3 km north), 9000 (60 km south: beyond the 50 km limit) */
static void add_five(bt_store *s, int64_t id[5])
{
    id[0] = add_inc(s, "A", at(500.0, 200.0), BT_INCIDENT_DEFECTION, 1000);
    id[1] = add_inc(s, "B", at(2500.0, -1000.0), BT_INCIDENT_SHOOTING, 2000);
    id[2] = add_inc(s, "C", at(4000.0, 0.0), BT_INCIDENT_DEFECTION, 3000);
    id[3] = add_inc(s, "D", at(7000.0, 3000.0), BT_INCIDENT_ARREST, 4000);
    id[4] = add_inc(s, "E", at(9000.0, -60000.0), BT_INCIDENT_DEFECTION, 5000);
}

/* Chainage, offset and side of each, from the construction: chainage to 1 cm plus
 * 1e-4 of the offset, offset to 1 mm. */
static void test_by_chainage(void **state)
{
    struct line_fx *f = *state;
    int64_t id[5];
    add_five(f->s, id);
    bt_border *b = NULL;
    assert_int_equal(bt_border_open(f->s, "T", NULL, &b), BT_OK);
    struct hits h = {0};
    assert_int_equal(bt_incidents_by_chainage(f->s, b, 0.0, 10000.0, 50000.0, collect, &h),
                     BT_OK);
    assert_int_equal(h.n, 4); /* E is 60 km away */
    static const double ch[4] = {500.0, 2500.0, 4000.0, 7000.0};
    static const double off[4] = {200.0, 1000.0, 0.0, 3000.0};
    static const bt_side side[4] = {BT_SIDE_LEFT, BT_SIDE_RIGHT, BT_SIDE_ON, BT_SIDE_LEFT};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(h.v[i].incident_id, id[i]);
        assert_true(fabs(h.v[i].chainage_m - ch[i]) < 0.01 + 1e-4 * off[i]);
        assert_true(fabs(h.v[i].offset_m - off[i]) < 1e-3);
        assert_int_equal(h.v[i].side, side[i]);
        assert_true(h.v[i].segment_id > 0);
    }
    /* a range, a smaller offset limit, a stop */
    h.n = 0;
    assert_int_equal(bt_incidents_by_chainage(f->s, b, 2000.0, 7000.5, 1500.0, collect, &h),
                     BT_OK);
    assert_int_equal(h.n, 2);
    assert_int_equal(h.v[0].incident_id, id[1]);
    assert_int_equal(h.v[1].incident_id, id[2]);
    h = (struct hits){0};
    h.stop_after = 1;
    assert_int_equal(bt_incidents_by_chainage(f->s, b, 0.0, 1e6, 50000.0, collect, &h), BT_OK);
    assert_int_equal(h.n, 1);

    /* an update moves C to chainage 8000; a delete removes A; a new one appears */
    bt_incident *c = NULL;
    assert_int_equal(bt_incident_get(f->s, id[2], &c), BT_OK);
    c->where = at(8000.0, -50.0);
    assert_int_equal(bt_incident_update(f->s, c), BT_OK);
    bt_incident_free(c);
    assert_int_equal(bt_incident_delete(f->s, id[0]), BT_OK);
    int64_t nid = add_inc(f->s, "F", at(100.0, 10.0), BT_INCIDENT_OTHER, 6000);
    h = (struct hits){0};
    assert_int_equal(bt_incidents_by_chainage(f->s, b, 0.0, 10000.0, 50000.0, collect, &h),
                     BT_OK);
    assert_int_equal(h.n, 4);
    assert_int_equal(h.v[0].incident_id, nid);
    assert_int_equal(h.v[1].incident_id, id[1]);
    assert_int_equal(h.v[2].incident_id, id[3]);
    assert_int_equal(h.v[3].incident_id, id[2]);
    assert_true(fabs(h.v[3].chainage_m - 8000.0) < 0.02);
    assert_int_equal(h.v[3].side, BT_SIDE_RIGHT);
    bt_border_free(b);
}

/* A segment change makes the stored values stale: the old handle is refused, a new
 * one sees the recomputed chainage. Here a second part 2 km further east extends the
 * line: E2 at 3 km beyond the old end is then near the new part. */
static void test_segment_change(void **state)
{
    struct line_fx *f = *state;
    int64_t id[5];
    add_five(f->s, id);
    int64_t e2 = add_inc(f->s, "E2", at(13000.0, 100.0), BT_INCIDENT_DEFECTION, 7000);
    bt_border *b = NULL;
    assert_int_equal(bt_border_open(f->s, "T", NULL, &b), BT_OK);
    struct hits h = {0};
    assert_int_equal(bt_incidents_by_chainage(f->s, b, 10000.0, 20000.0, 50000.0, collect, &h),
                     BT_OK);
    assert_int_equal(h.n, 1); /* beyond the end: projected onto it */
    assert_int_equal(h.v[0].incident_id, e2);
    assert_true(fabs(h.v[0].chainage_m - 10000.0) < 0.01);
    assert_true(fabs(h.v[0].offset_m - 3000.0) < 5.0);

    bt_lonlat pts[6];
    for (int i = 0; i <= 5; i++) pts[i] = at(12000.0 + 1000.0 * i, 0.0);
    bt_segment seg = {0, "T", "east", 1, BT_SEGMENT_RIVER, "Yalu", pts, 6};
    assert_int_equal(bt_segment_add(f->s, &seg, NULL), BT_OK);
    h = (struct hits){0};
    assert_int_equal(bt_incidents_by_chainage(f->s, b, 0.0, 1e6, 50000.0, collect, &h),
                     BT_ERR_INVALID);
    assert_non_null(strstr(bt_store_errmsg(f->s), "open it again"));
    bt_border_free(b);
    assert_int_equal(bt_border_open(f->s, "T", NULL, &b), BT_OK);
    h = (struct hits){0};
    assert_int_equal(bt_incidents_by_chainage(f->s, b, 10000.0, 20000.0, 50000.0, collect, &h),
                     BT_OK);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.v[0].incident_id, e2);
    /* the gap 10-12 km is counted: chainage as along the line */
    assert_true(fabs(h.v[0].chainage_m - 13000.0) < 0.05);
    assert_true(fabs(h.v[0].offset_m - 100.0) < 1e-3);
    bt_border_free(b);
}

/* Deterministic pseudo-random numbers (a 64-bit LCG) for the comparison below. */
static double rnd(uint64_t *st)
{
    *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*st >> 11) / 9007199254740992.0;
}

/* The profile from the stored chainage (border opened with the default origin)
 * against the one computed on the fly (the same chain opened with its west end given
 * as the origin, which the stored values do not serve): equal bins, totals and
 * too_far, for 600 incidents up to 30 km from the line, with filters. */
static void test_profile_equal(void **state)
{
    struct line_fx *f = *state;
    uint64_t st = 42;
    bt_store_begin(f->s);
    for (int i = 0; i < 600; i++) {
        char ref[16];
        snprintf(ref, sizeof ref, "R%d", i);
        double c = -3000.0 + 16000.0 * rnd(&st);
        double off = (rnd(&st) - 0.5) * 60000.0;
        add_inc(f->s, ref, at(c, off), (bt_incident_type)(1 + (i % 3)), 1000 * (i % 50));
    }
    assert_int_equal(bt_store_commit(f->s), BT_OK);
    bt_border *bs = NULL, *bf = NULL;
    assert_int_equal(bt_border_open(f->s, "T", NULL, &bs), BT_OK);
    assert_int_equal(bt_border_open(f->s, "T", &START, &bf), BT_OK);
    bt_profile_opts o;
    bt_profile_opts_init(&o);
    o.bin_m = 500.0;
    for (int pass = 0; pass < 3; pass++) {
        if (pass == 1) o.max_offset_m = 5000.0;
        if (pass == 2) {
            o.types = 1u << 2;
            o.from = 10000;
            o.to = 30000;
        }
        bt_profile *ps = NULL, *pf = NULL;
        assert_int_equal(bt_border_profile(f->s, bs, &o, &ps), BT_OK);
        assert_int_equal(bt_border_profile(f->s, bf, &o, &pf), BT_OK);
        assert_int_equal(ps->nbins, pf->nbins);
        assert_int_equal(ps->total, pf->total);
        assert_int_equal(ps->too_far, pf->too_far);
        assert_true(ps->total > 0);
        for (size_t k = 0; k < ps->nbins; k++) assert_int_equal(ps->counts[k], pf->counts[k]);
        bt_profile_free(ps);
        bt_profile_free(pf);
    }
    bt_border_free(bs);
    bt_border_free(bf);
}

static int64_t sql_count(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* Stored and on-the-fly profiles of border T agree, bin by bin; returns the total. */
static int64_t profiles_agree(bt_store *s)
{
    bt_border *bs = NULL, *bf = NULL;
    assert_int_equal(bt_border_open(s, "T", NULL, &bs), BT_OK);
    assert_int_equal(bt_border_open(s, "T", &START, &bf), BT_OK);
    bt_profile_opts o;
    bt_profile_opts_init(&o);
    o.bin_m = 500.0;
    bt_profile *ps = NULL, *pf = NULL;
    assert_int_equal(bt_border_profile(s, bs, &o, &ps), BT_OK);
    assert_int_equal(bt_border_profile(s, bf, &o, &pf), BT_OK);
    assert_int_equal(ps->nbins, pf->nbins);
    assert_int_equal(ps->total, pf->total);
    for (size_t k = 0; k < ps->nbins; k++) assert_int_equal(ps->counts[k], pf->counts[k]);
    int64_t total = (int64_t)ps->total;
    bt_profile_free(ps);
    bt_profile_free(pf);
    bt_border_free(bs);
    bt_border_free(bf);
    return total;
}

/* Adds n incidents in one transaction (past 512 inserts: bulk mode, lib/store/
 * sqlite_bulk.c), within 3 km of the line. */
static void add_many(bt_store *s, const char *prefix, int n, uint64_t *st)
{
    assert_int_equal(bt_store_begin(s), BT_OK);
    for (int i = 0; i < n; i++) {
        char ref[32];
        snprintf(ref, sizeof ref, "%s%d", prefix, i);
        double c = -1000.0 + 12000.0 * rnd(st);
        add_inc(s, ref, at(c, (rnd(st) - 0.5) * 6000.0), (bt_incident_type)(1 + (i % 3)),
                1000 * (i % 50));
    }
    assert_int_equal(bt_store_commit(s), BT_OK);
}

/* A bulk load queues its incidents for the stored chainage only when some border has
 * a stored state (else every border is computed whole on first use, and nothing would
 * read the queue); the stored profile is right either way. */
static void test_bulk_load_queue(void **state)
{
    struct line_fx *f = *state;
    uint64_t st = 7;
    add_many(f->s, "A", 700, &st);
    /* the first 511 went through the trigger, before bulk mode; the rest none */
    assert_int_equal(sql_count(f->path, "SELECT count(*) FROM chainage_pending"), 511);
    assert_int_equal(profiles_agree(f->s), 700); /* computes and stores T's chainage */
    assert_int_equal(sql_count(f->path, "SELECT count(*) FROM chainage_state"), 1);
    add_many(f->s, "B", 700, &st);
    assert_int_equal(sql_count(f->path, "SELECT count(*) FROM chainage_pending"), 700);
    assert_int_equal(profiles_agree(f->s), 1400); /* takes the queued 700 in */
}

static void raw_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) print_message("%s: %s\n", sql, err ? err : "");
    sqlite3_free(err);
    assert_int_equal(rc, SQLITE_OK);
    sqlite3_close(db);
}

/*
 * A store of schema v1 with incidents: made by taking a current store back to v1
 * (dropping what the later steps add: the chainage tables and triggers of v2, and the
 * persisted index of v3, bt_meta, bt_index and their bt_gen_* triggers) and setting
 * user_version 1. Opening it read-write migrates it; the stored chainage is then
 * computed whole on first use.
 */
static void test_migration_from_v1(void **state)
{
    struct line_fx *f = *state;
    int64_t id[5];
    add_five(f->s, id);
    bt_store_close(f->s);
    f->s = NULL;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT type, name FROM sqlite_master WHERE"
                                        " (type = 'trigger' AND (name LIKE 'chainage%'"
                                        " OR name LIKE 'bt_gen_%')) OR (type = 'table' AND"
                                        " name IN ('chainage', 'chainage_pending',"
                                        " 'chainage_state', 'bt_meta', 'bt_index'))"
                                        " ORDER BY type = 'table'",
                                        -1, &q, NULL),
                     SQLITE_OK);
    char drops[4096] = "";
    while (sqlite3_step(q) == SQLITE_ROW) {
        char one[160];
        snprintf(one, sizeof one, "DROP %s \"%s\";", (const char *)sqlite3_column_text(q, 0),
                 (const char *)sqlite3_column_text(q, 1));
        strncat(drops, one, sizeof drops - strlen(drops) - 1);
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    raw_sql(f->path, drops);
    raw_sql(f->path, "PRAGMA user_version = 1");
    /* read-only, it is refused as too old; read-write migrates it */
    bt_store *ro = NULL;
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READONLY, &ro, NULL), BT_ERR_SCHEMA);
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READWRITE, &f->s, NULL), BT_OK);
    int v = 0;
    assert_int_equal(bt_store_schema_version(f->s, &v), BT_OK);
    assert_true(v >= 2);
    bt_border *b = NULL;
    assert_int_equal(bt_border_open(f->s, "T", NULL, &b), BT_OK);
    struct hits h = {0};
    assert_int_equal(bt_incidents_by_chainage(f->s, b, 0.0, 1e6, 50000.0, collect, &h), BT_OK);
    assert_int_equal(h.n, 4);
    for (size_t i = 0; i < 4; i++) assert_int_equal(h.v[i].incident_id, id[i]);
    /* triggers work after the migration */
    assert_int_equal(bt_incident_delete(f->s, id[1]), BT_OK);
    h = (struct hits){0};
    assert_int_equal(bt_incidents_by_chainage(f->s, b, 0.0, 1e6, 50000.0, collect, &h), BT_OK);
    assert_int_equal(h.n, 3);
    bt_border_free(b);
}

/* Read-only: current stored values are served; queued changes cannot be taken in,
 * so bt_incidents_by_chainage() refuses and the profile computes on the fly. */
static void test_read_only(void **state)
{
    struct line_fx *f = *state;
    int64_t id[5];
    add_five(f->s, id);
    bt_border *b = NULL;
    assert_int_equal(bt_border_open(f->s, "T", NULL, &b), BT_OK);
    struct hits h = {0};
    assert_int_equal(bt_incidents_by_chainage(f->s, b, 0.0, 1e6, 50000.0, collect, &h), BT_OK);
    assert_int_equal(h.n, 4);
    add_inc(f->s, "G", at(3000.0, 0.0), BT_INCIDENT_DEFECTION, 1);
    bt_store *ro = NULL;
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READONLY, &ro, NULL), BT_OK);
    h = (struct hits){0};
    assert_int_equal(bt_incidents_by_chainage(ro, b, 0.0, 1e6, 50000.0, collect, &h),
                     BT_ERR_READONLY);
    bt_profile *p = NULL;
    assert_int_equal(bt_border_profile(ro, b, NULL, &p), BT_OK);
    assert_int_equal(p->total, 5); /* A, B, C, D and G within 20 km */
    bt_profile_free(p);
    /* once the writer has taken them in, the reader is served */
    h = (struct hits){0};
    assert_int_equal(bt_incidents_by_chainage(f->s, b, 0.0, 1e6, 50000.0, collect, &h), BT_OK);
    assert_int_equal(h.n, 5);
    h = (struct hits){0};
    assert_int_equal(bt_incidents_by_chainage(ro, b, 0.0, 1e6, 50000.0, collect, &h), BT_OK);
    assert_int_equal(h.n, 5);
    bt_store_close(ro);
    bt_border_free(b);
}

static void test_errors(void **state)
{
    struct line_fx *f = *state;
    bt_border *b = NULL, *bo = NULL;
    assert_int_equal(bt_border_open(f->s, "T", NULL, &b), BT_OK);
    assert_int_equal(bt_border_open(f->s, "T", &START, &bo), BT_OK);
    struct hits h = {0};
    assert_int_equal(bt_incidents_by_chainage(NULL, b, 0, 1, 1, collect, &h), BT_ERR_INVALID);
    assert_int_equal(bt_incidents_by_chainage(f->s, NULL, 0, 1, 1, collect, &h), BT_ERR_INVALID);
    assert_int_equal(bt_incidents_by_chainage(f->s, b, 0, 1, 1, NULL, &h), BT_ERR_INVALID);
    assert_int_equal(bt_incidents_by_chainage(f->s, b, 2, 1, 1, collect, &h), BT_ERR_INVALID);
    assert_int_equal(bt_incidents_by_chainage(f->s, b, 0, INFINITY, 1, collect, &h),
                     BT_ERR_INVALID);
    assert_int_equal(bt_incidents_by_chainage(f->s, b, 0, 1, 50001.0, collect, &h),
                     BT_ERR_INVALID);
    assert_int_equal(bt_incidents_by_chainage(f->s, b, 0, 1, NAN, collect, &h), BT_ERR_INVALID);
    assert_int_equal(bt_incidents_by_chainage(f->s, bo, 0, 1, 1, collect, &h), BT_ERR_INVALID);
    assert_non_null(strstr(bt_store_errmsg(f->s), "origin"));
    assert_int_equal(h.n, 0);
    bt_border_free(b);
    bt_border_free(bo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_by_chainage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segment_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_equal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_load_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_from_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
