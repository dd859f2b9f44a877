/**
 * @file test_ogrinfo.c
 * @brief GDAL's `ogrinfo` (gdal-bin) opens a store and sees its layers with the right
 * geometry types, feature counts and a working spatial index. Skipped when ogrinfo is
 * not installed.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store_fixture.h"

static fx_dir dir;
static char store_path[512];

static bool have_ogrinfo(void)
{
    return system("command -v ogrinfo >/dev/null 2>&1") == 0;
}

/* Runs a command and returns its standard output (malloc'd, NUL-terminated). */
static char *run_capture(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    size_t r;
    while ((r = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += r;
        if (cap - len < 2) buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    assert_int_equal(pclose(p), 0);
    return buf;
}

/* The block of `ogrinfo -so -al` output that describes one layer. */
static const char *layer_block(const char *out, const char *layer, char *buf, size_t n)
{
    char head[64];
    snprintf(head, sizeof head, "Layer name: %s\n", layer);
    const char *b = strstr(out, head);
    if (!b) return NULL;
    const char *e = strstr(b + 1, "Layer name: ");
    size_t len = e ? (size_t)(e - b) : strlen(b);
    if (len >= n) len = n - 1;
    memcpy(buf, b, len);
    buf[len] = '\0';
    return buf;
}

static int setup(void **state)
{
    (void)state;
    if (fx_dir_make(&dir)) return -1;
    fx_file(&dir, "layers.bt", store_path, sizeof store_path);
    bt_store *s = NULL;
    char *em = NULL;
    if (bt_store_open(store_path, BT_OPEN_READWRITE | BT_OPEN_CREATE, &s, &em)) return -1;
    bt_lonlat line[3] = {{128.10, 41.39}, {128.15, 41.40}, {128.22, 41.41}};
    bt_segment seg = {0, "PRK-CHN", "Hyesan", 0, BT_SEGMENT_RIVER, "Yalu", line, 3};
    int rc = bt_segment_add(s, &seg, NULL);
    bt_installation fence, post;
    bt_installation_init(&fence);
    fence.points = line;
    fence.npoints = 2;
    bt_installation_init(&post);
    post.kind = BT_INSTALL_GUARD_POST;
    post.points = &line[2];
    post.npoints = 1;
    if (!rc) rc = bt_installation_add(s, &fence, NULL);
    if (!rc) rc = bt_installation_add(s, &post, NULL);
    /* two incidents near Hyesan, one far west near Sinuiju */
    bt_incident a = fx_incident("OG-1", FX_HYESAN_LON, FX_HYESAN_LAT);
    bt_incident b = fx_incident("OG-2", 128.2, 41.42);
    bt_incident c = fx_incident("OG-3", 124.40, 40.10);
    if (!rc) rc = bt_incident_add(s, &a, NULL);
    if (!rc) rc = bt_incident_add(s, &b, NULL);
    if (!rc) rc = bt_incident_add(s, &c, NULL);
    bt_source src = {0, "a source in Yanggang Province", BT_SOURCE_HUMAN, 'B', NULL};
    if (!rc) rc = bt_source_add(s, &src, NULL);
    bt_place p = {0, "Hyesan", "KP", NULL, {FX_HYESAN_LON, FX_HYESAN_LAT}};
    if (!rc) rc = bt_place_add(s, &p, NULL);
    if (rc) fprintf(stderr, "setup: %s\n", bt_store_errmsg(s));
    bt_store_close(s);
    return rc ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    fx_dir_remove(&dir);
    return 0;
}

static void test_layers_and_types(void **state)
{
    (void)state;
    if (!have_ogrinfo()) skip();
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ogrinfo -ro -q '%s' 2>/dev/null", store_path);
    char *out = run_capture(cmd);
    assert_non_null(strstr(out, ": borders (Line String)"));
    assert_non_null(strstr(out, ": incidents (Point)"));
    assert_non_null(strstr(out, ": places (Point)"));
    assert_non_null(strstr(out, ": installations"));
    /* source identities are not a layer anyone browsing the file sees */
    assert_null(strstr(out, "sources"));
    free(out);

    snprintf(cmd, sizeof cmd, "ogrinfo -ro -so -al '%s' 2>/dev/null", store_path);
    out = run_capture(cmd);
    char blk[8192];
    assert_non_null(layer_block(out, "borders", blk, sizeof blk));
    assert_non_null(strstr(blk, "Geometry: Line String"));
    assert_non_null(strstr(blk, "Feature Count: 1"));
    assert_non_null(strstr(blk, "river: String"));
    assert_non_null(layer_block(out, "incidents", blk, sizeof blk));
    assert_non_null(strstr(blk, "Geometry: Point"));
    assert_non_null(strstr(blk, "Feature Count: 3"));
    assert_non_null(strstr(blk, "ref: String"));
    assert_non_null(strstr(blk, "4326")); /* the layer SRS is EPSG:4326 */
    assert_non_null(layer_block(out, "installations", blk, sizeof blk));
    /* Points and LineStrings share the layer */
    assert_non_null(strstr(blk, "Geometry: Unknown (any)"));
    assert_non_null(strstr(blk, "Feature Count: 2"));
    assert_non_null(layer_block(out, "places", blk, sizeof blk));
    assert_non_null(strstr(blk, "Geometry: Point"));
    assert_non_null(strstr(blk, "Feature Count: 1"));
    free(out);
}

static void test_spatial_index_seen_by_gdal(void **state)
{
    (void)state;
    if (!have_ogrinfo()) skip();
    char cmd[700];
    /* a box around Hyesan holds two of the three incidents */
    snprintf(cmd, sizeof cmd,
             "ogrinfo -ro -so -spat 128.0 41.3 128.3 41.5 '%s' incidents 2>/dev/null",
             store_path);
    char *out = run_capture(cmd);
    assert_non_null(strstr(out, "Feature Count: 2"));
    free(out);
    /* and GDAL reads our geometry BLOBs: the point of OG-3 */
    snprintf(cmd, sizeof cmd,
             "ogrinfo -ro -q -where \"ref = 'OG-3'\" '%s' incidents 2>/dev/null", store_path);
    out = run_capture(cmd);
    assert_non_null(strstr(out, "POINT (124.4 40.1)"));
    free(out);
    snprintf(cmd, sizeof cmd, "ogrinfo -ro -q '%s' borders 2>/dev/null", store_path);
    out = run_capture(cmd);
    assert_non_null(strstr(out, "LINESTRING (128.1 41.39,128.15 41.4,128.22 41.41)"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layers_and_types),
        cmocka_unit_test(test_spatial_index_seen_by_gdal),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
