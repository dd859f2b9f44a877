/**
 * @file test_time.c
 * @brief Tests of bt_time_parse() and bt_time_format() (lib/model/time.c).
 *
 * Expected values were computed independently with Python's calendar.timegm(), e.g.
 * `calendar.timegm(datetime.datetime(2000, 2, 29).timetuple())` = 951782400.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bordertrack.h"
#include "core/internal.h"

typedef struct {
    const char *text;
    int64_t first, last;
    bt_time_precision prec;
} parse_case;

static const parse_case good[] = {
    {"1970", 0, 31535999, BT_TIME_YEAR},
    {"1970-01-01T00:00:00Z", 0, 0, BT_TIME_SECOND},
    {"1969-12-31T23:59:59Z", -1, -1, BT_TIME_SECOND},
    {"2000-02-29", 951782400, 951868799, BT_TIME_DAY},
    {"2000-02", 949363200, 951868799, BT_TIME_MONTH},   /* leap February: 29 days */
    {"1900-02", -2206310400, -2203891201, BT_TIME_MONTH}, /* 1900 is not leap */
    {"2020-07", 1593561600, 1596239999, BT_TIME_MONTH},
    {"2020", 1577836800, 1609459199, BT_TIME_YEAR},
    {"2020-07-29T14:05:00+09:00", 1595999100, 1595999100, BT_TIME_SECOND},
    {"2020-07-29T05:05:00Z", 1595999100, 1595999100, BT_TIME_SECOND},
    {"2020-07-29T05:05:00", 1595999100, 1595999100, BT_TIME_SECOND}, /* no zone: UTC */
    {"2020-07-29 05:05:00Z", 1595999100, 1595999100, BT_TIME_SECOND},
    {"2020-07-29T05:05Z", 1595999100, 1595999100, BT_TIME_SECOND},
    {"2020-07-29T05:05:00.999Z", 1595999100, 1595999100, BT_TIME_SECOND}, /* truncated */
    {"2020-07-29T05:05:00,5+00:00", 1595999100, 1595999100, BT_TIME_SECOND},
    {"2020-07-29T14:05:00+0900", 1595999100, 1595999100, BT_TIME_SECOND},
    {"2020-07-29T14:05:00+09", 1595999100, 1595999100, BT_TIME_SECOND},
    {"2020-01-01T00:00:00-0530", 1577856600, 1577856600, BT_TIME_SECOND},
    {"2020-01-01T00:00:00-05:30", 1577856600, 1577856600, BT_TIME_SECOND},
    {"1999-12-31T23:59:59Z", 946684799, 946684799, BT_TIME_SECOND},
    {"2016-12-31T23:59:59Z", 1483228799, 1483228799, BT_TIME_SECOND},
    {"2017-01-01T08:59:59+09:00", 1483228799, 1483228799, BT_TIME_SECOND}, /* day before */
    {"1600-03-01", -11670912000, -11670825601, BT_TIME_DAY},
    {"0000-01-01", -62167219200, -62167132801, BT_TIME_DAY},
    {"0000", -62167219200, -62135596801, BT_TIME_YEAR}, /* year 0 is leap: 366 days */
    {"9999-12-31T23:59:59Z", 253402300799, 253402300799, BT_TIME_SECOND},
    {"9999", 253370764800, 253402300799, BT_TIME_YEAR},
};

static void test_parse_exact_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t first = 0, last = 0;
        bt_time_precision prec = BT_TIME_NONE;
        int rc = bt_time_parse(good[i].text, &first, &last, &prec);
        if (rc != BT_OK || first != good[i].first || last != good[i].last ||
            prec != good[i].prec)
            fail_msg("'%s': rc %d first %lld last %lld prec %d", good[i].text, rc,
                     (long long)first, (long long)last, (int)prec);
    }
}

static void test_parse_outputs_optional(void **state)
{
    (void)state;
    assert_int_equal(bt_time_parse("2020-07-29", NULL, NULL, NULL), BT_OK);
    int64_t last = 0;
    assert_int_equal(bt_time_parse("2020-02", NULL, &last, NULL), BT_OK);
    assert_int_equal(last, 1583020799); /* 2020-02-29T23:59:59Z */
}

