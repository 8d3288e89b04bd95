/* SPDX-License-Identifier: MIT */
/*
 * An export of the marked range on a worker thread, so the UI keeps
 * drawing and reading keys while it runs: the worker opens its own
 * read-write catalog connection (no connection is shared between
 * threads), picks the clip's name, runs export_run() and reports its
 * progress through atomics the UI thread reads. A cancelled export
 * leaves no clip behind (export_run() removes what it wrote).
 *
 * Start, cancel and finish from the UI thread; the progress readers may
 * be called from any thread.
 */
#ifndef NVR_UI_TUI_TUI_EXPORT_H
#define NVR_UI_TUI_TUI_EXPORT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "nvr/base/compiler.h"
#include "storage/export.h"

struct tui_export;

/* What to export; every string is borrowed for the call only (copied). */
struct tui_export_spec {
    const char *catalog_path;
    const char *storage_dir;
    const char *camera;
    const char *export_dir; /* NULL: the current directory */
    const char *reason;
    int64_t from_us, to_us; /* UTC us */
};

/* What came of it, once finished. */
struct tui_export_outcome {
    int err;             /* 0, -ECANCELED, or export_run()'s error */
    char path[PATH_MAX]; /* the clip (when err is 0) */
    struct export_result res;
};

/*
 * Starts the worker. Returns 0 with *out set (owned: end it with
 * tui_export_finish()), -EINVAL (a string too long), -ENOMEM or
 * pthread_create()'s error.
 */
NVR_NODISCARD int tui_export_start(const struct tui_export_spec *spec,
                                   struct tui_export **out);

/* Percent of the source bytes done, 0 until the total is known. */
int tui_export_percent(const struct tui_export *e);

/* 1 once the worker is done (finish then does not wait). */
int tui_export_done(const struct tui_export *e);

/* Asks the worker to stop at its next progress report. */
void tui_export_cancel(struct tui_export *e);
int tui_export_cancelling(const struct tui_export *e);

/* Waits for the worker, fills out (may be NULL) and frees e. NULL: does
 * nothing. */
void tui_export_finish(struct tui_export *e, struct tui_export_outcome *out);

#endif
