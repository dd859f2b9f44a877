/**
 * @file test_gazetteer.c
 * @brief Place lookup by name (bt_name_fold, bt_place_lookup, bt_place_search) on the
 * real gazetteer of the sample data (examples/data/places.csv: 80 GeoNames places,
 * names in McCune-Reischauer with diacritics), loaded with bt_place_add.
 *
 * Expected folds are written out by hand in the tests, never computed with the code
 * under test; the independent ASCII spelling of every sample name is computed here
 * with a table of only the characters the file uses.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>

#include "store_fixture.h"

#define MAX_PLACES 128

typedef struct sample {
    char name[96], country[3], admin1[8];
    double lon, lat;
} sample;

typedef struct fixture {
    fx_dir dir;
    bt_store *store;
    sample places[MAX_PLACES];
    size_t n;
} fixture;

/* Splits one CSV line of places.csv (quoted fields hold no quotes or commas there). */
static int split_csv(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        if (*p == '"') {
            fields[n++] = ++p;
            char *q = strchr(p, '"');
            if (!q) return -1;
            *q = '\0';
            p = q + 1;
        } else {
            fields[n++] = p;
            p += strcspn(p, ",\r\n");
        }
        if (*p != ',') {
            *p = '\0';
            break;
        }
        *p++ = '\0';
    }
    return n;
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx || fx_dir_make(&fx->dir)) return -1;
    char path[512];
    char *em = NULL;
    if (bt_store_open(fx_file(&fx->dir, "g.db", path, sizeof path),
                      BT_OPEN_READWRITE | BT_OPEN_CREATE, &fx->store, &em) != BT_OK)
        return -1;
    FILE *f = fopen(BT_EXAMPLES_DATA_DIR "/places.csv", "r");
    if (!f) return -1;
    char line[512];
    int header = 1;
    while (fgets(line, sizeof line, f)) {
        if (header) { /* name,country,admin1,lat,lon,... */
            header = 0;
            continue;
        }
        char *fld[8];
        if (split_csv(line, fld, 8) < 5 || fx->n == MAX_PLACES) return -1;
        sample *s = &fx->places[fx->n++];
        snprintf(s->name, sizeof s->name, "%s", fld[0]);
        snprintf(s->country, sizeof s->country, "%s", fld[1]);
        snprintf(s->admin1, sizeof s->admin1, "%s", fld[2]);
        s->lat = strtod(fld[3], NULL);
        s->lon = strtod(fld[4], NULL);
        bt_place p = {0, s->name, s->country, s->admin1, {s->lon, s->lat}};
        if (bt_place_add(fx->store, &p, NULL) != BT_OK) return -1;
    }
    fclose(f);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    bt_store_close(fx->store);
    fx_dir_remove(&fx->dir);
    free(fx);
    return 0;
}

static const sample *find_sample(const fixture *fx, const char *name, const char *cc)
{
    for (size_t i = 0; i < fx->n; i++)
        if (strcmp(fx->places[i].name, name) == 0 && strcmp(fx->places[i].country, cc) == 0)
            return &fx->places[i];
    return NULL;
}

/* ---- folding --------------------------------------------------------------- */

static void check_fold(const char *in, const char *want)
{
    char buf[128];
    int n = bt_name_fold(in, buf, sizeof buf);
    assert_int_equal(n, (int)strlen(want));
    assert_string_equal(buf, want);
}

static void test_fold_examples(void **state)
{
    (void)state;
    check_fold("Sinŭiju", "sinuiju");
    check_fold("Musan-ŭp", "musan up");
    check_fold("Ji’an", "jian");
    check_fold("P’ungin", "pungin");
    check_fold("Pos'yet", "posyet");
    check_fold("  Hyesan -- dong  ", "hyesan dong");
    check_fold("HYESAN", "hyesan");
    check_fold("Ærøskøbing Straße", "aeroskobing strasse");
    check_fold("Łódź Œuvre Ĳssel", "lodz oeuvre ijssel");
    check_fold("Lǚ Ǎ ǐ ǒ ǔ ǜ", "lu a i o u u");
    check_fold("Șiria Ţ", "siria t");
    check_fold("Sinu\xcc\x86iju", "sinuiju"); /* decomposed u + combining breve */
    check_fold("혜산 3×4", "혜산 3×4");       /* copied unchanged */
    check_fold("", "");
}

