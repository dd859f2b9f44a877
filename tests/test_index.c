/**
 * @file test_index.c
 * @brief Unit tests of the index structure (lib/index): the id map, the encodings of
 * times and uncertainty, the k-d range search against a linear scan, the overlay
 * (insert, update, delete), repacking, and the cell-angle bounds the searches prune
 * with (checked against points sampled inside the cells).
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "index/index.h"
#include "query/query_internal.h"
#include "test_rng.h"

static void test_idmap(void **state)
{
    (void)state;
    struct bt__idmap m = {0};
    for (int64_t k = 1; k <= 5000; k++) assert_int_equal(bt__idmap_put(&m, k * 7919, (uint32_t)k), BT_OK);
    assert_int_equal(m.n, 5000);
    uint32_t v;
    for (int64_t k = 1; k <= 5000; k++) {
        assert_true(bt__idmap_get(&m, k * 7919, &v));
        assert_int_equal(v, k);
    }
    assert_false(bt__idmap_get(&m, 3, NULL));
    /* delete every other key: the rest must stay reachable (backward shift) */
    for (int64_t k = 1; k <= 5000; k += 2) assert_true(bt__idmap_del(&m, k * 7919));
    assert_false(bt__idmap_del(&m, 7919));
    assert_int_equal(m.n, 2500);
    for (int64_t k = 1; k <= 5000; k++) assert_int_equal(bt__idmap_get(&m, k * 7919, &v), k % 2 == 0);
    assert_int_equal(bt__idmap_put(&m, 2 * 7919, 99), BT_OK); /* overwrite */
    assert_true(bt__idmap_get(&m, 2 * 7919, &v));
    assert_int_equal(v, 99);
    assert_int_equal(m.n, 2500);
    bt__idmap_free(&m);
    assert_false(bt__idmap_get(&m, 2 * 7919, &v));
}

static void test_ucode(void **state)
{
    (void)state;
    assert_int_equal(bt__ucode_encode(0.0), 0);
    assert_true(bt__ucode_hi(0) == 0.0);
    uint64_t s = 1;
    for (int i = 0; i < 100000; i++) {
        double u = exp(splitmix_unif(&s, log(1e-4), log(1e8)));
        unsigned c = bt__ucode_encode(u);
        assert_true(c >= 1 && c <= 255);
        assert_true(bt__ucode_lo(c) < u);
        assert_true(u <= bt__ucode_hi(c));
        if (c < 255) assert_true(bt__ucode_hi(c) <= bt__ucode_lo(c) * 1.0906 + 0.011);
    }
}

static void test_time_encoding(void **state)
{
    (void)state;
    struct bt__pts p = {0};
    struct bt__index_row r = {1, 10.0, 20.0, 0, 0, 0.0, 3, 2, 1, 6};
    /* minute-aligned: exact */
    r.start = 1595980800;
    r.end = 1595980800 + 86399; /* the last second of the day */
    assert_int_equal(bt__pts_push(&p, &r), BT_OK);
    assert_true(p.attr[0] & BT__A_TEXACT);
    assert_int_equal((int64_t)p.tlo[0] * 60, r.start);
    assert_int_equal((int64_t)p.thi[0] * 60 - 1, r.end);
    assert_int_equal(BT__A_TYPE(p.attr[0]), 3);
    assert_int_equal(BT__A_VERIF(p.attr[0]), 2);
    assert_int_equal(BT__A_REL(p.attr[0]), 1);
    assert_int_equal(BT__A_CRED(p.attr[0]), 6);
    /* seconds, negative times, open and far ends: a conservative superset */
    const int64_t starts[] = {1595980801, -1, -61, -59, INT64_C(-9000000000000), INT64_C(9000000000000)};
    const int64_t ends[] = {1595980859, -1, BT_TIME_OPEN, 59, INT64_C(-8000000000000), INT64_C(9100000000000)};
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
        r.start = starts[i];
        r.end = ends[i];
        bt__pts_set(&p, 0, &r);
        assert_true(p.tlo[0] == INT32_MIN || (int64_t)p.tlo[0] * 60 <= r.start);
        if (p.thi[0] != INT32_MAX) assert_true((int64_t)p.thi[0] * 60 - 1 >= r.end);
        if (r.end == BT_TIME_OPEN) assert_true(p.thi[0] == INT32_MAX);
        if (p.attr[0] & BT__A_TEXACT) {
            assert_true((int64_t)p.tlo[0] * 60 == r.start);
            assert_true(r.end == BT_TIME_OPEN || (int64_t)p.thi[0] * 60 - 1 == r.end);
        }
    }
    /* wide ids switch the arrays to 64 bits, keeping what was there */
    r.id = INT64_C(5000000000);
    assert_int_equal(bt__pts_push(&p, &r), BT_OK);
    assert_non_null(p.id64);
    assert_true(bt__pts_id(&p, 0) == 1);
    assert_true(bt__pts_id(&p, 1) == INT64_C(5000000000));
    bt__pts_free(&p);
}

struct collect {
    int64_t *ids;
    size_t n;
};

