/* SPDX-License-Identifier: MIT */
/*
 * Drawing of the terminal UI: title, camera list, video pane (one tile or
 * the 2x2 grid), timeline with its scale, cursor and marks, status line,
 * key line, and the help screen. Everything is drawn into stdscr and
 * ncurses sends only the cells that changed; the video pane is drawn again
 * only when a tile shows a new frame or the layout changed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "nvr/base/clock.h"
#include "nvr/base/timefmt.h"
#include "ui-tui/tui_int.h"

#define TUI_TL_MAX_COLS 1024

enum tui_colors {
    TUI_C_OK = 1,
    TUI_C_WARN,
    TUI_C_BAD,
    TUI_C_HELD,
    TUI_C_MARK,
};

static int colors_ready;

static void colors_init(void)
{
    if (colors_ready || !has_colors())
        return;
    init_pair(TUI_C_OK, COLOR_GREEN, -1);
    init_pair(TUI_C_WARN, COLOR_YELLOW, -1);
    init_pair(TUI_C_BAD, COLOR_RED, -1);
    init_pair(TUI_C_HELD, COLOR_YELLOW, -1);
    init_pair(TUI_C_MARK, COLOR_CYAN, -1);
    colors_ready = 1;
}

void tui__layout(struct tui *t)
{
    struct tui_layout *l = &t->lay;
    int rows = LINES, cols = COLS;

    if (l->rows != rows || l->cols != cols)
        t->video_dirty = 1;
    l->rows = rows;
    l->cols = cols;
    l->too_small = rows < TUI_MIN_ROWS || cols < TUI_MIN_COLS;
    l->list_w = cols >= 140 ? 34 : 26;
    l->video_y = 1;
    l->video_x = l->list_w + 1;
    l->video_h = rows - 7;
    l->video_w = cols - l->list_w - 1;
    l->tl_y = rows - 6;
    l->status_y = rows - 2;
    l->keys_y = rows - 1;
}

/* Writes s at (y, x), cut to n columns, and pads with spaces to n. */
static void put(int y, int x, int n, const char *s)
{
    if (n <= 0)
        return;
    mvhline(y, x, ' ', n);
    mvaddnstr(y, x, s, n);
}

static const char *state_short(const char *st)
{
    if (strcmp(st, "recording") == 0)
        return "REC";
    if (strcmp(st, "connecting") == 0)
        return "conn";
    if (strcmp(st, "backoff") == 0)
        return "retry";
    if (strcmp(st, "auth_failed") == 0)
        return "AUTH!";
    if (strcmp(st, "error") == 0)
        return "error";
    if (strcmp(st, "stopped") == 0)
        return "off";
    if (strcmp(st, "disabled") == 0)
        return "disab";
    return "-";
}

static int state_color(const char *st)
{
    if (strcmp(st, "recording") == 0)
        return TUI_C_OK;
    if (strcmp(st, "connecting") == 0 || strcmp(st, "backoff") == 0)
        return TUI_C_WARN;
    if (strcmp(st, "auth_failed") == 0 || strcmp(st, "error") == 0 ||
        strcmp(st, "stopped") == 0)
        return TUI_C_BAD;
    return 0;
}

static void fmt_age(int64_t us, char *out, size_t size)
{
    int64_t s = us / 1000000;

    if (us <= 0)
        snprintf(out, size, "0s");
    else if (s < 100)
        snprintf(out, size, "%llds", (long long)s);
    else if (s < 6000)
        snprintf(out, size, "%lldm", (long long)(s / 60));
    else if (s < 360000)
        snprintf(out, size, "%lldh", (long long)(s / 3600));
    else
        snprintf(out, size, "%lldd", (long long)(s / 86400));
}

