/* SPDX-License-Identifier: MIT */
/*
 * nvr recordings: a camera's recorded segments in a time range and the gaps
 * between them, each gap labelled with why recording stopped when the
 * recorder logged a reason.
 */
#include "config.h"
#include "nvr/cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvr/base/err.h"
#include "nvr/base/json.h"
#include "nvr/base/timefmt.h"
#include "storage/catalog.h"

/* Consecutive segments further apart than this are a gap. Within one camera
 * session segments are exactly contiguous; a reconnect takes seconds. */
#define RECORDINGS_GAP_MIN_US 500000LL

struct rec_ctx {
    struct catalog_segment *segs;
    size_t n, cap;
    int oom;
};

static void recordings_usage(FILE *f)
{
    fprintf(f, "usage: nvr recordings [-c FILE] --camera NAME [--from T] "
               "[--to T] [--json]\n\n"
               "Lists the recorded segments of a camera and the gaps between "
               "them.\nTimes are ISO 8601: 2026-11-27T10:00:00 is local time, "
               "a Z or +01:00\nsuffix is explicit; a date alone is local "
               "midnight.\n\n"
               "  -c, --config FILE  the config file\n"
               "      --camera NAME  the camera (required)\n"
               "      --from T       start of the range (default: all)\n"
               "      --to T         end of the range (default: all)\n"
               "      --json         machine-readable output\n"
               "  -h, --help         this text\n");
}

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