static int collect_pt(void *ctx, const struct bt__pts *p, size_t i, bool inside)
{
    (void)inside;
    struct collect *c = ctx;
    c->ids[c->n++] = bt__pts_id(p, i);
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_kd_range(void **state)
{
    (void)state;
    uint64_t s = 7;
    const size_t sizes[] = {0, 1, 2, 47, 48, 49, 1000, 20000};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        size_t n = sizes[t];
        struct bt__pts p = {0};
        double *lon = malloc((n + 1) * sizeof *lon), *lat = malloc((n + 1) * sizeof *lat);
        for (size_t i = 0; i < n; i++) {
            /* duplicates and ties on purpose */
            lon[i] = i % 5 == 0 ? 1.0 : round(splitmix_unif(&s, -180.0, 180.0) * 10.0) / 10.0;
            lat[i] = i % 7 == 0 ? 2.0 : splitmix_unif(&s, -90.0, 90.0);
            struct bt__index_row r = {(int64_t)i + 1, lon[i], lat[i], 0, 0, 0.0, 0, 0, 0, 0};
            assert_int_equal(bt__pts_push(&p, &r), BT_OK);
        }
        assert_int_equal(bt__kd_build(&p, 48), BT_OK);
        int64_t *ids = malloc((n + 1) * sizeof *ids), *want = malloc((n + 1) * sizeof *want);
        for (int qn = 0; qn < 50; qn++) {
            bt_bbox b;
            b.west = splitmix_unif(&s, -180.0, 180.0);
            b.east = b.west + splitmix_unif(&s, 0.0, 60.0);
            b.south = splitmix_unif(&s, -90.0, 90.0);
            b.north = b.south + splitmix_unif(&s, 0.0, 40.0);
            if (qn == 0) b = (bt_bbox){1.0, 2.0, 1.0, 2.0}; /* a degenerate box on the ties */
            size_t nw = 0;
            for (size_t i = 0; i < n; i++)
                if (lon[i] >= b.west && lon[i] <= b.east && lat[i] >= b.south && lat[i] <= b.north)
                    want[nw++] = (int64_t)i + 1;
            struct collect c = {ids, 0};
            assert_int_equal(bt__kd_range(&p, 48, b, NULL, collect_pt, &c), 0);
            qsort(ids, c.n, sizeof *ids, cmp_i64);
            assert_int_equal(c.n, nw);
            for (size_t i = 0; i < nw; i++) assert_true(ids[i] == want[i]);
        }
        /* the permutation kept each point with its id */
        for (size_t i = 0; i < n; i++) {
            size_t k = (size_t)bt__pts_id(&p, i) - 1;
            assert_true(p.lon[i] == lon[k] && p.lat[i] == lat[k]);
        }
        free(ids);
        free(want);
        free(lon);
        free(lat);
        bt__pts_free(&p);
    }
}

/* The predicate the time bounds must never contradict: the point's own rounded
 * interval overlaps the window in minutes (open ends and clamped starts as the
 * queries treat them). */
static bool pt_in_window(const struct bt__pts *p, size_t i, int64_t from_min, int64_t to_min)
{
    int32_t lo = p->tlo[i], hi = p->thi[i];
    return (lo == INT32_MIN || lo <= to_min) && (hi == INT32_MAX || hi >= from_min);
}

struct tcollect {
    int64_t *ids;
    size_t n, visited;
    int64_t from_min, to_min;
};

static int tcollect_pt(void *ctx, const struct bt__pts *p, size_t i, bool inside)
{
    (void)inside;
    struct tcollect *c = ctx;
    c->visited++;
    if (pt_in_window(p, i, c->from_min, c->to_min)) c->ids[c->n++] = bt__pts_id(p, i);
    return 0;
}

/* The same through batches: each no larger than BT__KD_BATCH, in order. */
static int tcollect_batch(void *ctx, const struct bt__pts *p, const size_t *idx, size_t k,
                          bool inside)
{
    assert_true(k >= 1 && k <= BT__KD_BATCH);
    for (size_t j = 0; j < k; j++) tcollect_pt(ctx, p, idx[j], inside);
    return 0;
}

/* A classifier for an "area" box A within the query box: cells in A are in, cells
 * apart from it out. */
struct acell {
    bt_bbox a;
    int64_t *ids;
    size_t n, inside_bad, inside_n, spans;
};

static int acell_cell(void *ctx, double w, double s, double e, double n)
{
    const struct acell *c = ctx;
    if (w >= c->a.west && e <= c->a.east && s >= c->a.south && n <= c->a.north)
        return BT__CELL_IN;
    if (e < c->a.west || w > c->a.east || n < c->a.south || s > c->a.north)
        return BT__CELL_OUT;
    return BT__CELL_PART;
}

static int acell_pt(void *ctx, const struct bt__pts *p, size_t i, bool inside)
{
    struct acell *c = ctx;
    bool in_a = p->lon[i] >= c->a.west && p->lon[i] <= c->a.east && p->lat[i] >= c->a.south &&
                p->lat[i] <= c->a.north;
    if (inside && !in_a) c->inside_bad++;
    if (inside) c->inside_n++;
    if (in_a) c->ids[c->n++] = bt__pts_id(p, i);
    return 0;
}

/* A whole subtree of a cell called in: every slot of it is in the area. */
static int acell_span(void *ctx, const struct bt__pts *p, size_t left, size_t right)
{
    struct acell *c = ctx;
    for (size_t i = left; i <= right; i++) acell_pt(ctx, p, i, true);
    c->spans++;
    return 0;
}

/* Cells called in pass their points without a box test (and, with a window, through
 * the leaf runs): the answer is still exactly the points of the area. */
