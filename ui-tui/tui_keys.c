/* SPDX-License-Identifier: MIT */
/*
 * The key tables (see tui_keys.h) and the help text made from them.
 */
#include "config.h"
#include "ui-tui/tui_keys.h"

#include <stdio.h>
#include <string.h>

#include <curses.h>

#define KEY_ESC    27
#define KEY_CTRL_L 12

#define N_OF(a)    (sizeof(a) / sizeof((a)[0]))

static const struct tui_key_binding normal_keys[] = {
    {' ', "Space", tui_actions_play, 0, "play / pause"},
    {KEY_LEFT, "Left", tui_actions_seek, -10, "back / forward 10 s"},
    {KEY_RIGHT, "Right", tui_actions_seek, 10, "back / forward 10 s"},
    {'<', "<", tui_actions_seek, -60, "back / forward 1 min"},
    {'>', ">", tui_actions_seek, 60, "back / forward 1 min"},
    {KEY_SLEFT, "S-Left", tui_actions_seek, -60, "back / forward 1 min"},
    {KEY_SRIGHT, "S-Right", tui_actions_seek, 60, "back / forward 1 min"},
    {KEY_PPAGE, "PgUp", tui_actions_seek, -3600, "back / forward 1 h"},
    {KEY_NPAGE, "PgDn", tui_actions_seek, 3600, "back / forward 1 h"},
    {'[', "[", tui_actions_day, -1, "previous / next day"},
    {']', "]", tui_actions_day, 1, "previous / next day"},
    {',', ",", tui_actions_frame, -1, "one frame back / forward (pauses)"},
    {'.', ".", tui_actions_frame, 1, "one frame back / forward (pauses)"},
    {'-', "-", tui_actions_speed, -1,
     "slower / faster: 1/4x 1/2x 1x 2x 4x 8x 16x"},
    {'+', "+", tui_actions_speed, 1,
     "slower / faster: 1/4x 1/2x 1x 2x 4x 8x 16x"},
    {'=', "=", tui_actions_speed, 1,
     "slower / faster: 1/4x 1/2x 1x 2x 4x 8x 16x"},
    {'g', "g", tui_actions_goto, 0,
     "go to a typed time: HH:MM[:SS] or YYYY-MM-DD HH:MM"},
    {'t', "t", tui_actions_goto, 0,
     "go to a typed time: HH:MM[:SS] or YYYY-MM-DD HH:MM"},
    {'n', "n", tui_actions_gap, 1, "jump to the next gap in the recording"},
    {'p', "p", tui_actions_gap, -1, "jump to the previous gap"},
    {'N', "N", tui_actions_gap, -1, "jump to the previous gap"},
    {'z', "z", tui_actions_zoom, 1,
     "zoom the timeline in / out (1 day .. 1 min)"},
    {'Z', "Z", tui_actions_zoom, -1,
     "zoom the timeline in / out (1 day .. 1 min)"},
    {KEY_UP, "Up", tui_actions_camera, -1, "select camera"},
    {KEY_DOWN, "Down", tui_actions_camera, 1, "select camera"},
    {'k', "k", tui_actions_camera, -1, "select camera"},
    {'j', "j", tui_actions_camera, 1, "select camera"},
    {'\t', "Tab", tui_actions_camera, 1, "select camera"},
    {'l', "l", tui_actions_live, 0,
     "live view of the selected camera (again: leave)"},
    {'m', "m", tui_actions_grid, 0,
     "2x2 grid of four cameras (live or in sync)"},
    {'i', "i", tui_actions_mark_in, 0, "set the in / out mark at the cursor"},
    {'o', "o", tui_actions_mark_out, 0, "set the in / out mark at the cursor"},
    {'c', "c", tui_actions_mark_clear, 0, "clear the marks"},
    {'e', "e", tui_actions_export, 0,
     "export the marked range (asks for a reason)"},
    {'x', "x", tui_actions_export_cancel, 0, "cancel the running export"},
    {KEY_ESC, "Esc", tui_actions_export_cancel, 0, "cancel the running export"},
    {'h', "h", tui_actions_hold, 0, "place a legal hold on the marked range"},
    {KEY_CTRL_L, "Ctrl-L", tui_actions_redraw, 0, "redraw the screen"},
    {'?', "?", tui_actions_help_open, 0, "this help"},
    {'q', "q", tui_actions_quit, 0, "quit (also Ctrl-C)"},
};

