/**
 * @file test_import_interventions.c
 * @brief The interventions layer (BT_TABLE_INTERVENTIONS) in data exchange: import
 * from GeoJSON (FeatureCollection and one feature a line) and CSV (wkt POLYGON or
 * border columns), the exact messages for bad values, skip_invalid, export as
 * GeoJSON / GeoJSON-seq / CSV / KML and the round trip export -> import into a fresh
 * store, the bundled examples/data/interventions.geojson, and (BT_FAULT_INJECTION
 * builds) out of memory at every allocation of an import and an export.
 */
#include "io_test_util.h"

/* 2020-01-01T00:00:00Z, 2020-01-28T00:00:00Z, 2020-08-25T00:00:00Z (computed by hand:
 * 1577836800 + 27 and + 237 days of 86400 s). */
#define T_2020 1577836800
#define T_0128 (T_2020 + 27 * 86400)
#define T_0825 (T_2020 + 237 * 86400)

/* A store with one PRK-CHN segment, so that interventions can name that border. */
static void open_with_border(tstore *t)
{
    tstore_open(t);
    bt_segment seg = {0, "PRK-CHN", "s", 0, BT_SEGMENT_RIVER, NULL,
                      (const bt_lonlat[]){{128, 41}, {128.1, 41.1}}, 2};
    assert_int_equal(bt_segment_add(t->s, &seg, NULL), BT_OK);
}

static const char fc_text[] =
    "{\"type\":\"FeatureCollection\",\"features\":[\n"
    "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"ref\":\"IV-1\",\"name\":"
    "\"Closure\",\"kind\":\"closure\",\"start\":\"2020-01\",\"summary\":\"Closed\",\"citation\":"
    "\"KCNA\",\"border\":\"PRK-CHN\"}},\n"
    "{\"type\":\"Feature\",\"id\":\"IV-2\",\"geometry\":null,\"properties\":{\"name\":"
    "\"Order\",\"kind\":\"order\",\"start\":\"2020-08-25\",\"end\":\"2021-12-31\",\"border\":"
    "\"PRK-CHN\",\"from_m\":1000,\"to_m\":5000.5}},\n"
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[128.1,41.3],"
    "[128.2,41.3],[128.2,41.4],[128.1,41.4],[128.1,41.3]]]},\"properties\":{\"ref\":\"IV-3\","
    "\"name\":\"Hyesan fence works\",\"kind\":\"fence_programme\",\"start\":"
    "\"2020-07-01T06:30:00Z\"}}\n"
    "]}\n";

/* Checks the three records of fc_text (and of its round trips). */
static void check_three(bt_store *s)
{
    int64_t id;
    bt_intervention *iv;
    assert_int_equal(bt_intervention_find(s, "IV-1", &id), BT_OK);
    assert_int_equal(bt_intervention_get(s, id, &iv), BT_OK);
    assert_string_equal(iv->name, "Closure");
    assert_int_equal(iv->kind, BT_INTERVENTION_CLOSURE);
    assert_int_equal(iv->start.t, T_2020);
    assert_int_equal(iv->start.precision, BT_TIME_MONTH);
    assert_int_equal(iv->end.precision, BT_TIME_NONE);
    assert_string_equal(iv->summary, "Closed");
    assert_string_equal(iv->citation, "KCNA");
    assert_string_equal(iv->border, "PRK-CHN");
    assert_true(iv->from_m == 0.0);
    assert_true(isinf(iv->to_m));
    assert_null(iv->area);
    assert_int_equal(iv->narea, 0);
    bt_intervention_free(iv);

    assert_int_equal(bt_intervention_find(s, "IV-2", &id), BT_OK); /* from the feature id */
    assert_int_equal(bt_intervention_get(s, id, &iv), BT_OK);
    assert_string_equal(iv->name, "Order");
    assert_int_equal(iv->kind, BT_INTERVENTION_ORDER);
    assert_int_equal(iv->start.t, T_0825);
    assert_int_equal(iv->start.precision, BT_TIME_DAY);
    assert_int_equal(iv->end.t, T_2020 + 730 * 86400); /* 2021-12-31: 366 + 364 days */
    assert_int_equal(iv->end.precision, BT_TIME_DAY);
    assert_null(iv->summary);
    assert_null(iv->citation);
    assert_true(iv->from_m == 1000.0);
    assert_true(iv->to_m == 5000.5);
    bt_intervention_free(iv);

    assert_int_equal(bt_intervention_find(s, "IV-3", &id), BT_OK);
    assert_int_equal(bt_intervention_get(s, id, &iv), BT_OK);
    assert_int_equal(iv->kind, BT_INTERVENTION_FENCE_PROGRAMME);
    assert_int_equal(iv->start.t, T_2020 + 182 * 86400 + 6 * 3600 + 1800);
    assert_int_equal(iv->start.precision, BT_TIME_SECOND);
    assert_null(iv->border);
    assert_int_equal(iv->narea, 5);
    const bt_lonlat ring[5] = {{128.1, 41.3}, {128.2, 41.3}, {128.2, 41.4}, {128.1, 41.4},
                               {128.1, 41.3}};
    for (size_t i = 0; i < 5; i++) {
        assert_true(iv->area[i].lon == ring[i].lon);
        assert_true(iv->area[i].lat == ring[i].lat);
    }
    bt_intervention_free(iv);
    assert_int_equal(counts(s).interventions, 3);
}

