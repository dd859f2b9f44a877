/**
 * @file test_export_filter.c
 * @brief Export with a query filter (bt_export_options::filter): the exported records
 * are exactly those the query API selects, in its order and within its limit; tables
 * that take no filter are refused; a bad filter is reported as the query reports it.
 *
 * The expected set for the circle-and-time filter is also checked against a list
 * computed independently from examples/data/incidents_hyesan.geojson (Python with
 * PROJ's `geod -I +ellps=WGS84`), the same list tests/cli/cli_test.sh uses.
 */
#include "io_test_util.h"

/* Hyesan in the gazetteer (places.csv). */
static const bt_lonlat HYESAN = {128.17778, 41.40167};

/* The 2020 incidents within 2 km of Hyesan, in id order (independent computation). */
static const char *const REFS_2KM_2020[] = {
    "DNK-2020-07-29-HYESAN", "SYN-0002", "SYN-0007", "SYN-0009", "SYN-0038", "SYN-0043",
    "SYN-0044", "SYN-0059", "SYN-0105", "SYN-0116", "SYN-0138", "SYN-0142", "SYN-0144",
    "SYN-0153", "SYN-0169", "SYN-0176", "SYN-0188", "SYN-0190", "SYN-0194", "SYN-0195",
    "SYN-0201", "SYN-0218", "SYN-0220", "SYN-0226", "SYN-0247", "SYN-0254", "SYN-0278",
};
#define N_2KM_2020 (sizeof REFS_2KM_2020 / sizeof REFS_2KM_2020[0])

static void load_sample(tstore *t)
{
    tstore_open(t);
    static const struct { const char *file; bt_table table; } files[] = {
        {BT_EXAMPLES_DATA_DIR "/borders.geojson", BT_TABLE_BORDERS},
        {BT_EXAMPLES_DATA_DIR "/places.csv", BT_TABLE_PLACES},
        {BT_EXAMPLES_DATA_DIR "/installations_hyesan.geojson", BT_TABLE_INSTALLATIONS},
        {BT_EXAMPLES_DATA_DIR "/incidents_hyesan.geojson", BT_TABLE_INCIDENTS},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        bt_import_options o;
        bt_import_options_init(&o);
        o.table = files[i].table;
        int rc = bt_import_file(t->s, files[i].file, &o, NULL);
        if (rc) fprintf(stderr, "%s\n", bt_store_errmsg(t->s));
        assert_int_equal(rc, BT_OK);
    }
}

/* The circle of 2 km around Hyesan, during 2020. */
static void circle_2020(bt_query *q)
{
    bt_query_init(q);
    q->area = BT_AREA_CIRCLE;
    q->centre = HYESAN;
    q->radius_m = 2000;
    int64_t first, last, f2, l2;
    assert_int_equal(bt_time_parse("2020", &first, &l2, NULL), BT_OK);
    assert_int_equal(bt_time_parse("2020", &f2, &last, NULL), BT_OK);
    q->from = first;
    q->to = last;
}

static char *export_filtered(bt_store *s, bt_table table, bt_format fmt, const bt_query *q)
{
    membuf m = {0};
    bt_export_options eo;
    bt_export_options_init(&eo);
    eo.table = table;
    eo.format = fmt;
    eo.filter = q;
    int rc = bt_export_write(s, membuf_write, &m, &eo);
    if (rc) fprintf(stderr, "%s\n", bt_store_errmsg(s));
    assert_int_equal(rc, BT_OK);
    return m.p;
}

/* The ids ("id" members, the refs) of the features of a GeoJSON export, in order.
 * Returns how many; each refs[i] is malloc'd. */
static size_t feature_ids(const char *text, char **refs, size_t cap)
{
    static const char key[] = "{\"type\":\"Feature\",\"id\":\"";
    size_t n = 0;
    for (const char *p = strstr(text, key); p; p = strstr(p, key)) {
        p += sizeof key - 1;
        const char *e = strchr(p, '"');
        assert_non_null(e);
        assert_true(n < cap);
        refs[n] = strndup(p, (size_t)(e - p));
        n++;
    }
    return n;
}

static size_t count_features(const char *text)
{
    size_t n = 0;
    for (const char *p = strstr(text, "{\"type\":\"Feature\""); p;
         p = strstr(p + 1, "{\"type\":\"Feature\""))
        n++;
    return n;
}

static void free_refs(char **refs, size_t n)
{
    for (size_t i = 0; i < n; i++) free(refs[i]);
}

