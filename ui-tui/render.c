/* SPDX-License-Identifier: MIT */
/*
 * Pictures in the terminal with chafa (see render.h). In symbols mode each
 * cell's symbol and its two palette colours go into ncurses as a wide
 * character with a colour pair from alloc_pair(), which recycles the least
 * recently used pair when the terminal's pairs run out.
 */
#include "config.h"
#include "ui-tui/render.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chafa.h>
#include <curses.h>

extern char **environ;

/* Pending pixel-mode pictures per flush (the 2x2 grid needs four). */
#define RENDER_MAX_PENDING 4
/* A cell in pixels when the terminal does not say. */
#define RENDER_CELL_W 10
#define RENDER_CELL_H 20

struct render_pending {
    int y, x;
    GString *seq;
};

struct render {
    enum render_mode mode;
    int utf8;
    ChafaTermInfo *ti;
    ChafaSymbolMap *symbols;
    ChafaCanvasMode canvas_mode;
    struct render_pending pending[RENDER_MAX_PENDING];
    int n_pending;
    int kitty_shown; /* kitty images on screen that must be deleted */
};

int render_mode_parse(const char *s, enum render_mode *mode)
{
    static const char *const names[] = {"auto", "symbols", "sixel", "kitty"};

    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *mode = (enum render_mode)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *render_mode_name(enum render_mode mode)
{
    switch (mode) {
    case RENDER_SYMBOLS:
        return "symbols";
    case RENDER_SIXEL:
        return "sixel";
    case RENDER_KITTY:
        return "kitty";
    default:
        return "auto";
    }
}

static ChafaTermInfo *detect_term(void)
{
    return chafa_term_db_detect(chafa_term_db_get_default(), environ);
}

enum render_mode render_detect(void)
{
    ChafaTermInfo *ti;
    enum render_mode m = RENDER_SYMBOLS;
    const char *tmux = getenv("TMUX");

    /* Inside tmux or screen, graphics do not reach the outer terminal
     * reliably: symbols always work. */
    if ((tmux && tmux[0]) || getenv("STY"))
        return RENDER_SYMBOLS;
    ti = detect_term();
    if (!ti)
        return RENDER_SYMBOLS;
    if (chafa_term_info_have_seq(ti,
                                 CHAFA_TERM_SEQ_BEGIN_KITTY_IMMEDIATE_IMAGE_V1))
        m = RENDER_KITTY;
    else if (chafa_term_info_have_seq(ti, CHAFA_TERM_SEQ_BEGIN_SIXELS))
        m = RENDER_SIXEL;
    chafa_term_info_unref(ti);
    return m;
}

int render_new(enum render_mode mode, int utf8, struct render **out)
{
    struct render *r = calloc(1, sizeof(*r));

    if (!r)
        return -ENOMEM;
    r->mode = mode == RENDER_AUTO ? render_detect() : mode;
    r->utf8 = utf8;
    r->symbols = chafa_symbol_map_new();
    r->ti = detect_term();
    if (!r->symbols || !r->ti) {
        render_free(r);
        return -ENOMEM;
    }
    if (utf8)
        chafa_symbol_map_add_by_tags(r->symbols, CHAFA_SYMBOL_TAG_BLOCK |
                                                     CHAFA_SYMBOL_TAG_SPACE);
    else
        chafa_symbol_map_add_by_tags(r->symbols, CHAFA_SYMBOL_TAG_ASCII |
                                                     CHAFA_SYMBOL_TAG_SPACE);
    if (has_colors() && COLORS >= 256)
        r->canvas_mode = CHAFA_CANVAS_MODE_INDEXED_240;
    else if (has_colors() && COLORS >= 16)
        r->canvas_mode = CHAFA_CANVAS_MODE_INDEXED_16;
    else if (has_colors() && COLORS >= 8)
        r->canvas_mode = CHAFA_CANVAS_MODE_INDEXED_8;
    else
        r->canvas_mode = CHAFA_CANVAS_MODE_FGBG;
    *out = r;
    return 0;
}

void render_forget(struct render *r)
{
    for (int i = 0; i < r->n_pending; i++)
        g_string_free(r->pending[i].seq, TRUE);
    r->n_pending = 0;
}

void render_free(struct render *r)
{
    if (!r)
        return;
    render_forget(r);
    if (r->symbols)
        chafa_symbol_map_unref(r->symbols);
    if (r->ti)
        chafa_term_info_unref(r->ti);
    free(r);
}

enum render_mode render_get_mode(const struct render *r)
{
    return r->mode;
}

void render_fit(int w, int h, int rows, int cols, int *out_rows, int *out_cols)
{
    int c, rr;

    *out_rows = *out_cols = 0;
    if (w <= 0 || h <= 0 || rows <= 0 || cols <= 0)
        return;
    /* cols / (rows * 2) = w / h */
    c = (int)((int64_t)rows * 2 * w / h);
    if (c <= cols) {
        *out_rows = rows;
        *out_cols = c > 0 ? c : 1;
        return;
    }
    rr = (int)((int64_t)cols * h / (2 * (int64_t)w));
    *out_rows = rr > 0 ? rr : 1;
    *out_cols = cols;
}

static void cell_pixels(int *cw, int *ch)
{
    struct winsize ws;

    *cw = RENDER_CELL_W;
    *ch = RENDER_CELL_H;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 &&
        ws.ws_row > 0 && ws.ws_xpixel > 0 && ws.ws_ypixel > 0) {
        *cw = ws.ws_xpixel / ws.ws_col;
        *ch = ws.ws_ypixel / ws.ws_row;
    }
}