static void test_geojson(void **state)
{
    (void)state;
    tstore t;
    open_with_border(&t);
    bt_import_report rep;
    int rc = import_text(t.s, BT_TABLE_INTERVENTIONS, "iv.geojson", fc_text, &rep);
    if (rc) fprintf(stderr, "%s\n", bt_store_errmsg(t.s));
    assert_int_equal(rc, BT_OK);
    assert_int_equal(rep.features, 3);
    assert_int_equal(rep.added, 3);
    assert_int_equal(rep.skipped, 0);
    check_three(t.s);
    tstore_close(&t);
}

static void test_geojsonseq_and_csv(void **state)
{
    (void)state;
    tstore t;
    open_with_border(&t);
    bt_import_report rep;
    const char *seq =
        "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"ref\":\"S-1\",\"name\":\"A\","
        "\"kind\":\"deployment\",\"start\":\"2021\",\"border\":\"PRK-CHN\"}}\n"
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[1,1],[2,1],"
        "[2,2],[1,1]]]},\"properties\":{\"ref\":\"S-2\",\"name\":\"B\",\"kind\":\"other\","
        "\"start\":\"2021-03\"}}\n";
    assert_int_equal(import_text(t.s, BT_TABLE_INTERVENTIONS, "iv.geojsonl", seq, &rep), BT_OK);
    assert_int_equal(rep.added, 2);
    const char *csv =
        "ref,name,kind,start,end,border,from_m,to_m,wkt\r\n"
        "C-1,Csv border,closure,2020-01-28,2020-12,PRK-CHN,10,,\r\n"
        "C-2,Csv area,order,2020-08-25,,,,,\"POLYGON((128 41,128.5 41,128.5 41.5,128 41))\"\r\n";
    int rc = import_text(t.s, BT_TABLE_INTERVENTIONS, "iv.csv", csv, &rep);
    if (rc) fprintf(stderr, "%s\n", bt_store_errmsg(t.s));
    assert_int_equal(rc, BT_OK);
    assert_int_equal(rep.added, 2);
    int64_t id;
    bt_intervention *iv;
    assert_int_equal(bt_intervention_find(t.s, "S-1", &id), BT_OK);
    assert_int_equal(bt_intervention_get(t.s, id, &iv), BT_OK);
    assert_int_equal(iv->kind, BT_INTERVENTION_DEPLOYMENT);
    assert_int_equal(iv->start.precision, BT_TIME_YEAR);
    bt_intervention_free(iv);
    assert_int_equal(bt_intervention_find(t.s, "S-2", &id), BT_OK);
    assert_int_equal(bt_intervention_get(t.s, id, &iv), BT_OK);
    assert_int_equal(iv->narea, 4);
    assert_true(iv->area[2].lon == 2 && iv->area[2].lat == 2);
    bt_intervention_free(iv);
    assert_int_equal(bt_intervention_find(t.s, "C-1", &id), BT_OK);
    assert_int_equal(bt_intervention_get(t.s, id, &iv), BT_OK);
    assert_int_equal(iv->start.t, T_0128);
    assert_int_equal(iv->end.t, T_2020 + 335 * 86400); /* 2020-12-01 */
    assert_int_equal(iv->end.precision, BT_TIME_MONTH);
    assert_true(iv->from_m == 10.0);
    assert_true(isinf(iv->to_m));
    assert_null(iv->summary);
    bt_intervention_free(iv);
    assert_int_equal(bt_intervention_find(t.s, "C-2", &id), BT_OK);
    assert_int_equal(bt_intervention_get(t.s, id, &iv), BT_OK);
    assert_null(iv->border);
    assert_int_equal(iv->narea, 4);
    assert_true(iv->area[1].lon == 128.5 && iv->area[1].lat == 41);
    bt_intervention_free(iv);
    assert_int_equal(counts(t.s).interventions, 4);
    tstore_close(&t);
}

