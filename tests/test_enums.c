/**
 * @file test_enums.c
 * @brief Tests of the stable I/O names of enumerations (lib/model/enums.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bordertrack.h"

/* How many values each enumeration has, counted from the header by hand. */
static const struct {
    bt_enum which;
    int count;
} enum_sizes[] = {
    {BT_ENUM_TIME_PRECISION, 5}, {BT_ENUM_LOC_PRECISION, 5}, {BT_ENUM_YESNO, 3},
    {BT_ENUM_SEGMENT_KIND, 4},   {BT_ENUM_INSTALL_KIND, 7},  {BT_ENUM_FENCE_LAYER, 4},
    {BT_ENUM_MATERIAL, 9},       {BT_ENUM_QUALITY, 4},       {BT_ENUM_PERMANENCE, 3},
    {BT_ENUM_INSTALL_STATUS, 6}, {BT_ENUM_OBSERVATION, 6},   {BT_ENUM_INCIDENT_TYPE, 12},
    {BT_ENUM_VERIFICATION, 6},   {BT_ENUM_SOURCE_TYPE, 8},
    {BT_ENUM_INTERVENTION_KIND, 5},
};
#define N_ENUMS (sizeof enum_sizes / sizeof enum_sizes[0])

static void test_every_value_round_trips(void **state)
{
    (void)state;
    assert_int_equal(N_ENUMS, BT_ENUM_INTERVENTION_KIND + 1);
    for (size_t e = 0; e < N_ENUMS; e++) {
        const bt_enum w = enum_sizes[e].which;
        for (int v = 0; v < enum_sizes[e].count; v++) {
            const char *name = bt_enum_name(w, v);
            assert_non_null(name);
            /* names are lower-case snake_case */
            for (const char *p = name; *p; p++)
                assert_true((*p >= 'a' && *p <= 'z') || *p == '_');
            int back = -1;
            assert_int_equal(bt_enum_parse(w, name, &back), BT_OK);
            assert_int_equal(back, v);
            /* distinct within the enumeration */
            for (int u = 0; u < v; u++)
                assert_string_not_equal(name, bt_enum_name(w, u));
        }
        assert_null(bt_enum_name(w, enum_sizes[e].count));
        assert_null(bt_enum_name(w, -1));
    }
    assert_int_equal(enum_sizes[11].count, BT_INCIDENT_TYPE_COUNT);
}

static void test_exact_names(void **state)
{
    (void)state;
    assert_string_equal(bt_enum_name(BT_ENUM_INCIDENT_TYPE, BT_INCIDENT_RIVER_CROSSING),
                        "river_crossing");
    assert_string_equal(bt_enum_name(BT_ENUM_INCIDENT_TYPE, BT_INCIDENT_GUARD_POST_WORK),
                        "guard_post_work");
    assert_string_equal(bt_enum_name(BT_ENUM_MATERIAL, BT_MATERIAL_THIN_STEEL_WIRE),
                        "thin_steel_wire");
    assert_string_equal(bt_enum_name(BT_ENUM_MATERIAL, BT_MATERIAL_STRING_WIRE), "string_wire");
    assert_string_equal(bt_enum_name(BT_ENUM_MATERIAL, BT_MATERIAL_REEDS_WOOD), "reeds_wood");
    assert_string_equal(bt_enum_name(BT_ENUM_INSTALL_STATUS, BT_STATUS_UNDER_CONSTRUCTION),
                        "under_construction");
    assert_string_equal(bt_enum_name(BT_ENUM_LOC_PRECISION, BT_LOC_NEAR_PLACE), "near_place");
    assert_string_equal(bt_enum_name(BT_ENUM_LOC_PRECISION, BT_LOC_BORDER_SEGMENT),
                        "border_segment");
    assert_string_equal(bt_enum_name(BT_ENUM_TIME_PRECISION, BT_TIME_SECOND), "second");
    assert_string_equal(bt_enum_name(BT_ENUM_TIME_PRECISION, BT_TIME_NONE), "none");
    assert_string_equal(bt_enum_name(BT_ENUM_YESNO, BT_UNKNOWN), "unknown");
    assert_string_equal(bt_enum_name(BT_ENUM_YESNO, BT_NO), "no");
    assert_string_equal(bt_enum_name(BT_ENUM_YESNO, BT_YES), "yes");
    assert_string_equal(bt_enum_name(BT_ENUM_OBSERVATION, BT_OBSERVED_GROUND_PHOTO),
                        "ground_photo");
    assert_string_equal(bt_enum_name(BT_ENUM_VERIFICATION, BT_VERIF_SINGLE_SOURCE),
                        "single_source");
    assert_string_equal(bt_enum_name(BT_ENUM_SOURCE_TYPE, BT_SOURCE_IMAGERY), "imagery");
    assert_string_equal(bt_enum_name(BT_ENUM_SOURCE_TYPE, BT_SOURCE_NGO), "ngo");
    assert_string_equal(bt_enum_name(BT_ENUM_FENCE_LAYER, BT_LAYER_PRIMARY), "primary");
    assert_string_equal(bt_enum_name(BT_ENUM_SEGMENT_KIND, BT_SEGMENT_RIVER), "river");
    assert_string_equal(bt_enum_name(BT_ENUM_INSTALL_KIND, BT_INSTALL_GUARD_POST),
                        "guard_post");
    assert_string_equal(bt_enum_name(BT_ENUM_QUALITY, BT_QUALITY_POOR), "poor");
    assert_string_equal(bt_enum_name(BT_ENUM_PERMANENCE, BT_PERMANENCE_TEMPORARY), "temporary");
}

