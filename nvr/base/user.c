/* SPDX-License-Identifier: MIT */
/*
 * getpwuid_r with a fixed buffer, and the uid as text when there is no
 * entry (a container without /etc/passwd, a deleted user).
 */
#include "config.h"
#include "nvr/base/user.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>

int nvr_user_name(uid_t uid, char *out, size_t out_size)
{
    struct passwd pw, *res = NULL;
    char buf[4096];

    if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res &&
        res->pw_name && res->pw_name[0]) {
        snprintf(out, out_size, "%s", res->pw_name);
        return 0;
    }
    snprintf(out, out_size, "uid %u", (unsigned)uid);
    return -ENOENT;
}
