/**
 * @file test_export.c
 * @brief Export: round trips (GeoJSON, GeoJSON sequence, CSV) of every table, KML,
 * escaping, redaction of source identities, generalisation that never crosses a
 * border line, writer failures and option checks, and bt_*_foreach.
 */
#include "io_test_util.h"

/* ---- a store with one of everything, with awkward text ----------------------- */

static const char *const nasty = "quote \" backslash \\ <tag> & 'apos' comma, "
                                 "newline\nCR\rtab\t ctrl\x01 Sin\xc5\xad" "iju \xe4\xb8\xad";

static void fill(bt_store *s)
{
    bt_source a = {0, "Zqx-Kjm-Vwqf-77", BT_SOURCE_HUMAN, 'B', "Qzx Jqv 88 Xkq"};
    bt_source b = {0, "Vwj Jqbz Xyzk 42", BT_SOURCE_MEDIA, 'C', NULL};
    int64_t sa, sb;
    assert_int_equal(bt_source_add(s, &a, &sa), BT_OK);
    assert_int_equal(bt_source_add(s, &b, &sb), BT_OK);

    bt_segment seg = {0, "PRK-CHN", "Yalu, upper", 3, BT_SEGMENT_RIVER, nasty,
                      (const bt_lonlat[]){{128.1234567, 41.3}, {128.2, 41.4}, {128.3, 41.45}},
                      3};
    assert_int_equal(bt_segment_add(s, &seg, NULL), BT_OK);
    bt_segment seg2 = {0, "PRK-RUS", "t", 0, BT_SEGMENT_UNKNOWN, NULL,
                       (const bt_lonlat[]){{130.6, 42.3}, {130.7, 42.29}}, 2};
    assert_int_equal(bt_segment_add(s, &seg2, NULL), BT_OK);

    bt_installation in;
    bt_installation_init(&in);
    in.ref = "F-1";
    in.kind = BT_INSTALL_FENCE;
    in.layer = BT_LAYER_SECONDARY;
    in.material = BT_MATERIAL_THIN_STEEL_WIRE;
    in.barbed = BT_NO;
    in.electrified = BT_YES;
    in.height_m = 2.25;
    in.post_material = "wooden stakes";
    in.quality = BT_QUALITY_POOR;
    in.permanence = BT_PERMANENCE_TEMPORARY;
    in.status = BT_STATUS_UNDER_CONSTRUCTION;
    in.start = (bt_date){1593561600, BT_TIME_MONTH};
    in.end = (bt_date){1601424000, BT_TIME_DAY};
    in.condition = nasty;
    in.observed_by = BT_OBSERVED_HUMAN_SOURCE;
    in.source_id = sa;
    in.credibility = 3;
    in.points = (const bt_lonlat[]){{128.11, 41.38}, {128.12, 41.385}};
    in.npoints = 2;
    assert_int_equal(bt_installation_add(s, &in, NULL), BT_OK);
    bt_installation_init(&in);
    in.kind = BT_INSTALL_GUARD_POST;
    in.points = (const bt_lonlat[]){{128.2, 41.39}};
    in.npoints = 1;
    assert_int_equal(bt_installation_add(s, &in, NULL), BT_OK);

    bt_incident inc;
    bt_incident_init(&inc);
    inc.ref = "I-1";
    inc.type = BT_INCIDENT_RIVER_CROSSING;
    inc.where = (bt_lonlat){128.1777812, 41.4016734};
    inc.uncertainty_m = 12.75;
    inc.loc_precision = BT_LOC_DISTRICT;
    inc.start = 1596031500; /* a timestamp that is not the start of its day */
    inc.end = 1596031500;
    inc.time_precision = BT_TIME_DAY;
    inc.reported = (bt_date){1596240000, BT_TIME_DAY};
    inc.summary = nasty;
    inc.verification = BT_VERIF_CORROBORATED;
    int64_t i1, i2;
    assert_int_equal(bt_incident_add(s, &inc, &i1), BT_OK);
    bt_report_link l1 = {i1, sa, {1596240000, BT_TIME_DAY}, 2};
    bt_report_link l2 = {i1, sb, {1596240000 - 86400 * 31, BT_TIME_MONTH}, 4};
    assert_int_equal(bt_link_add(s, &l1), BT_OK);
    assert_int_equal(bt_link_add(s, &l2), BT_OK);
    bt_incident_init(&inc);
    inc.ref = "I-2";
    inc.type = BT_INCIDENT_FENCE_WORK;
    inc.where = (bt_lonlat){-0.5, -33.25};
    inc.start = 1593561600;
    inc.end = BT_TIME_OPEN;
    inc.time_precision = BT_TIME_MONTH;
    assert_int_equal(bt_incident_add(s, &inc, &i2), BT_OK);

    bt_place p = {0, "Sin\xc5\xad" "iju", "KP", "11", {124.39806, 40.10056}};
    assert_int_equal(bt_place_add(s, &p, NULL), BT_OK);
    bt_place p2 = {0, "A \"quoted\", name", "CN", NULL, {128.19624, 41.41772}};
    assert_int_equal(bt_place_add(s, &p2, NULL), BT_OK);
}