static void test_fold_snprintf(void **state)
{
    (void)state;
    assert_int_equal(bt_name_fold("Sinŭiju", NULL, 0), 7);
    char buf[4] = "xxx";
    assert_int_equal(bt_name_fold("Sinŭiju", buf, sizeof buf), 7);
    assert_string_equal(buf, "sin");
    char one[1] = {'x'};
    assert_int_equal(bt_name_fold("Hyesan", one, 1), 6);
    assert_int_equal(one[0], '\0');
}

static void test_fold_invalid(void **state)
{
    (void)state;
    char buf[16];
    assert_int_equal(bt_name_fold(NULL, buf, sizeof buf), -1);
    assert_int_equal(bt_name_fold("ab\xff", buf, sizeof buf), -1);
    assert_int_equal(bt_name_fold("\xc0\xaf", buf, sizeof buf), -1);     /* overlong '/' */
    assert_int_equal(bt_name_fold("\xed\xa0\x80", buf, sizeof buf), -1); /* surrogate */
    assert_int_equal(bt_name_fold("\xe2\x82", buf, sizeof buf), -1);     /* truncated */
    assert_string_equal(buf, "");
}

/* ---- lookup on the sample gazetteer -------------------------------------- */

/* An ASCII spelling of a sample name, by a table of the characters places.csv uses. */
static void ascii_of(const char *in, char *out, size_t size)
{
    static const struct { const char *utf8, *ascii; } map[] = {
        {"ŭ", "u"}, {"Ŭ", "U"}, {"ŏ", "o"}, {"Ŏ", "O"}, {"’", ""},
    };
    size_t o = 0;
    while (*in && o + 1 < size) {
        size_t k;
        for (k = 0; k < sizeof map / sizeof map[0]; k++) {
            size_t l = strlen(map[k].utf8);
            if (strncmp(in, map[k].utf8, l) == 0) {
                for (const char *a = map[k].ascii; *a && o + 1 < size;) out[o++] = *a++;
                in += l;
                break;
            }
        }
        if (k == sizeof map / sizeof map[0]) out[o++] = *in++;
    }
    out[o] = '\0';
}

static void test_every_sample_place(void **state)
{
    fixture *fx = *state;
    assert_int_equal(fx->n, 80);
    for (size_t i = 0; i < fx->n; i++) {
        const sample *s = &fx->places[i];
        char ascii[96], upper[96];
        ascii_of(s->name, ascii, sizeof ascii);
        for (size_t k = 0; k <= strlen(ascii); k++)
            upper[k] = (ascii[k] >= 'a' && ascii[k] <= 'z') ? (char)(ascii[k] - 32) : ascii[k];
        const char *forms[] = {s->name, ascii, upper};
        for (size_t f = 0; f < 3; f++) {
            bt_place *p = NULL;
            int rc = bt_place_lookup(fx->store, forms[f], &p);
            if (rc != BT_OK) fail_msg("'%s': %s", forms[f], bt_store_errmsg(fx->store));
            assert_string_equal(p->name, s->name);
            assert_string_equal(p->country, s->country);
            assert_true(fabs(p->where.lon - s->lon) < 1e-9);
            assert_true(fabs(p->where.lat - s->lat) < 1e-9);
            bt_place_free(p);
        }
    }
}

