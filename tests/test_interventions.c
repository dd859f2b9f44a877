/**
 * @file test_interventions.c
 * @brief Stored interventions (schema v4): every field round-trips, validation
 * messages are exact, update and delete, the border guard (API and triggers), the
 * migration of a v3 store, and bt_border_before_after() with an intervention on the
 * hand-built 10 km test border "T" (test_line.h): a chainage range, an area whose
 * crossings are known by construction, and a border-wide one with no control.
 * With BT_FAULT_INJECTION, out-of-memory walks over the new calls.
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

#include "analysis/analysis_internal.h" /* bt__chain_in_polygon: the intervals */

#define D INT64_C(86400)

static int setup(void **state)
{
    /* border "T" (10 km, vertices every 500 m) and a short border "U" elsewhere */
    return line_fx_setup(state, "iv.sqlite", add_test_borders, true);
}

static int teardown(void **state) { return line_fx_teardown(state); }

static void raw_sql(const char *path, const char *sql, int want)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != want) fprintf(stderr, "%s: %s\n", sql, err ? err : "?");
    sqlite3_free(err);
    assert_int_equal(rc, want);
    sqlite3_close(db);
}

static int64_t add_incident(bt_store *s, const char *ref, bt_lonlat p, int64_t t)
{
    bt_incident inc;
    bt_incident_init(&inc);
    inc.ref = ref;
    inc.where = p;
    inc.type = BT_INCIDENT_RIVER_CROSSING;
    inc.start = t;
    inc.end = t + 86399;
    int64_t id = 0;
    assert_int_equal(bt_incident_add(s, &inc, &id), BT_OK);
    return id;
}

/* A rectangle in lon/lat; (w, s) first, counter-clockwise, closed. */
static void rect(bt_lonlat r[5], double w, double s, double e, double n)
{
    r[0] = (bt_lonlat){w, s};
    r[1] = (bt_lonlat){e, s};
    r[2] = (bt_lonlat){e, n};
    r[3] = (bt_lonlat){w, n};
    r[4] = r[0];
}

static void assert_same_date(bt_date a, bt_date b)
{
    assert_int_equal(a.precision, b.precision);
    if (a.precision != BT_TIME_NONE) assert_int_equal(a.t, b.t);
}

static void assert_same(const bt_intervention *a, const bt_intervention *b)
{
    assert_int_equal(a->id, b->id);
    if (a->ref) assert_string_equal(a->ref, b->ref); else assert_null(b->ref);
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->kind, b->kind);
    assert_same_date(a->start, b->start);
    assert_same_date(a->end, b->end);
    if (a->summary) assert_string_equal(a->summary, b->summary); else assert_null(b->summary);
    if (a->citation) assert_string_equal(a->citation, b->citation);
    else assert_null(b->citation);
    if (a->border) assert_string_equal(a->border, b->border); else assert_null(b->border);
    /* bit for bit, infinity included */
    assert_memory_equal(&a->from_m, &b->from_m, sizeof a->from_m);
    assert_memory_equal(&a->to_m, &b->to_m, sizeof a->to_m);
    assert_int_equal(a->narea, b->narea);
    if (a->narea) assert_memory_equal(a->area, b->area, a->narea * sizeof *a->area);
    else assert_null(b->area);
}

