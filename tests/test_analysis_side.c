/**
 * @file test_analysis_side.c
 * @brief The side of a border at a point (bt_location::side): every gazetteer place of
 * examples/data/places.csv whose nearest border is PRK-CHN must fall on its own
 * country's side; points near the ends of chain parts (where the side used to follow
 * the extended end edge across a data gap) and hand-built turns and gaps with known
 * answers.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <geodesic.h>
#include <json-c/json.h>
#include <math.h>

#include "analysis/analysis_internal.h"
#include "store_fixture.h"

static struct geod_geodesic G;

struct fx {
    fx_dir dir;
    bt_store *s;
    bt_border *b;
};

/* Loads the PRK-CHN parts of examples/data/borders.geojson as segments (seq = the
 * file order) and opens the border from its default origin (the Yalu mouth). */
static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    *state = f;
    geod_init(&G, 6378137.0, 1.0 / 298.257223563);
    json_object *root = json_object_from_file(BT_EXAMPLES_DATA_DIR "/borders.geojson");
    if (!root) return -1;
    if (fx_dir_make(&f->dir) != 0) return -1;
    char path[512];
    if (bt_store_open(fx_file(&f->dir, "side.sqlite", path, sizeof path),
                      BT_OPEN_READWRITE | BT_OPEN_CREATE, &f->s, NULL) != BT_OK)
        return -1;
    bt_store_begin(f->s);
    json_object *feats = json_object_object_get(root, "features");
    for (size_t k = 0; k < json_object_array_length(feats); k++) {
        json_object *ft = json_object_array_get_idx(feats, k);
        const char *name = json_object_get_string(
            json_object_object_get(json_object_object_get(ft, "properties"), "name"));
        if (strcmp(name, "PRK-CHN") != 0) continue;
        json_object *coords =
            json_object_object_get(json_object_object_get(ft, "geometry"), "coordinates");
        for (size_t i = 0; i < json_object_array_length(coords); i++) {
            json_object *line = json_object_array_get_idx(coords, i);
            size_t nv = json_object_array_length(line);
            bt_lonlat *pts = malloc(nv * sizeof *pts);
            for (size_t v = 0; v < nv; v++) {
                json_object *c = json_object_array_get_idx(line, v);
                pts[v].lon = json_object_get_double(json_object_array_get_idx(c, 0));
                pts[v].lat = json_object_get_double(json_object_array_get_idx(c, 1));
            }
            char segname[32];
            snprintf(segname, sizeof segname, "part-%zu", i);
            bt_segment seg = {0, name, segname, (int)i, BT_SEGMENT_RIVER, NULL, pts, nv};
            int rc = bt_segment_add(f->s, &seg, NULL);
            free(pts);
            if (rc != BT_OK) return -1;
        }
    }
    json_object_put(root);
    if (bt_store_commit(f->s) != BT_OK) return -1;
    return bt_border_open(f->s, "PRK-CHN", NULL, &f->b) == BT_OK ? 0 : -1;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    bt_border_free(f->b);
    if (f->s) {
        bt_store_close(f->s);
        fx_dir_remove(&f->dir);
    }
    free(f);
    return 0;
}

/* Splits one CSV line of places.csv (name may be quoted, no embedded commas in the
 * other fields): fills country, lat, lon, nearest border. */
static int parse_place(char *line, char *name, size_t nname, char *cc, double *lat,
                       double *lon, char *border)
{
    char *f[16];
    size_t nf = 0;
    char *p = line;
    while (nf < 16) {
        if (*p == '"') {
            f[nf++] = ++p;
            p = strchr(p, '"');
            if (!p) return -1;
            *p++ = '\0';
            if (*p == ',') p++;
            else break;
        } else {
            f[nf++] = p;
            char *c = strpbrk(p, ",\r\n");
            if (!c || *c != ',') {
                if (c) *c = '\0';
                break;
            }
            *c = '\0';
            p = c + 1;
        }
    }
    if (nf < 7) return -1;
    snprintf(name, nname, "%s", f[0]);
    snprintf(cc, 3, "%s", f[1]);
    *lat = atof(f[3]);
    *lon = atof(f[4]);
    snprintf(border, 16, "%s", f[5]);
    return 0;
}