static void test_incidents_circle_time(void **state)
{
    (void)state;
    tstore t;
    load_sample(&t);
    bt_query q;
    circle_2020(&q);

    /* what the query API selects ... */
    bt_hit *hits = NULL;
    size_t nh = 0;
    assert_int_equal(bt_incident_query_all(t.s, &q, &hits, &nh), BT_OK);
    assert_int_equal(nh, N_2KM_2020);

    /* ... is what the export writes, feature for feature and in the same order */
    char *text = export_filtered(t.s, BT_TABLE_INCIDENTS, BT_FORMAT_GEOJSON, &q);
    char *refs[400];
    size_t n = feature_ids(text, refs, 400);
    assert_int_equal(n, nh);
    for (size_t i = 0; i < n; i++) {
        bt_incident *inc = NULL;
        assert_int_equal(bt_incident_get(t.s, hits[i].id, &inc), BT_OK);
        assert_string_equal(refs[i], inc->ref);
        assert_string_equal(refs[i], REFS_2KM_2020[i]);
        bt_incident_free(inc);
    }
    free_refs(refs, n);
    free(text);

    /* CSV: a header and one row per incident; the refs lead each row */
    text = export_filtered(t.s, BT_TABLE_INCIDENTS, BT_FORMAT_CSV, &q);
    /* (quoted summaries might hold line breaks: look for each ref at a row start) */
    size_t found = 0;
    for (size_t i = 0; i < N_2KM_2020; i++) {
        char needle[64];
        snprintf(needle, sizeof needle, "\r\n%s,", REFS_2KM_2020[i]);
        if (strstr(text, needle)) found++;
    }
    assert_int_equal(found, N_2KM_2020);
    assert_null(strstr(text, "\r\nSYN-0001,")); /* outside the circle */
    free(text);

    /* the round trip of a filtered export gives back just those incidents */
    text = export_filtered(t.s, BT_TABLE_INCIDENTS, BT_FORMAT_GEOJSON, &q);
    tstore t2;
    tstore_open(&t2);
    bt_import_report rep;
    assert_int_equal(import_text(t2.s, BT_TABLE_INCIDENTS, "f.geojson", text, &rep), BT_OK);
    assert_int_equal(rep.added, (long)N_2KM_2020);
    int64_t id;
    assert_int_equal(bt_incident_find(t2.s, "SYN-0278", &id), BT_OK);
    assert_int_equal(bt_incident_find(t2.s, "SYN-0001", &id), BT_ERR_NOT_FOUND);
    tstore_close(&t2);
    free(text);
    bt_hits_free(hits);
    tstore_close(&t);
}

static void test_incidents_order_and_limit(void **state)
{
    (void)state;
    tstore t;
    load_sample(&t);
    bt_query q;
    circle_2020(&q);
    q.order = BT_ORDER_DISTANCE;
    q.limit = 5;
    bt_hit *hits = NULL;
    size_t nh = 0;
    assert_int_equal(bt_incident_query_all(t.s, &q, &hits, &nh), BT_OK);
    assert_int_equal(nh, 5);
    char *text = export_filtered(t.s, BT_TABLE_INCIDENTS, BT_FORMAT_GEOJSONSEQ, &q);
    char *refs[8];
    size_t n = feature_ids(text, refs, 8);
    assert_int_equal(n, 5);
    /* the real report is at Hyesan itself: distance 0, first */
    assert_string_equal(refs[0], "DNK-2020-07-29-HYESAN");
    for (size_t i = 0; i < n; i++) {
        bt_incident *inc = NULL;
        assert_int_equal(bt_incident_get(t.s, hits[i].id, &inc), BT_OK);
        assert_string_equal(refs[i], inc->ref);
        bt_incident_free(inc);
    }
    free_refs(refs, n);
    free(text);
    bt_hits_free(hits);

    /* a type filter without an area: 33 smuggling + 13 arrests in 2020 (the file) */
    circle_2020(&q);
    q.area = BT_AREA_NONE;
    q.types = (1u << BT_INCIDENT_SMUGGLING) | (1u << BT_INCIDENT_ARREST);
    text = export_filtered(t.s, BT_TABLE_INCIDENTS, BT_FORMAT_GEOJSON, &q);
    assert_int_equal(count_features(text), 46);
    free(text);

    /* a filter that matches nothing gives an empty, valid collection */
    bt_query_init(&q);
    q.area = BT_AREA_CIRCLE;
    q.centre = (bt_lonlat){0, 0};
    q.radius_m = 1000;
    text = export_filtered(t.s, BT_TABLE_INCIDENTS, BT_FORMAT_GEOJSON, &q);
    assert_string_equal(text,
                        "{\"type\":\"FeatureCollection\",\"name\":\"incidents\",\"features\":[\n\n]}\n");
    free(text);
    tstore_close(&t);
}

static int collect_inst(const bt_installation *inst, double d, void *udata)
{
    (void)d;
    int64_t *ids = udata;
    ids[++ids[0]] = inst->id;
    return 0;
}

