/* SPDX-License-Identifier: MIT */
/*
 * Retention inside the recorder: a dedicated thread (never the loop) runs
 * a retention pass at start-up, every NVR_RETENTION_INTERVAL_S seconds, at
 * once when a writer reports a full disk (an emergency pass), and soon
 * when a writer opening a segment sees less free space than min_free. It keeps
 * the last pass's alert for the status: when min_free cannot be met
 * because only held footage is left, every camera's status says so.
 *
 * Also turns the config into a struct retention_config for `nvr retention`.
 */
#ifndef NVR_RETENTION_JOB_H
#define NVR_RETENTION_JOB_H

#include <stddef.h>

#include "nvr/base/compiler.h"
#include "nvr/nvr_config.h"
#include "storage/layout.h"
#include "storage/retention.h"

/* Seconds between the recorder's periodic passes. */
#define NVR_RETENTION_INTERVAL_S 600
/* The catalog's space reserve (see retention_job.c). */
#define NVR_RETENTION_RESERVE_FILE  STORAGE_SPACE_RESERVE_FILE
#define NVR_RETENTION_RESERVE_BYTES STORAGE_SPACE_RESERVE_BYTES
/* ... and while the last pass left an alert (min_free not met). */
#define NVR_RETENTION_ALERT_INTERVAL_S 10
/* Emergency passes are at least this far apart (ms): a disk that stays
 * full must not turn into back-to-back passes. */
#define NVR_RETENTION_EMERGENCY_GAP_MS 2000

/*
 * Fills *rc from cfg: every configured camera's retain_days and max_bytes
 * (*cams, owned by the caller: free() it), RETENTION_DEFAULT_DAYS for
 * catalogued cameras no longer in the config, and min_free. rc borrows
 * cfg and catalog_path. Returns 0 or -ENOMEM.
 */
NVR_NODISCARD int nvr_retention_setup(const struct nvr_config *cfg,
                                      const char *catalog_path,
                                      struct retention_config *rc,
                                      struct retention_camera **cams);

struct nvr_retention_job;

/* Starts the thread; cfg and catalog_path are borrowed until _free.
 * Returns 0, -ENOMEM or a pthread error. */
NVR_NODISCARD int nvr_retention_job_new(const struct nvr_config *cfg,
                                        const char *catalog_path,
                                        struct nvr_retention_job **out);

/* Asks for an emergency pass now. Any thread; never blocks for long. NULL
 * does nothing. */
void nvr_retention_job_kick(struct nvr_retention_job *job);

/* Asks for an ordinary pass soon: free space fell under min_free. Passes
 * asked for by either kick are at least NVR_RETENTION_EMERGENCY_GAP_MS
 * apart. Any thread; never blocks for long. NULL does nothing. */
void nvr_retention_job_kick_low(struct nvr_retention_job *job);

/* Copies the last pass's alert ("" if none) into out. Any thread. */
void nvr_retention_job_alert(struct nvr_retention_job *job, char *out,
                             size_t size);

/* Cancels a running pass between batches, joins and frees. NULL: no-op. */
void nvr_retention_job_free(struct nvr_retention_job *job);

#endif
