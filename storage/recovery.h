/* SPDX-License-Identifier: MIT */
/*
 * Start-up recovery: makes the catalog and the disk agree after a crash.
 * Deletions a retention pass left half done are completed; open segment
 * rows are finished from what the file really holds (a torn last fragment
 * is cut off; duration read back with libavformat, SHA-256 of the bytes);
 * rows whose file is gone are marked MISSING; segment files the catalog
 * does not know are indexed, or moved to <storage>/lost+found/ when they
 * cannot be read, never deleted. Closed segments are not read, so a
 * catalog of a million segments recovers in seconds.
 * Runs before any writer starts; never on the loop thread.
 */
#ifndef NVR_STORAGE_RECOVERY_H
#define NVR_STORAGE_RECOVERY_H

#include "nvr/base/compiler.h"

struct recovery_report {
    int finished;      /* open rows finished from their files */
    int missing;       /* rows whose file is gone (now MISSING) */
    int indexed;       /* files added to the catalog */
    int unreadable;    /* files that could not be read: moved to
                          <storage>/lost+found/ (see moved) or, when the
                          read itself failed, left in place */
    int repaired;      /* of finished: torn last fragment cut off */
    int emptied;       /* open rows whose file held no complete fragment:
                          file and row removed */
    int moved;         /* files moved to <storage>/lost+found/ */
    int deleted;       /* DELETING rows of an interrupted retention pass
                          whose deletion was completed */
    int dirs_counted;  /* date directories checked by count alone */
    int dirs_compared; /* date directories compared name by name */
    int refused;       /* rows whose path leads outside the storage
                          (storage/storage_path.h): left alone, logged */
};

/* Returns 0 or a negative errno (catalog unusable). */
NVR_NODISCARD int recovery_run(const char *storage_dir,
                               const char *catalog_path,
                               struct recovery_report *report);

#endif
