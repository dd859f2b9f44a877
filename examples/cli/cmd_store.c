/**
 * @file cmd_store.c
 * @brief The store-level commands: init, import, export and stats.
 */
#define _POSIX_C_SOURCE 200809L

#include "cli.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- init ------------------------------------------------------------------- */

static const char init_help[] =
    "Usage: bordertrack init DB\n"
    "Creates an empty bordertrack store (a SpatiaLite file, mode 0600) at DB.\n"
    "Fails if DB already exists.\n";

int btcli_cmd_init(int argc, char **argv)
{
    const char *db = NULL;
    for (int i = 0; i < argc; i++) {
        if (btcli_is_help(argv[i])) {
            fputs(init_help, stdout);
            return BTCLI_OK;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            btcli_usage_error("init", "unknown option '%s'", argv[i]);
            return BTCLI_USAGE;
        }
        if (db) {
            btcli_usage_error("init", "one store at a time ('%s' is extra)", argv[i]);
            return BTCLI_USAGE;
        }
        db = argv[i];
    }
    if (!db) {
        btcli_usage_error("init", "missing DB");
        return BTCLI_USAGE;
    }
    struct stat st;
    if (stat(db, &st) == 0) {
        fprintf(stderr, "bordertrack init: %s already exists\n", db);
        return BTCLI_FAIL;
    }
    bt_store *s = btcli_open(db, BT_OPEN_READWRITE | BT_OPEN_CREATE);
    if (!s) return BTCLI_FAIL;
    int rc = bt_store_close(s);
    if (rc != BT_OK) {
        fprintf(stderr, "bordertrack init: %s: %s\n", db, bt_strerror(rc));
        return BTCLI_FAIL;
    }
    fprintf(stderr, "created %s\n", db);
    return BTCLI_OK;
}

/* ---- import ----------------------------------------------------------------- */

static const char import_help[] =
    "Usage: bordertrack import DB FILE... [--layer borders|installations|incidents|"
    "sources|places|interventions]\n"
    "                          [--crs CRS] [--skip-invalid]\n"
    "Imports GeoJSON, newline-delimited GeoJSON or CSV files (docs/formats.md).\n"
    "All files are imported in one transaction: if one fails, nothing is kept.\n"
    "  --layer L       the table to fill; default: from the file name (a name that\n"
    "                  contains 'border', 'installation', 'incident', 'source',\n"
    "                  'place' or 'intervention')\n"
    "  --crs CRS       CRS of the coordinates, e.g. EPSG:32652 (default: WGS 84)\n"
    "  --skip-invalid  skip invalid features, reporting each on stderr\n";

/* The table a file name suggests, or -1. */
static int table_from_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    static const struct { const char *word; bt_table t; } words[] = {
        {"border", BT_TABLE_BORDERS}, {"installation", BT_TABLE_INSTALLATIONS},
        {"incident", BT_TABLE_INCIDENTS}, {"source", BT_TABLE_SOURCES},
        {"place", BT_TABLE_PLACES}, {"intervention", BT_TABLE_INTERVENTIONS},
    };
    int found = -1;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strstr(base, words[i].word)) {
            if (found >= 0) return -1; /* two candidates: do not guess */
            found = (int)words[i].t;
        }
    }
    return found;
}

static int on_problem(const bt_import_problem *p, void *udata)
{
    btcli_progress_clear(udata);
    fprintf(stderr, "bordertrack import: skipped: %s\n", p->message);
    return 0;
}

