/**
 * @file test_import_geojson.c
 * @brief GeoJSON import: every table, FeatureCollection and sequences, the bundled
 * border file, CRS input, all-or-nothing, skip_invalid, and imports inside a caller's
 * transaction.
 */
#include "io_test_util.h"

#include <math.h>

/* ---- the bundled border file ------------------------------------------------ */

struct seg_check {
    int n_chn, n_rus, n_kor;
    size_t pts_chn;
    int next_seq_chn;
    int order_ok;
};

static int seg_visit(const bt_segment *seg, void *udata)
{
    struct seg_check *c = udata;
    char want[64];
    if (strcmp(seg->border, "PRK-CHN") == 0) {
        /* imported in file order: ids ascend with seq */
        snprintf(want, sizeof want, "PRK-CHN part %03d", c->n_chn + 1);
        if (strcmp(seg->name, want) != 0 || seg->seq != c->n_chn) c->order_ok = 0;
        c->n_chn++;
        c->pts_chn += seg->npoints;
    } else if (strcmp(seg->border, "PRK-RUS") == 0) {
        c->n_rus++;
    } else if (strcmp(seg->border, "PRK-KOR") == 0) {
        c->n_kor++;
    }
    return 0;
}

static void test_real_borders(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    bt_import_options o;
    bt_import_options_init(&o);
    o.table = BT_TABLE_BORDERS;
    bt_import_report rep;
    int rc = bt_import_file(t.s, BT_EXAMPLES_DATA_DIR "/borders.geojson", &o, &rep);
    assert_int_equal(rc, BT_OK);
    assert_int_equal(rep.features, 3);
    assert_int_equal(rep.added, 103 + 17 + 17);
    assert_int_equal(counts(t.s).segments, 137);
    struct seg_check c = {0, 0, 0, 0, 0, 1};
    assert_int_equal(bt_segment_foreach(t.s, seg_visit, &c), BT_OK);
    assert_int_equal(c.n_chn, 103);
    assert_int_equal(c.n_rus, 17);
    assert_int_equal(c.n_kor, 17);
    assert_true(c.order_ok);
    /* examples/data/README.md: 4,440 vertices in the PRK-CHN line */
    assert_int_equal(c.pts_chn, 4440);
    /* first vertex of PRK-CHN part 001, read from the file by hand */
    int64_t id = 0;
    bt_segment *seg = NULL;
    for (id = 1; id <= 137; id++) {
        assert_int_equal(bt_segment_get(t.s, id, &seg), BT_OK);
        if (strcmp(seg->name, "PRK-CHN part 001") == 0) break;
        bt_segment_free(seg);
        seg = NULL;
    }
    assert_non_null(seg);
    size_t len = 0;
    char *file = read_all(BT_EXAMPLES_DATA_DIR "/borders.geojson", &len);
    char *chn = strstr(file, "\"PRK-CHN\"");
    assert_non_null(chn);
    char *coords = strstr(chn, "\"coordinates\":[[[");
    assert_non_null(coords);
    double x = strtod(coords + strlen("\"coordinates\":[[["), NULL);
    assert_near(seg->points[0].lon, x, 1e-12);
    bt_segment_free(seg);
    free(file);
    tstore_close(&t);
}

/* ---- incidents, every field ------------------------------------------------- */