static void test_parse_variants(void **state)
{
    (void)state;
    int v = -1;
    assert_int_equal(bt_enum_parse(BT_ENUM_INCIDENT_TYPE, "River_Crossing", &v), BT_OK);
    assert_int_equal(v, BT_INCIDENT_RIVER_CROSSING);
    v = -1;
    assert_int_equal(bt_enum_parse(BT_ENUM_INCIDENT_TYPE, "river-crossing", &v), BT_OK);
    assert_int_equal(v, BT_INCIDENT_RIVER_CROSSING);
    v = -1;
    assert_int_equal(bt_enum_parse(BT_ENUM_INCIDENT_TYPE, "RIVER CROSSING", &v), BT_OK);
    assert_int_equal(v, BT_INCIDENT_RIVER_CROSSING);
    v = -1;
    assert_int_equal(bt_enum_parse(BT_ENUM_MATERIAL, "Thin-Steel Wire", &v), BT_OK);
    assert_int_equal(v, BT_MATERIAL_THIN_STEEL_WIRE);
    /* a NULL value pointer is allowed: it only checks */
    assert_int_equal(bt_enum_parse(BT_ENUM_YESNO, "YES", NULL), BT_OK);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    int v = 77;
    const char *bad[] = {"", "river", "river_crossing_", "river_crossin", " river_crossing",
                         "river__crossing", "riverxcrossing", "river\tcrossing", "1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(bt_enum_parse(BT_ENUM_INCIDENT_TYPE, bad[i], &v), BT_ERR_INVALID);
    /* a name of another enumeration is not a name of this one */
    assert_int_equal(bt_enum_parse(BT_ENUM_MATERIAL, "guard_post", &v), BT_ERR_INVALID);
    assert_int_equal(bt_enum_parse(BT_ENUM_INCIDENT_TYPE, NULL, &v), BT_ERR_INVALID);
    /* "ı" (dotless i, UTF-8) must not fold to "i": folding is ASCII only */
    assert_int_equal(bt_enum_parse(BT_ENUM_INCIDENT_TYPE, "shoot\xc4\xb1ng", &v),
                     BT_ERR_INVALID);
    assert_int_equal(v, 77); /* untouched on failure */
    /* unknown enumerations */
    assert_int_equal(bt_enum_parse((bt_enum)99, "yes", &v), BT_ERR_INVALID);
    assert_int_equal(bt_enum_parse((bt_enum)-1, "yes", &v), BT_ERR_INVALID);
    assert_null(bt_enum_name((bt_enum)99, 0));
    assert_null(bt_enum_name((bt_enum)-1, 0));
    assert_int_equal(v, 77);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_value_round_trips),
        cmocka_unit_test(test_exact_names),
        cmocka_unit_test(test_parse_variants),
        cmocka_unit_test(test_parse_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
