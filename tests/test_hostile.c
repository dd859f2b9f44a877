/**
 * @file test_hostile.c
 * @brief Hostile and bad input: SQL text in every string of every table (through the
 * API and through import) is stored verbatim and changes nothing else; non-finite and
 * out-of-range coordinates, empty geometries, invalid UTF-8, deeply nested and
 * truncated JSON, long strings and lines; a file that is not a store, a store of a
 * newer schema, a read-only file and a locked file, each with its status code.
 */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include "trust_util.h"

static const char *const evil[] = {
    "'); DROP TABLE incidents;--",
    "\"; DELETE FROM sources; --",
    "x' OR '1'='1",
    "Robert'); DROP TABLE borders; SELECT load_extension('/tmp/x');--",
    "%s%s%n%x \\ \\' \\\" ` $(rm -rf /)",
    "\x01\x02\x1b[31mred\x7f\t\r",
};
#define NEVIL (sizeof evil / sizeof evil[0])

static bt_store *open_store(const char *path, unsigned flags)
{
    bt_store *s = NULL;
    char *err = NULL;
    int rc = bt_store_open(path, flags, &s, &err);
    if (rc != BT_OK)
        fail_msg("open %s: %s", path, err ? err : "");
    return s;
}

/* Every string field of every table, through the API, read back verbatim. */
static void test_sql_text_through_api(void **state)
{
    (void)state;
    tu_dir d;
    assert_int_equal(tu_dir_make(&d), 0);
    char path[512];
    bt_store *s = open_store(tu_path(&d, "evil.db", path, sizeof path),
                             BT_OPEN_READWRITE | BT_OPEN_CREATE);
    for (size_t i = 0; i < TU_NFIXTURES; i++)
        assert_int_equal(tu_import(s, &tu_fixtures[i], NULL), BT_OK);
    bt_counts base;
    assert_int_equal(bt_store_count(s, &base), BT_OK);
    bt_lonlat line[2] = {{128.1, 41.3}, {128.2, 41.4}};
    for (size_t i = 0; i < NEVIL; i++) {
        const char *e = evil[i];
        char uniq[256];
        snprintf(uniq, sizeof uniq, "%s#%zu", e, i);
        int64_t id = 0;

        bt_segment seg = {0, uniq, uniq, (int)i, BT_SEGMENT_LAND, e, line, 2};
        assert_int_equal(bt_segment_add(s, &seg, &id), BT_OK);
        bt_segment *sg = NULL;
        assert_int_equal(bt_segment_get(s, id, &sg), BT_OK);
        assert_string_equal(sg->border, uniq);
        assert_string_equal(sg->name, uniq);
        assert_string_equal(sg->river, e);
        bt_segment_free(sg);

        bt_source src = {0, uniq, BT_SOURCE_HUMAN, 'C', e};
        int64_t sid = 0;
        assert_int_equal(bt_source_add(s, &src, &sid), BT_OK);
        bt_source *so = NULL;
        assert_int_equal(bt_source_get(s, sid, &so), BT_OK);
        assert_string_equal(so->name, uniq);
        assert_string_equal(so->notes, e);
        bt_source_free(so);
        int64_t found = 0;
        assert_int_equal(bt_source_find(s, uniq, &found), BT_OK);
        assert_int_equal(found, sid);

        bt_installation inst;
        bt_installation_init(&inst);
        inst.ref = uniq;
        inst.post_material = e;
        inst.condition = e;
        inst.points = line;
        inst.npoints = 2;
        assert_int_equal(bt_installation_add(s, &inst, &id), BT_OK);
        bt_installation *in = NULL;
        assert_int_equal(bt_installation_get(s, id, &in), BT_OK);
        assert_string_equal(in->ref, uniq);
        assert_string_equal(in->post_material, e);
        assert_string_equal(in->condition, e);
        bt_installation_free(in);

        bt_incident inc;
        bt_incident_init(&inc);
        inc.ref = uniq;
        inc.summary = e;
        inc.where = line[0];
        inc.start = 1593561600;
        inc.end = inc.start;
        assert_int_equal(bt_incident_add(s, &inc, &id), BT_OK);
        bt_incident *ic = NULL;
        assert_int_equal(bt_incident_get(s, id, &ic), BT_OK);
        assert_string_equal(ic->ref, uniq);
        assert_string_equal(ic->summary, e);
        bt_incident_free(ic);
        assert_int_equal(bt_incident_find(s, uniq, &found), BT_OK);
        assert_int_equal(found, id);

        bt_place pl = {0, uniq, "KP", e, line[1]};
        assert_int_equal(bt_place_add(s, &pl, &id), BT_OK);
        bt_place *pp = NULL;
        assert_int_equal(bt_place_get(s, id, &pp), BT_OK);
        assert_string_equal(pp->name, uniq);
        assert_string_equal(pp->admin1, e);
        bt_place_free(pp);
        /* a lookup by the text finds it or says no, nothing else */
        int rc = bt_place_lookup(s, uniq, &pp);
        assert_true(rc == BT_OK || rc == BT_ERR_NOT_FOUND || rc == BT_ERR_INVALID);
        bt_place_free(pp);
    }
    /* every table is there, with exactly the rows added */
    bt_counts c;
    assert_int_equal(bt_store_count(s, &c), BT_OK);
    assert_int_equal(c.segments, base.segments + (int64_t)NEVIL);
    assert_int_equal(c.installations, base.installations + (int64_t)NEVIL);
    assert_int_equal(c.incidents, base.incidents + (int64_t)NEVIL);
    assert_int_equal(c.sources, base.sources + (int64_t)NEVIL);
    assert_int_equal(c.places, base.places + (int64_t)NEVIL);
    assert_int_equal(c.links, base.links);
    bt_store_close(s);
    tu_dir_remove(&d);
}