/* ---- comparison of two stores, field by field ----------------------------------- */

static void same_str(const char *a, const char *b)
{
    if (!a || !b) {
        assert_true(a == b);
        return;
    }
    assert_string_equal(a, b);
}

/* bt_date has padding: compare the fields */
static void same_date(bt_date a, bt_date b)
{
    assert_int_equal(a.precision, b.precision);
    if (a.precision != BT_TIME_NONE) assert_int_equal(a.t, b.t);
}

static void same_pts(const bt_lonlat *a, const bt_lonlat *b, size_t n)
{
    /* 7 decimals written: at most 5e-8 degrees off */
    for (size_t i = 0; i < n; i++) {
        assert_near(a[i].lon, b[i].lon, 5.1e-8);
        assert_near(a[i].lat, b[i].lat, 5.1e-8);
    }
}

static void same_source(bt_store *s1, int64_t id1, bt_store *s2, int64_t id2)
{
    bt_source *a, *b;
    assert_int_equal(bt_source_get(s1, id1, &a), BT_OK);
    assert_int_equal(bt_source_get(s2, id2, &b), BT_OK);
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->reliability, b->reliability);
    same_str(a->notes, b->notes);
    bt_source_free(a);
    bt_source_free(b);
}

static void same_table(bt_store *s1, bt_store *s2, bt_table t)
{
    bt_counts c1 = counts(s1), c2 = counts(s2);
    for (int64_t id = 1;; id++) {
        if (t == BT_TABLE_BORDERS) {
            if (id > c1.segments) break;
            bt_segment *a, *b;
            assert_int_equal(bt_segment_get(s1, id, &a), BT_OK);
            assert_int_equal(bt_segment_get(s2, id, &b), BT_OK);
            assert_string_equal(a->border, b->border);
            assert_string_equal(a->name, b->name);
            assert_int_equal(a->seq, b->seq);
            assert_int_equal(a->kind, b->kind);
            same_str(a->river, b->river);
            assert_int_equal(a->npoints, b->npoints);
            same_pts(a->points, b->points, a->npoints);
            bt_segment_free(a);
            bt_segment_free(b);
        } else if (t == BT_TABLE_INSTALLATIONS) {
            if (id > c1.installations) break;
            bt_installation *a, *b;
            assert_int_equal(bt_installation_get(s1, id, &a), BT_OK);
            assert_int_equal(bt_installation_get(s2, id, &b), BT_OK);
            same_str(a->ref, b->ref);
            assert_int_equal(a->kind, b->kind);
            assert_int_equal(a->layer, b->layer);
            assert_int_equal(a->material, b->material);
            assert_int_equal(a->barbed, b->barbed);
            assert_int_equal(a->electrified, b->electrified);
            if (isnan(a->height_m)) assert_true(isnan(b->height_m));
            else assert_true(a->height_m == b->height_m);
            same_str(a->post_material, b->post_material);
            assert_int_equal(a->quality, b->quality);
            assert_int_equal(a->permanence, b->permanence);
            assert_int_equal(a->status, b->status);
            same_date(a->start, b->start);
            same_date(a->end, b->end);
            same_str(a->condition, b->condition);
            assert_int_equal(a->observed_by, b->observed_by);
            assert_int_equal(a->credibility, b->credibility);
            assert_int_equal(a->source_id != 0, b->source_id != 0);
            if (a->source_id) same_source(s1, a->source_id, s2, b->source_id);
            assert_int_equal(a->npoints, b->npoints);
            same_pts(a->points, b->points, a->npoints);
            bt_installation_free(a);
            bt_installation_free(b);
        } else if (t == BT_TABLE_INCIDENTS) {
            if (id > c1.incidents) break;
            bt_incident *a, *b;
            assert_int_equal(bt_incident_get(s1, id, &a), BT_OK);
            assert_int_equal(bt_incident_get(s2, id, &b), BT_OK);
            assert_string_equal(a->ref, b->ref);
            assert_int_equal(a->type, b->type);
            same_pts(&a->where, &b->where, 1);
            assert_true(a->uncertainty_m == b->uncertainty_m);
            assert_int_equal(a->loc_precision, b->loc_precision);
            assert_int_equal(a->start, b->start);
            assert_true(a->end == b->end);
            assert_int_equal(a->time_precision, b->time_precision);
            same_date(a->reported, b->reported);
            same_str(a->summary, b->summary);
            assert_int_equal(a->verification, b->verification);
            bt_report_link *la, *lb;
            size_t na, nb;
            assert_int_equal(bt_link_list(s1, id, &la, &na), BT_OK);
            assert_int_equal(bt_link_list(s2, id, &lb, &nb), BT_OK);
            assert_int_equal(na, nb);
            for (size_t i = 0; i < na; i++) {
                assert_int_equal(la[i].credibility, lb[i].credibility);
                same_date(la[i].reported, lb[i].reported);
                same_source(s1, la[i].source_id, s2, lb[i].source_id);
            }
            bt_link_list_free(la);
            bt_link_list_free(lb);
            bt_incident_free(a);
            bt_incident_free(b);
        } else if (t == BT_TABLE_SOURCES) {
            if (id > c1.sources) break;
            same_source(s1, id, s2, id);
        } else {
            if (id > c1.places) break;
            bt_place *a, *b;
            assert_int_equal(bt_place_get(s1, id, &a), BT_OK);
            assert_int_equal(bt_place_get(s2, id, &b), BT_OK);
            assert_string_equal(a->name, b->name);
            assert_string_equal(a->country, b->country);
            same_str(a->admin1, b->admin1);
            same_pts(&a->where, &b->where, 1);
            bt_place_free(a);
            bt_place_free(b);
        }
    }
    (void)c2;
}