static void test_incidents_full(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    bt_import_options o;
    bt_import_options_init(&o);
    bt_import_report rep;
    int rc = bt_import_file(t.s, BT_TEST_DATA_DIR "/incidents_full.geojson", &o, &rep);
    if (rc) fprintf(stderr, "%s\n", bt_store_errmsg(t.s));
    assert_int_equal(rc, BT_OK);
    assert_int_equal(rep.features, 3);
    assert_int_equal(rep.added, 3);
    assert_int_equal(rep.sources_added, 2);
    bt_counts c = counts(t.s);
    assert_int_equal(c.incidents, 3);
    assert_int_equal(c.sources, 2);
    assert_int_equal(c.links, 2);

    int64_t id;
    bt_incident *inc;
    int64_t t0, t1;
    assert_int_equal(bt_incident_find(t.s, "I-1", &id), BT_OK);
    assert_int_equal(bt_incident_get(t.s, id, &inc), BT_OK);
    assert_int_equal(inc->type, BT_INCIDENT_RIVER_CROSSING);
    assert_near(inc->where.lon, 124.3947201, 1e-12);
    assert_near(inc->where.lat, 40.1291702, 1e-12);
    assert_near(inc->uncertainty_m, 250.5, 0);
    assert_int_equal(inc->loc_precision, BT_LOC_DISTRICT);
    assert_int_equal(inc->time_precision, BT_TIME_SECOND);
    /* 2020-07-29T14:05:00Z = 1596031500 */
    assert_int_equal(inc->start, 1596031500);
    assert_int_equal(inc->end, 1596031500 + 6900);
    assert_int_equal(bt_time_parse("2020-08-01", &t0, &t1, NULL), BT_OK);
    assert_int_equal(inc->reported.t, 1596240000);
    assert_int_equal(inc->reported.precision, BT_TIME_DAY);
    assert_string_equal(inc->summary,
                        "Crossed near the \"Sin\xc5\xad" "iju\" bridge, 2\xc2\xa0km; tab\there");
    assert_int_equal(inc->verification, BT_VERIF_CORROBORATED);
    bt_report_link *links;
    size_t nl;
    assert_int_equal(bt_link_list(t.s, id, &links, &nl), BT_OK);
    assert_int_equal(nl, 2);
    bt_source *src;
    assert_int_equal(bt_source_get(t.s, links[0].source_id, &src), BT_OK);
    assert_string_equal(src->name, "Src A");
    assert_int_equal(src->type, BT_SOURCE_HUMAN);
    assert_int_equal(src->reliability, 'B');
    assert_int_equal(links[0].credibility, 2);
    assert_int_equal(links[0].reported.t, 1596240000);
    bt_source_free(src);
    assert_int_equal(bt_source_get(t.s, links[1].source_id, &src), BT_OK);
    assert_string_equal(src->name, "Src B");
    assert_int_equal(src->type, BT_SOURCE_MEDIA);
    assert_int_equal(src->reliability, 'A');
    assert_int_equal(links[1].credibility, 1);
    /* 2020-08 = 1596240000, month precision */
    assert_int_equal(links[1].reported.t, 1596240000);
    assert_int_equal(links[1].reported.precision, BT_TIME_MONTH);
    bt_source_free(src);
    bt_link_list_free(links);
    bt_incident_free(inc);

    /* I-2: month precision from the text, end null = open */
    assert_int_equal(bt_incident_find(t.s, "I-2", &id), BT_OK);
    assert_int_equal(bt_incident_get(t.s, id, &inc), BT_OK);
    assert_int_equal(inc->time_precision, BT_TIME_MONTH);
    assert_int_equal(inc->start, 1593561600); /* 2020-07-01 */
    assert_true(inc->end == BT_TIME_OPEN);
    assert_int_equal(inc->loc_precision, BT_LOC_NEAR_PLACE);
    assert_null(inc->summary);
    bt_incident_free(inc);

    /* the feature id 17 becomes the ref; end absent = end of 2019 */
    assert_int_equal(bt_incident_find(t.s, "17", &id), BT_OK);
    assert_int_equal(bt_incident_get(t.s, id, &inc), BT_OK);
    assert_int_equal(inc->type, BT_INCIDENT_SMUGGLING);
    assert_int_equal(inc->start, 1546300800);
    assert_int_equal(inc->end, 1577836799);
    assert_int_equal(inc->time_precision, BT_TIME_YEAR);
    bt_incident_free(inc);
    tstore_close(&t);
}

/* ---- sequences ---------------------------------------------------------------- */

