/* SPDX-License-Identifier: MIT */
/*
 * ISO 8601 times for the command line. Parsing is strict (fixed field
 * widths, no trailing text) because a mistyped --from silently meaning
 * something else is worse than an error. A time without a zone is read in
 * the local zone by trying each UTC offset the zone has around that date:
 * exactly one must give that wall-clock time back. In the hour repeated
 * when the clocks go back two do, in the hour skipped when they go forward
 * none does, and the time is refused with both offsets named rather than
 * read one way silently. Explicit offsets go through timegm(), which
 * ignores the local zone entirely.
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

/* The UTC offset (seconds east) and zone abbreviation in force at t. */
static int zone_at(time_t t, long *off_s, char *abbr, size_t abbr_size)
{
    struct tm tm;

    if (!localtime_r(&t, &tm))
        return -EINVAL;
    *off_s = tm.tm_gmtoff;
    if (abbr && strftime(abbr, abbr_size, "%Z", &tm) == 0)
        snprintf(abbr, abbr_size, "?");
    return 0;
}

int nvr_time_local_readings(const struct tm *wall,
                            struct nvr_time_readings *out)
{
    struct tm w = *wall;
    time_t base, t;
    long offs[3];
    int n_offs = 0;

    memset(out, 0, sizeof(*out));
    w.tm_isdst = 0;
    /* The wall time read as if it were UTC: a reading at offset off is
     * base - off, and holds when the zone's offset then is off. */
    base = timegm(&w);
    /* The offsets in force a day either side cover any one transition. */
    for (int k = -1; k <= 1; k++) {
        long off;
        int seen = 0;

        if (zone_at(base + (time_t)k * 86400, &off, NULL, 0) < 0)
            return -EINVAL;
        for (int i = 0; i < n_offs; i++)
            seen |= offs[i] == off;
        if (!seen)
            offs[n_offs++] = off;
    }
    for (int i = 0; i < n_offs; i++) {
        long off;

        t = base - offs[i];
        if (zone_at(t, &off, NULL, 0) < 0)
            return -EINVAL;
        if (off != offs[i] || out->n == NVR_TIME_MAX_READINGS)
            continue;
        out->us[out->n++] = (int64_t)t * 1000000;
    }
    if (out->n == 2 && out->us[1] < out->us[0]) {
        int64_t x = out->us[0];

        out->us[0] = out->us[1];
        out->us[1] = x;
    }
    /* The offsets either side of the change, for a message. */
    if (n_offs >= 2 &&
        (zone_at(base - 86400, &out->off_before_s, out->abbr_before,
                 sizeof(out->abbr_before)) < 0 ||
         zone_at(base + 86400, &out->off_after_s, out->abbr_after,
                 sizeof(out->abbr_after)) < 0))
        return -EINVAL;
    return 0;
}

/* "+01:00" for 3600 seconds east of UTC. */
static void format_offset(long off_s, char *out, size_t out_size)
{
    long a = off_s < 0 ? -off_s : off_s;

    snprintf(out, out_size, "%c%02ld:%02ld", off_s < 0 ? '-' : '+', a / 3600,
             a / 60 % 60);
}

/* Explains a local time that does not have exactly one reading. */
static void explain_readings(const struct tm *w,
                             const struct nvr_time_readings *r, char *why,
                             size_t why_size)
{
    char b[24], a[24];

    format_offset(r->off_before_s, b, sizeof(b));
    format_offset(r->off_after_s, a, sizeof(a));
    snprintf(why, why_size,
             "%04d-%02d-%02d %02d:%02d %s (clocks go %s): add %s %s or "
             "%s %s",
             w->tm_year + 1900, w->tm_mon + 1, w->tm_mday, w->tm_hour,
             w->tm_min, r->n == 2 ? "happens twice" : "is skipped",
             r->off_after_s < r->off_before_s ? "back" : "forward", b,
             r->abbr_before, a, r->abbr_after);
}

int nvr_time_parse_why(const char *s, int64_t *us, char *why, size_t why_size)
{
    const char *p = s;
    struct tm tm = {0};
    int y, mon, d, hh = 0, mi = 0, ss = 0;
    int64_t frac_us = 0;
    long off_s = 0;
    int have_zone = 0;
    struct nvr_time_readings r;
    char scratch[1];
    time_t t;

    if (!why || why_size == 0) {
        why = scratch;
        why_size = sizeof(scratch);
    }
    snprintf(why, why_size, "not an ISO 8601 time");
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
        *us = ((int64_t)t - off_s) * 1000000 + frac_us;
        return 0;
    }
    if (nvr_time_local_readings(&tm, &r) < 0) {
        snprintf(why, why_size, "cannot read %s in the local time zone", s);
        return -EINVAL;
    }
    if (r.n != 1) {
        explain_readings(&tm, &r, why, why_size);
        return -EDOM;
    }
    *us = r.us[0] + frac_us;
    return 0;
}

int nvr_time_parse(const char *s, int64_t *us)
{
    return nvr_time_parse_why(s, us, NULL, 0);
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
