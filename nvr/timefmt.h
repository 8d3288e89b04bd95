/* SPDX-License-Identifier: MIT */
/*
 * Times on the command line: ISO 8601 in, ISO 8601 out. A time without a
 * zone is local time (GMT/BST changes included); "Z" or "+01:00" are
 * explicit. Internally everything is UTC microseconds since the epoch.
 */
#ifndef NVR_TIMEFMT_H
#define NVR_TIMEFMT_H

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

/* "2026-11-27 10:00:00 GMT": local time with the zone abbreviation. */
char *nvr_time_format_local(int64_t us, char *out, size_t out_size);

#endif
