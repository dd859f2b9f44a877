/**
 * @file deps.c
 * @brief Loads PROJ and GEOS with dlopen() on first need (see deps.h for why, and for
 * why the function tables are not global mutable state).
 */
#define BT__DEPS_IMPL /* the real names here: the tables are filled by name */
#include "core/internal.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct bt__proj_table bt__proj_fn;
struct bt__geos_table bt__geos_fn;

/* A dlsym() result is copied into a function pointer (ISO C has no cast between
 * object and function pointers; POSIX makes them the same size). */
#define BT__DEP_SIZE(fn) \
    _Static_assert(sizeof(&fn) == sizeof(void *), #fn ": function pointer size");
BT__PROJ_FUNCS(BT__DEP_SIZE)
BT__GEOS_FUNCS(BT__DEP_SIZE)
#undef BT__DEP_SIZE

int bt__dep_open(const char *what, const char *const *names, size_t nnames,
                 const struct bt__dep_sym *syms, size_t nsyms, void *table,
                 size_t table_size, char *msg, size_t msgsize)
{
    char detail[512] = "no library name to load";
    void *lib = NULL;
    for (size_t i = 0; i < nnames && !lib; i++) {
        lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        const char *why = lib ? NULL : dlerror();
        /* the first failure tells why the soname is not on the system's path */
        if (i == 0 && !lib) snprintf(detail, sizeof detail, "%s", why ? why : "unknown error");
    }
    if (lib) {
        size_t i = 0;
        for (; i < nsyms; i++) {
            void *p = dlsym(lib, syms[i].name);
            if (!p) break;
            memcpy((char *)table + syms[i].offset, &p, sizeof p);
        }
        if (i == nsyms) {
            if (msgsize) msg[0] = '\0';
            return 0;
        }
        const char *why = dlerror();
        snprintf(detail, sizeof detail, "%s", why ? why : syms[i].name);
        dlclose(lib);
    }
    memset(table, 0, table_size); /* no half-filled table */
    if (msgsize)
        snprintf(msg, msgsize, "cannot load %s (%s): %s", what,
                 nnames ? names[0] : "no name", detail);
    return -1;
}

/* ---- PROJ ----------------------------------------------------------------- */

/* By soname first (the system's search path), then where the build found it. */
static const char *const proj_names[] = {BT_PROJ_SONAME, BT_PROJ_PATH};
static const struct bt__dep_sym proj_syms[] = {
#define BT__DEP_SYM(fn) {#fn, offsetof(struct bt__proj_table, fn)},
    BT__PROJ_FUNCS(BT__DEP_SYM)
#undef BT__DEP_SYM
};
/* Written only inside proj_load_once(), read-only after (as the tables). */
static int proj_rc;
static char proj_msg[512];
static struct geod_geodesic wgs84;

static void proj_load_once(void)
{
    proj_rc = bt__dep_open("PROJ", proj_names, sizeof proj_names / sizeof proj_names[0],
                           proj_syms, sizeof proj_syms / sizeof proj_syms[0], &bt__proj_fn,
                           sizeof bt__proj_fn, proj_msg, sizeof proj_msg);
    /* WGS 84 (EPSG:7030) */
    if (proj_rc == 0) bt__proj_fn.geod_init(&wgs84, 6378137.0, 1.0 / 298.257223563);
}

int bt__proj_load(bt_store *s)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (pthread_once(&once, proj_load_once) != 0)
        return bt__error(s, BT_ERR_INTERNAL, "cannot load PROJ (%s): pthread_once failed",
                         BT_PROJ_SONAME);
    if (proj_rc) return bt__error(s, BT_ERR_INTERNAL, "%s", proj_msg);
    return BT_OK;
}

const struct geod_geodesic *bt__geod(bt_store *s)
{
    return bt__proj_load(s) == BT_OK ? &wgs84 : NULL;
}

/* ---- GEOS ----------------------------------------------------------------- */

static const char *const geos_names[] = {BT_GEOS_SONAME, BT_GEOS_PATH};
static const struct bt__dep_sym geos_syms[] = {
#define BT__DEP_SYM(fn) {#fn, offsetof(struct bt__geos_table, fn)},
    BT__GEOS_FUNCS(BT__DEP_SYM)
#undef BT__DEP_SYM
};
static int geos_rc;
static char geos_msg[512];

static void geos_load_once(void)
{
    geos_rc = bt__dep_open("GEOS", geos_names, sizeof geos_names / sizeof geos_names[0],
                           geos_syms, sizeof geos_syms / sizeof geos_syms[0], &bt__geos_fn,
                           sizeof bt__geos_fn, geos_msg, sizeof geos_msg);
}

int bt__geos_load(bt_store *s)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (pthread_once(&once, geos_load_once) != 0)
        return bt__error(s, BT_ERR_INTERNAL, "cannot load GEOS (%s): pthread_once failed",
                         BT_GEOS_SONAME);
    if (geos_rc) return bt__error(s, BT_ERR_INTERNAL, "%s", geos_msg);
    return BT_OK;
}
