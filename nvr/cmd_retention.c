/* SPDX-License-Identifier: MIT */
/*
 * nvr retention: one retention pass, the job for cron or the systemd timer
 * (systemd/nvr-retention.timer). It prints every segment it deletes (or,
 * with --dry-run, would delete), a progress line on a terminal, and the
 * totals. Exit status 1 when the pass fails or min_free cannot be met, so
 * a timer shows the failure.
 */
#include "config.h"
#include "nvr/cmd.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvr/base/err.h"
#include "nvr/base/escape.h"
#include "nvr/base/json.h"
#include "nvr/retention_job.h"
#include "nvr/base/timefmt.h"
#include "storage/catalog.h"
#include "storage/retention.h"

static atomic_int retention_cancel;

struct retention_out {
    int json;
    int dry_run;
    int progress; /* stderr is a terminal */
    struct json_out j;
};

static void retention_on_signal(int sig)
{
    (void)sig;
    atomic_store(&retention_cancel, 1);
}

static void retention_item(void *user, const char *camera,
                           const struct catalog_segment *seg,
                           enum retention_rule rule)
{
    struct retention_out *o = user;
    char a[64], b[64], cam[NVR_ESCAPE_SIZE(128)];
    char path[NVR_ESCAPE_SIZE(sizeof(seg->path))];

    if (o->json) {
        json_obj_begin(&o->j, NULL);
        json_str(&o->j, "camera", camera);
        json_str(&o->j, "path", seg->path);
        json_time(&o->j, "start", seg->start_us);
        json_time(&o->j, "end", seg->end_us);
        json_int(&o->j, "bytes", seg->bytes);
        json_str(&o->j, "rule", retention_rule_name(rule));
        json_obj_end(&o->j);
        return;
    }
    if (o->progress)
        fputs("\r\033[K", stderr);
    nvr_time_format_local(seg->start_us, a, sizeof(a));
    nvr_time_format_local(seg->end_us, b, sizeof(b));
    printf("%s %-12s %s .. %s %10.1f MB  %s  (%s)\n",
           o->dry_run ? "would delete" : "deleted",
           nvr_escape_text(camera, cam, sizeof(cam)), a, b + 11,
           (double)seg->bytes / 1e6,
           nvr_escape_text(seg->path, path, sizeof(path)),
           retention_rule_name(rule));
}

static void retention_progress(void *user, int64_t deleted, int64_t bytes,
                               enum retention_rule rule)
{
    struct retention_out *o = user;

    if (!o->progress)
        return;
    fprintf(stderr, "\r\033[Kretention: %" PRId64 " segments, %.1f MB %s (%s)",
            deleted, (double)bytes / 1e6,
            o->dry_run ? "would be deleted" : "deleted",
            retention_rule_name(rule));
    fflush(stderr);
}

static void retention_print_totals(struct retention_out *o,
                                   const struct retention_report *rep, int err)
{
    if (o->json) {
        json_arr_end(&o->j);
        json_bool(&o->j, "dry_run", o->dry_run);
        json_bool(&o->j, "completed", err == 0);
        json_obj_begin(&o->j, "totals");
        json_int(&o->j, "segments", rep->deleted);
        json_int(&o->j, "bytes", rep->deleted_bytes);
        json_int(&o->j, "by_days", rep->by_rule[RETENTION_RULE_DAYS]);
        json_int(&o->j, "by_max_bytes", rep->by_rule[RETENTION_RULE_BYTES]);
        json_int(&o->j, "by_min_free", rep->by_rule[RETENTION_RULE_MIN_FREE]);
        json_int(&o->j, "held", rep->held);
        json_int(&o->j, "missing_rows", rep->missing_rows);
        json_int(&o->j, "interrupted_finished", rep->interrupted);
        json_int(&o->j, "refused", rep->refused);
        json_obj_end(&o->j);
        json_obj_begin(&o->j, "storage");
        if (rep->free_bytes >= 0)
            json_int(&o->j, "free_bytes", rep->free_bytes);
        else
            json_null(&o->j, "free_bytes");
        json_int(&o->j, "min_free_bytes", rep->min_free_target);
        json_bool(&o->j, "min_free_met", !rep->min_free_unmet);
        json_bool(&o->j, "only_held_left", rep->min_free_only_held);
        json_obj_end(&o->j);
        if (err < 0)
            json_str(&o->j, "error", nvr_strerror(err));
        json_obj_end(&o->j);
        json_finish(&o->j);
        return;
    }
    if (o->progress)
        fputs("\r\033[K", stderr);
    printf("%s %" PRId64 " segments, %.1f MB (%" PRId64 " by age, %" PRId64
           " by max_bytes, %" PRId64 " for min_free); %" PRId64
           " kept by holds\n",
           o->dry_run ? "would delete" : "deleted", rep->deleted,
           (double)rep->deleted_bytes / 1e6, rep->by_rule[RETENTION_RULE_DAYS],
           rep->by_rule[RETENTION_RULE_BYTES],
           rep->by_rule[RETENTION_RULE_MIN_FREE], rep->held);
    if (rep->interrupted > 0)
        printf("finished %" PRId64 " deletions of an interrupted pass\n",
               rep->interrupted);
    if (rep->refused > 0)
        fprintf(stderr,
                "nvr retention: refused %" PRId64 " catalog rows whose path "
                "leads outside the storage (see the log); no file deleted\n",
                rep->refused);
    if (rep->min_free_only_held)
        fprintf(stderr,
                "nvr retention: ONLY HELD FOOTAGE IS LEFT and free space "
                "(%.1f MB) is under min_free (%.1f MB); held footage is "
                "never deleted: release a hold or add space\n",
                (double)rep->free_bytes / 1e6,
                (double)rep->min_free_target / 1e6);
    else if (rep->min_free_unmet)
        fprintf(stderr,
                "nvr retention: free space (%.1f MB) is still under "
                "min_free (%.1f MB)\n",
                (double)rep->free_bytes / 1e6,
                (double)rep->min_free_target / 1e6);
    if (err == -ECANCELED)
        fprintf(stderr, "nvr retention: interrupted; the next pass goes on\n");
    else if (err < 0)
        fprintf(stderr, "nvr retention: %s\n", nvr_strerror(err));
}