/*
 * Every place whose nearest border is PRK-CHN: CN places on the left (China) with the
 * default origin, KP places on the right. The file lists 48 such places (of 80 in
 * all; the others are nearest to PRK-KOR or PRK-RUS): 13 CN, 34 KP and one
 * exception, Kraskino (RU), 24 km beyond the Tumen end of the line, which belongs to
 * neither side of it and is skipped.
 */
static void test_places_side(void **state)
{
    struct fx *f = *state;
    FILE *fp = fopen(BT_EXAMPLES_DATA_DIR "/places.csv", "r");
    assert_non_null(fp);
    char line[512];
    assert_non_null(fgets(line, sizeof line, fp)); /* header */
    size_t ncn = 0, nkp = 0, nother = 0, nwrong = 0;
    while (fgets(line, sizeof line, fp)) {
        char name[128], cc[3], border[16];
        double lat = 0, lon = 0;
        assert_int_equal(parse_place(line, name, sizeof name, cc, &lat, &lon, border), 0);
        if (strcmp(border, "PRK-CHN") != 0) continue;
        bt_location loc;
        assert_int_equal(bt_border_locate(f->s, f->b, (bt_lonlat){lon, lat}, &loc), BT_OK);
        bt_side want;
        if (strcmp(cc, "CN") == 0) {
            want = BT_SIDE_LEFT;
            ncn++;
        } else if (strcmp(cc, "KP") == 0) {
            want = BT_SIDE_RIGHT;
            nkp++;
        } else {
            nother++;
            continue;
        }
        if (loc.side != want) {
            nwrong++;
            print_message("%s (%s) %.5f %.5f: side %d, chainage %.1f, offset %.1f\n", name,
                          cc, lon, lat, (int)loc.side, loc.chainage_m, loc.chain_offset_m);
        }
    }
    fclose(fp);
    assert_int_equal(ncn, 13);
    assert_int_equal(nkp, 34);
    assert_int_equal(nother, 1);
    assert_int_equal(nwrong, 0);
}

/* Points about 1 km inside North Korea south-east of the Yalu near 128.137 E
 * 41.365 N, where a chain part ends and chainage jumps over a data gap, and points
 * near Hyesan and Changbai: their sides are known from the places around them. */
static void test_part_end_points(void **state)
{
    struct fx *f = *state;
    static const struct {
        bt_lonlat p;
        bt_side want;
    } pts[] = {
        {{128.136, 41.365}, BT_SIDE_RIGHT},  {{128.137, 41.365}, BT_SIDE_RIGHT},
        {{128.138, 41.365}, BT_SIDE_RIGHT},  {{128.17778, 41.40167}, BT_SIDE_RIGHT},
        {{128.18727, 41.3953}, BT_SIDE_RIGHT}, {{128.19624, 41.41772}, BT_SIDE_LEFT},
    };
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
        bt_location loc;
        assert_int_equal(bt_border_locate(f->s, f->b, pts[i].p, &loc), BT_OK);
        if (loc.side != pts[i].want)
            print_message("%.5f %.5f: side %d, chainage %.1f\n", pts[i].p.lon, pts[i].p.lat,
                          (int)loc.side, loc.chainage_m);
        assert_int_equal(loc.side, pts[i].want);
    }
}

/* From the Tumen end the sides swap: every place again, now CN on the right. */
static void test_places_side_reversed(void **state)
{
    struct fx *f = *state;
    bt_border *r = NULL;
    bt_lonlat tumen_end = {130.6456, 42.4121};
    assert_int_equal(bt_border_open(f->s, "PRK-CHN", &tumen_end, &r), BT_OK);
    static const struct {
        bt_lonlat p;
        bt_side want;
    } pts[] = {
        {{128.137, 41.365}, BT_SIDE_LEFT},      {{128.17778, 41.40167}, BT_SIDE_LEFT},
        {{128.19624, 41.41772}, BT_SIDE_RIGHT}, {{124.39472, 40.12917}, BT_SIDE_RIGHT},
        {{124.39806, 40.10056}, BT_SIDE_LEFT},
    };
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
        bt_location loc;
        assert_int_equal(bt_border_locate(f->s, r, pts[i].p, &loc), BT_OK);
        assert_int_equal(loc.side, pts[i].want);
    }
    bt_border_free(r);
}

