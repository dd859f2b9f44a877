/**
 * @file kdtree.c
 * @brief The point arrays of the index and the static k-d tree over them (the kdbush
 * design: the arrays sorted so that each range's middle element is the median of its
 * axis, alternating lon and lat; the tree needs no storage of its own).
 *
 * Why a k-d tree rather than a packed Hilbert R-tree: over points both prune alike,
 * but the R-tree stores a box per node (1-2 bytes per point at node size 16 with float
 * boxes) that the 32-byte budget cannot spare, while the k-d tree's cells are implied
 * by the split values and come for free during the descent; see docs/PERFORMANCE.md.
 */
#include "index/index.h"

#include <math.h>
#include <string.h>

/* ---- arrays --------------------------------------------------------------- */

int bt__pts_reserve(struct bt__pts *p, size_t cap, bool wide_ids)
{
    if (cap <= p->cap && (!wide_ids || p->id64)) return BT_OK;
    if (cap < p->cap) cap = p->cap;
    if (cap < 16) cap = 16;
    double *lon = bt__realloc(p->lon, cap * sizeof *lon);
    if (lon) p->lon = lon;
    double *lat = lon ? bt__realloc(p->lat, cap * sizeof *lat) : NULL;
    if (lat) p->lat = lat;
    int32_t *tlo = lat ? bt__realloc(p->tlo, cap * sizeof *tlo) : NULL;
    if (tlo) p->tlo = tlo;
    int32_t *thi = tlo ? bt__realloc(p->thi, cap * sizeof *thi) : NULL;
    if (thi) p->thi = thi;
    uint16_t *attr = thi ? bt__realloc(p->attr, cap * sizeof *attr) : NULL;
    if (attr) p->attr = attr;
    uint8_t *uc = attr ? bt__realloc(p->ucode, cap * sizeof *uc) : NULL;
    if (uc) p->ucode = uc;
    if (!uc) return BT_ERR_NOMEM;
    if (wide_ids || p->id64) {
        int64_t *id64 = bt__realloc(p->id64, cap * sizeof *id64);
        if (!id64) return BT_ERR_NOMEM;
        if (!p->id64 && p->id32) /* widen the ids held so far */
            for (size_t i = 0; i < p->n; i++) id64[i] = p->id32[i];
        p->id64 = id64;
        bt__free(p->id32);
        p->id32 = NULL;
    } else {
        uint32_t *id32 = bt__realloc(p->id32, cap * sizeof *id32);
        if (!id32) return BT_ERR_NOMEM;
        p->id32 = id32;
    }
    p->cap = cap;
    return BT_OK;
}

int bt__pts_shrink(struct bt__pts *p)
{
    if (p->n == p->cap || p->n == 0) return BT_OK;
    size_t n = p->n;
#define SHRINK(col)                                                       \
    do {                                                                  \
        if (p->col) {                                                     \
            void *q_ = bt__realloc(p->col, n * sizeof *p->col);           \
            if (!q_) return BT_ERR_NOMEM;                                 \
            p->col = q_;                                                  \
        }                                                                 \
    } while (0)
    SHRINK(lon);
    SHRINK(lat);
    SHRINK(id32);
    SHRINK(id64);
    SHRINK(tlo);
    SHRINK(thi);
    SHRINK(attr);
    SHRINK(ucode);
#undef SHRINK
    p->cap = n;
    return BT_OK;
}

void bt__pts_free(struct bt__pts *p)
{
    bt__free(p->lon);
    bt__free(p->lat);
    bt__free(p->id32);
    bt__free(p->id64);
    bt__free(p->tlo);
    bt__free(p->thi);
    bt__free(p->attr);
    bt__free(p->ucode);
    memset(p, 0, sizeof *p);
}

/* The uncertainty code: 0 is exactly 0 m; code c >= 1 stands for the interval
 * (U(c-1), U(c)] with U(c) = 1 cm * 2^((c-1)/8), a ratio of 9% between its ends;
 * the last code is open above. */
