/* SPDX-License-Identifier: MIT */
/*
 * nvr recordings: a camera's recorded segments in a time range and the gaps
 * between them, each gap labelled with why recording stopped when the
 * recorder logged a reason.
 */
#include "config.h"
#include "nvr/cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvr/base/err.h"
#include "nvr/base/escape.h"
#include "nvr/base/json.h"
#include "nvr/base/timefmt.h"
#include "nvr/ipc_proto.h"
#include "storage/catalog.h"

/* Consecutive segments further apart than this are a gap. Within one camera
 * session segments are exactly contiguous; a reconnect takes seconds. */
#define RECORDINGS_GAP_MIN_US 500000LL

struct rec_ctx {
    struct catalog_segment *segs;
    size_t n, cap;
    int oom;
};

static int collect_cb(void *user, const struct catalog_segment *seg)
{
    struct rec_ctx *ctx = user;

    if (ctx->n == ctx->cap) {
        size_t cap = ctx->cap ? ctx->cap * 2 : 64;
        struct catalog_segment *p =
            realloc(ctx->segs, cap * sizeof(*ctx->segs));

        if (!p) {
            ctx->oom = 1;
            return 1;
        }
        ctx->segs = p;
        ctx->cap = cap;
    }
    ctx->segs[ctx->n++] = *seg;
    return 0;
}

struct gap {
    int64_t start_us, end_us;
    char reason[300];
};

static void gap_reason(struct catalog *cat, int64_t camera_id, struct gap *g)
{
    /* The writer logs why a session ended at the time of its last frame,
     * which is the gap's start; allow a little slack either side. */
    if (catalog_event_find(cat, camera_id, g->start_us - 2000000, g->end_us,
                           g->reason, sizeof(g->reason)) != 0)
        snprintf(g->reason, sizeof(g->reason), "no recording");
}

/* The gaps of ctx's segments, in time order; from/to count as edges when
 * given. Returns the array (owned, n_gaps set) or NULL. */
static struct gap *find_gaps(struct catalog *cat, int64_t camera_id,
                             const struct rec_ctx *ctx,
                             const struct cmd_query *a, size_t *n_gaps)
{
    const struct catalog_segment *segs = ctx->segs;
    struct gap *gaps = calloc(ctx->n + 2, sizeof(*gaps));
    size_t n = 0;

    if (!gaps)
        return NULL;
    if (a->has_from && ctx->n > 0 &&
        segs[0].start_us - a->from_us > RECORDINGS_GAP_MIN_US) {
        gaps[n].start_us = a->from_us;
        gaps[n].end_us = segs[0].start_us;
        gap_reason(cat, camera_id, &gaps[n]);
        n++;
    }
    for (size_t i = 1, end_i = 0; i < ctx->n; i++) {
        int64_t end;

        /* The latest end so far: overlapping rows (a clock step) are not
         * gaps. */
        if (segs[i - 1].end_us > segs[end_i].end_us)
            end_i = i - 1;
        end = segs[end_i].end_us;
        if (segs[i].start_us - end > RECORDINGS_GAP_MIN_US) {
            gaps[n].start_us = end;
            gaps[n].end_us = segs[i].start_us;
            gap_reason(cat, camera_id, &gaps[n]);
            n++;
        }
    }
    if (a->has_to && ctx->n > 0 &&
        a->to_us - segs[ctx->n - 1].end_us > RECORDINGS_GAP_MIN_US &&
        segs[ctx->n - 1].status == CATALOG_SEG_CLOSED) {
        gaps[n].start_us = segs[ctx->n - 1].end_us;
        gaps[n].end_us = a->to_us;
        gap_reason(cat, camera_id, &gaps[n]);
        n++;
    }
    *n_gaps = n;
    return gaps;
}