/* Every field, both kinds of target, find, list, counts and the enum names. */
static void test_round_trip(void **state)
{
    struct line_fx *f = *state;
    bt_intervention a;
    bt_intervention_init(&a);
    assert_int_equal(a.kind, BT_INTERVENTION_OTHER);
    assert_true(a.from_m == 0.0 && isinf(a.to_m) && a.to_m > 0);
    assert_int_equal(a.start.precision, BT_TIME_NONE);
    a.ref = "order-2020-08-25";
    a.name = "Buffer zone and shoot-on-sight order";
    a.kind = BT_INTERVENTION_ORDER;
    a.start = (bt_date){INT64_C(1598313600), BT_TIME_DAY};  /* 2020-08-25 */
    a.end = (bt_date){INT64_C(1640995200), BT_TIME_YEAR};   /* 2022 */
    a.summary = "1–2 km buffer; guards shoot on sight (Sinŭiju, Hyesan)";
    a.citation = "Daily NK, 2020-09-03";
    a.border = "T";
    a.from_m = 2000.0;
    a.to_m = 4000.123456789;
    assert_int_equal(bt_intervention_add(f->s, &a, &a.id), BT_OK);
    assert_true(a.id > 0);

    bt_lonlat ring[6] = {{128.0123456789012, 41.3}, {128.1, 41.30000000000001},
                         {128.1, 41.5},             {128.05, 41.55},
                         {128.0123456789012, 41.5}, {128.0123456789012, 41.3}};
    bt_intervention c;
    bt_intervention_init(&c);
    c.name = "Border closure (COVID-19)";
    c.kind = BT_INTERVENTION_CLOSURE;
    c.start = (bt_date){INT64_C(1579651200), BT_TIME_DAY}; /* 2020-01-22 */
    c.area = ring;
    c.narea = 6;
    assert_int_equal(bt_intervention_add(f->s, &c, &c.id), BT_OK);
    assert_int_equal(c.id, a.id + 1);

    bt_intervention *g = NULL;
    assert_int_equal(bt_intervention_get(f->s, a.id, &g), BT_OK);
    assert_same(&a, g);
    bt_intervention_free(g);
    assert_int_equal(bt_intervention_get(f->s, c.id, &g), BT_OK);
    assert_same(&c, g);
    bt_intervention_free(g);
    bt_intervention_free(NULL);
    /* a read-only handle reads the area too (SpatiaLite set up on first need) */
    bt_store *ro = NULL;
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READONLY, &ro, NULL), BT_OK);
    assert_int_equal(bt_intervention_get(ro, c.id, &g), BT_OK);
    assert_same(&c, g);
    bt_intervention_free(g);
    bt_store_close(ro);

    int64_t id = 0;
    assert_int_equal(bt_intervention_find(f->s, "order-2020-08-25", &id), BT_OK);
    assert_int_equal(id, a.id);
    assert_int_equal(bt_intervention_find(f->s, "nope", &id), BT_ERR_NOT_FOUND);
    assert_string_equal(bt_store_errmsg(f->s), "no intervention 'nope'");
    assert_int_equal(bt_intervention_get(f->s, 999, &g), BT_ERR_NOT_FOUND);
    assert_null(g);
    assert_string_equal(bt_store_errmsg(f->s), "intervention 999 does not exist");

    /* by start date: the closure (January) before the order (August) */
    bt_intervention **v = NULL;
    size_t n = 0;
    assert_int_equal(bt_intervention_list(f->s, NULL, &v, &n), BT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(v[0]->id, c.id);
    assert_same(&a, v[1]);
    bt_intervention_array_free(v, n);
    assert_int_equal(bt_intervention_list(f->s, "T", &v, &n), BT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(v[0]->id, a.id);
    bt_intervention_array_free(v, n);
    assert_int_equal(bt_intervention_list(f->s, "U", &v, &n), BT_OK);
    assert_int_equal(n, 0);
    assert_null(v);
    bt_intervention_array_free(NULL, 0);
    assert_int_equal(bt_intervention_list(f->s, NULL, NULL, &n), BT_ERR_INVALID);

    /* inside the caller's transaction the list's own snapshot nests in it: it sees the
     * uncommitted delete, and the rollback afterwards still undoes it */
    assert_int_equal(bt_store_begin(f->s), BT_OK);
    assert_int_equal(bt_intervention_delete(f->s, c.id), BT_OK);
    assert_int_equal(bt_intervention_list(f->s, NULL, &v, &n), BT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(v[0]->id, a.id);
    bt_intervention_array_free(v, n);
    assert_int_equal(bt_store_rollback(f->s), BT_OK);
    assert_int_equal(bt_intervention_list(f->s, NULL, &v, &n), BT_OK);
    assert_int_equal(n, 2);
    bt_intervention_array_free(v, n);

    bt_counts k;
    assert_int_equal(bt_store_count(f->s, &k), BT_OK);
    assert_int_equal(k.interventions, 2);
    assert_int_equal(k.segments, 2);

    int val = -1;
    assert_string_equal(bt_enum_name(BT_ENUM_INTERVENTION_KIND, BT_INTERVENTION_FENCE_PROGRAMME),
                        "fence_programme");
    assert_int_equal(bt_enum_parse(BT_ENUM_INTERVENTION_KIND, "Fence-Programme", &val), BT_OK);
    assert_int_equal(val, BT_INTERVENTION_FENCE_PROGRAMME);
    assert_null(bt_enum_name(BT_ENUM_INTERVENTION_KIND, 5));

    /* a ref is unique */
    bt_intervention dup = a;
    assert_int_equal(bt_intervention_add(f->s, &dup, NULL), BT_ERR_EXISTS);
    assert_string_equal(bt_store_errmsg(f->s),
                        "intervention ref 'order-2020-08-25' already exists");
    /* the file stores names and NULL for "to the far end" */
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT kind, start_prec, to_m IS NULL, area IS NULL"
                                        " FROM interventions ORDER BY id", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "order");
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "day");
    assert_int_equal(sqlite3_column_int(st, 2), 0);
    assert_int_equal(sqlite3_column_int(st, 3), 1);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "closure");
    assert_int_equal(sqlite3_column_int(st, 2), 1);
    assert_int_equal(sqlite3_column_int(st, 3), 0);
    sqlite3_finalize(st);
    /* the area is a registered POLYGON layer */
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT geometry_type, srid FROM geometry_columns"
                                        " WHERE f_table_name = 'interventions'", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 3); /* POLYGON */
    assert_int_equal(sqlite3_column_int(st, 1), 4326);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Adds iv and expects BT_ERR_INVALID with exactly this message. */
static void bad(bt_store *s, const bt_intervention *iv, const char *msg)
{
    int64_t id = -1;
    assert_int_equal(bt_intervention_add(s, iv, &id), BT_ERR_INVALID);
    assert_int_equal(id, -1);
    assert_string_equal(bt_store_errmsg(s), msg);
    assert_int_equal(bt_intervention_update(s, iv), BT_ERR_INVALID);
    assert_string_equal(bt_store_errmsg(s), msg);
}

