/* SPDX-License-Identifier: MIT */
/*
 * Safe resolution of catalog paths beneath the storage directory (see
 * storage_path.h). The lexical check refuses what can only be hostile;
 * the resolution refuses symlinks, so a camera folder or segment replaced
 * by a link to /etc cannot be read, truncated or deleted through it.
 */
#include "config.h"
#include "storage/storage_path.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "storage/fsops.h"
#include "storage/storage_int.h"

/* 0: openat2() not tried yet or works; 1: absent (old kernel) or refused
 * by a seccomp filter, so the component walk is used. */
static atomic_int openat2_absent;

int storage_path_check(const char *rel)
{
    size_t n = rel ? strlen(rel) : 0;
    const char *p = rel;

    if (n == 0 || n >= STORAGE_PATH_MAX || rel[0] == '/' || rel[n - 1] == '/')
        return -EINVAL;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);

        if (len == 0 || (len == 1 && p[0] == '.') ||
            (len == 2 && p[0] == '.' && p[1] == '.'))
            return -EINVAL;
        p += len + (slash ? 1 : 0);
    }
    return 0;
}

int storage_path_refused(int err)
{
    return err == -EINVAL || err == -ELOOP || err == -EXDEV;
}

const char *storage_path_why(int err)
{
    switch (err) {
    case -EINVAL:
        return "not a plain path beneath the storage";
    case -ELOOP:
        return "a symlink on the way";
    case -EXDEV:
        return "it resolves outside the storage";
    default:
        return "not refused";
    }
}

int storage_path_open_root(const char *storage_dir)
{
    int fd = open(storage_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    return fd < 0 ? -errno : fd;
}

/* openat2() beneath root_fd, or -ENOSYS when it cannot be used. */
static int open_beneath(int root_fd, const char *rel, int flags)
{
    struct open_how how = {
        .flags = (unsigned long long)flags,
        .resolve =
            RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    long fd;

    if (atomic_load(&openat2_absent))
        return -ENOSYS;
    do {
        fd = syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));
    } while (fd < 0 && errno == EINTR);
    if (fd >= 0)
        return (int)fd;
    /* The recorder's seccomp filter answers EPERM for calls it does not
     * list; either way the walk below does the same job. */
    if (errno == ENOSYS || errno == EPERM) {
        atomic_store(&openat2_absent, 1);
        return -ENOSYS;
    }
    return -errno;
}

int storage_path__walk(int root_fd, const char *rel, int flags)
{
    char part[STORAGE_PATH_MAX];
    const char *p = rel;
    int dir = root_fd;

    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        int fd;

        memcpy(part, p, len);
        part[len] = '\0';
        do {
            fd = openat(dir, part,
                        slash ? O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
                              : flags);
        } while (fd < 0 && errno == EINTR);
        if (fd < 0) {
            int err = -errno;

            /* O_DIRECTORY | O_NOFOLLOW on a symlink gives ENOTDIR on some
             * kernels: say what it is. */
            if (err == -ENOTDIR && slash) {
                struct stat sb;

                if (fstatat(dir, part, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
                    S_ISLNK(sb.st_mode))
                    err = -ELOOP;
            }
            if (dir != root_fd)
                close(dir);
            return err;
        }
        if (dir != root_fd)
            close(dir);
        if (!slash)
            return fd;
        dir = fd;
        p = slash + 1;
    }
}

int storage_path_open(int root_fd, const char *rel, int flags)
{
    int r = storage_path_check(rel);

    if (r < 0)
        return r;
    if (flags & O_CREAT)
        return -EINVAL;
    flags |= O_CLOEXEC | O_NOFOLLOW;
    r = open_beneath(root_fd, rel, flags);
    if (r == -ENOSYS)
        r = storage_path__walk(root_fd, rel, flags);
    if (r == -ENOTDIR && (flags & O_DIRECTORY)) {
        /* O_DIRECTORY | O_NOFOLLOW on a symlink fails with ENOTDIR: say
         * what it is. */
        struct stat sb;

        if (fstatat(root_fd, rel, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(sb.st_mode))
            r = -ELOOP;
    }
    return r;
}

int storage_path_unlink(int root_fd, const char *rel)
{
    char parent[STORAGE_PATH_MAX];
    const char *slash;
    int r = storage_path_check(rel);
    int dir;

    if (r < 0)
        return r;
    slash = strrchr(rel, '/');
    if (!slash)
        return fsops_unlinkat(root_fd, rel);
    memcpy(parent, rel, (size_t)(slash - rel));
    parent[slash - rel] = '\0';
    dir = storage_path_open(root_fd, parent, O_RDONLY | O_DIRECTORY);
    if (dir < 0)
        return dir;
    r = fsops_unlinkat(dir, slash + 1);
    close(dir);
    return r;
}