/* ---- hand-built lines ---------------------------------------------------- */

static bt_lonlat along(bt_lonlat a, double azi, double d)
{
    bt_lonlat r;
    geod_direct(&G, a.lat, a.lon, azi, d, &r.lat, &r.lon, NULL);
    return r;
}

/*
 * Two parts with a 2 km gap and a left turn across it: part A runs 10 km due east to
 * E, the gap runs 2 km due north from E, part B runs 10 km north from there. A point
 * 1 km east and 500 m north of E is nearest to A's end (1.1 km) but lies east of the
 * northward gap line: right. The extended end edge of A (due east) would put it
 * left. A point 1 km west and 500 m north of E is left; one 1 km south-east of E is
 * right; one past the far end of B, 300 m west of its extension, left.
 */
static void test_gap_turn(void **state)
{
    (void)state;
    geod_init(&G, 6378137.0, 1.0 / 298.257223563);
    bt_lonlat s = {128.0, 41.0};
    bt_lonlat a[11], bb[11];
    for (int i = 0; i <= 10; i++) a[i] = along(s, 90.0, 1000.0 * i);
    bt_lonlat e = a[10];
    bt_lonlat g = along(e, 0.0, 2000.0);
    for (int i = 0; i <= 10; i++) bb[i] = along(g, 0.0, 1000.0 * i);
    struct bt__part_in parts[2] = {{1, 0, a, 11}, {2, 1, bb, 11}};
    bt_border *b = NULL;
    assert_int_equal(bt__border_build(NULL, "T", parts, 2, NULL, &b), BT_OK);
    assert_int_equal(b->nchain, 2);
    static const struct {
        double north, east;
        bt_side want;
    } cases[] = {
        {500.0, 1000.0, BT_SIDE_RIGHT}, {500.0, -1000.0, BT_SIDE_LEFT},
        {-700.0, 700.0, BT_SIDE_RIGHT}, {1500.0, 300.0, BT_SIDE_RIGHT},
        {1500.0, -300.0, BT_SIDE_LEFT}, {-500.0, -3000.0, BT_SIDE_RIGHT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bt_lonlat p = along(along(e, 0.0, cases[i].north), 90.0, cases[i].east);
        bt_location loc;
        bool found;
        assert_int_equal(bt__border_locate(b, p, INFINITY, true, &loc, &found), BT_OK);
        assert_true(found);
        if (loc.side != cases[i].want)
            print_message("case %zu: side %d\n", i, (int)loc.side);
        assert_int_equal(loc.side, cases[i].want);
    }
    /* past the far end of B: the extension of its last edge decides */
    bt_lonlat top = bb[10];
    bt_location loc;
    bool found;
    assert_int_equal(bt__border_locate(b, along(along(top, 0.0, 2000.0), 270.0, 300.0),
                                       INFINITY, true, &loc, &found), BT_OK);
    assert_int_equal(loc.side, BT_SIDE_LEFT);
    assert_int_equal(bt__border_locate(b, along(along(top, 0.0, 2000.0), 90.0, 300.0),
                                       INFINITY, true, &loc, &found), BT_OK);
    assert_int_equal(loc.side, BT_SIDE_RIGHT);
    /* before the start of A: likewise */
    assert_int_equal(bt__border_locate(b, along(along(s, 270.0, 2000.0), 0.0, 300.0),
                                       INFINITY, true, &loc, &found), BT_OK);
    assert_int_equal(loc.side, BT_SIDE_LEFT);
    bt_border_free(b);
}

/*
 * A sharp vertex inside one part: east 5 km, then north-west (a left turn of 135
 * degrees, azimuth 315). Points near the vertex on the outside of the turn (east and
 * south of it) are right of the line, points inside the wedge left. Ahead of the
 * vertex slightly north (azimuth 80) and due south of it, the sign tests of the two
 * edges disagree (the first edge's line says left, the second's right): the
 * pseudo-normal decides, right.
 */
static void test_sharp_vertex(void **state)
{
    (void)state;
    geod_init(&G, 6378137.0, 1.0 / 298.257223563);
    bt_lonlat s = {128.0, 41.0};
    bt_lonlat v[3];
    v[0] = s;
    v[1] = along(s, 90.0, 5000.0);
    v[2] = along(v[1], 315.0, 5000.0);
    struct bt__part_in part = {1, 0, v, 3};
    bt_border *b = NULL;
    assert_int_equal(bt__border_build(NULL, "V", &part, 1, NULL, &b), BT_OK);
    static const struct {
        double azi, d;
        bt_side want;
    } cases[] = {
        {100.0, 300.0, BT_SIDE_RIGHT}, /* ahead, slightly south */
        {80.0, 300.0, BT_SIDE_RIGHT},  /* ahead, slightly north: beyond both edges */
        {20.0, 300.0, BT_SIDE_RIGHT},  /* right of the second edge */
        {180.0, 300.0, BT_SIDE_RIGHT}, /* due south: beyond both edges */
        {290.0, 300.0, BT_SIDE_LEFT},  /* inside the wedge */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bt_lonlat p = along(v[1], cases[i].azi, cases[i].d);
        bt_location loc;
        bool found;
        assert_int_equal(bt__border_locate(b, p, INFINITY, true, &loc, &found), BT_OK);
        if (loc.side != cases[i].want)
            print_message("case %zu: side %d\n", i, (int)loc.side);
        assert_int_equal(loc.side, cases[i].want);
        assert_int_equal(bt__border_locate(b, p, INFINITY, false, &loc, &found), BT_OK);
        assert_int_equal(loc.side, cases[i].want);
    }
    bt_border_free(b);
}

/*
 * A spike, as where a part ends in a stub and the gap line runs back over it (the
 * sample data has two, near Sakchu and Yomju): east 5 km to V, a stub 1 km due south
 * to T, then back north (azimuth 359) for 6 km. The border's course is east then
 * north (a left turn), so points south and east of T are right; the pseudo-normal at
 * the tip T alone (a right turn of 179 degrees) would call them left. A point west of
 * the stub and south of the first edge is right too; one north-west of V, left.
 */
static void test_spike(void **state)
{
    (void)state;
    geod_init(&G, 6378137.0, 1.0 / 298.257223563);
    bt_lonlat s = {125.0, 40.4};
    bt_lonlat v[4];
    v[0] = s;
    v[1] = along(s, 90.0, 5000.0);
    v[2] = along(v[1], 180.0, 1000.0);
    v[3] = along(v[2], 359.0, 6000.0);
    struct bt__part_in part = {1, 0, v, 4};
    bt_border *b = NULL;
    assert_int_equal(bt__border_build(NULL, "S", &part, 1, NULL, &b), BT_OK);
    static const struct {
        double azi, d;
        bt_side want;
    } cases[] = {
        {180.0, 3000.0, BT_SIDE_RIGHT}, {150.0, 6000.0, BT_SIDE_RIGHT},
        {210.0, 5000.0, BT_SIDE_RIGHT}, {90.0, 2000.0, BT_SIDE_RIGHT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bt_lonlat p = along(v[2], cases[i].azi, cases[i].d);
        bt_location loc;
        bool found;
        assert_int_equal(bt__border_locate(b, p, INFINITY, true, &loc, &found), BT_OK);
        if (loc.side != cases[i].want)
            print_message("case %zu: side %d\n", i, (int)loc.side);
        assert_int_equal(loc.side, cases[i].want);
    }
    bt_location loc;
    bool found;
    assert_int_equal(bt__border_locate(b, along(v[1], 315.0, 1500.0), INFINITY, true, &loc,
                                       &found), BT_OK);
    assert_int_equal(loc.side, BT_SIDE_LEFT);
    bt_border_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_places_side, setup, teardown),
        cmocka_unit_test_setup_teardown(test_part_end_points, setup, teardown),
        cmocka_unit_test_setup_teardown(test_places_side_reversed, setup, teardown),
        cmocka_unit_test(test_gap_turn),
        cmocka_unit_test(test_sharp_vertex),
        cmocka_unit_test(test_spike),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