static void test_kd_inside_cells(void **state)
{
    (void)state;
    uint64_t s = 5;
    const size_t n = 20000;
    struct bt__pts p = {0};
    for (size_t i = 0; i < n; i++) {
        int64_t start = INT64_C(1546300800) + 60 * (int64_t)(splitmix_next(&s) % (6u * 525600u));
        struct bt__index_row r = {(int64_t)i + 1, splitmix_unif(&s, 120.0, 131.0), splitmix_unif(&s, 39.0, 43.0),
                                  start, start + 60 * (int64_t)(splitmix_next(&s) % 43200u) + 59, 0.0,
                                  0, 0, 0, 0};
        assert_int_equal(bt__pts_push(&p, &r), BT_OK);
    }
    assert_int_equal(bt__kd_build(&p, 48), BT_OK);
    int32_t *nt = NULL;
    uint16_t *ld = NULL;
    size_t nn = 0;
    assert_int_equal(bt__kd_time_build(&p, 48, &nt, &ld, &nn), BT_OK);
    int64_t *ids = malloc(n * sizeof *ids), *want = malloc(n * sizeof *want);
    size_t in_total = 0, untimed_total = 0, inside_total = 0, spans_total = 0;
    for (int qn = 0; qn < 100; qn++) {
        bt_bbox a;
        a.west = splitmix_unif(&s, 119.0, 131.0);
        a.east = a.west + splitmix_unif(&s, 0.0, 4.0);
        a.south = splitmix_unif(&s, 38.5, 43.0);
        a.north = a.south + splitmix_unif(&s, 0.0, 3.0);
        bt_bbox b = {a.west - splitmix_unif(&s, 0.0, 1.0), a.south - splitmix_unif(&s, 0.0, 1.0),
                     a.east + splitmix_unif(&s, 0.0, 1.0), a.north + splitmix_unif(&s, 0.0, 1.0)};
        int64_t from = 25771680 + (int64_t)(splitmix_next(&s) % (7u * 525600u));
        int64_t to = from + (int64_t)(splitmix_next(&s) % (120u * 1440u));
        bool timed = qn % 2 == 1;
        size_t nw = 0;
        for (size_t i = 0; i < n; i++)
            if (p.lon[i] >= a.west && p.lon[i] <= a.east && p.lat[i] >= a.south &&
                p.lat[i] <= a.north && (!timed || pt_in_window(&p, i, from, to)))
                want[nw++] = bt__pts_id(&p, i);
        qsort(want, nw, sizeof *want, cmp_i64);
        /* with a span callback too: without a window subtrees come whole (never
         * with one); the same answer either way */
        for (int with_span = 0; with_span < 2; with_span++) {
            struct acell c = {a, ids, 0, 0, 0, 0};
            assert_int_equal(bt__kd_range_time(&p, 48, b, timed ? nt : NULL,
                                               timed ? ld : NULL, from, to, acell_cell,
                                               acell_pt, with_span ? acell_span : NULL, &c),
                             0);
            assert_int_equal(c.inside_bad, 0);
            if (!with_span && !timed) inside_total += c.inside_n;
            if (with_span && !timed) spans_total += c.spans;
            if (timed) assert_int_equal(c.spans, 0);
            qsort(ids, c.n, sizeof *ids, cmp_i64);
            assert_int_equal(c.n, nw);
            for (size_t i = 0; i < nw; i++) assert_true(ids[i] == want[i]);
        }
        in_total += nw;
        if (!timed) untimed_total += nw;
    }
    assert_true(in_total > 10000);
    /* without a window most came through cells called in (with one, cells under
     * CELL_MIN_TIMED points are not classified: kdtree.c) */
    assert_true(inside_total > untimed_total / 2);
    assert_true(spans_total > 100);
    free(ids);
    free(want);
    bt__free(nt);
    bt__free(ld);
    bt__pts_free(&p);
}

/* Every leaf's run (bt__kd_leaf_run) holds each of its points in the window; returns
 * how many points of the leaves the runs leave out. */
static size_t leaf_runs_check(const struct bt__pts *p, size_t leaf, size_t left, size_t right,
                              size_t k, const uint16_t *ld, int64_t from, int64_t to)
{
    if (right - left <= leaf) {
        size_t first, last;
        bt__kd_leaf_run(p, left, right, ld[k], from, to, &first, &last);
        assert_true(first >= left && first <= last && last <= right + 1);
        for (size_t i = left; i <= right; i++)
            if (i < first || i >= last) assert_false(pt_in_window(p, i, from, to));
        return (right - left + 1) - (last - first);
    }
    size_t m = left + ((right - left) >> 1), cut = 0;
    if (m > left) cut += leaf_runs_check(p, leaf, left, m - 1, 2 * k, ld, from, to);
    if (m < right) cut += leaf_runs_check(p, leaf, m + 1, right, 2 * k + 1, ld, from, to);
    return cut;
}

/* Time pruning against brute force: random boxes and windows over points whose times
 * follow their longitude (so that whole nodes can be skipped), with open ends, starts
 * clamped from the far past and ends far in the future mixed in. */