/* JSON string escaping of one evil text. */
static void json_escape(const char *in, char *out, size_t n)
{
    size_t o = 0;
    for (; *in && o + 8 < n; in++) {
        unsigned char ch = (unsigned char)*in;
        if (ch == '"' || ch == '\\')
            o += (size_t)snprintf(out + o, n - o, "\\%c", ch);
        else if (ch < 0x20)
            o += (size_t)snprintf(out + o, n - o, "\\u%04x", ch);
        else
            out[o++] = (char)ch;
    }
    out[o] = '\0';
}

/* The same text through GeoJSON import into every table, and back out by export. */
static void test_sql_text_through_import(void **state)
{
    (void)state;
    tu_dir d;
    assert_int_equal(tu_dir_make(&d), 0);
    char path[512];
    bt_store *s = open_store(tu_path(&d, "evil2.db", path, sizeof path),
                             BT_OPEN_READWRITE | BT_OPEN_CREATE);
    for (size_t i = 0; i < NEVIL; i++) {
        char e[512], text[8192];
        json_escape(evil[i], e, sizeof e);
        struct { bt_table t; const char *fmt; } docs[] = {
            {BT_TABLE_BORDERS, "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\","
             "\"coordinates\":[[128.1,41.3],[128.2,41.4]]},\"properties\":{\"border\":"
             "\"%1$s#%2$zu\",\"name\":\"%1$s\",\"river\":\"%1$s\"}}\n"},
            {BT_TABLE_SOURCES, "{\"type\":\"Feature\",\"geometry\":null,\"properties\":"
             "{\"name\":\"%1$s#%2$zu\",\"notes\":\"%1$s\"}}\n"},
            {BT_TABLE_INSTALLATIONS, "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\","
             "\"coordinates\":[128.1,41.3]},\"properties\":{\"ref\":\"%1$s#%2$zu\","
             "\"kind\":\"guard_post\",\"post_material\":\"%1$s\",\"condition\":\"%1$s\",\"source\":\"%1$s#i%2$zu\","
             "\"source_notes\":\"%1$s\"}}\n"},
            {BT_TABLE_INCIDENTS, "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\","
             "\"coordinates\":[128.1,41.3]},\"properties\":{\"ref\":\"%1$s#%2$zu\",\"type\":"
             "\"other\",\"start\":\"2020-07\",\"summary\":\"%1$s\",\"source\":\"%1$s#s%2$zu\","
             "\"source_notes\":\"%1$s\"}}\n"},
            {BT_TABLE_PLACES, "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\","
             "\"coordinates\":[128.1,41.3]},\"properties\":{\"name\":\"%1$s#%2$zu\","
             "\"country\":\"KP\",\"admin1\":\"%1$s\"}}\n"},
        };
        for (size_t k = 0; k < sizeof docs / sizeof docs[0]; k++) {
            int m = snprintf(text, sizeof text, docs[k].fmt, e, i);
            bt_import_options o;
            bt_import_options_init(&o);
            o.table = docs[k].t;
            o.format = BT_FORMAT_GEOJSONSEQ;
            int rc = bt_import_mem(s, text, (size_t)m, "evil.geojsonl", &o, NULL);
            if (rc != BT_OK)
                fail_msg("evil %zu into %s: %s", i, bt_table_name(docs[k].t),
                         bt_store_errmsg(s));
        }
    }
    bt_counts c;
    assert_int_equal(bt_store_count(s, &c), BT_OK);
    assert_int_equal(c.segments, (int64_t)NEVIL);
    assert_int_equal(c.installations, (int64_t)NEVIL);
    assert_int_equal(c.incidents, (int64_t)NEVIL);
    assert_int_equal(c.sources, (int64_t)(3 * NEVIL));
    assert_int_equal(c.places, (int64_t)NEVIL);
    assert_int_equal(c.links, (int64_t)NEVIL);
    /* verbatim: each summary reads back as given */
    for (size_t i = 0; i < NEVIL; i++) {
        char ref[256];
        snprintf(ref, sizeof ref, "%s#%zu", evil[i], i);
        int64_t id = 0;
        assert_int_equal(bt_incident_find(s, ref, &id), BT_OK);
        bt_incident *ic = NULL;
        assert_int_equal(bt_incident_get(s, id, &ic), BT_OK);
        assert_string_equal(ic->summary, evil[i]);
        bt_incident_free(ic);
    }
    bt_store_close(s);
    tu_dir_remove(&d);
}

