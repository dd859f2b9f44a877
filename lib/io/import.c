/**
 * @file import.c
 * @brief The import entry points: options, format detection, the all-or-nothing
 * transaction, per-feature CRS transform, skipping of invalid features and the
 * positioned error messages.
 */
/* fileno() and fstat() */
#define _POSIX_C_SOURCE 200809L

#include "io/io.h"

#include "store/backend.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/** Savepoint names (constant SQL identifiers). */
#define SP_IMPORT "bt_import"
#define SP_FEATURE "bt_import_feature"

static const char *const table_names[] = {
    [BT_TABLE_BORDERS] = "borders",     [BT_TABLE_INSTALLATIONS] = "installations",
    [BT_TABLE_INCIDENTS] = "incidents", [BT_TABLE_SOURCES] = "sources",
    [BT_TABLE_PLACES] = "places",       [BT_TABLE_INTERVENTIONS] = "interventions",
};

const char *bt_table_name(bt_table table)
{
    if ((unsigned)table >= sizeof table_names / sizeof table_names[0]) return NULL;
    return table_names[table];
}

int bt_table_parse(const char *name, bt_table *table)
{
    if (!name || !table) return BT_ERR_INVALID;
    for (unsigned i = 0; i < sizeof table_names / sizeof table_names[0]; i++) {
        if (strcasecmp(name, table_names[i]) == 0) {
            *table = (bt_table)i;
            return BT_OK;
        }
    }
    return BT_ERR_INVALID;
}

void bt_import_options_init(bt_import_options *opt)
{
    if (!opt) return;
    memset(opt, 0, sizeof *opt);
    opt->table = BT_TABLE_INCIDENTS;
    opt->format = BT_FORMAT_AUTO;
}

/* ---- messages -------------------------------------------------------------- */

