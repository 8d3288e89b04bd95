/* SPDX-License-Identifier: MIT */
/*
 * The [access] rules (see access.h). A rule gives a right on one camera
 * (or '*') to a group, matched by name against the caller's groups as
 * the user database lists them now, so adding a user to a group takes
 * effect with their next request, no restart.
 */
#include "config.h"
#include "nvr/access.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#define ACCESS_PW_BUF 16384 /* bytes for getpwuid_r / getgrgid_r */

static void add_group(struct access_caller *c, gid_t g)
{
    char buf[ACCESS_PW_BUF];
    struct group gr, *res = NULL;
    char name[NVR_GROUP_NAME_MAX];

    if (c->n_groups >= ACCESS_MAX_GROUPS)
        return;
    if (getgrgid_r(g, &gr, buf, sizeof(buf), &res) == 0 && res &&
        res->gr_name && res->gr_name[0])
        snprintf(name, sizeof(name), "%s", res->gr_name);
    else
        snprintf(name, sizeof(name), "%u", (unsigned)g);
    for (int i = 0; i < c->n_groups; i++)
        if (strcmp(c->groups[i], name) == 0)
            return;
    memcpy(c->groups[c->n_groups++], name, sizeof(name));
}

void access_caller_resolve(uid_t uid, gid_t gid, pid_t pid, uid_t self,
                           struct access_caller *out)
{
    char buf[ACCESS_PW_BUF];
    struct passwd pw, *res = NULL;
    gid_t groups[ACCESS_MAX_GROUPS];
    int n = ACCESS_MAX_GROUPS;

    memset(out, 0, sizeof(*out));
    out->uid = uid;
    out->gid = gid;
    out->pid = pid;
    out->all = uid == 0 || uid == self;
    add_group(out, gid);
    if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res ||
        !res->pw_name || !res->pw_name[0]) {
        snprintf(out->user, sizeof(out->user), "uid %u", (unsigned)uid);
        return;
    }
    snprintf(out->user, sizeof(out->user), "%s", res->pw_name);
    /* More groups than kept: the first ACCESS_MAX_GROUPS count. */
    if (getgrouplist(res->pw_name, gid, groups, &n) < 0)
        n = ACCESS_MAX_GROUPS;
    for (int i = 0; i < n && i < ACCESS_MAX_GROUPS; i++)
        add_group(out, groups[i]);
}

static int caller_in(const struct access_caller *c, const char *group)
{
    for (int i = 0; i < c->n_groups; i++)
        if (strcmp(c->groups[i], group) == 0)
            return 1;
    return 0;
}

const char *access_groups_text(const struct access_caller *c, char *out,
                               size_t out_size)
{
    size_t len = 0;

    out[0] = '\0';
    for (int i = 0; i < c->n_groups && len + 1 < out_size; i++) {
        int n = snprintf(out + len, out_size - len, "%s%s", i ? ", " : "",
                         c->groups[i]);

        if (n < 0)
            break;
        len += (size_t)n;
    }
    if (c->n_groups == 0)
        snprintf(out, out_size, "none");
    return out;
}

int access_allows(const struct nvr_config *cfg, const struct access_caller *c,
                  enum nvr_right right, const char *camera, char *why,
                  size_t why_size)
{
    char groups[512], lists[600];
    const char *rname = nvr_right_name(right);
    size_t len = 0;
    int first_line = 0, mine = 0;

    if (c->all)
        return 1;
    for (int i = 0; i < cfg->n_rules; i++) {
        const struct nvr_access_rule *r = &cfg->rules[i];

        if (r->right != right || !caller_in(c, r->group))
            continue;
        if (!camera || strcmp(r->camera, "*") == 0 ||
            strcmp(r->camera, camera) == 0)
            return 1;
    }
    if (!why || why_size == 0)
        return 0;
    /* What the rule does give the caller's groups, for the message. */
    lists[0] = '\0';
    for (int i = 0; i < cfg->n_rules; i++) {
        const struct nvr_access_rule *r = &cfg->rules[i];
        int n;

        if (r->right != right)
            continue;
        if (!first_line)
            first_line = r->line;
        if (!caller_in(c, r->group) || len + 1 >= sizeof(lists))
            continue;
        n = snprintf(lists + len, sizeof(lists) - len, "%s%s for %s",
                     mine ? "; " : "", r->group, r->camera);
        if (n > 0)
            len += (size_t)n;
        mine++;
    }
    access_groups_text(c, groups, sizeof(groups));
    if (!first_line)
        snprintf(why, why_size,
                 "user %s (groups: %s) may not %s %s%s: [access] has no %s "
                 "rule, so only root and the recorder's user may",
                 c->user, groups, rname, camera ? "camera " : "any camera",
                 camera ? camera : "", rname);
    else if (!mine)
        snprintf(why, why_size,
                 "user %s (groups: %s) may not %s %s%s: [access] %s (line "
                 "%d) lists none of these groups",
                 c->user, groups, rname, camera ? "camera " : "any camera",
                 camera ? camera : "", rname, first_line);
    else
        snprintf(why, why_size,
                 "user %s (groups: %s) may not %s camera %s: [access] %s "
                 "(line %d) lists %s only",
                 c->user, groups, rname, camera, rname, first_line, lists);
    return 0;
}

const char *access_rights_text(const struct nvr_config *cfg,
                               const struct access_caller *c, char *out,
                               size_t out_size)
{
    size_t len = 0;

    out[0] = '\0';
    for (int r = 0; r < NVR_RIGHT_COUNT; r++) {
        int n = snprintf(out + len, out_size - len, "%s:", nvr_right_name(r));
        int any = 0;

        if (n < 0 || (size_t)n >= out_size - len)
            return out;
        len += (size_t)n;
        for (int i = 0; i < cfg->n_rules && !c->all; i++) {
            const struct nvr_access_rule *ru = &cfg->rules[i];

            if ((int)ru->right != r || !caller_in(c, ru->group))
                continue;
            n = snprintf(out + len, out_size - len, "%s %s", any ? "," : "",
                         ru->camera);
            if (n < 0 || (size_t)n >= out_size - len)
                return out;
            len += (size_t)n;
            any = 1;
        }
        n = snprintf(out + len, out_size - len, "%s\n",
                     c->all ? " * (every right)"
                     : any  ? ""
                            : " none");
        if (n < 0 || (size_t)n >= out_size - len)
            return out;
        len += (size_t)n;
    }
    return out;
}