/* Coordinates and geometries that cannot be true. */
static void test_bad_numbers_and_geometries(void **state)
{
    (void)state;
    bt_store *s = open_store(":memory:", BT_OPEN_READWRITE | BT_OPEN_CREATE);
    const double bad[][2] = {{NAN, 41}, {128, NAN}, {INFINITY, 41}, {128, -INFINITY},
                             {128, 91}, {128, -90.000001}, {180.5, 41}, {-181, 41}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bt_incident inc;
        bt_incident_init(&inc);
        inc.ref = "BAD";
        inc.where.lon = bad[i][0];
        inc.where.lat = bad[i][1];
        inc.start = inc.end = 0;
        assert_int_equal(bt_incident_add(s, &inc, NULL), BT_ERR_INVALID);
        assert_true(bt_store_errmsg(s)[0] != '\0');
        bt_lonlat pts[2] = {{128, 41}, {bad[i][0], bad[i][1]}};
        bt_segment seg = {0, "B", "bad", 0, BT_SEGMENT_LAND, NULL, pts, 2};
        assert_int_equal(bt_segment_add(s, &seg, NULL), BT_ERR_INVALID);
        bt_place pl = {0, "P", "KP", NULL, pts[1]};
        assert_int_equal(bt_place_add(s, &pl, NULL), BT_ERR_INVALID);
        double m = 0;
        assert_int_equal(bt_geod_distance(pts[0], pts[1], &m), BT_ERR_INVALID);
    }
    /* empty geometry, a one-point line */
    bt_lonlat one = {128, 41};
    bt_segment seg0 = {0, "B", "empty", 0, BT_SEGMENT_LAND, NULL, NULL, 0};
    assert_int_equal(bt_segment_add(s, &seg0, NULL), BT_ERR_INVALID);
    bt_segment seg1 = {0, "B", "one", 0, BT_SEGMENT_LAND, NULL, &one, 1};
    assert_int_equal(bt_segment_add(s, &seg1, NULL), BT_ERR_INVALID);
    bt_installation inst;
    bt_installation_init(&inst);
    assert_int_equal(bt_installation_add(s, &inst, NULL), BT_ERR_INVALID); /* no point */
    /* a self-crossing fence line is a valid (non-simple) LineString: stored as given */
    bt_lonlat bow[4] = {{128.0, 41.0}, {128.1, 41.1}, {128.1, 41.0}, {128.0, 41.1}};
    inst.points = bow;
    inst.npoints = 4;
    int64_t id = 0;
    assert_int_equal(bt_installation_add(s, &inst, &id), BT_OK);
    bt_installation *got = NULL;
    assert_int_equal(bt_installation_get(s, id, &got), BT_OK);
    assert_int_equal(got->npoints, 4);
    bt_installation_free(got);
    /* a self-intersecting (bow-tie) query polygon: an error or a clean answer */
    bt_query q;
    bt_query_init(&q);
    q.area = BT_AREA_POLYGON;
    q.wkt = "POLYGON((128 41,129 42,129 41,128 42,128 41))";
    int64_t n = -1;
    int rc = bt_incident_count(s, &q, &n, NULL);
    assert_true(rc == BT_OK || rc == BT_ERR_GEOMETRY || rc == BT_ERR_INVALID);
    print_message("bow-tie query polygon: status %d %s\n", rc, bt_store_errmsg(s));
    bt_counts c;
    assert_int_equal(bt_store_count(s, &c), BT_OK);
    assert_int_equal(c.incidents + c.segments + c.places, 0);
    bt_store_close(s);
}

