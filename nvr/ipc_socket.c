/* SPDX-License-Identifier: MIT */
/*
 * The operators' listening socket (see ipc_socket.h): the path cleared
 * only of a stale socket, the file made 0600 by the umask and given its
 * group and 0660 before anyone can connect.
 */
#include "config.h"
#include "nvr/ipc_socket.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "nvr/base/err.h"
#include "nvr/base/log.h"

/* Makes room at path: nothing there, or a stale socket nobody answers on.
 * Anything else is left alone and refused. */
static int socket_clear_path(const char *path, const struct sockaddr_un *sa)
{
    struct stat st;
    int fd, err;

    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        err = -errno;
        LOG_E("ipc", "operators' socket %s: %s", path, nvr_strerror(err));
        return err;
    }
    if (!S_ISSOCK(st.st_mode)) {
        LOG_E("ipc",
              "operators' socket %s: something that is not a socket is "
              "there; move it away or set [access] socket to another path",
              path);
        return -EEXIST;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err = -errno;
        LOG_E("ipc", "operators' socket %s: cannot make a Unix socket: %s",
              path, nvr_strerror(err));
        return err;
    }
    err = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0
              ? -EADDRINUSE
              : -errno;
    close(fd);
    if (err == -EADDRINUSE) {
        LOG_E("ipc",
              "operators' socket %s: another process answers there (a "
              "recorder of another storage?); stop it or set [access] "
              "socket to another path",
              path);
        return err;
    }
    if (err != -ECONNREFUSED) {
        LOG_E("ipc", "operators' socket %s: %s", path, nvr_strerror(err));
        return err;
    }
    if (unlink(path) != 0) {
        err = -errno;
        LOG_E("ipc", "cannot remove the stale socket %s: %s", path,
              nvr_strerror(err));
        return err;
    }
    LOG_I("ipc", "removed the stale socket %s (no recorder answered on it)",
          path);
    return 0;
}

/* The group the socket file gets: [access] socket_group, else ours. */
static int socket_group(const struct nvr_config *cfg, gid_t *gid)
{
    struct group gr, *res = NULL;
    char buf[16384];

    *gid = getegid();
    if (!cfg->socket_group[0])
        return 0;
    if (getgrnam_r(cfg->socket_group, &gr, buf, sizeof(buf), &res) != 0 ||
        !res) {
        LOG_E("ipc",
              "%s: [access] socket_group '%s' is not a group on this host; "
              "create it (groupadd %s) or name another",
              cfg->path, cfg->socket_group, cfg->socket_group);
        return -ENOENT;
    }
    *gid = res->gr_gid;
    return 0;
}

int ipc_socket_listen(const struct nvr_config *cfg, int *out)
{
    const char *path = cfg->socket_path;
    char dir[NVR_SOCKET_PATH_MAX], *slash;
    struct sockaddr_un sa;
    struct stat st;
    mode_t old;
    gid_t gid;
    int fd, err;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG; /* the config loader refuses such a path */
    memcpy(sa.sun_path, path, strlen(path) + 1);
    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = '\0';
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        /* Only a warning when [access] asks for the socket; without that
         * section (the demo, a single-user box) it is a note. */
        NVR_LOG_AT(cfg->access_line ? NVR_LOG_WARN : NVR_LOG_INFO, "ipc",
                   "operators' socket %s: the folder %s does not exist "
                   "(systemd: RuntimeDirectory=nvr); operators' commands "
                   "read the storage themselves until it does",
                   path, dir);
        return -ENOENT;
    }
    err = socket_group(cfg, &gid);
    if (err == 0)
        err = socket_clear_path(path, &sa);
    if (err < 0)
        return err;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        err = -errno;
        LOG_E("ipc",
              "operators' socket %s: cannot make a Unix socket: %s (a "
              "systemd unit with RestrictAddressFamilies= without AF_UNIX?)",
              path, nvr_strerror(err));
        return err;
    }
    /* Created 0600, so no one else can connect before its group and mode
     * are set; umask is the process's, and no other thread runs yet. */
    old = umask(0177);
    err = bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
    umask(old);
    if (err == 0 && chown(path, (uid_t)-1, gid) != 0)
        err = -errno;
    if (err == 0 && chmod(path, 0660) != 0)
        err = -errno;
    if (err < 0) {
        LOG_E("ipc", "operators' socket %s: %s", path, nvr_strerror(err));
        if (err != -EADDRINUSE)
            (void)unlink(path);
        close(fd);
        return err;
    }
    *out = fd;
    return 0;
}