static void test_kd_time_pruning(void **state)
{
    (void)state;
    uint64_t s = 11;
    const size_t sizes[] = {1, 48, 49, 97, 5000, 30000};
    size_t pruned_total = 0, cut_total = 0;
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        size_t n = sizes[t];
        struct bt__pts p = {0};
        for (size_t i = 0; i < n; i++) {
            double lon = splitmix_unif(&s, 120.0, 131.0), lat = splitmix_unif(&s, 39.0, 43.0);
            /* 2019 + (lon - 120) * 200 days + up to 10 days of noise */
            int64_t start = INT64_C(1546300800) + (int64_t)((lon - 120.0) * 200.0 * 86400.0) +
                            (int64_t)(splitmix_next(&s) % (10u * 86400u));
            int64_t end = start + (int64_t)(splitmix_next(&s) % (30u * 86400u));
            unsigned k = (unsigned)(splitmix_next(&s) % 200u);
            if (k == 0) end = BT_TIME_OPEN;
            if (k == 1) start = INT64_MIN / 2;            /* clamps to INT32_MIN minutes */
            if (k == 2) end = INT64_C(1) << 42;           /* beyond int32 minutes */
            struct bt__index_row r = {(int64_t)i + 1, lon, lat, start, end, 0.0, 0, 0, 0, 0};
            assert_int_equal(bt__pts_push(&p, &r), BT_OK);
        }
        assert_int_equal(bt__kd_build(&p, 48), BT_OK);
        int32_t *nt = NULL;
        uint16_t *ld = NULL;
        size_t nn = 0;
        assert_int_equal(bt__kd_time_build(&p, 48, &nt, &ld, &nn), BT_OK);
        assert_non_null(nt);
        assert_non_null(ld);
        assert_true(bt__kd_leaves_sorted(&p, 48));
        if (n >= 5000) { /* the check sees a leaf out of order */
            size_t j = 0;
            while (p.tlo[j] == p.tlo[j + 1]) j++;
            int32_t t = p.tlo[j];
            p.tlo[j] = p.tlo[j + 1];
            p.tlo[j + 1] = t;
            assert_false(bt__kd_leaves_sorted(&p, 48));
            p.tlo[j + 1] = p.tlo[j];
            p.tlo[j] = t;
        }
        /* the memory bound stated in index.h: under 0.9 bytes per point */
        if (n >= 5000) assert_true((double)(nn * 10) / (double)n < 0.9);
        int64_t *ids = malloc(n * sizeof *ids), *want = malloc(n * sizeof *want);
        int64_t *ids2 = malloc(n * sizeof *ids2);
        for (int qn = 0; qn < 200; qn++) {
            bt_bbox b = {120.0, 39.0, 131.0, 43.0};
            if (qn % 2) {
                b.west = splitmix_unif(&s, 120.0, 131.0);
                b.east = b.west + splitmix_unif(&s, 0.0, 3.0);
                b.south = splitmix_unif(&s, 39.0, 43.0);
                b.north = b.south + splitmix_unif(&s, 0.0, 2.0);
            }
            /* minutes from 2018 to 2026; some windows of a single minute */
            int64_t from = 25771680 + (int64_t)(splitmix_next(&s) % (8u * 525600u));
            int64_t to = qn % 5 == 0 ? from : from + (int64_t)(splitmix_next(&s) % (180u * 1440u));
            if (qn == 3) from = to = -(INT64_C(1) << 40); /* long before: clamped starts only */
            if (qn == 4) from = to = INT64_C(1) << 40;  /* long after: open or far ends */
            size_t nw = 0;
            for (size_t i = 0; i < n; i++)
                if (p.lon[i] >= b.west && p.lon[i] <= b.east && p.lat[i] >= b.south &&
                    p.lat[i] <= b.north && pt_in_window(&p, i, from, to))
                    want[nw++] = bt__pts_id(&p, i);
            qsort(want, nw, sizeof *want, cmp_i64);
            struct tcollect c = {ids, 0, 0, from, to};
            assert_int_equal(bt__kd_range_time(&p, 48, b, nt, ld, from, to, NULL, tcollect_pt,
                                               NULL, &c),
                             0);
            /* the batch search: the same candidates in the same order */
            struct tcollect bc = {ids2, 0, 0, from, to};
            assert_int_equal(bt__kd_range_batch(&p, 48, b, nt, ld, from, to, NULL, tcollect_pt,
                                                NULL, tcollect_batch, &bc),
                             0);
            assert_int_equal(bc.n, c.n);
            assert_int_equal(bc.visited, c.visited);
            for (size_t i = 0; i < c.n; i++) assert_true(ids2[i] == ids[i]);
            qsort(ids, c.n, sizeof *ids, cmp_i64);
            assert_int_equal(c.n, nw);
            for (size_t i = 0; i < nw; i++) assert_true(ids[i] == want[i]);
            /* node bounds only (no in-leaf cut): the same answer */
            struct tcollect nb = {ids, 0, 0, from, to};
            assert_int_equal(bt__kd_range_time(&p, 48, b, nt, NULL, from, to, NULL, tcollect_pt,
                                               NULL, &nb), 0);
            assert_int_equal(nb.n, nw);
            cut_total += leaf_runs_check(&p, 48, 0, n - 1, 1, ld, from, to);
            struct tcollect all = {ids, 0, 0, from, to};
            assert_int_equal(bt__kd_range(&p, 48, b, NULL, tcollect_pt, &all), 0);
            assert_int_equal(all.n, nw);
            assert_true(c.visited <= all.visited);
            pruned_total += all.visited - c.visited;
        }
        free(ids);
        free(ids2);
        free(want);
        bt__free(nt);
        bt__free(ld);
        bt__pts_free(&p);
    }
    assert_true(pruned_total > 100000); /* the bounds did skip nodes */
    assert_true(cut_total > 10000);     /* and the sorted leaves skipped points */
}

static size_t live_ids(const struct bt__index *ix, int64_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < ix->st.n; i++)
        if (bt__index_static_live(ix, i)) out[n++] = bt__pts_id(&ix->st, i);
    for (size_t i = 0; i < ix->ov.n; i++) out[n++] = bt__pts_id(&ix->ov, i);
    qsort(out, n, sizeof *out, cmp_i64);
    return n;
}