/* Bad files: errors with messages, nothing stored. */
static void test_bad_files(void **state)
{
    (void)state;
    bt_store *s = open_store(":memory:", BT_OPEN_READWRITE | BT_OPEN_CREATE);
    bt_import_options o;
    bt_import_options_init(&o);
    o.format = BT_FORMAT_GEOJSON;
    /* 200,000 nested arrays, and as many objects */
    size_t depth = 200000;
    char *deep = malloc(2 * depth + 64);
    assert_non_null(deep);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    int rc = bt_import_mem(s, deep, 2 * depth, "deep.geojson", &o, NULL);
    assert_int_equal(rc, BT_ERR_PARSE);
    print_message("200000 nested arrays: %s\n", bt_store_errmsg(s));
    /* 100,000 nested objects inside a property */
    size_t nest = 100000;
    char *deep2 = malloc(7 * nest + 512);
    assert_non_null(deep2);
    size_t off = (size_t)sprintf(deep2, "{\"type\":\"FeatureCollection\",\"features\":"
                                        "[{\"type\":\"Feature\",\"geometry\":{\"type\":"
                                        "\"Point\",\"coordinates\":[128.1,41.3]},"
                                        "\"properties\":{\"ref\":\"N\",\"type\":\"other\","
                                        "\"start\":\"2020\",\"summary\":");
    for (size_t i = 0; i < nest; i++)
        off += (size_t)sprintf(deep2 + off, "{\"x\":");
    deep2[off++] = '1';
    memset(deep2 + off, '}', nest);
    off += nest;
    off += (size_t)sprintf(deep2 + off, "}}]}");
    rc = bt_import_mem(s, deep2, off, "deep2.geojson", &o, NULL);
    print_message("100000 nested objects in a property: %d %s\n", rc, bt_store_errmsg(s));
    assert_true(rc == BT_ERR_PARSE || rc == BT_ERR_INVALID);
    free(deep2);
    free(deep);
    /* truncated at every byte of a valid file: never a crash, never a partial store */
    size_t len = strlen(tu_incidents_geojson);
    for (size_t cut = 0; cut < len; cut += 7) {
        rc = bt_import_mem(s, tu_incidents_geojson, cut, "cut.geojson", &o, NULL);
        bt_counts c;
        assert_int_equal(bt_store_count(s, &c), BT_OK);
        if (rc == BT_OK)
            fail_msg("truncated at %zu of %zu: accepted", cut, len);
        assert_int_equal(c.incidents, 0);
        assert_int_equal(c.sources, 0);
    }
    /* a 4 MB summary on one line, and a LineString of 200,000 vertices */
    size_t big = 4u << 20;
    char *line = malloc(big + 4096);
    assert_non_null(line);
    off = (size_t)sprintf(line, "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\","
                                "\"coordinates\":[128.1,41.3]},\"properties\":{\"ref\":\"L\","
                                "\"type\":\"other\",\"start\":\"2020\",\"summary\":\"");
    memset(line + off, 'x', big);
    off += big;
    off += (size_t)sprintf(line + off, "\"}}\n");
    o.format = BT_FORMAT_GEOJSONSEQ;
    assert_int_equal(bt_import_mem(s, line, off, "long.geojsonl", &o, NULL), BT_OK);
    int64_t id = 0;
    assert_int_equal(bt_incident_find(s, "L", &id), BT_OK);
    bt_incident *inc = NULL;
    assert_int_equal(bt_incident_get(s, id, &inc), BT_OK);
    assert_int_equal(strlen(inc->summary), big);
    bt_incident_free(inc);
    free(line);
    size_t nv = 200000;
    char *lv = malloc(nv * 32 + 512);
    assert_non_null(lv);
    off = (size_t)sprintf(lv, "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\","
                              "\"coordinates\":[");
    for (size_t i = 0; i < nv; i++)
        off += (size_t)sprintf(lv + off, "%s[%.6f,%.6f]", i ? "," : "",
                               124.0 + (double)i * 1e-5, 40.0 + (double)(i % 100) * 1e-5);
    off += (size_t)sprintf(lv + off, "]},\"properties\":{\"border\":\"PRK-CHN\",\"name\":\"V\"}}\n");
    o.table = BT_TABLE_BORDERS;
    assert_int_equal(bt_import_mem(s, lv, off, "verts.geojsonl", &o, NULL), BT_OK);
    bt_segment *sg = NULL;
    assert_int_equal(bt_segment_get(s, 1, &sg), BT_OK);
    assert_int_equal(sg->npoints, nv);
    bt_segment_free(sg);
    free(lv);
    bt_store_close(s);
}

