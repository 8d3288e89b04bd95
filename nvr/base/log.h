/* SPDX-License-Identifier: MIT */
/*
 * Logging. Library folders call nvr_log()/LOG_*; only nvr/ chooses the sink.
 * The macros test the level before evaluating their arguments.
 */
#ifndef NVR_BASE_LOG_H
#define NVR_BASE_LOG_H

#include <stdarg.h>

#include "nvr/base/compiler.h"

enum nvr_log_level {
    NVR_LOG_ERROR = 0,
    NVR_LOG_WARN = 1,
    NVR_LOG_INFO = 2,
    NVR_LOG_DEBUG = 3,
    NVR_LOG_TRACE = 4,
};

/* A sink receives one formatted line without a trailing newline, already
 * made safe for a terminal by nvr_escape_text() (nvr/base/escape.h). It may be
 * called from any thread; calls are serialised by the logger. */
typedef void (*nvr_log_sink_cb)(void *user, enum nvr_log_level level,
                                const char *module, const char *line);

/* The current level; lines above it are not formatted. */
extern enum nvr_log_level nvr_log_level_current;

void nvr_log_set_level(enum nvr_log_level level);

/* Parses "error", "warn", "info", "debug", "trace". Returns 0 or -EINVAL. */
int nvr_log_level_parse(const char *s, enum nvr_log_level *out);

/* Replaces the sink (NULL restores the default stderr sink). Not thread-safe
 * against concurrent nvr_log() calls: set it before starting threads. */
void nvr_log_set_sink(nvr_log_sink_cb sink, void *user);

void nvr_log(enum nvr_log_level level, const char *module, const char *fmt, ...)
    NVR_PRINTF(3, 4);
void nvr_logv(enum nvr_log_level level, const char *module, const char *fmt,
              va_list ap) NVR_PRINTF(3, 0);

#define NVR_LOG_AT(lvl, mod, ...)               \
    do {                                        \
        if ((lvl) <= nvr_log_level_current)     \
            nvr_log((lvl), (mod), __VA_ARGS__); \
    } while (0)

#define LOG_E(mod, ...) NVR_LOG_AT(NVR_LOG_ERROR, mod, __VA_ARGS__)
#define LOG_W(mod, ...) NVR_LOG_AT(NVR_LOG_WARN, mod, __VA_ARGS__)
#define LOG_I(mod, ...) NVR_LOG_AT(NVR_LOG_INFO, mod, __VA_ARGS__)
#define LOG_D(mod, ...) NVR_LOG_AT(NVR_LOG_DEBUG, mod, __VA_ARGS__)
#define LOG_T(mod, ...) NVR_LOG_AT(NVR_LOG_TRACE, mod, __VA_ARGS__)

#endif
