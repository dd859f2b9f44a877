/**
 * @file sync.c
 * @brief Keeping the index in step with the store without relying on the write
 * functions to report their writes.
 *
 * - Writes on this connection: the backend's write watch (an SQLite update hook, plus
 *   temporary triggers for the report links) hands every changed incident id to
 *   bt__index_note_incident(). At the next query those rows are read back and applied
 *   to the overlay. Reading the row back, rather than trusting what a write function
 *   meant to write, makes failed statements, constraint aborts and cascades harmless.
 * - Inside a transaction the applied ids are held and re-read at every query until the
 *   transaction ends, because a ROLLBACK (or ROLLBACK TO a savepoint) undoes rows
 *   without telling anyone; re-reading gives whatever state survived.
 * - Writes by other connections or processes: the backend's data version changes, and
 *   the index is rebuilt from the store.
 * - A change to a source's reliability touches every incident it reported: rebuild.
 */
#include "index/index.h"
#include "store/backend.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Beyond this many pending ids a rebuild is cheaper than reading rows one by one. */
static size_t apply_limit(const struct bt__index *ix)
{
    size_t lim = ix->st.n / 8;
    return lim < 4096 ? 4096 : lim;
}

static int push_id(int64_t **arr, size_t *n, size_t *cap, int64_t id)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        int64_t *na = bt__realloc(*arr, ncap * sizeof *na);
        if (!na) return BT_ERR_NOMEM;
        *arr = na;
        *cap = ncap;
    }
    (*arr)[(*n)++] = id;
    return BT_OK;
}

void bt__index_note_incident(bt_store *s, int64_t id)
{
    struct bt__index *ix = s->index;
    if (!ix || ix->rebuild || !ix->valid) return;
    if (ix->ndirty >= apply_limit(ix) ||
        push_id(&ix->dirty, &ix->ndirty, &ix->capdirty, id) != BT_OK) {
        /* too many to apply one by one (or no memory to remember them) */
        ix->rebuild = true;
        bt__free(ix->dirty);
        ix->dirty = NULL;
        ix->ndirty = ix->capdirty = 0;
    }
}

void bt__index_invalidate(bt_store *s)
{
    if (s->index) s->index->rebuild = true;
}

void bt__index_free(bt_store *s)
{
    struct bt__index *ix = s->index;
    if (!ix) return;
    if (s->be->index_release) s->be->index_release(s);
    bt__index_clear(ix);
    bt__free(ix->dirty);
    bt__free(ix->held);
    bt__free(ix->sort_keys);
    bt__free(ix->sort_hits);
    bt__free(ix);
    s->index = NULL;
}

static int load_row(const struct bt__index_row *row, void *udata)
{
    struct bt__index *ix = udata;
    return bt__pts_push(&ix->st, row) ? 1 : 0;
}

/* The store's generation counter, or -1 when unknown (never an error: it only decides
 * whether the persisted copy may be used or written). */
static int64_t generation(bt_store *s)
{
    int64_t g = -1;
    if (!s->be->index_generation) return -1;
    if (s->be->index_generation(s, &g) != BT_OK) {
        bt__clear_error(s);
        return -1;
    }
    return g;
}

static int finish_build(struct bt__index *ix, uint64_t dv, bool in_txn)
{
    if (bt__index_static_changed(ix) != BT_OK) {
        bt__index_clear(ix);
        return BT_ERR_NOMEM;
    }
    ix->umax = 0;
    for (size_t i = 0; i < ix->st.n; i++)
        if (ix->st.ucode[i] > ix->umax) ix->umax = ix->st.ucode[i];
    ix->ndirty = ix->nheld = 0;
    ix->rebuild = false;
    ix->rebuild_after_txn = in_txn;
    ix->data_version = dv;
    ix->valid = true;
    ix->builds++;
    return BT_OK;
}

