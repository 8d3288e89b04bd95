/* SPDX-License-Identifier: MIT */
/*
 * nvr export: the evidential export of one or more cameras over a time
 * range (storage/export.c does the work): one camera writes -o clip.mp4
 * with clip.mp4.sha256 and clip.manifest.json beside it; several --camera
 * options write <DIR>/<camera>.mp4 (+ .sha256) and one <DIR>/manifest.json.
 * Video and audio are remuxed; the container follows the output's
 * extension, and a camera with G.711 audio (which MP4 cannot hold) needs
 * .mov: a named .mp4 is refused, a clip named here gets .mov.
 * Every clip is recorded in the audit log, so the catalog is opened for
 * writing. A progress line goes to stderr only when it is a terminal.
 */
#include "config.h"
#include "nvr/cmd.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvr/base/err.h"
#include "nvr/base/json.h"
#include "nvr/base/timefmt.h"
#include "storage/catalog.h"
#include "storage/export.h"

struct progress_ctx {
    int tty;
    int shown;
};

static int progress_cb(void *user, int64_t done, int64_t total)
{
    struct progress_ctx *p = user;

    if (!p->tty)
        return 0;
    fprintf(stderr, "\rexporting: %3d%%  %lld / %lld MB ",
            total > 0 ? (int)(done * 100 / total) : 0,
            (long long)(done / 1000000), (long long)(total / 1000000));
    fflush(stderr);
    p->shown = 1;
    return 0;
}

static const char *export_error(int err)
{
    switch (err) {
    case -ENOENT:
        return "a source segment or the output's folder is missing (see the "
               "log above)";
    case -EEXIST:
        return "the output (or its .sha256 or manifest) already exists";
    case -EBADMSG:
        return "a source segment does not match its catalog SHA-256 or "
               "cannot be read (see the log above)";
    case -ENOTSUP:
        return "the camera changed codec or picture size inside the range";
    case -EMEDIUMTYPE:
        return "MP4 cannot hold the camera's audio codec (see above): name "
               "the output .mov";
    case -EINVAL:
        return "invalid request (the output must be named .mp4 or .mov)";
    default:
        return nvr_strerror(err);
    }
}

static void print_result(struct json_out *j, const struct export_request *q,
                         const struct export_result *r)
{
    json_obj_begin(j, NULL);
    json_str(j, "camera", q->camera);
    json_str(j, "path", q->out_path);
    json_str(j, "sha256", r->sha256);
    json_int(j, "bytes", r->bytes);
    json_int(j, "frames", r->frames);
    json_time(j, "actual_from", r->actual_from_us);
    json_time(j, "actual_to", r->actual_to_us);
    json_int(j, "segments", r->n_segments);
    json_int(j, "gaps", r->n_gaps);
    json_int(j, "audit_id", r->audit_id);
    json_str(j, "audit_hash", r->audit_hash);
    json_obj_end(j);
}

/* The folder that would hold path ("." for a bare name) into out. */
static void export_parent(const char *path, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');

    if (!slash)
        snprintf(out, size, ".");
    else if (slash == path)
        snprintf(out, size, "/");
    else
        snprintf(out, size, "%.*s", (int)(slash - path), path);
}

/* Refuses an output whose folder is missing, naming it. 0, or an exit
 * status after a message. */
static int export_check_folder(const char *out_path)
{
    char dir[PATH_MAX];
    struct stat st;

    export_parent(out_path, dir, sizeof(dir));
    if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    if (errno == ENOENT || errno == ENOTDIR || !S_ISDIR(st.st_mode))
        fprintf(stderr,
                "nvr export: the folder %s does not exist (for -o %s): "
                "create it first\n",
                dir, out_path);
    else
        fprintf(stderr, "nvr export: the folder %s: %s\n", dir,
                nvr_strerror(-errno));
    return NVR_EXIT_FAILURE;
}

/* Refuses a camera that neither the config nor the catalog knows, listing
 * the configured ones. 0, or an exit status after a message. */