static void test_overlay_and_repack(void **state)
{
    (void)state;
    struct bt__index ix;
    memset(&ix, 0, sizeof ix);
    bt__index_load_begin(&ix);
    for (int64_t id = 1; id <= 1000; id++) {
        struct bt__index_row r = {id, (double)id / 10.0, 0.0, 0, 0, 0.0, 0, 0, 0, 0};
        assert_int_equal(bt__pts_push(&ix.st, &r), BT_OK);
    }
    assert_int_equal(bt__kd_build(&ix.st, ix.leaf), BT_OK);
    bool alive[1201] = {false};
    for (int i = 1; i <= 1000; i++) alive[i] = true;
    /* delete, update, insert, update the inserted, delete the inserted */
    for (int64_t id = 1; id <= 1000; id += 3) {
        assert_int_equal(bt__index_apply(&ix, id, NULL), BT_OK);
        alive[id] = false;
    }
    for (int64_t id = 2; id <= 1000; id += 3) {
        struct bt__index_row r = {id, -(double)id / 10.0, 5.0, 0, 0, 0.0, 1, 0, 0, 0};
        assert_int_equal(bt__index_apply(&ix, id, &r), BT_OK);
    }
    for (int64_t id = 1001; id <= 1200; id++) {
        struct bt__index_row r = {id, 1.0, 1.0, 0, 0, 0.0, 2, 0, 0, 0};
        assert_int_equal(bt__index_apply(&ix, id, &r), BT_OK);
        alive[id] = true;
    }
    for (int64_t id = 1001; id <= 1200; id += 2) {
        assert_int_equal(bt__index_apply(&ix, id, NULL), BT_OK);
        alive[id] = false;
    }
    assert_int_equal(bt__index_apply(&ix, 999999, NULL), BT_OK); /* unknown: harmless */
    int64_t ids[1300];
    size_t n = live_ids(&ix, ids);
    size_t k = 0;
    for (int64_t id = 1; id <= 1200; id++)
        if (alive[id]) assert_true(ids[k++] == id);
    assert_int_equal(n, k);
    assert_int_equal(bt__index_count(&ix), k);
    /* the overlay holds the updated rows, with their new coordinates */
    uint32_t slot;
    assert_true(bt__idmap_get(&ix.ovmap, 2, &slot));
    assert_true(ix.ov.lon[slot] == -0.2 && ix.ov.lat[slot] == 5.0);

    assert_int_equal(bt__index_repack(&ix), BT_OK);
    assert_int_equal(ix.ov.n, 0);
    assert_int_equal(ix.shadow.n, 0);
    int64_t ids2[1300];
    assert_int_equal(live_ids(&ix, ids2), k);
    assert_memory_equal(ids, ids2, k * sizeof *ids);
    /* and the repacked static part is a valid k-d tree */
    int64_t got[1300];
    struct collect c = {got, 0};
    bt__kd_range(&ix.st, ix.leaf, (bt_bbox){-200.0, 4.0, 0.0, 6.0}, NULL, collect_pt, &c);
    assert_int_equal(c.n, 333); /* the updated ones: ids 2, 5, ..., 998 */
    assert_true(bt__index_bytes(&ix) >= ix.st.n * 31);
    bt__index_clear(&ix);
}

/* The angle bounds of a cell hold for every normal inside it. */
static void test_cell_angles(void **state)
{
    (void)state;
    uint64_t s = 3;
    for (int t = 0; t < 3000; t++) {
        double lon = splitmix_unif(&s, -180.0, 180.0), lat = splitmix_unif(&s, -90.0, 90.0);
        double w = splitmix_unif(&s, -180.0, 180.0), e = fmin(180.0, w + splitmix_unif(&s, 0.0, t % 2 ? 2.0 : 200.0));
        double so = splitmix_unif(&s, -90.0, 90.0), no = fmin(90.0, so + splitmix_unif(&s, 0.0, t % 2 ? 1.0 : 100.0));
        double amin, amax;
        bt__cell_angles(lon, lat, w, so, e, no, &amin, &amax);
        double p = lat * M_PI / 180.0, l = lon * M_PI / 180.0;
        for (int k = 0; k < 50; k++) {
            double ql = splitmix_unif(&s, w, e) * M_PI / 180.0, qp = splitmix_unif(&s, so, no) * M_PI / 180.0;
            if (k == 0) { ql = w * M_PI / 180.0; qp = so * M_PI / 180.0; }
            double c = sin(p) * sin(qp) + cos(p) * cos(qp) * cos(ql - l);
            double a = acos(fmax(-1.0, fmin(1.0, c)));
            assert_true(a >= amin - 1e-7);
            assert_true(a <= amax + 1e-7);
        }
    }
}

/* The chord bounds that decide most points without geod_inverse. */
static void test_chord_bound(void **state)
{
    (void)state;
    struct geod_geodesic g;
    geod_init(&g, 6378137.0, 1.0 / 298.257223563);
    uint64_t s = 5;
    for (int t = 0; t < 20000; t++) {
        double lon1 = splitmix_unif(&s, -180.0, 180.0), lat1 = splitmix_unif(&s, -90.0, 90.0);
        double scale = pow(10.0, splitmix_unif(&s, -5.0, 2.0));
        double lon2 = lon1 + splitmix_unif(&s, -scale, scale), lat2 = fmax(-90.0, fmin(90.0, lat1 + splitmix_unif(&s, -scale, scale)));
        if (lon2 > 180.0) lon2 -= 360.0;
        if (lon2 < -180.0) lon2 += 360.0;
        double a[3], b[3];
        bt__ecef(lon1, lat1, &a[0], &a[1], &a[2]);
        bt__ecef(lon2, lat2, &b[0], &b[1], &b[2]);
        double c = sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                        (a[2] - b[2]) * (a[2] - b[2]));
        double sd;
        geod_inverse(&g, lat1, lon1, lat2, lon2, &sd, NULL, NULL);
        assert_true(c <= sd + BT__EPS_M);
        if (sd < 1.0e7) assert_true(sd <= 2.0 * BT__M_MIN * asin(fmin(1.0, (c + BT__EPS_M) / (2.0 * BT__M_MIN))) + BT__EPS_M);
    }
}

