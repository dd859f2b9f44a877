/**
 * @file deps.h
 * @brief PROJ and GEOS, loaded with dlopen() on first need instead of linked.
 *
 * NOTE: inside the library (BT_BUILDING_LIBRARY), every PROJ and GEOS function name
 * below is a macro for its entry in a table of function pointers, e.g.
 * `#define geod_inverse (bt__proj_fn.geod_inverse)`, so that call sites read as plain
 * PROJ and GEOS calls. An entry is NULL until the library is loaded: code must first
 * get the loaded library from bt__proj_load(), bt__geod(), bt__proj() or bt__geos()
 * (the last two in lib/store/store.c), each of which reports a load failure on the
 * store. Tests and benchmarks that include internal headers call the real functions
 * (they link PROJ and GEOS themselves): the redirection does not apply there; one
 * that hands an internal function a struct geod_geodesic of its own calls
 * bt__proj_load() first. A function used but missing from the lists below is an
 * undefined reference when the shared library is linked (-Wl,--no-undefined); one
 * listed but not redirected is a compile error (the _Static_assert at the end).
 *
 * Why: merely loading libproj (which pulls libcurl, GnuTLS, libtiff and more) and
 * libgeos_c (libgeos, libstdc++) costs a process ~31 million instructions (~27 ms)
 * before main(), and a one-shot radius count needs neither (docs/PERFORMANCE.md,
 * "One-shot").
 *
 * The tables are process-wide but not mutable state in the sense of the style
 * guide: each is written once, inside pthread_once(), and only read afterwards, the
 * same contract as the dynamic linker's GOT that a linked library would use.
 */
#ifndef BT_DEPS_H
#define BT_DEPS_H

#include <geodesic.h>
#include <geos_c.h>
#include <proj.h>
#include <stddef.h>

/* Every PROJ function the library calls (geod_* are PROJ's geodesic.h). */
#define BT__PROJ_FUNCS(X)                                                                \
    X(geod_direct) X(geod_init) X(geod_inverse) X(geod_lineinit) X(geod_position)        \
    X(proj_context_create) X(proj_context_destroy) X(proj_context_errno)                 \
    X(proj_context_errno_string) X(proj_create) X(proj_create_crs_to_crs_from_pj)        \
    X(proj_destroy) X(proj_errno) X(proj_errno_reset) X(proj_get_type) X(proj_is_crs)    \
    X(proj_log_level) X(proj_normalize_for_visualization) X(proj_trans_generic)

/* Every GEOS function the library calls (the reentrant C API). */
#define BT__GEOS_FUNCS(X)                                                                \
    X(GEOS_finish_r) X(GEOS_init_r) X(GEOSContext_setErrorMessageHandler_r)              \
    X(GEOSContext_setNoticeMessageHandler_r) X(GEOSCoordSeq_create_r)                    \
    X(GEOSCoordSeq_destroy_r) X(GEOSCoordSeq_getSize_r) X(GEOSCoordSeq_getXY_r)          \
    X(GEOSCoordSeq_setXY_r) X(GEOSFree_r) X(GEOSGeomTypeId_r) X(GEOSGeomType_r)          \
    X(GEOSGeom_createCollection_r) X(GEOSGeom_createLineString_r)                        \
    X(GEOSGeom_createLinearRing_r) X(GEOSGeom_createPointFromXY_r)                       \
    X(GEOSGeom_createPolygon_r) X(GEOSGeom_createRectangle_r) X(GEOSGeom_destroy_r)      \
    X(GEOSGeom_getCoordSeq_r) X(GEOSGeom_getXMax_r) X(GEOSGeom_getXMin_r)                \
    X(GEOSGeom_getYMax_r) X(GEOSGeom_getYMin_r) X(GEOSGetExteriorRing_r)                 \
    X(GEOSGetGeometryN_r) X(GEOSGetInteriorRingN_r) X(GEOSGetNumGeometries_r)            \
    X(GEOSGetNumInteriorRings_r) X(GEOSIntersects_r) X(GEOSNearestPoints_r)              \
    X(GEOSPrepare_r) X(GEOSPreparedContains_r) X(GEOSPreparedGeom_destroy_r)             \
    X(GEOSPreparedIntersects_r) X(GEOSWKTReader_create_r) X(GEOSWKTReader_destroy_r)     \
    X(GEOSWKTReader_read_r) X(GEOSisEmpty_r) X(GEOSisValid_r)

