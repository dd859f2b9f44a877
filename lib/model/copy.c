/**
 * @file copy.c
 * @brief Deep copies of records into one allocation, their public _free functions,
 * and the records' documented defaults.
 *
 * Layout of a copy: the struct, then the points array (aligned for bt_lonlat), then
 * the strings one after the other. One block means one bt__free and no partial copy
 * to clean up on out-of-memory.
 */
#include "core/internal.h"

#include <math.h>
#include <stdalign.h>
#include <stdint.h>
#include <string.h>

/* Sizes of the parts of a block, summed with overflow checks. */
typedef struct bt__layout {
    size_t size;      /* bytes so far */
    size_t points_at; /* offset of the points array */
    bool overflow;
} bt__layout;

static void bt__lay_add(bt__layout *l, size_t n)
{
    if (n > SIZE_MAX - l->size)
        l->overflow = true;
    else
        l->size += n;
}

static void bt__lay_struct(bt__layout *l, size_t struct_size)
{
    l->size = struct_size;
    l->points_at = 0;
    l->overflow = false;
}

static void bt__lay_points(bt__layout *l, size_t n)
{
    /* round up so that the points array is aligned for its doubles */
    const size_t a = alignof(bt_lonlat);
    bt__lay_add(l, (a - l->size % a) % a);
    l->points_at = l->size;
    if (n > SIZE_MAX / sizeof(bt_lonlat))
        l->overflow = true;
    else
        bt__lay_add(l, n * sizeof(bt_lonlat));
}

static void bt__lay_string(bt__layout *l, const char *str)
{
    if (str != NULL)
        bt__lay_add(l, strlen(str) + 1);
}

/* Copies str to *cursor and advances it; NULL stays NULL. */
static const char *bt__put_string(char **cursor, const char *str)
{
    if (str == NULL)
        return NULL;
    size_t n = strlen(str) + 1;
    char *dst = *cursor;
    memcpy(dst, str, n);
    *cursor += n;
    return dst;
}

/* Copies the points into the block; a missing or empty array becomes NULL / 0. */
static const bt_lonlat *bt__put_points(char *block, const bt__layout *l,
                                       const bt_lonlat *pts, size_t n)
{
    if (pts == NULL || n == 0)
        return NULL;
    bt_lonlat *dst = (bt_lonlat *)(void *)(block + l->points_at);
    memcpy(dst, pts, n * sizeof *dst);
    return dst;
}

bt_segment *bt__segment_dup(const bt_segment *seg)
{
    if (BT_NEVER(seg == NULL))
        return NULL;
    const size_t np = seg->points != NULL ? seg->npoints : 0;
    bt__layout l;
    bt__lay_struct(&l, sizeof *seg);
    bt__lay_points(&l, np);
    bt__lay_string(&l, seg->border);
    bt__lay_string(&l, seg->name);
    bt__lay_string(&l, seg->river);
    if (l.overflow)
        return NULL;
    char *block = bt__malloc(l.size);
    if (block == NULL)
        return NULL;
    bt_segment *out = (bt_segment *)(void *)block;
    *out = *seg;
    out->points = bt__put_points(block, &l, seg->points, np);
    out->npoints = out->points != NULL ? np : 0;
    char *cursor = block + l.points_at + np * sizeof(bt_lonlat);
    out->border = bt__put_string(&cursor, seg->border);
    out->name = bt__put_string(&cursor, seg->name);
    out->river = bt__put_string(&cursor, seg->river);
    return out;
}

bt_installation *bt__installation_dup(const bt_installation *inst)
{
    if (BT_NEVER(inst == NULL))
        return NULL;
    const size_t np = inst->points != NULL ? inst->npoints : 0;
    bt__layout l;
    bt__lay_struct(&l, sizeof *inst);
    bt__lay_points(&l, np);
    bt__lay_string(&l, inst->ref);
    bt__lay_string(&l, inst->post_material);
    bt__lay_string(&l, inst->condition);
    if (l.overflow)
        return NULL;
    char *block = bt__malloc(l.size);
    if (block == NULL)
        return NULL;
    bt_installation *out = (bt_installation *)(void *)block;
    *out = *inst;
    out->points = bt__put_points(block, &l, inst->points, np);
    out->npoints = out->points != NULL ? np : 0;
    char *cursor = block + l.points_at + np * sizeof(bt_lonlat);
    out->ref = bt__put_string(&cursor, inst->ref);
    out->post_material = bt__put_string(&cursor, inst->post_material);
    out->condition = bt__put_string(&cursor, inst->condition);
    return out;
}

bt_incident *bt__incident_dup(const bt_incident *inc)
{
    if (BT_NEVER(inc == NULL))
        return NULL;
    bt__layout l;
    bt__lay_struct(&l, sizeof *inc);
    bt__lay_string(&l, inc->ref);
    bt__lay_string(&l, inc->summary);
    if (l.overflow)
        return NULL;
    char *block = bt__malloc(l.size);
    if (block == NULL)
        return NULL;
    bt_incident *out = (bt_incident *)(void *)block;
    *out = *inc;
    char *cursor = block + sizeof *inc;
    out->ref = bt__put_string(&cursor, inc->ref);
    out->summary = bt__put_string(&cursor, inc->summary);
    return out;
}

