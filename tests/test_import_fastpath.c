/**
 * @file test_import_fastpath.c
 * @brief The GeoJSON fast path (lib/io/import_json.c) against json-c: every feature of
 * a set of well-formed ones, and thousands of deterministic mutations of them (bytes
 * replaced, inserted, deleted), is imported once with the fast path and once with
 * json-c alone; the status, the message, the report and every field of the stored
 * incident must be the same, with and without skip_invalid. Also checks that the fast
 * path did read the well-formed features (else the comparison would prove nothing).
 */
#include "io_test_util.h"

#include "io/io.h"

/* Features the fast path takes (and some it must hand to json-c: more_sources, a
 * LineString, a duplicate name). */
static const char *const features[] = {
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128.1,41.4]},"
    "\"properties\":{\"ref\":\"A-1\",\"type\":\"arrest\",\"start\":\"2020-01-02\"}}",
    "{\"type\":\"Feature\",\"id\":17,\"geometry\":{\"type\":\"Point\",\"coordinates\":[128.12345678,"
    " 41.5e0, 12]},\"properties\":{\"type\":\"smuggling\",\"start\":\"2020-03\",\"end\":\"2020-04\","
    "\"uncertainty_m\":250.50,\"summary\":\"Sin\\u016diju \\\"quoted\\\" \\/ \\\\ tab\\tnl\\n\","
    "\"verification\":\"confirmed\",\"location_precision\":\"approximate\"}}",
    "{ \"properties\" : { \"ref\" : \"\xed\x98\x9c\xec\x82\xb0-3\", \"type\" : \"river_crossing\" ,"
    " \"start\" : \"2019\", \"time_precision\" : \"year\", \"reported\": \"2019-05-06T07:08:09Z\","
    " \"source\": \"N1\", \"reliability\": \"b\", \"credibility\": 2, \"source_type\": \"defector\" },"
    " \"geometry\" : { \"coordinates\" : [ -1E-3 , 0.0 ] , \"type\" : \"Point\" } ,"
    " \"type\" : \"Feature\", \"bbox\": [1, 2, 3, {\"x\": [null, true, false]}] }",
    "{\"type\":\"Feature\",\"id\":\"X-9\",\"geometry\":null,\"properties\":{\"type\":\"arrest\","
    "\"start\":\"2020-01-02\"}}",
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128,41]},"
    "\"properties\":null}",
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128,41]},"
    "\"properties\":{\"ref\":12345,\"type\":\"arrest\",\"start\":\"2020-01-02\",\"end\":null,"
    "\"uncertainty_m\":-0.0,\"summary\":\"\\u00e9\\u4e2d\\u0041\",\"flag\":true,\"n\":null}}",
    /* decimals of up to 15 digits (read without strtod) and longer ones, bit for bit */
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
    "[-179.999999999999,89.9999999999999,0.000000000000001]},\"properties\":{\"ref\":\"N-1\","
    "\"type\":\"arrest\",\"start\":\"2020\",\"uncertainty_m\":0.30000000000000004}}",
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":"
    "[124.500001,-0.1]},\"properties\":{\"ref\":\"N-2\",\"type\":\"arrest\",\"start\":\"2020\","
    "\"uncertainty_m\":999999999999999}}",
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128.2,41.4]},"
    "\"properties\":{\"ref\":\"A-2\",\"type\":\"arrest\",\"start\":\"2020-01-02\","
    "\"source\":\"N1\",\"more_sources\":[{\"source\":\"N2\",\"credibility\":2}]}}",
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[128,41],[129,42]]},"
    "\"properties\":{\"ref\":\"L-1\",\"type\":\"arrest\",\"start\":\"2020-01-02\"}}",
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[128,41]},"
    "\"properties\":{\"ref\":\"D-1\",\"ref\":\"D-2\",\"type\":\"arrest\",\"start\":\"2020\"}}",
    "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[1e400,41]},"
    "\"properties\":{\"ref\":\"I-1\",\"type\":\"arrest\",\"start\":\"2020\"}}",
};
/* how many of the above (from the first) the fast path must take */
#define N_FAST 8

/* The bytes a mutation puts in. */
static const char poke[] = "\"\\,:{}[]0-e.E+ unt\t\n\x01\x7f\x80\xc3\xa9\xed\xa0\xf4\x90\xff";

typedef struct outcome {
    int rc;
    char msg[BT_ERRMSG_SIZE];
    bt_import_report rep;
    long nfast;
    bool has;
    bt_incident inc;
    char ref[256], summary[512];
} outcome;

/* Imports text from memory under @p name, or (@p file non-NULL) from that file, written
 * first and read by the chunked reader with the fast path on. */
