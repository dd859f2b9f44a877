/**
 * @file test_deps.c
 * @brief The loader of PROJ and GEOS (lib/core/deps.c): a library that is not there,
 * or lacks a symbol, gives a message naming it and leaves no half-filled table; the
 * fallback name is tried; PROJ and GEOS load, and the shared WGS 84 ellipsoid is set.
 * (tests/lazy_load.c checks when they are loaded.)
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/internal.h"

/* A table of two entries, as the loader fills them. */
struct two {
    double (*f)(double);
    double (*g)(double);
};

static const struct bt__dep_sym two_syms[] = {
    {"cos", offsetof(struct two, f)},
    {"sqrt", offsetof(struct two, g)},
};

static void test_missing_library(void **state)
{
    (void)state;
    static const char *const names[] = {"libbt-no-such-library.so.9", "/nonexistent/libx.so"};
    struct two t;
    memset(&t, 0xAB, sizeof t);
    char msg[512];
    assert_int_equal(bt__dep_open("PROJ", names, 2, two_syms, 2, &t, sizeof t, msg, sizeof msg),
                     -1);
    /* the soname in the message, with dlerror()'s reason (which names it too) */
    assert_true(strncmp(msg, "cannot load PROJ (libbt-no-such-library.so.9): ",
                        strlen("cannot load PROJ (libbt-no-such-library.so.9): ")) == 0);
    assert_non_null(strstr(msg + strlen("cannot load PROJ ("), "libbt-no-such-library.so.9"));
    assert_null(t.f);
    assert_null(t.g);
    /* no name at all */
    assert_int_equal(bt__dep_open("GEOS", NULL, 0, two_syms, 2, &t, sizeof t, msg, sizeof msg),
                     -1);
    assert_string_equal(msg, "cannot load GEOS (no name): no library name to load");
}

static void test_missing_symbol(void **state)
{
    (void)state;
    static const char *const names[] = {"libm.so.6"};
    static const struct bt__dep_sym syms[] = {
        {"cos", offsetof(struct two, f)},
        {"bt_no_such_symbol", offsetof(struct two, g)},
    };
    struct two t;
    memset(&t, 0xAB, sizeof t);
    char msg[512];
    assert_int_equal(bt__dep_open("GEOS", names, 1, syms, 2, &t, sizeof t, msg, sizeof msg), -1);
    assert_true(strncmp(msg, "cannot load GEOS (libm.so.6): ", 30) == 0);
    assert_non_null(strstr(msg, "bt_no_such_symbol"));
    assert_null(t.f); /* no half-filled table */
    assert_null(t.g);
}

static void test_fallback_name(void **state)
{
    (void)state;
    static const char *const names[] = {"libbt-no-such-library.so.9", "libm.so.6"};
    struct two t = {NULL, NULL};
    char msg[512] = "x";
    assert_int_equal(bt__dep_open("m", names, 2, two_syms, 2, &t, sizeof t, msg, sizeof msg), 0);
    assert_string_equal(msg, "");
    assert_non_null(t.f);
    assert_non_null(t.g);
    assert_true(t.f(0.0) == 1.0);
    assert_true(t.g(2.25) == 1.5);
}

static void test_load(void **state)
{
    (void)state;
    assert_int_equal(bt__proj_load(NULL), BT_OK);
    assert_int_equal(bt__geos_load(NULL), BT_OK);
    const struct geod_geodesic *g = bt__geod(NULL);
    assert_non_null(g);
    assert_true(g->a == 6378137.0);
    assert_true(g->f == 1.0 / 298.257223563);
    /* the table holds the functions of the library the test links */
    assert_ptr_equal(bt__proj_fn.geod_inverse, &geod_inverse);
    assert_ptr_equal(bt__geos_fn.GEOS_init_r, &GEOS_init_r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_library),
        cmocka_unit_test(test_missing_symbol),
        cmocka_unit_test(test_fallback_name),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
