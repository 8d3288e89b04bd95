/* SPDX-License-Identifier: MIT */
/*
 * Storage integrity: rehashes a finished segment's file and compares it
 * with the SHA-256 and size its catalog row recorded when it was closed.
 * Blocking (reads the whole file); never on the loop thread.
 */
#ifndef NVR_STORAGE_VERIFY_H
#define NVR_STORAGE_VERIFY_H

#include <stdint.h>

#include "nvr/base/compiler.h"

struct catalog_segment;

enum verify_result {
    VERIFY_OK = 0,      /* same bytes */
    VERIFY_CHANGED = 1, /* different hash or size */
    VERIFY_MISSING = 2, /* the file is gone */
    VERIFY_REFUSED = 3, /* its path leads outside the storage or through a
                           symlink (storage/storage_path.h): not read */
};

/*
 * Checks seg (borrowed) against <storage_dir>/<seg->path>: sets *result
 * and the hash found (sha256_out[65], "" when missing) and *bytes_out.
 * Returns 0, or a negative errno when the file exists but cannot be read
 * (-EACCES, -EIO).
 */
NVR_NODISCARD int verify_segment(const char *storage_dir,
                                 const struct catalog_segment *seg,
                                 enum verify_result *result,
                                 char sha256_out[65], int64_t *bytes_out);

#endif