/* The chord of a circle plan near its centre (series, no libm) and far from it
 * (bt__ecef) against the chord of bt__ecef() of both ends: within 1e-8 m; and the
 * batch of a centre's points equal, bit for bit, to the point-by-point chords. */
static void test_plan_chord2(void **state)
{
    (void)state;
    bt_store *st = NULL;
    assert_int_equal(bt_store_open(":memory:", BT_OPEN_READWRITE | BT_OPEN_CREATE, &st, NULL),
                     BT_OK);
    uint64_t s = 11;
    double worst = 0.0;
    int near = 0, far = 0; /* by the series, by bt__ecef() */
    for (int t = 0; t < 4000; t++) {
        bt_query q;
        bt_query_init(&q);
        q.area = BT_AREA_CIRCLE;
        q.radius_m = 1000.0;
        /* every 8th centre next to the antimeridian or a pole */
        double lon = t % 8 == 1 ? splitmix_unif(&s, 179.9, 180.0) : splitmix_unif(&s, -180.0, 180.0);
        double lat = t % 8 == 2 ? splitmix_unif(&s, 89.9, 90.0) : splitmix_unif(&s, -90.0, 90.0);
        q.centre = (bt_lonlat){lon, lat};
        struct bt__plan p;
        assert_int_equal(bt__plan_init(st, &q, "test", &p), BT_OK);
        double blon[20], blat[20], one[20], c2[20];
        size_t idx[20];
        for (int k = 0; k < 20; k++) {
            /* offsets up to 12 degrees: both sides of the 0.1 rad switch */
            double sc = k < 4 ? 12.0 : pow(10.0, splitmix_unif(&s, -6.0, 0.9));
            double lon2 = lon + splitmix_unif(&s, -sc, sc), lat2 = lat + splitmix_unif(&s, -sc, sc);
            lat2 = fmax(-90.0, fmin(90.0, lat2));
            if (lon2 > 180.0) lon2 -= 360.0;
            if (lon2 < -180.0) lon2 += 360.0;
            double a[3], b[3];
            bt__ecef(lon, lat, &a[0], &a[1], &a[2]);
            bt__ecef(lon2, lat2, &b[0], &b[1], &b[2]);
            double c = sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                            (a[2] - b[2]) * (a[2] - b[2]));
            double f = sqrt(bt__plan_chord2(&p, lon2, lat2));
            worst = fmax(worst, fabs(f - c));
            double dl = fabs(lon2 - lon), dp = fabs(lat2 - lat);
            if (dl > 180.0) dl = 360.0 - dl;
            if (dl <= 2.8 && dp <= 2.8) /* the series up to 0.05 rad, 2.86 degrees */
                near++;
            else if (dl > 2.9 || dp > 2.9)
                far++;
            blon[19 - k] = lon2; /* the batch takes them in another order */
            blat[19 - k] = lat2;
            one[19 - k] = f * f;
            idx[k] = (size_t)(19 - k);
        }
        /* every 3rd batch only of points by the series (offsets under 1 degree) */
        size_t nb = 0;
        size_t bidx[20];
        for (size_t k = 0; k < 20; k++)
            if (t % 3 != 0 || (fabs(blon[idx[k]] - lon) < 1.0 && fabs(blat[idx[k]] - lat) < 1.0))
                bidx[nb++] = idx[k];
        struct bt__pts pts = {0};
        pts.n = 20;
        pts.lon = blon;
        pts.lat = blat;
        bt__plan_chord2_batch(&p, &pts, bidx, nb, c2);
        for (size_t k = 0; k < nb; k++) {
            double e = bt__plan_chord2(&p, blon[bidx[k]], blat[bidx[k]]);
            assert_memory_equal(&c2[k], &e, sizeof e);
            assert_true(sqrt(e) == sqrt(one[bidx[k]]));
        }
        bt__plan_free(&p);
    }
    print_message("largest difference %.3g m (%d near, %d far)\n", worst, near, far);
    assert_true(worst <= 1e-8);
    assert_true(near > 50000 && far > 5000);
    bt_store_close(st);
}

/* A circle's cell classifier against its angle bounds alone: the shortcut that calls a
 * cell across the circle by two chords (a point within the inner bound, a corner
 * beyond the outer one) must never take the place of an "in" or "out" the angles
 * give. Cells of every size near circles of 5 m to 300 km, centres also next to the
 * antimeridian and the poles. */