static void test_sequences(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    const char *nd =
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128.1,41.4]},"
        "\"properties\":{\"name\":\"A\",\"country\":\"KP\"}}\n"
        "\n"
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128.2,41.5]},"
        "\"properties\":{\"name\":\"B\",\"country\":\"CN\",\"admin1\":\"05\"}}\r\n";
    bt_import_options o;
    bt_import_options_init(&o);
    o.table = BT_TABLE_PLACES;
    o.format = BT_FORMAT_GEOJSONSEQ;
    bt_import_report rep;
    assert_int_equal(bt_import_mem(t.s, nd, strlen(nd), "p.geojsonl", &o, &rep), BT_OK);
    assert_int_equal(rep.added, 2);
    /* RFC 8142: RS before each text, detected from the content */
    const char *rs =
        "\x1e{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128,41]},"
        "\"properties\":{\"name\":\"C\",\"country\":\"KP\"}}\n"
        "\x1e{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128,42]},"
        "\"properties\":{\"name\":\"D\",\"country\":\"KP\"}}\n";
    o.format = BT_FORMAT_AUTO;
    assert_int_equal(bt_import_mem(t.s, rs, strlen(rs), NULL, &o, &rep), BT_OK);
    assert_int_equal(rep.added, 2);
    assert_int_equal(counts(t.s).places, 4);
    bt_place *p;
    assert_int_equal(bt_place_get(t.s, 2, &p), BT_OK);
    assert_string_equal(p->name, "B");
    assert_string_equal(p->admin1, "05");
    bt_place_free(p);
    tstore_close(&t);
}

/* ---- installations, sources, borders from LineStrings -------------------------- */

static void test_installations_and_sources(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    const char *src =
        "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"name\":\"S1\","
        "\"type\":\"ngo\",\"reliability\":\"b\",\"notes\":\"restricted\"}}]}";
    bt_import_report rep;
    assert_int_equal(import_text(t.s, BT_TABLE_SOURCES, "s.geojson", src, &rep), BT_OK);
    const char *inst =
        "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"id\":\"F-1\",\"geometry\":{\"type\":\"LineString\","
        "\"coordinates\":[[128.1,41.38],[128.11,41.385],[128.12,41.39]]},"
        "\"properties\":{\"kind\":\"fence\",\"layer\":\"primary\",\"material\":\"string_wire\","
        "\"barbed\":false,\"electrified\":\"unknown\",\"height_m\":1.8,\"post_material\":"
        "\"wooden stakes\",\"quality\":\"poor\",\"permanence\":\"temporary\",\"status\":"
        "\"under_construction\",\"start\":\"2020-07\",\"end\":\"2020-09-30\",\"condition\":"
        "\"sways in the wind\",\"observed_by\":\"human_source\",\"source\":\"S1\","
        "\"credibility\":3}},"
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128.2,41.4]},"
        "\"properties\":{\"kind\":\"guard_post\",\"source\":\"S2\",\"source_type\":\"imagery\","
        "\"reliability\":\"A\"}}]}";
    assert_int_equal(import_text(t.s, BT_TABLE_INSTALLATIONS, "i.geojson", inst, &rep), BT_OK);
    assert_int_equal(rep.added, 2);
    assert_int_equal(rep.sources_added, 1);
    bt_installation *in;
    assert_int_equal(bt_installation_get(t.s, 1, &in), BT_OK);
    assert_string_equal(in->ref, "F-1");
    assert_int_equal(in->kind, BT_INSTALL_FENCE);
    assert_int_equal(in->layer, BT_LAYER_PRIMARY);
    assert_int_equal(in->material, BT_MATERIAL_STRING_WIRE);
    assert_int_equal(in->barbed, BT_NO);
    assert_int_equal(in->electrified, BT_UNKNOWN);
    assert_near(in->height_m, 1.8, 0);
    assert_string_equal(in->post_material, "wooden stakes");
    assert_int_equal(in->quality, BT_QUALITY_POOR);
    assert_int_equal(in->permanence, BT_PERMANENCE_TEMPORARY);
    assert_int_equal(in->status, BT_STATUS_UNDER_CONSTRUCTION);
    assert_int_equal(in->start.t, 1593561600);
    assert_int_equal(in->start.precision, BT_TIME_MONTH);
    assert_int_equal(in->end.t, 1601424000); /* 2020-09-30 */
    assert_int_equal(in->end.precision, BT_TIME_DAY);
    assert_string_equal(in->condition, "sways in the wind");
    assert_int_equal(in->observed_by, BT_OBSERVED_HUMAN_SOURCE);
    assert_int_equal(in->source_id, 1); /* the existing S1 */
    assert_int_equal(in->credibility, 3);
    assert_int_equal(in->npoints, 3);
    bt_installation_free(in);
    assert_int_equal(bt_installation_get(t.s, 2, &in), BT_OK);
    assert_null(in->ref);
    assert_int_equal(in->npoints, 1);
    assert_true(isnan(in->height_m));
    assert_int_equal(in->source_id, 2);
    bt_installation_free(in);
    bt_source *s;
    assert_int_equal(bt_source_get(t.s, 1, &s), BT_OK);
    assert_int_equal(s->type, BT_SOURCE_NGO);
    assert_int_equal(s->reliability, 'B');
    assert_string_equal(s->notes, "restricted");
    bt_source_free(s);
    assert_int_equal(bt_source_get(t.s, 2, &s), BT_OK);
    assert_string_equal(s->name, "S2");
    assert_int_equal(s->type, BT_SOURCE_IMAGERY);
    assert_int_equal(s->reliability, 'A');
    bt_source_free(s);

    /* borders: LineStrings with border+name, and an explicit seq */
    const char *b =
        "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":"
        "[[128,41],[128.1,41.1]]},\"properties\":{\"border\":\"X-Y\",\"name\":\"north\","
        "\"kind\":\"river\",\"river\":\"Amnok\",\"seq\":5}},"
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":"
        "[[128.1,41.1],[128.2,41.1]]},\"properties\":{\"border\":\"X-Y\"}}]}";
    assert_int_equal(import_text(t.s, BT_TABLE_BORDERS, "b.geojson", b, &rep), BT_OK);
    bt_segment *seg;
    assert_int_equal(bt_segment_get(t.s, 1, &seg), BT_OK);
    assert_string_equal(seg->name, "north");
    assert_int_equal(seg->seq, 5);
    assert_int_equal(seg->kind, BT_SEGMENT_RIVER);
    assert_string_equal(seg->river, "Amnok");
    bt_segment_free(seg);
    assert_int_equal(bt_segment_get(t.s, 2, &seg), BT_OK);
    assert_int_equal(seg->seq, 6); /* after the explicit 5 */
    assert_string_equal(seg->name, "X-Y part 007");
    bt_segment_free(seg);
    tstore_close(&t);
}

