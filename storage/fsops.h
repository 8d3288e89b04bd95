/* SPDX-License-Identifier: MIT */
/*
 * The file-system seam of storage/: thin wrappers over the POSIX calls the
 * segment writer makes, each returning 0 (or a count/fd) or a negative
 * errno. They live in their own object file so that tests can reroute any
 * of them with the linker's --wrap and fail the n-th call (-ENOSPC, -EIO).
 * Every function retries EINTR. Any thread; never the loop thread.
 */
#ifndef NVR_STORAGE_FSOPS_H
#define NVR_STORAGE_FSOPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "nvr/base/compiler.h"

/* open(2). Returns the fd (>= 0) or a negative errno. The fd is owned by
 * the caller; close it with fsops_close(). */
NVR_NODISCARD int fsops_open(const char *path, int flags, mode_t mode);

/* One write(2): returns the bytes written (may be fewer than len; callers
 * loop) or a negative errno such as -ENOSPC or -EIO. */
NVR_NODISCARD ssize_t fsops_write(int fd, const void *buf, size_t len);

/* One writev(2): returns the bytes written (may be fewer than the total;
 * callers loop) or a negative errno such as -ENOSPC or -EIO. */
NVR_NODISCARD ssize_t fsops_writev(int fd, const struct iovec *iov, int cnt);

/* fsync(2). Returns 0 or a negative errno. */
NVR_NODISCARD int fsops_fsync(int fd);

/* close(2). Returns 0 or a negative errno; the fd is gone either way. */
int fsops_close(int fd);

/* rename(2). Returns 0 or a negative errno. */
NVR_NODISCARD int fsops_rename(const char *from, const char *to);

/* unlink(2). Returns 0 or a negative errno. */
NVR_NODISCARD int fsops_unlink(const char *path);

/* unlinkat(2) of the entry `name` of the directory dirfd (flags 0: not a
 * directory). Returns 0 or a negative errno. */
NVR_NODISCARD int fsops_unlinkat(int dirfd, const char *name);

/*
 * Creates `path` and any missing parents with `mode` (existing directories
 * are fine). The parent of every directory created is fsynced, so that the
 * new entry survives a power cut. Returns 0, -ENAMETOOLONG, -ENOTDIR or
 * another negative errno.
 */
NVR_NODISCARD int fsops_mkdir_p(const char *path, mode_t mode);

/* Opens the directory `path` and fsyncs it, making renames, creations and
 * unlinks inside it durable. Returns 0 or a negative errno. */
NVR_NODISCARD int fsops_fsync_dir(const char *path);

/* Space on the file system holding `path`, from statvfs(2): bytes
 * available to this (unprivileged) process and the total size. Returns 0
 * or a negative errno. */
NVR_NODISCARD int fsops_statvfs(const char *path, int64_t *avail_bytes,
                                int64_t *total_bytes);

/* ftruncate(2). Returns 0 or a negative errno. */
NVR_NODISCARD int fsops_ftruncate(int fd, off_t len);

#endif