static int collect_seg(const bt_segment *seg, double d, void *udata)
{
    (void)d;
    int64_t *ids = udata;
    ids[++ids[0]] = seg->id;
    return 0;
}

static void test_installations_and_borders(void **state)
{
    (void)state;
    tstore t;
    load_sample(&t);
    bt_query q;
    circle_2020(&q);
    q.radius_m = 3000;
    int64_t ids[200] = {0};
    assert_int_equal(bt_installation_query(t.s, &q, collect_inst, ids), BT_OK);
    assert_true(ids[0] > 0);
    assert_true(ids[0] < 47); /* some of the 47, not all */
    char *text = export_filtered(t.s, BT_TABLE_INSTALLATIONS, BT_FORMAT_GEOJSON, &q);
    assert_int_equal(count_features(text), (size_t)ids[0]);
    char *refs[200];
    size_t n = feature_ids(text, refs, 200);
    assert_int_equal(n, (size_t)ids[0]); /* every sample installation has a ref */
    for (size_t i = 0; i < n; i++) {
        bt_installation *in = NULL;
        assert_int_equal(bt_installation_get(t.s, ids[i + 1], &in), BT_OK);
        assert_string_equal(refs[i], in->ref);
        bt_installation_free(in);
    }
    free_refs(refs, n);
    free(text);

    /* borders: a box around Hyesan */
    bt_query_init(&q);
    q.area = BT_AREA_BBOX;
    q.box = (bt_bbox){128.10, 41.35, 128.25, 41.45};
    memset(ids, 0, sizeof ids);
    assert_int_equal(bt_segment_query(t.s, &q, collect_seg, ids), BT_OK);
    assert_true(ids[0] > 0);
    assert_true(ids[0] < 137);
    text = export_filtered(t.s, BT_TABLE_BORDERS, BT_FORMAT_CSV, &q);
    size_t lines = 0;
    for (const char *p = text; (p = strstr(p, "\r\n")) != NULL; p += 2) lines++;
    assert_int_equal(lines, (size_t)ids[0] + 1);
    for (int64_t i = 1; i <= ids[0]; i++) {
        bt_segment *seg = NULL;
        assert_int_equal(bt_segment_get(t.s, ids[i], &seg), BT_OK);
        char needle[200];
        snprintf(needle, sizeof needle, "\r\n%s,%s,%d,", seg->border, seg->name, (int)seg->seq);
        assert_non_null(strstr(text, needle));
        bt_segment_free(seg);
    }
    free(text);
    tstore_close(&t);
}

static void test_filter_errors(void **state)
{
    (void)state;
    tstore t;
    load_sample(&t);
    bt_query q;
    bt_query_init(&q);
    membuf m = {0};
    bt_export_options eo;
    bt_export_options_init(&eo);
    assert_null(eo.filter);
    assert_null(eo.progress);
    eo.filter = &q;
    /* sources and places take no filter */
    eo.table = BT_TABLE_PLACES;
    assert_int_equal(bt_export_write(t.s, membuf_write, &m, &eo), BT_ERR_INVALID);
    assert_string_equal(bt_store_errmsg(t.s),
                        "export: a filter applies to incidents, installations and borders "
                        "only; the places table takes none");
    eo.table = BT_TABLE_SOURCES;
    eo.include_sources = 1;
    assert_int_equal(bt_export_write(t.s, membuf_write, &m, &eo), BT_ERR_INVALID);
    assert_non_null(strstr(bt_store_errmsg(t.s), "the sources table takes none"));
    assert_int_equal(m.n, 0); /* nothing written */
    /* a bad filter fails as the query API fails, before anything is written */
    eo.table = BT_TABLE_INCIDENTS;
    eo.include_sources = 0;
    q.area = BT_AREA_CIRCLE;
    q.centre = HYESAN;
    q.radius_m = -5;
    assert_int_equal(bt_export_write(t.s, membuf_write, &m, &eo), BT_ERR_INVALID);
    assert_true(strncmp(bt_store_errmsg(t.s), "export: the filter: ", 20) == 0);
    assert_int_equal(m.n, 0);
    /* a failed filtered export to a file leaves no file */
    char path[200];
    snprintf(path, sizeof path, "%s/f.geojson", t.dir);
    assert_int_equal(bt_export_file(t.s, path, &eo), BT_ERR_INVALID);
    assert_int_equal(access(path, F_OK), -1);
    q.radius_m = 2000;
    assert_int_equal(bt_export_file(t.s, path, &eo), BT_OK);
    char *text = read_all(path, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "DNK-2020-07-29-HYESAN"));
    free(text);
    free(m.p);
    tstore_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incidents_circle_time),
        cmocka_unit_test(test_incidents_order_and_limit),
        cmocka_unit_test(test_installations_and_borders),
        cmocka_unit_test(test_filter_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