static void test_validation(void **state)
{
    struct line_fx *f = *state;
    bt_intervention iv, x;
    bt_intervention_init(&iv);
    iv.name = "Closure";
    iv.start = (bt_date){FX_T_2020_07_01, BT_TIME_DAY};
    iv.border = "T";
    bt_lonlat sq[5];
    rect(sq, 128.0, 41.0, 128.1, 41.1);

    x = iv; x.name = NULL;
    bad(f->s, &x, "intervention: field 'name' is NULL; a non-empty text is required");
    x = iv; x.name = "";
    bad(f->s, &x, "intervention: field 'name' is empty; a non-empty text is required");
    x = iv; x.ref = "";
    bad(f->s, &x, "intervention 'Closure': field 'ref' is empty; expected NULL or a text");
    x = iv; x.ref = "R-1"; x.summary = "ok\xff";
    bad(f->s, &x, "intervention 'R-1': field 'summary' is not valid UTF-8 (byte 2)");
    x = iv; x.citation = "\xc3";
    bad(f->s, &x, "intervention 'Closure': field 'citation' is not valid UTF-8 (byte 0)");
    x = iv; x.kind = (bt_intervention_kind)9;
    bad(f->s, &x, "intervention 'Closure': field 'kind' is 9; expected 0..4");
    x = iv; x.start.precision = BT_TIME_NONE;
    bad(f->s, &x, "intervention 'Closure': field 'start' is absent; an intervention needs "
                  "the date it took effect");
    x = iv; x.start.t += 3600;
    bad(f->s, &x, "intervention 'Closure': field 'start' is 1593565200; expected the first "
                  "second of 2020-07-01 (1593561600)");
    x = iv; x.end = (bt_date){FX_T_2020_01_01, BT_TIME_MONTH};
    bad(f->s, &x, "intervention 'Closure': field 'end' is 2020-01; expected not before start "
                  "2020-07-01");
    x = iv; x.border = NULL;
    bad(f->s, &x, "intervention 'Closure': fields 'border' and 'area' are both absent; "
                  "expected exactly one");
    x = iv; x.area = sq; x.narea = 5;
    bad(f->s, &x, "intervention 'Closure': fields 'border' and 'area' are both given; "
                  "expected exactly one");
    x = iv; x.border = "";
    bad(f->s, &x, "intervention 'Closure': field 'border' is empty; expected a border name");
    x = iv; x.from_m = -1.0;
    bad(f->s, &x, "intervention 'Closure': field 'from_m' is -1; expected a finite "
                  "chainage >= 0");
    x = iv; x.from_m = NAN;
    bad(f->s, &x, "intervention 'Closure': field 'from_m' is nan; expected a finite "
                  "chainage >= 0");
    x = iv; x.from_m = 200.0; x.to_m = 100.0;
    bad(f->s, &x, "intervention 'Closure': field 'to_m' is 100; expected more than from_m "
                  "200, or INFINITY");
    x = iv; x.to_m = NAN;
    bad(f->s, &x, "intervention 'Closure': field 'to_m' is nan; expected more than from_m "
                  "0, or INFINITY");
    /* areas */
    x = iv; x.border = NULL; x.area = sq; x.narea = 5; x.from_m = 5.0;
    bad(f->s, &x, "intervention 'Closure': fields 'from_m', 'to_m' are 5..inf; an area "
                  "takes no chainage range (expected 0..inf)");
    x = iv; x.border = NULL; x.area = sq; x.narea = 3;
    bad(f->s, &x, "intervention 'Closure': field 'narea' is 3; a polygon ring needs at "
                  "least 4 vertices");
    x = iv; x.border = NULL; x.area = NULL; x.narea = 5;
    bad(f->s, &x, "intervention 'Closure': field 'area' is NULL with narea 5");
    bt_lonlat open[5] = {sq[0], sq[1], sq[2], sq[3], {128.0, 41.0000001}};
    x = iv; x.border = NULL; x.area = open; x.narea = 5;
    bad(f->s, &x, "intervention 'Closure': field 'area' is not closed: vertex 0 (128 41) "
                  "differs from vertex 4 (128 41.0000001)");
    bt_lonlat far[5] = {sq[0], sq[1], {128.1, 91.0}, sq[3], sq[4]};
    x = iv; x.border = NULL; x.area = far; x.narea = 5;
    bad(f->s, &x, "intervention 'Closure': field 'area[2].lat' is 91; expected -90..90");
    bt_lonlat flat[4] = {{128.0, 41.0}, {128.1, 41.0}, {128.2, 41.0}, {128.0, 41.0}};
    x = iv; x.border = NULL; x.area = flat; x.narea = 4;
    bad(f->s, &x, "intervention 'Closure': field 'area' encloses no area");

    /* a border without a segment is a dangling reference */
    x = iv; x.border = "NOPE";
    assert_int_equal(bt_intervention_add(f->s, &x, NULL), BT_ERR_NOT_FOUND);
    assert_string_equal(bt_store_errmsg(f->s),
                        "intervention 'Closure': border 'NOPE' has no segment");
    /* arguments */
    assert_int_equal(bt_intervention_add(f->s, NULL, NULL), BT_ERR_INVALID);
    assert_string_equal(bt_store_errmsg(f->s), "bt_intervention_add: iv is NULL");
    assert_int_equal(bt_intervention_add(NULL, &iv, NULL), BT_ERR_INVALID);
    assert_int_equal(bt_intervention_get(f->s, 1, NULL), BT_ERR_INVALID);
    assert_int_equal(bt_intervention_find(f->s, NULL, &(int64_t){0}), BT_ERR_INVALID);
    bt_counts k;
    assert_int_equal(bt_store_count(f->s, &k), BT_OK);
    assert_int_equal(k.interventions, 0);

    /* read-only */
    assert_int_equal(bt_intervention_add(f->s, &iv, NULL), BT_OK);
    bt_store *ro = NULL;
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READONLY, &ro, NULL), BT_OK);
    assert_int_equal(bt_intervention_add(ro, &iv, NULL), BT_ERR_READONLY);
    assert_string_equal(bt_store_errmsg(ro), "bt_intervention_add: the store is open read-only");
    assert_int_equal(bt_intervention_delete(ro, 1), BT_ERR_READONLY);
    bt_intervention **v = NULL;
    size_t n = 0;
    assert_int_equal(bt_intervention_list(ro, "T", &v, &n), BT_OK);
    assert_int_equal(n, 1);
    bt_intervention_array_free(v, n);
    bt_store_close(ro);
}

