/**
 * @file test_records.c
 * @brief Add / get / find / update / delete of every record type through the store:
 * every field round-trips (also across close and reopen), and the error paths.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <sqlite3.h>

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

static bt_store *open_store(const char *name, unsigned flags)
{
    char path[512];
    bt_store *s = NULL;
    char *em = NULL;
    fx_file(&dir, name, path, sizeof path);
    int rc = bt_store_open(path, flags, &s, &em);
    if (rc) fprintf(stderr, "open %s: %s\n", path, em ? em : "?");
    assert_int_equal(rc, BT_OK);
    return s;
}

static bt_store *new_store(const char *name)
{
    return open_store(name, BT_OPEN_READWRITE | BT_OPEN_CREATE);
}

static void assert_str_or_null(const char *got, const char *want)
{
    if (want == NULL)
        assert_null(got);
    else
        assert_string_equal(got, want);
}

/* Text that would break a query built by splicing strings. */
#define SQL_TEXT "'); DROP TABLE incidents;--"

/* ---- comparisons ------------------------------------------------------------ */

static void assert_points_equal(const bt_lonlat *a, size_t na, const bt_lonlat *b, size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        /* Stored as IEEE doubles: bit-exact. */
        assert_true(a[i].lon == b[i].lon);
        assert_true(a[i].lat == b[i].lat);
    }
}

static void assert_incident_equal(const bt_incident *a, const bt_incident *b)
{
    assert_int_equal(a->id, b->id);
    assert_string_equal(a->ref, b->ref);
    assert_int_equal(a->type, b->type);
    assert_true(a->where.lon == b->where.lon);
    assert_true(a->where.lat == b->where.lat);
    assert_true(a->uncertainty_m == b->uncertainty_m);
    assert_int_equal(a->loc_precision, b->loc_precision);
    assert_int_equal(a->start, b->start);
    assert_int_equal(a->end, b->end);
    assert_int_equal(a->time_precision, b->time_precision);
    assert_int_equal(a->reported.precision, b->reported.precision);
    if (a->reported.precision != BT_TIME_NONE) assert_int_equal(a->reported.t, b->reported.t);
    assert_str_or_null(a->summary, b->summary);
    assert_int_equal(a->verification, b->verification);
}

static void assert_installation_equal(const bt_installation *a, const bt_installation *b)
{
    assert_int_equal(a->id, b->id);
    assert_str_or_null(a->ref, b->ref);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->layer, b->layer);
    assert_int_equal(a->material, b->material);
    assert_int_equal(a->barbed, b->barbed);
    assert_int_equal(a->electrified, b->electrified);
    if (isnan(b->height_m))
        assert_true(isnan(a->height_m));
    else
        assert_true(a->height_m == b->height_m);
    assert_str_or_null(a->post_material, b->post_material);
    assert_int_equal(a->quality, b->quality);
    assert_int_equal(a->permanence, b->permanence);
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->start.precision, b->start.precision);
    if (b->start.precision != BT_TIME_NONE) assert_int_equal(a->start.t, b->start.t);
    assert_int_equal(a->end.precision, b->end.precision);
    if (b->end.precision != BT_TIME_NONE) assert_int_equal(a->end.t, b->end.t);
    assert_str_or_null(a->condition, b->condition);
    assert_int_equal(a->observed_by, b->observed_by);
    assert_int_equal(a->source_id, b->source_id);
    assert_int_equal(a->credibility, b->credibility);
    assert_points_equal(a->points, a->npoints, b->points, b->npoints);
}

static void assert_segment_equal(const bt_segment *a, const bt_segment *b)
{
    assert_int_equal(a->id, b->id);
    assert_string_equal(a->border, b->border);
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->seq, b->seq);
    assert_int_equal(a->kind, b->kind);
    assert_str_or_null(a->river, b->river);
    assert_points_equal(a->points, a->npoints, b->points, b->npoints);
}

static void assert_source_equal(const bt_source *a, const bt_source *b)
{
    assert_int_equal(a->id, b->id);
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->reliability, b->reliability);
    assert_str_or_null(a->notes, b->notes);
}

static void assert_place_equal(const bt_place *a, const bt_place *b)
{
    assert_int_equal(a->id, b->id);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->country, b->country);
    assert_str_or_null(a->admin1, b->admin1);
    assert_true(a->where.lon == b->where.lon);
    assert_true(a->where.lat == b->where.lat);
}

/* ---- sample records ---------------------------------------------------------- */

