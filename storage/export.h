/* SPDX-License-Identifier: MIT */
/*
 * Evidential export: the original frames of one camera between two times,
 * remuxed (never transcoded) across segment boundaries into one MP4 that
 * starts at the keyframe at or before `from`, with the wall clock carried
 * in the file, a `.sha256` sidecar that `sha256sum -c` accepts and a
 * `.manifest.json` naming every source segment (with its catalog SHA-256),
 * the gaps, who exported it, when, why, and the audit entry recording it.
 *
 * Blocking; never on the loop thread.
 */
#ifndef NVR_STORAGE_EXPORT_H
#define NVR_STORAGE_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "nvr/base/compiler.h"

struct catalog;

struct export_request {
    const char *storage_dir; /* borrowed */
    const char *camera;      /* borrowed */
    int64_t from_us, to_us;  /* requested range, UTC us, from < to */
    const char *out_path;    /* the .mp4 to write (must not exist) */
    const char *reason;      /* why: incident or request reference */
};

struct export_result {
    int64_t actual_from_us; /* the keyframe at or before from_us */
    int64_t actual_to_us;   /* end of the last frame exported */
    int64_t frames;
    int64_t bytes;
    int n_segments;  /* source segments used */
    int n_gaps;      /* gaps inside the range */
    char sha256[65]; /* of the clip */
    char manifest_path[1024];
    char audit_hash[65]; /* hash of the audit entry of this export */
};

/* Progress: done of total source bytes; called from the calling thread. */
typedef void (*export_progress_cb)(void *user, int64_t done, int64_t total);

/*
 * Writes the clip and its sidecars, then appends an AUDIT_EXPORT entry.
 * Returns 0, -ENOENT (unknown camera, or no footage in the range), -EEXIST
 * (output exists), -EINVAL, or an I/O / catalog error; on failure no
 * partial clip is left behind. progress may be NULL.
 */
NVR_NODISCARD int export_run(struct catalog *cat,
                             const struct export_request *req,
                             export_progress_cb progress, void *user,
                             struct export_result *res);

#endif
