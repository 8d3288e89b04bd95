/* SPDX-License-Identifier: MIT */
/*
 * nvr hold add/list/release: legal holds, ranges of a camera's footage
 * that retention must never delete (storage/holds.h). Adding and releasing
 * are written to the audit log with the OS user.
 */
#include "config.h"
#include "nvr/cmd.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvr/access.h"
#include "nvr/base/err.h"
#include "nvr/base/escape.h"
#include "nvr/base/json.h"
#include "nvr/base/timefmt.h"
#include "nvr/ipc_proto.h"
#include "storage/catalog.h"
#include "storage/holds.h"

static int hold_configured(const struct nvr_config *cfg, const char *camera)
{
    for (int i = 0; i < cfg->n_cameras; i++)
        if (strcmp(cfg->cameras[i].name, camera) == 0)
            return 1;
    return 0;
}

struct hold_list_ctx {
    FILE *out;
    const struct nvr_config *cfg;
    const struct access_caller *who; /* NULL: every camera */
    int json;
    int n;
    struct json_out j;
};

static int hold_print(void *user, const struct hold *h)
{
    struct hold_list_ctx *x = user;
    char a[64], b[64], c[64], cam[NVR_ESCAPE_SIZE(sizeof(h->camera))];
    char by[NVR_ESCAPE_SIZE(sizeof(h->created_by))];
    char why[NVR_ESCAPE_SIZE(sizeof(h->reason))];

    if (x->who &&
        !access_allows(x->cfg, x->who, NVR_RIGHT_VIEW, h->camera, NULL, 0))
        return 0;
    x->n++;
    if (x->json) {
        json_obj_begin(&x->j, NULL);
        json_int(&x->j, "id", h->id);
        json_str(&x->j, "camera", h->camera);
        json_time(&x->j, "from", h->from_us);
        json_time(&x->j, "to", h->to_us);
        json_str(&x->j, "reason", h->reason);
        json_time(&x->j, "created", h->created_us);
        json_str(&x->j, "created_by", h->created_by);
        json_bool(&x->j, "active", h->released_us == 0);
        json_time(&x->j, "released", h->released_us);
        json_str(&x->j, "released_by", h->released_us ? h->released_by : NULL);
        json_obj_end(&x->j);
        return 0;
    }
    nvr_time_format_local(h->from_us, a, sizeof(a));
    nvr_time_format_local(h->to_us, b, sizeof(b));
    nvr_time_format_local(h->created_us, c, sizeof(c));
    fprintf(x->out, "%5" PRId64 "  %-12s %s .. %s  by %s at %s%s\n       %s\n",
            h->id, nvr_escape_text(h->camera, cam, sizeof(cam)), a, b,
            nvr_escape_text(h->created_by, by, sizeof(by)), c,
            h->released_us ? "  (released)" : "",
            nvr_escape_text(h->reason, why, sizeof(why)));
    return 0;
}

static int hold_add_check(const struct cli_args *a)
{
    const char *reason = cli_args_get(a, "reason");
    struct hold h;

    if (a->argc != 0 || !a->camera || !a->has_from || !a->has_to || !reason) {
        fprintf(stderr, "nvr hold add: --camera, --from, --to and --reason "
                        "are required\n");
        return NVR_EXIT_USAGE;
    }
    if (a->from_us >= a->to_us) {
        fprintf(stderr, "nvr hold add: --from must be before --to\n");
        return NVR_EXIT_USAGE;
    }
    if (strlen(a->camera) >= sizeof(h.camera) ||
        strlen(reason) >= sizeof(h.reason)) {
        fprintf(stderr, "nvr hold add: camera name or reason too long (the "
                        "reason takes up to 511 bytes)\n");
        return NVR_EXIT_USAGE;
    }
    return 0;
}

int cmd_hold_add_render(FILE *out, FILE *err, const struct nvr_config *cfg,
                        struct catalog *cat, const struct cmd_query *a)
{
    struct hold h;
    int rc;