/* Exports a table of s1 in fmt and imports it into a fresh s2; compares. */
static void round_trip(bt_store *s1, bt_table table, bt_format fmt)
{
    membuf m = {0};
    bt_export_options eo;
    bt_export_options_init(&eo);
    eo.table = table;
    eo.format = fmt;
    eo.include_sources = 1;
    int rc = bt_export_write(s1, membuf_write, &m, &eo);
    if (rc) fprintf(stderr, "%s\n", bt_store_errmsg(s1));
    assert_int_equal(rc, BT_OK);
    tstore t2;
    tstore_open(&t2);
    bt_import_options io;
    bt_import_options_init(&io);
    io.table = table;
    io.format = fmt;
    bt_import_report rep;
    rc = bt_import_mem(t2.s, m.p, m.n, "export", &io, &rep);
    if (rc) fprintf(stderr, "%s\n---\n%s\n", bt_store_errmsg(t2.s), m.p);
    assert_int_equal(rc, BT_OK);
    same_table(s1, t2.s, table);
    /* a second export of the copy is byte-identical */
    membuf m2 = {0};
    assert_int_equal(bt_export_write(t2.s, membuf_write, &m2, &eo), BT_OK);
    assert_int_equal(m.n, m2.n);
    assert_memory_equal(m.p, m2.p, m.n);
    free(m.p);
    free(m2.p);
    tstore_close(&t2);
}