static void run_import(bt_store *s, const char *text, size_t len, const char *name,
                       const char *file, bool fast, bool skip, outcome *o)
{
    memset(o, 0, sizeof *o);
    bt_import_options opt;
    bt_import_options_init(&opt);
    opt.table = BT_TABLE_INCIDENTS;
    opt.skip_invalid = skip;
    if (file) {
        FILE *fp = fopen(file, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(text, 1, len, fp), len);
        assert_int_equal(fclose(fp), 0);
        o->nfast = -1; /* not known for a file */
    }
    assert_int_equal(bt_store_begin(s), BT_OK);
    if (file)
        o->rc = bt_import_file(s, file, &opt, &o->rep);
    else
        o->rc = bt__import_mem_ex(s, text, len, name, &opt, &o->rep, fast, &o->nfast);
    snprintf(o->msg, sizeof o->msg, "%s", bt_store_errmsg(s));
    bt_incident *inc = NULL;
    if (bt_incident_get(s, 1, &inc) == BT_OK) {
        o->has = true;
        o->inc = *inc;
        snprintf(o->ref, sizeof o->ref, "%s", inc->ref ? inc->ref : "(null)");
        snprintf(o->summary, sizeof o->summary, "%s", inc->summary ? inc->summary : "(null)");
        o->inc.ref = o->inc.summary = NULL;
        bt_incident_free(inc);
    }
    assert_int_equal(bt_store_rollback(s), BT_OK);
}

static void run_once(bt_store *s, const char *text, size_t len, bool fast, bool skip,
                     outcome *o)
{
    run_import(s, text, len, "f.geojson", NULL, fast, skip, o);
}

static void same(const outcome *a, const outcome *b, const char *text)
{
    if (a->rc != b->rc || strcmp(a->msg, b->msg) != 0 || a->has != b->has ||
        memcmp(&a->rep, &b->rep, sizeof a->rep) != 0)
        fprintf(stderr, "differs on: %s\nfast: %d %s\njson-c: %d %s\n", text, a->rc, a->msg, b->rc,
                b->msg);
    assert_int_equal(a->rc, b->rc);
    assert_string_equal(a->msg, b->msg);
    assert_memory_equal(&a->rep, &b->rep, sizeof a->rep);
    assert_int_equal(a->has, b->has);
    if (!a->has) return;
    assert_string_equal(a->ref, b->ref);
    assert_string_equal(a->summary, b->summary);
    assert_int_equal(a->inc.type, b->inc.type);
    /* the same double, bit for bit (also -0.0) */
    assert_memory_equal(&a->inc.where, &b->inc.where, sizeof a->inc.where);
    assert_memory_equal(&a->inc.uncertainty_m, &b->inc.uncertainty_m, sizeof(double));
    assert_int_equal(a->inc.loc_precision, b->inc.loc_precision);
    assert_int_equal(a->inc.start, b->inc.start);
    assert_int_equal(a->inc.end, b->inc.end);
    assert_int_equal(a->inc.time_precision, b->inc.time_precision);
    assert_int_equal(a->inc.reported.t, b->inc.reported.t);
    assert_int_equal(a->inc.reported.precision, b->inc.reported.precision);
    assert_int_equal(a->inc.verification, b->inc.verification);
}

static uint64_t lcg_state = 0x9E3779B97F4A7C15u;
static unsigned next_rand(unsigned n)
{
    lcg_state = lcg_state * 6364136223846793005u + 1442695040888963407u;
    return (unsigned)((lcg_state >> 33) % n);
}

/* The feature in a FeatureCollection, then alone as a GeoJSON sequence (one a line,
 * after a record separator, then with a second copy after it). */
static void compare_text(bt_store *s, const char *feature, size_t flen, bool want_fast)
{
    static char text[8192];
    static const char *const heads[] = {"{\"type\":\"FeatureCollection\",\"features\":[\n", "",
                                        "\x1e", "\n"};
    static const char *const tails[] = {"\n]}\n", "\n", "\n", "\n"};
    for (int k = 0; k < 4; k++) {
        size_t hl = strlen(heads[k]), tl = strlen(tails[k]);
        assert_true(hl + 2 * (flen + tl) < sizeof text);
        memcpy(text, heads[k], hl);
        memcpy(text + hl, feature, flen);
        memcpy(text + hl + flen, tails[k], tl);
        size_t len = hl + flen + tl;
        int copies = 1;
        if (k == 3) { /* two features a line each */
            memcpy(text + len, feature, flen);
            memcpy(text + len + flen, tails[k], tl);
            len += flen + tl;
            copies = 2;
        }
        for (int skip = 0; skip < 2; skip++) {
            outcome a, b;
            run_once(s, text, len, true, skip != 0, &a);
            run_once(s, text, len, false, skip != 0, &b);
            assert_int_equal(b.nfast, 0);
            /* without skipping, a first copy that fails ends the import */
            if (want_fast && (skip || copies == 1)) assert_int_equal(a.nfast, copies);
            if (want_fast && !skip) assert_in_range(a.nfast, 1, copies);
            same(&a, &b, text);
        }
    }
}