static void test_update_delete_and_border_guard(void **state)
{
    struct line_fx *f = *state;
    bt_intervention iv;
    bt_intervention_init(&iv);
    iv.ref = "fp-2019";
    iv.name = "Fence programme";
    iv.kind = BT_INTERVENTION_FENCE_PROGRAMME;
    iv.start = (bt_date){INT64_C(1546300800), BT_TIME_YEAR};
    iv.border = "U";
    assert_int_equal(bt_intervention_add(f->s, &iv, &iv.id), BT_OK);

    /* U has one segment: it cannot go, nor move to another border */
    bt_segment *seg = NULL;
    int64_t useg = 2;
    assert_int_equal(bt_segment_get(f->s, useg, &seg), BT_OK);
    assert_string_equal(seg->border, "U");
    assert_int_equal(bt_segment_delete(f->s, useg), BT_ERR_CONSTRAINT);
    assert_string_equal(bt_store_errmsg(f->s),
                        "segment 2 is the last of border 'U', to which 1 intervention(s) "
                        "refer; delete them or change their border first");
    bt_segment moved = *seg;
    moved.border = "V";
    assert_int_equal(bt_segment_update(f->s, &moved), BT_ERR_CONSTRAINT);
    /* an update that keeps the border is fine */
    moved.border = "U";
    moved.name = "renamed";
    assert_int_equal(bt_segment_update(f->s, &moved), BT_OK);
    /* so is deleting a segment that is not the last: add one, delete it */
    bt_lonlat more[2] = {{127.1, 40.0}, {127.2, 40.0}};
    bt_segment s2 = {0, "U", "y", 1, BT_SEGMENT_LAND, NULL, more, 2};
    int64_t sid2 = 0;
    assert_int_equal(bt_segment_add(f->s, &s2, &sid2), BT_OK);
    assert_int_equal(bt_segment_delete(f->s, sid2), BT_OK);
    bt_segment_free(seg);
    /* another program writing the file meets the trigger */
    bt_store_close(f->s);
    f->s = NULL;
    raw_sql(f->path, "DELETE FROM borders WHERE id = 2", SQLITE_CONSTRAINT);
    raw_sql(f->path, "UPDATE borders SET border = 'W' WHERE id = 2", SQLITE_CONSTRAINT);
    raw_sql(f->path, "UPDATE borders SET name = 'again' WHERE id = 2", SQLITE_OK);
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READWRITE, &f->s, NULL), BT_OK);

    /* update every field, onto border T with a range */
    iv.ref = "fp-2019b";
    iv.name = "Fence programme, phase 2";
    iv.kind = BT_INTERVENTION_DEPLOYMENT;
    iv.start = (bt_date){FX_T_2020_07_29_140500, BT_TIME_SECOND};
    iv.end = (bt_date){FX_T_2021_03_15, BT_TIME_DAY};
    iv.summary = "more guards";
    iv.citation = "notice";
    iv.border = "T";
    iv.from_m = 100.0;
    iv.to_m = 200.0;
    assert_int_equal(bt_intervention_update(f->s, &iv), BT_OK);
    bt_intervention *g = NULL;
    assert_int_equal(bt_intervention_get(f->s, iv.id, &g), BT_OK);
    assert_same(&iv, g);
    bt_intervention_free(g);
    /* now U's last segment may go; T's may not */
    assert_int_equal(bt_segment_delete(f->s, useg), BT_OK);
    assert_int_equal(bt_segment_delete(f->s, 1), BT_ERR_CONSTRAINT);
    /* an update onto an area, then back to nothing valid */
    bt_lonlat sq[5];
    rect(sq, 128.0, 41.0, 128.1, 41.1);
    iv.border = NULL;
    iv.from_m = 0.0;
    iv.to_m = INFINITY;
    iv.area = sq;
    iv.narea = 5;
    assert_int_equal(bt_intervention_update(f->s, &iv), BT_OK);
    assert_int_equal(bt_intervention_get(f->s, iv.id, &g), BT_OK);
    assert_same(&iv, g);
    bt_intervention_free(g);
    bt_intervention ghost = iv;
    ghost.id = 999;
    assert_int_equal(bt_intervention_update(f->s, &ghost), BT_ERR_NOT_FOUND);
    assert_string_equal(bt_store_errmsg(f->s), "intervention 999 does not exist");

    assert_int_equal(bt_intervention_delete(f->s, iv.id), BT_OK);
    assert_int_equal(bt_intervention_get(f->s, iv.id, &g), BT_ERR_NOT_FOUND);
    assert_int_equal(bt_intervention_delete(f->s, iv.id), BT_ERR_NOT_FOUND);
    assert_string_equal(bt_store_errmsg(f->s), "intervention 1 does not exist");
    bt_counts k;
    assert_int_equal(bt_store_count(f->s, &k), BT_OK);
    assert_int_equal(k.interventions, 0);
}

/* A v3 store (the table, its geometry registration and triggers taken out, and
 * user_version 3) is migrated on a read-write open. */
