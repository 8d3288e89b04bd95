/* SPDX-License-Identifier: MIT */
/*
 * What the operator's keys do to the model: one function per action,
 * called from the key tables (tui_keys.c) with the key pressed and the
 * binding's argument. Actions change the model only; they never draw.
 * Holds and exports go through storage's own functions, and each ends
 * with a confirmation on the message line naming what was done.
 *
 * UI thread only.
 */
#ifndef NVR_UI_TUI_TUI_ACTIONS_H
#define NVR_UI_TUI_TUI_ACTIONS_H

#include "ui-tui/tui_model.h"

/* An action: key is the key pressed, arg the binding's argument (a
 * direction or an amount, as each action says). */
typedef void (*tui_action_cb)(struct tui_model *m, int key, int arg);

void tui_actions_quit(struct tui_model *m, int key, int arg);
void tui_actions_help_open(struct tui_model *m, int key, int arg);
void tui_actions_help_close(struct tui_model *m, int key, int arg);
void tui_actions_redraw(struct tui_model *m, int key, int arg);

/* Playback. seek: arg seconds; day, frame, speed, gap, zoom, camera:
 * arg is +1 or -1 (zoom: +1 zooms in). */
void tui_actions_play(struct tui_model *m, int key, int arg);
void tui_actions_seek(struct tui_model *m, int key, int arg);
void tui_actions_day(struct tui_model *m, int key, int arg);
void tui_actions_frame(struct tui_model *m, int key, int arg);
void tui_actions_speed(struct tui_model *m, int key, int arg);
void tui_actions_gap(struct tui_model *m, int key, int arg);
void tui_actions_zoom(struct tui_model *m, int key, int arg);
void tui_actions_camera(struct tui_model *m, int key, int arg);
void tui_actions_live(struct tui_model *m, int key, int arg);
void tui_actions_grid(struct tui_model *m, int key, int arg);

/* Marks, and the prompts that act on the marked range. */
void tui_actions_mark_in(struct tui_model *m, int key, int arg);
void tui_actions_mark_out(struct tui_model *m, int key, int arg);
void tui_actions_mark_clear(struct tui_model *m, int key, int arg);
void tui_actions_goto(struct tui_model *m, int key, int arg);
void tui_actions_export(struct tui_model *m, int key, int arg);
void tui_actions_hold(struct tui_model *m, int key, int arg);
/* Asks the running export to stop; nothing when none runs. */
void tui_actions_export_cancel(struct tui_model *m, int key, int arg);
/* Once per pass of the UI loop: a finished export's outcome goes to the
 * message line. */
void tui_actions_export_poll(struct tui_model *m);

/* In a prompt: key types itself, erase, confirm, cancel. */
void tui_actions_prompt_type(struct tui_model *m, int key, int arg);
void tui_actions_prompt_erase(struct tui_model *m, int key, int arg);
void tui_actions_prompt_done(struct tui_model *m, int key, int arg);
void tui_actions_prompt_cancel(struct tui_model *m, int key, int arg);

#endif