double bt__ucode_hi(unsigned code)
{
    if (code == 0) return 0.0;
    if (code >= 255) return INFINITY;
    return 0.01 * exp2((double)(code - 1) / 8.0);
}

double bt__ucode_lo(unsigned code)
{
    return code <= 1 ? 0.0 : bt__ucode_hi(code - 1);
}

unsigned bt__ucode_encode(double u)
{
    if (!(u > 0.0)) return 0;
    if (u > bt__ucode_hi(254)) return 255;
    double c = ceil(8.0 * log2(u / 0.01)) + 1.0;
    unsigned code = c < 1.0 ? 1u : (unsigned)c;
    if (code > 254) code = 254;
    /* exp2/log2 rounding: settle on the code whose interval really holds u */
    while (code > 1 && u <= bt__ucode_hi(code - 1)) code--;
    while (code < 255 && u > bt__ucode_hi(code)) code++;
    return code;
}

static int32_t minutes_floor(int64_t t, bool *exact)
{
    int64_t m = t / 60;
    if (t % 60 != 0) {
        *exact = false;
        if (t < 0) m--;
    }
    if (m < INT32_MIN) {
        *exact = false;
        return INT32_MIN; /* read as "any earlier start" by the queries */
    }
    if (m > INT32_MAX - 1) {
        *exact = false;
        return INT32_MAX - 1; /* still <= t / 60; never equal to "open" */
    }
    return (int32_t)m;
}

static int32_t minutes_ceil(int64_t t, bool *exact)
{
    if (t == BT_TIME_OPEN) return INT32_MAX;
    int64_t m = t / 60;
    if (t % 60 != 0) {
        *exact = false;
        if (t > 0) m++;
    }
    if (m >= INT32_MAX) {
        *exact = false;
        return INT32_MAX;
    }
    if (m < INT32_MIN) {
        *exact = false;
        return INT32_MIN; /* below the true end: bt__pts_set() widens it to open */
    }
    return (int32_t)m;
}

void bt__pts_set(struct bt__pts *p, size_t i, const struct bt__index_row *r)
{
    bool exact = true;
    p->lon[i] = r->lon;
    p->lat[i] = r->lat;
    if (p->id64)
        p->id64[i] = r->id;
    else
        p->id32[i] = (uint32_t)r->id;
    p->tlo[i] = minutes_floor(r->start, &exact);
    /* The end is inclusive and usually the last second of a day (hh:59:59): storing the
     * first minute after it keeps such ends exact. */
    int32_t hi = minutes_ceil(r->end == BT_TIME_OPEN ? BT_TIME_OPEN : r->end + 1, &exact);
    /* An end before -4000 years is clamped to INT32_MIN, which is below the true end:
     * no longer a superset. Widen it to "open" and decide such rows exactly. */
    if (hi == INT32_MIN && r->end != BT_TIME_OPEN) {
        hi = INT32_MAX;
        exact = false;
    }
    p->thi[i] = hi;
    unsigned a = ((unsigned)r->type & 0xFu) | (((unsigned)r->verification & 0x7u) << 4) |
                 (((unsigned)r->reliability & 0x7u) << 7) |
                 (((unsigned)r->credibility & 0x7u) << 10);
    if (exact) a |= BT__A_TEXACT;
    p->attr[i] = (uint16_t)a;
    p->ucode[i] = (uint8_t)bt__ucode_encode(r->uncertainty_m);
}

int bt__pts_push(struct bt__pts *p, const struct bt__index_row *r)
{
    bool wide = r->id <= 0 || r->id > (int64_t)UINT32_MAX;
    if (p->n == p->cap || (wide && !p->id64)) {
        int rc = bt__pts_reserve(p, p->n == p->cap ? (p->cap ? p->cap * 2 : 16) : p->cap, wide);
        if (rc) return rc;
    }
    bt__pts_set(p, p->n, r);
    p->n++;
    return BT_OK;
}

