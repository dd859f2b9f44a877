/**
 * @file bordertrack.h
 * @brief The public API of bordertrack: border segments, fence installations and
 * incident reports in a SpatiaLite store, with geodesic queries.
 *
 * This header is the whole published API and ABI. A symbol that is not declared
 * here is internal and may change without notice.
 *
 * Conventions used throughout:
 * - Coordinates are WGS 84 longitude/latitude in degrees (EPSG:4326, lon first).
 * - Times are UTC, counted in seconds since 1970-01-01T00:00:00Z (`int64_t`).
 * - Distances and lengths are geodesic metres on the WGS 84 ellipsoid.
 * - Functions return an `int` status: ::BT_OK (0) on success, a ::bt_status code
 *   otherwise. Results come back through out-parameters. bt_store_errmsg() gives the
 *   detail of the last failure on a store; it is reset at the start of every call that
 *   takes that store.
 * - Every object the library allocates has a named `_free` function, and every
 *   `_free(NULL)` is a harmless no-op.
 * - Threading: there is no process-wide mutable state. A ::bt_store owns its own
 *   SQLite connection, GEOS context and PROJ context; use one store from one thread at
 *   a time. Separate stores (even on the same file) may be used from separate threads.
 *
 * @since 0.1.0 for everything declared here unless stated otherwise.
 */
#ifndef BORDERTRACK_H
#define BORDERTRACK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------- */
/** @name Version and export macros */
/** @{ */

/** Major version: incremented on incompatible API changes. */
#define BT_VERSION_MAJOR 0
/** Minor version: incremented on compatible additions. */
#define BT_VERSION_MINOR 1
/** Patch version: incremented on fixes. */
#define BT_VERSION_PATCH 0
/** The version as a string, "MAJOR.MINOR.PATCH". */
#define BT_VERSION_STRING "0.1.0"
/** The version as one comparable number: MAJOR*10000 + MINOR*100 + PATCH. */
#define BT_VERSION_NUMBER \
    (BT_VERSION_MAJOR * 10000 + BT_VERSION_MINOR * 100 + BT_VERSION_PATCH)

/** Marks a public symbol. The library is built with hidden visibility; only what
 *  carries this macro is exported. Define BT_STATIC when linking the static library
 *  on platforms that need it (Windows). */
#if defined(_WIN32) && !defined(BT_STATIC)
#ifdef BT_BUILDING_LIBRARY
#define BT_API __declspec(dllexport)
#else
#define BT_API __declspec(dllimport)
#endif
#elif defined(__GNUC__)
#define BT_API __attribute__((visibility("default")))
#else
#define BT_API
#endif

/**
 * The version of the library actually linked, "MAJOR.MINOR.PATCH".
 * Compare with ::BT_VERSION_STRING to detect a header/library mismatch.
 * @return a static string; do not free.
 */
BT_API const char *bt_version(void);

/** @} */

/* ------------------------------------------------------------------------- */
/** @name Status codes */
/** @{ */

/** Status codes returned by every function that can fail. */
typedef enum bt_status {
    BT_OK = 0,              /**< Success. */
    BT_ERR_INVALID = 1,     /**< An argument or a record field is invalid (see errmsg). */
    BT_ERR_NOMEM = 2,       /**< Out of memory. */
    BT_ERR_IO = 3,          /**< The operating system or SQLite reported an I/O error. */
    BT_ERR_NOT_FOUND = 4,   /**< No record with that id, ref or name. */
    BT_ERR_EXISTS = 5,      /**< A unique key (ref, border+name, ...) is already taken. */
    BT_ERR_NOT_A_STORE = 6, /**< The file is not a bordertrack store. */
    BT_ERR_SCHEMA = 7,      /**< The store was written by a newer bordertrack. */
    BT_ERR_READONLY = 8,    /**< A write on a store opened read-only, or a read-only file. */
    BT_ERR_BUSY = 9,        /**< The file is locked by another writer beyond the timeout. */
    BT_ERR_CRS = 10,        /**< A coordinate reference system is unknown or a transform failed. */
    BT_ERR_GEOMETRY = 11,   /**< A geometry operation failed (GEOS). */
    BT_ERR_PARSE = 12,      /**< Text input (a date, a file) could not be parsed. */
    BT_ERR_STATE = 13,      /**< Call out of order (e.g. commit without begin). */
    BT_ERR_INTERNAL = 14,   /**< A bug or an unexpected library failure, including a run-time
                                 library (PROJ, GEOS, SpatiaLite: loaded on first need by
                                 any call that needs it) that cannot be loaded; errmsg
                                 names it. */
    BT_ERR_CONSTRAINT = 15, /**< The change would break a reference (e.g. a linked source). */
    BT_ERR_CANCELLED = 16   /**< A progress callback asked to stop (import: nothing was kept;
                                 export to a file: the file was removed). */
} bt_status;

/**
 * A short English description of a status code.
 * @param code a ::bt_status value (any int is accepted).
 * @return a static string; do not free. Unknown codes give "unknown error".
 */
BT_API const char *bt_strerror(int code);

/** @} */

/* ------------------------------------------------------------------------- */
/** @name Plain values */
/** @{ */

/** A WGS 84 position, degrees. */
typedef struct bt_lonlat {
    double lon; /**< Longitude, -180..180. */
    double lat; /**< Latitude, -90..90. */
} bt_lonlat;

/** A lon/lat box. west > east means the box crosses the antimeridian. */
typedef struct bt_bbox {
    double west;  /**< Western edge, degrees of longitude. */
    double south; /**< Southern edge, degrees of latitude. */
    double east;  /**< Eastern edge, degrees of longitude. */
    double north; /**< Northern edge, degrees of latitude. */
} bt_bbox;

/** How precisely a time is known. Distinct from ::bt_loc_precision on purpose. */
typedef enum bt_time_precision {
    BT_TIME_NONE = 0, /**< No time given (the field is absent). */
    BT_TIME_YEAR = 1,
    BT_TIME_MONTH = 2,
    BT_TIME_DAY = 3,
    BT_TIME_SECOND = 4 /**< A full timestamp. */
} bt_time_precision;

/** A point in time with its precision; `precision == BT_TIME_NONE` means absent.
 *  `t` is the first second of the period the precision names (e.g. 2020-07-01T00:00Z
 *  for "2020-07"). */
typedef struct bt_date {
    int64_t t;                   /**< Seconds since 1970-01-01T00:00:00Z: the start of
                                      the day, month or year at coarser precisions. */
    bt_time_precision precision; /**< How precisely it is known. */
} bt_date;

/** How precisely an incident's location is known. */
typedef enum bt_loc_precision {
    BT_LOC_EXACT = 0,
    BT_LOC_NEAR_PLACE = 1, /**< Near a named place. */
    BT_LOC_DISTRICT = 2,
    BT_LOC_PROVINCE = 3,
    BT_LOC_BORDER_SEGMENT = 4 /**< Somewhere along a stretch of the border. */
} bt_loc_precision;

/** Yes / no / unknown as data (not as a return value). */
typedef enum bt_yesno { BT_UNKNOWN = 0, BT_NO = 1, BT_YES = 2 } bt_yesno;

/** @} */

/* ------------------------------------------------------------------------- */
/** @name Enumerations of the data model */
/** @{ */

/** What a border segment runs along. */
typedef enum bt_segment_kind {
    BT_SEGMENT_UNKNOWN = 0,
    BT_SEGMENT_RIVER = 1,
    BT_SEGMENT_LAND = 2,
    BT_SEGMENT_ESTUARY = 3
} bt_segment_kind;

/** What was built along the border. */
typedef enum bt_install_kind {
    BT_INSTALL_FENCE = 0,
    BT_INSTALL_WALL = 1,
    BT_INSTALL_GUARD_POST = 2,
    BT_INSTALL_WATCHTOWER = 3,
    BT_INSTALL_GATE = 4,
    BT_INSTALL_CAMERA = 5,
    BT_INSTALL_OTHER = 6
} bt_install_kind;

/** Which line of a layered fence. */
typedef enum bt_fence_layer {
    BT_LAYER_UNKNOWN = 0, /**< Not known, or not a fence or wall. */
    BT_LAYER_PRIMARY = 1,
    BT_LAYER_SECONDARY = 2,
    BT_LAYER_TERTIARY = 3
} bt_fence_layer;

/** Fence material. */
typedef enum bt_material {
    BT_MATERIAL_UNKNOWN = 0,
    BT_MATERIAL_STRING_WIRE = 1,
    BT_MATERIAL_THIN_STEEL_WIRE = 2,
    BT_MATERIAL_BARBED_WIRE = 3,
    BT_MATERIAL_CONCERTINA = 4,
    BT_MATERIAL_CHAIN_LINK = 5,
    BT_MATERIAL_CONCRETE = 6,
    BT_MATERIAL_REEDS_WOOD = 7,
    BT_MATERIAL_MIXED = 8
} bt_material;

/** Build quality as reported. */
typedef enum bt_quality {
    BT_QUALITY_UNKNOWN = 0,
    BT_QUALITY_ROBUST = 1,
    BT_QUALITY_STANDARD = 2,
    BT_QUALITY_POOR = 3
} bt_quality;

/** Whether a work is meant to last. */
typedef enum bt_permanence {
    BT_PERMANENCE_UNKNOWN = 0,
    BT_PERMANENCE_PERMANENT = 1,
    BT_PERMANENCE_TEMPORARY = 2
} bt_permanence;

/** Life-cycle state of an installation. */
typedef enum bt_install_status {
    BT_STATUS_PLANNED = 0,
    BT_STATUS_UNDER_CONSTRUCTION = 1, /**< Being built (not yet standing). */
    BT_STATUS_COMPLETE = 2,
    BT_STATUS_DAMAGED = 3,
    BT_STATUS_REPAIRED = 4,
    BT_STATUS_REMOVED = 5
} bt_install_status;

/** How an installation was observed. */
typedef enum bt_observation {
    BT_OBSERVED_UNKNOWN = 0,
    BT_OBSERVED_SATELLITE = 1,
    BT_OBSERVED_GROUND_PHOTO = 2, /**< Ground photo or video. */
    BT_OBSERVED_HUMAN_SOURCE = 3,
    BT_OBSERVED_OFFICIAL_NOTICE = 4,
    BT_OBSERVED_MEDIA = 5
} bt_observation;

/** What happened. The values are stable: they index bit masks (1u << type). */
typedef enum bt_incident_type {
    BT_INCIDENT_SMUGGLING = 0,
    BT_INCIDENT_RIVER_CROSSING = 1,
    BT_INCIDENT_CROSSING_ATTEMPT = 2,
    BT_INCIDENT_DEFECTION = 3,
    BT_INCIDENT_ARREST = 4,
    BT_INCIDENT_SHOOTING = 5,
    BT_INCIDENT_FENCE_WORK = 6,
    BT_INCIDENT_FENCE_BREACH = 7,
    BT_INCIDENT_GUARD_POST_WORK = 8,
    BT_INCIDENT_PATROL = 9,
    BT_INCIDENT_POLICY_NOTICE = 10,
    BT_INCIDENT_OTHER = 11
} bt_incident_type;