static void draw_title(struct tui *t, int64_t now)
{
    char buf[512], clock[64];
    int n;

    nvr_time_format_local_strf(now, "%a %d %b %H:%M:%S %Z", clock,
                               sizeof(clock));
    snprintf(buf, sizeof(buf), " nvr tui  %s", t->opts->storage_dir);
    attron(A_BOLD);
    put(0, 0, t->lay.cols, buf);
    n = (int)strlen(clock);
    if (n + 2 < t->lay.cols)
        mvaddstr(0, t->lay.cols - n - 1, clock);
    attroff(A_BOLD);
}

static void draw_details(struct tui *t, int y, int y_end, int64_t now)
{
    const struct tui_cam *c = &t->cams[t->sel];
    const char *st = tui__cam_state(t, c, now);
    int w = t->lay.list_w;
    char buf[512], tm[64], age[16];

    if (y >= y_end)
        return;
    attron(A_BOLD);
    put(y++, 0, w, c->name);
    attroff(A_BOLD);
    if (y >= y_end)
        return;
    if (strcmp(st, "recording") == 0)
        snprintf(buf, sizeof(buf), "recording %.2f Mbit/s",
                 (double)c->st.bitrate_bps / 1e6);
    else if (strcmp(st, "backoff") == 0 || strcmp(st, "connecting") == 0)
        snprintf(buf, sizeof(buf), "reconnecting (%s)", st);
    else if (strcmp(st, "auth_failed") == 0)
        snprintf(buf, sizeof(buf), "auth failed: check password");
    else if (c->has_st && c->st.last_frame_us > 0)
        snprintf(buf, sizeof(buf), "offline since %s",
                 nvr_time_format_local_strf(
                     c->st.last_frame_us,
                     nvr_time_local_day_start(c->st.last_frame_us) ==
                             nvr_time_local_day_start(now)
                         ? "%H:%M:%S"
                         : "%d %b %H:%M",
                     tm, sizeof(tm)));
    else
        snprintf(buf, sizeof(buf), "%s",
                 strcmp(st, "stopped") == 0 ? "recorder not running" : st);
    put(y++, 0, w, buf);
    if (y < y_end && c->has_st && c->st.last_frame_us > 0) {
        fmt_age(now - c->st.last_frame_us, age, sizeof(age));
        snprintf(buf, sizeof(buf), "last frame %s ago", age);
        put(y++, 0, w, buf);
    }
    if (y < y_end && strcmp(st, "stopped") == 0 && c->has_st)
        put(y++, 0, w, "(recorder not running)");
    for (int off = 0; y < y_end && c->has_st && c->st.error[0] &&
                      off < (int)strlen(c->st.error) && off < 3 * w;
         off += w)
        put(y++, 0, w, c->st.error + off);
    tui__log_last(buf, sizeof(buf));
    if (y + 1 < y_end && buf[0]) {
        attron(A_DIM);
        put(y++, 0, w, "log:");
        for (int off = 0; y < y_end && off < (int)strlen(buf) && off < 2 * w;
             off += w)
            put(y++, 0, w, buf + off);
        attroff(A_DIM);
    }
    while (y < y_end)
        put(y++, 0, w, "");
}

