/* SPDX-License-Identifier: MIT */
/*
 * Pictures in the terminal with chafa: symbols and colour in any terminal
 * (drawn into ncurses cells, so ncurses' diffing avoids flicker), or sixel
 * and kitty graphics written straight to the terminal after ncurses has
 * updated the screen. UI thread only.
 */
#ifndef NVR_UI_TUI_RENDER_H
#define NVR_UI_TUI_RENDER_H

#include <stdint.h>

#include "nvr/base/compiler.h"

enum render_mode {
    RENDER_AUTO = 0,
    RENDER_SYMBOLS = 1,
    RENDER_SIXEL = 2,
    RENDER_KITTY = 3,
};

struct render;

/* "symbols", "sixel", "kitty", "auto": 0 with *mode set, or -EINVAL. */
int render_mode_parse(const char *s, enum render_mode *mode);
const char *render_mode_name(enum render_mode mode);

/* What the terminal supports, from the environment (TERM, KITTY_WINDOW_ID,
 * ...) through chafa's terminal database. */
enum render_mode render_detect(void);

/*
 * A renderer in mode (RENDER_AUTO: render_detect()). utf8: the locale can
 * show Unicode block symbols (else ASCII). Call after initscr(): the colour
 * depth is taken from ncurses. Returns 0 or -ENOMEM; *out is owned.
 */
NVR_NODISCARD int render_new(enum render_mode mode, int utf8,
                             struct render **out);
void render_free(struct render *r);
enum render_mode render_get_mode(const struct render *r);

/*
 * Draws the RGBA picture (w x h, stride bytes per row; borrowed) into the
 * cells [y, y + rows) x [x, x + cols) of the screen. In symbols mode it goes
 * into the window `win` (a WINDOW *, relative coordinates given by wy/wx);
 * in pixel modes the escape sequence is kept for render_flush(). Returns 0,
 * -EINVAL or -ENOMEM.
 */
NVR_NODISCARD int render_draw(struct render *r, void *win, int wy, int wx,
                              int screen_y, int screen_x, int rows, int cols,
                              const uint8_t *rgba, int w, int h, int stride);

/* Pixel modes: writes the pictures drawn since the last flush to the
 * terminal (call right after doupdate()). Symbols mode: nothing. */
void render_flush(struct render *r);

/* Pixel modes: forgets pictures on screen (after a clear or a resize). */
void render_forget(struct render *r);

/* The cell grid that fits a w x h picture into rows x cols cells, keeping
 * its aspect ratio (a cell is about twice as high as it is wide). */
void render_fit(int w, int h, int rows, int cols, int *out_rows, int *out_cols);

#endif