/** Number of ::bt_incident_type values. */
#define BT_INCIDENT_TYPE_COUNT 12

/** Verification state of an incident report. */
typedef enum bt_verification {
    BT_VERIF_UNVERIFIED = 0,
    BT_VERIF_SINGLE_SOURCE = 1,
    BT_VERIF_CORROBORATED = 2,
    BT_VERIF_CONFIRMED = 3,
    BT_VERIF_DISPUTED = 4,
    BT_VERIF_RETRACTED = 5
} bt_verification;

/** What kind of source a report came from. */
typedef enum bt_source_type {
    BT_SOURCE_UNKNOWN = 0,
    BT_SOURCE_HUMAN = 1,     /**< A person (e.g. "a source in Yanggang Province"). */
    BT_SOURCE_MEDIA = 2,     /**< A media outlet. */
    BT_SOURCE_VIDEO = 3,     /**< Photo or video footage. */
    BT_SOURCE_IMAGERY = 4,   /**< Satellite or aerial imagery. */
    BT_SOURCE_OFFICIAL = 5,  /**< A government notice or statement. */
    BT_SOURCE_NGO = 6,       /**< A research or humanitarian organisation. */
    BT_SOURCE_OTHER = 7
} bt_source_type;

/** Identifies an enumeration for bt_enum_name() and bt_enum_parse(). */
typedef enum bt_enum {
    BT_ENUM_TIME_PRECISION = 0,
    BT_ENUM_LOC_PRECISION,
    BT_ENUM_YESNO,
    BT_ENUM_SEGMENT_KIND,
    BT_ENUM_INSTALL_KIND,
    BT_ENUM_FENCE_LAYER,
    BT_ENUM_MATERIAL,
    BT_ENUM_QUALITY,
    BT_ENUM_PERMANENCE,
    BT_ENUM_INSTALL_STATUS,
    BT_ENUM_OBSERVATION,
    BT_ENUM_INCIDENT_TYPE,
    BT_ENUM_VERIFICATION,
    BT_ENUM_SOURCE_TYPE,
    BT_ENUM_INTERVENTION_KIND /**< ::bt_intervention_kind (border analysis). */
} bt_enum;

/**
 * The stable I/O name of an enumeration value: lower-case snake_case of the
 * constant (e.g. "river_crossing", "string_wire", "under_construction").
 * @param which the enumeration.
 * @param value a value of that enumeration.
 * @return a static string, or NULL if @p value is not a value of @p which.
 */
BT_API const char *bt_enum_name(bt_enum which, int value);

/**
 * Parses the I/O name of an enumeration value (ASCII case-insensitive; '-' and ' '
 * are accepted in place of '_').
 * @param which the enumeration.
 * @param name the text to parse.
 * @param[out] value the value on success; untouched otherwise.
 * @return ::BT_OK, or ::BT_ERR_INVALID if @p name is not a name of @p which.
 */
BT_API int bt_enum_parse(bt_enum which, const char *name, int *value);

/** @} */

/* ------------------------------------------------------------------------- */
/** @name Times */
/** @{ */

/**
 * Parses an ISO 8601 date or timestamp at year, month, day or second precision:
 * "2020", "2020-07", "2020-07-29", "2020-07-29T14:05:00Z" (also with a space for 'T',
 * fractional seconds, and a "+09:00"-style offset, converted to UTC). A timestamp
 * without an offset is taken as UTC.
 * @param text the text (NUL-terminated).
 * @param[out] first the first second of the period named (may be NULL).
 * @param[out] last the last second of the period named, e.g. 2020-07-31T23:59:59Z for
 *        "2020-07" (may be NULL).
 * @param[out] precision the precision of the text (may be NULL).
 * @return ::BT_OK or ::BT_ERR_PARSE (not a date, or an impossible one like 2021-02-29).
 */
BT_API int bt_time_parse(const char *text, int64_t *first, int64_t *last,
                         bt_time_precision *precision);

/**
 * Formats a time at a precision: "2020", "2020-07", "2020-07-29" or
 * "2020-07-29T14:05:00Z". Works like snprintf.
 * @param t seconds since the epoch, UTC.
 * @param precision how much to print (::BT_TIME_NONE prints an empty string).
 * @param buf destination, may be NULL when @p size is 0.
 * @param size size of @p buf in bytes.
 * @return the length the full text needs, excluding the NUL; negative if @p t is out of
 *         the years 0000..9999 or @p precision is invalid.
 */
BT_API int bt_time_format(int64_t t, bt_time_precision precision, char *buf, size_t size);

/** @} */

/* ------------------------------------------------------------------------- */
/** @name Geodesy and coordinate reference systems */
/** @{ */

/**
 * Geodesic distance on WGS 84 between two positions (Karney's algorithm, PROJ's
 * geodesic.h), accurate to about 15 nm.
 * @param a first position.
 * @param b second position.
 * @param[out] metres the distance.
 * @return ::BT_OK, ::BT_ERR_INVALID if a coordinate is not finite or out of range, or
 *         ::BT_ERR_INTERNAL if the PROJ library (loaded on first use) cannot be loaded.
 */
BT_API int bt_geod_distance(bt_lonlat a, bt_lonlat b, double *metres);

/**
 * Geodesic length of a polyline on WGS 84, the sum of its edges.
 * @param points the vertices.
 * @param n how many (0 or 1 give 0 m).
 * @param[out] metres the length.
 * @return ::BT_OK, ::BT_ERR_INVALID on a bad coordinate, or ::BT_ERR_INTERNAL if the
 *         PROJ library (loaded on first use) cannot be loaded.
 */
BT_API int bt_geod_length(const bt_lonlat *points, size_t n, double *metres);

/** @} */

/* ------------------------------------------------------------------------- */
/** @name The store */
/** @{ */

/** An open bordertrack store (a SpatiaLite database file). Opaque. */
typedef struct bt_store bt_store;

/** Open for reading only. */
#define BT_OPEN_READONLY 0x1u
/** Open for reading and writing (the file must exist unless ::BT_OPEN_CREATE). */
#define BT_OPEN_READWRITE 0x2u
/** Create the store if the file does not exist (with ::BT_OPEN_READWRITE). The new
 *  file is readable and writable by its owner only (mode 0600). */
#define BT_OPEN_CREATE 0x4u

/**
 * Opens (or creates) a store. A new store gets the bordertrack schema: tables
 * `borders`, `installations`, `incidents`, `sources`, `incident_sources`, `places`,
 * each geometry registered with SpatiaLite (SRID 4326) and indexed with an R*Tree, in
 * WAL mode. An older store is migrated to the current schema when opened read-write.
 * @param path the file name (UTF-8).
 * @param flags ::BT_OPEN_READONLY, or ::BT_OPEN_READWRITE optionally | ::BT_OPEN_CREATE.
 * @param[out] out the new handle on success, NULL on failure.
 * @param[out] errmsg if not NULL, on failure receives a message the caller frees with
 *        bt_string_free() (there is no store yet to ask). Set to NULL on success.
 * @return ::BT_OK, ::BT_ERR_NOT_A_STORE, ::BT_ERR_SCHEMA (newer schema),
 *         ::BT_ERR_IO, ::BT_ERR_READONLY, ::BT_ERR_INVALID, ::BT_ERR_NOMEM.
 * Close the handle with bt_store_close().
 */
BT_API int bt_store_open(const char *path, unsigned flags, bt_store **out, char **errmsg);

/**
 * Closes a store, rolling back an open transaction. NULL is a no-op.
 * @return ::BT_OK, or an error if the database could not be closed cleanly (the
 *         handle is freed all the same).
 */
BT_API int bt_store_close(bt_store *store);

/**
 * The detail of the last failure on @p store, e.g. "incident 'X-17': latitude 91 is
 * outside -90..90". Empty after a successful call.
 * @return a string owned by the store, valid until the next call on it; never NULL
 *         ("" for a NULL store).
 */
BT_API const char *bt_store_errmsg(const bt_store *store);

/** Frees a string the library returned through a `char **` parameter. NULL is a no-op. */
BT_API void bt_string_free(char *s);

/**
 * The schema version of the open store (PRAGMA user_version).
 * @param[out] version the version.
 */
BT_API int bt_store_schema_version(bt_store *store, int *version);

/**
 * Begins an explicit transaction for bulk work. Changes made through the API until
 * bt_store_commit() become visible (and durable) together; bt_store_rollback() undoes
 * them all. Calls made outside an explicit transaction are each their own transaction.
 * Transactions do not nest: a second begin gives ::BT_ERR_STATE.
 */
BT_API int bt_store_begin(bt_store *store);

/** Commits the explicit transaction. ::BT_ERR_STATE if none is open. */
BT_API int bt_store_commit(bt_store *store);

/** Rolls back the explicit transaction. ::BT_ERR_STATE if none is open. */
BT_API int bt_store_rollback(bt_store *store);

/** Row counts of the layers, as reported by bt_store_count(). */
typedef struct bt_counts {
    int64_t segments;      /**< Border segments (::bt_segment). */
    int64_t installations; /**< Installations (::bt_installation). */
    int64_t incidents;     /**< Incident reports (::bt_incident). */
    int64_t sources;       /**< Sources (::bt_source). */
    int64_t links;         /**< Incident-source links (::bt_report_link). */
    int64_t places;        /**< Gazetteer places (::bt_place). */
    int64_t interventions; /**< Stored interventions (::bt_intervention). */
} bt_counts;

/** Counts the records of every layer. */
BT_API int bt_store_count(bt_store *store, bt_counts *out);

/** @} */

/* ------------------------------------------------------------------------- */
/** @name Border segments */
/** @{ */

/**
 * A piece of a named border. A border (e.g. "PRK-CHN") is made of many segments,
 * ordered by `seq`.
 * When returned by bt_segment_get(), the struct and everything it points to is one
 * allocation freed by bt_segment_free().
 */
typedef struct bt_segment {
    int64_t id;              /**< Set by the store; ignored by bt_segment_add(). */
    const char *border;      /**< Border name, e.g. "PRK-CHN". Required. */
    const char *name;        /**< Segment name, unique within the border. Required. */
    int seq;                 /**< Position along the border, 0-based (the import order). */
    bt_segment_kind kind;    /**< River, land, estuary. */
    const char *river;       /**< River name, or NULL. */
    const bt_lonlat *points; /**< The LineString, at least 2 vertices. */
    size_t npoints;          /**< Number of vertices. */
} bt_segment;

/**
 * Adds a segment.
 * @param[out] id the new record's id (may be NULL).
 * @return ::BT_OK, ::BT_ERR_INVALID (bad field), ::BT_ERR_EXISTS (border+name taken),
 *         ::BT_ERR_READONLY, ::BT_ERR_IO.
 */
