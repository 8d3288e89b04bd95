/* SPDX-License-Identifier: MIT */
/*
 * The terminal UI's loop (see tui.h): terminal set-up and restore (also on
 * Ctrl-C, SIGTERM and crash signals), keys, the catalog refresh (camera
 * states, spans, holds about once a second, so new segments and states
 * appear without a restart), the playback clock and the tiles' engines.
 * Drawing is in tui_draw.c, holds/export/audit in tui_actions.c.
 */
#include "config.h"
#include "ui-tui/tui.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>

#include "nvr/base/clock.h"
#include "nvr/base/err.h"
#include "nvr/base/log.h"
#include "ui-tui/tui_int.h"

#define TUI_REFRESH_US     1000000LL
#define TUI_MSG_US         8000000LL
#define TUI_LIVE_MAX_STEPS 100
#define TUI_DAY_US         (86400LL * 1000000)
#define TUI_GAP_SEARCH_US  (31 * TUI_DAY_US)
#define TUI_LOG_LINES      32

const int tui_speeds_q[TUI_N_SPEEDS] = {1, 2, 4, 8, 16, 32, 64};
const int64_t tui_zooms_us[TUI_N_ZOOMS] = {
    TUI_DAY_US,   12 * 3600000000LL, 6 * 3600000000LL, 3 * 3600000000LL,
    3600000000LL, 1800000000LL,      600000000LL,      300000000LL,
    120000000LL,  60000000LL,
};

/* ---- log capture ---------------------------------------------------- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_ring[TUI_LOG_LINES][200];
static enum nvr_log_level log_levels[TUI_LOG_LINES];
static unsigned log_next;

static void log_sink(void *user, enum nvr_log_level level, const char *module,
                     const char *line)
{
    pthread_mutex_lock(&log_lock);
    snprintf(log_ring[log_next % TUI_LOG_LINES], sizeof(log_ring[0]), "%s: %s",
             module, line);
    log_levels[log_next % TUI_LOG_LINES] = level;
    log_next++;
    pthread_mutex_unlock(&log_lock);
}

void tui_log_capture_begin(void)
{
    nvr_log_set_sink(log_sink, NULL);
}

void tui_log_capture_end(void)
{
    unsigned first;

    nvr_log_set_sink(NULL, NULL);
    pthread_mutex_lock(&log_lock);
    first = log_next > TUI_LOG_LINES ? log_next - TUI_LOG_LINES : 0;
    for (unsigned i = first; i < log_next; i++)
        if (log_levels[i % TUI_LOG_LINES] <= NVR_LOG_WARN)
            fprintf(stderr, "nvr: %s\n", log_ring[i % TUI_LOG_LINES]);
    log_next = 0;
    pthread_mutex_unlock(&log_lock);
}

void tui__log_last(char *out, size_t size)
{
    pthread_mutex_lock(&log_lock);
    out[0] = '\0';
    /* The newest warning or error: info lines are not worth the room. */
    for (unsigned i = log_next; i-- > 0 && log_next - i <= TUI_LOG_LINES;) {
        if (log_levels[i % TUI_LOG_LINES] <= NVR_LOG_WARN) {
            snprintf(out, size, "%s", log_ring[i % TUI_LOG_LINES]);
            break;
        }
    }
    pthread_mutex_unlock(&log_lock);
}

/* ---- terminal and signals ------------------------------------------- */

static volatile sig_atomic_t tui_signalled;
static volatile sig_atomic_t tui_curses_on;

static void on_stop_signal(int sig)
{
    tui_signalled = sig;
}

static void on_crash_signal(int sig)
{
    /* endwin() is not async-signal-safe, but the process is dying anyway
     * and an operator's terminal left in raw mode is worse. */
    if (tui_curses_on)
        endwin();
    signal(sig, SIG_DFL);
    raise(sig);
}

struct saved_signals {
    struct sigaction act[6];
};

static const int stop_sigs[] = {SIGINT, SIGTERM, SIGHUP};
static const int crash_sigs[] = {SIGSEGV, SIGABRT, SIGBUS};

static void signals_install(struct saved_signals *s)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop_signal;
    for (int i = 0; i < 3; i++)
        sigaction(stop_sigs[i], &sa, &s->act[i]);
    sa.sa_handler = on_crash_signal;
    sa.sa_flags = SA_RESETHAND;
    for (int i = 0; i < 3; i++)
        sigaction(crash_sigs[i], &sa, &s->act[3 + i]);
}

