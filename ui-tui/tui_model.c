/* SPDX-License-Identifier: MIT */
/*
 * The terminal UI's model (see tui_model.h): the catalog refresh (camera
 * states, spans, holds about once a second, so new segments and states
 * appear without a restart), the playback clock, the tiles' engines and
 * the audit entry of each playback session (when it ends: camera change,
 * mode change, quit).
 */
#include "config.h"
#include "ui-tui/tui_model.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "nvr/base/clock.h"
#include "nvr/base/err.h"
#include "nvr/base/refusal.h"
#include "nvr/base/timefmt.h"
#include "storage/audit.h"
#include "storage/holds.h"
#include "ui-tui/tui_export.h"

#define TUI_REFRESH_US     1000000LL
#define TUI_LIVE_MAX_STEPS 100
#define TUI_DAY_US         (86400LL * 1000000)

const int tui_speeds_q[TUI_N_SPEEDS] = {1, 2, 4, 8, 16, 32, 64};
const int64_t tui_zooms_us[TUI_N_ZOOMS] = {
    TUI_DAY_US,   12 * 3600000000LL, 6 * 3600000000LL, 3 * 3600000000LL,
    3600000000LL, 1800000000LL,      600000000LL,      300000000LL,
    120000000LL,  60000000LL,
};

/* ---- small readers ------------------------------------------------ */

int tui_model_parse_time(const char *s, int64_t ref_us, int64_t *out, char *why,
                         size_t why_size)
{
    char text[64], full[96], day[16], scratch[128];
    size_t len;
    int r;

    while (*s == ' ')
        s++;
    len = strlen(s);
    while (len > 0 && s[len - 1] == ' ')
        len--;
    snprintf(why, why_size,
             "not a time (HH:MM[:SS] or YYYY-MM-DD HH:MM[:SS], "
             "+HH:MM for an offset)");
    if (len == 0 || len >= sizeof(text))
        return -EINVAL;
    memcpy(text, s, len);
    text[len] = '\0';
    if (strchr(text, '-') == text + 4) {
        snprintf(full, sizeof(full), "%s", text);
    } else {
        /* A time alone ("HH:MM[:SS]", perhaps with an offset) is on the
         * local day of ref. */
        nvr_time_format_local_strf(ref_us, "%Y-%m-%d", day, sizeof(day));
        snprintf(full, sizeof(full), "%sT%s%s", day, text[1] == ':' ? "0" : "",
                 text);
    }
    /* Only a skipped or repeated time has a better message than ours. */
    r = nvr_time_parse_why(full, out, scratch, sizeof(scratch));
    if (r == -EDOM)
        snprintf(why, why_size, "%s", scratch);
    return r;
}

void tui_model_message(struct tui_model *m, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(m->msg, sizeof(m->msg), fmt, ap);
    va_end(ap);
    m->msg_mono_us = nvr_clock_mono_us();
}

const char *tui_model_cam_state(const struct tui_cam *c, int64_t now_us)
{
    if (!c->has_st)
        return "no data";
    if (now_us - c->st.updated_us > TUI_STATUS_STALE_US)
        return "stopped";
    return c->st.state;
}

int tui_model_cam_losing(const struct tui_cam *c, int64_t now_us,
                         int64_t now_mono_us)
{
    return strcmp(tui_model_cam_state(c, now_us), "recording") == 0 &&
           c->refused_mono_us != 0 &&
           now_mono_us - c->refused_mono_us < TUI_LOSS_US;
}

void tui_model_window(const struct tui_model *m, int64_t *from, int64_t *to)
{
    int64_t span = tui_zooms_us[m->zoom_idx];
    int64_t ds = nvr_time_local_day_start(m->cursor_us);

    if (m->zoom_idx == 0) {
        *from = ds;
        *to = nvr_time_local_day_shift(*from, 1);
        return;
    }
    /* Zoomed: a window of the same span that pages with the cursor, so the
     * scale does not slide under the operator's eyes every frame. */
    *from = ds + (m->cursor_us - ds) / span * span;
    if (m->cursor_us - *from < span / 8 && m->cursor_us > span)
        *from -= span / 2;
    else if (*from + span - m->cursor_us < span / 8)
        *from += span / 2;
    *to = *from + span;
}

/* ---- the catalog ---------------------------------------------------- */

static int cam_cb(void *user, int64_t id, const char *name)
{
    struct tui_model *m = user;

    for (int i = 0; i < m->n_cams; i++)
        if (strcmp(m->cams[i].name, name) == 0)
            return 0;
    if (m->n_cams == TUI_MAX_CAMERAS)
        return 1;
    snprintf(m->cams[m->n_cams].name, sizeof(m->cams[0].name), "%s", name);
    m->cams[m->n_cams].id = id;
    m->n_cams++;
    return 0;
}

