/* SPDX-License-Identifier: MIT */
/*
 * Internals of storage/ shared between its files (not for other folders).
 */
#ifndef NVR_STORAGE_STORAGE_INT_H
#define NVR_STORAGE_STORAGE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvr/base/compiler.h"

struct catalog;
struct catalog_segment;

/* What a segment file really holds, read back from disk. */
struct recovery__probe {
    int64_t bytes;       /* file size (all hashed) */
    int64_t valid_bytes; /* prefix made of complete top-level boxes */
    int64_t frames;      /* video samples in complete fragments */
    int64_t duration_us; /* their total duration */
    int width, height;   /* pixels, 0 if unknown */
    char codec[16];      /* "h264", "h265", "mjpeg", or "" */
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

/*
 * recovery__probe_file(), then, if the file ends in a torn fragment, cuts
 * it off (ftruncate, fsync) and probes again, so the hash and size describe
 * what is left. Returns what the last probe returned. Blocking.
 */
NVR_NODISCARD int recovery__repair_file(const char *path,
                                        struct recovery__probe *out,
                                        int *repaired);

/* What retention__delete_marked() did with its rows. */
struct retention__deleted {
    int64_t done;    /* rows deleted with their files */
    int64_t refused; /* rows whose path leads outside the storage (see
                        storage/storage_path.h): file untouched, row back
                        to CLOSED */
    bool *gone;      /* may be NULL; else n flags, set for rows deleted */
};

/*
 * Completes the deletion of segments already marked DELETING and
 * committed: unlinks each file beneath the storage directory (a file
 * already gone is fine), fsyncs each directory once, then deletes the rows
 * in one transaction. A file that cannot be unlinked for another reason,
 * or whose path is refused, puts its row back to CLOSED. Fills *out.
 * Returns 0 or a catalog error.
 */
NVR_NODISCARD int retention__delete_marked(struct catalog *cat,
                                           const char *storage_dir,
                                           const struct catalog_segment *rows,
                                           size_t n,
                                           struct retention__deleted *out);

/* Finds every DELETING row (left by a pass that was interrupted) and
 * completes its deletion; *done counts them, *refused the rows refused.
 * 0 or a catalog error. */
NVR_NODISCARD int retention__finish_deleting(struct catalog *cat,
                                             const char *storage_dir,
                                             int64_t *done, int64_t *refused);

/* storage_path_open()'s component walk, for kernels without openat2()
 * (tests call it directly). Returns the fd or a negative errno. */
NVR_NODISCARD int storage_path__walk(int root_fd, const char *rel, int flags);

#endif