/* ---- CRS --------------------------------------------------------------------- */

/* Latitude on the central meridian of a UTM zone from its northing, by inverting the
 * meridian arc series (Helmert) by Newton's method: independent of PROJ. */
static double utm_cm_lat(double northing)
{
    const double a = 6378137.0, f = 1 / 298.257223563, e2 = f * (2 - f), e4 = e2 * e2,
                 e6 = e4 * e2;
    double m = northing / 0.9996, phi = m / a;
    for (int i = 0; i < 20; i++) {
        double arc = a * ((1 - e2 / 4 - 3 * e4 / 64 - 5 * e6 / 256) * phi -
                          (3 * e2 / 8 + 3 * e4 / 32 + 45 * e6 / 1024) * sin(2 * phi) +
                          (15 * e4 / 256 + 45 * e6 / 1024) * sin(4 * phi) -
                          (35 * e6 / 3072) * sin(6 * phi));
        double dm = a * (1 - e2) / pow(1 - e2 * sin(phi) * sin(phi), 1.5);
        phi += (m - arc) / dm;
    }
    return phi * 180 / T_PI;
}

static void test_crs(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    bt_import_options o;
    bt_import_options_init(&o);
    o.table = BT_TABLE_PLACES;
    /* the crs member of the file */
    assert_int_equal(bt_import_file(t.s, BT_TEST_DATA_DIR "/utm52.geojson", &o, NULL), BT_OK);
    bt_place *p;
    assert_int_equal(bt_place_get(t.s, 1, &p), BT_OK);
    assert_near(p->where.lon, 129.0, 1e-9);
    assert_near(p->where.lat, utm_cm_lat(4594264.222), 1e-8);
    assert_near(p->where.lat, 41.5, 1e-7);
    bt_place_free(p);
    /* the caller's CRS, CSV input */
    const char *csv = "name,country,x,y\nCM,KP,500000,4594264.222\n";
    o.crs = "EPSG:32652";
    o.format = BT_FORMAT_CSV;
    assert_int_equal(bt_import_mem(t.s, csv, strlen(csv), "u.csv", &o, NULL), BT_OK);
    assert_int_equal(bt_place_get(t.s, 2, &p), BT_OK);
    assert_near(p->where.lon, 129.0, 1e-9);
    assert_near(p->where.lat, 41.5, 1e-7);
    bt_place_free(p);
    /* an unknown CRS */
    o.crs = "EPSG:999999";
    assert_int_equal(bt_import_mem(t.s, csv, strlen(csv), "u.csv", &o, NULL), BT_ERR_CRS);
    assert_int_equal(counts(t.s).places, 2);
    tstore_close(&t);
}

