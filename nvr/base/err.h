/* SPDX-License-Identifier: MIT */
/*
 * Error codes. Every function returns 0 or a negative errno; libuv UV_E* and
 * FFmpeg AVERROR() values are negative errnos too, so they pass through.
 */
#ifndef NVR_BASE_ERR_H
#define NVR_BASE_ERR_H

/*
 * Returns a static description of `err` (a negative errno, or 0). Never NULL.
 * Thread-safe.
 */
const char *nvr_strerror(int err);

#endif