int cmd_recordings_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"camera", required_argument, NULL, 'C'},
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL, *camera = NULL;
    int64_t from_us = INT64_MIN, to_us = INT64_MAX, camera_id;
    int json = 0, c, rc, has_from = 0, has_to = 0;
    struct nvr_config *cfg = NULL;
    struct catalog *cat = NULL;
    struct rec_ctx ctx = {0};
    struct gap *gaps = NULL;
    size_t n_gaps = 0;
    char path[2048];

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'C':
            camera = optarg;
            break;
        case 'f':
            if (nvr_cli_time_arg("recordings", "--from", optarg, &from_us) < 0)
                return NVR_EXIT_USAGE;
            has_from = 1;
            break;
        case 't':
            if (nvr_cli_time_arg("recordings", "--to", optarg, &to_us) < 0)
                return NVR_EXIT_USAGE;
            has_to = 1;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            recordings_usage(stdout);
            return NVR_EXIT_OK;
        default:
            recordings_usage(stderr);
            return NVR_EXIT_USAGE;
        }
    }
    if (optind != argc || !camera) {
        if (!camera)
            fprintf(stderr, "nvr recordings: --camera is required\n");
        recordings_usage(stderr);
        return NVR_EXIT_USAGE;
    }
    if (from_us >= to_us) {
        fprintf(stderr, "nvr recordings: --from must be before --to\n");
        return NVR_EXIT_USAGE;
    }
    rc = nvr_cli_load_config(config_path, &cfg);
    if (rc != 0)
        return rc;
    nvr_cli_storage_path(cfg, CATALOG_FILE, path, sizeof(path));
    rc = catalog_open(path, CATALOG_READONLY, &cat);
    if (rc == -ENOENT) {
        fprintf(stderr,
                "nvr recordings: no catalog at %s (has the "
                "recorder run?)\n",
                path);
        rc = NVR_EXIT_FAILURE;
        goto out;
    }
    if (rc < 0) {
        fprintf(stderr, "nvr recordings: catalog %s: %s\n", path,
                nvr_strerror(rc));
        rc = NVR_EXIT_FAILURE;
        goto out;
    }
    rc = catalog_camera_find(cat, camera, &camera_id);
    if (rc == -ENOENT) {
        fprintf(stderr, "nvr recordings: no recordings of camera '%s'\n",
                camera);
        rc = NVR_EXIT_FAILURE;
        goto out;
    }
    if (rc == 0)
        rc = catalog_segment_list(cat, camera_id, from_us, to_us,
                                  (1u << CATALOG_SEG_OPEN) |
                                      (1u << CATALOG_SEG_CLOSED),
                                  collect_cb, &ctx);
    if (rc < 0 || ctx.oom) {
        fprintf(stderr, "nvr recordings: catalog %s: %s\n", path,
                nvr_strerror(ctx.oom ? -ENOMEM : rc));
        rc = NVR_EXIT_FAILURE;
        goto out;
    }

    gaps = calloc(ctx.n + 2, sizeof(*gaps));
    if (!gaps) {
        rc = NVR_EXIT_FAILURE;
        goto out;
    }
    if (has_from && ctx.n > 0 &&
        ctx.segs[0].start_us - from_us > RECORDINGS_GAP_MIN_US) {
        gaps[n_gaps].start_us = from_us;
        gaps[n_gaps].end_us = ctx.segs[0].start_us;
        gap_reason(cat, camera_id, &gaps[n_gaps]);
        n_gaps++;
    }
    for (size_t i = 1, end_i = 0; i < ctx.n; i++) {
        int64_t end;

        /* The latest end so far: overlapping rows (a clock step) are not
         * gaps. */
        if (ctx.segs[i - 1].end_us > ctx.segs[end_i].end_us)
            end_i = i - 1;
        end = ctx.segs[end_i].end_us;
        if (ctx.segs[i].start_us - end > RECORDINGS_GAP_MIN_US) {
            gaps[n_gaps].start_us = end;
            gaps[n_gaps].end_us = ctx.segs[i].start_us;
            gap_reason(cat, camera_id, &gaps[n_gaps]);
            n_gaps++;
        }
    }
    if (has_to && ctx.n > 0 &&
        to_us - ctx.segs[ctx.n - 1].end_us > RECORDINGS_GAP_MIN_US &&
        ctx.segs[ctx.n - 1].status == CATALOG_SEG_CLOSED) {
        gaps[n_gaps].start_us = ctx.segs[ctx.n - 1].end_us;
        gaps[n_gaps].end_us = to_us;
        gap_reason(cat, camera_id, &gaps[n_gaps]);
        n_gaps++;
    }
    rc = NVR_EXIT_OK;

    if (json) {
        struct json_out j;

        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_str(&j, "camera", camera);
        json_arr_begin(&j, "segments");
        for (size_t i = 0; i < ctx.n; i++) {
            const struct catalog_segment *s = &ctx.segs[i];

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
        goto out;
    }

    printf("camera %s: %zu segment%s, %zu gap%s\n", camera, ctx.n,
           ctx.n == 1 ? "" : "s", n_gaps, n_gaps == 1 ? "" : "s");
    {
        size_t g = 0;

        for (size_t i = 0; i <= ctx.n; i++) {
            char a[64], b[64];

            /* Gaps interleaved in time order with the segments. */
            while (g < n_gaps &&
                   (i == ctx.n || gaps[g].start_us < ctx.segs[i].start_us)) {
                nvr_time_format_local(gaps[g].start_us, a, sizeof(a));
                nvr_time_format_local(gaps[g].end_us, b, sizeof(b));
                printf("  GAP  %s .. %s  (%.1f s) %s\n", a, b + 11,
                       (double)(gaps[g].end_us - gaps[g].start_us) / 1e6,
                       gaps[g].reason);
                g++;
            }
            if (i == ctx.n)
                break;
            nvr_time_format_local(ctx.segs[i].start_us, a, sizeof(a));
            nvr_time_format_local(ctx.segs[i].end_us, b, sizeof(b));
            printf("  %s .. %s  %6.1f s %8.1f MB  %s%s\n", a, b + 11,
                   (double)(ctx.segs[i].end_us - ctx.segs[i].start_us) / 1e6,
                   (double)ctx.segs[i].bytes / 1e6, ctx.segs[i].path,
                   ctx.segs[i].status == CATALOG_SEG_OPEN ? " (recording)"
                                                          : "");
        }
    }
out:
    free(gaps);
    free(ctx.segs);
    catalog_close(cat);
    nvr_config_free(cfg);
    return rc;
}