/* ---- all or nothing ------------------------------------------------------------- */

static const char *five_bad_third =
    "{\"type\":\"FeatureCollection\",\"features\":[\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128.1,41.4]},"
    "\"properties\":{\"ref\":\"A-1\",\"type\":\"arrest\",\"start\":\"2020-01-02\",\"source\":\"N1\"}},\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128.1,41.4]},"
    "\"properties\":{\"ref\":\"A-2\",\"type\":\"arrest\",\"start\":\"2020-01-02\"}},\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128.1,41.4]},\n"
    "    \"properties\":{\"ref\":\"A-3\",\"type\":\"arrest\",\"start\":\"2020-01-02\",\n"
    "    \"reliability\": \"G\"}},\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128.1,41.4]},"
    "\"properties\":{\"ref\":\"A-4\",\"type\":\"teleport\",\"start\":\"2020-01-02\"}},\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128.1,41.4]},"
    "\"properties\":{\"ref\":\"A-5\",\"type\":\"arrest\",\"start\":\"2020-01-02\",\"source\":\"N2\"}}\n"
    "]}\n";

static void test_all_or_nothing(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    bt_import_report rep;
    /* some content first */
    assert_int_equal(bt_import_file(t.s, BT_TEST_DATA_DIR "/incidents_full.geojson", NULL, &rep),
                     BT_OK);
    bt_counts before = counts(t.s);
    bt_store_close(t.s);
    t.s = NULL;
    uint64_t h0 = file_hash(t.path);
    tstore_reopen(&t);
    int rc = import_text(t.s, BT_TABLE_INCIDENTS, "five.geojson", five_bad_third, &rep);
    assert_int_equal(rc, BT_ERR_INVALID);
    assert_string_equal(bt_store_errmsg(t.s),
                        "five.geojson: feature 3 (line 6, column 20): property 'reliability' "
                        "is 'G'; expected A-F");
    assert_int_equal(rep.features, 3);
    bt_counts after = counts(t.s);
    assert_memory_equal(&before, &after, sizeof before);
    int64_t id;
    assert_int_equal(bt_incident_find(t.s, "A-1", &id), BT_ERR_NOT_FOUND);
    assert_int_equal(bt_source_find(t.s, "N1", &id), BT_ERR_NOT_FOUND);
    bt_store_close(t.s);
    t.s = NULL;
    assert_true(file_hash(t.path) == h0);
    tstore_reopen(&t);
    /* the store is usable afterwards and not left in a transaction */
    assert_int_equal(bt_store_begin(t.s), BT_OK);
    assert_int_equal(bt_store_rollback(t.s), BT_OK);
    tstore_close(&t);
}

/* ---- skip_invalid ---------------------------------------------------------------- */

struct problems {
    int n;
    long feature[8];
    long line[8];
    char field[8][32];
    char msg[8][256];
};

static int on_problem(const bt_import_problem *p, void *udata)
{
    struct problems *pr = udata;
    if (pr->n < 8) {
        pr->feature[pr->n] = p->feature;
        pr->line[pr->n] = p->line;
        snprintf(pr->field[pr->n], 32, "%s", p->field ? p->field : "");
        snprintf(pr->msg[pr->n], 256, "%s", p->message);
    }
    pr->n++;
    return 0;
}

static int stop_at_first(const bt_import_problem *p, void *udata)
{
    (void)p;
    (void)udata;
    return 1;
}