/* One feature of a FeatureCollection, on line 2. */
static char *one(const char *geometry, const char *props)
{
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"type\":\"FeatureCollection\",\"features\":[\n"
             "{\"type\":\"Feature\",\"geometry\":%s,\"properties\":{%s}}\n]}\n",
             geometry, props);
    return buf;
}

#define OK_PROPS "\"ref\":\"X\",\"name\":\"N\",\"kind\":\"order\",\"start\":\"2020-08-25\""
#define BORDER_PROPS OK_PROPS ",\"border\":\"PRK-CHN\""
#define SQUARE "{\"type\":\"Polygon\",\"coordinates\":[[[1,1],[2,1],[2,2],[1,2],[1,1]]]}"

static void expect_error(bt_store *s, const char *name, const char *text, int code,
                         const char *msg)
{
    bt_import_report rep;
    bt_counts before = counts(s);
    int rc = import_text(s, BT_TABLE_INTERVENTIONS, name, text, &rep);
    if (rc != code || strcmp(bt_store_errmsg(s), msg) != 0)
        fprintf(stderr, "got %d '%s'\nexpected %d '%s'\n", rc, bt_store_errmsg(s), code, msg);
    assert_int_equal(rc, code);
    assert_string_equal(bt_store_errmsg(s), msg);
    assert_int_equal(counts(s).interventions, before.interventions); /* nothing kept */
}

