/* SPDX-License-Identifier: MIT */
/*
 * ISO 8601 times for the command line. Parsing is strict (fixed field
 * widths, no trailing text) because a mistyped --from silently meaning
 * something else is worse than an error. A time without a zone goes
 * through mktime() with tm_isdst = -1, so the C library's zone rules decide
 * between GMT and BST; explicit offsets go through timegm(), which ignores
 * the local zone entirely.
 */
#include "config.h"
#include "nvr/base/timefmt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define TIMEFMT_MIN_YEAR  1900
#define TIMEFMT_MAX_FRAC  6  /* digits: microseconds */
#define TIMEFMT_MAX_OFF_H 23 /* hours of an explicit UTC offset */

/* Reads exactly n decimal digits at *p into *out and advances *p. */
static int digits(const char **p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        char c = (*p)[i];

        if (c < '0' || c > '9')
            return -EINVAL;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

/* Parses an explicit zone ("Z", "+HH:MM", "+HHMM") into seconds east of
 * UTC; the whole rest of the string must be the zone. */
static int parse_zone(const char *p, long *off_s)
{
    int sign, hh, mm;

    if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0') {
        *off_s = 0;
        return 0;
    }
    if (p[0] != '+' && p[0] != '-')
        return -EINVAL;
    sign = p[0] == '-' ? -1 : 1;
    p++;
    if (digits(&p, 2, &hh) < 0)
        return -EINVAL;
    if (*p == ':')
        p++;
    if (digits(&p, 2, &mm) < 0 || *p != '\0')
        return -EINVAL;
    if (hh > TIMEFMT_MAX_OFF_H || mm > 59)
        return -EINVAL;
    *off_s = sign * (hh * 3600L + mm * 60L);
    return 0;
}

/* Whether year-month-day names a real calendar day (timegm normalizes
 * Feb 30 to Mar 2, so a round trip shows it). */
static int valid_date(int y, int mon, int d)
{
    struct tm tm = {0}, back;
    time_t t;

    tm.tm_year = y - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = d;
    tm.tm_hour = 12;
    t = timegm(&tm);
    if (!gmtime_r(&t, &back))
        return 0;
    return back.tm_year == y - 1900 && back.tm_mon == mon - 1 &&
           back.tm_mday == d;
}

int nvr_time_parse(const char *s, int64_t *us)
{
    const char *p = s;
    struct tm tm = {0};
    int y, mon, d, hh = 0, mi = 0, ss = 0;
    int64_t frac_us = 0;
    long off_s = 0;
    int have_zone = 0;
    time_t t;

    if (!s)
        return -EINVAL;
    if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mon) < 0 ||
        *p++ != '-' || digits(&p, 2, &d) < 0)
        return -EINVAL;
    if (y < TIMEFMT_MIN_YEAR || mon < 1 || mon > 12 || d < 1 || d > 31 ||
        !valid_date(y, mon, d))
        return -EINVAL;

    if (*p != '\0') {
        if (*p != 'T' && *p != 't' && *p != ' ')
            return -EINVAL;
        p++;
        if (digits(&p, 2, &hh) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0)
            return -EINVAL;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &ss) < 0)
                return -EINVAL;
            if (*p == '.' || *p == ',') {
                int n = 0;

                p++;
                while (*p >= '0' && *p <= '9') {
                    if (++n > TIMEFMT_MAX_FRAC)
                        return -EINVAL;
                    frac_us = frac_us * 10 + (*p - '0');
                    p++;
                }
                if (n == 0)
                    return -EINVAL;
                for (; n < TIMEFMT_MAX_FRAC; n++)
                    frac_us *= 10;
            }
        }
        if (hh > 23 || mi > 59 || ss > 59)
            return -EINVAL;
        if (*p != '\0') {
            if (parse_zone(p, &off_s) < 0)
                return -EINVAL;
            have_zone = 1;
        }
    }

    tm.tm_year = y - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = d;
    tm.tm_hour = hh;
    tm.tm_min = mi;
    tm.tm_sec = ss;
    if (have_zone) {
        t = timegm(&tm);
        t -= off_s;
    } else {
        /* -1 lets the zone rules pick GMT or BST for this date. */
        tm.tm_isdst = -1;
        errno = 0;
        t = mktime(&tm);
        if (t == (time_t)-1 && errno != 0)
            return -EINVAL;
    }
    *us = (int64_t)t * 1000000 + frac_us;
    return 0;
}

