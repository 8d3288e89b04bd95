/* SPDX-License-Identifier: MIT */
/*
 * nvr status: each camera's state, last frame, bitrate and last error as the
 * recorder last published them in the catalog, plus storage use.
 */
#include "config.h"
#include "nvr/cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "nvr/access.h"
#include "nvr/base/clock.h"
#include "nvr/base/err.h"
#include "nvr/base/escape.h"
#include "nvr/daemon.h"
#include "nvr/base/json.h"
#include "nvr/base/refusal.h"
#include "nvr/sandbox.h"
#include "nvr/base/timefmt.h"
#include "nvr/ipc_proto.h"
#include "storage/catalog.h"

/* A status row older than this means the recorder is not running. */
#define STATUS_STALE_US (10 * 1000000LL)

struct status_ctx {
    const struct nvr_config *cfg;
    FILE *out;
    const struct access_caller *who; /* NULL: every camera */
    int running;                     /* a recorder holds the storage lock */
    int started;        /* ... and has finished its start-up (recovery) */
    int64_t started_us; /* when that recorder took the lock (wall, us) */
    int n;
    struct catalog_status *rows; /* one per configured camera */
    int *found;
    int *shown; /* the caller may view camera i */
    int64_t now_us;
    int64_t used_bytes; /* in segments */
    int64_t free_bytes; /* -1: unknown */
    int64_t size_bytes; /* of the storage's file system; -1: unknown */
};

static int status_row_cb(void *user, const struct catalog_status *st)
{
    struct status_ctx *ctx = user;

    for (int i = 0; i < ctx->n; i++) {
        if (strcmp(ctx->cfg->cameras[i].name, st->name) == 0) {
            ctx->rows[i] = *st;
            ctx->found[i] = 1;
        }
    }
    return 0;
}

static int bytes_cb(void *user, const struct catalog_segment *seg)
{
    struct status_ctx *ctx = user;

    ctx->used_bytes += seg->bytes;
    return 0;
}

/* The state to show: the published one, "stopped" when the row is not the
 * running recorder's (written before it started: a killed recorder's rows
 * stay behind) or it has not refreshed it lately, "disabled" from the
 * config. */
static const char *status_state(const struct status_ctx *ctx, int i)
{
    if (!ctx->cfg->cameras[i].enabled)
        return "disabled";
    if (!ctx->found[i] || !ctx->started ||
        ctx->rows[i].updated_us < ctx->started_us)
        return "stopped";
    if (ctx->now_us - ctx->rows[i].updated_us > STATUS_STALE_US)
        return "stopped";
    return ctx->rows[i].state;
}

/* Reads the published rows and the bytes in segments (none without a
 * catalog). Returns 0 or a negative errno. */
static int status_read(struct status_ctx *ctx, struct catalog *cat)
{
    int rc;

    if (!cat)
        return 0;
    rc = catalog_status_list(cat, status_row_cb, ctx);
    if (rc == 0)
        rc = catalog_segment_list(cat, 0, INT64_MIN, INT64_MAX,
                                  (1u << CATALOG_SEG_OPEN) |
                                      (1u << CATALOG_SEG_CLOSED),
                                  bytes_cb, ctx);
    return rc;
}

/* The published transport, "udp: why", split into name[8] ("" if none)
 * and why ("" if none). */
static const char *status_transport(const struct catalog_status *st,
                                    char name[8])
{
    const char *sep = strstr(st->transport, ": ");
    size_t n = sep ? (size_t)(sep - st->transport) : strlen(st->transport);

    snprintf(name, 8, "%.*s", (int)(n < 7 ? n : 7), st->transport);
    return sep ? sep + 2 : "";
}

/* The units a camera refused, by reason: every reason, zeros included,
 * so that scripts need not know which ones can happen. */
