/**
 * @file index.h
 * @brief Internal interface of the in-memory incident index (lib/index): a static
 * k-d tree over points (the kdbush layout: the sorted arrays are the tree, no node
 * storage) plus a small dynamic overlay, kept in step with the store.
 *
 * Per incident the static part holds 31 bytes: lon and lat as doubles (exact), the id
 * as a 32-bit integer (64-bit only in a store whose ids do not fit), the occurrence
 * interval in whole minutes rounded outward (a conservative superset, decided exactly
 * from the record when a query's window edge falls inside the rounding), type,
 * verification, best source reliability and information credibility packed into 16
 * bits, and the uncertainty radius as an 8-bit logarithmic code (again a conservative
 * interval, decided exactly from the record when it matters).
 */
#ifndef BT_INDEX_H
#define BT_INDEX_H

#include "core/internal.h"

/** One incident as the index needs it (what the backend reads for it). */
struct bt__index_row {
    int64_t id;
    double lon, lat;
    int64_t start, end;  /* end == BT_TIME_OPEN: open */
    double uncertainty_m;
    int type;            /* bt_incident_type */
    int verification;    /* bt_verification */
    int reliability;     /* best linked source: 1 ('A') .. 6 ('F'), 0 = no link */
    int credibility;     /* best linked report: 1 .. 6, 0 = no link */
};

/* attr bits */
#define BT__A_TYPE(a) ((unsigned)(a)&0xFu)
#define BT__A_VERIF(a) (((unsigned)(a) >> 4) & 0x7u)
#define BT__A_REL(a) (((unsigned)(a) >> 7) & 0x7u)
#define BT__A_CRED(a) (((unsigned)(a) >> 10) & 0x7u)
#define BT__A_TEXACT 0x2000u /* the minute interval is the exact interval */

/** Points in struct-of-arrays layout (the static part and the overlay). */
struct bt__pts {
    size_t n, cap;
    double *lon, *lat;
    uint32_t *id32;  /* ids, when every id fits in 32 bits ... */
    int64_t *id64;   /* ... else these (exactly one of the two is set when cap > 0) */
    int32_t *tlo;    /* floor(start / 60), clamped */
    int32_t *thi;    /* ceil((end + 1) / 60), INT32_MAX for open or beyond */
    uint16_t *attr;
    uint8_t *ucode;
};

static inline int64_t bt__pts_id(const struct bt__pts *p, size_t i)
{
    return p->id64 ? p->id64[i] : (int64_t)p->id32[i];
}

/** Open-addressing hash from id to a 32-bit value (set or map). */
struct bt__idmap {
    size_t cap, n;  /* cap is a power of two or 0 */
    int64_t *keys;  /* 0 = empty slot (ids are > 0) */
    uint32_t *vals;
};

/** The index of one store (hung off bt_store::index). */
struct bt__index {
    struct bt__pts st;     /* static part, in k-d order */
    size_t leaf;           /* k-d leaf size */
    int32_t *ntime;        /* time bounds per node of st (bt__kd_time_build), or NULL */
    uint16_t *ldur;        /* longest duration per leaf of st (bt__kd_time_build), or NULL */
    size_t nnodes;
    struct bt__pts ov;     /* overlay: incidents added or changed since the build */
    struct bt__idmap ovmap;  /* id -> overlay slot */
    struct bt__idmap shadow; /* ids whose static entry is stale (changed or deleted) */
    /* keeping in step with the store (sync.c) */
    bool valid;            /* built at least once and not invalidated */
    bool watching;         /* the backend reports our connection's writes */
    bool rebuild;          /* a change we cannot apply row by row happened */
    bool rebuild_after_txn; /* built inside a transaction that may still roll back */
    uint64_t data_version; /* the backend's other-connection change counter at sync */
    int64_t *dirty;        /* ids written by this connection since the last sync */
    size_t ndirty, capdirty;
    int64_t *held;         /* ids applied inside the open transaction: re-read at every
                              sync until it ends, since a rollback undoes them silently */
    size_t nheld, capheld;
    size_t builds;         /* full builds from the store (for tests) */
    size_t loads;          /* of those, loaded from the persisted copy (persist.c) */
    size_t saves;          /* copies persisted */
    void *be_cache;        /* the backend's statements for the index (index_release) */
    unsigned umax;         /* largest uncertainty code ever indexed (never lowered) */
    unsigned long queries; /* incident queries asked on this handle */
    unsigned long knn_keys; /* points whose keys the k nearest computed (for tests) */
    /* kept between queries for the sort of hits by id (incidents.c): fresh pages cost
       more than the sort itself */
    uint64_t *sort_keys;   /* 2 * sort_kcap keys */
    bt_hit *sort_hits;     /* sort_hcap hits */
    size_t sort_kcap, sort_hcap;
};