static void test_parse_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "2021-02-29",         /* not a leap year */
        "1900-02-29",         /* century, not leap */
        "2020-13",            /* month */
        "2020-00",
        "2020-07-32",
        "2020-04-31",         /* April has 30 days */
        "2020-07-00",
        "2020-07-29T24:00:01",
        "2020-07-29T24:00:00Z",
        "2020-07-29T23:60:00Z",
        "2020-07-29T23:59:60Z", /* no leap seconds in Unix time */
        "2020-07-29T14:05:00Zjunk",
        "2020-07-29T14:05:00 ",
        "2020-07-29x",
        "2020 ",
        " 2020",
        "20",
        "20200",
        "202",
        "2020-7",
        "2020-07-1",
        "2020/07/29",
        "2020-07-29T",
        "2020-07-29T14",
        "2020-07-29T14:5",
        "2020-07-29T14:05:0",
        "2020-07-29T14:05:00.",
        "2020-07-29T14:05:00.Z",
        "2020-07-29T14:05:00+",
        "2020-07-29T14:05:00+9",
        "2020-07-29T14:05:00+09:60",
        "2020-07-29T14:05:00+24:00",
        "2020-07-29T14:05:00+09:0",
        "2020-07T14:05:00Z",   /* a time needs a day */
        "-2020",
        "+2020",
        "0000-01-01T00:00:00+01:00", /* before year 0 in UTC */
        "9999-12-31T23:59:59-00:01", /* after year 9999 in UTC */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t first = 42;
        if (bt_time_parse(bad[i], &first, NULL, NULL) != BT_ERR_PARSE)
            fail_msg("'%s' was accepted", bad[i]);
        assert_int_equal(first, 42); /* untouched on failure */
    }
    assert_int_equal(bt_time_parse(NULL, NULL, NULL, NULL), BT_ERR_PARSE);
}