static void draw_cameras(struct tui *t, int64_t now)
{
    int w = t->lay.list_w, y = 1, y_end = t->lay.video_y + t->lay.video_h;
    int name_w = w - 17;
    char buf[256];

    attron(A_BOLD | A_UNDERLINE);
    snprintf(buf, sizeof(buf), "%-*s %-5s %5s %4s", name_w, "CAMERA", "STATE",
             "KB/s", "AGE");
    put(y++, 0, w, buf);
    attroff(A_BOLD | A_UNDERLINE);
    for (int i = 0; i < t->n_cams && y < y_end - 1; i++, y++) {
        const struct tui_cam *c = &t->cams[i];
        const char *st = tui__cam_state(t, c, now);
        char age[16] = "-", kb[24] = "-";
        int in_grid = 0;

        for (int k = 0; k < t->n_tiles; k++)
            in_grid |= t->grid && t->tiles[k].cam == i;
        if (c->has_st && c->st.last_frame_us > 0)
            fmt_age(now - c->st.last_frame_us, age, sizeof(age));
        if (c->has_st && strcmp(st, "recording") == 0)
            snprintf(kb, sizeof(kb), "%lld",
                     (long long)(c->st.bitrate_bps / 8000));
        snprintf(buf, sizeof(buf), "%c%-*.*s ", in_grid ? '+' : ' ', name_w - 1,
                 name_w - 1, c->name);
        if (i == t->sel)
            attron(A_REVERSE);
        put(y, 0, w, buf);
        if (state_color(st))
            attron(COLOR_PAIR(state_color(st)) | A_BOLD);
        mvprintw(y, name_w + 1, "%-5s", state_short(st));
        if (state_color(st))
            attroff(COLOR_PAIR(state_color(st)) | A_BOLD);
        mvprintw(y, name_w + 7, "%5.5s %4.4s", kb, age);
        if (i == t->sel)
            attroff(A_REVERSE);
    }
    if (t->n_cams == 0)
        put(y++, 0, w, "no cameras yet");
    put(y++, 0, w, "");
    if (t->n_cams > 0)
        draw_details(t, y, y_end, now);
    else
        while (y < y_end)
            put(y++, 0, w, "");
    /* Box characters as text: ACS line drawing does not survive every
     * terminal multiplexer and screen capture. */
    for (int i = 0; i < t->lay.video_h; i++)
        mvaddstr(t->lay.video_y + i, w, t->utf8 ? "\u2502" : "|");
}

static void center(int y, int x, int w, const char *s)
{
    int n = (int)strlen(s);

    mvaddnstr(y, x + (w > n ? (w - n) / 2 : 0), s, w);
}

static void draw_tile(struct tui *t, struct tui_tile *tile, int y, int x, int h,
                      int w)
{
    const struct tui_cam *c = &t->cams[tile->cam];
    int64_t ft = tile->pb ? playback_frame_time(tile->pb) : 0;
    char label[160], tm[64];
    int fw = 0, fh = 0, rr, cc;
    const uint8_t *px;
    int stride;

    for (int i = 0; i < h; i++)
        mvhline(y + i, x, ' ', w);
    if (ft > 0)
        nvr_time_format_local_strf(ft, "%H:%M:%S", tm, sizeof(tm));
    else
        snprintf(tm, sizeof(tm), "--:--:--");
    snprintf(label, sizeof(label), " %s  %s%s", c->name, tm,
             t->live ? "  LIVE" : "");
    attron(A_BOLD);
    mvaddnstr(y, x, label, w);
    attroff(A_BOLD);
    tile->shown_us = ft;
    if (h < 3 || w < 4)
        return;
    if (ft == 0 || (!t->live && tile->no_footage)) {
        center(y + h / 2, x, w,
               t->live ? "waiting for video" : "no recording at this time");
        return;
    }
    if (!t->live && t->grid == 0 && t->spans_cam == tile->cam &&
        tl_spans_find(&t->rec, t->cursor_us) < 0 &&
        !(t->cursor_us >= ft && t->cursor_us - ft < 2000000)) {
        center(y + h / 2, x, w, "no recording at this time");
        return;
    }
    playback_frame_size(tile->pb, &fw, &fh);
    render_fit(fw, fh, h - 1, w, &rr, &cc);
    if (rr <= 0 || cc <= 0)
        return;
    if (playback_frame_rgba(tile->pb, cc * 8, rr * 8, &px, &stride) != 0)
        return;
    {
        int oy = y + 1 + (h - 1 - rr) / 2, ox = x + (w - cc) / 2;

        if (render_draw(t->render, stdscr, oy, ox, oy, ox, rr, cc, px, cc * 8,
                        rr * 8, stride) < 0)
            center(y + h / 2, x, w, "cannot draw the picture");
    }
}