static void test_plan_circle_cells(void **state)
{
    (void)state;
    bt_store *st = NULL;
    assert_int_equal(bt_store_open(":memory:", BT_OPEN_READWRITE | BT_OPEN_CREATE, &st, NULL),
                     BT_OK);
    uint64_t s = 17;
    int counts[3] = {0, 0, 0};
    for (int t = 0; t < 3000; t++) {
        bt_query q;
        bt_query_init(&q);
        q.area = BT_AREA_CIRCLE;
        q.radius_m = pow(10.0, splitmix_unif(&s, 0.7, 5.5));
        double lon = t % 8 == 1 ? splitmix_unif(&s, 179.8, 180.0) : splitmix_unif(&s, -180.0, 180.0);
        double lat = t % 8 == 2 ? splitmix_unif(&s, 89.5, 90.0) : splitmix_unif(&s, -80.0, 80.0);
        q.centre = (bt_lonlat){lon, lat};
        struct bt__plan p;
        assert_int_equal(bt__plan_init(st, &q, "test", &p), BT_OK);
        double rdeg = q.radius_m / 111000.0;
        for (int k = 0; k < 40; k++) {
            /* a cell about the circle's size or smaller, placed around its edge */
            double size = rdeg * pow(10.0, splitmix_unif(&s, -2.0, 0.5));
            double a = splitmix_unif(&s, 0.0, 2.0 * M_PI), d = rdeg * splitmix_unif(&s, 0.0, 1.6);
            double cx = lon + d * cos(a) / fmax(0.05, cos(lat * M_PI / 180.0));
            double cy = lat + d * sin(a);
            double w = fmax(-180.0, cx - size * splitmix_unif(&s, 0.1, 2.0));
            double e = fmin(180.0, cx + size * splitmix_unif(&s, 0.1, 2.0));
            double so = fmax(-90.0, cy - size * splitmix_unif(&s, 0.1, 1.0));
            double no = fmin(90.0, cy + size * splitmix_unif(&s, 0.1, 1.0));
            if (!(w <= e && so <= no)) continue;
            double amin, amax;
            bt__cell_angles(lon, lat, w, so, e, no, &amin, &amax);
            /* plan.c's thresholds, with its one metre of slack */
            int want = BT__M_MIN * amin > q.radius_m + 1.0   ? BT__CELL_OUT
                       : BT__N_MAX * amax < q.radius_m - 1.0 ? BT__CELL_IN
                                                            : BT__CELL_PART;
            assert_int_equal(bt__plan_cell(&p, w, so, e, no), want);
            counts[want]++;
        }
        bt__plan_free(&p);
    }
    print_message("out %d, part %d, in %d\n", counts[BT__CELL_OUT], counts[BT__CELL_PART],
                  counts[BT__CELL_IN]);
    assert_true(counts[BT__CELL_OUT] > 5000 && counts[BT__CELL_PART] > 5000 &&
                counts[BT__CELL_IN] > 5000);
    bt_store_close(st);
}

/* A polygon under the point semantics settles k-d cells: a box inside is taken
 * whole, one outside dropped, one across the edge or around the whole polygon left to
 * its points (the per-point tests of the differential tests check the answers). */
static void test_plan_polygon_cells(void **state)
{
    (void)state;
    bt_store *st = NULL;
    assert_int_equal(bt_store_open(":memory:", BT_OPEN_READWRITE | BT_OPEN_CREATE, &st, NULL),
                     BT_OK);
    /* a square with a notch: (128,41)-(128.4,41.4) less (128.3,41.3)-(128.4,41.4) */
    const bt_lonlat ring[] = {{128.0, 41.0}, {128.4, 41.0}, {128.4, 41.3}, {128.3, 41.3},
                              {128.3, 41.4}, {128.0, 41.4}, {128.0, 41.0}};
    bt_query q;
    bt_query_init(&q);
    q.area = BT_AREA_POLYGON;
    q.ring = ring;
    q.nring = 7;
    struct bt__plan p;
    assert_int_equal(bt__plan_init(st, &q, "test", &p), BT_OK);
    assert_int_equal(bt__plan_cell(&p, 128.1, 41.1, 128.2, 41.2), BT__CELL_IN);
    assert_int_equal(bt__plan_cell(&p, 128.0, 41.0, 128.3, 41.3), BT__CELL_IN); /* on the edge */
    assert_int_equal(bt__plan_cell(&p, 128.31, 41.31, 128.39, 41.39), BT__CELL_OUT); /* notch */
    assert_int_equal(bt__plan_cell(&p, 129.0, 41.0, 129.1, 41.1), BT__CELL_OUT);
    assert_int_equal(bt__plan_cell(&p, 128.35, 41.2, 128.5, 41.25), BT__CELL_PART);
    assert_int_equal(bt__plan_cell(&p, 128.25, 41.25, 128.35, 41.35), BT__CELL_PART);
    assert_int_equal(bt__plan_cell(&p, 127.0, 40.0, 129.0, 42.0), BT__CELL_PART);
    assert_int_equal(bt__plan_cell(&p, 128.1, 41.1, 128.1, 41.2), BT__CELL_PART); /* flat */
    bt__plan_free(&p);
    /* "possible" and "certain" keep their own boundary-distance classifier */
    q.match = BT_MATCH_CERTAIN;
    assert_int_equal(bt__plan_init(st, &q, "test", &p), BT_OK);
    assert_true(p.has_bnd);
    bt__plan_free(&p);
    bt_store_close(st);
}