/* One pointer per function, typed from the real header's prototype, so that a
 * prototype change in PROJ or GEOS is a compile error here. */
#define BT__DEP_MEMBER(fn) __typeof__(&fn) fn;
struct bt__proj_table {
    BT__PROJ_FUNCS(BT__DEP_MEMBER)
};
struct bt__geos_table {
    BT__GEOS_FUNCS(BT__DEP_MEMBER)
};
#undef BT__DEP_MEMBER

/* Filled by bt__proj_load() / bt__geos_load(); read-only afterwards. */
extern struct bt__proj_table bt__proj_fn;
extern struct bt__geos_table bt__geos_fn;

struct bt_store;

/** Loads PROJ once per process. BT_OK, or BT_ERR_INTERNAL with a message naming the
 *  library's soname and dlerror() set on @p s (which may be NULL). */
int bt__proj_load(struct bt_store *s);
/** Loads GEOS once per process; as bt__proj_load(). */
int bt__geos_load(struct bt_store *s);
/** The WGS 84 ellipsoid (loads PROJ for geod_init), or NULL with the failure set on
 *  @p s (which may be NULL). Initialised once per process, read-only after. */
const struct geod_geodesic *bt__geod(struct bt_store *s);

/** Where a table entry goes: a symbol name and the entry's offset in the table. */
struct bt__dep_sym {
    const char *name;
    size_t offset;
};

/**
 * The loader behind bt__proj_load() and bt__geos_load(), apart so that its failure
 * path can be tested: dlopen()s the first of @p names that loads (RTLD_NOW |
 * RTLD_LOCAL | RTLD_NODELETE) and resolves every symbol of @p syms into @p table.
 * @return 0, or -1 with "cannot load WHAT (NAMES[0]): dlerror()" in @p msg (the
 *         @p table_size bytes of @p table zeroed then: no half-filled table).
 */
int bt__dep_open(const char *what, const char *const *names, size_t nnames,
                 const struct bt__dep_sym *syms, size_t nsyms, void *table,
                 size_t table_size, char *msg, size_t msgsize);