/* ---- points and the k-d tree (kdtree.c) ------------------------------------ */

int bt__pts_reserve(struct bt__pts *p, size_t cap, bool wide_ids);
void bt__pts_free(struct bt__pts *p);
/** Gives back the unused capacity (so the static part holds exactly 31 bytes/point). */
int bt__pts_shrink(struct bt__pts *p);
/** Appends one row (encoding times, attributes, uncertainty). */
int bt__pts_push(struct bt__pts *p, const struct bt__index_row *r);
/** Overwrites slot i with a row. */
void bt__pts_set(struct bt__pts *p, size_t i, const struct bt__index_row *r);
/** Moves slot j into slot i (for swap-removal). */
void bt__pts_move(struct bt__pts *p, size_t i, size_t j);

/** Sorts p into k-d order (alternating lon, lat medians) with leaves of @p leaf, each
 *  leaf's points in ascending tlo (so a time window is a contiguous run of a leaf). */
int bt__kd_build(struct bt__pts *p, size_t leaf);

/** Lower / upper bound of the uncertainty radius a code stands for. */
double bt__ucode_lo(unsigned code);
double bt__ucode_hi(unsigned code);
unsigned bt__ucode_encode(double u);

/** How a search classifies a k-d cell (a closed lon/lat box). */
enum { BT__CELL_OUT = 0, BT__CELL_PART = 1, BT__CELL_IN = 2 };
typedef int (*bt__cell_fn)(void *ctx, double w, double s, double e, double n);
/** A candidate point; inside: the cell classifier said every point of its cell is in
 *  the area. Return non-zero to stop. */
typedef int (*bt__pt_fn)(void *ctx, const struct bt__pts *p, size_t i, bool inside);
/** Every point of slots [left, right] (a whole subtree of a cell called in) at once.
 *  Return non-zero to stop. */
typedef int (*bt__span_fn)(void *ctx, const struct bt__pts *p, size_t left, size_t right);
/** Most candidates a batch callback gets at once. */
#define BT__KD_BATCH 256
/** The candidates idx[0..k) (k <= BT__KD_BATCH) of one leaf at once, as bt__pt_fn would
 *  get them one by one, in the same order. Return non-zero to stop. */
typedef int (*bt__batch_fn)(void *ctx, const struct bt__pts *p, const size_t *idx, size_t k,
                            bool inside);

/**
 * Visits the static points in the lon/lat box (west <= east), pruning cells the
 * classifier (may be NULL) calls out and passing "inside" for cells it calls in. The
 * points of a cell called in are passed without a box test: the classifier must call
 * in only cells wholly in the area, and the area must lie in the union of the query's
 * boxes, which must not overlap (a cell met in one box's search overlaps that box, and
 * being connected and within the union, lies in it).
 * @return 0, or the non-zero value of a callback that stopped.
 */
int bt__kd_range(const struct bt__pts *p, size_t leaf, bt_bbox box, bt__cell_fn cell,
                 bt__pt_fn pt, void *ctx);

/**
 * Per k-d node (heap numbering: root 1, children 2k and 2k + 1) the smallest tlo and
 * largest thi of its points, as nt[2k], nt[2k + 1]: a search with a time window skips
 * nodes whose intervals all miss it; and per leaf k the longest thi - tlo of its points
 * in units of 64 minutes rounded up (UINT16_MAX: no bound), as ldur[k]: with the
 * leaf sorted by tlo, the points that may overlap a window are one run of it, found
 * by binary search. *nt and *ldur are bt__malloc'd (caller frees); *nnodes is their
 * length in nodes. Under 0.3 bytes per point at leaf size 192 (10 bytes per node).
 */
int bt__kd_time_build(const struct bt__pts *p, size_t leaf, int32_t **nt, uint16_t **ldur,
                      size_t *nnodes);

/** Whether every leaf of p (k-d order, leaf size @p leaf) is sorted by tlo, as
 *  bt__kd_build() leaves it (checked on a persisted copy before it is trusted). */
bool bt__kd_leaves_sorted(const struct bt__pts *p, size_t leaf);

/**
 * The run [*first, *last) of the leaf [left, right] (sorted by tlo) outside which no
 * point can overlap the window (tlo <= to_min, thi >= from_min, with INT32_MIN and
 * INT32_MAX read as unbounded), given the leaf's ldur code from bt__kd_time_build().
 */
void bt__kd_leaf_run(const struct bt__pts *p, size_t left, size_t right, unsigned ldur,
                     int64_t from_min, int64_t to_min, size_t *first, size_t *last);

/**
 * bt__kd_range() that also skips nodes whose time bounds (from bt__kd_time_build(),
 * NULL for none) show no interval [tlo, thi] with tlo <= to_min and thi >= from_min,
 * and, when @p ldur is given too, looks only at the run of each leaf whose starts
 * can overlap the window. Without a window (@p nt NULL), @p span (may be NULL) takes
 * each subtree of a cell called in whole, in place of @p pt on each of its points
 * (a count need not visit them).
 */