static const bt_lonlat fence_pts[3] = {{128.1001, 41.3902}, {128.1507, 41.4011}, {128.2233, 41.4154}};
static const bt_lonlat border_pts[4] = {
    {124.3951, 40.0918}, {124.4102, 40.1127}, {124.4399, 40.1381}, {124.4712, 40.1553}};

static bt_installation sample_fence(int64_t source_id)
{
    bt_installation in;
    bt_installation_init(&in);
    in.ref = "F-Hyesan-1";
    in.kind = BT_INSTALL_FENCE;
    in.layer = BT_LAYER_SECONDARY;
    in.material = BT_MATERIAL_THIN_STEEL_WIRE;
    in.barbed = BT_YES;
    in.electrified = BT_NO;
    in.height_m = 2.75;
    in.post_material = "wooden stakes";
    in.quality = BT_QUALITY_POOR;
    in.permanence = BT_PERMANENCE_TEMPORARY;
    in.status = BT_STATUS_DAMAGED;
    in.start.t = FX_T_2020_07_01;
    in.start.precision = BT_TIME_MONTH;
    in.end.t = FX_T_2022_06_01;
    in.end.precision = BT_TIME_DAY;
    in.condition = "sways in the wind, snaps if pulled by hand";
    in.observed_by = BT_OBSERVED_GROUND_PHOTO;
    in.source_id = source_id;
    in.credibility = 2;
    in.points = fence_pts;
    in.npoints = 3;
    return in;
}

/* ---- tests --------------------------------------------------------------------- */

static void test_incident_roundtrip(void **state)
{
    (void)state;
    bt_store *s = new_store("incidents.bt");
    bt_incident a = fx_incident("DN-2020-0729-01", FX_HYESAN_LON, FX_HYESAN_LAT);
    bt_incident b = fx_incident("DN-2020-0801-02", 124.39, 40.10);
    b.end = BT_TIME_OPEN; /* "since the beginning of July 2020" */
    b.time_precision = BT_TIME_MONTH;
    b.reported.precision = BT_TIME_NONE;
    b.summary = NULL;
    b.type = BT_INCIDENT_POLICY_NOTICE;
    b.loc_precision = BT_LOC_BORDER_SEGMENT;
    b.verification = BT_VERIF_RETRACTED;
    b.uncertainty_m = 0.0;
    int64_t ida = 0, idb = 0;
    assert_int_equal(bt_incident_add(s, &a, &ida), BT_OK);
    assert_int_equal(bt_incident_add(s, &b, &idb), BT_OK);
    assert_true(ida > 0 && idb > ida);
    a.id = ida;
    b.id = idb;

    bt_incident *got = NULL;
    assert_int_equal(bt_incident_get(s, ida, &got), BT_OK);
    assert_incident_equal(got, &a);
    bt_incident_free(got);
    assert_int_equal(bt_incident_get(s, idb, &got), BT_OK);
    assert_incident_equal(got, &b);
    assert_int_equal(got->end, BT_TIME_OPEN);
    bt_incident_free(got);

    int64_t found = 0;
    assert_int_equal(bt_incident_find(s, "DN-2020-0801-02", &found), BT_OK);
    assert_int_equal(found, idb);
    assert_int_equal(bt_incident_find(s, "nope", &found), BT_ERR_NOT_FOUND);
    assert_non_null(strstr(bt_store_errmsg(s), "nope"));

    /* update every field */
    b.ref = "DN-2020-0801-02b";
    b.type = BT_INCIDENT_SHOOTING;
    b.where = (bt_lonlat){-179.5, -89.25};
    b.uncertainty_m = 5000.0;
    b.loc_precision = BT_LOC_PROVINCE;
    b.start = FX_T_2020_01_01;
    b.end = FX_T_2021_03_15;
    b.time_precision = BT_TIME_SECOND;
    b.reported = (bt_date){FX_T_2022_06_01, BT_TIME_DAY};
    b.summary = "updated";
    b.verification = BT_VERIF_CONFIRMED;
    assert_int_equal(bt_incident_update(s, &b), BT_OK);
    assert_int_equal(bt_incident_get(s, idb, &got), BT_OK);
    assert_incident_equal(got, &b);
    bt_incident_free(got);
    assert_int_equal(bt_incident_find(s, "DN-2020-0801-02", &found), BT_ERR_NOT_FOUND);

    /* persistence: close, reopen, read back every field */
    assert_int_equal(bt_store_close(s), BT_OK);
    s = open_store("incidents.bt", BT_OPEN_READONLY);
    assert_int_equal(bt_incident_get(s, ida, &got), BT_OK);
    assert_incident_equal(got, &a);
    bt_incident_free(got);
    assert_int_equal(bt_incident_get(s, idb, &got), BT_OK);
    assert_incident_equal(got, &b);
    bt_incident_free(got);
    bt_store_close(s);
}