BT_API int bt_segment_add(bt_store *store, const bt_segment *seg, int64_t *id);
/** Reads a segment. Free with bt_segment_free(). ::BT_ERR_NOT_FOUND if no such id. */
BT_API int bt_segment_get(bt_store *store, int64_t id, bt_segment **out);
/** Replaces every field of segment `seg->id`. ::BT_ERR_NOT_FOUND if no such id;
 *  ::BT_ERR_CONSTRAINT if it would move the last segment of a border that
 *  interventions name (::bt_intervention) to another border. */
BT_API int bt_segment_update(bt_store *store, const bt_segment *seg);
/** Deletes a segment. ::BT_ERR_NOT_FOUND if no such id; ::BT_ERR_CONSTRAINT if it is
 *  the last segment of a border that interventions name (delete those first). */
BT_API int bt_segment_delete(bt_store *store, int64_t id);
/** Frees a segment returned by the library. NULL is a no-op. */
BT_API void bt_segment_free(bt_segment *seg);

/** @} */

/* ------------------------------------------------------------------------- */
/** @name Installations */
/** @{ */

/**
 * Something built along the border: a fence or wall (a LineString), a guard post,
 * watchtower, gate or camera (a Point, `npoints == 1`).
 * When returned by bt_installation_get(), one allocation freed by
 * bt_installation_free().
 */
typedef struct bt_installation {
    int64_t id;                /**< Set by the store. */
    const char *ref;           /**< External reference, unique, or NULL. */
    bt_install_kind kind;      /**< What it is. */
    bt_fence_layer layer;      /**< Fences and walls; ::BT_LAYER_UNKNOWN otherwise. */
    bt_material material;      /**< What it is made of. */
    bt_yesno barbed;           /**< Whether it carries barbs. */
    bt_yesno electrified;      /**< Whether it is electrified. */
    double height_m;           /**< Height in metres; NaN if unknown. */
    const char *post_material; /**< e.g. "wooden stakes", or NULL. */
    bt_quality quality;        /**< Build quality as reported. */
    bt_permanence permanence;  /**< Whether it is meant to last. */
    bt_install_status status;  /**< Life-cycle state. */
    bt_date start;             /**< When it took that status; optional. */
    bt_date end;               /**< Until when; optional; not before start. */
    const char *condition;     /**< Free text, e.g. "sways in the wind", or NULL. */
    bt_observation observed_by; /**< How it was observed. */
    int64_t source_id;         /**< Source of the observation, 0 if none. */
    int credibility;           /**< Information credibility 1..6 of that report, 0 if none. */
    const bt_lonlat *points;   /**< 1 vertex: a Point; 2 or more: a LineString. */
    size_t npoints;            /**< Number of points. */
} bt_installation;

/** Fills @p inst with defaults: unknown everywhere, kind fence, height NaN,
 *  status complete, no dates, no geometry. */
BT_API void bt_installation_init(bt_installation *inst);
/** Adds an installation. @param[out] id the new id (may be NULL).
 *  ::BT_ERR_EXISTS if the ref is taken; ::BT_ERR_NOT_FOUND if source_id names no source. */
BT_API int bt_installation_add(bt_store *store, const bt_installation *inst, int64_t *id);
/** Reads an installation. Free with bt_installation_free(). */
BT_API int bt_installation_get(bt_store *store, int64_t id, bt_installation **out);
/** Replaces every field of installation `inst->id`. */
BT_API int bt_installation_update(bt_store *store, const bt_installation *inst);
/** Deletes an installation. */
BT_API int bt_installation_delete(bt_store *store, int64_t id);
/** Frees an installation returned by the library. NULL is a no-op. */
BT_API void bt_installation_free(bt_installation *inst);

/** @} */

/* ------------------------------------------------------------------------- */
/** @name Incident reports */
/** @{ */

/** "Still going on / end unknown" for bt_incident::end. */
#define BT_TIME_OPEN INT64_MAX

/**
 * One reported event. When it happened is an interval [start, end] (both inclusive,
 * seconds UTC) with one precision, so "since the beginning of July 2020" is
 * start = 2020-07-01, end = ::BT_TIME_OPEN, precision month.
 * When returned by bt_incident_get(), one allocation freed by bt_incident_free().
 */
typedef struct bt_incident {
    int64_t id;                      /**< Set by the store. */
    const char *ref;                 /**< External reference, unique. Required. */
    bt_incident_type type;           /**< What happened. */
    bt_lonlat where;                 /**< The reported point. */
    double uncertainty_m;            /**< Radius of location uncertainty, >= 0. */
    bt_loc_precision loc_precision;  /**< How precisely the place is known. */
    int64_t start;                   /**< Start of the occurrence interval. */
    int64_t end;                     /**< End, >= start, or ::BT_TIME_OPEN. */
    bt_time_precision time_precision; /**< Precision of start/end (not NONE). */
    bt_date reported;                /**< When it was first reported; optional. */
    const char *summary;             /**< Free text, or NULL. */
    bt_verification verification;   /**< How far it has been checked. */
} bt_incident;

/** Fills @p inc with defaults: type other, exact location, 0 m uncertainty, day
 *  precision, no times, unverified. */
BT_API void bt_incident_init(bt_incident *inc);
/** Adds an incident. @param[out] id the new id (may be NULL).
 *  ::BT_ERR_EXISTS if the ref is taken. */
BT_API int bt_incident_add(bt_store *store, const bt_incident *inc, int64_t *id);
/** Reads an incident. Free with bt_incident_free(). */
BT_API int bt_incident_get(bt_store *store, int64_t id, bt_incident **out);
/** Finds an incident's id by its ref. ::BT_ERR_NOT_FOUND if none. */
BT_API int bt_incident_find(bt_store *store, const char *ref, int64_t *id);
/** Replaces every field of incident `inc->id`. */
BT_API int bt_incident_update(bt_store *store, const bt_incident *inc);
/** Deletes an incident and its report links. */
BT_API int bt_incident_delete(bt_store *store, int64_t id);
/** Frees an incident returned by the library. NULL is a no-op. */
BT_API void bt_incident_free(bt_incident *inc);

/** @} */

/* ------------------------------------------------------------------------- */
/** @name Sources and report links */
/** @{ */

/**
 * Where reports come from. Source identities can endanger people: they live in their
 * own table and no query or export prints them unless explicitly asked.
 * `reliability` is the Admiralty grade 'A' (completely reliable) .. 'F' (cannot be
 * judged). When returned by bt_source_get(), one allocation freed by bt_source_free().
 */
typedef struct bt_source {
    int64_t id;          /**< Set by the store. */
    const char *name;    /**< Identity, e.g. "a source in Yanggang Province". Required, unique. */
    bt_source_type type;  /**< What kind of source it is. */
    char reliability;    /**< 'A'..'F'. */
    const char *notes;   /**< Restricted notes, or NULL. */
} bt_source;

/** Adds a source. ::BT_ERR_EXISTS if the name is taken. */
BT_API int bt_source_add(bt_store *store, const bt_source *src, int64_t *id);
/** Reads a source. Free with bt_source_free(). */
BT_API int bt_source_get(bt_store *store, int64_t id, bt_source **out);
/** Finds a source's id by its exact name. ::BT_ERR_NOT_FOUND if none. */
BT_API int bt_source_find(bt_store *store, const char *name, int64_t *id);
/** Replaces every field of source `src->id`. */
BT_API int bt_source_update(bt_store *store, const bt_source *src);
/** Deletes a source. ::BT_ERR_CONSTRAINT if a report link or installation still
 *  refers to it. */
BT_API int bt_source_delete(bt_store *store, int64_t id);
/** Frees a source returned by the library. NULL is a no-op. */
BT_API void bt_source_free(bt_source *src);

/** A link from an incident to a source that reported it. Plain data, no pointers. */
typedef struct bt_report_link {
    int64_t incident_id; /**< The incident (::bt_incident::id). */
    int64_t source_id;   /**< The source (::bt_source::id). */
    bt_date reported;  /**< When this source reported it; optional. */
    int credibility;   /**< Information credibility 1 (confirmed) .. 6 (cannot be judged). */
} bt_report_link;

/** Links an incident to a source. ::BT_ERR_NOT_FOUND if either id is unknown,
 *  ::BT_ERR_EXISTS if that pair is already linked. */
BT_API int bt_link_add(bt_store *store, const bt_report_link *link);
/** Reads the link of one pair into @p out. ::BT_ERR_NOT_FOUND if not linked. */
BT_API int bt_link_get(bt_store *store, int64_t incident_id, int64_t source_id,
                       bt_report_link *out);
/** Replaces the date and credibility of an existing link. */
BT_API int bt_link_update(bt_store *store, const bt_report_link *link);
/** Removes a link. ::BT_ERR_NOT_FOUND if not linked. */
BT_API int bt_link_delete(bt_store *store, int64_t incident_id, int64_t source_id);
/**
 * Lists the links of an incident, ordered by source id.
 * @param[out] out an array of @p n links (NULL when n is 0); free with bt_link_list_free().
 */
BT_API int bt_link_list(bt_store *store, int64_t incident_id, bt_report_link **out,
                        size_t *n);
/** Frees an array from bt_link_list(). NULL is a no-op. */
BT_API void bt_link_list_free(bt_report_link *links);

/** @} */

/* ------------------------------------------------------------------------- */
/** @name Places (gazetteer) */
/** @{ */

/** A named point. When returned by the library, one allocation freed by
 *  bt_place_free(). */
typedef struct bt_place {
    int64_t id;          /**< Set by the store. */
    const char *name;    /**< UTF-8, e.g. "Sinŭiju". Required. */
    const char *country; /**< ISO 3166-1 alpha-2, e.g. "KP". Required. */
    const char *admin1;  /**< First-level division code, or NULL. */
    bt_lonlat where;     /**< Its position. */
} bt_place;

/** Adds a place. ::BT_ERR_EXISTS if the same name and country exist. */
BT_API int bt_place_add(bt_store *store, const bt_place *place, int64_t *id);
/** Reads a place. Free with bt_place_free(). */
BT_API int bt_place_get(bt_store *store, int64_t id, bt_place **out);
/** Replaces every field of place `place->id`. */
BT_API int bt_place_update(bt_store *store, const bt_place *place);
/** Deletes a place. */
BT_API int bt_place_delete(bt_store *store, int64_t id);
/** Frees a place returned by the library. NULL is a no-op. */
BT_API void bt_place_free(bt_place *place);

/** @} */

/* ------------------------------------------------------------------------- */
/** @name Queries */
/** @{ */

/**
 * Receives one incident of a query.
 * @param inc the incident, valid only during the call (do not free).
 * @param distance_m geodesic distance from the query centre in metres.
 * @param udata the caller's pointer.
 * @return 0 to go on, non-zero to stop the query (which then returns ::BT_OK).
 */
typedef int (*bt_incident_cb)(const bt_incident *inc, double distance_m, void *udata);