static void test_migration_from_v3(void **state)
{
    struct line_fx *f = *state;
    int64_t inc = add_incident(f->s, "M-1", at(500.0, 0.0), FX_T_2020_07_01);
    bt_store_close(f->s);
    f->s = NULL;
    raw_sql(f->path,
            "DROP TRIGGER interventions_border_del; DROP TRIGGER interventions_border_upd;"
            " DROP TABLE interventions;"
            " DELETE FROM geometry_columns WHERE f_table_name = 'interventions';"
            " PRAGMA user_version = 3",
            SQLITE_OK);
    bt_store *ro = NULL;
    char *err = NULL;
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READONLY, &ro, &err), BT_ERR_SCHEMA);
    assert_non_null(strstr(err, "store schema version 3 is older than this library's 4"));
    bt_string_free(err);
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READWRITE, &f->s, NULL), BT_OK);
    int v = 0;
    assert_int_equal(bt_store_schema_version(f->s, &v), BT_OK);
    assert_int_equal(v, 4);
    bt_counts k;
    assert_int_equal(bt_store_count(f->s, &k), BT_OK);
    assert_int_equal(k.interventions, 0);
    assert_int_equal(k.incidents, 1);
    bt_incident *ig = NULL;
    assert_int_equal(bt_incident_get(f->s, inc, &ig), BT_OK);
    assert_string_equal(ig->ref, "M-1");
    bt_incident_free(ig);
    bt_lonlat sq[5];
    rect(sq, 128.0, 41.0, 128.1, 41.1);
    bt_intervention iv;
    bt_intervention_init(&iv);
    iv.name = "after migration";
    iv.start = (bt_date){FX_T_2020_01_01, BT_TIME_YEAR};
    iv.area = sq;
    iv.narea = 5;
    assert_int_equal(bt_intervention_add(f->s, &iv, &iv.id), BT_OK);
    bt_intervention *g = NULL;
    assert_int_equal(bt_intervention_get(f->s, iv.id, &g), BT_OK);
    assert_same(&iv, g);
    bt_intervention_free(g);
    /* the triggers came back with the table */
    bt_store_close(f->s);
    f->s = NULL;
    bt_intervention_init(&iv);
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READWRITE, &f->s, NULL), BT_OK);
    iv.name = "on U";
    iv.start = (bt_date){FX_T_2020_01_01, BT_TIME_YEAR};
    iv.border = "U";
    assert_int_equal(bt_intervention_add(f->s, &iv, NULL), BT_OK);
    bt_store_close(f->s);
    f->s = NULL;
    raw_sql(f->path, "DELETE FROM borders WHERE border = 'U'", SQLITE_CONSTRAINT);
    assert_int_equal(bt_store_open(f->path, BT_OPEN_READWRITE, &f->s, NULL), BT_OK);
}

/* The incidents of the before/after tests, at chainage c and offset off, dt days
 * from t0. */
struct inc_spec {
    double c, off;
    int64_t dt;
};

static void add_incidents(bt_store *s, const char *prefix, const struct inc_spec *v, size_t n,
                          int64_t t0)
{
    for (size_t i = 0; i < n; i++) {
        char ref[32];
        snprintf(ref, sizeof ref, "%s-%zu", prefix, i);
        add_incident(s, ref, at(v[i].c, v[i].off), t0 + v[i].dt * D);
    }
}

static bool close_rel(double got, double want)
{
    return fabs(got - want) <= 1e-9 * fabs(want) + 1e-12;
}

/* An intervention on T's chainage 2000..4000, with a fence at 6000..7000 standing
 * since 2019 taken out of the control. */
