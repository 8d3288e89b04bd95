/* SPDX-License-Identifier: MIT */
/*
 * nvr audit: lists the tamper-evident audit log (recorder start/stop,
 * config changes, cameras added/removed, playback, exports, holds,
 * retention, storage checks), optionally one camera's entries in a time
 * range; --verify walks the whole hash chain and names the first entry
 * that does not verify.
 */
#include "config.h"
#include "nvr/cmd.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvr/access.h"
#include "nvr/base/err.h"
#include "nvr/base/escape.h"
#include "nvr/base/json.h"
#include "nvr/base/timefmt.h"
#include "storage/audit.h"
#include "nvr/ipc_proto.h"
#include "storage/catalog.h"

struct list_ctx {
    FILE *out;
    const struct nvr_config *cfg;
    const struct access_caller *who; /* NULL: every entry */
    int json;
    struct json_out *j;
    int64_t n;
};

static int list_cb(void *user, const struct audit_entry *e)
{
    struct list_ctx *c = user;
    char t[64], a[64], b[64], kind[NVR_ESCAPE_SIZE(sizeof(e->kind))];
    char cam[NVR_ESCAPE_SIZE(sizeof(e->camera))];
    char who[NVR_ESCAPE_SIZE(sizeof(e->user))];
    char host[NVR_ESCAPE_SIZE(sizeof(e->host))];
    char detail[NVR_ESCAPE_SIZE(sizeof(e->detail))];

    /* An entry about no camera (recorder start, retention) needs the
     * audit right on every camera. */
    if (c->who && !access_allows(c->cfg, c->who, NVR_RIGHT_AUDIT,
                                 e->camera[0] ? e->camera : "*", NULL, 0))
        return 0;
    c->n++;
    if (c->json) {
        struct json_out *j = c->j;

        json_obj_begin(j, NULL);
        json_int(j, "id", e->id);
        json_time(j, "time", e->time_us);
        json_str(j, "kind", e->kind);
        json_str(j, "camera", e->camera[0] ? e->camera : NULL);
        json_time(j, "from", e->from_us);
        json_time(j, "to", e->to_us);
        json_str(j, "user", e->user);
        json_str(j, "host", e->host);
        json_str(j, "detail", e->detail);
        json_str(j, "prev_hash", e->prev_hash);
        json_str(j, "hash", e->hash);
        json_obj_end(j);
        return 0;
    }
    nvr_time_format_local(e->time_us, t, sizeof(t));
    fprintf(c->out, "%5lld  %s  %-14s %-12s %s@%s", (long long)e->id, t,
            nvr_escape_text(e->kind, kind, sizeof(kind)),
            nvr_escape_text(e->camera[0] ? e->camera : "-", cam, sizeof(cam)),
            nvr_escape_text(e->user, who, sizeof(who)),
            nvr_escape_text(e->host, host, sizeof(host)));
    if (e->from_us || e->to_us) {
        nvr_time_format_local(e->from_us, a, sizeof(a));
        nvr_time_format_local(e->to_us, b, sizeof(b));
        fprintf(c->out, "  [%s .. %s]", a, b);
    }
    if (e->detail[0])
        fprintf(c->out, "\n       %s",
                nvr_escape_text(e->detail, detail, sizeof(detail)));
    fprintf(c->out, "\n");
    return 0;
}

