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
    BT_ERR_INTERNAL = 14,   /**< A bug or an unexpected library failure. */
    BT_ERR_CONSTRAINT = 15  /**< The change would break a reference (e.g. a linked source). */
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
    double west, south, east, north;
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
    int64_t t;
    bt_time_precision precision;
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
    BT_LAYER_UNKNOWN = 0,
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
    BT_STATUS_UNDER_CONSTRUCTION = 1,
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
    BT_ENUM_SOURCE_TYPE
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
 * @return ::BT_OK, or ::BT_ERR_INVALID if a coordinate is not finite or out of range.
 */
BT_API int bt_geod_distance(bt_lonlat a, bt_lonlat b, double *metres);

/**
 * Geodesic length of a polyline on WGS 84, the sum of its edges.
 * @param points the vertices.
 * @param n how many (0 or 1 give 0 m).
 * @param[out] metres the length.
 * @return ::BT_OK, or ::BT_ERR_INVALID on a bad coordinate.
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
    int64_t segments, installations, incidents, sources, links, places;
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
/** Replaces every field of segment `seg->id`. ::BT_ERR_NOT_FOUND if no such id. */
BT_API int bt_segment_update(bt_store *store, const bt_segment *seg);
/** Deletes a segment. ::BT_ERR_NOT_FOUND if no such id. */
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
    bt_install_kind kind;
    bt_fence_layer layer;      /**< Fences and walls; ::BT_LAYER_UNKNOWN otherwise. */
    bt_material material;
    bt_yesno barbed;
    bt_yesno electrified;
    double height_m;           /**< Height in metres; NaN if unknown. */
    const char *post_material; /**< e.g. "wooden stakes", or NULL. */
    bt_quality quality;
    bt_permanence permanence;
    bt_install_status status;
    bt_date start;             /**< When it took that status; optional. */
    bt_date end;               /**< Until when; optional; not before start. */
    const char *condition;     /**< Free text, e.g. "sways in the wind", or NULL. */
    bt_observation observed_by;
    int64_t source_id;         /**< Source of the observation, 0 if none. */
    int credibility;           /**< Information credibility 1..6 of that report, 0 if none. */
    const bt_lonlat *points;   /**< 1 vertex: a Point; 2 or more: a LineString. */
    size_t npoints;
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
    bt_incident_type type;
    bt_lonlat where;                 /**< The reported point. */
    double uncertainty_m;            /**< Radius of location uncertainty, >= 0. */
    bt_loc_precision loc_precision;
    int64_t start;                   /**< Start of the occurrence interval. */
    int64_t end;                     /**< End, >= start, or ::BT_TIME_OPEN. */
    bt_time_precision time_precision; /**< Precision of start/end (not NONE). */
    bt_date reported;                /**< When it was first reported; optional. */
    const char *summary;             /**< Free text, or NULL. */
    bt_verification verification;
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
    bt_source_type type;
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
    int64_t incident_id;
    int64_t source_id;
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
    bt_lonlat where;
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

/* ------------------------------------------------------------------------- */
/* @@BT-SECTION: query API and index (lib/query, lib/index) @@ */

/* ------------------------------------------------------------------------- */
/* @@BT-SECTION: border analysis (lib/analysis) @@ */

#ifdef __cplusplus
}
#endif

#endif /* BORDERTRACK_H */