void bt__pts_move(struct bt__pts *p, size_t i, size_t j)
{
    p->lon[i] = p->lon[j];
    p->lat[i] = p->lat[j];
    if (p->id64)
        p->id64[i] = p->id64[j];
    else
        p->id32[i] = p->id32[j];
    p->tlo[i] = p->tlo[j];
    p->thi[i] = p->thi[j];
    p->attr[i] = p->attr[j];
    p->ucode[i] = p->ucode[j];
}

/* ---- building ------------------------------------------------------------- */

/* The sort works on a compact copy of the coordinates and the original slot, then
 * permutes every array once: cheaper than swapping eight arrays at every step. */
struct kd_item {
    double c[2];
    uint32_t slot;
    int32_t tlo; /* leaves end up sorted by it */
};

static void item_swap(struct kd_item *a, size_t i, size_t j)
{
    struct kd_item t = a[i];
    a[i] = a[j];
    a[j] = t;
}

/* Floyd-Rivest selection (as kdbush): puts the k-th smallest by axis at k, smaller
 * ones left of it and larger ones right. */
static void kd_select(struct kd_item *a, size_t k, size_t left, size_t right, int axis)
{
    while (right > left) {
        if (right - left > 600) {
            double n = (double)(right - left + 1);
            double m = (double)(k - left + 1);
            double z = log(n);
            double sd0 = 0.5 * exp(2.0 * z / 3.0);
            double sd = 0.5 * sqrt(z * sd0 * (n - sd0) / n) * (m - n / 2.0 < 0 ? -1.0 : 1.0);
            double nl = (double)k - m * sd0 / n + sd;
            double nr = (double)k + (n - m) * sd0 / n + sd;
            size_t nleft = nl > (double)left ? (size_t)nl : left;
            size_t nright = nr < (double)right ? (size_t)nr : right;
            kd_select(a, k, nleft, nright, axis);
        }
        double t = a[k].c[axis];
        size_t i = left, j = right;
        item_swap(a, left, k);
        if (a[right].c[axis] > t) item_swap(a, left, right);
        while (i < j) {
            item_swap(a, i, j);
            i++;
            j--;
            while (a[i].c[axis] < t) i++;
            while (a[j].c[axis] > t) j--;
        }
        if (a[left].c[axis] == t) {
            item_swap(a, left, j);
        } else {
            j++;
            item_swap(a, j, right);
        }
        if (j <= k) left = j + 1;
        if (k <= j) {
            if (j == 0) break;
            right = j - 1;
        }
    }
}

/* Sorts a leaf by start (insertion sort: at most leaf + 1 items), so that a time
 * window selects a contiguous run of it (see bt__kd_range_time()). */
