/* SPDX-License-Identifier: MIT */
/*
 * The OS user database, asked in one place: the name of a uid for the
 * audit log, holds and the access rules.
 */
#ifndef NVR_BASE_USER_H
#define NVR_BASE_USER_H

#include <stddef.h>
#include <sys/types.h>

/* The longest user name kept (Linux allows 32 characters). */
#define NVR_USER_NAME_MAX 64

/*
 * Writes the login name of uid into out (out_size bytes), or "uid N"
 * when the user database has no entry for it (or cannot be read),
 * so that a name is never empty. Returns 0 when the name came from the
 * database, -ENOENT when the number was written instead.
 */
int nvr_user_name(uid_t uid, char *out, size_t out_size);

#endif