/* Decision: text must be valid UTF-8 (the API says UTF-8 everywhere, GeoJSON is UTF-8
 * by RFC 8259, and GIS tools reading the store choke on anything else). A record with
 * invalid UTF-8 in a text field is refused with BT_ERR_INVALID naming the field. */
static void test_invalid_utf8_rejected(void **state)
{
    (void)state;
    bt_store *s = open_store(":memory:", BT_OPEN_READWRITE | BT_OPEN_CREATE);
    bt_incident inc;
    bt_incident_init(&inc);
    inc.ref = "U-1";
    inc.where.lon = 128.1;
    inc.where.lat = 41.3;
    inc.summary = "caf\xc3 overlong \xc0\xaf and \xff";
    int rc = bt_incident_add(s, &inc, NULL);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", bt_store_errmsg(s));
    print_message("invalid UTF-8 summary through the API: status %d '%s'\n", rc, msg);
    bt_source src = {0, "bad \xed\xa0\x80 surrogate", BT_SOURCE_HUMAN, 'C', NULL};
    int rc2 = bt_source_add(s, &src, NULL);
    char msg2[1024];
    snprintf(msg2, sizeof msg2, "%s", bt_store_errmsg(s));
    bt_store_close(s); /* before the checks, so that a failure leaks nothing */
    assert_int_equal(rc, BT_ERR_INVALID);
    assert_non_null(strstr(msg, "summary"));
    assert_int_equal(rc2, BT_ERR_INVALID);
    assert_non_null(strstr(msg2, "name"));
}