static void status_json_refused(const struct catalog_status *st,
                                struct json_out *j)
{
    json_obj_begin(j, "refused");
    for (int r = 0; r < NVR_REFUSAL_COUNT; r++)
        json_int(j, nvr_refusal_name((enum nvr_refusal)r),
                 (int64_t)st->refused.n[r]);
    json_obj_end(j);
}

/* One camera's row, as an object of the "cameras" array. */
static void status_json_row(const struct status_ctx *ctx, int i,
                            struct json_out *j)
{
    const struct catalog_status *st = &ctx->rows[i];
    char transport[8];
    const char *why = status_transport(st, transport);

    json_obj_begin(j, NULL);
    json_str(j, "name", ctx->cfg->cameras[i].name);
    json_str(j, "state", status_state(ctx, i));
    json_time(j, "last_frame", st->last_frame_us);
    json_int(j, "bitrate_bps", st->bitrate_bps);
    json_str(j, "error", st->error[0] ? st->error : NULL);
    json_int(j, "frames", st->frames);
    json_int(j, "lost_packets", st->lost_packets);
    json_int(j, "dropped", st->dropped);
    json_int(j, "reconnects", st->reconnects);
    json_str(j, "transport", transport[0] ? transport : NULL);
    json_str(j, "transport_reason", why[0] ? why : NULL);
    json_str(j, "auth", st->auth[0] ? st->auth : NULL);
    json_int(j, "drift_ms", st->drift_us / 1000);
    json_int(j, "timestamp_jumps", st->ts_jumps);
    json_int(j, "frames_lost", st->frames_lost);
    json_bool(j, "rtcp_sr", st->rtcp_sr != 0);
    status_json_refused(st, j);
    json_time(j, "updated", st->updated_us);
    json_obj_end(j);
}

static void status_print_json(const struct status_ctx *ctx)
{
    const char *storage = ctx->cfg->storage_path;
    struct json_out j;

    json_init(&j, ctx->out);
    json_obj_begin(&j, NULL);
    json_arr_begin(&j, "cameras");
    for (int i = 0; i < ctx->n; i++)
        if (ctx->shown[i])
            status_json_row(ctx, i, &j);
    json_arr_end(&j);
    json_bool(&j, "recorder_running", ctx->running);
    sandbox_status_json(&j, storage);
    json_obj_begin(&j, "storage");
    json_str(&j, "path", storage);
    json_int(&j, "used_bytes", ctx->used_bytes);
    if (ctx->free_bytes >= 0)
        json_int(&j, "free_bytes", ctx->free_bytes);
    else
        json_null(&j, "free_bytes");
    json_obj_end(&j);
    json_obj_end(&j);
    json_finish(&j);
}

/* One camera's line of the table. */
static void status_text_row(const struct status_ctx *ctx, int i)
{
    const struct catalog_status *st = &ctx->rows[i];
    char when[64] = "-", name[NVR_ESCAPE_SIZE(64)];
    char state[NVR_ESCAPE_SIZE(sizeof(st->state))];
    char transport[NVR_ESCAPE_SIZE(8)], tname[8];
    char auth[NVR_ESCAPE_SIZE(sizeof(st->auth))];
    char error[NVR_ESCAPE_SIZE(sizeof(st->error))];

    (void)status_transport(st, tname);
    if (st->last_frame_us > 0) {
        nvr_time_format_local(st->last_frame_us, when, sizeof(when));
        /* "YYYY-MM-DD HH:MM:SS ZZZ": drop the zone to fit. */
        when[19] = '\0';
    }
    /* The error quotes the camera (reason phrases, SDP): escaped, as is
     * everything else read back from the catalog. */
    fprintf(
        ctx->out,
        "%-16s %-12s %-20s %9lld %-5s %-6s %8lld %5lld %8lld %7lld  %s\n",
        nvr_escape_text(ctx->cfg->cameras[i].name, name, sizeof(name)),
        nvr_escape_text(status_state(ctx, i), state, sizeof(state)), when,
        (long long)(st->bitrate_bps / 1000),
        nvr_escape_text(tname[0] ? tname : "-", transport, sizeof(transport)),
        nvr_escape_text(st->auth[0] ? st->auth : "-", auth, sizeof(auth)),
        (long long)(st->drift_us / 1000), (long long)st->ts_jumps,
        (long long)st->lost_packets, (long long)st->frames_lost,
        nvr_escape_text(st->error, error, sizeof(error)));
}