static void test_fast_path_matches_json_c(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    size_t n = sizeof features / sizeof features[0];
    long taken = 0;
    for (size_t i = 0; i < n; i++) {
        compare_text(t.s, features[i], strlen(features[i]), i < N_FAST);
        taken++;
    }
    assert_int_equal(taken, (long)n);
    /* mutants: 1 to 3 edits each */
    static char buf[4096];
    for (size_t i = 0; i < n; i++) {
        for (int m = 0; m < 150; m++) {
            size_t len = strlen(features[i]);
            memcpy(buf, features[i], len);
            int edits = 1 + (int)next_rand(3);
            for (int e = 0; e < edits; e++) {
                size_t at = next_rand((unsigned)len);
                char c = poke[next_rand(sizeof poke - 1)];
                switch (next_rand(3)) {
                case 0: buf[at] = c; break;
                case 1:
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = c;
                    len++;
                    break;
                default:
                    memmove(buf + at, buf + at + 1, len - at - 1);
                    len--;
                    break;
                }
            }
            compare_text(t.s, buf, len, false);
        }
    }
    tstore_close(&t);
}

/* The file reader's window (lib/io/reader.c's chunk) and where the first feature starts
 * so that its byte @p o is the first one past the window (white space before it). */
#define CHUNK 65536

static size_t straddle(char *text, const char *feature, size_t flen, size_t o, size_t cut)
{
    static const char head[] = "{\"type\":\"FeatureCollection\",\"features\":[\n";
    size_t n = sizeof head - 1, at = CHUNK - o;
    memcpy(text, head, n);
    for (; n < at; n++) text[n] = n % 61 == 0 ? '\n' : n % 7 == 0 ? '\r' : ' ';
    if (cut < flen) { /* cut short: the input ends inside the feature */
        memcpy(text + n, feature, cut);
        return n + cut;
    }
    memcpy(text + n, feature, flen);
    n += flen;
    memcpy(text + n, "\r\n]}\n", 6);
    return n + 6;
}

/* In a FeatureCollection read from a file, the fast reader finds a feature's end itself
 * when the feature is in the bytes read, else the bracket scan reads on and the feature
 * is read again: every feature (and every mutant) with the window's end at each of its
 * bytes, whole and cut short, must give json-c's outcome from memory (status, message
 * with its line and column, report, record). */
static void test_fast_path_across_the_window(void **state)
{
    (void)state;
    tstore t;
    tstore_open(&t);
    char file[160];
    snprintf(file, sizeof file, "%s/f.geojson", t.dir);
    static char text[CHUNK + 8192];
    size_t n = sizeof features / sizeof features[0];
    long runs = 0;
    for (size_t i = 0; i < n + 10; i++) {
        /* the features, then mutants of the fast ones (1 to 3 edits) */
        static char buf[4096];
        const char *f = features[i % n];
        size_t flen = strlen(f);
        if (i >= n) {
            f = features[(i - n) % N_FAST];
            flen = strlen(f);
            memcpy(buf, f, flen);
            for (int e = 1 + (int)next_rand(3); e > 0; e--) {
                size_t at = next_rand((unsigned)flen);
                char c = poke[next_rand(sizeof poke - 1)];
                if (next_rand(2)) {
                    buf[at] = c;
                } else {
                    memmove(buf + at + 1, buf + at, flen - at);
                    buf[at] = c;
                    flen++;
                }
            }
            buf[flen] = '\0';
            f = buf;
        }
        for (size_t o = 0; o <= flen + 3; o++) {
            for (int cut_short = 0; cut_short < 2; cut_short++) {
                if (cut_short && (o >= flen || o % 3 != 0)) continue;
                /* cut short: the input ends after o bytes of it, the window after o / 2 */
                size_t len = cut_short ? straddle(text, f, flen, o / 2, o)
                                       : straddle(text, f, flen, o, (size_t)-1);
                bool skip = (o + (size_t)cut_short) % 2 != 0;
                outcome a, b;
                run_import(t.s, text, len, file, file, true, skip, &a);
                run_import(t.s, text, len, file, NULL, false, skip, &b);
                same(&a, &b, f);
                runs++;
            }
        }
    }
    assert_true(runs > 5000);
    tstore_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_path_matches_json_c),
        cmocka_unit_test(test_fast_path_across_the_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
