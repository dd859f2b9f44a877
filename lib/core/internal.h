/**
 * @file internal.h
 * @brief What every part of the library shares and no user sees: the store handle's
 * layout, the one allocation path, and error reporting.
 *
 * Nothing here is exported (the library is built with hidden visibility). Internal
 * functions use the `bt__` prefix.
 */
#ifndef BT_INTERNAL_H
#define BT_INTERNAL_H

#include "bordertrack.h"

#include "core/deps.h" /* PROJ and GEOS, loaded on first need */

#include <stdarg.h>
#include <stdbool.h>

struct bt_backend;

/* Conditions believed impossible, made visible (SQLite's ALWAYS/NEVER): a coverage
 * build can count them, and a debug build stops on them. */
#if defined(BT_COVERAGE_TEST)
#define BT_ALWAYS(x) (1)
#define BT_NEVER(x) (0)
#elif !defined(NDEBUG)
#include <assert.h>
#define BT_ALWAYS(x) ((x) ? 1 : (assert(0), 0))
#define BT_NEVER(x) ((x) ? (assert(0), 1) : 0)
#else
#define BT_ALWAYS(x) (x)
#define BT_NEVER(x) (x)
#endif

/** Size of the per-handle error message buffer. */
#define BT_ERRMSG_SIZE 1024

/** The store handle. Owns its backend connection and its GEOS and PROJ contexts, so
 *  that separate handles work from separate threads. The contexts are created on first
 *  need (bt__geos(), bt__proj()): a query that needs neither library never loads it. */
struct bt_store {
    const struct bt_backend *be; /* storage interface (lib/store/backend.h) */
    void *be_data;               /* the backend's own state (e.g. the sqlite3 handle) */
    GEOSContextHandle_t geos;    /* GEOS reentrant context, NULL until bt__geos() */
    PJ_CONTEXT *proj;            /* PROJ context, NULL until bt__proj() */
    unsigned flags;              /* BT_OPEN_* */
    bool in_txn;                 /* an explicit bt_store_begin() is open */
    struct bt__index *index;     /* in-memory incident index (lib/index), or NULL */
    char errmsg[BT_ERRMSG_SIZE]; /* detail of the last failure, "" after success */
};

/* ---- the store's GEOS and PROJ contexts (lib/store/store.c) -----------------
 * Each loads its library (lib/core/deps.c) and creates the store's context on the
 * first call, then returns it in *out. BT_OK, else BT_ERR_INTERNAL (the library does
 * not load) or BT_ERR_NOMEM with the store's message set. The WGS 84 ellipsoid is
 * bt__geod() (lib/core/deps.h), shared by all stores. */
int bt__geos(bt_store *s, GEOSContextHandle_t *out);
int bt__proj(bt_store *s, PJ_CONTEXT **out);

/* ---- the one allocation path (lib/core/alloc.c) ----------------------------
 * Every allocation the library makes goes through these, so that the trust tests can
 * make the Nth one fail (see bt__alloc_fail_after()). */
void *bt__malloc(size_t n);
void *bt__calloc(size_t count, size_t n);
void *bt__realloc(void *p, size_t n);
void bt__free(void *p);
char *bt__strdup(const char *s);

#ifdef BT_FAULT_INJECTION
/* Test builds only: make allocation number n (counting from 1 after this call) and
 * every later one fail; n == 0 disables failure. Returns how many allocations were
 * made since the previous call. Per thread (thread-local), so concurrent tests do not
 * disturb each other. */
long bt__alloc_fail_after(long n);
#endif

/* ---- errors (lib/core/error.c) ------------------------------------------- */

/** Clears the store's message; every public function taking a store calls this first. */
void bt__clear_error(bt_store *s);
/** Sets the store's message (printf-style) and returns @p code, so that callers can
 *  write `return bt__error(s, BT_ERR_INVALID, "...")`. s may be NULL. */
int bt__error(bt_store *s, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/** Formats an error into a newly allocated string (for bt_store_open's errmsg). */
char *bt__vstrdupf(const char *fmt, va_list ap);

/* ---- UTF-8 (lib/core/utf8.c) ----------------------------------------------- */

/** Decodes one strict UTF-8 sequence at s (no overlong forms, no surrogates, at most
 *  U+10FFFF) into *cp. Returns its length in bytes, 0 if invalid. */
size_t bt__utf8_decode(const unsigned char *s, unsigned *cp);
/** True if the NUL-terminated s is valid UTF-8; otherwise false with the offset of the
 *  first bad byte in *bad (may be NULL). */
bool bt__utf8_valid(const char *s, size_t *bad);

/* ---- validation (lib/model/validate.c) ------------------------------------
 * Each checks one record before it is stored and, on failure, sets the store's message
 * naming the record (its ref or name) and the field, e.g.
 * "incident 'X-17': field 'lat' is 91; expected -90..90". Returns BT_OK or
 * BT_ERR_INVALID. */
int bt__validate_lonlat(bt_store *s, const char *what, bt_lonlat p);
int bt__validate_segment(bt_store *s, const bt_segment *seg);
int bt__validate_installation(bt_store *s, const bt_installation *inst);
int bt__validate_incident(bt_store *s, const bt_incident *inc);
int bt__validate_source(bt_store *s, const bt_source *src);
int bt__validate_link(bt_store *s, const bt_report_link *link);
int bt__validate_place(bt_store *s, const bt_place *place);
int bt__validate_intervention(bt_store *s, const bt_intervention *iv);

/* ---- time (lib/model/time.c) ------------------------------------------------ */

/** The period of @p precision (a year, month, day or second) that contains @p t: its
 *  first and last second (either pointer may be NULL). False if the precision is not
 *  YEAR..SECOND or t lies outside the years 0000..9999. Calendar arithmetic only: the
 *  validation of every record and the interval tests use it without formatting. */
bool bt__time_period(int64_t t, bt_time_precision precision, int64_t *first, int64_t *last);

/* ---- deep copies into one block (lib/model/copy.c) -----------------------
 * Each returns one allocation holding the struct, its strings and its points, so that
 * the matching public _free is a single bt__free. NULL on out-of-memory. */
bt_segment *bt__segment_dup(const bt_segment *seg);
bt_installation *bt__installation_dup(const bt_installation *inst);
bt_incident *bt__incident_dup(const bt_incident *inc);
bt_source *bt__source_dup(const bt_source *src);
bt_place *bt__place_dup(const bt_place *place);
bt_intervention *bt__intervention_dup(const bt_intervention *iv);

/* ---- geodesy (lib/geo/geodesy.c) -------------------------------------------- */

/** Geodesic distance with the store's ellipsoid (no validation: callers validated). */
double bt__geod_dist(const struct geod_geodesic *g, bt_lonlat a, bt_lonlat b);

#endif /* BT_INTERNAL_H */
