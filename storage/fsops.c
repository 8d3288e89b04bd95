/* SPDX-License-Identifier: MIT */
/*
 * The file-system seam (see fsops.h). Each function is a thin wrapper over
 * one system call, kept in its own object file so that tests can replace
 * any of them with --wrap; nothing here logs or allocates.
 */
#include "config.h"
#include "storage/fsops.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include "nvr/base/thread.h"

int fsops_open(const char *path, int flags, mode_t mode)
{
    int fd;

    NVR_ASSERT_NOT_LOOP();
    do {
        fd = open(path, flags, mode);
    } while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : fd;
}

ssize_t fsops_write(int fd, const void *buf, size_t len)
{
    ssize_t n;

    NVR_ASSERT_NOT_LOOP();
    do {
        n = write(fd, buf, len);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

ssize_t fsops_writev(int fd, const struct iovec *iov, int cnt)
{
    ssize_t n;

    NVR_ASSERT_NOT_LOOP();
    do {
        n = writev(fd, iov, cnt);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

int fsops_fsync(int fd)
{
    int r;

    NVR_ASSERT_NOT_LOOP();
    do {
        r = fsync(fd);
    } while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : 0;
}

int fsops_close(int fd)
{
    /* Linux releases the descriptor even when close() reports EINTR, so
     * retrying could close an unrelated, newly opened fd. */
    return close(fd) < 0 && errno != EINTR ? -errno : 0;
}

int fsops_rename(const char *from, const char *to)
{
    return rename(from, to) < 0 ? -errno : 0;
}

int fsops_unlink(const char *path)
{
    return unlink(path) < 0 ? -errno : 0;
}

int fsops_unlinkat(int dirfd, const char *name)
{
    return unlinkat(dirfd, name, 0) < 0 ? -errno : 0;
}

int fsops_fsync_dir(const char *path)
{
    int fd, r;

    fd = fsops_open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0)
        return fd;
    r = fsops_fsync(fd);
    (void)fsops_close(fd); /* read-only: nothing to lose on close */
    return r;
}

/* Fsyncs the directory holding `path` (path is modified and restored). */
static int fsync_parent(char *path)
{
    char *slash = strrchr(path, '/');
    int r;

    if (!slash)
        return fsops_fsync_dir(".");
    if (slash == path)
        return fsops_fsync_dir("/");
    *slash = '\0';
    r = fsops_fsync_dir(path);
    *slash = '/';
    return r;
}

int fsops_mkdir_p(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);
    struct stat st;

    if (len == 0)
        return -EINVAL;
    if (len >= sizeof(buf))
        return -ENAMETOOLONG;
    memcpy(buf, path, len + 1);
    while (len > 1 && buf[len - 1] == '/')
        buf[--len] = '\0';

    /* Walk the components from the root; each prefix is created if
     * missing, and the directory holding it is fsynced. */
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, mode) == 0) {
            int r = fsync_parent(buf);
            if (r < 0)
                return r;
        } else if (errno != EEXIST || stat(buf, &st) < 0) {
            return -errno;
        } else if (!S_ISDIR(st.st_mode)) {
            return -ENOTDIR;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    return 0;
}

int fsops_statvfs(const char *path, int64_t *avail_bytes, int64_t *total_bytes)
{
    struct statvfs vfs;

    NVR_ASSERT_NOT_LOOP();
    if (statvfs(path, &vfs) < 0)
        return -errno;
    *avail_bytes = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
    *total_bytes = (int64_t)vfs.f_blocks * (int64_t)vfs.f_frsize;
    return 0;
}

int fsops_ftruncate(int fd, off_t len)
{
    int r;

    NVR_ASSERT_NOT_LOOP();
    do {
        r = ftruncate(fd, len);
    } while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : 0;
}