static int export_check_camera(const char *name, const struct nvr_config *cfg,
                               struct catalog *cat)
{
    int64_t id;
    int configured = 0, err;

    for (int i = 0; i < cfg->n_cameras; i++)
        configured |= strcmp(cfg->cameras[i].name, name) == 0;
    err = catalog_camera_find(cat, name, &id);
    if (err == 0)
        return 0;
    if (err != -ENOENT) {
        fprintf(stderr, "nvr export: camera %s: %s\n", name, nvr_strerror(err));
        return NVR_EXIT_FAILURE;
    }
    if (configured) {
        fprintf(stderr, "nvr export: camera %s has recorded nothing yet\n",
                name);
        return NVR_EXIT_FAILURE;
    }
    fprintf(stderr,
            "nvr export: unknown camera '%s'; the configured ones "
            "are:",
            name);
    for (int i = 0; i < cfg->n_cameras; i++)
        fprintf(stderr, "%s %s", i ? "," : "", cfg->cameras[i].name);
    fprintf(stderr, "%s\n", cfg->n_cameras ? "" : " none");
    return NVR_EXIT_USAGE;
}

/*
 * The output of each clip and the manifest, from -o: a folder gets
 * <camera>.mp4 (or .mov) each, a named .mp4 or .mov is checked against
 * what the camera records (export_output_path). Fills reqs, paths
 * (PATH_MAX each) and manifest_out (PATH_MAX). Returns 0, or an exit
 * status after a message.
 */
static int export_resolve_outputs(const char *out, int n_cam,
                                  const char *const *cameras,
                                  const struct nvr_config *cfg, int64_t from_us,
                                  int64_t to_us, const char *reason,
                                  struct catalog *cat,
                                  struct export_request *reqs,
                                  char (*paths)[PATH_MAX], char *manifest_out)
{
    unsigned flags = n_cam > 1 ? EXPORT_OUT_FOLDER : 0;
    int rc = 0;

    manifest_out[0] = '\0';
    for (int i = 0; i < n_cam && rc == 0; i++)
        rc = export_check_camera(cameras[i], cfg, cat);
    if (rc == 0)
        rc = export_check_folder(out);
    if (rc != 0)
        return rc;
    if (n_cam > 1 && mkdir(out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "nvr export: cannot create folder %s: %s\n", out,
                nvr_strerror(-errno));
        return NVR_EXIT_FAILURE;
    }
    for (int i = 0; i < n_cam && rc == 0; i++) {
        struct export_probe pr;
        size_t len = strlen(out);

        reqs[i] = (struct export_request){
            .storage_dir = cfg->storage_path,
            .camera = cameras[i],
            .from_us = from_us,
            .to_us = to_us,
            .out_path = paths[i],
            .reason = reason,
        };
        rc = export_output_path(cat, &reqs[i], out, flags, "", paths[i],
                                PATH_MAX, &pr);
        if (rc == -EINVAL) {
            fprintf(stderr, "nvr export: -o must name a .mp4 or .mov file (the "
                            "container follows the extension) or a folder\n");
            return NVR_EXIT_USAGE;
        }
        if (rc == -EMEDIUMTYPE) {
            fprintf(stderr,
                    "nvr export: camera %s records %s audio, which MP4 "
                    "cannot hold (only QuickTime can): name the output "
                    ".mov, e.g. -o %.*s.mov\n",
                    cameras[i], pr.not_mp4_codec, (int)(len - 4), out);
            return NVR_EXIT_USAGE;
        }
        if (rc == -ENAMETOOLONG) {
            fprintf(stderr, "nvr export: output path too long\n");
            return NVR_EXIT_USAGE;
        }
        if (rc == -ENOENT) {
            char from[64], to[64];

            nvr_time_format_local(from_us, from, sizeof(from));
            nvr_time_format_local(to_us, to, sizeof(to));
            fprintf(stderr,
                    "nvr export: camera %s recorded nothing between %s and "
                    "%s\n",
                    cameras[i], from, to);
            return NVR_EXIT_FAILURE;
        }
    }
    if (rc < 0) {
        fprintf(stderr, "nvr export: %s\n", export_error(rc));
        return NVR_EXIT_FAILURE;
    }
    if (n_cam > 1)
        rc = snprintf(manifest_out, PATH_MAX, "%s/manifest.json", out) >=
                     PATH_MAX
                 ? -ENAMETOOLONG
                 : 0;
    else
        rc = export_manifest_path(paths[0], manifest_out, PATH_MAX);
    if (rc < 0) {
        fprintf(stderr, "nvr export: output path too long\n");
        return NVR_EXIT_USAGE;
    }
    return 0;
}