static int do_verify(FILE *out, FILE *errf, struct catalog *cat, int json)
{
    int64_t bad = 0, head_id = 0;
    char why[512], head[65];
    int err = audit_verify(cat, &bad, why, sizeof(why));

    if (err < 0 && err != -EBADMSG) {
        fprintf(errf, "nvr audit: %s\n", nvr_strerror(err));
        return NVR_EXIT_FAILURE;
    }
    if (audit_head(cat, &head_id, head) < 0)
        head[0] = '\0';
    if (json) {
        struct json_out j;

        json_init(&j, out);
        json_obj_begin(&j, NULL);
        json_bool(&j, "ok", err == 0);
        json_int(&j, "entries", head_id);
        json_str(&j, "head_hash", head);
        if (err == 0) {
            json_null(&j, "first_bad_id");
            json_null(&j, "why");
        } else {
            json_int(&j, "first_bad_id", bad);
            json_str(&j, "why", why);
        }
        json_obj_end(&j);
        json_finish(&j);
    } else if (err == 0) {
        fprintf(out, "audit log intact: %lld entr%s, head hash %s\n",
                (long long)head_id, head_id == 1 ? "y" : "ies", head);
    } else {
        fprintf(out, "audit log FAILED verification at entry %lld: %s\n",
                (long long)bad, why);
    }
    return err == 0 ? NVR_EXIT_OK : NVR_EXIT_FAILURE;
}

static int audit_check(const struct cli_args *a)
{
    if (a->from_us > a->to_us) {
        fprintf(stderr, "nvr audit: --from must not be after --to\n");
        return NVR_EXIT_USAGE;
    }
    return 0;
}

static int do_list(FILE *out, FILE *err, const struct nvr_config *cfg,
                   struct catalog *cat, const struct cmd_query *q)
{
    struct json_out j;
    struct list_ctx ctx = {out, cfg, q->who, q->json, &j, 0};
    int rc;

    if (q->json) {
        json_init(&j, out);
        json_obj_begin(&j, NULL);
        json_arr_begin(&j, "entries");
    }
    rc = audit_list(cat, q->camera, q->from_us, q->to_us, list_cb, &ctx);
    if (q->json) {
        json_arr_end(&j);
        json_obj_end(&j);
        json_finish(&j);
    } else if (rc == 0) {
        fprintf(out, "%lld entr%s\n", (long long)ctx.n,
                ctx.n == 1 ? "y" : "ies");
    }
    if (rc < 0) {
        fprintf(err, "nvr audit: %s\n", nvr_strerror(rc));
        return NVR_EXIT_FAILURE;
    }
    return NVR_EXIT_OK;
}

int cmd_audit_render(FILE *out, FILE *err, const struct nvr_config *cfg,
                     struct catalog *cat, const struct cmd_query *q)
{
    if (q->verify)
        return do_verify(out, err, cat, q->json);
    return do_list(out, err, cfg, cat, q);
}

static int audit_exec(const struct cli_args *a, const struct nvr_config *cfg,
                      struct catalog *cat)
{
    struct cmd_query q;

    cmd_query_from_args(a, &q);
    return cmd_audit_render(stdout, stderr, cfg, cat, &q);
}

static const struct cli_option audit_options[] = {
    CLI_OPT_CONFIG,
    CLI_OPT_DIRECT,
    {"camera", 0, 1, "NAME", "only entries about this camera"},
    {"from", 0, 1, "T", "only entries at or after T"},
    {"to", 0, 1, "T", "only entries at or before T"},
    {"verify", 0, 0, NULL, "check the hash chain"},
    CLI_OPT_JSON,
    CLI_OPT_HELP,
    CLI_OPT_END,
};

const struct cli_entry cmd_audit_entry = {
    .name = "audit",
    .summary = "the tamper-evident audit log (--verify)",
    .usage = "nvr audit [-c FILE] [--camera NAME] [--from T] [--to T] "
             "[--json]\n"
             "       nvr audit [-c FILE] --verify [--json]",
    .about = "Lists the audit log: who did what, when, on which camera "
             "and range. Each\nentry carries the hash of the one before "
             "it; --verify checks the whole\nchain and names the first "
             "edited, deleted, inserted or reordered entry\n(exit 1).",
    .options = audit_options,
    .flags = CLI_CATALOG_READ,
    .catalog_missing = "does not exist (has the recorder run?)",
    .check = audit_check,
    .exec = audit_exec,
    .ipc_request = IPC_MSG_AUDIT,
};
