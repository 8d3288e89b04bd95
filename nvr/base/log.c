/* SPDX-License-Identifier: MIT */
/*
 * The logger: formats a line, then hands it to the sink under a mutex so
 * lines from the loop and writer threads never interleave.
 */
#include "config.h"
#include "nvr/base/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "nvr/base/escape.h"

enum nvr_log_level nvr_log_level_current = NVR_LOG_INFO;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static nvr_log_sink_cb log_sink;
static void *log_sink_user;

static const char *const level_names[] = {"error", "warn", "info", "debug",
                                          "trace"};

void nvr_log_set_level(enum nvr_log_level level)
{
    nvr_log_level_current = level;
}

int nvr_log_level_parse(const char *s, enum nvr_log_level *out)
{
    for (size_t i = 0; i < NVR_ARRAY_SIZE(level_names); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum nvr_log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

void nvr_log_set_sink(nvr_log_sink_cb sink, void *user)
{
    log_sink = sink;
    log_sink_user = user;
}

static void default_sink(enum nvr_log_level level, const char *module,
                         const char *line)
{
    struct timespec ts;
    struct tm tm;
    char when[32];

    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ld %-5s %s: %s\n", when, ts.tv_nsec / 1000000,
            level_names[level], module, line);
}

void nvr_logv(enum nvr_log_level level, const char *module, const char *fmt,
              va_list ap)
{
    char raw[1024], line[NVR_ESCAPE_SIZE(sizeof(raw))];

    if (level > nvr_log_level_current)
        return;
    vsnprintf(raw, sizeof(raw), fmt, ap);
    /* One line per call, safe on a terminal: a newline inside the text
     * would let outside bytes forge log lines, and ESC, DEL or a C1 control
     * would act on the terminal that shows the log, so they are escaped. */
    nvr_escape_text(raw, line, sizeof(line));
    pthread_mutex_lock(&log_lock);
    if (log_sink)
        log_sink(log_sink_user, level, module, line);
    else
        default_sink(level, module, line);
    pthread_mutex_unlock(&log_lock);
}

void nvr_log(enum nvr_log_level level, const char *module, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    nvr_logv(level, module, fmt, ap);
    va_end(ap);
}