static void test_errors(void **state)
{
    (void)state;
    tstore t;
    open_with_border(&t);
    expect_error(t.s, "a.geojson",
                 one("null", "\"ref\":\"X\",\"name\":\"N\",\"kind\":\"ban\",\"start\":\"2020\","
                             "\"border\":\"PRK-CHN\""),
                 BT_ERR_INVALID,
                 "a.geojson: feature 1 (line 2, column 77): property 'kind' is 'ban'; expected "
                 "closure, order, fence_programme, deployment or other");
    expect_error(t.s, "a.geojson",
                 one("null", "\"ref\":\"X\",\"name\":\"N\",\"start\":\"2020\",\"border\":\"B\""),
                 BT_ERR_INVALID, "a.geojson: feature 1 (line 2, column 1): property 'kind' is missing");
    expect_error(t.s, "a.geojson",
                 one("null", "\"ref\":\"X\",\"name\":\"N\",\"kind\":\"order\",\"start\":"
                             "\"2020-02-30\",\"border\":\"PRK-CHN\""),
                 BT_ERR_PARSE,
                 "a.geojson: feature 1 (line 2, column 93): property 'start' is '2020-02-30'; "
                 "expected an ISO 8601 date (YYYY, YYYY-MM, YYYY-MM-DD) or timestamp");
    expect_error(t.s, "a.geojson", one("null", BORDER_PROPS ",\"end\":\"2020-07\""),
                 BT_ERR_INVALID,
                 "a.geojson: feature 1 (line 2, column 131): property 'end' is before 'start'");
    expect_error(t.s, "a.geojson",
                 one("null", "\"ref\":\"X\",\"kind\":\"order\",\"start\":\"2020\",\"border\":\"B\""),
                 BT_ERR_INVALID, "a.geojson: feature 1 (line 2, column 1): property 'name' is missing");
    expect_error(t.s, "a.geojson",
                 one("{\"type\":\"Polygon\",\"coordinates\":[[[1,1],[2,1],[2,2],[1,2],[1,1.5]]]}",
                     OK_PROPS),
                 BT_ERR_INVALID,
                 "a.geojson: feature 1 (line 2, column 30): geometry: the Polygon's ring is not "
                 "closed (position 1 (1, 1) differs from position 5 (1, 1.5))");
    expect_error(t.s, "a.geojson",
                 one("{\"type\":\"Polygon\",\"coordinates\":[[[1,1],[2,1],[1,1]]]}", OK_PROPS),
                 BT_ERR_INVALID,
                 "a.geojson: feature 1 (line 2, column 30): geometry: the Polygon's ring has 3 "
                 "positions; it needs at least 4");
    expect_error(t.s, "a.geojson",
                 one("{\"type\":\"Polygon\",\"coordinates\":[[[1,1],[3,1],[3,3],[1,1]],"
                     "[[1.5,1.2],[2,1.2],[2,1.4],[1.5,1.2]]]}",
                     OK_PROPS),
                 BT_ERR_INVALID,
                 "a.geojson: feature 1 (line 2, column 30): geometry: the Polygon has 2 rings; "
                 "only one (the exterior ring, no holes) is supported");
    expect_error(t.s, "a.geojson",
                 one("{\"type\":\"MultiPolygon\",\"coordinates\":[[[[1,1],[2,1],[2,2],[1,1]]]]}",
                     OK_PROPS),
                 BT_ERR_INVALID,
                 "a.geojson: feature 1 (line 2, column 30): geometry type 'MultiPolygon' is not "
                 "supported; give one Polygon per feature");
    expect_error(t.s, "a.geojson", one("{\"type\":\"Point\",\"coordinates\":[1,1]}", BORDER_PROPS),
                 BT_ERR_INVALID,
                 "a.geojson: feature 1 (line 2, column 30): geometry: expected a Polygon (the "
                 "area) or null (a border) for an intervention");
    expect_error(t.s, "a.geojson", one("null", OK_PROPS), BT_ERR_INVALID,
                 "a.geojson: feature 1 (line 2, column 1): property 'border' is missing (an "
                 "intervention without a Polygon applies to a border)");
    expect_error(t.s, "a.geojson", one(SQUARE, BORDER_PROPS), BT_ERR_INVALID,
                 "a.geojson: feature 1 (line 2, column 177): property 'border' is given with a "
                 "Polygon geometry; an intervention applies to a border (null geometry) or to "
                 "an area, not both");
    expect_error(t.s, "a.geojson", one(SQUARE, OK_PROPS ",\"to_m\":5"), BT_ERR_INVALID,
                 "a.geojson: feature 1 (line 2, column 175): property 'to_m' is given with a "
                 "Polygon geometry; a chainage range needs a border");
    /* the border has no segment: the API's message, positioned */
    expect_error(t.s, "a.geojson",
                 one("null", OK_PROPS ",\"border\":\"PRK-XXX\""), BT_ERR_NOT_FOUND,
                 "a.geojson: feature 1 (line 2, column 1): intervention 'X': border 'PRK-XXX' "
                 "has no segment");
    expect_error(t.s, "a.geojson", one("null", BORDER_PROPS ",\"from_m\":\"far\""),
                 BT_ERR_INVALID,
                 "a.geojson: feature 1 (line 2, column 134): property 'from_m' is 'far'; "
                 "expected a number");
    expect_error(t.s, "a.geojson", one("null", BORDER_PROPS ",\"from_m\":500,\"to_m\":100"),
                 BT_ERR_INVALID,
                 "a.geojson: feature 1 (line 2, column 1): intervention 'X': field 'to_m' is 100; "
                 "expected more than from_m 500, or INFINITY");
    /* CSV: the rows and columns */
    expect_error(t.s, "a.csv",
                 "ref,name,kind,start,wkt\n"
                 "R,N,order,2020,\"POLYGON((1 1,3 1,3 3,1 1),(1.5 1.2,2 1.2,2 1.4,1.5 1.2))\"\n",
                 BT_ERR_INVALID,
                 "a.csv: row 1 (line 2): column 'wkt': the POLYGON has 2 rings; only one (the "
                 "exterior ring, no holes) is supported");
    expect_error(t.s, "a.csv", "ref,name,kind,start,border\nR,N,closure,2020-13,PRK-CHN\n",
                 BT_ERR_PARSE,
                 "a.csv: row 1 (line 2): column 'start' is '2020-13'; expected an ISO 8601 date "
                 "(YYYY, YYYY-MM, YYYY-MM-DD) or timestamp");
    /* a duplicate ref */
    assert_int_equal(import_text(t.s, BT_TABLE_INTERVENTIONS, "a.geojson", one("null", BORDER_PROPS),
                                 NULL),
                     BT_OK);
    expect_error(t.s, "b.geojson", one("null", BORDER_PROPS), BT_ERR_EXISTS,
                 "b.geojson: feature 1 (line 2, column 1): intervention ref 'X' already "
                 "exists");
    tstore_close(&t);
}