static void leaf_sort(struct kd_item *a, size_t left, size_t right)
{
    for (size_t i = left + 1; i <= right; i++) {
        struct kd_item x = a[i];
        size_t j = i;
        while (j > left && a[j - 1].tlo > x.tlo) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

static void kd_sort(struct kd_item *a, size_t leaf, size_t left, size_t right, int axis)
{
    /* explicit recursion depth is log2(n / leaf): fine */
    if (right <= left) return;
    if (right - left <= leaf) {
        leaf_sort(a, left, right);
        return;
    }
    size_t m = left + ((right - left) >> 1);
    kd_select(a, m, left, right, axis);
    if (m > left) kd_sort(a, leaf, left, m - 1, 1 - axis);
    kd_sort(a, leaf, m + 1, right, 1 - axis);
}

int bt__kd_build(struct bt__pts *p, size_t leaf)
{
    if (p->n < 2) return BT_OK;
    if (p->n > UINT32_MAX) return BT_ERR_NOMEM;
    struct kd_item *a = bt__malloc(p->n * sizeof *a);
    if (!a) return BT_ERR_NOMEM;
    for (size_t i = 0; i < p->n; i++) {
        a[i].c[0] = p->lon[i];
        a[i].c[1] = p->lat[i];
        a[i].slot = (uint32_t)i;
        a[i].tlo = p->tlo[i];
    }
    kd_sort(a, leaf, 0, p->n - 1, 0);

    /* Apply the permutation: new slot i takes old slot a[i].slot. One scratch array of
     * the widest element type serves every column in turn. */
    void *tmp = bt__malloc(p->n * sizeof(int64_t));
    if (!tmp) {
        bt__free(a);
        return BT_ERR_NOMEM;
    }
#define PERMUTE(col, T)                                                          \
    do {                                                                         \
        T *t_ = tmp;                                                             \
        for (size_t i_ = 0; i_ < p->n; i_++) t_[i_] = p->col[a[i_].slot];        \
        memcpy(p->col, t_, p->n * sizeof(T));                                    \
    } while (0)
    PERMUTE(lon, double);
    PERMUTE(lat, double);
    if (p->id64)
        PERMUTE(id64, int64_t);
    else
        PERMUTE(id32, uint32_t);
    PERMUTE(tlo, int32_t);
    PERMUTE(thi, int32_t);
    PERMUTE(attr, uint16_t);
    PERMUTE(ucode, uint8_t);
#undef PERMUTE
    bt__free(tmp);
    bt__free(a);
    return BT_OK;
}

/* ---- time bounds per node ---------------------------------------------------- */

/* The largest heap number (root 1, children 2k and 2k + 1) of a node of the range. */
static size_t kd_max_node(size_t leaf, size_t left, size_t right, size_t k)
{
    if (right - left <= leaf) return k;
    size_t m = left + ((right - left) >> 1);
    size_t r = k;
    if (m > left) {
        size_t a = kd_max_node(leaf, left, m - 1, 2 * k);
        if (a > r) r = a;
    }
    if (m < right) {
        size_t b = kd_max_node(leaf, m + 1, right, 2 * k + 1);
        if (b > r) r = b;
    }
    return r;
}

/* Units of the per-leaf longest duration, minutes; a code of LDUR_NONE means "no
 * bound" (durations beyond 65,534 x 64 minutes, about 8 years, or open ends). */
#define LDUR_UNIT 64
#define LDUR_NONE UINT16_MAX

static void kd_fill_time(const struct bt__pts *p, size_t leaf, size_t left, size_t right,
                         size_t k, int32_t *nt, uint16_t *ldur)
{
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    if (right - left <= leaf) {
        int64_t dmax = 0;
        for (size_t i = left; i <= right; i++) {
            if (p->tlo[i] < lo) lo = p->tlo[i];
            if (p->thi[i] > hi) hi = p->thi[i];
            int64_t d = (int64_t)p->thi[i] - p->tlo[i];
            if (d > dmax) dmax = d;
        }
        int64_t units = (dmax + LDUR_UNIT - 1) / LDUR_UNIT;
        ldur[k] = units >= LDUR_NONE ? LDUR_NONE : (uint16_t)units;
    } else {
        size_t m = left + ((right - left) >> 1);
        lo = p->tlo[m];
        hi = p->thi[m];
        if (m > left) {
            kd_fill_time(p, leaf, left, m - 1, 2 * k, nt, ldur);
            if (nt[4 * k] < lo) lo = nt[4 * k];
            if (nt[4 * k + 1] > hi) hi = nt[4 * k + 1];
        }
        if (m < right) {
            kd_fill_time(p, leaf, m + 1, right, 2 * k + 1, nt, ldur);
            if (nt[4 * k + 2] < lo) lo = nt[4 * k + 2];
            if (nt[4 * k + 3] > hi) hi = nt[4 * k + 3];
        }
        ldur[k] = LDUR_NONE; /* only leaves use it */
    }
    nt[2 * k] = lo;
    nt[2 * k + 1] = hi;
}

int bt__kd_time_build(const struct bt__pts *p, size_t leaf, int32_t **nt, uint16_t **ldur,
                      size_t *nnodes)
{
    *nt = NULL;
    *ldur = NULL;
    *nnodes = 0;
    if (p->n == 0) return BT_OK;
    size_t maxk = kd_max_node(leaf, 0, p->n - 1, 1);
    int32_t *a = bt__malloc(2 * (maxk + 1) * sizeof *a);
    uint16_t *d = a ? bt__malloc((maxk + 1) * sizeof *d) : NULL;
    if (!d) {
        bt__free(a);
        return BT_ERR_NOMEM;
    }
    /* slots of numbers no node has stay "never matches"; they are never read */
    for (size_t i = 0; i < 2 * (maxk + 1); i += 2) {
        a[i] = INT32_MAX;
        a[i + 1] = INT32_MIN;
    }
    for (size_t i = 0; i <= maxk; i++) d[i] = LDUR_NONE;
    kd_fill_time(p, leaf, 0, p->n - 1, 1, a, d);
    *nt = a;
    *ldur = d;
    *nnodes = maxk + 1;
    return BT_OK;
}

bool bt__kd_leaves_sorted(const struct bt__pts *p, size_t leaf)
{
    if (p->n < 2) return true;
    /* explicit stack of ranges: depth <= log2(n) + 1 */
    size_t st[2 * 64], top = 0;
    st[top++] = 0;
    st[top++] = p->n - 1;
    while (top) {
        size_t right = st[--top], left = st[--top];
        if (right - left <= leaf) {
            for (size_t i = left + 1; i <= right; i++)
                if (p->tlo[i - 1] > p->tlo[i]) return false;
            continue;
        }
        size_t m = left + ((right - left) >> 1);
        if (m > left) {
            st[top++] = left;
            st[top++] = m - 1;
        }
        if (m < right) {
            st[top++] = m + 1;
            st[top++] = right;
        }
    }
    return true;
}

/* First slot of [left, right + 1) whose tlo is >= v (tlo sorted ascending there). */
static size_t tlo_lower(const int32_t *tlo, size_t left, size_t right, int64_t v)
{
    /* halving with a conditional move instead of a branch: the branch of the classic
     * form is a coin toss, mispredicted every other step */
    const int32_t *b = tlo + left;
    size_t len = right + 1 - left;
    while (len > 1) {
        size_t half = len >> 1;
        b = (int64_t)b[half] < v ? b + half : b;
        len -= half;
    }
    return (size_t)(b - tlo) + ((int64_t)*b < v);
}

/* tlo_lower() over a whole leaf [left, right] in two rounds of loads that do not wait
 * on each other (a binary search's each wait on the one before): seven starts spaced
 * evenly through the leaf settle which eighth holds the answer, and the starts of that
 * eighth below v are counted (they come first). */
static size_t tlo_lower_leaf(const int32_t *tlo, size_t left, size_t right, int64_t v)
{
    size_t len = right + 1 - left, step = len >> 3;
    if (step < 2) return tlo_lower(tlo, left, right, v);
    size_t g = 0;
    for (size_t j = 1; j < 8; j++) g += (int64_t)tlo[left + j * step] < v;
    size_t lo = left + g * step, hi = g == 7 ? right + 1 : lo + step;
    size_t c = lo;
    for (size_t i = lo; i < hi; i++) c += (int64_t)tlo[i] < v;
    return c;
}

/* tlo_lower() over [left, end), searched from the end down in doubling steps: a
 * window's run is a few points just before its end, in the cache lines the search for
 * that end has read. */
static size_t tlo_lower_back(const int32_t *tlo, size_t left, size_t end, int64_t v)
{
    size_t k = 1, hi = end; /* tlo[hi..end) >= v */
    while (k <= end - left && (int64_t)tlo[end - k] >= v) {
        hi = end - k;
        k <<= 1;
    }
    size_t lo = k > end - left ? left : end - k + 1; /* tlo[lo - 1] < v, if lo > left */
    return lo < hi ? tlo_lower(tlo, lo, hi - 1, v) : hi;
}

void bt__kd_leaf_run(const struct bt__pts *p, size_t left, size_t right, unsigned ldur,
                     int64_t from_min, int64_t to_min, size_t *first, size_t *last)
{
    /* A point can match only if tlo <= to_min (or tlo is INT32_MIN, "any earlier
     * start", which sorts first) and thi >= from_min (or open, INT32_MAX): with the
     * leaf's longest thi - tlo being D, the latter needs tlo >= min(from_min,
     * INT32_MAX) - D (for an open end too, since D >= INT32_MAX - tlo then). */
    int64_t cut_hi = to_min > INT32_MIN ? to_min : INT32_MIN;
    int64_t cut_from = from_min < INT32_MAX ? from_min : INT32_MAX;
    *first = left;
    *last = right + 1;
    if (cut_hi < INT32_MAX) *last = tlo_lower_leaf(p->tlo, left, right, cut_hi + 1);
    if (ldur < LDUR_NONE && *last > *first)
        *first = tlo_lower_back(p->tlo, left, *last, cut_from - (int64_t)ldur * LDUR_UNIT);
}

/* ---- range search ----------------------------------------------------------- */

/* Fewest candidates of a leaf's time run for which the cell classifier is asked. */
#define CELL_MIN_RUN 32
/* Fewest points of a cell for which the classifier is asked when a time window is
 * on: only a few percent of a small cell's points pass a window, and testing those
 * costs less than the classifier's trigonometry (measured: 25 km + 90 days 0.170 ->
 * 0.144 ms of CPU with 768, about the same with 3072; no change without a window). */
#ifndef CELL_MIN_TIMED
#define CELL_MIN_TIMED 768
#endif

struct kd_frame {
    size_t left, right;
    size_t node; /* heap number */
    int axis;
    int inside; /* the whole cell is known to be in the area */
    double w, s, e, n;
};

int bt__kd_range(const struct bt__pts *p, size_t leaf, bt_bbox box, bt__cell_fn cell,
                 bt__pt_fn pt, void *ctx)
{
    return bt__kd_range_time(p, leaf, box, NULL, NULL, 0, 0, cell, pt, NULL, ctx);
}

int bt__kd_range_time(const struct bt__pts *p, size_t leaf, bt_bbox box, const int32_t *nt,
                      const uint16_t *ldur, int64_t from_min, int64_t to_min, bt__cell_fn cell,
                      bt__pt_fn pt, bt__span_fn span, void *ctx)
{
    return bt__kd_range_batch(p, leaf, box, nt, ldur, from_min, to_min, cell, pt, span, NULL,
                              ctx);
}

int bt__kd_range_batch(const struct bt__pts *p, size_t leaf, bt_bbox box, const int32_t *nt,
                       const uint16_t *ldur, int64_t from_min, int64_t to_min,
                       bt__cell_fn cell, bt__pt_fn pt, bt__span_fn span, bt__batch_fn batch,
                       void *ctx)
{
    if (p->n == 0) return 0;
    size_t buf[BT__KD_BATCH], nbuf = 0;
    /* depth <= log2(n) + 1 < 64, two pushes per level */
    struct kd_frame stack[160];
    size_t top = 0;
    stack[top++] = (struct kd_frame){0, p->n - 1, 1, 0, 0, -180.0, -90.0, 180.0, 90.0};
    while (top) {
        struct kd_frame f = stack[--top];
        if (nt) {
            /* every interval of the node starts after the window or ends before it
             * (INT32_MIN: a start clamped from earlier; INT32_MAX: open end) */
            int32_t lo = nt[2 * f.node], hi = nt[2 * f.node + 1];
            if ((lo != INT32_MIN && lo > to_min) || (hi != INT32_MAX && hi < from_min))
                continue;
        }
        bool is_leaf = f.right - f.left <= leaf;
        size_t first = f.left, last = f.right + 1;
        if (is_leaf && nt && ldur) {
            bt__kd_leaf_run(p, f.left, f.right, ldur[f.node], from_min, to_min, &first, &last);
            if (first == last) continue;
        }
        /* a leaf whose time run is short is cheaper to test point by point than to
         * classify (the classifier is an optimisation: not asking it is always right) */
        if (!f.inside && cell && !(is_leaf && last - first < CELL_MIN_RUN) &&
            !(nt && f.right - f.left + 1 < CELL_MIN_TIMED)) {
            int c = cell(ctx, f.w, f.s, f.e, f.n);
            if (c == BT__CELL_OUT) continue;
            if (c == BT__CELL_IN) f.inside = 1;
        }
        if (f.inside && span && !nt) {
            /* a subtree is a contiguous run of slots: taken whole */
            int stop = span(ctx, p, f.left, f.right);
            if (stop) return stop;
            continue;
        }
        if (is_leaf) {
            for (size_t i = first; i < last; i++) {
                /* the same conservative time test per point, before the callback */
                if (nt && ((p->tlo[i] != INT32_MIN && p->tlo[i] > to_min) ||
                           (p->thi[i] != INT32_MAX && p->thi[i] < from_min)))
                    continue;
                if (!f.inside) {
                    double x = p->lon[i], y = p->lat[i];
                    if (x < box.west || x > box.east || y < box.south || y > box.north)
                        continue;
                }
                if (batch) {
                    buf[nbuf++] = i;
                    if (nbuf < BT__KD_BATCH) continue;
                    int stop = batch(ctx, p, buf, nbuf, f.inside != 0);
                    nbuf = 0;
                    if (stop) return stop;
                    continue;
                }
                int stop = pt(ctx, p, i, f.inside != 0);
                if (stop) return stop;
            }
            if (nbuf) {
                int stop = batch(ctx, p, buf, nbuf, f.inside != 0);
                nbuf = 0;
                if (stop) return stop;
            }
            continue;
        }
        size_t m = f.left + ((f.right - f.left) >> 1);
        bool m_time = !nt || !((p->tlo[m] != INT32_MIN && p->tlo[m] > to_min) ||
                               (p->thi[m] != INT32_MAX && p->thi[m] < from_min));
        if (f.inside) {
            /* The whole cell is in the area, hence in this box (see index.h): no box
             * test, no pruning by the split value, so the coordinates are not read. */
            if (m_time) {
                int stop = pt(ctx, p, m, true);
                if (stop) return stop;
            }
            if (m < f.right) {
                struct kd_frame r = f;
                r.left = m + 1;
                r.node = 2 * f.node + 1;
                stack[top++] = r;
            }
            if (m > f.left) {
                struct kd_frame l = f;
                l.right = m - 1;
                l.node = 2 * f.node;
                stack[top++] = l;
            }
            continue;
        }
        double x = p->lon[m], y = p->lat[m];
        if (m_time && x >= box.west && x <= box.east && y >= box.south && y <= box.north) {
            int stop = pt(ctx, p, m, f.inside != 0);
            if (stop) return stop;
        }
        double v = f.axis == 0 ? x : y;
        double lo = f.axis == 0 ? box.west : box.south;
        double hi = f.axis == 0 ? box.east : box.north;
        /* right first so that the left half is visited first */
        if (hi >= v && m < f.right) {
            struct kd_frame r = f;
            r.left = m + 1;
            r.node = 2 * f.node + 1;
            r.axis = 1 - f.axis;
            if (f.axis == 0)
                r.w = v;
            else
                r.s = v;
            stack[top++] = r;
        }
        if (lo <= v && m > f.left) {
            struct kd_frame l = f;
            l.right = m - 1;
            l.node = 2 * f.node;
            l.axis = 1 - f.axis;
            if (f.axis == 0)
                l.e = v;
            else
                l.n = v;
            stack[top++] = l;
        }
    }
    return 0;
}
