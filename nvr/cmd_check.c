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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvr/check.h"
#include "nvr/base/escape.h"
#include "nvr/base/json.h"

#define CHECK_CONFIG_ERR_MAX 16384 /* bytes of config load messages */

struct check_out {
    struct json_out *json; /* NULL: text */
    int errors, warnings;
};

static void emit(struct check_out *o, enum check_severity sev, const char *file,
                 int line, const char *camera, const char *msg)
{
    const char *sev_name = sev == CHECK_ERROR     ? "error"
                           : sev == CHECK_WARNING ? "warning"
                                                  : "info";
    char f[NVR_ESCAPE_SIZE(1024)], m[NVR_ESCAPE_SIZE(2048)];

    if (sev == CHECK_ERROR)
        o->errors++;
    else if (sev == CHECK_WARNING)
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
        printf("%s:%d: %s: %s\n", nvr_escape_text(file, f, sizeof(f)), line,
               sev_name, nvr_escape_text(msg, m, sizeof(m)));
    } else {
        printf("%s: %s: %s\n", nvr_escape_text(file, f, sizeof(f)), sev_name,
               nvr_escape_text(msg, m, sizeof(m)));
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

/* Starts the JSON document the findings go into. */
static void check_begin(struct check_out *o, struct json_out *j,
                        const char *path)
{
    json_init(j, stdout);
    json_obj_begin(j, NULL);
    json_str(j, "config", path);
    json_arr_begin(j, "findings");
    o->json = j;
}

static void check_print_totals(const struct check_out *o, const char *path)
{
    if (o->json) {
        json_arr_end(o->json);
        json_int(o->json, "errors", o->errors);
        json_int(o->json, "warnings", o->warnings);
        json_bool(o->json, "ok", o->errors == 0);
        json_obj_end(o->json);
        json_finish(o->json);
    } else {
        printf("%s: %d error%s, %d warning%s\n", path, o->errors,
               o->errors == 1 ? "" : "s", o->warnings,
               o->warnings == 1 ? "" : "s");
    }
}

/* The config's own problems are findings, so this loads it itself. */
static int check_exec(const struct cli_args *a, const struct nvr_config *none,
                      struct catalog *cat)
{
    const char *path = a->config_path;
    struct nvr_config *cfg = NULL;
    struct json_out j;
    struct check_out o = {0};
    char *err;

    if (!path)
        path = nvr_config_default_path();
    err = calloc(1, CHECK_CONFIG_ERR_MAX);
    if (!err) {
        fprintf(stderr, "nvr check: out of memory\n");
        return NVR_EXIT_FAILURE;
    }
    if (a->json)
        check_begin(&o, &j, path);
    if (nvr_config_load(path, &cfg, err, CHECK_CONFIG_ERR_MAX) < 0) {
        if (!err[0])
            snprintf(err, CHECK_CONFIG_ERR_MAX, "%s: cannot be loaded\n", path);
        emit_config_errors(&o, path, err);
    } else {
        (void)check_config(cfg, NULL, finding_cb, &o);
    }
    check_print_totals(&o, path);
    free(err);
    nvr_config_free(cfg);
    return o.errors > 0 ? NVR_EXIT_USAGE : NVR_EXIT_OK;
}

static const struct cli_option check_options[] = {
    CLI_OPT_CONFIG,
    CLI_OPT_JSON,
    CLI_OPT_HELP,
    CLI_OPT_END,
};

const struct cli_entry cmd_check_entry = {
    .name = "check",
    .summary = "check the config and host: addresses, secrets",
    .usage = "nvr check [-c FILE] [--json]",
    .about = "Checks the config and this host against the air-gap rules:\n"
             "camera hosts are IP addresses or in /etc/hosts (DNS only with\n"
             "[network] allow_dns = true), in private, link-local or "
             "loopback\nranges (unless the camera sets allow_public = true); "
             "password files\nare readable by their owner only; the storage "
             "directory is closed\nto others; the catalog opens. Prints each "
             "finding with its file and\nline; exits 2 if any is an error.",
    .options = check_options,
    .exec = check_exec,
};
