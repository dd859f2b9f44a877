/**
 * @file test_import_csv.c
 * @brief CSV import: RFC 4180 quoting (embedded commas, quotes, line breaks), BOM,
 * CRLF, lon/lat and x/y and wkt columns, the bundled places file with UTF-8 names,
 * and the line numbers of errors in rows that span lines.
 */
#include "io_test_util.h"

static void test_rfc4180(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    bt_import_report rep;
    int rc = bt_import_file(t.s, BT_TEST_DATA_DIR "/incidents_rfc4180.csv", NULL, &rep);
    if (rc) fprintf(stderr, "%s\n", bt_store_errmsg(t.s));
    assert_int_equal(rc, BT_OK);
    assert_int_equal(rep.features, 2);
    assert_int_equal(rep.added, 2);
    int64_t id;
    bt_incident *inc;
    assert_int_equal(bt_incident_find(t.s, "C-1", &id), BT_OK); /* BOM gone from "ref" */
    assert_int_equal(bt_incident_get(t.s, id, &inc), BT_OK);
    assert_string_equal(inc->summary, "He said \"go\", then ran");
    assert_int_equal(inc->type, BT_INCIDENT_SMUGGLING);
    assert_int_equal(inc->start, 1620000000); /* 2021-05-03 */
    assert_int_equal(inc->end, 1620000000 + 86399);
    assert_near(inc->where.lon, 128.18, 1e-12);
    assert_near(inc->where.lat, 41.41, 1e-12);
    bt_incident_free(inc);
    assert_int_equal(bt_source_find(t.s, "Src, Quoted", &id), BT_OK);
    bt_source *src;
    assert_int_equal(bt_source_get(t.s, id, &src), BT_OK);
    assert_int_equal(src->reliability, 'D');
    bt_source_free(src);
    assert_int_equal(bt_incident_find(t.s, "C-2", &id), BT_OK);
    assert_int_equal(bt_incident_get(t.s, id, &inc), BT_OK);
    assert_string_equal(inc->summary, "two\r\nlines"); /* kept as written */
    assert_true(inc->end == BT_TIME_OPEN);
    assert_int_equal(inc->time_precision, BT_TIME_MONTH);
    bt_incident_free(inc);
    assert_int_equal(counts(t.s).links, 1);
    tstore_close(&t);
}

static int find_sinuiju(const bt_place *p, void *udata)
{
    int *found = udata;
    if (strcmp(p->name, "Sin\xc5\xad" "iju") == 0) {
        assert_string_equal(p->country, "KP");
        assert_string_equal(p->admin1, "11");
        assert_near(p->where.lat, 40.10056, 1e-12);
        assert_near(p->where.lon, 124.39806, 1e-12);
        *found = 1;
        return 1; /* stop */
    }
    return 0;
}

static void test_places_file(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    bt_import_options o;
    bt_import_options_init(&o);
    o.table = BT_TABLE_PLACES;
    bt_import_report rep;
    assert_int_equal(bt_import_file(t.s, BT_EXAMPLES_DATA_DIR "/places.csv", &o, &rep), BT_OK);
    assert_int_equal(rep.features, 80);
    assert_int_equal(counts(t.s).places, 80);
    int found = 0;
    assert_int_equal(bt_place_foreach(t.s, find_sinuiju, &found), BT_OK);
    assert_true(found);
    bt_place *p;
    assert_int_equal(bt_place_get(t.s, 1, &p), BT_OK);
    assert_string_equal(p->name, "Xinxing");
    bt_place_free(p);
    tstore_close(&t);
}

static void test_wkt(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    bt_import_options o;
    bt_import_options_init(&o);
    o.table = BT_TABLE_BORDERS;
    bt_import_report rep;
    int rc = bt_import_file(t.s, BT_TEST_DATA_DIR "/borders_wkt.csv", &o, &rep);
    if (rc) fprintf(stderr, "%s\n", bt_store_errmsg(t.s));
    assert_int_equal(rc, BT_OK);
    assert_int_equal(rep.added, 3);
    bt_segment *seg;
    assert_int_equal(bt_segment_get(t.s, 1, &seg), BT_OK);
    assert_string_equal(seg->name, "Yalu 1");
    assert_string_equal(seg->river, "Amnok");
    assert_int_equal(seg->npoints, 3);
    assert_near(seg->points[2].lat, 40.135, 1e-12);
    bt_segment_free(seg);
    /* a MULTILINESTRING without a name: one segment per part, after seq 0 */
    assert_int_equal(bt_segment_get(t.s, 3, &seg), BT_OK);
    assert_string_equal(seg->name, "PRK-CHN part 002");
    assert_int_equal(seg->seq, 2);
    assert_int_equal(seg->npoints, 3);
    bt_segment_free(seg);

    o.table = BT_TABLE_INSTALLATIONS;
    rc = bt_import_file(t.s, BT_TEST_DATA_DIR "/installations_wkt.csv", &o, &rep);
    if (rc) fprintf(stderr, "%s\n", bt_store_errmsg(t.s));
    assert_int_equal(rc, BT_OK);
    bt_installation *in;
    assert_int_equal(bt_installation_get(t.s, 1, &in), BT_OK);
    assert_string_equal(in->condition, "sways, leans");
    assert_int_equal(in->material, BT_MATERIAL_THIN_STEEL_WIRE);
    assert_int_equal(in->npoints, 2);
    bt_installation_free(in);
    assert_int_equal(bt_installation_get(t.s, 2, &in), BT_OK);
    assert_int_equal(in->kind, BT_INSTALL_GUARD_POST);
    assert_int_equal(in->npoints, 1);
    assert_near(in->points[0].lon, 128.2, 1e-12);
    bt_installation_free(in);
    tstore_close(&t);
}