static void signals_restore(const struct saved_signals *s)
{
    for (int i = 0; i < 3; i++)
        sigaction(stop_sigs[i], &s->act[i], NULL);
    for (int i = 0; i < 3; i++)
        sigaction(crash_sigs[i], &s->act[3 + i], NULL);
}

/* ---- time helpers --------------------------------------------------- */

/* The formats are the caller's literals; strftime cannot check them here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
char *tui__fmt_local(int64_t us, const char *strf, char *out, size_t size)
{
    time_t s = (time_t)(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
    struct tm tm;

    if (!localtime_r(&s, &tm) || strftime(out, size, strf, &tm) == 0)
        snprintf(out, size, "?");
    return out;
}
#pragma GCC diagnostic pop

int64_t tui__day_start(int64_t t_us)
{
    time_t s = (time_t)(t_us / 1000000);
    struct tm tm;

    localtime_r(&s, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm) * 1000000;
}

int64_t tui__day_shift(int64_t day_start_us, int days)
{
    time_t s = (time_t)(day_start_us / 1000000);
    struct tm tm;

    /* Through mktime so that 23 and 25 hour days (GMT/BST) come out at
     * midnight. */
    localtime_r(&s, &tm);
    tm.tm_mday += days;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm) * 1000000;
}

/* "HH:MM[:SS]" on the day of ref, "YYYY-MM-DD", or "YYYY-MM-DD[ T]HH:MM[:SS]",
 * all local time. */
int tui__parse_time(const char *s, int64_t ref_us, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    time_t ref = (time_t)(ref_us / 1000000), r;
    struct tm tm;
    char sep;

    while (*s == ' ')
        s++;
    localtime_r(&ref, &tm);
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3) {
        s += n;
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        if (*s == '\0') {
            h = mi = sec = 0;
            goto done;
        }
        if (*s != ' ' && *s != 'T')
            return -EINVAL;
        s++;
    }
    n = 0;
    if (sscanf(s, "%2d:%2d%n", &h, &mi, &n) != 2)
        return -EINVAL;
    s += n;
    if (sscanf(s, "%c%2d%n", &sep, &sec, &n) == 2 && sep == ':')
        s += n;
    else
        sec = 0;
    while (*s == ' ')
        s++;
    if (*s)
        return -EINVAL;
done:
    if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
        return -EINVAL;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    tm.tm_isdst = -1;
    r = mktime(&tm);
    if (r == (time_t)-1)
        return -EINVAL;
    *out = (int64_t)r * 1000000;
    return 0;
}

/* ---- model ---------------------------------------------------------- */

void tui__message(struct tui *t, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
    va_end(ap);
    t->msg_mono_us = nvr_clock_mono_us();
}

const char *tui__cam_state(const struct tui *t, const struct tui_cam *c,
                           int64_t now_us)
{
    if (!c->has_st)
        return "no data";
    if (now_us - c->st.updated_us > TUI_STATUS_STALE_US)
        return "stopped";
    return c->st.state;
}

void tui__window(const struct tui *t, int64_t *from, int64_t *to)
{
    int64_t span = tui_zooms_us[t->zoom_idx];

    if (t->zoom_idx == 0) {
        *from = tui__day_start(t->cursor_us);
        *to = tui__day_shift(*from, 1);
        return;
    }
    /* Zoomed: a window of the same span that pages with the cursor, so the
     * scale does not slide under the operator's eyes every frame. */
    *from = tui__day_start(t->cursor_us) +
            (t->cursor_us - tui__day_start(t->cursor_us)) / span * span;
    if (t->cursor_us - *from < span / 8 && t->cursor_us > span)
        *from -= span / 2;
    else if (*from + span - t->cursor_us < span / 8)
        *from += span / 2;
    *to = *from + span;
}

static int cam_cb(void *user, int64_t id, const char *name)
{
    struct tui *t = user;

    for (int i = 0; i < t->n_cams; i++)
        if (strcmp(t->cams[i].name, name) == 0)
            return 0;
    if (t->n_cams == TUI_MAX_CAMERAS)
        return 1;
    snprintf(t->cams[t->n_cams].name, sizeof(t->cams[0].name), "%s", name);
    t->cams[t->n_cams].id = id;
    t->n_cams++;
    return 0;
}