    memset(&h, 0, sizeof(h));
    if (!a->camera || !a->reason || !a->has_from || !a->has_to ||
        strlen(a->camera) >= sizeof(h.camera) ||
        strlen(a->reason) >= sizeof(h.reason)) {
        fprintf(err, "nvr hold add: --camera, --from, --to and --reason (up "
                     "to 511 bytes) are required\n");
        return NVR_EXIT_USAGE;
    }
    snprintf(h.camera, sizeof(h.camera), "%s", a->camera);
    snprintf(h.reason, sizeof(h.reason), "%s", a->reason);
    if (a->who)
        snprintf(h.created_by, sizeof(h.created_by), "%s", a->who->user);
    h.from_us = a->from_us;
    h.to_us = a->to_us;
    /* A configured camera that has not recorded yet can be held too. */
    if (hold_configured(cfg, a->camera)) {
        int64_t id;
        rc = catalog_camera_ensure(cat, a->camera, &id);
        if (rc < 0)
            goto fail;
    }
    rc = holds_add(cat, &h);
    if (rc == -ENOENT) {
        fprintf(err,
                "nvr hold add: no camera '%s' in the config or the "
                "catalog\n",
                a->camera);
        return NVR_EXIT_USAGE;
    }
    if (rc == -EINVAL) {
        fprintf(err, "nvr hold add: the reason must not be empty, and "
                     "--from must be before --to\n");
        return NVR_EXIT_USAGE;
    }
    if (rc < 0)
        goto fail;
    if (a->json) {
        struct hold_list_ctx x = {.out = out, .json = 1};

        json_init(&x.j, out);
        hold_print(&x, &h);
        json_finish(&x.j);
    } else {
        fprintf(out, "hold %" PRId64 " added\n", h.id);
    }
    return NVR_EXIT_OK;
fail:
    fprintf(err, "nvr hold add: %s\n", nvr_strerror(rc));
    return NVR_EXIT_FAILURE;
}

static int hold_add(const struct cli_args *a, const struct nvr_config *cfg,
                    struct catalog *cat)
{
    struct cmd_query q;

    cmd_query_from_args(a, &q);
    return cmd_hold_add_render(stdout, stderr, cfg, cat, &q);
}

int cmd_hold_list_render(FILE *out, FILE *err, const struct nvr_config *cfg,
                         struct catalog *cat, const struct cmd_query *a)
{
    struct hold_list_ctx x;
    int rc;

    memset(&x, 0, sizeof(x));
    x.out = out;
    x.cfg = cfg;
    x.who = a->who;
    x.json = a->json;
    if (x.json) {
        json_init(&x.j, out);
        json_obj_begin(&x.j, NULL);
        json_arr_begin(&x.j, "holds");
    }
    rc = holds_list(cat, a->camera, INT64_MIN, INT64_MAX, !a->all, hold_print,
                    &x);
    if (x.json) {
        json_arr_end(&x.j);
        json_obj_end(&x.j);
        json_finish(&x.j);
    } else if (rc == 0 && x.n == 0) {
        fprintf(out, "no %sholds\n", a->all ? "" : "active ");
    }
    if (rc < 0) {
        fprintf(err, "nvr hold list: %s\n", nvr_strerror(rc));
        return NVR_EXIT_FAILURE;
    }
    return NVR_EXIT_OK;
}

static int hold_list(const struct cli_args *a, const struct nvr_config *cfg,
                     struct catalog *cat)
{
    struct cmd_query q;

    cmd_query_from_args(a, &q);
    return cmd_hold_list_render(stdout, stderr, cfg, cat, &q);
}

/* The ID operand of hold release: 0 or -EINVAL. */
static int hold_id(const struct cli_args *a, long long *id)
{
    const char *s = a->argv[0];
    char *end;

    errno = 0;
    *id = strtoll(s, &end, 10);
    return errno || *end || end == s || *id <= 0 ? -EINVAL : 0;
}

static int hold_release_check(const struct cli_args *a)
{
    long long id;

    if (a->argc != 1) {
        fprintf(stderr, "nvr hold release: give one hold ID\n");
        return NVR_EXIT_USAGE;
    }
    if (hold_id(a, &id) < 0) {
        fprintf(stderr, "nvr hold release: not a hold ID: '%s'\n", a->argv[0]);
        return NVR_EXIT_USAGE;
    }
    return 0;
}

int cmd_hold_release_render(FILE *out, FILE *err, const struct nvr_config *cfg,
                            struct catalog *cat, const struct cmd_query *a)
{
    long long id = (long long)a->hold_id;
    int rc;