static int export_check(const struct cli_args *a)
{
    const char *reason = cli_args_get(a, "reason");
    const char *out = cli_args_get(a, "output");
    int n_cam = a->n_cameras;

    if (n_cam > EXPORT_MAX_CLIPS) {
        fprintf(stderr, "nvr export: at most %d cameras at once\n",
                EXPORT_MAX_CLIPS);
        return NVR_EXIT_USAGE;
    }
    if (a->argc != 0 || n_cam == 0 || !a->has_from || !a->has_to || !out ||
        !reason) {
        fprintf(stderr, "nvr export: %s\n",
                a->argc != 0   ? "unexpected argument"
                : n_cam == 0   ? "--camera is required"
                : !a->has_from ? "--from is required"
                : !a->has_to   ? "--to is required"
                : !out         ? "-o is required"
                               : "--reason is required: say why (incident "
                                 "or request reference)");
        cli_help(stderr, a->entry);
        return NVR_EXIT_USAGE;
    }
    if (a->from_us >= a->to_us) {
        fprintf(stderr, "nvr export: --from must be before --to\n");
        return NVR_EXIT_USAGE;
    }
    if (strlen(reason) == 0 || strlen(reason) > EXPORT_MAX_REASON) {
        fprintf(stderr, "nvr export: --reason must be 1 to %d bytes\n",
                EXPORT_MAX_REASON);
        return NVR_EXIT_USAGE;
    }
    for (int i = 0; i < n_cam; i++) {
        for (int k = 0; k < i; k++) {
            if (strcmp(a->cameras[i], a->cameras[k]) == 0) {
                fprintf(stderr, "nvr export: camera '%s' given twice\n",
                        a->cameras[i]);
                return NVR_EXIT_USAGE;
            }
        }
        if (strchr(a->cameras[i], '/')) {
            fprintf(stderr, "nvr export: bad camera name '%s'\n",
                    a->cameras[i]);
            return NVR_EXIT_USAGE;
        }
    }
    return 0;
}

static void print_json(const struct cli_args *a,
                       const struct export_request *reqs,
                       const struct export_result *res, const char *manifest)
{
    struct json_out j;

    json_init(&j, stdout);
    json_obj_begin(&j, NULL);
    json_str(&j, "manifest", manifest);
    json_str(&j, "reason", cli_args_get(a, "reason"));
    json_time(&j, "requested_from", a->from_us);
    json_time(&j, "requested_to", a->to_us);
    json_arr_begin(&j, "clips");
    for (int i = 0; i < a->n_cameras; i++)
        print_result(&j, &reqs[i], &res[i]);
    json_arr_end(&j);
    json_obj_end(&j);
    json_finish(&j);
}

