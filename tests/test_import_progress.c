/**
 * @file test_import_progress.c
 * @brief Progress callbacks of import and export (bt_import_options::progress,
 * bt_export_options::progress): when they are called, with which values (checked
 * against byte offsets and record counts computed here from the generated input),
 * and cancellation, which must leave the store exactly as it was.
 */
#include "io_test_util.h"

#define MAXCALLS 64

typedef struct calls {
    uint64_t done[MAXCALLS], total[MAXCALLS];
    int n;
    int cancel_at; /* 1-based call that returns non-zero; 0: never */
} calls;

static int record(uint64_t done, uint64_t total, void *udata)
{
    calls *c = udata;
    if (c->n < MAXCALLS) {
        c->done[c->n] = done;
        c->total[c->n] = total;
    }
    c->n++;
    return c->cancel_at > 0 && c->n == c->cancel_at;
}

/* A places CSV of @p rows rows; offs[k] is the byte offset just past row k (1-based),
 * offs[0] the end of the header. */
static char *places_csv(int rows, size_t *offs, size_t *len)
{
    size_t cap = 64 + (size_t)rows * 64, n = 0;
    char *b = malloc(cap);
    n += (size_t)sprintf(b + n, "name,country,lat,lon\r\n");
    offs[0] = n;
    for (int k = 1; k <= rows; k++) {
        n += (size_t)sprintf(b + n, "Place %d,KP,%.4f,%.4f\r\n", k, 40.0 + k * 1e-4,
                             127.0 + k * 1e-4);
        offs[k] = n;
    }
    *len = n;
    return b;
}

static void assert_monotone(const calls *c)
{
    for (int i = 1; i < c->n && i < MAXCALLS; i++) {
        assert_true(c->done[i] >= c->done[i - 1]);
        assert_true(c->total[i] >= c->total[i - 1]);
    }
}

static void test_import_progress_csv(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    size_t offs[2501], len;
    char *csv = places_csv(2500, offs, &len);
    calls c = {0};
    bt_import_options o;
    bt_import_options_init(&o);
    assert_null(o.progress);
    o.table = BT_TABLE_PLACES;
    o.progress = record;
    o.progress_udata = &c;
    bt_import_report rep;
    assert_int_equal(bt_import_mem(t.s, csv, len, "p.csv", &o, &rep), BT_OK);
    assert_int_equal(rep.added, 2500);
    /* start, after rows 1000 and 2000, end: bytes of the input */
    assert_int_equal(c.n, 4);
    assert_int_equal(c.done[0], 0);
    assert_int_equal(c.done[1], offs[1000]);
    assert_int_equal(c.done[2], offs[2000]);
    assert_int_equal(c.done[3], len);
    for (int i = 0; i < 4; i++) assert_int_equal(c.total[i], len);
    assert_monotone(&c);

    /* from a file: the total is the file's size */
    char path[200];
    snprintf(path, sizeof path, "%s/places.csv", t.dir);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fwrite(csv, 1, len, fp);
    fclose(fp);
    tstore t2;
    tstore_open(&t2);
    memset(&c, 0, sizeof c);
    assert_int_equal(bt_import_file(t2.s, path, &o, NULL), BT_OK);
    assert_int_equal(c.n, 4);
    assert_int_equal(c.done[1], offs[1000]);
    assert_int_equal(c.done[3], len);
    assert_int_equal(c.total[3], len);
    tstore_close(&t2);
    free(csv);
    tstore_close(&t);
}

static void test_import_progress_geojson(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    /* 1500 point features, one a line: feature 1000 ends where its line's '}' is */
    size_t cap = 1500 * 160 + 200, n = 0;
    char *g = malloc(cap);
    size_t end1000 = 0;
    n += (size_t)sprintf(g + n, "{\"type\":\"FeatureCollection\",\"features\":[\n");
    for (int k = 1; k <= 1500; k++) {
        n += (size_t)sprintf(g + n,
                             "%s{\"type\":\"Feature\",\"properties\":{\"name\":\"P%d\","
                             "\"country\":\"CN\"},\"geometry\":{\"type\":\"Point\","
                             "\"coordinates\":[127.5,41.5]}}",
                             k > 1 ? ",\n" : "", k);
        if (k == 1000) end1000 = n;
    }
    n += (size_t)sprintf(g + n, "\n]}\n");
    calls c = {0};
    bt_import_options o;
    bt_import_options_init(&o);
    o.table = BT_TABLE_PLACES;
    o.progress = record;
    o.progress_udata = &c;
    assert_int_equal(bt_import_mem(t.s, g, n, "p.geojson", &o, NULL), BT_OK);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.done[0], 0);
    assert_int_equal(c.done[1], end1000);
    assert_int_equal(c.done[2], n);
    assert_int_equal(c.total[2], n);
    assert_monotone(&c);
    free(g);

    /* the sample file (301 features): just the first and the last call */
    memset(&c, 0, sizeof c);
    o.table = BT_TABLE_INCIDENTS;
    const char *path = BT_EXAMPLES_DATA_DIR "/incidents_hyesan.geojson";
    size_t flen = 0;
    free(read_all(path, &flen));
    assert_int_equal(bt_import_file(t.s, path, &o, NULL), BT_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.done[0], 0);
    assert_int_equal(c.total[0], flen);
    assert_int_equal(c.done[1], flen);
    assert_int_equal(c.total[1], flen);
    tstore_close(&t);
}

