/* SPDX-License-Identifier: MIT */
/*
 * The terminal UI's model: the cameras and their states, the selection,
 * the cursor and the timeline window, playback and live view, the tiles
 * (one playback engine each), marks, the mode (normal, help, a prompt)
 * and the message line. It reads the catalog on the UI's read-only
 * connection and appends playback sessions to the audit log on its
 * read-write one. It never draws: tui_draw.c reads it, tui_actions.c
 * changes it.
 *
 * UI thread only.
 */
#ifndef NVR_UI_TUI_TUI_MODEL_H
#define NVR_UI_TUI_TUI_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "nvr/base/compiler.h"
#include "storage/catalog.h"
#include "ui-tui/playback.h"
#include "ui-tui/timeline.h"
#include "ui-tui/tui.h"

#define TUI_MAX_CAMERAS 64
#define TUI_MAX_TILES   4
/* A status row older than this means the recorder is not running. */
#define TUI_STATUS_STALE_US (10 * 1000000LL)
#define TUI_N_SPEEDS        7
#define TUI_N_ZOOMS         10
/* How long a camera whose refused count grew looks different ("LOSS")
 * after it last grew. */
#define TUI_LOSS_US 30000000LL
/* How long a message stays on the key line. */
#define TUI_MSG_US 8000000LL

enum tui_mode {
    TUI_MODE_NORMAL,
    TUI_MODE_HELP,
    TUI_MODE_PROMPT,
    TUI_N_MODES,
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
    uint64_t refused_seen;   /* units refused (st.refused) at the last read */
    int64_t refused_mono_us; /* monotonic time that count last grew; 0:
                                never seen growing */
};

struct tui_tile {
    int cam; /* index into cams */
    struct playback *pb;
    int64_t frame_us; /* the engine's frame time at the last update */
    int need_seek;    /* the cursor jumped */
    int live_started; /* live: caught up with the newest segment */
    int no_footage;   /* the last seek found nothing */
    /* The playback session, written to the audit log when it ends. */
    int64_t sess_from, sess_to, sess_frames;
    int sess_live;
};

struct tui_export;

struct tui_model {
    const struct tui_options *opts;
    struct catalog *cat;  /* read-only connection */
    struct catalog *wcat; /* read-write, opened for holds and audit */
    char catalog_path[1100];

    struct tui_cam cams[TUI_MAX_CAMERAS];
    int n_cams, sel;

    int64_t cursor_us; /* the time shown, UTC us */
    int playing, live, grid;
    int speed_idx, zoom_idx;
    int64_t mark_in, mark_out; /* 0: unset */
    int64_t play_mono_us;      /* monotonic time of the last advance */

    struct tui_tile tiles[TUI_MAX_TILES];
    int n_tiles;
    /* Bumped when the video pane must be drawn again (a new frame, a new
     * layout of tiles), and when the whole screen must be (Ctrl-L). */
    unsigned video_gen, screen_gen;

    struct tl_spans rec, held; /* selected camera, around the window */
    int64_t spans_from, spans_to;
    int spans_cam;

    enum tui_mode mode;
    enum tui_prompt prompt;
    char input[128];
    size_t input_len;
    char msg[256];
    int64_t msg_mono_us;
    int64_t refresh_mono_us;
    int quit;

    struct tui_export *export; /* the running export, owned; NULL: none */
};

extern const int tui_speeds_q[TUI_N_SPEEDS];    /* speed x4 */
extern const int64_t tui_zooms_us[TUI_N_ZOOMS]; /* timeline window */

/*
 * Opens the catalog read-only and fills the model (cameras, states, the
 * cursor on the newest footage, the tiles). opts is borrowed for the
 * model's life. Returns 0 or a catalog error; call tui_model_fini() in
 * both cases.
 */
NVR_NODISCARD int tui_model_init(struct tui_model *m,
                                 const struct tui_options *opts);
void tui_model_fini(struct tui_model *m);

/* Once per pass of the UI loop: the catalog refresh (about once a second),
 * the playback clock and every tile's engine. */
void tui_model_tick(struct tui_model *m);

/* Reads camera ids, states, the selected camera's spans and holds. */
void tui_model_reload(struct tui_model *m);

/* The message line's text, shown for TUI_MSG_US. */
void tui_model_message(struct tui_model *m, const char *fmt, ...)
    NVR_PRINTF(2, 3);

/* The timeline window [from, to) around the cursor at the current zoom. */
void tui_model_window(const struct tui_model *m, int64_t *from, int64_t *to);

/* "recording", ..., "stopped" (status too old) or "no data". */
const char *tui_model_cam_state(const struct tui_cam *c, int64_t now_us);

/* Whether the camera, recording at wall time now_us, refused units in the
 * last TUI_LOSS_US (monotonic now_mono_us): it is losing footage. */
int tui_model_cam_losing(const struct tui_cam *c, int64_t now_us,
                         int64_t now_mono_us);

/* "HH:MM[:SS]" (an offset such as "+01:00" may follow) on the local day
 * of ref_us, or a date or date and time as nvr_time_parse() reads them;
 * local time. Returns 0, or -EINVAL (not a time) or -EDOM (a local time
 * the clocks skip or repeat: both offsets are named) with why saying what
 * is wrong. */
NVR_NODISCARD int tui_model_parse_time(const char *s, int64_t ref_us,
                                       int64_t *out, char *why,
                                       size_t why_size);

/* The recorded spans of a camera overlapping [from, to). Returns 0 or a
 * catalog error. */
NVR_NODISCARD int tui_model_load_spans(const struct tui_model *m,
                                       int64_t cam_id, int64_t from, int64_t to,
                                       struct tl_spans *out);

/* Moves the cursor: every tile seeks, the spans follow. */
void tui_model_set_cursor(struct tui_model *m, int64_t us);
/* Ends live view (its sessions go to the audit log); nothing if not live. */
void tui_model_leave_live(struct tui_model *m);
/* Every tile seeks to the cursor again. */
void tui_model_seek_all(struct tui_model *m);
/* One tile for the selected camera, or up to four in the grid. */
void tui_model_tiles_setup(struct tui_model *m);

/* The read-write catalog connection, opened when first needed. Returns 0
 * or a catalog error (also put on the message line). */
NVR_NODISCARD int tui_model_open_writer(struct tui_model *m);
/* Writes the tile's playback session to the audit log, if it showed
 * anything, and starts a new one. */
void tui_model_session_end(struct tui_model *m, struct tui_tile *tile);

#endif