    if (id <= 0) {
        fprintf(err, "nvr hold release: give one hold ID\n");
        return NVR_EXIT_USAGE;
    }
    rc = holds_release(cat, (int64_t)id, a->who ? a->who->user : NULL);
    if (rc == 0) {
        fprintf(out, "hold %lld released\n", id);
        return NVR_EXIT_OK;
    }
    if (rc == -ENOENT)
        fprintf(err, "nvr hold release: no hold %lld\n", id);
    else if (rc == -EALREADY)
        fprintf(err, "nvr hold release: hold %lld is already released\n", id);
    else
        fprintf(err, "nvr hold release: %s\n", nvr_strerror(rc));
    return NVR_EXIT_FAILURE;
}

static int hold_release(const struct cli_args *a, const struct nvr_config *cfg,
                        struct catalog *cat)
{
    struct cmd_query q;

    cmd_query_from_args(a, &q);
    return cmd_hold_release_render(stdout, stderr, cfg, cat, &q);
}

static const struct cli_option hold_add_options[] = {
    CLI_OPT_CONFIG,
    {"camera", 0, 1, "NAME", "the camera"},
    {"from", 0, 1, "T", "start of the held footage"},
    {"to", 0, 1, "T", "end of the held footage"},
    {"reason", 0, 1, "TEXT", "why (case reference); required"},
    CLI_OPT_DIRECT,
    CLI_OPT_JSON,
    CLI_OPT_HELP,
    CLI_OPT_END,
};

static const struct cli_entry hold_add_entry = {
    .name = "add",
    .options = hold_add_options,
    .max_args = -1, /* hold_add_check() names what is missing */
    .flags = CLI_CATALOG_WRITE,
    .check = hold_add_check,
    .exec = hold_add,
    .ipc_request = IPC_MSG_HOLD_ADD,
};

static const struct cli_option hold_list_options[] = {
    CLI_OPT_CONFIG,
    {"camera", 0, 1, "NAME", "the camera"},
    {"all", 0, 0, NULL, "list released holds too"},
    CLI_OPT_DIRECT,
    CLI_OPT_JSON,
    CLI_OPT_HELP,
    CLI_OPT_END,
};

static const struct cli_entry hold_list_entry = {
    .name = "list",
    .options = hold_list_options,
    .flags = CLI_CATALOG_READ,
    .exec = hold_list,
    .ipc_request = IPC_MSG_HOLD_LIST,
};

static const struct cli_option hold_release_options[] = {
    CLI_OPT_CONFIG,
    CLI_OPT_DIRECT,
    CLI_OPT_HELP,
    CLI_OPT_END,
};

static const struct cli_entry hold_release_entry = {
    .name = "release",
    .options = hold_release_options,
    .max_args = -1, /* hold_release_check() wants one ID */
    .flags = CLI_CATALOG_WRITE,
    .check = hold_release_check,
    .exec = hold_release,
    .ipc_request = IPC_MSG_HOLD_RELEASE,
};

static const struct cli_entry *const hold_subs[] = {
    &hold_add_entry,
    &hold_list_entry,
    &hold_release_entry,
    NULL,
};

/* What --help lists: the options of every subcommand. */
static const struct cli_option hold_options[] = {
    CLI_OPT_CONFIG,
    {"camera", 0, 1, "NAME", "the camera"},
    {"from", 0, 1, "T", "start of the held footage"},
    {"to", 0, 1, "T", "end of the held footage"},
    {"reason", 0, 1, "TEXT", "why (case reference); required"},
    {"all", 0, 0, NULL, "list released holds too"},
    CLI_OPT_DIRECT,
    CLI_OPT_JSON,
    CLI_OPT_HELP,
    CLI_OPT_END,
};

const struct cli_entry cmd_hold_entry = {
    .name = "hold",
    .summary = "legal holds that retention never deletes",
    .usage = "nvr hold add [-c FILE] --camera NAME --from T --to T "
             "--reason TEXT\n"
             "       nvr hold list [-c FILE] [--camera NAME] [--all] "
             "[--json]\n"
             "       nvr hold release [-c FILE] ID",
    .about = "Legal holds: footage of a camera in [from, to) that retention "
             "never\ndeletes, whatever the rule (days, max_bytes or "
             "min_free). Holds are\nnever removed: release marks them "
             "released, and both are audited.\nTimes are ISO 8601: "
             "2026-11-27T10:00:00 is local time, Z or +01:00 explicit.",
    .options = hold_options,
    .subs = hold_subs,
};