/**
 * Delivers every incident whose reported point lies within a geodesic radius of a
 * centre and, optionally, whose occurrence interval overlaps [from, to]; in
 * increasing id order.
 * @param centre the centre.
 * @param radius_m the radius in metres, >= 0.
 * @param from start of the time window, or INT64_MIN for none.
 * @param to end of the time window (inclusive), or INT64_MAX for none.
 * @param cb called for each hit.
 * @param udata passed to @p cb.
 * @return ::BT_OK (also when @p cb stopped early), ::BT_ERR_INVALID, ::BT_ERR_IO.
 */
BT_API int bt_incidents_within(bt_store *store, bt_lonlat centre, double radius_m,
                               int64_t from, int64_t to, bt_incident_cb cb, void *udata);

/** @} */

/* ------------------------------------------------------------------------- */
/* @@BT-SECTION: data exchange (lib/io) @@ */
/** @name Data exchange: import and export
 *  File formats and property names are specified in docs/formats.md. */
/** @{ */

/** The tables a file can be imported into or exported from. (Not "layer": the
 *  ::bt_fence_layer values are named BT_LAYER_*.) */
typedef enum bt_table {
    BT_TABLE_BORDERS = 0,       /**< Border segments (::bt_segment). */
    BT_TABLE_INSTALLATIONS = 1, /**< Installations (::bt_installation). */
    BT_TABLE_INCIDENTS = 2,     /**< Incident reports with their report links. */
    BT_TABLE_SOURCES = 3,       /**< Sources (::bt_source); export needs include_sources. */
    BT_TABLE_PLACES = 4,        /**< The gazetteer (::bt_place). */
    BT_TABLE_INTERVENTIONS = 5  /**< Interventions (::bt_intervention): a Polygon (the
                                     area) or no geometry (a border). Export takes no
                                     filter. */
} bt_table;

/** File formats. */
typedef enum bt_format {
    BT_FORMAT_AUTO = 0,       /**< Import: from the file name extension, else from the
                                   content. Export to a file: from the extension. */
    BT_FORMAT_GEOJSON = 1,    /**< A GeoJSON FeatureCollection (RFC 7946). On import a
                                   sequence of Features is accepted too. */
    BT_FORMAT_GEOJSONSEQ = 2, /**< One Feature per line (newline-delimited GeoJSON); on
                                   import RFC 8142 RS-separated text sequences too. */
    BT_FORMAT_CSV = 3,        /**< RFC 4180 CSV with a header row, UTF-8 (BOM allowed). */
    BT_FORMAT_KML = 4         /**< KML 2.2 for Google Earth. Export only. */
} bt_format;

/**
 * The I/O name of a table: "borders", "installations", "incidents", "sources",
 * "places", "interventions".
 * @return a static string, or NULL for a value that is not a ::bt_table.
 */
BT_API const char *bt_table_name(bt_table table);

/**
 * Parses a table name (as bt_table_name() gives it; ASCII case-insensitive).
 * @param[out] table the table on success; untouched otherwise.
 * @return ::BT_OK, or ::BT_ERR_INVALID if @p name names no table.
 */
BT_API int bt_table_parse(const char *name, bt_table *table);

/** How often a progress callback of an import or export is called: after every this
 *  many features (import) or records (export), besides the first and the last call.
 *  A count rather than a clock, so that no feature pays for a time look-up. */
#define BT_PROGRESS_EVERY 1000

/**
 * Receives the progress of a long import or export (bt_import_options::progress,
 * bt_export_options::progress). It is called once before the first feature with
 * done = 0, after every ::BT_PROGRESS_EVERY features, and once at the end (before an
 * import commits) with done == total. Neither value ever decreases between calls.
 * It must not use the store.
 * @param done the work done so far (import: bytes of the input consumed; export:
 *        records written).
 * @param total the whole work (import: the input's size in bytes; export: the records
 *        to write), or 0 while it is unknown (an import from a pipe). The last call
 *        always has done == total.
 * @param udata the options' progress_udata.
 * @return 0 to go on, non-zero to cancel: the call then fails with ::BT_ERR_CANCELLED
 *         (an import keeps nothing; an export to a file removes the file).
 */
typedef int (*bt_progress_fn)(uint64_t done, uint64_t total, void *udata);

/** One invalid feature skipped by an import with bt_import_options::skip_invalid.
 *  Valid only during the bt_import_options::on_problem call. */
typedef struct bt_import_problem {
    const char *file;     /**< The name used in messages (path or name_for_errors). */
    long feature;         /**< 1-based number of the feature (CSV: of the data row). */
    long line;            /**< 1-based line where the feature starts (or where the
                               faulty value is, when known). */
    long column;          /**< 1-based column (in bytes), 0 for CSV rows. */
    const char *field;    /**< The property or column at fault, or NULL. */
    int code;             /**< The ::bt_status of the failure. */
    const char *message;  /**< The full message, as bt_store_errmsg() would give it. */
} bt_import_problem;

/** Options of an import. Fill with bt_import_options_init(), then change fields. */
typedef struct bt_import_options {
    bt_table table;       /**< The table to fill. Default ::BT_TABLE_INCIDENTS. */
    bt_format format;     /**< Default ::BT_FORMAT_AUTO. ::BT_FORMAT_KML is refused. */
    const char *crs;      /**< CRS of the coordinates: AUTHORITY:CODE ("EPSG:32652"), an
                               OGC URN or URI, WKT, PROJJSON or a PROJ string (not a
                               bare name, which PROJ matches loosely), or
                               NULL: the GeoJSON `crs` member if present, else WGS 84
                               lon/lat. When set, it overrides the `crs` member. */
    int skip_invalid;     /**< 0 (default): all or nothing, the first invalid feature
                               fails the import and nothing is kept. Non-zero: invalid
                               features are skipped (each reported to on_problem) and
                               the valid ones imported. Syntax errors that make the
                               rest of the file unreadable still fail the import. */
    /** Called for each skipped feature (skip_invalid only); may be NULL. Return 0 to
     *  go on, non-zero to abort the import (it then fails with ::BT_ERR_INVALID and
     *  nothing is kept). */
    int (*on_problem)(const bt_import_problem *problem, void *udata);
    void *udata;          /**< Passed to on_problem. */
    bt_progress_fn progress; /**< Progress in bytes of the input (see ::bt_progress_fn);
                                  NULL (default): none. Returning non-zero cancels the
                                  import with ::BT_ERR_CANCELLED, keeping nothing. */
    void *progress_udata; /**< Passed to progress. */
} bt_import_options;

/** What an import did. */
typedef struct bt_import_report {
    long features;  /**< Features (CSV: data rows) read. */
    long added;     /**< Records added to the table imported (a MultiLineString border
                         feature adds one per part). */
    long skipped;   /**< Invalid features skipped (skip_invalid only). */
    long sources_added; /**< Sources created for incidents and installations. */
} bt_import_report;

/** Fills @p opt with the defaults listed at each field of ::bt_import_options. */
BT_API void bt_import_options_init(bt_import_options *opt);

/**
 * Imports a file into a table of the store, in one transaction: either every valid
 * feature is stored or (on failure) nothing is, and the store is left as it was.
 * If the caller has a transaction open (bt_store_begin()), the import runs inside it
 * under a savepoint: a failed import undoes only its own changes and leaves the
 * caller's transaction open; the caller still commits.
 *
 * An import of 8 MiB or more that owns its transaction and is the only connection to
 * the file runs under a rollback journal instead of the WAL (each page is then written
 * once, not twice) and puts WAL back when it ends, however it ends; with another
 * connection open it stays in WAL. A crash during it leaves a journal that the next
 * open rolls back: the store as it was. A connection opened during such an import
 * waits for it (up to the 5 s busy timeout) instead of reading the old state.
 *
 * The file is read in chunks; memory use is bounded by the largest single feature,
 * not by the file size. Errors name the file, the feature number, the line (and for
 * JSON the column), the field and what was wrong, e.g.
 * "incidents.geojson: feature 17 (line 18, column 5): property 'reliability' is 'G';
 * expected A-F".
 *
 * Incident features may name a `source`: it is looked up by name and created if
 * missing (with `source_type` and `reliability`), then linked with `credibility` and
 * the report date. Installation features may name a `source` the same way.
 *
 * @param store an open read-write store.
 * @param path the file (UTF-8 name).
 * @param opt options, or NULL for the defaults (which import incidents).
 * @param[out] report what was done (may be NULL); filled also on failure with the
 *        counts up to the failure (nothing of which was kept).
 * @return ::BT_OK; ::BT_ERR_PARSE (syntax, bad date), ::BT_ERR_INVALID (a field),
 *         ::BT_ERR_EXISTS (a duplicate ref/name), ::BT_ERR_CRS, ::BT_ERR_IO (reading
 *         the file or writing the store), ::BT_ERR_READONLY, ::BT_ERR_NOMEM,
 *         ::BT_ERR_CANCELLED (the progress callback asked to stop).
 */
BT_API int bt_import_file(bt_store *store, const char *path, const bt_import_options *opt,
                          bt_import_report *report);

/**
 * Imports from memory; otherwise exactly like bt_import_file(). This is also the
 * fuzzing entry point of the importers.
 * @param data the file's bytes (need not be NUL-terminated).
 * @param len their number.
 * @param name_for_errors the file name used in messages and for ::BT_FORMAT_AUTO
 *        (by extension); NULL gives "<memory>" and detection by content.
 */
BT_API int bt_import_mem(bt_store *store, const char *data, size_t len,
                         const char *name_for_errors, const bt_import_options *opt,
                         bt_import_report *report);

/** Options of an export. Fill with bt_export_options_init(), then change fields. */
typedef struct bt_export_options {
    bt_table table;      /**< The table to write. Default ::BT_TABLE_INCIDENTS. */
    bt_format format;    /**< Default ::BT_FORMAT_AUTO (from the file extension;
                              bt_export_write() then writes GeoJSON). */
    int include_sources; /**< 0 (default): redacted, no source name and no source notes
                              are written (the `source` property is absent). Non-zero:
                              they are. Exporting ::BT_TABLE_SOURCES requires it. */
    double generalise_m; /**< 0 (default): incident points exact. > 0: each incident
                              point is snapped to a grid of about this many metres,
                              never across a border line of the store (see
                              docs/formats.md); other tables are not changed. */
    int decimals;        /**< Decimal places of coordinates, 0..7. Default 7. */
    /** NULL (default): every record of the table, in increasing id order. Otherwise
     *  only the records the query API selects with this filter, in its order and
     *  within its limit: incidents as bt_incident_query_all(), installations as
     *  bt_installation_query() (area, time window, kinds), borders as
     *  bt_segment_query() (area). Sources, places and interventions take no filter
     *  (::BT_ERR_INVALID). The filter sees the stored positions, before
     *  generalise_m. The caller keeps it (and its ring or wkt) alive during the call. */
    const struct bt_query *filter;
    bt_progress_fn progress; /**< Progress in records (see ::bt_progress_fn); NULL
                                  (default): none. Returning non-zero cancels the export
                                  with ::BT_ERR_CANCELLED. */
    void *progress_udata; /**< Passed to progress. */
} bt_export_options;

/** Fills @p opt with the defaults listed at each field of ::bt_export_options. */
BT_API void bt_export_options_init(bt_export_options *opt);

