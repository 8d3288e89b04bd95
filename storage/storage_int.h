/* SPDX-License-Identifier: MIT */
/*
 * Internals of storage/ shared between its files (not for other folders).
 */
#ifndef NVR_STORAGE_STORAGE_INT_H
#define NVR_STORAGE_STORAGE_INT_H

#include <stdint.h>

#include "nvr/base/compiler.h"

struct catalog;
struct sqlite3;

/*
 * The SQLite connection behind a catalog, for storage files that keep
 * their own statements (holds, audit, retention). Borrowed: valid until
 * catalog_close(). Same thread rules as the catalog.
 */
struct sqlite3 *catalog__db(struct catalog *cat);

/* What a segment file really holds, read back from disk. */
struct recovery__probe {
    int64_t bytes;       /* file size (all hashed) */
    int64_t valid_bytes; /* prefix made of complete top-level boxes */
    int64_t frames;      /* video samples in complete fragments */
    int64_t duration_us; /* their total duration */
    int width, height;   /* pixels, 0 if unknown */
    char codec[16];      /* "h264", "h265", or "" */
    char sha256[65];     /* lowercase hex of all the file's bytes */
};

/*
 * Reads the segment file at `path`: hashes every byte, then demuxes the
 * prefix of complete boxes (a torn last fragment is ignored) to count the
 * video samples and their duration. Returns 0, -ENOENT, -EBADMSG (not a
 * readable MP4 with a video track), -ENOMEM or -EIO. Blocking; never on
 * the loop thread.
 */
NVR_NODISCARD int recovery__probe_file(const char *path,
                                       struct recovery__probe *out);

#endif