static int status_cb(void *user, const struct catalog_status *st)
{
    struct tui_model *m = user;

    for (int i = 0; i < m->n_cams; i++) {
        if (strcmp(m->cams[i].name, st->name) == 0) {
            struct tui_cam *c = &m->cams[i];
            uint64_t n = nvr_refusals_total(&st->refused);

            /* Growth since the last read; a count found at start-up is
             * news too (it may be minutes old: it shows for a while). */
            if (n > c->refused_seen)
                c->refused_mono_us = nvr_clock_mono_us();
            c->refused_seen = n;
            c->st = *st;
            c->has_st = 1;
        }
    }
    return 0;
}

struct spans_ctx {
    struct tl_spans *s;
    int err;
};

/* The catalog merges segments into runs with the tolerance playback uses
 * to step over a gap, so a run is what playback plays without a jump. */
_Static_assert(CATALOG_RUN_GAP_US == PLAYBACK_GAP_MIN_US,
               "runs and playback agree on what a gap is");

static int spans_cb(void *user, const struct catalog_run *run)
{
    struct spans_ctx *c = user;
    int r = tl_spans_add(c->s, run->start_us, run->end_us, PLAYBACK_GAP_MIN_US);

    if (r < 0) {
        c->err = r;
        return 1;
    }
    return 0;
}

/* Its recording runs: one row per stretch of footage however many
 * segments it holds. */
int tui_model_load_spans(const struct tui_model *m, int64_t cam_id,
                         int64_t from, int64_t to, struct tl_spans *out)
{
    struct spans_ctx c = {.s = out};
    int r;

    tl_spans_clear(out);
    if (cam_id <= 0)
        return 0;
    r = catalog_run_list(m->cat, cam_id, from, to, spans_cb, &c);
    return r < 0 ? r : c.err;
}

static int hold_cb(void *user, const struct hold *h)
{
    struct tl_spans *s = user;

    /* Holds may overlap and come ordered by from_us: merging keeps the
     * list sorted. */
    return tl_spans_add(s, h->from_us, h->to_us, 0) < 0;
}

void tui_model_reload(struct tui_model *m)
{
    int64_t from, to, ds, de;
    const struct tui_cam *c;
    int r = 0;

    /* A camera the recorder has not registered yet (-ENOENT) keeps id 0
     * and is looked up again next time. */
    for (int i = 0; i < m->n_cams; i++)
        if (m->cams[i].id <= 0 &&
            catalog_camera_find(m->cat, m->cams[i].name, &m->cams[i].id) < 0)
            m->cams[i].id = 0;
    if (m->opts->n_cameras == 0)
        r = catalog_camera_list(m->cat, cam_cb, m);
    for (int i = 0; i < m->n_cams; i++)
        m->cams[i].has_st = 0;
    if (r == 0)
        r = catalog_status_list(m->cat, status_cb, m);
    if (r < 0)
        tui_model_message(m, "cannot read the catalog: %s", nvr_strerror(r));
    if (m->n_cams == 0)
        return;
    c = &m->cams[m->sel];
    tui_model_window(m, &from, &to);
    ds = nvr_time_local_day_start(m->cursor_us);
    de = nvr_time_local_day_shift(ds, 1);
    m->spans_from = from < ds ? from : ds;
    m->spans_to = to > de ? to : de;
    if (tui_model_load_spans(m, c->id, m->spans_from, m->spans_to, &m->rec) < 0)
        tui_model_message(m, "cannot read the catalog");
    tl_spans_clear(&m->held);
    /* Holds that cannot be read are not shown: the spans still are. */
    if (holds_list(m->cat, c->name, m->spans_from, m->spans_to, 1, hold_cb,
                   &m->held) < 0)
        tl_spans_clear(&m->held);
    m->spans_cam = m->sel;
    m->refresh_mono_us = nvr_clock_mono_us();
}

/* ---- the audit log ------------------------------------------------- */

int tui_model_open_writer(struct tui_model *m)
{
    int r;

    if (m->wcat)
        return 0;
    r = catalog_open(m->catalog_path, CATALOG_READWRITE, &m->wcat);
    if (r < 0)
        tui_model_message(m, "cannot open the catalog for writing: %s",
                          nvr_strerror(r));
    return r;
}

static void session_note(struct tui_model *m, struct tui_tile *tile)
{
    int64_t ft = tile->pb ? playback_frame_time(tile->pb) : 0;

    if (ft <= 0)
        return;
    if (tile->sess_frames == 0) {
        tile->sess_from = tile->sess_to = ft;
        tile->sess_live = m->live;
    }
    if (ft < tile->sess_from)
        tile->sess_from = ft;
    if (ft > tile->sess_to)
        tile->sess_to = ft;
    tile->sess_frames++;
}

