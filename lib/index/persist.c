/**
 * @file persist.c
 * @brief The index's static part saved in the store (table `bt_index`, schema step 3)
 * so that opening a large store does not rebuild it from the table.
 *
 * Layout of the BLOB: a 64-byte header (magic, byte-order mark, count, leaf size,
 * id width, checksum of everything after the header), then the columns of the static
 * part in k-d order (each leaf sorted by start), each as a plain native array: lon, lat, ids, tlo, thi, attr,
 * ucode. A copy is used only when its generation is the store's current one (every
 * write to the indexed tables bumps it, through persistent triggers) and when its
 * header, size and checksum hold; anything else is ignored and the index is built
 * from the table, so correctness never depends on the copy.
 */
#include "index/index.h"
#include "store/backend.h"

#include <string.h>

#define PERSIST_NAME "incidents"
#define HDR_BYTES 64
/* 02: leaves sorted by start (bt__kd_build); a 01 copy is stale and rebuilt */
static const char persist_magic[8] = {'B', 'T', 'K', 'D', 'I', 'X', '0', '2'};
#define BYTE_ORDER_MARK UINT64_C(0x0102030405060708)

struct persist_hdr {
    char magic[8];
    uint64_t bom;
    uint64_t n;
    uint64_t leaf;
    uint64_t wide;
    uint64_t sum;
    uint64_t reserved[2];
};
_Static_assert(sizeof(struct persist_hdr) == HDR_BYTES, "the header is 64 bytes");

/* A fast checksum (64-bit multiply-xor over 8-byte words); it catches a damaged copy,
 * it is no defence against a forged one (a forger can write the table itself). */
static uint64_t checksum_add(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * UINT64_C(0x9E3779B97F4A7C15);
        h ^= h >> 29;
    }
    for (; i < len; i++) h = (h ^ p[i]) * UINT64_C(0x100000001B3);
    return h;
}

#define NCOLS 7

/* The column pointers and sizes of a static part. */
static void columns(const struct bt__pts *p, void *cols[NCOLS], size_t lens[NCOLS])
{
    size_t n = p->n;
    cols[0] = p->lon;
    lens[0] = n * sizeof *p->lon;
    cols[1] = p->lat;
    lens[1] = n * sizeof *p->lat;
    if (p->id64) {
        cols[2] = p->id64;
        lens[2] = n * sizeof *p->id64;
    } else {
        cols[2] = p->id32;
        lens[2] = n * sizeof *p->id32;
    }
    cols[3] = p->tlo;
    lens[3] = n * sizeof *p->tlo;
    cols[4] = p->thi;
    lens[4] = n * sizeof *p->thi;
    cols[5] = p->attr;
    lens[5] = n * sizeof *p->attr;
    cols[6] = p->ucode;
    lens[6] = n * sizeof *p->ucode;
}

static uint64_t columns_sum(void *const cols[NCOLS], const size_t lens[NCOLS])
{
    uint64_t h = UINT64_C(0xCBF29CE484222325);
    for (int c = 0; c < NCOLS; c++) h = checksum_add(h, cols[c], lens[c]);
    return h;
}

struct fill_ctx {
    struct bt__index *ix;
};

/* 0: loaded; 1: the copy is unusable (the caller builds from the table); 2: no memory */
static int fill(void *udata, size_t len, int (*rd)(void *rh, void *buf, size_t n, size_t off),
                void *rh)
{
    struct fill_ctx *c = udata;
    struct persist_hdr h;
    if (len < HDR_BYTES || rd(rh, &h, sizeof h, 0)) return 1;
    if (memcmp(h.magic, persist_magic, sizeof persist_magic) != 0 || h.bom != BYTE_ORDER_MARK ||
        h.wide > 1 || h.leaf < 1 || h.leaf > 4096 || h.n > UINT32_MAX)
        return 1;
    size_t per = 2 * sizeof(double) + (h.wide ? sizeof(int64_t) : sizeof(uint32_t)) +
                 2 * sizeof(int32_t) + sizeof(uint16_t) + sizeof(uint8_t);
    if ((uint64_t)(len - HDR_BYTES) != h.n * per) return 1;
    struct bt__pts *p = &c->ix->st;
    if (h.n > 0 && bt__pts_reserve(p, (size_t)h.n, h.wide != 0) != BT_OK) return 2;
    p->n = (size_t)h.n;
    if (h.n > 0 && bt__pts_shrink(p) != BT_OK) return 2;
    void *cols[NCOLS];
    size_t lens[NCOLS];
    columns(p, cols, lens);
    size_t off = HDR_BYTES;
    for (int k = 0; k < NCOLS; k++) {
        if (lens[k] && rd(rh, cols[k], lens[k], off)) return 1;
        off += lens[k];
    }
    if (columns_sum(cols, lens) != h.sum) return 1;
    /* what the checksum cannot vouch for: values the search relies on */
    for (size_t i = 0; i < p->n; i++) {
        double x = p->lon[i], y = p->lat[i];
        if (!(x >= -180.0 && x <= 180.0 && y >= -90.0 && y <= 90.0)) return 1;
    }
    if (!bt__kd_leaves_sorted(p, (size_t)h.leaf)) return 1;
    c->ix->leaf = (size_t)h.leaf;
    return 0;
}

int bt__index_persist_load(bt_store *s, struct bt__index *ix, bool *loaded)
{
    *loaded = false;
    if (!s->be->index_load) return BT_OK;
    struct fill_ctx c = {ix};
    bool found = false;
    int frc = 0;
    int rc = s->be->index_load(s, PERSIST_NAME, fill, &c, &found, &frc);
    if (rc || !found || frc) {
        bt__index_clear(ix);
        bt__index_load_begin(ix);
        if (rc) bt__clear_error(s); /* the table is the truth; build from it */
        return frc == 2 ? BT_ERR_NOMEM : BT_OK;
    }
    *loaded = true;
    return BT_OK;
}

bool bt__index_persist_save(bt_store *s, const struct bt__index *ix, int64_t gen)
{
    if (!s->be->index_save || gen < 0 || ix->ov.n || ix->shadow.n) return false;
    void *cols[NCOLS];
    size_t lens[NCOLS];
    columns(&ix->st, cols, lens);
    struct persist_hdr h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, persist_magic, sizeof persist_magic);
    h.bom = BYTE_ORDER_MARK;
    h.n = ix->st.n;
    h.leaf = ix->leaf;
    h.wide = ix->st.id64 ? 1 : 0;
    h.sum = columns_sum(cols, lens);
    const void *parts[NCOLS + 1];
    size_t plens[NCOLS + 1];
    parts[0] = &h;
    plens[0] = sizeof h;
    for (int k = 0; k < NCOLS; k++) {
        parts[k + 1] = cols[k];
        plens[k + 1] = lens[k];
    }
    bool saved = false;
    if (s->be->index_save(s, PERSIST_NAME, gen, NCOLS + 1, parts, plens, &saved)) {
        bt__clear_error(s); /* a copy not saved costs time at the next open, nothing else */
        return false;
    }
    return saved;
}