/**
 * Receives exported bytes.
 * @return 0 on success, non-zero to fail the export with ::BT_ERR_IO.
 */
typedef int (*bt_write_fn)(const void *buf, size_t n, void *udata);

/**
 * Exports a table (all of it, or what bt_export_options::filter selects) to a writer
 * callback.
 * What each format holds is specified in docs/formats.md; a GeoJSON or CSV export
 * with include_sources imports back to the same records (a round trip).
 * @param write called with successive pieces of the output.
 * @param udata passed to @p write.
 * @param opt options, or NULL for the defaults (GeoJSON of all incidents, redacted).
 * @return ::BT_OK, ::BT_ERR_INVALID (bad options, e.g. KML of sources, sources
 *         without include_sources, decimals > 7, a filter on sources or places, a bad
 *         filter: the message names the field), ::BT_ERR_GEOMETRY (a bad filter
 *         polygon), ::BT_ERR_IO (the writer failed), ::BT_ERR_NOMEM,
 *         ::BT_ERR_CANCELLED (the progress callback asked to stop; what was written
 *         so far is an incomplete document).
 */
BT_API int bt_export_write(bt_store *store, bt_write_fn write, void *udata,
                           const bt_export_options *opt);

/**
 * Exports a table to a file (created or truncated; on failure, cancellation included,
 * the partial file is removed). ::BT_FORMAT_AUTO picks the format from the extension: .geojson/.json,
 * .geojsonl/.geojsons/.ndjson/.jsonl, .csv, .kml.
 * @return as bt_export_write(), and ::BT_ERR_IO if the file cannot be written.
 */
BT_API int bt_export_file(bt_store *store, const char *path, const bt_export_options *opt);

/**
 * Visits every border segment in increasing id order (reads are not isolated from
 * writes the callback makes). @p cb gets a record valid only during the call and
 * returns 0 to go on, non-zero to stop (the function then returns ::BT_OK).
 */
BT_API int bt_segment_foreach(bt_store *store, int (*cb)(const bt_segment *seg, void *udata),
                              void *udata);
/** Visits every installation in increasing id order; see bt_segment_foreach(). */
BT_API int bt_installation_foreach(bt_store *store,
                                   int (*cb)(const bt_installation *inst, void *udata),
                                   void *udata);
/** Visits every incident in increasing id order; see bt_segment_foreach(). */
BT_API int bt_incident_foreach(bt_store *store,
                               int (*cb)(const bt_incident *inc, void *udata), void *udata);
/** Visits every source in increasing id order; see bt_segment_foreach(). The records
 *  hold identities: handle them as bt_source describes. */
BT_API int bt_source_foreach(bt_store *store, int (*cb)(const bt_source *src, void *udata),
                             void *udata);
/** Visits every place in increasing id order; see bt_segment_foreach(). */
BT_API int bt_place_foreach(bt_store *store, int (*cb)(const bt_place *place, void *udata),
                            void *udata);

/** @} */

/* ------------------------------------------------------------------------- */
/* @@BT-SECTION: query API and index (lib/query, lib/index) @@ */
/** @name Queries: filters, nearest neighbours, counts (lib/query, lib/index)
 *
 * One filter value, ::bt_query, combines an area, a time window, incident types,
 * trust thresholds and verification states. The incident queries are answered from an
 * in-memory index of the store's incidents, built on the first query and kept in step
 * with every write (from this handle or from other connections to the file); the file's
 * SpatiaLite R*Trees serve the installation and segment queries and other readers.
 *
 * Geometry conventions:
 * - A circle is geodesic: a point is in it when its geodesic distance on WGS 84 from
 *   the centre (Karney, geod_inverse) is at most the radius.
 * - A box is closed and in lon/lat degrees; west > east crosses the antimeridian.
 * - A polygon is planar in lon/lat degrees (as GEOS and SpatiaLite treat EPSG:4326),
 *   closed (a point on its boundary is in it), and must not cross the antimeridian.
 */
/** @{ */

/** The area part of a ::bt_query. */
typedef enum bt_area_kind {
    BT_AREA_NONE = 0,    /**< No spatial condition. */
    BT_AREA_CIRCLE = 1,  /**< bt_query::centre and bt_query::radius_m. */
    BT_AREA_BBOX = 2,    /**< bt_query::box. */
    BT_AREA_POLYGON = 3  /**< bt_query::ring (or bt_query::wkt). */
} bt_area_kind;

/** How an incident's uncertainty circle (the geodesic circle of radius
 *  bt_incident::uncertainty_m around its point) is matched against the area of a
 *  ::bt_query: a circle, a box or a polygon (ignored without an area). For a box or
 *  polygon, d is the geodesic distance (WGS 84) from the point to the area's boundary:
 *  a box's edges are its meridians and parallels (a parallel at a pole, and the
 *  meridians of a box spanning all longitudes, are no boundary); a polygon's edges,
 *  holes' included, are straight lines in lon/lat degrees (the planar reading GEOS
 *  and SpatiaLite give EPSG:4326). d is computed to within 1 cm: an incident whose
 *  uncertainty is within 1 cm of d counts as matching. An uncertainty of 0 matches as
 *  the point does. */
typedef enum bt_match {
    BT_MATCH_POINT = 0,    /**< The reported point is in the area (default). */
    BT_MATCH_POSSIBLE = 1, /**< The uncertainty circle touches the area: for a circle,
                                distance <= radius + uncertainty; for a box or
                                polygon, the point is in it or d <= uncertainty. */
    BT_MATCH_CERTAIN = 2   /**< The uncertainty circle lies within the area: for a
                                circle, distance + uncertainty <= radius; for a box
                                or polygon, the point is in it and d >= uncertainty. */
} bt_match;

/** Result order of a query. */
typedef enum bt_order {
    BT_ORDER_ID = 0,       /**< Increasing id (default). */
    BT_ORDER_DISTANCE = 1, /**< Increasing distance from the circle's centre, ties by
                                id; circle areas only. */
    BT_ORDER_TIME = 2      /**< Increasing start of the occurrence interval, ties by id. */
} bt_order;

/** A query filter. Fill with bt_query_init(), then set what you need. */
typedef struct bt_query {
    bt_area_kind area;     /**< Default ::BT_AREA_NONE. */
    bt_lonlat centre;      /**< Circle centre. */
    double radius_m;       /**< Circle radius in geodesic metres, >= 0. */
    bt_bbox box;           /**< Box, west > east crossing the antimeridian. */
    const bt_lonlat *ring; /**< Polygon outer ring (closed or not; >= 3 distinct
                                vertices). The caller keeps it alive during the call. */
    size_t nring;          /**< Vertices in @p ring. */
    const char *wkt;       /**< Instead of @p ring: a WKT POLYGON or MULTIPOLYGON (holes
                                allowed), used when @p ring is NULL. */
    int64_t from;          /**< Time window start; INT64_MIN (default): none. */
    int64_t to;            /**< Time window end, inclusive; INT64_MAX (default): none.
                                An incident matches when its interval [start, end]
                                overlaps [from, to]. */
    unsigned types;        /**< Mask of (1u << ::bt_incident_type); 0 (default) = all. */
    char min_reliability;  /**< 'A'..'F': some linked source is at least this reliable
                                ('A' best); 0 (default) = any, unlinked incidents too. */
    int min_credibility;   /**< 1..6: some link has credibility at least this good (1
                                best, so numerically <=); 0 (default) = any. */
    unsigned verifications; /**< Mask of (1u << ::bt_verification); 0 (default) = all. */
    bt_match match;        /**< Default ::BT_MATCH_POINT. */
    bt_order order;        /**< Default ::BT_ORDER_ID. */
    size_t limit;          /**< At most this many results (after ordering); 0 (default)
                                = no limit. */
    int want_distance;     /**< bt_incident_query_all(): non-zero fills
                                bt_hit::distance_m for circle areas (costs one geodesic
                                inverse per hit); ordering by distance implies it.
                                Default 0. */
} bt_query;

/** Fills @p q with the defaults stated at each field: everything matches. */
BT_API void bt_query_init(bt_query *q);

/** One incident found by bt_incident_query_all() or bt_incident_nearest(). */
typedef struct bt_hit {
    int64_t id;          /**< The incident's id. */
    double distance_m;   /**< Geodesic distance from the circle centre (or the nearest
                              query point); NaN when not computed (no circle, or
                              bt_query::want_distance not set). */
    int64_t start;       /**< Start of its occurrence interval. */
} bt_hit;

/**
 * Delivers every incident that matches @p q to a callback, in the order asked, each
 * with its full record read from the store.
 * @param q the filter (NULL: everything).
 * @param cb receives each incident and its distance from the circle centre (NaN for
 *        other areas); returns non-zero to stop.
 * @return ::BT_OK (also when @p cb stopped), ::BT_ERR_INVALID (a bad filter: the
 *         message names the field), ::BT_ERR_GEOMETRY (bad polygon), ::BT_ERR_NOMEM,
 *         ::BT_ERR_IO.
 */
BT_API int bt_incident_query(bt_store *store, const bt_query *q, bt_incident_cb cb,
                             void *udata);

/**
 * Finds every incident that matches @p q, as an array of hits (ids, optionally
 * distances), without reading the records: the fast path for counting, mapping and
 * paging.
 * @param[out] out the hits (NULL when *n is 0); free with bt_hits_free().
 * @param[out] n their number.
 * @return as bt_incident_query().
 */
BT_API int bt_incident_query_all(bt_store *store, const bt_query *q, bt_hit **out,
                                 size_t *n);

/** Frees an array from bt_incident_query_all() or bt_incident_nearest(). NULL is a
 *  no-op. */
BT_API void bt_hits_free(bt_hit *hits);

/**
 * The @p k incidents nearest to @p p by geodesic distance among those matching
 * @p filter, in increasing distance (ties by id): exact, not approximated.
 * The filter's area, if any, is applied as a condition; its order and limit are
 * ignored.
 * @param filter NULL: every incident.
 * @param[out] out at most @p k hits with distance_m set; free with bt_hits_free().
 * @param[out] n their number (less than k if fewer incidents match).
 * @return as bt_incident_query(); ::BT_ERR_INVALID for a bad point.
 */
BT_API int bt_incident_nearest(bt_store *store, bt_lonlat p, size_t k, const bt_query *filter,
                               bt_hit **out, size_t *n);

/**
 * Counts the incidents that match @p q without reading them (order and limit are
 * ignored).
 * @param[out] total the count (may be NULL).
 * @param[out] per_type if not NULL, per_type[t] receives the count of type t.
 * @return as bt_incident_query().
 */
BT_API int bt_incident_count(bt_store *store, const bt_query *q, int64_t *total,
                             int64_t per_type[BT_INCIDENT_TYPE_COUNT]);

/**
 * Receives one installation or segment of a query.
 * @param distance_m geodesic distance from the circle centre or query point to the
 *        record's geometry (its nearest point), NaN for other areas.
 * @return 0 to go on, non-zero to stop.
 */