static void test_round_trips(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    fill(t.s);
    const bt_format fmts[] = {BT_FORMAT_GEOJSON, BT_FORMAT_GEOJSONSEQ, BT_FORMAT_CSV};
    const bt_table tables[] = {BT_TABLE_BORDERS, BT_TABLE_INSTALLATIONS, BT_TABLE_INCIDENTS,
                               BT_TABLE_SOURCES, BT_TABLE_PLACES};
    for (size_t f = 0; f < 3; f++)
        for (size_t k = 0; k < 5; k++) round_trip(t.s, tables[k], fmts[f]);
    tstore_close(&t);
}

static void test_round_trip_sample(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    bt_import_options o;
    bt_import_options_init(&o);
    o.table = BT_TABLE_BORDERS;
    assert_int_equal(bt_import_file(t.s, BT_EXAMPLES_DATA_DIR "/borders.geojson", &o, NULL), BT_OK);
    o.table = BT_TABLE_INCIDENTS;
    assert_int_equal(bt_import_file(t.s, BT_EXAMPLES_DATA_DIR "/incidents_hyesan.geojson", &o, NULL),
                     BT_OK);
    round_trip(t.s, BT_TABLE_BORDERS, BT_FORMAT_GEOJSON);
    round_trip(t.s, BT_TABLE_INCIDENTS, BT_FORMAT_CSV);
    tstore_close(&t);
}

/* ---- exact text of GeoJSON, CSV and KML ------------------------------------------ */

static char *export_text(bt_store *s, bt_table table, bt_format fmt, int include)
{
    membuf m = {0};
    bt_export_options eo;
    bt_export_options_init(&eo);
    eo.table = table;
    eo.format = fmt;
    eo.include_sources = include;
    assert_int_equal(bt_export_write(s, membuf_write, &m, &eo), BT_OK);
    return m.p;
}

static void test_exact_text(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    fill(t.s);
    char *g = export_text(t.s, BT_TABLE_PLACES, BT_FORMAT_GEOJSON, 0);
    assert_string_equal(
        g, "{\"type\":\"FeatureCollection\",\"name\":\"places\",\"features\":[\n"
           "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
           "[124.39806,40.10056]},\"properties\":{\"name\":\"Sin\xc5\xad" "iju\","
           "\"country\":\"KP\",\"admin1\":\"11\"}},\n"
           "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
           "[128.19624,41.41772]},\"properties\":{\"name\":\"A \\\"quoted\\\", name\","
           "\"country\":\"CN\"}}\n]}\n");
    free(g);
    char *c = export_text(t.s, BT_TABLE_PLACES, BT_FORMAT_CSV, 0);
    assert_string_equal(c, "name,country,admin1,lon,lat\r\n"
                           "Sin\xc5\xad" "iju,KP,11,124.39806,40.10056\r\n"
                           "\"A \"\"quoted\"\", name\",CN,,128.19624,41.41772\r\n");
    free(c);
    /* JSON escaping of every awkward character of the segment's river name */
    char *b = export_text(t.s, BT_TABLE_BORDERS, BT_FORMAT_GEOJSONSEQ, 0);
    assert_non_null(strstr(b, "\"river\":\"quote \\\" backslash \\\\ <tag> & 'apos' comma, "
                              "newline\\nCR\\rtab\\t ctrl\\u0001 Sin\xc5\xad" "iju \xe4\xb8\xad\""));
    assert_non_null(strstr(b, "\"coordinates\":[[128.1234567,41.3],[128.2,41.4],[128.3,41.45]]"));
    /* one feature a line */
    int lines = 0;
    for (char *p = b; *p; p++) lines += *p == '\n';
    assert_int_equal(lines, 2);
    free(b);
    /* KML: escaped text, coordinates, well-formed nesting */
    char *k = export_text(t.s, BT_TABLE_BORDERS, BT_FORMAT_KML, 0);
    assert_non_null(strstr(k, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                              "<kml xmlns=\"http://www.opengis.net/kml/2.2\"><Document>"));
    assert_non_null(strstr(k, "<description>quote &quot; backslash \\ &lt;tag&gt; &amp; "
                              "&apos;apos&apos; comma, newline\nCR&#13;tab\t ctrl Sin\xc5\xad"
                              "iju \xe4\xb8\xad</description>"));
    assert_non_null(strstr(k, "<LineString><tessellate>1</tessellate><coordinates>"
                              "128.1234567,41.3 128.2,41.4 128.3,41.45</coordinates>"
                              "</LineString>"));
    assert_null(strchr(k, '\x01'));
    int open = 0, close = 0;
    for (char *p = k; (p = strstr(p, "<Placemark>")); p++) open++;
    for (char *p = k; (p = strstr(p, "</Placemark>")); p++) close++;
    assert_int_equal(open, 2);
    assert_int_equal(close, 2);
    assert_non_null(strstr(k, "</Document></kml>\n"));
    free(k);
    /* KML of installations: a Point and a LineString */
    k = export_text(t.s, BT_TABLE_INSTALLATIONS, BT_FORMAT_KML, 0);
    assert_non_null(strstr(k, "<Point><coordinates>128.2,41.39</coordinates></Point>"));
    assert_non_null(strstr(k, "<Data name=\"material\"><value>thin_steel_wire</value></Data>"));
    free(k);
    /* decimals */
    membuf m = {0};
    bt_export_options eo;
    bt_export_options_init(&eo);
    eo.table = BT_TABLE_BORDERS;
    eo.format = BT_FORMAT_CSV;
    eo.decimals = 2;
    assert_int_equal(bt_export_write(t.s, membuf_write, &m, &eo), BT_OK);
    assert_non_null(strstr(m.p, "\"LINESTRING(128.12 41.3,128.2 41.4,128.3 41.45)\""));
    free(m.p);
    tstore_close(&t);
}

