/* SPDX-License-Identifier: MIT */
/*
 * The operator's terminal UI (ncurses): the camera list with each camera's
 * state, a video pane, the timeline of the selected camera and day, a
 * status line and a key line; playback, live view, a 2x2 grid, marks,
 * export and legal holds. It reads the catalog and the segment files only
 * (the recorder publishes camera states through the catalog), and writes
 * to the catalog only through holds, export and the audit log.
 *
 * Runs on the calling thread (the main thread: it owns the terminal and
 * SIGINT/SIGTERM/SIGHUP/SIGWINCH while running).
 */
#ifndef NVR_UI_TUI_TUI_H
#define NVR_UI_TUI_TUI_H

#include <stdint.h>

#include "nvr/base/compiler.h"
#include "ui-tui/render.h"

struct tui_options {
    const char *storage_dir;    /* borrowed; holds catalog.db */
    const char *const *cameras; /* configured camera names, borrowed */
    int n_cameras;              /* 0: every camera in the catalog */
    enum render_mode graphics;  /* RENDER_AUTO: detect */
    int start_live;             /* open in live view */
    const char *export_dir;     /* where exports go; NULL: current dir */
    volatile int *stop;         /* may be NULL; nonzero ends the UI */
};

/*
 * Runs the UI until the operator quits (q), Ctrl-C, SIGTERM or *stop.
 * Returns 0, -ENOTTY (stdin/stdout not a terminal), -ENOENT (no catalog
 * yet and none appeared), or another negative errno. The terminal is
 * restored in every case, and on a crash signal before the process dies.
 */
NVR_NODISCARD int tui_run(const struct tui_options *opts);

/*
 * Captures log lines for the UI's log line instead of stderr, which the
 * UI owns. Call before starting any thread that logs; tui_log_capture_end()
 * restores stderr and prints the errors and warnings captured.
 */
void tui_log_capture_begin(void);
void tui_log_capture_end(void);

#endif