static void test_before_after_range(void **state)
{
    struct line_fx *f = *state;
    const int64_t T0 = FX_T_2020_07_01;
    bt_lonlat fence[2] = {at(6000.0, 0.0), at(7000.0, 0.0)};
    bt_installation in;
    bt_installation_init(&in);
    in.points = fence;
    in.npoints = 2;
    in.start = (bt_date){INT64_C(1546300800), BT_TIME_YEAR};
    assert_int_equal(bt_installation_add(f->s, &in, NULL), BT_OK);
    static const struct inc_spec inc[] = {
        {2100.0, 10.0, -10}, {2500.0, -10.0, -20}, {3900.0, 300.0, -99}, /* treated before */
        {3000.0, 0.0, 0},                                            /* treated after */
        {500.0, 20.0, -1}, {9000.0, -20.0, -60},                      /* control before */
        {1500.0, 0.0, 1}, {4500.0, 0.0, 2}, {5500.0, 0.0, 50}, {9900.0, 0.0, 99}, /* after */
        {6500.0, 0.0, -3},                   /* fenced: neither */
        {3000.0, 0.0, -101}, {3000.0, 0.0, 100}, /* outside the windows */
        {3000.0, 2500.0, 1},                 /* beyond max_offset_m */
    };
    add_incidents(f->s, "R", inc, sizeof inc / sizeof inc[0], T0);
    bt_intervention iv;
    bt_intervention_init(&iv);
    iv.name = "Order";
    iv.kind = BT_INTERVENTION_ORDER;
    iv.start = (bt_date){T0, BT_TIME_DAY};
    iv.border = "T";
    iv.from_m = 2000.0;
    iv.to_m = 4000.0;
    assert_int_equal(bt_intervention_add(f->s, &iv, &iv.id), BT_OK);

    bt_before_after_opts o;
    bt_before_after_opts_init(&o);
    assert_int_equal(o.intervention_id, 0);
    o.intervention_id = iv.id;
    o.window_s = 100 * D;
    bt_before_after r;
    assert_int_equal(bt_border_before_after(f->s, f->b, &o, &r), BT_OK);
    const double months = 100.0 / 30.4375;
    assert_int_equal(r.t0, T0); /* from the intervention */
    assert_int_equal(r.control_empty, 0);
    /* 1e-6 m: the range is given in chainage; control = 10 km - 2 km - 1 km fenced */
    assert_true(fabs(r.treated.length_m - 2000.0) < 1e-6);
    assert_true(fabs(r.control.length_m - 7000.0) < 0.01);
    assert_int_equal(r.treated.before, 3);
    assert_int_equal(r.treated.after, 1);
    assert_int_equal(r.control.before, 2);
    assert_int_equal(r.control.after, 4);
    double rtb = 3.0 / 2.0 / months, rta = 1.0 / 2.0 / months;
    double rcb = 2.0 / 7.0 / months, rca = 4.0 / 7.0 / months;
    assert_true(close_rel(r.treated.rate_before, rtb));
    assert_true(close_rel(r.treated.rate_after, rta));
    assert_true(fabs(r.control.rate_before - rcb) < 1e-5 * rcb);
    assert_true(fabs(r.control.rate_after - rca) < 1e-5 * rca);
    assert_true(fabs(r.did - ((rta - rtb) - (rca - rcb))) < 1e-5);

    /* the same as a stretch and a date, and an explicit t0 overrides the start */
    bt_before_after r2;
    bt_before_after_opts_init(&o);
    o.from_m = 2000.0;
    o.to_m = 4000.0;
    o.t0 = T0;
    o.window_s = 100 * D;
    assert_int_equal(bt_border_before_after(f->s, f->b, &o, &r2), BT_OK);
    assert_int_equal(r2.treated.before, 3);
    assert_int_equal(r2.control.after, 4);
    assert_true(fabs(r2.did - r.did) < 1e-12);
    bt_before_after_opts_init(&o);
    o.intervention_id = iv.id;
    o.t0 = T0 + 10 * D; /* the windows move 10 days on */
    o.window_s = 100 * D;
    assert_int_equal(bt_border_before_after(f->s, f->b, &o, &r2), BT_OK);
    assert_int_equal(r2.t0, T0 + 10 * D);
    assert_int_equal(r2.treated.before, 3); /* days -10, -20 and 0; -99 is out now */
    assert_int_equal(r2.treated.after, 1);  /* day 100 is in now */

    /* errors */
    bt_before_after_opts_init(&o);
    o.intervention_id = 999;
    assert_int_equal(bt_border_before_after(f->s, f->b, &o, &r2), BT_ERR_NOT_FOUND);
    assert_string_equal(bt_store_errmsg(f->s), "intervention 999 does not exist");
    o.intervention_id = iv.id;
    o.installation_id = 1;
    assert_int_equal(bt_border_before_after(f->s, f->b, &o, &r2), BT_ERR_INVALID);
    assert_string_equal(bt_store_errmsg(f->s), "bt_border_before_after: give installation_id "
                                               "or intervention_id, not both");
    bt_intervention onu = iv;
    onu.border = "U";
    onu.from_m = 0.0;
    onu.to_m = INFINITY;
    assert_int_equal(bt_intervention_add(f->s, &onu, &onu.id), BT_OK);
    bt_before_after_opts_init(&o);
    o.intervention_id = onu.id;
    assert_int_equal(bt_border_before_after(f->s, f->b, &o, &r2), BT_ERR_INVALID);
    assert_string_equal(bt_store_errmsg(f->s), "bt_border_before_after: intervention 2 "
                                               "applies to border 'U', not 'T'");
    /* beyond the end */
    bt_intervention beyond = iv;
    beyond.from_m = 12000.0;
    beyond.to_m = 13000.0;
    assert_int_equal(bt_intervention_add(f->s, &beyond, &beyond.id), BT_OK);
    o.intervention_id = beyond.id;
    assert_int_equal(bt_border_before_after(f->s, f->b, &o, &r2), BT_ERR_INVALID);
    /* a range is from the default origin */
    bt_border *rev = NULL;
    bt_lonlat east = at(10000.0, 0.0);
    assert_int_equal(bt_border_open(f->s, "T", &east, &rev), BT_OK);
    o.intervention_id = iv.id;
    assert_int_equal(bt_border_before_after(f->s, rev, &o, &r2), BT_ERR_INVALID);
    assert_string_equal(bt_store_errmsg(f->s), "bt_border_before_after: intervention 1 has a "
                                               "chainage range from the default origin; open "
                                               "border 'T' with origin NULL");
    bt_border_free(rev);
}

/* An area: a concave polygon whose edges are meridians through the points at known
 * chainages, crossing T in [c1, c2] and [c3, c4]; its northern bridge passes 0.02
 * degrees north of the line, clear of it. The chainage where T crosses the meridian
 * of at(c) is c (T is one geodesic), so the treated intervals are known by
 * construction: within 1 mm (the 500 m edges depart from their lon/lat chords by
 * under 5 mm, sideways). */
