/**
 * @file cli.h
 * @brief Shared declarations of the `bordertrack` command-line tool: exit codes,
 * filters, output writers, the progress bar, the map projection and the commands.
 *
 * The tool uses only the public API (include/bordertrack.h). Exit status: 0 success,
 * 1 runtime error, 2 usage error. Data goes to stdout, messages to stderr.
 */
#ifndef BTCLI_H
#define BTCLI_H

#include "bordertrack.h"

#include <stdio.h>

/** Exit statuses. */
enum { BTCLI_OK = 0, BTCLI_FAIL = 1, BTCLI_USAGE = 2 };

/* ---- argument parsing (args.c): pure functions, no I/O --------------------- */

/** How an incident's uncertainty circle is matched against an area. */
typedef enum btcli_match {
    BTCLI_MATCH_POINT = 0,    /**< the reported point is inside (default) */
    BTCLI_MATCH_POSSIBLE = 1, /**< the circle touches the area */
    BTCLI_MATCH_CERTAIN = 2   /**< the circle lies wholly inside */
} btcli_match;

/** The FILTERS options, as parsed (a place name is resolved later, with the store). */
typedef struct btcli_filters {
    const char *near;        /**< --near text (place name or LON,LAT), or NULL */
    int near_is_point;       /**< the text was LON,LAT */
    bt_lonlat near_pt;       /**< the point when near_is_point */
    double radius_m;         /**< --radius, metres; < 0 if not given */
    int has_bbox;            /**< --bbox given */
    bt_bbox bbox;            /**< W,S,E,N */
    const char *within;      /**< --within polygon file, or NULL */
    int has_from, has_to;    /**< --from / --to given */
    int64_t from, to;        /**< first second of --from, last second of --to */
    bt_time_precision from_prec, to_prec;
    const char *from_text, *to_text; /**< as typed, for titles */
    unsigned types;          /**< mask of (1u << bt_incident_type); 0 = all */
    char min_reliability;    /**< 'A'..'F', or 0 for none */
    int min_credibility;     /**< 1..6, or 0 for none */
    btcli_match match;       /**< --match */
} btcli_filters;

/** Fills @p f with "no filter". */
void btcli_filters_init(btcli_filters *f);

/**
 * Parses the FILTERS options out of an argument vector. Every argument that is not a
 * filter option (or its value) is copied, in order, to @p rest. Pure: no I/O, no
 * allocation, no store; the fuzzing entry point of the CLI's option parsing.
 * @param argc number of arguments in @p argv.
 * @param argv the arguments (not modified; the pointers are kept in @p f and @p rest).
 * @param[out] f the filters (initialised by this function).
 * @param[out] rest receives the other arguments; room for @p argc pointers.
 * @param[out] nrest how many went to @p rest.
 * @param err receives a one-line message on failure.
 * @param errsize size of @p err.
 * @return 0, or -1 on a usage error (bad value, unknown type, two areas...).
 */
int btcli_parse_filters(int argc, char **argv, btcli_filters *f, char **rest, int *nrest,
                        char *err, size_t errsize);

/** Parses a distance with a unit ("500m", "5km", "2.5 km"): 0 and metres, or -1. */
int btcli_parse_dist(const char *text, double *metres);
/** Parses "LON,LAT" (decimal degrees, in range): 0, or -1. */
int btcli_parse_lonlat(const char *text, bt_lonlat *out);
/** Parses "W,S,E,N": 0, or -1. */
int btcli_parse_bbox(const char *text, bt_bbox *out);
/** Parses "WxH" (each 16..20000): 0, or -1. */
int btcli_parse_size(const char *text, int *w, int *h);
/** Parses a non-negative integer within [lo, hi]: 0, or -1. */
int btcli_parse_long(const char *text, long lo, long hi, long *out);
/** Parses a comma-separated list of incident types into a mask: 0, or -1 with the
 *  offending name written to @p bad. */
int btcli_parse_types(const char *text, unsigned *mask, char *bad, size_t badsize);