typedef struct problems {
    int n;
    char msg[4][512];
} problems;

static int on_problem(const bt_import_problem *p, void *udata)
{
    problems *pr = udata;
    if (pr->n < 4) snprintf(pr->msg[pr->n], sizeof pr->msg[0], "%s", p->message);
    pr->n++;
    return 0;
}

static void test_skip_invalid(void **state)
{
    (void)state;
    tstore t;
    open_with_border(&t);
    const char *text =
        "{\"type\":\"FeatureCollection\",\"features\":[\n"
        "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"ref\":\"A\",\"name\":\"a\","
        "\"kind\":\"closure\",\"start\":\"2020\",\"border\":\"PRK-CHN\"}},\n"
        "{\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"ref\":\"B\",\"name\":\"b\","
        "\"kind\":\"shut\",\"start\":\"2020\",\"border\":\"PRK-CHN\"}},\n"
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[1,1],[2,1],"
        "[2,2],[1,1],[1,1]],[[1,1],[2,1],[2,2],[1,1]]]},\"properties\":{\"ref\":\"C\",\"name\":"
        "\"c\",\"kind\":\"other\",\"start\":\"2020\"}},\n"
        "{\"type\":\"Feature\",\"geometry\":" SQUARE ",\"properties\":{\"ref\":\"D\",\"name\":"
        "\"d\",\"kind\":\"other\",\"start\":\"2020\"}}\n"
        "]}\n";
    bt_import_options o;
    bt_import_options_init(&o);
    o.table = BT_TABLE_INTERVENTIONS;
    o.skip_invalid = 1;
    problems pr = {0};
    o.on_problem = on_problem;
    o.udata = &pr;
    bt_import_report rep;
    int rc = bt_import_mem(t.s, text, strlen(text), "s.geojson", &o, &rep);
    if (rc) fprintf(stderr, "%s\n", bt_store_errmsg(t.s));
    assert_int_equal(rc, BT_OK);
    assert_int_equal(rep.features, 4);
    assert_int_equal(rep.added, 2);
    assert_int_equal(rep.skipped, 2);
    assert_int_equal(pr.n, 2);
    assert_string_equal(pr.msg[0], "s.geojson: feature 2 (line 3, column 77): property 'kind' "
                                   "is 'shut'; expected closure, order, fence_programme, "
                                   "deployment or other");
    assert_string_equal(pr.msg[1], "s.geojson: feature 3 (line 4, column 30): geometry: the "
                                   "Polygon has 2 rings; only one (the exterior ring, no holes) "
                                   "is supported");
    int64_t id;
    assert_int_equal(bt_intervention_find(t.s, "A", &id), BT_OK);
    assert_int_equal(bt_intervention_find(t.s, "D", &id), BT_OK);
    assert_int_equal(bt_intervention_find(t.s, "B", &id), BT_ERR_NOT_FOUND);
    assert_int_equal(bt_intervention_find(t.s, "C", &id), BT_ERR_NOT_FOUND);
    assert_int_equal(counts(t.s).interventions, 2);
    tstore_close(&t);
}

static char *export_table(bt_store *s, bt_format fmt)
{
    membuf m = {0};
    bt_export_options eo;
    bt_export_options_init(&eo);
    eo.table = BT_TABLE_INTERVENTIONS;
    eo.format = fmt;
    int rc = bt_export_write(s, membuf_write, &m, &eo);
    if (rc) fprintf(stderr, "%s\n", bt_store_errmsg(s));
    assert_int_equal(rc, BT_OK);
    return m.p;
}