static void test_skip_invalid(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    struct problems pr;
    memset(&pr, 0, sizeof pr);
    bt_import_options o;
    bt_import_options_init(&o);
    o.skip_invalid = 1;
    o.on_problem = on_problem;
    o.udata = &pr;
    bt_import_report rep;
    int rc = bt_import_mem(t.s, five_bad_third, strlen(five_bad_third), "five.geojson", &o, &rep);
    assert_int_equal(rc, BT_OK);
    assert_string_equal(bt_store_errmsg(t.s), "");
    assert_int_equal(rep.features, 5);
    assert_int_equal(rep.added, 3);
    assert_int_equal(rep.skipped, 2);
    assert_int_equal(pr.n, 2);
    assert_int_equal(pr.feature[0], 3);
    assert_int_equal(pr.line[0], 6);
    assert_string_equal(pr.field[0], "reliability");
    assert_int_equal(pr.feature[1], 4);
    assert_string_equal(pr.field[1], "type");
    assert_string_equal(pr.msg[1],
                        "five.geojson: feature 4 (line 7, column 107): property 'type' is "
                        "'teleport'; expected smuggling, river_crossing, crossing_attempt, "
                        "defection, arrest, shooting, fence_work, fence_breach, "
                        "guard_post_work, patrol, policy_notice or other");
    bt_counts c = counts(t.s);
    assert_int_equal(c.incidents, 3);
    assert_int_equal(c.sources, 2);
    assert_int_equal(c.links, 2);
    /* a duplicate ref is skipped too, and the feature's source is not left behind */
    const char *dup =
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128,41]},"
        "\"properties\":{\"ref\":\"A-1\",\"type\":\"arrest\",\"start\":\"2020\","
        "\"source\":\"N3\"}}\n";
    memset(&pr, 0, sizeof pr);
    assert_int_equal(bt_import_mem(t.s, dup, strlen(dup), "dup.geojsonl", &o, &rep), BT_OK);
    assert_int_equal(rep.skipped, 1);
    assert_int_equal(counts(t.s).sources, 2);
    /* the callback can stop the import (feature 1 is now a duplicate): nothing is kept */
    o.on_problem = stop_at_first;
    rc = bt_import_mem(t.s, five_bad_third, strlen(five_bad_third), "five.geojson", &o, &rep);
    assert_int_equal(rc, BT_ERR_INVALID);
    assert_string_equal(bt_store_errmsg(t.s),
                        "five.geojson: import stopped by the caller at feature 1");
    assert_int_equal(counts(t.s).incidents, 3);
    tstore_close(&t);
}

/* ---- inside the caller's transaction ------------------------------------------- */

static void test_caller_transaction(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    assert_int_equal(bt_store_begin(t.s), BT_OK);
    bt_place pl = {0, "Hyesan", "KP", "13", {128.17778, 41.40167}};
    assert_int_equal(bt_place_add(t.s, &pl, NULL), BT_OK);
    /* a failing import undoes only itself */
    assert_int_equal(import_text(t.s, BT_TABLE_INCIDENTS, "five.geojson", five_bad_third, NULL),
                     BT_ERR_INVALID);
    /* a good one joins the caller's transaction */
    const char *ok =
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128,41]},"
        "\"properties\":{\"ref\":\"T-1\",\"type\":\"patrol\",\"start\":\"2021-03\"}}";
    assert_int_equal(import_text(t.s, BT_TABLE_INCIDENTS, "ok.geojson", ok, NULL), BT_OK);
    assert_int_equal(bt_store_commit(t.s), BT_OK);
    bt_counts c = counts(t.s);
    assert_int_equal(c.places, 1);
    assert_int_equal(c.incidents, 1);
    /* and a rollback of the caller's transaction undoes an import in it */
    assert_int_equal(bt_store_begin(t.s), BT_OK);
    const char *ok2 =
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128,41]},"
        "\"properties\":{\"ref\":\"T-2\",\"type\":\"patrol\",\"start\":\"2021-03\"}}";
    assert_int_equal(import_text(t.s, BT_TABLE_INCIDENTS, "ok2.geojson", ok2, NULL), BT_OK);
    assert_int_equal(bt_store_rollback(t.s), BT_OK);
    assert_int_equal(counts(t.s).incidents, 1);
    tstore_close(&t);
}

/* ---- the sample data set ---------------------------------------------------------- */