int btcli_cmd_import(int argc, char **argv)
{
    const char *db = NULL, *layer = NULL, *crs = NULL;
    int skip = 0;
    char **files = calloc((size_t)argc + 1, sizeof *files);
    int nfiles = 0;
    if (!files) return BTCLI_FAIL;
    for (int i = 0; i < argc; i++) {
        const char *v;
        int r;
        if (btcli_is_help(argv[i])) {
            fputs(import_help, stdout);
            free(files);
            return BTCLI_OK;
        }
        const char *opt = argv[i];
        if ((r = btcli_opt_value(argc, argv, &i, "--layer", &v)) > 0) {
            layer = v;
        } else if (r == 0 && (r = btcli_opt_value(argc, argv, &i, "--crs", &v)) > 0) {
            crs = v;
        } else if (r < 0) {
            btcli_usage_error("import", "%s needs a value", opt);
            free(files);
            return BTCLI_USAGE;
        } else if (strcmp(argv[i], "--skip-invalid") == 0) {
            skip = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            btcli_usage_error("import", "unknown option '%s'", argv[i]);
            free(files);
            return BTCLI_USAGE;
        } else if (!db) {
            db = argv[i];
        } else {
            files[nfiles++] = argv[i];
        }
    }
    bt_table forced = BT_TABLE_INCIDENTS;
    if (layer && bt_table_parse(layer, &forced) != BT_OK) {
        btcli_usage_error("import", "--layer '%s': expected borders, installations, "
                          "incidents, sources, places or interventions", layer);
        free(files);
        return BTCLI_USAGE;
    }
    if (!db || nfiles == 0) {
        btcli_usage_error("import", "expected DB and at least one FILE");
        free(files);
        return BTCLI_USAGE;
    }
    for (int k = 0; !layer && k < nfiles; k++) {
        if (table_from_name(files[k]) < 0) {
            btcli_usage_error("import", "cannot tell the layer of '%s' from its name; "
                              "give --layer", files[k]);
            free(files);
            return BTCLI_USAGE;
        }
    }
    bt_store *s = btcli_open(db, BT_OPEN_READWRITE);
    if (!s) {
        free(files);
        return BTCLI_FAIL;
    }
    int status = BTCLI_OK;
    /* Several files go in one transaction (all or nothing); one file is all or nothing
     * by itself, and an import that owns its transaction may take the faster load path
     * (bt_import_file(): a rollback journal instead of the WAL). */
    bool txn = nfiles > 1;
    int rc = txn ? bt_store_begin(s) : BT_OK;
    if (rc) {
        btcli_lib_error("import", s, rc, db);
        status = BTCLI_FAIL;
    }
    /* The bar counts bytes of all the files (regular files; a pipe adds nothing). */
    double bytes = 0;
    for (int k = 0; k < nfiles; k++) {
        struct stat st;
        if (stat(files[k], &st) == 0 && S_ISREG(st.st_mode)) bytes += (double)st.st_size;
    }
    btcli_progress bar;
    btcli_progress_start(&bar, "import", bytes);
    long total_added = 0;
    for (int k = 0; status == BTCLI_OK && k < nfiles; k++) {
        bt_import_options opt;
        bt_import_options_init(&opt);
        opt.table = layer ? forced : (bt_table)table_from_name(files[k]);
        opt.crs = crs;
        opt.skip_invalid = skip;
        opt.on_problem = on_problem;
        opt.udata = &bar;
        opt.progress = btcli_progress_fn;
        opt.progress_udata = &bar;
        bt_import_report rep;
        memset(&rep, 0, sizeof rep);
        rc = bt_import_file(s, files[k], &opt, &rep);
        btcli_progress_clear(&bar);
        if (rc != BT_OK) {
            btcli_lib_error("import", s, rc, files[k]);
            status = BTCLI_FAIL;
            break;
        }
        total_added += rep.added;
        fprintf(stderr, "%s: %s: %ld features, %ld added, %ld skipped, %ld sources added\n",
                files[k], bt_table_name(opt.table), rep.features, rep.added, rep.skipped,
                rep.sources_added);
        struct stat st;
        if (stat(files[k], &st) == 0 && S_ISREG(st.st_mode)) bar.offset += (double)st.st_size;
        btcli_progress_update(&bar, bar.offset);
    }
    btcli_progress_finish(&bar);
    if (status == BTCLI_OK) {
        rc = txn ? bt_store_commit(s) : BT_OK;
        if (rc) {
            btcli_lib_error("import", s, rc, "commit");
            status = BTCLI_FAIL;
        }
    } else {
        if (txn) bt_store_rollback(s);
        fprintf(stderr, "bordertrack import: nothing was imported\n");
    }
    if (status == BTCLI_OK && nfiles > 1)
        fprintf(stderr, "imported %ld records from %d files\n", total_added, nfiles);
    bt_store_close(s);
    free(files);
    return status;
}

/* ---- export ----------------------------------------------------------------- */

static const char export_help[] =
    "Usage: bordertrack export DB [--layer L] [--format geojson|geojsonseq|csv|kml]\n"
    "                          [-o FILE] [--include-sources] [--generalise DIST]\n"
    "                          [FILTERS]\n"
    "Writes a table (default: incidents) to FILE or to stdout: all of it, or the\n"
    "records that match FILTERS.\n"
    "  --layer L          borders, installations, incidents, sources, places or\n"
    "                     interventions\n"
    "  --format F         default: from FILE's extension, else geojson\n"
    "  -o, --output FILE  write to FILE (removed again if the export fails)\n"
    "  --include-sources  write source names and notes (redacted by default; needed\n"
    "                     for --layer sources)\n"
    "  --generalise DIST  snap incident points to a grid of about DIST (e.g. 1km),\n"
    "                     never across a border line\n"
    "FILTERS (as for query; incidents in id order):\n"
    "  --near PLACE|LON,LAT --radius DIST, --bbox W,S,E,N or --within FILE.geojson\n"
    "  --from DATE --to DATE, --type T[,T...], --min-reliability A-F,\n"
    "  --min-credibility 1-6, --match possible|certain|point\n"
    "Installations take the area and --from/--to (standing during the window);\n"
    "borders take the area only; sources, places and interventions take no filter.\n";

