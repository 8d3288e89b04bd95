/* SPDX-License-Identifier: MIT */
/*
 * nvr probe URL: connects to one camera (OPTIONS, DESCRIBE), prints its
 * tracks and exits. Nothing is recorded. The password comes from a file
 * (--password-file, read like a camera's password_file) or the first line
 * of standard input (--password-stdin); one left in the URL is scrubbed
 * from the command line by main() (argv_scrub.h). Basic authentication is
 * answered only with --auth basic or any, as a camera's auth key says.
 */
#include "config.h"
#include "nvr/cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <uv.h>

#include "ingest/camera.h"
#include "ingest/rtsp_url.h"
#include "ingest/sdp.h"
#include "nvr/base/err.h"
#include "nvr/base/escape.h"
#include "nvr/base/redact.h"
#include "nvr/base/wipe.h"
#include "nvr/base/json.h"
#include "nvr/nvr_config.h"

#define PROBE_TIMEOUT_MS 15000

struct probe_ctx {
    int json;
    enum rtsp_auth_policy auth;
    const char *url_redacted;
    int done;
    int rc;
};

static void probe_cb(void *user, int err, const char *msg,
                     const struct sdp_session *sdp, const char *base_url)
{
    struct probe_ctx *ctx = user;
    char control[1024], shown[1024], esc[NVR_ESCAPE_SIZE(1024)];

    ctx->done = 1;
    if (err == -EKEYREJECTED) {
        fprintf(stderr, "nvr probe: %s: %s\n", ctx->url_redacted,
                ctx->auth == RTSP_AUTH_POLICY_BASIC
                    ? "authentication refused: the camera offers only "
                      "Digest, and --auth basic allows only Basic; use "
                      "--auth digest (the default) or --auth any"
                    : "authentication refused: the camera offers only "
                      "Basic, which would send the password in clear "
                      "text; add --auth basic (or --auth any) to allow it");
        ctx->rc = NVR_EXIT_FAILURE;
        return;
    }
    if (err < 0) {
        /* The message quotes the camera's reason phrase. */
        fprintf(stderr, "nvr probe: %s: %s\n", ctx->url_redacted,
                nvr_escape_text(msg && msg[0] ? msg : nvr_strerror(err), esc,
                                sizeof(esc)));
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
        char media[NVR_ESCAPE_SIZE(sizeof(t->media))];
        char enc[NVR_ESCAPE_SIZE(sizeof(t->encoding))];

        nvr_redact_url(control, shown, sizeof(shown));
        /* Every string here comes from the camera's SDP. */
        printf("  %d: %-11s %-8s %6d Hz", i,
               nvr_escape_text(t->media, media, sizeof(media)),
               t->codec != NVR_CODEC_NONE
                   ? nvr_codec_name(t->codec)
                   : nvr_escape_text(t->encoding, enc, sizeof(enc)),
               t->clock_rate);
        if (t->channels > 0)
            printf(" %d ch", t->channels);
        printf("  %s  %s\n", t->recordable ? "recordable" : "skipped",
               nvr_escape_text(shown, esc, sizeof(esc)));
    }
}

/* The first line of standard input, without its line end; echo is off
 * while a terminal types it. Returns 0 or a negative errno. */
static int read_password_stdin(char *out, size_t size)
{
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    size_t n;
    int err = 0;

    if (tty) {
        fputs("Password: ", stderr);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    if (!fgets(out, (int)size, stdin))
        err = ferror(stdin) ? -EIO : -ENODATA;
    if (tty) {
        (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (err < 0) {
        out[0] = '\0';
        return err;
    }
    n = strlen(out);
    if (n == size - 1 && out[n - 1] != '\n') {
        nvr_wipe(out, size);
        return -EMSGSIZE;
    }
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' ||
                     out[n - 1] == ' ' || out[n - 1] == '\t'))
        out[--n] = '\0';
    return n > 0 ? 0 : -ENODATA;
}

/*
 * The password from --password-file or --password-stdin into out, or
 * nothing (out empty) when neither is given. Returns 0 or an exit status,
 * with the reason on stderr. A password file must be the caller's alone
 * (no group or other bits), as nvr run asks of a camera's password_file.
 */
static int probe_password(const struct cli_args *a, char *out, size_t size)
{
    const char *file = cli_args_get(a, "password-file");
    char why[512];
    struct stat st;
    int err;

    out[0] = '\0';
    if (file) {
        err = nvr_config_read_password_file(file, out, size, why, sizeof(why));
        if (err < 0) {
            fprintf(stderr, "nvr probe: --password-file: %s\n", why);
            return NVR_EXIT_USAGE;
        }
        if (stat(file, &st) == 0 && (st.st_mode & 077)) {
            nvr_wipe(out, size);
            fprintf(stderr,
                    "nvr probe: --password-file %s has mode %04o: readable "
                    "by group or others; run chmod 600 %s\n",
                    file, (unsigned)(st.st_mode & 07777), file);
            return NVR_EXIT_USAGE;
        }
        return 0;
    }
    if (cli_args_has(a, "password-stdin")) {
        err = read_password_stdin(out, size);
        if (err < 0) {
            fprintf(stderr, "nvr probe: --password-stdin: %s\n",
                    err == -ENODATA ? "no password on standard input"
                    : err == -EMSGSIZE
                        ? "the password is too long (at most 255 bytes)"
                        : nvr_strerror(err));
            return NVR_EXIT_USAGE;
        }
    }
    return 0;
}

/* --auth: the schemes that may be answered; -1 if not valid. */
static int probe_auth(const struct cli_args *a)
{
    static const enum rtsp_auth_policy all[] = {
        RTSP_AUTH_POLICY_DIGEST, RTSP_AUTH_POLICY_BASIC, RTSP_AUTH_POLICY_ANY};
    const char *v = cli_args_get(a, "auth");

    if (!v)
        return RTSP_AUTH_POLICY_DIGEST;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(v, rtsp_auth_policy_name(all[i])) == 0)
            return (int)all[i];
    }
    return -1;
}

