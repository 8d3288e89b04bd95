/* SPDX-License-Identifier: MIT */
/*
 * Clock seam implementation; kept in its own object file so that tests can
 * reroute it with the linker's --wrap.
 */
#include "config.h"
#include "nvr/base/clock.h"

#include <time.h>

int64_t nvr_clock_wall_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t nvr_clock_mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
