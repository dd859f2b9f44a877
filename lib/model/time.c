/**
 * @file time.c
 * @brief ISO 8601 dates and timestamps to and from seconds since the epoch (UTC).
 *
 * The calendar arithmetic is Howard Hinnant's days_from_civil / civil_from_days
 * (proleptic Gregorian, exact for any year), done here instead of with
 * timegm()/mktime() because those depend on the process's TZ and locale and are not
 * defined for year 0.
 */
#include "core/internal.h"

#include <stdbool.h>
#include <stdio.h>

#define BT__SECS_PER_DAY INT64_C(86400)

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1..12, d 1..31). */
static int64_t bt__days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;                                     /* [0, 399] */
    const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;   /* [0, 365] */
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;             /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

/* The date of a day number (inverse of bt__days_from_civil). */
static void bt__civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;                                         /* [0, 146096] */
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;    /* [0, 399] */
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                  /* [0, 365] */
    const int64_t mp = (5 * doy + 2) / 153;                                       /* [0, 11] */
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool bt__is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int bt__days_in_month(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && bt__is_leap(y) ? 29 : days[m - 1];
}

/* First and last second of the years we accept (0000-01-01 .. 9999-12-31). */
#define BT__T_MIN (INT64_C(-719528) * BT__SECS_PER_DAY)
#define BT__T_MAX (INT64_C(2932897) * BT__SECS_PER_DAY - 1)