static int cmp_hit_id(const void *a, const void *b)
{
    const bt_hit *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* The sort of hits by id against qsort: small results (insertion), ids spanning under
 * 2^32 (keys in the index's buffers, swapped with the result's array, reused), wider
 * spans and results beyond what the buffers keep (in place), and without an index. */
static void test_hits_sort(void **state)
{
    (void)state;
    bt_store *st = NULL;
    assert_int_equal(bt_store_open(":memory:", BT_OPEN_READWRITE | BT_OPEN_CREATE, &st, NULL),
                     BT_OK);
    struct bt__index *ix = bt__index_peek(st);
    assert_non_null(ix);
    uint64_t s = 5;
    const size_t sizes[] = {0, 1, 2, 63, 64, 65, 500, 3500, 3500, 70000, 140000, 1000};
    for (int t = 0; t < 36; t++) {
        size_t n = sizes[t % 12];
        int span = t / 12; /* 0: ids up to 1e6, 1: span just under 2^32, 2: 2^40 */
        size_t cap = n + (size_t)(splitmix_next(&s) % 300);
        bt_hit *h = bt__malloc(cap * sizeof *h + 1), *ref = malloc(n * sizeof *ref + 1);
        assert_non_null(h);
        assert_non_null(ref);
        uint64_t base = 1 + splitmix_next(&s) % 1000;
        uint64_t range = span == 0 ? 1000000 : span == 1 ? UINT32_MAX : (uint64_t)1 << 40;
        for (size_t i = 0; i < n; i++) {
            bool dup;
            uint64_t id;
            do { /* distinct ids */
                id = base + splitmix_next(&s) % range;
                dup = false;
                for (size_t j = i > 50 ? i - 50 : 0; j < i; j++) dup |= (uint64_t)h[j].id == id;
                if (n <= 3500)
                    for (size_t j = 0; j < i; j++) dup |= (uint64_t)h[j].id == id;
            } while (dup);
            if (span == 1 && i == 0) id = base;
            if (span == 1 && i == 1) id = base + UINT32_MAX; /* span exactly 2^32 - 1 */
            h[i].id = (int64_t)id;
            h[i].distance_m = (double)splitmix_next(&s);
            h[i].start = (int64_t)splitmix_next(&s);
        }
        memcpy(ref, h, n * sizeof *ref);
        qsort(ref, n, sizeof *ref, cmp_hit_id);
        bool dups = false; /* the large random draws may repeat: the sort needs none */
        for (size_t i = 1; i < n; i++) dups |= ref[i].id == ref[i - 1].id;
        if (dups) {
            bt__free(h);
            free(ref);
            continue;
        }
        bt__hits_sort_by_id(t % 5 == 4 ? NULL : ix, &h, &cap, n);
        assert_true(cap >= n);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(h[i].id, ref[i].id);
            assert_memory_equal(&h[i].distance_m, &ref[i].distance_m, sizeof(double));
            assert_int_equal(h[i].start, ref[i].start);
        }
        bt__free(h);
        free(ref);
    }
    bt_store_close(st);
}

/* The bounds of a leaf's run (searches of its starts) against a linear scan: sorted
 * starts with long runs of equal values, the clamped INT32_MIN first, leaves of 1 to
 * 300 at offsets 0 to 99 of the array between values that break the order (a search
 * that strays out of the leaf reads them), cuts below, inside and above. */
static void test_leaf_run_bounds(void **state)
{
    (void)state;
    uint64_t s = 99;
    struct bt__pts p = {0};
    int32_t *tlo = malloc(500 * sizeof *tlo), *thi = malloc(500 * sizeof *thi);
    assert_non_null(tlo);
    assert_non_null(thi);
    p.tlo = tlo;
    p.thi = thi;
    for (int t = 0; t < 20000; t++) {
        size_t n = 1 + (size_t)(splitmix_next(&s) % 300);
        size_t off = t % 4 == 0 ? 0 : (size_t)(splitmix_next(&s) % 100);
        for (size_t i = 0; i < 500; i++) tlo[i] = thi[i] = i < off ? INT32_MAX : INT32_MIN;
        int32_t *lt = tlo + off, *ht = thi + off; /* the leaf */
        int32_t span = (int32_t)(1 + splitmix_next(&s) % (t % 3 == 0 ? 20 : 5000000));
        int32_t v = (int32_t)(splitmix_next(&s) % 1000000);
        for (size_t i = 0; i < n; i++) {
            if (splitmix_next(&s) % 4 != 0) v += (int32_t)(splitmix_next(&s) % (uint64_t)span);
            lt[i] = v;
            ht[i] = v + 10;
        }
        if (t % 7 == 0) lt[0] = INT32_MIN;
        int64_t to = (int64_t)lt[n - 1] - span + (int64_t)(splitmix_next(&s) % (3u * (uint64_t)span));
        if (t % 11 == 0) to = INT32_MIN + 5;
        int64_t from = to - (int64_t)(splitmix_next(&s) % (4u * (uint64_t)span + 1));
        /* short durations, and every 5th leaf a long one (long runs) */
        unsigned ld = (unsigned)(splitmix_next(&s) % (t % 5 == 0 ? 65535 : 3));
        size_t first = 0, last = 0;
        bt__kd_leaf_run(&p, off, off + n - 1, ld, from, to, &first, &last);
        assert_true(first >= off && last >= off);
        size_t want_last = 0, want_first = 0;
        /* INT32_MIN is a start clamped from earlier: before any window's end */
        while (want_last < n && (lt[want_last] == INT32_MIN || lt[want_last] <= to)) want_last++;
        int64_t cut = from - (int64_t)ld * 64;
        while (want_first < want_last && lt[want_first] < cut) want_first++;
        if (want_last == 0) want_first = 0;
        assert_int_equal(last - off, want_last);
        if (want_last > 0) assert_int_equal(first - off, want_first);
    }
    free(tlo);
    free(thi);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idmap),
        cmocka_unit_test(test_hits_sort),
        cmocka_unit_test(test_plan_chord2),
        cmocka_unit_test(test_leaf_run_bounds),
        cmocka_unit_test(test_plan_polygon_cells),
        cmocka_unit_test(test_plan_circle_cells),
        cmocka_unit_test(test_ucode),
        cmocka_unit_test(test_time_encoding),
        cmocka_unit_test(test_kd_range),
        cmocka_unit_test(test_kd_time_pruning),
        cmocka_unit_test(test_kd_inside_cells),
        cmocka_unit_test(test_overlay_and_repack),
        cmocka_unit_test(test_cell_angles),
        cmocka_unit_test(test_chord_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
