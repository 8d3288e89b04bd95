/* SPDX-License-Identifier: MIT */
/*
 * Paths from the catalog, opened and deleted only beneath the storage
 * directory. A catalog row is outside input: a row whose path is
 * "../victim/x", "/etc/shadow" or runs through a symlink must never make
 * retention, recovery or verification touch a file outside the storage.
 * Every such path is checked here and resolved relative to a descriptor
 * of the storage directory, with no symlink followed on the way.
 */
#ifndef NVR_STORAGE_STORAGE_PATH_H
#define NVR_STORAGE_STORAGE_PATH_H

#include <sys/types.h>

#include "nvr/base/compiler.h"

/* Longest catalog path accepted, in bytes. */
#define STORAGE_PATH_MAX 1024

/*
 * Whether `rel` (borrowed) may name a file of the storage: relative, with
 * no empty, "." or ".." component and no trailing '/', shorter than
 * STORAGE_PATH_MAX. Returns 0, or -EINVAL. Pure; any thread.
 */
NVR_NODISCARD int storage_path_check(const char *rel);

/*
 * Opens the storage directory itself (O_DIRECTORY; the directory may be
 * reached through a symlink the operator configured). Returns the fd,
 * owned by the caller, or a negative errno.
 */
NVR_NODISCARD int storage_path_open_root(const char *storage_dir);

/*
 * Opens `rel` (borrowed) beneath the storage directory root_fd (borrowed)
 * with open flags `flags` (O_CLOEXEC and O_NOFOLLOW are added; O_CREAT is
 * not allowed). No component may be a symlink: openat2() with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS where the kernel has it, else a walk
 * that opens each component with O_NOFOLLOW. Returns the fd (owned by the
 * caller), or a negative errno; -EINVAL (a path storage_path_check()
 * refuses) and -ELOOP or -EXDEV (a symlink on the way) mean the path leads
 * outside the storage: see storage_path_refused(). Blocking.
 */
NVR_NODISCARD int storage_path_open(int root_fd, const char *rel, int flags);

/*
 * Deletes the file `rel` (borrowed) beneath root_fd (borrowed): its parent
 * is opened as storage_path_open() would, then the entry is removed with
 * unlinkat() (a symlink there is removed itself, never its target).
 * Returns 0 or a negative errno, as storage_path_open(). Blocking.
 */
NVR_NODISCARD int storage_path_unlink(int root_fd, const char *rel);

/* 1 if err, from a call above, means the path was refused as leading
 * outside the storage, else 0. */
int storage_path_refused(int err);

/* Why err (a refusal, see storage_path_refused()) was refused, for a log
 * line: a static string. */
const char *storage_path_why(int err);

#endif