/* Cameras on UDP because they refused interleaved TCP (transport auto):
 * one line each under the table, saying why. */
static void status_text_fallbacks(const struct status_ctx *ctx)
{
    for (int i = 0; i < ctx->n; i++) {
        const struct catalog_status *st = &ctx->rows[i];
        char tname[8], name[NVR_ESCAPE_SIZE(64)];
        char why[NVR_ESCAPE_SIZE(sizeof(st->transport))];
        const char *w = status_transport(st, tname);

        if (!ctx->shown[i] || strcmp(tname, "udp") != 0 || !w[0] ||
            strcmp(w, "configured") == 0)
            continue;
        fprintf(ctx->out, "%s: %s: %s\n",
                nvr_escape_text(ctx->cfg->cameras[i].name, name, sizeof(name)),
                tname, nvr_escape_text(w, why, sizeof(why)));
    }
}

/* Below the table, for each camera that refused units: how many, by
 * reason, with what the reasons mean. */
static void status_print_refused(const struct status_ctx *ctx)
{
    int header = 0;

    for (int i = 0; i < ctx->n; i++) {
        const struct nvr_refusals *r = &ctx->rows[i].refused;
        char name[NVR_ESCAPE_SIZE(64)];

        if (!ctx->shown[i] || !ctx->found[i] || nvr_refusals_total(r) == 0)
            continue;
        if (!header)
            fprintf(ctx->out, "\nunits refused this run (not recorded):\n");
        header = 1;
        fprintf(ctx->out, "  %s: %llu\n",
                nvr_escape_text(ctx->cfg->cameras[i].name, name, sizeof(name)),
                (unsigned long long)nvr_refusals_total(r));
        for (int k = 0; k < NVR_REFUSAL_COUNT; k++)
            if (r->n[k] > 0)
                fprintf(ctx->out, "    %-13s %8llu  %s\n",
                        nvr_refusal_name((enum nvr_refusal)k),
                        (unsigned long long)r->n[k],
                        nvr_refusal_why((enum nvr_refusal)k));
    }
}

static void status_print_text(const struct status_ctx *ctx)
{
    const char *storage = ctx->cfg->storage_path;

    fprintf(ctx->out, "%-16s %-12s %-20s %9s %-5s %-6s %8s %5s %8s %7s  %s\n",
            "CAMERA", "STATE", "LAST FRAME", "KBIT/S", "TRANS", "AUTH",
            "DRIFT_MS", "JUMPS", "RTP_LOST", "FR_LOST", "ERROR");
    for (int i = 0; i < ctx->n; i++)
        if (ctx->shown[i])
            status_text_row(ctx, i);
    status_text_fallbacks(ctx);
    status_print_refused(ctx);
    if (!ctx->running)
        fprintf(ctx->out, "\nno recorder is running on this storage\n");
    else if (!ctx->started)
        fprintf(ctx->out, "\nthe recorder is starting (crash recovery)\n");
    sandbox_status_print(ctx->out, storage, ctx->running);
    fprintf(ctx->out, "\nstorage %s: %.1f MB in segments", storage,
            (double)ctx->used_bytes / 1e6);
    if (ctx->free_bytes >= 0)
        fprintf(ctx->out, ", %.1f GB free", (double)ctx->free_bytes / 1e9);
    fprintf(ctx->out, "\n");
}

/* ---- nvr status --check ---- */

typedef void (*status_problem_cb)(void *user, const char *text);