static void test_errors_and_lines(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    /* row 2 starts on line 4 because row 1 has a quoted line break */
    const char *csv = "name,country,lat,lon\n"
                      "\"Multi\nline\",KP,41,128\n"
                      "Bad,KP,91,128\n";
    bt_import_options o;
    bt_import_options_init(&o);
    o.table = BT_TABLE_PLACES;
    int rc = bt_import_mem(t.s, csv, strlen(csv), "p.csv", &o, NULL);
    assert_int_equal(rc, BT_ERR_INVALID);
    assert_string_equal(bt_store_errmsg(t.s),
                        "p.csv: row 2 (line 4): geometry: position 1 (128, 91) is outside "
                        "lon -180..180, lat -90..90 (is a CRS missing?)");
    assert_int_equal(counts(t.s).places, 0);
    /* a field count mismatch, and a stray quote */
    const char *c2 = "name,country,lat,lon\nA,KP,41\n";
    assert_int_equal(bt_import_mem(t.s, c2, strlen(c2), "c2.csv", &o, NULL), BT_ERR_PARSE);
    assert_string_equal(bt_store_errmsg(t.s),
                        "c2.csv: row 1 (line 2): the row has 3 fields; the header has 4");
    const char *c3 = "name,country,lat,lon\nA\"b,KP,41,128\n";
    assert_int_equal(bt_import_mem(t.s, c3, strlen(c3), "c3.csv", &o, NULL), BT_ERR_PARSE);
    assert_string_equal(bt_store_errmsg(t.s),
                        "c3.csv: line 2: a quote inside unquoted field 1 (quote the whole "
                        "field and double the quote)");
    /* skip_invalid with CSV */
    const char *c4 = "name,country,lat,lon\nA,KP,41,128\nB,,41,128\nC,CN,x,128\nD,CN,42,128\n";
    o.skip_invalid = 1;
    bt_import_report rep;
    assert_int_equal(bt_import_mem(t.s, c4, strlen(c4), "c4.csv", &o, &rep), BT_OK);
    assert_int_equal(rep.features, 4);
    assert_int_equal(rep.added, 2);
    assert_int_equal(rep.skipped, 2);
    assert_int_equal(counts(t.s).places, 2);
    /* a header only: nothing to do */
    const char *c5 = "name,country,lat,lon\r\n";
    assert_int_equal(bt_import_mem(t.s, c5, strlen(c5), "c5.csv", &o, &rep), BT_OK);
    assert_int_equal(rep.features, 0);
    tstore_close(&t);
}

/* A file larger than one read chunk (64 KiB), so rows straddle chunk boundaries. */
static void test_large_file(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    char path[160];
    snprintf(path, sizeof path, "%s/many.csv", t.dir);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs("ref,type,start,summary,lon,lat\n", fp);
    for (int i = 0; i < 3000; i++)
        fprintf(fp, "R-%d,patrol,2020-01-%02d,\"note %d, with a comma\nand a line\",%.5f,%.5f\n",
                i, 1 + i % 28, i, 128 + i * 1e-5, 41 + i * 1e-5);
    fclose(fp);
    bt_import_report rep;
    int rc = bt_import_file(t.s, path, NULL, &rep);
    if (rc) fprintf(stderr, "%s\n", bt_store_errmsg(t.s));
    assert_int_equal(rc, BT_OK);
    assert_int_equal(rep.added, 3000);
    int64_t id;
    bt_incident *inc;
    assert_int_equal(bt_incident_find(t.s, "R-2999", &id), BT_OK);
    assert_int_equal(bt_incident_get(t.s, id, &inc), BT_OK);
    assert_string_equal(inc->summary, "note 2999, with a comma\nand a line");
    assert_near(inc->where.lon, 128.02999, 1e-9);
    bt_incident_free(inc);
    tstore_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4180),
        cmocka_unit_test(test_places_file),
        cmocka_unit_test(test_wkt),
        cmocka_unit_test(test_errors_and_lines),
        cmocka_unit_test(test_large_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