static void test_round_trip(void **state)
{
    (void)state;
    tstore t;
    open_with_border(&t);
    assert_int_equal(import_text(t.s, BT_TABLE_INTERVENTIONS, "iv.geojson", fc_text, NULL), BT_OK);
    const struct {
        bt_format fmt;
        const char *name;
    } fmts[] = {{BT_FORMAT_GEOJSON, "rt.geojson"},
                {BT_FORMAT_GEOJSONSEQ, "rt.geojsonl"},
                {BT_FORMAT_CSV, "rt.csv"}};
    for (size_t k = 0; k < sizeof fmts / sizeof fmts[0]; k++) {
        char *text = export_table(t.s, fmts[k].fmt);
        tstore u;
        open_with_border(&u);
        bt_import_report rep;
        int rc = import_text(u.s, BT_TABLE_INTERVENTIONS, fmts[k].name, text, &rep);
        if (rc) fprintf(stderr, "%s\n%s\n", bt_store_errmsg(u.s), text);
        assert_int_equal(rc, BT_OK);
        assert_int_equal(rep.added, 3);
        check_three(u.s);
        /* and exporting again gives the same bytes */
        char *again = export_table(u.s, fmts[k].fmt);
        assert_string_equal(again, text);
        free(again);
        free(text);
        tstore_close(&u);
    }
    /* the exact GeoJSON of the area and of a border with a range */
    char *g = export_table(t.s, BT_FORMAT_GEOJSON);
    assert_non_null(strstr(g, "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[128.1,41.3],"
                              "[128.2,41.3],[128.2,41.4],[128.1,41.4],[128.1,41.3]]]}"));
    assert_non_null(strstr(g, "{\"type\":\"Feature\",\"id\":\"IV-2\",\"geometry\":null,"
                              "\"properties\":{\"ref\":\"IV-2\",\"name\":\"Order\",\"kind\":"
                              "\"order\",\"start\":\"2020-08-25\",\"end\":\"2021-12-31\","
                              "\"border\":\"PRK-CHN\",\"from_m\":1000,\"to_m\":5000.5}}"));
    free(g);
    char *c = export_table(t.s, BT_FORMAT_CSV);
    assert_non_null(strstr(c, "ref,name,kind,start,end,summary,citation,border,from_m,to_m,wkt\r\n"
                              "IV-1,Closure,closure,2020-01,,Closed,KCNA,PRK-CHN,,,\r\n"));
    assert_non_null(strstr(c, "\"POLYGON((128.1 41.3,128.2 41.3,128.2 41.4,128.1 41.4,128.1 "
                              "41.3))\"\r\n"));
    free(c);
    char *k = export_table(t.s, BT_FORMAT_KML);
    assert_non_null(strstr(k, "<Polygon><tessellate>1</tessellate><outerBoundaryIs><LinearRing>"
                              "<coordinates>128.1,41.3 128.2,41.3 128.2,41.4 128.1,41.4 128.1,41.3"
                              "</coordinates></LinearRing></outerBoundaryIs></Polygon>"));
    assert_non_null(strstr(k, "<Placemark><name>Closure</name><description>Closed</description>"));
    free(k);
    /* no filter for this table */
    bt_export_options eo;
    bt_export_options_init(&eo);
    eo.table = BT_TABLE_INTERVENTIONS;
    bt_query q;
    bt_query_init(&q);
    eo.filter = &q;
    membuf m = {0};
    assert_int_equal(bt_export_write(t.s, membuf_write, &m, &eo), BT_ERR_INVALID);
    assert_string_equal(bt_store_errmsg(t.s),
                        "export: a filter applies to incidents, installations and borders only; "
                        "the interventions table takes none");
    free(m.p);
    tstore_close(&t);
}

static void test_table_name(void **state)
{
    (void)state;
    bt_table tb = BT_TABLE_BORDERS;
    assert_int_equal(bt_table_parse("Interventions", &tb), BT_OK);
    assert_int_equal(tb, BT_TABLE_INTERVENTIONS);
    assert_string_equal(bt_table_name(BT_TABLE_INTERVENTIONS), "interventions");
    assert_null(bt_table_name((bt_table)(BT_TABLE_INTERVENTIONS + 1)));
}