static void test_before_after_area(void **state)
{
    struct line_fx *f = *state;
    const int64_t T0 = FX_T_2020_07_01;
    const double c1 = 1234.5, c2 = 3210.9, c3 = 7000.25, c4 = 8888.8;
    const double x1 = at(c1, 0).lon, x2 = at(c2, 0).lon, x3 = at(c3, 0).lon, x4 = at(c4, 0).lon;
    bt_lonlat ring[9] = {{x1, 41.3},  {x2, 41.3},  {x2, 41.42}, {x3, 41.42}, {x3, 41.3},
                         {x4, 41.3},  {x4, 41.5},  {x1, 41.5},  {x1, 41.3}};
    bt_intervention iv;
    bt_intervention_init(&iv);
    iv.name = "Buffer zone";
    iv.kind = BT_INTERVENTION_ORDER;
    iv.start = (bt_date){T0, BT_TIME_DAY};
    iv.area = ring;
    iv.narea = 9;
    assert_int_equal(bt_intervention_add(f->s, &iv, &iv.id), BT_OK);
    static const struct inc_spec inc[] = {
        {1300.0, 0.0, -5}, {3200.0, 100.0, -6}, {7100.0, -100.0, -7}, /* treated before */
        {8800.0, 0.0, 5}, {2000.0, 0.0, 6},                         /* treated after */
        {1200.0, 0.0, -5}, {5000.0, 0.0, -5},                       /* control before */
        {9000.0, 0.0, 5}, {3300.0, 0.0, 5}, {6900.0, 0.0, 5},       /* control after */
    };
    add_incidents(f->s, "A", inc, sizeof inc / sizeof inc[0], T0);

    /* the intervals themselves, from the function the analysis uses */
    struct bt__ivec iv_out = {0};
    assert_int_equal(bt__chain_in_polygon(f->b, ring, 9, &iv_out), BT_OK);
    size_t nm = bt__ivals_union(iv_out.v, iv_out.n);
    assert_int_equal(nm, 2);
    assert_true(fabs(iv_out.v[0].a - c1) < 1e-3 && fabs(iv_out.v[0].b - c2) < 1e-3);
    assert_true(fabs(iv_out.v[1].a - c3) < 1e-3 && fabs(iv_out.v[1].b - c4) < 1e-3);
    print_message("area crossings off by %.2e %.2e %.2e %.2e m\n", iv_out.v[0].a - c1,
                  iv_out.v[0].b - c2, iv_out.v[1].a - c3, iv_out.v[1].b - c4);
    bt__free(iv_out.v);

    bt_before_after_opts o;
    bt_before_after_opts_init(&o);
    o.intervention_id = iv.id;
    o.window_s = 30 * D;
    bt_before_after r;
    assert_int_equal(bt_border_before_after(f->s, f->b, &o, &r), BT_OK);
    double want = (c2 - c1) + (c4 - c3);
    assert_true(fabs(r.treated.length_m - want) < 1e-3);
    assert_true(fabs(r.control.length_m - (10000.0 - want)) < 1e-3);
    assert_int_equal(r.treated.before, 3);
    assert_int_equal(r.treated.after, 2);
    assert_int_equal(r.control.before, 2);
    assert_int_equal(r.control.after, 3);
    const double months = 30.0 / 30.4375;
    double km = r.treated.length_m / 1000.0, ckm = r.control.length_m / 1000.0;
    assert_true(close_rel(r.treated.rate_before, 3.0 / km / months));
    assert_true(close_rel(r.control.rate_after, 3.0 / ckm / months));
    assert_true(close_rel(r.did, (2.0 - 3.0) / km / months - (3.0 - 2.0) / ckm / months));

    /* an area that misses the line */
    bt_lonlat miss[5];
    rect(miss, x1, 41.45, x4, 41.5);
    bt_intervention m = iv;
    m.area = miss;
    m.narea = 5;
    assert_int_equal(bt_intervention_add(f->s, &m, &m.id), BT_OK);
    o.intervention_id = m.id;
    assert_int_equal(bt_border_before_after(f->s, f->b, &o, &r), BT_ERR_INVALID);
    assert_string_equal(bt_store_errmsg(f->s), "bt_border_before_after: the area of "
                                               "intervention 2 does not meet the main chain "
                                               "of border 'T'");
    /* an area over the whole line (past both ends): no control */
    bt_lonlat all[5];
    rect(all, 127.9, 41.3, 128.2, 41.5);
    m.area = all;
    assert_int_equal(bt_intervention_add(f->s, &m, &m.id), BT_OK);
    o.intervention_id = m.id;
    assert_int_equal(bt_border_before_after(f->s, f->b, &o, &r), BT_OK);
    assert_true(fabs(r.treated.length_m - 10000.0) < 1e-6);
    assert_int_equal(r.control_empty, 1);
    assert_int_equal(r.treated.before + r.treated.after, 10);
}

