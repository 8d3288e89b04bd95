/* SPDX-License-Identifier: MIT */
/*
 * Drawing of the terminal UI (see tui_draw.h): title, camera list, video
 * pane (one tile or the 2x2 grid), timeline with its scale, cursor and
 * marks, status line, key line, and the help screen generated from the key
 * tables. Everything is drawn into stdscr and ncurses sends only the cells
 * that changed; the video pane is drawn again only when the model says a
 * tile shows a new frame or the layout changed.
 */
#include "config.h"
#include "ui-tui/tui_draw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "nvr/base/clock.h"
#include "nvr/base/clock.h"
#include "nvr/base/escape.h"
#include "nvr/base/refusal.h"
#include "nvr/base/timefmt.h"
#include "ui-tui/tui_export.h"
#include "ui-tui/tui_keys.h"
#include "ui-tui/tui_log.h"

#define TUI_TL_MAX_COLS 1024

enum tui_colors {
    TUI_C_OK = 1,
    TUI_C_WARN,
    TUI_C_BAD,
    TUI_C_HELD,
    TUI_C_MARK,
};

static void colors_init(struct tui_view *v)
{
    if (v->colors_ready || !has_colors())
        return;
    init_pair(TUI_C_OK, COLOR_GREEN, -1);
    init_pair(TUI_C_WARN, COLOR_YELLOW, -1);
    init_pair(TUI_C_BAD, COLOR_RED, -1);
    init_pair(TUI_C_HELD, COLOR_YELLOW, -1);
    init_pair(TUI_C_MARK, COLOR_CYAN, -1);
    v->colors_ready = 1;
}

