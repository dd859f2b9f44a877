/**
 * @file enums.c
 * @brief Stable I/O names of every enumeration of the data model, both ways.
 *
 * The names are part of the file formats (CSV, GeoJSON): never rename one. Each
 * table is indexed by the enum value, which is dense from 0 in every enum.
 */
#include "core/internal.h"

#include <stdbool.h>

static const char *const bt__time_precision_names[] = {"none", "year", "month", "day",
                                                       "second"};
static const char *const bt__loc_precision_names[] = {"exact", "near_place", "district",
                                                      "province", "border_segment"};
static const char *const bt__yesno_names[] = {"unknown", "no", "yes"};
static const char *const bt__segment_kind_names[] = {"unknown", "river", "land", "estuary"};
static const char *const bt__install_kind_names[] = {
    "fence", "wall", "guard_post", "watchtower", "gate", "camera", "other"};
static const char *const bt__fence_layer_names[] = {"unknown", "primary", "secondary",
                                                    "tertiary"};
static const char *const bt__material_names[] = {
    "unknown",    "string_wire", "thin_steel_wire", "barbed_wire", "concertina",
    "chain_link", "concrete",    "reeds_wood",      "mixed"};
static const char *const bt__quality_names[] = {"unknown", "robust", "standard", "poor"};
static const char *const bt__permanence_names[] = {"unknown", "permanent", "temporary"};
static const char *const bt__install_status_names[] = {
    "planned", "under_construction", "complete", "damaged", "repaired", "removed"};
static const char *const bt__observation_names[] = {
    "unknown", "satellite", "ground_photo", "human_source", "official_notice", "media"};
static const char *const bt__incident_type_names[] = {
    "smuggling",       "river_crossing", "crossing_attempt", "defection",
    "arrest",          "shooting",       "fence_work",       "fence_breach",
    "guard_post_work", "patrol",         "policy_notice",    "other"};
static const char *const bt__verification_names[] = {
    "unverified", "single_source", "corroborated", "confirmed", "disputed", "retracted"};
static const char *const bt__source_type_names[] = {
    "unknown", "human", "media", "video", "imagery", "official", "ngo", "other"};
static const char *const bt__intervention_kind_names[] = {
    "closure", "order", "fence_programme", "deployment", "other"};

#define BT__N(a) (sizeof(a) / sizeof((a)[0]))

typedef struct bt__enum_table {
    const char *const *names;
    size_t count;
} bt__enum_table;

/* Indexed by bt_enum; keep in the enum's order. */
static const bt__enum_table bt__enum_tables[] = {
    {bt__time_precision_names, BT__N(bt__time_precision_names)},
    {bt__loc_precision_names, BT__N(bt__loc_precision_names)},
    {bt__yesno_names, BT__N(bt__yesno_names)},
    {bt__segment_kind_names, BT__N(bt__segment_kind_names)},
    {bt__install_kind_names, BT__N(bt__install_kind_names)},
    {bt__fence_layer_names, BT__N(bt__fence_layer_names)},
    {bt__material_names, BT__N(bt__material_names)},
    {bt__quality_names, BT__N(bt__quality_names)},
    {bt__permanence_names, BT__N(bt__permanence_names)},
    {bt__install_status_names, BT__N(bt__install_status_names)},
    {bt__observation_names, BT__N(bt__observation_names)},
    {bt__incident_type_names, BT__N(bt__incident_type_names)},
    {bt__verification_names, BT__N(bt__verification_names)},
    {bt__source_type_names, BT__N(bt__source_type_names)},
    {bt__intervention_kind_names, BT__N(bt__intervention_kind_names)},
};

/* The number of incident types is also published as a macro; keep them in step. */
_Static_assert(BT__N(bt__incident_type_names) == BT_INCIDENT_TYPE_COUNT,
               "incident type names out of step with BT_INCIDENT_TYPE_COUNT");
_Static_assert(BT__N(bt__enum_tables) == BT_ENUM_INTERVENTION_KIND + 1,
               "one name table per bt_enum");

static const bt__enum_table *bt__table(bt_enum which)
{
    /* an enum argument may hold any int: check before indexing */
    if ((int)which < 0 || (size_t)which >= BT__N(bt__enum_tables))
        return NULL;
    return &bt__enum_tables[which];
}

const char *bt_enum_name(bt_enum which, int value)
{
    const bt__enum_table *t = bt__table(which);
    if (t == NULL || value < 0 || (size_t)value >= t->count)
        return NULL;
    return t->names[value];
}

/* ASCII-only folding: the locale must not change what a file means. */
static char bt__fold(char c)
{
    if (c >= 'A' && c <= 'Z')
        return (char)(c - 'A' + 'a');
    if (c == '-' || c == ' ')
        return '_';
    return c;
}

static bool bt__name_equal(const char *name, const char *text)
{
    for (; *name != '\0'; name++, text++) {
        if (bt__fold(*text) != *name)
            return false; /* also stops at the end of text, since no name holds '\0' */
    }
    return *text == '\0';
}

int bt_enum_parse(bt_enum which, const char *name, int *value)
{
    const bt__enum_table *t = bt__table(which);
    if (t == NULL || name == NULL)
        return BT_ERR_INVALID;
    for (size_t i = 0; i < t->count; i++) {
        if (bt__name_equal(t->names[i], name)) {
            if (value != NULL)
                *value = (int)i;
            return BT_OK;
        }
    }
    return BT_ERR_INVALID;
}
