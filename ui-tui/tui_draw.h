/* SPDX-License-Identifier: MIT */
/*
 * Drawing of the terminal UI: reads the model (tui_model.h) and never
 * changes it. What drawing itself must remember (the layout, the picture
 * renderer, which of the model's changes it has drawn) is in the view.
 *
 * UI thread only, between initscr() and endwin().
 */
#ifndef NVR_UI_TUI_TUI_DRAW_H
#define NVR_UI_TUI_TUI_DRAW_H

#include "nvr/base/compiler.h"
#include "ui-tui/render.h"
#include "ui-tui/tui_model.h"

#define TUI_MIN_COLS 80
#define TUI_MIN_ROWS 24

/* Where things are on screen, computed from LINES and COLS. */
struct tui_layout {
    int rows, cols;
    int too_small;
    int list_w; /* camera list width */
    int video_y, video_x, video_h, video_w;
    int tl_y; /* header, scale, bar, cursor rows */
    int status_y, keys_y;
};

struct tui_view {
    struct render *render; /* owned */
    int utf8;              /* the locale shows Unicode */
    int colors_ready;
    struct tui_layout lay;
    int video_ok; /* the video pane on screen is up to date */
    /* The model's video_gen, screen_gen and mode last drawn. */
    unsigned video_gen, screen_gen;
    enum tui_mode mode;
};

/* Sets up the view and its renderer (graphics: RENDER_AUTO detects).
 * Call after initscr(). Returns 0 or render_new()'s error; call
 * tui_draw_fini() in both cases. */
NVR_NODISCARD int tui_draw_init(struct tui_view *v, enum render_mode graphics,
                                int utf8);
void tui_draw_fini(struct tui_view *v);

/* The whole screen is drawn again next time (resize, lost contents). */
void tui_draw_invalidate(struct tui_view *v);

/* Draws the model and refreshes the terminal. */
void tui_draw(struct tui_view *v, const struct tui_model *m);

#endif