static void test_import_cancel(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    assert_int_equal(import_text(t.s, BT_TABLE_PLACES, "a.csv",
                                 "name,country,lat,lon\nHyesan,KP,41.40167,128.17778\n", NULL),
                     BT_OK);
    bt_counts before = counts(t.s);
    size_t offs[2501], len;
    char *csv = places_csv(2500, offs, &len);
    bt_import_options o;
    bt_import_options_init(&o);
    o.table = BT_TABLE_PLACES;
    o.progress = record;
    /* cancel in the middle (after row 1000), and at the very last call */
    for (int at = 2; at <= 4; at += 2) {
        calls c = {0};
        c.cancel_at = at;
        o.progress_udata = &c;
        bt_import_report rep;
        assert_int_equal(bt_import_mem(t.s, csv, len, "p.csv", &o, &rep), BT_ERR_CANCELLED);
        assert_int_equal(c.n, at);
        assert_non_null(strstr(bt_store_errmsg(t.s), "p.csv: import cancelled by the caller"));
        bt_counts after = counts(t.s);
        assert_memory_equal(&before, &after, sizeof before);
    }
    assert_string_equal(bt_strerror(BT_ERR_CANCELLED), "cancelled by the caller");

    /* inside the caller's transaction: only the import is undone */
    assert_int_equal(bt_store_begin(t.s), BT_OK);
    assert_int_equal(import_text(t.s, BT_TABLE_PLACES, "b.csv",
                                 "name,country,lat,lon\nChangbai,CN,41.42,128.19\n", NULL),
                     BT_OK);
    calls c = {0};
    c.cancel_at = 1;
    o.progress_udata = &c;
    assert_int_equal(bt_import_mem(t.s, csv, len, "p.csv", &o, NULL), BT_ERR_CANCELLED);
    assert_int_equal(bt_store_commit(t.s), BT_OK);
    assert_int_equal(counts(t.s).places, before.places + 1);

    /* the file is unchanged by a cancelled import */
    bt_store_close(t.s);
    t.s = NULL;
    uint64_t h = file_hash(t.path);
    tstore_reopen(&t);
    c.n = 0;
    c.cancel_at = 3;
    assert_int_equal(bt_import_mem(t.s, csv, len, "p.csv", &o, NULL), BT_ERR_CANCELLED);
    bt_store_close(t.s);
    t.s = NULL;
    assert_true(file_hash(t.path) == h);
    free(csv);
    tstore_close(&t);
}

static void test_export_progress(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    size_t offs[2501], len;
    char *csv = places_csv(2500, offs, &len);
    bt_import_options io;
    bt_import_options_init(&io);
    io.table = BT_TABLE_PLACES;
    assert_int_equal(bt_import_mem(t.s, csv, len, "p.csv", &io, NULL), BT_OK);
    free(csv);

    calls c = {0};
    membuf m = {0};
    bt_export_options eo;
    bt_export_options_init(&eo);
    eo.table = BT_TABLE_PLACES;
    eo.format = BT_FORMAT_CSV;
    eo.progress = record;
    eo.progress_udata = &c;
    assert_int_equal(bt_export_write(t.s, membuf_write, &m, &eo), BT_OK);
    /* records written of the records to write */
    assert_int_equal(c.n, 4);
    static const uint64_t want[] = {0, 1000, 2000, 2500};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(c.done[i], want[i]);
        assert_int_equal(c.total[i], 2500);
    }
    free(m.p);

    /* a filtered export counts the selected records: a box holding A and B, not C */
    bt_query q;
    bt_query_init(&q);
    q.area = BT_AREA_BBOX;
    q.box = (bt_bbox){126.9, 39.9, 127.06005, 40.06005};
    assert_int_equal(import_text(t.s, BT_TABLE_INCIDENTS, "i.csv",
                                 "ref,type,start,lon,lat\n"
                                 "A,smuggling,2020,127.01,40.01\n"
                                 "B,smuggling,2020,127.02,40.02\n"
                                 "C,smuggling,2020,128.5,41.5\n",
                                 NULL),
                     BT_OK);
    memset(&c, 0, sizeof c);
    memset(&m, 0, sizeof m);
    eo.table = BT_TABLE_INCIDENTS;
    eo.filter = &q;
    assert_int_equal(bt_export_write(t.s, membuf_write, &m, &eo), BT_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.done[0], 0);
    assert_int_equal(c.total[0], 2);
    assert_int_equal(c.done[1], 2);
    assert_int_equal(c.total[1], 2);
    free(m.p);

    /* cancelling: the export fails, a file export leaves no file */
    eo.filter = NULL;
    eo.table = BT_TABLE_PLACES;
    memset(&c, 0, sizeof c);
    c.cancel_at = 2;
    char path[200];
    snprintf(path, sizeof path, "%s/out.csv", t.dir);
    assert_int_equal(bt_export_file(t.s, path, &eo), BT_ERR_CANCELLED);
    assert_int_equal(c.n, 2);
    assert_string_equal(bt_store_errmsg(t.s), "export: cancelled by the caller after 1000 records");
    assert_int_equal(access(path, F_OK), -1);
    /* cancelling at the last call still fails */
    memset(&c, 0, sizeof c);
    c.cancel_at = 4;
    assert_int_equal(bt_export_file(t.s, path, &eo), BT_ERR_CANCELLED);
    assert_int_equal(access(path, F_OK), -1);
    tstore_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_progress_csv),
        cmocka_unit_test(test_import_progress_geojson),
        cmocka_unit_test(test_import_cancel),
        cmocka_unit_test(test_export_progress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