/* ---- redaction ------------------------------------------------------------------ */

/* No 4-byte piece of the name appears (so neither does the whole name). The names of
 * fill() are made of pieces that occur nowhere else in it. */
static void assert_no_piece(const char *hay, size_t n, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i + 4 <= len; i++) {
        for (size_t j = 0; j + 4 <= n; j++) {
            if (memcmp(hay + j, name + i, 4) == 0) {
                fprintf(stderr, "found '%.4s' of '%s'\n", name + i, name);
                fail();
            }
        }
    }
}

static void test_redaction(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    fill(t.s);
    const bt_format fmts[] = {BT_FORMAT_GEOJSON, BT_FORMAT_GEOJSONSEQ, BT_FORMAT_CSV,
                              BT_FORMAT_KML};
    for (size_t f = 0; f < 4; f++) {
        for (int table = BT_TABLE_BORDERS; table <= BT_TABLE_PLACES; table++) {
            if (table == BT_TABLE_SOURCES) continue;
            char *x = export_text(t.s, (bt_table)table, fmts[f], 0);
            size_t n = strlen(x);
            assert_no_piece(x, n, "Zqx-Kjm-Vwqf-77");
            assert_no_piece(x, n, "Vwj Jqbz Xyzk 42");
            assert_no_piece(x, n, "Qzx Jqv 88 Xkq");
            assert_null(strstr(x, "\"source\""));
            assert_null(strstr(x, "source_notes"));
            free(x);
        }
    }
    /* with the flag they are there */
    char *x = export_text(t.s, BT_TABLE_INCIDENTS, BT_FORMAT_GEOJSON, 1);
    assert_non_null(strstr(x, "\"source\":\"Zqx-Kjm-Vwqf-77\""));
    assert_non_null(strstr(x, "\"source_notes\":\"Qzx Jqv 88 Xkq\""));
    assert_non_null(strstr(x, "\"source\":\"Vwj Jqbz Xyzk 42\""));
    free(x);
    /* the sources table only with the flag */
    membuf m = {0};
    bt_export_options eo;
    bt_export_options_init(&eo);
    eo.table = BT_TABLE_SOURCES;
    assert_int_equal(bt_export_write(t.s, membuf_write, &m, &eo), BT_ERR_INVALID);
    assert_int_equal(m.n, 0);
    /* a redacted export imports back, without links */
    char *red = export_text(t.s, BT_TABLE_INCIDENTS, BT_FORMAT_GEOJSON, 0);
    tstore t2;
    tstore_open(&t2);
    assert_int_equal(import_text(t2.s, BT_TABLE_INCIDENTS, "red.geojson", red, NULL), BT_OK);
    bt_counts c = counts(t2.s);
    assert_int_equal(c.incidents, 2);
    assert_int_equal(c.sources, 0);
    assert_int_equal(c.links, 0);
    free(red);
    tstore_close(&t2);
    tstore_close(&t);
}