/*
 * Every problem a monitoring script must hear of, one call of cb each:
 * the recorder is not running (or still recovering), an enabled camera
 * is not recording (with its state and error), the storage is under
 * min_free or its free space is unknown. Camera lines are left out while
 * no recorder runs: that one line says why none records. A step of the
 * system clock is not detected by the recorder yet, so not reported.
 * Returns how many problems.
 */
static int status_check_each(const struct status_ctx *ctx, status_problem_cb cb,
                             void *user)
{
    const char *storage = ctx->cfg->storage_path;
    char line[4096], name[NVR_ESCAPE_SIZE(64)];
    char error[NVR_ESCAPE_SIZE(sizeof(ctx->rows[0].error))];
    int n = 0;

    if (!ctx->running) {
        snprintf(line, sizeof(line), "recorder: not running on %s", storage);
        cb(user, line);
        n++;
    } else if (!ctx->started) {
        snprintf(line, sizeof(line),
                 "recorder: starting on %s (crash recovery), not recording "
                 "yet",
                 storage);
        cb(user, line);
        n++;
    }
    for (int i = 0; ctx->started && i < ctx->n; i++) {
        const char *st = status_state(ctx, i);

        if (!ctx->shown[i] || strcmp(st, "recording") == 0 ||
            strcmp(st, "disabled") == 0)
            continue;
        nvr_escape_text(ctx->cfg->cameras[i].name, name, sizeof(name));
        nvr_escape_text(ctx->rows[i].error, error, sizeof(error));
        snprintf(line, sizeof(line), "camera %s: %s, not recording%s%s", name,
                 st, error[0] ? ": " : "", error);
        cb(user, line);
        n++;
    }
    if (ctx->free_bytes < 0 || ctx->size_bytes < 0) {
        snprintf(line, sizeof(line), "storage %s: free space unknown", storage);
        cb(user, line);
        n++;
    } else if (ctx->free_bytes <
               nvr_config_min_free_bytes(ctx->cfg, ctx->size_bytes)) {
        snprintf(line, sizeof(line),
                 "storage %s: %.1f MB free, under min_free (%.1f MB)", storage,
                 (double)ctx->free_bytes / 1e6,
                 (double)nvr_config_min_free_bytes(ctx->cfg, ctx->size_bytes) /
                     1e6);
        cb(user, line);
        n++;
    }
    return n;
}

static void status_problem_print(void *user, const char *text)
{
    fprintf(user, "%s\n", text);
}

static void status_problem_json(void *user, const char *text)
{
    json_str(user, NULL, text);
}

/* Prints the problems (or one "ok" line) and returns the exit status:
 * NVR_EXIT_OK when there is none, NVR_EXIT_FAILURE otherwise. */
static int status_check(const struct status_ctx *ctx, int json)
{
    struct json_out j;
    int n, recording = 0;

    for (int i = 0; i < ctx->n; i++)
        recording += ctx->shown[i] && ctx->started &&
                     strcmp(status_state(ctx, i), "recording") == 0;
    if (json) {
        json_init(&j, ctx->out);
        json_obj_begin(&j, NULL);
        json_arr_begin(&j, "problems");
        n = status_check_each(ctx, status_problem_json, &j);
        json_arr_end(&j);
        json_bool(&j, "ok", n == 0);
        json_obj_end(&j);
        json_finish(&j);
    } else {
        n = status_check_each(ctx, status_problem_print, ctx->out);
        if (n == 0)
            fprintf(ctx->out, "ok: %d camera%s recording, %.1f GB free on %s\n",
                    recording, recording == 1 ? "" : "s",
                    (double)ctx->free_bytes / 1e9, ctx->cfg->storage_path);
    }
    return n == 0 ? NVR_EXIT_OK : NVR_EXIT_FAILURE;
}

/* Which cameras the caller may view: all of them for a direct read. */
static void status_filter(struct status_ctx *ctx)
{
    for (int i = 0; i < ctx->n; i++)
        ctx->shown[i] =
            !ctx->who || access_allows(ctx->cfg, ctx->who, NVR_RIGHT_VIEW,
                                       ctx->cfg->cameras[i].name, NULL, 0);
}