void tui__draw_video(struct tui *t)
{
    const struct tui_layout *l = &t->lay;

    if (t->n_tiles == 0) {
        for (int i = 0; i < l->video_h; i++)
            mvhline(l->video_y + i, l->video_x, ' ', l->video_w);
        center(l->video_y + l->video_h / 2, l->video_x, l->video_w,
               "no camera");
        return;
    }
    if (!t->grid) {
        draw_tile(t, &t->tiles[0], l->video_y, l->video_x, l->video_h,
                  l->video_w);
        return;
    }
    for (int i = 0; i < TUI_MAX_TILES; i++) {
        int hh = l->video_h / 2, ww = l->video_w / 2;
        int y = l->video_y + (i / 2) * hh, x = l->video_x + (i % 2) * ww;

        if (i / 2 == 1)
            hh = l->video_h - hh;
        if (i % 2 == 1)
            ww = l->video_w - ww;
        if (i < t->n_tiles)
            draw_tile(t, &t->tiles[i], y, x, hh, ww - (i % 2 == 0));
        else
            for (int k = 0; k < hh; k++)
                mvhline(y + k, x, ' ', ww);
    }
}

/* Tick spacing: the smallest step that leaves room for each label. */
static int64_t tick_step(int64_t range, int width, int label_w)
{
    static const int64_t steps_s[] = {1,    2,    5,     10,    15,    30,
                                      60,   120,  300,   600,   900,   1800,
                                      3600, 7200, 10800, 21600, 43200, 86400};

    for (size_t i = 0; i < sizeof(steps_s) / sizeof(steps_s[0]); i++) {
        int64_t step = steps_s[i] * 1000000;

        if ((int64_t)width * step / range >= label_w + 2)
            return step;
    }
    return 86400 * 1000000LL;
}

static int col_of(int64_t t_us, int64_t from, int64_t to, int width)
{
    if (t_us < from || t_us >= to)
        return -1;
    return (int)((t_us - from) * width / (to - from));
}

static void draw_timeline(struct tui *t, int64_t now)
{
    const struct tui_layout *l = &t->lay;
    int width = l->cols - 2, y = l->tl_y, label_w;
    int64_t from, to, step, ds;
    uint8_t cells[TUI_TL_MAX_COLS];
    char buf[512], a[32], b[32], day[48];
    const char *name = t->n_cams ? t->cams[t->sel].name : "-";

    if (width > TUI_TL_MAX_COLS)
        width = TUI_TL_MAX_COLS;
    tui__window(t, &from, &to);
    nvr_time_format_local_strf(t->cursor_us, "%a %d %b %Y", day, sizeof(day));
    nvr_time_format_local_strf(from, "%H:%M:%S", a, sizeof(a));
    nvr_time_format_local_strf(to - 1, "%H:%M:%S", b, sizeof(b));
    snprintf(buf, sizeof(buf), " %s  %s  %s-%s  %s=rec %s=part %s=gap %s=held",
             name, day, a, b, t->utf8 ? "\u2588" : "#",
             t->utf8 ? "\u2592" : "+", t->utf8 ? "\u00b7" : ".",
             t->utf8 ? "\u2593" : "H");
    for (int c = 0; c < l->cols; c++)
        mvaddstr(y, c, t->utf8 ? "\u2500" : "-");
    mvaddnstr(y, 0, buf, l->cols);

    /* Scale: labels at round local times. */
    mvhline(y + 1, 0, ' ', l->cols);
    label_w = to - from <= 600000000LL ? 8 : 5;
    step = tick_step(to - from, width, label_w);
    ds = nvr_time_local_day_start(from);
    for (int64_t k = ds + (from - ds + step - 1) / step * step; k < to;
         k += step) {
        int c = col_of(k, from, to, width);

        if (c < 0 || c + label_w > width)
            continue;
        nvr_time_format_local_strf(k, label_w == 8 ? "%H:%M:%S" : "%H:%M", a,
                                   sizeof(a));
        mvaddch(y + 1, 1 + c, '|');
        mvaddnstr(y + 1, 2 + c, a, label_w);
    }

    /* The bar. */
    timeline_cells(&t->rec, &t->held, from, to, now, cells, width);
    mvhline(y + 2, 0, ' ', l->cols);
    for (int c = 0; c < width; c++) {
        int held = cells[c] & TL_HELD;
        const char *s;

        switch (cells[c] & 0x0f) {
        case TL_FULL:
            s = held ? (t->utf8 ? "\u2593" : "H") : (t->utf8 ? "\u2588" : "#");
            break;
        case TL_PART:
            s = t->utf8 ? "\u2592" : "+";
            break;
        case TL_NONE:
            s = held ? "h" : (t->utf8 ? "\u00b7" : ".");
            break;
        default:
            s = " ";
            break;
        }
        if (held)
            attron(COLOR_PAIR(TUI_C_HELD));
        mvaddstr(y + 2, 1 + c, s);
        if (held)
            attroff(COLOR_PAIR(TUI_C_HELD));
    }

    /* Cursor and marks. */
    mvhline(y + 3, 0, ' ', l->cols);
    {
        int ci = col_of(t->mark_in, from, to, width);
        int co = col_of(t->mark_out, from, to, width);
        int cc = col_of(t->cursor_us, from, to, width);

        attron(COLOR_PAIR(TUI_C_MARK));
        if (t->mark_in && t->mark_out && t->mark_out > t->mark_in) {
            int c0 = t->mark_in < from ? 0 : ci, c1 = co < 0 ? width : co;

            for (int c = c0; c >= 0 && c < c1; c++)
                mvaddch(y + 3, 1 + c, '-');
        }
        if (ci >= 0)
            mvaddch(y + 3, 1 + ci, '[');
        if (co >= 0)
            mvaddch(y + 3, 1 + co, ']');
        attroff(COLOR_PAIR(TUI_C_MARK));
        if (cc >= 0) {
            attron(A_BOLD);
            mvaddch(y + 3, 1 + cc, '^');
            attroff(A_BOLD);
        }
    }
}