static void print_json(FILE *out, const char *camera, const struct rec_ctx *ctx,
                       const struct gap *gaps, size_t n_gaps)
{
    struct json_out j;

    json_init(&j, out);
    json_obj_begin(&j, NULL);
    json_str(&j, "camera", camera);
    json_arr_begin(&j, "segments");
    for (size_t i = 0; i < ctx->n; i++) {
        const struct catalog_segment *s = &ctx->segs[i];

        json_obj_begin(&j, NULL);
        json_time(&j, "start", s->start_us);
        json_time(&j, "end", s->end_us);
        json_str(&j, "path", s->path);
        json_int(&j, "bytes", s->bytes);
        json_str(&j, "sha256", s->sha256[0] ? s->sha256 : NULL);
        json_int(&j, "frames", s->frames);
        json_str(&j, "codec", s->codec);
        json_int(&j, "width", s->width);
        json_int(&j, "height", s->height);
        json_bool(&j, "open", s->status == CATALOG_SEG_OPEN);
        json_int(&j, "refused", s->refused);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    json_arr_begin(&j, "gaps");
    for (size_t i = 0; i < n_gaps; i++) {
        json_obj_begin(&j, NULL);
        json_time(&j, "start", gaps[i].start_us);
        json_time(&j, "end", gaps[i].end_us);
        json_str(&j, "reason", gaps[i].reason);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    json_obj_end(&j);
    json_finish(&j);
}

static void print_text(FILE *out, const char *camera, const struct rec_ctx *ctx,
                       const struct gap *gaps, size_t n_gaps)
{
    size_t g = 0;

    char shown[NVR_ESCAPE_SIZE(1024)];

    fprintf(out, "camera %s: %zu segment%s, %zu gap%s\n",
            nvr_escape_text(camera, shown, sizeof(shown)), ctx->n,
            ctx->n == 1 ? "" : "s", n_gaps, n_gaps == 1 ? "" : "s");
    for (size_t i = 0; i <= ctx->n; i++) {
        const struct catalog_segment *s;
        char a[64], b[64];

        /* Gaps interleaved in time order with the segments. */
        while (g < n_gaps &&
               (i == ctx->n || gaps[g].start_us < ctx->segs[i].start_us)) {
            nvr_time_format_local(gaps[g].start_us, a, sizeof(a));
            nvr_time_format_local(gaps[g].end_us, b, sizeof(b));
            fprintf(out, "  GAP  %s .. %s  (%.1f s) %s\n", a, b + 11,
                    (double)(gaps[g].end_us - gaps[g].start_us) / 1e6,
                    nvr_escape_text(gaps[g].reason, shown, sizeof(shown)));
            g++;
        }
        if (i == ctx->n)
            break;
        s = &ctx->segs[i];
        nvr_time_format_local(s->start_us, a, sizeof(a));
        nvr_time_format_local(s->end_us, b, sizeof(b));
        fprintf(out, "  %s .. %s  %6.1f s %8.1f MB  %s%s", a, b + 11,
                (double)(s->end_us - s->start_us) / 1e6, (double)s->bytes / 1e6,
                nvr_escape_text(s->path, shown, sizeof(shown)),
                s->status == CATALOG_SEG_OPEN ? " (recording)" : "");
        if (s->refused > 0)
            fprintf(out, "  %lld unit%s refused", (long long)s->refused,
                    s->refused == 1 ? "" : "s");
        fprintf(out, "\n");
    }
}

static int recordings_check(const struct cli_args *a)
{
    if (a->argc != 0 || !a->camera) {
        if (!a->camera)
            fprintf(stderr, "nvr recordings: --camera is required\n");
        cli_help(stderr, a->entry);
        return NVR_EXIT_USAGE;
    }
    if (a->from_us >= a->to_us) {
        fprintf(stderr, "nvr recordings: --from must be before --to\n");
        return NVR_EXIT_USAGE;
    }
    return 0;
}

int cmd_recordings_render(FILE *out, FILE *err, const struct nvr_config *cfg,
                          struct catalog *cat, const struct cmd_query *a)
{
    struct rec_ctx ctx = {0};
    struct gap *gaps = NULL;
    size_t n_gaps = 0;
    int64_t camera_id;
    char path[2048];
    int rc = catalog_camera_find(cat, a->camera, &camera_id);

    if (rc == -ENOENT) {
        fprintf(err, "nvr recordings: no recordings of camera '%s'\n",
                a->camera);
        return NVR_EXIT_FAILURE;
    }
    if (rc == 0)
        rc = catalog_segment_list(cat, camera_id, a->from_us, a->to_us,
                                  (1u << CATALOG_SEG_OPEN) |
                                      (1u << CATALOG_SEG_CLOSED),
                                  collect_cb, &ctx);
    if (rc < 0 || ctx.oom) {
        nvr_cli_storage_path(cfg, CATALOG_FILE, path, sizeof(path));
        fprintf(err, "nvr recordings: catalog %s: %s\n", path,
                nvr_strerror(ctx.oom ? -ENOMEM : rc));
        free(ctx.segs);
        return NVR_EXIT_FAILURE;
    }
    gaps = find_gaps(cat, camera_id, &ctx, a, &n_gaps);
    if (gaps && a->json)
        print_json(out, a->camera, &ctx, gaps, n_gaps);
    else if (gaps)
        print_text(out, a->camera, &ctx, gaps, n_gaps);
    free(gaps);
    free(ctx.segs);
    return gaps ? NVR_EXIT_OK : NVR_EXIT_FAILURE;
}

static int recordings_exec(const struct cli_args *a,
                           const struct nvr_config *cfg, struct catalog *cat)
{
    struct cmd_query q;

    cmd_query_from_args(a, &q);
    return cmd_recordings_render(stdout, stderr, cfg, cat, &q);
}

static const struct cli_option recordings_options[] = {
    CLI_OPT_CONFIG,
    CLI_OPT_DIRECT,
    {"camera", 0, 1, "NAME", "the camera (required)"},
    {"from", 0, 1, "T", "start of the range (default: all)"},
    {"to", 0, 1, "T", "end of the range (default: all)"},
    CLI_OPT_JSON,
    CLI_OPT_HELP,
    CLI_OPT_END,
};

const struct cli_entry cmd_recordings_entry = {
    .name = "recordings",
    .summary = "a camera's recorded segments and gaps",
    .usage = "nvr recordings [-c FILE] --camera NAME [--from T] [--to T] "
             "[--json]",
    .about = "Lists the recorded segments of a camera and the gaps between "
             "them.\nTimes are ISO 8601: 2026-11-27T10:00:00 is local time, "
             "a Z or +01:00\nsuffix is explicit; a date alone is local "
             "midnight.",
    .options = recordings_options,
    .max_args = -1, /* recordings_check() */
    .flags = CLI_CATALOG_READ | CLI_CATALOG_EXISTS,
    .check = recordings_check,
    .exec = recordings_exec,
    .ipc_request = IPC_MSG_RECORDINGS,
};