static void test_sample_data(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    bt_import_options o;
    bt_import_options_init(&o);
    bt_import_report rep;
    o.table = BT_TABLE_INSTALLATIONS;
    assert_int_equal(bt_import_file(t.s, BT_EXAMPLES_DATA_DIR "/installations_hyesan.geojson",
                                    &o, &rep),
                     BT_OK);
    assert_int_equal(rep.added, rep.features);
    o.table = BT_TABLE_INCIDENTS;
    assert_int_equal(
        bt_import_file(t.s, BT_EXAMPLES_DATA_DIR "/incidents_hyesan.geojson", &o, &rep), BT_OK);
    assert_int_equal(rep.added, 301);
    int64_t id;
    assert_int_equal(bt_incident_find(t.s, "DNK-2020-07-29-HYESAN", &id), BT_OK);
    bt_incident *inc;
    assert_int_equal(bt_incident_get(t.s, id, &inc), BT_OK);
    assert_int_equal(inc->type, BT_INCIDENT_FENCE_WORK);
    assert_int_equal(inc->start, 1593561600);
    assert_true(inc->end == BT_TIME_OPEN);
    assert_int_equal(inc->time_precision, BT_TIME_MONTH);
    assert_int_equal(inc->loc_precision, BT_LOC_NEAR_PLACE);
    assert_near(inc->uncertainty_m, 5000, 0);
    assert_int_equal(inc->verification, BT_VERIF_SINGLE_SOURCE);
    bt_report_link *links;
    size_t nl;
    assert_int_equal(bt_link_list(t.s, id, &links, &nl), BT_OK);
    assert_int_equal(nl, 1);
    assert_int_equal(links[0].credibility, 3);
    bt_source *src;
    assert_int_equal(bt_source_get(t.s, links[0].source_id, &src), BT_OK);
    assert_string_equal(src->name, "Daily NK source in Yanggang Province");
    assert_int_equal(src->reliability, 'C');
    assert_int_equal(src->type, BT_SOURCE_HUMAN);
    bt_source_free(src);
    bt_link_list_free(links);
    bt_incident_free(inc);
    /* every synthetic incident says so in its summary */
    for (int i = 1; i <= 300; i++) {
        char ref[16];
        snprintf(ref, sizeof ref, "SYN-%04d", i);
        assert_int_equal(bt_incident_find(t.s, ref, &id), BT_OK);
        assert_int_equal(bt_incident_get(t.s, id, &inc), BT_OK);
        assert_non_null(strstr(inc->summary, "Synthetic record for testing"));
        assert_true(inc->start >= 1546300800 && inc->start < 1640995200);
        bt_incident_free(inc);
    }
    tstore_close(&t);
}

/* ---- large imports: the store's bulk mode under savepoint rollbacks -------------- */

static int count_hit(const bt_incident *inc, double d, void *udata)
{
    (void)inc;
    (void)d;
    ++*(long *)udata;
    return 0;
}

/* n incidents on a 0.001-degree grid; every feature numbered in bad[] fails after its
 * incident row was inserted (a bad credibility in more_sources). */
static char *many_features(int n, const int *bad, int nbad, const char *prefix)
{
    size_t cap = (size_t)n * 300 + 64, len = 0;
    char *b = malloc(cap);
    len += (size_t)sprintf(b, "{\"type\":\"FeatureCollection\",\"features\":[\n");
    for (int i = 1; i <= n; i++) {
        int is_bad = 0;
        for (int k = 0; k < nbad; k++) is_bad |= bad[k] == i;
        len += (size_t)sprintf(b + len,
                               "%s{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\","
                               "\"coordinates\":[%.3f,%.3f]},\"properties\":{\"ref\":\"%s%d\","
                               "\"type\":\"patrol\",\"start\":\"2020-02-03\"%s}}\n",
                               i > 1 ? "," : "", 128 + (i % 40) * 0.001, 41 + (i / 40) * 0.001,
                               prefix, i,
                               is_bad ? ",\"more_sources\":[{\"source\":\"X\",\"credibility\":9}]"
                                      : "");
    }
    sprintf(b + len, "]}\n");
    return b;
}

static long within_count(bt_store *s, bt_lonlat c, double r)
{
    long n = 0;
    assert_int_equal(bt_incidents_within(s, c, r, INT64_MIN, INT64_MAX, count_hit, &n), BT_OK);
    return n;
}