static const char *speed_name(int idx)
{
    static const char *const names[TUI_N_SPEEDS] = {"1/4x", "1/2x", "1x", "2x",
                                                    "4x",   "8x",   "16x"};
    return names[idx];
}

static void draw_status(struct tui *t)
{
    char buf[512], cur[64], in[32] = "-", out[32] = "-";
    const char *state;

    nvr_time_format_local_strf(t->cursor_us, "%Y-%m-%d %H:%M:%S %Z", cur,
                               sizeof(cur));
    if (t->live)
        state = "LIVE";
    else if (t->n_cams && t->spans_cam == t->sel &&
             tl_spans_find(&t->rec, t->cursor_us) < 0)
        state = "NO RECORDING";
    else if (t->playing)
        state = "PLAYING";
    else
        state = "PAUSED";
    if (t->mark_in)
        nvr_time_format_local_strf(t->mark_in, "%H:%M:%S", in, sizeof(in));
    if (t->mark_out)
        nvr_time_format_local_strf(t->mark_out, "%H:%M:%S", out, sizeof(out));
    snprintf(buf, sizeof(buf), " %s | %s %s | %s | %s | in %s out %s | %s", cur,
             t->playing ? ">" : "||", speed_name(t->speed_idx), state,
             t->n_cams ? t->cams[t->sel].name : "-", in, out,
             t->grid ? "grid" : render_mode_name(render_get_mode(t->render)));
    attron(A_REVERSE);
    put(t->lay.status_y, 0, t->lay.cols, buf);
    attroff(A_REVERSE);
}