static void test_lookup_diacritics(void **state)
{
    fixture *fx = *state;
    bt_place *p = NULL;
    assert_int_equal(bt_place_lookup(fx->store, "Sinuiju", &p), BT_OK);
    assert_string_equal(p->name, "Sinŭiju");
    assert_string_equal(p->country, "KP");
    assert_true(fabs(p->where.lon - 124.39806) < 1e-9);
    assert_true(fabs(p->where.lat - 40.10056) < 1e-9);
    bt_place_free(p);
    /* "Hyesan" is not confused with "Hyesan-dong" */
    assert_int_equal(bt_place_lookup(fx->store, "hyesan", &p), BT_OK);
    assert_string_equal(p->name, "Hyesan");
    assert_true(fabs(p->where.lon - FX_HYESAN_LON) < 1e-9);
    bt_place_free(p);
    assert_int_equal(bt_place_lookup(fx->store, "hyesan dong", &p), BT_OK);
    assert_string_equal(p->name, "Hyesan-dong");
    bt_place_free(p);
    assert_int_equal(bt_place_lookup(fx->store, "manpo", &p), BT_OK);
    assert_string_equal(p->name, "Manp’o");
    bt_place_free(p);
    assert_int_equal(bt_place_lookup(fx->store, "Changbai, cn", &p), BT_OK);
    assert_string_equal(p->name, "Changbai");
    bt_place_free(p);
}

static void test_lookup_unknown(void **state)
{
    fixture *fx = *state;
    bt_place *p = (bt_place *)1;
    assert_int_equal(bt_place_lookup(fx->store, "Hyesn", &p), BT_ERR_NOT_FOUND);
    assert_null(p);
    const char *m = bt_store_errmsg(fx->store);
    assert_non_null(strstr(m, "no place named 'Hyesn'; closest: Hyesan (KP, 128.17778 41.40167)"));
    /* nothing close: no candidate list */
    assert_int_equal(bt_place_lookup(fx->store, "Xyzzyqwvk", &p), BT_ERR_NOT_FOUND);
    assert_string_equal(bt_store_errmsg(fx->store), "no place named 'Xyzzyqwvk'");
    /* the right name in the wrong country */
    assert_int_equal(bt_place_lookup(fx->store, "Hyesan, CN", &p), BT_ERR_NOT_FOUND);
    assert_non_null(strstr(bt_store_errmsg(fx->store), "in country CN"));
    /* a successful call clears the message */
    assert_int_equal(bt_place_lookup(fx->store, "Hyesan", &p), BT_OK);
    assert_string_equal(bt_store_errmsg(fx->store), "");
    bt_place_free(p);
}

static void test_lookup_ambiguous(void **state)
{
    fixture *fx = *state;
    const sample *kp = find_sample(fx, "Namsan", "KP");
    assert_non_null(kp);
    int64_t id = 0;
    bt_place kr = {0, "Namsán", "KR", NULL, {127.0, 37.5}};
    assert_int_equal(bt_place_add(fx->store, &kr, &id), BT_OK);
    bt_place *p = NULL;
    assert_int_equal(bt_place_lookup(fx->store, "namsan", &p), BT_ERR_INVALID);
    assert_null(p);
    const char *m = bt_store_errmsg(fx->store);
    assert_non_null(strstr(m, "place name 'namsan' is ambiguous: "));
    assert_non_null(strstr(m, "Namsan (KP, "));
    assert_non_null(strstr(m, "Namsán (KR, 127.00000 37.50000)"));
    assert_non_null(strstr(m, "add ', CC'"));
    assert_int_equal(bt_place_lookup(fx->store, "Namsan, KR", &p), BT_OK);
    assert_int_equal(p->id, id);
    bt_place_free(p);
    assert_int_equal(bt_place_lookup(fx->store, "Namsan,kp", &p), BT_OK);
    assert_string_equal(p->country, "KP");
    assert_true(fabs(p->where.lon - kp->lon) < 1e-9);
    bt_place_free(p);
    assert_int_equal(bt_place_delete(fx->store, id), BT_OK);
}

static void test_lookup_errors(void **state)
{
    fixture *fx = *state;
    bt_place *p = NULL;
    assert_int_equal(bt_place_lookup(NULL, "Hyesan", &p), BT_ERR_INVALID);
    assert_int_equal(bt_place_lookup(fx->store, NULL, &p), BT_ERR_INVALID);
    assert_int_equal(bt_place_lookup(fx->store, "Hyesan", NULL), BT_ERR_INVALID);
    assert_int_equal(bt_place_lookup(fx->store, " - ’ ", &p), BT_ERR_INVALID);
    assert_non_null(strstr(bt_store_errmsg(fx->store), "empty"));
    assert_int_equal(bt_place_lookup(fx->store, "Hye\xffsan", &p), BT_ERR_INVALID);
    assert_non_null(strstr(bt_store_errmsg(fx->store), "UTF-8"));
    size_t n = 1;
    bt_place **arr = NULL;
    assert_int_equal(bt_place_search(fx->store, "Hyesan", 5, NULL, &n), BT_ERR_INVALID);
    assert_int_equal(bt_place_search(fx->store, "", 5, &arr, &n), BT_ERR_INVALID);
    bt_place_array_free(NULL, 3);
}