static void test_incident_errors(void **state)
{
    (void)state;
    bt_store *s = new_store("incident_errors.bt");
    bt_incident a = fx_incident("X-1", 128.0, 41.0);
    int64_t id = 0;
    assert_int_equal(bt_incident_add(s, &a, &id), BT_OK);

    int64_t id2 = 777;
    assert_int_equal(bt_incident_add(s, &a, &id2), BT_ERR_EXISTS);
    assert_int_equal(id2, 777); /* untouched on failure */
    assert_string_equal(bt_store_errmsg(s), "incident ref 'X-1' already exists");

    /* the validator's message, and nothing written */
    bt_incident bad = fx_incident("X-2", 128.0, 91.0);
    assert_int_equal(bt_incident_add(s, &bad, NULL), BT_ERR_INVALID);
    assert_non_null(strstr(bt_store_errmsg(s), "X-2"));
    assert_non_null(strstr(bt_store_errmsg(s), "lat"));
    bad = fx_incident("X-3", 128.0, 41.0);
    bad.end = bad.start - 1;
    assert_int_equal(bt_incident_add(s, &bad, NULL), BT_ERR_INVALID);
    assert_non_null(strstr(bt_store_errmsg(s), "end"));
    bad = fx_incident("X-4", NAN, 41.0);
    assert_int_equal(bt_incident_add(s, &bad, NULL), BT_ERR_INVALID);
    bt_counts c;
    assert_int_equal(bt_store_count(s, &c), BT_OK);
    assert_int_equal(c.incidents, 1);

    /* unknown ids */
    a.id = 999;
    a.ref = "X-999";
    assert_int_equal(bt_incident_update(s, &a), BT_ERR_NOT_FOUND);
    assert_string_equal(bt_store_errmsg(s), "incident 999 does not exist");
    assert_int_equal(bt_incident_delete(s, 999), BT_ERR_NOT_FOUND);
    bt_incident *got = (bt_incident *)&a;
    assert_int_equal(bt_incident_get(s, 999, &got), BT_ERR_NOT_FOUND);
    assert_null(got);

    /* update onto a taken ref */
    bt_incident b = fx_incident("X-5", 128.0, 41.0);
    assert_int_equal(bt_incident_add(s, &b, &b.id), BT_OK);
    b.ref = "X-1";
    assert_int_equal(bt_incident_update(s, &b), BT_ERR_EXISTS);

    /* NULL arguments */
    assert_int_equal(bt_incident_add(s, NULL, NULL), BT_ERR_INVALID);
    assert_int_equal(bt_incident_add(NULL, &a, NULL), BT_ERR_INVALID);
    assert_int_equal(bt_incident_get(s, id, NULL), BT_ERR_INVALID);
    assert_int_equal(bt_incident_find(s, NULL, &id), BT_ERR_INVALID);
    assert_int_equal(bt_incident_find(s, "X-1", NULL), BT_ERR_INVALID);
    assert_int_equal(bt_incident_update(s, NULL), BT_ERR_INVALID);

    assert_int_equal(bt_incident_delete(s, id), BT_OK);
    assert_int_equal(bt_incident_delete(s, id), BT_ERR_NOT_FOUND);
    bt_store_close(s);
}

