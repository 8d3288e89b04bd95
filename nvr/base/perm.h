/* SPDX-License-Identifier: MIT */
/*
 * Why the calling user may not open a path: the first folder on the way
 * it may not enter, or the file (or the folder it would be made in) it
 * may not read or write, with mode and owner, so that a refusal names
 * what to change instead of only saying "permission denied".
 */
#ifndef NVR_BASE_PERM_H
#define NVR_BASE_PERM_H

#include <stddef.h>

#define NVR_PERM_WHY_MAX 512 /* room for one explanation */

enum nvr_perm_want {
    NVR_PERM_READ = 0, /* open the file for reading */
    NVR_PERM_WRITE,    /* open it for writing, or create it */
};

/*
 * Writes into out[size] why `path` (borrowed) cannot be opened for `want`
 * by the real user and groups of the process, e.g. "/var/lib/nvr (mode
 * 0750, owner nvr:nvr) does not let user alice in". Returns 0 with a
 * reason, -ENOENT when the path or a folder on the way is missing (out
 * names the missing one), or -EAGAIN when nothing on the way refuses (the
 * cause lies elsewhere: an ACL, a read-only mount, a sandbox); out is
 * then empty. Any thread.
 */
int nvr_perm_explain(const char *path, enum nvr_perm_want want, char *out,
                     size_t size);

#endif