static int write_stdout(const void *buf, size_t n, void *udata)
{
    (void)udata;
    return fwrite(buf, 1, n, stdout) == n ? 0 : 1;
}

/* Checks that the given filters apply to the table: 0, or a usage error printed. */
static int export_filters_apply(const btcli_filters *f, bt_table table)
{
    const char *tname = bt_table_name(table);
    int area = f->near || f->has_bbox || f->within;
    int time = f->has_from || f->has_to;
    int incident_only = f->types || f->min_reliability || f->min_credibility ||
                        f->match != BTCLI_MATCH_POINT;
    if (f->near && f->radius_m < 0) {
        btcli_usage_error("export", "--near needs --radius");
        return -1;
    }
    if ((table == BT_TABLE_SOURCES || table == BT_TABLE_PLACES ||
         table == BT_TABLE_INTERVENTIONS) &&
        (area || time || incident_only)) {
        btcli_usage_error("export", "the %s layer takes no FILTERS", tname);
        return -1;
    }
    if (table != BT_TABLE_INCIDENTS && incident_only) {
        btcli_usage_error("export", "--type, --min-reliability, --min-credibility and "
                          "--match apply to incidents only");
        return -1;
    }
    if (table == BT_TABLE_BORDERS && time) {
        btcli_usage_error("export", "--from/--to do not apply to borders");
        return -1;
    }
    return 0;
}

int btcli_cmd_export(int argc, char **argv)
{
    const char *db = NULL, *layer = NULL, *format = NULL, *out = NULL, *gen = NULL;
    int include_sources = 0;
    for (int i = 0; i < argc; i++) {
        if (btcli_is_help(argv[i])) {
            fputs(export_help, stdout);
            return BTCLI_OK;
        }
    }
    btcli_filters f;
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest) return BTCLI_FAIL;
    int nrest = 0;
    char err[256];
    if (btcli_parse_filters(argc, argv, &f, rest, &nrest, err, sizeof err)) {
        btcli_usage_error("export", "%s", err);
        free(rest);
        return BTCLI_USAGE;
    }
    for (int i = 0; i < nrest; i++) {
        const char *v = NULL;
        int r = 0;
        const char *opt = rest[i];
        if ((r = btcli_opt_value(nrest, rest, &i, "--layer", &v)) > 0) layer = v;
        else if (r == 0 && (r = btcli_opt_value(nrest, rest, &i, "--format", &v)) > 0) format = v;
        else if (r == 0 && (r = btcli_opt_value(nrest, rest, &i, "-o", &v)) > 0) out = v;
        else if (r == 0 && (r = btcli_opt_value(nrest, rest, &i, "--output", &v)) > 0) out = v;
        else if (r == 0 && (r = btcli_opt_value(nrest, rest, &i, "--generalise", &v)) > 0) gen = v;
        else if (r == 0 && strcmp(opt, "--include-sources") == 0) include_sources = 1;
        else if (r == 0 && opt[0] == '-' && opt[1]) {
            btcli_usage_error("export", "unknown option '%s'", opt);
            free(rest);
            return BTCLI_USAGE;
        } else if (r == 0 && !db) db = opt;
        else if (r == 0) {
            btcli_usage_error("export", "unexpected argument '%s'", opt);
            free(rest);
            return BTCLI_USAGE;
        }
        if (r < 0) {
            btcli_usage_error("export", "%s needs a value", opt);
            free(rest);
            return BTCLI_USAGE;
        }
    }
    free(rest);
    if (!db) {
        btcli_usage_error("export", "missing DB");
        return BTCLI_USAGE;
    }
    bt_export_options opt;
    bt_export_options_init(&opt);
    opt.include_sources = include_sources;
    if (layer && bt_table_parse(layer, &opt.table) != BT_OK) {
        btcli_usage_error("export", "--layer '%s': expected borders, installations, "
                          "incidents, sources, places or interventions", layer);
        return BTCLI_USAGE;
    }
    if (format) {
        static const struct { const char *name; bt_format f; } fmts[] = {
            {"geojson", BT_FORMAT_GEOJSON}, {"geojsonseq", BT_FORMAT_GEOJSONSEQ},
            {"csv", BT_FORMAT_CSV}, {"kml", BT_FORMAT_KML},
        };
        size_t k;
        for (k = 0; k < sizeof fmts / sizeof fmts[0]; k++)
            if (strcmp(format, fmts[k].name) == 0) break;
        if (k == sizeof fmts / sizeof fmts[0]) {
            btcli_usage_error("export", "--format '%s': expected geojson, geojsonseq, csv "
                              "or kml", format);
            return BTCLI_USAGE;
        }
        opt.format = fmts[k].f;
    } else if (!out) {
        opt.format = BT_FORMAT_GEOJSON;
    }
    if (gen && (btcli_parse_dist(gen, &opt.generalise_m) || opt.generalise_m <= 0)) {
        btcli_usage_error("export", "--generalise '%s': expected a distance such as 1km", gen);
        return BTCLI_USAGE;
    }
    if (opt.table == BT_TABLE_SOURCES && !include_sources) {
        btcli_usage_error("export", "exporting sources needs --include-sources");
        return BTCLI_USAGE;
    }
    if (export_filters_apply(&f, opt.table)) return BTCLI_USAGE;
    int filtered = f.near || f.has_bbox || f.within || f.has_from || f.has_to || f.types ||
                   f.min_reliability || f.min_credibility;
    bt_store *s = btcli_open(db, BT_OPEN_READONLY);
    if (!s) return BTCLI_FAIL;
    bt_query q;
    char *wkt = NULL;
    if (filtered) {
        btcli_selection sel;
        if (btcli_build_query("export", s, &f, &sel, &q, &wkt)) {
            bt_store_close(s);
            return BTCLI_FAIL;
        }
        q.want_distance = 0; /* the export writes no distances */
        opt.filter = &q;
    }
    btcli_progress bar;
    btcli_progress_start(&bar, "export", 0); /* the total comes with the first call */
    opt.progress = btcli_progress_fn;
    opt.progress_udata = &bar;
    int rc = out ? bt_export_file(s, out, &opt) : bt_export_write(s, write_stdout, NULL, &opt);
    if (!out && fflush(stdout) != 0) rc = BT_ERR_IO;
    if (rc == BT_OK) btcli_progress_finish(&bar);
    else btcli_progress_clear(&bar);
    int status = BTCLI_OK;
    if (rc != BT_OK) {
        btcli_lib_error("export", s, rc, out ? out : "stdout");
        status = BTCLI_FAIL;
    } else if (out) {
        fprintf(stderr, "wrote %s\n", out);
    }
    free(wkt);
    bt_store_close(s);
    return status;
}