static void test_segment_roundtrip(void **state)
{
    (void)state;
    bt_store *s = new_store("segments.bt");
    bt_segment seg = {0, "PRK-CHN", "Sinŭiju–Dandong", 7, BT_SEGMENT_RIVER, "Yalu (압록강)",
                      border_pts, 4};
    int64_t id = 0;
    assert_int_equal(bt_segment_add(s, &seg, &id), BT_OK);
    seg.id = id;
    bt_segment *got = NULL;
    assert_int_equal(bt_segment_get(s, id, &got), BT_OK);
    assert_segment_equal(got, &seg);
    bt_segment_free(got);

    /* border+name is unique */
    assert_int_equal(bt_segment_add(s, &seg, NULL), BT_ERR_EXISTS);
    assert_non_null(strstr(bt_store_errmsg(s), "already exists"));
    /* the same name on another border is fine */
    bt_segment other = seg;
    other.border = "PRK-RUS";
    other.river = NULL;
    other.kind = BT_SEGMENT_ESTUARY;
    other.npoints = 2;
    int64_t id2 = 0;
    assert_int_equal(bt_segment_add(s, &other, &id2), BT_OK);

    seg.name = "renamed";
    seg.seq = 0;
    seg.kind = BT_SEGMENT_LAND;
    seg.river = NULL;
    seg.points = fence_pts;
    seg.npoints = 3;
    assert_int_equal(bt_segment_update(s, &seg), BT_OK);
    assert_int_equal(bt_store_close(s), BT_OK);

    s = open_store("segments.bt", BT_OPEN_READWRITE);
    assert_int_equal(bt_segment_get(s, id, &got), BT_OK);
    assert_segment_equal(got, &seg);
    bt_segment_free(got);
    other.id = id2;
    assert_int_equal(bt_segment_get(s, id2, &got), BT_OK);
    assert_segment_equal(got, &other);
    bt_segment_free(got);

    /* errors */
    bt_segment bad = seg;
    bad.name = "one point";
    bad.npoints = 1;
    assert_int_equal(bt_segment_add(s, &bad, NULL), BT_ERR_INVALID);
    assert_non_null(strstr(bt_store_errmsg(s), "npoints"));
    bad.id = 12345;
    bad.npoints = 2;
    assert_int_equal(bt_segment_update(s, &bad), BT_ERR_NOT_FOUND);
    assert_int_equal(bt_segment_get(s, 12345, &got), BT_ERR_NOT_FOUND);
    assert_int_equal(bt_segment_delete(s, id), BT_OK);
    assert_int_equal(bt_segment_delete(s, id), BT_ERR_NOT_FOUND);
    assert_int_equal(bt_segment_get(s, id, &got), BT_ERR_NOT_FOUND);
    bt_store_close(s);
}

static void test_installation_roundtrip(void **state)
{
    (void)state;
    bt_store *s = new_store("installations.bt");
    bt_source src = {0, "satellite imagery (commercial)", BT_SOURCE_IMAGERY, 'A', NULL};
    int64_t sid = 0;
    assert_int_equal(bt_source_add(s, &src, &sid), BT_OK);

    bt_installation fence = sample_fence(sid);
    int64_t fid = 0;
    assert_int_equal(bt_installation_add(s, &fence, &fid), BT_OK);
    fence.id = fid;

    /* a guard post: a Point, defaults elsewhere (NaN height, no dates, no source) */
    bt_installation post;
    bt_installation_init(&post);
    bt_lonlat p = {128.1800, 41.4020};
    post.kind = BT_INSTALL_GUARD_POST;
    post.points = &p;
    post.npoints = 1;
    int64_t pid = 0;
    assert_int_equal(bt_installation_add(s, &post, &pid), BT_OK);
    post.id = pid;

    bt_installation *got = NULL;
    assert_int_equal(bt_installation_get(s, fid, &got), BT_OK);
    assert_installation_equal(got, &fence);
    bt_installation_free(got);
    assert_int_equal(bt_installation_get(s, pid, &got), BT_OK);
    assert_installation_equal(got, &post);
    assert_true(isnan(got->height_m));
    assert_null(got->ref);
    bt_installation_free(got);

    /* update every field of the post */
    post.ref = "GP-12";
    post.kind = BT_INSTALL_WATCHTOWER;
    post.material = BT_MATERIAL_CONCRETE;
    post.barbed = BT_NO;
    post.electrified = BT_YES;
    post.height_m = 8.0;
    post.post_material = "steel";
    post.quality = BT_QUALITY_ROBUST;
    post.permanence = BT_PERMANENCE_PERMANENT;
    post.status = BT_STATUS_UNDER_CONSTRUCTION;
    post.start = (bt_date){FX_T_2020_01_01, BT_TIME_YEAR};
    post.end = (bt_date){0, BT_TIME_NONE};
    post.condition = SQL_TEXT;
    post.observed_by = BT_OBSERVED_SATELLITE;
    post.source_id = sid;
    post.credibility = 6;
    assert_int_equal(bt_installation_update(s, &post), BT_OK);
    assert_int_equal(bt_store_close(s), BT_OK);

    s = open_store("installations.bt", BT_OPEN_READWRITE);
    assert_int_equal(bt_installation_get(s, fid, &got), BT_OK);
    assert_installation_equal(got, &fence);
    bt_installation_free(got);
    assert_int_equal(bt_installation_get(s, pid, &got), BT_OK);
    assert_installation_equal(got, &post);
    bt_installation_free(got);

    /* errors */
    bt_installation bad = sample_fence(sid);
    assert_int_equal(bt_installation_add(s, &bad, NULL), BT_ERR_EXISTS);
    assert_string_equal(bt_store_errmsg(s), "installation ref 'F-Hyesan-1' already exists");
    bad.ref = "F-2";
    bad.source_id = 4242;
    assert_int_equal(bt_installation_add(s, &bad, NULL), BT_ERR_NOT_FOUND);
    assert_non_null(strstr(bt_store_errmsg(s), "source 4242 does not exist"));
    bad.source_id = 0;
    bad.npoints = 1; /* a fence must be a line */
    assert_int_equal(bt_installation_add(s, &bad, NULL), BT_ERR_INVALID);
    bt_counts c;
    assert_int_equal(bt_store_count(s, &c), BT_OK);
    assert_int_equal(c.installations, 2);
    bad.npoints = 3;
    bad.id = 999;
    assert_int_equal(bt_installation_update(s, &bad), BT_ERR_NOT_FOUND);
    assert_int_equal(bt_installation_delete(s, 999), BT_ERR_NOT_FOUND);

    /* a source an installation refers to cannot go */
    int drc = bt_source_delete(s, sid);
    if (drc != BT_ERR_CONSTRAINT) fprintf(stderr, "%s\n", bt_store_errmsg(s));
    assert_int_equal(drc, BT_ERR_CONSTRAINT);
    assert_non_null(strstr(bt_store_errmsg(s), "2 installation(s)"));
    assert_int_equal(bt_installation_delete(s, fid), BT_OK);
    assert_int_equal(bt_installation_delete(s, pid), BT_OK);
    assert_int_equal(bt_source_delete(s, sid), BT_OK);
    bt_store_close(s);
}

