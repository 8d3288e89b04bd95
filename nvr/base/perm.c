/* SPDX-License-Identifier: MIT */
/*
 * nvr_perm_explain(): walks a path the way the kernel does, with
 * access(2) (real uid and groups), and describes the first step that
 * refuses.
 */
#include "config.h"
#include "nvr/base/perm.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvr/base/user.h"

/* "(mode 0750, owner nvr:nvr)" for path, or "" when stat fails too. */
static void perm_describe(const char *path, char *out, size_t size)
{
    char user[NVR_USER_NAME_MAX], gbuf[4096];
    struct group gr, *gres = NULL;
    struct stat st;

    out[0] = '\0';
    if (stat(path, &st) != 0)
        return;
    (void)nvr_user_name(st.st_uid, user, sizeof(user));
    if (getgrgid_r(st.st_gid, &gr, gbuf, sizeof(gbuf), &gres) == 0 && gres &&
        gres->gr_name && gres->gr_name[0])
        snprintf(out, size, " (mode %04o, owner %s:%s)",
                 (unsigned)(st.st_mode & 07777), user, gres->gr_name);
    else
        snprintf(out, size, " (mode %04o, owner %s:%u)",
                 (unsigned)(st.st_mode & 07777), user, (unsigned)st.st_gid);
}

/* Writes "<path> (mode, owner) <what> user <me>". */
static void perm_refused(const char *path, const char *what, char *out,
                         size_t size)
{
    char desc[128 + 2 * NVR_USER_NAME_MAX], me[NVR_USER_NAME_MAX];

    perm_describe(path, desc, sizeof(desc));
    (void)nvr_user_name(getuid(), me, sizeof(me));
    snprintf(out, size, "%s%s %s user %s", path, desc, what, me);
}

int nvr_perm_explain(const char *path, enum nvr_perm_want want, char *out,
                     size_t size)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);
    char *slash;

    if (size == 0)
        return -EINVAL;
    out[0] = '\0';
    if (len == 0 || len >= sizeof(buf))
        return -EAGAIN;
    memcpy(buf, path, len + 1);
    /* Every folder on the way must let us in (search permission). */
    for (char *p = strchr(buf + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        if (access(buf, X_OK) != 0) {
            int err = errno;

            if (err == EACCES) {
                perm_refused(buf, "does not let in", out, size);
                return 0;
            }
            if (err == ENOENT || err == ENOTDIR) {
                snprintf(out, size, "%s does not exist", buf);
                return -ENOENT;
            }
        }
        *p = '/';
    }
    if (access(path, want == NVR_PERM_WRITE ? R_OK | W_OK : R_OK) == 0)
        return -EAGAIN;
    if (errno == EACCES) {
        perm_refused(path,
                     want == NVR_PERM_WRITE ? "may not be written by"
                                            : "may not be read by",
                     out, size);
        return 0;
    }
    if (errno != ENOENT)
        return -EAGAIN;
    if (want == NVR_PERM_READ) {
        snprintf(out, size, "%s does not exist", path);
        return -ENOENT;
    }
    /* Creating it needs write permission on its folder. */
    slash = strrchr(buf, '/');
    if (!slash)
        return -EAGAIN;
    if (slash == buf)
        slash[1] = '\0';
    else
        *slash = '\0';
    if (access(buf, W_OK | X_OK) != 0 && errno == EACCES) {
        perm_refused(buf, "does not let a file be made in it by", out, size);
        return 0;
    }
    return -EAGAIN;
}