static void test_bulk_and_savepoints(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    /* skip_invalid: features 1..1200, three of them rolled back after their insert,
     * one of them right where the store switches to bulk loading */
    const int bad[] = {512, 513, 700, 1199};
    char *text = many_features(1200, bad, 4, "K-");
    bt_import_options o;
    bt_import_options_init(&o);
    o.skip_invalid = 1;
    bt_import_report rep;
    int rc = bt_import_mem(t.s, text, strlen(text), "many.geojson", &o, &rep);
    if (rc) fprintf(stderr, "%s\n", bt_store_errmsg(t.s));
    assert_int_equal(rc, BT_OK);
    assert_int_equal(rep.added, 1196);
    assert_int_equal(rep.skipped, 4);
    assert_int_equal(counts(t.s).incidents, 1196);
    assert_int_equal(counts(t.s).sources, 0);
    /* the spatial index agrees with the table: all of them within 100 km */
    bt_lonlat c = {128.02, 41.015};
    assert_int_equal(within_count(t.s, c, 100000), 1196);
    free(text);

    /* inside a caller's transaction: 700 good, then a failing import after the bulk
     * switch, then commit */
    tstore t2;
    tstore_open(&t2);
    assert_int_equal(bt_store_begin(t2.s), BT_OK);
    text = many_features(700, NULL, 0, "G-");
    assert_int_equal(bt_import_mem(t2.s, text, strlen(text), "g.geojson", NULL, NULL), BT_OK);
    free(text);
    const int bad2[] = {650};
    text = many_features(700, bad2, 1, "H-");
    assert_int_equal(bt_import_mem(t2.s, text, strlen(text), "h.geojson", NULL, NULL),
                     BT_ERR_INVALID);
    assert_string_equal(bt_store_errmsg(t2.s),
                        "h.geojson: feature 650 (line 651, column 159): more_sources[0]: "
                        "'credibility' is 9; expected 1-6");
    free(text);
    assert_int_equal(bt_store_commit(t2.s), BT_OK);
    assert_int_equal(counts(t2.s).incidents, 700);
    assert_int_equal(within_count(t2.s, c, 100000), 700);
    int64_t id;
    assert_int_equal(bt_incident_find(t2.s, "H-1", &id), BT_ERR_NOT_FOUND);
    tstore_close(&t2);
    tstore_close(&t);
}

/* ---- arguments ------------------------------------------------------------------ */

static void test_arguments(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    bt_import_options o;
    bt_import_options_init(&o);
    assert_int_equal(o.table, BT_TABLE_INCIDENTS);
    assert_int_equal(o.format, BT_FORMAT_AUTO);
    assert_int_equal(bt_import_file(NULL, "x", &o, NULL), BT_ERR_INVALID);
    assert_int_equal(bt_import_file(t.s, NULL, &o, NULL), BT_ERR_INVALID);
    char missing[160];
    snprintf(missing, sizeof missing, "%s/nope.geojson", t.dir);
    assert_int_equal(bt_import_file(t.s, missing, &o, NULL), BT_ERR_NOT_FOUND);
    o.format = BT_FORMAT_KML;
    assert_int_equal(bt_import_mem(t.s, "x", 1, "a.kml", &o, NULL), BT_ERR_INVALID);
    o.format = BT_FORMAT_AUTO;
    o.table = (bt_table)42;
    assert_int_equal(bt_import_mem(t.s, "{}", 2, NULL, &o, NULL), BT_ERR_INVALID);
    bt_table tb;
    assert_int_equal(bt_table_parse("Places", &tb), BT_OK);
    assert_int_equal(tb, BT_TABLE_PLACES);
    assert_int_equal(bt_table_parse("layers", &tb), BT_ERR_INVALID);
    assert_string_equal(bt_table_name(BT_TABLE_INSTALLATIONS), "installations");
    assert_null(bt_table_name((bt_table)9));
    /* a read-only store */
    bt_store_close(t.s);
    char *err = NULL;
    assert_int_equal(bt_store_open(t.path, BT_OPEN_READONLY, &t.s, &err), BT_OK);
    bt_import_options_init(&o);
    assert_int_equal(bt_import_file(t.s, BT_TEST_DATA_DIR "/incidents_full.geojson", &o, NULL),
                     BT_ERR_READONLY);
    tstore_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_borders),
        cmocka_unit_test(test_incidents_full),
        cmocka_unit_test(test_sequences),
        cmocka_unit_test(test_installations_and_sources),
        cmocka_unit_test(test_crs),
        cmocka_unit_test(test_all_or_nothing),
        cmocka_unit_test(test_skip_invalid),
        cmocka_unit_test(test_caller_transaction),
        cmocka_unit_test(test_sample_data),
        cmocka_unit_test(test_bulk_and_savepoints),
        cmocka_unit_test(test_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
