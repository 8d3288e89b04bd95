/* SPDX-License-Identifier: MIT */
/*
 * State shared by the files of the terminal UI: tui.c (loop, keys, model),
 * tui_draw.c (drawing) and tui_actions.c (holds, export, audit).
 */
#ifndef NVR_UI_TUI_TUI_INT_H
#define NVR_UI_TUI_TUI_INT_H

#include <stdint.h>

#include "nvr/base/compiler.h"
#include "storage/catalog.h"
#include "ui-tui/playback.h"
#include "ui-tui/render.h"
#include "ui-tui/timeline.h"
#include "ui-tui/tui.h"

#define TUI_MAX_CAMERAS 64
#define TUI_MAX_TILES   4
#define TUI_MIN_COLS    80
#define TUI_MIN_ROWS    24
/* A status row older than this means the recorder is not running. */
#define TUI_STATUS_STALE_US (10 * 1000000LL)
#define TUI_N_SPEEDS        7
#define TUI_N_ZOOMS         10

enum tui_mode {
    TUI_MODE_NORMAL,
    TUI_MODE_HELP,
    TUI_MODE_PROMPT,
};

enum tui_prompt {
    TUI_PROMPT_GOTO,
    TUI_PROMPT_EXPORT,
    TUI_PROMPT_HOLD,
};

struct tui_cam {
    char name[64];
    int64_t id; /* catalog id; 0 while the catalog does not know it */
    struct catalog_status st;
    int has_st;
};

struct tui_tile {
    int cam; /* index into cams */
    struct playback *pb;
    int64_t shown_us; /* frame time drawn last; 0: none */
    int need_seek;    /* the cursor jumped */
    int live_started; /* live: caught up with the newest segment */
    int no_footage;   /* the last seek found nothing */
    /* The playback session, written to the audit log when it ends. */
    int64_t sess_from, sess_to, sess_frames;
    int sess_live;
};

/* Where things are on screen, computed from LINES and COLS. */
struct tui_layout {
    int rows, cols;
    int too_small;
    int list_w; /* camera list width */
    int video_y, video_x, video_h, video_w;
    int tl_y; /* header, scale, bar, cursor rows */
    int status_y, keys_y;
};

struct tui {
    const struct tui_options *opts;
    struct catalog *cat;  /* read-only connection */
    struct catalog *wcat; /* read-write, opened for holds/export/audit */
    char catalog_path[1100];
    int utf8;

    struct tui_cam cams[TUI_MAX_CAMERAS];
    int n_cams, sel;

    int64_t cursor_us; /* the time shown, UTC us */
    int playing, live, grid;
    int speed_idx, zoom_idx;
    int64_t mark_in, mark_out; /* 0: unset */
    int64_t play_mono_us;      /* monotonic time of the last advance */

    struct tui_tile tiles[TUI_MAX_TILES];
    int n_tiles;
    int video_dirty; /* the video pane must be drawn again */

    struct tl_spans rec, held; /* selected camera, around the window */
    int64_t spans_from, spans_to;
    int spans_cam;

    struct render *render;
    struct tui_layout lay;

    enum tui_mode mode;
    enum tui_prompt prompt;
    char input[128];
    size_t input_len;
    char msg[256];
    int64_t msg_mono_us;
    int64_t refresh_mono_us;
    int quit;
};

extern const int tui_speeds_q[TUI_N_SPEEDS];    /* speed x4 */
extern const int64_t tui_zooms_us[TUI_N_ZOOMS]; /* timeline window */

/* tui.c */
void tui__message(struct tui *t, const char *fmt, ...) NVR_PRINTF(2, 3);
void tui__window(const struct tui *t, int64_t *from, int64_t *to);
int tui__parse_time(const char *s, int64_t ref_us, int64_t *out);
const char *tui__cam_state(const struct tui *t, const struct tui_cam *c,
                           int64_t now_us);
void tui__log_last(char *out, size_t size);

/* tui_draw.c */
void tui__layout(struct tui *t);
void tui__draw(struct tui *t);
void tui__draw_video(struct tui *t);

/* tui_actions.c */
int tui__open_writer(struct tui *t);
void tui__session_note(struct tui *t, struct tui_tile *tile);
void tui__session_end(struct tui *t, struct tui_tile *tile);
void tui__export(struct tui *t, const char *reason);
void tui__hold(struct tui *t, const char *reason);
int tui__load_holds(struct tui *t, const char *camera, int64_t from,
                    int64_t to);

#endif
