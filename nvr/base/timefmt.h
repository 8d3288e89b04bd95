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

/*
 * Parses "2026-11-27T10:00:00", "2026-11-27 10:00", "2026-11-27T10:00:00Z",
 * "2026-11-27T10:00:00.250+01:00", or a date alone ("2026-11-27", local
 * midnight). Returns 0 with *us set, or -EINVAL.
 */
int nvr_time_parse(const char *s, int64_t *us);

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