/* ---- generalisation ----------------------------------------------------------------- */

/* Side of point p relative to the directed segment a->b: +1 left, -1 right, 0 on. */
static int side(bt_lonlat a, bt_lonlat b, bt_lonlat p)
{
    double c = (b.lon - a.lon) * (p.lat - a.lat) - (b.lat - a.lat) * (p.lon - a.lon);
    return c > 0 ? 1 : c < 0 ? -1 : 0;
}

/* Is p, collinear with a-b, within the segment's box? */
static int on_seg(bt_lonlat a, bt_lonlat b, bt_lonlat p)
{
    return fmin(a.lon, b.lon) <= p.lon && p.lon <= fmax(a.lon, b.lon) &&
           fmin(a.lat, b.lat) <= p.lat && p.lat <= fmax(a.lat, b.lat);
}

/* Do segments p1-p2 and q1-q2 intersect (touching counts)? */
static int segs_meet(bt_lonlat p1, bt_lonlat p2, bt_lonlat q1, bt_lonlat q2)
{
    int d1 = side(q1, q2, p1), d2 = side(q1, q2, p2), d3 = side(p1, p2, q1),
        d4 = side(p1, p2, q2);
    if (d1 * d2 < 0 && d3 * d4 < 0) return 1;
    return (d1 == 0 && on_seg(q1, q2, p1)) || (d2 == 0 && on_seg(q1, q2, p2)) ||
           (d3 == 0 && on_seg(p1, p2, q1)) || (d4 == 0 && on_seg(p1, p2, q2));
}

struct gen_read {
    bt_lonlat pts[1200];
    char refs[1200][24];
    int n;
};

/* Pulls the refs and coordinates out of a GeoJSON sequence export. */
static void parse_points(const char *text, struct gen_read *g)
{
    g->n = 0;
    const char *p = text;
    while ((p = strstr(p, "\"id\":\"")) != NULL && g->n < 1200) {
        p += 6;
        const char *q = strchr(p, '"');
        snprintf(g->refs[g->n], 24, "%.*s", (int)(q - p), p);
        const char *c = strstr(q, "\"coordinates\":[");
        c += strlen("\"coordinates\":[");
        char *end;
        g->pts[g->n].lon = strtod(c, &end);
        g->pts[g->n].lat = strtod(end + 1, NULL);
        g->n++;
        p = c;
    }
}