typedef int (*bt_installation_cb)(const bt_installation *inst, double distance_m,
                                   void *udata);
/** See ::bt_installation_cb. */
typedef int (*bt_segment_cb)(const bt_segment *seg, double distance_m, void *udata);

/**
 * Installations whose geometry meets the area of @p q (a circle: some point of the
 * point or line within the radius; a box or polygon: intersects it) and whose
 * [start, end] (open where absent) overlaps the time window, in increasing id order.
 * bt_query::types is a mask of (1u << ::bt_install_kind); trust, verification, match
 * and order are ignored; limit applies. An installation without a start (end) date is
 * taken as standing since (until) forever; an end date counts to the last second of
 * the period it names.
 * @return as bt_incident_query().
 */
BT_API int bt_installation_query(bt_store *store, const bt_query *q, bt_installation_cb cb,
                                 void *udata);

/**
 * Border segments whose line meets the area of @p q, in increasing id order (time,
 * types and trust are ignored; limit applies).
 * @return as bt_incident_query().
 */
BT_API int bt_segment_query(bt_store *store, const bt_query *q, bt_segment_cb cb,
                            void *udata);

/**
 * The border segment nearest to @p p by geodesic distance to its line, with that
 * distance, optionally only among segments of one border.
 * @param border a border name, or NULL for any.
 * @param[out] id the segment's id.
 * @param[out] distance_m the geodesic distance (may be NULL).
 * @return ::BT_OK, ::BT_ERR_NOT_FOUND (no segment), ::BT_ERR_INVALID, ::BT_ERR_IO.
 */
BT_API int bt_segment_nearest(bt_store *store, bt_lonlat p, const char *border, int64_t *id,
                              double *distance_m);

/**
 * Memory held by the store's in-memory incident index, and the incidents it holds
 * (builds it if needed).
 * @param[out] bytes bytes of its arrays (may be NULL).
 * @param[out] incidents incidents indexed (may be NULL).
 */
BT_API int bt_index_stats(bt_store *store, size_t *bytes, size_t *incidents);

/** @} */

/* ------------------------------------------------------------------------- */
/* @@BT-SECTION: gazetteer (lib/model/gazetteer.c) @@ */
/** @name Gazetteer: finding places by name
 *
 * Analysts type place names as they can: "Sinuiju" for "Sinŭiju", "manpo" for
 * "Manp’o". Names are compared after *folding*, see bt_name_fold(). */
/** @{ */

/**
 * Folds a UTF-8 name for comparison, like snprintf:
 * - ASCII letters are lower-cased;
 * - Latin letters with diacritics become their base letter, from a static table that
 *   covers Latin-1 Supplement (U+00C0..U+00FF), Latin Extended-A (U+0100..U+017F),
 *   the pinyin caron and diaeresis letters (U+01CD..U+01DC: ǎ ǐ ǒ ǔ ǖ ǘ ǚ ǜ) and
 *   comma-below s/t (U+0218..U+021B); ligatures give two letters (æ→ae, œ→oe, ß→ss,
 *   þ→th, ĳ→ij). So McCune-Reischauer ŏ ŭ, pinyin ā é ǚ and é ü ñ ø all fold;
 * - combining marks (U+0300..U+036F, as in decomposed "u\u0306") are dropped;
 * - apostrophes (' ` ‘ ’ ʻ ʼ, the aspiration mark of "P’ungin") are dropped;
 * - '-', '_', '.', ',' and U+2010/U+2011 hyphens become a space; runs of white space
 *   become one space, and leading and trailing space is removed;
 * - any other character (Hangul, Chinese, Cyrillic, ...) is copied unchanged.
 * Example: "Musan-ŭp" → "musan up", "Ji’an" → "jian".
 * @param text the name, NUL-terminated UTF-8.
 * @param buf destination, may be NULL when @p size is 0; always NUL-terminated when
 *        @p size > 0.
 * @param size size of @p buf in bytes.
 * @return the length the full folded text needs, excluding the NUL (never more than
 *         strlen(text)); -1 if @p text is NULL or not valid UTF-8.
 */
BT_API int bt_name_fold(const char *text, char *buf, size_t size);

/**
 * Finds the one place a name designates. The folded @p name (bt_name_fold()) must
 * equal the folded name of exactly one place of the store. A trailing ", CC" with an
 * ISO 3166-1 alpha-2 country code ("Namsan, KP") restricts the match to that country.
 * On failure the message (bt_store_errmsg()) lists up to five closest candidates with
 * their countries and coordinates, e.g.
 * "no place named 'Hyesn'; closest: Hyesan (KP, 128.17778 41.40167), ...", or
 * "place name 'Namsan' is ambiguous: Namsan (KP, ...), Namsan (KR, ...); add ', CC'".
 * @param name the name as typed.
 * @param[out] out the place on success (free with bt_place_free()); NULL otherwise.
 * @return ::BT_OK; ::BT_ERR_NOT_FOUND (no place of that name); ::BT_ERR_INVALID (the
 *         name is ambiguous, empty, or not valid UTF-8); ::BT_ERR_NOMEM; ::BT_ERR_IO.
 */
BT_API int bt_place_lookup(bt_store *store, const char *name, bt_place **out);

/**
 * The places whose names are closest to @p name, best first: folded-equal names,
 * then names of which the folded query is a word prefix ("musan" for "Musan-ŭp"),
 * then by increasing edit distance (Levenshtein, on folded UTF-8 code points); ties
 * by name then id. Names further than half the query's length (at least 2 edits) are
 * left out, so an unrelated query gives no candidate.
 * @param name the name as typed (a ", CC" suffix restricts the country, as in
 *        bt_place_lookup()).
 * @param max the most places to return.
 * @param[out] out an array of @p n places, best first (NULL when n is 0); free with
 *        bt_place_array_free().
 * @param[out] n how many.
 * @return ::BT_OK (also when nothing is close), ::BT_ERR_INVALID, ::BT_ERR_NOMEM,
 *         ::BT_ERR_IO.
 */
BT_API int bt_place_search(bt_store *store, const char *name, size_t max, bt_place ***out,
                           size_t *n);

/** Frees an array from bt_place_search() and its places. NULL is a no-op. */
BT_API void bt_place_array_free(bt_place **places, size_t n);

/** @} */

/* ------------------------------------------------------------------------- */
/* @@BT-SECTION: border analysis (lib/analysis) @@ */
/** @name Border analysis: chainage, fence coverage and gaps, profile, clusters
 *
 * Measures along a border line. A border (all segments with one border name) is
 * loaded once with bt_border_open(), which orders its parts into a *main chain* and
 * gives every position along it a *chainage*: geodesic metres from the origin, with
 * the geodesic gaps between consecutive chain parts counted. Parts that are not on the
 * chain (island outlines, short spurs beside it) keep their own geometry: a point near
 * them is measured to them, and its chainage is that of its projection on the chain.
 * The exact rules are in docs/analysis.md. */
/** @{ */

/** A border loaded with its chainage and an index over its edges. Opaque; free with
 *  bt_border_free(). It holds no reference to the store it was read from. */
typedef struct bt_border bt_border;

/** Summary of a loaded border. */
typedef struct bt_border_info {
    size_t nparts;         /**< Segments of the border. */
    size_t nchain;         /**< How many of them form the main chain. */
    double parts_length_m; /**< Sum of the geodesic lengths of all parts. */
    double chain_parts_m;  /**< Sum of the geodesic lengths of the chain parts. */
    double gaps_m;         /**< Sum of the geodesic gaps between consecutive chain parts. */
    double length_m;       /**< Chainage of the far end: chain_parts_m + gaps_m. */
    bt_lonlat origin;      /**< Where chainage 0 is. */
    bt_lonlat end;         /**< Where chainage length_m is. */
} bt_border_info;

/** Side of the border line, looking in the direction of increasing chainage. For the
 *  PRK-CHN border of the sample data, with the default origin at the Yalu mouth,
 *  China is on the left and North Korea on the right. */
typedef enum bt_side {
    BT_SIDE_ON = 0,    /**< On the line (within 1 mm). */
    BT_SIDE_LEFT = 1,
    BT_SIDE_RIGHT = 2
} bt_side;

/** Where a point lies relative to a border. */
typedef struct bt_location {
    int64_t segment_id;    /**< The nearest segment (any part, chain or not). */
    double offset_m;       /**< Geodesic distance to that segment. */
    bt_lonlat foot;        /**< The nearest point of that segment. */
    double chainage_m;     /**< Chainage of the point's projection on the main chain. */
    double chain_offset_m; /**< Geodesic distance to the main chain (= offset_m when
                                the nearest segment is a chain part). */
    bt_side side;          /**< Side of the main chain at the projection, decided on
                                the chain joined across its gaps, with the
                                pseudo-normal at vertices (docs/analysis.md). */
} bt_location;

/**
 * Loads a border: all segments with that border name, its main chain and chainage.
 * @param border the border name, e.g. "PRK-CHN".
 * @param origin where chainage starts: the chain begins at the end of an open part
 *        nearest to this point. NULL: the westernmost such end (for PRK-CHN, the Yalu
 *        mouth).
 * @param[out] out the border; free with bt_border_free(). NULL on failure.
 * @return ::BT_OK, ::BT_ERR_NOT_FOUND (no segment has that border name),
 *         ::BT_ERR_INVALID, ::BT_ERR_NOMEM, ::BT_ERR_IO.
 */
BT_API int bt_border_open(bt_store *store, const char *border, const bt_lonlat *origin,
                          bt_border **out);

/** Frees a border from bt_border_open(). NULL is a no-op. */
BT_API void bt_border_free(bt_border *b);

/**
 * Summary figures of a loaded border.
 * @param[out] out receives them.
 * @return ::BT_OK, or ::BT_ERR_INVALID if an argument is NULL.
 */
BT_API int bt_border_info_get(const bt_border *b, bt_border_info *out);

/**
 * Locates a point relative to a border: nearest segment, geodesic offset, chainage
 * and side. Chainage is accurate to about 1e-4 of the distance to the line plus 1 cm;
 * the offset to about 1 mm (see docs/analysis.md).
 * @param[out] out the location.
 * @return ::BT_OK, or ::BT_ERR_INVALID (bad coordinate or NULL argument).
 */
BT_API int bt_border_locate(bt_store *store, const bt_border *b, bt_lonlat p,
                            bt_location *out);

/**
 * The point of the main chain at a chainage (clamped to 0..length); inside a gap
 * between two parts, on the geodesic joining them.
 * @return ::BT_OK, or ::BT_ERR_INVALID (chainage not finite, NULL argument).
 */
BT_API int bt_border_point_at(bt_store *store, const bt_border *b, double chainage_m,
                              bt_lonlat *out);

/** A chainage interval. */
typedef struct bt_chain_range {
    double from_m; /**< Start, metres of chainage. */
    double to_m;   /**< End, metres of chainage, >= from_m. */
} bt_chain_range;

