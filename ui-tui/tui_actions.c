/* SPDX-License-Identifier: MIT */
/*
 * The actions behind the operator's keys (see tui_actions.h). Writes go
 * through storage's own functions: legal holds on the marked range on
 * the model's read-write catalog connection, exports of it on a worker
 * with its own (tui_export.c).
 */
#include "config.h"
#include "ui-tui/tui_actions.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nvr/base/clock.h"
#include "nvr/base/err.h"
#include "nvr/base/timefmt.h"
#include "storage/holds.h"
#include "ui-tui/tui_export.h"

#define TUI_DAY_US        (86400LL * 1000000)
#define TUI_GAP_SEARCH_US (31 * TUI_DAY_US)

void tui_actions_quit(struct tui_model *m, int key, int arg)
{
    m->quit = 1;
}

void tui_actions_help_open(struct tui_model *m, int key, int arg)
{
    m->mode = TUI_MODE_HELP;
}

void tui_actions_help_close(struct tui_model *m, int key, int arg)
{
    m->mode = TUI_MODE_NORMAL;
}

void tui_actions_redraw(struct tui_model *m, int key, int arg)
{
    m->screen_gen++;
}

/* ---- playback -------------------------------------------------------- */

void tui_actions_play(struct tui_model *m, int key, int arg)
{
    if (m->live) {
        tui_model_leave_live(m);
        m->playing = 0;
    } else {
        m->playing = !m->playing;
    }
    m->play_mono_us = nvr_clock_mono_us();
}

void tui_actions_seek(struct tui_model *m, int key, int arg)
{
    tui_model_leave_live(m);
    tui_model_set_cursor(m, m->cursor_us + arg * 1000000LL);
}

/* The same time of day on the day before or after. */
void tui_actions_day(struct tui_model *m, int key, int arg)
{
    int64_t ds;

    tui_model_leave_live(m);
    ds = nvr_time_local_day_start(m->cursor_us);
    tui_model_set_cursor(m, nvr_time_local_day_shift(ds, arg) +
                                (m->cursor_us - ds));
}

/* One frame forward decodes the next frame of the first tile; back seeks
 * to a frame interval before the one shown. Both pause. */
void tui_actions_frame(struct tui_model *m, int key, int arg)
{
    struct tui_tile *tile = m->n_tiles ? &m->tiles[0] : NULL;
    int64_t ft;

    tui_model_leave_live(m);
    m->playing = 0;
    if (!tile || !tile->pb)
        return;
    ft = playback_frame_time(tile->pb);
    if (arg > 0 && ft > 0 && !tile->need_seek) {
        if (playback_step(tile->pb) == 0)
            m->cursor_us = playback_frame_time(tile->pb);
        for (int i = 1; i < m->n_tiles; i++)
            m->tiles[i].need_seek = 1;
        m->video_gen++;
        return;
    }
    tui_model_set_cursor(m,
                         (ft > 0 ? ft : m->cursor_us) -
                             (arg < 0 ? playback_frame_interval(tile->pb) : 0));
}

void tui_actions_speed(struct tui_model *m, int key, int arg)
{
    if (arg < 0 && m->speed_idx > 0)
        m->speed_idx--;
    else if (arg > 0 && m->speed_idx < TUI_N_SPEEDS - 1)
        m->speed_idx++;
}

/* The next or previous gap of the selected camera. */
void tui_actions_gap(struct tui_model *m, int key, int arg)
{
    struct tl_spans s;
    int64_t gs = 0, ge = 0, from, to;
    int r;

    if (m->n_cams == 0)
        return;
    tl_spans_init(&s);
    from = arg > 0 ? m->cursor_us - 1 : m->cursor_us - TUI_GAP_SEARCH_US;
    to = arg > 0 ? m->cursor_us + TUI_GAP_SEARCH_US : m->cursor_us + 1;
    r = tui_model_load_spans(m, m->cams[m->sel].id, from, to, &s);
    if (r == 0)
        r = tl_spans_gap(&s, m->cursor_us, arg, &gs, &ge);
    tl_spans_fini(&s);
    if (r < 0) {
        tui_model_message(m, "no %s gap", arg > 0 ? "later" : "earlier");
        return;
    }
    tui_model_leave_live(m);
    tui_model_set_cursor(m, gs);
    tui_model_message(m, "gap of %.1f s", (double)(ge - gs) / 1e6);
}

void tui_actions_zoom(struct tui_model *m, int key, int arg)
{
    if (arg > 0 && m->zoom_idx < TUI_N_ZOOMS - 1)
        m->zoom_idx++;
    else if (arg < 0 && m->zoom_idx > 0)
        m->zoom_idx--;
    tui_model_reload(m);
}

void tui_actions_camera(struct tui_model *m, int key, int arg)
{
    if (m->n_cams == 0)
        return;
    m->sel = (m->sel + arg + m->n_cams) % m->n_cams;
    tui_model_tiles_setup(m);
    tui_model_reload(m);
}

void tui_actions_live(struct tui_model *m, int key, int arg)
{
    if (m->live) {
        tui_model_leave_live(m);
    } else {
        for (int i = 0; i < m->n_tiles; i++) {
            tui_model_session_end(m, &m->tiles[i]);
            m->tiles[i].live_started = 0;
        }
        m->live = 1;
        m->playing = 0;
    }
    tui_model_seek_all(m);
}

void tui_actions_grid(struct tui_model *m, int key, int arg)
{
    m->grid = !m->grid;
    tui_model_tiles_setup(m);
}

/* ---- marks and prompts ---------------------------------------------- */

void tui_actions_mark_in(struct tui_model *m, int key, int arg)
{
    m->mark_in = m->cursor_us;
    tui_model_message(m, "in mark set");
}

