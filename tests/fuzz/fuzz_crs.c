/**
 * @file fuzz_crs.c
 * @brief libFuzzer harness of CRS strings: the text goes to PROJ through the internal
 * bt__crs_open() (the path of bt_import_options::crs and of a GeoJSON `crs` member),
 * and through the import option itself on a one-feature file.
 */
#include "fuzz_common.h"

#include "geo/geo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* PROJ takes a C string: cut at the first NUL and keep inputs short (a CRS text
     * longer than this is not a CRS, and PROJ's parsers are fuzzed upstream) */
    if (size > 4096)
        return 0;
    char *text = bt_fuzz_cstr(data, size);
    bt_store *s = bt_fuzz_store();
    bt__crs *t = NULL;
    int rc = bt__crs_open(s, text, &t);
    BT_FUZZ_CHECK(rc == BT_OK || rc == BT_ERR_CRS || rc == BT_ERR_INVALID);
    if (rc == BT_OK) {
        BT_FUZZ_CHECK(t != NULL && bt__crs_name(t) != NULL);
        double x[2] = {500000.0, 128.0}, y[2] = {4580000.0, 41.4};
        rc = bt__crs_to_wgs84(s, t, x, y, 2);
        BT_FUZZ_CHECK(rc == BT_OK || rc == BT_ERR_CRS);
        bt__crs_close(t);
    } else {
        BT_FUZZ_CHECK(t == NULL && bt_store_errmsg(s)[0] != '\0');
    }

    static const char feature[] =
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
        "[500000,4580000]},\"properties\":{\"ref\":\"CRS-1\",\"type\":\"smuggling\","
        "\"start\":\"2020-07-01\"}}\n";
    BT_FUZZ_CHECK(bt_store_begin(s) == BT_OK);
    bt_import_options opt;
    bt_import_options_init(&opt);
    opt.format = BT_FORMAT_GEOJSONSEQ;
    opt.crs = text;
    rc = bt_import_mem(s, feature, sizeof feature - 1, "crs.geojsonl", &opt, NULL);
    BT_FUZZ_CHECK(rc == BT_OK || bt_store_errmsg(s)[0] != '\0');
    BT_FUZZ_CHECK(bt_store_rollback(s) == BT_OK);
    free(text);
    return 0;
}