static int status_cb(void *user, const struct catalog_status *st)
{
    struct tui *t = user;

    for (int i = 0; i < t->n_cams; i++) {
        if (strcmp(t->cams[i].name, st->name) == 0) {
            t->cams[i].st = *st;
            t->cams[i].has_st = 1;
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

/* The recorded spans of a camera overlapping [from, to): its recording
 * runs, one row per stretch of footage however many segments it holds. */
static int load_spans(struct tui *t, int64_t cam_id, int64_t from, int64_t to,
                      struct tl_spans *out)
{
    struct spans_ctx c = {.s = out};
    int r;

    tl_spans_clear(out);
    if (cam_id <= 0)
        return 0;
    r = catalog_run_list(t->cat, cam_id, from, to, spans_cb, &c);
    return r < 0 ? r : c.err;
}

/* Camera ids, states, the selected camera's spans and holds. */
static void reload(struct tui *t)
{
    int64_t from, to;
    const struct tui_cam *c;

    int r = 0;

    /* A camera the recorder has not registered yet (-ENOENT) keeps id 0
     * and is looked up again next time. */
    for (int i = 0; i < t->n_cams; i++)
        if (t->cams[i].id <= 0 &&
            catalog_camera_find(t->cat, t->cams[i].name, &t->cams[i].id) < 0)
            t->cams[i].id = 0;
    if (t->opts->n_cameras == 0)
        r = catalog_camera_list(t->cat, cam_cb, t);
    for (int i = 0; i < t->n_cams; i++)
        t->cams[i].has_st = 0;
    if (r == 0)
        r = catalog_status_list(t->cat, status_cb, t);
    if (r < 0)
        tui__message(t, "cannot read the catalog: %s", nvr_strerror(r));
    if (t->n_cams == 0)
        return;
    c = &t->cams[t->sel];
    tui__window(t, &from, &to);
    {
        int64_t ds = tui__day_start(t->cursor_us);
        int64_t de = tui__day_shift(ds, 1);

        t->spans_from = from < ds ? from : ds;
        t->spans_to = to > de ? to : de;
    }
    if (load_spans(t, c->id, t->spans_from, t->spans_to, &t->rec) < 0)
        tui__message(t, "cannot read the catalog");
    (void)tui__load_holds(t, c->name, t->spans_from, t->spans_to);
    t->spans_cam = t->sel;
    t->refresh_mono_us = nvr_clock_mono_us();
}

static void tiles_free(struct tui *t)
{
    for (int i = 0; i < t->n_tiles; i++) {
        tui__session_end(t, &t->tiles[i]);
        playback_free(t->tiles[i].pb);
    }
    memset(t->tiles, 0, sizeof(t->tiles));
    t->n_tiles = 0;
}

/* One tile for the selected camera, or four (from the selected one on)
 * in the grid. */
static void tiles_setup(struct tui *t)
{
    int n = t->grid ? (t->n_cams < TUI_MAX_TILES ? t->n_cams : TUI_MAX_TILES)
                    : (t->n_cams > 0);

    tiles_free(t);
    for (int i = 0; i < n; i++) {
        struct tui_tile *tile = &t->tiles[i];

        tile->cam = (t->sel + i) % t->n_cams;
        tile->need_seek = 1;
        if (t->cams[tile->cam].id > 0 &&
            playback_new(t->cat, t->opts->storage_dir, t->cams[tile->cam].id,
                         &tile->pb) < 0)
            tile->pb = NULL;
    }
    t->n_tiles = n;
    t->video_dirty = 1;
}

static void seek_all(struct tui *t)
{
    for (int i = 0; i < t->n_tiles; i++)
        t->tiles[i].need_seek = 1;
    t->video_dirty = 1;
}

static void set_cursor(struct tui *t, int64_t us)
{
    int64_t old_day = tui__day_start(t->cursor_us);

    t->cursor_us = us;
    t->play_mono_us = nvr_clock_mono_us();
    seek_all(t);
    if (tui__day_start(us) != old_day || us < t->spans_from ||
        us >= t->spans_to)
        reload(t);
}

static void leave_live(struct tui *t)
{
    if (!t->live)
        return;
    t->live = 0;
    for (int i = 0; i < t->n_tiles; i++)
        tui__session_end(t, &t->tiles[i]);
}

static void update_tile(struct tui *t, struct tui_tile *tile)
{
    int r = 0;

    if (!tile->pb) {
        if (t->cams[tile->cam].id > 0 &&
            playback_new(t->cat, t->opts->storage_dir, t->cams[tile->cam].id,
                         &tile->pb) < 0)
            return;
        if (!tile->pb)
            return;
        tile->need_seek = 1;
    }
    if (t->live) {
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
    } else if (tile->need_seek) {
        r = playback_seek(tile->pb, t->cursor_us);
        tile->need_seek = 0;
        tile->no_footage = r < 0;
        tile->live_started = 0;
    } else if (t->playing) {
        r = playback_advance_to(tile->pb, t->cursor_us);
        if (r == -ENOENT || r == -EAGAIN)
            r = 0;
    }
    if (r < 0 && r != -ENOENT && r != -EAGAIN)
        tui__message(t, "%s: %s", t->cams[tile->cam].name, nvr_strerror(r));
    if (playback_frame_time(tile->pb) != tile->shown_us) {
        t->video_dirty = 1;
        tui__session_note(t, tile);
    }
}

/* Moves the playback clock; skips gaps while playing. */
static void advance_clock(struct tui *t)
{
    int64_t now = nvr_clock_mono_us();
    int64_t dt = now - t->play_mono_us;

    t->play_mono_us = now;
    if (t->live) {
        int64_t ft = t->n_tiles && t->tiles[0].pb
                         ? playback_frame_time(t->tiles[0].pb)
                         : 0;

        t->cursor_us = ft > 0 ? ft : nvr_clock_wall_us();
        return;
    }
    if (!t->playing)
        return;
    t->cursor_us += dt * tui_speeds_q[t->speed_idx] / 4;
    if (t->cursor_us > nvr_clock_wall_us()) {
        t->cursor_us = nvr_clock_wall_us();
        t->playing = 0;
        tui__message(t, "reached now: press l for live view");
        return;
    }
    if (t->sel == t->spans_cam && tl_spans_find(&t->rec, t->cursor_us) < 0) {
        int64_t gs = 0, ge = 0;

        if (tl_spans_gap(&t->rec, t->cursor_us, -1, &gs, &ge) == 0 &&
            t->cursor_us >= gs && t->cursor_us < ge) {
            tui__message(t, "skipped a gap of %.0f s", (double)(ge - gs) / 1e6);
            set_cursor(t, ge);
        }
    }
    if (t->cursor_us < t->spans_from || t->cursor_us >= t->spans_to ||
        tui__day_start(t->cursor_us) != tui__day_start(t->spans_from))
        reload(t);
}

/* n / p: the next or previous gap of the selected camera. */
static void jump_gap(struct tui *t, int dir)
{
    struct tl_spans s;
    int64_t gs = 0, ge = 0, from, to;
    int r;

    if (t->n_cams == 0)
        return;
    tl_spans_init(&s);
    from = dir > 0 ? t->cursor_us - 1 : t->cursor_us - TUI_GAP_SEARCH_US;
    to = dir > 0 ? t->cursor_us + TUI_GAP_SEARCH_US : t->cursor_us + 1;
    r = load_spans(t, t->cams[t->sel].id, from, to, &s);
    if (r == 0)
        r = tl_spans_gap(&s, t->cursor_us, dir, &gs, &ge);
    tl_spans_fini(&s);
    if (r < 0) {
        tui__message(t, "no %s gap", dir > 0 ? "later" : "earlier");
        return;
    }
    leave_live(t);
    set_cursor(t, gs);
    tui__message(t, "gap of %.1f s", (double)(ge - gs) / 1e6);
}

static void start_prompt(struct tui *t, enum tui_prompt p)
{
    t->mode = TUI_MODE_PROMPT;
    t->prompt = p;
    t->input[0] = '\0';
    t->input_len = 0;
}

static void prompt_done(struct tui *t)
{
    int64_t us;

    t->mode = TUI_MODE_NORMAL;
    switch (t->prompt) {
    case TUI_PROMPT_GOTO:
        if (tui__parse_time(t->input, t->cursor_us, &us) != 0) {
            tui__message(t,
                         "not a time: '%s' (HH:MM[:SS] or "
                         "YYYY-MM-DD HH:MM[:SS])",
                         t->input);
            return;
        }
        leave_live(t);
        set_cursor(t, us);
        break;
    case TUI_PROMPT_EXPORT:
        tui__export(t, t->input);
        break;
    case TUI_PROMPT_HOLD:
        tui__hold(t, t->input);
        break;
    }
}

static void prompt_key(struct tui *t, int ch)
{
    if (ch == 27) {
        t->mode = TUI_MODE_NORMAL;
        tui__message(t, "cancelled");
    } else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        prompt_done(t);
    } else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
        if (t->input_len > 0)
            t->input[--t->input_len] = '\0';
    } else if (ch >= 32 && ch < 127 && t->input_len + 1 < sizeof(t->input)) {
        t->input[t->input_len++] = (char)ch;
        t->input[t->input_len] = '\0';
    }
}

static void step_frame(struct tui *t, int dir)
{
    struct tui_tile *tile = t->n_tiles ? &t->tiles[0] : NULL;
    int64_t ft;

    leave_live(t);
    t->playing = 0;
    if (!tile || !tile->pb)
        return;
    ft = playback_frame_time(tile->pb);
    if (dir > 0 && ft > 0 && !tile->need_seek) {
        if (playback_step(tile->pb) == 0)
            t->cursor_us = playback_frame_time(tile->pb);
        for (int i = 1; i < t->n_tiles; i++)
            t->tiles[i].need_seek = 1;
        t->video_dirty = 1;
        return;
    }
    set_cursor(t, (ft > 0 ? ft : t->cursor_us) -
                      (dir < 0 ? playback_frame_interval(tile->pb) : 0));
}

static void select_cam(struct tui *t, int idx)
{
    if (t->n_cams == 0)
        return;
    t->sel = (idx + t->n_cams) % t->n_cams;
    tiles_setup(t);
    reload(t);
}

static void need_marks(struct tui *t, enum tui_prompt p)
{
    if (!t->mark_in || !t->mark_out || t->mark_out <= t->mark_in) {
        tui__message(t, "set in (i) and out (o) marks first");
        return;
    }
    start_prompt(t, p);
}

static void key(struct tui *t, int ch)
{
    int64_t ds;

    if (t->mode == TUI_MODE_PROMPT) {
        prompt_key(t, ch);
        return;
    }
    if (t->mode == TUI_MODE_HELP) {
        if (ch == 'q' || ch == '?' || ch == 27 || ch == '\n' || ch == ' ') {
            t->mode = TUI_MODE_NORMAL;
            t->video_dirty = 1;
            clearok(curscr, TRUE);
        }
        return;
    }
    switch (ch) {
    case 'q':
        t->quit = 1;
        break;
    case '?':
        t->mode = TUI_MODE_HELP;
        render_forget(t->render);
        break;
    case ' ':
        if (t->live) {
            leave_live(t);
            t->playing = 0;
        } else {
            t->playing = !t->playing;
        }
        t->play_mono_us = nvr_clock_mono_us();
        break;
    case KEY_LEFT:
    case KEY_RIGHT:
        leave_live(t);
        set_cursor(t, t->cursor_us + (ch == KEY_LEFT ? -10 : 10) * 1000000LL);
        break;
    case '<':
    case '>':
    case KEY_SLEFT:
    case KEY_SRIGHT:
        leave_live(t);
        set_cursor(t,
                   t->cursor_us +
                       ((ch == '<' || ch == KEY_SLEFT) ? -60 : 60) * 1000000LL);
        break;
    case KEY_PPAGE:
    case KEY_NPAGE:
        leave_live(t);
        set_cursor(t,
                   t->cursor_us + (ch == KEY_PPAGE ? -3600 : 3600) * 1000000LL);
        break;
    case '[':
    case ']':
        leave_live(t);
        ds = tui__day_start(t->cursor_us);
        set_cursor(t, tui__day_shift(ds, ch == '[' ? -1 : 1) +
                          (t->cursor_us - ds));
        break;
    case ',':
    case '.':
        step_frame(t, ch == '.' ? 1 : -1);
        break;
    case '-':
    case '+':
    case '=':
        if (ch == '-' && t->speed_idx > 0)
            t->speed_idx--;
        else if (ch != '-' && t->speed_idx < TUI_N_SPEEDS - 1)
            t->speed_idx++;
        break;
    case 'n':
    case 'p':
    case 'N':
        jump_gap(t, ch == 'n' ? 1 : -1);
        break;
    case 'g':
    case 't':
        start_prompt(t, TUI_PROMPT_GOTO);
        break;
    case 'z':
    case 'Z':
        if (ch == 'z' && t->zoom_idx < TUI_N_ZOOMS - 1)
            t->zoom_idx++;
        else if (ch == 'Z' && t->zoom_idx > 0)
            t->zoom_idx--;
        reload(t);
        break;
    case KEY_UP:
    case 'k':
        select_cam(t, t->sel - 1);
        break;
    case KEY_DOWN:
    case 'j':
    case '\t':
        select_cam(t, t->sel + 1);
        break;
    case 'l':
        if (t->live) {
            leave_live(t);
        } else {
            for (int i = 0; i < t->n_tiles; i++) {
                tui__session_end(t, &t->tiles[i]);
                t->tiles[i].live_started = 0;
            }
            t->live = 1;
            t->playing = 0;
        }
        seek_all(t);
        break;
    case 'm':
        t->grid = !t->grid;
        tiles_setup(t);
        break;
    case 'i':
        t->mark_in = t->cursor_us;
        tui__message(t, "in mark set");
        break;
    case 'o':
        t->mark_out = t->cursor_us;
        tui__message(t, "out mark set");
        break;
    case 'c':
        t->mark_in = t->mark_out = 0;
        tui__message(t, "marks cleared");
        break;
    case 'e':
        need_marks(t, TUI_PROMPT_EXPORT);
        break;
    case 'h':
        need_marks(t, TUI_PROMPT_HOLD);
        break;
    case 12: /* Ctrl-L */
    case KEY_RESIZE:
        render_forget(t->render);
        clearok(curscr, TRUE);
        t->video_dirty = 1;
        break;
    default:
        break;
    }
}

static int tui_init(struct tui *t, const struct tui_options *opts)
{
    int r;

    memset(t, 0, sizeof(*t));
    t->opts = opts;
    tl_spans_init(&t->rec);
    tl_spans_init(&t->held);
    t->speed_idx = 2;
    snprintf(t->catalog_path, sizeof(t->catalog_path), "%s/catalog.db",
             opts->storage_dir);
    r = catalog_open(t->catalog_path, CATALOG_READONLY, &t->cat);
    if (r < 0)
        return r;
    for (int i = 0; i < opts->n_cameras && i < TUI_MAX_CAMERAS; i++) {
        snprintf(t->cams[i].name, sizeof(t->cams[i].name), "%s",
                 opts->cameras[i]);
        t->n_cams++;
    }
    t->cursor_us = nvr_clock_wall_us();
    t->live = opts->start_live;
    reload(t);
    /* Start on the newest footage when not live: what the operator most
     * likely wants to look at. */
    if (!t->live && t->n_cams > 0 && t->rec.n > 0)
        t->cursor_us = t->rec.v[t->rec.n - 1].to_us - 1000000;
    else if (!t->live && t->n_cams > 0 && t->cams[0].id > 0) {
        struct tl_spans s;

        tl_spans_init(&s);
        if (load_spans(t, t->cams[0].id, INT64_MIN, INT64_MAX, &s) == 0 &&
            s.n > 0)
            t->cursor_us = s.v[s.n - 1].to_us - 1000000;
        tl_spans_fini(&s);
    }
    reload(t);
    tiles_setup(t);
    return 0;
}

static void tui_fini(struct tui *t)
{
    tiles_free(t);
    tl_spans_fini(&t->rec);
    tl_spans_fini(&t->held);
    render_free(t->render);
    catalog_close(t->wcat);
    catalog_close(t->cat);
}

static void curses_start(struct tui *t)
{
    initscr();
    tui_curses_on = 1;
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    if (has_colors()) {
        start_color();
        use_default_colors();
    }
    leaveok(stdscr, TRUE);
}

int tui_run(const struct tui_options *opts)
{
    struct saved_signals saved;
    struct tui t;
    const char *cs;
    int r;

    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
        return -ENOTTY;
    setlocale(LC_ALL, "");
    cs = nl_langinfo(CODESET);
    r = tui_init(&t, opts);
    if (r < 0) {
        tui_fini(&t);
        return r;
    }
    t.utf8 = cs && strcmp(cs, "UTF-8") == 0;
    tui_signalled = 0;
    signals_install(&saved);
    curses_start(&t);
    r = render_new(opts->graphics, t.utf8, &t.render);
    if (r < 0)
        goto out;
    t.play_mono_us = nvr_clock_mono_us();
    while (!t.quit && !tui_signalled && !(opts->stop && *opts->stop)) {
        int ch;

        if (nvr_clock_mono_us() - t.refresh_mono_us > TUI_REFRESH_US)
            reload(&t);
        advance_clock(&t);
        if (t.mode != TUI_MODE_HELP)
            for (int i = 0; i < t.n_tiles; i++)
                update_tile(&t, &t.tiles[i]);
        tui__draw(&t);
        timeout(t.playing || t.live ? 10 : 100);
        ch = getch();
        while (ch != ERR) {
            key(&t, ch);
            if (t.quit)
                break;
            timeout(0);
            ch = getch();
        }
    }
    r = 0;
out:
    endwin();
    tui_curses_on = 0;
    signals_restore(&saved);
    tui_fini(&t);
    return r;
}
