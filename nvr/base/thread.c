/* SPDX-License-Identifier: MIT */
/*
 * The loop-thread mark (see thread.h): one thread-local flag.
 */
#include "config.h"
#include "nvr/base/thread.h"

#include <stdlib.h>

#include "nvr/base/log.h"

static _Thread_local int thread_is_loop;

void nvr_thread_set_loop(int is_loop)
{
    thread_is_loop = is_loop != 0;
}

int nvr_thread_is_loop(void)
{
    return thread_is_loop;
}

void nvr_thread_abort_on_loop(const char *fn)
{
    nvr_log(NVR_LOG_ERROR, "thread",
            "%s called on the event-loop thread, which must never block on "
            "disk or database work",
            fn);
    abort();
}