static ChafaCanvas *make_canvas(struct render *r, int rows, int cols)
{
    ChafaCanvasConfig *cfg = chafa_canvas_config_new();
    ChafaCanvas *c;

    if (!cfg)
        return NULL;
    chafa_canvas_config_set_geometry(cfg, cols, rows);
    if (r->mode == RENDER_SYMBOLS) {
        chafa_canvas_config_set_canvas_mode(cfg, r->canvas_mode);
        chafa_canvas_config_set_symbol_map(cfg, r->symbols);
        /* Video changes every frame: a cheaper search is the right
         * trade. */
        chafa_canvas_config_set_work_factor(cfg, 0.2f);
    } else {
        int cw, ch;

        cell_pixels(&cw, &ch);
        chafa_canvas_config_set_cell_geometry(cfg, cw, ch);
        chafa_canvas_config_set_canvas_mode(cfg, CHAFA_CANVAS_MODE_TRUECOLOR);
        chafa_canvas_config_set_pixel_mode(cfg, r->mode == RENDER_SIXEL
                                                    ? CHAFA_PIXEL_MODE_SIXELS
                                                    : CHAFA_PIXEL_MODE_KITTY);
    }
    c = chafa_canvas_new(cfg);
    chafa_canvas_config_unref(cfg);
    return c;
}

static void draw_cells(struct render *r, ChafaCanvas *c, WINDOW *win, int wy,
                       int wx, int rows, int cols)
{
    for (int y = 0; y < rows; y++) {
        for (int x = 0; x < cols; x++) {
            wchar_t wc[2] = {(wchar_t)chafa_canvas_get_char_at(c, x, y), 0};
            int fg = -1, bg = -1, pair = 0;
            cchar_t cc;

            if (r->canvas_mode != CHAFA_CANVAS_MODE_FGBG) {
                chafa_canvas_get_raw_colors_at(c, x, y, &fg, &bg);
                pair = alloc_pair(fg < 0 ? -1 : fg, bg < 0 ? -1 : bg);
                if (pair < 0)
                    pair = 0;
            }
            if (setcchar(&cc, wc, A_NORMAL, 0, &pair) == OK)
                mvwadd_wch(win, wy + y, wx + x, &cc);
        }
    }
}

int render_draw(struct render *r, void *win, int wy, int wx, int screen_y,
                int screen_x, int rows, int cols, const uint8_t *rgba, int w,
                int h, int stride)
{
    ChafaCanvas *c;

    if (rows <= 0 || cols <= 0 || w <= 0 || h <= 0 || !rgba)
        return -EINVAL;
    c = make_canvas(r, rows, cols);
    if (!c)
        return -ENOMEM;
    chafa_canvas_draw_all_pixels(c, CHAFA_PIXEL_RGBA8_UNASSOCIATED, rgba, w, h,
                                 stride);
    if (r->mode == RENDER_SYMBOLS) {
        draw_cells(r, c, win, wy, wx, rows, cols);
    } else if (r->n_pending < RENDER_MAX_PENDING) {
        struct render_pending *p = &r->pending[r->n_pending++];

        p->y = screen_y;
        p->x = screen_x;
        p->seq = chafa_canvas_print(c, r->ti);
        /* The cells under the picture stay blank for ncurses. */
        for (int y = 0; y < rows; y++)
            mvwhline((WINDOW *)win, wy + y, wx, ' ', cols);
    }
    chafa_canvas_unref(c);
    return 0;
}

void render_flush(struct render *r)
{
    if (r->n_pending == 0)
        return;
    if (r->mode == RENDER_KITTY && r->kitty_shown)
        fputs("\033_Ga=d\033\\", stdout);
    for (int i = 0; i < r->n_pending; i++) {
        printf("\0337\033[%d;%dH", r->pending[i].y + 1, r->pending[i].x + 1);
        fwrite(r->pending[i].seq->str, 1, r->pending[i].seq->len, stdout);
        fputs("\0338", stdout);
    }
    r->kitty_shown = r->mode == RENDER_KITTY;
    fflush(stdout);
    render_forget(r);
}