static void test_source_roundtrip(void **state)
{
    (void)state;
    bt_store *s = new_store("sources.bt");
    bt_source a = {0, "a source in Yanggang Province", BT_SOURCE_HUMAN, 'B',
                   "met twice; reliable on Hyesan"};
    bt_source b = {0, "Daily NK", BT_SOURCE_MEDIA, 'C', NULL};
    int64_t ida = 0, idb = 0;
    assert_int_equal(bt_source_add(s, &a, &ida), BT_OK);
    assert_int_equal(bt_source_add(s, &b, &idb), BT_OK);
    a.id = ida;
    b.id = idb;
    bt_source *got = NULL;
    assert_int_equal(bt_source_get(s, ida, &got), BT_OK);
    assert_source_equal(got, &a);
    bt_source_free(got);
    int64_t found = 0;
    assert_int_equal(bt_source_find(s, "Daily NK", &found), BT_OK);
    assert_int_equal(found, idb);

    /* the identity never appears in a message */
    assert_int_equal(bt_source_add(s, &a, NULL), BT_ERR_EXISTS);
    assert_null(strstr(bt_store_errmsg(s), "Yanggang"));
    assert_int_equal(bt_source_find(s, "a source in Ryanggang", &found), BT_ERR_NOT_FOUND);
    assert_null(strstr(bt_store_errmsg(s), "Ryanggang"));

    bt_source bad = b;
    bad.name = "grade G";
    bad.reliability = 'G';
    assert_int_equal(bt_source_add(s, &bad, NULL), BT_ERR_INVALID);

    b.name = "Daily NK (Seoul)";
    b.type = BT_SOURCE_NGO;
    b.reliability = 'F';
    b.notes = SQL_TEXT;
    assert_int_equal(bt_source_update(s, &b), BT_OK);
    assert_int_equal(bt_store_close(s), BT_OK);

    s = open_store("sources.bt", BT_OPEN_READWRITE);
    assert_int_equal(bt_source_get(s, idb, &got), BT_OK);
    assert_source_equal(got, &b);
    bt_source_free(got);
    assert_int_equal(bt_source_get(s, ida, &got), BT_OK);
    assert_source_equal(got, &a);
    bt_source_free(got);
    b.id = 999;
    assert_int_equal(bt_source_update(s, &b), BT_ERR_NOT_FOUND);
    assert_int_equal(bt_source_delete(s, 999), BT_ERR_NOT_FOUND);
    assert_int_equal(bt_source_delete(s, ida), BT_OK);
    assert_int_equal(bt_source_get(s, ida, &got), BT_ERR_NOT_FOUND);
    bt_store_close(s);
}