static bool bt__is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads exactly n digits at *p, advancing it; false if there are fewer. */
static bool bt__digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!bt__is_digit((*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* Parses "hh:mm[:ss[.fff]]" then an optional zone ("Z", "+hh", "+hhmm", "+hh:mm");
 * sets *secs to the UTC offset-corrected seconds of the day (may be < 0 or >= 86400
 * after the offset). */
static bool bt__parse_clock(const char *p, int64_t *secs)
{
    int hh, mm, ss = 0;
    if (!bt__digits(&p, 2, &hh) || *p++ != ':' || !bt__digits(&p, 2, &mm))
        return false;
    if (*p == ':') {
        p++;
        if (!bt__digits(&p, 2, &ss))
            return false;
        if (*p == '.' || *p == ',') { /* fraction: truncated to the second */
            p++;
            if (!bt__is_digit(*p))
                return false;
            while (bt__is_digit(*p))
                p++;
        }
    }
    /* no leap seconds (23:59:60) and no 24:00: Unix time has neither */
    if (hh > 23 || mm > 59 || ss > 59)
        return false;
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        const int sign = *p++ == '-' ? -1 : 1;
        int oh, om = 0;
        if (!bt__digits(&p, 2, &oh))
            return false;
        if (*p == ':') {
            p++;
            if (!bt__digits(&p, 2, &om))
                return false;
        } else if (bt__is_digit(*p)) {
            if (!bt__digits(&p, 2, &om))
                return false;
        }
        if (oh > 23 || om > 59)
            return false;
        offset = sign * (oh * INT64_C(3600) + om * INT64_C(60));
    }
    if (*p != '\0')
        return false;
    *secs = hh * INT64_C(3600) + mm * INT64_C(60) + ss - offset;
    return true;
}

int bt_time_parse(const char *text, int64_t *first, int64_t *last,
                  bt_time_precision *precision)
{
    if (text == NULL)
        return BT_ERR_PARSE;
    const char *p = text;
    int year, month = 1, day = 1;
    bt_time_precision prec = BT_TIME_YEAR;
    if (!bt__digits(&p, 4, &year))
        return BT_ERR_PARSE;
    if (*p == '-') {
        p++;
        if (!bt__digits(&p, 2, &month) || month < 1 || month > 12)
            return BT_ERR_PARSE;
        prec = BT_TIME_MONTH;
        if (*p == '-') {
            p++;
            if (!bt__digits(&p, 2, &day) || day < 1 || day > bt__days_in_month(year, month))
                return BT_ERR_PARSE;
            prec = BT_TIME_DAY;
        }
    }
    const int64_t days = bt__days_from_civil(year, month, day);
    int64_t t0, t1;
    if (prec == BT_TIME_DAY && (*p == 'T' || *p == 't' || *p == ' ')) {
        int64_t secs;
        if (!bt__parse_clock(p + 1, &secs))
            return BT_ERR_PARSE;
        t0 = t1 = days * BT__SECS_PER_DAY + secs;
        prec = BT_TIME_SECOND;
        /* an offset can move the instant out of the years we can print */
        if (t0 < BT__T_MIN || t0 > BT__T_MAX)
            return BT_ERR_PARSE;
    } else {
        if (*p != '\0')
            return BT_ERR_PARSE;
        t0 = days * BT__SECS_PER_DAY;
        int64_t end_days;
        if (prec == BT_TIME_YEAR)
            end_days = bt__days_from_civil(year + 1, 1, 1);
        else if (prec == BT_TIME_MONTH)
            end_days = days + bt__days_in_month(year, month);
        else
            end_days = days + 1;
        t1 = end_days * BT__SECS_PER_DAY - 1;
    }
    if (first != NULL)
        *first = t0;
    if (last != NULL)
        *last = t1;
    if (precision != NULL)
        *precision = prec;
    return BT_OK;
}

bool bt__time_period(int64_t t, bt_time_precision precision, int64_t *first, int64_t *last)
{
    if ((int)precision < (int)BT_TIME_YEAR || (int)precision > (int)BT_TIME_SECOND)
        return false;
    if (t < BT__T_MIN || t > BT__T_MAX)
        return false;
    int64_t days = t / BT__SECS_PER_DAY;
    if (t % BT__SECS_PER_DAY < 0)
        days--; /* floor division, as in bt_time_format() */
    int64_t y;
    int m, d;
    bt__civil_from_days(days, &y, &m, &d);
    int64_t d0, d1; /* first day of the period and first day after it */
    switch (precision) {
    case BT_TIME_YEAR:
        d0 = bt__days_from_civil(y, 1, 1);
        d1 = bt__days_from_civil(y + 1, 1, 1);
        break;
    case BT_TIME_MONTH:
        d0 = bt__days_from_civil(y, m, 1);
        d1 = d0 + bt__days_in_month(y, m);
        break;
    case BT_TIME_DAY:
        d0 = days;
        d1 = days + 1;
        break;
    default:
        d0 = d1 = 0; /* a second is its own period */
        break;
    }
    if (first != NULL)
        *first = precision == BT_TIME_SECOND ? t : d0 * BT__SECS_PER_DAY;
    if (last != NULL)
        *last = precision == BT_TIME_SECOND ? t : d1 * BT__SECS_PER_DAY - 1;
    return true;
}

int bt_time_format(int64_t t, bt_time_precision precision, char *buf, size_t size)
{
    if (precision == BT_TIME_NONE) {
        if (size > 0)
            buf[0] = '\0';
        return 0;
    }
    if ((int)precision < (int)BT_TIME_YEAR || (int)precision > (int)BT_TIME_SECOND)
        return -1;
    if (t < BT__T_MIN || t > BT__T_MAX)
        return -1;
    /* floor division, so that times before 1970 land on the right day */
    int64_t days = t / BT__SECS_PER_DAY;
    int64_t secs = t % BT__SECS_PER_DAY;
    if (secs < 0) {
        secs += BT__SECS_PER_DAY;
        days--;
    }
    int64_t y;
    int m, d;
    bt__civil_from_days(days, &y, &m, &d);
    const int yi = (int)y; /* 0..9999 after the range check */
    const int hh = (int)(secs / 3600), mi = (int)(secs / 60 % 60), ss = (int)(secs % 60);
    /* snprintf with size 0 only measures, and buf may then be NULL */
    char *dst = size > 0 ? buf : NULL;
    switch (precision) {
    case BT_TIME_YEAR:
        return snprintf(dst, size, "%04d", yi);
    case BT_TIME_MONTH:
        return snprintf(dst, size, "%04d-%02d", yi, m);
    case BT_TIME_DAY:
        return snprintf(dst, size, "%04d-%02d-%02d", yi, m, d);
    default:
        return snprintf(dst, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", yi, m, d, hh, mi, ss);
    }
}