static void test_generalise_straight_border(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    /* a straight border running north-east; points on both sides, some very close */
    bt_lonlat a = {128.0, 41.0}, b = {128.5, 41.5};
    bt_segment seg = {0, "T-T", "diag", 0, BT_SEGMENT_LAND, NULL, (const bt_lonlat[]){a, b}, 2};
    assert_int_equal(bt_segment_add(t.s, &seg, NULL), BT_OK);
    assert_int_equal(bt_store_begin(t.s), BT_OK);
    for (int i = 0; i < 400; i++) {
        double f = 0.05 + 0.9 * (i / 400.0);
        /* perpendicular offsets from 1 m to ~2 km on alternating sides */
        double off = (1 + (i * 37) % 2000) / 111320.0 * (i % 2 ? 1 : -1);
        bt_incident inc;
        bt_incident_init(&inc);
        char ref[16];
        snprintf(ref, sizeof ref, "G-%03d", i);
        inc.ref = ref;
        inc.where.lon = a.lon + f * (b.lon - a.lon) + off * 0.7071;
        inc.where.lat = a.lat + f * (b.lat - a.lat) - off * 0.7071;
        inc.start = 0;
        inc.end = 1;
        assert_int_equal(bt_incident_add(t.s, &inc, NULL), BT_OK);
    }
    assert_int_equal(bt_store_commit(t.s), BT_OK);
    membuf m = {0};
    bt_export_options eo;
    bt_export_options_init(&eo);
    eo.format = BT_FORMAT_GEOJSONSEQ;
    eo.generalise_m = 1000;
    assert_int_equal(bt_export_write(t.s, membuf_write, &m, &eo), BT_OK);
    static struct gen_read g;
    parse_points(m.p, &g);
    assert_int_equal(g.n, 400);
    int moved = 0;
    for (int i = 0; i < g.n; i++) {
        int64_t id;
        bt_incident *inc;
        assert_int_equal(bt_incident_find(t.s, g.refs[i], &id), BT_OK);
        assert_int_equal(bt_incident_get(t.s, id, &inc), BT_OK);
        int s0 = side(a, b, inc->where), s1 = side(a, b, g.pts[i]);
        assert_int_not_equal(s0, 0);
        assert_int_equal(s0, s1); /* the same side of the border */
        double d;
        assert_int_equal(bt_geod_distance(inc->where, g.pts[i], &d), BT_OK);
        assert_true(d <= 1000 * 1.0001);
        moved += d > 1;
        bt_incident_free(inc);
    }
    assert_true(moved > 300); /* it did generalise */
    free(m.p);
    tstore_close(&t);
}

static void test_generalise_real_border(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    bt_import_options o;
    bt_import_options_init(&o);
    o.table = BT_TABLE_BORDERS;
    assert_int_equal(bt_import_file(t.s, BT_EXAMPLES_DATA_DIR "/borders.geojson", &o, NULL), BT_OK);
    o.table = BT_TABLE_INCIDENTS;
    assert_int_equal(bt_import_file(t.s, BT_EXAMPLES_DATA_DIR "/incidents_hyesan.geojson", &o, NULL),
                     BT_OK);
    membuf m = {0};
    bt_export_options eo;
    bt_export_options_init(&eo);
    eo.format = BT_FORMAT_GEOJSONSEQ;
    eo.generalise_m = 2000;
    assert_int_equal(bt_export_write(t.s, membuf_write, &m, &eo), BT_OK);
    static struct gen_read g;
    parse_points(m.p, &g);
    assert_int_equal(g.n, 301);
    /* the border edges near Hyesan, from the store */
    static bt_lonlat edges[20000][2];
    int ne = 0;
    for (int64_t id = 1; id <= 137; id++) {
        bt_segment *seg;
        assert_int_equal(bt_segment_get(t.s, id, &seg), BT_OK);
        for (size_t k = 0; k + 1 < seg->npoints && ne < 20000; k++) {
            bt_lonlat p = seg->points[k], q = seg->points[k + 1];
            if (fmax(p.lon, q.lon) < 127.9 || fmin(p.lon, q.lon) > 128.5 ||
                fmax(p.lat, q.lat) < 41.2 || fmin(p.lat, q.lat) > 41.7)
                continue;
            edges[ne][0] = p;
            edges[ne][1] = q;
            ne++;
        }
        bt_segment_free(seg);
    }
    assert_true(ne > 50);
    int moved = 0;
    for (int i = 0; i < g.n; i++) {
        int64_t id;
        bt_incident *inc;
        assert_int_equal(bt_incident_find(t.s, g.refs[i], &id), BT_OK);
        assert_int_equal(bt_incident_get(t.s, id, &inc), BT_OK);
        /* the straight move from the original to the published point meets no border
         * edge: the point stayed on its side */
        for (int e = 0; e < ne; e++)
            if (segs_meet(inc->where, g.pts[i], edges[e][0], edges[e][1])) {
                fprintf(stderr, "%s crosses edge %d\n", g.refs[i], e);
                fail();
            }
        double d;
        assert_int_equal(bt_geod_distance(inc->where, g.pts[i], &d), BT_OK);
        assert_true(d <= 2000 * 1.0001);
        moved += d > 1;
        bt_incident_free(inc);
    }
    assert_true(moved > 250);
    free(m.p);
    tstore_close(&t);
}

/* ---- failures and options ------------------------------------------------------------ */