/* ---- stats ------------------------------------------------------------------ */

static const char stats_help[] =
    "Usage: bordertrack stats DB [--format table|csv]\n"
    "Record counts per table, incidents per type and their time span, installations\n"
    "per kind and status, and the length of every border (km).\n"
    "CSV columns: section,name,value\n";

typedef struct stats_acc {
    long types[BT_INCIDENT_TYPE_COUNT];
    int64_t first, last;
    long kinds[7], status[6];
    char borders[16][64];
    size_t nborders;
} stats_acc;

static int stats_incident(const bt_incident *inc, void *udata)
{
    stats_acc *a = udata;
    if ((unsigned)inc->type < BT_INCIDENT_TYPE_COUNT) a->types[inc->type]++;
    if (inc->start < a->first) a->first = inc->start;
    int64_t end = inc->end == BT_TIME_OPEN ? inc->start : inc->end;
    if (end > a->last) a->last = end;
    return 0;
}

static int stats_inst(const bt_installation *inst, void *udata)
{
    stats_acc *a = udata;
    if ((unsigned)inst->kind < 7) a->kinds[inst->kind]++;
    if ((unsigned)inst->status < 6) a->status[inst->status]++;
    return 0;
}

static int stats_segment(const bt_segment *seg, void *udata)
{
    stats_acc *a = udata;
    for (size_t i = 0; i < a->nborders; i++)
        if (strcmp(a->borders[i], seg->border) == 0) return 0;
    if (a->nborders < 16) snprintf(a->borders[a->nborders++], 64, "%s", seg->border);
    return 0;
}

