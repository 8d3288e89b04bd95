/* SPDX-License-Identifier: MIT */
/*
 * The command line: a table of subcommands (git style), global help and
 * version, and the shared start-up of every subcommand (logging, config).
 */
#include "config.h"
#include "nvr/cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/log.h>

#include "nvr/base/compiler.h"
#include "nvr/base/log.h"
#include "nvr/cmd.h"
#include "nvr/base/timefmt.h"
#include "storage/catalog.h"

struct nvr_command {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *summary;
};

static const struct nvr_command commands[] = {
    {"run", cmd_run_main, "record every configured camera (foreground)"},
    {"demo", cmd_demo_main, "record simulated cameras and show them"},
    {"status", cmd_status_main, "each camera's state, last frame, errors"},
    {"probe", cmd_probe_main, "connect to one camera and list its tracks"},
    {"recordings", cmd_recordings_main,
     "a camera's recorded segments and gaps"},
    {"retention", cmd_retention_main,
     "one retention pass: delete what the config says must go"},
    {"hold", cmd_hold_main, "legal holds that retention never deletes"},
    {"verify-storage", cmd_verify_storage_main,
     "rehash segments against the catalog's SHA-256"},
    {"tui", cmd_tui_main, "the operator's terminal UI"},
    {"export", cmd_export_main, "evidential export with hash and manifest"},
    {"verify", cmd_verify_main, "check an exported clip against its sidecars"},
    {"audit", cmd_audit_main, "the tamper-evident audit log (--verify)"},
    {"check", cmd_check_main, "check the config and host: addresses, secrets"},
    {"systemd-unit", cmd_systemd_unit_main,
     "print an nvr.service confined to the cameras"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: nvr <command> [options]\n\n"
               "A local-only network video recorder.\n\ncommands:\n");
    for (size_t i = 0; i < NVR_ARRAY_SIZE(commands); i++)
        fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'nvr <command> --help' describes each command.\n"
               "-c FILE defaults to $NVR_CONFIG, then ./nvr.ini, then "
               "/etc/nvr/nvr.ini.\n");
}

/* FFmpeg's log lines, routed into ours at a matching level. */
NVR_PRINTF(3, 0)
static void av_log_route(void *avcl, int level, const char *fmt, va_list vl)
{
    enum nvr_log_level lvl;
    char line[512];
    size_t n;

    if (level > av_log_get_level())
        return;
    if (level <= AV_LOG_ERROR)
        lvl = NVR_LOG_ERROR;
    else if (level <= AV_LOG_WARNING)
        lvl = NVR_LOG_WARN;
    else if (level <= AV_LOG_INFO)
        lvl = NVR_LOG_INFO;
    else
        lvl = NVR_LOG_DEBUG;
    if (lvl > nvr_log_level_current)
        return;
    vsnprintf(line, sizeof(line), fmt, vl);
    n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (n > 0)
        nvr_log(lvl, "ffmpeg", "%s", line);
}

void nvr_cli_init_logging(void)
{
    const char *lvl = getenv("NVR_LOG_LEVEL");
    enum nvr_log_level level;

    if (lvl && nvr_log_level_parse(lvl, &level) == 0)
        nvr_log_set_level(level);
    av_log_set_level(AV_LOG_WARNING);
    av_log_set_callback(av_log_route);
    catalog_route_log();
}

int nvr_cli_load_config(const char *path, struct nvr_config **out)
{
    char err[8192];
    int rc;

    if (!path)
        path = nvr_config_default_path();
    rc = nvr_config_load(path, out, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "nvr: config %s is not valid:\n%s", path, err);
        if (err[0] && err[strlen(err) - 1] != '\n')
            fputc('\n', stderr);
        return NVR_EXIT_USAGE;
    }
    return 0;
}

int nvr_cli_time_arg(const char *cmd, const char *opt, const char *s,
                     int64_t *us)
{
    if (nvr_time_parse(s, us) == 0)
        return 0;
    fprintf(stderr, "nvr %s: %s: not an ISO 8601 time: '%s'\n", cmd, opt, s);
    return -EINVAL;
}

void nvr_cli_storage_path(const struct nvr_config *cfg, const char *rel,
                          char *out, size_t out_size)
{
    snprintf(out, out_size, "%s/%s", cfg->storage_path, rel);
}

int nvr_cli_main(int argc, char **argv)
{
    const char *name;

    /* A camera closing its socket must not kill the recorder. */
    signal(SIGPIPE, SIG_IGN);
    nvr_cli_init_logging();
    if (argc < 2) {
        usage(stderr);
        return NVR_EXIT_USAGE;
    }
    name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
        strcmp(name, "help") == 0) {
        usage(stdout);
        return NVR_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("nvr %s\n", NVR_VERSION);
        return NVR_EXIT_OK;
    }
    for (size_t i = 0; i < NVR_ARRAY_SIZE(commands); i++) {
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].main(argc - 1, argv + 1);
    }
    fprintf(stderr, "nvr: unknown command '%s'\n\n", name);
    usage(stderr);
    return NVR_EXIT_USAGE;
}
