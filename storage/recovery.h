/* SPDX-License-Identifier: MIT */
/*
 * Start-up recovery: makes the catalog and the disk agree after a crash.
 * Open segment rows are finished from what the file really holds (duration
 * read back with libavformat, SHA-256 of the bytes); rows whose file is gone
 * are marked MISSING; segment files the catalog does not know are indexed.
 * Runs before any writer starts; never on the loop thread.
 */
#ifndef NVR_STORAGE_RECOVERY_H
#define NVR_STORAGE_RECOVERY_H

#include "nvr/base/compiler.h"

struct recovery_report {
    int finished;   /* open rows finished from their files */
    int missing;    /* rows whose file is gone */
    int indexed;    /* files added to the catalog */
    int unreadable; /* files that could not be read (left in place) */
};

/* Returns 0 or a negative errno (catalog unusable). */
NVR_NODISCARD int recovery_run(const char *storage_dir,
                               const char *catalog_path,
                               struct recovery_report *report);

#endif