/**
 * Matches an option that takes a value, in the forms "--name VALUE" and
 * "--name=VALUE". On a match advances *i past the value.
 * @return 1 matched (*value set), 0 not this option, -1 the value is missing.
 */
int btcli_opt_value(int argc, char **argv, int *i, const char *name, const char **value);

/* ---- output (output.c) ------------------------------------------------------ */

/** Output formats of record-printing commands. */
typedef enum btcli_format { BTCLI_TABLE = 0, BTCLI_CSV = 1, BTCLI_GEOJSON = 2 } btcli_format;

/** Parses "table", "csv" or "geojson": 0, or -1. */
int btcli_parse_format(const char *text, btcli_format *out);

/** Column kinds, for JSON types and table alignment. */
typedef enum btcli_col { BTCLI_STR = 0, BTCLI_NUM = 1 } btcli_col;

/** A record writer: table (buffered, aligned), CSV (RFC 4180) or GeoJSON. */
typedef struct btcli_out {
    btcli_format format;
    FILE *fp;
    size_t ncols;
    const char *const *names;
    const btcli_col *kinds;
    char **cells; /* table: buffered rows, ncols per row */
    size_t nrows, cap;
    size_t nfeatures;
    int failed; /* out of memory or a write error */
} btcli_out;

/** Starts a listing with the given columns (kept by pointer). */
void btcli_out_begin(btcli_out *o, btcli_format format, FILE *fp, size_t ncols,
                     const char *const *names, const btcli_col *kinds);
/** One record. values[i] may be NULL (empty / null). geometry is a GeoJSON geometry
 *  object text, or NULL (null geometry). */
void btcli_out_row(btcli_out *o, const char *const *values, const char *geometry);
/** Ends the listing (prints the table, closes the FeatureCollection).
 *  @return 0, or -1 if writing failed. */
int btcli_out_end(btcli_out *o);

/** Writes @p s as a CSV field (quoted when needed, quotes doubled). */
void btcli_csv_field(FILE *fp, const char *s);
/** Writes @p s as a JSON string literal with its quotes. */
void btcli_json_string(FILE *fp, const char *s);

/** Formats a number with up to @p decimals decimals, trailing zeros removed. */
void btcli_fmt_num(char *buf, size_t size, double v, int decimals);
/** Formats a time at a precision ("" for none, "open" for BT_TIME_OPEN). */
void btcli_fmt_time(char *buf, size_t size, int64_t t, bt_time_precision p);

/* ---- progress bar (progress.c) -------------------------------------------- */

/** A progress bar on stderr, drawn only when stderr is a terminal. */
typedef struct btcli_progress {
    int enabled;
    int tty;           /* stderr is a terminal */
    int adopt;         /* started without a total: take the library's */
    const char *label;
    double total;
    double offset;     /* added to what btcli_progress_fn() reports (import: the
                          bytes of the files before this one) */
    int last_permille; /* last drawn, to redraw only on change */
} btcli_progress;

/** Starts a bar; a total of 0 keeps it hidden until one is known. */
void btcli_progress_start(btcli_progress *p, const char *label, double total);
void btcli_progress_update(btcli_progress *p, double done);
void btcli_progress_finish(btcli_progress *p);
/** Erases the bar before a message; the next update draws it again. */
void btcli_progress_clear(btcli_progress *p);
/** A ::bt_progress_fn for bt_import_options / bt_export_options, udata a
 *  btcli_progress: draws offset + done. A bar started with total 0 takes the
 *  library's total as its own (the export's record count). Never cancels. */
int btcli_progress_fn(uint64_t done, uint64_t total, void *udata);

/* ---- transverse Mercator (tmerc.c) ---------------------------------------- */

/** A transverse Mercator projection on the WGS 84 ellipsoid, centred on a meridian. */
typedef struct btcli_tmerc {
    double lon0, lat0; /* centre, degrees */
    double y0;         /* northing of lat0 on the central meridian, metres */
} btcli_tmerc;