int cmd_status_render(FILE *out, FILE *err, const struct nvr_config *cfg,
                      struct catalog *cat, const struct cmd_query *q)
{
    struct status_ctx ctx = {
        .cfg = cfg, .out = out, .free_bytes = -1, .size_bytes = -1};
    struct statvfs vfs;
    char path[2048];
    int rc = NVR_EXIT_OK, e;

    ctx.who = q->who;
    ctx.now_us = nvr_clock_wall_us();
    ctx.n = cfg->n_cameras;
    ctx.running = nvr_daemon_is_running(cfg->storage_path);
    ctx.started = nvr_daemon_run_started(cfg->storage_path, &ctx.started_us);
    ctx.rows = calloc((size_t)ctx.n + 1, sizeof(*ctx.rows));
    ctx.found = calloc((size_t)ctx.n + 1, sizeof(*ctx.found));
    ctx.shown = calloc((size_t)ctx.n + 1, sizeof(*ctx.shown));
    if (!ctx.rows || !ctx.found || !ctx.shown) {
        rc = NVR_EXIT_FAILURE;
        goto out;
    }
    status_filter(&ctx);
    e = status_read(&ctx, cat);
    if (e < 0) {
        nvr_cli_storage_path(cfg, CATALOG_FILE, path, sizeof(path));
        fprintf(err, "nvr status: catalog %s: %s\n", path, nvr_strerror(e));
        rc = NVR_EXIT_FAILURE;
        goto out;
    }
    if (statvfs(cfg->storage_path, &vfs) == 0) {
        ctx.free_bytes = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
        ctx.size_bytes = (int64_t)vfs.f_blocks * (int64_t)vfs.f_frsize;
    }
    if (q->check)
        rc = status_check(&ctx, q->json);
    else if (q->json)
        status_print_json(&ctx);
    else
        status_print_text(&ctx);
out:
    free(ctx.rows);
    free(ctx.found);
    free(ctx.shown);
    return rc;
}

static int status_exec(const struct cli_args *a, const struct nvr_config *cfg,
                       struct catalog *cat)
{
    struct cmd_query q;

    cmd_query_from_args(a, &q);
    return cmd_status_render(stdout, stderr, cfg, cat, &q);
}

static const struct cli_option status_options[] = {
    CLI_OPT_CONFIG,
    CLI_OPT_DIRECT,
    {"check", 0, 0, NULL,
     "exit 1 with one line per problem (recorder down, a camera not\n"
     "recording, storage under min_free), or 0 with one line \"ok\""},
    CLI_OPT_JSON,
    CLI_OPT_HELP,
    CLI_OPT_END,
};

const struct cli_entry cmd_status_entry = {
    .name = "status",
    .summary = "each camera's state, last frame, errors",
    .usage = "nvr status [-c FILE] [--check] [--json]",
    .about = "Shows each camera's state, last frame time, bitrate, "
             "transport (tcp/udp,\nand why when a camera refused TCP), "
             "authentication answered (digest, basic: the\npassword crosses "
             "the network in clear text, none), clock drift (ms, + =\nahead "
             "of this machine's clock), timestamp jumps, RTP packets and "
             "frames\nlost, last error, and the units refused (not recorded) "
             "by reason, as\npublished by the running recorder, and storage "
             "use. With --check, for\nmonitoring scripts and systemd: exit "
             "status 0 and one line \"ok\" when the\nrecorder runs, every "
             "enabled camera records and the storage has min_free;\n"
             "otherwise 1 and one line per problem (2: usage or config "
             "error).",
    .options = status_options,
    .flags = CLI_CONFIG | CLI_CATALOG_READ | CLI_CATALOG_OPTIONAL,
    .exec = status_exec,
    .ipc_request = IPC_MSG_STATUS,
};
