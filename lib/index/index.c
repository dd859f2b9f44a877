/**
 * @file index.c
 * @brief The index's dynamic part: incidents added or changed since the last build go
 * to a small overlay (scanned linearly by every query), and their stale static entries
 * are shadowed by id. When overlay and shadow outgrow a share of the static part, both
 * are merged into a new static part in memory (no store access).
 */
#include "index/index.h"

#include <string.h>

/* k-d leaf size, measured (docs/PERFORMANCE.md, "Leaf size"): from 48 to 192 a
 * radius + 90-day window query takes 0.64x the time (fewer leaves, each one binary
 * search of its starts), radius, box and polygon queries the same within noise, k
 * nearest 1.0-1.07x; 256 and more cost k nearest 1.2-1.4x. Saved copies keep the
 * leaf size they were built with. */
#ifndef BT_KD_LEAF /* -DBT_KD_LEAF=N: another size, for measuring (bench/query_ab.c) */
#define BT_KD_LEAF 192
#endif
#define KD_LEAF BT_KD_LEAF
/* Overlay entries tolerated before a repack: max(FLOOR, static size / DIVISOR). */
#define REPACK_FLOOR 4096
#define REPACK_DIVISOR 16

static void copy_slot(struct bt__pts *dst, size_t i, const struct bt__pts *src, size_t j)
{
    dst->lon[i] = src->lon[j];
    dst->lat[i] = src->lat[j];
    int64_t id = bt__pts_id(src, j);
    if (dst->id64)
        dst->id64[i] = id;
    else
        dst->id32[i] = (uint32_t)id;
    dst->tlo[i] = src->tlo[j];
    dst->thi[i] = src->thi[j];
    dst->attr[i] = src->attr[j];
    dst->ucode[i] = src->ucode[j];
}

int bt__index_load_begin(struct bt__index *ix)
{
    bt__index_clear(ix);
    ix->leaf = KD_LEAF;
    return BT_OK;
}

int bt__index_apply(struct bt__index *ix, int64_t id, const struct bt__index_row *row)
{
    uint32_t k;
    int rc;
    if (row) {
        unsigned code = bt__ucode_encode(row->uncertainty_m);
        if (code > ix->umax) ix->umax = code;
    }
    if (bt__idmap_get(&ix->ovmap, id, &k)) {
        if (row) {
            bool wide = id <= 0 || id > (int64_t)UINT32_MAX;
            if (wide && !ix->ov.id64) {
                rc = bt__pts_reserve(&ix->ov, ix->ov.cap, true);
                if (rc) return rc;
            }
            bt__pts_set(&ix->ov, k, row);
        } else {
            size_t last = ix->ov.n - 1;
            if (k != last) {
                bt__pts_move(&ix->ov, k, last);
                rc = bt__idmap_put(&ix->ovmap, bt__pts_id(&ix->ov, k), k);
                if (rc) return rc;
            }
            ix->ov.n--;
            bt__idmap_del(&ix->ovmap, id);
        }
    } else if (row) {
        if (ix->ov.n >= UINT32_MAX) return BT_ERR_NOMEM;
        rc = bt__pts_push(&ix->ov, row);
        if (rc) return rc;
        rc = bt__idmap_put(&ix->ovmap, id, (uint32_t)(ix->ov.n - 1));
        if (rc) {
            ix->ov.n--;
            return rc;
        }
    }
    /* Whatever the static part holds for this id is no longer the truth. */
    return bt__idmap_put(&ix->shadow, id, 0);
}

int bt__index_static_changed(struct bt__index *ix)
{
    bt__free(ix->ntime);
    bt__free(ix->ldur);
    ix->ntime = NULL;
    ix->ldur = NULL;
    ix->nnodes = 0;
    return bt__kd_time_build(&ix->st, ix->leaf, &ix->ntime, &ix->ldur, &ix->nnodes);
}

int bt__index_repack(struct bt__index *ix)
{
    struct bt__pts np = {0};
    size_t n = ix->st.n + ix->ov.n;
    bool wide = ix->st.id64 || ix->ov.id64;
    int rc = bt__pts_reserve(&np, n ? n : 1, wide);
    if (rc) return rc;
    for (size_t i = 0; i < ix->st.n; i++)
        if (bt__index_static_live(ix, i)) copy_slot(&np, np.n++, &ix->st, i);
    for (size_t i = 0; i < ix->ov.n; i++) copy_slot(&np, np.n++, &ix->ov, i);
    rc = bt__kd_build(&np, ix->leaf);
    if (rc) {
        bt__pts_free(&np);
        return rc;
    }
    bt__pts_free(&ix->st);
    ix->st = np;
    ix->ov.n = 0;
    bt__idmap_free(&ix->ovmap);
    bt__idmap_free(&ix->shadow);
    return bt__index_static_changed(ix);
}

int bt__index_maybe_repack(struct bt__index *ix)
{
    size_t limit = ix->st.n / REPACK_DIVISOR;
    if (limit < REPACK_FLOOR) limit = REPACK_FLOOR;
    if (ix->ov.n + ix->shadow.n <= limit) return BT_OK;
    return bt__index_repack(ix);
}

void bt__index_clear(struct bt__index *ix)
{
    bt__free(ix->ntime);
    bt__free(ix->ldur);
    ix->ntime = NULL;
    ix->ldur = NULL;
    ix->nnodes = 0;
    bt__pts_free(&ix->st);
    bt__pts_free(&ix->ov);
    bt__idmap_free(&ix->ovmap);
    bt__idmap_free(&ix->shadow);
}

static size_t pts_bytes(const struct bt__pts *p)
{
    size_t per = 2 * sizeof(double) + (p->id64 ? sizeof(int64_t) : sizeof(uint32_t)) +
                 2 * sizeof(int32_t) + sizeof(uint16_t) + sizeof(uint8_t);
    return p->cap * per;
}

size_t bt__index_bytes(const struct bt__index *ix)
{
    return pts_bytes(&ix->st) + pts_bytes(&ix->ov) + ix->nnodes * (2 * sizeof(int32_t) + sizeof(uint16_t)) +
           (ix->ovmap.cap + ix->shadow.cap) * (sizeof(int64_t) + sizeof(uint32_t)) +
           (ix->capdirty + ix->capheld) * sizeof(int64_t);
}

size_t bt__index_count(const struct bt__index *ix)
{
    size_t live = ix->ov.n;
    if (ix->shadow.n == 0) return live + ix->st.n;
    for (size_t i = 0; i < ix->st.n; i++)
        if (bt__index_static_live(ix, i)) live++;
    return live;
}