static void layout(struct tui_view *v)
{
    struct tui_layout *l = &v->lay;
    int rows = LINES, cols = COLS;

    if (l->rows != rows || l->cols != cols)
        v->video_ok = 0;
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

/* Writes s at (y, x), cut to n columns, and pads with spaces to n. s is
 * the TUI's own text or text already escaped. */
static void put(int y, int x, int n, const char *s)
{
    if (n <= 0)
        return;
    mvhline(y, x, ' ', n);
    mvaddnstr(y, x, s, n);
}

/* A camera name as it may be drawn: names come from the catalog, and a
 * carriage return or backspace in one would move the cursor. */
#define TUI_NAME_SHOWN NVR_ESCAPE_SIZE(sizeof(((struct tui_cam *)0)->name))

static const char *cam_name(const struct tui_model *m, int i, char *out,
                            size_t size)
{
    return nvr_escape_text(m->n_cams ? m->cams[i].name : "-", out, size);
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
    if (strcmp(st, "refused") == 0)
        return "REFUS";
    return "-";
}

static int state_color(const char *st)
{
    if (strcmp(st, "recording") == 0)
        return TUI_C_OK;
    if (strcmp(st, "connecting") == 0 || strcmp(st, "backoff") == 0)
        return TUI_C_WARN;
    if (strcmp(st, "auth_failed") == 0 || strcmp(st, "error") == 0 ||
        strcmp(st, "stopped") == 0 || strcmp(st, "refused") == 0)
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

static void draw_title(struct tui_view *v, const struct tui_model *m,
                       int64_t now)
{
    char buf[512], clock[64];
    int n;

    nvr_time_format_local_strf(now, "%a %d %b %H:%M:%S %Z", clock,
                               sizeof(clock));
    snprintf(buf, sizeof(buf), " nvr tui  %s", m->opts->storage_dir);
    attron(A_BOLD);
    put(0, 0, v->lay.cols, buf);
    n = (int)strlen(clock);
    if (n + 2 < v->lay.cols)
        mvaddstr(0, v->lay.cols - n - 1, clock);
    attroff(A_BOLD);
}

/* The units the camera refused this run, by reason, from row y; returns
 * the next free row. Highlighted while it is losing units. */
static int draw_refused(const struct tui_view *v, const struct tui_cam *c,
                        int y, int y_end, int64_t now)
{
    const struct nvr_refusals *r = &c->st.refused;
    uint64_t total = nvr_refusals_total(r);
    int w = v->lay.list_w, attr = A_BOLD;
    char buf[128];

    if (!c->has_st || total == 0 || y >= y_end)
        return y;
    if (tui_model_cam_losing(c, now, nvr_clock_mono_us()) && has_colors())
        attr |= COLOR_PAIR(TUI_C_WARN);
    snprintf(buf, sizeof(buf),
             "refused %llu unit%s:", (unsigned long long)total,
             total == 1 ? "" : "s");
    attron(attr);
    put(y++, 0, w, buf);
    attroff(attr);
    for (int k = 0; k < NVR_REFUSAL_COUNT && y < y_end; k++) {
        if (r->n[k] == 0)
            continue;
        snprintf(buf, sizeof(buf), " %-13s %llu",
                 nvr_refusal_name((enum nvr_refusal)k),
                 (unsigned long long)r->n[k]);
        put(y++, 0, w, buf);
    }
    return y;
}

static void draw_details(struct tui_view *v, const struct tui_model *m, int y,
                         int y_end, int64_t now)
{
    const struct tui_cam *c = &m->cams[m->sel];
    const char *st = tui_model_cam_state(c, now);
    int w = v->lay.list_w;
    char buf[512], tm[64], age[16], name[TUI_NAME_SHOWN];
    char error[NVR_ESCAPE_SIZE(sizeof(c->st.error))];

    if (y >= y_end)
        return;
    attron(A_BOLD);
    put(y++, 0, w, cam_name(m, m->sel, name, sizeof(name)));
    attroff(A_BOLD);
    if (y >= y_end)
        return;
    if (strcmp(st, "recording") == 0)
        snprintf(buf, sizeof(buf), "recording %.2f Mbit/s%s",
                 (double)c->st.bitrate_bps / 1e6,
                 strcmp(c->st.auth, "basic") == 0
                     ? ", Basic auth: password in clear text"
                     : "");
    else if (strcmp(st, "backoff") == 0 || strcmp(st, "connecting") == 0)
        snprintf(buf, sizeof(buf), "reconnecting (%s)", st);
    else if (strcmp(st, "auth_failed") == 0)
        /* The refusal of a scheme (nvr's, not the camera's) is explained
         * by the error below; anything else is the camera's refusal. */
        snprintf(buf, sizeof(buf), "%s",
                 c->has_st && strstr(c->st.error, "authentication refused")
                     ? "auth refused by nvr: see the error"
                     : "auth failed: check password");
    else if (strcmp(st, "refused") == 0) /* the rule follows */
        snprintf(buf, sizeof(buf), "refused: never contacted");
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
    y = draw_refused(v, c, y, y_end, now);
    /* The error quotes the camera (a reason phrase, its SDP). */
    nvr_escape_text(c->has_st ? c->st.error : "", error, sizeof(error));
    for (int off = 0;
         y < y_end && error[0] && off < (int)strlen(error) && off < 3 * w;
         off += w)
        put(y++, 0, w, error + off);
    tui_log_last(buf, sizeof(buf));
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

static void draw_cameras(struct tui_view *v, const struct tui_model *m,
                         int64_t now)
{
    int w = v->lay.list_w, y = 1, y_end = v->lay.video_y + v->lay.video_h;
    int name_w = w - 17;
    char buf[256], name[TUI_NAME_SHOWN];
    int64_t mono = nvr_clock_mono_us();

    attron(A_BOLD | A_UNDERLINE);
    snprintf(buf, sizeof(buf), "%-*s %-5s %5s %4s", name_w, "CAMERA", "STATE",
             "KB/s", "AGE");
    put(y++, 0, w, buf);
    attroff(A_BOLD | A_UNDERLINE);
    for (int i = 0; i < m->n_cams && y < y_end - 1; i++, y++) {
        const struct tui_cam *c = &m->cams[i];
        const char *st = tui_model_cam_state(c, now);
        char age[16] = "-", kb[24] = "-";
        int in_grid = 0, color;
        /* A camera losing units must not look healthy. */
        int losing = tui_model_cam_losing(c, now, mono);

        for (int k = 0; k < m->n_tiles; k++)
            in_grid |= m->grid && m->tiles[k].cam == i;
        if (c->has_st && c->st.last_frame_us > 0)
            fmt_age(now - c->st.last_frame_us, age, sizeof(age));
        if (c->has_st && strcmp(st, "recording") == 0)
            snprintf(kb, sizeof(kb), "%lld",
                     (long long)(c->st.bitrate_bps / 8000));
        snprintf(buf, sizeof(buf), "%c%-*.*s ", in_grid ? '+' : ' ', name_w - 1,
                 name_w - 1, cam_name(m, i, name, sizeof(name)));
        if (i == m->sel)
            attron(A_REVERSE);
        put(y, 0, w, buf);
        color = losing ? TUI_C_WARN : state_color(st);
        if (color)
            attron(COLOR_PAIR(color) | A_BOLD);
        mvprintw(y, name_w + 1, "%-5s", losing ? "LOSS" : state_short(st));
        if (color)
            attroff(COLOR_PAIR(color) | A_BOLD);
        mvprintw(y, name_w + 7, "%5.5s %4.4s", kb, age);
        if (i == m->sel)
            attroff(A_REVERSE);
    }
    if (m->n_cams == 0)
        put(y++, 0, w, "no cameras yet");
    put(y++, 0, w, "");
    if (m->n_cams > 0)
        draw_details(v, m, y, y_end, now);
    else
        while (y < y_end)
            put(y++, 0, w, "");
    /* Box characters as text: ACS line drawing does not survive every
     * terminal multiplexer and screen capture. */
    for (int i = 0; i < v->lay.video_h; i++)
        mvaddstr(v->lay.video_y + i, w, v->utf8 ? "\u2502" : "|");
}

static void center(int y, int x, int w, const char *s)
{
    int n = (int)strlen(s);

    mvaddnstr(y, x + (w > n ? (w - n) / 2 : 0), s, w);
}

static void draw_tile(struct tui_view *v, const struct tui_model *m,
                      const struct tui_tile *tile, int y, int x, int h, int w)
{
    const struct tui_cam *c = &m->cams[tile->cam];
    int64_t ft = tile->pb ? playback_frame_time(tile->pb) : 0;
    char label[TUI_NAME_SHOWN + 96], tm[64], name[TUI_NAME_SHOWN];
    int fw = 0, fh = 0, rr, cc;
    const uint8_t *px;
    int stride;

    for (int i = 0; i < h; i++)
        mvhline(y + i, x, ' ', w);
    if (ft > 0)
        nvr_time_format_local_strf(ft, "%H:%M:%S", tm, sizeof(tm));
    else
        snprintf(tm, sizeof(tm), "--:--:--");
    snprintf(label, sizeof(label), " %s  %s%s",
             nvr_escape_text(c->name, name, sizeof(name)), tm,
             m->live ? "  LIVE" : "");
    attron(A_BOLD);
    mvaddnstr(y, x, label, w);
    attroff(A_BOLD);
    if (h < 3 || w < 4)
        return;
    if (ft == 0 || (!m->live && tile->no_footage)) {
        center(y + h / 2, x, w,
               m->live ? "waiting for video" : "no recording at this time");
        return;
    }
    if (!m->live && m->grid == 0 && m->spans_cam == tile->cam &&
        tl_spans_find(&m->rec, m->cursor_us) < 0 &&
        !(m->cursor_us >= ft && m->cursor_us - ft < 2000000)) {
        center(y + h / 2, x, w, "no recording at this time");
        return;
    }
    playback_frame_size(tile->pb, &fw, &fh);
    render_fit(fw, fh, h - 1, w, &rr, &cc);
    if (rr <= 0 || cc <= 0)
        return;
    /* The engine scales the frame shown into its own buffer: the model's
     * state (which frame, where) stays as it was. */
    if (playback_frame_rgba(tile->pb, cc * 8, rr * 8, &px, &stride) != 0)
        return;
    {
        int oy = y + 1 + (h - 1 - rr) / 2, ox = x + (w - cc) / 2;

        if (render_draw(v->render, stdscr, oy, ox, oy, ox, rr, cc, px, cc * 8,
                        rr * 8, stride) < 0)
            center(y + h / 2, x, w, "cannot draw the picture");
    }
}

static void draw_video(struct tui_view *v, const struct tui_model *m)
{
    const struct tui_layout *l = &v->lay;

    if (m->n_tiles == 0) {
        for (int i = 0; i < l->video_h; i++)
            mvhline(l->video_y + i, l->video_x, ' ', l->video_w);
        center(l->video_y + l->video_h / 2, l->video_x, l->video_w,
               "no camera");
        return;
    }
    if (!m->grid) {
        draw_tile(v, m, &m->tiles[0], l->video_y, l->video_x, l->video_h,
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
        if (i < m->n_tiles)
            draw_tile(v, m, &m->tiles[i], y, x, hh, ww - (i % 2 == 0));
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

/* Scale: labels at round local times. */
static void draw_scale(const struct tui_view *v, int y, int64_t from,
                       int64_t to, int width)
{
    int label_w = to - from <= 600000000LL ? 8 : 5;
    int64_t step = tick_step(to - from, width, label_w);
    int64_t ds = nvr_time_local_day_start(from);
    char a[32];

    mvhline(y, 0, ' ', v->lay.cols);
    for (int64_t k = ds + (from - ds + step - 1) / step * step; k < to;
         k += step) {
        int c = col_of(k, from, to, width);

        if (c < 0 || c + label_w > width)
            continue;
        nvr_time_format_local_strf(k, label_w == 8 ? "%H:%M:%S" : "%H:%M", a,
                                   sizeof(a));
        mvaddch(y, 1 + c, '|');
        mvaddnstr(y, 2 + c, a, label_w);
    }
}

/* The bar: recorded, partly recorded, nothing, held. */
static void draw_bar(const struct tui_view *v, const struct tui_model *m, int y,
                     int64_t from, int64_t to, int width, int64_t now)
{
    uint8_t cells[TUI_TL_MAX_COLS];

    timeline_cells(&m->rec, &m->held, from, to, now, cells, width);
    mvhline(y, 0, ' ', v->lay.cols);
    for (int c = 0; c < width; c++) {
        int held = cells[c] & TL_HELD;
        const char *s;

        switch (cells[c] & 0x0f) {
        case TL_FULL:
            s = held ? (v->utf8 ? "\u2593" : "H") : (v->utf8 ? "\u2588" : "#");
            break;
        case TL_PART:
            s = v->utf8 ? "\u2592" : "+";
            break;
        case TL_NONE:
            s = held ? "h" : (v->utf8 ? "\u00b7" : ".");
            break;
        default:
            s = " ";
            break;
        }
        if (held)
            attron(COLOR_PAIR(TUI_C_HELD));
        mvaddstr(y, 1 + c, s);
        if (held)
            attroff(COLOR_PAIR(TUI_C_HELD));
    }
}

/* The cursor and the marked range under the bar. */
static void draw_marks(const struct tui_view *v, const struct tui_model *m,
                       int y, int64_t from, int64_t to, int width)
{
    int ci = col_of(m->mark_in, from, to, width);
    int co = col_of(m->mark_out, from, to, width);
    int cc = col_of(m->cursor_us, from, to, width);

    mvhline(y, 0, ' ', v->lay.cols);
    attron(COLOR_PAIR(TUI_C_MARK));
    if (m->mark_in && m->mark_out && m->mark_out > m->mark_in) {
        int c0 = m->mark_in < from ? 0 : ci, c1 = co < 0 ? width : co;

        for (int c = c0; c >= 0 && c < c1; c++)
            mvaddch(y, 1 + c, '-');
    }
    if (ci >= 0)
        mvaddch(y, 1 + ci, '[');
    if (co >= 0)
        mvaddch(y, 1 + co, ']');
    attroff(COLOR_PAIR(TUI_C_MARK));
    if (cc >= 0) {
        attron(A_BOLD);
        mvaddch(y, 1 + cc, '^');
        attroff(A_BOLD);
    }
}

static void draw_timeline(struct tui_view *v, const struct tui_model *m,
                          int64_t now)
{
    const struct tui_layout *l = &v->lay;
    int width = l->cols - 2, y = l->tl_y;
    int64_t from, to;
    char buf[512], a[32], b[32], day[48], shown[TUI_NAME_SHOWN];
    const char *name = cam_name(m, m->sel, shown, sizeof(shown));

    if (width > TUI_TL_MAX_COLS)
        width = TUI_TL_MAX_COLS;
    tui_model_window(m, &from, &to);
    nvr_time_format_local_strf(m->cursor_us, "%a %d %b %Y", day, sizeof(day));
    nvr_time_format_local_strf(from, "%H:%M:%S", a, sizeof(a));
    nvr_time_format_local_strf(to - 1, "%H:%M:%S", b, sizeof(b));
    snprintf(buf, sizeof(buf), " %s  %s  %s-%s  %s=rec %s=part %s=gap %s=held",
             name, day, a, b, v->utf8 ? "\u2588" : "#",
             v->utf8 ? "\u2592" : "+", v->utf8 ? "\u00b7" : ".",
             v->utf8 ? "\u2593" : "H");
    for (int c = 0; c < l->cols; c++)
        mvaddstr(y, c, v->utf8 ? "\u2500" : "-");
    mvaddnstr(y, 0, buf, l->cols);
    draw_scale(v, y + 1, from, to, width);
    draw_bar(v, m, y + 2, from, to, width, now);
    draw_marks(v, m, y + 3, from, to, width);
}

static const char *speed_name(int idx)
{
    static const char *const names[TUI_N_SPEEDS] = {"1/4x", "1/2x", "1x", "2x",
                                                    "4x",   "8x",   "16x"};
    return names[idx];
}

static void draw_status(struct tui_view *v, const struct tui_model *m)
{
    char buf[512], cur[64], in[32] = "-", out[32] = "-", name[TUI_NAME_SHOWN];
    const char *state;

    nvr_time_format_local_strf(m->cursor_us, "%Y-%m-%d %H:%M:%S %Z", cur,
                               sizeof(cur));
    if (m->live)
        state = "LIVE";
    else if (m->n_cams && m->spans_cam == m->sel &&
             tl_spans_find(&m->rec, m->cursor_us) < 0)
        state = "NO RECORDING";
    else if (m->playing)
        state = "PLAYING";
    else
        state = "PAUSED";
    if (m->mark_in)
        nvr_time_format_local_strf(m->mark_in, "%H:%M:%S", in, sizeof(in));
    if (m->mark_out)
        nvr_time_format_local_strf(m->mark_out, "%H:%M:%S", out, sizeof(out));
    snprintf(buf, sizeof(buf), " %s | %s %s | %s | %s | in %s out %s | %s", cur,
             m->playing ? ">" : "||", speed_name(m->speed_idx), state,
             cam_name(m, m->sel, name, sizeof(name)), in, out,
             m->grid ? "grid" : render_mode_name(render_get_mode(v->render)));
    attron(A_REVERSE);
    put(v->lay.status_y, 0, v->lay.cols, buf);
    attroff(A_REVERSE);
}

static void draw_keys(struct tui_view *v, const struct tui_model *m)
{
    char buf[512], a[32], b[32], name[TUI_NAME_SHOWN];
    char input[NVR_ESCAPE_SIZE(sizeof(m->input))],
        msg[NVR_ESCAPE_SIZE(sizeof(m->msg))];
    int y = v->lay.keys_y;

    if (m->mode == TUI_MODE_PROMPT) {
        switch (m->prompt) {
        case TUI_PROMPT_GOTO:
            snprintf(buf, sizeof(buf),
                     "go to (HH:MM[:SS] or YYYY-MM-DD HH:MM[:SS]): %s_",
                     m->input);
            break;
        case TUI_PROMPT_EXPORT:
        case TUI_PROMPT_HOLD:
            nvr_time_format_local_strf(m->mark_in, "%H:%M:%S", a, sizeof(a));
            nvr_time_format_local_strf(m->mark_out, "%H:%M:%S", b, sizeof(b));
            snprintf(buf, sizeof(buf),
                     "%s %s %s-%s, reason (Enter confirms, Esc cancels): %s_",
                     m->prompt == TUI_PROMPT_EXPORT ? "export" : "hold",
                     cam_name(m, m->sel, name, sizeof(name)), a, b,
                     nvr_escape_text(m->input, input, sizeof(input)));
            break;
        }
        attron(A_BOLD);
        put(y, 0, v->lay.cols, buf);
        attroff(A_BOLD);
        return;
    }
    if (m->msg[0] && nvr_clock_mono_us() - m->msg_mono_us < TUI_MSG_US) {
        attron(A_BOLD);
        /* Messages quote camera names and errors. */
        put(y, 0, v->lay.cols, nvr_escape_text(m->msg, msg, sizeof(msg)));
        attroff(A_BOLD);
        return;
    }
    if (m->export) {
        snprintf(buf, sizeof(buf), "exporting... %d%% (x cancels)",
                 tui_export_percent(m->export));
        attron(A_BOLD);
        put(y, 0, v->lay.cols, buf);
        attroff(A_BOLD);
        return;
    }
    put(y, 0, v->lay.cols,
        "?:help q:quit spc:play <-/->:10s </>:1m PgUp/Dn:1h ,/.:frame "
        "-/+:speed "
        "g:go to n/p:gap [/]:day z/Z:zoom l:live m:grid i/o:mark e:export "
        "h:hold");
}

/* Draws lines of text (each ending in '\n') from row y on, up to row
 * y_end; returns the next row. */
static int draw_lines(const struct tui_view *v, int y, int y_end,
                      const char *text)
{
    while (*text && y < y_end) {
        const char *nl = strchr(text, '\n');
        int n = nl ? (int)(nl - text) : (int)strlen(text);

        mvaddnstr(y++, 2, text, n < v->lay.cols - 3 ? n : v->lay.cols - 3);
        text += nl ? n + 1 : n;
    }
    return y;
}

/* The help: every table's bindings, from the tables themselves. The
 * normal table comes first; the prompt's follows when there is room. */
static void draw_help(struct tui_view *v, const struct tui_model *m)
{
    char text[4096], names[128], title[256];
    int y = 0, y_end = v->lay.rows - 1;

    erase();
    tui_keys_names(TUI_MODE_HELP, names, sizeof(names));
    snprintf(title, sizeof(title), "Keys of nvr tui  (%s: %s)", names,
             tui_keys_table(TUI_MODE_HELP)->bindings[0].help);
    attron(A_BOLD);
    mvaddnstr(y++, 1, title, v->lay.cols - 2);
    attroff(A_BOLD);
    tui_keys_help(TUI_MODE_NORMAL, text, sizeof(text));
    y = draw_lines(v, y, y_end, text);
    if (y + 2 < y_end) {
        attron(A_BOLD);
        mvaddnstr(++y, 1, "In a prompt", v->lay.cols - 2);
        attroff(A_BOLD);
        tui_keys_help(TUI_MODE_PROMPT, text, sizeof(text));
        draw_lines(v, y + 1, y_end, text);
    }
    attron(A_DIM);
    mvaddnstr(v->lay.rows - 1, 1,
              "Timeline: # or full block = recorded, + = gap inside the "
              "column, . = no recording, H = held",
              v->lay.cols - 2);
    attroff(A_DIM);
}

/* What changed in the model since the last draw, and what that undoes of
 * the screen: a new frame or tiles (the video pane), the help screen
 * opened (the picture's cells) or closed, Ctrl-L (everything). */
static void follow_model(struct tui_view *v, const struct tui_model *m)
{
    if (m->video_gen != v->video_gen) {
        v->video_gen = m->video_gen;
        v->video_ok = 0;
    }
    if (m->screen_gen != v->screen_gen) {
        v->screen_gen = m->screen_gen;
        tui_draw_invalidate(v);
    }
    if (m->mode != v->mode) {
        if (m->mode == TUI_MODE_HELP)
            render_forget(v->render);
        if (v->mode == TUI_MODE_HELP) {
            clearok(curscr, TRUE);
            v->video_ok = 0;
        }
        v->mode = m->mode;
    }
}

void tui_draw_invalidate(struct tui_view *v)
{
    render_forget(v->render);
    clearok(curscr, TRUE);
    v->video_ok = 0;
}

int tui_draw_init(struct tui_view *v, enum render_mode graphics, int utf8)
{
    memset(v, 0, sizeof(*v));
    v->utf8 = utf8;
    return render_new(graphics, utf8, &v->render);
}

void tui_draw_fini(struct tui_view *v)
{
    render_free(v->render);
    v->render = NULL;
}

void tui_draw(struct tui_view *v, const struct tui_model *m)
{
    int64_t now = nvr_clock_wall_us();

    colors_init(v);
    layout(v);
    follow_model(v, m);
    if (v->lay.too_small) {
        char buf[128];

        erase();
        snprintf(buf, sizeof(buf), "terminal too small: %dx%d, need %dx%d",
                 v->lay.cols, v->lay.rows, TUI_MIN_COLS, TUI_MIN_ROWS);
        mvaddnstr(v->lay.rows / 2, 0, buf, v->lay.cols);
        v->video_ok = 0;
        render_forget(v->render);
        refresh();
        return;
    }
    if (m->mode == TUI_MODE_HELP) {
        draw_help(v, m);
        v->video_ok = 0;
        refresh();
        return;
    }
    draw_title(v, m, now);
    draw_cameras(v, m, now);
    if (!v->video_ok) {
        draw_video(v, m);
        v->video_ok = 1;
    }
    draw_timeline(v, m, now);
    draw_status(v, m);
    draw_keys(v, m);
    refresh();
    render_flush(v->render);
}