int btcli_cmd_stats(int argc, char **argv)
{
    const char *db = NULL;
    btcli_format fmt = BTCLI_TABLE;
    for (int i = 0; i < argc; i++) {
        const char *v;
        int r;
        if (btcli_is_help(argv[i])) {
            fputs(stats_help, stdout);
            return BTCLI_OK;
        }
        if ((r = btcli_opt_value(argc, argv, &i, "--format", &v)) != 0) {
            if (r < 0 || btcli_parse_format(v, &fmt) || fmt == BTCLI_GEOJSON) {
                btcli_usage_error("stats", "--format: expected table or csv");
                return BTCLI_USAGE;
            }
        } else if (argv[i][0] == '-' && argv[i][1]) {
            btcli_usage_error("stats", "unknown option '%s'", argv[i]);
            return BTCLI_USAGE;
        } else if (!db) {
            db = argv[i];
        } else {
            btcli_usage_error("stats", "unexpected argument '%s'", argv[i]);
            return BTCLI_USAGE;
        }
    }
    if (!db) {
        btcli_usage_error("stats", "missing DB");
        return BTCLI_USAGE;
    }
    bt_store *s = btcli_open(db, BT_OPEN_READONLY);
    if (!s) return BTCLI_FAIL;
    bt_counts c;
    stats_acc a;
    memset(&a, 0, sizeof a);
    a.first = INT64_MAX;
    a.last = INT64_MIN;
    int rc = bt_store_count(s, &c);
    if (!rc) rc = bt_incident_foreach(s, stats_incident, &a);
    if (!rc) rc = bt_installation_foreach(s, stats_inst, &a);
    if (!rc) rc = bt_segment_foreach(s, stats_segment, &a);
    if (rc) {
        btcli_lib_error("stats", s, rc, db);
        bt_store_close(s);
        return BTCLI_FAIL;
    }
    static const char *const names[] = {"section", "name", "value"};
    static const btcli_col kinds[] = {BTCLI_STR, BTCLI_STR, BTCLI_NUM};
    btcli_out o;
    btcli_out_begin(&o, fmt, stdout, 3, names, kinds);
    char v[64];
    struct { const char *n; int64_t c; } rec[] = {
        {"borders", c.segments}, {"installations", c.installations},
        {"incidents", c.incidents}, {"sources", c.sources}, {"links", c.links},
        {"places", c.places}, {"interventions", c.interventions},
    };
    for (size_t i = 0; i < sizeof rec / sizeof rec[0]; i++) {
        snprintf(v, sizeof v, "%lld", (long long)rec[i].c);
        const char *row[] = {"records", rec[i].n, v};
        btcli_out_row(&o, row, NULL);
    }
    for (int t = 0; t < BT_INCIDENT_TYPE_COUNT; t++) {
        if (!a.types[t]) continue;
        snprintf(v, sizeof v, "%ld", a.types[t]);
        const char *row[] = {"incident_type", bt_enum_name(BT_ENUM_INCIDENT_TYPE, t), v};
        btcli_out_row(&o, row, NULL);
    }
    if (c.incidents > 0) {
        btcli_fmt_time(v, sizeof v, a.first, BT_TIME_DAY);
        const char *r1[] = {"incident_time", "first", v};
        btcli_out_row(&o, r1, NULL);
        btcli_fmt_time(v, sizeof v, a.last, BT_TIME_DAY);
        const char *r2[] = {"incident_time", "last", v};
        btcli_out_row(&o, r2, NULL);
    }
    for (int k = 0; k < 7; k++) {
        if (!a.kinds[k]) continue;
        snprintf(v, sizeof v, "%ld", a.kinds[k]);
        const char *row[] = {"installation_kind", bt_enum_name(BT_ENUM_INSTALL_KIND, k), v};
        btcli_out_row(&o, row, NULL);
    }
    for (int k = 0; k < 6; k++) {
        if (!a.status[k]) continue;
        snprintf(v, sizeof v, "%ld", a.status[k]);
        const char *row[] = {"installation_status", bt_enum_name(BT_ENUM_INSTALL_STATUS, k),
                             v};
        btcli_out_row(&o, row, NULL);
    }
    int status = BTCLI_OK;
    for (size_t i = 0; i < a.nborders; i++) {
        bt_border *b = NULL;
        bt_border_info info;
        rc = bt_border_open(s, a.borders[i], NULL, &b);
        if (!rc) rc = bt_border_info_get(b, &info);
        if (rc) {
            btcli_lib_error("stats", s, rc, a.borders[i]);
            status = BTCLI_FAIL;
        } else {
            btcli_fmt_num(v, sizeof v, info.length_m / 1000.0, 3);
            const char *row[] = {"border_length_km", a.borders[i], v};
            btcli_out_row(&o, row, NULL);
        }
        bt_border_free(b);
    }
    if (btcli_out_end(&o)) {
        fprintf(stderr, "bordertrack stats: writing the output failed\n");
        status = BTCLI_FAIL;
    }
    bt_store_close(s);
    return status;
}
