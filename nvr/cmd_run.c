/* SPDX-License-Identifier: MIT */
/*
 * nvr run: the recorder in the foreground. SIGINT/SIGTERM finish the open
 * segments and exit 0.
 */
#include "config.h"
#include "nvr/cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "nvr/base/err.h"
#include "nvr/daemon.h"

static void run_usage(FILE *f)
{
    fprintf(f, "usage: nvr run [-c FILE]\n\n"
               "Records every enabled camera of the config until SIGINT or "
               "SIGTERM,\nwhich finish the open segments and exit 0.\n\n"
               "  -c, --config FILE  the config file\n"
               "  -h, --help         this text\n\n"
               "Log level: NVR_LOG_LEVEL=error|warn|info|debug|trace.\n");
}

int cmd_run_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL;
    struct nvr_config *cfg;
    struct nvr_daemon_options dopts = {.sandbox = 1};
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'h':
            run_usage(stdout);
            return NVR_EXIT_OK;
        default:
            run_usage(stderr);
            return NVR_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        run_usage(stderr);
        return NVR_EXIT_USAGE;
    }
    rc = nvr_cli_load_config(config_path, &cfg);
    if (rc != 0)
        return rc;
    rc = nvr_daemon_run(cfg, &dopts);
    nvr_config_free(cfg);
    if (rc == -EINVAL)
        return NVR_EXIT_USAGE;
    if (rc < 0) {
        fprintf(stderr, "nvr run: %s\n", nvr_strerror(rc));
        return NVR_EXIT_FAILURE;
    }
    return NVR_EXIT_OK;
}