static void draw_keys(struct tui *t)
{
    char buf[512], a[32], b[32];
    int y = t->lay.keys_y;

    if (t->mode == TUI_MODE_PROMPT) {
        switch (t->prompt) {
        case TUI_PROMPT_GOTO:
            snprintf(buf, sizeof(buf),
                     "go to (HH:MM[:SS] or YYYY-MM-DD HH:MM[:SS]): %s_",
                     t->input);
            break;
        case TUI_PROMPT_EXPORT:
        case TUI_PROMPT_HOLD:
            nvr_time_format_local_strf(t->mark_in, "%H:%M:%S", a, sizeof(a));
            nvr_time_format_local_strf(t->mark_out, "%H:%M:%S", b, sizeof(b));
            snprintf(buf, sizeof(buf),
                     "%s %s %s-%s, reason (Enter confirms, Esc cancels): %s_",
                     t->prompt == TUI_PROMPT_EXPORT ? "export" : "hold",
                     t->cams[t->sel].name, a, b, t->input);
            break;
        }
        attron(A_BOLD);
        put(y, 0, t->lay.cols, buf);
        attroff(A_BOLD);
        return;
    }
    if (t->msg[0] && nvr_clock_mono_us() - t->msg_mono_us < 8000000) {
        attron(A_BOLD);
        put(y, 0, t->lay.cols, t->msg);
        attroff(A_BOLD);
        return;
    }
    put(y, 0, t->lay.cols,
        "?:help q:quit spc:play <-/->:10s </>:1m PgUp/Dn:1h ,/.:frame "
        "-/+:speed "
        "g:go to n/p:gap [/]:day z/Z:zoom l:live m:grid i/o:mark e:export "
        "h:hold");
}

static const char *const help_lines[] = {
    "Space       play / pause",
    "Left Right  back / forward 10 s",
    "< >         back / forward 1 min (also Shift-Left/Right)",
    "PgUp PgDn   back / forward 1 h",
    "[ ]         previous / next day",
    ", .         one frame back / forward (pauses)",
    "- +         slower / faster: 1/4x 1/2x 1x 2x 4x 8x 16x",
    "g  t        go to a typed time: HH:MM[:SS] or YYYY-MM-DD HH:MM",
    "n           jump to the next gap in the recording",
    "p  N        jump to the previous gap",
    "z  Z        zoom the timeline in / out (1 day .. 1 min)",
    "Up Down k j select camera (Tab: next)",
    "l           live view of the selected camera (again: leave)",
    "m           2x2 grid of four cameras (live or in sync)",
    "i  o        set the in / out mark at the cursor",
    "c           clear the marks",
    "e           export the marked range (asks for a reason)",
    "h           place a legal hold on the marked range",
    "Ctrl-L      redraw the screen",
    "?           this help (any of ? q Esc closes it)",
    "q  Ctrl-C   quit",
};

static void draw_help(struct tui *t)
{
    int n = (int)(sizeof(help_lines) / sizeof(help_lines[0]));
    int y = 0;

    erase();
    attron(A_BOLD);
    mvaddnstr(y++, 1, "Keys of nvr tui", t->lay.cols - 2);
    attroff(A_BOLD);
    for (int i = 0; i < n && y < t->lay.rows - 1; i++)
        mvaddnstr(y++, 2, help_lines[i], t->lay.cols - 3);
    attron(A_DIM);
    mvaddnstr(t->lay.rows - 1, 1,
              "Timeline: # or full block = recorded, + = gap inside the "
              "column, . = no recording, H = held",
              t->lay.cols - 2);
    attroff(A_DIM);
}

void tui__draw(struct tui *t)
{
    int64_t now = nvr_clock_wall_us();

    colors_init();
    tui__layout(t);
    if (t->lay.too_small) {
        char buf[128];

        erase();
        snprintf(buf, sizeof(buf), "terminal too small: %dx%d, need %dx%d",
                 t->lay.cols, t->lay.rows, TUI_MIN_COLS, TUI_MIN_ROWS);
        mvaddnstr(t->lay.rows / 2, 0, buf, t->lay.cols);
        t->video_dirty = 1;
        render_forget(t->render);
        refresh();
        return;
    }
    if (t->mode == TUI_MODE_HELP) {
        draw_help(t);
        t->video_dirty = 1;
        refresh();
        return;
    }
    draw_title(t, now);
    draw_cameras(t, now);
    if (t->video_dirty) {
        tui__draw_video(t);
        t->video_dirty = 0;
    }
    draw_timeline(t, now);
    draw_status(t);
    draw_keys(t);
    refresh();
    render_flush(t->render);
}