static void print_text(const struct cli_args *a,
                       const struct export_request *reqs,
                       const struct export_result *res, const char *manifest)
{
    int n_cam = a->n_cameras;

    for (int i = 0; i < n_cam; i++) {
        char from[64], to[64];

        nvr_time_format_local(res[i].actual_from_us, from, sizeof(from));
        nvr_time_format_local(res[i].actual_to_us, to, sizeof(to));
        printf("%s: camera %s, %s .. %s (%.1f s), %lld frames from %d "
               "segment%s, %d gap%s\n  sha256 %s\n",
               reqs[i].out_path, reqs[i].camera, from, to,
               (double)(res[i].actual_to_us - res[i].actual_from_us) / 1e6,
               (long long)res[i].frames, res[i].n_segments,
               res[i].n_segments == 1 ? "" : "s", res[i].n_gaps,
               res[i].n_gaps == 1 ? "" : "s", res[i].sha256);
    }
    printf("manifest %s\naudit entr%s recorded (hash %s)\n"
           "check with: nvr verify %s\n",
           manifest, n_cam == 1 ? "y" : "ies", res[n_cam - 1].audit_hash,
           reqs[0].out_path);
}

static int export_exec(const struct cli_args *a, const struct nvr_config *cfg,
                       struct catalog *cat)
{
    int n_cam = a->n_cameras, rc;
    struct export_request reqs[EXPORT_MAX_CLIPS];
    struct export_result *res = calloc((size_t)n_cam, sizeof(*res));
    char(*paths)[PATH_MAX] = calloc((size_t)n_cam, sizeof(*paths));
    char manifest[PATH_MAX];
    struct progress_ctx prog = {isatty(STDERR_FILENO), 0};

    if (!res || !paths) {
        rc = NVR_EXIT_FAILURE;
        goto out;
    }
    rc = export_resolve_outputs(
        cli_args_get(a, "output"), n_cam, a->cameras, cfg, a->from_us, a->to_us,
        cli_args_get(a, "reason"), cat, reqs, paths, manifest);
    if (rc != 0)
        goto out;
    rc = export_run_many(cat, reqs, n_cam, manifest, progress_cb, &prog, res);
    if (prog.shown)
        fputc('\n', stderr);
    if (rc < 0) {
        fprintf(stderr, "nvr export: %s\n", export_error(rc));
        rc = NVR_EXIT_FAILURE;
        goto out;
    }
    rc = NVR_EXIT_OK;
    if (a->json)
        print_json(a, reqs, res, manifest);
    else
        print_text(a, reqs, res, manifest);
out:
    free(paths);
    free(res);
    return rc;
}

static const struct cli_option export_options[] = {
    CLI_OPT_CONFIG,
    {"camera", 0, 1, "NAME", "the camera (repeatable)"},
    {"from", 0, 1, "T", "start (ISO 8601; local time unless Z or +hh:mm)"},
    {"to", 0, 1, "T", "end"},
    {"reason", 0, 1, "TEXT",
     "why: incident, request or case reference (required)"},
    {"output", 'o', 1, "OUT",
     "the .mp4 or .mov to write (must not exist), or the folder"},
    CLI_OPT_JSON,
    CLI_OPT_HELP,
    CLI_OPT_END,
};

const struct cli_entry cmd_export_entry = {
    .name = "export",
    .summary = "evidential export with hash and manifest",
    .usage = "nvr export [-c FILE] --camera NAME [--camera NAME...] "
             "--from T --to T\n"
             "                  --reason TEXT -o OUT [--json]",
    .about = "Writes the recorded video and audio of a camera between two "
             "times, unchanged\n(no transcoding), into one MP4 (or "
             "QuickTime .mov: the extension decides;\nG.711 audio needs "
             ".mov) that starts at the keyframe at or before --from,\nwith "
             "OUT.sha256 (for sha256sum -c) and a manifest naming every "
             "source\nsegment, the gaps, who exported it, when and why. The "
             "export is recorded\nin the audit log. With several --camera "
             "options OUT is a folder that gets\none <camera>.mp4 (or .mov) "
             "each and one manifest.json.",
    .options = export_options,
    .max_args = -1, /* export_check() names the argument */
    .flags = CLI_CATALOG_WRITE | CLI_CATALOG_EXISTS,
    .catalog_hint = " (exports are recorded in its audit log, so it must be "
                    "writable)",
    .check = export_check,
    .exec = export_exec,
};
