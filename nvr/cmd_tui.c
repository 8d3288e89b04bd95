/* SPDX-License-Identifier: MIT */
/*
 * nvr tui: the operator's terminal UI over the catalog and segments of the
 * configured storage (ui-tui/tui.h). It needs no running recorder: states
 * come from the status rows the recorder publishes, footage from the files.
 */
#include "config.h"
#include "nvr/cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvr/base/err.h"
#include "ui-tui/tui.h"

static void tui_usage(FILE *f)
{
    fprintf(f, "usage: nvr tui [-c FILE] [--graphics symbols|sixel|kitty|auto] "
               "[--live]\n\n"
               "The operator's terminal UI: cameras and their state, "
               "playback with a\ntimeline, live view, a 2x2 grid, marks, "
               "export and legal holds.\nPress ? inside for every key.\n\n"
               "  -c, --config FILE   the config file\n"
               "      --graphics M    how pictures are drawn: symbols (any "
               "terminal),\n"
               "                      sixel, kitty, or auto (default: "
               "detect)\n"
               "      --live          start in live view\n"
               "      --export-dir D  where exports are written (default: "
               "current dir)\n"
               "  -h, --help          this text\n");
}

int cmd_tui_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"graphics", required_argument, NULL, 'g'},
        {"live", no_argument, NULL, 'l'},
        {"export-dir", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct tui_options topts;
    const char *config_path = NULL;
    const char **names = NULL;
    struct nvr_config *cfg = NULL;
    int c, rc, r;

    memset(&topts, 0, sizeof(topts));
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'g':
            if (render_mode_parse(optarg, &topts.graphics) != 0) {
                fprintf(stderr,
                        "nvr tui: --graphics: expected symbols, sixel, "
                        "kitty or auto, got '%s'\n",
                        optarg);
                return NVR_EXIT_USAGE;
            }
            break;
        case 'l':
            topts.start_live = 1;
            break;
        case 'e':
            topts.export_dir = optarg;
            break;
        case 'h':
            tui_usage(stdout);
            return NVR_EXIT_OK;
        default:
            tui_usage(stderr);
            return NVR_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        tui_usage(stderr);
        return NVR_EXIT_USAGE;
    }
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "nvr tui: needs a terminal (stdin and stdout)\n");
        return NVR_EXIT_USAGE;
    }
    rc = nvr_cli_load_config(config_path, &cfg);
    if (rc != 0)
        return rc;
    names = calloc((size_t)cfg->n_cameras + 1, sizeof(*names));
    if (!names) {
        nvr_config_free(cfg);
        return NVR_EXIT_FAILURE;
    }
    for (int i = 0; i < cfg->n_cameras; i++)
        names[i] = cfg->cameras[i].name;
    topts.storage_dir = cfg->storage_path;
    topts.cameras = names;
    topts.n_cameras = cfg->n_cameras;
    tui_log_capture_begin();
    r = tui_run(&topts);
    tui_log_capture_end();
    rc = NVR_EXIT_OK;
    if (r == -ENOENT) {
        fprintf(stderr, "nvr tui: no catalog in %s (has the recorder run?)\n",
                cfg->storage_path);
        rc = NVR_EXIT_FAILURE;
    } else if (r < 0) {
        fprintf(stderr, "nvr tui: %s\n", nvr_strerror(r));
        rc = NVR_EXIT_FAILURE;
    }
    free(names);
    nvr_config_free(cfg);
    return rc;
}