int bt__kd_range_time(const struct bt__pts *p, size_t leaf, bt_bbox box, const int32_t *nt,
                      const uint16_t *ldur, int64_t from_min, int64_t to_min, bt__cell_fn cell,
                      bt__pt_fn pt, bt__span_fn span, void *ctx);

/**
 * bt__kd_range_time() that hands the candidates of each leaf to @p batch (after the
 * same box and time tests) in place of calling @p pt on each; the median points of
 * inner nodes still go to @p pt. A batch lets the caller test a leaf's points in one
 * tight loop instead of a chain of calls per point.
 */
int bt__kd_range_batch(const struct bt__pts *p, size_t leaf, bt_bbox box, const int32_t *nt,
                       const uint16_t *ldur, int64_t from_min, int64_t to_min,
                       bt__cell_fn cell, bt__pt_fn pt, bt__span_fn span, bt__batch_fn batch,
                       void *ctx);

/** A k-d node for best-first traversal (kNN). */
struct bt__kd_node {
    size_t left, right; /* inclusive slot range */
    int axis;
    double w, s, e, n;  /* the cell */
};

/* ---- id maps (idmap.c) ---------------------------------------------------- */

int bt__idmap_put(struct bt__idmap *m, int64_t key, uint32_t val);
bool bt__idmap_get(const struct bt__idmap *m, int64_t key, uint32_t *val);
bool bt__idmap_del(struct bt__idmap *m, int64_t key);
void bt__idmap_free(struct bt__idmap *m);

/* ---- the index proper (index.c) ------------------------------------------- */

/** Builds a fresh static part from rows (replacing everything). */
int bt__index_load_begin(struct bt__index *ix);
/** True if the static entry at slot i is current (not shadowed). */
static inline bool bt__index_static_live(const struct bt__index *ix, size_t i)
{
    return ix->shadow.n == 0 || !bt__idmap_get(&ix->shadow, bt__pts_id(&ix->st, i), NULL);
}
/** Applies the current state of one incident (row) or its deletion (row NULL). */
int bt__index_apply(struct bt__index *ix, int64_t id, const struct bt__index_row *row);
/** Merges the overlay into the static part when it has grown past its share. */
int bt__index_maybe_repack(struct bt__index *ix);
/** Recomputes what is derived from the static part (the per-node time bounds) after
 *  it changed; on failure (no memory) the bounds are absent, which only slows queries
 *  down, and BT_ERR_NOMEM is returned. */
int bt__index_static_changed(struct bt__index *ix);
/** Repacks unconditionally. */
int bt__index_repack(struct bt__index *ix);
/** Frees everything the index holds (not the struct). */
void bt__index_clear(struct bt__index *ix);
/** Bytes held by the index's arrays (for the memory figure). */
size_t bt__index_bytes(const struct bt__index *ix);
/** Number of live incidents. */
size_t bt__index_count(const struct bt__index *ix);

/* ---- the persisted copy (persist.c) --------------------------------------- */

/**
 * Loads the static part from the store's persisted copy if it was made at the
 * store's current generation and is intact; *loaded says whether it was. On anything
 * else the index is left empty (ready for a build from the table) and BT_OK returned.
 * @return BT_OK, or BT_ERR_NOMEM.
 */
int bt__index_persist_load(bt_store *s, struct bt__index *ix, bool *loaded);
/** Saves the static part (with an empty overlay) as the copy of generation @p gen when
 *  the store allows; failures are not errors. @return whether it was saved. */
bool bt__index_persist_save(bt_store *s, const struct bt__index *ix, int64_t gen);

/* ---- keeping in step with the store (sync.c) ------------------------------ */

/**
 * The store's index, built or brought up to date as needed: the first call builds it
 * from the store; later calls apply the rows this connection changed (reported by
 * the backend's write watch) and rebuild when another connection changed the file.
 * Correctness never depends on the write functions calling anything.
 */
int bt__index_ready(bt_store *s, struct bt__index **out);

/** The store's index struct, created empty if needed (nothing is built); NULL when out
 *  of memory. */
struct bt__index *bt__index_peek(bt_store *s);

/** Called by the backend's write watch: incident @p id was inserted, updated or
 *  deleted, or its report links changed, on this connection. */
void bt__index_note_incident(bt_store *s, int64_t id);
/** Called by the write watch when something changed that touches many incidents
 *  (a source's reliability): rebuild at the next query. */
void bt__index_invalidate(bt_store *s);
/** Frees the store's index (bt_store_close() calls it before closing the backend). */
void bt__index_free(bt_store *s);

#endif /* BT_INDEX_H */