/* A border-wide closure: the whole line is treated, nothing is left for a control. */
static void test_border_wide(void **state)
{
    struct line_fx *f = *state;
    const int64_t T0 = INT64_C(1579651200); /* 2020-01-22 */
    static const struct inc_spec inc[] = {
        {100.0, 0.0, -300}, {5000.0, 0.0, -200}, {9999.0, 0.0, -1}, {4000.0, 0.0, 10},
    };
    add_incidents(f->s, "W", inc, sizeof inc / sizeof inc[0], T0);
    bt_intervention iv;
    bt_intervention_init(&iv);
    iv.name = "Border closure";
    iv.kind = BT_INTERVENTION_CLOSURE;
    iv.start = (bt_date){T0, BT_TIME_DAY};
    iv.border = "T";
    assert_int_equal(bt_intervention_add(f->s, &iv, &iv.id), BT_OK);
    bt_before_after_opts o;
    bt_before_after_opts_init(&o);
    o.intervention_id = iv.id;
    bt_before_after r;
    assert_int_equal(bt_border_before_after(f->s, f->b, &o, &r), BT_OK);
    bt_border_info info;
    assert_int_equal(bt_border_info_get(f->b, &info), BT_OK);
    assert_true(fabs(r.treated.length_m - info.length_m) < 1e-9);
    assert_true(fabs(info.length_m - 10000.0) < 1e-6);
    assert_int_equal(r.treated.before, 3);
    assert_int_equal(r.treated.after, 1);
    const double months = 365.0 / 30.4375;
    assert_true(close_rel(r.treated.rate_before, 3.0 / 10.0 / months));
    assert_true(close_rel(r.diff_treated, (1.0 - 3.0) / 10.0 / months));
    assert_int_equal(r.control_empty, 1);
    assert_true(r.control.length_m == 0.0);
    assert_int_equal(r.control.before + r.control.after, 0);
    assert_true(isnan(r.control.rate_before) && isnan(r.control.rate_after));
    assert_true(isnan(r.diff_control));
    assert_true(isnan(r.did));
    /* from 8 km to the far end: the control is 0..8 km again */
    iv.from_m = 8000.0;
    assert_int_equal(bt_intervention_update(f->s, &iv), BT_OK);
    assert_int_equal(bt_border_before_after(f->s, f->b, &o, &r), BT_OK);
    assert_true(fabs(r.treated.length_m - 2000.0) < 1e-6);
    assert_true(fabs(r.control.length_m - 8000.0) < 1e-6);
    assert_int_equal(r.control_empty, 0);
    assert_int_equal(r.treated.before, 1);
    assert_int_equal(r.control.before, 2);
    assert_int_equal(r.control.after, 1);
    assert_false(isnan(r.did));
}

#ifdef BT_FAULT_INJECTION
/* Out-of-memory walks: for N = 1, 2, ... the Nth allocation fails; every failure is
 * BT_ERR_NOMEM with a message and changes nothing; past the last allocation the call
 * succeeds as without faults. */
static int walk_op(struct line_fx *f, int op, double *result)
{
    bt_lonlat sq[5];
    rect(sq, 127.9, 41.3, at(5000.0, 0).lon, 41.5);
    bt_intervention iv;
    bt_intervention_init(&iv);
    iv.name = "walk";
    iv.start = (bt_date){FX_T_2020_07_01, BT_TIME_DAY};
    iv.area = sq;
    iv.narea = 5;
    switch (op) {
    case 0: {
        int64_t id = 0;
        int rc = bt_intervention_add(f->s, &iv, &id);
        *result = (double)id;
        return rc;
    }
    case 1: {
        bt_intervention *g = NULL;
        int rc = bt_intervention_get(f->s, 1, &g);
        if (rc == BT_OK) *result = (double)g->narea + g->area[1].lon;
        bt_intervention_free(g);
        return rc;
    }
    case 2: {
        bt_intervention **v = NULL;
        size_t n = 0;
        int rc = bt_intervention_list(f->s, NULL, &v, &n);
        if (rc == BT_OK) *result = (double)n;
        bt_intervention_array_free(v, n);
        return rc;
    }
    default: {
        bt_before_after_opts o;
        bt_before_after_opts_init(&o);
        o.intervention_id = 1;
        bt_before_after r;
        int rc = bt_border_before_after(f->s, f->b, &o, &r);
        if (rc == BT_OK) *result = r.treated.length_m + (double)r.treated.before;
        return rc;
    }
    }
}

static void test_fault_walks(void **state)
{
    struct line_fx *f = *state;
    add_incident(f->s, "F-1", at(1000.0, 0.0), FX_T_2020_07_01 - D);
    double dummy = 0;
    assert_int_equal(walk_op(f, 0, &dummy), BT_OK); /* intervention 1 */
    for (int op = 0; op < 4; op++) {
        double want = 0, got = 0;
        bt_counts k0, k1;
        assert_int_equal(bt_store_count(f->s, &k0), BT_OK);
        if (op != 0) assert_int_equal(walk_op(f, op, &want), BT_OK);
        long n;
        for (n = 1; n < 100000; n++) {
            bt__alloc_fail_after(n);
            int rc = walk_op(f, op, &got);
            long made = bt__alloc_fail_after(0);
            if (rc == BT_OK) {
                assert_true(made < n);
                if (op != 0) assert_true(got == want);
                break;
            }
            if (rc != BT_ERR_NOMEM)
                fail_msg("op %d: allocation %ld failed: status %d: %s", op, n, rc,
                         bt_store_errmsg(f->s));
            assert_true(bt_store_errmsg(f->s)[0] != '\0');
            assert_int_equal(bt_store_count(f->s, &k1), BT_OK);
            assert_int_equal(k1.interventions, k0.interventions);
        }
        assert_true(n < 100000);
        print_message("op %d: %ld allocation failure points\n", op, n - 1);
    }
}
#endif

int main(void)
{
    geod_init(&G, 6378137.0, 1.0 / 298.257223563);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_delete_and_border_guard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_from_v3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_before_after_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_before_after_area, setup, teardown),
        cmocka_unit_test_setup_teardown(test_border_wide, setup, teardown),
#ifdef BT_FAULT_INJECTION
        cmocka_unit_test_setup_teardown(test_fault_walks, setup, teardown),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