void tui_actions_mark_out(struct tui_model *m, int key, int arg)
{
    m->mark_out = m->cursor_us;
    tui_model_message(m, "out mark set");
}

void tui_actions_mark_clear(struct tui_model *m, int key, int arg)
{
    m->mark_in = m->mark_out = 0;
    tui_model_message(m, "marks cleared");
}

static void start_prompt(struct tui_model *m, enum tui_prompt p)
{
    m->mode = TUI_MODE_PROMPT;
    m->prompt = p;
    m->input[0] = '\0';
    m->input_len = 0;
}

/* Export and hold act on the marked range of the selected camera. */
static void start_marked_prompt(struct tui_model *m, enum tui_prompt p)
{
    if (!m->mark_in || !m->mark_out || m->mark_out <= m->mark_in) {
        tui_model_message(m, "set in (i) and out (o) marks first");
        return;
    }
    if (m->n_cams == 0)
        return;
    start_prompt(m, p);
}

void tui_actions_goto(struct tui_model *m, int key, int arg)
{
    start_prompt(m, TUI_PROMPT_GOTO);
}

void tui_actions_export(struct tui_model *m, int key, int arg)
{
    if (m->export) {
        tui_model_message(m, "an export is running (x cancels it)");
        return;
    }
    start_marked_prompt(m, TUI_PROMPT_EXPORT);
}

void tui_actions_hold(struct tui_model *m, int key, int arg)
{
    start_marked_prompt(m, TUI_PROMPT_HOLD);
}

/* The export runs on a worker (tui_export.c): the UI goes on meanwhile. */
static void export_marked(struct tui_model *m, const char *reason)
{
    struct tui_export_spec spec = {
        .catalog_path = m->catalog_path,
        .storage_dir = m->opts->storage_dir,
        .camera = m->cams[m->sel].name,
        .export_dir = m->opts->export_dir,
        .reason = reason,
        .from_us = m->mark_in,
        .to_us = m->mark_out,
    };
    int r;

    if (!reason[0]) {
        tui_model_message(m, "export cancelled: a reason is required");
        return;
    }
    r = tui_export_start(&spec, &m->export);
    if (r < 0)
        tui_model_message(m, "export failed: %s", nvr_strerror(r));
}

void tui_actions_export_cancel(struct tui_model *m, int key, int arg)
{
    if (!m->export || tui_export_cancelling(m->export))
        return;
    tui_export_cancel(m->export);
    tui_model_message(m, "cancelling the export...");
}

void tui_actions_export_poll(struct tui_model *m)
{
    struct tui_export_outcome o;

    if (!m->export || !tui_export_done(m->export))
        return;
    tui_export_finish(m->export, &o);
    m->export = NULL;
    if (o.err == -ECANCELED) {
        tui_model_message(m, "export cancelled");
        return;
    }
    if (o.err < 0) {
        tui_model_message(m, "export failed: %s", nvr_strerror(o.err));
        return;
    }
    tui_model_message(m, "exported %lld frames (%d gap%s) to %s sha256 %.12s",
                      (long long)o.res.frames, o.res.n_gaps,
                      o.res.n_gaps == 1 ? "" : "s", o.path, o.res.sha256);
}

static void hold_marked(struct tui_model *m, const char *reason)
{
    struct hold h;
    char a[32], b[32];
    int r;

    if (!reason[0]) {
        tui_model_message(m, "hold cancelled: a reason is required");
        return;
    }
    if (tui_model_open_writer(m) < 0)
        return;
    memset(&h, 0, sizeof(h));
    snprintf(h.camera, sizeof(h.camera), "%s", m->cams[m->sel].name);
    h.from_us = m->mark_in;
    h.to_us = m->mark_out;
    snprintf(h.reason, sizeof(h.reason), "%s", reason);
    r = holds_add(m->wcat, &h);
    if (r < 0) {
        tui_model_message(m, "hold failed: %s", nvr_strerror(r));
        return;
    }
    tui_model_message(
        m, "hold #%lld placed on %s %s-%s", (long long)h.id, h.camera,
        nvr_time_format_local_strf(h.from_us, "%H:%M:%S", a, sizeof(a)),
        nvr_time_format_local_strf(h.to_us, "%H:%M:%S", b, sizeof(b)));
    m->refresh_mono_us = 0; /* show the hold on the timeline */
}

void tui_actions_prompt_type(struct tui_model *m, int key, int arg)
{
    if (key >= 32 && key < 127 && m->input_len + 1 < sizeof(m->input)) {
        m->input[m->input_len++] = (char)key;
        m->input[m->input_len] = '\0';
    }
}

void tui_actions_prompt_erase(struct tui_model *m, int key, int arg)
{
    if (m->input_len > 0)
        m->input[--m->input_len] = '\0';
}

void tui_actions_prompt_cancel(struct tui_model *m, int key, int arg)
{
    m->mode = TUI_MODE_NORMAL;
    tui_model_message(m, "cancelled");
}

void tui_actions_prompt_done(struct tui_model *m, int key, int arg)
{
    int64_t us;
    char why[128];

    m->mode = TUI_MODE_NORMAL;
    switch (m->prompt) {
    case TUI_PROMPT_GOTO:
        if (tui_model_parse_time(m->input, m->cursor_us, &us, why,
                                 sizeof(why)) != 0) {
            tui_model_message(m, "%s", why);
            return;
        }
        tui_model_leave_live(m);
        tui_model_set_cursor(m, us);
        break;
    case TUI_PROMPT_EXPORT:
        export_marked(m, m->input);
        break;
    case TUI_PROMPT_HOLD:
        hold_marked(m, m->input);
        break;
    }
}
