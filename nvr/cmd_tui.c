/* SPDX-License-Identifier: MIT */
/*
 * nvr tui: the operator's terminal UI over the catalog and segments of the
 * configured storage (ui-tui/tui.h). It needs no running recorder: states
 * come from the status rows the recorder publishes, footage from the files.
 */
#include "config.h"
#include "nvr/cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvr/base/err.h"
#include "storage/catalog.h"
#include "ui-tui/tui.h"

/* --graphics, default auto. */
static int tui_graphics(const struct cli_args *a, enum render_mode *mode)
{
    const char *g = cli_args_get(a, "graphics");

    *mode = RENDER_AUTO;
    return g ? render_mode_parse(g, mode) : 0;
}

static int tui_check(const struct cli_args *a)
{
    enum render_mode mode;

    if (tui_graphics(a, &mode) != 0) {
        fprintf(stderr,
                "nvr tui: --graphics: expected symbols, sixel, "
                "kitty or auto, got '%s'\n",
                cli_args_get(a, "graphics"));
        return NVR_EXIT_USAGE;
    }
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "nvr tui: needs a terminal (stdin and stdout)\n");
        return NVR_EXIT_USAGE;
    }
    return 0;
}

static int tui_exec(const struct cli_args *a, const struct nvr_config *cfg,
                    struct catalog *cat)
{
    struct tui_options topts;
    const char **names;
    int r, rc = NVR_EXIT_OK;

    memset(&topts, 0, sizeof(topts));
    (void)tui_graphics(a, &topts.graphics); /* tui_check() accepted it */
    topts.start_live = cli_args_has(a, "live");
    topts.export_dir = cli_args_get(a, "export-dir");
    names = calloc((size_t)cfg->n_cameras + 1, sizeof(*names));
    if (!names)
        return NVR_EXIT_FAILURE;
    for (int i = 0; i < cfg->n_cameras; i++)
        names[i] = cfg->cameras[i].name;
    topts.storage_dir = cfg->storage_path;
    topts.cameras = names;
    topts.n_cameras = cfg->n_cameras;
    tui_log_capture_begin();
    r = tui_run(&topts);
    tui_log_capture_end();
    if (r == -ENOENT) {
        fprintf(stderr, "nvr tui: no catalog in %s (has the recorder run?)\n",
                cfg->storage_path);
        rc = NVR_EXIT_FAILURE;
    } else if (r == -EACCES) {
        char path[2048];

        nvr_cli_storage_path(cfg, CATALOG_FILE, path, sizeof(path));
        nvr_cli_catalog_refused("tui", path, 0);
        rc = NVR_EXIT_FAILURE;
    } else if (r < 0) {
        fprintf(stderr, "nvr tui: %s\n", nvr_strerror(r));
        rc = NVR_EXIT_FAILURE;
    }
    free(names);
    return rc;
}

static const struct cli_option tui_options[] = {
    CLI_OPT_CONFIG,
    {"graphics", 0, 1, "M",
     "how pictures are drawn: symbols (any terminal),\n"
     "sixel, kitty, or auto (default: detect)"},
    {"live", 0, 0, NULL, "start in live view"},
    {"export-dir", 0, 1, "D",
     "where exports are written (default: current dir)"},
    CLI_OPT_HELP,
    CLI_OPT_END,
};

const struct cli_entry cmd_tui_entry = {
    .name = "tui",
    .summary = "the operator's terminal UI",
    .usage = "nvr tui [-c FILE] [--graphics symbols|sixel|kitty|auto] "
             "[--live]",
    .about = "The operator's terminal UI: cameras and their state, "
             "playback with a\ntimeline, live view, a 2x2 grid, marks, "
             "export and legal holds.\nPress ? inside for every key.",
    .options = tui_options,
    .flags = CLI_CONFIG,
    .check = tui_check,
    .exec = tui_exec,
};