int bt__import_error_at(bt__import *im, int code, long line, long col, const char *fmt, ...)
{
    char msg[BT_ERRMSG_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (col > 0) return bt__error(im->s, code, "%s: line %ld, column %ld: %s", im->name, line, col, msg);
    return bt__error(im->s, code, "%s: line %ld: %s", im->name, line, msg);
}

int bt__import_fail(bt__import *im, bt__feature *f, const char *field, int code,
                    const char *fmt, ...)
{
    char msg[BT_ERRMSG_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    long line = f->line, col = f->column;
    if (field && f->locate) f->locate(f, field, &line, &col);
    im->fail_field = field;
    im->fail_line = line;
    im->fail_col = col;
    if (f->csv)
        return bt__error(im->s, code, "%s: row %ld (line %ld): %s", im->name, f->number, line, msg);
    return bt__error(im->s, code, "%s: feature %ld (line %ld, column %ld): %s", im->name,
                     f->number, line, col, msg);
}

/* Errors about one feature's content may be skipped; the others end the import. */
static bool skippable(int rc)
{
    return rc == BT_ERR_INVALID || rc == BT_ERR_PARSE || rc == BT_ERR_EXISTS ||
           rc == BT_ERR_NOT_FOUND || rc == BT_ERR_CRS || rc == BT_ERR_CONSTRAINT ||
           rc == BT_ERR_GEOMETRY;
}

/* With skip_invalid, reports a failed feature and goes on; otherwise returns rc. */
static int skip_or_fail(bt__import *im, bt__feature *f, int rc)
{
    if (!im->opt.skip_invalid || !skippable(rc)) return rc;
    im->rep.skipped++;
    if (im->opt.on_problem) {
        bt_import_problem p = {im->name, f->number, im->fail_line, im->fail_col,
                               im->fail_field, rc, im->s->errmsg};
        int stop = im->opt.on_problem(&p, im->opt.udata);
        bt__records_forget_sources(im); /* the callback may have used the store */
        if (stop != 0)
            return bt__error(im->s, BT_ERR_INVALID,
                             "%s: import stopped by the caller at feature %ld", im->name,
                             f->number);
    }
    im->s->errmsg[0] = '\0';
    return BT_OK;
}

/* ---- progress ---------------------------------------------------------------- */

/* Reports @p done bytes to the caller's progress callback, clamped so that the values
 * never decrease nor pass the size. A non-zero answer cancels the import. */
static int report_progress(bt__import *im, uint64_t done)
{
    if (im->size && done > im->size) done = im->size;
    if (done < im->done) done = im->done;
    im->done = done;
    if (im->opt.progress(done, im->size, im->opt.progress_udata) != 0)
        return bt__error(im->s, BT_ERR_CANCELLED,
                         "%s: import cancelled by the caller after %ld features; nothing "
                         "was kept",
                         im->name, im->rep.features);
    return BT_OK;
}

/* Counted in features, not by a clock: no feature pays for a time look-up. */
static int tick(bt__import *im, const bt__feature *f)
{
    if (!im->opt.progress || f->number % BT_PROGRESS_EVERY != 0) return BT_OK;
    return report_progress(im, f->end_off);
}

/* ---- per feature ------------------------------------------------------------ */

static int add_feature(bt__import *im, bt__feature *f)
{
    im->rep.features = f->number;
    im->fail_field = NULL;
    im->fail_line = f->line;
    im->fail_col = f->column;
    im->features_started = true;
    bt_store *s = im->s;
    if (im->crs && f->npts) {
        size_t bad = 0;
        if (bt__crs_lonlat_to_wgs84(im->s, im->crs, f->pts, f->npts, &bad) != BT_OK) {
            int rc = bt__import_fail(im, f, "geometry", BT_ERR_CRS,
                                     "geometry: position %zu cannot be transformed to WGS 84",
                                     bad + 1);
            return skip_or_fail(im, f, rc);
        }
    }
    int rc;
    if (im->opt.skip_invalid) {
        /* A feature may add several rows (a source, a link): undo all of them. */
        rc = s->be->savepoint(s, SP_FEATURE);
        if (rc) return rc;
        rc = bt__records_add(im, f);
        if (rc) {
            char keep[BT_ERRMSG_SIZE];
            memcpy(keep, s->errmsg, sizeof keep);
            int rc2 = s->be->savepoint_rollback(s, SP_FEATURE);
            memcpy(s->errmsg, keep, sizeof keep);
            bt__records_forget_sources(im); /* a source this feature made is gone */
            if (rc2) return rc2 == BT_OK ? rc : rc2;
            return skip_or_fail(im, f, rc);
        }
        return s->be->savepoint_release(s, SP_FEATURE);
    }
    return bt__records_add(im, f);
}

/* SQLite rolls a transaction back by itself after some failures (out of memory, a
 * full disk) that a statement may have absorbed; every later statement would then
 * commit on its own, breaking all or nothing. A cheap look after each feature (and
 * each part of a multi-part border). */
int bt__import_check_txn(bt__import *im, const bt__feature *f)
{
    if (im->s->be->in_transaction(im->s)) return BT_OK;
    return bt__error(im->s, BT_ERR_IO,
                     "%s: feature %ld: SQLite rolled back the import's transaction (out of "
                     "memory or an I/O error); nothing was kept",
                     im->name, f->number);
}

int bt__import_feature(bt__import *im, bt__feature *f)
{
    int rc = add_feature(im, f);
    if (!rc) rc = bt__import_check_txn(im, f);
    return rc ? rc : tick(im, f);
}

int bt__import_feature_failed(bt__import *im, bt__feature *f, int rc)
{
    im->rep.features = f->number;
    rc = skip_or_fail(im, f, rc);
    if (!rc) rc = bt__import_check_txn(im, f);
    return rc ? rc : tick(im, f);
}

int bt__import_set_file_crs(bt__import *im, const char *name, long line, long col)
{
    if (im->opt.crs) return BT_OK; /* the caller's choice wins */
    /* WGS 84 lon/lat under its usual names needs no transform. */
    if (strcmp(name, "urn:ogc:def:crs:OGC:1.3:CRS84") == 0 || strcmp(name, "OGC:CRS84") == 0 ||
        strcmp(name, "EPSG:4326") == 0 || strcmp(name, "urn:ogc:def:crs:EPSG::4326") == 0) {
        /* GeoJSON writers (GDAL, QGIS) put EPSG:4326 here while writing lon/lat. */
        return BT_OK;
    }
    if (im->crs) bt__crs_close(im->crs);
    im->crs = NULL;
    int rc = bt__crs_open(im->s, name, &im->crs);
    if (rc) {
        char msg[BT_ERRMSG_SIZE];
        snprintf(msg, sizeof msg, "%s", im->s->errmsg);
        return bt__import_error_at(im, rc, line, col, "the 'crs' member: %s", msg);
    }
    return BT_OK;
}

/* ---- driver ----------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* Format from the name's extension, else from the first bytes. */
static bt_format detect(const char *name, const char *head, size_t n)
{
    if (name) {
        if (ends_with(name, ".geojson") || ends_with(name, ".json")) return BT_FORMAT_GEOJSON;
        if (ends_with(name, ".geojsonl") || ends_with(name, ".geojsons") ||
            ends_with(name, ".geojsonseq") || ends_with(name, ".ndjson") || ends_with(name, ".jsonl"))
            return BT_FORMAT_GEOJSONSEQ;
        if (ends_with(name, ".csv")) return BT_FORMAT_CSV;
        if (ends_with(name, ".kml")) return BT_FORMAT_KML;
    }
    size_t i = 0;
    if (n >= 3 && (unsigned char)head[0] == 0xEF && (unsigned char)head[1] == 0xBB &&
        (unsigned char)head[2] == 0xBF)
        i = 3;
    while (i < n && isspace((unsigned char)head[i])) i++;
    if (i < n && (head[i] == '{' || head[i] == 0x1E)) return BT_FORMAT_GEOJSON;
    return BT_FORMAT_CSV;
}

/* @p size: the input's size in bytes, 0 if unknown (progress only). */
static int run(bt_store *s, bt__reader *r, const char *name, uint64_t size,
               const bt_import_options *opt, bt_import_report *report, bool fast,
               long *nfast)
{
    bt__import im;
    memset(&im, 0, sizeof im);
    im.no_fast = !fast;
    im.s = s;
    im.name = name;
    im.size = size;
    if (opt) im.opt = *opt;
    else bt_import_options_init(&im.opt);
    if (!bt_table_name(im.opt.table))
        return bt__error(s, BT_ERR_INVALID, "import %s: unknown table %d", name, (int)im.opt.table);
    if (!(s->flags & BT_OPEN_READWRITE))
        return bt__error(s, BT_ERR_READONLY, "import %s: the store is open read-only", name);

    bt_format fmt = im.opt.format;
    if (fmt == BT_FORMAT_AUTO) {
        if (r->fp && r->len == 0 && !r->eof && bt__reader_more(r, 0) < 0)
            return bt__error(s, BT_ERR_NOMEM, "import %s: out of memory", name);
        fmt = detect(name, r->data, r->len);
    }
    if (fmt == BT_FORMAT_KML)
        return bt__error(s, BT_ERR_INVALID, "import %s: KML is an export format only", name);
    if ((int)fmt < 0 || fmt > BT_FORMAT_KML)
        return bt__error(s, BT_ERR_INVALID, "import %s: unknown format %d", name, (int)fmt);

    int rc = BT_OK;
    if (im.opt.crs) {
        rc = bt__crs_open(s, im.opt.crs, &im.crs);
        if (rc) return rc;
    }

    bool own = !s->in_txn;
    if (own) {
        /* the backend may set up the connection for a load (backend.h) */
        rc = s->be->load_begin(s, size);
        if (!rc) s->in_txn = true;
    } else {
        rc = s->be->savepoint(s, SP_IMPORT);
    }
    if (!rc) {
        if (im.opt.progress) rc = report_progress(&im, 0);
        if (!rc) rc = fmt == BT_FORMAT_CSV ? bt__import_csv(&im, r) : bt__import_geojson(&im, r);
        if (!rc && im.opt.progress) {
            /* The last call has done == total; from a pipe the total is known now. */
            if (!im.size) im.size = (uint64_t)(r->base + r->len);
            if (im.size < im.done) im.size = im.done;
            rc = report_progress(&im, im.size);
        }
        if (rc) {
            /* Leave the store as it was, keeping the message of the failure. */
            char keep[BT_ERRMSG_SIZE];
            memcpy(keep, s->errmsg, sizeof keep);
            if (own) {
                if (s->in_txn) s->be->rollback(s);
                s->in_txn = false;
            } else if (s->in_txn) {
                s->be->savepoint_rollback(s, SP_IMPORT);
            }
            memcpy(s->errmsg, keep, sizeof keep);
        } else if (own) {
            rc = s->be->commit(s);
            if (rc && s->in_txn) {
                s->be->rollback(s);
                s->in_txn = false;
            }
        } else {
            rc = s->be->savepoint_release(s, SP_IMPORT);
        }
    }
    if (own) s->be->load_end(s); /* whatever happened above */
    if (report) *report = im.rep;
    if (nfast) *nfast = im.nfast;
    if (im.crs) bt__crs_close(im.crs);
    if (im.wkt) GEOSWKTReader_destroy_r(s->geos, im.wkt);
    bt__records_free(&im);
    bt__free(im.scratch);
    if (!rc) s->errmsg[0] = '\0';
    return rc;
}

int bt_import_mem(bt_store *store, const char *data, size_t len, const char *name_for_errors,
                  const bt_import_options *opt, bt_import_report *report)
{
    return bt__import_mem_ex(store, data, len, name_for_errors, opt, report, true, NULL);
}

int bt__import_mem_ex(bt_store *store, const char *data, size_t len, const char *name_for_errors,
                      const bt_import_options *opt, bt_import_report *report, bool fast,
                      long *nfast)
{
    if (nfast) *nfast = 0;
    if (report) memset(report, 0, sizeof *report);
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!data && len) return bt__error(store, BT_ERR_INVALID, "bt_import_mem: data is NULL");
    bt__reader r;
    memset(&r, 0, sizeof r);
    r.data = data ? data : "";
    r.len = len;
    r.eof = true;
    r.mark_line = r.mark_col = 1;
    return run(store, &r, name_for_errors ? name_for_errors : "<memory>", (uint64_t)len, opt,
               report, fast, nfast);
}

int bt_import_file(bt_store *store, const char *path, const bt_import_options *opt,
                   bt_import_report *report)
{
    if (report) memset(report, 0, sizeof *report);
    if (!store) return BT_ERR_INVALID;
    bt__clear_error(store);
    if (!path) return bt__error(store, BT_ERR_INVALID, "bt_import_file: path is NULL");
    bt__reader r;
    memset(&r, 0, sizeof r);
    r.fp = fopen(path, "rb");
    if (!r.fp)
        return bt__error(store, errno == ENOENT ? BT_ERR_NOT_FOUND : BT_ERR_IO,
                         "cannot open %s: %s", path, strerror(errno));
    r.mark_line = r.mark_col = 1;
    r.data = "";
    /* The size of a regular file is the progress total; a pipe has none. */
    struct stat st;
    uint64_t size = 0;
    if (fstat(fileno(r.fp), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        size = (uint64_t)st.st_size;
    int rc = run(store, &r, path, size, opt, report, true, NULL);
    fclose(r.fp);
    bt__free(r.buf);
    return rc;
}