static void test_format_exact(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(bt_time_format(1595999100, BT_TIME_SECOND, buf, sizeof buf), 20);
    assert_string_equal(buf, "2020-07-29T05:05:00Z");
    assert_int_equal(bt_time_format(1595999100, BT_TIME_DAY, buf, sizeof buf), 10);
    assert_string_equal(buf, "2020-07-29");
    assert_int_equal(bt_time_format(1595999100, BT_TIME_MONTH, buf, sizeof buf), 7);
    assert_string_equal(buf, "2020-07");
    assert_int_equal(bt_time_format(1595999100, BT_TIME_YEAR, buf, sizeof buf), 4);
    assert_string_equal(buf, "2020");
    assert_int_equal(bt_time_format(-1, BT_TIME_SECOND, buf, sizeof buf), 20);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    assert_int_equal(bt_time_format(951868799, BT_TIME_SECOND, buf, sizeof buf), 20);
    assert_string_equal(buf, "2000-02-29T23:59:59Z");
    assert_int_equal(bt_time_format(-62167219200, BT_TIME_SECOND, buf, sizeof buf), 20);
    assert_string_equal(buf, "0000-01-01T00:00:00Z");
    assert_int_equal(bt_time_format(253402300799, BT_TIME_SECOND, buf, sizeof buf), 20);
    assert_string_equal(buf, "9999-12-31T23:59:59Z");
    assert_int_equal(bt_time_format(-11670912000, BT_TIME_DAY, buf, sizeof buf), 10);
    assert_string_equal(buf, "1600-03-01");
    /* NONE prints nothing */
    strcpy(buf, "junk");
    assert_int_equal(bt_time_format(0, BT_TIME_NONE, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
}

static void test_format_like_snprintf(void **state)
{
    (void)state;
    assert_int_equal(bt_time_format(0, BT_TIME_SECOND, NULL, 0), 20);
    assert_int_equal(bt_time_format(0, BT_TIME_NONE, NULL, 0), 0);
    char small[8];
    memset(small, 'z', sizeof small);
    assert_int_equal(bt_time_format(0, BT_TIME_SECOND, small, sizeof small), 20);
    assert_string_equal(small, "1970-01"); /* truncated and terminated */
}

static void test_format_rejects(void **state)
{
    (void)state;
    char buf[32];
    assert_true(bt_time_format(-62167219201, BT_TIME_SECOND, buf, sizeof buf) < 0);
    assert_true(bt_time_format(253402300800, BT_TIME_SECOND, buf, sizeof buf) < 0);
    assert_true(bt_time_format(INT64_MAX, BT_TIME_YEAR, buf, sizeof buf) < 0);
    assert_true(bt_time_format(INT64_MIN, BT_TIME_YEAR, buf, sizeof buf) < 0);
    assert_true(bt_time_format(0, (bt_time_precision)5, buf, sizeof buf) < 0);
    assert_true(bt_time_format(0, (bt_time_precision)-1, buf, sizeof buf) < 0);
}

/* Every day of 0000..9999 (3.65 million days): formatting the day and parsing it back
 * gives the same first second, and consecutive days are 86400 s apart. This checks
 * both calendar conversions against each other at every month and leap-year edge. */
static void test_round_trip_every_day(void **state)
{
    (void)state;
    int64_t prev = 0;
    int64_t t0 = -62167219200;
    char buf[16];
    for (int64_t d = 0; d < 3652425; d++) {
        const int64_t t = t0 + d * 86400;
        assert_int_equal(bt_time_format(t, BT_TIME_DAY, buf, sizeof buf), 10);
        int64_t first, last;
        if (bt_time_parse(buf, &first, &last, NULL) != BT_OK || first != t ||
            last != t + 86399)
            fail_msg("day %lld: '%s'", (long long)d, buf);
        if (d > 0)
            assert_int_equal(first - prev, 86400);
        prev = first;
    }
    assert_int_equal(bt_time_format(prev, BT_TIME_DAY, buf, sizeof buf), 10);
    assert_string_equal(buf, "9999-12-31");
}

/* bt__time_period() (calendar arithmetic, used by validation) against the period
 * that formatting at the precision and parsing back gives, for pseudo-random instants
 * over the whole range and every precision, and at the range's edges. */
static void test_period_matches_format_parse(void **state)
{
    (void)state;
    uint64_t st = 7;
    const int64_t lo = INT64_C(-62167219200), hi = INT64_C(253402300799); /* 0000..9999 */
    for (int i = 0; i < 200000; i++) {
        st = st * 6364136223846793005u + 1442695040888963407u;
        int64_t t = lo + (int64_t)((st >> 11) % (uint64_t)(hi - lo + 1));
        if (i < 4) t = (i == 0) ? lo : (i == 1) ? hi : (i == 2) ? 0 : -1;
        for (int p = BT_TIME_YEAR; p <= BT_TIME_SECOND; p++) {
            char buf[32];
            int64_t f = 0, l = 0, ef = 0, el = 0;
            assert_true(bt_time_format(t, (bt_time_precision)p, buf, sizeof buf) > 0);
            assert_int_equal(bt_time_parse(buf, &ef, &el, NULL), BT_OK);
            assert_true(bt__time_period(t, (bt_time_precision)p, &f, &l));
            if (f != ef || l != el)
                fail_msg("t %lld precision %d: period %lld..%lld, parse of '%s' %lld..%lld",
                         (long long)t, p, (long long)f, (long long)l, buf, (long long)ef,
                         (long long)el);
        }
    }
    assert_false(bt__time_period(lo - 1, BT_TIME_DAY, NULL, NULL));
    assert_false(bt__time_period(hi + 1, BT_TIME_SECOND, NULL, NULL));
    assert_false(bt__time_period(0, BT_TIME_NONE, NULL, NULL));
    assert_false(bt__time_period(0, (bt_time_precision)5, NULL, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_exact_values),
        cmocka_unit_test(test_parse_outputs_optional),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_format_exact),
        cmocka_unit_test(test_format_like_snprintf),
        cmocka_unit_test(test_format_rejects),
        cmocka_unit_test(test_round_trip_every_day),
        cmocka_unit_test(test_period_matches_format_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
