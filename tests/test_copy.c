/**
 * @file test_copy.c
 * @brief Tests of the one-block deep copies and record defaults (lib/model/copy.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdalign.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "core/internal.h"

/* true if p lies inside [block, block + size) */
static int inside(const void *block, size_t size, const void *p)
{
    const char *b = block, *q = p;
    return q >= b && q < b + size;
}

static void test_segment_dup(void **state)
{
    (void)state;
    bt_lonlat pts[3] = {{128.1, 41.4}, {128.2, 41.5}, {128.3, 41.6}};
    char border[] = "PRK-CHN", name[] = "S7", river[] = "Amnok";
    bt_segment seg = {.id = 7, .border = border, .name = name, .seq = 3,
                      .kind = BT_SEGMENT_RIVER, .river = river, .points = pts, .npoints = 3};
    bt_segment *c = bt__segment_dup(&seg);
    assert_non_null(c);
    /* the copy does not share storage with the original */
    pts[0].lon = 0;
    memset(border, 'x', 7);
    assert_int_equal(c->id, 7);
    assert_int_equal(c->seq, 3);
    assert_int_equal(c->kind, BT_SEGMENT_RIVER);
    assert_string_equal(c->border, "PRK-CHN");
    assert_string_equal(c->name, "S7");
    assert_string_equal(c->river, "Amnok");
    assert_int_equal(c->npoints, 3);
    assert_true(c->points[0].lon == 128.1 && c->points[2].lat == 41.6);
    assert_int_equal((uintptr_t)c->points % alignof(double), 0);
    /* everything in one block right after the struct */
    const size_t size = sizeof *c + 3 * sizeof(bt_lonlat) + 8 + 3 + 6 + alignof(double);
    assert_true(inside(c, size, c->points));
    assert_true(inside(c, size, c->border));
    assert_true(inside(c, size, c->river));
    bt_segment_free(c);

    /* NULL stays NULL */
    seg.river = NULL;
    seg.points = NULL;
    seg.npoints = 0;
    c = bt__segment_dup(&seg);
    assert_non_null(c);
    assert_null(c->river);
    assert_null(c->points);
    assert_int_equal(c->npoints, 0);
    bt_segment_free(c);
    bt_segment_free(NULL);
}

static void test_installation_dup(void **state)
{
    (void)state;
    bt_lonlat pt = {128.17778, 41.40167};
    bt_installation in;
    bt_installation_init(&in);
    in.ref = "GP-3";
    in.kind = BT_INSTALL_GUARD_POST;
    in.condition = "sways in the wind";
    in.points = &pt;
    in.npoints = 1;
    in.height_m = 4.5;
    in.start = (bt_date){1593561600, BT_TIME_MONTH};
    bt_installation *c = bt__installation_dup(&in);
    assert_non_null(c);
    assert_string_equal(c->ref, "GP-3");
    assert_null(c->post_material);
    assert_string_equal(c->condition, "sways in the wind");
    assert_true(c->points != &pt && c->points[0].lat == 41.40167);
    assert_int_equal((uintptr_t)c->points % alignof(double), 0);
    assert_true(c->height_m == 4.5);
    assert_int_equal(c->start.t, 1593561600);
    assert_int_equal(c->start.precision, BT_TIME_MONTH);
    bt_installation_free(c);
    bt_installation_free(NULL);
}