void tui_model_session_end(struct tui_model *m, struct tui_tile *tile)
{
    struct audit_entry e;
    int r;

    if (tile->sess_frames == 0)
        return;
    memset(&e, 0, sizeof(e));
    snprintf(e.kind, sizeof(e.kind), "%s", AUDIT_PLAYBACK);
    snprintf(e.camera, sizeof(e.camera), "%s", m->cams[tile->cam].name);
    e.from_us = tile->sess_from;
    e.to_us =
        tile->sess_to > tile->sess_from ? tile->sess_to : tile->sess_from + 1;
    snprintf(e.detail, sizeof(e.detail),
             "{\"ui\":\"tui\",\"mode\":\"%s\",\"frames_shown\":%lld}",
             tile->sess_live ? "live" : "playback",
             (long long)tile->sess_frames);
    tile->sess_frames = 0;
    if (tui_model_open_writer(m) < 0)
        return;
    r = audit_append(m->wcat, &e);
    if (r < 0)
        tui_model_message(m, "audit log: %s", nvr_strerror(r));
}

/* ---- tiles and the clock ------------------------------------------- */

static void tiles_free(struct tui_model *m)
{
    for (int i = 0; i < m->n_tiles; i++) {
        tui_model_session_end(m, &m->tiles[i]);
        playback_free(m->tiles[i].pb);
    }
    memset(m->tiles, 0, sizeof(m->tiles));
    m->n_tiles = 0;
}

/* The grid shows four cameras from the selected one on. */
void tui_model_tiles_setup(struct tui_model *m)
{
    int n = m->grid ? (m->n_cams < TUI_MAX_TILES ? m->n_cams : TUI_MAX_TILES)
                    : (m->n_cams > 0);

    tiles_free(m);
    for (int i = 0; i < n; i++) {
        struct tui_tile *tile = &m->tiles[i];

        tile->cam = (m->sel + i) % m->n_cams;
        tile->need_seek = 1;
        if (m->cams[tile->cam].id > 0 &&
            playback_new(m->cat, m->opts->storage_dir, m->cams[tile->cam].id,
                         &tile->pb) < 0)
            tile->pb = NULL;
    }
    m->n_tiles = n;
    m->video_gen++;
}

void tui_model_seek_all(struct tui_model *m)
{
    for (int i = 0; i < m->n_tiles; i++)
        m->tiles[i].need_seek = 1;
    m->video_gen++;
}

void tui_model_set_cursor(struct tui_model *m, int64_t us)
{
    int64_t old_day = nvr_time_local_day_start(m->cursor_us);

    m->cursor_us = us;
    m->play_mono_us = nvr_clock_mono_us();
    tui_model_seek_all(m);
    if (nvr_time_local_day_start(us) != old_day || us < m->spans_from ||
        us >= m->spans_to)
        tui_model_reload(m);
}

void tui_model_leave_live(struct tui_model *m)
{
    if (!m->live)
        return;
    m->live = 0;
    for (int i = 0; i < m->n_tiles; i++)
        tui_model_session_end(m, &m->tiles[i]);
}

/* Live: the newest frames, jumping ahead when far behind. */
static int update_live(struct tui_tile *tile)
{
    int r = 0;

    if (!tile->live_started) {
        r = playback_seek_live(tile->pb);
        tile->live_started = r == 0;
    } else {
        for (int i = 0; i < TUI_LIVE_MAX_STEPS; i++) {
            r = playback_step(tile->pb);
            if (r < 0)
                break;
        }
        if (r == 0)
            tile->live_started = 0; /* far behind: jump */
    }
    tile->no_footage = playback_frame_time(tile->pb) == 0;
    return r;
}

static void update_tile(struct tui_model *m, struct tui_tile *tile)
{
    int r = 0;

    if (!tile->pb) {
        if (m->cams[tile->cam].id > 0 &&
            playback_new(m->cat, m->opts->storage_dir, m->cams[tile->cam].id,
                         &tile->pb) < 0)
            return;
        if (!tile->pb)
            return;
        tile->need_seek = 1;
    }
    if (m->live) {
        r = update_live(tile);
    } else if (tile->need_seek) {
        r = playback_seek(tile->pb, m->cursor_us);
        tile->need_seek = 0;
        tile->no_footage = r < 0;
        tile->live_started = 0;
    } else if (m->playing) {
        r = playback_advance_to(tile->pb, m->cursor_us);
        if (r == -ENOENT || r == -EAGAIN)
            r = 0;
    }
    if (r < 0 && r != -ENOENT && r != -EAGAIN)
        tui_model_message(m, "%s: %s", m->cams[tile->cam].name,
                          nvr_strerror(r));
    if (playback_frame_time(tile->pb) != tile->frame_us) {
        tile->frame_us = playback_frame_time(tile->pb);
        m->video_gen++;
        session_note(m, tile);
    }
}