/* SIGINT/SIGTERM stop the pass between batches, cleanly. */
static void retention_catch_signals(struct retention_config *rc)
{
    struct sigaction sa;

    atomic_store(&retention_cancel, 0);
    rc->cancel = &retention_cancel;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = retention_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int retention_exec(const struct cli_args *a,
                          const struct nvr_config *cfg, struct catalog *cat)
{
    struct retention_out o;
    struct retention_config rc;
    struct retention_report rep;
    struct retention_camera *cams = NULL;
    char path[2048];
    int err;

    memset(&o, 0, sizeof(o));
    o.dry_run = cli_args_has(a, "dry-run");
    o.json = a->json;
    nvr_cli_storage_path(cfg, CATALOG_FILE, path, sizeof(path));
    if (nvr_retention_setup(cfg, path, &rc, &cams) < 0)
        return NVR_EXIT_FAILURE;
    o.progress = !o.json && isatty(STDERR_FILENO);
    rc.dry_run = o.dry_run;
    rc.on_item = retention_item;
    rc.on_progress = retention_progress;
    rc.user = &o;
    retention_catch_signals(&rc);
    if (o.json) {
        json_init(&o.j, stdout);
        json_obj_begin(&o.j, NULL);
        json_arr_begin(&o.j, o.dry_run ? "would_delete" : "deleted");
    }
    memset(&rep, 0, sizeof(rep));
    err = retention_run(&rc, &rep);
    retention_print_totals(&o, &rep, err);
    fflush(stdout);
    free(cams);
    if (err < 0 || rep.min_free_unmet)
        return NVR_EXIT_FAILURE;
    return NVR_EXIT_OK;
}

#define RETENTION_STR_(x) #x
#define RETENTION_STR(x)  RETENTION_STR_(x)

static const struct cli_option retention_options[] = {
    CLI_OPT_CONFIG,
    {"dry-run", 'n', 0, NULL, "print what would be deleted; delete nothing"},
    CLI_OPT_JSON,
    CLI_OPT_HELP,
    CLI_OPT_END,
};

const struct cli_entry cmd_retention_entry = {
    .name = "retention",
    .summary = "one retention pass: delete what the config says must go",
    .usage = "nvr retention [-c FILE] [--dry-run] [--json]",
    .about = "Runs one retention pass: deletes, oldest first, the segments "
             "older than\neach camera's retain_days (default " RETENTION_STR(
                 RETENTION_DEFAULT_DAYS) ", the UK police guidance for "
                                         "CCTV),\nthe oldest of a camera "
                                         "over its max_bytes, and the oldest "
                                         "of any camera\nwhile free "
                                         "space is under min_free. Never "
                                         "deletes held footage (nvr "
                                         "hold)\nor a segment being recorded. "
                                         "Safe to kill at any "
                                         "moment.",
    .options = retention_options,
    .flags = CLI_CATALOG_EXISTS, /* the pass opens it itself */
    .exec = retention_exec,
};
