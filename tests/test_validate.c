/**
 * @file test_validate.c
 * @brief Tests of record validation (lib/model/validate.c): each rule once, with the
 * exact message for a few.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "core/internal.h"

/* 2020-07-01T00:00:00Z and 2020-07-29T00:00:00Z (calendar.timegm). */
#define T_2020_07 INT64_C(1593561600)
#define T_2020_07_29 INT64_C(1595980800)

static const bt_lonlat line2[2] = {{128.17, 41.40}, {128.20, 41.41}};
static const bt_lonlat line3[3] = {{128.17, 41.40}, {128.20, 41.41}, {128.25, 41.43}};

static int setup(void **state)
{
    bt_store *s = calloc(1, sizeof *s);
    *state = s;
    return s ? 0 : -1;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

#define EXPECT_INVALID(call)                                                     \
    do {                                                                         \
        int rc_ = (call);                                                        \
        if (rc_ != BT_ERR_INVALID)                                               \
            fail_msg("line %d: %s gave %d, expected BT_ERR_INVALID", __LINE__,   \
                     #call, rc_);                                                \
        assert_true(strlen(bt_store_errmsg(s)) > 0);                             \
    } while (0)

#define EXPECT_OK(call)                                                          \
    do {                                                                         \
        int rc_ = (call);                                                        \
        if (rc_ != BT_OK)                                                        \
            fail_msg("line %d: %s gave %d (%s)", __LINE__, #call, rc_,           \
                     bt_store_errmsg(s));                                        \
    } while (0)

static void test_lonlat(void **state)
{
    bt_store *s = *state;
    EXPECT_OK(bt__validate_lonlat(s, "centre", (bt_lonlat){180, -90}));
    EXPECT_OK(bt__validate_lonlat(s, "centre", (bt_lonlat){-180, 90}));
    EXPECT_INVALID(bt__validate_lonlat(s, "centre", (bt_lonlat){180.0000001, 0}));
    assert_string_equal(bt_store_errmsg(s),
                        "centre: field 'lon' is 180.0000001; expected -180..180");
    EXPECT_INVALID(bt__validate_lonlat(s, "centre", (bt_lonlat){0, -90.5}));
    assert_string_equal(bt_store_errmsg(s), "centre: field 'lat' is -90.5; expected -90..90");
    EXPECT_INVALID(bt__validate_lonlat(s, "centre", (bt_lonlat){NAN, 0}));
    EXPECT_INVALID(bt__validate_lonlat(s, "centre", (bt_lonlat){0, INFINITY}));
    EXPECT_INVALID(bt__validate_lonlat(s, "centre", (bt_lonlat){-INFINITY, 0}));
}

static bt_segment good_segment(void)
{
    return (bt_segment){.border = "PRK-CHN", .name = "S1", .seq = 0,
                        .kind = BT_SEGMENT_RIVER, .river = "Yalu", .points = line2,
                        .npoints = 2};
}

static void test_segment(void **state)
{
    bt_store *s = *state;
    bt_segment g = good_segment(), b;
    EXPECT_OK(bt__validate_segment(s, &g));
    g.river = NULL;
    EXPECT_OK(bt__validate_segment(s, &g));

    b = good_segment();
    b.npoints = 1;
    EXPECT_INVALID(bt__validate_segment(s, &b));
    assert_string_equal(bt_store_errmsg(s),
                        "segment 'S1': field 'npoints' is 1; a line needs at least 2 points");
    b = good_segment();
    b.npoints = 0;
    EXPECT_INVALID(bt__validate_segment(s, &b));
    b = good_segment();
    b.points = NULL;
    EXPECT_INVALID(bt__validate_segment(s, &b));
    b = good_segment();
    b.border = "";
    EXPECT_INVALID(bt__validate_segment(s, &b));
    assert_string_equal(bt_store_errmsg(s),
                        "segment 'S1': field 'border' is empty; a non-empty text is required");
    b = good_segment();
    b.border = NULL;
    EXPECT_INVALID(bt__validate_segment(s, &b));
    b = good_segment();
    b.name = NULL;
    b.id = 12;
    EXPECT_INVALID(bt__validate_segment(s, &b));
    assert_string_equal(bt_store_errmsg(s),
                        "segment 12: field 'name' is NULL; a non-empty text is required");
    b = good_segment();
    b.kind = (bt_segment_kind)4;
    EXPECT_INVALID(bt__validate_segment(s, &b));
    assert_string_equal(bt_store_errmsg(s), "segment 'S1': field 'kind' is 4; expected 0..3");
    b = good_segment();
    b.kind = (bt_segment_kind)-1;
    EXPECT_INVALID(bt__validate_segment(s, &b));
    b = good_segment();
    b.seq = -1;
    EXPECT_INVALID(bt__validate_segment(s, &b));
    bt_lonlat bad[3] = {{128, 41}, {128.1, 41}, {128.2, 91}};
    b = good_segment();
    b.points = bad;
    b.npoints = 3;
    EXPECT_INVALID(bt__validate_segment(s, &b));
    assert_string_equal(bt_store_errmsg(s),
                        "segment 'S1': field 'points[2].lat' is 91; expected -90..90");
}

static bt_installation good_fence(void)
{
    bt_installation i;
    bt_installation_init(&i);
    i.ref = "F-1";
    i.points = line3;
    i.npoints = 3;
    return i;
}

static void test_installation(void **state)
{
    bt_store *s = *state;
    bt_installation g = good_fence(), b;
    EXPECT_OK(bt__validate_installation(s, &g)); /* defaults + geometry are valid */
    g.ref = NULL;
    g.height_m = 2.5;
    g.credibility = 6;
    g.source_id = 3;
    g.start = (bt_date){T_2020_07, BT_TIME_MONTH};
    g.end = (bt_date){T_2020_07_29, BT_TIME_DAY};
    EXPECT_OK(bt__validate_installation(s, &g));
    /* an end at a coarser precision that still covers the start is fine:
     * start 2020-07-29, end "2020-07" (which lasts until the 31st) */
    g.start = (bt_date){T_2020_07_29, BT_TIME_DAY};
    g.end = (bt_date){T_2020_07, BT_TIME_MONTH};
    EXPECT_OK(bt__validate_installation(s, &g));
    g.height_m = 0.0;
    EXPECT_OK(bt__validate_installation(s, &g));

    b = good_fence();
    b.start = (bt_date){T_2020_07_29, BT_TIME_DAY};
    b.end = (bt_date){T_2020_07 - 86400, BT_TIME_DAY}; /* 2020-06-30 */
    EXPECT_INVALID(bt__validate_installation(s, &b));
    assert_string_equal(bt_store_errmsg(s), "installation 'F-1': field 'end' is 2020-06-30; "
                                            "expected not before start 2020-07-29");
    b = good_fence();
    b.start = (bt_date){T_2020_07_29, BT_TIME_MONTH}; /* not the first second of July */
    EXPECT_INVALID(bt__validate_installation(s, &b));
    b = good_fence();
    b.end = (bt_date){0, (bt_time_precision)9};
    EXPECT_INVALID(bt__validate_installation(s, &b));
    b = good_fence();
    b.end = (bt_date){INT64_MAX, BT_TIME_DAY};
    EXPECT_INVALID(bt__validate_installation(s, &b));

    b = good_fence();
    b.height_m = -0.5;
    EXPECT_INVALID(bt__validate_installation(s, &b));
    assert_string_equal(bt_store_errmsg(s), "installation 'F-1': field 'height_m' is -0.5; "
                                            "expected >= 0, or NaN if unknown");
    b.height_m = INFINITY;
    EXPECT_INVALID(bt__validate_installation(s, &b));

    b = good_fence();
    b.npoints = 1;
    EXPECT_INVALID(bt__validate_installation(s, &b));
    assert_string_equal(bt_store_errmsg(s), "installation 'F-1': field 'npoints' is 1; a "
                                            "fence is a line of at least 2 points");
    b.kind = BT_INSTALL_WALL;
    EXPECT_INVALID(bt__validate_installation(s, &b));
    b = good_fence();
    b.npoints = 0;
    EXPECT_INVALID(bt__validate_installation(s, &b));
    b.kind = BT_INSTALL_OTHER;
    EXPECT_INVALID(bt__validate_installation(s, &b));
    b.npoints = 1; /* "other" may be a point or a line */
    EXPECT_OK(bt__validate_installation(s, &b));
    b.npoints = 3;
    EXPECT_OK(bt__validate_installation(s, &b));

    const bt_install_kind points_only[] = {BT_INSTALL_GUARD_POST, BT_INSTALL_WATCHTOWER,
                                           BT_INSTALL_GATE, BT_INSTALL_CAMERA};
    for (size_t k = 0; k < 4; k++) {
        b = good_fence();
        b.ref = "GP-1";
        b.kind = points_only[k];
        b.npoints = 1;
        EXPECT_OK(bt__validate_installation(s, &b));
        b.npoints = 2;
        EXPECT_INVALID(bt__validate_installation(s, &b));
    }
    assert_string_equal(bt_store_errmsg(s), "installation 'GP-1': field 'npoints' is 2; a "
                                            "camera is a single point");

    b = good_fence();
    b.ref = "";
    EXPECT_INVALID(bt__validate_installation(s, &b));
    b = good_fence();
    b.credibility = 7;
    EXPECT_INVALID(bt__validate_installation(s, &b));
    b.credibility = -1;
    EXPECT_INVALID(bt__validate_installation(s, &b));
    b = good_fence();
    b.source_id = -2;
    EXPECT_INVALID(bt__validate_installation(s, &b));
    b = good_fence();
    bt_lonlat far[2] = {{128, 41}, {-181, 41}};
    b.points = far;
    b.npoints = 2;
    EXPECT_INVALID(bt__validate_installation(s, &b));
    assert_string_equal(bt_store_errmsg(s), "installation 'F-1': field 'points[1].lon' is "
                                            "-181; expected -180..180");

    /* every enum field, out of range on both sides */
    for (int f = 0; f < 9; f++) {
        for (int side = 0; side < 2; side++) {
            int v = side ? 100 : -1;
            b = good_fence();
            switch (f) {
            case 0: b.kind = (bt_install_kind)v; break;
            case 1: b.layer = (bt_fence_layer)v; break;
            case 2: b.material = (bt_material)v; break;
            case 3: b.barbed = (bt_yesno)v; break;
            case 4: b.electrified = (bt_yesno)v; break;
            case 5: b.quality = (bt_quality)v; break;
            case 6: b.permanence = (bt_permanence)v; break;
            case 7: b.status = (bt_install_status)v; break;
            default: b.observed_by = (bt_observation)v; break;
            }
            EXPECT_INVALID(bt__validate_installation(s, &b));
        }
    }
    b = good_fence();
    b.material = (bt_material)9;
    EXPECT_INVALID(bt__validate_installation(s, &b));
    assert_string_equal(bt_store_errmsg(s),
                        "installation 'F-1': field 'material' is 9; expected 0..8");
}

static bt_incident good_incident(void)
{
    bt_incident i;
    bt_incident_init(&i);
    i.ref = "X-17";
    i.type = BT_INCIDENT_RIVER_CROSSING;
    i.where = (bt_lonlat){128.17778, 41.40167};
    i.start = T_2020_07_29;
    i.end = T_2020_07_29 + 86399;
    return i;
}

static void test_incident(void **state)
{
    bt_store *s = *state;
    bt_incident g = good_incident(), b;
    EXPECT_OK(bt__validate_incident(s, &g));
    g.end = BT_TIME_OPEN;
    EXPECT_OK(bt__validate_incident(s, &g));
    g.end = g.start;
    g.reported = (bt_date){T_2020_07, BT_TIME_MONTH};
    g.summary = "";
    EXPECT_OK(bt__validate_incident(s, &g));

    b = good_incident();
    b.where.lat = 91;
    EXPECT_INVALID(bt__validate_incident(s, &b));
    assert_string_equal(bt_store_errmsg(s), "incident 'X-17': field 'lat' is 91; expected -90..90");
    b = good_incident();
    b.where.lon = NAN;
    EXPECT_INVALID(bt__validate_incident(s, &b));
    assert_string_equal(bt_store_errmsg(s),
                        "incident 'X-17': field 'lon' is nan; expected -180..180");
    b = good_incident();
    b.ref = NULL;
    EXPECT_INVALID(bt__validate_incident(s, &b));
    assert_string_equal(bt_store_errmsg(s),
                        "incident: field 'ref' is NULL; a non-empty text is required");
    b.ref = "";
    b.id = 5;
    EXPECT_INVALID(bt__validate_incident(s, &b));
    assert_string_equal(bt_store_errmsg(s),
                        "incident 5: field 'ref' is empty; a non-empty text is required");
    b = good_incident();
    b.uncertainty_m = -1;
    EXPECT_INVALID(bt__validate_incident(s, &b));
    b.uncertainty_m = NAN;
    EXPECT_INVALID(bt__validate_incident(s, &b));
    b.uncertainty_m = INFINITY;
    EXPECT_INVALID(bt__validate_incident(s, &b));
    b = good_incident();
    b.time_precision = BT_TIME_NONE;
    EXPECT_INVALID(bt__validate_incident(s, &b));
    assert_string_equal(bt_store_errmsg(s), "incident 'X-17': field 'time_precision' is none; "
                                            "expected year, month, day or second");
    b.time_precision = (bt_time_precision)5;
    EXPECT_INVALID(bt__validate_incident(s, &b));
    b = good_incident();
    b.end = b.start - 1;
    EXPECT_INVALID(bt__validate_incident(s, &b));
    assert_string_equal(bt_store_errmsg(s), "incident 'X-17': field 'end' is "
                                            "2020-07-28T23:59:59Z; expected not before start "
                                            "2020-07-29T00:00:00Z");
    b = good_incident();
    b.start = INT64_MIN;
    EXPECT_INVALID(bt__validate_incident(s, &b));
    b = good_incident();
    b.end = INT64_MAX - 1;
    EXPECT_INVALID(bt__validate_incident(s, &b));
    b = good_incident();
    b.reported = (bt_date){T_2020_07 + 5, BT_TIME_MONTH};
    EXPECT_INVALID(bt__validate_incident(s, &b));
    b = good_incident();
    b.type = (bt_incident_type)BT_INCIDENT_TYPE_COUNT;
    EXPECT_INVALID(bt__validate_incident(s, &b));
    assert_string_equal(bt_store_errmsg(s), "incident 'X-17': field 'type' is 12; expected 0..11");
    b = good_incident();
    b.loc_precision = (bt_loc_precision)5;
    EXPECT_INVALID(bt__validate_incident(s, &b));
    b = good_incident();
    b.verification = (bt_verification)-3;
    EXPECT_INVALID(bt__validate_incident(s, &b));
}

static void test_source(void **state)
{
    bt_store *s = *state;
    bt_source g = {.name = "a source in Yanggang Province", .type = BT_SOURCE_HUMAN,
                   .reliability = 'C'};
    EXPECT_OK(bt__validate_source(s, &g));
    g.reliability = 'A';
    EXPECT_OK(bt__validate_source(s, &g));
    g.reliability = 'F';
    EXPECT_OK(bt__validate_source(s, &g));
    bt_source b = g;
    b.reliability = 'a';
    b.id = 3;
    EXPECT_INVALID(bt__validate_source(s, &b));
    assert_string_equal(bt_store_errmsg(s), "source 3: field 'reliability' is 'a'; expected 'A'..'F'");
    /* the message never repeats the source's name: it may identify a person */
    assert_null(strstr(bt_store_errmsg(s), "Yanggang"));
    b.reliability = 'G';
    EXPECT_INVALID(bt__validate_source(s, &b));
    b.reliability = '\0';
    EXPECT_INVALID(bt__validate_source(s, &b));
    assert_string_equal(bt_store_errmsg(s), "source 3: field 'reliability' is byte 0; expected 'A'..'F'");
    b = g;
    b.name = "";
    EXPECT_INVALID(bt__validate_source(s, &b));
    assert_string_equal(bt_store_errmsg(s),
                        "source: field 'name' is empty; a non-empty text is required");
    b.name = NULL;
    EXPECT_INVALID(bt__validate_source(s, &b));
    b = g;
    b.type = (bt_source_type)8;
    EXPECT_INVALID(bt__validate_source(s, &b));
}

static void test_link(void **state)
{
    bt_store *s = *state;
    bt_report_link g = {.incident_id = 1, .source_id = 2, .credibility = 1};
    EXPECT_OK(bt__validate_link(s, &g));
    g.credibility = 6;
    g.reported = (bt_date){T_2020_07_29, BT_TIME_DAY};
    EXPECT_OK(bt__validate_link(s, &g));
    bt_report_link b = g;
    b.credibility = 7;
    EXPECT_INVALID(bt__validate_link(s, &b));
    assert_string_equal(bt_store_errmsg(s),
                        "link incident 1 / source 2: field 'credibility' is 7; expected 1..6");
    b.credibility = 0;
    EXPECT_INVALID(bt__validate_link(s, &b));
    b = g;
    b.incident_id = 0;
    EXPECT_INVALID(bt__validate_link(s, &b));
    b = g;
    b.source_id = -1;
    EXPECT_INVALID(bt__validate_link(s, &b));
    b = g;
    b.reported.precision = (bt_time_precision)7;
    EXPECT_INVALID(bt__validate_link(s, &b));
}

static void test_place(void **state)
{
    bt_store *s = *state;
    bt_place g = {.name = "Hyesan", .country = "KP", .admin1 = "KP-10",
                  .where = {128.17778, 41.40167}};
    EXPECT_OK(bt__validate_place(s, &g));
    g.admin1 = NULL;
    EXPECT_OK(bt__validate_place(s, &g));
    bt_place b = g;
    b.country = "kp";
    EXPECT_INVALID(bt__validate_place(s, &b));
    assert_string_equal(bt_store_errmsg(s), "place 'Hyesan': field 'country' is 'kp'; expected "
                                            "two upper-case letters (ISO 3166-1 alpha-2)");
    const char *bad_countries[] = {"K", "KPR", "", "K1", "\xc3\x84X"};
    for (size_t i = 0; i < sizeof bad_countries / sizeof bad_countries[0]; i++) {
        b.country = bad_countries[i];
        EXPECT_INVALID(bt__validate_place(s, &b));
    }
    b.country = NULL;
    EXPECT_INVALID(bt__validate_place(s, &b));
    b = g;
    b.name = "";
    EXPECT_INVALID(bt__validate_place(s, &b));
    b = g;
    b.where.lon = 200;
    EXPECT_INVALID(bt__validate_place(s, &b));
    assert_string_equal(bt_store_errmsg(s),
                        "place 'Hyesan': field 'lon' is 200; expected -180..180");
}

/* Text must be strict UTF-8: truncated sequences, overlong forms, surrogates and bytes
 * that never occur in UTF-8 are refused, naming the field and the offset of the first
 * bad byte; a name that is not UTF-8 is not echoed in the message. */
static void test_utf8(void **state)
{
    bt_store *s = *state;
    bt_incident g = good_incident();
    g.summary = "Sin\xc5\xadiju, \xe6\x83\xa0\xe5\xb1\xb1 \xf0\x9f\x8c\x8a"; /* ŭ, 惠山, U+1F30A */
    EXPECT_OK(bt__validate_incident(s, &g));

    g.summary = "caf\xc3";                 /* truncated 2-byte sequence */
    EXPECT_INVALID(bt__validate_incident(s, &g));
    assert_string_equal(bt_store_errmsg(s),
                        "incident 'X-17': field 'summary' is not valid UTF-8 (byte 3)");
    g.summary = "ab\xc0\xaf";              /* overlong '/' */
    EXPECT_INVALID(bt__validate_incident(s, &g));
    assert_string_equal(bt_store_errmsg(s),
                        "incident 'X-17': field 'summary' is not valid UTF-8 (byte 2)");
    g.summary = "\xed\xa0\x80";            /* UTF-16 surrogate U+D800 */
    EXPECT_INVALID(bt__validate_incident(s, &g));
    g.summary = "\xf4\x90\x80\x80";        /* above U+10FFFF */
    EXPECT_INVALID(bt__validate_incident(s, &g));
    g.summary = "x\xff";
    EXPECT_INVALID(bt__validate_incident(s, &g));

    g = good_incident();
    g.ref = "R\xfe";
    EXPECT_INVALID(bt__validate_incident(s, &g));
    assert_string_equal(bt_store_errmsg(s),
                        "incident: field 'ref' is not valid UTF-8 (byte 1)");

    bt_source src = {.name = "bad \xed\xa0\x80 surrogate", .type = BT_SOURCE_HUMAN,
                     .reliability = 'C'};
    EXPECT_INVALID(bt__validate_source(s, &src));
    assert_string_equal(bt_store_errmsg(s),
                        "source: field 'name' is not valid UTF-8 (byte 4)");
    src.name = "ok";
    src.notes = "\x80";
    EXPECT_INVALID(bt__validate_source(s, &src));

    bt_segment seg = good_segment();
    seg.river = "Amnok\xc2";
    EXPECT_INVALID(bt__validate_segment(s, &seg));
    assert_string_equal(bt_store_errmsg(s),
                        "segment 'S1': field 'river' is not valid UTF-8 (byte 5)");

    bt_place pl = {.name = "Hyesan", .country = "KP", .admin1 = "\xc3\x28",
                   .where = {128.17778, 41.40167}};
    EXPECT_INVALID(bt__validate_place(s, &pl));
    assert_string_equal(bt_store_errmsg(s),
                        "place 'Hyesan': field 'admin1' is not valid UTF-8 (byte 0)");
}

static void test_success_leaves_message_alone(void **state)
{
    /* validation only writes the message on failure; clearing is the caller's job */
    bt_store *s = *state;
    bt__clear_error(s);
    bt_place g = {.name = "Sin\xc5\xadiju", .country = "KP", .where = {124.4, 40.1}};
    EXPECT_OK(bt__validate_place(s, &g));
    assert_string_equal(bt_store_errmsg(s), "");
    /* a NULL store is allowed (bt_geod_distance validates without one) */
    assert_int_equal(bt__validate_lonlat(NULL, "a", (bt_lonlat){0, 100}), BT_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lonlat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_installation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incident, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link, setup, teardown),
        cmocka_unit_test_setup_teardown(test_place, setup, teardown),
        cmocka_unit_test_setup_teardown(test_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_success_leaves_message_alone, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