#if defined(BT_BUILDING_LIBRARY) && !defined(BT__DEPS_IMPL)
/* clang-format off */
#define geod_direct (bt__proj_fn.geod_direct)
#define geod_init (bt__proj_fn.geod_init)
#define geod_inverse (bt__proj_fn.geod_inverse)
#define geod_lineinit (bt__proj_fn.geod_lineinit)
#define geod_position (bt__proj_fn.geod_position)
#define proj_context_create (bt__proj_fn.proj_context_create)
#define proj_context_destroy (bt__proj_fn.proj_context_destroy)
#define proj_context_errno (bt__proj_fn.proj_context_errno)
#define proj_context_errno_string (bt__proj_fn.proj_context_errno_string)
#define proj_create (bt__proj_fn.proj_create)
#define proj_create_crs_to_crs_from_pj (bt__proj_fn.proj_create_crs_to_crs_from_pj)
#define proj_destroy (bt__proj_fn.proj_destroy)
#define proj_errno (bt__proj_fn.proj_errno)
#define proj_errno_reset (bt__proj_fn.proj_errno_reset)
#define proj_get_type (bt__proj_fn.proj_get_type)
#define proj_is_crs (bt__proj_fn.proj_is_crs)
#define proj_log_level (bt__proj_fn.proj_log_level)
#define proj_normalize_for_visualization (bt__proj_fn.proj_normalize_for_visualization)
#define proj_trans_generic (bt__proj_fn.proj_trans_generic)
#define GEOS_finish_r (bt__geos_fn.GEOS_finish_r)
#define GEOS_init_r (bt__geos_fn.GEOS_init_r)
#define GEOSContext_setErrorMessageHandler_r (bt__geos_fn.GEOSContext_setErrorMessageHandler_r)
#define GEOSContext_setNoticeMessageHandler_r (bt__geos_fn.GEOSContext_setNoticeMessageHandler_r)
#define GEOSCoordSeq_create_r (bt__geos_fn.GEOSCoordSeq_create_r)
#define GEOSCoordSeq_destroy_r (bt__geos_fn.GEOSCoordSeq_destroy_r)
#define GEOSCoordSeq_getSize_r (bt__geos_fn.GEOSCoordSeq_getSize_r)
#define GEOSCoordSeq_getXY_r (bt__geos_fn.GEOSCoordSeq_getXY_r)
#define GEOSCoordSeq_setXY_r (bt__geos_fn.GEOSCoordSeq_setXY_r)
#define GEOSFree_r (bt__geos_fn.GEOSFree_r)
#define GEOSGeomTypeId_r (bt__geos_fn.GEOSGeomTypeId_r)
#define GEOSGeomType_r (bt__geos_fn.GEOSGeomType_r)
#define GEOSGeom_createCollection_r (bt__geos_fn.GEOSGeom_createCollection_r)
#define GEOSGeom_createLineString_r (bt__geos_fn.GEOSGeom_createLineString_r)
#define GEOSGeom_createLinearRing_r (bt__geos_fn.GEOSGeom_createLinearRing_r)
#define GEOSGeom_createPointFromXY_r (bt__geos_fn.GEOSGeom_createPointFromXY_r)
#define GEOSGeom_createPolygon_r (bt__geos_fn.GEOSGeom_createPolygon_r)
#define GEOSGeom_createRectangle_r (bt__geos_fn.GEOSGeom_createRectangle_r)
#define GEOSGeom_destroy_r (bt__geos_fn.GEOSGeom_destroy_r)
#define GEOSGeom_getCoordSeq_r (bt__geos_fn.GEOSGeom_getCoordSeq_r)
#define GEOSGeom_getXMax_r (bt__geos_fn.GEOSGeom_getXMax_r)
#define GEOSGeom_getXMin_r (bt__geos_fn.GEOSGeom_getXMin_r)
#define GEOSGeom_getYMax_r (bt__geos_fn.GEOSGeom_getYMax_r)
#define GEOSGeom_getYMin_r (bt__geos_fn.GEOSGeom_getYMin_r)
#define GEOSGetExteriorRing_r (bt__geos_fn.GEOSGetExteriorRing_r)
#define GEOSGetGeometryN_r (bt__geos_fn.GEOSGetGeometryN_r)
#define GEOSGetInteriorRingN_r (bt__geos_fn.GEOSGetInteriorRingN_r)
#define GEOSGetNumGeometries_r (bt__geos_fn.GEOSGetNumGeometries_r)
#define GEOSGetNumInteriorRings_r (bt__geos_fn.GEOSGetNumInteriorRings_r)
#define GEOSIntersects_r (bt__geos_fn.GEOSIntersects_r)
#define GEOSNearestPoints_r (bt__geos_fn.GEOSNearestPoints_r)
#define GEOSPrepare_r (bt__geos_fn.GEOSPrepare_r)
#define GEOSPreparedContains_r (bt__geos_fn.GEOSPreparedContains_r)
#define GEOSPreparedGeom_destroy_r (bt__geos_fn.GEOSPreparedGeom_destroy_r)
#define GEOSPreparedIntersects_r (bt__geos_fn.GEOSPreparedIntersects_r)
#define GEOSWKTReader_create_r (bt__geos_fn.GEOSWKTReader_create_r)
#define GEOSWKTReader_destroy_r (bt__geos_fn.GEOSWKTReader_destroy_r)
#define GEOSWKTReader_read_r (bt__geos_fn.GEOSWKTReader_read_r)
#define GEOSisEmpty_r (bt__geos_fn.GEOSisEmpty_r)
#define GEOSisValid_r (bt__geos_fn.GEOSisValid_r)
/* clang-format on */
/* Each name above must be a table entry here (assignable), not the real function. */
#define BT__DEP_REDIRECTED(fn) \
    _Static_assert(sizeof((fn) = (fn)) == sizeof(void *), #fn " is not redirected");
BT__PROJ_FUNCS(BT__DEP_REDIRECTED)
BT__GEOS_FUNCS(BT__DEP_REDIRECTED)
#undef BT__DEP_REDIRECTED
#endif

#endif /* BT_DEPS_H */