static const struct tui_key_binding help_keys[] = {
    {'q', "q", tui_actions_help_close, 0, "close this help"},
    {'?', "?", tui_actions_help_close, 0, "close this help"},
    {KEY_ESC, "Esc", tui_actions_help_close, 0, "close this help"},
    {'\n', "Enter", tui_actions_help_close, 0, "close this help"},
    {' ', "Space", tui_actions_help_close, 0, "close this help"},
};

static const struct tui_key_binding prompt_keys[] = {
    {'\n', "Enter", tui_actions_prompt_done, 0, "confirm"},
    {'\r', "Enter", tui_actions_prompt_done, 0, "confirm"},
    {KEY_ENTER, "Enter", tui_actions_prompt_done, 0, "confirm"},
    {KEY_ESC, "Esc", tui_actions_prompt_cancel, 0, "cancel"},
    {KEY_BACKSPACE, "Backspace", tui_actions_prompt_erase, 0,
     "erase the last character"},
    {127, "Backspace", tui_actions_prompt_erase, 0, "erase the last character"},
    {8, "Backspace", tui_actions_prompt_erase, 0, "erase the last character"},
};

static const struct tui_key_table tables[TUI_N_MODES] = {
    [TUI_MODE_NORMAL] = {"normal", normal_keys, N_OF(normal_keys), NULL, NULL},
    [TUI_MODE_HELP] = {"help", help_keys, N_OF(help_keys), NULL, NULL},
    [TUI_MODE_PROMPT] = {"prompt", prompt_keys, N_OF(prompt_keys),
                         tui_actions_prompt_type, "typed into the prompt"},
};

const struct tui_key_table *tui_keys_table(enum tui_mode mode)
{
    return &tables[mode];
}

const struct tui_key_binding *tui_keys_find(const struct tui_key_table *t,
                                            int key)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->bindings[i].key == key)
            return &t->bindings[i];
    return NULL;
}

void tui_keys_press(struct tui_model *m, int key)
{
    const struct tui_key_table *t = tui_keys_table(m->mode);
    const struct tui_key_binding *b = tui_keys_find(t, key);

    if (b)
        b->action(m, key, b->arg);
    else if (t->other)
        t->other(m, key, 0);
}

/* Appends like snprintf at *len, which counts what the whole text needs. */
static void append(char *out, size_t size, size_t *len, const char *s)
{
    size_t n = strlen(s);

    if (*len < size)
        snprintf(out + *len, size - *len, "%s", s);
    *len += n;
}

/* The names of bindings [from, to), each once, joined by spaces. */
static void names_of(const struct tui_key_binding *b, size_t from, size_t to,
                     char *out, size_t size)
{
    size_t len = 0;

    out[0] = '\0';
    for (size_t i = from; i < to; i++) {
        int seen = 0;

        for (size_t k = from; k < i; k++)
            seen |= strcmp(b[k].name, b[i].name) == 0;
        if (seen)
            continue;
        if (len > 0)
            append(out, size, &len, " ");
        append(out, size, &len, b[i].name);
    }
}

static void help_line(char *out, size_t size, size_t *len, int width,
                      const char *names, const char *help)
{
    char line[256];

    snprintf(line, sizeof(line), "%-*s %s\n", width, names, help);
    append(out, size, len, line);
}

/* The end of the group of neighbours sharing bindings[i]'s description. */
static size_t group_end(const struct tui_key_table *t, size_t i)
{
    size_t end = i + 1;

    while (end < t->n &&
           strcmp(t->bindings[end].help, t->bindings[i].help) == 0)
        end++;
    return end;
}

size_t tui_keys_help(enum tui_mode mode, char *out, size_t size)
{
    const struct tui_key_table *t = tui_keys_table(mode);
    char names[128];
    size_t len = 0;
    int width = TUI_KEYS_NAME_W - 1;

    if (size > 0)
        out[0] = '\0';
    /* One column for the keys, as wide as the widest group's names. */
    for (size_t i = 0; i < t->n; i = group_end(t, i)) {
        names_of(t->bindings, i, group_end(t, i), names, sizeof(names));
        if ((int)strlen(names) > width)
            width = (int)strlen(names);
    }
    for (size_t i = 0; i < t->n; i = group_end(t, i)) {
        names_of(t->bindings, i, group_end(t, i), names, sizeof(names));
        help_line(out, size, &len, width, names, t->bindings[i].help);
    }
    if (t->other)
        help_line(out, size, &len, width, "other keys", t->other_help);
    return len;
}

size_t tui_keys_names(enum tui_mode mode, char *out, size_t size)
{
    const struct tui_key_table *t = tui_keys_table(mode);
    char names[256];

    names_of(t->bindings, 0, t->n, names, sizeof(names));
    if (size > 0)
        snprintf(out, size, "%s", names);
    return strlen(names);
}