/* Splits microseconds into whole seconds and a 0..999999 remainder, rounding
 * towards minus infinity so times before 1970 print correctly. */
static void split_us(int64_t us, time_t *sec, long *frac)
{
    int64_t s = us / 1000000, f = us % 1000000;

    if (f < 0) {
        f += 1000000;
        s -= 1;
    }
    *sec = (time_t)s;
    *frac = (long)f;
}

/* Breaks us down in UTC or local time; *frac gets the microseconds.
 * Returns false when the C library cannot. */
static bool split_tm(int64_t us, bool utc, struct tm *tm, long *frac)
{
    time_t sec;

    split_us(us, &sec, frac);
    return (utc ? gmtime_r(&sec, tm) : localtime_r(&sec, tm)) != NULL;
}

/* How much of a UTC time format_utc() writes. */
enum utc_form {
    UTC_FRAC_IF_ANY, /* "...T10:00:00Z", "...T10:00:00.250000Z" */
    UTC_FRAC_ALWAYS, /* "...T10:00:00.000000Z" */
    UTC_DATE,        /* "2026-11-27" */
};

static char *format_utc(int64_t us, enum utc_form form, char *out,
                        size_t out_size)
{
    struct tm tm;
    long frac;

    if (!out || out_size == 0)
        return out;
    if (!split_tm(us, true, &tm, &frac)) {
        snprintf(out, out_size, "?");
        return out;
    }
    if (form == UTC_DATE)
        snprintf(out, out_size, "%04d-%02d-%02d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday);
    else if (frac || form == UTC_FRAC_ALWAYS)
        snprintf(out, out_size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, frac);
    else
        snprintf(out, out_size, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec);
    return out;
}

char *nvr_time_format_utc(int64_t us, char *out, size_t out_size)
{
    return format_utc(us, UTC_FRAC_IF_ANY, out, out_size);
}

char *nvr_time_format_utc_us(int64_t us, char *out, size_t out_size)
{
    return format_utc(us, UTC_FRAC_ALWAYS, out, out_size);
}

char *nvr_time_format_utc_date(int64_t us, char *out, size_t out_size)
{
    return format_utc(us, UTC_DATE, out, out_size);
}

char *nvr_time_format_local(int64_t us, char *out, size_t out_size)
{
    return nvr_time_format_local_strf(us, "%Y-%m-%d %H:%M:%S %Z", out,
                                      out_size);
}

char *nvr_time_format_local_iso(int64_t us, char *out, size_t out_size)
{
    struct tm tm;
    long frac;
    char base[32], zone[16], abbr[16];

    if (!out || out_size == 0)
        return out;
    if (!split_tm(us, false, &tm, &frac) ||
        strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0 ||
        strftime(zone, sizeof(zone), "%z", &tm) == 0 ||
        strftime(abbr, sizeof(abbr), "%Z", &tm) == 0) {
        snprintf(out, out_size, "?");
        return out;
    }
    /* "+0100" -> "+01:00", the ISO 8601 extended form. */
    if (strlen(zone) == 5)
        snprintf(zone + 3, sizeof(zone) - 3, ":%c%c", zone[3], zone[4]);
    if (frac)
        snprintf(out, out_size, "%s.%06ld%s %s", base, frac, zone, abbr);
    else
        snprintf(out, out_size, "%s%s %s", base, zone, abbr);
    return out;
}

/* The formats are the callers' literals; strftime cannot check them here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
char *nvr_time_format_local_strf(int64_t us, const char *strf, char *out,
                                 size_t out_size)
{
    struct tm tm;
    long frac;

    if (!out || out_size == 0)
        return out;
    if (!split_tm(us, false, &tm, &frac) ||
        strftime(out, out_size, strf, &tm) == 0)
        snprintf(out, out_size, "?");
    return out;
}
#pragma GCC diagnostic pop

int64_t nvr_time_local_day_start(int64_t us)
{
    return nvr_time_local_day_shift(us, 0);
}

int64_t nvr_time_local_day_shift(int64_t day_start_us, int days)
{
    struct tm tm;
    long frac;

    /* Through mktime so that 23 and 25 hour days (GMT/BST) come out at
     * midnight. */
    if (!split_tm(day_start_us, false, &tm, &frac))
        return day_start_us;
    tm.tm_mday += days;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm) * 1000000;
}