static int full_build(bt_store *s, struct bt__index *ix, uint64_t dv, bool in_txn)
{
    ix->valid = false;
    bt__index_load_begin(ix);
    /* The persisted copy, if it is current: tens of ms instead of a scan and a sort. */
    bool loaded = false;
    int rc = bt__index_persist_load(s, ix, &loaded);
    if (rc) return bt__error(s, BT_ERR_NOMEM, "loading the incident index: out of memory");
    if (loaded) {
        if (finish_build(ix, dv, in_txn))
            return bt__error(s, BT_ERR_NOMEM, "loading the incident index: out of memory");
        ix->loads++;
        return BT_OK;
    }
    /* the generation before and after the scan: equal means the scan saw that state */
    int64_t gen = in_txn ? -1 : generation(s);
    /* (no count first: counting a large table costs as much as a tenth of the scan) */
    rc = bt__pts_reserve(&ix->st, 4096, false);
    if (rc) return bt__error(s, BT_ERR_NOMEM, "building the incident index: out of memory");
    int cbfail = 0;
    rc = s->be->index_scan(s, load_row, ix, &cbfail);
    if (!rc && !cbfail && bt__pts_shrink(&ix->st) != BT_OK) cbfail = 1;
    if (!rc && cbfail)
        rc = bt__error(s, BT_ERR_NOMEM, "building the incident index: out of memory");
    if (!rc && bt__kd_build(&ix->st, ix->leaf) != BT_OK)
        rc = bt__error(s, BT_ERR_NOMEM, "building the incident index: out of memory");
    if (rc) {
        bt__index_clear(ix);
        return rc;
    }
    if (finish_build(ix, dv, in_txn))
        return bt__error(s, BT_ERR_NOMEM, "building the incident index: out of memory");
    if (gen >= 0 && (s->flags & BT_OPEN_READWRITE) && !s->be->in_transaction(s) &&
        generation(s) == gen && bt__index_persist_save(s, ix, gen))
        ix->saves++;
    return BT_OK;
}

struct apply_ctx {
    struct bt__index *ix;
    int rc;
};

static int apply_row(int64_t id, const struct bt__index_row *row, void *udata)
{
    struct apply_ctx *c = udata;
    c->rc = bt__index_apply(c->ix, id, row);
    return c->rc ? 1 : 0;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Sorts and removes duplicates in place; returns the new length. */
static size_t uniq(int64_t *a, size_t n)
{
    if (n < 2) return n;
    qsort(a, n, sizeof *a, cmp_id);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (a[i] != a[k - 1]) a[k++] = a[i];
    return k;
}

struct bt__index *bt__index_peek(bt_store *s)
{
    if (!s->index) s->index = bt__calloc(1, sizeof *s->index);
    return s->index;
}

int bt__index_ready(bt_store *s, struct bt__index **out)
{
    *out = NULL;
    struct bt__index *ix = bt__index_peek(s);
    if (!ix) return bt__error(s, BT_ERR_NOMEM, "creating the incident index: out of memory");
    int rc;
    if (!ix->watching) {
        rc = s->be->index_watch(s);
        if (rc) return rc;
        ix->watching = true;
        ix->valid = false;
    }
    uint64_t dv = 0;
    rc = s->be->data_version(s, &dv);
    if (rc) return rc;
    bool in_txn = s->be->in_transaction(s);

    if (!ix->valid || ix->rebuild || dv != ix->data_version ||
        (ix->rebuild_after_txn && !in_txn)) {
        rc = full_build(s, ix, dv, in_txn);
        if (rc) return rc;
        *out = ix;
        return BT_OK;
    }
    if (ix->ndirty == 0 && ix->nheld == 0) {
        *out = ix;
        return BT_OK;
    }
    /* the ids to read back: new ones, and those held since a transaction wrote them
     * (inside it, or once after it ended: a rollback may have undone them) */
    for (size_t i = 0; i < ix->nheld; i++) {
        if (push_id(&ix->dirty, &ix->ndirty, &ix->capdirty, ix->held[i]))
            return bt__error(s, BT_ERR_NOMEM, "updating the incident index: out of memory");
    }
    ix->ndirty = uniq(ix->dirty, ix->ndirty);
    if (ix->ndirty > apply_limit(ix)) {
        rc = full_build(s, ix, dv, in_txn);
        if (rc) return rc;
        *out = ix;
        return BT_OK;
    }
    struct apply_ctx c = {ix, BT_OK};
    rc = s->be->index_rows(s, ix->dirty, ix->ndirty, apply_row, &c);
    if (!rc && c.rc) rc = bt__error(s, BT_ERR_NOMEM, "updating the incident index: out of memory");
    if (!rc && in_txn) {
        /* hold them until the transaction ends: dirty becomes held */
        int64_t *t = ix->held;
        size_t tc = ix->capheld;
        ix->held = ix->dirty;
        ix->capheld = ix->capdirty;
        ix->nheld = ix->ndirty;
        ix->dirty = t;
        ix->capdirty = tc;
    } else {
        ix->nheld = 0;
    }
    ix->ndirty = 0;
    if (!rc && bt__index_maybe_repack(ix) != BT_OK)
        rc = bt__error(s, BT_ERR_NOMEM, "repacking the incident index: out of memory");
    if (rc) {
        ix->valid = false; /* half applied: start again next time */
        return rc;
    }
    *out = ix;
    return BT_OK;
}
