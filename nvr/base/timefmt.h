/* SPDX-License-Identifier: MIT */
/*
 * Times on the command line: ISO 8601 in, ISO 8601 out. A time without a
 * zone is local time (GMT/BST changes included); "Z" or "+01:00" are
 * explicit. Internally everything is UTC microseconds since the epoch.
 */
#ifndef NVR_BASE_TIMEFMT_H
#define NVR_BASE_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

struct tm;

/*
 * Parses "2026-11-27T10:00:00", "2026-11-27 10:00", "2026-11-27T10:00:00Z",
 * "2026-11-27T10:00:00.250+01:00", or a date alone ("2026-11-27", local
 * midnight). Returns 0 with *us set, or -EINVAL; a local time the clocks
 * skip or repeat (BST starting or ending) is refused with -EDOM: it needs
 * an offset.
 */
int nvr_time_parse(const char *s, int64_t *us);

/* nvr_time_parse() that also says why it refused, in why: -EINVAL, "not an
 * ISO 8601 time"; -EDOM, a local time the clocks skip or repeat,
 * "2026-10-25 01:30 happens twice (clocks go back): add +01:00 BST or
 * +00:00 GMT" (at most 80 characters, for the TUI's message line). */
int nvr_time_parse_why(const char *s, int64_t *us, char *why, size_t why_size);

#define NVR_TIME_MAX_READINGS 2

/* The instants a local wall-clock time names. */
struct nvr_time_readings {
    int n; /* 1; 2 in the hour repeated when the clocks go back; 0 in the
            * hour skipped when they go forward */
    int64_t us[NVR_TIME_MAX_READINGS]; /* UTC, the earlier first */
    /* When n != 1: the offsets (seconds east of UTC) and abbreviations in
     * force before and after the change. */
    long off_before_s, off_after_s;
    char abbr_before[16], abbr_after[16];
};

/* Reads wall (year, month, day, hour, minute, second; the rest is ignored)
 * in the local zone. Returns 0, or -EINVAL when the C library cannot. */
int nvr_time_local_readings(const struct tm *wall,
                            struct nvr_time_readings *out);

/* "2026-11-27T10:00:00.123456Z" (microseconds shown only if nonzero). */
char *nvr_time_format_utc(int64_t us, char *out, size_t out_size);

/* "2026-11-27T10:00:00.000000Z": always six fractional digits (file
 * metadata such as MP4 creation_time). */
char *nvr_time_format_utc_us(int64_t us, char *out, size_t out_size);

/* "2026-11-27": the UTC date, as the storage's day folders are named. */
char *nvr_time_format_utc_date(int64_t us, char *out, size_t out_size);

/* "2026-11-27 10:00:00 GMT": local time with the zone abbreviation. */
char *nvr_time_format_local(int64_t us, char *out, size_t out_size);

/* "2026-11-27T10:00:00.250+00:00 GMT": local time with its UTC offset and
 * zone abbreviation (microseconds shown only if nonzero). */
char *nvr_time_format_local_iso(int64_t us, char *out, size_t out_size);

/* Local time through strftime(3) with the caller's format; "?" when the
 * time cannot be shown. */
char *nvr_time_format_local_strf(int64_t us, const char *strf, char *out,
                                 size_t out_size);

/* Local midnight starting the day that holds us (23 and 25 hour days
 * included). */
int64_t nvr_time_local_day_start(int64_t us);

/* Local midnight `days` days after the day that holds day_start_us
 * (normally a local midnight). */
int64_t nvr_time_local_day_shift(int64_t day_start_us, int days);

#endif
