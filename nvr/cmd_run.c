/* SPDX-License-Identifier: MIT */
/*
 * nvr run: the recorder in the foreground. SIGINT/SIGTERM finish the open
 * segments and exit 0.
 */
#include "config.h"
#include "nvr/cmd.h"

#include <errno.h>
#include <stdio.h>

#include "nvr/base/err.h"
#include "nvr/daemon.h"

static int run_exec(const struct cli_args *a, const struct nvr_config *cfg,
                    struct catalog *cat)
{
    struct nvr_daemon_options dopts = {.sandbox = 1};
    int rc = nvr_daemon_run(cfg, &dopts);

    if (rc == -EINVAL)
        return NVR_EXIT_USAGE;
    if (rc < 0) {
        fprintf(stderr, "nvr run: %s\n", nvr_strerror(rc));
        return NVR_EXIT_FAILURE;
    }
    return NVR_EXIT_OK;
}

static const struct cli_option run_options[] = {
    CLI_OPT_CONFIG,
    CLI_OPT_HELP,
    CLI_OPT_END,
};

const struct cli_entry cmd_run_entry = {
    .name = "run",
    .summary = "record every configured camera (foreground)",
    .usage = "nvr run [-c FILE]",
    .about = "Records every enabled camera of the config until SIGINT or "
             "SIGTERM,\nwhich finish the open segments and exit 0.",
    .footer = "Log level: NVR_LOG_LEVEL=error|warn|info|debug|trace.",
    .options = run_options,
    .flags = CLI_CONFIG,
    .exec = run_exec,
};