static void test_links(void **state)
{
    (void)state;
    bt_store *s = new_store("links.bt");
    bt_incident inc = fx_incident("L-1", 128.0, 41.0);
    int64_t iid = 0, s1 = 0, s2 = 0;
    assert_int_equal(bt_incident_add(s, &inc, &iid), BT_OK);
    bt_source a = {0, "source one", BT_SOURCE_HUMAN, 'B', NULL};
    bt_source b = {0, "source two", BT_SOURCE_VIDEO, 'D', NULL};
    assert_int_equal(bt_source_add(s, &b, &s2), BT_OK); /* ids out of name order */
    assert_int_equal(bt_source_add(s, &a, &s1), BT_OK);

    bt_report_link l1 = {iid, s1, {FX_T_2020_07_29_140500, BT_TIME_SECOND}, 2};
    bt_report_link l2 = {iid, s2, {0, BT_TIME_NONE}, 6};
    assert_int_equal(bt_link_add(s, &l2), BT_OK);
    assert_int_equal(bt_link_add(s, &l1), BT_OK);
    assert_int_equal(bt_link_add(s, &l1), BT_ERR_EXISTS);

    bt_report_link got;
    assert_int_equal(bt_link_get(s, iid, s1, &got), BT_OK);
    assert_int_equal(got.incident_id, iid);
    assert_int_equal(got.source_id, s1);
    assert_int_equal(got.reported.t, FX_T_2020_07_29_140500);
    assert_int_equal(got.reported.precision, BT_TIME_SECOND);
    assert_int_equal(got.credibility, 2);

    bt_report_link *list = NULL;
    size_t n = 0;
    assert_int_equal(bt_link_list(s, iid, &list, &n), BT_OK);
    assert_int_equal(n, 2);
    assert_true(s2 < s1);
    assert_int_equal(list[0].source_id, s2); /* ordered by source id */
    assert_int_equal(list[0].reported.precision, BT_TIME_NONE);
    assert_int_equal(list[0].credibility, 6);
    assert_int_equal(list[1].source_id, s1);
    bt_link_list_free(list);

    l1.credibility = 1;
    l1.reported = (bt_date){FX_T_2020_07_01, BT_TIME_MONTH};
    assert_int_equal(bt_link_update(s, &l1), BT_OK);
    assert_int_equal(bt_store_close(s), BT_OK);
    s = open_store("links.bt", BT_OPEN_READWRITE);
    assert_int_equal(bt_link_get(s, iid, s1, &got), BT_OK);
    assert_int_equal(got.credibility, 1);
    assert_int_equal(got.reported.t, FX_T_2020_07_01);
    assert_int_equal(got.reported.precision, BT_TIME_MONTH);

    /* errors */
    bt_report_link bad = {iid, 999, {0, BT_TIME_NONE}, 3};
    assert_int_equal(bt_link_add(s, &bad), BT_ERR_NOT_FOUND);
    assert_string_equal(bt_store_errmsg(s), "source 999 does not exist");
    bad = (bt_report_link){888, s1, {0, BT_TIME_NONE}, 3};
    assert_int_equal(bt_link_add(s, &bad), BT_ERR_NOT_FOUND);
    assert_string_equal(bt_store_errmsg(s), "incident 888 does not exist");
    bad = (bt_report_link){iid, s1, {0, BT_TIME_NONE}, 7};
    assert_int_equal(bt_link_add(s, &bad), BT_ERR_INVALID);
    assert_int_equal(bt_link_update(s, &bad), BT_ERR_INVALID);
    bad.credibility = 3;
    bad.source_id = 999;
    assert_int_equal(bt_link_update(s, &bad), BT_ERR_NOT_FOUND);
    assert_int_equal(bt_link_get(s, iid, 999, &got), BT_ERR_NOT_FOUND);
    assert_int_equal(bt_link_list(s, 888, &list, &n), BT_ERR_NOT_FOUND);
    assert_null(list);
    assert_int_equal(n, 0);

    /* a linked source cannot be deleted */
    assert_int_equal(bt_source_delete(s, s1), BT_ERR_CONSTRAINT);
    assert_non_null(strstr(bt_store_errmsg(s), "1 report link(s)"));
    /* unlinking works once */
    assert_int_equal(bt_link_delete(s, iid, s2), BT_OK);
    assert_int_equal(bt_link_delete(s, iid, s2), BT_ERR_NOT_FOUND);
    assert_int_equal(bt_source_delete(s, s2), BT_OK);

    /* deleting the incident removes its links, and then the source can go */
    assert_int_equal(bt_incident_delete(s, iid), BT_OK);
    bt_counts c;
    assert_int_equal(bt_store_count(s, &c), BT_OK);
    assert_int_equal(c.links, 0);
    assert_int_equal(bt_source_delete(s, s1), BT_OK);

    /* an incident without links lists none */
    inc.ref = "L-2";
    assert_int_equal(bt_incident_add(s, &inc, &iid), BT_OK);
    list = (bt_report_link *)&inc;
    assert_int_equal(bt_link_list(s, iid, &list, &n), BT_OK);
    assert_null(list);
    assert_int_equal(n, 0);
    bt_store_close(s);
}

