/* SPDX-License-Identifier: MIT */
/*
 * The key tables of the terminal UI, after tmux's: one table per mode
 * (normal, help screen, prompt) maps a key to an action with a short
 * description, and the help screen is generated from the same tables, so
 * it always says what the keys do.
 *
 * UI thread only.
 */
#ifndef NVR_UI_TUI_TUI_KEYS_H
#define NVR_UI_TUI_TUI_KEYS_H

#include <stddef.h>

#include "ui-tui/tui_actions.h"
#include "ui-tui/tui_model.h"

struct tui_key_binding {
    int key;              /* a character or a curses KEY_* code */
    const char *name;     /* how the help names the key */
    tui_action_cb action; /* never NULL */
    int arg;              /* passed to action */
    const char *help;     /* what it does; neighbours with the same text
                             share one help line */
};

struct tui_key_table {
    const char *name; /* "normal", "help", "prompt" */
    const struct tui_key_binding *bindings;
    size_t n;
    tui_action_cb other;    /* for a key not in the table; NULL: ignored */
    const char *other_help; /* what other does; NULL when other is */
};

/* The table of a mode; borrowed, static. */
const struct tui_key_table *tui_keys_table(enum tui_mode mode);

/* The binding of key in t, or NULL. */
const struct tui_key_binding *tui_keys_find(const struct tui_key_table *t,
                                            int key);

/* Runs what key does in the model's current mode. */
void tui_keys_press(struct tui_model *m, int key);

/*
 * The help of a mode's table as text, one line per binding or group of
 * neighbouring bindings with the same description: the key names in a
 * column of at least TUI_KEYS_NAME_W (as wide as the widest names), then
 * the description, each line ending in '\n'.
 * Writes at most size bytes (always terminated when size > 0) and returns
 * the length the whole text needs, as snprintf does.
 */
#define TUI_KEYS_NAME_W 12
size_t tui_keys_help(enum tui_mode mode, char *out, size_t size);

/* The key names of a mode's table joined by spaces ("q ? Esc"), with the
 * same return as tui_keys_help(). */
size_t tui_keys_names(enum tui_mode mode, char *out, size_t size);

#endif