static int count_cb(const bt_incident *inc, void *udata)
{
    (void)inc;
    return ++*(int *)udata >= 1; /* stop after the first */
}

static void test_failures_and_options(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    fill(t.s);
    bt_export_options eo;
    bt_export_options_init(&eo);
    assert_int_equal(eo.decimals, 7);
    assert_int_equal(eo.include_sources, 0);
    membuf m = {0};
    eo.decimals = 8;
    assert_int_equal(bt_export_write(t.s, membuf_write, &m, &eo), BT_ERR_INVALID);
    assert_string_equal(bt_store_errmsg(t.s), "export: decimals is 8; expected 0..7");
    eo.decimals = 7;
    eo.generalise_m = -1;
    assert_int_equal(bt_export_write(t.s, membuf_write, &m, &eo), BT_ERR_INVALID);
    eo.generalise_m = 0;
    eo.table = (bt_table)17;
    assert_int_equal(bt_export_write(t.s, membuf_write, &m, &eo), BT_ERR_INVALID);
    eo.table = BT_TABLE_SOURCES;
    eo.include_sources = 1;
    eo.format = BT_FORMAT_KML;
    assert_int_equal(bt_export_write(t.s, membuf_write, &m, &eo), BT_ERR_INVALID);
    assert_int_equal(bt_export_write(t.s, NULL, &m, &eo), BT_ERR_INVALID);
    assert_int_equal(bt_export_write(NULL, membuf_write, &m, &eo), BT_ERR_INVALID);
    /* the writer fails */
    bt_export_options_init(&eo);
    m.fail_after = 1;
    assert_int_equal(bt_export_write(t.s, membuf_write, &m, &eo), BT_ERR_IO);
    assert_string_equal(bt_store_errmsg(t.s), "export: the writer failed");
    /* files: by extension; unknown extension refused; a failed file is removed */
    char path[200];
    snprintf(path, sizeof path, "%s/out.kml", t.dir);
    bt_export_options_init(&eo);
    eo.table = BT_TABLE_BORDERS;
    assert_int_equal(bt_export_file(t.s, path, &eo), BT_OK);
    char *k = read_all(path, NULL);
    assert_non_null(strstr(k, "<kml"));
    free(k);
    snprintf(path, sizeof path, "%s/out.txt", t.dir);
    assert_int_equal(bt_export_file(t.s, path, &eo), BT_ERR_INVALID);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(path, sizeof path, "%s/no/such/dir.csv", t.dir);
    assert_int_equal(bt_export_file(t.s, path, &eo), BT_ERR_IO);
    snprintf(path, sizeof path, "%s/out.csv", t.dir);
    assert_int_equal(bt_export_file(t.s, path, &eo), BT_OK);
    bt_import_options io;
    bt_import_options_init(&io);
    io.table = BT_TABLE_BORDERS;
    tstore t2;
    tstore_open(&t2);
    assert_int_equal(bt_import_file(t2.s, path, &io, NULL), BT_OK);
    assert_int_equal(counts(t2.s).segments, 2);
    tstore_close(&t2);
    /* foreach stops when asked */
    int n = 0;
    assert_int_equal(bt_incident_foreach(t.s, count_cb, &n), BT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(bt_incident_foreach(t.s, NULL, &n), BT_ERR_INVALID);
    /* an empty table exports an empty collection */
    tstore_open(&t2);
    char *e = export_text(t2.s, BT_TABLE_INCIDENTS, BT_FORMAT_GEOJSON, 0);
    assert_string_equal(e, "{\"type\":\"FeatureCollection\",\"name\":\"incidents\",\"features\":[\n\n]}\n");
    assert_int_equal(import_text(t2.s, BT_TABLE_INCIDENTS, "e.geojson", e, NULL), BT_OK);
    free(e);
    tstore_close(&t2);
    tstore_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_round_trip_sample),
        cmocka_unit_test(test_exact_text),
        cmocka_unit_test(test_redaction),
        cmocka_unit_test(test_generalise_straight_border),
        cmocka_unit_test(test_generalise_real_border),
        cmocka_unit_test(test_failures_and_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
