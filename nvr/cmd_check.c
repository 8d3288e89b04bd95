/* SPDX-License-Identifier: MIT */
/*
 * nvr check: validates a config and the host it runs on against the
 * air-gap rules (nvr/check.h) and prints every finding as
 * "FILE:LINE: error|warning: message". Problems of the config file itself
 * (syntax, unknown keys, bad values) are findings too. Exit status 2 when
 * any finding is an error, else 0.
 */
#include "config.h"
#include "nvr/cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvr/check.h"
#include "nvr/base/json.h"

#define CHECK_CONFIG_ERR_MAX 16384 /* bytes of config load messages */

struct check_out {
    struct json_out *json; /* NULL: text */
    int errors, warnings;
};

static void check_usage(FILE *f)
{
    fprintf(f,
            "usage: nvr check [-c FILE] [--json]\n\n"
            "Checks the config and this host against the air-gap rules:\n"
            "camera hosts are IP addresses or in /etc/hosts (DNS only with\n"
            "[network] allow_dns = true), in private, link-local or "
            "loopback\nranges (unless the camera sets allow_public = true); "
            "password files\nare readable by their owner only; the storage "
            "directory is closed\nto others; the catalog opens. Prints each "
            "finding with its file and\nline; exits 2 if any is an error.\n\n"
            "  -c, --config FILE  the config file\n"
            "      --json         machine-readable output\n"
            "  -h, --help         this text\n");
}

static void emit(struct check_out *o, enum check_severity sev, const char *file,
                 int line, const char *camera, const char *msg)
{
    const char *sev_name = sev == CHECK_ERROR ? "error" : "warning";

    if (sev == CHECK_ERROR)
        o->errors++;
    else
        o->warnings++;
    if (o->json) {
        json_obj_begin(o->json, NULL);
        json_str(o->json, "severity", sev_name);
        json_str(o->json, "file", file);
        if (line > 0)
            json_int(o->json, "line", line);
        else
            json_null(o->json, "line");
        json_str(o->json, "camera", camera);
        json_str(o->json, "message", msg);
        json_obj_end(o->json);
    } else if (line > 0) {
        printf("%s:%d: %s: %s\n", file, line, sev_name, msg);
    } else {
        printf("%s: %s: %s\n", file, sev_name, msg);
    }
}

static void finding_cb(void *user, const struct check_finding *f)
{
    emit(user, f->severity, f->file, f->line, f->camera, f->message);
}

/* Turns the config loader's "PATH:LINE: text" lines into findings. */
static void emit_config_errors(struct check_out *o, const char *path, char *err)
{
    size_t plen = strlen(path);
    char *save = NULL;

    for (char *l = strtok_r(err, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        int line = 0;
        char *msg = l;

        if (strncmp(l, path, plen) == 0 && l[plen] == ':') {
            char *p = l + plen + 1, *end;
            long n = strtol(p, &end, 10);

            if (end != p && *end == ':' && n > 0 && n < 1000000000) {
                line = (int)n;
                p = end + 1;
            }
            while (*p == ' ')
                p++;
            msg = p;
        }
        emit(o, CHECK_ERROR, path, line, NULL, msg);
    }
}

int cmd_check_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    struct nvr_config *cfg = NULL;
    struct json_out j;
    struct check_out o = {0};
    char *err;
    int json = 0, c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            check_usage(stdout);
            return NVR_EXIT_OK;
        default:
            check_usage(stderr);
            return NVR_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        check_usage(stderr);
        return NVR_EXIT_USAGE;
    }
    if (!path)
        path = nvr_config_default_path();
    err = calloc(1, CHECK_CONFIG_ERR_MAX);
    if (!err) {
        fprintf(stderr, "nvr check: out of memory\n");
        return NVR_EXIT_FAILURE;
    }
    if (json) {
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_str(&j, "config", path);
        json_arr_begin(&j, "findings");
        o.json = &j;
    }
    rc = nvr_config_load(path, &cfg, err, CHECK_CONFIG_ERR_MAX);
    if (rc < 0) {
        if (!err[0])
            snprintf(err, CHECK_CONFIG_ERR_MAX, "%s: cannot be loaded\n", path);
        emit_config_errors(&o, path, err);
    } else {
        (void)check_config(cfg, NULL, finding_cb, &o);
    }
    if (json) {
        json_arr_end(&j);
        json_int(&j, "errors", o.errors);
        json_int(&j, "warnings", o.warnings);
        json_bool(&j, "ok", o.errors == 0);
        json_obj_end(&j);
        json_finish(&j);
    } else {
        printf("%s: %d error%s, %d warning%s\n", path, o.errors,
               o.errors == 1 ? "" : "s", o.warnings,
               o.warnings == 1 ? "" : "s");
    }
    free(err);
    nvr_config_free(cfg);
    return o.errors > 0 ? NVR_EXIT_USAGE : NVR_EXIT_OK;
}
