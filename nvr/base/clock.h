/* SPDX-License-Identifier: MIT */
/*
 * The clock seam: wall and monotonic time in microseconds. Tests replace
 * these with --wrap, so every caller goes through here.
 */
#ifndef NVR_BASE_CLOCK_H
#define NVR_BASE_CLOCK_H

#include <stdint.h>

/* UTC microseconds since the Unix epoch (CLOCK_REALTIME). Any thread. */
int64_t nvr_clock_wall_us(void);

/* Microseconds from an arbitrary origin that never goes back
 * (CLOCK_MONOTONIC). Any thread. */
int64_t nvr_clock_mono_us(void);

#endif