static void test_place_roundtrip(void **state)
{
    (void)state;
    bt_store *s = new_store("places.bt");
    bt_place a = {0, "Sinŭiju", "KP", "KP-01", {124.3986, 40.1006}};
    bt_place b = {0, "Dandong", "CN", NULL, {124.3545, 40.0002}};
    int64_t ida = 0, idb = 0;
    assert_int_equal(bt_place_add(s, &a, &ida), BT_OK);
    assert_int_equal(bt_place_add(s, &b, &idb), BT_OK);
    a.id = ida;
    b.id = idb;
    assert_int_equal(bt_place_add(s, &a, NULL), BT_ERR_EXISTS);
    assert_non_null(strstr(bt_store_errmsg(s), "Sinŭiju"));
    bt_place same_name = {0, "Sinŭiju", "CN", NULL, {124.0, 40.0}};
    assert_int_equal(bt_place_add(s, &same_name, NULL), BT_OK);

    b.name = SQL_TEXT;
    b.admin1 = "CN-LN";
    b.where = (bt_lonlat){180.0, 90.0};
    assert_int_equal(bt_place_update(s, &b), BT_OK);
    assert_int_equal(bt_store_close(s), BT_OK);

    s = open_store("places.bt", BT_OPEN_READONLY);
    bt_place *got = NULL;
    assert_int_equal(bt_place_get(s, ida, &got), BT_OK);
    assert_place_equal(got, &a);
    bt_place_free(got);
    assert_int_equal(bt_place_get(s, idb, &got), BT_OK);
    assert_place_equal(got, &b);
    bt_place_free(got);
    bt_store_close(s);

    s = open_store("places.bt", BT_OPEN_READWRITE);
    bt_place bad = a;
    bad.name = "nowhere";
    bad.where.lon = 181.0;
    assert_int_equal(bt_place_add(s, &bad, NULL), BT_ERR_INVALID);
    bad.where.lon = 1.0;
    bad.id = 999;
    assert_int_equal(bt_place_update(s, &bad), BT_ERR_NOT_FOUND);
    assert_int_equal(bt_place_get(s, 999, &got), BT_ERR_NOT_FOUND);
    assert_int_equal(bt_place_delete(s, ida), BT_OK);
    assert_int_equal(bt_place_delete(s, ida), BT_ERR_NOT_FOUND);
    bt_store_close(s);
}

/* Text full of SQL goes in and comes out verbatim, and the tables are all still there. */
static void test_sql_text_stored_verbatim(void **state)
{
    (void)state;
    bt_store *s = new_store("injection.bt");
    bt_incident inc = fx_incident(SQL_TEXT, 128.0, 41.0);
    inc.summary = "x'; DELETE FROM sources; SELECT '\"; --";
    int64_t id = 0;
    assert_int_equal(bt_incident_add(s, &inc, &id), BT_OK);
    bt_source src = {0, SQL_TEXT, BT_SOURCE_OTHER, 'E', SQL_TEXT};
    int64_t sid = 0;
    assert_int_equal(bt_source_add(s, &src, &sid), BT_OK);
    bt_segment seg = {0, SQL_TEXT, SQL_TEXT, 0, BT_SEGMENT_UNKNOWN, SQL_TEXT, border_pts, 2};
    assert_int_equal(bt_segment_add(s, &seg, NULL), BT_OK);
    bt_place p = {0, SQL_TEXT, "KP", SQL_TEXT, {128.0, 41.0}};
    assert_int_equal(bt_place_add(s, &p, NULL), BT_OK);

    int64_t found = 0;
    assert_int_equal(bt_incident_find(s, SQL_TEXT, &found), BT_OK);
    assert_int_equal(found, id);
    bt_incident *got = NULL;
    assert_int_equal(bt_incident_get(s, id, &got), BT_OK);
    assert_string_equal(got->ref, SQL_TEXT);
    assert_string_equal(got->summary, inc.summary);
    bt_incident_free(got);
    assert_int_equal(bt_source_find(s, SQL_TEXT, &found), BT_OK);
    assert_int_equal(found, sid);
    bt_counts c;
    assert_int_equal(bt_store_count(s, &c), BT_OK);
    assert_int_equal(c.incidents, 1);
    assert_int_equal(c.sources, 1);
    assert_int_equal(c.segments, 1);
    assert_int_equal(c.places, 1);
    bt_store_close(s);
}