bt_source *bt__source_dup(const bt_source *src)
{
    if (BT_NEVER(src == NULL))
        return NULL;
    bt__layout l;
    bt__lay_struct(&l, sizeof *src);
    bt__lay_string(&l, src->name);
    bt__lay_string(&l, src->notes);
    if (l.overflow)
        return NULL;
    char *block = bt__malloc(l.size);
    if (block == NULL)
        return NULL;
    bt_source *out = (bt_source *)(void *)block;
    *out = *src;
    char *cursor = block + sizeof *src;
    out->name = bt__put_string(&cursor, src->name);
    out->notes = bt__put_string(&cursor, src->notes);
    return out;
}

bt_place *bt__place_dup(const bt_place *place)
{
    if (BT_NEVER(place == NULL))
        return NULL;
    bt__layout l;
    bt__lay_struct(&l, sizeof *place);
    bt__lay_string(&l, place->name);
    bt__lay_string(&l, place->country);
    bt__lay_string(&l, place->admin1);
    if (l.overflow)
        return NULL;
    char *block = bt__malloc(l.size);
    if (block == NULL)
        return NULL;
    bt_place *out = (bt_place *)(void *)block;
    *out = *place;
    char *cursor = block + sizeof *place;
    out->name = bt__put_string(&cursor, place->name);
    out->country = bt__put_string(&cursor, place->country);
    out->admin1 = bt__put_string(&cursor, place->admin1);
    return out;
}

void bt_segment_free(bt_segment *seg)
{
    bt__free(seg);
}

void bt_installation_free(bt_installation *inst)
{
    bt__free(inst);
}

void bt_incident_free(bt_incident *inc)
{
    bt__free(inc);
}

void bt_source_free(bt_source *src)
{
    bt__free(src);
}

void bt_place_free(bt_place *place)
{
    bt__free(place);
}

/* bt_link_list_free() lives beside bt_link_list() in records.c. */

void bt_installation_init(bt_installation *inst)
{
    if (inst == NULL)
        return;
    /* a compound literal zeroes (and NULLs) every member not named */
    *inst = (bt_installation){
        .kind = BT_INSTALL_FENCE,
        .layer = BT_LAYER_UNKNOWN,
        .material = BT_MATERIAL_UNKNOWN,
        .barbed = BT_UNKNOWN,
        .electrified = BT_UNKNOWN,
        .height_m = NAN,
        .quality = BT_QUALITY_UNKNOWN,
        .permanence = BT_PERMANENCE_UNKNOWN,
        .status = BT_STATUS_COMPLETE,
        .start = {0, BT_TIME_NONE},
        .end = {0, BT_TIME_NONE},
        .observed_by = BT_OBSERVED_UNKNOWN,
    };
}

void bt_incident_init(bt_incident *inc)
{
    if (inc == NULL)
        return;
    /* start and end stay 0: the caller must set them (no default time is true) */
    *inc = (bt_incident){
        .type = BT_INCIDENT_OTHER,
        .uncertainty_m = 0.0,
        .loc_precision = BT_LOC_EXACT,
        .time_precision = BT_TIME_DAY,
        .reported = {0, BT_TIME_NONE},
        .verification = BT_VERIF_UNVERIFIED,
    };
}

bt_intervention *bt__intervention_dup(const bt_intervention *iv)
{
    if (BT_NEVER(iv == NULL))
        return NULL;
    const size_t np = iv->area != NULL ? iv->narea : 0;
    bt__layout l;
    bt__lay_struct(&l, sizeof *iv);
    bt__lay_points(&l, np);
    bt__lay_string(&l, iv->ref);
    bt__lay_string(&l, iv->name);
    bt__lay_string(&l, iv->summary);
    bt__lay_string(&l, iv->citation);
    bt__lay_string(&l, iv->border);
    if (l.overflow)
        return NULL;
    char *block = bt__malloc(l.size);
    if (block == NULL)
        return NULL;
    bt_intervention *out = (bt_intervention *)(void *)block;
    *out = *iv;
    out->area = bt__put_points(block, &l, iv->area, np);
    out->narea = out->area != NULL ? np : 0;
    char *cursor = block + l.points_at + np * sizeof(bt_lonlat);
    out->ref = bt__put_string(&cursor, iv->ref);
    out->name = bt__put_string(&cursor, iv->name);
    out->summary = bt__put_string(&cursor, iv->summary);
    out->citation = bt__put_string(&cursor, iv->citation);
    out->border = bt__put_string(&cursor, iv->border);
    return out;
}

void bt_intervention_free(bt_intervention *iv)
{
    bt__free(iv);
}

void bt_intervention_init(bt_intervention *iv)
{
    if (iv == NULL)
        return;
    *iv = (bt_intervention){
        .kind = BT_INTERVENTION_OTHER,
        .start = {0, BT_TIME_NONE},
        .end = {0, BT_TIME_NONE},
        .from_m = 0.0,
        .to_m = INFINITY,
    };
}