/** Options of bt_border_coverage(); fill with bt_coverage_opts_init(). */
typedef struct bt_coverage_opts {
    unsigned kinds;          /**< Linear installation kinds counted, a mask of
                                  (1u << ::bt_install_kind). Default: fences. */
    unsigned point_kinds;    /**< Point installations for spacing figures. Default:
                                  guard posts. */
    int64_t as_of;           /**< Count what stands at this time. Default: INT64_MAX
                                  (every record whose status is a standing one). */
    int include_construction; /**< Non-zero: count ::BT_STATUS_UNDER_CONSTRUCTION as
                                  standing. Default 0. */
    double max_offset_m;     /**< An installation counts only where it lies within this
                                  geodesic distance of the border. Default 500. */
    double from_m;           /**< Start of the chainage range examined. Default 0. */
    double to_m;             /**< Its end. Default +inf (to the far end). */
    double min_gap_m;        /**< Report gaps at least this long. Default 0. */
    double step_m;           /**< Sampling step along fences. Default 25. */
    double incident_offset_m; /**< Incidents within this distance of the border count
                                  for the gaps. Default 5000. */
    int64_t incidents_from;  /**< Time window of those incidents (overlap with their
                                  interval): its start. Default INT64_MIN (none). */
    int64_t incidents_to;    /**< Its end. Default INT64_MAX (none). */
    int64_t since;           /**< An earlier date to compare with (new_m, enhanced_m,
                                  removed_m), or INT64_MIN for none (the default). */
} bt_coverage_opts;

/** Fills @p o with the defaults stated in ::bt_coverage_opts. */
BT_API void bt_coverage_opts_init(bt_coverage_opts *o);

/** An uncovered stretch of a border. */
typedef struct bt_gap {
    double from_m;            /**< Start of its chainage range. */
    double to_m;              /**< End of its chainage range. */
    double length_m;          /**< to_m - from_m. */
    const char *place_from;   /**< Nearest place to the point at from_m, or NULL if
                                   the store has no place. */
    double place_from_m;      /**< Its geodesic distance from that point. */
    const char *place_to;     /**< Nearest place to the point at to_m, or NULL. */
    double place_to_m;        /**< Its geodesic distance from that point. */
    double observed_m;        /**< Length of the gap covered by recorded observations
                                   (bt_obs_range_add()) dated up to as_of. */
    int unobserved;           /**< 1 when observed_m is 0: never observed, so absence
                                   of a fence in the data is not evidence of none. */
    size_t nincidents;        /**< Incidents that fell in the gap (see opts). */
    const int64_t *incident_ids; /**< Their ids, increasing. */
} bt_gap;

/** The result of bt_border_coverage(). One allocation, freed by bt_coverage_free(). */
typedef struct bt_coverage {
    double from_m;             /**< Start of the range examined, clamped to the border. */
    double to_m;               /**< End of the range examined, clamped to the border. */
    double length_m;           /**< to_m - from_m. */
    double covered_m;          /**< Length of the union of covered intervals. */
    double share;              /**< covered_m / length_m (0 if length_m is 0). */
    size_t ncounted;           /**< Linear installations standing as of as_of that
                                    cover some chainage. */
    size_t nintervals;         /**< The covered intervals, merged and increasing. */
    const bt_chain_range *intervals; /**< nintervals covered intervals. */
    double by_layer[4];        /**< Covered length per ::bt_fence_layer. */
    double by_material[9];     /**< Per ::bt_material. */
    double by_barbed[3];       /**< Per ::bt_yesno of `barbed`. */
    double by_status[6];       /**< Per ::bt_install_status. */
    size_t ngaps;              /**< Uncovered intervals at least min_gap_m long. */
    const bt_gap *gaps;        /**< ngaps gaps, by increasing chainage. */
    double gaps_m;             /**< Their total length. */
    double unobserved_m;       /**< Length of the gaps never observed. */
    size_t npoints;            /**< Point installations (point_kinds) in the range. */
    double points_per_km;      /**< npoints per km of length_m. */
    double max_spacing_m;      /**< Largest chainage spacing between consecutive
                                    points, counting the range ends (length_m if none). */
    double max_spacing_from_m; /**< Where that spacing starts. */
    double new_m;              /**< With opts.since: covered as of as_of but not as of
                                    since (fence on a stretch that had none). */
    double enhanced_m;         /**< With opts.since: covered at both dates, by at least
                                    one installation that did not stand at since (a
                                    new layer or a rebuilt fence on a fenced stretch). */
    double removed_m;          /**< With opts.since: covered at since, not at as_of. */
} bt_coverage;

/**
 * Fence coverage of a border as a union of chainage intervals, with its gaps,
 * breakdowns and point-installation spacing. Each linear installation of the kinds
 * asked that stands as of the date is sampled along its geodesic edges; the chainage
 * interval between two consecutive samples both within max_offset_m of the border is
 * covered (docs/analysis.md states the clipping rule).
 * @param opts the options, or NULL for the defaults.
 * @param[out] out the result; free with bt_coverage_free().
 * @return ::BT_OK, ::BT_ERR_INVALID, ::BT_ERR_NOMEM, ::BT_ERR_IO.
 */
BT_API int bt_border_coverage(bt_store *store, const bt_border *b,
                              const bt_coverage_opts *opts, bt_coverage **out);

/** Frees a result of bt_border_coverage(). NULL is a no-op. */
BT_API void bt_coverage_free(bt_coverage *c);

/** A chainage range of a border that an analyst observed (imagery, ground reports). */
typedef struct bt_obs_range {
    int64_t id;           /**< Set by the store. */
    const char *border;   /**< Border name. Required. */
    double from_m;        /**< Start of the chainage range, with the default origin. */
    double to_m;          /**< End of the chainage range, >= from_m. */
    bt_date when;         /**< When observed. Required (precision not NONE). */
    bt_observation by;    /**< How. */
    const char *note;     /**< Free text, or NULL. */
} bt_obs_range;

/**
 * Records an observed chainage range.
 * @param[out] id the new id (may be NULL).
 * @return ::BT_OK, ::BT_ERR_INVALID, ::BT_ERR_READONLY, ::BT_ERR_IO.
 */
BT_API int bt_obs_range_add(bt_store *store, const bt_obs_range *r, int64_t *id);

/** Deletes an observed range. ::BT_ERR_NOT_FOUND if no such id. */
BT_API int bt_obs_range_delete(bt_store *store, int64_t id);

/** Options of bt_border_profile(); fill with bt_profile_opts_init(). */
typedef struct bt_profile_opts {
    double bin_m;          /**< Bin size in metres. Default 1000. */
    int64_t from;          /**< Time window (overlap with the incident's interval): its
                                start. Default INT64_MIN (none). */
    int64_t to;            /**< Its end. Default INT64_MAX (none). */
    unsigned types;        /**< Mask of (1u << ::bt_incident_type); 0 = all. Default 0. */
    double max_offset_m;   /**< Incidents farther than this from the border are left
                                out. Default 20000. */
    size_t top_n;          /**< How many hotspots to report. Default 10. */
    const bt_query *query; /**< If not NULL, the incidents are those of this query
                                (bt_incident_query(): area, time, types, grades,
                                verification) and from, to and types above are
                                ignored; max_offset_m still applies. Default NULL. */
} bt_profile_opts;

/** Fills @p o with the defaults stated in ::bt_profile_opts. */
BT_API void bt_profile_opts_init(bt_profile_opts *o);

/** A bin with many incidents. */
typedef struct bt_hotspot {
    double from_m;         /**< Start of the bin (chainage). */
    double to_m;           /**< End of the bin. */
    size_t count;          /**< Incidents in it. */
    const char *place;     /**< Nearest place to the bin's middle, or NULL. */
    double place_m;        /**< Its distance from there. */
} bt_hotspot;

/** The result of bt_border_profile(). One allocation, freed by bt_profile_free(). */
typedef struct bt_profile {
    double bin_m;          /**< Bin size in metres. */
    size_t nbins;          /**< ceil(border length / bin_m), at least 1 (a length
                                within 1e-9 of a whole number of bins opens no extra
                                bin; the far end counts in the last bin). */
    const size_t *counts;  /**< counts[i]: incidents with chainage in
                                [i*bin_m, (i+1)*bin_m). */
    size_t total;          /**< Incidents counted in the bins. */
    size_t too_far;        /**< Incidents matching the filter inside the border's
                                lon/lat box grown by max_offset_m, but farther than
                                max_offset_m from the line (not counted in the bins). */
    size_t nhotspots;      /**< Non-empty bins by decreasing count (ties: lower
                                chainage first), at most top_n. */
    const bt_hotspot *hotspots; /**< nhotspots hotspots. */
} bt_profile;

/**
 * Incident counts in chainage bins along a border, and the top hotspots.
 * @param opts the options, or NULL for the defaults.
 * @param[out] out the result; free with bt_profile_free().
 */
BT_API int bt_border_profile(bt_store *store, const bt_border *b,
                             const bt_profile_opts *opts, bt_profile **out);

/** Frees a result of bt_border_profile(). NULL is a no-op. */
BT_API void bt_profile_free(bt_profile *p);

/** An incident located on a border, from the stored chainage. */
typedef struct bt_chainage_hit {
    int64_t incident_id;   /**< The incident. */
    int64_t segment_id;    /**< Nearest segment (any part). */
    double chainage_m;     /**< From the border's default origin. */
    double offset_m;       /**< Geodesic distance to that segment. */
    bt_side side;          /**< Side of the main chain (default origin). */
    bt_lonlat where;       /**< The incident's point. */
} bt_chainage_hit;

/** Called for each incident of bt_incidents_by_chainage(); return non-zero to stop. */
typedef int (*bt_chainage_cb)(const bt_chainage_hit *hit, void *udata);

/**
 * The incidents within @p max_offset_m of a border whose chainage lies in
 * [from_m, to_m], in increasing chainage (ties: increasing id), read from the stored
 * chainage: one indexed range scan. The store keeps, for every incident and
 * installation within 50 km (by lon/lat box) of a border, its chainage, offset and
 * side; records added or changed since the last read, and borders whose segments
 * changed, are brought up to date first (so the store must be writable unless
 * nothing changed since). Chainage is from the border's default origin, so @p b must
 * have been opened with origin NULL, and from the store's current segments.
 * @param max_offset_m at most 50,000.
 * @return ::BT_OK (also when @p cb stopped), ::BT_ERR_INVALID (NULL argument, a range
 *         not finite or reversed, max_offset_m out of range, @p b opened with another
 *         origin or older than the store's segments), ::BT_ERR_READONLY (the stored
 *         values need updating and the store is read-only), ::BT_ERR_SCHEMA (no
 *         stored chainage in this store), ::BT_ERR_NOMEM, ::BT_ERR_IO.
 */
BT_API int bt_incidents_by_chainage(bt_store *store, const bt_border *b, double from_m,
                                    double to_m, double max_offset_m, bt_chainage_cb cb,
                                    void *udata);

