/* SPDX-License-Identifier: MIT */
/*
 * The [access] rules applied to a caller the kernel identified
 * (SO_PEERCRED on the recorder's socket): which rights its groups give it
 * for which cameras, and, for a refusal, a message naming the rule. Root
 * and the recorder's own user have every right.
 */
#ifndef NVR_ACCESS_H
#define NVR_ACCESS_H

#include <stddef.h>
#include <sys/types.h>

#include "nvr/base/compiler.h"
#include "nvr/base/user.h"
#include "nvr/nvr_config.h"

#define ACCESS_MAX_GROUPS 64   /* groups of a caller kept */
#define ACCESS_WHY_MAX    1024 /* bytes of a refusal message */

struct access_caller {
    uid_t uid; /* from the kernel */
    gid_t gid;
    pid_t pid;
    char user[NVR_USER_NAME_MAX]; /* login name, or "uid N" */
    int n_groups;
    char groups[ACCESS_MAX_GROUPS][NVR_GROUP_NAME_MAX]; /* names (or gids) */
    int all; /* root or the recorder's own user: every right */
};

/*
 * Fills *out for the process the kernel named (uid, gid, pid): the login
 * name (getpwuid_r) and every group (getgrouplist with the primary group,
 * names from getgrgid_r, the number when a group has no name). `self` is
 * the recorder's uid. A user the database does not know is "uid N" with
 * only its primary group. Any thread.
 */
void access_caller_resolve(uid_t uid, gid_t gid, pid_t pid, uid_t self,
                           struct access_caller *out);

/*
 * 1 if caller c may use `right` on `camera` (NULL: on at least one camera)
 * under cfg's [access] rules, else 0 with a message in why (why_size
 * bytes) such as "user alice (groups: alice, gate-guards) may not view
 * camera yard: [access] view (line 12) lists gate-guards only for gate".
 * why may be NULL. Any thread.
 */
int access_allows(const struct nvr_config *cfg, const struct access_caller *c,
                  enum nvr_right right, const char *camera, char *why,
                  size_t why_size);

/* The caller's groups as "a, b, c" into out. Returns out. */
const char *access_groups_text(const struct access_caller *c, char *out,
                               size_t out_size);

/*
 * The caller's rights, one line per right: "view: gate, yard", "export:
 * *", "hold: none", into out. Returns out.
 */
const char *access_rights_text(const struct nvr_config *cfg,
                               const struct access_caller *c, char *out,
                               size_t out_size);

#endif
