/* SPDX-License-Identifier: MIT */
/*
 * The log lines captured while the terminal UI owns the terminal (see
 * tui_log_capture_begin() in tui.h): a ring of the newest lines, any
 * thread may log into it.
 */
#ifndef NVR_UI_TUI_TUI_LOG_H
#define NVR_UI_TUI_TUI_LOG_H

#include <stddef.h>

/* The newest warning or error captured into out (size bytes), or "". */
void tui_log_last(char *out, size_t size);

#endif
