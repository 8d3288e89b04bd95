/* SPDX-License-Identifier: MIT */
/*
 * nvr probe URL: connects to one camera (OPTIONS, DESCRIBE), prints its
 * tracks and exits. Nothing is recorded.
 */
#include "config.h"
#include "nvr/cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "ingest/camera.h"
#include "ingest/rtsp_url.h"
#include "ingest/sdp.h"
#include "nvr/base/err.h"
#include "nvr/base/redact.h"
#include "nvr/base/wipe.h"
#include "nvr/base/json.h"

#define PROBE_TIMEOUT_MS 15000

struct probe_ctx {
    int json;
    const char *url_redacted;
    int done;
    int rc;
};

static void probe_usage(FILE *f)
{
    fprintf(f,
            "usage: nvr probe URL [--username U] [--password-file F] "
            "[--json]\n\n"
            "Connects to one camera, lists its tracks (codec, clock rate,\n"
            "control URL, whether nvr records it) and exits.\n"
            "Credentials may also be given in the URL "
            "(rtsp://user:pass@host/...);\nthey are never printed.\n\n"
            "      --username U        user name\n"
            "      --password-file F   read the password from F\n"
            "      --timeout SECONDS   give up after this long (default 15)\n"
            "      --json              machine-readable output\n"
            "  -h, --help              this text\n");
}

static void probe_cb(void *user, int err, const char *msg,
                     const struct sdp_session *sdp, const char *base_url)
{
    struct probe_ctx *ctx = user;
    char control[1024], shown[1024];

    ctx->done = 1;
    if (err < 0) {
        fprintf(stderr, "nvr probe: %s: %s\n", ctx->url_redacted,
                msg && msg[0] ? msg : nvr_strerror(err));
        ctx->rc = NVR_EXIT_FAILURE;
        return;
    }
    ctx->rc = NVR_EXIT_OK;
    if (ctx->json) {
        struct json_out j;

        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_str(&j, "url", ctx->url_redacted);
        json_arr_begin(&j, "tracks");
        for (int i = 0; i < sdp->n_tracks; i++) {
            const struct sdp_track *t = &sdp->tracks[i];

            if (rtsp_url_join_control(base_url, t->control, control,
                                      sizeof(control)) != 0)
                control[0] = '\0';
            nvr_redact_url(control, shown, sizeof(shown));
            json_obj_begin(&j, NULL);
            json_str(&j, "media", t->media);
            json_str(&j, "codec",
                     t->codec != NVR_CODEC_NONE ? nvr_codec_name(t->codec)
                                                : t->encoding);
            json_int(&j, "clock_rate", t->clock_rate);
            json_int(&j, "channels", t->channels);
            json_str(&j, "control", shown);
            json_int(&j, "payload_type", t->pt);
            json_bool(&j, "parameter_sets", t->params_len > 0);
            json_bool(&j, "recordable", t->recordable);
            json_obj_end(&j);
        }
        json_arr_end(&j);
        json_obj_end(&j);
        json_finish(&j);
        return;
    }
    printf("%s: %d track%s\n", ctx->url_redacted, sdp->n_tracks,
           sdp->n_tracks == 1 ? "" : "s");
    for (int i = 0; i < sdp->n_tracks; i++) {
        const struct sdp_track *t = &sdp->tracks[i];

        if (rtsp_url_join_control(base_url, t->control, control,
                                  sizeof(control)) != 0)
            control[0] = '\0';
        nvr_redact_url(control, shown, sizeof(shown));
        printf("  %d: %-11s %-8s %6d Hz", i, t->media,
               t->codec != NVR_CODEC_NONE ? nvr_codec_name(t->codec)
                                          : t->encoding,
               t->clock_rate);
        if (t->channels > 0)
            printf(" %d ch", t->channels);
        printf("  %s  %s\n", t->recordable ? "recordable" : "skipped", shown);
    }
}

static int read_password_file(const char *path, char *out, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (!f)
        return -errno;
    if (!fgets(out, (int)size, f))
        out[0] = '\0';
    fclose(f);
    n = strlen(out);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' ||
                     out[n - 1] == ' ' || out[n - 1] == '\t'))
        out[--n] = '\0';
    return 0;
}

int cmd_probe_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"username", required_argument, NULL, 'u'},
        {"password-file", required_argument, NULL, 'p'},
        {"timeout", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *username = NULL, *password_file = NULL;
    char password[256] = "", redacted[1024];
    struct probe_ctx ctx = {0};
    struct rtsp_url parsed;
    int timeout_ms = PROBE_TIMEOUT_MS, c, err;
    uv_loop_t loop;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            username = optarg;
            break;
        case 'p':
            password_file = optarg;
            break;
        case 't':
            timeout_ms = atoi(optarg) * 1000;
            if (timeout_ms <= 0) {
                fprintf(stderr, "nvr probe: --timeout: expected seconds\n");
                return NVR_EXIT_USAGE;
            }
            break;
        case 'j':
            ctx.json = 1;
            break;
        case 'h':
            probe_usage(stdout);
            return NVR_EXIT_OK;
        default:
            probe_usage(stderr);
            return NVR_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        probe_usage(stderr);
        return NVR_EXIT_USAGE;
    }
    nvr_redact_url(argv[optind], redacted, sizeof(redacted));
    ctx.url_redacted = redacted;
    if (rtsp_url_parse(argv[optind], &parsed) != 0) {
        fprintf(stderr, "nvr probe: not an rtsp:// URL: %s\n", redacted);
        return NVR_EXIT_USAGE;
    }
    if (password_file) {
        err = read_password_file(password_file, password, sizeof(password));
        if (err < 0) {
            fprintf(stderr, "nvr probe: --password-file %s: %s\n",
                    password_file, nvr_strerror(err));
            return NVR_EXIT_USAGE;
        }
    }
    ctx.rc = NVR_EXIT_FAILURE;
    uv_loop_init(&loop);
    err = ingest_probe(&loop, argv[optind], username,
                       password_file ? password : NULL, timeout_ms, probe_cb,
                       &ctx);
    if (err < 0) {
        fprintf(stderr, "nvr probe: %s: %s\n", redacted, nvr_strerror(err));
        (void)uv_loop_close(&loop);
        return err == -EINVAL ? NVR_EXIT_USAGE : NVR_EXIT_FAILURE;
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    (void)uv_loop_close(&loop);
    nvr_wipe(password, sizeof(password));
    return ctx.done ? ctx.rc : NVR_EXIT_FAILURE;
}
