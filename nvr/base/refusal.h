/* SPDX-License-Identifier: MIT */
/*
 * Why an access unit was not recorded: the one vocabulary of refusal
 * reasons that ingest (depacketizers, the session's keyframe gate),
 * storage (the writer's queue, the segment) and nvr/ (status, the log,
 * the TUI) count and show. A unit is refused for exactly one reason, the
 * first that applied; counters are per camera, per reason. The names are
 * part of `nvr status --json` and never change.
 *
 * Also the rate-limited warning that says so: per camera and reason, at
 * most one line per period, with the count since the last one.
 */
#ifndef NVR_BASE_REFUSAL_H
#define NVR_BASE_REFUSAL_H

#include <stddef.h>
#include <stdint.h>

#include "nvr/base/compiler.h"

enum nvr_refusal {
    NVR_REFUSAL_QUEUE_FULL = 0, /* the writer's queue was full */
    NVR_REFUSAL_DISK,           /* the disk refused a write, or is full */
    NVR_REFUSAL_BAD_TIMESTAMP,  /* time not after the previous unit's */
    NVR_REFUSAL_INCOMPLETE,     /* RTP packets of it lost or malformed */
    NVR_REFUSAL_NO_KEYFRAME,    /* waiting for a keyframe */
    NVR_REFUSAL_NO_PARAMS,      /* codec parameters not known yet */
    NVR_REFUSAL_TOO_LARGE,      /* over NVR_AU_MAX_BYTES */
    NVR_REFUSAL_MALFORMED,      /* empty, or not valid for its codec */
    NVR_REFUSAL_NO_MEMORY,      /* an allocation failed */
    NVR_REFUSAL_SESSION_END,    /* held back when the session ended */
    NVR_REFUSAL_COUNT,
};

/* Units refused, per reason. */
struct nvr_refusals {
    uint64_t n[NVR_REFUSAL_COUNT];
};

/* Counts one unit refused for `why`. */
static inline void nvr_refusals_count(struct nvr_refusals *r,
                                      enum nvr_refusal why)
{
    r->n[why]++;
}

/* "queue_full", "disk", ... (the JSON key); "?" for a value out of range. */
const char *nvr_refusal_name(enum nvr_refusal why);

/* What it means, for operators: "pts not after the previous unit", ... */
const char *nvr_refusal_why(enum nvr_refusal why);

/* The sum over every reason. */
uint64_t nvr_refusals_total(const struct nvr_refusals *r);

/* Adds `from` to `to` (both borrowed). */
void nvr_refusals_add(struct nvr_refusals *to, const struct nvr_refusals *from);

/*
 * Writes the reasons with a nonzero count as "name=count" separated by
 * commas ("" when none) into buf[size] (borrowed), the form the catalog's
 * status rows keep. Returns 0, or -ENOSPC when it did not fit (buf then
 * holds as many whole entries as fit).
 */
NVR_NODISCARD int nvr_refusals_format(const struct nvr_refusals *r, char *buf,
                                      size_t size);

/*
 * Reads text written by nvr_refusals_format() into *out (zeroed first);
 * names this program does not know are skipped (a newer recorder's).
 * Returns 0, or -EINVAL for text that is not that form (*out then holds
 * the entries read before the fault).
 */
NVR_NODISCARD int nvr_refusals_parse(const char *text,
                                     struct nvr_refusals *out);

/* One camera's warnings (see nvr_refusal_log_report). */
struct nvr_refusal_log {
    uint64_t logged[NVR_REFUSAL_COUNT];  /* counts already reported */
    int64_t last_ms[NVR_REFUSAL_COUNT];  /* when, monotonic ms; 0: never */
    int64_t quiet_ms[NVR_REFUSAL_COUNT]; /* last seen without news, ms */
};

/* Starts reporting at now_ms (monotonic ms), nothing reported yet. */
void nvr_refusal_log_init(struct nvr_refusal_log *l, int64_t now_ms);

/*
 * Logs at warning level, for each reason whose count in `now` (borrowed)
 * grew since it was last reported and was not reported in the last
 * period_ms, one line naming the camera, the units refused since and the
 * reason: "camera gate: refused 12 units in the last 10 s: bad_timestamp
 * (pts not after the previous unit)". Call it regularly (each second);
 * units refused within a period are summed into its next line. A count
 * that went down (counters restarted) is taken as the new base. Returns
 * the number of lines logged. module and camera are borrowed.
 */
int nvr_refusal_log_report(struct nvr_refusal_log *l, const char *module,
                           const char *camera, const struct nvr_refusals *now,
                           int64_t now_ms, int period_ms);

#endif