/** Options of bt_incident_clusters(); fill with bt_cluster_opts_init(). */
typedef struct bt_cluster_opts {
    double eps_m;          /**< Neighbourhood radius, geodesic metres. Default 2000. */
    int64_t window_s;      /**< Neighbourhood in time: |start difference| <= this.
                                Default 30 days. */
    size_t min_pts;        /**< Neighbours (counting the point) for a core point.
                                Default 3. */
    bt_bbox box;           /**< Incidents in this box. Default: the whole world. */
    int64_t from;          /**< Time window (overlap): its start. Default INT64_MIN (none). */
    int64_t to;            /**< Its end. Default INT64_MAX (none). */
    unsigned types;        /**< Mask of (1u << ::bt_incident_type); 0 = all. */
    const bt_query *query; /**< If not NULL, the incidents are those of this query
                                (bt_incident_query()) and box, from, to and types above
                                are ignored. Default NULL. */
} bt_cluster_opts;

/** Fills @p o with the defaults stated in ::bt_cluster_opts. */
BT_API void bt_cluster_opts_init(bt_cluster_opts *o);

/** The result of bt_incident_clusters(). One allocation, freed by
 *  bt_clusters_free(). */
typedef struct bt_clusters {
    size_t n;                /**< Incidents examined. */
    const int64_t *ids;      /**< Their ids, increasing. */
    const long *labels;      /**< labels[i]: cluster 1..nclusters of ids[i], 0 = noise. */
    size_t nclusters;        /**< Number of clusters. */
} bt_clusters;

/**
 * Space-time DBSCAN over incidents: two incidents are neighbours when their points are
 * within eps_m (geodesic) and their start times within window_s. Clusters are numbered
 * in the order of their first incident id.
 * @param opts the options, or NULL for the defaults.
 * @param[out] out the result; free with bt_clusters_free().
 */
BT_API int bt_incident_clusters(bt_store *store, const bt_cluster_opts *opts,
                                bt_clusters **out);

/** Frees a result of bt_incident_clusters(). NULL is a no-op. */
BT_API void bt_clusters_free(bt_clusters *c);

/** What kind of act an intervention is. Stored by its snake_case name
 *  (bt_enum_name() with ::BT_ENUM_INTERVENTION_KIND): "closure", "order",
 *  "fence_programme", "deployment", "other". */
typedef enum bt_intervention_kind {
    BT_INTERVENTION_CLOSURE = 0,         /**< The border closed to traffic and trade (e.g.
                                              January 2020). */
    BT_INTERVENTION_ORDER = 1,           /**< An order or rule: a buffer zone, a
                                              shoot-on-sight order (25 August 2020). */
    BT_INTERVENTION_FENCE_PROGRAMME = 2, /**< A campaign of fence or wall building. */
    BT_INTERVENTION_DEPLOYMENT = 3,      /**< More guards, troops, patrols or cameras. */
    BT_INTERVENTION_OTHER = 4
} bt_intervention_kind;

/**
 * A dated act that applies to a border (optionally a chainage range of it) or to an
 * area: the treatment of bt_border_before_after() (::bt_before_after_opts
 * intervention_id). Exactly one of `border` and `area` is given.
 * When returned by the library, one allocation freed by bt_intervention_free().
 */
typedef struct bt_intervention {
    int64_t id;                 /**< Set by the store. */
    const char *ref;            /**< External reference, unique, or NULL. */
    const char *name;           /**< e.g. "Shoot-on-sight order". Required. */
    bt_intervention_kind kind;  /**< What kind of measure it is. */
    bt_date start;              /**< When it took effect. Required (precision not NONE). */
    bt_date end;                /**< When it ended; optional; not before start. */
    const char *summary;        /**< Free text, or NULL. */
    const char *citation;       /**< Where it is documented (a public notice, an
                                     article), or NULL. Not a ::bt_source: an
                                     intervention is a public act. */
    const char *border;         /**< The border it applies to (e.g. "PRK-CHN"), or NULL
                                     for an area. The border must have a segment. */
    double from_m;              /**< With a border: the start of the chainage range it
                                     applies to, from the border's default origin;
                                     0 <= from_m < to_m. Default 0. Must stay 0 with
                                     an area. */
    double to_m;                /**< The end of that range; INFINITY (the default): to
                                     the far end. Must stay INFINITY with an area. */
    const bt_lonlat *area;      /**< With no border: the area, a polygon's closed ring
                                     in lon/lat (at least 4 vertices, first == last,
                                     edges straight in lon/lat, not crossing the
                                     antimeridian). NULL with a border. */
    size_t narea;               /**< Vertices of area. */
} bt_intervention;

/** Fills @p iv with defaults: kind other, no dates, no text, no border or area,
 *  chainage range 0 .. INFINITY. */
BT_API void bt_intervention_init(bt_intervention *iv);
/**
 * Adds an intervention.
 * @param[out] id the new id (may be NULL).
 * @return ::BT_OK, ::BT_ERR_INVALID (a bad field: the message names it),
 *         ::BT_ERR_NOT_FOUND (no segment has that border name), ::BT_ERR_EXISTS (the
 *         ref is taken), ::BT_ERR_READONLY, ::BT_ERR_NOMEM, ::BT_ERR_IO.
 */
BT_API int bt_intervention_add(bt_store *store, const bt_intervention *iv, int64_t *id);
/** Reads an intervention. Free with bt_intervention_free(). ::BT_ERR_NOT_FOUND if no
 *  such id. */
BT_API int bt_intervention_get(bt_store *store, int64_t id, bt_intervention **out);
/** Finds an intervention's id by its ref. ::BT_ERR_NOT_FOUND if none. */
BT_API int bt_intervention_find(bt_store *store, const char *ref, int64_t *id);
/** Replaces every field of intervention `iv->id` (checked as by bt_intervention_add()).
 *  ::BT_ERR_NOT_FOUND if no such id. */
BT_API int bt_intervention_update(bt_store *store, const bt_intervention *iv);
/** Deletes an intervention. ::BT_ERR_NOT_FOUND if no such id. */
BT_API int bt_intervention_delete(bt_store *store, int64_t id);
/** Frees an intervention returned by the library. NULL is a no-op. */
BT_API void bt_intervention_free(bt_intervention *iv);
/**
 * Lists interventions in increasing start time (ties: increasing id), all read from one
 * snapshot of the store (a commit by another connection meanwhile is wholly in or out).
 * @param border NULL: all; else only those that apply to this border by name (area
 *        interventions are not listed then).
 * @param[out] out an array of @p n interventions (NULL when n is 0); free with
 *        bt_intervention_array_free().
 * @param[out] n how many.
 * @return ::BT_OK, ::BT_ERR_INVALID, ::BT_ERR_NOMEM, ::BT_ERR_IO.
 */
BT_API int bt_intervention_list(bt_store *store, const char *border, bt_intervention ***out,
                                size_t *n);
/** Frees an array from bt_intervention_list() and its interventions. NULL is a no-op. */
BT_API void bt_intervention_array_free(bt_intervention **ivs, size_t n);

/** Options of bt_border_before_after(); fill with bt_before_after_opts_init(). */
typedef struct bt_before_after_opts {
    int64_t installation_id; /**< The intervention is this installation: the treated
                                  stretch is the chainage it covers (within
                                  max_offset_m) and t0 defaults to its start date.
                                  0: use from_m..to_m and t0. Default 0. */
    double from_m;           /**< Start of the treated stretch when neither an
                                  installation nor an intervention is given. */
    double to_m;             /**< Its end. */
    int64_t t0;              /**< The intervention date (e.g. the closure of January
                                  2020). INT64_MIN: the installation's start date. */
    int64_t window_s;        /**< Length of each of the two windows, before
                                  [t0 - window_s, t0) and after [t0, t0 + window_s).
                                  Default 365 days. */
    double max_offset_m;     /**< Installations and incidents count within this
                                  distance of the border. Default 2000. */
    unsigned types;          /**< Incident types, a mask of (1u << ::bt_incident_type);
                                  0 = all. Default 0. */
    unsigned fence_kinds;    /**< Kinds that make a stretch "fenced" for the control.
                                  Default: fences and walls. */
    int64_t intervention_id; /**< The intervention is this stored ::bt_intervention
                                  (installation_id must be 0): the treated stretch is
                                  its chainage range of the border (the whole border
                                  when none is given; the border must be @p b), or for
                                  an area the chainage intervals of @p b's main chain
                                  inside its polygon; t0 defaults to its start.
                                  0: none. Default 0. */
} bt_before_after_opts;

/** Fills @p o with the defaults stated in ::bt_before_after_opts. */
BT_API void bt_before_after_opts_init(bt_before_after_opts *o);

/** Incidents of one stretch in the two windows. */
typedef struct bt_ba_counts {
    double length_m;         /**< Length of the stretch (chainage). */
    size_t before;           /**< Incidents whose start falls in the window before. */
    size_t after;            /**< Incidents whose start falls in the window after. */
    double rate_before;      /**< before / km / month (a month = 30.4375 days); NaN
                                  when length_m is 0. */
    double rate_after;       /**< after / km / month; NaN when length_m is 0. */
} bt_ba_counts;

/** The result of bt_border_before_after(). Plain data; no free needed. */
typedef struct bt_before_after {
    int64_t t0;              /**< The intervention date used. */
    int64_t window_s;        /**< Length of each window, seconds. */
    double months;           /**< Length of each window in months. */
    bt_ba_counts treated;    /**< The stretch of the intervention. */
    bt_ba_counts control;    /**< Every other stretch of the border that no fence of
                                  fence_kinds covered at t0 - window_s nor at
                                  t0 + window_s (unfenced throughout). */
    double diff_treated;     /**< treated.rate_after - treated.rate_before. */
    double diff_control;     /**< control.rate_after - control.rate_before. */
    double did;              /**< Difference in differences: diff_treated -
                                  diff_control (incidents / km / month); NaN when
                                  control_empty. */
    int control_empty;       /**< 1 when no control stretch remains (a border-wide
                                  intervention, or a border fenced everywhere else):
                                  control.length_m is 0 and the control rates,
                                  diff_control and did are NaN, not a number to use.
                                  The treated figures stand. */
} bt_before_after;

/**
 * Before and after an intervention along a border, against unfenced stretches as a
 * control (difference in differences). The counts and lengths the rates rest on are
 * in the result so that their weight can be judged: a handful of incidents gives a
 * rate that means little.
 * @param opts the options (required: an installation, a stored intervention, or a
 *        stretch and t0).
 * @param[out] out the result.
 * @return ::BT_OK, ::BT_ERR_INVALID (no stretch or no date; both an installation and
 *         an intervention; an intervention of another border, or whose area does not
 *         meet @p b's main chain, or with a chainage range on @p b opened with another
 *         origin), ::BT_ERR_NOT_FOUND (no such installation or intervention),
 *         ::BT_ERR_NOMEM, ::BT_ERR_IO.
 */
BT_API int bt_border_before_after(bt_store *store, const bt_border *b,
                                  const bt_before_after_opts *opts, bt_before_after *out);

/** @} */


#ifdef __cplusplus
}
#endif

#endif /* BORDERTRACK_H */
