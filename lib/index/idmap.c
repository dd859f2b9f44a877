/**
 * @file idmap.c
 * @brief A small open-addressing hash from incident id to a 32-bit value, for the
 * overlay's slots and the set of shadowed static entries. Ids are > 0, so 0 marks an
 * empty slot; deletion uses backward-shift, so there are no tombstones to age.
 */
#include "index/index.h"

#include <string.h>

static size_t slot_of(int64_t key, size_t cap)
{
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15u;
    return (size_t)(h >> 17) & (cap - 1);
}

static int grow(struct bt__idmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    int64_t *keys = bt__calloc(ncap, sizeof *keys);
    uint32_t *vals = keys ? bt__calloc(ncap, sizeof *vals) : NULL;
    if (!vals) {
        bt__free(keys);
        return BT_ERR_NOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = slot_of(m->keys[i], ncap);
        while (keys[j]) j = (j + 1) & (ncap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    bt__free(m->keys);
    bt__free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = ncap;
    return BT_OK;
}

int bt__idmap_put(struct bt__idmap *m, int64_t key, uint32_t val)
{
    if ((m->n + 1) * 2 > m->cap) {
        int rc = grow(m);
        if (rc) return rc;
    }
    size_t j = slot_of(key, m->cap);
    while (m->keys[j] && m->keys[j] != key) j = (j + 1) & (m->cap - 1);
    if (!m->keys[j]) {
        m->keys[j] = key;
        m->n++;
    }
    m->vals[j] = val;
    return BT_OK;
}

bool bt__idmap_get(const struct bt__idmap *m, int64_t key, uint32_t *val)
{
    if (m->n == 0) return false;
    size_t j = slot_of(key, m->cap);
    while (m->keys[j]) {
        if (m->keys[j] == key) {
            if (val) *val = m->vals[j];
            return true;
        }
        j = (j + 1) & (m->cap - 1);
    }
    return false;
}

bool bt__idmap_del(struct bt__idmap *m, int64_t key)
{
    if (m->n == 0) return false;
    size_t mask = m->cap - 1;
    size_t j = slot_of(key, m->cap);
    while (m->keys[j] && m->keys[j] != key) j = (j + 1) & mask;
    if (!m->keys[j]) return false;
    /* backward-shift: move later members of the probe run into the hole */
    size_t hole = j;
    for (size_t k = (j + 1) & mask; m->keys[k]; k = (k + 1) & mask) {
        size_t home = slot_of(m->keys[k], m->cap);
        /* k's entry may move into the hole if its home is not cyclically in (hole, k] */
        bool stays = hole <= k ? (home > hole && home <= k) : (home > hole || home <= k);
        if (stays) continue;
        m->keys[hole] = m->keys[k];
        m->vals[hole] = m->vals[k];
        hole = k;
    }
    m->keys[hole] = 0;
    m->n--;
    return true;
}

void bt__idmap_free(struct bt__idmap *m)
{
    bt__free(m->keys);
    bt__free(m->vals);
    memset(m, 0, sizeof *m);
}
