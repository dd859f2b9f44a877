/**
 * @file fuzz_wkt.c
 * @brief libFuzzer harness of geometry text: the input is a WKT string, read through
 * the two paths that take WKT from outside: the `wkt` column of a CSV import (every
 * table that has a geometry) and the polygon of a query (bt_query::wkt).
 */
#include "fuzz_common.h"

/* Appends the input as one RFC 4180 quoted field (quotes doubled). */
static size_t put_quoted(char *dst, const uint8_t *data, size_t size)
{
    size_t n = 0;
    dst[n++] = '"';
    for (size_t i = 0; i < size; i++) {
        if (data[i] == '"')
            dst[n++] = '"';
        dst[n++] = (char)data[i];
    }
    dst[n++] = '"';
    return n;
}

static int count_cb(const bt_incident *inc, double d, void *udata)
{
    (void)inc;
    (void)d;
    ++*(long *)udata;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* one header that suits every table: the importer ignores columns it does not use
     * (a required one missing would only stop the feature before the WKT is read) */
    static const char header[] =
        "ref,type,start,border,name,seq,country,status,wkt\n"
        "F-1,smuggling,2020-07-01,PRK-CHN,Fuzz,0,KP,complete,";
    static const bt_table tables[] = {BT_TABLE_BORDERS, BT_TABLE_INSTALLATIONS,
                                      BT_TABLE_INCIDENTS, BT_TABLE_PLACES};
    size_t cap = sizeof header + 2 * size + 4;
    char *csv = malloc(cap);
    if (csv == NULL)
        abort();
    memcpy(csv, header, sizeof header - 1);
    size_t n = sizeof header - 1;
    n += put_quoted(csv + n, data, size);
    csv[n++] = '\n';
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        bt_fuzz_import(csv, n, "fuzz.csv", tables[i], BT_FORMAT_CSV, 0);
    free(csv);

    /* the query polygon; the store is empty, so a valid polygon finds nothing */
    char *text = bt_fuzz_cstr(data, size);
    bt_store *s = bt_fuzz_store();
    bt_query q;
    bt_query_init(&q);
    q.area = BT_AREA_POLYGON;
    q.wkt = text;
    int64_t total = -1;
    int rc = bt_incident_count(s, &q, &total, NULL);
    BT_FUZZ_CHECK(rc != BT_OK ? bt_store_errmsg(s)[0] != '\0' : total == 0);
    long hits = 0;
    rc = bt_incident_query(s, &q, count_cb, &hits);
    BT_FUZZ_CHECK(rc != BT_OK || hits == 0);
    free(text);
    return 0;
}