static void test_not_a_store_and_newer_schema(void **state)
{
    (void)state;
    tu_dir d;
    assert_int_equal(tu_dir_make(&d), 0);
    char path[512];
    bt_store *s = NULL;
    char *err = NULL;
    /* a text file */
    tu_path(&d, "notes.db", path, sizeof path);
    assert_int_equal(tu_write_file(path, "hello, not a database\n", 22), 0);
    assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE, &s, &err), BT_ERR_NOT_A_STORE);
    assert_null(s);
    assert_non_null(err);
    bt_string_free(err);
    err = NULL;
    /* a SQLite database of another application */
    tu_path(&d, "other.db", path, sizeof path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x); PRAGMA application_id=42",
                                  NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(bt_store_open(path, BT_OPEN_READONLY, &s, &err), BT_ERR_NOT_A_STORE);
    bt_string_free(err);
    err = NULL;
    /* a store of a newer schema */
    tu_path(&d, "newer.db", path, sizeof path);
    assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE | BT_OPEN_CREATE, &s, NULL), BT_OK);
    int v = 0;
    assert_int_equal(bt_store_schema_version(s, &v), BT_OK);
    bt_store_close(s);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version=%d", v + 1);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    s = NULL;
    assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE, &s, &err), BT_ERR_SCHEMA);
    assert_null(s);
    print_message("newer schema: %s\n", err ? err : "");
    bt_string_free(err);
    err = NULL;
    assert_int_equal(bt_store_open(path, BT_OPEN_READONLY, &s, &err), BT_ERR_SCHEMA);
    bt_string_free(err);
    tu_dir_remove(&d);
}

/* As the file's owner: with mode 0644 it opens read-write (the control), with 0444
 * the open gives BT_ERR_READONLY naming the file. 0 if both hold. */
static int readonly_check(const char *path)
{
    bt_store *s = NULL;
    if (chmod(path, 0644) != 0 || bt_store_open(path, BT_OPEN_READWRITE, &s, NULL) != BT_OK)
        return 1;
    bt_store_close(s);
    s = NULL;
    char *err = NULL;
    if (chmod(path, 0444) != 0) return 1;
    int rc = bt_store_open(path, BT_OPEN_READWRITE, &s, &err);
    int ok = rc == BT_ERR_READONLY && s == NULL && err && strstr(err, path);
    if (s) bt_store_close(s);
    bt_string_free(err);
    return ok ? 0 : 1;
}

static void test_read_only_file(void **state)
{
    (void)state;
    tu_dir d;
    assert_int_equal(tu_dir_make(&d), 0);
    char path[512];
    tu_path(&d, "ro.db", path, sizeof path);
    bt_store *s = NULL;
    assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE | BT_OPEN_CREATE, &s, NULL), BT_OK);
    bt_store_close(s);
    if (geteuid() != 0) {
        assert_int_equal(readonly_check(path), 0);
    } else {
        /* root writes through mode 0444 (CI runs as root): give the directory and the
         * file to 'nobody' and check as 'nobody' in a child */
        assert_int_equal(chown(d.path, 65534, 65534), 0);
        assert_int_equal(chown(path, 65534, 65534), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            if (setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
            _exit(readonly_check(path));
        }
        int st = 0;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
    tu_dir_remove(&d);
}

static void test_locked_file(void **state)
{
    (void)state;
    tu_dir d;
    assert_int_equal(tu_dir_make(&d), 0);
    char path[512];
    tu_path(&d, "locked.db", path, sizeof path);
    bt_store *s = NULL;
    assert_int_equal(bt_store_open(path, BT_OPEN_READWRITE | BT_OPEN_CREATE, &s, NULL), BT_OK);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    bt_incident inc;
    bt_incident_init(&inc);
    inc.ref = "LOCK-1";
    inc.where.lon = 128.1;
    inc.where.lat = 41.3;
    int rc = bt_incident_add(s, &inc, NULL); /* waits the busy timeout, then gives up */
    assert_int_equal(rc, BT_ERR_BUSY);
    print_message("locked: %s\n", bt_store_errmsg(s));
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(bt_incident_add(s, &inc, NULL), BT_OK);
    bt_store_close(s);
    tu_dir_remove(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sql_text_through_api),
        cmocka_unit_test(test_sql_text_through_import),
        cmocka_unit_test(test_bad_numbers_and_geometries),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_not_a_store_and_newer_schema),
        cmocka_unit_test(test_read_only_file),
        cmocka_unit_test(test_locked_file),
        cmocka_unit_test(test_invalid_utf8_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