/* --timeout in ms, PROBE_TIMEOUT_MS when not given; <= 0 if not valid. */
static int probe_timeout_ms(const struct cli_args *a)
{
    const char *t = cli_args_get(a, "timeout");

    return t ? atoi(t) * 1000 : PROBE_TIMEOUT_MS;
}

static int probe_check(const struct cli_args *a)
{
    if (probe_timeout_ms(a) <= 0) {
        fprintf(stderr, "nvr probe: --timeout: expected seconds\n");
        return NVR_EXIT_USAGE;
    }
    if (probe_auth(a) < 0) {
        fprintf(stderr, "nvr probe: --auth: expected digest, basic (sends "
                        "the password in clear text) or any\n");
        return NVR_EXIT_USAGE;
    }
    if (cli_args_has(a, "password-file") && cli_args_has(a, "password-stdin")) {
        fprintf(stderr, "nvr probe: give --password-file or "
                        "--password-stdin, not both\n");
        return NVR_EXIT_USAGE;
    }
    return 0;
}

/* One OPTIONS + DESCRIBE on a loop of its own; probe_cb prints. */
static int probe_run(const char *url, const char *username,
                     const char *password, struct probe_ctx *ctx,
                     int timeout_ms)
{
    uv_loop_t loop;
    int err = uv_loop_init(&loop);

    if (err < 0) {
        fprintf(stderr, "nvr probe: %s\n", nvr_strerror(err));
        return NVR_EXIT_FAILURE;
    }
    ctx->rc = NVR_EXIT_FAILURE;
    err = ingest_probe(&loop, url, username, password, ctx->auth, timeout_ms,
                       probe_cb, ctx);
    if (err < 0) {
        fprintf(stderr, "nvr probe: %s: %s\n", ctx->url_redacted,
                nvr_strerror(err));
        (void)uv_loop_close(&loop);
        return err == -EINVAL ? NVR_EXIT_USAGE : NVR_EXIT_FAILURE;
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    (void)uv_loop_close(&loop);
    return ctx->done ? ctx->rc : NVR_EXIT_FAILURE;
}

static int probe_exec(const struct cli_args *a, const struct nvr_config *cfg,
                      struct catalog *cat)
{
    const char *url = a->argv[0];
    char password[256], redacted[1024];
    struct probe_ctx ctx = {.json = a->json};
    struct rtsp_url parsed;
    int rc;

    nvr_redact_url(url, redacted, sizeof(redacted));
    ctx.url_redacted = redacted;
    ctx.auth = (enum rtsp_auth_policy)probe_auth(a);
    if (rtsp_url_parse(url, &parsed) != 0) {
        fprintf(stderr, "nvr probe: not an rtsp:// URL: %s\n", redacted);
        return NVR_EXIT_USAGE;
    }
    nvr_wipe(&parsed, sizeof(parsed));
    rc = probe_password(a, password, sizeof(password));
    if (rc != 0)
        return rc;
    rc = probe_run(url, cli_args_get(a, "username"),
                   password[0] ? password : NULL, &ctx, probe_timeout_ms(a));
    nvr_wipe(password, sizeof(password));
    return rc;
}

static const struct cli_option probe_options[] = {
    {"username", 0, 1, "U", "user name"},
    {"password-file", 0, 1, "F",
     "read the password from the first line of F (mode 600)"},
    {"password-stdin", 0, 0, NULL,
     "read the password from the first line of standard input"},
    {"auth", 0, 1, "SCHEMES",
     "digest (default), basic (sends the password in\nclear text) or any"},
    {"timeout", 0, 1, "SECONDS", "give up after this long (default 15)"},
    CLI_OPT_JSON,
    CLI_OPT_HELP,
    CLI_OPT_END,
};

const struct cli_entry cmd_probe_entry = {
    .name = "probe",
    .summary = "connect to one camera and list its tracks",
    .usage = "nvr probe URL [--username U] [--password-file F | "
             "--password-stdin]\n  [--auth digest|basic|any] [--timeout S] "
             "[--json]",
    .about = "Connects to one camera, lists its tracks (codec, clock rate,\n"
             "control URL, whether nvr records it) and exits.\n"
             "A password in the URL (rtsp://user:pass@host/...) can be read\n"
             "by every local user while the probe runs: nvr removes it from\n"
             "its command line at once and warns; use --password-file or\n"
             "--password-stdin instead. Passwords are never printed.\n"
             "Basic authentication sends the password in clear text and is\n"
             "used only with --auth basic or any.",
    .options = probe_options,
    .min_args = 1,
    .max_args = 1,
    .check = probe_check,
    .exec = probe_exec,
};
