/* SPDX-License-Identifier: MIT */
/*
 * Log capture for the terminal UI (see tui.h and tui_log.h): while the UI
 * owns the terminal, log lines from every thread go into a ring under a
 * mutex; the UI shows the newest warning, and the end of the capture
 * prints the warnings and errors to stderr.
 */
#include "config.h"
#include "ui-tui/tui_log.h"

#include <pthread.h>
#include <stdio.h>

#include "nvr/base/log.h"
#include "ui-tui/tui.h"

#define TUI_LOG_LINES 32

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

void tui_log_last(char *out, size_t size)
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
