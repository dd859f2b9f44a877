/**
 * @file io.h
 * @brief Internals of data exchange (lib/io): the format-neutral feature that the
 * GeoJSON and CSV readers hand to the record builders, the byte reader with line and
 * column tracking, and the small text buffer the writers share.
 *
 * Flow of an import: import.c opens a reader and a transaction, the format's parser
 * (import_json.c, import_csv.c) cuts the input into features one at a time, and
 * records.c turns each feature into a record of the chosen table and adds it. Nothing
 * larger than one feature is ever held in memory.
 */
#ifndef BT_IO_H
#define BT_IO_H

#include "core/internal.h"
#include "geo/geo.h"

#include <stdio.h>

/* ---- byte reader (reader.c) ---------------------------------------------- */

/** A window on the input: the whole buffer for memory input, a sliding window of
 *  chunks for a file. Offsets are absolute (from the start of the input). */
typedef struct bt__reader {
    FILE *fp;          /* NULL for memory input */
    const char *data;  /* the bytes of the window: mem input, or buf */
    char *buf;         /* file input: owned window buffer */
    size_t cap;        /* capacity of buf */
    size_t len;        /* bytes valid in the window */
    size_t base;       /* absolute offset of data[0] */
    bool eof;          /* no more bytes beyond the window */
    /* Position bookkeeping: line and column (1-based, in characters) of absolute
     * offset mark_off, which is inside or at the end of the window. */
    size_t mark_off;
    long mark_line, mark_col;
    bool io_error;     /* a read failed (errno kept in io_errno) */
    int io_errno;
} bt__reader;

/** Reads the next chunk, keeping the bytes from absolute offset @p keep_from on (the
 *  window slides forward to it). Returns the number of new bytes (0 at the end or on
 *  a read error, see io_error), or -1 on out-of-memory. */
long bt__reader_more(bt__reader *r, size_t keep_from);
/** Line and column of absolute offset @p off (not before the mark). Moves the mark
 *  there when @p advance, so that later look-ups are cheap. */
void bt__reader_pos(bt__reader *r, size_t off, bool advance, long *line, long *col);

/* ---- the feature handed from a parser to the record builders -------------- */

/** Kind of a property value. */
enum bt__vkind { BT__V_ABSENT = 0, BT__V_NULL, BT__V_STRING, BT__V_NUMBER, BT__V_BOOL,
                 BT__V_OTHER /* an array or object */ };

/** One property value; its strings stay valid while the feature is processed. */
typedef struct bt__val {
    enum bt__vkind kind;
    const char *str; /* text of a string, number or bool ("true"/"false") */
    double num;      /* BT__V_NUMBER */
    bool b;          /* BT__V_BOOL */
    void *json;      /* BT__V_OTHER from GeoJSON: the json_object */
} bt__val;

/** Geometry types a feature may carry. */
enum bt__gtype { BT__G_NONE = 0, BT__G_POINT, BT__G_LINE, BT__G_MULTILINE,
                 BT__G_POLYGON /* the exterior ring only (holes are refused) */ };

struct bt__feature;
/** Looks up a property; an empty CSV field is BT__V_ABSENT. */
typedef void (*bt__getter)(struct bt__feature *f, const char *key, bt__val *out);
/** Finds where a property's value is in the input, for messages. */
typedef void (*bt__locator)(struct bt__feature *f, const char *key, long *line,
                            long *col);

typedef struct bt__feature {
    long number;           /* 1-based feature (CSV: data row) number */
    long line, column;     /* where it starts (column 0: not known, CSV) */
    size_t end_off;        /* absolute offset just past it in the input (progress) */
    bool csv;              /* say "row" and "column" in messages */
    bt__getter get;
    bt__locator locate;
    void *impl;            /* the parser's state */
    bt__val id;            /* GeoJSON feature "id", or absent */
    enum bt__gtype gtype;
    bt_lonlat *pts;        /* all vertices, parts one after the other */
    size_t npts;
    size_t *part_end;      /* end index in pts of each part (MultiLineString) */
    size_t nparts;         /* 1 for Point and LineString, 0 without geometry */
    size_t pts_cap, parts_cap;
} bt__feature;

/** Appends a vertex to f->pts (growing it). BT_OK or BT_ERR_NOMEM. */
int bt__feature_push(bt__feature *f, double x, double y);
/** Ends the current part at the current vertex count. BT_OK or BT_ERR_NOMEM. */
int bt__feature_end_part(bt__feature *f);
/** Frees the feature's arrays. */
void bt__feature_free_arrays(bt__feature *f);

/* ---- an import in progress (import.c) ------------------------------------- */

struct bt__seqctr; /* per-border running seq counters (records.c) */

/** Sources remembered by name during one import. */
#define BT__SRC_CACHE 8