/* The bundled file: the two acts of 2020 on PRK-CHN, whole border. */
static void test_sample_file(void **state)
{
    (void)state;
    tstore t;
    open_with_border(&t);
    bt_import_options o;
    bt_import_options_init(&o);
    o.table = BT_TABLE_INTERVENTIONS;
    bt_import_report rep;
    int rc = bt_import_file(t.s, BT_EXAMPLES_DATA_DIR "/interventions.geojson", &o, &rep);
    if (rc) fprintf(stderr, "%s\n", bt_store_errmsg(t.s));
    assert_int_equal(rc, BT_OK);
    assert_int_equal(rep.added, 2);
    bt_intervention **ivs = NULL;
    size_t n = 0;
    assert_int_equal(bt_intervention_list(t.s, "PRK-CHN", &ivs, &n), BT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ivs[0]->kind, BT_INTERVENTION_CLOSURE);
    assert_int_equal(ivs[0]->start.t, T_2020);
    assert_int_equal(ivs[0]->start.precision, BT_TIME_MONTH);
    assert_int_equal(ivs[1]->kind, BT_INTERVENTION_ORDER);
    assert_int_equal(ivs[1]->start.t, T_0825);
    assert_int_equal(ivs[1]->start.precision, BT_TIME_DAY);
    for (size_t i = 0; i < n; i++) {
        assert_true(ivs[i]->from_m == 0.0 && isinf(ivs[i]->to_m));
        assert_null(ivs[i]->area);
        assert_int_equal(ivs[i]->end.precision, BT_TIME_NONE);
        assert_non_null(ivs[i]->citation);
    }
    bt_intervention_array_free(ivs, n);
    tstore_close(&t);
}

#ifdef BT_FAULT_INJECTION
long bt__alloc_fail_after(long n);

/* Out of memory at every allocation in turn: an import fails with BT_ERR_NOMEM and
 * keeps nothing, until it succeeds; an export fails the same way until it succeeds. */
static void test_nomem(void **state)
{
    (void)state;
    long n;
    for (n = 1; n < 5000; n++) {
        tstore t;
        open_with_border(&t);
        bt__alloc_fail_after(n);
        int rc = import_text(t.s, BT_TABLE_INTERVENTIONS, "f.geojson", fc_text, NULL);
        bt__alloc_fail_after(0);
        if (rc == BT_OK) {
            check_three(t.s);
            tstore_close(&t);
            break;
        }
        if (rc != BT_ERR_NOMEM) fprintf(stderr, "n=%ld: %d %s\n", n, rc, bt_store_errmsg(t.s));
        assert_int_equal(rc, BT_ERR_NOMEM);
        assert_int_equal(counts(t.s).interventions, 0);
        tstore_close(&t);
    }
    assert_true(n > 2 && n < 5000);
    tstore t;
    open_with_border(&t);
    assert_int_equal(import_text(t.s, BT_TABLE_INTERVENTIONS, "f.geojson", fc_text, NULL), BT_OK);
    char *want = export_table(t.s, BT_FORMAT_GEOJSON);
    bt_export_options eo;
    bt_export_options_init(&eo);
    eo.table = BT_TABLE_INTERVENTIONS;
    for (n = 1; n < 5000; n++) {
        membuf m = {0};
        bt__alloc_fail_after(n);
        int rc = bt_export_write(t.s, membuf_write, &m, &eo);
        bt__alloc_fail_after(0);
        if (rc == BT_OK) {
            assert_string_equal(m.p, want);
            free(m.p);
            break;
        }
        free(m.p);
        assert_int_equal(rc, BT_ERR_NOMEM);
    }
    assert_true(n > 2 && n < 5000);
    free(want);
    tstore_close(&t);
}
#else
static void test_nomem(void **state)
{
    (void)state;
    skip();
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geojson),          cmocka_unit_test(test_geojsonseq_and_csv),
        cmocka_unit_test(test_errors),           cmocka_unit_test(test_skip_invalid),
        cmocka_unit_test(test_round_trip),       cmocka_unit_test(test_table_name),
        cmocka_unit_test(test_sample_file),      cmocka_unit_test(test_nomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