static void test_lookup_empty_store(void **state)
{
    fixture *fx = *state;
    char path[512];
    bt_store *s = NULL;
    char *em = NULL;
    assert_int_equal(bt_store_open(fx_file(&fx->dir, "empty.db", path, sizeof path),
                                   BT_OPEN_READWRITE | BT_OPEN_CREATE, &s, &em),
                     BT_OK);
    bt_place *p = NULL;
    assert_int_equal(bt_place_lookup(s, "Hyesan", &p), BT_ERR_NOT_FOUND);
    assert_string_equal(bt_store_errmsg(s), "no place named 'Hyesan'");
    bt_store_close(s);
}

/* ---- search -------------------------------------------------------------- */

static void test_search_ranking(void **state)
{
    fixture *fx = *state;
    bt_place **arr = NULL;
    size_t n = 0;
    /* equal first, then the word-prefix match */
    assert_int_equal(bt_place_search(fx->store, "hyesan", 10, &arr, &n), BT_OK);
    assert_true(n >= 2);
    assert_string_equal(arr[0]->name, "Hyesan");
    assert_string_equal(arr[1]->name, "Hyesan-dong");
    bt_place_array_free(arr, n);
    /* a word prefix: "Musan" is "Musan-ŭp" (and not Munsan, one edit away, first) */
    assert_int_equal(bt_place_search(fx->store, "Musan", 10, &arr, &n), BT_OK);
    assert_true(n >= 2);
    assert_string_equal(arr[0]->name, "Musan-ŭp");
    assert_string_equal(arr[1]->name, "Munsan");
    bt_place_array_free(arr, n);
    /* max limits the list */
    assert_int_equal(bt_place_search(fx->store, "Yangsa", 1, &arr, &n), BT_OK);
    assert_int_equal(n, 1);
    assert_string_equal(arr[0]->name, "Yangsa");
    bt_place_array_free(arr, n);
    /* the country filter */
    assert_int_equal(bt_place_search(fx->store, "Unggi, RU", 10, &arr, &n), BT_OK);
    assert_int_equal(n, 0);
    assert_null(arr);
    /* nothing close */
    assert_int_equal(bt_place_search(fx->store, "qqqqqqqqqq", 10, &arr, &n), BT_OK);
    assert_int_equal(n, 0);
    assert_null(arr);
}

/* Typos within the edit limit find the place first. */
static void test_search_typos(void **state)
{
    fixture *fx = *state;
    static const struct { const char *typed, *want; } cases[] = {
        {"Sinuju", "Sinŭiju"}, {"Changbei", "Changbai"}, {"Hunchin", "Hunchun"},
        {"Dandogn", "Dandong"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bt_place **arr = NULL;
        size_t n = 0;
        assert_int_equal(bt_place_search(fx->store, cases[i].typed, 3, &arr, &n), BT_OK);
        assert_true(n >= 1);
        assert_string_equal(arr[0]->name, cases[i].want);
        bt_place_array_free(arr, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_examples),
        cmocka_unit_test(test_fold_snprintf),
        cmocka_unit_test(test_fold_invalid),
        cmocka_unit_test(test_every_sample_place),
        cmocka_unit_test(test_lookup_diacritics),
        cmocka_unit_test(test_lookup_unknown),
        cmocka_unit_test(test_lookup_ambiguous),
        cmocka_unit_test(test_lookup_errors),
        cmocka_unit_test(test_lookup_empty_store),
        cmocka_unit_test(test_search_ranking),
        cmocka_unit_test(test_search_typos),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