typedef struct bt__import {
    bt_store *s;
    const char *name;            /* file name for messages */
    bt_import_options opt;
    bt_import_report rep;
    bt__crs *crs;                /* the transform in use, NULL for WGS 84 */
    bool features_started;       /* a feature was processed (crs is fixed then) */
    struct bt__seqctr *seqs;     /* border -> next seq */
    GEOSWKTReader *wkt;          /* created on first use (CSV wkt column) */
    struct {
        char *name;
        int64_t id;
    } srcs[BT__SRC_CACHE];       /* source name -> id, so that most features need no
                                    look-up; cleared when a feature is rolled back */
    unsigned srcs_next;          /* round-robin slot */
    char *scratch;               /* reusable text buffer for names */
    size_t scratch_cap;
    const char *fail_field;      /* field of the last failure */
    long fail_line, fail_col;
    uint64_t size;               /* input size in bytes for progress, 0 if unknown */
    uint64_t done;               /* last progress reported */
    bool no_fast;                /* GeoJSON: json-c for every feature (tests compare) */
    long nfast;                  /* GeoJSON features the fast path read */
} bt__import;

/** Processes one parsed feature: transforms its coordinates, builds the record of the
 *  import's table and adds it; with skip_invalid, a bad feature is reported and
 *  skipped (returns BT_OK). Any other non-zero return ends the import. */
int bt__import_feature(bt__import *im, bt__feature *f);
/** For a feature the parser rejected before bt__import_feature (not an object, bad
 *  geometry): skips it under skip_invalid, else returns @p rc. */
int bt__import_feature_failed(bt__import *im, bt__feature *f, int rc);
/** BT_OK while the import's SQLite transaction is open; BT_ERR_IO (with a message)
 *  once SQLite has rolled it back by itself after an absorbed failure. */
int bt__import_check_txn(bt__import *im, const bt__feature *f);
/** Sets the CRS from a GeoJSON crs member's name (unless the caller named one). */
int bt__import_set_file_crs(bt__import *im, const char *name, long line, long col);
/** Reports an error that is not about one feature's fields: "<file>: line L, column
 *  C: <message>" (col 0 leaves out the column). Returns @p code. */
int bt__import_error_at(bt__import *im, int code, long line, long col, const char *fmt,
                        ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
/** Reports an error about feature @p f: "<file>: feature N (line L, column C):
 *  <message>", locating @p field when given. Returns @p code. */
int bt__import_fail(bt__import *im, bt__feature *f, const char *field, int code,
                    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/** bt_import_mem() with the GeoJSON fast path off (@p fast false): every feature is
 *  parsed by json-c, so tests can check that both ways give the same result. @p nfast
 *  (may be NULL) receives the number of features the fast path read. */
int bt__import_mem_ex(bt_store *store, const char *data, size_t len, const char *name,
                      const bt_import_options *opt, bt_import_report *report, bool fast,
                      long *nfast);

/** The parsers: read every feature from @p r and call bt__import_feature(). */
int bt__import_geojson(bt__import *im, bt__reader *r);
int bt__import_csv(bt__import *im, bt__reader *r);

/** Builds and adds the record of feature @p f for the import's table (records.c). */
int bt__records_add(bt__import *im, bt__feature *f);
/** Forgets the remembered source ids (after a rollback that may have removed some). */
void bt__records_forget_sources(bt__import *im);
/** Frees what records.c keeps during an import. */
void bt__records_free(bt__import *im);

/* ---- output text buffer (text.c) ------------------------------------------ */

/** Output collected in a buffer and handed to the writer in large pieces. */
typedef struct bt__out {
    bt_write_fn write;
    void *udata;
    char *buf;
    size_t len, cap;
    int err; /* first failure: BT_ERR_NOMEM or BT_ERR_IO; later writes do nothing */
} bt__out;

void bt__out_bytes(bt__out *o, const char *p, size_t n);
void bt__out_str(bt__out *o, const char *p);
void bt__out_printf(bt__out *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/** Writes a JSON string literal (quotes, escapes, control characters as \\u00XX). */
void bt__out_json_str(bt__out *o, const char *p);
/** Writes XML character data with &, <, >, ", ' escaped and the control characters
 *  XML 1.0 forbids dropped. */
void bt__out_xml(bt__out *o, const char *p);
/** Writes a CSV field, quoted when it holds a comma, quote, CR, LF or leading/trailing
 *  space, with quotes doubled. */
void bt__out_csv(bt__out *o, const char *p);
/** Formats a coordinate with at most @p decimals places, trailing zeros removed. */
void bt__out_coord(bt__out *o, double v, int decimals);
/** Formats a double so that strtod gives back the same value (shortest of %.15g..%.17g). */
void bt__fmt_double(char *buf, size_t size, double v);
/** Hands the buffered bytes to the writer. */
void bt__out_flush(bt__out *o);

/* ---- generalisation of incident points (generalise.c) --------------------- */

struct bt__gen;
/** Loads the store's border lines for bt__gen_point(). */
int bt__gen_open(bt_store *s, double grid_m, struct bt__gen **out);
/** The generalised position of @p p: on a grid of about grid_m metres, never across a
 *  border line (see docs/formats.md). */
bt_lonlat bt__gen_point(struct bt__gen *g, bt_lonlat p);
void bt__gen_close(struct bt__gen *g);
/** True if the straight segment a-b crosses or touches a border line of @p g. */
bool bt__gen_crosses(struct bt__gen *g, bt_lonlat a, bt_lonlat b);
/** The WGS 84 ellipsoid, which bt__gen_open() loaded PROJ for. */
const struct geod_geodesic *bt__gen_geod(const struct bt__gen *g);

#endif /* BT_IO_H */