static void test_incident_source_place_dup(void **state)
{
    (void)state;
    bt_incident inc;
    bt_incident_init(&inc);
    inc.ref = "X-17";
    inc.summary = NULL;
    inc.where = (bt_lonlat){128.1, 41.4};
    bt_incident *ci = bt__incident_dup(&inc);
    assert_non_null(ci);
    assert_string_equal(ci->ref, "X-17");
    assert_null(ci->summary);
    assert_true(ci->where.lon == 128.1);
    bt_incident_free(ci);
    bt_incident_free(NULL);

    bt_source src = {.id = 2, .name = "video footage", .type = BT_SOURCE_VIDEO,
                     .reliability = 'B', .notes = "restricted"};
    bt_source *cs = bt__source_dup(&src);
    assert_non_null(cs);
    assert_string_equal(cs->name, "video footage");
    assert_string_equal(cs->notes, "restricted");
    assert_int_equal(cs->reliability, 'B');
    assert_true(inside(cs, sizeof *cs + 25, cs->notes));
    bt_source_free(cs);
    bt_source_free(NULL);

    bt_place pl = {.id = 1, .name = "Sin\xc5\xadiju", .country = "KP", .admin1 = NULL,
                   .where = {124.4, 40.1}};
    bt_place *cp = bt__place_dup(&pl);
    assert_non_null(cp);
    assert_string_equal(cp->name, "Sin\xc5\xadiju");
    assert_string_equal(cp->country, "KP");
    assert_null(cp->admin1);
    bt_place_free(cp);
    bt_place_free(NULL);
}

static void test_defaults(void **state)
{
    (void)state;
    bt_installation in;
    memset(&in, 0xab, sizeof in);
    bt_installation_init(&in);
    assert_int_equal(in.id, 0);
    assert_null(in.ref);
    assert_int_equal(in.kind, BT_INSTALL_FENCE);
    assert_int_equal(in.layer, BT_LAYER_UNKNOWN);
    assert_int_equal(in.material, BT_MATERIAL_UNKNOWN);
    assert_int_equal(in.barbed, BT_UNKNOWN);
    assert_int_equal(in.electrified, BT_UNKNOWN);
    assert_true(isnan(in.height_m));
    assert_null(in.post_material);
    assert_int_equal(in.quality, BT_QUALITY_UNKNOWN);
    assert_int_equal(in.permanence, BT_PERMANENCE_UNKNOWN);
    assert_int_equal(in.status, BT_STATUS_COMPLETE);
    assert_int_equal(in.start.precision, BT_TIME_NONE);
    assert_int_equal(in.end.precision, BT_TIME_NONE);
    assert_null(in.condition);
    assert_int_equal(in.observed_by, BT_OBSERVED_UNKNOWN);
    assert_int_equal(in.source_id, 0);
    assert_int_equal(in.credibility, 0);
    assert_null(in.points);
    assert_int_equal(in.npoints, 0);

    bt_incident inc;
    memset(&inc, 0xab, sizeof inc);
    bt_incident_init(&inc);
    assert_int_equal(inc.id, 0);
    assert_null(inc.ref);
    assert_int_equal(inc.type, BT_INCIDENT_OTHER);
    assert_int_equal(inc.loc_precision, BT_LOC_EXACT);
    assert_true(inc.uncertainty_m == 0.0);
    assert_int_equal(inc.time_precision, BT_TIME_DAY);
    assert_int_equal(inc.start, 0);
    assert_int_equal(inc.end, 0);
    assert_int_equal(inc.reported.precision, BT_TIME_NONE);
    assert_null(inc.summary);
    assert_int_equal(inc.verification, BT_VERIF_UNVERIFIED);

    bt_installation_init(NULL);
    bt_incident_init(NULL);
}

#ifdef BT_FAULT_INJECTION
static void test_dup_out_of_memory(void **state)
{
    (void)state;
    bt_lonlat pts[2] = {{128.1, 41.4}, {128.2, 41.5}};
    bt_segment seg = {.border = "PRK-CHN", .name = "S1", .points = pts, .npoints = 2};
    bt__alloc_fail_after(1);
    assert_null(bt__segment_dup(&seg));
    bt_place pl = {.name = "Hyesan", .country = "KP"};
    assert_null(bt__place_dup(&pl));
    bt__alloc_fail_after(0);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_segment_dup),
        cmocka_unit_test(test_installation_dup),
        cmocka_unit_test(test_incident_source_place_dup),
        cmocka_unit_test(test_defaults),
#ifdef BT_FAULT_INJECTION
        cmocka_unit_test(test_dup_out_of_memory),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