/* ---- geometry BLOBs written by other tools ---------------------------------- */

static void put32(unsigned char *p, uint32_t v, int be)
{
    for (int i = 0; i < 4; i++) p[be ? 3 - i : i] = (unsigned char)(v >> (8 * i));
}

static void putd(unsigned char *p, double d, int be)
{
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    for (int i = 0; i < 8; i++) p[be ? 7 - i : i] = (unsigned char)(v >> (8 * i));
}

/* A SpatiaLite Point BLOB (60 bytes), written independently of the library. */
static size_t point_blob(unsigned char *b, double x, double y, uint32_t srid, int be)
{
    b[0] = 0x00;
    b[1] = be ? 0x00 : 0x01;
    put32(b + 2, srid, be);
    putd(b + 6, x, be);
    putd(b + 14, y, be);
    putd(b + 22, x, be);
    putd(b + 30, y, be);
    b[38] = 0x7C;
    put32(b + 39, 1, be);
    putd(b + 43, x, be);
    putd(b + 51, y, be);
    b[59] = 0xFE;
    return 60;
}

/* A TinyPoint BLOB (24 bytes). */
static size_t tiny_point_blob(unsigned char *b, double x, double y)
{
    b[0] = 0x00;
    b[1] = 0x81;
    put32(b + 2, 4326, 0);
    b[6] = 1;
    putd(b + 7, x, 0);
    putd(b + 15, y, 0);
    b[23] = 0xFE;
    return 24;
}

static void set_place_geom(const char *path, int64_t id, const unsigned char *blob, size_t n)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    /* SpatiaLite's triggers need its functions, which this plain connection lacks */
    assert_int_equal(sqlite3_exec(db, "DROP TRIGGER IF EXISTS ggu_places_geom;"
                                      "DROP TRIGGER IF EXISTS giu_places_geom;"
                                      "DROP TRIGGER IF EXISTS tmu_places_geom;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "UPDATE places SET geom = ?1 WHERE id = ?2", -1,
                                        &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(st, 1, blob, (int)n, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, id);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_foreign_geometry_blobs(void **state)
{
    (void)state;
    bt_store *s = new_store("blobs.bt");
    int64_t id[5];
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "P%d", i);
        bt_place p = {0, name, "KP", NULL, {128.0, 41.0}};
        assert_int_equal(bt_place_add(s, &p, &id[i]), BT_OK);
    }
    bt_store_close(s);
    char path[512];
    fx_file(&dir, "blobs.bt", path, sizeof path);
    unsigned char b[64];
    set_place_geom(path, id[0], b, point_blob(b, 124.5, 40.25, 4326, 1)); /* big-endian */
    set_place_geom(path, id[1], b, tiny_point_blob(b, -179.75, -12.5));
    size_t n = point_blob(b, 1.0, 2.0, 3857, 0);
    set_place_geom(path, id[2], b, n); /* not WGS 84 */
    n = point_blob(b, 1.0, 2.0, 4326, 0);
    set_place_geom(path, id[3], b, n - 5); /* truncated */
    n = point_blob(b, 1.0, 95.0, 4326, 0);
    set_place_geom(path, id[4], b, n); /* latitude out of range */

    s = open_store("blobs.bt", BT_OPEN_READONLY);
    bt_place *got = NULL;
    assert_int_equal(bt_place_get(s, id[0], &got), BT_OK);
    assert_true(got->where.lon == 124.5 && got->where.lat == 40.25);
    bt_place_free(got);
    assert_int_equal(bt_place_get(s, id[1], &got), BT_OK);
    assert_true(got->where.lon == -179.75 && got->where.lat == -12.5);
    bt_place_free(got);
    for (int i = 2; i < 5; i++) {
        got = NULL;
        assert_int_equal(bt_place_get(s, id[i], &got), BT_ERR_INTERNAL);
        assert_null(got);
        char want[64];
        snprintf(want, sizeof want, "place %lld: stored geometry is not usable", (long long)id[i]);
        assert_non_null(strstr(bt_store_errmsg(s), want));
    }
    assert_non_null(strstr(bt_store_errmsg(s), "out of range"));
    bt_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incident_roundtrip),
        cmocka_unit_test(test_incident_errors),
        cmocka_unit_test(test_segment_roundtrip),
        cmocka_unit_test(test_installation_roundtrip),
        cmocka_unit_test(test_source_roundtrip),
        cmocka_unit_test(test_links),
        cmocka_unit_test(test_place_roundtrip),
        cmocka_unit_test(test_sql_text_stored_verbatim),
        cmocka_unit_test(test_foreign_geometry_blobs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
