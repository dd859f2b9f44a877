/**
 * @file test_core.c
 * @brief Tests of lib/core: status strings, the per-store error message, version,
 * and (in fault-injection builds) the failing allocator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/internal.h"

static void test_strerror_every_code(void **state)
{
    (void)state;
    /* each code has its own text, distinct from the others and from the fallback */
    for (int i = BT_OK; i <= BT_ERR_CANCELLED; i++) {
        const char *a = bt_strerror(i);
        assert_non_null(a);
        assert_true(strlen(a) > 0);
        assert_string_not_equal(a, "unknown error");
        for (int j = BT_OK; j < i; j++)
            assert_string_not_equal(a, bt_strerror(j));
    }
    assert_string_equal(bt_strerror(BT_OK), "success");
    assert_string_equal(bt_strerror(BT_ERR_NOMEM), "out of memory");
    assert_string_equal(bt_strerror(BT_ERR_NOT_FOUND), "not found");
    assert_string_equal(bt_strerror(-1), "unknown error");
    assert_string_equal(bt_strerror(BT_ERR_CANCELLED + 1), "unknown error");
    assert_string_equal(bt_strerror(1 << 30), "unknown error");
}

static void test_errmsg_set_and_reset(void **state)
{
    (void)state;
    bt_store *s = calloc(1, sizeof *s);
    assert_non_null(s);
    assert_string_equal(bt_store_errmsg(s), "");
    assert_int_equal(bt__error(s, BT_ERR_INVALID, "incident '%s': field '%s' is %d", "X-17",
                               "lat", 91),
                     BT_ERR_INVALID);
    assert_string_equal(bt_store_errmsg(s), "incident 'X-17': field 'lat' is 91");
    /* a second error replaces the first, it does not append */
    bt__error(s, BT_ERR_IO, "disk full");
    assert_string_equal(bt_store_errmsg(s), "disk full");
    /* what every public function does first */
    bt__clear_error(s);
    assert_string_equal(bt_store_errmsg(s), "");
    free(s);
}

static void test_errmsg_truncates_long_messages(void **state)
{
    (void)state;
    bt_store *s = calloc(1, sizeof *s);
    assert_non_null(s);
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(bt__error(s, BT_ERR_PARSE, "%s", big), BT_ERR_PARSE);
    assert_int_equal(strlen(bt_store_errmsg(s)), BT_ERRMSG_SIZE - 1);
    free(s);
}

static void test_errmsg_null_store(void **state)
{
    (void)state;
    assert_string_equal(bt_store_errmsg(NULL), "");
    /* s may be NULL: the code still comes back */
    assert_int_equal(bt__error(NULL, BT_ERR_CRS, "no store %d", 1), BT_ERR_CRS);
    bt__clear_error(NULL);
}

static char *vstrdupf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *r = bt__vstrdupf(fmt, ap);
    va_end(ap);
    return r;
}

static void test_vstrdupf_and_string_free(void **state)
{
    (void)state;
    char *m = vstrdupf("%s: %d of %zu", "file.db", 3, (size_t)7);
    assert_non_null(m);
    assert_string_equal(m, "file.db: 3 of 7");
    bt_string_free(m);
    char *e = vstrdupf("%s", "");
    assert_non_null(e);
    assert_string_equal(e, "");
    bt_string_free(e);
    bt_string_free(NULL);
}

static void test_version(void **state)
{
    (void)state;
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", BT_VERSION_MAJOR, BT_VERSION_MINOR,
             BT_VERSION_PATCH);
    assert_string_equal(bt_version(), expect);
    assert_string_equal(bt_version(), BT_VERSION_STRING);
    assert_int_equal(BT_VERSION_NUMBER,
                     BT_VERSION_MAJOR * 10000 + BT_VERSION_MINOR * 100 + BT_VERSION_PATCH);
}

static void test_alloc_wrappers(void **state)
{
    (void)state;
    /* zero-size requests give a pointer, not NULL (which would read as out-of-memory) */
    void *p = bt__malloc(0);
    assert_non_null(p);
    bt__free(p);
    p = bt__calloc(0, 8);
    assert_non_null(p);
    bt__free(p);
    unsigned char *z = bt__calloc(16, 4);
    assert_non_null(z);
    for (int i = 0; i < 64; i++)
        assert_int_equal(z[i], 0);
    z = bt__realloc(z, 1000);
    assert_non_null(z);
    assert_int_equal(z[63], 0);
    bt__free(z);
    /* overflow of count * size is refused */
    assert_null(bt__calloc(SIZE_MAX / 2, 4));
    char *d = bt__strdup("Hyesan");
    assert_non_null(d);
    assert_string_equal(d, "Hyesan");
    bt__free(d);
    assert_null(bt__strdup(NULL));
    bt__free(NULL);
}

#ifdef BT_FAULT_INJECTION
static void test_alloc_fails_at_n(void **state)
{
    (void)state;
    bt__alloc_fail_after(3);
    void *a = bt__malloc(8);
    char *b = bt__strdup("ok");
    void *c = bt__calloc(1, 8); /* the third: fails */
    void *d = bt__realloc(NULL, 8); /* and every later one */
    assert_non_null(a);
    assert_non_null(b);
    assert_null(c);
    assert_null(d);
    assert_null(bt__strdup("x"));
    /* 5 attempted since the call; 0 switches failure off */
    assert_int_equal(bt__alloc_fail_after(0), 5);
    void *e = bt__malloc(8);
    assert_non_null(e);
    assert_int_equal(bt__alloc_fail_after(0), 1);
    bt__free(a);
    bt__free(b);
    bt__free(e);
}

static void test_alloc_fail_first(void **state)
{
    (void)state;
    bt__alloc_fail_after(1);
    assert_null(bt__malloc(1));
    bt__alloc_fail_after(0);
    /* a failing vstrdupf returns NULL rather than crashing */
    bt__alloc_fail_after(1);
    assert_null(vstrdupf("%d", 42));
    bt__alloc_fail_after(0);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_every_code),
        cmocka_unit_test(test_errmsg_set_and_reset),
        cmocka_unit_test(test_errmsg_truncates_long_messages),
        cmocka_unit_test(test_errmsg_null_store),
        cmocka_unit_test(test_vstrdupf_and_string_free),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_alloc_wrappers),
#ifdef BT_FAULT_INJECTION
        cmocka_unit_test(test_alloc_fails_at_n),
        cmocka_unit_test(test_alloc_fail_first),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