void btcli_tmerc_init(btcli_tmerc *t, double lon0, double lat0);
/** Projects lon/lat (degrees) to x east, y north in metres from the centre. */
void btcli_tmerc_fwd(const btcli_tmerc *t, double lon, double lat, double *x, double *y);
/** The inverse (round trip within 3e-9 degree, 0.3 mm, up to 350 km from the
 *  centre). */
void btcli_tmerc_inv(const btcli_tmerc *t, double x, double y, double *lon, double *lat);

/* ---- shared helpers (common.c) ---------------------------------------------- */

/** Opens a store, printing the error on failure. @return NULL on failure. */
bt_store *btcli_open(const char *path, unsigned flags);
/** Prints "bordertrack CMD: what: errmsg (strerror)" for a library failure. */
void btcli_lib_error(const char *cmd, bt_store *s, int rc, const char *what);
/** Prints "bordertrack CMD: message" then "Try 'bordertrack CMD --help'." */
void btcli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/** Resolves the --near of @p f (place name or point). @return 0, or 1 after printing. */
int btcli_resolve_near(const char *cmd, bt_store *s, const btcli_filters *f, bt_lonlat *out,
                       char *label, size_t labelsize);
/** True if the argument is "-h" or "--help". */
int btcli_is_help(const char *arg);

/* ---- incident selection (select.c) ---------------------------------------- */

/** Receives one selected incident (valid during the call) and its geodesic distance
 *  from the --near centre (NaN without --near). Return non-zero to stop. */
typedef int (*btcli_inc_cb)(const bt_incident *inc, double dist_m, void *udata);

/** Where the selection was centred, for titles and distances. */
typedef struct btcli_selection {
    int has_centre;
    bt_lonlat centre;
    char centre_label[128];
} btcli_selection;

/**
 * Builds the library query of the filters, resolving --near (printing the error) and
 * reading the --within polygon into @p wkt (the caller frees it; q->wkt points to it).
 * @return an exit status.
 */
int btcli_build_query(const char *cmd, bt_store *s, const btcli_filters *f,
                      btcli_selection *sel, bt_query *q, char **wkt);

/**
 * Delivers the incidents that pass the filters (bt_incident_query), in increasing id
 * order.
 * @return an exit status (errors already printed).
 */
int btcli_select(const char *cmd, bt_store *s, const btcli_filters *f, btcli_selection *sel,
                 btcli_inc_cb cb, void *udata);

/** Reads a --within file (GeoJSON Polygon/MultiPolygon or WKT) as WKT text to free(),
 *  or NULL with a message in @p err. */
char *btcli_read_polygon(const char *path, char *err, size_t errsize);

/** The incident CSV/GeoJSON columns (ref first). */
#define BTCLI_INC_NCOLS 13
extern const char *const btcli_inc_cols[BTCLI_INC_NCOLS];
extern const btcli_col btcli_inc_kinds[BTCLI_INC_NCOLS];
/** Formats an incident into the BTCLI_INC_NCOLS cells (buf holds the text) and its
 *  GeoJSON geometry. */
void btcli_inc_cells(const bt_incident *inc, char buf[BTCLI_INC_NCOLS][96],
                     const char *cells[BTCLI_INC_NCOLS], char *geom, size_t geomsize);

/* ---- the commands: each returns an exit status ----------------------------- */
int btcli_cmd_init(int argc, char **argv);
int btcli_cmd_import(int argc, char **argv);
int btcli_cmd_export(int argc, char **argv);
int btcli_cmd_stats(int argc, char **argv);
int btcli_cmd_query(int argc, char **argv);
int btcli_cmd_nearest(int argc, char **argv);
int btcli_cmd_locate(int argc, char **argv);
int btcli_cmd_coverage(int argc, char **argv);
int btcli_cmd_profile(int argc, char **argv);
int btcli_cmd_plot(int argc, char **argv);

#endif /* BTCLI_H */