/* Moves the playback clock; skips gaps while playing. */
static void advance_clock(struct tui_model *m)
{
    int64_t now = nvr_clock_mono_us();
    int64_t dt = now - m->play_mono_us;

    m->play_mono_us = now;
    if (m->live) {
        int64_t ft = m->n_tiles && m->tiles[0].pb
                         ? playback_frame_time(m->tiles[0].pb)
                         : 0;

        m->cursor_us = ft > 0 ? ft : nvr_clock_wall_us();
        return;
    }
    if (!m->playing)
        return;
    m->cursor_us += dt * tui_speeds_q[m->speed_idx] / 4;
    if (m->cursor_us > nvr_clock_wall_us()) {
        m->cursor_us = nvr_clock_wall_us();
        m->playing = 0;
        tui_model_message(m, "reached now: press l for live view");
        return;
    }
    if (m->sel == m->spans_cam && tl_spans_find(&m->rec, m->cursor_us) < 0) {
        int64_t gs = 0, ge = 0;

        if (tl_spans_gap(&m->rec, m->cursor_us, -1, &gs, &ge) == 0 &&
            m->cursor_us >= gs && m->cursor_us < ge) {
            tui_model_message(m, "skipped a gap of %.0f s",
                              (double)(ge - gs) / 1e6);
            tui_model_set_cursor(m, ge);
        }
    }
    if (m->cursor_us < m->spans_from || m->cursor_us >= m->spans_to ||
        nvr_time_local_day_start(m->cursor_us) !=
            nvr_time_local_day_start(m->spans_from))
        tui_model_reload(m);
}

void tui_model_tick(struct tui_model *m)
{
    if (nvr_clock_mono_us() - m->refresh_mono_us > TUI_REFRESH_US)
        tui_model_reload(m);
    advance_clock(m);
    if (m->mode != TUI_MODE_HELP)
        for (int i = 0; i < m->n_tiles; i++)
            update_tile(m, &m->tiles[i]);
}

/* ---- life ------------------------------------------------------------ */

/* Where to start when not live: the newest footage, what the operator
 * most likely wants to look at. */
static void start_on_newest(struct tui_model *m)
{
    struct tl_spans s;

    if (m->live || m->n_cams == 0)
        return;
    if (m->rec.n > 0) {
        m->cursor_us = m->rec.v[m->rec.n - 1].to_us - 1000000;
        return;
    }
    if (m->cams[0].id <= 0)
        return;
    tl_spans_init(&s);
    if (tui_model_load_spans(m, m->cams[0].id, INT64_MIN, INT64_MAX, &s) == 0 &&
        s.n > 0)
        m->cursor_us = s.v[s.n - 1].to_us - 1000000;
    tl_spans_fini(&s);
}

int tui_model_init(struct tui_model *m, const struct tui_options *opts)
{
    int r;

    memset(m, 0, sizeof(*m));
    m->opts = opts;
    tl_spans_init(&m->rec);
    tl_spans_init(&m->held);
    m->speed_idx = 2;
    snprintf(m->catalog_path, sizeof(m->catalog_path), "%s/" CATALOG_FILE,
             opts->storage_dir);
    r = catalog_open(m->catalog_path, CATALOG_READONLY, &m->cat);
    if (r < 0)
        return r;
    for (int i = 0; i < opts->n_cameras && i < TUI_MAX_CAMERAS; i++) {
        snprintf(m->cams[i].name, sizeof(m->cams[i].name), "%s",
                 opts->cameras[i]);
        m->n_cams++;
    }
    m->cursor_us = nvr_clock_wall_us();
    m->live = opts->start_live;
    tui_model_reload(m);
    start_on_newest(m);
    tui_model_reload(m);
    tui_model_tiles_setup(m);
    m->play_mono_us = nvr_clock_mono_us();
    return 0;
}

void tui_model_fini(struct tui_model *m)
{
    /* Quitting cancels a running export: it leaves no clip behind. */
    if (m->export)
        tui_export_cancel(m->export);
    tui_export_finish(m->export, NULL);
    m->export = NULL;
    tiles_free(m);
    tl_spans_fini(&m->rec);
    tl_spans_fini(&m->held);
    catalog_close(m->wcat);
    catalog_close(m->cat);
    m->wcat = m->cat = NULL;
}
